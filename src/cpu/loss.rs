//! Mean squared error of [`crate::reference::loss`] for f32 predictions, summed in f64.

/// The loss (f64) and its gradient `dpred = 2(p − y)/R` (f32).
pub fn mse_and_grad(pred: &[f32], target: &[f32], dpred: &mut [f32]) -> f64 {
    assert!(
        !pred.is_empty() && pred.len() == target.len() && dpred.len() >= pred.len(),
        "mse: sizes"
    );
    let rows = pred.len() as f32;
    for ((d, &p), &y) in dpred.iter_mut().zip(pred).zip(target) {
        *d = 2.0 * (p - y) / rows;
    }
    mse(pred, target)
}

/// The loss alone, in f64.
pub fn mse(pred: &[f32], target: &[f32]) -> f64 {
    assert!(!pred.is_empty() && pred.len() == target.len(), "mse: sizes");
    let sum: f64 = pred
        .iter()
        .zip(target)
        .map(|(&p, &y)| (f64::from(p) - f64::from(y)).powi(2))
        .sum();
    sum / pred.len() as f64
}
