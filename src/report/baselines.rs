//! The baselines every split's model is scored beside, on the same validation days, in price units:
//! - naive: tomorrow's close = today's (in [`super::evaluate`], as before);
//! - drift: today's close grown by the mean daily return of the split's training targets;
//! - ridge: [`crate::ridge::Ridge`] fitted on the split's training samples, reading exactly what the
//!   LSTM reads (the look-back window of every feature, through the split's own scaler) and learning what
//!   it learns (the split's transformed, scaled target), then turned into a price the same way.
//!
//! Nothing reads a row after the last training target to fit, so no baseline looks ahead.

use anyhow::Context;

use crate::data::Series;
use crate::ridge::Ridge;
use crate::train::protocol::SplitOutcome;
use crate::train::RawData;

/// The baselines' validation predictions of one split, price units, in validation order.
pub struct BaselinePredictions {
    pub drift: Vec<f64>,
    pub ridge: Vec<f64>,
}

/// Drift and ridge on `out`'s split. `raw` is the series as the models read it (its transform).
pub fn split_baselines(
    series: &Series,
    raw: &RawData,
    out: &SplitOutcome,
    lambda: f64,
) -> anyhow::Result<BaselinePredictions> {
    let s = &out.split;
    let lookback = raw.lookback;
    let level = &series.target;
    let train_rows = s.train_start + lookback..s.train_start + s.train_len + lookback;
    let val_rows = s.val_start + lookback..s.val_start + s.val_len + lookback;
    let mean_return = train_rows
        .clone()
        .map(|r| level[r] / level[r - 1] - 1.0)
        .sum::<f64>()
        / s.train_len as f64;
    let drift = val_rows
        .clone()
        .map(|r| level[r - 1] * (1.0 + mean_return))
        .collect();

    let scaled = out.scaling.apply(raw);
    let f = raw.features;
    let inputs = |sample: usize| &scaled.x[sample * f..(sample + lookback) * f];
    let mut x = Vec::with_capacity(s.train_len * lookback * f);
    for sample in s.train_start..s.train_start + s.train_len {
        x.extend_from_slice(inputs(sample));
    }
    let y: Vec<f64> = train_rows.map(|r| scaled.y[r]).collect();
    let model = Ridge::fit(&x, &y, lookback * f, lambda)
        .with_context(|| format!("split {}: the ridge baseline", s.index))?;
    let ridge = (s.val_start..s.val_start + s.val_len)
        .map(|sample| {
            let last = level[sample + lookback - 1];
            out.scaling
                .target_to_price(model.predict(inputs(sample)), last)
        })
        .collect();
    Ok(BaselinePredictions { drift, ridge })
}
