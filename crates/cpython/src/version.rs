//! Finding the interpreter: the address of `_PyRuntime` and the exact Python version.
//!
//! Sources, best first:
//! - the `_Py_DebugOffsets` block at the start of `_PyRuntime` (3.13+: cookie `xdebugpy` then `PY_VERSION_HEX`);
//! - the exported `Py_Version` constant (3.11+);
//! - the buffer `Py_GetVersion()` fills at start-up (what `sys.version` is made from), in the `.data`/`.bss` of the
//!   object defining `_PyRuntime`, else the `PY_VERSION` literal in its read-only data (3.8–3.10).

use std::fmt;

use heapscope_coredump::{Addr, BytesSource, LoadedObject, ProcessImage, Range, ReadError};

use crate::Error;

/// The 8-byte cookie that starts `_Py_DebugOffsets` (and so `_PyRuntime`) in 3.13+.
pub const DEBUG_OFFSETS_COOKIE: &[u8; 8] = b"xdebugpy";

/// Most bytes of one object's read-only data scanned for the version string.
const MAX_SCAN_BYTES: usize = 64 << 20;

/// `sys.version_info.releaselevel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReleaseLevel {
    /// `a`
    Alpha,
    /// `b`
    Beta,
    /// `rc`
    Candidate,
    /// a release
    Final,
}

/// An exact CPython version, as in `sys.version_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct PythonVersion {
    /// 3
    pub major: u8,
    /// e.g. 12
    pub minor: u8,
    /// e.g. 1
    pub micro: u8,
    /// Alpha, beta, candidate or final.
    pub level: ReleaseLevel,
    /// Pre-release serial (0 for final).
    pub serial: u8,
}

impl PythonVersion {
    /// Decodes `PY_VERSION_HEX`. Returns `None` for values no CPython 3 release can have.
    pub fn from_hex(hex: u64) -> Option<PythonVersion> {
        if hex >> 32 != 0 {
            return None;
        }
        let level = match (hex >> 4) & 0xf {
            0xa => ReleaseLevel::Alpha,
            0xb => ReleaseLevel::Beta,
            0xc => ReleaseLevel::Candidate,
            0xf => ReleaseLevel::Final,
            _ => return None,
        };
        let v = PythonVersion {
            major: (hex >> 24) as u8,
            minor: (hex >> 16) as u8,
            micro: (hex >> 8) as u8,
            level,
            serial: (hex & 0xf) as u8,
        };
        (v.major == 3 && v.minor <= 40 && (level != ReleaseLevel::Final || v.serial == 0)).then_some(v)
    }

    /// Parses `PY_VERSION` strings such as `3.8.18`, `3.13.0rc2`, `3.14.0a1+`.
    pub fn parse(s: &str) -> Option<PythonVersion> {
        let s = s.strip_suffix('+').unwrap_or(s);
        let mut parts = s.splitn(3, '.');
        let major: u8 = parts.next()?.parse().ok()?;
        let minor: u8 = parts.next()?.parse().ok()?;
        let rest = parts.next()?;
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 3 {
            return None;
        }
        let micro: u8 = rest[..digits].parse().ok()?;
        let tail = &rest[digits..];
        let (level, serial) = if tail.is_empty() {
            (ReleaseLevel::Final, 0)
        } else {
            let (level, num) = if let Some(n) = tail.strip_prefix("rc") {
                (ReleaseLevel::Candidate, n)
            } else if let Some(n) = tail.strip_prefix('a') {
                (ReleaseLevel::Alpha, n)
            } else if let Some(n) = tail.strip_prefix('b') {
                (ReleaseLevel::Beta, n)
            } else {
                return None;
            };
            if num.is_empty() || num.len() > 2 || !num.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (level, num.parse().ok()?)
        };
        (major == 3 && minor <= 40).then_some(PythonVersion { major, minor, micro, level, serial })
    }

    /// `PY_VERSION_HEX`.
    pub fn hex(&self) -> u32 {
        let level = match self.level {
            ReleaseLevel::Alpha => 0xa,
            ReleaseLevel::Beta => 0xb,
            ReleaseLevel::Candidate => 0xc,
            ReleaseLevel::Final => 0xf,
        };
        (u32::from(self.major) << 24)
            | (u32::from(self.minor) << 16)
            | (u32::from(self.micro) << 8)
            | (level << 4)
            | u32::from(self.serial)
    }

    /// `(major, minor)`, the key for layouts that do not change within a minor release.
    pub fn minor_key(&self) -> (u8, u8) {
        (self.major, self.minor)
    }
}

impl fmt::Display for PythonVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.micro)?;
        match self.level {
            ReleaseLevel::Final => Ok(()),
            ReleaseLevel::Alpha => write!(f, "a{}", self.serial),
            ReleaseLevel::Beta => write!(f, "b{}", self.serial),
            ReleaseLevel::Candidate => write!(f, "rc{}", self.serial),
        }
    }
}

impl serde::Serialize for Detection {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Detection", 6)?;
        st.serialize_field("version", &self.version.to_string())?;
        st.serialize_field("hexversion", &self.version.hex())?;
        st.serialize_field("version_source", &self.version_source.to_string())?;
        st.serialize_field("runtime", &self.runtime)?;
        st.serialize_field("runtime_source", &self.runtime_source.to_string())?;
        st.serialize_field("warnings", &self.warnings)?;
        st.end()
    }
}

/// How the version was determined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionSource {
    /// `_Py_DebugOffsets.version` at the start of `_PyRuntime` (3.13+).
    DebugOffsets,
    /// The exported `Py_Version` constant (3.11+).
    PyVersionSymbol,
    /// The buffer `Py_GetVersion()` filled at start-up (`sys.version`), at this address.
    VersionBuffer(Addr),
    /// The `PY_VERSION` string literal found at this address in the object's read-only data.
    VersionString(Addr),
}

impl fmt::Display for VersionSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionSource::DebugOffsets => f.write_str("_Py_DebugOffsets.version"),
            VersionSource::PyVersionSymbol => f.write_str("Py_Version symbol"),
            VersionSource::VersionBuffer(a) => write!(f, "Py_GetVersion() buffer at {a}"),
            VersionSource::VersionString(a) => write!(f, "PY_VERSION string at {a}"),
        }
    }
}

/// How `_PyRuntime` was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeSource {
    /// The `_PyRuntime` dynamic symbol.
    Symbol,
    /// A scan of writable memory for the `_Py_DebugOffsets` cookie (3.13+ with no symbols).
    DebugCookie,
}

impl fmt::Display for RuntimeSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuntimeSource::Symbol => f.write_str("_PyRuntime symbol"),
            RuntimeSource::DebugCookie => f.write_str("_Py_DebugOffsets cookie scan"),
        }
    }
}

/// The interpreter found in a process image.
#[derive(Debug, Clone)]
pub struct Detection {
    /// Exact version.
    pub version: PythonVersion,
    /// How the version was found.
    pub version_source: VersionSource,
    /// Address of `_PyRuntime`.
    pub runtime: Addr,
    /// How `_PyRuntime` was found.
    pub runtime_source: RuntimeSource,
    /// Index of the object (python binary or libpython) that holds the runtime.
    pub object: Option<usize>,
    /// Disagreements between sources, and sources that could not be read.
    pub warnings: Vec<String>,
}

/// Finds `_PyRuntime` and the exact Python version.
pub fn detect<P: ProcessImage + ?Sized>(p: &P) -> Result<Detection, Error> {
    let mut warnings = Vec::new();
    let (runtime, runtime_source, object) = match p.symbol("_PyRuntime") {
        Some(sym) => (sym.addr, RuntimeSource::Symbol, Some(sym.object)),
        None => match scan_for_cookie(p) {
            Some((addr, object)) => (addr, RuntimeSource::DebugCookie, object),
            None => return Err(not_found(p.objects(), p.cut())),
        },
    };
    let object_name = object.and_then(|i| p.objects().get(i)).map(|o| o.file_name()).unwrap_or_default();

    let from_debug = match read_cookie_version(p, runtime) {
        Ok(v) => v,
        Err(e) => {
            warnings.push(format!("could not read the start of _PyRuntime at {runtime}: {e}"));
            None
        }
    };
    let from_symbol = object.and_then(|i| p.symbol_in(i, "Py_Version")).and_then(|sym| match p.read_u64(sym.addr) {
        Ok(hex) => PythonVersion::from_hex(hex),
        Err(e) => {
            warnings.push(format!("Py_Version at {} in {object_name} is unreadable: {e}", sym.addr));
            None
        }
    });
    if let (Some(a), Some(b)) = (from_debug, from_symbol) {
        if a != b {
            warnings.push(format!("_Py_DebugOffsets says {a} but Py_Version says {b}; using {a}"));
        }
    }
    let found = match (from_debug, from_symbol) {
        (Some(v), _) => Some((v, VersionSource::DebugOffsets)),
        (None, Some(v)) => Some((v, VersionSource::PyVersionSymbol)),
        (None, None) => None,
    };
    let (version, version_source) = match found {
        Some(found) => found,
        None => {
            let obj = object.and_then(|i| p.objects().get(i)).ok_or_else(|| Error::UnknownVersion {
                runtime,
                object: object_name.clone(),
                why: "the object holding _PyRuntime is not known".into(),
            })?;
            scan_version_string(p, obj, &mut warnings).map_err(|why| Error::UnknownVersion {
                runtime,
                object: object_name.clone(),
                why,
            })?
        }
    };
    Ok(Detection { version, version_source, runtime, runtime_source, object, warnings })
}

/// The version in `_Py_DebugOffsets`, if `_PyRuntime` starts with the cookie.
fn read_cookie_version<P: ProcessImage + ?Sized>(p: &P, runtime: Addr) -> Result<Option<PythonVersion>, ReadError> {
    let mut head = [0u8; 16];
    p.read_into(runtime, &mut head)?;
    if &head[..8] != DEBUG_OFFSETS_COOKIE {
        return Ok(None);
    }
    let mut hex = [0u8; 8];
    hex.copy_from_slice(&head[8..]);
    Ok(PythonVersion::from_hex(u64::from_le_bytes(hex)).filter(|v| v.minor >= 13))
}

/// Scans writable mappings of every object for the `_Py_DebugOffsets` cookie followed by a 3.13+ version.
fn scan_for_cookie<P: ProcessImage + ?Sized>(p: &P) -> Option<(Addr, Option<usize>)> {
    for (i, obj) in p.objects().iter().enumerate() {
        for m in obj.mappings.iter().filter(|m| m.writable) {
            let len = usize::try_from(m.range.len()).ok()?.min(MAX_SCAN_BYTES);
            let Ok(bytes) = p.bytes(m.range.start, len) else {
                continue;
            };
            let mut from = 0;
            while let Some(pos) = find(&bytes[from..], DEBUG_OFFSETS_COOKIE) {
                let at = from + pos;
                if at % 8 == 0 {
                    if let Some(hex) = bytes.get(at + 8..at + 16) {
                        let hex = u64::from_le_bytes(hex.try_into().ok()?);
                        if PythonVersion::from_hex(hex).is_some_and(|v| v.minor >= 13) {
                            return Some((m.range.start.wrapping_add(at as u64), Some(i)));
                        }
                    }
                }
                from = at + 1;
            }
        }
    }
    None
}

/// Finds the version in the interpreter object's memory, for versions without `Py_Version` (3.8–3.10):
///
/// 1. the buffer `Py_GetVersion()` fills at start-up, in the object's `.data`/`.bss`: `"3.8.18 (default, …) [GCC …]"`
///    — the very string `sys.version` is made from;
/// 2. else the `PY_VERSION` literal in read-only data. Linkers merge it into the tail of a longer literal that ends
///    the same way (pyenv builds: the install prefix `…/versions/3.8.18`), so a string's last path component counts.
fn scan_version_string<P: ProcessImage + ?Sized>(
    p: &P,
    obj: &LoadedObject,
    warnings: &mut Vec<String>,
) -> Result<(PythonVersion, VersionSource), String> {
    let expected_minor = minor_from_name(&obj.file_name());
    let fits = |v: &PythonVersion| expected_minor.is_none_or(|minor| minor == v.minor);
    let mut scanned = 0usize;

    let mut buffers = Vec::new();
    for range in &obj.data_segments {
        let len = usize::try_from(range.len()).unwrap_or(usize::MAX).min(MAX_SCAN_BYTES);
        let Ok(bytes) = p.bytes(range.start, len) else {
            warnings.push(format!("data of {} at {} is unreadable", obj.file_name(), range.start));
            continue;
        };
        scanned += bytes.len();
        for (off, s) in c_strings(&bytes) {
            let Some(space) = s.iter().position(|&b| b == b' ') else { continue };
            if s.first() == Some(&b'3') && s.get(space + 1) == Some(&b'(') {
                let v = std::str::from_utf8(&s[..space]).ok().and_then(PythonVersion::parse).filter(fits);
                if let Some(v) = v {
                    buffers.push((v, range.start.wrapping_add(off as u64)));
                }
            }
        }
    }
    if let Some(found) = unique(buffers, obj, "version buffers")? {
        return Ok((found.0, VersionSource::VersionBuffer(found.1)));
    }

    let mut literals = Vec::new();
    for m in obj.mappings.iter().filter(|m| !m.writable && !m.executable) {
        let len = usize::try_from(m.range.len()).unwrap_or(usize::MAX).min(MAX_SCAN_BYTES);
        let bytes = match p.bytes(m.range.start, len) {
            Ok(b) => b,
            Err(e) => {
                warnings.push(format!("read-only data of {} is unreadable: {e}", obj.file_name()));
                continue;
            }
        };
        scanned += bytes.len();
        for (off, s) in c_strings(&bytes) {
            let tail_at = s.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
            let tail = &s[tail_at..];
            if tail.first() != Some(&b'3') || tail.len() > 12 {
                continue;
            }
            if let Some(v) = std::str::from_utf8(tail).ok().and_then(PythonVersion::parse).filter(fits) {
                literals.push((v, m.range.start.wrapping_add((off + tail_at) as u64)));
            }
        }
    }
    match unique(literals, obj, "version strings")? {
        Some((v, at)) => Ok((v, VersionSource::VersionString(at))),
        None => Err(format!(
            "no Py_Version symbol, and no version buffer or string in {scanned} bytes of {}'s data",
            obj.file_name()
        )),
    }
}

/// The one version among the candidates; an error if they disagree.
fn unique(
    mut found: Vec<(PythonVersion, Addr)>,
    obj: &LoadedObject,
    what: &str,
) -> Result<Option<(PythonVersion, Addr)>, String> {
    found.sort();
    found.dedup_by_key(|c| c.0);
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        many => Err(format!(
            "{what} of {} disagree: {}",
            obj.file_name(),
            many.iter().map(|(v, _)| v.to_string()).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// `libpython3.10.so.1.0` → 10, `python3.8` → 8.
fn minor_from_name(name: &str) -> Option<u8> {
    let at = name.find("python3.")? + "python3.".len();
    let digits: String = name[at..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// NUL-terminated strings (offset, bytes without the NUL) that start right after a NUL or at the buffer start.
fn c_strings(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut start = 0;
    bytes.split(|&b| b == 0).map(move |s| {
        let off = start;
        start += s.len() + 1;
        (off, s)
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Why no runtime was found: a truncated core that lost the interpreter's memory, interpreter binaries with missing
/// bytes, or no interpreter at all.
fn not_found(objects: &[LoadedObject], cut: &[Range]) -> Error {
    let python = || objects.iter().filter(|o| o.file_name().contains("python"));
    let overlaps_cut = |r: &Range| cut.iter().any(|c| c.start < r.end && r.start < c.end);
    let lost: Vec<&LoadedObject> =
        python().filter(|o| o.mappings.iter().map(|m| &m.range).chain(&o.data_segments).any(overlaps_cut)).collect();
    if let Some(first) = cut.first() {
        if !lost.is_empty() {
            return Error::CoreTruncated {
                files: lost.iter().map(|o| o.file_name()).collect(),
                first: first.start,
                cut: cut.iter().map(Range::len).fold(0, u64::saturating_add),
            };
        }
    }
    let missing: Vec<&LoadedObject> = python().filter(|o| o.source == BytesSource::Missing).collect();
    if missing.is_empty() {
        Error::NotPython { objects: object_list(objects) }
    } else {
        Error::BinariesMissing {
            files: missing.iter().map(|o| o.file_name()).collect(),
            paths: missing.iter().map(|o| o.path.display().to_string()).collect(),
        }
    }
}

fn object_list(objects: &[LoadedObject]) -> String {
    let names: Vec<String> = objects.iter().take(8).map(|o| o.file_name()).collect();
    let more = objects.len().saturating_sub(8);
    if objects.is_empty() {
        "none".into()
    } else if more > 0 {
        format!("{}, and {more} more", names.join(", "))
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_version_strings() {
        assert_eq!(PythonVersion::parse("3.8.18").map(|v| v.to_string()).as_deref(), Some("3.8.18"));
        assert_eq!(PythonVersion::parse("3.13.0rc2").map(|v| v.to_string()).as_deref(), Some("3.13.0rc2"));
        assert_eq!(PythonVersion::parse("3.14.0a1+").map(|v| v.to_string()).as_deref(), Some("3.14.0a1"));
        for bad in ["3.8", "3.8.", "3.8.x", "2.7.18", "3.8.18z", "3.8.18rc", "3.8.1234", ""] {
            assert_eq!(PythonVersion::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn hex_round_trips() {
        let v = PythonVersion::from_hex(0x030c01f0).unwrap();
        assert_eq!(v.to_string(), "3.12.1");
        assert_eq!(v.hex(), 0x030c01f0);
        let rc = PythonVersion::from_hex(0x030d00c2).unwrap();
        assert_eq!(rc.to_string(), "3.13.0rc2");
        assert_eq!(PythonVersion::from_hex(0x030c0100), None, "level 0 is not a release level");
        assert_eq!(PythonVersion::from_hex(0x020712f0), None, "Python 2");
        assert_eq!(PythonVersion::from_hex(0x1_030c01f0), None, "high bits set");
    }

    #[test]
    fn minor_from_file_names() {
        assert_eq!(minor_from_name("libpython3.10.so.1.0"), Some(10));
        assert_eq!(minor_from_name("python3.8"), Some(8));
        assert_eq!(minor_from_name("libc.so.6"), None);
    }

    #[test]
    fn c_strings_split_on_nul() {
        let v: Vec<_> = c_strings(b"ab\0\x003.8.18\0x").collect();
        assert_eq!(v, vec![(0, &b"ab"[..]), (3, &b""[..]), (4, &b"3.8.18"[..]), (11, &b"x"[..])]);
    }
}
