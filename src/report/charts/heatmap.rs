//! Heatmaps of the ranking figure over each pair of grid keys that vary, numbers in numeric
//! order; cell values printed. A cell averages the runs with that pair of values (other keys
//! averaged over). Keys `[search]` draws numbers for are charted by `scatter` instead.

use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Area, err, font, lane_label, lanes};
use crate::digits;
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

/// A heatmap's data: column and row labels and `values[y][x]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cells {
    pub xs: Vec<String>,
    pub ys: Vec<String>,
    pub values: Vec<Vec<Option<f64>>>,
}

/// values[y][x]: the mean figure of the runs with value x of key `i` and value y of key `j`.
pub fn cells(summaries: &[Summary], i: usize, j: usize) -> Cells {
    let grids: Vec<Vec<String>> = summaries.iter().map(|s| s.grid.clone()).collect();
    let (xs, ys) = (distinct(&grids, i), distinct(&grids, j));
    let values = ys
        .iter()
        .map(|y| {
            xs.iter()
                .map(|x| {
                    let vals: Vec<f64> = summaries
                        .iter()
                        .filter(|s| s.grid[i] == *x && s.grid[j] == *y)
                        .filter_map(|s| s.figure)
                        .collect();
                    (!vals.is_empty()).then(|| vals.iter().sum::<f64>() / vals.len() as f64)
                })
                .collect()
        })
        .collect();
    Cells { xs, ys, values }
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
    let values: Vec<f64> = cells.iter().flatten().flatten().copied().collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let better = if figure.lower_is_better() {
        "lighter"
    } else {
        "darker"
    };
    let mut chart = ChartBuilder::on(area)
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
            let text = cell.map_or("no value".to_string(), digits::four);
            chart
                .draw_series([Text::new(
                    text,
                    (x + 0.5, y + 0.5),
                    font(16)
                        .color(&text_color)
                        .pos(Pos::new(HPos::Center, VPos::Center)),
                )])
                .map_err(err)?;
        }
    }
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
