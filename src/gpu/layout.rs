//! Rust mirrors of the structs every kernel shares (shaders/state.wgsl); each kernel module mirrors its
//! own parameter block. `#[repr(C)]` with only 4-byte fields, so the byte layout equals WGSL's for uniform
//! and storage use; sizes are multiples of 16 bytes as uniform buffers require.

use bytemuck::{Pod, Zeroable};

/// Mirrors `ModelState` in shaders/state.wgsl.
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
    pub seed_lo: u32,
    pub seed_hi: u32,
}

/// Mirrors `RunConfig` in shaders/state.wgsl.
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
    pub pad3: u32,
    pub pad4: u32,
    pub beta1: f32,
    pub beta2: f32,
    pub epsilon: f32,
    pub param_stride: u32,
    pub x_stride: u32,
    pub x_model: u32,
    pub lr_table_len: u32,
    pub pad0: u32,
    pub pad1: u32,
    pub pad2: u32,
}

/// Mirrors `StepParams` in shaders/state.wgsl.
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

/// A size or offset as the u32 the kernels index with. Every buffer is checked against the adapter's
/// limits (at most 4 GiB) before its launches are built, so every element index fits.
pub fn u32_of(x: usize) -> u32 {
    debug_assert!(x <= u32::MAX as usize, "index {x} exceeds u32");
    x as u32
}

impl ModelState {
    /// The model's random-stream seed, split as the shaders read it.
    pub fn with_seed(self, seed: u64) -> ModelState {
        ModelState {
            seed_lo: seed as u32,
            seed_hi: (seed >> 32) as u32,
            ..self
        }
    }
}
