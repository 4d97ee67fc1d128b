#!/usr/bin/env bash
# Runs the cargo-fuzz targets in fuzz/, one after another, each for SECONDS
# (default 600), and prints a summary. Exits 1 if any target crashed, timed out
# or ran out of memory; the input that did it is in fuzz/artifacts/<target>/.
#
#   scripts/fuzz.sh [-j N] [SECONDS] [TARGET...]
#
# -j N runs N targets at a time. Works on a stable toolchain: `-s none` builds
# without a sanitizer (sanitizers need nightly); libFuzzer's coverage
# instrumentation needs only stable flags. See fuzz/README.md.
set -u
cd "$(dirname "$0")/../fuzz"

jobs=1
if [ "${1:-}" = "-j" ]; then
    jobs=${2:?-j needs a number}
    shift 2
fi
seconds=${1:-600}
[ $# -gt 0 ] && shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(yaml_read yaml_roundtrip kustomization strategic_merge json6902 field_path build_tree)
fi

# Per-target input size bound: big enough for a small tree or manifest.
max_len() {
    case $1 in
        build_tree) echo 4096 ;;
        *) echo 16384 ;;
    esac
}

echo "building the fuzz targets..."
cargo fuzz build -s none >build.log 2>&1 || { tail -20 build.log; exit 2; }

mkdir -p logs
run_one() {
    local t=$1
    # Grown corpus in corpus/<t>/ (ignored by git) on top of the committed seeds
    # already there; crashes in artifacts/<t>/.
    mkdir -p "corpus/$t" "artifacts/$t"
    cargo fuzz run -s none "$t" "corpus/$t" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
        -max_len="$(max_len "$t")" -print_final_stats=1 \
        -artifact_prefix="artifacts/$t/" >"logs/$t.log" 2>&1
    echo $? >"logs/$t.status"
}

running=0
for t in "${targets[@]}"; do
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait

failed=0
printf '%-16s %-8s %10s %8s  %s\n' target result execs cov crash
for t in "${targets[@]}"; do
    status=$(cat "logs/$t.status" 2>/dev/null || echo '?')
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "logs/$t.log" | grep -o '[0-9]*$' | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "logs/$t.log" | tail -1 | grep -o '[0-9]*')
    crash=$(grep -o 'Test unit written to [^ ]*' "logs/$t.log" | head -1 | sed 's/Test unit written to //')
    if [ "$status" = 0 ]; then result=ok; else result=FAILED; failed=1; fi
    printf '%-16s %-8s %10s %8s  %s\n' "$t" "$result" "${execs:-?}" "${cov:-?}" "${crash:-}"
done
[ "$failed" = 0 ] || echo "logs: fuzz/logs/<target>.log; minimise with: cargo fuzz tmin -s none <target> <crash>"
exit "$failed"
