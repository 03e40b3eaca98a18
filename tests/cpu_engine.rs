//! The CPU engine against the f64 reference: every op on every SIMD path this CPU has, at random shapes
//! (seeds printed), and whole protocol runs (walk-forward, expanding windows, the seed protocol) with the
//! same epochs run and best epochs and predictions within `common::runs`' bounds.

mod common;

use common::runs::{compare, seed_runs, spec};
use gpulstm::cpu::check::run_all;
use gpulstm::cpu::simd::Isa;
use gpulstm::data::{load_sample, LoadOptions, WindowKind};
use gpulstm::fit::EarlyStopRule;
use gpulstm::reference::train_loop::predict;
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

/// `--seeds 3` under the seed protocol: three carried models trained as one batch, each within bounds
/// of the reference's carried model of its seed, and each bit for bit the CPU engine's one-seed run
/// with that seed (the batch changes nothing about a model).
#[test]
fn seed_protocol_with_three_seeds_matches_the_reference_and_one_seed_runs() {
    let series = load_sample(&LoadOptions::default()).expect("sample");
    let quiet = |_: gpulstm::train::Progress| {};
    let mut s = spec(Protocol::Seed, 3);
    s.seeds = 3;
    let engine = seed_runs(&series, &s, &mut CpuTrainer::new());
    let reference = seed_runs(&series, &s, &mut ReferenceTrainer);
    for (k, (e, r)) in engine.iter().zip(&reference).enumerate() {
        compare(e, r);
        let mut one = spec(Protocol::Seed, 3);
        one.hyper.seed = s.seed_of(k);
        let single = run(&series, &one, &mut CpuTrainer::new(), &quiet).expect("one-seed run");
        for (a, b) in e.splits.iter().zip(&single.splits) {
            assert_eq!(a.seed, one.hyper.seed);
            assert_eq!(
                a.history, b.history,
                "seed {}: split {}",
                a.seed, a.split.index
            );
            assert_eq!((&a.train_pred, &a.val_pred), (&b.train_pred, &b.val_pred));
        }
        assert_eq!(e.forecast.members, single.forecast.members);
    }
    let a = |k: usize| engine[k].splits[0].val_pred.clone();
    assert!(
        a(0) != a(1) && a(1) != a(2),
        "the seeds trained different models"
    );
}

/// The seed protocol scores each split by the model just fitted on it (the report's Tables 2 and 3):
/// the first two splits of a 3-split run are those of the 2-split run, and the 2-split run's last
/// split is scored by its final model (Table 1's), checked by predicting with the final weights.
#[test]
fn seed_protocol_scores_each_split_with_the_model_just_fitted() {
    let series = load_sample(&LoadOptions::default()).expect("sample");
    let quiet = |_: gpulstm::train::Progress| {};
    let long = run(
        &series,
        &spec(Protocol::Seed, 3),
        &mut ReferenceTrainer,
        &quiet,
    )
    .expect("3");
    let s = spec(Protocol::Seed, 2);
    let short = run(&series, &s, &mut ReferenceTrainer, &quiet).expect("2 splits");
    for (a, b) in short.splits.iter().zip(&long.splits) {
        assert_eq!((&a.train_pred, &a.val_pred), (&b.train_pred, &b.val_pred));
    }
    let last = &short.splits[1];
    let kept = &short.forecast_models[0];
    let scaled = kept.scaling.apply(&gpulstm::train::protocol::raw_data(
        &series,
        s.splits.lookback,
        s.target_transform,
    ));
    let w = last.split.windows();
    let predict = |window| predict(&s.layout, &kept.params, &scaled, window);
    assert_eq!(predict(w.train), last.train_pred);
    assert_eq!(predict(w.val), last.val_pred);
    assert_ne!(long.splits[1].val_pred, long.splits[2].val_pred);
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
