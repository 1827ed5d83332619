//! Reading memory and notes from synthetic cores: omitted tails, unmapped addresses, adjacent segments, truncation.

use std::borrow::Cow;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

use heapscope_coredump::testutil::{CoreBuilder, RX};
use heapscope_coredump::{Addr, CoreFile, Memory, Presence, ProcessInfo, ReadError, X86_64Regs};

const LIB: &str = "/usr/lib/libpython3.12.so.1.0";

/// Bytes 0, 1, 2, … (mod 251, so that no window repeats at a power-of-two distance).
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| ((i % 251) as u8).wrapping_add(seed)).collect()
}

/// A core with:
/// - 0x1000..0x3000 fully dumped (A), immediately followed by 0x3000..0x4000 fully dumped (B): adjacent;
/// - 0x10000..0x14000: one page dumped, three omitted, file-backed by LIB;
/// - 0x20000..0x22000: nothing dumped (filesz 0), anonymous;
/// - nothing at 0x4000..0x10000.
fn sample() -> CoreBuilder {
    let mut b = CoreBuilder::new();
    // Added out of order on purpose: segments() must come back sorted.
    b.load_flags(0x10000, pattern(0x1000, 7), 0x4000, RX)
        .load(0x3000, pattern(0x1000, 100), 0x1000)
        .load(0x1000, pattern(0x2000, 0), 0x2000)
        .load(0x20000, Vec::new(), 0x2000)
        .thread(42, 11, &X86_64Regs { rip: 0x10010, rsp: 0x2ff8, fs_base: 0x7000, ..Default::default() })
        .thread(43, 0, &X86_64Regs { rip: 0x10020, rsp: 0x1ff8, ..Default::default() })
        .process(&ProcessInfo {
            pid: 42,
            ppid: 1,
            uid: 1000,
            gid: 100,
            fname: "python3.12".into(),
            psargs: "python3 -c pass".into(),
        })
        .auxv(&[(6, 4096), (9, 0x10000)])
        .files(0x1000, &[(0x10000, 0x14000, 0x2000, LIB)]);
    b
}

fn open_sample() -> CoreFile {
    let c = CoreFile::from_bytes("sample.core", sample().build().bytes).unwrap();
    assert!(c.warnings().is_empty(), "{:?}", c.warnings());
    c
}

#[test]
fn segments_sorted_with_flags() {
    let c = open_sample();
    let s = c.segments();
    let starts: Vec<u64> = s.iter().map(|s| s.vaddr.0).collect();
    assert_eq!(starts, [0x1000, 0x3000, 0x10000, 0x20000]);
    assert_eq!((s[2].memsz, s[2].filesz), (0x4000, 0x1000));
    assert!(s[2].readable && s[2].executable && !s[2].writable);
    assert!(s[0].readable && s[0].writable && !s[0].executable);
    assert_eq!(c.segment_at(Addr(0x13fff)).map(|s| s.vaddr), Some(Addr(0x10000)));
    assert_eq!(c.segment_at(Addr(0x14000)), None);
    assert_eq!(c.compression(), None);
    assert_eq!(c.path(), Path::new("sample.core"));
}

#[test]
fn reads_dumped_bytes() {
    let c = open_sample();
    let a = pattern(0x2000, 0);
    assert_eq!(c.read_u8(Addr(0x1000)).unwrap(), a[0]);
    assert_eq!(c.read_u64(Addr(0x1008)).unwrap(), u64::from_le_bytes(a[8..16].try_into().unwrap()));
    let mut buf = [0u8; 16];
    c.read_into(Addr(0x2ff0), &mut buf).unwrap();
    assert_eq!(buf[..], a[0x1ff0..]);
    assert_eq!(c.read_u64(Addr(0x10ff8)).unwrap(), u64::from_le_bytes(pattern(0x1000, 7)[0xff8..].try_into().unwrap()));
}

#[test]
fn omitted_tail_is_not_zeros() {
    let c = open_sample();
    assert_eq!(c.presence(Addr(0x10fff)), Presence::InCore);
    assert_eq!(c.presence(Addr(0x11000)), Presence::Omitted);
    assert_eq!(c.presence(Addr(0x13fff)), Presence::Omitted);
    let err = c.read_u64(Addr(0x12000)).unwrap_err();
    assert_eq!(err, ReadError::NotInCore { addr: Addr(0x12000), mapping: Some(LIB.into()) });
    assert!(err.to_string().contains(LIB), "{err}");
    assert_eq!(c.mapped_file(Addr(0x12000)).map(|m| m.file_offset), Some(0x2000));
}

#[test]
fn omitted_anonymous_mapping_has_no_path() {
    let c = open_sample();
    assert_eq!(c.presence(Addr(0x20000)), Presence::Omitted);
    let err = c.read_u32(Addr(0x21ffc)).unwrap_err();
    assert_eq!(err, ReadError::NotInCore { addr: Addr(0x21ffc), mapping: None });
}

#[test]
fn unmapped_addresses() {
    let c = open_sample();
    for a in [0, 0xfff, 0x4000, 0xffff, 0x14000, 0x22000, u64::MAX - 8] {
        assert_eq!(c.presence(Addr(a)), Presence::Unmapped, "{a:#x}");
        assert_eq!(c.read_u8(Addr(a)), Err(ReadError::Unmapped { addr: Addr(a) }), "{a:#x}");
    }
    // A read running off the end of a mapping into nothing fails at the first unmapped byte.
    assert_eq!(c.read_u64(Addr(0x3ffc)), Err(ReadError::Unmapped { addr: Addr(0x4000) }));
}

#[test]
fn read_across_adjacent_segments() {
    let c = open_sample();
    let mut buf = [0u8; 32];
    c.read_into(Addr(0x2ff0), &mut buf).unwrap();
    assert_eq!(buf[..16], pattern(0x2000, 0)[0x1ff0..]);
    assert_eq!(buf[16..], pattern(0x1000, 100)[..16]);
    // bytes() must copy here, and agree with read_into.
    let b = c.bytes(Addr(0x2ff0), 32).unwrap();
    assert!(matches!(b, Cow::Owned(_)));
    assert_eq!(&b[..], &buf[..]);
    // The whole of A + B in one read.
    let all = c.bytes(Addr(0x1000), 0x3000).unwrap();
    assert_eq!(all[..0x2000], pattern(0x2000, 0)[..]);
    assert_eq!(all[0x2000..], pattern(0x1000, 100)[..]);
}

#[test]
fn bytes_borrows_within_one_segment() {
    let c = open_sample();
    let b = c.bytes(Addr(0x1100), 0x100).unwrap();
    assert!(matches!(b, Cow::Borrowed(_)));
    assert_eq!(b[..], pattern(0x2000, 0)[0x100..0x200]);
    assert!(matches!(c.bytes(Addr(0x99999), 0).unwrap(), Cow::Borrowed(&[])));
}

#[test]
fn read_partly_in_core_partly_omitted() {
    let c = open_sample();
    let expect = ReadError::NotInCore { addr: Addr(0x11000), mapping: Some(LIB.into()) };
    let mut buf = [0u8; 16];
    assert_eq!(c.read_into(Addr(0x10ff8), &mut buf), Err(expect.clone()));
    assert_eq!(c.bytes(Addr(0x10ff8), 16).unwrap_err(), expect);
    // Huge lengths fail on the first missing byte, before allocating.
    assert_eq!(c.bytes(Addr(0x10000), usize::MAX / 2).unwrap_err(), expect);
}

#[test]
fn overflowing_and_empty_reads() {
    let c = open_sample();
    c.read_into(Addr(0x5), &mut []).unwrap();
    let mut buf = [0u8; 16];
    // Starts mapped (with a synthetic segment near the top) or not: never panics.
    let top = {
        let mut b = CoreBuilder::new();
        b.load(u64::MAX - 0xfff, pattern(0x1000, 1), 0x1000);
        CoreFile::from_bytes("top.core", b.build().bytes).unwrap()
    };
    assert_eq!(top.segments()[0].memsz, 0xfff, "clipped to the end of the address space");
    assert!(top.warnings()[0].contains("address space"), "{:?}", top.warnings());
    assert_eq!(
        top.read_into(Addr(u64::MAX - 8), &mut buf),
        Err(ReadError::Overflow { addr: Addr(u64::MAX - 8), len: 16 })
    );
    assert_eq!(top.read_u8(Addr(u64::MAX - 1)).unwrap(), pattern(0x1000, 1)[0xffe]);
}

#[test]
fn cstr_reads_stop_at_omitted_pages() {
    let mut b = CoreBuilder::new();
    let mut page = vec![b'x'; 0x1000];
    page[0x20..0x26].copy_from_slice(b"hello\0");
    b.load(0x1000, page, 0x2000);
    let c = CoreFile::from_bytes("s.core", b.build().bytes).unwrap();
    assert_eq!(c.read_cstr(Addr(0x1020), 100).unwrap(), b"hello");
    assert!(matches!(c.read_cstr(Addr(0x1f00), 0x1000), Err(ReadError::NotInCore { addr: Addr(0x2000), .. })));
}

#[test]
fn notes_are_parsed() {
    let c = open_sample();
    let t = c.threads();
    assert_eq!(t.len(), 2);
    assert_eq!((t[0].tid, t[0].signal), (42, 11));
    let r = t[0].regs.x86_64().unwrap();
    assert_eq!((r.rip, r.rsp, r.fs_base, r.rbp, r.gs_base), (0x10010, 0x2ff8, 0x7000, 0, 0));
    assert_eq!(t[1].tid, 43);
    assert_eq!(t[1].regs.sp(), Some(0x1ff8));
    let p = c.process().unwrap();
    assert_eq!((p.pid, p.ppid, p.uid, p.gid), (42, 1, 1000, 100));
    assert_eq!((p.fname.as_str(), p.psargs.as_str()), ("python3.12", "python3 -c pass"));
    assert_eq!(c.auxv(), &[(6, 4096), (9, 0x10000)]);
    assert_eq!(c.auxv_value(9), Some(0x10000));
    assert_eq!(c.auxv_value(7), None);
    let f = c.mapped_files();
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].start, f[0].end, f[0].file_offset), (Addr(0x10000), Addr(0x14000), 0x2000));
    assert_eq!(f[0].path, Path::new(LIB));
    assert_eq!(c.notes().len(), 5);
    assert!(c.notes().iter().all(|n| n.name == "CORE"));
    assert_eq!(c.note_desc(&c.notes()[0]).len(), 336);
}

#[test]
fn other_note_owners_are_kept_raw() {
    let mut b = CoreBuilder::new();
    b.note("LINUX", 0x202, vec![1, 2, 3, 4, 5]).note("CORE", 1, vec![0; 8]).note("GDB", 0xff00_0000, b"xml".to_vec());
    let c = CoreFile::from_bytes("n.core", b.build().bytes).unwrap();
    let names: Vec<&str> = c.notes().iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["LINUX", "CORE", "GDB"]);
    assert_eq!(c.note_desc(&c.notes()[0]), [1, 2, 3, 4, 5]);
    assert_eq!(c.note_desc(&c.notes()[2]), b"xml");
    // The short NT_PRSTATUS is reported, not parsed.
    assert!(c.threads().is_empty());
    assert!(c.warnings().iter().any(|w| w.contains("NT_PRSTATUS") && w.contains("too short")), "{:?}", c.warnings());
}

#[test]
fn non_x86_64_registers_stay_raw() {
    let mut b = CoreBuilder::new();
    b.machine(183).thread(7, 0, &X86_64Regs { rip: 5, ..Default::default() });
    let c = CoreFile::from_bytes("a64.core", b.build().bytes).unwrap();
    assert_eq!(c.machine(), 183);
    let t = &c.threads()[0];
    assert_eq!(t.tid, 7);
    assert_eq!(t.regs.pc(), None);
    assert!(t.regs.x86_64().is_none());
}

#[test]
fn truncated_core_opens_with_a_warning() {
    let built = sample().build();
    // Segment A (0x1000, 0x2000 bytes) is the third load added; cut the file 0x800 bytes into it.
    let cut = built.load_offsets[2] + 0x800;
    let bytes = built.bytes[..cut as usize].to_vec();
    let c = CoreFile::from_bytes("cut.core", bytes).unwrap();
    let w = c.warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].starts_with("cut.core: ") && w[0].contains("truncated"), "{w:?}");
    assert!(w[0].contains("0x1000") && w[0].contains(&format!("{} bytes", 0x1800)), "{w:?}");
    assert_eq!(c.segments()[0].filesz, 0x800);
    assert_eq!(c.segments()[0].memsz, 0x2000);
    assert_eq!(
        c.read_u64(Addr(0x17f8)).unwrap(),
        u64::from_le_bytes(pattern(0x2000, 0)[0x7f8..0x800].try_into().unwrap())
    );
    assert_eq!(c.presence(Addr(0x1800)), Presence::Omitted);
    // The cut bytes are blamed on the truncation, not on a file the user could supply.
    assert_eq!(c.read_u64(Addr(0x17fc)), Err(ReadError::Truncated { addr: Addr(0x1800) }));
    assert!(c.is_cut(Addr(0x1800)) && c.is_cut(Addr(0x2fff)) && !c.is_cut(Addr(0x3000)) && !c.is_cut(Addr(0x17ff)));
    // B's bytes come before A's in the file, so they survive; so do the notes.
    assert_eq!(c.presence(Addr(0x3000)), Presence::InCore);
    assert_eq!(c.threads().len(), 2);
}

#[test]
fn truncated_in_many_segments_gives_one_summary() {
    let built = sample().build();
    // Cut in the first load in the file (0x10000); the two after it in the file (0x3000, 0x1000) are lost whole.
    let cut = built.load_offsets[0] + 0x10;
    let c = CoreFile::from_bytes("cut.core", built.bytes[..cut as usize].to_vec()).unwrap();
    assert_eq!(c.warnings().len(), 1, "{:?}", c.warnings());
    assert!(c.warnings()[0].contains("2 more segments"), "{:?}", c.warnings());
    for a in [0x1000, 0x3000, 0x10010] {
        assert_eq!(c.presence(Addr(a)), Presence::Omitted, "{a:#x}");
    }
    assert_eq!(c.presence(Addr(0x1000f)), Presence::InCore);
}

#[test]
fn overlapping_segments_are_clipped() {
    let mut b = CoreBuilder::new();
    b.load(0x1000, pattern(0x2000, 0), 0x2000).load(0x2000, pattern(0x2000, 50), 0x2000);
    let c = CoreFile::from_bytes("o.core", b.build().bytes).unwrap();
    assert_eq!(c.warnings().len(), 1);
    let s = c.segments();
    assert_eq!((s[1].vaddr, s[1].memsz, s[1].filesz), (Addr(0x3000), 0x1000, 0x1000));
    assert_eq!(c.read_u8(Addr(0x2000)).unwrap(), pattern(0x2000, 0)[0x1000]);
    assert_eq!(c.read_u8(Addr(0x3000)).unwrap(), pattern(0x2000, 50)[0x1000]);
}

#[test]
fn open_from_disk_and_sparse_holes_read_as_zeros() {
    // A dumped segment whose middle is a hole in a sparse file: real zeros, not "missing".
    let mut b = CoreBuilder::new();
    let mut data = pattern(0x40000, 3);
    data[0x1000..0x3f000].fill(0);
    b.load(0x100000, data.clone(), 0x40000);
    let built = b.build();
    let off = built.load_offsets[0];
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(&built.bytes[..(off + 0x1000) as usize]).unwrap();
    f.as_file().set_len(built.bytes.len() as u64).unwrap();
    f.seek(SeekFrom::Start(off + 0x3f000)).unwrap();
    f.write_all(&data[0x3f000..]).unwrap();
    f.flush().unwrap();
    let c = CoreFile::open(f.path()).unwrap();
    assert!(c.warnings().is_empty(), "{:?}", c.warnings());
    assert_eq!(c.path(), f.path());
    assert_eq!(c.file_len(), built.bytes.len() as u64);
    assert_eq!(c.presence(Addr(0x120000)), Presence::InCore);
    assert_eq!(c.read_u64(Addr(0x120000)).unwrap(), 0);
    assert_eq!(&c.bytes(Addr(0x100000), 0x40000).unwrap()[..], &data[..]);
}

#[test]
fn open_missing_file_names_it() {
    let err = CoreFile::open(Path::new("/nonexistent/dir/core.1234")).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("/nonexistent/dir/core.1234"), "{msg}");
    assert!(matches!(err, heapscope_coredump::Error::Io { .. }));
}

/// gdb writes no `PT_LOAD` at all for a file mapping it does not dump; `NT_FILE` still lists it. Such addresses are
/// omitted (mapped, bytes not in the core), not unmapped, and the error names the file.
#[test]
fn file_mapping_without_a_segment_is_omitted_not_unmapped() {
    let built = CoreBuilder::new()
        .load(0x1000, pattern(0x1000, 0), 0x1000)
        .files(0x1000, &[(0x1000, 0x2000, 0, LIB), (0x2000, 0x5000, 0x1000, LIB)])
        .build();
    let c = CoreFile::from_bytes("gdb-style", built.bytes).unwrap();
    assert_eq!(c.presence(Addr(0x1fff)), Presence::InCore);
    assert_eq!(c.presence(Addr(0x2000)), Presence::Omitted);
    assert_eq!(c.presence(Addr(0x4fff)), Presence::Omitted);
    assert_eq!(c.presence(Addr(0x5000)), Presence::Unmapped);
    let err = c.read_u64(Addr(0x3000)).unwrap_err();
    assert_eq!(err, ReadError::NotInCore { addr: Addr(0x3000), mapping: Some(LIB.into()) });
    let across = c.read_u64(Addr(0x1ffc)).unwrap_err();
    assert_eq!(across, ReadError::NotInCore { addr: Addr(0x2000), mapping: Some(LIB.into()) });
    assert_eq!(c.read_u64(Addr(0x5000)).unwrap_err(), ReadError::Unmapped { addr: Addr(0x5000) });
}
