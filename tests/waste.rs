//! `heapscope waste` on every fixture, against what the workload built and its truth:
//!
//! - `records`: the workload's `RECORDS`, 3,000 dicts with the keys id, name, score and tags, are one group: its
//!   count is the number of dicts the truth lists among `RECORDS`' referents, and its example is one of them;
//! - `duplicates`: each record's `tags` is a one-str tuple `('t0',)` … `('t6',)` built anew for each record, so the
//!   duplicate tuple groups made of records' tags hold all 3,000 of them, 7 values, `(n − 1) × size` bytes each;
//! - every piece of advice saves bytes, names an example object of the heap, and comes largest first.

mod common;

use std::collections::{BTreeMap, HashSet};

use serde_json::Value;

use common::fixture;

fn check(name: &str) {
    let fx = fixture(name);
    let truth = fx.truth();
    let un = fx.unpacked();
    let w: Value = serde_json::from_slice(
        &un.heapscope_report("waste", ["--format", "json", "--no-cache", "--limit", "1000"]).stdout,
    )
    .unwrap();
    let objects: BTreeMap<u64, &Value> =
        truth["objects"].as_array().unwrap().iter().map(|o| (o["address"].as_u64().unwrap(), o)).collect();
    let referents = |a: u64| -> Vec<u64> {
        objects[&a]["referents"].as_array().unwrap().iter().map(|r| r.as_u64().unwrap()).collect()
    };
    let records: Vec<u64> = referents(truth["markers"]["records"].as_u64().unwrap())
        .into_iter()
        .filter(|a| objects.get(a).is_some_and(|o| o["type"] == "dict"))
        .collect();
    assert_eq!(records.len(), 3000, "{name}");
    let advice = w["advice"].as_array().unwrap();
    let saved: Vec<u64> = advice.iter().map(|a| a["bytes_saved"].as_u64().unwrap()).collect();
    assert!(saved.windows(2).all(|p| p[0] >= p[1]), "{name}: not largest first: {saved:?}");
    assert!(saved.iter().all(|&s| s > 0), "{name}");

    let group = advice
        .iter()
        .find(|a| {
            a["kind"] == "records" && a["change"].as_str().unwrap().contains(r#"["id", "name", "score", "tags"]"#)
        })
        .unwrap_or_else(|| panic!("{name}: no records advice for RECORDS: {w:#}"));
    assert_eq!(group["count"].as_u64(), Some(records.len() as u64), "{name}");
    assert!(records.contains(&group["example"].as_u64().unwrap()), "{name}");

    // The tags tuples: the dict referents of the records that are tuples.
    let tags: HashSet<u64> = records
        .iter()
        .flat_map(|&r| referents(r))
        .filter(|a| objects.get(a).is_some_and(|o| o["type"] == "tuple"))
        .collect();
    assert_eq!(tags.len(), 3000, "{name}");
    let size = objects[tags.iter().next().unwrap()]["size"].as_u64().unwrap();
    let groups: Vec<&Value> =
        advice.iter().filter(|a| a["kind"] == "duplicates" && tags.contains(&a["example"].as_u64().unwrap())).collect();
    assert_eq!(groups.len(), 7, "{name}: {groups:#?}");
    let members: u64 = groups.iter().map(|g| g["count"].as_u64().unwrap()).sum();
    assert_eq!(members, 3000, "{name}");
    for g in groups {
        assert_eq!(g["bytes_saved"].as_u64(), Some((g["count"].as_u64().unwrap() - 1) * size), "{name}: {g}");
    }
}

crate::per_fixture!(check);
