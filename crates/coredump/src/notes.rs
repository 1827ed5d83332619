//! The notes of a core file (`PT_NOTE`): threads and their registers (`NT_PRSTATUS`), the process (`NT_PRPSINFO`),
//! the auxiliary vector (`NT_AUXV`) and the mapped files (`NT_FILE`).
//!
//! Every size is taken from the note itself and capped by the `PT_NOTE` segment; garbage stops the walk with a
//! warning instead of an error, since the memory of the core is still readable without its notes.
//!
//! Struct layouts are those of 64-bit Linux; they were checked against a kernel core and a gdb `gcore` of an x86_64
//! CPython process; `tests/real_notes.rs` holds real descriptors and the values gdb printed for them.

use std::ops::Range;
use std::path::PathBuf;

use crate::core::Warnings;
use crate::le::{self, u16_at, u32_at, u64_at};
use crate::Addr;

/// `NT_PRSTATUS`: one per thread, its registers and pending signal.
pub const NT_PRSTATUS: u32 = 1;
/// `NT_PRPSINFO`: the process's ids and command line.
pub const NT_PRPSINFO: u32 = 3;
/// `NT_AUXV`: the auxiliary vector.
pub const NT_AUXV: u32 = 6;
/// `NT_FILE`: the file-backed mappings.
pub const NT_FILE: u32 = 0x4649_4c45;
/// `e_machine` of x86_64.
pub const EM_X86_64: u16 = 62;

/// Notes beyond this many are ignored with a warning (a process with 10,000 threads has about 50,000).
const MAX_NOTES: usize = 1 << 20;

/// Offset of `pr_reg` in `struct elf_prstatus` (64-bit Linux, all architectures).
const PRSTATUS_REG: usize = 112;
/// Size of `struct elf_prpsinfo` on 64-bit Linux.
const PRPSINFO_SIZE: usize = 136;

/// One note of a `PT_NOTE` segment, as found in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The owner name without its NUL (`CORE`, `LINUX`, `GDB`, …).
    pub name: String,
    /// The note type (`NT_*`).
    pub n_type: u32,
    /// File offsets of the descriptor (see [`crate::CoreFile::note_desc`]).
    pub desc: Range<u64>,
}

/// One thread of the process (`NT_PRSTATUS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadInfo {
    /// Thread id (`pr_pid`).
    pub tid: u32,
    /// The signal the thread was stopped by (`pr_cursig`), 0 for none.
    pub signal: u16,
    /// General-purpose registers (`pr_reg`).
    pub regs: Registers,
}

/// x86_64 `struct user_regs_struct`, in kernel order.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct X86_64Regs {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub rbp: u64,
    pub rbx: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rax: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub orig_rax: u64,
    pub rip: u64,
    pub cs: u64,
    pub eflags: u64,
    pub rsp: u64,
    pub ss: u64,
    pub fs_base: u64,
    pub gs_base: u64,
    pub ds: u64,
    pub es: u64,
    pub fs: u64,
    pub gs: u64,
}

impl X86_64Regs {
    /// Number of registers (`sizeof(struct user_regs_struct) / 8`).
    pub const COUNT: usize = 27;

    /// The registers from `pr_reg`'s words in kernel order.
    pub fn from_words(w: &[u64; Self::COUNT]) -> Self {
        let [r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi, orig_rax, rip, cs, eflags, rsp, ss, fs_base, gs_base, ds, es, fs, gs] =
            *w;
        X86_64Regs {
            r15,
            r14,
            r13,
            r12,
            rbp,
            rbx,
            r11,
            r10,
            r9,
            r8,
            rax,
            rcx,
            rdx,
            rsi,
            rdi,
            orig_rax,
            rip,
            cs,
            eflags,
            rsp,
            ss,
            fs_base,
            gs_base,
            ds,
            es,
            fs,
            gs,
        }
    }

    /// The words of `pr_reg` in kernel order.
    pub fn to_words(&self) -> [u64; Self::COUNT] {
        let r = self;
        [
            r.r15, r.r14, r.r13, r.r12, r.rbp, r.rbx, r.r11, r.r10, r.r9, r.r8, r.rax, r.rcx, r.rdx, r.rsi, r.rdi,
            r.orig_rax, r.rip, r.cs, r.eflags, r.rsp, r.ss, r.fs_base, r.gs_base, r.ds, r.es, r.fs, r.gs,
        ]
    }
}

/// The general-purpose registers of a thread.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Registers {
    /// An x86_64 core.
    X86_64(X86_64Regs),
    /// Another architecture: the raw words of `pr_reg` (at most 64), not interpreted.
    Other {
        /// The core's `e_machine`.
        machine: u16,
        /// The words of `pr_reg`.
        words: Vec<u64>,
    },
}

impl Registers {
    /// The x86_64 registers, on an x86_64 core.
    pub fn x86_64(&self) -> Option<&X86_64Regs> {
        match self {
            Registers::X86_64(r) => Some(r),
            Registers::Other { .. } => None,
        }
    }

    /// The program counter, where the architecture is known.
    pub fn pc(&self) -> Option<u64> {
        self.x86_64().map(|r| r.rip)
    }

    /// The stack pointer, where the architecture is known.
    pub fn sp(&self) -> Option<u64> {
        self.x86_64().map(|r| r.rsp)
    }
}

/// The process (`NT_PRPSINFO`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    /// Process id.
    pub pid: u32,
    /// Parent process id.
    pub ppid: u32,
    /// Real user id.
    pub uid: u32,
    /// Real group id.
    pub gid: u32,
    /// Executable name, at most 15 bytes (`pr_fname`; lossy UTF-8).
    pub fname: String,
    /// Start of the command line, at most 80 bytes, arguments separated by spaces (`pr_psargs`; lossy UTF-8).
    pub psargs: String,
}

/// A file-backed mapping of the process (one entry of `NT_FILE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedFile {
    /// First address of the mapping.
    pub start: Addr,
    /// End of the mapping (exclusive).
    pub end: Addr,
    /// Offset in the file of the byte mapped at `start`.
    pub file_offset: u64,
    /// The file, as the kernel named it (possibly ending in ` (deleted)`).
    pub path: PathBuf,
}

impl MappedFile {
    /// True if `addr` lies in the mapping.
    pub fn contains(&self, addr: Addr) -> bool {
        self.start <= addr && addr < self.end
    }
}

/// What the notes say, interpreted.
#[derive(Debug, Default)]
pub(crate) struct NoteInfo {
    pub(crate) threads: Vec<ThreadInfo>,
    pub(crate) process: Option<ProcessInfo>,
    pub(crate) auxv: Vec<(u64, u64)>,
    pub(crate) mapped_files: Vec<MappedFile>,
}

/// Appends the notes of the `PT_NOTE` segment at file range `seg` of `file` to `out`.
///
/// `align` is the note alignment (4 for cores; 8 only when the segment's `p_align` says so).
pub(crate) fn walk(file: &[u8], seg: Range<u64>, align: u64, out: &mut Vec<Note>, warn: &mut Warnings) {
    let Some(bytes) = le::slice(file, seg.clone()) else {
        return;
    };
    let end = bytes.len() as u64;
    let mut pos = 0u64;
    while pos < end {
        let at = seg.start.saturating_add(pos);
        if out.len() >= MAX_NOTES {
            warn.push(format!("more than {MAX_NOTES} notes; ignoring the rest from file offset {at:#x}"));
            return;
        }
        let header = usize::try_from(pos)
            .ok()
            .and_then(|p| Some((u32_at(bytes, p)?, u32_at(bytes, p + 4)?, u32_at(bytes, p + 8)?)));
        let Some((namesz, descsz, n_type)) = header else {
            if bytes.get(pos as usize..).is_some_and(|rest| rest.iter().any(|&b| b != 0)) {
                warn.push(format!("{} trailing bytes at file offset {at:#x} are not a note; ignored", end - pos));
            }
            return;
        };
        let name_start = pos + 12;
        let layout = (|| {
            let name_end = name_start.checked_add(u64::from(namesz))?;
            let desc_start = le::align_up(name_end, align)?;
            let desc_end = desc_start.checked_add(u64::from(descsz))?;
            Some((name_end, desc_start, desc_end))
        })();
        let Some((name_end, desc_start, desc_end)) = layout.filter(|&(_, _, de)| de <= end) else {
            warn.push(format!(
                "note at file offset {at:#x} (type {n_type:#x}) claims a {namesz}-byte name and a {descsz}-byte \
                 descriptor, more than the {} bytes left in its PT_NOTE segment; ignoring it and the notes after it",
                end - pos
            ));
            return;
        };
        let name = le::slice(bytes, name_start..name_end).map(le::until_nul).unwrap_or(&[]);
        out.push(Note {
            name: String::from_utf8_lossy(name).into_owned(),
            n_type,
            desc: seg.start + desc_start..seg.start + desc_end,
        });
        pos = le::align_up(desc_end, align).unwrap_or(end).min(end);
    }
}

/// Interprets the `CORE` notes among `notes` (descriptors read from `file`).
pub(crate) fn interpret(file: &[u8], notes: &[Note], machine: u16, warn: &mut Warnings) -> NoteInfo {
    let mut info = NoteInfo::default();
    for note in notes.iter().filter(|n| n.name == "CORE") {
        let Some(desc) = le::slice(file, note.desc.clone()) else {
            continue;
        };
        let at = note.desc.start;
        match note.n_type {
            NT_PRSTATUS => match prstatus(desc, machine) {
                Some(t) => info.threads.push(t),
                None => warn.push(format!("NT_PRSTATUS at file offset {at:#x} is too short ({} bytes)", desc.len())),
            },
            NT_PRPSINFO if info.process.is_none() => match prpsinfo(desc) {
                Some(p) => info.process = Some(p),
                None => warn.push(format!("NT_PRPSINFO at file offset {at:#x} is too short ({} bytes)", desc.len())),
            },
            NT_AUXV if info.auxv.is_empty() => info.auxv = auxv(desc),
            NT_FILE if info.mapped_files.is_empty() => info.mapped_files = nt_file(desc, at, warn),
            _ => {}
        }
    }
    info.mapped_files.sort_by_key(|m| m.start);
    info
}

/// Parses `struct elf_prstatus`.
fn prstatus(desc: &[u8], machine: u16) -> Option<ThreadInfo> {
    let signal = u16_at(desc, 12)?;
    let tid = u32_at(desc, 32)?;
    let regs_bytes = desc.get(PRSTATUS_REG..)?;
    let regs = if machine == EM_X86_64 {
        let mut w = [0u64; X86_64Regs::COUNT];
        for (i, slot) in w.iter_mut().enumerate() {
            *slot = u64_at(regs_bytes, i * 8)?;
        }
        Registers::X86_64(X86_64Regs::from_words(&w))
    } else {
        // pr_reg is followed by `int pr_fpvalid` and padding to 8.
        let n = (regs_bytes.len().saturating_sub(8) / 8).min(64);
        let words = (0..n).filter_map(|i| u64_at(regs_bytes, i * 8)).collect();
        Registers::Other { machine, words }
    };
    Some(ThreadInfo { tid, signal, regs })
}

/// Parses `struct elf_prpsinfo`.
fn prpsinfo(desc: &[u8]) -> Option<ProcessInfo> {
    if desc.len() < PRPSINFO_SIZE {
        return None;
    }
    let text = |r: Range<usize>| String::from_utf8_lossy(le::until_nul(desc.get(r).unwrap_or(&[]))).into_owned();
    Some(ProcessInfo {
        uid: u32_at(desc, 16)?,
        gid: u32_at(desc, 20)?,
        pid: u32_at(desc, 24)?,
        ppid: u32_at(desc, 28)?,
        fname: text(40..56),
        psargs: text(56..136),
    })
}

/// Parses the auxiliary vector: `(key, value)` pairs up to `AT_NULL`.
fn auxv(desc: &[u8]) -> Vec<(u64, u64)> {
    desc.chunks_exact(16).map_while(|c| Some((u64_at(c, 0)?, u64_at(c, 8)?))).take_while(|&(k, _)| k != 0).collect()
}

/// Parses `NT_FILE`: `count, page_size`, `count` × `(start, end, page_offset)`, then `count` NUL-terminated paths.
fn nt_file(desc: &[u8], at: u64, warn: &mut Warnings) -> Vec<MappedFile> {
    let (Some(count), Some(page_size)) = (u64_at(desc, 0), u64_at(desc, 8)) else {
        warn.push(format!("NT_FILE at file offset {at:#x} is too short ({} bytes)", desc.len()));
        return Vec::new();
    };
    let fits = (desc.len() as u64).saturating_sub(16) / 24;
    let n = if count > fits {
        warn.push(format!(
            "NT_FILE at file offset {at:#x} claims {count} mappings but its {} bytes hold at most {fits}; \
             file-backed mappings may be unnamed",
            desc.len()
        ));
        fits as usize
    } else {
        count as usize
    };
    let mut names = desc.get(16 + n * 24..).unwrap_or(&[]).split(|&b| b == 0);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let e = 16 + i * 24;
        let (Some(start), Some(end), Some(pgoff)) = (u64_at(desc, e), u64_at(desc, e + 8), u64_at(desc, e + 16)) else {
            break;
        };
        let Some(name) = names.next() else {
            warn.push(format!("NT_FILE at file offset {at:#x} names only {i} of its {n} mappings"));
            break;
        };
        let Some(file_offset) = pgoff.checked_mul(page_size).filter(|_| start <= end) else {
            warn.push(format!(
                "NT_FILE at file offset {at:#x}: entry {i} ({start:#x}..{end:#x}, page offset {pgoff:#x} × page \
                 size {page_size:#x}) is impossible; skipped"
            ));
            continue;
        };
        out.push(MappedFile { start: Addr(start), end: Addr(end), file_offset, path: path_from_bytes(name) });
    }
    out
}

#[cfg(unix)]
fn path_from_bytes(b: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(b))
}

#[cfg(not(unix))]
fn path_from_bytes(b: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(b).into_owned())
}
