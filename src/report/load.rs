//! Reads an experiment's results directory into a `Results` model: the plan (experiment.json,
//! or the run directories when it is missing) and, per variant, its status, metrics, events
//! and sample grids. Reading only: nothing here writes.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

use super::manifest::{self, Manifest};
use super::segments;
use crate::eval::QualityReference;
use crate::health::EventRow;
use crate::store::RunDir;
use crate::store::status::{State, Status};
use crate::store::{csv_log, metrics};

/// One metrics.csv row, read by column name. The quality columns are optional: runs without
/// evaluation have no such column or leave it empty on epochs without evaluation.
#[derive(Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Row {
    pub step: u64,
    pub epoch: u32,
    pub attempt: u32,
    pub d_loss: f64,
    pub g_loss: f64,
    pub d_acc_real: f64,
    pub d_acc_fake: f64,
    pub g_acc: f64,
    pub d_updates: u32,
    pub g_updates: u32,
    pub seconds: f64,
    pub images_per_sec: f64,
    #[serde(default)]
    pub eval_seconds: Option<f64>,
    #[serde(default)]
    pub swd: Option<f64>,
    #[serde(default)]
    pub diversity: Option<f64>,
    #[serde(default)]
    pub tag_acc: Option<f64>,
    #[serde(default)]
    pub tag_fd: Option<f64>,
    #[serde(default)]
    pub tag_kl: Option<f64>,
    /// The per-group accuracy columns `tag_acc_<group>` (see `store::metrics`), in file order.
    #[serde(skip)]
    pub tag_acc_groups: csv_log::Extra,
    /// `[augment]`'s probability and the controller's r_t (empty without augmentation).
    #[serde(default)]
    pub augment_p: Option<f64>,
    #[serde(default)]
    pub r_t: Option<f64>,
}

/// Where a variant stands, as the report tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    NotStarted,
    /// status.json says running and another process holds the run's lock.
    Running,
    /// status.json says running but nobody holds the lock: killed; rerun to resume.
    Interrupted,
    Finished,
    Collapsed,
    Stalled,
    Failed,
}

impl RunState {
    pub fn word(self) -> &'static str {
        match self {
            RunState::NotStarted => "not started",
            RunState::Running => "running",
            RunState::Interrupted => "interrupted",
            RunState::Finished => "finished",
            RunState::Collapsed => "collapsed",
            RunState::Stalled => "stalled",
            RunState::Failed => "failed",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Run {
    pub index: usize,
    pub id: String,
    /// Grid values in the order of `Results::grid_keys` (empty strings when unknown).
    pub grid: Vec<String>,
    pub state: RunState,
    pub status: Option<Status>,
    pub rows: Vec<Row>,
    /// Parallel to `rows`: rolled back later (see `segments::abandoned`).
    pub abandoned: Vec<bool>,
    pub events: Vec<EventRow>,
    /// Epochs with a sample grid `samples/epoch-NNNN.png`, ascending.
    pub sample_epochs: Vec<u32>,
    /// The run's quality-reference.json (SWD floor and its spread), when it evaluates.
    pub reference: Option<QualityReference>,
    pub dir: RunDir,
}

impl Run {
    /// Rows of the timeline that survived every rollback.
    pub fn kept(&self) -> impl Iterator<Item = &Row> {
        self.rows
            .iter()
            .zip(&self.abandoned)
            .filter(|(_, a)| !**a)
            .map(|(r, _)| r)
    }
}

#[derive(Clone, Debug)]
pub struct Results {
    pub dir: PathBuf,
    pub name: String,
    pub description: String,
    /// The experiment file, when experiment.json says.
    pub source: Option<String>,
    pub grid_keys: Vec<String>,
    pub runs: Vec<Run>,
    /// false: experiment.json was missing and the runs were read off the run directories.
    pub planned: bool,
}

pub fn load(exp_dir: &Path) -> Result<Results> {
    let manifest = Manifest::read(&exp_dir.join(manifest::FILE))?;
    let on_disk = run_dirs(exp_dir)?;
    if manifest.is_none() && on_disk.is_empty() {
        anyhow::bail!(
            "{} holds no experiment.json and no runs/: not an experiment's results directory \
             (pass RESULTS/EXPERIMENT, e.g. results/smoke)",
            exp_dir.display()
        );
    }
    let name = exp_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut results = Results {
        dir: exp_dir.to_path_buf(),
        name,
        description: String::new(),
        source: None,
        grid_keys: Vec::new(),
        runs: Vec::new(),
        planned: manifest.is_some(),
    };
    let mut planned_ids = Vec::new();
    if let Some(m) = manifest {
        results.name = m.name;
        results.description = m.description;
        results.source = Some(m.source);
        results.grid_keys = m.grid_keys;
        for v in m.variants {
            let grid = results
                .grid_keys
                .iter()
                .map(|k| {
                    v.grid
                        .iter()
                        .find(|(key, _)| key == k)
                        .map_or(String::new(), |(_, val)| val.clone())
                })
                .collect();
            planned_ids.push(v.id.clone());
            results.runs.push(load_run(exp_dir, v.index, &v.id, grid)?);
        }
    }
    // Runs of settings no longer planned (or all of them, without a manifest).
    for id in on_disk.iter().filter(|id| !planned_ids.contains(id)) {
        let index = id
            .split('-')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(usize::MAX);
        let grid = vec![String::new(); results.grid_keys.len()];
        results.runs.push(load_run(exp_dir, index, id, grid)?);
    }
    Ok(results)
}

fn run_dirs(exp_dir: &Path) -> Result<Vec<String>> {
    let runs = exp_dir.join("runs");
    let Ok(entries) = std::fs::read_dir(&runs) else {
        return Ok(Vec::new());
    };
    let mut ids = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", runs.display()))?;
        if entry.path().is_dir() {
            ids.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    ids.sort();
    Ok(ids)
}

fn load_run(exp_dir: &Path, index: usize, id: &str, grid: Vec<String>) -> Result<Run> {
    let dir = RunDir::new(exp_dir, id);
    let status = Status::read(&dir.status())?;
    let rows: Vec<Row> = csv_log::read_with(&dir.metrics(), metrics::is_group_column)?
        .into_iter()
        .map(|(mut row, groups): (Row, _)| {
            row.tag_acc_groups = groups;
            row
        })
        .collect();
    // Unreadable or absent: the report shows no floor rather than failing.
    let reference = std::fs::read_to_string(dir.quality_reference())
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok());
    let events: Vec<EventRow> = csv_log::read(&dir.events())?;
    let state = match status.as_ref().map(|s| s.state) {
        None if rows.is_empty() => RunState::NotStarted,
        None | Some(State::Running | State::Interrupted) if dir.holder().is_some() => {
            RunState::Running
        }
        None | Some(State::Running | State::Interrupted) => RunState::Interrupted,
        Some(State::Finished) => RunState::Finished,
        Some(State::Collapsed) => RunState::Collapsed,
        Some(State::Stalled) => RunState::Stalled,
        Some(State::Failed) => RunState::Failed,
    };
    Ok(Run {
        index,
        id: id.to_string(),
        grid,
        state,
        status,
        abandoned: segments::abandoned(&rows, &events),
        rows,
        events,
        sample_epochs: sample_epochs(&dir.samples()),
        reference,
        dir,
    })
}

fn sample_epochs(samples: &Path) -> Vec<u32> {
    let mut epochs: Vec<u32> = std::fs::read_dir(samples)
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let name = e.ok()?.file_name().to_string_lossy().into_owned();
            name.strip_prefix("epoch-")?
                .strip_suffix(".png")?
                .parse()
                .ok()
        })
        .collect();
    epochs.sort_unstable();
    epochs
}
