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

    /// Show no progress. Progress (a line on stderr naming the step, with counts and a rate where they are known)
    /// appears only for steps that last over a second, and only when stderr is a terminal: never on a pipe or in a
    /// file, nor when CI is set or TERM=dumb. Warnings and errors are printed all the same.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// Follow at most N thread states per interpreter. Every thread's frames and roots are read, so
    /// the limit keeps a corrupt core's endless thread list from making a command run for hours; raise it for a
    /// process that really had more threads (a warning says when the list went on).
    #[arg(long, value_name = "N", global = true, default_value_t = heapscope_cpython::runtime::MAX_THREADS)]
    pub max_threads: usize,

    /// Follow at most N interpreters; raise it for a process with more sub-interpreters (a warning
    /// says when the list went on).
    #[arg(long, value_name = "N", global = true, default_value_t = heapscope_cpython::runtime::MAX_INTERPRETERS)]
    pub max_interpreters: usize,

    // TEST ONLY, hidden from --help: show progress after MS milliseconds instead of a second, so that the end-to-end
    // tests can check that even a step's immediate progress never reaches a pipe.
    #[arg(long = "test-progress-delay", value_name = "MS", global = true, hide = true)]
    pub progress_delay_ms: Option<u64>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// What a core file is: the process, its threads, its mapped objects, the Python version and runtime.
    Info(InfoArgs),
    /// Every thread's Python stack, most recent call last, with the locals of each frame on request.
    Stacks(StacksArgs),
    /// The heap's type histogram: objects, sys.getsizeof bytes and footprint per type, largest first.
    Summary(SummaryArgs),
    /// One object: type, sizes, refcount, length, preview, and what it references and what references it.
    Show(ObjectArgs),
    /// What one object references, with labels (`[0]`, `.attr`, `['key']`) and previews.
    #[command(mut_arg("limit", |a| a.help("Most referents listed, in the object's order (a list's or tuple's from [0])")))]
    Refs(ObjectArgs),
    /// What references one object, with labels and previews.
    #[command(mut_arg("limit", |a| a.help("Most referrers listed, the roots that hold the object first")))]
    Referrers(ObjectArgs),
    /// What gc.collect() would free if it ran at the moment of the dump: the unreachable objects and what only they
    /// hold.
    Garbage(GarbageArgs),
    /// What one object retains: the objects that would be freed if it were gone (its dominator subtree).
    #[command(mut_arg("limit", |a| a.hide(true)))]
    Retained(ObjectArgs),
    /// Every pending asyncio task: where its coroutines are suspended, what it awaits, and what each group of tasks
    /// stuck at the same place holds; then every suspended generator and coroutine.
    ///
    /// Tasks are grouped by their stack (functions and lines), largest first by the bytes the group retains as a
    /// whole. Works on any CPython 3.8+ core, whatever thread the loop runs in.
    Tasks(TasksArgs),
    /// The biggest owners: the tops of the dominator tree by retained size, optionally as a tree.
    Top(TopArgs),
    /// How an object stays alive: its shortest paths from a root, labelled the Python way.
    Path(PathArgs),
    /// What leaked: objects held from outside the heap (refcount excess), and the owners of most of the memory.
    Leaks(LeaksArgs),
    /// Reference cycles, live or garbage, largest first.
    Cycles(CyclesArgs),
    /// What changed between two dumps of one process: growth by type and by owner, new objects that survive, freed
    /// ones. Objects are matched by address and type, confirmed by their path from a root, since freed addresses are
    /// reused.
    Diff(DiffArgs),
    /// What to change to use less memory: duplicate values, sparse containers, classes that want __slots__, lists
    /// of boxed numbers, dicts used as records; each with the bytes it would save, the evidence and the change.
    Waste(WasteArgs),
    /// Where the memory went: the core's mappings by kind (pymalloc arenas, brk heap, anonymous, thread stacks,
    /// mapped files), pymalloc's arenas, pools and blocks by size class (as `sys._debugmallocstats()` prints them),
    /// and the arenas' bytes split into objects, other blocks, allocator overhead and free space.
    Memory(MemoryArgs),
    /// Decode the heap once and save it (the snapshot) beside the core, so that every later command on this core
    /// starts at once; the next commands find it by themselves and check it is of this core.
    Index(IndexArgs),
    /// SQL over the heap's tables (objects, edges, types, roots, …; docs/tables.md), with polars SQL.
    ///
    /// Example: heapscope query CORE 'SELECT type, count(*) AS n, sum(size) AS bytes FROM objects GROUP BY type
    /// ORDER BY bytes DESC LIMIT 10'
    Query(QueryArgs),
    /// Every finding on one page: process, memory by type, biggest owners, leak suspects with their paths drawn,
    /// leak roots, garbage and cycles, thread stacks. A self-contained HTML file (nothing is fetched when it is
    /// opened), or GitHub-flavoured Markdown for a ticket.
    ///
    /// Example: heapscope report CORE -o report.html
    Report(ReportArgs),
    /// Write the heap as tables (objects, edges, types, roots), one file per table, for pandas, polars, DuckDB or
    /// Spark. docs/tables.md describes the columns.
    Export(ExportArgs),
}

/// Where the core is and where the binaries it mapped can be found.
#[derive(Debug, Clone, Args)]
pub struct CoreArgs {
    /// The core file (from gcore, the kernel, or `coredumpctl dump`).
    ///
    /// Compressed cores (.zst as written by systemd-coredump, .lz4, .gz; detected by content) are decompressed
    /// into an unlinked temporary file in $TMPDIR first: that costs temporary disk space equal to the
    /// uncompressed core, and the time to decompress it, but no extra memory. Decompression is one stream on one
    /// thread (a zstd, lz4 or gzip frame cannot be split): about 1.3 GB/s for zstd; a 458 MiB core compressed to 43
    /// MiB adds 0.45 s to `summary`'s 2.4 s.
    pub core: PathBuf,

    /// Directory that stands for the dumped machine's root: a mapped file `/usr/lib/x.so` is looked for at
    /// `DIR/usr/lib/x.so`. Used for bytes missing from the core and, for a Python version without a built-in layout
    /// table, to find the interpreter's DWARF: its separate debug file `DIR/usr/lib/debug/.build-id/xx/yyyy.debug`,
    /// or an unstripped copy. A file is used when its build-id matches the one in the core, and unverified (with a
    /// warning) when the core lacks that object's ELF header. Default: the paths as they are on this machine.
    #[arg(long, value_name = "DIR", value_parser = parse_sysroot)]
    pub sysroot: Option<PathBuf>,

    /// Directory searched (by file name) for mapped files that are not found under the sysroot. Repeatable.
    #[arg(long = "search-path", value_name = "DIR", value_parser = parse_search_path)]
    pub search_paths: Vec<PathBuf>,

    /// Heap commands: read the saved snapshot of the core from FILE (as `heapscope index CORE -o FILE` wrote it)
    /// instead of looking for it beside the core (`CORE.heapscope`) and in the cache directory
    /// (`$XDG_CACHE_HOME/heapscope`, else `~/.cache/heapscope`). A snapshot of another core, of another format
    /// version, or damaged is never used: the core is decoded again and the snapshot saved anew.
    #[arg(long, value_name = "FILE", conflicts_with = "no_cache")]
    pub snapshot: Option<PathBuf>,

    /// Heap commands: decode the core even when a saved snapshot of it exists, and save none.
    #[arg(long)]
    pub no_cache: bool,

    // TEST ONLY, hidden from --help: act as if heapscope had no built-in layout table KEY (`3.12`, `3.14.5`: the
    // keys of `heapscope_cpython::layout::TABLES`), so that the end-to-end tests can run the fallbacks for versions
    // without a table (DWARF; the newest table with `_Py_DebugOffsets`) on the fixture cores. Repeatable. Not for
    // users: it only ever makes heapscope know less.
    #[arg(long = "test-withhold-table", value_name = "KEY", hide = true)]
    pub withheld_tables: Vec<String>,
}

/// Output formats of reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned text for a person.
    Table,
    /// JSON for programs.
    Json,
    /// A Graphviz digraph (`path` and `cycles` only): render it with `dot -Tsvg`.
    Dot,
    /// GitHub-flavoured Markdown, for a ticket (`diff` only; `report` has its own --format md).
    Md,
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
    /// (built-in table; for a version without one, the DWARF of the interpreter binary found via --sysroot or
    /// --search-path, or from 3.13 on the newest table; _Py_DebugOffsets of 3.13+ over either).
    #[arg(long)]
    pub layout: bool,
}

/// `heapscope stacks`.
#[derive(Debug, Args)]
pub struct StacksArgs {
    /// The core and its binaries.
    #[command(flatten)]
    pub core: CoreArgs,

    /// Show each frame's local variables (module frames: the module's globals). A value that cannot be read is
    /// shown as <unreadable ADDRESS: cause>, counted in a warning, and makes the exit status 2 (as any part of the
    /// stacks that cannot be decoded), e.g. when the core lacks the binaries' pages and --sysroot is not given.
    #[arg(long)]
    pub locals: bool,

    /// --redact.
    #[command(flatten)]
    pub privacy: Privacy,

    /// Most frames shown per thread, innermost first; the outer frames past N are counted ("… M more frames not
    /// shown"), which is no error.
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_depth: u32,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// What every heap command shares: the core, output format, and diagnostics.
#[derive(Debug, Args)]
pub struct HeapArgs {
    /// The core and its binaries.
    #[command(flatten)]
    pub core: CoreArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// List on stderr the objects that could not be decoded, and every warning.
    #[arg(long, short)]
    pub verbose: bool,
}

/// `heapscope summary`.
#[derive(Debug, Args)]
pub struct SummaryArgs {
    /// The core, format and diagnostics.
    #[command(flatten)]
    pub heap: HeapArgs,

    /// Show only the N types with the largest footprint.
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
}

/// `heapscope tasks`.
#[derive(Debug, Args)]
pub struct TasksArgs {
    /// The core, format (table, json, dot: the await graph) and diagnostics.
    #[command(flatten)]
    pub heap: HeapArgs,

    /// Print the await tree (like `python -m asyncio pstree`) instead of the list of tasks.
    #[arg(long)]
    pub tree: bool,

    /// Show each coroutine frame's local variables, as `stacks --locals` does.
    #[arg(long)]
    pub locals: bool,

    /// --redact.
    #[command(flatten)]
    pub privacy: Privacy,
}

/// `heapscope garbage`.
#[derive(Debug, Args)]
pub struct GarbageArgs {
    /// The core, format and diagnostics.
    #[command(flatten)]
    pub heap: HeapArgs,
}

/// What `top` orders by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TopBy {
    /// Bytes retained (the object and everything only it keeps alive).
    Retained,
    /// The object's own sys.getsizeof.
    Size,
    /// Objects retained.
    Count,
}

/// `heapscope top`.
#[derive(Debug, Args)]
pub struct TopArgs {
    /// The core, format and diagnostics.
    #[command(flatten)]
    pub heap: HeapArgs,

    /// --redact.
    #[command(flatten)]
    pub privacy: Privacy,

    /// What to order by.
    #[arg(long, value_enum, default_value_t = TopBy::Retained)]
    pub by: TopBy,

    /// Only objects of this type (`dict`, `__main__.Node`), wherever they are in the tree.
    #[arg(long = "type", value_name = "T")]
    pub type_name: Option<String>,

    /// Show the dominator tree below each owner, N levels deep.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub depth: usize,

    /// Owners listed (and children per owner).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: usize,
}

/// `heapscope path`.
#[derive(Debug, Args)]
pub struct PathArgs {
    /// The core, format and diagnostics.
    #[command(flatten)]
    pub heap: HeapArgs,

    /// --redact.
    #[command(flatten)]
    pub privacy: Privacy,

    /// The object's address: hex (`0x7f3a…`) or decimal, as Python's `id()` prints it.
    #[arg(value_name = "ADDR", value_parser = parse_addr)]
    pub addr: u64,

    /// List up to N shortest paths (through different referrers) instead of one.
    #[arg(long = "all", value_name = "N", default_value_t = 1)]
    pub all: usize,
}

/// `heapscope cycles`.
#[derive(Debug, Args)]
pub struct CyclesArgs {
    /// The core, format and diagnostics.
    #[command(flatten)]
    pub heap: HeapArgs,

    /// --redact.
    #[command(flatten)]
    pub privacy: Privacy,

    /// Cycles listed (with --format dot: drawn), largest first.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: usize,
}

/// `heapscope leaks`.
#[derive(Debug, Args)]
pub struct LeaksArgs {
    /// The core, format and diagnostics.
    #[command(flatten)]
    pub heap: HeapArgs,

    /// --redact.
    #[command(flatten)]
    pub privacy: Privacy,

    /// A leak suspect retains more than this share of the reachable heap (0–1).
    #[arg(long, value_name = "SHARE", default_value_t = 0.1)]
    pub threshold: f64,

    /// Leak roots listed.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub limit: usize,
}

/// `heapscope waste`.
#[derive(Debug, Args)]
pub struct WasteArgs {
    /// The core, format and diagnostics.
    #[command(flatten)]
    pub heap: HeapArgs,

    /// --redact.
    #[command(flatten)]
    pub privacy: Privacy,

    /// Pieces of advice listed (and duplicate groups, sparse containers and lists examined per kind).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: usize,
}

/// `heapscope memory`.
#[derive(Debug, Args)]
pub struct MemoryArgs {
    /// The core, format and diagnostics.
    #[command(flatten)]
    pub heap: HeapArgs,
}

/// `heapscope diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The older core.
    #[arg(value_name = "OLD")]
    pub old: PathBuf,

    /// The newer core, of the same process (the same executable and Python version, or it is refused).
    #[arg(value_name = "NEW")]
    pub new: PathBuf,

    /// As for every heap command: where the dumped machine's root is (for both cores).
    #[arg(long, value_name = "DIR", value_parser = parse_sysroot)]
    pub sysroot: Option<PathBuf>,

    /// Directory searched for mapped files not found under the sysroot. Repeatable.
    #[arg(long = "search-path", value_name = "DIR", value_parser = parse_search_path)]
    pub search_paths: Vec<PathBuf>,

    /// Decode both cores even when saved snapshots of them exist, and save none.
    #[arg(long)]
    pub no_cache: bool,

    /// Output format: table, json or md (GitHub-flavoured Markdown).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Owners listed, and examples of new, freed and reused objects.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: usize,

    /// --redact.
    #[command(flatten)]
    pub privacy: Privacy,

    /// List on stderr the objects that could not be decoded, and every warning.
    #[arg(long, short)]
    pub verbose: bool,
}

/// File formats of `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Apache Parquet (zstd-compressed, typed columns).
    Parquet,
    /// CSV with a header row.
    Csv,
    /// Newline-delimited JSON: one object per row.
    Ndjson,
}

/// The tables of `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableName {
    /// One row per object, with retained sizes, dominators, cycles and garbage.
    Objects,
    /// One row per reference, with its kind and label.
    Edges,
    /// One row per type, with the count and sizes of its instances.
    Types,
    /// One row per root: what holds the heap from outside.
    Roots,
    /// One row per Python thread.
    Threads,
    /// One row per frame of a Python thread, innermost first.
    Frames,
    /// One row per local variable of a frame, with the object it holds.
    Locals,
}

/// `heapscope export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The core and its binaries.
    #[command(flatten)]
    pub core: CoreArgs,

    /// Directory to write the files into (`objects.parquet`, …); created if missing. Each file appears whole or not
    /// at all (written to a temporary file in DIR, then renamed).
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    pub dir: PathBuf,

    /// File format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Parquet)]
    pub format: ExportFormat,

    /// Tables to write, comma-separated. Default: all.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "TABLE,…")]
    pub tables: Vec<TableName>,

    /// --redact.
    #[command(flatten)]
    pub privacy: Privacy,

    /// List on stderr the objects that could not be decoded, and every warning.
    #[arg(long, short)]
    pub verbose: bool,
}

/// Output formats of `query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QueryFormat {
    /// Aligned text for a person.
    Table,
    /// A JSON array of row objects.
    Json,
    /// CSV with a header row.
    Csv,
    /// Apache Parquet (needs -o FILE).
    Parquet,
}

/// `heapscope query`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The core and its binaries.
    #[command(flatten)]
    pub core: CoreArgs,

    /// The SQL statement (polars SQL: SELECT with JOIN, GROUP BY, ORDER BY, LIMIT, window functions, …). Only the
    /// tables it names are built.
    #[arg(value_name = "SQL", required_unless_present = "file")]
    pub sql: Option<String>,

    /// Read the statement from FILE instead.
    #[arg(long, value_name = "FILE", conflicts_with = "sql")]
    pub file: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = QueryFormat::Table)]
    pub format: QueryFormat,

    /// Write the result to FILE (whole or not at all: a temporary file renamed into place) instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// --redact.
    #[command(flatten)]
    pub privacy: Privacy,

    /// List on stderr the objects that could not be decoded, and every warning.
    #[arg(long, short)]
    pub verbose: bool,
}

/// Output formats of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// One self-contained HTML page (inline CSS, JS and SVG).
    Html,
    /// GitHub-flavoured Markdown.
    Md,
}

/// `heapscope report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The core and its binaries.
    #[command(flatten)]
    pub core: CoreArgs,

    /// Write the report to FILE (whole or not at all: a temporary file renamed into place) instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,

    /// --redact.
    #[command(flatten)]
    pub privacy: Privacy,

    /// Rows per table (types, owners, leak roots, garbage types, task groups); the rest is summed in an "others" row.
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    pub top: u32,

    /// Add what grew since OLD, an earlier dump of the same process (as `heapscope diff OLD CORE` shows it). OLD is
    /// read with the same --sysroot and --search-path, and its saved snapshot is used when there is one.
    #[arg(long, value_name = "OLD")]
    pub baseline: Option<PathBuf>,

    /// List on stderr the objects that could not be decoded, and every warning.
    #[arg(long, short)]
    pub verbose: bool,
}

/// `heapscope index`.
#[derive(Debug, Args)]
pub struct IndexArgs {
    /// The core and its binaries.
    #[command(flatten)]
    pub core: CoreArgs,

    /// Where to write the snapshot. Default: `CORE.heapscope` beside the core, or, when that directory is not
    /// writable, `$XDG_CACHE_HOME/heapscope` (else `~/.cache/heapscope`), under the core's digest.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// List on stderr the objects that could not be decoded, and every warning.
    #[arg(long, short)]
    pub verbose: bool,
}

/// `--redact`, shared by every command that shows or writes object contents.
#[derive(Debug, Args)]
pub struct Privacy {
    /// Keep string and bytes contents out of the output: every str, bytes and bytearray in a preview, and every
    /// such dict key in a label, is shown as its length and a hash, `<str len=12 #3fa2c1d9>` (the hash: FNV-1a
    /// 64-bit of its UTF-8, or its bytes, the halves xored; equal values hash alike, so a guess can be confirmed).
    /// Attribute, function, file and type names stay.
    #[arg(long)]
    pub redact: bool,
}

/// `heapscope show`, `refs`, `referrers`.
#[derive(Debug, Args)]
pub struct ObjectArgs {
    /// The core, format and diagnostics.
    #[command(flatten)]
    pub heap: HeapArgs,

    /// The object's address: hex (`0x7f3a…`) or decimal, as Python's `id()` prints it.
    #[arg(value_name = "ADDR", value_parser = parse_addr)]
    pub addr: u64,

    /// Most referents listed, and most referrers (`show`).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub limit: usize,

    /// --redact.
    #[command(flatten)]
    pub privacy: Privacy,
}

/// Parses `0x…` (hex) or a decimal address.
pub fn parse_addr(s: &str) -> Result<u64, String> {
    let t = s.trim().replace('_', "");
    let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => t.parse::<u64>(),
    };
    parsed.map_err(|_| format!("{s:?} is not an address: give it in hex (0x7f3a…) or decimal, as id() prints it"))
}

/// `--sysroot DIR`: an existing, readable directory.
fn parse_sysroot(s: &str) -> Result<PathBuf, String> {
    readable_dir(s, "give a copy of the dumped machine's root (the directory holding its usr/, lib/, …)")
}

/// `--search-path DIR`: an existing, readable directory.
fn parse_search_path(s: &str) -> Result<PathBuf, String> {
    readable_dir(
        s,
        "give a directory holding the binaries the process mapped (its libpython, python, extension modules)",
    )
}

/// The path, if it names a directory that can be listed; else what is wrong with it and `what_to_give`.
fn readable_dir(s: &str, what_to_give: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(s);
    match std::fs::metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!("{s} does not exist; {what_to_give}")),
        Err(e) => Err(format!("{s} cannot be read ({e}); {what_to_give}")),
        Ok(m) if !m.is_dir() => Err(format!("{s} is a file, not a directory; {what_to_give}")),
        Ok(_) => match std::fs::read_dir(&path) {
            Ok(_) => Ok(path),
            Err(e) => Err(format!("{s} cannot be listed ({e}); {what_to_give}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::parse_addr;

    #[test]
    fn addresses_in_hex_or_decimal() {
        assert_eq!(parse_addr("0x7fff0010"), Ok(0x7fff_0010));
        assert_eq!(parse_addr("0X10"), Ok(16));
        assert_eq!(parse_addr("140737341068800"), Ok(140_737_341_068_800));
        assert!(parse_addr("7f00").is_err());
        assert!(parse_addr("0x").is_err());
        assert!(parse_addr("-1").is_err());
    }
}
