//! Tests of the pure repr functions against strings printed by CPython itself (see repr_vectors.rs; the generator
//! script formatted `repr()` of fixed values plus 700 random floats, seed 12345, with the host's python3).

use super::*;

#[path = "repr_vectors.rs"]
mod vectors;

#[test]
fn float_repr_matches_cpython() {
    for &(bits, want) in vectors::FLOATS {
        assert_eq!(float_repr(f64::from_bits(bits)), want, "bits {bits:#x}");
    }
}

#[test]
fn complex_repr_matches_cpython() {
    for &((re, im), want) in vectors::COMPLEXES {
        assert_eq!(complex_repr(f64::from_bits(re), f64::from_bits(im)), want);
    }
}

#[test]
fn str_repr_matches_cpython() {
    for &(cps, want) in vectors::STRS {
        assert_eq!(str_repr(cps), want, "code points {cps:x?}");
    }
}

#[test]
fn bytes_repr_matches_cpython() {
    for &(data, want) in vectors::BYTES {
        assert_eq!(bytes_repr(data), want);
    }
}

#[test]
fn int_digits_to_decimal_matches_cpython() {
    for &(digits, negative, want) in vectors::INTS {
        let mut s = digits_to_decimal(digits, 30);
        if negative {
            s.insert(0, '-');
        }
        assert_eq!(s, want);
    }
}

#[test]
fn printable_follows_general_categories() {
    assert!(is_printable(u32::from(' ')));
    assert!(is_printable(u32::from('é')));
    assert!(!is_printable(0xa0), "no-break space is Zs");
    assert!(!is_printable(0xd800), "surrogate");
    assert!(!is_printable(0x11_0000), "out of range");
}
