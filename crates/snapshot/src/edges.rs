//! The reference graph in id space: each round's reference buffers resolved to ids, the chunk-local labels merged
//! into one table, and the CSR filled in place ([`Csr::from_fill`]).

use heapscope_graph::Csr;
use rayon::prelude::*;

use super::columns::Merged;
use super::discover::{Run, CHUNK};
use super::index::AddrIndex;
use super::labels::{EdgeWord, LabelTable};

/// Marks a reference whose target is not in the snapshot.
const MISSING: u32 = u32::MAX;

/// The graph, its edge words (labels renumbered into the returned table), and the number of references dropped
/// because their target is not in the snapshot (the object limit was reached). Frees the runs' target buffers as
/// it resolves them. `merged` says where each id's references are; `index` maps addresses to ids.
pub(crate) fn build(runs: &mut [Run], merged: &Merged, index: &AddrIndex) -> (Csr, Vec<EdgeWord>, LabelTable, u64) {
    let mut labels = LabelTable::default();
    let renumber: Vec<Vec<Vec<u32>>> =
        runs.iter().map(|r| r.chunks.iter().map(|c| labels.merge(&c.labels)).collect()).collect();
    // Targets as ids, chunk by chunk; each chunk's address buffer is freed once resolved.
    let resolved: Vec<Vec<Vec<u32>>> = runs
        .iter_mut()
        .map(|r| {
            r.chunks
                .par_iter_mut()
                .map(|c| std::mem::take(&mut c.targets).into_iter().map(|t| index.get(t).unwrap_or(MISSING)).collect())
                .collect()
        })
        .collect();
    let dropped: u64 =
        resolved.iter().flatten().map(|r: &Vec<u32>| r.iter().filter(|&&t| t == MISSING).count() as u64).sum();
    let n = index.len();
    let locate = |id: u32| {
        let (r, p) = merged.source(id);
        (r, p / CHUNK, p % CHUNK)
    };
    let degrees: Vec<u32> = (0..n as u32)
        .into_par_iter()
        .map(|id| {
            let (r, c, i) = locate(id);
            let range = runs[r].chunks[c].refs_of(i);
            resolved[r][c][range].iter().filter(|&&t| t != MISSING).count() as u32
        })
        .collect();
    let built = Csr::from_fill(&degrees, |id, ts, ws: &mut [EdgeWord]| {
        let (r, c, i) = locate(id);
        let chunk = &runs[r].chunks[c];
        let range = chunk.refs_of(i);
        let valid = resolved[r][c][range.clone()].iter().zip(&chunk.words[range]).filter(|(&t, _)| t != MISSING);
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
