//! A run's balance chart: D real, D fake and G accuracy over `step`; rolled-back epochs faded,
//! collapse episodes shaded from onset to detection, rollbacks marked, the balance band dashed.
//! The legend lists what this run's chart shows: no episode kind that did not occur.

use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    Area, D_FAKE, D_REAL, G_ACC, GREY, ROLLBACK, Series, Swatch, err, font, kind_color, legend,
    step_label, step_ticks,
};
use crate::health::Kind;
use crate::report::segments;
use crate::report::summary::{BALANCE_HIGH, BALANCE_LOW};
use crate::results::Taken;
use crate::results::reader::Run;

pub const SIZE: (u32, u32) = (900, 380);

/// The three accuracies, with their names and colours.
pub const SERIES: [Series; 3] = [
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
    let (area, side) = if compact {
        (area.clone(), None)
    } else {
        let (plot, side) = area.split_horizontally(area.dim_in_pixel().0 - 200);
        (plot, Some(side))
    };
    let (title_px, label_px) = if compact { (15, 12) } else { (20, 15) };
    let x_end = max_step.max(1) as f64 + 0.5;
    let mut chart = ChartBuilder::on(&area)
        .caption(title, font(title_px))
        .margin(8)
        .x_label_area_size(if compact { 28 } else { 40 })
        .y_label_area_size(if compact { 36 } else { 55 })
        .build_cartesian_2d(0.5f64..x_end, 0f64..1f64)
        .map_err(err)?;
    let mut mesh = chart.configure_mesh();
    mesh.light_line_style(WHITE)
        .x_labels(step_ticks(x_end - 0.5, if compact { 5 } else { 10 }))
        .y_labels(6)
        .label_style(font(label_px))
        .x_label_formatter(&step_label);
    if !compact {
        mesh.x_desc("step (epochs trained, rolled-back ones included)")
            .y_desc("accuracy");
    }
    mesh.draw().map_err(err)?;

    for e in &run.events {
        let from = segments::onset_step(e) as f64 - 0.5;
        let to = e.step as f64 + 0.5;
        let shade = kind_color(e.kind).mix(0.15).filled();
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
    for (_, value, color) in SERIES {
        for (range, abandoned) in &pieces {
            let style = if *abandoned {
                color.mix(0.4).stroke_width(2)
            } else {
                color.stroke_width(2)
            };
            let points = run.rows[range.clone()]
                .iter()
                .map(|r| (r.step as f64, value(r)));
            chart
                .draw_series(
                    LineSeries::new(points, style).point_size(if range.len() == 1 { 2 } else { 0 }),
                )
                .map_err(err)?;
        }
    }
    for e in run.events.iter().filter(|e| e.action != Taken::Continue) {
        let x = e.step as f64 + 0.5;
        chart
            .draw_series([PathElement::new(
                [(x, 0.0), (x, 1.0)],
                ROLLBACK.stroke_width(2),
            )])
            .map_err(err)?;
        let label = match e.restored_epoch {
            Some(r) => format!("back to {r}"),
            None => e.action.word().to_string(),
        };
        if !compact {
            // Right of the line, or left of it near the right edge (not cut off).
            let (at, h) = if x > x_end * 0.9 {
                (x - x_end * 0.01, HPos::Right)
            } else {
                (x + x_end * 0.01, HPos::Left)
            };
            chart
                .draw_series([Text::new(
                    label,
                    (at, 0.97),
                    font(13).color(&ROLLBACK).pos(Pos::new(h, VPos::Top)),
                )])
                .map_err(err)?;
        }
    }
    if let Some(side) = side {
        let entries = legend_entries(run);
        let entries: Vec<(&str, Swatch)> = entries.iter().map(|(l, s)| (l.as_str(), *s)).collect();
        legend(&side, &entries)?;
    }
    Ok(())
}

/// The legend of `run`'s chart: the three accuracies and the balance band always; faded lines,
/// rollback/stop marks and each kind's episode shading only when the run has them (in
/// `Kind::ALL`'s order).
pub fn legend_entries(run: &Run) -> Vec<(String, Swatch)> {
    let mut entries: Vec<(String, Swatch)> = SERIES
        .iter()
        .map(|(name, _, color)| (name.to_string(), Swatch::Line(color.stroke_width(2))))
        .collect();
    if run.abandoned.iter().any(|&a| a) {
        entries.push((
            "rolled back (faded)".into(),
            Swatch::Line(D_REAL.mix(0.4).stroke_width(2)),
        ));
    }
    entries.push((
        "balance band 0.05-0.95".into(),
        Swatch::Line(GREY.stroke_width(1)),
    ));
    let marks: Vec<&str> = [Taken::Rollback, Taken::Stop]
        .into_iter()
        .filter(|&t| run.events.iter().any(|e| e.action == t))
        .map(Taken::word)
        .collect();
    if !marks.is_empty() {
        entries.push((marks.join(" / "), Swatch::Line(ROLLBACK.stroke_width(2))));
    }
    for kind in Kind::ALL {
        if run.events.iter().any(|e| e.kind == kind) {
            entries.push((
                format!("{} episode", kind.as_str().replace('_', " ")),
                Swatch::Bar(kind_color(kind).mix(0.15).filled()),
            ));
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::test_rows::{rollback, row};

    fn run(rows: Vec<crate::results::MetricsRow>, events: Vec<crate::results::EventRow>) -> Run {
        Run::for_test("000-a", rows, events)
    }

    fn labels(run: &Run) -> Vec<String> {
        legend_entries(run).into_iter().map(|(l, _)| l).collect()
    }

    /// The legend's longest entry, a degenerate output episode, is drawn whole: nothing of
    /// it reaches the chart's right edge, where it would be cut off.
    #[test]
    fn every_legend_entry_fits_in_the_chart() {
        let mut rows: Vec<_> = (1..=6).map(|e| row(e, e as u32, 0)).collect();
        rows.push(row(7, 3, 1));
        let mut event = rollback(6, 6, 4, 3);
        event.kind = crate::health::Kind::DegenerateOutput.into();
        let run = run(rows, vec![event]);
        assert!(labels(&run).contains(&"degenerate output episode".to_string()));
        let png = crate::report::charts::png(SIZE, |a| draw(a, &run, "t", 7, false)).unwrap();
        let img = image::load_from_memory(&png).unwrap().to_rgb8();
        let inked: Vec<u32> = (0..SIZE.1)
            .filter(|&y| (SIZE.0 - 3..SIZE.0).any(|x| img.get_pixel(x, y).0 != [255, 255, 255]))
            .collect();
        assert!(inked.is_empty(), "text at the right edge, rows {inked:?}");
    }

    #[test]
    fn the_legend_lists_only_what_the_run_shows() {
        let calm = run((1..=3).map(|e| row(e, e as u32, 0)).collect(), vec![]);
        assert_eq!(
            labels(&calm),
            [
                "D real acc",
                "D fake acc",
                "G acc",
                "balance band 0.05-0.95"
            ]
        );
        let mut rows: Vec<_> = (1..=3).map(|e| row(e, e as u32, 0)).collect();
        rows.push(row(4, 2, 1));
        let rolled = run(rows, vec![rollback(3, 3, 2, 1)]);
        let got = labels(&rolled);
        assert_eq!(
            got[3..],
            [
                "rolled back (faded)",
                "balance band 0.05-0.95",
                "rollback",
                "g failure episode"
            ]
        );
    }
}
