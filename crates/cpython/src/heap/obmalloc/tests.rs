//! pymalloc structures on small synthetic images, laid out as the built-in 3.12 layout says: pools whose headers or
//! free lists are corrupt give errors (never a panic or a loop), arena tables are read with their bad entries
//! counted, and the scan for the ≤3.11 table finds the table and rejects a pointer into its middle. What real
//! interpreters hold is tested on the fixture cores (tests/enumerate.rs).

use heapscope_coredump::{Addr, LoadedObject, Memory, Range, SyntheticMemory};

use super::*;
use crate::layout::Flavour;
use crate::PythonVersion;

/// Memory plus one loaded object with one writable segment (where the scan looks).
type Image = heapscope_coredump::SyntheticImage;

fn layout() -> Layout {
    let v = PythonVersion::from_hex(0x030c01f0).unwrap();
    Layout::builtin(&v, Flavour::Default).expect("a 3.12 table")
}

const G: Geometry = Geometry::LARGE;
const POOL: u64 = 0x7f00_0000_0000;

/// A pool header: count, freeblock, arenaindex, szidx, nextoffset (maxnextoffset follows from szidx).
fn pool_bytes(count: u32, freeblock: u64, arena: u32, szidx: u32, nextoffset: u32) -> Vec<u8> {
    let mut b = vec![0u8; G.pool_size as usize];
    let size = (szidx + 1) * 16;
    b[0..4].copy_from_slice(&count.to_le_bytes());
    b[8..16].copy_from_slice(&freeblock.to_le_bytes());
    b[32..36].copy_from_slice(&arena.to_le_bytes());
    b[36..40].copy_from_slice(&szidx.to_le_bytes());
    b[40..44].copy_from_slice(&nextoffset.to_le_bytes());
    b[44..48].copy_from_slice(&(G.pool_size as u32 - size).to_le_bytes());
    b
}

fn link(b: &mut [u8], block_off: u64, next: u64) {
    b[block_off as usize..block_off as usize + 8].copy_from_slice(&next.to_le_bytes());
}

#[test]
fn allocated_blocks_are_the_carved_ones_off_the_free_list() {
    // 32-byte blocks, 5 carved; blocks 1 and 3 are free.
    let (b1, b3) = (48 + 32, 48 + 3 * 32);
    let mut b = pool_bytes(3, POOL + b1, 7, 1, 48 + 5 * 32);
    link(&mut b, b1, POOL + b3);
    let PoolState::Used(p) = parse_pool(&b, Addr(POOL), 7, &layout(), &G).unwrap() else { panic!("used") };
    assert_eq!(p.block_size, 32);
    assert_eq!((p.carved, p.free_count(), p.allocated_count(), p.count), (5, 2, 3, 3));
    assert_eq!(p.allocated().collect::<Vec<_>>(), vec![48, 48 + 64, 48 + 128]);
}

#[test]
fn empty_pools_have_no_blocks() {
    let b = pool_bytes(0, 0, 7, 1, 48 + 64);
    assert!(matches!(parse_pool(&b, Addr(POOL), 7, &layout(), &G), Ok(PoolState::Empty)));
}

#[test]
fn corrupt_pools_are_errors() {
    let l = layout();
    let wrong_arena = pool_bytes(1, 0, 3, 1, 48 + 64);
    assert!(parse_pool(&wrong_arena, Addr(POOL), 7, &l, &G).unwrap_err().contains("arenaindex"));
    let bad_class = pool_bytes(1, 0, 7, 40, 48 + 64);
    assert!(parse_pool(&bad_class, Addr(POOL), 7, &l, &G).unwrap_err().contains("size class"));
    let past_end = pool_bytes(1, 0, 7, 1, G.pool_size as u32 + 32);
    assert!(parse_pool(&past_end, Addr(POOL), 7, &l, &G).is_err());
    let too_small = &pool_bytes(1, 0, 7, 1, 48 + 64)[..20];
    assert!(parse_pool(too_small, Addr(POOL), 7, &l, &G).is_err());

    // A free list that loops, one that leaves the pool, one off a block boundary.
    let (b1, b3) = (48 + 32, 48 + 3 * 32);
    let mut looping = pool_bytes(3, POOL + b1, 7, 1, 48 + 5 * 32);
    link(&mut looping, b1, POOL + b3);
    link(&mut looping, b3, POOL + b1);
    assert!(parse_pool(&looping, Addr(POOL), 7, &l, &G).unwrap_err().contains("loops"));
    let outside = pool_bytes(3, 0x1234_5678, 7, 1, 48 + 5 * 32);
    assert!(parse_pool(&outside, Addr(POOL), 7, &l, &G).unwrap_err().contains("not one of"));
    let unaligned = pool_bytes(3, POOL + b1 + 8, 7, 1, 48 + 5 * 32);
    assert!(parse_pool(&unaligned, Addr(POOL), 7, &l, &G).is_err());
    let virgin = pool_bytes(3, POOL + 48 + 6 * 32, 7, 1, 48 + 5 * 32);
    assert!(parse_pool(&virgin, Addr(POOL), 7, &l, &G).is_err());
}

#[test]
fn pools_of_an_unaligned_arena_start_at_the_first_pool_boundary() {
    let a = Arena {
        index: 0,
        address: Addr(0x7f00_0000_1000),
        pool_address: Addr(0x7f00_0000_4000 + 3 * G.pool_size),
        nfreepools: 60,
        ntotalpools: 63,
    };
    let pools: Vec<Addr> = a.pools(&G).collect();
    assert_eq!(pools, vec![Addr(0x7f00_0000_4000), Addr(0x7f00_0000_8000), Addr(0x7f00_0000_c000)]);
    // pool_address below the first boundary, or beyond the arena: nothing, or no more than the arena holds.
    assert_eq!(Arena { pool_address: a.address, ..a }.pools(&G).count(), 0);
    assert_eq!(Arena { pool_address: Addr(u64::MAX), ..a }.pools(&G).count(), 63);
}

/// An arena_object: address, pool_address, nfreepools, ntotalpools, freepools, nextarena, prevarena.
fn entry(address: u64, pool_address: u64, nfree: u32, ntotal: u32, next: u64) -> Vec<u8> {
    let mut e = Vec::new();
    e.extend(address.to_le_bytes());
    e.extend(pool_address.to_le_bytes());
    e.extend(nfree.to_le_bytes());
    e.extend(ntotal.to_le_bytes());
    e.extend(0u64.to_le_bytes());
    e.extend(next.to_le_bytes());
    e.extend(0u64.to_le_bytes());
    e
}

const TABLE: u64 = 0x5555_0000_0010;
const ARENA: u64 = 0x7f10_0000_0000;

/// A 16-entry table: entry 0 an arena with one carved pool (whose header says arena 0), entry 2 corrupt if asked
/// (else unused), the rest unused and chained.
fn table_image(corrupt: bool) -> Image {
    let mut im = Image::default();
    let mut t = Vec::new();
    for i in 0..16u64 {
        t.extend(match i {
            0 => entry(ARENA, ARENA + G.pool_size, 63, 64, 0),
            2 if corrupt => entry(ARENA + 0x100_0000, ARENA, 70, 64, 0),
            15 => entry(0, 0, 0, 0, 0),
            _ => entry(0, 0, 0, 0, TABLE + (i + 1) * 48),
        });
    }
    im.mem.map(Addr(TABLE), t);
    im.mem.map(Addr(ARENA), pool_bytes(1, 0, 0, 1, 48 + 32)[..48].to_vec());
    im
}

#[test]
fn arena_tables_are_read_entry_by_entry() {
    let im = table_image(true);
    let table = ArenaTable { addr: Addr(TABLE), maxarenas: 16, source: TableSource::Scan, geometry: G };
    let (arenas, errors) = read_arenas(&im, &layout(), &table);
    assert_eq!(arenas.len(), 1);
    assert_eq!((arenas[0].index, arenas[0].address, arenas[0].ntotalpools), (0, Addr(ARENA), 64));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("arena 2"), "{errors:?}");
    // A table larger than the memory holding it: the missing entries are errors, counted past a few messages.
    let big = ArenaTable { maxarenas: 4096, ..table };
    let (arenas, errors) = read_arenas(&im, &layout(), &big);
    assert_eq!(arenas.len(), 1);
    assert_eq!(errors.len(), MAX_ENTRY_MESSAGES + 1);
    assert!(errors.last().unwrap().contains("4081 invalid"), "{errors:?}");
}

#[test]
fn the_scan_finds_the_table_and_not_a_pointer_into_it() {
    let mut im = table_image(false);
    let data = 0x7ff0_0000_0000u64;
    // .bss: a pointer into the middle of the table (like usable_arenas), then maxarenas and the table pointer.
    let mut seg = vec![0u8; 4096];
    seg[0x100..0x108].copy_from_slice(&(TABLE + 48).to_le_bytes());
    seg[0x200..0x204].copy_from_slice(&16u32.to_le_bytes());
    seg[0x208..0x210].copy_from_slice(&TABLE.to_le_bytes());
    im.mem.map(Addr(data), seg);
    let range = Range { start: Addr(data), end: Addr(data + 4096) };
    im.objects.push(LoadedObject {
        path: "libpython3.11.so.1.0".into(),
        mappings: Vec::new(),
        header: None,
        bias: 0,
        data_segments: vec![range],
        build_id: None,
        disk_path: None,
        source: heapscope_coredump::BytesSource::Core,
    });
    let runtime = Addr(data + 0x800);
    let (addr, max, notes) = scan_for_table(&im, &layout(), runtime, &G).unwrap();
    assert_eq!((addr, max), (Addr(TABLE), 16));
    assert!(notes.is_empty(), "{notes:?}");

    // A table with a corrupt entry is not taken for one: the scan only accepts what is consistent throughout.
    let mut corrupt = table_image(true);
    corrupt.mem.map(Addr(data), im.mem.bytes(Addr(data), 4096).unwrap().into_owned());
    corrupt.objects = im.objects.clone();
    assert!(scan_for_table(&corrupt, &layout(), runtime, &G).is_err());

    // Without the table pointer there is nothing to find, and the reason says where it looked.
    im.mem = SyntheticMemory::new();
    im.mem.map(Addr(data), vec![0u8; 4096]);
    assert!(scan_for_table(&im, &layout(), runtime, &G).unwrap_err().contains("no pointer"));
}
