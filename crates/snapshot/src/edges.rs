//! The reference graph in id space: each round's reference buffers resolved to ids, the chunk-local labels merged
//! into one table, and the CSR filled in place ([`Csr::from_fill`]).

use heapscope_graph::Csr;
use rayon::prelude::*;

use super::columns::Merged;
use super::discover::{EdgeChunk, Run, CHUNK, NOT_A_SEED};
use super::index::AddrIndex;
use super::labels::{EdgeWord, LabelTable};

/// Marks a reference whose target is not in the snapshot.
const MISSING: u32 = u32::MAX;

/// The graph, its edge words (labels renumbered into the returned table), and the number of references dropped
/// because their target is not in the snapshot (the object limit was reached). `merged` says where each id's
/// references are and which id each seed got; `index` maps the other targets' addresses to ids.
pub(crate) fn build(runs: &mut [Run], merged: &Merged, index: &AddrIndex) -> (Csr, Vec<EdgeWord>, LabelTable, u64) {
    let mut labels = LabelTable::default();
    let renumber: Vec<Vec<Vec<u32>>> =
        runs.iter().map(|r| r.chunks.iter().map(|c| labels.merge(&c.labels)).collect()).collect();
    // Targets as ids, in place: seeds by their position, the others (found by reference) by address.
    let dropped: u64 =
        runs.iter_mut().map(|r| r.chunks.par_iter_mut().map(|c| resolve(c, merged, index)).sum::<u64>()).sum();
    let n = index.len();
    let locate = |id: u32| {
        let (r, p) = merged.source(id);
        (r, p / CHUNK, p % CHUNK)
    };
    let degrees: Vec<u32> = (0..n as u32)
        .into_par_iter()
        .map(|id| {
            let (r, c, i) = locate(id);
            let chunk = &runs[r].chunks[c];
            let targets = &chunk.targets[chunk.refs_of(i)];
            if dropped == 0 {
                targets.len() as u32
            } else {
                targets.iter().filter(|&&t| t != MISSING).count() as u32
            }
        })
        .collect();
    let built = Csr::from_fill(&degrees, |id, ts, ws: &mut [EdgeWord]| {
        let (r, c, i) = locate(id);
        let chunk = &runs[r].chunks[c];
        let range = chunk.refs_of(i);
        let valid = chunk.targets[range.clone()].iter().zip(&chunk.words[range]).filter(|(&t, _)| t != MISSING);
        for (k, (&t, &w)) in valid.enumerate() {
            ts[k] = t;
            ws[k] = w.renumbered(&renumber[r][c]);
        }
    });
    match built {
        Ok((graph, words)) => (graph, words, labels, dropped),
        // Only past 4 G references (more than the object limit allows in practice): keep the objects, no edges.
        Err(_) => (Csr::empty(n).unwrap_or_default(), Vec::new(), labels, dropped),
    }
}

/// Turns a chunk's targets into ids (a seed position is one step of arithmetic, another target one lookup in the
/// index); a target not in the snapshot becomes [`MISSING`]. Returns how many did.
fn resolve(c: &mut EdgeChunk, merged: &Merged, index: &AddrIndex) -> u64 {
    for t in c.targets.iter_mut().filter(|t| **t != NOT_A_SEED) {
        *t = merged.seed_id(*t);
    }
    let mut missing = 0;
    for (k, addr) in std::mem::take(&mut c.others) {
        let id = index.get(addr).unwrap_or(MISSING);
        missing += u64::from(id == MISSING);
        if let Some(t) = c.targets.get_mut(k as usize) {
            *t = id;
        }
    }
    missing
}
