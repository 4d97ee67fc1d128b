#!/usr/bin/env bash
# Record the expected output of every fixture case with `kubectl kustomize`.
#
# Usage: scripts/record-fixtures.sh [CASE...]
#
# For each case directory fixtures/<case>/ (all of them, or only those named
# as arguments — a bare name or a path both work):
#   * the build target is fixtures/<case>/input, or input/<contents of RUN>;
#   * extra flags are read from fixtures/<case>/args (one line); the token
#     $HELM in them stands for the helm binary ($HELM, else `helm` on PATH),
#     which Helm cases (fixtures/helm-*) need;
#   * success: stdout -> expected.yaml, non-empty stderr -> expected.stderr,
#     and any old expected.err is removed;
#   * failure: stderr -> expected.err, and expected.yaml / expected.stderr
#     are removed.
# The case's absolute directory is replaced by $CASE in expected.err and
# expected.stderr, so recordings do not depend on where the repository lives.
# Running it twice gives the same files. One line is printed per case.
# The recordings are checked by crates/rustomize-cli/tests/fixtures.rs, one
# test per case: cargo test -p rustomize-cli --test fixtures -- <case>
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

KUBECTL="${KUBECTL:-kubectl}"
HELM_BIN="${HELM:-$(command -v helm || true)}"

cases=()
if [ "$#" -gt 0 ]; then
  for arg in "$@"; do
    name="${arg%/}"
    name="${name##*/}"
    if [ ! -d "fixtures/$name" ]; then
      echo "no such case: $arg" >&2
      exit 2
    fi
    cases+=("$name")
  done
else
  for dir in fixtures/*/; do
    [ -d "${dir}input" ] || continue
    name="${dir%/}"
    cases+=("${name##*/}")
  done
fi

# Replace the case's absolute path (also through a resolved symlink) by $CASE.
normalise() {
  local file="$1" case_abs="$2" case_real="$3"
  local tmp="$file.tmp.$$"
  CASE_ABS="$case_abs" CASE_REAL="$case_real" perl -pe '
    BEGIN { $a = $ENV{CASE_ABS}; $r = $ENV{CASE_REAL}; }
    s/\Q$a\E/\$CASE/g;
    s/\Q$r\E/\$CASE/g if $r ne $a;
    # klog header "E1122 00:35:39.532453    8096 run.go:72]": mask time and pid
    s/^([EWIF])\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ /$1MMDD hh:mm:ss.uuuuuu PID /;
  ' "$file" >"$tmp"
  mv "$tmp" "$file"
}

fail_count=0
for name in "${cases[@]}"; do
  case_dir="fixtures/$name"
  case_abs="$repo_root/$case_dir"
  case_real="$(cd "$case_dir" && pwd -P)"
  target="$case_dir/input"
  if [ -f "$case_dir/RUN" ]; then
    run="$(head -n1 "$case_dir/RUN" | tr -d '\r')"
    run="${run%"${run##*[![:space:]]}"}"
    [ -n "$run" ] && target="$target/$run"
  fi
  args=()
  if [ -f "$case_dir/args" ]; then
    read -r -a args <"$case_dir/args" || true
  fi
  for i in "${!args[@]}"; do
    if [[ "${args[$i]}" == *'$HELM'* ]]; then
      if [ -z "$HELM_BIN" ]; then
        echo "$name: needs helm (set HELM or put helm on PATH)" >&2
        exit 2
      fi
      args[$i]="${args[$i]//\$HELM/$HELM_BIN}"
    fi
  done

  out="$(mktemp)"
  err="$(mktemp)"
  set +e
  "$KUBECTL" kustomize "${args[@]}" "$target" >"$out" 2>"$err"
  rc=$?
  set -e

  if [ "$rc" -eq 0 ]; then
    mv "$out" "$case_dir/expected.yaml"
    chmod 644 "$case_dir/expected.yaml"
    rm -f "$case_dir/expected.err"
    if [ -s "$err" ]; then
      mv "$err" "$case_dir/expected.stderr"
      chmod 644 "$case_dir/expected.stderr"
      normalise "$case_dir/expected.stderr" "$case_abs" "$case_real"
      printf '%-45s ok (%d lines, with stderr)\n' "$name" "$(wc -l <"$case_dir/expected.yaml")"
    else
      rm -f "$err" "$case_dir/expected.stderr"
      printf '%-45s ok (%d lines)\n' "$name" "$(wc -l <"$case_dir/expected.yaml")"
    fi
  else
    mv "$err" "$case_dir/expected.err"
    chmod 644 "$case_dir/expected.err"
    rm -f "$out" "$case_dir/expected.yaml" "$case_dir/expected.stderr"
    normalise "$case_dir/expected.err" "$case_abs" "$case_real"
    fail_count=$((fail_count + 1))
    # Show the error message itself, without klog's header.
    msg="$(sed -e 's/^[EWIF]MMDD hh:mm:ss\.uuuuuu PID [^]]*\] "command failed" err=//' \
      -e '/^<$/d' -e 's/^[[:space:]]*//' "$case_dir/expected.err" | grep -v '^$' | head -n1 | cut -c1-90)"
    printf '%-45s error (exit %d): %s\n' "$name" "$rc" "$msg"
  fi
done

echo "recorded ${#cases[@]} case(s), $fail_count failing build(s)"
