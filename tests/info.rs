//! `heapscope info` against the ground truth of every fixture core.

mod common;

use std::collections::BTreeSet;
use std::ffi::OsStr;

use common::{empty_sysroot, fixtures, info_json};

/// Every fixture: the exact Python version and exactly the set of thread ids the process reported about itself.
/// Self-contained fixtures are read from the core alone (an empty sysroot); the others with their shipped binaries.
#[test]
fn info_reports_the_truth_version_and_threads() {
    for fx in fixtures() {
        let truth = fx.truth();
        let root = empty_sysroot();
        if fx.has_sysroot() {
            fx.extract_sysroot(root.path());
        }
        let info = info_json(&fx.core(), &[OsStr::new("--sysroot"), root.path().as_os_str()]);

        let want_version = truth["version"].as_str().expect("truth has a version");
        assert_eq!(info["python"]["version"].as_str(), Some(want_version), "{}: {info:#}", fx.name);

        let want_tids: BTreeSet<u64> =
            truth["threads"].as_array().unwrap().iter().map(|t| t["native_id"].as_u64().unwrap()).collect();
        let got_tids: BTreeSet<u64> =
            info["threads"].as_array().unwrap().iter().map(|t| t["tid"].as_u64().unwrap()).collect();
        assert_eq!(got_tids, want_tids, "{}: thread ids", fx.name);
        assert!(want_tids.len() >= 4, "{}: the workload runs a main thread and at least 3 workers", fx.name);

        let pid = info["process"]["pid"].as_u64();
        assert_eq!(pid, truth["pid"].as_u64(), "{}: pid", fx.name);
    }
}

/// The runtime address `info` reports is where the truth's interpreter keeps `_PyRuntime`: inside the object that
/// defines it, and (3.13+) starting with the `_Py_DebugOffsets` cookie, which `info` reads back as the version source.
#[test]
fn info_locates_the_runtime_inside_the_interpreter() {
    for fx in fixtures().into_iter().filter(|f| !f.has_sysroot()) {
        let root = empty_sysroot();
        let info = info_json(&fx.core(), &[OsStr::new("--sysroot"), root.path().as_os_str()]);
        let runtime = info["python"]["runtime"].as_u64().expect("runtime address");
        let holder = info["objects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["start"].as_u64().unwrap() <= runtime && runtime < o["end"].as_u64().unwrap());
        let holder = holder.unwrap_or_else(|| panic!("{}: _PyRuntime {runtime:#x} is in no mapped object", fx.name));
        let path = holder["path"].as_str().unwrap();
        assert!(path.contains("python"), "{}: _PyRuntime in {path}", fx.name);
        let minor: u32 = info["python"]["version"].as_str().unwrap().split('.').nth(1).unwrap().parse().unwrap();
        let source = info["python"]["version_source"].as_str().unwrap();
        if minor >= 13 {
            assert_eq!(source, "_Py_DebugOffsets.version", "{}", fx.name);
        } else if minor >= 11 {
            assert_eq!(source, "Py_Version symbol", "{}", fx.name);
        }
    }
}

/// The table format names the same version and the thread count.
#[test]
fn info_table_is_readable() {
    let fx = common::fixture("py311");
    let truth = fx.truth();
    let root = empty_sysroot();
    let out = common::heapscope_ok([
        OsStr::new("info"),
        fx.core().as_os_str(),
        OsStr::new("--sysroot"),
        root.path().as_os_str(),
    ]);
    let version = truth["version"].as_str().unwrap();
    assert!(out.lines().any(|l| l.starts_with("python:") && l.contains(version)), "{out}");
    let threads = truth["threads"].as_array().unwrap().len();
    assert!(out.lines().any(|l| l.starts_with(&format!("threads:     {threads} "))), "{out}");
}

/// A core of a process that is not Python is still described; the Python line says why nothing was found.
#[test]
fn info_on_a_non_python_core_explains() {
    // A one-page, one-thread core written by hand: no mapped files at all.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not-python.core");
    std::fs::write(&path, minimal_core()).unwrap();
    let info = info_json(&path, &[]);
    assert!(info["python"].is_null());
    let why = info["python_error"].as_str().unwrap();
    assert!(why.contains("no CPython interpreter found"), "{why}");
}

/// An ELF64 ET_CORE with one PT_NOTE (an NT_PRSTATUS for tid 42) and one PT_LOAD of one page.
fn minimal_core() -> Vec<u8> {
    let mut prstatus = vec![0u8; 336];
    prstatus[32..36].copy_from_slice(&42u32.to_le_bytes());
    let mut note = Vec::new();
    note.extend_from_slice(&5u32.to_le_bytes());
    note.extend_from_slice(&(prstatus.len() as u32).to_le_bytes());
    note.extend_from_slice(&1u32.to_le_bytes());
    note.extend_from_slice(b"CORE\0\0\0\0");
    note.extend_from_slice(&prstatus);
    let phoff = 64u64;
    let notes_at = phoff + 2 * 56;
    let load_at = 0x1000u64;
    let mut f = vec![0u8; 64];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 2; // ELFCLASS64
    f[5] = 1; // little-endian
    f[6] = 1;
    f[16..18].copy_from_slice(&4u16.to_le_bytes()); // ET_CORE
    f[18..20].copy_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    f[20..24].copy_from_slice(&1u32.to_le_bytes());
    f[32..40].copy_from_slice(&phoff.to_le_bytes());
    f[52..54].copy_from_slice(&64u16.to_le_bytes());
    f[54..56].copy_from_slice(&56u16.to_le_bytes());
    f[56..58].copy_from_slice(&2u16.to_le_bytes());
    let phdr = |p_type: u32, flags: u32, offset: u64, vaddr: u64, size: u64| {
        let mut h = Vec::new();
        h.extend_from_slice(&p_type.to_le_bytes());
        h.extend_from_slice(&flags.to_le_bytes());
        h.extend_from_slice(&offset.to_le_bytes());
        h.extend_from_slice(&vaddr.to_le_bytes());
        h.extend_from_slice(&0u64.to_le_bytes());
        h.extend_from_slice(&size.to_le_bytes());
        h.extend_from_slice(&size.to_le_bytes());
        h.extend_from_slice(&1u64.to_le_bytes());
        h
    };
    f.extend(phdr(4, 4, notes_at, 0, note.len() as u64));
    f.extend(phdr(1, 6, load_at, 0x400000, 0x1000));
    f.extend_from_slice(&note);
    f.resize(load_at as usize + 0x1000, 0);
    f
}
