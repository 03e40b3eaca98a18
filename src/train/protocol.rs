//! The two protocols (README, "Protocols"), independent of the backend: the entry points that run
//! either, and the seed protocol itself (walk-forward is [`super::walk_forward`]; what both share,
//! [`super::run_types`], is re-exported here).
//!
//! - walk-forward (default): every split trains its own model from its own seeded initialisation, with a
//!   scaler fitted on that split's training rows only; all splits go to the backend as one batch.
//! - seed: the report's script — one model carried across the splits in order (weights, Adam state and
//!   the early-stopping best carry over), a scaler fitted on the whole series, and every table computed
//!   from the final model.

use std::time::Instant;

use anyhow::Context;

use super::run_types::{diverged, targets};
// The run's vocabulary, where the rest of the crate has always found it.
pub use super::run_types::{
    forecast, raw_data, series_splits, Forecast, Interrupted, Journal, KeptModel, Member,
    NoJournal, PanelResult, Protocol, RunResult, RunSpec, ScalerMode, SeriesResult, SplitOutcome,
    Spread,
};
use super::TrainedBy;
use super::{PredictJob, Progress, ProgressFn, RawData, Scaling, SequenceState, StateFn, Trainer};
use crate::data::{Series, Split};
use crate::fit::{FitReport, SplitWindows};
use crate::model::init_params;

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
    let raw = raw_data(series, lookback, spec.target_transform);
    let splits = series_splits(series, spec)?;
    let layout = &spec.layout;
    let scaling = Scaling::fit(&raw, 0..raw.rows(), spec.scaler_kind);
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
