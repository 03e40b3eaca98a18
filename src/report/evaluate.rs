//! Everything a run's reports say, computed once from the [`RunResult`] and the [`Series`] it ran on:
//! per-split metrics in scaled and price units, the persistence baseline on the same windows, pandas
//! `describe` tables over the splits, the report's Table 1, pooled validation scores and the next-day
//! forecast. Pure computation: no files, no printing (that is [`super::files`] and [`super::summary`]).
//!
//! Conventions used throughout:
//! - Sample `s` targets row `s + lookback` (ARCHITECTURE.md); every date below is the date of a target
//!   row, the day whose close is predicted.
//! - "scaled" means the split's own target scaler (the units the model is trained in and the report's
//!   Tables 1–3 use); "price" means that scaler inverted, in the units of the target column (dollars).
//! - The naive (persistence) baseline predicts, for target row `r`, the target price of row `r − 1`:
//!   tomorrow's close = today's close.
//! - Epoch numbers (`best_epoch`, `epoch` in history.csv) are 0-based: epoch 0 is the first epoch run.
//!
//! `metrics.json` is [`Evaluation`] serialised with serde; the doc comment of every field is the
//! documentation of its key. Non-finite numbers (an undefined skill when the naive error is 0, a sample
//! standard deviation of one value) are written as `null`.

use std::path::PathBuf;

use anyhow::{ensure, Context};
use chrono::{Datelike, NaiveDate, Weekday};
use serde::Serialize;

use crate::data::{Series, SourceFormat, WindowKind};
use crate::metrics::{describe, directional_accuracy, regression, Describe, Regression};
use crate::train::protocol::{Protocol, RunResult, RunSpec, ScalerMode, SplitOutcome, Spread};
use crate::train::Engine;

/// What the command line resolved, beside the result: the run's specification and the choices that are
/// not in it. Passed to the report writers with the [`Evaluation`].
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub spec: RunSpec,
    /// The checkpoint every model started from (`--init-weights`), if any.
    pub init_weights: Option<PathBuf>,
    /// Notes printed when the run started (settings implied by the protocol, backend fallback), repeated
    /// in the reports so a reader of the files sees them too.
    pub notes: Vec<String>,
}

/// The whole evaluation; serialised as `metrics.json`. Keys, top level: `run`, `table1`, `describe`,
/// `pooled`, `forecast`, `splits`. The per-epoch history and the individual predictions are not in the
/// JSON (a full run has about 200 000 predictions); they are `history.csv` and `predictions.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// The series' name (its file's stem, or its id in a long-format file).
    pub series: String,
    /// The run's configuration and where its numbers come from.
    pub run: RunInfo,
    /// The report's Table 1 for this protocol (see [`Table1::definition`]).
    pub table1: Table1,
    /// pandas `describe` of the per-split metrics (the report's Tables 2 and 3, and more).
    pub describe: DescribeTables,
    /// All validation predictions of all splits taken together.
    pub pooled: Pooled,
    /// The next-day forecast.
    pub forecast: ForecastInfo,
    /// One entry per split, in split order (also `splits.csv`): the split's model, or with several
    /// seeds the mean of their predictions (each seed's own rows are in `splits.csv`).
    pub splits: Vec<SplitEval>,
    /// With several seeds (`--seeds`): each seed's pooled scores and their spread, beside the
    /// ensemble's (`pooled`); null with one seed.
    pub seeds: Option<super::panel::SeedSpread>,
    /// With several seeds: every seed's own split rows (`splits.csv`, seed column set).
    #[serde(skip)]
    pub seed_splits: Vec<SplitEval>,
    /// One row per split and epoch (`history.csv`).
    #[serde(skip)]
    pub history: Vec<HistoryRow>,
    /// One row per prediction, price units (`predictions.csv`).
    #[serde(skip)]
    pub predictions: Vec<PredictionRow>,
}

/// `run`: the configuration, as run.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    /// Version of gpulstm that wrote the file.
    pub gpulstm_version: String,
    /// The data file as given on the command line, or the description of the embedded sample.
    pub data_file: String,
    /// `nasdaq`, `yahoo` or `generic`: what the header looked like.
    pub data_format: SourceFormat,
    /// True when Open/High/Low/Close were scaled by `Adj Close / Close`.
    pub adjusted: bool,
    /// First and last date of the series (ISO `YYYY-MM-DD`), after sorting oldest first.
    pub first_date: String,
    pub last_date: String,
    /// Number of rows (trading days) in the series.
    pub rows: usize,
    /// Feature column names, in the order the model reads them.
    pub features: Vec<String>,
    /// Target column name.
    pub target: String,
    /// `walk-forward` or `seed`.
    pub protocol: Protocol,
    /// `rolling` or `expanding`.
    pub window: WindowKind,
    /// Look-back in rows; sample sizes below are in samples.
    pub lookback: usize,
    pub train_window: usize,
    pub val_window: usize,
    pub step: usize,
    /// `--max-splits`, or null when every split was run.
    pub max_splits: Option<usize>,
    /// Number of splits run.
    pub splits: usize,
    /// The layer spec (`--layers` syntax).
    pub layers: String,
    /// Trainable parameters per model.
    pub parameters: usize,
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub patience: usize,
    /// Seed of the first model of each split; seed ensembles use `seed`, `seed + 1`, … .
    pub seed: u64,
    /// Models per split (`--seeds`): their mean is the split's prediction.
    pub seeds: usize,
    /// `train` (fitted on each split's training rows) or `global` (on the whole series, the report's).
    pub scaler: ScalerMode,
    /// Walk-forward forecast ensemble size asked for (`--ensemble-last`).
    pub ensemble_last: usize,
    /// Checkpoint the models started from, or null for the seeded initialisation.
    pub init_weights: Option<String>,
    /// The training backend as it describes itself (CPU threads or GPU adapter).
    pub backend: String,
    /// The engines that trained the models: `cpu`, `gpu` or `reference` (several for shards merged
    /// from different backends).
    pub engines: Vec<Engine>,
    /// Wall time of training, evaluation of the splits and the forecast, in seconds.
    pub wall_seconds: f64,
    /// Notes about implied settings and fallbacks, as printed at the start of the run.
    pub notes: Vec<String>,
}

/// `splits[]`: one split's model on its own windows (walk-forward), or the final model on the split's
/// windows (seed protocol). Also one row of `splits.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct SplitEval {
    /// 0-based split number.
    pub index: usize,
    /// The model evaluated: the split index (walk-forward) or 0 (seed: one model throughout).
    pub model_id: u32,
    /// The model's seed; for a seed ensemble's row, null.
    pub seed: Option<u64>,
    /// Models whose mean prediction is evaluated: 1, or the seeds of an ensemble that did not diverge.
    pub members: usize,
    /// Dates of the first and last target row of the training window.
    pub train_first_date: String,
    pub train_last_date: String,
    /// Dates of the first and last target row of the validation window.
    pub val_first_date: String,
    pub val_last_date: String,
    pub train_samples: usize,
    pub val_samples: usize,
    /// Epochs this split's fit ran (null for a seed ensemble's row: see the seeds' own rows).
    pub epochs_run: Option<usize>,
    /// 0-based epoch whose weights were restored (early stopping's best); null for an ensemble.
    pub best_epoch: Option<usize>,
    /// True when the patience rule stopped the fit before `epochs`; null for an ensemble.
    pub stopped_early: Option<bool>,
    /// The fit diverged (loss NaN/inf, or validation MSE above `fit::DIVERGED_VAL_LOSS`): listed here,
    /// left out of `pooled`, `describe` and the forecast.
    pub diverged: bool,
    /// Validation loss (MSE, scaled) at `best_epoch`; null when no epoch ran.
    pub best_val_loss: Option<f64>,
    /// Model metrics (`mse`, `rmse`, `mae`, `r2`, `evs`) on the training window, scaled units.
    pub train_scaled: Regression,
    /// Model metrics on the validation window, scaled units.
    pub val_scaled: Regression,
    /// Model metrics on the training window, price units.
    pub train_price: Regression,
    /// Model metrics on the validation window, price units.
    pub val_price: Regression,
    /// Naive persistence baseline on the validation window, price units.
    pub naive_val_price: Regression,
    /// Naive persistence baseline on the validation window, in this split's scaled units.
    pub naive_val_scaled: Regression,
    /// `1 − val_price.rmse / naive_val_price.rmse`: above 0 the model beats tomorrow = today.
    pub skill: f64,
    /// Share of validation days where the predicted move from the last observed close has the sign of
    /// the actual move (a zero move matches only a zero move).
    pub directional_accuracy: f64,
}

/// The five sklearn metrics, each summarised over the splits with pandas `describe` (keys `count`,
/// `mean`, `std` (ddof 1), `min`, `q25`, `q50`, `q75`, `max`).
#[derive(Debug, Clone, Serialize)]
pub struct MetricDescribe {
    pub mse: Describe,
    pub rmse: Describe,
    pub mae: Describe,
    pub r2: Describe,
    pub evs: Describe,
}

/// Training-window and validation-window summaries in one unit.
#[derive(Debug, Clone, Serialize)]
pub struct WindowDescribe {
    /// Over splits of the training-window metrics (the report's Table 2 in scaled units).
    pub train: MetricDescribe,
    /// Over splits of the validation-window metrics (the report's Table 3 in scaled units).
    pub val: MetricDescribe,
}

/// `describe`: summaries over the splits.
#[derive(Debug, Clone, Serialize)]
pub struct DescribeTables {
    /// Scaled units, as the report's Tables 2 (`train`) and 3 (`val`).
    pub scaled: WindowDescribe,
    /// The same in price units.
    pub price: WindowDescribe,
    /// The naive baseline's validation metrics, price units.
    pub naive_val_price: MetricDescribe,
    /// Per-split skill (`splits[].skill`).
    pub skill: Describe,
    /// Per-split directional accuracy.
    pub directional_accuracy: Describe,
}

/// `table1.train` / `table1.val`: one set of predictions scored as one sample.
#[derive(Debug, Clone, Serialize)]
pub struct Table1Window {
    /// Which predictions these are.
    pub what: String,
    /// How many predictions were scored.
    pub predictions: usize,
    /// Metrics in scaled units (what the report printed).
    pub scaled: Regression,
    /// Metrics in price units.
    pub price: Regression,
}

/// `table1`: the report's Table 1 (train and validation MSE/RMSE/MAE/R²/EVS).
#[derive(Debug, Clone, Serialize)]
pub struct Table1 {
    /// What the table is for this protocol, in words.
    pub definition: String,
    pub train: Table1Window,
    pub val: Table1Window,
}

/// `pooled`: every split's validation predictions concatenated (with step < val-window a date appears in
/// several splits and is counted once per split), price units.
#[derive(Debug, Clone, Serialize)]
pub struct Pooled {
    /// Number of predictions pooled.
    pub predictions: usize,
    /// Number of different target dates among them.
    pub distinct_dates: usize,
    pub model_rmse: f64,
    pub model_mae: f64,
    pub naive_rmse: f64,
    pub naive_mae: f64,
    /// `1 − model_rmse / naive_rmse`.
    pub skill: f64,
    /// Directional accuracy over all pooled predictions.
    pub directional_accuracy: f64,
    /// Splits left out because their model diverged.
    pub diverged_excluded: usize,
}

/// `forecast.members[]`: one model's prediction.
#[derive(Debug, Clone, Serialize)]
pub struct ForecastMember {
    /// The split whose fit produced the model (seed protocol: the last split, after which the carried
    /// model is final).
    pub split: usize,
    /// The model's seed.
    pub seed: u64,
    /// Predicted close for `next_trading_day`, price units.
    pub price: f64,
}

/// `forecast`: the close predicted for the day after the data ends.
#[derive(Debug, Clone, Serialize)]
pub struct ForecastInfo {
    /// Last date of the series and its target value (the last observed close).
    pub last_date: String,
    pub last_close: f64,
    /// When prices were adjusted (`last_close` is Adj Close): the file's own Close of that day.
    pub last_close_in_file: Option<f64>,
    /// The date forecast: the next weekday after `last_date`.
    pub next_trading_day: String,
    /// How `next_trading_day` is chosen (exchange holidays are not modelled).
    pub calendar: String,
    /// Which models were averaged, in words.
    pub method: String,
    /// Mean, minimum, maximum and population standard deviation of the members, price units.
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    pub std: f64,
    pub members: Vec<ForecastMember>,
    /// Date of the last target row any split trained or validated on.
    pub last_window_date: String,
    /// Rows of data after `last_window_date` that no split used (0 for a full walk-forward run, 1 for
    /// the seed protocol, which skips the last split; more with `--max-splits`).
    pub rows_after_last_window: usize,
    /// More than a trading week of data follows `last_window_date` ([`super::stale`]): the models
    /// forecast from prices they were never trained near.
    pub stale: bool,
    /// Seed protocol: what the report's "average" of 988 predictions really was. Both protocols: a
    /// warning when the models' windows end more than a validation window before the data
    /// (`--max-splits`). Null when neither applies.
    pub note: Option<String>,
    /// Forecast models that diverged and were left out (or that none is left), and a forecast far
    /// outside the prices in the data. Empty when neither applies.
    pub warnings: Vec<String>,
}

/// One row of `history.csv`: losses (MSE, scaled units) at the end of one epoch of one split's fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HistoryRow {
    pub seed: u64,
    pub split: usize,
    /// 0-based.
    pub epoch: usize,
    pub train_loss: f64,
    pub val_loss: f64,
}

/// Which window a prediction belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowName {
    Train,
    Val,
}

impl WindowName {
    pub fn as_str(self) -> &'static str {
        match self {
            WindowName::Train => "train",
            WindowName::Val => "val",
        }
    }
}

/// One row of `predictions.csv`, price units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PredictionRow {
    pub split: usize,
    pub window: WindowName,
    /// Date of the target row.
    pub date: NaiveDate,
    pub actual: f64,
    pub predicted: f64,
    /// The naive baseline's prediction (previous close); only for validation rows.
    pub naive: Option<f64>,
    /// A seed ensemble's spread around `predicted` (price units); none for one model.
    pub spread: Option<Spread>,
}

/// What the calendar field says about the forecast date.
pub const CALENDAR_NOTE: &str =
    "next weekday after last_date; exchange holidays are not modelled, so a forecast dated on a \
     holiday applies to the next session";

/// The next weekday after `date`: Friday, Saturday and Sunday all go to Monday.
pub fn next_trading_day(date: NaiveDate) -> NaiveDate {
    let days = match date.weekday() {
        Weekday::Fri => 3,
        Weekday::Sat => 2,
        _ => 1,
    };
    date + chrono::Duration::days(days)
}

fn iso(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// `1 − model/naive`; NaN when the naive error is 0 (skill undefined).
fn skill(model_rmse: f64, naive_rmse: f64) -> f64 {
    if naive_rmse > 0.0 {
        1.0 - model_rmse / naive_rmse
    } else {
        f64::NAN
    }
}

/// One split's predictions, unpacked into the units every table needs.
struct SplitNumbers {
    train_rows: Vec<usize>,
    val_rows: Vec<usize>,
    train_pred_price: Vec<f64>,
    val_pred_price: Vec<f64>,
    train_actual_price: Vec<f64>,
    val_actual_price: Vec<f64>,
    /// The close of the row before each validation target (the naive prediction, the "last observed").
    val_last_price: Vec<f64>,
    val_naive_scaled: Vec<f64>,
    /// A seed ensemble's spreads, price units (empty for one model).
    train_spread: Vec<Spread>,
    val_spread: Vec<Spread>,
}

/// Target rows of the samples `start .. start+len`.
fn target_rows(start: usize, len: usize, lookback: usize) -> Vec<usize> {
    (start + lookback..start + len + lookback).collect()
}

fn unpack(series: &Series, lookback: usize, out: &SplitOutcome) -> anyhow::Result<SplitNumbers> {
    let s = &out.split;
    let train_rows = target_rows(s.train_start, s.train_len, lookback);
    let val_rows = target_rows(s.val_start, s.val_len, lookback);
    ensure!(
        out.train_pred.len() == s.train_len
            && out.train_actual.len() == s.train_len
            && out.val_pred.len() == s.val_len
            && out.val_actual.len() == s.val_len,
        "split {}: {} train / {} validation predictions for windows of {} / {} samples",
        s.index,
        out.train_pred.len(),
        out.val_pred.len(),
        s.train_len,
        s.val_len
    );
    let last_row = train_rows.iter().chain(&val_rows).copied().max();
    let first_row = train_rows.iter().chain(&val_rows).copied().min();
    ensure!(
        last_row.is_none_or(|r| r < series.len()) && first_row.is_none_or(|r| r >= 1),
        "split {}: its windows reach rows outside the series ({} rows, look-back {lookback})",
        s.index,
        series.len()
    );
    let to_price =
        |v: &[f64]| -> Vec<f64> { v.iter().map(|&x| out.scaling.target_to_price(x)).collect() };
    let price_of =
        |rows: &[usize]| -> Vec<f64> { rows.iter().map(|&r| series.target[r]).collect() };
    let val_last_price: Vec<f64> = val_rows.iter().map(|&r| series.target[r - 1]).collect();
    // The target scaler is affine and increasing: min and max map through it, std by its slope.
    let spread_price = |v: &[Spread]| -> Vec<Spread> {
        let slope = out.scaling.target_to_price(1.0) - out.scaling.target_to_price(0.0);
        v.iter()
            .map(|s| Spread {
                std: s.std * slope.abs(),
                min: out.scaling.target_to_price(s.min),
                max: out.scaling.target_to_price(s.max),
            })
            .collect()
    };
    let val_naive_scaled = val_last_price
        .iter()
        .map(|&p| out.scaling.target.transform_value(0, p))
        .collect();
    Ok(SplitNumbers {
        train_pred_price: to_price(&out.train_pred),
        val_pred_price: to_price(&out.val_pred),
        // Actual prices straight from the series: exact, no scale-and-invert round trip.
        train_actual_price: price_of(&train_rows),
        val_actual_price: price_of(&val_rows),
        val_last_price,
        val_naive_scaled,
        train_spread: spread_price(&out.train_spread),
        val_spread: spread_price(&out.val_spread),
        train_rows,
        val_rows,
    })
}

fn metric_describe(values: &[Regression]) -> MetricDescribe {
    let column = |f: fn(&Regression) -> f64| describe(&values.iter().map(f).collect::<Vec<_>>());
    MetricDescribe {
        mse: column(|m| m.mse),
        rmse: column(|m| m.rmse),
        mae: column(|m| m.mae),
        r2: column(|m| m.r2),
        evs: column(|m| m.evs),
    }
}

/// Computes every table of the run. Fails (instead of panicking) if `result` does not fit `series`:
/// windows outside the rows, or prediction counts that differ from the window sizes.
pub fn evaluate(
    series: &Series,
    config: &RunConfig,
    result: &RunResult,
) -> anyhow::Result<Evaluation> {
    let spec = &config.spec;
    let lookback = spec.splits.lookback;
    ensure!(!series.is_empty(), "the series has no rows");
    ensure!(!result.splits.is_empty(), "the run has no splits");

    let numbers: Vec<SplitNumbers> = result
        .splits
        .iter()
        .map(|out| unpack(series, lookback, out))
        .collect::<anyhow::Result<_>>()
        .context("evaluating the run")?;

    let mut splits = Vec::with_capacity(result.splits.len());
    let mut history = Vec::new();
    let mut predictions = Vec::new();
    for (out, n) in result.splits.iter().zip(&numbers) {
        let s = &out.split;
        // A seed ensemble's mean is no single fit: it has no epochs of its own.
        let single = !out.is_ensemble();
        let val_price = regression(&n.val_actual_price, &n.val_pred_price);
        let naive_val_price = regression(&n.val_actual_price, &n.val_last_price);
        let date = |row: usize| iso(series.dates[row]);
        // Non-empty windows are guaranteed by the split rules; an empty one would show as "".
        let first_last = |rows: &[usize]| {
            (
                rows.first().map(|&r| date(r)).unwrap_or_default(),
                rows.last().map(|&r| date(r)).unwrap_or_default(),
            )
        };
        let (train_first_date, train_last_date) = first_last(&n.train_rows);
        let (val_first_date, val_last_date) = first_last(&n.val_rows);
        splits.push(SplitEval {
            index: s.index,
            model_id: out.model_id,
            seed: single.then_some(out.seed),
            members: out.members,
            train_first_date,
            train_last_date,
            val_first_date,
            val_last_date,
            train_samples: s.train_len,
            val_samples: s.val_len,
            epochs_run: single.then_some(out.history.len()),
            best_epoch: single.then_some(out.best_epoch),
            stopped_early: single.then_some(out.stopped_early),
            diverged: out.diverged,
            best_val_loss: out
                .history
                .get(out.best_epoch)
                .map(|h| h.val)
                .filter(|_| single),
            train_scaled: regression(&out.train_actual, &out.train_pred),
            val_scaled: regression(&out.val_actual, &out.val_pred),
            train_price: regression(&n.train_actual_price, &n.train_pred_price),
            val_price,
            naive_val_price,
            naive_val_scaled: regression(&out.val_actual, &n.val_naive_scaled),
            skill: skill(val_price.rmse, naive_val_price.rmse),
            directional_accuracy: directional_accuracy(
                &n.val_last_price,
                &n.val_actual_price,
                &n.val_pred_price,
            ),
        });
        history.extend(out.history.iter().enumerate().map(|(epoch, h)| HistoryRow {
            seed: out.seed,
            split: s.index,
            epoch,
            train_loss: h.train,
            val_loss: h.val,
        }));
        for (i, &row) in n.train_rows.iter().enumerate() {
            predictions.push(PredictionRow {
                split: s.index,
                window: WindowName::Train,
                date: series.dates[row],
                actual: n.train_actual_price[i],
                predicted: n.train_pred_price[i],
                naive: None,
                spread: n.train_spread.get(i).copied(),
            });
        }
        for (i, &row) in n.val_rows.iter().enumerate() {
            predictions.push(PredictionRow {
                split: s.index,
                window: WindowName::Val,
                date: series.dates[row],
                actual: n.val_actual_price[i],
                predicted: n.val_pred_price[i],
                naive: Some(n.val_last_price[i]),
                spread: n.val_spread.get(i).copied(),
            });
        }
    }

    // Diverged models' numbers (NaN, or errors of thousands of dollars) would swamp every summary.
    let sound = |s: &&SplitEval| !s.diverged;
    let describe_tables = {
        let pick = |f: fn(&SplitEval) -> Regression| {
            splits.iter().filter(sound).map(f).collect::<Vec<_>>()
        };
        DescribeTables {
            scaled: WindowDescribe {
                train: metric_describe(&pick(|s| s.train_scaled)),
                val: metric_describe(&pick(|s| s.val_scaled)),
            },
            price: WindowDescribe {
                train: metric_describe(&pick(|s| s.train_price)),
                val: metric_describe(&pick(|s| s.val_price)),
            },
            naive_val_price: metric_describe(&pick(|s| s.naive_val_price)),
            skill: describe(
                &splits
                    .iter()
                    .filter(sound)
                    .map(|s| s.skill)
                    .collect::<Vec<_>>(),
            ),
            directional_accuracy: describe(
                &splits
                    .iter()
                    .filter(sound)
                    .map(|s| s.directional_accuracy)
                    .collect::<Vec<_>>(),
            ),
        }
    };

    let sound_numbers: Vec<&SplitNumbers> = numbers
        .iter()
        .zip(&result.splits)
        .filter(|(_, o)| !o.diverged)
        .map(|(n, _)| n)
        .collect();
    let mut pooled = pooled(&sound_numbers);
    pooled.diverged_excluded = numbers.len() - sound_numbers.len();
    let table1 = table1(result, &numbers, &splits);
    let forecast = forecast_info(series, config, result)?;

    let run = RunInfo {
        gpulstm_version: env!("CARGO_PKG_VERSION").to_string(),
        data_file: series.source.clone(),
        data_format: series.format,
        adjusted: series.adjusted,
        first_date: iso(series.dates[0]),
        last_date: iso(series.dates[series.len() - 1]),
        rows: series.len(),
        features: series.feature_names.clone(),
        target: series.target_name.clone(),
        protocol: result.protocol,
        window: spec.splits.kind,
        lookback,
        train_window: spec.splits.train_window,
        val_window: spec.splits.val_window,
        step: spec.splits.step,
        max_splits: spec.splits.max_splits,
        splits: result.splits.len(),
        layers: spec.layout.spec.to_spec_string(),
        parameters: spec.layout.total,
        epochs: spec.hyper.epochs,
        batch_size: spec.hyper.batch_size,
        lr: spec.hyper.adam.lr,
        patience: spec.hyper.patience,
        seed: spec.hyper.seed,
        seeds: spec.seeds,
        scaler: spec.scaler,
        ensemble_last: spec.ensemble_last,
        init_weights: config
            .init_weights
            .as_ref()
            .map(|p| p.display().to_string()),
        backend: result.backend.description.clone(),
        engines: result.backend.engines.clone(),
        wall_seconds: result.wall_seconds,
        notes: config.notes.clone(),
    };

    Ok(Evaluation {
        series: String::new(),
        seeds: None,
        seed_splits: Vec::new(),
        run,
        table1,
        describe: describe_tables,
        pooled,
        forecast,
        splits,
        history,
        predictions,
    })
}

fn pooled(numbers: &[&SplitNumbers]) -> Pooled {
    let cat = |f: fn(&SplitNumbers) -> &Vec<f64>| -> Vec<f64> {
        numbers.iter().flat_map(|&n| f(n).iter().copied()).collect()
    };
    let actual = cat(|n| &n.val_actual_price);
    let pred = cat(|n| &n.val_pred_price);
    let last = cat(|n| &n.val_last_price);
    let model = regression(&actual, &pred);
    let naive = regression(&actual, &last);
    let mut rows: Vec<usize> = numbers.iter().flat_map(|n| n.val_rows.clone()).collect();
    rows.sort_unstable();
    rows.dedup();
    Pooled {
        predictions: actual.len(),
        distinct_dates: rows.len(),
        model_rmse: model.rmse,
        model_mae: model.mae,
        naive_rmse: naive.rmse,
        naive_mae: naive.mae,
        skill: skill(model.rmse, naive.rmse),
        directional_accuracy: if actual.is_empty() {
            f64::NAN
        } else {
            directional_accuracy(&last, &actual, &pred)
        },
        diverged_excluded: 0,
    }
}

/// Table 1 as the report defines it for the protocol.
fn table1(result: &RunResult, numbers: &[SplitNumbers], splits: &[SplitEval]) -> Table1 {
    // Callers guarantee at least one split.
    let last = splits.len() - 1;
    let last_out = &result.splits[last];
    let train = Table1Window {
        what: format!(
            "the model of split {} on its own training window ({} predictions)",
            last_out.split.index, last_out.split.train_len
        ),
        predictions: last_out.split.train_len,
        scaled: splits[last].train_scaled,
        price: splits[last].train_price,
    };
    match result.protocol {
        Protocol::Seed => Table1 {
            definition: format!(
                "the report's Table 1: the final model (trained through all {} splits in order) on the \
                 last split's training and validation windows, one global scaler",
                splits.len()
            ),
            train: Table1Window {
                what: format!(
                    "the final model on the training window of the last split ({})",
                    last_out.split.index
                ),
                ..train
            },
            val: Table1Window {
                what: format!(
                    "the final model on the validation window of the last split ({})",
                    last_out.split.index
                ),
                predictions: last_out.split.val_len,
                scaled: splits[last].val_scaled,
                price: splits[last].val_price,
            },
        },
        Protocol::WalkForward => {
            // Pooled over the models that did not diverge, as `pooled`.
            let sound = || result.splits.iter().zip(numbers).filter(|(o, _)| !o.diverged);
            let actual: Vec<f64> = sound().flat_map(|(o, _)| o.val_actual.iter().copied()).collect();
            let pred: Vec<f64> = sound().flat_map(|(o, _)| o.val_pred.iter().copied()).collect();
            let actual_price: Vec<f64> =
                sound().flat_map(|(_, n)| n.val_actual_price.iter().copied()).collect();
            let pred_price: Vec<f64> =
                sound().flat_map(|(_, n)| n.val_pred_price.iter().copied()).collect();
            Table1 {
                definition: format!(
                    "walk-forward analogue of the report's Table 1: train = the last split's model on its \
                     own training window; val = the validation predictions of all {} splits pooled, each \
                     made by its own split's model (scaled values are each in their own split's scale)",
                    splits.len()
                ),
                train,
                val: Table1Window {
                    what: format!(
                        "every split's model on its own validation window, {} splits pooled",
                        splits.len()
                    ),
                    predictions: actual.len(),
                    scaled: regression(&actual, &pred),
                    price: regression(&actual_price, &pred_price),
                },
            }
        }
    }
}

/// Models of the forecast's ensemble that diverged (left out), and a forecast far from every price the
/// models saw (more than half the seen range beyond it).
fn forecast_warnings(series: &Series, config: &RunConfig, result: &RunResult) -> Vec<String> {
    let mut notes = Vec::new();
    let candidates = match result.protocol {
        Protocol::WalkForward => config
            .spec
            .ensemble_last
            .clamp(1, result.splits.len().max(1)),
        Protocol::Seed => 1,
    };
    let left_out = result
        .splits
        .iter()
        .rev()
        .take(candidates)
        .filter(|o| o.diverged)
        .count();
    if result.forecast.members.is_empty() {
        notes.push(format!(
            "no forecast: every one of the {candidates} forecast model(s) diverged (try a lower --lr)"
        ));
    } else if left_out > 0 {
        notes.push(format!(
            "{left_out} of the {candidates} forecast models diverged and {} left out of the mean",
            if left_out == 1 { "was" } else { "were" }
        ));
    }
    let (lo, hi) = series
        .target
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let margin = 0.5 * (hi - lo);
    let mean = result.forecast.mean;
    if mean.is_finite() && (mean < lo - margin || mean > hi + margin) {
        notes.push(format!(
            "the forecast ${mean:.2} is far outside the prices in the data (${lo:.2} to ${hi:.2}); \
             do not trust it"
        ));
    }
    notes
}

fn forecast_info(
    series: &Series,
    config: &RunConfig,
    result: &RunResult,
) -> anyhow::Result<ForecastInfo> {
    let last_date = series.dates[series.len() - 1];
    let last_split = result.splits.last().map_or(0, |s| s.split.index);
    let f = &result.forecast;
    let members: Vec<ForecastMember> = f
        .members
        .iter()
        .map(|m| ForecastMember {
            split: match result.protocol {
                Protocol::WalkForward => m.model_id as usize,
                Protocol::Seed => last_split,
            },
            seed: m.seed,
            price: m.price,
        })
        .collect();
    let last_window_row = result
        .splits
        .iter()
        .map(|o| o.split.val_start + o.split.val_len - 1 + config.spec.splits.lookback)
        .max()
        .unwrap_or(0)
        .min(series.len() - 1);
    let rows_after_last_window = series.len() - 1 - last_window_row;
    // A gap of more than a validation window means the forecast models never saw the recent data
    // (and a per-split scaler was fitted on older prices).
    let is_stale = super::stale::is_stale(rows_after_last_window);
    let stale = is_stale.then(|| {
        format!(
            "the forecast models' windows end on {}, {rows_after_last_window} rows before the data \
             ends (--max-splits or --to; --last-splits N keeps the newest splits): they forecast from data they were not trained near",
            iso(series.dates[last_window_row])
        )
    });
    let (method, note) = match result.protocol {
        Protocol::WalkForward => {
            let first = members.iter().map(|m| m.split).min().unwrap_or(0);
            let last = members.iter().map(|m| m.split).max().unwrap_or(0);
            let splits = last - first + 1;
            let seeds = config.spec.seeds;
            let method = if members.len() == 1 {
                format!("the model of split {first} (the last split)")
            } else {
                format!(
                    "mean of {} models: the last {splits} splits ({first}–{last}, --ensemble-last {}){}, \
                     each on the last {} rows with its own scaler",
                    members.len(),
                    config.spec.ensemble_last,
                    if seeds > 1 {
                        format!(" × {seeds} seeds")
                    } else {
                        String::new()
                    },
                    config.spec.splits.lookback
                )
            };
            (method, stale)
        }
        Protocol::Seed => {
            let no_op = format!(
                "the report averaged {} predictions (one per split) to get its forecast, but all of them \
                 came from the same final model on the same last rows, so they were identical and the \
                 average equals this single prediction",
                result.splits.len()
            );
            (
                format!(
                    "the final model (after split {last_split}) on the last {} rows",
                    config.spec.splits.lookback
                ),
                Some(match stale {
                    Some(stale) => format!("{no_op}; {stale}"),
                    None => no_op,
                }),
            )
        }
    };
    Ok(ForecastInfo {
        warnings: forecast_warnings(series, config, result),
        last_date: iso(last_date),
        last_close: series.target[series.len() - 1],
        last_close_in_file: series.raw_last_target,
        next_trading_day: iso(next_trading_day(last_date)),
        calendar: CALENDAR_NOTE.to_string(),
        method,
        mean: f.mean,
        min: f.min,
        max: f.max,
        std: f.std,
        members,
        last_window_date: iso(series.dates[last_window_row]),
        rows_after_last_window,
        stale: is_stale,
        note,
    })
}
