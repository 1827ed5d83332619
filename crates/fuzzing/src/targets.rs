//! The target bodies. Each returns normally on every input; a panic, an abort, a hang or a huge allocation is the
//! bug the fuzzer looks for.

use std::path::PathBuf;

use heapscope_coredump::{Addr, CoreFile, CoreProcess, DiskElf, MappedElf, Memory, OpenOptions, ProcessImage};
use heapscope_cpython::dwarf::DwarfTypes;
use heapscope_cpython::heap::{object_and_referents_with, TypeCache};
use heapscope_cpython::layout::{dwarf_offsets, Layout, ResolveOptions};
use heapscope_cpython::objects::{Heap, PreviewOptions};
use heapscope_snapshot::{BuildOptions, CStack};

use crate::fixture;
use crate::patch::{self, Patched};

/// Symbols every target that looks names up asks for: those heapscope itself needs, and names no object has.
const NAMES: [&str; 6] = ["_PyRuntime", "Py_Version", "PyLong_Type", "_PyObject_GC_Malloc", "main", "no_such_symbol"];

/// Options that find no file on disk, whatever path the input names.
fn no_disk() -> OpenOptions {
    OpenOptions { sysroot: Some(PathBuf::from("/nonexistent/heapscope-fuzz-sysroot")), search_paths: vec![] }
}

/// `core_parser`: a whole core file: its headers, notes, segments, the mapped objects and their symbols, and reads.
pub fn core_parser(data: &[u8]) {
    let Ok(core) = CoreFile::from_bytes("fuzz.core", data.to_vec()) else { return };
    let _ = core.presence(Addr(0x1000));
    for note in core.notes() {
        let _ = core.note_desc(note);
    }
    let process = CoreProcess::from_core(core, data.len() as u64, &no_disk());
    let _ = process.executable();
    let _ = process.identity();
    for name in NAMES {
        if let Some(sym) = process.symbol(name) {
            let _ = process.read_u64(sym.addr);
        }
    }
    // A read across each segment's start, and a string.
    for s in process.core().segments().iter().take(64) {
        let mut buf = [0u8; 64];
        let _ = process.read_into(Addr(s.vaddr.0.wrapping_sub(16)), &mut buf);
        let _ = process.bytes(s.vaddr, 256);
        let _ = process.read_cstr(s.vaddr, 256);
    }
    let _ = heapscope_cpython::detect(&process);
}

/// Where `elf_memory` maps its input.
const ELF_BASE: u64 = 0x7f00_0000_0000;

/// `elf_memory`: an ELF object as mapped in a process (its first page at 0x7f00_0000_0000), read through [`MappedElf`].
pub fn elf_memory(data: &[u8]) {
    let mut mem = heapscope_coredump::SyntheticMemory::default();
    mem.map(Addr(ELF_BASE), data.to_vec());
    let Ok(elf) = MappedElf::parse(&mem, Addr(ELF_BASE)) else { return };
    let _ = (elf.load_bias(), elf.address_range(), elf.build_id_hex(), elf.soname(), elf.dynamic());
    let _ = elf.contains(Addr(ELF_BASE + 0x1000));
    for name in NAMES {
        let _ = elf.lookup(&mem, name);
    }
    let _ = elf.dynamic_symbol_count(&mem);
    let _ = elf.symbols(&mem);
}

/// `elf_disk`: an ELF file, read through [`DiskElf`].
pub fn elf_disk(data: &[u8]) {
    let Ok(elf) = DiskElf::from_vec(PathBuf::from("fuzz.so"), data.to_vec()) else { return };
    let _ = (elf.build_id_hex(), elf.has_symtab(), elf.symbols().len(), elf.load_bias(Addr(ELF_BASE)));
    for name in NAMES {
        let _ = elf.lookup(name);
        let _ = elf.lookup_all(name).count();
    }
    for s in elf.segments().iter().take(64) {
        let _ = elf.bytes_at(s.offset, 64);
    }
}

/// `dwarf`: an ELF file's DWARF, read through [`DwarfTypes`]: every struct and member the layout resolution asks
/// for, as it asks for them.
pub fn dwarf(data: &[u8]) {
    let Ok(types) = DwarfTypes::parse(data) else { return };
    let _ = (types.unit_count(), types.issues().len());
    let _ = dwarf_offsets(&types);
    for name in ["Inner", "state", "holder", "Fwd", "struct layouts", "PyObject"] {
        if let Ok(Some(st)) = types.find_struct(&[name]) {
            for path in ["a", "b", "cv", "inner.a", "x.y.z"] {
                let _ = types.member(&st, path);
            }
        }
    }
}

/// `objects`: the objects at and around the patches of a fixture core (first byte: which fixture; the rest: patches,
/// see [`patch`]): each decoded with its referents, the referents decoded in turn, and previewed.
pub fn objects(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else { return };
    let f = fixture::get(which);
    let patches = patch::parse(rest, &f.targets);
    let touched: Vec<Addr> = patches
        .iter()
        .filter_map(|p| {
            let i = f.targets.objects.partition_point(|&o| o <= p.addr).checked_sub(1)?;
            Some(f.targets.objects[i])
        })
        .collect();
    let image = Patched::new(&f.process, patches);
    let heap = Heap::new(&image, &f.layout);
    let mut cache = TypeCache::new(&heap);
    let mut refs = Vec::new();
    let preview = PreviewOptions::default();
    for &obj in touched.iter().take(16) {
        refs.clear();
        if let Ok((_, _)) = object_and_referents_with(&heap, &mut cache, obj, &mut refs) {
            let _ = heap.preview(obj, &preview);
            let next: Vec<Addr> = refs.iter().take(64).map(|r| r.target).collect();
            let mut inner = Vec::new();
            for r in next {
                inner.clear();
                let _ = object_and_referents_with(&heap, &mut cache, r, &mut inner);
                let _ = heap.preview(r, &preview);
            }
        }
    }
}

/// `summary`: the whole snapshot build (what `heapscope summary` runs before its report) on a patched fixture core
/// (first byte: which fixture; the rest: patches, see [`patch`]): version detection, layout, enumeration, roots,
/// decoding and the reference graph.
pub fn summary(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else { return };
    let f = fixture::get(which);
    let image = Patched::new(&f.process, patch::parse(rest, &f.targets));
    let Ok(detection) = heapscope_cpython::detect(&image) else { return };
    let Ok((layout, _)) = Layout::resolve_with(&image, &detection, &ResolveOptions::default()) else { return };
    let core = f.process.core();
    let c_stacks = core
        .threads()
        .iter()
        .filter_map(|t| {
            let sp = t.regs.sp()?;
            let seg = core.segment_at(Addr(sp))?;
            Some(CStack {
                tid: t.tid,
                registers: t.regs.x86_64().map(|r| r.to_words().to_vec()).unwrap_or_default(),
                start: Addr(sp & !7),
                end: seg.end(),
            })
        })
        .collect();
    let opts = BuildOptions { c_stacks, ..BuildOptions::default() };
    let _ = heapscope_snapshot::build(&image, &detection, &layout, &opts);
}
