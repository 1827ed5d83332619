//! Names that the decoder holds as `&'static str` (C field names, symbols) when they are read back from a saved
//! file: each distinct name is allocated once per process and kept, so a name costs nothing per reference.
//! The set is bounded by the distinct names in the files read, which are few (field and symbol names).

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

/// A `&'static str` under a name of its own, so that serde's derive does not borrow it from the input (it would
/// then only deserialize from `'static` data).
pub(crate) type StaticName = &'static str;

static NAMES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);

/// The `&'static str` equal to `name`, allocated on its first use.
pub fn intern(name: &str) -> &'static str {
    let mut guard = NAMES.lock().unwrap_or_else(PoisonError::into_inner);
    let set = guard.get_or_insert_with(HashSet::new);
    if let Some(&s) = set.get(name) {
        return s;
    }
    let s: &'static str = Box::leak(name.to_owned().into_boxed_str());
    set.insert(s);
    s
}

/// serde `deserialize_with` for a `&'static str` field.
pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
    Ok(intern(&s))
}

#[cfg(test)]
mod tests {
    #[test]
    fn equal_names_share_one_allocation() {
        let a = super::intern(&String::from("tp_mro"));
        let b = super::intern(&String::from("tp_mro"));
        assert_eq!(a, "tp_mro");
        assert!(std::ptr::eq(a, b));
    }
}
