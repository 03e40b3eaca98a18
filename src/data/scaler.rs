//! Per-column min–max scaling to [0, 1], as sklearn's `MinMaxScaler(feature_range=(0, 1))`.
//!
//! `transform(x) = (x − min) / (max − min)`. A constant column has range 0; sklearn then uses a scale of 1,
//! so every value of that column maps to `x − min = 0` (and values outside the fitted range keep their
//! offset). Values outside the fitted range map outside [0, 1], as in sklearn (no clipping).

use serde::{Deserialize, Serialize};

/// Fitted per-column minimum and maximum.
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
