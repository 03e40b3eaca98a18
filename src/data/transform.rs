//! `--target-transform`: what the model learns instead of the next close itself. Each transform maps the
//! target row `r`'s value and the row before it (the last close the model saw) to the value learnt, and
//! back, so every prediction returns to the price level from the last close the model saw:
//!
//! | transform | learnt `v` for close `c_r`, last close `c_{r−1}` | back to the price |
//! |---|---|---|
//! | `level` | `c_r` | `v` |
//! | `diff` | `c_r − c_{r−1}` | `c_{r−1} + v` |
//! | `return` | `c_r / c_{r−1} − 1` | `c_{r−1} · (1 + v)` |
//! | `log-return` | `ln(c_r / c_{r−1})` | `c_{r−1} · e^v` |
//!
//! Row `r`'s value reads rows `r` and `r − 1` only, so a transformed target has no look-ahead.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetTransform {
    /// The close itself (the report's target).
    #[default]
    Level,
    Diff,
    Return,
    LogReturn,
}

impl TargetTransform {
    /// As `--target-transform` spells it (and metrics.json and the checkpoint record it).
    pub fn as_str(self) -> &'static str {
        match self {
            TargetTransform::Level => "level",
            TargetTransform::Diff => "diff",
            TargetTransform::Return => "return",
            TargetTransform::LogReturn => "log-return",
        }
    }

    /// The value learnt for close `value` after close `last`.
    pub fn apply(self, value: f64, last: f64) -> f64 {
        match self {
            TargetTransform::Level => value,
            TargetTransform::Diff => value - last,
            TargetTransform::Return => value / last - 1.0,
            TargetTransform::LogReturn => (value / last).ln(),
        }
    }

    /// The close a learnt value `v` stands for after close `last`: the inverse of [`Self::apply`].
    pub fn invert(self, v: f64, last: f64) -> f64 {
        match self {
            TargetTransform::Level => v,
            TargetTransform::Diff => last + v,
            TargetTransform::Return => last * (1.0 + v),
            TargetTransform::LogReturn => last * v.exp(),
        }
    }

    /// d(close)/dv at `v`: turns a spread of learnt values into one of prices.
    pub fn slope(self, v: f64, last: f64) -> f64 {
        match self {
            TargetTransform::Level | TargetTransform::Diff => 1.0,
            TargetTransform::Return => last,
            TargetTransform::LogReturn => last * v.exp(),
        }
    }

    /// The learnt value of every row of `level`. Row 0 has no row before it: it gets the value of "no
    /// change" (`apply(c_0, c_0)`), which no sample targets (a sample's target row is at least the
    /// look-back) and no scaler fits ([`Self::first_target_row`]).
    pub fn series(self, level: &[f64]) -> Vec<f64> {
        (0..level.len())
            .map(|r| self.apply(level[r], level[r.saturating_sub(1)]))
            .collect()
    }

    /// The first row whose learnt value is defined: 0 for `level`, 1 for the others.
    pub fn first_target_row(self) -> usize {
        match self {
            TargetTransform::Level => 0,
            _ => 1,
        }
    }

    /// Whether the values need every close to be positive (a ratio or a logarithm of closes).
    pub fn needs_positive(self) -> bool {
        matches!(self, TargetTransform::Return | TargetTransform::LogReturn)
    }
}

impl std::fmt::Display for TargetTransform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [TargetTransform; 4] = [
        TargetTransform::Level,
        TargetTransform::Diff,
        TargetTransform::Return,
        TargetTransform::LogReturn,
    ];

    #[test]
    fn invert_undoes_apply_and_slope_is_the_derivative() {
        for t in ALL {
            for (value, last) in [(101.5, 100.0), (97.25, 100.0), (3.0, 2.5)] {
                let v = t.apply(value, last);
                assert!((t.invert(v, last) - value).abs() < 1e-12, "{t}");
                let h = 1e-6;
                let fd = (t.invert(v + h, last) - t.invert(v - h, last)) / (2.0 * h);
                assert!(
                    (fd - t.slope(v, last)).abs() < 1e-6 * fd.abs().max(1.0),
                    "{t}"
                );
            }
        }
        assert_eq!(
            TargetTransform::Return.apply(110.0, 100.0),
            0.10000000000000009
        );
        assert_eq!(TargetTransform::Diff.apply(110.0, 100.0), 10.0);
    }
}
