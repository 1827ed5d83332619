//! pymalloc's statistics as `sys._debugmallocstats()` prints them (`_PyObject_DebugMallocStats` in
//! `Objects/obmalloc.c`), from the arena table and the pool headers in the core.
//!
//! The same walk as CPython's: every arena in use; in each, the carved pools (from the first pool-aligned address up
//! to `pool_address`); a pool with `ref.count == 0` is unused, any other counts for its size class with `ref.count`
//! blocks in use and `NUMBLOCKS(szidx) − ref.count` available. The totals follow from those: bytes in allocated and
//! available blocks, unused pools (the arenas' `nfreepools` × `POOL_SIZE`), pool headers, quantization (the tail of
//! each pool too small for a block), arena alignment (a `POOL_SIZE` per arena not pool-aligned), and their sum,
//! which is the arenas' bytes.

use heapscope_coredump::{Addr, Memory};
use serde::Serialize;

use super::{read_arenas, u32_at, ArenaTable, Geometry, SIZE_CLASSES};
use crate::layout::Layout;

/// One size class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SizeClass {
    /// The class index (`szidx`).
    pub index: u32,
    /// Bytes per block.
    pub size: u64,
    /// Pools of this class in use.
    pub pools: u64,
    /// Blocks allocated.
    pub blocks_in_use: u64,
    /// Blocks available in those pools (free or not carved yet).
    pub blocks_free: u64,
}

/// pymalloc's statistics for one arena table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PymallocStats {
    /// Arena and pool sizes.
    pub geometry: Option<Geometry>,
    /// Arenas in use (`# arenas allocated current`).
    pub arenas: u64,
    /// Their bytes (`arenas × ARENA_SIZE`).
    pub arena_bytes: u64,
    /// Each arena's address range.
    #[serde(skip)]
    pub arena_ranges: Vec<(Addr, Addr)>,
    /// The used pools and their block size, by address.
    #[serde(skip)]
    pub pools: Vec<(Addr, u64)>,
    /// Per size class, all 32 (classes without a pool included).
    pub size_classes: Vec<SizeClass>,
    /// `# bytes in allocated blocks`.
    pub allocated_bytes: u64,
    /// `# bytes in available blocks`.
    pub available_bytes: u64,
    /// `unused pools * POOL_SIZE bytes`: empty pools, carved or not.
    pub unused_pools: u64,
    /// Their bytes.
    pub unused_pool_bytes: u64,
    /// `# bytes lost to pool headers`.
    pub pool_header_bytes: u64,
    /// `# bytes lost to quantization`.
    pub quantization_bytes: u64,
    /// `# bytes lost to arena alignment`.
    pub arena_alignment_bytes: u64,
    /// `Total`: the sum of the five above and the allocated and available bytes.
    pub total_bytes: u64,
    /// Pools whose header could not be read or is inconsistent (counted as nothing).
    pub pool_errors: u64,
    /// What could not be read.
    pub warnings: Vec<String>,
}

impl PymallocStats {
    /// The size of the pymalloc block holding `addr`, when `addr` is in a used pool.
    pub fn block_size(&self, addr: Addr) -> Option<u64> {
        let g = self.geometry?;
        let pool = Addr(addr.0 - addr.0 % g.pool_size);
        let i = self.pools.binary_search_by_key(&pool, |p| p.0).ok()?;
        (addr.0 - pool.0 >= g.pool_overhead).then_some(self.pools[i].1)
    }
}

/// Most warnings kept about unreadable pools.
const MAX_WARNINGS: usize = 20;

/// pymalloc's statistics from the arena table `table` (see the module documentation).
pub fn pymalloc_stats<P: Memory + ?Sized>(p: &P, layout: &Layout, table: &ArenaTable) -> PymallocStats {
    let g = table.geometry;
    let mut s = PymallocStats {
        geometry: Some(g),
        size_classes: (0..SIZE_CLASSES)
            .map(|i| SizeClass { index: i, size: g.block_size(i), ..SizeClass::default() })
            .collect(),
        ..PymallocStats::default()
    };
    let (arenas, errors) = read_arenas(p, layout, table);
    s.warnings.extend(errors);
    let ph = &layout.pool;
    let Some(header) = ph.size.offset.and_then(|o| usize::try_from(o).ok()) else {
        s.warnings.push("the size of a pool header is not known: pools not read".into());
        return s;
    };
    for a in &arenas {
        s.arenas += 1;
        s.arena_ranges.push((a.address, Addr(a.address.0.saturating_add(g.arena_size))));
        s.unused_pools += u64::from(a.nfreepools);
        if !a.address.0.is_multiple_of(g.pool_size) {
            s.arena_alignment_bytes += g.pool_size;
        }
        for pool in a.pools(&g) {
            let fields = p.bytes(pool, header).ok().and_then(|h| {
                let (count, szidx, index) =
                    (u32_at(&h, &ph.count)?, u32_at(&h, &ph.szidx)?, u32_at(&h, &ph.arenaindex)?);
                Some((count, szidx, index))
            });
            let Some((count, szidx, index)) = fields else {
                s.pool_errors += 1;
                if s.warnings.len() < MAX_WARNINGS {
                    s.warnings.push(format!("pool {pool} of arena {}: header unreadable", a.index));
                }
                continue;
            };
            if count == 0 {
                continue;
            }
            let max = (g.pool_size - g.pool_overhead) / g.block_size(szidx.min(SIZE_CLASSES - 1));
            if index != a.index || szidx >= SIZE_CLASSES || u64::from(count) > max {
                s.pool_errors += 1;
                if s.warnings.len() < MAX_WARNINGS {
                    s.warnings.push(format!(
                        "pool {pool} of arena {}: arenaindex {index}, size class {szidx}, {count} blocks: inconsistent",
                        a.index
                    ));
                }
                continue;
            }
            s.pools.push((pool, g.block_size(szidx)));
            let c = &mut s.size_classes[szidx as usize];
            c.pools += 1;
            c.blocks_in_use += u64::from(count);
            c.blocks_free += max - u64::from(count);
        }
    }
    if s.pool_errors > MAX_WARNINGS as u64 {
        s.warnings.push(format!("{} pools could not be read in all", s.pool_errors));
    }
    s.pools.sort_unstable();
    s.arena_bytes = s.arenas * g.arena_size;
    s.unused_pool_bytes = s.unused_pools.saturating_mul(g.pool_size);
    for c in &s.size_classes {
        s.allocated_bytes += c.blocks_in_use * c.size;
        s.available_bytes += c.blocks_free * c.size;
        s.pool_header_bytes += c.pools * g.pool_overhead;
        s.quantization_bytes += c.pools * ((g.pool_size - g.pool_overhead) % c.size);
    }
    s.total_bytes = s.allocated_bytes
        + s.available_bytes
        + s.unused_pool_bytes
        + s.pool_header_bytes
        + s.quantization_bytes
        + s.arena_alignment_bytes;
    s
}
