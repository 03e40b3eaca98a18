//! What a run is, below both protocols (seed: [`super::protocol`], walk-forward:
//! [`super::walk_forward`]): what it is asked ([`RunSpec`]), what it produces (the results, from one
//! split's outcome up to a whole panel), where it saves as it goes ([`Journal`]), and the rules both
//! protocols apply the same way (a series' splits, divergence, the forecast).

use super::TrainedBy;
use super::{FitOutcome, RawData, Scaling, SequenceState, SequenceStep, StateFn};
use crate::data::{
    make_splits, DateSpan, ScalerKind, Series, Split, SplitConfig, SplitRule, TargetTransform,
};
use crate::fit::{EarlyStopRule, EpochLoss, FitReport, Hyper, Window};
use crate::model::ParamLayout;
use crate::reference::network::forward;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    WalkForward,
    Seed,
}

impl Protocol {
    /// The early stopping a run of this protocol follows unless `--early-stopping` says otherwise.
    /// Walk-forward fits each model once from a fresh callback, where Keras 3.6 and 3.7 agree; the seed
    /// protocol keeps the carried best of Keras 3.6, the only one of the three that comes near the
    /// report's tables (README, *Protocols*).
    pub fn default_stopping(self) -> EarlyStopRule {
        match self {
            Protocol::WalkForward => EarlyStopRule::Keras37,
            Protocol::Seed => EarlyStopRule::Keras36,
        }
    }

    /// As `--protocol` spells it (and metrics.json and the checkpoint record it).
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::WalkForward => "walk-forward",
            Protocol::Seed => "seed",
        }
    }
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScalerMode {
    /// Fitted on each split's training rows (no look-ahead).
    Train,
    /// Fitted on the whole series (the report's leak).
    Global,
}

impl std::fmt::Display for ScalerMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ScalerMode::Train => "train",
            ScalerMode::Global => "global",
        })
    }
}

#[derive(Debug, Clone)]
pub struct RunSpec {
    pub protocol: Protocol,
    pub layout: ParamLayout,
    pub hyper: Hyper,
    /// `rule` is overridden by the protocol (walk-forward: every split that fits; seed: the report's
    /// loop, which skips the last).
    pub splits: SplitConfig,
    pub scaler: ScalerMode,
    /// How the scalers are fitted (`--scaler-kind`).
    pub scaler_kind: ScalerKind,
    /// What the models learn instead of the next close (`--target-transform`).
    pub target_transform: TargetTransform,
    /// Start every model from these weights instead of the seeded initialisation.
    pub init_weights: Option<Vec<f64>>,
    /// Walk-forward forecast: ensemble of the last K splits' models (of every seed).
    pub ensemble_last: usize,
    /// Models per split, seeded `hyper.seed`, `hyper.seed + 1`, …: their mean is the split's prediction
    /// (`--seeds`).
    pub seeds: usize,
    /// `--from`/`--to`: resolved per series into `splits.target_rows`.
    pub val_dates: DateSpan,
    /// At most this many models per [`Trainer::fit_many`] call (`--max-models-per-chunk`): bounds the GPU
    /// memory a chunk takes and the work an interruption can lose. Results do not depend on it.
    pub max_models_per_chunk: Option<usize>,
}

/// `train`'s defaults for the run-level choices (`--ensemble-last`, `--seeds`).
impl RunSpec {
    pub const DEFAULT_ENSEMBLE_LAST: usize = 10;
    pub const DEFAULT_SEEDS: usize = 1;

    /// The seed of the `k`-th model of each split (walk-forward) or the `k`-th carried model (seed).
    pub fn seed_of(&self, k: usize) -> u64 {
        self.hyper.seed.wrapping_add(k as u64)
    }
}

/// One split's model (walk-forward) or the final model on one split (seed).
#[derive(Debug, Clone)]
pub struct SplitOutcome {
    pub split: Split,
    pub model_id: u32,
    /// The model's seed; for a seed ensemble's mean, the first seed.
    pub seed: u64,
    /// Models whose predictions these are: 1, or the seeds averaged (diverged seeds left out).
    pub members: usize,
    /// Per-epoch losses of this split's fit (scaled units).
    pub history: Vec<EpochLoss>,
    pub best_epoch: usize,
    pub stopped_early: bool,
    /// The fit diverged ([`crate::fit::EpochLoss::diverged`]) or its predictions are not finite: the
    /// split is listed but left out of pooled metrics and the forecast.
    pub diverged: bool,
    /// The scaler the predictions are in.
    pub scaling: Scaling,
    /// Predictions and targets on the training and validation windows, scaled units.
    pub train_pred: Vec<f64>,
    pub val_pred: Vec<f64>,
    pub train_actual: Vec<f64>,
    pub val_actual: Vec<f64>,
    /// A seed ensemble's spread around each prediction (scaled units); empty for one model.
    pub train_spread: Vec<Spread>,
    pub val_spread: Vec<Spread>,
}

impl SplitOutcome {
    /// A seed ensemble's mean (it carries a spread) rather than one model's fit: then `history`,
    /// `best_epoch` and `stopped_early` describe no single fit and are empty.
    pub fn is_ensemble(&self) -> bool {
        !self.val_spread.is_empty()
    }
}

/// How the members of an ensemble spread around their mean.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Spread {
    /// Population standard deviation.
    pub std: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    /// Mean and spread of `values` (empty: NaN throughout).
    pub fn of(values: &[f64]) -> (f64, Spread) {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        let spread = Spread {
            std: var.sqrt(),
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        };
        (mean, spread)
    }
}

/// One model's next-day forecast.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Member {
    /// Split index (walk-forward) or 0 (seed protocol).
    pub model_id: u32,
    pub seed: u64,
    /// Predicted close, price units.
    pub price: f64,
}

/// The next-day forecast: one prediction per model used.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Forecast {
    pub members: Vec<Member>,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    /// Population standard deviation of the members (0 for one model).
    pub std: f64,
}

/// A model kept for the forecast (and the checkpoint).
#[derive(Debug, Clone)]
pub struct KeptModel {
    pub model_id: u32,
    pub seed: u64,
    pub params: Vec<f64>,
    pub scaling: Scaling,
}

/// One model's (or one seed ensemble's) run on one series.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub protocol: Protocol,
    pub backend: TrainedBy,
    pub splits: Vec<SplitOutcome>,
    pub forecast: Forecast,
    pub forecast_models: Vec<KeptModel>,
    pub wall_seconds: f64,
}

/// One series of a run: each seed's models, and their ensemble (the mean of the seeds' predictions; the
/// one model's run when there is one seed).
#[derive(Debug, Clone)]
pub struct SeriesResult {
    pub name: String,
    pub seeds: Vec<RunResult>,
    pub ensemble: RunResult,
}

/// A whole run: every series, in the panel's order.
#[derive(Debug, Clone)]
pub struct PanelResult {
    pub protocol: Protocol,
    pub backend: TrainedBy,
    pub series: Vec<SeriesResult>,
    pub wall_seconds: f64,
}

/// Where a run saves the walk-forward models as they finish and learns whether to stop (the run
/// directory; [`NoJournal`] for runs that keep nothing, such as the tests').
/// The seed protocol as a journal saved it: each split's steps (per chain), and the chains' states
/// after the last of them.
pub type SavedSequence = (Vec<Vec<SequenceStep>>, Vec<SequenceState>);

pub trait Journal {
    /// Fits finished by earlier attempts of this run, by split index.
    fn finished(&self) -> anyhow::Result<Vec<(usize, FitOutcome)>>;
    /// Saves fits as they finish: split index, fit, whether its weights are kept (forecast models).
    fn record(&mut self, done: &[(usize, &FitOutcome, bool)]) -> anyhow::Result<()>;
    /// A stop was asked for (SIGINT/SIGTERM): return at the next chunk boundary.
    fn stop_requested(&self) -> bool;
    /// Seed protocol: every split up to the last saved state (each chain's step, in chain order), and
    /// the chains' states then.
    fn sequence(&self) -> anyhow::Result<Option<SavedSequence>>;
    /// Seed protocol: a split's steps and, when the backend can hand them out, the chains' states
    /// carried out of it, which the journal saves when `stopping` or when it judges a save due.
    fn record_sequence(
        &mut self,
        split: usize,
        steps: &[SequenceStep],
        states: Option<StateFn>,
        stopping: bool,
    ) -> anyhow::Result<()>;
}

/// A journal that keeps nothing and never stops a run.
pub struct NoJournal;

impl Journal for NoJournal {
    fn finished(&self) -> anyhow::Result<Vec<(usize, FitOutcome)>> {
        Ok(Vec::new())
    }
    fn record(&mut self, _: &[(usize, &FitOutcome, bool)]) -> anyhow::Result<()> {
        Ok(())
    }
    fn stop_requested(&self) -> bool {
        false
    }
    fn sequence(&self) -> anyhow::Result<Option<SavedSequence>> {
        Ok(None)
    }
    fn record_sequence(
        &mut self,
        _: usize,
        _: &[SequenceStep],
        _: Option<StateFn>,
        _: bool,
    ) -> anyhow::Result<()> {
        Ok(())
    }
}

/// A run stopped at a chunk boundary because a stop was asked for; its finished splits are saved.
#[derive(Debug, thiserror::Error)]
#[error("interrupted with {done} of {total} splits done")]
pub struct Interrupted {
    pub done: usize,
    pub total: usize,
}

/// The raw numbers of a series, as every backend reads them, the target as `transform` makes it.
pub fn raw_data(series: &Series, lookback: usize, transform: TargetTransform) -> RawData {
    RawData {
        x: series.features.iter().flatten().copied().collect(),
        y: transform.series(&series.target),
        features: series.feature_names.len(),
        lookback,
        level: series.target.clone(),
        transform,
    }
}

/// Sample targets of window `w` of a scaled series.
pub(super) fn targets(scaled: &[f64], lookback: usize, w: Window) -> Vec<f64> {
    (w.start..w.start + w.len)
        .map(|s| scaled[s + lookback])
        .collect()
}

/// The splits of one series: the protocol's rule, and `--from`/`--to` resolved on its dates.
pub fn series_splits(series: &Series, spec: &RunSpec) -> anyhow::Result<Vec<Split>> {
    let mut cfg: SplitConfig = spec.splits.clone();
    cfg.rule = match spec.protocol {
        Protocol::WalkForward => SplitRule::AllThatFit,
        Protocol::Seed => SplitRule::ReportSkipsLast,
    };
    cfg.target_rows = spec.val_dates.rows(&series.dates)?;
    Ok(make_splits(series.len(), &cfg)?)
}

/// The divergence rule of a fit: a diverged epoch, or predictions that are not finite.
pub(super) fn diverged(report: &FitReport, val_pred: &[f64]) -> bool {
    report.diverged() || val_pred.iter().any(|v| !v.is_finite())
}

/// Each kept model on the last `lookback` rows (the day after the data ends), in price units.
pub fn forecast(
    raw: &RawData,
    layout: &ParamLayout,
    models: &[KeptModel],
) -> anyhow::Result<Forecast> {
    let (t, f) = (raw.lookback, raw.features);
    anyhow::ensure!(
        raw.rows() >= t,
        "the series has fewer rows ({}) than the look-back ({t})",
        raw.rows()
    );
    let mut members = Vec::with_capacity(models.len());
    for km in models {
        let first = raw.rows() - t;
        let window = RawData {
            x: raw.x[first * f..].to_vec(),
            y: raw.y[first..].to_vec(),
            features: f,
            lookback: t,
            level: raw.level[first..].to_vec(),
            transform: raw.transform,
        };
        // x is [T][R][F] with R = 1.
        let x = km.scaling.apply(&window).x;
        let cache = forward(layout, &km.params, &x, t, 1, None);
        members.push(Member {
            model_id: km.model_id,
            seed: km.seed,
            price: km
                .scaling
                .target_to_price(cache.pred[0], raw.level[raw.rows() - 1]),
        });
    }
    // No member (every model diverged): NaN throughout, which the report prints as "no forecast".
    let prices: Vec<f64> = members.iter().map(|m| m.price).collect();
    let (mean, spread) = Spread::of(&prices);
    Ok(Forecast {
        mean,
        min: spread.min,
        max: spread.max,
        std: spread.std,
        members,
    })
}
