//! Reading a results directory as typed data: a whole experiment (its plan and every run in
//! it: status, metric and event rows, which rows survived, the sample grids of the surviving
//! timeline and any past it, quality reference, and the state a reader tells from status and
//! lock), or one run's files (settings, vocabulary, checkpoints for `sample`). Reading only:
//! nothing here writes, so it works while a sweep runs.

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context, Result, bail};
use tch::Tensor;

use super::checkpoints::{self, Saved};
use super::csv_log;
use super::events::EventRow;
use super::experiment_dir::ExperimentDir;
use super::images;
use super::manifest::{settings, value_text};
use super::metrics::{self, MetricsRow};
use super::names;
use super::quality_reference::QualityReference;
use super::run_dir::RunDir;
use super::run_info::RunInfo;
use super::rungs::{self, RungRecord};
use super::status::{RunState, Status};
use super::surviving;
use crate::checkpoint;
use crate::config::{Config, Override};
use crate::data::Vocabulary;

/// events.csv; none before the first verdict.
pub fn read_events(dir: &RunDir) -> Result<Vec<EventRow>> {
    csv_log::read(&dir.events())
}

/// run.json; None when absent or damaged (with a warning).
pub fn read_run_info(dir: &RunDir) -> Result<Option<RunInfo>> {
    RunInfo::read(&dir.run_info())
}

/// `[prune]`'s decisions of a run, by rung epoch; none when it was never judged.
pub fn read_rungs(dir: &RunDir) -> Result<Vec<RungRecord>> {
    rungs::read_all(dir)
}

/// status.json, checked against metrics.csv (`Status::against_rows`: an ending whose rows were
/// lost reads as interrupted); None before the run wrote one. Rows that cannot be read leave
/// the status as written: the reader that reads them says what is wrong.
pub fn read_status(dir: &RunDir) -> Result<Option<Status>> {
    let Some(status) = Status::read(&dir.status())? else {
        return Ok(None);
    };
    Ok(Some(match metrics::read(&dir.metrics()) {
        Ok(rows) => status.against_rows(rows.last()),
        Err(_) => status,
    }))
}

/// When status.json was last written, in seconds since the Unix epoch (the file's modification
/// time); None before the run wrote one.
pub fn status_written_at(dir: &RunDir) -> Option<u64> {
    let modified = std::fs::metadata(dir.status()).ok()?.modified().ok()?;
    Some(
        modified
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_secs(),
    )
}

/// The state a reader tells of one run, from its status.json, whether it has metric rows, and
/// (only when that decides) its lock; with the status it was told from.
pub fn read_state(dir: &RunDir) -> Result<(RunState, Option<Status>)> {
    let status = read_status(dir)?;
    let has_rows = std::fs::metadata(dir.metrics()).is_ok_and(|m| m.len() > 0);
    let state = RunState::of(status.as_ref(), has_rows, || dir.holder().is_some());
    Ok((state, status))
}

/// quality-reference.json; None when absent or unreadable.
pub fn read_quality_reference(dir: &RunDir) -> Option<QualityReference> {
    let text = std::fs::read_to_string(dir.quality_reference()).ok()?;
    serde_json::from_str(&text).ok()
}

/// config.toml: the settings the run was trained with. Errors: no such file (not a run
/// directory), or not this release's settings.
pub fn read_config(dir: &RunDir) -> Result<Config> {
    let path = dir.config();
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("cannot read {}", path.display()))
}

/// The vocabulary the run was trained with: its tags.txt, else the tag groups its
/// quality-reference.json records. Errors: neither has it.
pub fn read_vocabulary(dir: &RunDir) -> Result<Vocabulary> {
    let path = dir.tags();
    if path.is_file() {
        return Vocabulary::parse(&crate::textfile::read(&path)?, &path);
    }
    match read_quality_reference(dir).and_then(|r| r.tag_groups) {
        Some(groups) => Ok(Vocabulary::new(groups)),
        None => bail!(
            "cannot find the run's tag vocabulary: neither {} nor tag groups in {}",
            path.display(),
            dir.quality_reference().display()
        ),
    }
}

/// Complete checkpoints, oldest first by step.
pub fn checkpoints(dir: &RunDir) -> Result<Vec<Saved>> {
    checkpoints::list(&dir.checkpoints())
}

/// The epoch a resume of the run starts from: its newest checkpoint that metrics.csv reaches
/// (`CheckpointMeta::reached_by`; one that does not load is found only by trying it); 0 when
/// it has none.
pub fn resume_epoch(dir: &RunDir) -> Result<u32> {
    let rows = metrics::read(&dir.metrics())?;
    Ok(checkpoints(dir)?
        .iter()
        .rev()
        .find(|s| s.meta.reached_by(&rows))
        .map_or(0, |s| s.meta.epoch))
}

/// A checkpoint's tensors (on the CPU) by name, checked against its sidecar's checksum.
pub fn load_checkpoint(saved: &Saved) -> Result<HashMap<String, Tensor>> {
    Ok(checkpoint::load(&saved.path)?.0)
}

/// One variant as an experiment lists it, with its run directory's files.
#[derive(Clone, Debug)]
pub struct Run {
    /// Its index in the plan (for a run no longer planned: the number its id starts with).
    pub index: usize,
    pub id: String,
    /// Grid values in the order of `ExperimentRecord::grid_keys` (empty strings when unknown).
    pub grid: Vec<String>,
    /// Epochs the plan gives it; None when unknown (a run no longer planned, an old manifest).
    pub planned_epochs: Option<u32>,
    /// Listed in experiment.json: a run of the experiment as it stands now (every run is, when
    /// there is no experiment.json). false: a run of another recipe (an edited grid, a `--set`
    /// that changed what is trained); its index and grid values then come from its own
    /// run.json or config.toml.
    pub current: bool,
    /// The `--set` and `ANIGAN_*` overrides in force when it last trained (run.json); None for
    /// runs started before run.json was written.
    pub overrides: Option<Vec<Override>>,
    /// A run of another recipe: the settings in which it differs from the experiment as it
    /// stands (`differences`), `(key, its value)`; empty for a run of the experiment.
    pub differs: Vec<(String, String)>,
    /// A run of another recipe that differs in no setting: the planned variant with its
    /// settings (the same hash at another index: the grid's order changed).
    pub same_settings_as: Option<String>,
    pub state: RunState,
    pub status: Option<Status>,
    pub rows: Vec<MetricsRow>,
    /// Parallel to `rows`: abandoned by a later rollback (see `surviving::abandoned`).
    pub abandoned: Vec<bool>,
    pub events: Vec<EventRow>,
    /// `[prune]`'s decisions, by rung epoch (rungs/eNNNN.json); empty when never judged.
    pub rungs: Vec<RungRecord>,
    /// Epochs of the surviving timeline (a kept row) with a sample grid
    /// `samples/epoch-NNNN.png`, ascending: the grids a reader shows.
    pub sample_epochs: Vec<u32>,
    /// Epochs with a grid on disk that is not on the surviving timeline (an abandoned
    /// attempt's epoch not trained again, an epoch whose row a kill left unwritten), ascending.
    /// Nothing shows them; while one is on disk, the report encodes progress.gif again (one an
    /// older build wrote may show it).
    pub stray_grids: Vec<u32>,
    /// quality-reference.json (SWD floor and its spread), when the run evaluates; absent or
    /// unreadable reads as None (a report shows no floor rather than failing).
    pub reference: Option<QualityReference>,
    pub dir: RunDir,
}

#[cfg(test)]
impl Run {
    /// A finished run `id` of the current experiment for tests: its rows and events, which
    /// rows they abandon worked out.
    pub fn for_test(id: &str, rows: Vec<MetricsRow>, events: Vec<EventRow>) -> Run {
        Run {
            index: 0,
            id: id.into(),
            grid: vec![],
            planned_epochs: None,
            current: true,
            overrides: None,
            differs: vec![],
            same_settings_as: None,
            state: RunState::Finished,
            status: None,
            abandoned: surviving::abandoned(&rows, &events),
            rows,
            events,
            rungs: vec![],
            sample_epochs: vec![],
            stray_grids: vec![],
            reference: None,
            dir: RunDir::at(std::path::Path::new("x/runs").join(id)),
        }
    }
}

impl Run {
    /// Rows of the timeline that survived every rollback.
    pub fn kept(&self) -> impl Iterator<Item = &MetricsRow> {
        surviving::kept(&self.rows, &self.abandoned)
    }

    /// The decision that stopped a pruned run (a run continued past it by `--only pruned` is
    /// finished, not pruned: None).
    pub fn stopped_at(&self) -> Option<&RungRecord> {
        (self.state == RunState::Pruned)
            .then(|| self.rungs.iter().find(|r| r.is_stop()))
            .flatten()
    }
}

/// A whole experiment directory: the plan (experiment.json, or the run directories when it
/// is missing) and every run.
#[derive(Clone, Debug)]
pub struct ExperimentRecord {
    pub dir: ExperimentDir,
    pub name: String,
    pub description: String,
    /// The experiment file, when experiment.json says.
    pub source: Option<String>,
    /// The overrides `source` was last resolved with, when experiment.json records them.
    pub overrides: Option<Vec<Override>>,
    pub grid_keys: Vec<String>,
    /// The keys of `grid_keys` that `[search]` draws (experiment.json's `search_keys`).
    pub search_keys: Vec<String>,
    /// The keys of `search_keys` drawn `log_uniform`.
    pub log_keys: Vec<String>,
    /// Planned variants first in plan order, then runs of settings no longer planned.
    pub runs: Vec<Run>,
    /// false: experiment.json was missing and the runs were read off the run directories.
    pub planned: bool,
}

/// Reads the experiment at `dir`. Errors: neither experiment.json nor runs/ (not an
/// experiment's results directory), or a file that cannot be read.
pub fn read_experiment(dir: &ExperimentDir) -> Result<ExperimentRecord> {
    let manifest = dir.read_manifest()?;
    let on_disk = dir.run_ids()?;
    if manifest.is_none() && on_disk.is_empty() {
        bail!(
            "{} holds no {} and no {}/: not an experiment's results directory \
             (pass RESULTS/EXPERIMENT, e.g. results/smoke)",
            dir.root().display(),
            names::MANIFEST,
            names::RUNS
        );
    }
    let mut out = ExperimentRecord {
        dir: dir.clone(),
        name: dir.name(),
        description: String::new(),
        source: None,
        overrides: None,
        grid_keys: Vec::new(),
        search_keys: Vec::new(),
        log_keys: Vec::new(),
        runs: Vec::new(),
        planned: manifest.is_some(),
    };
    let mut planned_ids = Vec::new();
    let mut base: Option<BTreeMap<String, String>> = None;
    // Each grid key's planned values, for what a run of another recipe differs in.
    let mut planned_values: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if let Some(m) = manifest {
        out.name = m.name;
        out.description = m.description;
        out.source = Some(m.source);
        (out.overrides, base) = (m.overrides, m.base);
        (out.grid_keys, out.search_keys) = (m.grid_keys, m.search_keys);
        out.log_keys = m.log_keys;
        for v in m.variants {
            planned_ids.push(v.id.clone());
            for (key, value) in &v.grid {
                planned_values
                    .entry(key.clone())
                    .or_default()
                    .push(value.clone());
            }
            let epochs = (v.epochs > 0).then_some(v.epochs);
            let mut run = experiment_run_or_unreadable(dir, &v.id);
            let grid = planned_grid_values(&v.grid, &run.dir, &out.grid_keys);
            (run.index, run.grid, run.planned_epochs) = (v.index, grid, epochs);
            out.runs.push(run);
        }
    }
    // Runs of settings no longer planned (or all of them, without a manifest).
    for id in on_disk.iter().filter(|id| !planned_ids.contains(id)) {
        let mut run = experiment_run_or_unreadable(dir, id);
        run.current = !out.planned;
        run.grid = own_grid_values(&run.dir, &out.grid_keys);
        if !run.current {
            let planned = Planned {
                base: base.as_ref(),
                values: &planned_values,
            };
            run.differs = differences(&run.dir, &planned);
            run.same_settings_as = run
                .differs
                .is_empty()
                .then(|| same_settings(id, &planned_ids))
                .flatten();
        }
        out.runs.push(run);
    }
    Ok(out)
}

#[cfg(test)]
impl ExperimentRecord {
    /// An experiment `x` of `runs` for tests: planned, with no grid and no experiment file.
    pub fn for_test(runs: Vec<Run>) -> ExperimentRecord {
        ExperimentRecord {
            dir: ExperimentDir::at("x"),
            name: "x".into(),
            description: String::new(),
            source: None,
            overrides: None,
            grid_keys: vec![],
            search_keys: vec![],
            log_keys: vec![],
            runs,
            planned: true,
        }
    }
}

impl ExperimentRecord {
    /// What defines the experiment as it stands, as one line: the file the last `run` or
    /// `slurm` of this folder resolved (experiment.json) and its overrides. None without an
    /// experiment.json (every run then counts as the experiment's).
    pub fn defined_by(&self) -> Option<String> {
        let source = self.source.as_ref()?;
        let overrides = match self.overrides.as_deref() {
            None => "overrides not recorded (an older experiment.json)".to_string(),
            Some([]) => "no overrides".to_string(),
            Some(o) => {
                let list: Vec<String> = o.iter().map(Override::to_string).collect();
                list.join(", ")
            }
        };
        Some(format!(
            "experiment as it stands: {source} with {overrides} (the last run's, experiment.json)"
        ))
    }
}

/// "1 run of another recipe", "2 runs of another recipe": how `status` and the report count
/// the runs `Run::current` leaves out of the experiment.
pub fn other_recipes(n: usize) -> String {
    match n {
        1 => "1 run of another recipe".to_string(),
        n => format!("{n} runs of another recipe"),
    }
}

/// `key=value` pairs as one list: `train.lr_d=0.0001, model.arch=cgan`.
pub fn settings_list(pairs: &[(String, String)]) -> String {
    let list: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    list.join(", ")
}

/// The experiment as it stands, as experiment.json plans it: what a run of another recipe is
/// compared with.
struct Planned<'a> {
    /// The settings its variants share (experiment.json's `base`); None in an older file.
    base: Option<&'a BTreeMap<String, String>>,
    /// Each grid key's planned values.
    values: &'a BTreeMap<String, Vec<String>>,
}

/// What a run of another recipe differs in, as the report's cell says it: `key=value` pairs,
/// or for one that differs in none, whose settings it has; empty for the experiment's runs.
pub fn difference_text(run: &Run) -> String {
    match (&run.differs[..], &run.same_settings_as) {
        ([], Some(id)) => format!("no setting: the settings of {id}, at another index"),
        (pairs, _) => settings_list(pairs),
    }
}

/// The settings of a run of another recipe that differ from the experiment as it stands, as
/// its id sees them (`config::as_identified`: threads, `checkpoint.keep`, `[eval]` and the like
/// change no id, so they are no difference): a shared setting whose value is not `base`'s, a
/// grid key whose value is none of the grid's. Without a `base` (an older experiment.json) or
/// a readable config.toml, its own grid values (run.json) of keys the experiment does not vary.
fn differences(dir: &RunDir, planned: &Planned) -> Vec<(String, String)> {
    let own = std::fs::read_to_string(dir.config())
        .ok()
        .and_then(|t| toml::from_str::<crate::config::Config>(&t).ok())
        .map(|c| settings(&crate::config::as_identified(&c)));
    match (planned.base, own) {
        (Some(base), Some(own)) => own
            .into_iter()
            .filter(|(k, v)| match planned.values.get(k) {
                Some(values) => !values.contains(v),
                None => base.get(k).is_some_and(|b| b != v),
            })
            .collect(),
        _ => RunInfo::read(&dir.run_info())
            .ok()
            .flatten()
            .map_or_else(Vec::new, |i| i.grid)
            .into_iter()
            .filter(|(k, _)| !planned.values.contains_key(k))
            .collect(),
    }
}

/// The planned variant whose settings `id` has (the same hash after another index), for a run
/// of another recipe that differs in no setting: the grid's order changed.
fn same_settings(id: &str, planned: &[String]) -> Option<String> {
    let hash = |id: &str| id.split_once('-').map(|(_, h)| h.to_string());
    let own = hash(id)?;
    planned
        .iter()
        .find(|p| hash(p).as_ref() == Some(&own))
        .cloned()
}

/// A planned run's values of `keys`: experiment.json's, and where an older build's file lacks
/// one (it wrote only the keys a `[[grid.include]]` table sets), the run's own (empty for a
/// run not started).
fn planned_grid_values(planned: &[(String, String)], dir: &RunDir, keys: &[String]) -> Vec<String> {
    let listed = |key: &String| {
        planned
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    if keys.iter().all(|k| listed(k).is_some()) {
        return keys.iter().filter_map(listed).collect();
    }
    let own = own_grid_values(dir, keys);
    keys.iter()
        .zip(own)
        .map(|(key, own)| listed(key).unwrap_or(own))
        .collect()
}

/// A run's values of `keys`: from its run.json where it records them, else its config.toml
/// (empty where neither has the key).
fn own_grid_values(dir: &RunDir, keys: &[String]) -> Vec<String> {
    let info = RunInfo::read(&dir.run_info()).ok().flatten();
    let config = std::fs::read_to_string(dir.config())
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .map(|t| crate::config::leaves(&t, ""))
        .unwrap_or_default();
    keys.iter()
        .map(|key| {
            let recorded = info
                .as_ref()
                .and_then(|i| i.grid.iter().find(|(k, _)| k == key))
                .map(|(_, v)| v.clone());
            recorded
                .or_else(|| {
                    config
                        .iter()
                        .find(|(k, _)| k == key)
                        .map(|(_, v)| value_text(v))
                })
                .unwrap_or_default()
        })
        .collect()
}

/// Run `id` as its own files tell it, or, when one of them cannot be read (an empty run.json
/// a partial copy left, a file the disk lost), a failed run that says which and why: one
/// damaged run must not hide every other run's status and report.
fn experiment_run_or_unreadable(exp: &ExperimentDir, id: &str) -> Run {
    experiment_run(exp, id).unwrap_or_else(|e| {
        let dir = exp.run(id);
        let status = Status {
            state: super::status::State::Failed,
            epochs_done: 0,
            epochs_planned: 0,
            steps_done: 0,
            attempt: 0,
            last_checkpoint: None,
            reason: Some(format!("its files cannot be read: {e:#}")),
            continued_after: None,
        };
        Run {
            index: index_of(id, None),
            id: id.to_string(),
            grid: Vec::new(),
            planned_epochs: None,
            current: true,
            overrides: None,
            differs: Vec::new(),
            same_settings_as: None,
            state: RunState::Failed,
            status: Some(status),
            abandoned: Vec::new(),
            rows: Vec::new(),
            events: Vec::new(),
            rungs: Vec::new(),
            sample_epochs: Vec::new(),
            stray_grids: Vec::new(),
            reference: None,
            dir,
        }
    })
}

/// The index run.json records, else the number the id starts with.
fn index_of(id: &str, info: Option<&RunInfo>) -> usize {
    info.map(|i| i.index).unwrap_or_else(|| {
        id.split('-')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(usize::MAX)
    })
}

/// Run `id` as its own files tell it: in the plan, with no grid values yet; the index its
/// run.json records, else the number its id starts with.
fn experiment_run(exp: &ExperimentDir, id: &str) -> Result<Run> {
    let dir = exp.run(id);
    let info = RunInfo::read(&dir.run_info())?;
    let index = index_of(id, info.as_ref());
    // The status first: while the run trains, rows can only be ahead of it (each epoch's row
    // is written before its status), never behind.
    let status = Status::read(&dir.status())?;
    let rows = metrics::read(&dir.metrics())?;
    let status = status.map(|s| s.against_rows(rows.last()));
    let events = read_events(&dir)?;
    // The lock is probed only for a run that may be training: probing takes the lock for
    // an instant, which a runner starting that variant then would see as busy.
    let state = RunState::of(status.as_ref(), !rows.is_empty(), || dir.holder().is_some());
    let abandoned = surviving::abandoned(&rows, &events);
    // Listing samples/ is best effort: a folder that cannot be read shows no grids.
    let grids = images::grid_epochs(&dir.samples()).unwrap_or_default();
    let sample_epochs = surviving::kept_grids(&grids, &rows, &abandoned);
    let stray_grids = grids
        .into_iter()
        .filter(|e| !sample_epochs.contains(e))
        .collect();
    Ok(Run {
        index,
        id: id.to_string(),
        grid: Vec::new(),
        planned_epochs: None,
        current: true,
        overrides: info.map(|i| i.overrides),
        differs: Vec::new(),
        same_settings_as: None,
        state,
        status,
        abandoned,
        rows,
        events,
        rungs: read_rungs(&dir)?,
        sample_epochs,
        stray_grids,
        reference: read_quality_reference(&dir),
        dir,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_of_another_recipe_differs_in_what_its_id_sees() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir::at(tmp.path().join("001-a"));
        std::fs::create_dir_all(dir.config().parent().unwrap()).unwrap();
        let mut run = crate::config::Config::default();
        (run.train.lr_d, run.train.lr_g) = (1e-4, 2e-4);
        // Settings no id sees: a tester saw them listed as differences.
        (run.train.threads, run.checkpoint.keep, run.eval.samples) = (1, 1, 30);
        run.tensorboard.enabled = !run.tensorboard.enabled;
        run.experiment.description = "another".into();
        std::fs::write(dir.config(), toml::to_string(&run).unwrap()).unwrap();
        let info = RunInfo {
            experiment: "a.toml".into(),
            index: 1,
            grid: vec![("train.lr_d".into(), "0.0001".into())],
            overrides: vec![],
            dataset: None,
            detector: None,
            tag_counts: None,
        };
        info.write(&dir.run_info()).unwrap();
        let mut experiment = crate::config::Config::default();
        experiment.train.lr_d = 2e-4;
        let shared = |grid_key: &str| -> BTreeMap<String, String> {
            settings(&crate::config::as_identified(&experiment))
                .into_iter()
                .filter(|(k, _)| k != grid_key)
                .collect()
        };
        let (over_lr_g, over_lr_d) = (shared("train.lr_g"), shared("train.lr_d"));
        let values = |key: &str, values: &[&str]| -> BTreeMap<String, Vec<String>> {
            [(
                key.to_string(),
                values.iter().map(|v| v.to_string()).collect(),
            )]
            .into()
        };
        let pair = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
        // (the experiment's shared settings, its grid, what the run differs in, why)
        let cases = [
            (
                Some(&over_lr_g),
                values("train.lr_g", &["0.0002", "0.0003"]),
                pair("train.lr_d", "0.0001"),
                "a shared setting; threads, keep, [eval], [tensorboard] and the description \
                 change no id",
            ),
            (
                Some(&over_lr_g),
                values("train.lr_g", &["0.0003", "0.0004"]),
                vec![
                    ("train.lr_g".to_string(), "0.0002".to_string()),
                    ("train.lr_d".to_string(), "0.0001".to_string()),
                ],
                "a grid value the grid no longer has",
            ),
            (
                Some(&over_lr_d),
                values("train.lr_d", &["0.0001", "0.0002"]),
                vec![],
                "a grid value the grid has: no setting differs",
            ),
            (
                None,
                values("train.lr_g", &["0.0002"]),
                pair("train.lr_d", "0.0001"),
                "an older experiment.json: its own grid values (run.json)",
            ),
        ];
        for (base, values, want, why) in cases {
            let planned = Planned {
                base,
                values: &values,
            };
            assert_eq!(differences(&dir, &planned), want, "{why}");
        }
    }

    #[test]
    fn a_run_with_a_planned_variant_s_settings_is_named_after_it() {
        let planned = ["000-bce46b3e".to_string(), "001-ae21c63a".to_string()];
        let cases = [
            (
                "001-bce46b3e",
                Some("000-bce46b3e"),
                "the grid's order changed",
            ),
            ("002-12345678", None, "settings no variant has"),
            ("odd", None, "a folder name without a hash"),
        ];
        for (id, want, why) in cases {
            assert_eq!(same_settings(id, &planned).as_deref(), want, "{why}");
        }
    }

    #[test]
    fn an_older_plan_without_a_key_reads_it_from_the_run() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir::at(tmp.path().join("000-a"));
        std::fs::create_dir_all(dir.config().parent().unwrap()).unwrap();
        std::fs::write(dir.config(), "[train]\nlr_d = 0.0002\nlr_g = 0.0003\n").unwrap();
        let keys = vec!["train.lr_d".to_string(), "train.lr_g".to_string()];
        let listed = |lr_g: Option<&str>| -> Vec<(String, String)> {
            let mut v = vec![("train.lr_d".to_string(), "0.5".to_string())];
            v.extend(lr_g.map(|x| ("train.lr_g".to_string(), x.to_string())));
            v
        };
        // (the plan's values, the run's folder, what the report shows, why)
        let never = RunDir::at(tmp.path().join("001-b"));
        let cases = [
            (
                listed(Some("0.1")),
                &dir,
                ["0.5", "0.1"],
                "the plan has both",
            ),
            (
                listed(None),
                &dir,
                ["0.5", "0.0003"],
                "an older plan: the run's own",
            ),
            (listed(None), &never, ["0.5", ""], "never started: unknown"),
        ];
        for (planned, run, want, why) in cases {
            assert_eq!(planned_grid_values(&planned, run, &keys), want, "{why}");
        }
    }
}
