//! Checks on pymalloc: the arena table (3.12+ through `interp->obmalloc`; ≤3.11, which keeps it in static variables,
//! as heapscope's validated scan finds it), each arena's counters, free-pool list and list links, each pool's header
//! and free list, and the truth's objects, which must sit in allocated blocks at a header position.

use std::collections::{HashMap, HashSet};

use heapscope_cpython::heap::obmalloc::{locate_arenas, Geometry};
use heapscope_cpython::layout::Layout;
use heapscope_cpython::runtime::interpreters;

use super::{ensure, Ctx};

/// Most arena-table entries read.
const MAX_ARENAS: u64 = 1 << 16;

/// One used pool: block size, carved blocks, and which of them are free.
struct Pool {
    size: u64,
    carved: u64,
    free: HashSet<u64>,
}

pub(crate) fn obmalloc(c: &mut Ctx<'_>, layout: &Layout) {
    let rt = c.d.runtime;
    let Some(interp) = interpreters(c.p, layout, rt).items.last().map(|i| i.addr.0) else { return };
    let g = Geometry::for_layout(layout);
    let (table, max) = match c.o("InterpreterState.obmalloc") {
        Some(off) => {
            let slot = interp.wrapping_add(off);
            let state = if c.minor == 12 { Some(slot) } else { c.u64(slot) };
            let table = state.and_then(|s| c.ptr_at(s, "ObmallocState.arenas"));
            let max = state.and_then(|s| c.u32(s.wrapping_add(c.o("ObmallocState.maxarenas")?)));
            let ok = matches!((table, max), (Some(t), Some(m)) if t != 0 && m >= 16 && (m / 16).is_power_of_two());
            c.walk(
                "pymalloc state",
                &["InterpreterState.obmalloc", "ObmallocState.arenas", "ObmallocState.maxarenas"],
                ensure(ok, || format!("arenas {table:x?}, maxarenas {max:?}")),
            );
            match (table, max) {
                (Some(t), Some(m)) if ok => (t, u64::from(m)),
                _ => return,
            }
        }
        None => match locate_arenas(c.p, layout, rt, heapscope_coredump::Addr(interp)) {
            Ok((t, _)) => (t.addr.0, u64::from(t.maxarenas)),
            Err(e) => {
                c.walk("pymalloc arena table found by scanning", &["ArenaObject.size"], Err(e));
                return;
            }
        },
    };
    let Some(esize) = c.o("ArenaObject.size") else { return };
    let field = |c: &Ctx<'_>, base: u64, f: &str| c.o(f).and_then(|o| c.u64(base.wrapping_add(o)));
    let field32 = |c: &Ctx<'_>, base: u64, f: &str| c.o(f).and_then(|o| c.u32(base.wrapping_add(o)));

    let mut used = 0u64;
    let (mut counters_bad, mut freepools_bad, mut links_bad, mut headers_bad, mut freelists_bad, mut rings_bad) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut pools: HashMap<u64, Pool> = HashMap::new();
    let mut ranges = Vec::new();
    for i in 0..max.min(MAX_ARENAS) {
        let entry = table + i * esize;
        let Some(address) = field(c, entry, "ArenaObject.address").filter(|&a| a != 0) else { continue };
        used += 1;
        ranges.push((address, address + g.arena_size));
        let pool_address = field(c, entry, "ArenaObject.pool_address").unwrap_or(0);
        let (nfree, ntotal) =
            (field32(c, entry, "ArenaObject.nfreepools"), field32(c, entry, "ArenaObject.ntotalpools"));
        let first = address.next_multiple_of(g.pool_size);
        let carved = pool_address.saturating_sub(first) / g.pool_size;
        let mut empty = HashSet::new();
        for k in 0..carved {
            let pool = first + k * g.pool_size;
            let count = field32(c, pool, "PoolHeader.count");
            let index = field32(c, pool, "PoolHeader.arenaindex");
            let szidx = field32(c, pool, "PoolHeader.szidx").unwrap_or(u32::MAX);
            let next = field32(c, pool, "PoolHeader.nextoffset").map(u64::from);
            let maxnext = field32(c, pool, "PoolHeader.maxnextoffset").map(u64::from);
            if index != Some(i as u32) {
                headers_bad.push(format!("pool {pool:#x}: arenaindex {index:?}, in arena {i}"));
                continue;
            }
            if count == Some(0) {
                empty.insert(pool);
                continue;
            }
            let size = (u64::from(szidx) + 1) * 16;
            let (Some(next), true) = (next, szidx < 32 && maxnext == Some(g.pool_size - size)) else {
                headers_bad.push(format!("pool {pool:#x}: szidx {szidx}, maxnextoffset {maxnext:?}"));
                continue;
            };
            let carved_blocks = next.saturating_sub(g.pool_overhead) / size;
            let mut free = HashSet::new();
            let mut link = field(c, pool, "PoolHeader.freeblock").unwrap_or(0);
            while link != 0 && free.len() as u64 <= carved_blocks && free.insert(link) {
                link = c.u64(link).unwrap_or(0);
            }
            if Some(carved_blocks - free.len() as u64) != count.map(u64::from) {
                freelists_bad
                    .push(format!("pool {pool:#x}: {carved_blocks} carved, {} free, count {count:?}", free.len()));
            }
            // A pool with room is linked into its size class's ring of used pools.
            if carved_blocks < (g.pool_size - g.pool_overhead) / size || !free.is_empty() {
                let np = field(c, pool, "PoolHeader.nextpool").unwrap_or(0);
                if field(c, np, "PoolHeader.prevpool") != Some(pool) {
                    rings_bad.push(format!("pool {pool:#x}"));
                }
            }
            pools.insert(pool, Pool { size, carved: carved_blocks, free });
        }
        if nfree.map(u64::from) != Some(empty.len() as u64 + ntotal.map_or(0, u64::from).saturating_sub(carved)) {
            counters_bad.push(format!(
                "arena {i}: nfreepools {nfree:?}, {} empty of {carved} carved, {ntotal:?} in all",
                empty.len()
            ));
        }
        let mut on_list = HashSet::new();
        let mut p = field(c, entry, "ArenaObject.freepools").unwrap_or(0);
        while p != 0 && on_list.len() <= empty.len() && on_list.insert(p) {
            p = field(c, p, "PoolHeader.nextpool").unwrap_or(0);
        }
        if on_list != empty {
            freepools_bad.push(format!("arena {i}: {} on the list, {} empty", on_list.len(), empty.len()));
        }
        if nfree.is_some_and(|n| n > 0) {
            let next = field(c, entry, "ArenaObject.nextarena").unwrap_or(0);
            let prev = field(c, entry, "ArenaObject.prevarena").unwrap_or(0);
            let back = |c: &Ctx<'_>, other: u64, f: &str| other == 0 || field(c, other, f) == Some(entry);
            if !back(c, next, "ArenaObject.prevarena") || !back(c, prev, "ArenaObject.nextarena") {
                links_bad.push(format!("arena {i}"));
            }
        }
    }
    let msg = |v: &Vec<String>| v.iter().take(3).cloned().collect::<Vec<_>>().join("; ");
    c.walk(
        "pymalloc arenas in use",
        &["ArenaObject.size", "ArenaObject.address", "ArenaObject.pool_address"],
        ensure(used > 0, || "no arena in use".into()),
    );
    if let Some(off) = c.o("InterpreterState.obmalloc") {
        let state = if c.minor == 12 { Some(interp + off) } else { c.u64(interp + off) };
        let n = state.and_then(|s| field(c, s, "ObmallocState.narenas_currently_allocated"));
        c.walk(
            "narenas_currently_allocated",
            &["ObmallocState.narenas_currently_allocated"],
            ensure(n == Some(used), || format!("{n:?}, {used} in use")),
        );
    }
    let header_fields = [
        "PoolHeader.size",
        "PoolHeader.count",
        "PoolHeader.arenaindex",
        "PoolHeader.szidx",
        "PoolHeader.nextoffset",
        "PoolHeader.maxnextoffset",
    ];
    c.walk("pool headers", &header_fields, ensure(headers_bad.is_empty(), || msg(&headers_bad)));
    c.walk("pool free lists", &["PoolHeader.freeblock"], ensure(freelists_bad.is_empty(), || msg(&freelists_bad)));
    c.walk(
        "used-pool rings",
        &["PoolHeader.nextpool", "PoolHeader.prevpool"],
        ensure(rings_bad.is_empty(), || msg(&rings_bad)),
    );
    c.walk(
        "arena pool counters",
        &["ArenaObject.nfreepools", "ArenaObject.ntotalpools"],
        ensure(counters_bad.is_empty(), || msg(&counters_bad)),
    );
    c.walk(
        "arena free-pool lists",
        &["ArenaObject.freepools", "PoolHeader.nextpool"],
        ensure(freepools_bad.is_empty(), || msg(&freepools_bad)),
    );
    c.walk(
        "usable-arena links",
        &["ArenaObject.nextarena", "ArenaObject.prevarena"],
        ensure(links_bad.is_empty(), || msg(&links_bad)),
    );

    // Every truth object inside an arena is in an allocated block, at offset 0, 16 or (3.11+) 32.
    let mut in_arenas = 0usize;
    let mut bad = Vec::new();
    for &a in c.objects.keys() {
        if !ranges.iter().any(|&(s, e)| s <= a && a < e) {
            continue;
        }
        in_arenas += 1;
        let pool = a & !(g.pool_size - 1);
        let ok = pools.get(&pool).is_some_and(|p| {
            let rel = a - pool - g.pool_overhead.min(a - pool);
            let (block, within) = (rel / p.size, rel % p.size);
            a - pool >= g.pool_overhead
                && block < p.carved
                && !p.free.contains(&(pool + g.pool_overhead + block * p.size))
                && (within == 0 || within == 16 || (within == 32 && c.minor >= 11))
        });
        if !ok {
            bad.push(format!("{a:#x}"));
        }
    }
    c.walk(
        "objects lie in allocated blocks",
        &["PoolHeader.szidx", "PoolHeader.nextoffset", "PoolHeader.freeblock"],
        ensure(in_arenas > 0 && bad.is_empty(), || format!("{} of {in_arenas}: {}", bad.len(), msg(&bad))),
    );
}
