//! What the heap commands share: opening a core into a [`Snapshot`] (a saved one when it is of this core, else
//! decoded, with its progress on a terminal), and the diagnostics written after the report.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use heapscope_coredump::{BytesSource, CoreIdentity, CoreProcess, ProcessImage};
use heapscope_cpython::layout::Layout;
use heapscope_cpython::Detection;
use heapscope_snapshot::{BuildOptions, CStack, Progress, Snapshot};

use crate::args::{CoreArgs, HeapArgs};
use crate::progress;

/// A core opened and snapshotted.
pub struct Opened {
    pub process: CoreProcess,
    /// Where Python is in the process, and its version.
    pub python: Detection,
    pub layout: Layout,
    pub snapshot: Snapshot,
    /// Notes from resolving the layout.
    pub layout_warnings: Vec<String>,
    /// The core's identity (what a saved snapshot must match; `dump_id` in tables).
    pub identity: CoreIdentity,
    /// Where the snapshot came from.
    pub source: Source,
    /// Where missing binaries were looked for (`--sysroot`, `--search-path`), for messages.
    pub looked: Looked,
}

/// Where the files a core omits were looked for.
#[derive(Debug, Clone, Default)]
pub struct Looked {
    sysroot: Option<PathBuf>,
    search_paths: bool,
}

impl Looked {
    /// From the command line.
    pub fn of(args: &CoreArgs) -> Looked {
        Looked { sysroot: args.sysroot.clone(), search_paths: !args.search_paths.is_empty() }
    }
}

impl std::fmt::Display for Looked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.sysroot {
            Some(root) => write!(f, "under --sysroot {}", root.display())?,
            None => f.write_str("at the paths the core records (no --sysroot)")?,
        }
        if self.search_paths {
            f.write_str(" or in the --search-path directories")?;
        }
        Ok(())
    }
}

/// Where a command's snapshot came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Decoded from the core; no saved snapshot was looked at (none found, or `--no-cache`).
    Decoded,
    /// Read from a saved snapshot of this core: nothing was decoded.
    Saved(PathBuf),
    /// A saved snapshot was found but not used (`why`); the core was decoded and the snapshot saved again.
    Rebuilt { path: PathBuf, why: String, saved: Result<(), String> },
}

/// Opens the core, finds Python, resolves the layout, and reads the saved snapshot or builds one.
pub fn open(args: &HeapArgs) -> anyhow::Result<Opened> {
    open_core(&args.core)
}

/// [`open`] for a command without the heap commands' `--format`.
pub fn open_core(args: &CoreArgs) -> anyhow::Result<Opened> {
    let (process, python, layout, layout_warnings) = open_python(args)?;
    let identity = process.identity();
    let mut failed = None;
    if !args.no_cache {
        for path in snapshot_candidates(args, &identity) {
            let what = format!("reading the saved snapshot {}", path.display());
            match progress::phase(what, || Snapshot::load(&path, &identity)) {
                Ok((snapshot, _)) => {
                    let source = Source::Saved(path);
                    report_source(&source);
                    return Ok(Opened {
                        process,
                        python,
                        layout,
                        snapshot,
                        layout_warnings,
                        identity,
                        source,
                        looked: Looked::of(args),
                    });
                }
                Err(heapscope_snapshot::LoadError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    failed.get_or_insert((path, e.to_string()));
                }
            }
        }
    }
    let snapshot = decode(&process, &python, &layout)?;
    let source = match failed {
        None => Source::Decoded,
        Some((path, why)) => {
            let what = format!("saving the snapshot to {}", path.display());
            let saved = progress::phase(what, || snapshot.save(&identity, &path)).map_err(|e| e.to_string());
            Source::Rebuilt { path, why, saved }
        }
    };
    report_source(&source);
    Ok(Opened { process, python, layout, snapshot, layout_warnings, identity, source, looked: Looked::of(args) })
}

/// Opens the core, detects Python and resolves the layout: everything but the heap.
pub fn open_python(args: &CoreArgs) -> anyhow::Result<(CoreProcess, Detection, Layout, Vec<String>)> {
    let process = super::open_core_reporting(args)?;
    let python = heapscope_cpython::detect(&process)?;
    let (layout, layout_warnings) = super::resolve_layout(&process, &python, args)?;
    Ok((process, python, layout, layout_warnings))
}

/// Decodes the heap into a snapshot, with its progress on a terminal.
pub fn decode(process: &CoreProcess, python: &Detection, layout: &Layout) -> anyhow::Result<Snapshot> {
    let line = progress::Build::start();
    let report = |p: Progress| {
        if let Some(line) = &line {
            line.report(p);
        }
    };
    let opts = BuildOptions {
        c_stacks: c_stacks(process),
        memory_bytes: Some(process.core().segments().iter().map(|s| s.filesz).fold(0, u64::saturating_add)),
        progress: line.is_some().then_some(&report as _),
        ..BuildOptions::default()
    };
    let snapshot = heapscope_snapshot::build(process, python, layout, &opts);
    if let Some(line) = line {
        line.finish();
    }
    Ok(snapshot?)
}

/// Where a saved snapshot of the core is looked for, in order: `--snapshot FILE` alone when given; else beside the
/// core, then in the cache directory.
fn snapshot_candidates(args: &CoreArgs, identity: &CoreIdentity) -> Vec<PathBuf> {
    match &args.snapshot {
        Some(file) => vec![file.clone()],
        None => [Some(beside(&args.core)), cached(identity)].into_iter().flatten().collect(),
    }
}

/// `CORE.heapscope`, beside the core.
pub fn beside(core: &Path) -> PathBuf {
    let mut name = core.file_name().unwrap_or_default().to_os_string();
    name.push(".heapscope");
    core.with_file_name(name)
}

/// The snapshot's place in the user's cache directory: `$XDG_CACHE_HOME/heapscope/DIGEST.heapscope`, else under
/// `~/.cache`.
pub fn cached(identity: &CoreIdentity) -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| Path::new(d).is_absolute())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").filter(|d| !d.is_empty()).map(|h| Path::new(&h).join(".cache")))?;
    Some(base.join("heapscope").join(format!("{}.heapscope", identity.digest)))
}

/// Says on stderr where the snapshot came from, when a saved one was involved.
fn report_source(source: &Source) {
    let mut err = std::io::stderr().lock();
    let _ = match source {
        Source::Decoded => Ok(()),
        Source::Saved(path) => writeln!(err, "heapscope: snapshot read from {} (nothing decoded)", path.display()),
        Source::Rebuilt { path, why, saved: Ok(()) } => writeln!(
            err,
            "heapscope: warning: the saved snapshot was not used: {why}; the core was decoded again and the snapshot \
             saved anew to {}",
            path.display()
        ),
        Source::Rebuilt { path, why, saved: Err(e) } => writeln!(
            err,
            "heapscope: warning: the saved snapshot was not used: {why}; the core was decoded again, but the new \
             snapshot could not be saved to {}: {e}",
            path.display()
        ),
    };
}

/// Each thread's C stack (from its stack pointer to the end of the core segment that holds it) and registers.
fn c_stacks(process: &CoreProcess) -> Vec<CStack> {
    let core = process.core();
    core.threads()
        .iter()
        .filter_map(|t| {
            let sp = t.regs.sp()?;
            let seg = core.segment_at(heapscope_coredump::Addr(sp))?;
            Some(CStack {
                tid: t.tid,
                registers: t.regs.x86_64().map(|r| r.to_words().to_vec()).unwrap_or_default(),
                start: heapscope_coredump::Addr(sp & !7),
                end: seg.end(),
            })
        })
        .collect()
}

/// After the report: warnings and undecodable objects on stderr (counts, or every one with `--verbose`), then an
/// error (exit 2) if anything could not be decoded. Failures that read bytes of a mapped file the core omits, and
/// that no file on disk supplied, are one cause: they are counted together in one message that names the files and
/// says what to pass.
pub fn finish(opened: &Opened, verbose: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    out.flush()?;
    let s = &opened.snapshot;
    let mut err = std::io::stderr().lock();
    let warnings: Vec<&String> = opened.layout_warnings.iter().chain(s.warnings()).collect();
    let missing = MissingFiles::of(&opened.process);
    let (of_missing, others): (Vec<&String>, Vec<&String>) = warnings.iter().partition(|w| missing.named_in(w));
    // A collection running at the dump changes what every figure means: always said in full.
    for c in &s.stats().collecting {
        writeln!(err, "heapscope: warning: {}", c.message())?;
    }
    if verbose {
        for w in &warnings {
            writeln!(err, "heapscope: warning: {w}")?;
        }
    } else if !others.is_empty() {
        let other = if of_missing.is_empty() { "" } else { " other" };
        writeln!(err, "heapscope: {}{other} warning{} (--verbose lists them)", others.len(), plural(others.len()))?;
    }
    if verbose {
        let st = s.stats();
        let phases: Vec<String> = st.millis.iter().map(|(p, ms)| format!("{p} {:.2}s", *ms as f64 / 1000.0)).collect();
        writeln!(
            err,
            "heapscope: {} objects ({} on GC lists, {} more in pymalloc, {} found by reference; {} roots), {} \
             references, {} rounds; {}{}",
            s.len(),
            st.gc_objects,
            st.pymalloc_objects,
            st.found_by_reference,
            s.roots().len(),
            s.num_refs(),
            st.rounds,
            phases.join(", "),
            match &opened.source {
                Source::Saved(_) => " (when the saved snapshot was built)",
                _ => "",
            }
        )?;
    }
    let e = s.errors();
    if verbose && !e.first.is_empty() {
        writeln!(err, "heapscope: objects that could not be decoded (first {}):", e.first.len())?;
        for (addr, cause) in &e.first {
            writeln!(err, "  {addr}: {cause}")?;
        }
    }
    // The missing files the failures name: the cause, and what to pass.
    let named: Vec<&str> =
        missing.named_by(of_missing.iter().map(|w| w.as_str()).chain(e.first.iter().map(|(_, c)| c.as_str())));
    let cause = (!named.is_empty()).then(|| {
        format!(
            "bytes of {} are missing: the core omits them, and no file with a matching build-id was found {}; \
             pass --sysroot DIR (a copy of the dumped machine's root) or --search-path DIR (a directory holding {})",
            named.join(", "),
            opened.looked,
            if named.len() == 1 { "that file" } else { "those files" }
        )
    });
    if e.total() > 0 {
        let mut parts = Vec::new();
        if e.objects > 0 {
            parts.push(format!(
                "{} object{} could not be decoded (counted, without a type or size)",
                e.objects,
                plural(e.objects as usize)
            ));
        }
        if e.other > 0 {
            parts.push(format!(
                "{} other part{} (roots, type names) could not be read",
                e.other,
                plural(e.other as usize)
            ));
        }
        let hint = if verbose { "" } else { "; --verbose lists them" };
        let message = format!("{}{hint}", parts.join("; "));
        return Err(match cause {
            Some(cause) => anyhow!(cause).context(message),
            None => anyhow!(message),
        });
    }
    if let Some(cause) = cause {
        if !verbose {
            let n = of_missing.len();
            writeln!(err, "heapscope: warning: {n} warning{} (--verbose lists them): {cause}", plural(n))?;
        }
    }
    Ok(())
}

/// The mapped objects whose bytes the core omits and no file on disk supplied: what a failure that names one of
/// them is explained by.
struct MissingFiles {
    paths: Vec<String>,
}

impl MissingFiles {
    fn of(process: &CoreProcess) -> MissingFiles {
        let paths = process
            .objects()
            .iter()
            .filter(|o| o.source == BytesSource::Missing && o.path.is_absolute())
            .map(|o| o.path.display().to_string())
            .collect();
        MissingFiles { paths }
    }

    /// Whether `text` (a warning, the cause of a failure) names one of the files.
    fn named_in(&self, text: &str) -> bool {
        self.paths.iter().any(|p| text.contains(p.as_str()))
    }

    /// The files some of `texts` name, in the process's order.
    fn named_by<'t>(&self, texts: impl Iterator<Item = &'t str>) -> Vec<&str> {
        let texts: Vec<&str> = texts.collect();
        self.paths.iter().filter(|p| texts.iter().any(|t| t.contains(p.as_str()))).map(String::as_str).collect()
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
