//! Loading a panel (many series for one run) from files, a directory or one long-format file, and the
//! errors that name the series, the file and the file's own line and column.
//!
//! The real files are read from `../shared/data` and the tests using them skip (printing why) when that
//! directory is absent. Everything else is written to scratch directories removed at the end.

mod common;

use std::path::{Path, PathBuf};

use gpulstm::data::{
    load_csv, load_csv_str, load_panel, load_panel_noted, panel_source, LoadOptions, NamedSeries,
    PanelSource,
};

const SHARED_DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data");
const SHARED_FILES: [&str; 3] = [
    "AAPL_5y_nasdaq.csv",
    "AAPL_10y_nasdaq.csv",
    "AAPL_2000_2013_yahoo.csv",
];

fn shared_dir() -> Option<PathBuf> {
    let dir = Path::new(SHARED_DATA);
    if SHARED_FILES.iter().all(|f| dir.join(f).exists()) {
        Some(dir.to_path_buf())
    } else {
        println!(
            "skipped: the files of {} are absent (real data lives outside the crate)",
            dir.display()
        );
        None
    }
}

/// A scratch directory, removed when dropped (also when the test fails).
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = common::scratch("panel", name);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.0.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn opts() -> LoadOptions {
    LoadOptions::default()
}

fn names(panel: &[NamedSeries]) -> Vec<&str> {
    panel.iter().map(|s| s.name.as_str()).collect()
}

fn error_of(source: &PanelSource) -> String {
    match load_panel(source, &opts()) {
        Ok(panel) => panic!("expected an error, loaded {:?}", names(&panel)),
        Err(e) => e.to_string(),
    }
}

fn assert_contains_all(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "message {message:?} lacks {part:?}");
    }
}

fn long(id: &str) -> PanelSource {
    long_at(Path::new("no-such-long-file.csv"), id)
}

fn long_at(path: &Path, id: &str) -> PanelSource {
    PanelSource::Long {
        path: path.to_path_buf(),
        id_column: id.to_string(),
    }
}

#[test]
fn shared_files_are_one_series_each_named_by_stem() {
    let Some(dir) = shared_dir() else {
        return;
    };
    let paths: Vec<PathBuf> = SHARED_FILES.iter().map(|f| dir.join(f)).collect();
    let source = panel_source(&paths, None).unwrap();
    assert_eq!(source, PanelSource::Files(paths.clone()));
    let panel = load_panel(&source, &opts()).unwrap();
    assert_eq!(
        names(&panel),
        ["AAPL_5y_nasdaq", "AAPL_10y_nasdaq", "AAPL_2000_2013_yahoo"]
    );
    for (named, path) in panel.iter().zip(&paths) {
        assert_eq!(named.series, load_csv(path, &opts()).unwrap());
    }
}

#[test]
fn shared_directory_is_read_in_file_name_order_without_other_files() {
    let Some(dir) = shared_dir() else {
        return;
    };
    // The directory also holds README.md, which is not a series.
    let panel = load_panel(&PanelSource::Dir(dir.clone()), &opts()).unwrap();
    assert_eq!(
        names(&panel),
        ["AAPL_10y_nasdaq", "AAPL_2000_2013_yahoo", "AAPL_5y_nasdaq"]
    );
    for named in &panel {
        let path = dir.join(format!("{}.csv", named.name));
        assert_eq!(named.series, load_csv(&path, &opts()).unwrap());
    }
}

const SMALL: &str = "Date,Close,Volume\n2024-01-02,10,100\n2024-01-03,11,110\n2024-01-04,12,120\n";

#[test]
fn directory_takes_csv_files_only_and_not_subdirectories() {
    let s = Scratch::new("dir");
    s.write("b.csv", SMALL);
    s.write("a.CSV", SMALL);
    s.write("notes.txt", "not data");
    s.write("old/c.csv", SMALL);
    s.write("d.csv/inner.csv", SMALL); // a directory named like a CSV file
    let source = panel_source(std::slice::from_ref(&s.0), None).unwrap();
    assert_eq!(source, PanelSource::Dir(s.0.clone()));
    let panel = load_panel(&source, &opts()).unwrap();
    assert_eq!(names(&panel), ["a", "b"]);
    assert_eq!(
        panel[0].series,
        load_csv(&s.0.join("a.CSV"), &opts()).unwrap()
    );
}

#[test]
fn single_file_is_a_one_series_panel() {
    let s = Scratch::new("single");
    let path = s.write("MSFT.csv", SMALL);
    let panel = load_panel(
        &panel_source(std::slice::from_ref(&path), None).unwrap(),
        &opts(),
    )
    .unwrap();
    assert_eq!(names(&panel), ["MSFT"]);
    assert_eq!(panel[0].series, load_csv(&path, &opts()).unwrap());
}

/// Rows of three series, interleaved and in no date order, the id in the middle column; one volume is
/// quoted because it holds a thousands separator.
const LONG_ROWS: [(&str, &str, &str); 8] = [
    ("2024-01-03", "MSFT", "371,\"1,200\""),
    ("2024-01-02", "AAPL", "185.6,82488700"),
    ("2024-01-02", "MSFT", "370.9,25258600"),
    ("2024-01-04", "GOOG", "138.0,23212900"),
    ("2024-01-03", "AAPL", "184.3,58414500"),
    ("2024-01-02", "GOOG", "139.6,20071900"),
    ("2024-01-04", "AAPL", "181.9,71983600"),
    ("2024-01-03", "GOOG", "140.4,18974300"),
];

#[test]
fn long_file_series_equal_single_file_loads_of_their_rows() {
    for terminator in ["\n", "\r\n"] {
        let s = Scratch::new("long");
        let mut text = format!("Date,Ticker,Close,Volume{terminator}");
        for (date, id, values) in LONG_ROWS {
            text += &format!("{date},{id},{values}{terminator}");
        }
        let path = s.write("prices.csv", &text);
        let source = panel_source(std::slice::from_ref(&path), Some("ticker")).unwrap();
        assert_eq!(source, long_at(&path, "ticker"));
        let panel = load_panel(&source, &opts()).unwrap();
        assert_eq!(names(&panel), ["MSFT", "AAPL", "GOOG"], "first appearance");
        for named in &panel {
            let mut own = "Date,Close,Volume\n".to_string();
            for (date, _, values) in LONG_ROWS.iter().filter(|r| r.1 == named.name) {
                own += &format!("{date},{values}\n");
            }
            let alone = load_csv_str(&path.display().to_string(), &own, &opts()).unwrap();
            assert_eq!(named.series, alone, "{}", named.name);
            assert_eq!(named.series.feature_names, ["Close", "Volume"]);
        }
        assert_eq!(panel[0].series.features[1], [371.0, 1200.0]);
    }
}

#[test]
fn long_file_of_the_yahoo_file_keeps_its_format_and_adjustment() {
    let Some(dir) = shared_dir() else {
        return;
    };
    let yahoo_path = dir.join("AAPL_2000_2013_yahoo.csv");
    let yahoo = std::fs::read_to_string(&yahoo_path).unwrap();
    let mut lines = yahoo.lines();
    let mut text = format!("Ticker,{}\n", lines.next().unwrap());
    for line in lines {
        text += &format!("AAPL,{line}\nSAME,{line}\n");
    }
    let s = Scratch::new("long-yahoo");
    let path = s.write("long.csv", &text);
    let panel = load_panel(&long_at(&path, "Ticker"), &opts()).unwrap();
    assert_eq!(names(&panel), ["AAPL", "SAME"]);
    let alone = load_csv_str(&path.display().to_string(), &yahoo, &opts()).unwrap();
    assert!(alone.adjusted);
    for named in &panel {
        assert_eq!(named.series, alone);
    }
}

#[test]
fn bad_cell_in_the_second_file_names_series_file_line_and_column() {
    let s = Scratch::new("bad-second");
    let good = s.write("AAPL.csv", SMALL);
    let bad = s.write(
        "MSFT.csv",
        "Date,Close,Volume\n2024-01-02,10,100\n2024-01-03,11,110\n2024-01-04,12,n/a\n",
    );
    let message = error_of(&PanelSource::Files(vec![good, bad.clone()]));
    let expected = format!(
        "series \"MSFT\": {}:4:3 (column \"Volume\"): cannot parse \"n/a\"",
        bad.display()
    );
    assert!(message.starts_with(&expected), "{message}");
}

#[test]
fn long_file_errors_name_the_original_line_and_column() {
    let s = Scratch::new("long-bad");
    let mut text = "Date,Ticker,Close,Volume\n".to_string();
    for (date, id, values) in LONG_ROWS {
        text += &format!("{date},{id},{values}\n");
    }
    // Line 10, the third GOOG row; Volume is the file's 4th column (the loader sees it as the 3rd).
    text += "2024-01-05,GOOG,141.0,lots\n";
    let path = s.write("prices.csv", &text);
    let message = error_of(&long_at(&path, "Ticker"));
    let expected = format!(
        "series \"GOOG\": {}:10:4 (column \"Volume\"): cannot parse \"lots\"",
        path.display()
    );
    assert!(message.starts_with(&expected), "{message}");

    // A quoted cell spanning two lines: the rows after it keep their file lines.
    let path = s.write(
        "multiline.csv",
        "Date,Ticker,Close,Note\n2024-01-02,A,1,\"two\nlines\"\n2024-01-02,B,1,x\n2024-01-03,A,oops,y\n",
    );
    let message = error_of(&long_at(&path, "Ticker"));
    let expected = format!(
        "series \"A\": {}:5:3 (column \"Close\"): cannot parse \"oops\"",
        path.display()
    );
    assert!(message.starts_with(&expected), "{message}");

    // A date repeated within one series: both lines are the file's.
    let path = s.write(
        "dup.csv",
        "Date,Ticker,Close\n2024-01-02,A,1\n2024-01-02,B,1\n2024-01-03,A,2\n2024-01-02,A,3\n",
    );
    let message = error_of(&long_at(&path, "Ticker"));
    assert_contains_all(
        &message,
        &[
            "series \"A\"",
            &format!("{}:5:1 (column \"Date\")", path.display()),
            "line 2 has the same date",
        ],
    );
}

#[test]
fn long_file_empty_id_and_ragged_rows_are_reported_in_file_terms() {
    let s = Scratch::new("long-id");
    let path = s.write(
        "prices.csv",
        "Date,Ticker,Close\n2024-01-02,A,1\n2024-01-03, ,2\n",
    );
    let message = error_of(&long_at(&path, "Ticker"));
    let expected = format!("{}:3:2 (column \"Ticker\"): empty id", path.display());
    assert!(message.starts_with(&expected), "{message}");

    let path = s.write(
        "ragged.csv",
        "Date,Ticker,Close\n2024-01-02,A,1\n2024-01-03,A\n",
    );
    let message = error_of(&long_at(&path, "Ticker"));
    assert_contains_all(
        &message,
        &[
            &format!("{}:3:", path.display()),
            "has 2 fields but the header has 3",
        ],
    );
}

#[test]
fn missing_id_column_names_the_file_and_lists_the_header() {
    let s = Scratch::new("no-id");
    let path = s.write("prices.csv", SMALL);
    let message = error_of(&long_at(&path, "ticker"));
    assert_contains_all(
        &message,
        &[
            &format!("{}:1:", path.display()),
            "no id column \"ticker\"",
            "\"Date\", \"Close\", \"Volume\"",
            "--id-column",
        ],
    );
}

#[test]
fn feature_count_mismatch_names_both_series_files_and_features() {
    // An explicit --features list is read from every series: one that lacks a column is an error
    // naming its file; two lists that differ in width name both series.
    let s = Scratch::new("mismatch");
    let a = s.write("A.csv", SMALL);
    let b = s.write("B.csv", "Date,Close\n2024-01-02,10\n2024-01-03,11\n");
    let explicit = LoadOptions {
        features: Some(vec!["Close".to_string(), "Volume".to_string()]),
        ..opts()
    };
    let message = load_panel(&PanelSource::Files(vec![a.clone(), b.clone()]), &explicit)
        .unwrap_err()
        .to_string();
    assert_contains_all(
        &message,
        &["series \"B\"", &b.display().to_string(), "Volume"],
    );

    // In a long file, a column that is text for one id only is not a feature of that id; with an
    // explicit list naming it, that id is refused.
    let path = s.write(
        "long.csv",
        "Date,Ticker,Close,Note\n2024-01-02,A,1,x\n2024-01-02,B,1,2\n",
    );
    let with_note = LoadOptions {
        features: Some(vec!["Close".to_string(), "Note".to_string()]),
        ..opts()
    };
    let message = load_panel(&long_at(&path, "Ticker"), &with_note)
        .unwrap_err()
        .to_string();
    assert_contains_all(&message, &["series \"A\"", "Note"]);
}

/// Without --features, series whose numeric columns differ keep the ones every series has, and a note
/// names what was left out of which series (issue 21: an OHLCV file with OpenInt beside plain ones).
#[test]
fn default_features_of_a_mixed_panel_are_the_common_columns() {
    let s = Scratch::new("common");
    let header = "Date,Open,High,Low,Close,Volume";
    let rows = "2024-01-02,1,2,0.5,1.5,100\n2024-01-03,1.5,2.5,1,2,120\n";
    s.write("a.csv", &format!("{header}\n{rows}"));
    s.write("b.csv", &format!("{header}\n{rows}"));
    let with_oi: String = rows.lines().map(|l| format!("{l},7\n")).collect();
    s.write("c.csv", &format!("{header},OpenInt\n{with_oi}"));
    let source = PanelSource::Dir(s.0.clone());
    let (panel, notes) = load_panel_noted(&source, &opts()).expect("a mixed panel loads");
    for named in &panel {
        assert_eq!(
            named.series.feature_names,
            ["Open", "High", "Low", "Close", "Volume"],
            "{}",
            named.name
        );
        assert!(named.series.features.iter().all(|r| r.len() == 5));
    }
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_contains_all(&notes[0], &["series \"c\"", "left out \"OpenInt\""]);

    // The columns kept hold the values of their own names.
    assert_eq!(panel[2].series.features[1], vec![1.5, 2.5, 1.0, 2.0, 120.0]);

    // Series that agree get no note; Nasdaq's Close/Last counts as Close.
    let t = Scratch::new("common-nasdaq");
    t.write(
        "n.csv",
        "Date,Close/Last,Volume\n01/02/2024,$1.5,100\n01/03/2024,$2,120\n",
    );
    t.write(
        "y.csv",
        "Date,Close,Volume,OpenInt\n2024-01-02,1.5,100,3\n2024-01-03,2,120,3\n",
    );
    let (panel, notes) = load_panel_noted(&PanelSource::Dir(t.0.clone()), &opts()).unwrap();
    assert_eq!(panel[0].series.feature_names, ["Close/Last", "Volume"]);
    assert_eq!(panel[1].series.feature_names, ["Close", "Volume"]);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_contains_all(&notes[0], &["series \"y\"", "\"OpenInt\""]);
}

#[test]
fn two_files_with_one_stem_name_both_paths() {
    let s = Scratch::new("dup-names");
    let first = s.write("nyse/AAPL.csv", SMALL);
    let second = s.write("nasdaq/AAPL.csv", SMALL);
    let message = error_of(&PanelSource::Files(vec![first.clone(), second.clone()]));
    assert_contains_all(
        &message,
        &[
            "two series would be named \"AAPL\"",
            &first.display().to_string(),
            &second.display().to_string(),
        ],
    );
}

#[test]
fn panel_source_refuses_what_it_cannot_read() {
    let s = Scratch::new("source");
    let a = s.write("a.csv", SMALL);
    let b = s.write("b.csv", SMALL);
    let message = panel_source(&[a.clone(), b.clone()], Some("ticker"))
        .unwrap_err()
        .to_string();
    assert_contains_all(
        &message,
        &[
            "--id-column \"ticker\"",
            "2 paths",
            &a.display().to_string(),
        ],
    );
    let message = panel_source(std::slice::from_ref(&s.0), Some("ticker"))
        .unwrap_err()
        .to_string();
    assert_contains_all(&message, &["is a directory"]);
    let message = panel_source(&[a.clone(), s.0.clone()], None)
        .unwrap_err()
        .to_string();
    assert_contains_all(&message, &["is a directory", &s.0.display().to_string()]);
    assert!(panel_source(&[], None).is_err());
    assert_eq!(
        panel_source(&[a.clone(), b.clone()], None).unwrap(),
        PanelSource::Files(vec![a, b])
    );
}

#[test]
fn empty_directory_is_an_error_naming_it() {
    let s = Scratch::new("empty");
    let message = error_of(&PanelSource::Dir(s.0.clone()));
    assert_contains_all(&message, &[&s.0.display().to_string(), "no *.csv file"]);
    s.write("readme.txt", "no data here");
    assert_eq!(error_of(&PanelSource::Dir(s.0.clone())), message);
}

#[test]
fn missing_long_file_is_an_io_error_naming_the_path() {
    let message = error_of(&long("ticker"));
    assert_contains_all(&message, &["no-such-long-file.csv", "cannot read the file"]);
}
