//! `heapscope memory CORE`: mappings by kind, pymalloc's statistics, and totals that reconcile.

use std::io::Write;

use heapscope_cpython::heap::obmalloc::{locate_arenas, pymalloc_stats};
use heapscope_cpython::runtime::interpreters;
use heapscope_query::memory::MemoryReport;

use super::emit::{check, emit};
use crate::args::MemoryArgs;
use crate::progress::phase;

/// Runs `memory`.
pub fn run(a: &MemoryArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    check::<MemoryReport>("memory", a.heap.format)?;
    let opened = super::heap::open(&a.heap)?;
    let (p, layout, runtime) = (&opened.process, &opened.layout, opened.python.runtime);
    // The main interpreter is the last of the list (new interpreters are prepended); in 3.12+ legacy
    // sub-interpreters share its pymalloc.
    let walk = interpreters(p, layout, runtime);
    let mut warnings = Vec::new();
    let stats = match walk.items.last() {
        Some(main) => match locate_arenas(p, layout, runtime, main.addr) {
            Ok((table, notes)) => {
                warnings.extend(notes);
                Some(phase("reading pymalloc's pools", || pymalloc_stats(p, layout, &table)))
            }
            Err(e) => {
                warnings.push(format!(
                    "cannot locate pymalloc's arena table: {e}; up to 3.11 it is found by libpython's symbols when \
                     its file is at hand: pass --sysroot DIR (or --search-path DIR) with the interpreter's binaries"
                ));
                None
            }
        },
        None => {
            warnings.push(format!(
                "no interpreter found{}",
                walk.error.as_ref().map(|e| format!(": {e}")).unwrap_or_default()
            ));
            None
        }
    };
    let mut report = phase("classifying the memory", || MemoryReport::collect(p, &opened.snapshot, stats.as_ref()));
    report.warnings.splice(0..0, warnings);
    emit(&report, "memory", a.heap.format, out)?;
    super::heap::finish(&opened, a.heap.verbose, out)
}
