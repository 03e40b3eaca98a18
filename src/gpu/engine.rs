//! The batched-model engine: M independent models (each with its own weights, Adam state, training window,
//! scaler, shuffle and dropout streams) trained in the same dispatches.
//!
//! Built once per run (or per chunk of models): buffers sized for the run's shapes, every dispatch of a
//! training step, an evaluation chunk and an epoch's bookkeeping recorded as [`Launch`]es with their bind
//! groups. A training step is one submission of a fixed list of dispatches whose length depends on the
//! layer list only, never on the sequence length. Nothing is read back inside an epoch; after each epoch
//! the host reads the per-model states (a few dozen bytes a model) to report progress and to see whether
//! any model is still training.

use super::context::{Gpu, GpuError};
use super::kernel::{grid_1d, submit, Family, Launch};
use super::kernels::{Kernels, LstmKernels};
use super::layout::{
    gemm_grid, DropoutParams, GemmParams, LstmParams, ModelState, RunConfig, StepParams,
    GEMM_ADD_BIAS,
};
use crate::model::{LayerPlan, ParamLayout};

/// Shapes fixed for the lifetime of an engine.
#[derive(Clone, Debug)]
pub struct EngineShape {
    /// Models trained side by side in this engine (one chunk of the run).
    pub models: usize,
    /// Batch size, and the row capacity of every activation buffer.
    pub batch: usize,
    /// Look-back T (time steps per sample).
    pub lookback: usize,
    pub features: usize,
    /// Largest training window of any model (shuffle buffer length).
    pub max_train_len: usize,
    /// Largest window ever evaluated (train or validation) for the prediction buffer.
    pub max_eval_len: usize,
    pub epochs: usize,
}

/// Optimiser and early-stopping settings shared by all models.
#[derive(Clone, Debug)]
pub struct Optim {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub epsilon: f64,
    pub patience: usize,
    pub seed: u64,
}

/// What one model starts from.
#[derive(Clone, Debug)]
pub struct ModelSetup {
    pub model_id: u32,
    pub train_start: usize,
    pub train_len: usize,
    pub val_start: usize,
    pub val_len: usize,
    /// Flat parameters (ParamLayout order).
    pub params: Vec<f32>,
    /// Per feature then the target: (min, 1/range) of the model's scaler; `(features + 1) * 2` values.
    pub scaler: Vec<f32>,
}

/// A view of an activation: `[M][rows][width]` (or `[M][T][rows][width]` when `seq`), starting at `off`
/// with `model` elements between models.
#[derive(Clone)]
struct View {
    buf: wgpu::Buffer,
    off: u32,
    model: u32,
    width: u32,
    seq: bool,
}

/// Bytes per model of the biggest buffer the engine allocates for this layout and shape: the model axis
/// is chunked so that this times the chunk size fits one storage binding.
pub fn largest_per_model_bytes(layout: &ParamLayout, batch: usize, lookback: usize) -> u64 {
    let (b, t) = (batch as u64, lookback as u64);
    let mut largest = layout.total as u64;
    for plan in &layout.layers {
        if let LayerPlan::Lstm { input, units, .. } = plan {
            let (i, u) = (*input as u64, *units as u64);
            largest = largest
                .max(t * b * 4 * u)
                .max((t + 1) * b * u)
                .max(t * b * i);
        }
    }
    largest * 4
}

/// How many models one engine may hold on this adapter.
pub fn max_models_per_engine(
    gpu: &Gpu,
    layout: &ParamLayout,
    batch: usize,
    lookback: usize,
) -> usize {
    let per_model = largest_per_model_bytes(layout, batch, lookback).max(1);
    let binding = gpu
        .limits
        .max_storage_buffer_binding_size
        .min(gpu.limits.max_buffer_size);
    let by_memory = (binding / per_model) as usize;
    let by_grid = gpu.limits.max_compute_workgroups_per_dimension as usize;
    by_memory.min(by_grid)
}

pub struct Engine<'g> {
    gpu: &'g Gpu,
    pub shape: EngineShape,
    param_count: usize,
    step_buf: wgpu::Buffer,
    states: wgpu::Buffer,
    params: wgpu::Buffer,
    grads: wgpu::Buffer,
    moment1: wgpu::Buffer,
    moment2: wgpu::Buffer,
    best: wgpu::Buffer,
    history: wgpu::Buffer,
    eval_pred: wgpu::Buffer,
    scaler: wgpu::Buffer,
    perm: wgpu::Buffer,
    begin_fit: Launch,
    shuffle: Launch,
    /// Every dispatch of one optimiser step, in order (built once; recorded per batch).
    train_step: Vec<Launch>,
    /// Every dispatch of one evaluation chunk: batch set-up, gather, forward, loss.
    eval_chunk: Vec<Launch>,
    end_epoch: Launch,
    save_best: Launch,
    restore_best: Launch,
    /// Dispatches issued so far (the bench reports dispatches per step from this).
    pub dispatches: u64,
    /// Longest training and validation windows of the loaded models (batches and evaluation chunks).
    longest: (usize, usize),
    /// Named intermediate buffers, for the kernel checks.
    probes: Vec<(String, wgpu::Buffer)>,
}

fn u32_of(x: usize) -> u32 {
    // Every size here was checked against the adapter's buffer limits (≤ 4 GiB) before use.
    x as u32
}

/// Operand of a GEMM: element (row, col) of model m is at off + m·model + row·row + col·col.
#[derive(Clone, Copy)]
struct Operand<'a> {
    buf: &'a wgpu::Buffer,
    off: usize,
    model: usize,
    row: usize,
    col: usize,
}

struct Builder<'g, 'k> {
    gpu: &'g Gpu,
    gemm: &'k Family,
    models: u32,
}

impl Builder<'_, '_> {
    /// C (m×n) = A (m×k) · B (k×n) [+ bias], one dispatch for all models.
    #[allow(clippy::too_many_arguments)]
    fn gemm(
        &self,
        label: &'static str,
        (m, n, k): (usize, usize, usize),
        a: Operand,
        b: Operand,
        c: Operand,
        bias: Option<(&wgpu::Buffer, usize, usize)>,
    ) -> Launch {
        let p = GemmParams {
            m: u32_of(m),
            n: u32_of(n),
            k: u32_of(k),
            flags: if bias.is_some() { GEMM_ADD_BIAS } else { 0 },
            a_off: u32_of(a.off),
            a_model: u32_of(a.model),
            a_row: u32_of(a.row),
            a_col: u32_of(a.col),
            b_off: u32_of(b.off),
            b_model: u32_of(b.model),
            b_row: u32_of(b.row),
            b_col: u32_of(b.col),
            c_off: u32_of(c.off),
            c_model: u32_of(c.model),
            c_row: u32_of(c.row),
            c_col: u32_of(c.col),
            bias_off: bias.map(|x| u32_of(x.1)).unwrap_or(0),
            bias_model: bias.map(|x| u32_of(x.2)).unwrap_or(0),
            ..Default::default()
        };
        let ubuf = self.gpu.uniform(label, &p);
        let bias_buf = bias.map(|x| x.0).unwrap_or(b.buf);
        let bg = self
            .gemm
            .bind(self.gpu, &[&ubuf, a.buf, b.buf, c.buf, bias_buf]);
        let mut launch = Launch::new(self.gemm, "main", bg, gemm_grid(m, n, self.models as usize));
        launch.label = label;
        launch
    }

    /// C (1×n) = Σ over the k rows of B: bias gradients.
    fn column_sum(
        &self,
        label: &'static str,
        (n, k): (usize, usize),
        b: Operand,
        c: Operand,
    ) -> Launch {
        let p = GemmParams {
            m: 1,
            n: u32_of(n),
            k: u32_of(k),
            b_off: u32_of(b.off),
            b_model: u32_of(b.model),
            b_row: u32_of(b.row),
            b_col: u32_of(b.col),
            c_off: u32_of(c.off),
            c_model: u32_of(c.model),
            c_col: u32_of(c.col),
            ..Default::default()
        };
        let ubuf = self.gpu.uniform(label, &p);
        let bg = self
            .gemm
            .bind(self.gpu, &[&ubuf, b.buf, b.buf, c.buf, b.buf]);
        let mut launch = Launch::new(
            self.gemm,
            "column_sum",
            bg,
            [u32_of(n.div_ceil(64)), 1, self.models],
        );
        launch.label = label;
        launch
    }
}

impl<'g> Engine<'g> {
    /// Allocates every buffer and records every dispatch for `shape.models` models. `series` is the raw
    /// feature matrix `[rows][features]` and `target` the raw target column, uploaded once.
    pub fn new(
        gpu: &'g Gpu,
        layout: &ParamLayout,
        shape: EngineShape,
        optim: &Optim,
        series: &[f32],
        target: &[f32],
    ) -> Result<Engine<'g>, GpuError> {
        let limit = max_models_per_engine(gpu, layout, shape.batch, shape.lookback);
        if shape.models == 0 || shape.models > limit {
            return Err(GpuError::TooLarge(format!(
                "{} models requested in one engine; this adapter holds at most {limit} of this layout \
                 (the caller chunks the model axis)",
                shape.models
            )));
        }
        gpu.checked("allocating the engine", || {
            Self::build(gpu, layout, shape, optim, series, target)
        })?
    }

    fn build(
        gpu: &'g Gpu,
        layout: &ParamLayout,
        shape: EngineShape,
        optim: &Optim,
        series: &[f32],
        target: &[f32],
    ) -> Result<Engine<'g>, GpuError> {
        let kernels = Kernels::build(gpu)?;
        let m = shape.models;
        let (b, t, f) = (shape.batch, shape.lookback, shape.features);
        let p = layout.total;
        let max_dim = gpu.limits.max_compute_workgroups_per_dimension;
        let config = RunConfig {
            models: u32_of(m),
            batch: u32_of(b),
            steps: u32_of(t),
            features: u32_of(f),
            perm_stride: u32_of(shape.max_train_len.max(1)),
            eval_stride: u32_of(shape.max_eval_len.max(1)),
            max_epochs: u32_of(shape.epochs),
            patience: u32_of(optim.patience),
            seed_lo: optim.seed as u32,
            seed_hi: (optim.seed >> 32) as u32,
            lr: optim.lr as f32,
            beta1: optim.beta1 as f32,
            beta2: optim.beta2 as f32,
            epsilon: optim.epsilon as f32,
            param_count: u32_of(p),
            pad0: 0,
        };
        let cfg_buf = gpu.uniform("run config", &config);
        let step_buf = gpu.uniform("step params", &StepParams::default());
        let states = gpu.storage("states", m * std::mem::size_of::<ModelState>() / 4);
        let params = gpu.storage("params", m * p);
        let grads = gpu.storage("grads", m * p);
        let moment1 = gpu.storage("adam m", m * p);
        let moment2 = gpu.storage("adam v", m * p);
        let best = gpu.storage("best params", m * p);
        let history = gpu.storage("history", m * shape.epochs * 2);
        let eval_pred = gpu.storage("eval predictions", m * shape.max_eval_len.max(1));
        let perm = gpu.storage("perm", m * shape.max_train_len.max(1));
        let series_buf = gpu.storage_init("series", series);
        let target_buf = gpu.storage_init("target", target);
        let scaler = gpu.storage("scaler", m * (f + 1) * 2);
        let x = gpu.storage("x", m * t * b * f);
        let y = gpu.storage("y", m * b);

        let base = [&cfg_buf, &step_buf, &states];
        let per_model_grid = [u32_of(m.div_ceil(64)), 1, 1];
        let per_param_grid = grid_1d((m * p) as u64, 256, max_dim);
        let batch_bg = kernels.batch.bind(
            gpu,
            &with_common(base, &[&perm, &series_buf, &target_buf, &scaler, &x, &y]),
        );
        let es_bg = kernels
            .early_stop
            .bind(gpu, &with_common(base, &[&params, &best, &history]));
        let shuffle = Launch::new(&kernels.batch, "shuffle", batch_bg.clone(), per_model_grid);
        let begin_step = Launch::new(
            &kernels.batch,
            "begin_step",
            batch_bg.clone(),
            per_model_grid,
        );
        let begin_eval = Launch::new(
            &kernels.batch,
            "begin_eval",
            batch_bg.clone(),
            per_model_grid,
        );
        let gather = Launch::new(
            &kernels.batch,
            "gather",
            batch_bg,
            grid_1d((m * t * b * f) as u64, 256, max_dim),
        );
        let begin_fit = Launch::new(
            &kernels.early_stop,
            "begin_fit",
            es_bg.clone(),
            per_model_grid,
        );
        let end_epoch = Launch::new(
            &kernels.early_stop,
            "end_epoch",
            es_bg.clone(),
            per_model_grid,
        );
        let save_best = Launch::new(
            &kernels.early_stop,
            "save_best",
            es_bg.clone(),
            per_param_grid,
        );
        let restore_best = Launch::new(&kernels.early_stop, "restore_best", es_bg, per_param_grid);
        let adam = Launch::new(
            &kernels.adam,
            "main",
            kernels.adam.bind(
                gpu,
                &with_common(base, &[&params, &grads, &moment1, &moment2]),
            ),
            per_param_grid,
        );

        let builder = Builder {
            gpu,
            gemm: &kernels.gemm,
            models: u32_of(m),
        };
        let mut probes: Vec<(String, wgpu::Buffer)> = vec![
            ("x".into(), x.clone()),
            ("y".into(), y.clone()),
            ("grads".into(), grads.clone()),
        ];

        // ---- forward graph --------------------------------------------------------------------
        let mut forward = Vec::new();
        let mut inputs: Vec<View> = Vec::new(); // input view of each layer
        let mut lstm_state: Vec<Option<(wgpu::Buffer, wgpu::Buffer, wgpu::Buffer, LstmKernels)>> =
            Vec::new();
        let mut dgates_len = 1usize;
        let mut cur = View {
            buf: x.clone(),
            off: 0,
            model: u32_of(t * b * f),
            width: u32_of(f),
            seq: true,
        };
        for (li, plan) in layout.layers.iter().enumerate() {
            inputs.push(cur.clone());
            match *plan {
                LayerPlan::Lstm {
                    input,
                    units,
                    return_sequences,
                    kernel,
                    recurrent,
                    bias,
                } => {
                    let g4 = 4 * units;
                    dgates_len = dgates_len.max(t * b * g4);
                    let gates = gpu.storage("gates", m * t * b * g4);
                    let cell = gpu.storage("cell", m * t * b * units);
                    let hidden = gpu.storage("hidden", m * (t + 1) * b * units);
                    probes.push((format!("layer{li}.gates"), gates.clone()));
                    probes.push((format!("layer{li}.cell"), cell.clone()));
                    probes.push((format!("layer{li}.hidden"), hidden.clone()));
                    // Input projection of every step at once: gates = x·W + b over T·B rows.
                    forward.push(builder.gemm(
                        "lstm input projection",
                        (t * b, g4, input),
                        Operand {
                            buf: &cur.buf,
                            off: cur.off as usize,
                            model: cur.model as usize,
                            row: input,
                            col: 1,
                        },
                        Operand {
                            buf: &params,
                            off: kernel,
                            model: p,
                            row: g4,
                            col: 1,
                        },
                        Operand {
                            buf: &gates,
                            off: 0,
                            model: t * b * g4,
                            row: g4,
                            col: 1,
                        },
                        Some((&params, bias, p)),
                    ));
                    let lk = LstmKernels::build(gpu, units, b)?;
                    let lp = LstmParams {
                        steps: u32_of(t),
                        rows: u32_of(b),
                        recurrent_off: u32_of(recurrent),
                        param_stride: u32_of(p),
                        ..Default::default()
                    };
                    let lbuf = gpu.uniform("lstm params", &lp);
                    let bg = lk
                        .forward
                        .bind(gpu, &[&lbuf, &params, &gates, &cell, &hidden]);
                    let wgs = u32_of(b.div_ceil(lk.rows_per_workgroup as usize));
                    let mut launch = Launch::new(&lk.forward, "main", bg, [wgs, u32_of(m), 1]);
                    launch.label = "lstm recurrence";
                    forward.push(launch);
                    cur = if return_sequences {
                        View {
                            buf: hidden.clone(),
                            off: u32_of(b * units),
                            model: u32_of((t + 1) * b * units),
                            width: u32_of(units),
                            seq: true,
                        }
                    } else {
                        View {
                            buf: hidden.clone(),
                            off: u32_of(t * b * units),
                            model: u32_of((t + 1) * b * units),
                            width: u32_of(units),
                            seq: false,
                        }
                    };
                    lstm_state.push(Some((gates, cell, hidden, lk)));
                }
                LayerPlan::Dropout { rate, layer_index } => {
                    let steps = if cur.seq { t } else { 1 };
                    let len = steps * b * cur.width as usize;
                    let out = gpu.storage("dropout out", m * len);
                    probes.push((format!("layer{li}.out"), out.clone()));
                    forward.push(dropout_launch(
                        gpu,
                        &kernels,
                        base,
                        max_dim,
                        m,
                        steps,
                        &cur,
                        layer_index,
                        rate,
                        &out,
                        len,
                    ));
                    cur = View {
                        buf: out,
                        off: 0,
                        model: u32_of(len),
                        width: cur.width,
                        seq: cur.seq,
                    };
                    lstm_state.push(None);
                }
                LayerPlan::Dense {
                    input,
                    units,
                    kernel,
                    bias,
                } => {
                    let out = gpu.storage("dense out", m * b * units);
                    probes.push((format!("layer{li}.out"), out.clone()));
                    forward.push(builder.gemm(
                        "dense forward",
                        (b, units, input),
                        Operand {
                            buf: &cur.buf,
                            off: cur.off as usize,
                            model: cur.model as usize,
                            row: input,
                            col: 1,
                        },
                        Operand {
                            buf: &params,
                            off: kernel,
                            model: p,
                            row: units,
                            col: 1,
                        },
                        Operand {
                            buf: &out,
                            off: 0,
                            model: b * units,
                            row: units,
                            col: 1,
                        },
                        Some((&params, bias, p)),
                    ));
                    cur = View {
                        buf: out,
                        off: 0,
                        model: u32_of(b * units),
                        width: u32_of(units),
                        seq: false,
                    };
                    lstm_state.push(None);
                }
            }
        }
        let pred = cur.clone();
        let dpred = gpu.storage("dpred", m * b);
        probes.push(("dpred".into(), dpred.clone()));
        let loss = Launch::new(
            &kernels.loss,
            "main",
            kernels.loss.bind(
                gpu,
                &with_common(base, &[&pred.buf, &y, &dpred, &eval_pred]),
            ),
            per_model_grid,
        );

        // ---- backward graph -------------------------------------------------------------------
        // `grad` is dL/d(output of the current layer), a tight buffer [M][T_l][B][W].
        let dgates = gpu.storage("dgates", m * dgates_len);
        let mut backward = Vec::new();
        let mut grad = dpred.clone();
        for (li, plan) in layout.layers.iter().enumerate().rev() {
            let input = &inputs[li];
            let need_dx = li > 0;
            match *plan {
                LayerPlan::Dense {
                    input: n_in,
                    units,
                    kernel,
                    bias,
                } => {
                    backward.push(builder.gemm(
                        "dense dW",
                        (n_in, units, b),
                        Operand {
                            buf: &input.buf,
                            off: input.off as usize,
                            model: input.model as usize,
                            row: 1,
                            col: n_in,
                        },
                        Operand {
                            buf: &grad,
                            off: 0,
                            model: b * units,
                            row: units,
                            col: 1,
                        },
                        Operand {
                            buf: &grads,
                            off: kernel,
                            model: p,
                            row: units,
                            col: 1,
                        },
                        None,
                    ));
                    backward.push(builder.column_sum(
                        "dense db",
                        (units, b),
                        Operand {
                            buf: &grad,
                            off: 0,
                            model: b * units,
                            row: units,
                            col: 1,
                        },
                        Operand {
                            buf: &grads,
                            off: bias,
                            model: p,
                            row: 0,
                            col: 1,
                        },
                    ));
                    if need_dx {
                        let dx = gpu.storage("dense dx", m * b * n_in);
                        backward.push(builder.gemm(
                            "dense dx",
                            (b, n_in, units),
                            Operand {
                                buf: &grad,
                                off: 0,
                                model: b * units,
                                row: units,
                                col: 1,
                            },
                            Operand {
                                buf: &params,
                                off: kernel,
                                model: p,
                                row: 1,
                                col: units,
                            },
                            Operand {
                                buf: &dx,
                                off: 0,
                                model: b * n_in,
                                row: n_in,
                                col: 1,
                            },
                            None,
                        ));
                        grad = dx;
                    }
                }
                LayerPlan::Dropout { rate, layer_index } => {
                    let steps = if input.seq { t } else { 1 };
                    let len = steps * b * input.width as usize;
                    let dx = gpu.storage("dropout dx", m * len);
                    let from = View {
                        buf: grad.clone(),
                        off: 0,
                        model: u32_of(len),
                        width: input.width,
                        seq: input.seq,
                    };
                    backward.push(dropout_launch(
                        gpu,
                        &kernels,
                        base,
                        max_dim,
                        m,
                        steps,
                        &from,
                        layer_index,
                        rate,
                        &dx,
                        len,
                    ));
                    grad = dx;
                }
                LayerPlan::Lstm {
                    input: n_in,
                    units,
                    return_sequences,
                    kernel,
                    recurrent,
                    bias,
                } => {
                    let g4 = 4 * units;
                    let Some((gates, cell, hidden, lk)) = lstm_state[li].as_ref() else {
                        unreachable!("every LSTM layer recorded its buffers in the forward graph")
                    };
                    let lp = LstmParams {
                        steps: u32_of(t),
                        rows: u32_of(b),
                        recurrent_off: u32_of(recurrent),
                        param_stride: u32_of(p),
                        dh_every_step: u32::from(return_sequences),
                        ..Default::default()
                    };
                    let lbuf = gpu.uniform("lstm back params", &lp);
                    let bg = lk
                        .backward
                        .bind(gpu, &[&lbuf, &params, gates, cell, &grad, &dgates]);
                    let wgs = u32_of(b.div_ceil(lk.rows_per_workgroup as usize));
                    let mut launch = Launch::new(&lk.backward, "main", bg, [wgs, u32_of(m), 1]);
                    launch.label = "lstm bptt";
                    backward.push(launch);
                    // The BPTT kernel packs dgates tightly per layer ([M][T][B][4U] of this layer), inside a scratch
                    // buffer sized for the widest layer.
                    let dg = Operand {
                        buf: &dgates,
                        off: 0,
                        model: t * b * g4,
                        row: g4,
                        col: 1,
                    };
                    backward.push(builder.gemm(
                        "lstm dW",
                        (n_in, g4, t * b),
                        Operand {
                            buf: &input.buf,
                            off: input.off as usize,
                            model: input.model as usize,
                            row: 1,
                            col: n_in,
                        },
                        dg,
                        Operand {
                            buf: &grads,
                            off: kernel,
                            model: p,
                            row: g4,
                            col: 1,
                        },
                        None,
                    ));
                    // h_{t-1} for t = 0..T is hidden[0..T]: the stored zero initial state makes the
                    // shift a plain offset.
                    backward.push(builder.gemm(
                        "lstm dU",
                        (units, g4, t * b),
                        Operand {
                            buf: hidden,
                            off: 0,
                            model: (t + 1) * b * units,
                            row: 1,
                            col: units,
                        },
                        dg,
                        Operand {
                            buf: &grads,
                            off: recurrent,
                            model: p,
                            row: g4,
                            col: 1,
                        },
                        None,
                    ));
                    backward.push(builder.column_sum(
                        "lstm db",
                        (g4, t * b),
                        dg,
                        Operand {
                            buf: &grads,
                            off: bias,
                            model: p,
                            row: 0,
                            col: 1,
                        },
                    ));
                    if need_dx {
                        let dx = gpu.storage("lstm dx", m * t * b * n_in);
                        backward.push(builder.gemm(
                            "lstm dx",
                            (t * b, n_in, g4),
                            dg,
                            Operand {
                                buf: &params,
                                off: kernel,
                                model: p,
                                row: 1,
                                col: g4,
                            },
                            Operand {
                                buf: &dx,
                                off: 0,
                                model: t * b * n_in,
                                row: n_in,
                                col: 1,
                            },
                            None,
                        ));
                        grad = dx;
                    }
                }
            }
        }
        probes.push(("dgates".into(), dgates.clone()));

        // begin_step and begin_eval pick the rows of the batch; everything after is shared.
        let mut train_step = vec![begin_step, gather.clone()];
        train_step.extend(forward.iter().cloned());
        train_step.push(loss.clone());
        train_step.extend(backward);
        train_step.push(adam);
        let mut eval_chunk = vec![begin_eval, gather];
        eval_chunk.extend(forward);
        eval_chunk.push(loss);

        Ok(Engine {
            gpu,
            param_count: p,
            step_buf,
            states,
            params,
            grads,
            moment1,
            moment2,
            best,
            history,
            eval_pred,
            scaler,
            perm,
            begin_fit,
            shuffle,
            train_step,
            eval_chunk,
            end_epoch,
            save_best,
            restore_best,
            dispatches: 0,
            longest: (shape.max_train_len, shape.max_eval_len),
            probes,
            shape,
        })
    }

    pub fn param_count(&self) -> usize {
        self.param_count
    }

    /// Uploads every model's starting point: weights, scaler, windows; fresh Adam moments and counters.
    pub fn load_models(&mut self, setups: &[ModelSetup]) -> Result<(), GpuError> {
        let m = self.shape.models;
        if setups.len() != m {
            return Err(GpuError::TooLarge(format!(
                "{} model setups for an engine of {m}",
                setups.len()
            )));
        }
        let p = self.param_count;
        let sc = (self.shape.features + 1) * 2;
        let mut states = Vec::with_capacity(m);
        let mut params = Vec::with_capacity(m * p);
        let mut scaler = Vec::with_capacity(m * sc);
        for s in setups {
            if s.params.len() != p || s.scaler.len() != sc {
                return Err(GpuError::TooLarge(format!(
                    "model {} has {} parameters and {} scaler values; the layout needs {p} and {sc}",
                    s.model_id,
                    s.params.len(),
                    s.scaler.len()
                )));
            }
            if s.train_len > self.shape.max_train_len
                || s.train_len.max(s.val_len) > self.shape.max_eval_len
            {
                return Err(GpuError::TooLarge(format!(
                    "model {}'s windows exceed the engine's buffers",
                    s.model_id
                )));
            }
            states.push(ModelState {
                model_id: s.model_id,
                train_start: u32_of(s.train_start),
                train_len: u32_of(s.train_len),
                val_start: u32_of(s.val_start),
                val_len: u32_of(s.val_len),
                ..Default::default()
            });
            params.extend_from_slice(&s.params);
            scaler.extend_from_slice(&s.scaler);
        }
        self.longest = (
            setups.iter().map(|s| s.train_len).max().unwrap_or(0),
            setups.iter().map(|s| s.val_len).max().unwrap_or(0),
        );
        let q = &self.gpu.queue;
        q.write_buffer(&self.states, 0, bytemuck::cast_slice(&states));
        q.write_buffer(&self.params, 0, bytemuck::cast_slice(&params));
        q.write_buffer(&self.best, 0, bytemuck::cast_slice(&params));
        q.write_buffer(&self.scaler, 0, bytemuck::cast_slice(&scaler));
        let zeros = vec![0.0f32; m * p];
        q.write_buffer(&self.moment1, 0, bytemuck::cast_slice(&zeros));
        q.write_buffer(&self.moment2, 0, bytemuck::cast_slice(&zeros));
        q.write_buffer(&self.grads, 0, bytemuck::cast_slice(&zeros));
        Ok(())
    }

    /// Points every model at new windows (the seed protocol's next split), keeping weights, Adam state
    /// and counters.
    pub fn set_windows(
        &mut self,
        windows: &[(usize, usize, usize, usize)],
    ) -> Result<(), GpuError> {
        let mut states = self.read_states()?;
        self.longest = (
            windows.iter().map(|w| w.1).max().unwrap_or(0),
            windows.iter().map(|w| w.3).max().unwrap_or(0),
        );
        for (s, w) in states.iter_mut().zip(windows) {
            s.train_start = u32_of(w.0);
            s.train_len = u32_of(w.1);
            s.val_start = u32_of(w.2);
            s.val_len = u32_of(w.3);
        }
        self.gpu
            .queue
            .write_buffer(&self.states, 0, bytemuck::cast_slice(&states));
        Ok(())
    }

    /// Sets the step parameters and submits `launches` as one command buffer; returns the dispatch count.
    fn submit_step(&self, step: StepParams, launches: &[&Launch]) -> u64 {
        self.gpu
            .queue
            .write_buffer(&self.step_buf, 0, bytemuck::bytes_of(&step));
        submit(self.gpu, launches) as u64
    }

    /// Resets early stopping for a new fit (Keras `fit`): Adam state and counters carry over, and with
    /// `carry_best` the best validation loss of earlier fits too (see early_stop.wgsl).
    pub fn begin_fit(&mut self, carry_best: bool) {
        let step = StepParams {
            carry_best: u32::from(carry_best),
            ..Default::default()
        };
        self.dispatches += self.submit_step(step, &[&self.begin_fit]);
    }

    /// New shuffle for every live model; resets the epoch's training-loss sum.
    pub fn begin_epoch(&mut self) {
        self.dispatches += self.submit_step(StepParams::default(), &[&self.shuffle]);
    }

    /// One optimiser step on batch `batch_index` of the epoch, for every model that has that batch.
    pub fn train_step(&mut self, batch_index: usize) {
        let step = StepParams {
            batch_index: u32_of(batch_index),
            training: 1,
            ..Default::default()
        };
        let refs: Vec<&Launch> = self.train_step.iter().collect();
        self.dispatches += self.submit_step(step, &refs);
    }

    /// The dispatches of one training step (forward, backward and Adam), in order.
    pub fn step_launches(&self) -> &[Launch] {
        &self.train_step
    }

    /// Runs one evaluation pass (dropout off) over the validation or training window of every model,
    /// leaving Σ squared error in each state and the predictions in the prediction buffer.
    pub fn evaluate(&mut self, train_window: bool, only_alive: bool) {
        let longest = if train_window {
            self.longest.0
        } else {
            self.longest.1
        };
        let chunks = longest.div_ceil(self.shape.batch).max(1);
        let refs: Vec<&Launch> = self.eval_chunk.iter().collect();
        let mut dispatches = 0;
        for chunk in 0..chunks {
            let step = StepParams {
                training: 0,
                eval_train_window: u32::from(train_window),
                chunk: u32_of(chunk),
                only_alive: u32::from(only_alive),
                ..Default::default()
            };
            dispatches += self.submit_step(step, &refs);
        }
        self.dispatches += dispatches;
    }

    /// One whole epoch for every live model: shuffle, every batch, validation loss, early stopping.
    /// Returns the states read back after it (the only readback of the epoch).
    pub fn run_epoch(&mut self) -> Result<Vec<ModelState>, GpuError> {
        self.begin_epoch();
        let batches = self.longest.0.div_ceil(self.shape.batch);
        for bi in 0..batches {
            self.train_step(bi);
        }
        self.evaluate(false, true);
        self.dispatches +=
            self.submit_step(StepParams::default(), &[&self.end_epoch, &self.save_best]);
        self.read_states()
    }

    /// Keras `fit` for every model: epochs until each has early-stopped or run `epochs`, then the best
    /// weights restored. `on_epoch` sees the states after every epoch.
    pub fn fit(
        &mut self,
        carry_best: bool,
        mut on_epoch: impl FnMut(usize, &[ModelState]),
    ) -> Result<Vec<ModelState>, GpuError> {
        self.begin_fit(carry_best);
        let mut states = Vec::new();
        for epoch in 0..self.shape.epochs {
            states = self.run_epoch()?;
            on_epoch(epoch, &states);
            if states.iter().all(|s| s.alive == 0) {
                break;
            }
        }
        self.dispatches += self.submit_step(StepParams::default(), &[&self.restore_best]);
        Ok(states)
    }

    pub fn read_states(&self) -> Result<Vec<ModelState>, GpuError> {
        let n = self.shape.models * std::mem::size_of::<ModelState>();
        let bytes = self.gpu.read_bytes(&self.states, 0, n as u64)?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }

    /// `[M][epochs][2]` (train, val) losses; entries past a model's `epochs_run` are meaningless.
    pub fn read_history(&self) -> Result<Vec<f32>, GpuError> {
        self.gpu
            .read_f32(&self.history, 0, self.shape.models * self.shape.epochs * 2)
    }

    pub fn read_params(&self) -> Result<Vec<f32>, GpuError> {
        self.gpu
            .read_f32(&self.params, 0, self.shape.models * self.param_count)
    }

    pub fn read_grads(&self) -> Result<Vec<f32>, GpuError> {
        self.gpu
            .read_f32(&self.grads, 0, self.shape.models * self.param_count)
    }

    /// Predictions of the last evaluation pass: `[M][max_eval_len]`.
    pub fn read_predictions(&self) -> Result<Vec<f32>, GpuError> {
        self.gpu.read_f32(
            &self.eval_pred,
            0,
            self.shape.models * self.shape.max_eval_len.max(1),
        )
    }

    pub fn read_perm(&self) -> Result<Vec<u32>, GpuError> {
        let n = self.shape.models * self.shape.max_train_len.max(1);
        let bytes = self.gpu.read_bytes(&self.perm, 0, (n * 4) as u64)?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }

    /// An intermediate buffer by name (`x`, `y`, `dpred`, `grads`, `dgates`, `layer{i}.gates|cell|hidden|out`).
    pub fn read_probe(&self, name: &str) -> Result<Vec<f32>, GpuError> {
        let buf = self
            .probes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.clone())
            .ok_or_else(|| GpuError::Readback(format!("no buffer named {name}")))?;
        self.gpu.read_f32(&buf, 0, (buf.size() / 4) as usize)
    }
}

/// The three bindings every training-loop kernel starts with, then the kernel's own.
fn with_common<'a>(
    base: [&'a wgpu::Buffer; 3],
    extra: &[&'a wgpu::Buffer],
) -> Vec<&'a wgpu::Buffer> {
    let mut v = base.to_vec();
    v.extend_from_slice(extra);
    v
}

#[allow(clippy::too_many_arguments)]
fn dropout_launch(
    gpu: &Gpu,
    kernels: &Kernels,
    common: [&wgpu::Buffer; 3],
    max_dim: u32,
    models: usize,
    steps: usize,
    input: &View,
    layer_index: usize,
    rate: f64,
    out: &wgpu::Buffer,
    len: usize,
) -> Launch {
    let dp = DropoutParams {
        steps: u32_of(steps),
        units: input.width,
        layer_index: u32_of(layer_index),
        rate: rate as f32,
        in_off: input.off,
        in_model: input.model,
        out_off: 0,
        out_model: u32_of(len),
    };
    let ubuf = gpu.uniform("dropout params", &dp);
    let bg = kernels.dropout.bind(
        gpu,
        &[common[0], common[1], common[2], &ubuf, &input.buf, out],
    );
    Launch::new(
        &kernels.dropout,
        "main",
        bg,
        grid_1d((models * len) as u64, 256, max_dim),
    )
}
