//! `run --jobs N`: worker processes that take variants from the queue in grid order. Each
//! worker is `anigan-runner worker` given its variant as a `WorkerSpec` on stdin (its own
//! libtorch RNG and thread pool, so exact resume holds); it trains under the run's lock and
//! exits with the usual codes. The parent prepares data once, shows progress, writes the
//! report after each variant, and on a stop request passes SIGTERM on to every worker and
//! starts no new one. Should the parent die, its workers see their stdin close and stop.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result};
use tch::{Cuda, Device};

use super::output::{self, Line};
use super::queue::{self, Next, Only};
use super::serial::{label, mark_failed};
use super::tally::Tally;
use super::worker::WorkerSpec;
use super::{budget, prepare};
use crate::config::{Experiment, Variant};
use crate::data::DataRoot;
use crate::exit::Exit;
use crate::progress::{self, Board, EpochBar};
use crate::results::{ExperimentDir, State, reader};
use crate::train::device::DeviceChoice;
use crate::{report, stop, train};

/// What the sweep was asked for, as its workers need it.
pub struct Options {
    pub experiment_file: PathBuf,
    pub sets: Vec<String>,
    pub results: PathBuf,
    pub data_dir: PathBuf,
    /// `--device` as given (`auto` on a GPU machine means every GPU).
    pub devices: Vec<DeviceChoice>,
    /// `--jobs`.
    pub jobs: usize,
    /// `--threads`, when given.
    pub threads: Option<u32>,
    /// `--only`: the states this rerun trains.
    pub only: Vec<Only>,
}

/// A worker process and what it trains.
struct Worker<'a> {
    child: Child,
    /// Kept open while the worker runs: its end tells the worker that the parent is gone.
    _spec_pipe: ChildStdin,
    variant: &'a Variant,
    label: String,
    bar: EpochBar,
}

/// A message from a worker's stderr reader: a line, or None at the end of its output.
type Message = (usize, Option<String>);

pub fn run(
    opts: &Options,
    experiment: &Experiment,
    selected: &[&Variant],
    devices: &[Device],
    cores: usize,
) -> Result<Tally> {
    let exp_dir = ExperimentDir::new(&opts.results, &experiment.name);
    let mut tally = Tally::default();
    let mut pending: VecDeque<&Variant> = VecDeque::new();
    let mut epochs_left = 0u64;
    for v in selected {
        match queue::next(&exp_dir.run(&v.id), v, &opts.only)? {
            Next::Train { epochs_done } => {
                pending.push_back(v);
                epochs_left += v.config.experiment.epochs.saturating_sub(epochs_done) as u64;
            }
            other => {
                eprintln!("{} {}", label(experiment, v), queue::describe(&other));
                tally.add_skipped(&other);
            }
        }
    }
    let devices = every_gpu(&opts.devices, devices);
    let slots = budget::slots(&devices, opts.jobs);
    let workers = slots.len().min(pending.len()).max(1);
    let threads = budget::share(cores, workers);
    eprintln!(
        "experiment {}: {} variant(s) to train by {workers} worker processes on {} ({} CPU threads each; {cores} cores available), results in {}",
        experiment.name,
        pending.len(),
        devices
            .iter()
            .map(|&d| train::device::describe(d))
            .collect::<Vec<_>>()
            .join(","),
        budget::threads(opts.threads, 0, threads),
        exp_dir.root().display()
    );
    if let Some(line) = crate::config::overrides_line(&experiment.overrides) {
        eprintln!("{line}");
    }
    if !pending.is_empty() {
        train::device::set_cpu_threads(cores);
        let pending: Vec<&Variant> = pending.iter().copied().collect();
        prepare::warm(
            &pending,
            selected,
            &DataRoot(opts.data_dir.clone()),
            slots[0],
        )?;
    }
    let board = progress::board(epochs_left, pending.len() as u64);
    let (tx, rx) = mpsc::channel::<Message>();
    let launch = Launch {
        opts,
        experiment,
        threads,
        tx,
    };
    let mut running: Vec<Option<Worker>> = (0..workers).map(|_| None).collect();
    let mut forwarded = false;
    loop {
        if stop::requested() && !forwarded {
            board.println(
                "stop requested: every worker finishes its epoch, writes a checkpoint and stops",
            );
            for w in running.iter().flatten() {
                // SAFETY: signalling our own child process by its pid.
                unsafe { libc::kill(w.child.id() as i32, libc::SIGTERM) };
            }
            forwarded = true;
        }
        for (slot, place) in running.iter_mut().enumerate() {
            if place.is_some() || stop::requested() {
                continue;
            }
            while let Some(v) = pending.pop_front() {
                match queue::next(&exp_dir.run(&v.id), v, &opts.only)? {
                    Next::Train { epochs_done } => {
                        let at = (slot, slots[slot], epochs_done);
                        *place = Some(launch.spawn(v, at, &board)?);
                        break;
                    }
                    other => {
                        board.println(&format!(
                            "{} {}",
                            label(experiment, v),
                            queue::describe(&other)
                        ));
                        tally.add_skipped(&other);
                        board.variant_done();
                    }
                }
            }
        }
        if running.iter().all(Option::is_none) {
            break;
        }
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok((slot, Some(line))) => {
                if let Some(w) = &running[slot] {
                    show(&board, w, &line);
                }
            }
            Ok((slot, None)) => {
                let mut w = running[slot].take().expect("a worker in this slot");
                let status = w.child.wait().context("cannot wait for a worker")?;
                w.bar.finish();
                settle(&w, status, &exp_dir, &board, &mut tally);
                board.variant_done();
                let more = running.iter().any(Option::is_some) || !pending.is_empty();
                if more && !stop::requested() {
                    board.suspend(|| report::write_or_warn(&exp_dir));
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => unreachable!("the parent holds a sender"),
        }
    }
    board.finish();
    tally.not_started += pending.len();
    tally.rolled_back = super::tally::count_rolled_back(&exp_dir, selected);
    report::write_final(&exp_dir);
    println!("{}", tally.line(&experiment.name));
    Ok(tally)
}

/// `--device auto` on a GPU machine means every visible GPU; named devices are taken as given.
fn every_gpu(choices: &[DeviceChoice], devices: &[Device]) -> Vec<Device> {
    if choices == [DeviceChoice::Auto] && devices[0].is_cuda() {
        (0..Cuda::device_count() as usize)
            .map(Device::Cuda)
            .collect()
    } else {
        devices.to_vec()
    }
}

/// What every worker's spec shares.
struct Launch<'a> {
    opts: &'a Options,
    experiment: &'a Experiment,
    /// The thread budget per worker.
    threads: usize,
    tx: mpsc::Sender<Message>,
}

impl Launch<'_> {
    /// Starts a worker for `variant` at `(slot, device, epochs done)`, hands it its spec, and
    /// reads its stderr line by line into the parent's channel.
    fn spawn<'v>(
        &self,
        variant: &'v Variant,
        (slot, device, epochs_done): (usize, Device, u32),
        board: &Board,
    ) -> Result<Worker<'v>> {
        let opts = self.opts;
        let spec = WorkerSpec {
            experiment: opts.experiment_file.clone(),
            sets: opts.sets.clone(),
            results: opts.results.clone(),
            data_dir: opts.data_dir.clone(),
            variant: variant.id.clone(),
            device: train::device::describe(device),
            threads: opts.threads,
            thread_budget: self.threads,
            only: opts.only.clone(),
        };
        let exe = std::env::current_exe().context("cannot find this program's executable")?;
        let mut child = Command::new(exe)
            .arg("worker")
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("cannot start a worker process")?;
        let mut spec_pipe = child.stdin.take().expect("stdin is piped");
        spec_pipe
            .write_all(spec.to_line().as_bytes())
            .context("cannot hand a worker its variant")?;
        let stderr = child.stderr.take().expect("stderr is piped");
        let tx = self.tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send((slot, Some(line))).is_err() {
                    return;
                }
            }
            let _ = tx.send((slot, None));
        });
        let label = label(self.experiment, variant);
        let planned = variant.config.experiment.epochs as u64;
        let bar = board.worker(&label, epochs_done as u64, planned);
        Ok(Worker {
            child,
            _spec_pipe: spec_pipe,
            variant,
            label,
            bar,
        })
    }
}

fn show(board: &Board, w: &Worker, line: &str) {
    match output::parse(&w.label, line) {
        Line::Epoch {
            epoch,
            total,
            summary,
        } => {
            w.bar.epoch(epoch, total, summary);
            board.epoch_done();
        }
        Line::Other(rest) => board.println(&format!("{} {rest}", w.label)),
    }
}

/// Counts how a worker ended; a worker that died without saying why gets its variant marked
/// failed (unless a stop was asked for: then it was interrupted).
fn settle(
    w: &Worker,
    status: ExitStatus,
    exp_dir: &ExperimentDir,
    board: &Board,
    tally: &mut Tally,
) {
    let dir = exp_dir.run(&w.variant.id);
    let state = reader::read_status(&dir).ok().flatten().map(|s| s.state);
    match status.code() {
        Some(0) if state == Some(State::Finished) => tally.finished += 1,
        Some(0) if state == Some(State::Pruned) => tally.pruned += 1,
        Some(0) => tally.skipped += 1,
        Some(c) if c == Exit::Collapsed as i32 && state == Some(State::Stalled) => {
            tally.stalled += 1
        }
        Some(c) if c == Exit::Collapsed as i32 => tally.collapsed += 1,
        Some(c) if c == Exit::Interrupted as i32 => tally.interrupted += 1,
        _ if stop::requested() => tally.interrupted += 1,
        _ => {
            tally.failed += 1;
            if state != Some(State::Failed) {
                let reason = match status.signal() {
                    Some(sig) => format!("the worker process was killed by signal {sig}"),
                    None => format!("the worker process ended with {status}"),
                };
                board.println(&format!("{} failed: {reason}", w.label));
                mark_failed(&dir, w.variant, &reason);
            }
        }
    }
}
