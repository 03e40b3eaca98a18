//! A panel: many series loaded for one run, from several files, a directory of files or one long-format
//! file with an id column.
//!
//! Every series goes through the single-file loader ([`load_csv`], or the same loader on the rows of one
//! id), so each keeps its own format detection, date parsing, sorting, cleaning and adjusting.
//!
//! Rules:
//! - names: a file's series is named by the file name without its extension; a long-format series by its
//!   id (surrounding spaces trimmed). Two files with one stem (`a/AAPL.csv`, `b/AAPL.csv`) are an error
//!   naming both paths rather than being renamed by their directory: a name the user did not choose
//!   would then appear in every report.
//! - order: as given for files, by file name for a directory, by first appearance for a long file.
//! - every series must have as many features as the first: the series share one model, whose input
//!   width is the number of features. Without `--features`, series whose numeric columns differ (an
//!   extra `OpenInt`) keep the columns every series has, and a note names what was left out of which;
//!   an explicit `--features` list is still read from, and checked against, every series.
//! - one bad series fails the whole load, with an error naming the series and its file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::load::{
    find_ignore_case, line_at, line_starts, load_csv, load_csv_part, quoted_list, read_text, Origin,
};
use super::{DataError, LoadOptions, Series};

/// One series of a panel and the name it is reported under.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedSeries {
    pub name: String,
    pub series: Series,
}

/// Where a panel comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PanelSource {
    /// One or more files, each one series named by its file stem; two equal stems are an error.
    Files(Vec<PathBuf>),
    /// Every `*.csv` file (any case of the extension) directly in a directory, sorted by file name; a
    /// directory without one is an error.
    Dir(PathBuf),
    /// One long-format CSV holding many series, one row per (id, date): `id_column` names the series of
    /// each row and is left out of the rows each series is loaded from, so it never becomes a feature.
    Long { path: PathBuf, id_column: String },
}

/// How the CLI's repeated `--data` values and `--id-column` become a [`PanelSource`]: with an id column,
/// exactly one file ([`PanelSource::Long`]); otherwise one directory alone ([`PanelSource::Dir`]) or
/// files ([`PanelSource::Files`]).
pub fn panel_source(paths: &[PathBuf], id_column: Option<&str>) -> Result<PanelSource, DataError> {
    let Some(first) = paths.first() else {
        return Err(DataError::Panel("no data file given".to_string()));
    };
    if let Some(id) = id_column {
        if paths.len() != 1 {
            return Err(DataError::Panel(format!(
                "--id-column \"{id}\" reads one long-format file holding every series, but {} paths \
                 were given ({}); give one file, or leave out --id-column to read one series per file",
                paths.len(),
                path_list(paths)
            )));
        }
        if first.is_dir() {
            return Err(DataError::Panel(format!(
                "--id-column \"{id}\" reads one long-format file, but {} is a directory",
                first.display()
            )));
        }
        return Ok(PanelSource::Long {
            path: first.clone(),
            id_column: id.to_string(),
        });
    }
    if let [dir] = paths {
        if dir.is_dir() {
            return Ok(PanelSource::Dir(dir.clone()));
        }
    }
    if let Some(dir) = paths.iter().find(|p| p.is_dir()) {
        return Err(DataError::Panel(format!(
            "{} is a directory: a directory is read only when it is the one data path given; \
             give its files instead",
            dir.display()
        )));
    }
    Ok(PanelSource::Files(paths.to_vec()))
}

/// Loads every series of a panel with the same options. Fails on the first series that cannot be loaded.
pub fn load_panel(source: &PanelSource, opts: &LoadOptions) -> Result<Vec<NamedSeries>, DataError> {
    load_panel_noted(source, opts).map(|(panel, _)| panel)
}

/// [`load_panel`], with the notes of what it decided (columns left out of series that have more).
pub fn load_panel_noted(
    source: &PanelSource,
    opts: &LoadOptions,
) -> Result<(Vec<NamedSeries>, Vec<String>), DataError> {
    let mut panel = match source {
        PanelSource::Files(paths) => load_files(paths, opts)?,
        PanelSource::Dir(dir) => load_files(&csv_files_in(dir)?, opts)?,
        PanelSource::Long { path, id_column } => load_long(path, id_column, opts)?,
    };
    let notes = if opts.features.is_none() {
        common_columns(&mut panel)
    } else {
        Vec::new()
    };
    check_feature_counts(&panel)?;
    Ok((panel, notes))
}

/// A column's name as the panel compares them: any case, Nasdaq's `Close/Last` as `Close`.
fn column_key(name: &str) -> String {
    let key = name.trim().to_ascii_lowercase();
    if key == "close/last" {
        "close".to_string()
    } else {
        key
    }
}

/// Keeps in every series only the feature columns every series has (each in its own order), and says
/// what was left out of which series. Nothing changes when the series already agree.
fn common_columns(panel: &mut [NamedSeries]) -> Vec<String> {
    let keys = |s: &NamedSeries| -> Vec<String> {
        s.series
            .feature_names
            .iter()
            .map(|n| column_key(n))
            .collect()
    };
    let everywhere: Vec<String> = match panel.first() {
        Some(first) => keys(first)
            .into_iter()
            .filter(|k| panel.iter().all(|s| keys(s).contains(k)))
            .collect(),
        None => return Vec::new(),
    };
    let mut notes = Vec::new();
    for s in panel.iter_mut() {
        let keep: Vec<usize> = keys(s)
            .iter()
            .enumerate()
            .filter(|(_, k)| everywhere.contains(k))
            .map(|(i, _)| i)
            .collect();
        if keep.len() == s.series.feature_names.len() || everywhere.is_empty() {
            continue;
        }
        let left_out: Vec<String> = (0..s.series.feature_names.len())
            .filter(|i| !keep.contains(i))
            .map(|i| s.series.feature_names[i].clone())
            .collect();
        notes.push(format!(
            "{} left out {} (not in every series of the panel; name the features with --features to \
             choose them)",
            describe(s),
            quoted_list(&left_out)
        ));
        let series = &mut s.series;
        series.feature_names = keep
            .iter()
            .map(|&i| series.feature_names[i].clone())
            .collect();
        for row in series.features.iter_mut() {
            *row = keep.iter().map(|&i| row[i]).collect();
        }
    }
    notes
}

/// Names are checked before anything is read, so a clash is reported without loading every file first.
fn load_files(paths: &[PathBuf], opts: &LoadOptions) -> Result<Vec<NamedSeries>, DataError> {
    if paths.is_empty() {
        return Err(DataError::Panel("no data file given".to_string()));
    }
    let names = paths
        .iter()
        .map(|p| series_name(p))
        .collect::<Result<Vec<_>, _>>()?;
    check_unique_names(paths, &names)?;
    names
        .into_iter()
        .zip(paths)
        .map(|(name, path)| match load_csv(path, opts) {
            Ok(series) => Ok(NamedSeries { name, series }),
            Err(error) => Err(in_series(name, error)),
        })
        .collect()
}

fn series_name(path: &Path) -> Result<String, DataError> {
    path.file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .ok_or_else(|| DataError::File {
            file: path.display().to_string(),
            problem: "not a file name, so it cannot name a series".to_string(),
        })
}

fn check_unique_names(paths: &[PathBuf], names: &[String]) -> Result<(), DataError> {
    for (i, name) in names.iter().enumerate() {
        if let Some(j) = names[..i].iter().position(|n| n == name) {
            return Err(DataError::Panel(format!(
                "two series would be named \"{name}\" (a file's series is named by its file name without \
                 the extension): {} and {}; give each file once, and rename one if they differ",
                paths[j].display(),
                paths[i].display()
            )));
        }
    }
    Ok(())
}

/// The `*.csv` files directly in `dir`, sorted by file name. Subdirectories are not searched: a
/// directory of results or backups next to the data should not silently join the panel.
fn csv_files_in(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let unreadable = |e: std::io::Error| DataError::File {
        file: dir.display().to_string(),
        problem: format!("cannot read the directory: {e}"),
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        let is_csv = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        if is_csv && path.is_file() {
            files.push(path);
        }
    }
    if files.is_empty() {
        return Err(DataError::File {
            file: dir.display().to_string(),
            problem: "the directory holds no *.csv file (subdirectories are not searched)"
                .to_string(),
        });
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(files)
}

fn check_feature_counts(panel: &[NamedSeries]) -> Result<(), DataError> {
    let Some(first) = panel.first() else {
        return Ok(());
    };
    let width = first.series.feature_names.len();
    match panel[1..]
        .iter()
        .find(|s| s.series.feature_names.len() != width)
    {
        None => Ok(()),
        Some(other) => Err(DataError::Panel(format!(
            "{} has {} features ({}) but {} has {} ({}): the series of a panel share one model, whose \
             input width is the number of features; choose the same features for all with --features",
            describe(other),
            other.series.feature_names.len(),
            quoted_list(&other.series.feature_names),
            describe(first),
            width,
            quoted_list(&first.series.feature_names),
        ))),
    }
}

fn describe(s: &NamedSeries) -> String {
    format!("series \"{}\" ({})", s.name, s.series.source)
}

fn in_series(name: String, error: DataError) -> DataError {
    DataError::Series {
        name,
        error: Box::new(error),
    }
}

fn path_list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads the long file once, cuts it into one CSV text per id and loads each with the single-file
/// loader, which reports lines and columns of the original file through the cut's [`Origin`].
fn load_long(
    path: &Path,
    id_column: &str,
    opts: &LoadOptions,
) -> Result<Vec<NamedSeries>, DataError> {
    let file = path.display().to_string();
    let text = read_text(path)?;
    split_by_id(&file, &text, id_column, opts)?
        .into_iter()
        .map(
            |cut| match load_csv_part(&file, &cut.text, opts, &cut.origin) {
                Ok(series) => Ok(NamedSeries {
                    name: cut.id,
                    series,
                }),
                Err(error) => Err(in_series(cut.id, error)),
            },
        )
        .collect()
}

/// The rows of one id as a CSV text of their own: the header and those rows, without the id column.
struct Cut {
    id: String,
    text: String,
    origin: Origin,
}

/// The long file's header and the column that holds the ids.
struct LongHeader<'a> {
    file: &'a str,
    record: csv::StringRecord,
    names: Vec<String>,
    line: u64,
    id_col: usize,
}

/// A [`Cut`] being written: the CSV writer and, for the header and each record, the byte offset where it
/// starts in the written text and the line where it starts in the file.
struct CutWriter {
    id: String,
    writer: csv::Writer<Vec<u8>>,
    starts: Vec<(usize, u64)>,
}

/// Splits a long-format text into one [`Cut`] per id, ids in order of first appearance.
fn split_by_id(
    file: &str,
    text: &str,
    id_column: &str,
    opts: &LoadOptions,
) -> Result<Vec<Cut>, DataError> {
    // The loader strips a byte-order mark too, but the id column must be found before it runs.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let starts = line_starts(text);
    let line = |p: Option<&csv::Position>| p.map_or(1, |p| line_at(text, &starts, p.byte()));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .delimiter(opts.delimiter)
        .flexible(true)
        .from_reader(text.as_bytes());
    let record = reader
        .headers()
        .map_err(|e| csv_error(file, e, &line))?
        .clone();
    let header_line = line(record.position());
    let header = LongHeader::new(file, record, id_column, header_line)?;

    let mut cuts: Vec<CutWriter> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(file, e, &line))?;
        let at = line(record.position());
        let id = header.id_of(&record, at)?;
        let k = match by_id.get(id) {
            Some(&k) => k,
            None => {
                cuts.push(CutWriter::new(id, &header, opts)?);
                by_id.insert(id.to_string(), cuts.len() - 1);
                cuts.len() - 1
            }
        };
        cuts[k].push(&record, header.id_col, at, file)?;
    }
    if cuts.is_empty() {
        return Err(DataError::Line {
            file: file.to_string(),
            line: header.line,
            problem: format!(
                "the file has a header ({}) but no data rows",
                quoted_list(&header.names)
            ),
        });
    }
    cuts.into_iter()
        .map(|c| c.finish(header.id_col, file))
        .collect()
}

impl<'a> LongHeader<'a> {
    fn new(
        file: &'a str,
        record: csv::StringRecord,
        id_column: &str,
        line: u64,
    ) -> Result<Self, DataError> {
        let names: Vec<String> = record.iter().map(|n| n.trim().to_string()).collect();
        let wanted = id_column.trim();
        if names.iter().all(|n| n.is_empty()) {
            return Err(DataError::File {
                file: file.to_string(),
                problem: format!(
                    "the file is empty: expected a header with the id column \"{wanted}\", a date \
                     column and value columns, followed by data rows"
                ),
            });
        }
        let header_error = |problem: String| DataError::Line {
            file: file.to_string(),
            line,
            problem,
        };
        let Some(id_col) = names
            .iter()
            .position(|n| n == wanted)
            .or_else(|| find_ignore_case(&names, wanted))
        else {
            return Err(header_error(format!(
                "no id column \"{wanted}\": no column has that name; the columns are {}; name the column \
                 that says which series each row belongs to with --id-column",
                quoted_list(&names)
            )));
        };
        // The loader checks the other columns for duplicate names, but never sees the id column.
        if let Some(twin) =
            (0..names.len()).find(|&c| c != id_col && names[c].eq_ignore_ascii_case(wanted))
        {
            return Err(header_error(format!(
                "columns {} and {} are both named \"{wanted}\" (ignoring case), so the id column is \
                 ambiguous",
                id_col.min(twin) + 1,
                id_col.max(twin) + 1
            )));
        }
        if names.len() < 2 {
            return Err(header_error(format!(
                "the id column \"{wanted}\" is the only column: there are no dates or values to load"
            )));
        }
        Ok(LongHeader {
            file,
            record,
            names,
            line,
            id_col,
        })
    }

    /// The row's id. Ragged rows are rejected here, where fields are counted as in the file: the loader
    /// would count them without the id column, one fewer than the user sees.
    fn id_of<'r>(&self, record: &'r csv::StringRecord, line: u64) -> Result<&'r str, DataError> {
        if record.len() != self.names.len() {
            return Err(DataError::Line {
                file: self.file.to_string(),
                line,
                problem: format!(
                    "the row \"{}\" has {} fields but the header has {} ({})",
                    record.iter().collect::<Vec<_>>().join(","),
                    record.len(),
                    self.names.len(),
                    quoted_list(&self.names)
                ),
            });
        }
        let id = record[self.id_col].trim();
        if id.is_empty() {
            return Err(DataError::Cell {
                file: self.file.to_string(),
                line,
                column: self.id_col + 1,
                name: self.names[self.id_col].clone(),
                problem: "empty id: every row needs the name of its series in this column"
                    .to_string(),
            });
        }
        Ok(id)
    }
}

impl CutWriter {
    fn new(id: &str, header: &LongHeader, opts: &LoadOptions) -> Result<Self, DataError> {
        let mut cut = CutWriter {
            id: id.to_string(),
            writer: csv::WriterBuilder::new()
                .delimiter(opts.delimiter)
                .from_writer(Vec::new()),
            starts: Vec::new(),
        };
        cut.push(&header.record, header.id_col, header.line, header.file)?;
        Ok(cut)
    }

    /// Writes `record` without its field `id_col`. The csv writer quotes whatever needs quoting, so the
    /// loader reads back exactly the fields of the file.
    fn push(
        &mut self,
        record: &csv::StringRecord,
        id_col: usize,
        line: u64,
        file: &str,
    ) -> Result<(), DataError> {
        // The writer buffers: flushed, the Vec's length is the offset where this record will start.
        self.writer.flush().map_err(|e| write_error(file, e))?;
        self.starts.push((self.writer.get_ref().len(), line));
        let fields = record
            .iter()
            .enumerate()
            .filter(|&(c, _)| c != id_col)
            .map(|(_, f)| f);
        self.writer
            .write_record(fields)
            .map_err(|e| write_error(file, e))
    }

    fn finish(self, id_col: usize, file: &str) -> Result<Cut, DataError> {
        let bytes = self.writer.into_inner().map_err(|e| write_error(file, e))?;
        let text = String::from_utf8(bytes).map_err(|e| write_error(file, e))?;
        let text_starts = line_starts(&text);
        let lines = self
            .starts
            .iter()
            .map(|&(byte, line)| (line_at(&text, &text_starts, byte as u64), line))
            .collect();
        Ok(Cut {
            id: self.id,
            text,
            origin: Origin {
                lines,
                removed_column: Some(id_col),
            },
        })
    }
}

/// Writing to memory cannot fail in practice; if it ever does, the user still gets a message, not a panic.
fn write_error(file: &str, e: impl std::fmt::Display) -> DataError {
    DataError::File {
        file: file.to_string(),
        problem: format!("cannot split the file by id: {e}"),
    }
}

fn csv_error(
    file: &str,
    e: csv::Error,
    line: &impl Fn(Option<&csv::Position>) -> u64,
) -> DataError {
    match e.position() {
        Some(p) => DataError::Line {
            file: file.to_string(),
            line: line(Some(p)),
            problem: format!("invalid CSV: {e}"),
        },
        None => DataError::File {
            file: file.to_string(),
            problem: format!("invalid CSV: {e}"),
        },
    }
}
