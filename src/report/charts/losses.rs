//! A run's losses (D and G) and updates per epoch (D and G) over `step`, in two panels.

use anyhow::Result;
use plotters::prelude::*;

use super::{Area, D_REAL, G_ACC, Series, Swatch, err, font, legend, step_label, step_ticks};
use crate::report::segments;
use crate::results::reader::Run;

pub const SIZE: (u32, u32) = (900, 560);

/// D's line width in px (G's is 2): wide enough to show around G's where they coincide.
const D_WIDTH: u32 = 5;

pub fn draw<DB: DrawingBackend>(area: &Area<DB>, run: &Run) -> Result<()>
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE).map_err(err)?;
    let (plots, side) = area.split_horizontally(area.dim_in_pixel().0 - 170);
    let panels = plots.split_evenly((2, 1));
    let losses: [Series; 2] = [
        ("D loss", |r| r.d_loss.unwrap_or(f64::NAN), D_REAL),
        ("G loss", |r| r.g_loss.unwrap_or(f64::NAN), G_ACC),
    ];
    let updates: [Series; 2] = [
        ("D updates", |r| r.d_updates as f64, D_REAL),
        ("G updates", |r| r.g_updates as f64, G_ACC),
    ];
    panel(
        &panels[0],
        run,
        &format!("{}: losses", run.id),
        "loss",
        &losses,
    )?;
    let title = format!("{}: updates per epoch", run.id);
    panel(&panels[1], run, &title, "updates", &updates)?;
    let mut entries = vec![
        (
            "D (loss, updates)",
            Swatch::Line(D_REAL.stroke_width(D_WIDTH)),
        ),
        ("G (loss, updates)", Swatch::Line(G_ACC.stroke_width(2))),
    ];
    // Only when the chart has faded lines.
    if run.abandoned.iter().any(|&a| a) {
        entries.push((
            "rolled back (faded)",
            Swatch::Line(D_REAL.mix(0.4).stroke_width(2)),
        ));
    }
    legend(&side, &entries)
}

fn panel<DB: DrawingBackend>(
    area: &Area<DB>,
    run: &Run,
    title: &str,
    y_desc: &str,
    series: &[Series],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let values = run
        .rows
        .iter()
        .flat_map(|r| series.iter().map(move |s| (s.1)(r)))
        .filter(|v| v.is_finite());
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (lo, hi) = if lo.is_finite() {
        (lo.min(0.0), hi.max(lo + 1e-6))
    } else {
        (0.0, 1.0)
    };
    let max_step = run.rows.last().map_or(1, |r| r.step).max(1) as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(title, font(18))
        .margin(8)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.5f64..max_step + 0.5, lo..hi * 1.08)
        .map_err(err)?;
    // Updates are whole numbers: no more ticks than integers in the range, so that no two
    // labels round to the same number.
    let y_ticks = match y_desc {
        "updates" => ((hi * 1.08).floor() as usize + 1).clamp(2, 10),
        _ => 10,
    };
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .label_style(font(14))
        .y_labels(y_ticks)
        .x_labels(step_ticks(max_step, 10))
        .x_label_formatter(&step_label)
        .y_label_formatter(&|y| {
            if y_desc == "updates" {
                format!("{y:.0}")
            } else {
                format!("{y:.2}")
            }
        })
        .x_desc("step")
        .y_desc(y_desc)
        .draw()
        .map_err(err)?;
    let pieces = segments::pieces(&run.rows, &run.abandoned);
    for (i, &(_, value, color)) in series.iter().enumerate() {
        // D's line is drawn wider, under G's: equal counts (one update each) show both.
        let width = if i == 0 { D_WIDTH } else { 2 };
        for (range, abandoned) in &pieces {
            let style = if *abandoned {
                color.mix(0.4).stroke_width(width)
            } else {
                color.stroke_width(width)
            };
            let points = run.rows[range.clone()]
                .iter()
                .map(|r| (r.step as f64, value(r)))
                .filter(|p| p.1.is_finite());
            chart
                .draw_series(LineSeries::new(points, style).point_size(2))
                .map_err(err)?;
        }
    }
    Ok(())
}
