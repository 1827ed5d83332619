//! `heapscope info CORE`.

use std::io::Write;

use heapscope_cpython::layout::Layout;
use heapscope_query::info::InfoReport;
use heapscope_query::layout::LayoutReport;

use crate::args::{Format, InfoArgs};

/// Runs `info`. A core without Python is still described; only an unreadable core is an error.
pub fn run(args: &InfoArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let process = super::open_core(&args.core)?;
    let python = heapscope_cpython::detect(&process);
    let layout = args.layout.then(|| match &python {
        Ok(d) => LayoutReport::collect(Layout::resolve(&process, d, super::dwarf_policy(&args.core))),
        Err(e) => LayoutReport::failed(e.to_string()),
    });
    let mut report = InfoReport::collect(&process, python);
    report.layout = layout;
    match args.format {
        Format::Table => report.write_table(out)?,
        Format::Json => report.write_json(out)?,
    }
    Ok(())
}
