//! Tests on testdata/dwarf/shapes.o (two units, relocatable, built from shapes_a.c and shapes_b.c by
//! tools/layoutgen/make-dwarf-fixture.sh) and its zlib-compressed twin; the expected numbers are in the C comments.

use super::*;

fn object(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/dwarf").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn types(name: &str) -> DwarfTypes {
    DwarfTypes::parse(&object(name)).expect("shapes parse")
}

fn offset(t: &DwarfTypes, ty: &str, path: &str) -> Option<u64> {
    let st = t.find_struct(&[ty]).unwrap().unwrap_or_else(|| panic!("no {ty}"));
    t.member(&st, path).unwrap().map(|m| m.offset)
}

fn check_shapes(t: &DwarfTypes) {
    assert_eq!(t.unit_count(), 2);
    assert!(t.issues().is_empty(), "{:?}", t.issues());

    let inner = t.find_struct(&["Inner"]).unwrap().unwrap();
    assert_eq!(inner.size, Some(16));
    assert_eq!(t.member(&inner, "b").unwrap(), Some(Member { offset: 8, size: Some(8) }));
    assert_eq!(t.find_struct(&["_inner"]).unwrap().unwrap().size, Some(16), "by struct tag");

    // Nested named members, an anonymous struct type.
    assert_eq!(t.find_struct(&["state"]).unwrap().unwrap().size, Some(40));
    assert_eq!(offset(t, "state", "flag"), Some(0));
    assert_eq!(offset(t, "state", "inner.b"), Some(16));
    assert_eq!(offset(t, "state", "threads.head"), Some(24));
    assert_eq!(offset(t, "state", "threads.main"), Some(32));
    assert_eq!(offset(t, "state", "nope"), None);
    assert_eq!(offset(t, "state", "inner.nope"), None);
    assert_eq!(offset(t, "state", "flag.x"), None, "int has no members");
    assert_eq!(offset(t, "state", "threads..head"), None);

    // An anonymous union member.
    assert_eq!(offset(t, "Obj", "refcnt"), Some(0));
    assert_eq!(offset(t, "Obj", "split"), Some(0));
    assert_eq!(offset(t, "Obj", "type"), Some(8));

    // A typedef of an anonymous struct, a typedef of that typedef, bitfields, qualifiers.
    for name in ["Long", "LongAlias"] {
        let st = t.find_struct(&[name]).unwrap().unwrap();
        assert_eq!(st.size, Some(48), "{name}");
        assert_eq!(offset(t, name, "base.type"), Some(8));
        assert_eq!(offset(t, name, "value.tag"), Some(16));
        assert_eq!(offset(t, name, "value.digits"), Some(20));
        assert_eq!(offset(t, name, "small"), Some(24));
        assert_eq!(offset(t, name, "more"), Some(24));
        assert_eq!(t.member(&st, "cv").unwrap(), Some(Member { offset: 32, size: Some(16) }));
        assert_eq!(offset(t, name, "cv.b"), Some(40));
    }

    // Declared in one unit, defined in the other.
    let fwd = t.find_struct(&["Fwd"]).unwrap().unwrap();
    assert_eq!(fwd.size, Some(12));
    assert_eq!(offset(t, "Fwd", "x"), Some(4));
    assert_eq!(offset(t, "Fwd", "u.f"), Some(8));
    assert_eq!(offset(t, "holder", "again"), Some(8));
    assert_eq!(offset(t, "holder", "ptr.x"), None, "pointers are not followed");

    // The first name DWARF knows wins.
    assert_eq!(t.find_struct(&["NoSuch", "Inner"]).unwrap().unwrap().name, "Inner");
    assert_eq!(t.find_struct(&["NoSuch"]).unwrap(), None);
}

#[test]
fn finds_structs_and_nested_members() {
    check_shapes(&types("shapes.o"));
}

#[test]
fn reads_zlib_compressed_sections() {
    check_shapes(&types("shapes-zlib.o"));
}

/// The section header of `name` in `elf`, as (offset of the header entry, sh_offset).
fn section(elf: &[u8], name: &str) -> (usize, usize) {
    let shoff = u64::from_le_bytes(elf[0x28..0x30].try_into().unwrap()) as usize;
    let shnum = u16::from_le_bytes(elf[0x3c..0x3e].try_into().unwrap()) as usize;
    let strndx = u16::from_le_bytes(elf[0x3e..0x40].try_into().unwrap()) as usize;
    let field = |i: usize, at: usize| u64::from_le_bytes(elf[shoff + 64 * i + at..][..8].try_into().unwrap()) as usize;
    let names = field(strndx, 24);
    (0..shnum)
        .find(|&i| {
            let n = u32::from_le_bytes(elf[shoff + 64 * i..][..4].try_into().unwrap()) as usize;
            elf[names + n..].starts_with(name.as_bytes()) && elf[names + n + name.len()] == 0
        })
        .map(|i| (shoff + 64 * i, field(i, 24)))
        .unwrap_or_else(|| panic!("no section {name}"))
}

#[test]
fn zstd_sections_are_reported_unsupported() {
    let mut elf = object("shapes-zlib.o");
    let (_, data) = section(&elf, ".debug_info");
    elf[data] = 2; // ch_type = ELFCOMPRESS_ZSTD
    match DwarfTypes::parse(&elf) {
        Err(DwarfError::UnsupportedCompression { section, kind }) => {
            assert_eq!((section.as_str(), kind.as_str()), (".debug_info", "zstd"));
        }
        other => panic!("expected UnsupportedCompression, got {other:?}"),
    }
}

#[test]
fn rejects_what_is_not_elf_or_has_no_debug_info() {
    assert!(matches!(DwarfTypes::parse(b"not an elf file at all"), Err(DwarfError::NotElf(_))));
    assert!(matches!(DwarfTypes::parse(&[]), Err(DwarfError::NotElf(_))));
    let mut elf = object("shapes.o");
    let (header, _) = section(&elf, ".debug_info");
    elf[header..header + 4].copy_from_slice(&0u32.to_le_bytes()); // the section loses its name
    assert!(matches!(DwarfTypes::parse(&elf), Err(DwarfError::NoDebugInfo)));
}

#[test]
fn a_lying_compressed_size_is_an_error() {
    let mut elf = object("shapes-zlib.o");
    let (_, data) = section(&elf, ".debug_str");
    elf[data + 8..data + 16].copy_from_slice(&(1u64 << 40).to_le_bytes());
    assert!(matches!(DwarfTypes::parse(&elf), Err(DwarfError::Decompress { .. })));
    elf[data + 8..data + 16].copy_from_slice(&3u64.to_le_bytes());
    assert!(matches!(DwarfTypes::parse(&elf), Err(DwarfError::Decompress { .. })));
}

/// Runs every query of `check_shapes` without checking answers: only that nothing panics or hangs.
fn query_everything(t: &DwarfTypes) {
    for name in ["Inner", "state", "Obj", "Long", "LongAlias", "Fwd", "holder", "_inner", "fwd"] {
        if let Ok(Some(st)) = t.find_struct(&[name]) {
            for path in ["a", "b", "flag", "inner.b", "threads.head", "refcnt", "type", "value.digits", "cv.b", "u.f"] {
                let _ = t.member(&st, path);
            }
        }
    }
}

#[test]
fn truncated_files_never_panic() {
    for name in ["shapes.o", "shapes-zlib.o"] {
        let elf = object(name);
        for len in (0..elf.len()).step_by(13) {
            if let Ok(t) = DwarfTypes::parse(&elf[..len]) {
                query_everything(&t);
            }
        }
    }
}

#[test]
fn corrupted_debug_info_never_panics() {
    let clean = object("shapes.o");
    let (_, info) = section(&clean, ".debug_info");
    let (_, abbrev) = section(&clean, ".debug_abbrev");
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for round in 0..600 {
        let mut elf = clean.clone();
        let base = if round % 3 == 0 { abbrev } else { info };
        for _ in 0..1 + round % 4 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let at = base + (seed % 400) as usize;
            if at < elf.len() {
                elf[at] = (seed >> 32) as u8;
            }
        }
        if let Ok(t) = DwarfTypes::parse(&elf) {
            query_everything(&t);
        }
    }
}
