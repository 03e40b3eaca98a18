//! The data pipeline: CSV file → cleaned, date-sorted [`Series`] → [`MinMax`] scaler → look-back samples
//! → rolling or expanding [`Split`]s.
//!
//! - [`load`]: reads Nasdaq downloads, Yahoo-style files and any CSV with a date column and numeric columns.
//! - [`dates`]: the date formats the loader accepts.
//! - [`features`]: `--features` expressions (returns, logs, ranges, rolling windows, day of week).
//! - [`scaler`]: per-column affine scaling: min–max to [0, 1], standard or robust (sklearn's scalers).
//! - [`splits`]: which samples each split trains and validates on.
//! - [`transform`]: the target transforms (`--target-transform`: level, diff, return, log-return).
//! - [`sample`]: the public-domain Apple series compiled into the crate.
//! - [`panel`]: many series in one run, from several files, a directory or one long-format file.
//!
//! Every error is a [`DataError`] whose message names the file, the 1-based line and column and the text
//! that could not be used, so a user can open the file and fix it.

pub mod dates;
pub mod features;
pub mod frame;
pub mod load;
pub mod panel;
pub mod sample;
pub mod scaler;
pub mod splits;
pub mod transform;

pub use features::FeatureList;
pub use load::{load_csv, load_csv_str};
pub use panel::{load_panel, load_panel_noted, panel_source, NamedSeries, PanelSource};
pub use sample::{load_sample, SAMPLE_CSV, SAMPLE_NAME, SAMPLE_SERIES};
pub use scaler::{MinMax, ScalerKind};
pub use splits::{
    make_splits, n_samples, scaler_rows, DateSpan, Split, SplitConfig, SplitRule, WindowKind,
};
pub use transform::TargetTransform;

/// How to read a CSV file. The default reads every numeric column as a feature, predicts `Close` (or
/// Nasdaq's `Close/Last`) and adjusts Yahoo-style prices for splits and dividends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// Name of the date column. `None`: the first column named `Date`, `Datetime` or `timestamp` (any case).
    pub date_column: Option<String>,
    /// Feature columns, in the order given. `None`: every numeric column in file order.
    pub features: Option<Vec<String>>,
    /// Derived features (`--features` with functions): computed from the loaded columns by
    /// [`FeatureList::derive`] after loading (the loader then reads every numeric column).
    pub derive: Option<FeatureList>,
    /// Column to predict. `None`: `Close` or `Close/Last` (any case).
    pub target: Option<String>,
    /// When the file has both `Close` and `Adj Close`: scale Open/High/Low/Close by `Adj Close / Close`
    /// of their row and drop `Adj Close`. When false, raw prices are kept and `Adj Close` is an ordinary
    /// column.
    pub adjust: bool,
    /// Field separator (`--delimiter`): `,` unless given.
    pub delimiter: u8,
    /// Decimal mark of numeric cells (`--decimal`): `.` (then `,` is a thousands separator) or `,`
    /// (then `.` and spaces are thousands separators).
    pub decimal: char,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            date_column: None,
            features: None,
            derive: None,
            target: None,
            adjust: true,
            delimiter: b',',
            decimal: '.',
        }
    }
}

/// Which kind of file the header looked like. Only informational: every format goes through the same
/// loader, the format decides nothing except what is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceFormat {
    /// Nasdaq "historical data" download: `Date,Close/Last,Volume,Open,High,Low`.
    Nasdaq,
    /// Yahoo style: `Date,Open,High,Low,Close[,Adj Close],Volume` (any column order).
    Yahoo,
    /// Anything else with a date column and numeric columns.
    Generic,
}

impl std::fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SourceFormat::Nasdaq => "nasdaq",
            SourceFormat::Yahoo => "yahoo",
            SourceFormat::Generic => "generic",
        })
    }
}

/// A cleaned time series: one row per date, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The file path as given, or [`SAMPLE_NAME`] for the embedded sample.
    pub source: String,
    pub format: SourceFormat,
    /// Oldest first, strictly increasing.
    pub dates: Vec<chrono::NaiveDate>,
    /// Names of the feature columns as spelled in the file header.
    pub feature_names: Vec<String>,
    /// `features[row][feature]`.
    pub features: Vec<Vec<f64>>,
    /// Name of the target column as spelled in the file header.
    pub target_name: String,
    /// `target[row]`.
    pub target: Vec<f64>,
    /// True when prices were scaled by `Adj Close / Close`.
    pub adjusted: bool,
    /// When adjusted: the last row's target as the file has it (the console shows both).
    pub raw_last_target: Option<f64>,
    /// Leading rows dropped because a `--features` function cannot compute them (0 without derived
    /// features).
    pub warmup_rows_dropped: usize,
}

impl Series {
    /// Number of rows (dates).
    pub fn len(&self) -> usize {
        self.dates.len()
    }

    /// True when the series has no rows (the loader never returns one, but a caller may build one).
    pub fn is_empty(&self) -> bool {
        self.dates.is_empty()
    }
}

/// Everything that can go wrong between a file on disk and a list of splits. The `Display` text is the
/// complete message meant for the user.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be read (missing, unreadable, not UTF-8).
    #[error("{path}: cannot read the file: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// One cell is unusable. `line` and `column` are 1-based; the header is line 1.
    #[error("{file}:{line}:{column} (column \"{name}\"): {problem}")]
    Cell {
        file: String,
        line: u64,
        column: usize,
        name: String,
        problem: String,
    },
    /// A whole line is unusable (a header problem, a row with extra fields). `line` is 1-based.
    #[error("{file}:{line}: {problem}")]
    Line {
        file: String,
        line: u64,
        problem: String,
    },
    /// The file as a whole is unusable (for example empty).
    #[error("{file}: {problem}")]
    File { file: String, problem: String },
    /// One series of a panel could not be loaded. `error` names the file (and line and column).
    #[error("series \"{name}\": {error}")]
    Series { name: String, error: Box<DataError> },
    /// The sources of a panel, or its series taken together, are unusable (no file given, two series
    /// with one name, series with different numbers of features).
    #[error("{0}")]
    Panel(String),
    /// The look-back, window and step settings do not fit the data.
    #[error("{0}")]
    Splits(String),
    /// A `--features` expression is malformed or cannot be computed; the text names the flag and the
    /// character position.
    #[error("{0}")]
    Features(String),
}
