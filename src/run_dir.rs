//! The run directory while a run lives in it: a lock, the run's record (`run.json`: configuration,
//! data checksum, state) and the journal of finished splits (`progress.jsonl`) that `--resume` continues
//! from.
//!
//! - Lock: `.lock` is created exclusively and holds the owner's pid and host; a second run refuses a
//!   directory whose lock belongs to a live process. A lock left by a crash is taken over: on the same
//!   host when its pid is gone (Linux `/proc`), elsewhere when it has not been refreshed for
//!   [`STALE_AFTER`] (each journal write refreshes it).
//! - State: `running` from the start, then `interrupted`, `failed` (with the reason) or `complete`.
//!   Result files are written only when the run completes, each atomically ([`crate::atomic`]).
//! - Journal: one JSON line per finished split, appended and synced a chunk of models at a time. Floats
//!   are stored as their IEEE bits, so a resumed run rebuilds exactly the numbers of the first attempt (a
//!   NaN loss included). A line cut short by a kill is ignored: that split is trained again. The seed
//!   protocol's carried state (weights and Adam moments of every chain) is not journalled but kept in
//!   [`SEQUENCE_STATE`], replaced atomically now and then; a resume continues after the split it follows.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{anyhow, Context};

use crate::fit::{EpochLoss, FitReport};
use crate::train::run_types::SavedSequence;
use crate::train::{FitOutcome, SequenceState, SequenceStep};

pub const RUN_JSON: &str = "run.json";
pub const JOURNAL: &str = "progress.jsonl";
/// The seed protocol's carried state after the last saved split (with the journal's steps up to it,
/// what `--resume` continues from).
pub const SEQUENCE_STATE: &str = "sequence-state.json";
pub const LOCK: &str = ".lock";
/// A lock not refreshed for this long, whose owner cannot be checked, belongs to a dead run.
pub const STALE_AFTER: Duration = Duration::from_secs(30 * 60);

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Running,
    Interrupted,
    Failed,
    Complete,
}

/// `run.json`: what the run is and how far it got.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunRecord {
    pub gpulstm_version: String,
    /// `train`'s arguments as given, and the directory they were given in (relative paths in them).
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    /// The data as given (`--data` paths), or the embedded sample.
    pub data: String,
    /// FNV-1a 64 of the data files' bytes, in order (of the embedded sample without `--data`).
    pub data_checksum: String,
    /// FNV-1a 64 of the resolved configuration (not including `--shard`).
    pub config_checksum: String,
    /// Splits over all series.
    pub splits: usize,
    /// Models this run trains (its shard's share with `--shard`).
    #[serde(default)]
    pub models: usize,
    /// `--shard I/N`: the run trains a share of the models and keeps them in its journal for `merge`.
    #[serde(default)]
    pub shard: Option<crate::train::Shard>,
    /// The backend that trained it, as it describes itself (set once the backend is open).
    #[serde(default)]
    pub backend: Option<String>,
    /// The engine that trained it.
    #[serde(default)]
    pub engine: Option<crate::train::Engine>,
    pub state: State,
    pub reason: Option<String>,
    /// Launch to first training step of the process that last wrote this record, stage by stage (ms;
    /// the GPU engine's stages, empty for the CPU engines).
    #[serde(default)]
    pub startup: Vec<crate::startup::Stage>,
    pub started: String,
    pub updated: String,
}

/// FNV-1a 64, hex: a change detector for data files and configurations (not a cryptographic hash).
pub fn fnv1a64(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn now() -> String {
    chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

fn host() -> String {
    fs::read_to_string("/etc/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// A run directory held by this process (the lock is released on drop).
#[derive(Debug)]
pub struct RunDir {
    pub path: PathBuf,
    pub record: RunRecord,
}

impl RunDir {
    /// Takes `path` for a new run: creates it, locks it, removes a journal left by an earlier run there,
    /// and records `record` as running.
    pub fn start(path: &Path, mut record: RunRecord) -> anyhow::Result<RunDir> {
        fs::create_dir_all(path)
            .with_context(|| format!("cannot create the output directory {}", path.display()))?;
        lock(path)?;
        let dir = RunDir {
            path: path.to_path_buf(),
            record: {
                record.state = State::Running;
                record
            },
        };
        remove_journal(path)?;
        dir.save()?;
        Ok(dir)
    }

    /// Takes `path` to continue the run recorded there.
    pub fn resume(path: &Path) -> anyhow::Result<RunDir> {
        let file = path.join(RUN_JSON);
        let text = fs::read_to_string(&file).with_context(|| {
            format!(
                "{}: cannot read the run record (is this a run directory?)",
                file.display()
            )
        })?;
        let record: RunRecord = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a run record", file.display()))?;
        if record.state == State::Complete {
            return Err(anyhow!(
                "{}: this run is complete; nothing to resume",
                path.display()
            ));
        }
        lock(path)?;
        let mut dir = RunDir {
            path: path.to_path_buf(),
            record,
        };
        dir.set_state(State::Running, None)?;
        Ok(dir)
    }

    pub fn set_backend(&mut self, by: &crate::train::TrainedBy) -> anyhow::Result<()> {
        self.record.backend = Some(by.description.clone());
        self.record.engine = by.engines.first().copied();
        self.save()
    }

    pub fn set_state(&mut self, state: State, reason: Option<String>) -> anyhow::Result<()> {
        self.record.state = state;
        self.record.reason = reason;
        self.save()
    }

    fn save(&self) -> anyhow::Result<()> {
        let mut record = self.record.clone();
        record.updated = now();
        let stages = crate::startup::stages();
        if !stages.is_empty() {
            record.startup = stages;
        }
        let text = serde_json::to_string_pretty(&record)?;
        crate::atomic::write(&self.path.join(RUN_JSON), format!("{text}\n").as_bytes())
    }

    /// The splits finished by earlier attempts of this run.
    pub fn finished(&self) -> anyhow::Result<Vec<(usize, FitOutcome)>> {
        journal_fits(&self.path)
    }

    /// Seed protocol: every split up to the last saved state (each chain's step, in chain order), and
    /// the chains' states then.
    pub fn sequence(&self) -> anyhow::Result<Option<SavedSequence>> {
        let state_path = self.path.join(SEQUENCE_STATE);
        let text = match fs::read_to_string(&state_path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(anyhow!("{}: cannot read: {e}", state_path.display())),
        };
        let saved: SeqStates = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a saved sequence state", state_path.display()))?;
        let journal = self.path.join(JOURNAL);
        let text = fs::read_to_string(&journal)
            .with_context(|| format!("{}: cannot read the journal", journal.display()))?;
        // The latest line of each split wins: a resumed attempt re-runs the splits after the state it
        // started from, and the saved state follows its lines.
        let mut by_split: Vec<Option<Vec<SequenceStep>>> = vec![None; saved.after_split + 1];
        for line in text.lines() {
            // A line cut short by a kill does not parse; it lies past the saved state anyway.
            if let Ok(Line::SeqSteps(r)) = serde_json::from_str::<Line>(line) {
                if let Some(slot) = by_split.get_mut(r.split) {
                    *slot = Some(r.steps.iter().map(StepBits::step).collect());
                }
            }
        }
        let missing = by_split.iter().position(Option::is_none);
        anyhow::ensure!(
            missing.is_none(),
            "{}: the saved seed-protocol state follows split {}, but the journal lacks split {}",
            journal.display(),
            saved.after_split,
            missing.unwrap_or(0)
        );
        let steps: Vec<Vec<SequenceStep>> = by_split.into_iter().flatten().collect();
        Ok(Some((
            steps,
            saved.states.iter().map(StateBits::state).collect(),
        )))
    }

    /// Seed protocol: appends a split's steps to the journal and, when given, replaces the saved
    /// state of the chains (three copies of the weights each: kept in a file of its own, replaced
    /// atomically, so the journal grows by predictions only).
    pub fn record_sequence(
        &mut self,
        split: usize,
        steps: &[SequenceStep],
        states: Option<&[SequenceState]>,
    ) -> anyhow::Result<()> {
        let line = Line::SeqSteps(SeqSteps {
            split,
            steps: steps.iter().map(StepBits::new).collect(),
        });
        self.append(&[line])?;
        if let Some(states) = states {
            let saved = SeqStates {
                after_split: split,
                states: states.iter().map(StateBits::new).collect(),
            };
            let text = serde_json::to_string(&saved)?;
            crate::atomic::write(&self.path.join(SEQUENCE_STATE), text.as_bytes())?;
        }
        Ok(())
    }

    fn append(&mut self, lines: &[Line]) -> anyhow::Result<()> {
        let path = self.path.join(JOURNAL);
        let mut text = String::new();
        for line in lines {
            text.push_str(&serde_json::to_string(line)?);
            text.push('\n');
        }
        let mut file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .with_context(|| format!("cannot write {}", path.display()))?;
        touch_lock(&self.path);
        Ok(())
    }

    /// Appends finished splits to the journal (params only where `Some`), synced, and refreshes the lock.
    pub fn record(&mut self, done: &[(usize, &FitOutcome, bool)]) -> anyhow::Result<()> {
        let lines: Vec<Line> = done
            .iter()
            .map(|&(split, fit, keep)| Line::Split(Entry::new(split, fit, keep)))
            .collect();
        self.append(&lines)
    }

    /// A shard's models are all trained: its journal is its result, kept for `gpulstm merge`.
    pub fn finish_shard(mut self) -> anyhow::Result<()> {
        self.set_state(State::Complete, None)
    }

    /// The journal is no longer needed once the results are written.
    pub fn finish(mut self) -> anyhow::Result<()> {
        self.set_state(State::Complete, None)?;
        remove_journal(&self.path)
    }
}

/// Removes the journal and the seed protocol's saved state from run directory `dir`.
fn remove_journal(dir: &Path) -> anyhow::Result<()> {
    for name in [JOURNAL, SEQUENCE_STATE] {
        let file = dir.join(name);
        if file.exists() {
            fs::remove_file(&file).with_context(|| format!("cannot remove {}", file.display()))?;
        }
    }
    Ok(())
}

/// The models finished in the journal of run directory `dir` (none when it has no journal): what
/// `--resume` continues from and what `merge` joins.
pub fn journal_fits(dir: &Path) -> anyhow::Result<Vec<(usize, FitOutcome)>> {
    let path = dir.join(JOURNAL);

    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(anyhow!("{}: cannot read the journal: {e}", path.display())),
    };
    let mut out = Vec::new();
    for line in text.lines() {
        // A line cut short by a kill does not parse: that split runs again.
        if let Ok(Line::Split(entry)) = serde_json::from_str::<Line>(line) {
            out.push(entry.into_outcome());
        }
    }
    Ok(out)
}

impl Drop for RunDir {
    fn drop(&mut self) {
        let _ = fs::remove_file(self.path.join(LOCK));
    }
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct LockInfo {
    pid: u32,
    host: String,
    started: String,
}

fn lock(dir: &Path) -> anyhow::Result<()> {
    let path = dir.join(LOCK);
    let info = LockInfo {
        pid: std::process::id(),
        host: host(),
        started: now(),
    };
    for attempt in 0..2 {
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                f.write_all(serde_json::to_string(&info)?.as_bytes())
                    .with_context(|| format!("cannot write {}", path.display()))?;
                return Ok(());
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt == 0 => {
                let owner = fs::read_to_string(&path)
                    .ok()
                    .and_then(|t| serde_json::from_str::<LockInfo>(&t).ok());
                if let Some(reason) = stale(&path, owner.as_ref()) {
                    eprintln!(
                        "note: {}: taking over a lock left by a run that ended ({reason})",
                        dir.display()
                    );
                    let _ = fs::remove_file(&path);
                    continue;
                }
                let who = owner
                    .map(|o| format!("pid {} on {}, since {}", o.pid, o.host, o.started))
                    .unwrap_or_else(|| "unknown owner".into());
                return Err(anyhow!(
                    "{} is in use by another gpulstm run ({who}); wait for it to finish, or choose another --out \
                     (if that run is gone, remove {})",
                    dir.display(),
                    path.display()
                ));
            }
            Err(e) => return Err(anyhow!("cannot create {}: {e}", path.display())),
        }
    }
    Err(anyhow!("cannot take the lock {}", path.display()))
}

/// Why a lock is stale, or `None` if its owner may be alive.
fn stale(path: &Path, owner: Option<&LockInfo>) -> Option<String> {
    if let Some(o) = owner {
        let proc_fs = Path::new("/proc/self").exists();
        if o.host == host() && proc_fs {
            return (!Path::new(&format!("/proc/{}", o.pid)).exists())
                .then(|| format!("pid {} is not running", o.pid));
        }
    }
    let age = fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())?;
    (age > STALE_AFTER).then(|| format!("not refreshed for {} min", age.as_secs() / 60))
}

fn touch_lock(dir: &Path) {
    let path = dir.join(LOCK);
    if let Ok(f) = fs::OpenOptions::new().append(true).open(&path) {
        let _ = f.set_modified(SystemTime::now());
    }
}

/// A journal line: a finished walk-forward split, or a seed-protocol split (every chain's step).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Line {
    Split(Entry),
    SeqSteps(SeqSteps),
}

fn history_bits(h: &[EpochLoss]) -> Vec<[u64; 2]> {
    h.iter()
        .map(|e| [e.train.to_bits(), e.val.to_bits()])
        .collect()
}

fn history_of(h: &[[u64; 2]]) -> Vec<EpochLoss> {
    h.iter()
        .map(|&[t, v]| EpochLoss {
            train: f64::from_bits(t),
            val: f64::from_bits(v),
        })
        .collect()
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct SeqSteps {
    split: usize,
    steps: Vec<StepBits>,
}

/// One chain's [`SequenceStep`], floats as IEEE bits.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct StepBits {
    history: Vec<[u64; 2]>,
    best_epoch: usize,
    stopped_early: bool,
    train_pred: Vec<u64>,
    val_pred: Vec<u64>,
}

impl StepBits {
    fn new(s: &SequenceStep) -> StepBits {
        StepBits {
            history: history_bits(&s.report.history),
            best_epoch: s.report.best_epoch,
            stopped_early: s.report.stopped_early,
            train_pred: bits(&s.train_pred),
            val_pred: bits(&s.val_pred),
        }
    }
    fn step(&self) -> SequenceStep {
        SequenceStep {
            report: FitReport {
                history: history_of(&self.history),
                best_epoch: self.best_epoch,
                stopped_early: self.stopped_early,
            },
            train_pred: floats(&self.train_pred),
            val_pred: floats(&self.val_pred),
        }
    }
}

/// The file [`SEQUENCE_STATE`]: every chain's state after split `after_split`.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct SeqStates {
    after_split: usize,
    states: Vec<StateBits>,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct StateBits {
    params: Vec<u64>,
    adam_m: Vec<u64>,
    adam_v: Vec<u64>,
    adam_t: u32,
    epoch_serial: u32,
    best: u64,
}

impl StateBits {
    fn new(s: &SequenceState) -> StateBits {
        StateBits {
            params: bits(&s.params),
            adam_m: bits(&s.adam_m),
            adam_v: bits(&s.adam_v),
            adam_t: s.adam_t,
            epoch_serial: s.epoch_serial,
            best: s.best.to_bits(),
        }
    }
    fn state(&self) -> SequenceState {
        SequenceState {
            params: floats(&self.params),
            adam_m: floats(&self.adam_m),
            adam_v: floats(&self.adam_v),
            adam_t: self.adam_t,
            epoch_serial: self.epoch_serial,
            best: f64::from_bits(self.best),
        }
    }
}

/// A finished walk-forward split. Floats as IEEE bits: exact, NaN included.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Entry {
    split: usize,
    history: Vec<[u64; 2]>,
    best_epoch: usize,
    stopped_early: bool,
    train_pred: Vec<u64>,
    val_pred: Vec<u64>,
    params: Option<Vec<u64>>,
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn floats(v: &[u64]) -> Vec<f64> {
    v.iter().map(|&b| f64::from_bits(b)).collect()
}

impl Entry {
    fn new(split: usize, fit: &FitOutcome, keep_params: bool) -> Entry {
        Entry {
            split,
            history: history_bits(&fit.report.history),
            best_epoch: fit.report.best_epoch,
            stopped_early: fit.report.stopped_early,
            train_pred: bits(&fit.train_pred),
            val_pred: bits(&fit.val_pred),
            params: keep_params.then(|| bits(&fit.params)),
        }
    }

    fn into_outcome(self) -> (usize, FitOutcome) {
        let history = history_of(&self.history);
        let outcome = FitOutcome {
            report: FitReport {
                history,
                best_epoch: self.best_epoch,
                stopped_early: self.stopped_early,
            },
            params: self.params.as_deref().map(floats).unwrap_or_default(),
            train_pred: floats(&self.train_pred),
            val_pred: floats(&self.val_pred),
        };
        (self.split, outcome)
    }
}
