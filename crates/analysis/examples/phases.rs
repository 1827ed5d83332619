//! Benchmark of every analysis phase on a real core: the wall time, CPU time and memory of opening the core, building
//! the snapshot (with the snapshot's own phase breakdown), then each analysis of this crate and of
//! [`heapscope_graph`] run one after the other on the snapshot.
//!
//! ```sh
//! cargo run --release -p heapscope-analysis --example phases -- CORE
//! ```
//!
//! `tools/bench/analysis.py` makes cores of about 6.4 M objects and runs this on them. After each phase a line gives
//! its wall seconds, the CPU seconds of the process during it (all threads: on a busy machine it shows the work when
//! the wall time shows the wait), the current RSS (VmRSS) and the peak RSS so far (VmHWM), from /proc/self/status.
//! The snapshot's sub-phases come from [`heapscope_snapshot::BuildStats::millis`] (wall time only).
//!
//! The dominator phases repeat what [`Alive::new`] does one step at a time (seeds and live edges, dominators, retained
//! sizes, dominator tree), drop their results, then [`Alive::new`] runs as a whole; the garbage and shortest-path
//! phases use its result. Exit status 1, with a message, when the core cannot be opened or analysed.

use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use heapscope_analysis::alive::{is_conservative, Alive};
use heapscope_analysis::garbage::garbage;
use heapscope_analysis::strong::{is_strong, refcount_excess, strong_in_degrees};
use heapscope_coredump::{CoreProcess, OpenOptions};
use heapscope_cpython::heap::roots::RootKind;
use heapscope_cpython::layout::{DwarfPolicy, Layout};
use heapscope_graph::reach::NodeSet;
use heapscope_graph::{dominators, retained, shortest_paths, strongly_connected_components, DominatorTree};
use heapscope_snapshot::{BuildOptions, ObjectId};

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(core), None) = (args.next(), args.next()) else {
        eprintln!("usage: phases CORE");
        return ExitCode::FAILURE;
    };
    match run(PathBuf::from(core)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("phases: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(core: PathBuf) -> Result<(), Box<dyn Error>> {
    let size = std::fs::metadata(&core).map_err(|e| format!("{}: {e}", core.display()))?.len();
    println!("core {} ({:.0} MiB), {} threads", core.display(), mib(size), rayon::current_num_threads());
    println!("load average before: {}", load_average());
    let mut t = Table::new();
    let all = Instant::now();

    let clock = Instant::now();
    let opts = OpenOptions { sysroot: None, search_paths: Vec::new() };
    let process = CoreProcess::open(&core, &opts).map_err(|e| format!("cannot open {}: {e}", core.display()))?;
    let python = heapscope_cpython::detect(&process)?;
    let dwarf = DwarfPolicy::Search { sysroot: None, search_paths: Vec::new() };
    let (layout, _) = Layout::resolve(&process, &python, dwarf)?;
    t.row(&format!("open core, detect Python {}, layout", python.version), clock);

    let clock = Instant::now();
    let snap = heapscope_snapshot::build(&process, &python, &layout, &BuildOptions::default())?;
    t.row("snapshot build", clock);
    for (phase, ms) in &snap.stats().millis {
        t.sub(&format!("{phase}"), *ms as f64 / 1000.0);
    }
    let g = snap.graph();
    let weak = (0..g.num_edges()).filter(|&e| !is_strong(snap.edge_kind(e))).count();
    let counts = format!(
        "{} objects, {} references ({} weak), {} roots, {} undecodable objects; the snapshot holds {:.0} MiB",
        snap.len(),
        g.num_edges(),
        weak,
        snap.roots().len(),
        snap.errors().objects,
        mib(snap.heap_bytes() as u64),
    );
    t.note(&counts);

    let clock = Instant::now();
    let in_degrees = strong_in_degrees(&snap);
    let excess = refcount_excess(&snap, &in_degrees);
    let held = excess.iter().filter(|&&x| x > 0).count();
    t.row("strong in-degrees + refcount excess", clock);
    t.note(&format!("{held} objects with a refcount excess"));

    let clock = Instant::now();
    let transposed = g.transpose_with_positions();
    t.row("transpose (with positions)", clock);

    let clock = Instant::now();
    let sccs = strongly_connected_components(g, |e| is_strong(snap.edge_kind(e)));
    t.row("scc (strong references)", clock);
    let cyclic = (0..sccs.num_components() as u32).filter(|&c| sccs.is_cycle(c)).count();
    let in_cycles: usize = (0..sccs.num_components() as u32).filter(|&c| sccs.is_cycle(c)).map(|c| sccs.size(c)).sum();
    let largest = (0..sccs.num_components() as u32).map(|c| sccs.size(c)).max().unwrap_or(0);
    t.note(&format!(
        "{} components, {cyclic} cycles holding {in_cycles} objects, largest {largest}",
        sccs.num_components()
    ));
    drop(sccs);

    // What Alive::new does, one step at a time.
    let clock = Instant::now();
    let mut not_counted = NodeSet::new(snap.len());
    for r in snap.roots().iter().filter(|r| r.kind == RootKind::Interned) {
        not_counted.insert(r.id);
    }
    let mut seeds: Vec<ObjectId> = snap.roots().iter().filter(|r| !is_conservative(r.kind)).map(|r| r.id).collect();
    seeds.extend((0..snap.len() as ObjectId).filter(|&id| excess[id as usize] > 0));
    seeds.sort_unstable();
    seeds.dedup();
    let mut live = vec![0u64; g.num_edges().div_ceil(64)];
    for src in (0..snap.len() as ObjectId).filter(|&s| !not_counted.contains(s)) {
        for e in g.edge_range(src).filter(|&e| is_strong(snap.edge_kind(e))) {
            live[e / 64] |= 1 << (e % 64);
        }
    }
    let is_live = |e: usize| live[e / 64] & (1 << (e % 64)) != 0;
    t.row("seeds + live edges", clock);
    t.note(&format!("{} seeds", seeds.len()));

    let clock = Instant::now();
    let dom = dominators(g, &transposed, seeds.iter().copied(), is_live)?;
    t.row("dominators", clock);
    t.note(&format!("{} reachable from the seeds", dom.num_reachable()));

    let clock = Instant::now();
    let (_, sizes, footprints) = snap.columns();
    let ret = retained(&dom, sizes, footprints)?;
    t.row("retained sizes", clock);
    let top = seeds.iter().map(|&s| ret.bytes()[s as usize]).max().unwrap_or(0);
    t.note(&format!("largest seed retains {:.0} MiB", mib(top)));

    let clock = Instant::now();
    let tree = DominatorTree::new(&dom);
    t.row("dominator tree", clock);
    drop((tree, ret, dom, live, seeds, not_counted, transposed, excess, in_degrees));

    let clock = Instant::now();
    let alive = Alive::new(&snap)?;
    t.row("Alive::new (all of the above but scc)", clock);

    let clock = Instant::now();
    let gb = garbage(&snap);
    t.row("garbage (simulated gc.collect())", clock);
    t.note(&format!(
        "{} candidates, {} unreachable, {} freed ({:.1} MiB)",
        gb.candidates,
        gb.unreachable.len(),
        gb.freed.len(),
        mib(gb.freed_bytes)
    ));
    drop(gb);

    let clock = Instant::now();
    let sp = shortest_paths(g, alive.seeds().iter().copied(), |e| alive.is_live_edge(e));
    t.row("shortest paths from the seeds", clock);
    let reached = sp.distances().iter().filter(|&&d| d != u32::MAX).count();
    let far = sp.distances().iter().filter(|&&d| d != u32::MAX).max().copied().unwrap_or(0);
    t.note(&format!("{reached} reached, farthest {far} references away"));
    drop(sp);

    let analyses = all.elapsed().as_secs_f64();
    println!("{:<46} {:>8.3}", "total", analyses);
    println!("{counts}");
    println!("load average after: {}", load_average());
    Ok(())
}

/// The printed table: one row per phase, notes below rows.
struct Table {
    last_cpu: f64,
}

impl Table {
    fn new() -> Table {
        println!("{:<46} {:>8} {:>8} {:>9} {:>9}", "phase", "wall s", "cpu s", "RSS MiB", "peak MiB");
        Table { last_cpu: cpu_seconds() }
    }

    /// A phase that started at `start`: wall and CPU seconds, current and peak RSS.
    fn row(&mut self, phase: &str, start: Instant) {
        let secs = start.elapsed().as_secs_f64();
        let cpu_now = cpu_seconds();
        let cpu = cpu_now - self.last_cpu;
        self.last_cpu = cpu_now;
        let (rss, peak) = rss();
        println!("{phase:<46} {secs:>8.3} {cpu:>8.2} {:>9.0} {:>9.0}", mib(rss), mib(peak));
    }

    /// A part of the previous row, timed by the code under test (wall seconds only).
    fn sub(&self, phase: &str, secs: f64) {
        println!("  {phase:<44} {secs:>8.3}");
    }

    fn note(&self, text: &str) {
        println!("    ({text})");
    }
}

/// User + system CPU time of the process, from /proc/self/stat (in clock ticks of 1/100 s; 0 where unavailable).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields overall.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let ticks: u64 = rest.split_whitespace().skip(11).take(2).filter_map(|f| f.parse::<u64>().ok()).sum();
    ticks as f64 / 100.0
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

/// The 1, 5 and 15 minute load averages, from /proc/loadavg.
fn load_average() -> String {
    let raw = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    raw.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}
