//! Object enumeration (`heapscope_cpython::heap::enumerate`: the GC lists plus pymalloc's blocks) against the ground
//! truth of every fixture core, read from the core alone (an empty sysroot; the shipped binaries for
//! `py312-filter33`).
//!
//! Asserted: every gc-tracked object of the truth is on a GC list; nothing on the GC lists is outside the truth
//! except the permanent generation, which `gc.get_objects()` leaves out (the truth's gatherer frees its temporaries
//! before the dump); no freed object is enumerated; the leaked marker and every object of the expected garbage are
//! found; the lists and the block objects are disjoint; pymalloc's arena table is found and its pools are
//! consistent; every object of the truth that lies in an arena is found (the others are static objects and large
//! objects from `malloc`, which the snapshot finds by following references).
//!
//! Reported (run with `--nocapture`): the figures per fixture, the truth's objects that are not gc-tracked and not
//! found (all outside the arenas) by type, and the block objects outside the truth, by what holds them: parts of
//! code objects and types and keys of str-keyed dicts, which `gc.get_referents` (the truth's closure) does not
//! report, then the rest by type.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use heapscope_coredump::{Addr, CoreProcess};
use heapscope_cpython::heap::gc_lists::PERMANENT;
use heapscope_cpython::heap::{enumerate, obmalloc, Enumeration};
use heapscope_cpython::layout::{DwarfPolicy, Layout};
use heapscope_cpython::objects::{flags, Heap, Kind};
use heapscope_cpython::{detect, runtime};
use serde_json::Value;

use common::{fixtures, Fixture};

fn addrs(v: &Value) -> Vec<Addr> {
    v.as_array().into_iter().flatten().filter_map(|a| a.as_u64()).map(Addr).collect()
}

/// Counts by type name, the largest first, as `name ×n` (at most `max` entries).
fn by_type<P: heapscope_coredump::ProcessImage + ?Sized>(heap: &Heap<'_, P>, objs: &[Addr], max: usize) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for &o in objs {
        let name = heap.type_of(o).and_then(|t| heap.type_name(t)).unwrap_or_else(|_| "?".into());
        *counts.entry(name).or_default() += 1;
    }
    let mut v: Vec<(String, usize)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let shown: Vec<String> = v.iter().take(max).map(|(n, c)| format!("{n} ×{c}")).collect();
    let rest: usize = v.iter().skip(max).map(|(_, c)| c).sum();
    if rest > 0 {
        format!("{}, … {rest} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// The address ranges of pymalloc's arenas in use.
fn arena_ranges(p: &CoreProcess, layout: &Layout, runtime: Addr, interp: Addr) -> Vec<(u64, u64)> {
    let Ok((table, _)) = obmalloc::locate_arenas(p, layout, runtime, interp) else { return Vec::new() };
    let (arenas, _) = obmalloc::read_arenas(p, layout, &table);
    arenas.iter().map(|a| (a.address.0, a.address.0 + table.geometry.arena_size)).collect()
}

/// The items of the container `o` (tuple, frozenset, set, list, dict keys and values); none for other objects.
fn items<P: heapscope_coredump::ProcessImage + ?Sized>(heap: &Heap<'_, P>, o: Addr) -> Vec<Addr> {
    const MAX: usize = 1 << 16;
    match heap.kind(o) {
        Ok(Kind::Tuple) => heap.tuple_items(o, MAX).unwrap_or_default(),
        Ok(Kind::FrozenSet | Kind::Set) => heap.set_items(o, MAX).unwrap_or_default(),
        Ok(Kind::List) => heap.list_items(o, MAX).unwrap_or_default(),
        Ok(Kind::Dict) => heap.dict_items(o, MAX).unwrap_or_default().into_iter().flat_map(|(k, v)| [k, v]).collect(),
        _ => Vec::new(),
    }
}

/// Everything reachable from `seeds` through container items.
fn closure<P: heapscope_coredump::ProcessImage + ?Sized>(heap: &Heap<'_, P>, seeds: Vec<Addr>) -> HashSet<Addr> {
    let mut seen = HashSet::new();
    let mut todo = seeds;
    while let Some(o) = todo.pop() {
        if !o.is_null() && seen.insert(o) {
            todo.extend(items(heap, o));
        }
    }
    seen
}

/// Splits `extra` (block objects outside the truth) by what holds them, among `known` (the truth and the block
/// objects): parts of code objects (consts, names, bytecode, line tables, …) and of types (static types' `tp_bases`,
/// `tp_mro`, `tp_dict`; heap types' names), keys of str-keyed dicts (all of which gc.get_referents does not report:
/// code objects and static types have no `tp_traverse`, heap types do not visit their names, and dicts do not visit
/// str keys), other interned strings, items of the
/// containers among the rest, and the rest. Containers among the parts are followed transitively.
fn categorise<P: heapscope_coredump::ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    known: &[Addr],
    extra: &[Addr],
) -> [Vec<Addr>; 6] {
    let l = heap.layout();
    let c = &l.code;
    let code_fields = [
        &c.consts,
        &c.names,
        &c.varnames,
        &c.cellvars,
        &c.freevars,
        &c.localsplusnames,
        &c.localspluskinds,
        &c.filename,
        &c.name,
        &c.qualname,
        &c.lnotab,
        &c.linetable,
        &c.exceptiontable,
        &c.code,
    ];
    let t = &l.type_object;
    let static_fields = [&t.tp_bases, &t.tp_mro, &t.tp_dict];
    let h = &l.heap_type;
    let heap_fields = [&h.ht_name, &h.ht_qualname, &h.ht_slots];
    let fields_of = |o: Addr, fields: &[&heapscope_cpython::layout::Field]| -> Vec<Addr> {
        fields
            .iter()
            .filter_map(|f| f.offset)
            .filter_map(|f| heap.process().read_u64(o.wrapping_add(u64::from(f))).ok().map(Addr))
            .collect()
    };
    let (mut code_seeds, mut type_seeds, mut dicts) = (Vec::new(), Vec::new(), Vec::new());
    for &o in known {
        match heap.kind(o) {
            Ok(Kind::Code) => code_seeds.extend(fields_of(o, &code_fields)),
            Ok(Kind::Type) if heap.tp_flags(o).is_ok_and(|f| f & flags::HEAPTYPE == 0) => {
                type_seeds.extend(fields_of(o, &static_fields))
            }
            Ok(Kind::Type) => type_seeds.extend(fields_of(o, &heap_fields)),
            Ok(Kind::Dict) => dicts.push(o),
            _ => {}
        }
    }
    let mut rest: Vec<Addr> = extra.to_vec();
    let take = |rest: &mut Vec<Addr>, set: &HashSet<Addr>| {
        let (taken, left): (Vec<Addr>, Vec<Addr>) = rest.iter().partition(|a| set.contains(a));
        *rest = left;
        taken
    };
    let code = take(&mut rest, &closure(heap, code_seeds));
    let types = take(&mut rest, &closure(heap, type_seeds));
    let keys: HashSet<Addr> =
        dicts.iter().flat_map(|&d| heap.dict_items(d, 1 << 20).unwrap_or_default()).map(|(k, _)| k).collect();
    let keys = take(&mut rest, &keys);
    let interned: HashSet<Addr> = rest
        .iter()
        .copied()
        .filter(|&a| heap.kind(a).ok() == Some(Kind::Str) && heap.str_value(a, 0).is_ok_and(|s| s.interned != 0))
        .collect();
    let interned = take(&mut rest, &interned);
    let held = closure(heap, rest.iter().flat_map(|&o| items(heap, o)).collect());
    let held = take(&mut rest, &held);
    [code, types, keys, interned, held, rest]
}

struct Checked {
    name: String,
    failures: Vec<String>,
    lines: Vec<String>,
}

fn check(fx: &Fixture) -> Checked {
    let mut c = Checked { name: fx.name.clone(), failures: Vec::new(), lines: Vec::new() };
    let truth = fx.truth();
    let (p, _root) = fx.open_process();
    let d = detect(&p).expect("interpreter found");
    let (layout, _) = Layout::resolve(&p, &d, DwarfPolicy::Off).expect("layout resolves");
    let heap = Heap::new(&p, &layout);
    let interps = runtime::interpreters(&p, &layout, d.runtime);
    let main = interps.items.last().expect("an interpreter").addr;

    let t0 = Instant::now();
    let e: Enumeration = enumerate(&heap, d.runtime, main);
    let took = t0.elapsed();

    let objects: HashMap<Addr, &Value> =
        truth["objects"].as_array().unwrap().iter().map(|o| (Addr(o["address"].as_u64().unwrap()), o)).collect();
    let gc: HashSet<Addr> = e.gc.iter().map(|&(a, _)| a).collect();
    let untracked: HashSet<Addr> = e.untracked.iter().copied().collect();
    let s = &e.stats;

    // The GC lists: exactly the truth's gc-tracked objects.
    let tracked: Vec<Addr> =
        objects.iter().filter(|(_, o)| o["gc_tracked"].as_bool() == Some(true)).map(|(&a, _)| a).collect();
    let missing: Vec<Addr> = tracked.iter().copied().filter(|a| !gc.contains(a)).collect();
    if !missing.is_empty() {
        c.failures.push(format!(
            "{} of {} gc-tracked objects not on a GC list: {:?}",
            missing.len(),
            tracked.len(),
            &missing[..missing.len().min(5)]
        ));
    }
    if gc.len() != e.gc.len() {
        c.failures.push(format!("{} objects are on two GC lists", e.gc.len() - gc.len()));
    }
    // gc.get_objects() leaves out the permanent generation (3.12 keeps static types' MRO tuples there).
    let outside = |permanent: bool| -> Vec<Addr> {
        e.gc.iter()
            .filter(|&&(a, g)| !objects.contains_key(&a) && (g == PERMANENT) == permanent)
            .map(|&(a, _)| a)
            .collect()
    };
    let (permanent, gc_extra) = (outside(true), outside(false));
    if !gc_extra.is_empty() {
        c.failures.push(format!(
            "{} GC-list objects outside the truth: {}",
            gc_extra.len(),
            by_type(&heap, &gc_extra, 10)
        ));
    }
    if s.gc_list_errors > 0 {
        c.failures.push(format!("{} GC lists not walked to the end: {:?}", s.gc_list_errors, e.warnings));
    }

    // Freed objects, the leaked marker, the garbage.
    let freed = addrs(&truth["freed"]);
    let freed_found: Vec<Addr> = freed.iter().copied().filter(|a| gc.contains(a) || untracked.contains(a)).collect();
    if freed.len() != 1000 || !freed_found.is_empty() {
        c.failures.push(format!("{} of {} freed objects enumerated", freed_found.len(), freed.len()));
    }
    let leaked = Addr(truth["markers"]["leaked"].as_u64().expect("leaked marker"));
    if !gc.contains(&leaked) {
        c.failures.push(format!("the leaked marker {leaked} is not found"));
    }
    let garbage = addrs(&truth["expected_garbage"]);
    let garbage_missing = garbage.iter().filter(|a| !gc.contains(a) && !untracked.contains(a)).count();
    if garbage.is_empty() || garbage_missing > 0 {
        c.failures.push(format!("{garbage_missing} of {} expected garbage objects not found", garbage.len()));
    }

    // pymalloc.
    let both = untracked.intersection(&gc).count();
    if both > 0 {
        c.failures.push(format!("{both} block objects are also on the GC lists"));
    }
    if s.arena_table.is_none() || s.arenas == 0 || s.blocks_allocated == 0 {
        c.failures.push(format!("pymalloc not enumerated: {:?}", e.warnings));
    }
    if s.pool_errors > 0 || s.arena_errors > 0 || s.pool_count_mismatches > 0 {
        c.failures.push(format!(
            "{} pool errors, {} arena errors, {} ref.count mismatches: {:?}",
            s.pool_errors, s.arena_errors, s.pool_count_mismatches, e.warnings
        ));
    }

    // The truth's objects that are not gc-tracked: how many the block scan finds.
    let not_tracked: Vec<Addr> =
        objects.iter().filter(|(_, o)| o["gc_tracked"].as_bool() == Some(false)).map(|(&a, _)| a).collect();
    let found = not_tracked.iter().filter(|a| untracked.contains(a)).count();
    let not_found: Vec<Addr> = not_tracked.iter().copied().filter(|a| !untracked.contains(a)).collect();
    let arenas = arena_ranges(&p, &layout, d.runtime, main);
    let (missed, outside): (Vec<Addr>, Vec<Addr>) =
        not_found.iter().partition(|a| arenas.iter().any(|&(s, e)| s <= a.0 && a.0 < e));
    if !missed.is_empty() {
        c.failures.push(format!(
            "{} objects of the truth inside pymalloc's arenas not found: {}",
            missed.len(),
            by_type(&heap, &missed, 10)
        ));
    }
    let extra: Vec<Addr> = e.untracked.iter().copied().filter(|a| !objects.contains_key(a)).collect();
    let known: Vec<Addr> = objects.keys().chain(&e.untracked).copied().collect();
    let [code_parts, type_parts, keys, interned, held, other] = categorise(&heap, &known, &extra);

    let t = s.arena_table.as_ref();
    c.lines.push(format!(
        "{} ({}): {} ms; GC lists {:?} = {}; arena table {} ({:?}, {} entries, {} KiB arenas / {} KiB pools)",
        fx.name,
        d.version,
        took.as_millis(),
        s.gc_per_generation,
        e.gc.len(),
        t.map_or("-".into(), |t| t.addr.to_string()),
        t.map(|t| t.source),
        t.map_or(0, |t| t.maxarenas),
        t.map_or(0, |t| t.geometry.arena_size >> 10),
        t.map_or(0, |t| t.geometry.pool_size >> 10),
    ));
    c.lines.push(format!(
        "  arenas {}, pools {} ({} empty), blocks allocated {} / free {}; blocks with GC-list objects {}; block \
         objects {} ({} of GC types); types known {} + found {}",
        s.arenas,
        s.pools,
        s.pools_empty,
        s.blocks_allocated,
        s.blocks_free,
        s.gc_blocks,
        s.block_objects,
        s.block_objects_gc_types,
        s.types_known,
        s.types_found
    ));
    c.lines.push(format!("  rejected blocks: {:?}", s.rejected));
    c.lines.push(format!(
        "  GC-list objects outside the truth: {} in the permanent generation ({}), 0 elsewhere",
        permanent.len(),
        by_type(&heap, &permanent, 4)
    ));
    c.lines.push(format!(
        "  truth: {} objects, {} gc-tracked (all on the lists: {}), {} not tracked: {} found in blocks ({:.1} %)",
        objects.len(),
        tracked.len(),
        missing.is_empty(),
        not_tracked.len(),
        found,
        100.0 * found as f64 / not_tracked.len().max(1) as f64
    ));
    c.lines.push(format!(
        "  not found, outside pymalloc's arenas ({}): {}",
        outside.len(),
        by_type(&heap, &outside, 12)
    ));
    c.lines.push(format!("  not found, inside the arenas ({}): {}", missed.len(), by_type(&heap, &missed, 12)));
    c.lines.push(format!(
        "  block objects outside the truth: {} = {} parts of code objects + {} of types + {} keys of \
         str-keyed dicts (none of which gc.get_referents reports) + {} other interned str + {} items of other such \
         objects + {} other: {}",
        extra.len(),
        code_parts.len(),
        type_parts.len(),
        keys.len(),
        interned.len(),
        held.len(),
        other.len(),
        by_type(&heap, &other, 12)
    ));
    for w in &e.warnings {
        c.lines.push(format!("  warning: {w}"));
    }
    c
}

#[test]
fn enumeration_matches_the_truth_on_every_fixture() {
    let mut failures = Vec::new();
    for fx in fixtures() {
        let c = check(&fx);
        for l in &c.lines {
            eprintln!("{l}");
        }
        failures.extend(c.failures.iter().map(|f| format!("{}: {f}", c.name)));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
