//! The comparison of `heapscope stacks` output with a fixture's ground truth, shared by the tests that produce that
//! output in different ways.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::path::Path;
use std::process::Output;

use serde_json::Value;

/// Runs `heapscope stacks --format json --locals CORE --sysroot SYSROOT`, the output [`compare`] takes.
pub fn json_with_locals(core: &Path, sysroot: &Path) -> Output {
    super::heapscope([
        OsStr::new("stacks"),
        OsStr::new("--format"),
        OsStr::new("json"),
        OsStr::new("--locals"),
        core.as_os_str(),
        OsStr::new("--sysroot"),
        sysroot.as_os_str(),
    ])
}

/// Compares `stacks --format json --locals` output with the truth of fixture `name`: the threads (kernel tid,
/// ident, name), which one holds the GIL, every frame (function, qualified name, file, line, first line) innermost
/// first, and the preview of every local whose `repr()` the truth recorded. Collects every difference rather than
/// stopping at the first.
pub fn compare(name: &str, got: &Value, truth: &Value) {
    let mut diffs = Vec::new();
    assert_eq!(got["python"]["version"], truth["version"], "{name}: version");
    assert_eq!(got["errors"], 0, "{name}: decoding errors in {got:#}");

    let got_threads: BTreeMap<u64, &Value> =
        got["threads"].as_array().unwrap().iter().map(|t| (t["tid"].as_u64().expect("every tid found"), t)).collect();
    let want_threads: BTreeMap<u64, &Value> =
        truth["threads"].as_array().unwrap().iter().map(|t| (t["native_id"].as_u64().unwrap(), t)).collect();
    assert_eq!(
        got_threads.keys().collect::<BTreeSet<_>>(),
        want_threads.keys().collect::<BTreeSet<_>>(),
        "{name}: thread ids"
    );
    assert_eq!(got_threads.len(), got["threads"].as_array().unwrap().len(), "{name}: a tid twice");

    let holders: Vec<u64> =
        got_threads.values().filter(|t| t["holds_gil"] == true).map(|t| t["ident"].as_u64().unwrap()).collect();
    assert_eq!(holders, vec![truth["gil_holder"].as_u64().unwrap()], "{name}: the GIL holder");

    // ≤3.10 keep no kernel tid in the thread state: it comes from matching `pthread_t` to each core thread's
    // `fs_base`; 3.11+ record it as `native_thread_id`.
    let minor: u32 = truth["version"].as_str().unwrap().split('.').nth(1).unwrap().parse().unwrap();
    let want_source = if minor <= 10 { "fs_base" } else { "native_thread_id" };
    for t in got_threads.values() {
        assert_eq!(t["tid_source"], want_source, "{name}: how thread {} was matched", t["tid"]);
    }

    let mut frames = 0;
    let mut locals = 0;
    for (tid, want) in &want_threads {
        let t = got_threads[tid];
        let ctx = format!("{name} thread {tid} ({})", want["name"]);
        if t["ident"] != want["ident"] {
            diffs.push(format!("{ctx}: ident {} != {}", t["ident"], want["ident"]));
        }
        if t["name"] != want["name"] {
            diffs.push(format!("{ctx}: name {} != {}", t["name"], want["name"]));
        }
        let got_frames = t["frames"].as_array().unwrap();
        let want_frames = want["frames"].as_array().unwrap();
        let brief = |fs: &[Value]| -> Vec<String> {
            fs.iter()
                .map(|f| format!("{}:{} {}", f["file"].as_str().unwrap_or("?"), f["line"], f["function"]))
                .collect()
        };
        if got_frames.len() != want_frames.len() {
            diffs.push(format!("{ctx}: frames\n  got  {:?}\n  want {:?}", brief(got_frames), brief(want_frames)));
            continue;
        }
        for (i, (g, w)) in got_frames.iter().zip(want_frames).enumerate() {
            for key in ["function", "qualname", "file", "line", "firstlineno"] {
                if g[key] != w[key] {
                    diffs.push(format!("{ctx} frame {i} ({}): {key} {} != {}", w["function"], g[key], w[key]));
                }
            }
            frames += 1;
            for (var, repr) in w["locals"].as_object().unwrap() {
                let Some(repr) = repr.as_str() else { continue };
                match g["locals"].get(var).and_then(Value::as_str) {
                    Some(preview) if preview == repr => locals += 1,
                    other => {
                        diffs.push(format!("{ctx} frame {i} ({}): local {var}: {other:?} != {repr:?}", w["function"]))
                    }
                }
            }
        }
    }
    assert!(diffs.is_empty(), "{name}: {} differences:\n{}", diffs.len(), diffs.join("\n"));
    assert!(frames >= 20 && locals >= 60, "{name}: only {frames} frames and {locals} locals compared");
    eprintln!("{name}: {} threads, {frames} frames, {locals} locals equal to the truth", want_threads.len());
}
