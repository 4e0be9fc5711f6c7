//! Ranking: one horizontal bar per run with a figure, best first, its value printed.

use anyhow::Result;
use plotters::prelude::*;

use super::{Area, D_REAL, err, font, lane_label, lanes};
use crate::digits;
use crate::report::summary::{Figure, Summary};

pub fn size(bars: usize) -> (u32, u32) {
    (900, 90 + 34 * bars.max(1) as u32)
}

/// One ranked run's bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub id: String,
    pub figure: f64,
    /// Where a run that did not train to its last planned epoch ended (`pruned at epoch 8`):
    /// its figure is an earlier epoch's than the others'. None when it trained to the end.
    pub short: Option<String>,
}

/// The ranked runs (`Summary::rank`), best first.
pub fn ranked(summaries: &[Summary]) -> Vec<Bar> {
    let mut bars: Vec<(usize, Bar)> = summaries
        .iter()
        .filter_map(|s| {
            let bar = Bar {
                id: s.id.clone(),
                figure: s.figure?,
                short: (!s.trained_to_end())
                    .then(|| format!("{} at epoch {}", s.state, s.epochs_done)),
            };
            Some((s.rank?, bar))
        })
        .collect();
    bars.sort_by_key(|b| b.0);
    bars.into_iter().map(|(_, bar)| bar).collect()
}

/// A run that did not train to the end is a pale bar whose label says where it ended.
pub fn draw<DB: DrawingBackend>(area: &Area<DB>, bars: &[Bar], figure: Figure) -> Result<()>
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE).map_err(err)?;
    let n = bars.len();
    // Room right of the longest bar for its label, wider for a label that says where it ended.
    let room = if bars.iter().any(|b| b.short.is_some()) {
        1.6
    } else {
        1.2
    };
    let x_max = bars
        .iter()
        .map(|b| b.figure)
        .fold(0.0f64, f64::max)
        .max(1e-9)
        * room;
    let mut chart = ChartBuilder::on(area)
        .caption(format!("Ranking by {}", figure.label()), font(18))
        .margin(10)
        .margin_right(50)
        .x_label_area_size(40)
        .y_label_area_size(130)
        .build_cartesian_2d(0f64..x_max, lanes(n))
        .map_err(err)?;
    let labels: Vec<String> = bars.iter().rev().map(|b| b.id.clone()).collect();
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
    for (i, b) in bars.iter().rev().enumerate() {
        let (lane, value) = (i as f64, b.figure);
        let shade = if b.short.is_some() { 0.3 } else { 0.8 };
        let mut bar = Rectangle::new(
            [(0.0, lane), (value, lane + 1.0)],
            D_REAL.mix(shade).filled(),
        );
        bar.set_margin(5, 5, 0, 0);
        chart.draw_series([bar]).map_err(err)?;
        let label = match &b.short {
            Some(ended) => format!("{} ({ended})", digits::four(value)),
            None => digits::four(value),
        };
        chart
            .draw_series([Text::new(
                label,
                (value + x_max * 0.01, lane + 0.5),
                font(13).pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Left,
                    plotters::style::text_anchor::VPos::Center,
                )),
            )])
            .map_err(err)?;
    }
    Ok(())
}
