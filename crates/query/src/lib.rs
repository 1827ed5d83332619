//! Tables, SQL, export and reports over a decoded heap. The only crate that links polars.
