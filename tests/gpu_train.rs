//! Whole protocol runs on the GPU backend against the CPU backend, on the embedded sample:
//! a walk-forward run of 8 splits (per-split metrics and histories) and a seed-protocol run of 3 splits
//! (one model carried across splits, early-stopping best carried too).
//!
//! Tolerance: the GPU trains in f32, the reference in f64; over 3 epochs × 5 Adam steps the weights drift
//! apart slowly; predictions (scaled units, O(1)) were seen to differ by up to ~1e-5. We allow 1e-4
//! absolute + 2e-3 relative: a kernel or protocol bug (wrong window, scaler, shuffle or carried state)
//! moves them by O(10⁻¹).

mod common;

use gpulstm::data::{load_sample, LoadOptions, SplitConfig, SplitRule, WindowKind};
use gpulstm::fit::AdamConfig;
use gpulstm::fit::Hyper;
use gpulstm::model::{ModelSpec, ParamLayout};
use gpulstm::train::gpu::GpuTrainer;
use gpulstm::train::reference::ReferenceTrainer;
use gpulstm::train::{run, Protocol, RunResult, RunSpec, ScalerMode};

fn spec(protocol: Protocol, max_splits: usize) -> RunSpec {
    let layout = ParamLayout::new(
        &ModelSpec::parse(
            "lstm:8:seq,dropout:0.3,lstm:6,dropout:0.2,dense:4,dense:1",
            5,
        )
        .expect("spec"),
    );
    RunSpec {
        protocol,
        layout,
        hyper: Hyper {
            epochs: 3,
            batch_size: 10,
            patience: 2,
            adam: AdamConfig::default(),
            seed: 42,
        },
        splits: SplitConfig {
            lookback: 12,
            train_window: 50,
            val_window: 10,
            step: 7,
            kind: WindowKind::Rolling,
            rule: SplitRule::AllThatFit,
            max_splits: Some(max_splits),
        },
        scaler: if protocol == Protocol::Seed {
            ScalerMode::Global
        } else {
            ScalerMode::Train
        },
        init_weights: None,
        ensemble_last: 3,
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-4 + 2e-3 * b.abs()
}

fn compare(gpu: &RunResult, cpu: &RunResult) {
    assert_eq!(gpu.splits.len(), cpu.splits.len());
    let mut worst = 0.0f64;
    for (g, c) in gpu.splits.iter().zip(&cpu.splits) {
        assert_eq!(g.split.index, c.split.index);
        assert_eq!(
            g.history.len(),
            c.history.len(),
            "split {}: epochs run",
            c.split.index
        );
        assert_eq!(
            g.best_epoch, c.best_epoch,
            "split {}: best epoch",
            c.split.index
        );
        for (gh, ch) in g.history.iter().zip(&c.history) {
            assert!(
                close(gh.train, ch.train) && close(gh.val, ch.val),
                "split {}: history {gh:?} vs {ch:?}",
                c.split.index
            );
        }
        for (gp, cp) in g
            .val_pred
            .iter()
            .chain(&g.train_pred)
            .zip(c.val_pred.iter().chain(&c.train_pred))
        {
            worst = worst.max((gp - cp).abs());
            assert!(
                close(*gp, *cp),
                "split {}: prediction {gp} vs {cp}",
                c.split.index
            );
        }
        assert_eq!(
            g.val_actual, c.val_actual,
            "split {}: targets",
            c.split.index
        );
    }
    assert!(
        close(gpu.forecast.mean, cpu.forecast.mean),
        "forecast {} vs {}",
        gpu.forecast.mean,
        cpu.forecast.mean
    );
    eprintln!("largest prediction difference gpu vs cpu: {worst:.3e} (scaled units)");
}

#[test]
fn walk_forward_8_splits_match_cpu_backend() {
    let Some(_) = common::gpu_or_skip("walk_forward_8_splits_match_cpu_backend") else {
        return;
    };
    let series = load_sample(&LoadOptions::default()).expect("sample");
    let s = spec(Protocol::WalkForward, 8);
    let quiet = |_: gpulstm::train::Progress| {};
    let mut gpu =
        GpuTrainer::new(std::env::var("GPULSTM_ADAPTER").ok().as_deref()).expect("adapter");
    let g = run(&series, &s, &mut gpu, &quiet).expect("gpu run");
    let c = run(&series, &s, &mut ReferenceTrainer, &quiet).expect("cpu run");
    assert_eq!(g.splits.len(), 8);
    compare(&g, &c);
}

#[test]
fn seed_protocol_3_splits_match_cpu_backend() {
    let Some(_) = common::gpu_or_skip("seed_protocol_3_splits_match_cpu_backend") else {
        return;
    };
    let series = load_sample(&LoadOptions::default()).expect("sample");
    let s = spec(Protocol::Seed, 3);
    let quiet = |_: gpulstm::train::Progress| {};
    let mut gpu =
        GpuTrainer::new(std::env::var("GPULSTM_ADAPTER").ok().as_deref()).expect("adapter");
    let g = run(&series, &s, &mut gpu, &quiet).expect("gpu run");
    let c = run(&series, &s, &mut ReferenceTrainer, &quiet).expect("cpu run");
    assert_eq!(g.splits.len(), 3);
    compare(&g, &c);
}

/// Expanding windows: models of one batch have different training lengths (50 … 85 samples here), so
/// some models sit out the last batches of an epoch; each must still match its own CPU fit.
#[test]
fn expanding_windows_match_cpu_backend() {
    let Some(_) = common::gpu_or_skip("expanding_windows_match_cpu_backend") else {
        return;
    };
    let series = load_sample(&LoadOptions::default()).expect("sample");
    let mut s = spec(Protocol::WalkForward, 6);
    s.splits.kind = WindowKind::Expanding;
    let quiet = |_: gpulstm::train::Progress| {};
    let mut gpu =
        GpuTrainer::new(std::env::var("GPULSTM_ADAPTER").ok().as_deref()).expect("adapter");
    let g = run(&series, &s, &mut gpu, &quiet).expect("gpu run");
    let c = run(&series, &s, &mut ReferenceTrainer, &quiet).expect("cpu run");
    assert_eq!(g.splits.len(), 6);
    assert_eq!(g.splits[5].split.train_len, 50 + 5 * 7);
    compare(&g, &c);
}
