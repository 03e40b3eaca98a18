//! What a fit is, for every backend: the hyper-parameters, the scaled series and the windows of samples a
//! model trains and validates on, and the report a fit hands back. The CPU reference (`reference::train_loop`), the GPU
//! engine and the protocols all speak these types.

/// Adam hyper-parameters; `Default` is Keras' (lr 0.001, β1 0.9, β2 0.999, ε 1e-7).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamConfig {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub epsilon: f64,
}

impl AdamConfig {
    /// Keras' learning rate, and `train --lr`'s default.
    pub const DEFAULT_LR: f64 = 0.001;

    /// The bias-corrected step size of step `t` (1-based), `α = lr·√(1−β2^t)/(1−β1^t)`, in f64: every
    /// backend takes it from here (the GPU reads a table of it), so none rounds `1 − β^t` in f32.
    pub fn step_size(&self, t: u32) -> f64 {
        let t = f64::from(t);
        self.lr * (1.0 - self.beta2.powf(t)).sqrt() / (1.0 - self.beta1.powf(t))
    }
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: Self::DEFAULT_LR,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-7,
        }
    }
}

/// Which Keras `EarlyStopping(monitor="val_loss", restore_best_weights=True)` a fit follows. They differ
/// in two places only, both visible when one callback object is handed to several `fit` calls (the seed
/// protocol) or when a fit runs all its epochs:
///
/// | rule | `on_train_begin` resets `best` | weights restored |
/// |---|---|---|
/// | `Keras36` | no: set once, in `_set_monitor_op` | `on_train_end`, stopped or not |
/// | `Keras37` | yes (keras-team/keras PR #20533) | `on_train_end`, stopped or not |
/// | `TfKeras2` | yes | only inside `on_epoch_end`, when patience runs out |
///
/// Sources: `keras/src/callbacks/early_stopping.py` of Keras 3.0–3.6 (`_set_monitor_op` sets `self.best`,
/// `on_train_begin` resets `wait`, `stopped_epoch`, `best_weights` and `best_epoch` only) and of Keras 3.7
/// (`on_train_begin` also sets `best` to ±inf); `keras/callbacks.py` of tf.keras 2.x (TensorFlow ≤ 2.15:
/// `on_train_begin` resets `best`; `set_weights(self.best_weights)` sits in `on_epoch_end` after
/// `stop_training = True`; `on_train_end` only prints). In all three `on_epoch_end` keeps the first
/// epoch's weights when none are kept yet, improves on a strictly lower loss (min_delta 0) and stops once
/// `wait ≥ patience` after the first epoch; [`crate::reference::train_loop::EarlyStopping`] is that machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum EarlyStopRule {
    #[serde(rename = "keras-3.6")]
    Keras36,
    #[serde(rename = "keras-3.7")]
    Keras37,
    #[serde(rename = "tf-keras-2")]
    TfKeras2,
}

impl EarlyStopRule {
    /// The best validation loss of earlier fits of the same callback carries into the next fit.
    pub fn carries_best(self) -> bool {
        self == EarlyStopRule::Keras36
    }

    /// The kept weights replace the last epoch's at the end of a fit that ran all its epochs.
    pub fn restores_without_stop(self) -> bool {
        self != EarlyStopRule::TfKeras2
    }

    /// The epoch whose weights a fit ends with: the kept (best) epoch when they are restored, else the last.
    pub fn kept_epoch(self, best_epoch: usize, epochs_run: usize, stopped_early: bool) -> usize {
        if stopped_early || self.restores_without_stop() {
            best_epoch
        } else {
            epochs_run.saturating_sub(1)
        }
    }

    /// The name users pass to `--early-stopping` and run.json records.
    pub fn name(self) -> &'static str {
        match self {
            EarlyStopRule::Keras36 => "keras-3.6",
            EarlyStopRule::Keras37 => "keras-3.7",
            EarlyStopRule::TfKeras2 => "tf-keras-2",
        }
    }

    /// Which releases behave so, for the report.
    pub fn releases(self) -> &'static str {
        match self {
            EarlyStopRule::Keras36 => "Keras 3.0 to 3.6",
            EarlyStopRule::Keras37 => "Keras 3.7 and later",
            EarlyStopRule::TfKeras2 => "tf.keras 2.x (TensorFlow 2.15 and earlier)",
        }
    }
}

/// Training hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hyper {
    pub epochs: usize,
    pub batch_size: usize,
    pub patience: usize,
    pub adam: AdamConfig,
    pub seed: u64,
    /// What early stopping carries between fits and restores at their end.
    pub stopping: EarlyStopRule,
}

/// `train`'s defaults (the report's settings; `--epochs`, `--batch-size`, `--patience`, `--seed`).
impl Hyper {
    pub const DEFAULT_EPOCHS: usize = 10;
    pub const DEFAULT_BATCH_SIZE: usize = 10;
    pub const DEFAULT_PATIENCE: usize = 5;
    pub const DEFAULT_SEED: u64 = 42;
}

impl Default for Hyper {
    fn default() -> Self {
        Hyper {
            epochs: Self::DEFAULT_EPOCHS,
            batch_size: Self::DEFAULT_BATCH_SIZE,
            patience: Self::DEFAULT_PATIENCE,
            adam: AdamConfig::default(),
            seed: Self::DEFAULT_SEED,
            stopping: EarlyStopRule::Keras37,
        }
    }
}

/// A scaled series: `x [n_rows][F]` features and `y [n_rows]` target, already min–max scaled.
/// Sample `s` has input rows `s .. s+lookback−1` and target `y[s+lookback]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaledSeries {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub features: usize,
    pub lookback: usize,
}

impl ScaledSeries {
    /// Number of complete samples (input rows and target inside the series).
    pub fn n_samples(&self) -> usize {
        self.y.len().saturating_sub(self.lookback)
    }
}

/// A range of sample indices `start .. start+len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: usize,
    pub len: usize,
}

/// A split's two windows: the samples a model trains on and the samples it is validated on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitWindows {
    pub train: Window,
    pub val: Window,
}

impl SplitWindows {
    /// The longer of the two windows (evaluation buffers are sized by it).
    pub fn longest(&self) -> usize {
        self.train.len.max(self.val.len)
    }
}

/// Losses logged at the end of one epoch (scaled units).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochLoss {
    pub train: f64,
    pub val: f64,
}

/// A validation MSE above this (scaled units) marks a model as diverged. Targets are min–max scaled on
/// the training rows to [0, 1], so an MSE of 100 is an RMSE of ten training ranges: no model that still
/// tracks prices gets there (the worst splits of the report's runs stay below 1), while `--lr 1`-style
/// blow-ups pass it by orders of magnitude.
pub const DIVERGED_VAL_LOSS: f64 = 100.0;

impl EpochLoss {
    /// The loss is NaN or infinite, or the validation loss exploded past [`DIVERGED_VAL_LOSS`]. Backends
    /// stop a fit at such an epoch; runs exclude the model from the pooled metrics and the forecast.
    pub fn diverged(&self) -> bool {
        !self.train.is_finite() || !self.val.is_finite() || self.val > DIVERGED_VAL_LOSS
    }
}

/// What one `fit` did.
#[derive(Debug, Clone, PartialEq)]
pub struct FitReport {
    /// One entry per epoch run.
    pub history: Vec<EpochLoss>,
    /// 0-based epoch whose end-of-epoch weights the model ends with: the best one it restored, or the
    /// last one where the rule does not restore ([`EarlyStopRule::kept_epoch`]).
    pub best_epoch: usize,
    /// The patience rule fired (possibly on the last allowed epoch).
    pub stopped_early: bool,
}

impl FitReport {
    /// Some epoch of the fit diverged ([`EpochLoss::diverged`]).
    pub fn diverged(&self) -> bool {
        self.history.iter().any(EpochLoss::diverged)
    }
}
