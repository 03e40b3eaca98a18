//! shaders/loss.wgsl: mean squared error per model, its gradient, and the evaluation predictions.

use super::{active_states, twin, Common, Kernels, View};
use crate::gpu::bindings::bindings;
use crate::gpu::compare::{compare, to_f32, CheckResult, Data, TOL_FORWARD};
use crate::gpu::context::{Gpu, GpuError};
use crate::gpu::kernel::{submit, Launch};
use crate::gpu::shader_structs::{mirror, u32_of, ModelStateGpu, RunUniform, StepParams};
use crate::reference;
use crate::reference::loss::{mse, mse_grad};

pub const CPU_TWIN: &str = twin!(reference::loss::{mse, mse_grad});

bindings! {
    /// shaders/loss.wgsl's bindings.
    LossBindings: common {
        lp: Uniform<LossParams>,
        pred: Read<f32>,
        targets: Read<f32>,
        dpred: ReadWrite<f32>,
        eval_pred: ReadWrite<f32>,
    }
}

mirror! {
    LossParams =>
    /// Mirrors `LossParams` in shaders/loss.wgsl.
    pub struct LossParams {
        pub pred_off: u32,
        pub pred_model: u32,
        pub pred_row: u32,
        pub grad_model: u32,
        pub grad_row: u32,
        pub pad0: u32,
        pub pad1: u32,
        pub pad2: u32,
    }
}

/// Column 0 of `pred` [B][·] against `targets` [M][B]; dL/dŷ into column 0 of `grad` [B][·];
/// evaluation predictions into `eval_pred` [M][eval_stride].
pub struct Loss<'a> {
    pub pred: &'a View,
    pub targets: &'a wgpu::Buffer,
    pub grad: &'a View,
    pub eval_pred: &'a wgpu::Buffer,
}

impl Loss<'_> {
    pub fn launch(
        &self,
        gpu: &Gpu,
        kernels: &Kernels,
        common: &Common,
        models: usize,
    ) -> Result<Launch, GpuError> {
        let p = LossParams {
            pred_off: u32_of(self.pred.off),
            pred_model: u32_of(self.pred.model),
            pred_row: u32_of(self.pred.row),
            grad_model: u32_of(self.grad.model),
            grad_row: u32_of(self.grad.row),
            ..Default::default()
        };
        let bg = LossBindings {
            common,
            lp: &gpu.uniform("loss params", &p),
            pred: &self.pred.buf,
            targets: self.targets,
            dpred: &self.grad.buf,
            eval_pred: self.eval_pred,
        }
        .bind(gpu, &kernels.loss);
        let grid = [u32_of(models.div_ceil(64)), 1, 1];
        Launch::new(gpu, &kernels.loss, "main", &[], bg, grid)
    }
}

/// The standalone check: a training step (dL/dŷ and the accumulated Σ squared error) and an evaluation
/// chunk (stored predictions, Σ squared error) for three models, one with a partial batch.
pub fn check(gpu: &Gpu, seed: u64) -> Result<Vec<CheckResult>, GpuError> {
    let kernels = Kernels::build(gpu)?;
    let mut data = Data(seed ^ 0x2545_f491_4f6c_dd1d);
    let (models, batch) = (3, 2 + data.below(30));
    let config = RunUniform {
        models: 3,
        batch: u32_of(batch),
        eval_stride: u32_of(3 * batch),
        ..Default::default()
    };
    let common = Common::new(gpu, &config, models);
    let mut states = active_states(models, batch);
    states[2].rows = 1 + data.below(batch) as u32;
    let pred = data.vec(models * batch * 4);
    let targets = data.vec(models * batch);
    let pred_view = View {
        buf: gpu.storage_init("pred", &to_f32(&pred)),
        off: 0,
        model: batch * 4,
        row: 4,
        rows: batch,
        width: 1,
    };
    let grad = View::tight(gpu, "dpred", models, batch, 4);
    let targets_buf = gpu.storage_init("targets", &to_f32(&targets));
    let eval_pred = gpu.storage("eval predictions", models * 3 * batch);
    let launch = Loss {
        pred: &pred_view,
        targets: &targets_buf,
        grad: &grad,
        eval_pred: &eval_pred,
    }
    .launch(gpu, &kernels, &common, models)?;
    let mut out = Vec::new();
    for training in [true, false] {
        common.write_states(gpu, &states);
        common.write_step(
            gpu,
            &StepParams {
                training: u32::from(training),
                chunk: 1,
                ..Default::default()
            },
        );
        submit(gpu, &[&launch]);
        let after: Vec<ModelStateGpu> = bytemuck::pod_collect_to_vec(&gpu.read_bytes(
            &common.states,
            0,
            (models * std::mem::size_of::<ModelStateGpu>()) as u64,
        )?);
        let got_grad = gpu.read_f32(&grad.buf, 0, models * batch * 4)?;
        let got_eval = gpu.read_f32(&eval_pred, 0, models * 3 * batch)?;
        for (m, s) in states.iter().enumerate() {
            let rows = s.rows as usize;
            let p: Vec<f64> = (0..rows)
                .map(|r| pred[(m * batch + r) * 4] as f32 as f64)
                .collect();
            let y: Vec<f64> = (0..rows)
                .map(|r| targets[m * batch + r] as f32 as f64)
                .collect();
            let sse = mse(&p, &y) * rows as f64;
            let what = |s: &str| format!("{s}, B={batch} ({rows} rows), model {m}");
            if training {
                let mut want = mse_grad(&p, &y);
                want.resize(batch, 0.0);
                let got: Vec<f32> = (0..batch).map(|r| got_grad[(m * batch + r) * 4]).collect();
                out.push(compare("loss", &what("dL/dŷ"), &got, &want, TOL_FORWARD));
                out.push(compare(
                    "loss",
                    &what("Σ squared error (training)"),
                    &[after[m].train_sse],
                    &[sse],
                    TOL_FORWARD,
                ));
            } else {
                let at = m * 3 * batch + batch;
                out.push(compare(
                    "loss",
                    &what("stored predictions (chunk 1)"),
                    &got_eval[at..at + rows],
                    &p,
                    TOL_FORWARD,
                ));
                out.push(compare(
                    "loss",
                    &what("Σ squared error (evaluation)"),
                    &[after[m].eval_sse],
                    &[sse],
                    TOL_FORWARD,
                ));
            }
        }
    }
    Ok(out)
}
