//! [`CoreFile`]: an opened ELF core, its segments and notes, readable through [`Memory`].
//!
//! A `PT_LOAD` with `p_filesz < p_memsz` means the bytes in `[vaddr + filesz, vaddr + memsz)` were mapped in the
//! process but left out of the core (gdb and the kernel write `filesz = 0` for mappings excluded by
//! `coredump_filter`, and one page for file mappings that start with an ELF header). Reading them fails with
//! [`ReadError::NotInCore`], naming the `NT_FILE` path that could supply them; they are never returned as zeros.
//! [`CoreFile::presence`] tells such addresses from unmapped ones.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::image::Range;
use crate::notes::{self, MappedFile, Note, NoteInfo, ProcessInfo, ThreadInfo};
use crate::source::{self, Bytes, Source};
use crate::{header, Addr, Compression, Error, Memory, ReadError};

/// One `PT_LOAD` segment of the core: a mapping of the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// First address of the mapping.
    pub vaddr: Addr,
    /// Size of the mapping in the process.
    pub memsz: u64,
    /// Offset in the (decompressed) core of the bytes at `vaddr`.
    pub file_offset: u64,
    /// How many bytes from `vaddr` on the core holds, clipped to the end of the file. The rest, up to `memsz`, was
    /// mapped but is not in the core.
    pub filesz: u64,
    /// `PF_R`.
    pub readable: bool,
    /// `PF_W`.
    pub writable: bool,
    /// `PF_X`.
    pub executable: bool,
}

impl Segment {
    /// End of the mapping (exclusive).
    pub fn end(&self) -> Addr {
        Addr(self.vaddr.0 + self.memsz)
    }

    /// End of the bytes the core holds (exclusive).
    pub fn dumped_end(&self) -> Addr {
        Addr(self.vaddr.0 + self.filesz)
    }
}

/// Whether the core can supply the byte at an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Presence {
    /// The core holds the byte.
    InCore,
    /// The process had the address mapped, but the core omits it: past a segment's dumped bytes (filtered out, or a
    /// truncated core), or in a file mapping `NT_FILE` lists but no segment covers (gdb leaves those out).
    Omitted,
    /// The process had nothing mapped there.
    Unmapped,
}

/// A segment as the read path sees it: precomputed bounds, 32 bytes.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u64,
    dumped_end: u64,
    end: u64,
    data: usize,
}

/// An opened ELF core file.
pub struct CoreFile {
    path: PathBuf,
    bytes: Bytes,
    compression: Option<Compression>,
    machine: u16,
    segments: Vec<Segment>,
    spans: Vec<Span>,
    /// Address ranges a truncated file was cut short of, sorted.
    cut: Vec<Range>,
    notes: Vec<Note>,
    info: NoteInfo,
    warnings: Vec<String>,
}

impl fmt::Debug for CoreFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CoreFile")
            .field("path", &self.path)
            .field("bytes", &self.bytes)
            .field("compression", &self.compression)
            .field("segments", &self.segments.len())
            .field("threads", &self.info.threads.len())
            .field("warnings", &self.warnings.len())
            .finish_non_exhaustive()
    }
}

impl CoreFile {
    /// Opens the core at `path`: maps it, or first decompresses it (zstd, lz4, gzip; by magic bytes) into an
    /// unlinked temporary file in `$TMPDIR`.
    pub fn open(path: &Path) -> Result<CoreFile, Error> {
        Self::parse(path.to_path_buf(), source::open(path)?)
    }

    /// Parses a core held in memory (compressed or not); `name` stands for its path in messages.
    pub fn from_bytes(name: &str, bytes: Vec<u8>) -> Result<CoreFile, Error> {
        let path = PathBuf::from(name);
        let src = source::from_vec(&path, bytes)?;
        Self::parse(path, src)
    }

    fn parse(path: PathBuf, src: Source) -> Result<CoreFile, Error> {
        let b: &[u8] = &src.bytes;
        if b.is_empty() {
            return Err(Error::Malformed { path, offset: 0, what: "the file is empty".into() });
        }
        let hdr = header::parse(&path, b)?;
        let file_len = b.len() as u64;
        let mut warn = Warnings::new(&path);
        let (segments, cut) = header::load_segments(&hdr.phdrs, file_len, &mut warn);
        let mut notes = Vec::new();
        for (range, align) in header::note_segments(&hdr.phdrs, file_len, &mut warn) {
            notes::walk(b, range, align, &mut notes, &mut warn);
        }
        let info = notes::interpret(b, &notes, hdr.machine, &mut warn);
        let spans = segments
            .iter()
            .map(|s| Span {
                start: s.vaddr.0,
                dumped_end: s.vaddr.0 + s.filesz,
                end: s.vaddr.0 + s.memsz,
                // filesz > 0 implies file_offset + filesz <= file_len, which fits in usize.
                data: if s.filesz > 0 { usize::try_from(s.file_offset).unwrap_or(0) } else { 0 },
            })
            .collect();
        Ok(CoreFile {
            path,
            bytes: src.bytes,
            compression: src.compression,
            machine: hdr.machine,
            segments,
            spans,
            cut,
            notes,
            info,
            warnings: warn.finish(),
        })
    }

    /// The path the core was opened from (or the name given to [`CoreFile::from_bytes`]).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The compression the file was stored in, if any.
    pub fn compression(&self) -> Option<Compression> {
        self.compression
    }

    /// The whole (decompressed) file.
    pub(crate) fn raw(&self) -> &[u8] {
        &self.bytes
    }

    /// Length of the (decompressed) core in bytes.
    pub fn file_len(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// The ELF header's `e_machine` (62 for x86_64).
    pub fn machine(&self) -> u16 {
        self.machine
    }

    /// The `PT_LOAD` segments, sorted by address, not overlapping.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The segment whose mapping contains `addr`.
    pub fn segment_at(&self, addr: Addr) -> Option<&Segment> {
        self.find(addr.0).and_then(|i| self.segments.get(i))
    }

    /// The threads (`NT_PRSTATUS`), in file order: the first is the one that crashed or was current.
    pub fn threads(&self) -> &[ThreadInfo] {
        &self.info.threads
    }

    /// The process (`NT_PRPSINFO`), if the core has it.
    pub fn process(&self) -> Option<&ProcessInfo> {
        self.info.process.as_ref()
    }

    /// The auxiliary vector (`NT_AUXV`), without its `AT_NULL` terminator.
    pub fn auxv(&self) -> &[(u64, u64)] {
        &self.info.auxv
    }

    /// The value of the first auxiliary vector entry with type `key` (`AT_*`).
    pub fn auxv_value(&self, key: u64) -> Option<u64> {
        self.info.auxv.iter().find(|e| e.0 == key).map(|e| e.1)
    }

    /// The file-backed mappings (`NT_FILE`), sorted by start address.
    pub fn mapped_files(&self) -> &[MappedFile] {
        &self.info.mapped_files
    }

    /// The file-backed mapping containing `addr`, if any.
    pub fn mapped_file(&self, addr: Addr) -> Option<&MappedFile> {
        let files = &self.info.mapped_files;
        let i = files.partition_point(|m| m.start <= addr).checked_sub(1)?;
        files.get(i).filter(|m| m.contains(addr))
    }

    /// All notes of all `PT_NOTE` segments, in file order.
    pub fn notes(&self) -> &[Note] {
        &self.notes
    }

    /// The descriptor bytes of `note`.
    pub fn note_desc(&self, note: &Note) -> &[u8] {
        crate::le::slice(&self.bytes, note.desc.clone()).unwrap_or(&[])
    }

    /// What was repaired or ignored while opening (truncation, bad notes, …), each naming the file.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The address ranges whose bytes the segments say the file holds but a truncated file ends before (a full
    /// disk or `RLIMIT_CORE` cut the dump short), sorted; empty for a whole core.
    pub fn cut(&self) -> &[Range] {
        &self.cut
    }

    /// True if `addr` lies in a range the truncated file was cut short of.
    pub fn is_cut(&self, addr: Addr) -> bool {
        let i = self.cut.partition_point(|r| r.start <= addr);
        i.checked_sub(1).and_then(|i| self.cut.get(i)).is_some_and(|r| r.contains(addr))
    }

    /// Whether the core holds the byte at `addr`, omits it, or the process had nothing mapped there.
    pub fn presence(&self, addr: Addr) -> Presence {
        match self.find(addr.0).and_then(|i| self.spans.get(i)) {
            // gdb writes no PT_LOAD at all for a file mapping it leaves out; NT_FILE still lists it.
            None if self.mapped_file(addr).is_some() => Presence::Omitted,
            None => Presence::Unmapped,
            Some(s) if addr.0 < s.dumped_end => Presence::InCore,
            Some(_) => Presence::Omitted,
        }
    }

    /// Index of the span containing `addr`: the span this thread found last when it still contains `addr` (reads
    /// cluster: an object's fields, then its neighbour's), else a binary search.
    #[inline]
    fn find(&self, addr: u64) -> Option<usize> {
        let hint = LAST_SPAN.get();
        if let Some(s) = self.spans.get(hint) {
            if s.start <= addr && addr < s.end {
                return Some(hint);
            }
        }
        let i = self.spans.partition_point(|s| s.start <= addr).checked_sub(1)?;
        match self.spans.get(i) {
            Some(s) if addr < s.end => {
                LAST_SPAN.set(i);
                Some(i)
            }
            _ => None,
        }
    }

    /// The `N` bytes at `addr` when the core holds them all in one span: the fast path of the fixed-size reads
    /// (a word of an object), straight from the mapped file. `None` sends the read to [`Memory::read_into`], which
    /// crosses spans and says why a read fails.
    #[inline]
    pub(crate) fn fixed<const N: usize>(&self, addr: u64) -> Option<[u8; N]> {
        let s = self.spans.get(self.find(addr)?)?;
        if addr.checked_add(N as u64)? > s.dumped_end {
            return None;
        }
        let off = s.data.checked_add(usize::try_from(addr - s.start).ok()?)?;
        self.bytes.get(off..off.checked_add(N)?)?.try_into().ok()
    }

    /// The core's bytes for `len` bytes at `addr` when they all sit in the dumped part of span `i`.
    #[inline]
    fn in_span(&self, i: usize, addr: u64, len: usize) -> Option<&[u8]> {
        let s = self.spans.get(i)?;
        let end = addr.checked_add(len as u64)?;
        if end > s.dumped_end {
            return None;
        }
        let off = s.data.checked_add(usize::try_from(addr - s.start).ok()?)?;
        self.bytes.get(off..off.checked_add(len)?)
    }

    /// Walks `len` bytes at `addr` starting in span `i`, across adjacent spans, copying into `dst` when given.
    /// Fails at the first byte that is omitted or unmapped.
    fn walk(&self, mut i: usize, addr: Addr, len: usize, mut dst: Option<&mut [u8]>) -> Result<(), ReadError> {
        let end = addr.0.checked_add(len as u64).ok_or(ReadError::Overflow { addr, len: len as u64 })?;
        let mut cur = addr.0;
        while cur < end {
            let s = match self.spans.get(i) {
                Some(s) if s.start <= cur && cur < s.end => *s,
                _ => return Err(self.unmapped(cur)),
            };
            if cur >= s.dumped_end {
                return Err(self.not_in_core(cur));
            }
            let chunk_end = end.min(s.dumped_end);
            let n = (chunk_end - cur) as usize;
            if let Some(dst) = dst.as_deref_mut() {
                let from = self.in_span(i, cur, n).ok_or(ReadError::Unmapped { addr: Addr(cur) })?;
                let at = (cur - addr.0) as usize;
                let to = dst.get_mut(at..at + n).ok_or(ReadError::Overflow { addr, len: len as u64 })?;
                to.copy_from_slice(from);
            }
            cur = chunk_end;
            if cur < end && cur == s.end {
                i += 1;
            }
        }
        Ok(())
    }

    /// The error for an address in no segment: "not in core" if `NT_FILE` says a file was mapped there (gdb omits
    /// such mappings' segments entirely), else "unmapped".
    #[cold]
    fn unmapped(&self, addr: u64) -> ReadError {
        match self.mapped_file(Addr(addr)) {
            Some(m) => ReadError::NotInCore { addr: Addr(addr), mapping: Some(m.path.clone()) },
            None => ReadError::Unmapped { addr: Addr(addr) },
        }
    }

    #[cold]
    fn not_in_core(&self, addr: u64) -> ReadError {
        let addr = Addr(addr);
        if self.is_cut(addr) {
            return ReadError::Truncated { addr };
        }
        ReadError::NotInCore { addr, mapping: self.mapped_file(addr).map(|m| m.path.clone()) }
    }
}

thread_local! {
    /// The span index the thread's last search found (any core's: it is checked before use).
    static LAST_SPAN: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// `N` bytes at `addr`: `fast` when the fast path had them, else through `read_into` (crossing spans, or failing
/// with the reason).
#[inline]
pub(crate) fn fixed_or_read<const N: usize, M: Memory + ?Sized>(
    m: &M,
    fast: Option<[u8; N]>,
    addr: Addr,
) -> Result<[u8; N], ReadError> {
    match fast {
        Some(b) => Ok(b),
        None => {
            let mut b = [0u8; N];
            m.read_into(addr, &mut b)?;
            Ok(b)
        }
    }
}

/// The fixed-size reads of [`Memory`] through `$fast` (a `fn(&self, u64) -> Option<[u8; N]>`), falling back to
/// `read_into`.
macro_rules! fixed_reads {
    ($fast:ident) => {
        #[inline]
        fn read_u8(&self, addr: Addr) -> Result<u8, ReadError> {
            crate::core::fixed_or_read(self, self.$fast::<1>(addr.0), addr).map(|b| b[0])
        }
        #[inline]
        fn read_u16(&self, addr: Addr) -> Result<u16, ReadError> {
            crate::core::fixed_or_read(self, self.$fast(addr.0), addr).map(u16::from_le_bytes)
        }
        #[inline]
        fn read_u32(&self, addr: Addr) -> Result<u32, ReadError> {
            crate::core::fixed_or_read(self, self.$fast(addr.0), addr).map(u32::from_le_bytes)
        }
        #[inline]
        fn read_u64(&self, addr: Addr) -> Result<u64, ReadError> {
            crate::core::fixed_or_read(self, self.$fast(addr.0), addr).map(u64::from_le_bytes)
        }
    };
}
pub(crate) use fixed_reads;

impl Memory for CoreFile {
    fixed_reads!(fixed);

    #[inline]
    fn read_into(&self, addr: Addr, buf: &mut [u8]) -> Result<(), ReadError> {
        if buf.is_empty() {
            return Ok(());
        }
        let i = self.find(addr.0).ok_or_else(|| self.unmapped(addr.0))?;
        if let Some(src) = self.in_span(i, addr.0, buf.len()) {
            buf.copy_from_slice(src);
            return Ok(());
        }
        self.walk(i, addr, buf.len(), Some(buf))
    }

    fn bytes(&self, addr: Addr, len: usize) -> Result<Cow<'_, [u8]>, ReadError> {
        if len == 0 {
            return Ok(Cow::Borrowed(&[]));
        }
        let i = self.find(addr.0).ok_or_else(|| self.unmapped(addr.0))?;
        if let Some(src) = self.in_span(i, addr.0, len) {
            return Ok(Cow::Borrowed(src));
        }
        // Spans several segments (or fails): check before allocating, then copy.
        self.walk(i, addr, len, None)?;
        let mut v = vec![0u8; len];
        self.walk(i, addr, len, Some(&mut v))?;
        Ok(Cow::Owned(v))
    }
}

/// Warnings collected while opening a core: each prefixed with the file, at most [`Warnings::MAX`] kept.
#[derive(Debug)]
pub(crate) struct Warnings {
    prefix: String,
    list: Vec<String>,
    dropped: usize,
}

impl Warnings {
    /// Warnings beyond this many are counted, not kept.
    const MAX: usize = 64;

    pub(crate) fn new(path: &Path) -> Self {
        Warnings { prefix: path.display().to_string(), list: Vec::new(), dropped: 0 }
    }

    pub(crate) fn push(&mut self, msg: String) {
        if self.list.len() < Self::MAX {
            self.list.push(format!("{}: {msg}", self.prefix));
        } else {
            self.dropped += 1;
        }
    }

    pub(crate) fn finish(mut self) -> Vec<String> {
        if self.dropped > 0 {
            self.list.push(format!("{}: {} more warnings not shown", self.prefix, self.dropped));
        }
        self.list
    }
}
