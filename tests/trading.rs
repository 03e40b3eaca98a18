//! The trading view's statistics (cumulative and annualised return, annualised Sharpe, maximum
//! drawdown, turnover, hit rate) against pandas on the committed fixture `fixtures/trading.json`
//! (made by `fixtures/make_i21_fixtures.py`: 120 days of long, flat and short positions with 5 bp
//! costs). Both sides are f64 over the same inputs; 1e-12 relative allows for summation order.

use gpulstm::metrics::trading::{trade_days, trade_stats};

fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

#[test]
fn trade_stats_match_pandas() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/trading.json"
    ))
    .expect("fixture");
    let f: serde_json::Value = serde_json::from_str(&text).expect("json");
    let days = trade_days(
        &floats(&f["positions"]),
        &floats(&f["returns"]),
        f["cost_rate"].as_f64().expect("cost"),
    );
    for (d, want) in days.iter().zip(floats(&f["net"])) {
        assert!((d.net - want).abs() < 1e-15, "{} vs {want}", d.net);
    }
    let s = trade_stats(&days);
    assert_eq!(s.days, 120);
    for (got, key) in [
        (s.cumulative_return, "cumulative_return"),
        (s.annualised_return, "annualised_return"),
        (s.sharpe, "sharpe"),
        (s.max_drawdown, "max_drawdown"),
        (s.turnover, "turnover"),
        (s.hit_rate, "hit_rate"),
    ] {
        let want = f[key].as_f64().expect(key);
        assert!(
            (got - want).abs() <= 1e-12 * want.abs().max(1.0),
            "{key}: {got} vs pandas {want}"
        );
    }
}

#[test]
fn flat_strategies_have_no_sharpe_and_no_hit_rate() {
    let days = trade_days(&[0.0, 0.0, 0.0], &[0.01, -0.02, 0.03], 1e-4);
    let s = trade_stats(&days);
    assert_eq!(s.cumulative_return, 0.0);
    assert_eq!(s.max_drawdown, 0.0);
    assert_eq!(s.turnover, 0.0);
    assert!(s.sharpe.is_nan() && s.hit_rate.is_nan());
    // Buy-and-hold pays for its one entry.
    let held = trade_days(&[1.0, 1.0], &[0.01, 0.01], 1e-4);
    assert_eq!(held[0].cost, 1e-4);
    assert_eq!(held[1].cost, 0.0);
}
