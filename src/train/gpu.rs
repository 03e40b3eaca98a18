//! The GPU engine as a training backend: all walk-forward models in one batch (split into chunks only
//! where the adapter's buffer limits require), the seed protocol's carried models (one per seed) fitted split after split as one batch.

use super::job_loop::fit_splits;
use super::{
    Chain, FitJob, FitOutcome, Progress, ProgressFn, RawData, Scaling, SequenceState, SequenceStep,
    SplitHook, Trainer,
};
use crate::fit::{EpochLoss, FitReport, Hyper, SplitWindows, Window};
use crate::gpu::engine::{
    max_models_per_engine, BatchEngine, Carried, EngineShape, ModelSetup, Optim,
};
use crate::gpu::tiles::Tiles;
use crate::gpu::{AdapterSummary, Gpu, GpuError, LimitSet};
use crate::model::ParamLayout;

pub struct GpuTrainer {
    gpu: Gpu,
    /// `fit_many` calls so far (the fault-injection tests lose the device during a given one).
    calls: usize,
    /// Block shapes: `gpulstm tune`'s cached winners for this adapter, else the built-in defaults.
    tiles: Tiles,
}

fn to_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

fn optim(hyper: &Hyper) -> Optim {
    Optim {
        adam: hyper.adam,
        patience: hyper.patience,
        stopping: hyper.stopping,
    }
}

/// Everything one chunk of models needs: per-model windows, scalers and weights.
struct Chunk<'a> {
    ids: Vec<u32>,
    seeds: Vec<u64>,
    windows: Vec<SplitWindows>,
    scalings: Vec<&'a Scaling>,
    params: Vec<Vec<f32>>,
}

impl GpuTrainer {
    pub fn new(adapter_filter: Option<&str>) -> Result<GpuTrainer, GpuError> {
        GpuTrainer::open(adapter_filter, &LimitSet::Adapter)
    }

    /// On the adapter `adapter_filter` names, with the limits of `limits`: chunks and tiles follow them.
    pub fn open(adapter_filter: Option<&str>, limits: &LimitSet) -> Result<GpuTrainer, GpuError> {
        Ok(GpuTrainer::on(Gpu::open(adapter_filter, limits)?))
    }

    /// On an open device.
    pub fn on(gpu: Gpu) -> GpuTrainer {
        GpuTrainer {
            tiles: Tiles::for_gpu(&gpu),
            calls: 0,
            gpu,
        }
    }

    pub fn adapter(&self) -> &AdapterSummary {
        &self.gpu.summary
    }

    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    fn engine(
        &self,
        raw: &RawData,
        layout: &ParamLayout,
        hyper: &Hyper,
        chunk: &Chunk,
    ) -> Result<BatchEngine<'_>, GpuError> {
        let max_train_len = chunk.windows.iter().map(|w| w.train.len).max().unwrap_or(1);
        let max_val_len = chunk.windows.iter().map(|w| w.val.len).max().unwrap_or(1);
        let shape = EngineShape {
            models: chunk.ids.len(),
            batch: hyper.batch_size,
            lookback: raw.lookback,
            features: raw.features,
            max_train_len,
            max_eval_len: max_train_len.max(max_val_len),
            epochs: hyper.epochs,
        };
        let mut engine = BatchEngine::new(
            &self.gpu,
            layout,
            shape,
            &optim(hyper),
            &self.tiles,
            (&to_f32(&raw.x), &to_f32(&raw.y)),
        )?;
        let setups: Vec<ModelSetup> = (0..chunk.ids.len())
            .map(|m| ModelSetup {
                model_id: chunk.ids[m],
                seed: chunk.seeds[m],
                windows: chunk.windows[m],
                params: chunk.params[m].clone(),
                scaler: chunk.scalings[m].gpu_params(),
            })
            .collect();
        engine.load_models(&setups)?;
        Ok(engine)
    }

    fn chunk_size(&self, layout: &ParamLayout, hyper: &Hyper, raw: &RawData) -> usize {
        max_models_per_engine(&self.gpu, layout, hyper.batch_size, raw.lookback).max(1)
    }
}

/// Per model: predictions on the training window, then on the validation window (scaled units).
type WindowPredictions = Vec<(Vec<f64>, Vec<f64>)>;

/// Predictions of every model of an engine on its training and validation windows.
fn window_predictions(
    engine: &mut BatchEngine,
    windows: &[SplitWindows],
) -> Result<WindowPredictions, GpuError> {
    let stride = engine.shape.max_eval_len;
    engine.evaluate(true, false);
    let train = engine.read_predictions()?;
    engine.evaluate(false, false);
    let val = engine.read_predictions()?;
    Ok(windows
        .iter()
        .enumerate()
        .map(|(m, w)| {
            let t = train[m * stride..m * stride + w.train.len]
                .iter()
                .map(|&v| v as f64)
                .collect();
            let v = val[m * stride..m * stride + w.val.len]
                .iter()
                .map(|&v| v as f64)
                .collect();
            (t, v)
        })
        .collect())
}

fn report_of(
    state: &crate::gpu::shader_structs::ModelStateGpu,
    history: &[f32],
    m: usize,
    hyper: &Hyper,
) -> FitReport {
    let (run, epochs) = (state.epochs_run as usize, hyper.epochs);
    let stopped_early = state.stopped_early == 1;
    FitReport {
        history: (0..run)
            .map(|e| EpochLoss {
                train: history[(m * epochs + e) * 2] as f64,
                val: history[(m * epochs + e) * 2 + 1] as f64,
            })
            .collect(),
        best_epoch: hyper
            .stopping
            .kept_epoch(state.best_epoch as usize, run, stopped_early),
        stopped_early,
    }
}

impl Trainer for GpuTrainer {
    fn engine(&self) -> super::Engine {
        super::Engine::Gpu
    }

    fn describe(&self) -> String {
        let s = &self.gpu.summary;
        let limits = match self.gpu.limit_set {
            LimitSet::Adapter => String::new(),
            ref other => format!(", {} limits", other.name()),
        };
        format!("gpu: {} ({}, {}{limits})", s.name, s.backend, s.device_type)
    }

    /// One engine's worth: what the adapter holds at once.
    fn chunk_models(&self, layout: &ParamLayout, hyper: &Hyper, lookback: usize) -> usize {
        max_models_per_engine(&self.gpu, layout, hyper.batch_size, lookback).max(1)
    }

    fn fit_many(
        &mut self,
        raw: &RawData,
        layout: &ParamLayout,
        hyper: &Hyper,
        jobs: &[FitJob],
        progress: ProgressFn,
    ) -> anyhow::Result<Vec<FitOutcome>> {
        self.calls += 1;
        if crate::gpu::fault::lost_at_chunk() == Some(self.calls) {
            self.gpu.simulate_device_lost("injected fault");
        }
        let per = self.chunk_size(layout, hyper, raw);
        let n_chunks = jobs.len().div_ceil(per);
        let mut outcomes = Vec::with_capacity(jobs.len());
        for (ci, group) in jobs.chunks(per).enumerate() {
            let chunk = Chunk {
                ids: group.iter().map(|j| j.model_id).collect(),
                seeds: group.iter().map(|j| j.seed).collect(),
                windows: group.iter().map(|j| j.windows).collect(),
                scalings: group.iter().map(|j| &j.scaling).collect(),
                params: group.iter().map(|j| to_f32(&j.init)).collect(),
            };
            let mut engine = self.engine(raw, layout, hyper, &chunk)?;
            let states = engine.fit(false, |epoch, states| {
                let live: Vec<f64> = states
                    .iter()
                    .filter(|s| s.epochs_run as usize == epoch + 1)
                    .map(|s| s.eval_sse as f64 / s.val_len.max(1) as f64)
                    .collect();
                progress(Progress {
                    stage: "epochs",
                    done: ci * hyper.epochs + epoch + 1,
                    total: n_chunks * hyper.epochs,
                    val_loss: (!live.is_empty())
                        .then(|| live.iter().sum::<f64>() / live.len() as f64),
                });
            })?;
            let history = engine.read_history()?;
            let params = engine.read_params()?;
            let preds = window_predictions(&mut engine, &chunk.windows)?;
            let p = layout.total;
            for (m, (train_pred, val_pred)) in preds.into_iter().enumerate() {
                outcomes.push(FitOutcome {
                    report: report_of(&states[m], &history, m, hyper),
                    params: params[m * p..(m + 1) * p]
                        .iter()
                        .map(|&v| v as f64)
                        .collect(),
                    train_pred,
                    val_pred,
                });
            }
        }
        Ok(outcomes)
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
        let k = chains.len();
        let Some(&first) = windows.first() else {
            return Ok(chains.into_iter().map(|c| c.start.params).collect());
        };
        let most = self.chunk_size(layout, hyper, raw);
        anyhow::ensure!(
            k <= most,
            "--seeds {k}: the seed protocol trains its carried models as one batch, and this adapter \
             holds at most {most} of them at once"
        );
        // Every chain has run the same splits (a resumed run continues them together).
        let fresh = chains.iter().all(|c| c.start.is_fresh());
        // The engine's buffers are sized by the first window pair; the longest windows size them.
        let longest = SplitWindows {
            train: Window {
                start: first.train.start,
                len: windows.iter().map(|w| w.train.len).max().unwrap_or(1),
            },
            val: Window {
                start: first.val.start,
                len: windows.iter().map(|w| w.val.len).max().unwrap_or(1),
            },
        };
        let chunk = Chunk {
            ids: vec![0; k],
            seeds: chains.iter().map(|c| c.seed).collect(),
            windows: vec![longest; k],
            scalings: vec![scaling; k],
            params: chains.iter().map(|c| to_f32(&c.start.params)).collect(),
        };
        let mut engine = self.engine(raw, layout, hyper, &chunk)?;
        if !fresh {
            for (m, c) in chains.iter().enumerate() {
                // f64 → f32 of values that came from f32 (a GPU or CPU-engine run) is exact.
                let carried = Carried {
                    m: to_f32(&c.start.adam_m),
                    v: to_f32(&c.start.adam_v),
                    adam_t: c.start.adam_t,
                    epoch_serial: c.start.epoch_serial,
                    best_val: c.start.best as f32,
                };
                engine.load_carried(m, &carried)?;
            }
        }
        let mut split = 0;
        let step =
            |engine: &mut BatchEngine, w: SplitWindows| -> anyhow::Result<Vec<SequenceStep>> {
                let all = vec![w; k];
                engine.set_windows(&all)?;
                // A carried start compares with the best of the splits before it, as the next split would,
                // where the rule carries it at all.
                let carry = hyper.stopping.carries_best() && (split > 0 || !fresh);
                split += 1;
                let states = engine.fit(carry, |_, _| {})?;
                let history = engine.read_history()?;
                let preds = window_predictions(engine, &all)?;
                Ok(preds
                    .into_iter()
                    .enumerate()
                    .map(|(m, (train_pred, val_pred))| SequenceStep {
                        report: report_of(&states[m], &history, m, hyper),
                        train_pred,
                        val_pred,
                    })
                    .collect())
            };
        let p = layout.total;
        let snapshot = |engine: &BatchEngine| -> anyhow::Result<Vec<SequenceState>> {
            let (m, v) = engine.read_moments()?;
            let params = engine.read_params()?;
            let f64s = |x: &[f32]| x.iter().map(|&v| f64::from(v)).collect::<Vec<f64>>();
            Ok(engine
                .read_states()?
                .iter()
                .enumerate()
                .map(|(i, state)| SequenceState {
                    params: f64s(&params[i * p..(i + 1) * p]),
                    adam_m: f64s(&m[i * p..(i + 1) * p]),
                    adam_v: f64s(&v[i * p..(i + 1) * p]),
                    adam_t: state.adam_t,
                    epoch_serial: state.epoch_serial,
                    best: f64::from(state.best_val),
                })
                .collect())
        };
        fit_splits(&mut engine, windows, progress, after_split, step, snapshot)?;
        let params = engine.read_params()?;
        Ok(params
            .chunks(p)
            .take(k)
            .map(|c| c.iter().map(|&v| f64::from(v)).collect())
            .collect())
    }
}
