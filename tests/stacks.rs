//! `heapscope stacks` against the ground truth of every fixture core: the threads (kernel tid, ident, name), which
//! one holds the GIL, every frame (function, qualified name, file, line, first line) innermost first, and the
//! preview of every local whose `repr()` the truth recorded.
//!
//! Self-contained fixtures are read from the core alone (an empty `--sysroot`), `py312-filter33` with its shipped
//! binaries.

mod common;

use std::ffi::OsStr;

use serde_json::Value;

use common::{empty_sysroot, fixture, heapscope, heapscope_ok};

/// `heapscope stacks --format json --locals` on a fixture, parsed.
fn stacks_json(name: &str) -> (Value, Value) {
    let fx = fixture(name);
    let root = empty_sysroot();
    if fx.has_sysroot() {
        fx.extract_sysroot(root.path());
    }
    let out = common::stacks::json_with_locals(&fx.core(), root.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = String::from_utf8(out.stdout).expect("UTF-8");
    (serde_json::from_str(&out).expect("stacks prints JSON"), fx.truth())
}

/// Compares everything the truth knows (see `common::stacks::compare`).
fn check(name: &str) {
    let (got, truth) = stacks_json(name);
    common::stacks::compare(name, &got, &truth);
    for t in got["threads"].as_array().unwrap() {
        assert_eq!(t["incomplete"], false, "{name}: an intact core's thread {} is marked incomplete", t["tid"]);
        assert!(t.get("warnings").is_none() && t.get("more_frames").is_none(), "{name}: {t}");
    }
}

crate::per_fixture!(check);

/// The asyncio fixtures: one more thread, the event loop's, blocked in its selector.
#[test]
fn asyncio_fixtures() {
    for fx in common::tasks_fixtures() {
        let out = common::stacks::json_with_locals(&fx.core(), empty_sysroot().path());
        assert!(out.status.success(), "{}: {}", fx.name, String::from_utf8_lossy(&out.stderr));
        let got: Value = serde_json::from_slice(&out.stdout).expect("stacks prints JSON");
        let truth = fx.truth();
        let loop_thread = truth["threads"].as_array().unwrap().iter().find(|t| t["name"] == "asyncio-loop");
        assert!(loop_thread.is_some(), "{}: the truth has the asyncio-loop thread", fx.name);
        common::stacks::compare(&fx.name, &got, &truth);
    }
}

/// The table prints each thread like a Python traceback: a header naming the thread and the GIL holder, then its
/// frames outermost first ("most recent call last"), locals indented under their frame.
#[test]
fn table_reads_like_a_traceback() {
    let fx = fixture("py312");
    let truth = fx.truth();
    let root = empty_sysroot();
    let out = heapscope_ok([
        OsStr::new("stacks"),
        OsStr::new("--locals"),
        fx.core().as_os_str(),
        OsStr::new("--sysroot"),
        root.path().as_os_str(),
    ]);
    let main = &truth["threads"][0];
    let header = format!("Thread {} (MainThread) [holds the GIL]", main["native_id"]);
    let lines: Vec<&str> = out.lines().collect();
    let at = lines.iter().position(|l| *l == header).unwrap_or_else(|| panic!("no line {header:?} in:\n{out}"));
    let files: Vec<&str> =
        lines[at + 1..].iter().take_while(|l| !l.is_empty()).filter(|l| l.starts_with("  File ")).copied().collect();
    let want: Vec<String> = main["frames"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|f| {
            format!(
                "  File \"{}\", line {}, in {}",
                f["file"].as_str().unwrap(),
                f["line"],
                f["function"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(files, want, "{out}");
    let block = lines.iter().position(|l| l.ends_with(", in _block")).unwrap();
    assert_eq!(
        lines[block + 1..block + 5],
        ["    depth = 4", "    buffer_size = 1", "    mode = 'gil-held café'", "    ratio = 0.75"]
    );
    for worker in 0..3 {
        assert!(lines.iter().any(|l| l.starts_with("Thread ") && l.ends_with(&format!("(worker-{worker})"))), "{out}");
    }
}

/// Without `--locals` no frame carries locals.
#[test]
fn locals_only_on_request() {
    let fx = fixture("py311");
    let root = empty_sysroot();
    let out = heapscope_ok([
        OsStr::new("stacks"),
        OsStr::new("--format"),
        OsStr::new("json"),
        fx.core().as_os_str(),
        OsStr::new("--sysroot"),
        root.path().as_os_str(),
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let frames: Vec<&Value> =
        v["threads"].as_array().unwrap().iter().flat_map(|t| t["frames"].as_array().unwrap()).collect();
    assert!(!frames.is_empty());
    assert!(frames.iter().all(|f| f.get("locals").is_none()), "{out}");
}

/// A core of a process that is not Python: one line saying why, exit status 2, nothing on stdout.
#[test]
fn a_non_python_core_gets_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not-python.core");
    std::fs::write(&path, common::minimal_core()).unwrap();
    let out = heapscope([OsStr::new("stacks"), path.as_os_str()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("heapscope: error: no CPython interpreter found"), "{err}");
}
