//! Confirming a layout on a fixture core: every check reads the core through the layout and compares with what the
//! process said about itself (truth.json) or with `_Py_DebugOffsets`. A field is confirmed when a check that used it
//! passed and none that used it failed.
//!
//! Runs on every fixture in the tests (so the DWARF tables are checked too), and by the generator on py314, whose
//! results go into the header of tables.rs.

mod classes;
mod dicts;
mod objects;
mod obmalloc;
mod runtime;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use anyhow::Context;
use heapscope_coredump::{CoreProcess, Memory, OpenOptions, ProcessImage};
use heapscope_cpython::layout::{Flavour, Layout, Source};
use heapscope_cpython::{detect, Detection, PythonVersion};
use serde_json::Value;

/// Label of fields confirmed by `_Py_DebugOffsets`.
pub const BY_DEBUG_OFFSETS: &str = "confirmed by its _Py_DebugOffsets";
/// Label of fields confirmed by walking the core.
pub const BY_WALK: &str = "confirmed by walking its runtime, threads, frames and objects";

/// Most list nodes, tuple items or string characters read by one check.
const CAP: usize = 1 << 22;

/// What a fixture confirmed of a layout.
#[derive(Debug, Clone)]
pub struct Report {
    /// The fixture's interpreter.
    pub version: PythonVersion,
    /// Field → [`BY_DEBUG_OFFSETS`] or [`BY_WALK`].
    pub confirmed: BTreeMap<String, String>,
    /// Checks that failed, with the fields they used.
    pub failures: Vec<String>,
}

/// Opens the fixture in `dir` (core.zst, truth.json.zst, with `sysroot` if given) and checks a layout on it: the
/// interpreter's built-in one, or (`table`) one made of these (`Struct.field`, offset) values.
pub fn confirm(dir: &Path, sysroot: Option<&Path>, table: Option<&[(String, u32)]>) -> anyhow::Result<Report> {
    let opts = OpenOptions { sysroot: sysroot.map(Path::to_path_buf), search_paths: Vec::new() };
    let core = dir.join("core.zst");
    let p = CoreProcess::open(&core, &opts).with_context(|| format!("opening {}", core.display()))?;
    let d = detect(&p).with_context(|| format!("finding the interpreter in {}", core.display()))?;
    let raw = std::fs::read(dir.join("truth.json.zst")).context("reading truth.json.zst")?;
    let truth: Value = serde_json::from_slice(&zstd::decode_all(&raw[..])?).context("parsing truth.json")?;
    let layout = match table {
        Some(values) => {
            let mut l = Layout::unknown(d.version, Flavour::Default);
            for (name, offset) in values {
                if let Some(f) = l.field_mut(name) {
                    f.set(*offset, Source::Table);
                }
            }
            l
        }
        None => Layout::builtin(&d.version, Flavour::Default)
            .with_context(|| format!("no built-in layout for {}", d.version))?,
    };
    let layout = &layout;
    let mut ctx = Ctx::new(&p, &d, layout, &truth);
    runtime::debug_offsets(&mut ctx);
    runtime::runtime(&mut ctx);
    objects::objects(&mut ctx);
    obmalloc::obmalloc(&mut ctx, layout);
    Ok(ctx.report)
}

/// One check run: the core, the layout, the truth, and what has been confirmed so far.
pub(crate) struct Ctx<'a> {
    pub p: &'a CoreProcess,
    pub d: &'a Detection,
    pub minor: u8,
    offsets: HashMap<String, u32>,
    pub objects: HashMap<u64, &'a Value>,
    pub markers: HashMap<String, u64>,
    pub threads: Vec<&'a Value>,
    /// The `<module>` frame's locals (module globals) with a repr: name → repr.
    pub globals: HashMap<String, String>,
    failed: BTreeSet<String>,
    report: Report,
}

impl<'a> Ctx<'a> {
    fn new(p: &'a CoreProcess, d: &'a Detection, l: &Layout, truth: &'a Value) -> Ctx<'a> {
        let offsets = l.all_fields().into_iter().filter_map(|(n, f)| Some((n, f.offset?))).collect();
        let objects = truth["objects"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| Some((o["address"].as_u64()?, o)))
            .collect();
        let markers = truth["markers"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.clone(), v.as_u64()?)))
            .collect();
        let threads: Vec<&Value> = truth["threads"].as_array().into_iter().flatten().collect();
        let module_frame = threads
            .iter()
            .find(|t| t["is_main"].as_bool() == Some(true))
            .and_then(|t| t["frames"].as_array()?.last())
            .filter(|f| f["function"] == "<module>");
        let globals = module_frame
            .and_then(|f| f["locals"].as_object())
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect();
        Ctx {
            p,
            d,
            minor: d.version.minor,
            offsets,
            objects,
            markers,
            threads,
            globals,
            failed: BTreeSet::new(),
            report: Report { version: d.version, confirmed: BTreeMap::new(), failures: Vec::new() },
        }
    }

    /// The offset of `Struct.field`, when the layout knows it.
    pub fn o(&self, field: &str) -> Option<u64> {
        self.offsets.get(field).map(|&v| u64::from(v))
    }

    /// Records a check over `fields` (those the layout does not know are left out; with none known it is skipped).
    pub fn check(&mut self, label: &str, name: &str, fields: &[&str], result: Result<(), String>) {
        let fields: Vec<&str> = fields.iter().copied().filter(|f| self.offsets.contains_key(*f)).collect();
        if fields.is_empty() {
            return;
        }
        match result {
            Ok(()) => {
                for f in fields {
                    if !self.failed.contains(f) {
                        self.report.confirmed.entry(f.to_string()).or_insert_with(|| label.to_string());
                    }
                }
            }
            Err(why) => {
                self.report.failures.push(format!("{name}: {why} (fields {})", fields.join(", ")));
                for f in fields {
                    self.failed.insert(f.to_string());
                    self.report.confirmed.remove(f);
                }
            }
        }
    }

    /// A check confirmed by walking the core.
    pub fn walk(&mut self, name: &str, fields: &[&str], result: Result<(), String>) {
        self.check(BY_WALK, name, fields, result);
    }

    pub fn u64(&self, a: u64) -> Option<u64> {
        self.p.read_u64(heapscope_coredump::Addr(a)).ok()
    }
    pub fn i64(&self, a: u64) -> Option<i64> {
        self.u64(a).map(|v| v as i64)
    }
    pub fn u32(&self, a: u64) -> Option<u32> {
        self.p.read_u32(heapscope_coredump::Addr(a)).ok()
    }
    pub fn i32(&self, a: u64) -> Option<i32> {
        self.u32(a).map(|v| v as i32)
    }
    pub fn u8(&self, a: u64) -> Option<u8> {
        self.p.read_u8(heapscope_coredump::Addr(a)).ok()
    }

    /// The pointer in field `field` of the struct at `base`.
    pub fn ptr_at(&self, base: u64, field: &str) -> Option<u64> {
        self.u64(base.checked_add(self.o(field)?)?)
    }

    /// A `_PyStackRef` (3.14) or plain pointer (earlier) as an object address.
    pub fn stackref(&self, bits: u64) -> u64 {
        if self.minor >= 14 {
            bits & !3
        } else {
            bits
        }
    }

    /// The truth's type name of the object at `a`, if the truth lists it.
    pub fn truth_type(&self, a: u64) -> Option<&'a str> {
        self.objects.get(&a).and_then(|o| o["type"].as_str())
    }

    /// The referents the truth gives for the object at `a`.
    pub fn referents(&self, a: u64) -> Vec<u64> {
        self.objects
            .get(&a)
            .and_then(|o| o["referents"].as_array())
            .map(|r| r.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default()
    }

    /// Address of a symbol of the interpreter.
    pub fn symbol(&self, name: &str) -> Option<u64> {
        self.p.symbol(name).map(|s| s.addr.0)
    }

    /// `ob_size` of a variable-size object.
    pub fn var_size(&self, obj: u64) -> Option<usize> {
        usize::try_from(self.i64(obj.wrapping_add(self.o("VarObject.ob_size")?))?).ok().filter(|&n| n <= CAP)
    }

    /// The items of a tuple.
    pub fn tuple_items(&self, t: u64) -> Option<Vec<u64>> {
        let n = self.var_size(t)?;
        let base = t.wrapping_add(self.o("TupleObject.ob_item")?);
        (0..n as u64).map(|i| self.u64(base.wrapping_add(8 * i))).collect()
    }

    /// The contents of a bytes object.
    pub fn bytes_of(&self, b: u64) -> Option<Vec<u8>> {
        let n = self.var_size(b)?;
        self.p
            .bytes(heapscope_coredump::Addr(b.wrapping_add(self.o("BytesObject.ob_sval")?)), n)
            .ok()
            .map(|c| c.into_owned())
    }

    /// The text of a str object (compact ASCII, compact, or legacy with a data pointer).
    pub fn str_of(&self, s: u64) -> Option<String> {
        let len =
            usize::try_from(self.i64(s.wrapping_add(self.o("AsciiObject.length")?))?).ok().filter(|&n| n <= CAP)?;
        let state = self.u32(s.wrapping_add(self.o("AsciiObject.state")?))?;
        let (kind, compact, ascii) = ((state >> 2) & 7, state & (1 << 5) != 0, state & (1 << 6) != 0);
        let data = match (compact, ascii) {
            (true, true) => s.wrapping_add(self.o("AsciiObject.size")?),
            (true, false) => s.wrapping_add(self.o("CompactUnicodeObject.size")?),
            (false, _) => self.ptr_at(s, "UnicodeObject.data").filter(|&p| p != 0)?,
        };
        let width = match kind {
            1 | 2 | 4 => kind as usize,
            _ => return None,
        };
        let raw = self.p.bytes(heapscope_coredump::Addr(data), len * width).ok()?;
        raw.chunks_exact(width)
            .map(|c| {
                let mut v = [0u8; 4];
                v[..width].copy_from_slice(c);
                char::from_u32(u32::from_le_bytes(v))
            })
            .collect()
    }

    /// The value of an int object, when it fits an i128.
    pub fn int_of(&self, o: u64) -> Option<i128> {
        let (ndigits, negative) = if self.minor >= 12 {
            let tag = self.u64(o.wrapping_add(self.o("LongObject.lv_tag")?))?;
            ((tag >> 3) as usize, tag & 3 == 2)
        } else {
            let size = self.i64(o.wrapping_add(self.o("VarObject.ob_size")?))?;
            (size.unsigned_abs() as usize, size < 0)
        };
        if ndigits > 5 {
            return None;
        }
        let base = o.wrapping_add(self.o("LongObject.ob_digit")?);
        let mut v: i128 = 0;
        for i in (0..ndigits as u64).rev() {
            let digit = self.u32(base.wrapping_add(4 * i))?;
            if digit >= 1 << 30 {
                return None;
            }
            v = v.checked_mul(1 << 30)?.checked_add(i128::from(digit))?;
        }
        Some(if negative { -v } else { v })
    }

    /// `tp_name` of the type object `t`.
    pub fn tp_name(&self, t: u64) -> Option<String> {
        let name = self.ptr_at(t, "TypeObject.tp_name")?;
        let bytes = self.p.read_cstr(heapscope_coredump::Addr(name), 256).ok()?;
        String::from_utf8(bytes).ok()
    }

    /// The type of the object at `o`.
    pub fn type_of(&self, o: u64) -> Option<u64> {
        self.ptr_at(o, "Object.ob_type")
    }

    /// True if `a` lies in an executable mapping.
    pub fn is_code_address(&self, a: u64) -> bool {
        self.p
            .objects()
            .iter()
            .any(|o| o.mappings.iter().any(|m| m.executable && m.range.contains(heapscope_coredump::Addr(a))))
    }

    /// True if `a` lies inside a mapped object (a static object of the interpreter, not a heap one).
    pub fn is_static(&self, a: u64) -> bool {
        let a = heapscope_coredump::Addr(a);
        self.p.objects().iter().any(|o| o.contains(a) || o.data_segments.iter().any(|r| r.contains(a)))
    }

    /// Addresses of the truth objects whose type is exactly `ty`.
    pub fn of_type(&self, ty: &str) -> Vec<u64> {
        let mut v: Vec<u64> =
            self.objects.iter().filter(|(_, o)| o["type"].as_str() == Some(ty)).map(|(&a, _)| a).collect();
        v.sort_unstable();
        v
    }
}

/// A Python repr of a plain str (`'abc'`) as its text, when it has no escapes.
pub(crate) fn plain_str_repr(repr: &str) -> Option<&str> {
    let inner = repr.strip_prefix('\'')?.strip_suffix('\'')?;
    (!inner.contains('\\') && !inner.contains('\'')).then_some(inner)
}

/// Ok when `ok`, else the message.
pub(crate) fn ensure(ok: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(msg())
    }
}
