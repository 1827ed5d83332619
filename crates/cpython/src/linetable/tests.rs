//! The expected lines come from CPython itself: `testdata/linetables/py3X.json` holds, per code object, the raw table
//! and what `PyCode_Addr2Line`, `co_lines()` and `co_positions()` answered (made by `tools/linetables/make.py`).

use std::path::PathBuf;

use serde_json::Value;

use super::*;

const VERSIONS: &[&str] = &["py38", "py39", "py310", "py311", "py312", "py313", "py314", "py315"];

fn load(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/linetables").join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn format_of(v: &Value) -> LineTableFormat {
    let minor: u8 = v["version"].as_str().unwrap().split('.').nth(1).unwrap().parse().unwrap();
    let f = LineTableFormat::for_minor(minor);
    let named = match v["format"].as_str().unwrap() {
        "lnotab" => LineTableFormat::Lnotab,
        "pep626" => LineTableFormat::Pep626,
        "locations" => LineTableFormat::Locations,
        other => panic!("unknown format {other}"),
    };
    assert_eq!(f, named, "for_minor({minor})");
    f
}

/// Expands runs `[[offset, value], …]` to the value at `offset`.
fn run_value(runs: &[Value], offset: u64) -> Option<i64> {
    let run = runs.iter().rev().find(|r| r[0].as_u64().unwrap() <= offset).unwrap();
    run[1].as_i64()
}

fn line(v: Option<i64>) -> Option<i32> {
    v.filter(|&l| l != -1).map(|l| i32::try_from(l).unwrap())
}

#[test]
fn every_offset_matches_pycode_addr2line() {
    for name in VERSIONS {
        let data = load(name);
        let format = format_of(&data);
        let mut checked = 0;
        for code in data["codes"].as_array().unwrap() {
            let table = hex(code["table"].as_str().unwrap());
            let first = i32::try_from(code["firstlineno"].as_i64().unwrap()).unwrap();
            let t = LineTable::new(format, &table, first);
            let runs = code["addr2line"].as_array().unwrap();
            for off in (0..code["code_len"].as_u64().unwrap()).step_by(2) {
                let want = line(run_value(runs, off));
                assert_eq!(t.line_at(off as i64), want, "{name} {} offset {off}", code["name"]);
                if let Some(pos) = code.get("positions") {
                    let p = run_value(pos.as_array().unwrap(), off).map(|l| l as i32);
                    assert_eq!(t.line_at(off as i64), p, "{name} {} co_positions at {off}", code["name"]);
                }
                checked += 1;
            }
            assert_eq!(t.line_at(-1), Some(first), "a frame that has not started is on its first line");
        }
        assert!(checked > 5000, "{name}: only {checked} offsets");
    }
}

#[test]
fn ranges_match_co_lines() {
    for name in ["py310", "py311", "py312", "py313", "py314"] {
        let data = load(name);
        let format = format_of(&data);
        // From 3.12 on, co_lines() merges neighbouring ranges of the same line (lineiter_next); 3.10/3.11 do not.
        let merges = !matches!(name, "py310" | "py311");
        let mut checked = 0;
        for code in data["codes"].as_array().unwrap() {
            let Some(want) = code.get("co_lines") else { continue };
            let want: Vec<LineRange> = want
                .as_array()
                .unwrap()
                .iter()
                .map(|r| LineRange {
                    start: r[0].as_u64().unwrap(),
                    end: r[1].as_u64().unwrap(),
                    line: r[2].as_i64().map(|l| l as i32),
                })
                .collect();
            let table = hex(code["table"].as_str().unwrap());
            let first = code["firstlineno"].as_i64().unwrap() as i32;
            let mut got: Vec<LineRange> = LineTable::new(format, &table, first).ranges().collect();
            if merges {
                got = merge(got);
            }
            assert_eq!(got, want, "{name} {}", code["name"]);
            checked += 1;
        }
        assert!(checked > 20, "{name}: only {checked} code objects with co_lines");
    }
}

fn merge(ranges: Vec<LineRange>) -> Vec<LineRange> {
    let mut out: Vec<LineRange> = Vec::new();
    for r in ranges {
        match out.last_mut() {
            Some(last) if last.line == r.line && last.end == r.start => last.end = r.end,
            _ => out.push(r),
        }
    }
    out
}

#[test]
fn the_samples_exercise_the_hard_cases() {
    // Long jumps and large negative deltas must be present, or the tests above prove little.
    for name in VERSIONS {
        let data = load(name);
        let codes = data["codes"].as_array().unwrap();
        let lines_of = |prefix: &str| -> Vec<i64> {
            let c = codes.iter().find(|c| c["name"].as_str().unwrap().starts_with(prefix)).unwrap();
            c["addr2line"].as_array().unwrap().iter().filter_map(|r| r[1].as_i64()).collect()
        };
        let gaps = lines_of("big_line_gaps:<module>.h");
        assert!(gaps.windows(2).any(|w| w[1] - w[0] > 255), "{name}: {gaps:?}");
        let neg = lines_of("big_negative:<module>.k");
        assert!(neg.windows(2).any(|w| w[0] - w[1] > 127), "{name}: {neg:?}");
        let long = codes.iter().find(|c| c["name"] == "long_line:<module>.m").unwrap();
        assert!(long["code_len"].as_u64().unwrap() > 512, "{name}: one line spans many table entries");
    }
}

#[test]
fn lnotab_by_hand() {
    // 3.8: (address increment, signed line increment); the line changes once the address is reached.
    let t = LineTable::new(LineTableFormat::Lnotab, &[4, 1, 6, 0xfe, 0, 10], 10);
    assert_eq!(t.line_at(0), Some(10));
    assert_eq!(t.line_at(3), Some(10));
    assert_eq!(t.line_at(4), Some(11));
    assert_eq!(t.line_at(9), Some(11));
    assert_eq!(t.line_at(10), Some(19), "-2 then +10 at the same address");
    assert_eq!(t.line_at(1000), Some(19), "past the end: the last line");
}

#[test]
fn corrupt_tables_end_without_panicking() {
    let nasty: Vec<Vec<u8>> = vec![
        vec![],
        vec![0xff],
        vec![0x80 | (14 << 3), 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f], // varint never ends
        vec![0x80 | (13 << 3)],                                           // truncated varint
        vec![0x00, 0x01, 0x02],                                           // no entry start
        vec![0xff; 4096],
        (0..=255u8).collect(),
        (0..=255u8).rev().collect(),
        vec![0, 0x80, 0, 0x80, 0, 0x80],
    ];
    for table in &nasty {
        for format in [LineTableFormat::Lnotab, LineTableFormat::Pep626, LineTableFormat::Locations] {
            for first in [0, 1, i32::MAX, i32::MIN] {
                let t = LineTable::new(format, table, first);
                for off in [0i64, 1, 2, 7, 100, 10_000, i64::MAX, -5] {
                    let _ = t.line_at(off);
                }
                assert!(t.ranges().count() <= table.len() + 1);
            }
        }
    }
}

#[test]
fn no_location_entries() {
    // 3.11+: kind 15 has no line; the running line is unchanged across it.
    let t = LineTable::new(
        LineTableFormat::Locations,
        &[0x80 | (11 << 3), 0, 0, 0x80 | (15 << 3), 0x80 | (10 << 3) | 1, 0, 0],
        5,
    );
    assert_eq!(t.line_at(0), Some(6));
    assert_eq!(t.line_at(2), None);
    assert_eq!(t.line_at(4), Some(6));
    assert_eq!(t.line_at(6), Some(6));
    assert_eq!(t.line_at(8), None, "past the end");
    // 3.10: -128 means no line, without moving the running line.
    let t = LineTable::new(LineTableFormat::Pep626, &[2, 1, 2, 0x80, 2, 1], 5);
    assert_eq!([t.line_at(0), t.line_at(2), t.line_at(4), t.line_at(6)], [Some(6), None, Some(7), None]);
}
