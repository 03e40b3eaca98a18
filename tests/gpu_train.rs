//! Whole protocol runs on the GPU backend against the f64 reference backend, on the embedded sample:
//! a walk-forward run of 8 splits (per-split metrics and histories) and a seed-protocol run of 3 splits
//! (one model carried across splits, early-stopping best carried too).
//!
//! Tolerances: `common::runs`.

mod common;

use common::runs::{compare, spec};
use gpulstm::data::{load_sample, LoadOptions, WindowKind};
use gpulstm::fit::EarlyStopRule;
use gpulstm::train::gpu::GpuTrainer;
use gpulstm::train::reference::ReferenceTrainer;
use gpulstm::train::{run, Protocol};

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

/// `--seeds 3` under the seed protocol: three carried models in one engine, each within bounds of the
/// reference's carried model of its seed.
#[test]
fn seed_protocol_with_three_seeds_matches_reference() {
    let Some(_) = common::gpu_or_skip("seed_protocol_with_three_seeds_matches_reference") else {
        return;
    };
    let series = load_sample(&LoadOptions::default()).expect("sample");
    let mut s = spec(Protocol::Seed, 3);
    s.seeds = 3;
    let mut gpu =
        GpuTrainer::new(std::env::var("GPULSTM_ADAPTER").ok().as_deref()).expect("adapter");
    let g = common::runs::seed_runs(&series, &s, &mut gpu);
    let r = common::runs::seed_runs(&series, &s, &mut ReferenceTrainer);
    for (g, r) in g.iter().zip(&r) {
        compare(g, r);
    }
}

/// The early-stopping rules that reset `best` per fit, one of them restoring only on an early stop.
#[test]
fn seed_protocol_under_every_early_stopping_rule_matches_reference() {
    let Some(_) =
        common::gpu_or_skip("seed_protocol_under_every_early_stopping_rule_matches_reference")
    else {
        return;
    };
    let series = load_sample(&LoadOptions::default()).expect("sample");
    let quiet = |_: gpulstm::train::Progress| {};
    let mut gpu =
        GpuTrainer::new(std::env::var("GPULSTM_ADAPTER").ok().as_deref()).expect("adapter");
    for rule in [EarlyStopRule::Keras37, EarlyStopRule::TfKeras2] {
        let mut s = spec(Protocol::Seed, 3);
        s.hyper.stopping = rule;
        let g = run(&series, &s, &mut gpu, &quiet).expect("gpu run");
        let r = run(&series, &s, &mut ReferenceTrainer, &quiet).expect("reference run");
        compare(&g, &r);
    }
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
    assert_eq!(
        g.splits[5].split.train_len - g.splits[0].split.train_len,
        5 * 7
    );
    compare(&g, &c);
}

/// `--target-transform`, `--scaler-kind` and derived `--features` reach the GPU's gather kernel only as
/// other raw values and `(min, 1/range)` pairs: the same fits as the reference.
#[test]
fn transforms_scaler_kinds_and_derived_features_match_reference() {
    let Some(_) =
        common::gpu_or_skip("transforms_scaler_kinds_and_derived_features_match_reference")
    else {
        return;
    };
    use common::runs::{derived_sample, transformed};
    use gpulstm::data::{ScalerKind, TargetTransform};
    let series = derived_sample();
    let quiet = |_: gpulstm::train::Progress| {};
    let mut gpu =
        GpuTrainer::new(std::env::var("GPULSTM_ADAPTER").ok().as_deref()).expect("adapter");
    for (protocol, splits, transform, kind) in [
        (
            Protocol::WalkForward,
            4,
            TargetTransform::LogReturn,
            ScalerKind::Standard,
        ),
        (
            Protocol::WalkForward,
            3,
            TargetTransform::Diff,
            ScalerKind::Robust,
        ),
        (
            Protocol::Seed,
            2,
            TargetTransform::Return,
            ScalerKind::Robust,
        ),
    ] {
        let s = transformed(protocol, splits, transform, kind);
        let g = run(&series, &s, &mut gpu, &quiet).expect("gpu run");
        let r = run(&series, &s, &mut ReferenceTrainer, &quiet).expect("reference run");
        assert_eq!(g.splits.len(), splits, "{transform} {kind}");
        compare(&g, &r);
    }
}
