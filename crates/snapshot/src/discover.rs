//! The closure: decode every object once, in parallel rounds over a frontier, and add each referent not seen yet to
//! the next round.
//!
//! Round 0 is every seed (the enumeration and the roots); later rounds hold only objects found by following
//! references. Each round's frontier is sorted by address and becomes a [`Run`]: its objects' properties go straight
//! into column vectors (no record per object), their references into per-chunk buffers. Within a round, workers
//! decode chunks of the frontier independently and read the set of known addresses without locks (the seeds'
//! [`AddrIndex`] and the set of objects found so far, which only grows between rounds); new addresses are merged,
//! sorted and deduplicated between rounds.
//!
//! Each reference target is looked up once, here: a seed (nearly every target) is recorded as its position among
//! the seeds, which the graph phase turns into an id by arithmetic (`columns::Merged::seed_id`); only the other
//! targets keep their address, to be looked up in the final index once it exists.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use heapscope_coredump::Addr;
use rayon::prelude::*;

use super::columns::{Columns, ColumnsMut};
use super::index::{AddrIndex, IntSet};
use super::labels::{EdgeWord, LocalLabels};
use super::{BuildStats, Phase, Progress};
use heapscope_cpython::heap::Ref;
use heapscope_cpython::objects::DecodeError;

/// Objects decoded per parallel work unit (and per [`EdgeChunk`]).
pub(crate) const CHUNK: usize = 2048;
/// Most rounds (each at least one object deeper than the last); a longer chain of objects found only by reference
/// is cut, with a warning.
const MAX_ROUNDS: u32 = 1 << 20;
/// Most per-object errors a chunk keeps with their cause (the rest are counted).
const ERRORS_PER_CHUNK: usize = 8;
/// A target in [`EdgeChunk::targets`] that is not a seed: its address is in [`EdgeChunk::others`].
pub(crate) const NOT_A_SEED: u32 = u32::MAX;
/// The fewest objects found by reference that one seed may lead to, whatever the size of the memory.
pub(crate) const MIN_PER_SEED: u64 = 1 << 16;
/// Bytes of memory per object found by reference that one seed may lead to (see [`per_seed_budget`]).
pub(crate) const BYTES_PER_FOUND: u64 = 512;

/// How many objects found by reference one seed may lead to, in an image holding `memory_bytes` bytes (unknown:
/// [`MIN_PER_SEED`]).
///
/// Under pymalloc, nearly every object is a seed: the objects found only by reference are static objects and
/// objects larger than pymalloc's 512-byte blocks (long str and bytes, big ints, untracked tuples), which take at
/// least 512 bytes of memory each. So no real seed leads to more than `memory_bytes / 512` of them; a crafted or
/// corrupt object whose items point at fake objects (each pointing at more) is cut there, and time and memory stay
/// bounded by the size of the core.
pub(crate) fn per_seed_budget(memory_bytes: Option<u64>) -> u64 {
    memory_bytes.map_or(MIN_PER_SEED, |b| (b / BYTES_PER_FOUND).max(MIN_PER_SEED))
}

/// What the decoder says about one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Info {
    /// Its type object.
    pub ty: u64,
    /// `sys.getsizeof`.
    pub size: u64,
    /// Bytes it occupies.
    pub footprint: u64,
    /// The reference count.
    pub refcount: i64,
    /// `len()`, or `NO_LEN`.
    pub len: u64,
    /// `flag::IMMORTAL`, `flag::GC_TRACKED`, `flag::DECODED`.
    pub flags: u8,
}

/// Decodes one object with a worker's state (its type cache): its record, and its references appended to the
/// buffer.
pub(crate) trait Decoder: Sync {
    /// A worker's state.
    type State: Send;
    /// A fresh state for a worker.
    fn state(&self) -> Self::State;
    /// Decodes the object at `addr`: its record (`None` when it could not be decoded) and the first failure.
    fn decode(&self, state: &mut Self::State, addr: Addr, refs: &mut Vec<Ref>) -> (Option<Info>, Option<DecodeError>);
    /// Whether a reference target that is no seed may be an object: aligned ([`OBJECT_ALIGNMENT`]), and readable
    /// or at least mapped. A refused target never joins the objects; its reference is dropped and counted.
    fn can_hold_object(&self, addr: Addr) -> bool {
        addr.0.is_multiple_of(OBJECT_ALIGNMENT)
    }
}

/// Every Python object is at least 8-byte aligned (pymalloc's blocks and malloc's chunks are 16-byte aligned,
/// static objects are aligned as the pointers they hold).
pub(crate) const OBJECT_ALIGNMENT: u64 = 8;

/// The references of [`CHUNK`] consecutive objects of a run.
#[derive(Debug, Default)]
pub(crate) struct EdgeChunk {
    /// Each object's end position in `targets`/`words`.
    pub ref_ends: Vec<u32>,
    /// Reference targets: a seed's position among the seeds, or [`NOT_A_SEED`] (resolved to ids, or `u32::MAX`
    /// for a target left out, by `edges::build`).
    pub targets: Vec<u32>,
    /// The targets that are not seeds: `(position in targets, address)`, ascending by position.
    pub others: Vec<(u32, u64)>,
    /// Reference kinds and labels (chunk-local label indices).
    pub words: Vec<EdgeWord>,
    /// The chunk's labels.
    pub labels: LocalLabels,
    /// Objects with a decoding failure.
    pub error_count: u64,
    /// References dropped because their target cannot be an object ([`Decoder::can_hold_object`]).
    pub refused: u64,
    /// The first failures.
    pub errors: Vec<(u64, DecodeError)>,
    /// Referents not known when the chunk was decoded, with the seed (its position among the seeds) that led to
    /// them.
    candidates: Vec<(u64, u32)>,
}

impl EdgeChunk {
    /// The references of the chunk's `i`-th object: a range of `targets`/`words`.
    pub(crate) fn refs_of(&self, i: usize) -> std::ops::Range<usize> {
        let start = if i == 0 { 0 } else { self.ref_ends[i - 1] as usize };
        start..self.ref_ends[i] as usize
    }
}

/// The objects decoded in one round, sorted by address.
#[derive(Debug, Default)]
pub(crate) struct Run {
    /// Their addresses, ascending.
    pub addrs: Vec<u64>,
    /// Their properties, in the same order.
    pub cols: Columns,
    /// Their references, [`CHUNK`] objects per chunk.
    pub chunks: Vec<EdgeChunk>,
}

/// Every decoded object, round by round.
#[derive(Debug, Default)]
pub(crate) struct Discovery {
    pub runs: Vec<Run>,
    /// Notes (limits reached).
    pub warnings: Vec<String>,
}

/// Decodes the `seeds` (sorted, distinct) and everything they reference, at most `max_objects` objects in all and
/// at most `per_seed` objects found by reference from any one seed ([`per_seed_budget`]).
pub(crate) fn discover<D: Decoder>(
    seeds: &AddrIndex,
    decoder: &D,
    max_objects: usize,
    per_seed: u64,
    stats: &mut BuildStats,
    progress: &(dyn Fn(Progress) + Sync),
) -> Discovery {
    let mut out = Discovery::default();
    let mut found = IntSet::default();
    let mut frontier: Vec<u64> = seeds.addrs().to_vec();
    // The seed each object of the frontier was found from (round 0: the seeds themselves, by position).
    let mut origins: Vec<u32> = Vec::new();
    // Objects found by reference per seed, for the seeds that led to any.
    let mut led: std::collections::HashMap<u32, u64> = std::collections::HashMap::new();
    let mut skipped = 0u64;
    let mut total = frontier.len();
    let decoded = AtomicU64::new(0);
    while !frontier.is_empty() {
        if stats.rounds >= MAX_ROUNDS {
            out.warnings.push(format!(
                "stopped following references after {MAX_ROUNDS} rounds; {} objects found by reference were not \
                 decoded",
                frontier.len()
            ));
            break;
        }
        stats.rounds += 1;
        let found_before = |a: u64| found.contains(&a);
        let mut cols = Columns::with_len(frontier.len());
        let known_total = total as u64;
        let origins_now = &origins;
        let origin_of = |i: usize| origins_now.get(i).copied().unwrap_or(i as u32);
        let mut chunks: Vec<EdgeChunk> = frontier
            .par_chunks(CHUNK)
            .zip(cols.chunks_mut(CHUNK))
            .enumerate()
            .map_init(
                || decoder.state(),
                |state, (ci, (objs, out))| {
                    let origin = |k: usize| origin_of(ci * CHUNK + k);
                    let chunk = decode_chunk(objs, out, decoder, state, seeds, &found_before, &origin);
                    let done = decoded.fetch_add(objs.len() as u64, Relaxed) + objs.len() as u64;
                    progress(Progress { phase: Phase::Decode, done, total: known_total });
                    chunk
                },
            )
            .collect();
        let mut next: Vec<(u64, u32)> = chunks.iter_mut().flat_map(|c| std::mem::take(&mut c.candidates)).collect();
        // By address, then seed: an object found from several seeds counts against the first.
        next.par_sort_unstable();
        next.dedup_by_key(|&mut (a, _)| a);
        next.retain(|&(_, seed)| {
            let n = led.entry(seed).or_default();
            *n += 1;
            let keep = *n <= per_seed;
            skipped += u64::from(!keep);
            keep
        });
        let (mut next, next_origins): (Vec<u64>, Vec<u32>) = next.into_iter().unzip();
        origins = next_origins;
        if total + next.len() > max_objects {
            let keep = max_objects.saturating_sub(total);
            out.warnings.push(format!(
                "stopped at the limit of {max_objects} objects: {} more objects found by reference were left out",
                next.len() - keep
            ));
            next.truncate(keep);
            origins.truncate(keep);
        }
        total += next.len();
        found.extend(next.iter().copied());
        out.runs.push(Run { addrs: std::mem::replace(&mut frontier, next), cols, chunks });
    }
    stats.found_by_reference = found.len() as u64;
    let refused: u64 = out.runs.iter().flat_map(|r| &r.chunks).map(|c| c.refused).sum();
    if refused > 0 {
        stats.refused_targets = refused;
        out.warnings.push(format!(
            "{refused} references to addresses that cannot hold an object (not {OBJECT_ALIGNMENT}-byte aligned, or in \
             no mapping of the process) were dropped: the objects holding them are corrupt, or their layout is not \
             the one heapscope assumed"
        ));
    }
    if skipped > 0 {
        stats.skipped_by_budget = skipped;
        let over: Vec<(u32, u64)> = led.into_iter().filter(|&(_, n)| n > per_seed).collect();
        let (widest, most) = over.iter().copied().max_by_key(|&(s, n)| (n, std::cmp::Reverse(s))).unwrap_or_default();
        out.warnings.push(format!(
            "{skipped} objects found by following references were not decoded: {} object{} led to more than {per_seed} \
             objects found only by reference each (the most, {most}, from the object at {}), more than real objects \
             can (a bound from the size of the memory: objects found that way take 512 bytes or more). Such an object \
             is corrupt or crafted; its references to the objects left out are dropped",
            over.len(),
            if over.len() == 1 { "" } else { "s" },
            Addr(seeds.addrs().get(widest as usize).copied().unwrap_or(0)),
        ));
    }
    out
}

/// Decodes one chunk of the frontier: properties into `out`, references into the returned chunk.
fn decode_chunk<D: Decoder>(
    objs: &[u64],
    mut out: ColumnsMut<'_>,
    decoder: &D,
    state: &mut D::State,
    seeds: &AddrIndex,
    found_before: &(dyn Fn(u64) -> bool + Sync),
    origin: &dyn Fn(usize) -> u32,
) -> EdgeChunk {
    let mut c = EdgeChunk::default();
    c.ref_ends.reserve(objs.len());
    let mut refs: Vec<Ref> = Vec::new();
    for (k, &a) in objs.iter().enumerate() {
        refs.clear();
        let (info, err) = decoder.decode(state, Addr(a), &mut refs);
        if let Some(info) = info {
            out.set(k, &info);
        }
        if let Some(e) = err {
            c.error_count += 1;
            if c.errors.len() < ERRORS_PER_CHUNK {
                c.errors.push((a, e));
            }
        }
        for r in refs.iter().filter(|r| !r.target.is_null()) {
            if c.targets.len() >= u32::MAX as usize {
                break; // 4 G references from one chunk: beyond any real heap; the rest is dropped
            }
            let t = r.target.0;
            match seeds.get(t) {
                Some(s) => c.targets.push(s),
                None => {
                    if !found_before(t) {
                        if !decoder.can_hold_object(r.target) {
                            c.refused += 1;
                            continue;
                        }
                        c.candidates.push((t, origin(k)));
                    }
                    c.others.push((c.targets.len() as u32, t));
                    c.targets.push(NOT_A_SEED);
                }
            }
            c.words.push(EdgeWord::encode(r.kind, &r.label, &mut c.labels));
        }
        c.ref_ends.push(u32::try_from(c.targets.len()).unwrap_or(u32::MAX));
    }
    // The buffers live until the graph is built: give back what doubling reserved beyond their length.
    c.targets.shrink_to_fit();
    c.words.shrink_to_fit();
    c.others.shrink_to_fit();
    c
}

#[cfg(test)]
mod tests {
    //! The closure on a hand-made heap: a decoder that gives each address its references by rule.

    use super::*;
    use heapscope_cpython::heap::Label;

    /// Seed `FAN` points at `FAN_OUT` objects (each pointing at one more, found a round later); seed `SMALL` at
    /// 10 objects; seed `ODD` at a misaligned address, an unmapped one and a good one.
    struct Fake;
    const FAN: u64 = 0x1000;
    const SMALL: u64 = 0x2000;
    const ODD: u64 = 0x3000;
    const FAN_OUT: u64 = 300;
    const FANNED: u64 = 0x100_0000;
    const SECOND: u64 = 0x200_0000;
    const UNMAPPED: u64 = 0x9_0000_0000;

    impl Decoder for Fake {
        type State = ();
        fn state(&self) {}
        fn decode(&self, _: &mut (), addr: Addr, refs: &mut Vec<Ref>) -> (Option<Info>, Option<DecodeError>) {
            let to = |t: u64| Ref::traverse(Addr(t), Label::Index(0));
            match addr.0 {
                FAN => refs.extend((0..FAN_OUT).map(|i| to(FANNED + 16 * i))),
                SMALL => refs.extend((0..10).map(|i| to(0x300_0000 + 16 * i))),
                ODD => refs.extend([to(0x1), to(0x400_0004), to(UNMAPPED), to(0x400_0000)]),
                a if (FANNED..SECOND).contains(&a) => refs.push(to(a - FANNED + SECOND)),
                _ => {}
            }
            let info = Info { ty: 1, size: 16, footprint: 16, refcount: 1, len: 0, flags: 0 };
            (Some(info), None)
        }
        fn can_hold_object(&self, addr: Addr) -> bool {
            addr.0.is_multiple_of(OBJECT_ALIGNMENT) && addr.0 < UNMAPPED
        }
    }

    fn run(per_seed: u64) -> (Vec<u64>, BuildStats, Vec<String>) {
        let seeds = AddrIndex::new(vec![FAN, SMALL, ODD]);
        let mut stats = BuildStats::default();
        let d = discover(&seeds, &Fake, usize::MAX, per_seed, &mut stats, &|_| {});
        let mut all: Vec<u64> = d.runs.iter().flat_map(|r| r.addrs.iter().copied()).collect();
        all.sort_unstable();
        (all, stats, d.warnings)
    }

    #[test]
    fn one_seed_leads_to_at_most_its_budget() {
        // Unbounded: 3 seeds, 300 + 300 behind FAN, 10 behind SMALL, 1 behind ODD.
        let (all, stats, _) = run(u64::MAX);
        assert_eq!(all.len(), 3 + 600 + 10 + 1);
        assert_eq!(stats.skipped_by_budget, 0);

        // 100 per seed: FAN's first 100 (by address) in round 1, none of their successors; SMALL and ODD whole.
        let (all, stats, warnings) = run(100);
        let behind_fan = all.iter().filter(|&&a| (FANNED..SECOND + 0x100_0000).contains(&a)).count();
        assert_eq!(behind_fan, 100);
        assert!(all.contains(&FANNED) && !all.contains(&(FANNED + 16 * 100)) && !all.contains(&SECOND));
        assert_eq!(all.iter().filter(|&&a| (0x300_0000..0x400_0000).contains(&a)).count(), 10);
        assert_eq!(stats.skipped_by_budget, 200 + 100, "200 in round 1, the 100 successors in round 2");
        assert_eq!(stats.found_by_reference, 100 + 10 + 1);
        let w = warnings.join("\n");
        for part in
            ["300 objects found by following references were not decoded", "1 object led to more than 100", "0x1000"]
        {
            assert!(w.contains(part), "{part:?} missing from: {w}");
        }
    }

    #[test]
    fn targets_that_cannot_be_objects_are_refused() {
        let (all, stats, warnings) = run(u64::MAX);
        assert!(all.contains(&0x400_0000));
        assert!(!all.iter().any(|&a| a == 0x1 || a == 0x400_0004 || a == UNMAPPED));
        assert_eq!(stats.refused_targets, 3);
        assert!(
            warnings.iter().any(|w| w.starts_with("3 references to addresses that cannot hold an object")),
            "{warnings:?}"
        );
    }

    #[test]
    fn the_budget_grows_with_the_memory() {
        assert_eq!(per_seed_budget(None), MIN_PER_SEED);
        assert_eq!(per_seed_budget(Some(1 << 20)), MIN_PER_SEED);
        assert_eq!(per_seed_budget(Some(1 << 40)), (1 << 40) / BYTES_PER_FOUND);
    }
}
