//! `heapscope summary CORE`.

use std::io::Write;

use heapscope_query::summary::SummaryReport;

use crate::args::{Format, SummaryArgs};

/// Runs `summary`: the type histogram, then the diagnostics (exit 2 if some objects could not be decoded).
pub fn run(args: &SummaryArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    super::reject_dot(args.heap.format, "summary")?;
    let opened = super::heap::open(&args.heap)?;
    let mut report = SummaryReport::collect(&opened.snapshot, args.top);
    report.unverified_version = opened.layout.basis.unverified.clone();
    match args.heap.format {
        Format::Table | Format::Dot => report.write_table(out)?,
        Format::Json => report.write_json(out)?,
    }
    super::heap::finish(&opened, args.heap.verbose, out)
}
