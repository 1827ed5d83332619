//! `heapscope report CORE [-o FILE] [--format html|md]`: every finding on one page.

use std::io::Write;

use anyhow::Context;
use heapscope_analysis::alive::Alive;
use heapscope_cpython::frames::StackOptions;
use heapscope_cpython::objects::Heap;
use heapscope_query::alive::Paths;
use heapscope_query::full::{FullOptions, FullReport, ProcessFacts};
use heapscope_query::info::InfoReport;
use heapscope_query::report::{Format, Report};
use heapscope_query::stacks::StacksReport;

use crate::args::{CoreArgs, ReportArgs, ReportFormat};
use crate::progress::phase;

/// Owners and examples of the comparison with `--baseline`.
const BASELINE_ROWS: usize = 20;

/// Frames shown per thread (a runaway recursion would otherwise fill the page).
const MAX_FRAMES: usize = 1000;

/// Runs `report`: opens the snapshot (a saved one when there is one), runs every analysis the report shows, writes
/// it to stdout or, whole or not at all, to `-o FILE`; then the diagnostics (exit 2 if some objects could not be
/// decoded).
pub fn run(a: &ReportArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let format = match a.format {
        ReportFormat::Html => Format::Html,
        ReportFormat::Md => Format::Markdown,
    };
    let opened = super::heap::open_core(&a.core)?;
    let alive = phase("computing the dominator tree", || Alive::new(&opened.snapshot))
        .context("cannot compute the dominator tree")?;
    let heap = Heap::new(&opened.process, &opened.layout);
    let paths = phase("finding the paths from the roots", || Paths::new(&alive, &heap).redact(a.privacy.redact));
    let info = InfoReport::collect(&opened.process, Ok(opened.python.clone()));
    let facts = ProcessFacts::new(&info, &opened.python);
    let mut stack_opts = StackOptions { max_depth: MAX_FRAMES, ..StackOptions::default() };
    stack_opts.preview.redact = a.privacy.redact;
    let stacks = phase("reading the thread stacks", || {
        StacksReport::collect(
            &opened.process,
            opened.python.clone(),
            &opened.layout,
            opened.layout_warnings.clone(),
            &stack_opts,
        )
    });
    let opts = FullOptions { top: a.top as usize, redact: a.privacy.redact, ..FullOptions::default() };
    let mut report =
        phase("collecting the findings", || FullReport::collect(facts, stacks, &alive, &heap, &paths, &opts));
    report.summary.unverified_version = opened.layout.basis.unverified.clone();
    let baseline = match &a.baseline {
        Some(old_core) => {
            let old_args = CoreArgs { core: old_core.clone(), snapshot: None, ..a.core.clone() };
            let old = super::diff::open("the baseline", &old_args)?;
            report.baseline =
                Some(super::diff::compare(&old, &opened, (old_core, &a.core.core), a.privacy.redact, BASELINE_ROWS)?);
            Some(old)
        }
        None => None,
    };
    match &a.output {
        Some(path) => {
            phase(format!("writing {}", path.display()), || {
                super::export::write_atomically(path, |w| Ok(report.write(format, w)?))
            })?;
        }
        None => report.write(format, out)?,
    }
    if let Some(old) = &baseline {
        super::heap::finish(old, a.verbose, out).context("in the baseline")?;
    }
    super::heap::finish(&opened, a.verbose, out)
}
