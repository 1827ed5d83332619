//! Tests of the ELF readers: synthetic images (including corrupt ones), and the running test executable itself as a
//! real-world input, checked against goblin's full parser as an independent oracle.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Write as _;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use super::memory_image::LookupMethod;
use super::test_image::{self, get_u32, load_regions, memory, patch_u32, patch_u64, relocate_dynamic, Builder};
use super::*;
use crate::{Memory, ReadError, SyntheticMemory};

const BIAS: u64 = 0x7f12_3456_0000;

/// Writes `bytes` to a temporary file and opens it as a [`DiskElf`].
fn disk(bytes: &[u8]) -> (tempfile::NamedTempFile, DiskElf) {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(bytes).unwrap();
    f.flush().unwrap();
    let d = DiskElf::open(f.path()).unwrap();
    (f, d)
}

/// The image mapped at `bias`, with the dynamic section relocated in place (glibc) or not.
fn mapped(bytes: &[u8], bias: u64, relocate: bool) -> (SyntheticMemory, MappedElf) {
    let mut regions = load_regions(bytes, bias);
    if relocate {
        relocate_dynamic(bytes, &mut regions, bias);
    }
    let mem = memory(regions);
    let first = test_image::program_headers(bytes).into_iter().find(|p| p.p_type == raw::PT_LOAD && p.p_offset == 0);
    let header = Addr(bias + first.unwrap().p_vaddr);
    let elf = MappedElf::parse(&mem, header).unwrap();
    (mem, elf)
}

fn names(v: &[Symbol]) -> BTreeSet<String> {
    v.iter().map(|s| s.name.clone()).collect()
}

#[test]
fn hash_functions_match_reference_values() {
    assert_eq!(raw::gnu_hash(b""), 0x0000_1505);
    assert_eq!(raw::gnu_hash(b"printf"), 0x156b_2bb8);
    assert_eq!(raw::gnu_hash(b"exit"), 0x7c96_7e3f);
    assert_eq!(raw::sysv_hash(b""), 0);
    assert_eq!(raw::sysv_hash(b"printf"), 0x0779_05a6);
    assert_eq!(raw::sysv_hash(b"exit"), 0x0006_cf04);
    assert_eq!(raw::sysv_hash(b"_PyRuntime"), 0x09c3_e9d5);
    // A long name exercises the high-nibble folding (and the wrapping add).
    let long = "\u{ff}".repeat(40);
    let _ = raw::sysv_hash(long.as_bytes());
}

#[test]
fn build_id_hex_and_notes() {
    assert_eq!(build_id_hex(&[0x00, 0xab, 0x1f]), "00ab1f");
    assert_eq!(build_id_hex(&[]), "");
    // An 8-aligned GNU property note, then the build-id.
    let mut n = Vec::new();
    for x in [4u32, 3, 5] {
        n.extend_from_slice(&x.to_le_bytes());
    }
    n.extend_from_slice(b"GNU\0\x01\x02\x03\0\0\0\0\0"); // desc padded to 8
    for x in [4u32, 2, 3] {
        n.extend_from_slice(&x.to_le_bytes());
    }
    n.extend_from_slice(b"GNU\0\xbe\xef\0\0");
    assert_eq!(raw::find_build_id(&n, 8), Some(&[0xbe, 0xef][..]));
    // Truncated descriptor, and a header claiming 4 GiB: no answer, no panic.
    assert_eq!(raw::find_build_id(&n[..n.len() - 3], 8), None);
    let mut bad = vec![0xffu8; 12];
    bad.extend_from_slice(b"GNU\0");
    assert_eq!(raw::find_build_id(&bad, 4), None);
}

#[test]
fn synthetic_dso_lookups_agree_across_methods_and_with_disk() {
    let b = Builder::dso(300);
    let (bytes, lay) = b.build();
    let (_tmp, d) = disk(&bytes);
    assert!(d.issues().is_empty(), "{:?}", d.issues());
    assert_eq!(d.build_id(), b.build_id.as_deref());
    assert!(d.has_symtab());

    for relocate in [true, false] {
        let (mem, m) = mapped(&bytes, BIAS, relocate);
        assert_eq!(m.load_bias(), BIAS);
        assert!(m.is_position_independent());
        assert_eq!(m.build_id(), b.build_id.as_deref());
        assert_eq!(m.build_id_hex(), d.build_id_hex());
        assert_eq!(m.soname(), Some("libtest.so.1"));
        let dy = m.dynamic().unwrap();
        assert_eq!(dy.relocated_by_loader, Some(relocate));
        assert_eq!(dy.symtab, Some(Addr(BIAS + lay.dynsym)));
        assert_eq!(dy.gnu_hash, Some(Addr(BIAS + lay.gnu_hash)));
        assert_eq!(dy.hash, Some(Addr(BIAS + lay.sysv_hash)));
        assert!(dy.rejected.is_empty());
        assert_eq!(m.dynamic_symbol_count(&mem).unwrap(), lay.dynsym_names.len() as u64);

        let syms = m.symbols(&mem).unwrap();
        let disk_dyn: Vec<Symbol> = d.symbols().iter().filter(|s| s.global).map(|s| s.relocated(BIAS)).collect();
        assert_eq!(syms.len(), 302);
        assert_eq!(names(&syms), names(&disk_dyn));
        for s in &syms {
            for method in [LookupMethod::GnuHash, LookupMethod::SysvHash, LookupMethod::LinearScan] {
                let got = m.lookup_via(&mem, &s.name, method).unwrap().unwrap();
                assert_eq!(got.as_ref(), Some(s), "{} via {method:?}", s.name);
            }
            assert_eq!(m.lookup(&mem, &s.name).unwrap().as_ref(), Some(s));
            assert_eq!(d.lookup(&s.name).map(|x| x.relocated(BIAS)).as_ref(), Some(s));
        }
        // Imports and absent names are not found, by any method.
        for name in ["malloc", "free", "", "sym_1", "nope", "_PyRuntim", "_PyRuntimeX", "arenas"] {
            for method in [LookupMethod::GnuHash, LookupMethod::SysvHash, LookupMethod::LinearScan] {
                assert_eq!(m.lookup_via(&mem, name, method).unwrap(), Some(None), "{name:?} via {method:?}");
            }
        }
        let rt = m.lookup(&mem, "_PyRuntime").unwrap().unwrap();
        assert_eq!((rt.addr, rt.size, rt.kind, rt.global), (Addr(BIAS + 0x3800), 0x704a8, SymbolKind::Object, true));
        let abs = m.lookup(&mem, "ABS_CONST").unwrap().unwrap();
        assert_eq!((abs.addr, abs.absolute), (Addr(0x1234), true));
        let tls = syms.iter().find(|s| s.kind == SymbolKind::Tls).unwrap();
        assert!(tls.addr.0 < 0x1_0000, "TLS offsets are not relocated");
        // Weak symbols (every `sym_{5k+2}_…`) count as global.
        let weak = syms.iter().find(|s| s.name.starts_with("sym_2_")).unwrap();
        assert!(weak.global && weak.kind == SymbolKind::Object);
    }
}

#[test]
fn disk_symtab_has_locals_and_prefers_globals() {
    let (bytes, _) = Builder::dso(10).build();
    let (_tmp, d) = disk(&bytes);
    let a = d.lookup("arenas").unwrap();
    assert_eq!((a.addr, a.global, a.kind), (Addr(0x3100), false, SymbolKind::Object));
    assert_eq!(d.lookup_all("interned").count(), 2);
    assert_eq!(d.lookup("interned").unwrap().addr, Addr(0x3108));
    assert!(d.lookup("malloc").is_none(), "undefined symbols are skipped");
    // .dynsym entries duplicated in .symtab appear once.
    assert_eq!(d.lookup_all("_PyRuntime").count(), 1);
    assert_eq!(d.symbols().len(), 3 + 12);
}

#[test]
fn disk_read_at_vaddr() {
    let (bytes, lay) = Builder::dso(10).build();
    let (_tmp, d) = disk(&bytes);
    let mut buf = [0u8; 4];
    d.read_at_vaddr(0, &mut buf).unwrap();
    assert_eq!(&buf, b"\x7fELF");
    let mut data = [0u8; 0x100];
    d.read_at_vaddr(lay.data_vaddr, &mut data).unwrap();
    assert!(data.iter().all(|&x| x == 0xab));
    // Past p_filesz: .bss.
    let end = lay.data_vaddr + 0x100;
    assert!(matches!(d.read_at_vaddr(end, &mut buf), Err(ElfError::VaddrInBss { vaddr, .. }) if vaddr == end));
    // Straddling the end of the file-backed part.
    assert!(matches!(d.read_at_vaddr(end - 2, &mut buf), Err(ElfError::VaddrInBss { vaddr, .. }) if vaddr == end));
    assert!(matches!(d.read_at_vaddr(0x10_0000, &mut buf), Err(ElfError::VaddrNotInFile { .. })));
    assert!(matches!(d.read_at_vaddr(u64::MAX - 1, &mut buf), Err(ElfError::VaddrNotInFile { .. })));
    d.read_at_vaddr(0x10_0000, &mut []).unwrap();
    assert_eq!(d.bytes_at(1, 3), Some(&b"ELF"[..]));
    assert_eq!(d.bytes_at(d.len() - 1, 2), None);
    assert_eq!(d.bytes_at(u64::MAX, 1), None);
    assert_eq!(d.load_bias(Addr(BIAS)), Some(BIAS));
}

#[test]
fn disk_rejects_bad_files_and_survives_bad_sections() {
    let (bytes, _) = Builder::dso(10).build();
    let open = |b: &[u8]| DiskElf::from_vec(PathBuf::from("/x/lib.so"), b.to_vec());
    assert!(matches!(open(&bytes[..10]), Err(ElfError::NotElf { .. })));
    let mut b = bytes.clone();
    b[0] = 0;
    assert!(matches!(open(&b), Err(ElfError::NotElf { .. })));
    let mut b = bytes.clone();
    b[4] = 1; // ELFCLASS32
    assert!(matches!(open(&b), Err(ElfError::Unsupported { .. })));
    let mut b = bytes.clone();
    patch_u64(&mut b, 32, u64::MAX - 8); // e_phoff
    assert!(matches!(open(&b), Err(ElfError::Truncated { part: ElfPart::ProgramHeaders, .. })));
    // Section headers beyond the end: build-id (from PT_NOTE) and segments still work.
    let mut b = bytes.clone();
    patch_u64(&mut b, 40, (bytes.len() - 10) as u64);
    let d = open(&b).unwrap();
    assert!(d.build_id().is_some());
    assert!(d.symbols().is_empty());
    assert!(matches!(d.issues(), [ElfError::Truncated { part: ElfPart::SectionHeaders, .. }]));
    // A symbol table whose size runs off the file, and a huge e_shnum via section 0's sh_size.
    let shoff = test_image::get_u64(&bytes, 40);
    let mut b = bytes.clone();
    patch_u64(&mut b, shoff + 64 + 32, u64::MAX / 2); // .dynsym sh_size
    let d = open(&b).unwrap();
    assert!(d.issues().iter().any(|e| matches!(e, ElfError::Truncated { part: ElfPart::SymbolTable, .. })));
    assert!(d.lookup("arenas").is_some(), ".symtab still read");
    let mut b = bytes.clone();
    b[60..62].copy_from_slice(&0u16.to_le_bytes());
    patch_u64(&mut b, shoff + 32, u64::MAX / 64);
    let d = open(&b).unwrap();
    assert!(matches!(d.issues(), [ElfError::Truncated { part: ElfPart::SectionHeaders, .. }]));
    // Errors name the file.
    let e = DiskElf::open(std::path::Path::new("/nonexistent/heapscope.so")).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/heapscope.so"), "{e}");
}

#[test]
fn non_pie_executable_has_zero_bias() {
    let b = Builder { exec: true, ..Builder::dso(20) };
    let (bytes, lay) = b.build();
    let (mem, m) = mapped(&bytes, 0, true);
    assert_eq!(m.header_addr(), Addr(0x40_0000));
    assert_eq!(m.load_bias(), 0);
    assert!(!m.is_position_independent());
    assert_eq!(m.dynamic().unwrap().relocated_by_loader, None);
    let s = m.lookup(&mem, "_PyRuntime").unwrap().unwrap();
    assert_eq!(s.addr, Addr(0x3800));
    assert_eq!(m.address_range().0, Addr(lay.base));
    assert!(m.contains(Addr(0x40_0000)) && !m.contains(Addr(0x3f_ffff)));
}

#[test]
fn only_one_hash_table_or_none() {
    for (gnu, sysv) in [(true, false), (false, true), (false, false)] {
        let b = Builder { gnu_hash: gnu, sysv_hash: sysv, ..Builder::dso(50) };
        let (bytes, lay) = b.build();
        let (mem, m) = mapped(&bytes, BIAS, true);
        // Without any hash table the count falls back to the DT_SYMTAB..DT_STRTAB gap.
        assert_eq!(m.dynamic_symbol_count(&mem).unwrap(), lay.dynsym_names.len() as u64);
        assert_eq!(m.symbols(&mem).unwrap().len(), 52);
        assert!(m.lookup(&mem, "sym_7_").unwrap().is_some(), "gnu={gnu} sysv={sysv}");
        assert!(m.lookup(&mem, "missing").unwrap().is_none());
        assert_eq!(m.lookup_via(&mem, "sym_7_", LookupMethod::GnuHash).unwrap().is_some(), gnu);
        assert_eq!(m.lookup_via(&mem, "sym_7_", LookupMethod::SysvHash).unwrap().is_some(), sysv);
    }
}

#[test]
fn missing_pt_dynamic() {
    let b = Builder { dynamic: false, ..Builder::dso(5) };
    let (bytes, _) = b.build();
    let (mem, m) = mapped(&bytes, BIAS, false);
    assert!(m.build_id().is_some());
    assert!(matches!(m.dynamic(), Err(ElfError::NoDynamicSection { object }) if object == Addr(BIAS)));
    assert!(matches!(m.lookup(&mem, "_PyRuntime"), Err(ElfError::NoDynamicSection { .. })));
    assert!(matches!(m.symbols(&mem), Err(ElfError::NoDynamicSection { .. })));
    assert_eq!(m.soname(), None);
}

/// Maps `bytes` (patched by `patch`) at BIAS, relocated, and parses it with `limits`.
fn patched(patch: impl FnOnce(&mut Vec<u8>), limits: ElfLimits) -> (SyntheticMemory, MappedElf) {
    let (mut bytes, _) = Builder::dso(40).build();
    patch(&mut bytes);
    let mut regions = load_regions(&bytes, BIAS);
    relocate_dynamic(&bytes, &mut regions, BIAS);
    let mem = memory(regions);
    let m = MappedElf::parse_with_limits(&mem, Addr(BIAS), limits).unwrap();
    (mem, m)
}

#[test]
fn cyclic_sysv_chain_terminates() {
    let (_, lay) = Builder::dso(40).build();
    let h = lay.sysv_hash;
    let (mem, m) = patched(
        |b| {
            // Every bucket -> 1, chain 1 -> 2 -> 1.
            for i in 0..7 {
                patch_u32(b, h + 8 + 4 * i, 1);
            }
            let chain = h + 8 + 4 * 7;
            patch_u32(b, chain + 4, 2);
            patch_u32(b, chain + 8, 1);
        },
        ElfLimits::default(),
    );
    let e = m.lookup_via(&mem, "missing", LookupMethod::SysvHash).unwrap_err();
    assert!(matches!(e, ElfError::Malformed { part: ElfPart::SysvHashTable, .. }), "{e}");
    assert!(e.to_string().contains("cyclic"), "{e}");
    // The GNU table is intact, so lookup still answers; with it gone, the linear scan does.
    assert!(m.lookup(&mem, "_PyRuntime").unwrap().is_some());
    let (mem, m) = patched(
        |b| {
            for i in 0..7 {
                patch_u32(b, h + 8 + 4 * i, 1);
            }
            patch_u32(b, h + 8 + 4 * 7 + 4, 1); // 1 -> 1
            patch_u32(b, lay.gnu_hash, 0); // nbuckets = 0: malformed
        },
        ElfLimits::default(),
    );
    assert!(m.lookup_via(&mem, "x", LookupMethod::GnuHash).is_err());
    assert!(m.lookup_via(&mem, "x", LookupMethod::SysvHash).is_err());
    assert_eq!(m.lookup(&mem, "_PyRuntime").unwrap().unwrap().addr, Addr(BIAS + 0x3800));
    assert!(m.lookup(&mem, "missing").unwrap().is_none());
}

#[test]
fn unterminated_gnu_chain_terminates() {
    let (bytes, lay) = Builder::dso(40).build();
    // A GNU hash table placed in .bss: one bucket starting at symbol 1, a bloom filter that passes everything, and a
    // chain of zeros (no terminator bit) running on for 0x2000 bytes until memory ends.
    let bss = lay.data_vaddr + 0x100;
    let setup = |limits: ElfLimits| {
        let mut regions = load_regions(&bytes, BIAS);
        relocate_dynamic(&bytes, &mut regions, BIAS);
        let (start, rw) = &mut regions[1];
        let off = bss + BIAS - start.0;
        for (i, w) in [1u32, 1, 1, 6].iter().enumerate() {
            patch_u32(rw, off + 4 * i as u64, *w);
        }
        patch_u64(rw, off + 16, u64::MAX);
        patch_u32(rw, off + 24, 1);
        let dynamic = lay.dynamic + BIAS - start.0;
        for i in 0..10 {
            if test_image::get_u64(rw, dynamic + 16 * i) == raw::DT_GNU_HASH {
                patch_u64(rw, dynamic + 16 * i + 8, BIAS + bss);
            }
        }
        let mem = memory(regions);
        let m = MappedElf::parse_with_limits(&mem, Addr(BIAS), limits).unwrap();
        (mem, m)
    };
    let limits = ElfLimits { max_symbols: 100, ..ElfLimits::default() };
    let (mem, m) = setup(limits);
    assert_eq!(m.dynamic().unwrap().gnu_hash, Some(Addr(BIAS + bss)));
    let e = m.lookup_via(&mem, "missing", LookupMethod::GnuHash).unwrap_err();
    assert!(matches!(e, ElfError::Malformed { part: ElfPart::GnuHashTable, .. }), "{e}");
    assert!(e.to_string().contains("not terminated"), "{e}");
    // Symbol count and lookups fall back to DT_HASH.
    assert_eq!(m.dynamic_symbol_count(&mem).unwrap(), lay.dynsym_names.len() as u64);
    assert!(m.lookup(&mem, "missing").unwrap().is_none());
    assert!(m.lookup(&mem, "_PyRuntime").unwrap().is_some());

    // With the default limit the walk reads on until memory ends: a clean read error, not a hang.
    let (mem, m) = setup(ElfLimits::default());
    let e = m.lookup_via(&mem, "missing", LookupMethod::GnuHash).unwrap_err();
    assert!(matches!(e, ElfError::Read { part: ElfPart::GnuHashTable, .. }), "{e}");

    // Clearing every terminator of the real table: every walk still ends (on the limit, a read error, or an odd
    // word past the chain array), and the answer for a present name is unchanged.
    let g = lay.gnu_hash;
    let chains = g + 16 + 8 * u64::from(lay.bloom_size) + 4 * u64::from(lay.nbuckets);
    let nhashed = (lay.dynsym_names.len() as u32 - lay.symoffset) as u64;
    let (mem, m) = patched(
        |b| {
            for i in 0..nhashed {
                let v = get_u32(b, chains + 4 * i);
                patch_u32(b, chains + 4 * i, v & !1);
            }
        },
        limits,
    );
    for name in ["missing", "sym_3_xxx", "_PyRuntime"] {
        let _ = m.lookup_via(&mem, name, LookupMethod::GnuHash);
    }
    assert!(m.lookup(&mem, "_PyRuntime").unwrap().is_some());
}

#[test]
fn counts_and_pointers_outside_memory_give_clean_errors() {
    let (_, lay) = Builder::dso(40).build();
    let h = lay.sysv_hash;

    // nchain beyond the limit.
    let (mem, m) = patched(|b| patch_u32(b, h + 4, u32::MAX), ElfLimits::default());
    assert!(matches!(
        m.lookup_via(&mem, "_PyRuntime", LookupMethod::SysvHash),
        Err(ElfError::Malformed { part: ElfPart::SysvHashTable, .. })
    ));
    // nchain within the limit but far beyond mapped memory, and no GNU table: symbols() fails cleanly.
    let (mem, m) = patched(
        |b| {
            patch_u32(b, h + 4, 1_000_000);
            patch_u32(b, lay.gnu_hash + 8, u32::MAX); // bloom size out of range
        },
        ElfLimits::default(),
    );
    let e = m.symbols(&mem).unwrap_err();
    assert!(matches!(e, ElfError::Read { part: ElfPart::SymbolTable, .. }), "{e}");
    // A symbol whose name offset is past DT_STRSZ is skipped; one whose name is unmapped is a string-table error.
    let (mem, m) = patched(|b| patch_u32(b, lay.dynsym + 24 * 5, 0xffff_ff00), ElfLimits::default());
    assert_eq!(m.symbols(&mem).unwrap().len(), 41);

    // DT_SYMTAB outside every segment: rejected, and lookups say so.
    let (mem, m) = patched(
        |b| {
            let dynamic = lay.dynamic;
            for i in 0..10 {
                if test_image::get_u64(b, dynamic + 16 * i) == raw::DT_SYMTAB {
                    patch_u64(b, dynamic + 16 * i + 8, 0xdead_0000_0000);
                }
            }
        },
        ElfLimits::default(),
    );
    let dy = m.dynamic().unwrap();
    assert_eq!(dy.symtab, None);
    assert_eq!(dy.rejected, vec![(raw::DT_SYMTAB, 0xdead_0000_0000 + BIAS)]);
    let e = m.lookup(&mem, "_PyRuntime").unwrap_err();
    assert!(matches!(e, ElfError::NoDynamicSymbols { .. }), "{e}");
    assert!(e.to_string().contains("DT_SYMTAB"), "{e}");
}

#[test]
fn pages_missing_from_the_core() {
    // Only the first page and the RW segment are present, as in a core that dumps ELF headers and dirty data.
    let (bytes, _) = Builder::dso(300).build();
    let mut regions = load_regions(&bytes, BIAS);
    relocate_dynamic(&bytes, &mut regions, BIAS);
    assert!(regions[0].1.len() > 0x1000, "the test needs tables beyond the first page");
    regions[0].1.truncate(0x1000);
    let mem = memory(regions);
    let m = MappedElf::parse(&mem, Addr(BIAS)).unwrap();
    assert!(m.build_id().is_some());
    assert_eq!(m.soname(), None, "the string table is not in memory");
    let e = m.lookup(&mem, "_PyRuntime").unwrap_err();
    match &e {
        ElfError::Read { object, part, addr, source } => {
            assert_eq!(*object, Addr(BIAS));
            assert!(matches!(part, ElfPart::GnuHashTable | ElfPart::SymbolTable | ElfPart::StringTable));
            assert!(
                addr.0 >= BIAS + 0x1000 || matches!(source, ReadError::Unmapped { addr } if addr.0 >= BIAS + 0x1000)
            );
        }
        other => panic!("unexpected {other}"),
    }
    assert!(e.to_string().contains("mapped at 0x7f1234560000"), "{e}");
    assert!(m.symbols(&mem).is_err());

    // The dynamic section itself unreadable: parse succeeds, lookups report it.
    let mut regions = load_regions(&bytes, BIAS);
    regions.truncate(1);
    let mem = memory(regions);
    let m = MappedElf::parse(&mem, Addr(BIAS)).unwrap();
    let e = m.lookup(&mem, "_PyRuntime").unwrap_err();
    assert!(matches!(e, ElfError::Read { part: ElfPart::DynamicSection, .. }), "{e}");
}

#[test]
fn bad_headers_in_memory() {
    let (bytes, _) = Builder::dso(5).build();
    let parse = |b: &[u8]| MappedElf::parse(&memory(load_regions_raw(b)), Addr(BIAS));
    let mut b = bytes.clone();
    b[1] = b'X';
    assert!(matches!(parse(&b), Err(ElfError::NotElf { .. })));
    let mut b = bytes.clone();
    b[5] = 2; // big-endian
    assert!(matches!(parse(&b), Err(ElfError::Unsupported { .. })));
    let mut b = bytes.clone();
    b[16] = 4; // ET_CORE
    assert!(matches!(parse(&b), Err(ElfError::Unsupported { .. })));
    let mut b = bytes.clone();
    b[56..58].copy_from_slice(&4000u16.to_le_bytes()); // e_phnum: phdrs run off memory
    assert!(matches!(parse(&b), Err(ElfError::Read { part: ElfPart::ProgramHeaders, .. })));
    let mut b = bytes.clone();
    b[56..58].copy_from_slice(&0u16.to_le_bytes());
    assert!(matches!(parse(&b), Err(ElfError::Malformed { part: ElfPart::ProgramHeaders, .. })));
    let mut b = bytes.clone();
    patch_u64(&mut b, 32, u64::MAX - 16); // e_phoff overflows
    assert!(matches!(parse(&b), Err(ElfError::Malformed { part: ElfPart::ProgramHeaders, .. })));
    // No PT_LOAD at offset 0.
    let mut b = bytes.clone();
    patch_u64(&mut b, 64 + 8, 0x5000);
    assert!(matches!(parse(&b), Err(ElfError::Malformed { .. })));
    // Nothing mapped.
    let e = MappedElf::parse(&SyntheticMemory::new(), Addr(0x1000)).unwrap_err();
    assert!(matches!(e, ElfError::Read { part: ElfPart::Header, .. }), "{e}");
}

/// The file's bytes at BIAS as one region (for header-corruption tests, which must not depend on the phdrs).
fn load_regions_raw(b: &[u8]) -> Vec<(Addr, Vec<u8>)> {
    vec![(Addr(BIAS), b.to_vec())]
}

#[test]
fn mutated_images_never_panic_or_hang() {
    let (bytes, _) = Builder::dso(60).build();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        // xorshift64*: deterministic, no dependency.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    for round in 0..3000 {
        let mut b = bytes.clone();
        for _ in 0..1 + next() % 8 {
            let pos = (next() % b.len() as u64) as usize;
            // Bias mutations towards the headers and tables, where they matter.
            let pos = if round % 2 == 0 { pos % 0x1100 } else { pos };
            b[pos] = match next() % 4 {
                0 => 0,
                1 => 0xff,
                _ => next() as u8,
            };
        }
        if let Ok(d) = DiskElf::from_vec(PathBuf::from("fuzz.so"), b.clone()) {
            let _ = d.lookup("_PyRuntime");
            let mut buf = [0u8; 64];
            let _ = d.read_at_vaddr(0x3000, &mut buf);
        }
        let mem = memory(load_regions_raw(&b));
        if let Ok(m) = MappedElf::parse(&mem, Addr(BIAS)) {
            for name in ["_PyRuntime", "sym_7_", "missing"] {
                let _ = m.lookup(&mem, name);
            }
            let _ = m.symbols(&mem);
            let _ = m.dynamic_symbol_count(&mem);
        }
    }
}

// ---- the running test executable as a real-world input ----

/// A function and a static the tests look up in this executable's `.symtab`.
#[allow(unsafe_code)] // `no_mangle` is flagged by `unsafe_code`; it only fixes the symbol name here.
#[no_mangle]
pub extern "C" fn heapscope_elf_test_marker_fn(x: u64) -> u64 {
    x.wrapping_mul(3).wrapping_add(1)
}

/// See [`heapscope_elf_test_marker_fn`].
#[allow(unsafe_code)]
#[no_mangle]
#[used]
pub static HEAPSCOPE_ELF_TEST_MARKER: [u64; 4] = [1, 2, 3, 4];

fn self_exe() -> (PathBuf, Vec<u8>) {
    let p = std::env::current_exe().unwrap();
    let b = std::fs::read(&p).unwrap();
    (p, b)
}

#[test]
fn test_executable_on_disk_matches_goblin() {
    let (path, bytes) = self_exe();
    let d = DiskElf::open(&path).unwrap();
    assert_eq!(d.len(), bytes.len() as u64);
    assert!(d.issues().is_empty(), "{:?}", d.issues());
    let g = goblin::elf::Elf::parse(&bytes).unwrap();

    // Build-id, as goblin's note iterator finds it.
    let gid = g
        .iter_note_headers(&bytes)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .find(|n| n.n_type == goblin::elf::note::NT_GNU_BUILD_ID && n.name == "GNU")
        .map(|n| n.desc.to_vec());
    assert!(gid.is_some(), "test executables are linked with a build-id");
    assert_eq!(d.build_id().map(<[u8]>::to_vec), gid);

    // Our markers.
    let f = d.lookup("heapscope_elf_test_marker_fn").expect("marker fn in .symtab");
    assert_eq!((f.kind, f.global), (SymbolKind::Func, true));
    let s = d.lookup("HEAPSCOPE_ELF_TEST_MARKER").expect("marker static in .symtab");
    assert_eq!((s.kind, s.size), (SymbolKind::Object, 32));
    assert_eq!(heapscope_elf_test_marker_fn(1), 4);

    // Every defined, named, non-section .symtab and .dynsym symbol, as goblin decodes them.
    let mut expected = BTreeSet::new();
    for (syms, strtab) in [(&g.syms, &g.strtab), (&g.dynsyms, &g.dynstrtab)] {
        for sym in syms.iter() {
            let name = strtab.get_at(sym.st_name).unwrap_or("");
            if sym.st_shndx != 0 && !name.is_empty() && !matches!(sym.st_type(), 3 | 4) {
                expected.insert((name.to_string(), sym.st_value, sym.st_size));
            }
        }
    }
    let ours: BTreeSet<_> = d.symbols().iter().map(|s| (s.name.clone(), s.addr.0, s.size)).collect();
    assert_eq!(ours, expected);
    assert!(d.symbols().iter().any(|s| !s.global), "a linked executable has LOCAL symbols");

    // Segment bytes, against goblin's program headers.
    for ph in g.program_headers.iter().filter(|p| p.p_type == raw::PT_LOAD && p.p_filesz >= 64) {
        let mut buf = [0u8; 64];
        d.read_at_vaddr(ph.p_vaddr, &mut buf).unwrap();
        assert_eq!(&buf[..], &bytes[ph.p_offset as usize..][..64]);
    }
}

#[test]
fn test_executable_mapped_like_the_loader() {
    let (path, bytes) = self_exe();
    let d = DiskElf::open(&path).unwrap();
    let g = goblin::elf::Elf::parse(&bytes).unwrap();
    let bias = if d.is_position_independent() { 0x5555_5555_0000 } else { 0 };
    let dynsym_count = g.dynsyms.len() as u64;
    let expected: BTreeSet<String> = g
        .dynsyms
        .iter()
        .filter(|s| s.st_shndx != 0 && !matches!(s.st_type(), 3 | 4))
        .filter_map(|s| g.dynstrtab.get_at(s.st_name).filter(|n| !n.is_empty()).map(str::to_string))
        .collect();
    let imports: Vec<String> = g
        .dynsyms
        .iter()
        .filter(|s| s.st_shndx == 0)
        .filter_map(|s| g.dynstrtab.get_at(s.st_name).filter(|n| !n.is_empty()).map(str::to_string))
        .take(20)
        .collect();
    for relocate in [true, false] {
        let (mem, m) = mapped(&bytes, bias, relocate);
        assert_eq!(m.load_bias(), bias);
        assert_eq!(d.load_bias(m.header_addr()), Some(bias));
        assert_eq!(m.build_id(), d.build_id());
        let Ok(dy) = m.dynamic() else {
            assert!(g.dynamic.is_none());
            continue;
        };
        assert!(dy.symtab.is_some() && dy.strtab.is_some());
        assert_eq!(m.dynamic_symbol_count(&mem).unwrap(), dynsym_count);
        let syms = m.symbols(&mem).unwrap();
        assert_eq!(names(&syms), expected);
        for s in &syms {
            let disk = d.lookup_all(&s.name).find(|x| x.relocated(bias) == *s);
            assert!(disk.is_some(), "{} not in DiskElf", s.name);
            for method in [LookupMethod::GnuHash, LookupMethod::SysvHash, LookupMethod::LinearScan] {
                if let Some(r) = m.lookup_via(&mem, &s.name, method).unwrap() {
                    assert_eq!(r.as_ref(), Some(s));
                }
            }
        }
        for name in &imports {
            assert_eq!(m.lookup(&mem, name).unwrap(), None, "import {name}");
        }
    }
}

/// [`Memory`] over this process's own address space, via `/proc/self/mem`.
struct SelfMem(File);

impl Memory for SelfMem {
    fn read_into(&self, addr: Addr, buf: &mut [u8]) -> Result<(), ReadError> {
        self.0.read_exact_at(buf, addr.0).map_err(|_| ReadError::Unmapped { addr })
    }
}

#[test]
fn test_executable_as_loaded_in_this_process() {
    let (path, _) = self_exe();
    let (Ok(mem), Ok(maps)) = (File::open("/proc/self/mem"), std::fs::read_to_string("/proc/self/maps")) else {
        eprintln!("skipped: /proc/self/mem is not readable here");
        return;
    };
    let mem = SelfMem(mem);
    let canon = std::fs::canonicalize(&path).unwrap();
    // The mapping of this executable at file offset 0.
    let header = maps.lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        let (range, offset, file) = (f.first()?, f.get(2)?, f.get(5)?);
        (u64::from_str_radix(offset, 16).ok()? == 0 && std::path::Path::new(file) == canon)
            .then(|| u64::from_str_radix(range.split('-').next()?, 16).ok())
            .flatten()
    });
    let header = Addr(header.expect("this executable is mapped"));
    let m = MappedElf::parse(&mem, header).unwrap();
    let d = DiskElf::open(&path).unwrap();
    assert_eq!(m.build_id(), d.build_id());
    assert_eq!(d.load_bias(header), Some(m.load_bias()));

    // The relocated marker addresses are the real ones.
    let f = d.lookup("heapscope_elf_test_marker_fn").unwrap().relocated(m.load_bias());
    assert_eq!(f.addr.0, heapscope_elf_test_marker_fn as *const () as usize as u64);
    let s = d.lookup("HEAPSCOPE_ELF_TEST_MARKER").unwrap().relocated(m.load_bias());
    assert_eq!(s.addr.0, HEAPSCOPE_ELF_TEST_MARKER.as_ptr() as usize as u64);
    assert_eq!(mem.read_u64(s.addr.wrapping_add(8)).unwrap(), 2);

    // The dynamic section as the real loader left it.
    if let Ok(dy) = m.dynamic() {
        assert!(dy.rejected.is_empty(), "{:?}", dy.rejected);
        assert!(dy.symtab.is_some() && dy.strtab.is_some());
        let syms = m.symbols(&mem).unwrap();
        let on_disk: BTreeSet<String> = d.symbols().iter().filter(|s| s.global).map(|s| s.name.clone()).collect();
        assert!(names(&syms).is_subset(&on_disk));
        for s in &syms {
            assert_eq!(m.lookup(&mem, &s.name).unwrap().as_ref(), Some(s));
        }
        assert_eq!(m.lookup(&mem, "malloc").unwrap(), None);
    }
}

/// Without a hash table, lookups answer from an index built by one scan: many lookups in a large table stay linear
/// in its size (a scan per lookup took 36 s here for these 4,000 lookups among 100,000 symbols, the index 0.07 s).
#[test]
fn many_lookups_without_hash_tables_scan_the_table_once() {
    let n = 100_000;
    let b = Builder { gnu_hash: false, sysv_hash: false, ..Builder::dso(n) };
    let (bytes, lay) = b.build();
    let (mem, m) = mapped(&bytes, BIAS, true);
    assert_eq!(m.dynamic_symbol_count(&mem).unwrap(), lay.dynsym_names.len() as u64);
    let started = std::time::Instant::now();
    for i in (0..n).step_by(50) {
        let name = format!("sym_{i}_{}", "x".repeat(i % 7));
        let s = m.lookup(&mem, &name).unwrap().unwrap_or_else(|| panic!("{name} not found"));
        let want = if i % 5 == 3 { 0x3000 + 16 * i as u64 } else { BIAS + 0x3000 + 16 * i as u64 };
        assert_eq!(s.addr, Addr(want), "{name}");
        assert!(m.lookup(&mem, &format!("{name}_absent")).unwrap().is_none());
    }
    assert!(m.lookup(&mem, "malloc").unwrap().is_none(), "an import is not a definition");
    eprintln!("{} lookups among {n} symbols without hash tables: {:?}", 2 * n / 50, started.elapsed());
}
