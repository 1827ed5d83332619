//! [`DiskElf`]: an ELF executable or shared object read from its file.

use std::collections::HashSet;
use std::fs::File;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;

use super::memory_image::{header_error, load_segment};
use super::raw::{self, array_at, slice_at, Ehdr, Phdr, Shdr, Sym};
use super::{bias_from_segments, ElfError, ElfLimits, ElfLocation, ElfPart, LoadSegment, Symbol};
use crate::Addr;

/// The bytes of a [`DiskElf`].
#[derive(Debug)]
enum Data {
    Map(Mmap),
    Owned(Vec<u8>),
}

impl Deref for Data {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Data::Map(m) => m,
            Data::Owned(v) => v,
        }
    }
}

/// An ELF executable, shared object or separate debug file, read from disk (memory-mapped).
///
/// Opening decodes the ELF header, program headers, build-id, and all symbols of `.symtab` (including `LOCAL` ones
/// such as CPython's `arenas` or `interned`) and `.dynsym`. Symbol addresses are the file's **unrelocated** values
/// (`st_value`): add the load bias of the mapping with [`Symbol::relocated`] (the bias comes from
/// [`MappedElf::load_bias`](crate::MappedElf::load_bias) or [`DiskElf::load_bias`]).
///
/// Only the ELF and program headers are required to be valid; a broken section header table or symbol table is
/// skipped and recorded in [`DiskElf::issues`], so that build-id and segment bytes stay available.
#[derive(Debug)]
pub struct DiskElf {
    path: PathBuf,
    data: Data,
    e_type: u16,
    machine: u16,
    segments: Vec<LoadSegment>,
    build_id: Option<Vec<u8>>,
    has_symtab: bool,
    symbols: Vec<Symbol>,
    /// Parallel to `symbols`: true for a non-default symbol version (`foo@VER`, hidden bit in `.gnu.version`).
    hidden: Vec<bool>,
    /// Indices into `symbols`, sorted by name, then global before local, default version before hidden ones, then
    /// table order.
    by_name: Vec<usize>,
    issues: Vec<ElfError>,
}

impl DiskElf {
    /// Opens and memory-maps the ELF file at `path`.
    ///
    /// Fails if the file cannot be read, is not an ELF64 little-endian executable or shared object, or its program
    /// headers are out of range.
    pub fn open(path: &Path) -> Result<DiskElf, ElfError> {
        let io = |e| ElfError::Io { path: path.to_owned(), source: Arc::new(e) };
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if len < raw::EHDR_SIZE as u64 {
            return Err(ElfError::NotElf {
                location: ElfLocation::File(path.to_owned()),
                reason: format!("the file is {len} bytes long, too short for an ELF header"),
            });
        }
        // SAFETY: the map is read-only and private, and we only ever read it through `&[u8]`. Mapping is undefined
        // behaviour only if another process truncates or rewrites the file while it is mapped; the files read here are
        // installed binaries and libraries (or copies made for analysis), which nothing modifies in place: package
        // managers and linkers replace them by rename, leaving this mapping on the old inode. Every ELF reader built
        // on mmap (object, gimli's users, ripgrep for text) makes the same assumption.
        #[allow(unsafe_code)]
        let map = unsafe { Mmap::map(&file) }.map_err(io)?;
        Self::parse(path.to_owned(), Data::Map(map))
    }

    /// Parses an ELF file already in memory (e.g. decompressed); `path` is used only in messages and
    /// [`DiskElf::path`].
    pub fn from_vec(path: PathBuf, bytes: Vec<u8>) -> Result<DiskElf, ElfError> {
        Self::parse(path, Data::Owned(bytes))
    }

    fn parse(path: PathBuf, data: Data) -> Result<DiskElf, ElfError> {
        let bytes: &[u8] = &data;
        let file_len = bytes.len() as u64;
        let loc = ElfLocation::File(path.clone());
        let truncated = |part, offset, len| ElfError::Truncated { path: path.clone(), part, offset, len, file_len };
        let malformed = |part, reason| ElfError::Malformed { location: loc.clone(), part, reason };

        let hb = array_at(bytes, 0).ok_or_else(|| ElfError::NotElf {
            location: loc.clone(),
            reason: format!("the file is {file_len} bytes long, too short for an ELF header"),
        })?;
        let ehdr = Ehdr::parse(hb).map_err(|p| header_error(loc.clone(), p))?;

        // Program headers: required (bounded by the file size).
        let mut phdrs = Vec::new();
        if ehdr.e_phnum == raw::PN_XNUM {
            return Err(ElfError::Unsupported {
                location: loc.clone(),
                reason: "more than 65534 program headers (PN_XNUM)".into(),
            });
        }
        if ehdr.e_phnum > 0 {
            if usize::from(ehdr.e_phentsize) != raw::PHDR_SIZE {
                return Err(malformed(ElfPart::ProgramHeaders, format!("e_phentsize is {}", ehdr.e_phentsize)));
            }
            let len = u64::from(ehdr.e_phnum) * raw::PHDR_SIZE as u64;
            let table = slice_at(bytes, ehdr.e_phoff, len)
                .ok_or_else(|| truncated(ElfPart::ProgramHeaders, ehdr.e_phoff, len))?;
            phdrs = Phdr::parse_table(table, usize::from(ehdr.e_phnum))
                .ok_or_else(|| truncated(ElfPart::ProgramHeaders, ehdr.e_phoff, len))?;
        }
        let mut segments = Vec::new();
        for p in phdrs.iter().filter(|p| p.p_type == raw::PT_LOAD) {
            segments.push(load_segment(p).ok_or_else(|| {
                malformed(ElfPart::ProgramHeaders, format!("PT_LOAD at {:#x} overflows the address space", p.p_vaddr))
            })?);
        }

        let mut issues = Vec::new();
        let shdrs = match section_headers(bytes, &ehdr) {
            Ok(s) => s,
            Err(Problem::Truncated(part, offset, len)) => {
                issues.push(truncated(part, offset, len));
                Vec::new()
            }
            Err(Problem::Malformed(part, reason)) => {
                issues.push(malformed(part, reason));
                Vec::new()
            }
        };

        let note_segments =
            phdrs.iter().filter(|p| p.p_type == raw::PT_NOTE).map(|p| (p.p_offset, p.p_filesz, p.p_align));
        let note_sections =
            shdrs.iter().filter(|s| s.sh_type == raw::SHT_NOTE).map(|s| (s.sh_offset, s.sh_size, s.sh_addralign));
        let build_id = note_segments
            .chain(note_sections)
            .find_map(|(off, len, align)| raw::find_build_id(slice_at(bytes, off, len)?, align))
            .map(<[u8]>::to_vec);

        let mut elf = DiskElf {
            path,
            data: Data::Owned(Vec::new()),
            e_type: ehdr.e_type,
            machine: ehdr.e_machine,
            segments,
            build_id,
            has_symtab: false,
            symbols: Vec::new(),
            hidden: Vec::new(),
            by_name: Vec::new(),
            issues,
        };
        elf.read_symbols(bytes, &shdrs);
        elf.data = data;
        Ok(elf)
    }

    /// Decodes `.symtab`, then the `.dynsym` entries `.symtab` lacks; broken tables become issues.
    fn read_symbols(&mut self, bytes: &[u8], shdrs: &[Shdr]) {
        let max = ElfLimits::default().max_symbols;
        for table_type in [raw::SHT_SYMTAB, raw::SHT_DYNSYM] {
            let known: HashSet<(String, Addr)> = if table_type == raw::SHT_DYNSYM {
                self.symbols.iter().map(|s| (s.name.clone(), s.addr)).collect()
            } else {
                HashSet::new()
            };
            for (sh_index, sh) in shdrs.iter().enumerate().filter(|(_, s)| s.sh_type == table_type) {
                match self.symbol_table(bytes, shdrs, sh) {
                    Ok((syms, strtab)) => {
                        self.has_symtab |= table_type == raw::SHT_SYMTAB;
                        // The symbol version array of this table, if any (one u16 per symbol).
                        let versym = shdrs
                            .iter()
                            .find(|v| v.sh_type == raw::SHT_GNU_VERSYM && v.sh_link as usize == sh_index)
                            .and_then(|v| slice_at(bytes, v.sh_offset, v.sh_size));
                        for (i, b) in syms.chunks_exact(raw::SYM_SIZE).enumerate() {
                            if self.symbols.len() as u64 >= max {
                                self.issues.push(self.malformed(
                                    ElfPart::SymbolTable,
                                    format!("more than {max} symbols; the rest are ignored"),
                                ));
                                return self.index();
                            }
                            let Some(sym) = array_at(b, 0).map(Sym::parse) else {
                                continue;
                            };
                            if !sym.is_reportable() {
                                continue;
                            }
                            let Some(name) = cstr_at(strtab, sym.st_name) else {
                                continue;
                            };
                            if name.is_empty() {
                                continue;
                            }
                            let s = sym.to_symbol(name, 0);
                            if table_type == raw::SHT_DYNSYM && known.contains(&(s.name.clone(), s.addr)) {
                                continue;
                            }
                            let hidden = versym
                                .and_then(|v| array_at::<2>(v, 2 * i as u64))
                                .is_some_and(|v| u16::from_le_bytes(*v) & raw::VERSYM_HIDDEN != 0);
                            self.symbols.push(s);
                            self.hidden.push(hidden);
                        }
                    }
                    Err(e) => self.issues.push(e),
                }
            }
        }
        self.index();
    }

    /// The entries and string table of one symbol table section, validated against the file.
    fn symbol_table<'a>(&self, bytes: &'a [u8], shdrs: &[Shdr], sh: &Shdr) -> Result<(&'a [u8], &'a [u8]), ElfError> {
        if sh.sh_entsize != 0 && sh.sh_entsize != raw::SYM_SIZE as u64 {
            return Err(self.malformed(ElfPart::SymbolTable, format!("sh_entsize is {}, expected 24", sh.sh_entsize)));
        }
        let syms = slice_at(bytes, sh.sh_offset, sh.sh_size)
            .ok_or_else(|| self.truncated(ElfPart::SymbolTable, sh.sh_offset, sh.sh_size))?;
        let link = usize::try_from(sh.sh_link)
            .ok()
            .and_then(|i| shdrs.get(i))
            .ok_or_else(|| self.malformed(ElfPart::SymbolTable, format!("sh_link {} names no section", sh.sh_link)))?;
        if link.sh_type == raw::SHT_NOBITS {
            return Err(self.malformed(ElfPart::StringTable, "the string table has no data in this file".into()));
        }
        let strtab = slice_at(bytes, link.sh_offset, link.sh_size)
            .ok_or_else(|| self.truncated(ElfPart::StringTable, link.sh_offset, link.sh_size))?;
        Ok((syms, strtab))
    }

    fn index(&mut self) {
        let mut idx: Vec<usize> = (0..self.symbols.len()).collect();
        let syms = &self.symbols;
        idx.sort_by(|&a, &b| {
            let (x, y) = (&syms[a], &syms[b]);
            x.name.cmp(&y.name).then(y.global.cmp(&x.global)).then(a.cmp(&b))
        });
        self.by_name = idx;
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's length in bytes.
    pub fn len(&self) -> u64 {
        self.data.len() as u64
    }

    /// True for an empty file (never, for a parsed `DiskElf`).
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The raw file bytes at `offset..offset + len`, or `None` if that range is not inside the file.
    pub fn bytes_at(&self, offset: u64, len: usize) -> Option<&[u8]> {
        slice_at(&self.data, offset, len as u64)
    }

    /// `e_machine` (62 = x86-64).
    pub fn machine(&self) -> u16 {
        self.machine
    }

    /// True for `ET_DYN` (a shared object or position-independent executable), false for `ET_EXEC`.
    pub fn is_position_independent(&self) -> bool {
        self.e_type == goblin::elf::header::ET_DYN
    }

    /// The GNU build-id, from a `PT_NOTE` segment or else an `SHT_NOTE` section (`.note.gnu.build-id`).
    pub fn build_id(&self) -> Option<&[u8]> {
        self.build_id.as_deref()
    }

    /// The build-id as lower-case hex.
    pub fn build_id_hex(&self) -> Option<String> {
        self.build_id().map(super::build_id_hex)
    }

    /// The `PT_LOAD` segments (unrelocated addresses).
    pub fn segments(&self) -> &[LoadSegment] {
        &self.segments
    }

    /// The load bias of this file when its offset 0 is mapped at `header_addr` (as NT_FILE or `/proc/pid/maps` tell),
    /// or `None` if no `PT_LOAD` segment maps offset 0.
    pub fn load_bias(&self, header_addr: Addr) -> Option<u64> {
        bias_from_segments(&self.segments, header_addr)
    }

    /// True if the file has a `.symtab` (it is not stripped).
    pub fn has_symtab(&self) -> bool {
        self.has_symtab
    }

    /// All defined symbols of `.symtab` and `.dynsym` (`.dynsym` entries already in `.symtab` are not repeated;
    /// undefined, section, file and unnamed symbols are skipped), with unrelocated addresses.
    pub fn symbols(&self) -> &[Symbol] {
        &self.symbols
    }

    /// The symbol named `name` (unrelocated address): a global one if any, else a local one; the default symbol
    /// version before hidden ones (`foo@@VER` before `foo@VER`, as `ld.so` resolves an unversioned reference); the
    /// first in table order among equals. Several local symbols can share a name (static variables of different
    /// source files): see [`DiskElf::lookup_all`].
    pub fn lookup(&self, name: &str) -> Option<Symbol> {
        self.lookup_all(name).next().cloned()
    }

    /// Every symbol named `name`, in [`DiskElf::lookup`]'s order of preference.
    pub fn lookup_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Symbol> + 'a {
        let start = self.by_name.partition_point(|&i| self.symbols[i].name.as_str() < name);
        self.by_name[start..].iter().map(|&i| &self.symbols[i]).take_while(move |s| s.name == name)
    }

    /// Fills `buf` with the file's bytes for the unrelocated address range `vaddr..vaddr + buf.len()`.
    ///
    /// The range may span adjacent segments. Fails with [`ElfError::VaddrNotInFile`] outside every `PT_LOAD`,
    /// [`ElfError::VaddrInBss`] past a segment's `p_filesz` (zero-initialised memory whose contents only the process
    /// has), and [`ElfError::Truncated`] if the file is shorter than its program headers claim. Meaningless for a
    /// separate debug file (`objcopy --only-keep-debug`), whose program headers describe bytes it does not contain.
    pub fn read_at_vaddr(&self, vaddr: u64, buf: &mut [u8]) -> Result<(), ElfError> {
        let mut done = 0usize;
        while done < buf.len() {
            let cur = vaddr
                .checked_add(done as u64)
                .ok_or_else(|| ElfError::VaddrNotInFile { path: self.path.clone(), vaddr: u64::MAX })?;
            let seg = self
                .segments
                .iter()
                .find(|s| s.contains(cur))
                .ok_or_else(|| ElfError::VaddrNotInFile { path: self.path.clone(), vaddr: cur })?;
            let rel = cur - seg.vaddr;
            let file_part = seg.filesz.min(seg.memsz);
            if rel >= file_part {
                return Err(ElfError::VaddrInBss { path: self.path.clone(), vaddr: cur });
            }
            let n = (file_part - rel).min((buf.len() - done) as u64);
            let off =
                seg.offset.checked_add(rel).ok_or_else(|| self.truncated(ElfPart::Segment, seg.offset, seg.filesz))?;
            let src = slice_at(&self.data, off, n).ok_or_else(|| self.truncated(ElfPart::Segment, off, n))?;
            let dst = buf.get_mut(done..done + src.len()).ok_or_else(|| self.truncated(ElfPart::Segment, off, n))?;
            dst.copy_from_slice(src);
            done += src.len();
        }
        Ok(())
    }

    /// Problems found in optional parts of the file (section headers, symbol tables), which were skipped.
    pub fn issues(&self) -> &[ElfError] {
        &self.issues
    }

    fn truncated(&self, part: ElfPart, offset: u64, len: u64) -> ElfError {
        ElfError::Truncated { path: self.path.clone(), part, offset, len, file_len: self.data.len() as u64 }
    }

    fn malformed(&self, part: ElfPart, reason: String) -> ElfError {
        ElfError::Malformed { location: ElfLocation::File(self.path.clone()), part, reason }
    }
}

/// Why the section header table was unusable.
enum Problem {
    Truncated(ElfPart, u64, u64),
    Malformed(ElfPart, String),
}

/// The section header table, validated to lie inside the file (so its size is bounded by the file's).
fn section_headers(bytes: &[u8], ehdr: &Ehdr) -> Result<Vec<Shdr>, Problem> {
    if ehdr.e_shoff == 0 {
        return Ok(Vec::new());
    }
    if usize::from(ehdr.e_shentsize) != raw::SHDR_SIZE {
        return Err(Problem::Malformed(ElfPart::SectionHeaders, format!("e_shentsize is {}", ehdr.e_shentsize)));
    }
    let first = array_at(bytes, ehdr.e_shoff).map(Shdr::parse).ok_or(Problem::Truncated(
        ElfPart::SectionHeaders,
        ehdr.e_shoff,
        raw::SHDR_SIZE as u64,
    ))?;
    // e_shnum == 0 with a table present: the real count is in section 0's sh_size (more than 0xff00 sections).
    let count = if ehdr.e_shnum == 0 { first.sh_size } else { u64::from(ehdr.e_shnum) };
    let len = count
        .checked_mul(raw::SHDR_SIZE as u64)
        .ok_or(Problem::Malformed(ElfPart::SectionHeaders, format!("{count} sections")))?;
    let table =
        slice_at(bytes, ehdr.e_shoff, len).ok_or(Problem::Truncated(ElfPart::SectionHeaders, ehdr.e_shoff, len))?;
    Ok(table.chunks_exact(raw::SHDR_SIZE).filter_map(|b| array_at(b, 0).map(Shdr::parse)).collect())
}

/// The NUL-terminated string at `off` in a string table.
fn cstr_at(strtab: &[u8], off: u32) -> Option<&[u8]> {
    let s = strtab.get(usize::try_from(off).ok()?..)?;
    let end = s.iter().position(|&b| b == 0)?;
    s.get(..end)
}
