//! `metrics.json`'s types: [`Evaluation`] (one series) and [`PanelEvaluation`] (a panel), serialised
//! with serde, and the rows of `history.csv` and `predictions.csv`. The doc comment of every field is the
//! documentation of its key. Non-finite numbers (an undefined skill when the naive error is 0, a sample
//! standard deviation of one value) are written as `null`. What computes them is [`super::evaluate`]
//! (one series) and [`super::panel`] (seeds and panels).

use chrono::NaiveDate;
use serde::Serialize;

use crate::data::{ScalerKind, TargetTransform};
use crate::data::{SourceFormat, WindowKind};
use crate::fit::EarlyStopRule;
use crate::metrics::trading::TradeStats;
use crate::metrics::{Describe, Regression, ReturnScores};
use crate::train::protocol::{Protocol, ScalerMode, Spread};
use crate::train::Engine;

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
    /// The forecasts traded, after costs, beside buy-and-hold and the ridge baseline's signals.
    pub trading: Trading,
    /// The model's trading days, pooled (`trades.csv`).
    #[serde(skip)]
    pub trades: Vec<TradeRow>,
    /// With several seeds (`--seeds`): each seed's pooled scores and their spread, beside the
    /// ensemble's (`pooled`); null with one seed.
    pub seeds: Option<SeedSpread>,
    /// With several seeds: every seed's own split rows (`splits.csv`, seed column set).
    #[serde(skip)]
    pub seed_splits: Vec<SplitEval>,
    /// One row per split and epoch (`history.csv`).
    #[serde(skip)]
    pub history: Vec<HistoryRow>,
    /// One row per prediction, price units (`predictions.csv`).
    #[serde(skip)]
    pub predictions: Vec<PredictionRow>,
    /// With `--levels`: walk-forward conformal intervals of the model and of naive, and their scores.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intervals: Option<super::intervals::IntervalsEval>,
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
    /// Which Keras early stopping the fits followed (`--early-stopping`).
    pub early_stopping: EarlyStopRule,
    /// Seed of the first model of each split; seed ensembles use `seed`, `seed + 1`, … .
    pub seed: u64,
    /// Models per split (`--seeds`): their mean is the split's prediction.
    pub seeds: usize,
    /// `train` (fitted on each split's training rows) or `global` (on the whole series, the report's).
    pub scaler: ScalerMode,
    /// How the scalers were fitted: `minmax`, `standard` or `robust` (`--scaler-kind`).
    pub scaler_kind: ScalerKind,
    /// What the models learnt: `level`, `diff`, `return` or `log-return` (`--target-transform`); every
    /// price below is that turned back into a close from the last close the model saw.
    pub target_transform: TargetTransform,
    /// Rows dropped from the start of the series because a `--features` function cannot be computed
    /// there (a return needs the row before, a rolling window its n − 1 rows).
    pub warmup_rows_dropped: usize,
    /// The ridge baseline's penalty (`--ridge-lambda`).
    pub ridge_lambda: f64,
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

/// `splits[]`: one split's model on its own windows (walk-forward), or the carried model on the split's
/// windows right after its fit on them (seed protocol; one row per seed with `--seeds`). Also one row
/// of `splits.csv`.
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
    /// The validation predictions as returns from the last close: RMSE, MAE, direction, IC.
    pub val_returns: ReturnScores,
    /// The drift baseline (last close × (1 + the training targets' mean return)), price units.
    pub drift_val_price: Regression,
    /// The ridge baseline (same inputs, scaler and target transform as the model), price units.
    pub ridge_val_price: Regression,
    /// `1 − val_price.rmse / drift_val_price.rmse`.
    pub skill_vs_drift: f64,
    /// `1 − val_price.rmse / ridge_val_price.rmse`.
    pub skill_vs_ridge: f64,
    /// The split's model traded over its validation window (`trading.rule`), starting flat.
    pub trade: TradeStats,
    /// Buy-and-hold over the same days.
    pub buy_and_hold_trade: TradeStats,
}

/// `trading`: one position per validation day from the forecasts, after costs (pooled: each day by the
/// latest split's model, as the predictions plot). Every `TradeStats` has `days`,
/// `cumulative_return`, `annualised_return` (252 days), `sharpe` (annualised, sample std, no risk-free
/// rate), `max_drawdown` (a fraction of the peak), `turnover` (sum of position changes) and `hit_rate`
/// (share of days in the market whose return had the position's sign).
#[derive(Debug, Clone, Serialize)]
pub struct Trading {
    /// The rule, in words.
    pub rule: String,
    /// `--cost-bps`.
    pub cost_bps: f64,
    /// `--short`.
    pub short: bool,
    pub model: TradeStats,
    pub buy_and_hold: TradeStats,
    /// The ridge baseline's forecasts traded by the same rule.
    pub ridge: TradeStats,
    /// Whether the model's cumulative return after costs is above buy-and-hold's.
    pub model_beats_buy_and_hold: bool,
    /// Share of the splits whose model's cumulative return after costs is above buy-and-hold's.
    pub splits_model_beats_buy_and_hold: f64,
}

/// One row of `trades.csv`: a pooled trading day of the model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TradeRow {
    pub date: NaiveDate,
    /// Held from the last close to this day's close: 1 long, 0 flat, −1 short.
    pub position: f64,
    /// The asset's return over the day (close / last close − 1).
    pub asset_return: f64,
    /// Cost charged for the day's change of position.
    pub cost: f64,
    /// The model's equity after the day, from 1.
    pub equity: f64,
    /// Buy-and-hold's equity after the day, from 1.
    pub buy_and_hold_equity: f64,
}

/// `pooled.baselines.*`: one baseline's pooled validation predictions.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct BaselineScore {
    pub rmse: f64,
    pub mae: f64,
    /// Its predictions as returns (its `ic_*` are null for naive, which predicts no move).
    pub returns: ReturnScores,
    /// The model's skill against it: `1 − model_rmse / rmse`.
    pub model_skill: f64,
}

/// `pooled.baselines`: every baseline on the model's validation days.
#[derive(Debug, Clone, Serialize)]
pub struct Baselines {
    pub naive: BaselineScore,
    pub drift: BaselineScore,
    pub ridge: BaselineScore,
    /// The baseline with the lowest pooled RMSE.
    pub best: String,
    /// Whether the model's pooled RMSE is below the best baseline's.
    pub model_beats_best: bool,
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
    /// The pooled predictions as returns from the last close: RMSE, MAE, direction, IC.
    pub returns: ReturnScores,
    /// Share of the splits (with a defined IC) whose Pearson IC is above 0.
    pub ic_pearson_positive_share: f64,
    /// Share of the splits (with a defined IC) whose Spearman IC is above 0.
    pub ic_spearman_positive_share: f64,
    /// The baselines on the same days (naive, drift, ridge) and the model's skill against each.
    pub baselines: Baselines,
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
    /// The drift and ridge baselines' predictions; only for validation rows.
    pub drift: Option<f64>,
    pub ridge: Option<f64>,
    /// A seed ensemble's spread around `predicted` (price units); none for one model.
    pub spread: Option<Spread>,
}

/// One seed's pooled validation scores on a series (price units), and its models' forecast.
#[derive(Debug, Clone, Serialize)]
pub struct SeedScores {
    pub seed: u64,
    pub model_rmse: f64,
    pub model_mae: f64,
    pub skill: f64,
    pub directional_accuracy: f64,
    /// Mean forecast of this seed's forecast models (NaN when all diverged).
    pub forecast: f64,
    /// Epochs run over all of this seed's splits.
    pub epochs_run: usize,
    /// This seed's own Table 1 (scaled units): the `scaled` of `table1.train` and `table1.val`.
    pub table1_train: Regression,
    pub table1_val: Regression,
    /// This seed's own Tables 2 and 3 (scaled units): `describe.scaled.train` and `.val`.
    pub table2: MetricDescribe,
    pub table3: MetricDescribe,
}

/// `seeds`: every seed's scores, and pandas `describe` of each score over the seeds. The ensemble's
/// scores are the evaluation's `pooled` and `forecast`.
#[derive(Debug, Clone, Serialize)]
pub struct SeedSpread {
    pub per_seed: Vec<SeedScores>,
    pub model_rmse: Describe,
    pub model_mae: Describe,
    pub skill: Describe,
    pub directional_accuracy: Describe,
    pub forecast: Describe,
}

/// `panel[]`: one series' headline, price units.
#[derive(Debug, Clone, Serialize)]
pub struct PanelRow {
    /// 1 = highest skill.
    pub rank: usize,
    pub series: String,
    pub data_file: String,
    pub first_date: String,
    pub last_date: String,
    pub splits: usize,
    pub model_rmse: f64,
    pub naive_rmse: f64,
    pub skill: f64,
    pub directional_accuracy: f64,
    /// With several seeds: the sample standard deviation of the skill over the seeds.
    pub skill_seed_std: Option<f64>,
    pub last_close: f64,
    pub forecast: f64,
    pub next_trading_day: String,
    /// Splits left out of the scores because they diverged.
    pub diverged_excluded: usize,
}

/// The metrics.json of a panel: the ranked summary, then each series' evaluation (the keys of a
/// one-series metrics.json).
#[derive(Debug, Clone, Serialize)]
pub struct PanelEvaluation {
    pub panel: Vec<PanelRow>,
    pub series: Vec<Evaluation>,
}
