//! The GPU engine's host-side rules, without an adapter: the device parameter layout (a lossless
//! rearrangement of the Keras layout, padding zero, vec4-aligned) and the block-shape rules (every tile
//! legal under the adapter's limits, the recurrent kernels' workgroups covering batch and layer).

use gpulstm::gpu::device_layout::{gate_col, keras_gate_order, DeviceLayout};
use gpulstm::gpu::tiles::{
    candidates, default_tile, fit, AdapterClass, CacheEntry, Product, Tile, TileCache, TileLimits,
    MAX_COLS, MAX_ROWS,
};
use gpulstm::model::{ModelSpec, ParamLayout, DEFAULT_LAYERS};

fn layout(spec: &str, features: usize) -> ParamLayout {
    ParamLayout::new(&ModelSpec::parse(spec, features).expect("spec"))
}

#[test]
fn pack_then_unpack_gives_the_keras_parameters_back() {
    for (spec, f) in [
        (DEFAULT_LAYERS, 5),
        ("lstm:7:seq,lstm:3,dense:1", 1),
        (
            "lstm:13:seq,dropout:0.1,dropout:0.2,lstm:9:seq,lstm:5,dense:6,dense:3,dense:1",
            11,
        ),
    ] {
        let l = layout(spec, f);
        let dl = DeviceLayout::new(&l);
        let keras: Vec<f32> = (0..l.total).map(|i| 1.0 + i as f32).collect();
        let packed = dl.pack(&keras);
        assert_eq!(packed.len(), dl.stride);
        assert_eq!(dl.stride % 64, 0);
        // Every Keras value lands somewhere distinct; everything else is zero padding.
        assert_eq!(
            packed.iter().filter(|&&v| v != 0.0).count(),
            l.total,
            "{spec}"
        );
        let two_models: Vec<f32> = packed.iter().chain(&packed).copied().collect();
        let back = dl.unpack(&two_models);
        assert_eq!(&back[..l.total], &keras[..], "{spec}");
        assert_eq!(&back[l.total..], &keras[..], "{spec}");
        for b in &dl.blocks {
            assert_eq!(b.offset % 4, 0);
            assert_eq!(b.rows % 4, 0);
            assert_eq!(b.cols % 4, 0);
        }
    }
}

#[test]
fn the_report_model_has_the_documented_blocks() {
    let dl = DeviceLayout::new(&layout(DEFAULT_LAYERS, 5));
    let shapes: Vec<(usize, usize, usize, usize)> = dl
        .blocks
        .iter()
        .map(|b| (b.rows, b.cols, b.x_rows, b.bias_row))
        .collect();
    // lstm 5→50: x 8 | h 52 | 1; lstm 50→50: x 52 | h 52 | 1; dense 50→25: x 52 | 1; dense 25→1: x 28 | 1.
    assert_eq!(
        shapes,
        vec![
            (64, 200, 8, 60),
            (108, 200, 52, 104),
            (56, 28, 52, 52),
            (32, 4, 28, 28)
        ]
    );
}

#[test]
fn gate_columns_are_interleaved_per_unit() {
    // Keras column g·U + u (gate g of unit u) is device column 4u + g.
    let units = 3;
    let cols: Vec<usize> = (0..12).map(|j| gate_col(units, j)).collect();
    assert_eq!(cols, vec![0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    let device: Vec<f32> = (0..24).map(|v| v as f32).collect();
    let keras = keras_gate_order(&device, units);
    for row in 0..2 {
        for j in 0..12 {
            assert_eq!(keras[row * 12 + j], device[row * 12 + gate_col(units, j)]);
        }
    }
}

const GPU_LIMITS: TileLimits = TileLimits {
    invocations: 1024,
    size_x: 1024,
    size_y: 1024,
    workgroup_bytes: 49152,
    subgroup_size: Some(32),
};
const WEBGPU_LIMITS: TileLimits = TileLimits {
    invocations: 256,
    size_x: 256,
    size_y: 256,
    workgroup_bytes: 16384,
    subgroup_size: None,
};

fn products() -> Vec<Product> {
    let mut out = Vec::new();
    for (batch, units) in [(10, 50), (1, 1), (64, 37), (3, 200), (256, 8)] {
        out.push(Product::Recurrence {
            batch,
            units,
            steps: 7,
        });
        out.push(Product::Bptt {
            batch,
            units,
            steps: 7,
        });
    }
    out.push(Product::Project {
        rows: 600,
        depth4: 13,
        cols4: 50,
    });
    out.push(Product::WeightGrad {
        rows: 108,
        depth: 600,
        cols4: 50,
    });
    out
}

#[test]
fn every_default_and_candidate_tile_is_legal() {
    for class in [
        AdapterClass::Cpu,
        AdapterClass::Discrete,
        AdapterClass::Integrated,
    ] {
        for limits in [GPU_LIMITS, WEBGPU_LIMITS] {
            for p in products() {
                let mut tiles = candidates(class, &p, limits);
                tiles.extend(fit(&p, default_tile(class, &p), limits));
                assert!(!tiles.is_empty(), "{class:?} {p:?}: no legal tile");
                for t in tiles {
                    assert!(t.wgx * t.wgy <= limits.invocations, "{t:?}");
                    assert!(t.rows >= 1 && t.cols >= 1 && t.cols <= MAX_COLS, "{t:?}");
                    if let Product::WeightGrad { .. } = p {
                        assert_eq!(t.rows % 4, 0, "weight_grad rows come in quads: {t:?}");
                    } else {
                        assert!(t.rows <= MAX_ROWS, "{t:?}");
                    }
                    // U stays on chip only for the recurrent kernels, and only where it fits.
                    if t.shared {
                        let bytes = p.shared_bytes().expect("only recurrent products share U");
                        assert!(bytes <= limits.workgroup_bytes as u64, "{p:?} {t:?}");
                    }
                    // The recurrent kernels keep state in registers: one workgroup covers everything.
                    match p {
                        Product::Recurrence { batch, units, .. } => {
                            assert!((t.rows * t.wgy) as usize >= batch, "{p:?} {t:?}");
                            assert!((t.cols * t.wgx) as usize >= units, "{p:?} {t:?}");
                        }
                        Product::Bptt { batch, units, .. } => {
                            assert!((t.rows * t.wgy) as usize >= batch, "{p:?} {t:?}");
                            assert!(
                                (t.cols * t.wgx) as usize >= units.div_ceil(4),
                                "{p:?} {t:?}"
                            );
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}

#[test]
fn a_lower_limit_changes_the_plan_and_an_impossible_one_is_refused() {
    let p = Product::Recurrence {
        batch: 10,
        units: 50,
        steps: 60,
    };
    let wide = Tile {
        rows: 1,
        cols: 1,
        wgx: 50,
        wgy: 10,
        shared: false,
        subgroup: false,
        step_tile: false,
    };
    let roomy = fit(&p, wide, GPU_LIMITS).expect("500 invocations fit 1024");
    assert_eq!((roomy.wgx, roomy.wgy), (50, 10));
    let tight = fit(&p, wide, WEBGPU_LIMITS);
    assert!(tight.is_none(), "500 invocations do not fit 256: {tight:?}");
    // The defaults always find a legal block under the WebGPU limits for this product.
    let t = fit(&p, default_tile(AdapterClass::Discrete, &p), WEBGPU_LIMITS).expect("default fits");
    assert!(t.wgx * t.wgy <= 256);
    // U of 50 units (41.6 KB) stays on chip with 48 KB of workgroup memory, not with 16 KB.
    let gpu_default = default_tile(AdapterClass::Discrete, &p);
    assert!(fit(&p, gpu_default, GPU_LIMITS).expect("fits").shared);
    assert!(!fit(&p, gpu_default, WEBGPU_LIMITS).expect("fits").shared);
    // A layer wider than 8 × the widest workgroup cannot be covered.
    let huge = Product::Recurrence {
        batch: 10,
        units: 8 * 1025,
        steps: 1,
    };
    assert!(fit(&huge, default_tile(AdapterClass::Cpu, &huge), GPU_LIMITS).is_none());
}

#[test]
fn the_tile_cache_keeps_one_entry_per_adapter_driver_and_product() {
    let entry = |product: &str, rows: u32| CacheEntry {
        adapter: "a".into(),
        driver: "d".into(),
        product: product.into(),
        tile: Tile {
            rows,
            cols: 1,
            wgx: 8,
            wgy: 1,
            shared: false,
            subgroup: false,
            step_tile: false,
        },
        gflops: 1.0,
        default_gflops: 1.0,
    };
    let mut cache = TileCache::default();
    cache.put(entry("project 1x4x4", 4));
    cache.put(entry("project 1x4x4", 8));
    cache.put(entry("bptt b1 u1", 2));
    assert_eq!(cache.entries.len(), 2);
    assert_eq!(
        cache
            .entries
            .iter()
            .find(|e| e.product == "project 1x4x4")
            .map(|e| e.tile.rows),
        Some(8)
    );
    let text = serde_json::to_string(&cache).expect("json");
    let back: TileCache = serde_json::from_str(&text).expect("parse");
    assert_eq!(back.entries.len(), 2);
}
