//! `heapscope index CORE [-o FILE]`: decode the heap once and save the snapshot for the commands that follow.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use heapscope_coredump::CoreIdentity;
use heapscope_snapshot::Snapshot;

use super::heap::{self, Opened, Source};
use crate::args::IndexArgs;

/// Runs `index`: always decodes (a saved snapshot is replaced), saves, then says where and how big.
pub fn run(args: &IndexArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let started = Instant::now();
    let (process, python, layout, layout_warnings) = heap::open_python(&args.core)?;
    let identity = process.identity();
    let snapshot = heap::decode(&process, &python, &layout)?;
    let decoded = started.elapsed();
    let path = crate::progress::phase("saving the snapshot", || {
        save(&snapshot, &identity, &args.core.core, args.output.as_deref())
    })?;
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    writeln!(
        out,
        "saved the snapshot of {} objects and {} references to {} ({:.1} MiB; decoded in {:.2} s, saved in {:.2} s)",
        snapshot.len(),
        snapshot.num_refs(),
        path.display(),
        bytes as f64 / (1024.0 * 1024.0),
        decoded.as_secs_f64(),
        (started.elapsed() - decoded).as_secs_f64(),
    )?;
    let looked = heap::Looked::of(&args.core);
    let opened =
        Opened { process, python, layout, snapshot, layout_warnings, identity, source: Source::Decoded, looked };
    heap::finish(&opened, args.verbose, out)
}

/// Saves to `output` when given; else beside the core, or in the cache directory when that fails.
fn save(snapshot: &Snapshot, identity: &CoreIdentity, core: &Path, output: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(path) = output {
        snapshot.save(identity, path).with_context(|| format!("cannot write the snapshot to {}", path.display()))?;
        return Ok(path.to_path_buf());
    }
    let first = heap::beside(core);
    let beside_err = match snapshot.save(identity, &first) {
        Ok(()) => return Ok(first),
        Err(e) => e,
    };
    let Some(cached) = heap::cached(identity) else {
        anyhow::bail!(
            "cannot write the snapshot beside the core, to {}: {beside_err}; and no cache directory is known \
             (set XDG_CACHE_HOME or HOME), so give a place with -o FILE",
            first.display()
        );
    };
    if let Some(dir) = cached.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create the cache directory {}", dir.display()))?;
    }
    snapshot.save(identity, &cached).with_context(|| {
        format!(
            "cannot write the snapshot beside the core ({}: {beside_err}) nor to the cache ({})",
            first.display(),
            cached.display()
        )
    })?;
    Ok(cached)
}
