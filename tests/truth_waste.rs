//! The ground truth of `heapscope waste` and `heapscope memory` in every version fixture is whole and consistent:
//! `mallocstats` reconciles, and every `waste` scenario names objects that are in the truth, with a saving measured.
//! (What heapscope reports is tested against these elsewhere; this checks the truth itself.)

mod common;

use std::collections::HashMap;

use serde_json::Value;

fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not an unsigned integer: {v}"))
}

#[test]
fn mallocstats_reconcile() {
    for fx in common::fixtures() {
        let truth = fx.truth();
        let ms = fx.mallocstats();
        assert!(
            truth["mallocstats_raw"].as_str().is_some_and(|s| s.starts_with("Small block threshold")),
            "{}",
            fx.name
        );
        let classes = ms["size_classes"].as_array().unwrap();
        let (mut used, mut free) = (0, 0);
        for c in classes {
            assert_eq!(n(&c["size"]), 16 * (n(&c["index"]) + 1), "{}: {c}", fx.name);
            used += n(&c["size"]) * n(&c["blocks_in_use"]);
            free += n(&c["size"]) * n(&c["blocks_free"]);
        }
        assert_eq!(used, n(&ms["bytes_in_allocated_blocks"]), "{}", fx.name);
        assert_eq!(free, n(&ms["bytes_in_available_blocks"]), "{}", fx.name);
        let parts = used
            + free
            + n(&ms["unused_pools"]["bytes"])
            + n(&ms["bytes_lost_to_pool_headers"])
            + n(&ms["bytes_lost_to_quantization"])
            + n(&ms["bytes_lost_to_arena_alignment"]);
        assert_eq!(parts, n(&ms["total"]), "{}", fx.name);
        assert_eq!(n(&ms["arenas"]["bytes"]), n(&ms["total"]), "{}", fx.name);
        assert_eq!(n(&ms["arenas"]["count"]), n(&ms["arenas_allocated_current"]), "{}", fx.name);
        // 256 KiB arenas of 4 KiB pools up to 3.9, 1 MiB of 16 KiB from 3.10 on
        let minor = n(&truth["version_info"][1]);
        let (arena, pool) = if minor <= 9 { (256 << 10, 4 << 10) } else { (1 << 20, 16 << 10) };
        assert_eq!(n(&ms["arenas"]["arena_size"]), arena, "{}", fx.name);
        assert_eq!(n(&ms["unused_pools"]["pool_size"]), pool, "{}", fx.name);
        assert_eq!(ms["arena_map"].is_null(), minor <= 9, "{}", fx.name);
        // the objects of the truth that pymalloc holds fit in its allocated blocks
        let small: u64 =
            truth["objects"].as_array().unwrap().iter().filter_map(|o| o["size"].as_u64()).filter(|&s| s <= 512).sum();
        assert!(small <= used, "{}: {small} bytes of small objects > {used} in allocated blocks", fx.name);
    }
}

#[test]
fn waste_scenarios_name_objects_of_the_truth() {
    let expect: &[(&str, &str, u64)] = &[
        ("WASTE_DUPS", "duplicate_str", 10_000),
        ("WASTE_DUP_BYTES", "duplicate_bytes", 1_000),
        ("WASTE_DUP_TUPLES", "duplicate_tuple", 1_000),
        ("WASTE_DUP_FROZENSETS", "duplicate_frozenset", 500),
        ("WASTE_POINTS", "slots_candidate", 5_000),
        ("WASTE_FLOATS", "boxed_floats", 100_000),
        ("WASTE_RECORDS", "identical_key_dicts", 3_000),
        ("WASTE_SPARSE_DICT", "sparse_dict", 10),
        ("WASTE_SPARSE_LIST", "sparse_list", 10),
        ("WASTE_SPARSE_SET", "sparse_set", 10),
    ];
    for fx in common::fixtures() {
        let truth = fx.truth();
        let waste = fx.waste();
        let types: HashMap<u64, &str> = truth["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| (n(&o["address"]), o["type"].as_str().unwrap()))
            .collect();
        let noise: Vec<i64> =
            truth["waste"]["noise_bytes"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
        assert!(noise.iter().all(|x| x.abs() < 4096), "{}: noise {noise:?}", fx.name);
        assert_eq!(waste.as_object().unwrap().len(), expect.len(), "{}", fx.name);
        for &(name, kind, count) in expect {
            let s = &waste[name];
            assert_eq!(s["kind"], kind, "{} {name}", fx.name);
            assert_eq!(n(&s["count"]), count, "{} {name}", fx.name);
            let container = n(&s["container"]);
            assert_eq!(Some(&s["container_type"].as_str().unwrap()), types.get(&container), "{} {name}", fx.name);
            let saving = s["measured_saving_bytes"].as_i64().unwrap();
            if kind != "sparse_list" {
                assert!(saving > 10_000, "{} {name}: measured saving {saving}", fx.name);
            }
            if let Some(ex) = s.get("example_address") {
                assert!(types.contains_key(&n(ex)), "{} {name}: example not in the truth", fx.name);
            }
            if let Some(addrs) = s.get("addresses") {
                let addrs = addrs.as_array().unwrap();
                assert_eq!(addrs.len() as u64, count, "{} {name}", fx.name);
                let want = &kind["duplicate_".len()..];
                for a in addrs {
                    assert_eq!(types.get(&n(a)).copied(), Some(want), "{} {name}: {a}", fx.name);
                }
                // a saving of about (count - 1) blocks of the object's size
                let size = n(&s["object_size"]) as i64;
                assert!(saving >= (count as i64 - 1) * size - 4096, "{} {name}: {saving}", fx.name);
            }
        }
        let points = &waste["WASTE_POINTS"];
        let wp_type = points["type"].as_str().unwrap();
        let wp = types.values().filter(|t| **t == wp_type).count();
        assert_eq!(wp, 5_000, "{}: {wp_type} instances in the truth", fx.name);
    }
}
