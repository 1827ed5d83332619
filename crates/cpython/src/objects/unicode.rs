//! `str` (`PyUnicodeObject`, PEP 393): compact ASCII, compact latin-1 / UCS-2 / UCS-4, legacy non-compact strings
//! (str subclasses, and ≤3.11 strings made by the old `Py_UNICODE` APIs, including not-ready `wstr`-only ones).

use heapscope_coredump::{Addr, ProcessImage};

use super::{DecodeError, Heap, Kind, StrBits, MAX_READ_BYTES};

/// `sizeof(wchar_t)` on Linux: the unit of ≤3.11 `wstr` buffers.
const WCHAR_SIZE: u64 = 4;

/// A decoded `str`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyStr {
    /// The text, or its first `max_chars` code points when `truncated`. Lone surrogates (which a Python str may hold
    /// but a Rust `String` may not) are replaced by U+FFFD here; [`Heap::str_code_points`] keeps them.
    pub text: String,
    /// `len(s)`: the number of code points of the whole string.
    pub len: u64,
    /// True when `text` holds only a prefix of the string.
    pub truncated: bool,
    /// Bytes per code point in memory: 1 (ASCII / latin-1), 2 (UCS-2) or 4 (UCS-4).
    pub kind: u8,
    /// Pure ASCII.
    pub ascii: bool,
    /// Compact (the characters follow the header) rather than in a separate buffer.
    pub compact: bool,
    /// `SSTATE_*` interning state: 0 not interned, 1 mortal, 2 immortal, 3 immortal static (3.12+).
    pub interned: u8,
}

/// A str's header, decoded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StrHeader {
    len: u64,
    kind: u8,
    ascii: bool,
    compact: bool,
    interned: u8,
    /// Where the characters are (null for a non-compact string without a data buffer).
    data: Addr,
}

impl StrHeader {
    /// `len(s)` (for ≤3.11 not-ready strings, the `length` field, which may be 0).
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// `PyUnicode_KIND`: 1, 2 or 4, or 0 for a ≤3.11 string not made ready.
    pub(crate) fn kind(&self) -> u8 {
        self.kind
    }
}

impl<P: ProcessImage + ?Sized> Heap<'_, P> {
    /// Decodes the str (or str subclass instance) at `obj`, reading at most `max_chars` code points (and never more
    /// than [`MAX_READ_BYTES`]` / 4`, 16 Mi, whatever `max_chars` says).
    pub fn str_value(&self, obj: Addr, max_chars: usize) -> Result<PyStr, DecodeError> {
        let (h, cps) = self.str_parts(obj, max_chars)?;
        let text = cps.iter().map(|&c| char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER)).collect();
        Ok(PyStr {
            text,
            len: h.len,
            truncated: (cps.len() as u64) < h.len,
            kind: h.kind,
            ascii: h.ascii,
            compact: h.compact,
            interned: h.interned,
        })
    }

    /// The first `max_chars` code points of the str at `obj`, surrogates kept, and `len(s)`.
    pub fn str_code_points(&self, obj: Addr, max_chars: usize) -> Result<(Vec<u32>, u64), DecodeError> {
        let (h, cps) = self.str_parts(obj, max_chars)?;
        Ok((cps, h.len))
    }

    /// `str.__sizeof__` of the str at `obj` (`unicode_sizeof_impl`): header + characters + NUL, plus a separate
    /// UTF-8 buffer and (≤3.11) a separate `wstr` buffer when the string has them. `sys.getsizeof` of an exact str
    /// is this value (str is not a GC type).
    pub fn str_sizeof(&self, obj: Addr) -> Result<u64, DecodeError> {
        let h = self.str_header(obj)?;
        let l = &self.layout;
        // `length`, `wstr_length` and `utf8_length` come from the core: saturate rather than wrap.
        let chars = h.len.saturating_add(1).saturating_mul(u64::from(h.kind));
        let mut size = if h.compact && h.ascii {
            self.size_of(&l.ascii.size, obj)?.saturating_add(h.len).saturating_add(1)
        } else if h.compact {
            self.size_of(&l.compact_unicode.size, obj)?.saturating_add(chars)
        } else {
            self.size_of(&l.unicode.size, obj)?.saturating_add(if h.data.is_null() { 0 } else { chars })
        };
        if l.ascii.wstr.is_known() {
            let wstr = self.ptr(obj, &l.ascii.wstr, "str")?;
            let ready = h.kind != 0;
            if !wstr.is_null() && (!ready || wstr != h.data) {
                let wlen =
                    if h.compact && h.ascii { h.len } else { self.u64(obj, &l.compact_unicode.wstr_length, "str")? };
                size = size.saturating_add(wlen.saturating_add(1).saturating_mul(WCHAR_SIZE));
            }
        }
        if !(h.compact && h.ascii) {
            let utf8 = self.ptr(obj, &l.compact_unicode.utf8, "str")?;
            if !utf8.is_null() && utf8 != h.data {
                size = size.saturating_add(self.u64(obj, &l.compact_unicode.utf8_length, "str")?.saturating_add(1));
            }
        }
        Ok(size)
    }

    fn size_of(&self, f: &crate::layout::Field, obj: Addr) -> Result<u64, DecodeError> {
        f.get().map_err(|source| DecodeError::Layout { addr: obj, what: "str", source })
    }

    /// The header of the str at `obj`: length, kind, flags and where its characters are.
    pub(crate) fn str_header(&self, obj: Addr) -> Result<StrHeader, DecodeError> {
        let l = &self.layout;
        let len = self.u64(obj, &l.ascii.length, "str")?;
        let at = self.at(obj, &l.ascii.state, "str")?;
        let mut state = [0u8; 2];
        self.process.read_into(at, &mut state).map_err(|source| DecodeError::Read {
            addr: obj,
            what: "str",
            field: "PyASCIIObject.state",
            source,
        })?;
        let StrBits { interned, kind, compact, ascii } = self.features.str_state.decode(state);
        let bad = |why: String| DecodeError::malformed(obj, "str", why);
        if (len as i64) < 0 {
            return Err(bad(format!("negative length {}", len as i64)));
        }
        if !matches!(kind, 0 | 1 | 2 | 4)
            || (ascii && kind != 1)
            || (kind == 0 && (compact || !l.ascii.wstr.is_known()))
        {
            return Err(bad(format!("impossible state: kind {kind}, compact {compact}, ascii {ascii}")));
        }
        let data = if kind == 0 {
            // ≤3.11 legacy string not made ready: only the wchar_t buffer exists.
            self.ptr(obj, &l.ascii.wstr, "str")?
        } else if compact && ascii {
            obj.wrapping_add(self.size_of(&l.ascii.size, obj)?)
        } else if compact {
            obj.wrapping_add(self.size_of(&l.compact_unicode.size, obj)?)
        } else {
            self.ptr(obj, &l.unicode.data, "str")?
        };
        Ok(StrHeader { len, kind, ascii, compact, interned, data })
    }

    fn str_parts(&self, obj: Addr, max_chars: usize) -> Result<(StrHeader, Vec<u32>), DecodeError> {
        let mut h = self.str_header(obj)?;
        let unit = if h.kind == 0 {
            // Not ready: the length is the wstr length, the data UCS-4 wchar_t.
            h.len = self.u64(obj, &self.layout.compact_unicode.wstr_length, "str")?;
            if (h.len as i64) < 0 {
                return Err(DecodeError::malformed(obj, "str", "negative wstr length"));
            }
            WCHAR_SIZE as usize
        } else {
            usize::from(h.kind)
        };
        // At most MAX_READ_BYTES / 4 code points: the decoded `u32`s stay within MAX_READ_BYTES too.
        let n = (h.len.min(max_chars as u64) as usize).min(MAX_READ_BYTES / 4);
        if n == 0 {
            return Ok((h, Vec::new()));
        }
        if h.data.is_null() {
            return Err(DecodeError::malformed(obj, "str", "no character data"));
        }
        let bytes = self.process.bytes(h.data, n * unit).map_err(|source| DecodeError::Read {
            addr: obj,
            what: "str",
            field: "characters",
            source,
        })?;
        let cps: Vec<u32> = match unit {
            1 => bytes.iter().map(|&b| u32::from(b)).collect(),
            2 => bytes.chunks_exact(2).map(|c| u32::from(u16::from_le_bytes([c[0], c[1]]))).collect(),
            _ => bytes.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect(),
        };
        if let Some(bad) = cps.iter().find(|&&c| c > 0x10FFFF || (h.ascii && c > 0x7F)) {
            return Err(DecodeError::malformed(obj, "str", format!("code point {bad:#x} out of range for its kind")));
        }
        if h.kind == 0 {
            h.kind = 4;
        }
        Ok((h, cps))
    }

    /// Decodes `obj` as a str if it is one (or a subclass), else `None`.
    pub(crate) fn str_if_str(&self, obj: Addr, max_chars: usize) -> Result<Option<String>, DecodeError> {
        if self.kind(obj)? != Kind::Str {
            return Ok(None);
        }
        Ok(Some(self.str_value(obj, max_chars)?.text))
    }
}
