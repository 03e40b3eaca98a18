//! report.md from a synthetic run whose numbers are known in advance: prices rise by exactly $1 a day,
//! so the naive forecast is off by $1.00 every day, and the "model" predicts every validation close
//! $0.50 too high, so its RMSE is $0.50, its skill +0.500 and its directional accuracy 100%.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use gpulstm::data::{
    make_splits, MinMax, Series, SourceFormat, SplitConfig, SplitRule, WindowKind,
};
use gpulstm::fit::{EpochLoss, Hyper};
use gpulstm::model::{ModelSpec, ParamLayout, DEFAULT_LAYERS};
use gpulstm::report::evaluate::{evaluate, RunConfig};
use gpulstm::report::markdown::{num, render, write};
use gpulstm::report::metrics_json::Evaluation;
use gpulstm::train::protocol::{Forecast, Protocol, RunResult, RunSpec, ScalerMode, SplitOutcome};
use gpulstm::train::Scaling;

const ROWS: usize = 40;
const LOOKBACK: usize = 5;

fn series() -> Series {
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let dates: Vec<NaiveDate> = (0..ROWS as u64)
        .map(|d| start.checked_add_days(chrono::Days::new(d)).unwrap())
        .collect();
    let target: Vec<f64> = (0..ROWS).map(|r| 100.0 + r as f64).collect();
    Series {
        source: "synthetic.csv".to_string(),
        format: SourceFormat::Generic,
        dates,
        feature_names: vec!["Close".to_string(), "Volume".to_string()],
        features: target.iter().map(|&p| vec![p, 1000.0]).collect(),
        target_name: "Close".to_string(),
        target,
        adjusted: false,
        raw_last_target: None,
        warmup_rows_dropped: 0,
    }
}

fn synthetic(protocol: Protocol) -> (Evaluation, RunConfig) {
    synthetic_with(protocol, None)
}

fn synthetic_with(protocol: Protocol, max_splits: Option<usize>) -> (Evaluation, RunConfig) {
    let series = series();
    let seed = protocol == Protocol::Seed;
    let splits_cfg = SplitConfig {
        lookback: LOOKBACK,
        train_window: 10,
        val_window: 5,
        step: 5,
        kind: WindowKind::Rolling,
        rule: if seed {
            SplitRule::ReportSkipsLast
        } else {
            SplitRule::AllThatFit
        },
        max_splits,
        last_splits: None,
        target_rows: None,
    };
    let splits = make_splits(ROWS, &splits_cfg).unwrap();
    // One scaler for every split keeps the arithmetic simple: prices 100..139 map to 0..1.
    let scaling = Scaling {
        features: MinMax {
            min: vec![100.0, 1000.0],
            max: vec![139.0, 1000.0],
        },
        target: MinMax {
            min: vec![100.0],
            max: vec![139.0],
        },
        transform: Default::default(),
    };
    let scaled = |price: f64| scaling.target.transform_value(0, price);
    let price_of_sample = |s: usize| 100.0 + (s + LOOKBACK) as f64;
    let outcomes: Vec<SplitOutcome> = splits
        .iter()
        .map(|s| {
            let train: Vec<f64> = (s.train_start..s.train_start + s.train_len)
                .map(price_of_sample)
                .collect();
            let val: Vec<f64> = (s.val_start..s.val_start + s.val_len)
                .map(price_of_sample)
                .collect();
            SplitOutcome {
                split: *s,
                model_id: if seed { 0 } else { s.index as u32 },
                seed: 42,
                members: 1,
                train_spread: Vec::new(),
                val_spread: Vec::new(),
                history: vec![
                    EpochLoss {
                        train: 0.02,
                        val: 0.03,
                    },
                    EpochLoss {
                        train: 0.01,
                        val: 0.02,
                    },
                ],
                best_epoch: 1,
                stopped_early: false,
                diverged: false,
                scaling: scaling.clone(),
                train_pred: train.iter().map(|&p| scaled(p + 0.25)).collect(),
                val_pred: val.iter().map(|&p| scaled(p + 0.5)).collect(),
                train_actual: train.iter().map(|&p| scaled(p)).collect(),
                val_actual: val.iter().map(|&p| scaled(p)).collect(),
            }
        })
        .collect();
    let forecast = if seed {
        Forecast {
            members: vec![member(0, 140.5)],
            mean: 140.5,
            min: 140.5,
            max: 140.5,
            std: 0.0,
        }
    } else {
        Forecast {
            members: vec![member(3, 140.0), member(4, 142.0)],
            mean: 141.0,
            min: 140.0,
            max: 142.0,
            std: 1.0,
        }
    };
    let layout = ParamLayout::new(&ModelSpec::parse(DEFAULT_LAYERS, 2).unwrap());
    let result = RunResult {
        protocol,
        backend: gpulstm::train::TrainedBy {
            engines: vec![gpulstm::train::Engine::Cpu],
            description: "test backend".to_string(),
        },
        splits: outcomes,
        forecast,
        forecast_models: Vec::new(),
        wall_seconds: 3.25,
    };
    let config = RunConfig {
        spec: RunSpec {
            protocol,
            layout,
            hyper: Hyper::default(),
            splits: splits_cfg,
            scaler: if seed {
                ScalerMode::Global
            } else {
                ScalerMode::Train
            },
            init_weights: None,
            ensemble_last: 2,
            seeds: 1,
            val_dates: Default::default(),
            scaler_kind: Default::default(),
            target_transform: Default::default(),
            max_models_per_chunk: None,
        },
        init_weights: None,
        notes: vec!["a note | with a pipe".to_string()],
        scoring: Default::default(),
        intervals: None,
    };
    let eval = evaluate(&series, &config, &result).expect("evaluation");
    (eval, config)
}

fn has(md: &str, needle: &str) {
    assert!(md.contains(needle), "report.md lacks {needle:?}:\n{md}");
}

#[test]
fn the_synthetic_run_has_the_numbers_it_was_built_with() {
    let (eval, _) = synthetic(Protocol::WalkForward);
    assert_eq!(eval.splits.len(), 5);
    assert!((eval.pooled.model_rmse - 0.5).abs() < 1e-9);
    assert!((eval.pooled.naive_rmse - 1.0).abs() < 1e-12);
    assert!((eval.pooled.skill - 0.5).abs() < 1e-9);
    assert_eq!(eval.pooled.directional_accuracy, 1.0);
}

#[test]
fn walk_forward_report_leads_with_the_baseline_and_the_forecast() {
    let (eval, config) = synthetic(Protocol::WalkForward);
    let md = render(&eval, &config);
    has(&md, "# gpulstm run report");
    has(
        &md,
        "walk-forward protocol, 5 splits of synthetic.csv (2024-01-01 to 2024-02-09)",
    );
    // In short: model $0.50 against naive $1.00, skill 50%, all 5 splits won, direction 100%.
    has(
        &md,
        "the model's one-day-ahead Close was off by $0.50 (RMSE; MAE $0.50)",
    );
    has(
        &md,
        "was off by $1.00 (MAE $1.00): the model **beat** the naive forecast by 50.0% of its error",
    );
    has(&md, "the lower validation RMSE on 5 of 5 splits (100.0%)");
    has(&md, "correctly on 100.0% of the days");
    has(
        &md,
        "- Forecast for 2024-02-12: **$141.00**, the mean of 2 models ranging $140.00 to $142.00",
    );
    // Configuration.
    has(
        &md,
        "| data | `synthetic.csv` (generic format), 40 rows, 2024-01-01 to 2024-02-09 |",
    );
    has(&md, "| features | `Close`, `Volume` |");
    has(
        &md,
        "| windows | rolling: look-back 5 rows; train 10 samples, validate on the next 5; step 5 |",
    );
    has(
        &md,
        "| scaler | train: min–max fitted on each split's training rows only |",
    );
    has(&md, "Adam lr 0.001 (β1 0.9, β2 0.999, ε 1e-7)");
    has(&md, "| wall time | 3.2 s |");
    has(&md, "| note | a note \\| with a pipe |");
    // Table 1 without the report's columns, Tables 2/3 without report rows.
    has(&md, "| metric | train | validation |");
    has(
        &md,
        "- train: the model of split 4 on its own training window (10 predictions)\n",
    );
    assert!(!md.contains("(report)"), "walk-forward has no report rows");
    // Price units and baseline.
    has(&md, "| RMSE | $0.25 | $0.50 |");
    has(
        &md,
        "| RMSE, all validation predictions pooled | $0.50 | $1.00 |",
    );
    has(&md, "- Skill, pooled: **+0.500**");
    // Forecast members and the weaknesses as they apply to this run.
    has(&md, "| 3 | $140.00 |\n| 4 | $142.00 |");
    has(
        &md,
        "This run did not: each split's scaler was fitted on its training rows only",
    );
    has(
        &md,
        "Walk-forward runs every split that fits, the last one included.",
    );
    assert!(
        !md.contains("no-op.**"),
        "the no-op call-out is for the seed protocol"
    );
    // Plots linked by relative path.
    for name in ["loss_mse", "loss_rmse", "predictions", "split_rmse"] {
        has(&md, &format!("![{name}]({name}.png)"));
        has(&md, &format!("([SVG]({name}.svg))"));
    }
}

#[test]
fn seed_report_puts_the_reference_numbers_beside_ours() {
    let (eval, config) = synthetic(Protocol::Seed);
    // The report's loop skips the last split: 4 of the 5 that fit.
    assert_eq!(eval.splits.len(), 4);
    let md = render(&eval, &config);
    let t1 = &eval.table1;
    has(
        &md,
        "| metric | train | train (report) | validation | validation (report) |",
    );
    has(
        &md,
        &format!(
            "| MSE | {} | *0.000228* | {} | *0.000312* |",
            num(t1.train.scaled.mse),
            num(t1.val.scaled.mse)
        ),
    );
    has(
        &md,
        "| *R² (report)* | *988* | *-0.7441* | *2.10490* | *-22.363* |",
    );
    has(&md, "| *RMSE (report)* | *988* | *0.01551* |");
    has(
        &md,
        "This run differs from the report's in: splits 4 (report: 988); rows 40 (report: 1258)",
    );
    // The no-op average and the report's forecast against the last row's close.
    has(&md, "**The report's \"average\" was a no-op.**");
    has(
        &md,
        "The report predicted $217.29 and compared it with an \"actual\" close of $217.96",
    );
    has(&md, "This run's forecast is $140.50 for 2024-02-12.");
    // Weaknesses stated for what this run did.
    has(
        &md,
        "**This run used it (`--scaler global`), so its scores are optimistic.**",
    );
    has(&md, "so this run has 4 splits where 5 would fit");
    has(
        &md,
        "This run's Tables 1–3 follow the report and share the flaw.",
    );
    has(
        &md,
        "- The scaler was fitted on the whole series (`--scaler global`)",
    );
    has(
        &md,
        "- train: the final model on the training window of the last split (3) (10 predictions)\n",
    );

    // Kept under the target dir for reading.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("markdown-seed");
    std::fs::create_dir_all(&dir).unwrap();
    write(&dir, &one(&eval), &config).expect("write");
}

#[test]
fn write_puts_report_md_in_the_directory_and_names_it_on_failure() {
    let (eval, config) = synthetic(Protocol::WalkForward);
    let dir: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR")).join("markdown-write");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = write(&dir, &one(&eval), &config).expect("write");
    assert_eq!(path, dir.join("report.md"));
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        render(&eval, &config)
    );

    let missing = dir.join("no-such-dir");
    let err = format!("{:#}", write(&missing, &one(&eval), &config).unwrap_err());
    assert!(
        err.contains(&missing.join("report.md").display().to_string()),
        "{err}"
    );
}

#[test]
fn numbers_keep_four_significant_digits_in_plain_decimal() {
    assert_eq!(num(0.000228), "0.0002280");
    assert_eq!(num(0.017653), "0.01765");
    assert_eq!(num(-22.363), "-22.36");
    assert_eq!(num(1234.56), "1235");
    assert_eq!(num(0.0), "0");
    assert_eq!(num(f64::NAN), "n/a");
    assert_eq!(num(3.2e-9), "3.200e-9");
}

#[test]
fn a_forecast_from_models_far_from_the_data_end_is_flagged() {
    let (eval, config) = synthetic_with(Protocol::WalkForward, Some(2));
    let md = render(&eval, &config);
    // Two splits end at row 24 (2024-01-25); the data runs to row 39.
    has(
        &md,
        "- **Caution:** the forecast models' windows end on 2024-01-25, 15 rows before the data ends",
    );
    has(
        &md,
        "| last day the models trained or validated on | 2024-01-25 (15 rows before the data ends) |",
    );
    has(
        &md,
        "**Caution:** the forecast models' windows end on 2024-01-25, 15 rows before the data ends \
         (`--max-splits` or `--to`; `--last-splits N` keeps the newest splits): they forecast from prices they were never trained near, with scalers \
         fitted on older prices.",
    );

    // The seed protocol cut short by --max-splits: the skipped-split remark says so.
    let (eval, config) = synthetic_with(Protocol::Seed, Some(2));
    let md = render(&eval, &config);
    has(
        &md,
        "The seed protocol reproduces this; this run was cut to its first 2 splits by `--max-splits` anyway.",
    );
    assert_eq!(
        md.matches("identical").count(),
        2,
        "no-op said once in the call-out, once in weaknesses"
    );
    has(&md, "| splits | 2 (`--max-splits 2`) |");

    let (eval, config) = synthetic(Protocol::WalkForward);
    let md = render(&eval, &config);
    assert!(!md.contains("**Caution:**"), "a full run is not flagged");
    has(
        &md,
        "| last day the models trained or validated on | 2024-02-09 (0 rows before the data ends) |",
    );
}

fn member(model_id: u32, price: f64) -> gpulstm::train::Member {
    gpulstm::train::Member {
        model_id,
        seed: 42,
        price,
    }
}

fn one(eval: &Evaluation) -> gpulstm::report::metrics_json::PanelEvaluation {
    gpulstm::report::metrics_json::PanelEvaluation {
        panel: Vec::new(),
        series: vec![eval.clone()],
    }
}

#[test]
fn a_panel_report_ranks_its_series_and_says_the_shared_sections_once() {
    let (eval, config) = synthetic(Protocol::WalkForward);
    let mut a = eval.clone();
    a.series = "alpha".to_string();
    let mut b = eval;
    b.series = "beta/x".to_string();
    let rows = vec![];
    let panel = gpulstm::report::metrics_json::PanelEvaluation {
        panel: rows,
        series: vec![a, b],
    };
    let md = gpulstm::report::markdown::render_panel(&panel, &config);
    assert!(md.starts_with("# gpulstm panel report\n"), "{md}");
    assert!(md.contains("## Panel summary"));
    assert!(md.contains("## alpha\n") && md.contains("## beta/x\n"));
    assert_eq!(
        md.matches("Known weaknesses of the reference experiment\n")
            .count(),
        1
    );
    assert_eq!(md.matches("## Files").count(), 1);
    // Each series' plots are linked in its own directory, named safely.
    assert!(md.contains("](series/alpha/predictions.png)"), "{md}");
    assert!(md.contains("](series/beta_x/predictions.png)"), "{md}");
    // Headings of a series' section are one level down.
    assert!(md.contains("\n### In short"));
}
