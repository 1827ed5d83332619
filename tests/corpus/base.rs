//! The fixture cores the corpus is derived from, and what the hostile cases need to know about each: its program
//! headers, where `_PyRuntime`, the interpreter and the GC lists are, and the offsets of the fields the fake lists
//! use. Also the corpus' deterministic generator.

use std::path::Path;

use heapscope_coredump::{Addr, CoreProcess, Memory, OpenOptions};
use heapscope_cpython::layout::{DwarfPolicy, Layout};
use heapscope_cpython::{detect, runtime};
use serde_json::Value;

use super::{common, FAKE_ENTRIES, SEED};

/// splitmix64: a small deterministic generator.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(name: &str) -> Rng {
        let h = name.bytes().fold(SEED, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        Rng(h)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
}

/// A `PT_LOAD` of a base core.
#[derive(Debug, Clone, Copy)]
pub struct Seg {
    /// Index among the program headers.
    pub ph: usize,
    pub vaddr: u64,
    pub memsz: u64,
    pub off: u64,
    pub filesz: u64,
    pub writable: bool,
}

/// What the hostile cases need to know about a fixture core.
pub struct Base {
    pub name: String,
    pub bytes: Vec<u8>,
    pub phoff: u64,
    pub phnum: u64,
    pub loads: Vec<Seg>,
    /// File ranges of the `PT_NOTE`s.
    pub notes: Vec<(u64, u64)>,
    pub runtime: u64,
    pub main_interp: u64,
    /// Offsets of the fields the fake lists use.
    pub interp_head: u64,
    pub interp_next: u64,
    pub threads_head: u64,
    pub tstate_next: u64,
    pub gc_next: u64,
    pub gc_prev: u64,
    /// The GC list heads and the `collecting` flag.
    pub gc_heads: Vec<u64>,
    pub collecting: Option<u64>,
    /// The truth's largest list, and the type objects of float and tuple.
    pub big_list: u64,
    pub list_ob_item: u64,
    pub tuple_ob_item: u64,
    pub float_type: u64,
    pub tuple_type: u64,
    /// Objects of the truth with a length field (list, tuple, dict, set, str, bytes, int).
    pub sized: Vec<u64>,
}

pub fn u64_at(b: &[u8], off: u64) -> u64 {
    let o = off as usize;
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}

pub fn put_u64(b: &mut [u8], off: u64, v: u64) {
    let o = off as usize;
    b[o..o + 8].copy_from_slice(&v.to_le_bytes());
}

impl Base {
    pub fn load(name: &str, dir: &Path) -> Base {
        let fx = common::fixture(name);
        let raw = std::fs::read(fx.core()).expect("core.zst");
        let bytes = zstd::decode_all(&raw[..]).expect("core.zst decompresses");
        let path = dir.join(format!("{name}.intact"));
        std::fs::write(&path, &bytes).expect("write the intact core");
        let sysroot = common::empty_sysroot();
        let opts = OpenOptions { sysroot: Some(sysroot.path().to_owned()), search_paths: Vec::new() };
        let p = CoreProcess::open(&path, &opts).expect("core opens");
        let d = detect(&p).expect("python found");
        let layout: Layout = Layout::resolve(&p, &d, DwarfPolicy::Off).expect("layout resolves").0;
        let off = |f: &heapscope_cpython::layout::Field| f.get().expect("field known");
        let rt = d.runtime;
        let main_interp = runtime::interpreters(&p, &layout, rt).items.last().expect("an interpreter").addr;
        let (lists, _) =
            heapscope_cpython::heap::gc_lists::gc_lists(&p, &layout, rt, main_interp).expect("GC lists found");
        let gc = heapscope_cpython::heap::gc_lists::gc_state(&layout, rt, main_interp).expect("GC state");
        let collecting = layout.gc.collecting.offset.map(|o| gc.0 + u64::from(o));
        // The flag is clear in the intact core and lies in no list head (which the case would then corrupt).
        if let Some(c) = collecting {
            assert_eq!(p.read_u32(Addr(c)).expect("the collecting flag"), 0, "{name}: collecting set in the fixture");
            let size = off(&layout.gc_head.size);
            for l in &lists {
                assert!(c + 4 <= l.head.0 || c >= l.head.0 + size, "{name}: the collecting flag in the head of {l:?}");
            }
        }

        let phoff = u64_at(&bytes, 32);
        let phnum = u64::from(u16::from_le_bytes([bytes[56], bytes[57]]));
        let mut loads = Vec::new();
        let mut notes = Vec::new();
        for i in 0..phnum {
            let h = phoff + i * 56;
            let ty = u32::from_le_bytes(bytes[h as usize..h as usize + 4].try_into().unwrap());
            let flags = u32::from_le_bytes(bytes[h as usize + 4..h as usize + 8].try_into().unwrap());
            let (o, v, fsz, msz) =
                (u64_at(&bytes, h + 8), u64_at(&bytes, h + 16), u64_at(&bytes, h + 32), u64_at(&bytes, h + 40));
            match ty {
                1 => loads.push(Seg {
                    ph: i as usize,
                    vaddr: v,
                    memsz: msz,
                    off: o,
                    filesz: fsz.min((bytes.len() as u64).saturating_sub(o)),
                    writable: flags & 2 != 0,
                }),
                4 => notes.push((o, fsz)),
                _ => {}
            }
        }

        let truth = fx.truth();
        let objects = truth["objects"].as_array().expect("truth objects");
        let addr_of = |o: &Value| o["address"].as_u64().unwrap();
        let of_type = |t: &'static str| objects.iter().filter(move |o| o["type"] == t);
        let big_list = of_type("list")
            .max_by_key(|o| o["referents"].as_array().map_or(0, |r| r.len()))
            .map(addr_of)
            .expect("a list");
        let float = of_type("float").map(addr_of).next().expect("a float");
        let float_type = p.read_u64(Addr(float + 8)).expect("the float's type");
        let tuple = of_type("tuple").map(addr_of).next().expect("a tuple");
        let tuple_type = p.read_u64(Addr(tuple + 8)).expect("the tuple's type");
        let mut sized: Vec<u64> = objects
            .iter()
            .filter(|o| matches!(o["type"].as_str(), Some("list" | "tuple" | "dict" | "set" | "str" | "bytes" | "int")))
            .map(addr_of)
            .collect();
        sized.sort_unstable();
        Base {
            name: name.to_owned(),
            bytes,
            phoff,
            phnum,
            loads,
            notes,
            runtime: rt.0,
            main_interp: main_interp.0,
            interp_head: off(&layout.runtime.interpreters_head),
            interp_next: off(&layout.interp.next),
            threads_head: off(&layout.interp.threads_head),
            tstate_next: off(&layout.tstate.next),
            gc_next: off(&layout.gc_head.gc_next),
            gc_prev: off(&layout.gc_head.gc_prev),
            gc_heads: lists.iter().map(|l| l.head.0).collect(),
            collecting,
            big_list,
            list_ob_item: off(&layout.list.ob_item),
            tuple_ob_item: off(&layout.tuple.ob_item),
            float_type,
            tuple_type,
            sized,
        }
    }

    /// The file offset of the dumped byte at `addr`.
    pub fn offset(&self, addr: u64) -> Option<u64> {
        self.loads.iter().find(|s| s.vaddr <= addr && addr - s.vaddr < s.filesz).map(|s| s.off + (addr - s.vaddr))
    }

    pub fn read(&self, addr: u64) -> u64 {
        u64_at(&self.bytes, self.offset(addr).expect("a dumped address"))
    }

    /// Writes `v` at `addr` in `b` (a copy of this core).
    pub fn write(&self, b: &mut [u8], addr: u64, v: u64) {
        if let Some(o) = self.offset(addr).filter(|o| o + 8 <= b.len() as u64) {
            put_u64(b, o, v);
        }
    }

    /// The start of `len` dumped, writable bytes holding none of `avoid`: the largest writable segment that fits.
    pub fn region(&self, len: u64, avoid: &[u64]) -> u64 {
        self.loads
            .iter()
            .filter(|s| s.writable && s.filesz >= len)
            .filter(|s| !avoid.iter().any(|&a| s.vaddr <= a && a - s.vaddr < s.memsz))
            .max_by_key(|s| s.filesz)
            .map(|s| s.vaddr)
            .unwrap_or_else(|| panic!("{}: no writable segment of {len} bytes", self.name))
    }

    /// The addresses the fake lists must not overwrite.
    pub fn keep(&self) -> Vec<u64> {
        let mut v = vec![self.runtime, self.main_interp, self.big_list];
        v.extend(&self.gc_heads);
        v
    }

    /// A list of `FAKE_ENTRIES` fake structs linked through the field at `next_off`, `stride` bytes apart, in a
    /// writable segment, ending at `last_next`. `dense`: every word of the region is such a link (every field of
    /// every fake struct then points into the region); else the other words are zero. Returns the first entry.
    pub fn fake_chain(&self, b: &mut [u8], next_off: u64, stride: u64, dense: bool, last_next: u64) -> u64 {
        let len = FAKE_ENTRIES * stride + 4096;
        let start = self.region(len, &self.keep());
        let o = self.offset(start).unwrap();
        for w in 0..len / 8 {
            let at = start + w * 8;
            let is_link = at >= start + next_off && (at - start - next_off).is_multiple_of(stride);
            let v = if dense || is_link { (at - next_off).wrapping_add(stride) } else { 0 };
            put_u64(b, o + w * 8, v);
        }
        let last = start + (FAKE_ENTRIES - 1) * stride;
        self.write(b, last + next_off, last_next);
        start
    }
}
