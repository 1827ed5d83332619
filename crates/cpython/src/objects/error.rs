//! [`DecodeError`]: why one object could not be decoded.

use heapscope_coredump::{Addr, ReadError};

use super::Kind;
use crate::layout::MissingField;

/// Why an object could not be decoded. Every variant names the object's address and what was being decoded.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Memory of the object (or of something it points to) could not be read.
    #[error("reading {field} of the {what} at {addr}: {source}")]
    Read {
        /// The object being decoded.
        addr: Addr,
        /// What was being decoded (`"str"`, `"dict keys"`, …).
        what: &'static str,
        /// The field or part being read.
        field: &'static str,
        /// The failed read.
        source: ReadError,
    },
    /// The layout lacks an offset this decoder needs.
    #[error("decoding the {what} at {addr}: {source}")]
    Layout {
        /// The object being decoded.
        addr: Addr,
        /// What was being decoded.
        what: &'static str,
        /// The missing field.
        source: MissingField,
    },
    /// The object's bytes are not what a CPython object of this kind can hold.
    #[error("the {what} at {addr} is malformed: {why}")]
    Malformed {
        /// The object being decoded.
        addr: Addr,
        /// What was being decoded.
        what: &'static str,
        /// What is wrong.
        why: String,
    },
    /// The object is not of the kind the decoder handles.
    #[error("the object at {addr} is {actual:?}, not {expected:?}")]
    WrongKind {
        /// The object.
        addr: Addr,
        /// The kind the decoder handles.
        expected: Kind,
        /// The object's kind.
        actual: Kind,
    },
}

impl DecodeError {
    /// The address of the object whose decoding failed.
    pub fn addr(&self) -> Addr {
        match self {
            DecodeError::Read { addr, .. }
            | DecodeError::Layout { addr, .. }
            | DecodeError::Malformed { addr, .. }
            | DecodeError::WrongKind { addr, .. } => *addr,
        }
    }

    pub(crate) fn malformed(addr: Addr, what: &'static str, why: impl Into<String>) -> DecodeError {
        DecodeError::Malformed { addr, what, why: why.into() }
    }
}
