#!/usr/bin/env python3
"""`heapscope tasks` at scale (issue 17): a core with 100,000 pending asyncio tasks, `tasks` against `summary`.

A workload under pyenv CPython 3.12.1 runs an event loop in its main thread with 100,000 pending tasks in five big
groups of identical stuck tasks and a few hundred singletons, each several coroutines deep, every one suspended on
something nobody will ever complete:

    group     tasks (default)  coroutine chain, outermost first                          blocked on
    upload    19,940           handle_upload -> send_chunk -> wait_ack                   its own future (holds 128 B)
    consume   19,940           worker -> fetch_job -> Queue.get                          one shared empty asyncio.Queue
    watch     19,940           watch -> wait_signal -> Event.wait                        one shared asyncio.Event
    rpc       19,940           rpc_call -> with_retry -> send_request -> read_response   its own future (holds 128 B)
    deep      19,940           level_0 -> level_1 -> ... -> level_5                      its own future
    single_N  1 each (300)     single_N -> send_chunk -> wait_ack                        its own future

so `heapscope tasks` should find 100,000 tasks in 305 groups. Once every task is suspended, a callback of the loop
measures the in-process equivalent of `tasks` in a forked child (so that the dumped heap stays as it was: reading a
coroutine's frame makes a frame object on 3.11+): `asyncio.all_tasks()`, then for each task the chain of coroutines
through `cr_await` (`gi_yieldfrom` for a generator) with each one's qualified name, file and `f_lineno`, grouped by
stack; the walk is timed twice, since the first one also makes the frame objects and copies the pages it touches.
The callback prints the figures as one JSON line, then READY, and blocks reading stdin; the script dumps the process
with gcore and runs on the core, best wall time of --runs each, with the peak RSS from /usr/bin/time:

- `heapscope summary --no-cache --format json CORE`;
- `heapscope tasks --no-cache --format json CORE`, when the binary has a `tasks` command (it says so otherwise and
  still prints summary's time; a `tasks` that exits other than 0 or 2 is reported with its first stderr lines); its
  task and group counts are checked against the workload's;
- `heapscope tasks --no-cache CORE`, the default table (the same work, without writing every task as JSON).

It prints them, the ratios tasks / summary (the issue's target: at most 1.0) and the in-process figures beside them.
Benchmarks print figures; they are not tests.

    python3 tools/bench/tasks.py [--tasks 100000] [--groups 5] [--singletons 300] [--runs 3]
                                 [--heapscope PATH] [--no-build] [--python 3.12.1] [--keep]

Without --heapscope (and without --no-build) it builds heapscope with `cargo build --release -p heapscope --bin
heapscope` into $CARGO_TARGET_DIR (else target/). The core (about 190 MiB at the defaults), the workload script and
the figures go to $HEAPSCOPE_BENCH_DIR (default /tmp/heapscope-bench) and are deleted at the end unless --keep (then
a later run reuses the core). Needs pyenv CPython 3.12.1 (or --python X.Y.Z), gdb's gcore, /usr/bin/time and
permission to ptrace the workload (root, or ptrace_scope 0). The workload peaks at about 190 MiB, 1.3 M objects.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from analysis import load_average  # noqa: E402
from heap_summary import REPO, log, python_exe  # noqa: E402
from scale import dumpable_bytes, wait_for_workload  # noqa: E402

OUT = Path(os.environ.get("HEAPSCOPE_BENCH_DIR", "/tmp/heapscope-bench"))
DEEP = 6  # coroutines in the `deep` group's chain

WORKLOAD = r'''
import gc
gc.disable()
import asyncio, json, os, resource, sys, time, types

N_TASKS, N_GROUPS, N_SINGLE = (int(a) for a in sys.argv[1:4])
PER_GROUP = (N_TASKS - N_SINGLE) // N_GROUPS
BUF = 128
KEEP = []               # every task, as a server keeps them
FUTURES = []            # the futures nobody completes


async def wait_ack(ack):
    attempts = 1
    return await ack, attempts


async def send_chunk(buf, ack):
    sent = len(buf)
    return sent, await wait_ack(ack)


async def handle_upload(idx, ack):
    buf = bytearray(BUF)
    buf[0] = idx & 0xff
    return await send_chunk(buf, ack)


async def fetch_job(queue):
    return await queue.get()


async def worker(queue, idx):
    handled = 0
    while True:
        job = await fetch_job(queue)
        handled += idx + len(job)


async def wait_signal(event):
    await event.wait()
    return 'signalled'


async def watch(event, idx):
    await wait_signal(event)
    return idx


async def read_response(fut):
    return await fut


async def send_request(payload, fut):
    return len(payload), await read_response(fut)


async def with_retry(payload, fut):
    for attempt in range(3):
        return attempt, await send_request(payload, fut)


async def rpc_call(idx, fut):
    payload = bytes(BUF)
    return await with_retry(payload, fut)

%(deep)s
%(singles)s

GROUPS = [
    ('upload', lambda i, q, e, f: handle_upload(i, f)),
    ('consume', lambda i, q, e, f: worker(q, i)),
    ('watch', lambda i, q, e, f: watch(e, i)),
    ('rpc', lambda i, q, e, f: rpc_call(i, f)),
    ('deep', lambda i, q, e, f: level_0(f)),
]


def _chain(coro):
    """The coroutine chain of a task, outermost first: (qualname, file, f_lineno) of each."""
    out = []
    o = coro
    while isinstance(o, (types.CoroutineType, types.GeneratorType)):
        f = o.cr_frame if isinstance(o, types.CoroutineType) else o.gi_frame
        if f is None:
            break
        code = f.f_code
        out.append((getattr(code, 'co_qualname', code.co_name), code.co_filename, f.f_lineno))
        o = o.cr_await if isinstance(o, types.CoroutineType) else o.gi_yieldfrom
    return out


def _walk(loop):
    t0 = time.perf_counter()
    tasks = asyncio.all_tasks(loop)
    t1 = time.perf_counter()
    groups = {}
    for t in tasks:
        stack = tuple(_chain(t.get_coro()))
        groups[stack] = groups.get(stack, 0) + 1
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, len(tasks), groups


def _in_child(loop):
    """The in-process figures, measured in a forked child: the dumped heap stays as it is."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            all_s, walk_s, n, groups = _walk(loop)
            _, again_s, _, _ = _walk(loop)
            sizes = sorted(groups.values(), reverse=True)
            doc = {'all_tasks_s': all_s, 'walk_s': walk_s, 'walk_again_s': again_s, 'tasks': n,
                   'groups': len(groups), 'largest_groups': sizes[:N_GROUPS],
                   'deepest': max(len(s) for s in groups),
                   'child_maxrss_kib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
            os.write(w, json.dumps(doc).encode())
        finally:
            os._exit(0)
    os.close(w)
    data = b''
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return json.loads(data)


def _measure_and_block(loop, built_s):
    pending = [t for t in KEEP if not t.done()]
    # waiting on a future (reading cr_frame here would make frame objects in the dumped heap)
    suspended = sum(1 for t in pending if t._fut_waiter is not None)
    figures = {'python': sys.version.split()[0], 'build_s': built_s, 'pending': len(pending),
               'suspended': suspended, 'per_group': PER_GROUP, 'singletons': N_SINGLE,
               'maxrss_kib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    figures.update(_in_child(loop))
    print(json.dumps(figures), flush=True)
    print('READY', flush=True)
    sys.stdin.readline()        # the dump is taken here; the loop thread blocks in this callback
    os._exit(0)


def _setup(loop, t0):
    queue = asyncio.Queue()
    event = asyncio.Event()
    for name, make in GROUPS[:N_GROUPS]:
        for i in range(PER_GROUP):
            fut = loop.create_future()
            FUTURES.append(fut)
            KEEP.append(loop.create_task(make(i, queue, event, fut), name='%%s-%%05d' %% (name, i)))
    for i, single in enumerate(SINGLES):
        fut = loop.create_future()
        FUTURES.append(fut)
        KEEP.append(loop.create_task(single(fut), name='single-%%03d' %% i))
    # every task's first step is already in the ready queue: this runs after all of them
    loop.call_soon(lambda: loop.call_soon(_measure_and_block, loop, time.perf_counter() - t0))


loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
loop.call_soon(_setup, loop, time.perf_counter())
loop.run_forever()
'''


def workload_source(singletons):
    deep = "\n\n".join(
        f"async def level_{k}(fut):\n    depth = {k}\n    return depth, await level_{k + 1}(fut)"
        for k in range(DEEP - 1))
    deep += f"\n\n\nasync def level_{DEEP - 1}(fut):\n    return await fut"
    singles = "\n\n".join(
        f"async def single_{i:03d}(ack):\n    return await send_chunk(b'single-{i:03d}', ack)"
        for i in range(singletons))
    singles += "\n\n\nSINGLES = [" + ", ".join(f"single_{i:03d}" for i in range(singletons)) + "]"
    return WORKLOAD % {"deep": deep, "singles": singles}


# ---------------------------------------------------------------------------------------------------------------- core

def make_core(python, args):
    """(core, in-process figures): OUT/tasks-N.core, made once (reused with --keep)."""
    OUT.mkdir(parents=True, exist_ok=True)
    core = OUT / f"tasks-{args.tasks}-{args.groups}-{args.singletons}.core"
    inproc = core.with_suffix(".inproc.json")
    if core.exists() and inproc.exists():
        log(f"reusing {core}")
        return core, json.loads(inproc.read_text())
    core.unlink(missing_ok=True)
    script = core.with_suffix(".py")
    script.write_text(workload_source(args.singletons))
    log(f"starting the workload: {args.tasks} tasks ({args.groups} groups, {args.singletons} singletons) under "
        f"{python}")
    start = time.perf_counter()
    proc = subprocess.Popen([str(python), str(script), str(args.tasks), str(args.groups), str(args.singletons)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        figures = wait_for_workload(proc)
        figures["ready_s"] = time.perf_counter() - start
        need = dumpable_bytes(proc.pid)
        free = shutil.disk_usage(OUT).free
        if need + (1 << 30) > free:
            raise SystemExit(f"not enough disk for the core: up to {need / 2**30:.2f} GiB (+1 GiB margin), "
                             f"{free / 2**30:.2f} GiB free under {OUT}")
        prefix = core.with_suffix("")
        t0 = time.perf_counter()
        subprocess.run(["gcore", "-o", str(prefix), str(proc.pid)], check=True, capture_output=True, timeout=1800)
        figures["gcore_s"] = time.perf_counter() - t0
        Path(f"{prefix}.{proc.pid}").rename(core)
        inproc.write_text(json.dumps(figures))
        log(f"dumped {core.name}: {core.stat().st_size / 2**20:.0f} MiB in {figures['gcore_s']:.1f} s")
    finally:
        proc.kill()
        proc.wait()
    return core, figures


# ------------------------------------------------------------------------------------------------------------ commands

def has_tasks(heapscope):
    """(whether the binary has a `tasks` command, the flags its --help lists)."""
    p = subprocess.run([heapscope, "tasks", "--help"], capture_output=True, text=True)
    return p.returncode == 0, p.stdout


def best(cmd, runs, what):
    """(stdout of the last run, best wall seconds, max peak KiB, [wall seconds of each run], None), or, when a run
    exits other than 0 or 2 (2: some objects could not be decoded), (None, …, "exit N: first stderr lines")."""
    log(f"running {what} {runs}x: {' '.join(map(str, cmd))}")
    secs, rss, out = [], [], ""
    for _ in range(runs):
        start = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-f", "%M", *map(str, cmd)], capture_output=True, text=True,
                           env=dict(os.environ, RUST_BACKTRACE="0"))
        secs.append(time.perf_counter() - start)
        lines = p.stderr.strip().splitlines()
        if p.returncode not in (0, 2):
            notable = list(dict.fromkeys(x for x in lines[:-1] if x.strip() and not x.startswith("Command exited")))
            return None, min(secs), 0, secs, f"exit {p.returncode}: " + " | ".join(notable[:4])[:600]
        rss.append(int(lines[-1]))
        out = p.stdout
    return out, min(secs), max(rss), secs, None


def build():
    log("building heapscope (cargo build --release -p heapscope --bin heapscope)")
    subprocess.run(["cargo", "build", "--release", "-p", "heapscope", "--bin", "heapscope"], cwd=REPO, check=True)


# ---------------------------------------------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=100_000, help="pending tasks in all")
    ap.add_argument("--groups", type=int, default=5, choices=range(1, 6), help="big groups of identical tasks")
    ap.add_argument("--singletons", type=int, default=300, help="tasks with a stack of their own")
    ap.add_argument("--runs", type=int, default=3, help="runs of each command (best wall time, max peak RSS)")
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    ap.add_argument("--heapscope", help=f"the binary (default {target / 'release' / 'heapscope'}, built first)")
    ap.add_argument("--no-build", action="store_true", help="use the binary already built")
    ap.add_argument("--python", default="3.12.1", help="pyenv version to run the workload under")
    ap.add_argument("--keep", action="store_true", help="keep the core (and reuse it next time)")
    args = ap.parse_args()
    if args.singletons >= args.tasks:
        raise SystemExit("--singletons must be fewer than --tasks")
    if args.heapscope is None:
        args.heapscope = str(target / "release" / "heapscope")
        if not args.no_build:
            build()
    args.heapscope = str(Path(args.heapscope).resolve())
    if not Path(args.heapscope).exists():
        raise SystemExit(f"no heapscope binary at {args.heapscope}")
    python = python_exe(args.python)
    load_before = load_average()
    print(f"heapscope tasks benchmark: {os.cpu_count()} CPUs, load average {load_before}, "
          f"{shutil.disk_usage(OUT.parent).free / 2**30:.0f} GiB disk free under {OUT.parent}", flush=True)

    core, inp = make_core(python, args)
    try:
        per, single = inp["per_group"], inp["singletons"]
        expect_groups = args.groups + single
        size = core.stat().st_size
        print(f"\n== {core.name}: {size / 2**20:.0f} MiB, CPython {inp['python']}: {inp['pending']:,} pending tasks "
              f"({inp['suspended']:,} suspended): {args.groups} groups x {per:,} + {single} singletons = "
              f"{expect_groups} distinct stacks, up to {inp['deepest']} coroutines deep; built and started in "
              f"{inp['build_s']:.2f} s, workload peak RSS {inp['maxrss_kib'] / 1024:.0f} MiB, gcore "
              f"{inp['gcore_s']:.1f} s", flush=True)
        print(f"  in-process (a forked child of the workload, before the dump): asyncio.all_tasks() "
              f"{inp['all_tasks_s']:.3f} s ({inp['tasks']:,} tasks); the cr_await chains, grouped by stack: "
              f"{inp['walk_s']:.3f} s the first time (it makes the frame objects), {inp['walk_again_s']:.3f} s "
              f"again; {inp['groups']} stacks, the largest {', '.join(f'{n:,}' for n in inp['largest_groups'])}")
        in_first = inp["all_tasks_s"] + inp["walk_s"]
        in_again = inp["all_tasks_s"] + inp["walk_again_s"]

        out, s_sum, k_sum, all_sum, failed = best(
            [args.heapscope, "summary", "--no-cache", "--format", "json", core], args.runs, "summary")
        if failed:
            raise SystemExit(f"heapscope summary failed on {core}: {failed}")
        objects = json.loads(out)["objects"]["count"]
        print(f"  {'summary --no-cache --format json':40} {s_sum:7.2f} s best of {args.runs} "
              f"({', '.join(f'{s:.2f}' for s in all_sum)})  {k_sum / 1024:6.0f} MiB peak  {objects:,} objects",
              flush=True)

        ok, help_text = has_tasks(args.heapscope)
        s_tasks, s_table, tasks_note = None, None, "not in this build"
        if not ok:
            print(f"  {'tasks --no-cache --format json':40} NOT MEASURED: {args.heapscope} has no `tasks` command "
                  f"(issue 17 is not in this build)")
        else:
            flags = ["--no-cache"] if "--no-cache" in help_text else []
            if not flags:
                print("  (tasks --help lists no --no-cache: run without it)")
            out, s_tasks, k_tasks, all_tasks, failed = best(
                [args.heapscope, "tasks", *flags, "--format", "json", core], args.runs, "tasks")
        if ok and failed:
            print(f"  {'tasks ' + ' '.join(flags) + ' --format json':40} FAILED after {s_tasks:.2f} s: {failed}")
            s_tasks, tasks_note = None, "failed"
        elif ok:
            doc = json.loads(out)
            found = doc.get("count", len(doc.get("tasks", [])))
            groups = len(doc.get("groups", []))
            first = doc.get("groups", [{}])[0] if groups else {}
            print(f"  {'tasks ' + ' '.join(flags) + ' --format json':40} {s_tasks:7.2f} s best of {args.runs} "
                  f"({', '.join(f'{s:.2f}' for s in all_tasks)})  {k_tasks / 1024:6.0f} MiB peak  {found:,} tasks "
                  f"in {groups} groups (expected {inp['pending']:,} in {expect_groups}); largest group "
                  f"{first.get('count', '?')}", flush=True)
            if found != inp["pending"] or groups != expect_groups:
                print(f"  WARNING: tasks found {found:,} in {groups} groups, the workload had {inp['pending']:,} "
                      f"in {expect_groups}")
            # The default output, a table: the same work without writing every task and generator as JSON.
            out, s_table, k_table, all_table, failed = best(
                [args.heapscope, "tasks", *flags, core], args.runs, "tasks (table)")
            if failed:
                print(f"  {'tasks ' + ' '.join(flags) + ' (table)':40} FAILED after {s_table:.2f} s: {failed}")
                s_table = None
            else:
                print(f"  {'tasks ' + ' '.join(flags) + ' (table)':40} {s_table:7.2f} s best of {args.runs} "
                      f"({', '.join(f'{s:.2f}' for s in all_table)})  {k_table / 1024:6.0f} MiB peak  "
                      f"{len(out.encode()) / 2**20:.1f} MiB of output; first line: {out.splitlines()[0]}", flush=True)

        print("\n| measure | wall | peak RSS |\n|---|---:|---:|")
        print(f"| summary --no-cache | {s_sum:.2f} s | {k_sum / 1024:.0f} MiB |")
        if s_tasks is not None:
            print(f"| tasks --no-cache --format json | {s_tasks:.2f} s | {k_tasks / 1024:.0f} MiB |")
            if s_table is not None:
                print(f"| tasks --no-cache (table) | {s_table:.2f} s | {k_table / 1024:.0f} MiB |")
        else:
            print(f"| tasks --no-cache --format json | {tasks_note} | - |")
        print(f"| in-process: all_tasks() + cr_await chains (first walk) | {in_first:.3f} s | - |")
        print(f"| in-process: the same again | {in_again:.3f} s | - |")
        if s_tasks is not None:
            ratio = s_tasks / s_sum
            print(f"\ntasks --format json / summary: {ratio:.2f} (target <= 1.00: {'PASS' if ratio <= 1 else 'MISS'}); "
                  f"tasks / in-process first walk: {s_tasks / in_first:.1f}x")
            if s_table is not None:
                ratio = s_table / s_sum
                print(f"tasks (table) / summary: {ratio:.2f} (target <= 1.00: {'PASS' if ratio <= 1 else 'MISS'})")
        else:
            print(f"\ntasks / summary: not measured (`tasks`: {tasks_note})")
        print(f"summary / in-process first walk: {s_sum / in_first:.1f}x")
        print(f"\n{os.cpu_count()} CPUs; load average before {load_before}, after {load_average()}; heapscope "
              f"{args.heapscope}; workload under {python}; wall time best and peak RSS max of {args.runs} run(s)")
    finally:
        if not args.keep:
            for p in (core, core.with_suffix(".inproc.json"), core.with_suffix(".py")):
                p.unlink(missing_ok=True)
            log(f"deleted {core} and its workload script and figures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
