//! `--features` expressions: derived inputs computed from a series' columns without look-ahead.
//!
//! A list is comma-separated expressions; an expression is a column name (as the file spells it, any
//! text without `,` `(` `)`; any case; `Close` also names Nasdaq's `Close/Last`), a function of
//! expressions, or a whole number (a window length):
//!
//! | function | value at row t | rows it cannot compute |
//! |---|---|---|
//! | `return(X)` | `X[t] / X[t−1] − 1` | 1 |
//! | `log_return(X)` | `ln(X[t] / X[t−1])` | 1 |
//! | `diff(X)` | `X[t] − X[t−1]` | 1 |
//! | `log(X)` | `ln X[t]` | 0 |
//! | `range(H,L,C)` | `(H[t] − L[t]) / C[t]` | 0 |
//! | `ratio(X,Y)` | `X[t] / Y[t]` | 0 |
//! | `rolling_mean(X,n)` | mean of `X[t−n+1..=t]` | n − 1 |
//! | `rolling_std(X,n)` | sample std (ddof 1, pandas' default) of `X[t−n+1..=t]` | n − 1 |
//! | `day_of_week` | 0 (Monday) … 6 (Sunday), pandas' `dayofweek` | 0 |
//!
//! Nested functions add up (`rolling_std(log_return(Close),20)` cannot compute its first 20 rows). Every
//! value at row t reads rows ≤ t only; the first rows any feature cannot compute are dropped from the
//! series (dates, features and target together) and counted in [`Series::warmup_rows_dropped`].
//! Errors name `--features` and the 1-based character position in it.

use super::{DataError, LoadOptions, Series};

impl LoadOptions {
    /// Reads the features `list` names: plain columns through the loader, as before; a list with
    /// functions from every numeric column, derived after loading.
    pub fn select(&mut self, list: FeatureList) {
        if list.is_plain() {
            self.features = Some(list.column_names());
            self.derive = None;
        } else {
            self.features = None;
            self.derive = Some(list);
        }
    }
}

/// A parsed expression; `at` is the 1-based character position of its first character in the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Column {
        name: String,
        at: usize,
    },
    Number {
        value: usize,
        at: usize,
    },
    Call {
        func: Func,
        args: Vec<Expr>,
        at: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Return,
    LogReturn,
    Diff,
    Log,
    Range,
    Ratio,
    RollingMean,
    RollingStd,
    DayOfWeek,
}

/// Which arguments a function takes: series (`S`) or window lengths (`N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arg {
    S,
    N,
}

impl Func {
    const ALL: [Func; 9] = [
        Func::Return,
        Func::LogReturn,
        Func::Diff,
        Func::Log,
        Func::Range,
        Func::Ratio,
        Func::RollingMean,
        Func::RollingStd,
        Func::DayOfWeek,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Func::Return => "return",
            Func::LogReturn => "log_return",
            Func::Diff => "diff",
            Func::Log => "log",
            Func::Range => "range",
            Func::Ratio => "ratio",
            Func::RollingMean => "rolling_mean",
            Func::RollingStd => "rolling_std",
            Func::DayOfWeek => "day_of_week",
        }
    }

    fn args(self) -> &'static [Arg] {
        match self {
            Func::Return | Func::LogReturn | Func::Diff | Func::Log => &[Arg::S],
            Func::Range => &[Arg::S, Arg::S, Arg::S],
            Func::Ratio => &[Arg::S, Arg::S],
            Func::RollingMean | Func::RollingStd => &[Arg::S, Arg::N],
            Func::DayOfWeek => &[],
        }
    }

    fn signature(self) -> String {
        let names = ["X", "Y", "Z"];
        let args: Vec<&str> = self
            .args()
            .iter()
            .enumerate()
            .map(|(i, a)| if *a == Arg::N { "n" } else { names[i] })
            .collect();
        match self {
            Func::Range => "range(High,Low,Close)".to_string(),
            Func::DayOfWeek => "day_of_week".to_string(),
            _ => format!("{}({})", self.name(), args.join(",")),
        }
    }

    fn by_name(name: &str) -> Option<Func> {
        Func::ALL.into_iter().find(|f| f.name() == name)
    }
}

fn error(at: usize, problem: impl std::fmt::Display) -> DataError {
    DataError::Features(format!("--features, character {at}: {problem}"))
}

/// A parsed `--features` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureList {
    pub exprs: Vec<Expr>,
}

impl FeatureList {
    /// Parses `text` (the whole `--features` value).
    pub fn parse(text: &str) -> Result<FeatureList, DataError> {
        let chars: Vec<char> = text.chars().collect();
        let mut p = Parser { chars, pos: 0 };
        let mut exprs = Vec::new();
        loop {
            exprs.push(p.expr()?);
            p.skip_space();
            match p.peek() {
                None => break,
                Some(',') => p.pos += 1,
                Some(c) => return Err(error(p.pos + 1, format!("expected `,` here, found `{c}`"))),
            }
        }
        for e in &exprs {
            if let Expr::Number { at, .. } = e {
                return Err(error(
                    *at,
                    "a number is not a feature (it is a window length)",
                ));
            }
        }
        Ok(FeatureList { exprs })
    }

    /// Parses the feature names a checkpoint recorded, each one expression.
    pub fn from_names(names: &[String]) -> Result<FeatureList, DataError> {
        let mut exprs = Vec::with_capacity(names.len());
        for n in names {
            exprs.extend(FeatureList::parse(n)?.exprs);
        }
        Ok(FeatureList { exprs })
    }

    /// True when every feature is a plain column (read by the loader as before; nothing derived).
    pub fn is_plain(&self) -> bool {
        self.exprs.iter().all(|e| matches!(e, Expr::Column { .. }))
    }

    /// The plain columns' names, in order (for the loader, when [`Self::is_plain`]).
    pub fn column_names(&self) -> Vec<String> {
        self.exprs.iter().map(text).collect()
    }

    /// Replaces `series`' features by the list's values, dropping the rows some feature cannot compute.
    pub fn derive(&self, mut series: Series) -> Result<Series, DataError> {
        let rows = series.len();
        let mut names = Vec::with_capacity(self.exprs.len());
        let mut columns = Vec::with_capacity(self.exprs.len());
        let mut drop = 0;
        for e in &self.exprs {
            let name = text(e);
            if names.contains(&name) {
                return Err(error(at(e), format!("feature `{name}` is listed twice")));
            }
            let (values, warm) = eval(e, &series)?;
            drop = drop.max(warm);
            names.push(name);
            columns.push(values);
        }
        if drop >= rows {
            return Err(error(
                1,
                format!(
                    "the features cannot be computed on any of the {rows} rows of {}",
                    series.source
                ),
            ));
        }
        for (e, (name, col)) in self.exprs.iter().zip(names.iter().zip(&columns)) {
            if let Some(r) = (drop..rows).find(|&r| !col[r].is_finite()) {
                return Err(error(
                    at(e),
                    format!(
                        "`{name}` is not a finite number on {} ({}): a logarithm or ratio of a zero or \
                         negative value?",
                        series.dates[r], series.source
                    ),
                ));
            }
        }
        series.features = (drop..rows)
            .map(|r| columns.iter().map(|c| c[r]).collect())
            .collect();
        series.feature_names = names;
        series.dates.drain(..drop);
        series.target.drain(..drop);
        series.warmup_rows_dropped += drop;
        Ok(series)
    }
}

fn at(e: &Expr) -> usize {
    match e {
        Expr::Column { at, .. } | Expr::Number { at, .. } | Expr::Call { at, .. } => *at,
    }
}

/// The canonical text of an expression (no spaces): what the run records as the feature's name.
pub fn text(e: &Expr) -> String {
    match e {
        Expr::Column { name, .. } => name.clone(),
        Expr::Number { value, .. } => value.to_string(),
        Expr::Call {
            func: Func::DayOfWeek,
            ..
        } => Func::DayOfWeek.name().to_string(),
        Expr::Call { func, args, .. } => {
            let inner: Vec<String> = args.iter().map(text).collect();
            format!("{}({})", func.name(), inner.join(","))
        }
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn expr(&mut self) -> Result<Expr, DataError> {
        self.skip_space();
        let start = self.pos;
        while self.peek().is_some_and(|c| !matches!(c, ',' | '(' | ')')) {
            self.pos += 1;
        }
        let word: String = self.chars[start..self.pos]
            .iter()
            .collect::<String>()
            .trim()
            .to_string();
        let at = start + 1;
        if word.is_empty() {
            return Err(error(
                at,
                match self.peek() {
                    None => "expected a column or a function here, found the end".to_string(),
                    Some(c) => format!("expected a column or a function here, found `{c}`"),
                },
            ));
        }
        let func = Func::by_name(&word);
        if self.peek() != Some('(') {
            if func == Some(Func::DayOfWeek) {
                return Ok(Expr::Call {
                    func: Func::DayOfWeek,
                    args: Vec::new(),
                    at,
                });
            }
            if let Ok(value) = word.parse::<usize>() {
                return Ok(Expr::Number { value, at });
            }
            return Ok(Expr::Column { name: word, at });
        }
        let Some(func) = func else {
            let known: Vec<String> = Func::ALL.iter().map(|f| f.signature()).collect();
            return Err(error(
                at,
                format!(
                    "unknown function `{word}`; the functions are {}",
                    known.join(", ")
                ),
            ));
        };
        self.pos += 1;
        let mut args = Vec::new();
        self.skip_space();
        if self.peek() == Some(')') {
            self.pos += 1;
        } else {
            loop {
                args.push(self.expr()?);
                self.skip_space();
                match self.peek() {
                    Some(',') => self.pos += 1,
                    Some(')') => {
                        self.pos += 1;
                        break;
                    }
                    None => return Err(error(self.pos + 1, format!("`{word}(` is never closed"))),
                    Some(c) => {
                        return Err(error(
                            self.pos + 1,
                            format!("expected `,` or `)`, found `{c}`"),
                        ))
                    }
                }
            }
        }
        check_args(func, &args, at)?;
        Ok(Expr::Call { func, args, at })
    }
}

fn check_args(func: Func, args: &[Expr], at: usize) -> Result<(), DataError> {
    let want = func.args();
    if args.len() != want.len() {
        return Err(error(
            at,
            format!(
                "{} takes {} argument(s), got {}",
                func.signature(),
                want.len(),
                args.len()
            ),
        ));
    }
    for (a, kind) in args.iter().zip(want) {
        match (kind, a) {
            (Arg::N, Expr::Number { value, at }) => {
                let least = if func == Func::RollingStd { 2 } else { 1 };
                if *value < least {
                    return Err(error(
                        *at,
                        format!("{} needs a window of at least {least}", func.signature()),
                    ));
                }
            }
            (Arg::N, other) => {
                return Err(error(
                    at_of(other),
                    format!("{}: n must be a whole number", func.signature()),
                ))
            }
            (Arg::S, Expr::Number { at, .. }) => {
                return Err(error(
                    *at,
                    format!(
                        "{}: expected a column or a function, found a number",
                        func.signature()
                    ),
                ))
            }
            (Arg::S, _) => {}
        }
    }
    Ok(())
}

fn at_of(e: &Expr) -> usize {
    at(e)
}

/// `Close` names Nasdaq's `Close/Last` (and the other way round) in a file without the other, as
/// the default target does, so one expression reads both kinds of file.
fn close_alias(name: &str, columns: &[String]) -> Option<usize> {
    let names = super::load::TARGET_COLUMN_NAMES;
    if !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
        return None;
    }
    columns
        .iter()
        .position(|c| names.iter().any(|n| n.eq_ignore_ascii_case(c)))
}

/// The values of `e` on every row (NaN where it cannot be computed) and how many leading rows those are.
fn eval(e: &Expr, series: &Series) -> Result<(Vec<f64>, usize), DataError> {
    let rows = series.len();
    match e {
        Expr::Number { at, .. } => Err(error(*at, "a number is not a series")),
        Expr::Column { name, at } => {
            let col = series
                .feature_names
                .iter()
                .position(|n| n == name)
                .or_else(|| {
                    series
                        .feature_names
                        .iter()
                        .position(|n| n.eq_ignore_ascii_case(name))
                })
                .or_else(|| close_alias(name, &series.feature_names))
                .ok_or_else(|| {
                    error(
                        *at,
                        format!(
                            "no numeric column `{name}` in {} (its columns: {})",
                            series.source,
                            series.feature_names.join(", ")
                        ),
                    )
                })?;
            Ok((series.features.iter().map(|r| r[col]).collect(), 0))
        }
        Expr::Call { func, args, at } => {
            let series_args = args
                .iter()
                .filter(|a| !matches!(a, Expr::Number { .. }))
                .map(|a| eval(a, series))
                .collect::<Result<Vec<_>, _>>()?;
            let warm_in = series_args.iter().map(|(_, w)| *w).max().unwrap_or(0);
            let x = |i: usize| &series_args[i].0;
            let pointwise = |f: &dyn Fn(usize) -> f64| -> Vec<f64> { (0..rows).map(f).collect() };
            let lagged = |f: &dyn Fn(f64, f64) -> f64| -> Vec<f64> {
                (0..rows)
                    .map(|t| {
                        if t == 0 {
                            f64::NAN
                        } else {
                            f(x(0)[t], x(0)[t - 1])
                        }
                    })
                    .collect()
            };
            let (values, own) = match func {
                Func::Return => (lagged(&|a, b| a / b - 1.0), 1),
                Func::LogReturn => (lagged(&|a, b| (a / b).ln()), 1),
                Func::Diff => (lagged(&|a, b| a - b), 1),
                Func::Log => (pointwise(&|t| x(0)[t].ln()), 0),
                Func::Range => (pointwise(&|t| (x(0)[t] - x(1)[t]) / x(2)[t]), 0),
                Func::Ratio => (pointwise(&|t| x(0)[t] / x(1)[t]), 0),
                Func::DayOfWeek => {
                    use chrono::Datelike;
                    (
                        series
                            .dates
                            .iter()
                            .map(|d| d.weekday().num_days_from_monday() as f64)
                            .collect(),
                        0,
                    )
                }
                Func::RollingMean | Func::RollingStd => {
                    let Some(Expr::Number { value: n, at: n_at }) = args.get(1) else {
                        return Err(error(*at, "missing window"));
                    };
                    let n = *n;
                    if warm_in + n > rows {
                        return Err(error(
                            *n_at,
                            format!(
                                "window {n} is longer than the {} rows of {} that {} can use",
                                rows - warm_in.min(rows),
                                series.source,
                                text(&args[0])
                            ),
                        ));
                    }
                    let std = *func == Func::RollingStd;
                    (rolling(x(0), n, std), n - 1)
                }
            };
            Ok((values, warm_in + own))
        }
    }
}

/// Trailing windows of `n` values ending at each row (NaN before the first full window or where the
/// window holds a NaN): their mean, or their sample standard deviation.
fn rolling(x: &[f64], n: usize, std: bool) -> Vec<f64> {
    (0..x.len())
        .map(|t| {
            if t + 1 < n {
                return f64::NAN;
            }
            let w = &x[t + 1 - n..=t];
            let mean = w.iter().sum::<f64>() / n as f64;
            if std {
                (w.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
            } else {
                mean
            }
        })
        .collect()
}
