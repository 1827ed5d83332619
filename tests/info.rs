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
    std::fs::write(&path, common::minimal_core()).unwrap();
    let info = info_json(&path, &[]);
    assert!(info["python"].is_null());
    let why = info["python_error"].as_str().unwrap();
    assert!(why.contains("no CPython interpreter found"), "{why}");
}

/// A core cut short (a full disk, RLIMIT_CORE) is still opened: every command says it is truncated, `info`
/// describes it, and analyses that need the lost bytes fail with exit 2 and a message, never a crash.
#[test]
fn a_truncated_core_is_reported_not_a_crash() {
    let fx = common::fixture("py311");
    let raw = std::fs::read(fx.core()).unwrap();
    let mut core = zstd::decode_all(&raw[..]).unwrap();
    core.truncate(core.len() / 2);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("truncated.core");
    std::fs::write(&path, &core).unwrap();
    let root = empty_sysroot();
    let sysroot = [OsStr::new("--sysroot"), root.path().as_os_str()];

    let info = info_json(&path, &sysroot);
    let warnings: Vec<&str> = info["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert!(warnings.iter().any(|w| w.contains("truncated")), "{warnings:?}");
    // The cut is the cause, not binaries missing on this machine.
    if let Some(why) = info["python_error"].as_str() {
        assert!(why.contains("truncated") && !why.contains("--sysroot"), "{why}");
    }

    for command in ["stacks", "summary"] {
        let mut args = vec![OsStr::new(command), path.as_os_str()];
        args.extend_from_slice(&sysroot);
        let out = common::heapscope(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("truncated"), "{command}: {stderr}");
        assert!(!stderr.contains("no file with a matching build-id"), "{command} blames the binaries: {stderr}");
        assert!(!stderr.contains("panicked"), "{command}: {stderr}");
        assert!(matches!(out.status.code(), Some(0) | Some(2)), "{command}: {:?}", out.status);
    }
}
