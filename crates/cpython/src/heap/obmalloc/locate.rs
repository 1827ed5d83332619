//! Finding pymalloc's arena table: through `interp->obmalloc` (3.12+), by the `.symtab` symbols `arenas` and
//! `maxarenas` (≤3.11, libpython's file on disk), or by a validated scan of libpython's writable segments (≤3.11
//! from the core alone). On the 3.8–3.11 fixtures the scan finds exactly the table and `maxarenas` the symbols name.

use heapscope_coredump::{Addr, Memory, ProcessImage};

use super::{
    check_entry, entry_size, first_pool_fits, read_arenas, ArenaTable, Entry, Geometry, TableSource, ALIGNMENT,
    MAX_ARENAS,
};
use crate::layout::Layout;
use crate::objects::{Features, PymallocState};

/// Most bytes of writable data scanned for the arena table (libpython's `.data` + `.bss` is a few MiB).
const MAX_SCAN_BYTES: u64 = 256 << 20;

/// Most entries of a candidate table checked by the scan when no `maxarenas` is found next to its pointer.
const MAX_SCAN_ENTRIES: u32 = 1 << 16;

/// The table of an interpreter's pymalloc, and warnings about how it was found. `Err` says why it was not.
pub fn locate_arenas<P: ProcessImage + ?Sized>(
    p: &P,
    layout: &Layout,
    runtime: Addr,
    interp: Addr,
) -> Result<(ArenaTable, Vec<String>), String> {
    let mut warnings = Vec::new();
    let geometry = Geometry::for_layout(layout);
    let (addr, maxarenas, source) = if layout.interp.obmalloc.is_known() {
        let slot =
            crate::runtime::field_addr(interp, &layout.interp.obmalloc, "interpreter").map_err(|e| e.to_string())?;
        let (state, source) = if Features::for_layout(layout).pymalloc_state == PymallocState::Embedded {
            (slot, TableSource::EmbeddedState)
        } else {
            let ptr = p.read_ptr(slot).map_err(|e| format!("reading interp->obmalloc at {slot}: {e}"))?;
            if ptr.is_null() {
                return Err(format!("interp->obmalloc at {slot} is NULL"));
            }
            (ptr, TableSource::StatePointer)
        };
        let o = &layout.obmalloc;
        let arenas = crate::runtime::read_ptr(p, state, &o.arenas, "obmalloc state").map_err(|e| e.to_string())?;
        let max_at = crate::runtime::field_addr(state, &o.maxarenas, "obmalloc state").map_err(|e| e.to_string())?;
        let max = p.read_u32(max_at).map_err(|e| format!("reading maxarenas at {max_at}: {e}"))?;
        (arenas, max, source)
    } else if let Some(found) = by_symbols(p, runtime) {
        (found.0, found.1, TableSource::Symbols)
    } else {
        // The scan checks pool headers, so it needs the right geometry: try the other one before giving up.
        let (addr, max, notes) = scan_for_table(p, layout, runtime, &geometry)
            .or_else(|e| scan_for_table(p, layout, runtime, &geometry.other()).map_err(|_| e))?;
        warnings.extend(notes);
        (addr, max, TableSource::Scan)
    };
    if addr.is_null() {
        return Err("pymalloc's arena table pointer is NULL (no arena was ever allocated)".into());
    }
    if maxarenas > MAX_ARENAS {
        return Err(format!("maxarenas is {maxarenas}, more than heapscope reads ({MAX_ARENAS})"));
    }
    let mut table = ArenaTable { addr, maxarenas, source, geometry };
    // Confirm the geometry on the first arena with a carved pool; fall back to the other one if only it fits.
    let (arenas, _) = read_arenas(p, layout, &table);
    if let Some(fits) = arenas.iter().find_map(|a| first_pool_fits(p, layout, a, &geometry)) {
        if !fits {
            let other = geometry.other();
            table.geometry = other;
            let (arenas, _) = read_arenas(p, layout, &table);
            if arenas.iter().find_map(|a| first_pool_fits(p, layout, a, &other)) == Some(true) {
                warnings.push(format!(
                    "pymalloc uses {} KiB arenas of {} KiB pools, not the {} KiB / {} KiB of a default {} build",
                    other.arena_size >> 10,
                    other.pool_size >> 10,
                    geometry.arena_size >> 10,
                    geometry.pool_size >> 10,
                    layout.version
                ));
            } else {
                table.geometry = geometry;
                warnings.push(format!("pymalloc's first pool header does not fit the {} geometry", layout.version));
            }
        }
    }
    Ok((table, warnings))
}

/// The index of the loaded object holding `addr` (in a mapping or a writable segment).
fn object_holding<P: ProcessImage + ?Sized>(p: &P, addr: Addr) -> Option<usize> {
    p.objects().iter().position(|o| o.contains(addr) || o.data_segments.iter().any(|r| r.contains(addr)))
}

/// ≤3.11: `arenas` and `maxarenas` by their `.symtab` symbols in the object that holds `_PyRuntime`.
fn by_symbols<P: ProcessImage + ?Sized>(p: &P, runtime: Addr) -> Option<(Addr, u32)> {
    let obj = object_holding(p, runtime)?;
    let arenas = p.symbol_in(obj, "arenas")?;
    let max = p.symbol_in(obj, "maxarenas")?;
    Some((p.read_ptr(arenas.addr).ok()?, p.read_u32(max.addr).ok()?))
}

/// ≤3.11 without symbols: scans the writable segments of the object holding `_PyRuntime` for a pointer to an arena
/// table, and returns (table, maxarenas, notes).
///
/// A candidate is an 8-byte word holding a 16-aligned address outside the segments whose entries are valid
/// `arena_object`s (`check_entry`) and whose used arenas' first pools carry their own index in `arenaindex` (at
/// least one must). Pointers into the middle of the table (`usable_arenas`, `unused_arena_objects`) fail that index
/// test. `maxarenas` is the `uint` near the pointer (it is declared next to it) equal to 16·2ᵏ (the table starts
/// at 16 entries and doubles) with every entry valid; without one, the number of valid entries rounded down to
/// such a value, with a note.
pub fn scan_for_table<P: ProcessImage + ?Sized>(
    p: &P,
    layout: &Layout,
    runtime: Addr,
    g: &Geometry,
) -> Result<(Addr, u32, Vec<String>), String> {
    let obj = object_holding(p, runtime).ok_or_else(|| format!("no mapped object holds _PyRuntime at {runtime}"))?;
    let segments = p.objects()[obj].data_segments.clone();
    let size = entry_size(layout).ok_or("the size of struct arena_object is not known")?;
    let mut best: Option<(usize, Addr, u32, bool)> = None;
    let mut ties = 0;
    let mut total = 0u64;
    for seg in &segments {
        let mut page = seg.start.align_down(4096);
        while page < seg.end && total < MAX_SCAN_BYTES {
            total += 4096;
            let Ok(bytes) = p.bytes(page, 4096) else {
                page = page.wrapping_add(4096);
                continue;
            };
            for (i, w) in bytes.chunks_exact(8).enumerate() {
                let slot = page.wrapping_add(i as u64 * 8);
                let cand = u64::from_le_bytes(w.try_into().unwrap_or([0; 8]));
                if !seg.contains(slot) || cand % ALIGNMENT != 0 || cand < 4096 {
                    continue;
                }
                if segments.iter().any(|s| s.contains(Addr(cand))) {
                    continue;
                }
                let Some((verified, max, exact)) = judge_table(p, layout, Addr(cand), slot, size, g) else { continue };
                match &best {
                    Some((v, a, ..)) if *v > verified || (*v == verified && *a == Addr(cand)) => {}
                    Some((v, ..)) if *v == verified => ties += 1,
                    _ => {
                        best = Some((verified, Addr(cand), max, exact));
                        ties = 0;
                    }
                }
            }
            page = page.wrapping_add(4096);
        }
    }
    let (verified, addr, max, exact) = best.ok_or_else(|| {
        format!(
            "no pointer to a valid arena table in the {} KiB of writable data of the object holding _PyRuntime",
            total >> 10
        )
    })?;
    let mut notes = Vec::new();
    if !exact {
        notes.push(format!("pymalloc's maxarenas was not found next to its arena table at {addr}; inferred {max}"));
    }
    if ties > 0 {
        notes.push(format!(
            "{} other candidates for pymalloc's arena table verify as many arenas ({verified}); using {addr}",
            ties
        ));
    }
    Ok((addr, max, notes))
}

/// Judges `table` (pointed to from `slot`) as an arena table: (arenas verified by their first pool, maxarenas,
/// whether maxarenas was found next to `slot`), or `None` if it is not one.
fn judge_table<P: Memory + ?Sized>(
    p: &P,
    layout: &Layout,
    table: Addr,
    slot: Addr,
    size: u64,
    g: &Geometry,
) -> Option<(usize, u32, bool)> {
    let mut buf = vec![0u8; size as usize];
    // Cheap test first: entry 0 must be a valid entry.
    p.read_into(table, &mut buf).ok()?;
    check_entry(&buf, 0, table, MAX_ARENAS, layout, g).ok()?;
    // maxarenas candidates: 16·2ᵏ values among the u32s within 64 bytes of the pointer.
    let mut near: Vec<u32> = Vec::new();
    for off in (0..=128u64).step_by(4).filter(|o| !(64..72).contains(o)) {
        let at = slot.wrapping_add(off).checked_sub(64)?;
        if let Ok(v) = p.read_u32(at) {
            if (16..=MAX_ARENAS).contains(&v) && v.is_multiple_of(16) && (v / 16).is_power_of_two() {
                near.push(v);
            }
        }
    }
    // Count valid entries (up to the largest plausible maxarenas) and verify used arenas by their pools. The first
    // arenas are allocated at start-up and hold long-lived objects: one of the first 16 must verify.
    let limit = near.iter().copied().max().unwrap_or(MAX_SCAN_ENTRIES).min(MAX_ARENAS);
    let mut valid = 0u32;
    let mut verified = Vec::new();
    while valid < limit {
        let at = table.wrapping_add(u64::from(valid) * size);
        if p.read_into(at, &mut buf).is_err() {
            break;
        }
        match check_entry(&buf, valid, table, limit, layout, g) {
            Ok(_) if valid == 16 && verified.is_empty() => return None,
            Ok(Entry::Used(a)) => match first_pool_fits(p, layout, &a, g) {
                Some(false) => break,
                Some(true) => verified.push(valid),
                None => {}
            },
            Ok(Entry::Unused) => {}
            Err(_) => break,
        }
        valid += 1;
    }
    let (max, exact) = match near.iter().copied().filter(|&m| m <= valid).max() {
        Some(m) => (m, true),
        None if valid >= 16 => (16 << (valid / 16).ilog2(), false),
        None => return None,
    };
    let verified = verified.iter().filter(|&&i| i < max).count();
    (verified > 0).then_some((verified, max, exact))
}
