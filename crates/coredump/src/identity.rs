//! [`CoreIdentity`]: what makes a core file this core, so that results saved from it (a snapshot) are reused only
//! for the same core and never for another.
//!
//! The digest is XXH3-128 over, in order: the ELF header, the program header table, every `PT_NOTE` segment (the
//! threads' registers, the mapped files, the auxiliary vector), the build-id of every loaded object, and
//! [`SAMPLES`] samples of [`SAMPLE_LEN`] bytes spread evenly over the (decompressed) file. Two dumps of one process
//! differ in their notes (registers, CPU times) and in their samples; a core copied or moved elsewhere keeps its
//! digest. Hashing reads a few hundred KiB whatever the core's size.
//!
//! The path, size and modification time are recorded too, to say which file a snapshot came from; they do not
//! decide whether it matches (a copy of the core is the same core).

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use xxhash_rust::xxh3::Xxh3;

use crate::CoreFile;

/// Samples of the file's bytes in the digest.
pub const SAMPLES: u64 = 1024;
/// Bytes per sample.
pub const SAMPLE_LEN: u64 = 256;

/// The identity of a core file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CoreIdentity {
    /// The path the core was opened from.
    pub path: PathBuf,
    /// Size of the file as stored (compressed size for a compressed core).
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch (0 when unknown).
    pub mtime_ns: u64,
    /// XXH3-128 of the headers, notes, build-ids and samples (see the module documentation), as 32 hex digits.
    pub digest: String,
}

impl CoreIdentity {
    /// The identity of `core`, opened from `path`, whose loaded objects have `build_ids`.
    pub fn of(core: &CoreFile, path: &Path, build_ids: &[&[u8]]) -> CoreIdentity {
        let meta = std::fs::metadata(path).ok();
        let mtime_ns = meta
            .as_ref()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        CoreIdentity {
            path: path.to_path_buf(),
            size: meta.map_or(core.file_len(), |m| m.len()),
            mtime_ns,
            digest: format!("{:032x}", digest(core.raw(), build_ids)),
        }
    }

    /// The 64-bit id of the dump in tables (`dump_id`): the digest's first 16 hex digits.
    pub fn dump_id(&self) -> u64 {
        self.digest.get(..16).and_then(|h| u64::from_str_radix(h, 16).ok()).unwrap_or(0)
    }

    /// True when `other` identifies the same core: equal digest and size (path and time may differ: a copy is the
    /// same core).
    pub fn same_core(&self, other: &CoreIdentity) -> bool {
        self.digest == other.digest && self.size == other.size
    }
}

/// The digest of a core's bytes `b` (see the module documentation).
fn digest(b: &[u8], build_ids: &[&[u8]]) -> u128 {
    let mut h = Xxh3::new();
    let len = b.len() as u64;
    h.update(&len.to_le_bytes());
    h.update(b.get(..64).unwrap_or(b));
    // The program header table (e_phoff, e_phentsize, e_phnum), and the notes it points to.
    let u16_at = |o: usize| b.get(o..o + 2).map_or(0, |s| u16::from_le_bytes([s[0], s[1]]));
    let u64_at = |o: usize| b.get(o..o + 8).map_or(0, |s| u64::from_le_bytes(s.try_into().unwrap_or([0; 8])));
    let (phoff, phentsize, phnum) = (u64_at(32), u64::from(u16_at(54)), u64::from(u16_at(56)));
    let table = slice(b, phoff, phentsize.saturating_mul(phnum));
    h.update(table);
    if phentsize >= 56 {
        for ph in table.chunks_exact(phentsize as usize) {
            let p_type = u32::from_le_bytes([ph[0], ph[1], ph[2], ph[3]]);
            if p_type == 4 {
                let word = |o: usize| u64::from_le_bytes(ph[o..o + 8].try_into().unwrap_or([0; 8]));
                h.update(slice(b, word(8), word(32)));
            }
        }
    }
    for id in build_ids {
        h.update(&(id.len() as u64).to_le_bytes());
        h.update(id);
    }
    for i in 0..SAMPLES {
        let at = len.saturating_sub(SAMPLE_LEN) / SAMPLES * i;
        h.update(slice(b, at, SAMPLE_LEN));
    }
    h.digest128()
}

/// `b[offset .. offset + len]`, clipped to the file.
fn slice(b: &[u8], offset: u64, len: u64) -> &[u8] {
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(b.len());
    let end = usize::try_from(offset.saturating_add(len)).unwrap_or(usize::MAX).min(b.len());
    &b[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::CoreBuilder;

    fn core_with(byte: u8) -> CoreFile {
        let mut b = CoreBuilder::new();
        b.load(0x1000, vec![byte; 8192], 8192);
        CoreFile::from_bytes("core", b.build().bytes).expect("test core parses")
    }

    #[test]
    fn equal_cores_have_equal_digests_and_different_heaps_do_not() {
        let a = CoreIdentity::of(&core_with(1), Path::new("/nonexistent/a"), &[b"id"]);
        let b = CoreIdentity::of(&core_with(1), Path::new("/nonexistent/b"), &[b"id"]);
        assert!(a.same_core(&b), "a copy under another name is the same core");
        assert_eq!(a.dump_id(), b.dump_id());
        let c = CoreIdentity::of(&core_with(2), Path::new("/nonexistent/a"), &[b"id"]);
        assert!(!a.same_core(&c), "other memory contents (sampled) make another core");
        let d = CoreIdentity::of(&core_with(1), Path::new("/nonexistent/a"), &[b"other"]);
        assert!(!a.same_core(&d), "another build-id makes another core");
        assert_eq!(a.digest.len(), 32);
        assert_ne!(a.dump_id(), c.dump_id());
    }

    #[test]
    fn short_and_garbage_files_do_not_panic() {
        for len in [0usize, 1, 63, 64, 65, 300] {
            let bytes = vec![0xffu8; len];
            let _ = digest(&bytes, &[]);
        }
    }
}
