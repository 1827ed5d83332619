//! `heapscope waste`: what to change to use less memory, each piece of advice with the bytes it would save, the
//! evidence and the change.
//!
//! - **duplicates**: equal `str`, `bytes`, `tuple` and `frozenset` values held as separate objects (content hashed:
//!   a tuple's or frozenset's items by value when they are str, bytes, int, float or such containers, else by
//!   identity). Saved: every copy but one, by sharing one object (`sys.intern`, a cache); `size_bytes` gives
//!   `(n − 1) × sys.getsizeof`.
//! - **sparse**: lists, dicts and sets whose table is far larger than their items need (`Heap::slack`: a list's
//!   unused `allocated` slots; a set or dict table beyond what a copy would allocate). Saved: the unused table.
//! - **slots**: classes with at least [`MIN_GROUP`] instances whose attribute names are the same: a class with
//!   `__slots__` holds those attributes in the object. Saved per instance: the instance's memory with its dict (or
//!   3.11+ inline values) minus a slotted instance's (GC header, object header, one word per attribute).
//! - **boxed numbers**: lists and tuples of at least [`MIN_BOXED`] items, 90 % float (or int), whose items only they
//!   hold: `array('d')`/`array('q')` or numpy stores 8 bytes per number instead of an object and a pointer.
//! - **records**: at least [`MIN_GROUP`] small dicts (≤ 16 keys, not an instance's `__dict__`) with the same str
//!   keys: a namedtuple or a `dataclass(slots=True)` stores the values without the keys table.
//!
//! Memory is counted as the allocator hands it out: a block of pymalloc (16-byte steps up to 512 bytes) or a
//! malloc chunk (8 bytes of header, 16-byte steps). Advice of different kinds may overlap (a duplicate str inside a
//! record): their savings do not add up.
//!
//! JSON: `{"python", "advice": [{"kind", "bytes_saved", "size_bytes" (duplicates), "count", "example", "type", "path",
//! "change", "evidence"}],
//! "notes"}`.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{self, Write};

use heapscope_analysis::alive::Alive;
use heapscope_coredump::{Addr, ProcessImage};
use heapscope_cpython::heap::Label;
use heapscope_cpython::objects::{Heap, PreviewOptions};
use heapscope_snapshot::{ObjectId, Snapshot};
use rayon::prelude::*;
use serde::Serialize;

use crate::alive::Paths;
use crate::format::count;
use crate::report::Report;
use crate::Table;

/// Fewest instances (or dicts) of one shape for `slots` and `records` advice.
pub const MIN_GROUP: usize = 100;

/// Fewest items of a list or tuple for `boxed numbers` advice.
pub const MIN_BOXED: u64 = 100;

/// Smallest saving worth a piece of `sparse` advice.
const MIN_SPARSE_BYTES: u64 = 4096;

/// Longest str or bytes value read for `duplicates` (longer values are keyed by their prefix and length).
const MAX_VALUE_BYTES: usize = 1 << 20;

/// One piece of advice.
#[derive(Debug, Clone, Serialize)]
pub struct Advice {
    /// `duplicates`, `sparse`, `slots`, `boxed numbers` or `records`.
    pub kind: String,
    /// Estimated bytes the change saves, as the allocator counts them.
    pub bytes_saved: u64,
    /// `duplicates`: `(n − 1) × sys.getsizeof`, the bytes of the copies as Python counts them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// Objects concerned (copies, containers, instances, items, dicts).
    pub count: u64,
    /// One of them.
    pub example: Option<Addr>,
    /// Its type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Its shortest path from a root.
    pub path: Option<String>,
    /// The change to make.
    pub change: String,
    /// What the estimate rests on.
    pub evidence: String,
}

/// `heapscope waste`.
#[derive(Debug, Clone, Serialize)]
pub struct WasteReport {
    /// The Python version.
    pub python: String,
    /// The advice, most bytes saved first.
    pub advice: Vec<Advice>,
    /// How to read it.
    pub notes: Vec<String>,
}

/// Bytes the allocator hands out for a request of `n` bytes: a pymalloc block, or a malloc chunk.
pub fn allocated(n: u64) -> u64 {
    // Sizes come from the core: saturate rather than overflow on absurd ones.
    let round = |n: u64| n.checked_next_multiple_of(16).unwrap_or(u64::MAX);
    if n == 0 {
        0
    } else if n <= 512 {
        round(n)
    } else {
        round(n.saturating_add(8))
    }
}

/// The analyses' shared inputs.
struct Cx<'a, 'h, 'p, P: ProcessImage + ?Sized> {
    snap: &'a Snapshot,
    alive: &'a Alive<'a>,
    heap: &'h Heap<'p, P>,
    paths: &'a Paths<'a, 'h, 'p, P>,
    /// Per object: its type's name.
    names: Vec<&'a str>,
    gc_head: u64,
    /// `--redact`: no str or bytes contents, and no dict keys, in the evidence.
    redact: bool,
}

impl<P: ProcessImage + ?Sized> Cx<'_, '_, '_, P> {
    fn advice(&self, kind: &str, saved: u64, n: u64, example: ObjectId, change: String, evidence: String) -> Advice {
        Advice {
            kind: kind.to_owned(),
            bytes_saved: saved,
            size_bytes: None,
            count: n,
            example: Some(self.snap.addr(example)),
            type_name: self.names[example as usize].to_owned(),
            path: self.paths.path(example).map(|p| p.text),
            change,
            evidence,
        }
    }

    fn preview(&self, id: ObjectId) -> String {
        let opts = PreviewOptions { max_str_chars: 60, max_items: 4, depth: 1, redact: self.redact };
        self.heap.preview(self.snap.addr(id), &opts)
    }

    fn footprint(&self, id: ObjectId) -> u64 {
        self.snap.columns().2[id as usize]
    }

    /// The str names of a dict's keys, or of an instance's attributes, sorted; `None` if one is not a str.
    fn names_of(&self, items: &[(Addr, Addr)]) -> Option<Vec<String>> {
        let mut names = Vec::with_capacity(items.len());
        for (k, _) in items {
            let s = self.heap.str_value(*k, 256).ok()?;
            if s.truncated {
                return None;
            }
            names.push(s.text);
        }
        names.sort();
        Some(names)
    }
}

impl WasteReport {
    /// Runs every analysis; keeps the `limit` largest pieces of advice.
    pub fn collect<P: ProcessImage + ?Sized + Sync>(
        alive: &Alive<'_>,
        heap: &Heap<'_, P>,
        paths: &Paths<'_, '_, '_, P>,
        limit: usize,
        redact: bool,
    ) -> WasteReport {
        let snap = alive.snapshot();
        let (type_ids, _, _) = snap.columns();
        let names = type_ids.iter().map(|&t| snap.types().get(t as usize).map_or("?", |t| t.name.as_str())).collect();
        let cx = Cx { snap, alive, heap, paths, names, gc_head: heap.features().gc_head_size, redact };
        let mut advice = Vec::new();
        advice.extend(duplicates(&cx, limit));
        advice.extend(sparse(&cx, limit));
        advice.extend(slots(&cx));
        advice.extend(boxed(&cx, limit));
        advice.extend(records(&cx));
        advice.sort_by(|a, b| b.bytes_saved.cmp(&a.bytes_saved).then(a.kind.cmp(&b.kind)));
        advice.truncate(limit);
        WasteReport {
            python: snap.version().to_string(),
            advice,
            notes: vec![
                "savings of different kinds may overlap (a duplicate str inside a record): they do not add up".into(),
                "bytes are counted as the allocator hands them out (pymalloc blocks, malloc chunks)".into(),
            ],
        }
    }
}

/// Content keys of values, memoised; `None` for an object compared by identity.
struct Keys<'c, 'a, 'h, 'p, P: ProcessImage + ?Sized> {
    cx: &'c Cx<'a, 'h, 'p, P>,
    memo: HashMap<ObjectId, Option<u64>>,
}

impl<P: ProcessImage + ?Sized> Keys<'_, '_, '_, '_, P> {
    /// The content key of `id` (`depth` bounds the nesting of tuples followed).
    fn key(&mut self, id: ObjectId, depth: u32) -> Option<u64> {
        if let Some(k) = self.memo.get(&id) {
            return *k;
        }
        let k = self.compute(id, depth);
        self.memo.insert(id, k);
        k
    }

    fn compute(&mut self, id: ObjectId, depth: u32) -> Option<u64> {
        let cx = self.cx;
        let addr = cx.snap.addr(id);
        let name = cx.names[id as usize];
        if let Some(key) = value_key(cx.heap, addr, name) {
            return key;
        }
        let mut h = DefaultHasher::new();
        name.hash(&mut h);
        match name {
            "int" => cx.heap.int_value(addr).ok()?.to_decimal(4096)?.hash(&mut h),
            "float" => cx.heap.float_value(addr).ok()?.to_bits().hash(&mut h),
            "tuple" | "frozenset" if depth > 0 => {
                let mut items: Vec<u64> = Vec::new();
                for (t, label, _) in cx.snap.refs(id) {
                    if matches!(label, Label::Index(_)) {
                        items.push(self.key(t, depth - 1).unwrap_or(cx.snap.addr(t).0 ^ 0x9e37_79b9_7f4a_7c15));
                    }
                }
                if name == "frozenset" {
                    items.sort_unstable();
                }
                items.hash(&mut h);
            }
            _ => return None,
        }
        Some(h.finish())
    }
}

/// The content key of a str or bytes object (`Some(None)`: one that cannot be read); `None` for other types.
fn value_key<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, addr: Addr, name: &str) -> Option<Option<u64>> {
    let mut h = DefaultHasher::new();
    name.hash(&mut h);
    match name {
        "str" => {
            let Ok(s) = heap.str_value(addr, MAX_VALUE_BYTES) else { return Some(None) };
            (s.len, s.kind, s.text).hash(&mut h);
        }
        "bytes" => {
            let Ok(b) = heap.bytes_value(addr, MAX_VALUE_BYTES) else { return Some(None) };
            (b.len, b.data).hash(&mut h);
        }
        _ => return None,
    }
    Some(Some(h.finish()))
}

/// Equal immutable values held as separate objects.
fn duplicates<P: ProcessImage + ?Sized + Sync>(cx: &Cx<'_, '_, '_, P>, limit: usize) -> Vec<Advice> {
    // The str and bytes keys, most of the work (reading and hashing every value), in parallel; then tuples and
    // frozensets, whose keys are made of their items' keys, one by one.
    let (snap, heap, names) = (cx.snap, cx.heap, &cx.names);
    let memo: HashMap<ObjectId, Option<u64>> = (0..snap.len() as ObjectId)
        .into_par_iter()
        .with_min_len(1 << 12)
        .filter_map(|id| Some((id, value_key(heap, snap.addr(id), names[id as usize])?)))
        .collect();
    let mut keys = Keys { cx, memo };
    let mut groups: HashMap<(u64, u64), Vec<ObjectId>> = HashMap::new();
    let sizes = cx.snap.columns().1;
    for id in 0..cx.snap.len() as ObjectId {
        if !matches!(cx.names[id as usize], "str" | "bytes" | "tuple" | "frozenset") {
            continue;
        }
        if let Some(k) = keys.key(id, 8) {
            groups.entry((k, sizes[id as usize])).or_default().push(id);
        }
    }
    // Saved: every copy but one, as the allocator hands each out.
    let mut dup: Vec<(u64, Vec<ObjectId>)> = groups
        .into_iter()
        .filter(|(_, ids)| ids.len() > 1)
        .map(|(_, ids)| (ids[1..].iter().fold(0u64, |a, &id| a.saturating_add(allocated(cx.footprint(id)))), ids))
        .collect();
    dup.sort_by(|a, b| b.0.cmp(&a.0).then(a.1[0].cmp(&b.1[0])));
    dup.truncate(limit);
    dup.into_iter()
        .map(|(saved, ids)| {
            let n = ids.len() as u64;
            let ex = ids[0];
            let ty = cx.names[ex as usize];
            let change = if ty == "str" {
                format!("keep one {ty} and share it (sys.intern(), or a dict used as a cache of values)")
            } else {
                format!("keep one {ty} and share it (a dict used as a cache of values)")
            };
            let evidence =
                format!("{} equal copies of {} ({} bytes each)", count(n), cx.preview(ex), count(sizes[ex as usize]));
            let mut a = cx.advice("duplicates", saved, n, ex, change, evidence);
            a.size_bytes = Some((n - 1).saturating_mul(sizes[ex as usize]));
            a
        })
        .collect()
}

/// Containers whose table far exceeds their items.
fn sparse<P: ProcessImage + ?Sized>(cx: &Cx<'_, '_, '_, P>, limit: usize) -> Vec<Advice> {
    let mut found: Vec<(u64, ObjectId, u64, u64)> = Vec::new();
    for id in 0..cx.snap.len() as ObjectId {
        if !matches!(cx.names[id as usize], "list" | "dict" | "set" | "frozenset") {
            continue;
        }
        if let Ok(Some(s)) = cx.heap.slack(cx.snap.addr(id)) {
            if s.wasted_bytes >= MIN_SPARSE_BYTES && s.capacity >= 4 * s.len.max(1) {
                found.push((s.wasted_bytes, id, s.len, s.capacity));
            }
        }
    }
    found.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    found.truncate(limit);
    found
        .into_iter()
        .map(|(wasted, id, len, capacity)| {
            let ty = cx.names[id as usize];
            let change = match ty {
                "list" => "copy it once it stops growing (l = l[:] or list(l)): a copy allocates only what it holds",
                "dict" => "rebuild it once it shrank (d = dict(d)): deleting keys never shrinks a dict's table",
                _ => "rebuild it once it shrank (s = set(s)): removing items never shrinks a set's table",
            };
            let evidence = format!("{} items in room for {}", count(len), count(capacity));
            cx.advice("sparse", allocated(wasted), 1, id, change.to_owned(), evidence)
        })
        .collect()
}

/// Classes whose many instances all have the same attributes.
fn slots<P: ProcessImage + ?Sized>(cx: &Cx<'_, '_, '_, P>) -> Vec<Advice> {
    let mut by_type: HashMap<&str, Vec<ObjectId>> = HashMap::new();
    for id in 0..cx.snap.len() as ObjectId {
        let name = cx.names[id as usize];
        // Classes defined in Python have qualified names; the builtins' are bare.
        if name.contains('.') && !name.starts_with('<') {
            by_type.entry(name).or_default().push(id);
        }
    }
    let mut out = Vec::new();
    for (name, ids) in by_type {
        if ids.len() < MIN_GROUP {
            continue;
        }
        let mut shapes: HashMap<Vec<String>, Vec<ObjectId>> = HashMap::new();
        for &id in &ids {
            let Ok(items) = cx.heap.instance_dict_items(cx.snap.addr(id), 256) else { continue };
            if items.is_empty() {
                continue;
            }
            if let Some(names) = cx.names_of(&items) {
                shapes.entry(names).or_default().push(id);
            }
        }
        let Some((attrs, same)) = shapes.into_iter().max_by_key(|(_, v)| v.len()) else { continue };
        if same.len() < MIN_GROUP || same.len() * 10 < ids.len() * 9 {
            continue;
        }
        let slotted = allocated(cx.gc_head + 16 + 8 * attrs.len() as u64);
        let mut saved = 0;
        for &id in &same {
            // 3.11/3.12 keep the values in a block of their own: each allocation is rounded apart.
            let values = cx.heap.detached_values_bytes(cx.snap.addr(id)).unwrap_or(0);
            let object = cx.footprint(id).saturating_sub(values);
            let mut now = allocated(object).saturating_add(allocated(values));
            // A materialised __dict__ that only this instance holds goes with it.
            for (t, label, _) in cx.snap.refs(id) {
                if matches!(label, Label::Field("__dict__")) && cx.alive.strong_referrers()[t as usize] == 1 {
                    now = now.saturating_add(allocated(cx.footprint(t)));
                }
            }
            saved = now.saturating_sub(slotted).saturating_add(saved);
        }
        let change = format!("give {name} __slots__ = {:?} (or @dataclass(slots=True))", attrs);
        let evidence = format!(
            "{} of its {} instances have exactly these {} attributes; a slotted instance takes {} bytes",
            count(same.len() as u64),
            count(ids.len() as u64),
            attrs.len(),
            slotted
        );
        out.push(cx.advice("slots", saved, same.len() as u64, same[0], change, evidence));
    }
    out
}

/// Lists and tuples of boxed floats or ints that only they hold.
fn boxed<P: ProcessImage + ?Sized>(cx: &Cx<'_, '_, '_, P>, limit: usize) -> Vec<Advice> {
    let lens = |id: ObjectId| cx.snap.object(id).len.unwrap_or(0);
    let mut found: Vec<(u64, ObjectId, u64, &str)> = Vec::new();
    for id in 0..cx.snap.len() as ObjectId {
        if !matches!(cx.names[id as usize], "list" | "tuple") || lens(id) < MIN_BOXED {
            continue;
        }
        let (mut floats, mut ints, mut n, mut items_bytes) = (0u64, 0u64, 0u64, 0u64);
        for (t, label, _) in cx.snap.refs(id) {
            if !matches!(label, Label::Index(_)) {
                continue;
            }
            n += 1;
            let ty = cx.names[t as usize];
            if ty == "float" || ty == "int" {
                if ty == "float" {
                    floats += 1;
                } else {
                    ints += 1;
                }
                // An item held only here goes with the change.
                if cx.alive.strong_referrers()[t as usize] == 1 && cx.snap.refcounts()[t as usize] == 1 {
                    items_bytes = items_bytes.saturating_add(allocated(cx.footprint(t)));
                }
            }
        }
        let (numbers, code) = if floats >= ints { (floats, "d") } else { (ints, "q") };
        if n < MIN_BOXED || numbers * 10 < n * 9 {
            continue;
        }
        // array('d') of n items: the object (64 bytes) and its buffer of 8 bytes per item.
        let array = allocated(64).saturating_add(allocated(n.saturating_mul(8)));
        let saved = items_bytes.saturating_add(allocated(cx.footprint(id))).saturating_sub(array);
        found.push((saved, id, n, code));
    }
    found.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    found.truncate(limit);
    found
        .into_iter()
        .map(|(saved, id, n, code)| {
            let what = if code == "d" { "float" } else { "int" };
            let change =
                format!("store the numbers in an array('{code}', …) or a numpy array instead of {what} objects");
            let evidence = format!("{} items, mostly {what} objects held by nothing else", count(n));
            cx.advice("boxed numbers", saved, n, id, change, evidence)
        })
        .collect()
}

/// Many small dicts with the same keys.
fn records<P: ProcessImage + ?Sized>(cx: &Cx<'_, '_, '_, P>) -> Vec<Advice> {
    let mut shapes: HashMap<Vec<String>, Vec<ObjectId>> = HashMap::new();
    let transposed = cx.alive.transposed();
    for id in 0..cx.snap.len() as ObjectId {
        if cx.names[id as usize] != "dict" {
            continue;
        }
        let len = cx.snap.object(id).len.unwrap_or(0);
        if len == 0 || len > 16 {
            continue;
        }
        // Not a namespace: no instance's __dict__, no module's, class's, function's or frame's.
        let namespace = transposed.in_edges(id).any(|(r, e)| {
            matches!(cx.snap.edge(e).0, Label::Field(_))
                || matches!(cx.names[r as usize], "module" | "type" | "function" | "frame" | "mappingproxy")
        });
        if namespace {
            continue;
        }
        let Ok(items) = cx.heap.dict_items(cx.snap.addr(id), 16) else { continue };
        if let Some(names) = cx.names_of(&items) {
            shapes.entry(names).or_default().push(id);
        }
    }
    let mut out = Vec::new();
    for (keys, ids) in shapes {
        if ids.len() < MIN_GROUP {
            continue;
        }
        // A namedtuple of n fields: an instance of a tuple subclass, which `PyType_GenericAlloc` allocates with room
        // for one item more than it holds (GC header, 24-byte header, n + 1 words).
        let tuple = allocated(cx.gc_head + 24 + 8 * (keys.len() as u64 + 1));
        let saved = ids.iter().fold(0u64, |a, &id| a.saturating_add(allocated(cx.footprint(id)).saturating_sub(tuple)));
        let fields = if cx.redact { format!("{} fields", keys.len()) } else { format!("the fields {keys:?}") };
        let change = format!("use a namedtuple or a @dataclass(slots=True) with {fields}");
        let evidence = format!(
            "{} dicts with exactly these {} keys; such a record takes {} bytes",
            count(ids.len() as u64),
            keys.len(),
            tuple
        );
        out.push(cx.advice("records", saved, ids.len() as u64, ids[0], change, evidence));
    }
    out
}

impl Report for WasteReport {
    /// Writes the advice for a person.
    fn write_table(&self, w: &mut dyn Write) -> io::Result<()> {
        if self.advice.is_empty() {
            return writeln!(w, "no waste found (Python {})", self.python);
        }
        let mut t = Table::new(["SAVED", "KIND", "COUNT", "TYPE", "CHANGE"]);
        for a in &self.advice {
            t.row([count(a.bytes_saved), a.kind.clone(), count(a.count), a.type_name.clone(), a.change.clone()]);
        }
        t.write(w)?;
        writeln!(w)?;
        for (i, a) in self.advice.iter().enumerate() {
            writeln!(w, "{}. {}: {}", i + 1, a.kind, a.evidence)?;
            if let Some(p) = &a.path {
                writeln!(w, "   e.g. {} at {}", p, a.example.map(|e| e.to_string()).unwrap_or_default())?;
            }
        }
        for n in &self.notes {
            writeln!(w, "note: {n}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocated_rounds_like_the_allocators_and_saturates() {
        assert_eq!((allocated(0), allocated(1), allocated(24), allocated(512)), (0, 16, 32, 512));
        assert_eq!(allocated(513), 528);
        assert_eq!(allocated(u64::MAX), u64::MAX);
        assert_eq!(allocated(u64::MAX - 20), u64::MAX);
    }
}
