//! The CPU reference as a training backend: models are independent, so walk-forward fits run on all
//! cores (rayon), each one plain `reference::train_loop`.

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::{
    FitJob, FitOutcome, PredictJob, Progress, ProgressFn, RawData, Scaling, SequenceState,
    SplitHook, Trainer,
};
use crate::fit::{FitReport, Hyper, SplitWindows};
use crate::model::ParamLayout;
use crate::reference::adam::AdamState;
use crate::reference::train_loop::{fit, fit_from_best, predict, ReferenceModel};

pub struct ReferenceTrainer;

impl Trainer for ReferenceTrainer {
    fn engine(&self) -> super::Engine {
        super::Engine::Reference
    }

    fn describe(&self) -> String {
        format!(
            "cpu reference (f64, {} threads)",
            rayon::current_num_threads()
        )
    }

    /// A few models per thread: the reference takes seconds per model.
    fn chunk_models(&self, _: &ParamLayout, _: &Hyper, _: usize) -> usize {
        4 * rayon::current_num_threads()
    }

    fn fit_many(
        &mut self,
        raw: &RawData,
        layout: &ParamLayout,
        hyper: &Hyper,
        jobs: &[FitJob],
        progress: ProgressFn,
    ) -> anyhow::Result<Vec<FitOutcome>> {
        let done = AtomicUsize::new(0);
        let outcomes = jobs
            .par_iter()
            .map(|job| {
                let (series, windows) = job.local_series(raw);
                let mut state = ReferenceModel {
                    params: job.init.clone(),
                    adam: AdamState::new(layout.total),
                    epoch_serial: 0,
                };
                let report = fit(
                    layout,
                    &job.hyper(hyper),
                    job.model_id,
                    &mut state,
                    &series,
                    windows,
                );
                let train_pred = predict(layout, &state.params, &series, windows.train);
                let val_pred = predict(layout, &state.params, &series, windows.val);
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                progress(Progress {
                    stage: "models",
                    done: n,
                    total: jobs.len(),
                    val_loss: report.history.get(report.best_epoch).map(|h| h.val),
                });
                FitOutcome {
                    report,
                    params: state.params,
                    train_pred,
                    val_pred,
                }
            })
            .collect();
        Ok(outcomes)
    }

    fn fit_sequence(
        &mut self,
        raw: &RawData,
        layout: &ParamLayout,
        hyper: &Hyper,
        scaling: &Scaling,
        start: SequenceState,
        windows: &[SplitWindows],
        progress: ProgressFn,
        after_split: SplitHook,
    ) -> anyhow::Result<(Vec<FitReport>, Vec<f64>)> {
        let series = scaling.apply(raw);
        let mut state = ReferenceModel {
            params: start.params,
            adam: AdamState {
                m: start.adam_m,
                v: start.adam_v,
                t: start.adam_t,
            },
            epoch_serial: start.epoch_serial,
        };
        // The report's script hands one EarlyStopping object to every fit; Keras 3 before 3.7 never resets
        // its `best`, so each split is compared with the best validation loss of all earlier ones.
        let mut best = start.best;
        let mut reports = Vec::with_capacity(windows.len());
        for (i, &w) in windows.iter().enumerate() {
            let report = fit_from_best(layout, hyper, 0, &mut state, &series, w, &mut best);
            progress(Progress {
                stage: "splits",
                done: i + 1,
                total: windows.len(),
                val_loss: report.history.last().map(|h| h.val),
            });
            let snapshot = || -> anyhow::Result<SequenceState> {
                Ok(SequenceState {
                    params: state.params.clone(),
                    adam_m: state.adam.m.clone(),
                    adam_v: state.adam.v.clone(),
                    adam_t: state.adam.t,
                    epoch_serial: state.epoch_serial,
                    best,
                })
            };
            let stop = after_split(i, &report, Some(&snapshot))?;
            reports.push(report);
            if stop {
                break;
            }
        }
        Ok((reports, state.params))
    }

    fn predict_many(
        &mut self,
        raw: &RawData,
        layout: &ParamLayout,
        params: &[f64],
        jobs: &[PredictJob],
    ) -> anyhow::Result<Vec<(Vec<f64>, Vec<f64>)>> {
        Ok(jobs
            .par_iter()
            .map(|job| {
                let series = job.scaling.apply(raw);
                (
                    predict(layout, params, &series, job.windows.train),
                    predict(layout, params, &series, job.windows.val),
                )
            })
            .collect())
    }
}
