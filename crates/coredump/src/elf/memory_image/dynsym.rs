//! Dynamic symbol lookup and enumeration for [`MappedElf`]: `DT_GNU_HASH`, `DT_HASH`, and a bounded linear scan.

use std::ops::ControlFlow;

use super::{DynamicInfo, MappedElf, Tables};
use crate::elf::raw::{self, Sym};
use crate::elf::{ElfError, ElfPart, Symbol};
use crate::{Addr, Memory, ReadError};

/// The answer of a lookup in progress. A name can be defined several times with different symbol versions
/// (`foo@GLIBC_2.2.5` and the default `foo@@GLIBC_2.29`). Like `ld.so` for an unversioned reference, the default
/// (non-hidden) version wins; unlike `ld.so`, which then finds nothing, a name with only hidden versions resolves to
/// the one earliest in the table, so every lookup method gives the same answer.
#[derive(Default)]
struct Found {
    hidden: Option<(u64, Sym)>,
}

impl Found {
    /// Records a defined symbol named as wanted; `Some` when it is the final answer.
    fn offer<M: Memory>(&mut self, elf: &MappedElf, mem: &M, t: &Tables, idx: u64, sym: Sym) -> Option<Sym> {
        if !elf.is_hidden_version(mem, t, idx) {
            return Some(sym);
        }
        if self.hidden.is_none_or(|(i, _)| i > idx) {
            self.hidden = Some((idx, sym));
        }
        None
    }

    /// The best hidden-version candidate, once the search is over.
    fn fallback(&self) -> Option<Sym> {
        self.hidden.map(|h| h.1)
    }
}

/// The defined dynamic symbols by name, from one scan of the table in index order: for each name, the first symbol of
/// the default version (`false`), else the first of a hidden version (`true`) — the answer [`Found`] gives.
#[derive(Debug, Clone, Default)]
pub(super) struct ScanIndex {
    names: std::collections::HashMap<Vec<u8>, (bool, Sym)>,
    /// What stopped the scan before the end of the table: names not yet indexed may be defined after it.
    error: Option<ElfError>,
}

/// A decoded `DT_GNU_HASH` header.
struct GnuHash {
    nbuckets: u32,
    symoffset: u32,
    bloom_size: u32,
    bloom_shift: u32,
    bloom: Addr,
    buckets: Addr,
    chains: Addr,
}

/// A decoded `DT_HASH` header.
struct SysvHash {
    nbucket: u32,
    nchain: u32,
    buckets: Addr,
    chains: Addr,
}

/// The strategies [`MappedElf::lookup`] tries, in order (exposed to tests so they can check each one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LookupMethod {
    GnuHash,
    SysvHash,
    LinearScan,
}

impl MappedElf {
    /// Looks up a defined dynamic symbol by name, through `DT_GNU_HASH`, else `DT_HASH`, else a bounded linear scan
    /// of the dynamic symbol table. A strategy that fails (unreadable or malformed table) falls through to the next;
    /// if all fail, the first error is returned. `Ok(None)`: the object does not export `name`.
    ///
    /// The address is relocated (see [`Symbol::addr`]). Without a usable hash table, the first lookup scans the table
    /// once into an index (from `mem`) that later lookups answer from: pass the same memory to every lookup.
    pub fn lookup<M: Memory>(&self, mem: &M, name: &str) -> Result<Option<Symbol>, ElfError> {
        let mut first_err = None;
        for method in [LookupMethod::GnuHash, LookupMethod::SysvHash, LookupMethod::LinearScan] {
            match self.lookup_via(mem, name, method) {
                Ok(Some(r)) => return Ok(r),
                Ok(None) => {}
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        Err(first_err.unwrap_or_else(|| self.no_symbols("no usable DT_GNU_HASH, DT_HASH or symbol count".into())))
    }

    /// One lookup strategy. `Ok(None)`: the object lacks the table this strategy needs; `Ok(Some(None))`: the table
    /// says `name` is not defined.
    pub(crate) fn lookup_via<M: Memory>(
        &self,
        mem: &M,
        name: &str,
        method: LookupMethod,
    ) -> Result<Option<Option<Symbol>>, ElfError> {
        let (d, t) = self.tables()?;
        let bytes = name.as_bytes();
        let found = match method {
            LookupMethod::GnuHash => match d.gnu_hash {
                Some(gh) => self.gnu_lookup(mem, &t, gh, bytes)?,
                None => return Ok(None),
            },
            LookupMethod::SysvHash => match d.hash {
                Some(h) => self.sysv_lookup(mem, &t, h, bytes)?,
                None => return Ok(None),
            },
            LookupMethod::LinearScan => {
                // One scan of the table builds an index that every later lookup uses: without a hash table, a
                // scan per lookup would cost (names looked up) × (symbols).
                let index = self.scan_index.get_or_init(|| self.scan(mem, d, &t));
                match index.names.get(bytes) {
                    Some(&(false, sym)) => Some(sym),
                    _ if index.error.is_some() => return Err(index.error.clone().expect("checked")),
                    hidden => hidden.map(|&(_, sym)| sym),
                }
            }
        };
        Ok(Some(found.map(|sym| sym.to_symbol(bytes, self.load_bias))))
    }

    /// Scans the dynamic symbol table once into a [`ScanIndex`]. A failure (unreadable table or name) ends the scan
    /// and is kept: a lookup of a name not indexed before it fails with it, as a scan per lookup would.
    fn scan<M: Memory>(&self, mem: &M, d: &DynamicInfo, t: &Tables) -> ScanIndex {
        let mut index = ScanIndex::default();
        let n = match self.count_symbols(mem, d, t) {
            Ok(n) => n,
            Err(e) => {
                index.error = Some(e);
                return index;
            }
        };
        let walked = self.for_each_sym(mem, t, n, |idx, sym| {
            if sym.is_undefined() {
                return Ok(ControlFlow::Continue(()));
            }
            if let Some(name) = self.read_name(mem, t, sym.st_name, self.limits.max_name_len)? {
                let hidden = self.is_hidden_version(mem, t, idx);
                match index.names.entry(name) {
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert((hidden, sym));
                    }
                    std::collections::hash_map::Entry::Occupied(mut o) => {
                        if o.get().0 && !hidden {
                            o.insert((false, sym));
                        }
                    }
                }
            }
            Ok(ControlFlow::Continue(()))
        });
        if let Err(e) = walked {
            index.error = Some(e);
        }
        index
    }

    /// All defined dynamic symbols (undefined imports, section and file symbols, and unnamed ones are skipped), with
    /// relocated addresses.
    ///
    /// The table size is `nchain` from `DT_HASH`, else derived from the `DT_GNU_HASH` chains, else (last resort) the
    /// gap between `DT_SYMTAB` and `DT_STRTAB`. Names longer than
    /// [`ElfLimits::max_name_len`](crate::ElfLimits::max_name_len) are skipped.
    pub fn symbols<M: Memory>(&self, mem: &M) -> Result<Vec<Symbol>, ElfError> {
        let (d, t) = self.tables()?;
        let n = self.count_symbols(mem, d, &t)?;
        let mut out = Vec::new();
        self.for_each_sym(mem, &t, n, |_, sym| {
            if sym.is_reportable() {
                if let Some(name) = self.read_name(mem, &t, sym.st_name, self.limits.max_name_len)? {
                    if !name.is_empty() {
                        out.push(sym.to_symbol(&name, self.load_bias));
                    }
                }
            }
            Ok(ControlFlow::Continue(()))
        })?;
        Ok(out)
    }

    /// The number of entries in the dynamic symbol table (including the null symbol 0), determined as
    /// [`MappedElf::symbols`] does.
    pub fn dynamic_symbol_count<M: Memory>(&self, mem: &M) -> Result<u64, ElfError> {
        let (d, t) = self.tables()?;
        self.count_symbols(mem, d, &t)
    }

    // ---- hash tables ----

    fn gnu_header<M: Memory>(&self, mem: &M, gh: Addr) -> Result<GnuHash, ElfError> {
        let part = ElfPart::GnuHashTable;
        let mut b = [0u8; 16];
        mem.read_into(gh, &mut b).map_err(|source| self.read_err(part, gh, source))?;
        let word = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let (nbuckets, symoffset, bloom_size, bloom_shift) = (word(0), word(4), word(8), word(12));
        let max = self.limits.max_symbols;
        for (what, v, min) in
            [("bucket count", nbuckets, 1), ("bloom filter size", bloom_size, 1), ("symoffset", symoffset, 0)]
        {
            if v < min || u64::from(v) > max {
                return Err(self.malformed(part, format!("{what} {v} is out of range ({min}..={max})")));
            }
        }
        let overflow = || self.malformed(part, "overflows the address space".into());
        let bloom = gh.checked_add(16).ok_or_else(overflow)?;
        let buckets = bloom.checked_add(8 * u64::from(bloom_size)).ok_or_else(overflow)?;
        let chains = buckets.checked_add(4 * u64::from(nbuckets)).ok_or_else(overflow)?;
        Ok(GnuHash { nbuckets, symoffset, bloom_size, bloom_shift, bloom, buckets, chains })
    }

    /// The standard `DT_GNU_HASH` lookup: bloom filter, bucket, then the bucket's run of the chain array (whose
    /// entries hold the hash with bit 0 marking the run's end), comparing names only on hash match.
    fn gnu_lookup<M: Memory>(&self, mem: &M, t: &Tables, gh: Addr, name: &[u8]) -> Result<Option<Sym>, ElfError> {
        let part = ElfPart::GnuHashTable;
        let g = self.gnu_header(mem, gh)?;
        let h = raw::gnu_hash(name);
        let word_addr = g.bloom.wrapping_add(8 * u64::from((h / 64) % g.bloom_size));
        let word = mem.read_u64(word_addr).map_err(|source| self.read_err(part, word_addr, source))?;
        let mask = (1u64 << (h % 64)) | (1u64 << (h.checked_shr(g.bloom_shift).unwrap_or(0) % 64));
        if word & mask != mask {
            return Ok(None);
        }
        let bucket_addr = g.buckets.wrapping_add(4 * u64::from(h % g.nbuckets));
        let mut idx = mem.read_u32(bucket_addr).map_err(|source| self.read_err(part, bucket_addr, source))?;
        if idx == 0 {
            return Ok(None);
        }
        if idx < g.symoffset {
            return Err(self.malformed(part, format!("bucket holds symbol {idx}, below symoffset {}", g.symoffset)));
        }
        // Chains are contiguous runs, so a walk cannot cycle, but an unterminated run would go on until memory ends.
        let mut found = Found::default();
        for _ in 0..self.limits.max_symbols {
            let ch = self.gnu_chain(mem, &g, idx)?;
            if (ch | 1) == (h | 1) {
                let sym = self.read_sym(mem, t, u64::from(idx))?;
                if !sym.is_undefined() && self.name_is(mem, t, sym.st_name, name)? {
                    if let Some(sym) = found.offer(self, mem, t, u64::from(idx), sym) {
                        return Ok(Some(sym));
                    }
                }
            }
            if ch & 1 != 0 {
                return Ok(found.fallback());
            }
            idx = idx.checked_add(1).ok_or_else(|| self.malformed(part, "hash chain runs past 2^32 symbols".into()))?;
        }
        Err(self.malformed(part, format!("hash chain not terminated within {} entries", self.limits.max_symbols)))
    }

    /// `chains[idx - symoffset]` (`idx >= symoffset`).
    fn gnu_chain<M: Memory>(&self, mem: &M, g: &GnuHash, idx: u32) -> Result<u32, ElfError> {
        let a = g.chains.wrapping_add(4 * u64::from(idx - g.symoffset));
        mem.read_u32(a).map_err(|source| self.read_err(ElfPart::GnuHashTable, a, source))
    }

    /// The dynamic symbol count implied by a GNU hash table: one past the end of the chain run of the highest
    /// symbol index any bucket starts at (or `symoffset` when every bucket is empty).
    fn gnu_count<M: Memory>(&self, mem: &M, gh: Addr) -> Result<u64, ElfError> {
        let part = ElfPart::GnuHashTable;
        let g = self.gnu_header(mem, gh)?;
        let mut max_start = 0u32;
        self.read_u32s(mem, g.buckets, u64::from(g.nbuckets), part, |v| max_start = max_start.max(v))?;
        if max_start == 0 {
            return Ok(u64::from(g.symoffset));
        }
        if max_start < g.symoffset {
            return Err(
                self.malformed(part, format!("bucket holds symbol {max_start}, below symoffset {}", g.symoffset))
            );
        }
        let mut idx = max_start;
        while u64::from(idx) < self.limits.max_symbols {
            if self.gnu_chain(mem, &g, idx)? & 1 != 0 {
                return Ok(u64::from(idx) + 1);
            }
            idx = idx.checked_add(1).ok_or_else(|| self.malformed(part, "hash chain runs past 2^32 symbols".into()))?;
        }
        Err(self.malformed(part, format!("last hash chain not terminated below {} symbols", self.limits.max_symbols)))
    }

    fn sysv_header<M: Memory>(&self, mem: &M, h: Addr) -> Result<SysvHash, ElfError> {
        let part = ElfPart::SysvHashTable;
        let mut b = [0u8; 8];
        mem.read_into(h, &mut b).map_err(|source| self.read_err(part, h, source))?;
        let nbucket = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let nchain = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
        let max = self.limits.max_symbols;
        if nbucket == 0 || u64::from(nbucket) > max || u64::from(nchain) > max {
            return Err(self.malformed(part, format!("nbucket {nbucket} / nchain {nchain} out of range (1..={max})")));
        }
        let overflow = || self.malformed(part, "overflows the address space".into());
        let buckets = h.checked_add(8).ok_or_else(overflow)?;
        let chains = buckets.checked_add(4 * u64::from(nbucket)).ok_or_else(overflow)?;
        Ok(SysvHash { nbucket, nchain, buckets, chains })
    }

    /// The standard `DT_HASH` lookup: `bucket[hash % nbucket]`, then the `chain[]` linked list, which is checked for
    /// out-of-range links and cycles (at most `nchain` steps).
    fn sysv_lookup<M: Memory>(&self, mem: &M, t: &Tables, h: Addr, name: &[u8]) -> Result<Option<Sym>, ElfError> {
        let part = ElfPart::SysvHashTable;
        let s = self.sysv_header(mem, h)?;
        let bucket_addr = s.buckets.wrapping_add(4 * u64::from(raw::sysv_hash(name) % s.nbucket));
        let mut idx = mem.read_u32(bucket_addr).map_err(|source| self.read_err(part, bucket_addr, source))?;
        let mut steps = 0u32;
        let mut found = Found::default();
        while idx != 0 {
            if idx >= s.nchain {
                return Err(self.malformed(part, format!("chain links to symbol {idx}, beyond nchain {}", s.nchain)));
            }
            steps += 1;
            if steps > s.nchain {
                return Err(self.malformed(part, "cyclic hash chain".into()));
            }
            let sym = self.read_sym(mem, t, u64::from(idx))?;
            if !sym.is_undefined() && self.name_is(mem, t, sym.st_name, name)? {
                if let Some(sym) = found.offer(self, mem, t, u64::from(idx), sym) {
                    return Ok(Some(sym));
                }
            }
            let a = s.chains.wrapping_add(4 * u64::from(idx));
            idx = mem.read_u32(a).map_err(|source| self.read_err(part, a, source))?;
        }
        Ok(found.fallback())
    }

    /// The number of dynamic symbols: `DT_HASH`'s `nchain`, else from `DT_GNU_HASH`, else `(strtab - symtab) / 24`.
    fn count_symbols<M: Memory>(&self, mem: &M, d: &DynamicInfo, t: &Tables) -> Result<u64, ElfError> {
        let mut first_err = None;
        if let Some(h) = d.hash {
            match self.sysv_header(mem, h) {
                Ok(s) => return Ok(u64::from(s.nchain)),
                Err(e) => first_err = Some(e),
            }
        }
        if let Some(gh) = d.gnu_hash {
            match self.gnu_count(mem, gh) {
                Ok(n) => return Ok(n),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        // Last resort: linkers usually place .dynstr right after .dynsym.
        if let Some(gap) = t.strtab.0.checked_sub(t.symtab.0) {
            let n = gap / raw::SYM_SIZE as u64;
            if n > 0 && n <= self.limits.max_symbols {
                return Ok(n);
            }
        }
        Err(first_err.unwrap_or_else(|| {
            self.no_symbols("cannot tell how many dynamic symbols there are (no DT_HASH or DT_GNU_HASH)".into())
        }))
    }

    // ---- reading tables ----

    /// Calls `f` on `count` little-endian `u32`s at `addr`, read in page-sized chunks.
    fn read_u32s<M: Memory>(
        &self,
        mem: &M,
        addr: Addr,
        count: u64,
        part: ElfPart,
        mut f: impl FnMut(u32),
    ) -> Result<(), ElfError> {
        let mut buf = [0u8; 4096];
        let mut done = 0u64;
        while done < count {
            let n = (count - done).min(buf.len() as u64 / 4) as usize * 4;
            let a = addr.wrapping_add(done * 4);
            let chunk = &mut buf[..n];
            mem.read_into(a, chunk).map_err(|source| self.read_err(part, a, source))?;
            for w in chunk.chunks_exact(4) {
                f(u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
            }
            done += n as u64 / 4;
        }
        Ok(())
    }

    /// Calls `f(index, symbol)` for symbols `0..count`, read in chunks, until it breaks.
    fn for_each_sym<M: Memory>(
        &self,
        mem: &M,
        t: &Tables,
        count: u64,
        mut f: impl FnMut(u64, Sym) -> Result<ControlFlow<()>, ElfError>,
    ) -> Result<(), ElfError> {
        const CHUNK: u64 = 128;
        let mut buf = [0u8; CHUNK as usize * raw::SYM_SIZE];
        let mut idx = 0u64;
        while idx < count {
            let n = (count - idx).min(CHUNK);
            let a = self.sym_addr(t, idx)?;
            let chunk = &mut buf[..n as usize * raw::SYM_SIZE];
            mem.read_into(a, chunk).map_err(|source| self.read_err(ElfPart::SymbolTable, a, source))?;
            for (i, b) in chunk.chunks_exact(raw::SYM_SIZE).enumerate() {
                let Some(b) = raw::array_at(b, 0) else {
                    continue;
                };
                if f(idx + i as u64, Sym::parse(b))?.is_break() {
                    return Ok(());
                }
            }
            idx += n;
        }
        Ok(())
    }

    fn sym_addr(&self, t: &Tables, idx: u64) -> Result<Addr, ElfError> {
        t.symtab
            .checked_add(idx * raw::SYM_SIZE as u64)
            .ok_or_else(|| self.malformed(ElfPart::SymbolTable, format!("symbol {idx} overflows the address space")))
    }

    fn read_sym<M: Memory>(&self, mem: &M, t: &Tables, idx: u64) -> Result<Sym, ElfError> {
        let a = self.sym_addr(t, idx)?;
        let mut b = [0u8; raw::SYM_SIZE];
        mem.read_into(a, &mut b).map_err(|source| self.read_err(ElfPart::SymbolTable, a, source))?;
        Ok(Sym::parse(&b))
    }

    /// True if symbol `idx` is a non-default version (hidden bit in `DT_VERSYM`). An unreadable version array only
    /// loses the tie-break between versions, so it counts as "not hidden".
    fn is_hidden_version<M: Memory>(&self, mem: &M, t: &Tables, idx: u64) -> bool {
        let Some(a) = t.versym.and_then(|v| v.checked_add(2 * idx)) else { return false };
        mem.read_u16(a).is_ok_and(|v| v & raw::VERSYM_HIDDEN != 0)
    }

    /// The string at `off` in the string table, if it is within `DT_STRSZ` and NUL-terminated within `max` bytes.
    pub(super) fn read_name<M: Memory>(
        &self,
        mem: &M,
        t: &Tables,
        off: u32,
        max: usize,
    ) -> Result<Option<Vec<u8>>, ElfError> {
        let off = u64::from(off);
        let mut max = max;
        if let Some(sz) = t.strsz {
            if off >= sz {
                return Ok(None);
            }
            max = max.min(usize::try_from(sz - off - 1).unwrap_or(usize::MAX));
        }
        let Some(a) = t.strtab.checked_add(off) else {
            return Ok(None);
        };
        match mem.read_cstr(a, max) {
            Ok(v) => Ok(Some(v)),
            Err(ReadError::Unterminated { .. }) => Ok(None),
            Err(source) => Err(self.read_err(ElfPart::StringTable, a, source)),
        }
    }

    /// True if the string at `off` is `name` (reads at most `name.len() + 1` bytes).
    fn name_is<M: Memory>(&self, mem: &M, t: &Tables, off: u32, name: &[u8]) -> Result<bool, ElfError> {
        Ok(self.read_name(mem, t, off, name.len())?.is_some_and(|n| n == name))
    }
}
