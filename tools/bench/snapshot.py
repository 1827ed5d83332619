#!/usr/bin/env python3
"""The saved snapshot and `heapscope query` on big heaps: index time, snapshot size, reopen time, query times.

On the cores of heap_summary.py (`--sizes 1000000 5000000`: about 1.3 M and 6.4 M objects; made under
$HEAPSCOPE_BENCH_DIR, default /tmp/heapscope-bench, once and reused, never committed) it measures, with wall time and peak RSS from /usr/bin/time:

- `index CORE -o SNAP`: decoding the heap and writing the snapshot; the snapshot's size;
- `summary` decoding the core (`--no-cache`) and reading the snapshot (the reopen: the command's whole run, core
  mapped, layout resolved, snapshot read, report written);
- queries on the saved snapshot, each run twice (first and second: the page cache is warm for the second):
  a histogram by type (`objects` with two columns), the top owners by retained size (`objects` with the
  dominator tree computed), and references by kind (`edges` without labels).

    python3 tools/bench/snapshot.py [--sizes 1000000 5000000] [--python 3.12.1]
                                    [--heapscope target/release/heapscope] [--delete]

--delete removes the cores and snapshots at the end. Needs what heap_summary.py needs.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import heap_summary  # noqa: E402
from heap_summary import REPO, log, make_core, python_exe, timed  # noqa: E402

# Cores are big: they go to $HEAPSCOPE_BENCH_DIR (default /tmp/heapscope-bench), not into the clone.
heap_summary.OUT = Path(os.environ.get("HEAPSCOPE_BENCH_DIR", "/tmp/heapscope-bench"))

QUERIES = [
    ("types", "SELECT type, count(*) AS n, sum(size) AS bytes FROM objects GROUP BY type ORDER BY bytes DESC LIMIT 5"),
    ("retained", "SELECT id, type, retained_bytes FROM objects ORDER BY retained_bytes DESC LIMIT 5"),
    ("edges", "SELECT kind, count(*) AS n FROM edges GROUP BY kind"),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[1_000_000, 5_000_000])
    ap.add_argument("--python", default="3.12.1")
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    ap.add_argument("--heapscope", default=str(target / "release" / "heapscope"))
    ap.add_argument("--delete", action="store_true")
    a = ap.parse_args()
    python = python_exe(a.python)
    hs = a.heapscope
    made = []
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print(f"{'core':>18} {'measure':>24} {'wall s':>8} {'peak MiB':>9}")

    def row(core, what, secs, rss):
        print(f"{core.name:>18} {what:>24} {secs[-1]:8.2f} {rss[-1] / 1024:9.0f}", flush=True)

    for size in a.sizes:
        core = make_core(python, size)
        snap = core.with_suffix(".heapscope")
        made += [core, snap]
        _, secs, rss = timed([hs, "index", str(core), "-o", str(snap)], 1)
        row(core, "index", secs, rss)
        print(f"{core.name:>18} {'snapshot MiB':>24} {snap.stat().st_size / 2**20:8.0f}")
        _, secs, rss = timed([hs, "summary", str(core), "--no-cache", "--format", "json"], 1)
        row(core, "summary, decoding", secs, rss)
        _, secs, rss = timed([hs, "summary", str(core), "--snapshot", str(snap), "--format", "json"], 1)
        row(core, "summary, reopened", secs, rss)
        for name, sql in QUERIES:
            for which in ("first", "second"):
                _, secs, rss = timed([hs, "query", str(core), "--snapshot", str(snap), sql], 1)
                row(core, f"query {name} ({which})", secs, rss)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if a.delete:
        for p in made:
            p.unlink(missing_ok=True)
            p.with_suffix(".py").unlink(missing_ok=True)
        log("deleted the cores and snapshots")


if __name__ == "__main__":
    main()
