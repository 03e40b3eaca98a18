//! The layer spec: what `--layers` describes, parsed and checked once so every later stage can trust it.
//!
//! Grammar: items separated by `,` (spaces around items allowed):
//! `lstm:UNITS` (last-step output), `lstm:UNITS:seq` (full-sequence output), `dropout:RATE`,
//! `dense:UNITS` (linear).

use std::fmt;

/// One layer of the stack, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum LayerSpec {
    /// Keras `LSTM(units, return_sequences=...)`.
    Lstm {
        units: usize,
        return_sequences: bool,
    },
    /// Keras `Dropout(rate)` (inverted dropout, training only).
    Dropout { rate: f64 },
    /// Keras `Dense(units)` with linear activation.
    Dense { units: usize },
}

/// A validated stack: `input_size` features per time step, then `layers` in order.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    pub input_size: usize,
    pub layers: Vec<LayerSpec>,
}

/// The reference experiment's stack: LSTM(50, seq) → Dropout(.3) → LSTM(50) → Dropout(.2) → Dense(25) → Dense(1).
pub const DEFAULT_LAYERS: &str = "lstm:50:seq,dropout:0.3,lstm:50,dropout:0.2,dense:25,dense:1";

/// Largest width accepted for a layer or for the input. Far above anything this engine trains, and
/// small enough that every RNG element index stays inside the u32 counter word: the orthogonal
/// initialiser draws indices up to `2·U·4U = 8U²` (5.4e8 for 8192, below 2^32 ≈ 4.3e9).
pub const MAX_UNITS: usize = 8192;

/// What `--layers` accepts, quoted in every error so the user can fix the value without the docs.
const GRAMMAR_HELP: &str =
    "expected comma-separated items `lstm:UNITS[:seq]`, `dropout:RATE` (0 <= RATE < 1) \
     or `dense:UNITS`, starting with an lstm and ending with `dense:1`, e.g. \
     \"lstm:50:seq,dropout:0.3,lstm:50,dropout:0.2,dense:25,dense:1\"";

/// Why a `--layers` value (or an input size) was rejected.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecError {
    /// 1-based position of the offending item, with its text as written; `None` for errors about the
    /// whole list (empty list, zero input size).
    pub item: Option<(usize, String)>,
    /// What is wrong and what is allowed instead.
    pub reason: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.item {
            Some((number, text)) => write!(
                f,
                "--layers item {number} `{text}`: {}; {GRAMMAR_HELP}",
                self.reason
            ),
            None => write!(f, "--layers: {}; {GRAMMAR_HELP}", self.reason),
        }
    }
}

impl std::error::Error for SpecError {}

fn item_error(number: usize, text: &str, reason: impl Into<String>) -> SpecError {
    SpecError {
        item: Some((number, text.to_string())),
        reason: reason.into(),
    }
}

/// Parses a layer width: a positive integer no larger than [`MAX_UNITS`].
fn parse_units(field: Option<&str>, number: usize, text: &str) -> Result<usize, SpecError> {
    let field = match field {
        Some(f) if !f.trim().is_empty() => f.trim(),
        _ => return Err(item_error(number, text, "missing the number of units")),
    };
    let units: usize = field.parse().map_err(|_| {
        item_error(
            number,
            text,
            format!("units `{field}` is not a whole number"),
        )
    })?;
    if units == 0 {
        return Err(item_error(number, text, "units must be at least 1"));
    }
    if units > MAX_UNITS {
        return Err(item_error(
            number,
            text,
            format!("units {units} exceeds the maximum {MAX_UNITS}"),
        ));
    }
    Ok(units)
}

/// Parses a dropout rate: a number in `[0, 1)` (rate 1 would drop everything and divide by zero).
fn parse_rate(field: Option<&str>, number: usize, text: &str) -> Result<f64, SpecError> {
    let field = match field {
        Some(f) if !f.trim().is_empty() => f.trim(),
        _ => return Err(item_error(number, text, "missing the dropout rate")),
    };
    let rate: f64 = field.parse().map_err(|_| {
        item_error(
            number,
            text,
            format!("dropout rate `{field}` is not a number"),
        )
    })?;
    // Written as a positive range test so NaN (which `parse` accepts) is rejected too.
    if !(0.0..1.0).contains(&rate) {
        return Err(item_error(
            number,
            text,
            format!("dropout rate {field} is outside [0, 1)"),
        ));
    }
    Ok(rate)
}

/// Parses one item (already trimmed) into a layer, checking only the item itself.
fn parse_item(number: usize, text: &str) -> Result<LayerSpec, SpecError> {
    let fields: Vec<&str> = text.split(':').collect();
    let kind = fields[0].trim();
    let extra_from = match kind {
        "lstm" => 3,
        "dropout" | "dense" => 2,
        _ => {
            return Err(item_error(
                number,
                text,
                format!("unknown layer kind `{kind}` (allowed: lstm, dropout, dense)"),
            ))
        }
    };
    if fields.len() > extra_from {
        return Err(item_error(
            number,
            text,
            format!("unexpected extra field `{}`", fields[extra_from].trim()),
        ));
    }
    match kind {
        "lstm" => {
            let units = parse_units(fields.get(1).copied(), number, text)?;
            let return_sequences = match fields.get(2).map(|f| f.trim()) {
                None => false,
                Some("seq") => true,
                Some(other) => {
                    return Err(item_error(
                        number,
                        text,
                        format!("unknown lstm option `{other}` (the only option is `seq`)"),
                    ))
                }
            };
            Ok(LayerSpec::Lstm {
                units,
                return_sequences,
            })
        }
        "dropout" => Ok(LayerSpec::Dropout {
            rate: parse_rate(fields.get(1).copied(), number, text)?,
        }),
        _ => Ok(LayerSpec::Dense {
            units: parse_units(fields.get(1).copied(), number, text)?,
        }),
    }
}

impl ModelSpec {
    /// Parses and validates a `--layers` value for inputs of `input_size` features.
    pub fn parse(layers: &str, input_size: usize) -> Result<ModelSpec, SpecError> {
        if layers.trim().is_empty() {
            return Err(SpecError {
                item: None,
                reason: "the layer list is empty".to_string(),
            });
        }
        let mut parsed = Vec::new();
        // Item texts are kept for the ordering checks below, so their errors quote what the user typed.
        let mut texts = Vec::new();
        for (i, raw) in layers.split(',').enumerate() {
            let text = raw.trim();
            if text.is_empty() {
                return Err(item_error(
                    i + 1,
                    text,
                    "empty item (check for a stray comma)",
                ));
            }
            parsed.push(parse_item(i + 1, text)?);
            texts.push(text.to_string());
        }
        let spec = ModelSpec {
            input_size,
            layers: parsed,
        };
        spec.check_order(&texts)?;
        Ok(spec)
    }

    /// Checks every rule of the grammar on an already-built spec (layer values, layer order, input
    /// size). `parse` applies the same rules; this is for specs built by hand in code and tests.
    pub fn validate(&self) -> Result<(), SpecError> {
        let texts: Vec<String> = self.layers.iter().map(layer_to_string).collect();
        self.check_order(&texts)
    }

    /// The whole-stack rules; `texts[k]` is how layer `k` is quoted in errors.
    fn check_order(&self, texts: &[String]) -> Result<(), SpecError> {
        if self.input_size == 0 {
            return Err(SpecError {
                item: None,
                reason: "the input has 0 features per time step (at least 1 is needed)".to_string(),
            });
        }
        if self.input_size > MAX_UNITS {
            return Err(SpecError {
                item: None,
                reason: format!(
                    "the input has {} features per time step (at most {MAX_UNITS} are supported)",
                    self.input_size
                ),
            });
        }
        if self.layers.is_empty() {
            return Err(SpecError {
                item: None,
                reason: "the layer list is empty".to_string(),
            });
        }
        // Value checks repeat what `parse_item` enforces, for specs that were not parsed.
        for (k, layer) in self.layers.iter().enumerate() {
            match layer {
                LayerSpec::Dropout { rate } if !(0.0..1.0).contains(rate) => {
                    return Err(item_error(
                        k + 1,
                        &texts[k],
                        format!("dropout rate {rate} is outside [0, 1)"),
                    ));
                }
                LayerSpec::Lstm { units, .. } | LayerSpec::Dense { units }
                    if *units == 0 || *units > MAX_UNITS =>
                {
                    return Err(item_error(
                        k + 1,
                        &texts[k],
                        format!("units must be between 1 and {MAX_UNITS}"),
                    ));
                }
                _ => {}
            }
        }
        if !matches!(self.layers[0], LayerSpec::Lstm { .. }) {
            return Err(item_error(
                1,
                &texts[0],
                "the first layer must be an lstm (it reads the input sequence)",
            ));
        }
        // Walk the stack tracking what the previous non-dropout layer hands on: a sequence (from a
        // `seq` lstm) or a vector (from a last-step lstm or a dense). Dropout passes its input through.
        let mut previous_is_sequence = true; // the input itself is a sequence
        let mut previous_text: Option<&str> = None;
        for (k, layer) in self.layers.iter().enumerate() {
            match layer {
                LayerSpec::Lstm {
                    return_sequences, ..
                } => {
                    if !previous_is_sequence {
                        return Err(item_error(
                            k + 1,
                            &texts[k],
                            format!(
                                "an lstm needs a sequence input, but `{}` outputs a vector \
                                 (add `:seq` to the previous lstm; nothing but dropout may come between)",
                                previous_text.unwrap_or("?")
                            ),
                        ));
                    }
                    previous_is_sequence = *return_sequences;
                    previous_text = Some(&texts[k]);
                }
                LayerSpec::Dense { .. } => {
                    if previous_is_sequence {
                        return Err(item_error(
                            k + 1,
                            &texts[k],
                            format!(
                                "a dense needs a vector input, but `{}` outputs a whole sequence \
                                 (the last lstm must not be `:seq`)",
                                previous_text.unwrap_or("?")
                            ),
                        ));
                    }
                    previous_is_sequence = false;
                    previous_text = Some(&texts[k]);
                }
                LayerSpec::Dropout { .. } => {}
            }
        }
        let last = self.layers.len() - 1;
        if self.layers[last] != (LayerSpec::Dense { units: 1 }) {
            return Err(item_error(
                last + 1,
                &texts[last],
                "the last layer must be `dense:1` (the model predicts one target)",
            ));
        }
        Ok(())
    }

    /// The canonical `--layers` text of this spec; `ModelSpec::parse` of it gives the spec back
    /// (rates print as Rust's shortest round-trip decimal).
    pub fn to_spec_string(&self) -> String {
        self.layers
            .iter()
            .map(layer_to_string)
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn layer_to_string(layer: &LayerSpec) -> String {
    match layer {
        LayerSpec::Lstm {
            units,
            return_sequences: true,
        } => format!("lstm:{units}:seq"),
        LayerSpec::Lstm {
            units,
            return_sequences: false,
        } => format!("lstm:{units}"),
        LayerSpec::Dropout { rate } => format!("dropout:{rate}"),
        LayerSpec::Dense { units } => format!("dense:{units}"),
    }
}
