//! Rust mirrors of the WGSL structs (shaders/common.wgsl and the per-kernel parameter blocks).
//! `#[repr(C)]` with only 4-byte fields, so the byte layout equals WGSL's for uniform and storage use;
//! sizes are multiples of 16 bytes as uniform buffers require.

use bytemuck::{Pod, Zeroable};

/// Mirrors `ModelState` in shaders/common.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct ModelState {
    pub model_id: u32,
    pub train_start: u32,
    pub train_len: u32,
    pub val_start: u32,
    pub val_len: u32,
    pub alive: u32,
    pub rows: u32,
    pub sample_base: u32,
    pub step_active: u32,
    pub adam_t: u32,
    pub dropout_step: u32,
    pub epoch_serial: u32,
    pub epochs_run: u32,
    pub wait: u32,
    pub best_epoch: u32,
    pub stopped_early: u32,
    pub improved: u32,
    pub has_best: u32,
    pub lr_t: f32,
    pub best_val: f32,
    pub train_sse: f32,
    pub eval_sse: f32,
    pub pad0: u32,
    pub pad1: u32,
}

/// Mirrors `RunConfig` in shaders/common.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct RunConfig {
    pub models: u32,
    pub batch: u32,
    pub steps: u32,
    pub features: u32,
    pub perm_stride: u32,
    pub eval_stride: u32,
    pub max_epochs: u32,
    pub patience: u32,
    pub seed_lo: u32,
    pub seed_hi: u32,
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub epsilon: f32,
    pub param_count: u32,
    pub pad0: u32,
}

/// Mirrors `StepParams` in shaders/common.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct StepParams {
    pub batch_index: u32,
    pub training: u32,
    pub eval_train_window: u32,
    pub chunk: u32,
    pub only_alive: u32,
    pub carry_best: u32,
    pub pad1: u32,
    pub pad2: u32,
}

/// Mirrors `Gemm` in shaders/gemm.wgsl. Each operand is addressed as
/// `off + model·model_stride + row·row_stride + col·col_stride` (in f32 elements).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct GemmParams {
    pub m: u32,
    pub n: u32,
    pub k: u32,
    pub flags: u32,
    pub a_off: u32,
    pub a_model: u32,
    pub a_row: u32,
    pub a_col: u32,
    pub b_off: u32,
    pub b_model: u32,
    pub b_row: u32,
    pub b_col: u32,
    pub c_off: u32,
    pub c_model: u32,
    pub c_row: u32,
    pub c_col: u32,
    pub bias_off: u32,
    pub bias_model: u32,
    pub pad0: u32,
    pub pad1: u32,
}

impl GemmParams {
    /// C = A·B for one model with every operand dense and row-major: A [m][k], B [k][n], C [m][n].
    pub fn row_major(m: usize, n: usize, k: usize) -> GemmParams {
        GemmParams {
            m: m as u32,
            n: n as u32,
            k: k as u32,
            a_row: k as u32,
            a_col: 1,
            b_row: n as u32,
            b_col: 1,
            c_row: n as u32,
            c_col: 1,
            ..Default::default()
        }
    }
}

/// Output tile of one GEMM workgroup (8×8 invocations × 4×4 blocks): the grid is
/// `[⌈n/32⌉, ⌈m/32⌉, models]`.
pub const GEMM_TILE: usize = 32;

pub fn gemm_grid(m: usize, n: usize, models: usize) -> [u32; 3] {
    [
        n.div_ceil(GEMM_TILE) as u32,
        m.div_ceil(GEMM_TILE) as u32,
        models as u32,
    ]
}

pub const GEMM_ADD_BIAS: u32 = 1;
pub const GEMM_ACCUMULATE: u32 = 2;

/// Mirrors `LstmParams` (forward) and `LstmBackParams` (backward; the forward kernel reads the first four).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct LstmParams {
    pub steps: u32,
    pub rows: u32,
    pub recurrent_off: u32,
    pub param_stride: u32,
    pub dh_every_step: u32,
    pub pad0: u32,
    pub pad1: u32,
    pub pad2: u32,
}

/// Mirrors `DropoutParams` in shaders/dropout.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct DropoutParams {
    pub steps: u32,
    pub units: u32,
    pub layer_index: u32,
    pub rate: f32,
    pub in_off: u32,
    pub in_model: u32,
    pub out_off: u32,
    pub out_model: u32,
}
