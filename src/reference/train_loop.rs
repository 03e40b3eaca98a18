//! Keras `model.fit(x, y, batch_size, epochs, validation_data, callbacks=[EarlyStopping(
//! monitor='val_loss', patience, restore_best_weights=True)])` on the CPU, and `predict`.
//!
//! Per epoch: shuffle the training window with the model's epoch serial; for each batch of
//! `batch_size` consecutive shuffled samples (the last one may be partial): forward with dropout
//! keyed by the Adam step count before the update, MSE, backward, Adam step. The epoch's train loss is
//! the sample-weighted mean of the batch losses (what Keras logs as `loss`: each batch loss is taken
//! with the weights of that moment). Then `val_loss` = MSE of [`predict`] on the validation window.
//!
//! Early stopping is the `EarlyStopping.on_epoch_end` machine all Keras versions share ([`EarlyStopping`]),
//! with what the fit's [`EarlyStopRule`] says about the two places they differ:
//! - after the first epoch the current weights are remembered as "best" even if they do not improve
//!   (only matters when the reference `best` is carried in, see [`fit_from_best`], or for NaN losses);
//! - improvement is strict (`val < best`, min_delta 0): remember the weights, `wait = 0`;
//! - otherwise `wait += 1`, and training stops once `wait ≥ patience` (never after the first epoch);
//! - at the end the remembered weights are restored: always (Keras 3), or only when the fit stopped early
//!   (tf.keras 2). The Adam state is not.
//!
//! With a fresh reference (`best = +inf`) and patience ≥ 1, a stop happens exactly `patience` epochs
//! after the best one: `stopped_early ⇒ history.len() == best_epoch + patience + 1`. Patience 0 acts
//! like patience 1 (Keras returns before the patience test on an improving epoch).

use super::adam::{adam_step, AdamState};
use super::dropout::DropoutKey;
use super::loss::{mse, mse_grad};
use super::network::{backward, forward};
use crate::fit::{EarlyStopRule, EpochLoss, FitReport, Hyper, ScaledSeries, SplitWindows, Window};
use crate::model::{init_params, ParamLayout};
use crate::rng::shuffle;

/// One model in training on the reference, in f64: its weights, Adam state and epoch count, everything
/// that carries over between `fit` calls (the seed protocol's warm start).
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceModel {
    pub params: Vec<f64>,
    pub adam: AdamState,
    /// Number of epochs this model has run so far, across all fits (selects the shuffle stream).
    pub epoch_serial: u32,
}

impl ReferenceModel {
    /// Fresh model: seeded Keras-default weights, zero Adam moments, no epochs run.
    pub fn new(layout: &ParamLayout, seed: u64, model: u32) -> ReferenceModel {
        ReferenceModel {
            params: init_params(layout, seed, model),
            adam: AdamState::new(layout.total),
            epoch_serial: 0,
        }
    }
}

/// Keras 3's `EarlyStopping(monitor="val_loss", restore_best_weights=True)` between epochs: the state it
/// carries and its decision at the end of each epoch (the rules are in the module doc).
#[derive(Debug, Clone, PartialEq)]
pub struct EarlyStopping {
    /// The reference: the lowest validation loss seen (or carried in, see [`fit_from_best`]).
    pub best: f64,
    /// Epochs since the last improvement.
    pub wait: usize,
    /// 0-based epoch whose weights are kept.
    pub best_epoch: usize,
    /// Weights have been kept in this fit.
    pub has_best: bool,
}

/// What [`EarlyStopping::end_epoch`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochEnd {
    /// Keep this epoch's weights as the ones to restore.
    pub keep_weights: bool,
    /// The patience ran out: stop the fit.
    pub stop: bool,
}

impl EarlyStopping {
    pub fn new(best: f64) -> EarlyStopping {
        EarlyStopping {
            best,
            wait: 0,
            best_epoch: 0,
            has_best: false,
        }
    }

    /// `on_train_begin` of a callback whose earlier fits saw `carried` as their best validation loss
    /// (`+inf` before the first fit): only Keras 3 before 3.7 keeps it.
    pub fn begin(rule: EarlyStopRule, carried: f64) -> EarlyStopping {
        EarlyStopping::new(if rule.carries_best() {
            carried
        } else {
            f64::INFINITY
        })
    }

    /// Whether the kept weights replace the last epoch's when the fit ends (`stopped_early`: the
    /// patience ran out): Keras 3's `on_train_end` always restores, tf.keras 2 only when it stopped.
    pub fn restores(&self, rule: EarlyStopRule, stopped_early: bool) -> bool {
        self.has_best && (stopped_early || rule.restores_without_stop())
    }

    /// The report of a fit this callback watched over `history`.
    pub fn report(
        &self,
        rule: EarlyStopRule,
        history: Vec<EpochLoss>,
        stopped_early: bool,
    ) -> FitReport {
        FitReport {
            best_epoch: rule.kept_epoch(self.best_epoch, history.len(), stopped_early),
            history,
            stopped_early,
        }
    }

    /// Keras 3's order: the first epoch's weights are kept whatever their loss; a strictly lower loss
    /// is kept and resets the wait; otherwise the fit stops once `wait ≥ patience`, never after the
    /// first epoch.
    pub fn end_epoch(&mut self, epoch: usize, val_loss: f64, patience: usize) -> EpochEnd {
        let first = !self.has_best;
        if first {
            self.has_best = true;
            self.best_epoch = epoch;
        }
        self.wait += 1;
        let improved = val_loss < self.best;
        if improved {
            self.best = val_loss;
            self.best_epoch = epoch;
            self.wait = 0;
        }
        EpochEnd {
            keep_weights: first || improved,
            stop: !improved && self.wait >= patience && epoch > 0,
        }
    }
}

/// Most rows `predict` pushes through the network at once; bounds the LSTM caches' memory. Rows are
/// independent, so the chunking does not change any result.
const PREDICT_CHUNK: usize = 256;

/// Gathers samples (absolute sample indices) into a time-major batch: `x [T][R][F]` with `T =
/// lookback`, `R = samples.len()`, and targets `y [R]`.
pub fn gather_batch(series: &ScaledSeries, samples: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let (steps, rows, features) = (series.lookback, samples.len(), series.features);
    let mut x = vec![0.0; steps * rows * features];
    let mut y = vec![0.0; rows];
    for (r, &s) in samples.iter().enumerate() {
        assert!(
            s + steps < series.y.len(),
            "gather_batch: sample {s} needs row {} but the series has {} rows",
            s + steps,
            series.y.len()
        );
        for t in 0..steps {
            let src = &series.x[(s + t) * features..(s + t + 1) * features];
            x[(t * rows + r) * features..(t * rows + r + 1) * features].copy_from_slice(src);
        }
        y[r] = series.y[s + steps];
    }
    (x, y)
}

/// Predictions (scaled) for every sample of `window`, in evaluation mode (no dropout).
pub fn predict(
    layout: &ParamLayout,
    params: &[f64],
    series: &ScaledSeries,
    window: Window,
) -> Vec<f64> {
    let samples: Vec<usize> = (window.start..window.start + window.len).collect();
    let mut pred = Vec::with_capacity(window.len);
    for chunk in samples.chunks(PREDICT_CHUNK) {
        let (x, _) = gather_batch(series, chunk);
        let cache = forward(layout, params, &x, series.lookback, chunk.len(), None);
        pred.extend_from_slice(&cache.pred);
    }
    pred
}

/// Targets (scaled) of every sample of `window`.
fn targets(series: &ScaledSeries, window: Window) -> Vec<f64> {
    (window.start..window.start + window.len)
        .map(|s| series.y[s + series.lookback])
        .collect()
}

/// Checks the inputs `fit` relies on. These are caller bugs (the CLI validates user input before
/// building splits), so they panic with a message rather than train on garbage or silently skip.
fn check_fit_inputs(
    layout: &ParamLayout,
    hyper: &Hyper,
    state: &ReferenceModel,
    series: &ScaledSeries,
    windows: SplitWindows,
) {
    let SplitWindows { train, val } = windows;
    assert!(hyper.epochs >= 1, "fit: epochs must be at least 1");
    assert!(hyper.batch_size >= 1, "fit: batch_size must be at least 1");
    assert!(train.len >= 1, "fit: empty training window");
    assert!(val.len >= 1, "fit: empty validation window");
    assert_eq!(
        series.features, layout.spec.input_size,
        "fit: series features vs model input size"
    );
    assert_eq!(
        series.x.len(),
        series.y.len() * series.features,
        "fit: series x is not [n_rows][features]"
    );
    assert!(series.lookback >= 1, "fit: lookback must be at least 1");
    for (name, w) in [("training", train), ("validation", val)] {
        assert!(
            w.start + w.len <= series.n_samples(),
            "fit: {name} window {}..{} exceeds the {} samples of the series",
            w.start,
            w.start + w.len,
            series.n_samples()
        );
    }
    assert_eq!(state.params.len(), layout.total, "fit: parameter count");
    assert_eq!(state.adam.m.len(), layout.total, "fit: Adam state size");
}

/// `model.fit` with a fresh early-stopping callback (reference `best = +inf`). See the module doc.
///
/// # Panics
/// On caller bugs: `epochs`, `batch_size`, `train.len` or `val.len` zero; a window reaching past the
/// series' samples; sizes that do not match `layout`. Validate user input before calling.
pub fn fit(
    layout: &ParamLayout,
    hyper: &Hyper,
    model: u32,
    state: &mut ReferenceModel,
    series: &ScaledSeries,
    windows: SplitWindows,
) -> FitReport {
    let mut best = f64::INFINITY;
    fit_from_best(layout, hyper, model, state, series, windows, &mut best)
}

/// [`fit`] as the next fit of a callback whose earlier fits saw `best` as their best validation loss;
/// `best` is updated in place (on return the lowest val loss this fit compared with, or unchanged if none
/// beat it).
///
/// The reference script passes ONE `EarlyStopping` instance to every split's `fit`. In Keras 3
/// releases before the fix of keras-team/keras#20521 (PR #20533, Nov 2024) `on_train_begin` did not
/// reset `best`, so each split compared its val losses with the best of all earlier splits
/// (`hyper.stopping` = [`EarlyStopRule::Keras36`]); the other rules reset it, whatever `best` says.
///
/// # Panics
/// As [`fit`].
pub fn fit_from_best(
    layout: &ParamLayout,
    hyper: &Hyper,
    model: u32,
    state: &mut ReferenceModel,
    series: &ScaledSeries,
    windows: SplitWindows,
    best: &mut f64,
) -> FitReport {
    check_fit_inputs(layout, hyper, state, series, windows);
    let SplitWindows { train, val } = windows;
    let val_targets = targets(series, val);
    let mut history = Vec::with_capacity(hyper.epochs);
    let mut best_params: Option<Vec<f64>> = None;
    let mut stopping = EarlyStopping::begin(hyper.stopping, *best);
    let mut stopped_early = false;

    for epoch in 0..hyper.epochs {
        // --- one epoch of training ---
        let perm = shuffle(train.len, hyper.seed, model, state.epoch_serial);
        state.epoch_serial += 1;
        let mut loss_sum = 0.0; // Σ batch_loss · R over the epoch
        for batch in perm.chunks(hyper.batch_size) {
            let samples: Vec<usize> = batch.iter().map(|&k| train.start + k as usize).collect();
            let (x, y) = gather_batch(series, &samples);
            let key = DropoutKey {
                seed: hyper.seed,
                model,
                step: state.adam.t,
            };
            let cache = forward(
                layout,
                &state.params,
                &x,
                series.lookback,
                samples.len(),
                Some(&key),
            );
            loss_sum += mse(&cache.pred, &y) * samples.len() as f64;
            let dpred = mse_grad(&cache.pred, &y);
            let grads = backward(layout, &state.params, &x, &cache, &dpred);
            adam_step(&hyper.adam, &mut state.adam, &mut state.params, &grads);
        }
        let train_loss = loss_sum / train.len as f64;
        let val_loss = mse(&predict(layout, &state.params, series, val), &val_targets);
        history.push(EpochLoss {
            train: train_loss,
            val: val_loss,
        });

        let end = stopping.end_epoch(epoch, val_loss, hyper.patience);
        if end.keep_weights {
            best_params = Some(state.params.clone());
        }
        if end.stop {
            stopped_early = true;
            break;
        }
        if history.last().is_some_and(EpochLoss::diverged) {
            break; // no later epoch brings it back; the run excludes the model
        }
    }
    if let Some(params) = best_params.filter(|_| stopping.restores(hyper.stopping, stopped_early)) {
        state.params = params;
    }
    *best = stopping.best;
    stopping.report(hyper.stopping, history, stopped_early)
}
