//! A [`Snapshot`] saved to a file and read back, so that a second command on the same core decodes nothing.
//!
//! # Format (version [`FORMAT_VERSION`])
//!
//! Little-endian throughout:
//!
//! | bytes | content |
//! |---|---|
//! | 16 | [`MAGIC`] |
//! | 4 | format version |
//! | 8 + 8 + len | the metadata: its length, its XXH3-64, then JSON ([`Meta`]: the core's identity, counts, types, roots, warnings, errors, build figures, field names) |
//! | per section | 8 bytes of length, 8 of XXH3-64, then the column's raw values |
//!
//! The sections, in order: addresses (`u64`), type ids (`u32`), `sys.getsizeof` (`u64`), footprints (`u64`),
//! refcounts (`i64`), lengths (`u64`), flags (`u8`), generations (`u8`), categories (`u8`), the graph's offsets (`u32`, one more than
//! the objects) and targets (`u32`), the edge words (`u32`), the label table (16 bytes a label: tag `u32`, `u32`,
//! `u64`).
//!
//! Why this and not Arrow IPC or Parquet: the snapshot is a handful of fixed-width columns and a CSR graph that the
//! analyses use as they are; reading it back is one `read` per column straight into the vector the snapshot keeps
//! (no decoding, no second copy), then a checksum and the invariant checks. Going through polars would need the
//! polars crate below the query layer and a conversion of every column on each reopen. The tables for SQL and
//! export are built from the reopened snapshot by `heapscope-query`.
//!
//! # Trust
//!
//! A file that is not a snapshot, of another format version, of another core (by [`CoreIdentity::same_core`]),
//! truncated, or whose bytes do not match their checksums is refused with a [`LoadError`], and the caller builds
//! the snapshot again. A file that passes the checksums is still checked like untrusted input: every length is
//! bounded by the file's size before anything is allocated, addresses must be ascending, ids and label indices in
//! range, categories and label tags known.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use heapscope_coredump::{Addr, CoreIdentity};
use heapscope_graph::Csr;
use xxhash_rust::xxh3::xxh3_64;

use super::index::AddrIndex;
use super::labels::{EdgeWord, LabelTable};
use super::{BuildStats, Category, ErrorLog, Snapshot, SnapshotRoot, TypeRecord, NO_TYPE};
use heapscope_cpython::heap::Label;
use heapscope_cpython::PythonVersion;

/// The first bytes of every snapshot file.
pub const MAGIC: &[u8; 16] = b"heapscope-snap\n\0";
/// The format version this build reads and writes; any other is rebuilt. 2: a 3.15+ bytearray's buffer has size 0
/// (its bytearray's size counts it).
pub const FORMAT_VERSION: u32 = 2;

/// Why a saved snapshot was not used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The file does not start with the snapshot magic.
    #[error("{path} is not a heapscope snapshot")]
    NotASnapshot {
        /// The file.
        path: PathBuf,
    },
    /// Written by a heapscope with another format.
    #[error("{path} is a snapshot of format {found}, this heapscope reads format {FORMAT_VERSION}")]
    Version {
        /// The file.
        path: PathBuf,
        /// Its format version.
        found: u32,
    },
    /// The snapshot is of another core.
    #[error(
        "{path} is a snapshot of another core ({other}, digest {other_digest}), not of this one (digest {digest})"
    )]
    OtherCore {
        /// The file.
        path: PathBuf,
        /// The core it was made from.
        other: String,
        /// That core's digest.
        other_digest: String,
        /// This core's digest.
        digest: String,
    },
    /// The file is truncated, or its bytes do not match their checksums, or its contents break an invariant.
    #[error("{path} is damaged: {what}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong, and where.
        what: String,
    },
}

/// What a snapshot file says about itself (its metadata, without the columns).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SavedInfo {
    /// The core it was made from.
    pub identity: CoreIdentity,
    /// The heapscope version that wrote it.
    pub heapscope: String,
    /// Objects.
    pub objects: u64,
    /// References.
    pub refs: u64,
    /// Distinct labels.
    pub labels: u64,
}

/// The metadata block.
#[derive(serde::Serialize, serde::Deserialize)]
struct Meta {
    info: SavedInfo,
    version: PythonVersion,
    types: Vec<TypeRecord>,
    roots: Vec<SnapshotRoot>,
    interpreters: Vec<Addr>,
    errors: ErrorLog,
    warnings: Vec<String>,
    stats: BuildStats,
    /// The names of `Label::Field` labels, by the index the label table records.
    fields: Vec<String>,
}

/// Label tags in the label section.
mod tag {
    pub const INDEX: u32 = 0;
    pub const DICT_KEY: u32 = 1;
    pub const DICT_VALUE: u32 = 2;
    pub const ATTR: u32 = 3;
    pub const SLOT: u32 = 4;
    pub const FIELD: u32 = 5;
    pub const CELL: u32 = 6;
    pub const LOCAL: u32 = 7;
    pub const STACK: u32 = 8;
    pub const MODULE_STATE: u32 = 9;
    pub const WORD: u32 = 10;
}

/// Metadata larger than this is refused before it is read.
const MAX_META: u64 = 1 << 30;

impl Snapshot {
    /// Writes the snapshot to `path` (through a temporary file in the same directory, renamed into place, so a
    /// reader never sees half a file), recording `identity` as the core it was built from.
    pub fn save(&self, identity: &CoreIdentity, path: &Path) -> io::Result<()> {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        {
            let mut w = BufWriter::with_capacity(1 << 20, tmp.as_file_mut());
            self.write_to(identity, &mut w)?;
            w.flush()?;
        }
        tmp.as_file().sync_all()?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }

    /// Writes the snapshot in the format above.
    pub fn write_to(&self, identity: &CoreIdentity, w: &mut dyn Write) -> io::Result<()> {
        let mut fields: Vec<&'static str> = Vec::new();
        let mut labels: Vec<[u64; 2]> = Vec::with_capacity(self.labels.len());
        for l in self.labels.labels() {
            let (t, a, b) = match *l {
                Label::Index(i) => (tag::INDEX, i, 0),
                Label::DictKey => (tag::DICT_KEY, 0, 0),
                Label::DictValue { key } => (tag::DICT_VALUE, 0, key.0),
                Label::Attr { name } => (tag::ATTR, 0, name.0),
                Label::Slot(o) => (tag::SLOT, o, 0),
                Label::Field(f) => {
                    let i = fields.iter().position(|&g| g == f).unwrap_or_else(|| {
                        fields.push(f);
                        fields.len() - 1
                    });
                    (tag::FIELD, i as u32, 0)
                }
                Label::Cell => (tag::CELL, 0, 0),
                Label::Local { name, index } => (tag::LOCAL, index, name.0),
                Label::Stack(i) => (tag::STACK, i, 0),
                Label::ModuleState(i) => (tag::MODULE_STATE, i, 0),
                Label::Word(i) => (tag::WORD, i, 0),
            };
            labels.push([u64::from(t) | u64::from(a) << 32, b]);
        }
        let meta = Meta {
            info: SavedInfo {
                identity: identity.clone(),
                heapscope: env!("CARGO_PKG_VERSION").to_owned(),
                objects: self.len() as u64,
                refs: self.num_refs() as u64,
                labels: labels.len() as u64,
            },
            version: self.version,
            types: self.types.clone(),
            roots: self.roots.clone(),
            interpreters: self.interpreters.clone(),
            errors: self.errors.clone(),
            warnings: self.warnings.clone(),
            stats: self.stats.clone(),
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
        };
        let meta = serde_json::to_vec(&meta).map_err(io::Error::other)?;
        w.write_all(MAGIC)?;
        w.write_all(&FORMAT_VERSION.to_le_bytes())?;
        section(w, &meta)?;
        let categories: Vec<u8> = self.categories.iter().map(|&c| c as u8).collect();
        let words: Vec<u32> = self.edges.iter().map(|w| w.raw()).collect();
        section(w, le(self.index.addrs()))?;
        section(w, le(&self.type_ids))?;
        section(w, le(&self.sizes))?;
        section(w, le(&self.footprints))?;
        section(w, le(&self.refcounts))?;
        section(w, le(&self.lens))?;
        section(w, &self.flags)?;
        section(w, &self.generations)?;
        section(w, &categories)?;
        section(w, le(self.graph.offsets()))?;
        section(w, le(self.graph.targets()))?;
        section(w, le(&words))?;
        section(w, le(&labels))?;
        Ok(())
    }

    /// Reads the snapshot saved at `path`, if it is a snapshot of the core `identity`, undamaged, of this format.
    pub fn load(path: &Path, identity: &CoreIdentity) -> Result<(Snapshot, SavedInfo), LoadError> {
        let io = |source| LoadError::Io { path: path.to_path_buf(), source };
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let mut r = Reader { file, pos: 0, left: len, path };
        let mut magic = [0u8; 16];
        if r.read(&mut magic).is_err() || &magic != MAGIC {
            return Err(LoadError::NotASnapshot { path: path.to_path_buf() });
        }
        let mut version = [0u8; 4];
        r.read(&mut version)?;
        let found = u32::from_le_bytes(version);
        if found != FORMAT_VERSION {
            return Err(LoadError::Version { path: path.to_path_buf(), found });
        }
        let meta: Vec<u8> = r.section("metadata", MAX_META, 1)?;
        let meta: Meta = serde_json::from_slice(&meta).map_err(|e| r.damaged(format!("metadata: {e}")))?;
        if !meta.info.identity.same_core(identity) {
            return Err(LoadError::OtherCore {
                path: path.to_path_buf(),
                other: meta.info.identity.path.display().to_string(),
                other_digest: meta.info.identity.digest.clone(),
                digest: identity.digest.clone(),
            });
        }
        let n = meta.info.objects;
        let m = meta.info.refs;
        // Every section's place is read first (its header: length and checksum); then the bodies are read and checked
        // in parallel, whose page faults and copying were most of the time of a query on a saved snapshot.
        let addrs = r.column::<u64>("addresses", n)?;
        let type_ids = r.column::<u32>("type ids", n)?;
        let sizes = r.column::<u64>("sizes", n)?;
        let footprints = r.column::<u64>("footprints", n)?;
        let refcounts = r.column::<i64>("refcounts", n)?;
        let lens = r.column::<u64>("lengths", n)?;
        let flags = r.column::<u8>("flags", n)?;
        let generations = r.column::<u8>("generations", n)?;
        let categories = r.column::<u8>("categories", n)?;
        let offsets = r.column::<u32>("graph offsets", n.saturating_add(1))?;
        let targets = r.column::<u32>("graph targets", m)?;
        let words = r.column::<u32>("edge words", m)?;
        let raw_labels = r.column::<[u64; 2]>("labels", meta.info.labels)?;
        if r.left != 0 {
            return Err(r.damaged(format!("{} bytes after the last section", r.left)));
        }

        let ((addrs, type_ids), (sizes, footprints)) = rayon::join(
            || rayon::join(|| r.fetch(addrs), || r.fetch(type_ids)),
            || rayon::join(|| r.fetch(sizes), || r.fetch(footprints)),
        );
        let ((refcounts, lens), (small, (offsets, (targets, words)))) = rayon::join(
            || rayon::join(|| r.fetch(refcounts), || r.fetch(lens)),
            || {
                rayon::join(
                    || (r.fetch(flags), r.fetch(generations), r.fetch(categories), r.fetch(raw_labels)),
                    || rayon::join(|| r.fetch(offsets), || rayon::join(|| r.fetch(targets), || r.fetch(words))),
                )
            },
        );
        let (flags, generations, categories, raw_labels) = small;
        // The first damaged section in file order is the one reported.
        let (addrs, type_ids, sizes, footprints) = (addrs?, type_ids?, sizes?, footprints?);
        let (refcounts, lens, flags, generations, categories) = (refcounts?, lens?, flags?, generations?, categories?);
        let (offsets, targets, words, raw_labels) = (offsets?, targets?, words?, raw_labels?);

        // The invariants the snapshot's users rely on.
        if let Some(i) = addrs.windows(2).position(|w| w[0] >= w[1]) {
            return Err(r.damaged(format!("addresses not ascending at object {}", i + 1)));
        }
        let types = meta.types.len() as u32;
        if let Some(i) = type_ids.iter().position(|&t| t != NO_TYPE && t >= types) {
            return Err(r.damaged(format!("object {i} has type id {}, of {types} types", type_ids[i])));
        }
        let categories = categories
            .iter()
            .map(|&c| Category::ALL.get(usize::from(c)).copied())
            .collect::<Option<Vec<Category>>>()
            .ok_or_else(|| r.damaged("an unknown category".into()))?;
        let graph = Csr::from_parts(offsets, targets).map_err(|e| r.damaged(format!("graph: {e}")))?;
        if graph.num_nodes() as u64 != n {
            return Err(r.damaged("the graph and the objects disagree in number".into()));
        }
        if let Some(i) = generations.iter().position(|&g| g > 3 && g != super::NO_GENERATION) {
            return Err(r.damaged(format!("object {i} has generation {}", generations[i])));
        }
        if let Some(root) = meta.roots.iter().find(|root| u64::from(root.id) >= n) {
            return Err(r.damaged(format!("root of object {} of {n}", root.id)));
        }
        let mut labels = Vec::with_capacity(raw_labels.len());
        for (i, &[a, b]) in raw_labels.iter().enumerate() {
            let (t, x) = ((a & 0xffff_ffff) as u32, (a >> 32) as u32);
            labels.push(match t {
                tag::INDEX => Label::Index(x),
                tag::DICT_KEY => Label::DictKey,
                tag::DICT_VALUE => Label::DictValue { key: Addr(b) },
                tag::ATTR => Label::Attr { name: Addr(b) },
                tag::SLOT => Label::Slot(x),
                tag::FIELD => match meta.fields.get(x as usize) {
                    Some(f) => Label::Field(heapscope_cpython::intern(f)),
                    None => return Err(r.damaged(format!("label {i} names field {x} of {}", meta.fields.len()))),
                },
                tag::CELL => Label::Cell,
                tag::LOCAL => Label::Local { name: Addr(b), index: x },
                tag::STACK => Label::Stack(x),
                tag::MODULE_STATE => Label::ModuleState(x),
                tag::WORD => Label::Word(x),
                _ => return Err(r.damaged(format!("label {i} has unknown tag {t}"))),
            });
        }
        let labels = LabelTable::from_labels(labels);
        let edges: Vec<EdgeWord> = words.into_iter().map(EdgeWord::from_raw).collect();
        if let Some(i) = edges.iter().position(|w| !labels.has(*w)) {
            return Err(r.damaged(format!("edge {i} has a label outside the table")));
        }
        let snapshot = Snapshot {
            version: meta.version,
            index: AddrIndex::new(addrs),
            type_ids,
            sizes,
            footprints,
            refcounts,
            lens,
            flags,
            generations,
            categories,
            graph,
            edges,
            labels,
            reverse: Default::default(),
            roots_by_id: Default::default(),
            types: meta.types,
            roots: meta.roots,
            interpreters: meta.interpreters,
            errors: meta.errors,
            warnings: meta.warnings,
            stats: meta.stats,
        };
        Ok((snapshot, meta.info))
    }
}

/// Writes one section: length, checksum, bytes.
fn section(w: &mut dyn Write, bytes: &[u8]) -> io::Result<()> {
    w.write_all(&(bytes.len() as u64).to_le_bytes())?;
    w.write_all(&xxh3_64(bytes).to_le_bytes())?;
    w.write_all(bytes)
}

/// The bytes of a column of plain integers, little-endian (the only byte order heapscope runs on).
fn le<T: bytemuck::Pod>(values: &[T]) -> &[u8] {
    const { assert!(cfg!(target_endian = "little"), "saved snapshots are written in the machine's byte order") };
    bytemuck::cast_slice(values)
}

/// Reads sections, never past the end the file had when opened.
struct Reader<'p> {
    file: File,
    /// Where the next section starts.
    pos: u64,
    /// Bytes not read yet.
    left: u64,
    path: &'p Path,
}

/// A section whose header has been read and checked: where its body is, and its checksum.
struct Pending<T> {
    what: &'static str,
    pos: u64,
    count: usize,
    sum: u64,
    kind: std::marker::PhantomData<T>,
}

impl Reader<'_> {
    fn damaged(&self, what: String) -> LoadError {
        LoadError::Damaged { path: self.path.to_path_buf(), what }
    }

    fn read_at(&self, pos: u64, buf: &mut [u8]) -> Result<(), LoadError> {
        use std::os::unix::fs::FileExt;
        self.file.read_exact_at(buf, pos).map_err(|source| LoadError::Io { path: self.path.to_path_buf(), source })
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<(), LoadError> {
        self.skip(buf.len() as u64).and_then(|pos| self.read_at(pos, buf))
    }

    /// Moves past `len` bytes; returns where they start.
    fn skip(&mut self, len: u64) -> Result<u64, LoadError> {
        if len > self.left {
            return Err(self.damaged(format!("truncated: {} bytes missing", len - self.left)));
        }
        let pos = self.pos;
        self.pos += len;
        self.left -= len;
        Ok(pos)
    }

    /// The place of a section of `count` values of `T` (its recorded length must be exactly that), read later by
    /// [`Reader::fetch`].
    fn column<T: bytemuck::Pod>(&mut self, what: &'static str, count: u64) -> Result<Pending<T>, LoadError> {
        let size = std::mem::size_of::<T>() as u64;
        let expected = count.checked_mul(size).filter(|&b| b <= self.left);
        let Some(expected) = expected else {
            return Err(self.damaged(format!("{what}: {count} values do not fit in the rest of the file (truncated?)")));
        };
        let (pos, len, sum) = self.header(what, expected, size)?;
        if len / size != count {
            return Err(self.damaged(format!("{what}: {} values, expected {count}", len / size)));
        }
        Ok(Pending { what, pos, count: count as usize, sum, kind: std::marker::PhantomData })
    }

    /// Reads a section's header (at most `max` bytes, a whole number of `size`-byte values) and moves past its body:
    /// `(where the body starts, its length, its checksum)`.
    fn header(&mut self, what: &str, max: u64, size: u64) -> Result<(u64, u64, u64), LoadError> {
        let mut head = [0u8; 16];
        self.read(&mut head)?;
        let len = u64::from_le_bytes(head[..8].try_into().unwrap_or_default());
        let sum = u64::from_le_bytes(head[8..].try_into().unwrap_or_default());
        if len > max.min(self.left) || len % size != 0 {
            return Err(self.damaged(format!("{what}: length {len} (expected at most {max}, {} left)", self.left)));
        }
        let pos = self.skip(len)?;
        Ok((pos, len, sum))
    }

    /// A section's body, checked against its checksum.
    fn fetch<T: bytemuck::Pod>(&self, p: Pending<T>) -> Result<Vec<T>, LoadError> {
        let mut values: Vec<T> = vec![T::zeroed(); p.count];
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut values);
        self.read_at(p.pos, bytes)?;
        if xxh3_64(bytes) != p.sum {
            return Err(self.damaged(format!("{}: checksum mismatch", p.what)));
        }
        Ok(values)
    }

    /// A section of at most `max` bytes, a whole number of `T`s, read now.
    fn section<T: bytemuck::Pod>(&mut self, what: &'static str, max: u64, size: u64) -> Result<Vec<T>, LoadError> {
        let (pos, len, sum) = self.header(what, max, size)?;
        self.fetch(Pending { what, pos, count: (len / size) as usize, sum, kind: std::marker::PhantomData })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::LocalLabels;
    use heapscope_cpython::heap::roots::{FrameSlot, RootKind, RootWhere};
    use heapscope_cpython::heap::RefKind;
    use heapscope_cpython::ReleaseLevel;

    fn identity(digest: &str) -> CoreIdentity {
        CoreIdentity { path: "/cores/core.1".into(), size: 4096, mtime_ns: 7, digest: digest.into() }
    }

    /// A small snapshot with every kind of label, root and column value.
    fn sample() -> Snapshot {
        let labels = [
            Label::Index(3),
            Label::DictKey,
            Label::DictValue { key: Addr(0x1000) },
            Label::Attr { name: Addr(0x1010) },
            Label::Slot(24),
            Label::Field("tp_mro"),
            Label::Cell,
            Label::Local { name: Addr(0x1020), index: 2 },
            Label::Stack(1),
            Label::ModuleState(8),
            Label::Word(16),
            Label::Field("ob_type"),
        ];
        let mut local = LocalLabels::default();
        let kinds = [RefKind::Traverse, RefKind::Hidden, RefKind::Weak, RefKind::Conservative];
        let edges: Vec<(u32, u32, EdgeWord)> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| (i as u32 % 4, (i as u32 + 1) % 4, EdgeWord::encode(kinds[i % 4], l, &mut local)))
            .collect();
        let mut table = LabelTable::default();
        let map = table.merge(&local);
        let (graph, words) = Csr::from_adjacency_with(4, |u, out| {
            out.extend(edges.iter().filter(|e| e.0 == u).map(|&(_, t, w)| (t, w.renumbered(&map))));
        })
        .unwrap();
        Snapshot {
            version: PythonVersion { major: 3, minor: 12, micro: 1, level: ReleaseLevel::Final, serial: 0 },
            index: AddrIndex::new(vec![0x1000, 0x1010, 0x1020, 0x2000]),
            type_ids: vec![0, 1, NO_TYPE, 0],
            sizes: vec![50, 56, 0, 64],
            footprints: vec![64, 64, 0, 80],
            refcounts: vec![1, -3, 0, 1 << 32],
            lens: vec![5, super::super::NO_LEN, 0, 2],
            flags: vec![0xff, 0, 4, 1],
            generations: vec![0, 2, 255, 3],
            categories: vec![Category::GcClosure, Category::WeakOnly, Category::Unreferenced, Category::CRoot],
            graph,
            edges: words,
            labels: table,
            reverse: Default::default(),
            roots_by_id: Default::default(),
            types: vec![
                TypeRecord {
                    addr: Addr(0x2000),
                    name: "str".into(),
                    name_error: None,
                    finalizer: false,
                    legacy_del: false,
                },
                TypeRecord {
                    addr: Addr(0x3000),
                    name: "<type at 0x3000>".into(),
                    name_error: Some("not in core".into()),
                    finalizer: true,
                    legacy_del: true,
                },
            ],
            roots: vec![
                SnapshotRoot { id: 0, kind: RootKind::StaticType, at: RootWhere::Symbol("PyUnicode_Type") },
                SnapshotRoot {
                    id: 3,
                    kind: RootKind::FrameRef,
                    at: RootWhere::Frame { frame: Addr(9), ident: 1, depth: 0, slot: FrameSlot::Field("code") },
                },
                SnapshotRoot { id: 1, kind: RootKind::CStack, at: RootWhere::CStack { tid: 5, addr: None } },
            ],
            interpreters: vec![Addr(0x9000)],
            errors: ErrorLog { objects: 1, other: 2, first: vec![(Addr(0x1020), "unreadable".into())] },
            warnings: vec!["a warning".into()],
            stats: BuildStats { gc_objects: 2, rounds: 3, ..BuildStats::default() },
        }
    }

    fn saved(s: &Snapshot, id: &CoreIdentity) -> Vec<u8> {
        let mut out = Vec::new();
        s.write_to(id, &mut out).unwrap();
        out
    }

    fn load_bytes(bytes: &[u8], id: &CoreIdentity) -> Result<Snapshot, LoadError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snap");
        std::fs::write(&path, bytes).unwrap();
        Snapshot::load(&path, id).map(|(s, _)| s)
    }

    fn assert_same(a: &Snapshot, b: &Snapshot) {
        assert_eq!(a.len(), b.len());
        assert_eq!(a.version(), b.version());
        for id in 0..a.len() as u32 {
            assert_eq!(a.object(id), b.object(id));
            assert_eq!(a.generation(id), b.generation(id));
            assert_eq!(a.refs(id).collect::<Vec<_>>(), b.refs(id).collect::<Vec<_>>());
            assert_eq!(a.referrers(id).collect::<Vec<_>>(), b.referrers(id).collect::<Vec<_>>());
        }
        assert_eq!(a.id_of(Addr(0x1020)), b.id_of(Addr(0x1020)));
        assert_eq!(a.types(), b.types());
        assert_eq!(a.roots(), b.roots());
        assert_eq!(a.interpreters(), b.interpreters());
        assert_eq!(a.errors(), b.errors());
        assert_eq!(a.warnings(), b.warnings());
        assert_eq!(a.stats(), b.stats());
    }

    #[test]
    fn roots_of_lists_each_objects_roots_in_the_order_found() {
        let mut s = sample();
        let extra = [(3, 7), (0, 8), (3, 9), (2, 10)];
        for (id, tid) in extra {
            s.roots.push(SnapshotRoot { id, kind: RootKind::CStack, at: RootWhere::CStack { tid, addr: None } });
        }
        for id in 0..5 {
            let want: Vec<&SnapshotRoot> = s.roots().iter().filter(|r| r.id == id).collect();
            assert_eq!(s.roots_of(id).collect::<Vec<_>>(), want, "object {id}");
        }
        assert_eq!(s.roots_of(3).count(), 3);
    }

    #[test]
    fn categories_are_stored_by_their_position_in_all() {
        for (i, c) in Category::ALL.iter().enumerate() {
            assert_eq!(*c as usize, i);
        }
    }

    #[test]
    fn a_saved_snapshot_reads_back_equal() {
        let s = sample();
        let id = identity("00112233445566778899aabbccddeeff");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("core.1.heapscope");
        s.save(&id, &path).unwrap();
        let (back, info) = Snapshot::load(&path, &id).unwrap();
        assert_same(&s, &back);
        assert_eq!(info.identity, id);
        assert_eq!((info.objects, info.refs), (4, 12));
        // A copy of the core elsewhere, with another time, is the same core.
        let moved = CoreIdentity { path: "/elsewhere/core".into(), mtime_ns: 99, ..id.clone() };
        assert_same(&s, &Snapshot::load(&path, &moved).unwrap().0);
    }

    #[test]
    fn another_core_or_format_is_refused() {
        let s = sample();
        let bytes = saved(&s, &identity("00112233445566778899aabbccddeeff"));
        let other = identity("ffeeddccbbaa99887766554433221100");
        assert!(matches!(load_bytes(&bytes, &other), Err(LoadError::OtherCore { .. })));
        let bigger = CoreIdentity { size: 4097, ..identity("00112233445566778899aabbccddeeff") };
        assert!(matches!(load_bytes(&bytes, &bigger), Err(LoadError::OtherCore { .. })));
        let mut other_format = bytes.clone();
        other_format[16] = FORMAT_VERSION as u8 + 1;
        let next = FORMAT_VERSION + 1;
        assert!(matches!(load_bytes(&other_format, &other), Err(LoadError::Version { found, .. }) if found == next));
        assert!(matches!(load_bytes(b"\x7fELF", &other), Err(LoadError::NotASnapshot { .. })));
    }

    #[test]
    fn every_truncation_and_every_flipped_byte_is_detected() {
        let s = sample();
        let id = identity("00112233445566778899aabbccddeeff");
        let bytes = saved(&s, &id);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snap");
        for len in 0..bytes.len() {
            std::fs::write(&path, &bytes[..len]).unwrap();
            assert!(Snapshot::load(&path, &id).is_err(), "truncated to {len} of {} bytes", bytes.len());
        }
        let mut longer = bytes.clone();
        longer.push(0);
        std::fs::write(&path, &longer).unwrap();
        assert!(matches!(Snapshot::load(&path, &id), Err(LoadError::Damaged { .. })));
        for at in 0..bytes.len() {
            for bit in [0x01u8, 0x80].into_iter().skip(at % 2).take(1) {
                let mut flipped = bytes.clone();
                flipped[at] ^= bit;
                std::fs::write(&path, &flipped).unwrap();
                assert!(Snapshot::load(&path, &id).is_err(), "bit {bit:#x} of byte {at} flipped");
            }
        }
    }

    #[test]
    fn checksummed_nonsense_is_refused_not_trusted() {
        // A file whose checksums are right but whose addresses are not ascending (as a crafted file could be).
        let mut s = sample();
        s.index = AddrIndex::unchecked(vec![0x2000, 0x1000, 0x1020, 0x3000]);
        let id = identity("00112233445566778899aabbccddeeff");
        let err = load_bytes(&saved(&s, &id), &id).expect_err("refused");
        assert!(err.to_string().contains("addresses not ascending"), "{err}");
    }
}
