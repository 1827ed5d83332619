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
}

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
    /// The first failures.
    pub errors: Vec<(u64, DecodeError)>,
    /// Referents not known when the chunk was decoded.
    candidates: Vec<u64>,
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

/// Decodes the `seeds` (sorted, distinct) and everything they reference, at most `max_objects` objects in all.
pub(crate) fn discover<D: Decoder>(
    seeds: &AddrIndex,
    decoder: &D,
    max_objects: usize,
    stats: &mut BuildStats,
    progress: &(dyn Fn(Progress) + Sync),
) -> Discovery {
    let mut out = Discovery::default();
    let mut found = IntSet::default();
    let mut frontier: Vec<u64> = seeds.addrs().to_vec();
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
        let mut chunks: Vec<EdgeChunk> = frontier
            .par_chunks(CHUNK)
            .zip(cols.chunks_mut(CHUNK))
            .map_init(
                || decoder.state(),
                |state, (objs, out)| {
                    let chunk = decode_chunk(objs, out, decoder, state, seeds, &found_before);
                    let done = decoded.fetch_add(objs.len() as u64, Relaxed) + objs.len() as u64;
                    progress(Progress { phase: Phase::Decode, done, total: known_total });
                    chunk
                },
            )
            .collect();
        let mut next: Vec<u64> = chunks.iter_mut().flat_map(|c| std::mem::take(&mut c.candidates)).collect();
        next.par_sort_unstable();
        next.dedup();
        if total + next.len() > max_objects {
            let keep = max_objects.saturating_sub(total);
            out.warnings.push(format!(
                "stopped at the limit of {max_objects} objects: {} more objects found by reference were left out",
                next.len() - keep
            ));
            next.truncate(keep);
        }
        total += next.len();
        found.extend(next.iter().copied());
        out.runs.push(Run { addrs: std::mem::replace(&mut frontier, next), cols, chunks });
    }
    stats.found_by_reference = found.len() as u64;
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
                        c.candidates.push(t);
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
