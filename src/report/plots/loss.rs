//! `loss_mse` and `loss_rmse`: train and validation loss per epoch, every split's epochs concatenated in
//! split order (the report's Figs. 4 and 5; train blue, validation orange), MSE on a log scale, RMSE on
//! a linear one.

use std::ops::Range;

use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::{headroom, padded_range, tick, LogAxis, LEGEND_ROOM_2};
use super::canvas::{draw_line, font, legend, no_data, DrawResult, Plot, BLUE, GREY, ORANGE};
use crate::report::format::plural;
use crate::report::metrics_json::HistoryRow;
use crate::train::protocol::Protocol;

/// The per-epoch losses of all splits, concatenated in split order.
#[derive(Debug, Clone, PartialEq)]
pub struct LossData {
    /// `(global epoch, loss)`; the global epoch counts every epoch of every split from 0.
    pub train: Vec<(f64, f64)>,
    pub val: Vec<(f64, f64)>,
    /// `(split, global epoch of its first epoch)`, in split order.
    pub split_starts: Vec<(usize, f64)>,
}

impl LossData {
    /// From history rows in split order (as [`Evaluation::history`](crate::report::metrics_json::Evaluation::history) holds them).
    pub fn from_history(history: &[HistoryRow]) -> LossData {
        let mut data = LossData {
            train: Vec::with_capacity(history.len()),
            val: Vec::with_capacity(history.len()),
            split_starts: Vec::new(),
        };
        for (i, row) in history.iter().enumerate() {
            let x = i as f64;
            if data.split_starts.last().map(|s| s.0) != Some(row.split) {
                data.split_starts.push((row.split, x));
            }
            data.train.push((x, row.train_loss));
            data.val.push((x, row.val_loss));
        }
        data
    }
}

pub(super) struct LossPlot<'a> {
    pub(super) data: &'a LossData,
    /// RMSE on a linear scale; else MSE on a log scale.
    pub(super) rmse: bool,
    pub(super) n_splits: usize,
    pub(super) protocol: Protocol,
}

/// Marks every `step`-th split start so at most about 20 boundaries are drawn; every split when few.
fn boundary_step(n_splits: usize) -> usize {
    [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]
        .into_iter()
        .find(|&s| n_splits.div_ceil(s) <= 20)
        .unwrap_or(10_000)
}

/// Epochs at or below which loss lines are drawn thicker (a short run's lines are far apart).
const FEW_EPOCHS: usize = 300;

impl Plot for LossPlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let transform = |v: f64| if self.rmse { v.sqrt() } else { v };
        let train: Vec<(f64, f64)> = self
            .data
            .train
            .iter()
            .map(|&(x, y)| (x, transform(y)))
            .collect();
        let val: Vec<(f64, f64)> = self
            .data
            .val
            .iter()
            .map(|&(x, y)| (x, transform(y)))
            .collect();
        let what = if self.rmse { "RMSE" } else { "MSE" };
        let title = format!(
            "Train and validation {what} per epoch, {} split{} in order ({} protocol)",
            self.n_splits,
            plural(self.n_splits),
            self.protocol
        );
        let ys = || train.iter().chain(&val).map(|p| p.1);
        if self.rmse {
            let Some(y) = padded_range(ys().filter(|v| *v >= 0.0), 0.03) else {
                return no_data(root, &title);
            };
            let y = headroom(y.start.max(0.0)..y.end, LEGEND_ROOM_2);
            let scale = YScale {
                name: "linear scale",
                axis: plotters::coord::types::RangedCoordf64::from(y.clone()),
                span: y,
                keep: |v: f64| v >= 0.0,
            };
            self.chart(root, &title, scale, &train, &val)
        } else {
            // Log scale: MSE spans decades (a fresh model's first epoch against a converged one).
            let Some(y) = padded_range(ys().filter(|v| *v > 0.0), 0.0) else {
                return no_data(root, &title);
            };
            let (lo, hi) = (y.start * 0.8, y.end * 1.25);
            // Headroom for the legend, as a share of the decades shown.
            let hi = hi * (hi / lo).powf(LEGEND_ROOM_2);
            let axis = LogAxis::new(lo, hi);
            let scale = YScale {
                name: "log scale",
                axis,
                span: lo..hi,
                keep: |v: f64| v > 0.0,
            };
            self.chart(root, &title, scale, &train, &val)
        }
    }
}

/// A loss chart's y axis: linear for RMSE, logarithmic for MSE.
struct YScale<Y, K> {
    /// How the axis label names the scale.
    name: &'static str,
    axis: Y,
    /// The values the axis spans.
    span: Range<f64>,
    /// Which values the axis can show (the log axis: only positive ones).
    keep: K,
}

impl LossPlot<'_> {
    /// The chart on the y axis `scale` describes.
    fn chart<DB: DrawingBackend, Y: Ranged<ValueType = f64> + ValueFormatter<f64>>(
        &self,
        root: &DrawingArea<DB, Shift>,
        title: &str,
        scale: YScale<Y, impl Fn(f64) -> bool + Copy>,
        train: &[(f64, f64)],
        val: &[(f64, f64)],
    ) -> DrawResult<DB> {
        let YScale {
            name: scale,
            axis: y_axis,
            span: y,
            keep,
        } = scale;
        let what = if self.rmse { "RMSE" } else { "MSE" };
        let epochs = train.len().max(1) as f64;
        let mut chart = ChartBuilder::on(root)
            .caption(title, font(24.0))
            .margin(16)
            .margin_right(40)
            .x_label_area_size(56)
            .y_label_area_size(84)
            .build_cartesian_2d(0.0..epochs, y_axis)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(235, 235, 235))
            .x_desc("epoch (every split's epochs concatenated in split order; grey lines: split starts)")
            .y_desc(format!("{what} (scaled units, {scale})"))
            .axis_desc_style(font(17.0))
            .label_style(font(15.0))
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| tick(*v))
            .draw()?;
        self.draw_boundaries(&mut chart, y)?;

        let width = if train.len() <= FEW_EPOCHS { 2 } else { 1 };
        // Legend entries first, so they read "train, validation" whatever the drawing order.
        for (label, color) in [("train", BLUE), ("validation", ORANGE)] {
            chart
                .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3))
                });
        }
        // Validation first, so the steadier train line is not hidden under its spikes.
        for (points, color) in [(val, ORANGE), (train, BLUE)] {
            draw_line(&mut chart, points, color.stroke_width(width), keep)?;
        }
        legend(&mut chart)
    }

    /// Light vertical lines at split starts, labelled with the split index just above the x axis.
    fn draw_boundaries<DB: DrawingBackend, Y: Ranged<ValueType = f64>>(
        &self,
        chart: &mut ChartContext<'_, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>,
        y: Range<f64>,
    ) -> DrawResult<DB> {
        let starts = &self.data.split_starts;
        if starts.len() < 2 {
            return Ok(());
        }
        let step = boundary_step(starts.len());
        let marked: Vec<(usize, f64)> = starts
            .iter()
            .enumerate()
            .filter(|(i, _)| i % step == 0)
            .map(|(_, &s)| s)
            .collect();
        let line = GREY.mix(0.35).stroke_width(1);
        chart.draw_series(
            marked
                .iter()
                .map(|&(_, x)| PathElement::new(vec![(x, y.start), (x, y.end)], line)),
        )?;
        // Labels sit just above the x axis, clear of the legend in the upper right; every other one
        // when they would crowd.
        let label_every = if marked.len() > 12 { 2 } else { 1 };
        let label_style = font(12.0).color(&GREY);
        chart.draw_series(marked.iter().step_by(label_every).map(|&(split, x)| {
            EmptyElement::at((x, y.start))
                + Text::new(format!("split {split}"), (4, -16), label_style.clone())
        }))?;
        Ok(())
    }
}
