//! `train --shard I/N` and `gpulstm merge` through the binary: three shards merged give the files an
//! unsharded run gives (bit for bit on the f64 reference), and merge refuses shards that overlap, are
//! missing or belong to another run, naming them.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_gpulstm");

/// Two small series (the embedded sample's CSV under two names) and a small model, so a run of a few
/// dozen models on the reference takes seconds.
fn data(dir: &Path) -> Vec<String> {
    std::fs::create_dir_all(dir).unwrap();
    ["alpha", "beta"]
        .iter()
        .map(|name| {
            let path = dir.join(format!("{name}.csv"));
            std::fs::write(&path, gpulstm::data::SAMPLE_CSV).unwrap();
            path.display().to_string()
        })
        .collect()
}

fn train(files: &[String], out: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<String> = vec!["train".into(), "--data".into()];
    args.extend(files.iter().cloned());
    let small =
        "--layers lstm:4,dense:1 --lookback 10 --train-window 40 --val-window 5 --step 400 \
                 --epochs 2 --seeds 2 --backend reference --quiet --out";
    args.extend(small.split_whitespace().map(String::from));
    args.push(out.display().to_string());
    args.extend(extra.iter().map(|s| s.to_string()));
    Command::new(BIN).args(&args).output().expect("run gpulstm")
}

fn merge(out: &Path, shards: &[&PathBuf]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("merge").arg(out).args(shards);
    cmd.output().expect("run gpulstm merge")
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout {}\nstderr {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn refused(o: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(needle), "expected \"{needle}\" in: {err}");
}

/// metrics.json without what differs by construction: the backend's description and the wall time.
fn metrics(dir: &Path) -> serde_json::Value {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
    for s in v["series"].as_array_mut().unwrap() {
        let run = s["run"].as_object_mut().unwrap();
        for key in ["backend", "wall_seconds"] {
            run.remove(key);
        }
    }
    v
}

#[test]
fn three_shards_merged_equal_the_unsharded_run_and_bad_sets_are_refused() {
    let root = common::scratch("shards", "merge");
    let files = data(&root.join("data"));
    let whole = root.join("whole");
    ok(&train(&files, &whole, &[]));
    let shards: Vec<PathBuf> = (0..3).map(|i| root.join(format!("shard{i}"))).collect();
    for (i, dir) in shards.iter().enumerate() {
        ok(&train(&files, dir, &["--shard", &format!("{i}/3")]));
        assert!(
            !dir.join("metrics.json").exists(),
            "a shard writes no results"
        );
    }
    let merged = root.join("merged");
    ok(&merge(&merged, &[&shards[2], &shards[0], &shards[1]]));
    for file in ["splits.csv", "predictions.csv", "history.csv"] {
        assert_eq!(
            std::fs::read(whole.join(file)).unwrap(),
            std::fs::read(merged.join(file)).unwrap(),
            "{file}"
        );
    }
    assert_eq!(metrics(&whole), metrics(&merged));
    for dir in [&whole, &merged] {
        assert!(dir.join("series/alpha/model.safetensors").exists());
        assert!(dir.join("skill_by_series.png").exists());
    }

    // The same shard twice, a shard missing, a shard of another configuration, not a shard at all.
    refused(
        &merge(&root.join("m1"), &[&shards[0], &shards[1], &shards[1]]),
        "are both shard 1/3",
    );
    refused(
        &merge(&root.join("m2"), &[&shards[0], &shards[2]]),
        "1/3 of the run missing",
    );
    let other = root.join("other");
    ok(&train(&files, &other, &["--shard", "1/3", "--lr", "0.002"]));
    refused(
        &merge(&root.join("m3"), &[&shards[0], &other, &shards[2]]),
        "differ in their configuration",
    );
    refused(&merge(&root.join("m4"), &[&whole]), "not a shard");
    // A finished shard's journal is its result: neither merge nor a new run writes over it.
    refused(
        &merge(&shards[0], &[&shards[0], &shards[1], &shards[2]]),
        "OUT is shard 0/3's own directory",
    );
    refused(&train(&files, &shards[1], &[]), "holds shard 1/3 of a run");
    // A shard whose journal lost a model.
    let journal = shards[1].join("progress.jsonl");
    let text = std::fs::read_to_string(&journal).unwrap();
    let kept: Vec<&str> = text.lines().skip(1).collect();
    std::fs::write(&journal, kept.join("\n") + "\n").unwrap();
    refused(
        &merge(&root.join("m5"), &[&shards[0], &shards[1], &shards[2]]),
        "is in no shard",
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn shard_flags_are_checked() {
    let root = common::scratch("shards", "flags");
    let files = data(&root.join("data"));
    for bad in ["3/3", "1", "a/b", "0/0"] {
        refused(&train(&files, &root.join("x"), &["--shard", bad]), "I/N");
    }
    refused(
        &train(
            &files[..1],
            &root.join("y"),
            &["--shard", "0/2", "--protocol", "seed"],
        ),
        "--shard splits the walk-forward models",
    );
    let _ = std::fs::remove_dir_all(&root);
}
