//! Replays every fuzz target over its committed, minimised corpus (`fuzz/corpus/TARGET.zst`, packed by
//! `fuzz/pack.py`) and the inputs that once crashed it (`fuzz/regressions/TARGET/`), on stable: each input must
//! return, not panic.

use std::path::Path;
use std::time::Instant;

/// The inputs of a packed corpus: zstd over (u32 length, bytes) records.
fn unpack(file: &Path) -> Vec<Vec<u8>> {
    let packed = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let raw = zstd::decode_all(&packed[..]).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let mut out = Vec::new();
    let mut rest = &raw[..];
    while !rest.is_empty() {
        let (len, tail) = rest.split_at_checked(4).unwrap_or_else(|| panic!("{}: cut short", file.display()));
        let n = u32::from_le_bytes(len.try_into().unwrap()) as usize;
        let (data, tail) = tail.split_at_checked(n).unwrap_or_else(|| panic!("{}: cut short", file.display()));
        out.push(data.to_vec());
        rest = tail;
    }
    out
}

fn regressions(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect();
    files.sort();
    files.into_iter().map(|p| (p.display().to_string(), std::fs::read(&p).unwrap())).collect()
}

#[test]
fn every_target_survives_its_corpus_and_regressions() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut failed = Vec::new();
    for (name, body) in heapscope_fuzzing::TARGETS {
        let corpus = unpack(&fuzz.join("corpus").join(format!("{name}.zst")));
        assert!(!corpus.is_empty(), "the corpus of fuzz target {name} is empty");
        let regressions = regressions(&fuzz.join("regressions").join(name));
        let started = Instant::now();
        for (i, data) in corpus.iter().enumerate() {
            if std::panic::catch_unwind(|| body(data)).is_err() {
                failed.push(format!("{name}: corpus input {i}"));
            }
        }
        for (file, data) in &regressions {
            if std::panic::catch_unwind(|| body(data)).is_err() {
                failed.push(file.clone());
            }
        }
        eprintln!(
            "{name}: {} corpus inputs, {} regressions, {:.1} s",
            corpus.len(),
            regressions.len(),
            started.elapsed().as_secs_f64()
        );
    }
    assert!(failed.is_empty(), "inputs that panicked: {failed:#?}");
}
