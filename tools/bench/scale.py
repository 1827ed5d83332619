#!/usr/bin/env python3
"""heapscope at scale (issue 13): cores of about 1 M, 5 M and 10 M Python objects, measured against the in-process
tools on the same heap, with the issue's targets marked PASS or MISS.

For each size (and a variant with reference cycles) a workload runs under pyenv CPython 3.12.1 in a private venv. It
builds a MIX of objects: class instances with a `__dict__` (one in 16 with its dict materialized), instances of a
class with `__slots__`, str, tuples, lists, dicts, floats, ints, and one small numpy array per about 1,000 objects
(every fourth one owning a 4 KiB buffer). The `cycles` variant links the instances in rings of 10, makes each record
dict reachable from itself (dict -> slotted instance -> list -> dict), and leaves a tenth more records in rings that
nothing references, with `gc.disable()`, so that the dump holds the garbage a collection would find.

Just before the dump, the workload measures its own heap and prints the figures as one JSON line before READY:

- CPython's closure: `gc.get_objects()`, then a breadth-first closure over `gc.get_referents` (called on chunks of
  10,000 objects) with a set of ids, then the sum of `sys.getsizeof` over the closure: the time of each part and
  the object count;
- guppy3's `hpy().heap()`: its time (with `h.count` and `h.size` read), the count and the size it reports.

It then frees what these made (a `gc.collect()` clears the tools' own cycles while the cycles variant's garbage rings
are still held by a variable; that variable is deleted after it, so the garbage stays), prints READY and blocks on
stdin. The script checks the free disk against the process's dumpable mappings, dumps it with gcore, and runs on the
core (wall time: median over --runs; peak RSS: maximum, from /usr/bin/time):

- `heapscope summary --no-cache --format json CORE`;
- the full analysis, `heapscope report --no-cache CORE -o FILE.html` (garbage, cycles, dominators, paths, leaks,
  waste), and with --phases the per-phase table of crates/analysis/examples/phases.rs;
- `heapscope index CORE -o SNAP`, then one query on the saved snapshot (a histogram by type).

Then pystack against `heapscope stacks --locals` on a core of about 1.6 GB (--pystack-gb: one of the cores above
when one is within 20 % of that size, else a plain core made for it, of about 19 M objects at the defaults), and
`heapscope summary --no-cache` on a `zstd -T0 -3` copy of one core (--zst-objects) against the raw core, with
`zstd -d -T0` alone. It prints, per core, the ratios of the in-process tools' time to `summary`'s and the objects
each one saw; the targets of the issue with the measured value and PASS or MISS (peak RSS per object "above the core
pages mapped" is measured as (peak RSS - the whole core file's size) / objects); one fixed-width table to paste into
the issue; and a footer with the CPU count, the load average before and after, and the heapscope binary. Every
command's stderr is kept under the bench dir, in logs/, and its notable lines printed.

    python3 tools/bench/scale.py [--objects 1000000 5000000 10000000] [--cycles-objects 5000000] [--runs 1]
                                 [--heapscope PATH] [--phases PATH] [--pystack-gb 1.6] [--zst-objects 5000000]
                                 [--skip-pystack] [--skip-zst] [--delete] [--no-build]

Without --heapscope (and without --no-build) it builds heapscope with `cargo build --release` into
$CARGO_TARGET_DIR (else target/). --phases takes the binary of `cargo build --release -p heapscope-analysis
--example phases`; without it the phase tables are skipped. `--cycles-objects 0` skips the cycles variant.

Cores, snapshots, reports and logs go to $HEAPSCOPE_BENCH_DIR (default /tmp/heapscope-bench): made once and reused
(with the in-process figures saved beside each core as CORE.inproc.json), never committed; --delete removes them at
the end. The venv (bench dir/venv-scale) is made with the pyenv interpreter and pip-installs numpy, guppy3 and pystack
from PyPI, each pinned by version and sha256 (`pip install --require-hashes`); it is never a test dependency.

Needs: pyenv CPython 3.12.1, network access to PyPI for the first run, gdb's gcore, zstd, /usr/bin/time and
permission to ptrace the workload (root, or ptrace_scope 0). Memory: the 10 M-object workload peaks at about 1.4 GiB
(the closure and guppy3 included), the 19 M-object one at about 2.6 GiB, and `heapscope report` at about 3.5 GiB on
10 M objects. Disk, at the defaults: cores of about 0.19, 0.46 and 0.85 GiB for 1 M, 5 M and 10 M objects, 0.5 GiB
for the cycles core and 1.5 GiB for pystack's; snapshots of about 80 % of their core; while the .zst is measured,
the .zst (a tenth of the 5 M core) and heapscope's decompressed copy in $TMPDIR (the whole core); the venv (about
150 MB): about 6 GB in all. A full run at the defaults takes about 10 minutes on 2 CPUs.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from analysis import load_average  # noqa: E402
from heap_summary import REPO, log, python_exe, timed  # noqa: E402
from stacks_vs_pystack import PYSTACK_VERSION  # noqa: E402

OUT = Path(os.environ.get("HEAPSCOPE_BENCH_DIR", "/tmp/heapscope-bench"))
PYTHON_VERSION = "3.12.1"

# PyPI wheels for the venv, each pinned by version and sha256 (cp312, manylinux x86-64). numpy's is the one of
# tools/fixtures/wheels.json; guppy3's and pystack's have no dependencies.
WHEELS_JSON = REPO / "tools" / "fixtures" / "wheels.json"
GUPPY3_VERSION = "3.1.7"
GUPPY3_SHA256 = "c6e80c92568d2fdff2f010b209eed50be04794ac7d26ecbeda8762b451a2b56a"
PYSTACK_SHA256 = "1d9bea3833fe74acece47a904bf1728a01daafae44cb1432e4c94c5312d6869b"

QUERY = "SELECT type, count(*) AS n, sum(size) AS bytes FROM objects GROUP BY type ORDER BY bytes DESC LIMIT 5"

# Objects per record of the workload, measured (the gc closure's count over the records made) on 3.12.1: a record is
# an instance with a dict (its str, int, float, and tuple of two ints), a slotted instance (its str, float, and list
# with an int), a dict holding both (and a float), a sixteenth of a materialized instance dict, a hundredth of a list
# in `buckets`, and a 71st of a numpy array.
OBJECTS_PER_RECORD = 14.09
# The cycles variant makes a tenth more records, as garbage.
GARBAGE_SHARE = 0.1

WORKLOAD = r'''
import gc, json, resource, sys, time
gc.disable()
import numpy as np
import guppy
from guppy import hpy

N = int(sys.argv[1])
CYCLES = sys.argv[2] == "cycles"
RING = 10           # instances per ring (cycles variant)
ARRAY_EVERY = 71    # records per numpy array: one array per about 1,000 objects
BIG_EVERY = 4       # every 4th array owns a 4 KiB buffer, the others 64 bytes
CHUNK = 10_000      # objects per gc.get_referents call


class Item:
    def __init__(self, i):
        self.name = "item-%d" % i
        self.value = i * 1000003
        self.score = i / 7.0
        self.pair = (i, -i)
        self.next = None


class Slotted:
    __slots__ = ("key", "weight", "items")

    def __init__(self, key, weight, items):
        self.key = key
        self.weight = weight
        self.items = items


def record(i, arrays):
    item = Item(i)
    if i % 16 == 0:
        vars(item)  # a materialized instance dict
    slotted = Slotted("slot-%d" % i, i * 0.5, [item, i + 7])
    d = {"item": item, "slot": slotted, "n": i * 3.0}
    if CYCLES:
        slotted.items.append(d)  # d -> slotted -> list -> d
    if i % ARRAY_EVERY == 0:
        k = i // ARRAY_EVERY
        arrays.append(np.full(512, float(i)) if k % BIG_EVERY == 0 else np.arange(i, i + 8))
    return d


def rings(ds):
    for k in range(0, len(ds), RING):
        ring = [d["item"] for d in ds[k : k + RING]]
        for a, b in zip(ring, ring[1:] + ring[:1]):
            a.next = b


def closure():
    """CPython's own view: every tracked object, then everything they reference, then sys.getsizeof of each."""
    t0 = time.perf_counter()
    objs = gc.get_objects()
    t1 = time.perf_counter()
    tracked = len(objs)
    seen = set(map(id, objs))
    found = objs
    level = objs
    while level:
        nxt = []
        for k in range(0, len(level), CHUNK):
            for r in gc.get_referents(*level[k : k + CHUNK]):
                i = id(r)
                if i not in seen:
                    seen.add(i)
                    nxt.append(r)
        found.extend(nxt)
        level = nxt
    t2 = time.perf_counter()
    try:
        nbytes = sum(map(sys.getsizeof, found))
    except Exception:
        nbytes = 0
        for o in found:
            try:
                nbytes += sys.getsizeof(o)
            except Exception:
                pass
    t3 = time.perf_counter()
    count = len(found)
    return {"get_objects_s": t1 - t0, "tracked": tracked, "referents_s": t2 - t1, "getsizeof_s": t3 - t2,
            "closure_s": t3 - t0, "closure_objects": count, "closure_bytes": nbytes}


def guppy_heap():
    hp = hpy()
    t0 = time.perf_counter()
    h = hp.heap()
    t1 = time.perf_counter()
    count, size = h.count, h.size
    t2 = time.perf_counter()
    return {"guppy_heap_s": t1 - t0, "guppy_s": t2 - t0, "guppy_count": count, "guppy_size": size}


t0 = time.perf_counter()
arrays = []
records = [record(i, arrays) for i in range(N)]
lost = []
if CYCLES:
    rings(records)
    lost = [record(N + i, arrays) for i in range(N // 10)]
    rings(lost)
by_name = {d["item"].name: d for d in records[: N // 2]}
buckets = [records[i : i + 100] for i in range(0, N, 100)]
built = time.perf_counter() - t0

result = {"records": N, "garbage_records": len(lost), "build_s": built, "python": sys.version.split()[0],
          "numpy": np.__version__, "guppy3": getattr(guppy, "__version__", "?")}
result.update(closure())
result.update(guppy_heap())
gc.collect()  # the closure's and guppy's own cycles; the garbage rings are still held by `lost`
del lost  # now they are unreachable: the garbage the dump must hold (no collection after this)
result["maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(result), flush=True)
print("READY", flush=True)
sys.stdin.read()
'''


# ---------------------------------------------------------------------------------------------------------------- venv

def requirements():
    numpy = json.loads(WHEELS_JSON.read_text())["packages"]["numpy"]
    return (f"numpy=={numpy['version']} --hash=sha256:{numpy['wheels']['cp312']['sha256']}\n"
            f"guppy3=={GUPPY3_VERSION} --hash=sha256:{GUPPY3_SHA256}\n"
            f"pystack=={PYSTACK_VERSION} --hash=sha256:{PYSTACK_SHA256}\n")


def venv():
    """The private venv's python, made once (and again when the pins change)."""
    env = OUT / "venv-scale"
    python, req, stamp = env / "bin" / "python", env / "requirements.txt", env / "installed.txt"
    text = requirements()
    if python.exists() and stamp.exists() and stamp.read_text() == text:
        return python
    log(f"making the venv {env}: numpy, guppy3 {GUPPY3_VERSION} and pystack {PYSTACK_VERSION} from PyPI, pinned")
    if not python.exists():
        subprocess.run([str(python_exe(PYTHON_VERSION)), "-m", "venv", str(env)], check=True)
    req.write_text(text)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--only-binary", ":all:",
                    "--require-hashes", "-r", str(req)], check=True)
    stamp.write_text(text)
    return python


# --------------------------------------------------------------------------------------------------------------- cores

def free_disk(path):
    return shutil.disk_usage(path).free


def wait_for_workload(proc):
    """The figures a benchmark workload prints as one JSON line before READY, once it has printed READY."""
    line = proc.stdout.readline()
    try:
        figures = json.loads(line)
    except json.JSONDecodeError:
        raise SystemExit(f"workload did not print its measurements: {line!r}") from None
    ready = proc.stdout.readline()
    if ready.strip() != "READY":
        raise SystemExit(f"workload did not reach READY: {ready!r}")
    return figures


def dumpable_bytes(pid):
    """What gcore writes at most under the default coredump_filter (0x33): every mapping but the read-only and
    executable file mappings (of which it writes the ELF headers)."""
    total = 0
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            parts = line.split()
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            perms, path = parts[1], parts[5] if len(parts) > 5 else ""
            if "r" not in perms:
                continue
            if path.startswith("/") and "w" not in perms:
                continue
            total += hi - lo
    return total


def check_disk(need, what):
    free = free_disk(OUT)
    margin = 1 << 30
    if need + margin > free:
        raise SystemExit(f"not enough disk for {what}: needs up to {need / 2**30:.2f} GiB (+1 GiB margin), "
                         f"{free / 2**30:.2f} GiB free under {OUT} (df)")
    log(f"disk: {what} needs up to {need / 2**30:.2f} GiB, {free / 2**30:.1f} GiB free")


def records_for(variant, objects):
    share = 1 + GARBAGE_SHARE if variant == "cycles" else 1
    return round(objects / (OBJECTS_PER_RECORD * share))


def make_core(python, variant, objects):
    """(core, in-process figures): OUT/scale-VARIANT-OBJECTS.core and its .inproc.json, made once.

    Like heap_summary.dump_workload, but the workload prints its own measurements before READY, and the free disk is
    checked against the process's mappings before gcore runs."""
    OUT.mkdir(parents=True, exist_ok=True)
    core = OUT / f"scale-{variant}-{objects}.core"
    inproc = core.with_suffix(".inproc.json")
    if core.exists() and inproc.exists():
        log(f"reusing {core}")
        return core, json.loads(inproc.read_text())
    core.unlink(missing_ok=True)
    script = core.with_suffix(".py")
    script.write_text(WORKLOAD)
    records = records_for(variant, objects)
    log(f"starting the workload: {variant}, {records} records (~{objects} objects); free memory "
        f"{meminfo('MemAvailable') / 2**30:.1f} GiB")
    proc = subprocess.Popen([str(python), str(script), str(records), variant], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        figures = wait_for_workload(proc)
        log(f"in-process: build {figures['build_s']:.1f} s, closure {figures['closure_s']:.1f} s "
            f"({figures['closure_objects']} objects), guppy3 {figures['guppy_s']:.1f} s ({figures['guppy_count']})")
        check_disk(dumpable_bytes(proc.pid), f"the core of {core.name}")
        prefix = core.with_suffix("")
        start = time.perf_counter()
        subprocess.run(["gcore", "-o", str(prefix), str(proc.pid)], check=True, capture_output=True, timeout=1800)
        figures["gcore_s"] = time.perf_counter() - start
        inproc.write_text(json.dumps(figures))
        Path(f"{prefix}.{proc.pid}").rename(core)
        log(f"dumped {core.name}: {core.stat().st_size / 2**20:.0f} MiB in {figures['gcore_s']:.1f} s")
    finally:
        proc.kill()
        proc.wait()
    return core, figures


def meminfo(field):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


# ------------------------------------------------------------------------------------------------------------ commands

def run(cmd, runs, log_name):
    """heap_summary.timed on `cmd`, its stderr appended to OUT/logs/LOG_NAME.stderr (with the exit status of each run):
    (stdout, median seconds, max peak KiB, [notable stderr lines])."""
    logs = OUT / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    errfile = logs / f"{log_name}.stderr"
    errfile.write_text("")
    wrapped = ["sh", "-c", '"$@" 2>>"$0"; rc=$?; echo "exit status $rc" >>"$0"; exit $rc', str(errfile),
               *map(str, cmd)]
    out, secs, rss = timed(wrapped, runs)
    lines = [x for x in errfile.read_text().splitlines() if x.strip() and x != "exit status 0"]
    return out, statistics.median(secs), max(rss), lines


def show_stderr(what, lines):
    for line in lines[:6]:
        print(f"    {what} stderr: {line[:200]}")
    if len(lines) > 6:
        print(f"    {what} stderr: … {len(lines) - 6} more lines")


def mib(b):
    return b / 2**20


def measure(core, figures, args):
    """Every heapscope measure on one core, printed as it goes; a dict of the figures."""
    hs, name = args.heapscope, core.stem
    size = core.stat().st_size
    m = {"name": name, "core_bytes": size, "inproc": figures}
    print(f"\n== {core.name}: {mib(size):.0f} MiB; load average {load_average()}", flush=True)
    inp = figures
    print(f"  in-process, {inp['records']} records ({inp['garbage_records']} as garbage) built in "
          f"{inp['build_s']:.1f} s, Python {inp['python']}, numpy {inp['numpy']}, guppy3 {inp['guppy3']}:")
    print(f"    gc closure: gc.get_objects() {inp['get_objects_s']:.2f} s ({inp['tracked']:,} tracked), "
          f"get_referents closure {inp['referents_s']:.2f} s, getsizeof {inp['getsizeof_s']:.2f} s: "
          f"{inp['closure_s']:.2f} s, {inp['closure_objects']:,} objects, {mib(inp['closure_bytes']):.0f} MiB")
    print(f"    guppy3 hpy().heap(): {inp['guppy_s']:.2f} s (heap() {inp['guppy_heap_s']:.2f} s), "
          f"h.count {inp['guppy_count']:,}, h.size {mib(inp['guppy_size']):.0f} MiB; "
          f"workload peak RSS {inp['maxrss_kib'] / 2**20:.2f} GiB")

    def row(what, secs, kib, extra="", per_object=True):
        per = f"{(kib * 1024 - size) / m['objects']:7.1f} B/object above the core" if per_object else ""
        print(f"  {what:34} {secs:8.2f} s {kib / 1024:9.0f} MiB peak  {per:36}  {extra}".rstrip(), flush=True)

    out, s, k, err = run([hs, "summary", "--no-cache", "--format", "json", core], args.runs, f"{name}-summary")
    report = json.loads(out)
    m["objects"] = report["objects"]["count"]
    m["summary"] = (s, k)
    row("summary --no-cache", s, k, f"{m['objects']:,} objects, {report['references']:,} references, "
        f"{report['errors']} errors")
    show_stderr("summary", err)

    html = OUT / f"{name}-report.html"
    _, s, k, err = run([hs, "report", "--no-cache", core, "-o", html], args.runs, f"{name}-report")
    m["report"] = (s, k)
    row("report --no-cache (full analysis)", s, k, f"{mib(html.stat().st_size):.1f} MiB of HTML")
    show_stderr("report", err)
    html.unlink(missing_ok=True)

    if args.phases:
        print(f"  phases ({args.phases}):", flush=True)
        out, s, k, err = run([args.phases, core], 1, f"{name}-phases")
        for line in out.splitlines():
            print(f"    | {line}")
        print(f"    phases process: {s:.2f} s wall, peak RSS {k / 1024:.0f} MiB")
        show_stderr("phases", err)
        m["phases"] = (s, k)

    snap = core.with_suffix(".heapscope")
    snap.unlink(missing_ok=True)
    _, s, k, err = run([hs, "index", core, "-o", snap], args.runs, f"{name}-index")
    m["index"] = (s, k)
    m["snapshot_bytes"] = snap.stat().st_size
    row("index -o SNAP", s, k, f"snapshot {mib(m['snapshot_bytes']):.0f} MiB")
    show_stderr("index", err)

    out, s, k, err = run([hs, "query", core, "--snapshot", snap, QUERY], args.runs, f"{name}-query")
    m["query"] = (s, k)
    row("query --snapshot SNAP", s, k, per_object=False)
    for line in out.splitlines()[:12]:
        print(f"    | {line}")
    show_stderr("query", err)

    closure, guppy, sm = inp["closure_s"], inp["guppy_s"], m["summary"][0]
    print(f"  ratios: gc closure / summary {closure / sm:.1f}x, guppy3 / summary {guppy / sm:.1f}x; objects seen: "
          f"heapscope {m['objects']:,}, gc closure {inp['closure_objects']:,} "
          f"({m['objects'] - inp['closure_objects']:+,}), guppy3 {inp['guppy_count']:,} "
          f"({inp['guppy_count'] / m['objects']:.0%} of heapscope's)", flush=True)
    return m


def pystack_objects(rows, want):
    """The object count (in millions) of a plain core of about `want` bytes: the core's size grows linearly with the
    objects, fitted on the two biggest plain cores measured (else 1 GB per 10 M objects)."""
    plain = sorted((m for m in rows if m["name"].startswith("scale-plain-")), key=lambda m: m["objects"])
    requested = lambda m: int(m["name"].rsplit("-", 1)[1])
    if len(plain) >= 2:
        a, b = plain[-2], plain[-1]
        per = (b["core_bytes"] - a["core_bytes"]) / (requested(b) - requested(a))
        n = requested(b) + (want - b["core_bytes"]) / per
    else:
        n = want / 100
    return max(1, round(n / 1e6)) * 1_000_000


def pystack_vs_stacks(python, core, args):
    """(heapscope (s, KiB, note), pystack (s, KiB, note)) for `stacks --locals` and `pystack core --locals`."""
    pystack = python.parent / "pystack"
    print(f"\n== pystack {PYSTACK_VERSION} vs heapscope stacks --locals on {core.name} "
          f"({core.stat().st_size / 1e9:.2f} GB)", flush=True)
    res = {}
    for tool, cmd in (("heapscope", [args.heapscope, "stacks", "--locals", core]),
                      ("pystack", [pystack, "core", core, "--locals", "--no-color"])):
        try:
            out, s, k, err = run(cmd, args.runs, f"{core.stem}-{tool}-stacks")
        except SystemExit as e:
            print(f"  {tool}: FAILED: {str(e)[:600]}")
            res[tool] = None
            continue
        frames = sum(1 for line in out.splitlines() if "File \"" in line or line.lstrip().startswith("File "))
        res[tool] = (s, k)
        print(f"  {tool:10} {s:8.2f} s {k / 1024:9.0f} MiB peak  ({len(out.splitlines())} lines of output, "
              f"{frames} frame lines)", flush=True)
        show_stderr(tool, err)
    if res.get("heapscope") and res.get("pystack"):
        print(f"  pystack / heapscope: {res['pystack'][0] / res['heapscope'][0]:.1f}x the time, "
              f"{res['pystack'][1] / res['heapscope'][1]:.1f}x the peak RSS")
    return res


def zst(core, args):
    """zstd -T0 -3 of `core`, heapscope summary on it against the raw core, and zstd -d -T0 alone."""
    z = Path(f"{core}.zst")
    size = core.stat().st_size
    print(f"\n== compressed core: {core.name} ({mib(size):.0f} MiB)", flush=True)
    # The .zst (at most about half the core), and the temporary file heapscope decompresses it into (in $TMPDIR,
    # taken to be on the same disk): the whole core.
    check_disk(size // 2 + size, f"{z.name} and its decompressed copy")
    try:
        _, cs, _, _ = run(["zstd", "-q", "-f", "-T0", "-3", core, "-o", z], 1, f"{core.stem}-zstd")
        zsize = z.stat().st_size
        print(f"  zstd -T0 -3: {cs:.2f} s, {mib(zsize):.0f} MiB ({zsize / size:.1%} of the core)")
        _, ds, dk, _ = run(["zstd", "-q", "-d", "-T0", "-f", z, "-o", "/dev/null"], args.runs, f"{core.stem}-unzstd")
        print(f"  zstd -d -T0 alone: {ds:.2f} s, {dk / 1024:.0f} MiB peak, {mib(size):.0f} MiB decompressed")
        out, zs, zk, err = run([args.heapscope, "summary", "--no-cache", "--format", "json", z], args.runs,
                               f"{core.stem}-summary-zst")
        zobjects = json.loads(out)["objects"]["count"]
        _, rs, rk, _ = run([args.heapscope, "summary", "--no-cache", "--format", "json", core], args.runs,
                           f"{core.stem}-summary-raw")
        print(f"  summary on .zst: {zs:.2f} s, {zk / 1024:.0f} MiB peak ({zobjects:,} objects)")
        print(f"  summary on raw:  {rs:.2f} s, {rk / 1024:.0f} MiB peak; the .zst costs {zs - rs:+.2f} s")
        show_stderr("summary .zst", err)
        return {"name": core.stem, "raw_bytes": size, "zst_bytes": zsize, "compress_s": cs, "decompress_s": ds,
                "zst": (zs, zk), "raw": (rs, rk)}
    finally:
        z.unlink(missing_ok=True)


# ------------------------------------------------------------------------------------------------------------- targets

def verdict(ok, miss):
    return "PASS" if ok else f"MISS {miss}"


def targets(rows):
    """[(target, measured, verdict)] on the biggest plain core (and the smallest, for growth)."""
    plain = [m for m in rows if m["name"].startswith("scale-plain-")]
    if not plain:
        return [], ""
    big = max(plain, key=lambda m: m["objects"])
    at = f"{big['objects'] / 1e6:.2f} M objects"
    note = "" if big["objects"] >= 9_000_000 else f" (biggest core: {at}, not 10 M)"
    out = []
    for what, label, limit in (("summary", "summary, 10 M objects <= 3 s", 3),
                               ("report", "full analysis (report), 10 M <= 10 s", 10),
                               ("query", "query on indexed 10 M <= 1 s", 1)):
        s = big[what][0]
        out.append((label, f"{s:.2f} s at {at}", verdict(s <= limit, f"by {s - limit:.2f} s (x{s / limit:.2f})")))
    for what in ("summary", "report"):
        per = (big[what][1] * 1024 - big["core_bytes"]) / big["objects"]
        out.append((f"peak RSS, {what} <= 60 B/object above core", f"{per:.1f} B/object at {at}",
                    verdict(per <= 60, f"by {per - 60:.1f} B/object (x{per / 60:.2f})")))
    small = min(plain, key=lambda m: m["objects"])
    if small is not big:
        ratio = big["objects"] / small["objects"]
        allowed = 11 * ratio / 10
        for what in ("summary", "report"):
            grow = big[what][0] / small[what][0]
            out.append((f"growth, {what}: time ratio <= 1.1 x objects ratio",
                        f"{grow:.2f}x for {ratio:.2f}x the objects (allowed {allowed:.2f}x)",
                        verdict(grow <= allowed, f"by {grow - allowed:.2f}x")))
    return out, note


# --------------------------------------------------------------------------------------------------------------- table

def fmt_table(header, rows):
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                                       for i, (c, w) in enumerate(zip(r, widths))) + " |"
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])


def final_table(rows, stacks, zrow, tg, note):
    header = ["measure", *[m["name"].removeprefix("scale-") for m in rows]]

    def per_object(m, what):
        return f"{(m[what][1] * 1024 - m['core_bytes']) / m['objects']:.0f}"

    spec = [
        ("core MiB", lambda m: f"{mib(m['core_bytes']):.0f}"),
        ("objects, heapscope", lambda m: f"{m['objects']:,}"),
        ("objects, gc closure", lambda m: f"{m['inproc']['closure_objects']:,}"),
        ("objects, guppy3 h.count", lambda m: f"{m['inproc']['guppy_count']:,}"),
        ("summary s", lambda m: f"{m['summary'][0]:.2f}"),
        ("summary peak MiB", lambda m: f"{m['summary'][1] / 1024:.0f}"),
        ("summary B/object above core", lambda m: per_object(m, "summary")),
        ("full analysis (report) s", lambda m: f"{m['report'][0]:.2f}"),
        ("full analysis peak MiB", lambda m: f"{m['report'][1] / 1024:.0f}"),
        ("full analysis B/object above core", lambda m: per_object(m, "report")),
        ("index s", lambda m: f"{m['index'][0]:.2f}"),
        ("index peak MiB", lambda m: f"{m['index'][1] / 1024:.0f}"),
        ("snapshot MiB", lambda m: f"{mib(m['snapshot_bytes']):.0f}"),
        ("query on snapshot s", lambda m: f"{m['query'][0]:.2f}"),
        ("query peak MiB", lambda m: f"{m['query'][1] / 1024:.0f}"),
        ("in-process gc closure s (+getsizeof)", lambda m: f"{m['inproc']['closure_s']:.2f}"),
        ("  of which get_objects / referents / getsizeof", lambda m: "{:.1f} / {:.1f} / {:.1f}".format(
            m["inproc"]["get_objects_s"], m["inproc"]["referents_s"], m["inproc"]["getsizeof_s"])),
        ("in-process guppy3 hpy().heap() s", lambda m: f"{m['inproc']['guppy_s']:.2f}"),
        ("gc closure / summary", lambda m: f"{m['inproc']['closure_s'] / m['summary'][0]:.1f}x"),
        ("guppy3 / summary", lambda m: f"{m['inproc']['guppy_s'] / m['summary'][0]:.1f}x"),
    ]
    if any("phases" in m for m in rows):
        spec.append(("phases example s (one process)", lambda m: f"{m['phases'][0]:.2f}" if "phases" in m else "-"))
    print("\n" + fmt_table(header, [[what, *[f(m) for m in rows]] for what, f in spec]))
    print("(B/object above core = (peak RSS - the whole core file's size) / heapscope's object count: the core file's "
          "size stands for the core pages mapped)")
    if tg:
        print("\n" + fmt_table(["target (issue 13, 2 CPUs)", "measured", "verdict"], tg))
        if note:
            print(f"(targets{note})")
    extra = []
    if stacks:
        core, res = stacks
        for tool in ("heapscope", "pystack"):
            r = res.get(tool)
            what = f"{tool} stacks --locals" if tool == "heapscope" else f"pystack {PYSTACK_VERSION} core --locals"
            extra.append([f"{what}, {core.stat().st_size / 1e9:.2f} GB core",
                          f"{r[0]:.2f} s" if r else "failed", f"{r[1] / 1024:.0f} MiB" if r else "-"])
    if zrow:
        z = zrow
        extra.append([f"zstd -T0 -3 of {z['name']} ({mib(z['raw_bytes']):.0f} -> {mib(z['zst_bytes']):.0f} MiB)",
                      f"{z['compress_s']:.2f} s", "-"])
        extra.append(["zstd -d -T0 alone", f"{z['decompress_s']:.2f} s", "-"])
        extra.append(["summary on .zst", f"{z['zst'][0]:.2f} s", f"{z['zst'][1] / 1024:.0f} MiB"])
        extra.append(["summary on the raw core", f"{z['raw'][0]:.2f} s", f"{z['raw'][1] / 1024:.0f} MiB"])
    if extra:
        print("\n" + fmt_table(["measure", "wall", "peak RSS"], extra))


# ---------------------------------------------------------------------------------------------------------------- main

def build():
    log("building heapscope (cargo build --release -p heapscope --bin heapscope)")
    subprocess.run(["cargo", "build", "--release", "-p", "heapscope", "--bin", "heapscope"], cwd=REPO, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--objects", type=int, nargs="*", default=[1_000_000, 5_000_000, 10_000_000],
                    help="approximate object counts of the plain cores")
    ap.add_argument("--cycles-objects", type=int, default=5_000_000,
                    help="approximate object count of the cycles core (garbage included); 0 skips it")
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    ap.add_argument("--heapscope", help=f"the binary (default {target / 'release' / 'heapscope'}, built first)")
    ap.add_argument("--phases", help="the phases example binary: print its per-phase table for each core")
    ap.add_argument("--runs", type=int, default=1, help="runs of each command (median wall, max peak RSS)")
    ap.add_argument("--pystack-gb", type=float, default=1.6,
                    help="size of the core for pystack, in GB: the biggest core within 20%% of it, else a plain core "
                         "made with the object count that gives that size (from the bytes per object of the cores "
                         "made)")
    ap.add_argument("--zst-objects", type=int, default=5_000_000, help="the plain core to compress")
    ap.add_argument("--skip-pystack", action="store_true")
    ap.add_argument("--skip-zst", action="store_true")
    ap.add_argument("--delete", action="store_true", help="delete the cores, snapshots and logs at the end")
    ap.add_argument("--no-build", action="store_true", help="use the binary already built")
    args = ap.parse_args()
    if args.heapscope is None:
        args.heapscope = str(target / "release" / "heapscope")
        if not args.no_build:
            build()
    args.heapscope = str(Path(args.heapscope).resolve())
    if not Path(args.heapscope).exists():
        raise SystemExit(f"no heapscope binary at {args.heapscope}")
    if args.phases:
        args.phases = str(Path(args.phases).resolve())
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"heapscope scale benchmark: {os.cpu_count()} CPUs, load average {load_average()}, "
          f"{meminfo('MemAvailable') / 2**30:.1f} GiB memory available, {free_disk(OUT) / 2**30:.0f} GiB disk "
          f"free under {OUT}", flush=True)
    load_before = load_average()
    python = venv()
    jobs = [("plain", n) for n in args.objects]
    if args.cycles_objects:
        jobs.append(("cycles", args.cycles_objects))
    rows, cores = [], []
    for variant, n in jobs:
        core, figures = make_core(python, variant, n)
        cores.append(core)
        rows.append(measure(core, figures, args))

    stacks = None
    if not args.skip_pystack:
        want = args.pystack_gb * 1e9
        near = [c for c in cores if abs(c.stat().st_size - want) <= 0.2 * want]
        if near:
            core = max(near, key=lambda c: c.stat().st_size)
        else:
            core, _ = make_core(python, "plain", pystack_objects(rows, want))
            if core not in cores:
                cores.append(core)
        stacks = (core, pystack_vs_stacks(python, core, args))

    zrow = None
    if not args.skip_zst:
        core, _ = make_core(python, "plain", args.zst_objects)
        if core not in cores:
            cores.append(core)
        zrow = zst(core, args)

    tg, note = targets(rows)
    if tg:
        print("\n== targets (issue 13)")
        for what, measured, v in tg:
            print(f"  {what:50} {measured:55} {v}")
    final_table(rows, stacks, zrow, tg, note)
    print(f"\n{os.cpu_count()} CPUs; load average before {load_before}, after {load_average()}; "
          f"heapscope {args.heapscope}" + (f"; phases {args.phases}" if args.phases else "") +
          f"; workloads under {python} (CPython {PYTHON_VERSION}); wall time median and peak RSS max of "
          f"{args.runs} run(s)")
    if args.delete:
        for core in cores:
            for p in (core, core.with_suffix(".inproc.json"), core.with_suffix(".py"), core.with_suffix(".heapscope")):
                p.unlink(missing_ok=True)
        shutil.rmtree(OUT / "logs", ignore_errors=True)
        log(f"deleted {len(cores)} cores, their snapshots and the logs under {OUT} (the venv stays)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
