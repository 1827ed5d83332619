//! The snapshot's columns: one `Vec` per property, filled while decoding (each round's objects in address order),
//! then the rounds merged into one address-sorted set whose positions are the ids; the type table (each type named
//! once); and the flags saying where each object was found.

use heapscope_coredump::{Addr, ProcessImage};
use rayon::prelude::*;

use super::discover::{Info, Run};
use super::{flag, TypeId, TypeRecord, NO_LEN, NO_TYPE};
use heapscope_cpython::objects::{DecodeError, Heap};

/// Objects per parallel block when converting columns.
const BLOCK: usize = 1 << 16;

/// Per-object properties, by position.
#[derive(Debug, Default)]
pub(crate) struct Columns {
    /// The type object's address (0 when the object could not be decoded).
    pub tys: Vec<u64>,
    pub sizes: Vec<u64>,
    pub footprints: Vec<u64>,
    pub refcounts: Vec<i64>,
    /// `NO_LEN` for objects without a length.
    pub lens: Vec<u64>,
    pub flags: Vec<u8>,
}

/// The columns of one chunk of objects, written by one worker.
#[derive(Debug)]
pub(crate) struct ColumnsMut<'a> {
    tys: &'a mut [u64],
    sizes: &'a mut [u64],
    footprints: &'a mut [u64],
    refcounts: &'a mut [i64],
    lens: &'a mut [u64],
    flags: &'a mut [u8],
}

impl ColumnsMut<'_> {
    /// Records object `k`'s properties.
    pub(crate) fn set(&mut self, k: usize, info: &Info) {
        self.tys[k] = info.ty;
        self.sizes[k] = info.size;
        self.footprints[k] = info.footprint;
        self.refcounts[k] = info.refcount;
        self.lens[k] = info.len;
        self.flags[k] = info.flags;
    }
}

impl Columns {
    /// `n` objects, none decoded yet.
    pub(crate) fn with_len(n: usize) -> Columns {
        Columns {
            tys: vec![0; n],
            sizes: vec![0; n],
            footprints: vec![0; n],
            refcounts: vec![0; n],
            lens: vec![NO_LEN; n],
            flags: vec![0; n],
        }
    }

    /// Number of objects.
    pub(crate) fn len(&self) -> usize {
        self.tys.len()
    }

    /// The columns cut into consecutive chunks of `chunk` objects, for parallel writers.
    pub(crate) fn chunks_mut(&mut self, chunk: usize) -> impl IndexedParallelIterator<Item = ColumnsMut<'_>> {
        self.tys
            .par_chunks_mut(chunk)
            .zip(self.sizes.par_chunks_mut(chunk))
            .zip(self.footprints.par_chunks_mut(chunk))
            .zip(self.refcounts.par_chunks_mut(chunk))
            .zip(self.lens.par_chunks_mut(chunk))
            .zip(self.flags.par_chunks_mut(chunk))
            .map(|(((((tys, sizes), footprints), refcounts), lens), flags)| ColumnsMut {
                tys,
                sizes,
                footprints,
                refcounts,
                lens,
                flags,
            })
    }

    /// Appends `n` undecoded objects.
    fn grow(&mut self, n: usize) {
        let len = self.len() + n;
        self.tys.resize(len, 0);
        self.sizes.resize(len, 0);
        self.footprints.resize(len, 0);
        self.refcounts.resize(len, 0);
        self.lens.resize(len, NO_LEN);
        self.flags.resize(len, 0);
    }

    /// Copies object `from` of `src` to position `to`.
    fn put(&mut self, to: usize, src: &Columns, from: usize) {
        self.tys[to] = src.tys[from];
        self.sizes[to] = src.sizes[from];
        self.footprints[to] = src.footprints[from];
        self.refcounts[to] = src.refcounts[from];
        self.lens[to] = src.lens[from];
        self.flags[to] = src.flags[from];
    }

    /// Moves object `from` to position `to` (within these columns).
    fn shift(&mut self, to: usize, from: usize) {
        self.tys[to] = self.tys[from];
        self.sizes[to] = self.sizes[from];
        self.footprints[to] = self.footprints[from];
        self.refcounts[to] = self.refcounts[from];
        self.lens[to] = self.lens[from];
        self.flags[to] = self.flags[from];
    }
}

/// Every round merged into one set sorted by address.
#[derive(Debug, Default)]
pub(crate) struct Merged {
    /// Every address, ascending: position = id.
    pub addrs: Vec<u64>,
    /// Every object's properties, by id.
    pub cols: Columns,
    /// The objects of rounds after the first: `(id, round, position in that round)`, by id.
    pub later: Vec<(u32, u32, u32)>,
    /// Directory over ids: entry `b` is the number of `later` objects with an id below `b << DIR_SHIFT`.
    by_id: Vec<u32>,
    /// Directory over seed positions: entry `b` is the number of `later` objects placed before seed `b << DIR_SHIFT`.
    by_seed: Vec<u32>,
}

/// Ids (or seed positions) per directory entry of [`Merged`]: the search after the directory lookup covers the few
/// later objects in one block of ids.
const DIR_SHIFT: u32 = 12;

impl Merged {
    /// The round-0 objects are the seeds, in order, with the later rounds' objects placed between them.
    fn new(addrs: Vec<u64>, cols: Columns, later: Vec<(u32, u32, u32)>) -> Merged {
        let blocks = (addrs.len() >> DIR_SHIFT) + 2;
        let mut by_id = Vec::with_capacity(blocks);
        let mut by_seed = Vec::with_capacity(blocks);
        let (mut k, mut j) = (0, 0);
        for b in 0..blocks as u64 {
            let start = b << DIR_SHIFT;
            while k < later.len() && u64::from(later[k].0) < start {
                k += 1;
            }
            while j < later.len() && u64::from(later[j].0) - (j as u64) < start {
                j += 1;
            }
            by_id.push(k as u32);
            by_seed.push(j as u32);
        }
        Merged { addrs, cols, later, by_id, by_seed }
    }

    /// The directory entries around `x`: a range of `later` to search.
    fn block(dir: &[u32], x: u32) -> std::ops::Range<usize> {
        let b = (x >> DIR_SHIFT) as usize;
        match (dir.get(b), dir.get(b + 1)) {
            (Some(&lo), Some(&hi)) => lo as usize..hi as usize,
            _ => 0..0,
        }
    }

    /// Where object `id` was decoded: `(round, position in that round)`.
    pub(crate) fn source(&self, id: u32) -> (usize, usize) {
        let range = Self::block(&self.by_id, id);
        let k = range.start + self.later[range].partition_point(|&(i, _, _)| i < id);
        match self.later.get(k) {
            Some(&(i, r, p)) if i == id => (r as usize, p as usize),
            _ => (0, id as usize - k),
        }
    }

    /// The id of the seed (round-0 object) at position `seed` of round 0.
    pub(crate) fn seed_id(&self, seed: u32) -> u32 {
        // Later object k sits after `later[k].0 - k` seeds, a count that never decreases with k: search the block.
        let range = Self::block(&self.by_seed, seed);
        let (mut lo, mut hi) = (range.start, range.end);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.later[mid].0 - mid as u32 <= seed {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        seed + lo as u32
    }
}

/// Merges the rounds. The first round (the seeds: nearly every object) is taken over and the later rounds' objects
/// are merged into it in place, from the end, so the columns are never copied whole.
pub(crate) fn merge(runs: &mut [Run]) -> Merged {
    let Some((first, rest)) = runs.split_first_mut() else { return Merged::default() };
    let mut addrs = std::mem::take(&mut first.addrs);
    let mut cols = std::mem::take(&mut first.cols);
    let mut later: Vec<(u64, u32, u32)> = rest
        .iter()
        .enumerate()
        .flat_map(|(r, run)| run.addrs.iter().enumerate().map(move |(p, &a)| (a, r as u32 + 1, p as u32)))
        .collect();
    later.sort_unstable();
    let n0 = addrs.len();
    let e = later.len();
    addrs.resize(n0 + e, 0);
    cols.grow(e);
    let mut ids = vec![0u32; e];
    let (mut i, mut j) = (n0, e);
    while j > 0 {
        let k = i + j - 1;
        if i > 0 && addrs[i - 1] > later[j - 1].0 {
            addrs[k] = addrs[i - 1];
            cols.shift(k, i - 1);
            i -= 1;
        } else {
            let (a, r, p) = later[j - 1];
            addrs[k] = a;
            cols.put(k, &rest[r as usize - 1].cols, p as usize);
            ids[j - 1] = k as u32;
            j -= 1;
        }
    }
    let later = later.iter().zip(ids).map(|(&(_, r, p), id)| (id, r, p)).collect();
    Merged::new(addrs, cols, later)
}

/// Sets `bit` in the flags of every object whose address is in `list` (sorted, distinct).
pub(crate) fn mark(flags: &mut [u8], addrs: &[u64], list: &[u64], bit: u8) {
    for_each_match(addrs, list, |i, _| flags[i] |= bit);
}

/// Calls `f(position in addrs, position in list)` for every address of `list` (sorted, distinct) that is in `addrs`
/// (sorted, distinct), in order: both are walked together, each step a galloping search from the last match, so a
/// dense list costs about one comparison per address and a sparse one a few per entry (never a search over all of
/// `addrs` per entry, whose cache misses made it the slowest step of numbering).
pub(crate) fn for_each_match(addrs: &[u64], list: &[u64], mut f: impl FnMut(usize, usize)) {
    let mut i = 0;
    for (k, &a) in list.iter().enumerate() {
        i += gallop(&addrs[i..], a);
        if addrs.get(i) == Some(&a) {
            f(i, k);
        }
    }
}

/// The number of entries of `sorted` below `a`, searched from the front: 1, 2, 4, … then a binary search within the
/// last step.
#[inline]
fn gallop(sorted: &[u64], a: u64) -> usize {
    let mut hi = 1;
    while hi < sorted.len() && sorted[hi] < a {
        hi *= 2;
    }
    let lo = hi / 2;
    let hi = (hi + 1).min(sorted.len());
    if lo >= hi {
        return sorted.partition_point(|&x| x < a);
    }
    lo + sorted[lo..hi].partition_point(|&x| x < a)
}

/// The distinct types of the decoded objects, sorted by address, each named once (in parallel); and the types
/// whose name could not be decoded (named `<type at 0x…>`).
pub(crate) fn type_table<P: ProcessImage + ?Sized + Sync>(
    heap: &Heap<'_, P>,
    cols: &Columns,
) -> (Vec<TypeRecord>, Vec<(Addr, DecodeError)>) {
    let mut addrs: Vec<u64> = cols
        .tys
        .par_chunks(BLOCK)
        .zip(cols.flags.par_chunks(BLOCK))
        .flat_map_iter(|(tys, flags)| {
            let mut local: Vec<u64> =
                tys.iter().zip(flags).filter(|(_, &f)| f & flag::DECODED != 0).map(|(&t, _)| t).collect();
            local.sort_unstable();
            local.dedup();
            local
        })
        .collect();
    addrs.par_sort_unstable();
    addrs.dedup();
    let named: Vec<(TypeRecord, Option<DecodeError>)> = addrs
        .par_iter()
        .map(|&a| {
            let ty = Addr(a);
            let set = |f: &heapscope_cpython::layout::Field| {
                f.is_known() && heap.ptr(ty, f, "type").is_ok_and(|p| !p.is_null())
            };
            let (finalizer, legacy_del) =
                (set(&heap.layout().type_object.tp_finalize), set(&heap.layout().type_object.tp_del));
            match heap.type_name(ty) {
                Ok(name) => (TypeRecord { addr: ty, name, name_error: None, finalizer, legacy_del }, None),
                Err(e) => {
                    let name = format!("<type at {ty}>");
                    let record = TypeRecord { addr: ty, name, name_error: Some(e.to_string()), finalizer, legacy_del };
                    (record, Some(e))
                }
            }
        })
        .collect();
    let mut errors = Vec::new();
    let types = named
        .into_iter()
        .map(|(t, e)| {
            if let Some(e) = e {
                errors.push((t.addr, e));
            }
            t
        })
        .collect();
    (types, errors)
}

/// Each object's index in `types` (sorted by address), [`NO_TYPE`] for undecoded objects.
pub(crate) fn type_ids(cols: &Columns, types: &[TypeRecord]) -> Vec<TypeId> {
    let mut out = vec![NO_TYPE; cols.len()];
    out.par_chunks_mut(BLOCK).zip(cols.tys.par_chunks(BLOCK)).zip(cols.flags.par_chunks(BLOCK)).for_each(
        |((out, tys), flags)| {
            // Neighbours often share a type (pymalloc groups objects by size class): remember the last.
            let mut last = (u64::MAX, NO_TYPE);
            for ((o, &t), &f) in out.iter_mut().zip(tys).zip(flags) {
                if f & flag::DECODED == 0 {
                    continue;
                }
                if t != last.0 {
                    last = (t, types.binary_search_by_key(&t, |r| r.addr.0).map_or(NO_TYPE, |i| i as TypeId));
                }
                *o = last.1;
            }
        },
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(addrs: &[u64]) -> Run {
        let mut cols = Columns::with_len(addrs.len());
        for (i, &a) in addrs.iter().enumerate() {
            cols.sizes[i] = a * 10; // a property that identifies the object
        }
        Run { addrs: addrs.to_vec(), cols, chunks: Vec::new() }
    }

    #[test]
    fn merge_keeps_every_object_with_its_properties() {
        let mut runs = vec![run(&[20, 40, 60, 80]), run(&[10, 70]), run(&[90, 30])];
        runs[2].addrs.sort_unstable();
        runs[2].cols.sizes = vec![300, 900];
        let m = merge(&mut runs);
        assert_eq!(m.addrs, vec![10, 20, 30, 40, 60, 70, 80, 90]);
        assert_eq!(m.cols.sizes, m.addrs.iter().map(|a| a * 10).collect::<Vec<_>>());
        assert_eq!(m.later, vec![(0, 1, 0), (2, 2, 0), (5, 1, 1), (7, 2, 1)]);
        let sources: Vec<(usize, usize)> = (0..8).map(|id| m.source(id)).collect();
        assert_eq!(sources, vec![(1, 0), (0, 0), (2, 0), (0, 1), (0, 2), (1, 1), (0, 3), (2, 1)]);
        let seed_ids: Vec<u32> = (0..4).map(|s| m.seed_id(s)).collect();
        assert_eq!(seed_ids, vec![1, 3, 4, 6]);
        assert_eq!(merge(&mut []).addrs, Vec::<u64>::new());
        let mut only = vec![run(&[1, 2])];
        assert_eq!(merge(&mut only).later, vec![]);
    }

    #[test]
    fn seeds_and_sources_map_to_ids_across_directory_blocks() {
        // Seeds at multiples of 3; later rounds fill gaps sparsely, then a dense cluster, then sparsely again, so that
        // some directory blocks hold no later object and one holds thousands.
        let seeds: Vec<u64> = (0..20_000u64).map(|i| 3 * i).collect();
        let mut extra: Vec<u64> = (0..60_000u64).filter(|a| a % 3 != 0 && a % 997 == 1).collect();
        extra.extend((30_000..36_000u64).filter(|a| a % 3 == 1));
        extra.sort_unstable();
        extra.dedup();
        let (odd, even): (Vec<u64>, Vec<u64>) = extra.iter().partition(|&&a| a % 2 == 1);
        let mut runs = vec![run(&seeds), run(&odd), run(&even)];
        let m = merge(&mut runs);
        let rounds = [&seeds, &odd, &even];
        for (id, &a) in m.addrs.iter().enumerate() {
            let (r, p) = m.source(id as u32);
            assert_eq!(rounds[r][p], a, "id {id}");
        }
        for (s, &a) in seeds.iter().enumerate() {
            assert_eq!(m.addrs[m.seed_id(s as u32) as usize], a, "seed {s}");
        }
    }

    #[test]
    fn mark_sets_exactly_the_listed_objects() {
        let addrs: Vec<u64> = (0..1000).map(|i| 16 * i + 0x1000).collect();
        let mut flags = vec![0u8; addrs.len()];
        let list: Vec<u64> = vec![0x10, 0x1000, 0x1010, 0x1018, 0x1000 + 16 * 500, 0x1000 + 16 * 999, 1 << 40];
        mark(&mut flags, &addrs, &list, 4);
        let set: Vec<usize> = flags.iter().enumerate().filter(|(_, &f)| f == 4).map(|(i, _)| i).collect();
        assert_eq!(set, vec![0, 1, 500, 999]);
    }

    #[test]
    fn matches_are_those_of_a_naive_search_at_every_density() {
        let addrs: Vec<u64> =
            (0..5000u64).map(|i| i * 3 + (i % 7)).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        for step in [1u64, 2, 3, 5, 17, 400, 10_000] {
            let list: Vec<u64> = (0..20_000u64).step_by(step as usize).collect();
            let mut got = Vec::new();
            for_each_match(&addrs, &list, |i, k| got.push((i, k)));
            let want: Vec<(usize, usize)> =
                list.iter().enumerate().filter_map(|(k, a)| addrs.binary_search(a).ok().map(|i| (i, k))).collect();
            assert_eq!(got, want, "step {step}");
        }
        for_each_match(&[], &[1, 2], |_, _| panic!("nothing to match"));
        for_each_match(&[1, 2], &[], |_, _| panic!("nothing to match"));
    }
}
