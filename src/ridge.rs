//! Ridge regression in closed form, f64: the linear baseline every split's LSTM is scored beside.
//!
//! Minimises `Σ (y − b − x·β)² + λ‖β‖²` (the intercept `b` is not penalised, as sklearn's `Ridge`):
//! with the columns and `y` centred on their training means, `(XcᵀXc + λI) β = Xcᵀyc` is solved by a
//! Cholesky factorisation and `b = ȳ − x̄·β`. `tests/ridge.rs` checks it against a direct solve of the
//! uncentred normal equations with the intercept as an unpenalised column.

/// A fitted ridge model.
#[derive(Debug, Clone, PartialEq)]
pub struct Ridge {
    pub coef: Vec<f64>,
    pub intercept: f64,
}

/// Why a fit failed (only a non-positive λ with collinear inputs, or non-finite data).
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("ridge: {0}")]
pub struct RidgeError(pub String);

impl Ridge {
    /// Fits `n` rows of `x` (`[n][p]`, row-major) to `y` with penalty `lambda` ≥ 0.
    pub fn fit(x: &[f64], y: &[f64], p: usize, lambda: f64) -> Result<Ridge, RidgeError> {
        let n = y.len();
        if n == 0 || x.len() != n * p {
            return Err(RidgeError(format!(
                "{} inputs for {n} rows of {p} columns",
                x.len()
            )));
        }
        let x_mean: Vec<f64> = (0..p)
            .map(|j| (0..n).map(|i| x[i * p + j]).sum::<f64>() / n as f64)
            .collect();
        let y_mean = y.iter().sum::<f64>() / n as f64;
        // Normal equations of the centred problem: a = XcᵀXc + λI (upper triangle), rhs = Xcᵀyc.
        let mut a = vec![0.0; p * p];
        let mut rhs = vec![0.0; p];
        let mut row = vec![0.0; p];
        for i in 0..n {
            for j in 0..p {
                row[j] = x[i * p + j] - x_mean[j];
            }
            let yc = y[i] - y_mean;
            for j in 0..p {
                let rj = row[j];
                rhs[j] += rj * yc;
                for (k, &rk) in row.iter().enumerate().skip(j) {
                    a[j * p + k] += rj * rk;
                }
            }
        }
        for j in 0..p {
            a[j * p + j] += lambda;
        }
        let coef = cholesky_solve(&mut a, &mut rhs, p)?;
        let intercept = y_mean - x_mean.iter().zip(&coef).map(|(m, c)| m * c).sum::<f64>();
        Ok(Ridge { coef, intercept })
    }

    /// The prediction for one row of inputs.
    pub fn predict(&self, row: &[f64]) -> f64 {
        self.intercept + row.iter().zip(&self.coef).map(|(x, c)| x * c).sum::<f64>()
    }
}

/// Solves `a z = rhs` for symmetric positive definite `a` (upper triangle given, overwritten by the
/// factor); `rhs` is overwritten too.
fn cholesky_solve(a: &mut [f64], rhs: &mut [f64], p: usize) -> Result<Vec<f64>, RidgeError> {
    // a = Uᵀ U, U upper triangular, stored in a's upper triangle.
    for j in 0..p {
        let diagonal = a[j * p + j];
        let mut d = diagonal;
        for k in 0..j {
            d -= a[k * p + j] * a[k * p + j];
        }
        // What is left of the pivot after the columns before it: rounding leaves ~1e-16 of it where
        // the column is a combination of them.
        if !d.is_finite() || d <= 1e-12 * diagonal {
            return Err(RidgeError(format!(
                "the normal equations are singular or not finite at column {j} (collinear inputs \
                 with --ridge-lambda 0?)"
            )));
        }
        let d = d.sqrt();
        a[j * p + j] = d;
        for c in j + 1..p {
            let mut v = a[j * p + c];
            for k in 0..j {
                v -= a[k * p + j] * a[k * p + c];
            }
            a[j * p + c] = v / d;
        }
    }
    // Uᵀ w = rhs, then U z = w.
    for j in 0..p {
        let mut v = rhs[j];
        for k in 0..j {
            v -= a[k * p + j] * rhs[k];
        }
        rhs[j] = v / a[j * p + j];
    }
    for j in (0..p).rev() {
        let mut v = rhs[j];
        for k in j + 1..p {
            v -= a[j * p + k] * rhs[k];
        }
        rhs[j] = v / a[j * p + j];
    }
    Ok(rhs.to_vec())
}
