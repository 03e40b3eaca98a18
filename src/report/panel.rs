//! A run over several series or seeds, evaluated: each series' [`Evaluation`] (its seeds' ensemble), how
//! much the seeds disagree ([`SeedSpread`]: how much of a score is luck), and the panel's summary, one
//! row per series ranked by skill.

use serde::Serialize;

use super::evaluate::{evaluate, Evaluation, RunConfig};
use crate::data::NamedSeries;
use crate::metrics::{describe, Describe};
use crate::train::{PanelResult, SeriesResult};

/// One seed's pooled validation scores on a series (price units), and its models' forecast.
#[derive(Debug, Clone, Serialize)]
pub struct SeedScores {
    pub seed: u64,
    pub model_rmse: f64,
    pub model_mae: f64,
    pub skill: f64,
    pub directional_accuracy: f64,
    /// Mean forecast of this seed's forecast models (NaN when all diverged).
    pub forecast: f64,
}

/// `seeds`: every seed's scores, and pandas `describe` of each score over the seeds. The ensemble's
/// scores are the evaluation's `pooled` and `forecast`.
#[derive(Debug, Clone, Serialize)]
pub struct SeedSpread {
    pub per_seed: Vec<SeedScores>,
    pub model_rmse: Describe,
    pub model_mae: Describe,
    pub skill: Describe,
    pub directional_accuracy: Describe,
    pub forecast: Describe,
}

impl SeedSpread {
    fn new(per_seed: &[(u64, &Evaluation)]) -> SeedSpread {
        let per_seed: Vec<SeedScores> = per_seed
            .iter()
            .map(|&(seed, e)| SeedScores {
                seed,
                model_rmse: e.pooled.model_rmse,
                model_mae: e.pooled.model_mae,
                skill: e.pooled.skill,
                directional_accuracy: e.pooled.directional_accuracy,
                forecast: e.forecast.mean,
            })
            .collect();
        let over =
            |f: fn(&SeedScores) -> f64| describe(&per_seed.iter().map(f).collect::<Vec<_>>());
        SeedSpread {
            model_rmse: over(|s| s.model_rmse),
            model_mae: over(|s| s.model_mae),
            skill: over(|s| s.skill),
            directional_accuracy: over(|s| s.directional_accuracy),
            forecast: over(|s| s.forecast),
            per_seed,
        }
    }
}

/// One series' evaluation: its ensemble's, with each seed's scores and rows when there are several.
pub fn evaluate_series(
    named: &NamedSeries,
    config: &RunConfig,
    result: &SeriesResult,
) -> anyhow::Result<Evaluation> {
    let context = || format!("series \"{}\" ({})", named.name, named.series.source);
    let mut eval =
        evaluate(&named.series, config, &result.ensemble).map_err(|e| e.context(context()))?;
    eval.series = named.name.clone();
    if result.seeds.len() > 1 {
        let per: Vec<Evaluation> = result
            .seeds
            .iter()
            .map(|r| evaluate(&named.series, config, r))
            .collect::<anyhow::Result<_>>()
            .map_err(|e| e.context(context()))?;
        let seeds: Vec<u64> = result
            .seeds
            .iter()
            .map(|r| r.splits.first().map_or(0, |o| o.seed))
            .collect();
        let pairs: Vec<(u64, &Evaluation)> = seeds.iter().copied().zip(&per).collect();
        eval.seeds = Some(SeedSpread::new(&pairs));
        eval.history = per.iter().flat_map(|e| e.history.iter().copied()).collect();
        eval.seed_splits = per.into_iter().flat_map(|e| e.splits).collect();
    }
    Ok(eval)
}

/// `panel[]`: one series' headline, price units.
#[derive(Debug, Clone, Serialize)]
pub struct PanelRow {
    /// 1 = highest skill.
    pub rank: usize,
    pub series: String,
    pub data_file: String,
    pub first_date: String,
    pub last_date: String,
    pub splits: usize,
    pub model_rmse: f64,
    pub naive_rmse: f64,
    pub skill: f64,
    pub directional_accuracy: f64,
    /// With several seeds: the sample standard deviation of the skill over the seeds.
    pub skill_seed_std: Option<f64>,
    pub last_close: f64,
    pub forecast: f64,
    pub next_trading_day: String,
    /// Splits left out of the scores because they diverged.
    pub diverged_excluded: usize,
}

/// The metrics.json of a panel: the ranked summary, then each series' evaluation (the keys of a
/// one-series metrics.json).
#[derive(Debug, Clone, Serialize)]
pub struct PanelEvaluation {
    pub panel: Vec<PanelRow>,
    pub series: Vec<Evaluation>,
}

impl PanelEvaluation {
    /// Every series evaluated, and the summary ranked by skill (undefined skills last, then by name).
    pub fn new(
        panel: &[NamedSeries],
        config: &RunConfig,
        result: &PanelResult,
    ) -> anyhow::Result<PanelEvaluation> {
        anyhow::ensure!(
            panel.len() == result.series.len(),
            "{} series given for a result of {}",
            panel.len(),
            result.series.len()
        );
        let series: Vec<Evaluation> = panel
            .iter()
            .zip(&result.series)
            .map(|(named, r)| evaluate_series(named, config, r))
            .collect::<anyhow::Result<_>>()?;
        let mut rows: Vec<PanelRow> = series.iter().map(row).collect();
        rows.sort_by(|a, b| {
            let key = |r: &PanelRow| {
                if r.skill.is_nan() {
                    f64::NEG_INFINITY
                } else {
                    r.skill
                }
            };
            key(b)
                .total_cmp(&key(a))
                .then_with(|| a.series.cmp(&b.series))
        });
        for (i, r) in rows.iter_mut().enumerate() {
            r.rank = i + 1;
        }
        Ok(PanelEvaluation {
            panel: rows,
            series,
        })
    }
}

fn row(e: &Evaluation) -> PanelRow {
    PanelRow {
        rank: 0,
        series: e.series.clone(),
        data_file: e.run.data_file.clone(),
        first_date: e.run.first_date.clone(),
        last_date: e.run.last_date.clone(),
        splits: e.splits.len(),
        model_rmse: e.pooled.model_rmse,
        naive_rmse: e.pooled.naive_rmse,
        skill: e.pooled.skill,
        directional_accuracy: e.pooled.directional_accuracy,
        skill_seed_std: e.seeds.as_ref().map(|s| s.skill.std),
        last_close: e.forecast.last_close,
        forecast: e.forecast.mean,
        next_trading_day: e.forecast.next_trading_day.clone(),
        diverged_excluded: e.pooled.diverged_excluded,
    }
}
