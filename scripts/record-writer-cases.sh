#!/usr/bin/env bash
# Records the oracle output for the writer's test cases.
#
# For every crates/rustomize-yaml/tests/writer-cases/<name>/input.json this builds a
# throw-away kustomization (`resources: [input.json]`), runs `kubectl kustomize` on it
# and stores what it prints as expected.yaml next to the input. Expected output is
# only ever produced here, never written by hand.
#
# kustomize's output is not always deterministic: go-yaml v2's key comparison is not
# transitive for some key sets (e.g. "1a", "2a", "10a"), and Go map iteration is
# random, so such maps come out in varying orders. Each case is therefore rendered
# several times and refused if the runs disagree.
#
# Usage: scripts/record-writer-cases.sh [NAME-GLOB]   (default: every case)
# RUSTOMIZE_WRITER_CASES=DIR records another case directory with the same layout.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cases="${RUSTOMIZE_WRITER_CASES:-$root/crates/rustomize-yaml/tests/writer-cases}"
filter="${1:-*}"
kubectl="${KUBECTL:-kubectl}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

failed=0
for dir in "$cases"/*/; do
  name="$(basename "$dir")"
  # shellcheck disable=SC2053 # glob match on purpose
  [[ "$name" == $filter ]] || continue
  rm -rf "$work/k"
  mkdir "$work/k"
  cp "$dir/input.json" "$work/k/input.json"
  printf 'resources:\n- input.json\n' >"$work/k/kustomization.yaml"
  if "$kubectl" kustomize "$work/k" >"$work/out" 2>"$work/err"; then
    stable=1
    for _ in 1 2 3 4 5 6 7 8; do
      "$kubectl" kustomize "$work/k" >"$work/again"
      cmp -s "$work/out" "$work/again" || stable=0
    done
    if [[ "$stable" == 1 ]]; then
      mv "$work/out" "$dir/expected.yaml"
      echo "recorded $name"
    else
      echo "FAILED $name: kubectl kustomize output is not deterministic" >&2
      failed=1
    fi
  else
    echo "FAILED $name:" >&2
    cat "$work/err" >&2
    failed=1
  fi
done
exit "$failed"
