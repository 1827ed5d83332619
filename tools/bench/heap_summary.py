#!/usr/bin/env python3
"""How long `heapscope summary` takes on big heaps: wall time and peak RSS on cores of about 1 M and 5 M objects.

For each size it runs a small workload under a pyenv interpreter of this machine (it allocates records: a class
instance with a managed dict, a str, an int, a float and a tuple each, plus dicts and lists holding them; it then
blocks reading stdin), dumps the process with gcore, and times `heapscope summary --format json` on the core (median
wall time and maximum peak RSS over the runs, from /usr/bin/time). The cores stay under tools/out/bench/ (never
committed) and are reused when present; delete them to regenerate.

    python3 tools/bench/heap_summary.py [--sizes 1000000 5000000] [--runs 3] [--python 3.12.1]
                                        [--heapscope target/release/heapscope]

Needs gdb's gcore, /usr/bin/time and permission to ptrace the workload (root, or ptrace_scope 0).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tools" / "out" / "bench"
PYENV_ROOT = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))

# Records per requested object. A record is in fact about 7 objects (the instance, its str, int, float and tuple,
# and the tuple's two ints), so a size names the core rather than counts it: --sizes 5000000 makes 909 090 records,
# 6.39 M objects. Kept as it is so that cores and figures stay comparable across runs.
WORKLOAD = r"""
import gc, sys
gc.disable()
N = int(sys.argv[1])

class Record:
    def __init__(self, i):
        self.name = "record-%d" % i
        self.value = i * 1000003
        self.score = i / 7.0
        self.pair = (i, -i)

records = [Record(i) for i in range(N)]
by_name = {r.name: r for r in records[: N // 2]}
buckets = [records[i : i + 100] for i in range(0, N, 100)]
print("READY", flush=True)
sys.stdin.read()
"""

OBJECTS_PER_RECORD = 5.5


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def python_exe(version):
    minor = ".".join(version.split(".")[:2])
    exe = PYENV_ROOT / "versions" / version / "bin" / f"python{minor}"
    if not exe.exists():
        raise SystemExit(f"no pyenv interpreter at {exe} (set PYENV_ROOT or pass --python)")
    return exe


def make_core(python, objects):
    """tools/out/bench/heap-<objects>.core, made once."""
    records = int(objects / OBJECTS_PER_RECORD)
    return dump_workload(python, WORKLOAD, [records], OUT / f"heap-{objects}.core",
                         f"{records} records (~{objects} objects)")


def dump_workload(python, workload, args, core, what):
    """`core`, made once: runs the `workload` source with `args` under `python` until it prints READY, then dumps the
    process with gcore. The workload must then block (reading stdin)."""
    core.parent.mkdir(parents=True, exist_ok=True)
    if core.exists():
        return core
    script = core.with_suffix(".py")
    script.write_text(workload)
    log(f"starting {python.name} with {what}")
    proc = subprocess.Popen([str(python), str(script), *map(str, args)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    try:
        line = proc.stdout.readline()
        if line.strip() != "READY":
            raise SystemExit(f"workload did not start: {line!r}")
        prefix = core.with_suffix("")
        start = time.perf_counter()
        subprocess.run(["gcore", "-o", str(prefix), str(proc.pid)], check=True, capture_output=True, timeout=600)
        Path(f"{prefix}.{proc.pid}").rename(core)
        log(f"dumped {core.name}: {core.stat().st_size / 2**20:.0f} MiB in {time.perf_counter() - start:.1f}s")
    finally:
        proc.kill()
        proc.wait()
    return core


def timed(cmd, runs):
    """(stdout of the last run, [seconds], [peak KiB]); exit 0 or 2 (some objects undecodable) accepted."""
    secs, rss, out = [], [], ""
    for _ in range(runs):
        start = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True)
        secs.append(time.perf_counter() - start)
        if p.returncode not in (0, 2):
            raise SystemExit(f"{cmd} failed ({p.returncode}):\n{p.stderr[-2000:]}")
        rss.append(int(p.stderr.strip().splitlines()[-1]))
        out = p.stdout
    return out, secs, rss


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[1_000_000, 5_000_000])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--python", default="3.12.1", help="pyenv version to run the workload under")
    ap.add_argument("--heapscope", default=str(REPO / "target" / "release" / "heapscope"))
    args = ap.parse_args()
    python = python_exe(args.python)
    rows = []
    for size in args.sizes:
        core = make_core(python, size)
        out, secs, rss = timed([args.heapscope, "summary", "--format", "json", str(core)], args.runs)
        report = json.loads(out)
        objects = report["objects"]["count"]
        rows.append((core.name, core.stat().st_size, objects, report["references"], report["errors"],
                     statistics.median(secs), max(rss)))
    print(f"{'core':22} {'core MiB':>9} {'objects':>10} {'references':>11} {'errors':>7} {'seconds':>8} "
          f"{'peak MiB':>9} {'µs/object':>10}")
    for name, size, objects, refs, errors, s, k in rows:
        print(f"{name:22} {size / 2**20:9.0f} {objects:10d} {refs:11d} {errors:7d} {s:8.2f} {k / 1024:9.0f} "
              f"{1e6 * s / max(objects, 1):10.2f}")
    print(f"(median wall time and max peak RSS over {args.runs} runs of `heapscope summary --format json`; "
          f"{os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
