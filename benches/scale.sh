#!/usr/bin/env bash
# Scaling benchmark: the synthetic overlay-heavy tree of benches/synth.rs at
# N = 1k, 10k, 100k resources, `target/release/rustomize build` side by side
# with `kubectl kustomize` where kustomize finishes.
#
# usage: benches/scale.sh [RUNS]
#   RUNS (default 5, env RUNS too): timed rounds after one untimed warm-up
#   round (which also checks that both outputs are byte-identical); a round
#   runs every size with every tool once, so that the host's drift over the
#   minutes a run takes falls on all sizes alike.
#   SIZES="1000 10000 100000" picks the sizes; KUBECTL_MAX=1000 the largest N
#   kubectl is run on (kustomize is superlinear here: 4k did not finish in
#   300 s), KUBECTL_TIMEOUT=300 its time limit per run in seconds.
# Trees are written to target/scale/N. Wall = median wall time, CPU = median
# user+sys time (what one core spends), RSS = median peak resident memory.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUNS=${RUNS:-5}
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
    RUNS=$1
fi
SIZES=${SIZES:-1000 10000 100000}
KUBECTL_MAX=${KUBECTL_MAX:-1000}
KUBECTL_TIMEOUT=${KUBECTL_TIMEOUT:-300}

echo "==> cargo build --release" >&2
cargo build --release -p rustomize-cli --bins -p rustomize --example synth-tree >&2

for n in $SIZES; do
    rm -rf "target/scale/$n"
    target/release/examples/synth-tree "$n" "target/scale/$n" >/dev/null
done
# The trees just written (and the ones removed) go to the disk before timing
# starts, not during the first runs.
sync

python3 - "$RUNS" "$KUBECTL_MAX" "$KUBECTL_TIMEOUT" $SIZES <<'PY'
import os, shutil, statistics, subprocess, sys, tempfile, time

runs, kmax, ktimeout = max(1, int(sys.argv[1])), int(sys.argv[2]), float(sys.argv[3])
sizes = [int(s) for s in sys.argv[4:]]
rz = [os.path.abspath("target/release/rustomize"), "build"]
kc = ["kubectl", "kustomize"] if shutil.which("kubectl") else None


def run_once(cmd, out_path, timeout=None):
    """One run; returns (status, wall s, cpu s, peak RSS MiB)."""
    with open(out_path, "wb") as out:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL,
                             stdin=subprocess.DEVNULL)
        try:
            _, status, ru = wait4_timeout(p, timeout)
        except TimeoutError:
            return "timeout", 0.0, 0.0, 0.0
        wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        return "FAIL", 0.0, 0.0, 0.0
    return "OK", wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def wait4_timeout(p, timeout):
    """os.wait4 with a timeout (polling); kills the child when it passes.
    Without a timeout it blocks: polling every 5 ms would round a build of a
    few milliseconds up to the next poll."""
    if timeout is None:
        pid, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        return pid, status, ru
    deadline = time.monotonic() + timeout
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            p.returncode = os.waitstatus_to_exitcode(status)
            return pid, status, ru
        if deadline is not None and time.monotonic() > deadline:
            p.kill()
            os.wait4(p.pid, 0)
            p.returncode = -9
            raise TimeoutError
        time.sleep(0.005)


tmp = tempfile.mkdtemp(prefix="rustomize-scale-")
# Runs go round by round over every (size, tool) pair, not all runs of one
# pair after another: the host's speed drifts over minutes, and a drift
# between the 10k and the 100k runs would show up in t(100k)/t(10k).
# Round 0 is the untimed warm-up; its outputs are compared.
# In a round, rustomize runs every size first and kubectl last: a build
# right after kubectl's (seconds of CPU, hundreds of MiB freed) runs slower,
# and that should fall on a speed-up against kubectl, not between the sizes.
jobs = []  # (n, tool, cmd, timeout)
for n in sizes:
    jobs.append((n, "rz", rz + [os.path.abspath(f"target/scale/{n}")], None))
for n in sizes:
    if kc and n <= kmax:
        jobs.append((n, "kc", kc + [os.path.abspath(f"target/scale/{n}")], ktimeout))
results = {(n, tool): ["OK", [], [], []] for n, tool, _, _ in jobs}
same = {}
try:
    for round_ in range(runs + 1):
        for n, tool, cmd, timeout in jobs:
            res = results[(n, tool)]
            if res[0] != "OK":
                continue
            out = os.path.join(tmp, f"{tool}.{n}.out")
            status, wall, cpu, rss = run_once(cmd, out, timeout)
            if status != "OK":
                res[0] = status
                continue
            if round_ > 0:
                res[1].append(wall)
                res[2].append(cpu)
                res[3].append(rss)
        if round_ == 0:
            for n in sizes:
                if results.get((n, "kc"), ["-"])[0] == "OK" and results[(n, "rz")][0] == "OK":
                    rz_out = os.path.join(tmp, f"rz.{n}.out")
                    kc_out = os.path.join(tmp, f"kc.{n}.out")
                    same[n] = open(rz_out, "rb").read() == open(kc_out, "rb").read()
                    if not same[n]:
                        keep = os.path.abspath(f"target/scale/{n}.diff")
                        os.makedirs(keep, exist_ok=True)
                        shutil.copy(rz_out, os.path.join(keep, "rustomize.yaml"))
                        shutil.copy(kc_out, os.path.join(keep, "kubectl.yaml"))
finally:
    shutil.rmtree(tmp, ignore_errors=True)
rows = [(n, results[(n, "rz")], results.get((n, "kc")), same.get(n)) for n in sizes]

med = statistics.median
print(f"\nsynthetic overlay-heavy tree (benches/synth.rs); {runs} timed round(s) after one warm-up"
      " round (each round runs every size and tool once), medians")
print(f"{'N':>7} {'rz wall s':>10} {'rz cpu s':>9} {'rz MiB':>7} {'kc wall s':>10} {'kc cpu s':>9}"
      f" {'kc MiB':>7} {'speed-up':>9} {'same':>5}")
walls = {}
for n, r, k, same in rows:
    cells = [f"{n:>7}"]
    if r[0] == "OK":
        walls[n] = med(r[1])
        cells += [f"{med(r[1]):>10.3f}", f"{med(r[2]):>9.3f}", f"{med(r[3]):>7.0f}"]
    else:
        cells += [f"{r[0]:>10}", f"{'-':>9}", f"{'-':>7}"]
    if k and k[0] == "OK":
        cells += [f"{med(k[1]):>10.2f}", f"{med(k[2]):>9.2f}", f"{med(k[3]):>7.0f}"]
        cells.append(f"{'x%.0f' % (med(k[1]) / med(r[1])) if r[0] == 'OK' else '-':>9}")
    else:
        cells += [f"{(k[0] if k else 'not run'):>10}", f"{'-':>9}", f"{'-':>7}", f"{'-':>9}"]
    cells.append(f"{'-' if same is None else ('yes' if same else 'NO'):>5}")
    print(" ".join(cells))
    if same is False:
        print(f"  outputs differ: kept in target/scale/{n}.diff/")
if 10000 in walls and 100000 in walls:
    print(f"\nt(100k)/t(10k) = {walls[100000] / walls[10000]:.1f}")
PY
