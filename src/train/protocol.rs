//! The two protocols (README, "Protocols"), independent of the backend: the entry points that run
//! either, and the seed protocol itself (walk-forward is [`super::walk_forward`]; what both share,
//! [`super::run_types`], is re-exported here).
//!
//! - walk-forward (default): every split trains its own model from its own seeded initialisation, with a
//!   scaler fitted on that split's training rows only; all splits go to the backend as one batch.
//! - seed: the report's script — one model carried across the splits in order (weights, Adam state and,
//!   under Keras 3.6's rule, the early-stopping best carry over), a scaler fitted on the whole series,
//!   each split scored by the model just fitted on it (the last: the final model). `--seeds K` carries
//!   K models, one per seed, trained as one batch.

use std::time::Instant;

use anyhow::Context;

use super::run_types::{diverged, targets};
// The run's vocabulary, where the rest of the crate has always found it.
pub use super::run_types::{
    forecast, raw_data, series_splits, Forecast, Interrupted, Journal, KeptModel, Member,
    NoJournal, PanelResult, Protocol, RunResult, RunSpec, SavedSequence, ScalerMode, SeriesResult,
    SplitOutcome, Spread,
};
use super::TrainedBy;
use super::{
    Chain, Progress, ProgressFn, RawData, Scaling, SequenceState, SequenceStep, StateFn, Trainer,
};
use crate::data::{Series, Split};
use crate::fit::SplitWindows;
use crate::model::init_params;

/// Every split's steps (per chain, in chain order) and each chain's final weights.
type SeedFits = (Vec<Vec<SequenceStep>>, Vec<Vec<f64>>);

/// The seed protocol's sequence from where `journal` left it (its last saved state): every split's
/// steps (per chain) and each chain's final weights; each split reported to the journal with the
/// carried states; stops after a split when asked, with [`Interrupted`].
#[allow(clippy::too_many_arguments)]
fn fit_seed(
    raw: &RawData,
    spec: &RunSpec,
    trainer: &mut dyn Trainer,
    scaling: &Scaling,
    inits: Vec<Vec<f64>>,
    wins: &[SplitWindows],
    progress: ProgressFn,
    journal: &mut dyn Journal,
) -> anyhow::Result<SeedFits> {
    let total = wins.len();
    let (mut steps, starts) = match journal.sequence()? {
        Some((steps, states)) => (steps, states),
        None => (
            Vec::new(),
            inits.into_iter().map(SequenceState::fresh).collect(),
        ),
    };
    anyhow::ensure!(
        starts.len() == spec.seeds,
        "the run directory's saved state carries {} models, this run {} (--seeds)",
        starts.len(),
        spec.seeds
    );
    let first = steps.len().min(total);
    if first == total {
        return Ok((steps, starts.into_iter().map(|s| s.params).collect()));
    }
    let chains = starts
        .into_iter()
        .enumerate()
        .map(|(k, start)| Chain {
            seed: spec.seed_of(k),
            start,
        })
        .collect();
    let shifted = |p: Progress| {
        progress(Progress {
            done: first + p.done,
            total,
            ..p
        })
    };
    let mut stopped = false;
    let mut hook = |i: usize, split: &[SequenceStep], state: Option<StateFn>| {
        // A backend that could not hand out its state is not stopped: the split would be lost.
        let stop = journal.stop_requested() && state.is_some();
        journal.record_sequence(first + i, split, state, stop)?;
        steps.push(split.to_vec());
        stopped |= stop;
        Ok(stop)
    };
    let finals = trainer
        .fit_sequences(
            raw,
            &spec.layout,
            &spec.hyper,
            scaling,
            chains,
            &wins[first..],
            &shifted,
            &mut hook,
        )
        .context("training the seed-protocol models")?;
    if stopped && steps.len() < total {
        return Err(Interrupted {
            done: steps.len(),
            total,
        }
        .into());
    }
    Ok((steps, finals))
}

/// The seed protocol's limits: it carries its models through one series.
pub fn check_seed_protocol(panel_len: usize, spec: &RunSpec) -> anyhow::Result<()> {
    if spec.protocol == Protocol::Seed {
        anyhow::ensure!(
            panel_len == 1,
            "--protocol seed carries its models through one series; a panel of {panel_len} series \
             needs --protocol walk-forward"
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
            let seeds = run_seed(&named.series, spec, trainer, progress, journal, started)?;
            let ensemble = if seeds.len() == 1 {
                seeds[0].clone()
            } else {
                let raw = raw_data(&named.series, spec.splits.lookback, spec.target_transform);
                super::walk_forward::ensemble(spec, &raw, &seeds)?
            };
            Ok(PanelResult {
                protocol: spec.protocol,
                backend: ensemble.backend.clone(),
                wall_seconds: started.elapsed().as_secs_f64(),
                series: vec![SeriesResult {
                    name: named.name.clone(),
                    seeds,
                    ensemble,
                }],
            })
        }
    }
}

/// The seed protocol on one series: the report's loop, one carried model per seed (`--seeds`), each
/// split scored by the model it has just fitted (the report's Tables 2 and 3; the last split's is the
/// final model, its Table 1). One result per seed.
fn run_seed(
    series: &Series,
    spec: &RunSpec,
    trainer: &mut dyn Trainer,
    progress: ProgressFn,
    journal: &mut dyn Journal,
    started: Instant,
) -> anyhow::Result<Vec<RunResult>> {
    let lookback = spec.splits.lookback;
    let raw = raw_data(series, lookback, spec.target_transform);
    let splits = series_splits(series, spec)?;
    let layout = &spec.layout;
    let scaling = Scaling::fit(&raw, 0..raw.rows(), spec.scaler_kind);
    let inits = (0..spec.seeds)
        .map(|k| match &spec.init_weights {
            Some(w) => w.clone(),
            None => init_params(layout, spec.seed_of(k), 0),
        })
        .collect();
    let wins: Vec<SplitWindows> = splits.iter().map(Split::windows).collect();
    let (steps, finals) = fit_seed(
        &raw, spec, trainer, &scaling, inits, &wins, progress, journal,
    )?;
    let scaled = scaling.apply(&raw);
    let backend = TrainedBy::of(trainer);
    let mut results = Vec::with_capacity(finals.len());
    for (k, final_params) in finals.into_iter().enumerate() {
        let seed = spec.seed_of(k);
        let outcomes: Vec<SplitOutcome> = splits
            .iter()
            .zip(&steps)
            .map(|(split, per_chain)| {
                let step = &per_chain[k];
                let SplitWindows { train, val } = split.windows();
                SplitOutcome {
                    split: *split,
                    model_id: 0,
                    seed,
                    members: 1,
                    diverged: diverged(&step.report, &step.val_pred),
                    history: step.report.history.clone(),
                    best_epoch: step.report.best_epoch,
                    stopped_early: step.report.stopped_early,
                    scaling: scaling.clone(),
                    train_pred: step.train_pred.clone(),
                    val_pred: step.val_pred.clone(),
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
                scaling: scaling.clone(),
            }]
        };
        results.push(RunResult {
            protocol: spec.protocol,
            backend: backend.clone(),
            splits: outcomes,
            forecast: forecast(&raw, layout, &kept)?,
            forecast_models: kept,
            wall_seconds: started.elapsed().as_secs_f64(),
        });
    }
    Ok(results)
}
