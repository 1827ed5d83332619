//! [`Heap::preview`]: a short, `repr()`-like rendering of any object that never fails.
//!
//! # Format
//!
//! - `None`, `True`/`False`, int, float, complex, str, bytes: exactly Python's `repr()` (see [`super::repr`]), as
//!   long as the value fits the limits.
//! - A str or bytes longer than `max_str_chars` code points (bytes): the repr of its first `max_str_chars`, then
//!   `…` and its length: `'abcdef'… (len 1000)`, `b'\x00\x01'… (len 4096)`.
//! - An int whose decimal form is longer than `max_str_chars` digits: its first and last digits around `…`, then the
//!   digit count: `12345…67890 (5000 digits)`. Ints of more than [`MAX_PREVIEW_INT_DIGITS`] 30-bit digits are not
//!   converted at all (the conversion is quadratic): `<int of 1000000 bits>`.
//! - Containers as Python prints them when complete and `depth` allows (`[1, 'a']`, `(1,)`, `{'k': 2}`, `set()`,
//!   `{1, 2}`, `frozenset({1})`, `bytearray(b'x')`); with more than `max_items` items, the first `max_items`, then
//!   `…` inside the brackets and the length after them: `[1, 2, 3, …] (len 1000)`; when `depth` is exhausted,
//!   only `[…] (len 1000)`.
//! - Instances of subclasses of those builtins: the type name around the builtin's rendering,
//!   `collections.OrderedDict({'first': 1})`, `__main__.MyInt(5)`; struct sequences as Python prints them,
//!   `sys.version_info(major=3, minor=12, micro=1, releaselevel='final', serial=0)` (see [`Heap::structseq_fields`]).
//! - Generators, coroutines and async generators with their `__qualname__`, as Python prints them:
//!   `<coroutine object Worker.run at 0x7f…>`.
//! - Types `<class 'collections.OrderedDict'>`, functions `<function Node.__init__ at 0x7f…>`, modules
//!   `<module 'json'>`, code objects `<code object f at 0x7f…, file "x.py", line 3>`, anything else
//!   `<module.Class object at 0x7f…>` (the type as [`Heap::type_name`] spells it).
//! - Whatever cannot be read: `<unreadable 0x7f…: cause>`.
//! - With [`PreviewOptions::redact`], every str, bytes and bytearray, at any depth, is [`redacted`]: its length and a
//!   hash of its contents, `<str len=12 #3fa2c1d9>`, never the contents.

use std::fmt::Write;

use heapscope_coredump::{Addr, ProcessImage};

use super::{repr, DecodeError, Heap, Kind};

/// Most 30-bit digits of an int converted to decimal in a preview (about 18,000 decimal digits).
pub const MAX_PREVIEW_INT_DIGITS: u64 = 2000;

/// Limits of a preview.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreviewOptions {
    /// Most code points of a str (bytes of a bytes, digits of an int) shown.
    pub max_str_chars: usize,
    /// Most items of a container shown.
    pub max_items: usize,
    /// How many levels of containers are opened (0: none, only their length).
    pub depth: usize,
    /// Show every str, bytes and bytearray as [`redacted`] text (its length and a hash), never its contents.
    pub redact: bool,
}

/// Most code points (bytes) of a str (bytes, bytearray) that [`redacted`] hashes: 1 MiB.
pub const MAX_REDACTED_HASH_UNITS: usize = 1 << 20;

/// The redacted form of a str, bytes or bytearray (`what`) of `len` code points or bytes: `<str len=12 #3fa2c1d9>`.
/// The hash is 32 bits of FNV-1a (64-bit) of `content` (the upper half xor the lower half, 8 hex digits): the UTF-8
/// encoding of the str (lone surrogates encoded as UTF-8 would if they were characters, Python's
/// `s.encode("utf-8", "surrogatepass")`) or the bytes, at most their first [`MAX_REDACTED_HASH_UNITS`] code points
/// or bytes. Equal values give equal text in every dump, so they can still be matched and counted; a guess of a
/// value can be confirmed by hashing it, so a short or guessable value is not hidden by this.
pub fn redacted(what: &str, len: u64, content: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in content {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("<{what} len={len} #{:08x}>", (h >> 32) as u32 ^ h as u32)
}

/// The UTF-8 encoding of code points, lone surrogates included (as `surrogatepass` encodes them).
pub(super) fn utf8_surrogatepass(cps: &[u32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(cps.len());
    for &c in cps {
        match c {
            0..=0x7f => out.push(c as u8),
            0x80..=0x7ff => out.extend_from_slice(&[0xc0 | (c >> 6) as u8, 0x80 | (c & 0x3f) as u8]),
            0x800..=0xffff => out.extend_from_slice(&[
                0xe0 | (c >> 12) as u8,
                0x80 | ((c >> 6) & 0x3f) as u8,
                0x80 | (c & 0x3f) as u8,
            ]),
            _ => out.extend_from_slice(&[
                0xf0 | ((c >> 18) & 0x07) as u8,
                0x80 | ((c >> 12) & 0x3f) as u8,
                0x80 | ((c >> 6) & 0x3f) as u8,
                0x80 | (c & 0x3f) as u8,
            ]),
        }
    }
    out
}

impl Default for PreviewOptions {
    /// 200 characters, 10 items, 2 levels, not redacted.
    fn default() -> Self {
        PreviewOptions { max_str_chars: 200, max_items: 10, depth: 2, redact: false }
    }
}

impl<P: ProcessImage + ?Sized> Heap<'_, P> {
    /// A `repr()`-like rendering of the object at `obj` (see the module documentation for the format). Never fails:
    /// what cannot be read renders as `<unreadable 0x…: cause>`.
    pub fn preview(&self, obj: Addr, opts: &PreviewOptions) -> String {
        let mut out = String::new();
        self.preview_into(&mut out, obj, opts, opts.depth);
        out
    }

    /// [`Heap::preview`], or the error that kept the object itself from being read (what it holds that cannot be
    /// read still renders as `<unreadable 0x…: cause>` inside the preview).
    pub fn checked_preview(&self, obj: Addr, opts: &PreviewOptions) -> Result<String, DecodeError> {
        let mut out = String::new();
        self.try_preview(&mut out, obj, opts, opts.depth)?;
        Ok(out)
    }

    fn preview_into(&self, out: &mut String, obj: Addr, opts: &PreviewOptions, depth: usize) {
        let start = out.len();
        if let Err(e) = self.try_preview(out, obj, opts, depth) {
            out.truncate(start);
            let _ = write!(out, "<unreadable {obj}: {e}>");
        }
    }

    fn try_preview(&self, out: &mut String, obj: Addr, opts: &PreviewOptions, depth: usize) -> Result<(), DecodeError> {
        let kind = self.kind(obj)?;
        match kind {
            Kind::None => {
                out.push_str("None");
                return Ok(());
            }
            Kind::Bool => {
                out.push_str(if self.bool_value(obj)? { "True" } else { "False" });
                return Ok(());
            }
            Kind::Type => {
                let _ = write!(out, "<class '{}'>", self.type_name(obj)?);
                return Ok(());
            }
            Kind::Other => {
                let ty = self.type_of(obj)?;
                let name = self.type_name(ty)?;
                if self.statics.generator_types.contains(&Some(ty)) {
                    // gen_repr, coro_repr, async_gen_repr: the object's own `__qualname__`.
                    let q = self.ptr(obj, &self.layout.gen.gi_qualname, "generator")?;
                    let qual = self.str_value(q, opts.max_str_chars)?.text;
                    let _ = write!(out, "<{name} object {qual} at {obj}>");
                } else {
                    let _ = write!(out, "<{name} object at {obj}>");
                }
                return Ok(());
            }
            _ => {}
        }
        let ty = self.type_of(obj)?;
        let exact = self.static_type(kind) == Some(ty);
        if kind == Kind::Tuple && !exact {
            if let Some(fields) = self.structseq_fields(ty)? {
                if let Some(s) = self.preview_structseq(out, obj, ty, &fields, opts, depth)? {
                    out.push_str(&s);
                }
                return Ok(());
            }
        }
        if !exact {
            out.push_str(&self.type_name(ty)?);
            out.push('(');
        }
        let suffix = self.preview_builtin(out, obj, kind, opts, depth)?;
        if !exact {
            out.push(')');
        }
        if let Some(s) = suffix {
            out.push_str(&s);
        }
        Ok(())
    }

    /// Renders a builtin kind; returns the ` (len N)` suffix for truncated values.
    fn preview_builtin(
        &self,
        out: &mut String,
        obj: Addr,
        kind: Kind,
        opts: &PreviewOptions,
        depth: usize,
    ) -> Result<Option<String>, DecodeError> {
        let max = opts.max_str_chars;
        match kind {
            Kind::Int => {
                let v = self.int_value(obj)?;
                match v.to_decimal(MAX_PREVIEW_INT_DIGITS) {
                    Some(d) => {
                        let n = d.trim_start_matches('-').len();
                        if n <= max.max(1) {
                            out.push_str(&d);
                        } else {
                            let keep = (max / 2).max(1);
                            let _ = write!(out, "{}…{}", &d[..d.len() - n + keep], &d[d.len() - keep..]);
                            return Ok(Some(format!(" ({n} digits)")));
                        }
                    }
                    None => {
                        let sign = if v.negative { "-" } else { "" };
                        let _ = write!(out, "<int of {sign}{} bits>", v.bit_length());
                    }
                }
            }
            Kind::Float => out.push_str(&repr::float_repr(self.float_value(obj)?)),
            Kind::Complex => {
                let (re, im) = self.complex_value(obj)?;
                out.push_str(&repr::complex_repr(re, im));
            }
            Kind::Str if opts.redact => {
                let (cps, len) = self.str_code_points(obj, MAX_REDACTED_HASH_UNITS)?;
                out.push_str(&redacted("str", len, &utf8_surrogatepass(&cps)));
            }
            Kind::Bytes | Kind::ByteArray if opts.redact => {
                let (what, b) = if kind == Kind::Bytes {
                    ("bytes", self.bytes_value(obj, MAX_REDACTED_HASH_UNITS)?)
                } else {
                    ("bytearray", self.bytearray_value(obj, MAX_REDACTED_HASH_UNITS)?)
                };
                out.push_str(&redacted(what, b.len, &b.data));
            }
            Kind::Str => {
                let (cps, len) = self.str_code_points(obj, max)?;
                out.push_str(&repr::str_repr(&cps));
                if (cps.len() as u64) < len {
                    return Ok(Some(format!("… (len {len})")));
                }
            }
            Kind::Bytes | Kind::ByteArray => {
                let b = if kind == Kind::Bytes { self.bytes_value(obj, max)? } else { self.bytearray_value(obj, max)? };
                let r = repr::bytes_repr(&b.data);
                let more = if b.truncated { "…" } else { "" };
                if kind == Kind::Bytes {
                    let _ = write!(out, "{r}{more}");
                } else {
                    let _ = write!(out, "bytearray({r}{more})");
                }
                if b.truncated {
                    return Ok(Some(format!(" (len {})", b.len)));
                }
            }
            Kind::Tuple | Kind::List => {
                let (open, close) = if kind == Kind::Tuple { ('(', ')') } else { ('[', ']') };
                let len = self.var_len(obj)?;
                let items = if depth == 0 {
                    Vec::new()
                } else if kind == Kind::Tuple {
                    self.tuple_items(obj, opts.max_items)?
                } else {
                    self.list_items(obj, opts.max_items)?
                };
                out.push(open);
                self.preview_seq(out, &items, len, opts, depth);
                if kind == Kind::Tuple && len == 1 && items.len() == 1 {
                    out.push(',');
                }
                out.push(close);
                return Ok(self.len_suffix(items.len(), len));
            }
            Kind::Set | Kind::FrozenSet => {
                let len = self.set_len(obj)?;
                let frozen = kind == Kind::FrozenSet;
                let name = if frozen { "frozenset" } else { "set" };
                if len == 0 {
                    let _ = write!(out, "{name}()");
                    return Ok(None);
                }
                let items = if depth == 0 { Vec::new() } else { self.set_items(obj, opts.max_items)? };
                if frozen {
                    out.push_str("frozenset(");
                }
                out.push('{');
                self.preview_seq(out, &items, len, opts, depth);
                out.push('}');
                if frozen {
                    out.push(')');
                }
                return Ok(self.len_suffix(items.len(), len));
            }
            Kind::Dict => {
                let len = self.dict_len(obj)?;
                let items = if depth == 0 { Vec::new() } else { self.dict_items(obj, opts.max_items)? };
                out.push('{');
                for (i, (k, v)) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.preview_into(out, *k, opts, depth - 1);
                    out.push_str(": ");
                    self.preview_into(out, *v, opts, depth - 1);
                }
                self.ellipsis(out, items.len(), len);
                out.push('}');
                return Ok(self.len_suffix(items.len(), len));
            }
            Kind::Function => {
                let q = self.ptr(obj, &self.layout.function.func_qualname, "function")?;
                let _ = write!(out, "<function {} at {obj}>", self.str_value(q, max)?.text);
            }
            Kind::Module => {
                let _ = write!(
                    out,
                    "<module {}>",
                    repr::str_repr(&self.module_name(obj)?.chars().map(u32::from).collect::<Vec<_>>())
                );
            }
            Kind::Code => {
                let c = &self.layout.code;
                let name = self.str_value(self.ptr(obj, &c.name, "code")?, max)?.text;
                let file = self.str_value(self.ptr(obj, &c.filename, "code")?, max)?.text;
                let at = self.at(obj, &c.firstlineno, "code")?;
                let line = self.process.read_i32(at).map_err(|source| DecodeError::Read {
                    addr: obj,
                    what: "code",
                    field: c.firstlineno.name,
                    source,
                })?;
                let _ = write!(out, "<code object {name} at {obj}, file \"{file}\", line {line}>");
            }
            Kind::None | Kind::Bool | Kind::Type | Kind::Other => {}
        }
        Ok(None)
    }

    /// `structseq_repr`: `tp_name(field=item, …)` over the visible items, returns the ` (len N)` suffix when
    /// truncated.
    fn preview_structseq(
        &self,
        out: &mut String,
        obj: Addr,
        ty: Addr,
        fields: &[String],
        opts: &PreviewOptions,
        depth: usize,
    ) -> Result<Option<String>, DecodeError> {
        let len = self.var_len(obj)?;
        let items = if depth == 0 { Vec::new() } else { self.tuple_items(obj, opts.max_items)? };
        out.push_str(&self.tp_name(ty)?);
        out.push('(');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(fields.get(i).map_or("?", String::as_str));
            out.push('=');
            self.preview_into(out, *item, opts, depth - 1);
        }
        self.ellipsis(out, items.len(), len);
        out.push(')');
        Ok(self.len_suffix(items.len(), len))
    }

    fn preview_seq(&self, out: &mut String, items: &[Addr], len: u64, opts: &PreviewOptions, depth: usize) {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            self.preview_into(out, *item, opts, depth.saturating_sub(1));
        }
        self.ellipsis(out, items.len(), len);
    }

    /// `…` (after a separator when items were shown) if fewer items were shown than the container holds.
    fn ellipsis(&self, out: &mut String, shown: usize, len: u64) {
        if (shown as u64) < len {
            out.push_str(if shown > 0 { ", …" } else { "…" });
        }
    }

    fn len_suffix(&self, shown: usize, len: u64) -> Option<String> {
        ((shown as u64) < len).then(|| format!(" (len {len})"))
    }
}
