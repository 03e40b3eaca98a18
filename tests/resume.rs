//! Runs that survive: a walk-forward run stopped at a chunk boundary and continued from its journal
//! ends with exactly the uninterrupted run's results (f64 reference: bit for bit); the run directory's
//! lock refuses a second live run and is taken over from a dead one; states and atomic outputs as the
//! binary leaves them.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::runs::spec;
use gpulstm::data::{load_sample, LoadOptions};
use gpulstm::fit::EarlyStopRule;
use gpulstm::run_dir::{RunDir, RunRecord, State, JOURNAL, LOCK, RUN_JSON};
use gpulstm::train::cpu::CpuTrainer;
use gpulstm::train::protocol::{
    run, run_panel, run_with_journal, Interrupted, Journal, Protocol, RunSpec, SavedSequence,
};
use gpulstm::train::reference::ReferenceTrainer;
use gpulstm::train::{FitOutcome, SequenceState, SequenceStep, StateFn, Trainer};

const BIN: &str = env!("CARGO_BIN_EXE_gpulstm");

/// A journal in memory that asks for a stop once it holds `stop_after` splits.
struct Memory {
    saved: Vec<(usize, FitOutcome)>,
    stop_after: usize,
    seq_steps: Vec<Vec<SequenceStep>>,
    seq_state: Option<(usize, Vec<SequenceState>)>,
}

impl Memory {
    fn new(stop_after: usize) -> Memory {
        Memory {
            saved: Vec::new(),
            stop_after,
            seq_steps: Vec::new(),
            seq_state: None,
        }
    }
}

impl Journal for Memory {
    fn finished(&self) -> anyhow::Result<Vec<(usize, FitOutcome)>> {
        Ok(self.saved.clone())
    }
    fn record(&mut self, done: &[(usize, &FitOutcome, bool)]) -> anyhow::Result<()> {
        for &(i, f, keep) in done {
            let mut f = f.clone();
            if !keep {
                f.params.clear(); // as the run directory stores them
            }
            self.saved.push((i, f));
        }
        Ok(())
    }
    fn stop_requested(&self) -> bool {
        self.saved.len() + self.seq_steps.len() >= self.stop_after
    }
    fn sequence(&self) -> anyhow::Result<Option<SavedSequence>> {
        Ok(self
            .seq_state
            .clone()
            .map(|(after, s)| (self.seq_steps[..=after].to_vec(), s)))
    }
    fn record_sequence(
        &mut self,
        split: usize,
        steps: &[SequenceStep],
        state: Option<StateFn>,
        stopping: bool,
    ) -> anyhow::Result<()> {
        self.seq_steps.truncate(split);
        self.seq_steps.push(steps.to_vec());
        // Saved only when stopping, as a kill long after the last periodic save would leave it.
        if let (true, Some(f)) = (stopping, state) {
            self.seq_state = Some((split, f()?));
        }
        Ok(())
    }
}

#[test]
fn a_stopped_walk_forward_run_resumes_to_the_uninterrupted_result_bit_for_bit() {
    let series = load_sample(&LoadOptions::default()).expect("sample");
    let s = spec(Protocol::WalkForward, 12); // the reference trains 4 × threads models per chunk
    let quiet = |_: gpulstm::train::Progress| {};
    let whole = run(&series, &s, &mut ReferenceTrainer, &quiet).expect("uninterrupted run");
    let mut journal = Memory::new(1);
    let err = run_with_journal(&series, &s, &mut ReferenceTrainer, &quiet, &mut journal)
        .expect_err("the journal asks for a stop");
    let stop = err
        .downcast_ref::<Interrupted>()
        .expect("an Interrupted error");
    assert!(stop.done >= 1 && stop.done < 12, "{stop}");
    journal.stop_after = usize::MAX;
    let resumed = run_with_journal(&series, &s, &mut ReferenceTrainer, &quiet, &mut journal)
        .expect("resumed run");
    assert_eq!(journal.saved.len(), 12);
    for (a, b) in whole.splits.iter().zip(&resumed.splits) {
        assert_eq!(a.history, b.history, "split {}", a.split.index);
        assert_eq!(
            (a.best_epoch, &a.train_pred, &a.val_pred),
            (b.best_epoch, &b.train_pred, &b.val_pred)
        );
    }
    assert_eq!(whole.forecast.members, resumed.forecast.members);
}

fn record() -> RunRecord {
    RunRecord {
        gpulstm_version: env!("CARGO_PKG_VERSION").into(),
        argv: vec![],
        cwd: PathBuf::from("."),
        data: "test".into(),
        data_checksum: "0".into(),
        config_checksum: "0".into(),
        splits: 1,
        models: 1,
        shard: None,
        backend: None,
        engine: None,
        state: State::Running,
        reason: None,
        startup: Vec::new(),
        started: String::new(),
        updated: String::new(),
    }
}

#[test]
fn a_live_lock_refuses_a_second_run_and_a_dead_one_is_taken_over() {
    let dir = common::scratch("resume", "lock");
    let held = RunDir::start(&dir, record()).expect("first run takes the directory");
    let second = RunDir::start(&dir, record()).expect_err("second run refused");
    assert!(
        second.to_string().contains("in use by another gpulstm run"),
        "{second}"
    );
    drop(held);
    assert!(!dir.join(LOCK).exists(), "the lock goes with its run");
    if Path::new("/proc/self").exists() {
        // A lock whose owner is gone (pid beyond any live process on this host).
        let host = std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "unknown".into());
        std::fs::write(
            dir.join(LOCK),
            format!(r#"{{"pid":4000000000,"host":"{host}","started":"x"}}"#),
        )
        .unwrap();
        RunDir::start(&dir, record()).expect("a dead run's lock is taken over");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn tiny(out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "train",
        "--quiet",
        "--backend",
        "cpu",
        "--max-splits",
        "3",
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
        .expect("the binary runs")
}

#[test]
fn a_finished_run_is_complete_without_journal_lock_or_partial_files() {
    let dir = common::scratch("resume", "complete");
    let out = tiny(&dir, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rec: RunRecord =
        serde_json::from_str(&std::fs::read_to_string(dir.join(RUN_JSON)).unwrap()).unwrap();
    assert_eq!(rec.state, State::Complete);
    assert!(dir.join("metrics.json").exists());
    for gone in [JOURNAL, LOCK] {
        assert!(!dir.join(gone).exists(), "{gone} left behind");
    }
    let partial = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| e.file_name().to_string_lossy().starts_with(".partial-"));
    assert!(!partial, "a .partial- file left behind");
    // A complete run's directory is not resumable.
    let again = Command::new(BIN)
        .args(["train", "--resume", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("complete; nothing to resume"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unfinished_run_is_not_overwritten_and_resume_takes_no_new_configuration() {
    let dir = common::scratch("resume", "unfinished");
    let out = tiny(&dir, &[]);
    assert!(out.status.success());
    // Mark it interrupted, as a stopped run leaves it.
    let path = dir.join(RUN_JSON);
    let mut rec: RunRecord =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    rec.state = State::Interrupted;
    std::fs::write(&path, serde_json::to_string(&rec).unwrap()).unwrap();
    let fresh = tiny(&dir, &["--force"]);
    assert!(fresh.status.success(), "--force starts over");
    std::fs::write(&path, serde_json::to_string(&rec).unwrap()).unwrap();
    let refused = tiny(&dir, &[]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("holds an unfinished run"));
    let extra = Command::new(BIN)
        .args(["train", "--resume", dir.to_str().unwrap(), "--epochs", "3"])
        .output()
        .unwrap();
    assert_eq!(extra.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&extra.stderr).contains("--epochs: --resume continues the run"));
    // A run another version began is refused, naming both versions; the record is left as it was.
    let mut other = rec.clone();
    other.gpulstm_version = "0.0.0-other".into();
    std::fs::write(&path, serde_json::to_string(&other).unwrap()).unwrap();
    let refused = Command::new(BIN)
        .args(["train", "--resume", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let text = String::from_utf8_lossy(&refused.stderr);
    let want = format!(
        "recorded by gpulstm 0.0.0-other, this is {}; results would not be comparable",
        env!("CARGO_PKG_VERSION")
    );
    assert!(text.contains(&want), "{text}");
    std::fs::write(&path, serde_json::to_string(&rec).unwrap()).unwrap();
    let resumed = Command::new(BIN)
        .args(["train", "--quiet", "--resume", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--max-models-per-chunk` changes how many models a backend trains at once, not what they learn.
#[test]
fn the_chunk_size_does_not_change_results() {
    let series = load_sample(&LoadOptions::default()).expect("sample");
    let quiet = |_: gpulstm::train::Progress| {};
    let whole = run(
        &series,
        &spec(Protocol::WalkForward, 5),
        &mut ReferenceTrainer,
        &quiet,
    )
    .expect("run");
    let mut s = spec(Protocol::WalkForward, 5);
    s.max_models_per_chunk = Some(2);
    let chunked = run(&series, &s, &mut ReferenceTrainer, &quiet).expect("chunked run");
    for (a, b) in whole.splits.iter().zip(&chunked.splits) {
        assert_eq!(
            (&a.history, &a.val_pred),
            (&b.history, &b.val_pred),
            "split {}",
            a.split.index
        );
    }
}

/// The seed protocol stopped (asked after its second split, so after its third) and resumed from the
/// saved state (weights, Adam moments and step, epochs run, early stopping's best) ends where an
/// uninterrupted run ends, under every rule, and with two carried models (`--seeds 2`) each of them:
/// bit for bit on the reference and on the CPU engine.
fn seed_resume_matches(trainer: &mut dyn Trainer) {
    for (rule, seeds) in [
        (EarlyStopRule::Keras36, 1),
        (EarlyStopRule::Keras37, 1),
        (EarlyStopRule::TfKeras2, 1),
        (EarlyStopRule::Keras36, 2),
    ] {
        let mut s = spec(Protocol::Seed, 4);
        s.hyper.stopping = rule;
        s.seeds = seeds;
        seed_resume_matches_under(trainer, &s);
    }
}

fn seed_resume_matches_under(trainer: &mut dyn Trainer, s: &RunSpec) {
    let series = load_sample(&LoadOptions::default()).expect("sample");
    let panel = [gpulstm::data::NamedSeries {
        name: String::new(),
        series,
    }];
    let quiet = |_: gpulstm::train::Progress| {};
    let mut no_journal = gpulstm::train::protocol::NoJournal;
    let whole = run_panel(&panel, s, trainer, &quiet, &mut no_journal).expect("uninterrupted run");
    let mut journal = Memory::new(2);
    let err = run_panel(&panel, s, trainer, &quiet, &mut journal).expect_err("stopped");
    let stop = err
        .downcast_ref::<Interrupted>()
        .expect("an Interrupted error");
    assert_eq!((stop.done, stop.total), (3, 4), "{stop}");
    journal.stop_after = usize::MAX;
    let resumed = run_panel(&panel, s, trainer, &quiet, &mut journal).expect("resumed run");
    let rule = s.hyper.stopping.name();
    let (whole, resumed) = (&whole.series[0], &resumed.series[0]);
    assert_eq!(whole.seeds.len(), s.seeds);
    assert_eq!(resumed.seeds.len(), s.seeds);
    for (w, r) in whole.seeds.iter().zip(&resumed.seeds) {
        for (a, b) in w.splits.iter().zip(&r.splits) {
            let at = format!("{rule}, seed {}: split {}", a.seed, a.split.index);
            assert_eq!(a.history, b.history, "{at}");
            assert_eq!(
                (&a.train_pred, &a.val_pred),
                (&b.train_pred, &b.val_pred),
                "{at}"
            );
        }
        assert_eq!(w.forecast.members, r.forecast.members, "{rule}");
    }
    assert_eq!(
        whole.ensemble.forecast.members, resumed.ensemble.forecast.members,
        "{rule}"
    );
}

#[test]
fn a_stopped_seed_run_resumes_bit_for_bit_on_the_reference() {
    seed_resume_matches(&mut ReferenceTrainer);
}

#[test]
fn a_stopped_seed_run_resumes_bit_for_bit_on_the_cpu_engine() {
    seed_resume_matches(&mut CpuTrainer::new());
}

#[test]
fn a_stopped_seed_run_resumes_on_the_gpu() {
    let Some(_) = common::gpu_or_skip("a_stopped_seed_run_resumes_on_the_gpu") else {
        return;
    };
    let adapter = std::env::var("GPULSTM_ADAPTER").ok();
    let mut gpu = gpulstm::train::gpu::GpuTrainer::new(adapter.as_deref()).expect("adapter");
    seed_resume_matches(&mut gpu);
}

fn seed_args(out: &Path) -> Vec<String> {
    let mut args: Vec<String> = [
        "train",
        "--quiet",
        "--backend",
        "cpu",
        "--protocol",
        "seed",
        "--seeds",
        "2",
        "--max-splits",
        "40",
        "--epochs",
        "3",
        "--layers",
        "lstm:8,dense:1",
        "--train-window",
        "40",
        "--val-window",
        "5",
        "--lookback",
        "10",
        "--out",
    ]
    .map(String::from)
    .to_vec();
    args.push(out.to_string_lossy().into_owned());
    args
}

/// The binary's seed protocol with two carried models, stopped by SIGINT part-way and continued with
/// `--resume`, writes exactly the uninterrupted run's splits.csv, predictions.csv and history.csv:
/// the run directory's journal keeps every split's in-loop predictions and the saved state both
/// models' weights and Adam moments.
#[cfg(unix)]
#[test]
fn a_seed_run_stopped_by_sigint_resumes_to_the_uninterrupted_files() {
    let whole = common::scratch("resume", "seed-whole");
    let cut = common::scratch("resume", "seed-cut");
    let out = Command::new(BIN).args(seed_args(&whole)).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let child = Command::new(BIN)
        .args(seed_args(&cut))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let journal = cut.join(JOURNAL);
    let started = std::time::Instant::now();
    while std::fs::read_to_string(&journal).map_or(0, |t| t.lines().count()) < 2 {
        assert!(
            started.elapsed().as_secs() < 120,
            "no split journalled in 2 minutes"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let stopped = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&stopped.stderr);
    assert!(
        !stopped.status.success(),
        "the run finished before the signal: make it longer"
    );
    assert!(stderr.contains("resume with"), "{stderr}");
    let rec: RunRecord =
        serde_json::from_str(&std::fs::read_to_string(cut.join(RUN_JSON)).unwrap()).unwrap();
    assert_eq!(rec.state, State::Interrupted);
    assert!(cut.join(gpulstm::run_dir::SEQUENCE_STATE).exists());
    let resumed = Command::new(BIN)
        .args(["train", "--quiet", "--resume", cut.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    for file in ["splits.csv", "predictions.csv", "history.csv"] {
        let a = std::fs::read_to_string(whole.join(file)).unwrap();
        let b = std::fs::read_to_string(cut.join(file)).unwrap();
        assert!(a == b, "{file} differs after the resume");
    }
    assert!(!cut.join(gpulstm::run_dir::SEQUENCE_STATE).exists());
    let _ = std::fs::remove_dir_all(&whole);
    let _ = std::fs::remove_dir_all(&cut);
}

/// The run directory's seed-protocol journal: the saved state decides how far a resume goes, the latest
/// line of a split wins (a resumed attempt re-runs the splits after its state), a line cut short is
/// ignored, and a state the journal cannot back is refused.
#[test]
fn the_seed_journal_keeps_the_splits_up_to_the_saved_state() {
    let dir = common::scratch("resume", "seed-journal");
    let mut run = RunDir::start(&dir, record()).expect("start");
    let step = |v: f64| SequenceStep {
        report: gpulstm::fit::FitReport {
            history: vec![gpulstm::fit::EpochLoss {
                train: v,
                val: -v - 0.25,
            }],
            best_epoch: 0,
            stopped_early: false,
        },
        train_pred: vec![v, v + 0.5],
        val_pred: vec![-v],
    };
    let state = |v: f64| SequenceState {
        params: vec![v; 3],
        adam_m: vec![0.25; 3],
        adam_v: vec![0.5; 3],
        adam_t: 7,
        epoch_serial: 9,
        best: f64::INFINITY,
    };
    assert!(run.sequence().unwrap().is_none(), "nothing saved yet");
    for split in 0..4 {
        let states = [state(split as f64), state(-(split as f64))];
        let saved = (split == 1).then_some(&states[..]);
        run.record_sequence(split, &[step(split as f64), step(10.0)], saved)
            .unwrap();
    }
    let (steps, states) = run.sequence().unwrap().expect("a saved state");
    assert_eq!(
        steps.len(),
        2,
        "splits past the saved state are trained again"
    );
    assert_eq!(steps[1][0], step(1.0));
    assert_eq!(states, vec![state(1.0), state(-1.0)]);
    // A resumed attempt writes split 2 again, differently, and saves after it; a kill cuts a line.
    let again = [state(2.5), state(-2.5)];
    run.record_sequence(2, &[step(2.5), step(10.0)], Some(&again))
        .unwrap();
    let mut text = std::fs::read_to_string(dir.join(JOURNAL)).unwrap();
    text.push_str("{\"kind\":\"seq_steps\",\"split\":3,\"ste");
    std::fs::write(dir.join(JOURNAL), text).unwrap();
    let (steps, states) = run.sequence().unwrap().expect("a saved state");
    assert_eq!(steps.len(), 3);
    assert_eq!(steps[2][0], step(2.5), "the latest line of split 2 wins");
    assert_eq!(states[0], state(2.5));
    // A journal that lost its lines cannot back the state: refused, not silently restarted.
    std::fs::write(dir.join(JOURNAL), "").unwrap();
    let err = run.sequence().expect_err("no lines for the saved state");
    assert!(err.to_string().contains("lacks split 0"), "{err}");
    drop(run);
    let _ = std::fs::remove_dir_all(&dir);
}
