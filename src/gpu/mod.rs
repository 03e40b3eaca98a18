//! The GPU backend: every training kernel a WGSL compute shader run through wgpu.
//!
//! - [`adapters`]: adapter choice, and opening one with the adapter's limits or the WebGPU defaults
//!   where they cover the engine's needs; [`context`]: the open device, its buffers and readback.
//! - [`shaders`]: the embedded WGSL sources and the module each family compiles.
//! - [`kernel`]: pipelines per entry point and pipeline constants, recorded launches;
//!   [`pipeline_cache`]: the families compiled on a device, reused by every engine of a run;
//!   [`driver_cache`]: the driver's compiled pipelines kept on disk between runs (Vulkan).
//! - [`kernels`]: one module per kernel family: its launch builder and its standalone check.
//! - [`shader_structs`]: the Rust mirrors of the WGSL structs; [`bindings`]: each family's bindings,
//!   declared once for the bind-group layout, the bind group and tests/shader_interface.rs.
//! - [`plan`]: what the engine decides from the device's limits (products, tiles, models per chunk)
//!   and which limits and features it rests on.
//! - [`tiles`]: block shapes per adapter and product; the `gpulstm tune` cache; [`tune`]: timing them.
//! - [`device_layout`]: the parameters and layer inputs as the kernels read them.
//! - [`layers`]: each layer's buffers and launches; [`engine`]: M models trained in the same dispatches.
//! - [`compare`], [`check`]: comparison with the CPU reference; the whole-step and whole-fit checks.
//! - [`variants`]: every pipeline (module, entry point, constants) the engine, checks, tune and bench
//!   can create, for the shader translation test.
//! - [`yardstick`]: plain products of the engine's shapes, for the bench and `gpulstm tune`;
//!   [`profile`]: timing launches, yardstick shapes; [`roofline`]: on-paper estimates for named GPUs
//!   with waves and occupancy; [`bench`]: the kernel profile `cargo bench` and `gpulstm bench` run.

pub mod adapters;
pub mod bench;
pub mod bindings;
pub mod check;
pub use crate::compare;
pub mod context;
pub mod device_layout;
pub mod driver_cache;
pub mod engine;
pub mod fault;
pub mod kernel;
pub mod kernels;
pub mod layers;
pub mod pipeline_cache;
pub mod plan;
pub mod profile;
pub mod roofline;
pub mod shader_structs;
pub mod shaders;
pub mod tiles;
pub mod tune;
pub mod variants;
pub mod yardstick;

pub use adapters::list_adapters;
pub use context::{AdapterSummary, Gpu, GpuError, LimitSet};
pub use engine::{BatchEngine, EngineShape, ModelSetup, Optim};
