//! Roots as referrers: `referrers` and `show` list the roots that hold an object, named, on every fixture core.
//!
//! The workload (tools/fixtures/workload/workload.py) starts threads `worker-0` … `worker-2`; each runs
//! `_worker_inner`, whose local `instance` holds the only reference to a `Payload` (refcount 1 in the truth). Per
//! fixture:
//! - `referrers --format json` of each `Payload` lists a root naming the function `_worker_inner`, the local
//!   `instance` and the thread `worker-N` (3.11+ a `frame_ref` root row; ≤3.10 the frame object, itself a root,
//!   whose row carries the same naming), and the three payloads name the three workers;
//! - the `__main__` module (the module whose dict is the `main_module_dict` marker) has the referrer
//!   `sys.modules['__main__']`, a `module` root;
//! - `show` (table) of a payload prints the frame root's description;
//! - 3.12+: exactly one root of kind `interned`, a dict of more than 1,000 items, each an interned str mapped to
//!   itself, whose `referrers` list it as `interned strings`; ≤3.11 none (the table is a file-static variable there).

mod common;

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::Path;

use heapscope_coredump::{CoreProcess, OpenOptions};
use heapscope_cpython::heap::roots::RootKind;
use heapscope_cpython::layout::{DwarfPolicy, Layout};
use heapscope_cpython::objects::Heap;
use heapscope_snapshot::BuildOptions;
use serde_json::Value;

use common::{empty_sysroot, fixture, heapscope, Fixture};

/// Runs `heapscope ARGS… CORE ADDR --sysroot ROOT` and returns stdout; exit 2 (some part undecodable) is accepted.
fn run(args: &[&str], core: &Path, addr: u64, root: &Path) -> String {
    let addr = format!("{addr:#x}");
    let mut all: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    all.extend([core.as_os_str(), OsStr::new(&addr), OsStr::new("--sysroot"), root.as_os_str()]);
    let out = heapscope(&all);
    assert!(matches!(out.status.code(), Some(0 | 2)), "heapscope {all:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn referrers(core: &Path, addr: u64, root: &Path) -> Value {
    let out = run(&["referrers", "--format", "json", "--limit", "100000"], core, addr, root);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("referrers of {addr:#x}: no JSON ({e}):\n{out}"))
}

/// The addresses of the truth's objects of type `__main__.<name>`.
fn of_type(truth: &Value, name: &str) -> Vec<u64> {
    let ty = format!("__main__.{name}");
    truth["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["type"].as_str() == Some(&ty))
        .map(|o| o["address"].as_u64().unwrap())
        .collect()
}

fn check(name: &str) {
    let fx: Fixture = fixture(name);
    let root = empty_sysroot();
    if fx.has_sysroot() {
        fx.extract_sysroot(root.path());
    }
    let (core, truth) = (fx.core(), fx.truth());
    let mut problems = Vec::new();

    // Each Payload: held by one worker's `_worker_inner` local `instance`.
    let payloads = of_type(&truth, "Payload");
    assert_eq!(payloads.len(), 3, "{name}: the truth has one Payload per worker");
    let mut threads = BTreeSet::new();
    for &p in &payloads {
        let json = referrers(&core, p, root.path());
        let rows = json["refs"].as_array().unwrap();
        let named: Vec<&Value> = rows
            .iter()
            .filter_map(|r| r.get("root"))
            .filter(|r| r["function"] == "_worker_inner" && r["local"] == "instance")
            .collect();
        match named.as_slice() {
            [r] => {
                let thread = r["thread"].as_str().unwrap_or_default().to_owned();
                let text = format!("frame _worker_inner local instance (thread {thread})");
                if r["text"] != text.as_str() {
                    problems.push(format!("Payload {p:#x}: root text {} != {text:?}", r["text"]));
                }
                let kind = r["kind"].as_str().unwrap_or_default();
                if !matches!(kind, "frame_ref" | "frame_object") {
                    problems.push(format!("Payload {p:#x}: root kind {kind}"));
                }
                threads.insert(thread);
            }
            _ => problems
                .push(format!("Payload {p:#x}: {} rows name `_worker_inner` local `instance`: {json}", named.len())),
        }
        if json["total"].as_u64() != Some(rows.len() as u64) || rows.is_empty() {
            problems.push(format!("Payload {p:#x}: total {} for {} rows", json["total"], rows.len()));
        }
    }
    let want: BTreeSet<String> = (0..3).map(|i| format!("worker-{i}")).collect();
    if threads != want {
        problems.push(format!("the payloads name threads {threads:?}, want {want:?}"));
    }

    // The __main__ module: `sys.modules['__main__']`.
    let dict = truth["markers"]["main_module_dict"].as_u64().unwrap();
    let main = truth["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["type"] == "module" && o["referents"].as_array().unwrap().iter().any(|r| r.as_u64() == Some(dict)))
        .and_then(|o| o["address"].as_u64())
        .expect("the truth has the __main__ module");
    let json = referrers(&core, main, root.path());
    let module_roots: Vec<&Value> = json["refs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "root" && r["root"]["kind"] == "module")
        .collect();
    match module_roots.as_slice() {
        [r] if r["label"] == "sys.modules['__main__']" && r["root"]["text"] == "sys.modules['__main__']" => {}
        _ => problems.push(format!("__main__ ({main:#x}): module roots {module_roots:?}")),
    }

    // `show`, as a table: the frame's description is printed.
    let table = run(&["show"], &core, payloads[0], root.path());
    if !table.contains("frame _worker_inner local instance (thread worker-") {
        problems.push(format!("show of Payload {:#x} names no frame:\n{table}", payloads[0]));
    }

    check_interned(&fx, root.path(), &mut problems);

    assert!(problems.is_empty(), "{name}:\n{}", problems.join("\n"));
}

/// The interned-strings root: its dict holds interned strs only, each its own value; `referrers` names it.
fn check_interned(fx: &Fixture, root: &Path, problems: &mut Vec<String>) {
    let opts = OpenOptions { sysroot: Some(root.to_owned()), search_paths: Vec::new() };
    let process = CoreProcess::open(&fx.core(), &opts).expect("core opens");
    let detection = heapscope_cpython::detect(&process).expect("python found");
    let layout = Layout::resolve(&process, &detection, DwarfPolicy::Off).expect("layout resolves").0;
    let snap =
        heapscope_snapshot::build(&process, &detection, &layout, &BuildOptions::default()).expect("snapshot builds");
    let h = Heap::new(&process, &layout);
    let interned: Vec<_> = snap.roots().iter().filter(|r| r.kind == RootKind::Interned).collect();
    if detection.version.minor < 12 {
        if !interned.is_empty() {
            problems.push(format!("{} interned roots before 3.12", interned.len()));
        }
        return;
    }
    let [r] = interned.as_slice() else {
        return problems.push(format!("{} interned roots, want 1", interned.len()));
    };
    let dict = snap.addr(r.id);
    let items = h.dict_items(dict, 1 << 20).expect("the interned dict decodes");
    let bad = items.iter().filter(|(k, v)| k != v || !h.str_value(*k, 0).is_ok_and(|s| s.interned != 0)).count();
    if items.len() < 1000 || bad > 0 {
        problems
            .push(format!("interned dict {dict}: {} items, {bad} not an interned str mapped to itself", items.len()));
    }
    let json = referrers(&fx.core(), dict.0, root);
    let rows: Vec<&Value> =
        json["refs"].as_array().unwrap().iter().filter(|r| r["root"]["kind"] == "interned").collect();
    match rows.as_slice() {
        [row] if row["label"] == "interned strings" && row["kind"] == "root" => {}
        _ => problems.push(format!("referrers of the interned dict {dict}: {json}")),
    }
}

crate::per_fixture!(check);
