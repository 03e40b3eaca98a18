//! Every kernel family of the engine, compiled once per run for the run's shapes.

use super::context::{Gpu, GpuError};
use super::kernel::{Family, Slot};
use super::shaders;

/// Invocations per workgroup of the recurrent kernels. With 4×4 register blocks a workgroup has ~150
/// blocks of work per step for U = 50, so 64 invocations keep busy; on lavapipe 64 measured 5–10 %
/// faster than 256 (benches/kernels.rs, 10 models).
pub const RECURRENT_WORKGROUP: u32 = 64;
/// Upper bound on rows per recurrent workgroup: each invocation keeps one accumulator per row.
pub const MAX_ROWS_PER_WORKGROUP: u32 = 16;

/// Rows of a batch that one recurrent workgroup owns: as many as fit the adapter's workgroup memory
/// (the kernels keep 6·U floats per row there), at most the batch and `MAX_ROWS_PER_WORKGROUP`.
pub fn rows_per_workgroup(gpu: &Gpu, units: usize, batch: usize) -> Result<u32, GpuError> {
    let per_row = 6 * units as u64 * 4;
    let fit = gpu.limits.max_compute_workgroup_storage_size as u64 / per_row.max(1);
    if fit == 0 {
        return Err(GpuError::TooLarge(format!(
            "an LSTM layer of {units} units needs {per_row} bytes of workgroup memory per row; \
             this adapter offers {} bytes; use fewer units or `--backend cpu`",
            gpu.limits.max_compute_workgroup_storage_size
        )));
    }
    Ok(fit.min(batch as u64).min(MAX_ROWS_PER_WORKGROUP as u64) as u32)
}

pub struct Kernels {
    pub gemm: Family,
    pub batch: Family,
    pub dropout: Family,
    pub loss: Family,
    pub adam: Family,
    pub early_stop: Family,
}

/// The slots every training-loop family starts with (shaders/common.wgsl): config, step, states.
const COMMON_SLOTS: [Slot; 3] = [Slot::Uniform, Slot::Uniform, Slot::ReadWrite];

fn with_common(rest: &[Slot]) -> Vec<Slot> {
    let mut v = COMMON_SLOTS.to_vec();
    v.extend_from_slice(rest);
    v
}

impl Kernels {
    pub fn build(gpu: &Gpu) -> Result<Kernels, GpuError> {
        use Slot::*;
        let common = |k: &str| shaders::assemble(&[], &[shaders::RNG, shaders::COMMON, k]);
        Ok(Kernels {
            gemm: gemm_family(gpu)?,
            batch: Family::build(
                gpu,
                "batch",
                common(shaders::BATCH),
                &with_common(&[ReadWrite, Read, Read, Read, ReadWrite, ReadWrite]),
                &["shuffle", "begin_step", "begin_eval", "gather"],
            )?,
            dropout: Family::build(
                gpu,
                "dropout",
                common(shaders::DROPOUT),
                &with_common(&[Uniform, Read, ReadWrite]),
                &["main"],
            )?,
            loss: Family::build(
                gpu,
                "loss",
                common(shaders::LOSS),
                &with_common(&[Read, Read, ReadWrite, ReadWrite]),
                &["main"],
            )?,
            adam: Family::build(
                gpu,
                "adam",
                common(shaders::ADAM),
                &with_common(&[ReadWrite, Read, ReadWrite, ReadWrite]),
                &["main"],
            )?,
            early_stop: Family::build(
                gpu,
                "early_stop",
                common(shaders::EARLY_STOP),
                &with_common(&[ReadWrite, ReadWrite, ReadWrite]),
                &["begin_fit", "end_epoch", "save_best", "restore_best"],
            )?,
        })
    }
}

pub fn gemm_family(gpu: &Gpu) -> Result<Family, GpuError> {
    use Slot::*;
    Family::build(
        gpu,
        "gemm",
        shaders::assemble(&[], &[shaders::GEMM]),
        &[Uniform, Read, Read, ReadWrite, Read],
        &["main", "column_sum"],
    )
}

/// The bench's adapter probes (`matmul_wide`, `fma_peak`), compiled with the GEMM module whose bindings
/// they share.
pub fn probe_family(gpu: &Gpu) -> Result<Family, GpuError> {
    use Slot::*;
    Family::build(
        gpu,
        "bench_probes",
        shaders::assemble(&[], &[shaders::GEMM, shaders::BENCH_PROBES]),
        &[Uniform, Read, Read, ReadWrite, Read],
        &["matmul_wide", "fma_peak"],
    )
}

/// The recurrent kernels are specialised per layer width (workgroup arrays need constant sizes).
pub struct LstmKernels {
    pub forward: Family,
    pub backward: Family,
    pub rows_per_workgroup: u32,
}

impl LstmKernels {
    pub fn build(gpu: &Gpu, units: usize, batch: usize) -> Result<LstmKernels, GpuError> {
        use Slot::*;
        let rb = rows_per_workgroup(gpu, units, batch)?;
        let consts = [("U", units as u32), ("RB", rb), ("WG", RECURRENT_WORKGROUP)];
        let forward = Family::build(
            gpu,
            "lstm_forward",
            shaders::assemble(&consts, &[shaders::ACTIVATIONS, shaders::LSTM_FORWARD]),
            &[Uniform, Read, ReadWrite, ReadWrite, ReadWrite],
            &["main"],
        )?;
        let backward = Family::build(
            gpu,
            "lstm_backward",
            shaders::assemble(&consts, &[shaders::ACTIVATIONS, shaders::LSTM_BACKWARD]),
            &[Uniform, Read, Read, Read, Read, ReadWrite],
            &["main"],
        )?;
        Ok(LstmKernels {
            forward,
            backward,
            rows_per_workgroup: rb,
        })
    }
}
