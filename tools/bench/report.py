#!/usr/bin/env python3
"""`heapscope report` and `heapscope diff` on big heaps: wall time, peak RSS, and the report's size.

One process of the heap_summary.py workload (`--size 5000000`: 909,090 records, about 6.4 M objects) is dumped twice
with gcore: once built, and again after it grew by a tenth (new records in a new list and in the `by_name` dict) and
freed a twentieth of its records (so that pymalloc hands their blocks to the new ones). The cores are made under
$HEAPSCOPE_BENCH_DIR (default /tmp/heapscope-bench), once and reused, never committed. It measures, each command on
the saved snapshots (made first by `index`, whose time is printed too):

- `report NEW -o FILE.html` and `report NEW --format md -o FILE.md`: time, peak RSS and the file's size;
- `diff OLD NEW --format json`: time and peak RSS, and what it found (new, freed, surviving objects, reused
  addresses, the top owner by growth).

    python3 tools/bench/report.py [--size 5000000] [--python 3.12.1] [--heapscope target/release/heapscope]
                                  [--delete]

Needs gdb's gcore, /usr/bin/time and permission to ptrace the workload (root, or ptrace_scope 0).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from heap_summary import OBJECTS_PER_RECORD, REPO, WORKLOAD, log, python_exe, timed  # noqa: E402

OUT = Path(os.environ.get("HEAPSCOPE_BENCH_DIR", "/tmp/heapscope-bench"))

# After the first dump: a tenth more records, a twentieth freed.
GROW = r"""
grown = [Record(N + i) for i in range(N // 10)]
for r in grown:
    by_name[r.name] = r
for i in range(0, N, 20):
    records[i] = None
buckets = None
print("READY", flush=True)
sys.stdin.read()
"""


def dump_twice(python, size):
    """(old core, new core): one process, dumped before and after it grew. Made once."""
    records = int(size / OBJECTS_PER_RECORD)
    old, new = OUT / f"diff-{size}-old.core", OUT / f"diff-{size}-new.core"
    if old.exists() and new.exists():
        return old, new
    OUT.mkdir(parents=True, exist_ok=True)
    script = OUT / f"diff-{size}.py"
    # The first READY waits for a line (not EOF), then the workload grows.
    script.write_text(WORKLOAD.replace("sys.stdin.read()", "sys.stdin.readline()") + GROW)
    log(f"starting {python.name} with {records} records")
    proc = subprocess.Popen([str(python), str(script), str(records)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    try:
        for core in (old, new):
            line = proc.stdout.readline()
            if line.strip() != "READY":
                raise SystemExit(f"workload did not reach READY: {line!r}")
            prefix = core.with_suffix("")
            start = time.perf_counter()
            subprocess.run(["gcore", "-o", str(prefix), str(proc.pid)], check=True, capture_output=True, timeout=600)
            Path(f"{prefix}.{proc.pid}").rename(core)
            log(f"dumped {core.name}: {core.stat().st_size / 2**20:.0f} MiB in {time.perf_counter() - start:.1f}s")
            if core == old:
                proc.stdin.write("\n")
                proc.stdin.flush()
    finally:
        proc.kill()
        proc.wait()
    return old, new


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=5_000_000)
    ap.add_argument("--python", default="3.12.1")
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    ap.add_argument("--heapscope", default=str(target / "release" / "heapscope"))
    ap.add_argument("--delete", action="store_true")
    a = ap.parse_args()
    hs = a.heapscope
    old, new = dump_twice(python_exe(a.python), a.size)
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print(f"{'measure':>28} {'wall s':>8} {'peak MiB':>9} {'size':>12}")

    def row(what, secs, rss, size=""):
        print(f"{what:>28} {secs[-1]:8.2f} {rss[-1] / 1024:9.0f} {size:>12}", flush=True)

    made = []
    for core in (old, new):
        snap = Path(f"{core}.heapscope")
        made.append(snap)
        _, secs, rss = timed([hs, "index", str(core)], 1)
        row(f"index {core.name}", secs, rss)
    for fmt, ext in (("html", "html"), ("md", "md")):
        out = OUT / f"report-{a.size}.{ext}"
        made.append(out)
        _, secs, rss = timed([hs, "report", str(new), "--format", fmt, "-o", str(out)], 1)
        row(f"report --format {fmt}", secs, rss, f"{out.stat().st_size / 2**20:.2f} MiB")
    stdout, secs, rss = timed([hs, "diff", str(old), str(new), "--format", "json"], 1)
    row("diff", secs, rss)
    d = json.loads(stdout)
    print(f"diff: {d['old']['objects']:,} → {d['new']['objects']:,} objects; new {d['new_objects']['count']:,}, "
          f"freed {d['freed_objects']['count']:,}, surviving {d['surviving']['count']:,}, reused addresses "
          f"{d['reused_addresses']['count']:,}")
    for o in d["owners"][:3]:
        print(f"  owner {o['delta_bytes']:+,} bytes ({o['delta_count']:+,} objects) {o['type']} {o['path']}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if a.delete:
        for p in [old, new, *made, OUT / f"diff-{a.size}.py"]:
            p.unlink(missing_ok=True)
        log("deleted the cores, snapshots and reports")


if __name__ == "__main__":
    main()
