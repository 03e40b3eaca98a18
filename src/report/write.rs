//! Everything a finished run writes, from one place: the machine-readable files (metrics.json and the
//! CSVs, [`super::files`]), report.md, each series' checkpoint and plots (a panel's in `series/<name>/`),
//! a panel's skill plot, and the summary to print. The order is fixed (the summary lists the files in it)
//! and every file appears whole or not at all ([`crate::atomic`]).

use std::path::Path;

use anyhow::anyhow;

use super::evaluate::RunConfig;
use super::metrics_json::PanelEvaluation;
use super::{files, markdown, plots, summary};
use crate::checkpoint::{self, Checkpoint};
use crate::data::NamedSeries;
use crate::train::PanelResult;

/// What a finished run writes its results from.
#[derive(Debug, Clone, Copy)]
pub struct RunOutputs<'a> {
    /// The run directory (which must exist).
    pub dir: &'a Path,
    /// The series trained on, in the result's order.
    pub panel: &'a [NamedSeries],
    pub config: &'a RunConfig,
    pub result: &'a PanelResult,
}

/// Writes every result file of a finished run into `run.dir` and returns the summary for stdout.
pub fn write_run(run: &RunOutputs) -> anyhow::Result<String> {
    let evaluation = PanelEvaluation::new(run.panel, run.config, run.result)?;
    write_evaluated(run, &evaluation)
}

/// [`write_run`] with the run's evaluation already made (a sweep scores it too).
pub fn write_evaluated(run: &RunOutputs, evaluation: &PanelEvaluation) -> anyhow::Result<String> {
    let mut written: Vec<String> = files::write_all(run.dir, evaluation)?
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    written.extend(write_human(run, evaluation)?);
    Ok(summary::render_panel(evaluation, run.dir, &written))
}

/// The human-facing outputs beside the machine-readable files: report.md, the checkpoints and the
/// plots (a panel's per-series ones in `series/<name>/`, and its skill plot). Returns the files written,
/// relative to `run.dir`.
fn write_human(run: &RunOutputs, evaluation: &PanelEvaluation) -> anyhow::Result<Vec<String>> {
    let dir = run.dir;
    let relative = |p: &Path| p.strip_prefix(dir).unwrap_or(p).display().to_string();
    let mut names = vec![relative(&markdown::write(dir, evaluation, run.config)?)];
    let spec = &run.config.spec;
    let series = run
        .panel
        .iter()
        .zip(&evaluation.series)
        .zip(&run.result.series);
    for ((named, eval), r) in series {
        let sub = if run.panel.len() == 1 {
            dir.to_path_buf()
        } else {
            dir.join(files::series_dir(&named.name))
        };
        std::fs::create_dir_all(&sub)
            .map_err(|e| anyhow!("cannot create {}: {e}", sub.display()))?;
        let models = &r.ensemble.forecast_models;
        // Every forecast model diverged: there is nothing worth saving (the report says so).
        if !models.is_empty() {
            let path = sub.join(files::MODEL_SAFETENSORS);
            let contents = Checkpoint {
                layout: &spec.layout,
                lookback: spec.splits.lookback,
                feature_names: &named.series.feature_names,
                target_name: &named.series.target_name,
                protocol: spec.protocol.as_str(),
                models,
                trained_through: Some(&eval.forecast.last_window_date),
            };
            // The output directory was checked (or `--force` given) before training: a finished run
            // replaces its own results.
            checkpoint::save(&path, &contents, true)?;
            names.push(relative(&path));
        }
        names.extend(plots::write_all(&sub, eval)?.iter().map(|p| relative(p)));
    }
    if run.panel.len() > 1 {
        names.extend(
            plots::skill::write(dir, evaluation)?
                .iter()
                .map(|p| relative(p)),
        );
    }
    Ok(names)
}
