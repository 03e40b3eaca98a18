//! `--features` expressions: values against pandas on the committed fixture
//! (`fixtures/features_ohlcv.csv`, `fixtures/features_expected.json`, made by
//! `fixtures/make_i21_fixtures.py`), no look-ahead for every function and every target transform, and
//! errors that name the flag and the character position.

use gpulstm::data::{load_csv, FeatureList, LoadOptions, Series, TargetTransform};

const EVERY_FUNCTION: &str = "return(Close),log_return(Close),diff(Close),log(Volume),\
     range(High,Low,Close),ratio(High,Low),rolling_mean(Close,5),rolling_std(Close,5),\
     rolling_std(log_return(Close),20),day_of_week";

fn fixture_series() -> Series {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/features_ohlcv.csv"
    );
    load_csv(std::path::Path::new(path), &LoadOptions::default()).expect("fixture loads")
}

#[test]
fn every_function_matches_pandas() {
    let series = fixture_series();
    let rows = series.len();
    let list = FeatureList::parse(EVERY_FUNCTION).expect("parses");
    let derived = list.derive(series).expect("derives");
    // rolling_std(log_return(Close),20) cannot compute its first 1 + 19 rows.
    assert_eq!(derived.warmup_rows_dropped, 20);
    assert_eq!(derived.len(), rows - 20);
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/features_expected.json"
    ))
    .expect("fixture");
    let expected: serde_json::Value = serde_json::from_str(&text).expect("json");
    for (j, name) in derived.feature_names.iter().enumerate() {
        let column = expected[name]
            .as_array()
            .unwrap_or_else(|| panic!("{name}"));
        for (i, row) in derived.features.iter().enumerate() {
            let want = column[i + 20].as_f64().expect("defined after the warm-up");
            // Both f64 from the same 10-decimal inputs; pandas' rolling sums are updated
            // incrementally, so allow 1e-9 relative.
            assert!(
                (row[j] - want).abs() <= 1e-9 * want.abs().max(1e-3),
                "{name} row {}: {} vs pandas {want}",
                i + 20,
                row[j]
            );
        }
        // pandas cannot compute the dropped rows either (NaN), except where it can: then dropping
        // is only because another feature needs them.
        let own_warmup = column.iter().take_while(|v| v.is_null()).count();
        assert!(own_warmup <= 20, "{name}");
    }
    assert_eq!(derived.target, fixture_series().target[20..].to_vec());
    assert_eq!(derived.dates, fixture_series().dates[20..].to_vec());
}

/// Every feature alone: changing any row after t changes no value at or before t.
#[test]
fn no_function_looks_ahead() {
    let base = fixture_series();
    for expr in FeatureList::parse(EVERY_FUNCTION).expect("parses").exprs {
        let name = gpulstm::data::features::text(&expr);
        let list = FeatureList::parse(&name).expect("parses alone");
        let before = list.derive(base.clone()).expect("derives");
        let drop = before.warmup_rows_dropped;
        for t in [drop, drop + 3, base.len() / 2, base.len() - 2] {
            let mut changed = base.clone();
            for r in t + 1..changed.len() {
                // A different factor per column, so that ratios of columns change too.
                for (j, v) in changed.features[r].iter_mut().enumerate() {
                    *v *= 1.1 + 0.1 * j as f64;
                }
                changed.target[r] *= 0.5;
                changed.dates[r] += chrono::Duration::days(1000 + r as i64);
            }
            let after = list.derive(changed).expect("derives");
            for r in 0..=t - drop {
                assert_eq!(
                    before.features[r],
                    after.features[r],
                    "{name}: row {} changed when rows after {t} did",
                    r + drop
                );
            }
            assert_ne!(
                before.features[t + 1 - drop..],
                after.features[t + 1 - drop..],
                "{name}: the perturbation after {t} did not reach the feature at all"
            );
        }
    }
}

/// Every target transform: the learnt value of row t reads rows t and t − 1 only.
#[test]
fn no_target_transform_looks_ahead() {
    let level = fixture_series().target;
    for t in [
        TargetTransform::Level,
        TargetTransform::Diff,
        TargetTransform::Return,
        TargetTransform::LogReturn,
    ] {
        let before = t.series(&level);
        for cut in [1, 10, level.len() - 2] {
            let mut changed = level.clone();
            for v in &mut changed[cut + 1..] {
                *v *= 1.5;
            }
            let after = t.series(&changed);
            assert_eq!(before[..=cut], after[..=cut], "{t}: rows ≤ {cut}");
            assert_ne!(before[cut + 1..], after[cut + 1..], "{t}: rows > {cut}");
        }
        for r in 1..level.len() {
            let back = t.invert(before[r], level[r - 1]);
            assert!(
                (back - level[r]).abs() < 1e-9,
                "{t}: row {r} inverts to {back}"
            );
        }
    }
}

fn parse_error(text: &str) -> String {
    FeatureList::parse(text).unwrap_err().to_string()
}

fn derive_error(text: &str) -> String {
    let list = FeatureList::parse(text).expect("parses");
    list.derive(fixture_series()).unwrap_err().to_string()
}

#[test]
fn errors_name_the_flag_and_the_position() {
    for (text, want) in [
        (
            "log_return(Close",
            "--features, character 17: `log_return(` is never closed",
        ),
        (
            "Close,,Volume",
            "--features, character 7: expected a column or a function here, found `,`",
        ),
        (
            "Close,lgo(Volume)",
            "--features, character 7: unknown function `lgo`",
        ),
        (
            "rolling_mean(Close)",
            "--features, character 1: rolling_mean(X,n) takes 2 argument(s), got 1",
        ),
        (
            "rolling_std(Close,x)",
            "--features, character 19: rolling_std(X,n): n must be a whole number",
        ),
        (
            "rolling_std(Close,1)",
            "--features, character 19: rolling_std(X,n) needs a window of at least 2",
        ),
        (
            "ratio(Close,3)",
            "--features, character 13: ratio(X,Y): expected a column or a function, found a number",
        ),
        (
            "Close) ",
            "--features, character 6: expected `,` here, found `)`",
        ),
        ("5", "--features, character 1: a number is not a feature"),
    ] {
        let got = parse_error(text);
        assert!(got.starts_with(want), "{text}: {got}");
    }
    let got = derive_error("log_return(Close),range(High,Lw,Close)");
    assert!(
        got.starts_with("--features, character 30: no numeric column `Lw`"),
        "{got}"
    );
    let got = derive_error("rolling_mean(log_return(Close),60)");
    assert!(
        got.starts_with("--features, character 32: window 60 is longer than the 59 rows"),
        "{got}"
    );
    let got = derive_error("Close,return(Close),return( Close )");
    assert!(got.contains("listed twice"), "{got}");
}
