//! shaders/early_stop.wgsl: Keras early stopping for every model on the device — the end-of-epoch
//! decision, the best-weights copy, and its restore at the end of a fit.

use super::{twin, Common, Kernels};
use crate::fit::EarlyStopRule;
use crate::gpu::bindings::bindings;
use crate::gpu::compare::{compare, CheckResult, Data, TOL_EXACT};
use crate::gpu::context::{Gpu, GpuError};
use crate::gpu::kernel::{grid_1d, submit, Launch};
use crate::gpu::shader_structs::{u32_of, ModelStateGpu, RunUniform, StepParams};
use crate::reference;
use crate::reference::train_loop::EarlyStopping;

pub const CPU_TWIN: &str = twin!(reference::train_loop::EarlyStopping::end_epoch);

bindings! {
    /// shaders/early_stop.wgsl's bindings.
    EarlyStopBindings: common {
        params: ReadWrite<[f32; 4]>,
        best: ReadWrite<[f32; 4]>,
        history: ReadWrite<f32>,
    }
}

/// The divergence bound, from the one place it is defined (`fit::DIVERGED_VAL_LOSS`).
pub const DIVERGENCE: [(&str, f64); 1] = [("DIVERGED_VAL_LOSS", crate::fit::DIVERGED_VAL_LOSS)];

/// Early stopping over `[M][stride]` parameters, their best copies and the loss history
/// `[M][max_epochs][2]`.
pub struct EarlyStop<'a> {
    pub params: &'a wgpu::Buffer,
    pub best: &'a wgpu::Buffer,
    pub history: &'a wgpu::Buffer,
    pub stride: usize,
}

/// The entry points, bound to one set of buffers.
pub struct EarlyStopLaunches {
    pub begin_fit: Launch,
    pub end_epoch: Launch,
    pub save_best: Launch,
    pub restore_best: Launch,
}

impl EarlyStop<'_> {
    pub fn launches(
        &self,
        gpu: &Gpu,
        kernels: &Kernels,
        common: &Common,
        models: usize,
    ) -> Result<EarlyStopLaunches, GpuError> {
        let bg = EarlyStopBindings {
            common,
            params: self.params,
            best: self.best,
            history: self.history,
        }
        .bind(gpu, &kernels.early_stop);
        let f = &kernels.early_stop;
        let per_model = [u32_of(models.div_ceil(64)), 1, 1];
        let per_vec4 = grid_1d(
            (models * self.stride / 4) as u64,
            64,
            gpu.limits.max_compute_workgroups_per_dimension,
        );
        Ok(EarlyStopLaunches {
            begin_fit: Launch::new(gpu, f, "begin_fit", &[], bg.clone(), per_model)?,
            end_epoch: Launch::new(gpu, f, "end_epoch", &DIVERGENCE, bg.clone(), per_model)?,
            save_best: Launch::new(gpu, f, "save_best", &[], bg.clone(), per_vec4)?,
            restore_best: Launch::new(gpu, f, "restore_best", &[], bg, per_vec4)?,
        })
    }
}

/// The standalone check, under a rule that restores at the end of every fit (Keras 3) and one that
/// restores only after an early stop (tf.keras 2): three models over several epochs (patience 2), model 0
/// with losses that improve until the next-to-last epoch (so it runs all epochs and its best is not its
/// last), the others random; each epoch's decision (kept weights, best epoch, wait, stop) against
/// `EarlyStopping::end_epoch`, and the weights a fit ends with against the epoch the reference says.
pub fn check(gpu: &Gpu, seed: u64) -> Result<Vec<CheckResult>, GpuError> {
    let kernels = Kernels::build(gpu)?;
    let mut out = Vec::new();
    for rule in [EarlyStopRule::Keras37, EarlyStopRule::TfKeras2] {
        out.extend(check_rule(gpu, &kernels, seed, rule)?);
    }
    Ok(out)
}

fn check_rule(
    gpu: &Gpu,
    kernels: &Kernels,
    seed: u64,
    rule: EarlyStopRule,
) -> Result<Vec<CheckResult>, GpuError> {
    let mut data = Data(seed ^ 0x3c6e_f372_fe94_f82b);
    let (models, stride, epochs, patience) = (3usize, 8usize, 8usize, 2usize);
    let config = RunUniform {
        models: 3,
        max_epochs: u32_of(epochs),
        patience: u32_of(patience),
        restore_without_stop: u32::from(rule.restores_without_stop()),
        param_stride: u32_of(stride),
        ..Default::default()
    };
    let common = Common::new(gpu, &config, models);
    let states: Vec<ModelStateGpu> = (0..models)
        .map(|_| ModelStateGpu {
            train_len: 10,
            val_len: 4,
            ..Default::default()
        })
        .collect();
    common.write_states(gpu, &states);
    let params = gpu.storage("params", models * stride);
    let best = gpu.storage("best", models * stride);
    let history = gpu.storage("history", models * epochs * 2);
    let l = EarlyStop {
        params: &params,
        best: &best,
        history: &history,
        stride,
    }
    .launches(gpu, kernels, &common, models)?;
    common.write_step(gpu, &StepParams::default());
    submit(gpu, &[&l.begin_fit]);
    let mut cpu: Vec<EarlyStopping> = (0..models)
        .map(|_| EarlyStopping::new(f64::INFINITY))
        .collect();
    let mut alive = vec![true; models];
    let mut kept = vec![0usize; models];
    let (mut stopped, mut last) = (vec![false; models], vec![0usize; models]);
    let mut out = Vec::new();
    let read_states = |gpu: &Gpu| -> Result<Vec<ModelStateGpu>, GpuError> {
        Ok(bytemuck::pod_collect_to_vec(&gpu.read_bytes(
            &common.states,
            0,
            (models * std::mem::size_of::<ModelStateGpu>()) as u64,
        )?))
    };
    for epoch in 0..epochs {
        // This epoch's weights are the epoch number; its losses are random, quantised so ties happen.
        gpu.queue.write_buffer(
            &params,
            0,
            bytemuck::cast_slice(&vec![epoch as f32; models * stride]),
        );
        let mut s = read_states(gpu)?;
        let mut val = Vec::new();
        for (m, st) in s.iter_mut().enumerate() {
            let random = (1 + data.below(6)) as f32 / 8.0;
            let v = match m {
                0 if epoch + 1 < epochs => (epochs - epoch) as f32 / 8.0,
                0 => 1.0,
                _ => random,
            };
            st.eval_sse = v * st.val_len as f32;
            st.train_sse = v * st.train_len as f32;
            val.push(v as f64);
        }
        common.write_states(gpu, &s);
        submit(gpu, &[&l.end_epoch, &l.save_best]);
        let after = read_states(gpu)?;
        for m in 0..models {
            if !alive[m] {
                continue;
            }
            let end = cpu[m].end_epoch(epoch, val[m], patience);
            if end.keep_weights {
                kept[m] = epoch;
            }
            (stopped[m], last[m]) = (end.stop, epoch);
            alive[m] = !end.stop && epoch + 1 < epochs;
            let a = &after[m];
            out.push(compare(
                "early_stop::end_epoch",
                &format!(
                    "{}: epoch {epoch}, val loss {:.3}: kept, best epoch, wait, alive; model {m}",
                    rule.name(),
                    val[m]
                ),
                &[
                    a.improved as f32,
                    a.best_epoch as f32,
                    a.wait as f32,
                    a.alive as f32,
                ],
                &[
                    f64::from(u8::from(end.keep_weights)),
                    cpu[m].best_epoch as f64,
                    cpu[m].wait as f64,
                    f64::from(u8::from(alive[m])),
                ],
                TOL_EXACT,
            ));
        }
    }
    submit(gpu, &[&l.restore_best]);
    let restored = gpu.read_f32(&params, 0, models * stride)?;
    for m in 0..models {
        let ends_with = if cpu[m].restores(rule, stopped[m]) {
            kept[m]
        } else {
            last[m]
        };
        out.push(compare(
            "early_stop::restore_best",
            &format!(
                "{}: weights of epoch {ends_with} at the end (stopped early: {}), model {m}",
                rule.name(),
                stopped[m]
            ),
            &restored[m * stride..(m + 1) * stride],
            &vec![ends_with as f64; stride],
            TOL_EXACT,
        ));
    }
    Ok(out)
}
