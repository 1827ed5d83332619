//! One module per subcommand: open the inputs, call the libraries, write the report.

pub mod heap;
pub mod info;
pub mod show;
pub mod stacks;
pub mod summary;

use std::io::Write;

use anyhow::Context;
use heapscope_coredump::{CoreProcess, OpenOptions};
use heapscope_cpython::layout::DwarfPolicy;

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

/// Where layout resolution may look for the interpreter's DWARF: the same places as for missing bytes.
pub fn dwarf_policy(args: &CoreArgs) -> DwarfPolicy {
    DwarfPolicy::Search { sysroot: args.sysroot.clone(), search_paths: args.search_paths.clone() }
}
