//! A run's quality over training, one panel per figure it has: swd with the real-vs-real floor
//! and its spread as a band, tag_kl with its floor, a CGAN's tag_acc, diversity with the real
//! images' 1.0; over `step` as in the balance chart, rolled-back epochs faded, rollbacks and stops marked; the
//! curve of a run `[prune]` stopped ends in a cross at the evaluation that stopped it.

use anyhow::Result;
use plotters::prelude::*;

use super::{
    Area, BEHIND, D_FAKE, D_REAL, G_ACC, GREY, ROLLBACK, Swatch, err, font, legend, step_label,
    step_ticks,
};
use crate::report::segments;
use crate::results::reader::Run;
use crate::results::{MetricsRow, Taken};

/// Width, and the height of one panel.
const WIDTH: u32 = 900;
const PANEL: u32 = 250;

/// One panel: its name, the figure it reads off an evaluated row, colour, and the reference
/// line (mean, spread) drawn under it.
struct Panel {
    name: &'static str,
    value: fn(&MetricsRow) -> Option<f64>,
    color: RGBColor,
    reference: Option<(f64, f64)>,
    reference_label: &'static str,
}

/// The panels `run` has data for, in the order swd, tag_kl, tag_acc, diversity.
fn panels(run: &Run) -> Vec<Panel> {
    let r = run.reference.as_ref();
    let all = [
        Panel {
            name: "swd",
            value: |r| r.swd,
            color: D_REAL,
            reference: r.map(|r| (r.swd_floor, r.swd_floor_std)),
            reference_label: "swd floor (real vs real)",
        },
        Panel {
            name: "tag_kl",
            value: |r| r.tag_kl,
            color: D_FAKE,
            reference: r.and_then(|r| Some((r.tag_kl_floor?, r.tag_kl_floor_std.unwrap_or(0.0)))),
            reference_label: "tag_kl floor (real images)",
        },
        // The share of samples whose every asked tag the classifier reads back: a CGAN's
        // conditioning (no reference line: the classifier reads real images imperfectly).
        Panel {
            name: "tag_acc",
            value: |r| r.tag_acc,
            color: ROLLBACK,
            reference: None,
            reference_label: "",
        },
        Panel {
            name: "diversity",
            value: |r| r.diversity,
            color: G_ACC,
            reference: Some((1.0, 0.0)),
            reference_label: "diversity of real images",
        },
    ];
    all.into_iter()
        .filter(|p| run.rows.iter().any(|r| (p.value)(r).is_some()))
        .collect()
}

/// The chart's size for `run`; None when it has no quality figures.
pub fn size(run: &Run) -> Option<(u32, u32)> {
    let n = panels(run).len() as u32;
    (n > 0).then_some((WIDTH, PANEL * n))
}

pub fn draw<DB: DrawingBackend>(area: &Area<DB>, run: &Run) -> Result<()>
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE).map_err(err)?;
    let (plots, side) = area.split_horizontally(area.dim_in_pixel().0 - 230);
    let panels = panels(run);
    let areas = plots.split_evenly((panels.len().max(1), 1));
    for (panel, area) in panels.iter().zip(&areas) {
        draw_panel(area, run, panel)?;
    }
    // Only what this chart shows: an entry for something absent reads as "it happened".
    let mut entries: Vec<(&str, Swatch)> = Vec::new();
    for p in &panels {
        entries.push((p.name, Swatch::Line(p.color.stroke_width(2))));
    }
    if run.abandoned.iter().any(|a| *a) {
        entries.push((
            "rolled back (faded)",
            Swatch::Line(D_REAL.mix(0.35).stroke_width(2)),
        ));
    }
    for p in panels.iter().filter(|p| p.reference.is_some()) {
        entries.push((p.reference_label, Swatch::Line(GREY.stroke_width(1))));
    }
    if panels
        .iter()
        .any(|p| p.reference.is_some_and(|r| r.1 > 0.0))
    {
        entries.push(("floor \u{b1} its sd", Swatch::Bar(GREY.mix(0.25).filled())));
    }
    if run.events.iter().any(|e| marked(e.action)) {
        entries.push(("rollback / stop", Swatch::Line(ROLLBACK.stroke_width(2))));
    }
    let pruned = run
        .stopped_at()
        .map(|r| format!("pruned at {}", r.rung_name()));
    if let Some(label) = &pruned {
        entries.push((label, Swatch::Cross(BEHIND)));
    }
    legend(&side, &entries)
}

/// Events drawn as a vertical line: rollbacks and the health policy's stops (a rung's stop is
/// the cross the curve ends with).
fn marked(action: Taken) -> bool {
    matches!(action, Taken::Rollback | Taken::Stop)
}

fn draw_panel<DB: DrawingBackend>(area: &Area<DB>, run: &Run, p: &Panel) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let values = run.rows.iter().filter_map(|r| (p.value)(r));
    let reference = p.reference.into_iter().flat_map(|(m, sd)| [m - sd, m + sd]);
    let (lo, hi) = values
        .chain(reference)
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    // A flat curve (a CGAN whose tags are never read back: tag_acc 0 all along) still gets a
    // readable axis: a span of at least 1.
    let (lo, hi) = if lo.is_finite() {
        let lo = lo.min(0.0);
        let hi = if hi - lo < 1e-9 { lo + 1.0 } else { hi };
        (lo, hi * 1.08)
    } else {
        (0.0, 1.0)
    };
    let x_end = run.rows.last().map_or(1, |r| r.step).max(1) as f64 + 0.5;
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{}: {}", run.id, p.name), font(17))
        .margin(8)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d(0.5f64..x_end, lo..hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .label_style(font(13))
        .x_labels(step_ticks(x_end - 0.5, 10))
        .x_label_formatter(&step_label)
        .x_desc("step (epochs trained, rolled-back ones included)")
        .y_desc(p.name)
        .draw()
        .map_err(err)?;
    if let Some((mean, sd)) = p.reference {
        if sd > 0.0 {
            chart
                .draw_series([Rectangle::new(
                    [(0.5, mean - sd), (x_end, mean + sd)],
                    GREY.mix(0.25).filled(),
                )])
                .map_err(err)?;
        }
        chart
            .draw_series(DashedLineSeries::new(
                [(0.5, mean), (x_end, mean)],
                5,
                4,
                GREY.stroke_width(1),
            ))
            .map_err(err)?;
    }
    for (range, abandoned) in segments::pieces(&run.rows, &run.abandoned) {
        let color = if abandoned {
            p.color.mix(0.35)
        } else {
            p.color.to_rgba()
        };
        let points: Vec<(f64, f64)> = run.rows[range]
            .iter()
            .filter_map(|r| Some((r.step as f64, (p.value)(r)?)))
            .filter(|(_, v)| v.is_finite())
            .collect();
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)).point_size(3))
            .map_err(err)?;
    }
    for e in run.events.iter().filter(|e| marked(e.action)) {
        let x = e.step as f64 + 0.5;
        chart
            .draw_series([PathElement::new(
                [(x, lo), (x, hi)],
                ROLLBACK.stroke_width(2),
            )])
            .map_err(err)?;
    }
    // A pruned run: its curve ends where the rung's evaluation stopped it.
    if let Some(stop) = run.stopped_at() {
        let last = run
            .kept()
            .filter(|r| r.step <= stop.step)
            .filter_map(|r| Some((r.step as f64, (p.value)(r)?)))
            .filter(|(_, v)| v.is_finite())
            .last();
        if let Some(at) = last {
            chart
                .draw_series([Cross::new(at, 8, BEHIND.stroke_width(3))])
                .map_err(err)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rows: Vec<MetricsRow>) -> Run {
        Run::for_test("000-a", rows, vec![])
    }

    fn row(
        epoch: u32,
        swd: Option<f64>,
        tag_kl: Option<f64>,
        diversity: Option<f64>,
    ) -> MetricsRow {
        MetricsRow {
            step: epoch as u64,
            epoch,
            swd,
            tag_kl,
            diversity,
            ..MetricsRow::default()
        }
    }

    #[test]
    fn a_panel_per_figure_the_run_has() {
        type Case = (Vec<MetricsRow>, &'static [&'static str], &'static str);
        let cgan = MetricsRow {
            tag_acc: Some(0.6),
            ..row(2, Some(40.0), Some(0.3), Some(0.8))
        };
        let cases: [Case; 4] = [
            (
                vec![row(1, None, None, None), row(2, None, None, None)],
                &[],
                "evaluation off: no chart",
            ),
            (
                vec![
                    row(1, None, None, None),
                    row(2, Some(40.0), None, Some(0.8)),
                ],
                &["swd", "diversity"],
                "unlabelled data: no tag_kl",
            ),
            (
                vec![row(2, Some(40.0), Some(0.3), Some(0.8))],
                &["swd", "tag_kl", "diversity"],
                "labelled data",
            ),
            (
                vec![cgan.clone()],
                &["swd", "tag_kl", "tag_acc", "diversity"],
                "a CGAN: how well it follows its tags",
            ),
        ];
        for (rows, want, why) in cases {
            let r = run(rows);
            let names: Vec<&str> = panels(&r).iter().map(|p| p.name).collect();
            assert_eq!(names, want, "{why}");
            assert_eq!(size(&r).is_some(), !want.is_empty(), "{why}");
        }
        let r = run(vec![cgan]);
        super::super::png(size(&r).unwrap(), |a| draw(a, &r)).unwrap();
    }
}
