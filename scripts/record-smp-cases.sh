#!/usr/bin/env bash
# Records the oracle output for the strategic-merge-patch test cases.
#
# For every crates/rustomize/tests/smp-cases/<name>/ holding resource.yaml and
# patch.yaml, this builds a throw-away kustomization
#   resources: [resource.yaml]
#   patches: [{path: patch.yaml}]
# runs `kubectl kustomize` on it and stores what it prints as expected.yaml. If
# kustomize fails, the error goes to expected-error.txt instead. Expected output is
# only ever produced here, never written by hand.
#
# Usage: scripts/record-smp-cases.sh [NAME-GLOB]   (default: every case)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cases="$root/crates/rustomize/tests/smp-cases"
filter="${1:-*}"
kubectl="${KUBECTL:-kubectl}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for dir in "$cases"/*/; do
  name="$(basename "$dir")"
  # shellcheck disable=SC2053 # glob match on purpose
  [[ "$name" == $filter ]] || continue
  rm -rf "${work:?}/case" && mkdir "$work/case"
  cp "$dir/resource.yaml" "$dir/patch.yaml" "$work/case/"
  printf 'resources:\n- resource.yaml\npatches:\n- path: patch.yaml\n' >"$work/case/kustomization.yaml"
  rm -f "$dir/expected.yaml" "$dir/expected-error.txt"
  if "$kubectl" kustomize "$work/case" >"$work/out" 2>"$work/err"; then
    mv "$work/out" "$dir/expected.yaml"
    echo "recorded $name"
  else
    mv "$work/err" "$dir/expected-error.txt"
    echo "recorded $name (error)"
  fi
done
