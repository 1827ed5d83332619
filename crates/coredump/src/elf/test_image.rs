//! Synthetic ELF64 images for tests: a small shared object (or executable) with `.dynsym`, `.dynstr`, `.gnu.hash`,
//! `.hash`, `.dynamic`, a build-id note, `.symtab`, and section headers; and a loader that lays an ELF file out in a
//! [`SyntheticMemory`] the way `ld.so` maps it.

use goblin::elf::header::{ET_DYN, ET_EXEC};
use goblin::elf::section_header::{SHT_DYNAMIC, SHT_GNU_HASH, SHT_HASH, SHT_STRTAB};
use goblin::elf::sym::{STB_GLOBAL, STB_LOCAL, STB_WEAK, STT_FUNC, STT_NOTYPE, STT_OBJECT, STT_TLS};

use super::raw::{self, array_at, Phdr};
use crate::{Addr, SyntheticMemory};

/// A symbol to put in an image.
#[derive(Debug, Clone)]
pub(crate) struct TestSym {
    pub name: String,
    pub value: u64,
    pub size: u64,
    pub info: u8,
    pub shndx: u16,
}

impl TestSym {
    pub fn new(name: &str, value: u64, size: u64, bind: u8, typ: u8, shndx: u16) -> TestSym {
        TestSym { name: name.into(), value, size, info: (bind << 4) | typ, shndx }
    }
}

/// What to build.
#[derive(Debug, Clone)]
pub(crate) struct Builder {
    /// Dynamic symbols (the null symbol is added).
    pub syms: Vec<TestSym>,
    /// `.symtab`-only symbols.
    pub locals: Vec<TestSym>,
    pub gnu_hash: bool,
    pub sysv_hash: bool,
    pub dynamic: bool,
    pub soname: Option<String>,
    pub build_id: Option<Vec<u8>>,
    /// `ET_DYN` at vaddr 0, or `ET_EXEC` at 0x400000.
    pub exec: bool,
}

/// Where things ended up (file offsets; the first segment has vaddr = base + offset).
#[derive(Debug, Clone, Default)]
pub(crate) struct Layout {
    pub base: u64,
    pub note: u64,
    pub gnu_hash: u64,
    pub sysv_hash: u64,
    pub dynsym: u64,
    pub dynstr: u64,
    pub dynamic: u64,
    pub data_vaddr: u64,
    /// Names of `.dynsym` in table order (index 0 = "").
    pub dynsym_names: Vec<String>,
    pub symoffset: u32,
    pub nbuckets: u32,
    pub bloom_size: u32,
}

fn align(v: &mut Vec<u8>, a: usize) {
    v.resize(v.len().next_multiple_of(a), 0);
}

fn put_u16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn put_u32(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn put_u64(v: &mut Vec<u8>, x: u64) {
    v.extend_from_slice(&x.to_le_bytes());
}

/// Overwrites a little-endian `u32` at `off`.
pub(crate) fn patch_u32(v: &mut [u8], off: u64, x: u32) {
    let o = off as usize;
    v[o..o + 4].copy_from_slice(&x.to_le_bytes());
}

/// Overwrites a little-endian `u64` at `off`.
pub(crate) fn patch_u64(v: &mut [u8], off: u64, x: u64) {
    let o = off as usize;
    v[o..o + 8].copy_from_slice(&x.to_le_bytes());
}

/// Reads a little-endian `u32` at `off`.
pub(crate) fn get_u32(v: &[u8], off: u64) -> u32 {
    u32::from_le_bytes(*array_at(v, off).unwrap())
}

/// Reads a little-endian `u64` at `off`.
pub(crate) fn get_u64(v: &[u8], off: u64) -> u64 {
    u64::from_le_bytes(*array_at(v, off).unwrap())
}

fn put_sym(v: &mut Vec<u8>, name: u32, s: &TestSym) {
    put_u32(v, name);
    v.push(s.info);
    v.push(0);
    put_u16(v, s.shndx);
    put_u64(v, s.value);
    put_u64(v, s.size);
}

/// A string table under construction.
#[derive(Default)]
struct StrTab(Vec<u8>);

impl StrTab {
    fn new() -> StrTab {
        StrTab(vec![0])
    }
    fn add(&mut self, s: &str) -> u32 {
        let off = self.0.len() as u32;
        self.0.extend_from_slice(s.as_bytes());
        self.0.push(0);
        off
    }
}

impl Builder {
    /// A shared object with both hash tables, a soname and a build-id, exporting `n` varied symbols.
    pub fn dso(n: usize) -> Builder {
        let mut syms = Vec::new();
        // Two imports (undefined), which lookups must skip.
        syms.push(TestSym::new("malloc", 0, 0, STB_GLOBAL, STT_FUNC, 0));
        syms.push(TestSym::new("free", 0, 0, STB_GLOBAL, STT_FUNC, 0));
        for i in 0..n {
            let (bind, typ) = match i % 5 {
                0 => (STB_GLOBAL, STT_FUNC),
                1 => (STB_GLOBAL, STT_OBJECT),
                2 => (STB_WEAK, STT_OBJECT),
                3 => (STB_GLOBAL, STT_TLS),
                _ => (STB_GLOBAL, STT_NOTYPE),
            };
            syms.push(TestSym::new(&format!("sym_{i}_{}", "x".repeat(i % 7)), 0x3000 + 16 * i as u64, 8, bind, typ, 7));
        }
        syms.push(TestSym::new("_PyRuntime", 0x3800, 0x704a8, STB_GLOBAL, STT_OBJECT, 7));
        syms.push(TestSym::new(
            "ABS_CONST",
            0x1234,
            0,
            STB_GLOBAL,
            STT_NOTYPE,
            goblin::elf::section_header::SHN_ABS as u16,
        ));
        Builder {
            syms,
            locals: vec![
                TestSym::new("arenas", 0x3100, 8, STB_LOCAL, STT_OBJECT, 7),
                TestSym::new("interned", 0x3108, 8, STB_LOCAL, STT_OBJECT, 7),
                TestSym::new("interned", 0x3110, 8, STB_LOCAL, STT_OBJECT, 7),
            ],
            gnu_hash: true,
            sysv_hash: true,
            dynamic: true,
            soname: Some("libtest.so.1".into()),
            build_id: Some((0u8..20).map(|i| i.wrapping_mul(37).wrapping_add(1)).collect()),
            exec: false,
        }
    }

    /// Builds the image.
    pub fn build(&self) -> (Vec<u8>, Layout) {
        let base: u64 = if self.exec { 0x40_0000 } else { 0 };
        let mut lay = Layout { base, ..Layout::default() };

        // Order .dynsym: null, undefined, then defined sorted by GNU hash bucket.
        let (undef, mut defined): (Vec<&TestSym>, Vec<&TestSym>) = self.syms.iter().partition(|s| s.shndx == 0);
        let nbuckets = (defined.len() as u32 / 4).max(1);
        if self.gnu_hash {
            defined.sort_by_key(|s| raw::gnu_hash(s.name.as_bytes()) % nbuckets);
        }
        let ordered: Vec<&TestSym> = undef.iter().chain(defined.iter()).copied().collect();
        let nsyms = ordered.len() + 1;
        let symoffset = (1 + undef.len()) as u32;
        lay.symoffset = symoffset;
        lay.nbuckets = nbuckets;
        lay.dynsym_names = std::iter::once(String::new()).chain(ordered.iter().map(|s| s.name.clone())).collect();

        let mut dynstr = StrTab::new();
        let name_offs: Vec<u32> = ordered.iter().map(|s| dynstr.add(&s.name)).collect();
        let soname_off = self.soname.as_ref().map(|s| dynstr.add(s));

        let nph = 2 + usize::from(self.dynamic) + usize::from(self.build_id.is_some());
        let mut f = vec![0u8; 64 + 56 * nph];

        // Note.
        if let Some(id) = &self.build_id {
            lay.note = f.len() as u64;
            put_u32(&mut f, 4);
            put_u32(&mut f, id.len() as u32);
            put_u32(&mut f, 3);
            f.extend_from_slice(b"GNU\0");
            f.extend_from_slice(id);
            align(&mut f, 4);
        }
        let note_end = f.len() as u64;

        // GNU hash.
        align(&mut f, 8);
        if self.gnu_hash {
            lay.gnu_hash = f.len() as u64;
            let bloom_size: u32 = 4;
            let shift = 6;
            lay.bloom_size = bloom_size;
            let mut bloom = vec![0u64; bloom_size as usize];
            let mut buckets = vec![0u32; nbuckets as usize];
            let mut chains = vec![0u32; defined.len()];
            for (i, s) in defined.iter().enumerate() {
                let h = raw::gnu_hash(s.name.as_bytes());
                bloom[((h / 64) % bloom_size) as usize] |= (1u64 << (h % 64)) | (1u64 << ((h >> shift) % 64));
                let b = (h % nbuckets) as usize;
                let idx = symoffset + i as u32;
                if buckets[b] == 0 {
                    buckets[b] = idx;
                }
                let last = defined.get(i + 1).is_none_or(|n| raw::gnu_hash(n.name.as_bytes()) % nbuckets != b as u32);
                chains[i] = (h & !1) | u32::from(last);
            }
            for x in [nbuckets, symoffset, bloom_size, shift] {
                put_u32(&mut f, x);
            }
            bloom.iter().for_each(|&w| put_u64(&mut f, w));
            buckets.iter().for_each(|&w| put_u32(&mut f, w));
            chains.iter().for_each(|&w| put_u32(&mut f, w));
        }
        let gnu_end = f.len() as u64;

        // SysV hash.
        align(&mut f, 8);
        if self.sysv_hash {
            lay.sysv_hash = f.len() as u64;
            let nbucket: u32 = 7;
            let mut buckets = vec![0u32; nbucket as usize];
            let mut chain = vec![0u32; nsyms];
            for (i, s) in ordered.iter().enumerate() {
                let idx = i + 1;
                let b = (raw::sysv_hash(s.name.as_bytes()) % nbucket) as usize;
                chain[idx] = buckets[b];
                buckets[b] = idx as u32;
            }
            put_u32(&mut f, nbucket);
            put_u32(&mut f, nsyms as u32);
            buckets.iter().for_each(|&w| put_u32(&mut f, w));
            chain.iter().for_each(|&w| put_u32(&mut f, w));
        }
        let sysv_end = f.len() as u64;

        // .dynsym, .dynstr.
        align(&mut f, 8);
        lay.dynsym = f.len() as u64;
        f.extend_from_slice(&[0u8; 24]);
        for (s, &n) in ordered.iter().zip(&name_offs) {
            put_sym(&mut f, n, s);
        }
        lay.dynstr = f.len() as u64;
        f.extend_from_slice(&dynstr.0);
        let seg1_end = f.len() as u64;

        // Second segment: .dynamic and data, then .bss.
        align(&mut f, 0x1000);
        let seg2_off = f.len() as u64;
        lay.dynamic = seg2_off;
        let v = |off: u64| base + off;
        if self.dynamic {
            let mut tags = vec![(raw::DT_STRTAB, v(lay.dynstr)), (raw::DT_SYMTAB, v(lay.dynsym))];
            tags.push((raw::DT_STRSZ, dynstr.0.len() as u64));
            tags.push((raw::DT_SYMENT, 24));
            if self.gnu_hash {
                tags.push((raw::DT_GNU_HASH, v(lay.gnu_hash)));
            }
            if self.sysv_hash {
                tags.push((raw::DT_HASH, v(lay.sysv_hash)));
            }
            if let Some(o) = soname_off {
                tags.push((raw::DT_SONAME, u64::from(o)));
            }
            tags.push((raw::DT_NULL, 0));
            for (t, val) in tags {
                put_u64(&mut f, t);
                put_u64(&mut f, val);
            }
        }
        let dyn_end = f.len() as u64;
        lay.data_vaddr = v(f.len() as u64);
        f.extend_from_slice(&[0xabu8; 0x100]);
        let seg2_filesz = f.len() as u64 - seg2_off;
        let seg2_memsz = seg2_filesz + 0x2000;

        // .symtab, .strtab, .shstrtab, section headers (not loaded).
        let mut strtab = StrTab::new();
        align(&mut f, 8);
        let symtab_off = f.len() as u64;
        f.extend_from_slice(&[0u8; 24]);
        for s in &self.locals {
            let n = strtab.add(&s.name);
            put_sym(&mut f, n, s);
        }
        for s in &ordered {
            let n = strtab.add(&s.name);
            put_sym(&mut f, n, s);
        }
        let symtab_end = f.len() as u64;
        let strtab_off = f.len() as u64;
        f.extend_from_slice(&strtab.0);
        let mut shstr = StrTab::new();
        let mut sections: Vec<(u32, u32, u64, u64, u64, u32, u64)> = vec![(0, 0, 0, 0, 0, 0, 0)];
        // (name, type, addr, offset, size, link, entsize)
        let dynsym_idx = 1u32;
        sections.push((
            shstr.add(".dynsym"),
            raw::SHT_DYNSYM,
            v(lay.dynsym),
            lay.dynsym,
            lay.dynstr - lay.dynsym,
            2,
            24,
        ));
        sections.push((shstr.add(".dynstr"), SHT_STRTAB, v(lay.dynstr), lay.dynstr, seg1_end - lay.dynstr, 0, 0));
        if self.gnu_hash {
            let n = shstr.add(".gnu.hash");
            sections.push((n, SHT_GNU_HASH, v(lay.gnu_hash), lay.gnu_hash, gnu_end - lay.gnu_hash, dynsym_idx, 0));
        }
        if self.sysv_hash {
            let n = shstr.add(".hash");
            sections.push((n, SHT_HASH, v(lay.sysv_hash), lay.sysv_hash, sysv_end - lay.sysv_hash, dynsym_idx, 4));
        }
        if self.dynamic {
            sections.push((shstr.add(".dynamic"), SHT_DYNAMIC, v(seg2_off), seg2_off, dyn_end - seg2_off, 2, 16));
        }
        if self.build_id.is_some() {
            let n = shstr.add(".note.gnu.build-id");
            sections.push((n, raw::SHT_NOTE, v(lay.note), lay.note, note_end - lay.note, 0, 0));
        }
        let symtab_idx = sections.len() as u32;
        sections.push((
            shstr.add(".symtab"),
            raw::SHT_SYMTAB,
            0,
            symtab_off,
            symtab_end - symtab_off,
            symtab_idx + 1,
            24,
        ));
        sections.push((shstr.add(".strtab"), SHT_STRTAB, 0, strtab_off, strtab.0.len() as u64, 0, 0));
        let shstrndx = sections.len() as u16;
        let shstr_name = shstr.add(".shstrtab");
        let shstr_off = f.len() as u64;
        f.extend_from_slice(&shstr.0);
        sections.push((shstr_name, SHT_STRTAB, 0, shstr_off, shstr.0.len() as u64, 0, 0));
        align(&mut f, 8);
        let shoff = f.len() as u64;
        for (name, typ, addr, off, size, link, entsize) in &sections {
            put_u32(&mut f, *name);
            put_u32(&mut f, *typ);
            put_u64(&mut f, 0);
            put_u64(&mut f, *addr);
            put_u64(&mut f, *off);
            put_u64(&mut f, *size);
            put_u32(&mut f, *link);
            put_u32(&mut f, 0);
            put_u64(&mut f, 8);
            put_u64(&mut f, *entsize);
        }

        // ELF header.
        let mut h = Vec::new();
        h.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
        put_u16(&mut h, if self.exec { ET_EXEC } else { ET_DYN });
        put_u16(&mut h, 62);
        put_u32(&mut h, 1);
        put_u64(&mut h, 0);
        put_u64(&mut h, 64);
        put_u64(&mut h, shoff);
        put_u32(&mut h, 0);
        for x in [64u16, 56, nph as u16, 64, sections.len() as u16, shstrndx] {
            put_u16(&mut h, x);
        }
        // Program headers: (type, flags, offset, vaddr, filesz, memsz, align).
        let mut ph = vec![
            (raw::PT_LOAD, 4, 0, base, seg1_end, seg1_end, 0x1000),
            (raw::PT_LOAD, 6, seg2_off, v(seg2_off), seg2_filesz, seg2_memsz, 0x1000),
        ];
        if self.dynamic {
            ph.push((raw::PT_DYNAMIC, 6, seg2_off, v(seg2_off), dyn_end - seg2_off, dyn_end - seg2_off, 8));
        }
        if self.build_id.is_some() {
            ph.push((raw::PT_NOTE, 4, lay.note, v(lay.note), note_end - lay.note, note_end - lay.note, 4));
        }
        for (t, fl, off, va, fs, ms, al) in ph {
            put_u32(&mut h, t);
            put_u32(&mut h, fl);
            put_u64(&mut h, off);
            put_u64(&mut h, va);
            put_u64(&mut h, va);
            put_u64(&mut h, fs);
            put_u64(&mut h, ms);
            put_u64(&mut h, al);
        }
        f[..h.len()].copy_from_slice(&h);
        (f, lay)
    }
}

/// The program headers of a well-formed ELF file.
pub(crate) fn program_headers(file: &[u8]) -> Vec<Phdr> {
    let ehdr = raw::Ehdr::parse(array_at(file, 0).unwrap()).unwrap_or_else(|_| panic!("not an ELF file"));
    let n = usize::from(ehdr.e_phnum);
    Phdr::parse_table(&file[ehdr.e_phoff as usize..][..n * 56], n).unwrap()
}

/// The regions `ld.so` would map for `file` at `bias`: each `PT_LOAD`'s file bytes at `bias + p_vaddr`, zero-filled
/// up to `p_memsz`.
pub(crate) fn load_regions(file: &[u8], bias: u64) -> Vec<(Addr, Vec<u8>)> {
    program_headers(file)
        .iter()
        .filter(|p| p.p_type == raw::PT_LOAD)
        .map(|p| {
            let mut bytes = file[p.p_offset as usize..][..p.p_filesz as usize].to_vec();
            bytes.resize(p.p_memsz as usize, 0);
            (Addr(bias + p.p_vaddr), bytes)
        })
        .collect()
}

/// Rewrites the pointer entries of the mapped dynamic section in place, adding `bias`, as glibc's `ld.so` does.
pub(crate) fn relocate_dynamic(file: &[u8], regions: &mut [(Addr, Vec<u8>)], bias: u64) {
    let Some(d) = program_headers(file).into_iter().find(|p| p.p_type == raw::PT_DYNAMIC) else {
        return;
    };
    let addr = bias + d.p_vaddr;
    let (start, bytes) =
        regions.iter_mut().find(|(s, b)| addr >= s.0 && addr < s.0 + b.len() as u64).expect("PT_DYNAMIC is mapped");
    let off = addr - start.0;
    for i in 0..d.p_memsz / 16 {
        let e = off + i * 16;
        let tag = get_u64(bytes, e);
        if tag == raw::DT_NULL {
            break;
        }
        const DT_PLTGOT: u64 = 3;
        const DT_RELA: u64 = 7;
        const DT_JMPREL: u64 = 23;
        const DT_VERSYM: u64 = 0x6fff_fff0;
        if [raw::DT_SYMTAB, raw::DT_STRTAB, raw::DT_HASH, raw::DT_GNU_HASH, DT_PLTGOT, DT_RELA, DT_JMPREL, DT_VERSYM]
            .contains(&tag)
        {
            let val = get_u64(bytes, e + 8);
            patch_u64(bytes, e + 8, val + bias);
        }
    }
}

/// A [`SyntheticMemory`] holding `regions`.
pub(crate) fn memory(regions: Vec<(Addr, Vec<u8>)>) -> SyntheticMemory {
    let mut m = SyntheticMemory::new();
    for (a, b) in regions {
        m.map(a, b);
    }
    m
}
