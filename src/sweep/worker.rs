//! How a `--jobs N` sweep hands a variant to a worker process: the parent writes a
//! `WorkerSpec` as one JSON line to the worker's stdin (`anigan-runner worker`) and keeps that
//! pipe open while the worker runs. The worker watches it: the pipe's end means the parent is
//! gone (even killed by SIGKILL or the OOM killer), and the worker then stops as on SIGTERM,
//! after its epoch, with a checkpoint and status `interrupted`, so a rerun takes over cleanly.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::queue::Only;
use crate::stop;

/// What one worker trains, and where.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct WorkerSpec {
    /// The experiment file and its `--set` overrides (the environment is inherited).
    pub experiment: PathBuf,
    pub sets: Vec<String>,
    pub results: PathBuf,
    pub data_dir: PathBuf,
    /// The variant's id.
    pub variant: String,
    /// The device, as `--device` spells it (`cpu`, `cuda:1`).
    pub device: String,
    /// `--threads`, when given.
    pub threads: Option<u32>,
    /// The threads the parent leaves to this worker when neither `--threads` nor
    /// `train.threads` says.
    pub thread_budget: usize,
    /// `--only`: the states the sweep reruns (collapsed and pruned variants are otherwise done).
    #[serde(default)]
    pub only: Vec<Only>,
}

impl WorkerSpec {
    /// The line the parent writes to the worker's stdin.
    pub fn to_line(&self) -> String {
        let mut line = serde_json::to_string(self).expect("a worker spec serializes");
        line.push('\n');
        line
    }

    /// In the worker: reads the spec from stdin, then watches stdin on a thread of its own
    /// until it closes (`watch_parent`).
    pub fn receive() -> Result<WorkerSpec> {
        let mut stdin = BufReader::new(std::io::stdin());
        let mut line = String::new();
        stdin
            .read_line(&mut line)
            .context("cannot read the worker's spec from stdin")?;
        let spec = serde_json::from_str(&line).with_context(|| {
            "`anigan-runner worker` is started by `run --jobs N` with its spec on stdin; \
             run an experiment with `anigan-runner run EXPERIMENT.toml` instead"
        })?;
        std::thread::spawn(move || watch_parent(stdin));
        Ok(spec)
    }
}

/// Blocks until the parent's end of `stdin` closes, then asks for a graceful stop. stderr,
/// whose reader was the parent, goes to /dev/null first: the worker's remaining lines must not
/// kill it with SIGPIPE before its checkpoint.
fn watch_parent(mut stdin: impl Read) {
    let mut buf = [0u8; 64];
    while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        use std::os::fd::AsRawFd;
        // SAFETY: dup2 onto the process's own stderr descriptor; `null` stays open until then.
        unsafe { libc::dup2(null.as_raw_fd(), libc::STDERR_FILENO) };
    }
    stop::request();
}
