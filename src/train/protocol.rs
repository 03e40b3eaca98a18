//! The two protocols (README, "Protocols"), independent of the backend.
//!
//! - walk-forward (default): every split trains its own model from its own seeded initialisation, with a
//!   scaler fitted on that split's training rows only; all splits go to the backend as one batch.
//! - seed: the report's script — one model carried across the splits in order (weights, Adam state and
//!   the early-stopping best carry over), a scaler fitted on the whole series, and every table computed
//!   from the final model.

use std::time::Instant;

use anyhow::Context;

use super::TrainedBy;
use super::{
    FitOutcome, PredictJob, Progress, ProgressFn, RawData, Scaling, SequenceState, StateFn, Trainer,
};
use crate::data::{make_splits, DateSpan, Series, Split, SplitConfig, SplitRule};
use crate::fit::{EpochLoss, FitReport, Hyper, SplitWindows, Window};
use crate::model::{init_params, ParamLayout};
use crate::reference::network::forward;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    WalkForward,
    Seed,
}

impl Protocol {
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
pub trait Journal {
    /// Fits finished by earlier attempts of this run, by split index.
    fn finished(&self) -> anyhow::Result<Vec<(usize, FitOutcome)>>;
    /// Saves fits as they finish: split index, fit, whether its weights are kept (forecast models).
    fn record(&mut self, done: &[(usize, &FitOutcome, bool)]) -> anyhow::Result<()>;
    /// A stop was asked for (SIGINT/SIGTERM): return at the next chunk boundary.
    fn stop_requested(&self) -> bool;
    /// Seed protocol: the reports of the splits up to the last saved state, and that state.
    fn sequence(&self) -> anyhow::Result<Option<(Vec<FitReport>, SequenceState)>>;
    /// Seed protocol: a split's report and, when the backend can hand it out, the state carried out of
    /// it, which the journal saves when `stopping` or when it judges a save due.
    fn record_sequence(
        &mut self,
        split: usize,
        report: &FitReport,
        state: Option<StateFn>,
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
    fn sequence(&self) -> anyhow::Result<Option<(Vec<FitReport>, SequenceState)>> {
        Ok(None)
    }
    fn record_sequence(
        &mut self,
        _: usize,
        _: &FitReport,
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

/// The seed protocol's sequence from where `journal` left it (its last saved state), each split
/// reported to the journal with the carried state; stops after a split when asked, with
/// [`Interrupted`].
#[allow(clippy::too_many_arguments)]
fn fit_seed(
    raw: &RawData,
    spec: &RunSpec,
    trainer: &mut dyn Trainer,
    scaling: &Scaling,
    init: Vec<f64>,
    wins: &[SplitWindows],
    progress: ProgressFn,
    journal: &mut dyn Journal,
) -> anyhow::Result<(Vec<FitReport>, Vec<f64>)> {
    let total = wins.len();
    let (mut reports, start) = match journal.sequence()? {
        Some((reports, state)) => (reports, state),
        None => (Vec::new(), SequenceState::fresh(init)),
    };
    let first = reports.len().min(total);
    if first == total {
        return Ok((reports, start.params));
    }
    let shifted = |p: Progress| {
        progress(Progress {
            done: first + p.done,
            total,
            ..p
        })
    };
    let mut stopped = false;
    let mut hook = |i: usize, report: &FitReport, state: Option<StateFn>| {
        // A backend that could not hand out its state is not stopped: the split would be lost.
        let stop = journal.stop_requested() && state.is_some();
        journal.record_sequence(first + i, report, state, stop)?;
        stopped |= stop;
        Ok(stop)
    };
    let (more, params) = trainer
        .fit_sequence(
            raw,
            &spec.layout,
            &spec.hyper,
            scaling,
            start,
            &wins[first..],
            &shifted,
            &mut hook,
        )
        .context("training the seed-protocol model")?;
    reports.extend(more);
    if stopped && reports.len() < total {
        return Err(Interrupted {
            done: reports.len(),
            total,
        }
        .into());
    }
    Ok((reports, params))
}

/// The raw numbers of a series, as every backend reads them.
pub fn raw_data(series: &Series, lookback: usize) -> RawData {
    RawData {
        x: series.features.iter().flatten().copied().collect(),
        y: series.target.clone(),
        features: series.feature_names.len(),
        lookback,
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

/// The seed protocol's limits: it carries one model through one series.
pub fn check_seed_protocol(panel_len: usize, spec: &RunSpec) -> anyhow::Result<()> {
    if spec.protocol == Protocol::Seed {
        anyhow::ensure!(
            panel_len == 1,
            "--protocol seed carries one model through one series; a panel of {panel_len} series needs \
             --protocol walk-forward"
        );
        anyhow::ensure!(
            spec.seeds == 1,
            "--protocol seed carries one model through the splits; --seeds {} needs --protocol \
             walk-forward",
            spec.seeds
        );
    }
    Ok(())
}

/// Runs the protocol of `spec` on one series with `trainer`, keeping nothing between attempts: the
/// ensemble's result (the one model's, with one seed).
pub fn run(
    series: &Series,
    spec: &RunSpec,
    trainer: &mut dyn Trainer,
    progress: ProgressFn,
) -> anyhow::Result<RunResult> {
    run_with_journal(series, spec, trainer, progress, &mut NoJournal)
}

/// [`run`] with a journal: resumes from the models it holds, saves new ones, stops when it asks.
pub fn run_with_journal(
    series: &Series,
    spec: &RunSpec,
    trainer: &mut dyn Trainer,
    progress: ProgressFn,
    journal: &mut dyn Journal,
) -> anyhow::Result<RunResult> {
    let panel = [crate::data::NamedSeries {
        name: String::new(),
        series: series.clone(),
    }];
    let mut result = run_panel(&panel, spec, trainer, progress, journal)?;
    Ok(result.series.remove(0).ensemble)
}

/// Runs the protocol of `spec` on every series of `panel`: resumes from the models `journal` holds,
/// saves new ones to it, stops (with [`Interrupted`]) when it asks.
pub fn run_panel(
    panel: &[crate::data::NamedSeries],
    spec: &RunSpec,
    trainer: &mut dyn Trainer,
    progress: ProgressFn,
    journal: &mut dyn Journal,
) -> anyhow::Result<PanelResult> {
    let started = Instant::now();
    check_seed_protocol(panel.len(), spec)?;
    match spec.protocol {
        Protocol::WalkForward => {
            let plan = super::walk_forward::PanelPlan::new(panel, spec)?;
            let fits = plan.fit(spec, trainer, progress, journal, None)?;
            plan.assemble(spec, &fits, &TrainedBy::of(trainer), started)
        }
        Protocol::Seed => {
            let named = &panel[0];
            let result = run_seed(&named.series, spec, trainer, progress, journal, started)?;
            Ok(PanelResult {
                protocol: spec.protocol,
                backend: result.backend.clone(),
                wall_seconds: result.wall_seconds,
                series: vec![SeriesResult {
                    name: named.name.clone(),
                    seeds: vec![result.clone()],
                    ensemble: result,
                }],
            })
        }
    }
}

/// The seed protocol on one series: the report's loop, then the final model on every split.
fn run_seed(
    series: &Series,
    spec: &RunSpec,
    trainer: &mut dyn Trainer,
    progress: ProgressFn,
    journal: &mut dyn Journal,
    started: Instant,
) -> anyhow::Result<RunResult> {
    let lookback = spec.splits.lookback;
    let raw = raw_data(series, lookback);
    let splits = series_splits(series, spec)?;
    let layout = &spec.layout;
    let scaling = Scaling::fit(&raw, 0..raw.rows());
    let seed = spec.hyper.seed;
    let init = match &spec.init_weights {
        Some(w) => w.clone(),
        None => init_params(layout, seed, 0),
    };
    let wins: Vec<SplitWindows> = splits.iter().map(Split::windows).collect();
    let (reports, final_params) = fit_seed(
        &raw, spec, trainer, &scaling, init, &wins, progress, journal,
    )?;
    let jobs: Vec<PredictJob> = wins
        .iter()
        .map(|&windows| PredictJob {
            scaling: scaling.clone(),
            windows,
        })
        .collect();
    let preds = trainer
        .predict_many(&raw, layout, &final_params, &jobs)
        .context("evaluating the final model on every split")?;
    let scaled = scaling.apply(&raw);
    let outcomes: Vec<SplitOutcome> = splits
        .iter()
        .zip(reports)
        .zip(preds)
        .map(|((split, report), (train_pred, val_pred))| {
            let SplitWindows { train, val } = split.windows();
            SplitOutcome {
                split: *split,
                model_id: 0,
                seed,
                members: 1,
                diverged: diverged(&report, &val_pred),
                history: report.history,
                best_epoch: report.best_epoch,
                stopped_early: report.stopped_early,
                scaling: scaling.clone(),
                train_pred,
                val_pred,
                train_actual: targets(&scaled.y, lookback, train),
                val_actual: targets(&scaled.y, lookback, val),
                train_spread: Vec::new(),
                val_spread: Vec::new(),
            }
        })
        .collect();
    let last_diverged = outcomes.last().is_none_or(|o: &SplitOutcome| o.diverged);
    let kept = if last_diverged || final_params.iter().any(|v| !v.is_finite()) {
        Vec::new()
    } else {
        vec![KeptModel {
            model_id: 0,
            seed,
            params: final_params,
            scaling,
        }]
    };
    Ok(RunResult {
        protocol: spec.protocol,
        backend: TrainedBy::of(trainer),
        splits: outcomes,
        forecast: forecast(&raw, layout, &kept)?,
        forecast_models: kept,
        wall_seconds: started.elapsed().as_secs_f64(),
    })
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
        };
        // x is [T][R][F] with R = 1.
        let x = km.scaling.apply(&window).x;
        let cache = forward(layout, &km.params, &x, t, 1, None);
        members.push(Member {
            model_id: km.model_id,
            seed: km.seed,
            price: km.scaling.target_to_price(cache.pred[0]),
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
