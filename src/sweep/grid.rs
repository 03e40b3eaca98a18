//! The configurations of a sweep: `--grid KEY=V1,V2,…` (the product of every grid) or `--random N`
//! draws, where a key may also take a range (`lr=loguniform(1e-4,1e-2)`, `dropout=uniform(0,0.5)`,
//! `epochs=int(5,40)`). This file only parses and enumerates; what a key does to a run is the command
//! line's (`cli/sweep_configs.rs`), which checks each value with `train`'s own flag parsers.

use std::fmt;

use crate::rng::{uniform, PURPOSE_SWEEP};

/// A key a sweep varies: one `train` flag, or one dropout layer's rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    Lr,
    /// Every dropout layer's rate.
    Dropout,
    /// The rate of the n-th dropout layer (1-based), `dropout1`, `dropout2`, ….
    DropoutN(usize),
    Epochs,
    Patience,
    BatchSize,
    Lookback,
    TrainWindow,
    Layers,
    Seeds,
    TargetTransform,
    Features,
    ScalerKind,
}

/// The keys `--grid` accepts, for error messages.
pub const KEYS: &str =
    "lr, dropout, dropout1, dropout2, …, epochs, patience, batch_size, lookback, \
                        train_window, layers, seeds, target_transform, features, scaler_kind";

impl Key {
    pub fn parse(name: &str) -> Option<Key> {
        Some(match name {
            "lr" => Key::Lr,
            "dropout" => Key::Dropout,
            "epochs" => Key::Epochs,
            "patience" => Key::Patience,
            "batch_size" => Key::BatchSize,
            "lookback" => Key::Lookback,
            "train_window" => Key::TrainWindow,
            "layers" => Key::Layers,
            "seeds" => Key::Seeds,
            "target_transform" => Key::TargetTransform,
            "features" => Key::Features,
            "scaler_kind" => Key::ScalerKind,
            _ => {
                let n: usize = name.strip_prefix("dropout")?.parse().ok()?;
                return (n >= 1).then_some(Key::DropoutN(n));
            }
        })
    }

    /// Values of `layers` and `features` hold commas themselves, so their alternatives are split by `|`.
    fn separator(self) -> char {
        match self {
            Key::Layers | Key::Features => '|',
            _ => ',',
        }
    }

    /// Keys whose values are numbers, so that a range can be drawn for them.
    fn numeric(self) -> bool {
        !matches!(
            self,
            Key::Layers | Key::TargetTransform | Key::Features | Key::ScalerKind
        )
    }

    /// Keys whose values are whole numbers (a drawn value is rounded).
    fn whole(self) -> bool {
        matches!(
            self,
            Key::Epochs
                | Key::Patience
                | Key::BatchSize
                | Key::Lookback
                | Key::TrainWindow
                | Key::Seeds
        )
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Key::Lr => "lr",
            Key::Dropout => "dropout",
            Key::DropoutN(n) => return write!(f, "dropout{n}"),
            Key::Epochs => "epochs",
            Key::Patience => "patience",
            Key::BatchSize => "batch_size",
            Key::Lookback => "lookback",
            Key::TrainWindow => "train_window",
            Key::Layers => "layers",
            Key::Seeds => "seeds",
            Key::TargetTransform => "target_transform",
            Key::Features => "features",
            Key::ScalerKind => "scaler_kind",
        };
        f.write_str(name)
    }
}

/// A range a random sweep draws a key's value from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Range {
    Uniform(f64, f64),
    LogUniform(f64, f64),
    /// Whole numbers from the first to the second, both included.
    Int(i64, i64),
}

impl Range {
    /// The value at `u` ∈ [0, 1).
    fn at(self, u: f64) -> f64 {
        match self {
            Range::Uniform(a, b) => a + (b - a) * u,
            Range::LogUniform(a, b) => (a.ln() + (b.ln() - a.ln()) * u).exp(),
            Range::Int(a, b) => (a as f64 + ((b - a + 1) as f64 * u).floor()).min(b as f64),
        }
    }
}

/// What one `--grid` gives a key: a list of values, or a range (random sweeps only).
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    List(Vec<String>),
    Range(Range),
}

/// One `--grid KEY=…`.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub key: Key,
    pub values: Values,
}

/// A `--grid` problem, naming the flag's token.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("--grid {token}: {reason}")]
pub struct GridError {
    pub token: String,
    pub reason: String,
}

fn grid_error(token: &str, reason: impl Into<String>) -> GridError {
    GridError {
        token: token.to_string(),
        reason: reason.into(),
    }
}

/// `a,b` inside a range's parentheses: two finite numbers, the first below the second.
fn bounds(token: &str, inner: &str) -> Result<(f64, f64), GridError> {
    let parts: Vec<&str> = inner.split(',').map(str::trim).collect();
    let [a, b] = parts.as_slice() else {
        return Err(grid_error(
            token,
            "a range takes two bounds, as in uniform(0,0.5)",
        ));
    };
    let num = |s: &str| {
        s.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| grid_error(token, format!("\"{s}\" is not a number")))
    };
    let (a, b) = (num(a)?, num(b)?);
    if a >= b {
        return Err(grid_error(
            token,
            format!("the range's lower bound {a} is not below its upper bound {b}"),
        ));
    }
    Ok((a, b))
}

fn range(token: &str, key: Key, text: &str) -> Result<Option<Range>, GridError> {
    let Some((name, rest)) = text.split_once('(') else {
        return Ok(None);
    };
    let inner = rest
        .strip_suffix(')')
        .ok_or_else(|| grid_error(token, "a range ends with ')'"))?;
    if !key.numeric() {
        return Err(grid_error(
            token,
            format!("{key} takes a list of values, not a range"),
        ));
    }
    let (a, b) = bounds(token, inner)?;
    let r = match name.trim() {
        "uniform" => Range::Uniform(a, b),
        "loguniform" if a > 0.0 => Range::LogUniform(a, b),
        "loguniform" => return Err(grid_error(token, "loguniform needs bounds above 0")),
        "int" if a.fract() == 0.0 && b.fract() == 0.0 => Range::Int(a as i64, b as i64),
        "int" => return Err(grid_error(token, "int(a,b) takes whole bounds")),
        other => {
            return Err(grid_error(
                token,
                format!("unknown range \"{other}\" (uniform, loguniform or int)"),
            ))
        }
    };
    if key.whole() && !matches!(r, Range::Int(..)) {
        return Err(grid_error(
            token,
            format!("{key} takes whole numbers: use int(a,b)"),
        ));
    }
    Ok(Some(r))
}

impl Axis {
    /// Parses one `--grid` token, `KEY=V1,V2,…` or `KEY=range(a,b)`. Values are checked later, by the
    /// flag they set.
    pub fn parse(token: &str) -> Result<Axis, GridError> {
        let (name, text) = token
            .split_once('=')
            .ok_or_else(|| grid_error(token, "expected KEY=V1,V2,… or KEY=range(a,b)"))?;
        let key = Key::parse(name.trim()).ok_or_else(|| {
            grid_error(token, format!("unknown key \"{name}\"; the keys: {KEYS}"))
        })?;
        if let Some(r) = range(token, key, text.trim())? {
            return Ok(Axis {
                key,
                values: Values::Range(r),
            });
        }
        let values: Vec<String> = text
            .split(key.separator())
            .map(|v| v.trim().to_string())
            .collect();
        if let Some(empty) = values.iter().position(String::is_empty) {
            return Err(grid_error(token, format!("value {} is empty", empty + 1)));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(dup) = values.iter().find(|v| !seen.insert(v.as_str())) {
            return Err(grid_error(token, format!("\"{dup}\" is listed twice")));
        }
        Ok(Axis {
            key,
            values: Values::List(values),
        })
    }
}

/// One configuration: a value for each swept key, in the order of the `--grid` flags.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub values: Vec<(Key, String)>,
}

impl Config {
    /// `lr=0.001 dropout=0.2`, or `(the flags as given)` for the base configuration.
    pub fn label(&self) -> String {
        if self.values.is_empty() {
            return "(the flags as given)".to_string();
        }
        let parts: Vec<String> = self
            .values
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        parts.join(" ")
    }

    pub fn value(&self, key: Key) -> Option<&str> {
        self.values
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Every key appears in at most one `--grid`, and `dropout` with no `dropoutN` (which would both set
/// the same layer).
pub fn check_axes(axes: &[Axis]) -> Result<(), GridError> {
    let mut seen = std::collections::HashSet::new();
    for a in axes {
        if !seen.insert(a.key) {
            return Err(grid_error(
                &format!("{}=…", a.key),
                "the key is given twice",
            ));
        }
    }
    let all = seen.contains(&Key::Dropout);
    if let Some(k) = axes
        .iter()
        .find(|a| matches!(a.key, Key::DropoutN(_)) && all)
    {
        return Err(grid_error(
            &format!("{}=…", k.key),
            "dropout sets every dropout layer; sweep it or the single layers, not both",
        ));
    }
    Ok(())
}

/// The product of every axis's list, the first axis varying slowest. Ranges need `--random`.
pub fn grid_configs(axes: &[Axis]) -> Result<Vec<Config>, GridError> {
    check_axes(axes)?;
    let mut out = vec![Config { values: Vec::new() }];
    for a in axes {
        let Values::List(list) = &a.values else {
            return Err(grid_error(
                &format!("{}=…", a.key),
                "a range is drawn from by a random sweep: add --random N",
            ));
        };
        out = out
            .into_iter()
            .flat_map(|c| {
                list.iter().map(move |v| {
                    let mut values = c.values.clone();
                    values.push((a.key, v.clone()));
                    Config { values }
                })
            })
            .collect();
    }
    Ok(out)
}

/// `n` configurations drawn with `seed`: each key's value uniformly from its list or from its range
/// (whole numbers for the whole-number keys; other numbers to 4 significant digits, so labels stay
/// short). Draw `i`, key `j` uses Philox word (seed, i, [`PURPOSE_SWEEP`], j, 0). Repeated draws are
/// kept once.
pub fn random_configs(axes: &[Axis], n: usize, seed: u64) -> Result<Vec<Config>, GridError> {
    check_axes(axes)?;
    let mut out: Vec<Config> = Vec::new();
    for i in 0..n {
        let values = axes
            .iter()
            .enumerate()
            .map(|(j, a)| {
                let u = uniform(seed, i as u32, PURPOSE_SWEEP, j as u32, 0);
                let v = match &a.values {
                    Values::List(list) => {
                        list[((u * list.len() as f64) as usize).min(list.len() - 1)].clone()
                    }
                    Values::Range(r) if a.key.whole() => format!("{}", r.at(u) as i64),
                    Values::Range(r) => SigFig(r.at(u)).to_string(),
                };
                (a.key, v)
            })
            .collect();
        let c = Config { values };
        if !out.contains(&c) {
            out.push(c);
        }
    }
    Ok(out)
}

/// A number printed with 4 significant digits (`0.0003162`, `0.2371`).
struct SigFig(f64);

impl fmt::Display for SigFig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        if v == 0.0 || !v.is_finite() {
            return write!(f, "{v}");
        }
        let decimals = (3 - v.abs().log10().floor() as i32).max(0) as usize;
        let text = format!("{v:.decimals$}");
        let text = if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            text
        };
        f.write_str(&text)
    }
}
