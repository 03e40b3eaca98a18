//! `model.fit` with early stopping and `predict` on the CPU engine: the reference's rules
//! ([`crate::reference::train_loop`], whose [`EarlyStopping`] this shares) and RNG streams (shuffles, dropout
//! keys), in f32 on a [`Network`] whose buffers are reused for every model a worker trains.

use super::adam::{adam_step, Moments};
use super::loss::{mse, mse_and_grad};
use super::network::Network;
use crate::fit::{EpochLoss, FitReport, Hyper, ScaledSeries, SplitWindows, Window};
use crate::reference::dropout::DropoutKey;
use crate::reference::train_loop::EarlyStopping;
use crate::rng::shuffle_into;

/// The scaled series in f32, as the CPU engine reads it (the f64 [`ScaledSeries`] converted once).
#[derive(Debug, Clone, PartialEq)]
pub struct CpuSeries {
    pub x: Vec<f32>,
    pub y: Vec<f32>,
    pub features: usize,
    pub lookback: usize,
}

impl CpuSeries {
    pub fn new(s: &ScaledSeries) -> CpuSeries {
        CpuSeries {
            x: s.x.iter().map(|&v| v as f32).collect(),
            y: s.y.iter().map(|&v| v as f32).collect(),
            features: s.features,
            lookback: s.lookback,
        }
    }
}

/// One model in training on the CPU engine, in f32: its weights, Adam state and epoch count (what
/// carries over between fits).
#[derive(Debug, Clone, PartialEq)]
pub struct CpuModel {
    pub params: Vec<f32>,
    pub adam: Moments,
    pub epoch_serial: u32,
}

impl CpuModel {
    pub fn new(init: &[f64]) -> CpuModel {
        CpuModel {
            params: init.iter().map(|&v| v as f32).collect(),
            adam: Moments::new(init.len()),
            epoch_serial: 0,
        }
    }
}

/// The per-worker buffers that are not the network's: the epoch's order, the batch's samples and
/// targets, the kept weights.
#[derive(Debug, Clone, Default)]
pub struct Scratch {
    perm: Vec<u32>,
    /// The current batch (absolute sample indices).
    pub samples: Vec<usize>,
    targets: Vec<f32>,
    pred: Vec<f32>,
    best: Vec<f32>,
}

/// Gathers `samples` (absolute sample indices) into the network's input rows and their targets.
fn gather(net: &mut Network, series: &CpuSeries, samples: &[usize], targets: &mut Vec<f32>) {
    let f = series.features;
    let (input, at) = net.input_mut();
    targets.clear();
    for (r, &s) in samples.iter().enumerate() {
        for t in 0..at.time {
            let dst = at.offset + (t * samples.len() + r) * at.pitch;
            input[dst..dst + f].copy_from_slice(&series.x[(s + t) * f..][..f]);
        }
        targets.push(series.y[s + series.lookback]);
    }
}

/// Predictions (scaled, f32) for every sample of `window`, in chunks of the network's capacity.
pub fn predict_into(
    net: &mut Network,
    params: &[f32],
    series: &CpuSeries,
    window: Window,
    scratch: &mut Scratch,
) {
    scratch.pred.clear();
    let mut start = window.start;
    let end = window.start + window.len;
    while start < end {
        let rows = net.capacity.min(end - start);
        scratch.samples.clear();
        scratch.samples.extend(start..start + rows);
        gather(net, series, &scratch.samples, &mut scratch.targets);
        net.forward(params, rows, None);
        scratch.pred.extend_from_slice(net.pred(rows));
        start += rows;
    }
}

/// [`predict_into`] as f64.
pub fn predict(
    net: &mut Network,
    params: &[f32],
    series: &CpuSeries,
    window: Window,
    scratch: &mut Scratch,
) -> Vec<f64> {
    predict_into(net, params, series, window, scratch);
    scratch.pred.iter().map(|&v| f64::from(v)).collect()
}

/// One epoch of training; returns the sample-weighted mean of the batch losses.
fn train_epoch(
    net: &mut Network,
    hyper: &Hyper,
    model: u32,
    state: &mut CpuModel,
    series: &CpuSeries,
    train: Window,
    scratch: &mut Scratch,
) -> f64 {
    shuffle_into(
        &mut scratch.perm,
        train.len,
        hyper.seed,
        model,
        state.epoch_serial,
    );
    state.epoch_serial += 1;
    let mut loss_sum = 0.0;
    for b in (0..train.len).step_by(hyper.batch_size) {
        let rows = hyper.batch_size.min(train.len - b);
        scratch.samples.clear();
        let batch = scratch.perm[b..b + rows].iter();
        scratch
            .samples
            .extend(batch.map(|&k| train.start + k as usize));
        loss_sum += train_step(net, hyper, model, state, series, scratch) * rows as f64;
    }
    loss_sum / train.len as f64
}

/// One optimiser step on the samples in `scratch.samples`: forward with dropout keyed by the Adam step
/// count, MSE, backward, Adam. Returns the batch loss.
pub fn train_step(
    net: &mut Network,
    hyper: &Hyper,
    model: u32,
    state: &mut CpuModel,
    series: &CpuSeries,
    scratch: &mut Scratch,
) -> f64 {
    let rows = scratch.samples.len();
    gather(net, series, &scratch.samples, &mut scratch.targets);
    let key = DropoutKey {
        seed: hyper.seed,
        model,
        step: state.adam.t,
    };
    net.forward(&state.params, rows, Some(key));
    scratch.pred.clear();
    scratch.pred.extend_from_slice(net.pred(rows));
    let loss = mse_and_grad(&scratch.pred, &scratch.targets, &mut net.dpred);
    net.backward(&state.params, rows);
    adam_step(
        net.isa,
        &hyper.adam,
        &mut state.adam,
        &mut state.params,
        &net.grads,
    );
    loss
}

/// `model.fit` from the early-stopping reference `best` (updated in place), as
/// [`crate::reference::train_loop::fit_from_best`].
#[allow(clippy::too_many_arguments)]
pub fn fit_from_best(
    net: &mut Network,
    hyper: &Hyper,
    model: u32,
    state: &mut CpuModel,
    series: &CpuSeries,
    windows: SplitWindows,
    best: &mut f64,
    scratch: &mut Scratch,
) -> FitReport {
    let SplitWindows { train, val } = windows;
    assert!(
        train.len >= 1 && val.len >= 1 && hyper.batch_size >= 1,
        "fit: empty window or batch"
    );
    assert!(
        hyper.batch_size <= net.capacity,
        "fit: batch larger than the network's capacity"
    );
    let mut history = Vec::with_capacity(hyper.epochs);
    let mut stopping = EarlyStopping::begin(hyper.stopping, *best);
    let mut stopped_early = false;
    let mut kept = false;
    for epoch in 0..hyper.epochs {
        let train_loss = train_epoch(net, hyper, model, state, series, train, scratch);
        predict_into(net, &state.params, series, val, scratch);
        let targets: &[f32] =
            &series.y[val.start + series.lookback..val.start + series.lookback + val.len];
        let val_loss = mse(&scratch.pred, targets);
        history.push(EpochLoss {
            train: train_loss,
            val: val_loss,
        });
        let end = stopping.end_epoch(epoch, val_loss, hyper.patience);
        if end.keep_weights {
            scratch.best.clear();
            scratch.best.extend_from_slice(&state.params);
            kept = true;
        }
        if end.stop {
            stopped_early = true;
            break;
        }
        if history.last().is_some_and(EpochLoss::diverged) {
            break; // no later epoch brings it back; the run excludes the model
        }
    }
    if kept && stopping.restores(hyper.stopping, stopped_early) {
        state.params.copy_from_slice(&scratch.best);
    }
    *best = stopping.best;
    stopping.report(hyper.stopping, history, stopped_early)
}
