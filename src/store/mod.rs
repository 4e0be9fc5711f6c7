//! A variant's run directory, `results/<experiment>/runs/<id>/`, and everything written in it.

pub mod checkpoints;
pub mod csv_log;
pub mod metrics;
pub mod status;

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Paths inside one run directory.
#[derive(Debug, Clone)]
pub struct RunDir {
    pub root: PathBuf,
}

impl RunDir {
    pub fn new(experiment_dir: &Path, variant_id: &str) -> Self {
        Self {
            root: experiment_dir.join("runs").join(variant_id),
        }
    }
    pub fn config(&self) -> PathBuf {
        self.root.join("config.toml")
    }
    pub fn metrics(&self) -> PathBuf {
        self.root.join("metrics.csv")
    }
    pub fn events(&self) -> PathBuf {
        self.root.join("events.csv")
    }
    pub fn status(&self) -> PathBuf {
        self.root.join("status.json")
    }
    pub fn samples(&self) -> PathBuf {
        self.root.join("samples")
    }
    pub fn sample_grid(&self, epoch: u32) -> PathBuf {
        self.samples().join(format!("epoch-{epoch:04}.png"))
    }
    /// The evaluation's reference figures (SWD floor, classifier accuracy) for this run's data.
    pub fn quality_reference(&self) -> PathBuf {
        self.root.join("quality-reference.json")
    }
    /// A CGAN run's tag vocabulary (tags.txt form), for `sample --tags`.
    pub fn tags(&self) -> PathBuf {
        self.root.join("tags.txt")
    }
    pub fn checkpoints(&self) -> PathBuf {
        self.root.join("checkpoints")
    }

    /// Creates the directory and takes its lock, so two runners never train one variant at once.
    /// The lock is released when the returned file is dropped (or the process dies).
    pub fn create_and_lock(&self) -> Result<File> {
        fs::create_dir_all(self.samples())
            .and_then(|_| fs::create_dir_all(self.checkpoints()))
            .with_context(|| format!("cannot create {}", self.root.display()))?;
        let path = self.root.join(".lock");
        let file =
            File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(fs::TryLockError::WouldBlock) => bail!(
                "{} is being trained by another anigan-runner process; wait for it or stop it",
                self.root.display()
            ),
            Err(fs::TryLockError::Error(e)) => {
                Err(e).with_context(|| format!("cannot lock {}", path.display()))
            }
        }
    }
}
