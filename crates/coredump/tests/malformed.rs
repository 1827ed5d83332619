//! Hostile and broken inputs: each gives a clean error or a warning, never a panic, a hang or a huge allocation.

use heapscope_coredump::testutil::{put, CoreBuilder, XorShift};
use heapscope_coredump::{Addr, CoreFile, Error, Memory, ProcessInfo, X86_64Regs, NT_FILE};

/// A small core with two loads (one with an omitted tail) and every kind of note.
fn base() -> CoreBuilder {
    let mut b = CoreBuilder::new();
    b.load(0x1000, vec![0xab; 0x100], 0x2000)
        .load(0x3000, (0..=255u8).collect::<Vec<u8>>(), 0x100)
        .thread(1, 6, &X86_64Regs { rip: 0x1000, rsp: 0x3080, ..Default::default() })
        .process(&ProcessInfo { pid: 1, ppid: 0, uid: 0, gid: 0, fname: "py".into(), psargs: "py x".into() })
        .auxv(&[(6, 4096)])
        .files(0x1000, &[(0x1000, 0x3000, 0, "/lib/x.so"), (0x3000, 0x3100, 0x1000, "/lib/y.so")]);
    b
}

fn open(bytes: Vec<u8>) -> Result<CoreFile, Error> {
    CoreFile::from_bytes("bad.core", bytes)
}

fn set_u16(b: &mut [u8], off: usize, v: u16) {
    put(b, off, &v.to_le_bytes());
}

fn set_u32(b: &mut [u8], off: usize, v: u32) {
    put(b, off, &v.to_le_bytes());
}

fn set_u64(b: &mut [u8], off: usize, v: u64) {
    put(b, off, &v.to_le_bytes());
}

#[test]
fn not_elf() {
    for bytes in [b"hello, world, this is not a core at all; really not".to_vec(), b"\x7fEL".to_vec()] {
        let err = open(bytes).unwrap_err();
        assert!(matches!(err, Error::NotElf { .. }), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("bad.core") && msg.contains("not an ELF core") && msg.contains("gcore"), "{msg}");
    }
    assert!(matches!(open(Vec::new()), Err(Error::Malformed { offset: 0, .. })));
}

#[test]
fn wrong_class_endianness_or_type() {
    let good = base().build().bytes;
    let mut b = good.clone();
    b[4] = 1;
    let err = open(b).unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }) && err.to_string().contains("32-bit"), "{err}");
    let mut b = good.clone();
    b[5] = 2;
    let err = open(b).unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }) && err.to_string().contains("big-endian"), "{err}");
    let mut b = good.clone();
    b[4] = 9;
    assert!(matches!(open(b), Err(Error::Malformed { offset: 4, .. })));
    let mut b = good.clone();
    set_u16(&mut b, 16, 3);
    let err = open(b).unwrap_err();
    assert!(matches!(err, Error::NotCore { e_type: 3, .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("bad.core") && msg.contains("not a core") && msg.contains("not the executable"), "{msg}");
    // Header cut short.
    let err = open(good[..40].to_vec()).unwrap_err();
    assert!(matches!(err, Error::Malformed { offset: 0, .. }), "{err}");
}

#[test]
fn program_header_table_out_of_bounds() {
    let good = base().build().bytes;
    let mut b = good.clone();
    set_u16(&mut b, 56, 0xfffe);
    let err = open(b).unwrap_err();
    assert!(matches!(err, Error::Malformed { offset: 64, .. }), "{err}");
    assert!(err.to_string().contains("65534 entries"), "{err}");
    let mut b = good.clone();
    set_u64(&mut b, 32, good.len() as u64 + 8);
    assert!(matches!(open(b), Err(Error::Malformed { .. })));
    let mut b = good.clone();
    set_u64(&mut b, 32, u64::MAX - 10);
    assert!(matches!(open(b), Err(Error::Malformed { .. })));
    let mut b = good.clone();
    set_u16(&mut b, 54, 8);
    assert!(matches!(open(b), Err(Error::Malformed { offset: 54, .. })));
    // No program headers at all: an empty but valid core.
    let mut b = good;
    set_u16(&mut b, 56, 0);
    let c = open(b).unwrap();
    assert!(c.segments().is_empty() && c.threads().is_empty());
    assert!(c.read_u8(Addr(0x1000)).is_err());
}

#[test]
fn pn_xnum_takes_the_count_from_section_header_zero() {
    let good = base().build().bytes;
    let phnum = u16::from_le_bytes([good[56], good[57]]);
    let mut b = good.clone();
    let shoff = b.len() as u64;
    let mut sh0 = vec![0u8; 64];
    set_u32(&mut sh0, 44, u32::from(phnum));
    b.extend_from_slice(&sh0);
    set_u16(&mut b, 56, 0xffff);
    set_u64(&mut b, 40, shoff);
    let c = open(b.clone()).unwrap();
    assert_eq!(c.segments().len(), 2);
    assert_eq!(c.threads().len(), 1);
    set_u64(&mut b, 40, u64::MAX - 3);
    assert!(matches!(open(b), Err(Error::Malformed { offset: 40, .. })));
}

#[test]
fn note_with_huge_size_stops_the_walk_with_a_warning() {
    let built = base().build();
    let mut b = built.bytes.clone();
    // The second note (NT_PRPSINFO) follows the first (12 + 8 + 336 bytes).
    let second = built.note_offset as usize + 12 + 8 + 336;
    set_u32(&mut b, second + 4, u32::MAX);
    let c = open(b).unwrap();
    assert_eq!(c.threads().len(), 1, "the note before the bad one is kept");
    assert!(c.process().is_none() && c.auxv().is_empty());
    assert!(c.warnings().iter().any(|w| w.contains("claims") && w.contains("4294967295")), "{:?}", c.warnings());
    // Memory is still readable.
    assert_eq!(c.read_u8(Addr(0x1000)).unwrap(), 0xab);
}

#[test]
fn nt_file_with_huge_count_is_capped() {
    let mut b = CoreBuilder::new();
    let mut desc = Vec::new();
    for w in [u64::MAX, 0x1000, 0x1000, 0x2000, 0] {
        desc.extend_from_slice(&w.to_le_bytes());
    }
    desc.extend_from_slice(b"/lib/a.so\0");
    b.note("CORE", NT_FILE, desc);
    let c = open(b.build().bytes).unwrap();
    assert_eq!(c.mapped_files().len(), 1);
    assert_eq!(c.mapped_files()[0].path.to_str(), Some("/lib/a.so"));
    assert!(c.warnings().iter().any(|w| w.contains("NT_FILE") && w.contains("at most 1")), "{:?}", c.warnings());
}

#[test]
fn nt_file_impossible_entries_are_skipped() {
    let mut b = CoreBuilder::new();
    let mut desc = Vec::new();
    // page_size × page_offset overflows for the first entry; the second has end < start; the third is fine.
    for w in [3, u64::MAX, 0x1000, 0x2000, 2, 0x5000, 0x4000, 0, 0x6000, 0x7000, 1] {
        desc.extend_from_slice(&w.to_le_bytes());
    }
    desc.extend_from_slice(b"/a\0/b\0/c\0");
    b.note("CORE", NT_FILE, desc);
    let c = open(b.build().bytes).unwrap();
    let f = c.mapped_files();
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].start, f[0].file_offset, f[0].path.to_str()), (Addr(0x6000), u64::MAX, Some("/c")));
    assert_eq!(c.warnings().len(), 2, "{:?}", c.warnings());
}

#[test]
fn note_segment_past_eof_and_filesz_above_memsz() {
    let built = base().build();
    let mut b = built.bytes.clone();
    // Program header 0 is the PT_NOTE, 1 the first load.
    let ph_note = built.phoff as usize;
    set_u64(&mut b, ph_note + 32, 1 << 40);
    let ph_load = ph_note + 56;
    set_u64(&mut b, ph_load + 40, 0x80); // memsz below filesz (0x100)
    let c = open(b).unwrap();
    assert_eq!(c.segments()[0].filesz, 0x80);
    assert!(c.warnings().iter().any(|w| w.contains("PT_NOTE")), "{:?}", c.warnings());
    assert!(c.warnings().iter().any(|w| w.contains("p_filesz")), "{:?}", c.warnings());
}

#[test]
fn garbage_after_the_last_note_is_reported() {
    let built = base().build();
    let mut b = built.bytes.clone();
    let ph_note = built.phoff as usize;
    let size = u64::from_le_bytes(b[ph_note + 32..ph_note + 40].try_into().unwrap());
    let end = (built.note_offset + size) as usize;
    b[end..end + 8].fill(0xee);
    set_u64(&mut b, ph_note + 32, size + 8); // 8 non-zero bytes join the notes
    let c = open(b).unwrap();
    assert!(c.warnings().iter().any(|w| w.contains("trailing")), "{:?}", c.warnings());
    assert_eq!(c.threads().len(), 1);
}

/// Pokes at every public reader of `c`; only panics matter.
fn exercise(c: &CoreFile, rng: &mut XorShift) {
    let mut buf = [0u8; 64];
    for s in c.segments() {
        for a in [s.vaddr.0, s.vaddr.0.wrapping_add(s.filesz), s.vaddr.0.wrapping_add(s.memsz).wrapping_sub(1)] {
            let _ = c.presence(Addr(a));
            let _ = c.read_into(Addr(a), &mut buf);
            let _ = c.bytes(Addr(a), rng.below(1 << 16) as usize);
            let _ = c.read_cstr(Addr(a), 256);
            let _ = c.mapped_file(Addr(a));
        }
    }
    for _ in 0..32 {
        let a = match rng.below(3) {
            0 => rng.next_u64(),
            1 => 0x1000 + rng.below(0x3000),
            _ => u64::MAX - rng.below(64),
        };
        let _ = c.read_u64(Addr(a));
        let _ = c.bytes(Addr(a), rng.below(4096) as usize);
    }
    for n in c.notes() {
        let _ = c.note_desc(n);
    }
    let _ = (c.threads(), c.process(), c.auxv_value(6), c.warnings(), format!("{c:?}"));
}

#[test]
fn fuzz_mutations_never_panic() {
    let built = base().build();
    let good = built.bytes;
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let interesting = [0u64, 1, 0xff, 0xffff, 0xffff_ffff, u64::MAX, u64::MAX - 1, 1 << 63, good.len() as u64];
    for _ in 0..10_000 {
        let mut b = good.clone();
        for _ in 0..1 + rng.below(6) {
            // Mostly hit the headers and notes, where the structure is.
            let span = if rng.below(4) == 0 { b.len() } else { (built.load_offsets[0] as usize).min(b.len()) };
            if span < 8 {
                break;
            }
            let off = rng.below(span as u64 - 7) as usize;
            match rng.below(4) {
                0 => b[off] = rng.next_u64() as u8,
                1 => set_u64(&mut b, off, interesting[rng.below(interesting.len() as u64) as usize]),
                2 => set_u32(&mut b, off, rng.next_u64() as u32),
                _ => b.truncate(rng.below(b.len() as u64) as usize),
            }
        }
        if let Ok(c) = open(b) {
            exercise(&c, &mut rng);
        }
    }
}
