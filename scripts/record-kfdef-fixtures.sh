#!/usr/bin/env bash
# Records the expected outputs of fixtures/kfdef/<case>/: for each application
# the KfDef lists, `rustomize kfdef --emit` writes kfctl's kustomization
# directory, and `kubectl kustomize` of that directory (kustomize v5.5.0) is the
# expected render (expected/<app>.yaml). The emitted kustomization.yaml is
# recorded too (expected/<app>.kustomization.yaml), to review the merge itself.
# Never edit expected files by hand: rerun this script.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p rustomize-cli
bin=target/debug/rustomize
for case in fixtures/kfdef/*/; do
  case=${case%/}
  scratch=$(mktemp -d)
  "$bin" kfdef "$case/kfdef.yaml" --emit "$scratch" 2>/dev/null
  rm -rf "$case/expected"
  mkdir -p "$case/expected"
  for dir in "$scratch"/kustomize/*/; do
    app=$(basename "$dir")
    kubectl kustomize "$dir" > "$case/expected/$app.yaml" 2>/dev/null
    cp "$dir/kustomization.yaml" "$case/expected/$app.kustomization.yaml"
  done
  rm -rf "$scratch"
  echo "recorded $case: $(ls "$case/expected" | wc -l) files"
done
