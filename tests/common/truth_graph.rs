//! The truth's own object graph (`gc.get_objects()` closed over `gc.get_referents`, with refcounts and sizes) and
//! retained sets computed on it by their definition, independently of heapscope's dominator tree.

use std::collections::{HashMap, HashSet, VecDeque};

use serde_json::Value;

/// The truth's graph: per object, its referents, refcount, size and immortality.
pub struct TruthGraph {
    pub index: HashMap<u64, usize>,
    pub addrs: Vec<u64>,
    pub referents: Vec<Vec<usize>>,
    pub seeds: Vec<usize>,
    pub sizes: Vec<u64>,
}

impl TruthGraph {
    pub fn new(truth: &Value) -> TruthGraph {
        let objects = truth["objects"].as_array().unwrap();
        let addrs: Vec<u64> = objects.iter().map(|o| o["address"].as_u64().unwrap()).collect();
        let index: HashMap<u64, usize> = addrs.iter().enumerate().map(|(i, &a)| (a, i)).collect();
        let referents: Vec<Vec<usize>> = objects
            .iter()
            .map(|o| {
                o["referents"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|r| index.get(&r.as_u64().unwrap()).copied())
                    .collect()
            })
            .collect();
        let mut indeg = vec![0i64; addrs.len()];
        for rs in &referents {
            for &t in rs {
                indeg[t] += 1;
            }
        }
        let seeds = objects
            .iter()
            .enumerate()
            .filter(|(i, o)| o["immortal"].as_bool() == Some(true) || o["refcount"].as_i64().unwrap() > indeg[*i])
            .map(|(i, _)| i)
            .collect();
        let sizes = objects.iter().map(|o| o["size"].as_u64().unwrap_or(0)).collect();
        TruthGraph { index, addrs, referents, seeds, sizes }
    }

    /// What the seeds reach without passing through `avoid`.
    fn reach(&self, avoid: &HashSet<usize>) -> Vec<bool> {
        let mut seen = vec![false; self.addrs.len()];
        let mut queue: VecDeque<usize> = VecDeque::new();
        for &s in &self.seeds {
            if !avoid.contains(&s) && !seen[s] {
                seen[s] = true;
                queue.push_back(s);
            }
        }
        while let Some(v) = queue.pop_front() {
            for &t in &self.referents[v] {
                if !avoid.contains(&t) && !seen[t] {
                    seen[t] = true;
                    queue.push_back(t);
                }
            }
        }
        seen
    }

    /// The retained set of `x`, by definition.
    pub fn retained(&self, x: usize) -> HashSet<u64> {
        self.retained_set(&[x])
    }

    /// The retained set of the objects `xs` taken together, by definition: what the seeds reach, but no longer
    /// once all of `xs` are gone, and `xs` themselves.
    pub fn retained_set(&self, xs: &[usize]) -> HashSet<u64> {
        let set: HashSet<usize> = xs.iter().copied().collect();
        let all = self.reach(&HashSet::new());
        let without = self.reach(&set);
        (0..self.addrs.len()).filter(|&i| set.contains(&i) || (all[i] && !without[i])).map(|i| self.addrs[i]).collect()
    }
}
