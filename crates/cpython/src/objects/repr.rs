//! Python's `repr()` of scalar values, as pure functions: float (shortest round-trip digits), str and bytes (Python's
//! quoting and escaping rules), and int (30-bit digits to decimal).
//!
//! `str.isprintable` is decided with the Unicode general categories of the `unicode-properties` crate: a code point
//! is printable unless it is in a category "Other" (Cc, Cf, Cs, Co, Cn) or "Separator" (Zl, Zp, Zs) — except the
//! ASCII space —, which is CPython's rule (`Tools/unicode/makeunicodedata.py`). The crate's Unicode version (18) is
//! newer than any CPython's (3.8: 12.1 … 3.14: 16.0), so a code point assigned after the dumped interpreter's Unicode
//! version is shown as is where that interpreter would escape it as unassigned.

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// `repr(x)` for a float: the shortest digit string that round-trips, in scientific notation iff the decimal
/// exponent is < −4 or ≥ 16 (`1e-05`, `1e+16`, `0.0001`, `1234567890123456.0`), `inf`, `-inf`, `nan`, `-0.0`.
pub fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x < 0.0 { "-inf" } else { "inf" }.into();
    }
    // Rust's `{:e}` without a precision prints the shortest round-tripping digits: `d.ddddde±x`.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if !(-4..16).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() { String::new() } else { format!(".{rest}") };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{dot}e{esign}{:02}", exp.unsigned_abs());
    }
    let point = exp + 1; // digits before the decimal point (may be ≤ 0)
    let body = if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}.0", "0".repeat(point as usize - digits.len()))
    } else {
        let (int, frac) = digits.split_at(point as usize);
        format!("{int}.{frac}")
    };
    format!("{sign}{body}")
}

/// `repr(complex(real, imag))`: `(1.5-2.25j)`, `2j`, `(-0-1j)`, `(nan+infj)`.
pub fn complex_repr(real: f64, imag: f64) -> String {
    // CPython formats each part with repr() but drops a trailing ".0".
    let part = |v: f64| {
        let s = float_repr(v);
        s.strip_suffix(".0").map(str::to_owned).unwrap_or(s)
    };
    let im = part(imag);
    if real == 0.0 && real.is_sign_positive() {
        return format!("{im}j");
    }
    let sign = if imag.is_sign_negative() || im.starts_with('-') { "" } else { "+" };
    format!("({}{sign}{im}j)", part(real))
}

/// True if Python's `str.isprintable()` holds for the code point `cp` (see the module documentation).
pub fn is_printable(cp: u32) -> bool {
    if cp == 0x20 {
        return true;
    }
    let Some(c) = char::from_u32(cp) else {
        return false; // surrogates (Cs) and out-of-range values
    };
    !matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::Surrogate
            | GeneralCategory::PrivateUse
            | GeneralCategory::Unassigned
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
            | GeneralCategory::SpaceSeparator
    )
}

/// `repr(s)` for a str given as code points: single quotes unless the text has `'` and no `"`; `\\`, the quote,
/// `\t`, `\n`, `\r` escaped; other code points below 0x20 and 0x7f as `\xNN`; non-printable non-ASCII code points as
/// `\xNN`, `\uNNNN` or `\UNNNNNNNN`.
pub fn str_repr(cps: &[u32]) -> String {
    let quote = if cps.contains(&u32::from('\'')) && !cps.contains(&u32::from('"')) { '"' } else { '\'' };
    let mut out = String::with_capacity(cps.len() + 2);
    out.push(quote);
    push_str_body(&mut out, cps, quote);
    out.push(quote);
    out
}

/// The escaped body of a str repr with the given quote character (see [`str_repr`]).
pub fn push_str_body(out: &mut String, cps: &[u32], quote: char) {
    use std::fmt::Write;
    for &cp in cps {
        match cp {
            _ if cp == u32::from(quote) || cp == u32::from('\\') => {
                out.push('\\');
                out.push(char::from_u32(cp).unwrap_or('\\'));
            }
            0x09 => out.push_str("\\t"),
            0x0a => out.push_str("\\n"),
            0x0d => out.push_str("\\r"),
            0..=0x1f | 0x7f => {
                let _ = write!(out, "\\x{cp:02x}");
            }
            0x20..=0x7e => out.push(char::from_u32(cp).unwrap_or('?')),
            _ if is_printable(cp) => out.push(char::from_u32(cp).unwrap_or('?')),
            0x80..=0xff => {
                let _ = write!(out, "\\x{cp:02x}");
            }
            0x100..=0xffff => {
                let _ = write!(out, "\\u{cp:04x}");
            }
            _ => {
                let _ = write!(out, "\\U{cp:08x}");
            }
        }
    }
}

/// `repr(b)` for bytes: `b'…'` (double quotes if the bytes hold `'` and no `"`), `\\`, the quote, `\t`, `\n`, `\r`
/// escaped, other bytes outside 0x20–0x7e as `\xNN`.
pub fn bytes_repr(data: &[u8]) -> String {
    let quote = if data.contains(&b'\'') && !data.contains(&b'"') { b'"' } else { b'\'' };
    let mut out = String::with_capacity(data.len() + 3);
    out.push('b');
    out.push(char::from(quote));
    push_bytes_body(&mut out, data, quote);
    out.push(char::from(quote));
    out
}

/// The escaped body of a bytes repr with the given quote byte (see [`bytes_repr`]).
pub fn push_bytes_body(out: &mut String, data: &[u8], quote: u8) {
    use std::fmt::Write;
    for &b in data {
        match b {
            _ if b == quote || b == b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
}

/// The decimal digits of the magnitude Σ digits\[i\]·2^(bits·i) (digits least significant first, `bits` ≤ 32).
/// Quadratic in the number of digits; callers cap it.
pub fn digits_to_decimal(digits: &[u32], bits: u32) -> String {
    const BASE: u64 = 1_000_000_000;
    // Limbs of 9 decimal digits, least significant first.
    let mut limbs: Vec<u32> = Vec::with_capacity(digits.len() * 32 / 29 + 1);
    for &d in digits.iter().rev() {
        let mut carry = u64::from(d);
        for limb in limbs.iter_mut() {
            let v = (u64::from(*limb) << bits) + carry;
            *limb = (v % BASE) as u32;
            carry = v / BASE;
        }
        while carry > 0 {
            limbs.push((carry % BASE) as u32);
            carry /= BASE;
        }
    }
    match limbs.split_last() {
        None => "0".into(),
        Some((top, rest)) => {
            let mut s = top.to_string();
            for limb in rest.iter().rev() {
                s.push_str(&format!("{limb:09}"));
            }
            s
        }
    }
}

#[cfg(test)]
#[path = "repr_tests.rs"]
mod tests;
