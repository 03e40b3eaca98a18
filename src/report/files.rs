//! The output directory and the machine-readable files in it: `metrics.json` (the [`Evaluation`] of a
//! one-series run; for a panel, [`PanelEvaluation`]: the ranked summary and one evaluation per series),
//! `splits.csv`, `history.csv`, `predictions.csv` (every series' rows, with a `series` column).
//!
//! CSV numbers are Rust's shortest round-trip decimal (reading them back gives the same f64); NaN is
//! written as `NaN` (pandas reads it as NaN); an absent value (the naive prediction of a training row) is
//! an empty cell. Dates are ISO `YYYY-MM-DD`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::atomic::AtomicFile;

use super::metrics_json::{Evaluation, PanelEvaluation, PredictionRow, SplitEval, WindowName};
use crate::metrics::trading::TradeStats;
use crate::metrics::{Regression, ReturnScores};
use crate::train::Spread;

pub const METRICS_JSON: &str = "metrics.json";
pub const SPLITS_CSV: &str = "splits.csv";
pub const HISTORY_CSV: &str = "history.csv";
pub const PREDICTIONS_CSV: &str = "predictions.csv";
pub const TRADES_CSV: &str = "trades.csv";
pub const REPORT_MD: &str = "report.md";
pub const MODEL_SAFETENSORS: &str = "model.safetensors";

/// Files a run writes; a directory holding any of them holds results, which `--force` must confirm
/// before they are overwritten. Nothing else in the directory is ever touched.
pub const OUTPUT_FILES: [&str; 7] = [
    METRICS_JSON,
    SPLITS_CSV,
    HISTORY_CSV,
    PREDICTIONS_CSV,
    TRADES_CSV,
    REPORT_MD,
    MODEL_SAFETENSORS,
];

/// Why the output directory cannot be used. Both are the user's to fix (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum OutDirError {
    #[error(
        "{dir} already holds results ({files}); choose another --out directory or pass --force to \
         overwrite them (other files in it are left alone)"
    )]
    HoldsResults { dir: String, files: String },
    #[error("{dir} exists and is not a directory; choose another --out")]
    NotADirectory { dir: String },
}

/// A panel run's per-series outputs (plots, checkpoint) live in `series/<name>/`.
pub const SERIES_DIR: &str = "series";

/// The directory of series `name`'s own outputs in a panel run, relative to the run directory. Characters
/// other than letters, digits, `.`, `-` and `_` become `_`, so an id such as `BRK/B` stays one directory.
pub fn series_dir(name: &str) -> PathBuf {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = if safe.trim_matches('.').is_empty() {
        format!("_{safe}")
    } else {
        safe
    };
    Path::new(SERIES_DIR).join(safe)
}

/// Output file names of one directory: the data files and the PNG/SVG of every plot.
fn output_names() -> impl Iterator<Item = String> {
    let plots = crate::report::plots::PLOT_NAMES
        .iter()
        .chain(&[crate::report::plots::PANEL_PLOT])
        .flat_map(|p| [format!("{p}.png"), format!("{p}.svg")]);
    OUTPUT_FILES.iter().map(|f| f.to_string()).chain(plots)
}

/// The output files already present in `dir` and in its series directories (empty if `dir` does not
/// exist), so a directory holding only old plots is not overwritten silently either.
pub fn existing_outputs(dir: &Path) -> Vec<String> {
    let mut dirs = vec![PathBuf::new()];
    if let Ok(entries) = std::fs::read_dir(dir.join(SERIES_DIR)) {
        let mut sub: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .map(|e| Path::new(SERIES_DIR).join(e.file_name()))
            .collect();
        sub.sort();
        dirs.extend(sub);
    }
    dirs.iter()
        .flat_map(|d| output_names().map(move |f| d.join(f)))
        .filter(|f| dir.join(f).exists())
        .map(|f| f.display().to_string())
        .collect()
}

/// Removes the output files of an earlier run from `dir` (`--force`), so nothing that looks like a
/// finished result stays there while a new run works. Other files are left alone; series directories
/// left empty are removed.
pub fn remove_outputs(dir: &Path) -> anyhow::Result<()> {
    for name in existing_outputs(dir) {
        let path = dir.join(&name);
        std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
        if let Some(parent) = path
            .parent()
            .filter(|p| p.starts_with(dir.join(SERIES_DIR)))
        {
            // Fails (and is meant to) when the user keeps files of their own there.
            let _ = std::fs::remove_dir(parent);
        }
    }
    let _ = std::fs::remove_dir(dir.join(SERIES_DIR));
    Ok(())
}

/// Checks that results may be written to `dir`: it does not exist, or it is a directory holding none of
/// [`OUTPUT_FILES`], or `force` is set.
pub fn check_out_dir(dir: &Path, force: bool) -> Result<(), OutDirError> {
    if dir.exists() && !dir.is_dir() {
        return Err(OutDirError::NotADirectory {
            dir: dir.display().to_string(),
        });
    }
    let found = existing_outputs(dir);
    if !found.is_empty() && !force {
        return Err(OutDirError::HoldsResults {
            dir: dir.display().to_string(),
            files: found.join(", "),
        });
    }
    Ok(())
}

/// `runs/<YYYYmmdd-HHMMSS>-<protocol>` under `base`; if two runs start in the same second, `-2`, `-3`,
/// ... is appended so the second never collides with the first's results.
pub fn default_out_dir(base: &Path, now: chrono::NaiveDateTime, protocol: &str) -> PathBuf {
    let stem = format!("{}-{protocol}", now.format("%Y%m%d-%H%M%S"));
    let runs = base.join("runs");
    let mut dir = runs.join(&stem);
    let mut n = 2;
    while dir.exists() {
        dir = runs.join(format!("{stem}-{n}"));
        n += 1;
    }
    dir
}

/// Writes the five machine-readable files into `dir` (which must exist) and returns their paths.
pub fn write_all(dir: &Path, panel: &PanelEvaluation) -> anyhow::Result<Vec<PathBuf>> {
    let metrics = match panel.series.as_slice() {
        [one] => write_metrics_json(dir, one)?,
        _ => write_metrics_json(dir, panel)?,
    };
    Ok(vec![
        metrics,
        write_splits_csv(dir, &panel.series)?,
        write_history_csv(dir, &panel.series)?,
        write_predictions_csv(dir, &panel.series)?,
        write_trades_csv(dir, &panel.series)?,
    ])
}

pub fn write_metrics_json(dir: &Path, value: &impl serde::Serialize) -> anyhow::Result<PathBuf> {
    let path = dir.join(METRICS_JSON);
    let mut out = AtomicFile::create(&path)?;
    serde_json::to_writer_pretty(&mut out, value)
        .and_then(|()| writeln!(out).map_err(serde_json::Error::io))
        .with_context(|| format!("cannot write {}", path.display()))?;
    out.commit()
}

/// The five metric names, in the order of every CSV group.
const METRIC_NAMES: [&str; 5] = ["mse", "rmse", "mae", "r2", "evs"];

/// Metric groups of `splits.csv`, in column order: each gives five columns `<group>_<metric>`.
const SPLIT_METRIC_GROUPS: [&str; 6] = [
    "train_scaled",
    "val_scaled",
    "train_price",
    "val_price",
    "naive_val_price",
    "naive_val_scaled",
];

/// The header of `splits.csv`.
pub fn splits_header() -> Vec<String> {
    let mut h: Vec<String> = [
        "series",
        "split",
        "model_id",
        "seed",
        "members",
        "train_first_date",
        "train_last_date",
        "val_first_date",
        "val_last_date",
        "train_samples",
        "val_samples",
        "epochs_run",
        "best_epoch",
        "stopped_early",
        "diverged",
        "best_val_loss",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for group in SPLIT_METRIC_GROUPS {
        h.extend(METRIC_NAMES.iter().map(|m| format!("{group}_{m}")));
    }
    h.push("skill".to_string());
    h.push("directional_accuracy".to_string());
    h.extend(RETURN_NAMES.iter().map(|m| format!("val_return_{m}")));
    for group in ["drift_val_price", "ridge_val_price"] {
        h.extend(METRIC_NAMES.iter().map(|m| format!("{group}_{m}")));
    }
    h.push("skill_vs_drift".to_string());
    h.push("skill_vs_ridge".to_string());
    for group in ["trade", "buy_and_hold_trade"] {
        h.extend(TRADE_NAMES.iter().map(|m| format!("{group}_{m}")));
    }
    h
}

/// The trading view's columns, in [`trade_cells`]' order.
const TRADE_NAMES: [&str; 6] = [
    "cumulative_return",
    "annualised_return",
    "sharpe",
    "max_drawdown",
    "turnover",
    "hit_rate",
];

fn trade_cells(t: &TradeStats) -> [String; 6] {
    [
        num(t.cumulative_return),
        num(t.annualised_return),
        num(t.sharpe),
        num(t.max_drawdown),
        num(t.turnover),
        num(t.hit_rate),
    ]
}

/// The header of `trades.csv`: the model's pooled trading days (`trading.rule` in metrics.json).
pub const TRADES_HEADER: [&str; 7] = [
    "series",
    "date",
    "position",
    "return",
    "cost",
    "equity",
    "buy_and_hold_equity",
];

/// Every series' pooled trading days.
pub fn write_trades_csv(dir: &Path, series: &[Evaluation]) -> anyhow::Result<PathBuf> {
    let header: Vec<String> = TRADES_HEADER.iter().map(|s| s.to_string()).collect();
    let rows = series.iter().flat_map(|e| {
        e.trades.iter().map(|t| {
            [
                e.series.clone(),
                t.date.format("%Y-%m-%d").to_string(),
                num(t.position),
                num(t.asset_return),
                num(t.cost),
                num(t.equity),
                num(t.buy_and_hold_equity),
            ]
        })
    });
    write_csv(dir, TRADES_CSV, &header, rows)
}

/// The return-space scores' columns, in [`return_cells`]' order.
const RETURN_NAMES: [&str; 5] = [
    "rmse",
    "mae",
    "directional_accuracy",
    "ic_pearson",
    "ic_spearman",
];

fn return_cells(r: &ReturnScores) -> [String; 5] {
    [
        num(r.rmse),
        num(r.mae),
        num(r.directional_accuracy),
        num(r.ic_pearson),
        num(r.ic_spearman),
    ]
}

pub const HISTORY_HEADER: [&str; 6] =
    ["series", "seed", "split", "epoch", "train_loss", "val_loss"];
/// `predicted_std`, `_min` and `_max` are a seed ensemble's spread around `predicted` (empty for one
/// model); `drift` and `ridge` the baselines' predictions (validation rows only).
pub const PREDICTIONS_HEADER: [&str; 12] = [
    "series",
    "split",
    "window",
    "date",
    "actual",
    "predicted",
    "naive",
    "predicted_std",
    "predicted_min",
    "predicted_max",
    "drift",
    "ridge",
];

fn num(x: f64) -> String {
    x.to_string()
}

fn metric_cells(m: &Regression) -> [String; 5] {
    [num(m.mse), num(m.rmse), num(m.mae), num(m.r2), num(m.evs)]
}

fn split_record(series: &str, s: &SplitEval) -> Vec<String> {
    let text = |v: Option<String>| v.unwrap_or_default();
    let mut r = vec![
        series.to_string(),
        s.index.to_string(),
        s.model_id.to_string(),
        text(s.seed.map(|v| v.to_string())),
        s.members.to_string(),
        s.train_first_date.clone(),
        s.train_last_date.clone(),
        s.val_first_date.clone(),
        s.val_last_date.clone(),
        s.train_samples.to_string(),
        s.val_samples.to_string(),
        text(s.epochs_run.map(|v| v.to_string())),
        text(s.best_epoch.map(|v| v.to_string())),
        text(s.stopped_early.map(|v| v.to_string())),
        s.diverged.to_string(),
        s.best_val_loss.map(num).unwrap_or_default(),
    ];
    // Same order as SPLIT_METRIC_GROUPS.
    for m in [
        &s.train_scaled,
        &s.val_scaled,
        &s.train_price,
        &s.val_price,
        &s.naive_val_price,
        &s.naive_val_scaled,
    ] {
        r.extend(metric_cells(m));
    }
    r.push(num(s.skill));
    r.push(num(s.directional_accuracy));
    r.extend(return_cells(&s.val_returns));
    r.extend(metric_cells(&s.drift_val_price));
    r.extend(metric_cells(&s.ridge_val_price));
    r.push(num(s.skill_vs_drift));
    r.push(num(s.skill_vs_ridge));
    r.extend(trade_cells(&s.trade));
    r.extend(trade_cells(&s.buy_and_hold_trade));
    r
}

/// Writes `header` then `rows` to `dir/name`.
fn write_csv<I, R>(dir: &Path, name: &str, header: &[String], rows: I) -> anyhow::Result<PathBuf>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = String>,
{
    let path = dir.join(name);
    let mut w = csv::Writer::from_writer(AtomicFile::create(&path)?);
    let io =
        |e: csv::Error| anyhow::Error::new(e).context(format!("cannot write {}", path.display()));
    w.write_record(header).map_err(io)?;
    for row in rows {
        w.write_record(row).map_err(io)?;
    }
    w.into_inner()
        .map_err(|e| anyhow::anyhow!("cannot write {}: {}", path.display(), e.error()))?
        .commit()
}

/// Every series' split rows: each seed's models, then (with several seeds) the ensemble's.
pub fn write_splits_csv(dir: &Path, series: &[Evaluation]) -> anyhow::Result<PathBuf> {
    let rows = series.iter().flat_map(|e| {
        e.seed_splits
            .iter()
            .chain(&e.splits)
            .map(|s| split_record(&e.series, s))
    });
    write_csv(dir, SPLITS_CSV, &splits_header(), rows)
}

pub fn write_history_csv(dir: &Path, series: &[Evaluation]) -> anyhow::Result<PathBuf> {
    let header: Vec<String> = HISTORY_HEADER.iter().map(|s| s.to_string()).collect();
    let rows = series.iter().flat_map(|e| {
        e.history.iter().map(|h| {
            [
                e.series.clone(),
                h.seed.to_string(),
                h.split.to_string(),
                h.epoch.to_string(),
                num(h.train_loss),
                num(h.val_loss),
            ]
        })
    });
    write_csv(dir, HISTORY_CSV, &header, rows)
}

/// predictions.csv; with `--levels`, each validation row also has its interval bounds (`lo-80`,
/// `hi-80`, …), empty where the split has no interval.
pub fn write_predictions_csv(dir: &Path, series: &[Evaluation]) -> anyhow::Result<PathBuf> {
    let mut header: Vec<String> = PREDICTIONS_HEADER.iter().map(|s| s.to_string()).collect();
    let bands = series
        .first()
        .and_then(|e| e.intervals.as_ref())
        .map_or(Vec::new(), |i| i.columns.clone());
    header.extend(bands.iter().cloned());
    let rows = series.iter().flat_map(|e| {
        let bands = &bands;
        e.predictions.iter().map(move |p: &PredictionRow| {
            let spread =
                |f: fn(&Spread) -> f64| p.spread.as_ref().map(f).map(num).unwrap_or_default();
            let mut row = vec![
                e.series.clone(),
                p.split.to_string(),
                p.window.as_str().to_string(),
                p.date.format("%Y-%m-%d").to_string(),
                num(p.actual),
                num(p.predicted),
                p.naive.map(num).unwrap_or_default(),
                spread(|s| s.std),
                spread(|s| s.min),
                spread(|s| s.max),
                p.drift.map(num).unwrap_or_default(),
                p.ridge.map(num).unwrap_or_default(),
            ];
            let band = e
                .intervals
                .as_ref()
                .filter(|_| p.window == WindowName::Val)
                .and_then(|i| i.bands(p.split, p.predicted));
            match band {
                Some(b) => row.extend(b.into_iter().map(num)),
                None => row.extend(bands.iter().map(|_| String::new())),
            }
            row
        })
    });
    write_csv(dir, PREDICTIONS_CSV, &header, rows)
}
