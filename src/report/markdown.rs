//! `report.md`: the run explained for a person. It leads with the honest answer (how the model did
//! against tomorrow = today, in dollars, and what it says about the next day), then gives the run's
//! configuration, the reference report's Tables 1–3 in scaled units (with the report's own numbers
//! beside ours for the seed protocol), the same in price units, the persistence baseline, the forecast,
//! the known weaknesses of the reference experiment, and the plots.
//!
//! Everything here is formatted from the [`Evaluation`]; nothing is computed that `metrics.json` does not
//! also hold, except counts and comparisons derived directly from its per-split rows.

use crate::train::protocol::{Protocol, ScalerMode};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::evaluate::RunConfig;
use super::files::REPORT_MD;
use super::format::{dollars, duration, percent, plural, sig, signed, significant};
use super::metrics_json::{Evaluation, MetricDescribe, PanelEvaluation, RunInfo};
use super::verdicts;
use crate::fit::EarlyStopRule;
use crate::metrics::{Describe, Regression};
use crate::model::DEFAULT_LAYERS;

/// The reference report's published numbers, copied as printed from its section VII ("Results from my
/// LSTM-RNN model"): `../shared/reference/000_1719b1e6e84934bc.txt` in the project's shared folder,
/// Tables 1, 2 and 3 and the forecast paragraph. Kept as the printed text, so no digits are invented.
pub mod reference {
    use crate::data::SplitConfig;
    use crate::fit::{AdamConfig, Hyper};

    /// Columns of every table: MSE, RMSE, MAE, R², explained variance score (scaled units).
    pub const METRICS: [&str; 5] = ["MSE", "RMSE", "MAE", "R²", "EVS"];
    /// Table 1, "Metrics calculated on the entire training and validation sets": training row.
    pub const TABLE1_TRAIN: [&str; 5] =
        ["0.000228", "0.015099", "0.011256", "0.959285", "0.962397"];
    /// Table 1: validation row.
    pub const TABLE1_VAL: [&str; 5] = ["0.000312", "0.017653", "0.015108", "0.657239", "0.663785"];
    /// Row labels of Tables 2 and 3 (pandas `describe`).
    pub const STATS: [&str; 8] = ["count", "mean", "std", "min", "25%", "50%", "75%", "max"];
    /// Table 2, "Train Metrics per Split": `[statistic][metric]`.
    pub const TABLE2: [[&str; 5]; 8] = [
        ["988", "988", "988", "988", "988"],
        ["0.00025", "0.01551", "0.01207", "0.94086", "0.94924"],
        ["0.00010", "0.00305", "0.00247", "0.02939", "0.02395"],
        ["0.00010", "0.01000", "0.00777", "0.80233", "0.88142"],
        ["0.00017", "0.01288", "0.00996", "0.92241", "0.93281"],
        ["0.00024", "0.01545", "0.01201", "0.94263", "0.94942"],
        ["0.00031", "0.01770", "0.01383", "0.96583", "0.97119"],
        ["0.00092", "0.03033", "0.02280", "0.98576", "0.98629"],
    ];
    /// Table 3, "Validation Metrics per Split": `[statistic][metric]`.
    pub const TABLE3: [[&str; 5]; 8] = [
        ["988", "988", "988", "988", "988"],
        ["0.00042", "0.01821", "0.01514", "-0.7441", "0.02609"],
        ["0.00069", "0.00939", "0.00840", "2.10490", "0.84053"],
        ["0.00002", "0.00422", "0.00308", "-22.363", "-7.4521"],
        ["0.00016", "0.01253", "0.01018", "-0.9936", "-0.2316"],
        ["0.00027", "0.01631", "0.01337", "-0.1744", "0.22226"],
        ["0.00047", "0.02164", "0.01805", "0.31715", "0.55399"],
        ["0.00995", "0.09978", "0.08710", "0.87861", "0.97429"],
    ];
    /// The forecast paragraph: predicted close, and the "actual" close it was compared with, which is
    /// the close of 07/26/2024, the last row of the data (the day the inputs end, not the day forecast).
    pub const FORECAST: f64 = 217.29;
    pub const ACTUAL: f64 = 217.96;
    pub const ACTUAL_DATE: &str = "2024-07-26";
    /// Splits the report's loop ran (the last possible split skipped).
    pub const SPLITS: usize = 988;
    /// The report's run settings, to say where this run differs (`train`'s defaults are the report's
    /// settings, so they are read from the configuration types).
    pub const ROWS: usize = 1258;
    pub const FIRST_DATE: &str = "2019-07-29";
    pub const LAST_DATE: &str = "2024-07-26";
    pub const LOOKBACK: usize = SplitConfig::DEFAULT_LOOKBACK;
    pub const TRAIN_WINDOW: usize = SplitConfig::DEFAULT_TRAIN_WINDOW;
    pub const VAL_WINDOW: usize = SplitConfig::DEFAULT_VAL_WINDOW;
    pub const STEP: usize = SplitConfig::DEFAULT_STEP;
    pub const EPOCHS: usize = Hyper::DEFAULT_EPOCHS;
    pub const BATCH: usize = Hyper::DEFAULT_BATCH_SIZE;
    pub const PATIENCE: usize = Hyper::DEFAULT_PATIENCE;
    pub const LR: f64 = AdamConfig::DEFAULT_LR;
}

/// Writes `report.md` into `dir` (which must exist) and returns its path. The plots are linked by
/// their paths relative to `dir` (a panel's per-series plots in [`super::files::series_dir`]).
pub fn write(dir: &Path, panel: &PanelEvaluation, config: &RunConfig) -> anyhow::Result<PathBuf> {
    let path = dir.join(REPORT_MD);
    let text = match panel.series.as_slice() {
        [one] => render(one, config),
        _ => render_panel(panel, config),
    };
    crate::atomic::write(&path, text.as_bytes())
        .with_context(|| format!("{}: cannot write the report", path.display()))?;
    Ok(path)
}

/// The report of a one-series run (Markdown, ends with a newline).
pub fn render(eval: &Evaluation, config: &RunConfig) -> String {
    // Writing into a String cannot fail; the results of `writeln!` are ignored for that reason.
    let mut md = "# gpulstm run report\n\n".to_string();
    md.push_str(&render_body(eval, config, ""));
    md
}

/// A panel's report: the summary ranked by skill, the skill plot, then every series' own report with
/// its headings one level down and its plots in its series directory.
pub fn render_panel(panel: &PanelEvaluation, config: &RunConfig) -> String {
    let mut md = "# gpulstm panel report\n\n".to_string();
    panel_summary(&mut md, panel);
    for eval in &panel.series {
        let prefix = format!("{}/", super::files::series_dir(&eval.series).display());
        let _ = writeln!(md, "## {}\n", esc(&eval.series));
        for line in render_body(eval, config, &prefix).lines() {
            if line.starts_with('#') {
                md.push('#');
            }
            md.push_str(line);
            md.push('\n');
        }
    }
    if let Some(first) = panel.series.first() {
        weaknesses(&mut md, first);
    }
    let _ = writeln!(
        md,
        "## Files\n\n\
         - `metrics.json`: `panel` (the summary above) and `series` (every number of each series' section).\n\
         - `splits.csv`, `history.csv`, `predictions.csv`: every series' rows, with a `series` column.\n\
         - `series/<name>/`: each series' plots and `model.safetensors` (its forecast models).\n\
         - `{0}.png`, `{0}.svg`: the skill plot above.",
        super::plots::PANEL_PLOT
    );
    md
}

fn panel_summary(md: &mut String, panel: &PanelEvaluation) {
    let (Some(first), n) = (panel.series.first(), panel.series.len()) else {
        return;
    };
    let r = &first.run;
    let splits: usize = panel.series.iter().map(|e| e.splits.len()).sum();
    let wins = panel.panel.iter().filter(|p| p.skill > 0.0).count();
    let _ = writeln!(
        md,
        "{} protocol over {n} series: {splits} splits, {} model{} per split, trained together on {} in \
         {}. Generated by gpulstm {}.\n\n\
         ## Panel summary\n\n\
         Pooled validation scores of each series in price units, best skill first (skill = 1 − model RMSE / \
         naive RMSE: above 0 the model beats tomorrow = today). {wins} of {n} series beat the naive \
         forecast.\n",
        r.protocol,
        r.seeds,
        plural(r.seeds),
        esc(&r.backend),
        duration(r.wall_seconds),
        r.gpulstm_version
    );
    let seeds = r.seeds > 1;
    let _ = writeln!(
        md,
        "| rank | series | data | splits | RMSE | naive RMSE | skill |{} direction | last close | forecast |",
        if seeds { " skill std over seeds |" } else { "" }
    );
    let _ = writeln!(
        md,
        "|---:|---|---|---:|---:|---:|---:|{}---:|---:|---:|",
        if seeds { "---:|" } else { "" }
    );
    for p in &panel.panel {
        let _ = writeln!(
            md,
            "| {} | {} | {} ({} to {}) | {} | {} | {} | {} |{} {} | {} | {} on {} |",
            p.rank,
            esc(&p.series),
            esc(&p.data_file),
            p.first_date,
            p.last_date,
            p.splits,
            dollars(p.model_rmse),
            dollars(p.naive_rmse),
            signed(p.skill),
            p.skill_seed_std
                .map(|s| format!(" {} |", num(s)))
                .unwrap_or_default(),
            percent(p.directional_accuracy),
            dollars(p.last_close),
            dollars(p.forecast),
            p.next_trading_day
        );
    }
    let _ = writeln!(
        md,
        "\n![skill by series]({0}.png)\n\n([SVG]({0}.svg))\n",
        super::plots::PANEL_PLOT
    );
}

/// One series' report without its title; plot links start with `plots`.
fn render_body(eval: &Evaluation, config: &RunConfig, plot_dir: &str) -> String {
    let mut md = String::new();
    let r = &eval.run;
    let seed = r.protocol == Protocol::Seed;
    let _ = writeln!(
        md,
        "{} protocol, {} split{} of {} ({} to {}), trained on {} in {}. Generated by gpulstm {}.\n",
        r.protocol,
        r.splits,
        plural(r.splits),
        esc(&r.data_file),
        r.first_date,
        r.last_date,
        esc(&r.backend),
        duration(r.wall_seconds),
        r.gpulstm_version
    );
    in_short(&mut md, eval);
    configuration(&mut md, eval, config);
    table1(&mut md, eval);
    describe_tables(&mut md, eval);
    super::seed_tables::section(&mut md, eval);
    price_units(&mut md, eval);
    baseline(&mut md, eval);
    if let Some(i) = &eval.intervals {
        super::intervals::markdown(&mut md, i, eval.forecast.mean);
    }
    seed_spread(&mut md, eval);
    forecast(&mut md, eval);
    // A panel says these once, after its series (the configuration is the same for all).
    if plot_dir.is_empty() {
        weaknesses(&mut md, eval);
    }
    plots(&mut md, seed, plot_dir);
    if plot_dir.is_empty() {
        files(&mut md);
    }
    md
}

/// With several seeds: how much of each score is luck.
fn seed_spread(md: &mut String, eval: &Evaluation) {
    let Some(s) = &eval.seeds else {
        return;
    };
    let p = &eval.pooled;
    let who = if eval.run.protocol == Protocol::Seed {
        format!(
            "{} carried models, each through every split, differ only in their seed (initial weights, \
             shuffles, dropout); each split's prediction is their mean (the ensemble).",
            s.per_seed.len()
        )
    } else {
        format!(
            "Every split trained {} models that differ only in their seed (initial weights, shuffles, \
             dropout); each split's prediction is their mean (the ensemble).",
            s.per_seed.len()
        )
    };
    let _ = writeln!(
        md,
        "## Seeds: how much of the score is luck\n\n{who} Pooled validation scores of each seed's \
         models alone, and of the ensemble:\n\n\
         | score | ensemble | seeds: mean | std | min | max |\n|---|---:|---:|---:|---:|---:|"
    );
    // Each score in its own units; a skill's spread without the sign a skill carries.
    type Row<'a> = (
        &'a str,
        f64,
        &'a crate::metrics::Describe,
        fn(f64) -> String,
    );
    let rows: [Row; 5] = [
        ("RMSE", p.model_rmse, &s.model_rmse, dollars),
        ("MAE", p.model_mae, &s.model_mae, dollars),
        ("skill vs naive", p.skill, &s.skill, signed),
        (
            "directional accuracy",
            p.directional_accuracy,
            &s.directional_accuracy,
            percent,
        ),
        (
            "next-day forecast",
            eval.forecast.mean,
            &s.forecast,
            dollars,
        ),
    ];
    for (name, ensemble, d, f) in rows {
        let std = if name.starts_with("skill") {
            sig(d.std, 2)
        } else {
            f(d.std)
        };
        let _ = writeln!(
            md,
            "| {name} | {} | {} | {std} | {} | {} |",
            f(ensemble),
            f(d.mean),
            f(d.min),
            f(d.max)
        );
    }
    let _ = writeln!(
        md,
        "\nA skill whose spread over the seeds crosses zero says nothing about the model beating the \
         naive forecast. Each seed's own splits are the rows of `splits.csv` with its seed; the \
         ensemble's have an empty seed.\n"
    );
}

// ---------------------------------------------------------------------------------------------------
// Sections.

fn in_short(md: &mut String, eval: &Evaluation) {
    let r = &eval.run;
    let p = &eval.pooled;
    let wins = model_wins(eval);
    let n = eval.splits.len();
    let (first, last) = validation_span(eval);
    let _ = writeln!(md, "## In short\n");
    let verdict = if !p.skill.is_finite() {
        "the comparison is undefined (the naive error is zero)".to_string()
    } else if p.skill > 0.0 {
        format!(
            "the model **beat** the naive forecast by {} of its error",
            percent(p.skill)
        )
    } else {
        format!(
            "the model was **worse** than the naive forecast: its error was {} larger",
            percent(-p.skill)
        )
    };
    let _ = writeln!(
        md,
        "- On {} validation prediction{} ({} to {}), the model's one-day-ahead {} was off by {} \
         (RMSE; MAE {}). Repeating the last close (the naive forecast, tomorrow = today) was off by \
         {} (MAE {}): {verdict}.",
        p.predictions,
        plural(p.predictions),
        first,
        last,
        esc(&r.target),
        dollars(p.model_rmse),
        dollars(p.model_mae),
        dollars(p.naive_rmse),
        dollars(p.naive_mae),
    );
    let _ = writeln!(md, "- {}.", capitalised(&verdicts::baselines(eval)));
    let _ = writeln!(md, "- {}.", capitalised(&verdicts::returns(eval)));
    let _ = writeln!(md, "- {}.", capitalised(&verdicts::trading(eval)));
    let _ = writeln!(
        md,
        "- Split by split, the model had the lower validation RMSE on {wins} of {n} split{} ({}).",
        plural(n),
        percent(wins as f64 / n.max(1) as f64)
    );
    let _ = writeln!(
        md,
        "- It predicted the direction of the next move (up or down from the last close) correctly on {} \
         of the days; a coin flip gets about 50%.",
        percent(p.directional_accuracy)
    );
    let f = &eval.forecast;
    let members = if f.members.len() > 1 {
        format!(
            ", the mean of {} models ranging {} to {}",
            f.members.len(),
            dollars(f.min),
            dollars(f.max)
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        md,
        "- Forecast for {}: **{}**{members} (last close {} on {}).",
        f.next_trading_day,
        dollars(f.mean),
        dollars(f.last_close),
        f.last_date
    );
    if eval.pooled.diverged_excluded > 0 {
        let _ = writeln!(
            md,
            "- **{} of {} models diverged** (loss NaN or infinite, or validation MSE above {} in scaled \
             units): they are marked in `splits.csv` and left out of every pooled figure, table and the \
             forecast.",
            eval.pooled.diverged_excluded,
            eval.splits.len(),
            crate::fit::DIVERGED_VAL_LOSS
        );
    }
    for warning in &f.warnings {
        let _ = writeln!(md, "- **Caution:** {warning}.");
    }
    if eval.forecast.stale {
        let _ = writeln!(
            md,
            "- **Caution:** the forecast models' windows end on {}, {} rows before the data ends \
             (`--max-splits` or `--to`; `--last-splits N` keeps the newest splits), so the forecast comes from models that never saw the recent prices.",
            f.last_window_date, f.rows_after_last_window
        );
    }
    if r.protocol == Protocol::Seed {
        let _ = writeln!(
            md,
            "- Seed protocol: one model carried through all splits and scored at the end, as the \
             reference report did. Its \"validation\" windows were mostly trained on by later splits, so \
             these scores are not out-of-sample (see [Known weaknesses](#known-weaknesses-of-the-reference-experiment))."
        );
    }
    if r.scaler == ScalerMode::Global {
        let _ = writeln!(
            md,
            "- The scaler was fitted on the whole series (`--scaler global`), which leaks the future \
             price range into every model."
        );
    }
    md.push('\n');
}

fn configuration(md: &mut String, eval: &Evaluation, config: &RunConfig) {
    let r = &eval.run;
    let adam = &config.spec.hyper.adam;
    let _ = writeln!(md, "## Run configuration\n");
    let _ = writeln!(md, "| setting | value |\n|---|---|");
    let mut row = |k: &str, v: String| {
        let _ = writeln!(md, "| {k} | {v} |");
    };
    row(
        "data",
        format!(
            "`{}` ({} format{}), {} rows, {} to {}",
            esc(&r.data_file),
            r.data_format,
            if r.adjusted {
                ", prices adjusted by Adj Close / Close"
            } else {
                ""
            },
            r.rows,
            r.first_date,
            r.last_date
        ),
    );
    row(
        "features",
        r.features
            .iter()
            .map(|f| format!("`{}`", esc(f)))
            .collect::<Vec<_>>()
            .join(", "),
    );
    row("target", format!("`{}`", esc(&r.target)));
    row(
        "target transform",
        format!(
            "`{}`{}",
            r.target_transform,
            if r.target_transform == crate::data::TargetTransform::Level {
                ": the model learns the next close itself".to_string()
            } else {
                format!(
                    ": the model learns `{}` of the next close from the last; its predictions are \
                     turned back into closes from the last close it saw",
                    r.target_transform
                )
            }
        ),
    );
    row("scaler kind", format!("`{}`", r.scaler_kind));
    if r.warmup_rows_dropped > 0 {
        row(
            "rows dropped",
            format!(
                "{}: the first rows the derived features cannot compute",
                r.warmup_rows_dropped
            ),
        );
    }
    row(
        "protocol",
        if r.protocol == Protocol::Seed {
            "seed: the reference report's loop, one model trained through the splits in order (weights \
             and Adam state carried over), scored at the end"
                .to_string()
        } else {
            "walk-forward: every split trains its own model from its own seeded initialisation and is \
             scored on the days after its training window"
                .to_string()
        },
    );
    row(
        "windows",
        format!(
            "{}: look-back {} rows; train {} samples, validate on the next {}; step {}",
            r.window, r.lookback, r.train_window, r.val_window, r.step
        ),
    );
    row(
        "splits",
        match r.max_splits {
            Some(max) => format!("{} (`--max-splits {max}`)", r.splits),
            None => format!(
                "{} (every split{})",
                r.splits,
                if r.protocol == Protocol::Seed {
                    " of the report's loop, which skips the last one"
                } else {
                    " that fits"
                }
            ),
        },
    );
    row(
        "scaler",
        if r.scaler == ScalerMode::Global {
            "global: min–max fitted on the whole series (the report's choice; leaks the future range)"
                .to_string()
        } else {
            "train: min–max fitted on each split's training rows only".to_string()
        },
    );
    row(
        "layers",
        format!("`{}` ({} parameters)", r.layers, r.parameters),
    );
    row(
        "training",
        format!(
            "up to {} epochs, batch {}, Adam lr {} (β1 {}, β2 {}, ε {:e}), MSE loss; early stopping on \
             validation loss with patience {}",
            r.epochs, r.batch_size, r.lr, adam.beta1, adam.beta2, adam.epsilon, r.patience
        ),
    );
    row("early stopping", early_stopping_row(r));
    row("seed", r.seed.to_string());
    row(
        "initial weights",
        match &r.init_weights {
            Some(p) => format!("from `{}`", esc(p)),
            None => "seeded Keras-default initialisation".to_string(),
        },
    );
    if r.protocol == Protocol::WalkForward {
        row(
            "forecast ensemble",
            format!(
                "last {} splits' models (`--ensemble-last`)",
                r.ensemble_last
            ),
        );
    }
    row("backend", esc(&r.backend));
    row("wall time", duration(r.wall_seconds));
    for note in &r.notes {
        row("note", esc(note));
    }
    md.push('\n');
}

/// `--early-stopping` in words: what the rule does, and for the seed protocol why it is the default.
fn early_stopping_row(r: &RunInfo) -> String {
    let rule = r.early_stopping;
    let what = match rule {
        EarlyStopRule::Keras36 => {
            "the best validation loss carries from fit to fit when one callback is reused; best weights \
             restored at the end of every fit"
        }
        EarlyStopRule::Keras37 => "each fit starts from a reset best; best weights restored at the end",
        EarlyStopRule::TfKeras2 => {
            "each fit starts from a reset best; best weights restored only when the patience ran out"
        }
    };
    let mut text = format!("`{}` ({}): {what}", rule.name(), rule.releases());
    if r.protocol == Protocol::Seed && rule == Protocol::Seed.default_stopping() {
        text.push_str(
            ". The seed protocol's default: the report's script reuses one callback, and only this \
             behaviour comes near the report's tables (README, *Protocols*)",
        );
    }
    text
}
fn table1(md: &mut String, eval: &Evaluation) {
    let t = &eval.table1;
    let seed = eval.run.protocol == Protocol::Seed;
    let _ = writeln!(
        md,
        "## Table 1: train and validation metrics (scaled units)\n"
    );
    let _ = writeln!(md, "What it is: {}.\n", esc(&t.definition));
    let _ = writeln!(
        md,
        "- train: {}\n- validation: {}\n",
        what_with_count(&t.train.what, t.train.predictions),
        what_with_count(&t.val.what, t.val.predictions)
    );
    let ours_train = metric_values(&t.train.scaled);
    let ours_val = metric_values(&t.val.scaled);
    if seed {
        let _ = writeln!(
            md,
            "| metric | train | train (report) | validation | validation (report) |\n|---|---:|---:|---:|---:|"
        );
        for (k, name) in reference::METRICS.iter().enumerate() {
            let _ = writeln!(
                md,
                "| {name} | {} | *{}* | {} | *{}* |",
                num(ours_train[k]),
                reference::TABLE1_TRAIN[k],
                num(ours_val[k]),
                reference::TABLE1_VAL[k]
            );
        }
        let _ = writeln!(md, "\n*Italics: the reference report's Table 1.*\n");
        report_differences(md, &eval.run);
    } else {
        let _ = writeln!(md, "| metric | train | validation |\n|---|---:|---:|");
        for (k, name) in reference::METRICS.iter().enumerate() {
            let _ = writeln!(
                md,
                "| {name} | {} | {} |",
                num(ours_train[k]),
                num(ours_val[k])
            );
        }
        let _ = writeln!(
            md,
            "\nThe reference report's Table 1 (validation RMSE 0.017653) measured a different thing \
             (one model trained through every split, scored on the last split's windows); run \
             `--protocol seed` to compare with it."
        );
    }
    md.push('\n');
}

fn describe_tables(md: &mut String, eval: &Evaluation) {
    let seed = eval.run.protocol == Protocol::Seed;
    let d = &eval.describe.scaled;
    let intro = if seed {
        "Each split's windows scored by the carried model right after its fit on that split (the \
         weights early stopping kept), summarised over the splits with pandas `describe`. Italic rows \
         are the reference report's numbers."
    } else {
        "Each split's own model on its own windows, summarised over the splits with pandas `describe`."
    };
    let days = eval.run.val_window;
    let _ = writeln!(
        md,
        "## Tables 2 and 3: metrics per split (scaled units)\n\n{intro} R² and EVS of a {days}-day \
         validation window compare the errors with the variation inside those {days} days, so they \
         swing wildly and are often negative even when the dollar error is small.\n"
    );
    let reference_table2 = seed.then_some(&reference::TABLE2);
    let reference_table3 = seed.then_some(&reference::TABLE3);
    let _ = writeln!(md, "### Table 2: training windows\n");
    describe_table(md, &d.train, reference_table2, num);
    let _ = writeln!(md, "### Table 3: validation windows\n");
    describe_table(md, &d.val, reference_table3, num);
}

fn price_units(md: &mut String, eval: &Evaluation) {
    let t = &eval.table1;
    let _ = writeln!(
        md,
        "## The same in price units\n\nThe report gave only scaled numbers, whose size depends on the \
         scaler's range; these are in the target's own units ({}). MSE is in squared units.\n",
        esc(&eval.run.target)
    );
    let _ = writeln!(md, "### Table 1 in price units\n");
    let _ = writeln!(md, "| metric | train | validation |\n|---|---:|---:|");
    let train = metric_values(&t.train.price);
    let val = metric_values(&t.val.price);
    for (k, name) in reference::METRICS.iter().enumerate() {
        let _ = writeln!(
            md,
            "| {name} | {} | {} |",
            price_metric(k, train[k]),
            price_metric(k, val[k])
        );
    }
    md.push('\n');
    let _ = writeln!(md, "### Table 2 in price units: training windows\n");
    describe_table_by_metric(md, &eval.describe.price.train);
    let _ = writeln!(md, "### Table 3 in price units: validation windows\n");
    describe_table_by_metric(md, &eval.describe.price.val);
}

fn baseline(md: &mut String, eval: &Evaluation) {
    let d = &eval.describe;
    let p = &eval.pooled;
    let wins = model_wins(eval);
    let n = eval.splits.len();
    let _ = writeln!(
        md,
        "## Against the naive forecast (tomorrow = today)\n\nThe naive forecast predicts each day's close \
         as the previous day's close. On daily prices it is hard to beat, and the reference report never \
         compared with it. Both are scored on the same validation days, in price units. Skill = \
         1 − RMSE(model) / RMSE(naive): above 0 the model is better.\n"
    );
    let _ = writeln!(
        md,
        "| | model | naive |\n|---|---:|---:|\n\
         | RMSE, all validation predictions pooled | {} | {} |\n\
         | MAE, pooled | {} | {} |\n\
         | RMSE, mean over splits | {} | {} |\n\
         | RMSE, median over splits | {} | {} |\n\
         | MAE, mean over splits | {} | {} |\n",
        dollars(p.model_rmse),
        dollars(p.naive_rmse),
        dollars(p.model_mae),
        dollars(p.naive_mae),
        dollars(d.price.val.rmse.mean),
        dollars(d.naive_val_price.rmse.mean),
        dollars(d.price.val.rmse.q50),
        dollars(d.naive_val_price.rmse.q50),
        dollars(d.price.val.mae.mean),
        dollars(d.naive_val_price.mae.mean),
    );
    let _ = writeln!(
        md,
        "- Skill, pooled: **{}**; per split: mean {}, median {}, from {} to {}.",
        signed(p.skill),
        signed(d.skill.mean),
        signed(d.skill.q50),
        signed(d.skill.min),
        signed(d.skill.max)
    );
    let _ = writeln!(
        md,
        "- The model had the lower validation RMSE on {wins} of {n} split{} ({}).",
        plural(n),
        percent(wins as f64 / n.max(1) as f64)
    );
    let _ = writeln!(
        md,
        "- Directional accuracy (share of validation days where the predicted move from the last close \
         has the sign of the actual move): {} pooled over {} predictions; per split mean {}, from {} to \
         {}. The naive forecast predicts no move, so it has no direction to score.\n",
        percent(p.directional_accuracy),
        p.predictions,
        percent(d.directional_accuracy.mean),
        percent(d.directional_accuracy.min),
        percent(d.directional_accuracy.max)
    );
    if p.distinct_dates < p.predictions {
        let _ = writeln!(
            md,
            "Validation windows overlap (step {} < window {}), so the {} pooled predictions cover {} \
             different days; each day is counted once per split that predicted it.\n",
            eval.run.step, eval.run.val_window, p.predictions, p.distinct_dates
        );
    }
    let _ = writeln!(
        md,
        "### The naive forecast's validation metrics per split (price units)\n"
    );
    describe_table_by_metric(md, &d.naive_val_price);
}

fn forecast(md: &mut String, eval: &Evaluation) {
    let f = &eval.forecast;
    let seed = eval.run.protocol == Protocol::Seed;
    let _ = writeln!(md, "## Next-day forecast\n");
    let _ = writeln!(
        md,
        "| | |\n|---|---|\n\
         | date forecast | {} ({}) |\n\
         | predicted {} | **{}** |\n\
         | last observed | {} on {} |\n\
         | method | {} |",
        f.next_trading_day,
        esc(&f.calendar),
        esc(&eval.run.target),
        dollars(f.mean),
        dollars(f.last_close),
        f.last_date,
        esc(&f.method)
    );
    let _ = writeln!(
        md,
        "| last day the models trained or validated on | {} ({} row{} before the data ends) |",
        f.last_window_date,
        f.rows_after_last_window,
        plural(f.rows_after_last_window)
    );
    if f.members.len() > 1 {
        let _ = writeln!(
            md,
            "| spread of the {} models | min {}, max {}, std {} |",
            f.members.len(),
            dollars(f.min),
            dollars(f.max),
            dollars(f.std)
        );
    }
    md.push('\n');
    if f.members.len() > 1 {
        let _ = writeln!(md, "| model of split | predicted |\n|---:|---:|");
        for m in &f.members {
            let _ = writeln!(md, "| {} | {} |", m.split, dollars(m.price));
        }
        md.push('\n');
    }
    // The evaluation's note says the same as the caution and the seed call-out below; written here in
    // full sentences instead of repeated.
    if eval.forecast.stale {
        let _ = writeln!(
            md,
            "**Caution:** the forecast models' windows end on {}, {} rows before the data ends \
             (`--max-splits` or `--to`; `--last-splits N` keeps the newest splits): they forecast from prices they were never trained near{}.\n",
            f.last_window_date,
            f.rows_after_last_window,
            if eval.run.scaler == ScalerMode::Train {
                ", with scalers fitted on older prices"
            } else {
                ""
            }
        );
    }
    if seed {
        let _ = writeln!(
            md,
            "> **The report's \"average\" was a no-op.** The reference script collected one prediction \
             per split ({} of them in the report) and averaged them, but every one came from the same \
             final model on the same last {} rows, so all were identical and the average is just that \
             one prediction. This run's single prediction is the whole forecast.",
            reference::SPLITS,
            eval.run.lookback
        );
        let _ = writeln!(
            md,
            ">\n> The report predicted {} and compared it with an \"actual\" close of {}, which is the \
             close of {}, the last row of its data: the day its inputs end, not the day it forecast. \
             This run's forecast is {} for {}.\n",
            dollars(reference::FORECAST),
            dollars(reference::ACTUAL),
            reference::ACTUAL_DATE,
            dollars(f.mean),
            f.next_trading_day
        );
    }
}

fn weaknesses(md: &mut String, eval: &Evaluation) {
    let r = &eval.run;
    let seed = r.protocol == Protocol::Seed;
    let _ = writeln!(md, "## Known weaknesses of the reference experiment\n");
    let _ = writeln!(
        md,
        "The reference report's method has flaws that this engine exposes instead of copying silently:\n"
    );
    let leak = if r.scaler == ScalerMode::Global {
        "**This run used it (`--scaler global`), so its scores are optimistic.**"
    } else {
        "This run did not: each split's scaler was fitted on its training rows only (`--scaler train`)."
    };
    let _ = writeln!(
        md,
        "- **Scaler leakage.** The report fitted its min–max scaler on the whole series, so every model \
         was fed inputs scaled with the future's minimum and maximum. {leak}"
    );
    let skipped = if seed && r.max_splits.is_some_and(|m| m <= r.splits) {
        format!(
            "The seed protocol reproduces this; this run was cut to its first {} split{} by \
             `--max-splits` anyway.",
            r.splits,
            plural(r.splits)
        )
    } else if seed {
        format!(
            "The seed protocol reproduces this, so this run has {} split{} where {} would fit.",
            r.splits,
            plural(r.splits),
            r.splits + 1
        )
    } else {
        "Walk-forward runs every split that fits, the last one included.".to_string()
    };
    let _ = writeln!(
        md,
        "- **The last split skipped.** The report's loop stops one split early (it requires the \
         validation window to end before the last sample instead of at it), so its final, most recent \
         window was never trained or scored. {skipped}"
    );
    let _ = writeln!(
        md,
        "- **No naive baseline.** Daily closes move little from one day to the next, so small scaled \
         errors can still lose to repeating the last close. The report never checked; here the model's \
         pooled RMSE is {} against the naive {} (skill {}).",
        dollars(eval.pooled.model_rmse),
        dollars(eval.pooled.naive_rmse),
        signed(eval.pooled.skill)
    );
    let _ = writeln!(
        md,
        "- **Scaled units only.** A scaled RMSE means nothing in dollars until multiplied by the \
         scaler's range; the price-unit tables above give the dollar errors."
    );
    let _ = writeln!(
        md,
        "- **In-sample \"validation\".** In the report's loop one model keeps training through the \
         splits: early stopping chose each split's weights by the very validation window its Tables 2 \
         and 3 then score (and by the overlapping windows of the splits before it), the final model of \
         Table 1 had trained on every earlier split's validation days, and the scaler saw the whole \
         series. {}",
        if seed {
            "This run's Tables 1–3 follow the report and share the flaw."
        } else {
            "Walk-forward scores each split's model only on days after its training window."
        }
    );
    let _ = writeln!(
        md,
        "- **The no-op average.** The forecast \"averaged\" {} identical predictions of one model.{}\n",
        reference::SPLITS,
        if seed {
            ""
        } else {
            " Walk-forward averages genuinely different models (the last splits'), and reports their spread."
        }
    );
}

fn plots(md: &mut String, seed: bool, dir: &str) {
    let _ = writeln!(md, "## Plots\n");
    let items = [
        (
            "loss_mse",
            "Train (blue) and validation (orange) MSE per epoch, every split's epochs in split order, \
             log scale (the report's Fig. 4); grey lines mark split starts.",
        ),
        (
            "loss_rmse",
            "The same in RMSE on a linear scale (the report's Fig. 5).",
        ),
        (
            "predictions",
            if seed {
                "Predicted and actual close on the validation days (each split's carried model right \
                 after its fit on that split), with the naive forecast, and both errors below."
            } else {
                "Predicted and actual close on the validation days (each day predicted by the latest \
                 split's model), with the naive forecast, both errors below, and the next-day forecast \
                 when it follows the plotted days."
            },
        ),
        (
            "split_rmse",
            "Validation RMSE of each split in price units, model against naive.",
        ),
    ];
    for (name, what) in items {
        let _ = writeln!(
            md,
            "{what} ([SVG]({dir}{name}.svg))\n\n![{name}]({dir}{name}.png)\n"
        );
    }
}

fn files(md: &mut String) {
    let _ = writeln!(
        md,
        "## Files\n\n\
         - `metrics.json`: every number in this report, machine-readable.\n\
         - `splits.csv`: one row per split: window dates, model and naive metrics, epochs run, best epoch.\n\
         - `history.csv`: train and validation loss per split and epoch.\n\
         - `predictions.csv`: every prediction with its date, the actual value and the naive forecast.\n\
         - `model.safetensors`: the forecast models' weights (Keras layout and names), scalers and \
           layer spec.\n\
         - `*.png`, `*.svg`: the plots above."
    );
}

// ---------------------------------------------------------------------------------------------------
// Tables and formatting.

fn metric_values(m: &Regression) -> [f64; 5] {
    [m.mse, m.rmse, m.mae, m.r2, m.evs]
}

fn stat_values(d: &Describe) -> [f64; 8] {
    [
        d.count as f64,
        d.mean,
        d.std,
        d.min,
        d.q25,
        d.q50,
        d.q75,
        d.max,
    ]
}

/// A describe table with one row per metric and one column per statistic (transposed from pandas so
/// each of our rows can sit right above the report's). `reference` is `[statistic][metric]`.
fn describe_table(
    md: &mut String,
    d: &MetricDescribe,
    reference: Option<&[[&str; 5]; 8]>,
    fmt: fn(f64) -> String,
) {
    let _ = writeln!(
        md,
        "| | {} |\n|---|{}",
        reference::STATS.join(" | "),
        "---:|".repeat(reference::STATS.len())
    );
    let columns = [&d.mse, &d.rmse, &d.mae, &d.r2, &d.evs];
    for (k, (name, desc)) in reference::METRICS.iter().zip(columns).enumerate() {
        let values = stat_values(desc);
        let cells: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                if i == 0 {
                    desc.count.to_string()
                } else {
                    fmt(v)
                }
            })
            .collect();
        let _ = writeln!(md, "| {name} | {} |", cells.join(" | "));
        if let Some(table) = reference {
            let cells: Vec<String> = table.iter().map(|row| format!("*{}*", row[k])).collect();
            let _ = writeln!(md, "| *{name} (report)* | {} |", cells.join(" | "));
        }
    }
    md.push('\n');
}

/// A describe table in price units: money for the error metrics, plain numbers for R² and EVS.
fn describe_table_by_metric(md: &mut String, d: &MetricDescribe) {
    let _ = writeln!(
        md,
        "| | {} |\n|---|{}",
        reference::STATS.join(" | "),
        "---:|".repeat(reference::STATS.len())
    );
    let columns = [&d.mse, &d.rmse, &d.mae, &d.r2, &d.evs];
    for (k, (name, desc)) in reference::METRICS.iter().zip(columns).enumerate() {
        let cells: Vec<String> = stat_values(desc)
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                if i == 0 {
                    desc.count.to_string()
                } else {
                    price_metric(k, v)
                }
            })
            .collect();
        let _ = writeln!(md, "| {name} | {} |", cells.join(" | "));
    }
    md.push('\n');
}

/// Metric `k` (0 MSE, 1 RMSE, 2 MAE, 3 R², 4 EVS) in price units.
fn price_metric(k: usize, v: f64) -> String {
    match k {
        0 => num(v),
        1 | 2 => dollars(v),
        _ => num(v),
    }
}

/// Where this seed run's settings differ from the report's, so a reader knows how far the italic
/// numbers are comparable.
fn report_differences(md: &mut String, r: &RunInfo) {
    let mut diffs = Vec::new();
    let mut check = |what: &str, ours: String, theirs: String| {
        if ours != theirs {
            diffs.push(format!("{what} {ours} (report: {theirs})"));
        }
    };
    check(
        "splits",
        r.splits.to_string(),
        reference::SPLITS.to_string(),
    );
    check("rows", r.rows.to_string(), reference::ROWS.to_string());
    check(
        "dates",
        format!("{}..{}", r.first_date, r.last_date),
        format!("{}..{}", reference::FIRST_DATE, reference::LAST_DATE),
    );
    check("layers", r.layers.clone(), DEFAULT_LAYERS.to_string());
    check(
        "look-back",
        r.lookback.to_string(),
        reference::LOOKBACK.to_string(),
    );
    check(
        "train window",
        r.train_window.to_string(),
        reference::TRAIN_WINDOW.to_string(),
    );
    check(
        "validation window",
        r.val_window.to_string(),
        reference::VAL_WINDOW.to_string(),
    );
    check("step", r.step.to_string(), reference::STEP.to_string());
    check(
        "epochs",
        r.epochs.to_string(),
        reference::EPOCHS.to_string(),
    );
    check(
        "batch",
        r.batch_size.to_string(),
        reference::BATCH.to_string(),
    );
    check(
        "patience",
        r.patience.to_string(),
        reference::PATIENCE.to_string(),
    );
    check("lr", r.lr.to_string(), reference::LR.to_string());
    check(
        "scaler",
        r.scaler.to_string(),
        ScalerMode::Global.to_string(),
    );
    if diffs.is_empty() {
        let _ = writeln!(
            md,
            "This run used the report's data and settings; differences come from the random draws \
             (initial weights, shuffles, dropout), which Keras and this engine make differently."
        );
    } else {
        let _ = writeln!(
            md,
            "This run differs from the report's in: {}. Compare with care.",
            diffs.join("; ")
        );
    }
}

/// A Table 1 window's description, with its prediction count unless the text already gives it.
fn what_with_count(what: &str, predictions: usize) -> String {
    if what.contains("prediction") {
        esc(what)
    } else {
        format!("{} ({predictions} predictions)", esc(what))
    }
}

/// Number of splits where the model's validation RMSE was below the naive one.
fn model_wins(eval: &Evaluation) -> usize {
    eval.splits
        .iter()
        .filter(|s| s.val_price.rmse < s.naive_val_price.rmse)
        .count()
}

/// First and last validation day over all splits.
fn validation_span(eval: &Evaluation) -> (String, String) {
    let first = eval
        .splits
        .iter()
        .map(|s| s.val_first_date.as_str())
        .min()
        .unwrap_or("?");
    let last = eval
        .splits
        .iter()
        .map(|s| s.val_last_date.as_str())
        .max()
        .unwrap_or("?");
    (first.to_string(), last.to_string())
}

/// Four significant digits in plain decimal (scaled MSEs around 1e-4 stay readable beside the report's
/// fixed-point numbers); scientific only for very small or large values.
pub fn num(x: f64) -> String {
    significant(x, 4, -6..7)
}

/// Text from files and the command line, made safe inside a Markdown table cell.
/// `text` with its first letter in upper case (a sentence made for the middle of a line).
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn esc(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
