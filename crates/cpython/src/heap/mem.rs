//! Small, allocation-free reads for the per-object passes (`object_info`, `referents`): a word at a layout field, an
//! array of pointers visited in place, with errors that name the object being decoded.

use heapscope_coredump::{Addr, ProcessImage};

use crate::layout::{Field, Layout};
use crate::objects::{DecodeError, Heap};

/// Most pointer-sized items visited in one container (2²⁸ items, 2 GiB of pointers): a corrupt length can make a
/// pass slow, never unbounded.
pub(crate) const MAX_ITEMS: u64 = 1 << 28;

/// Bytes read per chunk when walking a long pointer array (the chunk lives on the stack).
const CHUNK_WORDS: usize = 512;

/// Reads of the analysed process on behalf of one decoding pass.
pub(crate) struct Mem<'h, 'a, P: ProcessImage + ?Sized> {
    /// The decoding context.
    pub heap: &'h Heap<'a, P>,
    /// Its process image.
    pub p: &'a P,
    /// Its layout.
    pub l: &'a Layout,
}

impl<'h, 'a, P: ProcessImage + ?Sized> Mem<'h, 'a, P> {
    pub(crate) fn new(heap: &'h Heap<'a, P>) -> Self {
        Mem { heap, p: heap.process(), l: heap.layout() }
    }

    /// The offset of `f`, or a layout error naming the object.
    #[inline]
    pub(crate) fn off(&self, obj: Addr, f: &Field, what: &'static str) -> Result<u64, DecodeError> {
        f.get().map_err(|source| DecodeError::Layout { addr: obj, what, source })
    }

    /// The 8-byte word at `at`, which belongs to the object `obj`.
    #[inline]
    pub(crate) fn word(
        &self,
        obj: Addr,
        at: Addr,
        what: &'static str,
        field: &'static str,
    ) -> Result<u64, DecodeError> {
        self.p.read_u64(at).map_err(|source| DecodeError::Read { addr: obj, what, field, source })
    }

    /// The 4-byte word at `at`.
    #[inline]
    pub(crate) fn word32(
        &self,
        obj: Addr,
        at: Addr,
        what: &'static str,
        field: &'static str,
    ) -> Result<u32, DecodeError> {
        self.p.read_u32(at).map_err(|source| DecodeError::Read { addr: obj, what, field, source })
    }

    /// The byte at `at`.
    #[inline]
    pub(crate) fn byte(&self, obj: Addr, at: Addr, what: &'static str, field: &'static str) -> Result<u8, DecodeError> {
        self.p.read_u8(at).map_err(|source| DecodeError::Read { addr: obj, what, field, source })
    }

    /// The 8-byte field `f` of the struct at `base` (which belongs to the object `obj`).
    #[inline]
    pub(crate) fn field_of(&self, obj: Addr, base: Addr, f: &Field, what: &'static str) -> Result<u64, DecodeError> {
        let at = base.wrapping_add(self.off(obj, f, what)?);
        self.word(obj, at, what, f.name)
    }

    /// The 8-byte field `f` of the object `obj`.
    #[inline]
    pub(crate) fn field(&self, obj: Addr, f: &Field, what: &'static str) -> Result<u64, DecodeError> {
        self.field_of(obj, obj, f, what)
    }

    /// The pointer field `f` of the object `obj`.
    #[inline]
    pub(crate) fn ptr(&self, obj: Addr, f: &Field, what: &'static str) -> Result<Addr, DecodeError> {
        self.field(obj, f, what).map(Addr)
    }

    /// `ob_size` of the var-sized object `obj`, signed.
    #[inline]
    pub(crate) fn ob_size(&self, obj: Addr) -> Result<i64, DecodeError> {
        Ok(self.field(obj, &self.l.var_object.ob_size, "var-sized object")? as i64)
    }

    /// Calls `f(index, word)` for the `n` words at `at` (part of `obj`), in order, reading in stack-sized chunks;
    /// none when the last word cannot be read. `n` is capped at [`MAX_ITEMS`] by the caller.
    pub(crate) fn for_words(
        &self,
        obj: Addr,
        at: Addr,
        n: u64,
        what: &'static str,
        mut f: impl FnMut(u64, u64),
    ) -> Result<(), DecodeError> {
        if n > MAX_ITEMS {
            return Err(DecodeError::Malformed {
                addr: obj,
                what,
                why: format!("{n} items is more than heapscope visits"),
            });
        }
        // The last word first: a length the memory cannot hold (a corrupt or crafted count) is refused before the
        // words up to the end of the mapping are taken for items.
        if let Some(last) = n.checked_sub(1) {
            self.p.read_u64(at.wrapping_add(last.wrapping_mul(8))).map_err(|source| DecodeError::Read {
                addr: obj,
                what,
                field: "items",
                source,
            })?;
        }
        let mut buf = [0u8; CHUNK_WORDS * 8];
        let mut i = 0u64;
        while i < n {
            let k = (n - i).min(CHUNK_WORDS as u64) as usize;
            let from = at.wrapping_add(i * 8);
            self.p.read_into(from, &mut buf[..k * 8]).map_err(|source| DecodeError::Read {
                addr: obj,
                what,
                field: "items",
                source,
            })?;
            for (j, c) in buf[..k * 8].chunks_exact(8).enumerate() {
                let mut w = [0u8; 8];
                w.copy_from_slice(c);
                f(i + j as u64, u64::from_le_bytes(w));
            }
            i += k as u64;
        }
        Ok(())
    }
}

/// A malformed-object error (the message is built only on this error path).
#[cold]
pub(crate) fn malformed(obj: Addr, what: &'static str, why: impl Into<String>) -> DecodeError {
    DecodeError::Malformed { addr: obj, what, why: why.into() }
}
