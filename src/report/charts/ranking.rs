//! Ranking: one horizontal bar per run with a figure, best first, its value printed.

use anyhow::Result;
use plotters::prelude::*;

use super::{Area, D_REAL, err, font, lane_label, lanes};
use crate::digits;
use crate::report::summary::{Figure, Summary};

pub fn size(bars: usize) -> (u32, u32) {
    (900, 90 + 34 * bars.max(1) as u32)
}

/// (id, figure) of the ranked runs (`Summary::rank`), best first.
pub fn ranked(summaries: &[Summary]) -> Vec<(String, f64)> {
    let mut bars: Vec<(usize, String, f64)> = summaries
        .iter()
        .filter_map(|s| Some((s.rank?, s.id.clone(), s.figure?)))
        .collect();
    bars.sort_by_key(|b| b.0);
    bars.into_iter().map(|(_, id, f)| (id, f)).collect()
}

pub fn draw<DB: DrawingBackend>(
    area: &Area<DB>,
    bars: &[(String, f64)],
    figure: Figure,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE).map_err(err)?;
    let n = bars.len();
    let x_max = bars.iter().map(|b| b.1).fold(0.0f64, f64::max).max(1e-9) * 1.2;
    let mut chart = ChartBuilder::on(area)
        .caption(format!("Ranking by {}", figure.label()), font(18))
        .margin(10)
        .margin_right(50)
        .x_label_area_size(40)
        .y_label_area_size(130)
        .build_cartesian_2d(0f64..x_max, lanes(n))
        .map_err(err)?;
    let labels: Vec<String> = bars.iter().rev().map(|b| b.0.clone()).collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(WHITE)
        .label_style(font(14))
        .y_label_formatter(&|at| lane_label(&labels, at))
        .x_desc(figure.label())
        .draw()
        .map_err(err)?;
    // Drawn bottom-up: the best bar is at the top.
    for (i, (_, value)) in bars.iter().rev().enumerate() {
        let lane = i as f64;
        let mut bar = Rectangle::new(
            [(0.0, lane), (*value, lane + 1.0)],
            D_REAL.mix(0.8).filled(),
        );
        bar.set_margin(5, 5, 0, 0);
        chart.draw_series([bar]).map_err(err)?;
        chart
            .draw_series([Text::new(
                digits::four(*value),
                (*value + x_max * 0.01, lane + 0.5),
                font(13).pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Left,
                    plotters::style::text_anchor::VPos::Center,
                )),
            )])
            .map_err(err)?;
    }
    Ok(())
}
