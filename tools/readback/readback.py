#!/usr/bin/env python3
"""Reads `heapscope export` output back with the tools users load it into, and checks it against a fixture's truth.

For each fixture it runs `heapscope export CORE -o DIR` (Parquet), then reads every table with pandas (pyarrow),
polars and DuckDB, and checks with each:

- the four tables are there, with the columns of docs/tables.md, and one `dump_id` throughout;
- every truth object (truth.json.zst `objects`) has an `objects` row with its type and `sys.getsizeof`
  (a type whose name could not be read is `<type at 0x…>`; those are counted, not failed);
- for the GC-tracked truth objects, the `traverse` edges' destinations equal `gc.get_referents`, as a multiset, for
  at least 99.9 % of them (the rate tests/decode.rs asserts: extension modules' state is scanned, not traversed);
- `threads`, `frames` and `locals` have a row per thread, frame and local of the truth's stacks;
- `SELECT type, count(*), sum(size) FROM objects GROUP BY type` (DuckDB) equals `heapscope summary --format json`;
- a DuckDB join of `locals`, `frames` and `objects` (on `(thread, depth)` and the locals' `id`) gives every truth
  frame (function) its truth locals: the same names, and for each value whose `repr()` the truth recorded, an
  object of the type that repr is of (`ast.literal_eval`) whose `preview` is that repr.

    python3 tools/readback/readback.py [--heapscope target/release/heapscope] [FIXTURE ...]

Needs pandas, pyarrow, polars, duckdb and zstandard, pinned with hashes in tools/readback/requirements.txt. `.ci/run`
builds that venv outside the clone (reused while the requirements are unchanged) and `tests/readback.rs` runs this
script with it on every fixture; by hand:

    python3 -m venv /var/tmp/heapscope-readback-venv
    /var/tmp/heapscope-readback-venv/bin/pip install -q --require-hashes -r tools/readback/requirements.txt
    /var/tmp/heapscope-readback-venv/bin/python tools/readback/readback.py --heapscope "$CARGO_TARGET_DIR/release/heapscope"

It prints one line per fixture and per reader, then `N passed, N failed`, and exits 1 on any failure.
"""

import argparse
import ast
import collections
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TESTDATA = REPO / "testdata"
FIXTURES = ["py38", "py39", "py310", "py311", "py312", "py313", "py314", "py315", "py312-filter33", "py312-cache"]
TABLES = ["objects", "edges", "types", "roots", "threads", "frames", "locals"]


def truth_of(fixture):
    import zstandard

    raw = (TESTDATA / fixture / "truth.json.zst").read_bytes()
    return json.loads(zstandard.ZstdDecompressor().decompressobj().decompress(raw))


def run(heapscope, args, sysroot):
    out = subprocess.run([heapscope, *args, "--sysroot", sysroot], capture_output=True)
    # 2: some parts could not be decoded (py312-filter33 ships no extension modules); the output is complete.
    if out.returncode not in (0, 2):
        raise RuntimeError(f"heapscope {' '.join(args)} failed:\n{out.stderr.decode()}")
    return out


def sysroot_for(fixture, into):
    """An empty sysroot (nothing on this machine stands in for the core), or the fixture's shipped binaries."""
    Path(into).mkdir()
    tar = TESTDATA / fixture / "sysroot.tar.zst"
    if tar.exists():
        subprocess.run(["tar", "--zstd", "-xf", str(tar), "-C", into], check=True)
    return into


def read_pandas(d):
    import pandas as pd

    return {t: pd.read_parquet(d / f"{t}.parquet", engine="pyarrow") for t in TABLES}


def read_polars(d):
    import polars as pl

    return {t: pl.read_parquet(d / f"{t}.parquet").to_pandas() for t in TABLES}


def read_duckdb(d):
    import duckdb

    con = duckdb.connect()
    return {t: con.execute(f"SELECT * FROM read_parquet('{d / (t + '.parquet')}')").df() for t in TABLES}


def check_tables(name, tables, truth, documented):
    """Returns a list of failures."""
    fails = []
    for t in TABLES:
        if list(tables[t].columns) != documented[t]:
            fails.append(f"{t}: columns {list(tables[t].columns)} want {documented[t]}")
    ids = {int(v) for t in TABLES for v in tables[t]["dump_id"].unique()}
    if len(ids) != 1:
        fails.append(f"dump_id: {len(ids)} values")
    objects, edges = tables["objects"], tables["edges"]
    addrs = objects["address"].astype("uint64").tolist()
    row_of = {a: i for i, a in enumerate(addrs)}
    types = objects["type"].tolist()
    sizes = objects["size"].astype("uint64").tolist()
    wrong, unnamed = [], 0
    for o in truth["objects"]:
        row = row_of.get(o["address"])
        if row is None:
            wrong.append(f"{o['address']:#x}: no row")
            continue
        ty = types[row]
        if ty != o["type"] and isinstance(ty, str) and ty.startswith("<type at 0x"):
            unnamed += 1
        elif ty != o["type"] or (o["size"] is not None and o["size"] != sizes[row]):
            wrong.append(f"{o['address']:#x}: {ty} {sizes[row]} want {o['type']} {o['size']}")
    if wrong:
        fails.append(f"{len(wrong)} truth objects wrong, e.g. {wrong[:5]}")
    traverse = collections.defaultdict(list)
    for s, d, k in zip(edges["src"].tolist(), edges["dst"].tolist(), edges["kind"].tolist()):
        if k == "traverse":
            traverse[addrs[s]].append(addrs[d])
    tracked = [o for o in truth["objects"] if o["gc_tracked"]]
    ok = sum(sorted(traverse.get(o["address"], [])) == sorted(o["referents"]) for o in tracked)
    rate = 100.0 * ok / max(1, len(tracked))
    if rate < 99.9:
        fails.append(f"referents {ok}/{len(tracked)} ({rate:.3f} %)")
    want_threads = truth["threads"]
    want_frames = sum(len(t["frames"]) for t in want_threads)
    want_locals = sum(len(f["locals"]) for t in want_threads for f in t["frames"])
    got = tuple(len(tables[t]) for t in ("threads", "frames", "locals"))
    if got != (len(want_threads), want_frames, want_locals):
        fails.append(f"threads, frames, locals: {got} rows, want {(len(want_threads), want_frames, want_locals)}")
    return fails, (
        f"{len(objects)} objects, {len(edges)} edges, referents {rate:.3f} %, {unnamed} unnamed types, "
        f"{got[0]} threads, {got[1]} frames, {got[2]} locals"
    )


def documented_columns():
    """The column names of each table, in order, from docs/tables.md (dump_id first)."""
    cols, current = {}, None
    for line in (REPO / "docs" / "tables.md").read_text().splitlines():
        if line.startswith("## `") and "`:" in line:
            current = line.split("`")[1]
            cols[current] = ["dump_id"]
        elif current and line.startswith("| `"):
            cols[current].append(line.split("`")[1])
    return cols


def summary_matches(heapscope, core, sysroot, export_dir):
    import duckdb

    got = duckdb.connect().execute(
        f"SELECT type, count(*), sum(size) FROM read_parquet('{export_dir / 'objects.parquet'}') "
        "WHERE type IS NOT NULL GROUP BY type"
    ).fetchall()
    summary = json.loads(run(heapscope, ["summary", "--format", "json", str(core)], sysroot).stdout)
    want = {r["type"]: (r["count"], r["bytes"]) for r in summary["types"]}
    got = {t: (int(c), int(b)) for t, c, b in got}
    return [] if got == want else [f"GROUP BY type differs from summary on {len(set(got.items()) ^ set(want.items()))} rows"]


def literal_type(r):
    """The type name `objects.type` gives the value whose `repr()` is `r`, when `r` is a literal; else None."""
    try:
        return type(ast.literal_eval(r)).__name__
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


def locals_join(export_dir, truth):
    """Joins locals, frames and objects in DuckDB and compares each truth frame's locals with the result."""
    import duckdb

    d = export_dir
    rows = duckdb.connect().execute(
        f"""
        SELECT t.tid, f.depth, f.function, l.name, o.type, o.preview, l.address
        FROM read_parquet('{d / "locals.parquet"}') l
        JOIN read_parquet('{d / "frames.parquet"}') f USING (dump_id, thread, depth)
        JOIN read_parquet('{d / "threads.parquet"}') t USING (dump_id, thread)
        LEFT JOIN read_parquet('{d / "objects.parquet"}') o ON o.dump_id = l.dump_id AND o.id = l.id
        """
    ).fetchall()
    got = collections.defaultdict(dict)
    functions = {}
    for tid, depth, function, name, ty, preview, address in rows:
        got[(tid, depth)][name] = (ty, preview, address)
        functions[(tid, depth)] = function
    fails, typed = [], 0
    for t in truth["threads"]:
        for depth, f in enumerate(t["frames"]):
            key = (t["native_id"], depth)
            where = f"thread {t['name']} frame {depth} ({f['function']})"
            if functions.get(key) != f["function"]:
                fails.append(f"{where}: function {functions.get(key)}")
            if set(got[key]) != set(f["locals"]):
                fails.append(f"{where}: locals {sorted(got[key])} want {sorted(f['locals'])}")
                continue
            for name, r in f["locals"].items():
                want = r is not None and literal_type(r)
                if not want:
                    continue
                ty, preview, address = got[key][name]
                if ty is None and address is None and want == "int":
                    typed += 1  # 3.14+: an int kept in the frame's slot, no object
                elif (ty, preview) != (want, r):
                    fails.append(f"{where}: local {name} is {ty} {preview!r}, want {want} {r!r}")
                else:
                    typed += 1
    return fails[:10] + ([f"… {len(fails) - 10} more"] if len(fails) > 10 else []), f"{len(rows)} locals, {typed} typed"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--heapscope", default=str(REPO / "target" / "release" / "heapscope"))
    ap.add_argument("fixtures", nargs="*", default=FIXTURES)
    args = ap.parse_args()
    documented = documented_columns()
    passed = failed = 0
    for name in args.fixtures:
        truth = truth_of(name)
        core = TESTDATA / name / "core.zst"
        with tempfile.TemporaryDirectory() as tmp:
            sysroot = sysroot_for(name, str(Path(tmp) / "root"))
            out = Path(tmp) / "out"
            run(args.heapscope, ["export", str(core), "-o", str(out)], sysroot)
            checks = [(reader.__name__[5:], lambda r=reader: check_tables(name, r(out), truth, documented))
                      for reader in (read_pandas, read_polars, read_duckdb)]
            checks.append(("summary", lambda: (summary_matches(args.heapscope, core, sysroot, out), "duckdb GROUP BY")))
            checks.append(("locals", lambda: locals_join(out, truth)))
            for what, check in checks:
                fails, figures = check()
                status = "ok" if not fails else "FAILED"
                print(f"{name:<15} {what:<8} {status}: {figures}" + "".join(f"\n    {f}" for f in fails))
                passed += not fails
                failed += bool(fails)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
