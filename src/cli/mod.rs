//! The `gpulstm` command line: clap definitions and what each subcommand does.
//!
//! Exit codes: 0 success; 2 for anything the user can fix in the command or the input (a bad flag value,
//! a malformed CSV cell, an output directory that already holds results, no GPU adapter when one is
//! required); 1 for failures while running (a backend error, a file that cannot be written, a failed
//! GPU check). [`Failure`] carries the distinction to `main`, which prints the message.

mod merge;
mod train_plan;
mod train_run;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::data::{self, panel, LoadOptions, NamedSeries, Series};
use crate::fit::AdamConfig;
use crate::gpu::{self, AdapterSummary, GpuError};
use crate::model::{ModelSpec, ParamLayout, DEFAULT_LAYERS};

use crate::report::evaluate::{next_trading_day, RunConfig};
use crate::report::files;
use crate::report::panel::PanelEvaluation;
use crate::train::backend::{self, Backend};
use crate::train::protocol;
use crate::train::PanelResult;
use crate::train::{Shard, Trainer};

/// Largest `--batch-size`: far above any useful batch for windows of a few hundred samples, and small
/// enough that a batch's activations stay within a GPU storage binding.
pub const MAX_BATCH_SIZE: usize = 4096;
/// Largest `--epochs`: keeps the seed protocol's epoch counter (epochs × splits, the shuffle stream) well
/// inside 32 bits.
pub const MAX_EPOCHS: usize = 100_000;

/// Why a command failed, and so which exit code it gets.
#[derive(Debug)]
pub enum Failure {
    /// The user's command or input is wrong (exit 2).
    Usage(anyhow::Error),
    /// Running failed (exit 1).
    Runtime(anyhow::Error),
    /// Stopped by SIGINT/SIGTERM at a safe point; resumable (exit 130, as a shell reports a Ctrl-C).
    Interrupted(anyhow::Error),
}

impl Failure {
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) => 2,
            Failure::Runtime(_) => 1,
            Failure::Interrupted(_) => 130,
        }
    }

    pub fn error(&self) -> &anyhow::Error {
        match self {
            Failure::Usage(e) | Failure::Runtime(e) | Failure::Interrupted(e) => e,
        }
    }

    /// The error and its causes on one line, "what we did: why it failed". A cause whose text the
    /// message already contains is skipped: several error types (the data loader's I/O error among
    /// them) put their source into their own message and would otherwise print it twice.
    pub fn message(&self) -> String {
        let mut message = String::new();
        for cause in self.error().chain() {
            let text = cause.to_string();
            if message.contains(&text) {
                continue;
            }
            if !message.is_empty() {
                message.push_str(": ");
            }
            message.push_str(&text);
        }
        message
    }
}

fn usage(e: impl Into<anyhow::Error>) -> Failure {
    Failure::Usage(e.into())
}

fn runtime(e: impl Into<anyhow::Error>) -> Failure {
    Failure::Runtime(e.into())
}

/// Stacked-LSTM forecasters trained by WGSL compute shaders (wgpu), checked against a CPU reference.
#[derive(Debug, Parser)]
#[command(name = "gpulstm", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train on rolling or expanding windows and write metrics, tables and the next-day forecast.
    Train(Box<TrainArgs>),
    /// List the GPU adapters wgpu can see and their limits.
    Devices,
    /// Run every CPU-engine op and every GPU kernel against the f64 reference and print the differences.
    Check(CheckArgs),
    /// Time the GPU kernels' block shapes for a model's products on this adapter and cache the fastest.
    Tune(TuneArgs),
    /// Print the next-day forecast of a saved model on a data file.
    Predict(PredictArgs),
    /// Join the shard directories of a `train --shard I/N` run into one run directory.
    Merge(merge::MergeArgs),
}

/// Which CSV to read and how (shared by `train` and `predict`).
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// CSV file (Nasdaq download, Yahoo style, or any file with a date column and numeric columns).
    /// Several files, or a directory of CSV files, make a panel: one series per file, named by its
    /// file name. Default: the embedded public-domain AAPL 2000-2013 sample.
    #[arg(long, value_name = "FILE|DIR", num_args = 1.., action = clap::ArgAction::Append)]
    pub data: Vec<PathBuf>,
    /// A long-format --data file holding many series: the column naming each row's series (e.g.
    /// ticker).
    #[arg(long, value_name = "NAME")]
    pub id_column: Option<String>,
    /// Name of the date column (default: Date, Datetime or timestamp).
    #[arg(long, value_name = "NAME")]
    pub date_column: Option<String>,
    /// Feature columns in the order the model reads them (default: every numeric column).
    #[arg(long, value_name = "A,B,..", value_delimiter = ',')]
    pub features: Option<Vec<String>>,
    /// Column to predict (default: Close or Close/Last).
    #[arg(long, value_name = "NAME")]
    pub target: Option<String>,
    /// Keep raw prices when the file has an Adj Close column (default: adjust for splits/dividends).
    #[arg(long)]
    pub no_adjust: bool,
    /// Field separator: one character, `tab` for a tab [default: ,].
    #[arg(long, value_name = "CHAR", value_parser = delimiter)]
    pub delimiter: Option<u8>,
    /// Decimal mark of the numbers: `.` or `,` (with `,`, dots and spaces are thousands separators, as
    /// in 1.234,50; it needs another --delimiter, usually `;`) [default: .].
    #[arg(long, value_name = "CHAR", value_parser = ["." , ","])]
    pub decimal: Option<String>,
}

/// `--from`/`--to`: an ISO date.
fn iso_date(s: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("\"{s}\" is not a date of the form YYYY-MM-DD"))
}

/// `--delimiter`: a single ASCII character (or `tab`).
fn delimiter(s: &str) -> Result<u8, String> {
    match s {
        "tab" | "\\t" => Ok(b'\t'),
        _ if s.len() == 1 && s.is_ascii() => Ok(s.as_bytes()[0]),
        _ => Err(format!(
            "\"{s}\" is not one ASCII character (use `tab` for a tab)"
        )),
    }
}

impl DataArgs {
    pub fn options(&self) -> LoadOptions {
        LoadOptions {
            date_column: self.date_column.clone(),
            features: self
                .features
                .as_ref()
                .map(|f| f.iter().map(|s| s.trim().to_string()).collect()),
            target: self.target.clone(),
            adjust: !self.no_adjust,
            delimiter: self.delimiter.unwrap_or(b','),
            decimal: if self.decimal.as_deref() == Some(",") {
                ','
            } else {
                '.'
            },
        }
    }

    /// Loads every series `--data` names, or the embedded sample without it. Errors are the user's to
    /// fix.
    pub fn load_panel(&self, opts: &LoadOptions) -> Result<Vec<NamedSeries>, Failure> {
        if opts.decimal == ',' && opts.delimiter == b',' {
            return Err(usage(anyhow!(
                "--decimal ',' needs another field separator: add --delimiter ';' (or the one the file uses)"
            )));
        }
        if self.data.is_empty() {
            if self.id_column.is_some() {
                return Err(usage(anyhow!(
                    "--id-column needs a long-format --data file"
                )));
            }
            return Ok(vec![NamedSeries {
                name: data::SAMPLE_SERIES.to_string(),
                series: data::load_sample(opts).map_err(usage)?,
            }]);
        }
        let source = panel::panel_source(&self.data, self.id_column.as_deref()).map_err(usage)?;
        panel::load_panel(&source, opts).map_err(usage)
    }

    /// Loads the one series a command works on (`predict`, `tune`).
    pub fn load(&self, opts: &LoadOptions) -> Result<Series, Failure> {
        let mut panel = self.load_panel(opts)?;
        if panel.len() != 1 {
            return Err(usage(anyhow!(
                "--data: this command reads one series, the data holds {} ({})",
                panel.len(),
                panel
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Ok(panel.remove(0).series)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WindowArg {
    Rolling,
    Expanding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScalerArg {
    /// Fitted on each split's training rows (no look-ahead).
    Train,
    /// Fitted on the whole series (the report's; leaks the future range).
    Global,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProtocolArg {
    /// Every split trains its own model (default).
    WalkForward,
    /// The report's loop: one model carried across the splits.
    Seed,
}

/// `--limits`: which limits the GPU device is opened with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LimitsArg {
    /// The adapter's own limits.
    Adapter,
    /// The WebGPU defaults (`wgpu::Limits::default()`): what any Vulkan, Metal or DX12 GPU offers.
    #[value(name = "webgpu")]
    WebGpu,
}

impl LimitsArg {
    pub fn set(self) -> gpu::LimitSet {
        match self {
            LimitsArg::Adapter => gpu::LimitSet::Adapter,
            LimitsArg::WebGpu => gpu::LimitSet::WebGpu,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// A hardware GPU if one is found, else the CPU engine (a software adapter alone, such as
    /// lavapipe, is used only when asked for with `--backend gpu`).
    Auto,
    /// The CPU engine (f32, SIMD, all cores).
    Cpu,
    /// The f64 reference every engine is checked against (slow; never chosen by `auto`).
    Reference,
    /// The GPU; fail if there is no adapter.
    Gpu,
}

/// A parser for whole numbers in `[min, max]` whose errors say what is allowed. Negative numbers reach
/// it (the flags set `allow_negative_numbers`) so that `--epochs -1` is reported as out of range rather
/// than as an unknown flag.
fn whole(
    min: u64,
    max: u64,
) -> impl Fn(&str) -> Result<u64, String> + Clone + Send + Sync + 'static {
    move |text: &str| {
        let value: i128 = text
            .trim()
            .parse()
            .map_err(|_| format!("expected a whole number from {min} to {max}"))?;
        if value < min as i128 {
            Err(format!("must be at least {min}"))
        } else if value > max as i128 {
            Err(format!("must be at most {max}"))
        } else {
            Ok(value as u64)
        }
    }
}

fn count(
    min: usize,
    max: usize,
) -> impl Fn(&str) -> Result<usize, String> + Clone + Send + Sync + 'static {
    let parse = whole(min as u64, max as u64);
    move |text: &str| parse(text).map(|v| v as usize)
}

fn learning_rate(text: &str) -> Result<f64, String> {
    let lr: f64 = text
        .trim()
        .parse()
        .map_err(|_| "expected a number such as 0.001".to_string())?;
    if !lr.is_finite() || lr <= 0.0 {
        return Err("must be a finite number greater than 0".to_string());
    }
    Ok(lr)
}

/// `gpulstm train`.
#[derive(Debug, Clone, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Rows of history per sample.
    #[arg(long, default_value_t = 60, value_parser = count(1, usize::MAX), allow_negative_numbers = true)]
    pub lookback: usize,
    /// Training samples per split.
    #[arg(long, default_value_t = 200, value_parser = count(1, usize::MAX), allow_negative_numbers = true)]
    pub train_window: usize,
    /// Validation samples per split.
    #[arg(long, default_value_t = 10, value_parser = count(1, usize::MAX), allow_negative_numbers = true)]
    pub val_window: usize,
    /// Samples between the starts of consecutive splits.
    #[arg(long, default_value_t = 1, value_parser = count(1, usize::MAX), allow_negative_numbers = true)]
    pub step: usize,
    /// Training window shape.
    #[arg(long, value_enum, default_value_t = WindowArg::Rolling)]
    pub window: WindowArg,
    /// Run only the first (oldest) N splits; their models never saw the newest data.
    #[arg(long, value_name = "N", value_parser = count(1, usize::MAX), allow_negative_numbers = true, conflicts_with = "last_splits")]
    pub max_splits: Option<usize>,
    /// Run only the newest N splits (the quick way to a current forecast).
    #[arg(long, value_name = "N", value_parser = count(1, usize::MAX), allow_negative_numbers = true)]
    pub last_splits: Option<usize>,
    /// Run only the splits whose validation days fall on or after this date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = iso_date)]
    pub from: Option<chrono::NaiveDate>,
    /// Run only the splits whose validation days fall on or before this date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = iso_date)]
    pub to: Option<chrono::NaiveDate>,
    /// Scaler fit [default: train; global with --protocol seed].
    #[arg(long, value_enum)]
    pub scaler: Option<ScalerArg>,
    /// What is trained on what.
    #[arg(long, value_enum, default_value_t = ProtocolArg::WalkForward)]
    pub protocol: ProtocolArg,
    /// Layer stack: lstm:UNITS[:seq], dropout:RATE, dense:UNITS, ending with dense:1.
    #[arg(long, value_name = "SPEC", default_value = DEFAULT_LAYERS)]
    pub layers: String,
    /// Most epochs per split.
    #[arg(long, default_value_t = 10, value_parser = count(1, MAX_EPOCHS), allow_negative_numbers = true)]
    pub epochs: usize,
    /// Samples per Adam step.
    #[arg(long, default_value_t = 10, value_parser = count(1, MAX_BATCH_SIZE), allow_negative_numbers = true)]
    pub batch_size: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = 0.001, value_parser = learning_rate, allow_negative_numbers = true)]
    pub lr: f64,
    /// Early stopping: epochs without a validation improvement before stopping.
    #[arg(long, default_value_t = 5, value_parser = count(0, MAX_EPOCHS), allow_negative_numbers = true)]
    pub patience: usize,
    /// Seed of every random choice (initial weights, shuffles, dropout).
    #[arg(long, default_value_t = 42, value_parser = whole(0, u64::MAX), allow_negative_numbers = true)]
    pub seed: u64,
    /// Walk-forward forecast: ensemble of the last K splits' models.
    #[arg(long, value_name = "K", default_value_t = 10, value_parser = count(1, usize::MAX), allow_negative_numbers = true)]
    pub ensemble_last: usize,
    /// Train K models per split, seeded --seed, --seed + 1, …, in the same batch: each split predicts
    /// their mean, and the report shows how much the scores vary from seed to seed.
    #[arg(long, value_name = "K", default_value_t = 1, value_parser = count(1, 10_000), allow_negative_numbers = true)]
    pub seeds: usize,
    /// Train only share I of N (0 ≤ I < N) of the walk-forward models, by series and split, into a
    /// shard directory; `gpulstm merge` joins the N shards into the run's results.
    #[arg(long, value_name = "I/N", value_parser = Shard::parse)]
    pub shard: Option<Shard>,
    /// Training backend.
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    pub backend: BackendArg,
    /// Train at most N walk-forward models at a time (bounds GPU memory, and what an interruption can
    /// lose); results do not depend on it [default: what the backend holds at once].
    #[arg(long, value_name = "N", value_parser = count(1, usize::MAX), allow_negative_numbers = true)]
    pub max_models_per_chunk: Option<usize>,
    /// Use the first GPU adapter whose name contains this (case-insensitive), or the first of a backend:
    /// vulkan, metal, dx12 or gl (GL adapters are used only when named so); `all`: every hardware
    /// adapter, each training a share of every chunk.
    #[arg(long, value_name = "SUBSTRING")]
    pub adapter: Option<String>,
    /// GPU limits to plan with: the adapter's own, or the WebGPU defaults any Vulkan/Metal/DX12 GPU offers
    /// (tiles and models per chunk follow; results do not change).
    #[arg(long, value_enum, default_value_t = LimitsArg::Adapter)]
    pub limits: LimitsArg,
    /// Start every model from this checkpoint's weights instead of the seeded initialisation (from a
    /// walk-forward checkpoint: its newest model, the last split's; the checkpoint's scaler is not used).
    #[arg(long, value_name = "FILE")]
    pub init_weights: Option<PathBuf>,
    /// Output directory [default: runs/<YYYYmmdd-HHMMSS>-<protocol>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Overwrite the result files of an earlier run in --out (nothing else there is touched).
    #[arg(long)]
    pub force: bool,
    /// No progress output.
    #[arg(long)]
    pub quiet: bool,
    /// Continue the interrupted run in DIR with the configuration it recorded (only --backend, --adapter,
    /// --limits and --quiet may be given with it).
    #[arg(long, value_name = "DIR")]
    pub resume: Option<PathBuf>,
}

/// `gpulstm check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Use the first GPU adapter whose name contains this (case-insensitive), or the first of a backend:
    /// vulkan, metal, dx12 or gl (GL adapters are used only when named so).
    #[arg(long, value_name = "SUBSTRING")]
    pub adapter: Option<String>,
    /// GPU limits to open the device with: the adapter's own, or the WebGPU defaults.
    #[arg(long, value_enum, default_value_t = LimitsArg::Adapter)]
    pub limits: LimitsArg,
    /// Seed of the random shapes (default: a fresh one, printed, so a failure can be rerun).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
}

/// `gpulstm tune`: the products depend on the data's feature count, the layers, the look-back and the
/// batch, so it takes the same flags as `train` for them.
#[derive(Debug, Clone, Args)]
pub struct TuneArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Layer stack, as for `train`.
    #[arg(long, value_name = "SPEC", default_value = DEFAULT_LAYERS)]
    pub layers: String,
    /// Rows of history per sample, as for `train`.
    #[arg(long, default_value_t = 60, value_parser = count(1, usize::MAX), allow_negative_numbers = true)]
    pub lookback: usize,
    /// Samples per Adam step, as for `train`.
    #[arg(long, default_value_t = 10, value_parser = count(1, MAX_BATCH_SIZE), allow_negative_numbers = true)]
    pub batch_size: usize,
    /// Models per timed dispatch [default: what one engine holds on this adapter, at most 64].
    #[arg(long, value_name = "N", value_parser = count(1, 65_535), allow_negative_numbers = true)]
    pub models: Option<usize>,
    /// Use the first GPU adapter whose name contains this (case-insensitive).
    #[arg(long, value_name = "SUBSTRING")]
    pub adapter: Option<String>,
}

/// `gpulstm predict`.
#[derive(Debug, Clone, Args)]
pub struct PredictArgs {
    /// A model.safetensors written by `gpulstm train`.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Train(args) => train(&args),
        Command::Devices => devices(),
        Command::Check(args) => check(&args),
        Command::Tune(args) => tune(&args),
        Command::Predict(args) => predict(&args),
        Command::Merge(args) => merge::merge(&args),
    }
}

/// Prints to stdout; a closed stdout (`gpulstm devices | head -1`) is not an error worth a panic.
fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Prints one line to stderr, ignoring a closed stderr.
fn warn(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

// ---------------------------------------------------------------------------------------------------
// train

/// `predict`'s version of `train`'s stale-forecast warning: the data runs on past the last day the
/// checkpoint's models trained or validated on.
fn stale_models(series: &Series, trained_through: Option<&str>) -> Option<String> {
    let through = chrono::NaiveDate::parse_from_str(trained_through?, "%Y-%m-%d").ok()?;
    let after = series.dates.iter().filter(|&&d| d > through).count();
    crate::report::stale::is_stale(after).then(|| {
        format!(
            "the models were trained on data up to {through}, {after} rows before this data ends: they \
             forecast from prices they were never trained near (train again, e.g. with --last-splits)"
        )
    })
}

/// The backend `--backend` asks for, by the library's policy ([`crate::train::backend`]); `auto`'s
/// reason for the CPU engine is printed and added to `notes`.
fn pick_trainer(
    backend: BackendArg,
    (adapter, limits): (Option<&str>, LimitsArg),
    notes: &mut Vec<String>,
    quiet: bool,
) -> Result<Box<dyn Trainer>, Failure> {
    let before = notes.len();
    let choice = match backend {
        BackendArg::Auto => Backend::Auto,
        BackendArg::Cpu => Backend::Cpu,
        BackendArg::Gpu => Backend::Gpu,
        BackendArg::Reference => Backend::Reference,
    };
    let trainer = backend::open(choice, adapter, &limits.set(), notes).map_err(|e| match e {
        GpuError::NoAdapter { .. } => usage(e),
        other => runtime(other),
    })?;
    if !quiet {
        for note in &notes[before..] {
            warn(note);
        }
    }
    Ok(trainer)
}

fn train(args: &TrainArgs) -> Result<(), Failure> {
    match &args.resume {
        Some(dir) => train_run::resume(args, dir),
        None => {
            if let Some(out) = &args.out {
                train_run::refuse_unfinished(out, args.force)?;
            }
            let plan = train_plan::plan(args)?;
            let run_dir = train_run::start(args, &plan)?;
            train_run::execute(args, plan, run_dir)
        }
    }
}

/// The human-facing outputs beside the machine-readable files: report.md, the checkpoints and the
/// plots (a panel's per-series ones in `series/<name>/`, and its skill plot). Returns the files written,
/// relative to `dir`.
fn write_extras(
    dir: &Path,
    panel: &[NamedSeries],
    evaluation: &PanelEvaluation,
    result: &PanelResult,
    config: &RunConfig,
    overwrite: bool,
) -> anyhow::Result<Vec<String>> {
    let relative = |p: &Path| p.strip_prefix(dir).unwrap_or(p).display().to_string();
    let mut names = vec![relative(&crate::report::markdown::write(
        dir, evaluation, config,
    )?)];
    let spec = &config.spec;
    for ((named, eval), r) in panel.iter().zip(&evaluation.series).zip(&result.series) {
        let sub = if panel.len() == 1 {
            dir.to_path_buf()
        } else {
            dir.join(files::series_dir(&named.name))
        };
        std::fs::create_dir_all(&sub)
            .map_err(|e| anyhow!("cannot create {}: {e}", sub.display()))?;
        let models = &r.ensemble.forecast_models;
        // Every forecast model diverged: there is nothing worth saving (the report says so).
        if !models.is_empty() {
            let path = sub.join(files::MODEL_SAFETENSORS);
            crate::checkpoint::save(
                &path,
                &spec.layout,
                spec.splits.lookback,
                &named.series.feature_names,
                &named.series.target_name,
                spec.protocol.as_str(),
                models,
                Some(&eval.forecast.last_window_date),
                overwrite,
            )?;
            names.push(relative(&path));
        }
        names.extend(
            crate::report::plots::write_all(&sub, eval)?
                .iter()
                .map(|p| relative(p)),
        );
    }
    if panel.len() > 1 {
        names.extend(
            crate::report::skill_plot::write(dir, evaluation)?
                .iter()
                .map(|p| relative(p)),
        );
    }
    Ok(names)
}

// ---------------------------------------------------------------------------------------------------
// devices, check

fn bytes(n: u64) -> String {
    const KIB: u64 = 1024;
    if n >= KIB * KIB * KIB && n.is_multiple_of(KIB * KIB * KIB) {
        format!("{} GiB", n / (KIB * KIB * KIB))
    } else if n >= KIB * KIB {
        format!("{:.0} MiB", n as f64 / (KIB * KIB) as f64)
    } else if n >= KIB {
        format!("{:.0} KiB", n as f64 / KIB as f64)
    } else {
        format!("{n} B")
    }
}

/// The `gpulstm devices` table (also used by tests through the binary).
pub fn devices_table(adapters: &[AdapterSummary]) -> String {
    if adapters.is_empty() {
        return "no adapters found: install a Vulkan, Metal or DX12 driver (on Linux without a GPU: \
                `apt-get install mesa-vulkan-drivers libvulkan1` for the lavapipe software adapter); \
                `gpulstm train --backend cpu` runs without one\n"
            .to_string();
    }
    let header = [
        "#",
        "name",
        "backend",
        "type",
        "max storage binding",
        "workgroup storage",
        "timestamps",
    ];
    let rows: Vec<[String; 7]> = adapters
        .iter()
        .enumerate()
        .map(|(i, a)| {
            [
                i.to_string(),
                a.name.clone(),
                a.backend.clone(),
                a.device_type.clone(),
                bytes(a.max_storage_buffer_binding_size),
                bytes(a.max_compute_workgroup_storage_size as u64),
                if a.timestamp_queries { "yes" } else { "no" }.to_string(),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<&str>| -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(header.to_vec());
    for r in &rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    if adapters.iter().any(|a| a.opt_in) {
        out.push_str(
            "GL adapters run only when named (--adapter gl): the default choice and --backend auto \
             use Vulkan, Metal or DX12\n",
        );
    }
    out
}

fn devices() -> Result<(), Failure> {
    say(&devices_table(&gpu::list_adapters()));
    Ok(())
}

/// Opens the adapter `filter` names: no adapter is the user's to fix, anything else a runtime failure.
fn open_gpu(filter: Option<&str>) -> Result<gpu::Gpu, Failure> {
    gpu::Gpu::new(filter).map_err(|e| match e {
        GpuError::NoAdapter { .. } => usage(e),
        other => runtime(other),
    })
}

/// What the engine rests on for `gpu`: every limit it plans from (on the device, on the adapter, what the
/// kernels need, what it decides), the features it uses, and the plan for the main job (the report's
/// model at `train`'s defaults on the embedded sample). A report from any GPU carries all of it.
fn relied_on(gpu: &gpu::Gpu) -> Result<String, Failure> {
    let mut out = format!(
        "limits the device was opened with: {}\n",
        gpu::plan::limit_set_note(&gpu.limit_set)
    );
    let uses = gpu::plan::limit_uses(&gpu.limits, &gpu.adapter_limits);
    let name_w = uses.iter().map(|u| u.name.len()).max().unwrap_or(0);
    let show = |name: &str, v: u64| {
        if name.ends_with("_size") && v >= 1024 {
            bytes(v)
        } else {
            v.to_string()
        }
    };
    out.push_str(&format!(
        "  {:<name_w$}  {:>10}  {:>10}  {:>6}  decides\n",
        "limit", "device", "adapter", "needs"
    ));
    for u in &uses {
        out.push_str(&format!(
            "  {:<name_w$}  {:>10}  {:>10}  {:>6}  {}\n",
            u.name,
            show(u.name, u.device),
            show(u.name, u.adapter),
            u.needs.map(|n| n.to_string()).unwrap_or_else(|| "-".into()),
            u.drives
        ));
    }
    out.push_str("features the engine requests where present:\n");
    for f in gpu::plan::feature_uses(gpu) {
        out.push_str(&format!(
            "  {:<name_w$}  {:>10}  {}\n",
            f.name,
            if f.present { "yes" } else { "no" },
            f.used_for
        ));
    }
    // The main job's shapes from `train`'s own defaults, so this stays what `gpulstm train` runs.
    let defaults = match Cli::try_parse_from(["gpulstm", "train"]).map(|c| c.command) {
        Ok(Command::Train(t)) => t,
        _ => return Err(runtime(anyhow!("train's defaults do not parse"))),
    };
    let series = defaults.data.load(&defaults.data.options())?;
    let spec = ModelSpec::parse(&defaults.layers, series.feature_names.len()).map_err(runtime)?;
    let layout = ParamLayout::new(&spec);
    let tiles = gpu::tiles::Tiles::for_gpu(gpu);
    let plan = gpu::plan::plan(
        &gpu.limits,
        &tiles,
        &layout,
        defaults.batch_size,
        defaults.lookback,
    );
    out.push_str(&format!(
        "plan for the main job ({}, batch {}, look-back {}, {} features; {:?} block shapes):\n  \
         {} models per chunk ({} per model in the largest buffer)\n",
        spec.to_spec_string(),
        defaults.batch_size,
        defaults.lookback,
        series.feature_names.len(),
        tiles.class,
        plan.models_per_chunk,
        bytes(plan.per_model_bytes)
    ));
    let key_w = plan
        .tiles
        .iter()
        .map(|(p, _, _)| p.key().len())
        .max()
        .unwrap_or(0);
    for (product, tile, source) in &plan.tiles {
        out.push_str(&format!(
            "  {:<key_w$}  {:<7}  {}\n",
            product.key(),
            source,
            tile.map(|t| t.to_string())
                .unwrap_or_else(|| "no workgroup this device allows covers it".into())
        ));
    }
    Ok(out)
}

fn check(args: &CheckArgs) -> Result<(), Failure> {
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() % 100_000)
            .unwrap_or(0)
    });
    say(&format!(
        "shapes (--seed {seed}): {}\n",
        gpu::check::Problem::random(seed).describe()
    ));
    let paths: Vec<&str> = crate::cpu::simd::Isa::available()
        .iter()
        .map(|i| i.name())
        .collect();
    let twins: Vec<String> = crate::cpu::check::op_checks()
        .iter()
        .map(|(op, twin, _)| format!("  {op:<14} against {twin}"))
        .collect();
    say(&format!(
        "CPU engine ops (on every SIMD path of this CPU: {}) and their reference twins:\n{}\n",
        paths.join(", "),
        twins.join("\n")
    ));
    let mut results = crate::cpu::check::run_all(seed);
    let mut checked = vec!["the CPU engine".to_string()];
    match gpu::Gpu::open(args.adapter.as_deref(), &args.limits.set()) {
        Ok(gpu) => {
            say(&format!(
                "adapter: {} ({}, {}), driver {}\n",
                gpu.summary.name, gpu.summary.backend, gpu.summary.device_type, gpu.summary.driver
            ));
            say(&relied_on(&gpu)?);
            let twins: Vec<String> = gpu::check::kernel_checks()
                .iter()
                .map(|(family, twin, _)| format!("  {family:<14} against {twin}"))
                .collect();
            say(&format!(
                "kernel families and their CPU twins:\n{}\n",
                twins.join("\n")
            ));
            results.extend(gpu::check::run_all(&gpu, seed).map_err(runtime)?);
            checked.push(gpu.summary.name.clone());
        }
        Err(e @ GpuError::NoAdapter { filter: Some(_) }) => return Err(usage(e)),
        Err(GpuError::NoAdapter { filter: None }) => {
            say("no GPU adapter: the WGSL kernels were not checked\n");
        }
        Err(other) => return Err(runtime(other)),
    }
    // Column widths from the longest entry, so the numbers line up whatever the check names are.
    let kernel_w = results
        .iter()
        .map(|r| r.kernel.chars().count())
        .max()
        .unwrap_or(0);
    let what_w = results
        .iter()
        .map(|r| r.what.chars().count())
        .max()
        .unwrap_or(0);
    let mut text = String::from(
        "pass rule (numpy allclose): every element |engine − f64 reference| ≤ abs + rel·|reference|; \
         margin = the largest error ÷ its allowance (< 1 passes)\n",
    );
    for r in &results {
        text.push_str(&format!(
            "{:<4} {:<kernel_w$}  {:<what_w$}  n={:<7} margin {:<8} max_abs {:<9} (allowed abs {:.0e} + rel {:.0e})\n",
            if r.pass { "ok" } else { "FAIL" },
            r.kernel,
            r.what,
            r.elements,
            format!("{:.3}", r.margin),
            format!("{:.2e}", r.max_abs),
            r.abs_tol,
            r.rel_tol
        ));
    }
    let failed = results.iter().filter(|r| !r.pass).count();
    text.push_str(&format!(
        "{} passed, {failed} failed\n",
        results.len() - failed
    ));
    say(&text);
    if failed > 0 {
        return Err(runtime(anyhow!(
            "{failed} of {} checks failed on {}",
            results.len(),
            checked.join(" and ")
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------
// tune

fn tune(args: &TuneArgs) -> Result<(), Failure> {
    let started = std::time::Instant::now();
    let series = args.data.load(&args.data.options())?;
    let spec = ModelSpec::parse(&args.layers, series.feature_names.len())
        .map_err(|e| usage(anyhow!("--layers: {e}")))?;
    let layout = ParamLayout::new(&spec);
    let gpu = open_gpu(args.adapter.as_deref())?;
    let per_engine =
        gpu::engine::max_models_per_engine(&gpu, &layout, args.batch_size, args.lookback);
    let models = args
        .models
        .unwrap_or(per_engine.min(64))
        .min(per_engine)
        .max(1);
    let products = tune_products(&gpu, &layout, args).map_err(runtime)?;
    say(&format!(
        "tuning {} products of {} (batch {}, look-back {}) for {models} models on {} ({}, driver {})\n",
        products.len(),
        spec.to_spec_string(),
        args.batch_size,
        args.lookback,
        gpu.summary.name,
        gpu.summary.device_type,
        gpu.summary.driver
    ));
    let tuned = gpu::tune::tune(&gpu, &products, models, |t| {
        let rate = |ms: f64| t.product.flops() * t.models as f64 / ms / 1e6;
        say(&format!(
            "{:<28} {:>3} tried  default {} {:.2} ms ({:.2} GFLOP/s)  best {} {:.2} ms ({:.2} GFLOP/s)\n",
            t.product.key(),
            t.tried,
            t.default.0,
            t.default.1,
            rate(t.default.1),
            t.best.0,
            t.best.1,
            rate(t.best.1)
        ));
    })
    .map_err(runtime)?;
    let path = gpu::tune::save(&gpu, &tuned)
        .map_err(|e| runtime(anyhow!("writing the tile cache: {e}")))?;
    say(&format!(
        "cached the winners in {} ({:.1} s); `gpulstm train --backend gpu` on this adapter uses them\n",
        path.display(),
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// The distinct products of a training step of `layout`, from a two-model engine built for it.
fn tune_products(
    gpu: &gpu::Gpu,
    layout: &ParamLayout,
    args: &TuneArgs,
) -> Result<Vec<gpu::tiles::Product>, GpuError> {
    let f = layout.spec.input_size;
    let rows = args.lookback + 2;
    let shape = gpu::EngineShape {
        models: 2,
        batch: args.batch_size,
        lookback: args.lookback,
        features: f,
        max_train_len: 1,
        max_eval_len: 1,
        epochs: 1,
    };
    let optim = gpu::Optim {
        adam: AdamConfig::default(),
        patience: 1,
    };
    let engine = gpu::BatchEngine::new(
        gpu,
        layout,
        shape,
        &optim,
        &gpu::tiles::Tiles::defaults(gpu),
        (&vec![0.0; rows * f], &vec![0.0; rows]),
    )?;
    Ok(gpu::tune::step_products(&engine))
}

// ---------------------------------------------------------------------------------------------------
// predict

fn predict(args: &PredictArgs) -> Result<(), Failure> {
    let loaded = crate::checkpoint::load_models(&args.model).map_err(usage)?;
    // Without explicit column flags, read the columns the models were trained on, in their order.
    let mut opts = args.data.options();
    let implied = opts.features.is_none() || opts.target.is_none();
    if opts.features.is_none() {
        opts.features = Some(loaded.feature_names.clone());
    }
    if opts.target.is_none() {
        opts.target = Some(loaded.target_name.clone());
    }
    let series = args.data.load(&opts).map_err(|f| match f {
        Failure::Usage(e) if implied => usage(e.context(format!(
            "reading the columns the models were trained on (features {}; target {}; pass --features \
             and --target to read columns named differently)",
            loaded.feature_names.join(","),
            loaded.target_name
        ))),
        other => other,
    })?;
    let inputs = loaded.layout.spec.input_size;
    if series.feature_names.len() != inputs {
        return Err(usage(anyhow!(
            "{}: the models read {inputs} features ({}) but --features selects {} ({})",
            args.model.display(),
            loaded.feature_names.join(", "),
            series.feature_names.len(),
            series.feature_names.join(", ")
        )));
    }
    if series.len() < loaded.lookback {
        return Err(usage(anyhow!(
            "{}: {} rows, but the models need the last {} rows (their look-back)",
            series.source,
            series.len(),
            loaded.lookback
        )));
    }
    let raw = protocol::raw_data(&series, loaded.lookback);
    let forecast = protocol::forecast(&raw, &loaded.layout, &loaded.models).map_err(runtime)?;

    let last = series.len() - 1;
    let ids: Vec<String> = loaded
        .models
        .iter()
        .map(|m| m.model_id.to_string())
        .collect();
    let mut text = format!(
        "model: {} ({} protocol, {} model{} [split {}], layers {}, look-back {}, gpulstm {})\n",
        args.model.display(),
        loaded.protocol,
        loaded.models.len(),
        crate::report::format::plural(loaded.models.len()),
        ids.join(", "),
        loaded.layout.spec.to_spec_string(),
        loaded.lookback,
        loaded.gpulstm_version
    );
    // The same words and number formats as `train`'s summary.
    use crate::report::format::{dollars, sig};
    use crate::report::summary::adjusted_note;
    text.push_str(&format!(
        "data:  {} ({} .. {}, {} rows); last {} {}{} on {}\n",
        series.source,
        series.dates[0],
        series.dates[last],
        series.len(),
        series.target_name,
        dollars(series.target[last]),
        adjusted_note(series.raw_last_target),
        series.dates[last]
    ));
    text.push_str(&format!(
        "forecast: {} close {}",
        next_trading_day(series.dates[last]),
        dollars(forecast.mean)
    ));
    if forecast.members.len() > 1 {
        text.push_str(&format!(
            " (mean of {} models: min {}, max {}, std {})",
            forecast.members.len(),
            dollars(forecast.min),
            dollars(forecast.max),
            sig(forecast.std, 3)
        ));
    }
    text.push_str(" (next weekday; holidays not modelled)\n");
    if let Some(warning) = stale_models(&series, loaded.trained_through.as_deref()) {
        text.push_str(&format!("          warning: {warning}\n"));
    }
    say(&text);
    Ok(())
}
