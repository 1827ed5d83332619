//! `heapscope garbage` against what the process's own collector did: after the dump, each fixture's workload ran
//! `gc.collect()` with `gc.DEBUG_SAVEALL` and wrote `after.json` (`collected`, and the ids of `gc.garbage`). The
//! simulated collection must find exactly that: the same count and the same addresses, on every version fixture
//! and on the real programs (numpy, asyncio, msgpack). Fixtures without garbage report 0.

mod common;

use std::collections::BTreeSet;

use serde_json::Value;

use common::{fixture, programs, Fixture};

fn check_fixture(fx: &Fixture) {
    let after: Value = serde_json::from_str(&std::fs::read_to_string(fx.dir.join("after.json")).expect("after.json"))
        .expect("after.json is JSON");
    // Exit 2 says some parts could not be decoded; the report is still complete.
    let out = fx.unpacked().heapscope_report("garbage", ["--format", "json"]);
    let got: Value = serde_json::from_slice(&out.stdout).expect("garbage prints JSON");
    let want_count = after["collected"].as_u64().unwrap();
    let want: BTreeSet<u64> = after["garbage"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    let objects: BTreeSet<u64> = got["objects"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    println!(
        "{:<15} gc.collect() {want_count}, heapscope {} (freed {} objects, {} bytes; {} candidates)",
        fx.name, got["count"], got["freed"]["count"], got["freed"]["bytes"], got["candidates"]
    );
    let missing: Vec<String> = want.difference(&objects).take(10).map(|a| format!("{a:#x}")).collect();
    let extra: Vec<String> = objects.difference(&want).take(10).map(|a| format!("{a:#x}")).collect();
    assert_eq!(got["count"].as_u64(), Some(want_count), "{}: count; missing {missing:?}, extra {extra:?}", fx.name);
    assert!(missing.is_empty() && extra.is_empty(), "{}: missing {missing:?}, extra {extra:?}", fx.name);
    assert_eq!(got["overcounted"].as_u64(), Some(0), "{}", fx.name);
    // What is freed includes the unreachable objects themselves.
    assert!(got["freed"]["count"].as_u64().unwrap() >= want_count, "{}", fx.name);
}

fn check(name: &str) {
    check_fixture(&fixture(name));
}

crate::per_fixture!(check);

#[test]
fn real_programs() {
    for fx in programs() {
        check_fixture(&fx);
    }
}

/// The finalizer flags of the types (`tp_finalize`, `tp_del`) that decide `may_resurrect` and `uncollectable`,
/// read at the offsets of every version: generators, coroutines and `_io` files have a finalizer, plain containers
/// do not, and no type of these programs has a legacy `tp_del`.
#[test]
fn finalizer_flags_of_types() {
    use heapscope_snapshot::BuildOptions;
    for fx in common::fixtures().into_iter().chain(programs()) {
        let (process, _root) = fx.open_process();
        let detection = heapscope_cpython::detect(&process).expect("python found");
        let layout = common::builtin_layout(&process);
        let snap = heapscope_snapshot::build(&process, &detection, &layout, &BuildOptions::default())
            .expect("snapshot builds");
        let flag = |name: &str| snap.types().iter().find(|t| t.name == name).map(|t| t.finalizer);
        for name in ["generator", "coroutine", "_io.TextIOWrapper", "_io.BufferedWriter"] {
            assert_eq!(flag(name), Some(true), "{}: {name} has a finalizer", fx.name);
        }
        for name in ["list", "dict", "tuple", "str", "function", "type"] {
            assert_eq!(flag(name), Some(false), "{}: {name} has no finalizer", fx.name);
        }
        let legacy: Vec<&str> = snap.types().iter().filter(|t| t.legacy_del).map(|t| t.name.as_str()).collect();
        assert!(legacy.is_empty(), "{}: types with tp_del: {legacy:?}", fx.name);
    }
}
