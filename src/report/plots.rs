//! The run's plots, each written as PNG and SVG into the output directory:
//!
//! - `loss_mse`: train and validation MSE per epoch, every split's epochs concatenated in split order
//!   (the report's Fig. 4; train blue, validation orange), log scale;
//! - `loss_rmse`: the same in RMSE on a linear scale (the report's Fig. 5);
//! - `predictions`: predicted and actual close over the validation days, with the naive forecast
//!   (tomorrow = today), the errors of both below, and the next-day forecast;
//! - `split_rmse`: each split's validation RMSE in price units, model against naive.
//!
//! Text is drawn with DejaVu Sans compiled into the binary (`assets/fonts/`), registered with plotters'
//! ab_glyph support under the generic family names, so no system font is needed. SVG files name the
//! family `sans-serif` and are rendered with the viewer's own sans-serif font.

use crate::atomic::{commit, partial_path};
use crate::train::protocol::Protocol;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::anyhow;
use chrono::{Datelike, NaiveDate};
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::format::{dollars, plural};
use super::metrics_json::{Evaluation, HistoryRow, PredictionRow, SplitEval, WindowName};

/// Base names of the plots; each is written as `<name>.png` and `<name>.svg`.
pub const PLOT_NAMES: [&str; 4] = ["loss_mse", "loss_rmse", "predictions", "split_rmse"];
/// A panel run's plot of every series' skill ([`super::skill_plot`]).
pub const PANEL_PLOT: &str = "skill_by_series";

/// The bundled font (see `assets/fonts/README.md` for its origin and licence).
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// The font family every text style here uses; registered for the other generic names too, so a
/// plotters default that asks for them still finds a font.
const FAMILY: &str = "sans-serif";

pub(super) const SIZE: (u32, u32) = (1280, 640);
const SIZE_TALL: (u32, u32) = (1280, 800);

/// matplotlib's first two colours, as the report's figures use them for train and validation.
pub(super) const BLUE: RGBColor = RGBColor(31, 119, 180);
pub(super) const ORANGE: RGBColor = RGBColor(255, 127, 14);
pub(super) const GREY: RGBColor = RGBColor(150, 150, 150);
const DARK: RGBColor = RGBColor(30, 30, 30);

/// Registers the bundled font once per process; later calls return the first outcome.
pub(super) fn ensure_font() -> anyhow::Result<()> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            for family in [FAMILY, "serif", "monospace"] {
                plotters::style::register_font(family, FontStyle::Normal, FONT)
                    .map_err(|_| "the bundled DejaVuSans.ttf is not a valid font".to_string())?;
            }
            Ok(())
        })
        .clone()
        .map_err(|e| anyhow!(e))
}

/// Writes every plot of `eval` into `dir` (which must exist) and returns the files written, PNG and
/// SVG of each plot in [`PLOT_NAMES`] order.
pub fn write_all(dir: &Path, eval: &Evaluation) -> anyhow::Result<Vec<PathBuf>> {
    ensure_font()?;
    let n_splits = eval.splits.len();
    // With several seeds, the first seed's fits: the others' curves would repeat every split.
    let first_seed = eval.history.first().map(|h| h.seed);
    let history: Vec<HistoryRow> = eval
        .history
        .iter()
        .filter(|h| Some(h.seed) == first_seed)
        .copied()
        .collect();
    let loss = LossData::from_history(&history);
    let mut written = Vec::new();
    written.extend(write_both(
        dir,
        "loss_mse",
        SIZE,
        &LossPlot {
            data: &loss,
            rmse: false,
            n_splits,
            protocol: eval.run.protocol,
        },
    )?);
    written.extend(write_both(
        dir,
        "loss_rmse",
        SIZE,
        &LossPlot {
            data: &loss,
            rmse: true,
            n_splits,
            protocol: eval.run.protocol,
        },
    )?);
    written.extend(write_both(
        dir,
        "predictions",
        SIZE_TALL,
        &PredictionPlot::new(eval),
    )?);
    written.extend(write_both(
        dir,
        "split_rmse",
        SIZE,
        &SplitRmsePlot::new(&eval.splits),
    )?);
    Ok(written)
}

pub(super) type DrawResult<DB> =
    Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A plot that can draw itself on any plotters backend (the same code makes the PNG and the SVG).
pub(super) trait Plot {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

pub(super) fn write_both(
    dir: &Path,
    name: &str,
    size: (u32, u32),
    plot: &impl Plot,
) -> anyhow::Result<[PathBuf; 2]> {
    let png = dir.join(format!("{name}.png"));
    let svg = dir.join(format!("{name}.svg"));
    // Drawn under the temporary names (same extensions, which select the encoders), then published.
    let (png_tmp, svg_tmp) = (partial_path(&png), partial_path(&svg));
    {
        let root = BitMapBackend::new(&png_tmp, size).into_drawing_area();
        plot.draw(&root)
            .and_then(|()| root.present())
            .map_err(|e| anyhow!("{}: cannot draw the plot: {e}", png.display()))?;
    }
    {
        let root = SVGBackend::new(&svg_tmp, size).into_drawing_area();
        plot.draw(&root)
            .and_then(|()| root.present())
            .map_err(|e| anyhow!("{}: cannot draw the plot: {e}", svg.display()))?;
    }
    commit(&png)?;
    commit(&svg)?;
    Ok([png, svg])
}

pub(super) fn font(size: f64) -> TextStyle<'static> {
    (FAMILY, size).into_font().color(&DARK)
}

// ---------------------------------------------------------------------------------------------------
// Data extraction: plain functions of the evaluation, tested without drawing anything.

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
    /// From history rows in split order (as [`Evaluation::history`] holds them).
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

/// One validation day: the actual close, the prediction of the freshest model that predicted it, and
/// the naive forecast (the previous close).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DayPoint {
    pub date: NaiveDate,
    pub actual: f64,
    pub predicted: f64,
    pub naive: f64,
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

/// `[lo, hi]` of the finite values, widened by `pad` of the span on each side (and made non-empty).
fn padded_range(values: impl IntoIterator<Item = f64>, pad: f64) -> Option<Range<f64>> {
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
const LEGEND_ROOM_2: f64 = 0.16;
const LEGEND_ROOM_4: f64 = 0.36;

/// `range` extended upwards by `share` of its span.
fn headroom(range: Range<f64>, share: f64) -> Range<f64> {
    range.start..range.end + share * (range.end - range.start)
}

/// Splits a series into runs of finite points, so a NaN (a diverged epoch, an undefined metric) leaves
/// a gap instead of breaking the drawing.
fn finite_runs<X: Copy>(points: &[(X, f64)], keep: impl Fn(f64) -> bool) -> Vec<Vec<(X, f64)>> {
    let mut runs = vec![Vec::new()];
    for &(x, y) in points {
        if y.is_finite() && keep(y) {
            if let Some(run) = runs.last_mut() {
                run.push((x, y));
            }
        } else if runs.last().is_some_and(|r| !r.is_empty()) {
            runs.push(Vec::new());
        }
    }
    runs.retain(|r| !r.is_empty());
    runs
}

/// Draws a line through `points`, leaving gaps where `keep` rejects a value or it is not finite.
/// Lines wider than one pixel go segment by segment: plotters joins the segments of a wide polyline
/// with unlimited miters, which shoot far outside the chart at the sharp reversals of a noisy series.
fn draw_line<'a, DB, CT, X>(
    chart: &mut ChartContext<'a, DB, CT>,
    points: &[(X, f64)],
    style: ShapeStyle,
    keep: impl Fn(f64) -> bool,
) -> DrawResult<DB>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate<From = (X, f64)>,
    X: Copy + 'static,
{
    for run in finite_runs(points, keep) {
        if style.stroke_width > 1 && run.len() > 1 {
            chart.draw_series(
                run.windows(2)
                    .map(|w| PathElement::new(vec![w[0], w[1]], style)),
            )?;
        } else {
            chart.draw_series(LineSeries::new(run, style))?;
        }
    }
    Ok(())
}

/// Compact tick label: plain for ordinary magnitudes, `1e-4` style for tiny or huge ones.
pub(super) fn tick(v: f64) -> String {
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

// ---------------------------------------------------------------------------------------------------
// A date axis with ticks on month (or day) boundaries, which plotters' numeric axes cannot do.

#[derive(Debug, Clone)]
struct DateAxis {
    start: NaiveDate,
    end: NaiveDate,
}

impl DateAxis {
    fn new(start: NaiveDate, end: NaiveDate) -> DateAxis {
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

// ---------------------------------------------------------------------------------------------------
// The plots.

/// A base-10 logarithmic axis with ticks at 1, 2 and 5 times powers of ten when the range spans few
/// decades (plotters' own log axis labels only the powers, which leaves two labels on a typical plot).
#[derive(Debug, Clone)]
struct LogAxis {
    lo: f64,
    hi: f64,
}

impl LogAxis {
    /// `0 < lo < hi`, both finite (the caller builds it from positive data).
    fn new(lo: f64, hi: f64) -> LogAxis {
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

struct LossPlot<'a> {
    data: &'a LossData,
    rmse: bool,
    n_splits: usize,
    protocol: Protocol,
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
            self.chart(
                root,
                &title,
                "linear scale",
                plotters::coord::types::RangedCoordf64::from(y.clone()),
                y,
                &train,
                &val,
                |v| v >= 0.0,
            )
        } else {
            // Log scale: MSE spans decades (a fresh model's first epoch against a converged one).
            let Some(y) = padded_range(ys().filter(|v| *v > 0.0), 0.0) else {
                return no_data(root, &title);
            };
            let (lo, hi) = (y.start * 0.8, y.end * 1.25);
            // Headroom for the legend, as a share of the decades shown.
            let hi = hi * (hi / lo).powf(LEGEND_ROOM_2);
            let axis = LogAxis::new(lo, hi);
            self.chart(root, &title, "log scale", axis, lo..hi, &train, &val, |v| {
                v > 0.0
            })
        }
    }
}

impl LossPlot<'_> {
    /// The chart on y axis `y_axis` (spanning `y`); `keep` says which values the axis can show.
    #[allow(clippy::too_many_arguments)]
    fn chart<DB: DrawingBackend, Y: Ranged<ValueType = f64> + ValueFormatter<f64>>(
        &self,
        root: &DrawingArea<DB, Shift>,
        title: &str,
        scale: &str,
        y_axis: Y,
        y: Range<f64>,
        train: &[(f64, f64)],
        val: &[(f64, f64)],
        keep: impl Fn(f64) -> bool + Copy,
    ) -> DrawResult<DB> {
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

fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
) -> DrawResult<DB> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(GREY)
        .label_font(font(16.0))
        .draw()
}

fn no_data<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, title: &str) -> DrawResult<DB> {
    let (w, h) = root.dim_in_pixel();
    root.draw(&Text::new(title.to_string(), (20, 20), font(24.0)))?;
    root.draw(&Text::new(
        "no finite values to plot".to_string(),
        (w as i32 / 2 - 120, h as i32 / 2),
        font(20.0),
    ))
}

/// Validation days at or below which the price lines are drawn two pixels wide.
const FEW_DAYS: usize = 250;

/// A line over dates.
type DatedPoints = Vec<(NaiveDate, f64)>;

/// Largest gap in calendar days between the last validation day and the forecast day for the forecast
/// to be drawn on the same axis (a weekend plus a holiday is 4).
const FORECAST_GAP_DAYS: i64 = 7;

struct PredictionPlot {
    days: Vec<DayPoint>,
    forecast: Option<(NaiveDate, f64, f64, f64)>,
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

    fn new(eval: &Evaluation) -> PredictionPlot {
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
                let style = RGBColor(200, 30, 30);
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

impl Plot for PredictionPlot {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let who = if self.protocol == Protocol::Seed {
            "the final model"
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

        let mut chart = ChartBuilder::on(&top)
            .caption(&title, font(24.0))
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
        if let Some((date, mean, _, _)) = far {
            chart
                .draw_series(std::iter::empty::<Circle<(NaiveDate, f64), i32>>())?
                .label(format!(
                    "forecast {}: {} (beyond the plotted days; last close {})",
                    date.format("%Y-%m-%d"),
                    dollars(mean),
                    dollars(self.last_close)
                ))
                .legend(|(x, y)| {
                    Circle::new((x + 12, y), 5, RGBColor(200, 30, 30).stroke_width(2))
                });
        }
        if let Some((date, mean, min, max)) = near {
            if mean.is_finite() {
                let style = RGBColor(200, 30, 30);
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
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(GREY)
            .label_font(font(16.0))
            .draw()?;

        // Errors panel: how far each forecast was from the actual close.
        let model_err = self.with_gaps(|d| d.predicted - d.actual);
        let naive_err = self.with_gaps(|d| d.naive - d.actual);
        let err_range = padded_range(
            model_err.iter().chain(&naive_err).map(|p| p.1).chain([0.0]),
            0.05,
        )
        .unwrap_or(-1.0..1.0);
        let mut chart = ChartBuilder::on(&bottom)
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

struct SplitRmsePlot {
    points: Vec<(NaiveDate, f64, f64)>,
}

impl SplitRmsePlot {
    fn new(splits: &[SplitEval]) -> SplitRmsePlot {
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
        let n = self.points.len();
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

        let dates: Vec<NaiveDate> = self.points.iter().map(|p| p.0).collect();
        let few = n <= FEW_SPLITS;
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
            draw_line(&mut chart, &raw, raw_style, |_| true)?;
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
                draw_line(&mut chart, &smooth, color.stroke_width(3), |_| true)?;
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
        legend(&mut chart)
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
