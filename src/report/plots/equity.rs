//! `equity`: the trading view's equity curves after costs, the model's signals against buy-and-hold,
//! over the pooled validation days (`trades.csv`).

use chrono::NaiveDate;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::{headroom, padded_range, tick, DateAxis, LEGEND_ROOM_2};
use super::canvas::{draw_line, font, legend, no_data, DrawResult, Plot, BLUE, ORANGE};
use crate::report::format::percent;
use crate::report::metrics_json::{Evaluation, TradeRow, Trading};

pub(super) struct EquityPlot<'a> {
    trades: &'a [TradeRow],
    trading: &'a Trading,
}

impl<'a> EquityPlot<'a> {
    pub(super) fn new(eval: &'a Evaluation) -> EquityPlot<'a> {
        EquityPlot {
            trades: &eval.trades,
            trading: &eval.trading,
        }
    }
}

impl Plot for EquityPlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let t = self.trading;
        let title = format!(
            "Equity after {} bp costs: model's signals {} vs buy-and-hold {} (Sharpe {:.2} vs {:.2})",
            t.cost_bps,
            percent(t.model.cumulative_return),
            percent(t.buy_and_hold.cumulative_return),
            t.model.sharpe,
            t.buy_and_hold.sharpe
        );
        let (Some(first), Some(last)) = (self.trades.first(), self.trades.last()) else {
            return no_data(root, &title);
        };
        let values = self
            .trades
            .iter()
            .flat_map(|r| [r.equity, r.buy_and_hold_equity])
            .chain([1.0]);
        let Some(y_range) = padded_range(values, 0.04) else {
            return no_data(root, &title);
        };
        let y_range = headroom(y_range, LEGEND_ROOM_2);
        let mut chart = ChartBuilder::on(root)
            .caption(&title, font(22.0))
            .margin(16)
            .margin_right(40)
            .x_label_area_size(56)
            .y_label_area_size(84)
            .build_cartesian_2d(DateAxis::new(first.date, last.date), y_range)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(235, 235, 235))
            .x_desc("validation day (each by the latest split's model)")
            .y_desc("equity (starts at 1)")
            .axis_desc_style(font(17.0))
            .label_style(font(15.0))
            .y_label_formatter(&|v| tick(*v))
            .draw()?;
        let rule = if t.short { "long/short" } else { "long/flat" };
        for (label, pick, color) in [
            (
                "buy-and-hold".to_string(),
                (|r: &TradeRow| r.buy_and_hold_equity) as fn(&TradeRow) -> f64,
                ORANGE,
            ),
            (
                format!("model's signals ({rule})"),
                |r: &TradeRow| r.equity,
                BLUE,
            ),
        ] {
            let points: Vec<(NaiveDate, f64)> =
                self.trades.iter().map(|r| (r.date, pick(r))).collect();
            draw_line(&mut chart, &points, color.stroke_width(2), |_| true)?;
            chart
                .draw_series(std::iter::empty::<PathElement<(NaiveDate, f64)>>())?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3))
                });
        }
        legend(&mut chart)
    }
}
