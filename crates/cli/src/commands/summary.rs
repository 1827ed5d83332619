//! `heapscope summary CORE`.

use std::io::Write;

use heapscope_query::summary::SummaryReport;

use crate::args::SummaryArgs;

/// Runs `summary`: the type histogram, then the diagnostics (exit 2 if some objects could not be decoded).
pub fn run(args: &SummaryArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    super::emit::check::<SummaryReport>("summary", args.heap.format)?;
    let opened = super::heap::open(&args.heap)?;
    let mut report =
        crate::progress::phase("summing the heap by type", || SummaryReport::collect(&opened.snapshot, args.top));
    report.unverified_version = opened.layout.basis.unverified.clone();
    super::emit::emit(&report, "summary", args.heap.format, out)?;
    super::heap::finish(&opened, args.heap.verbose, out)
}
