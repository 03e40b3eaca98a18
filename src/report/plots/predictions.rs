//! `predictions`: predicted and actual close over the validation days, with the naive forecast
//! (tomorrow = today), the errors of both below, and the next-day forecast; separate validation windows
//! get a small panel each.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::{headroom, padded_range, tick, DateAxis, LEGEND_ROOM_4};
use super::canvas::{
    draw_line, font, no_data, DrawResult, Plot, BLUE, DARK, GREY, ORANGE, SIZE_TALL,
};
use crate::report::format::dollars;
use crate::report::metrics_json::{Evaluation, PredictionRow, WindowName};
use crate::train::protocol::Protocol;

/// One validation day: the actual close, the prediction of the freshest model that predicted it, and
/// the naive forecast (the previous close).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DayPoint {
    pub date: NaiveDate,
    pub actual: f64,
    pub predicted: f64,
    pub naive: f64,
    /// The ridge baseline's prediction (NaN where the row has none).
    pub ridge: f64,
}

/// Validation predictions, one per date. With `--step` smaller than `--val-window` a date falls in
/// several splits' validation windows; the split whose window starts latest is kept (its model saw the
/// most recent data), so with step 1 every day is a one-step-ahead forecast of the model trained up to
/// the day before, and the days of the last split's window come from the last model.
pub fn freshest_predictions(rows: &[PredictionRow]) -> Vec<DayPoint> {
    let mut by_date: BTreeMap<NaiveDate, (usize, DayPoint)> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.window == WindowName::Val) {
        let point = DayPoint {
            date: r.date,
            actual: r.actual,
            predicted: r.predicted,
            naive: r.naive.unwrap_or(f64::NAN),
            ridge: r.ridge.unwrap_or(f64::NAN),
        };
        match by_date.get(&r.date) {
            Some(&(split, _)) if split > r.split => {}
            _ => {
                by_date.insert(r.date, (r.split, point));
            }
        }
    }
    by_date.into_values().map(|(_, p)| p).collect()
}

/// Validation days at or below which the price lines are drawn two pixels wide.
const FEW_DAYS: usize = 250;

/// A line over dates.
type DatedPoints = Vec<(NaiveDate, f64)>;

/// Largest gap in calendar days between the last validation day and the forecast day for the forecast
/// to be drawn on the same axis (a weekend plus a holiday is 4).
const FORECAST_GAP_DAYS: i64 = 7;

pub(super) struct PredictionPlot {
    days: Vec<DayPoint>,
    forecast: Option<Forecast>,
    last_close: f64,
    protocol: Protocol,
    target: String,
}

impl PredictionPlot {
    /// `f` of every plotted day, with a NaN point (a break in the line) wherever consecutive days are
    /// more than a week apart: validation windows that do not touch (a `--step` larger than the window)
    /// are drawn as separate pieces instead of being joined across days nobody predicted.
    fn with_gaps(&self, f: impl Fn(&DayPoint) -> f64) -> Vec<(NaiveDate, f64)> {
        let mut out = Vec::with_capacity(self.days.len());
        for (i, d) in self.days.iter().enumerate() {
            if i > 0 && (d.date - self.days[i - 1].date).num_days() > 7 {
                out.push((d.date, f64::NAN));
            }
            out.push((d.date, f(d)));
        }
        out
    }

    pub(super) fn new(eval: &Evaluation) -> PredictionPlot {
        let f = &eval.forecast;
        let forecast = NaiveDate::parse_from_str(&f.next_trading_day, "%Y-%m-%d")
            .ok()
            .map(|d| (d, f.mean, f.min, f.max));
        PredictionPlot {
            days: freshest_predictions(&eval.predictions),
            forecast,
            last_close: f.last_close,
            protocol: eval.run.protocol,
            target: eval.run.target.clone(),
        }
    }
}

/// Separate validation windows (a `--step` larger than the window) up to which each gets its own small
/// panel, with its own dates and price range, instead of slivers on one 13-year axis.
const MAX_PANELS: usize = 16;

impl PredictionPlot {
    /// The plotted days cut where consecutive days are more than a week apart.
    fn windows(&self) -> Vec<&[DayPoint]> {
        let mut out = Vec::new();
        let mut start = 0;
        for i in 1..=self.days.len() {
            let cut =
                i == self.days.len() || (self.days[i].date - self.days[i - 1].date).num_days() > 7;
            if cut {
                out.push(&self.days[start..i]);
                start = i;
            }
        }
        out
    }

    /// One panel per validation window (four to a row): actual, naive and model over that window's
    /// days on its own price axis; the forecast in the last panel when it continues it.
    fn draw_panels<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        title: &str,
        windows: &[&[DayPoint]],
    ) -> DrawResult<DB> {
        let area = root.titled(title, font(24.0))?;
        let cols = windows.len().min(4);
        let panels = area.split_evenly((windows.len().div_ceil(cols), cols));
        for (k, (days, panel)) in windows.iter().zip(&panels).enumerate() {
            let (first, last) = (days[0].date, days[days.len() - 1].date);
            let near = self.forecast.filter(|f| {
                k + 1 == windows.len() && f.0 > last && (f.0 - last).num_days() <= FORECAST_GAP_DAYS
            });
            let end = near.map_or(last, |f| f.0);
            let x = DateAxis::new(
                first,
                end.checked_add_days(chrono::Days::new(1)).unwrap_or(end),
            );
            let prices = days
                .iter()
                .flat_map(|d| [d.actual, d.predicted, d.naive])
                .chain(near.iter().map(|f| f.1));
            let Some(y) = padded_range(prices, 0.08) else {
                continue;
            };
            let mut chart = ChartBuilder::on(panel)
                .caption(format!("{first} to {last}"), font(15.0))
                .margin(8)
                .x_label_area_size(24)
                .y_label_area_size(52)
                .build_cartesian_2d(x, y)?;
            chart
                .configure_mesh()
                .light_line_style(WHITE)
                .bold_line_style(RGBColor(235, 235, 235))
                .x_labels(3)
                .y_labels(5)
                .label_style(font(12.0))
                .y_label_formatter(&|v| tick(*v))
                .draw()?;
            let line =
                |f: fn(&DayPoint) -> f64| days.iter().map(|d| (d.date, f(d))).collect::<Vec<_>>();
            let lines: [(&str, DatedPoints, ShapeStyle); 3] = [
                ("actual", line(|d| d.actual), DARK.stroke_width(2)),
                ("naive", line(|d| d.naive), ORANGE.mix(0.9).stroke_width(1)),
                ("model", line(|d| d.predicted), BLUE.stroke_width(2)),
            ];
            for (label, points, style) in lines {
                draw_line(&mut chart, &points, style, |_| true)?;
                if k == 0 {
                    chart
                        .draw_series(std::iter::empty::<PathElement<(NaiveDate, f64)>>())?
                        .label(label)
                        .legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 18, y)], style.stroke_width(3))
                        });
                }
            }
            if let Some((date, mean, _, _)) = near.filter(|f| f.1.is_finite()) {
                let style = FORECAST_RED;
                chart.draw_series(std::iter::once(Circle::new(
                    (date, mean),
                    4,
                    style.filled(),
                )))?;
            }
            if k == 0 {
                chart
                    .configure_series_labels()
                    .position(SeriesLabelPosition::UpperLeft)
                    .background_style(WHITE.mix(0.9))
                    .border_style(GREY)
                    .label_font(font(12.0))
                    .draw()?;
            }
        }
        Ok(())
    }
}

/// The forecast as drawn: its date, mean and the members' min and max.
type Forecast = (NaiveDate, f64, f64, f64);

/// The colour of the forecast marker.
const FORECAST_RED: RGBColor = RGBColor(200, 30, 30);

/// The prices chart's coordinates: dates across, prices up.
type PriceChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<DateAxis, RangedCoordf64>>;

impl Plot for PredictionPlot {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let who = if self.protocol == Protocol::Seed {
            "each split's model right after its fit"
        } else {
            "each day by the latest split's model"
        };
        let title = format!(
            "Predicted vs actual {} on the validation days ({who})",
            self.target
        );
        let (Some(first), Some(last)) = (self.days.first(), self.days.last()) else {
            return no_data(root, &title);
        };
        let windows = self.windows();
        if windows.len() > 1 && windows.len() <= MAX_PANELS {
            return self.draw_panels(root, &title, &windows);
        }
        // The forecast is drawn only where it continues the plotted days; a run cut short by
        // --max-splits ends its validation days long before the data (and the forecast) do.
        let (near, far) = match self.forecast {
            Some(f) if f.0 > last.date && (f.0 - last.date).num_days() <= FORECAST_GAP_DAYS => {
                (Some(f), None)
            }
            other => (None, other),
        };
        let end = near.map_or(last.date, |f| f.0);
        // A little room after the last day so the forecast marker is not on the frame.
        let pad = ((end - first.date).num_days() / 60).max(1) as u64;
        let x = DateAxis::new(
            first.date,
            end.checked_add_days(chrono::Days::new(pad)).unwrap_or(end),
        );

        let prices = self
            .days
            .iter()
            .flat_map(|d| [d.actual, d.predicted, d.naive])
            .chain(near.iter().flat_map(|f| [f.1, f.2, f.3]));
        let Some(y_range) = padded_range(prices, 0.04) else {
            return no_data(root, &title);
        };
        let y_range = headroom(y_range, LEGEND_ROOM_4);
        let (top, bottom) = root.split_vertically(SIZE_TALL.1 * 64 / 100);
        self.draw_prices(&top, &title, &x, y_range, (near, far))?;
        self.draw_errors(&bottom, &x)
    }
}

impl PredictionPlot {
    /// The upper chart: actual, naive and model over the days, and the forecast (`near`: on the
    /// axis; `far`: beyond it, named in the legend only).
    fn draw_prices<DB: DrawingBackend>(
        &self,
        top: &DrawingArea<DB, Shift>,
        title: &str,
        x: &DateAxis,
        y_range: std::ops::Range<f64>,
        (near, far): (Option<Forecast>, Option<Forecast>),
    ) -> DrawResult<DB> {
        let mut chart = ChartBuilder::on(top)
            .caption(title, font(24.0))
            .margin(16)
            .margin_right(40)
            .margin_bottom(4)
            .x_label_area_size(30)
            .y_label_area_size(84)
            .build_cartesian_2d(x.clone(), y_range)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(235, 235, 235))
            .y_desc(format!("{} (price units)", self.target))
            .axis_desc_style(font(17.0))
            .label_style(font(15.0))
            .y_label_formatter(&|v| tick(*v))
            .draw()?;
        let series = |f: fn(&DayPoint) -> f64| self.with_gaps(f);
        // Over many days wide lines merge into one band; thin ones keep the three apart.
        let width = if self.days.len() <= FEW_DAYS { 2 } else { 1 };
        let lines: [(&str, DatedPoints, ShapeStyle); 3] = [
            ("actual", series(|d| d.actual), DARK.stroke_width(width)),
            (
                "naive (tomorrow = today)",
                series(|d| d.naive),
                ORANGE.mix(0.9).stroke_width(1),
            ),
            ("model", series(|d| d.predicted), BLUE.stroke_width(width)),
        ];
        for (label, points, style) in lines {
            draw_line(&mut chart, &points, style, |_| true)?;
            chart
                .draw_series(std::iter::empty::<PathElement<(NaiveDate, f64)>>())?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], style.stroke_width(3))
                });
        }
        self.draw_forecast(&mut chart, near, far)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(GREY)
            .label_font(font(16.0))
            .draw()
    }

    /// The forecast: a marker (with the members' range) where it continues the days, else a legend
    /// entry naming it.
    fn draw_forecast<DB: DrawingBackend>(
        &self,
        chart: &mut PriceChart<'_, DB>,
        near: Option<Forecast>,
        far: Option<Forecast>,
    ) -> DrawResult<DB> {
        if let Some((date, mean, _, _)) = far {
            chart
                .draw_series(std::iter::empty::<Circle<(NaiveDate, f64), i32>>())?
                .label(format!(
                    "forecast {}: {} (beyond the plotted days; last close {})",
                    date.format("%Y-%m-%d"),
                    dollars(mean),
                    dollars(self.last_close)
                ))
                .legend(|(x, y)| Circle::new((x + 12, y), 5, FORECAST_RED.stroke_width(2)));
        }
        if let Some((date, mean, min, max)) = near {
            if mean.is_finite() {
                let style = FORECAST_RED;
                if min.is_finite() && max.is_finite() && max > min {
                    chart.draw_series(std::iter::once(PathElement::new(
                        vec![(date, min), (date, max)],
                        style.stroke_width(2),
                    )))?;
                }
                chart
                    .draw_series(std::iter::once(Circle::new(
                        (date, mean),
                        5,
                        style.filled(),
                    )))?
                    .label(format!(
                        "forecast {}: {} (last close {})",
                        date.format("%Y-%m-%d"),
                        dollars(mean),
                        dollars(self.last_close)
                    ))
                    .legend(move |(x, y)| Circle::new((x + 12, y), 5, style.filled()));
            }
        }
        Ok(())
    }

    /// The lower chart: how far each forecast was from the actual close.
    fn draw_errors<DB: DrawingBackend>(
        &self,
        bottom: &DrawingArea<DB, Shift>,
        x: &DateAxis,
    ) -> DrawResult<DB> {
        let model_err = self.with_gaps(|d| d.predicted - d.actual);
        let naive_err = self.with_gaps(|d| d.naive - d.actual);
        let err_range = padded_range(
            model_err.iter().chain(&naive_err).map(|p| p.1).chain([0.0]),
            0.05,
        )
        .unwrap_or(-1.0..1.0);
        let mut chart = ChartBuilder::on(bottom)
            .margin(16)
            .margin_right(40)
            .margin_top(4)
            .x_label_area_size(56)
            .y_label_area_size(84)
            .build_cartesian_2d(x.clone(), err_range)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(235, 235, 235))
            .x_desc("date of the predicted close")
            .y_desc("error (pred − actual)")
            .axis_desc_style(font(17.0))
            .label_style(font(15.0))
            .y_label_formatter(&|v| tick(*v))
            .draw()?;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(x.start, 0.0), (x.end, 0.0)],
            GREY.stroke_width(1),
        )))?;
        for (points, style) in [
            (&naive_err, ORANGE.mix(0.9).stroke_width(1)),
            (&model_err, BLUE.stroke_width(1)),
        ] {
            draw_line(&mut chart, points, style, |_| true)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod panel_tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> DayPoint {
        let date = NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        DayPoint {
            date,
            actual: 1.0,
            predicted: 1.0,
            naive: 1.0,
            ridge: 1.0,
        }
    }

    /// Days more than a week apart start a new panel; a weekend does not.
    #[test]
    fn validation_windows_are_cut_at_gaps_of_more_than_a_week() {
        let plot = PredictionPlot {
            days: vec![
                day(2020, 1, 3),
                day(2020, 1, 6),
                day(2020, 3, 2),
                day(2020, 3, 3),
                day(2021, 1, 4),
            ],
            forecast: None,
            last_close: 1.0,
            protocol: Protocol::WalkForward,
            target: "Close".into(),
        };
        let sizes: Vec<usize> = plot.windows().iter().map(|w| w.len()).collect();
        assert_eq!(sizes, vec![2, 2, 1]);
    }
}
