//! The CPU reference as a training backend: models are independent, so walk-forward fits run on all
//! cores ([`super::job_loop`]), each one plain `reference::train_loop::fit`.

use super::job_loop::{fit_jobs, fit_splits, on_all_cores};
use super::{
    FitJob, FitOutcome, PredictJob, ProgressFn, RawData, Scaling, SequenceState, SplitHook, Trainer,
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
        let fit_one = |_: &mut (), job: &FitJob| {
            let (series, windows) = job.local_series(raw);
            let mut model = ReferenceModel {
                params: job.init.clone(),
                adam: AdamState::new(layout.total),
                epoch_serial: 0,
            };
            let report = fit(
                layout,
                &job.hyper(hyper),
                job.model_id,
                &mut model,
                &series,
                windows,
            );
            let train_pred = predict(layout, &model.params, &series, windows.train);
            let val_pred = predict(layout, &model.params, &series, windows.val);
            FitOutcome {
                report,
                params: model.params,
                train_pred,
                val_pred,
            }
        };
        Ok(fit_jobs(jobs, || (), fit_one, progress))
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
        let mut model = ReferenceModel {
            params: start.params,
            adam: AdamState {
                m: start.adam_m,
                v: start.adam_v,
                t: start.adam_t,
            },
            epoch_serial: start.epoch_serial,
        };
        let fit = |model: &mut ReferenceModel, w: SplitWindows, best: &mut f64| {
            fit_from_best(layout, hyper, 0, model, &series, w, best)
        };
        let snapshot = |model: &ReferenceModel, best: f64| SequenceState {
            params: model.params.clone(),
            adam_m: model.adam.m.clone(),
            adam_v: model.adam.v.clone(),
            adam_t: model.adam.t,
            epoch_serial: model.epoch_serial,
            best,
        };
        let mut best = start.best;
        let reports = fit_splits(
            &mut model,
            &mut best,
            windows,
            progress,
            after_split,
            fit,
            snapshot,
        )?;
        Ok((reports, model.params))
    }

    fn predict_many(
        &mut self,
        raw: &RawData,
        layout: &ParamLayout,
        params: &[f64],
        jobs: &[PredictJob],
    ) -> anyhow::Result<Vec<(Vec<f64>, Vec<f64>)>> {
        Ok(on_all_cores(
            jobs.len(),
            || (),
            |_, i| {
                let job = &jobs[i];
                let series = job.scaling.apply(raw);
                (
                    predict(layout, params, &series, job.windows.train),
                    predict(layout, params, &series, job.windows.val),
                )
            },
        ))
    }
}
