//! `heapscope diff OLD NEW`: what changed between two dumps of one process.
//!
//! CPython never moves an object, so an object that lives through both dumps is at the same address in each. But
//! freed addresses are reused: an address is the same object in both dumps only when it holds an object of the same
//! type whose shortest path from a root has the same labels ([`Paths::fingerprint`]). Growth by owner matches the
//! dominator-tree nodes of the two dumps by the text of that path.
//!
//! JSON: `{"old": {"core", "pid", "python", "objects", "bytes"}, "new": {…}, "objects_matched", "types": [{"type",
//! "old_count", "new_count", "delta_count", "old_bytes", "new_bytes", "delta_bytes"}], "owners": [{"path", "type",
//! "old_address", "new_address", "old_retained_bytes", "new_retained_bytes", "delta_bytes", "old_retained_count",
//! "new_retained_count", "delta_count"}], "new_objects": {"count", "bytes", "types": [{"type", "count", "bytes"}],
//! "examples": [{"address", "type", "size", "path"}]}, "freed_objects": {…}, "surviving": {"count", "bytes"},
//! "reused_addresses": {"count", "examples"}, "notes"}`. Bytes are `sys.getsizeof` sums, as in `summary`.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

use heapscope_analysis::alive::Alive;
use heapscope_coredump::{Addr, ProcessImage};
use heapscope_snapshot::{ObjectId, Snapshot};
use serde::Serialize;

use crate::alive::{Fingerprints, Paths};
use crate::format::{count, mib};
use crate::report::{Format, Report};
use crate::{md_escape, Table};

/// One dump, as `diff` sees it.
#[derive(Debug)]
pub struct Dump<'a, 'h, 'p, P: ProcessImage + ?Sized> {
    /// The core file, as the user named it.
    pub core: String,
    /// The process id the core records.
    pub pid: Option<i64>,
    /// The dominator tree and liveness of its snapshot.
    pub alive: &'a Alive<'a>,
    /// Paths from its roots.
    pub paths: &'a Paths<'a, 'h, 'p, P>,
}

/// Facts about one dump.
#[derive(Debug, Clone, Serialize)]
pub struct DumpFacts {
    /// The core file.
    pub core: String,
    /// Its process id.
    pub pid: Option<i64>,
    /// The Python version.
    pub python: String,
    /// Objects in its heap.
    pub objects: u64,
    /// Their `sys.getsizeof` total.
    pub bytes: u64,
}

/// Growth of one type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TypeDelta {
    /// The type's name.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Instances in OLD.
    pub old_count: u64,
    /// Instances in NEW.
    pub new_count: u64,
    /// NEW − OLD.
    pub delta_count: i64,
    /// Their `sys.getsizeof` total in OLD.
    pub old_bytes: u64,
    /// In NEW.
    pub new_bytes: u64,
    /// NEW − OLD.
    pub delta_bytes: i64,
}

/// Growth of one owner: a node of the dominator tree, the same in both dumps by its path.
#[derive(Debug, Clone, Serialize)]
pub struct OwnerDelta {
    /// Its shortest path from a root (as in NEW, else as in OLD).
    pub path: String,
    /// Its type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Its address in OLD, if it was there.
    pub old_address: Option<Addr>,
    /// Its address in NEW, if it is there.
    pub new_address: Option<Addr>,
    /// What it retained in OLD (0 if it was not there).
    pub old_retained_bytes: u64,
    /// What it retains in NEW.
    pub new_retained_bytes: u64,
    /// NEW − OLD.
    pub delta_bytes: i64,
    /// Objects it retained in OLD.
    pub old_retained_count: u64,
    /// In NEW.
    pub new_retained_count: u64,
    /// NEW − OLD.
    pub delta_count: i64,
}

/// Objects of one type in an [`ObjectChange`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TypeTotal {
    /// The type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Objects.
    pub count: u64,
    /// Their `sys.getsizeof` total.
    pub bytes: u64,
}

/// One object of an [`ObjectChange`].
#[derive(Debug, Clone, Serialize)]
pub struct ObjectExample {
    /// Its address (in the dump it is in).
    pub address: Addr,
    /// Its type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Its `sys.getsizeof`.
    pub size: u64,
    /// Its shortest path from a root in that dump.
    pub path: Option<String>,
}

/// Objects that appeared or went away.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ObjectChange {
    /// How many.
    pub count: u64,
    /// Their `sys.getsizeof` total.
    pub bytes: u64,
    /// By type, most bytes first.
    pub types: Vec<TypeTotal>,
    /// Some of them (`--limit`), largest first.
    pub examples: Vec<ObjectExample>,
}

/// Objects in both dumps.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Surviving {
    /// How many.
    pub count: u64,
    /// Their `sys.getsizeof` total in NEW.
    pub bytes: u64,
}

/// Addresses that hold an object of the same type in both dumps, but another object.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Reused {
    /// How many.
    pub count: u64,
    /// Some of them (`--limit`).
    pub examples: Vec<Addr>,
}

/// `heapscope diff`.
#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    /// The older dump.
    pub old: DumpFacts,
    /// The newer dump.
    pub new: DumpFacts,
    /// Whether objects were matched one by one (both dumps are of one process).
    pub objects_matched: bool,
    /// Growth by type, most bytes gained first.
    pub types: Vec<TypeDelta>,
    /// Growth by owner, most bytes gained first; an owner whose growth is mostly one of its descendants' is left out
    /// for that descendant.
    pub owners: Vec<OwnerDelta>,
    /// Objects in NEW, reachable there, that were not in OLD.
    pub new_objects: ObjectChange,
    /// Objects of OLD that are not in NEW.
    pub freed_objects: ObjectChange,
    /// Objects in both.
    pub surviving: Surviving,
    /// Addresses holding an object of the same type in both dumps that is not the same object.
    pub reused_addresses: Reused,
    /// What the reader should know about how the dumps were compared.
    pub notes: Vec<String>,
}

/// Options of `diff`.
#[derive(Debug, Clone, Copy)]
pub struct DiffOptions {
    /// Rows per table, and examples per list.
    pub limit: usize,
}

/// Dominator-tree nodes considered as owners, per dump: the largest by retained bytes.
const OWNER_CANDIDATES: usize = 2000;

/// An owner's growth is ascribed to a descendant that accounts for at least this share of it.
const EXPLAINED: f64 = 0.7;

impl DiffReport {
    /// Compares `old` with `new`. Objects are matched one by one only when `same_process`.
    pub fn collect<P: ProcessImage + ?Sized>(
        old: &Dump<'_, '_, '_, P>,
        new: &Dump<'_, '_, '_, P>,
        same_process: bool,
        opts: DiffOptions,
    ) -> DiffReport {
        let (o, n) = (old.alive.snapshot(), new.alive.snapshot());
        let mut notes = Vec::new();
        let (new_objects, freed_objects, surviving, reused_addresses) = if same_process {
            match_objects(old, new, opts.limit)
        } else {
            notes.push(format!(
                "the dumps are of different processes (pid {} and {}): objects were not matched one by one, only \
                 types and owners compared",
                old.pid.map_or_else(|| "?".to_owned(), |p| p.to_string()),
                new.pid.map_or_else(|| "?".to_owned(), |p| p.to_string())
            ));
            Default::default()
        };
        DiffReport {
            old: facts(old),
            new: facts(new),
            objects_matched: same_process,
            types: type_deltas(o, n),
            owners: owner_deltas(old, new, opts.limit),
            new_objects,
            freed_objects,
            surviving,
            reused_addresses,
            notes,
        }
    }
}

fn facts<P: ProcessImage + ?Sized>(d: &Dump<'_, '_, '_, P>) -> DumpFacts {
    let s = d.alive.snapshot();
    let (_, sizes, _) = s.columns();
    DumpFacts {
        core: d.core.clone(),
        pid: d.pid,
        python: s.version().to_string(),
        objects: s.len() as u64,
        bytes: sizes.iter().fold(0u64, |a, &b| a.saturating_add(b)),
    }
}

/// Per type name: count and bytes.
fn histogram(s: &Snapshot) -> BTreeMap<&str, (u64, u64)> {
    let (type_ids, sizes, _) = s.columns();
    let mut per_type = vec![(0u64, 0u64); s.types().len()];
    for (&t, &size) in type_ids.iter().zip(sizes) {
        if let Some(e) = per_type.get_mut(t as usize) {
            e.0 += 1;
            e.1 = e.1.saturating_add(size);
        }
    }
    let mut by_name: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for (t, (c, b)) in s.types().iter().zip(per_type) {
        if c > 0 {
            let e = by_name.entry(t.name.as_str()).or_default();
            e.0 += c;
            e.1 = e.1.saturating_add(b);
        }
    }
    by_name
}

fn delta(new: u64, old: u64) -> i64 {
    (i128::from(new) - i128::from(old)).clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// Growth by type: every type in either dump, most bytes gained first.
fn type_deltas(o: &Snapshot, n: &Snapshot) -> Vec<TypeDelta> {
    let (ho, hn) = (histogram(o), histogram(n));
    let mut names: Vec<&str> = ho.keys().chain(hn.keys()).copied().collect();
    names.sort_unstable();
    names.dedup();
    let mut rows: Vec<TypeDelta> = names
        .into_iter()
        .map(|t| {
            let (oc, ob) = ho.get(t).copied().unwrap_or_default();
            let (nc, nb) = hn.get(t).copied().unwrap_or_default();
            TypeDelta {
                type_name: t.to_owned(),
                old_count: oc,
                new_count: nc,
                delta_count: delta(nc, oc),
                old_bytes: ob,
                new_bytes: nb,
                delta_bytes: delta(nb, ob),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.delta_bytes.cmp(&a.delta_bytes).then(b.delta_count.cmp(&a.delta_count)).then(a.type_name.cmp(&b.type_name))
    });
    rows
}

/// The object of `to` that is `id` of `from`: at the same address, of the same type, and either with the same path
/// from a root ([`Paths::fingerprint`]; for objects no root reaches in either dump, the same size) or held under the
/// same label by a referrer that is itself the same object in both (objects are matched nearest the roots first).
struct Matcher<'d, 'a, 'h, 'p, P: ProcessImage + ?Sized> {
    from: &'d Dump<'a, 'h, 'p, P>,
    to: &'d Dump<'a, 'h, 'p, P>,
    fp_from: Fingerprints,
    fp_to: Fingerprints,
    /// Per object of `from`: whether it was matched already.
    matched: Vec<Matched>,
}

/// Whether an object of `from` was matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Matched {
    Unknown,
    Yes,
    No,
}

impl<P: ProcessImage + ?Sized> Matcher<'_, '_, '_, '_, P> {
    /// `Ok(id in to)`, or `Err(true)` when the address holds another object of the same type, `Err(false)` when it
    /// holds nothing of that type.
    fn find(&mut self, id: ObjectId) -> Result<ObjectId, bool> {
        let (sf, st) = (self.from.alive.snapshot(), self.to.alive.snapshot());
        let other = st.id_of(sf.addr(id)).filter(|&t| st.type_name(t) == sf.type_name(id)).ok_or(false)?;
        if self.same_path(id, other) || self.shared_referrer(id, other) {
            Ok(other)
        } else {
            Err(true)
        }
    }
}

impl<P: ProcessImage + ?Sized> Matcher<'_, '_, '_, '_, P> {
    /// Whether `id` of `from` and `other` of `to` have the same path from a root (or, both unreached, the same size).
    fn same_path(&mut self, id: ObjectId, other: ObjectId) -> bool {
        let a = self.from.paths.fingerprint(id, &mut self.fp_from);
        let b = self.to.paths.fingerprint(other, &mut self.fp_to);
        match (a, b) {
            (Some(a), Some(b)) => a == b,
            (None, None) => {
                self.from.alive.snapshot().columns().1[id as usize]
                    == self.to.alive.snapshot().columns().1[other as usize]
            }
            _ => false,
        }
    }

    /// Whether `id` of `from` and `other` of `to` are held, under the same label, by one referrer that is the same
    /// object in both dumps (matched already, else by [`Matcher::same_path`]): an object whose shortest path
    /// changed (one of its holders let go of it) but that is still where the program put it. At most [`MAX_REFERRERS`] referrers are compared
    /// on each side.
    fn shared_referrer(&mut self, id: ObjectId, other: ObjectId) -> bool {
        let (sf, st) = (self.from.alive.snapshot(), self.to.alive.snapshot());
        let live_in = |d: &Dump<'_, '_, '_, P>, v: ObjectId| {
            d.alive
                .transposed()
                .in_edges(v)
                .filter(|&(_, e)| d.alive.is_live_edge(e))
                .take(MAX_REFERRERS)
                .collect::<Vec<_>>()
        };
        let theirs = live_in(self.to, other);
        if theirs.is_empty() {
            return false;
        }
        for (r, e) in live_in(self.from, id) {
            let addr = sf.addr(r);
            for &(r2, e2) in theirs.iter().filter(|&&(r2, _)| st.addr(r2) == addr) {
                let same_referrer = match self.matched[r as usize] {
                    Matched::Yes => true,
                    Matched::No => false,
                    Matched::Unknown => sf.type_name(r) == st.type_name(r2) && self.same_path(r, r2),
                };
                if same_referrer && self.from.paths.edge_label(r, e) == self.to.paths.edge_label(r2, e2) {
                    return true;
                }
            }
        }
        false
    }
}

/// Referrers compared per object by [`Matcher::shared_referrer`].
const MAX_REFERRERS: usize = 64;

/// Collects objects into an [`ObjectChange`], keeping the `limit` largest as examples.
struct ChangeBuilder {
    change: ObjectChange,
    by_type: HashMap<String, (u64, u64)>,
    largest: Vec<(u64, ObjectId)>,
}

impl ChangeBuilder {
    fn new() -> Self {
        ChangeBuilder { change: ObjectChange::default(), by_type: HashMap::new(), largest: Vec::new() }
    }

    fn add(&mut self, s: &Snapshot, id: ObjectId) {
        let size = s.columns().1[id as usize];
        self.change.count += 1;
        self.change.bytes = self.change.bytes.saturating_add(size);
        let e = self.by_type.entry(s.type_name(id).to_owned()).or_default();
        e.0 += 1;
        e.1 = e.1.saturating_add(size);
        self.largest.push((size, id));
    }

    fn finish<P: ProcessImage + ?Sized>(mut self, d: &Dump<'_, '_, '_, P>, limit: usize) -> ObjectChange {
        let s = d.alive.snapshot();
        let mut types: Vec<TypeTotal> =
            self.by_type.into_iter().map(|(t, (c, b))| TypeTotal { type_name: t, count: c, bytes: b }).collect();
        types.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(b.count.cmp(&a.count)).then(a.type_name.cmp(&b.type_name)));
        self.change.types = types;
        let by_size = |a: &(u64, ObjectId), b: &(u64, ObjectId)| b.0.cmp(&a.0).then(a.1.cmp(&b.1));
        if self.largest.len() > limit && limit > 0 {
            self.largest.select_nth_unstable_by(limit - 1, by_size);
        }
        self.largest.truncate(limit);
        self.largest.sort_by(by_size);
        self.change.examples = self
            .largest
            .iter()
            .map(|&(size, id)| ObjectExample {
                address: s.addr(id),
                type_name: s.type_name(id).to_owned(),
                size,
                path: d.paths.path(id).map(|p| p.text),
            })
            .collect();
        self.change
    }
}

/// New objects (reachable in NEW), freed ones, survivors and reused addresses.
fn match_objects<P: ProcessImage + ?Sized>(
    old: &Dump<'_, '_, '_, P>,
    new: &Dump<'_, '_, '_, P>,
    limit: usize,
) -> (ObjectChange, ObjectChange, Surviving, Reused) {
    let (so, sn) = (old.alive.snapshot(), new.alive.snapshot());
    let mut m = Matcher {
        from: new,
        to: old,
        fp_from: Fingerprints::default(),
        fp_to: Fingerprints::default(),
        matched: vec![Matched::Unknown; sn.len()],
    };
    let mut in_new = vec![false; so.len()];
    let (mut fresh, mut surviving, mut reused) = (ChangeBuilder::new(), Surviving::default(), Reused::default());
    // Nearest the roots first, so that an object's referrers are matched before it is.
    let mut order: Vec<ObjectId> = (0..sn.len() as ObjectId).collect();
    order.sort_by_key(|&id| new.paths.depth(id).unwrap_or(u32::MAX));
    for id in order {
        let found = m.find(id);
        m.matched[id as usize] = if found.is_ok() { Matched::Yes } else { Matched::No };
        match found {
            Ok(o) => {
                in_new[o as usize] = true;
                surviving.count += 1;
                surviving.bytes = surviving.bytes.saturating_add(sn.columns().1[id as usize]);
            }
            Err(same_type) => {
                if same_type {
                    reused.count += 1;
                    if reused.examples.len() < limit {
                        reused.examples.push(sn.addr(id));
                    }
                }
                if new.alive.dominators().is_reachable(id) {
                    fresh.add(sn, id);
                }
            }
        }
    }
    let mut freed = ChangeBuilder::new();
    for (o, _) in in_new.iter().enumerate().filter(|(_, &kept)| !kept) {
        freed.add(so, o as ObjectId);
    }
    (fresh.finish(new, limit), freed.finish(old, limit), surviving, reused)
}

/// A dump's largest dominator-tree nodes with a path: path text → node.
fn owner_candidates<P: ProcessImage + ?Sized>(d: &Dump<'_, '_, '_, P>) -> HashMap<String, ObjectId> {
    let s = d.alive.snapshot();
    let bytes = d.alive.retained().bytes();
    let mut ids: Vec<ObjectId> = (0..s.len() as ObjectId).filter(|&id| d.alive.dominators().is_reachable(id)).collect();
    let by_retained = |a: &ObjectId, b: &ObjectId| bytes[*b as usize].cmp(&bytes[*a as usize]).then(a.cmp(b));
    if ids.len() > OWNER_CANDIDATES {
        ids.select_nth_unstable_by(OWNER_CANDIDATES - 1, by_retained);
        ids.truncate(OWNER_CANDIDATES);
    }
    let mut map = HashMap::new();
    for id in ids {
        if let Some(p) = d.paths.path(id) {
            map.entry(p.text).or_insert(id);
        }
    }
    map
}

/// `id` of `from`'s counterpart in `to`: the owner with the same path, else the same object (address, type and
/// path text) below `to`'s candidates.
fn counterpart<P: ProcessImage + ?Sized>(
    path: &str,
    id: ObjectId,
    from: &Dump<'_, '_, '_, P>,
    to: &Dump<'_, '_, '_, P>,
    to_candidates: &HashMap<String, ObjectId>,
) -> Option<ObjectId> {
    if let Some(&t) = to_candidates.get(path) {
        return Some(t);
    }
    let (sf, st) = (from.alive.snapshot(), to.alive.snapshot());
    let t = st.id_of(sf.addr(id)).filter(|&t| st.type_name(t) == sf.type_name(id))?;
    (to.paths.path(t).map(|p| p.text).as_deref() == Some(path)).then_some(t)
}

/// Growth by owner: the candidates of both dumps matched by path; an owner whose growth is mostly a descendant's is
/// left out for it; the `limit` largest changes, most bytes gained first.
fn owner_deltas<P: ProcessImage + ?Sized>(
    old: &Dump<'_, '_, '_, P>,
    new: &Dump<'_, '_, '_, P>,
    limit: usize,
) -> Vec<OwnerDelta> {
    let (co, cn) = (owner_candidates(old), owner_candidates(new));
    // (path, old id, new id)
    let mut pairs: Vec<(String, Option<ObjectId>, Option<ObjectId>)> = Vec::new();
    let mut taken_old = std::collections::HashSet::new();
    for (path, &id) in &cn {
        let o = counterpart(path, id, new, old, &co);
        if let Some(o) = o {
            taken_old.insert(o);
        }
        pairs.push((path.clone(), o, Some(id)));
    }
    for (path, &id) in &co {
        if taken_old.contains(&id) {
            continue;
        }
        pairs.push((path.clone(), Some(id), counterpart(path, id, old, new, &cn)));
    }
    pairs.sort();
    pairs.dedup_by(|a, b| a.1 == b.1 && a.2 == b.2);
    let retained = |d: &Dump<'_, '_, '_, P>, id: Option<ObjectId>| {
        id.map_or((0, 0), |i| {
            (d.alive.retained().bytes()[i as usize], u64::from(d.alive.retained().count()[i as usize]))
        })
    };
    let mut rows: Vec<OwnerDelta> = pairs
        .iter()
        .map(|(path, o, n)| {
            let ((ob, oc), (nb, nc)) = (retained(old, *o), retained(new, *n));
            let type_name = match (n, o) {
                (Some(n), _) => new.alive.snapshot().type_name(*n),
                (None, Some(o)) => old.alive.snapshot().type_name(*o),
                (None, None) => "?",
            };
            OwnerDelta {
                path: path.clone(),
                type_name: type_name.to_owned(),
                old_address: o.map(|i| old.alive.snapshot().addr(i)),
                new_address: n.map(|i| new.alive.snapshot().addr(i)),
                old_retained_bytes: ob,
                new_retained_bytes: nb,
                delta_bytes: delta(nb, ob),
                old_retained_count: oc,
                new_retained_count: nc,
                delta_count: delta(nc, oc),
            }
        })
        .collect();
    let explained = explained_owners(&rows, &pairs, old, new);
    let mut kept: Vec<OwnerDelta> = rows
        .drain(..)
        .zip(explained)
        .filter(|(r, explained)| !explained && r.delta_bytes != 0)
        .map(|(r, _)| r)
        .collect();
    kept.sort_by(|a, b| b.delta_bytes.unsigned_abs().cmp(&a.delta_bytes.unsigned_abs()).then(a.path.cmp(&b.path)));
    kept.truncate(limit);
    kept.sort_by(|a, b| b.delta_bytes.cmp(&a.delta_bytes).then(a.path.cmp(&b.path)));
    kept
}

/// Per row: whether it is left out of the owners. A row is left out when a descendant row (in the dominator tree of
/// the dump where both grew, or both shrank) accounts for at least [`EXPLAINED`] of its change (the descendant says
/// better where the memory went), or when an ancestor row that stays changed the same way (the ancestor's change
/// already counts it).
fn explained_owners<P: ProcessImage + ?Sized>(
    rows: &[OwnerDelta],
    pairs: &[(String, Option<ObjectId>, Option<ObjectId>)],
    old: &Dump<'_, '_, '_, P>,
    new: &Dump<'_, '_, '_, P>,
) -> Vec<bool> {
    let mut explained = vec![false; rows.len()];
    // Per dump: each row's ancestor rows, nearest first, with its change in that dump's direction.
    let mut lineage: Vec<(i64, Vec<usize>)> = Vec::new();
    for (grow, d) in [(true, new), (false, old)] {
        let node = |i: usize| if grow { pairs[i].2 } else { pairs[i].1 };
        let row_of: HashMap<ObjectId, usize> = (0..rows.len()).filter_map(|i| node(i).map(|id| (id, i))).collect();
        let dom = d.alive.dominators();
        for (i, r) in rows.iter().enumerate() {
            let change = if grow { r.delta_bytes } else { -r.delta_bytes };
            let Some(mut v) = node(i).filter(|_| change > 0) else { continue };
            let mut ancestors = Vec::new();
            // The dominator tree is at most as deep as the heap is large; the ancestors that matter are near.
            for _ in 0..256 {
                let Some(up) = dom.immediate_dominator(v).filter(|&u| (u as usize) < d.alive.snapshot().len()) else {
                    break;
                };
                if let Some(&a) = row_of.get(&up) {
                    let up_change = if grow { rows[a].delta_bytes } else { -rows[a].delta_bytes };
                    if up_change > 0 {
                        ancestors.push(a);
                        if change as f64 >= EXPLAINED * up_change as f64 {
                            explained[a] = true;
                        }
                    }
                }
                v = up;
            }
            lineage.push((i as i64, ancestors));
        }
    }
    let mut out = explained.clone();
    for (i, ancestors) in lineage {
        if ancestors.iter().any(|&a| !explained[a]) {
            out[i as usize] = true;
        }
    }
    out
}

fn signed(n: i64) -> String {
    match n {
        0 => "0".to_owned(),
        n if n > 0 => format!("+{}", count(n as u64)),
        n => format!("-{}", count(n.unsigned_abs())),
    }
}

fn signed_mib(n: i64) -> String {
    let m = mib(n.unsigned_abs());
    if n < 0 {
        format!("-{m}")
    } else {
        format!("+{m}")
    }
}

impl DiffReport {
    fn header(&self) -> String {
        let side = |f: &DumpFacts| {
            format!(
                "{} (pid {}, Python {}, {} objects, {} MiB)",
                f.core,
                f.pid.map_or_else(|| "?".to_owned(), |p| p.to_string()),
                f.python,
                count(f.objects),
                mib(f.bytes)
            )
        };
        format!("{} → {}", side(&self.old), side(&self.new))
    }

    fn type_table(&self, limit: usize) -> (Table, usize) {
        let mut t = Table::new(["TYPE", "OLD COUNT", "NEW COUNT", "Δ COUNT", "OLD BYTES", "NEW BYTES", "Δ BYTES"]);
        let changed: Vec<&TypeDelta> = self.types.iter().filter(|r| r.delta_count != 0 || r.delta_bytes != 0).collect();
        for r in changed.iter().take(limit) {
            t.row([
                r.type_name.clone(),
                count(r.old_count),
                count(r.new_count),
                signed(r.delta_count),
                count(r.old_bytes),
                count(r.new_bytes),
                signed(r.delta_bytes),
            ]);
        }
        (t, changed.len())
    }

    fn owner_table(&self) -> Table {
        let mut t = Table::new(["Δ RETAINED", "OLD", "NEW", "Δ COUNT", "TYPE", "PATH"]);
        for r in &self.owners {
            t.row([
                signed(r.delta_bytes),
                count(r.old_retained_bytes),
                count(r.new_retained_bytes),
                signed(r.delta_count),
                r.type_name.clone(),
                r.path.clone(),
            ]);
        }
        t
    }

    fn change_line(what: &str, c: &ObjectChange) -> String {
        let types: Vec<String> = c
            .types
            .iter()
            .take(5)
            .map(|t| format!("{} {} ({} B)", count(t.count), t.type_name, count(t.bytes)))
            .collect();
        format!(
            "{what}: {} objects, {} bytes{}{}",
            count(c.count),
            count(c.bytes),
            if types.is_empty() { "" } else { "; " },
            types.join(", ")
        )
    }

    /// Rows of the type table: as many as the owner table's limit, at least 20.
    fn type_rows(&self) -> usize {
        self.owners.len().max(20)
    }
}

impl Report for DiffReport {
    const FORMATS: &'static [Format] = &[Format::Table, Format::Json, Format::Markdown];

    /// Writes the comparison for a person.
    fn write_table(&self, w: &mut dyn Write) -> io::Result<()> {
        writeln!(w, "{}", self.header())?;
        let total = |f: &DumpFacts| (f.objects, f.bytes);
        let ((oc, ob), (nc, nb)) = (total(&self.old), total(&self.new));
        writeln!(
            w,
            "objects {} ({}), bytes {} ({} MiB)",
            signed(delta(nc, oc)),
            count(nc),
            signed(delta(nb, ob)),
            signed_mib(delta(nb, ob))
        )?;
        for n in &self.notes {
            writeln!(w, "note: {n}")?;
        }
        let (t, changed) = self.type_table(self.type_rows());
        let shown = if t.len() < changed { format!(", the {} largest changes shown", t.len()) } else { String::new() };
        writeln!(w, "\ngrowth by type ({changed} type{} changed{shown}):", if changed == 1 { "" } else { "s" })?;
        t.write(w)?;
        writeln!(w, "\ngrowth by owner (retained bytes; owners matched by their path):")?;
        if self.owners.is_empty() {
            writeln!(w, "  (no owner changed)")?;
        } else {
            self.owner_table().write(w)?;
        }
        if self.objects_matched {
            writeln!(w)?;
            writeln!(w, "{}", Self::change_line("new objects that survive", &self.new_objects))?;
            writeln!(w, "{}", Self::change_line("freed objects", &self.freed_objects))?;
            writeln!(
                w,
                "surviving: {} objects, {} bytes; reused addresses (same type, another object): {}",
                count(self.surviving.count),
                count(self.surviving.bytes),
                count(self.reused_addresses.count)
            )?;
        }
        Ok(())
    }

    /// Writes the comparison as GitHub-flavoured Markdown.
    fn write_markdown(&self, w: &mut dyn Write) -> io::Result<()> {
        writeln!(w, "## What grew: heapscope diff\n")?;
        writeln!(w, "{}\n", md_escape(&self.header()))?;
        for n in &self.notes {
            writeln!(w, "> **Note:** {}\n", md_escape(n))?;
        }
        writeln!(w, "### Growth by type\n")?;
        let (t, _) = self.type_table(self.type_rows());
        t.write_markdown_with(w, &[0])?;
        writeln!(w, "\n### Growth by owner\n")?;
        if self.owners.is_empty() {
            writeln!(w, "No owner changed.")?;
        } else {
            self.owner_table().write_markdown_with(w, &[4, 5])?;
        }
        if self.objects_matched {
            writeln!(w, "\n### New and freed objects\n")?;
            let mut t = Table::new(["", "OBJECTS", "BYTES", "TOP TYPES"]);
            for (what, c) in [("new, surviving", &self.new_objects), ("freed", &self.freed_objects)] {
                let types: Vec<String> =
                    c.types.iter().take(3).map(|t| format!("{} {}", count(t.count), t.type_name)).collect();
                t.row([what.to_owned(), count(c.count), count(c.bytes), types.join(", ")]);
            }
            t.row(["surviving".to_owned(), count(self.surviving.count), count(self.surviving.bytes), String::new()]);
            t.write_markdown(w)?;
            writeln!(
                w,
                "\n{} addresses hold an object of the same type in both dumps that is another object (a freed address \
                 reused).",
                count(self.reused_addresses.count)
            )?;
        }
        Ok(())
    }
}
