//! `heapscope tasks CORE`.

use std::io::Write;

use anyhow::bail;
use heapscope_cpython::objects::Heap;
use heapscope_query::tasks::{TasksOptions, TasksReport};

use crate::args::TasksArgs;

/// Runs `tasks`: the snapshot, then every task and suspended generator decoded, grouped and their groups' retained
/// sets computed. The report is written in full even when parts could not be decoded; the run then fails afterwards
/// with their count (exit status 2).
pub fn run(args: &TasksArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    super::emit::check::<TasksReport>("tasks", args.heap.format)?;
    let opened = super::heap::open(&args.heap)?;
    let heap = Heap::new(&opened.process, &opened.layout);
    let mut opts = TasksOptions {
        locals: args.locals,
        retained: true,
        suspended_retained: true,
        tree: args.tree,
        ..TasksOptions::default()
    };
    opts.preview.redact = args.privacy.redact;
    let report = crate::progress::phase("finding the asyncio tasks and suspended coroutines", || {
        TasksReport::collect(&opened.snapshot, &heap, &opts)
    })?;
    super::emit::emit(&report, "tasks", args.heap.format, out)?;
    super::heap::finish(&opened, args.heap.verbose, out)?;
    if report.errors > 0 {
        bail!(
            "{} part{} of the tasks could not be decoded (listed under \"problems\" in the output); when they name \
             memory the core lacks, give the process's binaries with --sysroot or --search-path",
            report.errors,
            if report.errors == 1 { "" } else { "s" }
        );
    }
    Ok(())
}
