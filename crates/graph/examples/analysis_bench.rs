//! Benchmark of the graph analyses on two graphs of the same size (default 10 M nodes): a chain (the deepest graph
//! there is, with one back edge closing it into a cycle) and a random graph (default 4 edges per node on average).
//! Prints the wall time of the transpose, strongly connected components, dominators, retained sizes, the dominator
//! tree and the shortest paths (and of SCCs and dominators run side by side), with the process's CPU time and current
//! and peak RSS after each step.
//!
//! ```sh
//! cargo run --release -p heapscope-graph --example analysis_bench                 # 10 M nodes, 4 edges per node
//! cargo run --release -p heapscope-graph --example analysis_bench -- 1000000 3
//! ```
//!
//! The random graph's degrees are uniform in 0..=2·degree and its targets uniform (xorshift, fixed seed); its roots
//! are the first 1000 nodes. Every edge is followed except, in the random graph, one in ten (a stand-in for weak
//! references), so the filter's cost is part of the figures. Nothing is asserted (see the unit tests).

use std::time::Instant;

use heapscope_graph::{
    dominators, retained, shortest_paths, strongly_connected_components, Csr, DominatorTree, NodeId,
};

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.replace('_', "").parse::<usize>().expect("a number"));
    let nodes = args.next().unwrap_or(10_000_000);
    let degree = args.next().unwrap_or(4) as u64;
    println!("{nodes} nodes, {} threads", rayon::current_num_threads());

    let t = Instant::now();
    let n = nodes as NodeId;
    let degrees: Vec<u32> = (0..n).map(|_| 1).collect();
    let (chain, _) = Csr::from_fill::<(), _>(&degrees, |u, ts, _| ts[0] = (u + 1) % n).expect("graph builds");
    drop(degrees);
    println!("\nchain 0 → 1 → … → {} → 0, root 0", nodes - 1);
    header();
    report("build", t.elapsed().as_secs_f64());
    analyse(&chain, &[0], |_| true);
    drop(chain);

    let t = Instant::now();
    let random = Csr::from_adjacency(nodes, |u, out| {
        let mut rng = Rng(u64::from(u).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let deg = rng.next() % (2 * degree + 1);
        out.extend((0..deg).map(|_| (rng.next() % nodes as u64) as NodeId));
    })
    .expect("graph builds");
    let roots: Vec<NodeId> = (0..1000.min(n)).collect();
    println!("\nrandom: {} edges, {} roots, one edge in ten ignored", random.num_edges(), roots.len());
    header();
    report("build", t.elapsed().as_secs_f64());
    analyse(&random, &roots, |e| e % 10 != 3);
}

/// Runs every analysis on `g` and prints one line per step.
fn analyse(g: &Csr, roots: &[NodeId], follow: impl Fn(usize) -> bool + Copy + Sync) {
    let total = Instant::now();
    let t = Instant::now();
    let gt = g.transpose_with_positions();
    report("transpose_with_positions", t.elapsed().as_secs_f64());

    let t = Instant::now();
    let sccs = strongly_connected_components(g, follow);
    let secs = t.elapsed().as_secs_f64();
    let largest = (0..sccs.num_components() as u32).map(|c| sccs.size(c)).max().unwrap_or(0);
    report(&format!("scc ({} components, largest {largest})", sccs.num_components()), secs);
    drop(sccs);

    let t = Instant::now();
    let dom = dominators(g, &gt, roots.iter().copied(), follow).expect("shapes match");
    report(&format!("dominators ({} reachable)", dom.num_reachable()), t.elapsed().as_secs_f64());

    let t = Instant::now();
    let sizes: Vec<u64> = (0..g.num_nodes() as u64).map(|v| 16 + v % 200).collect();
    let ret = retained(&dom, &sizes, &sizes).expect("one weight per node");
    let secs = t.elapsed().as_secs_f64();
    let top = roots.iter().map(|&r| ret.bytes()[r as usize]).max().unwrap_or(0);
    report(&format!("retained (largest root {top} B)"), secs);
    drop((ret, sizes));

    let t = Instant::now();
    let tree = DominatorTree::new(&dom);
    let secs = t.elapsed().as_secs_f64();
    let depth = tree.depths().iter().filter(|&&d| d != u32::MAX).max().copied().unwrap_or(0);
    report(&format!("dominator tree (depth {depth})"), secs);
    drop((tree, dom));

    // Both are sequential: a caller with two cores can run them side by side.
    let t = Instant::now();
    let (sccs, dom) =
        rayon::join(|| strongly_connected_components(g, follow), || dominators(g, &gt, roots.iter().copied(), follow));
    report("scc and dominators side by side (rayon::join)", t.elapsed().as_secs_f64());
    drop((sccs, dom));

    let t = Instant::now();
    let sp = shortest_paths(g, roots.iter().copied(), follow);
    let secs = t.elapsed().as_secs_f64();
    let far = sp.distances().iter().filter(|&&d| d != u32::MAX).max().copied().unwrap_or(0);
    report(&format!("shortest paths (farthest {far})"), secs);
    let t = Instant::now();
    let last = (0..g.num_nodes() as NodeId).rev().find(|&v| sp.distance(v).is_some()).unwrap_or(0);
    let paths = sp.paths_to(&gt, last, 5, follow).expect("shapes match");
    let steps: usize = paths.iter().map(Vec::len).sum();
    report(&format!("paths_to node {last} ({} paths, {steps} steps)", paths.len()), t.elapsed().as_secs_f64());
    println!("{:<44} {:>8.3}", "all analyses (transpose included)", total.elapsed().as_secs_f64());
}

fn header() {
    println!("{:<44} {:>8} {:>8} {:>9} {:>9}", "step", "seconds", "cpu s", "RSS MiB", "peak MiB");
}

/// Prints one line: step, wall seconds, CPU seconds of the process since the last line (all threads: on a busy
/// machine it shows the work when the wall time shows the wait), current and peak RSS.
fn report(step: &str, secs: f64) {
    static LAST_CPU: std::sync::Mutex<f64> = std::sync::Mutex::new(0.0);
    let cpu_now = cpu_seconds();
    let cpu = {
        let mut last = LAST_CPU.lock().unwrap_or_else(|e| e.into_inner());
        let used = cpu_now - *last;
        *last = cpu_now;
        used
    };
    let (rss, peak) = rss();
    println!("{step:<44} {secs:>8.3} {cpu:>8.3} {:>9.0} {:>9.0}", mib(rss), mib(peak));
}

/// User + system CPU time of the process, from /proc/self/stat (in clock ticks of 1/100 s; 0 where unavailable).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields overall.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let ticks: u64 = rest.split_whitespace().skip(11).take(2).filter_map(|f| f.parse::<u64>().ok()).sum();
    ticks as f64 / 100.0
}

fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

/// Current and peak resident set size, from /proc/self/status (0 where unavailable).
fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// xorshift64*.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}
