//! `skill_by_series`: a panel run's skill against the naive forecast, one bar per series in the order
//! of the panel summary (best first), with the seeds' spread (± one standard deviation) when there are
//! several seeds. Bars right of zero beat tomorrow = today.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::tick;
use super::canvas::{ensure_font, font, write_both, DrawResult, Plot, BLUE, GREY, ORANGE};
use super::PANEL_PLOT;
use crate::report::metrics_json::{PanelEvaluation, PanelRow};

/// Height per series, so long panels stay readable.
const ROW_PIXELS: u32 = 28;

struct SkillPlot<'a> {
    rows: &'a [PanelRow],
}

/// Writes the plot into `dir` and returns its PNG and SVG.
pub fn write(dir: &Path, panel: &PanelEvaluation) -> anyhow::Result<[PathBuf; 2]> {
    ensure_font()?;
    let height = 160 + ROW_PIXELS * panel.panel.len() as u32;
    write_both(
        dir,
        PANEL_PLOT,
        (1280, height.max(400)),
        &SkillPlot { rows: &panel.panel },
    )
}

impl Plot for SkillPlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let n = self.rows.len();
        let spread = |r: &PanelRow| r.skill_seed_std.filter(|s| s.is_finite()).unwrap_or(0.0);
        let ends = self
            .rows
            .iter()
            .filter(|r| r.skill.is_finite())
            .flat_map(|r| [r.skill - spread(r), r.skill + spread(r)]);
        let (lo, hi) = ends.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let pad = 0.05 * (hi - lo).max(0.01);
        let wins = self.rows.iter().filter(|r| r.skill > 0.0).count();
        let title = format!(
            "Skill vs naive (1 − RMSE / naive RMSE) by series: {wins} of {n} beat tomorrow = today"
        );
        let names: Vec<String> = self.rows.iter().map(|r| r.series.clone()).collect();
        let mut chart = ChartBuilder::on(root)
            .caption(&title, font(22.0))
            .margin(16)
            .margin_right(40)
            .x_label_area_size(56)
            .y_label_area_size(220)
            .build_cartesian_2d((lo - pad)..(hi + pad), -0.5..(n as f64 - 0.5))?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(235, 235, 235))
            .x_desc(if self.rows.iter().any(|r| spread(r) > 0.0) {
                "skill of the seeds' ensemble (above 0: the model beats the naive forecast); black: ± one \
                 standard deviation of the single seeds' skills"
            } else {
                "skill (above 0: the model beats the naive forecast)"
            })
            .axis_desc_style(font(17.0))
            .label_style(font(15.0))
            // Rounded, so the axis reads 0 where floating point lands a hair beside it.
            .x_label_formatter(&|v| tick(if v.abs() < 1e-9 * (hi - lo).max(1e-9) { 0.0 } else { *v }))
            // Row 0 at the top: the best series first, as in the summary table.
            .y_labels(n.max(1))
            .y_label_formatter(&|v| {
                let i = v.round();
                if (v - i).abs() > 1e-6 || i < 0.0 {
                    return String::new();
                }
                names
                    .get(n.saturating_sub(1 + i as usize))
                    .cloned()
                    .unwrap_or_default()
            })
            .draw()?;
        let y = |i: usize| (n - 1 - i) as f64;
        chart.draw_series(
            self.rows
                .iter()
                .enumerate()
                .filter(|(_, r)| r.skill.is_finite())
                .map(|(i, r)| {
                    let color = if r.skill > 0.0 { BLUE } else { ORANGE };
                    Rectangle::new([(0.0, y(i) - 0.35), (r.skill, y(i) + 0.35)], color.filled())
                }),
        )?;
        chart.draw_series(
            self.rows
                .iter()
                .enumerate()
                .filter(|(_, r)| r.skill.is_finite() && spread(r) > 0.0)
                .map(|(i, r)| {
                    PathElement::new(
                        vec![(r.skill - spread(r), y(i)), (r.skill + spread(r), y(i))],
                        BLACK.stroke_width(2),
                    )
                }),
        )?;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, -0.5), (0.0, n as f64 - 0.5)],
            GREY.stroke_width(1),
        )))?;
        Ok(())
    }
}
