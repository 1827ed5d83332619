//! Checks on dicts (entries against referents, keys-object internals, split values) and sets.

use std::collections::HashSet;

use super::{ensure, Ctx};

/// A decoded dict: `ma_used`, its keys, its non-NULL values, and whether it is split.
struct Dict {
    used: i64,
    keys: Vec<u64>,
    values: Vec<u64>,
    split: bool,
}

/// Decodes a dict. `None` when a field is unknown or a read fails.
fn dict_items(c: &Ctx<'_>, d: u64) -> Option<Dict> {
    let used = c.i64(d.wrapping_add(c.o("DictObject.ma_used")?))?;
    let keys = c.ptr_at(d, "DictObject.ma_keys")?;
    let values = c.ptr_at(d, "DictObject.ma_values")?;
    let nentries =
        usize::try_from(c.i64(keys.wrapping_add(c.o("DictKeysObject.dk_nentries")?))?).ok().filter(|&n| n < 1 << 24)?;
    let indices = keys.wrapping_add(c.o("DictKeysObject.dk_indices")?);
    let (entries, unicode) = if c.minor <= 10 {
        let size = c.u64(keys.wrapping_add(c.o("DictKeysObject.dk_size")?))?;
        let width = match size {
            0..=0xff => 1,
            0x100..=0xffff => 2,
            0x1_0000..=0xffff_ffff => 4,
            _ => 8,
        };
        (indices.checked_add(size.checked_mul(width)?)?, false)
    } else {
        let log2_bytes = c.u8(keys.wrapping_add(c.o("DictKeysObject.dk_log2_index_bytes")?))?;
        let kind = c.u8(keys.wrapping_add(c.o("DictKeysObject.dk_kind")?))?;
        (indices.wrapping_add(1u64 << log2_bytes.min(40)), kind != 0)
    };
    let (esize, kfield, vfield) = if unicode {
        (c.o("DictUnicodeEntry.size")?, c.o("DictUnicodeEntry.me_key")?, c.o("DictUnicodeEntry.me_value")?)
    } else {
        (c.o("DictKeyEntry.size")?, c.o("DictKeyEntry.me_key")?, c.o("DictKeyEntry.me_value")?)
    };
    // ≤3.10: ma_values is a plain PyObject** array; 3.11+: a PyDictValues.
    let values_at = if c.minor <= 10 { 0 } else { c.o("DictValues.values")? };
    let split_values = if values != 0 { Some(values.wrapping_add(values_at)) } else { None };
    let mut out = Dict { used, keys: Vec::new(), values: Vec::new(), split: values != 0 };
    for i in 0..nentries as u64 {
        let e = entries.wrapping_add(i * esize);
        let key = c.u64(e.wrapping_add(kfield))?;
        let value = match split_values {
            Some(v) => c.u64(v.wrapping_add(8 * i))?,
            None => c.u64(e.wrapping_add(vfield))?,
        };
        if key != 0 {
            out.keys.push(key);
        }
        if value != 0 {
            out.values.push(value);
        }
    }
    Some(out)
}

/// Every dict's values are among its referents and its referents among its keys and values (unicode-keyed tables do
/// not traverse their keys); `ma_used` counts the values.
pub(crate) fn dicts(c: &mut Ctx<'_>) {
    let all = c.of_type("dict");
    let mut bad = Vec::new();
    let mut split = 0;
    for &d in &all {
        let Some(dict) = dict_items(c, d) else {
            bad.push(d);
            continue;
        };
        split += usize::from(dict.split);
        let want: HashSet<u64> = c.referents(d).into_iter().collect();
        let values: HashSet<u64> = dict.values.iter().copied().collect();
        let all_items: HashSet<u64> = dict.keys.iter().chain(&dict.values).copied().collect();
        if !values.is_subset(&want) || !want.is_subset(&all_items) || dict.used != dict.values.len() as i64 {
            bad.push(d);
        }
    }
    let mut fields = vec![
        "DictObject.ma_used",
        "DictObject.ma_keys",
        "DictObject.ma_values",
        "DictKeysObject.dk_nentries",
        "DictKeysObject.dk_indices",
        "DictKeyEntry.size",
        "DictKeyEntry.me_key",
        "DictKeyEntry.me_value",
    ];
    if c.minor <= 10 {
        fields.push("DictKeysObject.dk_size");
    } else {
        fields.extend(["DictKeysObject.dk_log2_index_bytes", "DictKeysObject.dk_kind", "DictUnicodeEntry.size"]);
        fields.extend(["DictUnicodeEntry.me_key", "DictUnicodeEntry.me_value"]);
    }
    if split > 0 && c.minor >= 11 {
        fields.push("DictValues.values");
    }
    c.walk(
        "dict contents",
        &fields,
        ensure(!all.is_empty() && bad.is_empty(), || {
            format!("{} of {} dicts ({split} split), e.g. {:#x?}", bad.len(), all.len(), &bad[..bad.len().min(3)])
        }),
    );
}

/// Keys objects: index width against the table size, the usable count, the refcount, cached hashes of str keys, and
/// (3.13+) the header of split values.
pub(crate) fn dict_internals(c: &mut Ctx<'_>) {
    let all = c.of_type("dict");
    let (mut bad_size, mut bad_usable, mut bad_ref, mut bad_hash, mut hashes, mut bad_values, mut values_seen) =
        (0, 0, 0, 0, 0, 0, 0);
    let mut embedded = 0;
    for &d in &all {
        let Some(keys) = c.ptr_at(d, "DictObject.ma_keys") else { continue };
        if c.is_static(keys) {
            continue; // the shared empty keys object
        }
        let size = if c.minor <= 10 {
            c.ptr_at(keys, "DictKeysObject.dk_size")
        } else {
            let log2 = c.o("DictKeysObject.dk_log2_size").and_then(|o| c.u8(keys.wrapping_add(o)));
            let log2_bytes = c.o("DictKeysObject.dk_log2_index_bytes").and_then(|o| c.u8(keys.wrapping_add(o)));
            let width = log2.map(|l| match l {
                0..=7 => 0,
                8..=15 => 1,
                16..=31 => 2,
                _ => 3,
            });
            if log2.zip(width).and_then(|(l, w)| l.checked_add(w)) != log2_bytes {
                bad_size += 1;
            }
            log2.filter(|&l| l < 40).map(|l| 1u64 << l)
        };
        let usable = c.o("DictKeysObject.dk_usable").and_then(|o| c.i64(keys.wrapping_add(o)));
        let nentries = c.o("DictKeysObject.dk_nentries").and_then(|o| c.i64(keys.wrapping_add(o)));
        // Shared (split) keys of 3.11+ cap their usable count lower.
        let split = c.minor >= 11 && c.o("DictKeysObject.dk_kind").and_then(|o| c.u8(keys.wrapping_add(o))) == Some(2);
        match (size, usable, nentries) {
            (Some(n), Some(u), Some(e))
                if n.is_power_of_two() && u >= 0 && (split || u.checked_add(e) == Some((2 * n as i64) / 3)) => {}
            _ => bad_usable += 1,
        }
        let refcnt = c.o("DictKeysObject.dk_refcnt").and_then(|o| c.i64(keys.wrapping_add(o)));
        if !refcnt.is_some_and(|r| (1..1 << 24).contains(&r)) {
            bad_ref += 1;
        }
        let general =
            c.minor <= 10 || c.o("DictKeysObject.dk_kind").and_then(|o| c.u8(keys.wrapping_add(o))) == Some(0);
        if let (true, Some((_, entries))) = (general, dict_entries(c, keys)) {
            for (hash, key) in entries {
                if c.truth_type(key) != Some("str") {
                    continue;
                }
                let Some(cached) =
                    c.o("AsciiObject.hash").and_then(|o| c.i64(key.wrapping_add(o))).filter(|&h| h != -1)
                else {
                    continue;
                };
                hashes += 1;
                bad_hash += usize::from(cached != hash);
            }
        }
        if c.minor >= 13 {
            let Some(v) = c.ptr_at(d, "DictObject.ma_values").filter(|&v| v != 0) else { continue };
            let byte = |f: &str| c.o(f).and_then(|o| c.u8(v.wrapping_add(o)));
            let live = dict_items(c, d).map_or(0, |x| x.values.len());
            values_seen += 1;
            let ok = match (
                byte("DictValues.capacity"),
                byte("DictValues.size_field"),
                byte("DictValues.embedded"),
                byte("DictValues.valid"),
            ) {
                // `valid` is only kept up for values embedded in their object.
                (Some(cap), Some(size), Some(emb), Some(valid)) => {
                    embedded += usize::from(emb == 1);
                    live <= usize::from(size) && size <= cap && cap > 0 && emb <= 1 && (emb == 0 || valid <= 1)
                }
                _ => false,
            };
            bad_values += usize::from(!ok);
        }
    }
    let size_fields: &[&str] =
        if c.minor <= 10 { &["DictKeysObject.dk_size"] } else { &["DictKeysObject.dk_log2_size"] };
    c.walk("index bytes follow the table size", size_fields, ensure(bad_size == 0, || format!("{bad_size} dicts")));
    c.walk(
        "usable + nentries = 2/3 of the table",
        &["DictKeysObject.dk_usable"],
        ensure(bad_usable == 0, || format!("{bad_usable} dicts")),
    );
    c.walk("keys refcounts", &["DictKeysObject.dk_refcnt"], ensure(bad_ref == 0, || format!("{bad_ref} dicts")));
    c.walk(
        "entry hashes of str keys are the strs' cached hashes",
        &["DictKeyEntry.me_hash", "AsciiObject.hash"],
        ensure(hashes > 0 && bad_hash == 0, || format!("{bad_hash} of {hashes}")),
    );
    if values_seen > 0 {
        let fields: &[&str] =
            &["DictValues.capacity", "DictValues.size_field", "DictValues.embedded", "DictValues.valid"];
        c.walk(
            "split values header",
            &fields[..if embedded > 0 { 4 } else { 3 }],
            ensure(bad_values == 0, || format!("{bad_values} of {values_seen}")),
        );
    }
    // A class whose instances have a __dict__ shares one keys object among them.
    if let Some(&inst) = c.markers.get("dict_instance") {
        let t = c.type_of(inst).unwrap_or(0);
        let cached = c.ptr_at(t, "HeapTypeObject.ht_cached_keys").unwrap_or(0);
        let ok = if c.minor <= 10 {
            let off = c.ptr_at(t, "TypeObject.tp_dictoffset").unwrap_or(0);
            let dict = c.u64(inst.wrapping_add(off)).unwrap_or(0);
            cached != 0 && c.ptr_at(dict, "DictObject.ma_keys") == Some(cached)
        } else {
            cached != 0 && c.o("DictKeysObject.dk_kind").and_then(|o| c.u8(cached.wrapping_add(o))) == Some(2)
        };
        c.walk("ht_cached_keys", &["HeapTypeObject.ht_cached_keys"], ensure(ok, || format!("{cached:#x}")));
    }
}

/// The (hash, key) of every used entry of a general keys object.
fn dict_entries(c: &Ctx<'_>, keys: u64) -> Option<(u64, Vec<(i64, u64)>)> {
    let nentries =
        usize::try_from(c.i64(keys.wrapping_add(c.o("DictKeysObject.dk_nentries")?))?).ok().filter(|&n| n < 1 << 24)?;
    let indices = keys.wrapping_add(c.o("DictKeysObject.dk_indices")?);
    let entries = if c.minor <= 10 {
        let size = c.u64(keys.wrapping_add(c.o("DictKeysObject.dk_size")?))?;
        let width = [(0xff, 1), (0xffff, 2), (0xffff_ffff, 4)].iter().find(|(m, _)| size <= *m).map_or(8, |w| w.1);
        indices.checked_add(size.checked_mul(width)?)?
    } else {
        indices.wrapping_add(1u64 << c.u8(keys.wrapping_add(c.o("DictKeysObject.dk_log2_index_bytes")?))?.min(40))
    };
    let (esize, h, k) = (c.o("DictKeyEntry.size")?, c.o("DictKeyEntry.me_hash")?, c.o("DictKeyEntry.me_key")?);
    let mut out = Vec::new();
    for i in 0..nentries as u64 {
        let e = entries.wrapping_add(i * esize);
        let key = c.u64(e.wrapping_add(k))?;
        if key != 0 {
            out.push((c.i64(e.wrapping_add(h))?, key));
        }
    }
    Some((entries, out))
}

/// Set entries (minus the dummy) are the referents; `used` counts them.
pub(crate) fn sets(c: &mut Ctx<'_>) {
    let dummy = c.symbol("_PySet_Dummy").and_then(|a| c.u64(a)).unwrap_or(0);
    let mut all = c.of_type("set");
    all.extend(c.of_type("frozenset"));
    let mut bad = 0;
    for &s in &all {
        let (Some(table), Some(mask), Some(used), Some(fill)) = (
            c.ptr_at(s, "SetObject.table"),
            c.ptr_at(s, "SetObject.mask").filter(|&m| m < 1 << 24),
            c.o("SetObject.used").and_then(|o| c.i64(s.wrapping_add(o))),
            c.o("SetObject.fill").and_then(|o| c.i64(s.wrapping_add(o))),
        ) else {
            bad += 1;
            continue;
        };
        let keys: Option<Vec<u64>> = (0..=mask).map(|i| c.u64(table.wrapping_add(16 * i))).collect();
        let keys: HashSet<u64> = keys.unwrap_or_default().into_iter().filter(|&k| k != 0 && k != dummy).collect();
        let want: HashSet<u64> = c.referents(s).into_iter().collect();
        if keys != want || used != keys.len() as i64 || fill < used {
            bad += 1;
        }
    }
    c.walk(
        "set contents",
        &["SetObject.table", "SetObject.mask", "SetObject.used", "SetObject.fill"],
        ensure(!all.is_empty() && bad == 0, || format!("{bad} of {} sets", all.len())),
    );
}
