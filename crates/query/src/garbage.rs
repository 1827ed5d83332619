//! `heapscope garbage`: what `gc.collect()` would free if it ran at the moment of the dump (see
//! [`heapscope_analysis::garbage`]).
//!
//! JSON: `{"python", "count", "objects", "freed": {"count", "bytes", "footprint"}, "certainly_freed", "uncollectable",
//! "may_resurrect", "candidates", "types": [{"type", "count", "bytes"}], "cycles": [{"types": [{"type", "count"}],
//! "count", "objects", "bytes", "example"}], "overcounted", "warnings"}`. `count` is what
//! `gc.collect()` would return and `objects` the addresses it would find unreachable (ascending); `freed` counts the
//! collectable ones and every object that only they hold; `certainly_freed` leaves out what a finalizer could
//! resurrect.

use std::collections::HashMap;
use std::io::{self, Write};

use heapscope_analysis::cycles::{cycles_of, garbage_components};
use heapscope_analysis::garbage::{garbage, Garbage};
use heapscope_coredump::Addr;
use heapscope_snapshot::Snapshot;
use serde::Serialize;

use crate::cycles::{signature, signature_text, TypeCount};
use crate::format::{count, mib};
use crate::report::Report;
use crate::Table;

/// Totals of the freed objects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Freed {
    /// Objects freed: the unreachable ones and what only they hold.
    pub count: u64,
    /// Their `sys.getsizeof` total.
    pub bytes: u64,
    /// Their footprint total.
    pub footprint: u64,
}

/// Unreachable objects of one type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GarbageType {
    /// The type's name.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Unreachable objects of the type.
    pub count: u64,
    /// Their `sys.getsizeof` total.
    pub bytes: u64,
}

/// Garbage cycles of one type signature.
#[derive(Debug, Clone, Serialize)]
pub struct CycleGroup {
    /// The signature: the types of a cycle's objects, with counts.
    pub types: Vec<TypeCount>,
    /// Cycles with this signature.
    pub count: u64,
    /// Their objects.
    pub objects: u64,
    /// Their `sys.getsizeof` total.
    pub bytes: u64,
    /// One of them (its first object).
    pub example: Addr,
}

/// Everything `garbage` reports.
#[derive(Debug, Clone, Serialize)]
pub struct GarbageReport {
    /// The Python version.
    pub python: String,
    /// What `gc.collect()` would return: the number of unreachable objects.
    pub count: u64,
    /// Their addresses, ascending.
    pub objects: Vec<Addr>,
    /// What clearing them frees.
    pub freed: Freed,
    /// The part of `freed` no finalizer can resurrect (`footprint` 0: not summed).
    pub certainly_freed: Freed,
    /// Unreachable objects a collection would leave in `gc.garbage` (legacy `tp_del`, and what they reach).
    pub uncollectable: Vec<Addr>,
    /// Unreachable objects with a finalizer (`__del__`, `tp_finalize`) or a weak reference callback, which may
    /// resurrect them and what they reach.
    pub may_resurrect: Vec<Addr>,
    /// Objects a full collection looks at (tracked, not frozen, not immortal).
    pub candidates: u64,
    /// Unreachable objects by type, most bytes first.
    pub types: Vec<GarbageType>,
    /// The reference cycles among the unreachable objects, grouped by type signature, most objects first.
    pub cycles: Vec<CycleGroup>,
    /// Objects with more references from other GC objects than their refcount (a decoding problem; 0 expected).
    pub overcounted: u64,
    /// Notes from the build (for instance: a collection was running at the dump).
    pub warnings: Vec<String>,
}

impl GarbageReport {
    /// Runs the simulated collection on `snapshot`.
    pub fn collect(snapshot: &Snapshot) -> GarbageReport {
        GarbageReport::of(snapshot, &garbage(snapshot))
    }

    /// The report of a collection already simulated on `snapshot`.
    pub fn of(snapshot: &Snapshot, g: &Garbage) -> GarbageReport {
        let (_, sizes, _) = snapshot.columns();
        let mut by_type: HashMap<&str, (u64, u64)> = HashMap::new();
        for &id in &g.unreachable {
            let e = by_type.entry(snapshot.type_name(id)).or_default();
            e.0 += 1;
            e.1 += sizes[id as usize];
        }
        let mut types: Vec<GarbageType> = by_type
            .into_iter()
            .map(|(t, (count, bytes))| GarbageType { type_name: t.to_owned(), count, bytes })
            .collect();
        types.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(b.count.cmp(&a.count)).then(a.type_name.cmp(&b.type_name)));
        let sccs = garbage_components(snapshot, &g.unreachable);
        let mut groups: HashMap<String, CycleGroup> = HashMap::new();
        for c in cycles_of(&sccs) {
            let members = sccs.members(c);
            let types = signature(snapshot, members);
            let e = groups.entry(signature_text(&types)).or_insert_with(|| CycleGroup {
                types,
                count: 0,
                objects: 0,
                bytes: 0,
                example: snapshot.addr(members[0]),
            });
            e.count += 1;
            e.objects += members.len() as u64;
            e.bytes += members.iter().map(|&m| sizes[m as usize]).sum::<u64>();
        }
        let mut cycles: Vec<CycleGroup> = groups.into_values().collect();
        cycles.sort_by(|a, b| b.objects.cmp(&a.objects).then(b.bytes.cmp(&a.bytes)).then(a.example.cmp(&b.example)));
        GarbageReport {
            cycles,
            python: snapshot.version().to_string(),
            count: g.unreachable.len() as u64,
            objects: g.unreachable.iter().map(|&id| snapshot.addr(id)).collect(),
            freed: Freed { count: g.freed.len() as u64, bytes: g.freed_bytes, footprint: g.freed_footprint },
            certainly_freed: Freed { count: g.certainly_freed.0, bytes: g.certainly_freed.1, footprint: 0 },
            uncollectable: g.uncollectable.iter().map(|&id| snapshot.addr(id)).collect(),
            may_resurrect: g.may_resurrect.iter().map(|&id| snapshot.addr(id)).collect(),
            candidates: g.candidates,
            types,
            overcounted: g.overcounted,
            warnings: snapshot.warnings().to_vec(),
        }
    }
}

impl Report for GarbageReport {
    /// Writes the report for a person.
    fn write_table(&self, w: &mut dyn Write) -> io::Result<()> {
        writeln!(
            w,
            "gc.collect() would find {} unreachable objects (of {} it looks at) and free {} objects, {} MiB ({} MiB \
             footprint).",
            count(self.count),
            count(self.candidates),
            count(self.freed.count),
            mib(self.freed.bytes),
            mib(self.freed.footprint),
        )?;
        if !self.may_resurrect.is_empty() || !self.uncollectable.is_empty() {
            writeln!(
                w,
                "{} have a finalizer or a weakref callback that may resurrect them: {} objects, {} MiB are freed \
                 whatever the finalizers do. {} would stay in gc.garbage (legacy tp_del).",
                count(self.may_resurrect.len() as u64),
                count(self.certainly_freed.count),
                mib(self.certainly_freed.bytes),
                count(self.uncollectable.len() as u64),
            )?;
        }
        if self.types.is_empty() {
            return Ok(());
        }
        writeln!(w)?;
        let mut t = Table::new(["TYPE", "COUNT", "BYTES"]);
        for r in &self.types {
            t.row([r.type_name.clone(), count(r.count), count(r.bytes)]);
        }
        t.write(w)?;
        if !self.cycles.is_empty() {
            writeln!(w)?;
            let mut t = Table::new(["CYCLES", "OBJECTS", "BYTES", "EXAMPLE", "TYPES"]);
            for c in &self.cycles {
                t.row([
                    count(c.count),
                    count(c.objects),
                    count(c.bytes),
                    c.example.to_string(),
                    signature_text(&c.types),
                ]);
            }
            t.write(w)?;
        }
        if self.overcounted > 0 {
            writeln!(
                w,
                "\n{} objects have more references from GC objects than their refcount: the count may be off.",
                count(self.overcounted)
            )?;
        }
        Ok(())
    }
}
