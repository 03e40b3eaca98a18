//! The GPU backend: every training kernel a WGSL compute shader run through wgpu.
//!
//! - [`context`]: adapter choice and device with the adapter's real limits; readback.
//! - [`shaders`]: the embedded WGSL sources.
//! - [`kernel`]: pipelines with explicit layouts, recorded launches.
//! - [`kernels`]: the kernel families, compiled once per run.
//! - [`layout`]: Rust mirrors of the WGSL structs.
//! - [`engine`]: M models trained in the same dispatches.

pub mod check;
pub mod context;
pub mod engine;
pub mod kernel;
pub mod kernels;
pub mod layout;
pub mod shaders;

pub use context::{list_adapters, AdapterSummary, Gpu, GpuError};
pub use engine::{Engine, EngineShape, ModelSetup, Optim};
