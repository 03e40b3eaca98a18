//! The short human summary `gpulstm train` prints on stdout when it is done: what ran, how the model
//! compares with tomorrow = today in dollars, Table 1 in the report's scaled units, the forecast, and
//! where the files are. Everything in it is also in `metrics.json`.

use std::fmt::Write as _;
use std::path::Path;

use super::evaluate::Evaluation;
use crate::metrics::Regression;

/// `x` with `digits` significant digits, plain decimal for ordinary magnitudes and scientific notation
/// for very small or large ones (a scaled MSE is often around 1e-4).
pub fn sig(x: f64, digits: usize) -> String {
    significant(x, digits, -3..6)
}

/// `x` with `digits` significant digits: plain decimals while its decimal exponent lies in `plain`,
/// scientific notation outside; `n/a` for NaN. Shared by the summary and report.md.
pub fn significant(x: f64, digits: usize, plain: std::ops::Range<i32>) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "n/a".to_string()
        } else {
            x.to_string()
        };
    }
    if x == 0.0 {
        return "0".to_string();
    }
    let magnitude = x.abs().log10().floor() as i32;
    if !plain.contains(&magnitude) {
        return format!("{:.*e}", digits.saturating_sub(1), x);
    }
    let decimals = (digits as i32 - 1 - magnitude).max(0) as usize;
    format!("{x:.decimals$}")
}

/// Wall time: seconds with two decimals below a minute, else `3m05s` / `1h02m`.
fn wall(secs: f64) -> String {
    if secs < 60.0 {
        format!("{secs:.2} s")
    } else {
        crate::progress::human_duration(secs)
    }
}

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

pub fn dollars(x: f64) -> String {
    if x.is_finite() {
        format!("${x:.2}")
    } else {
        "n/a".to_string()
    }
}

fn percent(x: f64) -> String {
    if x.is_finite() {
        format!("{:.1}%", 100.0 * x)
    } else {
        "n/a".to_string()
    }
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
    let r = &eval.run;
    let mut s = String::new();
    // `write!` into a String cannot fail; the results are ignored for that reason.
    let _ = writeln!(
        s,
        "gpulstm {}: {} protocol, {} windows, {} scaler, {} split{} on {} in {}",
        r.gpulstm_version,
        r.protocol,
        r.window,
        r.scaler,
        r.splits,
        if r.splits == 1 { "" } else { "s" },
        r.backend,
        wall(r.wall_seconds)
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
    let _ = writeln!(
        s,
        "Table 1 (scaled units; {}):",
        if r.protocol == "seed" {
            "final model on the last split"
        } else {
            "train = last split's model, val = all splits pooled"
        }
    );
    let _ = writeln!(s, "  train  {}", metrics_line(&eval.table1.train.scaled));
    let _ = writeln!(s, "  val    {}", metrics_line(&eval.table1.val.scaled));

    let f = &eval.forecast;
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
    if r.protocol == "seed" {
        let _ = writeln!(
            s,
            "          (the report's forecast \"average\" of {} predictions was this one model's prediction \
             repeated)",
            r.splits
        );
    }
    if f.rows_after_last_window > r.val_window {
        let _ = writeln!(
            s,
            "          warning: the models' windows end on {}, {} rows before the data ends (--max-splits or --to; --last-splits N keeps the newest)",
            f.last_window_date, f.rows_after_last_window
        );
    }
    // Plots come in PNG/SVG pairs; counting them keeps the line short.
    let is_plot = |f: &&String| f.ends_with(".png") || f.ends_with(".svg");
    let mut listed: Vec<String> = files.iter().filter(|f| !is_plot(f)).cloned().collect();
    let plots = files.iter().filter(is_plot).count();
    if plots > 0 {
        listed.push(format!("{plots} plot files (PNG and SVG)"));
    }
    let _ = writeln!(s, "files:    {}/ {}", dir.display(), listed.join(", "));
    s
}
