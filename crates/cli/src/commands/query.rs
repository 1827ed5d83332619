//! `heapscope query CORE 'SQL'`: SQL over the heap's tables.

use std::io::Write;

use anyhow::Context;
use heapscope_cpython::objects::Heap;
use heapscope_query::sql::{self, ResultFormat};
use heapscope_query::tables::Tables;

use crate::args::{QueryArgs, QueryFormat};
use crate::progress::phase;

/// Runs `query`: reads the statement, opens the snapshot (a saved one when there is one), builds the tables the
/// statement names, runs it and writes the result.
pub fn run(a: &QueryArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let statement = match (&a.sql, &a.file) {
        (Some(s), None) => s.clone(),
        (None, Some(f)) => std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?,
        _ => anyhow::bail!("give the query as an argument or with --file FILE, not both"),
    };
    if a.format == QueryFormat::Parquet && a.output.is_none() {
        anyhow::bail!("Parquet is binary: give a file to write it to with -o FILE");
    }
    let opened = super::heap::open_core(&a.core)?;
    let heap = Heap::new(&opened.process, &opened.layout);
    let tables = Tables::new(&opened.snapshot, &heap, opened.identity.dump_id())
        .with_runtime(opened.python.runtime, opened.process.core().threads())
        .redact(a.privacy.redact)
        .only(sql::columns_named(&statement));
    let mut df = phase("running the query", || sql::run(&statement, |kind| tables.frame(kind)))?;
    let format = match a.format {
        QueryFormat::Table => ResultFormat::Table,
        QueryFormat::Json => ResultFormat::Json,
        QueryFormat::Csv => ResultFormat::Csv,
        QueryFormat::Parquet => ResultFormat::Parquet,
    };
    match &a.output {
        Some(path) => {
            phase(format!("writing {}", path.display()), || {
                super::export::write_atomically(path, |w| Ok(sql::write_result(&mut df, format, w)?))
            })?;
        }
        None => sql::write_result(&mut df, format, out)?,
    }
    super::heap::finish(&opened, a.verbose, out)
}
