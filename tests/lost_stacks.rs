//! Thread stacks whose frame chain is cut, and the `stacks` limits a new user meets.
//!
//! - A gdb older than the process's glibc (gdb 13 with glibc 2.42+) writes the mapping of every worker thread's
//!   stack as zeros. The variants of the 3.11–3.15 cores made here the same way (each worker's stack segment,
//!   found from its stack pointer in `NT_PRSTATUS`, zeroed; written to a temporary file that is deleted after) cut
//!   the workers' chains at the entry frame (3.14, 3.15) or `_PyCFrame` (3.11, 3.12) on their C stacks; `stacks`
//!   finds the frames again in the thread's data stack, so every thread's frames still equal the truth, and marks
//!   the cut threads incomplete with one warning each.
//! - On every 3.11+ fixture, the data stack walked frame by frame holds exactly the thread's own frames of its
//!   chain, in order, up to `datastack_top`: the claim the recovery rests on.
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

/// What becomes of the worker threads' stack segments.
#[derive(Clone, Copy, PartialEq)]
enum Damage {
    /// Their bytes are zeros, as gdb 13 writes them on glibc 2.42+.
    Zeroed,
    /// The core omits their bytes (`p_filesz` 0).
    Missing,
}

/// The fixture's core with the stack segment of every thread but the main one damaged, in a temporary file under
/// /tmp (deleted when dropped), and the address ranges damaged.
fn damage_worker_stacks(name: &str, damage: Damage) -> (tempfile::NamedTempFile, Vec<(u64, u64)>) {
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
        match damage {
            Damage::Zeroed => bytes[start..start + len].fill(0),
            Damage::Missing => drop_segment_bytes(&mut bytes, seg.vaddr.0),
        }
        zeroed.push((seg.vaddr.0, seg.vaddr.0 + seg.memsz));
    }
    assert_eq!(core.threads().iter().filter(|t| workers.contains(&u64::from(t.tid))).count(), workers.len());
    let mut file = tempfile::Builder::new().prefix("heapscope-zeroed-stacks-").tempfile_in("/tmp").unwrap();
    file.write_all(&bytes).unwrap();
    file.flush().unwrap();
    (file, zeroed)
}

/// The zeroed variant of fixture `name`: `cut` says whether the workers' chains are cut there. They are in 3.11 and
/// 3.12, whose chain starts at a `_PyCFrame` on the C stack, and in 3.14 and 3.15, whose `Thread._bootstrap_inner`
/// calls `run` through `Context.run`, a C function, so an entry frame on the C stack sits in the middle; in 3.13
/// only the outermost entry frame is on it, and nothing is lost.
/// Sets `p_filesz` to 0 in the program header of the `PT_LOAD` segment at `vaddr` (ELF64, little-endian).
fn drop_segment_bytes(core: &mut [u8], vaddr: u64) {
    let u64_at = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    let phoff = u64_at(core, 32) as usize;
    let phentsize = u16::from_le_bytes([core[54], core[55]]) as usize;
    let phnum = u16::from_le_bytes([core[56], core[57]]) as usize;
    let ph = (0..phnum)
        .map(|i| phoff + i * phentsize)
        .find(|&ph| core[ph..ph + 4] == 1u32.to_le_bytes() && u64_at(core, ph + 16) == vaddr)
        .expect("the segment's program header");
    core[ph + 32..ph + 40].fill(0);
}

fn zeroed_worker_stacks(name: &str, cut: bool) {
    let (core, zeroed) = damage_worker_stacks(name, Damage::Zeroed);
    let root = empty_sysroot();
    let out = common::stacks::json_with_locals(core.path(), root.path());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{name}: {stderr}");
    let got: Value = serde_json::from_slice(&out.stdout).expect("stacks prints JSON");
    let truth = fixture(name).truth();
    // Every thread's frames (function, file, line, …) and locals equal the truth.
    common::stacks::compare(name, &got, &truth);

    let warnings: Vec<&str> = stderr.lines().filter(|l| l.starts_with("heapscope: warning: thread ")).collect();
    let threads = got["threads"].as_array().unwrap();
    let workers: Vec<&Value> = threads.iter().filter(|t| t["name"] != "MainThread").collect();
    let want_warnings = if cut { workers.len() } else { 0 };
    assert_eq!(warnings.len(), want_warnings, "{name}: one warning per cut thread:\n{stderr}");
    for t in threads {
        let worker = t["name"] != "MainThread" && cut;
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
        // The address named is where the chain was cut (an entry frame, or 3.11/3.12's `_PyCFrame`): on the zeroed
        // stack.
        let at = w.split("cut at 0x").nth(1).and_then(|r| r.split(' ').next()).expect("an address");
        let at = u64::from_str_radix(at, 16).unwrap();
        assert!(zeroed.iter().any(|&(s, e)| s <= at && at < e), "{name}: {at:#x} is not on a zeroed stack: {w}");
    }
    // The exported `threads` table says the same in its `incomplete` column.
    let out = heapscope([
        OsStr::new("query"),
        core.path().as_os_str(),
        OsStr::new("SELECT tid, incomplete FROM threads"),
        OsStr::new("--format"),
        OsStr::new("json"),
        OsStr::new("--sysroot"),
        root.path().as_os_str(),
        OsStr::new("--no-cache"),
    ]);
    assert!(out.status.success(), "{name}: query: {}", String::from_utf8_lossy(&out.stderr));
    let rows: Value = serde_json::from_slice(&out.stdout).expect("query prints JSON");
    let rows = rows.as_array().expect("rows");
    assert_eq!(rows.len(), threads.len(), "{name}: {rows:?}");
    for t in threads {
        let row = rows.iter().find(|r| r["tid"] == t["tid"]).unwrap_or_else(|| panic!("{name}: no row for {t}"));
        assert_eq!(row["incomplete"], t["incomplete"], "{name}: thread {} in the threads table", t["tid"]);
    }
    eprintln!("{name}: {want_warnings} worker chains cut, every frame equal to the truth");
}

/// The core lacks the workers' C stacks (3.14): each chain breaks at an entry frame it cannot read; the walk goes on
/// in the data stack, every frame equals the truth, and the warning names the unreadable address.
#[test]
fn missing_worker_stacks() {
    let name = "py314";
    let (core, missing) = damage_worker_stacks(name, Damage::Missing);
    let root = empty_sysroot();
    let out = common::stacks::json_with_locals(core.path(), root.path());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let got: Value = serde_json::from_slice(&out.stdout).expect("stacks prints JSON");
    common::stacks::compare(name, &got, &fixture(name).truth());
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.starts_with("heapscope: warning: thread ")).collect();
    assert_eq!(warnings.len(), 3, "{stderr}");
    for w in warnings {
        assert!(w.contains("not in the core") || w.contains("does not contain"), "{w}");
        assert!(w.contains("the core lacks this thread's C stack"), "{w}");
        let named: Vec<u64> = w
            .split("0x")
            .skip(1)
            .filter_map(|r| u64::from_str_radix(r.split(|c: char| !c.is_ascii_hexdigit()).next()?, 16).ok())
            .collect();
        assert!(named.iter().any(|&a| missing.iter().any(|&(s, e)| s <= a && a < e)), "{w}");
    }
}

mod zeroed {
    use super::zeroed_worker_stacks;

    #[test]
    fn py311() {
        zeroed_worker_stacks("py311", true);
    }

    #[test]
    fn py312() {
        zeroed_worker_stacks("py312", true);
    }

    #[test]
    fn py313() {
        zeroed_worker_stacks("py313", false);
    }

    #[test]
    fn py314() {
        zeroed_worker_stacks("py314", true);
    }

    #[test]
    fn py315() {
        zeroed_worker_stacks("py315", true);
    }
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
            // `datastack_top` ends the newest frame: the innermost the chain reaches in the data stack.
            assert!(d.exact_top && k + 1 == d.frames.len(), "{name}: thread {:#x}: {k} of {:?}", t.ident, d.frames);
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
    let out = common::stacks::json_with_locals(&fx.core(), root.path());
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
    assert!(stderr.contains(&format!("heapscope: error: {unreadable} locals could not be read")), "{stderr}");
    assert!(stderr.contains("--sysroot"), "the cause names the way out: {stderr}");
}
