//! shaders/adam.wgsl: the Keras 3 Adam update of every parameter of every model that stepped, with the
//! model's step size from the host's f64 table (see [`step_size_table`]).

use super::{active_states, twin, Common, Kernels};
use crate::fit::AdamConfig;
use crate::gpu::bindings::bindings;
use crate::gpu::compare::{compare, to_f32, CheckResult, Data, TOL_ADAM_STEP};
use crate::gpu::context::{Gpu, GpuError};
use crate::gpu::kernel::{grid_1d, submit, Cost, Launch};
use crate::gpu::shader_structs::{u32_of, RunUniform};
use crate::reference;
use crate::reference::adam::{adam_step, AdamState};

pub const CPU_TWIN: &str = twin!(reference::adam::adam_step);

bindings! {
    /// shaders/adam.wgsl's bindings.
    AdamBindings: common {
        params: ReadWrite<[f32; 4]>,
        grads: Read<[f32; 4]>,
        moment1: ReadWrite<[f32; 4]>,
        moment2: ReadWrite<[f32; 4]>,
    }
}

/// Entries of the step-size table: past it, α equals lr to f32 precision (β2^t < 6e-15).
pub const STEP_SIZE_TABLE_LEN: usize = 1 << 15;

/// α of Adam steps 0 … LEN−1 (entry 0 unused), computed in f64 by [`AdamConfig::step_size`] and rounded
/// once to f32.
pub fn step_size_table(adam: &AdamConfig) -> Vec<f32> {
    (0..STEP_SIZE_TABLE_LEN)
        .map(|t| {
            if t == 0 {
                0.0
            } else {
                adam.step_size(t as u32) as f32
            }
        })
        .collect()
}

/// Adam over `[M][stride]` parameters, gradients and moments.
pub struct Adam<'a> {
    pub params: &'a wgpu::Buffer,
    pub grads: &'a wgpu::Buffer,
    pub moment1: &'a wgpu::Buffer,
    pub moment2: &'a wgpu::Buffer,
    pub stride: usize,
}

impl Adam<'_> {
    pub fn launch(
        &self,
        gpu: &Gpu,
        kernels: &Kernels,
        common: &Common,
        models: usize,
    ) -> Result<Launch, GpuError> {
        let bg = AdamBindings {
            common,
            params: self.params,
            grads: self.grads,
            moment1: self.moment1,
            moment2: self.moment2,
        }
        .bind(gpu, &kernels.adam);
        let grid = grid_1d(
            (models * self.stride / 4) as u64,
            64,
            gpu.limits.max_compute_workgroups_per_dimension,
        );
        // Read w, g, m, v; write w, m, v.
        Ok(Launch::new(gpu, &kernels.adam, "main", &[], bg, grid)?
            .costing(Cost::moves(7 * models * self.stride)))
    }
}

/// The standalone check: three models at different Adam steps (one idle this step) against `adam_step`.
pub fn check(gpu: &Gpu, seed: u64) -> Result<Vec<CheckResult>, GpuError> {
    let kernels = Kernels::build(gpu)?;
    let mut data = Data(seed ^ 0x9e6c_63d0_676a_9a99);
    let (models, stride) = (3, 4 * (1 + data.below(300)));
    let adam = AdamConfig::default();
    let config = RunUniform {
        models: 3,
        beta1: adam.beta1 as f32,
        beta2: adam.beta2 as f32,
        epsilon: adam.epsilon as f32,
        param_stride: u32_of(stride),
        ..Default::default()
    };
    let common = Common::new(gpu, &config, models);
    let mut states = active_states(models, 1);
    let table = step_size_table(&adam);
    let steps_before = [
        0u32,
        1 + data.below(40) as u32,
        1000 + data.below(40_000) as u32,
    ];
    for (m, s) in states.iter_mut().enumerate() {
        s.adam_t = steps_before[m] + 1;
        s.lr_t = table[(s.adam_t as usize).min(STEP_SIZE_TABLE_LEN - 1)];
    }
    states[1].step_active = 0;
    common.write_states(gpu, &states);
    // Gradients around 1e-2, moments as after some steps.
    let scaled =
        |d: &mut Data, n: usize, s: f64| -> Vec<f64> { d.vec(n).iter().map(|v| v * s).collect() };
    let params = data.vec(models * stride);
    let grads = scaled(&mut data, models * stride, 1e-2);
    let m1 = scaled(&mut data, models * stride, 1e-3);
    let m2: Vec<f64> = scaled(&mut data, models * stride, 1e-5)
        .iter()
        .map(|v| v.abs())
        .collect();
    let bufs: Vec<wgpu::Buffer> = [&params, &grads, &m1, &m2]
        .iter()
        .map(|v| gpu.storage_init("adam check", &to_f32(v)))
        .collect();
    let launch = Adam {
        params: &bufs[0],
        grads: &bufs[1],
        moment1: &bufs[2],
        moment2: &bufs[3],
        stride,
    }
    .launch(gpu, &kernels, &common, models)?;
    submit(gpu, &[&launch]);
    let got = gpu.read_f32(&bufs[0], 0, models * stride)?;
    let mut out = Vec::new();
    for m in 0..models {
        let range = m * stride..(m + 1) * stride;
        let f =
            |v: &[f64]| -> Vec<f64> { v[range.clone()].iter().map(|&x| x as f32 as f64).collect() };
        let mut p = f(&params);
        let mut state = AdamState {
            m: f(&m1),
            v: f(&m2),
            t: steps_before[m],
        };
        if states[m].step_active == 1 {
            adam_step(&adam, &mut state, &mut p, &f(&grads));
        }
        out.push(compare(
            "adam",
            &format!(
                "{stride} weights after step {} ({})",
                steps_before[m] + 1,
                if states[m].step_active == 1 {
                    "active"
                } else {
                    "idle: unchanged"
                }
            ),
            &got[range.clone()],
            &p,
            TOL_ADAM_STEP,
        ));
    }
    Ok(out)
}
