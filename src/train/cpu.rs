//! The CPU engine as a training backend: one worker per core, each with one [`Network`] allocated once
//! and reused for every model it takes from the shared queue of [`super::job_loop`] (models differ in
//! cost: expanding windows, early stops), so all cores stay busy until the last model.

use super::job_loop::{fit_host_chains, fit_jobs, HostChain};
use super::{
    Chain, FitJob, FitOutcome, ProgressFn, RawData, Scaling, SequenceState, SequenceStep,
    SplitHook, Trainer,
};
use crate::cpu::network::Network;
use crate::cpu::simd::{isa, Isa};
use crate::cpu::train_loop::{fit_from_best, predict, CpuModel, CpuSeries, Scratch};
use crate::fit::{Hyper, SplitWindows};
use crate::model::ParamLayout;

/// Rows per forward call when predicting (training uses the batch size): enough for the products to
/// run at speed, small enough for a worker's buffers to stay in its caches.
const PREDICT_ROWS: usize = 64;

pub struct CpuTrainer {
    isa: Isa,
}

impl CpuTrainer {
    pub fn new() -> CpuTrainer {
        CpuTrainer { isa: isa() }
    }

    fn network(&self, layout: &ParamLayout, lookback: usize, batch: usize) -> Network {
        Network::new(self.isa, layout, lookback, batch.max(PREDICT_ROWS))
    }
}

impl Default for CpuTrainer {
    fn default() -> Self {
        CpuTrainer::new()
    }
}

impl Trainer for CpuTrainer {
    fn engine(&self) -> super::Engine {
        super::Engine::Cpu
    }

    fn describe(&self) -> String {
        format!(
            "cpu engine (f32, {}, {} threads)",
            self.isa.name(),
            rayon::current_num_threads()
        )
    }

    /// About 4 s of the report's model on 2 cores (16 models per thread): what an interruption loses at
    /// most; the idle tail at each chunk's end costs about 1/32 of it.
    fn chunk_models(&self, _: &ParamLayout, _: &Hyper, _: usize) -> usize {
        16 * rayon::current_num_threads()
    }

    fn fit_many(
        &mut self,
        raw: &RawData,
        layout: &ParamLayout,
        hyper: &Hyper,
        jobs: &[FitJob],
        progress: ProgressFn,
    ) -> anyhow::Result<Vec<FitOutcome>> {
        let make = || {
            (
                self.network(layout, raw.lookback, hyper.batch_size),
                Scratch::default(),
            )
        };
        let fit_one = |(net, scratch): &mut (Network, Scratch), job: &FitJob| {
            let (scaled, windows) = job.local_series(raw);
            let series = CpuSeries::new(&scaled);
            let mut model = CpuModel::new(&job.init);
            let mut best = f64::INFINITY;
            let report = fit_from_best(
                net,
                &job.hyper(hyper),
                job.model_id,
                &mut model,
                &series,
                windows,
                &mut best,
                scratch,
            );
            let train_pred = predict(net, &model.params, &series, windows.train, scratch);
            let val_pred = predict(net, &model.params, &series, windows.val, scratch);
            FitOutcome {
                report,
                params: model.params.iter().map(|&v| f64::from(v)).collect(),
                train_pred,
                val_pred,
            }
        };
        Ok(fit_jobs(jobs, make, fit_one, progress))
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
        let series = CpuSeries::new(&scaling.apply(raw));
        // f32 → f64 → f32 is exact, so a state saved and loaded again continues bit for bit.
        let f32s = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
        let f64s = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<f64>>();
        let seeds: Vec<u64> = chains.iter().map(|c| c.seed).collect();
        let host: Vec<HostChain<CpuModel>> = chains
            .into_iter()
            .map(|Chain { start, .. }| {
                let mut model = CpuModel::new(&start.params);
                model.adam.m = f32s(&start.adam_m);
                model.adam.v = f32s(&start.adam_v);
                model.adam.t = start.adam_t;
                model.epoch_serial = start.epoch_serial;
                HostChain {
                    model,
                    best: start.best,
                }
            })
            .collect();
        let make = || {
            (
                self.network(layout, raw.lookback, hyper.batch_size),
                Scratch::default(),
            )
        };
        let fit = |(net, scratch): &mut (Network, Scratch),
                   k: usize,
                   c: &mut HostChain<CpuModel>,
                   w: SplitWindows| {
            let hyper = Hyper {
                seed: seeds[k],
                ..*hyper
            };
            let (model, best) = (&mut c.model, &mut c.best);
            let report = fit_from_best(net, &hyper, 0, model, &series, w, best, scratch);
            SequenceStep {
                report,
                train_pred: predict(net, &model.params, &series, w.train, scratch),
                val_pred: predict(net, &model.params, &series, w.val, scratch),
            }
        };
        let snapshot = |c: &HostChain<CpuModel>| SequenceState {
            params: f64s(&c.model.params),
            adam_m: f64s(&c.model.adam.m),
            adam_v: f64s(&c.model.adam.v),
            adam_t: c.model.adam.t,
            epoch_serial: c.model.epoch_serial,
            best: c.best,
        };
        let done = fit_host_chains(host, windows, progress, after_split, make, fit, snapshot)?;
        Ok(done.iter().map(|c| f64s(&c.model.params)).collect())
    }
}
