//! Every WGSL kernel run on the chosen adapter and compared with the CPU reference, on shapes that are not
//! multiples of the workgroup sizes and with several models holding different weights. `gpulstm check`
//! prints these results; the GPU tests assert them.
//!
//! Comparisons follow numpy's `allclose`: element-wise |gpu − cpu| ≤ atol + rtol·|cpu|. The GPU computes in
//! f32 (unit round-off 6·10⁻⁸), the reference in f64, so each check's tolerance is set from how many f32
//! operations feed one element (see [`Tol`]); an indexing or math bug shows as an O(1) relative error,
//! orders of magnitude above every tolerance.

use super::context::{Gpu, GpuError};
use super::engine::{Engine, EngineShape, ModelSetup, Optim};
use super::kernels::{gemm_family, probe_family};
use super::layout::{gemm_grid, GemmParams, GEMM_ACCUMULATE, GEMM_ADD_BIAS};
use crate::cpu::adam::{adam_step, AdamState};
use crate::cpu::dropout::DropoutKey;
use crate::cpu::fit::{fit, gather_batch, predict, ModelState as CpuModel};
use crate::cpu::loss::mse_grad;
use crate::cpu::network::{backward, forward, LayerCache};
use crate::fit::AdamConfig;
use crate::fit::{Hyper, ScaledSeries, SplitWindows, Window};
use crate::model::{init_params, LayerPlan, ModelSpec, ParamLayout};
use crate::rng;

/// Element-wise tolerance: |gpu − cpu| ≤ abs + rel·|cpu|.
#[derive(Clone, Copy, Debug)]
pub struct Tol {
    pub abs: f64,
    pub rel: f64,
}

/// A k-term f32 dot product of values in [−1, 1] (Σ|ab| ≈ k/4) rounds with error growing like
/// √k·u·Σ|ab|; a result near zero then has no meaningful relative error, so the absolute part scales with
/// k: `abs = MATMUL_ABS_PER_TERM · k`. Over 50 random shapes the largest error seen was 4.5·10⁻⁸·k; the
/// bound below is 4× that. An indexing bug gives errors of order Σ|ab| itself.
pub const MATMUL_ABS_PER_TERM: f64 = 2e-7;
pub fn tol_matmul(k: usize) -> Tol {
    Tol {
        abs: MATMUL_ABS_PER_TERM * k.max(1) as f64,
        rel: 1e-4,
    }
}
/// LSTM states and gates are bounded by 1 and pass through ≤ 60 steps of f32 recurrences.
pub const TOL_FORWARD: Tol = Tol {
    abs: 2e-5,
    rel: 1e-4,
};
/// Exact: integer arithmetic (shuffles) or one multiply by the same mask.
pub const TOL_EXACT: Tol = Tol { abs: 0.0, rel: 0.0 };
/// Gradients chain T steps of BPTT and sums over T·B rows in f32; the absolute part is relative to the
/// tensor's largest gradient (set per tensor below).
pub const TOL_GRAD_REL: f64 = 1e-3;
pub const TOL_GRAD_ABS_FRACTION: f64 = 1e-3;
/// Predictions (scaled prices, O(1)) of weights trained for a few epochs in f32 vs f64: the restored
/// weights agree to ~1e-6 relative, which moves predictions by a few 1e-6; random shapes showed up to
/// 3.7e-6 where the prediction itself was ~1e-4, so the absolute part is 2e-5. A wrong window, scaler or
/// restored epoch moves predictions by ≥ 1e-2.
pub const TOL_PREDICTIONS: Tol = Tol {
    abs: 2e-5,
    rel: 2e-3,
};
/// Dropout multiplies by the same mask on both sides; only the f32 rounding of its input and of
/// 1/(1−rate) differ.
pub const TOL_EXACT_ISH: Tol = Tol {
    abs: 2e-5,
    rel: 1e-4,
};
/// Losses after several epochs of f32 training vs f64: the trajectories drift apart slowly.
pub const TOL_TRAINING: Tol = Tol {
    abs: 1e-6,
    rel: 2e-3,
};

#[derive(Clone, Debug, serde::Serialize)]
pub struct CheckResult {
    pub kernel: String,
    pub what: String,
    pub elements: usize,
    pub max_abs: f64,
    pub max_rel: f64,
    pub abs_tol: f64,
    pub rel_tol: f64,
    pub pass: bool,
}

/// Compares `gpu` with `cpu` element-wise.
pub fn compare(kernel: &str, what: &str, gpu: &[f32], cpu: &[f64], tol: Tol) -> CheckResult {
    let mut max_abs = 0.0f64;
    let mut max_rel = 0.0f64;
    let mut pass = gpu.len() == cpu.len();
    for (&g, &c) in gpu.iter().zip(cpu) {
        let d = (g as f64 - c).abs();
        if d.is_nan() {
            pass = false;
            max_abs = f64::NAN;
            continue;
        }
        max_abs = max_abs.max(d);
        max_rel = max_rel.max(d / c.abs().max(1e-12));
        if d > tol.abs + tol.rel * c.abs() {
            pass = false;
        }
    }
    CheckResult {
        kernel: kernel.into(),
        what: what.into(),
        elements: cpu.len(),
        max_abs,
        max_rel,
        abs_tol: tol.abs,
        rel_tol: tol.rel,
        pass,
    }
}

/// A small deterministic generator for test data (not the model's RNG).
struct Data(u64);

impl Data {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64) / ((1u64 << 53) as f64) * 2.0 - 1.0
    }
    fn vec(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.next()).collect()
    }
    /// A whole number in [0, n).
    fn below(&mut self, n: usize) -> usize {
        ((self.next() + 1.0) * 0.5 * n as f64) as usize % n.max(1)
    }
}

fn to_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

fn to_f64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

/// The GEMM kernel on its own: plain, transposed operands, bias, accumulate, several models, on shapes
/// drawn from `shape_seed` (sizes up to a few tiles, never forced to multiples of the 32×32 tile).
pub fn check_gemm(gpu: &Gpu, shape_seed: u64) -> Result<Vec<CheckResult>, GpuError> {
    let family = gemm_family(gpu)?;
    let mut data = Data(shape_seed ^ 0x9e37_79b9_7f4a_7c15);
    let models = 3usize;
    let mut out = Vec::new();
    let mut dim = |lo: usize, hi: usize| lo + data.below(hi - lo + 1);
    // (label, m, n, k, a transposed, b transposed, bias, accumulate)
    let cases = [
        (
            "A·B",
            dim(1, 80),
            dim(1, 80),
            dim(1, 90),
            false,
            false,
            false,
            false,
        ),
        (
            "Aᵀ·B (weight gradient)",
            dim(1, 60),
            dim(1, 220),
            dim(100, 700),
            true,
            false,
            false,
            false,
        ),
        (
            "A·Bᵀ (input gradient)",
            dim(30, 700),
            dim(1, 60),
            dim(1, 220),
            false,
            true,
            false,
            false,
        ),
        (
            "A·B + bias",
            dim(1, 700),
            dim(1, 220),
            dim(1, 60),
            false,
            false,
            true,
            false,
        ),
        (
            "C += A·B",
            dim(1, 40),
            dim(1, 40),
            dim(1, 700),
            false,
            false,
            false,
            true,
        ),
        (
            "1ᵀ·B (bias gradient)",
            1,
            dim(1, 220),
            dim(1, 700),
            false,
            false,
            false,
            false,
        ),
    ];
    let mut data = Data(shape_seed);
    for (label, m, n, k, at, bt, with_bias, acc) in cases {
        let a = data.vec(models * m * k);
        let b = data.vec(models * k * n);
        let bias = data.vec(models * n);
        let c0 = data.vec(models * m * n);
        // Storage: A is [M][m][k] (or [M][k][m] when transposed), B is [M][k][n] (or [M][n][k]).
        let a_at = |mm: usize, i: usize, kk: usize| {
            if at {
                mm * m * k + kk * m + i
            } else {
                mm * m * k + i * k + kk
            }
        };
        let b_at = |mm: usize, kk: usize, j: usize| {
            if bt {
                mm * k * n + j * k + kk
            } else {
                mm * k * n + kk * n + j
            }
        };
        let mut want = vec![0.0; models * m * n];
        for mm in 0..models {
            for i in 0..m {
                for j in 0..n {
                    let mut s = 0.0;
                    for kk in 0..k {
                        s += a[a_at(mm, i, kk)] * b[b_at(mm, kk, j)];
                    }
                    if with_bias {
                        s += bias[mm * n + j];
                    }
                    if acc {
                        s += c0[mm * m * n + i * n + j];
                    }
                    want[mm * m * n + i * n + j] = s;
                }
            }
        }
        let p = GemmParams {
            m: m as u32,
            n: n as u32,
            k: k as u32,
            flags: if with_bias { GEMM_ADD_BIAS } else { 0 }
                | if acc { GEMM_ACCUMULATE } else { 0 },
            a_off: 0,
            a_model: (m * k) as u32,
            a_row: if at { 1 } else { k as u32 },
            a_col: if at { m as u32 } else { 1 },
            b_off: 0,
            b_model: (k * n) as u32,
            b_row: if bt { 1 } else { n as u32 },
            b_col: if bt { k as u32 } else { 1 },
            c_off: 0,
            c_model: (m * n) as u32,
            c_row: n as u32,
            c_col: 1,
            bias_off: 0,
            bias_model: n as u32,
            ..Default::default()
        };
        let ubuf = gpu.uniform("gemm check", &p);
        let abuf = gpu.storage_init("a", &to_f32(&a));
        let bbuf = gpu.storage_init("b", &to_f32(&b));
        let cbuf = gpu.storage_init("c", &to_f32(&c0));
        let biasbuf = gpu.storage_init("bias", &to_f32(&bias));
        let bg = family.bind(gpu, &[&ubuf, &abuf, &bbuf, &cbuf, &biasbuf]);
        let launch = super::kernel::Launch::new(&family, "main", bg, gemm_grid(m, n, models));
        super::kernel::submit(gpu, &[&launch]);
        let got = gpu.read_f32(&cbuf, 0, models * m * n)?;
        out.push(compare(
            "gemm",
            &format!("{label} m={m} n={n} k={k}, {models} models"),
            &got,
            &want,
            tol_matmul(k),
        ));
    }
    // The column-sum entry point (bias gradients): B is [M][k][n], C is [M][n].
    let (n, k) = (1 + data.below(220), 1 + data.below(700));
    let b = data.vec(models * k * n);
    let want: Vec<f64> = (0..models * n)
        .map(|x| (0..k).map(|kk| b[(x / n) * k * n + kk * n + x % n]).sum())
        .collect();
    let p = GemmParams {
        m: 1,
        n: n as u32,
        k: k as u32,
        b_model: (k * n) as u32,
        b_row: n as u32,
        b_col: 1,
        c_model: n as u32,
        c_col: 1,
        ..Default::default()
    };
    let ubuf = gpu.uniform("column sum check", &p);
    let bbuf = gpu.storage_init("b", &to_f32(&b));
    let cbuf = gpu.storage("c", models * n);
    let bg = family.bind(gpu, &[&ubuf, &bbuf, &bbuf, &cbuf, &bbuf]);
    let launch = super::kernel::Launch::new(
        &family,
        "column_sum",
        bg,
        [n.div_ceil(64) as u32, 1, models as u32],
    );
    super::kernel::submit(gpu, &[&launch]);
    let got = gpu.read_f32(&cbuf, 0, models * n)?;
    out.push(compare(
        "gemm::column_sum",
        &format!("Σ_k B (bias gradient) n={n} k={k}, {models} models"),
        &got,
        &want,
        tol_matmul(k),
    ));
    Ok(out)
}

/// A tiny problem for the whole-step checks: a synthetic price-like series and per-model windows.
pub struct Problem {
    pub layout: ParamLayout,
    pub lookback: usize,
    pub batch: usize,
    pub features: usize,
    pub raw: Vec<Vec<f64>>, // [rows][features]
    pub target: Vec<f64>,   // [rows]
    pub ids: Vec<u32>,
    pub windows: Vec<(usize, usize, usize, usize)>, // train_start, train_len, val_start, val_len
    pub seed: u64,
}

impl Problem {
    /// A check problem with every shape drawn from `shape_seed`: features, layer widths, look-back,
    /// batch (above 16 the recurrent kernels split a model's rows over two workgroups), a training
    /// window that ends in a partial batch or not, three models with different windows and weights.
    pub fn random(shape_seed: u64) -> Problem {
        let mut data = Data(shape_seed);
        let features = 1 + data.below(6);
        let (u1, u2, d) = (2 + data.below(11), 2 + data.below(9), 1 + data.below(6));
        let layers = format!("lstm:{u1}:seq,dropout:0.3,lstm:{u2},dropout:0.2,dense:{d},dense:1");
        let spec = match ModelSpec::parse(&layers, features) {
            Ok(s) => s,
            Err(e) => unreachable!("generated check spec {layers} is valid: {e}"),
        };
        let layout = ParamLayout::new(&spec);
        let lookback = 3 + data.below(10);
        let batch = 3 + data.below(22);
        // More than one batch, so the first and the last step of an epoch differ.
        let train_len = batch + 1 + data.below(2 * batch);
        let val_len = 1 + data.below(12);
        let windows: Vec<(usize, usize, usize, usize)> = (0..3)
            .map(|m| {
                let start = m * (1 + data.below(7));
                (start, train_len, start + train_len, val_len)
            })
            .collect();
        let rows = windows.iter().map(|w| w.2 + w.3).max().unwrap_or(0) + lookback + 1;
        let mut price = 100.0;
        let mut raw = Vec::with_capacity(rows);
        let mut target = Vec::with_capacity(rows);
        for _ in 0..rows {
            price *= 1.0 + 0.02 * data.next();
            let row: Vec<f64> = (0..features)
                .map(|j| {
                    if j == 0 {
                        price
                    } else {
                        10f64.powi(j as i32) * (2.0 + data.next())
                    }
                })
                .collect();
            raw.push(row);
            target.push(price * (1.0 + 0.005 * data.next()));
        }
        Problem {
            layout,
            lookback,
            batch,
            features,
            raw,
            target,
            ids: vec![5, 6, 7],
            windows,
            seed: 1234 + shape_seed,
        }
    }

    /// The fixed problem the tests always run: a stack shaped like the report's, small; batch 20 so the
    /// recurrent kernels run two workgroups per model (16 + 4 rows); a training window of 45 ends in a
    /// partial batch.
    pub fn small() -> Problem {
        let features = 3;
        let spec = match ModelSpec::parse(
            "lstm:6:seq,dropout:0.3,lstm:5,dropout:0.2,dense:3,dense:1",
            features,
        ) {
            Ok(s) => s,
            Err(e) => unreachable!("the built-in check spec is valid: {e}"),
        };
        let rows = 90;
        let mut data = Data(11);
        let mut price = 100.0;
        let mut raw = Vec::with_capacity(rows);
        let mut target = Vec::with_capacity(rows);
        for _ in 0..rows {
            price *= 1.0 + 0.02 * data.next();
            raw.push(vec![
                price,
                1e6 * (2.0 + data.next()),
                price * (1.0 + 0.01 * data.next()),
            ]);
            target.push(price);
        }
        Problem {
            layout: ParamLayout::new(&spec),
            lookback: 7,
            batch: 20,
            features,
            raw,
            target,
            ids: vec![5, 6, 7],
            windows: vec![(0, 45, 45, 9), (10, 45, 55, 9), (20, 45, 65, 9)],
            seed: 1234,
        }
    }

    /// One line naming the shapes, printed with the results so a failure can be reproduced.
    pub fn describe(&self) -> String {
        format!(
            "layers {}, {} features, lookback {}, batch {}, windows {:?}",
            self.layout.spec.to_spec_string(),
            self.features,
            self.lookback,
            self.batch,
            self.windows
        )
    }

    /// (min, 1/range) per feature then the target, fitted on the rows model `m`'s training samples touch.
    pub fn scaler(&self, m: usize) -> Vec<f32> {
        let (start, len, _, _) = self.windows[m];
        let rows = start..start + len + self.lookback;
        let mut out = Vec::new();
        let mut push = |col: &dyn Fn(usize) -> f64| {
            let lo = rows.clone().map(col).fold(f64::INFINITY, f64::min);
            let hi = rows.clone().map(col).fold(f64::NEG_INFINITY, f64::max);
            let range = if hi > lo { hi - lo } else { 1.0 };
            out.push(lo as f32);
            out.push((1.0 / range) as f32);
        };
        for f in 0..self.features {
            push(&|r| self.raw[r][f]);
        }
        push(&|r| self.target[r]);
        out
    }

    /// The series as model `m` sees it, scaled exactly as the gather kernel does (f32 raw and scaler).
    pub fn scaled(&self, m: usize) -> ScaledSeries {
        let sc = to_f64(&self.scaler(m));
        let f = self.features;
        let mut x = Vec::new();
        for row in &self.raw {
            for (j, &v) in row.iter().enumerate() {
                x.push(((v as f32) as f64 - sc[2 * j]) * sc[2 * j + 1]);
            }
        }
        let y = self
            .target
            .iter()
            .map(|&v| ((v as f32) as f64 - sc[2 * f]) * sc[2 * f + 1])
            .collect();
        ScaledSeries {
            x,
            y,
            features: f,
            lookback: self.lookback,
        }
    }

    pub fn initial_params(&self, m: usize) -> Vec<f64> {
        // Rounded through f32 so both sides start from identical weights.
        to_f64(&to_f32(&init_params(&self.layout, self.seed, self.ids[m])))
    }

    pub fn engine<'g>(
        &self,
        gpu: &'g Gpu,
        epochs: usize,
        optim: &Optim,
    ) -> Result<Engine<'g>, GpuError> {
        let longest = self.windows.iter().map(|w| w.1.max(w.3)).max().unwrap_or(1);
        let shape = EngineShape {
            models: self.ids.len(),
            batch: self.batch,
            lookback: self.lookback,
            features: self.features,
            max_train_len: self.windows.iter().map(|w| w.1).max().unwrap_or(1),
            max_eval_len: longest,
            epochs,
        };
        let series: Vec<f32> = self.raw.iter().flatten().map(|&v| v as f32).collect();
        let target = to_f32(&self.target);
        let mut engine = Engine::new(gpu, &self.layout, shape, optim, &series, &target)?;
        let setups: Vec<ModelSetup> = (0..self.ids.len())
            .map(|m| ModelSetup {
                model_id: self.ids[m],
                train_start: self.windows[m].0,
                train_len: self.windows[m].1,
                val_start: self.windows[m].2,
                val_len: self.windows[m].3,
                params: to_f32(&self.initial_params(m)),
                scaler: self.scaler(m),
            })
            .collect();
        engine.load_models(&setups)?;
        Ok(engine)
    }

    pub fn optim(&self, patience: usize) -> Optim {
        let a = AdamConfig::default();
        Optim {
            lr: a.lr,
            beta1: a.beta1,
            beta2: a.beta2,
            epsilon: a.epsilon,
            patience,
            seed: self.seed,
        }
    }
}

/// Rows `< rows` of a GPU tensor `[steps][cap][width]` of model `m` (`per_model` elements a model,
/// starting at `off`), as a tight `[steps][rows][width]`.
#[allow(clippy::too_many_arguments)]
fn slice_rows(
    v: &[f32],
    m: usize,
    per_model: usize,
    off: usize,
    steps: usize,
    cap: usize,
    rows: usize,
    width: usize,
) -> Vec<f32> {
    let mut out = Vec::with_capacity(steps * rows * width);
    for t in 0..steps {
        for r in 0..rows {
            let at = m * per_model + off + (t * cap + r) * width;
            out.extend_from_slice(&v[at..at + width]);
        }
    }
    out
}

/// Three training steps of every model (the third a partial batch), each kernel's output compared with
/// the reference: shuffle, gather, LSTM recurrence (gates, cells, hidden states), dropout, dense, loss
/// gradient, every parameter gradient (BPTT and the weight-gradient GEMMs), and the Adam update.
pub fn check_training_step(gpu: &Gpu, pb: &Problem) -> Result<Vec<CheckResult>, GpuError> {
    let optim = pb.optim(5);
    let mut engine = pb.engine(gpu, 3, &optim)?;
    let (t, b, f) = (pb.lookback, pb.batch, pb.features);
    let p = pb.layout.total;
    engine.begin_fit(false);
    engine.begin_epoch();
    let perm_gpu = engine.read_perm()?;
    let stride = engine.shape.max_train_len;
    let mut out = Vec::new();
    let steps = pb.windows[0].1.div_ceil(b);
    // Probes of the first step (full batch) and the last (partial batch).
    let checked = |step: usize| step == 0 || step == steps - 1;
    let mut grads_at = Vec::new();
    let mut probes_at = Vec::new();
    for step in 0..steps {
        engine.train_step(step);
        if checked(step) {
            let mut probes = Vec::new();
            grads_at.push(engine.read_grads()?);
            for name in ["x", "y", "dpred"] {
                probes.push((name.to_string(), engine.read_probe(name)?));
            }
            for (li, plan) in pb.layout.layers.iter().enumerate() {
                let names: &[&str] = match plan {
                    LayerPlan::Lstm { .. } => &["gates", "cell", "hidden"],
                    _ => &["out"],
                };
                for n in names {
                    let key = format!("layer{li}.{n}");
                    probes.push((key.clone(), engine.read_probe(&key)?));
                }
            }
            probes_at.push(probes);
        }
    }
    let params_gpu = engine.read_params()?;
    let probe = |step: usize, name: &str| -> &[f32] {
        probes_at[usize::from(step > 0)]
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
            .unwrap_or(&[])
    };
    let cfg = AdamConfig::default();
    for (m, &id) in pb.ids.iter().enumerate() {
        let (start, len, _, _) = pb.windows[m];
        let series = pb.scaled(m);
        let perm = rng::shuffle(len, pb.seed, id, 0);
        out.push(compare(
            "batch::shuffle",
            &format!("model {id}: permutation of {len}"),
            &perm_gpu[m * stride..m * stride + len]
                .iter()
                .map(|&v| v as f32)
                .collect::<Vec<_>>(),
            &perm.iter().map(|&v| v as f64).collect::<Vec<_>>(),
            TOL_EXACT,
        ));
        let mut params = pb.initial_params(m);
        let mut adam = AdamState::new(p);
        for step in 0..steps {
            let rows = b.min(len - step * b);
            let samples: Vec<usize> = perm[step * b..step * b + rows]
                .iter()
                .map(|&i| start + i as usize)
                .collect();
            let (x, y) = gather_batch(&series, &samples);
            let key = DropoutKey {
                seed: pb.seed,
                model: id,
                step: step as u32,
            };
            let cache = forward(&pb.layout, &params, &x, t, rows, Some(&key));
            let dpred = mse_grad(&cache.pred, &y);
            let grads = backward(&pb.layout, &params, &x, &cache, &dpred);
            if checked(step) {
                let probe = |name: &str| probe(step, name);
                let grads_gpu = &grads_at[usize::from(step > 0)];
                let what = |s: &str| format!("model {id}, step {step} ({rows} of {b} rows): {s}");
                out.push(compare(
                    "batch::gather",
                    &what("inputs"),
                    &slice_rows(probe("x"), m, t * b * f, 0, t, b, rows, f),
                    &x,
                    TOL_FORWARD,
                ));
                out.push(compare(
                    "batch::gather",
                    &what("targets"),
                    &slice_rows(probe("y"), m, b, 0, 1, b, rows, 1),
                    &y,
                    TOL_FORWARD,
                ));
                // Shape of the tensor flowing between layers: a sequence or a vector, and its width.
                let (mut seq, mut width) = (true, f);
                for (li, plan) in pb.layout.layers.iter().enumerate() {
                    match plan {
                        LayerPlan::Lstm {
                            units,
                            return_sequences,
                            ..
                        } => (seq, width) = (*return_sequences, *units),
                        LayerPlan::Dense { units, .. } => (seq, width) = (false, *units),
                        LayerPlan::Dropout { .. } => {}
                    }
                    match (plan, &cache.layers[li]) {
                        (LayerPlan::Lstm { units, .. }, LayerCache::Lstm(lc)) => {
                            let u = *units;
                            let g = probe(&format!("layer{li}.gates"));
                            out.push(compare(
                                "lstm_forward",
                                &what(&format!("layer {li} gates")),
                                &slice_rows(g, m, t * b * 4 * u, 0, t, b, rows, 4 * u),
                                &lc.gates,
                                TOL_FORWARD,
                            ));
                            let c = probe(&format!("layer{li}.cell"));
                            out.push(compare(
                                "lstm_forward",
                                &what(&format!("layer {li} cell")),
                                &slice_rows(c, m, t * b * u, 0, t, b, rows, u),
                                &lc.c,
                                TOL_FORWARD,
                            ));
                            let h = probe(&format!("layer{li}.hidden"));
                            out.push(compare(
                                "lstm_forward",
                                &what(&format!("layer {li} hidden")),
                                &slice_rows(h, m, (t + 1) * b * u, 0, t + 1, b, rows, u),
                                &lc.h,
                                TOL_FORWARD,
                            ));
                        }
                        (LayerPlan::Dropout { .. }, _) => {
                            let steps_l = if seq { t } else { 1 };
                            let g = probe(&format!("layer{li}.out"));
                            out.push(compare(
                                "dropout",
                                &what(&format!("layer {li} output")),
                                &slice_rows(g, m, steps_l * b * width, 0, steps_l, b, rows, width),
                                &cache.outputs[li],
                                TOL_EXACT_ISH,
                            ));
                        }
                        (LayerPlan::Dense { units, .. }, _) => {
                            let g = probe(&format!("layer{li}.out"));
                            out.push(compare(
                                "gemm (dense forward)",
                                &what(&format!("layer {li} output")),
                                &slice_rows(g, m, b * units, 0, 1, b, rows, *units),
                                &cache.outputs[li],
                                TOL_FORWARD,
                            ));
                        }
                        _ => {}
                    }
                }
                out.push(compare(
                    "loss",
                    &what("dL/dŷ"),
                    &slice_rows(probe("dpred"), m, b, 0, 1, b, rows, 1),
                    &dpred,
                    TOL_FORWARD,
                ));
                for slot in &pb.layout.tensors {
                    let cpu = &grads[slot.offset..slot.offset + slot.len];
                    let scale = cpu.iter().fold(0.0f64, |a, &v| a.max(v.abs()));
                    let tol = Tol {
                        abs: TOL_GRAD_ABS_FRACTION * scale,
                        rel: TOL_GRAD_REL,
                    };
                    let kernel = if slot.name.starts_with("lstm") {
                        "lstm_backward + gemm"
                    } else {
                        "gemm (dense backward)"
                    };
                    out.push(compare(
                        kernel,
                        &what(&format!("∂L/∂{}", slot.name)),
                        &grads_gpu[m * p + slot.offset..m * p + slot.offset + slot.len],
                        cpu,
                        tol,
                    ));
                }
            }
            adam_step(&cfg, &mut adam, &mut params, &grads);
        }
        // Adam's first steps move each weight by ≈ lr·sign(g); a weight whose gradient is within f32
        // noise of zero may differ by up to lr·(relative gradient error), hence abs 1e-6 with lr 1e-3.
        out.push(compare(
            "adam",
            &format!("model {id}: weights after {steps} steps"),
            &params_gpu[m * p..(m + 1) * p],
            &params,
            Tol {
                abs: 1e-6,
                rel: 1e-5,
            },
        ));
    }
    Ok(out)
}

/// Whole fits: three epochs with dropout, shuffles, validation and early stopping on the device, against
/// `cpu::fit` of each model: loss history, best epoch, restored weights and validation predictions.
pub fn check_fit(gpu: &Gpu, pb: &Problem, epochs: usize) -> Result<Vec<CheckResult>, GpuError> {
    let patience = 2;
    let optim = pb.optim(patience);
    let mut engine = pb.engine(gpu, epochs, &optim)?;
    let states = engine.fit(false, |_, _| {})?;
    let history = engine.read_history()?;
    let params_gpu = engine.read_params()?;
    engine.evaluate(false, false);
    let preds = engine.read_predictions()?;
    let p = pb.layout.total;
    let mut out = Vec::new();
    for (m, &id) in pb.ids.iter().enumerate() {
        let (ts, tl, vs, vl) = pb.windows[m];
        let series = pb.scaled(m);
        let hyper = Hyper {
            epochs,
            batch_size: pb.batch,
            patience,
            adam: AdamConfig::default(),
            seed: pb.seed,
        };
        let mut state = CpuModel::new(&pb.layout, pb.seed, id);
        state.params = pb.initial_params(m);
        let report = fit(
            &pb.layout,
            &hyper,
            id,
            &mut state,
            &series,
            SplitWindows {
                train: Window { start: ts, len: tl },
                val: Window { start: vs, len: vl },
            },
        );
        let n = report.history.len();
        let s = &states[m];
        let mut g = Vec::new();
        let mut c = Vec::new();
        for (e, h) in report.history.iter().enumerate() {
            let at = (m * epochs + e) * 2;
            g.extend_from_slice(&history[at..at + 2]);
            c.extend_from_slice(&[h.train, h.val]);
        }
        let same_shape = s.epochs_run as usize == n && s.best_epoch as usize == report.best_epoch;
        let mut r = compare(
            "batch + loss + early_stop",
            &format!("model {id}: train/val loss of {n} epochs"),
            &g,
            &c,
            TOL_TRAINING,
        );
        if !same_shape {
            r.pass = false;
            r.what = format!(
                "{} (epochs run gpu {} cpu {n}, best epoch gpu {} cpu {})",
                r.what, s.epochs_run, s.best_epoch, report.best_epoch
            );
        }
        out.push(r);
        out.push(compare(
            "early_stop::restore_best",
            &format!("model {id}: restored weights"),
            &params_gpu[m * p..(m + 1) * p],
            &state.params,
            Tol {
                abs: 1e-4,
                rel: 1e-3,
            },
        ));
        let want = predict(
            &pb.layout,
            &state.params,
            &series,
            Window { start: vs, len: vl },
        );
        let stride = engine.shape.max_eval_len;
        out.push(compare(
            "batch::begin_eval + forward",
            &format!("model {id}: validation predictions"),
            &preds[m * stride..m * stride + vl],
            &want,
            TOL_PREDICTIONS,
        ));
    }
    Ok(out)
}

/// The bench's adapter probes: `matmul_wide` (the ceiling matmul) against the CPU product, and `fma_peak`
/// against its closed form, so the numbers the bench prints come from kernels that compute what they claim.
pub fn check_bench_probes(gpu: &Gpu, shape_seed: u64) -> Result<Vec<CheckResult>, GpuError> {
    let family = probe_family(gpu)?;
    let mut data = Data(shape_seed ^ 0x5851_f42d_4c95_7f2d);
    let mut out = Vec::new();
    // matmul_wide needs whole 128×128 tiles; k is free.
    let (m, n, k) = (
        128 * (1 + data.below(2)),
        128 * (1 + data.below(2)),
        1 + data.below(300),
    );
    let a = data.vec(m * k);
    let b = data.vec(k * n);
    let want: Vec<f64> = (0..m * n)
        .map(|x| {
            (0..k)
                .map(|kk| a[(x / n) * k + kk] * b[kk * n + x % n])
                .sum()
        })
        .collect();
    let p = GemmParams::row_major(m, n, k);
    let ubuf = gpu.uniform("matmul_wide check", &p);
    let abuf = gpu.storage_init("a", &to_f32(&a));
    let bbuf = gpu.storage_init("b", &to_f32(&b));
    let cbuf = gpu.storage("c", m * n);
    let bg = family.bind(gpu, &[&ubuf, &abuf, &bbuf, &cbuf, &abuf]);
    let grid = [(n / 128) as u32, (m / 128) as u32, 1];
    let launch = super::kernel::Launch::new(&family, "matmul_wide", bg, grid);
    super::kernel::submit(gpu, &[&launch]);
    let got = gpu.read_f32(&cbuf, 0, m * n)?;
    out.push(compare(
        "bench_probes::matmul_wide",
        &format!("A·B m={m} n={n} k={k}"),
        &got,
        &want,
        tol_matmul(k),
    ));

    // fma_peak: invocation (x, y) of a group holds a_r = a[x] + r (r < 16) and
    // b_g = (b[y], b[y]/2, b[y]/4, b[y]/8) + g (g < 4), adds a_r·b_g to each of its 64 vec4 accumulators
    // k times and writes the sum of all components.
    let (groups, k) = (2usize, 1 + data.below(60));
    let xa = to_f32(&data.vec(8));
    let yb = to_f32(&data.vec(8));
    let mut want = Vec::new();
    let mut magnitude = 0.0f64;
    for _group in 0..groups {
        for &y in &yb {
            for &x in &xa {
                let (mut sum, mut abs) = (0.0f64, 0.0f64);
                for r in 0..16 {
                    let ar = (x + r as f32) as f64;
                    for g in 0..4 {
                        for e in 0..4 {
                            let be = (y / (1 << e) as f32 + g as f32) as f64;
                            sum += k as f64 * ar * be;
                            abs += k as f64 * (ar * be).abs();
                        }
                    }
                }
                want.push(sum);
                magnitude = magnitude.max(abs);
            }
        }
    }
    let p = GemmParams {
        k: k as u32,
        ..Default::default()
    };
    let ubuf = gpu.uniform("fma_peak check", &p);
    let abuf = gpu.storage_init("a", &xa);
    let bbuf = gpu.storage_init("b", &yb);
    let cbuf = gpu.storage("c", groups * 64);
    let bg = family.bind(gpu, &[&ubuf, &abuf, &bbuf, &cbuf, &abuf]);
    let launch = super::kernel::Launch::new(&family, "fma_peak", bg, [groups as u32, 1, 1]);
    super::kernel::submit(gpu, &[&launch]);
    let got = gpu.read_f32(&cbuf, 0, groups * 64)?;
    // Each accumulator is a chain of k f32 FMAs (rounding ≤ k·u of its magnitude) and the result a sum of
    // 256 of them (≤ 256·u more), u = 2⁻²⁴; twice that bound (≤ 4·10⁻⁵ of the magnitude for k ≤ 60). An
    // indexing mistake (a wrong r, g, component or invocation) moves the result by whole terms
    // k·a_r·b_g, of order 1/256 of the magnitude, some 100× the bound.
    let u = f32::EPSILON as f64 / 2.0;
    out.push(compare(
        "bench_probes::fma_peak",
        &format!("closed form, {groups} groups, k={k}"),
        &got,
        &want,
        Tol {
            abs: 2.0 * (k + 256) as f64 * u * magnitude,
            rel: 0.0,
        },
    ));
    Ok(out)
}

/// Every check, in the order `gpulstm check` prints them, on shapes drawn from `shape_seed`.
pub fn run_all(gpu: &Gpu, shape_seed: u64) -> Result<Vec<CheckResult>, GpuError> {
    let pb = Problem::random(shape_seed);
    let mut all = check_gemm(gpu, shape_seed)?;
    all.extend(check_bench_probes(gpu, shape_seed)?);
    all.extend(check_training_step(gpu, &pb)?);
    all.extend(check_fit(gpu, &pb, 3)?);
    Ok(all)
}
