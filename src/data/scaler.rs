//! Per-column affine scaling, `transform(x) = (x − min) / (max − min)`, where `min` is the value that maps
//! to 0 and `max` the one that maps to 1. [`ScalerKind`] says how they are fitted (`--scaler-kind`):
//! - `minmax`: the column's minimum and maximum, as sklearn's `MinMaxScaler(feature_range=(0, 1))`;
//! - `standard`: mean and mean + standard deviation (population, ddof 0), as `StandardScaler`;
//! - `robust`: median and median + interquartile range (numpy's linear percentiles), as `RobustScaler`.
//!
//! Every kind is affine, so the engines (and the GPU's gather kernel, which reads `(min, 1/range)`) need
//! nothing but the two values per column. A constant column has range 0; sklearn then uses a scale of 1,
//! so every value of that column maps to `x − min = 0` (and values outside the fitted range keep their
//! offset). Values outside the fitted range map outside [0, 1], as in sklearn (no clipping).

use serde::{Deserialize, Serialize};

/// How a scaler's two values per column are fitted (`--scaler-kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScalerKind {
    #[default]
    MinMax,
    Standard,
    Robust,
}

impl ScalerKind {
    /// As `--scaler-kind` spells it (and metrics.json records it).
    pub fn as_str(self) -> &'static str {
        match self {
            ScalerKind::MinMax => "minmax",
            ScalerKind::Standard => "standard",
            ScalerKind::Robust => "robust",
        }
    }
}

impl std::fmt::Display for ScalerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// numpy's `percentile(values, q)` with linear interpolation, of sorted `values` (not empty).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let pos = q / 100.0 * (sorted.len() - 1) as f64;
    let (lo, frac) = (pos.floor() as usize, pos - pos.floor());
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + frac * (sorted[hi] - sorted[lo])
}

/// Fitted per column: `min` maps to 0 and `max` to 1. For [`ScalerKind::MinMax`] (the default, and the
/// only kind before `--scaler-kind`) they are the column's minimum and maximum; for the other kinds the
/// centre and the centre plus the scale (module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MinMax {
    pub min: Vec<f64>,
    pub max: Vec<f64>,
}

impl MinMax {
    /// Fits every column of `rows` (`rows[row][column]`, all rows as wide as the first). The caller
    /// guarantees at least one row; with none the scaler has no columns.
    pub fn fit(rows: &[Vec<f64>]) -> MinMax {
        let width = rows.first().map_or(0, Vec::len);
        let mut min = vec![f64::INFINITY; width];
        let mut max = vec![f64::NEG_INFINITY; width];
        for row in rows {
            for ((lo, hi), &x) in min.iter_mut().zip(max.iter_mut()).zip(row) {
                *lo = lo.min(x);
                *hi = hi.max(x);
            }
        }
        MinMax { min, max }
    }

    /// Fits a single column.
    pub fn fit_column(values: &[f64]) -> MinMax {
        if values.is_empty() {
            return MinMax {
                min: Vec::new(),
                max: Vec::new(),
            };
        }
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        MinMax {
            min: vec![min],
            max: vec![max],
        }
    }

    /// Fits one column under `kind` (non-finite values are skipped; none left: no columns).
    pub fn fit_column_kind(kind: ScalerKind, values: &[f64]) -> MinMax {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return MinMax::fit_column(&[]);
        }
        let (centre, scale) = match kind {
            ScalerKind::MinMax => return MinMax::fit_column(&v),
            ScalerKind::Standard => {
                let n = v.len() as f64;
                let mean = v.iter().sum::<f64>() / n;
                let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
                (mean, var.sqrt())
            }
            ScalerKind::Robust => {
                v.sort_by(f64::total_cmp);
                let iqr = percentile(&v, 75.0) - percentile(&v, 25.0);
                (percentile(&v, 50.0), iqr)
            }
        };
        // A zero scale leaves max = min: the range is then taken as 1, as sklearn does.
        MinMax {
            min: vec![centre],
            max: vec![centre + scale],
        }
    }

    /// Fits every column of `rows` under `kind`; [`ScalerKind::MinMax`] is exactly [`MinMax::fit`].
    pub fn fit_kind(kind: ScalerKind, rows: &[Vec<f64>]) -> MinMax {
        if kind == ScalerKind::MinMax {
            return MinMax::fit(rows);
        }
        let width = rows.first().map_or(0, Vec::len);
        let mut out = MinMax {
            min: Vec::with_capacity(width),
            max: Vec::with_capacity(width),
        };
        for j in 0..width {
            let col: Vec<f64> = rows.iter().map(|r| r[j]).collect();
            let one = MinMax::fit_column_kind(kind, &col);
            out.min.extend(one.min);
            out.max.extend(one.max);
        }
        out
    }

    /// Number of columns the scaler was fitted on.
    pub fn width(&self) -> usize {
        self.min.len()
    }

    /// Scales one row (as wide as the fitted columns).
    pub fn transform(&self, row: &[f64]) -> Vec<f64> {
        row.iter()
            .enumerate()
            .map(|(col, &x)| self.transform_value(col, x))
            .collect()
    }

    /// Scales one value of column `col`.
    pub fn transform_value(&self, col: usize, x: f64) -> f64 {
        (x - self.min[col]) / self.range(col)
    }

    /// Undoes [`MinMax::transform_value`]: scaled value → original units (e.g. dollars).
    pub fn inverse_value(&self, col: usize, x: f64) -> f64 {
        x * self.range(col) + self.min[col]
    }

    /// `max − min`, with a zero range treated as 1 (sklearn's `_handle_zeros_in_scale`).
    fn range(&self, col: usize) -> f64 {
        let range = self.max[col] - self.min[col];
        if range == 0.0 {
            1.0
        } else {
            range
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_each_column_and_maps_min_to_0_and_max_to_1() {
        let s = MinMax::fit(&[vec![1.0, 10.0], vec![3.0, -10.0], vec![2.0, 0.0]]);
        assert_eq!(s.min, vec![1.0, -10.0]);
        assert_eq!(s.max, vec![3.0, 10.0]);
        // Column 0: (2 − 1)/2 = 0.5; column 1: (0 − (−10))/20 = 0.5. Both exact in binary.
        assert_eq!(s.transform(&[2.0, 0.0]), vec![0.5, 0.5]);
        assert_eq!(s.transform(&[1.0, 10.0]), vec![0.0, 1.0]);
        // Out of range is not clipped: (5 − 1)/2 = 2.
        assert_eq!(s.transform_value(0, 5.0), 2.0);
        assert_eq!(s.inverse_value(1, 0.75), 5.0);
    }

    #[test]
    fn a_constant_column_maps_to_zero_and_back() {
        let s = MinMax::fit_column(&[4.0, 4.0, 4.0]);
        assert_eq!(s.transform_value(0, 4.0), 0.0);
        // Range 0 is treated as 1, so an unseen value keeps its offset from min (sklearn does the same).
        assert_eq!(s.transform_value(0, 6.5), 2.5);
        assert_eq!(s.inverse_value(0, 0.0), 4.0);
    }
}
