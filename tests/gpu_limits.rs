//! The engine plans from the limits its device was opened with: lower limits change the plan (models per
//! chunk, block shapes) and never the results; the plan made on paper (`gpu::plan`) is the one the engine
//! builds.

mod common;

use gpulstm::check_problem::Problem;
use gpulstm::data::{load_sample, LoadOptions};
use gpulstm::fit::AdamConfig;
use gpulstm::gpu::engine::{largest_per_model, BatchEngine, EngineShape, Optim};
use gpulstm::gpu::plan::{plan, step_products};
use gpulstm::gpu::tiles::{AdapterClass, Product, Tile, TileLimits, Tiles};
use gpulstm::gpu::LimitSet;
use gpulstm::model::{ModelSpec, ParamLayout, DEFAULT_LAYERS};
use gpulstm::train::gpu::GpuTrainer;
use gpulstm::train::{run, Protocol, Trainer};

fn report_layout() -> ParamLayout {
    ParamLayout::new(&ModelSpec::parse(DEFAULT_LAYERS, 5).expect("spec"))
}

/// What a GPU's tile rules see under the WebGPU defaults and under a roomier GPU's limits.
fn tile_limits(workgroup_bytes: u32, invocations: u32) -> TileLimits {
    TileLimits {
        invocations,
        size_x: invocations,
        size_y: invocations,
        workgroup_bytes,
        subgroup_size: None,
    }
}

#[test]
fn lower_limits_change_the_plan_on_paper() {
    let layout = report_layout();
    let webgpu = wgpu::Limits::default();
    let tiles = Tiles::new(AdapterClass::Discrete, tile_limits(16384, 256));
    let wide = plan(&webgpu, &tiles, &layout, 10, 60);
    // A quarter of the binding: a quarter of the models per chunk (the largest per-model buffer is what
    // fits), nothing else.
    let quarter = wgpu::Limits {
        max_storage_buffer_binding_size: webgpu.max_storage_buffer_binding_size / 4,
        ..webgpu.clone()
    };
    let narrow = plan(&quarter, &tiles, &layout, 10, 60);
    eprintln!(
        "models per chunk: {} with 128 MiB bindings, {} with 32 MiB ({} per model)",
        wide.models_per_chunk, narrow.models_per_chunk, wide.per_model_bytes
    );
    assert_eq!(
        wide.models_per_chunk as u64,
        webgpu.max_storage_buffer_binding_size / wide.per_model_bytes
    );
    assert_eq!(narrow.models_per_chunk, wide.models_per_chunk / 4);
    assert_eq!(wide.tiles, narrow.tiles);
    // The grid's model axis bounds it too.
    let few_groups = wgpu::Limits {
        max_compute_workgroups_per_dimension: 7,
        ..webgpu.clone()
    };
    assert_eq!(
        plan(&few_groups, &tiles, &layout, 10, 60).models_per_chunk,
        7
    );

    // 48 KiB of workgroup memory keeps a 50-unit layer's U (41.6 KB) on chip; the WebGPU 16 KiB does not.
    let roomy = Tiles::new(AdapterClass::Discrete, tile_limits(49152, 1024));
    let recurrence = Product::Recurrence {
        batch: 10,
        units: 50,
        steps: 60,
    };
    let on_chip = roomy.tile(&recurrence).expect("tile");
    let off_chip = tiles.tile(&recurrence).expect("tile");
    eprintln!("recurrence b10 u50: {on_chip} (48 KiB) against {off_chip} (16 KiB)");
    assert!(on_chip.shared && !off_chip.shared);

    // A layer wider than the WebGPU workgroup (300 units, one lane each by the GPU default) still gets a
    // legal block: fewer lanes, more units each.
    let wide_layer = Product::Recurrence {
        batch: 10,
        units: 300,
        steps: 60,
    };
    let t = tiles
        .tile(&wide_layer)
        .expect("a legal block for 300 units");
    eprintln!("recurrence b10 u300 under the WebGPU limits: {t}");
    assert!(
        t.wgx <= 256 && t.wgx * t.wgy <= 256 && t.cols * t.wgx >= 300,
        "{t}"
    );
}

/// An adapter that reports a 64 GiB storage binding (Metal reports its whole buffer size, tens of GiB on
/// a large Mac): the plan still keeps every buffer within 4 GiB, so no u32 index a kernel computes wraps.
/// Before the clamp this plan put 64 GiB / per-model bytes models in one chunk, and the largest buffer's
/// f32 indices ran to 2³⁴.
#[test]
fn a_64_gib_binding_is_clamped_so_u32_indices_fit() {
    let gib = 1u64 << 30;
    let huge = wgpu::Limits {
        max_storage_buffer_binding_size: 64 * gib,
        max_buffer_size: 64 * gib,
        max_compute_workgroups_per_dimension: 65535,
        ..wgpu::Limits::default()
    };
    let tiles = Tiles::new(AdapterClass::Integrated, tile_limits(32768, 1024));
    // A large seed ensemble's shape: a 128-unit model on long windows and big batches.
    let layout = ParamLayout::new(
        &ModelSpec::parse("lstm:128:seq,dropout:0.2,lstm:128,dense:1", 8).expect("spec"),
    );
    let (batch, lookback) = (512, 240);
    let paper = plan(&huge, &tiles, &layout, batch, lookback);
    let largest = paper.models_per_chunk as u64 * paper.per_model_bytes;
    eprintln!(
        "64 GiB binding reported: {} models per chunk of {} bytes each, largest buffer {} bytes ({:.2} GiB), \
         largest f32 index {}",
        paper.models_per_chunk,
        paper.per_model_bytes,
        largest,
        largest as f64 / gib as f64,
        largest / 4 - 1
    );
    assert_eq!(
        gpulstm::gpu::shader_structs::binding_bytes(&huge),
        4 * gib,
        "the binding the engine plans by"
    );
    assert!(paper.models_per_chunk >= 1);
    assert!(largest <= 4 * gib, "largest buffer {largest} bytes");
    // Scalar views index floats: 4 GiB of them stay below 2³⁰, so even ×4 of an index fits u32.
    assert!(largest / 4 <= 1 << 30);
    // The clamp is what binds here: without it the grid alone would allow far more models.
    assert!((paper.models_per_chunk as u64) < 64 * gib / paper.per_model_bytes);
}

/// The products the plan lists are the ones a built engine launches, in the same order.
#[test]
fn the_plan_on_paper_is_the_engine_built() {
    let Some(gpu) = common::gpu_or_skip("the_plan_on_paper_is_the_engine_built") else {
        return;
    };
    let optim = Optim {
        adam: AdamConfig::default(),
        patience: 1,
        stopping: gpulstm::fit::EarlyStopRule::Keras37,
    };
    let small = Problem::small();
    for (layout, batch, lookback) in [
        (report_layout(), 10, 60),
        (report_layout(), 3, 7),
        (small.layout.clone(), small.batch, small.lookback),
    ] {
        let f = layout.spec.input_size;
        let shape = EngineShape {
            models: 2,
            batch,
            lookback,
            features: f,
            max_train_len: 1,
            max_eval_len: 1,
            epochs: 1,
        };
        let rows = lookback + 2;
        let engine = BatchEngine::new(
            &gpu,
            &layout,
            shape,
            &optim,
            &Tiles::defaults(&gpu),
            (&vec![0.0; rows * f], &vec![0.0; rows]),
        )
        .expect("engine");
        let built = gpulstm::gpu::tune::step_products(&engine);
        assert_eq!(
            step_products(&layout, batch, lookback),
            built,
            "{} batch {batch} look-back {lookback}",
            layout.spec.to_spec_string()
        );
    }
}

/// The adapter's limits with the storage binding cut to `binding` bytes.
fn binding_cut(adapter: &wgpu::Limits, binding: u64) -> LimitSet {
    LimitSet::Custom(Box::new(wgpu::Limits {
        max_storage_buffer_binding_size: binding,
        ..adapter.clone()
    }))
}

/// The adapter's limits with the workgroup memory cut to the WebGPU default, 16 KiB: below what a
/// 40-unit LSTM's U takes (25.6 KB).
fn workgroup_memory_cut(adapter: &wgpu::Limits) -> LimitSet {
    LimitSet::Custom(Box::new(wgpu::Limits {
        max_compute_workgroup_storage_size: 16384,
        ..adapter.clone()
    }))
}

/// Walk-forward on the sample under the adapter's limits and under a binding just big enough for the
/// buffers all models share (the raw series, Adam's step sizes) and two models: a few models per chunk
/// instead of all of them, and the same results bit for bit.
#[test]
fn lower_limits_change_the_chunks_not_the_results() {
    let Some(gpu) = common::gpu_or_skip("lower_limits_change_the_chunks_not_the_results") else {
        return;
    };
    let series = load_sample(&LoadOptions::default()).expect("sample");
    let splits = 12;
    let spec = common::runs::spec(Protocol::WalkForward, splits);
    let (batch, lookback) = (spec.hyper.batch_size, spec.splits.lookback);
    let filter = std::env::var("GPULSTM_ADAPTER").ok();
    let per_model = 4 * largest_per_model(&spec.layout, batch, lookback) as u64;
    let data = 4 * (series.len() * series.feature_names.len()) as u64;
    let shared = data.max(gpulstm::gpu::engine::SHARED_TABLE_BYTES);
    let limits = binding_cut(&gpu.adapter_limits, shared.max(2 * per_model));
    drop(gpu);
    let quiet = |_: gpulstm::train::Progress| {};
    let mut roomy = GpuTrainer::open(filter.as_deref(), &LimitSet::Adapter).expect("adapter");
    let mut tight = GpuTrainer::open(filter.as_deref(), &limits).expect("lowered limits");
    let chunks = |t: &GpuTrainer| t.chunk_models(&spec.layout, &spec.hyper, lookback);
    eprintln!(
        "models per chunk: {} with the adapter's limits, {} with a binding of {} bytes",
        chunks(&roomy),
        chunks(&tight),
        tight.gpu().limits.max_storage_buffer_binding_size
    );
    assert!(
        chunks(&tight) < splits,
        "the models take more than one chunk"
    );
    assert!(chunks(&roomy) >= splits);
    let a = run(&series, &spec, &mut roomy, &quiet).expect("run with the adapter's limits");
    let b = run(&series, &spec, &mut tight, &quiet)
        .unwrap_or_else(|e| panic!("run with lowered limits: {e:#}"));
    assert_eq!(a.splits.len(), splits);
    for (x, y) in a.splits.iter().zip(&b.splits) {
        assert_eq!(x.history, y.history, "split {}", x.split.index);
        assert_eq!(x.val_pred, y.val_pred, "split {}", x.split.index);
        assert_eq!(x.train_pred, y.train_pred, "split {}", x.split.index);
    }
}

/// A block shape that keeps U in workgroup memory where the device has room: under lowered workgroup
/// memory the tile rules drop it, and the fit computes the same numbers bit for bit.
#[test]
fn lower_limits_change_the_tiles_not_the_results() {
    let Some(gpu) = common::gpu_or_skip("lower_limits_change_the_tiles_not_the_results") else {
        return;
    };
    let pb = Problem {
        layout: ParamLayout::new(
            &ModelSpec::parse(
                "lstm:40:seq,dropout:0.3,lstm:5,dropout:0.2,dense:3,dense:1",
                3,
            )
            .expect("spec"),
        ),
        // Small blocks: quick to compile.
        batch: 4,
        ..Problem::small()
    };
    if gpu.adapter_limits.max_compute_workgroup_storage_size < 25600 {
        eprintln!(
            "SKIPPED: {} has {} bytes of workgroup memory, too few for a 40-unit U on chip",
            gpu.summary.name, gpu.adapter_limits.max_compute_workgroup_storage_size
        );
        return;
    }
    let limits = workgroup_memory_cut(&gpu.adapter_limits);
    let low = common::gpu_or_skip_with("lower_limits_change_the_tiles_not_the_results", &limits)
        .expect("the adapter opened a moment ago");
    let recurrence = Product::Recurrence {
        batch: pb.batch,
        units: 40,
        steps: pb.lookback,
    };
    let fit = |gpu: &gpulstm::gpu::Gpu| {
        // U on chip, h through memory: the variant whose legality depends on the workgroup memory.
        let wanted = Tile {
            shared: true,
            subgroup: false,
            step_tile: false,
            ..Tiles::defaults(gpu)
                .tile(&recurrence)
                .expect("a default tile")
        };
        let tiles = Tiles::defaults(gpu).with(&recurrence, wanted);
        let chosen = tiles.tile(&recurrence).expect("a legal tile");
        let optim = pb.optim(2);
        let mut engine = pb.engine_with(gpu, 3, &optim, &tiles).expect("engine");
        engine.fit(false, |_, _| {}).expect("fit");
        engine.evaluate(false, false);
        let out = (
            engine.read_params().expect("params"),
            engine.read_predictions().expect("predictions"),
        );
        (chosen, out)
    };
    let (roomy_tile, roomy) = fit(&gpu);
    let (tight_tile, tight) = fit(&low);
    eprintln!(
        "recurrence b{} u40: {roomy_tile} against {tight_tile}",
        pb.batch
    );
    assert!(roomy_tile.shared, "{roomy_tile}");
    assert!(!tight_tile.shared, "{tight_tile}");
    assert_eq!(roomy, tight);
}

/// The discrete-GPU defaults (U and each step's h, or dz, in workgroup memory with workgroup barriers in
/// the time loop; one batch row per BPTT thread) train on this adapter to the same numbers, bit for bit,
/// as the adapter's own defaults with the same blocks' contraction order, and within the engines'
/// bounds otherwise: the memory placement changes where values wait, never what is summed.
#[test]
fn the_discrete_defaults_with_the_step_on_chip_train_like_the_adapters_own() {
    let Some(gpu) = common::gpu_or_skip("the_discrete_defaults_with_the_step_on_chip_train") else {
        return;
    };
    let pb = Problem {
        batch: 6,
        ..Problem::small()
    };
    let limits = TileLimits::of(&gpu);
    let discrete = Tiles::new(AdapterClass::Discrete, limits);
    let products = step_products(&pb.layout, pb.batch, pb.lookback);
    let on_chip: Vec<String> = products
        .iter()
        .filter_map(|p| {
            discrete
                .tile(p)
                .filter(|t| t.step_tile)
                .map(|t| format!("{}: {t}", p.key()))
        })
        .collect();
    eprintln!("step state on chip: {on_chip:#?}");
    assert!(
        on_chip.iter().any(|k| k.starts_with("recurrence"))
            && on_chip.iter().any(|k| k.starts_with("bptt")),
        "the discrete defaults put the step on chip in both recurrent kernels: {on_chip:?}"
    );
    let fit = |tiles: &Tiles| {
        let optim = pb.optim(2);
        let mut engine = pb.engine_with(&gpu, 3, &optim, tiles).expect("engine");
        engine.fit(false, |_, _| {}).expect("fit");
        engine.evaluate(false, false);
        (
            engine.read_params().expect("params"),
            engine.read_predictions().expect("predictions"),
        )
    };
    let (own, chip) = (fit(&Tiles::defaults(&gpu)), fit(&discrete));
    let worst = |a: &[f32], b: &[f32]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max)
    };
    let (dp, dy) = (worst(&own.0, &chip.0), worst(&own.1, &chip.1));
    eprintln!("adapter defaults against discrete defaults: params {dp:e}, predictions {dy:e}");
    // Two optimiser steps of f32 sums in other orders (the subgroup variant against the memory one):
    // differences of a few ulps of weights of order 1, far below what a lost h or dz would cause (O(0.1)).
    assert!(dp < 1e-4 && dy < 1e-4, "params {dp:e}, predictions {dy:e}");
}
