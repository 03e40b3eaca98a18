//! The `gpulstm` binary end to end, on the embedded sample with tiny settings (each run well under a
//! second on the CPU backend): the files and their shapes, the overwrite guard, exit codes and messages
//! for malformed input, `devices`, the seed protocol and `predict` on the checkpoint a run wrote.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_gpulstm");

/// Tiny run: 2 splits of 30 training and 5 validation samples, one epoch of a 4-unit LSTM.
const TINY: [&str; 14] = [
    "--backend",
    "cpu",
    "--max-splits",
    "2",
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
];

/// A fresh, empty directory path under the system temp dir, unique to this test process and `name`.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gpulstm-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The adapters a run may pick without naming one (GL ones only when named).
fn usable_adapters() -> Vec<gpulstm::gpu::AdapterSummary> {
    gpulstm::gpu::list_adapters()
        .into_iter()
        .filter(|a| !a.opt_in)
        .collect()
}

fn gpulstm(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("the gpulstm binary runs")
}

fn train(out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["train", "--quiet", "--out", out.to_str().unwrap()];
    args.extend_from_slice(&TINY);
    args.extend_from_slice(extra);
    gpulstm(&args)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(str::to_string)
        .collect()
}

/// Exit code 2 and a message on stderr containing every one of `needles`.
fn assert_usage_error(out: &Output, needles: &[&str]) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    for n in needles {
        assert!(stderr.contains(n), "expected {n:?} in: {stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn train_writes_the_files_then_guards_them() {
    let dir = scratch("files");
    let out = train(&dir, &[]);
    assert!(
        out.status.success(),
        "stderr: {}\nstdout: {}",
        text(&out.stderr),
        text(&out.stdout)
    );
    let stdout = text(&out.stdout);
    assert!(stdout.lines().count() < 25, "{stdout}");
    assert!(stdout.contains("forecast: 2013-03-04"), "{stdout}");
    assert!(stdout.contains("naive"), "{stdout}");

    // splits.csv: header + one row per split.
    let splits = lines(&dir.join("splits.csv"));
    assert_eq!(splits.len(), 3);
    assert!(splits[0].starts_with(
        "series,split,model_id,seed,members,train_first_date,train_last_date,val_first_date"
    ));
    assert!(
        splits[1].starts_with("AAPL_2000_2013_yahoo,"),
        "{}",
        splits[1]
    );
    assert!(splits[0].contains(",skill,directional_accuracy,val_return_rmse,"));
    assert!(splits[0].ends_with(",buy_and_hold_trade_hit_rate"));
    // history.csv: one row per split and epoch (1 epoch each).
    let history = lines(&dir.join("history.csv"));
    assert_eq!(history[0], "series,seed,split,epoch,train_loss,val_loss");
    assert_eq!(history.len(), 1 + 2);
    // predictions.csv: 2 splits × (30 train + 5 val).
    let predictions = lines(&dir.join("predictions.csv"));
    assert_eq!(
        predictions[0],
        "series,split,window,date,actual,predicted,naive,predicted_std,predicted_min,predicted_max,\
         drift,ridge"
    );
    // trades.csv: one row per validation day: 2 windows of 5 days one day apart cover 6 days.
    let trades = lines(&dir.join("trades.csv"));
    assert_eq!(
        trades[0],
        "series,date,position,return,cost,equity,buy_and_hold_equity"
    );
    assert_eq!(trades.len(), 1 + 6);
    assert_eq!(predictions.len(), 1 + 2 * 35);
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["run"]["splits"], 2);
    assert_eq!(metrics["run"]["protocol"], "walk-forward");
    assert_eq!(metrics["run"]["engines"], serde_json::json!(["cpu"]));
    assert_eq!(metrics["splits"].as_array().map(Vec::len), Some(2));
    assert!(metrics["pooled"]["naive_rmse"].as_f64().unwrap() > 0.0);
    assert!(dir.join("model.safetensors").exists());
    assert!(dir.join("report.md").exists());

    // A second run into the same directory is refused, naming the directory and --force.
    let keep = dir.join("notes.txt");
    std::fs::write(&keep, "mine").unwrap();
    let again = train(&dir, &[]);
    assert_usage_error(&again, &[dir.to_str().unwrap(), "--force"]);
    // With --force it runs, and a file that is not an output is left alone.
    let forced = train(&dir, &["--force"]);
    assert!(forced.status.success(), "{}", text(&forced.stderr));
    assert_eq!(std::fs::read_to_string(&keep).unwrap(), "mine");

    // predict on the checkpoint this run wrote gives the same next-day date.
    let model = dir.join("model.safetensors");
    let p = gpulstm(&["predict", "--model", model.to_str().unwrap()]);
    assert!(p.status.success(), "{}", text(&p.stderr));
    assert!(
        text(&p.stdout).contains("forecast: 2013-03-04 close $"),
        "{}",
        text(&p.stdout)
    );
    // The two first splits' models never saw the last years: predict says so, as train does.
    assert!(
        text(&p.stdout).contains("warning: the models were trained on data up to"),
        "{}",
        text(&p.stdout)
    );

    std::fs::remove_dir_all(&dir).unwrap();
}

/// A run with a target transform, another scaler kind and derived features, then `predict` on its
/// checkpoint: the recorded expressions are computed again and the transform inverted from the last
/// close, giving the run's own forecast.
#[test]
fn transformed_runs_predict_their_own_forecast() {
    let dir = scratch("transformed");
    let features =
        "log_return(Close),log(Volume),range(High,Low,Close),rolling_std(log_return(Close),5)";
    let out = train(
        &dir,
        &[
            "--target-transform",
            "log-return",
            "--scaler-kind",
            "robust",
            "--features",
            features,
            "--ensemble-last",
            "2",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["run"]["target_transform"], "log-return");
    assert_eq!(metrics["run"]["scaler_kind"], "robust");
    assert_eq!(metrics["run"]["warmup_rows_dropped"], 5);
    assert_eq!(
        metrics["run"]["features"],
        serde_json::json!([
            "log_return(Close)",
            "log(Volume)",
            "range(High,Low,Close)",
            "rolling_std(log_return(Close),5)"
        ])
    );
    for key in ["naive", "drift", "ridge"] {
        assert!(
            metrics["pooled"]["baselines"][key]["rmse"]
                .as_f64()
                .unwrap()
                > 0.0
        );
    }
    assert!(metrics["trading"]["model"]["days"].as_u64().unwrap() > 0);
    let forecast = metrics["forecast"]["mean"].as_f64().unwrap();
    let model = dir.join("model.safetensors");
    let p = gpulstm(&["predict", "--model", model.to_str().unwrap()]);
    assert!(p.status.success(), "{}", text(&p.stderr));
    let printed = format!(
        "forecast: 2013-03-04 close {}",
        gpulstm::report::format::dollars(forecast)
    );
    assert!(
        text(&p.stdout).contains(&printed),
        "{printed} not in {}",
        text(&p.stdout)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn malformed_features_exit_2_naming_the_flag_and_position() {
    let dir = scratch("bad-features");
    for (features, needle) in [
        ("log_return(Close", "--features, character 17"),
        (
            "log_return(Clse)",
            "--features, character 12: no numeric column `Clse`",
        ),
        (
            "rolling_std(Close,5000)",
            "--features, character 19: window 5000 is longer",
        ),
        (
            "logg(Close)",
            "--features, character 1: unknown function `logg`",
        ),
    ] {
        let out = train(&dir, &["--features", features]);
        assert_usage_error(&out, &[needle]);
    }
    for (flag, value) in [("--ridge-lambda", "-1"), ("--cost-bps", "x")] {
        let out = train(&dir, &[flag, value]);
        assert_usage_error(&out, &[flag]);
    }
    assert!(!dir.join("metrics.json").exists());
}

#[test]
fn seed_protocol_runs_with_the_global_scaler() {
    let dir = scratch("seed");
    let mut args = vec![
        "train",
        "--out",
        dir.to_str().unwrap(),
        "--protocol",
        "seed",
    ];
    args.extend_from_slice(&TINY);
    let out = gpulstm(&args);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Not quiet: the implied scaler is announced.
    assert!(stderr.contains("global scaler"), "{stderr}");
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["run"]["protocol"], "seed");
    assert_eq!(metrics["run"]["scaler"], "global");
    assert_eq!(
        metrics["forecast"]["members"].as_array().map(Vec::len),
        Some(1)
    );
    assert!(metrics["forecast"]["note"].is_string());
    assert!(metrics["table1"]["definition"]
        .as_str()
        .unwrap()
        .contains("final model"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn malformed_inputs_exit_2_with_a_message_naming_the_place() {
    let dir = scratch("bad");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("out");
    let out = out.to_str().unwrap();

    // 1. A non-numeric price: line 3, column 2.
    let bad_cell = dir.join("bad_cell.csv");
    std::fs::write(&bad_cell, "Date,Close\n2024-01-02,10\n2024-01-03,ten\n").unwrap();
    let r = gpulstm(&["train", "--data", bad_cell.to_str().unwrap(), "--out", out]);
    assert_usage_error(&r, &[&format!("{}:3:2", bad_cell.display()), "ten"]);

    // 2. An impossible date: line 2, column 1.
    let bad_date = dir.join("bad_date.csv");
    std::fs::write(&bad_date, "Date,Close\n2024-13-45,10\n2024-01-03,11\n").unwrap();
    let r = gpulstm(&["train", "--data", bad_date.to_str().unwrap(), "--out", out]);
    assert_usage_error(&r, &[&format!("{}:2:1", bad_date.display()), "2024-13-45"]);

    // 3. A layer spec error names --layers and the item.
    let r = gpulstm(&["train", "--layers", "lstm:0,dense:1", "--out", out]);
    assert_usage_error(&r, &["--layers", "lstm:0"]);

    // 4. Zero and negative epochs name the flag.
    let r = gpulstm(&["train", "--epochs", "0", "--out", out]);
    assert_usage_error(&r, &["--epochs", "at least 1"]);
    let r = gpulstm(&["train", "--epochs", "-3", "--out", out]);
    assert_usage_error(&r, &["--epochs", "at least 1"]);

    // 5. A missing file is named.
    let missing = dir.join("no_such_file.csv");
    let r = gpulstm(&["train", "--data", missing.to_str().unwrap(), "--out", out]);
    assert_usage_error(&r, &["no_such_file.csv", "cannot read"]);

    // More flags: learning rate, batch-size cap, windows that do not fit the data.
    let r = gpulstm(&["train", "--lr", "nan", "--out", out]);
    assert_usage_error(&r, &["--lr", "finite"]);
    let r = gpulstm(&["train", "--batch-size", "5000", "--out", out]);
    assert_usage_error(&r, &["--batch-size", "4096"]);
    let r = gpulstm(&["train", "--lookback", "5000", "--out", out]);
    assert_usage_error(&r, &["too few rows", "--lookback 5000"]);
    // --limits names the two sets it takes.
    let r = gpulstm(&["train", "--limits", "huge", "--out", out]);
    assert_usage_error(&r, &["--limits", "adapter", "webgpu"]);
    let r = gpulstm(&["check", "--limits", "webgpu2"]);
    assert_usage_error(&r, &["--limits", "webgpu"]);

    // Nothing was written for any of them.
    assert!(!Path::new(out).join("metrics.json").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `gpulstm bench`'s flags are checked before any adapter is opened, and an existing --json file is kept
/// (by `check --json` too).
#[test]
fn bench_and_check_name_their_bad_flags_and_keep_an_existing_json() {
    let dir = scratch("bench_flags");
    std::fs::create_dir_all(&dir).unwrap();
    let r = gpulstm(&["bench", "--models", "0"]);
    assert_usage_error(&r, &["--models", "at least 1"]);
    let r = gpulstm(&["bench", "--models", "1,ten"]);
    assert_usage_error(&r, &["--models", "ten"]);
    let r = gpulstm(&["bench", "--rounds", "0"]);
    assert_usage_error(&r, &["--rounds", "at least 1"]);
    let kept = dir.join("kernels.json");
    std::fs::write(&kept, "mine").unwrap();
    let r = gpulstm(&["bench", "--json", kept.to_str().unwrap()]);
    assert_usage_error(&r, &["--json", "exists", "--force"]);
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "mine");
    // check --json keeps it too, and refuses before checking anything.
    let r = gpulstm(&["check", "--json", kept.to_str().unwrap()]);
    assert_usage_error(&r, &["--json", "exists", "--force"]);
    assert!(!text(&r.stdout).contains("passed"));
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "mine");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn devices_lists_or_explains_and_exits_0() {
    let out = gpulstm(&["devices"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("#  name") || stdout.starts_with("no adapters found"),
        "{stdout}"
    );
}

/// `--backend auto` (the default): a hardware adapter → the GPU; only software rasterisers (lavapipe in
/// CI) → the CPU reference, with a note naming them; no adapter at all → the CPU reference, with a note
/// saying so. GL adapters are used only when `--adapter` names them, so they do not count.
#[test]
fn auto_backend_uses_hardware_gpus_only() {
    let adapters = usable_adapters();
    if std::env::var("GPULSTM_REQUIRE_GPU").as_deref() == Ok("1") {
        assert!(
            !adapters.is_empty(),
            "GPULSTM_REQUIRE_GPU=1 but wgpu sees no adapter"
        );
    }
    let dir = scratch("auto");
    let mut args = vec!["train", "--quiet", "--out", dir.to_str().unwrap()];
    args.extend_from_slice(&["--backend", "auto"]);
    args.extend_from_slice(&TINY[2..]);
    let out = gpulstm(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
    let backend = metrics["run"]["backend"].as_str().unwrap_or_default();
    let cpu = metrics["run"]["engines"] == serde_json::json!(["cpu"]);
    let notes = metrics["run"]["notes"].to_string();
    if adapters.is_empty() {
        assert!(cpu, "{backend}");
        assert!(notes.contains("no GPU adapter"), "{notes}");
    } else if adapters.iter().all(|a| a.software) {
        assert!(cpu, "{backend}");
        assert!(notes.contains("software rasteriser"), "{notes}");
        assert!(notes.contains(&adapters[0].name), "{notes}");
        eprintln!("auto backend with only {}: {backend}", adapters[0].name);
    } else {
        assert!(!cpu, "{backend}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `train --backend gpu --limits webgpu` opens the device with the WebGPU defaults and says so in the
/// run's backend.
#[test]
fn webgpu_limits_train_and_check() {
    if gpulstm::gpu::list_adapters().iter().all(|a| a.opt_in) {
        assert_ne!(
            std::env::var("GPULSTM_REQUIRE_GPU").as_deref(),
            Ok("1"),
            "GPULSTM_REQUIRE_GPU=1 but wgpu sees no adapter"
        );
        eprintln!("webgpu_limits_train_and_check: SKIPPED, no GPU adapter");
        return;
    }
    let dir = scratch("webgpu");
    let mut args = vec!["train", "--quiet", "--out", dir.to_str().unwrap()];
    args.extend_from_slice(&TINY[2..]);
    args.extend_from_slice(&["--backend", "gpu", "--limits", "webgpu"]);
    let out = gpulstm(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
    let backend = metrics["run"]["backend"].as_str().unwrap_or_default();
    assert!(backend.contains("webgpu limits"), "{backend}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--adapter all` trains on every adapter at once; on a machine whose only adapter is a software one it
/// uses that and says so.
#[test]
fn adapter_all_trains_on_every_adapter() {
    let adapters = usable_adapters();
    if adapters.is_empty() {
        assert!(
            std::env::var("GPULSTM_REQUIRE_GPU").as_deref() != Ok("1"),
            "GPULSTM_REQUIRE_GPU=1 but no adapter"
        );
        eprintln!("adapter_all_trains_on_every_adapter: SKIPPED, no adapter");
        return;
    }
    let dir = scratch("adapter-all");
    let mut args = vec!["train", "--quiet", "--out", dir.to_str().unwrap()];
    args.extend_from_slice(&["--backend", "gpu", "--adapter", "all"]);
    args.extend_from_slice(&TINY[2..]);
    let out = gpulstm(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
    let backend = metrics["run"]["backend"].as_str().unwrap_or_default();
    assert_eq!(metrics["run"]["engines"], serde_json::json!(["gpu"]));
    let hardware = adapters.iter().filter(|a| !a.software).count();
    let used = if hardware > 0 {
        hardware
    } else {
        adapters.len()
    };
    assert!(
        backend.starts_with(&format!("{used} adapters")),
        "{backend}"
    );
    if hardware == 0 {
        assert!(metrics["run"]["notes"]
            .to_string()
            .contains("no hardware adapter"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
