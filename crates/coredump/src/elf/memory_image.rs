//! [`MappedElf`]: an ELF object as mapped in the analysed process, read through [`Memory`].

use super::raw::{self, Ehdr, HeaderProblem, Phdr};
use super::{bias_from_segments, ElfError, ElfLimits, ElfLocation, ElfPart, LoadSegment};
use crate::{Addr, Memory, ReadError};

/// An ELF executable or shared object as mapped in the analysed process.
///
/// Built by [`MappedElf::parse`] from the address of the object's first page. Parsing reads the ELF header, program
/// headers, build-id note and dynamic section; symbol lookups then read the dynamic symbol table, string table and
/// hash tables on demand, through the same [`Memory`]. Those tables live in read-only file-backed pages, which cores
/// usually omit: expect [`ElfError::Read`] from lookups on a core, and fall back to [`DiskElf`](crate::DiskElf).
#[derive(Debug, Clone)]
pub struct MappedElf {
    header_addr: Addr,
    load_bias: u64,
    e_type: u16,
    machine: u16,
    segments: Vec<LoadSegment>,
    build_id: Option<Vec<u8>>,
    dynamic: Result<DynamicInfo, ElfError>,
    limits: ElfLimits,
    /// The dynamic symbols by name, built by the first lookup that has no usable hash table (see `dynsym.rs`).
    scan_index: std::sync::OnceLock<dynsym::ScanIndex>,
}

/// What [`MappedElf`] found in the in-memory dynamic section.
///
/// Pointer entries are stored as addresses in the process: glibc's `ld.so` rewrites most `d_ptr` values in place to
/// absolute addresses, other loaders (and the kernel, for the vDSO) do not. Each value is taken as is if it lies
/// inside one of the object's segments as mapped, else with the load bias added if that does, else rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DynamicInfo {
    /// Where the dynamic section is mapped.
    pub addr: Addr,
    /// Number of entries read, up to and including `DT_NULL`.
    pub entries: u64,
    /// `DT_SYMTAB`, as an address in the process.
    pub symtab: Option<Addr>,
    /// `DT_STRTAB`, as an address in the process.
    pub strtab: Option<Addr>,
    /// `DT_STRSZ`.
    pub strsz: Option<u64>,
    /// `DT_SYMENT`.
    pub syment: Option<u64>,
    /// `DT_GNU_HASH`, as an address in the process.
    pub gnu_hash: Option<Addr>,
    /// `DT_HASH`, as an address in the process.
    pub hash: Option<Addr>,
    /// `DT_VERSYM` (the symbol version array), as an address in the process.
    pub versym: Option<Addr>,
    /// The `DT_SONAME` string, when present and readable.
    pub soname: Option<String>,
    /// `Some(true)` when pointer values were already absolute (rewritten by the loader), `Some(false)` when the bias
    /// had to be added, `None` when no pointer was resolved or the bias is 0 (both readings agree).
    pub relocated_by_loader: Option<bool>,
    /// `(d_tag, d_val)` of pointer entries whose value lies outside the object's segments either way.
    pub rejected: Vec<(u64, u64)>,
}

/// The symbol and string tables a lookup needs.
struct Tables {
    symtab: Addr,
    strtab: Addr,
    strsz: Option<u64>,
    versym: Option<Addr>,
}

mod dynsym;

#[cfg(test)]
pub(crate) use dynsym::LookupMethod;

impl MappedElf {
    /// Parses the object whose ELF header (file offset 0) is mapped at `header_addr`, with default [`ElfLimits`].
    ///
    /// Fails when the header or program headers cannot be read or are invalid. A missing or unreadable dynamic
    /// section or build-id note does not fail the parse: [`MappedElf::dynamic`] and the lookups report it.
    pub fn parse<M: Memory>(mem: &M, header_addr: Addr) -> Result<MappedElf, ElfError> {
        Self::parse_with_limits(mem, header_addr, ElfLimits::default())
    }

    /// [`MappedElf::parse`] with explicit limits on counts and lengths read from memory.
    pub fn parse_with_limits<M: Memory>(mem: &M, header_addr: Addr, limits: ElfLimits) -> Result<MappedElf, ElfError> {
        let loc = ElfLocation::Memory(header_addr);
        let malformed = |part, reason: String| ElfError::Malformed { location: loc.clone(), part, reason };

        let mut hb = [0u8; raw::EHDR_SIZE];
        mem.read_into(header_addr, &mut hb).map_err(|source| ElfError::Read {
            object: header_addr,
            part: ElfPart::Header,
            addr: header_addr,
            source,
        })?;
        let ehdr = Ehdr::parse(&hb).map_err(|p| header_error(loc.clone(), p))?;
        let phdrs = read_program_headers(mem, header_addr, &ehdr, &limits)?;

        let mut segments = Vec::new();
        for p in phdrs.iter().filter(|p| p.p_type == raw::PT_LOAD) {
            segments.push(load_segment(p).ok_or_else(|| {
                malformed(
                    ElfPart::ProgramHeaders,
                    format!("PT_LOAD at {:#x} + {:#x} bytes overflows the address space", p.p_vaddr, p.p_memsz),
                )
            })?);
        }
        let load_bias = bias_from_segments(&segments, header_addr).ok_or_else(|| {
            malformed(ElfPart::ProgramHeaders, "no PT_LOAD segment maps file offset 0 (the ELF header)".into())
        })?;

        let build_id = phdrs.iter().filter(|p| p.p_type == raw::PT_NOTE).find_map(|p| {
            let addr = Addr(p.p_vaddr.wrapping_add(load_bias));
            let len = usize::try_from(p.p_filesz.min(limits.max_note_bytes)).ok()?;
            // An unreadable note is not fatal: the build-id is then unknown.
            let data = mem.bytes(addr, len).ok()?;
            raw::find_build_id(&data, p.p_align).map(<[u8]>::to_vec)
        });

        let mut elf = MappedElf {
            header_addr,
            load_bias,
            e_type: ehdr.e_type,
            machine: ehdr.e_machine,
            segments,
            build_id,
            dynamic: Err(ElfError::NoDynamicSection { object: header_addr }),
            limits,
            scan_index: std::sync::OnceLock::new(),
        };
        if let Some(p) = phdrs.iter().find(|p| p.p_type == raw::PT_DYNAMIC) {
            elf.dynamic = elf.read_dynamic(mem, p);
        }
        Ok(elf)
    }

    /// Where the object's ELF header (file offset 0) is mapped.
    pub fn header_addr(&self) -> Addr {
        self.header_addr
    }

    /// The load bias: what was added to the file's virtual addresses when mapping it (0 for a non-PIE executable,
    /// the base address for a shared object or PIE). Wrapping, like the loader's `l_addr`.
    pub fn load_bias(&self) -> u64 {
        self.load_bias
    }

    /// True for `ET_DYN` (a shared object or position-independent executable), false for `ET_EXEC`.
    pub fn is_position_independent(&self) -> bool {
        self.e_type == goblin::elf::header::ET_DYN
    }

    /// `e_machine` (62 = x86-64).
    pub fn machine(&self) -> u16 {
        self.machine
    }

    /// The `PT_LOAD` segments, with unrelocated addresses (add [`MappedElf::load_bias`]).
    pub fn segments(&self) -> &[LoadSegment] {
        &self.segments
    }

    /// The relocated address range `[start, end)` spanned by the `PT_LOAD` segments.
    pub fn address_range(&self) -> (Addr, Addr) {
        let start = self.segments.iter().map(|s| s.vaddr).min().unwrap_or(0);
        let end = self.segments.iter().map(|s| s.vaddr + s.memsz).max().unwrap_or(0);
        (Addr(start.wrapping_add(self.load_bias)), Addr(end.wrapping_add(self.load_bias)))
    }

    /// True if the process address `addr` lies inside one of the object's mapped `PT_LOAD` segments.
    pub fn contains(&self, addr: Addr) -> bool {
        self.contains_unrelocated(addr.0.wrapping_sub(self.load_bias))
    }

    fn contains_unrelocated(&self, vaddr: u64) -> bool {
        self.segments.iter().any(|s| s.contains(vaddr))
    }

    /// The GNU build-id (`NT_GNU_BUILD_ID`), if the object has one and its note could be read.
    pub fn build_id(&self) -> Option<&[u8]> {
        self.build_id.as_deref()
    }

    /// The build-id as lower-case hex.
    pub fn build_id_hex(&self) -> Option<String> {
        self.build_id().map(super::build_id_hex)
    }

    /// `DT_SONAME`, when present and readable.
    pub fn soname(&self) -> Option<&str> {
        self.dynamic.as_ref().ok()?.soname.as_deref()
    }

    /// The decoded dynamic section, or why there is none ([`ElfError::NoDynamicSection`], [`ElfError::Read`] of the
    /// dynamic section, [`ElfError::Malformed`]).
    pub fn dynamic(&self) -> Result<&DynamicInfo, ElfError> {
        self.dynamic.as_ref().map_err(Clone::clone)
    }

    /// The limits this object was parsed with.
    pub fn limits(&self) -> &ElfLimits {
        &self.limits
    }

    // ---- dynamic section ----

    fn read_dynamic<M: Memory>(&self, mem: &M, p: &Phdr) -> Result<DynamicInfo, ElfError> {
        let addr = Addr(p.p_vaddr.wrapping_add(self.load_bias));
        let max = (p.p_memsz / raw::DYN_SIZE as u64).min(self.limits.max_dynamic_entries);
        if max == 0 {
            return Err(self.malformed(ElfPart::DynamicSection, format!("PT_DYNAMIC is {} bytes long", p.p_memsz)));
        }
        // First occurrence of each tag we use.
        let (mut symtab, mut strtab, mut strsz, mut syment, mut gnu_hash, mut hash, mut soname, mut versym) =
            (None, None, None, None, None, None, None, None);
        let mut entries = 0;
        for i in 0..max {
            let a = addr
                .checked_add(i * raw::DYN_SIZE as u64)
                .ok_or_else(|| self.malformed(ElfPart::DynamicSection, "overflows the address space".into()))?;
            let mut b = [0u8; raw::DYN_SIZE];
            mem.read_into(a, &mut b).map_err(|source| self.read_err(ElfPart::DynamicSection, a, source))?;
            let (tag, val) = raw::parse_dyn(&b);
            entries += 1;
            let slot = match tag {
                raw::DT_NULL => break,
                raw::DT_SYMTAB => &mut symtab,
                raw::DT_STRTAB => &mut strtab,
                raw::DT_STRSZ => &mut strsz,
                raw::DT_SYMENT => &mut syment,
                raw::DT_GNU_HASH => &mut gnu_hash,
                raw::DT_HASH => &mut hash,
                raw::DT_SONAME => &mut soname,
                raw::DT_VERSYM => &mut versym,
                _ => continue,
            };
            slot.get_or_insert((tag, val));
        }

        let mut d = DynamicInfo {
            addr,
            entries,
            symtab: None,
            strtab: None,
            strsz: strsz.map(|e| e.1),
            syment: syment.map(|e| e.1),
            gnu_hash: None,
            hash: None,
            versym: None,
            soname: None,
            relocated_by_loader: None,
            rejected: Vec::new(),
        };
        let mut resolve = |entry: Option<(u64, u64)>| -> Option<Addr> {
            let (tag, v) = entry?;
            if self.contains_unrelocated(v.wrapping_sub(self.load_bias)) {
                if self.load_bias != 0 {
                    d.relocated_by_loader.get_or_insert(true);
                }
                Some(Addr(v))
            } else if self.contains_unrelocated(v) {
                d.relocated_by_loader.get_or_insert(false);
                Some(Addr(v.wrapping_add(self.load_bias)))
            } else {
                d.rejected.push((tag, v));
                None
            }
        };
        let (symtab, strtab, gnu_hash, hash) = (resolve(symtab), resolve(strtab), resolve(gnu_hash), resolve(hash));
        let versym = resolve(versym);
        d.versym = versym;
        d.symtab = symtab;
        d.strtab = strtab;
        d.gnu_hash = gnu_hash;
        d.hash = hash;
        if let (Some((_, off)), Some(strtab)) = (soname, d.strtab) {
            let t = Tables { symtab: Addr::NULL, strtab, strsz: d.strsz, versym: None };
            let name = off.try_into().ok().and_then(|off| self.read_name(mem, &t, off, self.limits.max_name_len).ok());
            d.soname = name.flatten().map(|n| String::from_utf8_lossy(&n).into_owned());
        }
        Ok(d)
    }

    /// The dynamic section's symbol and string tables, or why they cannot be used.
    fn tables(&self) -> Result<(&DynamicInfo, Tables), ElfError> {
        let d = self.dynamic()?;
        if let Some(e) = d.syment {
            if e != raw::SYM_SIZE as u64 {
                return Err(self.malformed(ElfPart::SymbolTable, format!("DT_SYMENT is {e}, expected 24")));
            }
        }
        let why = |tag: u64, name: &str| match d.rejected.iter().find(|r| r.0 == tag) {
            Some((_, v)) => format!("{name} ({v:#x}) points outside the object's segments"),
            None => format!("no {name} entry"),
        };
        let symtab = d.symtab.ok_or_else(|| self.no_symbols(why(raw::DT_SYMTAB, "DT_SYMTAB")))?;
        let strtab = d.strtab.ok_or_else(|| self.no_symbols(why(raw::DT_STRTAB, "DT_STRTAB")))?;
        Ok((d, Tables { symtab, strtab, strsz: d.strsz, versym: d.versym }))
    }
    // ---- errors ----

    fn read_err(&self, part: ElfPart, addr: Addr, source: ReadError) -> ElfError {
        ElfError::Read { object: self.header_addr, part, addr, source }
    }

    fn malformed(&self, part: ElfPart, reason: String) -> ElfError {
        ElfError::Malformed { location: ElfLocation::Memory(self.header_addr), part, reason }
    }

    fn no_symbols(&self, reason: String) -> ElfError {
        ElfError::NoDynamicSymbols { object: self.header_addr, reason }
    }
}

/// Reads and decodes the program header table at `header_addr + e_phoff`.
fn read_program_headers<M: Memory>(
    mem: &M,
    header_addr: Addr,
    ehdr: &Ehdr,
    limits: &ElfLimits,
) -> Result<Vec<Phdr>, ElfError> {
    let malformed = |reason: String| ElfError::Malformed {
        location: ElfLocation::Memory(header_addr),
        part: ElfPart::ProgramHeaders,
        reason,
    };
    let n = ehdr.e_phnum;
    if n == raw::PN_XNUM {
        return Err(ElfError::Unsupported {
            location: ElfLocation::Memory(header_addr),
            reason: "more than 65534 program headers (PN_XNUM)".into(),
        });
    }
    if n == 0 || n > limits.max_program_headers {
        return Err(malformed(format!("e_phnum is {n} (expected 1..={})", limits.max_program_headers)));
    }
    if usize::from(ehdr.e_phentsize) != raw::PHDR_SIZE {
        return Err(malformed(format!("e_phentsize is {} (expected {})", ehdr.e_phentsize, raw::PHDR_SIZE)));
    }
    let addr = header_addr
        .checked_add(ehdr.e_phoff)
        .ok_or_else(|| malformed(format!("e_phoff {:#x} overflows the address space", ehdr.e_phoff)))?;
    let len = usize::from(n) * raw::PHDR_SIZE;
    let bytes = mem.bytes(addr, len).map_err(|source| ElfError::Read {
        object: header_addr,
        part: ElfPart::ProgramHeaders,
        addr,
        source,
    })?;
    Phdr::parse_table(&bytes, usize::from(n)).ok_or_else(|| malformed("short read".into()))
}

/// A `PT_LOAD` header as a [`LoadSegment`], or `None` if `p_vaddr + p_memsz` overflows.
pub(super) fn load_segment(p: &Phdr) -> Option<LoadSegment> {
    p.p_vaddr.checked_add(p.p_memsz)?;
    Some(LoadSegment { vaddr: p.p_vaddr, memsz: p.p_memsz, offset: p.p_offset, filesz: p.p_filesz, flags: p.p_flags })
}

/// Maps a header validation failure to an [`ElfError`].
pub(super) fn header_error(location: ElfLocation, p: HeaderProblem) -> ElfError {
    match p {
        HeaderProblem::NotElf(reason) => ElfError::NotElf { location, reason },
        HeaderProblem::Unsupported(reason) => ElfError::Unsupported { location, reason },
    }
}
