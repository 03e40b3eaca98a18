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
//! The types the numbers go into, `metrics.json`'s, are [`super::metrics_json`].

use std::path::PathBuf;

use anyhow::{ensure, Context};
use chrono::{Datelike, NaiveDate, Weekday};

use super::baselines::split_baselines;
use super::metrics_json::{
    BaselineScore, Baselines, DescribeTables, Evaluation, ForecastInfo, ForecastMember, HistoryRow,
    MetricDescribe, Pooled, PredictionRow, RunInfo, SeedScores, SeedSpread, SplitEval, Table1,
    Table1Window, WindowDescribe, WindowName,
};
use super::metrics_json::{TradeRow, Trading};
use super::trading::{pooled_trading, split_trading};
use crate::data::{NamedSeries, Series};
use crate::metrics::{
    describe, directional_accuracy, regression, return_scores, Regression, ReturnScores,
};
use crate::train::protocol::raw_data;
use crate::train::protocol::{Protocol, RunResult, RunSpec, SplitOutcome, Spread};
use crate::train::RawData;
use crate::train::SeriesResult;
use rayon::prelude::*;

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
    /// How the forecasts are scored beside the baselines and traded.
    pub scoring: Scoring,
    /// `--levels`/`--conformal`: the intervals to put around the forecasts, if any.
    pub intervals: Option<super::intervals::IntervalSpec>,
}

/// The scoring choices that change no model: the ridge baseline's penalty (`--ridge-lambda`) and the
/// trading view's costs and direction (`--cost-bps`, `--short`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scoring {
    pub ridge_lambda: f64,
    pub cost_bps: f64,
    pub short: bool,
}

impl Scoring {
    /// On inputs scaled to O(1) and the default look-back of 60 rows × 5 features (300 inputs for 200
    /// training samples), enough to make the ridge problem well posed without flattening it.
    pub const DEFAULT_RIDGE_LAMBDA: f64 = 1.0;
    /// One basis point per unit of turnover: a liquid stock's spread and commission, roughly.
    pub const DEFAULT_COST_BPS: f64 = 1.0;
}

impl Default for Scoring {
    fn default() -> Self {
        Scoring {
            ridge_lambda: Self::DEFAULT_RIDGE_LAMBDA,
            cost_bps: Self::DEFAULT_COST_BPS,
            short: false,
        }
    }
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
    /// The drift and ridge baselines' validation predictions, price units.
    val_drift_price: Vec<f64>,
    val_ridge_price: Vec<f64>,
    /// A seed ensemble's spreads, price units (empty for one model).
    train_spread: Vec<Spread>,
    val_spread: Vec<Spread>,
}

/// Target rows of the samples `start .. start+len`.
fn target_rows(start: usize, len: usize, lookback: usize) -> Vec<usize> {
    (start + lookback..start + len + lookback).collect()
}

fn unpack(
    series: &Series,
    raw: &RawData,
    scoring: &Scoring,
    out: &SplitOutcome,
) -> anyhow::Result<SplitNumbers> {
    let lookback = raw.lookback;
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
    // Every prediction goes back to the price from the close before its own target row.
    let to_price = |v: &[f64], rows: &[usize]| -> Vec<f64> {
        v.iter()
            .zip(rows)
            .map(|(&x, &r)| out.scaling.target_to_price(x, series.target[r - 1]))
            .collect()
    };
    let price_of =
        |rows: &[usize]| -> Vec<f64> { rows.iter().map(|&r| series.target[r]).collect() };
    let val_last_price: Vec<f64> = val_rows.iter().map(|&r| series.target[r - 1]).collect();
    // Every transform and scaler is increasing: min and max map through it, std by its slope at the
    // mean.
    let spread_price = |v: &[Spread], means: &[f64], rows: &[usize]| -> Vec<Spread> {
        v.iter()
            .zip(means)
            .zip(rows)
            .map(|((s, &mean), &r)| {
                let last = series.target[r - 1];
                Spread {
                    std: s.std * out.scaling.price_slope(mean, last).abs(),
                    min: out.scaling.target_to_price(s.min, last),
                    max: out.scaling.target_to_price(s.max, last),
                }
            })
            .collect()
    };
    let val_naive_scaled = val_last_price
        .iter()
        .map(|&p| out.scaling.price_to_scaled(p, p))
        .collect();
    let baselines = split_baselines(series, raw, out, scoring.ridge_lambda)?;
    Ok(SplitNumbers {
        val_drift_price: baselines.drift,
        val_ridge_price: baselines.ridge,
        train_pred_price: to_price(&out.train_pred, &train_rows),
        val_pred_price: to_price(&out.val_pred, &val_rows),
        // Actual prices straight from the series: exact, no scale-and-invert round trip.
        train_actual_price: price_of(&train_rows),
        val_actual_price: price_of(&val_rows),
        val_last_price,
        val_naive_scaled,
        train_spread: spread_price(&out.train_spread, &out.train_pred, &train_rows),
        val_spread: spread_price(&out.val_spread, &out.val_pred, &val_rows),
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

/// One run's numbers on one series: everything of an [`Evaluation`] but the series' name and what only
/// several seeds have (their spread and their own rows).
struct Scored {
    intervals: Option<super::intervals::IntervalsEval>,
    trading: Trading,
    trades: Vec<TradeRow>,
    run: RunInfo,
    table1: Table1,
    describe: DescribeTables,
    pooled: Pooled,
    forecast: ForecastInfo,
    splits: Vec<SplitEval>,
    history: Vec<HistoryRow>,
    predictions: Vec<PredictionRow>,
}

/// Computes every table of the run. Fails (instead of panicking) if `result` does not fit `series`:
/// windows outside the rows, or prediction counts that differ from the window sizes. The evaluation has
/// no series name and no seeds' spread: that is [`evaluate_series`].
pub fn evaluate(
    series: &Series,
    config: &RunConfig,
    result: &RunResult,
) -> anyhow::Result<Evaluation> {
    Ok(assemble(String::new(), score(series, config, result)?, &[]))
}

/// One series' evaluation: its ensemble's, with each seed's scores and rows when there are several.
pub fn evaluate_series(
    named: &NamedSeries,
    config: &RunConfig,
    result: &SeriesResult,
) -> anyhow::Result<Evaluation> {
    let context = || format!("series \"{}\" ({})", named.name, named.series.source);
    let ensemble =
        score(&named.series, config, &result.ensemble).map_err(|e| e.context(context()))?;
    let mut per_seed = Vec::new();
    if result.seeds.len() > 1 {
        for r in &result.seeds {
            let seed = r.splits.first().map_or(0, |o| o.seed);
            let scored = score(&named.series, config, r).map_err(|e| e.context(context()))?;
            per_seed.push((seed, scored));
        }
    }
    Ok(assemble(named.name.clone(), ensemble, &per_seed))
}

/// The one place an [`Evaluation`] is built: `ensemble`'s numbers under the series' name; with several
/// seeds (`per_seed`, in seed order; empty for one), their spread, their split rows and their histories
/// (which replace the ensemble's: a mean of seeds has no epochs of its own).
fn assemble(series: String, ensemble: Scored, per_seed: &[(u64, Scored)]) -> Evaluation {
    let several = !per_seed.is_empty();
    let seeds = several.then(|| seed_spread(per_seed));
    let seed_splits: Vec<SplitEval> = per_seed
        .iter()
        .flat_map(|(_, s)| s.splits.iter().cloned())
        .collect();
    let history = if several {
        per_seed
            .iter()
            .flat_map(|(_, s)| s.history.iter().copied())
            .collect()
    } else {
        ensemble.history
    };
    Evaluation {
        series,
        run: ensemble.run,
        table1: ensemble.table1,
        describe: ensemble.describe,
        pooled: ensemble.pooled,
        forecast: ensemble.forecast,
        trading: ensemble.trading,
        trades: ensemble.trades,
        splits: ensemble.splits,
        seeds,
        seed_splits,
        history,
        predictions: ensemble.predictions,
        intervals: ensemble.intervals,
    }
}

/// Every seed's pooled scores and forecast, and pandas `describe` of each over the seeds.
fn seed_spread(per_seed: &[(u64, Scored)]) -> SeedSpread {
    let per_seed: Vec<SeedScores> = per_seed
        .iter()
        .map(|(seed, s)| SeedScores {
            seed: *seed,
            model_rmse: s.pooled.model_rmse,
            model_mae: s.pooled.model_mae,
            skill: s.pooled.skill,
            directional_accuracy: s.pooled.directional_accuracy,
            forecast: s.forecast.mean,
            epochs_run: s.splits.iter().filter_map(|e| e.epochs_run).sum(),
            table1_train: s.table1.train.scaled,
            table1_val: s.table1.val.scaled,
            table2: s.describe.scaled.train.clone(),
            table3: s.describe.scaled.val.clone(),
        })
        .collect();
    let over = |f: fn(&SeedScores) -> f64| describe(&per_seed.iter().map(f).collect::<Vec<_>>());
    SeedSpread {
        model_rmse: over(|s| s.model_rmse),
        model_mae: over(|s| s.model_mae),
        skill: over(|s| s.skill),
        directional_accuracy: over(|s| s.directional_accuracy),
        forecast: over(|s| s.forecast),
        per_seed,
    }
}

/// Every table of one run on `series`, from its splits' numbers.
fn score(series: &Series, config: &RunConfig, result: &RunResult) -> anyhow::Result<Scored> {
    ensure!(!series.is_empty(), "the series has no rows");
    ensure!(!result.splits.is_empty(), "the run has no splits");
    let lookback = config.spec.splits.lookback;
    let raw = raw_data(series, lookback, config.spec.target_transform);
    // Each split's ridge baseline is a small solve of its own: one per core.
    let numbers: Vec<SplitNumbers> = result
        .splits
        .par_iter()
        .map(|out| unpack(series, &raw, &config.scoring, out))
        .collect::<anyhow::Result<_>>()
        .context("evaluating the run")?;
    let mut splits = Vec::with_capacity(result.splits.len());
    let mut history = Vec::new();
    let mut predictions = Vec::new();
    for (out, n) in result.splits.iter().zip(&numbers) {
        splits.push(split_eval(series, out, n, &config.scoring));
        history.extend(history_rows(out));
        predictions.extend(prediction_rows(series, out, n));
    }
    let beats: Vec<bool> = splits
        .iter()
        .filter(|s| !s.diverged)
        .map(|s| s.trade.cumulative_return > s.buy_and_hold_trade.cumulative_return)
        .collect();
    // Diverged splits are left out of the trading view as of every pooled figure.
    let diverged: std::collections::HashSet<usize> = splits
        .iter()
        .filter(|s| s.diverged)
        .map(|s| s.index)
        .collect();
    let sound: Vec<PredictionRow> = predictions
        .iter()
        .filter(|p| !diverged.contains(&p.split))
        .cloned()
        .collect();
    let (trading, trades) = pooled_trading(&sound, &beats, &config.scoring);
    let intervals = match &config.intervals {
        Some(spec) => Some(interval_eval(spec, &numbers, &splits)?),
        None => None,
    };
    Ok(Scored {
        intervals,
        trading,
        trades,
        run: run_info(series, config, result),
        table1: table1(result, &numbers, &splits),
        describe: describe_tables(&splits),
        pooled: pooled_sound(result, &numbers, &splits),
        forecast: forecast_info(series, config, result)?,
        splits,
        history,
        predictions,
    })
}

/// One split's row of `splits[]` and `splits.csv`.
fn split_eval(
    series: &Series,
    out: &SplitOutcome,
    n: &SplitNumbers,
    scoring: &Scoring,
) -> SplitEval {
    let s = &out.split;
    // A seed ensemble's mean is no single fit: it has no epochs of its own.
    let single = !out.is_ensemble();
    let val_price = regression(&n.val_actual_price, &n.val_pred_price);
    let naive_val_price = regression(&n.val_actual_price, &n.val_last_price);
    let drift_val_price = regression(&n.val_actual_price, &n.val_drift_price);
    let ridge_val_price = regression(&n.val_actual_price, &n.val_ridge_price);
    let (trade, buy_and_hold_trade) = split_trading(
        &n.val_last_price,
        &n.val_actual_price,
        &n.val_pred_price,
        scoring,
    );
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
    SplitEval {
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
        val_returns: return_scores(&n.val_last_price, &n.val_actual_price, &n.val_pred_price),
        drift_val_price,
        ridge_val_price,
        skill_vs_drift: skill(val_price.rmse, drift_val_price.rmse),
        skill_vs_ridge: skill(val_price.rmse, ridge_val_price.rmse),
        trade,
        buy_and_hold_trade,
    }
}

/// One split's rows of `history.csv`.
fn history_rows(out: &SplitOutcome) -> impl Iterator<Item = HistoryRow> + '_ {
    out.history.iter().enumerate().map(|(epoch, h)| HistoryRow {
        seed: out.seed,
        split: out.split.index,
        epoch,
        train_loss: h.train,
        val_loss: h.val,
    })
}

/// One split's rows of `predictions.csv`: its training window, then its validation window.
fn prediction_rows(series: &Series, out: &SplitOutcome, n: &SplitNumbers) -> Vec<PredictionRow> {
    let split = out.split.index;
    let train = n
        .train_rows
        .iter()
        .enumerate()
        .map(|(i, &row)| PredictionRow {
            split,
            window: WindowName::Train,
            date: series.dates[row],
            actual: n.train_actual_price[i],
            predicted: n.train_pred_price[i],
            naive: None,
            drift: None,
            ridge: None,
            spread: n.train_spread.get(i).copied(),
        });
    let val = n
        .val_rows
        .iter()
        .enumerate()
        .map(|(i, &row)| PredictionRow {
            split,
            window: WindowName::Val,
            date: series.dates[row],
            actual: n.val_actual_price[i],
            predicted: n.val_pred_price[i],
            naive: Some(n.val_last_price[i]),
            drift: Some(n.val_drift_price[i]),
            ridge: Some(n.val_ridge_price[i]),
            spread: n.val_spread.get(i).copied(),
        });
    train.chain(val).collect()
}

/// The run's conformal intervals from each split's validation numbers.
fn interval_eval(
    spec: &super::intervals::IntervalSpec,
    numbers: &[SplitNumbers],
    splits: &[SplitEval],
) -> anyhow::Result<super::intervals::IntervalsEval> {
    let windows: Vec<super::intervals::ValWindow> = numbers
        .iter()
        .zip(splits)
        .map(|(n, s)| super::intervals::ValWindow {
            split: s.index,
            rows: &n.val_rows,
            pred: &n.val_pred_price,
            actual: &n.val_actual_price,
            naive: &n.val_last_price,
            diverged: s.diverged,
        })
        .collect();
    super::intervals::evaluate(spec, &windows)
}

/// `describe` over the splits whose model did not diverge: a diverged model's numbers (NaN, or errors of
/// thousands of dollars) would swamp every summary.
fn describe_tables(splits: &[SplitEval]) -> DescribeTables {
    let sound = || splits.iter().filter(|s| !s.diverged);
    let pick = |f: fn(&SplitEval) -> Regression| sound().map(f).collect::<Vec<_>>();
    let column = |f: fn(&SplitEval) -> f64| describe(&sound().map(f).collect::<Vec<_>>());
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
        skill: column(|s| s.skill),
        directional_accuracy: column(|s| s.directional_accuracy),
    }
}

/// `pooled` over the splits whose model did not diverge, counting the ones left out.
fn pooled_sound(result: &RunResult, numbers: &[SplitNumbers], splits: &[SplitEval]) -> Pooled {
    let sound: Vec<&SplitNumbers> = numbers
        .iter()
        .zip(&result.splits)
        .filter(|(_, o)| !o.diverged)
        .map(|(n, _)| n)
        .collect();
    let ics = |f: fn(&ReturnScores) -> f64| -> Vec<f64> {
        splits
            .iter()
            .filter(|s| !s.diverged)
            .map(|s| f(&s.val_returns))
            .collect()
    };
    Pooled {
        diverged_excluded: numbers.len() - sound.len(),
        ic_pearson_positive_share: positive_share(&ics(|r| r.ic_pearson)),
        ic_spearman_positive_share: positive_share(&ics(|r| r.ic_spearman)),
        ..pooled(&sound)
    }
}

/// Share of the defined (not NaN) values above 0; NaN when none is defined.
fn positive_share(values: &[f64]) -> f64 {
    let defined: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    if defined.is_empty() {
        return f64::NAN;
    }
    defined.iter().filter(|&&v| v > 0.0).count() as f64 / defined.len() as f64
}

/// One baseline's pooled scores and the model's skill against it.
fn baseline_score(last: &[f64], actual: &[f64], pred: &[f64], model_rmse: f64) -> BaselineScore {
    let r = regression(actual, pred);
    BaselineScore {
        rmse: r.rmse,
        mae: r.mae,
        returns: return_scores(last, actual, pred),
        model_skill: skill(model_rmse, r.rmse),
    }
}

/// The three baselines pooled, and which of them is best.
fn baselines(
    last: &[f64],
    actual: &[f64],
    drift: &[f64],
    ridge: &[f64],
    model_rmse: f64,
) -> Baselines {
    let naive = baseline_score(last, actual, last, model_rmse);
    let drift = baseline_score(last, actual, drift, model_rmse);
    let ridge = baseline_score(last, actual, ridge, model_rmse);
    let (best, best_rmse) = [
        ("naive", naive.rmse),
        ("drift", drift.rmse),
        ("ridge", ridge.rmse),
    ]
    .into_iter()
    .filter(|(_, r)| !r.is_nan())
    .fold(("naive", naive.rmse), |a, b| if b.1 < a.1 { b } else { a });
    Baselines {
        naive,
        drift,
        ridge,
        best: best.to_string(),
        model_beats_best: model_rmse < best_rmse,
    }
}

/// `run`: the configuration, as run.
fn run_info(series: &Series, config: &RunConfig, result: &RunResult) -> RunInfo {
    let spec = &config.spec;
    RunInfo {
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
        lookback: spec.splits.lookback,
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
        early_stopping: spec.hyper.stopping,
        seed: spec.hyper.seed,
        seeds: spec.seeds,
        scaler: spec.scaler,
        scaler_kind: spec.scaler_kind,
        target_transform: spec.target_transform,
        warmup_rows_dropped: series.warmup_rows_dropped,
        ridge_lambda: config.scoring.ridge_lambda,
        ensemble_last: spec.ensemble_last,
        init_weights: config
            .init_weights
            .as_ref()
            .map(|p| p.display().to_string()),
        backend: result.backend.description.clone(),
        engines: result.backend.engines.clone(),
        wall_seconds: result.wall_seconds,
        notes: config.notes.clone(),
    }
}

fn pooled(numbers: &[&SplitNumbers]) -> Pooled {
    let cat = |f: fn(&SplitNumbers) -> &Vec<f64>| -> Vec<f64> {
        numbers.iter().flat_map(|&n| f(n).iter().copied()).collect()
    };
    let mut rows: Vec<usize> = numbers.iter().flat_map(|n| n.val_rows.clone()).collect();
    rows.sort_unstable();
    rows.dedup();
    pooled_prices(
        &PooledPrices {
            actual: cat(|n| &n.val_actual_price),
            pred: cat(|n| &n.val_pred_price),
            last: cat(|n| &n.val_last_price),
            drift: cat(|n| &n.val_drift_price),
            ridge: cat(|n| &n.val_ridge_price),
        },
        rows.len(),
    )
}

/// Validation predictions taken together, in dollars: the model's, the actual closes, the last closes
/// before them (the naive forecast), and the drift and ridge baselines' on the same days.
#[derive(Debug, Clone, Default)]
pub struct PooledPrices {
    pub actual: Vec<f64>,
    pub pred: Vec<f64>,
    pub last: Vec<f64>,
    pub drift: Vec<f64>,
    pub ridge: Vec<f64>,
}

/// The pooled scores of `p` (a run's, or a sweep's selected forecasts), over `distinct_dates` days;
/// the per-split shares (IC above 0) are the caller's.
pub fn pooled_prices(p: &PooledPrices, distinct_dates: usize) -> Pooled {
    let (actual, pred, last) = (&p.actual, &p.pred, &p.last);
    let model = regression(actual, pred);
    let naive = regression(actual, last);
    Pooled {
        predictions: actual.len(),
        distinct_dates,
        model_rmse: model.rmse,
        model_mae: model.mae,
        naive_rmse: naive.rmse,
        naive_mae: naive.mae,
        skill: skill(model.rmse, naive.rmse),
        directional_accuracy: if actual.is_empty() {
            f64::NAN
        } else {
            directional_accuracy(last, actual, pred)
        },
        diverged_excluded: 0,
        returns: return_scores(last, actual, pred),
        ic_pearson_positive_share: f64::NAN,
        ic_spearman_positive_share: f64::NAN,
        baselines: baselines(last, actual, &p.drift, &p.ridge, model.rmse),
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
    let (method, note) = forecast_method(config, result, &members, stale);
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

/// Which models the forecast averaged, in words, and the note beside it (the seed protocol's "average";
/// `stale`, the warning that the models' windows end long before the data).
fn forecast_method(
    config: &RunConfig,
    result: &RunResult,
    members: &[ForecastMember],
    stale: Option<String>,
) -> (String, Option<String>) {
    let last_split = result.splits.last().map_or(0, |s| s.split.index);
    match result.protocol {
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
    }
}
