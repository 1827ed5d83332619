//! Opening a core is linear in its `NT_FILE` entries and segments: a crafted core with 100,000 of one and 50,000 of
//! the other opens at once, its mappings grouped right.

use heapscope_coredump::testutil::{CoreBuilder, RX};
use heapscope_coredump::{Addr, BytesSource, CoreFile, CoreProcess, OpenOptions};

#[test]
fn hundred_thousand_file_mappings_group_by_path_in_linear_time() {
    const FILES: u64 = 50_000;
    const BASE: u64 = 0x10_0000_0000;
    // Entry i maps page i / FILES of file i % FILES: every file has two mappings, far apart in the address space.
    let paths: Vec<String> = (0..FILES).map(|i| format!("/nonexistent/heapscope-test/lib{i}.so")).collect();
    let entries: Vec<(u64, u64, u64, &str)> = (0..2 * FILES)
        .map(|i| {
            let start = BASE + i * 0x1000;
            (start, start + 0x1000, (i / FILES) * 0x1000, paths[(i % FILES) as usize].as_str())
        })
        .collect();
    let mut b = CoreBuilder::new();
    // One executable segment (nothing dumped) per two pages, so each mapping has a segment and counts as code.
    for i in 0..FILES {
        b.load_flags(BASE + i * 0x2000, Vec::new(), 0x2000, RX);
    }
    b.files(0x1000, &entries);
    let core = CoreFile::from_bytes("many-files", b.build().bytes).unwrap();
    assert_eq!(core.mapped_files().len(), 2 * FILES as usize);

    let started = std::time::Instant::now();
    let opts = OpenOptions { sysroot: Some("/nonexistent/heapscope-test-sysroot".into()), search_paths: vec![] };
    let p = CoreProcess::from_core(core, 0, &opts);
    eprintln!("{} NT_FILE entries, {FILES} segments: CoreProcess::from_core took {:?}", 2 * FILES, started.elapsed());

    let objects = heapscope_coredump::ProcessImage::objects(&p);
    assert_eq!(objects.len(), FILES as usize);
    for (i, o) in objects.iter().enumerate() {
        assert_eq!(o.path.to_str(), Some(paths[i].as_str()), "objects in the order of their first mapping");
        let starts: Vec<(Addr, u64)> = o.mappings.iter().map(|m| (m.range.start, m.file_offset)).collect();
        let first = BASE + i as u64 * 0x1000;
        assert_eq!(starts, [(Addr(first), 0), (Addr(first + FILES * 0x1000), 0x1000)], "{}", o.path.display());
        assert!(o.mappings.iter().all(|m| m.executable));
        assert_eq!(o.source, BytesSource::Missing);
    }
    let warning = p.warnings().iter().find(|w| w.contains("mapped file(s)")).unwrap();
    let head: String = warning.chars().take(300).collect();
    assert!(warning.len() < 4096, "the warning names a few files, not all: {} bytes: {head}…", warning.len());
    assert!(warning.contains("50000 mapped file(s)") && warning.ends_with("and 49980 more; pass --sysroot DIR (a copy of the dumped machine's root) or --search-path DIR if those bytes are needed"), "{warning}");
}
