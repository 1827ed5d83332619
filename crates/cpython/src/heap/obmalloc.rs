//! pymalloc (`Objects/obmalloc.c`): where its arena table is, its arenas and pools, and which blocks of a pool are
//! allocated.
//!
//! Facts confirmed on the fixture cores (3.8.18 … 3.13.0 pyenv builds, Debian 3.14.10):
//!
//! - **Geometry**: 256 KiB arenas of 4 KiB pools in 3.8 and 3.9; 1 MiB arenas of 16 KiB pools from 3.10 on
//!   (`USE_LARGE_ARENAS`/`USE_LARGE_POOLS` with the radix tree). Pool headers are 48 bytes, size classes step by 16
//!   up to 512 bytes (32 classes). The geometry is checked on the first arena with a carved pool (a pool header's
//!   `maxnextoffset` is `POOL_SIZE - block size`), and the other one is used, with a warning, if only it fits.
//! - **The arena table** (`arenas`, `maxarenas`): ≤3.11 file-static variables of `obmalloc.c` in libpython's
//!   `.bss`, which are `.symtab`-only symbols: found by name when libpython's file is on disk, else by a validated
//!   scan of libpython's writable segments ([`scan_for_table`]); 3.12 `interp->obmalloc`, an embedded
//!   `struct _obmalloc_state`; 3.13+ `interp->obmalloc`, a pointer to it.
//! - **Allocated blocks** of a used pool (`ref.count > 0`): those below `nextoffset` that are not on the pool's
//!   `freeblock` list; their number equals `ref.count` on every pool of every fixture.
//!
//! Nothing read from the core sizes a loop or an allocation without a cap: the table has at most
//! [`MAX_ARENAS`] entries, a pool at most `POOL_SIZE / 16` blocks, and a free list is walked at most once per block.

mod locate;
mod stats;

use heapscope_coredump::{Addr, Memory};

use crate::layout::{Field, Layout};
use crate::objects::{Features, PymallocGeometry};

pub use locate::{locate_arenas, scan_for_table};
pub use stats::{pymalloc_stats, PymallocStats, SizeClass};

/// Most entries read from an arena table (1 Mi arenas would be 1 TiB of small objects).
pub const MAX_ARENAS: u32 = 1 << 20;

/// Size-class step and alignment of every block (`ALIGNMENT`, 16 on 64-bit since 3.8).
pub const ALIGNMENT: u64 = 16;

/// Number of size classes: requests up to `SMALL_REQUEST_THRESHOLD` (512) bytes.
pub const SIZE_CLASSES: u32 = 32;

/// Most messages kept about unreadable or invalid arena-table entries (the rest are counted).
pub const MAX_ENTRY_MESSAGES: usize = 20;

/// The arena and pool sizes of one pymalloc build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Geometry {
    /// `ARENA_SIZE`.
    pub arena_size: u64,
    /// `POOL_SIZE`.
    pub pool_size: u64,
    /// `POOL_OVERHEAD`: the pool header rounded up to [`ALIGNMENT`]; the first block's offset.
    pub pool_overhead: u64,
}

impl Geometry {
    /// 256 KiB arenas of 4 KiB pools (3.8, 3.9).
    pub const SMALL: Geometry = Geometry { arena_size: 256 << 10, pool_size: 4 << 10, pool_overhead: 48 };
    /// 1 MiB arenas of 16 KiB pools (3.10+, 64-bit with the radix tree).
    pub const LARGE: Geometry = Geometry { arena_size: 1 << 20, pool_size: 16 << 10, pool_overhead: 48 };

    /// The geometry of the default build of the layout's interpreter ([`Features::pymalloc_geometry`]), with the
    /// pool header size from the layout.
    pub fn for_layout(layout: &Layout) -> Geometry {
        let mut g = match Features::for_layout(layout).pymalloc_geometry {
            PymallocGeometry::Small => Geometry::SMALL,
            PymallocGeometry::Large => Geometry::LARGE,
        };
        if let Some(size) = layout.pool.size.offset {
            g.pool_overhead = u64::from(size).next_multiple_of(ALIGNMENT);
        }
        g
    }

    /// The other standard geometry (large for small and vice versa), with the same pool header size.
    pub fn other(&self) -> Geometry {
        let other = if (self.arena_size, self.pool_size) == (Geometry::SMALL.arena_size, Geometry::SMALL.pool_size) {
            Geometry::LARGE
        } else {
            Geometry::SMALL
        };
        Geometry { pool_overhead: self.pool_overhead, ..other }
    }

    /// The block size of size class `szidx`.
    pub fn block_size(&self, szidx: u32) -> u64 {
        (u64::from(szidx) + 1) * ALIGNMENT
    }

    /// Pools per arena when the arena is pool-aligned.
    pub fn pools_per_arena(&self) -> u64 {
        self.arena_size / self.pool_size
    }

    /// Most blocks a pool can hold.
    pub fn max_blocks(&self) -> usize {
        ((self.pool_size - self.pool_overhead) / ALIGNMENT) as usize
    }
}

/// How the arena table was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TableSource {
    /// 3.12: `interp->obmalloc`, an embedded `struct _obmalloc_state`.
    EmbeddedState,
    /// 3.13+: the `struct _obmalloc_state` that `interp->obmalloc` points to.
    StatePointer,
    /// ≤3.11: the `.symtab` symbols `arenas` and `maxarenas` of libpython's file on disk.
    Symbols,
    /// ≤3.11: a validated scan of libpython's writable segments.
    Scan,
}

/// pymalloc's arena table: `struct arena_object arenas[maxarenas]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ArenaTable {
    /// Address of `arenas[0]`.
    pub addr: Addr,
    /// Entries in the table.
    pub maxarenas: u32,
    /// How it was found.
    pub source: TableSource,
    /// The arena and pool sizes in use.
    pub geometry: Geometry,
}

/// One arena in use (an entry of the table with a non-zero `address`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Arena {
    /// Its index in the table (what its pools' `arenaindex` say).
    pub index: u32,
    /// The arena's memory (from mmap; not necessarily pool-aligned).
    pub address: Addr,
    /// Pools below this address have been carved.
    pub pool_address: Addr,
    /// Empty pools.
    pub nfreepools: u32,
    /// Pools the arena holds.
    pub ntotalpools: u32,
}

impl Arena {
    /// The addresses of the carved pools, from the first pool-aligned address up to `pool_address`.
    pub fn pools(&self, g: &Geometry) -> impl Iterator<Item = Addr> {
        let first = self.address.0.checked_next_multiple_of(g.pool_size).unwrap_or(u64::MAX);
        let end = self.pool_address.0.min(self.address.0.saturating_add(g.arena_size));
        let step = g.pool_size;
        (0..end.saturating_sub(first) / step).map(move |i| Addr(first + i * step))
    }
}

/// One entry of the table as read, before it is trusted.
enum Entry {
    Unused,
    Used(Arena),
}

/// Reads a little-endian u32 at `field`'s offset in `bytes`.
pub(crate) fn u32_at(bytes: &[u8], field: &Field) -> Option<u32> {
    let off = usize::try_from(field.offset?).ok()?;
    Some(u32::from_le_bytes(bytes.get(off..off + 4)?.try_into().ok()?))
}

/// Reads a little-endian u64 at `field`'s offset in `bytes`.
pub(crate) fn u64_at(bytes: &[u8], field: &Field) -> Option<u64> {
    let off = usize::try_from(field.offset?).ok()?;
    Some(u64::from_le_bytes(bytes.get(off..off + 8)?.try_into().ok()?))
}

/// Size of one `struct arena_object`.
fn entry_size(layout: &Layout) -> Option<u64> {
    layout.arena.size.offset.map(u64::from).filter(|&s| (8..=4096).contains(&s))
}

/// Decodes and checks entry `index` of a table at `table` (`bytes` are the entry's), where the table has at most
/// `max` entries: an unused entry's `nextarena` is NULL or another entry; a used entry's fields fit the geometry.
fn check_entry(
    bytes: &[u8],
    index: u32,
    table: Addr,
    max: u32,
    layout: &Layout,
    g: &Geometry,
) -> Result<Entry, String> {
    let a = &layout.arena;
    let size = entry_size(layout).ok_or("the size of struct arena_object is not known")?;
    let field = |f: &Field| u64_at(bytes, f).ok_or_else(|| format!("{} is not known or not readable", f.name));
    let field32 = |f: &Field| u32_at(bytes, f).ok_or_else(|| format!("{} is not known or not readable", f.name));
    let address = field(&a.address)?;
    if address == 0 {
        let next = field(&a.nextarena)?;
        let in_table =
            next >= table.0 && (next - table.0).is_multiple_of(size) && (next - table.0) / size < u64::from(max);
        return if next == 0 || in_table {
            Ok(Entry::Unused)
        } else {
            Err(format!("unused entry {index} links to {next:#x}, outside the table"))
        };
    }
    let pool_address = field(&a.pool_address)?;
    let (nfree, ntotal) = (field32(&a.nfreepools)?, field32(&a.ntotalpools)?);
    let first = address.checked_next_multiple_of(g.pool_size).ok_or("address overflows")?;
    let end = address.checked_add(g.arena_size).ok_or("address overflows")?;
    let full = g.pools_per_arena();
    if address % ALIGNMENT != 0 {
        return Err(format!("arena {index} at {address:#x} is not {ALIGNMENT}-byte aligned"));
    }
    if u64::from(ntotal) != full && u64::from(ntotal) + 1 != full {
        return Err(format!("arena {index} has {ntotal} pools, not {full} (or {})", full - 1));
    }
    if nfree > ntotal {
        return Err(format!("arena {index} has {nfree} free pools of {ntotal}"));
    }
    if pool_address < first || pool_address > end || (pool_address - first) % g.pool_size != 0 {
        return Err(format!("arena {index} at {address:#x}: pool_address {pool_address:#x} is not a pool boundary"));
    }
    Ok(Entry::Used(Arena {
        index,
        address: Addr(address),
        pool_address: Addr(pool_address),
        nfreepools: nfree,
        ntotalpools: ntotal,
    }))
}

/// Reads the table's entries: the arenas in use, and messages about entries that are not valid `arena_object`s
/// (at most [`MAX_ENTRY_MESSAGES`], then one that counts the rest).
pub fn read_arenas<P: Memory + ?Sized>(p: &P, layout: &Layout, table: &ArenaTable) -> (Vec<Arena>, Vec<String>) {
    let mut arenas = Vec::new();
    let mut errors = Vec::new();
    let Some(size) = entry_size(layout) else {
        return (arenas, vec!["the size of struct arena_object is not known".into()]);
    };
    let max = table.maxarenas.min(MAX_ARENAS);
    let mut buf = vec![0u8; size as usize];
    let mut failed = 0usize;
    for i in 0..max {
        let at = table.addr.wrapping_add(u64::from(i) * size);
        let why = match p.read_into(at, &mut buf) {
            Err(e) => format!("arena table entry {i} at {at}: {e}"),
            Ok(()) => match check_entry(&buf, i, table.addr, max, layout, &table.geometry) {
                Ok(Entry::Used(a)) => {
                    arenas.push(a);
                    continue;
                }
                Ok(Entry::Unused) => continue,
                Err(e) => format!("arena table at {}: {e}", table.addr),
            },
        };
        failed += 1;
        if errors.len() < MAX_ENTRY_MESSAGES {
            errors.push(why);
        }
    }
    if failed > errors.len() {
        errors.push(format!("{failed} invalid arena table entries in all"));
    }
    (arenas, errors)
}

/// Checks the header of the first carved pool of `arena` under geometry `g`: `Some(true)` if it belongs to the arena
/// (its `arenaindex`, a valid size class, `maxnextoffset == POOL_SIZE - block size`), `None` if the arena has no
/// carved pool or the header is unreadable.
fn first_pool_fits<P: Memory + ?Sized>(p: &P, layout: &Layout, arena: &Arena, g: &Geometry) -> Option<bool> {
    let pool = arena.pools(g).next()?;
    let size = layout.pool.size.offset.map(usize::try_from)?.ok()?;
    let hdr = p.bytes(pool, size).ok()?;
    let ph = &layout.pool;
    let (idx, szidx, maxnext) =
        (u32_at(&hdr, &ph.arenaindex)?, u32_at(&hdr, &ph.szidx)?, u32_at(&hdr, &ph.maxnextoffset)?);
    Some(idx == arena.index && szidx < SIZE_CLASSES && u64::from(maxnext) + g.block_size(szidx) == g.pool_size)
}

/// What a pool holds.
#[derive(Debug, Clone)]
pub enum PoolState {
    /// `ref.count == 0`: no block is allocated (the pool is on its arena's free-pool list).
    Empty,
    /// Some blocks are allocated.
    Used(PoolBlocks),
}

/// The blocks of a used pool.
#[derive(Debug, Clone)]
pub struct PoolBlocks {
    /// The pool's address.
    pub pool: Addr,
    /// Its size class.
    pub szidx: u32,
    /// Bytes per block.
    pub block_size: u64,
    /// Offset of the first block (`POOL_OVERHEAD`).
    pub first: u64,
    /// Blocks ever carved (below `nextoffset`).
    pub carved: u32,
    /// `ref.count`: allocated blocks, as pymalloc counts them.
    pub count: u32,
    /// One bit per carved block: set if the block is on the free list.
    free: Vec<u64>,
}

impl PoolBlocks {
    /// Blocks on the pool's free list.
    pub fn free_count(&self) -> u32 {
        self.free.iter().map(|w| w.count_ones()).sum()
    }

    /// Allocated blocks (carved and not free).
    pub fn allocated_count(&self) -> u32 {
        self.carved - self.free_count()
    }

    /// True if block `i` (0-based) is on the free list.
    pub fn is_free(&self, i: u32) -> bool {
        self.free.get((i / 64) as usize).is_some_and(|w| w >> (i % 64) & 1 == 1)
    }

    /// The offsets (from the pool's start) of the allocated blocks.
    pub fn allocated(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.carved).filter(|&i| !self.is_free(i)).map(|i| self.first + u64::from(i) * self.block_size)
    }
}

/// Decodes the pool at `pool` from its bytes (`bytes.len() == POOL_SIZE`): its header must belong to arena
/// `arena_index` and be consistent; the free list must stay inside the carved blocks, on block boundaries, without
/// loops.
pub fn parse_pool(
    bytes: &[u8],
    pool: Addr,
    arena_index: u32,
    layout: &Layout,
    g: &Geometry,
) -> Result<PoolState, String> {
    let ph = &layout.pool;
    let field = |f: &Field| u32_at(bytes, f).ok_or_else(|| format!("{} is not known", f.name));
    let count = field(&ph.count)?;
    if count == 0 {
        return Ok(PoolState::Empty);
    }
    let (index, szidx) = (field(&ph.arenaindex)?, field(&ph.szidx)?);
    let (nextoffset, maxnext) = (u64::from(field(&ph.nextoffset)?), u64::from(field(&ph.maxnextoffset)?));
    if index != arena_index {
        return Err(format!("pool {pool}: arenaindex {index}, but it is in arena {arena_index}"));
    }
    if szidx >= SIZE_CLASSES {
        return Err(format!("pool {pool}: size class {szidx} out of range"));
    }
    let size = g.block_size(szidx);
    let first = g.pool_overhead;
    if maxnext + size != g.pool_size
        || nextoffset < first
        || nextoffset > g.pool_size
        || !(nextoffset - first).is_multiple_of(size)
    {
        return Err(format!(
            "pool {pool}: nextoffset {nextoffset} / maxnextoffset {maxnext} do not fit {size}-byte blocks"
        ));
    }
    let carved = ((nextoffset - first) / size) as u32;
    let mut free = vec![0u64; (carved as usize).div_ceil(64)];
    let mut link = u64_at(bytes, &ph.freeblock).ok_or("PoolHeader.freeblock is not known")?;
    let mut steps = 0u32;
    while link != 0 {
        let off = link.wrapping_sub(pool.0);
        if off < first || off >= nextoffset || !(off - first).is_multiple_of(size) {
            return Err(format!("pool {pool}: free block {link:#x} is not one of its {carved} carved blocks"));
        }
        let i = ((off - first) / size) as u32;
        let word = &mut free[(i / 64) as usize];
        if *word >> (i % 64) & 1 == 1 || steps > carved {
            return Err(format!("pool {pool}: its free list loops at {link:#x}"));
        }
        *word |= 1 << (i % 64);
        steps += 1;
        let at = off as usize;
        link = bytes
            .get(at..at + 8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
            .ok_or_else(|| format!("pool {pool}: free block {off} outside the pool's bytes"))?;
    }
    Ok(PoolState::Used(PoolBlocks { pool, szidx, block_size: size, first, carved, count, free }))
}

#[cfg(test)]
mod tests;
