//! An experiment's results directory, `RESULTS/EXPERIMENT/`: its runs, its manifest
//! (experiment.json), its Slurm folder, its report files and the report's lock.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::manifest::Manifest;
use super::names;
use super::run_dir::RunDir;
use crate::fsx::{self, Place};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExperimentDir {
    root: PathBuf,
}

impl ExperimentDir {
    /// `results/<name>`: where `run` writes the experiment called `name`.
    pub fn new(results: &Path, name: &str) -> Self {
        Self::at(results.join(name))
    }

    /// The experiment directory at `root`, as a user names it (`results/smoke`).
    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The run directory of variant `id`.
    pub fn run(&self, id: &str) -> RunDir {
        RunDir::at(self.root.join(names::RUNS).join(id))
    }

    /// Whether this looks like an experiment's results directory: a manifest or a runs/ folder.
    pub fn exists(&self) -> bool {
        self.root.join(names::MANIFEST).is_file() || self.root.join(names::RUNS).is_dir()
    }

    /// The ids of every run directory under runs/, sorted.
    pub fn run_ids(&self) -> Result<Vec<String>> {
        let runs = self.root.join(names::RUNS);
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

    /// experiment.json, or None when the experiment was never planned here (or by an older
    /// release that wrote no manifest). Errors: unreadable, not a manifest, or written by a
    /// newer release (see `names::FORMAT_VERSION`).
    pub fn read_manifest(&self) -> Result<Option<Manifest>> {
        Manifest::read(&self.root.join(names::MANIFEST))
    }

    pub fn write_manifest(&self, manifest: &Manifest) -> Result<()> {
        fsx::write_atomic(&self.root.join(names::MANIFEST), &manifest.to_json())
    }

    /// The folder of the Slurm batch script, variant lists, submission records and task logs.
    pub fn slurm(&self) -> PathBuf {
        self.root.join(names::SLURM)
    }

    /// Writes one report file (`rel` relative to this directory: summary.csv, charts/x.png,
    /// runs/<id>/progress.gif) atomically.
    pub fn write_report_file(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        fsx::write_atomic(&self.root.join(rel), bytes)
    }

    /// Takes the report's lock, `.report.lock`, held until the returned file drops: one
    /// report writer at a time (workers of a sweep, a second `run`, `report`), so no report
    /// mixes two readings of the results. None when the directory does not exist.
    pub fn lock_report(&self) -> Result<Option<File>> {
        if !self.root.is_dir() {
            return Ok(None);
        }
        let path = self.root.join(names::REPORT_LOCK);
        let file = fsx::open_lock_file(&path)?;
        file.lock()
            .with_context(|| format!("cannot lock {}", path.display()))?;
        Ok(Some(file))
    }

    /// Where the report written into this folder writes (see `commands::writable`): the
    /// folder itself, charts/, its lock, and each run's progress.gif and best.png.
    pub fn report_places(&self) -> Result<Vec<Place>> {
        let mut places = vec![
            Place::folder(
                &self.root,
                "the report writes report.html, report.md and summary.csv",
            ),
            Place::folder(
                self.root.join(names::CHARTS),
                "the report writes its charts",
            ),
            Place::file(
                self.root.join(names::REPORT_LOCK),
                "the report takes its lock there (one writer at a time)",
            ),
        ];
        for id in self.run_ids()? {
            let run = self.run(&id);
            if run.samples().is_dir() {
                places.push(Place::folder(
                    &run.root,
                    "the report writes the run's progress.gif",
                ));
                places.push(Place::folder(
                    run.samples(),
                    "the report writes the run's best.png",
                ));
            }
        }
        Ok(places)
    }

    /// The experiment's name: the directory's.
    pub fn name(&self) -> String {
        self.root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}
