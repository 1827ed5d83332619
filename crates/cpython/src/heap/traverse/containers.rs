//! `tp_traverse` of dict (and its C subclasses), list, tuple, set, frozenset and `collections.deque`.
//!
//! - `dict_traverse`: a general table (3.11+ `dk_kind == DICT_KEYS_GENERAL`; ≤3.10 a table whose lookup function is
//!   `lookdict`, told here by a key that is not an exact str) visits each live entry's value then key; unicode
//!   tables visit values only (keys become Hidden edges); a split table visits `values[0..dk_nentries]` (3.13 before 3.13.13 and 3.14 before
//!   3.14.4: not when the values are embedded in an instance, which visits them itself; see
//!   [`crate::objects::Features::dict_visits_embedded_values`]).
//! - `list_traverse` / `tupletraverse` visit the items last to first; `set_traverse` the table slots in order,
//!   skipping empty and deleted ones; `deque_traverse` block by block from `leftindex` to `rightindex`.

use heapscope_coredump::{Addr, ProcessImage};

use super::Cx;
use crate::heap::labels::Label;
use crate::heap::mem::{malformed, MAX_ITEMS};
use crate::objects::DecodeError;

/// Items per deque block.
const BLOCKLEN: u64 = 64;

/// `dict_traverse` of the dict (or dict subclass instance) `d`.
pub(super) fn dict<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>, d: Addr) -> Result<(), DecodeError> {
    let m = cx.m;
    let l = m.l;
    let what = "dict";
    let keys = m.ptr(d, &l.dict.ma_keys, what)?;
    let values = m.ptr(d, &l.dict.ma_values, what)?;
    if keys.is_null() {
        return Err(malformed(d, what, "ma_keys is NULL"));
    }
    let k = m.heap.keys(d, keys)?;
    let nentries = k.nentries;
    if nentries > MAX_ITEMS {
        return Err(malformed(d, what, format!("{nentries} entries")));
    }
    let (entries, esize, koff, voff) = (k.entries, k.entry_size, k.key_off, k.value_off);
    let key_at = |i: u64| m.word(d, entries.wrapping_add(i * esize + koff), what, "me_key");
    let value_at = |i: u64| m.word(d, entries.wrapping_add(i * esize + voff), what, "me_value");

    if !values.is_null() {
        // Split table: values[i] belongs to shared key i.
        let embedded = !m.heap.features().dict_visits_embedded_values
            && l.dict_values.embedded.is_known()
            && m.byte(d, values.wrapping_add(m.off(d, &l.dict_values.embedded, what)?), what, "embedded")? != 0;
        // ≤3.10 `ma_values` is the array itself.
        let vals = values.wrapping_add(l.dict_values.values.offset.map_or(0, u64::from));
        for i in 0..nentries {
            let v = m.word(d, vals.wrapping_add(i * 8), what, "values")?;
            let k = key_at(i)?;
            if v != 0 {
                if !embedded {
                    cx.visit(v, Label::DictValue { key: Addr(k) });
                }
                cx.hide(k, Label::DictKey);
            }
        }
        return Ok(());
    }
    // ≤3.10: whether the table uses `lookdict` (general) is not in the data; a key that is not an exact str means
    // it does. 3.11+: `dk_kind`.
    let general = match k.is_general() {
        Some(g) => g,
        None => {
            let str_type = cx.m.heap.statics().str_type;
            let mut any_other = false;
            for i in 0..nentries {
                let k = key_at(i)?;
                if k != 0 && value_at(i)? != 0 {
                    let kt = m.ptr(Addr(k), &l.object.ob_type, "dict key")?;
                    if Some(kt) != str_type {
                        any_other = true;
                        break;
                    }
                }
            }
            any_other
        }
    };
    for i in 0..nentries {
        let v = value_at(i)?;
        if v == 0 {
            continue;
        }
        let k = key_at(i)?;
        cx.visit(v, Label::DictValue { key: Addr(k) });
        if general {
            cx.visit(k, Label::DictKey);
        } else {
            cx.hide(k, Label::DictKey);
        }
    }
    Ok(())
}

/// Visits `n` item pointers at `at` last to first (`list_traverse`, `tupletraverse`).
fn items_reversed<P: ProcessImage + ?Sized>(
    cx: &mut Cx<'_, '_, '_, P>,
    at: Addr,
    n: u64,
    what: &'static str,
) -> Result<(), DecodeError> {
    let start = cx.out.len();
    let out = &mut *cx.out;
    cx.m.for_words(cx.obj, at, n, what, |i, w| {
        if w != 0 {
            out.push(crate::heap::labels::Ref::traverse(Addr(w), Label::Index(i as u32)));
        }
    })?;
    out[start..].reverse();
    Ok(())
}

/// `list_traverse`.
pub(super) fn list<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>) -> Result<(), DecodeError> {
    let m = cx.m;
    let n = m.ob_size(cx.obj)?;
    let alloc = m.field(cx.obj, &m.l.list.allocated, "list")?;
    if n < 0 || n as u64 > alloc {
        return Err(malformed(cx.obj, "list", format!("length {n}, allocated {alloc}")));
    }
    let items = m.ptr(cx.obj, &m.l.list.ob_item, "list")?;
    if n > 0 && items.is_null() {
        return Err(malformed(cx.obj, "list", "ob_item is NULL"));
    }
    items_reversed(cx, items, n as u64, "list")
}

/// `tupletraverse`.
pub(super) fn tuple<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>) -> Result<(), DecodeError> {
    let m = cx.m;
    let n = m.ob_size(cx.obj)?;
    if n < 0 {
        return Err(malformed(cx.obj, "tuple", format!("length {n}")));
    }
    let at = cx.obj.wrapping_add(m.off(cx.obj, &m.l.tuple.ob_item, "tuple")?);
    items_reversed(cx, at, n as u64, "tuple")
}

/// `structseq_traverse` (3.9+): `Py_TYPE(self)` for heap types, then all `n` items (hidden ones included), first
/// to last.
pub(super) fn structseq<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>, n: u32) -> Result<(), DecodeError> {
    if cx.f.is_heap() {
        cx.visit_type();
    }
    let m = cx.m;
    let at = cx.obj.wrapping_add(m.off(cx.obj, &m.l.tuple.ob_item, "struct sequence")?);
    let out = &mut *cx.out;
    cx.m.for_words(cx.obj, at, u64::from(n), "struct sequence", |i, w| {
        if w != 0 {
            out.push(crate::heap::labels::Ref::traverse(Addr(w), Label::Index(i as u32)));
        }
    })
}

/// `set_traverse`.
pub(super) fn set<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>) -> Result<(), DecodeError> {
    let m = cx.m;
    let mask = m.field(cx.obj, &m.l.set.mask, "set")?;
    let table = m.ptr(cx.obj, &m.l.set.table, "set")?;
    let n = mask.checked_add(1).filter(|n| n.is_power_of_two() && *n <= MAX_ITEMS / 2);
    let Some(n) = n else { return Err(malformed(cx.obj, "set", format!("mask {mask}"))) };
    let dummy = cx.known.set_dummy.map_or(u64::MAX, |a| a.0);
    let out = &mut *cx.out;
    let mut key = 0;
    m.for_words(cx.obj, table, 2 * n, "set", |i, w| {
        if i % 2 == 0 {
            key = w;
        } else if key != 0 && key != dummy && w != u64::MAX {
            out.push(crate::heap::labels::Ref::traverse(Addr(key), Label::Index((i / 2) as u32)));
        }
    })
}

/// `deque_traverse` (3.12+ heap type: `Py_TYPE` first).
pub(super) fn deque<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>) -> Result<(), DecodeError> {
    if cx.f.base_is_heap {
        cx.visit_type();
    }
    let m = cx.m;
    let dq = &m.l.deque;
    let what = "deque";
    let len = m.ob_size(cx.obj)?.max(0) as u64;
    let mut block = m.ptr(cx.obj, &dq.leftblock, what)?;
    let right = m.ptr(cx.obj, &dq.rightblock, what)?;
    let mut lo = m.field(cx.obj, &dq.leftindex, what)?;
    let hi = m.field(cx.obj, &dq.rightindex, what)?;
    let data = m.off(cx.obj, &m.l.deque_block.data, what)?;
    let link = m.off(cx.obj, &m.l.deque_block.rightlink, what)?;
    if lo >= BLOCKLEN || hi >= BLOCKLEN {
        return Err(malformed(cx.obj, what, format!("indices {lo}..{hi}")));
    }
    let max_blocks = len / BLOCKLEN + 2;
    let mut idx = 0u32;
    for _ in 0..max_blocks {
        let end = if block == right { hi + 1 } else { BLOCKLEN };
        for i in lo..end {
            let v = m.word(cx.obj, block.wrapping_add(data + 8 * i), what, "data")?;
            cx.visit(v, Label::Index(idx));
            idx = idx.wrapping_add(1);
        }
        if block == right {
            return Ok(());
        }
        lo = 0;
        block = Addr(m.word(cx.obj, block.wrapping_add(link), what, "rightlink")?);
        if block.is_null() {
            break;
        }
    }
    Err(malformed(cx.obj, what, "block chain does not reach rightblock"))
}

/// `defdict_traverse`: the factory, then the dict.
pub(super) fn defaultdict<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>) -> Result<(), DecodeError> {
    if cx.f.base_is_heap {
        cx.visit_type();
    }
    cx.visit_field(&cx.m.l.defaultdict.default_factory, "default_factory")?;
    dict(cx, cx.obj)
}

/// `odict_traverse`: the instance dict, each node's key, then the dict.
pub(super) fn odict<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>) -> Result<(), DecodeError> {
    let m = cx.m;
    cx.visit_field(&m.l.odict.od_inst_dict, "od_inst_dict")?;
    let used = m.field(cx.obj, &m.l.dict.ma_used, "OrderedDict")?;
    let mut node = m.ptr(cx.obj, &m.l.odict.od_first, "OrderedDict")?;
    let (key, next) =
        (m.off(cx.obj, &m.l.odict_node.key, "OrderedDict")?, m.off(cx.obj, &m.l.odict_node.next, "OrderedDict")?);
    let mut i = 0u64;
    while !node.is_null() {
        if i > used.min(MAX_ITEMS) {
            return Err(malformed(cx.obj, "OrderedDict", "node list longer than the dict"));
        }
        let k = m.word(cx.obj, node.wrapping_add(key), "OrderedDict", "node key")?;
        cx.visit(k, Label::Index(i as u32));
        node = Addr(m.word(cx.obj, node.wrapping_add(next), "OrderedDict", "node next")?);
        i += 1;
    }
    dict(cx, cx.obj)
}
