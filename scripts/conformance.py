#!/usr/bin/env python3
"""Conformance ratchet: rustomize against `kubectl kustomize`, dir by dir.

For every kustomization directory (one holding `kustomization.yaml`,
`kustomization.yml` or `Kustomization`) under each corpus root, build it with
the oracle (`kubectl kustomize DIR`, results cached) and with the candidate
(`target/release/rustomize build DIR` by default) and classify the result:

  exact               byte-identical stdout, both exit 0
  same-data           same YAML documents (same order, key order ignored), different bytes
  differ              different documents (or PyYAML missing, so not checked)
  cand-err            candidate failed where the oracle succeeded
  both-err            both failed
  cand-ok-oracle-err  candidate succeeded where the oracle failed
  PANIC               candidate exited with 101 (a Rust panic) -- always fatal

The exact rate is exact / (dirs the oracle builds).

`conformance/baseline.txt` lists `corpus/relative/dir` entries that must stay
exact. The run exits 1 if any of them is no longer exact, or if any candidate
run panicked. `--update` rewrites the baseline (for the corpora that were run)
to the set of dirs exact now.

Usage:
  python3 scripts/conformance.py [ROOT ...] [--candidate CMD] [--jobs N]
                                 [--show N] [--diff N] [--update] [--baseline FILE]
                                 [--cache DIR] [--no-cache] [--timeout S]

ROOTs default to every directory in ../shared/corpora/. A corpus is named by
the last component of its root. CMD is split like a shell command line; the
directory is appended as the last argument.

Oracle cache: one entry per dir, keyed by the oracle command, the oracle's
`version --client` text, a content hash of the whole corpus root (a
kustomization can read files anywhere under it, e.g. `../base`), and the
dir's path relative to the root. Changing any file under the root invalidates
that corpus's entries; the corpora are read-only data, so this rarely happens.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import difflib
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

try:
    import yaml  # type: ignore

    _Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
except ImportError:  # pragma: no cover - depends on the machine
    yaml = None
    _Loader = None

REPO = Path(__file__).resolve().parent.parent
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
PANIC_RC = 101
TIMEOUT_RC = 124
ORDER = ("exact", "same-data", "differ", "cand-err", "both-err", "cand-ok-oracle-err")
SHOW_ORDER = ("PANIC", "cand-err", "differ", "same-data", "cand-ok-oracle-err")


def find_dirs(root: Path) -> list[Path]:
    out = []
    for d, subs, files in os.walk(root):
        subs[:] = sorted(s for s in subs if s != ".git")
        if any(f in KUSTOMIZATION_FILES for f in files):
            out.append(Path(d))
    return sorted(out)


def tree_hash(root: Path) -> str:
    """Content hash of every file under root (paths and bytes)."""
    h = hashlib.sha256()
    for d, subs, files in os.walk(root):
        subs[:] = sorted(s for s in subs if s != ".git")
        for f in sorted(files):
            p = Path(d) / f
            h.update(str(p.relative_to(root)).encode() + b"\0")
            try:
                h.update(p.read_bytes())
            except OSError as e:  # dangling symlink, unreadable file
                h.update(f"<{e.__class__.__name__}>".encode())
            h.update(b"\0")
    return h.hexdigest()


def run(cmd: list[str], d: Path, timeout: float) -> tuple[int, bytes, bytes]:
    try:
        p = subprocess.run(
            cmd + [str(d)],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
        )
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return TIMEOUT_RC, b"", f"TIMEOUT after {timeout:.0f}s".encode()
    except OSError as e:
        return 127, b"", f"cannot run {cmd[0]}: {e}".encode()


class Oracle:
    def __init__(self, cmd: list[str], cache: Path | None, timeout: float):
        self.cmd = cmd
        self.cache = cache
        self.timeout = timeout
        self.version = self._version()
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        if cache:
            cache.mkdir(parents=True, exist_ok=True)

    def _version(self) -> str:
        try:
            p = subprocess.run(
                [self.cmd[0], "version", "--client"],
                capture_output=True,
                stdin=subprocess.DEVNULL,
                timeout=60,
            )
            return p.stdout.decode("utf-8", "replace").strip()
        except (OSError, subprocess.TimeoutExpired):
            return "unknown"

    def key(self, corpus_hash: str, rel: str) -> str:
        h = hashlib.sha256()
        for part in (shlex.join(self.cmd), self.version, corpus_hash, rel):
            h.update(part.encode() + b"\0")
        return h.hexdigest()[:40]

    def build(self, d: Path, key: str) -> tuple[int, bytes, bytes]:
        if self.cache:
            meta_f = self.cache / (key + ".json")
            out_f = self.cache / (key + ".out")
            if meta_f.exists() and out_f.exists():
                try:
                    meta = json.loads(meta_f.read_text())
                    with self._lock:
                        self.hits += 1
                    return meta["rc"], out_f.read_bytes(), meta["err"].encode()
                except (OSError, ValueError, KeyError):
                    pass
        with self._lock:
            self.misses += 1
        rc, out, err = run(self.cmd, d, self.timeout)
        if self.cache and rc != TIMEOUT_RC:  # don't cache flaky timeouts
            meta = {"dir": str(d), "rc": rc, "err": err.decode("utf-8", "replace")[-4000:]}
            _atomic_write(self.cache / (key + ".out"), out)
            _atomic_write(self.cache / (key + ".json"), json.dumps(meta).encode())
        return rc, out, err


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def load_docs(b: bytes):
    try:
        return [x for x in yaml.load_all(b, Loader=_Loader) if x is not None]
    except Exception:
        return None


def first_line(err: bytes) -> str:
    """First informative stderr line (kustomize-style '# Warning:' lines skipped)."""
    lines = [ln.strip() for ln in err.decode("utf-8", "replace").splitlines() if ln.strip()]
    for ln in lines:
        if not ln.startswith("# Warning:"):
            return ln[:240]
    return lines[0][:240] if lines else ""


def judge(job):
    corpus, ident, d, key, oracle, cand, timeout = job
    orc, oout, _ = oracle.build(d, key)
    crc, cout, cerr = run(cand, d, timeout)
    panic = crc == PANIC_RC
    if orc != 0:
        verdict = "both-err" if crc != 0 else "cand-ok-oracle-err"
    elif crc != 0:
        verdict = "cand-err"
    elif cout == oout:
        verdict = "exact"
    elif yaml is not None:
        od = load_docs(oout)
        verdict = "same-data" if od is not None and od == load_docs(cout) else "differ"
    else:
        verdict = "differ"
    return {
        "corpus": corpus,
        "id": ident,
        "dir": d,
        "verdict": verdict,
        "panic": panic,
        "cand_rc": crc,
        "msg": first_line(cerr),
        "key": key,
    }


def read_baseline(path: Path) -> list[str]:
    if not path.exists():
        return []
    out = []
    for ln in path.read_text().splitlines():
        ln = ln.split("#", 1)[0].strip()
        if ln:
            out.append(ln)
    return out


BASELINE_HEADER = """\
# Conformance ratchet baseline: kustomization dirs (corpus/relative/dir) whose
# `rustomize build` output is byte-identical to `kubectl kustomize`.
# scripts/conformance.py fails if any of them stops being exact.
# Regenerate with: python3 scripts/conformance.py --update   (see docs/decisions.md)
"""


def write_baseline(path: Path, entries: set[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    header = BASELINE_HEADER
    if path.exists():  # keep an existing header comment block as is
        lines = path.read_text().splitlines(keepends=True)
        kept = []
        for ln in lines:
            if ln.startswith("#") or not ln.strip():
                kept.append(ln)
            else:
                break
        if kept:
            header = "".join(kept)
    body = "".join(e + "\n" for e in sorted(entries))
    path.write_text(header + body)


def corpus_of(entry: str) -> str:
    return entry.split("/", 1)[0]


def main() -> int:
    ap = argparse.ArgumentParser(
        description="rustomize vs kubectl kustomize conformance ratchet",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("roots", nargs="*", help="corpus roots (default: ../shared/corpora/*)")
    ap.add_argument(
        "--candidate",
        default=f"{REPO / 'target/release/rustomize'} build",
        help="candidate command; DIR is appended (default: target/release/rustomize build)",
    )
    ap.add_argument("--oracle", default="kubectl kustomize", help="oracle command (default: %(default)s)")
    ap.add_argument("--cache", default=str(REPO / "target/conformance-cache"), help="oracle cache dir")
    ap.add_argument("--no-cache", action="store_true", help="always run the oracle")
    ap.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--show", type=int, default=0, help="list the first N non-exact dirs per corpus")
    ap.add_argument("--diff", type=int, default=0, help="unified diff (oracle vs candidate) for the first N differing dirs")
    ap.add_argument("--baseline", default=str(REPO / "conformance/baseline.txt"))
    ap.add_argument("--update", action="store_true", help="rewrite the baseline to the dirs exact now")
    ap.add_argument("--timeout", type=float, default=180, help="per-build timeout in seconds")
    ap.add_argument("--json", help="write per-dir results to this file")
    a = ap.parse_args()

    oracle_cmd = shlex.split(a.oracle)
    if shutil.which(oracle_cmd[0]) is None:
        print(f"conformance: skipped: no {oracle_cmd[0]} on PATH")
        return 0
    if a.roots:
        roots = [Path(r) for r in a.roots]
    else:
        base = REPO.parent / "shared" / "corpora"
        roots = sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
    missing = [r for r in roots if not r.is_dir()]
    for r in missing:
        print(f"conformance: corpus root not found: {r}")
    roots = [r.resolve() for r in roots if r.is_dir()]
    if not roots:
        print("conformance: skipped: no corpora")
        return 0
    names = [r.name for r in roots]
    if len(set(names)) != len(names):
        print(f"conformance: corpus names must be distinct, got {names}", file=sys.stderr)
        return 2

    cand = shlex.split(a.candidate)
    if shutil.which(cand[0]) is None:
        print(f"conformance: candidate not found: {cand[0]} (build it: cargo build --release)", file=sys.stderr)
        return 2
    if yaml is None:
        print("conformance: note: PyYAML not installed, same-data check disabled (counted as differ)")

    oracle = Oracle(oracle_cmd, None if a.no_cache else Path(a.cache), a.timeout)
    t0 = time.monotonic()
    jobs = []
    for root in roots:
        chash = tree_hash(root)
        for d in find_dirs(root):
            rel = d.relative_to(root).as_posix()
            ident = root.name if rel == "." else f"{root.name}/{rel}"
            jobs.append((root.name, ident, d, oracle.key(chash, rel), oracle, cand, a.timeout))

    results = []
    with cf.ThreadPoolExecutor(max(1, a.jobs)) as ex:
        for r in ex.map(judge, jobs):
            results.append(r)
    elapsed = time.monotonic() - t0

    by_corpus: dict[str, list[dict]] = {n: [] for n in names}
    for r in results:
        by_corpus[r["corpus"]].append(r)

    print(f"candidate: {a.candidate}")
    print(f"oracle:    {a.oracle} ({oracle.version.splitlines()[-1] if oracle.version else '?'}; "
          f"cache {'off' if a.no_cache else f'{oracle.hits} hits, {oracle.misses} misses'})")
    tot = Counter()
    for name in names:
        rs = by_corpus[name]
        c = Counter(r["verdict"] for r in rs)
        c["PANIC"] = sum(r["panic"] for r in rs)
        tot.update(c)
        _print_counts(name, len(rs), c)
        if a.show:
            _show(rs, a.show)
    if len(names) > 1:
        _print_counts("TOTAL", len(results), tot)
    print(f"({len(results)} dirs in {elapsed:.1f}s, {a.jobs} jobs)")

    if a.diff:
        shown = 0
        for r in results:
            if shown >= a.diff or r["verdict"] not in ("differ", "same-data"):
                continue
            shown += 1
            _, oout, _ = oracle.build(r["dir"], r["key"])
            _, cout, _ = run(cand, r["dir"], a.timeout)
            print(f"--- diff {r['id']} ({r['verdict']}; oracle vs candidate, first 80 lines)")
            diff = difflib.unified_diff(
                oout.decode("utf-8", "replace").splitlines(True),
                cout.decode("utf-8", "replace").splitlines(True),
                "kustomize", "candidate", n=2,
            )
            for i, ln in enumerate(diff):
                if i >= 80:
                    print("  ...")
                    break
                sys.stdout.write(ln if ln.endswith("\n") else ln + "\n")

    if a.json:
        Path(a.json).write_text(json.dumps(
            [{k: (str(v) if k == "dir" else v) for k, v in r.items()} for r in results], indent=1))

    status = 0
    panics = [r for r in results if r["panic"]]
    if panics:
        print(f"\n!!! PANIC: the candidate panicked (exit {PANIC_RC}) on {len(panics)} dir(s):")
        for r in panics:
            print(f"!!!   {r['id']}: {r['msg']}")
        status = 1

    baseline_path = Path(a.baseline)
    baseline = read_baseline(baseline_path)
    run_corpora = set(names)
    exact_now = {r["id"] for r in results if r["verdict"] == "exact"}
    all_ids = {r["id"] for r in results}
    checked = [e for e in baseline if corpus_of(e) in run_corpora]
    skipped = len(baseline) - len(checked)
    regressed = sorted(e for e in checked if e in all_ids and e not in exact_now)
    vanished = sorted(e for e in checked if e not in all_ids)
    verdict_of = {r["id"]: r for r in results}

    if a.update:
        kept = {e for e in baseline if corpus_of(e) not in run_corpora}
        new = kept | exact_now
        old = set(baseline)
        added, removed = sorted(new - old), sorted(old - new)
        write_baseline(baseline_path, new)
        print(f"\nbaseline {baseline_path}: {len(new)} entries, +{len(added)} added, -{len(removed)} removed")
        for e in removed:
            why = verdict_of[e]["verdict"] if e in verdict_of else "no longer found"
            print(f"  REMOVED {e} ({why})")
    else:
        print(f"\nbaseline {baseline_path}: {len(checked)} entries checked"
              + (f" ({skipped} for corpora not run, ignored)" if skipped else ""))
        newly = sorted(exact_now - set(baseline))
        if newly:
            print(f"  {len(newly)} exact dir(s) not in the baseline yet: run with --update to ratchet")
        if regressed or vanished:
            print(f"REGRESSION: {len(regressed) + len(vanished)} baseline dir(s) no longer exact:")
            for e in regressed:
                r = verdict_of[e]
                print(f"  {e}: {r['verdict']}{' (PANIC)' if r['panic'] else ''} {r['msg']}".rstrip())
            for e in vanished:
                print(f"  {e}: not a kustomization dir any more")
            status = 1
        else:
            print("  ok: every baseline dir is still exact")
    return status


def _print_counts(name: str, n: int, c: Counter) -> None:
    ok = c["exact"] + c["same-data"] + c["differ"] + c["cand-err"]
    rate = f"{100 * c['exact'] / ok:5.1f}%" if ok else "  n/a"
    counts = " / ".join(str(c[k]) for k in ORDER)
    print(f"{name}: dirs={n} oracle-ok={ok} exact={rate}  "
          f"[exact / same-data / differ / cand-err / both-err / cand-ok-oracle-err = {counts}]"
          + (f"  PANIC={c['PANIC']} !!!" if c["PANIC"] else ""))


def _show(rs: list[dict], n: int) -> None:
    def rank(r):
        k = "PANIC" if r["panic"] else r["verdict"]
        return SHOW_ORDER.index(k) if k in SHOW_ORDER else len(SHOW_ORDER)

    bad = sorted((r for r in rs if r["verdict"] not in ("exact", "both-err") or r["panic"]), key=rank)
    for r in bad[:n]:
        k = "PANIC" if r["panic"] else r["verdict"]
        print(f"    {k:<18} {r['id']}  {r['msg']}".rstrip())
    if len(bad) > n:
        print(f"    ... {len(bad) - n} more")


if __name__ == "__main__":
    sys.exit(main())
