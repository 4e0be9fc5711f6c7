//! The ranking figure against one key `[search]` draws a number for: a point per run at the
//! value it drew, on a log axis for a `log_uniform` key. Drawn values differ from run to run,
//! so a heatmap of two drawn keys is a diagonal of single runs in a grid of empty cells; this
//! shows every run, in the order of its value. A run that did not train to its last epoch
//! (stopped at a rung, collapsed, still training) is a hollow point: its figure is from an
//! earlier epoch than the others'. A run a rollback moved to other settings is ringed in the
//! rollback's colour: its figure is what it trained to with them, not with the value drawn.

use anyhow::Result;
use plotters::coord::combinators::BindKeyPoints;
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::prelude::*;

use super::heatmap::number;
use super::{Area, D_REAL, ROLLBACK, Swatch, err, font, legend};
use crate::digits;
use crate::report::summary::{Figure, Summary};

pub const SIZE: (u32, u32) = (900, 480);

/// One run on the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The run's value of the key.
    pub x: f64,
    pub figure: f64,
    /// Trained to its last planned epoch.
    pub complete: bool,
    /// A rollback changed its settings.
    pub rolled_back: bool,
}

/// The runs with a figure and a number for key `k`.
pub fn points(summaries: &[Summary], k: usize) -> Vec<Point> {
    summaries
        .iter()
        .filter_map(|s| {
            Some(Point {
                x: number(s.grid.get(k)?)?,
                figure: s.figure.filter(|f| f.is_finite())?,
                complete: s.trained_to_end(),
                rolled_back: !s.rollback_changes.is_empty(),
            })
        })
        .collect()
}

/// Whether key `k` is charted here rather than in heatmaps: `[search]` draws it and every
/// value it has is a number (a `choice` of words stays a heatmap axis).
pub fn charts(drawn: bool, grids: &[Vec<String>], k: usize) -> bool {
    drawn
        && grids
            .iter()
            .filter_map(|g| g.get(k).filter(|v| !v.is_empty()))
            .all(|v| number(v).is_some())
}

/// `log`: the key was drawn `log_uniform` (used when every value is positive).
pub fn draw<DB: DrawingBackend>(
    area: &Area<DB>,
    key: &str,
    points: &[Point],
    log: bool,
    figure: Figure,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE).map_err(err)?;
    let (plot, side) = area.split_horizontally(area.dim_in_pixel().0 - 220);
    let xs = points.iter().map(|p| p.x);
    let lo = xs.clone().fold(f64::INFINITY, f64::min);
    let hi = xs.fold(f64::NEG_INFINITY, f64::max);
    if log && lo > 0.0 {
        // A tenth of the span's factor either side, so no point sits on the frame.
        let pad = (hi / lo).powf(0.05).max(1.1);
        let (lo, hi) = (lo / pad, hi * pad);
        let axis = (lo..hi).log_scale().with_key_points(log_ticks(lo, hi));
        plot_on(&plot, axis, key, points, figure)?;
    } else {
        let pad = ((hi - lo) * 0.05).max(hi.abs() * 0.05).max(1e-12);
        plot_on(&plot, (lo - pad)..(hi + pad), key, points, figure)?;
    }
    let mut entries = Vec::new();
    if points.iter().any(|p| p.complete) {
        entries.push(("trained to the end", Swatch::Dot(D_REAL, false)));
    }
    if points.iter().any(|p| !p.complete) {
        entries.push(("not trained to the end", Swatch::Dot(D_REAL, true)));
        entries.push(("(stopped at a rung,", Swatch::Blank));
        entries.push(("collapsed, training):", Swatch::Blank));
        entries.push(("a figure of an earlier", Swatch::Blank));
        entries.push(("epoch", Swatch::Blank));
    }
    if points.iter().any(|p| p.rolled_back) {
        entries.push(("rolled back to other", Swatch::Ring(ROLLBACK)));
        entries.push(("settings: not the value", Swatch::Blank));
        entries.push(("drawn that trained", Swatch::Blank));
    }
    legend(&side, &entries)
}

/// Tick values of a log axis over [lo, hi] (0 < lo < hi): 1, 2 and 5 times each power of ten
/// over up to four decades, powers of ten alone over more, every digit when that leaves fewer
/// than three. Plotters' own ticks crowd a decade's labels into each other.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let (first, last) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let within = |steps: &[f64]| -> Vec<f64> {
        (first..=last)
            .flat_map(|e| steps.iter().map(move |m| m * 10f64.powi(e)))
            .filter(|t| (lo..=hi).contains(t))
            .collect()
    };
    let ticks = within(if last - first > 4 {
        &[1.0]
    } else {
        &[1.0, 2.0, 5.0]
    });
    if ticks.len() >= 3 {
        return ticks;
    }
    within(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
}

fn plot_on<DB, X>(area: &Area<DB>, x: X, key: &str, points: &[Point], figure: Figure) -> Result<()>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
    X: AsRangedCoord<Value = f64>,
    X::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let top = points.iter().map(|p| p.figure).fold(0.0f64, f64::max);
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{} by {key}", figure.label()), font(17))
        .margin(12)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(x, 0f64..(top * 1.1).max(1e-9))
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .label_style(font(14))
        .x_label_formatter(&|v| digits::four(*v))
        .y_label_formatter(&|v| digits::four(*v))
        .x_desc(format!("{key} (drawn by [search])"))
        .y_desc(figure.label())
        .draw()
        .map_err(err)?;
    // A hollow point is a disc with a white centre: plotters' stroked circles are ragged.
    let at = |p: &Point| (p.x, p.figure);
    let ringed = points.iter().filter(|p| p.rolled_back);
    chart
        .draw_series(ringed.flat_map(|p| {
            [
                Circle::new(at(p), 10, ROLLBACK.filled()),
                Circle::new(at(p), 8, WHITE.filled()),
            ]
        }))
        .map_err(err)?;
    chart
        .draw_series(
            points
                .iter()
                .map(|p| Circle::new(at(p), 6, D_REAL.filled())),
        )
        .map_err(err)?;
    let hollow = points.iter().filter(|p| !p.complete);
    chart
        .draw_series(hollow.map(|p| Circle::new(at(p), 3, WHITE.filled())))
        .map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(value: &str, figure: Option<f64>, done: u32) -> Summary {
        let run = crate::results::reader::Run::for_test("000-a", vec![], vec![]);
        let mut s = crate::report::summary::summarize(&run, Figure::Swd);
        s.grid = vec![value.to_string()];
        s.figure = figure;
        (s.epochs_done, s.epochs_planned) = (done, Some(20));
        s
    }

    #[test]
    fn a_point_per_run_with_a_figure_and_a_number() {
        let runs = [
            summary("0.000314", Some(82.3), 20),
            summary("0.000108", Some(743.2), 2),
            summary("0.0005", None, 0),
            summary("", Some(1.0), 20),
        ];
        let want = [
            Point {
                x: 0.000314,
                figure: 82.3,
                complete: true,
                rolled_back: false,
            },
            Point {
                x: 0.000108,
                figure: 743.2,
                complete: false,
                rolled_back: false,
            },
        ];
        assert_eq!(points(&runs, 0), want, "no figure, no value: left out");
    }

    #[test]
    fn log_axes_tick_at_round_values_that_do_not_crowd() {
        let show =
            |ticks: Vec<f64>| -> Vec<String> { ticks.into_iter().map(digits::four).collect() };
        // (ends, ticks, why)
        let cases: [((f64, f64), &[&str], &str); 3] = [
            (
                (4.5e-5, 2.2e-3),
                &["0.00005", "0.0001", "0.0002", "0.0005", "0.001", "0.002"],
                "a learning-rate range: 1, 2, 5 per decade",
            ),
            (
                (1e-9, 1.0),
                &[
                    "0.000000001",
                    "0.00000001",
                    "0.0000001",
                    "0.000001",
                    "0.00001",
                    "0.0001",
                    "0.001",
                    "0.01",
                    "0.1",
                    "1",
                ],
                "many decades: powers of ten",
            ),
            (
                (0.3, 0.9),
                &["0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9"],
                "under a decade: every digit",
            ),
        ];
        for ((lo, hi), want, why) in cases {
            assert_eq!(show(log_ticks(lo, hi)), want, "{why}");
        }
    }

    #[test]
    fn drawn_numbers_are_charted_here_everything_else_in_heatmaps() {
        let grids =
            |vs: &[&str]| -> Vec<Vec<String>> { vs.iter().map(|v| vec![v.to_string()]).collect() };
        // (drawn, the key's values, charted here, why)
        let cases: [(bool, &[&str], bool, &str); 4] = [
            (true, &["0.000108", "0.000976", ""], true, "a drawn rate"),
            (true, &["16", "48"], true, "a drawn int"),
            (
                true,
                &["phased", "alternating"],
                false,
                "a drawn choice of words",
            ),
            (false, &["0.0001", "0.0002"], false, "a listed [grid] axis"),
        ];
        for (drawn, values, want, why) in cases {
            assert_eq!(charts(drawn, &grids(values), 0), want, "{why}");
        }
    }
}
