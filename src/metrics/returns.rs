//! Scores of forecasts as returns: what a forecast of tomorrow's close says about tomorrow's return
//! from the last close, against the return that happened. Pearson's and Spearman's correlations are
//! scipy's (`pearsonr`, `spearmanr` with average ranks for ties); the information coefficient (IC) is
//! either correlation of predicted with realised returns.

use serde::Serialize;

/// One set of forecasts scored in return space (`r = close / last close − 1`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReturnScores {
    /// RMSE of the predicted next return against the realised one.
    pub rmse: f64,
    /// MAE of the same.
    pub mae: f64,
    /// Share of days whose predicted return has the sign of the realised one (0 matches only 0).
    pub directional_accuracy: f64,
    /// Pearson correlation of predicted with realised returns; null when either is constant.
    pub ic_pearson: f64,
    /// Spearman rank correlation of the same; null when either is constant.
    pub ic_spearman: f64,
}

/// Scores of predicted closes `pred` against actual closes `actual`, both after the closes `last`.
pub fn return_scores(last: &[f64], actual: &[f64], pred: &[f64]) -> ReturnScores {
    assert!(
        last.len() == actual.len() && actual.len() == pred.len(),
        "return scores need equally long slices"
    );
    let ret = |v: &[f64]| -> Vec<f64> { v.iter().zip(last).map(|(c, l)| c / l - 1.0).collect() };
    let (real, fore) = (ret(actual), ret(pred));
    let n = real.len() as f64;
    let err = || real.iter().zip(&fore).map(|(a, p)| a - p);
    ReturnScores {
        rmse: (err().map(|e| e * e).sum::<f64>() / n).sqrt(),
        mae: err().map(f64::abs).sum::<f64>() / n,
        directional_accuracy: super::directional_accuracy(last, actual, pred),
        ic_pearson: pearson(&fore, &real),
        ic_spearman: spearman(&fore, &real),
    }
}

/// Pearson's correlation; NaN for fewer than 2 values or a constant input (scipy returns NaN too).
pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "correlation needs equally long slices");
    let n = a.len();
    if n < 2 || all_equal(a) || all_equal(b) {
        return f64::NAN;
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / n as f64;
    let (ma, mb) = (mean(a), mean(b));
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - ma, y - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    (sab / (saa.sqrt() * sbb.sqrt())).clamp(-1.0, 1.0)
}

/// Spearman's rank correlation: Pearson's of the average ranks.
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    pearson(&ranks(a), &ranks(b))
}

/// 1-based ranks, ties sharing their average rank (scipy's `rankdata(method="average")`).
pub fn ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
    let mut out = vec![0.0; v.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            out[k] = rank;
        }
        i = j + 1;
    }
    out
}

fn all_equal(v: &[f64]) -> bool {
    v.iter().all(|&x| x == v[0])
}
