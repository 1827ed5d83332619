//! [`AddrIndex`]: address → dense id over a sorted address list, without a hash entry per object.
//!
//! Objects are looked up tens of millions of times while edges are resolved, so the index must be fast and small:
//! a hash map from 4 KiB page to the range of the sorted list holding that page's objects, then a binary search in
//! that range (a few hundred entries at most, usually a few dozen, contiguous in memory). Memory: the sorted list
//! (8 bytes per object) plus one entry per page that holds an object.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// Bits of an address that select its page in the index.
const PAGE_SHIFT: u32 = 12;

/// A fast hasher for integer keys (multiply-rotate, as rustc's FxHasher). Not DoS-resistant, which is fine: keys
/// come from one core, and the worst case is a slower lookup, never a wrong one.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u32(&mut self, x: u32) {
        self.write_u64(u64::from(x));
    }

    fn write_usize(&mut self, x: usize) {
        self.write_u64(x as u64);
    }

    fn write_isize(&mut self, x: isize) {
        self.write_u64(x as u64);
    }

    #[inline]
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// A `HashMap` keyed by integers, with [`IntHasher`].
pub(crate) type IntMap<K, V> = HashMap<K, V, BuildHasherDefault<IntHasher>>;
/// A `HashSet` of integers, with [`IntHasher`].
pub(crate) type IntSet<K> = HashSet<K, BuildHasherDefault<IntHasher>>;

/// Sorted, distinct addresses and a page directory over them.
#[derive(Debug, Default)]
pub(crate) struct AddrIndex {
    /// Sorted ascending, no duplicates: position = id.
    addrs: Vec<u64>,
    /// Page → `(first, end)` positions in `addrs`.
    pages: IntMap<u64, (u32, u32)>,
}

impl AddrIndex {
    /// An index over `addrs`, which must be sorted ascending without duplicates, with fewer than 2³² entries.
    pub(crate) fn new(addrs: Vec<u64>) -> AddrIndex {
        debug_assert!(addrs.windows(2).all(|w| w[0] < w[1]));
        let mut pages = IntMap::default();
        let mut i = 0usize;
        while i < addrs.len() {
            let page = addrs[i] >> PAGE_SHIFT;
            let start = i;
            while i < addrs.len() && addrs[i] >> PAGE_SHIFT == page {
                i += 1;
            }
            pages.insert(page, (start as u32, i as u32));
        }
        AddrIndex { addrs, pages }
    }

    /// An index over addresses that may break its invariant, to test that readers refuse them.
    #[cfg(test)]
    pub(crate) fn unchecked(addrs: Vec<u64>) -> AddrIndex {
        AddrIndex { addrs, pages: IntMap::default() }
    }

    /// The position of `addr`, if it is in the index.
    #[inline]
    pub(crate) fn get(&self, addr: u64) -> Option<u32> {
        let &(start, end) = self.pages.get(&(addr >> PAGE_SHIFT))?;
        let range = &self.addrs[start as usize..end as usize];
        range.binary_search(&addr).ok().map(|k| start + k as u32)
    }

    /// Number of addresses.
    pub(crate) fn len(&self) -> usize {
        self.addrs.len()
    }

    /// The sorted addresses.
    pub(crate) fn addrs(&self) -> &[u64] {
        &self.addrs
    }

    /// Bytes of memory held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.addrs.capacity() * 8 + self.pages.capacity() * 24
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_exactly_the_indexed_addresses() {
        let addrs: Vec<u64> = vec![0x10, 0x20, 0xff0, 0x1000, 0x1008, 0x7fff_0000_0010, u64::MAX - 7];
        let idx = AddrIndex::new(addrs.clone());
        for (i, &a) in addrs.iter().enumerate() {
            assert_eq!(idx.get(a), Some(i as u32));
        }
        for a in [0, 0x18, 0xff8, 0x1010, 0x7fff_0000_0000, u64::MAX] {
            assert_eq!(idx.get(a), None, "{a:#x}");
        }
        assert_eq!(idx.len(), addrs.len());
        assert!(AddrIndex::new(Vec::new()).get(0).is_none());
    }
}
