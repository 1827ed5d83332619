//! `heapscope info`: what a core file is — the process, its threads, its mapped objects, and the interpreter.

use std::io::{self, Write};

use heapscope_coredump::{Addr, BytesSource, CoreFile, CoreProcess, ProcessImage, Range};
use heapscope_cpython::layout::Unverified;
use heapscope_cpython::Detection;
use serde::Serialize;

use crate::format::human_bytes;
use crate::layout::LayoutReport;
use crate::report::Report;
use crate::Table;

/// Everything `info` reports.
#[derive(Debug, Serialize)]
pub struct InfoReport {
    /// The core file.
    pub file: FileSection,
    /// The process that was dumped.
    pub process: ProcessSection,
    /// One entry per thread (NT_PRSTATUS), in the core's order.
    pub threads: Vec<ThreadRow>,
    /// Mapped ELF objects.
    pub objects: Vec<ObjectRow>,
    /// The interpreter, when one was found.
    pub python: Option<Detection>,
    /// Why no interpreter was found, when none was.
    pub python_error: Option<String>,
    /// Problems met while opening the core.
    pub warnings: Vec<String>,
    /// Set when heapscope has no layout table for this Python version: what stood in for it, and that the results
    /// are unverified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unverified_version: Option<Unverified>,
    /// The interpreter's struct layout, when asked for (`info --layout`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layout: Option<LayoutReport>,
}

/// The core file itself.
#[derive(Debug, Serialize)]
pub struct FileSection {
    /// Path as given.
    pub path: String,
    /// Bytes on disk.
    pub size: u64,
    /// Compression format, if the file was compressed.
    pub compression: Option<String>,
    /// Size after decompression.
    pub uncompressed_size: u64,
}

/// The dumped process.
#[derive(Debug, Serialize)]
pub struct ProcessSection {
    /// Process id.
    pub pid: Option<i64>,
    /// Parent process id.
    pub ppid: Option<i64>,
    /// Command line as the kernel recorded it (first 80 bytes).
    pub command_line: Option<String>,
    /// The executable (AT_EXECFN, else the first mapped file).
    pub executable: Option<String>,
}

/// One thread.
#[derive(Debug, Serialize)]
pub struct ThreadRow {
    /// Kernel thread id.
    pub tid: u32,
    /// Pending signal (0 for a gcore'd process).
    pub signal: u16,
}

/// One mapped ELF object.
#[derive(Debug, Serialize)]
pub struct ObjectRow {
    /// Path as the process saw it.
    pub path: String,
    /// Lowest mapped address.
    pub start: Addr,
    /// One past the highest address of the object, its `.bss` included (which `NT_FILE` does not list).
    pub end: Addr,
    /// GNU build-id (hex) from the process's copy of the ELF headers.
    pub build_id: Option<String>,
    /// Where the object's bytes come from: `core` (all of them), `disk` (what the core omits, from the file on
    /// disk), `partial` (the core holds some, the rest is missing), `missing` (the core holds none).
    pub bytes: ObjectBytes,
    /// Bytes of the object's mappings (its `.bss` tail not included).
    pub mapped_bytes: u64,
    /// How many of them the core holds.
    pub bytes_in_core: u64,
    /// The file on disk that supplies bytes missing from the core.
    pub disk_path: Option<String>,
}

/// Where a mapped object's bytes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectBytes {
    /// The core holds every mapped byte.
    Core,
    /// The core omits some bytes, and the file on disk with a matching build-id supplies them.
    Disk,
    /// The core holds some bytes (often the first page, with the ELF header); the rest is missing.
    Partial,
    /// The core holds none of the bytes, and no file supplies them.
    Missing,
}

impl ObjectBytes {
    fn of(source: BytesSource, in_core: u64) -> ObjectBytes {
        match source {
            BytesSource::Core => ObjectBytes::Core,
            BytesSource::Disk => ObjectBytes::Disk,
            BytesSource::Missing if in_core > 0 => ObjectBytes::Partial,
            _ => ObjectBytes::Missing,
        }
    }
}

/// How many bytes of `range` the core holds. The segments are sorted and do not overlap.
fn bytes_in_core(core: &CoreFile, range: Range) -> u64 {
    let segments = core.segments();
    let first = segments.partition_point(|s| s.end() <= range.start);
    segments[first..]
        .iter()
        .take_while(|s| s.vaddr < range.end)
        .map(|s| s.dumped_end().min(range.end).0.saturating_sub(s.vaddr.max(range.start).0))
        .fold(0, u64::saturating_add)
}

impl InfoReport {
    /// Gathers the report from an opened core and the result of interpreter detection.
    pub fn collect(p: &CoreProcess, python: Result<Detection, heapscope_cpython::Error>) -> InfoReport {
        let core = p.core();
        let info = core.process();
        let (python, python_error) = match python {
            Ok(d) => (Some(d), None),
            Err(e) => (None, Some(e.to_string())),
        };
        InfoReport {
            file: FileSection {
                path: core.path().display().to_string(),
                size: p.file_size(),
                compression: core.compression().map(|c| c.to_string()),
                uncompressed_size: core.file_len(),
            },
            process: ProcessSection {
                pid: info.map(|i| i64::from(i.pid)),
                ppid: info.map(|i| i64::from(i.ppid)),
                command_line: info.map(|i| i.psargs.clone()).filter(|s| !s.is_empty()),
                executable: p.executable(),
            },
            threads: core.threads().iter().map(|t| ThreadRow { tid: t.tid, signal: t.signal }).collect(),
            objects: p
                .objects()
                .iter()
                .map(|o| {
                    let in_core = o.mappings.iter().map(|m| bytes_in_core(core, m.range)).fold(0, u64::saturating_add);
                    ObjectRow {
                        path: o.path.display().to_string(),
                        start: o.mappings.first().map(|m| m.range.start).unwrap_or_default(),
                        end: o
                            .mappings
                            .iter()
                            .map(|m| m.range.end)
                            .chain(o.data_segments.iter().map(|r| r.end))
                            .max()
                            .unwrap_or_default(),
                        build_id: o.build_id.as_deref().map(heapscope_coredump::build_id_hex),
                        bytes: ObjectBytes::of(o.source, in_core),
                        mapped_bytes: o.mappings.iter().map(|m| m.range.len()).fold(0, u64::saturating_add),
                        bytes_in_core: in_core,
                        disk_path: o.disk_path.as_ref().map(|d| d.display().to_string()),
                    }
                })
                .collect(),
            python,
            python_error,
            warnings: p.warnings().to_vec(),
            unverified_version: None,
            layout: None,
        }
    }
}

impl InfoReport {
    /// Every warning: those met opening the core, then those of finding the interpreter. The JSON report holds them;
    /// the table does not (the binary prints them on stderr).
    pub fn all_warnings(&self) -> impl Iterator<Item = &String> {
        self.warnings.iter().chain(self.python.iter().flat_map(|d| d.warnings.iter()))
    }
}

impl Report for InfoReport {
    /// Writes the report for a person.
    fn write_table(&self, w: &mut dyn Write) -> io::Result<()> {
        let f = &self.file;
        match &f.compression {
            Some(c) => writeln!(w, "file:        {} ({c}, {} bytes uncompressed)", f.path, f.uncompressed_size)?,
            None => writeln!(w, "file:        {} ({} bytes)", f.path, f.size)?,
        }
        let pr = &self.process;
        let opt = |v: Option<i64>| v.map_or_else(|| "?".to_string(), |v| v.to_string());
        writeln!(w, "process:     pid {}, parent {}", opt(pr.pid), opt(pr.ppid))?;
        if let Some(cmd) = &pr.command_line {
            writeln!(w, "command:     {cmd}")?;
        }
        if let Some(exe) = &pr.executable {
            writeln!(w, "executable:  {exe}")?;
        }
        match (&self.python, &self.python_error) {
            (Some(d), _) => {
                writeln!(w, "python:      {} (from {})", d.version, d.version_source)?;
                writeln!(w, "_PyRuntime:  {} (from {})", d.runtime, d.runtime_source)?;
            }
            (None, Some(e)) => writeln!(w, "python:      not found: {e}")?,
            (None, None) => {}
        }
        let tids: Vec<String> = self.threads.iter().map(|t| t.tid.to_string()).collect();
        writeln!(w, "threads:     {} ({})", self.threads.len(), tids.join(" "))?;
        writeln!(w)?;
        let mut t = Table::new(["START", "END", "BYTES", "BUILD-ID", "OBJECT"]);
        for o in &self.objects {
            let bytes = match (&o.bytes, &o.disk_path) {
                (ObjectBytes::Disk, Some(d)) => format!("disk:{d}"),
                (ObjectBytes::Partial, _) => {
                    format!("partial: {} of {} in core", human_bytes(o.bytes_in_core), human_bytes(o.mapped_bytes))
                }
                (b, _) => serde_json::to_value(b).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default(),
            };
            t.row([
                o.start.to_string(),
                o.end.to_string(),
                bytes,
                o.build_id.clone().unwrap_or_else(|| "-".into()),
                o.path.clone(),
            ]);
        }
        t.write(w)?;
        if let Some(layout) = &self.layout {
            writeln!(w)?;
            layout.write_table(w)?;
        }
        Ok(())
    }
}
