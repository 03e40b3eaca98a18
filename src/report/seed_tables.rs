//! report.md's "Tables 1–3 over the seeds": with `--protocol seed --seeds K`, each of the report's
//! numbers beside the mean and range of the K carried models' own tables, and how many of the
//! report's numbers fall inside the seeds' range. A table of one seed says nothing about luck; this
//! is what says whether a difference from the report is more than the draw of the seed.

use std::fmt::Write as _;

use super::markdown::{num, reference};
use super::metrics_json::{Evaluation, MetricDescribe, SeedScores};
use crate::metrics::{describe, Describe, Regression};
use crate::train::protocol::Protocol;

/// The section, when the run is the seed protocol with several seeds (nothing otherwise).
pub fn section(md: &mut String, eval: &Evaluation) {
    let Some(spread) = &eval.seeds else {
        return;
    };
    if eval.run.protocol != Protocol::Seed {
        return;
    }
    let seeds = &spread.per_seed;
    let epochs = describe(
        &seeds
            .iter()
            .map(|s| s.epochs_run as f64)
            .collect::<Vec<_>>(),
    );
    let _ = writeln!(
        md,
        "## Tables 1–3 over the seeds (scaled units)\n\n\
         Each of the {} carried models (seeds {}) has its own Tables 1–3; each cell is their mean, with \
         their range (min–max) in brackets; the report's number is below it in italics, marked ✓ when \
         it lies inside the seeds' range. Epochs run over all splits: mean {:.0}, from {:.0} to {:.0}.\n",
        seeds.len(),
        seed_list(seeds),
        epochs.mean,
        epochs.min,
        epochs.max
    );
    let mut inside = Inside::default();
    table1(md, seeds, &mut inside);
    let _ = writeln!(md, "### Table 2 over the seeds: training windows\n");
    describe_over_seeds(
        md,
        seeds,
        |s| &s.table2,
        (1, &reference::TABLE2),
        &mut inside,
    );
    let _ = writeln!(md, "### Table 3 over the seeds: validation windows\n");
    describe_over_seeds(
        md,
        seeds,
        |s| &s.table3,
        (2, &reference::TABLE3),
        &mut inside,
    );
    let _ = writeln!(
        md,
        "The report's numbers inside the seeds' range: Table 1 {}, Table 2 {}, Table 3 {}.\n",
        inside.text(0),
        inside.text(1),
        inside.text(2)
    );
}

fn seed_list(seeds: &[SeedScores]) -> String {
    match (seeds.first(), seeds.last()) {
        (Some(a), Some(b)) if seeds.len() > 2 => format!("{}–{}", a.seed, b.seed),
        _ => seeds
            .iter()
            .map(|s| s.seed.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Per table: the report's numbers inside the seeds' range, and how many were compared.
#[derive(Default)]
struct Inside {
    hits: [usize; 3],
    cells: [usize; 3],
}

impl Inside {
    /// Counts one report cell of table `t` (0-based) against the seeds' `values`; returns the mark.
    fn count(&mut self, t: usize, values: &Describe, report: &str) -> &'static str {
        let Ok(r) = report.parse::<f64>() else {
            return "";
        };
        self.cells[t] += 1;
        // The report printed rounded digits: a value within half its last digit of the range counts.
        let half_ulp = 0.5 * last_digit(report);
        if r >= values.min - half_ulp && r <= values.max + half_ulp {
            self.hits[t] += 1;
            " ✓"
        } else {
            ""
        }
    }

    fn text(&self, t: usize) -> String {
        format!("{} of {}", self.hits[t], self.cells[t])
    }
}

/// The place value of the last printed digit of `text` ("0.00025" → 1e-5, "988" → 1).
fn last_digit(text: &str) -> f64 {
    let digits = text.split('.').nth(1).map_or(0, str::len);
    10f64.powi(-(digits as i32))
}

/// A cell: mean over the seeds and their range.
fn cell(d: &Describe) -> String {
    format!("{} ({}–{})", num(d.mean), num(d.min), num(d.max))
}

fn table1(md: &mut String, seeds: &[SeedScores], inside: &mut Inside) {
    let _ = writeln!(
        md,
        "### Table 1 over the seeds\n\n| | {} |\n|---|{}",
        reference::METRICS.join(" | "),
        "---:|".repeat(reference::METRICS.len())
    );
    type Row<'a> = (&'a str, fn(&SeedScores) -> &Regression, &'a [&'a str; 5]);
    let rows: [Row; 2] = [
        ("train", |s| &s.table1_train, &reference::TABLE1_TRAIN),
        ("validation", |s| &s.table1_val, &reference::TABLE1_VAL),
    ];
    for (name, pick, report) in rows {
        let per_metric = metric_columns(seeds, pick);
        let ours: Vec<String> = per_metric.iter().map(cell).collect();
        let theirs: Vec<String> = per_metric
            .iter()
            .zip(report.iter())
            .map(|(d, r)| format!("*{r}*{}", inside.count(0, d, r)))
            .collect();
        let _ = writeln!(md, "| {name} | {} |", ours.join(" | "));
        let _ = writeln!(md, "| *{name} (report)* | {} |", theirs.join(" | "));
    }
    md.push('\n');
}

/// `describe` over the seeds of each metric of a regression the seeds each have.
fn metric_columns(seeds: &[SeedScores], pick: fn(&SeedScores) -> &Regression) -> [Describe; 5] {
    let over =
        |f: fn(&Regression) -> f64| describe(&seeds.iter().map(|s| f(pick(s))).collect::<Vec<_>>());
    [
        over(|m| m.mse),
        over(|m| m.rmse),
        over(|m| m.mae),
        over(|m| m.r2),
        over(|m| m.evs),
    ]
}

/// One of Tables 2 and 3: a row per statistic (pandas' `describe` over the splits, count left out:
/// every seed has all splits), a column per metric; `report` is table `t`'s `[statistic][metric]`.
fn describe_over_seeds(
    md: &mut String,
    seeds: &[SeedScores],
    pick: fn(&SeedScores) -> &MetricDescribe,
    (t, report): (usize, &[[&str; 5]; 8]),
    inside: &mut Inside,
) {
    let _ = writeln!(
        md,
        "| | {} |\n|---|{}",
        reference::METRICS.join(" | "),
        "---:|".repeat(reference::METRICS.len())
    );
    let stats: [fn(&Describe) -> f64; 7] = [
        |d| d.mean,
        |d| d.std,
        |d| d.min,
        |d| d.q25,
        |d| d.q50,
        |d| d.q75,
        |d| d.max,
    ];
    for (row, stat) in stats.iter().enumerate() {
        let name = reference::STATS[row + 1];
        let metrics: [fn(&MetricDescribe) -> &Describe; 5] =
            [|m| &m.mse, |m| &m.rmse, |m| &m.mae, |m| &m.r2, |m| &m.evs];
        let over: Vec<Describe> = metrics
            .iter()
            .map(|metric| {
                describe(
                    &seeds
                        .iter()
                        .map(|s| stat(metric(pick(s))))
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        let ours: Vec<String> = over.iter().map(cell).collect();
        let theirs: Vec<String> = over
            .iter()
            .zip(report[row + 1].iter())
            .map(|(d, r)| format!("*{r}*{}", inside.count(t, d, r)))
            .collect();
        let _ = writeln!(md, "| {name} | {} |", ours.join(" | "));
        let _ = writeln!(md, "| *{name} (report)* | {} |", theirs.join(" | "));
    }
    md.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_printed_digit_sets_the_rounding_allowance() {
        assert_eq!(last_digit("988"), 1.0);
        assert!((last_digit("0.00025") - 1e-5).abs() < 1e-18);
        assert!((last_digit("-22.363") - 1e-3).abs() < 1e-15);
    }

    #[test]
    fn a_report_number_counts_inside_the_range_within_its_rounding_only() {
        let d = describe(&[0.000_21, 0.000_24, 0.000_244]);
        let mut inside = Inside::default();
        // 0.00025 rounds anything in [0.000245, 0.000255): 0.000244 is just outside.
        assert_eq!(inside.count(1, &d, "0.00025"), "");
        assert_eq!(inside.count(1, &d, "0.00024"), " ✓");
        assert_eq!(inside.count(1, &d, "0.00021"), " ✓");
        assert_eq!(inside.count(1, &d, "0.00019"), "");
        assert_eq!(inside.count(1, &d, "n/a"), "");
        assert_eq!(inside.text(1), "2 of 4");
    }
}
