//! One module per subcommand: open the inputs, call the libraries, write the report.

pub mod info;

use anyhow::Context;
use heapscope_coredump::{CoreProcess, OpenOptions};

use crate::args::CoreArgs;

/// Opens the core with the user's sysroot and search paths.
pub fn open_core(args: &CoreArgs) -> anyhow::Result<CoreProcess> {
    let opts = OpenOptions { sysroot: args.sysroot.clone(), search_paths: args.search_paths.clone() };
    CoreProcess::open(&args.core, &opts).with_context(|| format!("cannot open core file {}", args.core.display()))
}
