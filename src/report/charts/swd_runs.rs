//! Every run's swd over its surviving epochs on shared axes: all runs as thin grey lines, the
//! best few (by the ranking's final swd) in colour over them with their names, so a reader of
//! a 32-variant sweep sees which runs improved and which stalled; the floor as a band when the
//! runs share one. A run `[prune]` stopped ends in a cross: of its own colour when it is drawn
//! in colour (a run stopped at its first rung is that cross alone), else of the pruned runs'
//! colour. Runs of another recipe in the same folder (an edited grid: not ranked) are dashed
//! in their own colour. The legend lists each mark as it is drawn.

use anyhow::Result;
use plotters::prelude::*;

use super::{
    Area, BEHIND, D_FAKE, D_REAL, G_ACC, GREY, OTHER_RECIPE, Swatch, err, font, legend, step_label,
    step_ticks,
};
use crate::digits;
use crate::results::reader::Run;

/// How many runs are drawn in colour.
pub const HIGHLIGHT: usize = 5;
const COLORS: [RGBColor; HIGHLIGHT] = [
    D_REAL,
    D_FAKE,
    G_ACC,
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

pub const SIZE: (u32, u32) = (1000, 520);

/// (epoch, swd) of a run's surviving evaluations.
fn curve(run: &Run) -> Vec<(f64, f64)> {
    run.kept()
        .filter_map(|r| Some((r.epoch as f64, r.swd?)))
        .filter(|(_, v)| v.is_finite())
        .collect()
}

/// Whether any run has an swd to draw.
pub fn any(runs: &[&Run]) -> bool {
    runs.iter().any(|r| !curve(r).is_empty())
}

/// `runs` with swd curves; `best`: ids best first (the ranking), of which the first
/// `HIGHLIGHT` with a curve are drawn in colour.
pub fn draw<DB: DrawingBackend>(area: &Area<DB>, runs: &[&Run], best: &[String]) -> Result<()>
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE).map_err(err)?;
    let (plot, side) = area.split_horizontally(area.dim_in_pixel().0 - 260);
    let curves: Vec<(&Run, Vec<(f64, f64)>)> = runs
        .iter()
        .map(|r| (*r, curve(r)))
        .filter(|(_, c)| !c.is_empty())
        .collect();
    let highlighted = highlighted(runs, best);
    let others = curves.iter().filter(|(r, _)| !r.current).count();
    let floor = shared_floor(runs);
    let values = curves.iter().flat_map(|(_, c)| c.iter().map(|p| p.1));
    let floor_values = floor.into_iter().flat_map(|(m, sd)| [m - sd, m + sd]);
    let hi = values.chain(floor_values).fold(0.0f64, f64::max).max(1e-6) * 1.08;
    let x_end = curves
        .iter()
        .flat_map(|(_, c)| c.iter().map(|p| p.0))
        .fold(1.0f64, f64::max);
    // Half an epoch either side, so the first and last evaluations are not cut in half.
    let (x_start, x_end) = (0.5, x_end + 0.5);
    let mut chart = ChartBuilder::on(&plot)
        .caption(
            caption(curves.len() - others, highlighted.len(), others),
            font(18),
        )
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x_start..x_end, 0f64..hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .label_style(font(14))
        .x_labels(step_ticks(x_end - x_start, 10))
        .x_label_formatter(&step_label)
        .x_desc("epoch (surviving timeline)")
        .y_desc("swd")
        .draw()
        .map_err(err)?;
    if let Some((mean, sd)) = floor {
        if sd > 0.0 {
            chart
                .draw_series([Rectangle::new(
                    [(x_start, mean - sd), (x_end, mean + sd)],
                    GREY.mix(0.25).filled(),
                )])
                .map_err(err)?;
        }
        chart
            .draw_series(DashedLineSeries::new(
                [(x_start, mean), (x_end, mean)],
                5,
                4,
                GREY.stroke_width(1),
            ))
            .map_err(err)?;
    }
    for (r, c) in curves
        .iter()
        .filter(|(r, _)| !highlighted.contains(&r.id.as_str()))
    {
        let color = match r.current {
            true => GREY.mix(0.55),
            false => OTHER_RECIPE.to_rgba(),
        };
        let series = match r.current {
            true => chart.draw_series(LineSeries::new(c.clone(), color.stroke_width(1))),
            false => chart.draw_series(DashedLineSeries::new(
                c.clone(),
                6,
                4,
                color.stroke_width(2),
            )),
        };
        series.map_err(err)?;
        // A run with one evaluation is a point, which a line does not draw.
        if let [only] = c[..] {
            chart
                .draw_series([Circle::new(only, 3, color.filled())])
                .map_err(err)?;
        }
    }
    // Pruned runs in grey: a cross where each curve stops.
    let ends: Vec<(f64, f64)> = curves
        .iter()
        .filter(|(r, _)| r.stopped_at().is_some() && !highlighted.contains(&r.id.as_str()))
        .filter_map(|(_, c)| c.last().copied())
        .collect();
    if !ends.is_empty() {
        chart
            .draw_series(
                ends.iter()
                    .map(|&at| Cross::new(at, 6, BEHIND.stroke_width(2))),
            )
            .map_err(err)?;
    }
    let mut entries: Vec<(String, Swatch)> = Vec::new();
    // Drawn worst first, so the best lies on top.
    for (k, id) in highlighted.iter().enumerate().rev() {
        let Some((run, c)) = curves.iter().find(|(r, _)| r.id == *id) else {
            continue;
        };
        let color = COLORS[k];
        chart
            .draw_series(LineSeries::new(c.clone(), color.stroke_width(2)).point_size(3))
            .map_err(err)?;
        let last = c.last().map_or(String::new(), |p| digits::four(p.1));
        let (label, swatch) = match (run.stopped_at(), c.last()) {
            (Some(stop), Some(&end)) => {
                chart
                    .draw_series([Cross::new(end, 7, color.stroke_width(3))])
                    .map_err(err)?;
                // A no-break space: a wrapped label keeps `pruned @4` on one line.
                let at = stop.judged_epoch;
                (format!("{last}, pruned\u{a0}@{at}"), Swatch::Ended(color))
            }
            _ => (last, Swatch::Line(color.stroke_width(2))),
        };
        entries.push((format!("{}. {id} ({label})", k + 1), swatch));
    }
    entries.reverse();
    let grey = curves.len() - others - highlighted.len();
    if grey > 0 {
        entries.push((
            format!("the other {grey}"),
            Swatch::Line(GREY.mix(0.55).stroke_width(1)),
        ));
    }
    if others > 0 {
        entries.push((
            format!("{others} of another recipe (not ranked)"),
            Swatch::Dashed(OTHER_RECIPE.stroke_width(2)),
        ));
    }
    if !ends.is_empty() {
        entries.push((
            format!("{} of them pruned at a rung", ends.len()),
            Swatch::Cross(BEHIND),
        ));
    }
    if floor.is_some() {
        entries.push((
            "swd floor \u{b1} sd".to_string(),
            Swatch::Bar(GREY.mix(0.25).filled()),
        ));
    }
    let entries: Vec<(&str, Swatch)> = entries.iter().map(|(s, w)| (s.as_str(), *w)).collect();
    legend(&side, &entries)
}

/// The chart's title for `runs` curves of the experiment, of which `coloured` are drawn in
/// colour, and `others` of another recipe.
fn caption(runs: usize, coloured: usize, others: usize) -> String {
    let plural = if runs == 1 { "" } else { "s" };
    let mut text = if coloured == runs {
        format!("swd over training, {runs} run{plural}")
    } else {
        format!("swd over training, {runs} runs (the best {coloured} in colour)")
    };
    if others > 0 {
        text += &format!(", and {others} of another recipe");
    }
    text
}

/// The ids drawn in colour: the first `HIGHLIGHT` of `best` that have an swd curve.
fn highlighted<'a>(runs: &[&Run], best: &'a [String]) -> Vec<&'a str> {
    best.iter()
        .filter(|id| runs.iter().any(|r| &r.id == *id && !curve(r).is_empty()))
        .take(HIGHLIGHT)
        .map(String::as_str)
        .collect()
}

/// The swd floor (mean, sd) when every run that has a reference has the same one (one
/// dataset); None when they differ or none has one.
fn shared_floor(runs: &[&Run]) -> Option<(f64, f64)> {
    let mut floors = runs
        .iter()
        .filter_map(|r| r.reference.as_ref())
        .map(|q| (q.swd_floor, q.swd_floor_std));
    let first = floors.next()?;
    floors.all(|f| f == first).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::QualityReference;
    use crate::results::test_rows::swd_rows;

    fn run(id: &str, swds: &[Option<f64>], floor: Option<f64>) -> Run {
        Run {
            reference: floor.map(|f| QualityReference {
                dataset: "d".into(),
                samples: 500,
                swd_floor_levels: vec![f],
                swd_floor: f,
                swd_floor_std: 2.0,
                swd_floor_draws: 5,
                real_pairwise_distance: 1.0,
                classifier_accuracy: None,
                tag_groups: None,
                tag_group_names: None,
                tag_kl_floor: None,
                tag_kl_floor_std: None,
            }),
            ..Run::for_test(id, swd_rows(swds), vec![])
        }
    }

    /// Run `id` of `swds` stopped at its rung at its last epoch.
    fn pruned(id: &str, swds: &[Option<f64>]) -> Run {
        use crate::prune::{Figure, PruneConfig, Rung, decide};
        let epoch = swds.len() as u32;
        let rule = PruneConfig {
            enabled: true,
            min_peers: 1,
            ..PruneConfig::default()
        };
        let rung = Rung { index: 0, epoch };
        let decision = decide(&rule, rung, Figure::Value(1e9), &[Figure::Value(1.0)]);
        let record =
            crate::results::RungRecord::new(&rule, (epoch, epoch as u64), &decision, vec![]);
        assert!(record.is_stop());
        Run {
            state: crate::results::RunState::Pruned,
            rungs: vec![record],
            ..run(id, swds, Some(28.0))
        }
    }

    /// Pixels of exactly `color` in the plot (left of the legend) of a PNG of `SIZE`.
    fn shown(png: &[u8], color: RGBColor) -> usize {
        let img = image::load_from_memory(png).unwrap().to_rgb8();
        let plot_width = SIZE.0 - 260;
        img.enumerate_pixels()
            .filter(|(x, _, p)| *x < plot_width && p.0 == [color.0, color.1, color.2])
            .count()
    }

    /// Every run the legend names in colour shows in that colour: a pruned run among the best
    /// five, a single evaluation at its rung, ends in a cross of its own colour, not in the
    /// cross every other pruned run ends in.
    #[test]
    fn every_run_in_the_legend_shows_in_its_colour() {
        let runs = [
            run(
                "000-a",
                &[Some(300.0), Some(200.0), Some(150.0)],
                Some(28.0),
            ),
            run(
                "001-b",
                &[Some(320.0), Some(220.0), Some(180.0)],
                Some(28.0),
            ),
            run(
                "002-c",
                &[Some(330.0), Some(260.0), Some(240.0)],
                Some(28.0),
            ),
            pruned("003-d", &[Some(700.0)]),
            pruned("004-e", &[Some(710.0)]),
            pruned("005-f", &[Some(1100.0)]),
        ];
        let refs: Vec<&Run> = runs.iter().collect();
        let best: Vec<String> = runs.iter().map(|r| r.id.clone()).collect();
        let png = super::super::png(SIZE, |a| draw(a, &refs, &best)).unwrap();
        for (k, color) in COLORS.iter().enumerate() {
            let n = shown(&png, *color);
            assert!(n >= 40, "{}: {n} pixels of its colour", best[k]);
        }
    }

    /// A run of another recipe (not ranked) is dashed in its own colour, not one of the grey
    /// curves the legend counts as the experiment's.
    #[test]
    fn a_run_of_another_recipe_is_drawn_in_its_own_colour() {
        let mut other = run("000-old", &[Some(400.0), Some(90.0)], Some(28.0));
        other.current = false;
        let runs = [other, run("001-a", &[Some(300.0), Some(100.0)], Some(28.0))];
        let refs: Vec<&Run> = runs.iter().collect();
        let best = vec!["001-a".to_string()];
        let png = super::super::png(SIZE, |a| draw(a, &refs, &best)).unwrap();
        assert!(shown(&png, OTHER_RECIPE) >= 40, "dashed in its colour");
        assert!(shown(&png, D_REAL) >= 40, "the ranked run in colour");
    }

    /// A run outside the best five with a single evaluation (stopped early, or just begun) is a
    /// point, where a line would draw nothing.
    #[test]
    fn a_run_with_one_evaluation_is_drawn_as_a_point() {
        let mut other = run("000-old", &[Some(90.0)], Some(28.0));
        other.current = false;
        let runs = [other, run("001-a", &[Some(300.0), Some(100.0)], Some(28.0))];
        let refs: Vec<&Run> = runs.iter().collect();
        let best = vec!["001-a".to_string()];
        let png = super::super::png(SIZE, |a| draw(a, &refs, &best)).unwrap();
        assert!(shown(&png, OTHER_RECIPE) >= 12, "a point in its colour");
    }

    #[test]
    fn a_floor_is_drawn_only_when_the_runs_share_it() {
        let a = run("000-a", &[Some(90.0)], Some(28.0));
        let b = run("001-b", &[Some(80.0)], Some(28.0));
        let c = run("002-c", &[Some(70.0)], Some(31.0));
        let none = run("003-d", &[Some(70.0)], None);
        assert_eq!(shared_floor(&[&a, &b, &none]), Some((28.0, 2.0)));
        assert_eq!(shared_floor(&[&a, &c]), None, "two datasets");
        assert_eq!(shared_floor(&[&none]), None);
    }

    #[test]
    fn the_title_says_best_only_when_some_runs_are_grey() {
        let cases = [
            (1, 1, 0, "swd over training, 1 run", "one run"),
            (4, 4, 0, "swd over training, 4 runs", "every run in colour"),
            (
                12,
                5,
                0,
                "swd over training, 12 runs (the best 5 in colour)",
                "the rest in grey",
            ),
            (
                3,
                3,
                1,
                "swd over training, 3 runs, and 1 of another recipe",
                "a run of another recipe is not counted as the experiment's",
            ),
        ];
        for (runs, coloured, others, want, why) in cases {
            assert_eq!(caption(runs, coloured, others), want, "{why}");
        }
    }

    #[test]
    fn the_best_runs_with_a_curve_are_drawn_in_colour() {
        let runs: Vec<Run> = (0..32)
            .map(|k| {
                run(
                    &format!("{k:03}-x"),
                    &[None, Some(100.0 - k as f64)],
                    Some(28.0),
                )
            })
            .chain([run("032-off", &[None, None], None)])
            .collect();
        let refs: Vec<&Run> = runs.iter().collect();
        assert!(any(&refs));
        assert!(!any(&refs[32..]), "evaluation off");
        // The ranking, best first: the run without swd has no figure to rank by, but even
        // listed first it is not drawn.
        let best: Vec<String> = runs.iter().rev().map(|r| r.id.clone()).collect();
        assert_eq!(
            highlighted(&refs, &best),
            ["031-x", "030-x", "029-x", "028-x", "027-x"]
        );
        super::super::png(SIZE, |a| draw(a, &refs, &best)).unwrap();
    }
}
