//! The public-domain Apple series compiled into the crate, so the engine runs without any download.
//! Provenance and caveats: `data/sample/README.md`.

use super::{load_csv_str, DataError, LoadOptions, Series};

/// Source name of the embedded sample, used as [`Series::source`] and in error messages.
pub const SAMPLE_NAME: &str =
    "embedded sample: AAPL 2000-03-01..2013-03-01 (public domain, bokeh-sampledata)";

/// The name the sample is reported under.
pub const SAMPLE_SERIES: &str = "AAPL_2000_2013_yahoo";

/// The CSV text: Yahoo style `Date,Open,High,Low,Close,Volume,Adj Close`, 3270 rows, oldest first.
pub const SAMPLE_CSV: &str = include_str!("../../data/sample/AAPL_2000_2013_yahoo.csv");

/// Loads the embedded sample with the same options and rules as a file on disk.
pub fn load_sample(opts: &LoadOptions) -> Result<Series, DataError> {
    load_csv_str(SAMPLE_NAME, SAMPLE_CSV, opts)
}
