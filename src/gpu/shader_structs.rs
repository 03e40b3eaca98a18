//! Rust mirrors of the WGSL structs the kernels read from uniform and storage buffers: the ones every
//! kernel shares (shaders/state.wgsl) here, each kernel module's parameter block in that module, all
//! declared with [`mirror!`] so each carries a table of its fields ([`Mirror`]) that
//! tests/shader_interface.rs compares with naga's reflection of the shaders. `#[repr(C)]` with only
//! 4-byte fields, so the byte layout equals WGSL's for uniform and storage use; sizes are multiples of
//! 16 bytes as uniform buffers require.

/// The WGSL name of a type a buffer holds, as naga names it.
pub trait WgslType {
    const WGSL: &'static str;
}

impl WgslType for u32 {
    const WGSL: &'static str = "u32";
}

impl WgslType for f32 {
    const WGSL: &'static str = "f32";
}

impl WgslType for [f32; 4] {
    const WGSL: &'static str = "vec4<f32>";
}

/// One field of a mirror as Rust lays it out.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub name: &'static str,
    pub offset: usize,
    pub size: usize,
    /// Its type's WGSL name.
    pub ty: &'static str,
}

/// A Rust struct that mirrors a WGSL struct: both names, its size and its fields in declaration order.
#[derive(Clone, Copy, Debug)]
pub struct Mirror {
    pub wgsl: &'static str,
    pub rust: &'static str,
    pub size: usize,
    pub fields: &'static [Field],
}

/// Declares `WgslName => struct RustName { fields }` as a `#[repr(C)]`, `Pod` struct with its
/// [`Mirror`] table (`RustName::MIRROR`, built with `offset_of!` from the declaration itself, so it cannot
/// drift from the struct) and its [`WgslType`].
macro_rules! mirror {
    (
        $wgsl:ident => $(#[$meta:meta])* $vis:vis struct $name:ident {
            $($fvis:vis $field:ident : $ty:ty),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[repr(C)]
        #[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
        $vis struct $name {
            $($fvis $field: $ty),+
        }

        impl $name {
            pub const MIRROR: $crate::gpu::shader_structs::Mirror =
                $crate::gpu::shader_structs::Mirror {
                    wgsl: stringify!($wgsl),
                    rust: stringify!($name),
                    size: std::mem::size_of::<$name>(),
                    fields: &[$($crate::gpu::shader_structs::Field {
                        name: stringify!($field),
                        offset: std::mem::offset_of!($name, $field),
                        size: std::mem::size_of::<$ty>(),
                        ty: <$ty as $crate::gpu::shader_structs::WgslType>::WGSL,
                    }),+],
                };
        }

        impl $crate::gpu::shader_structs::WgslType for $name {
            const WGSL: &'static str = stringify!($wgsl);
        }
    };
}
pub(crate) use mirror;

mirror! {
    ModelState =>
    /// Mirrors `ModelState` in shaders/state.wgsl: one model's place in the run, read and written by the
    /// kernels.
    pub struct ModelStateGpu {
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
}

mirror! {
    RunConfig =>
    /// Mirrors `RunConfig` in shaders/state.wgsl: the run's shapes and Adam constants, one uniform for
    /// every kernel.
    pub struct RunUniform {
        pub models: u32,
        pub batch: u32,
        pub steps: u32,
        pub features: u32,
        pub perm_stride: u32,
        pub eval_stride: u32,
        pub max_epochs: u32,
        pub patience: u32,
        pub restore_without_stop: u32,
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
}

mirror! {
    StepParams =>
    /// Mirrors `StepParams` in shaders/state.wgsl.
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
}

/// The most bytes one buffer (one storage binding) may take, whatever the adapter reports: 4 GiB, so every
/// f32 index into it is below 2³⁰ and the kernels' index arithmetic (a vec4 index times 4 for a scalar
/// view, an offset plus a row) stays inside u32 with room to spare. Metal reports its binding limit as the
/// whole buffer size (tens of GiB on a large Mac), where u32 indices would wrap silently.
pub const MAX_INDEXED_BINDING_BYTES: u64 = 1 << 32;

/// The bytes one buffer the kernels index may take under `limits`: the storage-binding and buffer limits,
/// clamped to [`MAX_INDEXED_BINDING_BYTES`]. The engine sizes every buffer (and so the models per chunk)
/// by this alone.
pub fn binding_bytes(limits: &wgpu::Limits) -> u64 {
    limits
        .max_storage_buffer_binding_size
        .min(limits.max_buffer_size)
        .min(MAX_INDEXED_BINDING_BYTES)
}

/// A size or offset as the u32 the kernels index with. Every buffer is at most [`binding_bytes`] (checked
/// before its launches are built), so every element index fits.
pub fn u32_of(x: usize) -> u32 {
    debug_assert!(x <= u32::MAX as usize, "index {x} exceeds u32");
    x as u32
}

impl ModelStateGpu {
    /// The model's random-stream seed, split as the shaders read it.
    pub fn with_seed(self, seed: u64) -> ModelStateGpu {
        ModelStateGpu {
            seed_lo: seed as u32,
            seed_hi: (seed >> 32) as u32,
            ..self
        }
    }
}
