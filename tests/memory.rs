//! `heapscope memory`, on every fixture:
//!
//! - the arenas' bytes reconcile exactly: the blocks of the Python objects in them, the other allocated blocks,
//!   pymalloc's overhead and its free space add up to the arenas' bytes, and pymalloc's own total (what
//!   `sys._debugmallocstats()` prints as `Total`) is the arenas' bytes: every pool header was read;
//! - every object of the snapshot is counted once, in an arena or outside, and the objects in arenas are no more
//!   than the blocks in use;
//! - the threads' stacks are in mappings of their own kind: at least one, at most one per thread of the core;
//! - pymalloc's arenas, and per size class its pools, blocks in use and blocks available, against what the process
//!   printed with `sys._debugmallocstats()` a few statements before the dump (the truth's `mallocstats`): equal in
//!   all but the few size classes where blocks were freed in between (see `against_debugmallocstats`).

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
    // Adjacent thread stacks are one mapping when their guard pages are guard regions inside it (glibc 2.42+).
    assert!((1..=threads).contains(&n(&stacks["mappings"])), "{name}: {threads} threads, {stacks}");
    let mapped: u64 = m["mappings"].as_array().unwrap().iter().map(|r| n(&r["bytes"])).sum();
    assert_eq!(mapped, n(&t["mapped_bytes"]), "{name}");
}

crate::per_fixture!(check);

/// pymalloc's figures against what the process printed with `sys._debugmallocstats()` just before the dump (the
/// truth's `mallocstats`; the workload frees its own temporaries before the call and keeps nothing it makes after it).
/// On 3.15 the arenas and every size class (pools, blocks in use, blocks available) are equal. On 3.8–3.14 two blocks
/// in use at the call are free at the dump, one of 32 bytes and one of 80 (not yet identified: created after the
/// truth's object walk and freed after the call); when the 80-byte one was alone in its pool and arena, the pool and
/// the arena go with it. So: the arenas equal or one fewer, every class equal except at most two that have exactly
/// one block fewer in use (and at most one pool fewer), and the totals add up as CPython computes them.
fn against_debugmallocstats(name: &str) {
    let fx = fixture(name);
    let ms = fx.mallocstats();
    let un = fx.unpacked();
    let m: Value =
        serde_json::from_slice(&un.heapscope_report("memory", ["--format", "json", "--no-cache"]).stdout).unwrap();
    let p = &m["pymalloc"];
    let n = |v: &Value| v.as_u64().unwrap_or_else(|| panic!("{name}: not a number: {v}"));
    let (arenas, truth_arenas) = (n(&p["arenas"]["count"]), n(&ms["arenas_allocated_current"]));
    assert!(arenas == truth_arenas || arenas + 1 == truth_arenas, "{name}: {arenas} arenas, the truth {truth_arenas}");
    let classes = |v: &Value| -> Vec<(u64, u64, u64, u64)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|c| (n(&c["size"]), n(&c["pools"]), n(&c["blocks_in_use"]), n(&c["blocks_free"])))
            .collect()
    };
    let (got, want) = (classes(&p["size_classes"]), classes(&ms["size_classes"]));
    assert_eq!(got.len(), want.len(), "{name}");
    let mut differ = Vec::new();
    for (g, t) in got.iter().zip(&want) {
        assert_eq!(g.0, t.0, "{name}");
        if g == t {
            continue;
        }
        let one_freed = g.2 + 1 == t.2 && (g.1 == t.1 && g.3 == t.3 + 1 || g.1 + 1 == t.1);
        assert!(one_freed, "{name}: class of {} bytes: (size, pools, in use, available) {g:?}, the truth {t:?}", t.0);
        differ.push(t.0);
    }
    assert!(differ.len() <= 2, "{name}: size classes {differ:?} differ");
    println!(
        "{name}: {} of {} size classes equal (differing: {differ:?}), {arenas} arenas",
        got.len() - differ.len(),
        got.len()
    );
    // The totals follow from the classes as CPython computes them.
    assert_eq!(n(&p["total_bytes"]), n(&p["arenas"]["bytes"]), "{name}");
    assert_eq!(n(&ms["total"]), n(&ms["arenas"]["bytes"]), "{name}: the truth's own total");
}

mod debugmallocstats {
    use super::*;
    crate::per_fixture!(against_debugmallocstats);
}
