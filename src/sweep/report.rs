//! A sweep's report.md and the summary printed at its end: the leaderboard's top 10, the selected
//! forecasts beside the hindsight winner and the default, and the p-values in plain words.

use super::score::Scored;
use super::write::{push, ranked, SweepOutputs};
use crate::metrics::compare_tests::DmTest;
use crate::report::plots::heatmap::HEATMAP_PLOT;

/// Rows of the leaderboard in report.md.
const TOP: usize = 10;

fn pct(v: f64) -> String {
    if v.is_finite() {
        format!("{:.1} %", 100.0 * v)
    } else {
        "n/a".to_string()
    }
}

fn num(v: f64, decimals: usize) -> String {
    if v.is_finite() {
        format!("{v:.decimals$}")
    } else {
        "n/a".to_string()
    }
}

/// A DM test in words: the statistic's sign says which forecast had the smaller squared errors
/// (the differential is the model's minus naive's), the p-value whether that is evidence at 5 %.
pub fn verdict(dm: &DmTest, what: &str) -> String {
    let (t, p) = (dm.statistic, dm.p_value);
    if !t.is_finite() || !p.is_finite() {
        format!("{what}: the test is undefined here (too few days or no variation)")
    } else if p >= 0.05 {
        format!("{what}: DM {t:.2}, p = {p:.3}: no evidence at the 5 % level of a difference from naive")
    } else if t < 0.0 {
        format!("{what}: DM {t:.2}, p = {p:.3}: significantly more accurate than naive")
    } else {
        format!("{what}: DM {t:.2}, p = {p:.3}: significantly less accurate than naive")
    }
}

fn set_row(name: &str, s: &Scored) -> String {
    let p = &s.pooled;
    format!(
        "| {name} | {} | {} | {} | {} | {} | {} | {} |\n",
        num(p.model_rmse, 4),
        num(p.naive_rmse, 4),
        num(p.skill, 4),
        pct(p.directional_accuracy),
        num(s.dm.statistic, 2),
        num(s.dm.p_value, 3),
        pct(s.trading.model.cumulative_return),
    )
}

const SET_HEADER: &str =
    "| | RMSE ($) | naive RMSE ($) | skill | direction | DM stat | DM p | traded, after costs |\n\
                          |---|---:|---:|---:|---:|---:|---:|---:|\n";

fn leaderboard(o: &SweepOutputs, out: &mut String) {
    let s = o.scores;
    push(
        out,
        format_args!(
            "## Leaderboard (top {} of {}, by pooled RMSE)\n\n",
            TOP.min(o.configs.len()),
            o.configs.len()
        ),
    );
    push(out, format_args!("| rank | configuration | RMSE ($) | skill | direction | DM vs naive (p) |\n|---:|---|---:|---:|---:|---:|\n"));
    for (rank, &i) in ranked(s).iter().take(TOP).enumerate() {
        let c = &s.configs[i];
        let mark = match (i == s.hindsight, i == o.scoring.default_config) {
            (true, true) => " (hindsight winner; default)",
            (true, false) => " (hindsight winner)",
            (false, true) => " (default)",
            _ => "",
        };
        push(
            out,
            format_args!(
                "| {} | c{i:03} {}{mark} | {} | {} | {} | {} ({}) |\n",
                rank + 1,
                o.configs[i].label(),
                num(c.pooled.model_rmse, 4),
                num(c.pooled.skill, 4),
                pct(c.pooled.directional_accuracy),
                num(c.dm.statistic, 2),
                num(c.dm.p_value, 3)
            ),
        );
    }
    push(out, format_args!("\nEvery configuration's row is in `sweep.csv`; its own run (report, plots, predictions) in `configs/cNNN/`.\n\n"));
}

fn comparison(o: &SweepOutputs, out: &mut String) {
    let s = o.scores;
    let d = o.scoring.default_config;
    let without = s.choices.iter().filter(|c| c.score.is_none()).count();
    push(
        out,
        format_args!("## Selected without look-ahead, against hindsight and the default\n\n"),
    );
    push(
        out,
        format_args!(
            "Each split used the configuration with the lowest mean validation MSE (dollars) over the {} \
             most recent splits whose validation windows ended before its own began; {without} of {} \
             splits had no such split and used the default. Those forecasts are scored here like a \
             single run. The hindsight winner is the configuration with the lowest pooled RMSE over all \
             splits, chosen after seeing them.\n\n",
            o.scoring.select_window,
            s.units.len()
        ),
    );
    out.push_str(SET_HEADER);
    out.push_str(&set_row("selected", &s.selected));
    out.push_str(&set_row(
        &format!(
            "hindsight (c{:03} {})",
            s.hindsight,
            o.configs[s.hindsight].label()
        ),
        &s.configs[s.hindsight],
    ));
    out.push_str(&set_row(
        &format!("default (c{d:03} {})", o.configs[d].label()),
        &s.configs[d],
    ));
    let gap = s.configs[s.hindsight].pooled.skill - s.selected.pooled.skill;
    push(
        out,
        format_args!(
            "\nChoosing the configuration in hindsight would have overstated the skill by {} (hindsight {} \
             against {} for the choice made without look-ahead).\n\n",
            num(gap, 4),
            num(s.configs[s.hindsight].pooled.skill, 4),
            num(s.selected.pooled.skill, 4)
        ),
    );
}

fn significance(o: &SweepOutputs, out: &mut String) {
    let s = o.scores;
    push(out, format_args!("## Significance against naive\n\n"));
    push(
        out,
        format_args!(
            "Diebold–Mariano on squared errors, one prediction per day (the freshest, {} days), HAC \
             variance with lag {} and the Harvey–Leybourne–Newbold correction, Student t with n − 1 \
             degrees of freedom. The differential is the model's squared error minus naive's: a \
             negative statistic means the model was the more accurate.\n\n",
            s.selected.dm.n, o.scoring.dm_lag
        ),
    );
    push(
        out,
        format_args!(
            "- {}\n",
            verdict(&s.selected.dm, "the selected forecasts (two-sided)")
        ),
    );
    push(out, format_args!("- {}\n", verdict(&s.configs[s.hindsight].dm, "the hindsight winner (two-sided; this ignores that it was picked from all of them)")));
    let spa = &s.spa;
    push(
        out,
        format_args!(
            "- Does any of the {} configurations beat naive, counting the search? Hansen's SPA over {} days \
             (stationary bootstrap, {} resamples, mean block {} days, seed {}): consistent p = {}, \
             White's Reality Check p = {}. {}\n\n",
            o.configs.len(),
            s.spa_days,
            spa.b,
            num(spa.block_length, 1),
            o.scoring.seed,
            num(spa.p_consistent, 3),
            num(spa.p_reality_check, 3),
            if spa.p_consistent < 0.05 {
                "Below 0.05: the best configuration's edge over naive survives the data snooping of the sweep."
            } else {
                "Not below 0.05: the best configuration's edge over naive is what searching this many configurations would find by chance."
            }
        ),
    );
}

/// report.md of the sweep.
pub fn markdown(o: &SweepOutputs, heatmap: bool) -> String {
    let mut out = String::new();
    push(
        &mut out,
        format_args!(
            "# Sweep: {} configurations\n\nSwept in {:.1} s. Files: `sweep.csv`, `selection.csv`, `metrics.json` (`sweep`){}.\n\n",
            o.configs.len(),
            o.wall_seconds,
            if heatmap { format!(", `{HEATMAP_PLOT}.png`") } else { String::new() }
        ),
    );
    leaderboard(o, &mut out);
    comparison(o, &mut out);
    significance(o, &mut out);
    if heatmap {
        push(
            &mut out,
            format_args!("## Skill by two swept keys\n\n![skill heatmap]({HEATMAP_PLOT}.png)\n"),
        );
    }
    out
}

/// The lines printed when the sweep ends.
pub fn summary(o: &SweepOutputs) -> String {
    let s = o.scores;
    let mut out = String::new();
    push(
        &mut out,
        format_args!(
            "sweep of {} configurations written to {}\n",
            o.configs.len(),
            o.dir.display()
        ),
    );
    for &i in ranked(s).iter().take(3) {
        push(
            &mut out,
            format_args!(
                "  c{i:03} {}: RMSE ${}, skill {}\n",
                o.configs[i].label(),
                num(s.configs[i].pooled.model_rmse, 4),
                num(s.configs[i].pooled.skill, 4)
            ),
        );
    }
    push(
        &mut out,
        format_args!(
            "selected without look-ahead: skill {} (hindsight {}, default {}); SPA p = {}, Reality Check p = {}\n",
            num(s.selected.pooled.skill, 4),
            num(s.configs[s.hindsight].pooled.skill, 4),
            num(s.configs[o.scoring.default_config].pooled.skill, 4),
            num(s.spa.p_consistent, 3),
            num(s.spa.p_reality_check, 3)
        ),
    );
    out
}
