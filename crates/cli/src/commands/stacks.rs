//! `heapscope stacks CORE`.

use std::io::Write;

use anyhow::bail;
use heapscope_cpython::frames::StackOptions;
use heapscope_query::stacks::StacksReport;

use crate::args::StacksArgs;

/// Runs `stacks`. A core without a Python interpreter is an error (one line: why none was found). The report is
/// written in full even when parts of it could not be decoded; the run then fails afterwards with their count (exit
/// status 2), and with `--locals` a local whose value could not be read is such a part. A thread whose frame chain
/// was cut gets a warning on stderr (where, why, what to do) and is marked incomplete; frames past `--max-depth`
/// are counted, not an error.
pub fn run(args: &StacksArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    super::emit::check::<StacksReport>("stacks", args.format)?;
    let process = super::open_core_reporting(&args.core)?;
    let python = heapscope_cpython::detect(&process)?;
    let (layout, warnings) = super::resolve_layout(&process, &python, &args.core)?;
    let mut opts = StackOptions { max_depth: args.max_depth as usize, locals: args.locals, ..StackOptions::default() };
    opts.preview.redact = args.privacy.redact;
    let report = crate::progress::phase("reading the thread stacks", || {
        StacksReport::collect(&process, python, &layout, warnings, &opts)
    });
    super::emit::emit(&report, "stacks", args.format, out)?;
    out.flush()?;
    let mut err = std::io::stderr().lock();
    for w in report.threads.iter().flat_map(|t| &t.warnings) {
        let _ = writeln!(err, "heapscope: warning: {w}");
    }
    if let Some(l) = report.locals.as_ref().filter(|l| l.unreadable > 0) {
        let _ = writeln!(
            err,
            "heapscope: warning: {} of {} locals could not be read (shown as <unreadable …>); the first: {}",
            l.unreadable,
            l.total,
            l.first_error.as_deref().unwrap_or("?")
        );
    }
    drop(err);
    if report.errors > 0 {
        bail!(
            "{} part{} of the stacks could not be decoded (marked \"error\" in the output)",
            report.errors,
            if report.errors == 1 { "" } else { "s" }
        );
    }
    if let Some(l) = report.locals.as_ref().filter(|l| l.unreadable > 0) {
        bail!(
            "{} local{} could not be read (shown as <unreadable …> in the output)",
            l.unreadable,
            if l.unreadable == 1 { "" } else { "s" }
        );
    }
    Ok(())
}
