//! Ranking: one horizontal bar per run with a figure, best first, its value printed, and after
//! it what sets the figure apart: where a run short of its budget ended, the settings a
//! rollback changed.

use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Area, D_REAL, ROLLBACK, err, font, lane_label, lanes, text_width};
use crate::digits;
use crate::report::summary::{Figure, Summary};

pub fn size(bars: usize) -> (u32, u32) {
    (900, 90 + 34 * bars.max(1) as u32)
}

/// The label area left of the bars and the margins either side, in pixels.
const LABELS: u32 = 130;
const MARGINS: u32 = 10 + 50;
const LABEL_PX: u32 = 13;

/// One ranked run's bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub id: String,
    pub figure: f64,
    /// Where a run that did not train to its last planned epoch ended (`pruned at epoch 8`):
    /// its figure is an earlier epoch's than the others'. None when it trained to the end.
    pub short: Option<String>,
    /// The settings rollbacks changed (`rolled back: lr_g 5 → 0.0002`): its figure is what it
    /// trained to with them, not with its grid values. None when they changed nothing.
    pub rolled_back: Option<String>,
}

impl Bar {
    /// What the label says after the figure: `(pruned at epoch 4; rolled back: ...)`.
    fn note(&self) -> Option<String> {
        let parts: Vec<&str> = [&self.short, &self.rolled_back]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        (!parts.is_empty()).then(|| format!("({})", parts.join("; ")))
    }

    fn label(&self) -> String {
        match self.note() {
            Some(note) => format!("{} {note}", digits::four(self.figure)),
            None => digits::four(self.figure),
        }
    }
}

/// The ranked runs (`Summary::rank`), best first.
pub fn ranked(summaries: &[Summary]) -> Vec<Bar> {
    let mut bars: Vec<(usize, Bar)> = summaries
        .iter()
        .filter_map(|s| {
            let changes: Vec<String> = s.rollback_changes.iter().map(|c| c.short()).collect();
            let bar = Bar {
                id: s.id.clone(),
                figure: s.figure?,
                short: (!s.trained_to_end())
                    .then(|| format!("{} at epoch {}", s.state, s.epochs_done)),
                rolled_back: (!changes.is_empty())
                    .then(|| format!("rolled back: {}", changes.join(", "))),
            };
            Some((s.rank?, bar))
        })
        .collect();
    bars.sort_by_key(|b| b.0);
    bars.into_iter().map(|(_, bar)| bar).collect()
}

/// The end of the x axis: the longest bar with a fifth to spare, and room right of every bar
/// for its label.
fn x_end(bars: &[Bar], plot_px: u32) -> f64 {
    let longest = bars.iter().map(|b| b.figure).fold(0.0f64, f64::max);
    let plot = plot_px as f64;
    bars.iter()
        .map(|b| {
            let label = (text_width(&b.label(), LABEL_PX) + 12) as f64;
            // figure / end * plot + label <= plot
            b.figure * plot / (plot - label).max(plot * 0.2)
        })
        .fold(longest * 1.2, f64::max)
        .max(1e-9)
}

/// A run that did not train to the end is a pale bar; the note after its figure says where it
/// ended, and what a rollback changed (in the rollback's colour).
pub fn draw<DB: DrawingBackend>(area: &Area<DB>, bars: &[Bar], figure: Figure) -> Result<()>
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE).map_err(err)?;
    let n = bars.len();
    let plot_px = area
        .dim_in_pixel()
        .0
        .saturating_sub(LABELS + MARGINS)
        .max(1);
    let x_max = x_end(bars, plot_px);
    let mut chart = ChartBuilder::on(area)
        .caption(format!("Ranking by {}", figure.label()), font(18))
        .margin(10)
        .margin_right(50)
        .x_label_area_size(40)
        .y_label_area_size(LABELS)
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
    let per_px = x_max / chart.plotting_area().dim_in_pixel().0.max(1) as f64;
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
        let left = Pos::new(HPos::Left, VPos::Center);
        let at = value + 6.0 * per_px;
        let shown = digits::four(value);
        chart
            .draw_series([Text::new(
                shown.clone(),
                (at, lane + 0.5),
                font(LABEL_PX).pos(left),
            )])
            .map_err(err)?;
        if let Some(note) = b.note() {
            let color = if b.rolled_back.is_some() {
                ROLLBACK
            } else {
                BLACK
            };
            let after = at + (text_width(&shown, LABEL_PX) + 5) as f64 * per_px;
            chart
                .draw_series([Text::new(
                    note,
                    (after, lane + 0.5),
                    font(LABEL_PX).color(&color).pos(left),
                )])
                .map_err(err)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_fits_right_of_its_bar() {
        let bar = |id: &str, figure: f64, short: Option<&str>, rolled: Option<&str>| Bar {
            id: id.into(),
            figure,
            short: short.map(String::from),
            rolled_back: rolled.map(String::from),
        };
        // (bars, why)
        let cases = [
            (vec![bar("000-a", 100.0, None, None)], "a figure alone"),
            (
                vec![
                    bar("000-a", 50.0, None, None),
                    bar(
                        "001-b",
                        1374.0,
                        Some("pruned at epoch 4"),
                        Some("rolled back: lr_g 5 → 0.0002, lr_d 0.0002 → 0.0001"),
                    ),
                ],
                "the longest bar has the longest label",
            ),
        ];
        let plot_px = 710;
        for (bars, why) in cases {
            let end = x_end(&bars, plot_px);
            for b in &bars {
                let right =
                    b.figure / end * plot_px as f64 + (text_width(&b.label(), LABEL_PX) + 6) as f64;
                assert!(right <= plot_px as f64, "{why}: {} ends at {right}", b.id);
            }
        }
    }
}
