//! `_Py_DebugOffsets` (3.13+): the offsets CPython itself publishes at the very start of `_PyRuntime` for debuggers.
//!
//! The block is the cookie `xdebugpy`, `PY_VERSION_HEX`, `free_threaded`, then one `uint64_t` per entry: 584 bytes in
//! 3.13, 760 in 3.14 (the same for 3.14.0 and 3.14.10) and 888 in 3.15 (3.15.2). Positions below are those of
//! `Include/internal/pycore_runtime.h` (3.13) and `pycore_debug_offsets.h` (3.14, 3.15), checked on the py313, py314
//! and py315 fixture cores, where every value agrees with the tables (tests/layout.rs).
//!
//! The values come from the analysed process, so they are checked before use: a struct size must be below 1 MiB and
//! an offset below its struct's size; anything else is ignored with a warning.

use heapscope_coredump::{Addr, Memory, ReadError};

use super::{Layout, Source};
use crate::version::DEBUG_OFFSETS_COOKIE;

/// Largest struct size accepted from the process.
const MAX_SIZE: u64 = 1 << 20;

/// Stand-ins for [`DebugOffsets::self_check`]'s scratch layout, whose version and flavour play no part in the checks.
const MIN_313: crate::PythonVersion =
    crate::PythonVersion { major: 3, minor: 13, micro: 0, level: crate::ReleaseLevel::Final, serial: 0 };
const FLAVOUR: super::Flavour = super::Flavour::Default;

/// The minor versions with a block, in the order of the positions in [`ENTRIES`].
const MINORS: [u8; 3] = [13, 14, 15];

/// Each entry: its byte position in 3.13, 3.14 and 3.15 (`None`: not in that version), the layout field it gives, and
/// the entry whose value is to be subtracted from it, if any: `gil_runtime_state_locked` and `_holder` are
/// `offsetof(PyInterpreterState, _gil.locked)` and `_gil.last_holder`, relative to the interpreter, not to
/// `_gil_runtime_state` (3.13.0: 7768 and 7760 with `_gil` at 7752). Entries of the free-threaded build only (`gil_runtime_state_enabled`, `tlbc_index`, `co_tlbc`, 3.14's
/// `tlbc_generation`) and those no layout field stands for (`_finalizing`, `_status`, 3.14's
/// `code_object_generation`, `llist_node` and the PEP 768 debugger block; 3.15's `base_frame`, `last_profiled_frame`,
/// `last_profiled_frame_seq`, `holds_gil`, `gil_requested`, `current_exception` and `exc_state` of the thread state
/// and `frame`, `generation_stats_size` and `generation_stats` of the GC state) are not listed.
#[allow(clippy::type_complexity)]
const ENTRIES: &[([Option<u16>; 3], &str, Option<&str>)] = &[
    ([Some(24), Some(24), Some(24)], "RuntimeState.size", None),
    ([Some(40), Some(40), Some(40)], "RuntimeState.interpreters_head", None),
    ([Some(48), Some(48), Some(48)], "InterpreterState.size", None),
    ([Some(56), Some(56), Some(56)], "InterpreterState.id", None),
    ([Some(64), Some(64), Some(64)], "InterpreterState.next", None),
    ([Some(72), Some(72), Some(72)], "InterpreterState.threads_head", None),
    ([None, Some(80), Some(80)], "InterpreterState.threads_main", None),
    ([Some(80), Some(88), Some(88)], "InterpreterState.gc", None),
    ([Some(88), Some(96), Some(96)], "InterpreterState.modules", None),
    ([Some(96), Some(104), Some(104)], "InterpreterState.sysdict", None),
    ([Some(104), Some(112), Some(112)], "InterpreterState.builtins", None),
    ([Some(112), Some(120), Some(120)], "InterpreterState.ceval_gil", None),
    ([Some(120), Some(128), Some(128)], "InterpreterState.own_gil", None),
    ([Some(136), Some(144), Some(144)], "GilState.locked", Some("InterpreterState.own_gil")),
    ([Some(144), Some(152), Some(152)], "GilState.last_holder", Some("InterpreterState.own_gil")),
    ([Some(152), Some(176), Some(176)], "ThreadState.size", None),
    ([Some(160), Some(184), Some(184)], "ThreadState.prev", None),
    ([Some(168), Some(192), Some(192)], "ThreadState.next", None),
    ([Some(176), Some(200), Some(200)], "ThreadState.interp", None),
    ([Some(184), Some(208), Some(208)], "ThreadState.current_frame", None),
    ([Some(192), Some(216), Some(240)], "ThreadState.thread_id", None),
    ([Some(200), Some(224), Some(248)], "ThreadState.native_thread_id", None),
    ([Some(208), Some(232), Some(256)], "ThreadState.datastack_chunk", None),
    ([None, None, Some(304)], "ErrStackItem.exc_value", None),
    ([Some(224), Some(248), Some(312)], "InterpreterFrame.size", None),
    ([Some(232), Some(256), Some(320)], "InterpreterFrame.previous", None),
    ([Some(240), Some(264), Some(328)], "InterpreterFrame.executable", None),
    ([Some(248), Some(272), Some(336)], "InterpreterFrame.instr_ptr", None),
    ([Some(256), Some(280), Some(344)], "InterpreterFrame.localsplus", None),
    ([Some(264), Some(288), Some(352)], "InterpreterFrame.owner", None),
    ([None, Some(296), Some(360)], "InterpreterFrame.stackpointer", None),
    ([Some(272), Some(312), Some(376)], "CodeObject.size", None),
    ([Some(280), Some(320), Some(384)], "CodeObject.filename", None),
    ([Some(288), Some(328), Some(392)], "CodeObject.name", None),
    ([Some(296), Some(336), Some(400)], "CodeObject.qualname", None),
    ([Some(304), Some(344), Some(408)], "CodeObject.linetable", None),
    ([Some(312), Some(352), Some(416)], "CodeObject.firstlineno", None),
    ([Some(320), Some(360), Some(424)], "CodeObject.argcount", None),
    ([Some(328), Some(368), Some(432)], "CodeObject.localsplusnames", None),
    ([Some(336), Some(376), Some(440)], "CodeObject.localspluskinds", None),
    ([Some(344), Some(384), Some(448)], "CodeObject.code_adaptive", None),
    ([Some(352), Some(400), Some(464)], "Object.size", None),
    ([Some(360), Some(408), Some(472)], "Object.ob_type", None),
    ([Some(368), Some(416), Some(480)], "TypeObject.size", None),
    ([Some(376), Some(424), Some(488)], "TypeObject.tp_name", None),
    ([Some(384), Some(432), Some(496)], "TypeObject.tp_repr", None),
    ([Some(392), Some(440), Some(504)], "TypeObject.tp_flags", None),
    ([None, None, Some(512)], "TypeObject.tp_basicsize", None),
    ([None, None, Some(520)], "TypeObject.tp_dictoffset", None),
    ([None, None, Some(528)], "HeapTypeObject.size", None),
    ([None, None, Some(536)], "HeapTypeObject.ht_cached_keys", None),
    ([Some(400), Some(448), Some(544)], "TupleObject.size", None),
    ([Some(408), Some(456), Some(552)], "TupleObject.ob_item", None),
    ([Some(416), Some(464), Some(560)], "VarObject.ob_size", None),
    ([Some(424), Some(472), Some(568)], "ListObject.size", None),
    ([Some(432), Some(480), Some(576)], "ListObject.ob_item", None),
    ([Some(440), Some(488), Some(584)], "VarObject.ob_size", None),
    ([None, Some(496), Some(592)], "SetObject.size", None),
    ([None, Some(504), Some(600)], "SetObject.used", None),
    ([None, Some(512), Some(608)], "SetObject.table", None),
    ([None, Some(520), Some(616)], "SetObject.mask", None),
    ([Some(448), Some(528), Some(624)], "DictObject.size", None),
    ([Some(456), Some(536), Some(632)], "DictObject.ma_keys", None),
    ([Some(464), Some(544), Some(640)], "DictObject.ma_values", None),
    ([Some(472), Some(552), Some(648)], "FloatObject.size", None),
    ([Some(480), Some(560), Some(656)], "FloatObject.ob_fval", None),
    ([Some(488), Some(568), Some(664)], "LongObject.size", None),
    ([Some(496), Some(576), Some(672)], "LongObject.lv_tag", None),
    ([Some(504), Some(584), Some(680)], "LongObject.ob_digit", None),
    ([Some(512), Some(592), Some(688)], "BytesObject.size", None),
    ([Some(520), Some(600), Some(696)], "VarObject.ob_size", None),
    ([Some(528), Some(608), Some(704)], "BytesObject.ob_sval", None),
    ([Some(536), Some(616), Some(712)], "UnicodeObject.size", None),
    ([Some(544), Some(624), Some(720)], "AsciiObject.state", None),
    ([Some(552), Some(632), Some(728)], "AsciiObject.length", None),
    ([Some(560), Some(640), Some(736)], "AsciiObject.size", None),
    ([None, None, Some(744)], "CompactUnicodeObject.size", None),
    ([Some(568), Some(648), Some(752)], "GcRuntimeState.size", None),
    ([Some(576), Some(656), Some(760)], "GcRuntimeState.collecting", None),
    ([None, Some(664), Some(792)], "GenObject.size", None),
    ([None, Some(672), Some(800)], "GenObject.gi_name", None),
    ([None, Some(680), Some(808)], "GenObject.gi_iframe", None),
    ([None, Some(688), Some(816)], "GenObject.gi_frame_state", None),
];

/// The `_Py_DebugOffsets` block of a 3.13+ process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebugOffsets {
    /// `PY_VERSION_HEX` as the block states it.
    pub version: u64,
    /// True for a free-threaded (`Py_GIL_DISABLED`) build.
    pub free_threaded: bool,
    /// Every listed entry of this version: (layout field `Struct.field`, value).
    pub values: Vec<(&'static str, u64)>,
    /// Entries that could not be turned into a layout value.
    pub problems: Vec<String>,
}

impl DebugOffsets {
    /// Size of the block in a 3.`minor` process, or `None` for versions without it.
    pub fn block_size(minor: u8) -> Option<usize> {
        match minor {
            13 => Some(584),
            14 => Some(760),
            15 => Some(888),
            _ => None,
        }
    }

    /// The block format to read a 3.`minor` process with: its own, or for a release newer than every format listed
    /// here the newest one (to be trusted only if [`DebugOffsets::self_check`] passes). `None` before 3.13.
    pub fn format_for(minor: u8) -> Option<u8> {
        (13..=minor).rev().find(|&m| Self::block_size(m).is_some())
    }

    /// Why this block, read in an assumed format, does not look like one: entries that are not turned into values,
    /// sizes and offsets that fail the checks of [`DebugOffsets::apply`] (judged by the block's own sizes alone), an
    /// entry given twice with different values. Entries read at the wrong positions fail these quickly: the
    /// positions are sizes, offsets below them and the same `ob_size` three times.
    pub fn self_check(&self) -> Vec<String> {
        let mut bad = self.problems.clone();
        let mut scratch = Layout::unknown(MIN_313, FLAVOUR);
        let mut seen: Vec<(&str, u64)> = Vec::new();
        for &(field, value) in &self.values {
            match seen.iter().find(|(f, _)| *f == field) {
                Some(&(_, first)) if first != value => {
                    bad.push(format!("{} is given both as {first} and as {value}", describe(field)))
                }
                Some(_) => {}
                None => seen.push((field, value)),
            }
            if let Err(why) = self.check(&mut scratch, field, value) {
                bad.push(format!("{} = {value}: {why}", describe(field)));
            }
        }
        bad
    }

    /// Reads the block at `runtime` (the start of `_PyRuntime`) of a 3.`minor` process. `Ok(None)` when the version
    /// has no such block or the cookie is not there.
    pub fn read<M: Memory + ?Sized>(m: &M, runtime: Addr, minor: u8) -> Result<Option<DebugOffsets>, ReadError> {
        let Some(size) = Self::block_size(minor) else { return Ok(None) };
        let mut buf = vec![0u8; size];
        m.read_into(runtime, &mut buf)?;
        Ok(Self::parse(&buf, minor))
    }

    /// Decodes a block read from a 3.`minor` process; `None` if it does not start with the cookie or is too short.
    pub fn parse(bytes: &[u8], minor: u8) -> Option<DebugOffsets> {
        if bytes.get(..8)? != DEBUG_OFFSETS_COOKIE || bytes.len() < Self::block_size(minor)? {
            return None;
        }
        let column = MINORS.iter().position(|&m| m == minor)?;
        let word = |pos: usize| -> Option<u64> { Some(u64::from_le_bytes(bytes.get(pos..pos + 8)?.try_into().ok()?)) };
        let raw = |field: &str| -> Option<u64> {
            let (positions, _, _) = ENTRIES.iter().find(|e| e.1 == field)?;
            word(usize::from(positions[column]?))
        };
        let mut values = Vec::new();
        let mut problems = Vec::new();
        for &(positions, field, minus) in ENTRIES {
            let Some(value) = positions[column].and_then(|pos| word(usize::from(pos))) else {
                continue;
            };
            match minus.map(|base| (base, raw(base))) {
                None => values.push((field, value)),
                Some((_, Some(b))) if b <= value => values.push((field, value - b)),
                Some((base, b)) => problems.push(format!(
                    "{} ({value}) should be {} ({}) plus an offset",
                    describe(field),
                    describe(base),
                    b.map_or_else(|| "missing".to_string(), |b| b.to_string())
                )),
            }
        }
        Some(DebugOffsets { version: word(8)?, free_threaded: word(16)? != 0, values, problems })
    }

    /// Puts the values into `layout` with [`Source::DebugOffsets`], after checking them; a value that disagrees with
    /// what the layout held (from `held_by`, e.g. "the 3.13 table") adds a warning, and so does a value that fails the
    /// checks (it is then not used).
    pub fn apply(&self, layout: &mut Layout, held_by: &dyn Fn(Source) -> String, warnings: &mut Vec<String>) {
        for p in &self.problems {
            warnings.push(format!("ignoring a _Py_DebugOffsets entry: {p}"));
        }
        let mut done: Vec<(&str, u64)> = Vec::new();
        for &(field, value) in &self.values {
            if let Some(&(_, first)) = done.iter().find(|(f, _)| *f == field) {
                if first != value {
                    warnings.push(format!(
                        "_Py_DebugOffsets gives {} both as {first} and as {value}; using {first}",
                        describe(field)
                    ));
                }
                continue;
            }
            done.push((field, value));
            if let Err(why) = self.check(layout, field, value) {
                warnings.push(format!("ignoring _Py_DebugOffsets's value {value} for {}: {why}", describe(field)));
                continue;
            }
            let Some(f) = layout.field_mut(field) else { continue };
            let value = value as u32; // below MAX_SIZE, checked
            if let Some(old) = f.offset.filter(|&old| old != value) {
                warnings.push(format!(
                    "_Py_DebugOffsets says {} is {value}, {} says {old}; using {value}",
                    describe(field),
                    held_by(f.source)
                ));
            }
            f.set(value, Source::DebugOffsets);
        }
    }

    /// A size must be in (0, 1 MiB); an offset below its struct's size (from this block, else the layout).
    fn check(&self, layout: &mut Layout, field: &str, value: u64) -> Result<(), String> {
        let (strukt, name) = field.split_once('.').unwrap_or((field, ""));
        if name == "size" {
            return if value == 0 || value >= MAX_SIZE {
                Err(format!("a struct size must be between 1 and {MAX_SIZE} bytes"))
            } else {
                Ok(())
            };
        }
        let size_field = format!("{strukt}.size");
        let size = self
            .values
            .iter()
            .find(|(f, _)| *f == size_field)
            .map(|&(_, v)| v)
            .filter(|&v| v > 0 && v < MAX_SIZE)
            .or_else(|| layout.field_mut(&size_field).and_then(|f| f.offset).map(u64::from))
            .unwrap_or(MAX_SIZE);
        if value >= size {
            return Err(format!("not below the struct's size {size}"));
        }
        Ok(())
    }
}

/// A 3.`minor`-format block (at least `block_size(minor)` bytes) stating `version` and the offsets of `layout`, as a
/// process of that layout would publish it; entries the layout does not know are left 0.
#[cfg(test)]
pub(super) fn encode(layout: &mut Layout, minor: u8, version: u64) -> Vec<u8> {
    let mut b = vec![0u8; DebugOffsets::block_size(minor).expect("a known format")];
    b[..8].copy_from_slice(DEBUG_OFFSETS_COOKIE);
    b[8..16].copy_from_slice(&version.to_le_bytes());
    let column = MINORS.iter().position(|&m| m == minor).expect("a known format");
    for &(positions, field, minus) in ENTRIES {
        let Some(pos) = positions[column].map(usize::from) else { continue };
        let mut get = |f: &str| layout.field_mut(f).and_then(|f| f.offset).map(u64::from);
        let Some(value) = get(field) else { continue };
        let base = minus.and_then(&mut get).unwrap_or(0);
        b[pos..pos + 8].copy_from_slice(&(value + base).to_le_bytes());
    }
    b
}

/// `ThreadState.current_frame` → `PyThreadState.current_frame`; `ThreadState.size` → `sizeof(PyThreadState)`.
pub fn describe(field: &str) -> String {
    let (strukt, name) = field.split_once('.').unwrap_or((field, ""));
    let c = Layout::schema().into_iter().find(|(rust, _, _)| *rust == strukt).and_then(|(_, c, _)| c.first().copied());
    let c = c.unwrap_or(strukt);
    if name == "size" {
        format!("sizeof({c})")
    } else {
        format!("{c}.{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_names_a_layout_field_and_positions_do_not_overlap() {
        let version = crate::PythonVersion::from_hex(0x030d00f0).unwrap();
        let mut layout = Layout::unknown(version, super::super::Flavour::Default);
        for (column, minor) in MINORS.into_iter().enumerate() {
            let mut seen = std::collections::HashSet::new();
            for &(positions, field, _) in ENTRIES {
                assert!(layout.field_mut(field).is_some(), "{field}");
                if let Some(p) = positions[column] {
                    assert!(p % 8 == 0 && p >= 24, "{field} at {p}");
                    assert!(usize::from(p) + 8 <= DebugOffsets::block_size(minor).unwrap(), "{field}");
                    assert!(seen.insert(p), "two entries at {p} in 3.{minor}");
                }
            }
        }
    }

    #[test]
    fn absurd_values_are_not_applied() {
        let version = crate::PythonVersion::from_hex(0x030d00f0).unwrap();
        let mut block = vec![0u8; 584];
        block[..8].copy_from_slice(DEBUG_OFFSETS_COOKIE);
        let put = |b: &mut Vec<u8>, pos: usize, v: u64| b[pos..pos + 8].copy_from_slice(&v.to_le_bytes());
        put(&mut block, 152, 304); // sizeof(PyThreadState)
        put(&mut block, 168, 8); // next
        put(&mut block, 184, 4096); // current_frame: beyond the struct
        put(&mut block, 48, 1 << 40); // sizeof(PyInterpreterState): absurd
        let d = DebugOffsets::parse(&block, 13).unwrap();
        assert!(!d.free_threaded);
        let mut layout = Layout::unknown(version, super::super::Flavour::Default);
        let mut warnings = Vec::new();
        d.apply(&mut layout, &|s| s.to_string(), &mut warnings);
        assert_eq!(layout.tstate.next.offset, Some(8));
        assert_eq!(layout.tstate.next.source, Source::DebugOffsets);
        assert_eq!(layout.tstate.current_frame.offset, None);
        assert_eq!(layout.interp.size.offset, None);
        assert!(warnings.iter().any(|w| w.contains("PyThreadState.current_frame")), "{warnings:?}");
        assert!(warnings.iter().any(|w| w.contains("sizeof(PyInterpreterState)")), "{warnings:?}");
        assert_eq!(DebugOffsets::parse(&block[..100], 13), None);
        block[0] = b'X';
        assert_eq!(DebugOffsets::parse(&block, 13), None);
    }
}
