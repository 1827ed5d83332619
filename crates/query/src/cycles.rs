//! `heapscope cycles`: reference cycles, live or garbage (see [`heapscope_analysis::cycles`]), and the DOT pictures
//! of cycles and paths (in the spirit of objgraph's `show_backrefs`).
//!
//! JSON: `{"count", "live", "garbage", "cycles": [{"size", "types": [{"type", "count"}], "bytes", "status",
//! "objects"}]}`: `count` cycles in all, the `--limit` largest listed, each with its type signature, its
//! `sys.getsizeof` total, `live` or `garbage`, and its first objects' addresses.

use std::collections::BTreeMap;
use std::io::{self, Write};

use heapscope_analysis::alive::Alive;
use heapscope_analysis::cycles::{cycles_of, live_components};
use heapscope_analysis::garbage::Garbage;
use heapscope_coredump::{Addr, ProcessImage};
use heapscope_cpython::objects::Heap;
use heapscope_graph::Sccs;
use heapscope_snapshot::{ObjectId, Snapshot};
use serde::Serialize;

use crate::alive::PathsReport;
use crate::format::count;
use crate::report::{Format, Report};
use crate::show::label_text_with;
use crate::Table;

/// Objects of one type in a cycle.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct TypeCount {
    /// The type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// How many of the cycle's objects have it.
    pub count: u64,
}

/// One cycle.
#[derive(Debug, Clone, Serialize)]
pub struct CycleRow {
    /// Objects in it.
    pub size: u64,
    /// Its type signature, most frequent type first.
    pub types: Vec<TypeCount>,
    /// `sys.getsizeof` total.
    pub bytes: u64,
    /// `live`, or `garbage` (what `gc.collect()` would free).
    pub status: &'static str,
    /// Its first objects (at most [`MAX_LISTED_MEMBERS`]), ascending.
    pub objects: Vec<Addr>,
    #[serde(skip)]
    members: Vec<ObjectId>,
}

/// Objects listed per cycle.
pub const MAX_LISTED_MEMBERS: usize = 20;

/// The type signature of `members`, most frequent type first.
pub fn signature(snap: &Snapshot, members: &[ObjectId]) -> Vec<TypeCount> {
    let mut by: BTreeMap<&str, u64> = BTreeMap::new();
    for &m in members {
        *by.entry(snap.type_name(m)).or_default() += 1;
    }
    let mut v: Vec<TypeCount> = by.into_iter().map(|(t, count)| TypeCount { type_name: t.to_owned(), count }).collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.type_name.cmp(&b.type_name)));
    v
}

/// Writes a signature as `Node×2, list`.
pub fn signature_text(types: &[TypeCount]) -> String {
    signature_text_short(types, usize::MAX)
}

/// [`signature_text`] of the `max` most frequent types, then how many more there are.
pub fn signature_text_short(types: &[TypeCount], max: usize) -> String {
    let mut s = types
        .iter()
        .take(max)
        .map(|t| if t.count == 1 { t.type_name.clone() } else { format!("{}×{}", t.type_name, t.count) })
        .collect::<Vec<_>>()
        .join(", ");
    if types.len() > max {
        s.push_str(&format!(", … ({} more types)", types.len() - max));
    }
    s
}

/// `heapscope cycles`.
#[derive(Debug, Clone, Serialize)]
pub struct CyclesReport {
    /// Cycles in all.
    pub count: u64,
    /// Of which live.
    pub live: u64,
    /// Of which garbage.
    pub garbage: u64,
    /// The largest cycles (by objects).
    pub cycles: Vec<CycleRow>,
}

impl CyclesReport {
    /// The cycles of the live references; `garbage` says which objects a collection would free.
    pub fn collect(alive: &Alive<'_>, garbage: &Garbage, limit: usize) -> CyclesReport {
        let snap = alive.snapshot();
        let sccs: Sccs = live_components(alive);
        let cycles = cycles_of(&sccs);
        let dead = |c: u32| sccs.members(c).iter().all(|m| garbage.unreachable.binary_search(m).is_ok());
        let n_garbage = cycles.iter().filter(|&&c| dead(c)).count() as u64;
        let (_, sizes, _) = snap.columns();
        let rows = cycles
            .iter()
            .take(limit)
            .map(|&c| {
                let members = sccs.members(c);
                CycleRow {
                    size: members.len() as u64,
                    types: signature(snap, members),
                    bytes: members.iter().map(|&m| sizes[m as usize]).sum(),
                    status: if dead(c) { "garbage" } else { "live" },
                    objects: members.iter().take(MAX_LISTED_MEMBERS).map(|&m| snap.addr(m)).collect(),
                    members: members.to_vec(),
                }
            })
            .collect();
        CyclesReport {
            count: cycles.len() as u64,
            live: cycles.len() as u64 - n_garbage,
            garbage: n_garbage,
            cycles: rows,
        }
    }

    /// The report with what its picture needs: the heap, to label the references, and the live references.
    pub fn drawn<'r, 'h, 's, P: ProcessImage + ?Sized>(
        &'r self,
        heap: &'r Heap<'h, P>,
        alive: &'r Alive<'s>,
        max_nodes: usize,
        redact: bool,
    ) -> DrawnCycles<'r, 'h, 's, P> {
        DrawnCycles { report: self, heap, alive, max_nodes, redact }
    }
}

impl Report for CyclesReport {
    /// Writes the report for a person.
    fn write_table(&self, w: &mut dyn Write) -> io::Result<()> {
        writeln!(
            w,
            "{} reference cycles: {} live, {} garbage. The {} largest:",
            count(self.count),
            count(self.live),
            count(self.garbage),
            self.cycles.len()
        )?;
        let mut t = Table::new(["SIZE", "BYTES", "STATUS", "FIRST", "TYPES"]);
        for c in &self.cycles {
            let first = c.objects.first().map(ToString::to_string).unwrap_or_default();
            t.row([count(c.size), count(c.bytes), c.status.to_owned(), first, signature_text_short(&c.types, 8)]);
        }
        t.write(w)
    }
}

/// What a cycle's picture shows: some of its objects and the live references among them.
#[derive(Debug, Clone)]
pub struct CycleDrawing {
    /// The objects drawn: the cycle's first ones, at most the number asked for.
    pub nodes: Vec<ObjectId>,
    /// The live references among them, each with its label written the Python way.
    pub edges: Vec<(ObjectId, ObjectId, String)>,
}

impl CycleRow {
    /// At most `max_nodes` objects of the cycle and the live references among them, labelled (dict keys as their
    /// length and hash with `redact`). The objects are the first ones a breadth-first walk from the cycle's first
    /// object meets along those references, so that a part of a large cycle is drawn connected.
    pub fn drawing<P: ProcessImage + ?Sized>(
        &self,
        heap: &Heap<'_, P>,
        alive: &Alive<'_>,
        max_nodes: usize,
        redact: bool,
    ) -> CycleDrawing {
        let snap = alive.snapshot();
        let g = snap.graph();
        // `members` is ascending: membership is a binary search.
        let mut nodes: Vec<ObjectId> = self.members.first().copied().into_iter().collect();
        let mut next = 0;
        while next < nodes.len() && nodes.len() < max_nodes {
            let m = nodes[next];
            next += 1;
            for e in g.edge_range(m) {
                let t = g.targets()[e];
                if nodes.len() < max_nodes
                    && alive.is_live_edge(e)
                    && self.members.binary_search(&t).is_ok()
                    && !nodes.contains(&t)
                {
                    nodes.push(t);
                }
            }
        }
        let mut edges = Vec::new();
        for &m in &nodes {
            for e in g.edge_range(m) {
                let t = g.targets()[e];
                if !nodes.contains(&t) || !alive.is_live_edge(e) {
                    continue;
                }
                edges.push((m, t, label_text_with(heap, snap.addr(m), snap.edge(e).0, redact)));
            }
        }
        CycleDrawing { nodes, edges }
    }
}

/// A [`CyclesReport`] that can also be drawn: its table and JSON are the report's.
pub struct DrawnCycles<'r, 'h, 's, P: ProcessImage + ?Sized> {
    report: &'r CyclesReport,
    heap: &'r Heap<'h, P>,
    alive: &'r Alive<'s>,
    max_nodes: usize,
    /// Dict-key labels as their length and hash (`--redact`).
    redact: bool,
}

impl<P: ProcessImage + ?Sized> std::fmt::Debug for DrawnCycles<'_, '_, '_, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DrawnCycles").field("report", self.report).field("max_nodes", &self.max_nodes).finish()
    }
}

impl<P: ProcessImage + ?Sized> Serialize for DrawnCycles<'_, '_, '_, P> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.report.serialize(s)
    }
}

impl<P: ProcessImage + ?Sized> Report for DrawnCycles<'_, '_, '_, P> {
    const FORMATS: &'static [Format] = &[Format::Table, Format::Json, Format::Dot];

    fn write_table(&self, w: &mut dyn Write) -> io::Result<()> {
        self.report.write_table(w)
    }

    /// Writes the listed cycles as a Graphviz digraph: each cycle a cluster (at most `max_nodes` of its objects),
    /// with the references among them, labelled.
    fn write_dot(&self, w: &mut dyn Write) -> io::Result<()> {
        let DrawnCycles { report, heap, alive, max_nodes, redact } = *self;
        let snap = alive.snapshot();
        writeln!(w, "digraph cycles {{")?;
        writeln!(w, "  node [shape=box, fontname=\"monospace\", fontsize=10];")?;
        for (i, c) in report.cycles.iter().enumerate() {
            let drawing = c.drawing(heap, alive, max_nodes, redact);
            writeln!(w, "  subgraph cluster_{i} {{")?;
            writeln!(
                w,
                "    label={};",
                dot_str(&format!("{} cycle of {}: {}", c.status, c.size, signature_text_short(&c.types, 8)))
            )?;
            for &m in &drawing.nodes {
                writeln!(w, "    {} [label={}];", node_id(snap, m), dot_str(&node_label(snap, m)))?;
            }
            writeln!(w, "  }}")?;
            for (from, to, label) in &drawing.edges {
                writeln!(w, "  {} -> {} [label={}];", node_id(snap, *from), node_id(snap, *to), dot_str(label))?;
            }
        }
        writeln!(w, "}}")
    }
}

/// A DOT node id for an object.
fn node_id(snap: &Snapshot, id: ObjectId) -> String {
    format!("o{:x}", snap.addr(id).0)
}

/// `type\naddress`.
fn node_label(snap: &Snapshot, id: ObjectId) -> String {
    format!("{}\n{}", snap.type_name(id), snap.addr(id))
}

/// A DOT string literal.
pub fn dot_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl PathsReport {
    /// Writes the paths as a Graphviz digraph: the root (an ellipse) down to the object (double border), each
    /// reference labelled.
    pub(crate) fn draw(&self, w: &mut dyn Write) -> io::Result<()> {
        writeln!(w, "digraph paths {{")?;
        writeln!(w, "  node [shape=box, fontname=\"monospace\", fontsize=10];")?;
        let mut seen = std::collections::HashSet::new();
        for (i, p) in self.paths.iter().enumerate() {
            let root = format!("root{i}");
            writeln!(
                w,
                "  {root} [shape=ellipse, label={}];",
                dot_str(&format!("{} ({})", p.root.description.text, p.root.kind))
            )?;
            let mut prev = root;
            for s in &p.steps {
                let id = format!("o{:x}", s.address.0);
                if seen.insert(id.clone()) {
                    let shape = if s.address == self.address { ", peripheries=2" } else { "" };
                    writeln!(w, "  {id} [label={}{shape}];", dot_str(&format!("{}\n{}", s.type_name, s.address)))?;
                }
                writeln!(w, "  {prev} -> {id} [label={}];", dot_str(&s.label))?;
                prev = id;
            }
        }
        writeln!(w, "}}")
    }
}
