//! Diverging models on every backend that runs here: a learning rate of 10 blows every model up; each
//! is marked diverged, the CPU backends stop it at the epoch it diverged, and the evaluation leaves it
//! out of the pooled metrics and the forecast, saying so. A milder rate leaves sound models alone.

mod common;

use common::runs::spec;
use gpulstm::data::{load_sample, LoadOptions};
use gpulstm::fit::{EpochLoss, DIVERGED_VAL_LOSS};
use gpulstm::report::evaluate::{evaluate, RunConfig};
use gpulstm::train::cpu::CpuTrainer;
use gpulstm::train::reference::ReferenceTrainer;
use gpulstm::train::{run, Protocol, RunSpec, Trainer};

#[test]
fn the_divergence_rule() {
    let ok = EpochLoss {
        train: 0.01,
        val: 0.5,
    };
    assert!(!ok.diverged());
    for bad in [
        EpochLoss {
            train: f64::NAN,
            val: 0.5,
        },
        EpochLoss {
            train: 0.01,
            val: f64::INFINITY,
        },
        EpochLoss {
            train: 0.01,
            val: DIVERGED_VAL_LOSS * 1.01,
        },
    ] {
        assert!(bad.diverged(), "{bad:?}");
    }
}

fn with_lr(lr: f64, protocol: Protocol, splits: usize) -> RunSpec {
    let mut s = spec(protocol, splits);
    s.hyper.adam.lr = lr;
    s.ensemble_last = 2;
    s
}

/// `stops_at_once`: every backend stops a fit at its diverged epoch (the GPU in its early-stopping
/// kernel).
fn check_all_diverged(trainer: &mut dyn Trainer, stops_at_once: bool) {
    let series = load_sample(&LoadOptions::default()).expect("sample");
    let s = with_lr(10.0, Protocol::WalkForward, 4);
    let quiet = |_: gpulstm::train::Progress| {};
    let result = run(&series, &s, trainer, &quiet).expect("a run with diverging models completes");
    for o in &result.splits {
        assert!(
            o.diverged,
            "split {} not marked diverged: {:?}",
            o.split.index, o.history
        );
        if stops_at_once {
            let epochs = o.history.len();
            assert_eq!(
                epochs, 1,
                "split {}: a diverged fit stops at once",
                o.split.index
            );
        }
    }
    assert!(result.forecast_models.is_empty() && result.forecast.members.is_empty());
    let config = RunConfig {
        spec: s,
        init_weights: None,
        notes: vec![],
        scoring: Default::default(),
        intervals: None,
    };
    let eval = evaluate(&series, &config, &result).expect("evaluation");
    assert_eq!(eval.pooled.diverged_excluded, 4);
    assert_eq!(eval.pooled.predictions, 0);
    assert!(eval.splits.iter().all(|s| s.diverged));
    assert!(
        eval.forecast
            .warnings
            .iter()
            .any(|w| w.contains("no forecast")),
        "{:?}",
        eval.forecast.warnings
    );
}

#[test]
fn lr_10_diverges_on_the_reference_and_is_excluded() {
    check_all_diverged(&mut ReferenceTrainer, true);
}

#[test]
fn lr_10_diverges_on_the_cpu_engine_and_is_excluded() {
    check_all_diverged(&mut CpuTrainer::new(), true);
}

#[test]
fn lr_10_diverges_on_the_gpu_and_is_excluded() {
    let Some(_) = common::gpu_or_skip("lr_10_diverges_on_the_gpu_and_is_excluded") else {
        return;
    };
    let adapter = std::env::var("GPULSTM_ADAPTER").ok();
    let mut gpu = gpulstm::train::gpu::GpuTrainer::new(adapter.as_deref()).expect("adapter");
    check_all_diverged(&mut gpu, true);
}

#[test]
fn sound_models_are_not_marked() {
    let series = load_sample(&LoadOptions::default()).expect("sample");
    let s = with_lr(0.001, Protocol::WalkForward, 4);
    let quiet = |_: gpulstm::train::Progress| {};
    let result = run(&series, &s, &mut CpuTrainer::new(), &quiet).expect("run");
    assert!(result.splits.iter().all(|o| !o.diverged));
    assert_eq!(result.forecast.members.len(), 2);
    let config = RunConfig {
        spec: s,
        init_weights: None,
        notes: vec![],
        scoring: Default::default(),
        intervals: None,
    };
    let eval = evaluate(&series, &config, &result).expect("evaluation");
    assert_eq!(eval.pooled.diverged_excluded, 0);
    assert!(
        eval.forecast.warnings.is_empty(),
        "{:?}",
        eval.forecast.warnings
    );
}
