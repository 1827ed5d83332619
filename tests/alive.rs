//! The liveness analyses (`heapscope_analysis::alive`, `retained`, `path`, `leaks`, `top`) against the ground truth
//! of every fixture core.
//!
//! **Retained sets.** The truth is the process's own view: its objects (the `gc.get_objects()` closure through
//! `gc.get_referents`, with the running frames), their refcounts and referents. On that graph the retained set of X
//! is computed here by its definition, independently of the dominator tree: the objects reachable from the seeds
//! (every object whose refcount exceeds its referrers in the truth, and the immortal ones) that are no longer
//! reachable once X is removed, X included. heapscope's retained set (X's dominator subtree) must equal it on the
//! truth's objects, exactly, for the growing `CACHE` dict and, where the fixture has it, the `LIVE_CYCLES` list of
//! reference cycles; the objects heapscope adds beyond the truth (references `tp_traverse` does not report: a str
//! dict's keys) are counted in the output.
//!
//! **Leak roots.** The object the workload leaked from C (`Py_IncRef` on an instance nothing references) is among
//! `leaks`'s roots with excess 1 and no referrer, and `path` names it as held from outside the heap; a fixture has
//! at most [`MAX_LEAK_ROOTS`] leak roots. **Leak suspects:** on `py312-cache`, whose `CACHE` holds 78 % of the heap,
//! the top suspect's accumulation point is the cache dict, reached as `sys.modules['__main__'].__dict__['CACHE']`.
//!
//! **Paths.** The cache's path names the module global that holds it: `sys.modules['__main__'].__dict__['CACHE']`.
//!
//! **Owners.** `top`'s biggest owner is `__main__`'s dict, and `top --type __main__.Point` lists `Point`s reached
//! through the `POINTS` global; `retained` agrees with `top` on the same object.

mod common;

use std::collections::HashSet;

use heapscope_analysis::alive::Alive;
use heapscope_coredump::Addr;
use heapscope_snapshot::{BuildOptions, ObjectId};
use serde_json::Value;

use common::fixture;
use common::truth_graph::TruthGraph;

/// Most leak roots a fixture may report (measured: 41–108, most on 3.8, whose `.bss` a trimmed core cannot bound).
const MAX_LEAK_ROOTS: u64 = 150;

fn check(name: &str) {
    let fx = fixture(name);
    let truth = fx.truth();
    let tg = TruthGraph::new(&truth);
    let (process, _root) = fx.open_process();
    let detection = heapscope_cpython::detect(&process).expect("python found");
    let layout = common::builtin_layout(&process);
    let snap =
        heapscope_snapshot::build(&process, &detection, &layout, &BuildOptions::default()).expect("snapshot builds");
    let alive = Alive::new(&snap).expect("dominators");
    let dom = alive.dominators();
    let mut diffs = Vec::new();
    for marker in ["cache", "live_cycles"] {
        let Some(addr) = truth["markers"][marker].as_u64() else {
            println!("{name:<15} {marker}: not in this fixture");
            continue;
        };
        let want = tg.retained(tg.index[&addr]);
        let x = snap.id_of(Addr(addr)).expect("marker in the snapshot");
        // heapscope's retained set, restricted to the truth's objects, and what it adds beyond them.
        let mut got = HashSet::new();
        let mut extra = 0u64;
        for v in 0..snap.len() as ObjectId {
            if dom.dominates(x, v) {
                if tg.index.contains_key(&snap.addr(v).0) {
                    got.insert(snap.addr(v).0);
                } else {
                    extra += 1;
                }
            }
        }
        let r = alive.retained();
        assert_eq!(u64::from(r.count()[x as usize]), got.len() as u64 + extra, "{name} {marker}: count");
        let want_bytes: u64 = want.iter().map(|a| tg.sizes[tg.index[a]]).sum();
        println!(
            "{name:<15} {marker}: truth retains {} objects ({want_bytes} bytes); heapscope {} of them, plus {extra} \
             beyond the truth; retained {} objects, {} bytes",
            want.len(),
            got.len(),
            r.count()[x as usize],
            r.bytes()[x as usize]
        );
        if got != want {
            let missing: Vec<String> = want.difference(&got).take(5).map(|a| format!("{a:#x}")).collect();
            let more: Vec<String> = got.difference(&want).take(5).map(|a| format!("{a:#x}")).collect();
            diffs.push(format!(
                "{marker}: {} truth objects missing (e.g. {missing:?}), {} too many (e.g. {more:?})",
                want.difference(&got).count(),
                got.difference(&want).count()
            ));
        }
    }
    assert!(diffs.is_empty(), "{name}:\n{}", diffs.join("\n"));
    check_cli(&fx, &truth);
}

/// `leaks`, `path` and `retained` as a user runs them.
fn check_cli(fx: &common::Fixture, truth: &Value) {
    let unpacked = fx.unpacked();
    // `heapscope CMD CORE [ADDR] [OPTIONS] --format json`.
    let run = |args: &[&str]| -> Value {
        let out = unpacked.heapscope_report(args[0], args[1..].iter().chain(&["--format", "json"]));
        serde_json::from_slice(&out.stdout).expect("JSON")
    };
    let leaked = truth["markers"]["leaked"].as_u64().unwrap();
    let leaks = run(&["leaks", "--limit", "100000"]);
    let row = leaks["roots"].as_array().unwrap().iter().find(|r| r["address"].as_u64() == Some(leaked));
    let row = row.unwrap_or_else(|| panic!("{}: the leaked marker {leaked:#x} is not a leak root", fx.name));
    assert_eq!(row["excess"].as_u64(), Some(1), "{}: {row}", fx.name);
    assert_eq!(row["referrers"].as_u64(), Some(0), "{}: {row}", fx.name);
    let n_roots = leaks["roots_total"].as_u64().unwrap();
    let no_referrer = leaks["roots"].as_array().unwrap().iter().filter(|r| r["referrers"].as_u64() == Some(0)).count();
    println!("{:<15} leak roots: {n_roots} ({no_referrer} without a referrer)", fx.name);
    // Few enough to read: C globals, interpreter and thread states explain the rest of the refcount excesses.
    assert!(n_roots <= MAX_LEAK_ROOTS, "{}: {n_roots} leak roots", fx.name);
    if fx.name == "py312-cache" {
        // The cache dominates the heap: the top suspect's memory accumulates in it, reached through its global.
        let top = &leaks["suspects"][0];
        let acc = &top["accumulation"];
        assert_eq!(acc["address"], truth["markers"]["cache"], "{}: {top}", fx.name);
        assert_eq!(acc["path"], "sys.modules['__main__'].__dict__['CACHE']", "{}: {top}", fx.name);
    }

    let cache = format!("{:#x}", truth["markers"]["cache"].as_u64().unwrap());
    let path = run(&["path", &cache]);
    let text = path["paths"][0]["text"].as_str().unwrap_or("");
    assert_eq!(text, "sys.modules['__main__'].__dict__['CACHE']", "{}: {path}", fx.name);
    let path = run(&["path", &format!("{leaked:#x}")]);
    assert_eq!(path["paths"][0]["root"]["kind"], "excess", "{}: {path}", fx.name);

    // `top`: the biggest owner is `__main__`'s dict (the truth's `main_module_dict`), named through its module;
    // `--type` lists objects of that type wherever they are in the tree, with their paths.
    let top = run(&["top", "--limit", "3"]);
    let first = &top["owners"][0];
    assert_eq!(first["address"], truth["markers"]["main_module_dict"], "{}: {first}", fx.name);
    assert_eq!(first["path"], "sys.modules['__main__'].__dict__", "{}: {first}", fx.name);
    let points = run(&["top", "--type", "__main__.Point", "--limit", "5"]);
    let owners = points["owners"].as_array().unwrap();
    assert_eq!(owners.len(), 5, "{}: {points}", fx.name);
    for o in owners {
        assert_eq!(o["type"], "__main__.Point", "{}: {o}", fx.name);
        let p = o["path"].as_str().unwrap_or("");
        assert!(p.starts_with("sys.modules['__main__'].__dict__['POINTS']["), "{}: {p}", fx.name);
    }
    // `retained` as a user runs it agrees with `top`'s figure for the same object.
    let retained = run(&["retained", &format!("{:#x}", first["address"].as_u64().unwrap())]);
    assert_eq!(retained["bytes"], first["retained_bytes"], "{}: {retained}", fx.name);
    assert_eq!(retained["count"], first["retained_count"], "{}: {retained}", fx.name);
}

crate::per_fixture!(check);
