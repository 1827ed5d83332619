//! Getting the bytes of a core file: an mmap of the file, or of an anonymous temporary file that a compressed core
//! is decompressed into.
//!
//! A core is never read whole into memory. A compressed core (detected by its magic bytes, not its name) is
//! decompressed streaming into a `tempfile::tempfile()` in `$TMPDIR`, already unlinked, which is then mapped: it
//! costs temporary disk equal to the uncompressed size and no extra memory.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::ops::Deref;
use std::path::Path;

use memmap2::Mmap;

use crate::Error;

/// A compression format a core file can be stored in.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Compression {
    /// Zstandard (`28 b5 2f fd`), as written by `zstd` and by systemd-coredump.
    Zstd,
    /// An LZ4 frame (`04 22 4d 18`), as written by `lz4` and by systemd-coredump.
    Lz4,
    /// gzip (`1f 8b`), as written by `gzip` or `pigz`.
    Gzip,
}

impl Compression {
    /// The format whose magic bytes start `head`, if any.
    pub fn detect(head: &[u8]) -> Option<Compression> {
        if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Compression::Zstd)
        } else if head.starts_with(&[0x04, 0x22, 0x4d, 0x18]) {
            Some(Compression::Lz4)
        } else if head.starts_with(&[0x1f, 0x8b]) {
            Some(Compression::Gzip)
        } else {
            None
        }
    }

    /// The format's usual name (`zstd`, `lz4`, `gzip`).
    pub fn name(self) -> &'static str {
        match self {
            Compression::Zstd => "zstd",
            Compression::Lz4 => "lz4",
            Compression::Gzip => "gzip",
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The bytes of a (decompressed) core file.
pub(crate) enum Bytes {
    /// A read-only mapping of the core, or of the temporary file it was decompressed into.
    Mapped(Mmap),
    /// Bytes handed over by the caller ([`crate::CoreFile::from_bytes`]).
    Owned(Vec<u8>),
}

impl Deref for Bytes {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            Bytes::Owned(v) => v,
        }
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            Bytes::Mapped(_) => "Mapped",
            Bytes::Owned(_) => "Owned",
        };
        write!(f, "{kind}({} bytes)", self.len())
    }
}

/// The opened bytes and how they were stored.
#[derive(Debug)]
pub(crate) struct Source {
    pub(crate) bytes: Bytes,
    pub(crate) compression: Option<Compression>,
}

/// Opens `path`: maps it, or decompresses it into a temporary file and maps that.
///
/// Anything but a regular file is refused before a byte is read: the file is opened non-blocking (opening a FIFO
/// would otherwise wait for a writer forever) and its type checked on the open descriptor.
pub(crate) fn open(path: &Path) -> Result<Source, Error> {
    let io_err = |source| Error::Io { path: path.to_path_buf(), source };
    let mut file = open_nonblocking(path).map_err(io_err)?;
    let meta = file.metadata().map_err(io_err)?;
    if !meta.is_file() {
        return Err(Error::NotAFile { path: path.to_path_buf(), kind: kind_of(&meta.file_type()) });
    }
    let mut head = [0u8; 4];
    let n = read_head(&mut file, &mut head).map_err(io_err)?;
    match Compression::detect(head.get(..n).unwrap_or(&[])) {
        None => Ok(Source { bytes: Bytes::Mapped(map(&file, path)?), compression: None }),
        Some(format) => {
            file.seek(SeekFrom::Start(0)).map_err(io_err)?;
            let bytes = decompress(BufReader::with_capacity(1 << 20, file), format, path)?;
            Ok(Source { bytes, compression: Some(format) })
        }
    }
}

/// Opens `path` for reading without waiting for a FIFO's writer.
fn open_nonblocking(path: &Path) -> io::Result<File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut opts, libc::O_NONBLOCK);
    opts.open(path)
}

/// What a file that is not a regular file is, for the error message.
fn kind_of(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        } else if t.is_socket() {
            return "a socket";
        } else if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Wraps bytes held in memory; compressed ones are decompressed into a temporary file like [`open`] does.
pub(crate) fn from_vec(name: &Path, bytes: Vec<u8>) -> Result<Source, Error> {
    match Compression::detect(&bytes) {
        None => Ok(Source { bytes: Bytes::Owned(bytes), compression: None }),
        Some(format) => {
            let mapped = decompress(bytes.as_slice(), format, name)?;
            Ok(Source { bytes: mapped, compression: Some(format) })
        }
    }
}

/// Reads up to `head.len()` bytes from the start of `file`, returning how many there were.
fn read_head(file: &mut File, head: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < head.len() {
        match file.read(head.get_mut(n..).unwrap_or(&mut [])) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Maps `file` read-only.
fn map(file: &File, path: &Path) -> Result<Mmap, Error> {
    // SAFETY: the mapping is read-only and private to this process. Mapping a file is only unsound if another
    // process truncates or rewrites it while it is mapped (a read of a truncated page raises SIGBUS); cores are
    // written once and then only read, and temporary files are unlinked before we map them, so nobody else holds
    // them. All access goes through `&[u8]` with bounds checks, never through raw pointers.
    #[allow(unsafe_code)]
    let m = unsafe { Mmap::map(file) };
    m.map_err(|source| Error::Io { path: path.to_path_buf(), source })
}

/// Decompresses `input` (in `format`) into an unlinked temporary file and maps it.
fn decompress(input: impl Read, format: Compression, path: &Path) -> Result<Bytes, Error> {
    let dec_err = |source| Error::Decompress { path: path.to_path_buf(), format, source };
    let tmp_err = |source| temp_file_error(path, source);
    let tmp = tempfile::tempfile().map_err(tmp_err)?;
    let mut out = BufWriter::with_capacity(1 << 20, tmp);
    match format {
        Compression::Zstd => {
            let mut d = zstd::stream::read::Decoder::new(input).map_err(dec_err)?;
            // Cores compressed with `zstd --long` use windows up to 2 GiB; the default limit is 128 MiB.
            d.window_log_max(31).map_err(dec_err)?;
            pump(d, &mut out, path, format)?;
        }
        Compression::Lz4 => pump_lz4(input, &mut out, path)?,
        Compression::Gzip => pump(flate2::read::MultiGzDecoder::new(input), &mut out, path, format)?,
    }
    let tmp = out.into_inner().map_err(|e| tmp_err(e.into_error()))?;
    Ok(Bytes::Mapped(map(&tmp, path).map_err(|e| match e {
        Error::Io { source, .. } => tmp_err(source),
        other => other,
    })?))
}

/// The temporary file of a decompressed core failed (not the core itself).
fn temp_file_error(core: &Path, source: io::Error) -> Error {
    Error::TempFile { core: core.to_path_buf(), dir: std::env::temp_dir(), source }
}

/// Copies the decoder's output to `out`, telling decoding errors from errors writing the temporary file.
fn pump(mut dec: impl Read, out: &mut impl Write, path: &Path, format: Compression) -> Result<(), Error> {
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match dec.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(source) => return Err(Error::Decompress { path: path.to_path_buf(), format, source }),
        };
        let chunk = buf.get(..n).unwrap_or(&[]);
        out.write_all(chunk).map_err(|source| temp_file_error(path, source))?;
    }
}

/// Decodes every frame of an lz4 stream.
///
/// lz4_flex's `FrameDecoder` reports the end of each frame as end of file, and also reports input that stops
/// between two blocks as a clean end: a reader that notes whether the input ran out tells the two apart.
fn pump_lz4(input: impl Read, out: &mut impl Write, path: &Path) -> Result<(), Error> {
    let format = Compression::Lz4;
    let dec_err = |source| Error::Decompress { path: path.to_path_buf(), format, source };
    let mut dec = lz4_flex::frame::FrameDecoder::new(BufReader::new(EofFlag { inner: input, eof: false }));
    loop {
        pump(&mut dec, out, path, format)?;
        if dec.get_ref().get_ref().eof {
            return Err(dec_err(io::Error::new(io::ErrorKind::UnexpectedEof, "the stream ends inside a frame")));
        }
        // The frame ended properly; another may follow.
        if dec.get_mut().fill_buf().map_err(dec_err)?.is_empty() {
            return Ok(());
        }
    }
}

/// A reader that remembers whether its input ran out.
struct EofFlag<R> {
    inner: R,
    eof: bool,
}

impl<R: Read> Read for EofFlag<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.eof = true;
        }
        Ok(n)
    }
}
