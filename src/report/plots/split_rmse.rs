//! `split_rmse`: each split's validation RMSE in price units, model against naive (with a running
//! mean over many splits).

use chrono::NaiveDate;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::{headroom, padded_range, tick, DateAxis, LEGEND_ROOM_2};
use super::canvas::{draw_line, font, legend, no_data, DrawResult, Plot, BLUE, ORANGE};
use crate::report::format::dollars;
use crate::report::metrics_json::SplitEval;

/// `(first validation date, model RMSE, naive RMSE)` per split, price units. Splits whose date does not
/// parse (never the case for an [`Evaluation`]) are left out rather than misplaced.
pub fn split_rmse_points(splits: &[SplitEval]) -> Vec<(NaiveDate, f64, f64)> {
    splits
        .iter()
        .filter_map(|s| {
            let date = NaiveDate::parse_from_str(&s.val_first_date, "%Y-%m-%d").ok()?;
            Some((date, s.val_price.rmse, s.naive_val_price.rmse))
        })
        .collect()
}

/// Trailing mean over the last `window` values (fewer at the start), skipping non-finite values.
pub fn trailing_mean(values: &[f64], window: usize) -> Vec<f64> {
    let window = window.max(1);
    (0..values.len())
        .map(|i| {
            let from = (i + 1).saturating_sub(window);
            let finite: Vec<f64> = values[from..=i]
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .collect();
            if finite.is_empty() {
                f64::NAN
            } else {
                finite.iter().sum::<f64>() / finite.len() as f64
            }
        })
        .collect()
}

pub(super) struct SplitRmsePlot {
    points: Vec<(NaiveDate, f64, f64)>,
}

impl SplitRmsePlot {
    pub(super) fn new(splits: &[SplitEval]) -> SplitRmsePlot {
        SplitRmsePlot {
            points: split_rmse_points(splits),
        }
    }
}

/// Splits at or below which every point is drawn as a marker and no running mean is needed.
const FEW_SPLITS: usize = 40;
/// Length of the trailing mean drawn over many splits.
const RUNNING_MEAN: usize = 20;

impl Plot for SplitRmsePlot {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let model: Vec<f64> = self.points.iter().map(|p| p.1).collect();
        let naive: Vec<f64> = self.points.iter().map(|p| p.2).collect();
        let finite_pairs: Vec<(f64, f64)> = model
            .iter()
            .zip(&naive)
            .filter(|(m, b)| m.is_finite() && b.is_finite())
            .map(|(&m, &b)| (m, b))
            .collect();
        let wins = finite_pairs.iter().filter(|(m, b)| m < b).count();
        let mean = |v: &[f64]| {
            let f: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
            f.iter().sum::<f64>() / f.len().max(1) as f64
        };
        let title = format!(
            "Validation RMSE per split: model {} vs naive {} on average; model better on {wins} of {} splits",
            dollars(mean(&model)),
            dollars(mean(&naive)),
            finite_pairs.len()
        );
        let (Some(first), Some(last)) = (self.points.first(), self.points.last()) else {
            return no_data(root, &title);
        };
        let Some(y_range) = padded_range(model.iter().chain(&naive).copied(), 0.04) else {
            return no_data(root, &title);
        };
        let y_range = headroom(y_range.start.max(0.0)..y_range.end, LEGEND_ROOM_2);
        let x = DateAxis::new(first.0, last.0);
        let mut chart = ChartBuilder::on(root)
            .caption(&title, font(22.0))
            .margin(16)
            .margin_right(40)
            .x_label_area_size(56)
            .y_label_area_size(84)
            .build_cartesian_2d(x, y_range)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(235, 235, 235))
            .x_desc("first day of the split's validation window")
            .y_desc("validation RMSE (price units)")
            .axis_desc_style(font(17.0))
            .label_style(font(15.0))
            .y_label_formatter(&|v| tick(*v))
            .draw()?;

        self.draw_lines(&mut chart, &model, &naive)?;
        legend(&mut chart)
    }
}

impl SplitRmsePlot {
    /// Model and naive per split; over many splits a faint band under a bold running mean.
    fn draw_lines<'a, DB: DrawingBackend + 'a>(
        &self,
        chart: &mut ChartContext<'a, DB, Cartesian2d<DateAxis, RangedCoordf64>>,
        model: &[f64],
        naive: &[f64],
    ) -> DrawResult<DB> {
        let dates: Vec<NaiveDate> = self.points.iter().map(|p| p.0).collect();
        let few = self.points.len() <= FEW_SPLITS;
        for (label, values, color) in [
            ("naive (tomorrow = today)", &naive, ORANGE),
            ("model", &model, BLUE),
        ] {
            let raw: Vec<(NaiveDate, f64)> =
                dates.iter().copied().zip(values.iter().copied()).collect();
            // Many splits: the raw per-split values are a faint band and a running mean carries the
            // comparison; few splits: every value is drawn plainly, with markers.
            let raw_style = if few {
                color.stroke_width(2)
            } else {
                color.mix(0.3).stroke_width(1)
            };
            draw_line(chart, &raw, raw_style, |_| true)?;
            if few {
                chart.draw_series(
                    raw.iter()
                        .filter(|p| p.1.is_finite())
                        .map(|&p| Circle::new(p, 3, color.filled())),
                )?;
            }
            let (legend_label, legend_style) = if few {
                (label.to_string(), color.stroke_width(3))
            } else {
                let smooth: Vec<(NaiveDate, f64)> = dates
                    .iter()
                    .copied()
                    .zip(trailing_mean(values, RUNNING_MEAN))
                    .collect();
                draw_line(chart, &smooth, color.stroke_width(3), |_| true)?;
                (
                    format!(
                        "{label}: per split (faint), mean of last {RUNNING_MEAN} splits (bold)"
                    ),
                    color.stroke_width(3),
                )
            };
            chart
                .draw_series(std::iter::empty::<PathElement<(NaiveDate, f64)>>())?
                .label(legend_label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], legend_style));
        }
        Ok(())
    }
}
