//! The whole-step and whole-fit checks: every kernel of a real training step of the engine compared with
//! the CPU reference (shuffle, gather, recurrence, dropout, dense, loss gradient, every parameter gradient,
//! Adam), and whole fits with early stopping. Each kernel family's standalone check lives beside its
//! launch builder in [`super::kernels`]; [`run_all`] runs them all, as `gpulstm check` and the GPU tests do.

use super::compare::{
    compare, to_f32, CheckResult, Tol, TOL_EXACT, TOL_EXACT_ISH, TOL_FORWARD,
    TOL_GRAD_ABS_FRACTION, TOL_GRAD_REL, TOL_PREDICTIONS, TOL_RESTORED, TOL_TRAINING,
};
use super::context::{Gpu, GpuError};
use super::device_layout::keras_gate_order;
use super::engine::{BatchEngine, EngineShape, ModelSetup, Optim};
use super::kernels::{self, View};
use super::tiles::Tiles;
use crate::check_problem::Problem;
use crate::fit::{AdamConfig, EarlyStopRule, Hyper, SplitWindows, Window};
use crate::model::LayerPlan;
use crate::reference::adam::{adam_step, AdamState};
use crate::reference::dropout::DropoutKey;
use crate::reference::loss::mse_grad;
use crate::reference::network::{backward, forward, LayerCache, NetworkCache};
use crate::reference::train_loop::{fit, gather_batch, predict, ReferenceModel};
use crate::rng;

/// The problem on the GPU engine: one [`BatchEngine`] holding its three models.
impl Problem {
    pub fn engine<'g>(
        &self,
        gpu: &'g Gpu,
        epochs: usize,
        optim: &Optim,
    ) -> Result<BatchEngine<'g>, GpuError> {
        self.engine_with(gpu, epochs, optim, &Tiles::defaults(gpu))
    }

    /// [`Problem::engine`] with given block shapes.
    pub fn engine_with<'g>(
        &self,
        gpu: &'g Gpu,
        epochs: usize,
        optim: &Optim,
        tiles: &Tiles,
    ) -> Result<BatchEngine<'g>, GpuError> {
        let shape = EngineShape {
            models: self.ids.len(),
            batch: self.batch,
            lookback: self.lookback,
            features: self.features,
            max_train_len: self.windows.iter().map(|w| w.train.len).max().unwrap_or(1),
            max_eval_len: self
                .windows
                .iter()
                .map(SplitWindows::longest)
                .max()
                .unwrap_or(1),
            epochs,
        };
        let series: Vec<f32> = self.raw.iter().flatten().map(|&v| v as f32).collect();
        let target = to_f32(&self.target);
        let mut engine =
            BatchEngine::new(gpu, &self.layout, shape, optim, tiles, (&series, &target))?;
        let setups: Vec<ModelSetup> = (0..self.ids.len())
            .map(|m| ModelSetup {
                model_id: self.ids[m],
                seed: self.seed,
                windows: self.windows[m],
                params: to_f32(&self.initial_params(m)),
                scaler: self.scaler(m),
            })
            .collect();
        engine.load_models(&setups)?;
        Ok(engine)
    }

    pub fn optim(&self, patience: usize) -> Optim {
        Optim {
            adam: AdamConfig::default(),
            patience,
            stopping: EarlyStopRule::Keras37,
        }
    }
}

/// Rows r < `rows` of every step of model m's `[steps·B][·]` view (first `width` columns), tight:
/// the part of a batch tensor the reference computes.
fn active_rows(
    probe: &(View, Vec<f32>),
    m: usize,
    batch: usize,
    rows: usize,
    width: usize,
) -> Vec<f32> {
    let (view, data) = probe;
    let mut out = Vec::new();
    for t in 0..view.rows / batch {
        for r in 0..rows {
            let at = view.off + m * view.model + (t * batch + r) * view.row;
            out.extend_from_slice(&data[at..at + width]);
        }
    }
    out
}

/// A tensor the engine exposes by name, and its readback.
type Probe = (View, Vec<f32>);

/// What the device recorded over the first epoch's steps: the shuffle, and at the first step (a full
/// batch) and the last (a partial one) every probe and the gradients; the weights after the epoch.
struct DeviceSteps {
    perm: Vec<u32>,
    /// Floats per model of the permutation buffer.
    stride: usize,
    steps: usize,
    /// At the first checked step, then the last.
    grads: Vec<Vec<f32>>,
    probes: Vec<Vec<(String, Probe)>>,
    params: Vec<f32>,
}

impl DeviceSteps {
    /// Whether `step` is one whose probes were read.
    fn checked(&self, step: usize) -> bool {
        is_checked(step, self.steps)
    }

    /// Which of the two checked steps `step` is.
    fn at(step: usize) -> usize {
        usize::from(step > 0)
    }

    fn probe(&self, step: usize, name: &str) -> &Probe {
        &self.probes[Self::at(step)]
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| unreachable!("every probe read above: {name}"))
            .1
    }
}

/// The steps of an epoch of `steps` whose probes are read: the first (a full batch) and the last (a
/// partial one).
fn is_checked(step: usize, steps: usize) -> bool {
    step == 0 || step == steps - 1
}

/// One epoch of training steps on the device, reading back what [`DeviceSteps`] holds.
fn run_steps(engine: &mut BatchEngine, pb: &Problem) -> Result<DeviceSteps, GpuError> {
    engine.begin_fit(false);
    engine.begin_epoch();
    let perm = engine.read_perm()?;
    let steps = pb.windows[0].train.len.div_ceil(pb.batch);
    let mut grads = Vec::new();
    let mut probes = Vec::new();
    for step in 0..steps {
        engine.train_step(step);
        if is_checked(step, steps) {
            grads.push(engine.read_grads()?);
            probes.push(read_probes(engine, pb)?);
        }
    }
    Ok(DeviceSteps {
        perm,
        stride: engine.shape.max_train_len,
        steps,
        grads,
        probes,
        params: engine.read_params()?,
    })
}

/// Every probe a step is checked on: the batch's inputs and targets, the loss gradient, and each
/// layer's gates, cells and hidden states (LSTM) or output.
fn read_probes(engine: &BatchEngine, pb: &Problem) -> Result<Vec<(String, Probe)>, GpuError> {
    let mut probes = Vec::new();
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
    Ok(probes)
}

/// Three training steps of every model (the third a partial batch), each kernel's output compared with
/// the reference: shuffle, gather, LSTM recurrence (gates, cells, hidden states), dropout, dense, loss
/// gradient, every parameter gradient (BPTT and the weight-gradient GEMMs), and the Adam update.
pub fn check_training_step(gpu: &Gpu, pb: &Problem) -> Result<Vec<CheckResult>, GpuError> {
    let optim = pb.optim(5);
    let mut engine = pb.engine(gpu, 3, &optim)?;
    let device = run_steps(&mut engine, pb)?;
    let mut out = Vec::new();
    for m in 0..pb.ids.len() {
        check_model_steps(pb, &device, m, &mut out);
    }
    Ok(out)
}

/// Model `m`'s epoch on the reference beside the device's: its shuffle, each checked step, and its
/// weights after Adam's steps.
fn check_model_steps(pb: &Problem, device: &DeviceSteps, m: usize, out: &mut Vec<CheckResult>) {
    let (t, b) = (pb.lookback, pb.batch);
    let p = pb.layout.total;
    let id = pb.ids[m];
    let Window { start, len } = pb.windows[m].train;
    let series = pb.scaled(m);
    let perm = rng::shuffle(len, pb.seed, id, 0);
    let stride = device.stride;
    out.push(compare(
        "batch::shuffle",
        &format!("model {id}: permutation of {len}"),
        &device.perm[m * stride..m * stride + len]
            .iter()
            .map(|&v| v as f32)
            .collect::<Vec<_>>(),
        &perm.iter().map(|&v| v as f64).collect::<Vec<_>>(),
        TOL_EXACT,
    ));
    let cfg = AdamConfig::default();
    let mut params = pb.initial_params(m);
    let mut adam = AdamState::new(p);
    for step in 0..device.steps {
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
        if device.checked(step) {
            let reference = ReferenceStep {
                m,
                step,
                rows,
                x: &x,
                y: &y,
                cache: &cache,
                dpred: &dpred,
                grads: &grads,
            };
            check_step(pb, device, &reference, out);
        }
        adam_step(&cfg, &mut adam, &mut params, &grads);
    }
    // Adam's first steps move each weight by ≈ lr·sign(g); a weight whose gradient is within f32
    // noise of zero may differ by up to lr·(relative gradient error), hence abs 1e-6 with lr 1e-3.
    out.push(compare(
        "adam",
        &format!("model {id}: weights after {} steps", device.steps),
        &device.params[m * p..(m + 1) * p],
        &params,
        Tol {
            abs: 1e-6,
            rel: 1e-5,
        },
    ));
}

/// One step of model `m` on the reference: its batch, forward cache, loss gradient and gradients.
struct ReferenceStep<'a> {
    m: usize,
    step: usize,
    rows: usize,
    x: &'a [f64],
    y: &'a [f64],
    cache: &'a NetworkCache,
    dpred: &'a [f64],
    grads: &'a [f64],
}

impl ReferenceStep<'_> {
    /// The device's `name` tensor at this step, as the rows the reference computed.
    fn rows_of(&self, pb: &Problem, device: &DeviceSteps, name: &str, width: usize) -> Vec<f32> {
        active_rows(
            device.probe(self.step, name),
            self.m,
            pb.batch,
            self.rows,
            width,
        )
    }

    /// The label of a comparison at this step.
    fn what(&self, pb: &Problem, s: &str) -> String {
        format!(
            "model {}, step {} ({} of {} rows): {s}",
            pb.ids[self.m], self.step, self.rows, pb.batch
        )
    }
}

/// A checked step: the gathered batch, every layer's forward outputs, the loss gradient and every
/// parameter gradient, device against reference.
fn check_step(pb: &Problem, device: &DeviceSteps, r: &ReferenceStep, out: &mut Vec<CheckResult>) {
    let f = pb.features;
    out.push(compare(
        "batch::gather",
        &r.what(pb, "inputs"),
        &r.rows_of(pb, device, "x", f),
        r.x,
        TOL_FORWARD,
    ));
    out.push(compare(
        "batch::gather",
        &r.what(pb, "targets"),
        &r.rows_of(pb, device, "y", 1),
        r.y,
        TOL_FORWARD,
    ));
    check_layers(pb, device, r, out);
    out.push(compare(
        "loss",
        &r.what(pb, "dL/dŷ"),
        &r.rows_of(pb, device, "dpred", 1),
        r.dpred,
        TOL_FORWARD,
    ));
    let p = pb.layout.total;
    let grads_gpu = &device.grads[DeviceSteps::at(r.step)];
    for slot in &pb.layout.tensors {
        let cpu = &r.grads[slot.offset..slot.offset + slot.len];
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
        let at = r.m * p + slot.offset;
        out.push(compare(
            kernel,
            &r.what(pb, &format!("∂L/∂{}", slot.name)),
            &grads_gpu[at..at + slot.len],
            cpu,
            tol,
        ));
    }
}

/// Each layer's forward outputs at a checked step: an LSTM's gates, cells and hidden states, a dropout
/// layer's or a dense layer's output.
fn check_layers(pb: &Problem, device: &DeviceSteps, r: &ReferenceStep, out: &mut Vec<CheckResult>) {
    // Width of the tensor flowing between layers.
    let mut width = pb.features;
    for (li, plan) in pb.layout.layers.iter().enumerate() {
        match plan {
            LayerPlan::Lstm { units, .. } | LayerPlan::Dense { units, .. } => width = *units,
            LayerPlan::Dropout { .. } => {}
        }
        let rows = |n: &str, width: usize| r.rows_of(pb, device, &format!("layer{li}.{n}"), width);
        let what = |s: &str| r.what(pb, &format!("layer {li} {s}"));
        match (plan, &r.cache.layers[li]) {
            (LayerPlan::Lstm { units, .. }, LayerCache::Lstm(lc)) => {
                let u = *units;
                out.push(compare(
                    "lstm_forward",
                    &what("gates"),
                    &keras_gate_order(&rows("gates", 4 * u), u),
                    &lc.gates,
                    TOL_FORWARD,
                ));
                out.push(compare(
                    "lstm_forward",
                    &what("cell"),
                    &rows("cell", u),
                    &lc.c,
                    TOL_FORWARD,
                ));
                out.push(compare(
                    "lstm_forward",
                    &what("hidden"),
                    &rows("hidden", u),
                    &lc.h,
                    TOL_FORWARD,
                ));
            }
            (LayerPlan::Dropout { .. }, _) => out.push(compare(
                "dropout",
                &what("output"),
                &rows("out", width),
                &r.cache.outputs[li],
                TOL_EXACT_ISH,
            )),
            (LayerPlan::Dense { units, .. }, _) => out.push(compare(
                "gemm (dense forward)",
                &what("output"),
                &rows("out", *units),
                &r.cache.outputs[li],
                TOL_FORWARD,
            )),
            _ => {}
        }
    }
}

/// Whole fits: three epochs with dropout, shuffles, validation and early stopping on the device, against
/// `reference::train_loop::fit` of each model: loss history, best epoch, restored weights and validation predictions.
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
        let windows = pb.windows[m];
        let series = pb.scaled(m);
        let hyper = Hyper {
            epochs,
            batch_size: pb.batch,
            patience,
            adam: AdamConfig::default(),
            seed: pb.seed,
            stopping: EarlyStopRule::Keras37,
        };
        let mut state = ReferenceModel::new(&pb.layout, pb.seed, id);
        state.params = pb.initial_params(m);
        let report = fit(&pb.layout, &hyper, id, &mut state, &series, windows);
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
            TOL_RESTORED,
        ));
        let want = predict(&pb.layout, &state.params, &series, windows.val);
        let stride = engine.shape.max_eval_len;
        out.push(compare(
            "batch::begin_eval + forward",
            &format!("model {id}: validation predictions"),
            &preds[m * stride..m * stride + windows.val.len],
            &want,
            TOL_PREDICTIONS,
        ));
    }
    Ok(out)
}

/// A kernel family's standalone check: name, CPU twin, function.
pub type KernelCheck = (
    &'static str,
    &'static str,
    fn(&Gpu, u64) -> Result<Vec<CheckResult>, GpuError>,
);

/// Every kernel family's standalone check, in the order `gpulstm check` prints them.
pub fn kernel_checks() -> Vec<KernelCheck> {
    use kernels::*;
    vec![
        ("gemm", gemm::CPU_TWIN, gemm::check),
        ("lstm_forward", lstm_forward::CPU_TWIN, lstm_forward::check),
        (
            "lstm_backward",
            lstm_backward::CPU_TWIN,
            lstm_backward::check,
        ),
        ("dropout", dropout::CPU_TWIN, dropout::check),
        ("loss", loss::CPU_TWIN, loss::check),
        ("adam", adam::CPU_TWIN, adam::check),
        ("batch", batch::CPU_TWIN, batch::check),
        ("early_stop", early_stop::CPU_TWIN, early_stop::check),
        (
            "yardsticks",
            "a plain f64 matmul; the closed form",
            super::yardstick::check,
        ),
    ]
}

/// Every check, in the order `gpulstm check` prints them, on shapes drawn from `shape_seed`: each
/// family on its own, then a training step and whole fits of the engine. `started(what)` is told
/// before each part (a slow shader compiler, such as GL's on a cold cache, takes minutes per part).
pub fn run_all(
    gpu: &Gpu,
    shape_seed: u64,
    started: &dyn Fn(&str),
) -> Result<Vec<CheckResult>, GpuError> {
    let mut all = Vec::new();
    for (family, _, check) in kernel_checks() {
        started(family);
        all.extend(check(gpu, shape_seed)?);
    }
    let pb = Problem::random(shape_seed);
    started("a training step");
    all.extend(check_training_step(gpu, &pb)?);
    started("whole fits");
    all.extend(check_fit(gpu, &pb, 3)?);
    Ok(all)
}
