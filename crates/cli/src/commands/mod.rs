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
pub mod waste;

use std::io::Write;

use anyhow::Context;
use heapscope_coredump::{CoreProcess, OpenOptions};
use heapscope_cpython::layout::{DwarfPolicy, Layout, ResolveOptions};
use heapscope_cpython::Detection;

use crate::args::CoreArgs;

/// Opens the core with the user's sysroot and search paths.
pub fn open_core(args: &CoreArgs) -> anyhow::Result<CoreProcess> {
    let opts = OpenOptions { sysroot: args.sysroot.clone(), search_paths: args.search_paths.clone() };
    CoreProcess::open(&args.core, &opts).with_context(|| format!("cannot open core file {}", args.core.display()))
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
