//! `heapscope export` read back: every version fixture is exported as Parquet, the files are read with polars, and
//! the tables are checked against the fixture's truth and against `heapscope summary`:
//!
//! - `objects` has one row per object of the snapshot (`summary`'s count and `sys.getsizeof` total);
//! - every truth object has a row with its type and `sys.getsizeof`;
//! - for every GC-tracked truth object, the multiset of the `dst` addresses of its `traverse` edges is
//!   `gc.get_referents(obj)` (at the rate `tests/decode.rs` asserts for the decoder itself, 99.9 %);
//! - `types` and `roots` join on `objects`, and every table has the same `dump_id` in every row.
//!
//! Also: CSV and NDJSON exports of one fixture, `--tables`, and an unwritable destination.

mod common;

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::Path;

use polars::prelude::*;
use serde_json::Value;

use common::{fixture, Unpacked};

/// Runs `heapscope export` on the fixture into `dir`, with the fixture's binaries as the sysroot. Exit 2 says some
/// parts could not be decoded; the files are still complete.
fn export(fx: &Unpacked, dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args: Vec<&OsStr> = vec!["-o".as_ref(), dir.as_os_str()];
    args.extend(extra.iter().map(OsStr::new));
    fx.heapscope_report("export", &args)
}

fn read(dir: &Path, table: &str) -> DataFrame {
    let file = std::fs::File::open(dir.join(format!("{table}.parquet"))).expect("table file exists");
    ParquetReader::new(file).finish().expect("Parquet reads back")
}

fn u32s(df: &DataFrame, col: &str) -> Vec<u32> {
    df.column(col).unwrap().u32().unwrap().into_no_null_iter().collect()
}

fn u64s(df: &DataFrame, col: &str) -> Vec<u64> {
    df.column(col).unwrap().u64().unwrap().into_no_null_iter().collect()
}

fn check(name: &str) {
    let fx = fixture(name);
    let unpacked = fx.unpacked();
    let dir = tempfile::tempdir().unwrap();
    let partial = export(&unpacked, dir.path(), &[]).status.code() == Some(2);
    let objects = read(dir.path(), "objects");
    let edges = read(dir.path(), "edges");
    let types = read(dir.path(), "types");
    let roots = read(dir.path(), "roots");

    // One row per object, as `summary` counts them.
    let out = unpacked.heapscope_report("summary", ["--format", "json"]);
    let summary: Value = serde_json::from_slice(&out.stdout).expect("summary prints JSON");
    assert_eq!(Some(objects.height() as u64), summary["objects"]["count"].as_u64(), "{name}: objects rows");
    let sizes = u64s(&objects, "size");
    assert_eq!(Some(sizes.iter().sum::<u64>()), summary["objects"]["bytes"].as_u64(), "{name}: size total");
    assert_eq!(Some(edges.height() as u64), summary["references"].as_u64(), "{name}: edges rows");
    assert_eq!(u32s(&objects, "id"), (0..objects.height() as u32).collect::<Vec<_>>(), "{name}: ids are dense");

    // One dump id across every table.
    let dump_id = u64s(&objects, "dump_id")[0];
    for (t, df) in [("objects", &objects), ("edges", &edges), ("types", &types), ("roots", &roots)] {
        assert!(u64s(df, "dump_id").iter().all(|&d| d == dump_id), "{name}: {t}.dump_id");
    }

    // Every truth object has a row with its type and size.
    let addrs = u64s(&objects, "address");
    let row_of: HashMap<u64, usize> = addrs.iter().enumerate().map(|(i, &a)| (a, i)).collect();
    let type_col = objects.column("type").unwrap().str().unwrap();
    let truth = fx.truth();
    let truth_objects = truth["objects"].as_array().unwrap();
    let mut wrong = Vec::new();
    let mut unnamed = 0usize;
    for o in truth_objects {
        let a = o["address"].as_u64().unwrap();
        let Some(&row) = row_of.get(&a) else {
            wrong.push(format!("{a:#x} ({}): no row", o["type"]));
            continue;
        };
        let ty = type_col.get(row);
        // A type whose name could not be read (exit 2: py312-filter33 ships no extension modules) is named by
        // its address.
        let unread = partial && ty.is_some_and(|t| t.starts_with("<type at 0x"));
        unnamed += usize::from(unread);
        if (ty != o["type"].as_str() && !unread) || o["size"].as_u64().is_some_and(|s| s != sizes[row]) {
            wrong.push(format!("{a:#x}: {ty:?} {} want {} {}", sizes[row], o["type"], o["size"]));
        }
    }
    assert!(wrong.is_empty(), "{name}: {} of {} truth objects wrong: {:?}", wrong.len(), truth_objects.len(), {
        wrong.truncate(10);
        wrong
    });

    // `traverse` edges are gc.get_referents.
    let src = u32s(&edges, "src");
    let dst = u32s(&edges, "dst");
    let kind = edges.column("kind").unwrap().str().unwrap();
    let mut traverse: HashMap<u64, Vec<u64>> = HashMap::new();
    for (i, k) in kind.iter().enumerate() {
        if k == Some("traverse") {
            traverse.entry(addrs[src[i] as usize]).or_default().push(addrs[dst[i] as usize]);
        }
    }
    let (mut n, mut ok, mut bad) = (0usize, 0usize, Vec::new());
    for o in truth_objects.iter().filter(|o| o["gc_tracked"] == true) {
        let a = o["address"].as_u64().unwrap();
        let mut want: Vec<u64> = o["referents"].as_array().unwrap().iter().map(|r| r.as_u64().unwrap()).collect();
        let mut got = traverse.remove(&a).unwrap_or_default();
        want.sort_unstable();
        got.sort_unstable();
        n += 1;
        if got == want {
            ok += 1;
        } else if bad.len() < 5 {
            bad.push(format!("{a:#x} {}: {} edges, want {}", o["type"], got.len(), want.len()));
        }
    }
    let rate = 100.0 * ok as f64 / n.max(1) as f64;
    println!(
        "{name:<15} {} objects, {} edges; {unnamed} truth objects of an unreadable type name; referents {ok}/{n} \
         ({rate:.3}%) {bad:?}",
        objects.height(),
        edges.height()
    );
    assert!(rate >= 99.9, "{name}: referents {ok}/{n}: {bad:?}");

    // types and roots join on objects.
    let n_obj = objects.height() as u32;
    assert!(u32s(&roots, "id").iter().all(|&id| id < n_obj), "{name}: roots.id");
    assert!(roots.height() > 0, "{name}: no roots");
    let counts = u64s(&types, "count");
    assert_eq!(counts.iter().sum::<u64>(), sizes.len() as u64 - objects.column("type_id").unwrap().null_count() as u64);
    let idom = objects.column("idom").unwrap().u32().unwrap();
    assert!(idom.iter().flatten().all(|d| d < n_obj), "{name}: idom");
}

crate::per_fixture!(check);

/// CSV and NDJSON hold the same rows as Parquet; `--tables` writes only the tables named.
#[test]
fn csv_ndjson_and_a_choice_of_tables() {
    let fx = fixture("py312");
    let fx = fx.unpacked();
    let dir = tempfile::tempdir().unwrap();
    export(&fx, dir.path(), &["--tables", "types,roots"]);
    let mut names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["roots.parquet", "types.parquet"], "only the tables asked for, and no temporary file");
    let types = read(dir.path(), "types");

    export(&fx, dir.path(), &["--tables", "types", "--format", "csv"]);
    let csv = std::fs::read_to_string(dir.path().join("types.csv")).unwrap();
    assert!(csv.starts_with("dump_id,type_id,address,name,count,bytes,footprint\n"), "{}", &csv[..200.min(csv.len())]);
    assert_eq!(csv.lines().count(), types.height() + 1);

    export(&fx, dir.path(), &["--tables", "types", "--format", "ndjson"]);
    let ndjson = std::fs::read_to_string(dir.path().join("types.ndjson")).unwrap();
    let rows: Vec<Value> = ndjson.lines().map(|l| serde_json::from_str(l).expect("a JSON object per line")).collect();
    assert_eq!(rows.len(), types.height());
    let names = types.column("name").unwrap().str().unwrap();
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r["name"].as_str(), names.get(i));
        assert_eq!(r["count"].as_u64(), Some(u64s(&types, "count")[i]));
    }
}

/// A destination that cannot be written fails at once, with exit 2 and a message naming it.
#[test]
fn unwritable_destination() {
    let fx = fixture("py312");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"").unwrap();
    let out = common::heapscope(
        ["export".as_ref(), fx.core().as_os_str(), "-o".as_ref(), file.join("sub").as_os_str()] as [&OsStr; 4],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot create the output directory") && stderr.contains("a-file"), "{stderr}");
}
