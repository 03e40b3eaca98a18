//! CSV → cleaned [`Series`].
//!
//! The steps, in order (each reports the first problem it finds, in file order):
//! 1. header: non-empty, no duplicate column names;
//! 2. rows: every row has as many fields as the header ("ragged" rows are errors, not padded);
//! 3. columns: the date column, the target column and the feature columns are resolved by name (by
//!    default every column except the date, an unnamed pandas index and text-only columns such as a
//!    ticker; the target and the usual price columns are never treated as text);
//! 4. cells: dates parsed, numbers cleaned (`$`, thousands separators `,`, surrounding spaces) and
//!    required to be finite;
//! 5. adjustment: with both `Close` and `Adj Close` and `adjust` on, Open/High/Low/Close are scaled by
//!    `Adj Close / Close` of their row (as yfinance's auto-adjust; Volume untouched) and `Adj Close` is
//!    dropped, because after adjusting it equals Close;
//! 6. rows sorted oldest first (Nasdaq downloads are newest first); two rows with the same date are errors.
//!
//! Lines are 1-based (header = line 1) and name the line where a record starts, so a quoted cell spanning
//! lines is reported where its record begins. They are derived from the csv crate's record position, but
//! from its byte offset, not its `line()`: in csv 1.4 `line()` is one too low for every data row of a CRLF
//! file (the Nasdaq downloads) and does not count blank lines.

use std::path::Path;

use chrono::NaiveDate;

use super::dates::parse_date;
use super::{DataError, LoadOptions, Series, SourceFormat};

/// Column names recognised as the date column when none is given (compared case-insensitively).
const DATE_COLUMN_NAMES: [&str; 3] = ["date", "datetime", "timestamp"];
/// Column names recognised as the target when none is given (compared case-insensitively).
pub(crate) const TARGET_COLUMN_NAMES: [&str; 2] = ["close", "close/last"];
/// Columns scaled by `Adj Close / Close` when adjusting (compared case-insensitively). Close itself is
/// replaced by Adj Close, which is the same product without the rounding.
const ADJUSTED_PRICE_NAMES: [&str; 3] = ["open", "high", "low"];
const ADJ_CLOSE_NAME: &str = "adj close";
const CLOSE_NAME: &str = "close";

/// Reads and cleans a CSV file. Errors name the path as given.
pub fn load_csv(path: &Path, opts: &LoadOptions) -> Result<Series, DataError> {
    let text = read_text(path)?;
    load_csv_str(&path.display().to_string(), &text, opts)
}

/// Reads a whole file as UTF-8 text. Errors name the path as given.
pub(crate) fn read_text(path: &Path) -> Result<String, DataError> {
    let source = path.display().to_string();
    let io = |e| DataError::Io {
        path: source.clone(),
        source: e,
    };
    // Size and modification time around the read: a file rewritten meanwhile (a download still
    // running, an export in progress) would otherwise be parsed half old, half new.
    let stamp = |m: std::fs::Metadata| (m.len(), m.modified().ok());
    let before = std::fs::metadata(path).map(stamp).map_err(io)?;
    let text = std::fs::read_to_string(path).map_err(io)?;
    let after = std::fs::metadata(path).map(stamp).map_err(io)?;
    if before != after || before.0 != text.len() as u64 {
        return Err(DataError::File {
            file: source,
            problem: "the file changed while it was being read (is a download or export still \
                      writing it?); run again once it is complete"
                .to_string(),
        });
    }
    Ok(text)
}

/// Parses CSV text. `source_name` is used in error messages and stored as [`Series::source`].
pub fn load_csv_str(
    source_name: &str,
    text: &str,
    opts: &LoadOptions,
) -> Result<Series, DataError> {
    load_text(source_name, text, opts, None)
}

/// Where a CSV text cut out of a larger file came from (the rows of one series of a long-format panel,
/// without the id column), so that its errors name the larger file's lines and columns.
#[derive(Debug, Clone, Default)]
pub(crate) struct Origin {
    /// `(line in the text, line in the file)` where the header and each record start, ascending. A line
    /// between two entries is as far past the earlier entry in the file as in the text (the lines of a
    /// record with a quoted line break).
    pub lines: Vec<(u64, u64)>,
    /// The file's column (0-based) left out of the text: the text's columns from it on are one further
    /// right in the file.
    pub removed_column: Option<usize>,
}

impl Origin {
    fn file_line(&self, text_line: u64) -> u64 {
        let before = self.lines.partition_point(|&(t, _)| t <= text_line);
        match before.checked_sub(1).map(|i| self.lines[i]) {
            Some((t, f)) => f + (text_line - t),
            None => text_line,
        }
    }

    fn file_column(&self, text_column: usize) -> usize {
        match self.removed_column {
            Some(removed) if text_column >= removed => text_column + 1,
            _ => text_column,
        }
    }
}

/// [`load_csv_str`] for text cut out of the file `source_name` as `origin` says.
pub(crate) fn load_csv_part(
    source_name: &str,
    text: &str,
    opts: &LoadOptions,
    origin: &Origin,
) -> Result<Series, DataError> {
    load_text(source_name, text, opts, Some(origin))
}

fn load_text(
    source_name: &str,
    text: &str,
    opts: &LoadOptions,
    origin: Option<&Origin>,
) -> Result<Series, DataError> {
    // A UTF-8 byte-order mark (written by Excel) would otherwise become part of the first column name.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    Loader {
        file: source_name.to_string(),
        text,
        line_starts: line_starts(text),
        decimal: opts.decimal,
        origin,
    }
    .load(opts)
}

/// One data row as read: its line and its raw fields (already checked to match the header's width).
struct RawRow {
    line: u64,
    fields: csv::StringRecord,
}

/// A parsed row before sorting.
struct ParsedRow {
    line: u64,
    date: NaiveDate,
    /// Values of the columns in `Plan::parsed`, in that order.
    values: Vec<f64>,
    /// The target as the file has it, before any adjusting.
    raw_target: f64,
}

/// Which columns are read and what becomes of them.
struct Plan {
    date: usize,
    /// Column indices parsed as numbers, ascending (file order, so errors come in reading order).
    parsed: Vec<usize>,
    /// Column indices of the features, in the order the caller asked for.
    features: Vec<usize>,
    target: usize,
    /// `(close, adj_close)` column indices when adjusting.
    adjust: Option<(usize, usize)>,
}

/// Carries the file name and text so every error can name the file and the line.
struct Loader<'a> {
    file: String,
    text: &'a str,
    /// Byte offset of the start of every line of `text`.
    line_starts: Vec<usize>,
    /// The decimal mark of numeric cells.
    decimal: char,
    /// Set when the text is part of a larger file: lines and columns are reported as the file's.
    origin: Option<&'a Origin>,
}

impl Loader<'_> {
    fn load(&self, opts: &LoadOptions) -> Result<Series, DataError> {
        let text = self.text;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .delimiter(opts.delimiter)
            // Ragged rows are checked below, so that the message can say which column is missing.
            .flexible(true)
            .from_reader(text.as_bytes());

        let header_record = reader.headers().map_err(|e| self.csv_error(e))?.clone();
        let header_line = self.line_of(header_record.position());
        let names: Vec<String> = header_record.iter().map(|n| n.trim().to_string()).collect();
        if names.iter().all(|n| n.is_empty()) {
            return Err(DataError::File {
                file: self.file.clone(),
                problem: "the file is empty: expected a header line such as \
                          Date,Open,High,Low,Close,Volume followed by data rows"
                    .to_string(),
            });
        }
        self.check_separator(&names, opts, header_line)?;
        self.check_unique_names(&names, header_line)?;

        let rows = self.read_rows(&mut reader, &names)?;
        if rows.is_empty() {
            return Err(DataError::Line {
                file: self.file.clone(),
                line: header_line,
                problem: format!(
                    "the file has a header ({}) but no data rows",
                    quoted_list(&names)
                ),
            });
        }

        let format = detect_format(&names);
        let plan = self.plan(&names, &rows, opts, header_line)?;
        let mut parsed = self.parse_rows(&names, &rows, &plan)?;
        if let Some((close, adj_close)) = plan.adjust {
            self.adjust_prices(&names, &rows, &plan, close, adj_close, &mut parsed)?;
        }

        // Oldest first; equal dates end up adjacent, and the later of the two lines is reported.
        parsed.sort_by_key(|r| r.date);
        for pair in parsed.windows(2) {
            if pair[0].date == pair[1].date {
                let (first, second) = if pair[0].line < pair[1].line {
                    (&pair[0], &pair[1])
                } else {
                    (&pair[1], &pair[0])
                };
                let raw = cell_text(&rows, second.line, plan.date);
                return Err(self.cell_error(
                    second.line,
                    plan.date,
                    &names,
                    format!(
                        "duplicate date \"{raw}\" ({}): line {} has the same date",
                        second.date, first.line
                    ),
                ));
            }
        }

        let position = |col: usize| plan.parsed.iter().position(|&c| c == col);
        // Every feature and the target are in `plan.parsed` by construction of the plan.
        let feature_slots: Vec<usize> = plan.features.iter().filter_map(|&c| position(c)).collect();
        let target_slot = position(plan.target).unwrap_or(0);
        Ok(Series {
            source: self.file.clone(),
            format,
            dates: parsed.iter().map(|r| r.date).collect(),
            feature_names: plan.features.iter().map(|&c| names[c].clone()).collect(),
            features: parsed
                .iter()
                .map(|r| feature_slots.iter().map(|&s| r.values[s]).collect())
                .collect(),
            target_name: names[plan.target].clone(),
            target: parsed.iter().map(|r| r.values[target_slot]).collect(),
            adjusted: plan.adjust.is_some(),
            raw_last_target: plan
                .adjust
                .and_then(|_| parsed.last())
                .map(|r| r.raw_target),
            warmup_rows_dropped: 0,
        })
    }

    /// Two columns with one name would make selection by name ambiguous.
    fn check_unique_names(&self, names: &[String], header_line: u64) -> Result<(), DataError> {
        for (col, name) in names.iter().enumerate() {
            if name.is_empty() {
                continue;
            }
            if let Some(earlier) = names[..col]
                .iter()
                .position(|n| n.eq_ignore_ascii_case(name))
            {
                return Err(self.cell_error(
                    header_line,
                    col,
                    names,
                    format!(
                        "duplicate column name \"{name}\" (column {} has the same name)",
                        self.column_number(earlier)
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Reads every data row, rejecting rows whose field count differs from the header's.
    fn read_rows(
        &self,
        reader: &mut csv::Reader<&[u8]>,
        names: &[String],
    ) -> Result<Vec<RawRow>, DataError> {
        let mut rows = Vec::new();
        for record in reader.records() {
            let fields = record.map_err(|e| self.csv_error(e))?;
            let line = self.line_of(fields.position());
            let row_text = fields.iter().collect::<Vec<_>>().join(",");
            if fields.len() < names.len() {
                // Name the first column that has no field, so the user sees what is missing.
                return Err(self.cell_error(
                    line,
                    fields.len(),
                    names,
                    format!(
                        "missing field: the row \"{row_text}\" has {} fields but the header has {}",
                        fields.len(),
                        names.len()
                    ),
                ));
            }
            if fields.len() > names.len() {
                let extra = &fields[names.len()];
                return Err(DataError::Line {
                    file: self.file.clone(),
                    line,
                    problem: format!(
                        "extra field \"{extra}\" in column {}: the row \"{row_text}\" has {} fields but \
                         the header has {}",
                        self.column_number(names.len()),
                        fields.len(),
                        names.len()
                    ),
                });
            }
            rows.push(RawRow { line, fields });
        }
        Ok(rows)
    }

    /// Resolves the date, feature and target columns and decides whether to adjust.
    fn plan(
        &self,
        names: &[String],
        rows: &[RawRow],
        opts: &LoadOptions,
        header_line: u64,
    ) -> Result<Plan, DataError> {
        let date = match &opts.date_column {
            Some(wanted) => self.find_column(names, wanted, "date column", header_line)?,
            None => names
                .iter()
                .position(|n| DATE_COLUMN_NAMES.iter().any(|d| n.eq_ignore_ascii_case(d)))
                .ok_or_else(|| {
                    self.header_error(
                        header_line,
                        format!(
                            "no date column: expected a column named Date, Datetime or timestamp (any \
                             case); the columns are {}; name the date column with --date-column",
                            quoted_list(names)
                        ),
                    )
                })?,
        };

        let close = find_ignore_case(names, CLOSE_NAME);
        let adj_close = find_ignore_case(names, ADJ_CLOSE_NAME);
        let adjust = match (opts.adjust, close, adj_close) {
            (true, Some(c), Some(a)) => Some((c, a)),
            _ => None,
        };

        let target = match &opts.target {
            Some(name) => self.find_value_column(names, name, "target", date, adjust, header_line)?,
            None => names
                .iter()
                .position(|n| TARGET_COLUMN_NAMES.iter().any(|t| n.eq_ignore_ascii_case(t)))
                .ok_or_else(|| {
                    self.header_error(
                        header_line,
                        format!(
                            "no target column: there is no column named Close or Close/Last; the columns \
                             are {}; choose the column to predict with --target",
                            quoted_list(names)
                        ),
                    )
                })?,
        };

        let features = match &opts.features {
            Some(wanted) => {
                if wanted.is_empty() {
                    return Err(self.header_error(
                        header_line,
                        format!(
                            "no features selected; choose some of {} with --features",
                            quoted_list(names)
                        ),
                    ));
                }
                let mut cols = Vec::with_capacity(wanted.len());
                for name in wanted {
                    let col =
                        self.find_value_column(names, name, "feature", date, adjust, header_line)?;
                    if cols.contains(&col) {
                        return Err(self.header_error(
                            header_line,
                            format!("feature \"{name}\" is listed twice"),
                        ));
                    }
                    cols.push(col);
                }
                cols
            }
            None => {
                let cols: Vec<usize> = (0..names.len())
                    .filter(|&c| {
                        c != date
                            && Some(c) != adjust.map(|(_, a)| a)
                            // An unnamed column is almost always a pandas index (0, 1, 2, ...).
                            && !names[c].is_empty()
                            // The target and known price columns are always parsed, so a bad cell in
                            // them is reported rather than the column being taken for text.
                            && (c == target
                                || is_price_column(&names[c])
                                || !is_text_column(rows, c, self.decimal))
                    })
                    .collect();
                if cols.is_empty() {
                    return Err(self.header_error(
                        header_line,
                        format!(
                            "no numeric feature columns: every column other than the date holds text or \
                             has no name; the columns are {}; choose features with --features",
                            quoted_list(names)
                        ),
                    ));
                }
                cols
            }
        };

        let mut parsed: Vec<usize> = features.clone();
        parsed.push(target);
        if let Some((c, a)) = adjust {
            parsed.extend([c, a]);
        }
        parsed.sort_unstable();
        parsed.dedup();
        Ok(Plan {
            date,
            parsed,
            features,
            target,
            adjust,
        })
    }

    /// A feature or target column: must exist, must not be the date column, and must not be Adj Close
    /// when adjusting (`adjust` = `(close, adj_close)`): the adjusted Close is then the same series.
    fn find_value_column(
        &self,
        names: &[String],
        wanted: &str,
        role: &str,
        date: usize,
        adjust: Option<(usize, usize)>,
        header_line: u64,
    ) -> Result<usize, DataError> {
        let col = self.find_column(names, wanted, role, header_line)?;
        if col == date {
            return Err(self.header_error(
                header_line,
                format!("{role} \"{wanted}\" is the date column, which cannot be a number"),
            ));
        }
        if let Some((close, adj_close)) = adjust {
            if col == adj_close {
                return Err(self.header_error(
                    header_line,
                    format!(
                        "{role} \"{wanted}\" is dropped when adjusting prices: the adjusted \"{}\" column \
                         is the same series; use that, or load without adjusting",
                        names[close]
                    ),
                ));
            }
        }
        Ok(col)
    }

    /// Exact name first, then a unique case-insensitive match (header names are unique ignoring case).
    fn find_column(
        &self,
        names: &[String],
        wanted: &str,
        role: &str,
        header_line: u64,
    ) -> Result<usize, DataError> {
        let wanted_trimmed = wanted.trim();
        names
            .iter()
            .position(|n| n == wanted_trimmed)
            .or_else(|| find_ignore_case(names, wanted_trimmed))
            .ok_or_else(|| {
                self.header_error(
                    header_line,
                    format!(
                        "unknown {role} \"{wanted}\": no column has that name; the columns are {}",
                        quoted_list(names)
                    ),
                )
            })
    }

    /// Parses the date and the planned numeric columns of every row, in file order.
    fn parse_rows(
        &self,
        names: &[String],
        rows: &[RawRow],
        plan: &Plan,
    ) -> Result<Vec<ParsedRow>, DataError> {
        let mut parsed = Vec::with_capacity(rows.len());
        for row in rows {
            let date = parse_date(&row.fields[plan.date])
                .map_err(|problem| self.cell_error(row.line, plan.date, names, problem))?;
            let mut values = Vec::with_capacity(plan.parsed.len());
            for &col in &plan.parsed {
                let value = parse_number_with(&row.fields[col], self.decimal)
                    .map_err(|problem| self.cell_error(row.line, col, names, problem))?;
                values.push(value);
            }
            let raw_target = plan
                .parsed
                .iter()
                .position(|&c| c == plan.target)
                .map_or(f64::NAN, |s| values[s]);
            parsed.push(ParsedRow {
                line: row.line,
                date,
                values,
                raw_target,
            });
        }
        Ok(parsed)
    }

    /// Scales Open/High/Low by `Adj Close / Close` and replaces Close with Adj Close, row by row.
    fn adjust_prices(
        &self,
        names: &[String],
        rows: &[RawRow],
        plan: &Plan,
        close: usize,
        adj_close: usize,
        parsed: &mut [ParsedRow],
    ) -> Result<(), DataError> {
        let slot = |col: usize| plan.parsed.iter().position(|&c| c == col);
        // Both are in `plan.parsed` whenever `plan.adjust` is set.
        let (Some(close_slot), Some(adj_slot)) = (slot(close), slot(adj_close)) else {
            return Ok(());
        };
        let scaled_slots: Vec<usize> = plan
            .parsed
            .iter()
            .enumerate()
            .filter(|(_, &c)| {
                ADJUSTED_PRICE_NAMES
                    .iter()
                    .any(|p| names[c].eq_ignore_ascii_case(p))
            })
            .map(|(s, _)| s)
            .collect();
        for (row, raw) in parsed.iter_mut().zip(rows) {
            let raw_close = row.values[close_slot];
            if raw_close <= 0.0 {
                return Err(self.cell_error(
                    raw.line,
                    close,
                    names,
                    format!(
                        "Close \"{}\" is not positive, but adjusting prices divides by it (factor = Adj Close \
                         / Close); fix the row or load without adjusting",
                        &raw.fields[close]
                    ),
                ));
            }
            let factor = row.values[adj_slot] / raw_close;
            for &s in &scaled_slots {
                row.values[s] *= factor;
            }
            row.values[close_slot] = row.values[adj_slot];
        }
        Ok(())
    }

    /// 1-based line of the file where the record at `position` starts.
    fn line_of(&self, position: Option<&csv::Position>) -> u64 {
        let Some(position) = position else {
            return 1;
        };
        let line = line_at(self.text, &self.line_starts, position.byte());
        self.origin.map_or(line, |o| o.file_line(line))
    }

    /// 1-based column of the file for the 0-based column `col` of the text.
    fn column_number(&self, col: usize) -> usize {
        self.origin.map_or(col, |o| o.file_column(col)) + 1
    }

    fn cell_error(&self, line: u64, col: usize, names: &[String], problem: String) -> DataError {
        DataError::Cell {
            file: self.file.clone(),
            line,
            column: self.column_number(col),
            name: names.get(col).cloned().unwrap_or_default(),
            problem,
        }
    }

    fn header_error(&self, line: u64, problem: String) -> DataError {
        DataError::Line {
            file: self.file.clone(),
            line,
            problem,
        }
    }

    /// The csv crate's own errors (reading from a `&str` they are rare: flexible mode accepts any row width).
    /// One column whose name holds another common separator: the file uses that separator.
    fn check_separator(
        &self,
        names: &[String],
        opts: &LoadOptions,
        line: u64,
    ) -> Result<(), DataError> {
        let [only] = names else { return Ok(()) };
        let Some(sep) = [';', '\t', '|']
            .into_iter()
            .find(|&c| c as u8 != opts.delimiter && only.contains(c))
        else {
            return Ok(());
        };
        let shown = if sep == '\t' {
            "tab".to_string()
        } else {
            format!("'{sep}'")
        };
        let decimal = if sep == ';' {
            " (and --decimal ',' if numbers are written like 217,96)"
        } else {
            ""
        };
        Err(DataError::Line {
            file: self.file.clone(),
            line,
            problem: format!(
                "the header \"{only}\" reads as one column: the fields look separated by {shown}, not '{}'; \
                 use --delimiter {shown}{decimal}",
                opts.delimiter as char
            ),
        })
    }

    fn csv_error(&self, e: csv::Error) -> DataError {
        match e.position() {
            Some(p) => DataError::Line {
                file: self.file.clone(),
                line: self.line_of(Some(p)),
                problem: format!("invalid CSV: {e}"),
            },
            None => DataError::File {
                file: self.file.clone(),
                problem: format!("invalid CSV: {e}"),
            },
        }
    }
}

/// Cleans and parses one numeric cell: surrounding spaces, `$` and thousands separators `,` are removed
/// (as the reference script did with `str.replace`). NaN and infinities, including overflow such as
/// `1e999`, are rejected: one of them would poison every scaled value of its column.
pub fn parse_number(cell: &str) -> Result<f64, String> {
    parse_number_with(cell, '.')
}

/// [`parse_number`] for a decimal mark `decimal` (`.` or `,`; with `,`, the `.` and spaces are the
/// thousands separators: `1.234,50` is 1234.5).
pub fn parse_number_with(cell: &str, decimal: char) -> Result<f64, String> {
    if cell.trim().is_empty() {
        return Err("empty cell where a number is expected".to_string());
    }
    let value: f64 = clean_number(cell, decimal)
        .parse()
        .map_err(|_| format!("cannot parse \"{cell}\" as a number"))?;
    if value.is_finite() {
        Ok(value)
    } else {
        Err(format!(
            "\"{cell}\" is not a finite number (NaN and infinities cannot be scaled or trained on)"
        ))
    }
}

fn clean_number(cell: &str, decimal: char) -> String {
    let cleaned: String = if decimal == ',' {
        cell.chars()
            .filter(|&c| c != '$' && c != '.' && c != ' ' && c != '\u{a0}' && c != '\u{202f}')
            .map(|c| if c == ',' { '.' } else { c })
            .collect()
    } else {
        cell.chars().filter(|&c| c != '$' && c != ',').collect()
    };
    cleaned.trim().to_string()
}

/// Columns of price files, never taken for text (compared case-insensitively).
fn is_price_column(name: &str) -> bool {
    [
        "open",
        "high",
        "low",
        "close",
        "close/last",
        "adj close",
        "volume",
    ]
    .iter()
    .any(|p| name.eq_ignore_ascii_case(p))
}

/// A column whose every cell is non-empty and none of which reads as a number (a ticker, a note) is text,
/// and is left out of the default features. One number in it makes it numeric, so a typo in a price
/// column is reported instead of silently dropping the column.
fn is_text_column(rows: &[RawRow], col: usize, decimal: char) -> bool {
    rows.iter().all(|r| {
        let cell = &r.fields[col];
        !cell.trim().is_empty() && clean_number(cell, decimal).parse::<f64>().is_err()
    })
}

/// Byte offsets where lines start. A line ends at `\n`, `\r\n` or a lone `\r`, the terminators the csv
/// crate accepts.
pub(crate) fn line_starts(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = vec![0];
    for (i, &b) in bytes.iter().enumerate() {
        let ends_line = b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
        if ends_line {
            starts.push(i + 1);
        }
    }
    starts
}

/// 1-based line of `text` holding the byte at offset `byte`, given the text's [`line_starts`]. The csv
/// crate's byte offset of a record can point at the line terminator left over from the previous record
/// (the `\n` of a CRLF) or at blank lines it skipped, so those are stepped over first.
pub(crate) fn line_at(text: &str, line_starts: &[usize], byte: u64) -> u64 {
    let bytes = text.as_bytes();
    let mut at = usize::try_from(byte).unwrap_or(bytes.len());
    while at < bytes.len() && (bytes[at] == b'\r' || bytes[at] == b'\n') {
        at += 1;
    }
    // Lines that start at or before `at`; line_starts[0] = 0, so this is at least 1.
    line_starts.partition_point(|&start| start <= at) as u64
}

pub(crate) fn find_ignore_case(names: &[String], wanted: &str) -> Option<usize> {
    names.iter().position(|n| n.eq_ignore_ascii_case(wanted))
}

/// The raw text of a row's cell, looked up by line (for messages about rows already parsed).
fn cell_text(rows: &[RawRow], line: u64, col: usize) -> String {
    rows.iter()
        .find(|r| r.line == line)
        .map(|r| r.fields[col].to_string())
        .unwrap_or_default()
}

/// Nasdaq and Yahoo are recognised by their exact column sets (any case, any order for Yahoo).
fn detect_format(names: &[String]) -> SourceFormat {
    let lower: Vec<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
    let nasdaq = ["date", "close/last", "volume", "open", "high", "low"];
    if lower.len() == nasdaq.len() && lower.iter().zip(nasdaq).all(|(a, b)| a == b) {
        return SourceFormat::Nasdaq;
    }
    let yahoo = ["date", "open", "high", "low", "close", "volume"];
    let has_all = yahoo.iter().all(|y| lower.iter().any(|n| n == y));
    let only_known = lower
        .iter()
        .all(|n| yahoo.contains(&n.as_str()) || n == ADJ_CLOSE_NAME);
    if has_all && only_known {
        SourceFormat::Yahoo
    } else {
        SourceFormat::Generic
    }
}

pub(crate) fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_cleaned_of_dollars_separators_and_spaces() {
        assert_eq!(parse_number(" $1,234.50 "), Ok(1234.5));
        assert_eq!(parse_number("-0.25"), Ok(-0.25));
        assert_eq!(parse_number("1e3"), Ok(1000.0));
        assert!(parse_number("").unwrap_err().contains("empty cell"));
        assert!(parse_number("abc").unwrap_err().contains("\"abc\""));
        for bad in ["nan", "NaN", "inf", "-inf", "infinity", "1e999"] {
            assert!(
                parse_number(bad)
                    .unwrap_err()
                    .contains("not a finite number"),
                "{bad}"
            );
        }
    }

    #[test]
    fn formats_are_recognised_by_their_headers() {
        let names = |s: &str| s.split(',').map(String::from).collect::<Vec<_>>();
        assert_eq!(
            detect_format(&names("Date,Close/Last,Volume,Open,High,Low")),
            SourceFormat::Nasdaq
        );
        assert_eq!(
            detect_format(&names("Date,Open,High,Low,Close,Adj Close,Volume")),
            SourceFormat::Yahoo
        );
        assert_eq!(
            detect_format(&names("Date,Open,High,Low,Close,Volume")),
            SourceFormat::Yahoo
        );
        assert_eq!(
            detect_format(&names("Date,Open,High,Low,Close,Volume,Ticker")),
            SourceFormat::Generic
        );
        assert_eq!(
            detect_format(&names("timestamp,load")),
            SourceFormat::Generic
        );
    }
}
