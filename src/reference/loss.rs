//! Mean squared error over the rows of a batch (one target per row), as Keras' `mean_squared_error`.

/// `L = Σ_r (ŷ_r − y_r)² / R`.
pub fn mse(pred: &[f64], target: &[f64]) -> f64 {
    assert_eq!(pred.len(), target.len(), "mse: length mismatch");
    assert!(!pred.is_empty(), "mse: empty batch");
    let sum: f64 = pred
        .iter()
        .zip(target)
        .map(|(p, y)| (p - y) * (p - y))
        .sum();
    sum / pred.len() as f64
}

/// `dL/dŷ_r = 2(ŷ_r − y_r)/R`.
pub fn mse_grad(pred: &[f64], target: &[f64]) -> Vec<f64> {
    assert_eq!(pred.len(), target.len(), "mse_grad: length mismatch");
    let rows = pred.len() as f64;
    pred.iter()
        .zip(target)
        .map(|(p, y)| 2.0 * (p - y) / rows)
        .collect()
}
