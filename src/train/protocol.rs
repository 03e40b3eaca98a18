//! The two protocols (README, "Protocols"), independent of the backend.
//!
//! - walk-forward (default): every split trains its own model from its own seeded initialisation, with a
//!   scaler fitted on that split's training rows only; all splits go to the backend as one batch.
//! - seed: the report's script — one model carried across the splits in order (weights, Adam state and
//!   the early-stopping best carry over), a scaler fitted on the whole series, and every table computed
//!   from the final model.

use std::time::Instant;

use anyhow::Context;

use std::collections::BTreeMap;

use super::{
    FitJob, FitOutcome, PredictJob, Progress, ProgressFn, RawData, Scaling, SequenceState, StateFn,
    Trainer,
};
use crate::data::{make_splits, scaler_rows, Series, Split, SplitConfig, SplitRule};
use crate::fit::{EpochLoss, FitReport, Hyper, SplitWindows, Window};
use crate::model::{init_params, ParamLayout};
use crate::reference::network::forward;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    WalkForward,
    Seed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScalerMode {
    /// Fitted on each split's training rows (no look-ahead).
    Train,
    /// Fitted on the whole series (the report's leak).
    Global,
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
    /// Walk-forward forecast: ensemble of the last K splits' models.
    pub ensemble_last: usize,
    /// At most this many models per [`Trainer::fit_many`] call (`--max-models-per-chunk`): bounds the GPU
    /// memory a chunk takes and the work an interruption can lose. Results do not depend on it.
    pub max_models_per_chunk: Option<usize>,
}

/// One split's model (walk-forward) or the final model on one split (seed).
#[derive(Debug, Clone)]
pub struct SplitOutcome {
    pub split: Split,
    pub model_id: u32,
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
}

/// The next-day forecast: one prediction per model used.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Forecast {
    /// Split index (= model id) and predicted close in price units.
    pub members: Vec<(u32, f64)>,
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
    pub params: Vec<f64>,
    pub scaling: Scaling,
}

#[derive(Debug, Clone)]
pub struct RunResult {
    pub protocol: Protocol,
    pub backend: String,
    pub splits: Vec<SplitOutcome>,
    pub forecast: Forecast,
    pub forecast_models: Vec<KeptModel>,
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

/// The raw numbers of a series, as every backend reads them.
pub fn raw_data(series: &Series, lookback: usize) -> RawData {
    RawData {
        x: series.features.iter().flatten().copied().collect(),
        y: series.target.clone(),
        features: series.feature_names.len(),
        lookback,
    }
}

fn targets(scaled: &[f64], lookback: usize, w: Window) -> Vec<f64> {
    (w.start..w.start + w.len)
        .map(|s| scaled[s + lookback])
        .collect()
}

/// Runs the protocol of `spec` on `series` with `trainer`, keeping nothing between attempts.
pub fn run(
    series: &Series,
    spec: &RunSpec,
    trainer: &mut dyn Trainer,
    progress: ProgressFn,
) -> anyhow::Result<RunResult> {
    run_with_journal(series, spec, trainer, progress, &mut NoJournal)
}

/// Walk-forward fits a chunk of models at a time ([`Trainer::chunk_models`]), skipping the splits
/// `journal` already holds and saving each chunk to it; stops between chunks when asked to, with
/// [`Interrupted`]. Fits are independent per model, so the chunking changes no result.
fn fit_walk_forward(
    raw: &RawData,
    spec: &RunSpec,
    trainer: &mut dyn Trainer,
    jobs: &[FitJob],
    progress: ProgressFn,
    journal: &mut dyn Journal,
) -> anyhow::Result<Vec<FitOutcome>> {
    let total = jobs.len();
    let kept_from = total.saturating_sub(spec.ensemble_last.clamp(1, total.max(1)));
    let mut done: BTreeMap<usize, FitOutcome> = journal
        .finished()?
        .into_iter()
        .filter(|(i, _)| *i < total)
        .collect();
    let pending: Vec<usize> = (0..total).filter(|i| !done.contains_key(i)).collect();
    let chunk = trainer.chunk_models(&spec.layout, &spec.hyper, raw.lookback);
    let chunk = chunk
        .min(spec.max_models_per_chunk.unwrap_or(usize::MAX))
        .max(1);
    for part in pending.chunks(chunk) {
        if journal.stop_requested() {
            return Err(Interrupted {
                done: done.len(),
                total,
            }
            .into());
        }
        let before = done.len();
        let shifted = |p: Progress| {
            let (done, total) = if p.stage == "models" {
                (before + p.done, total)
            } else {
                (p.done, p.total)
            };
            progress(Progress { done, total, ..p })
        };
        let part_jobs: Vec<FitJob> = part.iter().map(|&i| jobs[i].clone()).collect();
        let fits = trainer
            .fit_many(raw, &spec.layout, &spec.hyper, &part_jobs, &shifted)
            .context("training the walk-forward models")?;
        let saved: Vec<(usize, &FitOutcome, bool)> = part
            .iter()
            .zip(&fits)
            .map(|(&i, f)| (i, f, i >= kept_from))
            .collect();
        journal.record(&saved)?;
        done.extend(part.iter().copied().zip(fits));
    }
    Ok(done.into_values().collect())
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

/// [`run`] with a journal: resumes from the splits it holds, saves new ones, stops when it asks.
pub fn run_with_journal(
    series: &Series,
    spec: &RunSpec,
    trainer: &mut dyn Trainer,
    progress: ProgressFn,
    journal: &mut dyn Journal,
) -> anyhow::Result<RunResult> {
    let started = Instant::now();
    let lookback = spec.splits.lookback;
    let raw = raw_data(series, lookback);
    let mut split_cfg = spec.splits.clone();
    split_cfg.rule = match spec.protocol {
        Protocol::WalkForward => SplitRule::AllThatFit,
        Protocol::Seed => SplitRule::ReportSkipsLast,
    };
    let splits = make_splits(raw.rows(), &split_cfg)?;
    let layout = &spec.layout;
    let global = Scaling::fit(&raw, 0..raw.rows());
    let scaling_of = |split: &Split| match spec.scaler {
        ScalerMode::Global => global.clone(),
        ScalerMode::Train => Scaling::fit(&raw, scaler_rows(split, lookback)),
    };
    let init_of = |model: u32| match &spec.init_weights {
        Some(w) => w.clone(),
        None => init_params(layout, spec.hyper.seed, model),
    };

    let (outcomes, kept) = match spec.protocol {
        Protocol::WalkForward => {
            let jobs: Vec<FitJob> = splits
                .iter()
                .map(|s| FitJob {
                    model_id: s.index as u32,
                    scaling: scaling_of(s),
                    windows: s.windows(),
                    init: init_of(s.index as u32),
                })
                .collect();
            let fits = fit_walk_forward(&raw, spec, trainer, &jobs, progress, journal)?;
            let mut outcomes = Vec::with_capacity(splits.len());
            for ((split, job), fit) in splits.iter().zip(&jobs).zip(&fits) {
                let scaled = job.scaling.apply(&raw);
                outcomes.push(SplitOutcome {
                    split: *split,
                    model_id: job.model_id,
                    history: fit.report.history.clone(),
                    best_epoch: fit.report.best_epoch,
                    stopped_early: fit.report.stopped_early,
                    diverged: diverged(&fit.report, &fit.val_pred),
                    scaling: job.scaling.clone(),
                    train_pred: fit.train_pred.clone(),
                    val_pred: fit.val_pred.clone(),
                    train_actual: targets(&scaled.y, lookback, job.windows.train),
                    val_actual: targets(&scaled.y, lookback, job.windows.val),
                });
            }
            let k = spec.ensemble_last.clamp(1, fits.len().max(1));
            // Diverged models leave the ensemble (the report says how many).
            let kept = jobs
                .iter()
                .zip(&fits)
                .skip(fits.len().saturating_sub(k))
                .filter(|(_, f)| !diverged(&f.report, &f.val_pred))
                .map(|(j, f)| KeptModel {
                    model_id: j.model_id,
                    params: f.params.clone(),
                    scaling: j.scaling.clone(),
                })
                .collect();
            (outcomes, kept)
        }
        Protocol::Seed => {
            let scaling = global.clone();
            let wins: Vec<SplitWindows> = splits.iter().map(Split::windows).collect();
            let (reports, final_params) = fit_seed(
                &raw,
                spec,
                trainer,
                &scaling,
                init_of(0),
                &wins,
                progress,
                journal,
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
                        diverged: diverged(&report, &val_pred),
                        history: report.history,
                        best_epoch: report.best_epoch,
                        stopped_early: report.stopped_early,
                        scaling: scaling.clone(),
                        train_pred,
                        val_pred,
                        train_actual: targets(&scaled.y, lookback, train),
                        val_actual: targets(&scaled.y, lookback, val),
                    }
                })
                .collect();
            let last_diverged = outcomes.last().is_none_or(|o: &SplitOutcome| o.diverged);
            let kept = if last_diverged || final_params.iter().any(|v| !v.is_finite()) {
                Vec::new()
            } else {
                vec![KeptModel {
                    model_id: 0,
                    params: final_params,
                    scaling,
                }]
            };
            (outcomes, kept)
        }
    };
    let forecast = forecast(&raw, layout, &kept)?;
    Ok(RunResult {
        protocol: spec.protocol,
        backend: trainer.describe(),
        splits: outcomes,
        forecast,
        forecast_models: kept,
        wall_seconds: started.elapsed().as_secs_f64(),
    })
}

/// The divergence rule of a fit: a diverged epoch, or predictions that are not finite.
fn diverged(report: &crate::fit::FitReport, val_pred: &[f64]) -> bool {
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
        let scaled = km.scaling.apply(raw);
        let first = raw.rows() - t;
        // x is [T][R][F] with R = 1.
        let x: Vec<f64> = scaled.x[first * f..(first + t) * f].to_vec();
        let cache = forward(layout, &km.params, &x, t, 1, None);
        members.push((km.model_id, km.scaling.target_to_price(cache.pred[0])));
    }
    // No member (every model diverged): NaN throughout, which the report prints as "no forecast".
    let n = members.len() as f64;
    let mean = members.iter().map(|m| m.1).sum::<f64>() / n;
    let var = members.iter().map(|m| (m.1 - mean).powi(2)).sum::<f64>() / n;
    Ok(Forecast {
        mean,
        min: members.iter().map(|m| m.1).fold(f64::INFINITY, f64::min),
        max: members
            .iter()
            .map(|m| m.1)
            .fold(f64::NEG_INFINITY, f64::max),
        std: var.sqrt(),
        members,
    })
}
