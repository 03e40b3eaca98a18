//! The date formats the loader accepts.
//!
//! - `M/D/YYYY`, with or without zero padding (`07/26/2024`, `7/26/2024`): Nasdaq downloads, US spreadsheets.
//! - `YYYY-MM-DD` (`2024-07-26`): Yahoo, pandas, ISO 8601. A time of day after the date, separated by a space
//!   or `T` (pandas writes `2024-07-26 00:00:00-04:00` for a timezone-aware index), is ignored: the series
//!   has one row per day, and two rows on the same day are reported as duplicate dates by the loader.
//!
//! Day-first dates (`26/07/2024`) are deliberately not guessed: `01/02/2024` would be ambiguous.

use chrono::NaiveDate;

/// What the error messages say the loader accepts.
pub const ACCEPTED_FORMATS: &str = "M/D/YYYY (e.g. 07/26/2024) or YYYY-MM-DD (e.g. 2024-07-26)";

/// Parses one date cell (surrounding spaces allowed). The error is the problem description without the
/// position; the loader adds file, line and column.
pub fn parse_date(cell: &str) -> Result<NaiveDate, String> {
    let text = cell.trim();
    if text.is_empty() {
        return Err("empty cell where a date is expected".to_string());
    }
    let parsed = if text.contains('/') {
        parse_month_day_year(text)
    } else {
        parse_iso(text)
    };
    parsed.ok_or_else(|| format!("cannot parse \"{cell}\" as a date; expected {ACCEPTED_FORMATS}"))
}

/// `M/D/YYYY`. Month and day take 1 or 2 digits, the year exactly 4 (a 2-digit year would need a century
/// guess).
fn parse_month_day_year(text: &str) -> Option<NaiveDate> {
    let parts: Vec<&str> = text.split('/').collect();
    let [month, day, year] = parts.as_slice() else {
        return None;
    };
    let month = small_number(month, 1, 2)?;
    let day = small_number(day, 1, 2)?;
    let year = small_number(year, 4, 4)?;
    NaiveDate::from_ymd_opt(year as i32, month, day)
}

/// `YYYY-MM-DD`, optionally followed by a space or `T` and a time of day, which is ignored.
fn parse_iso(text: &str) -> Option<NaiveDate> {
    // The date part is the text before the first space or `T`; only the time part may follow.
    let date_part = match text.find([' ', 'T']) {
        Some(at) => {
            let time = text[at + 1..].trim_start();
            // A time starts with the hour; anything else is not a date we understand.
            if !time.starts_with(|c: char| c.is_ascii_digit()) {
                return None;
            }
            &text[..at]
        }
        None => text,
    };
    let parts: Vec<&str> = date_part.split('-').collect();
    let [year, month, day] = parts.as_slice() else {
        return None;
    };
    let year = small_number(year, 4, 4)?;
    let month = small_number(month, 1, 2)?;
    let day = small_number(day, 1, 2)?;
    NaiveDate::from_ymd_opt(year as i32, month, day)
}

/// An unsigned decimal of `min_digits..=max_digits` ASCII digits (no sign, no spaces).
fn small_number(text: &str, min_digits: usize, max_digits: usize) -> Option<u32> {
    let ok =
        (min_digits..=max_digits).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
    if ok {
        text.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn accepts_padded_and_unpadded_us_dates() {
        assert_eq!(parse_date("07/26/2024"), Ok(ymd(2024, 7, 26)));
        assert_eq!(parse_date("7/6/2024"), Ok(ymd(2024, 7, 6)));
        assert_eq!(parse_date(" 12/31/1999 "), Ok(ymd(1999, 12, 31)));
    }

    #[test]
    fn accepts_iso_dates_and_ignores_a_time_of_day() {
        assert_eq!(parse_date("2000-03-01"), Ok(ymd(2000, 3, 1)));
        assert_eq!(
            parse_date("2024-07-26 00:00:00-04:00"),
            Ok(ymd(2024, 7, 26))
        );
        assert_eq!(parse_date("2024-07-26T15:30:00Z"), Ok(ymd(2024, 7, 26)));
    }

    #[test]
    fn rejects_impossible_or_ambiguous_dates() {
        for bad in [
            "",
            "2024-02-30",
            "13/01/2024",
            "07/26/24",
            "2024/07/26",
            "26.07.2024",
            "2024-07-26 noon",
            "-7/26/2024",
            "July 26, 2024",
        ] {
            assert!(parse_date(bad).is_err(), "{bad:?} should be rejected");
        }
        let message = parse_date("2024-13-01").unwrap_err();
        assert!(message.contains("\"2024-13-01\""), "{message}");
    }
}
