//! The CPU reference as a training backend: models are independent, so walk-forward fits run on all
//! cores ([`super::job_loop`]), each one plain `reference::train_loop::fit`.

use super::job_loop::{fit_host_chains, fit_jobs, HostChain};
use super::{
    Chain, FitJob, FitOutcome, ProgressFn, RawData, Scaling, SequenceState, SequenceStep,
    SplitHook, Trainer,
};
use crate::fit::{Hyper, SplitWindows};
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

    fn fit_sequences(
        &mut self,
        raw: &RawData,
        layout: &ParamLayout,
        hyper: &Hyper,
        scaling: &Scaling,
        chains: Vec<Chain>,
        windows: &[SplitWindows],
        progress: ProgressFn,
        after_split: SplitHook,
    ) -> anyhow::Result<Vec<Vec<f64>>> {
        let series = scaling.apply(raw);
        let seeds: Vec<u64> = chains.iter().map(|c| c.seed).collect();
        let host: Vec<HostChain<ReferenceModel>> = chains
            .into_iter()
            .map(|Chain { start, .. }| HostChain {
                model: ReferenceModel {
                    params: start.params,
                    adam: AdamState {
                        m: start.adam_m,
                        v: start.adam_v,
                        t: start.adam_t,
                    },
                    epoch_serial: start.epoch_serial,
                },
                best: start.best,
            })
            .collect();
        let fit = |_: &mut (), k: usize, c: &mut HostChain<ReferenceModel>, w: SplitWindows| {
            let hyper = Hyper {
                seed: seeds[k],
                ..*hyper
            };
            let (model, best) = (&mut c.model, &mut c.best);
            let report = fit_from_best(layout, &hyper, 0, model, &series, w, best);
            SequenceStep {
                report,
                train_pred: predict(layout, &model.params, &series, w.train),
                val_pred: predict(layout, &model.params, &series, w.val),
            }
        };
        let snapshot = |c: &HostChain<ReferenceModel>| SequenceState {
            params: c.model.params.clone(),
            adam_m: c.model.adam.m.clone(),
            adam_v: c.model.adam.v.clone(),
            adam_t: c.model.adam.t,
            epoch_serial: c.model.epoch_serial,
            best: c.best,
        };
        let done = fit_host_chains(host, windows, progress, after_split, || (), fit, snapshot)?;
        Ok(done.into_iter().map(|c| c.model.params).collect())
    }
}
