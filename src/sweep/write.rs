//! What a finished sweep writes into its directory: `sweep.csv` (one row per configuration),
//! `selection.csv` (per split: the configuration chosen and its score), `metrics.json` (`sweep`),
//! `report.md` and the skill heatmap; and the summary to print. Each configuration's own run is in
//! `configs/cNNN/`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use super::grid::Config;
use super::score::{Scored, SweepScores, SweepScoring};
use crate::metrics::compare_tests::{DmTest, SpaTest};
use crate::report::metrics_json::Evaluation;
use crate::report::plots::heatmap::{self, Heatmap};

/// What a sweep's files are written from.
pub struct SweepOutputs<'a> {
    pub dir: &'a Path,
    pub configs: &'a [Config],
    /// `evaluations[config][series]`.
    pub evaluations: &'a [Vec<Evaluation>],
    pub scores: &'a SweepScores,
    pub scoring: &'a SweepScoring,
    /// `--heatmap A,B`.
    pub heatmap: Option<&'a str>,
    pub wall_seconds: f64,
}

/// The DM test as metrics.json and the CSV carry it (NaN as null).
#[derive(Debug, Clone, Serialize)]
struct DmJson {
    statistic: f64,
    p_value: f64,
    days: usize,
    lag: usize,
}

fn dm_json(d: &DmTest) -> DmJson {
    DmJson {
        statistic: d.statistic,
        p_value: d.p_value,
        days: d.n,
        lag: d.lag,
    }
}

/// One forecast set's scores in metrics.json.
#[derive(Debug, Clone, Serialize)]
struct SetJson {
    model_rmse: f64,
    naive_rmse: f64,
    skill: f64,
    directional_accuracy: f64,
    predictions: usize,
    /// Skill against the drift and ridge baselines on the same days.
    skill_vs_drift: f64,
    skill_vs_ridge: f64,
    /// Cumulative return of the forecasts traded after costs, and buy-and-hold's.
    trading_cumulative_return: f64,
    buy_and_hold_cumulative_return: f64,
    trading_sharpe: f64,
    dm_vs_naive: DmJson,
}

fn set_json(s: &Scored) -> SetJson {
    let p = &s.pooled;
    SetJson {
        model_rmse: p.model_rmse,
        naive_rmse: p.naive_rmse,
        skill: p.skill,
        directional_accuracy: p.directional_accuracy,
        predictions: p.predictions,
        skill_vs_drift: p.baselines.drift.model_skill,
        skill_vs_ridge: p.baselines.ridge.model_skill,
        trading_cumulative_return: s.trading.model.cumulative_return,
        buy_and_hold_cumulative_return: s.trading.buy_and_hold.cumulative_return,
        trading_sharpe: s.trading.model.sharpe,
        dm_vs_naive: dm_json(&s.dm),
    }
}

#[derive(Debug, Clone, Serialize)]
struct ConfigJson {
    config: usize,
    label: String,
    values: BTreeMap<String, String>,
    #[serde(flatten)]
    scores: SetJson,
}

#[derive(Debug, Clone, Serialize)]
struct SpaJson {
    /// "does any configuration beat naive?": small p-values say yes, after the search is counted.
    statistic: f64,
    p_consistent: f64,
    p_lower: f64,
    p_upper: f64,
    p_reality_check: f64,
    bootstrap: usize,
    block_length: f64,
    days: usize,
    seed: u64,
}

fn spa_json(s: &SpaTest, days: usize, seed: u64) -> SpaJson {
    SpaJson {
        statistic: s.statistic,
        p_consistent: s.p_consistent,
        p_lower: s.p_lower,
        p_upper: s.p_upper,
        p_reality_check: s.p_reality_check,
        bootstrap: s.b,
        block_length: s.block_length,
        days,
        seed,
    }
}

#[derive(Debug, Clone, Serialize)]
struct SweepJson {
    configurations: usize,
    select_window: usize,
    /// The configuration of the flags as given.
    default: usize,
    /// The configuration with the lowest pooled RMSE over all splits, chosen after seeing them.
    hindsight: usize,
    /// Splits with no earlier split to choose from, which used the default configuration.
    splits_without_history: usize,
    leaderboard: Vec<ConfigJson>,
    selected: SetJson,
    hindsight_scores: SetJson,
    default_scores: SetJson,
    /// Hindsight's skill minus the selected forecasts' skill: what choosing in hindsight overstates.
    hindsight_overstates_skill_by: f64,
    spa: SpaJson,
    wall_seconds: f64,
}

#[derive(Serialize)]
struct MetricsJson<'a> {
    sweep: &'a SweepJson,
}

fn config_json(i: usize, c: &Config, s: &Scored) -> ConfigJson {
    ConfigJson {
        config: i,
        label: c.label(),
        values: c
            .values
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        scores: set_json(s),
    }
}

fn sweep_json(o: &SweepOutputs) -> SweepJson {
    let s = o.scores;
    let d = o.scoring.default_config;
    SweepJson {
        configurations: o.configs.len(),
        select_window: o.scoring.select_window,
        default: d,
        hindsight: s.hindsight,
        splits_without_history: s.choices.iter().filter(|c| c.score.is_none()).count(),
        leaderboard: o
            .configs
            .iter()
            .zip(&s.configs)
            .enumerate()
            .map(|(i, (c, sc))| config_json(i, c, sc))
            .collect(),
        selected: set_json(&s.selected),
        hindsight_scores: set_json(&s.configs[s.hindsight]),
        default_scores: set_json(&s.configs[d]),
        hindsight_overstates_skill_by: s.configs[s.hindsight].pooled.skill
            - s.selected.pooled.skill,
        spa: spa_json(&s.spa, s.spa_days, o.scoring.seed),
        wall_seconds: o.wall_seconds,
    }
}

/// A number for a CSV cell: empty for NaN.
fn cell(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        String::new()
    }
}

fn write_csv(path: &Path, header: &[String], rows: &[Vec<String>]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header)?;
    for r in rows {
        w.write_record(r)?;
    }
    let bytes = w.into_inner().context("writing a CSV")?;
    crate::atomic::write(path, &bytes)
}

/// The swept keys, in grid order.
fn keys(configs: &[Config]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in configs {
        for (k, _) in &c.values {
            let k = k.to_string();
            if !out.contains(&k) {
                out.push(k);
            }
        }
    }
    out
}

fn write_sweep_csv(o: &SweepOutputs) -> anyhow::Result<()> {
    let keys = keys(o.configs);
    let mut header: Vec<String> = vec!["config".into()];
    header.extend(keys.iter().cloned());
    for h in [
        "model_rmse",
        "naive_rmse",
        "skill",
        "directional_accuracy",
        "predictions",
        "dm_statistic",
        "dm_p_value",
        "trading_cumulative_return",
        "default",
        "hindsight",
    ] {
        header.push(h.into());
    }
    let rows: Vec<Vec<String>> = o
        .configs
        .iter()
        .zip(&o.scores.configs)
        .enumerate()
        .map(|(i, (c, s))| {
            let mut r = vec![i.to_string()];
            for k in &keys {
                let v = c.values.iter().find(|(key, _)| key.to_string() == *k);
                r.push(v.map(|(_, v)| v.clone()).unwrap_or_default());
            }
            let p = &s.pooled;
            r.extend([
                cell(p.model_rmse),
                cell(p.naive_rmse),
                cell(p.skill),
                cell(p.directional_accuracy),
                p.predictions.to_string(),
                cell(s.dm.statistic),
                cell(s.dm.p_value),
                cell(s.trading.model.cumulative_return),
                (i == o.scoring.default_config).to_string(),
                (i == o.scores.hindsight).to_string(),
            ]);
            r
        })
        .collect();
    write_csv(&o.dir.join("sweep.csv"), &header, &rows)
}

fn write_selection_csv(o: &SweepOutputs) -> anyhow::Result<()> {
    let header: Vec<String> = [
        "series",
        "val_first_date",
        "val_last_date",
        "config",
        "label",
        "mean_val_mse",
        "history_splits",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let rows: Vec<Vec<String>> = o
        .scores
        .units
        .iter()
        .zip(&o.scores.choices)
        .map(|(u, ch)| {
            let name = o.evaluations[ch.config]
                .get(u.series)
                .map(|e| e.series.clone())
                .unwrap_or_default();
            vec![
                name,
                u.val_first.to_string(),
                u.val_last.to_string(),
                ch.config.to_string(),
                o.configs[ch.config].label(),
                ch.score.map(cell).unwrap_or_default(),
                ch.history.to_string(),
            ]
        })
        .collect();
    write_csv(&o.dir.join("selection.csv"), &header, &rows)
}

/// The two keys of the heatmap: `--heatmap A,B`, else the two with most values; `None` with fewer
/// than two swept keys.
fn heatmap_data(o: &SweepOutputs) -> anyhow::Result<Option<Heatmap>> {
    let keys = keys(o.configs);
    let values_of = |k: &str| -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for c in o.configs {
            if let Some((_, x)) = c.values.iter().find(|(key, _)| key.to_string() == k) {
                if !v.contains(x) {
                    v.push(x.clone());
                }
            }
        }
        v
    };
    let (xk, yk) = match o.heatmap {
        Some(text) => {
            let parts: Vec<&str> = text.split(',').map(str::trim).collect();
            let [a, b] = parts.as_slice() else {
                anyhow::bail!("--heatmap {text}: expected two swept keys, as in lr,dropout");
            };
            for k in [a, b] {
                anyhow::ensure!(
                    keys.iter().any(|s| s == k),
                    "--heatmap {text}: \"{k}\" is not a swept key ({})",
                    keys.join(", ")
                );
            }
            (a.to_string(), b.to_string())
        }
        None => {
            let mut by_size: Vec<&String> = keys.iter().collect();
            by_size.sort_by_key(|k| std::cmp::Reverse(values_of(k).len()));
            match by_size.as_slice() {
                [a, b, ..] => ((*a).clone(), (*b).clone()),
                _ => return Ok(None),
            }
        }
    };
    let (xs, ys) = (values_of(&xk), values_of(&yk));
    let mut sum = vec![vec![(0.0, 0usize); xs.len()]; ys.len()];
    for (c, s) in o.configs.iter().zip(&o.scores.configs) {
        let find = |k: &str, list: &[String]| {
            c.values
                .iter()
                .find(|(key, _)| key.to_string() == k)
                .and_then(|(_, v)| list.iter().position(|x| x == v))
        };
        if let (Some(x), Some(y)) = (find(&xk, &xs), find(&yk, &ys)) {
            if s.pooled.skill.is_finite() {
                sum[y][x].0 += s.pooled.skill;
                sum[y][x].1 += 1;
            }
        }
    }
    let skill = sum
        .iter()
        .map(|row| {
            row.iter()
                .map(|&(t, n)| if n == 0 { f64::NAN } else { t / n as f64 })
                .collect()
        })
        .collect();
    Ok(Some(Heatmap {
        x_key: xk,
        y_key: yk,
        x_values: xs,
        y_values: ys,
        skill,
    }))
}

/// Writes every file of the sweep and returns the summary to print.
pub fn write_sweep(o: &SweepOutputs) -> anyhow::Result<String> {
    let json = sweep_json(o);
    let text = serde_json::to_string_pretty(&MetricsJson { sweep: &json })?;
    crate::atomic::write(&o.dir.join("metrics.json"), text.as_bytes())?;
    write_sweep_csv(o)?;
    write_selection_csv(o)?;
    let map = heatmap_data(o)?;
    if let Some(m) = &map {
        heatmap::write(o.dir, m)?;
    }
    let report = super::report::markdown(o, map.is_some());
    crate::atomic::write(&o.dir.join("report.md"), report.as_bytes())?;
    Ok(super::report::summary(o))
}

/// The leaderboard's order: by pooled RMSE, lowest first (NaN last).
pub(super) fn ranked(scores: &SweepScores) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.configs.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (
            scores.configs[a].pooled.model_rmse,
            scores.configs[b].pooled.model_rmse,
        );
        x.is_nan().cmp(&y.is_nan()).then(x.total_cmp(&y))
    });
    order
}

/// `write!` into a String cannot fail; this keeps the callers free of results.
pub(super) fn push(out: &mut String, text: std::fmt::Arguments) {
    let _ = out.write_fmt(text);
}
