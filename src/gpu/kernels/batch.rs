//! shaders/batch.wgsl: the epoch's shuffles, each step's batch bookkeeping (rows, Adam step size) and the
//! gather of a batch of look-back windows from the one copy of the raw series, scaled per model.

use super::adam::{step_size_table, STEP_SIZE_TABLE_LEN};
use super::{model_seed, twin, Common, Kernels, View};
use crate::fit::{AdamConfig, ScaledSeries};
use crate::gpu::bindings::bindings;
use crate::gpu::compare::{compare, to_f32, CheckResult, Data, TOL_EXACT, TOL_FORWARD};
use crate::gpu::context::{Gpu, GpuError};
use crate::gpu::kernel::{grid_1d, submit, Cost, Launch};
use crate::gpu::shader_structs::{u32_of, ModelStateGpu, RunUniform, StepParams};
use crate::reference;
use crate::reference::train_loop::gather_batch;
use crate::rng;

pub const CPU_TWIN: &str = twin!(
    rng::shuffle,
    reference::train_loop::gather_batch,
    AdamConfig::step_size
);

bindings! {
    /// shaders/batch.wgsl's bindings.
    BatchBindings: common {
        perm: ReadWrite<u32>,
        series: Read<f32>,
        target_raw: Read<f32>,
        scaler: Read<f32>,
        x_out: ReadWrite<f32>,
        y_out: ReadWrite<f32>,
        lr_table: Read<f32>,
    }
}

/// The buffers the batch kernels read and write. `x` is the x section of the first layer's input
/// (its layout is in the run config: `x_stride`, `x_model`).
pub struct Batch<'a> {
    pub perm: &'a wgpu::Buffer,
    pub series: &'a wgpu::Buffer,
    pub target: &'a wgpu::Buffer,
    pub scaler: &'a wgpu::Buffer,
    pub x: &'a View,
    pub y: &'a wgpu::Buffer,
    pub lr_table: &'a wgpu::Buffer,
}

/// The four entry points, bound to one set of buffers.
pub struct BatchLaunches {
    pub shuffle: Launch,
    pub begin_step: Launch,
    pub begin_eval: Launch,
    pub gather: Launch,
}

impl Batch<'_> {
    /// `elements`: T·B·F per model, the gather's work.
    pub fn launches(
        &self,
        gpu: &Gpu,
        kernels: &Kernels,
        common: &Common,
        models: usize,
        elements: usize,
    ) -> Result<BatchLaunches, GpuError> {
        assert_eq!(
            self.x.off, 0,
            "the gather writes the first layer's x section at column 0"
        );
        let bg = BatchBindings {
            common,
            perm: self.perm,
            series: self.series,
            target_raw: self.target,
            scaler: self.scaler,
            x_out: &self.x.buf,
            y_out: self.y,
            lr_table: self.lr_table,
        }
        .bind(gpu, &kernels.batch);
        let per_model = [u32_of(models.div_ceil(64)), 1, 1];
        let f = &kernels.batch;
        let max = gpu.limits.max_compute_workgroups_per_dimension;
        Ok(BatchLaunches {
            shuffle: Launch::new(gpu, f, "shuffle", &[], bg.clone(), per_model)?,
            begin_step: Launch::new(gpu, f, "begin_step", &[], bg.clone(), per_model)?,
            begin_eval: Launch::new(gpu, f, "begin_eval", &[], bg.clone(), per_model)?,
            gather: Launch::new(
                gpu,
                f,
                "gather",
                &[],
                bg,
                grid_1d(
                    (models * elements) as u64,
                    crate::gpu::shaders::FIXED_WORKGROUP_INVOCATIONS,
                    max,
                ),
            )?
            .costing(Cost::moves(2 * models * elements)),
        })
    }
}

/// The standalone check on a random series: each model's shuffle against `rng::shuffle`, the batch rows
/// and Adam step size of `begin_step` (the last batch partial), and the gathered, scaled windows and
/// targets against `gather_batch`.
pub fn check(gpu: &Gpu, seed: u64) -> Result<Vec<CheckResult>, GpuError> {
    let kernels = Kernels::build(gpu)?;
    let mut d = Data(seed ^ 0x1405_7b7e_f767_814f);
    let (models, features, lookback) = (3usize, 1 + d.below(6), 2 + d.below(12));
    let batch = 2 + d.below(12);
    let train_len = batch + 1 + d.below(3 * batch);
    let rows = 3 * train_len + lookback + 10;
    let raw: Vec<f64> = (0..rows * features)
        .map(|_| 100.0 + 10.0 * d.uniform())
        .collect();
    let target: Vec<f64> = (0..rows).map(|_| 100.0 + 10.0 * d.uniform()).collect();
    let x_stride = 4 * (1 + features.div_ceil(4)) + 4;
    let adam = AdamConfig::default();
    let config = RunUniform {
        models: 3,
        batch: u32_of(batch),
        steps: u32_of(lookback),
        features: u32_of(features),
        perm_stride: u32_of(train_len),
        eval_stride: u32_of(train_len),
        x_stride: u32_of(x_stride),
        x_model: u32_of((lookback + 1) * batch * x_stride),
        lr_table_len: u32_of(STEP_SIZE_TABLE_LEN),
        ..Default::default()
    };
    let common = Common::new(gpu, &config, models);
    let mut states = Vec::new();
    let mut scalers = Vec::new();
    for m in 0..models {
        states.push(
            ModelStateGpu {
                model_id: 7 + m as u32,
                train_start: u32_of(m * (1 + d.below(train_len))),
                train_len: u32_of(train_len),
                alive: 1,
                epoch_serial: d.below(100) as u32,
                adam_t: d.below(50) as u32,
                ..Default::default()
            }
            // Each model its own seed, as in a seed ensemble.
            .with_seed(model_seed(seed, m)),
        );
        // (min, 1/range) per feature then the target.
        scalers
            .extend((0..=features).flat_map(|_| [90.0 + d.uniform(), 1.0 / (20.0 + d.uniform())]));
    }
    let x = View::tight(gpu, "x", models, (lookback + 1) * batch, x_stride);
    let buf = |label: &str, v: &[f64]| gpu.storage_init(label, &to_f32(v));
    let (series_buf, target_buf, scaler_buf) = (
        buf("series", &raw),
        buf("target", &target),
        buf("scaler", &scalers),
    );
    let perm = gpu.storage("perm", models * train_len);
    let y = gpu.storage("y", models * batch);
    let lr_table = gpu.storage_init("lr table", &step_size_table(&adam));
    let launches = Batch {
        perm: &perm,
        series: &series_buf,
        target: &target_buf,
        scaler: &scaler_buf,
        x: &x.cols(0, features),
        y: &y,
        lr_table: &lr_table,
    }
    .launches(gpu, &kernels, &common, models, lookback * batch * features)?;
    common.write_states(gpu, &states);
    submit(gpu, &[&launches.shuffle]);
    let last_batch = (train_len - 1) / batch;
    common.write_step(
        gpu,
        &StepParams {
            batch_index: u32_of(last_batch),
            training: 1,
            ..Default::default()
        },
    );
    submit(gpu, &[&launches.begin_step, &launches.gather]);
    let got_perm: Vec<u32> =
        bytemuck::pod_collect_to_vec(&gpu.read_bytes(&perm, 0, (models * train_len * 4) as u64)?);
    let after: Vec<ModelStateGpu> = bytemuck::pod_collect_to_vec(&gpu.read_bytes(
        &common.states,
        0,
        (models * std::mem::size_of::<ModelStateGpu>()) as u64,
    )?);
    let got_x = gpu.read_f32(&x.buf, 0, models * x.model)?;
    let got_y = gpu.read_f32(&y, 0, models * batch)?;
    let mut out = Vec::new();
    for (m, s) in states.iter().enumerate() {
        let want_perm = rng::shuffle(train_len, model_seed(seed, m), s.model_id, s.epoch_serial);
        let as_f64 = |v: &[u32]| v.iter().map(|&p| p as f64).collect::<Vec<_>>();
        out.push(compare(
            "batch::shuffle",
            &format!(
                "permutation of {train_len}, epoch {}, model {m}",
                s.epoch_serial
            ),
            &got_perm[m * train_len..(m + 1) * train_len]
                .iter()
                .map(|&p| p as f32)
                .collect::<Vec<_>>(),
            &as_f64(&want_perm),
            TOL_EXACT,
        ));
        let rows_now = train_len - last_batch * batch;
        let t = s.adam_t + 1;
        out.push(compare(
            "batch::begin_step",
            &format!("rows {rows_now} of the last batch and α of Adam step {t}, model {m}"),
            &[after[m].rows as f32, after[m].lr_t],
            &[rows_now as f64, adam.step_size(t)],
            crate::gpu::compare::Tol {
                abs: 0.0,
                rel: 1e-7,
            },
        ));
        // The scaled series exactly as the kernel computes it: f32 inputs and scaler, (v − min)·(1/range).
        let sc = &to_f32(&scalers[m * 2 * (features + 1)..(m + 1) * 2 * (features + 1)]);
        let scale =
            |v: f64, j: usize| ((v as f32) as f64 - sc[2 * j] as f64) * sc[2 * j + 1] as f64;
        let series = ScaledSeries {
            x: (0..rows * features)
                .map(|e| scale(raw[e], e % features))
                .collect(),
            y: target.iter().map(|&v| scale(v, features)).collect(),
            features,
            lookback,
        };
        let samples: Vec<usize> = want_perm[last_batch * batch..]
            .iter()
            .map(|&k| s.train_start as usize + k as usize)
            .collect();
        let (want_x, want_y) = gather_batch(&series, &samples);
        let mut got_xm = Vec::new();
        for t in 0..lookback {
            for r in 0..rows_now {
                let at = m * x.model + (t * batch + r) * x_stride;
                got_xm.extend_from_slice(&got_x[at..at + features]);
            }
        }
        out.push(compare(
            "batch::gather",
            &format!("inputs T={lookback} F={features}, {rows_now} of {batch} rows, model {m}"),
            &got_xm,
            &want_x,
            TOL_FORWARD,
        ));
        out.push(compare(
            "batch::gather",
            &format!("targets, {rows_now} of {batch} rows, model {m}"),
            &got_y[m * batch..m * batch + rows_now],
            &want_y,
            TOL_FORWARD,
        ));
    }
    Ok(out)
}
