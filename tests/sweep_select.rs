//! The sweep's pure parts: `--grid` and `--random` parsing and enumeration (errors naming the token),
//! and the choice per split without look-ahead (perturbing the future leaves every past choice as it
//! was).

use gpulstm::sweep::grid::{grid_configs, random_configs, Axis, Key, Values};
use gpulstm::sweep::select::{history, select, UnitWindow};

#[test]
fn grids_multiply_in_flag_order() {
    let axes = vec![
        Axis::parse("lr=0.001,0.01").unwrap(),
        Axis::parse("dropout=0,0.2,0.4").unwrap(),
    ];
    let configs = grid_configs(&axes).unwrap();
    assert_eq!(configs.len(), 6);
    assert_eq!(configs[0].label(), "lr=0.001 dropout=0");
    assert_eq!(configs[1].label(), "lr=0.001 dropout=0.2");
    assert_eq!(configs[5].label(), "lr=0.01 dropout=0.4");
    // Layers and features hold commas: their alternatives are split by `|`.
    let layers = Axis::parse("layers=lstm:8,dense:1|lstm:16,dense:1").unwrap();
    assert_eq!(
        layers.values,
        Values::List(vec!["lstm:8,dense:1".into(), "lstm:16,dense:1".into()])
    );
    assert_eq!(Axis::parse("dropout2=0.1").unwrap().key, Key::DropoutN(2));
}

#[test]
fn bad_grids_name_the_token() {
    for (token, says) in [
        ("lr", "expected KEY=V1,V2"),
        ("learning_rate=0.1", "unknown key \"learning_rate\""),
        ("lr=0.1,,0.2", "value 2 is empty"),
        ("lr=0.1,0.1", "\"0.1\" is listed twice"),
        ("lr=loguniform(0,1)", "loguniform needs bounds above 0"),
        ("lr=uniform(0.5,0.1)", "not below its upper bound"),
        ("epochs=uniform(1,5)", "use int(a,b)"),
        ("layers=uniform(1,2)", "takes a list of values"),
        ("lr=normal(0,1)", "unknown range \"normal\""),
    ] {
        let e = Axis::parse(token).unwrap_err().to_string();
        assert!(e.starts_with(&format!("--grid {token}: ")), "{e}");
        assert!(e.contains(says), "{token}: {e}");
    }
    let twice = vec![
        Axis::parse("lr=0.1").unwrap(),
        Axis::parse("lr=0.2").unwrap(),
    ];
    assert!(grid_configs(&twice)
        .unwrap_err()
        .to_string()
        .contains("given twice"));
    let both = vec![
        Axis::parse("dropout=0.1").unwrap(),
        Axis::parse("dropout1=0.2").unwrap(),
    ];
    assert!(grid_configs(&both)
        .unwrap_err()
        .to_string()
        .contains("not both"));
    let range = vec![Axis::parse("lr=loguniform(1e-4,1e-2)").unwrap()];
    assert!(grid_configs(&range)
        .unwrap_err()
        .to_string()
        .contains("add --random N"));
}

#[test]
fn random_draws_are_seeded_and_inside_their_ranges() {
    let axes = vec![
        Axis::parse("lr=loguniform(1e-4,1e-2)").unwrap(),
        Axis::parse("dropout=uniform(0,0.5)").unwrap(),
        Axis::parse("epochs=int(5,40)").unwrap(),
        Axis::parse("batch_size=10,32").unwrap(),
    ];
    let a = random_configs(&axes, 50, 7).unwrap();
    assert_eq!(a, random_configs(&axes, 50, 7).unwrap());
    assert_ne!(a, random_configs(&axes, 50, 8).unwrap());
    assert_eq!(a.len(), 50);
    for c in &a {
        let lr: f64 = c.value(Key::Lr).unwrap().parse().unwrap();
        let dropout: f64 = c.value(Key::Dropout).unwrap().parse().unwrap();
        let epochs: i64 = c.value(Key::Epochs).unwrap().parse().unwrap();
        assert!((1e-4..=1e-2).contains(&lr), "{lr}");
        assert!((0.0..0.5).contains(&dropout), "{dropout}");
        assert!((5..=40).contains(&epochs), "{epochs}");
        assert!(["10", "32"].contains(&c.value(Key::BatchSize).unwrap()));
    }
    // Both ends of the int range are drawn.
    let epochs: Vec<&str> = a.iter().filter_map(|c| c.value(Key::Epochs)).collect();
    assert!(epochs.iter().any(|e| e.parse::<i64>().unwrap() < 12));
    assert!(epochs.iter().any(|e| e.parse::<i64>().unwrap() > 33));
}

/// Splits of 10 validation days, one day apart, on one series.
fn rolling(n: usize) -> Vec<UnitWindow> {
    (0..n)
        .map(|s| UnitWindow {
            series: 0,
            val_first: 100 + s,
            val_last: 109 + s,
        })
        .collect()
}

#[test]
fn history_is_the_k_latest_windows_that_ended_before() {
    let units = rolling(40);
    // Split 25's window starts on day 125: windows ending on 124 or earlier are split 15 and before.
    assert_eq!(history(&units, 25, 3), vec![13, 14, 15]);
    assert_eq!(history(&units, 25, 100), (0..=15).collect::<Vec<_>>());
    // Split 10's window starts on day 110, the day after split 0's ended.
    assert!(history(&units, 9, 5).is_empty());
    assert_eq!(history(&units, 10, 5), vec![0]);
    assert_eq!(history(&units, 11, 5), vec![0, 1]);
}

#[test]
fn selection_takes_the_best_mean_and_never_looks_ahead() {
    let units = rolling(60);
    // Configuration 1 is better on the first half, configuration 2 on the second.
    let loss: Vec<Vec<Option<f64>>> = (0..3)
        .map(|c| {
            (0..60)
                .map(|s| {
                    let good = (c == 1 && s < 30) || (c == 2 && s >= 30);
                    Some(if good { 1.0 } else { 2.0 + 0.01 * c as f64 })
                })
                .collect()
        })
        .collect();
    let choices = select(&units, &loss, 5, 0);
    assert!(choices[..10]
        .iter()
        .all(|c| c.config == 0 && c.score.is_none()));
    assert_eq!(choices[20].config, 1);
    assert_eq!(choices[20].history, 5);
    assert_eq!(choices[20].score, Some(1.0));
    // Split 45's history is splits 31..=35: all configuration 2's good half.
    assert_eq!(choices[45].config, 2);
    // Perturbing every split that did not end before split s began changes nothing of split s.
    for s in 0..60 {
        let mut future = loss.clone();
        for (c, losses) in future.iter_mut().enumerate() {
            for (j, l) in losses.iter_mut().enumerate() {
                if units[j].val_last >= units[s].val_first {
                    *l = Some(if c == 0 { 0.0 } else { f64::NAN });
                }
            }
        }
        assert_eq!(
            select(&units, &future, 5, 0)[s].config,
            choices[s].config,
            "split {s}"
        );
        assert_eq!(
            select(&units, &future, 5, 0)[s].score,
            choices[s].score,
            "split {s}"
        );
    }
    // A diverged split (non-finite loss) makes its configuration unchoosable over that history
    // (split 20's is splits 6 to 10).
    let mut diverged = loss.clone();
    diverged[1][8] = Some(f64::NAN);
    assert_ne!(select(&units, &diverged, 5, 0)[20].config, 1);
    // A configuration without the unit (other windows) is never chosen for it.
    let mut missing = loss;
    missing[1][20] = None;
    assert_ne!(select(&units, &missing, 5, 0)[20].config, 1);
}

#[test]
fn the_dm_verdict_reads_the_sign_of_the_statistic() {
    use gpulstm::metrics::compare_tests::DmTest;
    use gpulstm::sweep::report::verdict;
    let dm = |statistic: f64, p_value: f64| DmTest {
        statistic,
        p_value,
        n: 100,
        lag: 0,
        mean_differential: statistic,
    };
    // The differential is the model's squared error minus naive's: positive means the model is worse.
    assert!(verdict(&dm(6.3, 1e-9), "x").contains("significantly less accurate than naive"));
    assert!(verdict(&dm(-2.5, 0.01), "x").contains("significantly more accurate than naive"));
    assert!(verdict(&dm(-1.0, 0.3), "x").contains("no evidence"));
    assert!(verdict(&dm(f64::NAN, f64::NAN), "x").contains("undefined"));
}
