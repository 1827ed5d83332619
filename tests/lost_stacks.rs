//! Thread stacks whose frame chain is cut, and the `stacks` limits a new user meets.
//!
//! - A gdb older than the process's glibc (gdb 13 with glibc 2.42+) writes the mapping of every worker thread's
//!   stack as zeros. The variant of the py314 and py315 cores made here the same way (each worker's stack segment,
//!   found from its stack pointer in `NT_PRSTATUS`, zeroed; written to a temporary file that is deleted after) cuts
//!   each worker's chain at the entry frame on its C stack; `stacks` finds the older frames again in the thread's
//!   data stack, so every thread's frames still equal the truth, and marks the cut threads incomplete with one
//!   warning each.
//! - On every 3.11+ fixture, the data stack walked frame by frame holds exactly the thread's own frames of its
//!   chain, in order: the claim the recovery rests on.
//! - `--max-depth N` shows N frames and counts the rest; `--locals` with values it cannot read warns and exits 2.

mod common;

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::io::Write;

use heapscope_coredump::{Addr, CoreFile};
use heapscope_cpython::frames::{data_stack, frame_chain};
use heapscope_cpython::objects::Heap;
use heapscope_cpython::runtime;
use serde_json::Value;

use common::{builtin_layout, empty_sysroot, fixture, heapscope};

/// The fixture's core with the stack segment of every thread but the main one zeroed, as gdb 13 writes it on glibc
/// 2.42+, in a temporary file (deleted when dropped), and the address ranges zeroed.
fn zero_worker_stacks(name: &str) -> (tempfile::NamedTempFile, Vec<(u64, u64)>) {
    let fx = fixture(name);
    let truth = fx.truth();
    let workers: BTreeSet<u64> = truth["threads"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["name"] != "MainThread")
        .map(|t| t["native_id"].as_u64().unwrap())
        .collect();
    assert!(!workers.is_empty(), "{name}: the truth has worker threads");
    let raw = zstd::decode_all(&std::fs::read(fx.core()).unwrap()[..]).expect("core decompresses");
    let core = CoreFile::from_bytes(name, raw.clone()).expect("core parses");
    let mut bytes = raw;
    let mut zeroed = Vec::new();
    for t in core.threads().iter().filter(|t| workers.contains(&u64::from(t.tid))) {
        let sp = t.regs.sp().expect("a stack pointer");
        let seg = core.segment_at(Addr(sp)).unwrap_or_else(|| panic!("{name}: thread {} has no stack segment", t.tid));
        let (start, len) = (seg.file_offset as usize, seg.filesz as usize);
        bytes[start..start + len].fill(0);
        zeroed.push((seg.vaddr.0, seg.vaddr.0 + seg.memsz));
    }
    assert_eq!(core.threads().iter().filter(|t| workers.contains(&u64::from(t.tid))).count(), workers.len());
    let mut file = tempfile::Builder::new().prefix("heapscope-zeroed-stacks-").tempfile_in("/tmp").unwrap();
    file.write_all(&bytes).unwrap();
    file.flush().unwrap();
    (file, zeroed)
}

fn zeroed_worker_stacks(name: &str) {
    let (core, zeroed) = zero_worker_stacks(name);
    let root = empty_sysroot();
    let args = [
        OsStr::new("stacks"),
        OsStr::new("--format"),
        OsStr::new("json"),
        OsStr::new("--locals"),
        core.path().as_os_str(),
        OsStr::new("--sysroot"),
        root.path().as_os_str(),
    ];
    let out = heapscope(args);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{name}: {stderr}");
    let got: Value = serde_json::from_slice(&out.stdout).expect("stacks prints JSON");
    let truth = fixture(name).truth();
    // Every thread's frames (function, file, line, …) and locals equal the truth.
    common::stacks::compare(name, &got, &truth);

    let warnings: Vec<&str> = stderr.lines().filter(|l| l.starts_with("heapscope: warning: thread ")).collect();
    let threads = got["threads"].as_array().unwrap();
    let workers: Vec<&Value> = threads.iter().filter(|t| t["name"] != "MainThread").collect();
    assert_eq!(warnings.len(), workers.len(), "{name}: one warning per cut thread:\n{stderr}");
    for t in threads {
        let worker = t["name"] != "MainThread";
        assert_eq!(t["incomplete"], worker, "{name}: thread {} incomplete", t["name"]);
        if !worker {
            assert!(t.get("warnings").is_none(), "{name}: {t}");
            continue;
        }
        let tid = t["tid"].as_u64().unwrap();
        let w = warnings
            .iter()
            .find(|w| w.starts_with(&format!("heapscope: warning: thread {tid} ")))
            .unwrap_or_else(|| panic!("{name}: no warning for thread {tid}:\n{stderr}"));
        assert_eq!(t["warnings"][0].as_str().map(|s| w.ends_with(s)), Some(true), "{name}: {w}");
        assert!(w.contains("reads as zeros") && w.contains("gdb 13 with glibc 2.42"), "{name}: {w}");
        // The address named is the frame the chain was cut at: on the zeroed stack.
        let at = w.split("cut at the frame at 0x").nth(1).and_then(|r| r.split(' ').next()).expect("an address");
        let at = u64::from_str_radix(at, 16).unwrap();
        assert!(zeroed.iter().any(|&(s, e)| s <= at && at < e), "{name}: {at:#x} is not on a zeroed stack: {w}");
    }
    eprintln!("{name}: {} worker chains cut, every frame recovered", workers.len());
}

mod zeroed {
    crate::per_fixture!(check: py314, py315);
    use super::zeroed_worker_stacks as check;
}

/// The claim the recovery rests on, on the real cores: walked frame by frame from the oldest chunk, the data stack
/// holds the thread's own frames in order; the frames of the chain that lie in it are exactly its frames from the
/// oldest up to the innermost one the chain reaches there, newest first.
fn data_stack_matches_the_chain(name: &str) {
    let fx = fixture(name);
    let (process, _root) = fx.open_process();
    let layout = builtin_layout(&process);
    let heap = Heap::new(&process, &layout);
    let python = heapscope_cpython::detect(&process).unwrap();
    let mut checked = 0;
    for interp in runtime::interpreters(&process, &layout, python.runtime).items {
        for t in runtime::threads(&process, &layout, interp.addr).items {
            let d = data_stack(&heap, t.tstate);
            let chain: Vec<Addr> = frame_chain(&heap, t.tstate, 10_000).map(|f| f.unwrap().addr).collect();
            let in_data: Vec<Addr> = chain.iter().copied().filter(|&a| d.contains(a)).collect();
            assert!(!in_data.is_empty(), "{name}: thread {:#x}: no chain frame in the data stack", t.ident);
            let k = d.frames.iter().position(|&f| f == in_data[0]).unwrap();
            let mut want = d.frames[..=k].to_vec();
            want.reverse();
            assert_eq!(in_data, want, "{name}: thread {:#x}", t.ident);
            checked += in_data.len();
        }
    }
    assert!(checked >= 20, "{name}: only {checked} frames checked");
    eprintln!("{name}: {checked} data-stack frames equal to the chain's");
}

mod data_stack {
    crate::per_fixture!(check: py311, py312, py313, py314, py315, py312_cache);
    use super::data_stack_matches_the_chain as check;
}

/// `--max-depth N` shows the N innermost frames of each thread and counts the rest: no error, exit 0.
#[test]
fn max_depth_truncates_without_error() {
    let fx = fixture("py312");
    let truth = fx.truth();
    let root = empty_sysroot();
    let run = |format: &str| {
        let out = heapscope([
            OsStr::new("stacks"),
            OsStr::new("--max-depth"),
            OsStr::new("2"),
            OsStr::new("--format"),
            OsStr::new(format),
            fx.core().as_os_str(),
            OsStr::new("--sysroot"),
            root.path().as_os_str(),
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        String::from_utf8(out.stdout).unwrap()
    };
    let got: Value = serde_json::from_str(&run("json")).unwrap();
    assert_eq!(got["errors"], 0);
    for want in truth["threads"].as_array().unwrap() {
        let t = got["threads"].as_array().unwrap().iter().find(|t| t["tid"] == want["native_id"]).unwrap();
        let want_frames = want["frames"].as_array().unwrap();
        let names = |fs: &[Value]| fs.iter().map(|f| f["function"].clone()).collect::<Vec<_>>();
        assert_eq!(names(t["frames"].as_array().unwrap()), names(&want_frames[..2]), "{t}");
        assert_eq!(t["more_frames"], want_frames.len() - 2, "{t}");
        assert!(t["errors"].as_array().unwrap().is_empty(), "{t}");
    }
    let table = run("table");
    let worker = truth["threads"].as_array().unwrap().iter().find(|t| t["name"] != "MainThread").unwrap();
    let more = worker["frames"].as_array().unwrap().len() - 2;
    assert!(table.contains(&format!("  … {more} more frames not shown (raise --max-depth)")), "{table}");
}

/// `--locals` on a core whose binaries' pages are missing (py312-filter33 without its binaries): the values that
/// cannot be read are shown as `<unreadable …>`, counted in the JSON and in a warning, and the run exits 2 after
/// writing the whole report.
#[test]
fn unreadable_locals_warn_and_fail() {
    let fx = fixture("py312-filter33");
    let root = empty_sysroot();
    let out = heapscope([
        OsStr::new("stacks"),
        OsStr::new("--locals"),
        OsStr::new("--format"),
        OsStr::new("json"),
        fx.core().as_os_str(),
        OsStr::new("--sysroot"),
        root.path().as_os_str(),
    ]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let got: Value = serde_json::from_slice(&out.stdout).expect("the report is written in full");
    let unreadable = got["locals"]["unreadable"].as_u64().unwrap();
    let total = got["locals"]["total"].as_u64().unwrap();
    assert!(unreadable > 0 && unreadable < total, "{unreadable} of {total}");
    let shown = got["threads"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["frames"].as_array().unwrap())
        .flat_map(|f| f["locals"].as_object().unwrap().values())
        .filter(|v| v.as_str().is_some_and(|s| s.starts_with("<unreadable 0x")))
        .count() as u64;
    assert_eq!(shown, unreadable);
    let line = format!("heapscope: warning: {unreadable} of {total} locals could not be read");
    assert!(stderr.lines().any(|l| l.starts_with(&line)), "{stderr}");
    assert!(stderr.contains("--sysroot"), "the cause names the way out: {stderr}");
}
