//! [`ProcessImage`]: a process's memory together with the ELF objects it had mapped and their symbols.
//!
//! A core file (with its file-backed fallback) implements it today; a live process (`--pid`) will implement it the
//! same way, so everything above this crate is written once against this trait.

use std::path::PathBuf;

use crate::{Addr, Memory};

/// Where the bytes of a mapped object can be read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BytesSource {
    /// Every mapped byte of the object is in the core.
    Core,
    /// Some bytes are missing from the core, and a file on disk with a matching build-id supplies them.
    Disk,
    /// Some bytes are missing from the core and no usable file supplies them.
    Missing,
}

/// A contiguous address range `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Range {
    /// First address.
    pub start: Addr,
    /// One past the last address.
    pub end: Addr,
}

impl Range {
    /// True if `addr` lies in the range.
    pub fn contains(&self, addr: Addr) -> bool {
        self.start <= addr && addr < self.end
    }

    /// Length in bytes.
    pub fn len(&self) -> u64 {
        self.end.0.saturating_sub(self.start.0)
    }

    /// True for an empty range.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One mapping of a file: an address range and where in the file it starts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ObjectMapping {
    /// The mapped addresses.
    pub range: Range,
    /// Offset in the file of `range.start`.
    pub file_offset: u64,
    /// Whether the mapping is executable (from the core's segment flags).
    pub executable: bool,
    /// Whether the mapping is writable.
    pub writable: bool,
}

/// An ELF object (executable, shared library, vdso) mapped in the process.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoadedObject {
    /// Path as the process saw it (from the core's NT_FILE note).
    pub path: PathBuf,
    /// Its mappings, sorted by address.
    pub mappings: Vec<ObjectMapping>,
    /// Where the ELF header is mapped (the mapping at file offset 0), if any.
    pub header: Option<Addr>,
    /// Load bias: runtime address minus link-time address.
    pub bias: u64,
    /// The object's writable `PT_LOAD` segments, relocated: `.data` and `.bss` (whose tail is an anonymous mapping
    /// that `NT_FILE` does not list). Empty when the program headers could not be read.
    pub data_segments: Vec<Range>,
    /// GNU build-id as recorded in the process's copy of the ELF headers.
    pub build_id: Option<Vec<u8>>,
    /// File on disk used to supply bytes missing from the core, when one matched.
    pub disk_path: Option<PathBuf>,
    /// Where this object's bytes come from.
    pub source: BytesSource,
}

impl LoadedObject {
    /// True if `addr` lies in one of the object's mappings.
    pub fn contains(&self, addr: Addr) -> bool {
        self.mappings.iter().any(|m| m.range.contains(addr))
    }

    /// The file name (last path component), lossily decoded.
    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.path.to_string_lossy().into_owned())
    }
}

/// A resolved symbol: its runtime address and the object that defines it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolRef {
    /// Runtime address (relocated).
    pub addr: Addr,
    /// Symbol size in bytes (0 if unknown).
    pub size: u64,
    /// Index into [`ProcessImage::objects`].
    pub object: usize,
}

/// A process's memory plus the objects it had mapped.
pub trait ProcessImage: Memory {
    /// The mapped ELF objects, in address order.
    fn objects(&self) -> &[LoadedObject];

    /// Looks `name` up in the dynamic symbols of every object (then in `.symtab` of files on disk, when available).
    /// The first object that defines it wins, in address order.
    fn symbol(&self, name: &str) -> Option<SymbolRef>;

    /// Looks `name` up in one object only.
    fn symbol_in(&self, object: usize, name: &str) -> Option<SymbolRef>;

    /// Address ranges the image lost to a truncated core file, sorted: their bytes were dumped but the file ends
    /// before them. Empty unless the image is a truncated core.
    fn cut(&self) -> &[Range] {
        &[]
    }
}

/// A process image built in code, for unit tests of decoders: a [`SyntheticMemory`](crate::SyntheticMemory), the
/// objects it pretends to have mapped, and symbols by name.
#[derive(Debug, Default, Clone)]
pub struct SyntheticImage {
    /// The memory.
    pub mem: crate::SyntheticMemory,
    /// Mapped objects (often none).
    pub objects: Vec<LoadedObject>,
    /// Symbol name → address; every symbol belongs to object 0.
    pub symbols: std::collections::HashMap<&'static str, u64>,
}

impl SyntheticImage {
    /// An image over `mem` with no objects and no symbols.
    pub fn new(mem: crate::SyntheticMemory) -> SyntheticImage {
        SyntheticImage { mem, ..SyntheticImage::default() }
    }

    /// Maps `words` (little-endian u64s) at `addr`.
    pub fn words(&mut self, addr: u64, words: &[u64]) -> &mut Self {
        self.mem.map(Addr(addr), words.iter().flat_map(|w| w.to_le_bytes()).collect());
        self
    }
}

impl Memory for SyntheticImage {
    fn read_into(&self, addr: Addr, buf: &mut [u8]) -> Result<(), crate::ReadError> {
        self.mem.read_into(addr, buf)
    }
}

impl ProcessImage for SyntheticImage {
    fn objects(&self) -> &[LoadedObject] {
        &self.objects
    }

    fn symbol(&self, name: &str) -> Option<SymbolRef> {
        self.symbols.get(name).map(|&a| SymbolRef { addr: Addr(a), size: 0, object: 0 })
    }

    fn symbol_in(&self, _object: usize, name: &str) -> Option<SymbolRef> {
        self.symbol(name)
    }
}
