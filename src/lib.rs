//! gpulstm: stacked-LSTM time-series forecasters trained by WGSL compute shaders through wgpu,
//! checked against a plain-Rust CPU reference.
//!
//! Module map (one job per file):
//! - [`data`]: CSV → cleaned series → scaler → look-back samples → splits.
//! - [`rng`]: the counter-based generator shared bit for bit with `shaders/rng.wgsl`.
//! - [`model`]: layer spec, flat parameter layout, Keras-compatible seeded initialisation.
//! - [`fit`]: what a fit is for every backend: hyper-parameters, windows, scaled series, report.
//! - [`reference`]: the f64 reference: forward, BPTT, dropout, dense, MSE, Adam in plain loops, the
//!   oracle every engine is checked against.
//! - [`cpu`]: the CPU engine: the same training in f32, SIMD products, all cores.
//! - [`compare`]: how an engine's f32 results are compared with the reference (tolerances);
//!   [`check_problem`]: the tiny problem both engines' whole-step and whole-fit checks train.
//! - [`gpu`]: device, pipelines and the batched-model engine.
//! - [`metrics`]: sklearn-compatible regression metrics and pandas-style `describe`.

pub mod atomic;
pub mod check_problem;
pub mod checkpoint;
pub mod cli;
pub mod compare;
pub mod cpu;
pub mod data;
pub mod fit;
pub mod gpu;
pub mod interrupt;
pub mod metrics;
pub mod model;
pub mod progress;
pub mod reference;
pub mod report;
pub mod rng;
pub mod run_dir;
pub mod runtime_dir;
pub mod train;
