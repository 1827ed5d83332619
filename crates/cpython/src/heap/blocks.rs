//! Which of pymalloc's allocated blocks hold live objects that are on no GC list: non-GC objects (str, int, float,
//! bytes, …) and untracked GC objects (tuples and dicts of atoms, …).
//!
//! A block holds an object at one of a few positions: at its start (a non-GC object), after a `PyGC_Head` (a GC
//! object), or (3.11+) after the GC head and two pre-header words (managed-dict / managed-weakref types). A block is
//! taken as an object only if, at one of those positions, everything agrees:
//!
//! 1. `ob_type` is a known type: a static type of the interpreter ([`Heap::statics`]), the type (or an MRO entry of
//!    the type) of an object on the GC lists, a type object on the GC lists, or a statically allocated type found on
//!    the way (inside a loaded object's mappings, whose own type is a known metatype, not a heap type, ready, with
//!    a readable `tp_name`);
//! 2. the type's `Py_TPFLAGS_HAVE_GC` and pre-header flags match the position;
//! 3. a GC object is untracked (`_gc_next == 0` and no `_gc_prev` link); a tracked one must be on a GC list;
//! 4. the refcount is plausible: ≥ 1, or immortal in this version's encoding (3.14: flag bits in the high half, and
//!    no pointer there — which is how 3.14's freelists, which store their link in the first word, are excluded);
//! 5. the object's size (`tp_basicsize + tp_itemsize × n`, str and int by their own rules, plus the GC head,
//!    pre-header and 3.13+ inline values) rounds up to the block's size class — or, for variable-sized objects, fits
//!    the block within the slack pymalloc's in-place `realloc` shrinking leaves.
//!
//! Blocks on a pool's free list are never looked at (freed objects, FreedMarker in the fixtures). ≤3.13 freelists
//! (tuples, floats, dicts, …) hold deallocated objects whose refcount is 0, so rule 4 excludes them; 3.14's by
//! their link in the refcount word. Pools are scanned in parallel (rayon).

use super::type_facts::{AddrMap, AddrSet};

use heapscope_coredump::{Addr, ProcessImage, Range};
use rayon::prelude::*;

use super::obmalloc::{parse_pool, u32_at, u64_at, Geometry, PoolState};
use crate::layout::Layout;
use crate::objects::{flags, Features, Heap, Kind};

/// Longest `tp_name` accepted for a type found on the way.
const MAX_TYPE_NAME: usize = 256;
/// Largest `tp_basicsize` / `tp_itemsize` of a plausible type.
const MAX_BASICSIZE: u64 = 1 << 20;
const MAX_ITEMSIZE: u64 = 1 << 16;

/// Why a block was not taken for an object, ordered by how far it got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Reject {
    /// No known type at any header position: not an object (dict keys, item arrays, buffers, …).
    NoType,
    /// A known type, but its GC / pre-header flags do not fit the position.
    Position,
    /// A GC head that says tracked, for an object on no GC list.
    TrackedNotListed,
    /// An untracked GC head with a `_gc_prev` link.
    StaleGcHead,
    /// An implausible refcount (0: deallocated, on a freelist; a pointer: a 3.14 freelist link).
    Refcount,
    /// The object's size does not fit the block.
    Size,
}

impl Reject {
    /// How the reason is reported in [`super::EnumerationStats::rejected`].
    pub(super) fn name(self) -> &'static str {
        match self {
            Reject::NoType => "no known type",
            Reject::Position => "type does not fit the header position",
            Reject::TrackedNotListed => "tracked but on no GC list",
            Reject::StaleGcHead => "untracked GC head with a prev link",
            Reject::Refcount => "implausible refcount",
            Reject::Size => "size does not fit the block",
        }
    }
}

/// How an object's allocation size follows from its type and fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `tp_basicsize` (plus 3.13+ inline values).
    Fixed,
    /// `tp_basicsize + tp_itemsize × |ob_size|`.
    Var,
    /// int and subclasses: digits from `ob_size` (≤3.11) or `lv_tag >> 3` (3.12+); normalisation may leave a
    /// larger block than the digits need.
    Int,
    /// Exact str: compact strings by their state bits and length.
    Str,
    /// 3.11+ frame objects and generators: allocated with `tp_itemsize ×` the code's frame size, but the word
    /// where `ob_size` would be is a field (`f_back`, …): the object only has to fit the block.
    AtLeast,
    /// `tp_basicsize`, or 8 bytes less for naive `datetime.time` / `datetime.datetime` instances.
    MaybeNaive,
}

/// Static types whose naive instances (no `tzinfo`) are allocated without the last pointer of `tp_basicsize`
/// (`time_alloc`, `datetime_alloc` of `Modules/_datetimemodule.c`) ([`Shape::MaybeNaive`]).
const NAIVE_SMALLER: [&str; 2] = ["datetime.time", "datetime.datetime"];

/// Static types of 3.11+ whose instances are var-sized without an `ob_size` ([`Shape::AtLeast`]).
const NO_OB_SIZE: [&str; 4] = ["frame", "generator", "coroutine", "async_generator"];

/// What the scan needs of a type.
#[derive(Debug, Clone, Copy)]
pub(super) struct TypeInfo {
    flags: u64,
    basicsize: u64,
    itemsize: u64,
    shape: Shape,
    /// 3.13+ `Py_TPFLAGS_INLINE_VALUES`: the bytes of the inline values after the object, when known.
    inline: Option<u64>,
}

/// Read-only context shared by the pool scanners.
pub(super) struct Scan<'h, 'a, P: ProcessImage + ?Sized> {
    heap: &'h Heap<'a, P>,
    layout: &'a Layout,
    /// The objects of the GC lists, sorted: a pool looks its blocks up in the slice of its own addresses.
    gc_sorted: Vec<u64>,
    /// The types known before the scan.
    pub(super) types: AddrMap<TypeInfo>,
    /// Address ranges of every loaded object (where static types live).
    static_ranges: Vec<Range>,
    /// Known metatypes (`type` and metaclasses): a static type found on the way must be an instance of one.
    metatypes: AddrSet,
    geometry: Geometry,
    features: Features,
}

/// What one pool gave.
#[derive(Debug, Default)]
pub(super) struct PoolResult {
    /// Live objects on no GC list.
    pub objects: Vec<Addr>,
    /// Of those, objects of GC types.
    pub gc_types: u64,
    /// Blocks holding an object of the GC lists.
    pub gc_blocks: u64,
    /// Allocated blocks.
    pub allocated: u64,
    /// Blocks on the free list.
    pub free: u64,
    /// The pool is empty (`ref.count == 0`).
    pub empty: bool,
    /// Allocated blocks ≠ `ref.count`.
    pub count_mismatch: bool,
    /// Rejected blocks per [`REJECTS`] entry.
    pub rejected: [u64; 6],
    /// Types of the objects found that were not known before the scan (statically allocated types found on the way).
    pub found_types: Vec<Addr>,
    /// Why the pool could not be scanned.
    pub error: Option<String>,
}

/// Every [`Reject`], in `PoolResult::rejected` order.
pub(super) const REJECTS: [Reject; 6] =
    [Reject::NoType, Reject::Position, Reject::TrackedNotListed, Reject::StaleGcHead, Reject::Refcount, Reject::Size];

impl<'h, 'a, P: ProcessImage + ?Sized> Scan<'h, 'a, P> {
    /// The known types: statics, the types of the GC objects and the type objects among them, and their MROs.
    pub(super) fn new(heap: &'h Heap<'a, P>, gc: &[(Addr, u8)], geometry: Geometry) -> Self
    where
        P: Sync,
    {
        let layout = heap.layout();
        let s = heap.statics();
        let mut candidates: AddrSet = s.types().into_iter().map(|(t, _)| t).collect();
        // The type of each GC object (in parallel: one read each, scattered over the heap).
        let tys: Vec<Addr> = gc.par_iter().map(|&(obj, _)| heap.type_of(obj).unwrap_or(Addr(0))).collect();
        let of_gc: AddrSet = tys.iter().copied().filter(|t| !t.is_null()).collect();
        // Type objects on the GC lists: instances of a type with Py_TPFLAGS_TYPE_SUBCLASS.
        let metas: AddrSet =
            of_gc.iter().copied().filter(|&t| heap.tp_flags(t).is_ok_and(|f| f & flags::TYPE_SUBCLASS != 0)).collect();
        candidates.extend(of_gc);
        candidates.extend(gc.iter().zip(&tys).filter(|(_, t)| metas.contains(t)).map(|(&(obj, _), _)| obj));
        drop(tys);
        let mut gc_sorted: Vec<u64> = gc.iter().map(|&(a, _)| a.0).collect();
        gc_sorted.par_sort_unstable();
        let mut mro_types = Vec::new();
        for &t in &candidates {
            if let Ok(mro) = heap.mro(t) {
                mro_types.extend(mro);
            }
        }
        candidates.extend(mro_types);
        let mut scan = Scan {
            heap,
            layout,
            gc_sorted,
            types: AddrMap::default(),
            static_ranges: heap
                .process()
                .objects()
                .iter()
                .flat_map(|o| o.mappings.iter().map(|m| m.range).chain(o.data_segments.iter().copied()))
                .collect(),
            metatypes: AddrSet::default(),
            geometry,
            features: heap.features(),
        };
        for t in candidates {
            if let Some(info) = scan.type_info(t) {
                if info.flags & flags::TYPE_SUBCLASS != 0 {
                    scan.metatypes.insert(t);
                }
                scan.types.insert(t, info);
            }
        }
        scan
    }

    /// What the scan needs of the type `t`, if `t` looks like a type object.
    fn type_info(&self, t: Addr) -> Option<TypeInfo> {
        let h = self.heap;
        let fl = h.tp_flags(t).ok()?;
        let basicsize = u64::try_from(h.tp_basicsize(t).ok()?).ok().filter(|&b| (16..=MAX_BASICSIZE).contains(&b))?;
        let itemsize = u64::try_from(h.tp_itemsize(t).ok()?).ok().filter(|&i| i <= MAX_ITEMSIZE)?;
        let shape = if Some(t) == h.statics().str_type {
            Shape::Str
        } else if fl & flags::LONG_SUBCLASS != 0 || h.kind_of_type(t).ok() == Some(Kind::Int) {
            Shape::Int
        } else if itemsize == 0
            && fl & flags::HEAPTYPE == 0
            && h.tp_name(t).is_ok_and(|n| NAIVE_SMALLER.contains(&n.as_str()))
        {
            Shape::MaybeNaive
        } else if itemsize > 0
            && self.layout.gen.gi_iframe.is_known()
            && fl & flags::HEAPTYPE == 0
            && h.tp_name(t).is_ok_and(|n| NO_OB_SIZE.contains(&n.as_str()))
        {
            Shape::AtLeast
        } else if itemsize > 0 {
            Shape::Var
        } else {
            Shape::Fixed
        };
        let inline = if fl & flags::INLINE_VALUES != 0 && self.features.managed_dict.inline_values() {
            self.inline_values_size(t)
        } else {
            None
        };
        Some(TypeInfo { flags: fl, basicsize, itemsize, shape, inline })
    }

    /// 3.13+ `_PyInlineValuesSize`: inline values with room for the type's shared keys' `dk_nentries + dk_usable`
    /// values.
    fn inline_values_size(&self, t: Addr) -> Option<u64> {
        let keys = self.heap.ptr(t, &self.layout.heap_type.ht_cached_keys, "heap type").ok()?;
        if keys.is_null() {
            return None;
        }
        let capacity = self.heap.keys(t, keys).ok()?.values_capacity;
        crate::objects::inline_values_size(self.layout, capacity).filter(|_| capacity < 256)
    }

    /// A type found in a block but not known before: accepted if it is statically allocated (inside a loaded
    /// object), an instance of a known metatype, not a heap type, ready, and named.
    fn found_type(&self, t: Addr) -> Option<TypeInfo> {
        if !t.0.is_multiple_of(8) || !self.static_ranges.iter().any(|r| r.contains(t)) {
            return None;
        }
        let meta = self.heap.type_of(t).ok()?;
        if !self.metatypes.contains(&meta) {
            return None;
        }
        let info = self.type_info(t)?;
        if info.flags & flags::HEAPTYPE != 0 || info.flags & flags::READY == 0 {
            return None;
        }
        let name = self.heap.tp_name(t).ok()?;
        let printable = !name.is_empty() && name.len() <= MAX_TYPE_NAME && name.bytes().all(|b| b.is_ascii_graphic());
        printable.then_some(info)
    }

    /// Scans the pools `(pool, arena index)` in parallel, each with its own cache of types found on the way.
    pub(super) fn pools(&self, pools: &[(Addr, u32)]) -> Vec<PoolResult>
    where
        P: Sync,
    {
        pools.par_iter().map_init(AddrMap::default, |cache, &(pool, arena)| self.pool(pool, arena, cache)).collect()
    }

    /// Scans one pool: its allocated blocks, each classified.
    fn pool(&self, pool: Addr, arena: u32, cache: &mut AddrMap<Option<TypeInfo>>) -> PoolResult {
        let mut r = PoolResult::default();
        let g = &self.geometry;
        let bytes = match self.heap.process().bytes(pool, g.pool_size as usize) {
            Ok(b) => b,
            Err(e) => {
                r.error = Some(format!("pool {pool} of arena {arena}: {e}"));
                return r;
            }
        };
        let blocks = match parse_pool(&bytes, pool, arena, self.layout, g) {
            Ok(PoolState::Empty) => {
                r.empty = true;
                return r;
            }
            Ok(PoolState::Used(b)) => b,
            Err(e) => {
                r.error = Some(e);
                return r;
            }
        };
        r.allocated = u64::from(blocks.allocated_count());
        r.free = u64::from(blocks.free_count());
        r.count_mismatch = blocks.allocated_count() != blocks.count;
        let size = blocks.block_size as usize;
        let from = self.gc_sorted.partition_point(|&a| a < pool.0);
        let to = self.gc_sorted.partition_point(|&a| a < pool.0.saturating_add(g.pool_size));
        let listed = &self.gc_sorted[from..to.max(from)];
        let (mut last, mut last_found) = (None, Addr(0));
        for off in blocks.allocated() {
            let off = off as usize;
            let Some(block) = bytes.get(off..off + size) else { continue };
            match self.classify(block, pool.wrapping_add(off as u64), listed, cache, &mut last) {
                Ok(Some((obj, gc_type, ty))) => {
                    r.objects.push(obj);
                    r.gc_types += u64::from(gc_type);
                    if ty != last_found && !self.types.contains_key(&ty) && !r.found_types.contains(&ty) {
                        r.found_types.push(ty);
                    }
                    last_found = ty;
                }
                Ok(None) => r.gc_blocks += 1,
                Err(why) => r.rejected[why as usize] += 1,
            }
        }
        r
    }

    /// The object in `block` (at `addr`): `Ok(Some((object, is a GC type, its type)))` for a live object on no GC
    /// list, `Ok(None)` for an object of the GC lists, `Err` with the furthest rule failed otherwise.
    fn classify(
        &self,
        block: &[u8],
        addr: Addr,
        listed: &[u64],
        cache: &mut AddrMap<Option<TypeInfo>>,
        last: &mut Option<(Addr, TypeInfo)>,
    ) -> Result<Option<(Addr, bool, Addr)>, Reject> {
        let hs = self.features.gc_head_size;
        let mut worst = Reject::NoType;
        let positions = [(0, false), (hs, true), (hs + 16, true)];
        for (pos, gc) in positions.into_iter().take(if self.features.preheader_flags != 0 { 3 } else { 2 }) {
            let o = pos as usize;
            let word = |at: usize| block.get(at..at + 8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])));
            let Some(ty) = word(o + 8).map(Addr) else { continue };
            // Blocks of a pool are often of one type: the last type looked up is kept beside the maps.
            let info = match *last {
                Some((t, i)) if t == ty => i,
                _ => match self.types.get(&ty) {
                    Some(i) => *i,
                    None => match *cache.entry(ty).or_insert_with(|| self.found_type(ty)) {
                        Some(i) => i,
                        None => continue,
                    },
                },
            };
            *last = Some((ty, info));
            let has_gc = info.flags & flags::HAVE_GC != 0;
            let pre = if gc { pos - hs } else { 0 };
            if has_gc != gc || self.features.managed_words(info.flags) != pre {
                worst = worst.max(Reject::Position);
                continue;
            }
            let obj = addr.wrapping_add(pos);
            if gc {
                let (next, prev) = (word(o - hs as usize).unwrap_or(0), word(o - hs as usize + 8).unwrap_or(0));
                if next != 0 {
                    if listed.binary_search(&obj.0).is_ok() {
                        return Ok(None);
                    }
                    worst = worst.max(Reject::TrackedNotListed);
                    continue;
                }
                if prev & !3 != 0 {
                    worst = worst.max(Reject::StaleGcHead);
                    continue;
                }
            }
            if !word(o).is_some_and(|w| self.features.refcount.plausible(w)) {
                worst = worst.max(Reject::Refcount);
                continue;
            }
            if !self.size_fits(&info, block, o) {
                worst = worst.max(Reject::Size);
                continue;
            }
            return Ok(Some((obj, gc, ty)));
        }
        Err(worst)
    }

    /// Rule 5: the object at `o` in `block` fits the block (see the module documentation).
    fn size_fits(&self, info: &TypeInfo, block: &[u8], o: usize) -> bool {
        let bs = block.len() as u64;
        let pre = o as u64;
        let round = |n: u64| n.next_multiple_of(super::obmalloc::ALIGNMENT);
        let field = |f: &crate::layout::Field| block.get(o..).and_then(|obj| u64_at(obj, f));
        // A variable-sized object fits if its size class is the block's, or pymalloc kept the block on a shrinking
        // realloc (new size > 3/4 of the block).
        let var_fits = |need: u64| need <= bs && (round(need) == bs || 4 * need > 3 * bs);
        match info.shape {
            Shape::Fixed => round(pre + info.basicsize + info.inline.unwrap_or(0)) == bs,
            Shape::Var => {
                let Some(n) = field(&self.layout.var_object.ob_size).map(|n| (n as i64).unsigned_abs()) else {
                    return false;
                };
                let Some(need) = n.checked_mul(info.itemsize).and_then(|v| v.checked_add(pre + info.basicsize)) else {
                    return false;
                };
                // PyType_GenericAlloc allocates one item more than ob_size (a sentinel).
                var_fits(need) || (need <= bs && round(need + info.itemsize) == bs)
            }
            Shape::Int => {
                let digits = if self.layout.long.lv_tag.is_known() {
                    field(&self.layout.long.lv_tag).map(|t| t >> 3)
                } else {
                    field(&self.layout.var_object.ob_size).map(|n| (n as i64).unsigned_abs())
                };
                let Some(d) = digits.filter(|&d| d < 1 << 20) else { return false };
                round(pre + info.basicsize + info.itemsize * d.max(1)) <= bs
            }
            Shape::Str => self.str_fits(block, o, bs),
            Shape::AtLeast => round(pre + info.basicsize) <= bs,
            Shape::MaybeNaive => round(pre + info.basicsize) == bs || round(pre + info.basicsize - 8) == bs,
        }
    }

    /// An exact str: compact strings need header + (length + 1) × kind bytes; others are `PyUnicodeObject`s.
    fn str_fits(&self, block: &[u8], o: usize, bs: u64) -> bool {
        let l = self.layout;
        let obj = &block[o.min(block.len())..];
        let (Some(len), Some(state)) = (u64_at(obj, &l.ascii.length), u32_at(obj, &l.ascii.state)) else {
            return false;
        };
        let bits = self.features.str_state.decode([state as u8, (state >> 8) as u8]);
        let (kind, compact, ascii) = (u64::from(bits.kind), bits.compact, bits.ascii);
        let round = |n: u64| n.next_multiple_of(super::obmalloc::ALIGNMENT);
        if !compact {
            return l.unicode.size.offset.is_some_and(|s| round(o as u64 + u64::from(s)) == bs);
        }
        let header = if ascii { l.ascii.size.offset } else { l.compact_unicode.size.offset };
        let (Some(header), true) = (header, matches!(kind, 1 | 2 | 4) && len < 1 << 20) else { return false };
        let need = o as u64 + u64::from(header) + (len + 1) * kind;
        need <= bs && (round(need) == bs || 4 * need > 3 * bs)
    }
}
