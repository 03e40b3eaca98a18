//! Adam (Keras 3 form) against hand-computed steps.
//!
//! Reference values were computed independently with Python's `decimal` module at 40 significant
//! digits from the formulas written out below, so they carry no f64 rounding. The implementation
//! runs in f64 on inputs like 0.1 that are not exact in binary; its results differ from the exact
//! values by a few ulps of O(1) numbers (~1e-16), so 1e-12 leaves four orders of margin while any
//! formula error (a missing bias correction, ε inside the root, β swapped) shows at 1e-7 or more.

use gpulstm::fit::AdamConfig;
use gpulstm::reference::adam::{adam_step, AdamState};

fn assert_close(actual: &[f64], expected: &[f64], what: &str) {
    assert_eq!(actual.len(), expected.len());
    for (k, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!((a - e).abs() < 1e-12, "{what}[{k}]: {a:.17} vs {e:.17}");
    }
}

#[test]
fn default_config_is_keras() {
    let cfg = AdamConfig::default();
    assert_eq!(
        (cfg.lr, cfg.beta1, cfg.beta2, cfg.epsilon),
        (0.001, 0.9, 0.999, 1e-7)
    );
    let state = AdamState::new(3);
    assert_eq!((state.m, state.v, state.t), (vec![0.0; 3], vec![0.0; 3], 0));
}

/// Three steps on w = [1, −0.5, 0.25] with lr .001, β1 .9, β2 .999, ε 1e-7:
///
/// step 1, g = [0.1, −0.2, 0]:
///   m = 0.1·g = [0.01, −0.02, 0];  v = 0.001·g² = [1e-5, 4e-5, 0]
///   α = 0.001·√(1−0.999)/(1−0.9) = 0.01·√0.001 = 3.162277660168379e-4
///   w0 = 1 − α·0.01/(√1e-5 + 1e-7) = 0.9990000316217766
///   w1 = −0.5 + α·0.02/(√4e-5 + 1e-7) = −0.4990000158111383;  w2 unchanged (m = 0)
/// step 2, g = [0.3, 0.05, 0]:
///   m = 0.9·m + 0.1·g = [0.039, −0.013, 0];  v = 0.999·v + 0.001·g² = [9.999e-5, 4.246e-5, 0]
///   α = 0.001·√(1−0.999²)/(1−0.9²) = 2.353167253274543e-4
///   w = [0.9980822596809747, −0.4985305548445241, 0.25]
/// step 3, g = [−0.4, 0.1, 2.0]:
///   m = [−0.0049, −0.0017, 0.2];  v = [2.5989001e-4, 5.241754e-5, 0.004]
///   α = 0.001·√(1−0.999³)/(1−0.9³) = 2.020105974389679e-4
///   w = [0.9981436602995216, −0.4984831220449508, 0.2493611874106529]
#[test]
fn three_steps_match_hand_computation() {
    let cfg = AdamConfig::default();
    let mut w = vec![1.0, -0.5, 0.25];
    let mut state = AdamState::new(3);

    adam_step(&cfg, &mut state, &mut w, &[0.1, -0.2, 0.0]);
    assert_eq!(state.t, 1);
    assert_close(&state.m, &[0.01, -0.02, 0.0], "m1");
    assert_close(&state.v, &[1e-5, 4e-5, 0.0], "v1");
    assert_close(
        &w,
        &[0.999_000_031_621_776_6, -0.499_000_015_811_138_3, 0.25],
        "w1",
    );

    adam_step(&cfg, &mut state, &mut w, &[0.3, 0.05, 0.0]);
    assert_eq!(state.t, 2);
    assert_close(&state.m, &[0.039, -0.013, 0.0], "m2");
    assert_close(&state.v, &[9.999e-5, 4.246e-5, 0.0], "v2");
    assert_close(
        &w,
        &[0.998_082_259_680_974_7, -0.498_530_554_844_524_1, 0.25],
        "w2",
    );

    adam_step(&cfg, &mut state, &mut w, &[-0.4, 0.1, 2.0]);
    assert_eq!(state.t, 3);
    assert_close(&state.m, &[-0.0049, -0.0017, 0.2], "m3");
    assert_close(&state.v, &[2.598_900_1e-4, 5.241_754e-5, 0.004], "v3");
    assert_close(
        &w,
        &[
            0.998_143_660_299_521_6,
            -0.498_483_122_044_950_8,
            0.249_361_187_410_652_9,
        ],
        "w3",
    );
}

/// Adam's first step moves every weight by almost exactly lr against the gradient's sign, whatever
/// the gradient's size: Δ = α·(1−β1)|g| / (√(1−β2)|g| + ε) = lr·|g|/(|g| + ε/√(1−β2)). For |g| = 1
/// that is lr/(1 + 3.16e-6); for |g| = 1e-3, lr/(1 + 3.16e-3). Checked to 1e-15 (f64 rounding of
/// numbers ~1e-3).
#[test]
fn first_step_is_lr_times_sign() {
    let cfg = AdamConfig::default();
    let grads = [1.0, -1e-3, 250.0];
    let mut w = vec![0.0; 3];
    let mut state = AdamState::new(3);
    adam_step(&cfg, &mut state, &mut w, &grads);
    let shrink = cfg.epsilon / (1.0 - cfg.beta2).sqrt();
    for (k, g) in grads.iter().enumerate() {
        let expected = -cfg.lr * g.signum() * g.abs() / (g.abs() + shrink);
        assert!(
            (w[k] - expected).abs() < 1e-15,
            "w[{k}] = {} vs {expected}",
            w[k]
        );
    }
    // The 1e-3 gradient moves its weight by lr/(1+3.16e-3), visibly less than lr: ε matters.
    assert!((w[1] - 0.001 / (1.0 + 0.1 / 1000.0_f64.sqrt())).abs() < 1e-15);
}
