//! Reference cycles and the DOT pictures, the way users see them.
//!
//! - `garbage --format json` groups the cycles among the unreachable objects by type signature: on every fixture
//!   they include the workload's 200 self-referencing `Node`s (alone on 3.11+, with their instance dict before) and
//!   every object of every listed cycle is in the process's own `gc.garbage` (`after.json`);
//! - `cycles --format json` counts live and garbage cycles, and says `garbage` for as many cycles as `garbage`
//!   groups;
//! - `path --format dot` and `cycles --format dot` are rendered by Graphviz (`dot -Tsvg`, installed by `.ci/run`)
//!   into an SVG that names the objects;
//! - the other commands refuse `--format dot` with exit 2 before opening the core.

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

use common::{fixture, Unpacked};

/// `heapscope CMD CORE EXTRA… --format FORMAT`'s output.
fn run(fx: &Unpacked, cmd: &str, format: &str, extra: &[&str]) -> Vec<u8> {
    fx.heapscope_report(cmd, extra.iter().chain(&["--format", format])).stdout
}

/// Renders DOT with Graphviz; fails the test if `dot` is missing or rejects the input.
fn render(dot: &[u8]) -> String {
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("graphviz `dot` runs (.ci/run installs it from Debian: apt-get install graphviz)");
    child.stdin.take().unwrap().write_all(dot).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "dot failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(dot)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn check(name: &str) {
    let fixture = fixture(name);
    let fx = fixture.unpacked();
    let after: Value = serde_json::from_str(&std::fs::read_to_string(fixture.dir.join("after.json")).unwrap()).unwrap();
    let in_gc_garbage: BTreeSet<u64> =
        after["garbage"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();

    let garbage: Value = serde_json::from_slice(&run(&fx, "garbage", "json", &[])).unwrap();
    let groups = garbage["cycles"].as_array().unwrap();
    let garbage_cycles: u64 = groups.iter().map(|g| g["count"].as_u64().unwrap()).sum();
    let self_nodes = groups.iter().find(|g| {
        g["count"].as_u64() >= Some(200)
            && g["types"].as_array().unwrap().iter().any(|t| t["type"] == "__main__.Node" && t["count"] == 1)
    });
    assert!(self_nodes.is_some(), "{name}: no group of 200 self-referencing Nodes in {groups:?}");

    let cycles: Value = serde_json::from_slice(&run(&fx, "cycles", "json", &["--limit", "100000"])).unwrap();
    let count = cycles["count"].as_u64().unwrap();
    assert_eq!(count, cycles["live"].as_u64().unwrap() + cycles["garbage"].as_u64().unwrap(), "{name}");
    assert_eq!(cycles["garbage"].as_u64(), Some(garbage_cycles), "{name}: cycles and garbage disagree");
    for c in cycles["cycles"].as_array().unwrap().iter().filter(|c| c["status"] == "garbage") {
        for a in c["objects"].as_array().unwrap() {
            assert!(
                in_gc_garbage.contains(&a.as_u64().unwrap()),
                "{name}: {a} of a garbage cycle is not in gc.garbage"
            );
        }
    }
    println!("{name:<15} {count} cycles ({} garbage, in {} groups)", garbage_cycles, groups.len());

    let truth = fixture.truth();
    let cache = format!("{:#x}", truth["markers"]["cache"].as_u64().unwrap());
    let svg = render(&run(&fx, "path", "dot", &[&cache]));
    assert!(svg.contains("<svg") && svg.contains("CACHE"), "{name}: the path's SVG does not name CACHE");
    let svg = render(&run(&fx, "cycles", "dot", &["--limit", "3"]));
    assert!(svg.contains("<svg") && svg.contains("cycle of"), "{name}: the cycles' SVG has no cluster");
}

crate::per_fixture!(check);

#[test]
fn other_commands_refuse_dot() {
    for cmd in ["summary", "garbage", "leaks", "top", "stacks"] {
        let out = common::heapscope([cmd, "--format", "dot", "/nonexistent/core"]);
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--format dot is for `path` and `cycles`"), "{cmd}: {err}");
    }
}

/// The refusal names the command that was run and the formats it has.
#[test]
fn refusal_names_the_command_and_its_formats() {
    for cmd in ["info", "stacks", "summary", "garbage", "show", "refs", "referrers", "retained", "top", "leaks"] {
        let mut args = vec![cmd, "--format", "dot", "/nonexistent/core"];
        if matches!(cmd, "show" | "refs" | "referrers" | "retained") {
            args.push("0x10");
        }
        let out = common::heapscope(&args);
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        let err = String::from_utf8_lossy(&out.stderr);
        let want = format!("`heapscope {cmd}` has no DOT output (--format table or json)");
        assert!(err.contains(&want), "{cmd}: {err}");
    }
}
