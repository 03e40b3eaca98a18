//! Series from columns already in memory (a DataFrame's arrays, handed over by the Python package)
//! instead of a CSV file: the same [`Series`] the loader makes, after the checks the loader makes on
//! cells that are already numbers and dates (finite values, dates strictly increasing within a series,
//! no duplicate dates). Errors name the column and the frame's row (0-based, as pandas and polars count)
//! and the series.

use chrono::NaiveDate;

use super::{DataError, NamedSeries, Series, SourceFormat};

/// What a frame's errors and [`Series::source`] call it.
pub const FRAME_SOURCE: &str = "DataFrame";

/// One numeric column of a frame, every series' rows in frame order.
#[derive(Debug, Clone)]
pub struct FrameColumn<'a> {
    pub name: String,
    pub values: &'a [f64],
}

/// A long-format frame as columns: `ids[i]` is row `i`'s series (an index into `names`), `days[i]` its
/// date as days since 1970-01-01 and `rows[i]` the row number to report for it.
#[derive(Debug, Clone)]
pub struct Frame<'a> {
    pub id_column: String,
    pub time_column: String,
    pub names: Vec<String>,
    pub ids: &'a [u32],
    pub days: &'a [i64],
    pub rows: &'a [i64],
    /// Feature columns in the order the model reads them.
    pub features: Vec<FrameColumn<'a>>,
    /// The column to predict.
    pub target: FrameColumn<'a>,
}

fn problem(text: String) -> DataError {
    DataError::File {
        file: FRAME_SOURCE.to_string(),
        problem: text,
    }
}

impl Frame<'_> {
    /// The frame's series, in order of `names`, each oldest first. Every row of a series must come
    /// after the previous row of that series in time (the frame sorted by id and date, as
    /// neuralforecast expects); a series without rows is left out.
    pub fn series(&self) -> Result<Vec<NamedSeries>, DataError> {
        let n = self.ids.len();
        if self.days.len() != n
            || self.rows.len() != n
            || self.target.values.len() != n
            || self.features.iter().any(|c| c.values.len() != n)
        {
            return Err(problem(
                "the columns of the frame have different lengths".to_string(),
            ));
        }
        if n == 0 {
            return Err(problem("the frame has no rows".to_string()));
        }
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); self.names.len()];
        for (i, &id) in self.ids.iter().enumerate() {
            let Some(list) = members.get_mut(id as usize) else {
                return Err(problem(format!(
                    "row {}: series index {id} outside the {} series",
                    self.rows[i],
                    self.names.len()
                )));
            };
            list.push(i);
        }
        let mut panel = Vec::new();
        for (name, rows) in self.names.iter().zip(&members) {
            if rows.is_empty() {
                continue;
            }
            panel.push(NamedSeries {
                name: name.clone(),
                series: self.one(name, rows)?,
            });
        }
        Ok(panel)
    }

    fn date(&self, name: &str, i: usize) -> Result<NaiveDate, DataError> {
        let day = self.days[i];
        i32::try_from(day)
            .ok()
            .and_then(|d| NaiveDate::from_num_days_from_ce_opt(d.checked_add(719_163)?))
            .ok_or_else(|| {
                problem(format!(
                    "row {} (column \"{}\", series \"{name}\"): day {day} since 1970-01-01 is not a date",
                    self.rows[i], self.time_column
                ))
            })
    }

    fn one(&self, name: &str, rows: &[usize]) -> Result<Series, DataError> {
        let mut dates = Vec::with_capacity(rows.len());
        for (k, &i) in rows.iter().enumerate() {
            let date = self.date(name, i)?;
            if k > 0 {
                let prev = rows[k - 1];
                let before = dates[k - 1];
                if date == before {
                    return Err(problem(format!(
                        "rows {} and {} (column \"{}\"): series \"{name}\" has the date {date} twice; \
                         every ({}, {}) pair must be unique",
                        self.rows[prev], self.rows[i], self.time_column, self.id_column, self.time_column
                    )));
                }
                if date < before {
                    return Err(problem(format!(
                        "row {} (column \"{}\"): series \"{name}\" goes back in time ({date} after \
                         {before} in row {}); sort the frame by ({}, {})",
                        self.rows[i], self.time_column, self.rows[prev], self.id_column, self.time_column
                    )));
                }
            }
            dates.push(date);
        }
        let check = |col: &FrameColumn| -> Result<Vec<f64>, DataError> {
            rows.iter()
                .enumerate()
                .map(|(k, &i)| {
                    let v = col.values[i];
                    if v.is_finite() {
                        Ok(v)
                    } else {
                        Err(problem(format!(
                            "row {} (column \"{}\", series \"{name}\", {} {}): {} is not a finite number; \
                             fill or drop the missing values first",
                            self.rows[i],
                            col.name,
                            self.time_column,
                            dates[k],
                            if v.is_nan() { "NaN".to_string() } else { v.to_string() }
                        )))
                    }
                })
                .collect()
        };
        let target = check(&self.target)?;
        let columns: Vec<Vec<f64>> = self.features.iter().map(check).collect::<Result<_, _>>()?;
        let features = (0..rows.len())
            .map(|r| columns.iter().map(|c| c[r]).collect())
            .collect();
        Ok(Series {
            source: FRAME_SOURCE.to_string(),
            format: SourceFormat::Generic,
            dates,
            feature_names: self.features.iter().map(|c| c.name.clone()).collect(),
            features,
            target_name: self.target.name.clone(),
            target,
            adjusted: false,
            raw_last_target: None,
            warmup_rows_dropped: 0,
        })
    }
}
