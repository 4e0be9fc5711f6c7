//! The only writer of a run directory: opened under the run's lock, it writes the resolved
//! settings, the vocabulary and quality reference, metric and event rows, the status, sample
//! grids and checkpoints (saved, pruned, cut back on resume and rollback), and, unless
//! `[tensorboard] enabled = false`, the same run as TensorBoard event files (`board`). The
//! training loop holds a `Recorder` instead of paths.

use std::collections::HashMap;
use std::fs::File;
use std::sync::{Mutex, MutexGuard, PoisonError};

use anyhow::{Context, Result};
use image::RgbImage;
use tch::Tensor;

use super::board::{self, Board};
use super::checkpoints::{self, CheckpointMeta, Saved};
use super::csv_log;
use super::events::EventRow;
use super::images;
use super::manifest::Manifest;
use super::metrics::{self, MetricsRow};
use super::quality_reference::QualityReference;
use super::run_dir::RunDir;
use super::run_info::RunInfo;
use super::rungs::{self, RungArrival, RungRecord};
use super::status::{State, Status};
use super::surviving;
use crate::config::Config;
use crate::data::Vocabulary;
use crate::{checkpoint, fsx};

pub struct Recorder {
    dir: RunDir,
    /// The run's lock, released when the recorder drops (or the process dies).
    _lock: File,
    /// The TensorBoard output (a lock because the recorder is shared as `&Recorder`).
    tensorboard: Mutex<Tensorboard>,
}

/// What the event files need to know before training starts, and the files once it has.
#[derive(Default)]
struct Tensorboard {
    /// `tensorboard.enabled` of the settings `write_config` wrote (off until then).
    enabled: bool,
    /// The settings' model is the CGAN (its runs have `tag_acc`).
    cgan: bool,
    /// What `write_quality_reference` wrote: the HParams table shows quality figures.
    quality: Option<QualityReference>,
    /// Open from the `cut_back` that places training on its timeline.
    board: Option<Board>,
}

impl Recorder {
    /// Creates the run directory and takes its lock. None: another process holds it (it is
    /// training this variant now).
    pub fn open(dir: RunDir) -> Result<Option<Recorder>> {
        Ok(dir.create_and_lock()?.map(|lock| Recorder {
            dir,
            _lock: lock,
            tensorboard: Mutex::new(Tensorboard::default()),
        }))
    }

    fn tensorboard(&self) -> MutexGuard<'_, Tensorboard> {
        self.tensorboard
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the open event files, if any.
    fn board(&self, f: impl FnOnce(&mut Board) -> Result<()>) -> Result<()> {
        match self.tensorboard().board.as_mut() {
            Some(board) => f(board),
            None => Ok(()),
        }
    }

    /// The run directory, for messages that name its files.
    pub fn dir(&self) -> &RunDir {
        &self.dir
    }

    /// config.toml: the variant's resolved settings (what `sample` rebuilds the nets from).
    /// Call it before `cut_back`: its `[tensorboard]` section decides whether training writes
    /// event files.
    pub fn write_config(&self, config: &Config) -> Result<()> {
        let text = toml::to_string(config).context("config serializes to TOML")?;
        fsx::write_atomic(&self.dir.config(), text.as_bytes())?;
        let mut tb = self.tensorboard();
        tb.enabled = config.tensorboard.enabled;
        tb.cgan = config.model.arch == crate::config::Arch::Cgan;
        Ok(())
    }

    /// run.json: the experiment file, index, grid values and overrides of this start.
    pub fn write_run_info(&self, info: &RunInfo) -> Result<()> {
        info.write(&self.dir.run_info())
    }

    /// tags.txt: the vocabulary a CGAN run was trained with, for `sample --tags`.
    pub fn write_vocabulary(&self, vocab: &Vocabulary) -> Result<()> {
        fsx::write_atomic(
            &self.dir.tags(),
            format!("{}\n", vocab.to_text()).as_bytes(),
        )
    }

    /// quality-reference.json: what this run's quality columns are read against.
    pub fn write_quality_reference(&self, reference: &QualityReference) -> Result<()> {
        let json = serde_json::to_string_pretty(reference).expect("reference serializes");
        fsx::write_atomic(
            &self.dir.quality_reference(),
            format!("{json}\n").as_bytes(),
        )?;
        self.tensorboard().quality = Some(reference.clone());
        Ok(())
    }

    /// status.json, checked against metrics.csv (`Status::against_rows`).
    pub fn status(&self) -> Result<Option<Status>> {
        let rows = self.all_metrics()?;
        Ok(Status::read(&self.dir.status())?.map(|s| s.against_rows(rows.last())))
    }

    /// status.json as the last process wrote it, not checked against metrics.csv: where a
    /// killed run stood.
    pub fn status_as_written(&self) -> Result<Option<Status>> {
        Status::read(&self.dir.status())
    }

    /// status.json; each epoch ends with one (running), and a stop with its final state.
    pub fn write_status(&self, status: &Status) -> Result<()> {
        status.write(&self.dir.status())?;
        self.board(|b| b.status(status.state))
    }

    /// Records a failure in status.json (keeping how far the run got), so a report can say
    /// which variant failed and why.
    pub fn mark_failed(&self, planned: u32, reason: &str) -> Result<()> {
        let previous = self.status().ok().flatten();
        Status {
            state: State::Failed,
            epochs_done: previous.as_ref().map_or(0, |s| s.epochs_done),
            epochs_planned: planned,
            steps_done: previous.as_ref().map_or(0, |s| s.steps_done),
            attempt: previous.as_ref().map_or(0, |s| s.attempt),
            last_checkpoint: previous.as_ref().and_then(|s| s.last_checkpoint),
            reason: Some(reason.to_string()),
            continued_after: previous.and_then(|s| s.continued_after),
        }
        .write(&self.dir.status())
    }

    /// Appends one epoch's row to metrics.csv (flushed to disk).
    pub fn append_metrics(&self, row: &MetricsRow) -> Result<()> {
        metrics::append(&self.dir.metrics(), row)?;
        self.board(|b| b.metrics(row))
    }

    /// Appends one verdict's row to events.csv (flushed to disk).
    pub fn append_event(&self, row: &EventRow) -> Result<()> {
        csv_log::append(&self.dir.events(), row)?;
        self.board(|b| {
            b.event(row);
            Ok(())
        })
    }

    /// Every row of events.csv so far.
    pub fn events(&self) -> Result<Vec<EventRow>> {
        csv_log::read(&self.dir.events())
    }

    /// Appends `row` to events.csv unless the same row is there (a step repeated after a
    /// crash records its row once).
    pub fn append_event_once(&self, row: &EventRow) -> Result<()> {
        if self.events()?.contains(row) {
            return Ok(());
        }
        self.append_event(row)
    }

    /// Every row of metrics.csv, those of attempts a rollback abandoned included.
    pub fn all_metrics(&self) -> Result<Vec<MetricsRow>> {
        metrics::read(&self.dir.metrics())
    }

    /// The metric rows of the current timeline: every row a rollback did not abandon.
    pub fn timeline(&self) -> Result<Vec<MetricsRow>> {
        let rows = metrics::read(&self.dir.metrics())?;
        let abandoned = surviving::abandoned(&rows, &self.events()?);
        Ok(surviving::kept(&rows, &abandoned).cloned().collect())
    }

    /// `[prune]`'s decisions of this run so far, by rung epoch.
    pub fn rung_decisions(&self) -> Result<Vec<RungRecord>> {
        rungs::read_all(&self.dir)
    }

    /// Records `record` as the decision at its rung, once: when a decision is on disk already
    /// (a crash came after it), that one stands and is returned.
    pub fn decide_rung(&self, record: &RungRecord) -> Result<RungRecord> {
        rungs::write_once(&self.dir, record)
    }

    /// Records the figure this run brought to a rung where it waits to be judged, once (the one
    /// on disk stands); peers are ranked against it as against a decision.
    pub fn wait_at_rung(&self, arrival: &RungArrival) -> Result<()> {
        rungs::write_arrival(&self.dir, arrival)
    }

    /// The figure this run waits with at the rung of `epoch`, if it paused there.
    pub fn rung_arrival(&self, epoch: u32) -> Result<Option<RungArrival>> {
        rungs::read_arrival(&self.dir, epoch)
    }

    /// samples/epoch-NNNN.png.
    pub fn write_sample_grid(&self, epoch: u32, grid: &RgbImage) -> Result<()> {
        let png = images::encode_png(grid);
        fsx::write_atomic(&self.dir.sample_grid(epoch), &png)?;
        self.board(|b| b.image(epoch, &png))
    }

    /// Complete checkpoints, oldest first by step.
    pub fn checkpoints(&self) -> Result<Vec<Saved>> {
        checkpoints::list(&self.dir.checkpoints())
    }

    /// A checkpoint's tensors (on the CPU) by name, checked against its sidecar's checksum.
    pub fn load_checkpoint(&self, saved: &Saved) -> Result<HashMap<String, Tensor>> {
        Ok(checkpoint::load(&saved.path)?.0)
    }

    /// Saves `tensors` as the checkpoint of `meta.epoch`, then deletes the checkpoints
    /// `checkpoints::to_prune` gives up (keeping `keep` newest and restore points). The event
    /// files are synced first, so a resume from it finds every epoch up to it there.
    pub fn save_checkpoint(
        &self,
        meta: &CheckpointMeta,
        tensors: &[(String, Tensor)],
        keep: usize,
    ) -> Result<()> {
        self.board(Board::sync)?;
        let dir = self.dir.checkpoints();
        checkpoint::save(&checkpoints::path_for(&dir, meta.epoch), tensors, meta)?;
        let saved = self.checkpoints()?;
        let metas: Vec<CheckpointMeta> = saved.iter().map(|s| s.meta.clone()).collect();
        for epoch in checkpoints::to_prune(&metas, keep) {
            if let Some(s) = saved.iter().find(|s| s.meta.epoch == epoch) {
                checkpoints::remove(&s.path)?;
            }
        }
        Ok(())
    }

    /// Rollback `rollback` (1 for the run's first) restored the checkpoint of `epoch`: deletes
    /// the later checkpoints and sample grids (they belong to the abandoned timeline) but the
    /// last grid, kept as `samples/rolled-back/rollback-K-epoch-NNNN.png`, and cuts the event
    /// files back to `epoch`.
    pub fn roll_back_to(&self, epoch: u32, rollback: u32) -> Result<()> {
        for s in self.checkpoints()?.iter().filter(|s| s.meta.epoch > epoch) {
            checkpoints::remove(&s.path)?;
        }
        images::keep_last_grid_after(&self.dir.samples(), epoch, |last| {
            self.dir.rolled_back_grid(rollback, last)
        })?;
        images::remove_grids_after(&self.dir.samples(), epoch)?;
        self.board(|b| b.rollback(epoch))
    }

    /// Training starts (step and epoch 0) or resumes from the checkpoint of `step`, `epoch`:
    /// cuts metrics.csv and events.csv back to that step (what came after is replayed; 0
    /// empties both) and returns the metric rows kept; deletes the sample grids after `epoch`
    /// (an epoch killed after its grid, an abandoned attempt's); opens the event files at
    /// `epoch` (cutting them back likewise) when `write_config` turned them on.
    pub fn cut_back(&self, step: u64, epoch: u32) -> Result<Vec<MetricsRow>> {
        let rows = metrics::retain(&self.dir.metrics(), |r| r.step <= step)?;
        let events = csv_log::retain(&self.dir.events(), |r: &EventRow| r.step <= step)?;
        images::remove_grids_after(&self.dir.samples(), epoch)?;
        let rollbacks = events.iter().filter(|e| e.is_rollback()).count();
        images::remove_rolled_back_after(&self.dir.samples(), rollbacks as u32)?;
        let mut tb = self.tensorboard();
        tb.board = None;
        if tb.enabled {
            // Read once per start: the sweep's layout for the HParams dashboard.
            let manifest = Manifest::read(&self.dir.manifest()).ok().flatten();
            let session = board::session(
                manifest.as_ref(),
                &self.dir.id(),
                tb.quality.as_ref(),
                tb.cgan,
            );
            tb.board = Some(Board::open(
                &self.dir.tensorboard(),
                epoch,
                &session,
                &rows,
                &events,
                &self.dir.samples(),
            )?);
        }
        Ok(rows)
    }
}

impl Drop for Recorder {
    /// A run dropped while training (an error) ends its HParams session as failed; the lock is
    /// still held here (fields drop after this).
    fn drop(&mut self) {
        if let Some(board) = self.tensorboard().board.as_mut()
            && let Err(e) = board.drop_unclosed()
        {
            eprintln!(
                "warning: cannot end the TensorBoard session in {}: {e:#}",
                self.dir.tensorboard().display()
            );
        }
    }
}

/// Marks the variant of `dir` failed with `reason`, taking the run's lock for it (a failed
/// variant may have stopped before it took the lock, or a dead worker released it). Does
/// nothing when another process holds the lock: it is training the variant again.
pub fn mark_failed(dir: &RunDir, planned: u32, reason: &str) -> Result<()> {
    match Recorder::open(dir.clone())? {
        Some(recorder) => recorder.mark_failed(planned, reason),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grids(dir: &RunDir) -> Vec<u32> {
        images::grid_epochs(&dir.samples()).unwrap()
    }

    #[test]
    fn a_rollback_and_a_resume_delete_the_grids_after_their_epoch() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir::at(tmp.path().join("run"));
        let recorder = Recorder::open(dir.clone()).unwrap().unwrap();
        let grid = RgbImage::new(4, 4);
        for epoch in 1..=12 {
            recorder.write_sample_grid(epoch, &grid).unwrap();
        }
        recorder.roll_back_to(8, 1).unwrap();
        assert_eq!(grids(&dir), (1..=8).collect::<Vec<_>>(), "rolled back to 8");
        let kept = dir.rolled_back_grid(1, 12);
        assert!(kept.is_file(), "the abandoned timeline's last grid is kept");
        recorder.write_sample_grid(9, &grid).unwrap(); // the new attempt's epoch 9
        recorder.cut_back(6, 6).unwrap();
        assert_eq!(grids(&dir), (1..=6).collect::<Vec<_>>(), "resumed at 6");
        assert!(
            !kept.exists(),
            "no events row left for rollback 1: its grid goes too"
        );
        recorder.cut_back(0, 0).unwrap();
        assert!(grids(&dir).is_empty(), "started afresh");
    }
}
