//! `train` inside a run directory: start a run (lock, record), resume one (`--resume DIR`), and carry
//! a run to its end: complete (results written atomically), interrupted (resumable, exit 130) or failed
//! (the reason recorded). See [`crate::run_dir`].

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::anyhow;
use clap::Parser;

use super::args::{Cli, Command, TrainArgs};
use super::common::{pick_trainer, runtime, same_version, say, usage, warn, Failure};
use super::train_plan::{plan, Plan};
use crate::data::NamedSeries;
use crate::progress::{Mode, Reporter};
use crate::report::evaluate::RunConfig;
use crate::report::files;
use crate::report::format::plural;
use crate::report::write::{write_run, RunOutputs};
use crate::run_dir::{fnv1a64, RunDir, RunRecord, State, JOURNAL, RUN_JSON};
use crate::train::protocol::{self, Interrupted, Journal, Protocol, SavedSequence};
use crate::train::walk_forward::PanelPlan;
use crate::train::PanelResult;
use crate::train::TrainedBy;
use crate::train::{FitOutcome, Progress, SequenceStep, StateFn};

/// How often the seed protocol's carried state (three copies of the weights per seed) is saved: what a kill can
/// lose at most. A stop asked for by a signal saves it at once.
const SEQUENCE_SAVE_EVERY: Duration = Duration::from_secs(60);

/// The journal of a run directory, stopping when a signal asked for it.
struct DirJournal<'a> {
    dir: &'a mut RunDir,
    last_state_save: Instant,
}

impl Journal for DirJournal<'_> {
    fn finished(&self) -> anyhow::Result<Vec<(usize, FitOutcome)>> {
        self.dir.finished()
    }
    fn record(&mut self, done: &[(usize, &FitOutcome, bool)]) -> anyhow::Result<()> {
        self.dir.record(done)
    }
    fn stop_requested(&self) -> bool {
        crate::interrupt::requested()
    }
    fn sequence(&self) -> anyhow::Result<Option<SavedSequence>> {
        self.dir.sequence()
    }
    fn record_sequence(
        &mut self,
        split: usize,
        steps: &[SequenceStep],
        state: Option<StateFn>,
        stopping: bool,
    ) -> anyhow::Result<()> {
        let due = stopping || self.last_state_save.elapsed() >= SEQUENCE_SAVE_EVERY;
        let snapshot = match state.filter(|_| due) {
            Some(f) => Some(f()?),
            None => None,
        };
        if snapshot.is_some() {
            self.last_state_save = Instant::now();
        }
        self.dir.record_sequence(split, steps, snapshot.as_deref())
    }
}

/// The data as given and its checksum: the bytes of every file the series came from, in order, or the
/// embedded sample's version.
pub(super) fn data_checksum(args: &TrainArgs, plan: &Plan) -> Result<(String, String), Failure> {
    if args.data.data.is_empty() {
        return Ok((
            "embedded sample".into(),
            fnv1a64(env!("CARGO_PKG_VERSION").as_bytes()),
        ));
    }
    let mut sources: Vec<&str> = plan
        .panel
        .iter()
        .map(|s| s.series.source.as_str())
        .collect();
    sources.dedup();
    let mut bytes = Vec::new();
    for source in sources {
        bytes.extend(source.as_bytes());
        bytes.extend(
            std::fs::read(source).map_err(|e| usage(anyhow!("{source}: cannot read: {e}")))?,
        );
    }
    let given: Vec<String> = args
        .data
        .data
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    Ok((given.join(" "), fnv1a64(&bytes)))
}

/// What `--resume` and `merge` compare to know a run's configuration is unchanged.
pub(super) fn config_checksum(spec: &crate::train::RunSpec) -> String {
    fnv1a64(format!("{spec:?}").as_bytes())
}

fn record(args: &TrainArgs, plan: &Plan) -> Result<RunRecord, Failure> {
    let (data, data_checksum) = data_checksum(args, plan)?;
    let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string();
    Ok(RunRecord {
        gpulstm_version: env!("CARGO_PKG_VERSION").into(),
        argv: std::env::args().skip(1).collect(),
        cwd: std::env::current_dir().map_err(runtime)?,
        data,
        data_checksum,
        config_checksum: config_checksum(&plan.config.spec),
        splits: plan.split_count,
        models: plan.model_count,
        shard: args.shard,
        backend: None,
        engine: None,
        state: State::Running,
        reason: None,
        startup: Vec::new(),
        started: now.clone(),
        updated: now,
    })
}

/// Takes the output directory for a new run. An unfinished run there is not overwritten without
/// `--force` (it can be resumed); with `--force` the old results go first, so nothing that looks
/// complete stays while the new run works.
pub(super) fn start(args: &TrainArgs, plan: &Plan) -> Result<RunDir, Failure> {
    let dir = &plan.out_dir;
    refuse_unfinished(dir, args.force)?;
    if args.force {
        files::remove_outputs(dir).map_err(runtime)?;
    }
    RunDir::start(dir, record(args, plan)?).map_err(usage)
}

/// An unfinished run in `dir` is resumable, so a new run does not replace it without `--force`.
pub(super) fn refuse_unfinished(dir: &Path, force: bool) -> Result<(), Failure> {
    let Ok(text) = std::fs::read_to_string(dir.join(RUN_JSON)) else {
        return Ok(());
    };
    let record = serde_json::from_str::<RunRecord>(&text);
    if force {
        return Ok(());
    }
    // A finished shard's results are its journal, which a new run there would remove.
    if let Ok(RunRecord {
        shard: Some(shard),
        state: State::Complete,
        ..
    }) = &record
    {
        return Err(usage(anyhow!(
            "{} holds shard {shard} of a run (its models are in {JOURNAL}, for `gpulstm merge`); \
             choose another directory, or pass --force to replace it",
            dir.display()
        )));
    }
    if matches!(record.map(|r| r.state), Ok(State::Complete)) {
        return Ok(());
    }
    Err(usage(anyhow!(
        "{} holds an unfinished run; continue it with `gpulstm train --resume {}`, or pass --force to \
         start over",
        dir.display(),
        dir.display()
    )))
}

/// Flags `--resume` may be combined with: the ones that do not change the results' definition.
const RESUME_FLAGS: [&str; 5] = ["--resume", "--backend", "--adapter", "--limits", "--quiet"];

/// The interrupted run in `dir` (named `what` in errors: the flag or the argument), opened,
/// refused when another version of gpulstm recorded it.
pub(super) fn open_for_resume(dir: &Path, what: &str) -> Result<(PathBuf, RunDir), Failure> {
    let dir = dir
        .canonicalize()
        .map_err(|e| usage(anyhow!("{what} {}: {e}", dir.display())))?;
    let run_dir = RunDir::resume(&dir).map_err(usage)?;
    let rec = &run_dir.record;
    same_version(&dir, &rec.gpulstm_version)?;
    Ok((dir, run_dir))
}

/// `train --resume DIR`: the recorded arguments, checked against the data and configuration now.
pub(super) fn resume(args: &TrainArgs, dir: &Path) -> Result<(), Failure> {
    let given: Vec<String> = std::env::args()
        .skip(2)
        .filter(|a| a.starts_with("--"))
        .collect();
    if let Some(extra) = given
        .iter()
        .find(|a| !RESUME_FLAGS.contains(&a.split('=').next().unwrap_or(a)))
    {
        return Err(usage(anyhow!(
            "{extra}: --resume continues the run with the configuration it recorded; only --backend, \
             --adapter, --limits and --quiet may be given with it"
        )));
    }
    let (dir, run_dir) = open_for_resume(dir, "--resume")?;
    let rec = run_dir.record.clone();
    // Relative paths in the recorded arguments mean what they meant where the run started.
    std::env::set_current_dir(&rec.cwd).map_err(|e| {
        usage(anyhow!(
            "{}: cannot enter the run's directory {}: {e}",
            dir.display(),
            rec.cwd.display()
        ))
    })?;
    let mut recorded = recorded_args(&rec.argv, &dir)?;
    // The recorded backend and adapter stand unless given again (a run may move to another backend).
    let flag = |name: &str| given.iter().any(|a| a.split('=').next() == Some(name));
    if flag("--backend") {
        recorded.backend = args.backend;
    }
    if flag("--adapter") {
        recorded.adapter = args.adapter.clone();
    }
    if flag("--limits") {
        recorded.limits = args.limits;
    }
    recorded.quiet = args.quiet;
    let plan = plan(&recorded)?;
    let now = record(&recorded, &plan)?;
    for (what, then, now) in [
        ("the data file", &rec.data_checksum, &now.data_checksum),
        (
            "the configuration",
            &rec.config_checksum,
            &now.config_checksum,
        ),
    ] {
        if then != now {
            return Err(usage(anyhow!(
                "{}: {what} changed since the run started ({} then, {} now); start a new run instead",
                dir.display(),
                then,
                now
            )));
        }
    }
    let done = run_dir.finished().map_err(runtime)?.len();
    if !args.quiet {
        warn(&format!(
            "resuming {}: {done} of {} splits already done",
            dir.display(),
            rec.splits
        ));
    }
    execute(&recorded, plan, run_dir)
}

/// `train`'s arguments as a run directory recorded them, to run in `dir`.
pub(super) fn recorded_args(argv: &[String], dir: &Path) -> Result<TrainArgs, Failure> {
    let cli =
        Cli::try_parse_from(std::iter::once("gpulstm".to_string()).chain(argv.iter().cloned()))
            .map_err(|e| {
                usage(anyhow!(
                    "{}: the recorded arguments no longer parse: {e}",
                    dir.display()
                ))
            })?;
    match cli.command {
        Command::Train(mut t) => {
            t.out = Some(dir.to_path_buf());
            // The directory holds this run's own unfinished state, which plan's guard would refuse.
            t.force = true;
            t.resume = None;
            Ok(*t)
        }
        _ => Err(usage(anyhow!(
            "{}: the recorded command is not `train`",
            dir.display()
        ))),
    }
}

/// Trains, then writes the results and marks the run complete; or records why it stopped.
pub(super) fn execute(args: &TrainArgs, plan: Plan, mut run_dir: RunDir) -> Result<(), Failure> {
    let Plan {
        panel,
        mut config,
        out_dir,
        split_count,
        model_count,
    } = plan;
    if !args.quiet {
        for note in &config.notes {
            warn(&format!("note: {note}"));
        }
    }
    let mut trainer = pick_trainer(
        args.backend.backend(),
        (args.adapter.as_deref(), &args.limits.set()),
        &mut config.notes,
        args.quiet,
    )?;
    let message = match config.spec.protocol {
        Protocol::WalkForward => "stopping after the models in flight (finished splits are saved); press Ctrl-C again to stop now",
        Protocol::Seed => "stopping after the split in flight, the carried model saved; press Ctrl-C again to stop now",
    };
    crate::interrupt::install(message).map_err(runtime)?;
    if !args.quiet {
        warn(&format!(
            "training {model_count} model{} for {split_count} split{}{} ({}{}) on {} ...",
            plural(model_count),
            plural(split_count),
            match panel.len() {
                1 => String::new(),
                n => format!(" of {n} series"),
            },
            config.spec.protocol,
            args.shard
                .map(|s| format!(", shard {s}"))
                .unwrap_or_default(),
            trainer.describe()
        ));
    }
    let trained = fit_in_dir(
        &panel,
        &config.spec,
        trainer.as_mut(),
        &mut run_dir,
        args.shard,
        args.quiet,
    );
    let result = match trained {
        Ok(Fitted::Shard(n)) => {
            let shard = args.shard.map(|s| s.to_string()).unwrap_or_default();
            say(&format!(
                "shard {shard}: {n} models trained and saved in {}\njoin the shards with: gpulstm merge OUT {} ...\n",
                out_dir.display(),
                out_dir.display()
            ));
            return run_dir.finish_shard().map_err(runtime);
        }
        Ok(Fitted::Run(r)) => r,
        Err(e) => return Err(stopped(run_dir, &out_dir, e)),
    };
    match write_results(&out_dir, &panel, &config, &result) {
        Ok(()) => run_dir.finish().map_err(runtime),
        Err(e) => Err(stopped(run_dir, &out_dir, e)),
    }
}

/// What [`fit_in_dir`] trained: a whole run's result, or the number of models of a shard.
pub(super) enum Fitted {
    Run(Box<PanelResult>),
    Shard(usize),
}

/// Trains `spec` on `panel` in `run_dir` with `trainer` (its journal resumes finished models and saves
/// new ones; a signal stops it at the next safe point), with a progress bar unless `quiet`.
pub(super) fn fit_in_dir(
    panel: &[NamedSeries],
    spec: &crate::train::RunSpec,
    trainer: &mut dyn crate::train::Trainer,
    run_dir: &mut RunDir,
    shard: Option<crate::train::Shard>,
    quiet: bool,
) -> anyhow::Result<Fitted> {
    run_dir.set_backend(&TrainedBy::of(trainer))?;
    let reporter = Reporter::new(Mode::detect(quiet));
    let on_progress = |p: Progress| reporter.update(p);
    let mut journal = DirJournal {
        dir: run_dir,
        last_state_save: Instant::now(),
    };
    let fitted = match shard {
        Some(shard) => PanelPlan::new(panel, spec).and_then(|p| {
            p.fit(spec, trainer, &on_progress, &mut journal, Some(shard))
                .map(|fits| Fitted::Shard(fits.keys().filter(|&&i| p.in_shard(shard, i)).count()))
        }),
        None => protocol::run_panel(panel, spec, trainer, &on_progress, &mut journal)
            .map(|r| Fitted::Run(Box::new(r))),
    };
    reporter.finish();
    fitted
}

/// Every result file of a finished run, then the summary on stdout.
pub(super) fn write_results(
    out_dir: &Path,
    panel: &[NamedSeries],
    config: &RunConfig,
    result: &PanelResult,
) -> anyhow::Result<()> {
    let summary = write_run(&RunOutputs {
        dir: out_dir,
        panel,
        config,
        result,
    })?;
    say(&summary);
    Ok(())
}

/// Records an interrupted or failed run and the failure to report.
pub(super) fn stopped(mut run_dir: RunDir, dir: &Path, e: anyhow::Error) -> Failure {
    if let Some(i) = e.downcast_ref::<Interrupted>() {
        let resume = format!("gpulstm train --resume {}", shell_path(dir));
        let _ = run_dir.set_state(
            State::Interrupted,
            Some(format!("{i}; resume with: {resume}")),
        );
        return Failure::Interrupted(anyhow!(
            "{i}, saved in {}; resume with: {resume}",
            dir.display()
        ));
    }
    let _ = run_dir.set_state(State::Failed, Some(format!("{e:#}")));
    let saved = run_dir.finished().map(|v| v.len()).unwrap_or(0)
        + run_dir
            .sequence()
            .ok()
            .flatten()
            .map_or(0, |(r, _)| r.len());
    if saved > 0 {
        let resume = format!("gpulstm train --resume {}", shell_path(dir));
        return runtime(e.context(format!(
            "the run failed with {saved} splits finished and saved in {}; continue with `{resume}`",
            dir.display()
        )));
    }
    runtime(e)
}

fn shell_path(p: &Path) -> String {
    let s = p.display().to_string();
    if s.chars()
        .all(|c| c.is_alphanumeric() || "/._-+".contains(c))
    {
        s
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
