//! Checks on the runtime: `_Py_DebugOffsets`, the interpreter and its threads, the GIL, each thread's frames, the
//! data stack, and the GC lists.

use std::collections::{BTreeSet, HashSet};

use heapscope_coredump::ProcessImage;
use heapscope_cpython::layout::{DebugOffsets, Layout};
use serde_json::Value;

use super::{ensure, plain_str_repr, Ctx, BY_DEBUG_OFFSETS, CAP};

/// Every `_Py_DebugOffsets` value must equal the layout's.
pub(crate) fn debug_offsets(c: &mut Ctx<'_>) {
    let Ok(Some(d)) = DebugOffsets::read(c.p, c.d.runtime, c.minor) else { return };
    let mut probe = Layout::unknown(c.d.version, heapscope_cpython::layout::Flavour::Default);
    let mut warnings = Vec::new();
    d.apply(&mut probe, &|s| s.to_string(), &mut warnings);
    for (name, f) in probe.all_fields() {
        let Some(value) = f.offset else { continue };
        let ours = c.o(&name);
        c.check(
            BY_DEBUG_OFFSETS,
            "_Py_DebugOffsets",
            &[&name],
            ensure(ours == Some(u64::from(value)), || format!("it says {value}, the layout {ours:?}")),
        );
    }
    c.walk("_Py_DebugOffsets is sane", &["RuntimeState.size"], ensure(warnings.is_empty(), || warnings.join("; ")));
}

/// A thread as read from the core.
struct Thread {
    addr: u64,
    ident: u64,
    native: Option<u64>,
}

pub(crate) fn runtime(c: &mut Ctx<'_>) {
    let rt = c.d.runtime.0;
    if let Some(sym) = c.p.symbol("_PyRuntime").filter(|s| s.size > 0) {
        let ours = c.o("RuntimeState.size");
        c.walk("sizeof _PyRuntime", &["RuntimeState.size"], ensure(ours == Some(sym.size), || format!("{ours:?}")));
    }
    let Some(interp) = c.ptr_at(rt, "RuntimeState.interpreters_head") else { return };
    let main = c.ptr_at(rt, "RuntimeState.interpreters_main");
    c.walk(
        "one interpreter: head == main",
        &["RuntimeState.interpreters_head", "RuntimeState.interpreters_main"],
        ensure(main == Some(interp) && interp != 0, || format!("head {interp:#x}, main {main:?}")),
    );
    if let Some(off) = c.o("RuntimeState.main_interpreter") {
        c.walk(
            "the main interpreter is inside _PyRuntime",
            &["RuntimeState.main_interpreter"],
            ensure(rt.wrapping_add(off) == interp, || format!("{:#x} vs {interp:#x}", rt.wrapping_add(off))),
        );
    }
    let next = c.ptr_at(interp, "InterpreterState.next");
    let id = c.ptr_at(interp, "InterpreterState.id");
    c.walk(
        "main interpreter: next NULL, id 0",
        &["InterpreterState.next", "InterpreterState.id"],
        ensure(next == Some(0) && id == Some(0), || format!("next {next:?}, id {id:?}")),
    );

    let threads = walk_threads(c, interp);
    let Some(main_t) = main_thread(c, &threads) else { return };
    gil(c, rt, interp, main_t);
    interp_dicts(c, interp);
    for t in &threads {
        frames(c, t, interp);
    }
    gc_lists(c, rt, interp);
}

fn walk_threads(c: &mut Ctx<'_>, interp: u64) -> Vec<Thread> {
    let mut threads = Vec::new();
    let mut cur = c.ptr_at(interp, "InterpreterState.threads_head").unwrap_or(0);
    let mut prev_ok = c.ptr_at(cur, "ThreadState.prev") == Some(0);
    let mut interp_ok = true;
    while cur != 0 && threads.len() < 64 {
        let Some(ident) = c.ptr_at(cur, "ThreadState.thread_id") else { break };
        let native = c.o("ThreadState.native_thread_id").and_then(|o| c.u64(cur.wrapping_add(o)));
        interp_ok &= c.ptr_at(cur, "ThreadState.interp") == Some(interp);
        threads.push(Thread { addr: cur, ident, native });
        let next = c.ptr_at(cur, "ThreadState.next").unwrap_or(0);
        if next != 0 {
            prev_ok &= c.ptr_at(next, "ThreadState.prev") == Some(cur);
        }
        cur = next;
    }
    let want: BTreeSet<u64> = c.threads.iter().filter_map(|t| t["ident"].as_u64()).collect();
    let got: BTreeSet<u64> = threads.iter().map(|t| t.ident).collect();
    c.walk(
        "thread list idents",
        &["InterpreterState.threads_head", "ThreadState.next", "ThreadState.thread_id"],
        ensure(got == want, || format!("core {got:?}, truth {want:?}")),
    );
    let want: BTreeSet<u64> = c.threads.iter().filter_map(|t| t["native_id"].as_u64()).collect();
    let got: BTreeSet<u64> = threads.iter().filter_map(|t| t.native).collect();
    c.walk("native thread ids", &["ThreadState.native_thread_id"], ensure(got == want, || format!("{got:?}")));
    c.walk("tstate->interp", &["ThreadState.interp"], ensure(interp_ok, || "a thread names another interp".into()));
    c.walk("tstate->prev", &["ThreadState.prev"], ensure(prev_ok, || "prev links do not mirror next".into()));
    threads
}

fn main_thread<'t>(c: &mut Ctx<'_>, threads: &'t [Thread]) -> Option<&'t Thread> {
    let ident = c.threads.iter().find(|t| t["is_main"].as_bool() == Some(true))?["ident"].as_u64()?;
    let main = threads.iter().find(|t| t.ident == ident)?;
    if c.o("InterpreterState.threads_main").is_some() {
        let interp = c.ptr_at(main.addr, "ThreadState.interp").unwrap_or(0);
        let got = c.ptr_at(interp, "InterpreterState.threads_main");
        c.walk(
            "threads.main",
            &["InterpreterState.threads_main"],
            ensure(got == Some(main.addr), || format!("{got:?}")),
        );
    }
    Some(main)
}

/// The main thread holds the GIL (it blocks in a PyDLL call).
fn gil(c: &mut Ctx<'_>, rt: u64, interp: u64, main: &Thread) {
    let gil = if c.minor <= 11 {
        let cur = c.ptr_at(rt, "RuntimeState.tstate_current");
        c.walk(
            "gilstate.tstate_current is the main thread",
            &["RuntimeState.tstate_current"],
            ensure(cur == Some(main.addr), || format!("{cur:?}")),
        );
        c.o("RuntimeState.gil").map(|o| (rt.wrapping_add(o), vec!["RuntimeState.gil"]))
    } else {
        let own = c.o("InterpreterState.own_gil").map(|o| interp.wrapping_add(o));
        let used = c.ptr_at(interp, "InterpreterState.ceval_gil");
        c.walk(
            "ceval.gil points at the interpreter's own _gil",
            &["InterpreterState.ceval_gil", "InterpreterState.own_gil"],
            ensure(own.is_some() && used == own, || format!("{used:?} vs {own:?}")),
        );
        own.map(|g| (g, vec!["InterpreterState.own_gil"]))
    };
    let Some((g, mut fields)) = gil else { return };
    let locked = c.o("GilState.locked").and_then(|o| c.i32(g.wrapping_add(o)));
    let holder = c.ptr_at(g, "GilState.last_holder");
    fields.extend(["GilState.locked", "GilState.last_holder"]);
    c.walk(
        "the GIL is locked, last held by the main thread",
        &fields,
        ensure(locked == Some(1) && holder == Some(main.addr), || format!("locked {locked:?}, holder {holder:?}")),
    );
}

/// `sys.__dict__`, `builtins.__dict__`, `sys.modules` and the importlib module.
fn interp_dicts(c: &mut Ctx<'_>, interp: u64) {
    let modules = c.of_type("module");
    let module_named = |c: &Ctx<'_>, dict: u64| {
        modules.iter().find(|&&m| c.ptr_at(m, "ModuleObject.md_dict") == Some(dict)).and_then(|&m| {
            let name = c.ptr_at(m, "ModuleObject.md_name")?;
            c.str_of(name)
        })
    };
    for (field, want) in [("InterpreterState.sysdict", "sys"), ("InterpreterState.builtins", "builtins")] {
        let dict = c.ptr_at(interp, field).unwrap_or(0);
        let got = module_named(c, dict);
        c.walk(
            "interp dict is a module's md_dict, with the module's md_name",
            &[field, "ModuleObject.md_dict", "ModuleObject.md_name"],
            ensure(got.as_deref() == Some(want), || format!("{field}: {got:?}")),
        );
    }
    let main_dict = c.markers.get("main_module_dict").copied().unwrap_or(0);
    let main_module = modules.iter().copied().find(|&m| c.ptr_at(m, "ModuleObject.md_dict") == Some(main_dict));
    let sys_modules = c.ptr_at(interp, "InterpreterState.modules").unwrap_or(0);
    let ok =
        c.truth_type(sys_modules) == Some("dict") && main_module.is_some_and(|m| c.referents(sys_modules).contains(&m));
    c.walk("sys.modules holds __main__", &["InterpreterState.modules"], ensure(ok, || format!("{sys_modules:#x}")));
    // Per-interpreter and per-thread dicts are created on demand: check the ones that exist.
    let mut holders: Vec<(u64, &str)> = vec![(interp, "InterpreterState.dict")];
    let mut t = c.ptr_at(interp, "InterpreterState.threads_head").unwrap_or(0);
    while t != 0 && holders.len() < 64 {
        holders.push((t, "ThreadState.dict"));
        t = c.ptr_at(t, "ThreadState.next").unwrap_or(0);
    }
    for (base, field) in holders {
        if let Some(d) = c.ptr_at(base, field).filter(|&d| d != 0) {
            let name = c.type_of(d).and_then(|t| c.tp_name(t));
            c.walk(
                "interpreter and thread dicts",
                &[field],
                ensure(name.as_deref() == Some("dict"), || format!("{name:?}")),
            );
        }
    }
    let importlib = c.ptr_at(interp, "InterpreterState.importlib").unwrap_or(0);
    let name = c.ptr_at(importlib, "ModuleObject.md_name").and_then(|n| c.str_of(n));
    c.walk(
        "interp->importlib is _frozen_importlib",
        &["InterpreterState.importlib"],
        ensure(name.as_deref() == Some("_frozen_importlib"), || format!("{name:?}")),
    );
}

/// One frame read from the core: its code object and address.
struct Frame {
    addr: u64,
    code: u64,
}

/// The thread's frames, innermost first, compared with the truth's; then what each frame holds.
fn frames(c: &mut Ctx<'_>, t: &Thread, interp: u64) {
    let Some(truth) = c.threads.iter().copied().find(|x| x["ident"].as_u64() == Some(t.ident)) else { return };
    let want: Vec<u64> = truth["frames"].as_array().into_iter().flatten().filter_map(|f| f["code"].as_u64()).collect();
    let (first, chain): (Option<u64>, Vec<&str>) = match c.minor {
        ..=10 => (
            c.ptr_at(t.addr, "ThreadState.frame"),
            vec!["ThreadState.frame", "FrameObject.f_back", "FrameObject.f_code"],
        ),
        11 | 12 => {
            let cframe = c.ptr_at(t.addr, "ThreadState.cframe").unwrap_or(0);
            (
                c.ptr_at(cframe, "CFrame.current_frame"),
                vec![
                    "ThreadState.cframe",
                    "CFrame.current_frame",
                    "InterpreterFrame.previous",
                    "InterpreterFrame.executable",
                    "InterpreterFrame.owner",
                ],
            )
        }
        _ => (
            c.ptr_at(t.addr, "ThreadState.current_frame"),
            vec![
                "ThreadState.current_frame",
                "InterpreterFrame.previous",
                "InterpreterFrame.executable",
                "InterpreterFrame.owner",
            ],
        ),
    };
    let mut got = Vec::new();
    let mut cur = first.unwrap_or(0);
    while cur != 0 && got.len() < 4096 {
        if c.minor <= 10 {
            got.push(Frame { addr: cur, code: c.ptr_at(cur, "FrameObject.f_code").unwrap_or(0) });
            cur = c.ptr_at(cur, "FrameObject.f_back").unwrap_or(0);
        } else {
            let owner = c.o("InterpreterFrame.owner").and_then(|o| c.u8(cur.wrapping_add(o))).unwrap_or(0);
            // Entry frames of C calls: owner 3 (FRAME_OWNED_BY_CSTACK) in 3.12/3.13; in 3.14.10 they are owner 3
            // (FRAME_OWNED_BY_INTERPRETER), and 4 is FRAME_OWNED_BY_CSTACK.
            let shim = c.minor >= 12 && owner >= 3;
            if !shim {
                let code = c.stackref(c.ptr_at(cur, "InterpreterFrame.executable").unwrap_or(0));
                got.push(Frame { addr: cur, code });
            }
            cur = c.ptr_at(cur, "InterpreterFrame.previous").unwrap_or(0);
        }
    }
    let codes: Vec<u64> = got.iter().map(|f| f.code).collect();
    c.walk("frame chain", &chain, ensure(codes == want, || format!("thread {}: {codes:x?} vs {want:x?}", t.ident)));
    if codes != want {
        return;
    }
    let frames: Vec<&Value> = truth["frames"].as_array().into_iter().flatten().collect();
    for (f, tf) in got.iter().zip(frames) {
        frame_contents(c, f, tf, interp);
    }
    datastack(c, t, &got);
}

/// The code object's names and line, the globals, builtins, locals and instruction pointer of one frame.
fn frame_contents(c: &mut Ctx<'_>, f: &Frame, tf: &Value, interp: u64) {
    let s = |v: &Value| v.as_str().map(str::to_string);
    let name = c.ptr_at(f.code, "CodeObject.name").and_then(|a| c.str_of(a));
    let file = c.ptr_at(f.code, "CodeObject.filename").and_then(|a| c.str_of(a));
    let first = c.o("CodeObject.firstlineno").and_then(|o| c.i32(f.code.wrapping_add(o))).map(i64::from);
    c.walk(
        "code names and first line of a live frame",
        &[
            "CodeObject.name",
            "CodeObject.filename",
            "CodeObject.firstlineno",
            "AsciiObject.length",
            "AsciiObject.state",
            "AsciiObject.size",
        ],
        ensure(name == s(&tf["function"]) && file == s(&tf["file"]) && first == tf["firstlineno"].as_i64(), || {
            format!("{name:?} {file:?} {first:?}")
        }),
    );
    if c.minor >= 11 {
        let q = c.ptr_at(f.code, "CodeObject.qualname").and_then(|a| c.str_of(a));
        c.walk("co_qualname", &["CodeObject.qualname"], ensure(q == s(&tf["qualname"]), || format!("{q:?}")));
    }
    let main_dict = c.markers.get("main_module_dict").copied();
    let is_module = tf["function"] == "<module>";
    let in_main = tf["file"].as_str().is_some_and(|p| p.ends_with("workload.py"));
    let (gfield, lfield) = if c.minor <= 10 {
        ("FrameObject.f_globals", "FrameObject.f_locals")
    } else {
        ("InterpreterFrame.globals", "InterpreterFrame.locals")
    };
    if in_main {
        let g = c.ptr_at(f.addr, gfield);
        c.walk("globals of a __main__ frame", &[gfield], ensure(g == main_dict, || format!("{g:?}")));
    }
    if is_module || c.minor >= 11 {
        // Functions: NULL, or (≤3.12) the dict that reading frame.f_locals cached there.
        let l = c.ptr_at(f.addr, lfield);
        let ok = if is_module {
            l == main_dict
        } else {
            let is_dict = |d: u64| c.type_of(d).and_then(|t| c.tp_name(t)).as_deref() == Some("dict");
            l == Some(0) || (c.minor <= 12 && l.is_some_and(is_dict))
        };
        c.walk(
            "f_locals: the module dict, NULL or a snapshot in functions",
            &[lfield],
            ensure(ok, || format!("{l:?}")),
        );
    }
    if c.minor >= 11 {
        let b = c.ptr_at(f.addr, "InterpreterFrame.builtins");
        let want = c.ptr_at(interp, "InterpreterState.builtins");
        c.walk("frame builtins", &["InterpreterFrame.builtins"], ensure(b == want, || format!("{b:?}")));
        let func = c.stackref(c.ptr_at(f.addr, "InterpreterFrame.funcobj").unwrap_or(0));
        let fcode = c.ptr_at(func, "FunctionObject.func_code");
        c.walk(
            "the frame's function runs its code",
            &["InterpreterFrame.funcobj", "FunctionObject.func_code"],
            ensure(fcode == Some(f.code), || format!("{fcode:?}")),
        );
        if let (Some(ip), Some(start), Some(n)) =
            (c.ptr_at(f.addr, "InterpreterFrame.instr_ptr"), c.o("CodeObject.code_adaptive"), c.var_size(f.code))
        {
            let start = f.code.wrapping_add(start);
            c.walk(
                "instr_ptr inside co_code_adaptive",
                &["InterpreterFrame.instr_ptr", "CodeObject.code_adaptive", "VarObject.ob_size"],
                ensure(ip.saturating_add(2) >= start && ip <= start.saturating_add(2 * n as u64), || {
                    format!("{ip:#x} not in {start:#x}+{n}")
                }),
            );
        }
    } else if let (Some(lasti), Some(code)) =
        (c.o("FrameObject.f_lasti").and_then(|o| c.i32(f.addr.wrapping_add(o))), c.ptr_at(f.code, "CodeObject.code"))
    {
        let len = c.var_size(code).unwrap_or(0) as i64;
        let at = if c.minor == 10 { i64::from(lasti) * 2 } else { i64::from(lasti) };
        c.walk(
            "f_lasti inside co_code",
            &["FrameObject.f_lasti", "CodeObject.code", "VarObject.ob_size"],
            ensure((0..len).contains(&at), || format!("{at} of {len}")),
        );
    }
    locals(c, f, tf);
}

/// Locals the truth gives as None or a plain str, read from the frame's slots by name.
fn locals(c: &mut Ctx<'_>, f: &Frame, tf: &Value) {
    if tf["function"] == "<module>" {
        return;
    }
    let (names_field, slots_field) = if c.minor <= 10 {
        ("CodeObject.varnames", "FrameObject.f_localsplus")
    } else {
        ("CodeObject.localsplusnames", "InterpreterFrame.localsplus")
    };
    let Some(names) = c.ptr_at(f.code, names_field).and_then(|t| c.tuple_items(t)) else { return };
    let kinds = c.ptr_at(f.code, "CodeObject.localspluskinds").and_then(|b| c.bytes_of(b));
    let Some(slots) = c.o(slots_field).map(|o| f.addr.wrapping_add(o)) else { return };
    let none = c.symbol("_Py_NoneStruct");
    let mut checked = 0;
    let mut bad = Vec::new();
    for (name, repr) in tf["locals"].as_object().into_iter().flatten() {
        let Some(repr) = repr.as_str() else { continue };
        let Some(i) = names.iter().position(|&n| c.str_of(n).as_deref() == Some(name.as_str())) else { continue };
        if kinds.as_ref().is_some_and(|k| k.get(i).is_some_and(|&k| k & 0xc0 != 0)) {
            continue; // a cell or free variable: the slot holds a cell
        }
        let value = c.stackref(c.u64(slots.wrapping_add(8 * i as u64)).unwrap_or(0));
        let ok = if repr == "None" {
            Some(value) == none
        } else if let Some(text) = plain_str_repr(repr) {
            c.str_of(value).as_deref() == Some(text)
        } else if let Ok(n) = repr.parse::<i128>() {
            c.int_of(value) == Some(n)
        } else {
            continue;
        };
        checked += 1;
        if !ok {
            bad.push(name.clone());
        }
    }
    if checked > 0 {
        c.walk(
            "local variables by name",
            &[names_field, slots_field, "CodeObject.localspluskinds", "TupleObject.ob_item"],
            ensure(bad.is_empty(), || format!("wrong: {bad:?}")),
        );
    }
}

/// 3.11+: the thread's own frames lie in its data stack chunks.
fn datastack(c: &mut Ctx<'_>, t: &Thread, frames: &[Frame]) {
    if c.minor < 11 {
        return;
    }
    let mut chunks = Vec::new();
    let mut cur = c.ptr_at(t.addr, "ThreadState.datastack_chunk").unwrap_or(0);
    while cur != 0 && chunks.len() < 1024 {
        let size = c.ptr_at(cur, "StackChunk.chunk_size").unwrap_or(0);
        chunks.push((cur.wrapping_add(c.o("StackChunk.data").unwrap_or(0)), cur.saturating_add(size)));
        cur = c.ptr_at(cur, "StackChunk.previous").unwrap_or(0);
    }
    let owner_off = c.o("InterpreterFrame.owner").unwrap_or(0);
    let own: Vec<u64> =
        frames.iter().filter(|f| c.u8(f.addr.wrapping_add(owner_off)) == Some(0)).map(|f| f.addr).collect();
    let outside: Vec<u64> = own.iter().copied().filter(|&a| !chunks.iter().any(|&(s, e)| s <= a && a < e)).collect();
    c.walk(
        "thread-owned frames lie in the data stack",
        &["ThreadState.datastack_chunk", "StackChunk.chunk_size", "StackChunk.data", "StackChunk.previous"],
        ensure(!own.is_empty() && outside.is_empty(), || format!("{} of {} outside", outside.len(), own.len())),
    );
}

/// The generation lists hold every gc-tracked object of the truth; each node's prev mirrors its next.
fn gc_lists(c: &mut Ctx<'_>, rt: u64, interp: u64) {
    let (gc, gc_field) = match c.o("InterpreterState.gc") {
        Some(o) => (interp.wrapping_add(o), "InterpreterState.gc"),
        None => match c.o("RuntimeState.gc") {
            Some(o) => (rt.wrapping_add(o), "RuntimeState.gc"),
            None => return,
        },
    };
    let (list_field, count) = if c.o("GcRuntimeState.generations").is_some() {
        ("GcRuntimeState.generations", 3)
    } else {
        ("GcRuntimeState.young", 3)
    };
    let (Some(lists), Some(gen_size), Some(head_off), Some(hsize)) =
        (c.o(list_field), c.o("GcGeneration.size"), c.o("GcGeneration.head"), c.o("GcHead.size"))
    else {
        return;
    };
    let (next_off, prev_off) = (c.o("GcHead.gc_next").unwrap_or(0), c.o("GcHead.gc_prev").unwrap_or(8));
    let mut seen = HashSet::new();
    let mut links_ok = true;
    for g in 0..count {
        let head = gc.wrapping_add(lists + g * gen_size + head_off);
        let mut node = c.u64(head.wrapping_add(next_off)).unwrap_or(0) & !3;
        let mut prev = head;
        while node != head && node != 0 && seen.len() < CAP {
            links_ok &= c.u64(node.wrapping_add(prev_off)).map(|p| p & !3) == Some(prev);
            if !seen.insert(node.wrapping_add(hsize)) {
                break;
            }
            prev = node;
            node = c.u64(node.wrapping_add(next_off)).unwrap_or(0) & !3;
        }
    }
    let tracked: Vec<u64> =
        c.objects.iter().filter(|(_, o)| o["gc_tracked"].as_bool() == Some(true)).map(|(&a, _)| a).collect();
    let missing = tracked.iter().filter(|a| !seen.contains(a)).count();
    c.walk(
        "GC generation lists hold every tracked object",
        &[gc_field, list_field, "GcGeneration.size", "GcGeneration.head", "GcHead.gc_next", "GcHead.size"],
        ensure(!tracked.is_empty() && missing == 0, || {
            format!("{missing} of {} tracked objects not in the lists", tracked.len())
        }),
    );
    c.walk("GC list prev links", &["GcHead.gc_prev"], ensure(links_ok, || "prev does not mirror next".into()));
    if let Some(g0) = c.ptr_at(gc, "GcRuntimeState.generation0") {
        c.walk(
            "generation0",
            &["GcRuntimeState.generation0"],
            ensure(g0 == gc.wrapping_add(lists), || format!("{g0:#x}")),
        );
    }
    let enabled = c.o("GcRuntimeState.enabled").and_then(|o| c.i32(gc.wrapping_add(o)));
    let collecting = c.o("GcRuntimeState.collecting").and_then(|o| c.i32(gc.wrapping_add(o)));
    c.walk(
        "gc.disable() and not collecting",
        &["GcRuntimeState.enabled", "GcRuntimeState.collecting"],
        ensure(enabled == Some(0) && collecting == Some(0), || format!("{enabled:?} {collecting:?}")),
    );
    if let Some(perm) = c.o("GcRuntimeState.permanent_generation") {
        // A well-formed circular list (3.12 keeps objects there at start-up), disjoint from the others.
        let head = gc.wrapping_add(perm + head_off);
        let mut node = c.u64(head.wrapping_add(next_off)).unwrap_or(0) & !3;
        let mut n = 0;
        while node != head && node != 0 && n < CAP && !seen.contains(&(node.wrapping_add(hsize))) {
            n += 1;
            node = c.u64(node.wrapping_add(next_off)).unwrap_or(0) & !3;
        }
        c.walk(
            "permanent generation is its own list",
            &["GcRuntimeState.permanent_generation"],
            ensure(node == head, || format!("ends at {node:#x} after {n} nodes")),
        );
    }
    let t0 = c.o("GcGeneration.threshold").and_then(|o| c.i32(gc.wrapping_add(lists + o)));
    let t1 = c.o("GcGeneration.threshold").and_then(|o| c.i32(gc.wrapping_add(lists + gen_size + o)));
    c.walk(
        "GC thresholds (700 or 2000, then 10)",
        &["GcGeneration.threshold"],
        ensure(matches!(t0, Some(700 | 2000)) && t1 == Some(10), || format!("{t0:?} {t1:?}")),
    );
}
