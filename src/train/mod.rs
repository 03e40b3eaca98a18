//! Training runs: the two protocols (walk-forward and the report's seed protocol) on top of a
//! [`Trainer`] backend: the CPU engine ([`cpu::CpuTrainer`]), the GPU engine ([`gpu::GpuTrainer`]) or the
//! f64 reference ([`reference::ReferenceTrainer`]). The protocol code decides what is trained on what; a backend only fits models.

pub mod backend;
pub mod cpu;
pub mod gpu;
pub mod job_loop;
pub mod multi_gpu;
pub mod protocol;
pub mod reference;
pub mod run_types;
pub mod walk_forward;

use crate::data::{MinMax, ScalerKind, TargetTransform};
use crate::fit::{FitReport, Hyper, ScaledSeries, SplitWindows, Window};
use crate::model::ParamLayout;

pub use protocol::{
    run, run_panel, Forecast, Member, PanelResult, Protocol, RunResult, RunSpec, ScalerMode,
    SeriesResult, SplitOutcome, Spread,
};
pub use walk_forward::Shard;

/// The raw series every model reads, uploaded once: features `[rows][F]` and the target `[rows]` as the
/// models learn it (`transform` of the target column `level`).
#[derive(Debug, Clone)]
pub struct RawData {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub features: usize,
    pub lookback: usize,
    /// The target column itself (price units): `y` is `transform.series(level)`.
    pub level: Vec<f64>,
    pub transform: TargetTransform,
}

impl RawData {
    pub fn rows(&self) -> usize {
        self.y.len()
    }
}

/// One model's scalers (one per feature, and the target's) and the transform its target values are in:
/// everything needed to turn its inputs into what it reads and its outputs back into prices.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Scaling {
    pub features: MinMax,
    pub target: MinMax,
    /// Absent from checkpoints written before `--target-transform`: those learnt the level.
    #[serde(default)]
    pub transform: TargetTransform,
}

impl Scaling {
    /// Fits both scalers under `kind` on the rows `rows` of `raw` (the target's only on the rows whose
    /// transformed value is defined).
    pub fn fit(raw: &RawData, rows: std::ops::Range<usize>, kind: ScalerKind) -> Scaling {
        let f = raw.features;
        let feature_rows: Vec<Vec<f64>> = rows
            .clone()
            .map(|r| raw.x[r * f..(r + 1) * f].to_vec())
            .collect();
        let target_rows = rows
            .start
            .max(raw.transform.first_target_row())
            .min(rows.end)..rows.end;
        Scaling {
            features: MinMax::fit_kind(kind, &feature_rows),
            target: match kind {
                ScalerKind::MinMax => MinMax::fit_column(&raw.y[target_rows]),
                _ => MinMax::fit_column_kind(kind, &raw.y[target_rows]),
            },
            transform: raw.transform,
        }
    }

    /// The scaled series as the model sees it.
    pub fn apply(&self, raw: &RawData) -> ScaledSeries {
        let f = raw.features;
        let mut x = Vec::with_capacity(raw.x.len());
        for row in raw.x.chunks(f) {
            for (j, &v) in row.iter().enumerate() {
                x.push(self.features.transform_value(j, v));
            }
        }
        let y = raw
            .y
            .iter()
            .map(|&v| self.target.transform_value(0, v))
            .collect();
        ScaledSeries {
            x,
            y,
            features: f,
            lookback: raw.lookback,
        }
    }

    /// `(min, 1/range)` per feature then the target, as the GPU gather kernel reads them. A constant
    /// column has range 1 (sklearn's convention), so it maps to 0.
    pub fn gpu_params(&self) -> Vec<f32> {
        let mut out = Vec::new();
        let mut push = |lo: f64, hi: f64| {
            let range = if hi > lo { hi - lo } else { 1.0 };
            out.push(lo as f32);
            out.push((1.0 / range) as f32);
        };
        for j in 0..self.features.min.len() {
            push(self.features.min[j], self.features.max[j]);
        }
        push(self.target.min[0], self.target.max[0]);
        out
    }

    /// A scaled prediction back to price units, from `last`, the close before the predicted day.
    pub fn target_to_price(&self, scaled: f64, last: f64) -> f64 {
        self.transform
            .invert(self.target.inverse_value(0, scaled), last)
    }

    /// A close `price` after close `last` in the scaled units the model predicts in.
    pub fn price_to_scaled(&self, price: f64, last: f64) -> f64 {
        self.target
            .transform_value(0, self.transform.apply(price, last))
    }

    /// d(price)/d(scaled) at `scaled` after `last`: turns a spread of predictions into dollars.
    pub fn price_slope(&self, scaled: f64, last: f64) -> f64 {
        let range = self.target.inverse_value(0, 1.0) - self.target.inverse_value(0, 0.0);
        let v = self.target.inverse_value(0, scaled);
        self.transform.slope(v, last) * range
    }
}

/// One independent fit (a walk-forward split's model, for one seed).
#[derive(Debug, Clone)]
pub struct FitJob {
    pub model_id: u32,
    /// With `model_id`, keys the model's shuffles and dropout masks (its initial weights are `init`).
    /// Per job, so the seeds of an ensemble train in one batch.
    pub seed: u64,
    pub scaling: Scaling,
    pub windows: SplitWindows,
    pub init: Vec<f64>,
}

impl FitJob {
    /// The job's settings: `hyper` with the job's own seed.
    pub fn hyper(&self, hyper: &Hyper) -> Hyper {
        Hyper {
            seed: self.seed,
            ..*hyper
        }
    }

    /// The rows of `raw` the job reads, scaled by its scaler, and its windows counted from the first of
    /// them: a panel's series share one `raw`, so scaling all of it for every model would cost the
    /// whole panel per model. Samples and values are those of [`Scaling::apply`] on the whole series.
    pub fn local_series(&self, raw: &RawData) -> (ScaledSeries, SplitWindows) {
        let SplitWindows { train, val } = self.windows;
        let first = train.start.min(val.start);
        let end = (train.start + train.len).max(val.start + val.len) + raw.lookback;
        let f = raw.features;
        let part = RawData {
            x: raw.x[first * f..end * f].to_vec(),
            y: raw.y[first..end].to_vec(),
            features: f,
            lookback: raw.lookback,
            level: raw.level[first..end].to_vec(),
            transform: raw.transform,
        };
        let shift = |w: Window| Window {
            start: w.start - first,
            len: w.len,
        };
        (
            self.scaling.apply(&part),
            SplitWindows {
                train: shift(train),
                val: shift(val),
            },
        )
    }
}

/// What a fit produced: its history, the restored weights, and their predictions (scaled units) on the
/// job's training and validation windows.
#[derive(Debug, Clone)]
pub struct FitOutcome {
    pub report: FitReport,
    pub params: Vec<f64>,
    pub train_pred: Vec<f64>,
    pub val_pred: Vec<f64>,
}

/// A progress report from a backend: `done` of `total` units (epochs of models, or splits).
#[derive(Debug, Clone)]
pub struct Progress {
    pub stage: &'static str,
    pub done: usize,
    pub total: usize,
    /// Mean validation loss of the models that reported in this update, when known.
    pub val_loss: Option<f64>,
}

pub type ProgressFn<'a> = &'a (dyn Fn(Progress) + Sync);

/// Everything the seed protocol's one model carries from split to split: weights, Adam's moments and
/// step count, the epochs run (which select the shuffles), and early stopping's best validation loss.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceState {
    pub params: Vec<f64>,
    pub adam_m: Vec<f64>,
    pub adam_v: Vec<f64>,
    pub adam_t: u32,
    pub epoch_serial: u32,
    pub best: f64,
}

impl SequenceState {
    /// A fresh model: `init` weights, zero moments, no epochs, no best yet.
    pub fn fresh(init: Vec<f64>) -> SequenceState {
        let n = init.len();
        SequenceState {
            params: init,
            adam_m: vec![0.0; n],
            adam_v: vec![0.0; n],
            adam_t: 0,
            epoch_serial: 0,
            best: f64::INFINITY,
        }
    }

    pub fn is_fresh(&self) -> bool {
        self.adam_t == 0 && self.epoch_serial == 0 && self.best == f64::INFINITY
    }
}

/// Hands out the carried states, one per chain, on demand (reading them back from a device can fail).
pub type StateFn<'a> = &'a dyn Fn() -> anyhow::Result<Vec<SequenceState>>;

/// One carried model's split of the seed protocol: its fit, and the predictions (scaled units) of the
/// weights it kept on that split's own training and validation windows, made right after the fit: the
/// report's per-split Tables 2 and 3 score these.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceStep {
    pub report: FitReport,
    pub train_pred: Vec<f64>,
    pub val_pred: Vec<f64>,
}

/// One carried model of the seed protocol: the seed its shuffles and dropout masks are keyed by (with
/// model id 0), and the state it starts from.
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    pub seed: u64,
    pub start: SequenceState,
}

/// Called by [`Trainer::fit_sequences`] after each split with the split's position, every chain's step
/// (in chain order) and their carried states (`None` where the backend cannot hand them out); returns
/// whether to stop there.
pub type SplitHook<'a> =
    &'a mut dyn FnMut(usize, &[SequenceStep], Option<StateFn>) -> anyhow::Result<bool>;

/// The engine that trained a model, as metrics.json and run.json name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Cpu,
    Gpu,
    Reference,
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Engine::Cpu => "cpu",
            Engine::Gpu => "gpu",
            Engine::Reference => "reference",
        })
    }
}

/// Who trained a run's models: the engines (several for shards merged from different machines) and
/// how the backend described itself.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainedBy {
    pub engines: Vec<Engine>,
    pub description: String,
}

impl TrainedBy {
    pub fn of(trainer: &dyn Trainer) -> TrainedBy {
        TrainedBy {
            engines: vec![trainer.engine()],
            description: trainer.describe(),
        }
    }
}

/// A training backend.
pub trait Trainer {
    /// Human-readable backend description (for reports): "cpu (2 threads)" or the adapter.
    fn describe(&self) -> String;

    /// Which engine this is.
    fn engine(&self) -> Engine;

    /// How many walk-forward models to hand to [`Trainer::fit_many`] at a time: the unit of work a run
    /// saves (and that an interrupted run loses at most). Big enough to keep the backend busy.
    fn chunk_models(&self, layout: &ParamLayout, hyper: &Hyper, lookback: usize) -> usize;

    /// Independent fits, each from its own initial weights with fresh Adam state.
    fn fit_many(
        &mut self,
        raw: &RawData,
        layout: &ParamLayout,
        hyper: &Hyper,
        jobs: &[FitJob],
        progress: ProgressFn,
    ) -> anyhow::Result<Vec<FitOutcome>>;

    /// The seed protocol: each chain's model fitted on each (train, validation) window pair in order
    /// from its start, weights, Adam state and early-stopping best carried over (the report's loop), all
    /// chains of a split as one batch; `after_split` is called after each split and may stop the
    /// sequence. Returns each chain's final weights.
    #[allow(clippy::too_many_arguments)]
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
    ) -> anyhow::Result<Vec<Vec<f64>>>;
}
