//! Loading real price files and rejecting malformed ones with messages that point at the problem.
//!
//! The Nasdaq files may not be shipped with the crate, so their tests read them from `../shared/data` and
//! skip (printing why) when that directory is absent.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use gpulstm::data::{
    load_csv, load_csv_str, load_sample, DataError, LoadOptions, Series, SourceFormat, SAMPLE_NAME,
};

const SHARED_DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data");

fn shared_file(name: &str) -> Option<PathBuf> {
    let path = Path::new(SHARED_DATA).join(name);
    if path.exists() {
        Some(path)
    } else {
        println!(
            "skipped: {} is absent (real data lives outside the crate)",
            path.display()
        );
        None
    }
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn row_of(series: &Series, date: NaiveDate) -> usize {
    series
        .dates
        .iter()
        .position(|&d| d == date)
        .unwrap_or_else(|| panic!("{date} not in {}", series.source))
}

fn default_opts() -> LoadOptions {
    LoadOptions::default()
}

/// Loads `text` as "bad.csv" and returns the error message, failing the test if it loaded.
fn error_of(text: &str, opts: &LoadOptions) -> String {
    match load_csv_str("bad.csv", text, opts) {
        Ok(series) => panic!("expected an error, loaded {} rows", series.len()),
        Err(e) => e.to_string(),
    }
}

fn assert_contains_all(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "message {message:?} lacks {part:?}");
    }
}

// Prices in the files have at most 4 decimals and are parsed by the standard library's correctly rounded
// `f64::from_str`, so values read back unchanged compare exactly against the same decimal literal.

#[test]
fn nasdaq_5y_file_matches_its_known_facts() {
    let Some(path) = shared_file("AAPL_5y_nasdaq.csv") else {
        return;
    };
    let s = load_csv(&path, &default_opts()).unwrap();
    assert_eq!(s.source, path.display().to_string());
    assert_eq!(s.format, SourceFormat::Nasdaq);
    assert!(!s.adjusted, "a Nasdaq file has no Adj Close to adjust with");
    assert_eq!(s.len(), 1258);
    assert_eq!(s.dates[0], ymd(2019, 7, 29));
    assert_eq!(s.dates[1257], ymd(2024, 7, 26));
    assert!(
        s.dates.windows(2).all(|w| w[0] < w[1]),
        "dates must be strictly increasing"
    );
    assert_eq!(
        s.feature_names,
        ["Close/Last", "Volume", "Open", "High", "Low"]
    );
    assert_eq!(s.target_name, "Close/Last");
    assert_eq!(s.target[1257], 217.96);
    // The file is adjusted for the 4:1 split of 2020-08-31: 08/28/2020 closed at $124.8075.
    let row = row_of(&s, ymd(2020, 8, 28));
    assert_eq!(s.target[row], 124.8075);
    assert_eq!(
        s.features[row],
        vec![124.8075, 187_629_920.0, 126.0125, 126.4425, 124.5775]
    );
    // Oldest row, last line of the file: 07/29/2019,$52.42,86693560,$52.115,$52.66,$52.11
    assert_eq!(
        s.features[0],
        vec![52.42, 86_693_560.0, 52.115, 52.66, 52.11]
    );
    // The target is the first feature column.
    assert!(s.features.iter().zip(&s.target).all(|(f, &t)| f[0] == t));
}

#[test]
fn nasdaq_10y_file_loads_in_date_order() {
    let Some(path) = shared_file("AAPL_10y_nasdaq.csv") else {
        return;
    };
    let s = load_csv(&path, &default_opts()).unwrap();
    assert_eq!(s.len(), 2516);
    assert_eq!(s.dates[0], ymd(2014, 7, 29));
    assert_eq!(s.dates[2515], ymd(2024, 7, 26));
    assert_eq!(s.target[2515], 217.96);
}

/// Closes of the trading days just before and on a split date.
fn close_ratio_at(s: &Series, date: NaiveDate) -> f64 {
    let row = row_of(s, date);
    s.target[row] / s.target[row - 1]
}

// Apple's 2:1 splits in the yahoo file. Raw closes halve (ratios 55.63/101.25 ≈ 0.549 and
// 44.86/88.99 ≈ 0.504); adjusted closes move by ordinary daily amounts (≈ 1.099 and ≈ 1.008). The bound
// [0.8, 1.25] separates the two cases with a wide margin on both sides.
const SPLIT_DATES: [(i32, u32, u32); 2] = [(2000, 6, 21), (2005, 2, 28)];

#[test]
fn yahoo_file_is_adjusted_by_default_so_splits_do_not_jump() {
    let Some(path) = shared_file("AAPL_2000_2013_yahoo.csv") else {
        return;
    };
    let s = load_csv(&path, &default_opts()).unwrap();
    assert_eq!(s.format, SourceFormat::Yahoo);
    assert!(s.adjusted);
    assert_eq!(s.len(), 3270);
    assert_eq!(s.dates[0], ymd(2000, 3, 1));
    assert_eq!(s.dates[3269], ymd(2013, 3, 1));
    // Adj Close is dropped: it is the adjusted Close.
    assert_eq!(s.feature_names, ["Open", "High", "Low", "Close", "Volume"]);
    assert_eq!(s.target_name, "Close");
    for (y, m, d) in SPLIT_DATES {
        let ratio = close_ratio_at(&s, ymd(y, m, d));
        assert!(
            (0.8..1.25).contains(&ratio),
            "adjusted ratio {ratio} on {y}-{m}-{d}"
        );
    }
    // 2000-06-21,50.5,56.94,50.31,55.63,4375000,3.5746151757502
    let row = row_of(&s, ymd(2000, 6, 21));
    let factor = 3.5746151757502 / 55.63;
    assert_eq!(
        s.target[row], 3.5746151757502,
        "Close becomes Adj Close exactly"
    );
    assert_eq!(s.features[row][3], 3.5746151757502);
    // Open/High/Low are computed exactly as raw · (Adj Close / Close), so the same expression matches.
    assert_eq!(s.features[row][0], 50.5 * factor);
    assert_eq!(s.features[row][1], 56.94 * factor);
    assert_eq!(s.features[row][2], 50.31 * factor);
    assert_eq!(s.features[row][4], 4_375_000.0, "Volume is not adjusted");
}

#[test]
fn yahoo_file_without_adjusting_keeps_raw_prices_and_adj_close() {
    let Some(path) = shared_file("AAPL_2000_2013_yahoo.csv") else {
        return;
    };
    let opts = LoadOptions {
        adjust: false,
        ..LoadOptions::default()
    };
    let s = load_csv(&path, &opts).unwrap();
    assert!(!s.adjusted);
    assert_eq!(
        s.feature_names,
        ["Open", "High", "Low", "Close", "Volume", "Adj Close"]
    );
    for (y, m, d) in SPLIT_DATES {
        let ratio = close_ratio_at(&s, ymd(y, m, d));
        assert!(
            ratio < 0.6,
            "raw ratio {ratio} on {y}-{m}-{d} should show the halving"
        );
    }
    let row = row_of(&s, ymd(2000, 6, 21));
    assert_eq!(
        s.features[row],
        vec![50.5, 56.94, 50.31, 55.63, 4_375_000.0, 3.5746151757502]
    );
}

#[test]
fn embedded_sample_loads_and_equals_the_shared_file() {
    let s = load_sample(&default_opts()).unwrap();
    assert_eq!(s.source, SAMPLE_NAME);
    assert_eq!(s.format, SourceFormat::Yahoo);
    assert!(s.adjusted);
    assert_eq!(s.len(), 3270);
    assert_eq!(s.dates[0], ymd(2000, 3, 1));
    assert_eq!(s.dates[3269], ymd(2013, 3, 1));
    // Last line: 2013-03-01,438.0,438.1799,429.98,430.47,19730300,56.137353095488
    assert_eq!(s.target[3269], 56.137353095488);

    let Some(path) = shared_file("AAPL_2000_2013_yahoo.csv") else {
        return;
    };
    let from_file = load_csv(&path, &default_opts()).unwrap();
    assert_eq!(from_file.dates, s.dates);
    assert_eq!(from_file.features, s.features);
    assert_eq!(from_file.target, s.target);
}

#[test]
fn generic_csv_selects_columns_by_name_and_cleans_cells() {
    // Mixed date formats, a text column, quoted thousands, `$`, spaces, a header with spaces, newest
    // row in the middle: everything the cleaning steps exist for.
    let text = "timestamp,Ticker, load ,temp\n\
                1/2/2024,X,\"1,234\",$5\n\
                01/01/2024,X, 7 ,6.5\n\
                2024-01-03,X,8,-1\n";
    let opts = LoadOptions {
        target: Some("TEMP".to_string()),
        ..LoadOptions::default()
    };
    let s = load_csv_str("gen.csv", text, &opts).unwrap();
    assert_eq!(s.format, SourceFormat::Generic);
    assert!(!s.adjusted);
    assert_eq!(
        s.dates,
        vec![ymd(2024, 1, 1), ymd(2024, 1, 2), ymd(2024, 1, 3)]
    );
    // The text column Ticker is not a default feature; header spaces are trimmed.
    assert_eq!(s.feature_names, ["load", "temp"]);
    assert_eq!(
        s.features,
        vec![vec![7.0, 6.5], vec![1234.0, 5.0], vec![8.0, -1.0]]
    );
    assert_eq!(s.target_name, "temp");
    assert_eq!(s.target, vec![6.5, 5.0, -1.0]);

    // Named date column, features in the caller's order, target outside the features.
    let text = "When,A,B,Close\n2024-01-01,1,2,3\n2024-01-02,4,5,6\n";
    let opts = LoadOptions {
        date_column: Some("when".to_string()),
        features: Some(vec!["B".to_string(), "a".to_string()]),
        ..LoadOptions::default()
    };
    let s = load_csv_str("gen.csv", text, &opts).unwrap();
    assert_eq!(s.feature_names, ["B", "A"]);
    assert_eq!(s.features, vec![vec![2.0, 1.0], vec![5.0, 4.0]]);
    assert_eq!(s.target_name, "Close");
    assert_eq!(s.target, vec![3.0, 6.0]);
}

#[test]
fn crlf_and_byte_order_mark_are_handled() {
    let text = "\u{feff}Date,Close/Last\r\n01/03/2024,$2.00\r\n01/02/2024,$1.00\r\n";
    let s = load_csv_str("win.csv", text, &default_opts()).unwrap();
    assert_eq!(s.dates, vec![ymd(2024, 1, 2), ymd(2024, 1, 3)]);
    assert_eq!(s.target, vec![1.0, 2.0]);
}

// ---- malformed input: every message names the file, the line, the column and the bad text ----

#[test]
fn duplicate_dates_name_both_lines() {
    let text = "Date,Close\n01/02/2024,1\n2024-01-03,2\n2024-01-02,3\n";
    let message = error_of(text, &default_opts());
    assert_contains_all(
        &message,
        &[
            "bad.csv:4:1",
            "column \"Date\"",
            "duplicate date",
            "\"2024-01-02\"",
            "line 2",
        ],
    );
}

#[test]
fn empty_cell_is_reported() {
    let text = "Date,Close,Volume\n2024-01-02,1,10\n2024-01-03,2,\n";
    let message = error_of(text, &default_opts());
    assert_contains_all(
        &message,
        &["bad.csv:3:3", "column \"Volume\"", "empty cell"],
    );
}

#[test]
fn non_numeric_cell_is_reported() {
    let text = "Date,Close,Volume\n2024-01-02,1,10\n2024-01-03,2,abc\n";
    let message = error_of(text, &default_opts());
    assert_eq!(
        message,
        "bad.csv:3:3 (column \"Volume\"): cannot parse \"abc\" as a number"
    );
}

#[test]
fn nan_and_infinities_are_rejected() {
    for bad in ["nan", "NaN", "inf", "-Infinity", "1e999"] {
        let text = format!("Date,Close\n2024-01-02,1\n2024-01-03,{bad}\n");
        let message = error_of(&text, &default_opts());
        assert_contains_all(
            &message,
            &[
                "bad.csv:3:2",
                "column \"Close\"",
                &format!("\"{bad}\""),
                "not a finite number",
            ],
        );
    }
}

#[test]
fn unparseable_date_is_reported() {
    let text = "Date,Close\n2024-01-02,1\n2024-02-30,2\n";
    let message = error_of(text, &default_opts());
    assert_contains_all(
        &message,
        &[
            "bad.csv:3:1",
            "column \"Date\"",
            "\"2024-02-30\"",
            "as a date",
        ],
    );
}

#[test]
fn line_numbers_are_file_lines_for_every_line_ending() {
    // (text, line of the bad cell "x1"). The csv crate's own `Position::line()` gets the CRLF and blank-line
    // cases wrong (it says 1 for the first data row of a CRLF file), so these pin the loader's own count.
    let cases = [
        ("Date,Close\n2024-01-02,x1\n", 2),
        ("Date,Close\r\n2024-01-02,x1\r\n", 2),
        ("Date,Close\r2024-01-02,1\r2024-01-03,x1\r", 3),
        ("Date,Close\r\n2024-01-02,1\r\n\r\n2024-01-03,x1\r\n", 4),
        ("\nDate,Close\n\n2024-01-02,x1\n", 4),
        (
            "Date,Note,Close\n2024-01-02,\"two\nlines\",1\n2024-01-03,z,x1\n",
            4,
        ),
    ];
    for (text, line) in cases {
        let message = error_of(text, &LoadOptions::default());
        let expected = format!("bad.csv:{line}:");
        assert!(message.starts_with(&expected), "{text:?}: {message}");
        assert!(message.contains("\"x1\""), "{message}");
    }
}

#[test]
fn ragged_rows_are_reported() {
    let short = "Date,Close,Volume\n2024-01-02,1,10\n2024-01-03,2\n";
    let message = error_of(short, &default_opts());
    assert_contains_all(
        &message,
        &[
            "bad.csv:3:3",
            "column \"Volume\"",
            "missing field",
            "\"2024-01-03,2\"",
            "2 fields",
            "header has 3",
        ],
    );

    let long = "Date,Close\n2024-01-02,1\n2024-01-03,2,99\n";
    let message = error_of(long, &default_opts());
    assert_contains_all(
        &message,
        &[
            "bad.csv:3:",
            "extra field \"99\"",
            "column 3",
            "header has 2",
        ],
    );
}

#[test]
fn missing_date_column_lists_the_columns() {
    let text = "Day,Close\n2024-01-02,1\n";
    let message = error_of(text, &default_opts());
    assert_contains_all(
        &message,
        &[
            "bad.csv:1:",
            "no date column",
            "\"Day\", \"Close\"",
            "--date-column",
        ],
    );

    let opts = LoadOptions {
        date_column: Some("When".to_string()),
        ..LoadOptions::default()
    };
    let message = error_of("Date,Close\n2024-01-02,1\n", &opts);
    assert_contains_all(
        &message,
        &[
            "bad.csv:1:",
            "unknown date column \"When\"",
            "\"Date\", \"Close\"",
        ],
    );
}

#[test]
fn unknown_feature_and_target_names_are_reported() {
    let text = "Date,Open,Close\n2024-01-02,1,2\n";
    let opts = LoadOptions {
        features: Some(vec!["Open".to_string(), "Nope".to_string()]),
        ..LoadOptions::default()
    };
    let message = error_of(text, &opts);
    assert_contains_all(
        &message,
        &[
            "bad.csv:1:",
            "unknown feature \"Nope\"",
            "\"Date\", \"Open\", \"Close\"",
        ],
    );

    let opts = LoadOptions {
        target: Some("Price".to_string()),
        ..LoadOptions::default()
    };
    let message = error_of(text, &opts);
    assert_contains_all(
        &message,
        &["bad.csv:1:", "unknown target \"Price\"", "\"Open\""],
    );

    // No Close column and no --target: the message says how to choose one.
    let message = error_of("Date,load\n2024-01-02,1\n", &default_opts());
    assert_contains_all(
        &message,
        &["bad.csv:1:", "no target column", "\"load\"", "--target"],
    );
}

#[test]
fn empty_file_and_header_only_are_reported() {
    let message = error_of("", &default_opts());
    assert_contains_all(&message, &["bad.csv:", "empty"]);

    let message = error_of("Date,Close\r\n", &default_opts());
    assert_contains_all(
        &message,
        &["bad.csv:1:", "no data rows", "\"Date\", \"Close\""],
    );
}

#[test]
fn non_positive_close_fails_only_when_adjusting() {
    let text = "Date,Open,High,Low,Close,Volume,Adj Close\n\
                2024-01-02,1,1,1,1,10,0.5\n\
                2024-01-03,1,1,1,0,10,0.5\n";
    let message = error_of(text, &default_opts());
    assert_contains_all(
        &message,
        &[
            "bad.csv:3:5",
            "column \"Close\"",
            "\"0\"",
            "not positive",
            "without adjusting",
        ],
    );

    let raw = LoadOptions {
        adjust: false,
        ..LoadOptions::default()
    };
    let s = load_csv_str("bad.csv", text, &raw).unwrap();
    assert_eq!(s.target, vec![1.0, 0.0]);
}

#[test]
fn adj_close_cannot_be_selected_while_adjusting() {
    let text = "Date,Close,Adj Close\n2024-01-02,2,1\n";
    let opts = LoadOptions {
        target: Some("Adj Close".to_string()),
        ..LoadOptions::default()
    };
    let message = error_of(text, &opts);
    assert_contains_all(
        &message,
        &[
            "bad.csv:1:",
            "target \"Adj Close\"",
            "dropped when adjusting",
        ],
    );
}

#[test]
fn duplicate_column_names_are_reported() {
    let text = "Date,Close,close\n2024-01-02,1,2\n";
    let message = error_of(text, &default_opts());
    assert_contains_all(
        &message,
        &[
            "bad.csv:1:3",
            "column \"close\"",
            "duplicate column name",
            "column 2",
        ],
    );
}

#[test]
fn missing_file_is_an_io_error_naming_the_path() {
    let path = Path::new("/nonexistent/dir/prices.csv");
    let err = load_csv(path, &default_opts()).unwrap_err();
    assert!(matches!(err, DataError::Io { .. }), "{err:?}");
    assert_contains_all(
        &err.to_string(),
        &["/nonexistent/dir/prices.csv", "cannot read"],
    );
}

/// What a user's download may look like: quoted thousands separators, trailing blank lines, a text
/// column; and a `;`-separated file with decimal commas, read with `--delimiter ';' --decimal ','`.
#[test]
fn csv_variants_load_the_same_numbers() {
    let plain = "Date,Close,Volume\n01/02/2024,1234.50,1000\n01/03/2024,1240.25,2000\n";
    let want = load_csv_str("plain.csv", plain, &default_opts()).unwrap();
    let quoted = "Date,Close,Volume,Note\n01/02/2024,\"1,234.50\",\"1,000\",a\n01/03/2024,\"1,240.25\",\"2,000\",b\n\n\n";
    let got = load_csv_str("quoted.csv", quoted, &default_opts()).unwrap();
    assert_eq!((&got.features, &got.target), (&want.features, &want.target));
    let semi = "Date;Close;Volume\n01/02/2024;1.234,50;1 000\n01/03/2024;1.240,25;2 000\n";
    let opts = LoadOptions {
        delimiter: b';',
        decimal: ',',
        ..LoadOptions::default()
    };
    let got = load_csv_str("semi.csv", semi, &opts).unwrap();
    assert_eq!((&got.features, &got.target), (&want.features, &want.target));
}

/// A `;` file read with the default `,` fails at its header with the flag to use.
#[test]
fn a_semicolon_file_gets_a_delimiter_hint() {
    let semi = "Date;Close\n01/02/2024;1,5\n01/03/2024;1,6\n";
    let e = error_of(semi, &default_opts());
    assert_contains_all(
        &e,
        &[
            "bad.csv:1",
            "separated by ';'",
            "--delimiter ';'",
            "--decimal ','",
        ],
    );
}
