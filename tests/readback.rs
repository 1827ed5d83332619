//! The export read back by the tools users load it into: `tools/readback/readback.py` (pandas with pyarrow, polars,
//! DuckDB) on every version fixture, with the Python of the venv `.ci/run` builds from
//! `tools/readback/requirements.txt` and names in `HEAPSCOPE_READBACK_PYTHON`.

mod common;

use std::process::Command;

fn check(name: &str) {
    let Some(python) = std::env::var_os("HEAPSCOPE_READBACK_PYTHON") else {
        panic!(
            "HEAPSCOPE_READBACK_PYTHON is not set: run the tests with .ci/run, which builds the readback venv \
             (pandas, pyarrow, polars, duckdb from tools/readback/requirements.txt) and sets it, or set it to the \
             python of such a venv"
        );
    };
    common::fixture(name); // fails clearly if the fixture is missing
    let script = common::testdata().join("../tools/readback/readback.py");
    let out = Command::new(&python)
        .arg(&script)
        .args(["--heapscope", env!("CARGO_BIN_EXE_heapscope"), name])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} (HEAPSCOPE_READBACK_PYTHON): {e}", python.to_string_lossy()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("{stdout}");
    assert!(
        out.status.success(),
        "{name}: readback.py failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

crate::per_fixture!(check);
