//! `heapscope info --layout` on every fixture, and the resolved layout against the ground truth.
//!
//! The layout is resolved from the core alone (an empty sysroot: no DWARF), so it is the built-in table plus
//! `_Py_DebugOffsets` (3.13+), which must agree with each other. Walking the thread list through it
//! (`_PyRuntime` → `interpreters.head` → `threads.head` → `next`…) must give exactly the threads the process
//! reported: kernel ids (`native_thread_id`, 3.11+) or `threading.get_ident()` values (`thread_id`, 3.8–3.10).

mod common;

use std::collections::BTreeSet;
use std::ffi::OsStr;

use heapscope_coredump::{Addr, CoreProcess, Memory, OpenOptions};
use heapscope_cpython::layout::{DwarfPolicy, Layout};
use serde_json::Value;

use common::{empty_sysroot, fixtures, info_json, Fixture};

/// Fields the stack walker reads, by frame model.
fn needed(minor: u64) -> Vec<&'static str> {
    let mut v = vec![
        "RuntimeState.interpreters_head",
        "InterpreterState.next",
        "InterpreterState.threads_head",
        "ThreadState.next",
        "ThreadState.interp",
        "ThreadState.thread_id",
        "CodeObject.filename",
        "CodeObject.name",
        "CodeObject.firstlineno",
        "CodeObject.linetable",
        "Object.ob_type",
        "VarObject.ob_size",
        "TupleObject.ob_item",
        "AsciiObject.length",
        "AsciiObject.state",
        "AsciiObject.size",
        "CompactUnicodeObject.size",
    ];
    match minor {
        ..=10 => v.extend(["ThreadState.frame", "FrameObject.f_back", "FrameObject.f_code", "FrameObject.f_lasti"]),
        11 | 12 => v.extend(["ThreadState.cframe", "CFrame.current_frame"]),
        _ => v.push("ThreadState.current_frame"),
    }
    if minor <= 9 {
        v.retain(|f| *f != "CodeObject.linetable");
        v.push("CodeObject.lnotab");
    }
    if minor >= 11 {
        v.extend([
            "ThreadState.native_thread_id",
            "ThreadState.datastack_chunk",
            "InterpreterFrame.previous",
            "InterpreterFrame.executable",
            "InterpreterFrame.instr_ptr",
            "InterpreterFrame.owner",
            "InterpreterFrame.localsplus",
            "CodeObject.qualname",
            "CodeObject.code_adaptive",
            "CodeObject.localsplusnames",
            "CodeObject.nlocalsplus",
        ]);
    }
    v
}

/// `info --layout --format json` from the core alone (with the shipped binaries for a fixture that has them).
fn layout_json(fx: &Fixture) -> Value {
    let root = empty_sysroot();
    if fx.has_sysroot() {
        fx.extract_sysroot(root.path());
    }
    let info = info_json(&fx.core(), &[OsStr::new("--layout"), OsStr::new("--sysroot"), root.path().as_os_str()]);
    info["layout"].clone()
}

#[test]
fn every_fixture_resolves_a_layout_with_what_the_stack_walker_needs() {
    for fx in fixtures() {
        let layout = layout_json(&fx);
        assert!(layout["error"].is_null(), "{}: {layout:#}", fx.name);
        let minor: u64 = layout["version"].as_str().unwrap().split('.').nth(1).unwrap().parse().unwrap();
        let warnings: Vec<&str> = layout["warnings"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        assert!(warnings.is_empty(), "{}: {warnings:#?}", fx.name);

        let fields = layout["fields"].as_array().unwrap();
        let field = |name: &str| fields.iter().find(|f| f["field"] == name);
        for name in needed(minor) {
            let f = field(name).unwrap_or_else(|| panic!("{}: no field {name} in the report", fx.name));
            assert!(f["offset"].is_u64(), "{}: {name} is not known: {f}", fx.name);
        }
        let from_debug_offsets = fields.iter().filter(|f| f["source"] == "debug_offsets").count();
        if minor >= 13 {
            assert!(from_debug_offsets >= 60, "{}: only {from_debug_offsets} fields from _Py_DebugOffsets", fx.name);
            let f = field("ThreadState.current_frame").unwrap();
            assert_eq!(f["source"], "debug_offsets", "{}", fx.name);
        } else {
            assert_eq!(from_debug_offsets, 0, "{}", fx.name);
        }
        assert!(fields.iter().all(|f| f["source"] != "dwarf"), "{}: no DWARF under an empty sysroot", fx.name);
    }
}

#[test]
fn the_table_output_lists_fields_with_their_source() {
    let fx = common::fixture("py313");
    let root = empty_sysroot();
    let out = common::heapscope_ok([
        OsStr::new("info"),
        OsStr::new("--layout"),
        fx.core().as_os_str(),
        OsStr::new("--sysroot"),
        root.path().as_os_str(),
    ]);
    assert!(out.lines().any(|l| l.starts_with("layout:") && l.contains("3.13")), "{out}");
    let row = out.lines().find(|l| l.starts_with("ThreadState.current_frame ")).expect("a current_frame row");
    assert!(row.contains(" 72 ") && row.contains("_Py_DebugOffsets") && row.contains("PyThreadState.current_frame"));
    // Extension-module structs are in the layout too, from the table, with the module that defines them.
    let row = out.lines().find(|l| l.starts_with("StgInfo.module ")).expect("a StgInfo.module row");
    assert!(row.contains(" 120 ") && row.contains(" table ") && row.contains("StgInfo.module (_ctypes)"), "{row}");
    let row = out.lines().find(|l| l.starts_with("StgDict.proto ")).expect("a StgDict.proto row");
    assert!(row.contains(" - ") && row.contains(" unknown "), "{row}");
    let plain = common::heapscope_ok([
        OsStr::new("info"),
        fx.core().as_os_str(),
        OsStr::new("--sysroot"),
        root.path().as_os_str(),
    ]);
    assert!(!plain.contains("layout:"), "no layout without --layout");
    let json = info_json(&fx.core(), &[OsStr::new("--sysroot"), root.path().as_os_str()]);
    assert!(json.get("layout").is_none(), "no layout key without --layout");
}

/// The thread list read through the layout is exactly the truth's set of threads.
#[test]
fn the_thread_list_walked_through_the_layout_is_the_truths() {
    for fx in fixtures() {
        let truth = fx.truth();
        let root = empty_sysroot();
        if fx.has_sysroot() {
            fx.extract_sysroot(root.path());
        }
        let opts = OpenOptions { sysroot: Some(root.path().to_path_buf()), search_paths: Vec::new() };
        let p = CoreProcess::open(&fx.core(), &opts).expect("core opens");
        let d = heapscope_cpython::detect(&p).expect("interpreter found");
        let (layout, _) = Layout::resolve(&p, &d, DwarfPolicy::Off).expect("layout resolves");
        let ptr = |base: Addr, field: &heapscope_cpython::layout::Field| -> Addr {
            p.read_ptr(base.wrapping_add(field.get().expect("field known"))).expect("readable")
        };

        let interp = ptr(d.runtime, &layout.runtime.interpreters_head);
        assert!(!interp.is_null(), "{}", fx.name);
        let mut tstate = ptr(interp, &layout.interp.threads_head);
        let mut got = BTreeSet::new();
        while !tstate.is_null() {
            assert!(got.len() < 64, "{}: thread list too long", fx.name);
            let id = if d.version.minor >= 11 {
                p.read_u64(tstate.wrapping_add(layout.tstate.native_thread_id.get().unwrap())).unwrap()
            } else {
                p.read_u64(tstate.wrapping_add(layout.tstate.thread_id.get().unwrap())).unwrap()
            };
            assert_eq!(ptr(tstate, &layout.tstate.interp), interp, "{}", fx.name);
            got.insert(id);
            tstate = ptr(tstate, &layout.tstate.next);
        }
        let key = if d.version.minor >= 11 { "native_id" } else { "ident" };
        let want: BTreeSet<u64> =
            truth["threads"].as_array().unwrap().iter().map(|t| t[key].as_u64().unwrap()).collect();
        assert_eq!(got, want, "{}: thread {key}s", fx.name);
        assert!(ptr(interp, &layout.interp.next).is_null(), "{}: one interpreter", fx.name);
    }
}
