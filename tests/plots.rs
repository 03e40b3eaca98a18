//! Plots: the data each plot draws (loss curves concatenated in split order, one freshest prediction
//! per validation day, per-split RMSE) and the files written (PNG and SVG of each, with the bundled
//! font, surviving NaN values and single-split runs).

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use gpulstm::data::{load_sample, LoadOptions, SplitConfig, SplitRule, WindowKind};
use gpulstm::fit::Hyper;
use gpulstm::fit::{AdamConfig, EarlyStopRule};
use gpulstm::model::{ModelSpec, ParamLayout};
use gpulstm::report::evaluate::{evaluate, RunConfig};
use gpulstm::report::metrics_json::{Evaluation, HistoryRow, PredictionRow, WindowName};
use gpulstm::report::plots::{
    freshest_predictions, split_rmse_points, trailing_mean, write_all, LossData, PLOT_NAMES,
};
use gpulstm::train::protocol::{run, Protocol, RunSpec, ScalerMode};
use gpulstm::train::reference::ReferenceTrainer;

/// A small real run on the embedded sample with the CPU reference: a tiny model, a few splits and
/// epochs, so the plots show what a real run's look like in a second or two.
fn tiny_run(protocol: Protocol, max_splits: usize, step: usize) -> Evaluation {
    let series = load_sample(&LoadOptions::default()).expect("embedded sample");
    let spec = ModelSpec::parse("lstm:8,dense:1", series.feature_names.len()).unwrap();
    let run_spec = RunSpec {
        protocol,
        layout: ParamLayout::new(&spec),
        hyper: Hyper {
            epochs: 4,
            batch_size: 10,
            patience: 5,
            adam: AdamConfig {
                lr: 0.01,
                ..AdamConfig::default()
            },
            seed: 1,
            stopping: EarlyStopRule::Keras37,
        },
        splits: SplitConfig {
            lookback: 20,
            train_window: 100,
            val_window: 10,
            step,
            kind: WindowKind::Rolling,
            rule: SplitRule::AllThatFit,
            max_splits: Some(max_splits),
            last_splits: None,
            target_rows: None,
        },
        scaler: match protocol {
            Protocol::Seed => ScalerMode::Global,
            Protocol::WalkForward => ScalerMode::Train,
        },
        init_weights: None,
        ensemble_last: 3,
        seeds: 1,
        val_dates: Default::default(),
        scaler_kind: Default::default(),
        target_transform: Default::default(),
        max_models_per_chunk: None,
    };
    let result = run(&series, &run_spec, &mut ReferenceTrainer, &|_| {}).expect("training");
    let config = RunConfig {
        spec: run_spec,
        init_weights: None,
        notes: Vec::new(),
        scoring: Default::default(),
        intervals: None,
    };
    evaluate(&series, &config, &result).expect("evaluation")
}

/// A fresh directory under the target dir (kept after the test so the plots can be looked at).
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("plots-{test}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Width and height from a PNG's IHDR chunk, after checking the signature.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).expect("read png");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

fn check_files(dir: &Path, written: &[PathBuf]) {
    assert_eq!(written.len(), 2 * PLOT_NAMES.len());
    for name in PLOT_NAMES {
        let png = dir.join(format!("{name}.png"));
        let svg = dir.join(format!("{name}.svg"));
        assert!(written.contains(&png) && written.contains(&svg), "{name}");
        let (w, h) = png_size(&png);
        assert!(w >= 1000 && h >= 600, "{name}: {w}x{h}");
        let text = std::fs::read_to_string(&svg).expect("read svg");
        assert!(text.starts_with("<svg"), "{name}");
        // Text is real text (drawn with the registered family), not missing.
        assert!(
            text.contains("<text") && text.contains("sans-serif"),
            "{name}"
        );
    }
}

#[test]
fn loss_data_concatenates_epochs_in_split_order_and_marks_split_starts() {
    let row = |split, epoch, t: f64| HistoryRow {
        seed: 1,
        split,
        epoch,
        train_loss: t,
        val_loss: 2.0 * t,
    };
    let history = [
        row(0, 0, 0.5),
        row(0, 1, 0.25),
        row(1, 0, 0.4),
        row(2, 0, 0.3),
        row(2, 1, 0.2),
        row(2, 2, 0.1),
    ];
    let d = LossData::from_history(&history);
    assert_eq!(
        d.train.iter().map(|p| p.0).collect::<Vec<_>>(),
        [0., 1., 2., 3., 4., 5.]
    );
    assert_eq!(d.train[3], (3.0, 0.3));
    assert_eq!(d.val[5], (5.0, 0.2));
    assert_eq!(d.split_starts, vec![(0, 0.0), (1, 2.0), (2, 3.0)]);
}

#[test]
fn each_validation_day_keeps_the_prediction_of_the_latest_split() {
    let day = |d| NaiveDate::from_ymd_opt(2024, 7, d).unwrap();
    let row = |split, d, predicted, window| PredictionRow {
        split,
        window,
        date: day(d),
        actual: 100.0 + d as f64,
        predicted,
        naive: Some(99.0 + d as f64),
        drift: None,
        ridge: None,
        spread: None,
    };
    let rows = [
        row(0, 1, 1.0, WindowName::Train),
        row(0, 2, 2.0, WindowName::Val),
        row(0, 3, 3.0, WindowName::Val),
        row(1, 3, 13.0, WindowName::Val),
        row(1, 4, 14.0, WindowName::Val),
        // Out of order on purpose: a later split wins wherever it appears.
        row(2, 4, 24.0, WindowName::Val),
        row(1, 5, 15.0, WindowName::Val),
    ];
    let days = freshest_predictions(&rows);
    let got: Vec<(u32, f64)> = days
        .iter()
        .map(|p| (chrono::Datelike::day(&p.date), p.predicted))
        .collect();
    // Day 1 is a training row: not plotted.
    assert_eq!(got, vec![(2, 2.0), (3, 13.0), (4, 24.0), (5, 15.0)]);
    assert_eq!(days[0].actual, 102.0);
    assert_eq!(days[0].naive, 101.0);
}

#[test]
fn trailing_mean_averages_the_last_values_and_skips_nan() {
    let v = [1.0, 3.0, f64::NAN, 5.0];
    assert_eq!(trailing_mean(&v, 2), vec![1.0, 2.0, 3.0, 5.0]);
    assert_eq!(trailing_mean(&v, 10), vec![1.0, 2.0, 2.0, 3.0]);
}

#[test]
fn walk_forward_plots_are_written_as_png_and_svg() {
    let eval = tiny_run(Protocol::WalkForward, 60, 1);
    let points = split_rmse_points(&eval.splits);
    assert_eq!(points.len(), eval.splits.len());
    assert_eq!(points[0].1, eval.splits[0].val_price.rmse);
    assert_eq!(points[0].2, eval.splits[0].naive_val_price.rmse);
    // Step 1 and 10-day windows: 60 splits cover 60 + 9 different validation days.
    assert_eq!(freshest_predictions(&eval.predictions).len(), 69);

    let dir = scratch("walk-forward");
    let written = write_all(&dir, &eval).expect("plots");
    check_files(&dir, &written);
    let svg = std::fs::read_to_string(dir.join("loss_mse.svg")).unwrap();
    assert!(svg.contains("Train and validation MSE per epoch, 60 splits"));
    let svg = std::fs::read_to_string(dir.join("split_rmse.svg")).unwrap();
    assert!(svg.contains("model better on"));
}

#[test]
fn seed_protocol_plots_with_few_splits() {
    let eval = tiny_run(Protocol::Seed, 8, 10);
    let dir = scratch("seed");
    let written = write_all(&dir, &eval).expect("plots");
    check_files(&dir, &written);
    let svg = std::fs::read_to_string(dir.join("predictions.svg")).unwrap();
    assert!(
        svg.contains("model right after its fit"),
        "the seed protocol's plot names the in-loop model"
    );
}

#[test]
fn nan_losses_and_a_single_split_do_not_break_the_plots() {
    let mut eval = tiny_run(Protocol::WalkForward, 1, 1);
    eval.history[1].val_loss = f64::NAN;
    eval.history[2].train_loss = f64::INFINITY;
    eval.splits[0].val_price.rmse = f64::NAN;
    let dir = scratch("nan");
    let written = write_all(&dir, &eval).expect("plots");
    check_files(&dir, &written);

    // Nothing finite at all: the plots say so instead of failing.
    for h in &mut eval.history {
        h.train_loss = f64::NAN;
        h.val_loss = f64::NAN;
    }
    eval.predictions.clear();
    eval.splits[0].naive_val_price.rmse = f64::NAN;
    let dir = scratch("empty");
    let written = write_all(&dir, &eval).expect("plots");
    check_files(&dir, &written);
    let svg = std::fs::read_to_string(dir.join("loss_mse.svg")).unwrap();
    assert!(svg.contains("no finite values to plot"));
}

#[test]
fn an_unwritable_directory_is_an_error_naming_the_file() {
    let eval = tiny_run(Protocol::WalkForward, 2, 1);
    let missing = scratch("missing").join("not-there");
    let err = format!("{:#}", write_all(&missing, &eval).unwrap_err());
    assert!(
        err.contains(&missing.join("loss_mse.png").display().to_string()),
        "{err}"
    );
}
