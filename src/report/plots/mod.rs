//! The run's plots, each written as PNG and SVG into the output directory, one file per plot:
//!
//! - [`loss`]: `loss_mse` and `loss_rmse`, the losses per epoch (the report's Figs. 4 and 5);
//! - [`predictions`]: predicted and actual close over the validation days, with the naive forecast, the
//!   errors of both and the next-day forecast;
//! - [`split_rmse`]: each split's validation RMSE in price units, model against naive;
//! - [`equity`]: the trading view's equity curves after costs, model's signals against buy-and-hold;
//! - [`skill`]: a panel run's skill by series;
//! - [`heatmap`]: a sweep's pooled skill over two swept keys.
//!
//! [`axes`] and [`canvas`] hold what they share. Text is drawn with DejaVu Sans compiled into the
//! binary (`assets/fonts/`), registered with plotters' ab_glyph support under the generic family
//! names, so no system font is needed. SVG files name the family `sans-serif` and are rendered with the
//! viewer's own sans-serif font.

mod axes;
mod canvas;
mod equity;
pub mod heatmap;
mod loss;
mod predictions;
pub mod skill;
mod split_rmse;

use std::path::{Path, PathBuf};

pub use loss::LossData;
pub use predictions::{freshest_predictions, DayPoint};
pub use split_rmse::{split_rmse_points, trailing_mean};

use super::metrics_json::{Evaluation, HistoryRow};
use canvas::{ensure_font, write_both, SIZE, SIZE_TALL};
use equity::EquityPlot;
use loss::LossPlot;
use predictions::PredictionPlot;
use split_rmse::SplitRmsePlot;

/// Base names of the plots; each is written as `<name>.png` and `<name>.svg`.
pub const PLOT_NAMES: [&str; 5] = [
    "loss_mse",
    "loss_rmse",
    "predictions",
    "split_rmse",
    "equity",
];
/// A panel run's plot of every series' skill ([`skill`]).
pub const PANEL_PLOT: &str = "skill_by_series";

/// Writes every plot of `eval` into `dir` (which must exist) and returns the files written, PNG and
/// SVG of each plot in [`PLOT_NAMES`] order.
pub fn write_all(dir: &Path, eval: &Evaluation) -> anyhow::Result<Vec<PathBuf>> {
    ensure_font()?;
    let n_splits = eval.splits.len();
    // With several seeds, the first seed's fits: the others' curves would repeat every split.
    let first_seed = eval.history.first().map(|h| h.seed);
    let history: Vec<HistoryRow> = eval
        .history
        .iter()
        .filter(|h| Some(h.seed) == first_seed)
        .copied()
        .collect();
    let loss = LossData::from_history(&history);
    let mut written = Vec::new();
    written.extend(write_both(
        dir,
        "loss_mse",
        SIZE,
        &LossPlot {
            data: &loss,
            rmse: false,
            n_splits,
            protocol: eval.run.protocol,
        },
    )?);
    written.extend(write_both(
        dir,
        "loss_rmse",
        SIZE,
        &LossPlot {
            data: &loss,
            rmse: true,
            n_splits,
            protocol: eval.run.protocol,
        },
    )?);
    written.extend(write_both(
        dir,
        "predictions",
        SIZE_TALL,
        &PredictionPlot::new(eval),
    )?);
    written.extend(write_both(
        dir,
        "split_rmse",
        SIZE,
        &SplitRmsePlot::new(&eval.splits),
    )?);
    written.extend(write_both(dir, "equity", SIZE, &EquityPlot::new(eval))?);
    Ok(written)
}
