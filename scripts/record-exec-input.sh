#!/usr/bin/env bash
# Records the ResourceList that kustomize writes on a KRM function's standard
# input, for crates/rustomize/tests/exec_plugins.rs.
#
# kubectl kustomize has no --enable-exec, so it cannot run exec functions; it does
# run container functions with --enable-alpha-plugins, through the same kyaml
# function filter (same ResourceList, same output handling). A stand-in `docker`
# first on PATH records its standard input and echoes it back. The config and
# resources are crates/rustomize/tests/exec-input/{config,resources}.yaml; the
# recordings, generator-stdin.yaml and transformer-stdin.yaml, are only ever
# produced here, never written by hand.
#
# Usage: scripts/record-exec-input.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="$root/crates/rustomize/tests/exec-input"
kubectl="${KUBECTL:-kubectl}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/bin" "$work/k"
cat >"$work/bin/docker" <<'SH'
#!/bin/sh
tee "$RECORD_TO"
SH
chmod +x "$work/bin/docker"
cp "$data/config.yaml" "$work/k/config.yaml"
cp "$data/resources.yaml" "$work/k/resources.yaml"

record() { # $1: kustomization field, $2: output file
  printf 'resources:\n- resources.yaml\n%s:\n- config.yaml\n' "$1" >"$work/k/kustomization.yaml"
  PATH="$work/bin:$PATH" RECORD_TO="$work/stdin" \
    "$kubectl" kustomize --enable-alpha-plugins "$work/k" >/dev/null
  cp "$work/stdin" "$data/$2"
  echo "recorded $2"
}
record generators generator-stdin.yaml
record transformers transformer-stdin.yaml
