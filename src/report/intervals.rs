//! Walk-forward conformal intervals of a run's forecasts (`--levels`, `--conformal K`): a split's
//! half-width at level L is the conformal quantile of the absolute dollar errors of the K most recent
//! splits whose validation windows ended before its own began ([`crate::metrics::intervals`]), so no
//! split's interval uses its own days or later ones. The naive forecast gets its own intervals the same
//! way, so the interval scores compare. Diverged splits are left out, as of every pooled figure.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::metrics::intervals::{
    conformal_half_widths, score_conformal, LevelScores, SplitValidation,
};

/// What `--levels` and `--conformal` ask for.
#[derive(Debug, Clone, PartialEq)]
pub struct IntervalSpec {
    /// Nominal coverages as fractions, ascending (0.8, 0.95).
    pub levels: Vec<f64>,
    /// Splits of history behind each interval.
    pub k: usize,
}

impl IntervalSpec {
    pub const DEFAULT_CONFORMAL: usize = 50;

    /// `lo-80`, `hi-80`, … (neuralforecast's names), in level order.
    pub fn columns(&self) -> Vec<String> {
        self.levels
            .iter()
            .flat_map(|&l| {
                let name = percent(l);
                [format!("lo-{name}"), format!("hi-{name}")]
            })
            .collect()
    }
}

/// `0.8` → `80`, `0.975` → `97.5`.
pub fn percent(level: f64) -> String {
    let p = (level * 1e6).round() / 1e4;
    let text = format!("{p:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// One split's validation window as the intervals need it (dollars).
pub struct ValWindow<'a> {
    pub split: usize,
    pub rows: &'a [usize],
    pub pred: &'a [f64],
    pub actual: &'a [f64],
    pub naive: &'a [f64],
    pub diverged: bool,
}

/// Pooled interval scores at one level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LevelSummary {
    pub level: f64,
    /// Share of (split, day) pairs whose actual close fell inside the interval (bounds included).
    pub coverage: f64,
    /// Mean width in dollars.
    pub mean_width: f64,
    /// Mean interval (Winkler) score in dollars: width plus 2/α times any miss.
    pub winkler: f64,
    /// Mean coverage of the 10 % of splits with the lowest coverage.
    pub worst_decile_coverage: f64,
    /// (split, day) pairs scored.
    pub days: usize,
}

fn summary(s: &LevelScores) -> LevelSummary {
    LevelSummary {
        level: s.level,
        coverage: s.pooled.coverage,
        mean_width: s.pooled.mean_width,
        winkler: s.pooled.winkler,
        worst_decile_coverage: s.worst_decile_coverage,
        days: s.pooled.days,
    }
}

/// metrics.json `intervals`.
#[derive(Debug, Clone, Serialize)]
pub struct IntervalsEval {
    pub method: String,
    pub conformal_k: usize,
    pub levels: Vec<f64>,
    /// Sound splits without K earlier splits (or with an interval that would be infinite): no interval.
    pub splits_without_interval: usize,
    pub splits_with_interval: usize,
    pub model: Vec<LevelSummary>,
    pub naive: Vec<LevelSummary>,
    /// Half-widths per level for the next-day forecast, from the K most recent splits (all of which
    /// ended before it); null without K sound splits. The forecast's interval is its mean ± these.
    pub forecast_half_widths: Option<Vec<f64>>,
    /// The model's half-widths per level, by split index (splits with an interval only).
    #[serde(skip)]
    pub half_widths: BTreeMap<usize, Vec<f64>>,
    /// The column names of the bands (`lo-80`, `hi-80`, …).
    #[serde(skip)]
    pub columns: Vec<String>,
}

impl IntervalsEval {
    /// The bands of a validation prediction `pred` of split `split`: `lo, hi` per level, or `None`.
    pub fn bands(&self, split: usize, pred: f64) -> Option<Vec<f64>> {
        self.half_widths
            .get(&split)
            .map(|h| h.iter().flat_map(|&w| [pred - w, pred + w]).collect())
    }
}

/// Per split, its half-widths per level, or `None`.
type HalfWidths = Vec<Option<Vec<f64>>>;

fn validations<'a>(
    windows: &[&ValWindow<'a>],
    forecast: fn(&ValWindow<'a>) -> &'a [f64],
) -> Vec<SplitValidation> {
    windows
        .iter()
        .map(|w| SplitValidation {
            val_start: w.rows.first().copied().unwrap_or(0),
            val_end: w.rows.last().map_or(0, |r| r + 1),
            forecast: forecast(w).to_vec(),
            actual: w.actual.to_vec(),
        })
        .collect()
}

/// The intervals of a run's splits (in split order, as the run holds them).
pub fn evaluate(spec: &IntervalSpec, windows: &[ValWindow]) -> anyhow::Result<IntervalsEval> {
    let mut sound: Vec<&ValWindow> = windows
        .iter()
        .filter(|w| !w.diverged && !w.rows.is_empty())
        .collect();
    // The conformal rule reads the splits in the order their windows start (and end).
    sound.sort_by_key(|w| (w.rows[0], w.rows[w.rows.len() - 1]));
    let model = validations(&sound, |w| w.pred);
    let naive = validations(&sound, |w| w.naive);
    let run = |splits: &[SplitValidation]| -> anyhow::Result<(HalfWidths, Vec<LevelScores>)> {
        let widths = conformal_half_widths(splits, &spec.levels, spec.k)
            .map_err(|e| anyhow::anyhow!("conformal intervals: {e}"))?;
        let scores = score_conformal(splits, &widths, &spec.levels)
            .map_err(|e| anyhow::anyhow!("interval scores: {e}"))?;
        Ok((widths, scores))
    };
    let (widths, model_scores) = run(&model)?;
    // The next-day forecast as one more split, after every window: its history is the K latest splits.
    let mut ahead = model.clone();
    let end = ahead.iter().map(|v| v.val_end).max().unwrap_or(0);
    ahead.push(SplitValidation {
        val_start: end,
        val_end: end + 1,
        forecast: vec![0.0],
        actual: vec![0.0],
    });
    let forecast_half_widths = conformal_half_widths(&ahead, &spec.levels, spec.k)
        .ok()
        .and_then(|w| w.last().cloned().flatten());
    let (_, naive_scores) = run(&naive)?;
    let half_widths: BTreeMap<usize, Vec<f64>> = sound
        .iter()
        .zip(widths)
        .filter_map(|(w, h)| h.map(|h| (w.split, h)))
        .collect();
    Ok(IntervalsEval {
        method: format!(
            "walk-forward conformal: each split's half-width is the ⌈(n+1)·L⌉-th smallest absolute dollar \
             error of the {} most recent splits whose validation windows ended before its own began \
             (n errors); splits without {} such splits get none",
            spec.k, spec.k
        ),
        conformal_k: spec.k,
        levels: spec.levels.clone(),
        splits_without_interval: sound.len() - half_widths.len(),
        splits_with_interval: half_widths.len(),
        model: model_scores.iter().map(summary).collect(),
        naive: naive_scores.iter().map(summary).collect(),
        forecast_half_widths,
        half_widths,
        columns: spec.columns(),
    })
}

/// report.md's section on the intervals: coverage against nominal, width and Winkler score of the
/// model's intervals beside naive's.
pub fn markdown(md: &mut String, eval: &IntervalsEval, forecast: f64) {
    use std::fmt::Write as _;
    let f = |v: f64, d: usize| {
        if v.is_finite() {
            format!("{v:.d$}")
        } else {
            "n/a".to_string()
        }
    };
    let _ = writeln!(
        md,
        "## Prediction intervals (walk-forward conformal)\n\nEach split's interval is its forecast ± a \
         half-width taken from the absolute dollar errors of the {k} most recent splits whose validation \
         windows ended before its own began (the ⌈(n+1)·L⌉-th smallest of those n errors), so no \
         interval uses its own days or later ones. {with} splits have intervals; the first {without} \
         (fewer than {k} earlier splits) have none. The naive forecast gets its own intervals the same \
         way. Winkler score: width plus 2/α times the miss (dollars, lower is better).\n",
        k = eval.conformal_k,
        with = eval.splits_with_interval,
        without = eval.splits_without_interval,
    );
    let _ = writeln!(
        md,
        "| level | model coverage | worst decile of splits | mean width ($) | Winkler ($) | naive coverage | naive width ($) | naive Winkler ($) |\n|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for (m, n) in eval.model.iter().zip(&eval.naive) {
        let _ = writeln!(
            md,
            "| {} % | {} % | {} % | {} | {} | {} % | {} | {} |",
            percent(m.level),
            f(100.0 * m.coverage, 1),
            f(100.0 * m.worst_decile_coverage, 1),
            f(m.mean_width, 2),
            f(m.winkler, 2),
            f(100.0 * n.coverage, 1),
            f(n.mean_width, 2),
            f(n.winkler, 2),
        );
    }
    if let Some(h) = &eval.forecast_half_widths {
        let bands: Vec<String> = eval
            .levels
            .iter()
            .zip(h)
            .map(|(&l, &w)| {
                format!(
                    "{} %: {} to {}",
                    percent(l),
                    f(forecast - w, 2),
                    f(forecast + w, 2)
                )
            })
            .collect();
        let _ = writeln!(
            md,
            "\nThe next-day forecast {} with its intervals: {}.",
            f(forecast, 2),
            bands.join("; ")
        );
    }
    let _ = writeln!(md);
}
