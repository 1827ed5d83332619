//! `heapscope query` against the truth of `summary`: `SELECT type, count(*), sum(size) FROM objects GROUP BY type`
//! gives `summary`'s histogram on every version fixture, a join of `locals`, `frames`, `threads` and `objects` gives
//! the frame locals of the truth, and errors name what is unknown and list the tables.

mod common;

use std::collections::BTreeMap;

use serde_json::Value;

fn histogram(rows: &[Value], name: &str) -> BTreeMap<String, (u64, u64)> {
    rows.iter()
        .map(|r| {
            let n = r[name].as_str().expect("type name").to_owned();
            (n, (r["count"].as_u64().expect("count"), r["bytes"].as_u64().expect("bytes")))
        })
        .collect()
}

fn group_by_type_is_summary(name: &str) {
    let fixture = common::fixture(name);
    let fx = fixture.unpacked();
    let summary = fx.heapscope_report("summary", ["--format", "json"]);
    let summary: Value = serde_json::from_slice(&summary.stdout).expect("summary JSON");
    let sql = "SELECT type, count(*) AS count, sum(size) AS bytes FROM objects WHERE type IS NOT NULL GROUP BY type";
    let out = fx.heapscope_report("query", ["--format", "json", sql]);
    let rows: Value = serde_json::from_slice(&out.stdout).expect("query prints a JSON array");
    let want = histogram(summary["types"].as_array().expect("types"), "type");
    let got = histogram(rows.as_array().expect("rows"), "type");
    assert_eq!(got, want, "{name}: GROUP BY type differs from summary");
    let total = fx.heapscope_report("query", ["--format", "csv", "SELECT count(*) AS n FROM objects"]);
    let total = String::from_utf8(total.stdout).unwrap();
    assert_eq!(total, format!("n\n{}\n", summary["objects"]["count"]), "{name}");
}

mod group_by_type_is_summary {
    use super::*;
    per_fixture!(group_by_type_is_summary);
}

#[test]
fn unknown_tables_and_columns_are_named_with_the_tables_that_exist() {
    let fixture = common::fixture("py312");
    let fx = fixture.unpacked();
    for (sql, unknown) in
        [("SELECT nosuch FROM objects", "nosuch"), ("SELECT * FROM nowhere JOIN objects ON 1 = 1", "nowhere")]
    {
        let out = fx.heapscope("query", [sql]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(unknown), "{sql}: {err}");
        assert!(err.contains("objects(dump_id, id, address") && err.contains("edges(dump_id, src, dst"), "{err}");
    }
    let out = fx.heapscope("query", ["SELECT 1"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("names no table"));
}

/// A join of `locals`, `frames`, `threads` and `objects` gives every frame's locals as the process listed them
/// before the dump: for each truth local with a `repr()`, the object's preview is that `repr()`.
fn locals_join_frames_and_objects(name: &str) {
    let fixture = common::fixture(name);
    let truth = fixture.truth();
    let fx = fixture.unpacked();
    let sql = "SELECT t.tid, f.depth, f.function, l.name, o.preview \
               FROM locals l JOIN frames f ON l.thread = f.thread AND l.depth = f.depth \
               JOIN threads t ON t.thread = l.thread JOIN objects o ON o.id = l.id";
    let out = fx.heapscope_report("query", ["--format", "json", sql]);
    let rows: Value = serde_json::from_slice(&out.stdout).expect("query prints a JSON array");
    let got: BTreeMap<(u64, u64, String), (String, String)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            ((r["tid"].as_u64().unwrap(), r["depth"].as_u64().unwrap(), s("name")), (s("function"), s("preview")))
        })
        .collect();
    let mut compared = 0;
    for t in truth["threads"].as_array().unwrap() {
        let tid = t["native_id"].as_u64().unwrap();
        for (depth, f) in t["frames"].as_array().unwrap().iter().enumerate() {
            for (var, repr) in f["locals"].as_object().unwrap() {
                let Some(repr) = repr.as_str() else { continue };
                let key = (tid, depth as u64, var.clone());
                let want = (f["function"].as_str().unwrap().to_owned(), repr.to_owned());
                assert_eq!(got.get(&key), Some(&want), "{name}: thread {tid} frame {depth} local {var}");
                compared += 1;
            }
        }
    }
    assert!(compared >= 60, "{name}: only {compared} locals compared");
}

mod locals_join_frames_and_objects {
    use super::*;
    per_fixture!(locals_join_frames_and_objects);
}

/// The objects on generations 0–2 are what `gc.get_objects()` returned in the process (the permanent generation,
/// 3, is not in it).
fn generations_are_gc_get_objects(name: &str) {
    let fixture = common::fixture(name);
    let want = fixture.truth()["stats"]["gc_objects"].as_u64().expect("truth stats.gc_objects");
    let fx = fixture.unpacked();
    let out =
        fx.heapscope_report("query", ["--format", "csv", "SELECT count(*) AS n FROM objects WHERE generation < 3"]);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), format!("n\n{want}\n"), "{name}");
}

mod generations_are_gc_get_objects {
    use super::*;
    per_fixture!(generations_are_gc_get_objects);
}
