//! Rollback timeline: one lane per run over `step`. The steps trained are a thin grey line, so
//! a run without verdicts shows nothing that reads as an event (and says so); the only bars are
//! the epochs a rollback abandoned; each verdict is a marker (rollback: triangle with the
//! restored epoch, stop: cross, continue: circle); a stop at a rung (`[prune]`) is a cross too,
//! labelled `behind`.

use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Area, GREY, ROLLBACK, err, font, kind_color, lane_label, lanes, step_label};
use crate::report::segments;
use crate::results::Taken;
use crate::results::reader::Run;

pub fn size(runs: usize) -> (u32, u32) {
    (900, 110 + 40 * runs.max(1) as u32)
}

pub fn draw<DB: DrawingBackend>(area: &Area<DB>, runs: &[&Run]) -> Result<()>
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE).map_err(err)?;
    let max_step = runs
        .iter()
        .filter_map(|r| r.rows.last().map(|row| row.step))
        .max()
        .unwrap_or(1) as f64;
    let rollbacks: usize = runs
        .iter()
        .map(|r| r.events.iter().filter(|e| e.is_rollback()).count())
        .sum();
    let mut chart = ChartBuilder::on(area)
        .caption(format!("Rollbacks per run ({rollbacks} in all)"), font(18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(130)
        .build_cartesian_2d(0.5f64..max_step + 0.5, lanes(runs.len()))
        .map_err(err)?;
    let labels: Vec<String> = runs.iter().rev().map(|r| r.id.clone()).collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(WHITE)
        .label_style(font(14))
        .y_label_formatter(&|at| lane_label(&labels, at))
        .x_label_formatter(&step_label)
        .x_desc("step (grey line: epochs trained; red bar: epochs a rollback abandoned)")
        .draw()
        .map_err(err)?;
    for (lane, run) in runs.iter().rev().enumerate() {
        let lane = lane as f64;
        let last = run.rows.last().map_or(0, |r| r.step) as f64;
        chart
            .draw_series([PathElement::new(
                [(0.5, lane + 0.5), (last + 0.5, lane + 0.5)],
                GREY.stroke_width(2),
            )])
            .map_err(err)?;
        for (range, abandoned) in segments::pieces(&run.rows, &run.abandoned) {
            if !abandoned {
                continue;
            }
            let from = run.rows[range.start].step as f64 - 0.5;
            let to = run.rows[range.end - 1].step as f64 + 0.5;
            let mut bar = Rectangle::new(
                [(from, lane), (to, lane + 1.0)],
                ROLLBACK.mix(0.25).filled(),
            );
            bar.set_margin(10, 10, 0, 0);
            chart.draw_series([bar]).map_err(err)?;
        }
        if run.events.is_empty() {
            chart
                .draw_series([Text::new(
                    "no collapse verdict",
                    (1.0, lane + 0.5),
                    font(12)
                        .color(&GREY)
                        .pos(Pos::new(HPos::Left, VPos::Bottom)),
                )])
                .map_err(err)?;
        }
        for e in &run.events {
            let at = (e.step as f64 + 0.5, lane + 0.5);
            let color = kind_color(e.kind);
            let marker: DynElement<DB, _> = match e.action {
                Taken::Rollback => TriangleMarker::new(at, 8, color.filled()).into_dyn(),
                Taken::Stop | Taken::Prune => Cross::new(at, 7, color.stroke_width(3)).into_dyn(),
                Taken::Continue => Circle::new(at, 6, color.stroke_width(2)).into_dyn(),
            };
            chart.draw_series([marker]).map_err(err)?;
            let label = match e.restored_epoch {
                Some(r) => format!("{} -> {r}", e.kind),
                None => format!("{} ({})", e.kind, e.action.word()),
            };
            // Centred over its marker, but ending there near the right edge (not cut off).
            let x = e.step as f64 + 0.5;
            let h = if x > max_step * 0.85 {
                HPos::Right
            } else {
                HPos::Center
            };
            chart
                .draw_series([Text::new(
                    label,
                    (x, lane + 1.0),
                    font(12).pos(Pos::new(h, VPos::Top)),
                )])
                .map_err(err)?;
        }
    }
    Ok(())
}
