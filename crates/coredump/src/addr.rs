//! Addresses in the analysed process.

use std::fmt;

/// An address in the address space of the analysed process.
///
/// Never a host pointer or `usize`: the process that wrote the core is not this one.
#[derive(Copy, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Addr(pub u64);

impl Addr {
    /// The null address.
    pub const NULL: Addr = Addr(0);

    /// True for address 0.
    pub fn is_null(self) -> bool {
        self.0 == 0
    }

    /// `self + n`, or `None` on overflow.
    pub fn checked_add(self, n: u64) -> Option<Addr> {
        self.0.checked_add(n).map(Addr)
    }

    /// `self + n`, wrapping on overflow (use only where the result is then validated).
    pub fn wrapping_add(self, n: u64) -> Addr {
        Addr(self.0.wrapping_add(n))
    }

    /// `self - n`, or `None` on underflow.
    pub fn checked_sub(self, n: u64) -> Option<Addr> {
        self.0.checked_sub(n).map(Addr)
    }

    /// Rounds down to a multiple of `align` (a power of two).
    pub fn align_down(self, align: u64) -> Addr {
        debug_assert!(align.is_power_of_two());
        Addr(self.0 & !(align - 1))
    }
}

impl fmt::Debug for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

impl fmt::LowerHex for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::LowerHex::fmt(&self.0, f)
    }
}

impl From<u64> for Addr {
    fn from(v: u64) -> Addr {
        Addr(v)
    }
}
