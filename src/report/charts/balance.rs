//! A run's balance chart: D real, D fake and G accuracy over `step`; rolled-back epochs faded,
//! collapse episodes shaded from onset to detection, rollbacks marked, the balance band dashed.

use anyhow::Result;
use plotters::prelude::*;

use super::{Area, D_FAKE, D_REAL, G_ACC, GREY, ROLLBACK, err, font, kind_color};
use crate::report::load::{Row, Run};
use crate::report::segments;
use crate::report::summary::{BALANCE_HIGH, BALANCE_LOW};

pub const SIZE: (u32, u32) = (900, 380);

/// The three accuracies, with their names and colours.
pub const SERIES: [(&str, fn(&Row) -> f64, RGBColor); 3] = [
    ("D real acc", |r| r.d_acc_real, D_REAL),
    ("D fake acc", |r| r.d_acc_fake, D_FAKE),
    ("G acc", |r| r.g_acc, G_ACC),
];

/// Draws `run` into `area`; `max_step` fixes the x axis (shared across small multiples);
/// `compact` drops the legend and shrinks text for small multiples.
pub fn draw<DB: DrawingBackend>(
    area: &Area<DB>,
    run: &Run,
    title: &str,
    max_step: u64,
    compact: bool,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE).map_err(err)?;
    let (title_px, label_px) = if compact { (15, 12) } else { (20, 15) };
    let x_end = max_step.max(1) as f64 + 0.5;
    let mut chart = ChartBuilder::on(area)
        .caption(title, font(title_px))
        .margin(8)
        .x_label_area_size(if compact { 28 } else { 40 })
        .y_label_area_size(if compact { 36 } else { 55 })
        .build_cartesian_2d(0.5f64..x_end, 0f64..1f64)
        .map_err(err)?;
    let mut mesh = chart.configure_mesh();
    mesh.light_line_style(WHITE)
        .x_labels(if compact { 5 } else { 10 })
        .y_labels(6)
        .label_style(font(label_px))
        .x_label_formatter(&|x| format!("{x:.0}"));
    if !compact {
        mesh.x_desc("step (epochs trained, rolled-back ones included)")
            .y_desc("accuracy");
    }
    mesh.draw().map_err(err)?;

    for e in &run.events {
        let from = segments::onset_step(e) as f64 - 0.5;
        let to = e.step as f64 + 0.5;
        let shade = kind_color(&e.kind).mix(0.12).filled();
        chart
            .draw_series([Rectangle::new([(from, 0.0), (to, 1.0)], shade)])
            .map_err(err)?;
    }
    for y in [BALANCE_LOW, BALANCE_HIGH] {
        chart
            .draw_series(DashedLineSeries::new(
                [(0.5, y), (x_end, y)],
                4,
                4,
                GREY.stroke_width(1),
            ))
            .map_err(err)?;
    }
    let pieces = segments::pieces(&run.rows, &run.abandoned);
    for (name, value, color) in SERIES {
        for (i, (range, abandoned)) in pieces.iter().enumerate() {
            let style = if *abandoned {
                color.mix(0.25).stroke_width(1)
            } else {
                color.stroke_width(2)
            };
            let points = run.rows[range.clone()]
                .iter()
                .map(|r| (r.step as f64, value(r)));
            let series = chart
                .draw_series(
                    LineSeries::new(points, style).point_size(if range.len() == 1 { 2 } else { 0 }),
                )
                .map_err(err)?;
            if i == 0 && !compact {
                series.label(name).legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 18, y)], color.stroke_width(2))
                });
            }
        }
    }
    for e in run.events.iter().filter(|e| e.action != "continue") {
        let x = e.step as f64 + 0.5;
        chart
            .draw_series([PathElement::new(
                [(x, 0.0), (x, 1.0)],
                ROLLBACK.stroke_width(2),
            )])
            .map_err(err)?;
        let label = match e.restored_epoch {
            Some(r) => format!("back to {r}"),
            None => e.action.clone(),
        };
        if !compact {
            chart
                .draw_series([Text::new(label, (x, 0.97), font(13).color(&ROLLBACK))])
                .map_err(err)?;
        }
    }
    if !compact {
        chart
            .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())
            .map_err(err)?
            .label("rolled back (faded)")
            .legend(|(x, y)| {
                PathElement::new([(x, y), (x + 18, y)], GREY.mix(0.5).stroke_width(1))
            });
        chart
            .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())
            .map_err(err)?
            .label("rollback / stop; shading: episode")
            .legend(|(x, y)| {
                PathElement::new([(x + 9, y - 6), (x + 9, y + 6)], ROLLBACK.stroke_width(2))
            });
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(GREY)
            .label_font(font(13))
            .draw()
            .map_err(err)?;
    }
    Ok(())
}
