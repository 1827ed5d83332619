//! Micro-benchmark of the CSR graph: build, transpose and a reachability pass on a random graph (default 10 M nodes,
//! 50 M edges), printing wall time, the graph's own memory and the process's RSS after each step.
//!
//! ```sh
//! cargo run --release -p heapscope-graph --example csr_bench            # 10 M nodes, 50 M edges
//! cargo run --release -p heapscope-graph --example csr_bench -- 1000000 5000000
//! ```
//!
//! Edges are drawn by a xorshift generator (fixed seed). Each node's degree is uniform in 0..=2·(edges/nodes), so
//! the total is close to the requested count. Figures print to stdout; nothing is asserted (see the unit tests).

use std::time::Instant;

use heapscope_graph::reach::reachable;
use heapscope_graph::{Csr, NodeId};

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.replace('_', "").parse::<usize>().expect("a number"));
    let nodes = args.next().unwrap_or(10_000_000);
    let edges = args.next().unwrap_or(50_000_000);
    let per_node = (2 * edges / nodes.max(1)) as u64 + 1;
    println!("graph: {nodes} nodes, ~{edges} edges, {} threads", rayon::current_num_threads());
    println!("{:<34} {:>9} {:>12} {:>12} {:>12}", "step", "seconds", "graph MiB", "RSS MiB", "peak MiB");
    report("start", 0.0, 0);

    // Adjacency produced per node in parallel (the way the heap snapshot builds its graph).
    let t = Instant::now();
    let g = Csr::from_adjacency(nodes, |u, out| {
        let mut rng = Rng(u64::from(u).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let deg = rng.next() % per_node;
        out.extend((0..deg).map(|_| (rng.next() % nodes as u64) as NodeId));
    })
    .expect("graph builds");
    report(&format!("from_adjacency ({} edges)", g.num_edges()), t.elapsed().as_secs_f64(), g.heap_bytes());

    let t = Instant::now();
    let degrees: Vec<u32> = (0..nodes as NodeId).map(|u| g.degree(u) as u32).collect();
    let (filled, labels) = Csr::from_fill(&degrees, |u, ts, ls: &mut [u32]| {
        ts.copy_from_slice(g.neighbors(u));
        ls.iter_mut().enumerate().for_each(|(k, l)| *l = k as u32);
    })
    .expect("graph builds");
    let bytes = filled.heap_bytes() + labels.capacity() * 4;
    report("from_fill (+ u32 label per edge)", t.elapsed().as_secs_f64(), bytes);
    drop((filled, labels, degrees));

    let t = Instant::now();
    let r = g.transpose();
    report("transpose", t.elapsed().as_secs_f64(), r.heap_bytes());

    let t = Instant::now();
    let seen = reachable(&g, [0], |_| true);
    report(&format!("reachable from node 0 ({} nodes)", seen.count()), t.elapsed().as_secs_f64(), 0);

    let t = Instant::now();
    let list: Vec<(NodeId, NodeId)> = g.edges().collect();
    let built = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let h = Csr::from_edges(nodes, &list).expect("graph builds");
    report(&format!("from_edges (list made in {built:.2}s)"), t.elapsed().as_secs_f64(), h.heap_bytes());
    assert_eq!(h.num_edges(), g.num_edges());

    let per_edge = (g.heap_bytes() + r.heap_bytes()) as f64 / g.num_edges().max(1) as f64;
    println!("forward + reverse graph: {per_edge:.2} bytes per edge (offsets included)");
}

/// Prints one line: step, seconds, the graph's bytes, current and peak RSS.
fn report(step: &str, secs: f64, graph_bytes: usize) {
    let (rss, peak) = rss();
    println!("{step:<34} {secs:>9.3} {:>12.1} {:>12.1} {:>12.1}", mib(graph_bytes as u64), mib(rss), mib(peak));
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
