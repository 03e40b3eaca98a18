//! `cargo bench`: the report's model (lstm:50:seq, dropout, lstm:50, dropout, dense:25, dense:1; batch 10,
//! T = 60, 5 features) on the wgpu adapter.
//!
//! Prints, for M = 1, 10, 100, 988 models (override with `GPULSTM_BENCH_MODELS=1,10`):
//! - wall time of one optimiser step of all M models (mean of `GPULSTM_BENCH_STEPS`, default 3, after one
//!   warm-up step), FLOPs counted analytically, GFLOP/s, dispatches per step;
//! - per-kernel GPU time of one step from timestamp queries, where the adapter supports them;
//! - the ceiling to compare against, on 1024×1024×1024: the engine's GEMM kernel and a plain matmul with
//!   16×16 register blocks (shaders/bench_probes.wgsl), the faster of the two being the ceiling; and the
//!   adapter's arithmetic peak (the same FMAs with no memory traffic), which says how far loads are from
//!   free on this adapter.
//!
//! Where M exceeds what one engine can hold on this adapter, the models are split into chunks exactly as
//! training does, and one step means one step of every chunk.
//! Timings on a software adapter (lavapipe) compare variants side by side, not absolute GPU speed.

use std::time::Instant;

use gpulstm::gpu::engine::{max_models_per_engine, Engine, EngineShape, ModelSetup, Optim};
use gpulstm::gpu::kernel::{Family, Launch};
use gpulstm::gpu::kernels::{gemm_family, probe_family};
use gpulstm::gpu::layout::{GemmParams, GEMM_TILE};
use gpulstm::gpu::Gpu;
use gpulstm::model::{init_params, LayerPlan, ModelSpec, ParamLayout, DEFAULT_LAYERS};

const T: usize = 60;
const B: usize = 10;
const F: usize = 5;

/// Multiply-adds ×2 of one optimiser step of one model (matmuls only; pointwise work is O(T·B·U)).
fn flops_per_model_step(layout: &ParamLayout) -> f64 {
    let (t, b) = (T as f64, B as f64);
    let mut total = 0.0;
    for (li, plan) in layout.layers.iter().enumerate() {
        match *plan {
            LayerPlan::Lstm { input, units, .. } => {
                let (i, u) = (input as f64, units as f64);
                let fwd = 2.0 * t * b * (i + u) * 4.0 * u;
                // dW, dU, dh through the recurrence, and dx for the layer below.
                let mut bwd = 2.0 * t * b * (i + u) * 4.0 * u + 2.0 * t * b * 4.0 * u * u;
                if li > 0 {
                    bwd += 2.0 * t * b * 4.0 * u * i;
                }
                total += fwd + bwd;
            }
            LayerPlan::Dense { input, units, .. } => {
                total += 3.0 * 2.0 * b * input as f64 * units as f64
            }
            LayerPlan::Dropout { .. } => {}
        }
    }
    total
}

fn engines<'g>(gpu: &'g Gpu, layout: &ParamLayout, models: usize) -> Vec<Engine<'g>> {
    let per = max_models_per_engine(gpu, layout, B, T).max(1);
    let rows = 400;
    let series: Vec<f32> = (0..rows * F)
        .map(|i| 100.0 + (i as f32 * 0.37).sin() * 10.0)
        .collect();
    let target: Vec<f32> = (0..rows)
        .map(|i| 100.0 + (i as f32 * 0.37 * F as f32).sin() * 10.0)
        .collect();
    let optim = Optim {
        lr: 1e-3,
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-7,
        patience: 5,
        seed: 42,
    };
    let mut out = Vec::new();
    let mut start = 0;
    while start < models {
        let n = per.min(models - start);
        let shape = EngineShape {
            models: n,
            batch: B,
            lookback: T,
            features: F,
            max_train_len: 200,
            max_eval_len: 200,
            epochs: 1,
        };
        let mut engine = Engine::new(gpu, layout, shape, &optim, &series, &target).expect("engine");
        let mut scaler = Vec::new();
        for _ in 0..=F {
            scaler.extend_from_slice(&[90.0f32, 1.0 / 20.0]);
        }
        let setups: Vec<ModelSetup> = (0..n)
            .map(|m| ModelSetup {
                model_id: (start + m) as u32,
                train_start: m % 100,
                train_len: 200,
                val_start: m % 100 + 200,
                val_len: 10,
                params: init_params(layout, 42, (start + m) as u32)
                    .iter()
                    .map(|&v| v as f32)
                    .collect(),
                scaler: scaler.clone(),
            })
            .collect();
        engine.load_models(&setups).expect("load");
        engine.begin_fit(false);
        engine.begin_epoch();
        out.push(engine);
        start += n;
    }
    out
}

/// GPU time of each launch of one step, in ms, summed by label.
fn profile_step(gpu: &Gpu, launches: &[Launch]) -> Vec<(&'static str, f64)> {
    let count = (launches.len() * 2) as u32;
    let qs = gpu.device.create_query_set(&wgpu::QuerySetDescriptor {
        label: Some("bench timestamps"),
        ty: wgpu::QueryType::Timestamp,
        count,
    });
    let resolve = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("timestamps"),
        size: count as u64 * 8,
        usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let mut encoder = gpu.device.create_command_encoder(&Default::default());
    for (i, l) in launches.iter().enumerate() {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some(l.label),
            timestamp_writes: Some(wgpu::ComputePassTimestampWrites {
                query_set: &qs,
                beginning_of_pass_write_index: Some(2 * i as u32),
                end_of_pass_write_index: Some(2 * i as u32 + 1),
            }),
        });
        l.record(&mut pass);
    }
    encoder.resolve_query_set(&qs, 0..count, &resolve, 0);
    gpu.queue.submit(Some(encoder.finish()));
    let bytes = gpu
        .read_bytes(&resolve, 0, count as u64 * 8)
        .expect("timestamps");
    let ticks: Vec<u64> = bytemuck::pod_collect_to_vec(&bytes);
    let period = gpu.queue.get_timestamp_period() as f64;
    let mut by_label: Vec<(&'static str, f64)> = Vec::new();
    for (i, l) in launches.iter().enumerate() {
        let ms = ticks[2 * i + 1].saturating_sub(ticks[2 * i]) as f64 * period / 1e6;
        match by_label.iter_mut().find(|(n, _)| *n == l.label) {
            Some(e) => e.1 += ms,
            None => by_label.push((l.label, ms)),
        }
    }
    by_label
}

/// GFLOP/s of `entry` of `family` on one 1024³ product (mean of 3 runs after a warm-up).
fn square_product_rate(gpu: &Gpu, family: &Family, entry: &'static str, tile: usize) -> f64 {
    let n = 1024usize;
    let p = GemmParams::row_major(n, n, n);
    let u = gpu.uniform("ceiling", &p);
    let a = gpu.storage_init("a", &vec![0.5f32; n * n]);
    let b = gpu.storage_init("b", &vec![0.25f32; n * n]);
    let c = gpu.storage("c", n * n);
    let bg = family.bind(gpu, &[&u, &a, &b, &c, &a]);
    let grid = [(n / tile) as u32, (n / tile) as u32, 1];
    let launch = Launch::new(family, entry, bg, grid);
    gpulstm::gpu::kernel::submit(gpu, &[&launch]);
    gpu.wait().expect("wait");
    let reps = 3;
    let t0 = Instant::now();
    for _ in 0..reps {
        gpulstm::gpu::kernel::submit(gpu, &[&launch]);
    }
    gpu.wait().expect("wait");
    let secs = t0.elapsed().as_secs_f64() / reps as f64;
    2.0 * (n * n * n) as f64 / secs / 1e9
}

/// The engine's GEMM kernel, the wide-block matmul and the FMA peak (GFLOP/s), on 1024³.
fn ceilings(gpu: &Gpu) -> (f64, f64, f64) {
    let gemm = gemm_family(gpu).expect("gemm kernels");
    let probes = probe_family(gpu).expect("probe kernels");
    (
        square_product_rate(gpu, &gemm, "main", GEMM_TILE),
        square_product_rate(gpu, &probes, "matmul_wide", 128),
        // fma_peak runs the FMAs of a 128×128 tile per workgroup too, without loading anything.
        square_product_rate(gpu, &probes, "fma_peak", 128),
    )
}

fn main() {
    // `cargo test` also runs bench targets' main with --bench absent; do nothing then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let gpu = match Gpu::new(std::env::var("GPULSTM_ADAPTER").ok().as_deref()) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("bench skipped: {e}");
            return;
        }
    };
    println!(
        "adapter: {} ({}, {}); timestamps: {}",
        gpu.summary.name, gpu.summary.backend, gpu.summary.device_type, gpu.timestamps
    );
    let spec = ModelSpec::parse(DEFAULT_LAYERS, F).expect("default spec");
    let layout = ParamLayout::new(&spec);
    let models: Vec<usize> = std::env::var("GPULSTM_BENCH_MODELS")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 10, 100, 988]);
    let steps: usize = std::env::var("GPULSTM_BENCH_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let (gemm_rate, wide_rate, peak) = ceilings(&gpu);
    let ceiling = gemm_rate.max(wide_rate);
    println!("1024³ matmul: engine gemm kernel (4×4 blocks) {gemm_rate:.2} GFLOP/s, plain matmul with 16×16 blocks {wide_rate:.2} GFLOP/s → ceiling {ceiling:.2} GFLOP/s");
    println!("arithmetic peak (same FMAs, no loads): {peak:.2} GFLOP/s");
    println!(
        "model {DEFAULT_LAYERS}, batch {B}, T {T}, {F} features: {:.1} MFLOP per model per step",
        flops_per_model_step(&layout) / 1e6
    );
    println!("| models | chunks | ms per step | GFLOP per step | GFLOP/s | % of matmul ceiling | dispatches per step |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    let mut profiled = None;
    for &m in &models {
        let mut es = engines(&gpu, &layout, m);
        for e in es.iter_mut() {
            e.train_step(0);
        }
        gpu.wait().expect("wait");
        let before: u64 = es.iter().map(|e| e.dispatches).sum();
        let t0 = Instant::now();
        for s in 0..steps {
            for e in es.iter_mut() {
                e.train_step(1 + s % 19);
            }
        }
        gpu.wait().expect("wait");
        let ms = t0.elapsed().as_secs_f64() * 1e3 / steps as f64;
        let dispatches =
            (es.iter().map(|e| e.dispatches).sum::<u64>() - before) as f64 / steps as f64;
        let gflop = flops_per_model_step(&layout) * m as f64 / 1e9;
        let rate = gflop / (ms / 1e3);
        println!(
            "| {m} | {} | {ms:.1} | {gflop:.3} | {rate:.2} | {:.0}% | {dispatches:.0} |",
            es.len(),
            100.0 * rate / ceiling
        );
        if gpu.timestamps && profiled.is_none() && m >= 10 {
            profiled = Some((m, profile_step(&gpu, es[0].step_launches())));
        }
    }
    if let Some((m, rows)) = profiled {
        let total: f64 = rows.iter().map(|r| r.1).sum();
        println!("\nper-kernel GPU time of one step, {m} models (timestamp queries, one pass per dispatch):");
        println!("| kernel | ms | share |");
        println!("|---|---:|---:|");
        for (label, ms) in rows {
            println!("| {label} | {ms:.2} | {:.0}% |", 100.0 * ms / total);
        }
    }
}
