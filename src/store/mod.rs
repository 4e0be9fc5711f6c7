//! A variant's run directory, `results/<experiment>/runs/<id>/`, and everything written in it.

pub mod checkpoints;
pub mod csv_log;
pub mod metrics;
pub mod status;

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

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

    fn lock_file(&self) -> PathBuf {
        self.root.join(".lock")
    }

    /// Creates the directory and takes its lock, so two runners never train one variant at once;
    /// the lock file then names the holder (`pid host`, for `status`). The lock is released when
    /// the returned file is dropped (or the process dies). `Ok(None)`: another process holds it.
    pub fn create_and_lock(&self) -> Result<Option<File>> {
        fs::create_dir_all(self.samples())
            .and_then(|_| fs::create_dir_all(self.checkpoints()))
            .with_context(|| format!("cannot create {}", self.root.display()))?;
        let path = self.lock_file();
        // Not truncated before the lock is ours: the holder's name must survive a failed try.
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {
                let holder = format!("{} {}\n", std::process::id(), hostname());
                file.set_len(0)
                    .and_then(|_| file.write_all(holder.as_bytes()))
                    .with_context(|| format!("cannot write {}", path.display()))?;
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
