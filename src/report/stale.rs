//! The one rule for a stale forecast, used by `train`'s reports and by `predict`: the data runs on for
//! more than a trading week past the last day the forecast's models trained or validated on, so they
//! forecast from prices they were never trained near.

/// Rows of data after the models' last day beyond which a forecast is stale (a trading week).
pub const STALE_AFTER_ROWS: usize = 5;

/// Whether `rows_after` rows of data past the models' last day make the forecast stale.
pub fn is_stale(rows_after: usize) -> bool {
    rows_after > STALE_AFTER_ROWS
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_trading_week_of_new_rows_is_not_yet_stale() {
        assert!(!super::is_stale(0));
        assert!(!super::is_stale(super::STALE_AFTER_ROWS));
        assert!(super::is_stale(super::STALE_AFTER_ROWS + 1));
    }
}
