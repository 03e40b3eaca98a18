//! Whole protocol runs of an engine against the f64 reference backend: the run spec the tests use and
//! the comparison (same splits, epochs run and best epochs; losses and predictions within bounds).
//!
//! Tolerance: the engines train in f32, the reference in f64; over 3 epochs × 5 Adam steps the weights
//! drift apart slowly; predictions (scaled units, O(1)) were seen to differ by up to ~1e-5. We allow 1e-4
//! absolute + 2e-3 relative: a kernel or protocol bug (wrong window, scaler, shuffle or carried state)
//! moves them by O(10⁻¹).
#![allow(dead_code)] // each test crate uses part of `common`

use gpulstm::data::{SplitConfig, SplitRule, WindowKind};
use gpulstm::fit::AdamConfig;
use gpulstm::fit::Hyper;
use gpulstm::model::{ModelSpec, ParamLayout};
use gpulstm::train::{Protocol, RunResult, RunSpec, ScalerMode};

pub fn spec(protocol: Protocol, max_splits: usize) -> RunSpec {
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
            stopping: protocol.default_stopping(),
        },
        splits: SplitConfig {
            lookback: 12,
            train_window: 50,
            val_window: 10,
            step: 7,
            kind: WindowKind::Rolling,
            rule: SplitRule::AllThatFit,
            max_splits: Some(max_splits),
            last_splits: None,
            target_rows: None,
        },
        scaler: if protocol == Protocol::Seed {
            ScalerMode::Global
        } else {
            ScalerMode::Train
        },
        init_weights: None,
        ensemble_last: 3,
        seeds: 1,
        val_dates: Default::default(),
        scaler_kind: Default::default(),
        target_transform: Default::default(),
        max_models_per_chunk: None,
    }
}

/// Every seed's result of a one-series run of `s` (the seed protocol's carried models, or each
/// walk-forward seed's models), in seed order.
pub fn seed_runs(
    series: &gpulstm::data::Series,
    s: &RunSpec,
    trainer: &mut dyn gpulstm::train::Trainer,
) -> Vec<RunResult> {
    let panel = [gpulstm::data::NamedSeries {
        name: String::new(),
        series: series.clone(),
    }];
    let quiet = |_: gpulstm::train::Progress| {};
    let mut journal = gpulstm::train::protocol::NoJournal;
    let mut result =
        gpulstm::train::run_panel(&panel, s, trainer, &quiet, &mut journal).expect("run");
    assert_eq!(result.series[0].seeds.len(), s.seeds);
    result.series.remove(0).seeds
}

/// The sample with five derived features (as wide as [`spec`]'s model), for the runs that check
/// `--features`, `--target-transform` and `--scaler-kind` on every backend.
pub fn derived_sample() -> gpulstm::data::Series {
    let series = gpulstm::data::load_sample(&Default::default()).expect("sample");
    gpulstm::data::FeatureList::parse(
        "log_return(Close),log(Volume),range(High,Low,Close),rolling_std(log_return(Close),20),day_of_week",
    )
    .expect("features parse")
    .derive(series)
    .expect("features derive")
}

/// `spec` with a target transform and a scaler kind.
pub fn transformed(
    protocol: Protocol,
    max_splits: usize,
    transform: gpulstm::data::TargetTransform,
    kind: gpulstm::data::ScalerKind,
) -> RunSpec {
    RunSpec {
        target_transform: transform,
        scaler_kind: kind,
        ..spec(protocol, max_splits)
    }
}

pub fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-4 + 2e-3 * b.abs()
}

pub fn compare(gpu: &RunResult, cpu: &RunResult) {
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
    eprintln!("largest prediction difference engine vs reference: {worst:.3e} (scaled units)");
}
