//! [`Snapshot`]: every Python object of a process image, decoded once, with the graph of references between them.
//!
//! Built by [`build`] (`build.rs`):
//!
//! 1. **Seeds**: the enumeration of each interpreter ([`heapscope_cpython::heap::enumerate()`]: the objects on the GC lists and
//!    the object blocks of pymalloc's arenas) and the [roots](heapscope_cpython::heap::roots) (modules, thread frames, static
//!    types and singletons, 3.11+ static objects inside `_PyRuntime`).
//! 2. **Closure** (`discover.rs`): every object is decoded once ([`object_info`](heapscope_cpython::heap::object_info())
//!    and [`referents`](heapscope_cpython::heap::referents), every kind of reference), in parallel rounds over a frontier; a
//!    referent that is not known yet joins the next round. That is how objects outside both seeds are found: static
//!    objects in libpython's data, large (malloc'd) objects, untracked containers reachable only from C.
//! 3. **Columns** (`build.rs`): objects get dense `u32` ids in address order; each property is one `Vec`
//!    indexed by id (no allocation per object), the references become a CSR graph ([`heapscope_graph::Csr`]) with a
//!    4-byte label-and-kind word per edge, and each distinct type's name is decoded once.
//! 4. **Categories** (`categories.rs`): why each object is alive, relative to what `gc.get_objects()`
//!    would find ([`Category`]).
//!
//! Nothing that fails to decode aborts the build: an object that cannot be decoded stays in the snapshot without a
//! type, and the failure is counted ([`Snapshot::errors`]).

mod build;
mod categories;
mod columns;
mod discover;
mod edges;
mod index;
mod labels;
mod saved;

use std::sync::OnceLock;

use heapscope_coredump::Addr;
use heapscope_graph::Csr;

use heapscope_cpython::heap::roots::{RootKind, RootWhere};
use heapscope_cpython::heap::{Label, RefKind};
use heapscope_cpython::PythonVersion;

pub use build::{build, BuildOptions, CStack, Phase, Progress};
pub use categories::Category;
pub use saved::{LoadError, SavedInfo, FORMAT_VERSION};

use index::AddrIndex;
use labels::{EdgeWord, LabelTable};

/// A dense object id: `0..snapshot.len()`, in address order.
pub type ObjectId = u32;
/// An index into [`Snapshot::types`].
pub type TypeId = u32;

/// `type_ids` value of an object whose type could not be decoded.
const NO_TYPE: TypeId = u32::MAX;
/// `lens` value of an object without a length.
const NO_LEN: u64 = u64::MAX;
/// `generations` value of an object on no GC list.
const NO_GENERATION: u8 = u8::MAX;

/// Bits of the per-object `flags` column.
mod flag {
    /// `refcount` is an immortal value.
    pub const IMMORTAL: u8 = 1 << 0;
    /// `gc.is_tracked(obj)`.
    pub const GC_TRACKED: u8 = 1 << 1;
    /// The object was decoded (type, size and references are known).
    pub const DECODED: u8 = 1 << 2;
    /// Found on a GC list.
    pub const ON_GC_LIST: u8 = 1 << 3;
    /// Found among pymalloc's allocated blocks.
    pub const IN_PYMALLOC: u8 = 1 << 4;
    /// Is a root.
    pub const ROOT: u8 = 1 << 5;
    /// On the permanent generation's GC list.
    pub const PERMANENT: u8 = 1 << 6;
}

/// One object's properties, as [`Snapshot::object`] returns them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectRecord {
    /// Its address (what `id()` returned).
    pub addr: Addr,
    /// Its type, an index into [`Snapshot::types`]; `None` when the object could not be decoded.
    pub type_id: Option<TypeId>,
    /// `sys.getsizeof(obj)` (0 when not decoded).
    pub size: u64,
    /// Bytes the object really occupies: its allocation(s), pre-header and buffers included.
    pub footprint: u64,
    /// The reference count as the decoder reports it (see [`heapscope_cpython::heap::ObjectInfo::refcount`]).
    pub refcount: i64,
    /// The refcount is an immortal value (3.12+; the 3.11 static objects).
    pub immortal: bool,
    /// `gc.is_tracked(obj)`.
    pub gc_tracked: bool,
    /// `len(obj)`, for objects that have one.
    pub len: Option<u64>,
    /// The object was decoded.
    pub decoded: bool,
    /// Found on a GC list.
    pub on_gc_list: bool,
    /// Found among pymalloc's allocated blocks.
    pub in_pymalloc: bool,
    /// Why it is alive, relative to the GC's view.
    pub category: Category,
}

/// One type of the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TypeRecord {
    /// The type object.
    pub addr: Addr,
    /// `f"{t.__module__}.{t.__qualname__}"` without `builtins.`; `<type at 0x…>` when it could not be decoded.
    pub name: String,
    /// Why the name could not be decoded (e.g. an extension module's static type whose name bytes are neither in
    /// the core nor in a file at hand).
    pub name_error: Option<String>,
    /// `tp_finalize` is set: a class with `__del__`, or a C type with a finalizer (generators, coroutines, `_io`
    /// objects). A collection runs it before clearing an instance, and it may resurrect the instance.
    pub finalizer: bool,
    /// `tp_del` is set: a legacy finalizer. A collection leaves unreachable instances (and what they reach) in
    /// `gc.garbage`, uncollectable.
    pub legacy_del: bool,
}

/// A root of the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SnapshotRoot {
    /// The object.
    pub id: ObjectId,
    /// The kind of reference.
    pub kind: RootKind,
    /// Where it was found ([`heapscope_cpython::heap::roots::RootNamer`] names it).
    pub at: RootWhere,
}

/// What could not be decoded: a count, and the first few failures.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ErrorLog {
    /// Objects that could not be decoded (or whose references could not all be read).
    pub objects: u64,
    /// Other failures: roots, enumeration, type names.
    pub other: u64,
    /// The first failures, in address order for objects: `(address, cause)`.
    pub first: Vec<(Addr, String)>,
}

impl ErrorLog {
    /// Every failure counted.
    pub fn total(&self) -> u64 {
        self.objects + self.other
    }
}

/// Figures about the build.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BuildStats {
    /// Objects found on the GC lists.
    pub gc_objects: u64,
    /// Objects found among pymalloc's blocks (not on a GC list).
    pub pymalloc_objects: u64,
    /// Distinct root objects.
    pub root_objects: u64,
    /// Objects found only by following references.
    pub found_by_reference: u64,
    /// Rounds of the closure.
    pub rounds: u32,
    /// Distinct labels of references, other than positions in a sequence.
    pub labels: u64,
    /// Edges dropped because their target was not kept (object limit reached).
    pub dropped_edges: u64,
    /// Milliseconds per phase, in the order run.
    pub millis: Vec<(Phase, u64)>,
    /// Objects found by reference that were not decoded because one seed led to too many (a crafted fan-out).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skipped_by_budget: u64,
    /// References dropped because their target cannot be an object (misaligned, or in no mapping).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub refused_targets: u64,
    /// The interpreters whose GC state said a collection was running at the dump.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub collecting: Vec<Collecting>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// An interpreter whose garbage collector was running when the core was taken.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Collecting {
    /// The interpreter state's address.
    pub interpreter: Addr,
    /// Its GC state's address (`struct _gc_runtime_state`, whose `collecting` flag is set).
    pub gc_state: Addr,
    /// Allocated pymalloc blocks holding a GC object marked tracked that is on no GC list, left out of the seeds:
    /// the objects the collector had taken off the generation lists are among them (an intact core outside a
    /// collection has a few dozen such blocks too).
    pub tracked_unlisted: u64,
}

impl Collecting {
    /// What the user is told: the cause, what it means for the results, what to do.
    pub fn message(&self) -> String {
        let found = match self.tracked_unlisted {
            1 => "pymalloc's blocks hold 1 object marked tracked that is on no GC list; it was left out".to_owned(),
            n => format!(
                "pymalloc's blocks hold {n} objects marked tracked that are on no GC list, among them those being \
                 collected; they were left out"
            ),
        };
        format!(
            "the core was taken while a garbage collection was running (the interpreter at {} has `collecting` set \
             in its GC state at {}). The collector had moved the objects it was examining or freeing off the \
             generation lists, so those objects may be missing from the results ({found}), or, when found by \
             reference, counted in no generation; counts per generation, garbage and retained sizes may be off. \
             For exact figures, take the core again outside a collection",
            self.interpreter, self.gc_state
        )
    }
}

/// Every object of a process image, their properties as columns, and the reference graph.
#[derive(Debug)]
pub struct Snapshot {
    version: PythonVersion,
    index: AddrIndex,
    type_ids: Vec<TypeId>,
    sizes: Vec<u64>,
    footprints: Vec<u64>,
    refcounts: Vec<i64>,
    lens: Vec<u64>,
    flags: Vec<u8>,
    /// The GC list each object was found on: 0–2, 3 the permanent generation, [`NO_GENERATION`] none.
    generations: Vec<u8>,
    categories: Vec<Category>,
    graph: Csr,
    edges: Vec<EdgeWord>,
    labels: LabelTable,
    reverse: OnceLock<Csr>,
    types: Vec<TypeRecord>,
    roots: Vec<SnapshotRoot>,
    /// Positions in `roots`, sorted by object id (then position); built on the first [`Snapshot::roots_of`].
    roots_by_id: OnceLock<Vec<u32>>,
    interpreters: Vec<Addr>,
    errors: ErrorLog,
    warnings: Vec<String>,
    stats: BuildStats,
}

impl Snapshot {
    /// The Python version of the process.
    pub fn version(&self) -> PythonVersion {
        self.version
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when no object was found.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The id of the object at `addr`, if the snapshot has one there.
    pub fn id_of(&self, addr: Addr) -> Option<ObjectId> {
        self.index.get(addr.0)
    }

    /// The object whose bytes (`addr .. addr + sys.getsizeof`) contain `addr`, if any: for an address that points
    /// into an object rather than at it.
    pub fn containing(&self, addr: Addr) -> Option<ObjectId> {
        let i = self.index.addrs().partition_point(|&a| a <= addr.0).checked_sub(1)?;
        let start = self.index.addrs()[i];
        (addr.0 - start < self.sizes[i].max(1)).then_some(i as ObjectId)
    }

    /// The address of object `id`. Panics if `id` is not an id of this snapshot.
    pub fn addr(&self, id: ObjectId) -> Addr {
        Addr(self.index.addrs()[id as usize])
    }

    /// The properties of object `id`. Panics if `id` is not an id of this snapshot.
    pub fn object(&self, id: ObjectId) -> ObjectRecord {
        let i = id as usize;
        let f = self.flags[i];
        ObjectRecord {
            addr: self.addr(id),
            type_id: (self.type_ids[i] != NO_TYPE).then_some(self.type_ids[i]),
            size: self.sizes[i],
            footprint: self.footprints[i],
            refcount: self.refcounts[i],
            immortal: f & flag::IMMORTAL != 0,
            gc_tracked: f & flag::GC_TRACKED != 0,
            len: (self.lens[i] != NO_LEN).then_some(self.lens[i]),
            decoded: f & flag::DECODED != 0,
            on_gc_list: f & flag::ON_GC_LIST != 0,
            in_pymalloc: f & flag::IN_PYMALLOC != 0,
            category: self.categories[i],
        }
    }

    /// The type table.
    pub fn types(&self) -> &[TypeRecord] {
        &self.types
    }

    /// The name of object `id`'s type (`"?"` when it could not be decoded).
    pub fn type_name(&self, id: ObjectId) -> &str {
        match self.types.get(self.type_ids[id as usize] as usize) {
            Some(t) => &t.name,
            None => "?",
        }
    }

    /// Columns for whole-heap passes: each object's type id ([`u32::MAX`] when undecoded), `sys.getsizeof` and
    /// footprint, indexed by id.
    pub fn columns(&self) -> (&[TypeId], &[u64], &[u64]) {
        (&self.type_ids, &self.sizes, &self.footprints)
    }

    /// Each object's reference count as the decoder reports it, indexed by id.
    pub fn refcounts(&self) -> &[i64] {
        &self.refcounts
    }

    /// True when object `id`'s refcount is an immortal value. Panics if `id` is not an id of this snapshot.
    pub fn is_immortal(&self, id: ObjectId) -> bool {
        self.flags[id as usize] & flag::IMMORTAL != 0
    }

    /// True when object `id` is tracked by the GC (`gc.is_tracked`). Panics if `id` is not an id of this snapshot.
    pub fn is_gc_tracked(&self, id: ObjectId) -> bool {
        self.flags[id as usize] & flag::GC_TRACKED != 0
    }

    /// True when object `id` is in the permanent generation (`gc.freeze()`). Panics if `id` is not an id of this
    /// snapshot.
    pub fn is_permanent(&self, id: ObjectId) -> bool {
        self.flags[id as usize] & flag::PERMANENT != 0
    }

    /// The generation of object `id`'s GC list: 0, 1 or 2 (3.14.0–3.14.4: young, `old[0]`, `old[1]`), or 3 for the
    /// permanent generation (`gc.freeze()`); `None` when the object is on no GC list. Panics if `id` is not an id
    /// of this snapshot.
    pub fn generation(&self, id: ObjectId) -> Option<u8> {
        let g = self.generations[id as usize];
        (g != NO_GENERATION).then_some(g)
    }

    /// The kind of edge `e` (a position in [`Snapshot::graph`]'s targets), without decoding its label.
    pub fn edge_kind(&self, e: usize) -> RefKind {
        self.edges[e].kind()
    }

    /// Each object's [`Category`], indexed by id.
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    /// Number of references.
    pub fn num_refs(&self) -> usize {
        self.graph.num_edges()
    }

    /// The references of object `id`: `(target, label, kind)`, in the order the decoder reported them.
    pub fn refs(&self, id: ObjectId) -> impl Iterator<Item = (ObjectId, Label, RefKind)> + '_ {
        let range = self.graph.edge_range(id);
        self.graph.targets()[range.clone()]
            .iter()
            .zip(&self.edges[range])
            .map(|(&t, &w)| (t, self.labels.label(w), w.kind()))
    }

    /// The objects that reference object `id`, each once, ascending, with every reference each makes to it.
    /// The reverse graph is built on the first call (a parallel counting sort over every reference).
    pub fn referrers(&self, id: ObjectId) -> impl Iterator<Item = (ObjectId, Label, RefKind)> + '_ {
        let sources = self.reverse_graph().neighbors(id);
        let mut last = None;
        sources
            .iter()
            .filter(move |&&s| last.replace(s) != Some(s))
            .flat_map(move |&s| self.refs(s).filter(move |&(t, _, _)| t == id).map(move |(_, l, k)| (s, l, k)))
    }

    /// Number of references to object `id` (parallel references counted each).
    pub fn referrer_count(&self, id: ObjectId) -> usize {
        self.reverse_graph().degree(id)
    }

    /// The reference graph (edge `e`'s label and kind: [`Snapshot::edge`]).
    pub fn graph(&self) -> &Csr {
        &self.graph
    }

    /// The reverse graph (built on first use).
    pub fn reverse_graph(&self) -> &Csr {
        self.reverse.get_or_init(|| self.graph.transpose())
    }

    /// The label and kind of edge `e` (a position in [`Snapshot::graph`]'s targets).
    pub fn edge(&self, e: usize) -> (Label, RefKind) {
        let w = self.edges[e];
        (self.labels.label(w), w.kind())
    }

    /// The roots, in the order found.
    pub fn roots(&self) -> &[SnapshotRoot] {
        &self.roots
    }

    /// The roots that hold object `id`, in the order found (a binary search in an index of the roots by object,
    /// built on the first call: a report that names the roots of many objects no longer scans every root for each).
    pub fn roots_of(&self, id: ObjectId) -> impl Iterator<Item = &SnapshotRoot> + '_ {
        let by_id = self.roots_by_id.get_or_init(|| {
            let mut order: Vec<u32> = (0..self.roots.len() as u32).collect();
            order.sort_by_key(|&i| (self.roots[i as usize].id, i));
            order
        });
        let start = by_id.partition_point(|&i| self.roots[i as usize].id < id);
        by_id[start..].iter().map(|&i| &self.roots[i as usize]).take_while(move |r| r.id == id)
    }

    /// The interpreter states the snapshot was built from.
    pub fn interpreters(&self) -> &[Addr] {
        &self.interpreters
    }

    /// What could not be decoded.
    pub fn errors(&self) -> &ErrorLog {
        &self.errors
    }

    /// Notes from the build (enumeration, limits reached).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Figures about the build.
    pub fn stats(&self) -> &BuildStats {
        &self.stats
    }

    /// Bytes of memory the snapshot holds (the reverse graph included once built).
    pub fn heap_bytes(&self) -> usize {
        let n = self.len();
        self.index.heap_bytes()
            + n * (4 + 8 + 8 + 8 + 8 + 1 + 1 + 1)
            + self.graph.heap_bytes()
            + self.edges.capacity() * 4
            + self.reverse.get().map_or(0, Csr::heap_bytes)
    }
}

#[cfg(test)]
mod tests;
