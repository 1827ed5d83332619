//! [`CoreProcess`]: a core file plus the binaries it mapped — the process image every analysis reads.
//!
//! Groups the core's `NT_FILE` entries into ELF objects, reads each object's build-id and dynamic symbols from the
//! process's own copy in memory, and supplies pages the core omits from the mapped file on disk — but only from a
//! file whose GNU build-id equals the one the process had loaded.

use std::borrow::Cow;
use std::collections::hash_map::{Entry, HashMap};
use std::path::{Path, PathBuf};

use crate::core::CoreFile;
use crate::elf::{build_id_hex, DiskElf, LoadSegment, MappedElf};
use crate::identity::CoreIdentity;
use crate::image::{BytesSource, LoadedObject, ObjectMapping, ProcessImage, Range, SymbolRef};
use crate::{Addr, Error, Memory, ReadError};

/// `AT_PHDR`: address of the executable's program headers.
const AT_PHDR: u64 = 3;
/// `AT_ENTRY`: the executable's entry point.
const AT_ENTRY: u64 = 9;
/// `AT_EXECFN`: address of the executable's path string.
const AT_EXECFN: u64 = 31;
/// `AT_SYSINFO_EHDR`: address of the vDSO's ELF header.
const AT_SYSINFO_EHDR: u64 = 33;

/// Where to look for the files a core's process had mapped.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// Stands for the dumped machine's `/`: `/usr/lib/x.so` is looked for at `sysroot/usr/lib/x.so`. `None` means
    /// the paths as they are on this machine.
    pub sysroot: Option<PathBuf>,
    /// Directories searched by file name when the file is not under the sysroot.
    pub search_paths: Vec<PathBuf>,
}

/// A file-backed range whose bytes come from a file on disk.
#[derive(Debug)]
struct Fallback {
    range: Range,
    file_offset: u64,
    disk: usize,
}

/// A core file with its file-backed fallback; implements [`ProcessImage`].
#[derive(Debug)]
pub struct CoreProcess {
    core: CoreFile,
    file_size: u64,
    objects: Vec<LoadedObject>,
    /// The in-memory ELF image of each object, when its headers could be read.
    elves: Vec<Option<MappedElf>>,
    /// Files on disk whose build-ids matched.
    disks: Vec<DiskElf>,
    /// For each object, the index into `disks` of its file.
    object_disk: Vec<Option<usize>>,
    /// Sorted by address.
    fallbacks: Vec<Fallback>,
    warnings: Vec<String>,
}

impl CoreProcess {
    /// Opens a core (plain or compressed) and locates the files it mapped.
    pub fn open(path: &Path, opts: &OpenOptions) -> Result<CoreProcess, Error> {
        let file_size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let core = CoreFile::open(path)?;
        Ok(Self::from_core(core, file_size, opts))
    }

    /// Builds the process image of an already opened core.
    pub fn from_core(core: CoreFile, file_size: u64, opts: &OpenOptions) -> CoreProcess {
        let mut warnings: Vec<String> = core.warnings().to_vec();
        let mut objects = Vec::new();
        let mut disks = Vec::new();
        let mut object_disk = Vec::new();
        let mut fallbacks = Vec::new();
        let mut missing = Vec::new();

        for (path, mappings) in group_mappings(&core) {
            let header = mappings.iter().find(|m| m.file_offset == 0).map(|m| m.range.start);
            let in_core = header.and_then(|h| MappedElf::parse(&core, h).ok());
            if in_core.is_none() && !looks_like_elf(&core, &path, header, &mappings, opts) {
                continue; // a data file (locale archive, font cache, …), not an object
            }
            let mut mappings = mappings;
            if let Some(e) = &in_core {
                fill_flags_from_headers(&core, &mut mappings, e.segments());
            }
            let build_id = in_core.as_ref().and_then(|e| e.build_id()).map(<[u8]>::to_vec);
            let omitted = mappings.iter().any(|m| has_omitted_bytes(&core, m.range));
            let mut source = BytesSource::Core;
            let mut disk_path = None;
            let mut disk_index = None;
            if omitted {
                match find_disk_file(&path, build_id.as_deref(), opts, &mut warnings) {
                    Some(disk) => {
                        source = BytesSource::Disk;
                        disk_path = Some(disk.path().to_path_buf());
                        disk_index = Some(disks.len());
                        for m in &mappings {
                            fallbacks.push(Fallback { range: m.range, file_offset: m.file_offset, disk: disks.len() });
                        }
                        disks.push(disk);
                    }
                    None => {
                        source = BytesSource::Missing;
                        missing.push(path.clone());
                    }
                }
            }
            let bias = match (&in_core, header, disk_index) {
                (Some(e), _, _) => e.load_bias(),
                (None, Some(h), Some(d)) => disks[d].load_bias(h).unwrap_or(0),
                _ => 0,
            };
            if let (None, Some(d)) = (&in_core, disk_index) {
                fill_flags_from_headers(&core, &mut mappings, disks[d].segments());
            }
            let data_segments = match (&in_core, disk_index) {
                (Some(e), _) => writable_ranges(e.segments(), bias),
                (None, Some(d)) => writable_ranges(disks[d].segments(), bias),
                _ => Vec::new(),
            };
            objects.push(LoadedObject { path, mappings, header, bias, data_segments, build_id, disk_path, source });
            object_disk.push(disk_index);
        }
        if let Some(vdso) = core.auxv_value(AT_SYSINFO_EHDR).map(Addr).filter(|a| !a.is_null()) {
            if let Some(obj) = vdso_object(&core, vdso) {
                objects.push(obj);
                object_disk.push(None);
            }
        }
        if !missing.is_empty() {
            warnings.push(missing_files_warning(&missing, opts));
        }
        fallbacks.sort_by_key(|f| f.range.start);
        let mut process =
            CoreProcess { core, file_size, objects, elves: Vec::new(), disks, object_disk, fallbacks, warnings };
        // Parse each object again through the full image, so its dynamic symbols can come from disk when omitted.
        let elves = process.objects.iter().map(|o| o.header.and_then(|h| MappedElf::parse(&process, h).ok())).collect();
        process.elves = elves;
        process
    }

    /// The core file.
    pub fn core(&self) -> &CoreFile {
        &self.core
    }

    /// The identity of the core ([`CoreIdentity`]): what a saved snapshot of it must match.
    pub fn identity(&self) -> CoreIdentity {
        let ids: Vec<&[u8]> = self.objects.iter().filter_map(|o| o.build_id.as_deref()).collect();
        CoreIdentity::of(&self.core, self.core.path(), &ids)
    }

    /// Size of the core file as given (compressed size for a compressed core).
    pub fn file_size(&self) -> u64 {
        self.file_size
    }

    /// Problems met while opening: truncation, files missing or with another build-id.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The executable's path: the path `NT_FILE` records for the object that holds the program's entry point
    /// (`AT_ENTRY`) or program headers (`AT_PHDR`); else `AT_EXECFN`, the path as given to `execve` (relative when
    /// the process was started as `./python`); else the first mapped object.
    pub fn executable(&self) -> Option<String> {
        let mapped = [AT_ENTRY, AT_PHDR]
            .into_iter()
            .filter_map(|key| self.core.auxv_value(key))
            .find_map(|a| self.objects.iter().find(|o| o.path.is_absolute() && o.contains(Addr(a))));
        if let Some(object) = mapped {
            return Some(object.path.display().to_string());
        }
        let from_auxv = self
            .core
            .auxv_value(AT_EXECFN)
            .and_then(|a| self.read_cstr(Addr(a), 4096).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        from_auxv.or_else(|| self.objects.first().map(|o| o.path.display().to_string()))
    }

    /// Reads a range that is not entirely in the core: core bytes from the core, omitted file-backed bytes from the
    /// matching file on disk, run by run.
    fn read_slow(&self, addr: Addr, buf: &mut [u8]) -> Result<(), ReadError> {
        let len = buf.len() as u64;
        let mut done = 0usize;
        while done < buf.len() {
            let pos = addr.checked_add(done as u64).ok_or(ReadError::Overflow { addr, len })?;
            let rest = buf.len() - done;
            let (run_end, omitted) = self.omitted_run(pos);
            let n = if !omitted {
                let n = usize::try_from(run_end.0 - pos.0).unwrap_or(usize::MAX).min(rest);
                self.core.read_into(pos, &mut buf[done..done + n])?;
                n
            } else {
                let not_in_core = || match self.core.mapped_file(pos) {
                    _ if self.core.is_cut(pos) => ReadError::Truncated { addr: pos },
                    Some(m) => ReadError::NotInCore { addr: pos, mapping: Some(m.path.clone()) },
                    None if self.core.segment_at(pos).is_some() => ReadError::NotInCore { addr: pos, mapping: None },
                    None => ReadError::Unmapped { addr: pos },
                };
                let fb = self.fallback_at(pos).ok_or_else(not_in_core)?;
                let end = run_end.min(fb.range.end);
                let n = usize::try_from(end.0 - pos.0).unwrap_or(usize::MAX).min(rest);
                let offset = fb.file_offset.checked_add(pos.0 - fb.range.start.0).ok_or_else(not_in_core)?;
                let bytes = self.disks[fb.disk].bytes_at(offset, n).ok_or_else(not_in_core)?;
                buf[done..done + n].copy_from_slice(bytes);
                n
            };
            if n == 0 {
                return Err(ReadError::Unmapped { addr: pos });
            }
            done += n;
        }
        Ok(())
    }

    /// From `addr`: the end of the run of bytes with the same answer, and whether they are omitted from the core
    /// (true) or in it (false). Addresses in no segment count as omitted up to the next segment.
    fn omitted_run(&self, addr: Addr) -> (Addr, bool) {
        match self.core.segment_at(addr) {
            Some(seg) if addr < seg.dumped_end() => (seg.dumped_end(), false),
            Some(seg) => (seg.end(), true),
            None => {
                let segs = self.core.segments();
                let next = segs.partition_point(|s| s.vaddr <= addr);
                (segs.get(next).map_or(Addr(u64::MAX), |s| s.vaddr), true)
            }
        }
    }

    fn fallback_at(&self, addr: Addr) -> Option<&Fallback> {
        let i = self.fallbacks.partition_point(|f| f.range.start <= addr);
        self.fallbacks[..i].last().filter(|f| f.range.contains(addr))
    }
}

impl CoreProcess {
    /// [`CoreFile`]'s fast path (the core holds the bytes); the slow path reads files on disk.
    #[inline]
    fn fixed<const N: usize>(&self, addr: u64) -> Option<[u8; N]> {
        self.core.fixed::<N>(addr)
    }
}

impl Memory for CoreProcess {
    crate::core::fixed_reads!(fixed);

    fn read_into(&self, addr: Addr, buf: &mut [u8]) -> Result<(), ReadError> {
        match self.core.read_into(addr, buf) {
            Ok(()) => Ok(()),
            Err(ReadError::NotInCore { .. } | ReadError::Truncated { .. } | ReadError::Unmapped { .. }) => {
                self.read_slow(addr, buf)
            }
            Err(e) => Err(e),
        }
    }

    fn bytes(&self, addr: Addr, len: usize) -> Result<Cow<'_, [u8]>, ReadError> {
        match self.core.bytes(addr, len) {
            Err(ReadError::NotInCore { .. } | ReadError::Truncated { .. } | ReadError::Unmapped { .. }) => {
                // Borrow from the file when the whole range is omitted and inside one file mapping.
                if let (Some(fb), Some(seg)) = (self.fallback_at(addr), self.core.segment_at(addr)) {
                    let end = addr.checked_add(len as u64);
                    let within = end.is_some_and(|e| e <= fb.range.end && e <= seg.end());
                    let offset = fb.file_offset.checked_add(addr.0 - fb.range.start.0);
                    if let (true, Some(offset)) = (within && addr >= seg.dumped_end(), offset) {
                        if let Some(b) = self.disks[fb.disk].bytes_at(offset, len) {
                            return Ok(Cow::Borrowed(b));
                        }
                    }
                }
                let mut v = vec![0u8; len];
                self.read_slow(addr, &mut v)?;
                Ok(Cow::Owned(v))
            }
            other => other,
        }
    }
}

impl ProcessImage for CoreProcess {
    fn objects(&self) -> &[LoadedObject] {
        &self.objects
    }

    fn symbol(&self, name: &str) -> Option<SymbolRef> {
        (0..self.objects.len())
            .find_map(|i| self.dynamic_symbol(i, name))
            .or_else(|| (0..self.objects.len()).find_map(|i| self.file_symbol(i, name)))
    }

    fn symbol_in(&self, object: usize, name: &str) -> Option<SymbolRef> {
        self.dynamic_symbol(object, name).or_else(|| self.file_symbol(object, name))
    }

    fn cut(&self) -> &[Range] {
        self.core.cut()
    }
}

impl CoreProcess {
    fn dynamic_symbol(&self, object: usize, name: &str) -> Option<SymbolRef> {
        let elf = self.elves.get(object)?.as_ref()?;
        let sym = elf.lookup(self, name).ok()??;
        Some(SymbolRef { addr: sym.addr, size: sym.size, object })
    }

    fn file_symbol(&self, object: usize, name: &str) -> Option<SymbolRef> {
        let disk = &self.disks[(*self.object_disk.get(object)?)?];
        let sym = disk.lookup(name)?.relocated(self.objects[object].bias);
        Some(SymbolRef { addr: sym.addr, size: sym.size, object })
    }
}

/// The core's `NT_FILE` entries grouped by path, in address order, with each mapping's permissions. Groups are in the
/// order of their first mapping; one hash lookup per entry keeps this linear in the number of entries.
fn group_mappings(core: &CoreFile) -> Vec<(PathBuf, Vec<ObjectMapping>)> {
    let mut groups: Vec<(PathBuf, Vec<ObjectMapping>)> = Vec::new();
    let mut by_path: HashMap<&Path, usize> = HashMap::new();
    // `mapped_files` is sorted by start address.
    for f in core.mapped_files() {
        let seg = core.segment_at(f.start);
        let mapping = ObjectMapping {
            range: Range { start: f.start, end: f.end },
            file_offset: f.file_offset,
            executable: seg.is_some_and(|s| s.executable),
            writable: seg.is_some_and(|s| s.writable),
        };
        match by_path.entry(f.path.as_path()) {
            Entry::Occupied(e) => groups[*e.get()].1.push(mapping),
            Entry::Vacant(e) => {
                e.insert(groups.len());
                groups.push((f.path.clone(), vec![mapping]));
            }
        }
    }
    groups
}

/// True if any byte of the mapped `range` is not in the core: past a segment's dumped bytes, or in no segment at all
/// (gdb writes no `PT_LOAD` for a file mapping it does not dump; `NT_FILE` still lists it).
fn has_omitted_bytes(core: &CoreFile, range: Range) -> bool {
    let mut cursor = range.start;
    // Segments are sorted and disjoint: start at the first that ends after `range.start`, stop at `range.end`.
    let segs = core.segments();
    let first = segs.partition_point(|s| s.end() <= range.start);
    for s in segs[first..].iter().take_while(|s| s.vaddr < range.end) {
        if s.vaddr > cursor || s.dumped_end() < s.end().min(range.end) {
            return true;
        }
        cursor = cursor.max(s.end());
    }
    cursor < range.end
}

/// Permissions of mappings the core has no segment for (gdb omits them), from the object's program headers: the
/// `PT_LOAD` whose file range holds the mapping's file offset.
fn fill_flags_from_headers(core: &CoreFile, mappings: &mut [ObjectMapping], segments: &[LoadSegment]) {
    const PF_X: u32 = 1;
    const PF_W: u32 = 2;
    let page = |v: u64| v & !0xfff;
    for m in mappings.iter_mut().filter(|m| core.segment_at(m.range.start).is_none()) {
        let covering = segments
            .iter()
            .find(|s| page(s.offset) <= m.file_offset && m.file_offset < s.offset.saturating_add(s.filesz.max(1)));
        if let Some(seg) = covering {
            m.executable = seg.flags & PF_X != 0;
            m.writable = seg.flags & PF_W != 0;
        }
    }
}

/// Relocated ranges of the writable `PT_LOAD` segments.
fn writable_ranges(segments: &[LoadSegment], bias: u64) -> Vec<Range> {
    const PF_W: u32 = 2;
    segments
        .iter()
        .filter(|s| s.flags & PF_W != 0)
        .map(|s| {
            let start = Addr(s.vaddr.wrapping_add(bias));
            Range { start, end: start.wrapping_add(s.memsz) }
        })
        .collect()
}

/// Whether a file mapping whose header the core does not hold is an ELF object: executable mappings are code; else
/// ask the file on disk.
fn looks_like_elf(
    core: &CoreFile,
    path: &Path,
    header: Option<Addr>,
    mappings: &[ObjectMapping],
    opts: &OpenOptions,
) -> bool {
    if let Some(h) = header {
        let mut magic = [0u8; 4];
        if core.read_into(h, &mut magic).is_ok() {
            return &magic == b"\x7fELF";
        }
    }
    mappings.iter().any(|m| m.executable)
        || candidates(path, opts).iter().any(|c| {
            let mut magic = [0u8; 4];
            std::fs::File::open(c).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic)).is_ok()
                && &magic == b"\x7fELF"
        })
}

/// Where a mapped file may be on this machine: under the sysroot (or at its own path), then in each search path.
fn candidates(path: &Path, opts: &OpenOptions) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let relative = path.strip_prefix("/").unwrap_or(path);
    match &opts.sysroot {
        Some(root) => out.push(root.join(relative)),
        None => out.push(path.to_path_buf()),
    }
    if let Some(name) = path.file_name() {
        out.extend(opts.search_paths.iter().map(|d| d.join(name)));
    }
    out
}

/// The first candidate file whose build-id matches the one the process had loaded.
fn find_disk_file(
    path: &Path,
    build_id: Option<&[u8]>,
    opts: &OpenOptions,
    warnings: &mut Vec<String>,
) -> Option<DiskElf> {
    for cand in candidates(path, opts) {
        if !cand.is_file() {
            continue;
        }
        let disk = match DiskElf::open(&cand) {
            Ok(d) => d,
            Err(e) => {
                warnings.push(format!("ignoring {}: {e}", cand.display()));
                continue;
            }
        };
        match (build_id, disk.build_id()) {
            (Some(want), Some(have)) if want == have => return Some(disk),
            (Some(want), have) => warnings.push(format!(
                "ignoring {}: its build-id {} differs from the build-id {} of {} in the core; \
                 point --sysroot or --search-path at the exact binaries the process ran",
                cand.display(),
                have.map(build_id_hex).unwrap_or_else(|| "(none)".into()),
                build_id_hex(want),
                path.display()
            )),
            (None, _) => {
                warnings.push(format!(
                    "using {} for {} unverified: the core does not hold that object's ELF header, so its build-id \
                     cannot be compared",
                    cand.display(),
                    path.display()
                ));
                return Some(disk);
            }
        }
    }
    None
}

fn missing_files_warning(missing: &[PathBuf], opts: &OpenOptions) -> String {
    const SHOWN: usize = 20;
    let mut names: Vec<String> = missing.iter().take(SHOWN).map(|p| p.display().to_string()).collect();
    if missing.len() > SHOWN {
        names.push(format!("and {} more", missing.len() - SHOWN));
    }
    let looked = match &opts.sysroot {
        Some(root) => format!("under sysroot {}", root.display()),
        None => "at their recorded paths".into(),
    };
    format!(
        "{} mapped file(s) have bytes the core omits and no matching file was found {looked}{}: {}; \
         pass --sysroot DIR (a copy of the dumped machine's root) or --search-path DIR if those bytes are needed",
        missing.len(),
        if opts.search_paths.is_empty() { "" } else { " or in the search paths" },
        names.join(", ")
    )
}

/// The vDSO, which has no `NT_FILE` entry: its ELF image is found through the auxiliary vector.
fn vdso_object(core: &CoreFile, header: Addr) -> Option<LoadedObject> {
    let elf = MappedElf::parse(core, header).ok()?;
    let seg = core.segment_at(header)?;
    Some(LoadedObject {
        path: PathBuf::from("[vdso]"),
        mappings: vec![ObjectMapping {
            range: Range { start: seg.vaddr, end: seg.end() },
            file_offset: 0,
            executable: seg.executable,
            writable: seg.writable,
        }],
        header: Some(header),
        bias: elf.load_bias(),
        data_segments: writable_ranges(elf.segments(), elf.load_bias()),
        build_id: elf.build_id().map(<[u8]>::to_vec),
        disk_path: None,
        source: if has_omitted_bytes(core, Range { start: seg.vaddr, end: seg.end() }) {
            BytesSource::Missing
        } else {
            BytesSource::Core
        },
    })
}
