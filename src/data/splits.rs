//! Look-back samples and the rolling / expanding splits over them.
//!
//! Sample `s` has input rows `s ..= s + lookback − 1` and its target is row `s + lookback`, so `n_rows` rows
//! give `n_rows − lookback` samples. Split `k` (0-based) starts at sample offset `first + k · step`, where
//! walk-forward anchors the splits at the newest data (`first` is chosen so the last split's validation
//! window ends on the last row, whatever `step`) and the seed protocol starts at 0 as the report's loop did:
//! - rolling: train samples `[k·step, k·step + train_window)`, validation the next `val_window` samples;
//! - expanding: train samples `[0, k·step + train_window)`, validation the next `val_window` samples.
//!
//! Which `k` exist depends on the rule. Walk-forward takes every split whose validation window fits
//! (`k·step + train + val ≤ n_samples`). The reference script's loop stops one split early
//! (`k·step + train + val < n_samples`); the seed protocol reproduces that to get its 988 splits.

use serde::Serialize;

use super::DataError;
use crate::fit::{SplitWindows, Window};

/// How a split's training window moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WindowKind {
    /// Fixed length, sliding forward by `step`.
    Rolling,
    /// Always starting at sample 0, growing by `step`.
    Expanding,
}

impl WindowKind {
    /// As `--window` spells it (and metrics.json records it).
    pub fn as_str(self) -> &'static str {
        match self {
            WindowKind::Rolling => "rolling",
            WindowKind::Expanding => "expanding",
        }
    }
}

impl std::fmt::Display for WindowKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which split offsets are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SplitRule {
    /// Every split whose validation window fits inside the samples (walk-forward).
    AllThatFit,
    /// The reference script's loop: the last split that would fit is skipped (seed protocol).
    ReportSkipsLast,
}

/// Sizes are counted in samples, except `lookback`, which is counted in rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SplitConfig {
    pub lookback: usize,
    pub train_window: usize,
    pub val_window: usize,
    pub step: usize,
    pub kind: WindowKind,
    pub rule: SplitRule,
    /// Keep only the first N splits (`--max-splits`).
    pub max_splits: Option<usize>,
    /// Keep only the newest N splits (`--last-splits`); their indices stay those of the whole run.
    pub last_splits: Option<usize>,
    /// Keep only splits whose validation targets all lie in these rows (`--from`/`--to` dates).
    pub target_rows: Option<std::ops::Range<usize>>,
}

/// `train`'s defaults (the report's settings; `--lookback`, `--train-window`, `--val-window`, `--step`).
impl SplitConfig {
    pub const DEFAULT_LOOKBACK: usize = 60;
    pub const DEFAULT_TRAIN_WINDOW: usize = 200;
    pub const DEFAULT_VAL_WINDOW: usize = 10;
    pub const DEFAULT_STEP: usize = 1;
}

/// Rolling windows of the default sizes over every split that fits.
impl Default for SplitConfig {
    fn default() -> Self {
        SplitConfig {
            lookback: Self::DEFAULT_LOOKBACK,
            train_window: Self::DEFAULT_TRAIN_WINDOW,
            val_window: Self::DEFAULT_VAL_WINDOW,
            step: Self::DEFAULT_STEP,
            kind: WindowKind::Rolling,
            rule: SplitRule::AllThatFit,
            max_splits: None,
            last_splits: None,
            target_rows: None,
        }
    }
}

/// One split, in sample indices: train `[train_start, train_start + train_len)`, validation
/// `[val_start, val_start + val_len)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Split {
    pub index: usize,
    pub train_start: usize,
    pub train_len: usize,
    pub val_start: usize,
    pub val_len: usize,
}

impl Split {
    /// The split's training and validation windows of samples.
    pub fn windows(&self) -> SplitWindows {
        SplitWindows {
            train: Window {
                start: self.train_start,
                len: self.train_len,
            },
            val: Window {
                start: self.val_start,
                len: self.val_len,
            },
        }
    }
}

/// Number of look-back samples in `n_rows` rows: `n_rows − lookback`, or 0 when there are not more rows
/// than the look-back.
pub fn n_samples(n_rows: usize, lookback: usize) -> usize {
    n_rows.saturating_sub(lookback)
}

/// All splits of `n_rows` rows under `cfg`, in order of `index`.
pub fn make_splits(n_rows: usize, cfg: &SplitConfig) -> Result<Vec<Split>, DataError> {
    for (flag, value) in [
        ("--lookback", cfg.lookback),
        ("--train-window", cfg.train_window),
        ("--val-window", cfg.val_window),
        ("--step", cfg.step),
    ] {
        if value == 0 {
            return Err(DataError::Splits(format!(
                "{flag} must be at least 1 (got 0)"
            )));
        }
    }
    if cfg.max_splits == Some(0) {
        return Err(DataError::Splits(
            "--max-splits must be at least 1 (got 0)".to_string(),
        ));
    }

    // The first split needs `lookback + train + val` rows, one more when the last split is skipped.
    // Sizes come from the command line, so the sum is checked rather than allowed to wrap.
    let extra = match cfg.rule {
        SplitRule::AllThatFit => 0,
        SplitRule::ReportSkipsLast => 1,
    };
    let needed = cfg
        .lookback
        .checked_add(cfg.train_window)
        .and_then(|n| n.checked_add(cfg.val_window))
        .and_then(|n| n.checked_add(extra));
    let Some(needed) = needed.filter(|&needed| needed <= n_rows) else {
        let needed = needed.map_or_else(
            || "more rows than can be counted".to_string(),
            |n| format!("at least {n} rows"),
        );
        let skipped = if extra == 1 {
            " + 1 (the seed protocol skips the last split, as the reference script did)"
        } else {
            ""
        };
        return Err(DataError::Splits(format!(
            "too few rows: --lookback {} + --train-window {} + --val-window {}{skipped} needs {needed}, \
             but the data has {n_rows} rows; shorten the windows or use a longer file",
            cfg.lookback, cfg.train_window, cfg.val_window
        )));
    };

    // With `needed ≤ n_rows`: the last offset is the largest k·step with k·step ≤ n_rows − needed.
    let count = (n_rows - needed) / cfg.step + 1;
    let first = match cfg.rule {
        SplitRule::AllThatFit => (n_rows - needed) % cfg.step,
        SplitRule::ReportSkipsLast => 0,
    };
    let splits: Vec<Split> = (0..count)
        .map(|k| {
            let offset = first + k * cfg.step;
            let (train_start, train_len) = match cfg.kind {
                WindowKind::Rolling => (offset, cfg.train_window),
                WindowKind::Expanding => (0, offset + cfg.train_window),
            };
            Split {
                index: k,
                train_start,
                train_len,
                val_start: offset + cfg.train_window,
                val_len: cfg.val_window,
            }
        })
        .collect();
    select(splits, cfg)
}

/// `--max-splits` (the first N), `--last-splits` (the newest N) and the `--from`/`--to` rows.
fn select(mut splits: Vec<Split>, cfg: &SplitConfig) -> Result<Vec<Split>, DataError> {
    if let Some(rows) = &cfg.target_rows {
        let lookback = cfg.lookback;
        splits.retain(|s| {
            let (first, last) = (
                s.val_start + lookback,
                s.val_start + s.val_len - 1 + lookback,
            );
            rows.contains(&first) && rows.contains(&last)
        });
        if splits.is_empty() {
            return Err(DataError::Splits(
                "no split's validation window lies inside --from/--to; widen the range".to_string(),
            ));
        }
    }
    if cfg.last_splits == Some(0) {
        return Err(DataError::Splits(
            "--last-splits must be at least 1 (got 0)".to_string(),
        ));
    }
    if let Some(n) = cfg.max_splits {
        splits.truncate(n);
    }
    if let Some(n) = cfg.last_splits {
        splits.drain(..splits.len().saturating_sub(n));
    }
    Ok(splits)
}

/// The rows a split's training samples touch, inputs and targets:
/// `[train_start, train_start + train_len + lookback)`. The per-split scaler is fitted on exactly these
/// rows.
pub fn scaler_rows(split: &Split, lookback: usize) -> std::ops::Range<usize> {
    split.train_start..split.train_start + split.train_len + lookback
}

/// `--from`/`--to`: the validation days a run keeps, resolved per series into
/// [`SplitConfig::target_rows`] by [`DateSpan::rows`] (a panel's series have different dates).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DateSpan {
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
}

impl DateSpan {
    /// The rows of `dates` (oldest first) inside the span, or `None` when neither end is set.
    pub fn rows(
        &self,
        dates: &[chrono::NaiveDate],
    ) -> Result<Option<std::ops::Range<usize>>, DataError> {
        if self.from.is_none() && self.to.is_none() {
            return Ok(None);
        }
        if let (Some(f), Some(t)) = (self.from, self.to) {
            if f > t {
                return Err(DataError::Splits(format!("--from {f} is after --to {t}")));
            }
        }
        let start = self.from.map_or(0, |f| dates.partition_point(|&d| d < f));
        let end = self
            .to
            .map_or(dates.len(), |t| dates.partition_point(|&d| d <= t));
        Ok(Some(start..end))
    }
}
