//! The evaluation tables on a hand-built run whose every number is worked out in the comments.
//!
//! The run: 8 trading days, one feature (the close itself), look-back 2, rolling windows of 3 training
//! and 2 validation samples, 2 splits. Sample `s` targets row `s + 2`, so
//! - split 0: training target rows 2,3,4, validation target rows 5,6;
//! - split 1: training target rows 3,4,5, validation target rows 6,7.
//!
//! Closes by row: [10, 12, 11, 13, 14, 13, 15, 16]. Each split has its own (deliberately different)
//! target scaler, so a wrong inversion cannot go unnoticed:
//! - split 0: min 10, max 20 → scaled = (p − 10)/10;
//! - split 1: min 0, max 20 → scaled = p/20.
//!
//! Tolerance 1e-12: every expected value is a short decimal or a square root computed from a handful of
//! values of order 1–20, whose rounding error is a few ulps (~1e-14); any formula error is ≥ 1e-3.

use approx::assert_abs_diff_eq;
use chrono::NaiveDate;
use gpulstm::data::{MinMax, Series, SourceFormat, Split, SplitConfig, SplitRule, WindowKind};
use gpulstm::fit::AdamConfig;
use gpulstm::fit::{EarlyStopRule, EpochLoss, Hyper};
use gpulstm::model::{ModelSpec, ParamLayout};
use gpulstm::report::evaluate::{evaluate, next_trading_day, RunConfig};
use gpulstm::report::metrics_json::{Evaluation, PanelEvaluation, WindowName};
use gpulstm::report::{files, summary};
use gpulstm::train::protocol::{
    Forecast, Member, Protocol, RunResult, RunSpec, ScalerMode, SplitOutcome,
};

fn member(model_id: u32, price: f64) -> Member {
    Member {
        model_id,
        seed: 7,
        price,
    }
}
use gpulstm::train::Scaling;

const TOL: f64 = 1e-12;

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

const CLOSES: [f64; 8] = [10.0, 12.0, 11.0, 13.0, 14.0, 13.0, 15.0, 16.0];

fn series() -> Series {
    // Wed 2024-01-03 .. Fri 2024-01-12, weekdays only.
    let dates = [
        "2024-01-03",
        "2024-01-04",
        "2024-01-05",
        "2024-01-08",
        "2024-01-09",
        "2024-01-10",
        "2024-01-11",
        "2024-01-12",
    ];
    Series {
        source: "synthetic.csv".to_string(),
        format: SourceFormat::Generic,
        dates: dates.iter().map(|d| date(d)).collect(),
        feature_names: vec!["Close".to_string()],
        features: CLOSES.iter().map(|&c| vec![c]).collect(),
        target_name: "Close".to_string(),
        target: CLOSES.to_vec(),
        adjusted: false,
        raw_last_target: None,
        warmup_rows_dropped: 0,
    }
}

fn scaling(min: f64, max: f64) -> Scaling {
    let m = MinMax {
        min: vec![min],
        max: vec![max],
    };
    Scaling {
        features: m.clone(),
        target: m,
        transform: Default::default(),
    }
}

fn config(protocol: Protocol) -> RunConfig {
    let layout = ParamLayout::new(&ModelSpec::parse("lstm:2,dense:1", 1).unwrap());
    RunConfig {
        spec: RunSpec {
            protocol,
            layout,
            hyper: Hyper {
                epochs: 3,
                batch_size: 2,
                patience: 1,
                adam: AdamConfig::default(),
                seed: 7,
                stopping: EarlyStopRule::Keras37,
            },
            splits: SplitConfig {
                lookback: 2,
                train_window: 3,
                val_window: 2,
                step: 1,
                kind: WindowKind::Rolling,
                rule: SplitRule::AllThatFit,
                max_splits: None,
                last_splits: None,
                target_rows: None,
            },
            scaler: ScalerMode::Train,
            init_weights: None,
            ensemble_last: 2,
            seeds: 1,
            val_dates: Default::default(),
            scaler_kind: Default::default(),
            target_transform: Default::default(),
            max_models_per_chunk: None,
        },
        init_weights: None,
        notes: vec![],
        scoring: Default::default(),
        intervals: None,
    }
}

/// Prices are given; scaled values are derived with each split's scaler.
fn result(protocol: Protocol) -> RunResult {
    let split = |index: usize| Split {
        index,
        train_start: index,
        train_len: 3,
        val_start: index + 3,
        val_len: 2,
    };
    let s0 = scaling(10.0, 20.0);
    let s1 = scaling(0.0, 20.0);
    let scale = |s: &Scaling, prices: &[f64]| -> Vec<f64> {
        prices
            .iter()
            .map(|&p| s.target.transform_value(0, p))
            .collect()
    };
    let outcome = |index: usize,
                   sc: Scaling,
                   train_pred: &[f64],
                   train_actual: &[f64],
                   val_pred: &[f64],
                   val_actual: &[f64],
                   history: Vec<EpochLoss>,
                   best_epoch: usize| SplitOutcome {
        split: split(index),
        model_id: match protocol {
            Protocol::WalkForward => index as u32,
            Protocol::Seed => 0,
        },
        seed: 7,
        members: 1,
        train_spread: Vec::new(),
        val_spread: Vec::new(),
        history,
        best_epoch,
        stopped_early: best_epoch == 0,
        diverged: false,
        train_pred: scale(&sc, train_pred),
        val_pred: scale(&sc, val_pred),
        train_actual: scale(&sc, train_actual),
        val_actual: scale(&sc, val_actual),
        scaling: sc,
    };
    let splits = vec![
        outcome(
            0,
            s0,
            &[11.5, 12.5, 14.0],
            &[11.0, 13.0, 14.0],
            &[14.0, 14.0],
            &[13.0, 15.0],
            vec![
                EpochLoss {
                    train: 0.5,
                    val: 0.25,
                },
                EpochLoss {
                    train: 0.4,
                    val: 0.3,
                },
            ],
            0,
        ),
        outcome(
            1,
            s1,
            &[13.0, 14.0, 14.0],
            &[13.0, 14.0, 13.0],
            &[16.0, 17.0],
            &[15.0, 16.0],
            vec![
                EpochLoss {
                    train: 0.3,
                    val: 0.2,
                },
                EpochLoss {
                    train: 0.2,
                    val: 0.1,
                },
                EpochLoss {
                    train: 0.1,
                    val: 0.15,
                },
            ],
            1,
        ),
    ];
    let forecast = match protocol {
        Protocol::WalkForward => Forecast {
            members: vec![member(0, 15.5), member(1, 16.5)],
            mean: 16.0,
            min: 15.5,
            max: 16.5,
            std: 0.5,
        },
        Protocol::Seed => Forecast {
            members: vec![member(0, 16.25)],
            mean: 16.25,
            min: 16.25,
            max: 16.25,
            std: 0.0,
        },
    };
    RunResult {
        protocol,
        backend: gpulstm::train::TrainedBy {
            engines: vec![gpulstm::train::Engine::Cpu],
            description: "test backend".to_string(),
        },
        splits,
        forecast,
        forecast_models: vec![],
        wall_seconds: 1.5,
    }
}

fn eval(protocol: Protocol) -> Evaluation {
    let mut e = evaluate(&series(), &config(protocol), &result(protocol)).unwrap();
    e.series = "s".to_string();
    e
}

#[test]
fn next_trading_day_skips_weekends_only() {
    // 2024-01-12 is a Friday; Monday 2024-01-15 is Martin Luther King Day (a US market holiday), which
    // is deliberately not modelled.
    assert_eq!(next_trading_day(date("2024-01-12")), date("2024-01-15"));
    assert_eq!(next_trading_day(date("2024-01-13")), date("2024-01-15")); // Saturday
    assert_eq!(next_trading_day(date("2024-01-14")), date("2024-01-15")); // Sunday
    assert_eq!(next_trading_day(date("2024-01-15")), date("2024-01-16")); // Monday
    assert_eq!(next_trading_day(date("2024-01-11")), date("2024-01-12")); // Thursday
}

#[test]
fn split_dates_and_training_facts() {
    let e = eval(Protocol::WalkForward);
    assert_eq!(e.splits.len(), 2);
    let s0 = &e.splits[0];
    // Split 0 trains on target rows 2..=4 and validates on rows 5..=6.
    assert_eq!(
        (
            s0.train_first_date.as_str(),
            s0.train_last_date.as_str(),
            s0.val_first_date.as_str(),
            s0.val_last_date.as_str()
        ),
        ("2024-01-05", "2024-01-09", "2024-01-10", "2024-01-11")
    );
    assert_eq!(
        (s0.epochs_run, s0.best_epoch, s0.stopped_early),
        (Some(2), Some(0), Some(true))
    );
    assert_eq!(s0.best_val_loss, Some(0.25));
    let s1 = &e.splits[1];
    assert_eq!(s1.val_last_date, "2024-01-12");
    assert_eq!(
        (s1.epochs_run, s1.best_epoch, s1.model_id),
        (Some(3), Some(1), 1)
    );
    assert_eq!(s1.best_val_loss, Some(0.1));
    assert_eq!(e.history.len(), 5);
    assert_eq!(
        (
            e.history[3].split,
            e.history[3].epoch,
            e.history[3].val_loss
        ),
        (1, 1, 0.1)
    );
}

#[test]
fn model_metrics_in_price_and_scaled_units() {
    let e = eval(Protocol::WalkForward);
    let s0 = &e.splits[0];
    // Validation, split 0: actual [13, 15], predicted [14, 14] → errors −1, +1: MSE 1, RMSE 1, MAE 1.
    // mean 14, SS_tot = 2 → R² = 1 − 2/2 = 0; residuals [−1, 1] have mean 0 and variance 1, Var(y) = 1
    // → EVS 0.
    assert_abs_diff_eq!(s0.val_price.mse, 1.0, epsilon = TOL);
    assert_abs_diff_eq!(s0.val_price.rmse, 1.0, epsilon = TOL);
    assert_abs_diff_eq!(s0.val_price.mae, 1.0, epsilon = TOL);
    assert_abs_diff_eq!(s0.val_price.r2, 0.0, epsilon = TOL);
    assert_abs_diff_eq!(s0.val_price.evs, 0.0, epsilon = TOL);
    // Scaled by (p − 10)/10: errors ±0.1 → MSE 0.01, RMSE 0.1; R² is unit-free, still 0.
    assert_abs_diff_eq!(s0.val_scaled.mse, 0.01, epsilon = TOL);
    assert_abs_diff_eq!(s0.val_scaled.rmse, 0.1, epsilon = TOL);
    assert_abs_diff_eq!(s0.val_scaled.r2, 0.0, epsilon = TOL);
    // Training, split 0: actual [11, 13, 14], predicted [11.5, 12.5, 14] → errors −0.5, 0.5, 0:
    // MSE 0.5/3, MAE 1/3 in dollars; scaled errors ±0.05 → MSE 0.005/3.
    assert_abs_diff_eq!(s0.train_price.mse, 0.5 / 3.0, epsilon = TOL);
    assert_abs_diff_eq!(s0.train_price.mae, 1.0 / 3.0, epsilon = TOL);
    assert_abs_diff_eq!(s0.train_scaled.mse, 0.005 / 3.0, epsilon = TOL);

    // Split 1 (scale p/20): validation actual [15, 16], predicted [16, 17] → errors −1, −1:
    // MSE 1, MAE 1 in dollars; scaled errors −0.05 → MSE 0.0025. R² = 1 − 2/0.5 = −3; the residuals
    // are constant, so EVS = 1.
    let s1 = &e.splits[1];
    assert_abs_diff_eq!(s1.val_price.mse, 1.0, epsilon = TOL);
    assert_abs_diff_eq!(s1.val_price.r2, -3.0, epsilon = TOL);
    assert_eq!(s1.val_price.evs, 1.0);
    assert_abs_diff_eq!(s1.val_scaled.mse, 0.0025, epsilon = TOL);
}

#[test]
fn naive_baseline_skill_and_direction_on_the_same_windows() {
    let e = eval(Protocol::WalkForward);
    // Split 0: targets rows 5, 6 (13, 15); naive = closes of rows 4, 5 = (14, 13).
    // Errors 13−14 = −1, 15−13 = 2 → MSE 2.5, RMSE √2.5, MAE 1.5.
    let s0 = &e.splits[0];
    assert_abs_diff_eq!(s0.naive_val_price.mse, 2.5, epsilon = TOL);
    assert_abs_diff_eq!(s0.naive_val_price.rmse, 2.5f64.sqrt(), epsilon = TOL);
    assert_abs_diff_eq!(s0.naive_val_price.mae, 1.5, epsilon = TOL);
    // In split 0's scale the errors are −0.1 and 0.2 → MSE (0.01 + 0.04)/2 = 0.025.
    assert_abs_diff_eq!(s0.naive_val_scaled.mse, 0.025, epsilon = TOL);
    // skill = 1 − RMSE_model/RMSE_naive = 1 − 1/√2.5.
    assert_abs_diff_eq!(s0.skill, 1.0 - 1.0 / 2.5f64.sqrt(), epsilon = TOL);
    // Direction, split 0: row 5: last 14, actual 13 (down), predicted 14 (no move) → miss;
    // row 6: last 13, actual 15 (up), predicted 14 (up) → hit. 1/2.
    assert_eq!(s0.directional_accuracy, 0.5);

    // Split 1: targets rows 6, 7 (15, 16); naive (13, 15): errors 2, 1 → MSE 2.5 again.
    // Direction: row 6 last 13, actual up, predicted 16 up → hit; row 7 last 15, actual 16 up,
    // predicted 17 up → hit. 2/2.
    let s1 = &e.splits[1];
    assert_abs_diff_eq!(s1.naive_val_price.mse, 2.5, epsilon = TOL);
    assert_eq!(s1.directional_accuracy, 1.0);

    // Pooled: model errors −1, 1, −1, −1 → RMSE 1, MAE 1; naive errors −1, 2, 2, 1 → MSE 10/4,
    // MAE 6/4; direction 3 of 4; rows 5, 6, 6, 7 → 3 distinct dates.
    let p = &e.pooled;
    assert_eq!((p.predictions, p.distinct_dates), (4, 3));
    assert_abs_diff_eq!(p.model_rmse, 1.0, epsilon = TOL);
    assert_abs_diff_eq!(p.model_mae, 1.0, epsilon = TOL);
    assert_abs_diff_eq!(p.naive_rmse, 2.5f64.sqrt(), epsilon = TOL);
    assert_abs_diff_eq!(p.naive_mae, 1.5, epsilon = TOL);
    assert_abs_diff_eq!(p.skill, 1.0 - 1.0 / 2.5f64.sqrt(), epsilon = TOL);
    assert_eq!(p.directional_accuracy, 0.75);
}

#[test]
fn describe_tables_follow_pandas() {
    let e = eval(Protocol::WalkForward);
    // Directional accuracy per split [0.5, 1.0]: mean 0.75, sample std √((0.25² + 0.25²)/1) = √0.125,
    // q25 = 0.5 + 0.25·0.5 = 0.625, median 0.75, q75 0.875.
    let d = &e.describe.directional_accuracy;
    assert_eq!(d.count, 2);
    assert_abs_diff_eq!(d.mean, 0.75, epsilon = TOL);
    assert_abs_diff_eq!(d.std, 0.125f64.sqrt(), epsilon = TOL);
    assert_abs_diff_eq!(d.q25, 0.625, epsilon = TOL);
    assert_abs_diff_eq!(d.q50, 0.75, epsilon = TOL);
    assert_abs_diff_eq!(d.q75, 0.875, epsilon = TOL);
    // Scaled validation MSE per split [0.01, 0.0025] (Table 3's mse row): mean 0.00625, min 0.0025.
    let v = &e.describe.scaled.val.mse;
    assert_abs_diff_eq!(v.mean, 0.00625, epsilon = TOL);
    assert_abs_diff_eq!(v.min, 0.0025, epsilon = TOL);
    assert_abs_diff_eq!(v.max, 0.01, epsilon = TOL);
    // The same in dollars: both splits have validation MSE 1 → std 0.
    let vp = &e.describe.price.val.mse;
    assert_abs_diff_eq!(vp.mean, 1.0, epsilon = TOL);
    assert_abs_diff_eq!(vp.std, 0.0, epsilon = TOL);
    // Naive RMSE √2.5 in both splits.
    assert_abs_diff_eq!(
        e.describe.naive_val_price.rmse.mean,
        2.5f64.sqrt(),
        epsilon = TOL
    );
    assert_eq!(e.describe.skill.count, 2);
    // Training MSE in scaled units: split 0 0.005/3, split 1 (errors 0, 0, −0.05) 0.0025/3.
    assert_abs_diff_eq!(
        e.describe.scaled.train.mse.mean,
        (0.005 / 3.0 + 0.0025 / 3.0) / 2.0,
        epsilon = TOL
    );
}

#[test]
fn predictions_are_inverted_to_prices_with_each_splits_scaler() {
    let e = eval(Protocol::WalkForward);
    // 2 splits × (3 train + 2 val) rows.
    assert_eq!(e.predictions.len(), 10);
    let first = &e.predictions[0];
    assert_eq!(
        (first.split, first.window, first.date),
        (0, WindowName::Train, date("2024-01-05"))
    );
    assert_eq!(first.actual, 11.0);
    assert_abs_diff_eq!(first.predicted, 11.5, epsilon = TOL);
    assert_eq!(first.naive, None);
    // Split 1, second validation row: target row 7 (2024-01-12), actual 16, predicted 17 (scaled
    // 0.85 under p/20), naive = row 6's close 15.
    let last = &e.predictions[9];
    assert_eq!(
        (last.split, last.window, last.date),
        (1, WindowName::Val, date("2024-01-12"))
    );
    assert_eq!(last.actual, 16.0);
    assert_abs_diff_eq!(last.predicted, 17.0, epsilon = TOL);
    assert_eq!(last.naive, Some(15.0));
}

#[test]
fn table1_walk_forward_pools_validation_and_takes_the_last_training_fit() {
    let e = eval(Protocol::WalkForward);
    let t = &e.table1;
    assert!(t.definition.contains("pooled"), "{}", t.definition);
    // Train: split 1's model on its own window: scaled errors 0, 0, −0.05 → MSE 0.0025/3;
    // dollars: errors 0, 0, −1 → MSE 1/3.
    assert_eq!(t.train.predictions, 3);
    assert_abs_diff_eq!(t.train.scaled.mse, 0.0025 / 3.0, epsilon = TOL);
    assert_abs_diff_eq!(t.train.price.mse, 1.0 / 3.0, epsilon = TOL);
    // Val: all 4 validation predictions, each in its split's scale: errors −0.1, 0.1, −0.05, −0.05 →
    // MSE (0.01 + 0.01 + 0.0025 + 0.0025)/4 = 0.00625; dollars MSE 1.
    assert_eq!(t.val.predictions, 4);
    assert_abs_diff_eq!(t.val.scaled.mse, 0.00625, epsilon = TOL);
    assert_abs_diff_eq!(t.val.price.mse, 1.0, epsilon = TOL);
}

#[test]
fn table1_seed_is_the_final_model_on_the_last_split() {
    let e = eval(Protocol::Seed);
    let t = &e.table1;
    assert!(t.definition.contains("final model"), "{}", t.definition);
    // Last split only: val scaled MSE 0.0025 (not the pooled 0.00625), train 0.0025/3.
    assert_eq!(t.val.predictions, 2);
    assert_abs_diff_eq!(t.val.scaled.mse, 0.0025, epsilon = TOL);
    assert_abs_diff_eq!(t.train.scaled.mse, 0.0025 / 3.0, epsilon = TOL);
    // The seed forecast is one model, named after the last split, with the no-op-average note.
    let f = &e.forecast;
    assert_eq!(f.members.len(), 1);
    assert_eq!(f.members[0].split, 1);
    assert_eq!(f.mean, 16.25);
    assert!(f.note.as_deref().unwrap_or("").contains("identical"));
}

#[test]
fn forecast_dates_and_members() {
    let e = eval(Protocol::WalkForward);
    let f = &e.forecast;
    assert_eq!(f.last_date, "2024-01-12");
    assert_eq!(f.last_close, 16.0);
    assert_eq!(f.next_trading_day, "2024-01-15");
    assert!(f.calendar.contains("holidays are not modelled"));
    assert_eq!(
        f.members
            .iter()
            .map(|m| (m.split, m.price))
            .collect::<Vec<_>>(),
        vec![(0, 15.5), (1, 16.5)]
    );
    assert_eq!((f.mean, f.min, f.max, f.std), (16.0, 15.5, 16.5, 0.5));
    // The last split validates on the last row: nothing after it, no warning.
    assert_eq!(f.rows_after_last_window, 0);
    assert_eq!(f.note, None);
}

#[test]
fn run_info_records_the_configuration() {
    let e = eval(Protocol::WalkForward);
    let r = &e.run;
    assert_eq!(
        (r.first_date.as_str(), r.last_date.as_str(), r.rows),
        ("2024-01-03", "2024-01-12", 8)
    );
    assert_eq!(
        (
            r.protocol.as_str(),
            r.window.as_str(),
            r.scaler.to_string().as_str()
        ),
        ("walk-forward", "rolling", "train")
    );
    assert_eq!(
        (r.lookback, r.train_window, r.val_window, r.splits),
        (2, 3, 2, 2)
    );
    assert_eq!(r.layers, "lstm:2,dense:1");
    assert_eq!(r.backend, "test backend");
    assert_eq!(r.wall_seconds, 1.5);
}

#[test]
fn inconsistent_results_are_errors_not_panics() {
    let mut bad = result(Protocol::WalkForward);
    bad.splits[1].val_pred.pop();
    let err = evaluate(&series(), &config(Protocol::WalkForward), &bad).unwrap_err();
    assert!(format!("{err:#}").contains("split 1"), "{err:#}");

    // A window reaching past the last row.
    let mut bad = result(Protocol::WalkForward);
    bad.splits[1].split.val_start = 5;
    let err = evaluate(&series(), &config(Protocol::WalkForward), &bad).unwrap_err();
    assert!(format!("{err:#}").contains("outside the series"), "{err:#}");
}

#[test]
fn files_and_summary() {
    let e = eval(Protocol::WalkForward);
    let dir = std::env::temp_dir().join(format!("gpulstm-evaluate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let panel = PanelEvaluation {
        panel: Vec::new(),
        series: vec![e.clone()],
    };
    files::write_all(&dir, &panel).unwrap();

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(json["run"]["protocol"], "walk-forward");
    assert_eq!(json["splits"][0]["val_price"]["rmse"], 1.0);
    assert_eq!(json["forecast"]["next_trading_day"], "2024-01-15");
    assert_eq!(json["describe"]["directional_accuracy"]["q25"], 0.625);
    assert!(json["table1"]["definition"].is_string());

    let splits = std::fs::read_to_string(dir.join("splits.csv")).unwrap();
    let lines: Vec<&str> = splits.lines().collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0], files::splits_header().join(","));
    let header: Vec<&str> = lines[0].split(',').collect();
    let row1: Vec<&str> = lines[2].split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    assert_eq!(row1[col("val_last_date")], "2024-01-12");
    assert_eq!(row1[col("directional_accuracy")], "1");
    assert_eq!(
        row1[col("naive_val_price_mse")].parse::<f64>().unwrap(),
        2.5
    );

    let preds = std::fs::read_to_string(dir.join("predictions.csv")).unwrap();
    let lines: Vec<&str> = preds.lines().collect();
    assert_eq!(
        lines[0],
        "series,split,window,date,actual,predicted,naive,predicted_std,predicted_min,predicted_max,\
         drift,ridge"
    );
    assert_eq!(lines.len(), 11);
    assert!(
        lines[1].starts_with("s,0,train,2024-01-05,11,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].ends_with(",,,,,,"),
        "train rows have no naive or baseline value, one model no spread"
    );
    assert!(
        lines[10].starts_with("s,1,val,2024-01-12,16,"),
        "{}",
        lines[10]
    );
    // naive 15, no spread, then the drift and ridge baselines' predictions.
    let cells: Vec<&str> = lines[10].split(',').collect();
    assert_eq!(cells[6..10], ["15", "", "", ""], "{}", lines[10]);
    assert!(cells[10].parse::<f64>().is_ok() && cells[11].parse::<f64>().is_ok());

    let history = std::fs::read_to_string(dir.join("history.csv")).unwrap();
    assert_eq!(
        history.lines().next(),
        Some("series,seed,split,epoch,train_loss,val_loss")
    );
    assert_eq!(history.lines().nth(4), Some("s,7,1,1,0.2,0.1"));
    std::fs::remove_dir_all(&dir).unwrap();

    let text = summary::render(&e, &dir, &["metrics.json".to_string()]);
    assert!(text.lines().count() < 25, "{text}");
    assert!(text.contains("2024-01-15"), "{text}");
    assert!(text.contains("$1.00 vs naive $1.58"), "{text}");
}
