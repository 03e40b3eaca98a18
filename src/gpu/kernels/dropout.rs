//! shaders/dropout.wgsl: inverted dropout with masks drawn from the shared Philox streams, stored once in
//! the forward pass and reused by the backward pass. With rate 0 it is the engine's copy between an LSTM's
//! output and the next layer's input.

use super::{active_states, model_seed, twin, Common, Kernels, View};
use crate::gpu::bindings::bindings;
use crate::gpu::compare::{compare, to_f32, CheckResult, Data, TOL_EXACT_ISH};
use crate::gpu::context::{Gpu, GpuError};
use crate::gpu::kernel::{grid_1d, submit, Cost, Launch};
use crate::gpu::shader_structs::{mirror, u32_of, RunUniform, StepParams};
use crate::reference;
use crate::reference::dropout::{dropout_mask, DropoutKey};

pub const CPU_TWIN: &str = twin!(reference::dropout::dropout_mask);

bindings! {
    /// shaders/dropout.wgsl's bindings.
    DropoutBindings: common {
        d: Uniform<DropoutParams>,
        src: Read<f32>,
        dst: ReadWrite<f32>,
        mask: ReadWrite<f32>,
    }
}

mirror! {
    DropoutParams =>
    /// Mirrors `DropoutParams` in shaders/dropout.wgsl.
    pub struct DropoutParams {
        pub rows: u32,
        pub width: u32,
        pub steps: u32,
        pub layer_index: u32,
        pub rate: f32,
        pub in_off: u32,
        pub in_model: u32,
        pub in_row: u32,
        pub out_off: u32,
        pub out_model: u32,
        pub out_row: u32,
        pub pad0: u32,
    }
}

/// One dropout layer: `mask` holds [M][rows][width] floats; `steps` is the time length of the dropped
/// tensor (T for a sequence, 1 for a vector), `src` and `dst` have `steps`·B rows.
pub struct Dropout<'a> {
    pub mask: &'a wgpu::Buffer,
    pub steps: usize,
    pub layer_index: usize,
    pub rate: f64,
}

impl Dropout<'_> {
    fn launch(
        &self,
        gpu: &Gpu,
        kernels: &Kernels,
        common: &Common,
        entry: &'static str,
        (src, dst): (&View, &View),
        models: usize,
    ) -> Result<Launch, GpuError> {
        let p = DropoutParams {
            rows: u32_of(src.rows),
            width: u32_of(src.width),
            steps: u32_of(self.steps),
            layer_index: u32_of(self.layer_index),
            rate: self.rate as f32,
            in_off: u32_of(src.off),
            in_model: u32_of(src.model),
            in_row: u32_of(src.row),
            out_off: u32_of(dst.off),
            out_model: u32_of(dst.model),
            out_row: u32_of(dst.row),
            pad0: 0,
        };
        let bg = DropoutBindings {
            common,
            d: &gpu.uniform("dropout params", &p),
            src: &src.buf,
            dst: &dst.buf,
            mask: self.mask,
        }
        .bind(gpu, &kernels.dropout);
        let total = (models * src.rows * src.width) as u64;
        let grid = grid_1d(total, 64, gpu.limits.max_compute_workgroups_per_dimension);
        // In, out and the mask.
        Ok(Launch::new(gpu, &kernels.dropout, entry, &[], bg, grid)?
            .costing(Cost::moves(3 * models * src.rows * src.width)))
    }

    /// dst = src ⊙ mask, drawing and storing the mask (training) or copying (evaluation).
    pub fn forward(
        &self,
        gpu: &Gpu,
        kernels: &Kernels,
        common: &Common,
        src: &View,
        dst: &View,
        models: usize,
    ) -> Result<Launch, GpuError> {
        self.launch(gpu, kernels, common, "forward", (src, dst), models)
    }

    /// dst = src ⊙ the stored mask (gradients).
    pub fn backward(
        &self,
        gpu: &Gpu,
        kernels: &Kernels,
        common: &Common,
        src: &View,
        dst: &View,
        models: usize,
    ) -> Result<Launch, GpuError> {
        self.launch(gpu, kernels, common, "backward", (src, dst), models)
    }
}

/// The standalone check: masks of three models with different ids, Adam steps and batch fills (one
/// partial) against `dropout_mask`, applied forward to activations and backward to gradients.
pub fn check(gpu: &Gpu, seed: u64) -> Result<Vec<CheckResult>, GpuError> {
    let kernels = Kernels::build(gpu)?;
    let mut data = Data(seed ^ 0x5851_f42d_4c95_7f2d);
    let (models, batch, steps, width) = (
        3,
        2 + data.below(20),
        1 + data.below(12),
        1 + data.below(60),
    );
    let rate = 0.05 + 0.5 * (data.uniform() + 1.0) / 2.0;
    let layer_index = data.below(6);
    let config = RunUniform {
        models: 3,
        batch: u32_of(batch),
        ..Default::default()
    };
    let common = Common::new(gpu, &config, models);
    let mut states = active_states(models, batch);
    for (m, s) in states.iter_mut().enumerate() {
        s.model_id = 11 * m as u32 + 3;
        // Each model its own seed, as in a seed ensemble.
        *s = s.with_seed(model_seed(seed, m));
        s.dropout_step = data.below(500) as u32;
        s.rows = if m == 1 { 1 + data.below(batch) } else { batch } as u32;
    }
    common.write_states(gpu, &states);
    common.write_step(
        gpu,
        &StepParams {
            training: 1,
            ..Default::default()
        },
    );
    let rows = steps * batch;
    let x = data.vec(models * rows * width);
    let dy = data.vec(models * rows * width);
    let src = View {
        buf: gpu.storage_init("x", &to_f32(&x)),
        off: 0,
        model: rows * width,
        row: width,
        rows,
        width,
    };
    let grad = View {
        buf: gpu.storage_init("dy", &to_f32(&dy)),
        ..src.clone()
    };
    let dst = View::tight(gpu, "y", models, rows, width);
    let dx = View::tight(gpu, "dx", models, rows, width);
    let mask = gpu.storage("mask", models * rows * width);
    let layer = Dropout {
        mask: &mask,
        steps,
        layer_index,
        rate,
    };
    let launches = [
        layer.forward(gpu, &kernels, &common, &src, &dst, models)?,
        layer.backward(gpu, &kernels, &common, &grad, &dx, models)?,
    ];
    submit(gpu, &launches.iter().collect::<Vec<_>>());
    let got_y = gpu.read_f32(&dst.buf, 0, models * rows * width)?;
    let got_dx = gpu.read_f32(&dx.buf, 0, models * rows * width)?;
    let mut out = Vec::new();
    for (m, s) in states.iter().enumerate() {
        let active = s.rows as usize;
        let key = DropoutKey {
            seed: model_seed(seed, m),
            model: s.model_id,
            step: s.dropout_step,
        };
        // The reference's mask covers the batch's rows; rows past them are dropped entirely.
        let partial = dropout_mask(rate, layer_index, &key, steps, active, width);
        let mut full = vec![0.0; rows * width];
        for t in 0..steps {
            for r in 0..active {
                for u in 0..width {
                    full[(t * batch + r) * width + u] = partial[(t * active + r) * width + u];
                }
            }
        }
        let base = m * rows * width;
        let times = |v: &[f64]| -> Vec<f64> {
            (0..rows * width)
                .map(|e| (v[base + e] as f32) as f64 * full[e])
                .collect()
        };
        let what = |s: &str| {
            format!("{s}, rate {rate:.3}, layer {layer_index}, T={steps} B={batch} ({active} rows) W={width}, model {m}")
        };
        out.push(compare(
            "dropout::forward",
            &what("x ⊙ mask"),
            &got_y[base..base + rows * width],
            &times(&x),
            TOL_EXACT_ISH,
        ));
        out.push(compare(
            "dropout::backward",
            &what("dy ⊙ mask"),
            &got_dx[base..base + rows * width],
            &times(&dy),
            TOL_EXACT_ISH,
        ));
    }
    Ok(out)
}
