//! gpulstm: stacked-LSTM time-series forecasters trained by WGSL compute shaders through wgpu,
//! checked against a plain-Rust CPU reference.
//!
//! Module map (one job per file), from the bottom up:
//! - [`rng`]: the counter-based generator shared bit for bit with `shaders/rng.wgsl`.
//! - [`data`]: CSV → cleaned series → scaler → look-back samples → splits.
//! - [`model`]: layer spec, flat parameter layout, Keras-compatible seeded initialisation.
//! - [`fit`]: what a fit is for every backend: hyper-parameters (with `train`'s defaults), windows,
//!   scaled series, report.
//! - [`metrics`]: sklearn-compatible regression metrics and pandas-style `describe`; `metrics::returns`:
//!   the same forecasts scored as returns (RMSE, MAE, direction, IC).
//! - [`ridge`]: closed-form ridge regression, the linear baseline.
//! - [`reference`]: the f64 reference: forward, BPTT, dropout, dense, MSE, Adam in plain loops, the
//!   oracle every engine is checked against.
//! - [`compare`]: how an engine's f32 results are compared with the reference (tolerances);
//!   [`check_problem`]: the tiny problem both engines' whole-step and whole-fit checks train.
//! - [`cpu`]: the CPU engine: the same training in f32, SIMD products, all cores.
//! - [`gpu`]: device, pipelines, the shader interface and the batched-model engine.
//! - [`train`]: the protocols (walk-forward, seed) over a `Trainer` backend (CPU engine, GPU, reference).
//! - [`atomic`] (write then rename; publish only under a free name), [`interrupt`] (SIGINT/SIGTERM),
//!   [`runtime_dir`] (a private `XDG_RUNTIME_DIR`), [`progress`] (the progress line), [`run_dir`] (lock,
//!   `run.json`, the journal `--resume` continues from), [`startup`] (launch to first training step).
//! - [`checkpoint`]: `model.safetensors`, saved and loaded.
//! - [`report`]: the evaluation of a run and everything a run writes (metrics.json, CSVs, report.md,
//!   plots, checkpoint, summary), from `report::write`.
//! - [`sweep`]: many configurations over the same splits, one chosen per split without look-ahead,
//!   tested against naive (DM, SPA).
//! - [`cli`]: the command line: the clap definitions and one file per subcommand; it decides what runs.

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
pub mod ridge;
pub mod rng;
pub mod run_dir;
pub mod runtime_dir;
pub mod startup;
pub mod sweep;
pub mod train;
