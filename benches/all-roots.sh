#!/usr/bin/env bash
# Throughput of `rustomize build --all` against one `rustomize build` process
# per root, on a tree with many roots (default: kubeflow-v1.10.2 of the corpora).
#
# usage: benches/all-roots.sh [RUNS] [TREE]
#   RUNS (default 5, env RUNS too): timed runs of each way after one warm-up.
#   Rows: the roots `build --all` finds, then every kustomization directory
#   (--include-bases). Each way is timed: `build --all` (threads: one per
#   core), one process per root in sequence, and one process per root with as
#   many at once as there are cores (xargs -P), each writing over the outputs
#   of its previous run (a rerun: unchanged outputs are compared, not
#   replaced); `build --all` and the sequence are also timed into a new, empty
#   directory each run (a fresh checkout's CI job). The warm-up also checks
#   that every root's output is byte-identical to its one-root build, and that
#   the same roots fail.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUNS=${RUNS:-5}
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
    RUNS=$1
    shift
fi
# The corpora: $RUSTOMIZE_CORPORA, or ../shared/corpora beside the workspace
# (or beside the directory holding worktrees), as the tests find them.
CORPORA=${RUSTOMIZE_CORPORA:-}
for c in ../shared/corpora ../../shared/corpora; do
    if [[ -z $CORPORA && -d $c ]]; then
        CORPORA=$c
    fi
done
TREE=${1:-${CORPORA:-../shared/corpora}/kubeflow-v1.10.2}
if [[ ! -d $TREE ]]; then
    echo "skipped: $TREE not found"
    exit 0
fi

echo "==> cargo build --release" >&2
cargo build --release -p rustomize-cli >&2

python3 - "$RUNS" "$TREE" "$PWD/target/release/rustomize" <<'PY'
import os, shutil, statistics, subprocess, sys, tempfile, time

runs, tree, exe = max(1, int(sys.argv[1])), sys.argv[2], sys.argv[3]
cores = os.cpu_count() or 1


def timed(cmd):
    """Runs cmd; returns (wall s, CPU s of it and its children, peak RSS MiB
    of its largest process)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, ru = os.wait4(p.pid, 0)
    return time.perf_counter() - t0, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def roots(extra):
    out = subprocess.run([exe, "build", "--all", tree, "--list"] + extra,
                         check=True, capture_output=True, text=True).stdout
    return out.split()


def output_name(rel):
    return "__root__.yaml" if rel == "." else rel + ".yaml"


def per_root_script(rels, outdir, parallel):
    """A shell command building each root with its own process."""
    lines = "\n".join(rels)
    build = f'd="$1"; mkdir -p "{outdir}/$(dirname "$d")"; ' \
            f'"{exe}" build "{tree}/$d" -o "{outdir}/$d.yaml" 2>/dev/null || true'
    return ["bash", "-c",
            f'printf "%s\\n" "$0" | xargs -P {parallel} -I{{}} bash -c \'{build}\' _ {{}}', lines]


tmp = tempfile.mkdtemp(prefix="rustomize-allroots-")
rows = []
try:
    for label, extra in [("roots", []), ("every kustomization", ["--include-bases"])]:
        rels = [r for r in roots(extra) if r != "."]
        a_out, b_out = os.path.join(tmp, "all"), os.path.join(tmp, "one")
        all_cmd = [exe, "build", "--all", tree, "-o", a_out, "--keep-going"] + extra
        # Warm-up and byte-identity check.
        for d in (a_out, b_out):
            shutil.rmtree(d, ignore_errors=True)
        subprocess.run(all_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(per_root_script(rels, b_out, 1), check=True)
        same = differ = 0
        for rel in rels:
            a, b = os.path.join(a_out, rel + ".yaml"), os.path.join(b_out, rel + ".yaml")
            ea, eb = os.path.exists(a), os.path.exists(b)
            if ea != eb or (ea and open(a, "rb").read() != open(b, "rb").read()):
                differ += 1
                print(f"  DIFFERS: {rel}", file=sys.stderr)
            else:
                same += 1
        built = sum(os.path.exists(os.path.join(a_out, r + ".yaml")) for r in rels)
        res = {}
        fresh = iter(range(1 << 30))

        def fresh_dir():
            # A new directory per run, removed only after all runs: deleting
            # outputs makes the file system free (and trim) their blocks in
            # the background, which would fall on the next timed run.
            return os.path.join(tmp, f"fresh-{next(fresh)}")

        ways = [("all", lambda: all_cmd),
                ("all fresh", lambda: [exe, "build", "--all", tree, "-o", fresh_dir(),
                                       "--keep-going"] + extra),
                ("seq", lambda: per_root_script(rels, b_out, 1)),
                ("seq fresh", lambda: per_root_script(rels, fresh_dir(), 1)),
                ("par", lambda: per_root_script(rels, b_out, cores))]
        for way, make in ways:
            walls, cpus, rss = [], [], []
            for _ in range(runs):
                w, c, m = timed(make())
                walls.append(w)
                cpus.append(c)
                rss.append(m)
            res[way] = (statistics.median(walls), statistics.median(rss), statistics.median(cpus))
        rows.append((label, len(rels), built, same, differ, res))
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print(f"\n{tree}: {runs} timed run(s) each after one warm-up, medians; {cores} cores")
print("all = build --all; seq = one process per root in sequence; "
      f"par = one process per root, {cores} at once (xargs -P); each over its previous "
      "outputs (a rerun); fresh = into a new, empty directory\n")
print("wall s = median wall time; cpu s = median user+sys time of all processes; "
      "x = throughput of build --all over that way (wall, and cpu)\n")
print(f"{'roots':<20}{'n':>4}{'built':>6}{'same':>5}{'all wall':>9}{'cpu':>6}{'MiB':>5}"
      f"{'seq wall':>9}{'cpu':>6}{'par wall':>9}{'x seq':>6}{'x par':>6}{'x cpu':>6}"
      f"{'fresh all':>10}{'seq':>7}{'x seq':>6}")
for label, n, built, same, differ, res in rows:
    a, s, p = res["all"][0], res["seq"][0], res["par"][0]
    ac, sc = res["all"][2], res["seq"][2]
    fa, fs = res["all fresh"][0], res["seq fresh"][0]
    print(f"{label:<20}{n:>4}{built:>6}{same:>5}{a:>9.3f}{ac:>6.2f}{res['all'][1]:>5.0f}"
          f"{s:>9.3f}{sc:>6.2f}{p:>9.3f}{s / a:>6.1f}{p / a:>6.1f}{sc / ac:>6.1f}"
          f"{fa:>10.3f}{fs:>7.3f}{fs / fa:>6.1f}")
    if differ:
        print(f"  {differ} root(s) differ from their one-root build")
PY
