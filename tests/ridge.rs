//! The ridge baseline's closed form (centred, Cholesky) against a direct solve in f64 of the
//! uncentred normal equations with the intercept as an unpenalised last column, by Gaussian
//! elimination with partial pivoting; and the first-order condition of the ridge objective.

use gpulstm::ridge::Ridge;

/// A deterministic pseudo-random stream in [−1, 1).
fn stream(seed: u64) -> impl FnMut() -> f64 {
    let mut s = seed;
    move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

/// Solves `a z = b` (`a` is `[m][m]`) by Gaussian elimination with partial pivoting.
fn gauss(mut a: Vec<f64>, mut b: Vec<f64>, m: usize) -> Vec<f64> {
    for col in 0..m {
        let piv = (col..m)
            .max_by(|&i, &j| a[i * m + col].abs().total_cmp(&a[j * m + col].abs()))
            .unwrap();
        for k in 0..m {
            a.swap(col * m + k, piv * m + k);
        }
        b.swap(col, piv);
        for r in col + 1..m {
            let f = a[r * m + col] / a[col * m + col];
            for k in col..m {
                a[r * m + k] -= f * a[col * m + k];
            }
            b[r] -= f * b[col];
        }
    }
    let mut z = vec![0.0; m];
    for r in (0..m).rev() {
        let s: f64 = (r + 1..m).map(|k| a[r * m + k] * z[k]).sum();
        z[r] = (b[r] - s) / a[r * m + r];
    }
    z
}

/// `[β; b]` from `[XᵀX + λD, Xᵀ1; 1ᵀX, n] [β; b] = [Xᵀy; 1ᵀy]` with `D = I` on β only.
fn direct(x: &[f64], y: &[f64], p: usize, lambda: f64) -> Vec<f64> {
    let m = p + 1;
    let col = |i: usize, j: usize| if j == p { 1.0 } else { x[i * p + j] };
    let mut a = vec![0.0; m * m];
    let mut b = vec![0.0; m];
    for (i, &yi) in y.iter().enumerate() {
        for j in 0..m {
            b[j] += col(i, j) * yi;
            for k in 0..m {
                a[j * m + k] += col(i, j) * col(i, k);
            }
        }
    }
    for j in 0..p {
        a[j * m + j] += lambda;
    }
    gauss(a, b, m)
}

fn problem(n: usize, p: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut r = stream(seed);
    let x: Vec<f64> = (0..n * p).map(|_| r() + 0.3).collect();
    let w: Vec<f64> = (0..p).map(|_| r()).collect();
    let y = (0..n)
        .map(|i| 0.7 + (0..p).map(|j| x[i * p + j] * w[j]).sum::<f64>() + 0.1 * r())
        .collect();
    (x, y)
}

#[test]
fn closed_form_matches_a_direct_solve() {
    // Over- and under-determined (more inputs than rows, as 60 × 5 look-back inputs for 200 samples).
    for (n, p, lambda, seed) in [
        (50, 7, 0.5, 1),
        (30, 45, 1.0, 2),
        (200, 20, 1e-3, 3),
        (12, 3, 0.0, 4),
    ] {
        let (x, y) = problem(n, p, seed);
        let fit = Ridge::fit(&x, &y, p, lambda).expect("fit");
        let z = direct(&x, &y, p, lambda);
        let worst = fit
            .coef
            .iter()
            .chain(std::iter::once(&fit.intercept))
            .zip(&z)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        // Both are f64 solves of a system with condition number ≲ 1e4 here: agreement to ~1e-10.
        assert!(
            worst < 1e-9,
            "n {n} p {p} λ {lambda}: largest difference {worst:e}"
        );

        // The gradient of Σ(y − b − xβ)² + λ‖β‖² vanishes at the solution.
        let resid: Vec<f64> = (0..n)
            .map(|i| y[i] - fit.predict(&x[i * p..(i + 1) * p]))
            .collect();
        let db: f64 = resid.iter().sum();
        assert!(db.abs() < 1e-9, "intercept gradient {db:e}");
        for j in 0..p {
            let g = -2.0 * (0..n).map(|i| x[i * p + j] * resid[i]).sum::<f64>()
                + 2.0 * lambda * fit.coef[j];
            assert!(g.abs() < 1e-8, "coefficient {j} gradient {g:e}");
        }
    }
}

#[test]
fn singular_problems_are_reported_not_solved() {
    // Two equal columns and no penalty.
    let x = vec![1.0, 1.0, 2.0, 2.0, 3.0, 3.0];
    let err = Ridge::fit(&x, &[1.0, 2.0, 3.0], 2, 0.0).unwrap_err();
    assert!(err.to_string().contains("singular"), "{err}");
    assert!(Ridge::fit(&x, &[1.0, 2.0, 3.0], 2, 0.1).is_ok());
}
