//! Command-line arguments (clap derive). Validated into typed values before any work starts.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Analyse the Python heap inside a CPython core dump, offline.
#[derive(Debug, Parser)]
#[command(name = "heapscope", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// What a core file is: the process, its threads, its mapped objects, the Python version and runtime.
    Info(InfoArgs),
}

/// Where the core is and where the binaries it mapped can be found.
#[derive(Debug, Args)]
pub struct CoreArgs {
    /// The core file (from gcore, the kernel, or `coredumpctl dump`).
    ///
    /// Compressed cores (.zst as written by systemd-coredump, .lz4, .gz; detected by content) are decompressed
    /// into an unlinked temporary file in $TMPDIR first: that costs temporary disk space equal to the
    /// uncompressed core, and the time to decompress it, but no extra memory.
    pub core: PathBuf,

    /// Directory that stands for the dumped machine's root: a mapped file `/usr/lib/x.so` is looked for at
    /// `DIR/usr/lib/x.so`. Used only for bytes missing from the core, and only when the file's build-id matches.
    /// Default: the paths as they are on this machine.
    #[arg(long, value_name = "DIR")]
    pub sysroot: Option<PathBuf>,

    /// Directory searched (by file name) for mapped files that are not found under the sysroot. Repeatable.
    #[arg(long = "search-path", value_name = "DIR")]
    pub search_paths: Vec<PathBuf>,
}

/// Output formats of reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned text for a person.
    Table,
    /// JSON for programs.
    Json,
}

/// `heapscope info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The core and its binaries.
    #[command(flatten)]
    pub core: CoreArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}
