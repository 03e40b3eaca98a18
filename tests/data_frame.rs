//! Series from in-memory columns (`data::frame`, what the Python package hands over): the same series
//! as the CSV loader makes of the same data, and errors naming the column, the row and the series.

use chrono::NaiveDate;
use gpulstm::data::frame::{Frame, FrameColumn};
use gpulstm::data::{load_csv_str, DataError, LoadOptions};

fn days(dates: &[(i32, u32, u32)]) -> Vec<i64> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    dates
        .iter()
        .map(|&(y, m, d)| (NaiveDate::from_ymd_opt(y, m, d).unwrap() - epoch).num_days())
        .collect()
}

fn frame<'a>(ids: &'a [u32], days: &'a [i64], rows: &'a [i64], y: &'a [f64]) -> Frame<'a> {
    Frame {
        id_column: "unique_id".to_string(),
        time_column: "ds".to_string(),
        names: vec!["A".to_string(), "B".to_string()],
        ids,
        days,
        rows,
        features: vec![FrameColumn {
            name: "y".to_string(),
            values: y,
        }],
        target: FrameColumn {
            name: "y".to_string(),
            values: y,
        },
    }
}

fn problem(result: Result<Vec<gpulstm::data::NamedSeries>, DataError>) -> String {
    match result {
        Err(e) => e.to_string(),
        Ok(p) => panic!("expected an error, got {} series", p.len()),
    }
}

#[test]
fn a_frame_gives_the_series_the_csv_loader_gives() {
    // Two series interleaved by row: each keeps its own rows, in order.
    let d = days(&[
        (2024, 1, 2),
        (2024, 1, 2),
        (2024, 1, 3),
        (2024, 1, 4),
        (2024, 1, 3),
    ]);
    let ids = [0, 1, 0, 0, 1];
    let y = [10.5, 7.0, 11.25, 9.0, 8.0];
    let rows = [0, 1, 2, 3, 4];
    let panel = frame(&ids, &d, &rows, &y).series().unwrap();
    assert_eq!(panel.len(), 2);
    let csv = "Date,y\n2024-01-02,10.5\n2024-01-03,11.25\n2024-01-04,9\n";
    let opts = LoadOptions {
        target: Some("y".to_string()),
        ..LoadOptions::default()
    };
    let from_csv = load_csv_str("a.csv", csv, &opts).unwrap();
    let a = &panel[0];
    assert_eq!(a.name, "A");
    assert_eq!(a.series.dates, from_csv.dates);
    assert_eq!(a.series.features, from_csv.features);
    assert_eq!(a.series.target, from_csv.target);
    assert_eq!(a.series.feature_names, from_csv.feature_names);
    assert_eq!(panel[1].name, "B");
    assert_eq!(panel[1].series.target, vec![7.0, 8.0]);
}

#[test]
fn errors_name_the_column_the_row_and_the_series() {
    let rows = [10, 11, 12];
    let ids = [0, 0, 0];
    let dup = days(&[(2024, 1, 2), (2024, 1, 3), (2024, 1, 3)]);
    let e = problem(frame(&ids, &dup, &rows, &[1.0, 2.0, 3.0]).series());
    assert!(
        e.contains("rows 11 and 12")
            && e.contains("\"ds\"")
            && e.contains("\"A\"")
            && e.contains("twice"),
        "{e}"
    );

    let back = days(&[(2024, 1, 2), (2024, 1, 4), (2024, 1, 3)]);
    let e = problem(frame(&ids, &back, &rows, &[1.0, 2.0, 3.0]).series());
    assert!(
        e.contains("row 12") && e.contains("back in time") && e.contains("sort"),
        "{e}"
    );

    let ok = days(&[(2024, 1, 2), (2024, 1, 3), (2024, 1, 4)]);
    let e = problem(frame(&ids, &ok, &rows, &[1.0, f64::NAN, 3.0]).series());
    assert!(
        e.contains("row 11") && e.contains("column \"y\"") && e.contains("NaN"),
        "{e}"
    );
    let e = problem(frame(&ids, &ok, &rows, &[1.0, 2.0, f64::INFINITY]).series());
    assert!(e.contains("row 12") && e.contains("inf"), "{e}");

    let e = problem(frame(&[0, 5, 0], &ok, &rows, &[1.0, 2.0, 3.0]).series());
    assert!(e.contains("row 11") && e.contains("series index 5"), "{e}");

    let e = problem(frame(&ids, &ok[..2], &rows, &[1.0, 2.0, 3.0]).series());
    assert!(e.contains("different lengths"), "{e}");
    let e = problem(frame(&[], &[], &[], &[]).series());
    assert!(e.contains("no rows"), "{e}");

    let e = problem(frame(&ids, &[0, 1, i64::MAX], &rows, &[1.0, 2.0, 3.0]).series());
    assert!(e.contains("row 12") && e.contains("is not a date"), "{e}");
}
