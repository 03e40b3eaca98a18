//! Every WGSL kernel against the CPU reference on the wgpu adapter (lavapipe in CI). The checks and their
//! tolerances live in src/gpu/check.rs, where each tolerance is justified; `gpulstm check` runs the same.

mod common;

use gpulstm::gpu::check::{self, CheckResult, Problem};

fn assert_all_pass(results: &[CheckResult]) {
    assert!(!results.is_empty(), "no checks ran");
    let mut failed = 0;
    for r in results {
        eprintln!(
            "{:<5} {:<28} {:<60} max_abs {:.3e} max_rel {:.3e} (atol {:.1e}, rtol {:.1e})",
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

/// Shape seeds the tests pin (`gpulstm check` draws a fresh one each run and prints it).
const SEEDS: [u64; 2] = [1, 2];

#[test]
fn gemm_matches_reference() {
    let Some(gpu) = common::gpu_or_skip("gemm_matches_reference") else {
        return;
    };
    for seed in SEEDS {
        assert_all_pass(&check::check_gemm(&gpu, seed).expect("gemm check ran"));
    }
}

#[test]
fn bench_probes_match_reference() {
    let Some(gpu) = common::gpu_or_skip("bench_probes_match_reference") else {
        return;
    };
    for seed in SEEDS {
        assert_all_pass(&check::check_bench_probes(&gpu, seed).expect("probe check ran"));
    }
}

#[test]
fn training_step_matches_reference() {
    let Some(gpu) = common::gpu_or_skip("training_step_matches_reference") else {
        return;
    };
    let problems = [
        Problem::small(),
        Problem::random(SEEDS[0]),
        Problem::random(SEEDS[1]),
    ];
    for pb in &problems {
        eprintln!("shapes: {}", pb.describe());
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
    for pb in [Problem::small(), Problem::random(SEEDS[0])] {
        eprintln!("shapes: {}", pb.describe());
        let results = check::check_fit(&gpu, &pb, 3).expect("fit check ran");
        assert_eq!(results.len(), 3 * 3);
        assert_all_pass(&results);
    }
}
