//! A sweep's numbers from its configurations' evaluations: the leaderboard (each configuration scored
//! as its own run), the configuration selected for each split without look-ahead and those forecasts
//! scored like a single run, the hindsight winner and the default beside them, and the tests of
//! significance against the naive forecast (Diebold–Mariano per forecast set, Hansen's SPA and White's
//! Reality Check over all configurations).

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use super::select::{select, Choice, UnitWindow};
use crate::metrics::compare_tests::{
    diebold_mariano_differential, spa_test, DmTest, SpaOptions, SpaTest,
};
use crate::report::evaluate::{pooled_prices, PooledPrices, Scoring};
use crate::report::metrics_json::{Evaluation, Pooled, PredictionRow, Trading, WindowName};
use crate::report::plots::freshest_predictions;
use crate::report::trading::pooled_trading;
use crate::rng::{uniform, PURPOSE_BOOTSTRAP};

/// How a sweep's forecasts are compared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SweepScoring {
    /// `--select-window`: splits of history behind each choice.
    pub select_window: usize,
    /// `--bootstrap`: resamples of the SPA test.
    pub bootstrap: usize,
    /// Seed of the bootstrap's draws.
    pub seed: u64,
    /// Lag of the DM test's HAC variance (the forecasts' steps ahead minus one).
    pub dm_lag: usize,
    /// The configuration used where a split has no history, and reported as "default".
    pub default_config: usize,
    pub scoring: Scoring,
}

impl SweepScoring {
    pub const DEFAULT_SELECT_WINDOW: usize = 20;
    pub const DEFAULT_BOOTSTRAP: usize = 1000;
}

/// One split of one series in a sweep: its place in time, and which split of each configuration has
/// it (configurations with other look-backs or windows may lack it).
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    pub series: usize,
    pub val_first: NaiveDate,
    pub val_last: NaiveDate,
    /// Per configuration, the index of its split with this validation window start.
    pub split_of: Vec<Option<usize>>,
}

/// One forecast set against naive on one prediction per day.
#[derive(Debug, Clone)]
pub struct Scored {
    pub pooled: Pooled,
    pub trading: Trading,
    /// Squared-error DM test against naive over the freshest prediction of each day.
    pub dm: DmTest,
}

/// Everything a sweep reports.
#[derive(Debug, Clone)]
pub struct SweepScores {
    /// Per configuration, in configuration order.
    pub configs: Vec<Scored>,
    pub units: Vec<Unit>,
    /// Per unit.
    pub choices: Vec<Choice>,
    /// The selected forecasts, scored like a single run.
    pub selected: Scored,
    /// The configuration with the lowest pooled RMSE over all its splits.
    pub hindsight: usize,
    /// Over the days every configuration predicted: does any configuration beat naive?
    pub spa: SpaTest,
    /// Days the SPA test compares on.
    pub spa_days: usize,
}

/// Validation rows of `eval` by split index.
fn val_rows(eval: &Evaluation) -> BTreeMap<usize, Vec<&PredictionRow>> {
    let mut out: BTreeMap<usize, Vec<&PredictionRow>> = BTreeMap::new();
    for r in eval
        .predictions
        .iter()
        .filter(|r| r.window == WindowName::Val)
    {
        out.entry(r.split).or_default().push(r);
    }
    out
}

/// The units of a sweep: every (series, first validation day) any configuration has, in order.
pub fn units(configs: &[Vec<Evaluation>]) -> Vec<Unit> {
    let mut by_key: BTreeMap<(usize, NaiveDate), Unit> = BTreeMap::new();
    let n = configs.len();
    for (c, series) in configs.iter().enumerate() {
        for (i, eval) in series.iter().enumerate() {
            for (split, rows) in val_rows(eval) {
                let (Some(first), Some(last)) = (
                    rows.iter().map(|r| r.date).min(),
                    rows.iter().map(|r| r.date).max(),
                ) else {
                    continue;
                };
                let unit = by_key.entry((i, first)).or_insert_with(|| Unit {
                    series: i,
                    val_first: first,
                    val_last: last,
                    split_of: vec![None; n],
                });
                unit.split_of[c] = Some(split);
            }
        }
    }
    by_key.into_values().collect()
}

/// Mean squared dollar error of a split's validation rows; infinite for a diverged split.
fn split_loss(eval: &Evaluation, split: usize) -> f64 {
    if eval.splits.iter().any(|s| s.index == split && s.diverged) {
        return f64::INFINITY;
    }
    let errs: Vec<f64> = eval
        .predictions
        .iter()
        .filter(|r| r.window == WindowName::Val && r.split == split)
        .map(|r| (r.actual - r.predicted).powi(2))
        .collect();
    if errs.is_empty() {
        f64::INFINITY
    } else {
        errs.iter().sum::<f64>() / errs.len() as f64
    }
}

/// The choice of configuration per unit (see [`select`]): the loss a configuration is judged by is
/// the mean squared dollar error of its split's validation window, comparable across target
/// transforms and scalers.
pub fn choose(configs: &[Vec<Evaluation>], units: &[Unit], s: &SweepScoring) -> Vec<Choice> {
    let windows: Vec<UnitWindow> = units
        .iter()
        .map(|u| UnitWindow {
            series: u.series,
            val_first: u.val_first.num_days_from_ce_usize(),
            val_last: u.val_last.num_days_from_ce_usize(),
        })
        .collect();
    let loss: Vec<Vec<Option<f64>>> = (0..configs.len())
        .map(|c| {
            units
                .iter()
                .map(|u| u.split_of[c].map(|split| split_loss(&configs[c][u.series], split)))
                .collect()
        })
        .collect();
    select(&windows, &loss, s.select_window, s.default_config)
}

trait DayNumber {
    fn num_days_from_ce_usize(&self) -> usize;
}

impl DayNumber for NaiveDate {
    fn num_days_from_ce_usize(&self) -> usize {
        use chrono::Datelike;
        self.num_days_from_ce().max(0) as usize
    }
}

/// Rows of one forecast set (per series), diverged splits left out, and whether each sound split's
/// model beat buy-and-hold.
struct RowSet {
    rows: Vec<Vec<PredictionRow>>,
    beats: Vec<bool>,
}

fn config_rows(series: &[Evaluation]) -> RowSet {
    let mut set = RowSet {
        rows: Vec::new(),
        beats: Vec::new(),
    };
    for eval in series {
        let diverged: BTreeSet<usize> = eval
            .splits
            .iter()
            .filter(|s| s.diverged)
            .map(|s| s.index)
            .collect();
        set.rows.push(
            eval.predictions
                .iter()
                .filter(|r| r.window == WindowName::Val && !diverged.contains(&r.split))
                .cloned()
                .collect(),
        );
        set.beats.extend(
            eval.splits
                .iter()
                .filter(|s| !s.diverged)
                .map(|s| s.trade.cumulative_return > s.buy_and_hold_trade.cumulative_return),
        );
    }
    set
}

/// The selected forecasts: each unit's rows from its chosen configuration, numbered by the unit (so
/// that the freshest prediction of a day is the latest unit's, as in a single run).
fn selected_rows(configs: &[Vec<Evaluation>], units: &[Unit], choices: &[Choice]) -> RowSet {
    let n_series = configs.first().map_or(0, Vec::len);
    let mut set = RowSet {
        rows: vec![Vec::new(); n_series],
        beats: Vec::new(),
    };
    for (k, (u, ch)) in units.iter().zip(choices).enumerate() {
        let Some(split) = u.split_of[ch.config] else {
            continue;
        };
        let eval = &configs[ch.config][u.series];
        let Some(row) = eval.splits.iter().find(|s| s.index == split) else {
            continue;
        };
        if row.diverged {
            continue;
        }
        set.beats
            .push(row.trade.cumulative_return > row.buy_and_hold_trade.cumulative_return);
        set.rows[u.series].extend(
            eval.predictions
                .iter()
                .filter(|r| r.window == WindowName::Val && r.split == split)
                .map(|r| PredictionRow { split: k, ..*r }),
        );
    }
    set
}

/// (actual, predicted, naive) of each (series, day).
type Days = BTreeMap<(usize, NaiveDate), (f64, f64, f64)>;

/// One prediction per (series, day): the freshest, as the trading view and the plots take them.
fn freshest_days(set: &RowSet) -> Days {
    let mut out = BTreeMap::new();
    for (i, rows) in set.rows.iter().enumerate() {
        for d in freshest_predictions(rows) {
            out.insert((i, d.date), (d.actual, d.predicted, d.naive));
        }
    }
    out
}

fn score_set(set: &RowSet, s: &SweepScoring) -> Scored {
    let mut p = PooledPrices::default();
    let mut dates = BTreeSet::new();
    for (i, rows) in set.rows.iter().enumerate() {
        for r in rows {
            p.actual.push(r.actual);
            p.pred.push(r.predicted);
            p.last.push(r.naive.unwrap_or(f64::NAN));
            p.drift.push(r.drift.unwrap_or(f64::NAN));
            p.ridge.push(r.ridge.unwrap_or(f64::NAN));
            dates.insert((i, r.date));
        }
    }
    let all: Vec<PredictionRow> = set.rows.concat();
    let (trading, _) = pooled_trading(&all, &set.beats, &s.scoring);
    let d: Vec<f64> = freshest_days(set)
        .values()
        .map(|&(a, m, n)| (a - m).powi(2) - (a - n).powi(2))
        .collect();
    Scored {
        pooled: pooled_prices(&p, dates.len()),
        trading,
        dm: dm_test(&d, s.dm_lag),
    }
}

/// The DM test of `d` with HAC lag `lag` (forecasts up to `lag + 1` steps ahead); NaN where it is
/// undefined.
fn dm_test(d: &[f64], lag: usize) -> DmTest {
    diebold_mariano_differential(d, lag + 1, lag).unwrap_or(DmTest {
        statistic: f64::NAN,
        p_value: f64::NAN,
        n: d.len(),
        lag,
        mean_differential: f64::NAN,
    })
}

/// Hansen's SPA over the days every configuration predicted: naive's squared errors against each
/// configuration's. Returns the test and the number of days.
fn spa(sets: &[RowSet], s: &SweepScoring) -> (SpaTest, usize) {
    // A configuration every split of which diverged has no days; it cannot take part.
    let days: Vec<Days> = sets
        .iter()
        .map(freshest_days)
        .filter(|d| !d.is_empty())
        .collect();
    let common: Vec<(usize, NaiveDate)> = days
        .first()
        .map(|first| {
            first
                .keys()
                .filter(|k| days.iter().all(|d| d.contains_key(k)))
                .copied()
                .collect()
        })
        .unwrap_or_default();
    let naive: Vec<f64> = common
        .iter()
        .map(|k| {
            let (a, _, n) = days[0][k];
            (a - n).powi(2)
        })
        .collect();
    let models: Vec<Vec<f64>> = days
        .iter()
        .map(|d| {
            common
                .iter()
                .map(|k| {
                    let (a, m, _) = d[k];
                    (a - m).powi(2)
                })
                .collect()
        })
        .collect();
    // arch's default mean block, ⌊√n⌋ days: long enough for the overlap of multi-day windows.
    let options = SpaOptions {
        block_length: SpaOptions::arch_default_block_length(common.len()),
        resamples: s.bootstrap,
    };
    // Draw i of the bootstrap is Philox word (seed, 0, PURPOSE_BOOTSTRAP, i / 2³², i mod 2³²).
    let mut i: u64 = 0;
    let draw = || {
        let u = uniform(s.seed, 0, PURPOSE_BOOTSTRAP, (i >> 32) as u32, i as u32);
        i += 1;
        u
    };
    let test = spa_test(&naive, &models, options, draw).unwrap_or(SpaTest {
        statistic: f64::NAN,
        p_consistent: f64::NAN,
        p_lower: f64::NAN,
        p_upper: f64::NAN,
        p_reality_check: f64::NAN,
        reality_check_statistic: f64::NAN,
        plain: crate::metrics::compare_tests::SpaPValues {
            lower: f64::NAN,
            consistent: f64::NAN,
            upper: f64::NAN,
        },
        b: s.bootstrap,
        block_length: options.block_length,
        n: common.len(),
        k: models.len(),
    });
    (test, common.len())
}

/// Every number of a sweep from its configurations' evaluations (`configs[c][series]`).
pub fn score_sweep(configs: &[Vec<Evaluation>], s: &SweepScoring) -> SweepScores {
    let units = units(configs);
    let choices = choose(configs, &units, s);
    let sets: Vec<RowSet> = configs.iter().map(|c| config_rows(c)).collect();
    let scored: Vec<Scored> = sets.iter().map(|set| score_set(set, s)).collect();
    let hindsight = scored
        .iter()
        .enumerate()
        .filter(|(_, c)| c.pooled.model_rmse.is_finite())
        .min_by(|a, b| a.1.pooled.model_rmse.total_cmp(&b.1.pooled.model_rmse))
        .map_or(s.default_config, |(i, _)| i);
    let selected = score_set(&selected_rows(configs, &units, &choices), s);
    let (spa, spa_days) = spa(&sets, s);
    SweepScores {
        configs: scored,
        units,
        choices,
        selected,
        hindsight,
        spa,
        spa_days,
    }
}
