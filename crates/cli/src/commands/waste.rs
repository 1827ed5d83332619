//! `heapscope waste CORE`: what to change to use less memory.

use std::io::Write;

use anyhow::Context;
use heapscope_analysis::alive::Alive;
use heapscope_cpython::objects::Heap;
use heapscope_query::alive::Paths;
use heapscope_query::waste::WasteReport;

use super::emit::{check, emit};
use crate::args::WasteArgs;
use crate::progress::phase;

/// Runs `waste`.
pub fn run(a: &WasteArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    check::<WasteReport>("waste", a.heap.format)?;
    let opened = super::heap::open(&a.heap)?;
    let alive = phase("computing the dominator tree", || Alive::new(&opened.snapshot))
        .context("cannot compute the dominator tree")?;
    let heap = Heap::new(&opened.process, &opened.layout);
    let paths = phase("finding the paths from the roots", || Paths::new(&alive, &heap).redact(a.privacy.redact));
    let report = phase("looking for waste", || WasteReport::collect(&alive, &heap, &paths, a.limit, a.privacy.redact));
    emit(&report, "waste", a.heap.format, out)?;
    super::heap::finish(&opened, a.heap.verbose, out)
}
