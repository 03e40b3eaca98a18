//! Regression metrics with sklearn's definitions, directional accuracy, and pandas-style `describe`.
//!
//! Empty inputs give NaN rather than a panic: a split with no samples is a caller's bug that should show
//! up in a report, not abort a long run.

use serde::Serialize;

pub mod compare_tests;
pub mod intervals;
pub mod returns;
pub mod trading;

pub use returns::{return_scores, ReturnScores};

/// sklearn's `mean_squared_error`, its square root, `mean_absolute_error`, `r2_score` and
/// `explained_variance_score`, all with uniform weights.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Regression {
    pub mse: f64,
    pub rmse: f64,
    pub mae: f64,
    pub r2: f64,
    pub evs: f64,
}

/// Metrics of `pred` against `actual` (same length).
///
/// - `r2 = 1 − SS_res / SS_tot`, `SS_res = Σ(y − ŷ)²`, `SS_tot = Σ(y − ȳ)²`.
/// - `evs = 1 − Var(y − ŷ) / Var(y)`, population variances.
///
/// A zero denominator follows sklearn's `force_finite=True`: the score is 1.0 when the numerator is zero
/// as well (nothing left to explain) and 0.0 otherwise. So for constant `y`, r2 is 1.0 only for a perfect
/// prediction, while evs is 1.0 for any prediction off by a constant (its residual variance is zero).
/// "Zero" is decided exactly (all values equal), not from the computed sum, because the mean of n equal
/// values can differ from them in the last bit and leave a spurious 1e-32 denominator.
pub fn regression(actual: &[f64], pred: &[f64]) -> Regression {
    assert_eq!(
        actual.len(),
        pred.len(),
        "regression metrics need one prediction per actual value"
    );
    if actual.is_empty() {
        return Regression {
            mse: f64::NAN,
            rmse: f64::NAN,
            mae: f64::NAN,
            r2: f64::NAN,
            evs: f64::NAN,
        };
    }
    let residuals: Vec<f64> = actual.iter().zip(pred).map(|(y, p)| y - p).collect();
    let mse = mean(residuals.iter().map(|r| r * r));
    let mae = mean(residuals.iter().map(|r| r.abs()));

    let y_mean = mean(actual.iter().copied());
    let ss_tot: f64 = actual.iter().map(|y| (y - y_mean).powi(2)).sum();
    let ss_res: f64 = residuals.iter().map(|r| r * r).sum();
    let r2 = finite_score(
        ss_res,
        ss_tot,
        residuals.iter().all(|&r| r == 0.0),
        all_equal(actual),
    );

    let r_mean = mean(residuals.iter().copied());
    let var_res = mean(residuals.iter().map(|r| (r - r_mean).powi(2)));
    let var_y = mean(actual.iter().map(|y| (y - y_mean).powi(2)));
    let evs = finite_score(var_res, var_y, all_equal(&residuals), all_equal(actual));

    Regression {
        mse,
        rmse: mse.sqrt(),
        mae,
        r2,
        evs,
    }
}

/// `1 − num/den` with sklearn's `force_finite` rule for zero numerator or denominator.
fn finite_score(num: f64, den: f64, num_is_zero: bool, den_is_zero: bool) -> f64 {
    if num.is_nan() || den.is_nan() {
        f64::NAN
    } else if num_is_zero {
        1.0
    } else if den_is_zero {
        0.0
    } else {
        1.0 - num / den
    }
}

/// Share of cases where the predicted move from `last_observed` has the same sign as the actual move.
/// A zero move is its own sign: it matches only a zero move.
pub fn directional_accuracy(last_observed: &[f64], actual: &[f64], pred: &[f64]) -> f64 {
    assert!(
        last_observed.len() == actual.len() && actual.len() == pred.len(),
        "directional accuracy needs equally long slices"
    );
    let hits = last_observed
        .iter()
        .zip(actual.iter().zip(pred))
        .filter(|(&last, (&a, &p))| sign(a - last) == sign(p - last))
        .count();
    hits as f64 / actual.len() as f64
}

/// −1, 0 or +1. Unlike `f64::signum`, zero (of either sign) maps to 0.
fn sign(x: f64) -> i8 {
    if x > 0.0 {
        1
    } else if x < 0.0 {
        -1
    } else {
        0
    }
}

/// pandas `Series.describe()` of a numeric series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Describe {
    pub count: usize,
    pub mean: f64,
    /// Sample standard deviation (ddof = 1); NaN for fewer than 2 values.
    pub std: f64,
    pub min: f64,
    pub q25: f64,
    pub q50: f64,
    pub q75: f64,
    pub max: f64,
}

/// Summary statistics as pandas computes them: NaN values are skipped (pandas' default `skipna`),
/// quantiles interpolate linearly between the two nearest order statistics (numpy's default method).
/// With no values, count is 0 and everything else NaN.
pub fn describe(values: &[f64]) -> Describe {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n == 0 {
        return Describe {
            count: 0,
            mean: f64::NAN,
            std: f64::NAN,
            min: f64::NAN,
            q25: f64::NAN,
            q50: f64::NAN,
            q75: f64::NAN,
            max: f64::NAN,
        };
    }
    let mean = mean(sorted.iter().copied());
    let std = if n < 2 {
        f64::NAN
    } else {
        (sorted.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    };
    Describe {
        count: n,
        mean,
        std,
        min: sorted[0],
        q25: quantile_sorted(&sorted, 0.25),
        q50: quantile_sorted(&sorted, 0.5),
        q75: quantile_sorted(&sorted, 0.75),
        max: sorted[n - 1],
    }
}

/// Linear-interpolation quantile of non-empty ascending `sorted`: position `q·(n − 1)`.
/// The interpolation is written as numpy's `_lerp` writes it (from the upper end when the fraction is at
/// least one half), so results agree with pandas to the last bit for the same position.
fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let below = position.floor();
    let t = position - below;
    let lo = below as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let (a, b) = (sorted[lo], sorted[hi]);
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

fn mean(values: impl ExactSizeIterator<Item = f64>) -> f64 {
    let n = values.len();
    values.sum::<f64>() / n as f64
}

fn all_equal(values: &[f64]) -> bool {
    values.windows(2).all(|w| w[0] == w[1])
}
