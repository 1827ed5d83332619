//! Notes descriptors copied verbatim from a real kernel core, parsed and compared with what gdb reported.
//!
//! Source: a kernel-written core (Linux 6.18 x86_64, `core_pattern=core`, `coredump_filter=0x33`) of CPython 3.11.7
//! with one extra thread, killed by `os.abort()`. The descriptors below are the bytes of its NT_PRSTATUS (first
//! thread), NT_PRPSINFO and NT_AUXV notes; the expected values are what gdb 13.1 printed for `info registers` and
//! `info auxv` on that core, and what Python's `struct` decoded from `struct elf_prpsinfo`. Only the ELF container
//! around the notes is synthetic.

use heapscope_coredump::testutil::CoreBuilder;
use heapscope_coredump::{CoreFile, Registers, NT_AUXV, NT_PRPSINFO, NT_PRSTATUS};

const PRSTATUS: &[&str] = &[
    "06000000000000000000000006000000000000000000000000000000000000009714000096140000931400006a0e0000",
    "0000000000000000007d0000000000000000000000000000803e0000000000000000000000000000349b000000000000",
    "0000000000000000dc6600000000000078d07c98d47f000000000000000000003038e997d47f00000600000000000000",
    "801b7d98d47f00009714000000000000460200000000000008000000000000000000000000000000f052e897d47f0000",
    "0000000000000000ec8e0a98d47f0000060000000000000097140000000000009714000000000000ea00000000000000",
    "ec8e0a98d47f00003300000000000000460200000000000000320ce9fd7f00002b00000000000000801b7d98d47f0000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000100000000000000",
];

const PRPSINFO: &[&str] = &[
    "0052000000000000000640000000000000000000000000009714000096140000931400006a0e0000707974686f6e3300",
    "00000000000000002f726f6f742f2e7079656e762f76657273696f6e732f332e31312e372f62696e2f707974686f6e33",
    "202d6320696d706f7274206f732c20746872656164696e672c2074696d653b20743d746872656100",
];

const AUXV: &[&str] = &[
    "210000000000000000407e98d47f00003300000000000000300d0000000000001000000000000000fffb8b1700000000",
    "060000000000000000100000000000001100000000000000640000000000000003000000000000004070525f18560000",
    "0400000000000000380000000000000005000000000000000d00000000000000070000000000000000607e98d47f0000",
    "0800000000000000000000000000000009000000000000006080525f185600000b000000000000000000000000000000",
    "0c0000000000000000000000000000000d0000000000000000000000000000000e000000000000000000000000000000",
    "170000000000000000000000000000001900000000000000293b0ce9fd7f00001a000000000000000200000000000000",
    "1f00000000000000cf5f0ce9fd7f00000f00000000000000393b0ce9fd7f00001b000000000000001c00000000000000",
    "1c00000000000000200000000000000000000000000000000000000000000000",
];

fn unhex(lines: &[&str]) -> Vec<u8> {
    let s: String = lines.concat();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn core() -> CoreFile {
    let mut b = CoreBuilder::new();
    b.note("CORE", NT_PRSTATUS, unhex(PRSTATUS));
    b.note("CORE", NT_PRPSINFO, unhex(PRPSINFO));
    b.note("CORE", NT_AUXV, unhex(AUXV));
    CoreFile::from_bytes("real-notes.core", b.build().bytes).unwrap()
}

#[test]
fn descriptor_sizes_match_x86_64_structs() {
    assert_eq!(unhex(PRSTATUS).len(), 336);
    assert_eq!(unhex(PRPSINFO).len(), 136);
}

#[test]
fn prstatus_matches_gdb() {
    let c = core();
    assert!(c.warnings().is_empty(), "{:?}", c.warnings());
    let [t] = c.threads() else { panic!("{:?}", c.threads()) };
    assert_eq!(t.tid, 5271); // LWP 5271
    assert_eq!(t.signal, 6); // SIGABRT
    let Registers::X86_64(r) = &t.regs else { panic!("{:?}", t.regs) };
    assert_eq!(r.rip, 0x7fd4980a8eec);
    assert_eq!(r.rsp, 0x7ffde90c3200);
    assert_eq!(r.rbp, 0x7fd4987d1b80);
    assert_eq!(r.fs_base, 0x7fd4987d1b80);
    assert_eq!(r.gs_base, 0);
    assert_eq!(r.orig_rax, 0xea); // tgkill
    assert_eq!(r.eflags, 0x246);
    assert_eq!((r.cs, r.ss), (0x33, 0x2b)); // x86_64 user code and stack selectors
    assert_eq!(t.regs.pc(), Some(0x7fd4980a8eec));
}

#[test]
fn prpsinfo_matches_kernel() {
    let c = core();
    let p = c.process().unwrap();
    assert_eq!((p.pid, p.ppid, p.uid, p.gid), (5271, 5270, 0, 0));
    assert_eq!(p.fname, "python3");
    assert_eq!(p.psargs, "/root/.pyenv/versions/3.11.7/bin/python3 -c import os, threading, time; t=threa");
}

#[test]
fn auxv_matches_gdb() {
    let c = core();
    assert_eq!(c.auxv().len(), 22);
    assert_eq!(c.auxv_value(6), Some(4096)); // AT_PAGESZ
    assert_eq!(c.auxv_value(3), Some(0x56185f527040)); // AT_PHDR
    assert_eq!(c.auxv_value(5), Some(13)); // AT_PHNUM
    assert_eq!(c.auxv_value(7), Some(0x7fd4987e6000)); // AT_BASE
    assert_eq!(c.auxv_value(9), Some(0x56185f528060)); // AT_ENTRY
    assert_eq!(c.auxv_value(31), Some(0x7ffde90c5fcf)); // AT_EXECFN
    assert_eq!(c.auxv_value(33), Some(0x7fd4987e4000)); // AT_SYSINFO_EHDR
    assert_eq!(c.auxv_value(0), None);
}
