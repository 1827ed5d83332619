//! Compressed cores (zstd, lz4 frame, gzip), detected by magic bytes and read exactly like the plain core.

use std::io::Write;

use heapscope_coredump::testutil::CoreBuilder;
use heapscope_coredump::{Addr, Compression, CoreFile, Error, Memory, Presence, ProcessInfo, X86_64Regs};

fn plain() -> Vec<u8> {
    let mut b = CoreBuilder::new();
    let data: Vec<u8> = (0..0x30000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    b.load(0x7f00_0000_0000, data, 0x40000)
        .load(0x7f00_0004_0000, vec![7; 0x1000], 0x1000)
        .thread(10, 6, &X86_64Regs { rip: 0x7f00_0000_0010, ..Default::default() })
        .process(&ProcessInfo { pid: 10, ppid: 1, uid: 0, gid: 0, fname: "python3".into(), psargs: "python3".into() })
        .files(0x1000, &[(0x7f00_0000_0000, 0x7f00_0004_0000, 0x1000, "/lib/libpython.so")]);
    b.build().bytes
}

fn zstd(b: &[u8]) -> Vec<u8> {
    zstd::encode_all(b, 3).unwrap()
}

fn lz4(b: &[u8]) -> Vec<u8> {
    let mut e = lz4_flex::frame::FrameEncoder::new(Vec::new());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

/// A compressor of whole files.
type Compress = fn(&[u8]) -> Vec<u8>;

fn formats() -> [(Compression, Compress); 3] {
    [(Compression::Zstd, zstd), (Compression::Lz4, lz4), (Compression::Gzip, gzip)]
}

/// The two cores expose the same segments, notes and bytes.
fn assert_same(a: &CoreFile, b: &CoreFile) {
    assert_eq!(a.file_len(), b.file_len());
    assert_eq!(a.segments(), b.segments());
    assert_eq!(a.threads(), b.threads());
    assert_eq!(a.process(), b.process());
    assert_eq!(a.mapped_files(), b.mapped_files());
    assert_eq!(a.notes(), b.notes());
    assert_eq!(a.warnings().len(), b.warnings().len());
    for s in a.segments() {
        let x = a.bytes(s.vaddr, s.filesz as usize).unwrap();
        let y = b.bytes(s.vaddr, s.filesz as usize).unwrap();
        assert!(x == y, "segment {} differs", s.vaddr);
    }
    let omitted = Addr(0x7f00_0003_0000);
    assert_eq!(b.presence(omitted), Presence::Omitted);
    assert_eq!(a.read_u64(omitted), b.read_u64(omitted));
}

#[test]
fn from_bytes_detects_and_decompresses() {
    let raw = plain();
    let reference = CoreFile::from_bytes("core", raw.clone()).unwrap();
    for (format, compress) in formats() {
        let packed = compress(&raw);
        assert_eq!(Compression::detect(&packed), Some(format));
        let c = CoreFile::from_bytes("core.packed", packed).unwrap();
        assert_eq!(c.compression(), Some(format));
        assert_same(&reference, &c);
    }
}

#[test]
fn open_detects_by_magic_not_extension() {
    let raw = plain();
    let reference = CoreFile::from_bytes("core", raw.clone()).unwrap();
    for (format, compress) in formats() {
        // A misleading name: detection must not look at it.
        let mut f = tempfile::Builder::new().suffix(".core").tempfile().unwrap();
        f.write_all(&compress(&raw)).unwrap();
        f.flush().unwrap();
        let c = CoreFile::open(f.path()).unwrap();
        assert_eq!(c.compression(), Some(format), "{format}");
        assert_eq!(c.path(), f.path());
        assert_same(&reference, &c);
    }
    // And a plain core named .zst is read as plain.
    let mut f = tempfile::Builder::new().suffix(".zst").tempfile().unwrap();
    f.write_all(&raw).unwrap();
    f.flush().unwrap();
    let c = CoreFile::open(f.path()).unwrap();
    assert_eq!(c.compression(), None);
    assert_same(&reference, &c);
}

#[test]
fn concatenated_streams_are_one_core() {
    // pigz and `zstd` on split input write several members or frames; they decode to the concatenation.
    let raw = plain();
    let reference = CoreFile::from_bytes("core", raw.clone()).unwrap();
    let (head, tail) = raw.split_at(1000);
    for (format, compress) in formats() {
        let mut packed = compress(head);
        packed.extend_from_slice(&compress(tail));
        let c = CoreFile::from_bytes("core.multi", packed).unwrap();
        assert_eq!(c.compression(), Some(format));
        assert_same(&reference, &c);
    }
}

#[test]
fn truncated_or_corrupt_streams_are_decompress_errors() {
    let raw = plain();
    for (format, compress) in formats() {
        let packed = compress(&raw);
        let cut = packed[..packed.len() / 2].to_vec();
        let err = CoreFile::from_bytes("core.cut", cut).unwrap_err();
        assert!(matches!(&err, Error::Decompress { format: f, .. } if *f == format), "{format}: {err}");
        let msg = err.to_string();
        assert!(msg.contains("core.cut") && msg.contains(format.name()), "{msg}");
        // The magic followed by garbage.
        let mut junk = packed[..4].to_vec();
        junk.extend_from_slice(&[0x5a; 64]);
        let err = CoreFile::from_bytes("core.junk", junk).unwrap_err();
        assert!(matches!(err, Error::Decompress { .. }), "{format}: {err}");
    }
}

#[test]
fn lz4_cut_between_blocks_is_an_error() {
    // lz4_flex reports input ending between two blocks as a clean end; the reader must not.
    let info = lz4_flex::frame::FrameInfo::new().block_size(lz4_flex::frame::BlockSize::Max64KB);
    let mut e = lz4_flex::frame::FrameEncoder::with_frame_info(info, Vec::new());
    e.write_all(&plain()).unwrap();
    let packed = e.finish().unwrap();
    assert_eq!(packed[4] & 0x08, 0, "no content size: the frame header is 7 bytes");
    let first_block = u32::from_le_bytes(packed[7..11].try_into().unwrap()) & 0x7fff_ffff;
    let boundary = 7 + 4 + first_block as usize;
    assert!(boundary < packed.len() - 4);
    let err = CoreFile::from_bytes("core.lz4", packed[..boundary].to_vec()).unwrap_err();
    assert!(matches!(err, Error::Decompress { format: Compression::Lz4, .. }), "{err}");
    // Garbage after a complete frame is an error too.
    let mut trailing = lz4(&plain());
    trailing.extend_from_slice(b"garbage!");
    assert!(matches!(CoreFile::from_bytes("core.lz4", trailing), Err(Error::Decompress { .. })));
}

#[test]
fn compressed_non_core_is_not_elf() {
    let err = CoreFile::from_bytes("x.gz", gzip(b"just some text, not a core")).unwrap_err();
    assert!(matches!(err, Error::NotElf { .. }), "{err}");
}
