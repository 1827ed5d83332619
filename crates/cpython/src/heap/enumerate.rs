//! Enumerating an interpreter's objects without following references: every object on its GC lists
//! ([`super::gc_lists`]), plus the live objects among pymalloc's allocated blocks that are on no GC list
//! ([`super::blocks`]). Objects outside both (static objects, objects of more than 512 bytes from `malloc`) are
//! found later by following references.
//!
//! Confirmed on every fixture (`tests/enumerate.rs`): the lists hold exactly the truth's gc-tracked objects (3.12:
//! plus the permanent generation's 375 static-type tuples, which `gc.get_objects()` leaves out), and the block scan
//! finds every other truth object that lies in an arena, no freed object and no freelisted one.
//!
//! What interpreters share is listed for each of them: 3.8 has one GC state for the process, ≤3.11 one pymalloc,
//! and in 3.12+ legacy sub-interpreters use the main interpreter's pymalloc. Callers enumerating several
//! interpreters deduplicate by address.
//!
//! Costs, on the fixtures (75 000 objects, 90 000 allocated blocks): 10–25 ms, of which the GC walk ~1 ms, the
//! table of known types ~3 ms and the block scan ~6 ms (one thread; pools are scanned with rayon).

use std::collections::{BTreeMap, HashSet};

use heapscope_coredump::{Addr, ProcessImage};
use rayon::prelude::*;

use super::blocks::{Scan, REJECTS};
use super::gc_lists::gc_objects_excluding;
use super::obmalloc::{locate_arenas, read_arenas, ArenaTable};
use crate::objects::Heap;

/// Most pool errors kept as warnings (the rest are counted).
const MAX_POOL_WARNINGS: usize = 20;

/// Every object of one interpreter that heapscope can enumerate without following references.
#[derive(Debug, Clone, Default)]
pub struct Enumeration {
    /// Objects on the GC lists, with their generation (0–2, 3 = permanent), list by list.
    pub gc: Vec<(Addr, u8)>,
    /// Live objects in pymalloc blocks that are on no GC list (non-GC objects and untracked GC objects), sorted.
    pub untracked: Vec<Addr>,
    /// Counts.
    pub stats: EnumerationStats,
    /// What could not be read or found, and what was inferred; enumeration went on regardless.
    pub warnings: Vec<String>,
    /// The GC state's address, when it says a collection was running at the dump: the objects the collector had
    /// taken off the generation lists are then missing from [`Enumeration::gc`] (see
    /// [`super::gc_lists::collection_running`]); those in pymalloc blocks are counted in
    /// [`EnumerationStats::tracked_unlisted`].
    pub collecting: Option<Addr>,
}

/// Counts from one enumeration.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct EnumerationStats {
    /// GC objects per generation: `[gen0, gen1, gen2, permanent]`.
    pub gc_per_generation: [u64; 4],
    /// GC lists that could not be walked to their end.
    pub gc_list_errors: u64,
    /// The arena table, when it was found.
    pub arena_table: Option<ArenaTable>,
    /// Arenas in use.
    pub arenas: u64,
    /// Pools carved in those arenas.
    pub pools: u64,
    /// Of those, empty pools (`ref.count == 0`).
    pub pools_empty: u64,
    /// Messages about arena-table entries that could not be read or are inconsistent.
    pub arena_errors: u64,
    /// Pools that could not be read or are inconsistent.
    pub pool_errors: u64,
    /// Used pools whose allocated-block count differs from `ref.count`.
    pub pool_count_mismatches: u64,
    /// Allocated blocks in used pools.
    pub blocks_allocated: u64,
    /// Carved blocks on the pools' free lists.
    pub blocks_free: u64,
    /// Allocated blocks holding an object of the GC lists.
    pub gc_blocks: u64,
    /// Allocated blocks holding a live object on no GC list (the length of [`Enumeration::untracked`]).
    pub block_objects: u64,
    /// Of those, objects of GC types (untracked containers).
    pub block_objects_gc_types: u64,
    /// Types known before the scan (statics, types of and on the GC lists, their MROs).
    pub types_known: u64,
    /// Statically allocated types found during the scan.
    pub types_found: u64,
    /// Allocated blocks taken for no object, by the furthest rule they failed.
    pub rejected: BTreeMap<&'static str, u64>,
}

impl EnumerationStats {
    /// Allocated blocks holding a GC object whose header says tracked but that is on no GC list walked: during a
    /// collection, the objects the collector had moved to its own lists.
    pub fn tracked_unlisted(&self) -> u64 {
        self.rejected.get(super::blocks::Reject::TrackedNotListed.name()).copied().unwrap_or(0)
    }
}

/// Every object of the interpreter at `interp` (`runtime` is `_PyRuntime`) that can be found without following
/// references: the GC lists, then pymalloc's allocated blocks (see the module documentation). Never fails: what
/// cannot be read is counted and reported in [`Enumeration::warnings`]; without the arena table, only the GC lists.
pub fn enumerate<P: ProcessImage + ?Sized + Sync>(heap: &Heap<'_, P>, runtime: Addr, interp: Addr) -> Enumeration {
    enumerate_excluding(heap, runtime, interp, &|_| false)
}

/// [`enumerate`], ending each GC list at an object for which `taken` is true (an object already on the GC lists of
/// another interpreter: see [`gc_objects_excluding`]).
pub fn enumerate_excluding<P: ProcessImage + ?Sized + Sync>(
    heap: &Heap<'_, P>,
    runtime: Addr,
    interp: Addr,
    taken: &dyn Fn(Addr) -> bool,
) -> Enumeration {
    let mut out = Enumeration::default();
    let walk = gc_objects_excluding(heap, runtime, interp, taken);
    out.warnings.extend(walk.warnings.iter().cloned());
    out.collecting = walk.collecting;
    if let Some(e) = &walk.error {
        out.warnings.push(format!("cannot find the GC lists: {e}"));
    }
    for l in &walk.lists {
        if let Some(e) = &l.error {
            out.stats.gc_list_errors += 1;
            out.warnings.push(format!("GC list {} ({} objects read): {e}", l.list.name, l.objects));
        }
    }
    for (g, n) in walk.per_generation().into_iter().enumerate() {
        out.stats.gc_per_generation[g] = n as u64;
    }
    out.gc = walk.objects;

    let p = heap.process();
    let layout = heap.layout();
    let (table, notes) = match locate_arenas(p, layout, runtime, interp) {
        Ok(found) => found,
        Err(e) => {
            out.warnings
                .push(format!("cannot locate pymalloc's arena table ({e}); objects on no GC list are not enumerated"));
            return out;
        }
    };
    out.warnings.extend(notes);
    out.stats.arena_table = Some(table);
    let (arenas, errors) = read_arenas(p, layout, &table);
    out.stats.arenas = arenas.len() as u64;
    out.stats.arena_errors = errors.len() as u64;
    out.warnings.extend(errors);
    let pools: Vec<(Addr, u32)> =
        arenas.iter().flat_map(|a| a.pools(&table.geometry).map(move |pool| (pool, a.index))).collect();
    out.stats.pools = pools.len() as u64;

    let scan = Scan::new(heap, &out.gc, table.geometry);
    out.stats.types_known = scan.types.len() as u64;
    let results = scan.pools(&pools);
    let mut found_types: HashSet<Addr> = HashSet::new();
    let mut pool_warnings = 0;
    for r in results {
        let s = &mut out.stats;
        s.pools_empty += u64::from(r.empty);
        s.pool_count_mismatches += u64::from(r.count_mismatch);
        s.blocks_allocated += r.allocated;
        s.blocks_free += r.free;
        s.gc_blocks += r.gc_blocks;
        s.block_objects_gc_types += r.gc_types;
        for (i, n) in r.rejected.iter().enumerate() {
            if *n > 0 {
                *s.rejected.entry(REJECTS[i].name()).or_default() += n;
            }
        }
        if let Some(e) = r.error {
            s.pool_errors += 1;
            if pool_warnings < MAX_POOL_WARNINGS {
                out.warnings.push(e);
                pool_warnings += 1;
            }
        }
        out.untracked.extend(r.objects);
        found_types.extend(r.found_types);
    }
    if out.stats.pool_errors > pool_warnings as u64 {
        out.warnings.push(format!("{} pools could not be scanned in all", out.stats.pool_errors));
    }
    if out.stats.pool_count_mismatches > 0 {
        out.warnings.push(format!(
            "{} pools hold a different number of allocated blocks than their ref.count says (pymalloc was busy at the \
             dump?)",
            out.stats.pool_count_mismatches
        ));
    }
    // Pools come arena by arena in the table's order, not by address: sort (in parallel: millions of objects).
    out.untracked.par_sort_unstable();
    out.untracked.dedup();
    out.stats.block_objects = out.untracked.len() as u64;
    out.stats.types_found = found_types.len() as u64;
    out
}
