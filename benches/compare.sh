#!/usr/bin/env bash
# Side-by-side benchmark: `kubectl kustomize DIR` vs `target/release/rustomize build DIR`
# on the Kubeflow example dirs. Wall time and peak RSS per run come from a tiny
# Python harness (os.wait4 rusage of each child), so nothing beyond Python 3 is needed.
#
# usage: benches/compare.sh [RUNS] [DIR ...]
#   RUNS defaults to 5 (env RUNS works too); DIRs default to the two Kubeflow
#   example dirs under ../shared/corpora. CANDIDATE="cmd args" replaces
#   "target/release/rustomize build" (e.g. to compare two builds). One untimed warm-up run per tool and dir
#   also checks that both outputs are byte-identical (reported, never fatal); then
#   the tools take turns, one run each, RUNS times.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUNS=${RUNS:-5}
CANDIDATE=${CANDIDATE:-$PWD/target/release/rustomize build}
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
    RUNS=$1
    shift
fi
if [[ $# -gt 0 ]]; then
    DIRS=("$@")
else
    DIRS=(../shared/corpora/kubeflow-v1.4.1/example ../shared/corpora/kubeflow-v1.10.2/example)
fi

present=()
for d in "${DIRS[@]}"; do
    if [[ -d $d ]]; then
        present+=("$d")
    else
        echo "warning: $d not found, skipped" >&2
    fi
done
if [[ ${#present[@]} -eq 0 ]]; then
    echo "skipped: no benchmark dirs found"
    exit 0
fi

echo "==> cargo build --release" >&2
cargo build --release >&2

CANDIDATE=$CANDIDATE python3 - "$RUNS" "${present[@]}" <<'PY'
import filecmp, os, shlex, shutil, statistics, subprocess, sys, tempfile, time

runs = max(1, int(sys.argv[1]))
dirs = sys.argv[2:]
tools = []
if shutil.which("kubectl"):
    tools.append(("kubectl", ["kubectl", "kustomize"]))
else:
    print("note: kubectl not on PATH, timing rustomize only", file=sys.stderr)
tools.append(("rustomize", shlex.split(os.environ["CANDIDATE"])))


def run_once(cmd, d, out_path):
    """Run cmd d, stdout to out_path. Returns (rc, wall_s, maxrss_kib, stderr)."""
    with open(out_path, "wb") as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd + [d], stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        return p.returncode, wall, ru.ru_maxrss, err.read().decode("utf-8", "replace")


def first_err(s):
    lines = [l for l in s.splitlines() if l.strip() and not l.startswith("# Warning:")]
    return lines[0][:160] if lines else ""


tmp = tempfile.mkdtemp(prefix="rustomize-bench-")
rows = []
try:
    for d in dirs:
        name = os.path.relpath(os.path.abspath(d), os.path.abspath("../shared/corpora")) \
            if "shared/corpora" in os.path.abspath(d) else d
        res, outs = {}, {}
        for tool, cmd in tools:
            out = os.path.join(tmp, tool + ".out")
            rc, _, _, err = run_once(cmd, d, out)  # warm-up; output kept for the check
            # Kept as a file, never read into this process: a child started by
            # vfork+exec inherits the harness's peak RSS as its own ru_maxrss
            # floor, and two 10 MB outputs held here read as 44 MiB for rustomize.
            kept = os.path.join(tmp, f"{tool}.{len(rows)}.kept")
            outs[tool] = kept if rc == 0 else None
            if rc == 0:
                os.replace(out, kept)
                res[tool] = ("OK", [], [])
            else:
                res[tool] = ("FAIL", rc, first_err(err))
        # The tools take turns run by run, so that the host's drift over the
        # seconds a dir takes falls on both alike.
        for _ in range(runs):
            for tool, cmd in tools:
                if res[tool][0] != "OK":
                    continue
                rc, w, m, err = run_once(cmd, d, os.path.join(tmp, tool + ".out"))
                if rc != 0:
                    res[tool] = ("FAIL", rc, first_err(err))
                    continue
                res[tool][1].append(w * 1000)
                res[tool][2].append(m / 1024)
        if outs.get("kubectl") is not None and outs.get("rustomize") is not None:
            outs = {"same": filecmp.cmp(outs["kubectl"], outs["rustomize"], shallow=False),
                    "sizes": (os.path.getsize(outs["kubectl"]), os.path.getsize(outs["rustomize"]))}
        else:
            outs = {}
        rows.append((name, res, outs))
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print(f"\n{runs} timed run(s) per tool and dir after one warm-up; wall = median ms, RSS = median peak MiB")
print("speed-up = kubectl wall / rustomize wall; same = outputs byte-identical\n")
W = max([26] + [len(n) for n, _, _ in rows])
cols = [("dir", W)]
for tool, _ in tools:
    cols += [(f"{tool} ms", 13), (f"{tool} MiB", 13)]
cols += [("speed-up", 9), ("same", 5)]
print("  ".join(f"{c:<{w}}" if k == 0 else f"{c:>{w}}" for k, (c, w) in enumerate(cols)))
print("  ".join("-" * w for _, w in cols))
errors = []
for name, res, outs in rows:
    cells = [f"{name:<{W}}"]
    for tool, _ in tools:
        r = res[tool]
        if r[0] == "OK":
            ms = statistics.median(r[1])
            cells += [f"{ms:>13.{0 if ms >= 100 else 1}f}", f"{statistics.median(r[2]):>13.1f}"]
        else:
            cells += [f"{'FAIL(' + str(r[1]) + ')':>13}", f"{'-':>13}"]
            errors.append(f"{name} {tool}: {r[2]}")
    k, c = res.get("kubectl"), res.get("rustomize")
    if k and c and k[0] == "OK" and c[0] == "OK":
        cells.append(f"{'x%.1f' % (statistics.median(k[1]) / statistics.median(c[1])):>9}")
    else:
        cells.append(f"{'-':>9}")
    if "same" in outs:
        cells.append(f"{'yes' if outs['same'] else 'NO':>5}")
        if not outs["same"]:
            errors.append(f"{name}: outputs differ ({outs['sizes'][0]} vs "
                          f"{outs['sizes'][1]} bytes); see scripts/conformance.py --diff")
    else:
        cells.append(f"{'-':>5}")
    print("  ".join(cells))
for e in errors:
    print("  " + e)
PY
