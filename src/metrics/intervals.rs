//! Walk-forward conformal prediction intervals and the scores of interval and quantile forecasts.
//!
//! Each rolling split `s` has a validation window of series days `[val_start_s, val_end_s)` with one
//! forecast and one actual per day (dollars). The interval of split `s` at level `L` is
//! `forecast ± h_s(L)`, where `h_s(L)` is a split-conformal quantile of the absolute validation errors
//! of earlier splits only:
//!
//! - eligible splits are the earlier splits whose validation windows ENDED before split `s`'s window
//!   BEGINS (`val_end_j <= val_start_s`), so no day that split `s` is scored on, and no day after it,
//!   feeds its interval (windows of neighbouring splits overlap when the step is shorter than the
//!   window, and those neighbours are skipped);
//! - the `k` most recent eligible splits are pooled (`n` absolute errors in all), a rolling window that
//!   lets the width follow changes in volatility while keeping `n` fixed;
//! - `h_s(L)` is the `⌈(n+1)·L⌉`-th smallest pooled error, the finite-sample conformal quantile: if the
//!   scores of the pool and of the new day are exchangeable, the interval covers with probability at
//!   least `L` (and at most `L + 1/(n+1)` without ties).
//!
//! A split gets `None` when fewer than `k` eligible splits exist (the first splits of a run), and also
//! when `⌈(n+1)·L⌉ > n` for any requested level: the conformal interval at that level is then the
//! whole real line, which no finite half-width can stand for. Callers report how many splits got none.
//!
//! The scores (all means over the days scored, NaN for no days):
//! - coverage: share of actuals inside `[lo, hi]`, bounds included;
//! - mean width `hi − lo`;
//! - Winkler/interval score (Gneiting & Raftery 2007, §6.2) at `alpha = 1 − L`:
//!   `(hi − lo) + 2/alpha·(lo − y)·1{y < lo} + 2/alpha·(y − hi)·1{y > hi}`;
//! - pinball (quantile) loss, mean over days and quantile levels of `ρ_τ(y − q) = (y − q)(τ − 1{y < q})`;
//! - CRPS of a Gaussian `N(mu, sigma)` in closed form, and CRPS approximated by twice the mean pinball
//!   loss over a set of quantile levels (see [`crps_from_quantiles`]).
//!
//! Split pooling counts each (split, day) pair once: overlapping windows score the same calendar day
//! once per split, as each split's forecast comes from a different model.

use std::fmt;

/// The validation window of one split with its forecasts and actuals, one per day of the window.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitValidation {
    /// First validation day (index into the series).
    pub val_start: usize,
    /// One past the last validation day.
    pub val_end: usize,
    pub forecast: Vec<f64>,
    pub actual: Vec<f64>,
}

/// Why intervals or scores could not be computed: every case is a caller's input that has no
/// meaningful answer, reported instead of a panic because levels and data come from the user.
#[derive(Debug, Clone, PartialEq)]
pub enum IntervalError {
    /// A coverage or quantile level outside the open interval (0, 1), or NaN.
    BadLevel { level: f64 },
    /// `k = 0`: a conformal quantile needs at least one calibration split.
    ZeroK,
    /// A split whose validation window has no days.
    EmptyWindow { split: usize },
    /// A split with not exactly one forecast and one actual per validation day.
    WindowLength {
        split: usize,
        days: usize,
        forecasts: usize,
        actuals: usize,
    },
    /// Splits not sorted by both `val_start` and `val_end` (non-decreasing): `split` breaks the order.
    Unsorted { split: usize },
    /// A NaN or infinite forecast or actual in a split.
    NonFiniteSplit { split: usize, day: usize },
    /// A NaN or infinite value at `index` of an input slice.
    NonFinite { index: usize },
    /// Two inputs that must have the same length do not.
    LengthMismatch { expected: usize, got: usize },
    /// An interval with `lo > hi` at `index`.
    CrossedInterval { index: usize },
    /// A negative or non-finite Gaussian standard deviation at `index`.
    BadSigma { index: usize },
}

impl fmt::Display for IntervalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadLevel { level } => write!(f, "level {level} is not strictly between 0 and 1"),
            Self::ZeroK => write!(f, "conformal intervals need k >= 1 calibration splits"),
            Self::EmptyWindow { split } => write!(f, "split {split} has an empty validation window"),
            Self::WindowLength { split, days, forecasts, actuals } => write!(
                f,
                "split {split}: {days} validation days but {forecasts} forecasts and {actuals} actuals"
            ),
            Self::Unsorted { split } => {
                write!(f, "split {split} is out of order (val_start and val_end must not decrease)")
            }
            Self::NonFiniteSplit { split, day } => {
                write!(f, "split {split}, day {day}: forecast or actual is not finite")
            }
            Self::NonFinite { index } => write!(f, "value {index} is not finite"),
            Self::LengthMismatch { expected, got } => {
                write!(f, "expected {expected} values, got {got}")
            }
            Self::CrossedInterval { index } => write!(f, "interval {index} has lo > hi"),
            Self::BadSigma { index } => write!(f, "sigma {index} is negative or not finite"),
        }
    }
}

impl std::error::Error for IntervalError {}

fn check_level(level: f64) -> Result<(), IntervalError> {
    // The negated comparison also rejects NaN.
    if !(level > 0.0 && level < 1.0) {
        return Err(IntervalError::BadLevel { level });
    }
    Ok(())
}

fn check_finite(values: &[f64]) -> Result<(), IntervalError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(IntervalError::NonFinite { index }),
        None => Ok(()),
    }
}

fn check_len(expected: usize, got: usize) -> Result<(), IntervalError> {
    if expected != got {
        return Err(IntervalError::LengthMismatch { expected, got });
    }
    Ok(())
}

/// Checks that every split has a non-empty window with one finite forecast and actual per day, and
/// that the splits are sorted, which makes the eligible splits of each split a prefix of the list.
fn check_splits(splits: &[SplitValidation]) -> Result<(), IntervalError> {
    for (s, split) in splits.iter().enumerate() {
        if split.val_end <= split.val_start {
            return Err(IntervalError::EmptyWindow { split: s });
        }
        let days = split.val_end - split.val_start;
        if split.forecast.len() != days || split.actual.len() != days {
            return Err(IntervalError::WindowLength {
                split: s,
                days,
                forecasts: split.forecast.len(),
                actuals: split.actual.len(),
            });
        }
        let mut pairs = split.forecast.iter().zip(&split.actual);
        if let Some(day) = pairs.position(|(f, a)| !f.is_finite() || !a.is_finite()) {
            return Err(IntervalError::NonFiniteSplit { split: s, day });
        }
        if s > 0 {
            let prev = &splits[s - 1];
            if split.val_start < prev.val_start || split.val_end < prev.val_end {
                return Err(IntervalError::Unsorted { split: s });
            }
        }
    }
    Ok(())
}

/// The 1-based rank `⌈(n+1)·level⌉` of the conformal quantile among `n` scores, or `None` when it
/// exceeds `n` (infinite interval). `level` must be in (0, 1).
///
/// The product is rounded to an integer before the ceiling when it lies within `1e-9·(n+1)` of one:
/// levels are decimals such as 0.7 that binary floating point stores slightly off, and `10 · 0.7`
/// evaluates to `7.000000000000001`, whose plain ceiling (8) would be one rank too far. No practical
/// level has a fractional part of `(n+1)·level` that small.
pub fn conformal_rank(n: usize, level: f64) -> Option<usize> {
    let x = (n as f64 + 1.0) * level;
    let nearest = x.round();
    let x = if (x - nearest).abs() <= 1e-9 * (n as f64 + 1.0) {
        nearest
    } else {
        x
    };
    let rank = x.ceil() as usize;
    if rank > n {
        None
    } else {
        // level > 0 gives x > 0 and so rank >= 1; max(1) only guards a subnormal level.
        Some(rank.max(1))
    }
}

/// The conformal half-widths of one pool at every level, or `None` if any level's rank exceeds the
/// pool size. Sorts the pool in place.
fn pool_half_widths(pool: &mut [f64], levels: &[f64]) -> Option<Vec<f64>> {
    // All values are finite (checked), so total_cmp is the plain numeric order.
    pool.sort_unstable_by(f64::total_cmp);
    levels
        .iter()
        .map(|&level| conformal_rank(pool.len(), level).map(|rank| pool[rank - 1]))
        .collect()
}

/// The conformal half-width of every split at every level: `result[s]` is `Some(widths)` with
/// `widths[i]` the half-width at `levels[i]`, or `None` when split `s` has fewer than `k` eligible
/// splits or an infinite interval at some level (see the module docs for both rules).
///
/// Splits must be sorted so that `val_start` and `val_end` never decrease, each with a non-empty window
/// and one finite forecast and actual per day. The cost is one sort of the `k` pooled windows per
/// split.
pub fn conformal_half_widths(
    splits: &[SplitValidation],
    levels: &[f64],
    k: usize,
) -> Result<Vec<Option<Vec<f64>>>, IntervalError> {
    if k == 0 {
        return Err(IntervalError::ZeroK);
    }
    levels.iter().try_for_each(|&l| check_level(l))?;
    check_splits(splits)?;
    let mut out = Vec::with_capacity(splits.len());
    let mut pool = Vec::new();
    // Number of splits ending at or before the current val_start: a prefix, as both ends are sorted,
    // and it only grows because val_start does not decrease.
    let mut eligible = 0;
    for (s, split) in splits.iter().enumerate() {
        // With non-empty sorted windows no split j >= s can end by val_start_s; the `eligible < s`
        // bound states the no-look-ahead rule anyway rather than leaning on that.
        while eligible < s && splits[eligible].val_end <= split.val_start {
            eligible += 1;
        }
        if eligible < k {
            out.push(None);
            continue;
        }
        pool.clear();
        for j in &splits[eligible - k..eligible] {
            pool.extend(j.actual.iter().zip(&j.forecast).map(|(a, f)| (a - f).abs()));
        }
        out.push(pool_half_widths(&mut pool, levels));
    }
    Ok(out)
}

/// Coverage, mean width and mean Winkler score of intervals at one level over some days.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntervalScores {
    pub days: usize,
    /// Share of actuals in `[lo, hi]`, bounds included.
    pub coverage: f64,
    pub mean_width: f64,
    pub winkler: f64,
}

/// Running sums behind [`IntervalScores`], so that per-split and pooled scores come from the same
/// additions: the pooled sums are the per-split sums added up.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct IntervalSums {
    pub days: usize,
    pub covered: usize,
    pub width_sum: f64,
    pub winkler_sum: f64,
}

impl IntervalSums {
    /// Adds one day: interval `[lo, hi]` at miss rate `alpha = 1 − level`, actual `y`.
    pub fn add(&mut self, lo: f64, hi: f64, y: f64, alpha: f64) {
        self.days += 1;
        self.covered += usize::from(lo <= y && y <= hi);
        self.width_sum += hi - lo;
        self.winkler_sum += winkler(lo, hi, y, alpha);
    }

    pub fn merge(&mut self, other: &IntervalSums) {
        self.days += other.days;
        self.covered += other.covered;
        self.width_sum += other.width_sum;
        self.winkler_sum += other.winkler_sum;
    }

    /// The means (NaN for no days).
    pub fn scores(&self) -> IntervalScores {
        let n = self.days as f64;
        IntervalScores {
            days: self.days,
            coverage: self.covered as f64 / n,
            mean_width: self.width_sum / n,
            winkler: self.winkler_sum / n,
        }
    }
}

/// The Winkler (interval) score of `[lo, hi]` at miss rate `alpha` for actual `y`.
pub fn winkler(lo: f64, hi: f64, y: f64, alpha: f64) -> f64 {
    let mut score = hi - lo;
    if y < lo {
        score += 2.0 / alpha * (lo - y);
    } else if y > hi {
        score += 2.0 / alpha * (y - hi);
    }
    score
}

/// Interval scores of `[lo[i], hi[i]]` against `actual[i]` at coverage level `level` (NaN means for
/// empty inputs). Values must be finite with `lo <= hi`.
pub fn interval_scores(
    lo: &[f64],
    hi: &[f64],
    actual: &[f64],
    level: f64,
) -> Result<IntervalScores, IntervalError> {
    check_level(level)?;
    check_len(actual.len(), lo.len())?;
    check_len(actual.len(), hi.len())?;
    check_finite(lo)?;
    check_finite(hi)?;
    check_finite(actual)?;
    let mut sums = IntervalSums::default();
    for (i, ((&l, &h), &y)) in lo.iter().zip(hi).zip(actual).enumerate() {
        if l > h {
            return Err(IntervalError::CrossedInterval { index: i });
        }
        sums.add(l, h, y, 1.0 - level);
    }
    Ok(sums.scores())
}

/// The scores of the conformal intervals at one level.
#[derive(Debug, Clone, PartialEq)]
pub struct LevelScores {
    pub level: f64,
    /// One entry per split, `None` where the split has no interval.
    pub per_split: Vec<Option<IntervalScores>>,
    /// Over all (split, day) pairs of the splits with an interval.
    pub pooled: IntervalScores,
    /// [`worst_decile_coverage`] of the per-split coverages.
    pub worst_decile_coverage: f64,
    /// How many splits have no interval (too little history, or infinite at some level).
    pub without_interval: usize,
}

/// Scores `forecast ± half_widths[s][i]` against the actuals of every split, one [`LevelScores`] per
/// level, from the output of [`conformal_half_widths`] for the same splits and levels.
pub fn score_conformal(
    splits: &[SplitValidation],
    half_widths: &[Option<Vec<f64>>],
    levels: &[f64],
) -> Result<Vec<LevelScores>, IntervalError> {
    levels.iter().try_for_each(|&l| check_level(l))?;
    check_splits(splits)?;
    check_len(splits.len(), half_widths.len())?;
    let mut out = Vec::with_capacity(levels.len());
    for (i, &level) in levels.iter().enumerate() {
        let mut pooled = IntervalSums::default();
        let mut per_split = Vec::with_capacity(splits.len());
        for (split, widths) in splits.iter().zip(half_widths) {
            let Some(widths) = widths else {
                per_split.push(None);
                continue;
            };
            check_len(levels.len(), widths.len())?;
            let h = widths[i];
            let mut sums = IntervalSums::default();
            for (&f, &y) in split.forecast.iter().zip(&split.actual) {
                sums.add(f - h, f + h, y, 1.0 - level);
            }
            pooled.merge(&sums);
            per_split.push(Some(sums.scores()));
        }
        let coverages: Vec<f64> = per_split.iter().flatten().map(|s| s.coverage).collect();
        out.push(LevelScores {
            level,
            per_split,
            pooled: pooled.scores(),
            worst_decile_coverage: worst_decile_coverage(&coverages),
            without_interval: splits.len() - coverages.len(),
        });
    }
    Ok(out)
}

/// The mean coverage of the `⌈m/10⌉` splits with the lowest coverage among the `m` non-NaN
/// coverages given (NaN entries, splits without days, are skipped); NaN when none is left. Rounding
/// up keeps at least one split in the worst decile of a short run.
pub fn worst_decile_coverage(coverages: &[f64]) -> f64 {
    let mut c: Vec<f64> = coverages.iter().copied().filter(|c| !c.is_nan()).collect();
    if c.is_empty() {
        return f64::NAN;
    }
    c.sort_unstable_by(f64::total_cmp);
    let m = c.len().div_ceil(10);
    c[..m].iter().sum::<f64>() / m as f64
}

/// The pinball loss `ρ_τ(y − q)` of quantile forecast `q` at level `tau` for actual `y`.
pub fn pinball(tau: f64, q: f64, y: f64) -> f64 {
    let d = y - q;
    if d >= 0.0 {
        tau * d
    } else {
        (tau - 1.0) * d
    }
}

/// Mean pinball loss over days and quantile levels: `forecasts[i][d]` is the forecast of day `d` at
/// level `taus[i]`, all of `actual.len()` days (NaN when there are no days or no levels).
pub fn pinball_loss(
    taus: &[f64],
    forecasts: &[&[f64]],
    actual: &[f64],
) -> Result<f64, IntervalError> {
    check_len(taus.len(), forecasts.len())?;
    check_finite(actual)?;
    let mut sum = 0.0;
    for (&tau, q) in taus.iter().zip(forecasts) {
        check_level(tau)?;
        check_len(actual.len(), q.len())?;
        check_finite(q)?;
        sum += q
            .iter()
            .zip(actual)
            .map(|(&q, &y)| pinball(tau, q, y))
            .sum::<f64>();
    }
    Ok(sum / (taus.len() * actual.len()) as f64)
}

/// CRPS approximated from quantile forecasts as twice the mean pinball loss over the levels.
///
/// `CRPS(F, y) = 2 ∫₀¹ ρ_τ(y − F⁻¹(τ)) dτ`, so the mean over levels is a quadrature of that integral:
/// the midpoint rule for evenly spaced levels `(i − ½)/m`, and only a rough figure for a few levels
/// such as 0.1, 0.5, 0.9 (it then scores the quantiles given, not the whole distribution).
pub fn crps_from_quantiles(
    taus: &[f64],
    forecasts: &[&[f64]],
    actual: &[f64],
) -> Result<f64, IntervalError> {
    Ok(2.0 * pinball_loss(taus, forecasts, actual)?)
}

/// `1/√π`.
const FRAC_1_SQRT_PI: f64 = 0.564_189_583_547_756_3;
/// `1/√(2π)`.
const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

/// The error function, within 1.5e-15 relative of scipy's on a 200001-point grid over [−7, 7] (the
/// tests hold it to 1e-13 on fixture points).
///
/// `|x| < 3`: the series `erf(x) = 2/√π·e^{−x²}·Σ 2ⁿx^{2n+1}/(1·3···(2n+1))`, whose terms are all of
/// one sign, so it has no cancellation (unlike the Maclaurin series). `3 <= |x| < 6`: `1 − erfc(|x|)`
/// with erfc from its continued fraction, which converges fast there. `|x| >= 6`: ±1 exactly.
pub fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    let a = x.abs();
    // erfc(6) ≈ 2.2e-17 is under half an ulp of 1, so 1 − erfc is 1.0 from there on; stopping here
    // also keeps infinities out of the continued fraction.
    if a >= 6.0 {
        return 1.0_f64.copysign(x);
    }
    let value = if a < 3.0 {
        erf_series(a)
    } else {
        1.0 - erfc_continued_fraction(a)
    };
    value.copysign(x)
}

fn erf_series(x: f64) -> f64 {
    let x2 = x * x;
    let (mut term, mut sum) = (x, x);
    // Terms grow while 2x² > 2n+1 and then fall faster than geometrically: under 60 terms at x = 3.
    for n in 1..200 {
        term *= 2.0 * x2 / (2 * n + 1) as f64;
        sum += term;
        if term <= 1e-17 * sum {
            break;
        }
    }
    2.0 * FRAC_1_SQRT_PI * (-x2).exp() * sum
}

/// `erfc(x)` for `x >= 3` from `erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))`,
/// evaluated by the modified Lentz method.
fn erfc_continued_fraction(x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut f = x;
    let (mut c, mut d) = (x, 0.0);
    for n in 1..500 {
        let a = n as f64 / 2.0;
        d = x + a * d;
        d = if d.abs() < TINY { 1.0 / TINY } else { 1.0 / d };
        c = x + a / c;
        if c.abs() < TINY {
            c = TINY;
        }
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    (-x * x).exp() * FRAC_1_SQRT_PI / f
}

/// CRPS of the Gaussian forecast `N(mu, sigma²)` for actual `y`:
/// `sigma·[z(2Φ(z) − 1) + 2φ(z) − 1/√π]`, `z = (y − mu)/sigma`, with `2Φ(z) − 1 = erf(z/√2)`.
///
/// `sigma = 0` gives `|y − mu|`, the CRPS of a point forecast (the limit as sigma → 0); a negative or
/// NaN sigma gives NaN.
pub fn crps_gaussian(mu: f64, sigma: f64, y: f64) -> f64 {
    if sigma.is_nan() || sigma < 0.0 {
        return f64::NAN;
    }
    if sigma == 0.0 {
        return (y - mu).abs();
    }
    let z = (y - mu) / sigma;
    let pdf = FRAC_1_SQRT_2PI * (-0.5 * z * z).exp();
    sigma * (z * erf(z * std::f64::consts::FRAC_1_SQRT_2) + 2.0 * pdf - FRAC_1_SQRT_PI)
}

/// Mean Gaussian CRPS over days (NaN for none); `sigma` must be finite and non-negative.
pub fn mean_crps_gaussian(mu: &[f64], sigma: &[f64], actual: &[f64]) -> Result<f64, IntervalError> {
    check_len(actual.len(), mu.len())?;
    check_len(actual.len(), sigma.len())?;
    check_finite(mu)?;
    check_finite(actual)?;
    if let Some(index) = sigma.iter().position(|s| !(s.is_finite() && *s >= 0.0)) {
        return Err(IntervalError::BadSigma { index });
    }
    let sum: f64 = (0..actual.len())
        .map(|i| crps_gaussian(mu[i], sigma[i], actual[i]))
        .sum();
    Ok(sum / actual.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    mod fx {
        include!("../../tests/fixtures/intervals_fixture.rs");
    }

    /// The fixture's numbers come from numpy, which sums in another order (pairwise, 8 lanes) than
    /// these sequential sums; for sums of at most 150 terms of one sign the two orders differ by a
    /// few units of 1e-16 relative, so 1e-12 leaves room without hiding a wrong formula.
    const REL: f64 = 1e-12;

    fn assert_close(got: f64, want: f64, what: &str) {
        let tol = REL * want.abs();
        assert!(
            (got - want).abs() <= tol,
            "{what}: got {got:e}, want {want:e}"
        );
    }

    fn fixture_splits() -> Vec<SplitValidation> {
        (0..fx::N_SPLITS)
            .map(|s| SplitValidation {
                val_start: fx::VAL_START[s],
                val_end: fx::VAL_END[s],
                forecast: fx::FORECAST[s].to_vec(),
                actual: fx::ACTUAL[s].to_vec(),
            })
            .collect()
    }

    fn fixture_half_widths() -> Vec<Option<Vec<f64>>> {
        conformal_half_widths(&fixture_splits(), &fx::LEVELS, fx::K).unwrap()
    }

    #[test]
    fn half_widths_match_fixture_exactly() {
        // The half-widths are pooled errors themselves, `|a − f|` computed as numpy does: bit-equal.
        let hw = fixture_half_widths();
        assert_eq!(hw.len(), fx::N_SPLITS);
        for (s, w) in hw.iter().enumerate() {
            match w {
                None => assert!(!fx::HAS_INTERVAL[s], "split {s} should have an interval"),
                Some(w) => {
                    assert!(fx::HAS_INTERVAL[s], "split {s} should have none");
                    assert_eq!(w.as_slice(), fx::HALF_WIDTH[s].as_slice(), "split {s}");
                }
            }
        }
    }

    #[test]
    fn first_splits_get_none() {
        // Window 5, step 2: split j is eligible for s when 2j + 5 <= 2s, so s has s − 2 eligible
        // splits and needs s >= 10 for k = 8.
        let hw = fixture_half_widths();
        assert!(hw[..10].iter().all(Option::is_none));
        assert!(hw[10..].iter().all(Option::is_some));
    }

    #[test]
    fn interval_scores_match_fixture() {
        let (splits, hw) = (fixture_splits(), fixture_half_widths());
        let scores = score_conformal(&splits, &hw, &fx::LEVELS).unwrap();
        for (i, level) in scores.iter().enumerate() {
            for s in 0..fx::N_SPLITS {
                let Some(sc) = level.per_split[s] else {
                    assert!(!fx::HAS_INTERVAL[s]);
                    continue;
                };
                assert_eq!(sc.days, fx::DAYS);
                // A count over 5: the same division in both.
                assert_eq!(sc.coverage, fx::COVERAGE[s][i], "coverage {s} {i}");
                assert_close(sc.mean_width, fx::WIDTH[s][i], "width");
                assert_close(sc.winkler, fx::WINKLER[s][i], "winkler");
            }
            assert_eq!(level.pooled.days, 150);
            assert_eq!(level.without_interval, 10);
            assert_eq!(level.pooled.coverage, fx::POOLED_COVERAGE[i]);
            assert_close(level.pooled.mean_width, fx::POOLED_WIDTH[i], "pooled width");
            assert_close(
                level.pooled.winkler,
                fx::POOLED_WINKLER[i],
                "pooled winkler",
            );
            assert_close(
                level.worst_decile_coverage,
                fx::WORST_DECILE_COVERAGE[i],
                "worst",
            );
        }
    }

    /// The quantile forecasts of the fixture: `f − h(0.8)`, `f`, `f + h(0.8)` at 0.1, 0.5, 0.9.
    fn quantiles(s: usize, hw: &[f64]) -> [Vec<f64>; 3] {
        let f = &fx::FORECAST[s];
        [
            f.iter().map(|f| f - hw[0]).collect(),
            f.to_vec(),
            f.iter().map(|f| f + hw[0]).collect(),
        ]
    }

    #[test]
    fn pinball_and_crps_match_fixture() {
        let hw = fixture_half_widths();
        let (mut all_q, mut all_y, mut all_mu, mut all_sigma) =
            ([vec![], vec![], vec![]], vec![], vec![], vec![]);
        for (s, w) in hw.iter().enumerate() {
            let Some(w) = w else { continue };
            let q = quantiles(s, w);
            let q_refs: Vec<&[f64]> = q.iter().map(Vec::as_slice).collect();
            let y = &fx::ACTUAL[s];
            let pin = pinball_loss(&fx::TAUS, &q_refs, y).unwrap();
            assert_close(pin, fx::PINBALL[s], "pinball");
            assert_eq!(
                crps_from_quantiles(&fx::TAUS, &q_refs, y).unwrap(),
                2.0 * pin
            );
            let sigma = vec![fx::SIGMA[s]; fx::DAYS];
            let crps = mean_crps_gaussian(&fx::FORECAST[s], &sigma, y).unwrap();
            assert_close(crps, fx::CRPS_GAUSSIAN[s], "crps");
            for (all, q) in all_q.iter_mut().zip(&q) {
                all.extend_from_slice(q);
            }
            all_y.extend_from_slice(y);
            all_mu.extend_from_slice(&fx::FORECAST[s]);
            all_sigma.extend(sigma);
        }
        let q_refs: Vec<&[f64]> = all_q.iter().map(Vec::as_slice).collect();
        let pooled = pinball_loss(&fx::TAUS, &q_refs, &all_y).unwrap();
        assert_close(pooled, fx::POOLED_PINBALL, "pooled pinball");
        let crps = mean_crps_gaussian(&all_mu, &all_sigma, &all_y).unwrap();
        assert_close(crps, fx::POOLED_CRPS_GAUSSIAN, "pooled crps");
    }

    #[test]
    fn erf_matches_scipy_to_1e13() {
        for (&x, &want) in fx::ERF_X.iter().zip(&fx::ERF_Y) {
            let got = erf(x);
            assert!(
                (got - want).abs() <= 1e-13 * want.abs(),
                "erf({x:e}) = {got:e}, want {want:e}"
            );
        }
        assert!(erf(f64::NAN).is_nan());
        assert_eq!(erf(f64::INFINITY), 1.0);
        assert_eq!(erf(f64::NEG_INFINITY), -1.0);
    }

    #[test]
    fn crps_gaussian_matches_scipy_formula() {
        for (&z, &want) in fx::CRPS_Z.iter().zip(&fx::CRPS_Z_Y) {
            // N(0, 1) at z, and the same shifted and scaled: CRPS scales with sigma.
            assert!(
                (crps_gaussian(0.0, 1.0, z) - want).abs() <= 1e-13 * want,
                "z = {z}"
            );
            let scaled = crps_gaussian(10.0, 2.5, 10.0 + 2.5 * z);
            assert!(
                (scaled - 2.5 * want).abs() <= 1e-13 * 2.5 * want,
                "scaled z = {z}"
            );
        }
        assert_eq!(crps_gaussian(1.0, 0.0, 3.5), 2.5);
        assert!(crps_gaussian(1.0, -1.0, 3.5).is_nan());
        assert!(crps_gaussian(1.0, f64::NAN, 3.5).is_nan());
        assert_eq!(
            mean_crps_gaussian(&[0.0], &[-1.0], &[0.0]),
            Err(IntervalError::BadSigma { index: 0 })
        );
    }

    #[test]
    fn crps_from_many_quantiles_approaches_the_exact_crps() {
        // U(0, 1): quantile τ at level τ, CRPS(y) = y³/3 + (1 − y)³/3. Midpoint rule over 1000 levels.
        let m = 1000;
        let taus: Vec<f64> = (0..m).map(|i| (i as f64 + 0.5) / m as f64).collect();
        for y in [0.0, 0.1, 0.37, 0.5, 0.9, 1.0] {
            let q: Vec<Vec<f64>> = taus.iter().map(|&t| vec![t]).collect();
            let q_refs: Vec<&[f64]> = q.iter().map(Vec::as_slice).collect();
            let approx = crps_from_quantiles(&taus, &q_refs, &[y]).unwrap();
            let exact = (y * y * y + (1.0 - y) * (1.0 - y) * (1.0 - y)) / 3.0;
            assert!(
                (approx - exact).abs() < 1e-6,
                "y = {y}: {approx} vs {exact}"
            );
        }
    }

    #[test]
    fn no_look_ahead() {
        // Perturbing every split that is not eligible for s (s itself, all later splits, and the
        // earlier ones whose windows overlap s's) leaves s's half-widths unchanged, bit for bit.
        let splits = fixture_splits();
        let base = fixture_half_widths();
        for s in 0..splits.len() {
            let mut perturbed = splits.clone();
            for (j, split) in perturbed.iter_mut().enumerate() {
                if j >= s || split.val_end > splits[s].val_start {
                    for (d, a) in split.actual.iter_mut().enumerate() {
                        *a += 50.0 * ((j * 7 + d * 3) % 11) as f64 - 200.0;
                    }
                }
            }
            let hw = conformal_half_widths(&perturbed, &fx::LEVELS, fx::K).unwrap();
            assert_eq!(hw[s], base[s], "split {s} saw a split it must not");
        }
        // The test has teeth: perturbing the eligible splits instead changes the widths.
        let mut perturbed = splits.clone();
        for split in perturbed.iter_mut().take(20) {
            split.actual.iter_mut().for_each(|a| *a += 100.0);
        }
        let hw = conformal_half_widths(&perturbed, &fx::LEVELS, fx::K).unwrap();
        assert_ne!(hw[22], base[22]);
    }

    #[test]
    fn infinite_interval_is_none() {
        // k = 1 split of 5 days: n = 5, rank ⌈6·0.95⌉ = 6 > 5 (infinite), ⌈6·0.8⌉ = 5 (the maximum).
        let splits: Vec<SplitValidation> = (0..3)
            .map(|s| SplitValidation {
                val_start: 5 * s,
                val_end: 5 * s + 5,
                forecast: vec![0.0; 5],
                actual: vec![1.0, -2.0, 3.0, -4.0, 5.0],
            })
            .collect();
        let hw = conformal_half_widths(&splits, &[0.8, 0.95], 1).unwrap();
        assert_eq!(hw, vec![None, None, None]);
        let hw = conformal_half_widths(&splits, &[0.8], 1).unwrap();
        assert_eq!(hw, vec![None, Some(vec![5.0]), Some(vec![5.0])]);
        let hw = conformal_half_widths(&splits, &[0.5], 2).unwrap();
        // n = 10, rank ⌈11·0.5⌉ = 6: the 6th smallest of 1,1,2,2,3,3,4,4,5,5.
        assert_eq!(hw, vec![None, None, Some(vec![3.0])]);
    }

    #[test]
    fn conformal_rank_is_exact_for_decimal_levels() {
        assert_eq!(conformal_rank(9, 0.7), Some(7)); // 10·0.7 = 7.000000000000001 in f64
        assert_eq!(conformal_rank(39, 0.8), Some(32));
        assert_eq!(conformal_rank(40, 0.8), Some(33));
        assert_eq!(conformal_rank(19, 0.95), Some(19));
        assert_eq!(conformal_rank(18, 0.95), None);
        assert_eq!(conformal_rank(0, 0.5), None);
        assert_eq!(conformal_rank(1, 1e-12), Some(1));
    }

    /// splitmix64 and Box–Muller: a reproducible normal sample without a crate.
    struct Rng(u64);

    impl Rng {
        fn uniform(&mut self) -> f64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        }

        fn normal(&mut self) -> f64 {
            let u = 1.0 - self.uniform();
            (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * self.uniform()).cos()
        }
    }

    /// `n` splits of `days` days, one split per series day (windows overlap), iid N(0, 1) errors.
    fn iid_splits(n: usize, days: usize, seed: u64) -> Vec<SplitValidation> {
        let mut rng = Rng(seed);
        (0..n)
            .map(|s| SplitValidation {
                val_start: s,
                val_end: s + days,
                forecast: vec![100.0; days],
                actual: (0..days).map(|_| 100.0 + rng.normal()).collect(),
            })
            .collect()
    }

    #[test]
    fn calibrated_on_iid_errors() {
        let levels = [0.8, 0.95];
        let splits = iid_splits(2000, 10, 23);
        let hw = conformal_half_widths(&splits, &levels, 50).unwrap();
        // Split s has s − 9 eligible splits, so the first 59 have none.
        assert_eq!(hw.iter().filter(|h| h.is_none()).count(), 59);
        let scores = score_conformal(&splits, &hw, &levels).unwrap();
        for (level, sc) in levels.iter().zip(&scores) {
            let c = sc.pooled.coverage;
            eprintln!(
                "iid errors, level {level}: pooled coverage {c}, width {}",
                sc.pooled.mean_width
            );
            assert!((c - level).abs() < 0.02, "coverage {c} at {level}");
            // Width of N(0, 1): 2·1.2816 at 0.8, 2·1.96 at 0.95.
            let z = if *level == 0.8 { 1.2816 } else { 1.96 };
            assert!((sc.pooled.mean_width / (2.0 * z) - 1.0).abs() < 0.05);
        }
    }

    #[test]
    fn large_run_takes_milliseconds() {
        // The size of a long run: 989 splits × 10 days, k = 50 (500 pooled errors per split).
        let splits = iid_splits(989, 10, 7);
        let start = std::time::Instant::now();
        let hw = conformal_half_widths(&splits, &[0.8, 0.9, 0.95], 50).unwrap();
        let elapsed = start.elapsed();
        eprintln!("989 splits × 10 days, k = 50: {elapsed:?}");
        assert_eq!(hw.iter().filter(|h| h.is_some()).count(), 989 - 59);
        // Generous for unoptimised builds on a loaded machine; an accidental quadratic scan is far over.
        assert!(elapsed.as_secs_f64() < 2.0, "{elapsed:?}");
    }

    #[test]
    fn bounds_are_inclusive() {
        let sc =
            interval_scores(&[1.0, 1.0, 1.0, 1.0], &[2.0; 4], &[1.0, 2.0, 0.5, 3.0], 0.8).unwrap();
        assert_eq!(sc.coverage, 0.5);
        assert_eq!(sc.mean_width, 1.0);
        // Misses by 0.5 and 1 at alpha = 0.2: penalties 2/0.2·0.5 = 5 and 10.
        let want = (1.0 + 1.0 + (1.0 + 2.0 / (1.0 - 0.8) * 0.5) + (1.0 + 2.0 / (1.0 - 0.8))) / 4.0;
        assert_eq!(sc.winkler, want);
        assert!(interval_scores(&[], &[], &[], 0.8)
            .unwrap()
            .coverage
            .is_nan());
    }

    #[test]
    fn worst_decile_edges() {
        assert!(worst_decile_coverage(&[]).is_nan());
        assert!(worst_decile_coverage(&[f64::NAN]).is_nan());
        assert_eq!(worst_decile_coverage(&[0.7]), 0.7);
        let c: Vec<f64> = (0..11).map(|i| i as f64 / 10.0).collect();
        assert_eq!(worst_decile_coverage(&c), 0.05); // ⌈11/10⌉ = 2 lowest: 0 and 0.1
        assert_eq!(worst_decile_coverage(&[0.9, f64::NAN, 0.5]), 0.5);
    }

    #[test]
    fn pinball_definition() {
        assert_eq!(pinball(0.9, 1.0, 3.0), 0.9 * 2.0);
        assert_eq!(pinball(0.9, 3.0, 1.0), (0.9 - 1.0) * -2.0);
        assert_eq!(pinball(0.5, 2.0, 2.0), 0.0);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let splits = fixture_splits();
        assert_eq!(
            conformal_half_widths(&splits, &[0.8], 0),
            Err(IntervalError::ZeroK)
        );
        for level in [0.0, 1.0, f64::NAN, -0.1] {
            let err = conformal_half_widths(&splits, &[level], 3).unwrap_err();
            assert!(matches!(err, IntervalError::BadLevel { .. }), "{level}");
        }
        let mut bad = splits.clone();
        bad.swap(3, 4);
        assert_eq!(
            conformal_half_widths(&bad, &[0.8], 3),
            Err(IntervalError::Unsorted { split: 4 })
        );
        let mut bad = splits.clone();
        bad[2].actual.pop();
        let err = conformal_half_widths(&bad, &[0.8], 3).unwrap_err();
        assert!(matches!(err, IntervalError::WindowLength { split: 2, .. }));
        let mut bad = splits.clone();
        bad[5].forecast[1] = f64::NAN;
        let err = conformal_half_widths(&bad, &[0.8], 3).unwrap_err();
        assert_eq!(err, IntervalError::NonFiniteSplit { split: 5, day: 1 });
        let mut bad = splits.clone();
        bad[0].val_end = bad[0].val_start;
        let err = conformal_half_widths(&bad, &[0.8], 3).unwrap_err();
        assert_eq!(err, IntervalError::EmptyWindow { split: 0 });
        let err = score_conformal(&splits, &[], &[0.8]).unwrap_err();
        assert!(matches!(err, IntervalError::LengthMismatch { .. }));
        let err = interval_scores(&[2.0], &[1.0], &[1.5], 0.8).unwrap_err();
        assert_eq!(err, IntervalError::CrossedInterval { index: 0 });
        let err = pinball_loss(&[0.5, 0.9], &[&[1.0]], &[1.0]).unwrap_err();
        assert!(matches!(err, IntervalError::LengthMismatch { .. }));
        let err = pinball_loss(&[1.5], &[&[1.0]], &[1.0]).unwrap_err();
        assert!(matches!(err, IntervalError::BadLevel { .. }));
        assert!(!format!("{err}").is_empty());
    }
}
