//! The fixture cores the `objects` and `summary` targets patch: each opened, detected and enumerated once per process.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use heapscope_coredump::{Addr, CoreProcess, OpenOptions, ProcessImage};
use heapscope_cpython::heap::enumerate;
use heapscope_cpython::layout::{Layout, ResolveOptions};
use heapscope_cpython::objects::Heap;
use heapscope_cpython::{detect, runtime, Detection};

use crate::patch::Targets;

/// The fixtures an input can pick (by its first byte): before and after 3.11's frames, 3.12's immortal objects, 3.14's
/// stack references.
pub const FIXTURES: [&str; 4] = ["py312", "py38", "py311", "py314"];

/// One opened fixture.
#[derive(Debug)]
pub struct Fixture {
    /// The core, with no files from disk (`--sysroot` at a directory that does not exist).
    pub process: CoreProcess,
    /// Its Python.
    pub detection: Detection,
    /// Its layout.
    pub layout: Layout,
    /// Where patches land.
    pub targets: Targets,
}

/// The `testdata/` directory of the repository.
pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// Fixture `i % FIXTURES.len()`, opened on first use.
///
/// # Panics
///
/// When the fixture cannot be opened or decoded: that is the repository's own data, not fuzzer input.
pub fn get(i: u8) -> &'static Fixture {
    static CELLS: [OnceLock<Fixture>; FIXTURES.len()] = [const { OnceLock::new() }; FIXTURES.len()];
    let i = usize::from(i) % FIXTURES.len();
    CELLS[i].get_or_init(|| open(FIXTURES[i]))
}

fn open(name: &str) -> Fixture {
    let path = testdata().join(name).join("core.zst");
    let opts =
        OpenOptions { sysroot: Some(PathBuf::from("/nonexistent/heapscope-fuzz-sysroot")), search_paths: vec![] };
    let process = CoreProcess::open(&path, &opts).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()));
    let detection = detect(&process).unwrap_or_else(|e| panic!("fixture {name}: {e}"));
    let (layout, _) = Layout::resolve_with(&process, &detection, &ResolveOptions::default())
        .unwrap_or_else(|e| panic!("fixture {name}: {e}"));
    let targets = targets(&process, &detection, &layout);
    Fixture { process, detection, layout, targets }
}

fn targets(process: &CoreProcess, detection: &Detection, layout: &Layout) -> Targets {
    let heap = Heap::new(process, layout);
    let interps = runtime::interpreters(process, layout, detection.runtime);
    let mut objects = Vec::new();
    for interp in &interps.items {
        let e = enumerate(&heap, detection.runtime, interp.addr);
        objects.extend(e.gc.iter().map(|(a, _)| *a));
        objects.extend(e.untracked);
    }
    objects.sort_unstable();
    objects.dedup();
    let runtime_size =
        process.symbol("_PyRuntime").map(|s| s.size).filter(|&s| s > 0 && s <= 1 << 20).unwrap_or(64 << 10);
    let state = interps
        .items
        .first()
        .map(|i| {
            let threads = runtime::threads(process, layout, i.addr);
            threads.items.first().map_or((i.addr, 4096), |t| (t.tstate, 1024))
        })
        .unwrap_or_default();
    let dumped: Vec<(Addr, u64)> =
        process.core().segments().iter().filter(|s| s.filesz > 0).map(|s| (s.vaddr, s.filesz)).collect();
    let dumped_total = dumped.iter().map(|d| d.1).sum();
    Targets { objects, runtime: (detection.runtime, runtime_size), state, dumped, dumped_total }
}
