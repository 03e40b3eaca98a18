//! Split arithmetic. The reference setting: 1258 rows (the 5-year file), look-back 60 → 1198 samples,
//! train 200, validation 10, step 1.

use gpulstm::data::{
    make_splits, n_samples, scaler_rows, Split, SplitConfig, SplitRule, WindowKind,
};

const ROWS_5Y: usize = 1258;

fn reference(kind: WindowKind, rule: SplitRule) -> SplitConfig {
    SplitConfig {
        kind,
        rule,
        ..SplitConfig::default()
    }
}

fn split(index: usize, train_start: usize, train_len: usize, val_start: usize) -> Split {
    Split {
        index,
        train_start,
        train_len,
        val_start,
        val_len: 10,
    }
}

#[test]
fn sample_count_is_rows_minus_lookback() {
    assert_eq!(n_samples(ROWS_5Y, 60), 1198);
    assert_eq!(n_samples(61, 60), 1);
    assert_eq!(n_samples(60, 60), 0);
    assert_eq!(n_samples(10, 60), 0);
}

#[test]
fn seed_rule_gives_the_reports_988_splits() {
    let splits = make_splits(
        ROWS_5Y,
        &reference(WindowKind::Rolling, SplitRule::ReportSkipsLast),
    )
    .unwrap();
    assert_eq!(splits.len(), 988);
    assert_eq!(splits[0], split(0, 0, 200, 200));
    // Last: offset 987, validation samples 1187..1197, one short of the 1198 samples.
    assert_eq!(splits[987], split(987, 987, 200, 1187));
    assert!(splits.iter().enumerate().all(|(k, s)| s.index == k));
}

#[test]
fn walk_forward_rule_gives_989_splits_ending_at_the_last_row() {
    let splits = make_splits(
        ROWS_5Y,
        &reference(WindowKind::Rolling, SplitRule::AllThatFit),
    )
    .unwrap();
    assert_eq!(splits.len(), 989);
    assert_eq!(splits[0], split(0, 0, 200, 200));
    let last = splits[988];
    assert_eq!(last, split(988, 988, 200, 1188));
    // The last validation sample is 1197; its target is row 1197 + 60 = 1257, the last row of the file.
    assert_eq!(last.val_start + last.val_len - 1 + 60, ROWS_5Y - 1);
}

#[test]
fn expanding_windows_start_at_zero_and_grow_by_step() {
    let splits = make_splits(
        ROWS_5Y,
        &reference(WindowKind::Expanding, SplitRule::AllThatFit),
    )
    .unwrap();
    assert_eq!(splits.len(), 989);
    assert_eq!(splits[0], split(0, 0, 200, 200));
    assert_eq!(splits[1], split(1, 0, 201, 201));
    assert_eq!(splits[988], split(988, 0, 1188, 1188));
}

#[test]
fn step_5_moves_each_split_by_five_samples_and_ends_on_the_newest_row() {
    let cfg = SplitConfig {
        step: 5,
        ..reference(WindowKind::Rolling, SplitRule::AllThatFit)
    };
    let splits = make_splits(ROWS_5Y, &cfg).unwrap();
    // Walk-forward anchors the last split at the newest row: offsets 988 − 5j, i.e. 3, 8, …, 988
    // (198 splits), so the last validation target is the file's last row whatever the step.
    assert_eq!(splits.len(), 198);
    assert_eq!(splits[0], split(0, 3, 200, 203));
    assert_eq!(splits[1], split(1, 8, 200, 208));
    assert_eq!(splits[197], split(197, 988, 200, 1188));
    let last = splits[197];
    assert_eq!(last.val_start + last.val_len - 1 + 60, ROWS_5Y - 1);

    // Where the last offset lands exactly on the end, the seed rule drops it: 14 rows, look-back 2 →
    // 12 samples; train 4 + val 2; step 3. All that fit: offsets 0, 3, 6 (6 + 6 = 12 ≤ 12). Seed: 0, 3.
    let small = SplitConfig {
        lookback: 2,
        train_window: 4,
        val_window: 2,
        step: 3,
        kind: WindowKind::Rolling,
        rule: SplitRule::AllThatFit,
        max_splits: None,
        last_splits: None,
        target_rows: None,
    };
    let all = make_splits(14, &small).unwrap();
    let starts: Vec<usize> = all.iter().map(|s| s.train_start).collect();
    assert_eq!(starts, vec![0, 3, 6]);
    let seed = make_splits(
        14,
        &SplitConfig {
            rule: SplitRule::ReportSkipsLast,
            ..small
        },
    )
    .unwrap();
    let starts: Vec<usize> = seed.iter().map(|s| s.train_start).collect();
    assert_eq!(starts, vec![0, 3]);
}

#[test]
fn max_splits_keeps_the_first_n() {
    let cfg = SplitConfig {
        max_splits: Some(8),
        last_splits: None,
        target_rows: None,
        ..reference(WindowKind::Rolling, SplitRule::AllThatFit)
    };
    let splits = make_splits(ROWS_5Y, &cfg).unwrap();
    assert_eq!(splits.len(), 8);
    assert_eq!(splits[7], split(7, 7, 200, 207));

    // More than exist: all of them.
    let cfg = SplitConfig {
        max_splits: Some(5000),
        last_splits: None,
        target_rows: None,
        ..cfg
    };
    assert_eq!(make_splits(ROWS_5Y, &cfg).unwrap().len(), 989);
}

#[test]
fn too_few_rows_says_how_many_are_needed() {
    let walk = reference(WindowKind::Rolling, SplitRule::AllThatFit);
    // 60 + 200 + 10 = 270 rows give exactly one split; 269 give none.
    assert_eq!(make_splits(270, &walk).unwrap().len(), 1);
    let message = make_splits(269, &walk).unwrap_err().to_string();
    for part in [
        "too few rows",
        "--lookback 60",
        "--train-window 200",
        "--val-window 10",
        "at least 270 rows",
        "has 269 rows",
    ] {
        assert!(message.contains(part), "{message:?} lacks {part:?}");
    }

    // The seed rule needs one row more.
    let seed = reference(WindowKind::Rolling, SplitRule::ReportSkipsLast);
    assert_eq!(make_splits(271, &seed).unwrap().len(), 1);
    let message = make_splits(270, &seed).unwrap_err().to_string();
    assert!(
        message.contains("at least 271 rows") && message.contains("has 270 rows"),
        "{message}"
    );

    // Sizes that overflow are an error, not a wrap-around.
    let huge = SplitConfig {
        train_window: usize::MAX,
        ..walk
    };
    let message = make_splits(ROWS_5Y, &huge).unwrap_err().to_string();
    assert!(message.contains("too few rows"), "{message}");
}

#[test]
fn zero_sizes_are_rejected_naming_the_flag() {
    let base = reference(WindowKind::Rolling, SplitRule::AllThatFit);
    let cases = [
        (
            SplitConfig {
                lookback: 0,
                ..base.clone()
            },
            "--lookback",
        ),
        (
            SplitConfig {
                train_window: 0,
                ..base.clone()
            },
            "--train-window",
        ),
        (
            SplitConfig {
                val_window: 0,
                ..base.clone()
            },
            "--val-window",
        ),
        (
            SplitConfig {
                step: 0,
                ..base.clone()
            },
            "--step",
        ),
        (
            SplitConfig {
                max_splits: Some(0),
                last_splits: None,
                target_rows: None,
                ..base.clone()
            },
            "--max-splits",
        ),
    ];
    for (cfg, flag) in cases {
        let message = make_splits(ROWS_5Y, &cfg).unwrap_err().to_string();
        assert_eq!(message, format!("{flag} must be at least 1 (got 0)"));
    }
}

#[test]
fn scaler_rows_cover_inputs_and_targets_of_the_training_samples() {
    // Rolling split 987: samples 987..=1186 read input rows 987..=1245 (sample s reads s..=s+59) and
    // target rows up to 1186 + 60 = 1246, so the rows are [987, 1247).
    assert_eq!(scaler_rows(&split(987, 987, 200, 1187), 60), 987..1247);
    // Expanding split 3: samples 0..203 → rows [0, 263).
    assert_eq!(scaler_rows(&split(3, 0, 203, 203), 60), 0..263);
    // The first reference split touches 260 rows: 200 samples plus the 60-row look-back.
    assert_eq!(scaler_rows(&split(0, 0, 200, 200), 60).len(), 260);
}

/// `--last-splits` keeps the newest N with the indices of the whole run; `--from`/`--to` keep the splits
/// whose validation targets lie in a row range.
#[test]
fn last_splits_and_row_ranges_select_the_newest_or_a_window() {
    let cfg = SplitConfig {
        last_splits: Some(3),
        ..reference(WindowKind::Rolling, SplitRule::AllThatFit)
    };
    let splits = make_splits(ROWS_5Y, &cfg).unwrap();
    let idx: Vec<usize> = splits.iter().map(|s| s.index).collect();
    assert_eq!(idx, vec![986, 987, 988]);
    // Validation targets of split k are rows k + 260 ..= k + 269.
    let cfg = SplitConfig {
        target_rows: Some(300..320),
        ..reference(WindowKind::Rolling, SplitRule::AllThatFit)
    };
    let splits = make_splits(ROWS_5Y, &cfg).unwrap();
    let idx: Vec<usize> = splits.iter().map(|s| s.index).collect();
    assert_eq!(idx, (40..=50).collect::<Vec<_>>());
    let empty = SplitConfig {
        target_rows: Some(0..5),
        ..reference(WindowKind::Rolling, SplitRule::AllThatFit)
    };
    assert!(make_splits(ROWS_5Y, &empty)
        .unwrap_err()
        .to_string()
        .contains("--from/--to"));
}
