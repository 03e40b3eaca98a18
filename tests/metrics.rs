//! Metrics against values worked out by hand (with the sklearn / pandas results they must equal).
//!
//! Tolerance: 1e-12 absolute wherever a value is compared with a decimal or a fraction. The inputs are a
//! handful of small numbers, so the rounding error of sums and one division is a few ulps of values of
//! order 1–30 (≈1e-15); 1e-12 leaves a wide margin while still catching any wrong formula, which would be
//! off by far more. Values that are exact in binary are compared with `assert_eq!`.

use approx::assert_abs_diff_eq;
use gpulstm::metrics::{describe, directional_accuracy, regression};

const TOL: f64 = 1e-12;

#[test]
fn regression_metrics_on_the_sklearn_documentation_example() {
    // y = [3, −0.5, 2, 7], ŷ = [2.5, 0, 2, 8] (the example in sklearn's docs for r2_score,
    // explained_variance_score, mean_squared_error, mean_absolute_error).
    // residuals y − ŷ = [0.5, −0.5, 0, −1]
    // MSE = (0.25 + 0.25 + 0 + 1)/4 = 0.375; MAE = (0.5 + 0.5 + 0 + 1)/4 = 0.5; RMSE = √0.375
    // ȳ = 11.5/4 = 2.875; SS_tot = 0.125² + 3.375² + 0.875² + 4.125² = 29.1875; SS_res = 1.5
    // r2 = 1 − 1.5/29.1875 = 1 − 24/467 = 443/467 ≈ 0.948608 (sklearn: 0.948...)
    // residual mean −0.25; Var(res) = (0.75² + 0.25² + 0.25² + 0.75²)/4 = 0.3125; Var(y) = 29.1875/4
    // evs = 1 − 0.3125/7.296875 = 1 − 20/467 = 447/467 ≈ 0.957173 (sklearn: 0.957...)
    let m = regression(&[3.0, -0.5, 2.0, 7.0], &[2.5, 0.0, 2.0, 8.0]);
    assert_eq!(m.mse, 0.375);
    assert_eq!(m.mae, 0.5);
    assert_abs_diff_eq!(m.rmse, 0.375f64.sqrt(), epsilon = TOL);
    assert_abs_diff_eq!(m.r2, 443.0 / 467.0, epsilon = TOL);
    assert_abs_diff_eq!(m.evs, 447.0 / 467.0, epsilon = TOL);
}

#[test]
fn evs_differs_from_r2_when_predictions_are_biased() {
    // y = [1, 2, 3], ŷ = y + 1: residuals all −1.
    // r2 = 1 − 3/2 = −0.5 (SS_res = 3, SS_tot = 2); evs = 1 − 0/(2/3) = 1 (a constant bias is "explained").
    let m = regression(&[1.0, 2.0, 3.0], &[2.0, 3.0, 4.0]);
    assert_eq!(m.mse, 1.0);
    assert_eq!(m.mae, 1.0);
    assert_eq!(m.rmse, 1.0);
    assert_abs_diff_eq!(m.r2, -0.5, epsilon = TOL);
    assert_eq!(m.evs, 1.0);

    // Reversed prediction: residuals [−2, 0, 2]; SS_res = 8, SS_tot = 2 → r2 = −3;
    // Var(res) = 8/3, Var(y) = 2/3 → evs = −3.
    let m = regression(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]);
    assert_abs_diff_eq!(m.mse, 8.0 / 3.0, epsilon = TOL);
    assert_abs_diff_eq!(m.mae, 4.0 / 3.0, epsilon = TOL);
    assert_abs_diff_eq!(m.r2, -3.0, epsilon = TOL);
    assert_abs_diff_eq!(m.evs, -3.0, epsilon = TOL);
}

#[test]
fn constant_actuals_follow_sklearn_force_finite() {
    // Perfect prediction of a constant: both scores 1.0 (sklearn: r2_score([2,2,2],[2,2,2]) == 1.0).
    let m = regression(&[2.0, 2.0, 2.0], &[2.0, 2.0, 2.0]);
    assert_eq!((m.mse, m.r2, m.evs), (0.0, 1.0, 1.0));

    // Off by a constant: SS_tot = 0 and SS_res = 3 → r2 0.0; residual variance 0 → evs 1.0
    // (sklearn returns exactly these with force_finite=True).
    let m = regression(&[2.0, 2.0, 2.0], &[3.0, 3.0, 3.0]);
    assert_eq!((m.mse, m.r2, m.evs), (1.0, 0.0, 1.0));

    // Scattered prediction of a constant: both 0.0. Residuals [1, 0, −1]: MSE 2/3, MAE 2/3.
    let m = regression(&[2.0, 2.0, 2.0], &[1.0, 2.0, 3.0]);
    assert_eq!((m.r2, m.evs), (0.0, 0.0));
    assert_abs_diff_eq!(m.mse, 2.0 / 3.0, epsilon = TOL);

    // A constant that is not exact in binary: the mean of three 0.1s need not be 0.1 to the last bit, and
    // the score must still treat the variance as zero.
    let m = regression(&[0.1, 0.1, 0.1], &[0.1, 0.1, 0.1]);
    assert_eq!((m.r2, m.evs), (1.0, 1.0));
}

#[test]
fn perfect_prediction_of_a_varying_series_scores_one() {
    let y = [217.96, 217.49, 218.54, 225.01];
    let m = regression(&y, &y);
    assert_eq!(
        (m.mse, m.rmse, m.mae, m.r2, m.evs),
        (0.0, 0.0, 0.0, 1.0, 1.0)
    );
}

#[test]
fn empty_input_gives_nan_not_a_panic() {
    let m = regression(&[], &[]);
    assert!(m.mse.is_nan() && m.rmse.is_nan() && m.mae.is_nan() && m.r2.is_nan() && m.evs.is_nan());
    assert!(directional_accuracy(&[], &[], &[]).is_nan());
}

#[test]
fn directional_accuracy_counts_matching_signs_with_zero_as_its_own_sign() {
    // last 10 everywhere.
    // actual moves: +1, −1, 0, +2, 0      → signs +, −, 0, +, 0
    // predicted:    +0.5, −0.5, 0, −1, +1 → signs +, −, 0, −, +
    // matches: yes, yes, yes, no, no → 3/5 = 0.6
    let last = [10.0; 5];
    let actual = [11.0, 9.0, 10.0, 12.0, 10.0];
    let pred = [10.5, 9.5, 10.0, 9.0, 11.0];
    assert_abs_diff_eq!(
        directional_accuracy(&last, &actual, &pred),
        0.6,
        epsilon = TOL
    );
    // A naive "tomorrow = today" forecast predicts no move, so it scores only the days that did not move.
    assert_abs_diff_eq!(
        directional_accuracy(&last, &actual, &last),
        0.4,
        epsilon = TOL
    );
    assert_eq!(directional_accuracy(&[1.0], &[2.0], &[3.0]), 1.0);
}

#[test]
fn describe_matches_pandas_on_small_series() {
    // pd.Series([1, 2, 3, 4]).describe(): count 4, mean 2.5, std √(5/3) ≈ 1.290994, min 1,
    // 25% 1.75 (position 0.75), 50% 2.5 (position 1.5), 75% 3.25 (position 2.25), max 4.
    let d = describe(&[4.0, 1.0, 3.0, 2.0]);
    assert_eq!(d.count, 4);
    assert_eq!(d.mean, 2.5);
    assert_abs_diff_eq!(d.std, (5.0f64 / 3.0).sqrt(), epsilon = TOL);
    assert_eq!(
        (d.min, d.q25, d.q50, d.q75, d.max),
        (1.0, 1.75, 2.5, 3.25, 4.0)
    );

    // Odd count, unsorted, with a NaN (pandas skips it): [0, 5, 10, 15, 20].
    // mean 10; std = √((100 + 25 + 0 + 25 + 100)/4) = √62.5; quartiles fall on elements 1, 2, 3.
    let d = describe(&[10.0, f64::NAN, 0.0, 5.0, 20.0, 15.0]);
    assert_eq!(d.count, 5);
    assert_eq!(d.mean, 10.0);
    assert_abs_diff_eq!(d.std, 62.5f64.sqrt(), epsilon = TOL);
    assert_eq!(
        (d.min, d.q25, d.q50, d.q75, d.max),
        (0.0, 5.0, 10.0, 15.0, 20.0)
    );

    // Two values: positions 0.25, 0.5, 0.75 between 0 and 8 → 2, 4, 6; std = √((16 + 16)/1) = √32.
    let d = describe(&[8.0, 0.0]);
    assert_eq!((d.q25, d.q50, d.q75), (2.0, 4.0, 6.0));
    assert_abs_diff_eq!(d.std, 32.0f64.sqrt(), epsilon = TOL);
}

#[test]
fn describe_edge_cases() {
    // One value: pandas gives std NaN (ddof = 1 divides by 0) and every quantile equal to the value.
    let d = describe(&[7.5]);
    assert_eq!(d.count, 1);
    assert!(d.std.is_nan());
    assert_eq!(
        (d.mean, d.min, d.q25, d.q50, d.q75, d.max),
        (7.5, 7.5, 7.5, 7.5, 7.5, 7.5)
    );

    // Constant series: std exactly 0.
    let d = describe(&[3.0, 3.0, 3.0]);
    assert_eq!((d.std, d.q25, d.q75), (0.0, 3.0, 3.0));

    // Nothing: count 0, the rest NaN (pandas describe of an empty float Series).
    let d = describe(&[]);
    assert_eq!(d.count, 0);
    assert!(
        d.mean.is_nan() && d.std.is_nan() && d.min.is_nan() && d.q50.is_nan() && d.max.is_nan()
    );
}
