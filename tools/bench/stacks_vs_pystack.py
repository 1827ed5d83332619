#!/usr/bin/env python3
"""Side by side: `heapscope stacks` and pystack on the fixture cores whose binaries exist on this machine.

For each fixture it checks that both tools report the same Python frames (function, file, line) for every thread,
then times each tool over several runs and prints wall time and peak RSS (from /usr/bin/time).

pystack comes from PyPI into a private virtualenv under tools/out/bench/ (never a test dependency). It needs the
binaries the core mapped: the fixture chroots under tools/out/ (made by tools/fixtures/make_fixtures.py) serve as its
--lib-search-root, and the extracted sysroot.tar.zst for py312-filter33.

    python3 tools/bench/stacks_vs_pystack.py [--runs 5] [--only py312 ...] [--heapscope target/release/heapscope]
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tools" / "out" / "bench"
PYSTACK_VERSION = "1.7.2"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def pystack_bin():
    venv = OUT / "venv"
    exe = venv / "bin" / "pystack"
    if not exe.exists():
        log(f"installing pystack {PYSTACK_VERSION} into {venv}")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", f"pystack=={PYSTACK_VERSION}"], check=True)
    return exe


def fixture_inputs(name):
    """(uncompressed core, lib search root, executable inside the root) for a fixture, or None if no binaries."""
    fx = REPO / "testdata" / name
    truth_exe = json.loads(subprocess.run(["zstd", "-dc", str(fx / "truth.json.zst")], check=True,
                                          capture_output=True).stdout)["executable"]
    if (fx / "sysroot.tar.zst").exists():
        root = OUT / f"sysroot-{name}"
        if not root.exists():
            root.mkdir(parents=True)
            tar = subprocess.run(["zstd", "-dc", str(fx / "sysroot.tar.zst")], check=True, capture_output=True).stdout
            tmp = OUT / f"{name}.tar"
            tmp.write_bytes(tar)
            with tarfile.open(tmp) as t:
                t.extractall(root, filter="data")
            tmp.unlink()
    else:
        minor = {"py38": "3.8", "py39": "3.9", "py310": "3.10", "py311": "3.11", "py312": "3.12",
                 "py313": "3.13", "py314": "3.14"}[name]
        root = REPO / "tools" / "out" / f"chroot-{minor}"
        if not root.exists():
            return None
    core = OUT / f"{name}.core"
    if not core.exists():
        subprocess.run(["zstd", "-dqf", str(fx / "core.zst"), "-o", str(core)], check=True)
    return core, root, root / truth_exe.lstrip("/")


def timed(cmd, runs):
    """Runs cmd `runs` times; returns (stdout of the last run, [seconds], [peak KiB]).

    Wall time from perf_counter around the run (finer than /usr/bin/time's 10 ms); peak RSS from /usr/bin/time,
    a small C program, because a child forked from this Python process would report the parent's pages too.
    """
    secs, rss, out = [], [], ""
    for _ in range(runs):
        start = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True)
        secs.append(time.perf_counter() - start)
        if p.returncode != 0:
            raise SystemExit(f"{cmd[0]} failed ({p.returncode}):\n{p.stderr[-2000:]}")
        rss.append(int(p.stderr.strip().splitlines()[-1]))
        out = p.stdout
    return out, secs, rss


FRAME_RE = re.compile(r'^\s*\(Python\) File "(?P<file>[^"]*)", line (?P<line>\d+), in (?P<func>.*)$')
THREAD_RE = re.compile(r"^Traceback for thread (?P<tid>\d+)")


def pystack_frames(text):
    """{tid: [(function, file, line), …] innermost first} from pystack's text output."""
    threads, cur = {}, None
    for line in text.splitlines():
        m = THREAD_RE.match(line)
        if m:
            cur = threads.setdefault(int(m["tid"]), [])
            continue
        m = FRAME_RE.match(line)
        if m and cur is not None:
            cur.append((m["func"], m["file"], int(m["line"])))
    return {tid: list(reversed(frames)) for tid, frames in threads.items()}


def heapscope_frames(text):
    data = json.loads(text)
    return {t["tid"]: [(f["function"], f["file"], f["line"]) for f in t["frames"]] for t in data["threads"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--heapscope", default=str(REPO / "target" / "release" / "heapscope"))
    args = ap.parse_args()
    names = args.only or ["py38", "py39", "py310", "py311", "py312", "py313", "py314", "py312-filter33"]
    pystack = pystack_bin()
    rows, mismatches = [], 0
    for name in names:
        inputs = fixture_inputs(name)
        if inputs is None:
            log(f"{name}: no binaries on this machine (run tools/fixtures/make_fixtures.py first); skipped")
            continue
        core, root, exe = inputs
        hs_cmd = [args.heapscope, "stacks", "--format", "json", "--sysroot", str(root), str(core)]
        ps_cmd = [str(pystack), "core", str(core), str(exe), "--lib-search-root", str(root), "--no-color"]
        hs_out, hs_s, hs_k = timed(hs_cmd, args.runs)
        ps_out, ps_s, ps_k = timed(ps_cmd, args.runs)
        hs, ps = heapscope_frames(hs_out), pystack_frames(ps_out)
        same = hs == ps
        if not same:
            mismatches += 1
            for tid in sorted(set(hs) | set(ps)):
                if hs.get(tid) != ps.get(tid):
                    log(f"{name}: thread {tid} differs\n  heapscope: {hs.get(tid)}\n  pystack:   {ps.get(tid)}")
        rows.append((name, sum(len(f) for f in hs.values()), same, statistics.median(hs_s), max(hs_k),
                     statistics.median(ps_s), max(ps_k)))
    print(f"{'fixture':16} {'frames':>6} {'same':>5} {'heapscope s':>12} {'heapscope MiB':>14} "
          f"{'pystack s':>10} {'pystack MiB':>12} {'time ratio':>10}")
    for name, frames, same, hs_s, hs_k, ps_s, ps_k in rows:
        ratio = hs_s / ps_s if ps_s else float("nan")
        print(f"{name:16} {frames:6d} {str(same):>5} {hs_s:12.4f} {hs_k / 1024:14.1f} {ps_s:10.4f} "
              f"{ps_k / 1024:12.1f} {ratio:10.2f}")
    print(f"(median wall time and max peak RSS over {args.runs} runs; time ratio = heapscope / pystack)")
    if mismatches:
        print(f"{mismatches} fixture(s) with different frames: see above")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
