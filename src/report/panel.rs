//! A run over several series, evaluated: each series' [`Evaluation`] ([`evaluate_series`], with its
//! seeds' spread) and the panel's summary, one row per series ranked by skill.

use super::evaluate::{evaluate_series, RunConfig};
use super::metrics_json::{Evaluation, PanelEvaluation, PanelRow};
use crate::data::NamedSeries;
use crate::train::PanelResult;

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
