//! The command line's clap definitions: the subcommands, their arguments, the value enums and the
//! parsers whose errors say what a flag allows. Nothing here runs a command.

use std::path::PathBuf;

use anyhow::anyhow;
use clap::{Args, Parser, Subcommand, ValueEnum};

use super::common::{usage, Failure};
use crate::data::{self, panel, FeatureList, LoadOptions, NamedSeries, Series, SplitConfig};
use crate::fit::{AdamConfig, Hyper};
use crate::gpu;
use crate::model::DEFAULT_LAYERS;
use crate::report::evaluate::Scoring;
use crate::sweep::score::SweepScoring;
use crate::train::backend::Backend;
use crate::train::protocol::RunSpec;
use crate::train::Shard;

/// Largest `--batch-size`: far above any useful batch for windows of a few hundred samples, and small
/// enough that a batch's activations stay within a GPU storage binding.
pub const MAX_BATCH_SIZE: usize = 4096;
/// Largest `--epochs`: keeps the seed protocol's epoch counter (epochs × splits, the shuffle stream) well
/// inside 32 bits.
pub const MAX_EPOCHS: usize = 100_000;

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
    Merge(MergeArgs),
    /// Train a grid (or random draws) of configurations × every split × seeds, choose a configuration
    /// per split without look-ahead, and test the winner against the naive forecast for data snooping.
    Sweep(Box<SweepArgs>),
    /// Profile the GPU kernels on this adapter (the report's model): per-kernel times against
    /// same-shape yardsticks, start-up time, on-paper estimates for named GPUs.
    Bench(BenchArgs),
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
    /// Features in the order the model reads them: columns, or functions of them (return, log_return,
    /// diff, log, range(High,Low,Close), ratio, rolling_mean(X,n), rolling_std(X,n), day_of_week), e.g.
    /// 'log_return(Close),rolling_std(log_return(Close),20)' (default: every numeric column).
    #[arg(long, value_name = "A,B,..")]
    pub features: Option<String>,
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

/// Every series with `opts`' derived features computed (unchanged without them).
fn derive(panel: Vec<NamedSeries>, opts: &LoadOptions) -> Result<Vec<NamedSeries>, Failure> {
    let Some(list) = &opts.derive else {
        return Ok(panel);
    };
    panel
        .into_iter()
        .map(|n| {
            let series = list
                .derive(n.series)
                .map_err(|e| usage(anyhow!("series \"{}\": {e}", n.name)))?;
            Ok(NamedSeries { series, ..n })
        })
        .collect()
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
    /// The load options the flags say; a malformed `--features` is the user's to fix.
    pub fn options(&self) -> Result<LoadOptions, Failure> {
        let mut opts = LoadOptions {
            date_column: self.date_column.clone(),
            features: None,
            derive: None,
            target: self.target.clone(),
            adjust: !self.no_adjust,
            delimiter: self.delimiter.unwrap_or(b','),
            decimal: if self.decimal.as_deref() == Some(",") {
                ','
            } else {
                '.'
            },
        };
        if let Some(text) = &self.features {
            opts.select(FeatureList::parse(text).map_err(usage)?);
        }
        Ok(opts)
    }

    /// Loads every series `--data` names, or the embedded sample without it. Errors are the user's to
    /// fix.
    pub fn load_panel(&self, opts: &LoadOptions) -> Result<Vec<NamedSeries>, Failure> {
        self.load_panel_noted(opts).map(|(panel, _)| panel)
    }

    /// [`Self::load_panel`], with the loader's notes (columns a panel left out of some series).
    pub fn load_panel_noted(
        &self,
        opts: &LoadOptions,
    ) -> Result<(Vec<NamedSeries>, Vec<String>), Failure> {
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
            let series = data::load_sample(opts).map_err(usage)?;
            let sample = vec![NamedSeries {
                name: data::SAMPLE_SERIES.to_string(),
                series,
            }];
            return Ok((derive(sample, opts)?, Vec::new()));
        }
        let source = panel::panel_source(&self.data, self.id_column.as_deref()).map_err(usage)?;
        let (panel, notes) = panel::load_panel_noted(&source, opts).map_err(usage)?;
        Ok((derive(panel, opts)?, notes))
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

/// `--scaler-kind`: how each scaler is fitted ([`crate::data::ScalerKind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScalerKindArg {
    /// (x − min) / (max − min), to [0, 1] (the report's).
    Minmax,
    /// (x − mean) / std.
    Standard,
    /// (x − median) / IQR: little moved by outliers.
    Robust,
}

impl ScalerKindArg {
    pub fn kind(self) -> crate::data::ScalerKind {
        use crate::data::ScalerKind;
        match self {
            ScalerKindArg::Minmax => ScalerKind::MinMax,
            ScalerKindArg::Standard => ScalerKind::Standard,
            ScalerKindArg::Robust => ScalerKind::Robust,
        }
    }
}

/// `--target-transform`: what the models learn ([`crate::data::TargetTransform`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TransformArg {
    /// The next close itself (the report's).
    Level,
    /// Next close − last close.
    Diff,
    /// Next close / last close − 1.
    Return,
    /// ln(next close / last close).
    LogReturn,
}

impl TransformArg {
    pub fn transform(self) -> crate::data::TargetTransform {
        use crate::data::TargetTransform;
        match self {
            TransformArg::Level => TargetTransform::Level,
            TransformArg::Diff => TargetTransform::Diff,
            TransformArg::Return => TargetTransform::Return,
            TransformArg::LogReturn => TargetTransform::LogReturn,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProtocolArg {
    /// Every split trains its own model (default).
    WalkForward,
    /// The report's loop: one model carried across the splits.
    Seed,
}

/// `--early-stopping`: which Keras `EarlyStopping` the fits follow ([`crate::fit::EarlyStopRule`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EarlyStopArg {
    /// Keras 3.0-3.6: one callback reused by several fits keeps its best loss; best weights restored.
    #[value(name = "keras-3.6")]
    Keras36,
    /// Keras 3.7 and later: each fit starts from a reset best; best weights restored.
    #[value(name = "keras-3.7")]
    Keras37,
    /// tf.keras 2.x: reset per fit; best weights restored only when the patience ran out.
    #[value(name = "tf-keras-2")]
    TfKeras2,
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

impl BackendArg {
    pub fn backend(self) -> Backend {
        match self {
            BackendArg::Auto => Backend::Auto,
            BackendArg::Cpu => Backend::Cpu,
            BackendArg::Gpu => Backend::Gpu,
            BackendArg::Reference => Backend::Reference,
        }
    }
}

/// A parser for whole numbers in `[min, max]` whose errors say what is allowed. Negative numbers reach
/// it (the flags set `allow_negative_numbers`) so that `--epochs -1` is reported as out of range rather
/// than as an unknown flag.
pub(super) fn whole(
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

pub(super) fn count(
    min: usize,
    max: usize,
) -> impl Fn(&str) -> Result<usize, String> + Clone + Send + Sync + 'static {
    let parse = whole(min as u64, max as u64);
    move |text: &str| parse(text).map(|v| v as usize)
}

pub(super) fn learning_rate(text: &str) -> Result<f64, String> {
    let lr: f64 = text
        .trim()
        .parse()
        .map_err(|_| "expected a number such as 0.001".to_string())?;
    if !lr.is_finite() || lr <= 0.0 {
        return Err("must be a finite number greater than 0".to_string());
    }
    Ok(lr)
}

/// `--levels`: a nominal coverage in percent, strictly between 0 and 100.
fn level_percent(text: &str) -> Result<f64, String> {
    let v: f64 = text
        .trim()
        .parse()
        .map_err(|_| "expected a coverage in percent such as 80".to_string())?;
    if !(v > 0.0 && v < 100.0) {
        return Err("a coverage in percent is above 0 and below 100".to_string());
    }
    Ok(v)
}

/// A finite number ≥ 0 (`--ridge-lambda`, `--cost-bps`).
fn non_negative(text: &str) -> Result<f64, String> {
    let v: f64 = text
        .trim()
        .parse()
        .map_err(|_| "expected a number such as 1 or 0.5".to_string())?;
    if !v.is_finite() || v < 0.0 {
        return Err("must be a finite number of at least 0".to_string());
    }
    Ok(v)
}

/// `gpulstm train`.
#[derive(Debug, Clone, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Rows of history per sample.
    #[arg(long, default_value_t = SplitConfig::DEFAULT_LOOKBACK, value_parser = count(1, usize::MAX), allow_negative_numbers = true)]
    pub lookback: usize,
    /// Training samples per split.
    #[arg(long, default_value_t = SplitConfig::DEFAULT_TRAIN_WINDOW, value_parser = count(1, usize::MAX), allow_negative_numbers = true)]
    pub train_window: usize,
    /// Validation samples per split.
    #[arg(long, default_value_t = SplitConfig::DEFAULT_VAL_WINDOW, value_parser = count(1, usize::MAX), allow_negative_numbers = true)]
    pub val_window: usize,
    /// Samples between the starts of consecutive splits.
    #[arg(long, default_value_t = SplitConfig::DEFAULT_STEP, value_parser = count(1, usize::MAX), allow_negative_numbers = true)]
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
    /// How every scaler is fitted (on the rows --scaler says).
    #[arg(long, value_enum, default_value_t = ScalerKindArg::Minmax)]
    pub scaler_kind: ScalerKindArg,
    /// What the models learn; predictions go back to the price from the last close the model saw.
    #[arg(long, value_enum, default_value_t = TransformArg::Level)]
    pub target_transform: TransformArg,
    /// Penalty of the ridge baseline on the squared coefficients of its scaled inputs (intercept not
    /// penalised).
    #[arg(long, value_name = "L", default_value_t = Scoring::DEFAULT_RIDGE_LAMBDA, value_parser = non_negative, allow_negative_numbers = true)]
    pub ridge_lambda: f64,
    /// Trading view: cost in basis points charged per unit of turnover (a full switch from flat to
    /// long is 1 unit).
    #[arg(long, value_name = "BPS", default_value_t = Scoring::DEFAULT_COST_BPS, value_parser = non_negative, allow_negative_numbers = true)]
    pub cost_bps: f64,
    /// Trading view: go short when the predicted close is below the last close (default: flat).
    #[arg(long)]
    pub short: bool,
    /// Prediction intervals at these nominal coverages (percent), e.g. 80,95: walk-forward conformal
    /// intervals of the model and of the naive forecast, scored (coverage, width, Winkler) and written
    /// as lo-80/hi-80/.. columns of predictions.csv.
    #[arg(long, value_name = "P,P,..", value_delimiter = ',', value_parser = level_percent, allow_negative_numbers = true)]
    pub levels: Option<Vec<f64>>,
    /// Conformal intervals: each split's half-width from the validation errors of the K most recent
    /// splits whose validation windows ended before its own began (earlier splits get none).
    #[arg(long, value_name = "K", default_value_t = crate::report::intervals::IntervalSpec::DEFAULT_CONFORMAL, value_parser = count(1, usize::MAX), allow_negative_numbers = true)]
    pub conformal: usize,
    /// What is trained on what.
    #[arg(long, value_enum, default_value_t = ProtocolArg::WalkForward)]
    pub protocol: ProtocolArg,
    /// Which Keras early stopping to follow [default: keras-3.7; keras-3.6 with --protocol seed].
    #[arg(long, value_enum)]
    pub early_stopping: Option<EarlyStopArg>,
    /// Layer stack: lstm:UNITS[:seq], dropout:RATE, dense:UNITS, ending with dense:1.
    #[arg(long, value_name = "SPEC", default_value = DEFAULT_LAYERS)]
    pub layers: String,
    /// Most epochs per split.
    #[arg(long, default_value_t = Hyper::DEFAULT_EPOCHS, value_parser = count(1, MAX_EPOCHS), allow_negative_numbers = true)]
    pub epochs: usize,
    /// Samples per Adam step.
    #[arg(long, default_value_t = Hyper::DEFAULT_BATCH_SIZE, value_parser = count(1, MAX_BATCH_SIZE), allow_negative_numbers = true)]
    pub batch_size: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = AdamConfig::DEFAULT_LR, value_parser = learning_rate, allow_negative_numbers = true)]
    pub lr: f64,
    /// Early stopping: epochs without a validation improvement before stopping.
    #[arg(long, default_value_t = Hyper::DEFAULT_PATIENCE, value_parser = count(0, MAX_EPOCHS), allow_negative_numbers = true)]
    pub patience: usize,
    /// Seed of every random choice (initial weights, shuffles, dropout).
    #[arg(long, default_value_t = Hyper::DEFAULT_SEED, value_parser = whole(0, u64::MAX), allow_negative_numbers = true)]
    pub seed: u64,
    /// Walk-forward forecast: ensemble of the last K splits' models.
    #[arg(long, value_name = "K", default_value_t = RunSpec::DEFAULT_ENSEMBLE_LAST, value_parser = count(1, usize::MAX), allow_negative_numbers = true)]
    pub ensemble_last: usize,
    /// Train K models per split, seeded --seed, --seed + 1, …, in the same batch: each split predicts
    /// their mean, and the report shows how much the scores vary from seed to seed. With `--protocol
    /// seed`: K carried models, one per seed, trained as one batch split after split.
    #[arg(long, value_name = "K", default_value_t = RunSpec::DEFAULT_SEEDS, value_parser = count(1, 10_000), allow_negative_numbers = true)]
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

/// `gpulstm sweep`: every `train` flag (the base configuration), and what to vary.
#[derive(Debug, Clone, Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub train: TrainArgs,
    /// KEY=V1,V2,.. (repeatable; the sweep is the product of all grids). Keys: lr, dropout (every dropout
    /// layer), dropout1, dropout2, .., epochs, patience, batch_size, lookback, train_window, layers,
    /// seeds, target_transform, features, scaler_kind; `layers` and `features` alternatives are
    /// separated by `|`. With --random, a key may take a range: loguniform(a,b), uniform(a,b), int(a,b).
    #[arg(long, value_name = "KEY=V1,V2,..", action = clap::ArgAction::Append)]
    pub grid: Vec<String>,
    /// Draw N configurations at random from the grids' lists and ranges instead of taking their product.
    #[arg(long, value_name = "N", value_parser = count(1, 1_000_000), allow_negative_numbers = true)]
    pub random: Option<usize>,
    /// Seed of --random's draws and of the bootstrap.
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = whole(0, u64::MAX), allow_negative_numbers = true)]
    pub sweep_seed: u64,
    /// Each split uses the configuration with the best mean validation loss over the K most recent
    /// splits whose validation windows ended before its own begins.
    #[arg(long, value_name = "K", default_value_t = SweepScoring::DEFAULT_SELECT_WINDOW, value_parser = count(1, usize::MAX), allow_negative_numbers = true)]
    pub select_window: usize,
    /// Resamples of the stationary bootstrap behind the SPA and Reality Check p-values.
    #[arg(long, value_name = "B", default_value_t = SweepScoring::DEFAULT_BOOTSTRAP, value_parser = count(10, 1_000_000), allow_negative_numbers = true)]
    pub bootstrap: usize,
    /// The two swept keys of the skill heatmap [default: the two with most values].
    #[arg(long, value_name = "A,B")]
    pub heatmap: Option<String>,
    /// Join these `sweep --shard I/N` directories (all N, any order) into the sweep in --out.
    #[arg(long, value_name = "SHARD_DIR", num_args = 1.., conflicts_with_all = ["shard", "resume"])]
    pub merge: Vec<PathBuf>,
    /// Largest sweep (models over all configurations) run without --force.
    #[arg(long, value_name = "N", default_value_t = 100_000, value_parser = count(1, usize::MAX), allow_negative_numbers = true)]
    pub max_models: usize,
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
    /// Also write every check's result as JSON to FILE, failed checks included (an existing file is
    /// kept unless --force).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Replace an existing --json FILE.
    #[arg(long)]
    pub force: bool,
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
    #[arg(long, default_value_t = SplitConfig::DEFAULT_LOOKBACK, value_parser = count(1, usize::MAX), allow_negative_numbers = true)]
    pub lookback: usize,
    /// Samples per Adam step, as for `train`.
    #[arg(long, default_value_t = Hyper::DEFAULT_BATCH_SIZE, value_parser = count(1, MAX_BATCH_SIZE), allow_negative_numbers = true)]
    pub batch_size: usize,
    /// Models per timed dispatch [default: what one engine holds on this adapter, at most 64].
    #[arg(long, value_name = "N", value_parser = count(1, 65_535), allow_negative_numbers = true)]
    pub models: Option<usize>,
    /// Use the first GPU adapter whose name contains this (case-insensitive).
    #[arg(long, value_name = "SUBSTRING")]
    pub adapter: Option<String>,
}

/// `gpulstm bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Model counts to profile, each trained in the same dispatches [default: 1,10,100,988].
    #[arg(long, value_name = "N,N,..", value_delimiter = ',', value_parser = count(1, 65_535), allow_negative_numbers = true)]
    pub models: Option<Vec<usize>>,
    /// Interleaved rounds per model count (medians over them).
    #[arg(long, value_name = "N", default_value_t = gpu::bench::BenchConfig::DEFAULT_ROUNDS, value_parser = count(1, 1000), allow_negative_numbers = true)]
    pub rounds: usize,
    /// Also write the profile as JSON to FILE (an existing file is kept unless --force).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Replace an existing --json FILE.
    #[arg(long)]
    pub force: bool,
    /// Use the first GPU adapter whose name contains this (case-insensitive), or the first of a backend:
    /// vulkan, metal, dx12 or gl (GL adapters are used only when named so).
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

/// `gpulstm merge`.
#[derive(Debug, Clone, Args)]
pub struct MergeArgs {
    /// The run directory to write (as `train --out`).
    #[arg(value_name = "OUT")]
    pub out: PathBuf,
    /// The shard directories (`train --shard I/N --out DIR`), in any order.
    #[arg(value_name = "SHARD_DIR", required = true, num_args = 1..)]
    pub shards: Vec<PathBuf>,
    /// Overwrite the result files of an earlier run in OUT.
    #[arg(long)]
    pub force: bool,
}
