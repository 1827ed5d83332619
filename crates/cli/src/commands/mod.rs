//! One module per subcommand: open the inputs, call the libraries, write the report (through [`emit`]).

pub mod alive;
pub mod diff;
pub mod emit;
pub mod export;
pub mod garbage;
pub mod heap;
pub mod index;
pub mod info;
pub mod memory;
pub mod query;
pub mod report;
pub mod show;
pub mod stacks;
pub mod summary;
pub mod tasks;
pub mod waste;

use std::io::{Read, Write};
use std::path::Path;

use anyhow::Context;
use heapscope_coredump::{Compression, CoreProcess, OpenOptions};
use heapscope_cpython::layout::{DwarfPolicy, Layout, ResolveOptions};
use heapscope_cpython::Detection;

use crate::args::CoreArgs;
use crate::progress;

/// Opens the core with the user's sysroot and search paths (with a spinner on a terminal while a compressed core is
/// decompressed).
pub fn open_core(args: &CoreArgs) -> anyhow::Result<CoreProcess> {
    let opts = OpenOptions { sysroot: args.sysroot.clone(), search_paths: args.search_paths.clone() };
    let what = match progress::shown().then(|| compression(&args.core)).flatten() {
        Some(c) => format!("decompressing {} ({c})", args.core.display()),
        None => format!("opening {}", args.core.display()),
    };
    progress::phase(what, || CoreProcess::open(&args.core, &opts))
        .with_context(|| format!("cannot open core file {}", args.core.display()))
}

/// How the file at `path` is compressed, from its first bytes; `None` when it is not, or cannot be read (opening
/// it then says why).
fn compression(path: &Path) -> Option<Compression> {
    let mut head = Vec::with_capacity(4);
    std::fs::File::open(path).ok()?.take(4).read_to_end(&mut head).ok()?;
    Compression::detect(&head)
}

/// Opens the core and prints the problems of the core file itself (truncation, malformed notes) on stderr, so that
/// a later failure is read in their light. For commands whose report does not list them (`info` does).
pub fn open_core_reporting(args: &CoreArgs) -> anyhow::Result<CoreProcess> {
    let process = open_core(args)?;
    let mut err = std::io::stderr().lock();
    for w in process.core().warnings() {
        let _ = writeln!(err, "heapscope: warning: {w}");
    }
    Ok(process)
}

/// How the layout is resolved: DWARF is looked for in the same places as missing bytes (used only for versions
/// without a built-in table); the hidden test switch may withhold tables.
pub fn resolve_options(args: &CoreArgs) -> ResolveOptions {
    ResolveOptions {
        dwarf: DwarfPolicy::Search { sysroot: args.sysroot.clone(), search_paths: args.search_paths.clone() },
        withheld_tables: args.withheld_tables.clone(),
    }
}

/// Resolves the interpreter's layout; when no built-in table of its version stands behind it, says so on stderr,
/// whatever the output format.
pub fn resolve_layout(
    process: &CoreProcess,
    python: &Detection,
    args: &CoreArgs,
) -> Result<(Layout, Vec<String>), heapscope_cpython::Error> {
    let resolved = Layout::resolve_with(process, python, &resolve_options(args))?;
    if let Some(u) = &resolved.0.basis.unverified {
        let _ = writeln!(std::io::stderr().lock(), "heapscope: warning: {u}");
    }
    Ok(resolved)
}
