//! The experiment report: summary.csv, charts/, per-run best.png and progress.gif,
//! report.html and report.md in RESULTS/EXPERIMENT/, or (`report --out DIR`) the same in DIR,
//! linking to the run folders' grids (`target`). Builders return bytes or strings; this module
//! gathers them and writes every file in one place, atomically.

pub mod charts;
pub mod escape;
pub mod gif;
pub mod html;
pub mod markdown;
pub mod segments;
pub mod stamp;
pub mod summary;
pub mod target;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use self::charts::{
    balance, heatmap, losses, multiples, quality, ranking, scatter, swd_runs, timeline,
};
use self::summary::Figure;
pub use self::target::Target;
use crate::results::reader::{ExperimentRecord, Run};
use crate::results::{ExperimentDir, names, reader};

/// A cross-run chart on the page: its heading and its path relative to the report.
#[derive(Debug, Clone)]
pub struct CrossChart {
    pub title: String,
    pub path: String,
}

/// A run's files on the page, relative to the report.
#[derive(Debug, Clone, Default)]
pub struct RunFiles {
    pub balance: Option<String>,
    pub losses: Option<String>,
    /// swd, tag_kl and diversity over training, when the run evaluates.
    pub quality: Option<String>,
    /// (path, epoch) of the surviving timeline's newest sample grid.
    pub latest: Option<(String, u32)>,
    /// (path, which epoch and why).
    pub best: Option<(String, String)>,
    pub gif: Option<String>,
    /// For each rollback whose kept grid is on disk: (path, rollback number from 1, epoch):
    /// the last samples of the timeline it abandoned, what the collapse looked like.
    pub rolled_back: Vec<(String, u32, u32)>,
}

/// What `write_report` wrote.
#[derive(Debug)]
pub struct Written {
    pub html: PathBuf,
    pub files: usize,
}

/// Files to write, relative to the target folder.
type Outputs = Vec<(String, Vec<u8>)>;

/// Reads `exp_dir` (RESULTS/EXPERIMENT) and writes the whole report into it. Waits for any
/// other process writing it (workers of a sweep, a second `run`, `report`): one writer at a
/// time, so no report mixes two readings of the results.
pub fn write_report(exp_dir: &ExperimentDir) -> Result<Written> {
    write_report_to(exp_dir, &Target::in_place(exp_dir))
}

/// Reads `exp_dir` and writes the report into `target`, under the target's lock; a target
/// outside the experiment's folder gets every file the page shows that is not a run folder's
/// own, and nothing is written into `exp_dir`.
pub fn write_report_to(exp_dir: &ExperimentDir, target: &Target) -> Result<Written> {
    let _lock = target.lock()?;
    // Only the report writes charts/, and the lock is ours: a temp there is a killed writer's.
    crate::fsx::remove_stale_temps(&target.root().join(names::CHARTS));
    let results = reader::read_experiment(exp_dir)?;
    let summaries = summary::summaries(&results);
    let figure = Figure::of(&results);
    let out_dir = (!target.in_results()).then(|| target.root());
    let command = stamp::command(exp_dir.root(), out_dir);
    let stamp = stamp::Stamp::new(std::time::SystemTime::now(), &summaries, command);
    let mut out: Outputs = vec![(
        names::SUMMARY_CSV.into(),
        summary::summary_csv(&results.grid_keys, &summaries),
    )];
    let cross = cross_charts(&results, &summaries, figure, &mut out)?;
    let mut files = Vec::new();
    for run in &results.runs {
        files.push(run_files(run, target, &mut out)?);
    }
    out.push((
        names::REPORT_HTML.into(),
        html::html(&results, &summaries, figure, &cross, &files, &stamp).into_bytes(),
    ));
    out.push((
        names::REPORT_MD.into(),
        markdown::markdown(&results, &summaries, figure, &stamp).into_bytes(),
    ));
    for (rel, bytes) in &out {
        target.write(rel, bytes)?;
    }
    Ok(Written {
        html: target.root().join(names::REPORT_HTML),
        files: out.len(),
    })
}

/// The report while a run goes on: its path on stderr with the progress; a failure is a
/// warning, never a failed run.
pub fn write_or_warn(exp_dir: &ExperimentDir) {
    if let Some(html) = write_quietly(exp_dir) {
        eprintln!("report: {}", html.display());
    }
}

/// The report at the end of a run: its path on stdout, beside the run's outcome (see
/// README, "Output"); a failure is a warning on stderr.
pub fn write_final(exp_dir: &ExperimentDir) {
    if let Some(html) = write_quietly(exp_dir) {
        println!("report: {}", html.display());
    }
}

fn write_quietly(exp_dir: &ExperimentDir) -> Option<PathBuf> {
    match write_report(exp_dir) {
        Ok(w) => Some(w.html),
        Err(e) => {
            eprintln!("warning: the report could not be written: {e:#}");
            None
        }
    }
}

fn cross_charts(
    results: &ExperimentRecord,
    summaries: &[summary::Summary],
    figure: Figure,
    out: &mut Outputs,
) -> Result<Vec<CrossChart>> {
    let started: Vec<&Run> = results.runs.iter().filter(|r| !r.rows.is_empty()).collect();
    let mut cross = Vec::new();
    if started.is_empty() {
        return Ok(cross);
    }
    let mut add = |title: String, name: &str, png: Vec<u8>, svg: Option<String>| {
        let path = names::chart(&format!("{name}.png"));
        out.push((path.clone(), png));
        if let Some(svg) = svg {
            out.push((names::chart(&format!("{name}.svg")), svg.into_bytes()));
        }
        cross.push(CrossChart { title, path });
    };
    let bars = ranking::ranked(summaries);
    if swd_runs::any(&started) {
        let best: Vec<String> = bars.iter().map(|b| b.id.clone()).collect();
        add(
            "Quality over training: swd of every run (shared axes)".into(),
            "swd-all",
            charts::png(swd_runs::SIZE, |a| swd_runs::draw(a, &started, &best))?,
            Some(charts::svg(swd_runs::SIZE, |a| {
                swd_runs::draw(a, &started, &best)
            })?),
        );
    }
    add(
        "Balance of every run (shared axes)".into(),
        "balance-all",
        charts::png(multiples::size(started.len()), |a| {
            multiples::draw(a, &started)
        })?,
        None,
    );
    if !bars.is_empty() {
        let size = ranking::size(bars.len());
        add(
            format!("Ranking: {}", figure.label()),
            "ranking",
            charts::png(size, |a| ranking::draw(a, &bars, figure))?,
            Some(charts::svg(size, |a| ranking::draw(a, &bars, figure))?),
        );
    }
    let grids: Vec<Vec<String>> = summaries.iter().map(|s| s.grid.clone()).collect();
    let keys = &results.grid_keys;
    let (scattered, axes): (Vec<usize>, Vec<usize>) = (0..keys.len())
        .partition(|&k| scatter::charts(results.search_keys.contains(&keys[k]), &grids, k));
    for k in scattered {
        let points = scatter::points(summaries, k);
        if heatmap::distinct(&grids, k).len() < 2 || points.is_empty() {
            continue;
        }
        let (key, log) = (keys[k].as_str(), results.log_keys.contains(&keys[k]));
        add(
            format!("{} by {key} (drawn)", figure.label()),
            &format!("scatter-{key}"),
            charts::png(scatter::SIZE, |a| {
                scatter::draw(a, key, &points, log, figure)
            })?,
            Some(charts::svg(scatter::SIZE, |a| {
                scatter::draw(a, key, &points, log, figure)
            })?),
        );
    }
    for (i, j) in heatmap::pairs(&axes, &grids) {
        let keys = (results.grid_keys[i].as_str(), results.grid_keys[j].as_str());
        let cells = heatmap::cells(summaries, i, j);
        add(
            format!("{} by {} x {}", figure.label(), keys.0, keys.1),
            &format!("heatmap-{}--{}", keys.0, keys.1),
            charts::png(heatmap::SIZE, |a| heatmap::draw(a, keys, &cells, figure))?,
            Some(charts::svg(heatmap::SIZE, |a| {
                heatmap::draw(a, keys, &cells, figure)
            })?),
        );
    }
    let size = timeline::size(started.len());
    add(
        "Rollback timeline".into(),
        "timeline",
        charts::png(size, |a| timeline::draw(a, &started))?,
        Some(charts::svg(size, |a| timeline::draw(a, &started))?),
    );
    Ok(cross)
}

fn run_files(run: &Run, target: &Target, out: &mut Outputs) -> Result<RunFiles> {
    let mut f = run_charts(run, out)?;
    if let Some(&last) = run.sample_epochs.last() {
        f.latest = Some((
            target.link(&in_samples(run, &names::sample_grid(last))),
            last,
        ));
    }
    if let Some(best) = gif::best(run) {
        f.best = best_grid(run, best.epoch(), target, out)?.map(|p| (p, best.describe()));
    }
    if !run.sample_epochs.is_empty() {
        let rel = names::in_run(&run.id, names::PROGRESS_GIF);
        f.gif = progress_gif(run, target, &rel, out)?;
    }
    f.rolled_back = rolled_back_grids(run, target);
    Ok(f)
}

/// The grids the run's rollbacks kept (`samples/rolled-back/`), in rollback order, those on
/// disk only (runs from before they were kept have none).
fn rolled_back_grids(run: &Run, target: &Target) -> Vec<(String, u32, u32)> {
    let rollbacks = run.events.iter().filter(|e| e.is_rollback());
    (1..)
        .zip(rollbacks)
        .filter_map(|(k, e)| {
            let epoch = u32::try_from(e.epoch).ok()?;
            run.dir.rolled_back_grid(k, epoch).is_file().then(|| {
                let file = format!(
                    "{}/{}",
                    names::ROLLED_BACK,
                    names::rolled_back_grid(k, epoch)
                );
                (target.link(&in_samples(run, &file)), k, epoch)
            })
        })
        .collect()
}

/// `runs/<id>/samples/<file>`.
fn in_samples(run: &Run, file: &str) -> String {
    names::in_run(&run.id, &format!("{}/{file}", names::SAMPLES))
}

/// The page's link to a run's best grid (of `epoch`): in the experiment's folder a copy named
/// samples/best.png, for whoever browses the run folder; elsewhere the grid itself. None when
/// the grid is gone since the run was read.
fn best_grid(run: &Run, epoch: u32, target: &Target, out: &mut Outputs) -> Result<Option<String>> {
    if !target.in_results() {
        let grid = in_samples(run, &names::sample_grid(epoch));
        return Ok(run
            .dir
            .sample_grid(epoch)
            .is_file()
            .then(|| target.link(&grid)));
    }
    let Some(bytes) = read_grid(run, epoch)? else {
        return Ok(None);
    };
    let path = in_samples(run, names::BEST_SAMPLES);
    out.push((path.clone(), bytes));
    Ok(Some(path))
}

/// A run's own charts (balance, losses, quality), written with the report.
fn run_charts(run: &Run, out: &mut Outputs) -> Result<RunFiles> {
    let mut f = RunFiles::default();
    if run.rows.is_empty() {
        return Ok(f);
    }
    let max_step = run.rows.last().map_or(1, |r| r.step);
    let title = format!("{}: D and G accuracy ({})", run.id, run.state.word());
    let path = names::chart(&format!("balance-{}.png", run.id));
    out.push((
        path.clone(),
        charts::png(balance::SIZE, |a| {
            balance::draw(a, run, &title, max_step, false)
        })?,
    ));
    f.balance = Some(path);
    let path = names::chart(&format!("losses-{}.png", run.id));
    out.push((
        path.clone(),
        charts::png(losses::SIZE, |a| losses::draw(a, run))?,
    ));
    f.losses = Some(path);
    if let Some(size) = quality::size(run) {
        let path = names::chart(&format!("quality-{}.png", run.id));
        out.push((path.clone(), charts::png(size, |a| quality::draw(a, run))?));
        f.quality = Some(path);
    }
    Ok(f)
}

/// The page's link to a run's progress.gif (`rel`): the run folder's own when up to date,
/// else one encoded now into the target folder; None when no frame can be read.
fn progress_gif(
    run: &Run,
    target: &Target,
    rel: &str,
    out: &mut Outputs,
) -> Result<Option<String>> {
    if gif_up_to_date(run) {
        return Ok(Some(target.link(rel)));
    }
    let mut pngs = Vec::new();
    for epoch in gif::frame_epochs(&run.sample_epochs) {
        pngs.extend(read_grid(run, epoch)?);
    }
    if pngs.is_empty() {
        return Ok(None);
    }
    out.push((rel.to_string(), gif::gif(&pngs)?));
    Ok(Some(rel.to_string()))
}

/// The sample grid of `epoch`; None when it is gone since the run was read (the run, training
/// on, rolled back past it).
fn read_grid(run: &Run, epoch: u32) -> Result<Option<Vec<u8>>> {
    let path = run.dir.sample_grid(epoch);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// progress.gif shows the frames it would be encoded from now: it is newer than each of them
/// and than metrics.csv and events.csv (which decide the epochs it shows), and no grid off the
/// surviving timeline is on disk (a gif of an older build may show it).
fn gif_up_to_date(run: &Run) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let Some(gif_time) = modified(&run.dir.progress_gif()) else {
        return false;
    };
    let grids = run.sample_epochs.iter().map(|&e| run.dir.sample_grid(e));
    run.stray_grids.is_empty()
        && grids
            .chain([run.dir.metrics(), run.dir.events()])
            .filter_map(|p| modified(&p))
            .all(|t| t < gif_time)
}
