//! The kernel profile `cargo bench --bench kernels` and `gpulstm bench` print and write as JSON: the
//! report's model (lstm:50:seq, dropout, lstm:50, dropout, dense:25, dense:1; batch 10, T = 60, 5
//! features) on one adapter, every kernel beside a yardstick of its own product shape.
//!
//! For each model count, in each of `rounds` interleaved rounds: one optimiser step of all the models
//! (wall clock; every chunk where they exceed what one engine holds), the same step with a GPU timestamp
//! around every dispatch, then the yardstick of every product the step computes (shaders/yardsticks.wgsl:
//! the plain row-major product of the same shape, best of several blocks) and the global yardsticks (a
//! 1024³ vec4 matmul, the FMA-only peak). Medians over rounds; the load average before and after. The
//! report has per-kernel times, GFLOP/s against the kernel's yardstick, FLOP and bytes per step counted
//! from the shapes, and on-paper estimates for named GPUs ([`super::roofline`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;

use super::context::{Gpu, GpuError};
use super::driver_cache::DriverCache;
use super::engine::{max_models_per_engine, BatchEngine, EngineShape, ModelSetup, Optim};
use super::kernel::{submit, Cost, Launch, Workgroup};
use super::profile::{launch_ms, median, yardstick_shape};
use super::roofline::{estimate, Estimate, PaperGpu, ASSUMPTIONS, PAPER_GPUS};
use super::tiles::{Tile, Tiles};
use super::yardstick::{candidate_tiles, FmaPeak, MatShape, Yardstick};
use crate::fit::{AdamConfig, EarlyStopRule, SplitWindows, Window};
use crate::model::{init_params, ModelSpec, ParamLayout, DEFAULT_LAYERS};
use crate::startup::{describe, Stage};

/// What a profile runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BenchConfig {
    pub models: Vec<usize>,
    pub rounds: usize,
}

impl BenchConfig {
    pub const DEFAULT_MODELS: [usize; 4] = [1, 10, 100, 988];
    pub const DEFAULT_ROUNDS: usize = 5;
    /// The model count the on-paper estimates are made for (the report's 988 splits), whatever was
    /// measured.
    pub const PAPER_MODELS: usize = 988;
    /// The profiled model's look-back, batch and features (the report's).
    pub const LOOKBACK: usize = 60;
    pub const BATCH: usize = 10;
    pub const FEATURES: usize = 5;
}

impl Default for BenchConfig {
    fn default() -> BenchConfig {
        BenchConfig {
            models: BenchConfig::DEFAULT_MODELS.to_vec(),
            rounds: BenchConfig::DEFAULT_ROUNDS,
        }
    }
}

/// The 1-minute load average and the whole `/proc/loadavg` line (zero and empty where there is none).
pub fn loadavg() -> (f64, String) {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let first = text
        .split_whitespace()
        .next()
        .and_then(|x| x.parse().ok())
        .unwrap_or(0.0);
    (first, text.trim().to_string())
}

/// Per kernel label of one step (summed over chunks): launches, ms per round, FLOPs, bytes, the
/// workgroups and their shape (for the estimates), and the yardstick of chunk 0's product.
#[derive(Default, Clone)]
pub struct KernelRow {
    pub label: String,
    pub calls: usize,
    pub ms: Vec<f64>,
    pub cost: Cost,
    pub groups: u64,
    pub workgroup: Workgroup,
    pub yardstick: Option<(MatShape, Vec<f64>)>,
}

impl KernelRow {
    /// This kernel's workgroups and their shape on `gpu` for `models` models: for a product, those of the
    /// tile the engine would choose there; else the launch's own, measured here.
    pub fn shape_on(&self, gpu: &PaperGpu, models: usize) -> (u64, Workgroup) {
        self.cost
            .product
            .and_then(|(product, _)| gpu.launch_shape(&product, models))
            .unwrap_or((self.groups, self.workgroup))
    }

    /// This kernel's estimate on `gpu` for `models` models.
    pub fn estimate(&self, gpu: &PaperGpu, models: usize) -> Estimate {
        let (groups, workgroup) = self.shape_on(gpu, models);
        estimate(&self.cost, groups, workgroup, gpu)
    }
}

/// One model count's results.
pub struct Run {
    pub models: usize,
    pub chunks: usize,
    pub step_ms: Vec<f64>,
    pub dispatches: f64,
    pub flops: f64,
    pub kernels: Vec<KernelRow>,
}

impl Run {
    /// This run's step as `models` models would run it, on paper: every launch's FLOPs, bytes and
    /// workgroups scale with the model count (each model has its own slice and its own workgroups);
    /// product kernels get their shapes from the tiles again ([`KernelRow::shape_on`]).
    pub fn on_paper(&self, models: usize) -> Run {
        let r = models as f64 / self.models.max(1) as f64;
        let kernels = self
            .kernels
            .iter()
            .map(|k| KernelRow {
                ms: Vec::new(),
                cost: Cost {
                    flops: k.cost.flops * r,
                    bytes: k.cost.bytes * r,
                    product: k.cost.product.map(|(p, _)| (p, models)),
                },
                groups: (k.groups as f64 * r).ceil() as u64,
                yardstick: None,
                ..k.clone()
            })
            .collect();
        Run {
            models,
            chunks: 0,
            step_ms: Vec::new(),
            dispatches: self.dispatches,
            flops: self.flops * r,
            kernels,
        }
    }
}

/// A whole profile.
pub struct BenchReport {
    pub adapter: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
    pub timestamps: bool,
    pub rounds: usize,
    pub load_before: (f64, String),
    pub load_after: (f64, String),
    pub matmul_tile: String,
    /// matmul_1024_vec4 and fma_peak, GFLOP/s (medians over every round).
    pub yardsticks: (f64, f64),
    /// FLOPs of one model's step (unpadded sizes).
    pub model_step_flops: f64,
    /// Launch to the first training step of this process ([`crate::startup`]), and the pipeline cache
    /// it started with.
    pub startup: Vec<Stage>,
    pub pipeline_cache: String,
    pub runs: Vec<Run>,
}

fn gflops(flops: f64, ms: f64) -> f64 {
    if ms > 0.0 {
        flops / ms / 1e6
    } else {
        0.0
    }
}

/// The profiled model's layout (the default spec parses; an error would be a broken constant, reported).
fn layout(gpu: &Gpu) -> Result<ParamLayout, GpuError> {
    ModelSpec::parse(DEFAULT_LAYERS, BenchConfig::FEATURES)
        .map(|spec| ParamLayout::new(&spec))
        .map_err(|e| wrong(gpu, "model", e.to_string()))
}

/// Engines holding `models` models of `layout` on synthetic data, each at the start of an epoch.
fn engines<'g>(
    gpu: &'g Gpu,
    layout: &ParamLayout,
    tiles: &Tiles,
    models: usize,
) -> Result<Vec<BatchEngine<'g>>, GpuError> {
    let (t, b, f) = (
        BenchConfig::LOOKBACK,
        BenchConfig::BATCH,
        BenchConfig::FEATURES,
    );
    let per = max_models_per_engine(gpu, layout, b, t).max(1);
    let rows = 400;
    let series: Vec<f32> = (0..rows * f)
        .map(|i| 100.0 + (i as f32 * 0.37).sin() * 10.0)
        .collect();
    let target: Vec<f32> = (0..rows)
        .map(|i| 100.0 + (i as f32 * 1.85).sin() * 10.0)
        .collect();
    let optim = Optim {
        adam: AdamConfig::default(),
        patience: 5,
        stopping: EarlyStopRule::Keras37,
    };
    let scaler: Vec<f32> = (0..=f).flat_map(|_| [90.0f32, 1.0 / 20.0]).collect();
    let mut out = Vec::new();
    let mut start = 0;
    while start < models {
        let n = per.min(models - start);
        let shape = EngineShape {
            models: n,
            batch: b,
            lookback: t,
            features: f,
            max_train_len: 200,
            max_eval_len: 200,
            epochs: 1,
        };
        let mut engine = BatchEngine::new(gpu, layout, shape, &optim, tiles, (&series, &target))?;
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
        engine.load_models(&setups)?;
        engine.begin_fit(false);
        engine.begin_epoch();
        out.push(engine);
        start += n;
    }
    Ok(out)
}

/// The fastest of `candidate_tiles` for `shape` (one timed run each after a warm-up), checked against the
/// CPU: its launch.
fn best_yardstick(
    gpu: &Gpu,
    shape: MatShape,
    tiles_of: &Tiles,
    extra: &[Tile],
) -> Result<Launch, GpuError> {
    let y = Yardstick::new(gpu, shape, 5)?;
    let mut tiles = candidate_tiles(&shape, tiles_of.class, tiles_of.limits);
    tiles.extend_from_slice(extra);
    let mut best: Option<(f64, Launch)> = None;
    for tile in tiles {
        let launch = y.launch(gpu, tile)?;
        submit(gpu, &[&launch]);
        let ms = launch_ms(gpu, &[&launch])?[0];
        if best.as_ref().is_none_or(|(b, _)| ms < *b) {
            best = Some((ms, launch));
        }
    }
    let Some((_, launch)) = best else {
        return Err(wrong(
            gpu,
            "yardstick",
            format!("no legal tile for {shape:?}"),
        ));
    };
    let r = y.check(gpu, &launch)?;
    if !r.pass {
        return Err(wrong(
            gpu,
            "yardstick",
            format!("{} wrong: max_abs {}", r.what, r.max_abs),
        ));
    }
    Ok(launch)
}

fn wrong(gpu: &Gpu, what: &str, message: String) -> GpuError {
    GpuError::Validation {
        adapter: gpu.summary.name.clone(),
        what: format!("bench {what}"),
        message,
    }
}

/// The rows of a step's launches by label (in step order), with chunk 0's yardsticks.
fn kernel_rows(
    gpu: &Gpu,
    es: &[BatchEngine],
    tiles: &Tiles,
    yardsticks: &mut BTreeMap<String, Launch>,
) -> Result<Vec<KernelRow>, GpuError> {
    let mut rows: Vec<KernelRow> = Vec::new();
    for (ci, e) in es.iter().enumerate() {
        for l in e.step_launches() {
            let at = match rows.iter().position(|r| r.label == l.label) {
                Some(i) => i,
                None => {
                    rows.push(KernelRow {
                        label: l.label.clone(),
                        workgroup: l.workgroup,
                        ..Default::default()
                    });
                    rows.len() - 1
                }
            };
            let row = &mut rows[at];
            row.calls += 1;
            row.cost.flops += l.cost.flops;
            row.cost.bytes += l.cost.bytes;
            row.groups += l.grid.iter().map(|&g| g as u64).product::<u64>();
            if let (0, Some((product, models))) = (ci, l.cost.product) {
                let shape = yardstick_shape(&product, models);
                let key = format!("{shape:?}");
                if let std::collections::btree_map::Entry::Vacant(slot) = yardsticks.entry(key) {
                    slot.insert(best_yardstick(gpu, shape, tiles, &[])?);
                }
                row.cost.product = l.cost.product;
                row.yardstick = Some((shape, Vec::new()));
            }
        }
    }
    Ok(rows)
}

/// The global yardsticks timed in every round beside the engine: name, FLOPs, launch, ms per round.
type Globals = Vec<(&'static str, f64, Launch, Vec<f64>)>;

fn bench_models(
    gpu: &Gpu,
    layout: &ParamLayout,
    tiles: &Tiles,
    (m, rounds): (usize, usize),
    globals: &mut Globals,
) -> Result<Run, GpuError> {
    let mut es = engines(gpu, layout, tiles, m)?;
    for e in es.iter_mut() {
        e.train_step(0);
    }
    gpu.wait()?;
    let mut yardsticks: BTreeMap<String, Launch> = BTreeMap::new();
    let mut rows = kernel_rows(gpu, &es, tiles, &mut yardsticks)?;
    let per_step_flops = layout.step_flops(BenchConfig::LOOKBACK, BenchConfig::BATCH) * m as f64;
    let mut step_ms = Vec::new();
    let mut dispatches = 0.0;
    for round in 0..rounds {
        let before: u64 = es.iter().map(|e| e.dispatches).sum();
        let t0 = Instant::now();
        for e in es.iter_mut() {
            e.train_step(1 + round % 19);
        }
        gpu.wait()?;
        step_ms.push(t0.elapsed().as_secs_f64() * 1e3);
        dispatches = (es.iter().map(|e| e.dispatches).sum::<u64>() - before) as f64;
        let mut by_label: BTreeMap<String, f64> = BTreeMap::new();
        for e in &es {
            let launches: Vec<&Launch> = e.step_launches().iter().collect();
            for (l, ms) in launches.iter().zip(launch_ms(gpu, &launches)?) {
                *by_label.entry(l.label.clone()).or_default() += ms;
            }
        }
        for row in rows.iter_mut() {
            row.ms
                .push(by_label.get(&row.label).copied().unwrap_or(0.0));
            if let Some((shape, ms)) = row.yardstick.as_mut() {
                if let Some(y) = yardsticks.get(&format!("{shape:?}")) {
                    ms.push(launch_ms(gpu, &[y])?[0]);
                }
            }
        }
        for (_, _, launch, ms) in globals.iter_mut() {
            ms.push(launch_ms(gpu, &[launch])?[0]);
        }
    }
    Ok(Run {
        models: m,
        chunks: es.len(),
        step_ms,
        dispatches,
        flops: per_step_flops,
        kernels: rows,
    })
}

/// Runs the profile on `gpu` with `tiles`; `progress` hears of each stage.
pub fn run(
    gpu: &Gpu,
    tiles: &Tiles,
    config: &BenchConfig,
    progress: &mut dyn FnMut(&str),
) -> Result<BenchReport, GpuError> {
    let load_before = loadavg();
    let layout = layout(gpu)?;
    let rounds = config.rounds.max(1);
    // Start-up as a training run sees it: one engine built and its first step run before anything else
    // compiles (the yardsticks would otherwise count as start-up).
    progress("start-up: one engine and its first step");
    for mut e in engines(gpu, &layout, tiles, 1)? {
        e.train_step(0);
    }
    gpu.wait()?;
    // The global yardsticks, timed in every round beside the engine.
    let wide = Tile {
        rows: 16,
        cols: 8,
        wgx: 8,
        wgy: 1,
        shared: false,
        subgroup: false,
        step_tile: false,
    };
    let square = MatShape::square(1024);
    progress("timing the 1024³ yardstick's tiles");
    let matmul = best_yardstick(gpu, square, tiles, &[wide])?;
    let matmul_tile = matmul.label.clone();
    let peak = FmaPeak::new(gpu, 256, 512, 3)?;
    if !peak.check(gpu)?.pass {
        return Err(wrong(
            gpu,
            "fma_peak",
            "differs from its closed form".into(),
        ));
    }
    let mut globals: Globals = vec![
        ("matmul_1024_vec4", square.flops(), matmul, Vec::new()),
        ("fma_peak", peak.flops, peak.launch.clone(), Vec::new()),
    ];
    let mut runs = Vec::new();
    for &m in &config.models {
        progress(&format!("{m} models, {rounds} rounds"));
        runs.push(bench_models(
            gpu,
            &layout,
            tiles,
            (m, rounds),
            &mut globals,
        )?);
    }
    let rate = |i: usize| gflops(globals[i].1, median(&globals[i].3));
    Ok(BenchReport {
        adapter: gpu.summary.name.clone(),
        backend: gpu.summary.backend.clone(),
        device_type: gpu.summary.device_type.clone(),
        driver: gpu.summary.driver.clone(),
        timestamps: gpu.timestamps,
        rounds,
        load_before,
        load_after: loadavg(),
        matmul_tile,
        yardsticks: (rate(0), rate(1)),
        model_step_flops: layout.step_flops(BenchConfig::LOOKBACK, BenchConfig::BATCH),
        startup: crate::startup::stages(),
        pipeline_cache: DriverCache::describe(gpu.driver_cache.as_ref()),
        runs,
    })
}

impl BenchReport {
    /// The profile as text (markdown tables).
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "load average before: {}", self.load_before.1);
        if self.load_before.0 > 0.5 {
            let _ = writeln!(
                s,
                "WARNING: the machine was busy before the bench (1-minute load {:.2}); load-bound kernels \
                 slow down far more than FMA-bound ones, so ratios may be off",
                self.load_before.0
            );
        }
        let _ = writeln!(
            s,
            "adapter: {} ({}, {}); driver {}; timestamps: {}",
            self.adapter, self.backend, self.device_type, self.driver, self.timestamps
        );
        let _ = writeln!(
            s,
            "start-up, from launch: {}; pipeline cache: {}",
            describe(&self.startup),
            self.pipeline_cache
        );
        let _ = writeln!(s, "matmul_1024_vec4 yardstick: {}", self.matmul_tile);
        let _ = writeln!(
            s,
            "model {DEFAULT_LAYERS}, batch {}, T {}, {} features: {:.1} MFLOP per model per step (unpadded \
             sizes; per-kernel GFLOP below count the padded products the kernels compute); {} interleaved \
             rounds per model count",
            BenchConfig::BATCH,
            BenchConfig::LOOKBACK,
            BenchConfig::FEATURES,
            self.model_step_flops / 1e6,
            self.rounds
        );
        let (mm, fma) = self.yardsticks;
        let _ = writeln!(
            s,
            "\nyardsticks (median over every round): matmul_1024_vec4 {mm:.2} GFLOP/s, fma_peak {fma:.2} GFLOP/s"
        );
        s.push_str("| models | chunks | ms per step | GFLOP per step | GFLOP/s | % of matmul_1024_vec4 | dispatches per step |\n");
        s.push_str("|---:|---:|---:|---:|---:|---:|---:|\n");
        for run in &self.runs {
            let ms = median(&run.step_ms);
            let r = gflops(run.flops, ms);
            let _ = writeln!(
                s,
                "| {} | {} | {ms:.1} | {:.3} | {r:.2} | {:.0}% | {:.0} |",
                run.models,
                run.chunks,
                run.flops / 1e9,
                100.0 * r / mm,
                run.dispatches
            );
        }
        if let Some(last) = self.runs.last() {
            render_kernels(&mut s, last);
            render_estimates(&mut s, &last.on_paper(BenchConfig::PAPER_MODELS));
        }
        let _ = writeln!(s, "\nload average after: {}", self.load_after.1);
        if self.load_after.0 > 2.5 {
            let _ = writeln!(
                s,
                "WARNING: other processes were busy during the bench (1-minute load {:.2} on top of the \
                 bench's own)",
                self.load_after.0
            );
        }
        s
    }

    /// The profile as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "adapter": self.adapter,
            "backend": self.backend,
            "device_type": self.device_type,
            "driver": self.driver,
            "load_average_before": self.load_before.0,
            "load_average_after": self.load_after.0,
            "rounds": self.rounds,
            "startup_ms": self.startup.iter().map(|st| (st.name.clone(), serde_json::json!(st.ms))).collect::<serde_json::Map<_, _>>(),
            "pipeline_cache": self.pipeline_cache,
            "yardsticks": { "matmul_1024_vec4": self.yardsticks.0, "fma_peak": self.yardsticks.1 },
            "paper_gpus": PAPER_GPUS,
            "estimate_assumptions": ASSUMPTIONS,
            "runs": self.runs.iter().map(json_run).collect::<Vec<_>>(),
            "on_paper": self.runs.last().map(|r| json_run(&r.on_paper(BenchConfig::PAPER_MODELS))),
        })
    }
}

fn render_kernels(s: &mut String, run: &Run) {
    let total: f64 = run.kernels.iter().map(|r| median(&r.ms)).sum();
    let _ = writeln!(
        s,
        "\nper kernel, one step of {} models ({} chunk(s); GPU timestamps, median of {} rounds; \
         yardstick = the plain vec4 product of the kernel's shape, same rounds):",
        run.models,
        run.chunks,
        run.step_ms.len()
    );
    s.push_str("| kernel | dispatches | ms | share | GFLOP | GFLOP/s | yardstick GFLOP/s | % of yardstick | MB moved |\n");
    s.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for row in &run.kernels {
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
        let _ = writeln!(
            s,
            "| {} | {} | {ms:.2} | {:.1}% | {:.3} | {} | {yard} | {pct} | {:.1} |",
            row.label,
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

fn render_estimates(s: &mut String, run: &Run) {
    let _ = writeln!(
        s,
        "\non-paper estimate of one step of {} models (not measured; the launches of the last model count \
         measured, scaled to it): the roofline, max(FLOP / peak, bytes / bandwidth) per dispatch, and the same with waves and occupancy counted. Assumed: {ASSUMPTIONS}.",
        run.models
    );
    for g in PAPER_GPUS {
        let _ = writeln!(
            s,
            "- {}: {:.1} TFLOP/s FP32, {:.0} GB/s; {} units of {} lanes ({} schedulers × SIMD {}), per unit \
             {} threads, {} workgroups, {} KiB workgroup memory ({})",
            g.name,
            g.flops / 1e12,
            g.bytes_per_second / 1e9,
            g.units,
            g.schedulers * g.simd,
            g.schedulers,
            g.simd,
            g.threads_per_unit,
            g.groups_per_unit,
            g.shared_per_unit / 1024,
            g.source
        );
    }
    let mut header = "| kernel | GFLOP | MB |".to_string();
    let mut rule = "|---|---:|---:|".to_string();
    for g in PAPER_GPUS {
        let _ = write!(
            header,
            " {k} workgroups × threads (shared KB) | {k} roofline ms | {k} waves | {k} resident | {k} lanes busy | {k} ms |",
            k = g.key
        );
        rule.push_str("---:|---:|---:|---:|---:|---:|");
    }
    let _ = writeln!(s, "{header}\n{rule}");
    let mut totals = vec![(0.0, 0.0); PAPER_GPUS.len()];
    for row in &run.kernels {
        let _ = write!(
            s,
            "| {} | {:.3} | {:.1} |",
            row.label,
            row.cost.flops / 1e9,
            row.cost.bytes / 1e6
        );
        for (g, total) in PAPER_GPUS.iter().zip(totals.iter_mut()) {
            let (groups, wg) = row.shape_on(g, run.models);
            let e = row.estimate(g, run.models);
            total.0 += e.roofline_ms;
            total.1 += e.ms;
            let _ = write!(
                s,
                " {groups} × {} ({:.1}) | {:.4} | {} | {} | {:.0}% | {:.4} |",
                wg.threads,
                wg.shared_bytes as f64 / 1e3,
                e.roofline_ms,
                e.waves,
                e.resident,
                100.0 * e.lanes_busy,
                e.ms
            );
        }
        s.push('\n');
    }
    let _ = write!(s, "| **step** | {:.1} | |", run.flops / 1e9);
    for (roof, waves) in &totals {
        let _ = write!(s, " | {roof:.3} | | | | {waves:.3} |");
    }
    s.push('\n');
}

fn json_run(run: &Run) -> serde_json::Value {
    let ms = median(&run.step_ms);
    let totals: serde_json::Map<String, serde_json::Value> = PAPER_GPUS
        .iter()
        .map(|g| {
            let (roof, waves) = run.kernels.iter().fold((0.0, 0.0), |(r, w), k| {
                let e = k.estimate(g, run.models);
                (r + e.roofline_ms, w + e.ms)
            });
            (
                g.key.to_string(),
                serde_json::json!({ "roofline_ms": roof, "ms": waves }),
            )
        })
        .collect();
    serde_json::json!({
        "models": run.models,
        "chunks": run.chunks,
        "ms_per_step": ms,
        "gflops_per_step": run.flops / 1e9,
        "gflops": gflops(run.flops, ms),
        "dispatches_per_step": run.dispatches,
        "estimate_per_step": totals,
        "kernels": run.kernels.iter().map(|row| {
            let kms = median(&row.ms);
            let estimates: serde_json::Map<String, serde_json::Value> = PAPER_GPUS
                .iter()
                .map(|g| {
                    let (groups, wg) = row.shape_on(g, run.models);
                    let e = row.estimate(g, run.models);
                    (g.key.to_string(), serde_json::json!({ "workgroups": groups, "workgroup": wg, "estimate": e }))
                })
                .collect();
            serde_json::json!({
                "name": row.label,
                "dispatches": row.calls,
                "ms": kms,
                "gflop": row.cost.flops / 1e9,
                "gflops": gflops(row.cost.flops, kms),
                "bytes": row.cost.bytes,
                "workgroups": row.groups,
                "workgroup": row.workgroup,
                "yardstick_gflops": row.yardstick.as_ref().map(|(s, yms)| gflops(s.flops(), median(yms))),
                "estimates": estimates,
            })
        }).collect::<Vec<_>>(),
    })
}
