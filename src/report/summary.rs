//! The short human summary `gpulstm train` prints on stdout when it is done: what ran, how the model
//! compares with tomorrow = today in dollars, Table 1 in the report's scaled units, the forecast, and
//! where the files are. Everything in it is also in `metrics.json`.

use crate::train::protocol::Protocol;
use std::fmt::Write as _;
use std::path::Path;

use super::format::{dollars, duration, percent, plural, sig, signed};
use super::metrics_json::{Evaluation, ForecastInfo, PanelEvaluation, RunInfo};
use crate::metrics::Regression;

/// ` (adjusted; the file's Close: $X)` when prices were adjusted, else nothing.
pub fn adjusted_note(in_file: Option<f64>) -> String {
    in_file
        .map(|c| {
            format!(
                " (adjusted for splits and dividends; the file's Close: {})",
                dollars(c)
            )
        })
        .unwrap_or_default()
}

fn metrics_line(m: &Regression) -> String {
    format!(
        "MSE {} RMSE {} MAE {} R² {} EVS {}",
        sig(m.mse, 4),
        sig(m.rmse, 4),
        sig(m.mae, 4),
        sig(m.r2, 4),
        sig(m.evs, 4)
    )
}

/// The summary text (ends with a newline). `dir` is the output directory and `files` the names written
/// into it, in the order to list them.
pub fn render(eval: &Evaluation, dir: &Path, files: &[String]) -> String {
    // `write!` into a String cannot fail; the results are ignored for that reason.
    let mut s = String::new();
    run_lines(&mut s, &eval.run);
    score_lines(&mut s, eval);
    table1_lines(&mut s, eval);
    forecast_lines(&mut s, &eval.forecast, &eval.run);
    let _ = writeln!(s, "{}", files_line(dir, files));
    s
}

/// What ran: version, protocol, backend, data, model and the notes.
fn run_lines(s: &mut String, r: &RunInfo) {
    let _ = writeln!(
        s,
        "gpulstm {}: {} protocol, {} windows, {} scaler, {} split{} on {} in {}",
        r.gpulstm_version,
        r.protocol,
        r.window,
        r.scaler,
        r.splits,
        plural(r.splits),
        r.backend,
        duration(r.wall_seconds)
    );
    let _ = writeln!(
        s,
        "data:     {} ({} .. {}, {} rows); features {}; target {}",
        r.data_file,
        r.first_date,
        r.last_date,
        r.rows,
        r.features.join(", "),
        r.target
    );
    let _ = writeln!(
        s,
        "model:    {} ({} parameters); lookback {}, train {}, val {}, step {}; epochs {}, batch {}, lr {}, \
         patience {}, seed {}",
        r.layers,
        r.parameters,
        r.lookback,
        r.train_window,
        r.val_window,
        r.step,
        r.epochs,
        r.batch_size,
        r.lr,
        r.patience,
        r.seed
    );
    for note in &r.notes {
        let _ = writeln!(s, "note:     {note}");
    }
}

/// The validation scores, model against naive, and the seeds' spread.
fn score_lines(s: &mut String, eval: &Evaluation) {
    let d = &eval.describe;
    let p = &eval.pooled;
    if p.diverged_excluded > 0 {
        let _ = writeln!(
            s,
            "warning:  {} of {} models diverged (loss NaN/inf or validation MSE above {}); they are \
             marked in splits.csv and left out of every figure below",
            p.diverged_excluded,
            eval.splits.len(),
            crate::fit::DIVERGED_VAL_LOSS
        );
    }
    let _ = writeln!(
        s,
        "validation RMSE, mean over splits: model {} vs naive (tomorrow = today) {}; skill {} (per-split \
         mean {})",
        dollars(d.price.val.rmse.mean),
        dollars(d.naive_val_price.rmse.mean),
        sig(1.0 - d.price.val.rmse.mean / d.naive_val_price.rmse.mean, 3),
        sig(d.skill.mean, 3)
    );
    let _ = writeln!(
        s,
        "validation pooled ({} predictions): RMSE model {} vs naive {}, MAE {} vs {}; skill {}",
        p.predictions,
        dollars(p.model_rmse),
        dollars(p.naive_rmse),
        dollars(p.model_mae),
        dollars(p.naive_mae),
        sig(p.skill, 3)
    );
    let _ = writeln!(
        s,
        "directional accuracy: {} pooled, {} mean over splits (share of days the predicted move from the \
         last close has the actual move's sign)",
        percent(p.directional_accuracy),
        percent(d.directional_accuracy.mean)
    );
    let _ = writeln!(s, "{}", super::verdicts::baselines(eval));
    let _ = writeln!(s, "{}", super::verdicts::returns(eval));
    let _ = writeln!(s, "{}", super::verdicts::trading(eval));
    if let Some(seeds) = &eval.seeds {
        let _ = writeln!(
            s,
            "seeds:    {} models per split; pooled skill of each seed alone: mean {}, std {}, {} to {}; \
             the ensemble's {} (RMSE {} to {}, ensemble {})",
            seeds.per_seed.len(),
            signed(seeds.skill.mean),
            sig(seeds.skill.std, 2),
            signed(seeds.skill.min),
            signed(seeds.skill.max),
            signed(p.skill),
            dollars(seeds.model_rmse.min),
            dollars(seeds.model_rmse.max),
            dollars(p.model_rmse)
        );
    }
}

/// The report's Table 1 in scaled units.
fn table1_lines(s: &mut String, eval: &Evaluation) {
    let r = &eval.run;
    let _ = writeln!(
        s,
        "Table 1 (scaled units; {}):",
        if r.protocol == Protocol::Seed {
            "final model on the last split's windows"
        } else {
            "train = last split's model, val = all splits pooled"
        }
    );
    let _ = writeln!(s, "  train  {}", metrics_line(&eval.table1.train.scaled));
    let _ = writeln!(s, "  val    {}", metrics_line(&eval.table1.val.scaled));
}

/// The next-day forecast and its warnings.
fn forecast_lines(s: &mut String, f: &ForecastInfo, r: &RunInfo) {
    let spread = if f.members.len() > 1 {
        format!(
            " (mean of {} models: min {}, max {}, std {})",
            f.members.len(),
            dollars(f.min),
            dollars(f.max),
            sig(f.std, 3)
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        s,
        "forecast: {} close {}{spread}; last close {}{} on {} (next weekday; holidays not modelled)",
        f.next_trading_day,
        dollars(f.mean),
        dollars(f.last_close),
        adjusted_note(f.last_close_in_file),
        f.last_date
    );
    for warning in &f.warnings {
        let _ = writeln!(s, "          warning: {warning}");
    }
    if r.protocol == Protocol::Seed {
        let _ = writeln!(
            s,
            "          (the report's forecast \"average\" of {} predictions was this one model's prediction \
             repeated)",
            r.splits
        );
    }
    if f.stale {
        let _ = writeln!(
            s,
            "          warning: the models' windows end on {}, {} rows before the data ends (--max-splits or --to; --last-splits N keeps the newest)",
            f.last_window_date, f.rows_after_last_window
        );
    }
}

/// The summary of a run: [`render`] for one series; for a panel, one line per series (ranked by skill)
/// and where the files are.
pub fn render_panel(panel: &PanelEvaluation, dir: &Path, files: &[String]) -> String {
    if let [one] = panel.series.as_slice() {
        return render(one, dir, files);
    }
    let mut s = String::new();
    let Some(first) = panel.series.first() else {
        return s;
    };
    let r = &first.run;
    let splits: usize = panel.series.iter().map(|e| e.splits.len()).sum();
    let _ = writeln!(
        s,
        "gpulstm {}: {} series, {splits} splits × {} seed{} on {} in {}",
        r.protocol,
        panel.series.len(),
        r.seeds,
        plural(r.seeds),
        r.backend,
        duration(r.wall_seconds)
    );
    let width = panel
        .panel
        .iter()
        .map(|p| p.series.chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    let _ = writeln!(
        s,
        "  rank  {:width$}  splits  RMSE      naive     skill   direction  forecast",
        "series"
    );
    for p in &panel.panel {
        let _ = writeln!(
            s,
            "  {:>4}  {:width$}  {:>6}  {:9} {:9} {:7} {:>9}  {} on {}",
            p.rank,
            p.series,
            p.splits,
            dollars(p.model_rmse),
            dollars(p.naive_rmse),
            signed(p.skill),
            percent(p.directional_accuracy),
            dollars(p.forecast),
            p.next_trading_day
        );
    }
    for e in &panel.series {
        for warning in &e.forecast.warnings {
            let _ = writeln!(s, "warning:  {}: {warning}", e.series);
        }
    }
    let _ = writeln!(s, "{}", files_line(dir, files));
    s
}

/// `files:` and the files written; plots come in PNG/SVG pairs, so they are counted instead.
fn files_line(dir: &Path, files: &[String]) -> String {
    let is_plot = |f: &&String| f.ends_with(".png") || f.ends_with(".svg");
    let mut listed: Vec<String> = files
        .iter()
        .filter(|f| !is_plot(f) && !f.contains('/'))
        .cloned()
        .collect();
    let per_series = files
        .iter()
        .filter(|f| !is_plot(f) && f.contains('/'))
        .count();
    if per_series > 0 {
        listed.push(format!(
            "{per_series} checkpoints in {}/",
            super::files::SERIES_DIR
        ));
    }
    let plots = files.iter().filter(is_plot).count();
    if plots > 0 {
        listed.push(format!("{plots} plot files (PNG and SVG)"));
    }
    format!("files:    {}/ {}", dir.display(), listed.join(", "))
}
