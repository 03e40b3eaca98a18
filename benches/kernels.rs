//! `cargo bench`: the report's model (lstm:50:seq, dropout, lstm:50, dropout, dense:25, dense:1; batch 10,
//! T = 60, 5 features) on the wgpu adapter, every kernel beside a yardstick of its own product shape.
//!
//! For M = 1, 10, 100, 988 models (override with `GPULSTM_BENCH_MODELS=1,10`), in each of
//! `GPULSTM_BENCH_ROUNDS` (default 5) interleaved rounds: one optimiser step of all M models (wall clock;
//! every chunk where M exceeds what one engine holds), the same step with a GPU timestamp around every
//! dispatch, then the yardstick of every product the step computes (shaders/yardsticks.wgsl: the plain
//! row-major product of the same shape, best of several blocks) and the global yardsticks (a 1024³ vec4
//! matmul, the FMA-only peak). Medians over rounds; the load average before and after, with a warning when
//! the machine was busy. Prints per-kernel times, GFLOP/s against the kernel's yardstick, FLOP and bytes
//! per step counted from the shapes, and an on-paper roofline for two named GPUs; writes
//! `target/bench/kernels.json`.

mod common;

use common::loadavg;
use std::collections::BTreeMap;
use std::time::Instant;

use gpulstm::fit::{AdamConfig, SplitWindows, Window};
use gpulstm::gpu::engine::{max_models_per_engine, BatchEngine, EngineShape, ModelSetup, Optim};
use gpulstm::gpu::kernel::{submit, Cost, Launch};
use gpulstm::gpu::profile::{launch_ms, median, roofline_ms, yardstick_shape, PaperGpu, H100, M2};
use gpulstm::gpu::tiles::{Tile, TileLimits, Tiles};
use gpulstm::gpu::yardstick::{candidate_tiles, FmaPeak, MatShape, Yardstick};
use gpulstm::gpu::Gpu;
use gpulstm::model::{init_params, ModelSpec, ParamLayout, DEFAULT_LAYERS};

const T: usize = 60;
const B: usize = 10;
const F: usize = 5;

fn engines<'g>(
    gpu: &'g Gpu,
    layout: &ParamLayout,
    tiles: &Tiles,
    models: usize,
) -> Vec<BatchEngine<'g>> {
    let per = max_models_per_engine(gpu, layout, B, T).max(1);
    let rows = 400;
    let series: Vec<f32> = (0..rows * F)
        .map(|i| 100.0 + (i as f32 * 0.37).sin() * 10.0)
        .collect();
    let target: Vec<f32> = (0..rows)
        .map(|i| 100.0 + (i as f32 * 1.85).sin() * 10.0)
        .collect();
    let optim = Optim {
        adam: AdamConfig::default(),
        patience: 5,
        stopping: gpulstm::fit::EarlyStopRule::Keras37,
    };
    let scaler: Vec<f32> = (0..=F).flat_map(|_| [90.0f32, 1.0 / 20.0]).collect();
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
        let mut engine = BatchEngine::new(gpu, layout, shape, &optim, tiles, (&series, &target))
            .expect("engine");
        let setups: Vec<ModelSetup> = (0..n)
            .map(|m| ModelSetup {
                model_id: (start + m) as u32,
                seed: 42,
                windows: SplitWindows {
                    train: Window {
                        start: m % 100,
                        len: 200,
                    },
                    val: Window {
                        start: m % 100 + 200,
                        len: 10,
                    },
                },
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

/// The fastest of `candidate_tiles` for `shape` (one timed run each after a warm-up), checked against the
/// CPU: its launch.
fn best_yardstick(gpu: &Gpu, shape: MatShape, limits: TileLimits, extra: &[Tile]) -> Launch {
    let y = Yardstick::new(gpu, shape, 5).expect("yardstick");
    let mut tiles = candidate_tiles(&shape, limits);
    tiles.extend_from_slice(extra);
    let mut best: Option<(f64, Launch)> = None;
    for tile in tiles {
        let launch = y.launch(gpu, tile).expect("yardstick launch");
        submit(gpu, &[&launch]);
        let ms = launch_ms(gpu, &[&launch]).expect("time")[0];
        if best.as_ref().is_none_or(|(b, _)| ms < *b) {
            best = Some((ms, launch));
        }
    }
    let (_, launch) = best.expect("at least one candidate");
    let r = y.check(gpu, &launch).expect("yardstick check");
    assert!(r.pass, "yardstick {} wrong: max_abs {}", r.what, r.max_abs);
    launch
}

fn gflops(flops: f64, ms: f64) -> f64 {
    if ms > 0.0 {
        flops / ms / 1e6
    } else {
        0.0
    }
}

/// Per kernel label of one step (summed over chunks): launches, ms, FLOPs, bytes; and the yardstick of
/// chunk 0's product.
#[derive(Default, Clone)]
struct KernelRow {
    calls: usize,
    ms: Vec<f64>,
    cost: Cost,
    yardstick: Option<(MatShape, Vec<f64>)>,
}

struct Run {
    models: usize,
    chunks: usize,
    step_ms: Vec<f64>,
    dispatches: f64,
    flops: f64,
    kernels: Vec<(String, KernelRow)>,
}

fn bench_models(
    gpu: &Gpu,
    layout: &ParamLayout,
    tiles: &Tiles,
    m: usize,
    rounds: usize,
    globals: &mut [(&str, f64, Launch, Vec<f64>)],
) -> Run {
    let mut es = engines(gpu, layout, tiles, m);
    for e in es.iter_mut() {
        e.train_step(0);
    }
    gpu.wait().expect("wait");
    // Rows by label, in step order; yardsticks for chunk 0's products.
    let mut rows: Vec<(String, KernelRow)> = Vec::new();
    let mut yardsticks: BTreeMap<String, Launch> = BTreeMap::new();
    for (ci, e) in es.iter().enumerate() {
        for l in e.step_launches() {
            let at = match rows.iter().position(|(n, _)| *n == l.label) {
                Some(i) => i,
                None => {
                    rows.push((l.label.clone(), KernelRow::default()));
                    rows.len() - 1
                }
            };
            let row = &mut rows[at].1;
            row.calls += 1;
            row.cost.flops += l.cost.flops;
            row.cost.bytes += l.cost.bytes;
            if let (0, Some((product, models))) = (ci, l.cost.product) {
                let shape = yardstick_shape(&product, models);
                let key = format!("{shape:?}");
                yardsticks
                    .entry(key)
                    .or_insert_with(|| best_yardstick(gpu, shape, tiles.limits, &[]));
                row.cost.product = l.cost.product;
                row.yardstick = Some((shape, Vec::new()));
            }
        }
    }
    let per_step_flops = layout.step_flops(T, B) * m as f64;
    let mut step_ms = Vec::new();
    let mut dispatches = 0.0;
    for round in 0..rounds {
        let before: u64 = es.iter().map(|e| e.dispatches).sum();
        let t0 = Instant::now();
        for e in es.iter_mut() {
            e.train_step(1 + round % 19);
        }
        gpu.wait().expect("wait");
        step_ms.push(t0.elapsed().as_secs_f64() * 1e3);
        dispatches = (es.iter().map(|e| e.dispatches).sum::<u64>() - before) as f64;
        let mut by_label: BTreeMap<String, f64> = BTreeMap::new();
        for e in &es {
            let launches: Vec<&Launch> = e.step_launches().iter().collect();
            for (l, ms) in launches
                .iter()
                .zip(launch_ms(gpu, &launches).expect("profile"))
            {
                *by_label.entry(l.label.clone()).or_default() += ms;
            }
        }
        for (label, row) in rows.iter_mut() {
            row.ms.push(by_label[label]);
            if let Some((shape, ms)) = row.yardstick.as_mut() {
                let y = &yardsticks[&format!("{shape:?}")];
                ms.push(launch_ms(gpu, &[y]).expect("yardstick")[0]);
            }
        }
        for (_, _, launch, ms) in globals.iter_mut() {
            ms.push(launch_ms(gpu, &[launch]).expect("global yardstick")[0]);
        }
    }
    Run {
        models: m,
        chunks: es.len(),
        step_ms,
        dispatches,
        flops: per_step_flops,
        kernels: rows,
    }
}

fn print_kernels(run: &Run) {
    let total: f64 = run.kernels.iter().map(|r| median(&r.1.ms)).sum();
    println!(
        "\nper kernel, one step of {} models ({} chunk(s); GPU timestamps, median of {} rounds; \
         yardstick = the plain vec4 product of the kernel's shape, same rounds):",
        run.models,
        run.chunks,
        run.step_ms.len()
    );
    println!("| kernel | dispatches | ms | share | GFLOP | GFLOP/s | yardstick GFLOP/s | % of yardstick | MB moved |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (label, row) in &run.kernels {
        let ms = median(&row.ms);
        let rate = gflops(row.cost.flops, ms);
        let (yard, pct) = match &row.yardstick {
            Some((shape, yms)) => {
                let y = gflops(shape.flops(), median(yms));
                // The kernel's rate on chunk 0 against chunk 0's yardstick (the same models).
                (format!("{y:.2}"), format!("{:.0}%", 100.0 * rate / y))
            }
            None => ("—".into(), "—".into()),
        };
        println!(
            "| {label} | {} | {ms:.2} | {:.1}% | {:.3} | {} | {yard} | {pct} | {:.1} |",
            row.calls,
            100.0 * ms / total,
            row.cost.flops / 1e9,
            if row.cost.flops > 0.0 {
                format!("{rate:.2}")
            } else {
                "—".into()
            },
            row.cost.bytes / 1e6
        );
    }
}

fn print_roofline(run: &Run) {
    let gpus: [PaperGpu; 2] = [H100, M2];
    println!(
        "\nroofline estimate of one step of {} models (on paper, not measured: max(FLOP / peak, bytes / \
         bandwidth) per dispatch, summed; counts every tensor once, as if reuse stayed on chip; ignores \
         launch overhead, occupancy and latency):",
        run.models
    );
    for g in gpus {
        println!(
            "- {}: assumed {:.1} TFLOP/s FP32, {:.0} GB/s",
            g.name,
            g.flops / 1e12,
            g.bytes_per_second / 1e9
        );
    }
    println!(
        "| kernel | GFLOP | MB | {} ms | {} ms |",
        gpus[0].name, gpus[1].name
    );
    println!("|---|---:|---:|---:|---:|");
    let mut totals = [0.0; 2];
    for (label, row) in &run.kernels {
        let est: Vec<f64> = gpus.iter().map(|g| roofline_ms(&row.cost, g)).collect();
        totals[0] += est[0];
        totals[1] += est[1];
        println!(
            "| {label} | {:.3} | {:.1} | {:.3} | {:.2} |",
            row.cost.flops / 1e9,
            row.cost.bytes / 1e6,
            est[0],
            est[1]
        );
    }
    println!(
        "| **step** | {:.1} | — | {:.2} | {:.1} |",
        run.flops / 1e9,
        totals[0],
        totals[1]
    );
}

fn json_run(run: &Run) -> serde_json::Value {
    let ms = median(&run.step_ms);
    serde_json::json!({
        "models": run.models,
        "chunks": run.chunks,
        "ms_per_step": ms,
        "gflops_per_step": run.flops / 1e9,
        "gflops": gflops(run.flops, ms),
        "dispatches_per_step": run.dispatches,
        "kernels": run.kernels.iter().map(|(label, row)| {
            let kms = median(&row.ms);
            serde_json::json!({
                "name": label,
                "dispatches": row.calls,
                "ms": kms,
                "gflop": row.cost.flops / 1e9,
                "gflops": gflops(row.cost.flops, kms),
                "bytes": row.cost.bytes,
                "yardstick_gflops": row.yardstick.as_ref().map(|(s, yms)| gflops(s.flops(), median(yms))),
                "roofline_ms": { "h100": roofline_ms(&row.cost, &H100), "m2": roofline_ms(&row.cost, &M2) },
            })
        }).collect::<Vec<_>>(),
    })
}

fn main() {
    // `cargo test` also runs bench targets' main with --bench absent; do nothing then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let (load_before, before_text) = loadavg();
    println!("load average before: {before_text}");
    if load_before > 0.5 {
        println!(
            "WARNING: the machine was busy before the bench (1-minute load {load_before:.2}); \
             load-bound kernels slow down far more than FMA-bound ones, so ratios may be off"
        );
    }
    let gpu = match Gpu::new(std::env::var("GPULSTM_ADAPTER").ok().as_deref()) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("bench skipped: {e}");
            return;
        }
    };
    let tiles = Tiles::for_gpu(&gpu);
    println!(
        "adapter: {} ({}, {}); timestamps: {}",
        gpu.summary.name, gpu.summary.backend, gpu.summary.device_type, gpu.timestamps
    );
    let spec = ModelSpec::parse(DEFAULT_LAYERS, F).expect("default spec");
    let layout = ParamLayout::new(&spec);
    let env = |k: &str| std::env::var(k).ok();
    let models: Vec<usize> = env("GPULSTM_BENCH_MODELS")
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 10, 100, 988]);
    let rounds: usize = env("GPULSTM_BENCH_ROUNDS")
        .and_then(|s| s.parse().ok())
        .unwrap_or(5)
        .max(1);

    // The global yardsticks, timed in every round beside the engine.
    let wide = Tile {
        rows: 16,
        cols: 8,
        wgx: 8,
        wgy: 1,
        shared: false,
        subgroup: false,
    };
    let square = MatShape::square(1024);
    let matmul = best_yardstick(&gpu, square, tiles.limits, &[wide]);
    println!("matmul_1024_vec4 yardstick: {}", matmul.label);
    let peak = FmaPeak::new(&gpu, 256, 512, 3).expect("fma peak");
    assert!(peak.check(&gpu).expect("fma check").pass, "fma_peak wrong");
    let mut globals = vec![
        ("matmul_1024_vec4", square.flops(), matmul, Vec::new()),
        ("fma_peak", peak.flops, peak.launch.clone(), Vec::new()),
    ];
    println!(
        "model {DEFAULT_LAYERS}, batch {B}, T {T}, {F} features: {:.1} MFLOP per model per step (unpadded \
         sizes; per-kernel GFLOP below count the padded products the kernels compute); {rounds} \
         interleaved rounds per model count",
        layout.step_flops(T, B) / 1e6
    );
    let mut runs = Vec::new();
    for &m in &models {
        runs.push(bench_models(&gpu, &layout, &tiles, m, rounds, &mut globals));
    }
    let rate = |i: usize| gflops(globals[i].1, median(&globals[i].3));
    let (mm, fma) = (rate(0), rate(1));
    println!("\nyardsticks (median over every round): matmul_1024_vec4 {mm:.2} GFLOP/s, fma_peak {fma:.2} GFLOP/s");
    println!("| models | chunks | ms per step | GFLOP per step | GFLOP/s | % of matmul_1024_vec4 | dispatches per step |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for run in &runs {
        let ms = median(&run.step_ms);
        let r = gflops(run.flops, ms);
        println!(
            "| {} | {} | {ms:.1} | {:.3} | {r:.2} | {:.0}% | {:.0} |",
            run.models,
            run.chunks,
            run.flops / 1e9,
            100.0 * r / mm,
            run.dispatches
        );
    }
    if let Some(last) = runs.last() {
        print_kernels(last);
        print_roofline(last);
    }
    let (load_after, load_text) = loadavg();
    println!("\nload average after: {load_text}");
    if load_after > 2.5 {
        println!("WARNING: other processes were busy during the bench (1-minute load {load_after:.2} on top of the bench's own)");
    }
    let json = serde_json::json!({
        "adapter": gpu.summary.name,
        "driver": gpu.summary.driver,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "rounds": rounds,
        "yardsticks": { "matmul_1024_vec4": mm, "fma_peak": fma },
        "runs": runs.iter().map(json_run).collect::<Vec<_>>(),
    });
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("bench");
    std::fs::create_dir_all(&dir).expect("target/bench");
    let path = dir.join("kernels.json");
    std::fs::write(&path, serde_json::to_string_pretty(&json).expect("json")).expect("write json");
    println!("wrote {}", path.display());
}
