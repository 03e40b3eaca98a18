//! The trading view of a run's forecasts: one position per validation day, decided at the last close
//! from the forecast of the next close and held to that close; long when the forecast is above the last
//! close, otherwise flat (or short with `--short`); `--cost-bps` charged per unit of turnover. The same
//! for buy-and-hold (long every day) and for the ridge baseline's forecasts on the same days.
//!
//! Pooled, each day is traded on the forecast of the latest split's model that predicted it (the days
//! of the predictions plot, [`freshest_predictions`]); per split, on the split's own model over its
//! validation window, starting flat. The numbers are [`crate::metrics::trading`]'s.

use super::evaluate::Scoring;
use super::metrics_json::{PredictionRow, TradeRow, Trading};
use super::plots::freshest_predictions;
use crate::metrics::trading::{trade_days, trade_stats, TradeDay, TradeStats};

/// The position a forecast `pred` of the next close after `last` asks for.
fn position(pred: f64, last: f64, short: bool) -> f64 {
    if pred > last {
        1.0
    } else if short && pred < last {
        -1.0
    } else {
        0.0
    }
}

fn days_of(last: &[f64], actual: &[f64], pred: &[f64], scoring: &Scoring) -> Vec<TradeDay> {
    let positions: Vec<f64> = pred
        .iter()
        .zip(last)
        .map(|(&p, &l)| position(p, l, scoring.short))
        .collect();
    let returns: Vec<f64> = actual.iter().zip(last).map(|(a, l)| a / l - 1.0).collect();
    trade_days(&positions, &returns, scoring.cost_bps / 1e4)
}

/// One split's model traded over its validation window, and buy-and-hold over the same days.
pub fn split_trading(
    last: &[f64],
    actual: &[f64],
    pred: &[f64],
    scoring: &Scoring,
) -> (TradeStats, TradeStats) {
    let hold = vec![f64::INFINITY; last.len()];
    (
        trade_stats(&days_of(last, actual, pred, scoring)),
        trade_stats(&days_of(last, actual, &hold, scoring)),
    )
}

/// The pooled trading view and the model's days (`trades.csv`).
pub fn pooled_trading(
    rows: &[PredictionRow],
    split_beats: &[bool],
    scoring: &Scoring,
) -> (Trading, Vec<TradeRow>) {
    let days = freshest_predictions(rows);
    let col = |f: fn(&super::plots::DayPoint) -> f64| days.iter().map(f).collect::<Vec<f64>>();
    let (last, actual) = (col(|d| d.naive), col(|d| d.actual));
    let model = days_of(&last, &actual, &col(|d| d.predicted), scoring);
    let hold = days_of(&last, &actual, &vec![f64::INFINITY; days.len()], scoring);
    let ridge = days_of(&last, &actual, &col(|d| d.ridge), scoring);
    let (m, h) = (trade_stats(&model), trade_stats(&hold));
    let mut equity = 1.0;
    let mut hold_equity = 1.0;
    let trades = days
        .iter()
        .zip(model.iter().zip(&hold))
        .map(|(d, (t, b))| {
            equity *= 1.0 + t.net;
            hold_equity *= 1.0 + b.net;
            TradeRow {
                date: d.date,
                position: t.position,
                asset_return: t.asset_return,
                cost: t.cost,
                equity,
                buy_and_hold_equity: hold_equity,
            }
        })
        .collect();
    let beats = split_beats.iter().filter(|&&b| b).count();
    (
        Trading {
            rule: format!(
                "long when the forecast close is above the last close, otherwise {}; decided at the \
                 close, held to the next close; {} bp per unit of turnover",
                if scoring.short { "short" } else { "flat" },
                scoring.cost_bps
            ),
            cost_bps: scoring.cost_bps,
            short: scoring.short,
            model_beats_buy_and_hold: m.cumulative_return > h.cumulative_return,
            splits_model_beats_buy_and_hold: if split_beats.is_empty() {
                f64::NAN
            } else {
                beats as f64 / split_beats.len() as f64
            },
            model: m,
            buy_and_hold: h,
            ridge: trade_stats(&ridge),
        },
        trades,
    )
}
