//! Sweeps: many configurations of `train` over the same splits, one configuration chosen per split
//! without look-ahead, and the choice tested against the naive forecast for data snooping.
//!
//! - [`grid`] — the configurations `--grid` and `--random` describe.
//! - [`select`] — the choice per split from earlier splits' validation losses only.
//! - [`score`] — the leaderboard, the selected forecasts, hindsight and default, DM and SPA.
//! - [`report`] — its report.md and printed summary.
//! - [`write`] — sweep.csv, selection.csv, metrics.json, report.md and the heatmap.

pub mod grid;
pub mod report;
pub mod score;
pub mod select;
pub mod write;
