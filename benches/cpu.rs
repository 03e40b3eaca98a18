//! `cargo bench --bench cpu`: the CPU engine's optimiser step for the report's model (lstm:50:seq,
//! dropout, lstm:50, dropout, dense:25, dense:1; batch 10, T = 60, 5 features) on every core.
//!
//! For M = 1, 10, 100, 988 models (override with `GPULSTM_BENCH_MODELS=1,10`), in each of
//! `GPULSTM_BENCH_ROUNDS` (default 5) interleaved rounds: the machine's FMA peak on every core (no
//! loads, [`fma_peak`]); one training step of all M models (`train_step`: gather, forward with dropout,
//! loss, backward, Adam; models split evenly over the cores, each model its own weights and Adam state);
//! the yardstick: the same step's products alone, same shapes, same SIMD path; and, at the middle model
//! count, the step on every SIMD path this CPU has. Medians over rounds; the load average before and
//! after, with a warning when the machine was busy. Writes `target/bench/cpu.json`.

mod common;

use common::loadavg;
use gpulstm::cpu::network::Network;
use gpulstm::cpu::simd::{isa, Isa};
use gpulstm::cpu::train_loop::{train_step, CpuModel, CpuSeries, Scratch};
use gpulstm::cpu::yardstick::{
    fma_peak, fma_peak_flops, products_flops, step_products, ProductBuffers, StepProduct,
};
use gpulstm::fit::{AdamConfig, EarlyStopRule, Hyper};
use gpulstm::gpu::profile::median;
use gpulstm::model::{init_params, ModelSpec, ParamLayout, DEFAULT_LAYERS};
use std::time::Instant;

const T: usize = 60;
const B: usize = 10;
const F: usize = 5;
const ROWS: usize = 400;
const FMA_ITERS: usize = 20_000_000;

fn env_list(name: &str, default: &[usize]) -> Vec<usize> {
    std::env::var(name)
        .ok()
        .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .filter(|v: &Vec<usize>| !v.is_empty())
        .unwrap_or_else(|| default.to_vec())
}

/// A price-like synthetic series, scaled into [0, 1].
fn series() -> CpuSeries {
    let mut x = Vec::with_capacity(ROWS * F);
    let mut y = Vec::with_capacity(ROWS);
    for r in 0..ROWS {
        let p = 0.5 + 0.3 * (r as f32 * 0.05).sin();
        x.extend((0..F).map(|j| p * (1.0 + 0.01 * j as f32)));
        y.push(p);
    }
    CpuSeries {
        x,
        y,
        features: F,
        lookback: T,
    }
}

/// One worker's buffers.
struct Worker {
    net: Network,
    scratch: Scratch,
    products: ProductBuffers,
}

/// Runs `work(worker, model)` for models `0..m`, split evenly over the workers, on every core at once.
fn on_workers(
    workers: &mut [Worker],
    models: &mut [CpuModel],
    work: &(dyn Fn(&mut Worker, usize, &mut CpuModel) + Sync),
) {
    let per = models.len().div_ceil(workers.len());
    rayon::scope(|s| {
        for (w, (worker, chunk)) in workers
            .iter_mut()
            .zip(models.chunks_mut(per.max(1)))
            .enumerate()
        {
            s.spawn(move |_| {
                for (k, model) in chunk.iter_mut().enumerate() {
                    work(worker, w * per + k, model);
                }
            });
        }
    });
}

fn step_ms(
    workers: &mut [Worker],
    models: &mut [CpuModel],
    hyper: &Hyper,
    series: &CpuSeries,
    reps: usize,
) -> f64 {
    let started = Instant::now();
    for _ in 0..reps {
        on_workers(workers, models, &|w, id, state| {
            let start = (id * 7) % (ROWS - T - B);
            w.scratch.samples.clear();
            w.scratch.samples.extend(start..start + B);
            train_step(&mut w.net, hyper, id as u32, state, series, &mut w.scratch);
        });
    }
    started.elapsed().as_secs_f64() * 1e3 / reps as f64
}

fn yardstick_ms(
    workers: &mut [Worker],
    models: &mut [CpuModel],
    products: &[StepProduct],
    reps: usize,
) -> f64 {
    let started = Instant::now();
    for _ in 0..reps {
        on_workers(workers, models, &|w, _, _| {
            let isa = w.net.isa;
            w.products.run(isa, products)
        });
    }
    started.elapsed().as_secs_f64() * 1e3 / reps as f64
}

/// GFLOP/s of [`fma_peak`] on every core at once.
fn fma_gflops(isa: Isa, threads: usize) -> f64 {
    let started = Instant::now();
    rayon::scope(|s| {
        for _ in 0..threads {
            s.spawn(move |_| {
                std::hint::black_box(fma_peak(isa, FMA_ITERS));
            });
        }
    });
    fma_peak_flops(isa, FMA_ITERS) * threads as f64 / started.elapsed().as_secs_f64() / 1e9
}

fn workers(isa: Isa, layout: &ParamLayout, products: &[StepProduct], n: usize) -> Vec<Worker> {
    (0..n)
        .map(|_| Worker {
            net: Network::new(isa, layout, T, B),
            scratch: Scratch::default(),
            products: ProductBuffers::new(products),
        })
        .collect()
}

fn main() {
    let isa = isa();
    let counts = env_list("GPULSTM_BENCH_MODELS", &[1, 10, 100, 988]);
    let rounds = env_list("GPULSTM_BENCH_ROUNDS", &[5])[0].max(1);
    let threads = rayon::current_num_threads();
    let layout = match ModelSpec::parse(DEFAULT_LAYERS, F) {
        Ok(spec) => ParamLayout::new(&spec),
        Err(e) => panic!("the default layers parse: {e}"),
    };
    let hyper = Hyper {
        epochs: 1,
        batch_size: B,
        patience: 5,
        adam: AdamConfig::default(),
        seed: 42,
        stopping: EarlyStopRule::Keras37,
    };
    let series = series();
    let most = counts.iter().copied().max().unwrap_or(1);
    let mut models: Vec<CpuModel> = (0..most)
        .map(|m| CpuModel::new(&init_params(&layout, 42, m as u32)))
        .collect();
    let products = step_products(&layout, T, B);
    let mut pool = workers(isa, &layout, &products, threads);
    let paths = Isa::available();
    let mut path_pools: Vec<Vec<Worker>> = paths
        .iter()
        .map(|&p| workers(p, &layout, &products, threads))
        .collect();
    let middle = counts[counts.len() / 2];

    let (load_before, line_before) = loadavg();
    println!(
        "CPU engine: SIMD path {}, {threads} threads; load average before: {line_before}",
        isa.name()
    );
    if load_before > 0.5 {
        println!("warning: the machine is busy (load {load_before:.2}); ratios within this run still hold, absolute figures do not");
    }
    let step_flops = layout.step_flops(T, B);
    let yard_flops = products_flops(&products);
    println!("model {DEFAULT_LAYERS}, batch {B}, T {T}, {F} features: {:.1} MFLOP per model per step ({:.1} as the products run, padding included)", step_flops / 1e6, yard_flops / 1e6);

    let (mut fma, mut steps, mut yards) = (
        Vec::new(),
        vec![Vec::new(); counts.len()],
        vec![Vec::new(); counts.len()],
    );
    let mut by_path = vec![Vec::new(); paths.len()];
    for _ in 0..rounds {
        fma.push(fma_gflops(isa, threads));
        for (c, &n) in counts.iter().enumerate() {
            let reps = (200 / n).max(1);
            steps[c].push(step_ms(&mut pool, &mut models[..n], &hyper, &series, reps));
            yards[c].push(yardstick_ms(&mut pool, &mut models[..n], &products, reps));
        }
        for (p, path_pool) in path_pools.iter_mut().enumerate() {
            let reps = (200 / middle).max(1);
            by_path[p].push(step_ms(
                path_pool,
                &mut models[..middle],
                &hyper,
                &series,
                reps,
            ));
        }
    }
    let (load_after, line_after) = loadavg();
    let peak = median(&fma);
    println!("FMA peak (all {threads} threads, no loads): {peak:.1} GFLOP/s (median of {rounds} rounds)\n");
    println!("| models | ms per step | GFLOP per step | GFLOP/s | % of FMA peak | products alone GFLOP/s | step % of products alone |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    let mut runs = Vec::new();
    for (c, &n) in counts.iter().enumerate() {
        let (ms, yms) = (median(&steps[c]), median(&yards[c]));
        let gflops = step_flops * n as f64 / ms / 1e6;
        let ygflops = yard_flops * n as f64 / yms / 1e6;
        println!(
            "| {n} | {ms:.2} | {:.3} | {gflops:.1} | {:.0}% | {ygflops:.1} | {:.0}% |",
            step_flops * n as f64 / 1e9,
            100.0 * gflops / peak,
            100.0 * yms / ms
        );
        runs.push(serde_json::json!({
            "models": n, "ms_per_step": ms, "gflops_per_step": step_flops * n as f64 / 1e9,
            "gflops": gflops, "percent_of_fma_peak": 100.0 * gflops / peak, "yardstick_gflops": ygflops,
        }));
    }
    println!("\nthe step of {middle} models on each SIMD path of this CPU:");
    let mut path_json = serde_json::Map::new();
    for (p, path) in paths.iter().enumerate() {
        let ms = median(&by_path[p]);
        println!(
            "- {}: {ms:.2} ms per step, {:.1} GFLOP/s",
            path.name(),
            step_flops * middle as f64 / ms / 1e6
        );
        path_json.insert(path.name().into(), serde_json::json!(ms));
    }
    println!("\nload average after: {line_after}");
    if load_after > threads as f64 + 0.5 {
        println!("warning: other processes ran during the bench (load {load_after:.2})");
    }
    let json = serde_json::json!({
        "isa": isa.name(), "threads": threads, "loadavg_before": line_before, "loadavg_after": line_after,
        "yardsticks": { "fma_peak": peak }, "runs": runs, "ms_per_step_by_path": { "models": middle, "paths": path_json },
    });
    let _ = std::fs::create_dir_all("target/bench");
    match std::fs::write("target/bench/cpu.json", format!("{json:#}\n")) {
        Ok(()) => println!("wrote target/bench/cpu.json"),
        Err(e) => println!("could not write target/bench/cpu.json: {e}"),
    }
}
