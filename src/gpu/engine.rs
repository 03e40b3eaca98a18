//! The batched-model engine: M independent models (each with its own weights, Adam state, training window,
//! scaler, shuffle and dropout streams) trained in the same dispatches.
//!
//! Built once per run (or per chunk of models): buffers sized for the run's shapes, every dispatch of a
//! training step, an evaluation chunk and an epoch's bookkeeping recorded as [`Launch`]es with their bind
//! groups. A training step is one submission of a fixed list of dispatches whose length depends on the
//! layer list only, never on the sequence length. Nothing is read back inside an epoch; after each epoch
//! the host reads the per-model states (a few dozen bytes a model) to report progress and to see whether
//! any model is still training. Parameters live in the device layout (device_layout.rs); the engine
//! converts to and from the Keras layout at its edges.

use super::context::{Gpu, GpuError};
use super::device_layout::{round4, DeviceLayout};
use super::kernel::{submit, Launch};
use super::kernels::adam::{step_size_table, Adam, STEP_SIZE_TABLE_LEN};
use super::kernels::batch::Batch;
use super::kernels::early_stop::EarlyStop;
use super::kernels::loss::Loss;
use super::kernels::{Common, Kernels, View};
use super::layers::{self, Built, Ctx, Slots, Wiring};
use super::shader_structs::{binding_bytes, u32_of, ModelStateGpu, RunUniform, StepParams};
use super::tiles::Tiles;
use crate::fit::{AdamConfig, EarlyStopRule, SplitWindows};
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
    pub adam: AdamConfig,
    pub patience: usize,
    /// What `restore_best` does when a fit ran all its epochs (see early_stop.wgsl).
    pub stopping: EarlyStopRule,
}

/// What one model starts from.
#[derive(Clone, Debug)]
pub struct ModelSetup {
    pub model_id: u32,
    /// With the model id, keys the model's initialisation, shuffles and dropout masks.
    pub seed: u64,
    pub windows: SplitWindows,
    /// Flat parameters, Keras layout (ParamLayout order).
    pub params: Vec<f32>,
    /// Per feature then the target: (min, 1/range) of the model's scaler; `(features + 1) * 2` values.
    pub scaler: Vec<f32>,
}

/// What the seed protocol carries from one split's fit into the next, besides the weights.
#[derive(Debug, Clone, PartialEq)]
pub struct Carried {
    pub m: Vec<f32>,
    pub v: Vec<f32>,
    pub adam_t: u32,
    pub epoch_serial: u32,
    pub best_val: f32,
}

/// Bytes of the largest buffer all models share besides the data: Adam's step-size table.
pub const SHARED_TABLE_BYTES: u64 = 4 * STEP_SIZE_TABLE_LEN as u64;

/// Floats per model of the engine's largest buffer: the model axis is chunked so that this times the
/// chunk size fits one storage binding.
pub fn largest_per_model(layout: &ParamLayout, batch: usize, lookback: usize) -> usize {
    let dl = DeviceLayout::new(layout);
    let (b, t) = (batch, lookback);
    let mut largest = dl.stride;
    for block in &dl.blocks {
        if let LayerPlan::Lstm { units, .. } = layout.layers[block.layer] {
            // Input rows, gates (and their gradients), cells.
            largest = largest
                .max((t + 1) * b * block.rows)
                .max(t * b * 4 * units)
                .max(t * b * round4(units));
        }
    }
    for plan in &layout.layers {
        if let LayerPlan::Lstm { input, units, .. } = *plan {
            largest = largest.max(t * b * round4(input.max(units)));
        }
    }
    largest
}

/// How many models one engine may hold on this device: from the limits it was opened with.
pub fn max_models_per_engine(
    gpu: &Gpu,
    layout: &ParamLayout,
    batch: usize,
    lookback: usize,
) -> usize {
    max_models(&gpu.limits, layout, batch, lookback)
}

/// How many models one engine may hold under `limits`: its largest per-model buffer times the model count
/// must fit one storage binding and one buffer, and the model axis of a grid one dimension.
pub fn max_models(
    limits: &wgpu::Limits,
    layout: &ParamLayout,
    batch: usize,
    lookback: usize,
) -> usize {
    let per_model = (largest_per_model(layout, batch, lookback) * 4).max(1) as u64;
    let binding = binding_bytes(limits);
    let by_memory = usize::try_from(binding / per_model).unwrap_or(usize::MAX);
    let by_grid = limits.max_compute_workgroups_per_dimension as usize;
    by_memory.min(by_grid)
}

/// The buffers every model has one slice of.
struct ModelBuffers {
    params: wgpu::Buffer,
    grads: wgpu::Buffer,
    moment1: wgpu::Buffer,
    moment2: wgpu::Buffer,
    best: wgpu::Buffer,
    history: wgpu::Buffer,
    eval_pred: wgpu::Buffer,
    scaler: wgpu::Buffer,
    perm: wgpu::Buffer,
}

impl ModelBuffers {
    fn new(gpu: &Gpu, shape: &EngineShape, stride: usize) -> ModelBuffers {
        let (m, p) = (shape.models, stride);
        ModelBuffers {
            params: gpu.storage("params", m * p),
            grads: gpu.storage("grads", m * p),
            moment1: gpu.storage("adam m", m * p),
            moment2: gpu.storage("adam v", m * p),
            best: gpu.storage("best params", m * p),
            history: gpu.storage("history", m * shape.epochs * 2),
            eval_pred: gpu.storage("eval predictions", m * shape.max_eval_len.max(1)),
            scaler: gpu.storage("scaler", m * (shape.features + 1) * 2),
            perm: gpu.storage("perm", m * shape.max_train_len.max(1)),
        }
    }
}

/// What every training-loop kernel reads about the run (shaders/state.wgsl `RunConfig`).
fn run_config(shape: &EngineShape, optim: &Optim, dl: &DeviceLayout) -> RunUniform {
    let (b, t) = (shape.batch, shape.lookback);
    let first = &dl.blocks[0];
    RunUniform {
        models: u32_of(shape.models),
        batch: u32_of(b),
        steps: u32_of(t),
        features: u32_of(shape.features),
        perm_stride: u32_of(shape.max_train_len.max(1)),
        eval_stride: u32_of(shape.max_eval_len.max(1)),
        max_epochs: u32_of(shape.epochs),
        patience: u32_of(optim.patience),
        restore_without_stop: u32::from(optim.stopping.restores_without_stop()),
        beta1: optim.adam.beta1 as f32,
        beta2: optim.adam.beta2 as f32,
        epsilon: optim.adam.epsilon as f32,
        param_stride: u32_of(dl.stride),
        // The gather writes the first layer's input rows.
        x_stride: u32_of(first.rows),
        x_model: u32_of((t + 1) * b * first.rows),
        lr_table_len: u32_of(STEP_SIZE_TABLE_LEN),
        ..Default::default()
    }
}

pub struct BatchEngine<'g> {
    gpu: &'g Gpu,
    pub shape: EngineShape,
    layout: DeviceLayout,
    common: Common,
    bufs: ModelBuffers,
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
    /// Named views of intermediate tensors, for the kernel checks.
    probes: Vec<(String, View)>,
}

impl<'g> BatchEngine<'g> {
    /// Allocates every buffer and records every dispatch for `shape.models` models. `series` is the raw
    /// feature matrix `[rows][features]` and `target` the raw target column, uploaded once.
    pub fn new(
        gpu: &'g Gpu,
        layout: &ParamLayout,
        shape: EngineShape,
        optim: &Optim,
        tiles: &Tiles,
        (series, target): (&[f32], &[f32]),
    ) -> Result<BatchEngine<'g>, GpuError> {
        let limit = max_models_per_engine(gpu, layout, shape.batch, shape.lookback);
        if shape.models == 0 || shape.models > limit || super::fault::injected("alloc") {
            return Err(GpuError::TooLarge(format!(
                "{} models requested in one engine; {} holds at most {limit} of this layout \
                 (the caller chunks the model axis)",
                shape.models, gpu.summary.name
            )));
        }
        // The buffers all models share must each fit one binding on their own.
        let binding = binding_bytes(&gpu.limits);
        let shared = [
            ("the data series", 4 * series.len().max(target.len()) as u64),
            ("Adam's step-size table", SHARED_TABLE_BYTES),
        ];
        if let Some((what, bytes)) = shared.iter().find(|(_, b)| *b > binding) {
            return Err(GpuError::TooLarge(format!(
                "{what} takes {bytes} bytes on the device, more than one storage binding of {} allows \
                 ({binding} bytes){}",
                gpu.summary.name,
                if *what == "the data series" {
                    "; use a shorter data file"
                } else {
                    ""
                }
            )));
        }
        gpu.checked("allocating the engine", || {
            Self::build(gpu, layout, shape, optim, tiles, (series, target))
        })?
    }

    fn build(
        gpu: &'g Gpu,
        layout: &ParamLayout,
        shape: EngineShape,
        optim: &Optim,
        tiles: &Tiles,
        (series, target): (&[f32], &[f32]),
    ) -> Result<BatchEngine<'g>, GpuError> {
        let kernels = Kernels::build(gpu)?;
        let dl = DeviceLayout::new(layout);
        let (m, b, t, f) = (shape.models, shape.batch, shape.lookback, shape.features);
        let p = dl.stride;
        let common = Common::new(gpu, &run_config(&shape, optim, &dl), m);
        let bufs = ModelBuffers::new(gpu, &shape, p);
        let params_t = gpu.storage("params transposed", m * p);
        let max_units = dl.blocks.iter().map(|bl| bl.cols / 4).max().unwrap_or(1);
        let dgates = gpu.storage("dgates", m * t * b * 4 * max_units);
        let dstate = gpu.storage("initial state grads", m * 2 * b * round4(max_units));
        let ctx = Ctx {
            gpu,
            kernels: &kernels,
            common: &common,
            tiles,
            models: m,
            batch: b,
            steps: t,
            layout: &dl,
            params: &bufs.params,
            params_t: &params_t,
            grads: &bufs.grads,
            dgates: &dgates,
            dstate: &dstate,
        };
        let built = build_layers(&ctx, layout)?;
        let last = built.layers.last().expect("a layer list is never empty");
        let y = gpu.storage("y", m * b);
        let loss = Loss {
            pred: &last.output.cols(0, 1),
            targets: &y,
            grad: &built.douts[built.douts.len() - 1],
            eval_pred: &bufs.eval_pred,
        }
        .launch(gpu, &kernels, &common, m)?;
        let lr_table = gpu.storage_init("adam step sizes", &step_size_table(&optim.adam));
        let batch = Batch {
            perm: &bufs.perm,
            series: &gpu.storage_init("series", series),
            target: &gpu.storage_init("target", target),
            scaler: &bufs.scaler,
            x: &built.first_x,
            y: &y,
            lr_table: &lr_table,
        }
        .launches(gpu, &kernels, &common, m, t * b * f)?;
        let stop = EarlyStop {
            params: &bufs.params,
            best: &bufs.best,
            history: &bufs.history,
            stride: p,
        }
        .launches(gpu, &kernels, &common, m)?;
        let adam = Adam {
            params: &bufs.params,
            grads: &bufs.grads,
            moment1: &bufs.moment1,
            moment2: &bufs.moment2,
            stride: p,
        }
        .launch(gpu, &kernels, &common, m)?;

        let forward: Vec<Launch> = built
            .layers
            .iter()
            .flat_map(|l| l.forward.clone())
            .collect();
        let mut train_step = vec![batch.begin_step, batch.gather.clone()];
        train_step.extend(forward.iter().cloned());
        train_step.push(loss.clone());
        train_step.extend(built.layers.iter().rev().flat_map(|l| l.backward.clone()));
        train_step.push(adam);
        let mut eval_chunk = vec![batch.begin_eval, batch.gather];
        eval_chunk.extend(forward);
        eval_chunk.push(loss);

        let mut probes = vec![
            ("x".to_string(), built.first_x.clone()),
            (
                "dpred".to_string(),
                built.douts[built.douts.len() - 1].clone(),
            ),
        ];
        for (li, layer) in built.layers.iter().enumerate() {
            for (name, view) in &layer.probes {
                probes.push((format!("layer{li}.{name}"), view.clone()));
            }
        }
        probes.push((
            "y".to_string(),
            View {
                buf: y,
                off: 0,
                model: b,
                row: 1,
                rows: b,
                width: 1,
            },
        ));
        crate::startup::mark(crate::startup::ENGINE_BUILT);
        Ok(BatchEngine {
            gpu,
            layout: dl,
            common,
            bufs,
            begin_fit: stop.begin_fit,
            shuffle: batch.shuffle,
            train_step,
            eval_chunk,
            end_epoch: stop.end_epoch,
            save_best: stop.save_best,
            restore_best: stop.restore_best,
            dispatches: 0,
            longest: (shape.max_train_len, shape.max_eval_len),
            probes,
            shape,
        })
    }
}

/// The layers' launches, their output gradients (`douts[k]` of layer k) and the first layer's x section.
struct Layers {
    layers: Vec<Built>,
    douts: Vec<View>,
    first_x: View,
}

/// The walk over the layer list: slots first (each layer's input rows and output gradient), then each
/// layer's launches wired to its neighbours' slots.
fn build_layers(ctx: &Ctx, layout: &ParamLayout) -> Result<Layers, GpuError> {
    let (b, t) = (ctx.batch, ctx.steps);
    // The shape each layer receives: a sequence or not, and its width.
    let mut shapes = Vec::new();
    let (mut seq, mut width) = (true, layout.spec.input_size);
    for plan in &layout.layers {
        shapes.push((seq, width));
        match *plan {
            LayerPlan::Lstm {
                units,
                return_sequences,
                ..
            } => (seq, width) = (return_sequences, units),
            LayerPlan::Dense { units, .. } => (seq, width) = (false, units),
            LayerPlan::Dropout { .. } => {}
        }
    }
    let slots: Vec<Slots> = layout
        .layers
        .iter()
        .enumerate()
        .map(|(li, plan)| Slots::new(ctx, plan, ctx.layout.block(li), shapes[li].0, shapes[li].1))
        .collect();
    let rows_of = |seq: bool| if seq { t * b } else { b };
    let mut layers: Vec<Built> = Vec::new();
    for (li, plan) in layout.layers.iter().enumerate() {
        let next_x = slots.get(li + 1).and_then(|s| {
            let (seq, width) = shapes[li + 1];
            s.x(rows_of(seq), width)
        });
        let wiring = Wiring {
            next_x,
            prev_dout: li.checked_sub(1).map(|p| &slots[p].dout),
        };
        let block = ctx.layout.block(li);
        let built = match (plan, block) {
            (
                &LayerPlan::Lstm {
                    return_sequences, ..
                },
                Some(block),
            ) => layers::lstm(ctx, block, return_sequences, &slots[li], &wiring)?,
            (LayerPlan::Dense { .. }, Some(block)) => {
                layers::dense(ctx, block, &slots[li], &wiring)?
            }
            (&LayerPlan::Dropout { rate, layer_index }, _) => {
                let Some(prev) = layers.last() else {
                    unreachable!("the spec rules put an LSTM first")
                };
                let steps = if shapes[li].0 { t } else { 1 };
                layers::dropout(
                    ctx,
                    (rate, layer_index),
                    &prev.output,
                    steps,
                    &slots[li],
                    &wiring,
                )?
            }
            _ => unreachable!("every trainable layer has a block"),
        };
        layers.push(built);
    }
    let first_x = slots[0]
        .x(t * b, layout.spec.input_size)
        .expect("the spec rules put an LSTM first");
    Ok(Layers {
        layers,
        douts: slots.into_iter().map(|s| s.dout).collect(),
        first_x,
    })
}

impl BatchEngine<'_> {
    pub fn layout(&self) -> &DeviceLayout {
        &self.layout
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
        let keras = self.layout.keras.total;
        let sc = (self.shape.features + 1) * 2;
        let mut states = Vec::with_capacity(m);
        let mut params = Vec::with_capacity(m * self.layout.stride);
        let mut scaler = Vec::with_capacity(m * sc);
        for s in setups {
            if s.params.len() != keras || s.scaler.len() != sc {
                return Err(GpuError::TooLarge(format!(
                    "model {} has {} parameters and {} scaler values; the layout needs {keras} and {sc}",
                    s.model_id,
                    s.params.len(),
                    s.scaler.len()
                )));
            }
            let w = s.windows;
            if w.train.len > self.shape.max_train_len || w.longest() > self.shape.max_eval_len {
                return Err(GpuError::TooLarge(format!(
                    "model {}'s windows exceed the engine's buffers",
                    s.model_id
                )));
            }
            states.push(
                ModelStateGpu {
                    model_id: s.model_id,
                    train_start: u32_of(w.train.start),
                    train_len: u32_of(w.train.len),
                    val_start: u32_of(w.val.start),
                    val_len: u32_of(w.val.len),
                    ..Default::default()
                }
                .with_seed(s.seed),
            );
            params.extend(self.layout.pack(&s.params));
            scaler.extend_from_slice(&s.scaler);
        }
        self.longest = (
            setups
                .iter()
                .map(|s| s.windows.train.len)
                .max()
                .unwrap_or(0),
            setups.iter().map(|s| s.windows.val.len).max().unwrap_or(0),
        );
        let q = &self.gpu.queue;
        self.common.write_states(self.gpu, &states);
        q.write_buffer(&self.bufs.params, 0, bytemuck::cast_slice(&params));
        q.write_buffer(&self.bufs.best, 0, bytemuck::cast_slice(&params));
        q.write_buffer(&self.bufs.scaler, 0, bytemuck::cast_slice(&scaler));
        let zeros = vec![0.0f32; m * self.layout.stride];
        q.write_buffer(&self.bufs.moment1, 0, bytemuck::cast_slice(&zeros));
        q.write_buffer(&self.bufs.moment2, 0, bytemuck::cast_slice(&zeros));
        q.write_buffer(&self.bufs.grads, 0, bytemuck::cast_slice(&zeros));
        Ok(())
    }

    /// Points every model at new windows (the seed protocol's next split), keeping weights, Adam state
    /// and counters.
    pub fn set_windows(&mut self, windows: &[SplitWindows]) -> Result<(), GpuError> {
        let mut states = self.read_states()?;
        self.longest = (
            windows.iter().map(|w| w.train.len).max().unwrap_or(0),
            windows.iter().map(|w| w.val.len).max().unwrap_or(0),
        );
        for (s, w) in states.iter_mut().zip(windows) {
            s.train_start = u32_of(w.train.start);
            s.train_len = u32_of(w.train.len);
            s.val_start = u32_of(w.val.start);
            s.val_len = u32_of(w.val.len);
        }
        self.common.write_states(self.gpu, &states);
        Ok(())
    }

    /// Sets the step parameters and submits `launches` as one command buffer; returns the dispatch count.
    fn submit_step(&self, step: StepParams, launches: &[&Launch]) -> u64 {
        self.common.write_step(self.gpu, &step);
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
        crate::startup::mark(crate::startup::FIRST_STEP);
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
        for chunk in 0..chunks {
            let step = StepParams {
                eval_train_window: u32::from(train_window),
                chunk: u32_of(chunk),
                only_alive: u32::from(only_alive),
                ..Default::default()
            };
            self.dispatches += self.submit_step(step, &refs);
        }
    }

    /// One whole epoch for every live model: shuffle, every batch, validation loss, early stopping.
    /// Returns the states read back after it (the only readback of the epoch).
    pub fn run_epoch(&mut self) -> Result<Vec<ModelStateGpu>, GpuError> {
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
        mut on_epoch: impl FnMut(usize, &[ModelStateGpu]),
    ) -> Result<Vec<ModelStateGpu>, GpuError> {
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

    pub fn read_states(&self) -> Result<Vec<ModelStateGpu>, GpuError> {
        let n = self.shape.models * std::mem::size_of::<ModelStateGpu>();
        let bytes = self.gpu.read_bytes(&self.common.states, 0, n as u64)?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }

    /// `[M][epochs][2]` (train, val) losses; entries past a model's `epochs_run` are meaningless.
    pub fn read_history(&self) -> Result<Vec<f32>, GpuError> {
        self.gpu.read_f32(
            &self.bufs.history,
            0,
            self.shape.models * self.shape.epochs * 2,
        )
    }

    /// Every model's parameters in the Keras layout, models concatenated.
    pub fn read_params(&self) -> Result<Vec<f32>, GpuError> {
        let all =
            self.gpu
                .read_f32(&self.bufs.params, 0, self.shape.models * self.layout.stride)?;
        Ok(self.layout.unpack(&all))
    }

    /// Every model's Adam moments (m, v) in the Keras layout, models concatenated: with the weights and
    /// the states' counters, what the seed protocol carries between splits.
    pub fn read_moments(&self) -> Result<(Vec<f32>, Vec<f32>), GpuError> {
        let n = self.shape.models * self.layout.stride;
        let m = self.gpu.read_f32(&self.bufs.moment1, 0, n)?;
        let v = self.gpu.read_f32(&self.bufs.moment2, 0, n)?;
        Ok((self.layout.unpack(&m), self.layout.unpack(&v)))
    }

    /// Continues model `model` from a carried state instead of a fresh one (after [`BatchEngine::load_models`]):
    /// Adam moments (Keras layout), step count, epochs run so far and early stopping's best validation
    /// loss, which the next fit compares with when it carries the best.
    pub fn load_carried(&mut self, model: usize, carried: &Carried) -> Result<(), GpuError> {
        let mut states = self.read_states()?;
        let s = states
            .get_mut(model)
            .ok_or_else(|| GpuError::TooLarge(format!("no model {model} in this engine")))?;
        s.adam_t = carried.adam_t;
        s.epoch_serial = carried.epoch_serial;
        s.best_val = carried.best_val;
        self.common.write_states(self.gpu, &states);
        let at = (model * self.layout.stride * 4) as u64;
        let q = &self.gpu.queue;
        q.write_buffer(
            &self.bufs.moment1,
            at,
            bytemuck::cast_slice(&self.layout.pack(&carried.m)),
        );
        q.write_buffer(
            &self.bufs.moment2,
            at,
            bytemuck::cast_slice(&self.layout.pack(&carried.v)),
        );
        Ok(())
    }

    /// Every model's gradients of the last step in the Keras layout, models concatenated.
    pub fn read_grads(&self) -> Result<Vec<f32>, GpuError> {
        let all = self
            .gpu
            .read_f32(&self.bufs.grads, 0, self.shape.models * self.layout.stride)?;
        Ok(self.layout.unpack(&all))
    }

    /// Predictions of the last evaluation pass: `[M][max_eval_len]`.
    pub fn read_predictions(&self) -> Result<Vec<f32>, GpuError> {
        self.gpu.read_f32(
            &self.bufs.eval_pred,
            0,
            self.shape.models * self.shape.max_eval_len.max(1),
        )
    }

    pub fn read_perm(&self) -> Result<Vec<u32>, GpuError> {
        let n = self.shape.models * self.shape.max_train_len.max(1);
        let bytes = self.gpu.read_bytes(&self.bufs.perm, 0, (n * 4) as u64)?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }

    /// An intermediate tensor by name (`x`, `y`, `dpred`, `layer{i}.gates|cell|hidden|out`): its view and
    /// the whole buffer it lives in (use [`View::extract`]).
    pub fn read_probe(&self, name: &str) -> Result<(View, Vec<f32>), GpuError> {
        let view = self
            .probes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| GpuError::Readback(format!("no tensor named {name}")))?;
        let data = self
            .gpu
            .read_f32(&view.buf, 0, (view.buf.size() / 4) as usize)?;
        Ok((view, data))
    }
}
