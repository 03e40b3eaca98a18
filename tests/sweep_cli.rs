//! `gpulstm sweep` end to end on the embedded sample with tiny models: each configuration's run is the
//! `train` run with the same flags (bit for bit on the CPU engine and the reference; within the GPU's
//! bounds of `tests/common/runs.rs` on the GPU), the sweep's files, bad grids and sizes refused with
//! the flag and token named, and a sweep stopped by SIGINT resumes to the uninterrupted files.

mod common;

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_gpulstm");

/// 16 splits of 30 training and 5 validation samples, one epoch of a small LSTM with dropout.
const TINY: [&str; 16] = [
    "--max-splits",
    "16",
    "--epochs",
    "2",
    "--layers",
    "lstm:4,dropout:0.1,dense:1",
    "--train-window",
    "30",
    "--val-window",
    "5",
    "--lookback",
    "10",
    "--select-window",
    "3",
    "--bootstrap",
    "200",
];

fn gpulstm(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("the gpulstm binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "stderr: {}\nstdout: {}",
        text(&out.stderr),
        text(&out.stdout)
    );
}

fn sweep(out: &Path, backend: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "sweep",
        "--quiet",
        "--backend",
        backend,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(&TINY);
    args.extend_from_slice(extra);
    gpulstm(&args)
}

/// `train` with the sweep's base flags but `--layers` (which `extra` gives) and `extra`.
fn train(out: &Path, backend: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "train",
        "--quiet",
        "--backend",
        backend,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(&TINY[..4]);
    args.extend_from_slice(&TINY[6..12]);
    args.extend_from_slice(extra);
    gpulstm(&args)
}

/// The numbers of a CSV's rows, column by column (non-numbers compared as text).
fn assert_csv_close(a: &Path, b: &Path, tol: f64) {
    let (ta, tb) = (
        std::fs::read_to_string(a).unwrap(),
        std::fs::read_to_string(b).unwrap(),
    );
    if tol == 0.0 {
        assert!(ta == tb, "{} and {} differ", a.display(), b.display());
        return;
    }
    let (la, lb): (Vec<&str>, Vec<&str>) = (ta.lines().collect(), tb.lines().collect());
    assert_eq!(la.len(), lb.len(), "{} rows", a.display());
    let mut worst = 0.0f64;
    for (x, y) in la.iter().zip(&lb) {
        for (u, v) in x.split(',').zip(y.split(',')) {
            match (u.parse::<f64>(), v.parse::<f64>()) {
                (Ok(p), Ok(q)) => worst = worst.max((p - q).abs()),
                _ => assert_eq!(u, v, "{}", a.display()),
            }
        }
    }
    assert!(
        worst <= tol,
        "{}: largest difference {worst} > {tol}",
        a.display()
    );
}

/// Each configuration's predictions and splits against `train` with its flags.
fn assert_configs_match_train(backend: &str, tol: f64) {
    let dir = common::scratch("sweep", &format!("match-{backend}"));
    let out = sweep(
        &dir.join("sweep"),
        backend,
        &["--grid", "lr=0.001,0.01", "--grid", "dropout=0,0.3"],
    );
    ok(&out);
    let labels = [
        (
            "c000",
            ["--lr", "0.001", "--layers", "lstm:4,dropout:0,dense:1"],
        ),
        (
            "c001",
            ["--lr", "0.001", "--layers", "lstm:4,dropout:0.3,dense:1"],
        ),
        (
            "c002",
            ["--lr", "0.01", "--layers", "lstm:4,dropout:0,dense:1"],
        ),
        (
            "c003",
            ["--lr", "0.01", "--layers", "lstm:4,dropout:0.3,dense:1"],
        ),
    ];
    for (name, flags) in labels {
        let single = dir.join(format!("train-{name}"));
        ok(&train(&single, backend, &flags));
        let config = dir.join("sweep").join("configs").join(name);
        for file in ["predictions.csv", "history.csv"] {
            assert_csv_close(&config.join(file), &single.join(file), tol);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn configurations_equal_their_train_runs_on_the_cpu_engine_and_the_reference() {
    assert_configs_match_train("cpu", 0.0);
    assert_configs_match_train("reference", 0.0);
}

#[test]
fn configurations_equal_their_train_runs_on_the_gpu() {
    if common::gpu_or_skip("sweep on the GPU").is_none() {
        return;
    }
    // The same engine and chunking run both, so they agree exactly; the bound is runs.rs' ($).
    assert_configs_match_train("gpu", 1e-3);
}

#[test]
fn a_sweep_writes_its_files() {
    let dir = common::scratch("sweep", "files");
    let out = sweep(
        &dir,
        "cpu",
        &[
            "--grid",
            "lr=0.001,0.01",
            "--grid",
            "epochs=1,2",
            "--heatmap",
            "lr,epochs",
        ],
    );
    ok(&out);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("sweep of 4 configurations"), "{stdout}");
    assert!(stdout.contains("SPA p = "), "{stdout}");
    let csv = std::fs::read_to_string(dir.join("sweep.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 5, "{csv}");
    assert!(
        rows[0].starts_with("config,lr,epochs,model_rmse,naive_rmse,skill,"),
        "{}",
        rows[0]
    );
    // The base flags (lr 0.001, 2 epochs) are grid point 1: the default, no extra configuration.
    assert!(rows[2].starts_with("1,0.001,2,"), "{}", rows[2]);
    assert!(rows[2].contains(",true,"), "{}", rows[2]);
    let selection = std::fs::read_to_string(dir.join("selection.csv")).unwrap();
    let sel: Vec<&str> = selection.lines().collect();
    assert_eq!(sel.len(), 17, "{selection}");
    // Windows of 5 days one day apart: splits 0 to 4 have no split that ended before they began.
    for row in &sel[1..6] {
        assert!(row.ends_with(",,0"), "{row}");
    }
    assert!(sel[6].ends_with(",1"), "{}", sel[6]);
    assert!(sel[16].ends_with(",3"), "{}", sel[16]);
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
    let s = &metrics["sweep"];
    assert_eq!(s["configurations"], 4);
    assert_eq!(s["default"], 1);
    assert_eq!(s["splits_without_history"], 5);
    let p = s["spa"]["p_consistent"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&p), "{p}");
    assert_eq!(s["leaderboard"].as_array().unwrap().len(), 4);
    // The leaderboard's numbers are each configuration's own run's pooled numbers.
    for c in 0..4 {
        let own: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("configs/c{c:03}/metrics.json"))).unwrap(),
        )
        .unwrap();
        let want = own["pooled"]["model_rmse"].as_f64().unwrap();
        let got = s["leaderboard"][c]["model_rmse"].as_f64().unwrap();
        assert!(
            (want - got).abs() <= 1e-12 * want,
            "config {c}: {got} vs {want}"
        );
    }
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    for needle in [
        "## Leaderboard",
        "hindsight",
        "Reality Check",
        "sweep_heatmap.png",
    ] {
        assert!(report.contains(needle), "{needle} missing from report.md");
    }
    assert!(dir.join("sweep_heatmap.png").exists());
    // A second sweep into the same directory is refused without --force.
    let again = sweep(&dir, "cpu", &["--grid", "lr=0.001,0.01"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again.stderr).contains("--force"),
        "{}",
        text(&again.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_grids_and_big_sweeps_are_refused_naming_the_flag() {
    let dir = common::scratch("sweep", "bad");
    for (grid, says) in [
        ("lr=abc", "--grid lr=abc: expected a number"),
        ("speed=1,2", "--grid speed=1,2: unknown key \"speed\""),
        (
            "dropout2=0.1",
            "--grid dropout2=0.1: the layers have 1 dropout layer(s)",
        ),
        ("epochs=0,1", "--grid epochs=0: must be at least 1"),
        ("lr=uniform(0.1,0.2)", "add --random N"),
    ] {
        let out = sweep(&dir, "cpu", &["--grid", grid]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{grid}: {stderr}");
        assert!(stderr.contains(says), "{grid}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let big = sweep(
        &dir,
        "cpu",
        &["--grid", "lr=0.001,0.01", "--max-models", "20"],
    );
    let stderr = text(&big.stderr);
    assert_eq!(big.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("32 models over 2 configurations, more than --max-models 20"),
        "{stderr}"
    );
    assert!(stderr.contains("--force"), "{stderr}");
    assert!(!dir.exists(), "a refused sweep wrote {}", dir.display());
}

/// A sweep stopped by SIGINT while training and continued with `--resume` writes the uninterrupted
/// sweep's files.
#[cfg(unix)]
#[test]
fn a_sweep_stopped_by_sigint_resumes_to_the_uninterrupted_files() {
    let whole = common::scratch("sweep", "whole");
    let cut = common::scratch("sweep", "cut");
    // Longer than TINY: 70 splits in chunks of 8, so the signal lands while the first configuration trains.
    let args = |out: &Path| -> Vec<String> {
        let mut a: Vec<String> = ["sweep", "--quiet", "--backend", "cpu", "--out"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        a.push(out.to_str().unwrap().to_string());
        a.extend(TINY[2..].iter().map(|s| s.to_string()));
        for s in [
            "--max-splits",
            "70",
            "--max-models-per-chunk",
            "8",
            "--grid",
            "lr=0.001,0.003,0.01",
        ] {
            a.push(s.to_string());
        }
        a
    };
    ok(&Command::new(BIN).args(args(&whole)).output().unwrap());
    let child = Command::new(BIN)
        .args(args(&cut))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let journal = cut.join("configs/c000").join(gpulstm::run_dir::JOURNAL);
    let started = std::time::Instant::now();
    while std::fs::read_to_string(&journal).map_or(0, |t| t.lines().count()) < 1 {
        assert!(
            started.elapsed().as_secs() < 120,
            "no model journalled in 2 minutes"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let stopped = child.wait_with_output().unwrap();
    let stderr = text(&stopped.stderr);
    assert_eq!(
        stopped.status.code(),
        Some(130),
        "the sweep finished before the signal: {stderr}"
    );
    assert!(stderr.contains("gpulstm sweep --resume"), "{stderr}");
    let resumed = gpulstm(&["sweep", "--quiet", "--resume", cut.to_str().unwrap()]);
    ok(&resumed);
    for file in [
        "sweep.csv",
        "selection.csv",
        "configs/c002/predictions.csv",
        "configs/c000/splits.csv",
    ] {
        let a = std::fs::read_to_string(whole.join(file)).unwrap();
        let b = std::fs::read_to_string(cut.join(file)).unwrap();
        assert!(a == b, "{file} differs after the resume");
    }
    let again = gpulstm(&["sweep", "--quiet", "--resume", cut.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again.stderr).contains("complete"),
        "{}",
        text(&again.stderr)
    );
    let _ = std::fs::remove_dir_all(&whole);
    let _ = std::fs::remove_dir_all(&cut);
}

/// `sweep --shard I/N` in N directories, joined by `sweep --merge`, writes the unsharded sweep's files.
#[test]
fn sweep_shards_merge_to_the_unsharded_sweep() {
    let dir = common::scratch("sweep", "shards");
    let grid = ["--grid", "lr=0.001,0.01"];
    ok(&sweep(&dir.join("whole"), "cpu", &grid));
    let mut shard_dirs = Vec::new();
    for i in 0..3 {
        let d = dir.join(format!("shard{i}"));
        let shard = format!("{i}/3");
        let mut extra = grid.to_vec();
        extra.extend(["--shard", &shard]);
        let out = sweep(&d, "cpu", &extra);
        ok(&out);
        assert!(
            text(&out.stdout).contains("gpulstm sweep --merge"),
            "{}",
            text(&out.stdout)
        );
        shard_dirs.push(d);
    }
    // A missing share is refused, naming it.
    let two: Vec<&str> = shard_dirs[..2]
        .iter()
        .map(|d| d.to_str().unwrap())
        .collect();
    let bad = dir.join("bad");
    let mut args = vec![
        "sweep",
        "--quiet",
        "--out",
        bad.to_str().unwrap(),
        "--merge",
    ];
    args.extend(&two);
    let refused = gpulstm(&args);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(
        text(&refused.stderr).contains("2/3"),
        "{}",
        text(&refused.stderr)
    );
    let merged = dir.join("merged");
    let all: Vec<&str> = shard_dirs
        .iter()
        .rev()
        .map(|d| d.to_str().unwrap())
        .collect();
    let mut args = vec![
        "sweep",
        "--quiet",
        "--out",
        merged.to_str().unwrap(),
        "--merge",
    ];
    args.extend(&all);
    ok(&gpulstm(&args));
    for file in [
        "sweep.csv",
        "selection.csv",
        "configs/c001/predictions.csv",
        "configs/c000/splits.csv",
    ] {
        let a = std::fs::read_to_string(dir.join("whole").join(file)).unwrap();
        let b = std::fs::read_to_string(merged.join(file)).unwrap();
        assert!(a == b, "{file} differs after the merge");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
