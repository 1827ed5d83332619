#!/usr/bin/env python3
"""The time and peak RSS of each analysis phase on cores of about 6.4 M objects, next to `heapscope summary`.

It makes two cores (under tools/out/bench/, never committed, reused when present; --delete removes them at the end)
with the workload of heap_summary.py under a pyenv interpreter:

- plain: heap_summary.py's workload, 910 000 records. Each record is about 7 objects (the instance, its str, its
  float, its int and tuple, and the tuple's two ints), so the core holds about 6.4 M objects (heap_summary.py's
  `--sizes 5000000` core, 909 090 records, is the same heap give or take).
- cycles: the same records, each also linked to the next one in a ring of 10 (many small reference cycles), plus a
  tenth more records in rings that nothing references any more (the workload disables the collector, so they stay:
  what a collection would find), 830 000 + 83 000 records, again about 6.4 M objects.

For each core it builds and runs `cargo run --release -p heapscope-analysis --example phases -- CORE` (see
crates/analysis/examples/phases.rs: one line per phase with wall seconds, CPU seconds, current and peak RSS) and
prints its table, then times `heapscope summary --format json` on the same core (median wall time and maximum peak
RSS from /usr/bin/time over --runs runs). The load average is printed before and after: on a shared machine the wall
times include waiting for a CPU (the cpu column of the phases does not).

    python3 tools/bench/analysis.py [--variants plain cycles] [--records 910000] [--cycle-records 830000]
                                    [--runs 1] [--python 3.12.1] [--no-build] [--delete]

Binaries are built into $CARGO_TARGET_DIR (else target/). Needs cargo, gdb's gcore, /usr/bin/time and permission to
ptrace the workload (root, or ptrace_scope 0). A core takes about 350 MiB.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from heap_summary import OUT, REPO, WORKLOAD, dump_workload, log, python_exe, timed  # noqa: E402

# heap_summary.py's workload with reference cycles: rings of 10 records among the live ones, and garbage rings.
CYCLES_WORKLOAD = r"""
import gc, sys
gc.disable()
N = int(sys.argv[1])
RING = 10

class Record:
    def __init__(self, i):
        self.name = "record-%d" % i
        self.value = i * 1000003
        self.score = i / 7.0
        self.pair = (i, -i)
        self.next = None

def rings(rs):
    for k in range(0, len(rs), RING):
        ring = rs[k : k + RING]
        for a, b in zip(ring, ring[1:] + ring[:1]):
            a.next = b

records = [Record(i) for i in range(N)]
rings(records)
lost = [Record(N + i) for i in range(N // 10)]
rings(lost)
del lost
by_name = {r.name: r for r in records[: N // 2]}
buckets = [records[i : i + 100] for i in range(0, N, 100)]
print("READY", flush=True)
sys.stdin.read()
"""


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def target_dir():
    return Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))


def build():
    log("building the phases example and heapscope (release)")
    for args in (["--example", "phases", "-p", "heapscope-analysis"], ["--bin", "heapscope", "-p", "heapscope"]):
        subprocess.run(["cargo", "build", "--release", *args], cwd=REPO, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variants", nargs="*", choices=["plain", "cycles"], default=["plain", "cycles"])
    ap.add_argument("--records", type=int, default=910_000, help="records of the plain core")
    ap.add_argument("--cycle-records", type=int, default=830_000, help="live records of the cycles core")
    ap.add_argument("--runs", type=int, default=1, help="runs of `heapscope summary` per core")
    ap.add_argument("--python", default="3.12.1", help="pyenv version to run the workload under")
    ap.add_argument("--no-build", action="store_true", help="use the binaries already in the target directory")
    ap.add_argument("--delete", action="store_true", help="delete the cores at the end")
    args = ap.parse_args()
    python = python_exe(args.python)
    if not args.no_build:
        build()
    phases = target_dir() / "release" / "examples" / "phases"
    heapscope = target_dir() / "release" / "heapscope"
    print(f"{os.cpu_count()} CPUs, {python.name} {args.python}; load average {load_average()}")
    cores = []
    for variant in args.variants:
        if variant == "plain":
            core = dump_workload(python, WORKLOAD, [args.records], OUT / f"analysis-plain-{args.records}.core",
                                 f"{args.records} records")
        else:
            n = args.cycle_records
            core = dump_workload(python, CYCLES_WORKLOAD, [n], OUT / f"analysis-cycles-{n}.core",
                                 f"{n} records in rings of 10, and {n // 10} in unreferenced rings")
        cores.append(core)
        print(f"\n== {variant}: {core.relative_to(REPO)} ({core.stat().st_size / 2**20:.0f} MiB)", flush=True)
        start = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-f", "%M", str(phases), str(core)], capture_output=True, text=True)
        secs = time.perf_counter() - start
        print(p.stdout, end="", flush=True)
        if p.returncode != 0:
            print(p.stderr, end="", file=sys.stderr)
            raise SystemExit(f"phases failed ({p.returncode}) on {core}")
        peak = int(p.stderr.strip().splitlines()[-1])
        print(f"phases process: {secs:.2f} s wall, peak RSS {peak / 1024:.0f} MiB (/usr/bin/time)")
        out, secs, rss = timed([str(heapscope), "summary", "--format", "json", str(core)], args.runs)
        report = json.loads(out)
        print(f"heapscope summary: {statistics.median(secs):.2f} s wall (median of {args.runs}), peak RSS "
              f"{max(rss) / 1024:.0f} MiB; {report['objects']['count']} objects, {report['references']} references, "
              f"{report['errors']} errors; load average {load_average()}", flush=True)
    if args.delete:
        for core in cores:
            core.unlink()
            core.with_suffix(".py").unlink(missing_ok=True)
        log(f"deleted {len(cores)} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
