//! The [`Memory`] trait: reading the analysed process's address space.
//!
//! Every decoder above this crate is generic over `Memory`, so the same code runs on a core file, a live process, or
//! a synthetic image built in a unit test.

use std::borrow::Cow;

use crate::{Addr, ReadError};

/// Read access to the address space of the analysed process (little-endian, 64-bit).
pub trait Memory {
    /// Fills `buf` with the bytes at `addr..addr + buf.len()`, or fails without a partial answer.
    fn read_into(&self, addr: Addr, buf: &mut [u8]) -> Result<(), ReadError>;

    /// The bytes at `addr..addr + len`: borrowed when the implementation can (an mmap'd core), else copied.
    ///
    /// `len` must already be capped by the caller: it sizes an allocation.
    fn bytes(&self, addr: Addr, len: usize) -> Result<Cow<'_, [u8]>, ReadError> {
        let mut v = vec![0u8; len];
        self.read_into(addr, &mut v)?;
        Ok(Cow::Owned(v))
    }

    /// Reads one byte.
    fn read_u8(&self, addr: Addr) -> Result<u8, ReadError> {
        let mut b = [0u8; 1];
        self.read_into(addr, &mut b)?;
        Ok(b[0])
    }

    /// Reads a little-endian `u16`.
    fn read_u16(&self, addr: Addr) -> Result<u16, ReadError> {
        let mut b = [0u8; 2];
        self.read_into(addr, &mut b)?;
        Ok(u16::from_le_bytes(b))
    }

    /// Reads a little-endian `u32`.
    fn read_u32(&self, addr: Addr) -> Result<u32, ReadError> {
        let mut b = [0u8; 4];
        self.read_into(addr, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// Reads a little-endian `i32`.
    fn read_i32(&self, addr: Addr) -> Result<i32, ReadError> {
        self.read_u32(addr).map(|v| v as i32)
    }

    /// Reads a little-endian `u64`.
    fn read_u64(&self, addr: Addr) -> Result<u64, ReadError> {
        let mut b = [0u8; 8];
        self.read_into(addr, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    /// Reads a little-endian `i64`.
    fn read_i64(&self, addr: Addr) -> Result<i64, ReadError> {
        self.read_u64(addr).map(|v| v as i64)
    }

    /// Reads a pointer (8 bytes).
    fn read_ptr(&self, addr: Addr) -> Result<Addr, ReadError> {
        self.read_u64(addr).map(Addr)
    }

    /// Reads a NUL-terminated string of at most `max` bytes (the NUL excluded).
    ///
    /// Fails with [`ReadError::Unterminated`] when no NUL is found within `max` bytes. Reads in small chunks so a
    /// string near the end of a mapping is still found.
    fn read_cstr(&self, addr: Addr, max: usize) -> Result<Vec<u8>, ReadError> {
        const CHUNK: usize = 64;
        let mut out = Vec::new();
        let mut cur = addr;
        let mut chunk = [0u8; CHUNK];
        while out.len() < max + 1 {
            // Do not cross into the next page in one read: the next page may be missing.
            let to_page_end = (4096 - (cur.0 % 4096)) as usize;
            let n = CHUNK.min(to_page_end).min(max + 1 - out.len());
            self.read_into(cur, &mut chunk[..n])?;
            if let Some(pos) = chunk[..n].iter().position(|&b| b == 0) {
                out.extend_from_slice(&chunk[..pos]);
                return Ok(out);
            }
            out.extend_from_slice(&chunk[..n]);
            cur = cur.checked_add(n as u64).ok_or(ReadError::Overflow { addr, len: max as u64 })?;
        }
        Err(ReadError::Unterminated { addr, max })
    }
}

/// Forwards the fixed-size reads too, so a wrapper keeps the inner type's fast path.
macro_rules! forward_fixed_reads {
    () => {
        #[inline]
        fn read_u8(&self, addr: Addr) -> Result<u8, ReadError> {
            (**self).read_u8(addr)
        }
        #[inline]
        fn read_u16(&self, addr: Addr) -> Result<u16, ReadError> {
            (**self).read_u16(addr)
        }
        #[inline]
        fn read_u32(&self, addr: Addr) -> Result<u32, ReadError> {
            (**self).read_u32(addr)
        }
        #[inline]
        fn read_u64(&self, addr: Addr) -> Result<u64, ReadError> {
            (**self).read_u64(addr)
        }
    };
}

impl<M: Memory + ?Sized> Memory for &M {
    fn read_into(&self, addr: Addr, buf: &mut [u8]) -> Result<(), ReadError> {
        (**self).read_into(addr, buf)
    }
    forward_fixed_reads!();
    fn bytes(&self, addr: Addr, len: usize) -> Result<Cow<'_, [u8]>, ReadError> {
        (**self).bytes(addr, len)
    }
}

impl<M: Memory + ?Sized> Memory for Box<M> {
    fn read_into(&self, addr: Addr, buf: &mut [u8]) -> Result<(), ReadError> {
        (**self).read_into(addr, buf)
    }
    forward_fixed_reads!();
    fn bytes(&self, addr: Addr, len: usize) -> Result<Cow<'_, [u8]>, ReadError> {
        (**self).bytes(addr, len)
    }
}

impl<M: Memory + ?Sized> Memory for std::sync::Arc<M> {
    fn read_into(&self, addr: Addr, buf: &mut [u8]) -> Result<(), ReadError> {
        (**self).read_into(addr, buf)
    }
    forward_fixed_reads!();
    fn bytes(&self, addr: Addr, len: usize) -> Result<Cow<'_, [u8]>, ReadError> {
        (**self).bytes(addr, len)
    }
}

/// A synthetic address space for unit tests of decoders: a list of (address, bytes) regions.
#[derive(Debug, Default, Clone)]
pub struct SyntheticMemory {
    regions: Vec<(Addr, Vec<u8>)>,
}

impl SyntheticMemory {
    /// An empty address space.
    pub fn new() -> Self {
        Self::default()
    }

    /// Maps `bytes` at `addr` (regions must not overlap).
    pub fn map(&mut self, addr: Addr, bytes: Vec<u8>) -> &mut Self {
        self.regions.push((addr, bytes));
        self.regions.sort_by_key(|r| r.0);
        self
    }
}

impl Memory for SyntheticMemory {
    fn read_into(&self, addr: Addr, buf: &mut [u8]) -> Result<(), ReadError> {
        let len = buf.len() as u64;
        let mut done = 0usize;
        while done < buf.len() {
            let cur = addr.checked_add(done as u64).ok_or(ReadError::Overflow { addr, len })?;
            let region = self
                .regions
                .iter()
                .find(|(start, bytes)| cur >= *start && cur.0 - start.0 < bytes.len() as u64)
                .ok_or(ReadError::Unmapped { addr: cur })?;
            let off = (cur.0 - region.0 .0) as usize;
            let n = (region.1.len() - off).min(buf.len() - done);
            buf[done..done + n].copy_from_slice(&region.1[off..off + n]);
            done += n;
        }
        Ok(())
    }
}
