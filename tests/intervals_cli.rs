//! `train --levels` end to end: the interval columns of predictions.csv are each split's forecast ± the
//! conformal quantile of the earlier splits' absolute errors as predictions.csv itself lists them,
//! metrics.json and report.md carry the scores, and bad levels are refused naming the flag.

mod common;

use std::collections::BTreeMap;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_gpulstm");

fn train(out: &std::path::Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "train",
        "--quiet",
        "--backend",
        "cpu",
        "--max-splits",
        "12",
        "--epochs",
        "1",
        "--layers",
        "lstm:4,dense:1",
        "--train-window",
        "30",
        "--val-window",
        "5",
        "--lookback",
        "10",
        "--out",
    ];
    args.push(out.to_str().unwrap());
    args.extend_from_slice(extra);
    Command::new(BIN)
        .args(&args)
        .output()
        .expect("the gpulstm binary runs")
}

/// The ⌈(n+1)·L⌉-th smallest of `errors` (1-based), as the conformal rule defines it.
fn conformal(mut errors: Vec<f64>, level: f64) -> f64 {
    errors.sort_by(f64::total_cmp);
    let rank = ((errors.len() + 1) as f64 * level - 1e-9).ceil() as usize;
    errors[rank - 1]
}

#[test]
fn interval_columns_are_the_conformal_quantiles_of_earlier_errors() {
    let dir = common::scratch("intervals", "cli");
    let out = train(&dir, &["--levels", "80,95", "--conformal", "4"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.join("predictions.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        &header[header.len() - 4..],
        ["lo-80", "hi-80", "lo-95", "hi-95"]
    );
    // split → (date, actual, predicted, lo-80, hi-80) of its validation rows
    let mut val: BTreeMap<usize, Vec<Vec<String>>> = BTreeMap::new();
    for line in lines {
        let f: Vec<String> = line.split(',').map(str::to_string).collect();
        if f[2] == "val" {
            val.entry(f[1].parse().unwrap()).or_default().push(f);
        }
    }
    let num = |s: &str| s.parse::<f64>().unwrap();
    let n = header.len();
    let mut with = 0;
    for (&s, rows) in &val {
        // Windows of 5 days one day apart: split s's window starts 5 days after split s−5's.
        let history: Vec<usize> = (0..s).filter(|&j| j + 5 <= s).collect();
        if history.len() < 4 {
            assert!(
                rows.iter().all(|r| r[n - 4].is_empty()),
                "split {s} has an interval"
            );
            continue;
        }
        with += 1;
        let errors: Vec<f64> = history[history.len() - 4..]
            .iter()
            .flat_map(|j| val[j].iter().map(|r| (num(&r[4]) - num(&r[5])).abs()))
            .collect();
        let h80 = conformal(errors.clone(), 0.8);
        for r in rows {
            let (pred, lo, hi) = (num(&r[5]), num(&r[n - 4]), num(&r[n - 3]));
            // predictions.csv prints 6 decimals ($0.000001).
            assert!(
                (lo - (pred - h80)).abs() < 3e-6,
                "split {s}: lo {lo}, want {}",
                pred - h80
            );
            assert!(
                (hi - (pred + h80)).abs() < 3e-6,
                "split {s}: hi {hi}, want {}",
                pred + h80
            );
            assert!(
                num(&r[n - 2]) <= lo && num(&r[n - 1]) >= hi,
                "the 95 % band is inside the 80 % one"
            );
        }
    }
    // 4 splits × 5 days = 20 errors: the 95 % rank ⌈21·0.95⌉ = 20 is finite.
    assert_eq!(with, 12 - 8);
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
    let i = &metrics["intervals"];
    assert_eq!(i["conformal_k"], 4);
    assert_eq!(i["splits_with_interval"], 4);
    assert_eq!(i["splits_without_interval"], 8);
    for who in ["model", "naive"] {
        let c = i[who][0]["coverage"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&c), "{who}: {c}");
        assert_eq!(i[who][0]["days"], 20);
    }
    assert_eq!(i["forecast_half_widths"].as_array().unwrap().len(), 2);
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        report.contains("## Prediction intervals (walk-forward conformal)"),
        "{report}"
    );
    assert!(report.contains("The next-day forecast"), "{report}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn without_levels_nothing_changes_and_bad_levels_are_refused() {
    let dir = common::scratch("intervals", "none");
    let out = train(&dir, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.join("predictions.csv")).unwrap();
    assert!(text.lines().next().unwrap().ends_with(",drift,ridge"));
    let metrics = std::fs::read_to_string(dir.join("metrics.json")).unwrap();
    assert!(!metrics.contains("\"intervals\""));
    for bad in ["0", "100", "eighty"] {
        let out = train(&common::scratch("intervals", "bad"), &["--levels", bad]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("--levels"), "{stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
