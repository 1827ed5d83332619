//! `heapscope summary`: the type histogram of a heap snapshot: per type, how many objects, their `sys.getsizeof`
//! total and their footprint (the memory they really occupy), largest footprint first.
//!
//! JSON: `{"python", "objects": {"count", "bytes", "footprint"}, "references", "types": [{"type", "count", "bytes",
//! "footprint"}], "types_total", "categories": [{"category", "count", "bytes", "footprint"}], "errors",
//! "warnings"}`. `objects` counts every object (undecodable ones too, with 0 bytes); `types` lists the `--top`
//! types; `categories` says how the objects beyond the GC's view were found (see
//! [`heapscope_snapshot::Category`]).

use std::io::{self, Write};

use heapscope_cpython::layout::Unverified;
use heapscope_snapshot::{Category, Snapshot};
use rayon::prelude::*;
use serde::Serialize;

use crate::format::{count, mib};
use crate::report::Report;
use crate::Table;

/// Totals of a set of objects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Number of objects.
    pub count: u64,
    /// Sum of `sys.getsizeof`.
    pub bytes: u64,
    /// Sum of footprints.
    pub footprint: u64,
}

impl Totals {
    // Sizes come from the core: saturate rather than wrap on absurd values.
    fn add(&mut self, size: u64, footprint: u64) {
        self.count += 1;
        self.bytes = self.bytes.saturating_add(size);
        self.footprint = self.footprint.saturating_add(footprint);
    }

    fn merge(mut self, o: Totals) -> Totals {
        self.count += o.count;
        self.bytes = self.bytes.saturating_add(o.bytes);
        self.footprint = self.footprint.saturating_add(o.footprint);
        self
    }
}

/// One row of the histogram.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TypeRow {
    /// The type's name (`int`, `collections.OrderedDict`, `__main__.Node`).
    #[serde(rename = "type")]
    pub type_name: String,
    /// Number of objects.
    pub count: u64,
    /// Sum of `sys.getsizeof`.
    pub bytes: u64,
    /// Sum of footprints.
    pub footprint: u64,
}

/// Objects of one category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryRow {
    /// The category.
    pub category: Category,
    /// Number of objects.
    pub count: u64,
    /// Sum of `sys.getsizeof`.
    pub bytes: u64,
    /// Sum of footprints.
    pub footprint: u64,
}

/// Everything `summary` reports.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryReport {
    /// The Python version.
    pub python: String,
    /// All objects.
    pub objects: Totals,
    /// Number of references between them.
    pub references: u64,
    /// The largest types by footprint (all, or the `--top N`).
    pub types: Vec<TypeRow>,
    /// Number of distinct types.
    pub types_total: u64,
    /// Objects per category, in rule order (categories without objects are left out).
    pub categories: Vec<CategoryRow>,
    /// Objects (and other parts) that could not be decoded.
    pub errors: u64,
    /// Notes from the build.
    pub warnings: Vec<String>,
    /// Set when heapscope has no layout table for this Python version: what stood in for it, and that the results
    /// are unverified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unverified_version: Option<Unverified>,
}

impl SummaryReport {
    /// Computes the histogram; `top` keeps only the largest types.
    pub fn collect(snapshot: &Snapshot, top: Option<usize>) -> SummaryReport {
        let (type_ids, sizes, footprints) = snapshot.columns();
        let ntypes = snapshot.types().len();
        // Per-type totals, in parallel over blocks of objects: each block fills its own table, then tables merge.
        let per_type = (0..type_ids.len())
            .into_par_iter()
            .with_min_len(1 << 16)
            .fold(
                || vec![Totals::default(); ntypes],
                |mut acc, i| {
                    if let Some(t) = acc.get_mut(type_ids[i] as usize) {
                        t.add(sizes[i], footprints[i]);
                    }
                    acc
                },
            )
            .reduce(|| vec![Totals::default(); ntypes], |a, b| a.into_iter().zip(b).map(|(x, y)| x.merge(y)).collect());
        let mut objects = Totals::default();
        for t in &per_type {
            objects = objects.merge(*t);
        }
        objects.count = type_ids.len() as u64;
        let mut types: Vec<TypeRow> = per_type
            .iter()
            .zip(snapshot.types())
            .filter(|(t, _)| t.count > 0)
            .map(|(t, ty)| TypeRow {
                type_name: ty.name.clone(),
                count: t.count,
                bytes: t.bytes,
                footprint: t.footprint,
            })
            .collect();
        // Distinct type objects may share a name (two classes `Node` in one module): merge them.
        types.sort_by(|a, b| a.type_name.cmp(&b.type_name));
        types.dedup_by(|b, a| {
            let same = a.type_name == b.type_name;
            if same {
                a.count += b.count;
                a.bytes = a.bytes.saturating_add(b.bytes);
                a.footprint = a.footprint.saturating_add(b.footprint);
            }
            same
        });
        let types_total = types.len() as u64;
        types.sort_by(|a, b| {
            b.footprint.cmp(&a.footprint).then(b.count.cmp(&a.count)).then(a.type_name.cmp(&b.type_name))
        });
        if let Some(n) = top {
            types.truncate(n);
        }
        SummaryReport {
            python: snapshot.version().to_string(),
            objects,
            references: snapshot.num_refs() as u64,
            types,
            types_total,
            categories: category_rows(snapshot),
            errors: snapshot.errors().total(),
            warnings: snapshot.warnings().to_vec(),
            unverified_version: None,
        }
    }
}

impl Report for SummaryReport {
    /// Writes the report as a table.
    fn write_table(&self, w: &mut dyn Write) -> io::Result<()> {
        let o = &self.objects;
        writeln!(
            w,
            "Python {}: {} objects, {} MiB by sys.getsizeof, {} MiB footprint, {} references",
            self.python,
            count(o.count),
            mib(o.bytes),
            mib(o.footprint),
            count(self.references)
        )?;
        writeln!(w)?;
        let mut t = Table::new(["TYPE", "COUNT", "BYTES", "FOOTPRINT", "FOOTPRINT %"]);
        for r in &self.types {
            let pct = 100.0 * r.footprint as f64 / o.footprint.max(1) as f64;
            t.row([r.type_name.clone(), count(r.count), count(r.bytes), count(r.footprint), format!("{pct:.1}")]);
        }
        t.write(w)?;
        let hidden = self.types_total.saturating_sub(self.types.len() as u64);
        if hidden > 0 {
            writeln!(w, "… and {} more types (--top to show more)", count(hidden))?;
        }
        let beyond: Vec<&CategoryRow> = self.categories.iter().filter(|c| c.category != Category::GcClosure).collect();
        if !beyond.is_empty() {
            let n: u64 = beyond.iter().map(|c| c.count).sum();
            let parts: Vec<String> = beyond.iter().map(|c| format!("{} {}", c.category, count(c.count))).collect();
            writeln!(w)?;
            writeln!(w, "Beyond what gc.get_objects() reaches: {} objects ({})", count(n), parts.join(", "))?;
        }
        if self.errors > 0 {
            writeln!(w, "Could not decode: {} (see --verbose)", count(self.errors))?;
        }
        Ok(())
    }
}

/// Objects per category, in rule order.
fn category_rows(snapshot: &Snapshot) -> Vec<CategoryRow> {
    let (_, sizes, footprints) = snapshot.columns();
    let mut acc = [Totals::default(); Category::ALL.len()];
    for (i, c) in snapshot.categories().iter().enumerate() {
        acc[*c as usize].add(sizes[i], footprints[i]);
    }
    Category::ALL
        .iter()
        .zip(acc)
        .filter(|(_, t)| t.count > 0)
        .map(|(&category, t)| CategoryRow { category, count: t.count, bytes: t.bytes, footprint: t.footprint })
        .collect()
}
