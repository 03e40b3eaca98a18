//! The command line's code paths for a program that hosts the crate (the Python package in
//! `python/`): `train` and `train --resume` on a panel handed over in memory instead of `--data` files,
//! the command line itself from an argument list, and `predict` on a series in memory. Each runs the
//! same planning, training, journal and report code as the `gpulstm` binary, so a host gets the files
//! and the numbers the command line would write for the same data and flags.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use clap::{Parser, ValueEnum};

use super::args::{BackendArg, Cli, Command, TrainArgs};
use super::common::{runtime, usage, Failure};
use super::{train_plan, train_run};
use crate::data::{NamedSeries, Series};
use crate::run_dir::{RunDir, RunRecord, State};
use crate::train::Forecast;

/// A panel handed over in memory: its series, how `run.json` names the data, and the checksum a resume
/// compares (the host's, over the arrays it handed over).
#[derive(Debug, Clone)]
pub struct MemoryData {
    pub panel: Vec<NamedSeries>,
    pub label: String,
    pub checksum: String,
}

/// Where the hosted run's summary and notes go.
pub fn set_silent(silent: bool) {
    super::common::set_silent(silent);
}

/// Parses `argv` (without the program name, e.g. `["devices"]`) as the command line would and runs
/// it. `--help` and `--version` print their text and succeed.
pub fn run_args(argv: &[String]) -> Result<(), Failure> {
    let cli = parse(argv)?;
    match cli {
        Some(cli) => super::run(cli),
        None => Ok(()),
    }
}

fn parse(argv: &[String]) -> Result<Option<Cli>, Failure> {
    match Cli::try_parse_from(std::iter::once("gpulstm".to_string()).chain(argv.iter().cloned())) {
        Ok(cli) => Ok(Some(cli)),
        Err(e) if !e.use_stderr() => {
            super::common::say(&e.to_string());
            Ok(None)
        }
        Err(e) => Err(usage(anyhow!("{}", e.render().to_string().trim_end()))),
    }
}

/// `train` with the arguments `argv` (starting with `train`), on `data` when given instead of
/// `--data`. Returns the run directory. With `--resume DIR` in `argv` it continues that run.
pub fn train(argv: &[String], data: Option<&MemoryData>) -> Result<PathBuf, Failure> {
    let args = train_args(argv)?;
    if let Some(dir) = &args.resume {
        return resume(dir, data, None, args.quiet);
    }
    if data.is_some() && (!args.data.data.is_empty() || args.data.features.is_some()) {
        return Err(usage(anyhow!(
            "data handed over in memory takes no --data or --features: the frame's columns are the features"
        )));
    }
    if let Some(out) = &args.out {
        train_run::refuse_unfinished(out, args.force)?;
    }
    let plan = match data {
        Some(d) => train_plan::plan_with(&args, (d.panel.clone(), Vec::new()))?,
        None => train_plan::plan(&args)?,
    };
    let out_dir = plan.out_dir.clone();
    let record = record(argv, &args, &plan, data)?;
    train_run::refuse_unfinished(&out_dir, args.force)?;
    if args.force {
        crate::report::files::remove_outputs(&out_dir).map_err(runtime)?;
    }
    let run_dir = RunDir::start(&out_dir, record).map_err(usage)?;
    train_run::execute(&args, plan, run_dir)?;
    Ok(out_dir)
}

fn train_args(argv: &[String]) -> Result<TrainArgs, Failure> {
    match parse(argv)? {
        Some(Cli {
            command: Command::Train(args),
        }) => Ok(*args),
        Some(_) => Err(usage(anyhow!("expected the arguments of `train`"))),
        None => Err(usage(anyhow!(
            "`train` printed its help; nothing was trained"
        ))),
    }
}

/// What `run.json` records for a new run: `argv` as given (so a resume parses it again), and the data's
/// checksum: the files' bytes, or the host's checksum of the arrays.
fn record(
    argv: &[String],
    args: &TrainArgs,
    plan: &train_plan::Plan,
    data: Option<&MemoryData>,
) -> Result<RunRecord, Failure> {
    let (label, checksum) = match data {
        Some(d) => (d.label.clone(), d.checksum.clone()),
        None => train_run::data_checksum(args, plan)?,
    };
    let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string();
    Ok(RunRecord {
        gpulstm_version: env!("CARGO_PKG_VERSION").into(),
        argv: argv.to_vec(),
        cwd: std::env::current_dir().map_err(runtime)?,
        data: label,
        data_checksum: checksum,
        config_checksum: train_run::config_checksum(&plan.config.spec),
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

/// `train --resume DIR`: the run's recorded arguments, on `data` when the run was started on data in
/// memory (the same data: its checksum is compared), on the recorded files otherwise. `backend`
/// replaces the recorded backend (`auto`, `cpu`, `gpu`, `reference`).
pub fn resume(
    dir: &Path,
    data: Option<&MemoryData>,
    backend: Option<&str>,
    quiet: bool,
) -> Result<PathBuf, Failure> {
    let (dir, run_dir) = train_run::open_for_resume(dir, "resume")?;
    let rec = run_dir.record.clone();
    let mut recorded = train_run::recorded_args(&rec.argv, &dir)?;
    if let Some(name) = backend {
        recorded.backend = BackendArg::from_str(name, true)
            .map_err(|e| usage(anyhow!("backend \"{name}\": {e}")))?;
    }
    recorded.quiet = quiet;
    // Relative paths in the recorded arguments mean what they meant where the run started; the host's
    // working directory is given back afterwards.
    let here = std::env::current_dir().map_err(runtime)?;
    let moved = data.is_none() && rec.cwd != here;
    if moved {
        std::env::set_current_dir(&rec.cwd).map_err(|e| {
            usage(anyhow!(
                "{}: cannot enter the run's directory {}: {e}",
                dir.display(),
                rec.cwd.display()
            ))
        })?;
    }
    let result = resume_in(&dir, &rec, recorded, data, run_dir);
    if moved {
        let _ = std::env::set_current_dir(&here);
    }
    result.map(|()| dir)
}

fn resume_in(
    dir: &Path,
    rec: &RunRecord,
    recorded: TrainArgs,
    data: Option<&MemoryData>,
    run_dir: RunDir,
) -> Result<(), Failure> {
    let plan = match data {
        Some(d) => train_plan::plan_with(&recorded, (d.panel.clone(), Vec::new()))?,
        None => train_plan::plan(&recorded)?,
    };
    let now = record(&rec.argv, &recorded, &plan, data)?;
    for (what, then, now) in [
        ("the data", &rec.data_checksum, &now.data_checksum),
        (
            "the configuration",
            &rec.config_checksum,
            &now.config_checksum,
        ),
    ] {
        if then != now {
            return Err(usage(anyhow!(
                "{}: {what} changed since the run started ({then} then, {now} now); start a new run instead",
                dir.display()
            )));
        }
    }
    train_run::execute(&recorded, plan, run_dir)
}

/// The next-day forecast of the models in `model` (a `model.safetensors`) on `series`, which must have
/// the features the models read: its date and the models' forecasts (each, and their mean, min, max
/// and std).
pub fn predict(model: &Path, series: &Series) -> Result<(chrono::NaiveDate, Forecast), Failure> {
    let loaded = crate::checkpoint::load_models(model).map_err(usage)?;
    let inputs = loaded.layout.spec.input_size;
    if series.feature_names.len() != inputs {
        return Err(usage(anyhow!(
            "{}: the models read {inputs} features ({}) but the data has {} ({})",
            model.display(),
            loaded.feature_names.join(", "),
            series.feature_names.len(),
            series.feature_names.join(", ")
        )));
    }
    if series.len() < loaded.lookback {
        return Err(usage(anyhow!(
            "{}: the models look back {} rows but the data has {}",
            model.display(),
            loaded.lookback,
            series.len()
        )));
    }
    let transform = loaded
        .models
        .first()
        .map(|m| m.scaling.transform)
        .unwrap_or_default();
    let raw = crate::train::protocol::raw_data(series, loaded.lookback, transform);
    let forecast =
        crate::train::protocol::forecast(&raw, &loaded.layout, &loaded.models).map_err(runtime)?;
    let last = series.dates[series.len() - 1];
    Ok((crate::report::evaluate::next_trading_day(last), forecast))
}

/// The saved models of series `name` in the run directory `run`: `series/<name>/model.safetensors` in
/// a panel run, the run's own `model.safetensors` in a one-series run (which then must be asked for one
/// series: `series_count`).
pub fn run_model(run: &Path, name: &str, series_count: usize) -> Result<PathBuf, Failure> {
    use crate::report::files::{series_dir, MODEL_SAFETENSORS, SERIES_DIR};
    if run.join(SERIES_DIR).is_dir() {
        let model = run.join(series_dir(name)).join(MODEL_SAFETENSORS);
        if !model.is_file() {
            return Err(usage(anyhow!(
                "series \"{name}\": the run {} saved no models for it (no {})",
                run.display(),
                model.display()
            )));
        }
        return Ok(model);
    }
    let model = run.join(MODEL_SAFETENSORS);
    if !model.is_file() {
        return Err(usage(anyhow!(
            "{}: not a complete run directory (no {MODEL_SAFETENSORS} and no {SERIES_DIR}/)",
            run.display()
        )));
    }
    if series_count != 1 {
        return Err(usage(anyhow!(
            "{}: a one-series run; its models forecast the series they were trained on, and the \
             data holds {series_count} series",
            run.display()
        )));
    }
    Ok(model)
}

/// The next-day forecast of every series of `panel` by its own models in the run directory `run`
/// (see [`run_model`]), in the panel's order: `(series, date, forecast)`.
pub fn predict_run(
    run: &Path,
    panel: &[NamedSeries],
) -> Result<Vec<(String, chrono::NaiveDate, Forecast)>, Failure> {
    panel
        .iter()
        .map(|s| {
            let model = run_model(run, &s.name, panel.len())?;
            let (date, forecast) = predict(&model, &s.series)?;
            Ok((s.name.clone(), date, forecast))
        })
        .collect()
}

/// The features and target a saved model reads, and its look-back: `(features, target, lookback)`.
pub fn model_inputs(model: &Path) -> Result<(Vec<String>, String, usize), Failure> {
    let loaded = crate::checkpoint::load_models(model).map_err(usage)?;
    Ok((loaded.feature_names, loaded.target_name, loaded.lookback))
}

/// The adapters `gpulstm devices` lists: the table it prints, and every adapter's summary as JSON
/// (a list of objects, one field per [`crate::gpu::AdapterSummary`] field), from one enumeration.
pub fn devices() -> Result<(String, String), Failure> {
    let adapters = crate::gpu::list_adapters();
    let json = serde_json::to_string(&adapters).map_err(|e| runtime(anyhow!("adapters: {e}")))?;
    Ok((super::devices_table(&adapters), json))
}
