//! `heapscope memory`: where the process's memory went, from the core's segments and pymalloc's own bookkeeping.
//!
//! - **Mappings by kind**: every `PT_LOAD` segment of the core is one mapping; its bytes go to the pymalloc arenas
//!   it holds, and the rest to its kind: a thread's stack (it holds a thread's stack pointer), a mapped file
//!   (NT_FILE names it), the brk heap (the first anonymous writable mapping after the executable, within the 32 MiB
//!   of brk randomisation: a heuristic), or other anonymous memory (glibc's mmap'd chunks and thread arenas,
//!   extension buffers, …). A core tells what was mapped and what was dumped, not which pages were resident or
//!   swapped out.
//! - **pymalloc**: arenas, pools, and per size class the pools, blocks in use and blocks available, as
//!   `sys._debugmallocstats()` prints them ([`heapscope_cpython::heap::obmalloc::pymalloc_stats`]).
//! - **Totals** that reconcile: the arenas' bytes are the blocks of the Python objects in them (from the
//!   snapshot), the other allocated blocks (buffers, dict keys, free-listed objects), pymalloc's overhead (pool
//!   headers, quantization, arena alignment) and its free space (available blocks, unused pools).
//!
//! JSON: `{"python", "mappings": [{"kind", "mappings", "bytes", "dumped_bytes"}], "pymalloc": {"geometry", "arenas":
//! {"count", "bytes"}, "pools": {"used", "unused", "header_bytes"}, "size_classes": [{"index", "size", "pools",
//! "blocks_in_use", "blocks_free"}], "allocated_bytes", "available_bytes", "unused_pool_bytes",
//! "quantization_bytes", "arena_alignment_bytes", "total_bytes"}, "objects": {"in_arenas", "outside_arenas"},
//! "totals": {…}, "notes", "warnings"}`.

use std::io::{self, Write};

use heapscope_coredump::{Addr, CoreProcess};
use heapscope_cpython::heap::obmalloc::{Geometry, PymallocStats, SizeClass};
use heapscope_snapshot::Snapshot;
use serde::Serialize;

use crate::format::{count, mib};
use crate::report::Report;
use crate::Table;

/// The kinds of mapping, in the order they are listed.
pub const KINDS: [&str; 5] = ["pymalloc arenas", "heap (brk)", "anonymous", "thread stacks", "mapped files"];

/// The brk heap starts at most this far after the executable (`brk` randomisation on x86-64 Linux), plus a margin.
const BRK_WINDOW: u64 = (32 << 20) + (2 << 20);

/// Mappings of one kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MappingRow {
    /// The kind.
    pub kind: String,
    /// Mappings (core segments) with bytes of this kind.
    pub mappings: u64,
    /// Bytes mapped.
    pub bytes: u64,
    /// Of those, bytes the core holds.
    pub dumped_bytes: u64,
}

/// pymalloc's arenas.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Arenas {
    /// Arenas in use.
    pub count: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// pymalloc's pools.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Pools {
    /// Pools in use.
    pub used: u64,
    /// Empty pools (carved or not).
    pub unused: u64,
    /// Bytes of the used pools' headers.
    pub header_bytes: u64,
}

/// The `pymalloc` section.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PymallocSection {
    /// Arena and pool sizes.
    pub geometry: Option<Geometry>,
    /// Arenas.
    pub arenas: Arenas,
    /// Pools.
    pub pools: Pools,
    /// Per size class.
    pub size_classes: Vec<SizeClass>,
    /// Bytes in allocated blocks.
    pub allocated_bytes: u64,
    /// Bytes in available blocks of used pools.
    pub available_bytes: u64,
    /// Bytes of unused pools.
    pub unused_pool_bytes: u64,
    /// Bytes lost to quantization.
    pub quantization_bytes: u64,
    /// Bytes lost to arena alignment.
    pub arena_alignment_bytes: u64,
    /// The sum of the above and the pool headers: the arenas' bytes when every pool was read.
    pub total_bytes: u64,
}

/// Objects and their bytes.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ObjectTotals {
    /// Objects.
    pub count: u64,
    /// In the arenas: the bytes of the blocks that hold them; elsewhere: their footprint.
    pub bytes: u64,
}

/// Python objects by where they live.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ObjectsSection {
    /// In pymalloc's arenas.
    pub in_arenas: ObjectTotals,
    /// Elsewhere: objects of more than 512 bytes from malloc, static objects in the binaries' data.
    pub outside_arenas: ObjectTotals,
}

/// How the arenas' bytes are used, and the mapped memory in all.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct MemoryTotals {
    /// Bytes mapped, all kinds.
    pub mapped_bytes: u64,
    /// Of those, bytes the core holds.
    pub dumped_bytes: u64,
    /// pymalloc's arenas.
    pub arena_bytes: u64,
    /// The blocks that hold Python objects.
    pub object_bytes: u64,
    /// Allocated blocks that hold no live Python object: buffers, dict keys, free-listed objects.
    pub other_block_bytes: u64,
    /// pymalloc's overhead: pool headers, quantization, arena alignment.
    pub overhead_bytes: u64,
    /// pymalloc's free space: available blocks and unused pools.
    pub free_bytes: u64,
    /// `arena_bytes − (object + other block + overhead + free bytes)`: 0 when every pool was read.
    pub unaccounted_bytes: i64,
}

/// `heapscope memory`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MemoryReport {
    /// The Python version.
    pub python: String,
    /// Mappings by kind.
    pub mappings: Vec<MappingRow>,
    /// pymalloc's statistics.
    pub pymalloc: PymallocSection,
    /// Python objects by where they live.
    pub objects: ObjectsSection,
    /// Totals.
    pub totals: MemoryTotals,
    /// What a core can and cannot tell.
    pub notes: Vec<String>,
    /// What could not be read.
    pub warnings: Vec<String>,
}

/// The union of `ranges` as sorted, disjoint ranges. Ranges read from a core may overlap (a corrupt arena table):
/// merged once, each segment then sums only the ranges it overlaps.
fn union(mut ranges: Vec<(Addr, Addr)>) -> Vec<(Addr, Addr)> {
    ranges.sort_unstable();
    let mut out: Vec<(Addr, Addr)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges.into_iter().filter(|r| r.0 < r.1) {
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

/// Whether `[a, b)` overlaps any of `ranges`, sorted by start, with `max_end[i]` the largest end of `ranges[..=i]`.
fn overlaps_any(ranges: &[(u64, u64)], max_end: &[u64], a: u64, b: u64) -> bool {
    let n = ranges.partition_point(|r| r.0 < b);
    n > 0 && max_end[n - 1] > a
}

/// Bytes of `[a, b)` within the sorted, disjoint `ranges`.
fn overlap(ranges: &[(Addr, Addr)], a: u64, b: u64) -> u64 {
    let first = ranges.partition_point(|r| r.1 .0 <= a);
    ranges[first..].iter().take_while(|r| r.0 .0 < b).map(|r| r.1 .0.min(b).saturating_sub(r.0 .0.max(a))).sum()
}

impl MemoryReport {
    /// The report for `process`, whose pymalloc statistics are `stats` (none when the arena table was not found).
    pub fn collect(process: &CoreProcess, snapshot: &Snapshot, stats: Option<&PymallocStats>) -> MemoryReport {
        let core = process.core();
        let arenas = union(stats.map(|s| s.arena_ranges.clone()).unwrap_or_default());
        let mut sps: Vec<u64> = core.threads().iter().filter_map(|t| t.regs.sp()).collect();
        sps.sort_unstable();
        let mut files: Vec<(u64, u64)> = core.mapped_files().iter().map(|m| (m.start.0, m.end.0)).collect();
        files.sort_unstable();
        let max_end: Vec<u64> = files
            .iter()
            .scan(0, |m, f| {
                *m = f.1.max(*m);
                Some(*m)
            })
            .collect();
        let exe = process.executable();
        let exe_end = core
            .mapped_files()
            .iter()
            .filter(|m| exe.as_deref().is_some_and(|e| m.path.as_os_str() == e))
            .map(|m| m.end.0)
            .max();
        let mut rows: Vec<MappingRow> =
            KINDS.iter().map(|k| MappingRow { kind: (*k).to_owned(), ..MappingRow::default() }).collect();
        let mut brk_found = false;
        let mut add = |kind: usize, bytes: u64, dumped: u64| {
            if bytes > 0 {
                let r = &mut rows[kind];
                r.mappings += 1;
                r.bytes = r.bytes.saturating_add(bytes);
                r.dumped_bytes = r.dumped_bytes.saturating_add(dumped);
            }
        };
        for seg in core.segments() {
            let (a, b) = (seg.vaddr.0, seg.end().0);
            let dumped_end = seg.dumped_end().0;
            // Arena ranges come from the core and may overlap: never count more than the segment holds.
            let in_arenas = overlap(&arenas, a, b).min(seg.memsz);
            let in_arenas_dumped = overlap(&arenas, a, dumped_end).min(in_arenas);
            add(0, in_arenas, in_arenas_dumped);
            let (rest, rest_dumped) =
                (seg.memsz - in_arenas, dumped_end.saturating_sub(a).saturating_sub(in_arenas_dumped));
            let file = overlaps_any(&files, &max_end, a, b);
            let kind = if sps.get(sps.partition_point(|&sp| sp < a)).is_some_and(|&sp| sp < b) {
                3
            } else if file {
                4
            } else if !brk_found && seg.writable && exe_end.is_some_and(|e| a >= e && a - e <= BRK_WINDOW) {
                brk_found = true;
                1
            } else {
                2
            };
            add(kind, rest, rest_dumped);
        }
        let mut totals = MemoryTotals::default();
        for r in &rows {
            totals.mapped_bytes = totals.mapped_bytes.saturating_add(r.bytes);
            totals.dumped_bytes = totals.dumped_bytes.saturating_add(r.dumped_bytes);
        }

        // An object in an arena occupies its own block (its other allocations, a list's items or a dict's keys,
        // are other blocks or malloc'd); an object elsewhere is counted with its footprint.
        let mut objects = ObjectsSection::default();
        let (_, _, footprints) = snapshot.columns();
        for (id, &fp) in footprints.iter().enumerate() {
            let addr = snapshot.addr(id as u32);
            match stats.and_then(|s| s.block_size(addr)) {
                Some(block) => {
                    objects.in_arenas.count += 1;
                    objects.in_arenas.bytes = objects.in_arenas.bytes.saturating_add(block);
                }
                None => {
                    objects.outside_arenas.count += 1;
                    objects.outside_arenas.bytes = objects.outside_arenas.bytes.saturating_add(fp);
                }
            }
        }

        let mut pymalloc = PymallocSection::default();
        let mut warnings = Vec::new();
        match stats {
            Some(s) => {
                pymalloc = PymallocSection {
                    geometry: s.geometry,
                    arenas: Arenas { count: s.arenas, bytes: s.arena_bytes },
                    pools: Pools {
                        used: s.size_classes.iter().map(|c| c.pools).sum(),
                        unused: s.unused_pools,
                        header_bytes: s.pool_header_bytes,
                    },
                    size_classes: s.size_classes.clone(),
                    allocated_bytes: s.allocated_bytes,
                    available_bytes: s.available_bytes,
                    unused_pool_bytes: s.unused_pool_bytes,
                    quantization_bytes: s.quantization_bytes,
                    arena_alignment_bytes: s.arena_alignment_bytes,
                    total_bytes: s.total_bytes,
                };
                warnings.extend(s.warnings.iter().cloned());
                totals.arena_bytes = s.arena_bytes;
                totals.object_bytes = objects.in_arenas.bytes;
                totals.other_block_bytes = s.allocated_bytes.saturating_sub(objects.in_arenas.bytes);
                totals.overhead_bytes = s.pool_header_bytes + s.quantization_bytes + s.arena_alignment_bytes;
                totals.free_bytes = s.available_bytes.saturating_add(s.unused_pool_bytes);
                let accounted = [totals.other_block_bytes, totals.overhead_bytes, totals.free_bytes]
                    .iter()
                    .fold(totals.object_bytes, |a, &b| a.saturating_add(b));
                totals.unaccounted_bytes = (i128::from(s.arena_bytes) - i128::from(accounted)) as i64;
            }
            None => warnings.push("pymalloc's arena table was not found: no pymalloc statistics".into()),
        }
        MemoryReport {
            python: snapshot.version().to_string(),
            mappings: rows,
            pymalloc,
            objects,
            totals,
            notes: vec![
                "a core tells what was mapped and what was dumped, not which pages were resident or swapped out".into(),
                "the brk heap is the first anonymous writable mapping after the executable (a heuristic)".into(),
            ],
            warnings,
        }
    }
}

impl Report for MemoryReport {
    /// Writes the report for a person.
    fn write_table(&self, w: &mut dyn Write) -> io::Result<()> {
        writeln!(w, "mappings (Python {}):", self.python)?;
        let mut t = Table::new(["KIND", "MAPPINGS", "MIB", "DUMPED MIB"]);
        for r in &self.mappings {
            t.row([r.kind.clone(), count(r.mappings), mib(r.bytes), mib(r.dumped_bytes)]);
        }
        t.row(["total".to_owned(), String::new(), mib(self.totals.mapped_bytes), mib(self.totals.dumped_bytes)]);
        t.write(w)?;
        let p = &self.pymalloc;
        writeln!(
            w,
            "\npymalloc: {} arenas ({} MiB), {} pools used, {} unused",
            count(p.arenas.count),
            mib(p.arenas.bytes),
            count(p.pools.used),
            count(p.pools.unused)
        )?;
        let mut t = Table::new(["CLASS", "SIZE", "POOLS", "BLOCKS IN USE", "AVAILABLE"]);
        for c in p.size_classes.iter().filter(|c| c.pools > 0) {
            t.row([
                c.index.to_string(),
                c.size.to_string(),
                count(c.pools),
                count(c.blocks_in_use),
                count(c.blocks_free),
            ]);
        }
        t.write(w)?;
        let o = &self.totals;
        writeln!(w, "\narena bytes {} =", count(o.arena_bytes))?;
        writeln!(w, "  {:>14}  Python objects ({})", count(o.object_bytes), count(self.objects.in_arenas.count))?;
        writeln!(w, "  {:>14}  other allocated blocks (buffers, dict keys, free lists)", count(o.other_block_bytes))?;
        writeln!(w, "  {:>14}  pymalloc overhead (pool headers, quantization, alignment)", count(o.overhead_bytes))?;
        writeln!(w, "  {:>14}  free (available blocks, unused pools)", count(o.free_bytes))?;
        if o.unaccounted_bytes != 0 {
            writeln!(w, "  {:>14}  unaccounted (pools that could not be read)", o.unaccounted_bytes)?;
        }
        writeln!(
            w,
            "objects outside the arenas: {} ({} bytes)",
            count(self.objects.outside_arenas.count),
            count(self.objects.outside_arenas.bytes)
        )?;
        for n in &self.notes {
            writeln!(w, "note: {n}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(a: u64, b: u64) -> (Addr, Addr) {
        (Addr(a), Addr(b))
    }

    #[test]
    fn overlapping_arena_ranges_are_counted_once() {
        // Nested, overlapping, adjacent and empty ranges, unsorted, as a corrupt arena table gives them.
        let u = union(vec![r(50, 60), r(0, 10), r(5, 20), r(20, 30), r(7, 8), r(40, 40), r(55, 100)]);
        assert_eq!(u, vec![r(0, 30), r(50, 100)]);
        assert_eq!(overlap(&u, 0, 1000), 80);
        assert_eq!(overlap(&u, 25, 55), 10);
        assert_eq!(overlap(&u, 30, 50), 0);
    }

    #[test]
    fn a_segment_overlaps_a_mapped_file_that_starts_before_it() {
        // Sorted by start; the first file spans the others.
        let files = [(0, 100), (10, 20), (30, 40)];
        let max_end = [100, 100, 100];
        assert!(overlaps_any(&files, &max_end, 60, 70));
        assert!(!overlaps_any(&files, &max_end, 100, 200));
        let files = [(10, 20), (30, 40)];
        let max_end = [20, 40];
        assert!(!overlaps_any(&files, &max_end, 20, 30));
        assert!(overlaps_any(&files, &max_end, 19, 30));
        assert!(!overlaps_any(&files, &max_end, 0, 10));
    }
}
