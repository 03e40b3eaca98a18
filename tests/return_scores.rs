//! The return-space scores (RMSE, MAE, direction, Pearson and Spearman IC) against numpy and scipy on
//! the committed fixture `fixtures/return_scores.json` (made by `fixtures/make_i21_fixtures.py`;
//! its predicted returns have ties, so the average ranks are exercised). Both sides compute in f64 from
//! the same inputs; 1e-12 allows for a different summation order.

use gpulstm::metrics::return_scores;
use gpulstm::metrics::returns::{pearson, ranks, spearman};

fn fixture() -> serde_json::Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/return_scores.json"
    ))
    .expect("fixture");
    serde_json::from_str(&text).expect("json")
}

fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-12 * b.abs().max(1.0),
        "{what}: {a} vs {b}"
    );
}

#[test]
fn return_scores_match_numpy_and_scipy() {
    let f = fixture();
    let (last, actual, pred) = (floats(&f["last"]), floats(&f["actual"]), floats(&f["pred"]));
    let s = return_scores(&last, &actual, &pred);
    for (got, key) in [
        (s.rmse, "rmse"),
        (s.mae, "mae"),
        (s.directional_accuracy, "directional_accuracy"),
        (s.ic_pearson, "ic_pearson"),
        (s.ic_spearman, "ic_spearman"),
    ] {
        close(got, f[key].as_f64().expect(key), key);
    }
    let r_pred: Vec<f64> = pred.iter().zip(&last).map(|(p, l)| p / l - 1.0).collect();
    assert_eq!(ranks(&r_pred), floats(&f["ranks_of_pred_returns"]));
}

#[test]
fn correlations_of_constant_or_short_inputs_are_undefined() {
    assert!(pearson(&[1.0, 2.0, 3.0], &[5.0, 5.0, 5.0]).is_nan());
    assert!(spearman(&[1.0], &[2.0]).is_nan());
    close(
        pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.5]),
        0.9979487157886732,
        "pearson",
    );
    close(
        spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]),
        -1.0,
        "spearman",
    );
}
