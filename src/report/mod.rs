//! Everything a run writes and prints after training.
//!
//! - [`evaluate`] — metrics, baselines, describe tables, Table 1, pooled scores, forecast (pure computation).
//! - [`files`] — the output directory and the machine-readable files (metrics.json and the CSVs).
//! - [`summary`] — the short summary on stdout.
//! - [`plots`] — loss curves and prediction plots (PNG and SVG).
//! - [`markdown`] — report.md.

pub mod evaluate;
pub mod files;
pub mod markdown;
pub mod plots;
pub mod summary;
