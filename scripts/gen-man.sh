#!/bin/sh
# Writes the man page of the rustomize command to docs/rustomize.1, generated
# from the clap definition (the hidden `rustomize man` subcommand, clap_mangen).
# Usage: scripts/gen-man.sh [OUTFILE]
set -eu
cd "$(dirname "$0")/.."
out="${1:-docs/rustomize.1}"
cargo run --quiet -p rustomize-cli -- man > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out"
