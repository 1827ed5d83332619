//! Scalars with inline payloads: `bytes`, `bytearray`, `float`, `complex`.

use heapscope_coredump::{Addr, ProcessImage};

use super::{DecodeError, Heap, Kind, MAX_READ_BYTES};

/// A decoded `bytes` or `bytearray` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyBytes {
    /// The bytes, or the first `max` of them when `truncated`.
    pub data: Vec<u8>,
    /// `len(b)`.
    pub len: u64,
    /// True when `data` holds only a prefix.
    pub truncated: bool,
}

impl<P: ProcessImage + ?Sized> Heap<'_, P> {
    /// Decodes the bytes (or bytes subclass instance) at `obj`, reading at most `max` bytes.
    pub fn bytes_value(&self, obj: Addr, max: usize) -> Result<PyBytes, DecodeError> {
        let len = self.len_of(obj, "bytes")?;
        let at = self.at(obj, &self.layout.bytes.ob_sval, "bytes")?;
        self.read_bytes(obj, at, len, max, "bytes")
    }

    /// Decodes the bytearray (or subclass instance) at `obj`, reading at most `max` bytes.
    pub fn bytearray_value(&self, obj: Addr, max: usize) -> Result<PyBytes, DecodeError> {
        let len = self.len_of(obj, "bytearray")?;
        let alloc = self.u64(obj, &self.layout.bytearray.ob_alloc, "bytearray")?;
        // ≤3.14 the buffer keeps room for a trailing NUL; 3.15+ it is the bytes object at `ob_bytes_object`, whose
        // whole length `ob_alloc` is.
        let room = u64::from(!self.layout.bytearray.ob_bytes_object.is_known());
        if len > 0 && len.saturating_add(room) > alloc {
            return Err(DecodeError::malformed(obj, "bytearray", format!("length {len} ≥ allocated {alloc}")));
        }
        let start = self.ptr(obj, &self.layout.bytearray.ob_start, "bytearray")?;
        self.read_bytes(obj, start, len, max, "bytearray")
    }

    /// The float value of the float (or subclass instance) at `obj`.
    pub fn float_value(&self, obj: Addr) -> Result<f64, DecodeError> {
        Ok(f64::from_bits(self.u64(obj, &self.layout.float.ob_fval, "float")?))
    }

    /// `(real, imag)` of the complex (or subclass instance) at `obj`. `PyComplexObject` is
    /// `{PyObject_HEAD; Py_complex cval;}`, so `cval` starts right after the object header, `sizeof(PyObject)`.
    pub fn complex_value(&self, obj: Addr) -> Result<(f64, f64), DecodeError> {
        self.expect_kind(obj, Kind::Complex)?;
        let at = self.at(obj, &self.layout.object.size, "complex")?;
        let read = |a: Addr, field| {
            self.process.read_u64(a).map(f64::from_bits).map_err(|source| DecodeError::Read {
                addr: obj,
                what: "complex",
                field,
                source,
            })
        };
        Ok((read(at, "cval.real")?, read(at.wrapping_add(8), "cval.imag")?))
    }

    /// `Py_SIZE(obj)` as a length: an error when negative.
    pub(crate) fn len_of(&self, obj: Addr, what: &'static str) -> Result<u64, DecodeError> {
        let n = self.ob_size(obj)?;
        u64::try_from(n).map_err(|_| DecodeError::malformed(obj, what, format!("negative size {n}")))
    }

    fn read_bytes(
        &self,
        obj: Addr,
        at: Addr,
        len: u64,
        max: usize,
        what: &'static str,
    ) -> Result<PyBytes, DecodeError> {
        let n = len.min(max as u64).min(MAX_READ_BYTES as u64) as usize;
        let data = if n == 0 {
            Vec::new()
        } else {
            self.process
                .bytes(at, n)
                .map_err(|source| DecodeError::Read { addr: obj, what, field: "data", source })?
                .into_owned()
        };
        Ok(PyBytes { truncated: (n as u64) < len, data, len })
    }
}
