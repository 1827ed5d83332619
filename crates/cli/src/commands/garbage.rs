//! `heapscope garbage CORE`.

use std::io::Write;

use heapscope_query::garbage::GarbageReport;

use crate::args::GarbageArgs;

/// Runs `garbage`: the simulated collection, then the diagnostics.
pub fn run(args: &GarbageArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    super::emit::check::<GarbageReport>("garbage", args.heap.format)?;
    let opened = super::heap::open(&args.heap)?;
    let report = crate::progress::phase("simulating gc.collect()", || GarbageReport::collect(&opened.snapshot));
    super::emit::emit(&report, "garbage", args.heap.format, out)?;
    super::heap::finish(&opened, args.heap.verbose, out)
}
