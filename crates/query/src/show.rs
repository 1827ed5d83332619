//! `heapscope show`, `refs` and `referrers`: one object of a heap snapshot, and the objects it references or that
//! reference it, each with its type, size, the label of the reference (`[3]`, `.name`, `['key']`, …), the kind of
//! reference (`traverse`: what `gc.get_referents` reports; `hidden`: a strong reference it does not report;
//! `weak`), and a `repr()`-like preview.
//!
//! Referrers also list the roots that hold the object (kind `root`): a running frame's local or stack slot, a
//! `sys.modules` entry, a thread's dict, a field of the interpreter state, a static symbol, a static object in
//! `_PyRuntime`; each named ([`RootNamer`]) with its function, local and thread where it has them. Up to 3.10 the
//! frames are objects: a reference from a frame object that is a root carries the same naming.

use std::io::{self, Write};

use heapscope_coredump::{Addr, ProcessImage};
use heapscope_cpython::heap::roots::{FrameSlot, RootDescription, RootKind, RootNamer, RootWhere};
use heapscope_cpython::heap::{Label, RefKind};
use heapscope_cpython::layout::Unverified;
use heapscope_cpython::objects::{Heap, PreviewOptions};
use heapscope_snapshot::{ObjectId, Snapshot};
use serde::Serialize;

use crate::format::count;
use crate::report::Report;
use crate::Table;

/// One referent or referrer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefRow {
    /// The other object; for a root, the structure holding the reference (the frame, the thread or interpreter
    /// state, `_PyRuntime`), or the object itself when it is its own root (a static symbol, a module).
    pub address: Addr,
    /// Its type; `root` for a root.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Its `sys.getsizeof` (0 for a root).
    pub size: u64,
    /// How the referrer names the referent (`[0]`, `.attr`, `['key']`, …); for a root, its description.
    pub label: String,
    /// `traverse`, `hidden`, `weak`, or `root`.
    pub kind: &'static str,
    /// A `repr()`-like preview of the other object (empty for a root).
    pub preview: String,
    /// For a root, or (≤3.10) a reference from a frame object that is a root: which root, named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root: Option<RootRow>,
}

/// A root that holds an object, named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RootRow {
    /// The kind of root (`frame_ref`, `frame_object`, `module`, `sys_modules`, `thread_dict`, `sys_dict`, …).
    pub kind: RootKind,
    /// Its description, function, local and thread.
    #[serde(flatten)]
    pub description: RootDescription,
}

/// Everything `show` reports about one object.
#[derive(Debug, Clone, Serialize)]
pub struct ShowReport {
    /// Its address.
    pub address: Addr,
    /// Its type (`?` when it could not be decoded).
    #[serde(rename = "type")]
    pub type_name: String,
    /// `sys.getsizeof`.
    pub size: u64,
    /// The memory it really occupies.
    pub footprint: u64,
    /// The reference count (`sys.getrefcount(obj) - 1`).
    pub refcount: i64,
    /// The refcount is immortal.
    pub immortal: bool,
    /// `gc.is_tracked`.
    pub gc_tracked: bool,
    /// `len()`, when it has one.
    pub length: Option<u64>,
    /// Why it is alive, relative to the GC's view.
    pub category: String,
    /// A `repr()`-like preview.
    pub preview: String,
    /// References it makes (at most `limit`).
    pub referents: Vec<RefRow>,
    /// Number of references it makes.
    pub referents_total: u64,
    /// References to it (at most `limit`).
    pub referrers: Vec<RefRow>,
    /// Number of references to it (from objects of the snapshot, parallel references counted each, and from
    /// roots).
    pub referrers_total: u64,
    /// Set when heapscope has no layout table for this Python version: what stood in for it, and that the results
    /// are unverified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unverified_version: Option<Unverified>,
}

/// Which way a listing goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// What the object references.
    Referents,
    /// What references the object.
    Referrers,
}

/// What `refs` and `referrers` report.
#[derive(Debug, Clone, Serialize)]
pub struct RefsReport {
    /// The object.
    pub address: Addr,
    /// Its type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Which way the listing goes.
    pub direction: Direction,
    /// The rows (at most `limit`).
    pub refs: Vec<RefRow>,
    /// Number of rows before the limit.
    pub total: u64,
    /// Set when heapscope has no layout table for this Python version: what stood in for it, and that the results
    /// are unverified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unverified_version: Option<Unverified>,
}

/// How rows are built.
#[derive(Debug, Clone)]
pub struct RowOptions {
    /// Most rows listed per direction.
    pub limit: usize,
    /// How the rows' previews are made (short: one line each).
    pub preview: PreviewOptions,
    /// How the object's own preview (`show`) is made.
    pub object_preview: PreviewOptions,
}

impl Default for RowOptions {
    /// 100 rows; row previews of 60 characters, 5 items, one level; the object's own preview as
    /// [`PreviewOptions::default`].
    fn default() -> Self {
        RowOptions {
            limit: 100,
            preview: PreviewOptions { max_str_chars: 60, max_items: 5, depth: 1, redact: false },
            object_preview: PreviewOptions::default(),
        }
    }
}

impl RowOptions {
    /// With `redact`, every preview and dict-key label shows a str or bytes as its length and a hash, never its
    /// contents ([`redacted`](heapscope_cpython::objects::redacted)).
    pub fn redact(mut self, redact: bool) -> Self {
        self.preview.redact = redact;
        self.object_preview.redact = redact;
        self
    }
}

/// `traverse`, `hidden` or `weak`.
pub fn kind_name(k: RefKind) -> &'static str {
    match k {
        RefKind::Traverse => "traverse",
        RefKind::Hidden => "hidden",
        RefKind::Weak => "weak",
        RefKind::Conservative => "conservative",
    }
}

/// Most characters of a name or key shown in a label.
const MAX_LABEL_CHARS: usize = 80;

/// How the referrer `owner` names a referent, Python-style: `[3]`, `['key']`, `.attr`, `key`, `local x`, `ob_type`.
/// A `__slots__` slot is named after its member descriptor in the owner's class (`.x`), found only now: the heap
/// walk records its offset.
pub fn label_text<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, owner: Addr, label: Label) -> String {
    label_text_with(heap, owner, label, false)
}

/// [`label_text`], with a dict key that is a str or bytes [`redacted`](heapscope_cpython::objects::redacted) when
/// `redact` is set: `[<str len=6 #6b0339bf>]`. Attribute, field and local names stay: they are code, not data.
pub fn label_text_with<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    owner: Addr,
    label: Label,
    redact: bool,
) -> String {
    let name = |a: Addr| -> Option<String> {
        (!a.is_null()).then(|| heap.str_value(a, MAX_LABEL_CHARS).ok().map(|s| s.text)).flatten()
    };
    let key_opts = PreviewOptions { max_str_chars: MAX_LABEL_CHARS, max_items: 3, depth: 1, redact };
    match label {
        Label::Index(i) => format!("[{i}]"),
        Label::DictKey => "key".to_owned(),
        Label::DictValue { key } => format!("[{}]", heap.preview(key, &key_opts)),
        Label::Attr { name: n } => format!(".{}", name(n).unwrap_or_else(|| "?".to_owned())),
        Label::Slot(offset) => match heap.type_of(owner).and_then(|ty| heap.member_name_at(ty, u64::from(offset))) {
            Ok(Some(n)) => format!(".{n}"),
            _ => format!("slot +{offset}"),
        },
        Label::Field(f) => f.to_owned(),
        Label::Cell => "cell_contents".to_owned(),
        Label::Local { name: n, index } => match name(n) {
            Some(n) => format!("local {n}"),
            None => format!("local #{index}"),
        },
        Label::Stack(i) => format!("stack[{i}]"),
        Label::ModuleState(i) => format!("module state +{i}"),
        Label::Word(off) => format!("word +{off}"),
    }
}

fn rows<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    snapshot: &Snapshot,
    dir: Direction,
    id: ObjectId,
    opts: &RowOptions,
) -> (Vec<RefRow>, u64) {
    let this = snapshot.object(id).addr;
    let make = |(other, label, kind): (ObjectId, Label, RefKind)| {
        let rec = snapshot.object(other);
        let owner = match dir {
            Direction::Referents => this,
            Direction::Referrers => rec.addr,
        };
        RefRow {
            address: rec.addr,
            type_name: snapshot.type_name(other).to_owned(),
            size: rec.size,
            label: label_text_with(heap, owner, label, opts.preview.redact),
            kind: kind_name(kind),
            preview: heap.preview(rec.addr, &opts.preview),
            root: None,
        }
    };
    match dir {
        Direction::Referents => {
            let mut refs: Vec<(ObjectId, Label, RefKind)> = snapshot.refs(id).collect();
            in_index_order(&mut refs);
            let total = refs.len() as u64;
            (refs.into_iter().take(opts.limit).map(make).collect(), total)
        }
        Direction::Referrers => {
            let namer = RootNamer::new(heap, snapshot.interpreters());
            let roots = snapshot.roots_of(id).map(|r| {
                let description = namer.describe(r.kind, &r.at);
                RefRow {
                    address: r.at.holder().unwrap_or_else(|| snapshot.addr(id)),
                    type_name: "root".to_owned(),
                    size: 0,
                    label: description.text.clone(),
                    kind: "root",
                    preview: String::new(),
                    root: Some(RootRow { kind: r.kind, description }),
                }
            });
            let objects = snapshot.referrers(id).map(|r| {
                let mut row = make(r);
                row.root = frame_object_root(&namer, snapshot, r.0, r.1, &row.label, heap);
                row
            });
            let total = (snapshot.roots_of(id).count() + snapshot.referrers(id).count()) as u64;
            (roots.chain(objects).take(opts.limit).collect(), total)
        }
    }
}

/// Puts the references labelled with an index (`[0]`, `[1]`, …) in index order, each in one of the places such
/// references held: the decoder reports them in `tp_traverse`'s order, which for a list or a tuple is last to first,
/// while a reader (and `--limit`) wants the first items first. References with other labels keep their places.
fn in_index_order(refs: &mut [(ObjectId, Label, RefKind)]) {
    let index = |r: &(ObjectId, Label, RefKind)| match r.1 {
        Label::Index(i) => Some(i),
        _ => None,
    };
    let places: Vec<usize> = (0..refs.len()).filter(|&k| index(&refs[k]).is_some()).collect();
    let mut items: Vec<(ObjectId, Label, RefKind)> = places.iter().map(|&k| refs[k]).collect();
    items.sort_by_key(|r| index(r));
    for (&k, item) in places.iter().zip(items) {
        refs[k] = item;
    }
}

/// ≤3.10: when `frame` is a frame object that is a root (a running frame), names its reference `label`.
fn frame_object_root<P: ProcessImage + ?Sized>(
    namer: &RootNamer<'_, '_, P>,
    snapshot: &Snapshot,
    frame: ObjectId,
    label: Label,
    label_text: &str,
    heap: &Heap<'_, P>,
) -> Option<RootRow> {
    let root = snapshot.roots_of(frame).find(|r| r.kind == RootKind::FrameObject)?;
    let RootWhere::Frame { frame, ident, slot: FrameSlot::Whole, .. } = root.at else { return None };
    let local = match label {
        Label::Local { name, .. } if !name.is_null() => heap.str_value(name, MAX_LABEL_CHARS).ok().map(|s| s.text),
        _ => None,
    };
    Some(RootRow { kind: RootKind::FrameObject, description: namer.frame_reference(frame, ident, label_text, local) })
}

impl ShowReport {
    /// Describes object `id`.
    pub fn collect<P: ProcessImage + ?Sized>(
        heap: &Heap<'_, P>,
        snapshot: &Snapshot,
        id: ObjectId,
        opts: &RowOptions,
    ) -> ShowReport {
        let rec = snapshot.object(id);
        let (referents, referents_total) = rows(heap, snapshot, Direction::Referents, id, opts);
        let (referrers, referrers_total) = rows(heap, snapshot, Direction::Referrers, id, opts);
        ShowReport {
            address: rec.addr,
            type_name: snapshot.type_name(id).to_owned(),
            size: rec.size,
            footprint: rec.footprint,
            refcount: rec.refcount,
            immortal: rec.immortal,
            gc_tracked: rec.gc_tracked,
            length: rec.len,
            category: rec.category.to_string(),
            preview: heap.preview(rec.addr, &opts.object_preview),
            referents,
            referents_total,
            referrers,
            referrers_total,
            unverified_version: heap.layout().basis.unverified.clone(),
        }
    }
}

impl Report for ShowReport {
    /// Writes the report for a person.
    fn write_table(&self, w: &mut dyn Write) -> io::Result<()> {
        writeln!(w, "{} at {}", self.type_name, self.address)?;
        let refcount = if self.immortal { format!("{} (immortal)", self.refcount) } else { self.refcount.to_string() };
        let mut t = Table::new(["FIELD", "VALUE"]);
        t.row(["size (sys.getsizeof)".to_owned(), count(self.size)]);
        t.row(["footprint".to_owned(), count(self.footprint)]);
        t.row(["refcount".to_owned(), refcount]);
        t.row(["gc tracked".to_owned(), if self.gc_tracked { "yes" } else { "no" }.to_owned()]);
        if let Some(n) = self.length {
            t.row(["length".to_owned(), count(n)]);
        }
        t.row(["category".to_owned(), self.category.clone()]);
        t.row(["preview".to_owned(), self.preview.clone()]);
        t.write(w)?;
        for (title, rows, total) in
            [("referents", &self.referents, self.referents_total), ("referrers", &self.referrers, self.referrers_total)]
        {
            writeln!(w)?;
            writeln!(w, "{} {title}{}", count(total), shown(rows.len(), total))?;
            write_rows(w, rows)?;
        }
        Ok(())
    }
}

impl RefsReport {
    /// Lists what object `id` references, or what references it.
    pub fn collect<P: ProcessImage + ?Sized>(
        heap: &Heap<'_, P>,
        snapshot: &Snapshot,
        id: ObjectId,
        dir: Direction,
        opts: &RowOptions,
    ) -> RefsReport {
        let (refs, total) = rows(heap, snapshot, dir, id, opts);
        RefsReport {
            address: snapshot.addr(id),
            type_name: snapshot.type_name(id).to_owned(),
            direction: dir,
            refs,
            total,
            unverified_version: heap.layout().basis.unverified.clone(),
        }
    }
}

impl Report for RefsReport {
    /// Writes the report for a person.
    fn write_table(&self, w: &mut dyn Write) -> io::Result<()> {
        let what = match self.direction {
            Direction::Referents => "referents of",
            Direction::Referrers => "referrers of",
        };
        writeln!(
            w,
            "{} {what} {} at {}{}",
            count(self.total),
            self.type_name,
            self.address,
            shown(self.refs.len(), self.total)
        )?;
        write_rows(w, &self.refs)
    }
}

/// ` (first N shown)` when rows were cut.
fn shown(rows: usize, total: u64) -> String {
    if (rows as u64) < total {
        format!(" (first {} shown; --limit to show more)", count(rows as u64))
    } else {
        String::new()
    }
}

fn write_rows(w: &mut dyn Write, rows: &[RefRow]) -> io::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut t = Table::new(["ADDRESS", "TYPE", "SIZE", "LABEL", "KIND", "PREVIEW"]);
    for r in rows {
        t.row([
            r.address.to_string(),
            r.type_name.clone(),
            count(r.size),
            r.label.clone(),
            r.kind.to_owned(),
            r.root.as_ref().map_or_else(|| r.preview.clone(), |root| root_preview(r, root)),
        ]);
    }
    t.write(w)
}

/// The preview column of a row that names a root: nothing more for a root itself (its label is its description),
/// the frame's description for a reference from a running frame object.
fn root_preview(row: &RefRow, root: &RootRow) -> String {
    if row.kind == "root" {
        String::new()
    } else {
        root.description.text.clone()
    }
}
