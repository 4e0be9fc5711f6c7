//! Heatmaps of the ranking figure over each pair of grid keys that vary, numbers in numeric
//! order; cell values printed. A cell averages the runs with that pair of values (other keys
//! averaged over). A cell whose figure is not simply its grid values' after the whole budget
//! is hatched and says why under its value (`pruned @4`, as the ranking's bars say where a run
//! short of its budget ended; a rollback changed a setting: what it trained with at the end),
//! with a note under the chart. Keys `[search]` draws numbers for are charted by `scatter` instead.

use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Area, err, font, lane_label, lanes};
use crate::digits;
use crate::report::summary::Changed;
use crate::report::summary::{Figure, Summary};

pub const SIZE: (u32, u32) = (760, 560);

/// Index pairs (i < j) of the grid keys `axes` (indices into each grid) that take more than
/// one value across the runs.
pub fn pairs(axes: &[usize], grids: &[Vec<String>]) -> Vec<(usize, usize)> {
    let varying: Vec<usize> = axes
        .iter()
        .copied()
        .filter(|&k| distinct(grids, k).len() > 1)
        .collect();
    let mut out = Vec::new();
    for (a, &i) in varying.iter().enumerate() {
        for &j in &varying[a + 1..] {
            out.push((i, j));
        }
    }
    out
}

/// Values of key `k`, empty ones skipped: in numeric order when every one is a number (an
/// axis of learning rates reads 0.0001, 0.0002, 0.0004 whatever order the grid lists them
/// in), else in order of first appearance (the grid's order: `dcgan`, `cgan`).
pub fn distinct(grids: &[Vec<String>], k: usize) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for g in grids {
        if let Some(v) = g.get(k).filter(|v| !v.is_empty())
            && !seen.contains(v)
        {
            seen.push(v.clone());
        }
    }
    let numbers: Option<Vec<f64>> = seen.iter().map(|v| number(v)).collect();
    if let Some(numbers) = numbers {
        let mut pairs: Vec<(f64, String)> = numbers.into_iter().zip(seen).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        seen = pairs.into_iter().map(|(_, v)| v).collect();
    }
    seen
}

/// A grid value as a number (`0.0002`, `1e-9`, `64`); None for text, lists and non-finite.
pub fn number(value: &str) -> Option<f64> {
    value.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// A heatmap's data: column and row labels, `values[y][x]` and `notes[y][x]`, the lines a
/// cell says under its value, and `foot`, the line under the chart that says what a hatched
/// cell is (None when no cell has notes).
#[derive(Debug, Clone, PartialEq)]
pub struct Cells {
    pub xs: Vec<String>,
    pub ys: Vec<String>,
    pub values: Vec<Vec<Option<f64>>>,
    pub notes: Vec<Vec<Vec<String>>>,
    pub foot: Option<String>,
}

/// Where a run short of its budget ended (`pruned @4`): its figure is an earlier epoch's.
fn ended_short(s: &Summary) -> Option<String> {
    (!s.trained_to_end()).then(|| format!("{} @{}", s.state, s.epochs_done))
}

/// What a run's figure owes to more than its grid values after the whole budget, as lines
/// under the cell's value: where it ended short of its budget (`pruned @4`), then `rolled
/// back:` and each setting a rollback changed with its value at the end (`lr_g → 0.0002`).
/// Empty when nothing.
fn run_note(s: &Summary) -> Vec<String> {
    let changed = s
        .rollback_changes
        .iter()
        .map(|c: &Changed| format!("{} → {}", c.name(), digits::four(c.to)));
    let rolled_back = match s.rollback_changes.is_empty() {
        true => Vec::new(),
        false => std::iter::once("rolled back:".to_string())
            .chain(changed)
            .collect(),
    };
    ended_short(s).into_iter().chain(rolled_back).collect()
}

/// The line under the chart for `runs` (those in cells): what makes a cell hatched, of what
/// some run has; None when no run has a note.
fn foot(runs: &[&Summary]) -> Option<String> {
    let short = runs.iter().any(|s| ended_short(s).is_some());
    let rolled_back = runs.iter().any(|s| !s.rollback_changes.is_empty());
    let early = "a run of the cell ended early (its figure an earlier epoch's)";
    let why = match (short, rolled_back) {
        (false, false) => return None,
        (true, false) => early.to_string(),
        (false, true) => "a rollback changed the settings of a run of the cell".to_string(),
        (true, true) => format!("{early}, or a rollback changed its settings"),
    };
    Some(format!("hatched: {why}"))
}

/// The note lines of a cell of `runs` (those with a figure): each distinct run note once, with
/// how many of the cell's runs it is about when the cell averages several (`1 of 2 rolled
/// back:`).
fn cell_notes(runs: &[&Summary]) -> Vec<String> {
    let notes: Vec<Vec<String>> = runs
        .iter()
        .map(|s| run_note(s))
        .filter(|n| !n.is_empty())
        .collect();
    let mut out: Vec<String> = Vec::new();
    for (k, note) in notes.iter().enumerate() {
        if notes[..k].contains(note) {
            continue;
        }
        let n = notes.iter().filter(|x| *x == note).count();
        let mut lines = note.clone();
        if runs.len() > 1 {
            lines[0] = format!("{n} of {}: {}", runs.len(), lines[0]);
        }
        out.extend(lines);
    }
    out
}

/// values[y][x]: the mean figure of the runs with value x of key `i` and value y of key `j`;
/// notes[y][x]: what those runs' figures owe to more than their grid values (`cell_notes`).
pub fn cells(summaries: &[Summary], i: usize, j: usize) -> Cells {
    let grids: Vec<Vec<String>> = summaries.iter().map(|s| s.grid.clone()).collect();
    let (xs, ys) = (distinct(&grids, i), distinct(&grids, j));
    let runs = |x: &String, y: &String| -> Vec<&Summary> {
        summaries
            .iter()
            .filter(|s| s.grid[i] == *x && s.grid[j] == *y && s.figure.is_some())
            .collect()
    };
    let (mut values, mut notes, mut shown) = (Vec::new(), Vec::new(), Vec::new());
    for y in &ys {
        let row: Vec<Vec<&Summary>> = xs.iter().map(|x| runs(x, y)).collect();
        values.push(
            row.iter()
                .map(|runs| {
                    let vals: Vec<f64> = runs.iter().filter_map(|s| s.figure).collect();
                    (!vals.is_empty()).then(|| vals.iter().sum::<f64>() / vals.len() as f64)
                })
                .collect(),
        );
        notes.push(row.iter().map(|runs| cell_notes(runs)).collect());
        shown.extend(row.into_iter().flatten());
    }
    Cells {
        xs,
        ys,
        values,
        notes,
        foot: foot(&shown),
    }
}

pub fn draw<DB: DrawingBackend>(
    area: &Area<DB>,
    keys: (&str, &str),
    grid: &Cells,
    figure: Figure,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (xs, ys, cells) = (&grid.xs, &grid.ys, &grid.values);
    area.fill(&WHITE).map_err(err)?;
    let (area, foot) = match &grid.foot {
        Some(line) => {
            let (plot, foot) = area.split_vertically(area.dim_in_pixel().1 - 26);
            (plot, Some((foot, line)))
        }
        None => (area.clone(), None),
    };
    let values: Vec<f64> = cells.iter().flatten().flatten().copied().collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let better = if figure.lower_is_better() {
        "lighter"
    } else {
        "darker"
    };
    let mut chart = ChartBuilder::on(&area)
        .caption(
            format!("{}; {better} cells are better", figure.label()),
            font(17),
        )
        .margin(12)
        .x_label_area_size(50)
        .y_label_area_size(90)
        .build_cartesian_2d(lanes(xs.len()), lanes(ys.len()))
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .label_style(font(14))
        .x_label_formatter(&|at| lane_label(xs, at))
        .y_label_formatter(&|at| lane_label(ys, at))
        .x_desc(keys.0)
        .y_desc(keys.1)
        .draw()
        .map_err(err)?;
    for (y, row) in cells.iter().enumerate() {
        for (x, cell) in row.iter().enumerate() {
            let (x, y) = (x as f64, y as f64);
            let t = cell.map(|v| if hi > lo { (v - lo) / (hi - lo) } else { 0.5 });
            let fill = t.map_or(RGBColor(235, 235, 235), shade);
            chart
                .draw_series([Rectangle::new([(x, y), (x + 1.0, y + 1.0)], fill.filled())])
                .map_err(err)?;
            let text_color = if t.is_some_and(|t| t > 0.55) {
                WHITE
            } else {
                BLACK
            };
            let notes = &grid.notes[y as usize][x as usize];
            if !notes.is_empty() {
                hatch(&mut chart, (x, y), text_color.mix(0.35))?;
            }
            // The value a little above the centre when notes go under it.
            let lines = notes.len() as f64;
            let at = y + 0.5 + 0.045 * lines;
            let text = cell.map_or("no value".to_string(), digits::four);
            chart
                .draw_series([Text::new(
                    text,
                    (x + 0.5, at),
                    font(16)
                        .color(&text_color)
                        .pos(Pos::new(HPos::Center, VPos::Center)),
                )])
                .map_err(err)?;
            for (k, note) in notes.iter().enumerate() {
                chart
                    .draw_series([Text::new(
                        note.clone(),
                        (x + 0.5, at - 0.09 * (k as f64 + 1.0)),
                        font(13)
                            .color(&text_color)
                            .pos(Pos::new(HPos::Center, VPos::Center)),
                    )])
                    .map_err(err)?;
            }
        }
    }
    if let Some((foot, line)) = foot {
        foot.draw(&Text::new(
            line.clone(),
            (14, 4),
            font(13).pos(Pos::new(HPos::Left, VPos::Top)),
        ))
        .map_err(err)?;
    }
    Ok(())
}

/// Diagonal lines across the cell at `(x, y)` (lanes of width 1).
fn hatch<DB: DrawingBackend>(
    chart: &mut ChartContext<DB, Cartesian2d<super::Lanes, super::Lanes>>,
    (x, y): (f64, f64),
    color: RGBAColor,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    // The segments of u + v = t in the unit square, t every eighth up to 2.
    let lines = (1..16).map(|k| {
        let t = k as f64 / 8.0;
        let (a, b) = (
            (t.min(1.0), (t - 1.0).max(0.0)),
            ((t - 1.0).max(0.0), t.min(1.0)),
        );
        PathElement::new(
            [(x + a.0, y + a.1), (x + b.0, y + b.1)],
            color.stroke_width(1),
        )
    });
    chart.draw_series(lines).map_err(err)?;
    Ok(())
}

/// Light yellow (0) to dark blue (1).
fn shade(t: f64) -> RGBColor {
    let lerp = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * t.clamp(0.0, 1.0)) as u8;
    RGBColor(lerp(255, 8), lerp(247, 48), lerp(188, 107))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn axes_of_numbers_in_numeric_order_others_as_listed() {
        // (one key's values over the runs, the axis, why)
        let cases: [(&[&str], &[&str], &str); 4] = [
            (
                &["0.000108", "0.000976", "0.000314", "0.0000567", "0.000976"],
                &["0.0000567", "0.000108", "0.000314", "0.000976"],
                "drawn learning rates: numeric, not trial order",
            ),
            (
                &["64", "8", "", "16"],
                &["8", "16", "64"],
                "ints, not text order",
            ),
            (
                &["1e-9", "0.5", "2e20"],
                &["1e-9", "0.5", "2e20"],
                "exponents",
            ),
            (
                &["dcgan", "cgan", "dcgan"],
                &["dcgan", "cgan"],
                "text: as listed",
            ),
        ];
        for (values, want, why) in cases {
            let grids: Vec<Vec<String>> = values.iter().map(|v| g(&[v])).collect();
            assert_eq!(distinct(&grids, 0), g(want), "{why}");
        }
    }

    #[test]
    fn a_cell_says_why_its_figure_is_not_its_grid_values_alone() {
        let run = crate::results::reader::Run::for_test("000-a", vec![], vec![]);
        let base = crate::report::summary::summarize(&run, Figure::Swd);
        let summary = |x: &str, y: &str, state: &'static str, done: u32, changed: bool| Summary {
            grid: g(&[x, y]),
            state,
            epochs_done: done,
            epochs_planned: Some(36),
            figure: Some(100.0),
            rollback_changes: match changed {
                true => vec![Changed {
                    key: "train.lr_g",
                    from: 5.0,
                    to: 2e-4,
                }],
                false => vec![],
            },
            ..base.clone()
        };
        let runs = [
            summary("a", "p", "finished", 36, false),
            summary("a", "q", "pruned", 4, false),
            summary("b", "p", "finished", 36, true),
            summary("b", "q", "pruned", 4, false),
            summary("b", "q", "finished", 36, false),
        ];
        let c = cells(&runs, 0, 1);
        // notes[y][x], (x, y) in ("a", "b") x ("p", "q")
        let want: [[&[&str]; 2]; 2] = [
            [&[], &["rolled back:", "lr_g → 0.0002"]],
            [&["pruned @4"], &["1 of 2: pruned @4"]],
        ];
        for (y, row) in want.iter().enumerate() {
            for (x, lines) in row.iter().enumerate() {
                assert_eq!(c.notes[y][x], g(lines), "cell ({x}, {y})");
            }
        }
        assert_eq!(
            c.foot.as_deref(),
            Some(
                "hatched: a run of the cell ended early (its figure an earlier epoch's), or a \
                 rollback changed its settings"
            )
        );
        let plain = cells(&[runs[0].clone(), runs[4].clone()], 0, 1);
        assert_eq!(plain.foot, None, "nothing to say: no line under the chart");
    }

    #[test]
    fn pairs_of_varying_keys_only() {
        type Case<'a> = (&'a [Vec<String>], Vec<(usize, usize)>, &'a str);
        let cases: [Case; 3] = [
            (
                &[g(&["1", "x", "p"]), g(&["2", "x", "q"])],
                vec![(0, 2)],
                "b is constant",
            ),
            (
                &[g(&["1", "x", "p"]), g(&["2", "y", "q"])],
                vec![(0, 1), (0, 2), (1, 2)],
                "all vary",
            ),
            (
                &[g(&["1", "x", "p"]), g(&["2", "x", "p"])],
                vec![],
                "one varying key: no pair",
            ),
        ];
        for (grids, want, why) in cases {
            assert_eq!(pairs(&[0, 1, 2], grids), want, "{why}");
        }
        let all_vary = [g(&["1", "x", "p"]), g(&["2", "y", "q"])];
        assert_eq!(
            pairs(&[0, 2], &all_vary),
            vec![(0, 2)],
            "key 1 is charted apart (a drawn number)"
        );
    }
}
