//! `gpulstm sweep`: the configurations of `--grid`/`--random`, each a `train` run in
//! `OUT/configs/cNNN/` trained by one backend opened once; then the choice per split without
//! look-ahead, its scores and tests, and the sweep's files in `OUT`. Every configuration directory keeps
//! its journal until the whole sweep is written, so `sweep --resume OUT` continues any of them.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::anyhow;
use clap::Parser;
use serde::{Deserialize, Serialize};

use super::args::{Cli, Command, SweepArgs, TrainArgs};
use super::common::{pick_trainer, runtime, same_version, say, usage, warn, Failure};
use super::sweep_configs::config_args;
use super::train_plan::{plan, Plan};
use super::train_run::{config_checksum, fit_in_dir, Fitted};
use crate::report::metrics_json::PanelEvaluation;
use crate::report::write::{write_evaluated, RunOutputs};
use crate::run_dir::{RunDir, RunRecord, State, RUN_JSON};
use crate::sweep::grid::{grid_configs, random_configs, Axis, Config};
use crate::sweep::score::{score_sweep, SweepScoring};
use crate::sweep::write::{write_sweep, SweepOutputs};
use crate::train::protocol::Interrupted;
use crate::train::{PanelResult, Trainer};

/// The sweep's record in `OUT/sweep.json`: how to run it again and how far it got.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepRecord {
    pub gpulstm_version: String,
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    /// Each configuration's label, in directory order.
    pub configs: Vec<String>,
    pub state: State,
    /// `--shard I/N`: every configuration trained share I of its models, for `sweep --merge`.
    #[serde(default)]
    pub shard: Option<crate::train::Shard>,
}

pub const SWEEP_JSON: &str = "sweep.json";

/// One configuration, planned.
pub(super) struct Planned {
    pub config: Config,
    pub args: TrainArgs,
    pub plan: Plan,
    pub dir: PathBuf,
}

pub(super) fn config_dir(out: &Path, i: usize) -> PathBuf {
    out.join("configs").join(format!("c{i:03}"))
}

/// The configurations the flags describe, the base configuration (the flags as given) among them:
/// where no grid point runs exactly the base, it is added last.
pub(super) fn configs(args: &SweepArgs) -> Result<(Vec<Config>, usize), Failure> {
    let axes: Vec<Axis> = args
        .grid
        .iter()
        .map(|t| Axis::parse(t))
        .collect::<Result<_, _>>()
        .map_err(usage)?;
    if axes.is_empty() {
        return Err(usage(anyhow!(
            "--grid: a sweep needs at least one --grid KEY=V1,V2,.."
        )));
    }
    let mut list = match args.random {
        Some(n) => random_configs(&axes, n, args.sweep_seed),
        None => grid_configs(&axes),
    }
    .map_err(usage)?;
    let base = config_checksum(&plan_quiet(&args.train)?.config.spec);
    let mut default = None;
    for (i, c) in list.iter().enumerate() {
        if config_checksum(&plan_quiet(&config_args(&args.train, c)?)?.config.spec) == base {
            default = Some(i);
            break;
        }
    }
    let default = match default {
        Some(i) => i,
        None => {
            list.push(Config { values: Vec::new() });
            list.len() - 1
        }
    };
    Ok((list, default))
}

/// `plan` without an output directory check (only the specification is wanted).
fn plan_quiet(args: &TrainArgs) -> Result<Plan, Failure> {
    let mut a = args.clone();
    a.out = Some(PathBuf::from("/nonexistent/gpulstm-sweep-probe"));
    a.force = true;
    a.resume = None;
    plan(&a)
}

/// Plans every configuration in its directory under `out`; a configuration `train` would refuse is
/// the user's to fix, named by its label.
pub(super) fn plan_all(
    args: &SweepArgs,
    out: &Path,
    list: &[Config],
) -> Result<Vec<Planned>, Failure> {
    list.iter()
        .enumerate()
        .map(|(i, c)| {
            let mut a = config_args(&args.train, c)?;
            let dir = config_dir(out, i);
            a.out = Some(dir.clone());
            a.force = true;
            a.resume = None;
            let plan = plan(&a).map_err(|f| match f {
                Failure::Usage(e) => usage(e.context(format!("configuration {i} ({})", c.label()))),
                other => other,
            })?;
            Ok(Planned {
                config: c.clone(),
                args: a,
                plan,
                dir,
            })
        })
        .collect()
}

/// Refuses a sweep of more than `--max-models` without `--force`, saying its size.
fn check_size(args: &SweepArgs, planned: &[Planned]) -> Result<(), Failure> {
    let models: usize = planned.iter().map(|p| p.plan.model_count).sum();
    if models <= args.max_models || args.train.force {
        return Ok(());
    }
    // The CPU engine's rate on the report's model: 989 models of 10 epochs in 136 s on 2 cores.
    let epochs: usize = planned
        .iter()
        .map(|p| p.plan.model_count * p.args.epochs)
        .sum();
    let cores = rayon::current_num_threads().max(1);
    let seconds = epochs as f64 / 10.0 * 0.275 / cores as f64;
    Err(usage(anyhow!(
        "the sweep trains {models} models over {} configurations, more than --max-models {}: about \
         {:.0} minutes on the CPU engine here at the report's model's rate (a GPU: see `gpulstm bench`); \
         pass --force to run it, or narrow the grid",
        planned.len(),
        args.max_models,
        seconds / 60.0
    )))
}

/// The configuration's directory: resumed where it holds an unfinished run of the same
/// configuration, otherwise started afresh.
fn open_dir(p: &Planned, record: &RunRecord, resume: bool) -> Result<RunDir, Failure> {
    if !resume {
        crate::report::files::remove_outputs(&p.dir).map_err(runtime)?;
    } else if let Ok(text) = std::fs::read_to_string(p.dir.join(RUN_JSON)) {
        if let Ok(old) = serde_json::from_str::<RunRecord>(&text) {
            if old.state != State::Complete && old.config_checksum == record.config_checksum {
                return RunDir::resume(&p.dir).map_err(usage);
            }
        }
    }
    std::fs::create_dir_all(&p.dir)
        .map_err(|e| runtime(anyhow!("cannot create {}: {e}", p.dir.display())))?;
    RunDir::start(&p.dir, record.clone()).map_err(usage)
}

pub(super) fn config_record(p: &Planned, argv: &[String], cwd: &Path) -> RunRecord {
    let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string();
    RunRecord {
        gpulstm_version: env!("CARGO_PKG_VERSION").into(),
        argv: argv.to_vec(),
        cwd: cwd.to_path_buf(),
        data: format!("sweep configuration {}", p.config.label()),
        data_checksum: String::new(),
        config_checksum: config_checksum(&p.plan.config.spec),
        splits: p.plan.split_count,
        models: p.plan.model_count,
        shard: p.args.shard,
        backend: None,
        engine: None,
        state: State::Running,
        reason: None,
        startup: Vec::new(),
        started: now.clone(),
        updated: now,
    }
}

pub(super) fn save_record(out: &Path, record: &SweepRecord) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(record).map_err(runtime)?;
    crate::atomic::write(&out.join(SWEEP_JSON), text.as_bytes()).map_err(runtime)
}

/// Trains every configuration in turn with one backend; the results, in configuration order.
fn train_all(
    planned: &[Planned],
    trainer: &mut dyn Trainer,
    record: &mut SweepRecord,
    out: &Path,
    quiet: bool,
    resume: bool,
) -> Result<Vec<(Option<PanelResult>, RunDir)>, Failure> {
    let mut done = Vec::with_capacity(planned.len());
    for (i, p) in planned.iter().enumerate() {
        let mut dir = open_dir(p, &config_record(p, &record.argv, &record.cwd), resume)?;
        if !quiet {
            warn(&format!(
                "configuration {}/{} ({}): {} models",
                i + 1,
                planned.len(),
                p.config.label(),
                p.plan.model_count
            ));
        }
        let fitted = fit_in_dir(
            &p.plan.panel,
            &p.plan.config.spec,
            trainer,
            &mut dir,
            p.args.shard,
            quiet,
        );
        match fitted {
            Ok(Fitted::Run(r)) => done.push((Some(*r), dir)),
            Ok(Fitted::Shard(_)) => done.push((None, dir)),
            Err(e) => {
                let interrupted = e.downcast_ref::<Interrupted>().is_some();
                let state = if interrupted {
                    State::Interrupted
                } else {
                    State::Failed
                };
                let _ = dir.set_state(state, Some(format!("{e:#}")));
                record.state = state;
                save_record(out, record)?;
                let resume = format!("gpulstm sweep --resume {}", out.display());
                let e = e.context(format!(
                    "configuration {i} ({}); continue with `{resume}`",
                    p.config.label()
                ));
                return Err(if interrupted {
                    Failure::Interrupted(e)
                } else {
                    runtime(e)
                });
            }
        }
    }
    Ok(done)
}

/// Writes each configuration's own results (a complete `train` run directory each), then the sweep's.
pub(super) fn write_all(
    args: &SweepArgs,
    out: &Path,
    planned: &[Planned],
    trained: Vec<(PanelResult, RunDir)>,
    default: usize,
    started: Instant,
) -> Result<String, Failure> {
    let mut evaluations = Vec::with_capacity(planned.len());
    let mut dirs = Vec::new();
    for (p, (result, dir)) in planned.iter().zip(trained) {
        let outputs = RunOutputs {
            dir: &p.dir,
            panel: &p.plan.panel,
            config: &p.plan.config,
            result: &result,
        };
        let eval = PanelEvaluation::new(&p.plan.panel, &p.plan.config, &result).map_err(runtime)?;
        write_evaluated(&outputs, &eval).map_err(runtime)?;
        evaluations.push(eval.series);
        dirs.push(dir);
    }
    let base = &planned[default].args;
    let scoring = SweepScoring {
        select_window: args.select_window,
        bootstrap: args.bootstrap,
        seed: args.sweep_seed,
        dm_lag: base.step.min(base.val_window).saturating_sub(1),
        default_config: default,
        scoring: planned[default].plan.config.scoring,
    };
    let scores = score_sweep(&evaluations, &scoring);
    let configs: Vec<Config> = planned.iter().map(|p| p.config.clone()).collect();
    let summary = write_sweep(&SweepOutputs {
        dir: out,
        configs: &configs,
        evaluations: &evaluations,
        scores: &scores,
        scoring: &scoring,
        heatmap: args.heatmap.as_deref(),
        wall_seconds: started.elapsed().as_secs_f64(),
    })
    .map_err(runtime)?;
    for d in dirs {
        d.finish().map_err(runtime)?;
    }
    Ok(summary)
}

pub(super) fn sweep(args: &SweepArgs) -> Result<(), Failure> {
    let (args, out) = match &args.train.resume {
        Some(dir) => resumed(dir)?,
        None => {
            let out = args
                .train
                .out
                .clone()
                .ok_or_else(|| usage(anyhow!("--out: a sweep needs an output directory")))?;
            if out.join(SWEEP_JSON).exists() && !args.train.force {
                return Err(usage(anyhow!(
                    "{} holds a sweep; continue it with `gpulstm sweep --resume {}`, or pass --force to start over",
                    out.display(),
                    out.display()
                )));
            }
            crate::report::files::check_out_dir(&out, args.train.force).map_err(usage)?;
            (args.clone(), out)
        }
    };
    if !args.merge.is_empty() {
        return super::sweep_merge::merge(&args, &out);
    }
    let started = Instant::now();
    let (list, default) = configs(&args)?;
    let planned = plan_all(&args, &out, &list)?;
    check_size(&args, &planned)?;
    std::fs::create_dir_all(&out)
        .map_err(|e| runtime(anyhow!("cannot create {}: {e}", out.display())))?;
    let mut record = SweepRecord {
        gpulstm_version: env!("CARGO_PKG_VERSION").into(),
        argv: std::env::args().skip(1).collect(),
        cwd: std::env::current_dir().map_err(runtime)?,
        configs: list.iter().map(Config::label).collect(),
        state: State::Running,
        shard: args.train.shard,
    };
    if let Some(dir) = &args.train.resume {
        record.argv = read_record(dir)?.argv;
    }
    save_record(&out, &record)?;
    let quiet = args.train.quiet;
    let mut notes = Vec::new();
    let t = &args.train;
    let mut trainer = pick_trainer(
        t.backend.backend(),
        (t.adapter.as_deref(), &t.limits.set()),
        &mut notes,
        quiet,
    )?;
    crate::interrupt::install("stopping after the models in flight (finished splits are saved); press Ctrl-C again to stop now")
        .map_err(runtime)?;
    if !quiet {
        let models: usize = planned.iter().map(|p| p.plan.model_count).sum();
        warn(&format!(
            "sweeping {} configurations ({models} models) on {} ...",
            planned.len(),
            trainer.describe()
        ));
    }
    let resume = args.train.resume.is_some();
    let trained = train_all(&planned, trainer.as_mut(), &mut record, &out, quiet, resume)?;
    if let Some(shard) = args.train.shard {
        for (_, dir) in trained {
            dir.finish_shard().map_err(runtime)?;
        }
        record.state = State::Complete;
        save_record(&out, &record)?;
        say(&format!(
            "sweep shard {shard}: every configuration's share trained and saved in {}\njoin the shards with: gpulstm sweep --merge {} ... --out OUT\n",
            out.display(),
            out.display()
        ));
        return Ok(());
    }
    let trained = trained
        .into_iter()
        .map(|(r, d)| r.map(|r| (r, d)))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| runtime(anyhow!("a configuration trained only a shard")))?;
    let summary = write_all(&args, &out, &planned, trained, default, started)?;
    record.state = State::Complete;
    save_record(&out, &record)?;
    say(&summary);
    Ok(())
}

pub(super) fn read_record(dir: &Path) -> Result<SweepRecord, Failure> {
    let path = dir.join(SWEEP_JSON);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        usage(anyhow!(
            "--resume {}: cannot read {SWEEP_JSON} (is this a sweep directory?): {e}",
            dir.display()
        ))
    })?;
    serde_json::from_str(&text)
        .map_err(|e| usage(anyhow!("{}: not a sweep record: {e}", path.display())))
}

/// `sweep --resume DIR`: the recorded arguments, run again in the directory they were given in.
fn resumed(dir: &Path) -> Result<(SweepArgs, PathBuf), Failure> {
    let dir = dir
        .canonicalize()
        .map_err(|e| usage(anyhow!("--resume {}: {e}", dir.display())))?;
    let rec = read_record(&dir)?;
    if rec.state == State::Complete {
        return Err(usage(anyhow!(
            "{}: this sweep is complete; nothing to resume",
            dir.display()
        )));
    }
    same_version(&dir, &rec.gpulstm_version)?;
    std::env::set_current_dir(&rec.cwd).map_err(|e| {
        usage(anyhow!(
            "{}: cannot enter the sweep's directory {}: {e}",
            dir.display(),
            rec.cwd.display()
        ))
    })?;
    let cli =
        Cli::try_parse_from(std::iter::once("gpulstm".to_string()).chain(rec.argv.iter().cloned()))
            .map_err(|e| {
                usage(anyhow!(
                    "{}: the recorded arguments no longer parse: {e}",
                    dir.display()
                ))
            })?;
    let Command::Sweep(mut args) = cli.command else {
        return Err(usage(anyhow!(
            "{}: the recorded command is not `sweep`",
            dir.display()
        )));
    };
    args.train.out = Some(dir.clone());
    args.train.force = true;
    args.train.resume = Some(dir.clone());
    Ok((*args, dir))
}
