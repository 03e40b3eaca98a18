//! `sweep_heatmap`: a sweep's pooled skill against naive over two swept keys, one cell per pair of
//! values (the mean over the configurations that share them, when more keys were swept), blue where
//! the configurations beat tomorrow = today and orange where they lose, the value printed in each cell.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::canvas::{ensure_font, font, write_both, DrawResult, Plot, BLUE, ORANGE};

/// The heatmap's base name (PNG and SVG).
pub const HEATMAP_PLOT: &str = "sweep_heatmap";

/// What the heatmap shows: `skill[y][x]` (NaN where no configuration has the pair).
#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    pub x_key: String,
    pub y_key: String,
    pub x_values: Vec<String>,
    pub y_values: Vec<String>,
    pub skill: Vec<Vec<f64>>,
}

/// Writes the heatmap into `dir` and returns its PNG and SVG.
pub fn write(dir: &Path, map: &Heatmap) -> anyhow::Result<[PathBuf; 2]> {
    ensure_font()?;
    write_both(dir, HEATMAP_PLOT, (1280, 800), map)
}

/// White at 0, full colour at the largest |skill| of the map.
fn shade(skill: f64, scale: f64) -> RGBColor {
    if !skill.is_finite() {
        return RGBColor(220, 220, 220);
    }
    let base = if skill > 0.0 { BLUE } else { ORANGE };
    let t = (skill.abs() / scale.max(1e-12)).min(1.0);
    let mix = |c: u8| (255.0 + (f64::from(c) - 255.0) * t).round() as u8;
    RGBColor(mix(base.0), mix(base.1), mix(base.2))
}

impl Plot for Heatmap {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let (nx, ny) = (self.x_values.len(), self.y_values.len());
        let scale = self
            .skill
            .iter()
            .flatten()
            .filter(|v| v.is_finite())
            .fold(0.0f64, |m, v| m.max(v.abs()));
        let title = format!(
            "Pooled skill vs naive (1 − RMSE / naive RMSE) by {} and {}",
            self.x_key, self.y_key
        );
        let mut chart = ChartBuilder::on(root)
            .caption(&title, font(22.0))
            .margin(16)
            .x_label_area_size(56)
            .y_label_area_size(120)
            .build_cartesian_2d(-0.5..(nx as f64 - 0.5), -0.5..(ny as f64 - 0.5))?;
        let label = |values: &[String], v: f64| {
            let i = v.round();
            if (v - i).abs() > 1e-6 || i < 0.0 {
                return String::new();
            }
            values.get(i as usize).cloned().unwrap_or_default()
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(nx.max(1))
            .y_labels(ny.max(1))
            .x_label_formatter(&|v| label(&self.x_values, *v))
            .y_label_formatter(&|v| label(&self.y_values, *v))
            .x_desc(self.x_key.as_str())
            .y_desc(self.y_key.as_str())
            .axis_desc_style(font(17.0))
            .label_style(font(15.0))
            .draw()?;
        for (y, row) in self.skill.iter().enumerate() {
            for (x, &v) in row.iter().enumerate() {
                let (fx, fy) = (x as f64, y as f64);
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(fx - 0.5, fy - 0.5), (fx + 0.5, fy + 0.5)],
                    shade(v, scale).filled(),
                )))?;
                let text = if v.is_finite() {
                    format!("{v:+.4}")
                } else {
                    "—".to_string()
                };
                chart.draw_series(std::iter::once(Text::new(
                    text,
                    (fx - 0.12, fy),
                    font(16.0),
                )))?;
            }
        }
        Ok(())
    }
}
