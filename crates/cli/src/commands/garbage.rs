//! `heapscope garbage CORE`.

use std::io::Write;

use heapscope_query::garbage::GarbageReport;

use crate::args::{Format, GarbageArgs};

/// Runs `garbage`: the simulated collection, then the diagnostics.
pub fn run(args: &GarbageArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    super::reject_dot(args.heap.format, "garbage")?;
    let opened = super::heap::open(&args.heap)?;
    let report = GarbageReport::collect(&opened.snapshot);
    match args.heap.format {
        Format::Table | Format::Dot => report.write_table(out)?,
        Format::Json => report.write_json(out)?,
    }
    super::heap::finish(&opened, args.heap.verbose, out)
}
