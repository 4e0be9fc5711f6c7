//! `run --jobs N`: worker processes that take variants from the queue in grid order. Each
//! worker is `anigan-runner run EXP --variant ID --worker` (its own libtorch RNG and thread
//! pool, so exact resume holds), trains under the run's lock, and exits with the usual codes.
//! The parent prepares data once, shows progress, writes the report after each variant, and
//! on a stop request passes SIGTERM on to every worker and starts no new one.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result};
use tch::{Cuda, Device};

use super::output::{self, Line};
use super::queue::{self, Next};
use super::serial::{label, mark_failed};
use super::tally::Tally;
use super::{budget, prepare};
use crate::cli::{DeviceChoice, RunArgs};
use crate::commands::report_or_warn;
use crate::config::{Experiment, Variant};
use crate::data::DataRoot;
use crate::exit::Exit;
use crate::progress::{self, Board, EpochBar};
use crate::store::RunDir;
use crate::store::status::{State, Status};
use crate::{stop, train};

/// A worker process and what it trains.
struct Worker<'a> {
    child: Child,
    variant: &'a Variant,
    label: String,
    bar: EpochBar,
}

/// A message from a worker's stderr reader: a line, or None at the end of its output.
type Message = (usize, Option<String>);

pub fn run(
    args: &RunArgs,
    experiment: &Experiment,
    selected: &[&Variant],
    devices: &[Device],
    cores: usize,
) -> Result<Tally> {
    let exp_dir = args.results.join(&experiment.name);
    let mut tally = Tally::default();
    let mut pending: VecDeque<&Variant> = VecDeque::new();
    for v in selected {
        match queue::next(&RunDir::new(&exp_dir, &v.id), v)? {
            Next::Train => pending.push_back(v),
            other => {
                eprintln!("{} {}", label(experiment, v), queue::describe(&other));
                tally.skipped += 1;
            }
        }
    }
    let devices = every_gpu(&args.device, devices);
    let slots = budget::slots(&devices, args.jobs as usize);
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
        budget::threads(args.threads, 0, threads),
        exp_dir.display()
    );
    if !pending.is_empty() {
        train::device::set_cpu_threads(cores);
        let pending: Vec<&Variant> = pending.iter().copied().collect();
        prepare::warm(
            &pending,
            selected,
            &DataRoot(args.data_dir.clone()),
            slots[0],
        )?;
    }
    let epochs_left: u64 = pending.iter().map(|v| epochs_left(&exp_dir, v)).sum();
    let board = progress::board(epochs_left, pending.len() as u64);
    let (tx, rx) = mpsc::channel::<Message>();
    let launch = Launch {
        args,
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
                let dir = RunDir::new(&exp_dir, &v.id);
                match queue::next(&dir, v)? {
                    Next::Train => {
                        *place = Some(launch.spawn(v, slot, slots[slot], &board)?);
                        break;
                    }
                    other => {
                        board.println(&format!(
                            "{} {}",
                            label(experiment, v),
                            queue::describe(&other)
                        ));
                        tally.skipped += 1;
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
                    board.suspend(|| report_or_warn(&exp_dir));
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => unreachable!("the parent holds a sender"),
        }
    }
    board.finish();
    tally.not_started += pending.len();
    report_or_warn(&exp_dir);
    eprintln!("{}", tally.line(&experiment.name));
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

fn epochs_left(exp_dir: &std::path::Path, v: &Variant) -> u64 {
    let done = Status::read(&RunDir::new(exp_dir, &v.id).status())
        .ok()
        .flatten()
        .map_or(0, |s| s.epochs_done);
    v.config.experiment.epochs.saturating_sub(done) as u64
}

/// What every worker's command line shares.
struct Launch<'a> {
    args: &'a RunArgs,
    experiment: &'a Experiment,
    /// The thread budget per worker.
    threads: usize,
    tx: mpsc::Sender<Message>,
}

impl Launch<'_> {
    /// Starts a worker for `variant` in `slot` on `device`, its stderr read line by line into
    /// the parent's channel.
    fn spawn<'v>(
        &self,
        variant: &'v Variant,
        slot: usize,
        device: Device,
        board: &Board,
    ) -> Result<Worker<'v>> {
        let (args, experiment, threads) = (self.args, self.experiment, self.threads);
        let exe = std::env::current_exe().context("cannot find this program's executable")?;
        let mut cmd = Command::new(exe);
        cmd.arg("run")
            .arg(&args.experiment)
            .args(["--variant", &variant.id, "--worker"])
            .arg("--results")
            .arg(&args.results)
            .arg("--data-dir")
            .arg(&args.data_dir)
            .args(["--device", &train::device::describe(device)])
            .args(["--thread-budget", &threads.to_string()]);
        if let Some(n) = args.threads {
            cmd.args(["--threads", &n.to_string()]);
        }
        for set in &args.sets {
            cmd.args(["--set", set]);
        }
        cmd.stdin(Stdio::null()).stderr(Stdio::piped());
        // SAFETY: prctl is async-signal-safe; it runs in the child between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                // The parent dying (even by SIGKILL) asks the worker for a graceful stop.
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let mut child = cmd.spawn().context("cannot start a worker process")?;
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
        let label = label(experiment, variant);
        let done =
            Status::read(&RunDir::new(&args.results.join(&experiment.name), &variant.id).status())
                .ok()
                .flatten()
                .map_or(0, |s| s.epochs_done as u64);
        let bar = board.worker(&label, done, variant.config.experiment.epochs as u64);
        Ok(Worker {
            child,
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
    exp_dir: &std::path::Path,
    board: &Board,
    tally: &mut Tally,
) {
    let dir = RunDir::new(exp_dir, &w.variant.id);
    let state = Status::read(&dir.status()).ok().flatten().map(|s| s.state);
    match status.code() {
        Some(0) if state == Some(State::Finished) => tally.finished += 1,
        Some(0) if state == Some(State::Stalled) => tally.stalled += 1,
        Some(0) => tally.skipped += 1,
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
