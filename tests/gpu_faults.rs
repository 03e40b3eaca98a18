//! GPU faults, raised through the test-only fault-injection hook (`GPULSTM_FAULT`, src/gpu/fault.rs) in
//! the binary: each gives a message naming the adapter and what to do, and a device lost mid-run leaves a
//! run that `--resume --backend cpu` finishes.

mod common;

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_gpulstm");

fn train(fault: &str, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "train",
        "--quiet",
        "--backend",
        "gpu",
        "--max-splits",
        "4",
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
        .env("GPULSTM_FAULT", fault)
        .output()
        .expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn each_gpu_fault_names_the_adapter_and_what_to_do() {
    let Some(gpu) = common::gpu_or_skip("each_gpu_fault_names_the_adapter_and_what_to_do") else {
        return;
    };
    let adapter = gpu.summary.name.clone();
    for (fault, expect) in [
        (
            "adapter",
            vec!["could not open the GPU device on", "injected fault"],
        ),
        ("pipeline", vec!["failed on", "--backend cpu"]),
        (
            "alloc",
            vec![
                "does not fit this adapter",
                "--max-models-per-chunk",
                "--backend cpu",
            ],
        ),
    ] {
        let out = train(fault, &common::scratch("faults", fault), &[]);
        let err = stderr(&out);
        eprintln!(
            "GPULSTM_FAULT={fault}: exit {:?}: {}",
            out.status.code(),
            err.trim()
        );
        assert_eq!(out.status.code(), Some(1), "{fault}: {err}");
        assert!(
            err.contains(&adapter),
            "{fault}: the message names the adapter: {err}"
        );
        for part in expect {
            assert!(err.contains(part), "{fault}: {err} lacks {part:?}");
        }
    }
}

#[test]
fn a_device_lost_mid_run_leaves_a_run_that_resumes_on_the_cpu() {
    let Some(_) = common::gpu_or_skip("a_device_lost_mid_run_leaves_a_run_that_resumes_on_the_cpu")
    else {
        return;
    };
    let dir = common::scratch("faults", "lost");
    let out = train("lost-at-chunk:2", &dir, &["--max-models-per-chunk", "2"]);
    let err = stderr(&out);
    eprintln!(
        "GPULSTM_FAULT=lost-at-chunk:2: exit {:?}: {}",
        out.status.code(),
        err.trim()
    );
    assert_eq!(out.status.code(), Some(1));
    for part in [
        "was lost mid-run",
        "2 splits finished and saved",
        "--resume",
    ] {
        assert!(err.contains(part), "{err} lacks {part:?}");
    }
    assert!(!dir.join("metrics.json").exists());
    let resumed = Command::new(BIN)
        .args([
            "train",
            "--quiet",
            "--resume",
            dir.to_str().unwrap(),
            "--backend",
            "cpu",
        ])
        .output()
        .unwrap();
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert!(dir.join("metrics.json").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
