//! Scores of a daily trading strategy from its net daily returns, with the conventions of the usual
//! pandas/numpy computation (checked against them in `tests/trading.rs` on a committed fixture):
//! - cumulative return `Π(1 + r) − 1`; annualised `(1 + cumulative)^(252 / days) − 1`;
//! - annualised Sharpe `mean(r) / std(r) · √252`, sample std (ddof 1), no risk-free rate; NaN when the
//!   returns do not vary;
//! - maximum drawdown: the largest fall of the equity curve (starting at 1) from its running peak, as a
//!   fraction of the peak (0 to 1);
//! - turnover: `Σ |position_t − position_{t−1}|`, from flat before the first day;
//! - hit rate: share of the days in the market (position ≠ 0) whose gross return was above 0.

use serde::Serialize;

/// Trading days per year (annualisation).
pub const DAYS_PER_YEAR: f64 = 252.0;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TradeStats {
    pub days: usize,
    pub cumulative_return: f64,
    pub annualised_return: f64,
    pub sharpe: f64,
    pub max_drawdown: f64,
    pub turnover: f64,
    pub hit_rate: f64,
}

/// One day of a strategy: the position held from the last close to this close, the asset's return
/// over the day, the cost charged for getting into the position, and the net return.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TradeDay {
    pub position: f64,
    pub asset_return: f64,
    pub cost: f64,
    pub net: f64,
}

/// The days of a strategy holding `positions[i]` over asset returns `returns[i]`, charged
/// `cost_rate` per unit of turnover (from flat before the first day).
pub fn trade_days(positions: &[f64], returns: &[f64], cost_rate: f64) -> Vec<TradeDay> {
    assert_eq!(positions.len(), returns.len(), "one position per return");
    let mut prev = 0.0;
    positions
        .iter()
        .zip(returns)
        .map(|(&position, &asset_return)| {
            let cost = cost_rate * (position - prev).abs();
            prev = position;
            TradeDay {
                position,
                asset_return,
                cost,
                net: position * asset_return - cost,
            }
        })
        .collect()
}

/// The scores of `days` (NaN throughout for none).
pub fn trade_stats(days: &[TradeDay]) -> TradeStats {
    let n = days.len();
    let net: Vec<f64> = days.iter().map(|d| d.net).collect();
    let cumulative = net.iter().fold(1.0, |e, r| e * (1.0 + r)) - 1.0;
    let mean = net.iter().sum::<f64>() / n as f64;
    let std = if n > 1 {
        (net.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        f64::NAN
    };
    let (mut equity, mut peak, mut drawdown) = (1.0_f64, 1.0_f64, 0.0_f64);
    for r in &net {
        equity *= 1.0 + r;
        peak = peak.max(equity);
        drawdown = drawdown.max(1.0 - equity / peak);
    }
    let mut prev = 0.0;
    let turnover = days
        .iter()
        .map(|d| {
            let t = (d.position - prev).abs();
            prev = d.position;
            t
        })
        .sum();
    let in_market: Vec<&TradeDay> = days.iter().filter(|d| d.position != 0.0).collect();
    let hits = in_market
        .iter()
        .filter(|d| d.position * d.asset_return > 0.0)
        .count();
    TradeStats {
        days: n,
        cumulative_return: cumulative,
        annualised_return: (1.0 + cumulative).powf(DAYS_PER_YEAR / n as f64) - 1.0,
        sharpe: if std > 0.0 {
            mean / std * DAYS_PER_YEAR.sqrt()
        } else {
            f64::NAN
        },
        max_drawdown: if n == 0 { f64::NAN } else { drawdown },
        turnover,
        hit_rate: if in_market.is_empty() {
            f64::NAN
        } else {
            hits as f64 / in_market.len() as f64
        },
    }
}
