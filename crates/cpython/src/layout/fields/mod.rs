//! The layout structs: every CPython struct heapscope reads, as logical fields with the C member paths they may have.
//!
//! Each struct lists, per logical field, the C member paths it has gone by across versions (first match wins when
//! deriving from DWARF), e.g. `PyInterpreterState.modules` is `imports.modules` from 3.12 on and `modules` before.
//! The offsets themselves live in `tables.rs` (generated) and may be overridden from `_Py_DebugOffsets` or DWARF.

/// Declares a layout struct: its C type names (for DWARF lookup) and its fields with their candidate member paths.
macro_rules! layout_struct {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident = [$($cname:literal),+ $(,)?] {
            $( $(#[$fmeta:meta])* $field:ident : [$($path:literal),* $(,)?] ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        #[allow(missing_docs)]
        $vis struct $name {
            /// `sizeof` the struct.
            pub size: Field,
            $( $(#[$fmeta])* pub $field: Field, )*
        }

        impl $name {
            /// C type names of this struct (typedef first), as DWARF knows them.
            pub const C_NAMES: &'static [&'static str] = &[$($cname),+];

            /// Logical field names with their candidate C member paths.
            pub const FIELDS: &'static [(&'static str, &'static [&'static str])] =
                &[$( (stringify!($field), &[$($path),*]) ),*];

            /// All fields unknown.
            pub fn unknown() -> Self {
                $name {
                    size: Field::unknown(concat!(stringify!($name), ".size")),
                    $( $field: Field::unknown(concat!(stringify!($name), ".", stringify!($field))), )*
                }
            }

            /// The field called `name` (`"size"` for the struct size).
            pub fn field_mut(&mut self, name: &str) -> Option<&mut Field> {
                match name {
                    "size" => Some(&mut self.size),
                    $( stringify!($field) => Some(&mut self.$field), )*
                    _ => None,
                }
            }

            /// Every field, `size` first.
            pub fn fields(&self) -> Vec<(&'static str, &Field)> {
                vec![("size", &self.size) $(, (stringify!($field), &self.$field))*]
            }
        }
    };
}

mod extensions;
mod library;
mod numpy;
mod objects;
mod runtime;

pub use extensions::*;
pub use library::*;
pub use numpy::*;
pub use objects::*;
pub use runtime::*;
