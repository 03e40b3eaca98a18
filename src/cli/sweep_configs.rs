//! What a sweep key does to a run: each configuration is the base `train` flags with its values set,
//! each value checked by the parser of the `train` flag it sets, so a sweep accepts exactly what
//! `train` does and names the same limits.

use anyhow::anyhow;
use clap::ValueEnum;

use super::args::{
    count, learning_rate, ScalerKindArg, TrainArgs, TransformArg, MAX_BATCH_SIZE, MAX_EPOCHS,
};
use super::common::{usage, Failure};
use crate::model::{LayerSpec, ModelSpec};
use crate::sweep::grid::{Config, Key};

/// A value `--grid` gave `key`, rejected by the flag it sets.
fn bad(key: Key, value: &str, why: impl std::fmt::Display) -> Failure {
    usage(anyhow!("--grid {key}={value}: {why}"))
}

fn whole(key: Key, value: &str, min: usize, max: usize) -> Result<usize, Failure> {
    count(min, max)(value).map_err(|e| bad(key, value, e))
}

/// The layer string with the dropout rates `key` names set to `rate`: every dropout layer, or the
/// n-th (1-based).
fn set_dropout(layers: &str, key: Key, value: &str) -> Result<String, Failure> {
    let rate: f64 = value
        .parse()
        .ok()
        .filter(|r: &f64| (0.0..1.0).contains(r))
        .ok_or_else(|| {
            bad(
                key,
                value,
                "a dropout rate is a number from 0 up to (not including) 1",
            )
        })?;
    // The input size does not matter for rewriting the rates; the run's own parse checks the stack.
    let mut spec =
        ModelSpec::parse(layers, 1).map_err(|e| bad(key, value, format!("--layers: {e}")))?;
    let mut seen = 0;
    for layer in &mut spec.layers {
        if let LayerSpec::Dropout { rate: r } = layer {
            seen += 1;
            if key == Key::Dropout || key == Key::DropoutN(seen) {
                *r = rate;
            }
        }
    }
    match key {
        Key::DropoutN(n) if n > seen => Err(bad(
            key,
            value,
            format!("the layers have {seen} dropout layer(s): {layers}"),
        )),
        Key::Dropout if seen == 0 => Err(bad(
            key,
            value,
            format!("the layers have no dropout layer: {layers}"),
        )),
        _ => Ok(spec.to_spec_string()),
    }
}

/// `base` with one key's value set.
fn apply(args: &mut TrainArgs, key: Key, value: &str) -> Result<(), Failure> {
    match key {
        Key::Lr => args.lr = learning_rate(value).map_err(|e| bad(key, value, e))?,
        Key::Epochs => args.epochs = whole(key, value, 1, MAX_EPOCHS)?,
        Key::Patience => args.patience = whole(key, value, 0, MAX_EPOCHS)?,
        Key::BatchSize => args.batch_size = whole(key, value, 1, MAX_BATCH_SIZE)?,
        Key::Lookback => args.lookback = whole(key, value, 1, usize::MAX)?,
        Key::TrainWindow => args.train_window = whole(key, value, 1, usize::MAX)?,
        Key::Seeds => args.seeds = whole(key, value, 1, 10_000)?,
        Key::Layers => args.layers = value.to_string(),
        Key::Features => args.data.features = Some(value.to_string()),
        Key::Dropout | Key::DropoutN(_) => args.layers = set_dropout(&args.layers, key, value)?,
        Key::TargetTransform => {
            args.target_transform = TransformArg::from_str(value, false)
                .map_err(|_| bad(key, value, "expected level, diff, return or log-return"))?
        }
        Key::ScalerKind => {
            args.scaler_kind = ScalerKindArg::from_str(value, false)
                .map_err(|_| bad(key, value, "expected minmax, standard or robust"))?
        }
    }
    Ok(())
}

/// The `train` arguments of `config`: `base` with its values set in the order of the grids (so
/// `layers` comes before the dropout keys that rewrite it, when given first).
pub(super) fn config_args(base: &TrainArgs, config: &Config) -> Result<TrainArgs, Failure> {
    let mut args = base.clone();
    // Layers first: a dropout key rewrites the stack the configuration runs, whatever the grid order.
    let mut values = config.values.clone();
    values.sort_by_key(|(k, _)| *k != Key::Layers);
    for (key, value) in &values {
        apply(&mut args, *key, value)?;
    }
    Ok(args)
}
