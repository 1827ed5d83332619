//! `__sizeof__` of every type family, as CPython computes it, version by version (the value `sys.getsizeof` adds
//! the pre-header to), and the out-of-line memory an object owns that `__sizeof__` leaves out.
//!
//! | kind | `__sizeof__` |
//! |---|---|
//! | default | `tp_basicsize + ob_size * tp_itemsize` (the latter when `tp_itemsize > 0`), not rounded |
//! | int | `offsetof(ob_digit) + ndigits * 4`; 3.11+ at least one digit (`0` is 28) |
//! | str | header + (len + 1) × kind, + a separate UTF-8 buffer (and ≤3.11 `wstr`) when present |
//! | list | `tp_basicsize + allocated * 8` |
//! | dict | `tp_basicsize` + split values (≤3.10 `usable * 8`, 3.11+ `(dk_nentries + dk_usable) * 8`) + the keys object when the dict owns it (`dk_refcnt == 1`) |
//! | set | `tp_basicsize` + `(mask + 1) * 16` when the table is not the inline `smalltable` |
//! | type | `sizeof(PyHeapTypeObject)` + its `ht_cached_keys`, or `sizeof(PyTypeObject)` for static types |
//! | code | ≤3.10 `tp_basicsize` (+ `len(co_cellvars) * 8` with `co_cell2arg`); 3.11+ `_PyObject_VAR_SIZE` (rounded to 8); + `co_extra` |
//! | frame | ≤3.10 `sizeof(PyFrameObject) + (slots - 1) * 8`; 3.11+ `offsetof(_f_frame_data) + offsetof(localsplus) + slots * 8` |
//! | generator (3.11+) | `offsetof(gi_iframe) + offsetof(localsplus) + slots * 8` (slots = `co_nlocalsplus + co_stacksize`) |
//! | deque, Struct, Pattern, array, Buffered*, OrderedDict, StgDict, ctypes metatypes | their own (see each function) |
//! | numpy ndarray, numpy scalars | numpy's `array_sizeof` and `gentype_sizeof` (see `numpy.rs`) |

use heapscope_coredump::{Addr, ProcessImage};

use super::mem::{malformed, Mem};
use super::type_facts::{SizeofKind, TypeFacts};
use crate::frames::SlotNames;
use crate::layout::Field;
use crate::objects::DecodeError;

/// `sizeof(block)` of a deque: 64 item slots and two links.
const DEQUE_BLOCK_SIZE: u64 = 528;
/// Items per deque block (`BLOCKLEN`).
const DEQUE_BLOCKLEN: u64 = 64;
/// `sizeof(digit)`.
const DIGIT_SIZE: u64 = 4;
/// `sizeof(setentry)`.
const SET_ENTRY_SIZE: u64 = 16;
/// `sizeof(_ODictNode)`: key, hash, next, prev.
const ODICT_NODE_SIZE: u64 = 32;
/// Most format codes of one `struct.Struct` counted.
const MAX_STRUCT_CODES: u64 = 1 << 20;
/// Longest ctypes format string measured.
const MAX_FORMAT: usize = 1 << 16;

/// `__sizeof__` and the bytes the object really owns (both without the pre-header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sz {
    /// `type(o).__sizeof__(o)`.
    pub size: u64,
    /// The object's own memory: `size`, minus what it counts but does not own (3.13+ embedded values of a dict),
    /// plus what it owns but does not count (an instance's values array, 3.11+).
    pub footprint: u64,
}

impl Sz {
    fn same(size: u64) -> Sz {
        Sz { size, footprint: size }
    }
}

/// `__sizeof__` of `obj`, an instance of the type described by `f`.
pub(crate) fn sizeof<P: ProcessImage + ?Sized>(
    m: &Mem<'_, '_, P>,
    f: &TypeFacts,
    obj: Addr,
) -> Result<Sz, DecodeError> {
    let basic = f.basicsize;
    Ok(match f.sizeof {
        SizeofKind::Default => Sz::same(default_size(m, f, obj)?),
        SizeofKind::Int => {
            let n = if m.l.long.lv_tag.is_known() {
                m.field(obj, &m.l.long.lv_tag, "int")? >> 3
            } else {
                m.ob_size(obj)?.unsigned_abs()
            };
            let n = n.max(m.heap.features().int_min_digits);
            let digits = m.off(obj, &m.l.long.ob_digit, "int")?;
            Sz::same(checked(obj, "int", n.checked_mul(DIGIT_SIZE).and_then(|d| d.checked_add(digits)))?)
        }
        SizeofKind::Str => Sz::same(m.heap.str_sizeof(obj)?),
        SizeofKind::ByteArray if m.l.bytearray.ob_bytes_object.is_known() => {
            // 3.15+: the buffer is a bytes object of `ob_alloc` bytes, counted as its `bytes.__sizeof__` (nothing
            // while `ob_alloc` is 0, when it is the shared empty bytes) but a node of its own.
            let alloc = m.field(obj, &m.l.bytearray.ob_alloc, "bytearray")?;
            let held = if alloc == 0 {
                0
            } else {
                m.off(obj, &m.l.bytes.ob_sval, "bytearray")?.saturating_add(alloc).saturating_add(1)
            };
            Sz { size: basic.saturating_add(held), footprint: basic }
        }
        SizeofKind::ByteArray => {
            let alloc = m.field(obj, &m.l.bytearray.ob_alloc, "bytearray")?;
            Sz::same(checked(obj, "bytearray", basic.checked_add(alloc))?)
        }
        SizeofKind::List => {
            let alloc = m.field(obj, &m.l.list.allocated, "list")?;
            Sz::same(checked(obj, "list", alloc.checked_mul(8).and_then(|a| a.checked_add(basic)))?)
        }
        SizeofKind::Dict => dict_sizeof(m, obj, basic)?,
        SizeofKind::ODict => {
            let d = dict_sizeof(m, obj, basic)?;
            let fast = m.field(obj, &m.l.odict.od_fast_nodes_size, "OrderedDict")?;
            let first = m.field(obj, &m.l.odict.od_first, "OrderedDict")?;
            let used = m.field(obj, &m.l.dict.ma_used, "OrderedDict")?;
            let nodes = if first == 0 { 0 } else { used.saturating_mul(ODICT_NODE_SIZE) };
            let extra = fast.saturating_mul(8).saturating_add(nodes);
            Sz { size: d.size.saturating_add(extra), footprint: d.footprint.saturating_add(extra) }
        }
        SizeofKind::StgDict => {
            let d = dict_sizeof(m, obj, basic)?;
            let dict_size =
                m.l.dict.size.get().map_err(|source| DecodeError::Layout { addr: obj, what: "StgDict", source })?;
            let mut extra = basic.saturating_sub(dict_size);
            let s = &m.l.stgdict;
            extra = extra.saturating_add(ctypes_extras(m, obj, [&s.format, &s.ndim, &s.elements, &s.length])?);
            Sz { size: d.size.saturating_add(extra), footprint: d.footprint.saturating_add(extra) }
        }
        SizeofKind::Set => {
            let table = m.field(obj, &m.l.set.table, "set")?;
            let small = obj.wrapping_add(m.off(obj, &m.l.set.smalltable, "set")?);
            let extra = if Addr(table) == small {
                0
            } else {
                let mask = m.field(obj, &m.l.set.mask, "set")?;
                checked(obj, "set", mask.checked_add(1).and_then(|n| n.checked_mul(SET_ENTRY_SIZE)))?
            };
            Sz::same(basic.saturating_add(extra))
        }
        SizeofKind::Type => Sz::same(type_sizeof(m, obj)?),
        SizeofKind::Code => Sz::same(code_sizeof(m, f, obj)?),
        SizeofKind::Frame => Sz::same(frame_sizeof(m, f, obj)?),
        SizeofKind::Gen => Sz::same(gen_sizeof(m, f, obj)?),
        SizeofKind::Deque => {
            let left = m.field(obj, &m.l.deque.leftindex, "deque")?;
            let len = m.ob_size(obj)?.max(0) as u64;
            let blocks = left.saturating_add(len).saturating_add(DEQUE_BLOCKLEN - 1) / DEQUE_BLOCKLEN;
            Sz::same(basic.saturating_add(blocks.saturating_mul(DEQUE_BLOCK_SIZE)))
        }
        SizeofKind::Struct => {
            let codes = m.ptr(obj, &m.l.struct_object.s_codes, "Struct")?;
            let code_size = m.off(obj, &m.l.formatcode.size, "Struct")?;
            let mut n = 1;
            if !codes.is_null() {
                while m.field_of(obj, codes.wrapping_add((n - 1) * code_size), &m.l.formatcode.fmtdef, "Struct")? != 0 {
                    n += 1;
                    if n > MAX_STRUCT_CODES {
                        return Err(malformed(obj, "Struct", "format codes do not end"));
                    }
                }
            }
            Sz::same(basic.saturating_add(n.saturating_mul(code_size)))
        }
        SizeofKind::Pattern => {
            let n = m.field(obj, &m.l.pattern.codesize, "re.Pattern")?;
            let size = m.l.pattern.size.get().map_err(|source| DecodeError::Layout {
                addr: obj,
                what: "re.Pattern",
                source,
            })?;
            Sz::same(checked(obj, "re.Pattern", n.checked_mul(4).and_then(|c| c.checked_add(size)))?)
        }
        SizeofKind::Array => {
            let alloc = m.field(obj, &m.l.array.allocated, "array")?;
            let descr = m.ptr(obj, &m.l.array.ob_descr, "array")?;
            let itemsize = descr.wrapping_add(m.off(obj, &m.l.arraydescr.itemsize, "array")?);
            let item = u64::from(m.word32(obj, itemsize, "array", "itemsize")?);
            Sz::same(checked(obj, "array", alloc.checked_mul(item).and_then(|a| a.checked_add(basic)))?)
        }
        SizeofKind::Buffered => {
            let buffer = m.field(obj, &m.l.buffered.buffer, "buffered")?;
            let extra = if buffer == 0 { 0 } else { m.field(obj, &m.l.buffered.buffer_size, "buffered")? };
            Sz::same(basic.saturating_add(extra))
        }
        SizeofKind::CTypeMeta => Sz::same(ctype_meta_sizeof(m, obj)?),
        // The data an array owns is a separate allocation (malloc or mmap), part of its footprint as of its size.
        SizeofKind::NdArray => Sz::same(super::numpy::ndarray_sizeof(m, obj, basic)?),
        SizeofKind::NpyScalar(elsize) => Sz::same(default_size(m, f, obj)?.saturating_add(u64::from(elsize))),
    })
}

fn checked(obj: Addr, what: &'static str, v: Option<u64>) -> Result<u64, DecodeError> {
    v.ok_or_else(|| malformed(obj, what, "size overflows"))
}

/// `object.__sizeof__`.
fn default_size<P: ProcessImage + ?Sized>(m: &Mem<'_, '_, P>, f: &TypeFacts, obj: Addr) -> Result<u64, DecodeError> {
    // `tp_itemsize` and `tp_basicsize` are `Py_ssize_t` in the core: read back as signed, and refused when negative.
    let item = f.itemsize as i64;
    if item <= 0 {
        return Ok(f.basicsize);
    }
    let n = m.ob_size(obj)?;
    let total = n.checked_mul(item).and_then(|v| v.checked_add(i64::try_from(f.basicsize).ok()?));
    match total {
        Some(t) if t >= 0 => Ok(t as u64),
        _ => Err(malformed(obj, "object", format!("ob_size {n}"))),
    }
}

/// Size of a dict keys object (`_PyDict_KeysSize`).
pub(crate) fn keys_size<P: ProcessImage + ?Sized>(
    m: &Mem<'_, '_, P>,
    owner: Addr,
    keys: Addr,
) -> Result<u64, DecodeError> {
    let k = m.heap.keys(owner, keys)?;
    m.heap.keys_size(owner, &k)
}

/// `_PyDict_SizeOf` with the dict type's basic size.
fn dict_sizeof<P: ProcessImage + ?Sized>(m: &Mem<'_, '_, P>, obj: Addr, basic: u64) -> Result<Sz, DecodeError> {
    let what = "dict";
    let keys = m.ptr(obj, &m.l.dict.ma_keys, what)?;
    let values = m.ptr(obj, &m.l.dict.ma_values, what)?;
    if keys.is_null() {
        return Err(malformed(obj, what, "ma_keys is NULL"));
    }
    let k = m.heap.keys(obj, keys)?;
    let mut size = basic;
    let mut not_owned = 0;
    if !values.is_null() {
        let split = k.values_capacity.saturating_mul(8);
        size = size.saturating_add(split);
        // 3.13+: values embedded in an instance belong to the instance.
        if m.l.dict_values.embedded.is_known() {
            let at = values.wrapping_add(m.off(obj, &m.l.dict_values.embedded, what)?);
            if m.byte(obj, at, what, "embedded")? != 0 {
                not_owned = split;
            }
        }
    }
    let refcnt = m.field_of(obj, keys, &m.l.dict_keys.dk_refcnt, what)?;
    if refcnt == 1 {
        size = size.saturating_add(m.heap.keys_size(obj, &k)?);
    }
    Ok(Sz { size, footprint: size.saturating_sub(not_owned) })
}

/// `type.__sizeof__`.
fn type_sizeof<P: ProcessImage + ?Sized>(m: &Mem<'_, '_, P>, obj: Addr) -> Result<u64, DecodeError> {
    let fl = m.field(obj, &m.l.type_object.tp_flags, "type")?;
    if fl & crate::objects::flags::HEAPTYPE == 0 {
        return m.off(obj, &m.l.type_object.size, "type");
    }
    let mut size = m.off(obj, &m.l.heap_type.size, "heap type")?;
    let keys = m.ptr(obj, &m.l.heap_type.ht_cached_keys, "heap type")?;
    if !keys.is_null() {
        size = size.saturating_add(keys_size(m, obj, keys)?);
    }
    Ok(size)
}

/// `code.__sizeof__`.
fn code_sizeof<P: ProcessImage + ?Sized>(m: &Mem<'_, '_, P>, f: &TypeFacts, obj: Addr) -> Result<u64, DecodeError> {
    let c = &m.l.code;
    let mut size = if c.code_adaptive.is_known() {
        let raw = default_size(m, f, obj)?;
        raw.checked_add(7).map(|s| s & !7).ok_or_else(|| malformed(obj, "code", "size overflows"))?
    } else {
        let mut s = f.basicsize;
        if c.cell2arg.is_known() && m.ptr(obj, &c.cell2arg, "code")? != Addr::NULL {
            let cells = m.ptr(obj, &c.cellvars, "code")?;
            if !cells.is_null() {
                s = s.saturating_add((m.ob_size(cells)?.max(0) as u64).saturating_mul(8));
            }
        }
        s
    };
    if c.opcache.is_known() && m.ptr(obj, &c.opcache, "code")? != Addr::NULL {
        // 3.8–3.10: `co_opcache_map` (one byte per code unit) and the cache entries.
        let code = m.ptr(obj, &c.code, "code")?;
        let units = if code.is_null() { 0 } else { m.ob_size(code)?.max(0) as u64 / 2 };
        let n = u64::from(m.byte(
            obj,
            obj.wrapping_add(m.off(obj, &c.opcache_size, "code")?),
            "code",
            "co_opcache_size",
        )?);
        size = size.saturating_add(units).saturating_add(n.saturating_mul(m.off(obj, &m.l.opcache.size, "code")?));
    }
    if c.extra.is_known() {
        let extra = m.ptr(obj, &c.extra, "code")?;
        if !extra.is_null() {
            let n = m.field_of(obj, extra, &m.l.code_extra.ce_size, "code")?;
            let head = m.off(obj, &m.l.code_extra.size, "code")?;
            size = size.saturating_add(head).saturating_add(n.saturating_sub(1).saturating_mul(8));
        }
    }
    Ok(size)
}

/// Fast-local plus stack slots a frame of the code object `code` needs.
fn frame_slots<P: ProcessImage + ?Sized>(m: &Mem<'_, '_, P>, obj: Addr, code: Addr) -> Result<u64, DecodeError> {
    let stacksize =
        m.word32(obj, code.wrapping_add(m.off(obj, &m.l.code.stacksize, "code")?), "code", "co_stacksize")?;
    Ok((SlotNames::of(m.heap, code)?.len() as u64).saturating_add(u64::from(stacksize)))
}

/// The code object an interpreter frame at `iframe` runs (3.14: a tagged `_PyStackRef`).
pub(crate) fn iframe_code<P: ProcessImage + ?Sized>(
    m: &Mem<'_, '_, P>,
    obj: Addr,
    iframe: Addr,
) -> Result<Addr, DecodeError> {
    let raw = m.field_of(obj, iframe, &m.l.iframe.executable, "frame")?;
    Ok(m.heap.frame_model().object(raw))
}

/// `frame.__sizeof__`.
fn frame_sizeof<P: ProcessImage + ?Sized>(m: &Mem<'_, '_, P>, f: &TypeFacts, obj: Addr) -> Result<u64, DecodeError> {
    let fo = &m.l.frame_object;
    if fo.f_code.is_known() {
        let code = m.ptr(obj, &fo.f_code, "frame")?;
        let slots = frame_slots(m, obj, code)?;
        let base = m.off(obj, &fo.size, "frame").unwrap_or(f.basicsize);
        return Ok(base.saturating_add(slots.saturating_sub(1).saturating_mul(8)));
    }
    let iframe = m.ptr(obj, &fo.f_frame, "frame")?;
    let code = iframe_code(m, obj, iframe)?;
    let slots = frame_slots(m, obj, code)?;
    let head = m.off(obj, &fo.f_frame_data, "frame")?.saturating_add(m.off(obj, &m.l.iframe.localsplus, "frame")?);
    Ok(head.saturating_add(slots.saturating_mul(8)))
}

/// `generator.__sizeof__` (coroutines and async generators share it).
fn gen_sizeof<P: ProcessImage + ?Sized>(m: &Mem<'_, '_, P>, f: &TypeFacts, obj: Addr) -> Result<u64, DecodeError> {
    let g = &m.l.gen;
    if !g.gi_iframe.is_known() {
        return default_size(m, f, obj);
    }
    let iframe = obj.wrapping_add(m.off(obj, &g.gi_iframe, "generator")?);
    let code = if g.gi_code.is_known() { m.ptr(obj, &g.gi_code, "generator")? } else { iframe_code(m, obj, iframe)? };
    let slots = frame_slots(m, obj, code)?;
    let head =
        m.off(obj, &g.gi_iframe, "generator")?.saturating_add(m.off(obj, &m.l.iframe.localsplus, "generator")?);
    Ok(head.saturating_add(slots.saturating_mul(8)))
}

/// ctypes' extra `__sizeof__` terms: the format string, the shape, the `ffi_type` element array; `fields` are the
/// `format`, `ndim`, `ffi_type_pointer.elements` and `length` of the `StgDict` or `StgInfo` at `base`.
fn ctypes_extras<P: ProcessImage + ?Sized>(
    m: &Mem<'_, '_, P>,
    base: Addr,
    fields: [&Field; 4],
) -> Result<u64, DecodeError> {
    let what = "ctypes type info";
    let [format, ndim, elements, length] = fields;
    let at = |f: &Field| m.off(base, f, what).map(|off| base.wrapping_add(off));
    let mut extra = 0u64;
    let fmt = Addr(m.word(base, at(format)?, what, "format")?);
    if !fmt.is_null() {
        let s = m.p.read_cstr(fmt, MAX_FORMAT).map_err(|source| DecodeError::Read {
            addr: base,
            what,
            field: "format",
            source,
        })?;
        extra = s.len() as u64 + 1;
    }
    let nd = m.word32(base, at(ndim)?, what, "ndim")? as i32;
    extra += u64::from(nd.max(0).unsigned_abs()) * 8; // at most 2^31 × 8, plus a string of at most 64 KiB
    if m.word(base, at(elements)?, what, "elements")? != 0 {
        let len = m.word(base, at(length)?, what, "length")?;
        extra = extra.saturating_add(len.saturating_add(1).saturating_mul(8));
    }
    Ok(extra)
}

/// Where a ctypes class keeps its `StgInfo` (3.13+): `PyObject_GetTypeData(type, CType_Type)`, i.e. after the
/// basic size of `CType_Type`'s base, `type` (`sizeof(PyHeapTypeObject)`), aligned to 16.
pub(crate) fn stginfo<P: ProcessImage + ?Sized>(m: &Mem<'_, '_, P>, obj: Addr) -> Result<Addr, DecodeError> {
    let size = m.off(obj, &m.l.heap_type.size, "ctypes type")?;
    Ok(obj.wrapping_add(size.saturating_add(15) & !15))
}

/// `CType_Type_sizeof` (3.13+).
fn ctype_meta_sizeof<P: ProcessImage + ?Sized>(m: &Mem<'_, '_, P>, obj: Addr) -> Result<u64, DecodeError> {
    let meta = m.ptr(obj, &m.l.object.ob_type, "ctypes type")?;
    let basic = m.field(meta, &m.l.type_object.tp_basicsize, "ctypes type")?;
    let item = m.field(meta, &m.l.type_object.tp_itemsize, "ctypes type")?;
    let n = m.ob_size(obj)?.max(0) as u64;
    let mut size = basic.saturating_add(item.saturating_mul(n));
    let info = stginfo(m, obj)?;
    let o = &m.l.stginfo;
    let init = info.wrapping_add(m.off(obj, &o.initialized, "ctypes type")?);
    if m.word32(obj, init, "ctypes type", "initialized")? != 0 {
        size = size.saturating_add(ctypes_extras(m, info, [&o.format, &o.ndim, &o.elements, &o.length])?);
    }
    Ok(size)
}
