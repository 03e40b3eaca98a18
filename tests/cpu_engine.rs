//! The CPU engine against the f64 reference: every op on every SIMD path this CPU has, at random shapes
//! (seeds printed), and whole protocol runs (walk-forward, expanding windows, the seed protocol) with the
//! same epochs run and best epochs and predictions within `common::runs`' bounds.

mod common;

use common::runs::{compare, spec};
use gpulstm::cpu::check::run_all;
use gpulstm::cpu::simd::Isa;
use gpulstm::data::{load_sample, LoadOptions, WindowKind};
use gpulstm::fit::EarlyStopRule;
use gpulstm::train::cpu::CpuTrainer;
use gpulstm::train::reference::ReferenceTrainer;
use gpulstm::train::{run, Protocol, RunSpec};

fn checks_pass(seed: u64) {
    let results = run_all(seed);
    let failed: Vec<String> = results
        .iter()
        .filter(|r| !r.pass)
        .map(|r| {
            format!(
                "{} {}: max_abs {:.2e} (tol abs {:.0e} rel {:.0e})",
                r.kernel, r.what, r.max_abs, r.abs_tol, r.rel_tol
            )
        })
        .collect();
    eprintln!(
        "seed {seed}: {} op checks on {:?}, {} failed",
        results.len(),
        Isa::available(),
        failed.len()
    );
    assert!(failed.is_empty(), "seed {seed}:\n{}", failed.join("\n"));
}

#[test]
fn every_op_matches_the_reference_at_fixed_seeds() {
    for seed in [1, 2, 3] {
        checks_pass(seed);
    }
}

#[test]
fn every_op_matches_the_reference_at_a_fresh_seed() {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() % 100_000)
        .unwrap_or(0);
    eprintln!("fresh seed {seed} (reproduce with `gpulstm check --seed {seed}`)");
    checks_pass(seed);
}

fn engine_vs_reference(s: &RunSpec, splits: usize) {
    let series = load_sample(&LoadOptions::default()).expect("sample");
    let quiet = |_: gpulstm::train::Progress| {};
    let e = run(&series, s, &mut CpuTrainer::new(), &quiet).expect("engine run");
    let r = run(&series, s, &mut ReferenceTrainer, &quiet).expect("reference run");
    assert_eq!(e.splits.len(), splits);
    compare(&e, &r);
}

#[test]
fn walk_forward_8_splits_match_reference() {
    engine_vs_reference(&spec(Protocol::WalkForward, 8), 8);
}

#[test]
fn seed_protocol_3_splits_match_reference() {
    engine_vs_reference(&spec(Protocol::Seed, 3), 3);
}

/// The early-stopping rules that reset `best` per fit, one of them restoring only on an early stop.
#[test]
fn seed_protocol_under_every_early_stopping_rule_matches_reference() {
    for rule in [EarlyStopRule::Keras37, EarlyStopRule::TfKeras2] {
        let mut s = spec(Protocol::Seed, 3);
        s.hyper.stopping = rule;
        engine_vs_reference(&s, 3);
    }
}

/// Models of one run with different training lengths (50 … 85 samples) share a worker's buffers.
#[test]
fn expanding_windows_match_reference() {
    let mut s = spec(Protocol::WalkForward, 6);
    s.splits.kind = WindowKind::Expanding;
    engine_vs_reference(&s, 6);
}

/// `--target-transform`, `--scaler-kind` and derived `--features` change what the engine reads, not how
/// it trains: every transform and kind, on both protocols, against the reference.
#[test]
fn transforms_scaler_kinds_and_derived_features_match_reference() {
    use common::runs::{derived_sample, transformed};
    use gpulstm::data::{ScalerKind, TargetTransform};
    let series = derived_sample();
    let quiet = |_: gpulstm::train::Progress| {};
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
            Protocol::WalkForward,
            3,
            TargetTransform::Return,
            ScalerKind::MinMax,
        ),
        (
            Protocol::Seed,
            2,
            TargetTransform::LogReturn,
            ScalerKind::Robust,
        ),
    ] {
        let s = transformed(protocol, splits, transform, kind);
        let e = run(&series, &s, &mut CpuTrainer::new(), &quiet).expect("engine run");
        let r = run(&series, &s, &mut ReferenceTrainer, &quiet).expect("reference run");
        assert_eq!(e.splits.len(), splits, "{transform} {kind}");
        assert!(e.splits.iter().all(|o| o.scaling.transform == transform));
        compare(&e, &r);
    }
}
