//! `heapscope export CORE -o DIR`: the heap's tables as files, one per table.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use heapscope_cpython::objects::Heap;
use heapscope_query::export::{write_frame, ExportFormat};
use heapscope_query::tables::{TableKind, Tables};

use crate::args::{self, ExportArgs, TableName};
use crate::progress::phase;

/// Runs `export`: checks that DIR can be written before any decoding, builds the snapshot, then writes each table.
pub fn run(a: &ExportArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let format = match a.format {
        args::ExportFormat::Parquet => ExportFormat::Parquet,
        args::ExportFormat::Csv => ExportFormat::Csv,
        args::ExportFormat::Ndjson => ExportFormat::Ndjson,
    };
    let tables = selected(&a.tables);
    check_writable(&a.dir)?;
    let opened = super::heap::open_core(&a.core)?;
    let heap = Heap::new(&opened.process, &opened.layout);
    let source = Tables::new(&opened.snapshot, &heap, opened.identity.dump_id())
        .with_runtime(opened.python.runtime, opened.process.core().threads())
        .redact(a.privacy.redact);
    for kind in tables {
        let t0 = Instant::now();
        let mut df = phase(format!("building the {} table", kind.name()), || source.frame(kind))
            .with_context(|| format!("cannot build the {} table", kind.name()))?;
        let path = a.dir.join(format!("{}.{}", kind.name(), format.extension()));
        let bytes = phase(format!("writing {}", path.display()), || {
            write_atomically(&path, |w| write_frame(&mut df, format, w).map_err(Into::into))
        })?;
        writeln!(out, "{}: {} rows, {} bytes, {:.2}s", path.display(), df.height(), bytes, t0.elapsed().as_secs_f64())?;
    }
    super::heap::finish(&opened, a.verbose, out)
}

/// The tables asked for, each once, in the order of [`TableKind::ALL`]; all when none is named.
fn selected(names: &[TableName]) -> Vec<TableKind> {
    let kind = |n: &TableName| match n {
        TableName::Objects => TableKind::Objects,
        TableName::Edges => TableKind::Edges,
        TableName::Types => TableKind::Types,
        TableName::Roots => TableKind::Roots,
        TableName::Threads => TableKind::Threads,
        TableName::Frames => TableKind::Frames,
        TableName::Locals => TableKind::Locals,
    };
    let asked: Vec<TableKind> = names.iter().map(kind).collect();
    TableKind::ALL.into_iter().filter(|t| asked.is_empty() || asked.contains(t)).collect()
}

/// Creates `dir` if needed and proves a file can be created in it, so that an unwritable destination fails in
/// milliseconds rather than after the decoding.
fn check_writable(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the output directory {}; choose another with -o", dir.display()))?;
    tempfile::Builder::new()
        .prefix(".heapscope-check.")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write into {}; choose another directory with -o", dir.display()))?;
    Ok(())
}

/// Writes `path` through a temporary file beside it, renamed over `path` once complete: a reader never sees a
/// partial file, and a failure leaves no file behind. Returns the file's size.
pub fn write_atomically(path: &Path, write: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>) -> anyhow::Result<u64> {
    let dir = path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix);
    // Like any new file (the umask applies), rather than tempfile's private 0600.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let tmp =
        builder.tempfile_in(&dir).with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, tmp);
    write(&mut w).with_context(|| format!("cannot write {}", path.display()))?;
    let tmp = w.into_inner().map_err(|e| e.into_error()).with_context(|| format!("cannot write {}", path.display()))?;
    tmp.as_file().sync_all().with_context(|| format!("cannot write {}", path.display()))?;
    let file = tmp.persist(path).with_context(|| format!("cannot rename the temporary file to {}", path.display()))?;
    Ok(file.metadata()?.len())
}
