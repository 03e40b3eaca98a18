//! What every plot draws with: the bundled font, the colours and sizes, the [`Plot`] trait and
//! [`write_both`] (PNG and SVG from the same drawing code, each published atomically), and the shared
//! strokes (lines with gaps, the legend box, the "no data" page).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::anyhow;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::atomic::{commit, partial_path};

/// The bundled font (see `assets/fonts/README.md` for its origin and licence).
static FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
/// The font family every text style here uses; registered for the other generic names too, so a
/// plotters default that asks for them still finds a font.
const FAMILY: &str = "sans-serif";

pub(in crate::report) const SIZE: (u32, u32) = (1280, 640);
pub(super) const SIZE_TALL: (u32, u32) = (1280, 800);

/// matplotlib's first two colours, as the report's figures use them for train and validation.
pub(in crate::report) const BLUE: RGBColor = RGBColor(31, 119, 180);
pub(in crate::report) const ORANGE: RGBColor = RGBColor(255, 127, 14);
pub(in crate::report) const GREY: RGBColor = RGBColor(150, 150, 150);
pub(super) const DARK: RGBColor = RGBColor(30, 30, 30);

/// Registers the bundled font once per process; later calls return the first outcome.
pub(in crate::report) fn ensure_font() -> anyhow::Result<()> {
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

pub(in crate::report) type DrawResult<DB> =
    Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A plot that can draw itself on any plotters backend (the same code makes the PNG and the SVG).
pub(in crate::report) trait Plot {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

pub(in crate::report) fn write_both(
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

pub(in crate::report) fn font(size: f64) -> TextStyle<'static> {
    (FAMILY, size).into_font().color(&DARK)
}

/// Splits a series into runs of finite points, so a NaN (a diverged epoch, an undefined metric) leaves
/// a gap instead of breaking the drawing.
pub(super) fn finite_runs<X: Copy>(
    points: &[(X, f64)],
    keep: impl Fn(f64) -> bool,
) -> Vec<Vec<(X, f64)>> {
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
pub(super) fn draw_line<'a, DB, CT, X>(
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

pub(super) fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
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

pub(super) fn no_data<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> DrawResult<DB> {
    let (w, h) = root.dim_in_pixel();
    root.draw(&Text::new(title.to_string(), (20, 20), font(24.0)))?;
    root.draw(&Text::new(
        "no finite values to plot".to_string(),
        (w as i32 / 2 - 120, h as i32 / 2),
        font(20.0),
    ))
}
