//! Roots in C static data: every aligned word of a loaded ELF object's writable `PT_LOAD` segments (`.data`,
//! `.bss`) that holds the address of a known object.
//!
//! C code keeps objects in globals: `_PyRuntime` (which embeds the main interpreter's state: the static builtin
//! types' dicts from 3.12 on, caches), the small-int array of 3.8–3.10, `_Py_IDENTIFIER` strings, an extension
//! module's cached types and constants (Cython's `__pyx_` globals). Those references are counted in the objects'
//! refcounts but no object of the heap makes them: without them, each such object would look held from nowhere.
//! The scan is conservative, the way a conservative collector finds its roots: a stale word naming an object the C
//! code no longer uses makes a root too.

use heapscope_coredump::{Addr, ProcessImage};

use super::RootWhere;

/// Most bytes of static data scanned in one loaded object (larger segments are scanned up to this much).
const MAX_SEGMENT_BYTES: u64 = 256 << 20;
/// Bytes read at a time.
const CHUNK: u64 = 1 << 20;

/// The static data of every loaded object: `(start, end, object index)`, 8-aligned, each capped at
/// `MAX_SEGMENT_BYTES` (256 MiB).
pub fn data_ranges<P: ProcessImage + ?Sized>(p: &P) -> Vec<(u64, u64, u32)> {
    let mut out = Vec::new();
    for (i, obj) in p.objects().iter().enumerate() {
        // Without the object's program headers (a trimmed core, no copy of the file at hand), its file-backed
        // writable mappings stand in: `.data` is there, `.bss` (an anonymous mapping of unknown size) is not.
        let ranges: Vec<(u64, u64)> = if obj.data_segments.is_empty() {
            obj.mappings.iter().filter(|m| m.writable).map(|m| (m.range.start.0, m.range.end.0)).collect()
        } else {
            obj.data_segments.iter().map(|r| (r.start.0, r.end.0)).collect()
        };
        for (seg_start, seg_end) in ranges {
            let start = (seg_start + 7) & !7;
            let end = seg_end.min(start.saturating_add(MAX_SEGMENT_BYTES));
            if start < end {
                out.push((start, end, i as u32));
            }
        }
    }
    out
}

/// Every word of static data (`ranges`, from [`data_ranges`]) that holds the address of an object (`is_object`),
/// with where it is.
pub fn c_globals<P, T>(p: &P, ranges: &[(u64, u64, u32)], is_object: impl Fn(u64) -> Option<T>) -> Vec<(T, RootWhere)>
where
    P: ProcessImage + ?Sized,
{
    let mut out = Vec::new();
    for &(start, end, object) in ranges {
        scan_words(p, start, end, &is_object, |t, addr| out.push((t, RootWhere::CGlobal { addr, object })));
    }
    out
}

/// Calls `found(t, word address)` for every aligned word in `start..end` that holds the address of an object
/// (`is_object`). Pages the core does not hold are skipped: nothing there can be read as a pointer.
pub fn scan_words<P, T>(
    p: &P,
    start: u64,
    end: u64,
    is_object: &impl Fn(u64) -> Option<T>,
    mut found: impl FnMut(T, Addr),
) where
    P: ProcessImage + ?Sized,
{
    let mut at = (start + 7) & !7;
    while at < end {
        let len = (end - at).min(CHUNK);
        if let Ok(bytes) = p.bytes(Addr(at), len as usize) {
            for (k, w) in bytes.chunks_exact(8).enumerate() {
                let word = u64::from_le_bytes(w.try_into().unwrap_or([0; 8]));
                if word < 4096 || word & 7 != 0 {
                    continue;
                }
                if let Some(t) = is_object(word) {
                    found(t, Addr(at + 8 * k as u64));
                }
            }
        }
        at += len;
    }
}
