//! The three Keras early-stopping behaviours against a trace written out by hand from their sources
//! (`EarlyStopRule`'s doc names the files and lines): three short `fit` calls of one reused callback,
//! patience 2, each with the epochs run, the best epoch, whether it stopped, the epoch whose weights the
//! model ends with, and the best loss carried to the next fit.

use gpulstm::fit::EarlyStopRule;
use gpulstm::reference::train_loop::EarlyStopping;

/// What one fit did, in the trace's terms.
#[derive(Debug, PartialEq)]
struct Traced {
    epochs_run: usize,
    best_epoch: usize,
    stopped: bool,
    weights_of_epoch: usize,
    carried_out: f64,
}

/// One fit of at most `losses.len()` epochs over the given validation losses, through the same calls
/// every backend's fit makes (`begin`, `end_epoch`, `restores`, `report`).
fn fit(rule: EarlyStopRule, carried_in: f64, losses: &[f64], patience: usize) -> Traced {
    let mut es = EarlyStopping::begin(rule, carried_in);
    let (mut kept, mut run, mut stopped) = (None, 0, false);
    for (epoch, &val) in losses.iter().enumerate() {
        run += 1;
        let end = es.end_epoch(epoch, val, patience);
        if end.keep_weights {
            kept = Some(epoch);
        }
        if end.stop {
            stopped = true;
            break;
        }
    }
    let weights_of_epoch = match kept {
        Some(k) if es.restores(rule, stopped) => k,
        _ => run - 1,
    };
    let history = losses[..run]
        .iter()
        .map(|&v| gpulstm::fit::EpochLoss { train: v, val: v })
        .collect();
    let report = es.report(rule, history, stopped);
    assert_eq!(
        report.best_epoch, weights_of_epoch,
        "report names the kept weights"
    );
    Traced {
        epochs_run: run,
        best_epoch: es.best_epoch,
        stopped,
        weights_of_epoch,
        carried_out: es.best,
    }
}

/// Fit 1 improves to 0.8 at epoch 1 and stops two epochs later; fit 2 never beats 0.8 (0.9, 0.85,
/// 0.95); fit 3 starts at 0.6 and then worsens (0.65, 0.7, 0.5 never reached).
const FITS: [&[f64]; 3] = [
    &[1.0, 0.8, 0.9, 0.95],
    &[0.9, 0.85, 0.95],
    &[0.6, 0.65, 0.7, 0.5],
];

fn trace(rule: EarlyStopRule) -> Vec<Traced> {
    let mut best = f64::INFINITY;
    FITS.iter()
        .map(|losses| {
            let t = fit(rule, best, losses, 2);
            best = t.carried_out;
            t
        })
        .collect()
}

fn t(epochs_run: usize, best_epoch: usize, stopped: bool, weights: usize, carried: f64) -> Traced {
    Traced {
        epochs_run,
        best_epoch,
        stopped,
        weights_of_epoch: weights,
        carried_out: carried,
    }
}

/// Keras 3.0–3.6: fit 2 compares with fit 1's 0.8, so no epoch improves: epoch 0's weights are the
/// fallback (`best_weights is None` branch), the wait reaches 2 at epoch 1 and the fit stops there,
/// restoring epoch 0. Fit 3's 0.6 beats the carried 0.8.
#[test]
fn keras_3_6_carries_best_between_fits() {
    assert_eq!(
        trace(EarlyStopRule::Keras36),
        vec![
            t(4, 1, true, 1, 0.8),
            t(2, 0, true, 0, 0.8),
            t(3, 0, true, 0, 0.6),
        ]
    );
}

/// Keras 3.7: fit 2 starts from +inf, improves at epochs 0 and 1, runs out of epochs at 2 without
/// stopping, and `on_train_end` restores epoch 1.
#[test]
fn keras_3_7_resets_best_and_restores_at_the_end() {
    assert_eq!(
        trace(EarlyStopRule::Keras37),
        vec![
            t(4, 1, true, 1, 0.8),
            t(3, 1, false, 1, 0.85),
            t(3, 0, true, 0, 0.6),
        ]
    );
}

/// tf.keras 2: as Keras 3.7, except that fit 2, which never stopped, keeps its last epoch's weights
/// (the restore sits behind `stop_training = True`); fits 1 and 3 stopped and restore.
#[test]
fn tf_keras_2_restores_only_when_it_stopped() {
    assert_eq!(
        trace(EarlyStopRule::TfKeras2),
        vec![
            t(4, 1, true, 1, 0.8),
            t(3, 1, false, 2, 0.85),
            t(3, 0, true, 0, 0.6),
        ]
    );
}
