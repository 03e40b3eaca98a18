//! The axes the plots share: value ranges with padding and legend room, compact tick labels, a date
//! axis with ticks on month (or day) boundaries and a logarithmic axis with 1-2-5 ticks, which plotters'
//! own axes cannot do.

use std::ops::Range;

use chrono::{Datelike, NaiveDate};
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};

/// `[lo, hi]` of the finite values, widened by `pad` of the span on each side (and made non-empty).
pub(super) fn padded_range(values: impl IntoIterator<Item = f64>, pad: f64) -> Option<Range<f64>> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.into_iter().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        return None;
    }
    let span = if hi > lo {
        hi - lo
    } else {
        lo.abs().max(1e-12)
    };
    Some(lo - pad * span..hi + pad * span)
}

/// Share of the data's span added above it so a legend of two (four) entries in an upper corner sits
/// over empty space instead of hiding data.
pub(super) const LEGEND_ROOM_2: f64 = 0.16;
pub(super) const LEGEND_ROOM_4: f64 = 0.36;

/// `range` extended upwards by `share` of its span.
pub(super) fn headroom(range: Range<f64>, share: f64) -> Range<f64> {
    range.start..range.end + share * (range.end - range.start)
}

/// Compact tick label: plain for ordinary magnitudes, `1e-4` style for tiny or huge ones.
pub(in crate::report) fn tick(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let mag = v.abs().log10().floor() as i32;
    if !(-3..6).contains(&mag) {
        let mantissa = v / 10f64.powi(mag);
        if (mantissa - mantissa.round()).abs() < 1e-9 {
            format!("{}e{mag}", mantissa.round())
        } else {
            format!("{mantissa:.1}e{mag}")
        }
    } else {
        let decimals = (2 - mag).max(0) as usize;
        let s = format!("{v:.decimals$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct DateAxis {
    pub(super) start: NaiveDate,
    pub(super) end: NaiveDate,
}

impl DateAxis {
    pub(super) fn new(start: NaiveDate, end: NaiveDate) -> DateAxis {
        // A one-day range would map everything to one pixel column; widen it to three days.
        if end > start {
            DateAxis { start, end }
        } else {
            DateAxis {
                start: start.pred_opt().unwrap_or(start),
                end: start.succ_opt().unwrap_or(start),
            }
        }
    }

    fn span_days(&self) -> i64 {
        (self.end - self.start).num_days().max(1)
    }

    /// Month ticks read better than day ticks once the axis spans a few months.
    fn uses_months(&self) -> bool {
        self.span_days() >= 90
    }
}

/// First days of months from `start` to `end` whose month number is a multiple of `step` months.
fn month_starts(start: NaiveDate, end: NaiveDate, step: u32) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let (mut y, mut m) = (start.year(), start.month());
    while let Some(d) = NaiveDate::from_ymd_opt(y, m, 1).filter(|d| *d <= end) {
        if d >= start && (m - 1) % step == 0 && (step < 12 || y % (step as i32 / 12) == 0) {
            out.push(d);
        }
        m += 1;
        if m > 12 {
            m = 1;
            y += 1;
        }
    }
    out
}

impl Ranged for DateAxis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = NaiveDate;

    fn map(&self, value: &NaiveDate, limit: (i32, i32)) -> i32 {
        let t = (*value - self.start).num_days() as f64 / self.span_days() as f64;
        limit.0 + (t * (limit.1 - limit.0) as f64).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<NaiveDate> {
        let max = hint.max_num_points();
        // Only bold ticks: light grid lines every day would be clutter.
        if max == 0 || hint.weight().allow_light_points() {
            return Vec::new();
        }
        if self.uses_months() {
            for step in [1, 2, 3, 6, 12, 24, 60, 120] {
                let points = month_starts(self.start, self.end, step);
                if points.len() <= max {
                    return points;
                }
            }
            return Vec::new();
        }
        for step in [1, 2, 7, 14, 28] {
            // Weekly and longer ticks fall on Mondays, the first trading day of a week.
            let first = if step >= 7 {
                let to_monday = (7 - self.start.weekday().num_days_from_monday()) % 7;
                self.start
                    .checked_add_days(chrono::Days::new(u64::from(to_monday)))
                    .unwrap_or(self.start)
            } else {
                self.start
            };
            let points: Vec<NaiveDate> = (0..=(self.end - first).num_days().max(0))
                .step_by(step)
                .filter_map(|d| first.checked_add_days(chrono::Days::new(d as u64)))
                .collect();
            if points.len() <= max {
                return points;
            }
        }
        Vec::new()
    }

    fn range(&self) -> Range<NaiveDate> {
        self.start..self.end
    }
}

impl ValueFormatter<NaiveDate> for DateAxis {
    fn format(value: &NaiveDate) -> String {
        value.format("%Y-%m-%d").to_string()
    }

    fn format_ext(&self, value: &NaiveDate) -> String {
        if self.uses_months() {
            value.format("%b %Y").to_string()
        } else {
            value.format("%Y-%m-%d").to_string()
        }
    }
}

/// A base-10 logarithmic axis with ticks at 1, 2 and 5 times powers of ten when the range spans few
/// decades (plotters' own log axis labels only the powers, which leaves two labels on a typical plot).
#[derive(Debug, Clone)]
pub(super) struct LogAxis {
    lo: f64,
    hi: f64,
}

impl LogAxis {
    /// `0 < lo < hi`, both finite (the caller builds it from positive data).
    pub(super) fn new(lo: f64, hi: f64) -> LogAxis {
        let lo = if lo > 0.0 && lo.is_finite() {
            lo
        } else {
            1e-12
        };
        let hi = if hi > lo && hi.is_finite() {
            hi
        } else {
            lo * 10.0
        };
        LogAxis { lo, hi }
    }
}

impl Ranged for LogAxis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        // Non-positive values are filtered out before drawing; clamp anyway so nothing maps to -inf.
        let v = value.max(self.lo * 1e-6);
        let t = (v.ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln());
        limit.0 + (t * (limit.1 - limit.0) as f64).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        let max = hint.max_num_points();
        if max == 0 || hint.weight().allow_light_points() {
            return Vec::new();
        }
        let first = self.lo.log10().floor() as i32;
        let last = self.hi.log10().ceil() as i32;
        let candidates: [(&[f64], i32); 5] = [
            (&[1.0, 2.0, 5.0], 1),
            (&[1.0, 3.0], 1),
            (&[1.0], 1),
            (&[1.0], 2),
            (&[1.0], 5),
        ];
        for (mults, every) in candidates {
            let points: Vec<f64> = (first..=last)
                .filter(|k| k.rem_euclid(every) == 0)
                .flat_map(|k| mults.iter().map(move |m| m * 10f64.powi(k)))
                .filter(|v| (self.lo..=self.hi).contains(v))
                .collect();
            if points.len() <= max {
                return points;
            }
        }
        Vec::new()
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for LogAxis {
    fn format(value: &f64) -> String {
        tick(*value)
    }
}
