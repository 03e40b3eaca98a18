//! Everything a run writes and prints after training.
//!
//! - [`evaluate`] — metrics, baselines, describe tables, Table 1, pooled scores, forecast (pure computation).
//! - [`metrics_json`] — the types those numbers go into, serialised as `metrics.json`.
//! - [`panel`] — a panel's series evaluated and ranked.
//! - [`files`] — the output directory and the machine-readable files (metrics.json and the CSVs).
//! - [`summary`] — the short summary on stdout.
//! - [`plots`] — loss curves and prediction plots (PNG and SVG).
//! - [`markdown`] — report.md.
//! - [`verdicts`] — the baseline and return-space sentences the summary and report.md share.
//! - [`baselines`] — the drift and ridge baselines of each split.
//! - [`trading`] — the forecasts traded after costs, beside buy-and-hold and ridge.
//! - [`intervals`] — walk-forward conformal intervals of the model and of naive (`--levels`).
//! - [`write`] — the one entry that writes every output of a finished run, in order.

pub mod baselines;
pub mod evaluate;
pub mod files;
pub mod format;
pub mod intervals;
pub mod markdown;
pub mod metrics_json;
pub mod panel;
pub mod plots;
pub mod seed_tables;
pub mod stale;
pub mod summary;
pub mod trading;
pub mod verdicts;
pub mod write;
