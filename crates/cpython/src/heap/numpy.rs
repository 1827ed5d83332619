//! numpy's objects, as numpy 2.x lays them out (offsets: `layout::NdArray`, `NpyDescr`; see
//! tools/layoutgen/src/numpy.rs).
//!
//! | what | numpy source | here |
//! |---|---|---|
//! | `ndarray.__sizeof__` | `array_sizeof`, numpy/_core/src/multiarray/methods.c | `tp_basicsize + nd * 2 * sizeof(npy_intp)` + `PyArray_NBYTES` (`elsize * prod(shape)`) when `NPY_ARRAY_OWNDATA` |
//! | scalar `__sizeof__` | `gentype_sizeof`, numpy/_core/src/multiarray/scalartypes.c.src | `tp_basicsize` + the dtype's `elsize` (+ `Py_SIZE * tp_itemsize`, 0 for the fixed-size scalars) |
//!
//! An ndarray holds strong references to its `base` and `descr` and, when it owns an object array's data, to every
//! item; it has no `tp_traverse`, so all of these are Hidden references. A numpy 1.x descr (`int elsize` at 32) is
//! refused: its type's basic size is not `sizeof(_PyArray_LegacyDescr)`.

use heapscope_coredump::{Addr, ProcessImage};

use super::mem::{malformed, Mem};
use crate::objects::DecodeError;

/// `NPY_ARRAY_OWNDATA`: the array frees its data.
const NPY_ARRAY_OWNDATA: u32 = 0x0004;
/// `NPY_OBJECT`: the type number of `dtype('O')`.
const NPY_OBJECT: u32 = 17;
/// `NPY_MAXDIMS` of numpy 2.
const NPY_MAXDIMS: u64 = 64;
/// Most items of one object array turned into references.
pub(crate) const MAX_OBJECT_ITEMS: u64 = 1 << 20;

/// What the size and references of one ndarray rest on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ArrayHead {
    /// `nd`.
    pub nd: u64,
    /// `flags`.
    pub flags: u32,
    /// `data`.
    pub data: Addr,
    /// `descr`.
    pub descr: Addr,
    /// `dimensions`.
    pub dims: Addr,
}

impl ArrayHead {
    /// True if the array frees its data (and so counts it in `__sizeof__`).
    pub fn owns_data(&self) -> bool {
        self.flags & NPY_ARRAY_OWNDATA != 0
    }
}

/// Reads the fields of the ndarray `obj`.
pub(crate) fn head<P: ProcessImage + ?Sized>(m: &Mem<'_, '_, P>, obj: Addr) -> Result<ArrayHead, DecodeError> {
    let a = &m.l.ndarray;
    let nd = m.word32(obj, obj.wrapping_add(m.off(obj, &a.nd, "ndarray")?), "ndarray", "nd")?;
    let nd = u64::from(nd);
    if nd > NPY_MAXDIMS {
        return Err(malformed(obj, "ndarray", format!("{nd} dimensions")));
    }
    let flags = m.word32(obj, obj.wrapping_add(m.off(obj, &a.flags, "ndarray")?), "ndarray", "flags")?;
    Ok(ArrayHead {
        nd,
        flags,
        data: m.ptr(obj, &a.data, "ndarray")?,
        descr: m.ptr(obj, &a.descr, "ndarray")?,
        dims: m.ptr(obj, &a.dimensions, "ndarray")?,
    })
}

/// `descr->elsize` and `descr->type_num` of the array `obj`'s descr, which must be a numpy 2 legacy descr (its type's
/// `tp_basicsize` is `sizeof(_PyArray_LegacyDescr)`); anything else (numpy 1.x, a new-style dtype such as
/// `StringDType`) is refused rather than read at the wrong offsets.
fn descr_info<P: ProcessImage + ?Sized>(m: &Mem<'_, '_, P>, obj: Addr, descr: Addr) -> Result<(u64, u32), DecodeError> {
    let legacy = m.off(obj, &m.l.npy_legacy_descr.size, "ndarray")?;
    let ty = m.ptr(descr, &m.l.object.ob_type, "numpy descr")?;
    let basic = m.field(ty, &m.l.type_object.tp_basicsize, "numpy descr type")?;
    if basic != legacy {
        return Err(malformed(
            obj,
            "ndarray",
            format!(
                "its dtype's type has tp_basicsize {basic}, not {legacy} (numpy 2's _PyArray_LegacyDescr): numpy 1.x \
                 or a new-style dtype, whose layout heapscope does not know"
            ),
        ));
    }
    let d = &m.l.npy_descr;
    let elsize = m.field(descr, &d.elsize, "numpy descr")?;
    let type_num =
        m.word32(descr, descr.wrapping_add(m.off(descr, &d.type_num, "numpy descr")?), "numpy descr", "type_num")?;
    Ok((elsize, type_num))
}

/// `PyArray_SIZE`: the product of the shape.
fn elements<P: ProcessImage + ?Sized>(m: &Mem<'_, '_, P>, obj: Addr, h: &ArrayHead) -> Result<u64, DecodeError> {
    let mut n: u64 = 1;
    for i in 0..h.nd {
        let d = m.word(obj, h.dims.wrapping_add(8 * i), "ndarray", "dimensions")?;
        n = n.checked_mul(d).ok_or_else(|| malformed(obj, "ndarray", "shape overflows"))?;
    }
    Ok(n)
}

/// `array_sizeof` of the ndarray `obj` whose type's basic size is `basic`.
pub(crate) fn ndarray_sizeof<P: ProcessImage + ?Sized>(
    m: &Mem<'_, '_, P>,
    obj: Addr,
    basic: u64,
) -> Result<u64, DecodeError> {
    let h = head(m, obj)?;
    let mut size = basic + h.nd * 16;
    if h.owns_data() {
        let (elsize, _) = descr_info(m, obj, h.descr)?;
        let nbytes = elements(m, obj, &h)?.checked_mul(elsize);
        size = nbytes.and_then(|b| b.checked_add(size)).ok_or_else(|| malformed(obj, "ndarray", "size overflows"))?;
    }
    Ok(size)
}

/// The items of the ndarray `obj` when it owns an object array's data (their count capped at
/// [`MAX_OBJECT_ITEMS`]), else nothing: a view's items are its base's references.
pub(crate) fn object_items<P: ProcessImage + ?Sized>(
    m: &Mem<'_, '_, P>,
    obj: Addr,
    h: &ArrayHead,
) -> Result<Vec<u64>, DecodeError> {
    if !h.owns_data() || h.data.is_null() {
        return Ok(Vec::new());
    }
    let (_, type_num) = descr_info(m, obj, h.descr)?;
    if type_num != NPY_OBJECT {
        return Ok(Vec::new());
    }
    let n = elements(m, obj, h)?.min(MAX_OBJECT_ITEMS);
    let mut items = Vec::with_capacity(n as usize);
    m.for_words(obj, h.data, n, "ndarray", |_, w| items.push(w))?;
    Ok(items)
}
