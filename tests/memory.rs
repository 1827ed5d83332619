//! `heapscope memory`, on every fixture:
//!
//! - the arenas' bytes reconcile exactly: the blocks of the Python objects in them, the other allocated blocks,
//!   pymalloc's overhead and its free space add up to the arenas' bytes, and pymalloc's own total (what
//!   `sys._debugmallocstats()` prints as `Total`) is the arenas' bytes: every pool header was read;
//! - every object of the snapshot is counted once, in an arena or outside, and the objects in arenas are no more
//!   than the blocks in use;
//! - each thread of the core (`info`) has its stack mapping.

mod common;

use serde_json::Value;

use common::{fixture, info_json};

fn check(name: &str) {
    let fx = fixture(name);
    let un = fx.unpacked();
    let m: Value =
        serde_json::from_slice(&un.heapscope_report("memory", ["--format", "json", "--no-cache"]).stdout).unwrap();
    let s: Value =
        serde_json::from_slice(&un.heapscope_report("summary", ["--format", "json", "--no-cache"]).stdout).unwrap();
    let n = |v: &Value| v.as_u64().unwrap_or_else(|| panic!("{name}: not a number: {v}"));
    let (p, t) = (&m["pymalloc"], &m["totals"]);
    assert!(n(&p["arenas"]["count"]) > 0, "{name}: no arena");
    assert_eq!(t["unaccounted_bytes"], 0, "{name}: {t}");
    assert_eq!(
        n(&t["object_bytes"]) + n(&t["other_block_bytes"]) + n(&t["overhead_bytes"]) + n(&t["free_bytes"]),
        n(&t["arena_bytes"]),
        "{name}"
    );
    assert_eq!(n(&p["total_bytes"]), n(&p["arenas"]["bytes"]), "{name}: pymalloc's total is not the arenas' bytes");
    let in_use: u64 = p["size_classes"].as_array().unwrap().iter().map(|c| n(&c["blocks_in_use"])).sum();
    let (inside, outside) = (n(&m["objects"]["in_arenas"]["count"]), n(&m["objects"]["outside_arenas"]["count"]));
    assert_eq!(inside + outside, n(&s["objects"]["count"]), "{name}");
    assert!(inside <= in_use && inside > in_use / 2, "{name}: {inside} objects in arenas, {in_use} blocks in use");

    let threads = info_json(&fx.core(), &[])["threads"].as_array().unwrap().len() as u64;
    let stacks = m["mappings"].as_array().unwrap().iter().find(|r| r["kind"] == "thread stacks").unwrap();
    assert_eq!(n(&stacks["mappings"]), threads, "{name}: {stacks}");
    let mapped: u64 = m["mappings"].as_array().unwrap().iter().map(|r| n(&r["bytes"])).sum();
    assert_eq!(mapped, n(&t["mapped_bytes"]), "{name}");
}

crate::per_fixture!(check);
