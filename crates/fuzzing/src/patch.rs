//! A process image with a few bytes changed: the input of the `objects` and `summary` targets.
//!
//! The fuzzer's bytes are read as a list of records, each one patch:
//!
//! ```text
//! kind: u8   where = kind & 3          0: at an object (of the fixture's enumerated objects) + delta
//!                                      1: in _PyRuntime, at offset a % its size (64 KiB when unknown)
//!                                      2: anywhere in the core's dumped bytes, at offset a % their total
//!                                      3: at a thread or interpreter state word (as 1, but from the first thread state)
//!            what  = (kind >> 2) & 3   0: the next `len` bytes of the input (at most 64)
//!                                      1: the address of object b (a pointer to another object)
//!                                      2: the patch's own address (a word pointing at itself: a loop)
//!                                      3: a special word (0, -1, i64::MAX, 2^32, …; chosen by len)
//! a:    u32 (little-endian)            object index (where 0), offset (where 1, 2, 3)
//! b:    u32                            where 0: delta = (b as i32) % 4096, rounded down to a multiple of 8 unless
//!                                      bit 7 of kind is set; what 1: the index of the object pointed to
//! len:  u8                             what 0: how many bytes follow; what 3: which special word
//! ```
//!
//! A patch only changes bytes the core holds: it cannot map memory, so reads that failed still fail.

use std::borrow::Cow;

use heapscope_coredump::{Addr, LoadedObject, Memory, ProcessImage, ReadError, SymbolRef};

/// Longest patch, in bytes.
pub const MAX_PATCH: usize = 64;
/// Most patches applied from one input.
pub const MAX_PATCHES: usize = 32;

/// Special words a patch can write (`what` = 3).
const SPECIAL: [u64; 12] =
    [0, u64::MAX, i64::MAX as u64, 1 << 63, 1 << 32, 0xffff_ffff, 0x8000_0000, 0x7fff_ffff, 1, 8, 4096, 1 << 40];

/// Where patches may land in one fixture (computed once per fixture).
#[derive(Debug, Default)]
pub struct Targets {
    /// Addresses of the fixture's objects.
    pub objects: Vec<Addr>,
    /// `_PyRuntime` and its size.
    pub runtime: (Addr, u64),
    /// The first thread state (or interpreter state) and a span to patch in it.
    pub state: (Addr, u64),
    /// Every dumped byte range of the core: (start, length).
    pub dumped: Vec<(Addr, u64)>,
    /// Sum of the lengths in `dumped`.
    pub dumped_total: u64,
}

/// One patch: bytes written at an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    /// Where the bytes go.
    pub addr: Addr,
    /// The bytes (at most [`MAX_PATCH`]).
    pub bytes: Vec<u8>,
}

/// Reads the patches of `data` against `t`. Records cut short by the end of the input are dropped.
pub fn parse(data: &[u8], t: &Targets) -> Vec<Patch> {
    let mut out = Vec::new();
    let mut rest = data;
    while out.len() < MAX_PATCHES && rest.len() >= 10 {
        let kind = rest[0];
        let a = u32::from_le_bytes([rest[1], rest[2], rest[3], rest[4]]);
        let b = u32::from_le_bytes([rest[5], rest[6], rest[7], rest[8]]);
        let len = rest[9];
        rest = &rest[10..];
        let addr = match kind & 3 {
            0 if !t.objects.is_empty() => {
                let obj = t.objects[a as usize % t.objects.len()];
                let delta = i64::from((b as i32) % 4096);
                let delta = if kind & 0x80 == 0 { delta & !7 } else { delta };
                Addr(obj.0.wrapping_add_signed(delta))
            }
            1 if t.runtime.1 > 0 => t.runtime.0.wrapping_add(u64::from(a) % t.runtime.1),
            3 if t.state.1 > 0 => t.state.0.wrapping_add((u64::from(a) % t.state.1) & !7),
            2 if t.dumped_total > 0 => {
                let mut off = u64::from(a) % t.dumped_total;
                let mut at = Addr::NULL;
                for &(start, n) in &t.dumped {
                    if off < n {
                        at = start.wrapping_add(off);
                        break;
                    }
                    off -= n;
                }
                at
            }
            _ => continue,
        };
        let bytes = match (kind >> 2) & 3 {
            0 => {
                let n = usize::from(len).min(MAX_PATCH).min(rest.len());
                let v = rest[..n].to_vec();
                rest = &rest[n..];
                v
            }
            1 if !t.objects.is_empty() => t.objects[b as usize % t.objects.len()].0.to_le_bytes().to_vec(),
            2 => addr.0.to_le_bytes().to_vec(),
            3 => SPECIAL[usize::from(len) % SPECIAL.len()].to_le_bytes().to_vec(),
            _ => continue,
        };
        if !bytes.is_empty() {
            out.push(Patch { addr, bytes });
        }
    }
    out
}

/// `base` with `patches` written over it: reads see the patched bytes wherever the base has bytes.
#[derive(Debug)]
pub struct Patched<'a, P: ?Sized> {
    base: &'a P,
    /// Sorted by address; a later patch overrides an earlier one where they overlap (applied in input order).
    patches: Vec<(usize, Patch)>,
}

impl<'a, P: ProcessImage + ?Sized> Patched<'a, P> {
    /// `base` with `patches` applied, later ones over earlier ones.
    pub fn new(base: &'a P, patches: Vec<Patch>) -> Self {
        let mut patches: Vec<(usize, Patch)> = patches.into_iter().enumerate().collect();
        patches.sort_by_key(|(i, p)| (p.addr, *i));
        Patched { base, patches }
    }

    /// The patches that may touch `[addr, addr + len)`.
    fn touching(&self, addr: u64, len: usize) -> impl Iterator<Item = &(usize, Patch)> {
        let end = addr.saturating_add(len as u64);
        let from = self.patches.partition_point(|(_, p)| p.addr.0.saturating_add(MAX_PATCH as u64) <= addr);
        self.patches[from..].iter().take_while(move |(_, p)| p.addr.0 < end)
    }

    /// Writes the patches over `buf`, which holds the base's bytes at `addr`.
    fn overlay(&self, addr: u64, buf: &mut [u8]) {
        let end = addr.saturating_add(buf.len() as u64);
        let mut hits: Vec<&(usize, Patch)> = self.touching(addr, buf.len()).collect();
        hits.sort_by_key(|(i, _)| *i);
        for (_, p) in hits {
            let p_end = p.addr.0.saturating_add(p.bytes.len() as u64);
            let lo = p.addr.0.max(addr);
            let hi = p_end.min(end);
            if lo < hi {
                let dst = (lo - addr) as usize..(hi - addr) as usize;
                let src = (lo - p.addr.0) as usize..(hi - p.addr.0) as usize;
                buf[dst].copy_from_slice(&p.bytes[src]);
            }
        }
    }

    fn fixed<const N: usize>(&self, addr: Addr, v: [u8; N]) -> [u8; N] {
        let mut v = v;
        if self.touching(addr.0, N).next().is_some() {
            self.overlay(addr.0, &mut v);
        }
        v
    }
}

impl<P: ProcessImage + ?Sized> Memory for Patched<'_, P> {
    fn read_into(&self, addr: Addr, buf: &mut [u8]) -> Result<(), ReadError> {
        self.base.read_into(addr, buf)?;
        self.overlay(addr.0, buf);
        Ok(())
    }

    fn bytes(&self, addr: Addr, len: usize) -> Result<Cow<'_, [u8]>, ReadError> {
        let mut b = self.base.bytes(addr, len)?;
        if self.touching(addr.0, len).next().is_some() {
            self.overlay(addr.0, b.to_mut());
        }
        Ok(b)
    }

    fn read_u8(&self, addr: Addr) -> Result<u8, ReadError> {
        Ok(self.fixed(addr, [self.base.read_u8(addr)?])[0])
    }

    fn read_u16(&self, addr: Addr) -> Result<u16, ReadError> {
        Ok(u16::from_le_bytes(self.fixed(addr, self.base.read_u16(addr)?.to_le_bytes())))
    }

    fn read_u32(&self, addr: Addr) -> Result<u32, ReadError> {
        Ok(u32::from_le_bytes(self.fixed(addr, self.base.read_u32(addr)?.to_le_bytes())))
    }

    fn read_u64(&self, addr: Addr) -> Result<u64, ReadError> {
        Ok(u64::from_le_bytes(self.fixed(addr, self.base.read_u64(addr)?.to_le_bytes())))
    }
}

impl<P: ProcessImage + ?Sized> ProcessImage for Patched<'_, P> {
    fn objects(&self) -> &[LoadedObject] {
        self.base.objects()
    }

    fn symbol(&self, name: &str) -> Option<SymbolRef> {
        self.base.symbol(name)
    }

    fn symbol_in(&self, object: usize, name: &str) -> Option<SymbolRef> {
        self.base.symbol_in(object, name)
    }
}

#[cfg(test)]
mod tests {
    use heapscope_coredump::{SyntheticImage, SyntheticMemory};

    use super::*;

    #[test]
    fn later_patches_win_and_only_dumped_bytes_change() {
        let mut mem = SyntheticMemory::default();
        mem.map(Addr(0x1000), vec![0xaa; 32]);
        let img = SyntheticImage::new(mem);
        let p = Patched::new(
            &img,
            vec![
                Patch { addr: Addr(0x1004), bytes: vec![1, 2, 3, 4] },
                Patch { addr: Addr(0x1006), bytes: vec![9] },
                Patch { addr: Addr(0x101e), bytes: vec![7; 8] },
            ],
        );
        assert_eq!(p.read_u64(Addr(0x1000)).unwrap(), u64::from_le_bytes([0xaa, 0xaa, 0xaa, 0xaa, 1, 2, 9, 4]));
        assert_eq!(p.read_u16(Addr(0x101e)).unwrap(), 0x0707);
        assert!(p.read_u64(Addr(0x101e)).is_err(), "a patch past the mapping maps nothing");
        let mut b = [0u8; 3];
        p.read_into(Addr(0x1005), &mut b).unwrap();
        assert_eq!(b, [2, 9, 4]);
        assert_eq!(&*p.bytes(Addr(0x1003), 2).unwrap(), &[0xaa, 1]);
    }

    #[test]
    fn records_select_targets() {
        let t = Targets {
            objects: vec![Addr(0x10_000), Addr(0x20_000)],
            runtime: (Addr(0x5000), 0x100),
            state: (Addr(0x9000), 0x40),
            dumped: vec![(Addr(0x1000), 0x10), (Addr(0x8000), 0x10)],
            dumped_total: 0x20,
        };
        let mut data = vec![];
        // at object 1 - 8, 3 input bytes
        data.extend([0u8, 1, 0, 0, 0]);
        data.extend((-8i32).to_le_bytes());
        data.extend([3, 0xde, 0xad, 0xbe]);
        // at runtime + 0x105 % 0x100, a pointer to object 0
        data.extend([1 | 4, 0x05, 0x01, 0, 0, 0, 0, 0, 0, 0]);
        // raw offset 0x14: second range + 4, self-pointer
        data.extend([2 | 8, 0x14, 0, 0, 0, 0, 0, 0, 0, 0]);
        // a cut-short record is dropped
        data.extend([0, 1, 2]);
        let ps = parse(&data, &t);
        assert_eq!(
            ps,
            vec![
                Patch { addr: Addr(0x1fff8), bytes: vec![0xde, 0xad, 0xbe] },
                Patch { addr: Addr(0x5005), bytes: 0x10_000u64.to_le_bytes().to_vec() },
                Patch { addr: Addr(0x8004), bytes: 0x8004u64.to_le_bytes().to_vec() },
            ]
        );
    }
}
