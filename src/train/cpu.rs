//! The CPU engine as a training backend: one worker per core, each with one [`Network`] allocated once
//! and reused for every model it takes from a shared queue (models differ in cost: expanding windows,
//! early stops), so all cores stay busy until the last model.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::{
    FitJob, FitOutcome, PredictJob, Progress, ProgressFn, RawData, Scaling, SequenceState,
    SplitHook, Trainer,
};
use crate::cpu::network::Network;
use crate::cpu::simd::{isa, Isa};
use crate::cpu::train_loop::{fit_from_best, predict, CpuModel, CpuSeries, Scratch};
use crate::fit::{FitReport, Hyper, SplitWindows};
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

/// Runs `work(worker buffers, item)` for every item on every core, results in item order.
fn on_all_cores<T: Send, S>(
    items: usize,
    make: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, usize) -> T + Sync,
) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..items).map(|_| None).collect());
    let workers = rayon::current_num_threads().min(items).max(1);
    rayon::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|_| {
                let mut state = make();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= items {
                        break;
                    }
                    let out = work(&mut state, i);
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(out);
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.into_iter().flatten().collect()
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
        let done = AtomicUsize::new(0);
        let make = || {
            (
                self.network(layout, raw.lookback, hyper.batch_size),
                Scratch::default(),
            )
        };
        let outcomes = on_all_cores(jobs.len(), make, |(net, scratch), i| {
            let job = &jobs[i];
            let (scaled, windows) = job.local_series(raw);
            let series = CpuSeries::new(&scaled);
            let mut state = CpuModel::new(&job.init);
            let mut best = f64::INFINITY;
            let report = fit_from_best(
                net,
                &job.hyper(hyper),
                job.model_id,
                &mut state,
                &series,
                windows,
                &mut best,
                scratch,
            );
            let train_pred = predict(net, &state.params, &series, windows.train, scratch);
            let val_pred = predict(net, &state.params, &series, windows.val, scratch);
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            progress(Progress {
                stage: "models",
                done: n,
                total: jobs.len(),
                val_loss: report.history.get(report.best_epoch).map(|h| h.val),
            });
            FitOutcome {
                report,
                params: state.params.iter().map(|&v| f64::from(v)).collect(),
                train_pred,
                val_pred,
            }
        });
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
        let series = CpuSeries::new(&scaling.apply(raw));
        let mut net = self.network(layout, raw.lookback, hyper.batch_size);
        let mut scratch = Scratch::default();
        // f32 → f64 → f32 is exact, so a state saved and loaded again continues bit for bit.
        let f32s = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
        let f64s = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<f64>>();
        let mut state = CpuModel::new(&start.params);
        state.adam.m = f32s(&start.adam_m);
        state.adam.v = f32s(&start.adam_v);
        state.adam.t = start.adam_t;
        state.epoch_serial = start.epoch_serial;
        // One early-stopping reference for every split, as the reference backend (Keras < 3.7).
        let mut best = start.best;
        let mut reports = Vec::with_capacity(windows.len());
        for (i, &w) in windows.iter().enumerate() {
            let report = fit_from_best(
                &mut net,
                hyper,
                0,
                &mut state,
                &series,
                w,
                &mut best,
                &mut scratch,
            );
            progress(Progress {
                stage: "splits",
                done: i + 1,
                total: windows.len(),
                val_loss: report.history.last().map(|h| h.val),
            });
            let snapshot = || -> anyhow::Result<SequenceState> {
                Ok(SequenceState {
                    params: f64s(&state.params),
                    adam_m: f64s(&state.adam.m),
                    adam_v: f64s(&state.adam.v),
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
        Ok((reports, f64s(&state.params)))
    }

    fn predict_many(
        &mut self,
        raw: &RawData,
        layout: &ParamLayout,
        params: &[f64],
        jobs: &[PredictJob],
    ) -> anyhow::Result<Vec<(Vec<f64>, Vec<f64>)>> {
        let params: Vec<f32> = params.iter().map(|&v| v as f32).collect();
        let make = || (self.network(layout, raw.lookback, 1), Scratch::default());
        Ok(on_all_cores(jobs.len(), make, |(net, scratch), i| {
            let job = &jobs[i];
            let series = CpuSeries::new(&job.scaling.apply(raw));
            (
                predict(net, &params, &series, job.windows.train, scratch),
                predict(net, &params, &series, job.windows.val, scratch),
            )
        }))
    }
}
