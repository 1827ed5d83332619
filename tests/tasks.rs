//! `heapscope tasks` against the asyncio fixtures' truth (`testdata/tasks/*`, made by
//! `tools/fixtures/workload/tasks.py`; schema in testdata/README.md, "asyncio fixtures"), as a user runs it.
//!
//! - **Exact match**: the set of pending tasks, and per task its type, name, state, coroutine, stack (function, file
//!   and line of each coroutine, outermost first), awaits, awaited-by, loop and thread; the suspended generators,
//!   coroutines and async generators with their kind, state, place and task; the count. On 3.14+ each C task's
//!   awaited-by also equals what `asyncio.capture_call_graph()` reported in the process.
//! - **Leak group**: the 300 identical stuck uploads are the first group, with their stack, and the group's retained
//!   bytes equal the retained set of the 300 tasks taken together, computed here on the truth's own object graph by
//!   its definition (what the seeds reach, but no longer once the tasks are gone); on 3.15 heapscope also counts
//!   each buffer's storage object, which the truth cannot see.
//! - **Formats**: the table's first line names that group; the DOT output is the await graph and graphviz renders
//!   it; `--tree` prints every task under the tasks that await it.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::ffi::OsStr;

use serde_json::Value;

use common::truth_graph::TruthGraph;
use common::{empty_sysroot, heapscope, Fixture};

/// `heapscope tasks CORE ARGS… --no-cache`, which must succeed; its stdout.
fn tasks(fx: &Fixture, args: &[&str]) -> String {
    let (root, core) = (empty_sysroot(), fx.core());
    let mut all: Vec<&OsStr> = vec![OsStr::new("tasks"), core.as_os_str()];
    all.extend(args.iter().map(OsStr::new));
    all.extend([OsStr::new("--no-cache"), OsStr::new("--sysroot"), root.path().as_os_str()]);
    let out = heapscope(&all);
    assert!(out.status.success(), "{}: heapscope {all:?} failed:\n{}", fx.name, String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn json(fx: &Fixture) -> Value {
    serde_json::from_str(&tasks(fx, &["--format", "json"])).expect("tasks prints JSON")
}

fn by_address(list: &Value) -> BTreeMap<u64, &Value> {
    list.as_array().expect("a list").iter().map(|t| (t["address"].as_u64().expect("address"), t)).collect()
}

#[test]
fn tasks_and_suspended_coroutines_equal_the_truth() {
    let mut failures = Vec::new();
    for fx in common::tasks_fixtures() {
        let truth = fx.tasks_truth();
        let got = json(&fx);
        let mut diffs = Vec::new();
        let (want_tasks, got_tasks) = (by_address(&truth["tasks"]), by_address(&got["tasks"]));
        let (want_set, got_set): (BTreeSet<u64>, BTreeSet<u64>) =
            (want_tasks.keys().copied().collect(), got_tasks.keys().copied().collect());
        if want_set != got_set {
            let missing: Vec<&str> =
                want_set.difference(&got_set).map(|a| want_tasks[a]["name"].as_str().unwrap_or("?")).collect();
            let extra: Vec<&str> =
                got_set.difference(&want_set).map(|a| got_tasks[a]["name"].as_str().unwrap_or("?")).collect();
            diffs.push(format!("tasks missing {missing:?}, not pending {extra:?}"));
        }
        if got["count"] != truth["count"] {
            diffs.push(format!("count {} != {}", got["count"], truth["count"]));
        }
        for (addr, want) in &want_tasks {
            let Some(have) = got_tasks.get(addr) else { continue };
            for key in ["type", "name", "state", "coro", "stack", "awaits", "awaited_by", "loop", "thread"] {
                if have[key] != want[key] {
                    diffs.push(format!("task {} {key}: got {} want {}", want["name"], have[key], want[key]));
                }
            }
        }
        // On 3.14+: awaited-by as asyncio.capture_call_graph() saw it, for every task it could describe.
        if let Some(graph) = truth["call_graph"].as_object() {
            let mut compared = 0;
            for (addr, g) in graph {
                let Some(want) = g.get("awaited_by") else { continue };
                let have = got_tasks.get(&addr.parse::<u64>().unwrap()).map(|t| &t["awaited_by"]);
                if have != Some(want) {
                    diffs.push(format!("task {addr}: awaited_by {have:?}, capture_call_graph says {want}"));
                }
                compared += 1;
            }
            assert!(compared > 300, "{}: capture_call_graph compared for {compared} tasks", fx.name);
        }
        let (want_sus, got_sus) = (by_address(&truth["suspended"]), by_address(&got["suspended"]));
        for (addr, want) in &want_sus {
            match got_sus.get(addr) {
                None => diffs.push(format!("suspended {} ({}) not listed", want["function"], want["kind"])),
                Some(have) => {
                    for key in ["kind", "state", "function", "file", "line", "task"] {
                        if have[key] != want[key] {
                            diffs.push(format!("suspended {addr:#x} {key}: got {} want {}", have[key], want[key]));
                        }
                    }
                }
            }
        }
        for (addr, have) in &got_sus {
            if !want_sus.contains_key(addr) {
                diffs.push(format!("suspended {addr:#x} ({} {}) is not in the truth", have["kind"], have["function"]));
            }
        }
        // The suspended groups count their members in tasks as the truth's `task` says.
        let in_tasks: u64 =
            got["suspended_groups"].as_array().unwrap().iter().map(|g| g["in_tasks"].as_u64().unwrap()).sum();
        let want_in_tasks = want_sus.values().filter(|s| !s["task"].is_null()).count() as u64;
        if in_tasks != want_in_tasks {
            diffs.push(format!("suspended groups: {in_tasks} in tasks, the truth {want_in_tasks}"));
        }
        println!("{}: {} tasks, {} suspended; {} differences", fx.name, got_tasks.len(), got_sus.len(), diffs.len());
        if !diffs.is_empty() {
            diffs.truncate(20);
            failures.push(format!("{}:\n  {}", fx.name, diffs.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_stuck_uploads_are_the_first_group_and_retain_what_the_truth_says() {
    for fx in common::tasks_fixtures() {
        let truth = fx.tasks_truth();
        let stuck = &truth["stuck_group"];
        let got = json(&fx);
        let first = &got["groups"][0];
        assert_eq!(first["count"], stuck["count"], "{}: the first group is not the uploads: {first}", fx.name);
        assert_eq!(first["stack"], stuck["stack"], "{}", fx.name);
        let members: HashSet<u64> = stuck["members"].as_array().unwrap().iter().map(|m| m.as_u64().unwrap()).collect();
        let examples = first["examples"].as_array().unwrap();
        assert!(!examples.is_empty(), "{}", fx.name);
        assert!(examples.iter().all(|e| members.contains(&e.as_u64().unwrap())), "{}: {first}", fx.name);

        let tg = TruthGraph::new(&fx.truth());
        let ids: Vec<usize> = members.iter().map(|a| tg.index[a]).collect();
        let want = tg.retained_set(&ids);
        let want_bytes: u64 = want.iter().map(|a| tg.sizes[tg.index[a]]).sum();
        println!(
            "{}: uploads retain {} objects, {want_bytes} bytes by the truth; heapscope {} objects, {} bytes",
            fx.name,
            want.len(),
            first["retained_count"],
            first["retained_bytes"]
        );
        // 3.15 keeps a bytearray's contents in a bytes object of its own (`ob_bytes_object`), which heapscope finds
        // and gc.get_referents does not report: each upload's buffer is one more object in heapscope's set than in
        // the truth's. Its bytes are the same: the bytearray's sys.getsizeof counts the buffer, and the buffer has
        // size 0 in the snapshot.
        let extra_count = if fx.name == "tasks-py315" { members.len() as u64 } else { 0 };
        assert_eq!(first["retained_bytes"].as_u64(), Some(want_bytes), "{}: {first}", fx.name);
        assert_eq!(first["retained_count"].as_u64(), Some(want.len() as u64 + extra_count), "{}: {first}", fx.name);
    }
}

#[test]
fn table_dot_and_tree() {
    let fx = common::tasks_fixtures().into_iter().find(|f| f.name == "tasks-py312").unwrap();
    let truth = fx.tasks_truth();
    let got = json(&fx);

    // The table's first line answers "what is stuck where, holding how much".
    let table = tasks(&fx, &[]);
    let first = table.lines().next().unwrap();
    let inner = &truth["stuck_group"]["stack"].as_array().unwrap().last().unwrap()["function"];
    let want = format!(
        "{} pending tasks on 1 event loop; 300 stuck in {} (tasks.py:",
        truth["count"],
        inner.as_str().unwrap()
    );
    assert!(first.starts_with(&want), "first line {first:?}, want it to start with {want:?}");
    assert!(first.contains(", holding "), "{first}");

    // DOT: one node per task, one edge per await, and graphviz renders it.
    let dot = tasks(&fx, &["--format", "dot"]);
    let edges = dot.lines().filter(|l| l.contains(" -> ")).count();
    let want_edges: usize =
        truth["tasks"].as_array().unwrap().iter().map(|t| t["awaits"].as_array().unwrap().len()).sum();
    assert_eq!(edges, want_edges, "{dot}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tasks.dot");
    std::fs::write(&path, &dot).unwrap();
    let svg = std::process::Command::new("dot").arg("-Tsvg").arg(&path).output().expect("graphviz's dot runs");
    assert!(svg.status.success(), "dot failed: {}", String::from_utf8_lossy(&svg.stderr));
    let svg = String::from_utf8_lossy(&svg.stdout);
    assert_eq!(svg.matches("class=\"node\"").count(), got["count"].as_u64().unwrap() as usize);

    // The tree: every pending task, each with its stack and the tasks it awaits, as the truth has them.
    let tree = parse_tree(&tasks(&fx, &["--tree"]));
    let names: BTreeMap<u64, &str> = truth["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["address"].as_u64().unwrap(), t["name"].as_str().unwrap()))
        .collect();
    assert_eq!(tree.len(), names.len(), "{:?}", tree.keys());
    for t in truth["tasks"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        let (stack, awaits) = &tree[name];
        let want_stack: Vec<(String, String, i64)> = t["stack"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["function"].as_str().unwrap().into(),
                    e["file"].as_str().unwrap().into(),
                    e["line"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(stack, &want_stack, "{name}");
        let want_awaits: BTreeSet<String> =
            t["awaits"].as_array().unwrap().iter().map(|a| names[&a.as_u64().unwrap()].to_string()).collect();
        assert_eq!(awaits, &want_awaits, "{name}");
    }
}

/// Per task name in a tree drawn the way `python -m asyncio pstree` draws it: its coroutines (function, file,
/// line; outermost first) and the names of the tasks drawn below it.
type Tree = BTreeMap<String, (Vec<(String, String, i64)>, BTreeSet<String>)>;

/// Parses a pstree drawing: each line is an indent of four-character blocks, `├── ` or `└── `, then a task
/// (`(T) NAME`) or a coroutine (` FUNCTION FILE:LINE`). A coroutine belongs to the nearest task above it at a
/// smaller indent; a task below another task's coroutines is awaited by it. `(see above)` names a task drawn
/// already.
fn parse_tree(text: &str) -> Tree {
    let mut tree = Tree::new();
    // The open lines above: (indent, task name if a task).
    let mut open: Vec<(usize, Option<String>)> = Vec::new();
    for line in text.lines() {
        let Some(at) = line.find("── ") else { continue };
        let depth = line[..at].chars().count() / 4;
        let label = &line[at + "── ".len()..];
        while open.last().is_some_and(|(d, _)| *d >= depth) {
            open.pop();
        }
        let owner = open.iter().rev().find_map(|(_, t)| t.clone());
        if let Some(name) = label.strip_prefix("(T) ") {
            let (name, again) = match name.strip_suffix(" (see above)") {
                Some(n) => (n, true),
                None => (name, false),
            };
            if let Some(owner) = &owner {
                tree.get_mut(owner).unwrap().1.insert(name.to_string());
            }
            if !again {
                assert!(tree.insert(name.to_string(), Default::default()).is_none(), "{name} drawn twice");
            }
            open.push((depth, Some(name.to_string())));
        } else {
            let label = label.strip_prefix(' ').unwrap_or_else(|| panic!("not a coroutine: {line:?}"));
            let (function, place) = label.rsplit_once(' ').unwrap();
            let (file, line_no) = place.rsplit_once(':').unwrap();
            let owner = owner.unwrap_or_else(|| panic!("a coroutine under no task: {line:?}"));
            tree.get_mut(&owner).unwrap().0.push((function.into(), file.into(), line_no.parse().unwrap()));
            open.push((depth, None));
        }
    }
    tree
}

/// `python -m asyncio pstree PID`, run on the live process before the dump (`pstree.txt`), and `heapscope tasks
/// --tree` on the core draw the same tree: the same tasks with the same coroutines and lines, awaiting the same
/// tasks. pstree walks only the C task lists, so it misses the pure-Python `_PyTask`, which heapscope finds.
#[test]
fn the_tree_equals_pstree_of_the_live_process() {
    let mut compared = 0;
    for fx in common::tasks_fixtures() {
        let Ok(pstree) = std::fs::read_to_string(fx.dir.join("pstree.txt")) else { continue };
        if pstree.trim().is_empty() {
            // 3.14.10's pstree finds no task of a loop outside the main thread (python/cpython gh-149230).
            println!("{}: pstree printed nothing", fx.name);
            continue;
        }
        let want = parse_tree(&pstree);
        let mut got = parse_tree(&tasks(&fx, &["--tree"]));
        let only_here: Vec<String> = got.keys().filter(|k| !want.contains_key(*k)).cloned().collect();
        assert_eq!(only_here, ["py-task"], "{}: tasks heapscope draws that pstree does not", fx.name);
        got.remove("py-task");
        for (name, w) in &want {
            assert_eq!(got.get(name), Some(w), "{}: task {name}", fx.name);
        }
        assert_eq!(got.len(), want.len(), "{}", fx.name);
        println!("{}: {} tasks drawn alike by pstree and heapscope", fx.name, want.len());
        compared += 1;
    }
    assert!(compared >= 1, "no fixture has a pstree to compare with");
}

/// On the real-program fixtures (numpy, msgpack and an asyncio server beside the ordinary heap), every task the
/// process held is found, pending, on the loop's thread, and every coroutine of the truth is listed as suspended
/// (or, for one never started, created).
#[test]
fn real_programs_every_task_is_found() {
    for fx in common::programs() {
        let truth = fx.truth();
        let of_type = |t: &str| -> BTreeSet<u64> {
            truth["objects"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|o| o["type"] == t)
                .map(|o| o["address"].as_u64().unwrap())
                .collect()
        };
        let got = json(&fx);
        let tasks: BTreeSet<u64> = by_address(&got["tasks"]).keys().copied().collect();
        assert_eq!(tasks, of_type("_asyncio.Task"), "{}", fx.name);
        for t in got["tasks"].as_array().unwrap() {
            assert_eq!(t["thread"], "asyncio-loop", "{}: {t}", fx.name);
            assert!(!t["stack"].as_array().unwrap().is_empty(), "{}: {t}", fx.name);
        }
        let suspended: BTreeSet<u64> = got["suspended"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["kind"] == "coroutine")
            .map(|s| s["address"].as_u64().unwrap())
            .collect();
        assert_eq!(suspended, of_type("coroutine"), "{}", fx.name);
        println!(
            "{}: {} tasks, {} coroutines, {} groups",
            fx.name,
            tasks.len(),
            suspended.len(),
            got["groups"].as_array().unwrap().len()
        );
    }
}

/// The task tables answer SQL the way the JSON does: tasks per innermost function, and the await graph.
#[test]
fn task_tables_answer_sql() {
    let fx = common::tasks_fixtures().into_iter().find(|f| f.name == "tasks-py311").unwrap();
    let truth = fx.tasks_truth();
    let root = empty_sysroot();
    let core = fx.core();
    let sql = "SELECT function, count(*) AS n FROM tasks GROUP BY function ORDER BY n DESC, function";
    let out = heapscope([
        OsStr::new("query"),
        core.as_os_str(),
        OsStr::new(sql),
        OsStr::new("--format"),
        OsStr::new("json"),
        OsStr::new("--sysroot"),
        root.path().as_os_str(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Value = serde_json::from_slice(&out.stdout).expect("JSON rows");
    let mut want: BTreeMap<String, u64> = BTreeMap::new();
    for t in truth["tasks"].as_array().unwrap() {
        let inner = t["stack"].as_array().unwrap().last().unwrap()["function"].as_str().unwrap();
        *want.entry(inner.to_string()).or_default() += 1;
    }
    let got: BTreeMap<String, u64> = rows
        .as_array()
        .unwrap_or_else(|| panic!("rows: {rows}"))
        .iter()
        .map(|r| (r["function"].as_str().unwrap().to_string(), r["n"].as_u64().unwrap()))
        .collect();
    assert_eq!(got, want);
}

/// `stacks` points the way: the thread running the event loop says how many tasks are pending on it and names
/// `heapscope tasks`; no other thread mentions asyncio.
#[test]
fn stacks_points_at_the_tasks_of_the_loop_thread() {
    for fx in common::tasks_fixtures() {
        let truth = fx.tasks_truth();
        let (root, core) = (empty_sysroot(), fx.core());
        let run = |format: &str| {
            let out = heapscope([
                OsStr::new("stacks"),
                core.as_os_str(),
                OsStr::new("--format"),
                OsStr::new(format),
                OsStr::new("--sysroot"),
                root.path().as_os_str(),
            ]);
            assert!(out.status.success(), "{}: {}", fx.name, String::from_utf8_lossy(&out.stderr));
            String::from_utf8(out.stdout).unwrap()
        };
        let got: Value = serde_json::from_str(&run("json")).unwrap();
        let loop_addr = &truth["loops"][0]["address"];
        for t in got["threads"].as_array().unwrap() {
            if t["name"] == "asyncio-loop" {
                assert_eq!(t["asyncio"]["loop"], *loop_addr, "{}: {t}", fx.name);
                assert_eq!(t["asyncio"]["pending_tasks"], truth["count"], "{}", fx.name);
            } else {
                assert!(t.get("asyncio").is_none(), "{}: {}", fx.name, t["name"]);
            }
        }
        let table = run("table");
        let want = format!("{} pending tasks, suspended in the heap", truth["count"]);
        assert!(table.contains(&want) && table.contains("heapscope tasks"), "{}: no {want:?} in\n{table}", fx.name);
    }
}

/// `--locals`: each coroutine frame's locals, as `stacks --locals` shows them. Every stuck upload `upload-NNN` was
/// started as `handle_upload(NNN, ack)`, so its outermost frame holds `idx = NNN`, and its 4 KiB `buf`.
#[test]
fn locals_of_each_coroutine_frame() {
    for fx in common::tasks_fixtures() {
        let got: Value = serde_json::from_str(&tasks(&fx, &["--format", "json", "--locals"])).unwrap();
        let mut uploads = 0;
        for t in got["tasks"].as_array().unwrap() {
            let name = t["name"].as_str().unwrap();
            let Some(n) = name.strip_prefix("upload-") else { continue };
            let outer = &t["stack"][0];
            assert_eq!(outer["function"], "handle_upload", "{}: {t}", fx.name);
            let idx: u64 = n.parse().unwrap();
            assert_eq!(outer["locals"]["idx"], idx.to_string(), "{}: {name}: {outer}", fx.name);
            let buf =
                outer["locals"]["buf"].as_str().unwrap_or_else(|| panic!("{}: {name}: no buf in {outer}", fx.name));
            // `buf[0] = idx & 0xff`: the preview starts with that byte as `repr()` writes it (a quote makes it
            // quote with `"`).
            let want = match (idx & 0xff) as u8 {
                b'\'' => "bytearray(b\"'".to_string(),
                b'\\' => "bytearray(b'\\\\".to_string(),
                b'\t' => "bytearray(b'\\t".to_string(),
                b'\n' => "bytearray(b'\\n".to_string(),
                b'\r' => "bytearray(b'\\r".to_string(),
                c @ 0x20..=0x7e => format!("bytearray(b'{}", c as char),
                c => format!("bytearray(b'\\x{c:02x}"),
            };
            assert!(buf.starts_with(&want), "{}: {name}: buf = {buf}, want {want}…", fx.name);
            uploads += 1;
        }
        assert_eq!(uploads, 300, "{}", fx.name);
    }
}
