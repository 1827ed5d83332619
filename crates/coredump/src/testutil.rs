//! Builds small synthetic ELF64 little-endian `ET_CORE` images for tests of this crate and the crates above it.
//!
//! Not a stable API, and not evidence about real cores: the layouts it writes are the ones the parser expects, which
//! were checked against real kernel and gdb cores separately.
//!
//! Layout of a built image: ELF header (64 bytes), program headers (the `PT_NOTE` first when there are notes, then
//! the `PT_LOAD`s in the order added), the notes, then each load's bytes at a 16-byte-aligned offset.

use crate::notes::{NT_AUXV, NT_FILE, NT_PRPSINFO, NT_PRSTATUS};
use crate::{ProcessInfo, X86_64Regs};

/// `PF_R | PF_W`.
pub const RW: u32 = 6;
/// `PF_R | PF_X`.
pub const RX: u32 = 5;
/// `PF_R`.
pub const R: u32 = 4;

/// A `PT_LOAD` to emit: `data.len()` becomes `p_filesz`.
#[derive(Debug, Clone)]
pub struct Load {
    /// `p_vaddr`.
    pub vaddr: u64,
    /// `p_memsz` (may exceed `data.len()`: the rest is "not in the core").
    pub memsz: u64,
    /// The bytes the core holds.
    pub data: Vec<u8>,
    /// `p_flags`.
    pub flags: u32,
}

/// A core image and where its parts went.
#[derive(Debug, Clone)]
pub struct BuiltCore {
    /// The whole file.
    pub bytes: Vec<u8>,
    /// File offset of each load's bytes, in the order added.
    pub load_offsets: Vec<u64>,
    /// File offset of the `PT_NOTE` segment (0 when there are no notes).
    pub note_offset: u64,
    /// File offset of the program header table (always 64).
    pub phoff: u64,
}

/// A builder of synthetic core images.
#[derive(Debug, Clone)]
pub struct CoreBuilder {
    machine: u16,
    loads: Vec<Load>,
    notes: Vec<(String, u32, Vec<u8>)>,
}

impl Default for CoreBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl CoreBuilder {
    /// An x86_64 core with no segments and no notes.
    pub fn new() -> Self {
        CoreBuilder { machine: crate::notes::EM_X86_64, loads: Vec::new(), notes: Vec::new() }
    }

    /// Sets `e_machine`.
    pub fn machine(&mut self, machine: u16) -> &mut Self {
        self.machine = machine;
        self
    }

    /// Adds a read-write `PT_LOAD` holding `data` at `vaddr`, mapped for `memsz` bytes.
    pub fn load(&mut self, vaddr: u64, data: impl Into<Vec<u8>>, memsz: u64) -> &mut Self {
        self.load_flags(vaddr, data, memsz, RW)
    }

    /// Adds a `PT_LOAD` with the given `p_flags`.
    pub fn load_flags(&mut self, vaddr: u64, data: impl Into<Vec<u8>>, memsz: u64, flags: u32) -> &mut Self {
        self.loads.push(Load { vaddr, memsz, data: data.into(), flags });
        self
    }

    /// Adds a note.
    pub fn note(&mut self, name: &str, n_type: u32, desc: Vec<u8>) -> &mut Self {
        self.notes.push((name.to_string(), n_type, desc));
        self
    }

    /// Adds an x86_64 `NT_PRSTATUS` (336 bytes) for thread `tid`.
    pub fn thread(&mut self, tid: u32, signal: u16, regs: &X86_64Regs) -> &mut Self {
        let mut d = vec![0u8; 336];
        put(&mut d, 12, &signal.to_le_bytes());
        put(&mut d, 32, &tid.to_le_bytes());
        for (i, w) in regs.to_words().iter().enumerate() {
            put(&mut d, 112 + i * 8, &w.to_le_bytes());
        }
        self.note("CORE", NT_PRSTATUS, d)
    }

    /// Adds an `NT_PRPSINFO` (136 bytes); `fname` and `psargs` are cut to 15 and 79 bytes.
    pub fn process(&mut self, p: &ProcessInfo) -> &mut Self {
        let mut d = vec![0u8; 136];
        put(&mut d, 16, &p.uid.to_le_bytes());
        put(&mut d, 20, &p.gid.to_le_bytes());
        put(&mut d, 24, &p.pid.to_le_bytes());
        put(&mut d, 28, &p.ppid.to_le_bytes());
        let fname = p.fname.as_bytes();
        put(&mut d, 40, &fname[..fname.len().min(15)]);
        let psargs = p.psargs.as_bytes();
        put(&mut d, 56, &psargs[..psargs.len().min(79)]);
        self.note("CORE", NT_PRPSINFO, d)
    }

    /// Adds an `NT_AUXV` with `entries` and the `AT_NULL` terminator.
    pub fn auxv(&mut self, entries: &[(u64, u64)]) -> &mut Self {
        let mut d = Vec::new();
        for &(k, v) in entries.iter().chain([(0, 0)].iter()) {
            d.extend_from_slice(&k.to_le_bytes());
            d.extend_from_slice(&v.to_le_bytes());
        }
        self.note("CORE", NT_AUXV, d)
    }

    /// Adds an `NT_FILE` from `(start, end, file_offset, path)`; offsets must be multiples of `page_size`.
    pub fn files(&mut self, page_size: u64, files: &[(u64, u64, u64, &str)]) -> &mut Self {
        let mut d = Vec::new();
        d.extend_from_slice(&(files.len() as u64).to_le_bytes());
        d.extend_from_slice(&page_size.to_le_bytes());
        for &(start, end, off, _) in files {
            for w in [start, end, off / page_size] {
                d.extend_from_slice(&w.to_le_bytes());
            }
        }
        for &(_, _, _, path) in files {
            d.extend_from_slice(path.as_bytes());
            d.push(0);
        }
        self.note("CORE", NT_FILE, d)
    }

    /// Emits the image.
    pub fn build(&self) -> BuiltCore {
        let phnum = self.loads.len() + usize::from(!self.notes.is_empty());
        let phoff = 64u64;
        let mut notes = Vec::new();
        for (name, n_type, desc) in &self.notes {
            notes.extend_from_slice(&(name.len() as u32 + 1).to_le_bytes());
            notes.extend_from_slice(&(desc.len() as u32).to_le_bytes());
            notes.extend_from_slice(&n_type.to_le_bytes());
            notes.extend_from_slice(name.as_bytes());
            notes.push(0);
            pad(&mut notes, 4);
            notes.extend_from_slice(desc);
            pad(&mut notes, 4);
        }
        let mut out = Vec::new();
        // ELF header.
        out.extend_from_slice(b"\x7fELF\x02\x01\x01\0");
        out.resize(16, 0);
        out.extend_from_slice(&4u16.to_le_bytes()); // e_type = ET_CORE
        out.extend_from_slice(&self.machine.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes()); // e_version
        out.extend_from_slice(&0u64.to_le_bytes()); // e_entry
        out.extend_from_slice(&phoff.to_le_bytes());
        out.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
        out.extend_from_slice(&0u32.to_le_bytes()); // e_flags
        for h in [64u16, 56, phnum as u16, 64, 0, 0] {
            out.extend_from_slice(&h.to_le_bytes()); // ehsize, phentsize, phnum, shentsize, shnum, shstrndx
        }
        // Program headers, filled in once the data offsets are known.
        let ph_start = out.len();
        out.resize(ph_start + phnum * 56, 0);
        let note_offset = if notes.is_empty() { 0 } else { out.len() as u64 };
        out.extend_from_slice(&notes);
        let mut load_offsets = Vec::new();
        for l in &self.loads {
            pad(&mut out, 16);
            load_offsets.push(out.len() as u64);
            out.extend_from_slice(&l.data);
        }
        let mut ph = ph_start;
        if !self.notes.is_empty() {
            phdr(&mut out[ph..ph + 56], 4, R, note_offset, 0, notes.len() as u64, 0, 4);
            ph += 56;
        }
        for (l, &off) in self.loads.iter().zip(&load_offsets) {
            phdr(&mut out[ph..ph + 56], 1, l.flags, off, l.vaddr, l.data.len() as u64, l.memsz, 0x1000);
            ph += 56;
        }
        BuiltCore { bytes: out, load_offsets, note_offset, phoff }
    }
}

#[allow(clippy::too_many_arguments)]
fn phdr(b: &mut [u8], p_type: u32, flags: u32, offset: u64, vaddr: u64, filesz: u64, memsz: u64, align: u64) {
    put(b, 0, &p_type.to_le_bytes());
    put(b, 4, &flags.to_le_bytes());
    for (i, w) in [offset, vaddr, 0, filesz, memsz, align].iter().enumerate() {
        put(b, 8 + i * 8, &w.to_le_bytes());
    }
}

/// Writes `src` into `b` at `off`.
pub fn put(b: &mut [u8], off: usize, src: &[u8]) {
    b[off..off + src.len()].copy_from_slice(src);
}

fn pad(v: &mut Vec<u8>, align: usize) {
    v.resize(v.len().next_multiple_of(align), 0);
}

/// A deterministic xorshift64 generator for fuzz-style tests (no dependency).
#[derive(Debug, Clone)]
pub struct XorShift(pub u64);

impl XorShift {
    /// The next pseudo-random number.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A pseudo-random number below `n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}
