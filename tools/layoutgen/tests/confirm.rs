//! The built-in table of every fixture's version passes every check of `confirm` on that fixture's core: the DWARF
//! tables (3.8–3.13) and the hand-written 3.14 one alike, and the checks themselves hold on seven versions.

use std::path::Path;

#[test]
fn builtin_tables_pass_every_check_on_every_fixture() {
    let testdata = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
    let mut failures = Vec::new();
    for name in ["py38", "py39", "py310", "py311", "py312", "py313", "py314"] {
        let report = layoutgen::confirm::confirm(&testdata.join(name), None, None).expect("fixture opens");
        eprintln!("{name} ({}): {} fields confirmed", report.version, report.confirmed.len());
        assert!(report.confirmed.len() > 100, "{name}: only {} fields confirmed", report.confirmed.len());
        failures.extend(report.failures.iter().map(|f| format!("{name}: {f}")));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
