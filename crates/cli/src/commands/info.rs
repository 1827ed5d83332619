//! `heapscope info CORE`.

use std::io::Write;

use heapscope_query::info::InfoReport;
use heapscope_query::layout::LayoutReport;

use crate::args::InfoArgs;

/// Runs `info`. A core without Python is still described; only an unreadable core is an error.
pub fn run(args: &InfoArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    super::emit::check::<InfoReport>("info", args.format)?;
    let process = super::open_core(&args.core)?;
    let python = heapscope_cpython::detect(&process);
    // Resolved even without --layout, so that a version without a built-in table is flagged here too.
    let resolved = python.as_ref().map(|d| super::resolve_layout(&process, d, &args.core));
    let unverified = match &resolved {
        Ok(Ok((layout, _))) => layout.basis.unverified.clone(),
        _ => None,
    };
    let layout = args.layout.then(|| match resolved {
        Ok(r) => LayoutReport::collect(r),
        Err(e) => LayoutReport::failed(e.to_string()),
    });
    let mut report = InfoReport::collect(&process, python);
    report.layout = layout;
    report.unverified_version = unverified;
    super::emit::emit(&report, "info", args.format, out)?;
    out.flush()?;
    let mut err = std::io::stderr().lock();
    for w in report.all_warnings() {
        writeln!(err, "heapscope: warning: {w}")?;
    }
    Ok(())
}
