//! One variant's run directory, `RESULTS/EXPERIMENT/runs/<id>/`: its paths and its lock.

use std::fs::{self, File};
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};

use super::names;
use crate::fsx::Place;

/// Paths inside one run directory. Only `results` writes there (the recorder under the lock;
/// the report its progress.gif and best.png).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDir {
    pub root: PathBuf,
}

impl RunDir {
    /// The run directory at `root` (`RESULTS/EXPERIMENT/runs/<id>`, as a user names it).
    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn config(&self) -> PathBuf {
        self.root.join(names::CONFIG)
    }
    pub fn run_info(&self) -> PathBuf {
        self.root.join(names::RUN_INFO)
    }
    pub fn metrics(&self) -> PathBuf {
        self.root.join(names::METRICS)
    }
    pub fn events(&self) -> PathBuf {
        self.root.join(names::EVENTS)
    }
    pub fn status(&self) -> PathBuf {
        self.root.join(names::STATUS)
    }
    pub fn samples(&self) -> PathBuf {
        self.root.join(names::SAMPLES)
    }
    pub fn sample_grid(&self, epoch: u32) -> PathBuf {
        self.samples().join(names::sample_grid(epoch))
    }
    /// The last grid of the timeline rollback `rollback` (1 for the first) abandoned at `epoch`.
    pub fn rolled_back_grid(&self, rollback: u32, epoch: u32) -> PathBuf {
        self.samples()
            .join(names::ROLLED_BACK)
            .join(names::rolled_back_grid(rollback, epoch))
    }
    /// The report's copy of the best sample grid.
    pub fn best_samples(&self) -> PathBuf {
        self.samples().join(names::BEST_SAMPLES)
    }
    /// The report's animation of the sample grids.
    pub fn progress_gif(&self) -> PathBuf {
        self.root.join(names::PROGRESS_GIF)
    }
    /// The evaluation's reference figures (SWD floor, classifier accuracy) for this run's data.
    pub fn quality_reference(&self) -> PathBuf {
        self.root.join(names::QUALITY_REFERENCE)
    }
    /// A CGAN run's tag vocabulary (tags.txt form), for `sample --tags`.
    pub fn tags(&self) -> PathBuf {
        self.root.join(names::TAGS)
    }
    pub fn checkpoints(&self) -> PathBuf {
        self.root.join(names::CHECKPOINTS)
    }
    /// `[prune]`'s decisions, one file per rung the variant was judged at.
    pub fn rungs(&self) -> PathBuf {
        self.root.join(names::RUNGS)
    }
    pub fn rung_decision(&self, epoch: u32) -> PathBuf {
        self.rungs().join(names::rung_decision(epoch))
    }
    /// The variant's figure at the rung of `epoch` while it waits there to be judged.
    pub fn rung_waiting(&self, epoch: u32) -> PathBuf {
        self.rungs().join(names::rung_waiting(epoch))
    }
    /// The folder of the run's TensorBoard event files.
    pub fn tensorboard(&self) -> PathBuf {
        self.root.join(names::TENSORBOARD)
    }
    /// The run's id: the directory's name.
    pub fn id(&self) -> String {
        self.root
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    }
    /// experiment.json of the experiment this run belongs to (`../../`).
    pub fn manifest(&self) -> PathBuf {
        let experiment = self.root.parent().and_then(|runs| runs.parent());
        experiment
            .unwrap_or_else(|| std::path::Path::new(""))
            .join(names::MANIFEST)
    }

    /// Where training this run writes (see `commands::writable`): its folder and the
    /// subfolders it has, its lock, and the logs it appends to.
    pub fn training_places(&self) -> Vec<Place> {
        let mut places = vec![Place::folder(
            &self.root,
            "training writes the run's status, settings and logs",
        )];
        for (folder, what) in [
            (self.samples(), "training writes the run's sample grids"),
            (self.checkpoints(), "training writes the run's checkpoints"),
            (self.rungs(), "training writes the run's [prune] decisions"),
            (
                self.tensorboard(),
                "training writes the run's TensorBoard files",
            ),
        ] {
            if folder.is_dir() {
                places.push(Place::folder(folder, what));
            }
        }
        places.push(Place::file(
            self.lock_file(),
            "training takes the run's lock there",
        ));
        for log in [self.metrics(), self.events()] {
            places.push(Place::file(log, "training appends its rows to it"));
        }
        places
    }

    fn lock_file(&self) -> PathBuf {
        self.root.join(names::RUN_LOCK)
    }

    /// Creates the directory and takes its lock, so two runners never train one variant at once;
    /// the lock file then names the holder (`pid host`, for `status`). The lock is released when
    /// the returned file is dropped (or the process dies). `Ok(None)`: another process holds it.
    pub(super) fn create_and_lock(&self) -> Result<Option<File>> {
        fs::create_dir_all(self.samples())
            .and_then(|_| fs::create_dir_all(self.checkpoints()))
            .with_context(|| format!("cannot create {}", self.root.display()))?;
        let path = self.lock_file();
        // Not truncated before the lock is ours: the holder's name must survive a failed try.
        let mut file = crate::fsx::open_lock_file(&path)?;
        match file.try_lock() {
            Ok(()) => {
                let holder = format!("{} {}\n", std::process::id(), hostname());
                file.set_len(0)
                    .and_then(|_| file.write_all(holder.as_bytes()))
                    .with_context(|| format!("cannot write {}", path.display()))?;
                // What a killed run left half-written (a checkpoint's worth each time); only
                // this run's writer writes these folders, and the lock is ours now.
                for folder in [self.checkpoints(), self.samples()] {
                    crate::fsx::remove_stale_temps(&folder);
                }
                Ok(Some(file))
            }
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => {
                Err(e).with_context(|| format!("cannot lock {}", path.display()))
            }
        }
    }

    /// The process training this run now as `(pid, host)`, or None when nobody holds the lock.
    pub fn holder(&self) -> Option<(u32, String)> {
        let file = File::open(self.lock_file()).ok()?;
        match file.try_lock() {
            Err(fs::TryLockError::WouldBlock) => {}
            _ => return None,
        }
        let text = fs::read_to_string(self.lock_file()).unwrap_or_default();
        let mut words = text.split_whitespace();
        let pid = words.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        Some((pid, words.next().unwrap_or("?").to_string()))
    }
}

/// This machine's name (for `status` on a shared results directory).
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    if ok {
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        "?".to_string()
    }
}
