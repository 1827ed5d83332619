//! The heap as polars DataFrames: `objects`, `edges`, `types` and `roots`, one row per object, reference, type and
//! root of a [`Snapshot`], with the results of the analyses ([`heapscope_analysis`]) as columns of `objects`; and
//! the Python threads as `threads`, `frames` and `locals` (built in `threads.rs`, from the walk `stacks` makes); and
//! the asyncio tasks as `tasks`, `task_stack`, `task_awaits` and `suspended` (built in `tasks.rs`, from the search
//! `heapscope tasks` makes).
//!
//! With [`Tables::redact`], no str or bytes contents leave the process: `objects.preview` and the dict-key labels of
//! `edges.label` show their length and a hash instead ([`heapscope_cpython::objects::redacted`]).
//!
//! The schema of each table, its column types and their meaning are in `docs/tables.md`; [`TableKind::columns`]
//! lists the column names in order, and a unit test keeps the two in step.
//!
//! Every table starts with a `dump_id` column, the same value in every row of every table of one core, so that the
//! exports of many dumps can be concatenated and still told apart: the caller passes
//! [`heapscope_coredump::CoreIdentity::dump_id`], from the digest of the core's headers, notes, build-ids and
//! samples of its bytes.

use heapscope_analysis::alive::Alive;
use heapscope_analysis::cycles::live_components;
use heapscope_analysis::garbage::garbage;
use heapscope_coredump::{Addr, ProcessImage, ThreadInfo};
use heapscope_cpython::heap::roots::RootNamer;
use heapscope_cpython::objects::{Heap, PreviewOptions};
use heapscope_graph::dominators::{UNREACHABLE, VIRTUAL_ROOT};
use heapscope_graph::reach::NodeSet;
use heapscope_snapshot::{Category, ObjectId, ObjectRecord, Snapshot};
use polars::prelude::*;
use rayon::prelude::*;

use crate::alive::root_kind_name;
use crate::show::{kind_name, label_text_with};
use crate::stacks::PythonThreads;

mod tasks;
mod threads;

/// What can go wrong building a table.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TablesError {
    /// The dominator tree could not be computed (too many objects for the graph's ids).
    #[error("cannot compute the dominator tree: {0}")]
    Graph(#[from] heapscope_graph::GraphError),
    /// polars refused a column or could not write a file.
    #[error(transparent)]
    Polars(#[from] PolarsError),
}

/// One of the tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableKind {
    /// One row per object, with the analyses' results.
    Objects,
    /// One row per reference.
    Edges,
    /// One row per type object.
    Types,
    /// One row per root.
    Roots,
    /// One row per Python thread.
    Threads,
    /// One row per frame of a Python thread.
    Frames,
    /// One row per local variable of a frame.
    Locals,
    /// One row per pending asyncio task.
    Tasks,
    /// One row per coroutine of a task's stack.
    TaskStack,
    /// One row per await between tasks.
    TaskAwaits,
    /// One row per suspended generator, coroutine or async generator.
    Suspended,
}

impl TableKind {
    /// Every table, in the order `export` writes them.
    pub const ALL: [TableKind; 11] = [
        TableKind::Objects,
        TableKind::Edges,
        TableKind::Types,
        TableKind::Roots,
        TableKind::Threads,
        TableKind::Frames,
        TableKind::Locals,
        TableKind::Tasks,
        TableKind::TaskStack,
        TableKind::TaskAwaits,
        TableKind::Suspended,
    ];

    /// The table's name (also its file name without the extension).
    pub fn name(self) -> &'static str {
        match self {
            TableKind::Objects => "objects",
            TableKind::Edges => "edges",
            TableKind::Types => "types",
            TableKind::Roots => "roots",
            TableKind::Threads => "threads",
            TableKind::Frames => "frames",
            TableKind::Locals => "locals",
            TableKind::Tasks => "tasks",
            TableKind::TaskStack => "task_stack",
            TableKind::TaskAwaits => "task_awaits",
            TableKind::Suspended => "suspended",
        }
    }

    /// The table named `name`.
    pub fn from_name(name: &str) -> Option<TableKind> {
        TableKind::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The table's columns, in order.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            TableKind::Objects => &[
                "dump_id",
                "id",
                "address",
                "type_id",
                "type",
                "size",
                "footprint",
                "refcount",
                "immortal",
                "gc_tracked",
                "generation",
                "length",
                "category",
                "retained_count",
                "retained_bytes",
                "retained_footprint",
                "idom",
                "depth",
                "scc",
                "garbage",
                "freed",
                "refcount_excess",
                "preview",
            ],
            TableKind::Edges => &["dump_id", "src", "dst", "kind", "label"],
            TableKind::Types => &["dump_id", "type_id", "address", "name", "count", "bytes", "footprint"],
            TableKind::Roots => &["dump_id", "id", "kind", "description", "function", "local", "thread"],
            TableKind::Threads => &[
                "dump_id",
                "thread",
                "ident",
                "tid",
                "tid_source",
                "name",
                "interpreter",
                "holds_gil",
                "tstate",
                "frames",
                "incomplete",
                "error",
            ],
            TableKind::Frames => &[
                "dump_id",
                "thread",
                "depth",
                "function",
                "qualname",
                "file",
                "line",
                "firstlineno",
                "code",
                "address",
                "error",
            ],
            TableKind::Locals => &["dump_id", "thread", "depth", "name", "id", "address"],
            TableKind::Tasks => &[
                "dump_id",
                "address",
                "id",
                "type",
                "name",
                "state",
                "coro",
                "stack_depth",
                "function",
                "file",
                "line",
                "awaits",
                "awaited_by",
                "loop",
                "thread",
            ],
            TableKind::TaskStack => &["dump_id", "task", "depth", "function", "file", "line"],
            TableKind::TaskAwaits => &["dump_id", "task", "awaits"],
            TableKind::Suspended => &["dump_id", "address", "id", "kind", "state", "function", "file", "line", "task"],
        }
    }
}

/// Builds the tables of one snapshot. `heap` decodes the labels of references and previews, names the roots and
/// walks the threads' stacks.
#[derive(Debug)]
pub struct Tables<'s, 'h, 'p, P: ProcessImage + ?Sized> {
    snap: &'s Snapshot,
    heap: &'h Heap<'p, P>,
    dump_id: u64,
    redact: bool,
    runtime: Option<(Addr, Vec<ThreadInfo>)>,
    /// The threads, walked once for `threads`, `frames` and `locals`.
    threads: std::sync::OnceLock<PythonThreads>,
    /// The asyncio tasks, found once for `tasks`, `task_stack`, `task_awaits` and `suspended`.
    tasks: std::sync::OnceLock<Result<crate::tasks::TasksReport, String>>,
    /// When set, the only columns built (with `dump_id` and the ids, always): see [`Tables::only`].
    only: Option<Vec<String>>,
}

impl<'s, 'h, 'p, P: ProcessImage + Sync + ?Sized> Tables<'s, 'h, 'p, P> {
    /// The tables of `snap`, every row tagged with `dump_id`.
    pub fn new(snap: &'s Snapshot, heap: &'h Heap<'p, P>, dump_id: u64) -> Self {
        Tables {
            snap,
            heap,
            dump_id,
            redact: false,
            runtime: None,
            threads: std::sync::OnceLock::new(),
            tasks: std::sync::OnceLock::new(),
            only: None,
        }
    }

    /// Keeps str and bytes contents out of `objects.preview` and `edges.label` (see the module documentation).
    pub fn redact(mut self, redact: bool) -> Self {
        self.redact = redact;
        self
    }

    /// Where the thread tables start: `_PyRuntime` at `runtime` (`Detection::runtime`), and the core's threads
    /// (`CoreFile::threads`), which give the kernel tid of a thread whose state does not record it (≤3.10).
    /// Without it, `_PyRuntime` is found again from the process's symbols, and such tids are null.
    pub fn with_runtime(mut self, runtime: Addr, core_threads: &[ThreadInfo]) -> Self {
        self.runtime = Some((runtime, core_threads.to_vec()));
        self
    }

    /// Builds only the columns named in `names` (lower case; `None`: all) of `objects` and `edges`, whose other
    /// columns cost time: the analyses, previews and labels. `dump_id`, `id`, `src` and `dst` are always built.
    pub fn only(mut self, names: Option<Vec<String>>) -> Self {
        self.only = names;
        self
    }

    /// True when column `name` is to be built.
    fn wants(&self, name: &str) -> bool {
        self.only.as_ref().is_none_or(|names| names.iter().any(|n| n == name))
    }

    /// Builds table `kind`.
    pub fn frame(&self, kind: TableKind) -> Result<DataFrame, TablesError> {
        match kind {
            TableKind::Objects => self.objects(),
            TableKind::Edges => self.edges(),
            TableKind::Types => Ok(self.types()?),
            TableKind::Roots => Ok(self.roots()?),
            TableKind::Threads => Ok(self.threads()?),
            TableKind::Frames => Ok(self.frames()?),
            TableKind::Locals => Ok(self.locals()?),
            TableKind::Tasks => Ok(self.tasks()?),
            TableKind::TaskStack => Ok(self.task_stack()?),
            TableKind::TaskAwaits => Ok(self.task_awaits()?),
            TableKind::Suspended => Ok(self.suspended()?),
        }
    }

    fn dump_id(&self, rows: usize) -> Column {
        Column::new_scalar("dump_id".into(), Scalar::from(self.dump_id), rows)
    }

    /// `objects`: the columns of the snapshot, then what the analyses say of each object.
    pub fn objects(&self) -> Result<DataFrame, TablesError> {
        let s = self.snap;
        let n = s.len();
        // The analyses first, each dropped once its columns are made, so that their working memory and the
        // snapshot's columns are not held at once.
        let mut analysed = Vec::new();
        let needs_alive = ["retained_count", "retained_bytes", "retained_footprint", "idom", "depth", "scc"]
            .iter()
            .chain(&["refcount_excess"])
            .any(|c| self.wants(c));
        if needs_alive {
            let alive = Alive::new(s)?;
            let retained = alive.retained();
            let idom = alive.dominators().idom().iter().map(|&d| (d != VIRTUAL_ROOT && d != UNREACHABLE).then_some(d));
            let sccs = self.wants("scc").then(|| live_components(&alive));
            analysed = vec![
                col_u32("retained_count", retained.count().to_vec()),
                col_u64("retained_bytes", retained.bytes().to_vec()),
                col_u64("retained_footprint", retained.footprint().to_vec()),
                named::<UInt32Type>("idom", idom.collect()),
                named::<UInt32Type>(
                    "depth",
                    alive.tree().depths().iter().map(|&d| (d != UNREACHABLE).then_some(d)).collect(),
                ),
                col_u64("refcount_excess", alive.excess().to_vec()),
            ];
            if let Some(sccs) = sccs {
                analysed.push(col_u32("scc", sccs.components().to_vec()));
            }
        }
        if self.wants("garbage") || self.wants("freed") {
            let g = garbage(s);
            let flags = |set: &[ObjectId]| {
                let mut bits = NodeSet::new(n);
                for &id in set {
                    bits.insert(id);
                }
                (0..n as ObjectId).map(|id| bits.contains(id)).collect::<BooleanChunked>()
            };
            analysed.push(named("garbage", flags(&g.unreachable)));
            analysed.push(named("freed", flags(&g.freed)));
        }
        let (type_ids, sizes, footprints) = s.columns();
        let types = s.types();
        let each = |f: &(dyn Fn(ObjectRecord) -> bool + Sync)| -> BooleanChunked {
            (0..n as ObjectId).map(|id| f(s.object(id))).collect()
        };
        // Each column is built only when wanted (`Tables::only`): a query that groups by type pays for two.
        type Build<'a> = Box<dyn Fn() -> Column + 'a>;
        let cheap: Vec<(&str, Build)> = vec![
            ("dump_id", Box::new(|| self.dump_id(n))),
            ("id", Box::new(|| col_u32("id", (0..n as ObjectId).collect()))),
            ("address", Box::new(|| col_u64("address", (0..n as ObjectId).map(|id| s.addr(id).0).collect()))),
            (
                "type_id",
                Box::new(|| {
                    named::<UInt32Type>(
                        "type_id",
                        type_ids.iter().map(|&t| ((t as usize) < types.len()).then_some(t)).collect(),
                    )
                }),
            ),
            (
                "type",
                Box::new(|| {
                    let names: Vec<&str> = types.iter().map(|t| t.name.as_str()).collect();
                    col_names("type", &names, type_ids)
                }),
            ),
            ("size", Box::new(|| col_u64("size", sizes.to_vec()))),
            ("footprint", Box::new(|| col_u64("footprint", footprints.to_vec()))),
            ("refcount", Box::new(|| Column::new("refcount".into(), s.refcounts()))),
            ("immortal", Box::new(|| named("immortal", each(&|r| r.immortal)))),
            ("gc_tracked", Box::new(|| named("gc_tracked", each(&|r| r.gc_tracked)))),
            (
                "generation",
                Box::new(|| {
                    named::<UInt32Type>(
                        "generation",
                        (0..n as ObjectId).map(|id| s.generation(id).map(u32::from)).collect(),
                    )
                }),
            ),
            (
                "length",
                Box::new(|| named::<UInt64Type>("length", (0..n as ObjectId).map(|id| s.object(id).len).collect())),
            ),
            (
                "category",
                Box::new(|| {
                    let names: Vec<&str> = Category::ALL.iter().map(|c| c.name()).collect();
                    let ids: Vec<u32> = s.categories().iter().map(|&c| c as u32).collect();
                    col_names("category", &names, &ids)
                }),
            ),
        ];
        let mut columns: Vec<Column> = cheap
            .iter()
            .filter(|(name, _)| self.wants(name) || ["dump_id", "id"].contains(name))
            .map(|(_, build)| build())
            .collect();
        columns.extend(analysed);
        if self.wants("preview") {
            // The preview `show` prints, decoded in parallel.
            let opts = PreviewOptions { redact: self.redact, ..PreviewOptions::default() };
            let previews: Vec<String> = (0..n as ObjectId)
                .into_par_iter()
                .with_min_len(1 << 10)
                .map(|id| self.heap.preview(s.addr(id), &opts))
                .collect();
            columns.push(Column::new("preview".into(), previews));
        }
        // Keep the documented order; drop what was not asked for (the cheap columns are built regardless).
        let order = TableKind::Objects.columns();
        columns.retain(|c| c.len() == n && (self.wants(c.name()) || ["dump_id", "id"].contains(&c.name().as_str())));
        columns.sort_by_key(|c| order.iter().position(|o| *o == c.name().as_str()));
        Ok(DataFrame::new(n, columns)?)
    }

    /// `edges`: every reference, grouped by source in id order, each source's in the order the decoder reported
    /// them. Labels are decoded in parallel, each once per reference.
    pub fn edges(&self) -> Result<DataFrame, TablesError> {
        let s = self.snap;
        let g = s.graph();
        let m = s.num_refs();
        let mut src = Vec::with_capacity(m);
        for id in 0..s.len() as ObjectId {
            src.extend(std::iter::repeat_n(id, g.edge_range(id).len()));
        }
        let kinds: Vec<&str> = (0..m).into_par_iter().map(|e| kind_name(s.edge_kind(e))).collect();
        let labels: Option<Vec<String>> = self.wants("label").then(|| {
            (0..m)
                .into_par_iter()
                .with_min_len(1 << 12)
                .map(|e| label_text_with(self.heap, s.addr(src[e]), s.edge(e).0, self.redact))
                .collect()
        });
        let mut columns = vec![
            self.dump_id(m),
            col_u32("src", src),
            col_u32("dst", g.targets().to_vec()),
            Column::new("kind".into(), kinds),
        ];
        if let Some(labels) = labels {
            columns.push(Column::new("label".into(), labels));
        }
        Ok(DataFrame::new(m, columns)?)
    }

    /// `types`: every type object of the snapshot, with the count and sizes of its instances (0 for a type
    /// without any).
    pub fn types(&self) -> PolarsResult<DataFrame> {
        let s = self.snap;
        let types = s.types();
        let (type_ids, sizes, footprints) = s.columns();
        let mut count = vec![0u64; types.len()];
        let mut bytes = vec![0u64; types.len()];
        let mut footprint = vec![0u64; types.len()];
        for (i, &t) in type_ids.iter().enumerate() {
            if let Some(c) = count.get_mut(t as usize) {
                *c += 1;
                bytes[t as usize] = bytes[t as usize].saturating_add(sizes[i]);
                footprint[t as usize] = footprint[t as usize].saturating_add(footprints[i]);
            }
        }
        let rows = types.len();
        let columns = vec![
            self.dump_id(rows),
            col_u32("type_id", (0..rows as u32).collect()),
            col_u64("address", types.iter().map(|t| t.addr.0).collect()),
            Column::new("name".into(), types.iter().map(|t| t.name.as_str()).collect::<Vec<_>>()),
            col_u64("count", count),
            col_u64("bytes", bytes),
            col_u64("footprint", footprint),
        ];
        DataFrame::new(rows, columns)
    }

    /// `roots`: every root in the order found, named by [`RootNamer`].
    pub fn roots(&self) -> PolarsResult<DataFrame> {
        let s = self.snap;
        let namer = RootNamer::new(self.heap, s.interpreters());
        let described: Vec<_> = s.roots().iter().map(|r| namer.describe(r.kind, &r.at)).collect();
        let rows = described.len();
        let columns = vec![
            self.dump_id(rows),
            col_u32("id", s.roots().iter().map(|r| r.id).collect()),
            Column::new("kind".into(), s.roots().iter().map(|r| root_kind_name(r.kind)).collect::<Vec<_>>()),
            Column::new("description".into(), described.iter().map(|d| d.text.as_str()).collect::<Vec<_>>()),
            Column::new("function".into(), described.iter().map(|d| d.function.as_deref()).collect::<Vec<_>>()),
            Column::new("local".into(), described.iter().map(|d| d.local.as_deref()).collect::<Vec<_>>()),
            Column::new("thread".into(), described.iter().map(|d| d.thread.as_deref()).collect::<Vec<_>>()),
        ];
        DataFrame::new(rows, columns)
    }
}

fn named<T: PolarsDataType>(name: &str, values: ChunkedArray<T>) -> Column
where
    ChunkedArray<T>: IntoSeries,
{
    values.with_name(name.into()).into_column()
}

/// A string column whose row `i` is `names[ids[i]]`, null where `ids[i]` is past the names: the few distinct
/// strings are made once and gathered by index, not copied row by row (at 10 M rows, the row-by-row column of type
/// names cost more than the query that grouped it).
fn col_names(name: &str, names: &[&str], ids: &[u32]) -> Column {
    let dict = Series::new(name.into(), names);
    let limit = names.len() as u64;
    let idx: IdxCa = if ids.iter().all(|&i| u64::from(i) < limit) {
        IdxCa::from_vec("".into(), ids.iter().map(|&i| i as IdxSize).collect())
    } else {
        ids.iter().map(|&i| (u64::from(i) < limit).then_some(i as IdxSize)).collect()
    };
    match dict.take(&idx) {
        Ok(taken) => taken.into_column(),
        Err(_) => {
            Column::new(name.into(), ids.iter().map(|&i| names.get(i as usize).copied()).collect::<Vec<Option<&str>>>())
        }
    }
}

fn col_u32(name: &str, v: Vec<u32>) -> Column {
    UInt32Chunked::from_vec(name.into(), v).into_column()
}

fn col_u64(name: &str, v: Vec<u64>) -> Column {
    UInt64Chunked::from_vec(name.into(), v).into_column()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_columns_are_the_columns() {
        let doc = include_str!("../../../docs/tables.md");
        for t in TableKind::ALL {
            for c in t.columns() {
                assert!(doc.contains(&format!("| `{c}` |")), "docs/tables.md: no row for {}.{c}", t.name());
            }
        }
    }
}
