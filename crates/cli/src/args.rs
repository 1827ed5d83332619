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
    /// Every thread's Python stack, most recent call last, with the locals of each frame on request.
    Stacks(StacksArgs),
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

    /// Also show the interpreter's struct layout: every field heapscope reads, its offset and where that came from
    /// (built-in table, DWARF of the interpreter binary when --sysroot/--search-path has one with debug info,
    /// _Py_DebugOffsets of 3.13+).
    #[arg(long)]
    pub layout: bool,
}

/// `heapscope stacks`.
#[derive(Debug, Args)]
pub struct StacksArgs {
    /// The core and its binaries.
    #[command(flatten)]
    pub core: CoreArgs,

    /// Show each frame's local variables (module frames: the module's globals).
    #[arg(long)]
    pub locals: bool,

    /// Most frames shown per thread, innermost first.
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_depth: u32,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}
