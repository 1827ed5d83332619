//! `heapscope_cpython::{coroutines, asyncio}` against what the asyncio fixtures' processes wrote about themselves
//! (`tasks.json.zst`, schema in testdata/README.md, "asyncio fixtures"), on every `tasks/` fixture:
//!
//! 1. every suspended or created generator, coroutine and async generator (`suspended`): its kind, state, function
//!    (`co_qualname` from 3.11 on, `co_name` before), file and line;
//! 2. every pending task: its implementation, name, state, loop, coroutine (`__qualname__`), and the chain of
//!    coroutines it awaits (`cr_await` / `gi_yieldfrom`, followed while it is a coroutine or generator with a
//!    frame) entry for entry;
//! 3. every done task is not pending, and its coroutine is closed (no frame);
//! 4. the event loop's `_thread_id` names the thread `asyncio-loop`;
//! 5. `fan-out` waits on a `gather` future whose children are the tasks it awaits; `group-parent` (3.11+) is the
//!    parent task of a `TaskGroup` holding the tasks it awaits.

mod common;

use std::collections::BTreeSet;

use heapscope_coredump::Addr;
use heapscope_cpython::asyncio::{self, FutureState, TaskImpl};
use heapscope_cpython::coroutines::{self, CoroutineKind, CoroutineState};
use heapscope_cpython::frames::{CodeCache, Frame, StackOptions};
use heapscope_cpython::objects::Heap;
use heapscope_cpython::runtime;
use serde_json::Value;

use common::Fixture;

/// The fixture's `tasks.json.zst`.
fn tasks_json(fx: &Fixture) -> Value {
    let raw = std::fs::read(fx.dir.join("tasks.json.zst")).expect("tasks.json.zst");
    serde_json::from_slice(&zstd::decode_all(&raw[..]).expect("tasks.json.zst decompresses")).expect("JSON")
}

fn addr(v: &Value) -> Addr {
    Addr(v.as_u64().unwrap_or_else(|| panic!("an address: {v}")))
}

/// `function` as the truth names it: `co_qualname` from 3.11 on (when the layout has it), `co_name` before.
fn function(frame: &Frame) -> Option<&str> {
    frame.qualname.as_deref().or(frame.function.as_deref())
}

/// Runs `check` on every tasks fixture with its heap and truth; collects every failure, then fails once.
fn each_fixture(check: impl Fn(&str, &Heap<'_, heapscope_coredump::CoreProcess>, &Value, &mut Vec<String>)) {
    let mut failures = Vec::new();
    for fx in common::tasks_fixtures() {
        let (process, _root) = fx.open_process();
        let layout = common::builtin_layout(&process);
        let heap = Heap::new(&process, &layout);
        let truth = tasks_json(&fx);
        check(&fx.name, &heap, &truth, &mut failures);
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn suspended_generators_match_the_truth() {
    each_fixture(|name, heap, truth, failures| {
        let opts = StackOptions::default();
        let mut cache = CodeCache::default();
        let suspended = truth["suspended"].as_array().expect("suspended");
        assert!(suspended.len() > 300, "{name}: the truth lists the suspended coroutines");
        for s in suspended {
            let at = addr(&s["address"]);
            let want_kind = s["kind"].as_str().unwrap();
            match coroutines::coroutine_kind(heap, at) {
                Ok(Some(k)) if k.as_str() == want_kind => {}
                other => failures.push(format!("{name} {at}: kind {other:?}, truth {want_kind}")),
            }
            // Decoded alone, then through the cache that every generator of the fixture shares (what `tasks` does):
            // places read from the cache must be each generator's own.
            for cached in [false, true] {
                let c = if cached {
                    coroutines::coroutine_cached(heap, at, &opts, &mut cache)
                } else {
                    coroutines::coroutine(heap, at, &opts)
                };
                let c = match c {
                    Ok(c) => c,
                    Err(e) => {
                        failures.push(format!("{name} {at} (cached: {cached}): {e}"));
                        continue;
                    }
                };
                let frame = c.frame.as_ref();
                let got = (
                    c.kind.as_str(),
                    c.state.as_str(),
                    frame.and_then(function),
                    frame.and_then(|f| f.file.as_deref()),
                    frame.and_then(|f| f.line).map(i64::from),
                );
                let want = (
                    want_kind,
                    s["state"].as_str().unwrap(),
                    s["function"].as_str(),
                    s["file"].as_str(),
                    s["line"].as_i64(),
                );
                if got != want {
                    failures.push(format!("{name} {at} (cached: {cached}): got {got:?}, truth {want:?}"));
                }
                if let Some(f) = frame.filter(|f| !f.errors.is_empty()) {
                    failures.push(format!("{name} {at}: frame errors {:?}", f.errors));
                }
            }
        }
    });
}

#[test]
fn pending_tasks_match_the_truth() {
    each_fixture(|name, heap, truth, failures| {
        let opts = StackOptions::default();
        let tasks = truth["tasks"].as_array().expect("tasks");
        assert!(tasks.len() > 300, "{name}: the truth lists the pending tasks");
        for t in tasks {
            let at = addr(&t["address"]);
            let tname = t["name"].as_str().unwrap();
            let want_impl = if t["type"] == "asyncio.tasks.Task" { TaskImpl::Python } else { TaskImpl::C };
            let imp = heap.type_of(at).and_then(|ty| asyncio::task_impl_of_type(heap, ty));
            if !matches!(imp, Ok(Some(i)) if i == want_impl) {
                failures.push(format!("{name} {tname}: implementation {imp:?}, truth {want_impl:?}"));
            }
            let task = match asyncio::task(heap, at) {
                Ok(task) => task,
                Err(e) => {
                    failures.push(format!("{name} {tname}: {e}"));
                    continue;
                }
            };
            if task.name != tname || task.state != FutureState::Pending || task.loop_ != addr(&t["loop"]) {
                failures.push(format!("{name} {tname}: got {task:?}"));
            }
            let coro = coroutines::coroutine(heap, task.coro, &opts);
            let qualname = coro.as_ref().ok().and_then(|c| c.qualname.clone());
            if qualname.as_deref() != t["coro"].as_str() {
                failures.push(format!("{name} {tname}: coro {qualname:?} ({:?}), truth {}", coro.err(), t["coro"]));
            }
            // The chain of what it awaits, outermost first.
            let mut got = Vec::new();
            let mut at = task.coro;
            let mut seen = BTreeSet::new();
            while !at.is_null() && seen.insert(at) && got.len() < 100 {
                match coroutines::coroutine_kind(heap, at) {
                    Ok(Some(CoroutineKind::Coroutine | CoroutineKind::Generator)) => {}
                    _ => break,
                }
                let c = match coroutines::coroutine(heap, at, &opts) {
                    Ok(c) => c,
                    Err(e) => {
                        got.push(format!("<{e}>"));
                        break;
                    }
                };
                let Some(f) = &c.frame else { break };
                got.push(format!(
                    "{} {} {}",
                    function(f).unwrap_or("?"),
                    f.file.as_deref().unwrap_or("?"),
                    f.line.unwrap_or(-1)
                ));
                at = c.awaiting;
            }
            let want: Vec<String> = t["stack"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| format!("{} {} {}", e["function"].as_str().unwrap(), e["file"].as_str().unwrap(), e["line"]))
                .collect();
            if got != want {
                failures.push(format!("{name} {tname}: stack {got:?}, truth {want:?}"));
            }
        }
    });
}

#[test]
fn done_tasks_are_not_pending() {
    each_fixture(|name, heap, truth, failures| {
        let done = truth["done_tasks"].as_array().expect("done_tasks");
        assert_eq!(done.len(), 5, "{name}: five done tasks");
        let mut closed = 0;
        for d in done {
            match asyncio::task(heap, addr(d)) {
                Ok(t) if t.state != FutureState::Pending => {
                    // A finished task still holds its coroutine, which has returned: closed, no frame.
                    match coroutines::coroutine(heap, t.coro, &StackOptions::default()) {
                        Ok(c) if c.state == CoroutineState::Closed && c.frame.is_none() => closed += 1,
                        other => failures.push(format!("{name} done task {}'s coroutine: {other:?}", addr(d))),
                    }
                }
                other => failures.push(format!("{name} done task {}: {other:?}", addr(d))),
            }
        }
        assert_eq!(closed, done.len(), "{name}: done tasks with a closed coroutine");
    });
}

#[test]
fn the_loop_runs_in_its_thread() {
    each_fixture(|name, heap, truth, failures| {
        let runtime_addr = heapscope_cpython::detect(heap.process()).expect("python found").runtime;
        let interps = runtime::interpreters(heap.process(), heap.layout(), runtime_addr).items;
        let names = runtime::thread_names(heap, interps[0].addr).expect("thread names");
        for l in truth["loops"].as_array().expect("loops") {
            let got = asyncio::loop_thread_ident(heap, addr(&l["address"]));
            let got_name = got.as_ref().ok().copied().flatten().and_then(|ident| names.get(&ident));
            if got_name.map(String::as_str) != l["thread"].as_str() {
                failures.push(format!("{name}: loop thread {got:?} -> {got_name:?}, truth {}", l["thread"]));
            }
        }
    });
}

#[test]
fn gather_and_task_group_children() {
    each_fixture(|name, heap, truth, failures| {
        let tasks = truth["tasks"].as_array().expect("tasks");
        let by_name = |n: &str| tasks.iter().find(|t| t["name"] == n);
        let awaits = |t: &Value| -> BTreeSet<Addr> { t["awaits"].as_array().unwrap().iter().map(addr).collect() };

        let fan_out = by_name("fan-out").expect("the truth has fan-out");
        let waiter = asyncio::task(heap, addr(&fan_out["address"])).map(|t| t.fut_waiter);
        let children = waiter.as_ref().map_err(Clone::clone).and_then(|w| asyncio::gather_children(heap, *w));
        match children {
            Ok(Some(c)) if c.iter().copied().collect::<BTreeSet<_>>() == awaits(fan_out) && c.len() == 4 => {}
            other => failures.push(format!("{name}: fan-out waits on {waiter:?} with children {other:?}")),
        }
        // A task is no gather future.
        if !matches!(asyncio::gather_children(heap, addr(&fan_out["address"])), Ok(None)) {
            failures.push(format!("{name}: fan-out itself reads as a gather future"));
        }

        let Some(parent) = by_name("group-parent") else {
            assert!(name.ends_with("py38"), "{name}: group-parent is missing from the truth");
            return;
        };
        // The TaskGroup is the local `tg` of group_parent's frame.
        let parent_addr = addr(&parent["address"]);
        let opts = StackOptions { locals: true, ..StackOptions::default() };
        let coro = asyncio::task(heap, parent_addr).and_then(|t| coroutines::coroutine(heap, t.coro, &opts));
        let tg =
            coro.as_ref().ok().and_then(|c| c.frame.as_ref()).and_then(|f| f.locals.iter().find(|l| l.name == "tg"));
        let Some(tg) = tg else {
            failures.push(format!("{name}: no local tg in group_parent ({:?})", coro.map(|c| c.frame)));
            return;
        };
        let is_group = heap.type_of(tg.value).and_then(|ty| asyncio::is_task_group_type(heap, ty));
        if !matches!(is_group, Ok(true)) {
            failures.push(format!("{name}: tg is no TaskGroup ({is_group:?})"));
        }
        match asyncio::task_group(heap, tg.value) {
            Ok(g)
                if g.parent_task == parent_addr
                    && g.tasks.iter().copied().collect::<BTreeSet<_>>() == awaits(parent) => {}
            other => failures
                .push(format!("{name}: task group {other:?}, truth parent {parent_addr} awaits {:?}", awaits(parent))),
        }
        // A task is no task group.
        let task_type = heap.type_of(parent_addr).and_then(|ty| asyncio::is_task_group_type(heap, ty));
        if !matches!(task_type, Ok(false)) {
            failures.push(format!("{name}: a Task reads as a TaskGroup ({task_type:?})"));
        }
    });
}

#[test]
fn states_and_kinds_name_themselves() {
    let kinds = [CoroutineKind::Generator, CoroutineKind::Coroutine, CoroutineKind::AsyncGenerator];
    assert_eq!(kinds.map(CoroutineKind::as_str), ["generator", "coroutine", "async_generator"]);
    let states = [CoroutineState::Created, CoroutineState::Suspended, CoroutineState::Running, CoroutineState::Closed];
    assert_eq!(states.map(CoroutineState::as_str), ["created", "suspended", "running", "closed"]);
    let fut = [FutureState::Pending, FutureState::Cancelled, FutureState::Finished];
    assert_eq!(fut.map(FutureState::as_str), ["pending", "cancelled", "finished"]);
}

/// On every version fixture (3.9, 3.10 and 3.13 have no tasks fixture): workload.py's `GENERATOR` is suspended at a
/// `yield` in `suspended_generator` and awaits nothing; its `COROUTINE` is suspended in `suspended_coroutine` at
/// `await _Suspend()`, awaiting the generator of `_Suspend.__await__`, which the truth lists among the coroutine's
/// referents (3.11+, the embedded frame's stack) or its frame object's (≤3.10).
#[test]
fn workload_generator_and_coroutine_on_every_version() {
    let mut failures = Vec::new();
    for fx in common::fixtures() {
        let (process, _root) = fx.open_process();
        let layout = common::builtin_layout(&process);
        let heap = Heap::new(&process, &layout);
        let truth = fx.truth();
        let objects: std::collections::HashMap<u64, &Value> =
            truth["objects"].as_array().unwrap().iter().map(|o| (o["address"].as_u64().unwrap(), o)).collect();
        let referents = |a: u64| -> Vec<u64> {
            objects.get(&a).map_or_else(Vec::new, |o| {
                o["referents"].as_array().unwrap().iter().filter_map(Value::as_u64).collect()
            })
        };
        let opts = StackOptions::default();
        let name = &fx.name;
        let describe = |at: Addr| {
            coroutines::coroutine(&heap, at, &opts).map(|c| {
                let f = c.frame.as_ref();
                (c.kind, c.state, f.and_then(function).map(str::to_owned), f.and_then(|f| f.file.clone()), c.awaiting)
            })
        };

        let generator = addr(&truth["markers"]["generator"]);
        match describe(generator) {
            Ok((CoroutineKind::Generator, CoroutineState::Suspended, Some(f), Some(file), Addr::NULL))
                if f == "suspended_generator" && file.ends_with("workload.py") => {}
            other => failures.push(format!("{name}: GENERATOR {other:?}")),
        }

        let coroutine = addr(&truth["markers"]["coroutine"]);
        let awaited = match describe(coroutine) {
            Ok((CoroutineKind::Coroutine, CoroutineState::Suspended, Some(f), Some(_), awaited))
                if f == "suspended_coroutine" =>
            {
                awaited
            }
            other => {
                failures.push(format!("{name}: COROUTINE {other:?}"));
                continue;
            }
        };
        let mut holders = vec![coroutine.0];
        holders.extend(
            referents(coroutine.0).into_iter().filter(|r| objects.get(r).is_some_and(|o| o["type"] == "frame")),
        );
        let held = holders.iter().any(|&h| referents(h).contains(&awaited.0));
        let ty = objects.get(&awaited.0).map(|o| o["type"].clone());
        if !held || ty != Some(Value::from("generator")) {
            failures.push(format!("{name}: COROUTINE awaits {awaited} ({ty:?}), not a generator it holds"));
        }
        match describe(awaited) {
            Ok((CoroutineKind::Generator, CoroutineState::Suspended, Some(f), _, Addr::NULL))
                if f.ends_with("__await__") => {}
            other => failures.push(format!("{name}: the awaited _Suspend.__await__ {other:?}")),
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}
