//! Every WGSL kernel family against its CPU twin on the wgpu adapter (lavapipe in CI), at random shapes: two
//! pinned seeds and one drawn now (printed, so a failure can be replayed with `gpulstm check --seed N`).
//! The checks and their tolerances live beside each kernel (src/gpu/kernels/), where each tolerance is
//! justified; `gpulstm check` runs the same.

mod common;

use gpulstm::check_problem::Problem;
use gpulstm::fit::AdamConfig;
use gpulstm::gpu::check;
use gpulstm::gpu::compare::CheckResult;
use gpulstm::gpu::engine::{BatchEngine, EngineShape, Optim};
use gpulstm::gpu::tiles::Tiles;
use gpulstm::model::{ModelSpec, ParamLayout, DEFAULT_LAYERS};

fn assert_all_pass(results: &[CheckResult]) {
    assert!(!results.is_empty(), "no checks ran");
    let mut failed = 0;
    for r in results {
        eprintln!(
            "{:<5} {:<28} {:<70} max_abs {:.3e} max_rel {:.3e} (atol {:.1e}, rtol {:.1e})",
            if r.pass { "ok" } else { "FAIL" },
            r.kernel,
            r.what,
            r.max_abs,
            r.max_rel,
            r.abs_tol,
            r.rel_tol
        );
        if !r.pass {
            failed += 1;
        }
    }
    assert_eq!(
        failed,
        0,
        "{failed} of {} kernel checks failed",
        results.len()
    );
}

/// Two pinned shape seeds and one fresh one.
fn seeds() -> [u64; 3] {
    let fresh = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64 % 1_000_000)
        .unwrap_or(3);
    [1, 2, fresh]
}

#[test]
fn every_kernel_family_matches_its_cpu_twin() {
    let Some(gpu) = common::gpu_or_skip("every_kernel_family_matches_its_cpu_twin") else {
        return;
    };
    for seed in seeds() {
        for (family, twin, run) in check::kernel_checks() {
            eprintln!("{family} against {twin}, shape seed {seed}");
            assert_all_pass(&run(&gpu, seed).expect("kernel check ran"));
        }
    }
}

#[test]
fn training_step_matches_reference() {
    let Some(gpu) = common::gpu_or_skip("training_step_matches_reference") else {
        return;
    };
    let [a, b, fresh] = seeds();
    let problems = [
        Problem::small(),
        Problem::random(a),
        Problem::random(b),
        Problem::random(fresh),
    ];
    for (pb, seed) in problems.iter().zip(["small", "1", "2", &fresh.to_string()]) {
        eprintln!("shape seed {seed}: {}", pb.describe());
        let results = check::check_training_step(&gpu, pb).expect("training step check ran");
        // 3 models × (shuffle, adam, and at 2 steps: 2 gather, 6 lstm, 2 dropout, 2 dense, loss, 10 gradients).
        assert_eq!(results.len(), 3 * (2 + 2 * 23));
        assert_all_pass(&results);
    }
}

#[test]
fn three_epochs_match_reference() {
    let Some(gpu) = common::gpu_or_skip("three_epochs_match_reference") else {
        return;
    };
    for pb in [Problem::small(), Problem::random(seeds()[0])] {
        eprintln!("shapes: {}", pb.describe());
        let results = check::check_fit(&gpu, &pb, 3).expect("fit check ran");
        assert_eq!(results.len(), 3 * 3);
        assert_all_pass(&results);
    }
}

/// The recurrence and the BPTT loop over time inside one dispatch each, so a step is the same list of
/// dispatches whatever the look-back.
#[test]
fn dispatches_per_step_do_not_depend_on_the_lookback() {
    let Some(gpu) = common::gpu_or_skip("dispatches_per_step_do_not_depend_on_the_lookback") else {
        return;
    };
    let layout = ParamLayout::new(&ModelSpec::parse(DEFAULT_LAYERS, 5).expect("spec"));
    let optim = Optim {
        adam: AdamConfig::default(),
        patience: 5,
        stopping: gpulstm::fit::EarlyStopRule::Keras37,
    };
    let tiles = Tiles::defaults(&gpu);
    let series = vec![1.0f32; 200 * 5];
    let target = vec![1.0f32; 200];
    let count = |lookback: usize| {
        let shape = EngineShape {
            models: 2,
            batch: 10,
            lookback,
            features: 5,
            max_train_len: 50,
            max_eval_len: 50,
            epochs: 1,
        };
        let engine = BatchEngine::new(&gpu, &layout, shape, &optim, &tiles, (&series, &target))
            .expect("engine");
        let labels: Vec<String> = engine
            .step_launches()
            .iter()
            .map(|l| l.label.clone())
            .collect();
        eprintln!("look-back {lookback}: {} dispatches per step", labels.len());
        labels
    };
    let (short, long) = (count(5), count(60));
    assert_eq!(short, long);
    // The report's model (2 LSTMs, 2 dropouts, 2 dense layers): batch set-up and gather, 8 forward
    // dispatches, the loss, 15 backward dispatches, Adam.
    assert_eq!(short.len(), 27, "{short:?}");
}
