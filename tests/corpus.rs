//! The corrupted-core corpus: mutated copies of fixture cores and other hostile inputs, each given to the real
//! `heapscope` binary with the commands that open a core (`info`), walk the threads (`stacks --locals`) and build the
//! snapshot (`summary`, `garbage`, `memory`).
//!
//! Asserted for every run: it ends with exit 0 or 2 (no panic, no signal), within [`TIME_LIMIT`], with a peak RSS of
//! at most twice the peak RSS of the same command on the intact core; for the dump taken during a collection, exit 0
//! and the warning that a collection was running exactly once from each command that walks the heap. Inputs:
//!
//! - from each of [`BASES`]: truncations; byte flips in the notes, the program headers and the dumped memory; zeroed
//!   segments (including the one holding `_PyRuntime`); words of writable memory that point into their own segment
//!   rewritten to point at themselves or a neighbour (pointer loops); huge lengths in objects and notes; a wrong
//!   machine, class, byte order or `e_type`; huge and zero `e_phnum`; offsets past the end of the file; overlapping
//!   segments;
//! - the hostile lists: the interpreter's thread list and the runtime's interpreter list run through 100,000 fake
//!   entries written into a writable segment; GC list links pointing at themselves or back into the list; a dump
//!   taken during a collection (the collecting flag set, one GC node in 8 moved onto a list of its own with
//!   NEXT_MASK_UNREACHABLE, the others' `_gc_prev` holding counts); a list whose items fan out to 100,000s of crafted
//!   objects;
//! - an empty file, random bytes, an ELF header alone, a small core of a process without Python, a directory, a FIFO.
//!
//! Every case is derived from [`SEED`], so the corpus is the same on every run. Mutated cores are written to a
//! temporary directory one at a time per worker and removed. The counts (cases, runs, exit codes, the slowest run,
//! the largest RSS ratio) are printed. `HEAPSCOPE_CORPUS_FILTER=SUBSTRING` runs only the cases whose name contains
//! it; `HEAPSCOPE_CORPUS_WRITE=DIR` writes the cases' cores into DIR instead of running them, to look into one.
//!
//! The test has its own `main` (`harness = false`): it starts copies of itself as launchers, small processes that
//! spawn heapscope and measure it, since a child's peak RSS as `wait4` reports it starts at the RSS of the process
//! that spawned it.

#[path = "corpus/base.rs"]
mod base;
mod common;
#[path = "corpus/launcher.rs"]
mod launcher;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base::{put_u64, u64_at, Base, Rng};
use launcher::{serve, Launcher, LAUNCHER_ENV};

/// The fixed seed every case is derived from.
const SEED: u64 = 0x6865_6170_7363_6f70;
/// The fixtures mutated: the three GC-state layouts (3.8 in `_PyRuntime`, 3.9–3.13 and 3.14 in the interpreter) and
/// the frame models ≤3.10, 3.11–3.12 and 3.13+.
const BASES: &[&str] = &["py38", "py312", "py314"];
/// The commands run on every input.
const COMMANDS: &[&[&str]] = &[&["info"], &["stacks", "--locals"], &["summary"], &["garbage"], &["memory"]];
/// Longest a run may take.
const TIME_LIMIT: Duration = Duration::from_secs(10);
/// When a run is killed (it has failed by then).
const KILL_AFTER: Duration = Duration::from_secs(15);
/// Most peak RSS of a run, relative to the same command on the intact core.
const RSS_RATIO: f64 = 2.0;
/// Entries of the fake thread and interpreter lists.
const FAKE_ENTRIES: u64 = 100_000;
/// The case of a dump taken during a collection, and what every command that walks the heap must then say, once.
const DURING_COLLECTION: &str = "during-collection";
const COLLECTION_WARNING: &str = "heapscope: warning: the core was taken while a garbage collection was running";
/// The commands that walk the heap.
const HEAP_COMMANDS: &[&str] = &["summary", "garbage", "memory"];

/// What a case gives heapscope as the core.
enum Input {
    Bytes(Vec<u8>),
    Dir,
    Fifo,
}

/// Makes a case's input from the base cores.
type Make = Box<dyn Fn(&[Base]) -> Input + Send + Sync>;

/// One input of the corpus.
struct Case {
    name: String,
    /// The base core whose intact RSS bounds this case's (index into the bases).
    base: usize,
    make: Make,
}

fn case(v: &mut Vec<Case>, name: String, base: usize, make: impl Fn(&[Base]) -> Input + Send + Sync + 'static) {
    v.push(Case { name, base, make: Box::new(make) });
}

/// A copy of base `i`'s bytes changed by `f`.
fn mutate(bases: &[Base], i: usize, f: impl FnOnce(&Base, &mut Vec<u8>)) -> Input {
    let b = &bases[i];
    let mut bytes = b.bytes.clone();
    f(b, &mut bytes);
    Input::Bytes(bytes)
}

/// Every case derived from base `i`.
fn base_cases(v: &mut Vec<Case>, i: usize, name: &str) {
    let n = |what: &str| format!("{name}/{what}");

    // Truncations: in the ELF header, the program headers, the notes, and the memory.
    for k in 0..7u64 {
        case(v, n(&format!("truncate-{k}")), i, move |bs| {
            mutate(bs, i, |b, bytes| {
                let mut r = Rng::new(&format!("{}truncate{k}", b.name));
                let len = bytes.len() as u64;
                let at = match k {
                    0 => 52,
                    1 => b.phoff + b.phnum * 56 / 2,
                    2 => b.notes[0].0 + b.notes[0].1 / 2,
                    3 => len / 3,
                    4 => len / 2,
                    5 => len - 1,
                    _ => r.below(len),
                };
                bytes.truncate(at as usize);
            })
        });
    }
    // Byte flips in the notes, the program headers and the memory.
    for (k, count) in [1u64, 16, 256].into_iter().enumerate() {
        case(v, n(&format!("flip-notes-{count}")), i, move |bs| {
            mutate(bs, i, |b, bytes| {
                let mut r = Rng::new(&format!("{}notes{k}", b.name));
                let (o, l) = b.notes[0];
                for _ in 0..count {
                    let at = (o + r.below(l)) as usize;
                    bytes[at] ^= 1 << r.below(8);
                }
            })
        });
        case(v, n(&format!("flip-phdrs-{count}")), i, move |bs| {
            mutate(bs, i, |b, bytes| {
                let mut r = Rng::new(&format!("{}phdrs{k}", b.name));
                for _ in 0..count {
                    let at = (b.phoff + r.below(b.phnum * 56)) as usize;
                    bytes[at] = r.next() as u8;
                }
            })
        });
    }
    for count in [1_000u64, 100_000, 1_000_000] {
        case(v, n(&format!("flip-memory-{count}")), i, move |bs| {
            mutate(bs, i, |b, bytes| {
                let mut r = Rng::new(&format!("{}memory{count}", b.name));
                let total: u64 = b.loads.iter().map(|s| s.filesz).sum();
                for _ in 0..count {
                    let mut at = r.below(total);
                    let s = b.loads.iter().find(|s| {
                        let inside = at < s.filesz;
                        if !inside {
                            at -= s.filesz;
                        }
                        inside
                    });
                    if let Some(s) = s {
                        bytes[(s.off + at) as usize] = r.next() as u8;
                    }
                }
            })
        });
    }
    // Zeroed segments: the one holding _PyRuntime, the one holding the main interpreter, the largest, two others.
    for k in 0..5u64 {
        case(v, n(&format!("zero-segment-{k}")), i, move |bs| {
            mutate(bs, i, |b, bytes| {
                let mut r = Rng::new(&format!("{}zero{k}", b.name));
                let holding = |a: u64| b.loads.iter().find(|s| s.vaddr <= a && a - s.vaddr < s.filesz).copied();
                let s = match k {
                    0 => holding(b.runtime),
                    1 => holding(b.main_interp),
                    2 => b.loads.iter().max_by_key(|s| s.filesz).copied(),
                    _ => Some(b.loads[r.below(b.loads.len() as u64) as usize]),
                };
                if let Some(s) = s {
                    bytes[s.off as usize..(s.off + s.filesz) as usize].fill(0);
                }
            })
        });
    }
    // Pointer loops: words of writable memory that point into their own segment, rewritten to point at themselves
    // or a word nearby.
    for (k, per_mille) in [10u64, 200, 1000].into_iter().enumerate() {
        case(v, n(&format!("self-pointers-{per_mille}")), i, move |bs| {
            mutate(bs, i, |b, bytes| {
                let mut r = Rng::new(&format!("{}selfptr{k}", b.name));
                for s in b.loads.iter().filter(|s| s.writable) {
                    for w in 0..s.filesz / 8 {
                        let at = s.off + w * 8;
                        let val = u64_at(bytes, at);
                        if val >= s.vaddr && val - s.vaddr < s.memsz && r.below(1000) < per_mille {
                            let me = s.vaddr + w * 8;
                            let d = r.below(5) as i64 - 2;
                            put_u64(bytes, at, me.wrapping_add_signed(d * 8));
                        }
                    }
                }
            })
        });
    }
    // Huge lengths: ob_size (and a list's `allocated`) of objects, the notes' sizes, NT_FILE's count.
    case(v, n("huge-object-lengths"), i, move |bs| {
        mutate(bs, i, |b, bytes| {
            let mut r = Rng::new(&format!("{}huge", b.name));
            const HUGE: [u64; 6] = [u64::MAX, i64::MAX as u64, 1 << 62, 1 << 40, 1 << 31, 0xffff_ffff];
            for _ in 0..2000 {
                let o = b.sized[r.below(b.sized.len() as u64) as usize];
                let h = HUGE[r.below(HUGE.len() as u64) as usize];
                b.write(bytes, o + 16, h);
                b.write(bytes, o + 32, h);
            }
        })
    });
    case(v, n("huge-note-sizes"), i, move |bs| {
        mutate(bs, i, |b, bytes| {
            let (o, _) = b.notes[0];
            bytes[o as usize..o as usize + 4].copy_from_slice(&u32::MAX.to_le_bytes());
            bytes[o as usize + 4..o as usize + 8].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
        })
    });
    case(v, n("huge-nt-file-count"), i, move |bs| {
        mutate(bs, i, |b, bytes| {
            // The NT_FILE note: namesz, descsz, type 0x46494c45, "CORE\0\0\0\0", then count, page size, entries.
            let (o, l) = b.notes[0];
            let notes = &bytes[o as usize..(o + l) as usize];
            let at = notes.windows(4).position(|w| w == 0x4649_4c45u32.to_le_bytes()).expect("an NT_FILE note");
            let count = o + at as u64 + 4 + 8;
            put_u64(bytes, count, u64::MAX / 2);
            put_u64(bytes, count + 8, 1 << 63);
        })
    });
    // The ELF header: machine, class, byte order, type, program header count and place.
    let header: &[(&str, usize, &[u8])] = &[
        ("machine-aarch64", 18, &[183, 0]),
        ("class-32", 4, &[1]),
        ("big-endian", 5, &[2]),
        ("type-exec", 16, &[2, 0]),
        ("phnum-huge", 56, &[0xff, 0xff]),
        ("phnum-zero", 56, &[0, 0]),
        ("phentsize-1000", 54, &[0xe8, 0x03]),
        ("phoff-past-eof", 32, &[0, 0, 0, 0, 0, 0, 0, 0x40]),
        ("phoff-unaligned", 32, &[0x41, 0, 0, 0, 0, 0, 0, 0]),
    ];
    for &(what, at, with) in header {
        case(v, n(what), i, move |bs| mutate(bs, i, |_, bytes| bytes[at..at + with.len()].copy_from_slice(with)));
    }
    // Program headers: offsets past the end of the file, sizes beyond it, overlapping segments.
    for k in 0..3u64 {
        case(v, n(&format!("offsets-past-eof-{k}")), i, move |bs| {
            mutate(bs, i, |b, bytes| {
                let mut r = Rng::new(&format!("{}pasteof{k}", b.name));
                let len = bytes.len() as u64;
                for _ in 0..8 {
                    let s = b.loads[r.below(b.loads.len() as u64) as usize];
                    let h = b.phoff + s.ph as u64 * 56;
                    match k {
                        0 => put_u64(bytes, h + 8, len + r.below(1 << 20)),
                        1 => put_u64(bytes, h + 32, 1 << 62),
                        _ => put_u64(bytes, h + 8, u64::MAX - r.below(4096)),
                    }
                }
            })
        });
    }
    for k in 0..3u64 {
        case(v, n(&format!("overlapping-segments-{k}")), i, move |bs| {
            mutate(bs, i, |b, bytes| {
                let mut r = Rng::new(&format!("{}overlap{k}", b.name));
                for _ in 0..16 {
                    let s = b.loads[r.below(b.loads.len() as u64) as usize];
                    let t = b.loads[r.below(b.loads.len() as u64) as usize];
                    let h = b.phoff + s.ph as u64 * 56;
                    match k {
                        0 => put_u64(bytes, h + 16, t.vaddr),
                        1 => put_u64(bytes, h + 16, t.vaddr + t.memsz / 2),
                        _ => put_u64(bytes, h + 40, 1 << 44),
                    }
                }
            })
        });
    }

    // The hostile lists. The thread list of the main interpreter through 100,000 fake thread states, then the real
    // ones; dense (every field of every fake points into the fakes) or sparse (only `next` is set).
    for (what, dense) in [("dense", true), ("sparse", false)] {
        case(v, n(&format!("fake-thread-list-{what}")), i, move |bs| {
            mutate(bs, i, |b, bytes| {
                let head_at = b.main_interp + b.threads_head;
                let real = b.read(head_at);
                let first = b.fake_chain(bytes, b.tstate_next, 16, dense, real);
                b.write(bytes, head_at, first);
            })
        });
        case(v, n(&format!("fake-interpreter-list-{what}")), i, move |bs| {
            mutate(bs, i, |b, bytes| {
                let head_at = b.runtime + b.interp_head;
                let real = b.read(head_at);
                let first = b.fake_chain(bytes, b.interp_next, 16, dense, real);
                b.write(bytes, head_at, first);
            })
        });
    }
    // GC lists: a link to the node itself, a link back into the list, a link a word off, and many links at once.
    for k in 0..4u64 {
        case(v, n(&format!("gc-list-self-pointers-{k}")), i, move |bs| {
            mutate(bs, i, |b, bytes| {
                let mut r = Rng::new(&format!("{}gc{k}", b.name));
                for &head in &b.gc_heads {
                    // The list's first nodes, up to 5,000.
                    let mut nodes = Vec::new();
                    let mut cur = b.read(head + b.gc_next) & !3;
                    while cur != head && cur != 0 && nodes.len() < 5000 && b.offset(cur).is_some() {
                        nodes.push(cur);
                        cur = b.read(cur + b.gc_next) & !3;
                    }
                    if nodes.is_empty() {
                        continue;
                    }
                    let pick = |r: &mut Rng| nodes[r.below(nodes.len() as u64) as usize];
                    match k {
                        0 => {
                            let a = pick(&mut r);
                            b.write(bytes, a + b.gc_next, a);
                        }
                        1 => {
                            let (x, y) = (pick(&mut r), pick(&mut r));
                            let (early, late) = if x < y { (x, y) } else { (y, x) };
                            b.write(bytes, late + b.gc_next, early);
                            b.write(bytes, late + b.gc_prev, late);
                        }
                        2 => {
                            let a = pick(&mut r);
                            b.write(bytes, a + b.gc_next, a + 8);
                        }
                        _ => {
                            for _ in 0..nodes.len() / 4 {
                                let a = pick(&mut r);
                                let to = if r.below(2) == 0 { a } else { pick(&mut r) };
                                b.write(bytes, a + b.gc_next, to | r.below(4));
                                b.write(bytes, a + b.gc_prev, pick(&mut r));
                            }
                        }
                    }
                }
            })
        });
    }
    // A dump during a collection, as the collector leaves the lists: the collecting flag set; one node in 8 moved
    // off its generation list onto a list of its own (the collector's `unreachable`, whose head is on its C stack),
    // linked with NEXT_MASK_UNREACHABLE set in `_gc_next`; the other nodes' `_gc_prev` holding reference counts with
    // PREV_MASK_COLLECTING (as update_refs leaves them) and some `_gc_next` with bit 0 set.
    case(v, n(DURING_COLLECTION), i, move |bs| {
        mutate(bs, i, |b, bytes| {
            let mut r = Rng::new(&format!("{}collecting", b.name));
            let c = b.collecting.expect("the layout has the collecting flag");
            let o = b.offset(c).expect("the collecting flag is dumped");
            bytes[o as usize..o as usize + 4].copy_from_slice(&1u32.to_le_bytes());
            let mut unreachable = Vec::new();
            for &head in &b.gc_heads {
                let mut nodes = Vec::new();
                let mut cur = b.read(head + b.gc_next) & !3;
                while cur != head && cur != 0 && nodes.len() < 1_000_000 && b.offset(cur).is_some() {
                    nodes.push(cur);
                    cur = b.read(cur + b.gc_next) & !3;
                }
                let moved: Vec<u64> = nodes.iter().copied().skip(7).step_by(8).collect();
                let kept: Vec<u64> =
                    nodes.iter().copied().enumerate().filter(|(k, _)| k % 8 != 7).map(|(_, a)| a).collect();
                unreachable.extend(moved);
                // The kept nodes relinked in order, back to the head.
                let mut prev = head;
                for &a in &kept {
                    b.write(bytes, prev + b.gc_next, a | r.below(2));
                    b.write(bytes, a + b.gc_prev, (r.below(64) << 2) | 2);
                    prev = a;
                }
                b.write(bytes, prev + b.gc_next, head);
            }
            for (k, &a) in unreachable.iter().enumerate() {
                let next = unreachable[(k + 1) % unreachable.len()];
                let before = unreachable[(k + unreachable.len() - 1) % unreachable.len()];
                b.write(bytes, a + b.gc_next, next | 1);
                b.write(bytes, a + b.gc_prev, before | 2);
            }
        })
    });
    // Fan-out: the largest list's items replaced by pointers to crafted objects in a writable segment: floats, one
    // every 8 bytes (each overlaps the next); a binary tree of tuples (each of two items pointing at two more); a
    // chain of tuples (each pointing at the next, found one round after the other).
    for what in ["floats", "tuple-tree", "tuple-chain"] {
        case(v, n(&format!("fan-out-{what}")), i, move |bs| {
            mutate(bs, i, |b, bytes| {
                let mut avoid = b.keep();
                avoid.push(b.read(b.big_list + b.list_ob_item));
                let len = 2_000_000u64;
                let fakes = b.region(len, &avoid);
                let o = b.offset(fakes).unwrap();
                let stride = b.tuple_ob_item + 16;
                let count = if what == "floats" { (len - 64) / 8 } else { (len - 64) / stride - 1 };
                // Past the region's first bytes, so that each tuple's GC header (before it) is in the region too.
                let tuple = |k: u64| fakes + 64 + k * stride;
                for w in 0..len / 8 {
                    let at = w * 8;
                    let val = if what == "floats" {
                        b.float_type
                    } else {
                        let (k, field) = (at.wrapping_sub(64) / stride, at.wrapping_sub(64) % stride);
                        let (left, right) = if what == "tuple-tree" { (2 * k + 1, 2 * k + 2) } else { (k + 1, 0) };
                        match field {
                            0 => 1,
                            8 => b.tuple_type,
                            16 => 2,
                            f if f == b.tuple_ob_item => {
                                if left < count {
                                    tuple(left)
                                } else {
                                    0
                                }
                            }
                            f if f == b.tuple_ob_item + 8 => {
                                if right != 0 && right < count {
                                    tuple(right)
                                } else {
                                    0
                                }
                            }
                            _ => u64::MAX,
                        }
                    };
                    put_u64(bytes, o + at, val);
                }
                // The list: one item per fake (floats), else the first tuple; its items in a second region.
                avoid.push(fakes);
                let items = if what == "floats" { count } else { 1 };
                let at = b.region(items * 8 + 4096, &avoid);
                let io = b.offset(at).unwrap();
                for k in 0..items {
                    put_u64(bytes, io + k * 8, if what == "floats" { fakes + k * 8 } else { tuple(0) });
                }
                b.write(bytes, b.big_list + 16, items);
                b.write(bytes, b.big_list + b.list_ob_item, at);
                b.write(bytes, b.big_list + b.list_ob_item + 8, items);
            })
        });
    }
}

/// The cases not derived from a fixture; `py312` (base 1) bounds their RSS.
fn other_cases(v: &mut Vec<Case>) {
    case(v, "empty-file".into(), 1, |_| Input::Bytes(Vec::new()));
    case(v, "random-bytes".into(), 1, |_| {
        let mut r = Rng::new("random");
        Input::Bytes((0..1 << 20).map(|_| r.next() as u8).collect())
    });
    case(v, "random-after-elf-magic".into(), 1, |_| {
        let mut r = Rng::new("random-elf");
        let mut b: Vec<u8> = (0..1 << 20).map(|_| r.next() as u8).collect();
        b[..6].copy_from_slice(b"\x7fELF\x02\x01");
        Input::Bytes(b)
    });
    case(v, "elf-header-only".into(), 1, |_| Input::Bytes(common::minimal_core()[..64].to_vec()));
    case(v, "core-without-python".into(), 1, |_| Input::Bytes(common::minimal_core()));
    case(v, "directory".into(), 1, |_| Input::Dir);
    case(v, "fifo".into(), 1, |_| Input::Fifo);
}

/// How one run ended.
#[derive(Debug, Clone)]
struct Run {
    case: String,
    command: String,
    /// The exit code, or the signal that ended it.
    code: Option<i32>,
    signal: Option<i32>,
    killed: bool,
    secs: f64,
    /// Peak RSS, KiB.
    rss_kib: i64,
    stderr: String,
}

/// Runs every command on `core`, with an empty sysroot and no saved snapshot.
fn run_all(launcher: &mut Launcher, case: &str, core: &Path, sysroot: &Path, scratch: &Path) -> Vec<Run> {
    let err = scratch.join("stderr");
    COMMANDS
        .iter()
        .map(|cmd| {
            let mut args: Vec<&std::ffi::OsStr> = cmd.iter().map(std::ffi::OsStr::new).collect();
            args.extend([core.as_os_str(), "--sysroot".as_ref(), sysroot.as_os_str(), "--no-cache".as_ref()]);
            let (code, signal, killed, secs, rss_kib) = launcher.run(&args, &err);
            let stderr = std::fs::read(&err).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
            Run { case: case.to_owned(), command: cmd.join(" "), code, signal, killed, secs, rss_kib, stderr }
        })
        .collect()
}

fn main() {
    if std::env::var_os(LAUNCHER_ENV).is_some() {
        return serve();
    }
    let started = Instant::now();
    let tmp = tempfile::Builder::new().prefix("heapscope-corpus-").tempdir_in("/tmp").expect("temp dir");
    let sysroot = tmp.path().join("sysroot");
    std::fs::create_dir(&sysroot).unwrap();
    let bases: Vec<Base> = BASES.iter().map(|n| Base::load(n, tmp.path())).collect();

    // The intact cores' figures, per base and command.
    let intact: Vec<Vec<Run>> = bases
        .iter()
        .map(|b| {
            let scratch = tmp.path().join(format!("{}-intact", b.name));
            std::fs::create_dir(&scratch).unwrap();
            let runs = run_all(
                &mut Launcher::start(),
                &b.name,
                &tmp.path().join(format!("{}.intact", b.name)),
                &sysroot,
                &scratch,
            );
            for r in &runs {
                assert_eq!(r.code, Some(0), "{} {} on the intact core:\n{}", r.command, b.name, r.stderr);
            }
            runs
        })
        .collect();

    let mut cases = Vec::new();
    for (i, name) in BASES.iter().enumerate() {
        base_cases(&mut cases, i, name);
    }
    other_cases(&mut cases);
    if let Ok(filter) = std::env::var("HEAPSCOPE_CORPUS_FILTER") {
        cases.retain(|c| c.name.contains(&filter));
    }
    if let Some(dir) = std::env::var_os("HEAPSCOPE_CORPUS_WRITE") {
        for c in &cases {
            if let Input::Bytes(b) = (c.make)(&bases) {
                std::fs::write(Path::new(&dir).join(c.name.replace('/', "-")), b).expect("write a case");
            }
        }
        return;
    }

    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Run)>> = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 4);
    std::thread::scope(|s| {
        for w in 0..workers {
            let (cases, bases, next, results, tmp, sysroot) = (&cases, &bases, &next, &results, tmp.path(), &sysroot);
            s.spawn(move || {
                let scratch = tmp.join(format!("worker-{w}"));
                let mut launcher = Launcher::start();
                std::fs::create_dir(&scratch).unwrap();
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(c) = cases.get(k) else { break };
                    let core = scratch.join("core");
                    match (c.make)(bases) {
                        Input::Bytes(b) => std::fs::write(&core, b).unwrap(),
                        Input::Dir => std::fs::create_dir(&core).unwrap(),
                        Input::Fifo => {
                            let path = std::ffi::CString::new(core.as_os_str().as_encoded_bytes()).unwrap();
                            // SAFETY: a NUL-terminated path.
                            #[allow(unsafe_code)]
                            let r = unsafe { libc::mkfifo(path.as_ptr(), 0o600) };
                            assert_eq!(r, 0, "mkfifo {}", core.display());
                        }
                    }
                    let runs = run_all(&mut launcher, &c.name, &core, sysroot, &scratch);
                    if core.is_dir() {
                        std::fs::remove_dir(&core).unwrap();
                    } else {
                        std::fs::remove_file(&core).unwrap();
                    }
                    results.lock().unwrap().extend(runs.into_iter().map(|r| (c.base, r)));
                }
            });
        }
    });
    let results = results.into_inner().unwrap();

    // The figures, then the failures.
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut slowest: Option<&Run> = None;
    let mut worst: Option<(f64, &Run)> = None;
    for (base, r) in &results {
        let key = match (r.code, r.signal) {
            (Some(c), _) => format!("exit {c}"),
            (None, Some(s)) => format!("signal {s}"),
            _ => "other".into(),
        };
        *codes.entry(key.clone()).or_default() += 1;
        let cmd = COMMANDS.iter().position(|c| c.join(" ") == r.command).unwrap();
        let ratio = r.rss_kib as f64 / intact[*base][cmd].rss_kib as f64;
        if slowest.is_none_or(|s| r.secs > s.secs) {
            slowest = Some(r);
        }
        if worst.is_none_or(|(w, _)| ratio > w) {
            worst = Some((ratio, r));
        }
        let mut why = Vec::new();
        if !matches!(r.code, Some(0 | 2)) {
            why.push(format!("ended with {key}"));
        }
        if r.killed || r.secs > TIME_LIMIT.as_secs_f64() {
            why.push(format!("took {:.1} s", r.secs));
        }
        if ratio > RSS_RATIO {
            why.push(format!("peak RSS {} MiB, {ratio:.2}× the intact core's", r.rss_kib / 1024));
        }
        // A dump during a collection is a valid core: every command that walks the heap succeeds and says, once,
        // that a collection was running; the others do not mention it.
        if r.case.ends_with(&format!("/{DURING_COLLECTION}")) {
            let said = r.stderr.matches(COLLECTION_WARNING).count();
            let walks_heap = HEAP_COMMANDS.contains(&r.command.as_str());
            if r.code != Some(0) {
                why.push(format!("ended with {key}, not 0"));
            }
            if said != usize::from(walks_heap) {
                why.push(format!("said {said} times that a collection was running"));
            }
        }
        if r.stderr.contains("panicked") || r.stderr.contains("RUST_BACKTRACE") {
            why.push("panicked".into());
        }
        if !why.is_empty() {
            let tail: String =
                r.stderr.lines().rev().take(6).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n    ");
            failures.push(format!("{} `{}`: {}\n    {tail}", r.case, r.command, why.join(", ")));
        }
    }
    println!(
        "corpus: {} cases, {} runs in {:.1} s; {}",
        cases.len(),
        results.len(),
        started.elapsed().as_secs_f64(),
        codes.iter().map(|(k, n)| format!("{k}: {n}")).collect::<Vec<_>>().join(", ")
    );
    for (b, runs) in bases.iter().zip(&intact) {
        let figs: Vec<String> =
            runs.iter().map(|r| format!("{} {:.2} s {} MiB", r.command, r.secs, r.rss_kib / 1024)).collect();
        println!("intact {}: {}", b.name, figs.join("; "));
    }
    if let Some(r) = slowest {
        println!("slowest run: {} `{}` {:.2} s", r.case, r.command, r.secs);
    }
    if let Some((ratio, r)) = worst {
        println!("largest RSS ratio: {} `{}` {ratio:.2}× ({} MiB)", r.case, r.command, r.rss_kib / 1024);
    }
    assert!(failures.is_empty(), "{} of {} runs failed:\n{}", failures.len(), results.len(), failures.join("\n"));
}
