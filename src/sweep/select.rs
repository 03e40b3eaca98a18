//! Choosing a configuration for each split without look-ahead: split s uses the configuration with the
//! lowest mean validation loss over the `K` most recent splits (of the same series) whose validation
//! windows ended before s's validation window begins. Nothing of split s or later enters its choice.

/// Where one unit (a series' split) sits in time: its series and the first and last day (any ordered
/// day number, e.g. the target row) of its validation window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitWindow {
    pub series: usize,
    pub val_first: usize,
    pub val_last: usize,
}

/// What selection decided for one unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Choice {
    /// The configuration used.
    pub config: usize,
    /// Its mean validation loss over the history that chose it; `None` when the unit had no earlier
    /// split and took the fallback configuration.
    pub score: Option<f64>,
    /// How many earlier splits the choice rests on (at most `K`).
    pub history: usize,
}

/// The units whose validation windows ended before `unit`'s began, the `k` most recent of them (by the
/// end of their windows, then by position): indices into `units`.
pub fn history(units: &[UnitWindow], unit: usize, k: usize) -> Vec<usize> {
    let me = units[unit];
    let mut before: Vec<usize> = (0..units.len())
        .filter(|&j| units[j].series == me.series && units[j].val_last < me.val_first)
        .collect();
    before.sort_by_key(|&j| (units[j].val_last, j));
    let keep = before.len().saturating_sub(k);
    before.split_off(keep)
}

/// For each unit, the configuration with the lowest mean of `loss[config][unit]` over its
/// [`history`]; a configuration missing a loss there (it has no such split) cannot be chosen, and a
/// non-finite loss (a diverged model) counts as infinitely bad. Ties go to the lower configuration
/// number. Units without history, or where no configuration has all of it, take `fallback`.
pub fn select(
    units: &[UnitWindow],
    loss: &[Vec<Option<f64>>],
    k: usize,
    fallback: usize,
) -> Vec<Choice> {
    (0..units.len())
        .map(|s| {
            let past = history(units, s, k);
            let mut best: Option<(usize, f64)> = None;
            for (c, losses) in loss.iter().enumerate() {
                // The configuration must have this unit itself too, to be used for it.
                if past.is_empty() || losses.get(s).copied().flatten().is_none() {
                    continue;
                }
                let Some(sum) = past
                    .iter()
                    .map(|&j| losses.get(j).copied().flatten())
                    .try_fold(0.0, |acc, l| {
                        l.map(|l| acc + if l.is_finite() { l } else { f64::INFINITY })
                    })
                else {
                    continue;
                };
                let mean = sum / past.len() as f64;
                if best.is_none_or(|(_, b)| mean < b) {
                    best = Some((c, mean));
                }
            }
            match best {
                Some((config, score)) => Choice {
                    config,
                    score: Some(score),
                    history: past.len(),
                },
                None => Choice {
                    config: fallback,
                    score: None,
                    history: 0,
                },
            }
        })
        .collect()
}
