//! Forecast-comparison tests for sweeps: is one forecast better than another (Diebold–Mariano), and is
//! the best of K configurations better than the naive benchmark once the search over K is accounted for
//! (Hansen's SPA and White's Reality Check)?
//!
//! Checked against numpy/scipy, the `dieboldmariano` package and `arch.bootstrap.SPA` (arch 8.0.0) on the
//! committed fixture made by `tests/fixtures/make_i22_fixtures.py`.
//!
//! # Diebold–Mariano
//! `d_t = e1_t² − e2_t²`, one value per day in time order, `n` days, `d̄` its mean. The long-run variance
//! is the original DM (1995) estimator: the *unweighted* (rectangular) sum
//! `γ₀ + 2 Σ_{j=1..lag} γ_j`, `γ_j = (1/n) Σ_{t>j} (d_t − d̄)(d_{t−j} − d̄)`. DM use `lag = h − 1` for
//! h-step forecasts (an h-step error is at most MA(h−1) under optimal forecasting), so a one-day-ahead
//! sweep uses `lag = 0`: see [`default_dm_lag`]. The statistic `d̄ / √(lrv / n)` is multiplied by the
//! Harvey–Leybourne–Newbold (1997) factor `√((n + 1 − 2h + h(h−1)/n) / n)` and compared with Student's t
//! with `n − 1` degrees of freedom, two-sided. Positive statistic: forecast 2 has the smaller squared
//! errors. The rectangular sum can be negative for `lag > 0`; that, a zero variance (identical
//! forecasts), `n < 2`, `lag ≥ n`, a non-positive HLN factor or non-finite errors give NaN statistic and
//! p-value (never a panic): "no test possible".
//!
//! # SPA and Reality Check
//! `d_{k,t} = L0_t − L_{k,t}` (positive: model k beats the benchmark on day t), means `d̄_k`.
//! - Variance `ω_k²`: arch's non-nested estimator, the kernel implied by the stationary bootstrap
//!   (Politis–Romano 1994; Hansen 2005): `γ₀ + 2 Σ_{i=1..n−1} κ_i γ_i`,
//!   `κ_i = (1 − i/n)(1 − p)^i + (i/n)(1 − p)^{n−i}`, `p = 1 / block_length`, `γ_i` as above.
//! - Hansen's statistic `T = max(0, max_k √n d̄_k / ω_k)`; resample b gives
//!   `T*_b = max(0, max_k √n (d̄*_{k,b} − μ_k) / ω_k)` for three recentrings `μ`: lower `max(d̄_k, 0)`,
//!   consistent `d̄_k` if `d̄_k ≥ −√(ω_k²/n · 2 ln ln n)` else 0, upper `d̄_k`; `p = #{T*_b ≥ T} / B`.
//! - White's Reality Check: `V = √n max_k d̄_k`, `V*_b = √n max_k (d̄*_{k,b} − d̄_k)`, `p = #{V*_b ≥ V}/B`.
//! - `plain`: the lower/consistent/upper p-values without studentizing. These are what arch 8.0.0's
//!   `SPA(...).pvalues` report whatever its `studentize` flag says (its `compute` compares plain means;
//!   the variance only enters the consistent threshold), so `plain.upper` is also `p_reality_check`.
//!
//! "At least as extreme" counts ties (`≥`; arch uses `>`, the same for continuous data) so that a model
//! identical to the benchmark (`d ≡ 0`, T = 0 and every T* = 0) gets p = 1, not 0. A column with `ω_k = 0`
//! (a constant differential c) is studentized to +∞, 0 or −∞ by the sign of its numerator: a model better
//! by c > 0 every day is infinitely significant, an identical one contributes 0.
//!
//! The stationary bootstrap (Politis–Romano) follows arch's `StationaryBootstrap`: `block_length` is the
//! *mean* block length (arch's `block_size`; arch's SPA default is `⌊√n⌋`,
//! [`SpaOptions::arch_default_block_length`]), a block continues with probability `1 − 1/block_length`
//! and wraps around the end. Randomness comes from the caller's `FnMut() -> f64`, uniform in [0, 1):
//! exactly `2n` draws per resample, in the order (start, continue) for day 0, then day 1, ...; `B`
//! resamples in order. So the crate can plug its Philox generator with a counter, e.g.
//! `|| { i += 1; gpulstm::rng::uniform(seed, model, purpose, step, i) }`, and results are reproducible.

use std::fmt;

/// Why a test could not be set up (the caller passed inconsistent arguments). Data that merely make a
/// statistic undefined give NaN fields instead.
#[derive(Debug, Clone, PartialEq)]
pub enum CompareError {
    /// Two series that must be aligned day by day have different lengths.
    LengthMismatch { expected: usize, found: usize },
    /// The forecast horizon must be at least one step.
    ZeroHorizon,
    /// The SPA needs at least one model.
    NoModels,
    /// The bootstrap needs at least one resample.
    ZeroResamples,
    /// The mean block length must be finite and at least 1.
    BadBlockLength(f64),
}

impl fmt::Display for CompareError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LengthMismatch { expected, found } => {
                write!(f, "series of {found} values where {expected} were expected")
            }
            Self::ZeroHorizon => write!(f, "forecast horizon must be at least 1"),
            Self::NoModels => write!(f, "SPA needs at least one model"),
            Self::ZeroResamples => write!(f, "bootstrap needs at least one resample"),
            Self::BadBlockLength(l) => write!(f, "mean block length {l} is not a number >= 1"),
        }
    }
}

impl std::error::Error for CompareError {}

/// A Diebold–Mariano test (with the HLN correction); see the module docs for the definitions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DmTest {
    /// HLN-corrected DM statistic; positive when forecast 2 has the smaller losses. NaN: no test.
    pub statistic: f64,
    /// Two-sided p-value from Student's t with `n − 1` degrees of freedom. NaN: no test.
    pub p_value: f64,
    pub n: usize,
    /// Autocovariance lags in the long-run variance.
    pub lag: usize,
    /// `d̄`, the mean of `e1² − e2²` (NaN for no days).
    pub mean_differential: f64,
}

/// The lag DM prescribe for `horizon`-step forecasts: `h − 1` (0 for one-step-ahead forecasts).
pub fn default_dm_lag(horizon: usize) -> usize {
    horizon.saturating_sub(1)
}

/// DM test of the squared errors `e1` against `e2` (same days, time order).
///
/// # Errors
/// [`CompareError::LengthMismatch`] when the series differ in length, [`CompareError::ZeroHorizon`]
/// for `horizon == 0`. Degenerate data give NaN fields instead (module docs).
pub fn diebold_mariano(
    e1: &[f64],
    e2: &[f64],
    horizon: usize,
    lag: usize,
) -> Result<DmTest, CompareError> {
    if e1.len() != e2.len() {
        return Err(CompareError::LengthMismatch {
            expected: e1.len(),
            found: e2.len(),
        });
    }
    let d: Vec<f64> = e1.iter().zip(e2).map(|(a, b)| a * a - b * b).collect();
    diebold_mariano_differential(&d, horizon, lag)
}

/// DM test of a given loss differential `d_t = loss1_t − loss2_t` (any loss, time order).
///
/// # Errors
/// [`CompareError::ZeroHorizon`] for `horizon == 0`.
pub fn diebold_mariano_differential(
    d: &[f64],
    horizon: usize,
    lag: usize,
) -> Result<DmTest, CompareError> {
    if horizon == 0 {
        return Err(CompareError::ZeroHorizon);
    }
    let n = d.len();
    let mean = mean(d);
    let mut out = DmTest {
        statistic: f64::NAN,
        p_value: f64::NAN,
        n,
        lag,
        mean_differential: mean,
    };
    if n < 2 || lag >= n || !mean.is_finite() {
        return Ok(out);
    }
    let nf = n as f64;
    let lrv = (1..=lag).fold(autocovariance(d, mean, 0), |acc, j| {
        acc + 2.0 * autocovariance(d, mean, j)
    });
    let h = horizon as f64;
    let hln = (nf + 1.0 - 2.0 * h + h * (h - 1.0) / nf) / nf;
    // A non-positive variance (possible with the unweighted sum) or HLN factor leaves no statistic.
    if !(lrv > 0.0 && hln > 0.0) {
        return Ok(out);
    }
    let statistic = hln.sqrt() * mean / (lrv / nf).sqrt();
    out.statistic = statistic;
    out.p_value = student_t_two_sided_p(statistic, nf - 1.0);
    Ok(out)
}

/// Mean of `x` summed in order (NaN when empty). The bootstrap sums resampled values in the same order,
/// which keeps a constant series' resampled mean bit-identical to its mean.
fn mean(x: &[f64]) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    x.iter().sum::<f64>() / x.len() as f64
}

/// `γ_j = (1/n) Σ_{t≥j} (x_t − m)(x_{t−j} − m)`, the biased (divide by n) estimator DM and arch use.
fn autocovariance(x: &[f64], m: f64, j: usize) -> f64 {
    let s: f64 = x[j..].iter().zip(x).map(|(a, b)| (a - m) * (b - m)).sum();
    s / x.len() as f64
}

// ---------------------------------------------------------------------------------------------------
// Student's t through the regularized incomplete beta function.

/// `ln Γ(x)` for `x > 0` by the Lanczos approximation (g = 7, 9 terms; relative error of Γ about 1e-15),
/// with the reflection formula below 1/2.
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + G + 0.5;
    let series = C[1..]
        .iter()
        .enumerate()
        .fold(C[0], |acc, (i, c)| acc + c / (x + i as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + series.ln()
}

/// Continued fraction of `I_x(a, b)` (Abramowitz & Stegun 26.5.8) by the modified Lentz method; `y` is
/// `1 − x`, passed separately so callers can compute it without cancellation. NaN if it fails to
/// converge in 1000 terms (which does not happen for the `x < (a+1)/(a+b+2)` side it is called on).
fn beta_continued_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let clamp = |v: f64| if v.abs() < TINY { TINY } else { v };
    // f = 1 / (1 + d1 / (1 + d2 / (1 + ...))), d_{2m+1} = −(a+m)(a+b+m)x / ((a+2m)(a+2m+1)),
    // d_{2m} = m(b−m)x / ((a+2m−1)(a+2m)).
    let mut c = 1.0;
    let mut d = 1.0 / clamp(1.0 - (a + b) * x / (a + 1.0));
    let mut f = d;
    for m in 1..=1000 {
        let m = f64::from(m);
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        d = 1.0 / clamp(1.0 + even * d);
        c = clamp(1.0 + even / c);
        f *= d * c;
        let odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        d = 1.0 / clamp(1.0 + odd * d);
        c = clamp(1.0 + odd / c);
        let delta = d * c;
        f *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            return f;
        }
    }
    f64::NAN
}

/// Regularized incomplete beta `I_x(a, b)` for `a, b > 0`, with `y = 1 − x` given accurately.
fn inc_beta(x: f64, y: f64, a: f64, b: f64) -> f64 {
    if x.is_nan() || y.is_nan() || !(a > 0.0 && b > 0.0) || x < 0.0 || y < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return 0.0;
    }
    if y == 0.0 {
        return 1.0;
    }
    let ln_front = a * x.ln() + b * y.ln() - (ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b));
    // The fraction converges fast on the side of the mean a/(a+b); the other side uses the symmetry
    // I_x(a, b) = 1 − I_{1−x}(b, a).
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_continued_fraction(x, a, b) / a
    } else {
        1.0 - ln_front.exp() * beta_continued_fraction(y, b, a) / b
    }
}

/// Regularized incomplete beta function `I_x(a, b)` (scipy's `betainc(a, b, x)`); NaN outside
/// `0 ≤ x ≤ 1`, `a, b > 0`.
pub fn regularized_incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    inc_beta(x, 1.0 - x, a, b)
}

/// `P(|T| ≥ |t|)` for T Student's t with `df` degrees of freedom: `I_{df/(df+t²)}(df/2, 1/2)`.
fn student_t_two_sided_p(t: f64, df: f64) -> f64 {
    let t2 = t * t;
    inc_beta(df / (df + t2), t2 / (df + t2), 0.5 * df, 0.5)
}

/// CDF of Student's t with `df > 0` degrees of freedom (NaN for NaN inputs or `df ≤ 0`).
pub fn student_t_cdf(t: f64, df: f64) -> f64 {
    if t.is_infinite() && df > 0.0 {
        return if t > 0.0 { 1.0 } else { 0.0 };
    }
    let tail = 0.5 * student_t_two_sided_p(t, df);
    if t < 0.0 {
        tail
    } else {
        1.0 - tail
    }
}

// ---------------------------------------------------------------------------------------------------
// Stationary bootstrap, SPA and Reality Check.

/// Bootstrap settings of [`spa_test`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpaOptions {
    /// Mean block length of the stationary bootstrap (≥ 1; 1 is the i.i.d. bootstrap). Choose it for the
    /// dependence of the loss differentials; [`SpaOptions::arch_default_block_length`] is arch's default.
    pub block_length: f64,
    /// Number of resamples B (p-values are multiples of 1/B; their Monte-Carlo standard error is
    /// `√(p(1−p)/B)`).
    pub resamples: usize,
}

impl SpaOptions {
    /// arch's default block size when none is given: `⌊√n⌋` (at least 1).
    pub fn arch_default_block_length(n: usize) -> f64 {
        (n as f64).sqrt().floor().max(1.0)
    }
}

/// Lower, consistent and upper p-values (Hansen 2005's three recentrings).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpaPValues {
    pub lower: f64,
    pub consistent: f64,
    pub upper: f64,
}

/// Hansen's SPA test and White's Reality Check of K models against a benchmark; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpaTest {
    /// Hansen's `T = max(0, max_k √n d̄_k / ω_k)`.
    pub statistic: f64,
    pub p_consistent: f64,
    pub p_lower: f64,
    pub p_upper: f64,
    /// White's Reality Check p-value (not studentized; equals `plain.upper`).
    pub p_reality_check: f64,
    /// White's `V = √n max_k d̄_k`.
    pub reality_check_statistic: f64,
    /// The non-studentized p-values, arch 8.0.0's `SPA(...).pvalues`.
    pub plain: SpaPValues,
    /// Resamples used.
    pub b: usize,
    pub block_length: f64,
    /// Days.
    pub n: usize,
    /// Models.
    pub k: usize,
}

/// arch's asymptotic variance of `√n d̄` for the stationary bootstrap with mean block `block_length`
/// (module docs); NaN when `x` is empty.
pub fn stationary_bootstrap_variance(x: &[f64], block_length: f64) -> f64 {
    let n = x.len();
    let m = mean(x);
    if n == 0 {
        return f64::NAN;
    }
    let nf = n as f64;
    let q = 1.0 - 1.0 / block_length;
    (1..n).fold(autocovariance(x, m, 0), |acc, i| {
        let fi = i as f64;
        let kappa = (1.0 - fi / nf) * q.powf(fi) + (fi / nf) * q.powf(nf - fi);
        acc + 2.0 * kappa * autocovariance(x, m, i)
    })
}

/// One stationary-bootstrap resample of the days `0..n` into `out` (cleared first), drawing exactly
/// `2n` uniforms: for each day a start position, then a uniform that continues the block when above
/// `1 / block_length` (day 0 always starts a block), as arch does.
pub fn stationary_bootstrap_indices<R: FnMut() -> f64>(
    n: usize,
    block_length: f64,
    uniform: &mut R,
    out: &mut Vec<usize>,
) {
    out.clear();
    let p = 1.0 / block_length;
    for i in 0..n {
        // A uniform outside [0, 1) from a faulty source is clamped into range rather than trusted
        // (the float-to-int cast saturates, NaN gives 0).
        let start = ((uniform() * n as f64) as usize).min(n - 1);
        let u = uniform();
        let next = match out.last() {
            Some(&prev) if i > 0 && u > p => (prev + 1) % n,
            _ => start,
        };
        out.push(next);
    }
}

/// What the bootstrap needs about each model: its differential, mean, √n/ω and recentring means.
struct SpaColumns {
    diffs: Vec<Vec<f64>>,
    means: Vec<f64>,
    scale: Vec<f64>,
    /// Recentring means per model, for [lower, consistent, upper].
    centre: Vec<[f64; 3]>,
}

fn spa_columns<M: AsRef<[f64]>>(benchmark: &[f64], models: &[M], block_length: f64) -> SpaColumns {
    let nf = benchmark.len() as f64;
    let diffs: Vec<Vec<f64>> = models
        .iter()
        .map(|m| {
            benchmark
                .iter()
                .zip(m.as_ref())
                .map(|(a, b)| a - b)
                .collect()
        })
        .collect();
    let means: Vec<f64> = diffs.iter().map(|d| mean(d)).collect();
    let vars: Vec<f64> = diffs
        .iter()
        .map(|d| stationary_bootstrap_variance(d, block_length).max(0.0))
        .collect();
    let scale = vars.iter().map(|v| nf.sqrt() / v.sqrt()).collect();
    let centre = means
        .iter()
        .zip(&vars)
        .map(|(&m, &v)| {
            // Hansen's threshold: a model further below the benchmark than this is taken as truly
            // worse and not recentred (NaN for n < 3, where ln ln n < 0: then never recentred, as arch).
            let threshold = -(v / nf * 2.0 * nf.ln().ln()).sqrt();
            let consistent = if m >= threshold { m } else { 0.0 };
            [m.max(0.0), consistent, m]
        })
        .collect();
    SpaColumns {
        diffs,
        means,
        scale,
        centre,
    }
}

/// `√n x / ω` as `x · scale`, with `ω = 0` (infinite scale) mapped by the sign of `x` (module docs).
fn studentize(x: f64, scale: f64) -> f64 {
    if scale.is_finite() {
        x * scale
    } else if x > 0.0 {
        f64::INFINITY
    } else if x < 0.0 {
        f64::NEG_INFINITY
    } else {
        0.0
    }
}

/// Hansen's SPA (studentized, three recentrings) and White's Reality Check of `models[k][t]` losses
/// against `benchmark[t]` losses (lower is better; same days, time order), with `options.resamples`
/// stationary-bootstrap resamples drawn from `uniform` (module docs: 2n draws per resample).
///
/// # Errors
/// [`CompareError::NoModels`], [`CompareError::LengthMismatch`] (a model's losses not one per
/// benchmark day), [`CompareError::ZeroResamples`], [`CompareError::BadBlockLength`]. Fewer than 2 days
/// or non-finite losses are not errors: they give NaN statistics and p-values.
pub fn spa_test<M: AsRef<[f64]>, R: FnMut() -> f64>(
    benchmark: &[f64],
    models: &[M],
    options: SpaOptions,
    mut uniform: R,
) -> Result<SpaTest, CompareError> {
    check_spa_arguments(benchmark, models, options)?;
    let (n, k) = (benchmark.len(), models.len());
    let mut out = SpaTest {
        statistic: f64::NAN,
        p_consistent: f64::NAN,
        p_lower: f64::NAN,
        p_upper: f64::NAN,
        p_reality_check: f64::NAN,
        reality_check_statistic: f64::NAN,
        plain: SpaPValues {
            lower: f64::NAN,
            consistent: f64::NAN,
            upper: f64::NAN,
        },
        b: options.resamples,
        block_length: options.block_length,
        n,
        k,
    };
    let finite = benchmark.iter().all(|v| v.is_finite())
        && models
            .iter()
            .all(|m| m.as_ref().iter().all(|v| v.is_finite()));
    if n < 2 || !finite {
        return Ok(out);
    }
    let cols = spa_columns(benchmark, models, options.block_length);
    let max_mean = cols.means.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let statistic = cols
        .means
        .iter()
        .zip(&cols.scale)
        .map(|(&m, &s)| studentize(m, s))
        .fold(0.0, f64::max);
    let (stud, plain) = spa_bootstrap(&cols, statistic, max_mean, options, &mut uniform);
    let b = options.resamples as f64;
    out.statistic = statistic;
    out.reality_check_statistic = (n as f64).sqrt() * max_mean;
    out.p_lower = stud[0] as f64 / b;
    out.p_consistent = stud[1] as f64 / b;
    out.p_upper = stud[2] as f64 / b;
    out.plain = SpaPValues {
        lower: plain[0] as f64 / b,
        consistent: plain[1] as f64 / b,
        upper: plain[2] as f64 / b,
    };
    out.p_reality_check = out.plain.upper;
    Ok(out)
}

fn check_spa_arguments<M: AsRef<[f64]>>(
    benchmark: &[f64],
    models: &[M],
    options: SpaOptions,
) -> Result<(), CompareError> {
    if models.is_empty() {
        return Err(CompareError::NoModels);
    }
    if let Some(m) = models.iter().find(|m| m.as_ref().len() != benchmark.len()) {
        return Err(CompareError::LengthMismatch {
            expected: benchmark.len(),
            found: m.as_ref().len(),
        });
    }
    if options.resamples == 0 {
        return Err(CompareError::ZeroResamples);
    }
    if !(options.block_length.is_finite() && options.block_length >= 1.0) {
        return Err(CompareError::BadBlockLength(options.block_length));
    }
    Ok(())
}

/// Counts, over the resamples, of studentized `T*_b ≥ statistic` and plain `max_k(d̄* − μ) ≥ max_mean`,
/// per recentring [lower, consistent, upper].
fn spa_bootstrap<R: FnMut() -> f64>(
    cols: &SpaColumns,
    statistic: f64,
    max_mean: f64,
    options: SpaOptions,
    uniform: &mut R,
) -> ([usize; 3], [usize; 3]) {
    let n = cols.diffs.first().map_or(0, Vec::len);
    let mut idx = Vec::with_capacity(n);
    let (mut stud_count, mut plain_count) = ([0usize; 3], [0usize; 3]);
    for _ in 0..options.resamples {
        stationary_bootstrap_indices(n, options.block_length, uniform, &mut idx);
        let mut stud_max = [0.0f64; 3];
        let mut plain_max = [f64::NEG_INFINITY; 3];
        for ((d, centre), &scale) in cols.diffs.iter().zip(&cols.centre).zip(&cols.scale) {
            let m_star = idx.iter().map(|&i| d[i]).sum::<f64>() / n as f64;
            for j in 0..3 {
                let x = m_star - centre[j];
                plain_max[j] = plain_max[j].max(x);
                stud_max[j] = stud_max[j].max(studentize(x, scale));
            }
        }
        for j in 0..3 {
            stud_count[j] += usize::from(stud_max[j] >= statistic);
            plain_count[j] += usize::from(plain_max[j] >= max_mean);
        }
    }
    (stud_count, plain_count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(dead_code)]
    mod fixture {
        include!("../../tests/fixtures/compare_tests_fixture.rs");
    }
    use fixture::*;

    /// SplitMix64 as a tiny seeded uniform source for the tests (the crate plugs its Philox stream).
    fn splitmix(seed: u64) -> impl FnMut() -> f64 {
        let mut state = seed;
        move || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (z >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
        }
    }

    fn rel_err(a: f64, b: f64) -> f64 {
        (a - b).abs() / b.abs().max(f64::MIN_POSITIVE)
    }

    fn fixture_models() -> Vec<Vec<f64>> {
        SPA_MODELS.iter().map(|m| m.to_vec()).collect()
    }

    /// Monte-Carlo bound between our p (B resamples) and a reference from `b_ref` resamples: 4 standard
    /// errors of the difference of two independent estimates, plus 0.01 of slack for p near 0 or 1.
    fn mc_bound(p_ref: f64, b: usize, b_ref: usize) -> f64 {
        4.0 * (p_ref * (1.0 - p_ref) * (1.0 / b as f64 + 1.0 / b_ref as f64)).sqrt() + 0.01
    }

    // The DM statistic is a handful of sums of 250 terms, so summation order moves it by ~1e-15
    // relative; the p-value comes from the incomplete beta (about 1e-14 relative). 1e-9 leaves room for
    // platform libm differences while still catching any formula change (the HLN factor alone is ~1e-3).
    #[test]
    fn dm_matches_numpy_scipy_fixture() {
        for &(h, lag, stat, p, dbar) in DM_CASES.iter() {
            let r = diebold_mariano(&DM_E1, &DM_E2, h, lag).unwrap();
            assert_eq!((r.n, r.lag), (DM_E1.len(), lag));
            assert!(
                rel_err(r.statistic, stat) < 1e-9,
                "h={h} lag={lag}: {r:?} vs {stat}"
            );
            assert!(
                rel_err(r.p_value, p) < 1e-9,
                "h={h} lag={lag}: {r:?} vs {p}"
            );
            assert!(rel_err(r.mean_differential, dbar) < 1e-12);
        }
    }

    #[test]
    fn dm_degenerate_inputs_give_nan_not_panics() {
        let same = diebold_mariano(&DM_E1, &DM_E1, 1, 0).unwrap();
        assert!(same.statistic.is_nan() && same.p_value.is_nan());
        assert_eq!(same.mean_differential, 0.0);
        let one = diebold_mariano(&[1.0], &[2.0], 1, 0).unwrap();
        assert!(one.statistic.is_nan() && one.p_value.is_nan() && one.mean_differential == -3.0);
        let empty = diebold_mariano(&[], &[], 1, 0).unwrap();
        assert!(empty.statistic.is_nan() && empty.mean_differential.is_nan());
        assert!(diebold_mariano(&[1.0, 2.0], &[1.0, 3.0], 1, 5)
            .unwrap()
            .statistic
            .is_nan());
        assert!(diebold_mariano(&[1.0, f64::NAN], &[1.0, 3.0], 1, 0)
            .unwrap()
            .p_value
            .is_nan());
        assert_eq!(
            diebold_mariano(&[1.0], &[1.0, 2.0], 1, 0),
            Err(CompareError::LengthMismatch {
                expected: 1,
                found: 2
            })
        );
        assert_eq!(
            diebold_mariano(&[1.0], &[1.0], 0, 0),
            Err(CompareError::ZeroHorizon)
        );
        assert_eq!(default_dm_lag(1), 0);
        assert_eq!(default_dm_lag(5), 4);
    }

    #[test]
    fn t_cdf_and_incomplete_beta_match_scipy() {
        for &(t, df, cdf) in T_CDF.iter() {
            let ours = student_t_cdf(t, df);
            assert!(rel_err(ours, cdf) < 1e-10, "t={t} df={df}: {ours} vs {cdf}");
        }
        for &(x, a, b, v) in BETAINC.iter() {
            let ours = regularized_incomplete_beta(x, a, b);
            assert!(rel_err(ours, v) < 1e-10, "I_{x}({a},{b}): {ours} vs {v}");
        }
        assert!(student_t_cdf(1.0, 0.0).is_nan() && student_t_cdf(f64::NAN, 3.0).is_nan());
        assert_eq!(student_t_cdf(f64::INFINITY, 3.0), 1.0);
        assert!(regularized_incomplete_beta(1.5, 1.0, 1.0).is_nan());
    }

    // arch's SPA has no statistic attribute: the fixture's statistic is Hansen's T computed by the
    // script from arch's `_loss_diff` means and `_loss_diff_var`, which we also check one by one. They
    // are deterministic sums of at most 250² products, so 1e-10 relative is ample.
    #[test]
    fn spa_statistic_and_variances_match_arch() {
        let models = fixture_models();
        for (k, m) in models.iter().enumerate() {
            let d: Vec<f64> = SPA_BENCHMARK.iter().zip(m).map(|(a, b)| a - b).collect();
            assert!(rel_err(mean(&d), SPA_MEANS[k]) < 1e-12);
            let v = stationary_bootstrap_variance(&d, SPA_BLOCK);
            assert!(rel_err(v, SPA_VARIANCES[k]) < 1e-10, "model {k}: {v}");
        }
        let cols = spa_columns(&SPA_BENCHMARK, &models, SPA_BLOCK);
        for (k, (centre, mean)) in cols.centre.iter().zip(&cols.means).enumerate() {
            // Recentred by its own mean (not 0) exactly when arch counts the model as valid.
            assert_eq!(
                centre[1] == *mean,
                SPA_VALID[k],
                "consistent threshold of model {k}"
            );
        }
        let max_mean = cols.means.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert!(rel_err(max_mean, SPA_MAX_MEAN) < 1e-12);
        let options = SpaOptions {
            block_length: SPA_BLOCK,
            resamples: 10,
        };
        let r = spa_test(&SPA_BENCHMARK, &models, options, splitmix(1)).unwrap();
        assert!(rel_err(r.statistic, SPA_STATISTIC) < 1e-10, "{r:?}");
        assert!(rel_err(r.reality_check_statistic, SPA_RC_STATISTIC) < 1e-10);
        assert_eq!((r.n, r.k, r.b), (SPA_N, SPA_K, 10));
    }

    #[test]
    fn spa_pvalues_match_arch_within_monte_carlo_error() {
        let b = 2000;
        let options = SpaOptions {
            block_length: SPA_BLOCK,
            resamples: b,
        };
        let r = spa_test(&SPA_BENCHMARK, &fixture_models(), options, splitmix(22)).unwrap();
        let ours_plain = [r.plain.lower, r.plain.consistent, r.plain.upper];
        let ours_stud = [r.p_lower, r.p_consistent, r.p_upper];
        for j in 0..3 {
            let (pa, ps) = (SPA_ARCH_PVALUES[j], SPA_STUDENTIZED_PVALUES[j]);
            let bound = mc_bound(pa, b, SPA_ARCH_REPS);
            assert!((ours_plain[j] - pa).abs() < bound, "plain {j}: {r:?}");
            let bound = mc_bound(ps, b, SPA_ARCH_REPS);
            assert!((ours_stud[j] - ps).abs() < bound, "studentized {j}: {r:?}");
        }
        assert_eq!(r.p_reality_check, r.plain.upper);
        // The recentrings are ordered model by model, so the counts are too.
        assert!(r.p_lower <= r.p_consistent && r.p_consistent <= r.p_upper);
        assert!(r.plain.lower <= r.plain.consistent && r.plain.consistent <= r.plain.upper);
    }

    #[test]
    fn spa_is_deterministic_for_a_seed() {
        let options = SpaOptions {
            block_length: 7.5,
            resamples: 300,
        };
        let models = fixture_models();
        let a = spa_test(&SPA_BENCHMARK, &models, options, splitmix(5)).unwrap();
        let b = spa_test(&SPA_BENCHMARK, &models, options, splitmix(5)).unwrap();
        let c = spa_test(&SPA_BENCHMARK, &models, options, splitmix(6)).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.statistic, c.statistic);
        assert_ne!(
            [a.p_lower, a.p_consistent, a.p_upper, a.p_reality_check],
            [c.p_lower, c.p_consistent, c.p_upper, c.p_reality_check]
        );
    }

    #[test]
    fn spa_identical_model_is_not_better_and_a_clearly_better_one_is() {
        let options = SpaOptions {
            block_length: SPA_BLOCK,
            resamples: 1000,
        };
        let naive = SPA_BENCHMARK.to_vec();
        let same = spa_test(&naive, std::slice::from_ref(&naive), options, splitmix(3)).unwrap();
        assert_eq!(same.statistic, 0.0);
        assert_eq!((same.p_consistent, same.p_reality_check), (1.0, 1.0));
        // Identical plus clearly worse models: still nothing beats naive.
        let worse: Vec<f64> = naive.iter().map(|l| l * 1.3 + 0.1).collect();
        let mixed = spa_test(&naive, &[naive.clone(), worse], options, splitmix(3)).unwrap();
        assert!(mixed.p_consistent > 0.9, "{mixed:?}");
        // A model with 20% smaller losses, noisily, among the fixture's models.
        let mut noise = splitmix(9);
        let better: Vec<f64> = naive.iter().map(|l| l * (0.7 + 0.2 * noise())).collect();
        let mut models = fixture_models();
        models.push(better);
        let r = spa_test(&naive, &models, options, splitmix(4)).unwrap();
        assert!(r.p_consistent < 0.05 && r.p_reality_check < 0.05, "{r:?}");
    }

    #[test]
    fn spa_bad_arguments_are_errors_and_degenerate_data_nan() {
        let ok = SpaOptions {
            block_length: 2.0,
            resamples: 5,
        };
        let none: [Vec<f64>; 0] = [];
        let u = || 0.5;
        assert_eq!(spa_test(&[1.0], &none, ok, u), Err(CompareError::NoModels));
        assert!(matches!(
            spa_test(&[1.0, 2.0], &[vec![1.0]], ok, u),
            Err(CompareError::LengthMismatch { .. })
        ));
        let bad = SpaOptions {
            block_length: 0.5,
            ..ok
        };
        assert!(spa_test(&[1.0, 2.0], &[[1.0, 2.0]], bad, u).is_err());
        let zero = SpaOptions { resamples: 0, ..ok };
        assert!(spa_test(&[1.0, 2.0], &[[1.0, 2.0]], zero, u).is_err());
        let short = spa_test(&[1.0], &[[2.0]], ok, u).unwrap();
        assert!(short.statistic.is_nan() && short.p_consistent.is_nan());
        let nan = spa_test(&[1.0, f64::NAN], &[[2.0, 1.0]], ok, u).unwrap();
        assert!(nan.p_reality_check.is_nan());
        // A faulty source returning 1.0 (or NaN) must not index out of range.
        let r = spa_test(&[1.0, 2.0, 3.0], &[[0.5, 2.5, 2.0]], ok, || 1.0).unwrap();
        assert!(r.p_upper.is_finite());
        assert!(spa_test(&[1.0, 2.0, 3.0], &[[0.5, 2.5, 2.0]], ok, || f64::NAN).is_ok());
    }

    #[test]
    fn stationary_bootstrap_blocks_have_the_mean_length() {
        let (n, block) = (1000, 8.0);
        let mut u = splitmix(11);
        let mut idx = Vec::new();
        let mut starts = 0usize;
        for _ in 0..50 {
            stationary_bootstrap_indices(n, block, &mut u, &mut idx);
            assert_eq!(idx.len(), n);
            starts += 1 + idx.windows(2).filter(|w| w[1] != (w[0] + 1) % n).count();
        }
        // 50 000 days, a new block with probability 1/8 (a random start equal to the continuation is
        // rare and ignored): mean block length within a few percent.
        let mean_len = (50 * n) as f64 / starts as f64;
        assert!((mean_len - block).abs() < 0.4, "{mean_len}");
    }
}
