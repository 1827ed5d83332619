//! `heapscope info CORE`.

use std::io::Write;

use heapscope_query::info::InfoReport;

use crate::args::{Format, InfoArgs};

/// Runs `info`. A core without Python is still described; only an unreadable core is an error.
pub fn run(args: &InfoArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let process = super::open_core(&args.core)?;
    let python = heapscope_cpython::detect(&process);
    let report = InfoReport::collect(&process, python);
    match args.format {
        Format::Table => report.write_table(out)?,
        Format::Json => report.write_json(out)?,
    }
    Ok(())
}
