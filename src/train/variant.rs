//! Trains one variant from wherever its run directory left off: resume from the newest valid
//! checkpoint, then per epoch: train, sample, log, observe health, roll back or checkpoint.

use std::time::Instant;

use anyhow::{Context, Result};
use tch::{Device, Kind, Tensor};

use super::nets::Nets;
use super::samples::{self, GRID, GridSwd, SampleStats};
use super::schedule::{EpochPlan, EpochSums, run_epoch};
use super::seeds;
use crate::config::Variant;
use crate::data::{DeviceImages, TagSampler};
use crate::eval::{Evaluator, Quality};
use crate::health::{
    self, Action, CheckpointInfo, Detector, DetectorSetup, Hyper, RealReference, SwdFloor, Verdict,
};
use crate::prune::{self, Figure};
use crate::results::{
    CheckpointMeta, EventRow, MetricsRow, Peers, Recorder, RungArrival, RungRecord, Saved, State,
    Status,
};

/// Who is told how training goes: a bar on a terminal, log lines, or a parent process reading
/// them. The loop does not know which.
pub trait Progress {
    /// Epoch `epoch` of `planned` finished, with a one-line summary of its figures.
    fn epoch(&self, epoch: u32, planned: u32, summary: &str);
    /// A message that must stay visible (rollbacks, resumes, warnings).
    fn note(&self, line: &str);
}

impl Progress for crate::progress::EpochBar {
    fn epoch(&self, epoch: u32, planned: u32, summary: &str) {
        crate::progress::EpochBar::epoch(self, epoch as u64, planned as u64, summary);
    }
    fn note(&self, line: &str) {
        crate::progress::EpochBar::note(self, line);
    }
}

pub struct Job<'a> {
    pub variant: &'a Variant,
    pub device: Device,
    pub images: &'a DeviceImages,
    pub reference: RealReference,
    /// Quality figures every `eval.every` epochs; None when evaluation is off.
    pub evaluator: Option<&'a Evaluator>,
    /// Every file of the run is written through it (it holds the run's lock).
    pub recorder: &'a Recorder,
    pub progress: &'a dyn Progress,
    /// `[prune]`: the experiment's variants, whose decisions at a rung this one is ranked
    /// against; None when `[prune]` is off.
    pub peers: Option<&'a Peers>,
    /// `run --only pruned`: a variant stopped at a rung trains on to its budget.
    pub continue_pruned: bool,
    /// `[prune]` rung by rung (`run --jobs 1`): the evaluation epoch to pause at, where the
    /// rungs it judges are not judged yet (the figure is written for the peers to see) and the
    /// run stops as waiting, to be judged when it resumes. None: train to the budget.
    pub pause_at: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Finished,
    /// The health policy gave up after too many rollbacks.
    Collapsed,
    /// The samples never got near the data and no setting the policy changes was the cause.
    Stalled,
    /// A graceful stop was asked for: checkpoint of the last epoch written, status interrupted.
    Interrupted,
    /// `[prune]` stopped it at a rung: checkpoint of the epoch judged, status pruned.
    Pruned,
    /// Reached `Job::pause_at`: checkpoint of that epoch written, status waiting, its figure
    /// written at the rung.
    Paused,
}

/// Where the current timeline stands.
#[derive(Debug, Clone, Copy)]
struct Position {
    epoch: u32,
    step: u64,
    attempt: u32,
    hyper: Hyper,
    /// Trained on past a stop at a rung (`--only pruned`): the epoch stopped at.
    continued_after: Option<u32>,
}

pub fn train(job: &Job) -> Result<Outcome> {
    let cfg = &job.variant.config;
    let seed = cfg.experiment.seed;
    let vkey = seeds::variant_key(cfg);
    let planned = cfg.experiment.epochs;

    let tag_groups = job
        .images
        .sampler
        .as_ref()
        .map_or_else(Vec::new, |s| s.spans().iter().map(|&(_, k)| k).collect());
    let fresh_nets = || {
        tch::manual_seed(seeds::init(seed, vkey));
        Nets::new(cfg, &tag_groups, job.device)
    };
    super::precision::set_tf32(cfg.train.tf32);
    let mut nets = fresh_nets()?;
    let mut detector = detector_setup(job).detector();
    // With rollback disabled: the verdict of an episode still going on (a resume finds it again
    // by replaying the attempt's rows, as it finds the detector's state).
    let (mut pos, mut open_episode) = match resume(job, &mut nets, &mut detector)? {
        Resumed::At(pos, open) => (pos, open),
        Resumed::NoCheckpoint => (start_fresh(job, &nets)?, None),
        Resumed::AllDamaged(n) => {
            job.progress.note(&format!(
                "all {n} checkpoint(s) of this run are damaged: starting over from epoch 0"
            ));
            // A failed restore may have left some weights loaded: start from the initial ones.
            nets = fresh_nets()?;
            (start_fresh(job, &nets)?, None)
        }
    };
    if let Some(outcome) = stop_on_disk(job, &mut pos)? {
        return Ok(outcome);
    }
    if let Some(stop) = judge_on_resume(job, &pos)? {
        return end_pruned(job, &pos, &stop);
    }
    // Resumed at this pass's pause epoch already: a crash came between the checkpoint taken to
    // wait at the rung and the status that says so. Training on would pass the rung unjudged.
    if pausing_at(job, &pos) {
        return pause(job, &pos);
    }
    tch::manual_seed(seeds::fixed_noise(seed, vkey));
    let fixed = FixedNoise {
        z: Tensor::randn([GRID, nets.z_dim], (Kind::Float, job.device)),
        tags: conditional(&nets, job).map(|s| s.sample(GRID)), // [64, n_tags]
        grid_swd: GridSwd::new(job.images),
    };
    while pos.epoch < planned {
        pos.epoch += 1;
        pos.step += 1;
        let row = train_epoch(job, &mut nets, &pos, &fixed)?;
        let verdict = detector.observe(&row.epoch_stats());
        if detector.is_healthy() {
            open_episode = None;
        }
        let mut rolled_back = false;
        if let Some(verdict) = verdict {
            let findings = detector.findings(&verdict);
            match handle_verdict(job, &mut nets, &mut pos, &verdict, &findings)? {
                Handled::RolledBack => {
                    detector.reset();
                    rolled_back = true;
                }
                Handled::Stopped(outcome) => return Ok(outcome),
                // An open stall stays the ending: the run never got anywhere, whatever else
                // went wrong on the way.
                Handled::Logged => {
                    if open_episode
                        .as_ref()
                        .is_none_or(|v| v.kind != health::Kind::Stalled)
                    {
                        open_episode = Some(verdict);
                    }
                }
            }
        }
        let pruned = match rolled_back {
            true => None, // the judgement waits for the next evaluation the timeline keeps
            false => judge_rungs(job, &pos, &row)?,
        };
        let regular = pos.epoch.is_multiple_of(cfg.checkpoint.every) || pos.epoch == planned;
        // A stop asked for during a rollback is taken at the end of the next epoch, so the
        // interrupted run resumes on the new attempt's own checkpoint.
        let stopping =
            crate::stop::requested() && pos.epoch < planned && !rolled_back && pruned.is_none();
        let pausing = pausing_at(job, &pos) && !rolled_back && pruned.is_none();
        let stopping = stopping || pausing;
        if !rolled_back && (regular || stopping || pruned.is_some()) {
            // A checkpoint taken only to stop (a signal, a rung) is never a rollback target (not
            // healthy) nor the best: a rerun, or a pruned run trained on, keeps the same
            // targets as an uninterrupted run.
            let healthy = regular && detector.is_restore_point() && !row.non_finite;
            let swd = row.swd.filter(|_| regular);
            save_checkpoint(job, &nets, &pos, healthy, swd, !regular)?;
        }
        if let Some(stop) = pruned {
            return end_pruned(job, &pos, &stop);
        }
        if pausing {
            return pause(job, &pos);
        }
        if stopping {
            crate::stop::announce_now();
            job.progress
                .note(&format!("stopped after epoch {} on request", pos.epoch));
            write_status(job, &pos, State::Interrupted, None)?;
            return Ok(Outcome::Interrupted);
        }
        write_status(job, &pos, State::Running, None)?;
        // End of the epoch (or of the rollback): everything is on disk here.
    }
    if let Some(v) = open_episode {
        let reason = format!(
            "ended inside a {} episode (onset epoch {}) with rollback disabled: {}",
            v.kind, v.onset_epoch, v.evidence
        );
        let (state, outcome) = ending(v.kind, false);
        write_status(job, &pos, state, Some(reason))?;
        return Ok(outcome);
    }
    write_status(job, &pos, State::Finished, None)?;
    Ok(Outcome::Finished)
}

/// What the run's detector is built from: its `[rollback]`, the training set's size, the real
/// images' figures and, when it evaluates, the swd floor (run.json and quality-reference.json
/// record the same, for a replay of its metrics.csv).
fn detector_setup(job: &Job) -> DetectorSetup {
    DetectorSetup {
        cfg: job.variant.config.rollback.clone(),
        epoch_images: job.images.len.max(0) as u64,
        reference: Some(job.reference),
        swd_floor: job.evaluator.map(|e| SwdFloor {
            mean: e.reference.swd_floor,
            sd: e.reference.swd_floor_std,
        }),
    }
}

/// Ends this pass of the run at `pos`, waiting at its rung for the next pass.
fn pause(job: &Job, pos: &Position) -> Result<Outcome> {
    let why = format!(
        "waits at epoch {} to be judged at its rung with every variant that reaches it: the \
         command that trains them rung by rung judges it on its next pass (if that command \
         has stopped, run the experiment again)",
        pos.epoch
    );
    write_status(job, pos, State::Waiting, Some(why))?;
    Ok(Outcome::Paused)
}

/// Whether the run pauses after this epoch (`Job::pause_at`): at or past the pause epoch, short
/// of the budget, and still judged at rungs (not trained on past a stop by `--only pruned`).
fn pausing_at(job: &Job, pos: &Position) -> bool {
    pos.continued_after.is_none()
        && job
            .pause_at
            .is_some_and(|p| pos.epoch >= p && pos.epoch < job.variant.config.experiment.epochs)
}

/// `[prune]` on resuming after a pause: the rungs the run waits at with a figure are judged
/// now, against every peer that reached them. Some: stopped at that rung.
fn judge_on_resume(job: &Job, pos: &Position) -> Result<Option<RungRecord>> {
    let rule = &job.variant.config.prune;
    if job.peers.is_none() || pos.continued_after.is_some() || pausing_at(job, pos) {
        return Ok(None);
    }
    let waiting = prune::rungs(rule, job.variant.config.experiment.epochs)
        .into_iter()
        .filter(|r| r.epoch <= pos.epoch)
        .map(|r| job.recorder.rung_arrival(r.epoch))
        .collect::<Result<Vec<_>>>()?;
    if !waiting
        .iter()
        .flatten()
        .any(|a| a.judged_epoch == pos.epoch)
    {
        return Ok(None); // it did not pause here
    }
    let timeline = job.recorder.timeline()?;
    match timeline.last() {
        Some(last) if last.epoch == pos.epoch && last.step == pos.step => {
            judge_rungs(job, pos, last)
        }
        _ => Ok(None),
    }
}

/// `[prune]` after an evaluation the timeline kept: the rungs it judges, each decided once (a
/// decision on disk stands: a crash or rollback never revisits it) against what the peers
/// recorded there. Some: stopped at that rung. When the run pauses here (`Job::pause_at`), the
/// figure is written for the peers instead and the decision waits for the resume.
fn judge_rungs(job: &Job, pos: &Position, row: &MetricsRow) -> Result<Option<RungRecord>> {
    let rule = &job.variant.config.prune;
    let planned = job.variant.config.experiment.epochs;
    let Some(peers) = job.peers.filter(|_| pos.continued_after.is_none()) else {
        return Ok(None);
    };
    if row.figure(rule.metric).is_none() {
        return Ok(None); // no evaluation this epoch
    }
    let evaluations: Vec<(u32, f64)> = job
        .recorder
        .timeline()?
        .iter()
        .filter_map(|r| Some((r.epoch, r.figure(rule.metric)?)))
        .collect();
    let evaluated: Vec<u32> = evaluations.iter().map(|e| e.0).collect();
    let all = prune::rungs(rule, planned);
    for &rung in prune::judged_at(&all, &evaluated, planned) {
        let own = job.recorder.rung_decisions()?;
        let record = match own.into_iter().find(|r| r.rung_epoch == rung.epoch) {
            Some(decided) => decided,
            None if pausing_at(job, pos) => {
                let figure = prune::best_so_far(&evaluations, pos.epoch).unwrap_or(Figure::Worst);
                job.recorder.wait_at_rung(&RungArrival {
                    rung: rung.index,
                    rung_epoch: rung.epoch,
                    judged_epoch: pos.epoch,
                    step: pos.step,
                    figure,
                    metric: rule.metric,
                })?;
                continue;
            }
            None => {
                let mine = prune::best_so_far(&evaluations, pos.epoch).unwrap_or(Figure::Worst);
                let others = peers.at(&job.variant.id, rung.epoch, rule.metric)?;
                let figures: Vec<Figure> = others.iter().map(|p| p.figure).collect();
                let decision = prune::decide(rule, rung, mine, &figures);
                let record = RungRecord::new(rule, (pos.epoch, pos.step), &decision, others);
                job.recorder.decide_rung(&record)?
            }
        };
        job.progress.note(&record.summary());
        if record.is_stop() {
            return Ok(Some(record));
        }
    }
    Ok(None)
}

/// Ends a run stopped at a rung: its events row and status, each written once whatever crash
/// came between them and the decision.
fn end_pruned(job: &Job, pos: &Position, stop: &RungRecord) -> Result<Outcome> {
    job.recorder.append_event_once(&EventRow::pruned(stop))?;
    write_status(job, pos, State::Pruned, Some(stop.summary()))?;
    Ok(Outcome::Pruned)
}

/// A stop at a rung already on disk, read before training: it ends the run at once when the
/// run resumed at the epoch judged (a crash came after its checkpoint), or marks the run as
/// trained on past it (`--only pruned`, then every rerun). A stop at a later epoch than the
/// checkpoint resumed from is met again when training gets there.
fn stop_on_disk(job: &Job, pos: &mut Position) -> Result<Option<Outcome>> {
    let Some(stop) = job
        .recorder
        .rung_decisions()?
        .into_iter()
        .find(|r| r.is_stop())
    else {
        return Ok(None);
    };
    let continued = job.recorder.status()?.and_then(|s| s.continued_after);
    if continued.is_some() || job.continue_pruned {
        pos.continued_after = Some(stop.judged_epoch);
        if pos.epoch < job.variant.config.experiment.epochs {
            let judged = match stop.judged_epoch {
                e if e == stop.rung_epoch => String::new(),
                e => format!(", judged at epoch {e}"),
            };
            job.progress.note(&format!(
                "trained on past its stop at {}{judged}: no rung judges it any more",
                stop.rung_name(),
            ));
        }
        return Ok(None);
    }
    if stop.judged_epoch <= pos.epoch {
        return end_pruned(job, pos, &stop).map(Some);
    }
    Ok(None)
}

/// The fixed noise (and tags) behind every sample grid and the collapse figures, and the
/// real images `sample_swd` compares those samples with.
struct FixedNoise {
    z: Tensor,
    tags: Option<Tensor>,
    grid_swd: GridSwd,
}

/// How a run that the health policy stopped (or that ended inside an episode with rollback
/// disabled) ends: `stalled` when the samples got nowhere, else `collapsed`.
fn ending(kind: health::Kind, stalled: bool) -> (State, Outcome) {
    if stalled || kind == health::Kind::Stalled {
        (State::Stalled, Outcome::Stalled)
    } else {
        (State::Collapsed, Outcome::Collapsed)
    }
}

/// Trains epoch `pos.epoch`, writes its sample grid and metrics row, and returns the row.
fn train_epoch(
    job: &Job,
    nets: &mut Nets,
    pos: &Position,
    fixed: &FixedNoise,
) -> Result<MetricsRow> {
    let cfg = &job.variant.config;
    let (seed, vkey, planned) = (
        cfg.experiment.seed,
        seeds::variant_key(cfg),
        cfg.experiment.epochs,
    );
    tch::manual_seed(seeds::epoch(seed, vkey, pos.epoch, pos.attempt));
    nets.set_lrs(pos.hyper.lr_g, pos.hyper.lr_d);
    let plan = EpochPlan {
        schedule: cfg.train.schedule,
        batch_size: pos.hyper.batch_size as i64,
        label_noise: pos.hyper.label_noise,
        p0: cfg.train.p0,
        d_steps: cfg.train.d_steps,
        g_steps: cfg.train.g_steps,
    };
    let started = Instant::now();
    let sums = run_epoch(nets, job.images, &plan);
    let augment = nets.end_epoch();
    // Train-mode batch norm, as during training: eval mode's running statistics lag far
    // behind early on and would make every sample look alike.
    // The detector judges training, so its figures come from G itself; the grid and the
    // quality figures show the weight average when there is one (it lags G by its half-life).
    let fakes = tch::no_grad(|| nets.generate(&fixed.z, fixed.tags.as_ref(), true)); // [64, 3, s, s]
    let shown = match nets.ema {
        Some(_) => tch::no_grad(|| nets.generate_shown(&fixed.z, fixed.tags.as_ref())),
        None => fakes.shallow_clone(),
    };
    let stats = samples::stats(&fakes);
    if pos.epoch.is_multiple_of(cfg.eval.sample_every) || pos.epoch == planned {
        job.recorder
            .write_sample_grid(pos.epoch, &samples::grid_image(&shown))?;
    }
    let non_finite = sums.d.non_finite || sums.g.non_finite || !nets.weights_finite();
    let seconds = started.elapsed().as_secs_f64();
    let eval_started = Instant::now();
    let quality = match job.evaluator {
        Some(e) if evaluates(cfg, pos.epoch) && !non_finite => {
            // Free pages back before and after: the evaluation starts from the live tensors, and
            // training from them again (neither reuses the other's free pages well: other sizes).
            crate::allocator::release_free_memory();
            Some(evaluate(job, e, nets, &shown, seeds::eval(seed, vkey)))
        }
        _ => None,
    };
    if quality.is_some() {
        crate::allocator::release_free_memory();
    }
    let eval_seconds = quality
        .is_some()
        .then(|| eval_started.elapsed().as_secs_f64());
    let groups = job
        .evaluator
        .map(|e| e.tag_acc_columns(quality.as_ref()))
        .unwrap_or_default();
    let mut row = metrics_row(pos, &plan, &sums, stats, non_finite, seconds, quality);
    row.tag_acc_groups = groups;
    row.eval_seconds = eval_seconds;
    row.sample_nn = Some(stats.nn_distance / job.reference.nn_distance.max(1e-12));
    row.sample_swd = (!non_finite).then(|| fixed.grid_swd.ratio(&fakes));
    row.augment_p = augment.map(|a| a.p);
    row.r_t = augment.map(|a| a.r_t);
    job.recorder.append_metrics(&row)?;
    job.progress.epoch(pos.epoch, planned, &summary(&row));
    Ok(row)
}

/// What became of a verdict.
enum Handled {
    /// A checkpoint was restored and `pos` now points at it with new settings.
    RolledBack,
    /// The policy gave up: the status says collapsed or stalled.
    Stopped(Outcome),
    /// Rollback is disabled: the verdict is only recorded.
    Logged,
}

/// Asks the policy about `verdict`, records the event and carries the action out.
fn handle_verdict(
    job: &Job,
    nets: &mut Nets,
    pos: &mut Position,
    verdict: &Verdict,
    findings: &health::Findings,
) -> Result<Handled> {
    let cfg = &job.variant.config;
    let saved = job.recorder.checkpoints()?;
    let events = job.recorder.events()?;
    let infos = checkpoint_infos(&saved, &events);
    let history = rollback_history(&events, &job.recorder.all_metrics()?);
    let action = health::decide(
        &cfg.rollback,
        &infos,
        verdict,
        &pos.hyper,
        &history,
        findings,
    );
    job.recorder
        .append_event(&EventRow::new(pos.step, verdict, &action))?;
    job.progress.note(&format!(
        "{} (onset epoch {}): {}; {}",
        verdict.kind,
        verdict.onset_epoch,
        verdict.evidence,
        describe(&action)
    ));
    match action {
        Action::Rollback {
            restore_epoch, new, ..
        } => {
            let target = saved
                .iter()
                .find(|s| s.meta.epoch as u64 == restore_epoch)
                .context("the rollback target checkpoint vanished")?;
            restore(job, nets, target)?;
            job.recorder
                .roll_back_to(target.meta.epoch, pos.attempt + 1)?;
            *pos = Position {
                epoch: target.meta.epoch,
                step: pos.step,
                attempt: pos.attempt + 1,
                hyper: new,
                continued_after: pos.continued_after,
            };
            Ok(Handled::RolledBack)
        }
        Action::Stop { reason, stalled } => {
            let (state, outcome) = ending(verdict.kind, stalled);
            write_status(job, pos, state, Some(reason))?;
            Ok(Handled::Stopped(outcome))
        }
        Action::Continue => Ok(Handled::Logged),
    }
}

/// This variant's rollbacks so far, oldest first, each with the settings it rolled back from
/// and went on with (the policy escalates repeats of a kind's table, and stops a second retry
/// that changes nothing). Rollback k ended attempt k: only rollbacks start attempts.
fn rollback_history(events: &[EventRow], rows: &[MetricsRow]) -> Vec<health::PastRollback> {
    events
        .iter()
        .filter(|e| e.is_rollback())
        .filter_map(|e| e.kind.health())
        .enumerate()
        .map(|(k, kind)| health::PastRollback {
            kind,
            from: rows
                .iter()
                .rfind(|r| r.attempt as usize == k)
                .and_then(|r| r.epoch_stats().hyper),
            to: rows
                .iter()
                .find(|r| r.attempt as usize == k + 1)
                .and_then(|r| r.epoch_stats().hyper),
        })
        .collect()
}

/// Epoch 0: the initial weights, saved so that even an early collapse has a healthy target.
fn start_fresh(job: &Job, nets: &Nets) -> Result<Position> {
    let c = &job.variant.config;
    // Rows or events of a run that never reached a checkpoint are replayed from scratch.
    job.recorder.cut_back(0, 0)?;
    let pos = Position {
        epoch: 0,
        step: 0,
        attempt: 0,
        hyper: Hyper {
            lr_g: c.train.lr_g,
            lr_d: c.train.lr_d,
            label_noise: c.train.label_noise,
            batch_size: c.train.batch_size,
        },
        continued_after: None,
    };
    save_checkpoint(job, nets, &pos, true, None, false)?;
    Ok(pos)
}

enum Resumed {
    /// Where the timeline stands, and the verdict of an episode still going on there (only a
    /// verdict the policy let pass fires within an attempt: rollback disabled).
    At(Position, Option<Verdict>),
    NoCheckpoint,
    /// This many checkpoints exist and none of them loads.
    AllDamaged(usize),
}

/// Restores the newest checkpoint that loads and that metrics.csv reaches, drops log rows
/// written after it and replays every attempt's rows into the detector.
fn resume(job: &Job, nets: &mut Nets, detector: &mut Detector) -> Result<Resumed> {
    let saved = job.recorder.checkpoints()?;
    let logged = job.recorder.all_metrics()?;
    for s in saved.iter().rev() {
        if !s.meta.reached_by(&logged) {
            job.progress.note(&format!(
                "skipping checkpoint of epoch {}: metrics.csv lacks its row (step {}), so \
                 training resumes from an earlier one and logs those epochs again",
                s.meta.epoch, s.meta.step
            ));
            continue;
        }
        if let Err(e) = restore(job, nets, s) {
            job.progress
                .note(&format!("skipping checkpoint {}: {e:#}", s.path.display()));
            continue;
        }
        let m = &s.meta;
        let rows = job.recorder.cut_back(m.step, m.epoch)?;
        // Every attempt, as the live run saw them (the detector keeps the settings that
        // trained healthily across a rollback's reset); the current attempt's open episode
        // is kept as the loop keeps it.
        let mut open_episode = None;
        for (i, row) in rows.iter().enumerate() {
            if i > 0 && rows[i - 1].attempt != row.attempt {
                detector.reset();
                open_episode = None;
            }
            let verdict = detector.observe(&row.epoch_stats());
            if detector.is_healthy() {
                open_episode = None;
            }
            open_episode = verdict.or(open_episode);
        }
        let mut pos = Position {
            epoch: m.epoch,
            step: m.step,
            attempt: m.attempt,
            hyper: m.hyper,
            continued_after: None,
        };
        // A kill after a rollback (or between checkpoints) leaves status.json at the killed
        // attempt's epoch, step and attempt, ahead of this checkpoint: the rows after it are
        // cut and trained again, so it says where the run stands now, as the line below does
        // (else it would until this attempt's first epoch ends).
        let written = job.recorder.status_as_written()?;
        if let Some(old) = written.filter(|s| (s.steps_done, s.attempt) != (m.step, m.attempt)) {
            pos.continued_after = old.continued_after;
            write_status(job, &pos, State::Running, None)?;
        }
        if m.step > 0 {
            job.progress.note(&format!(
                "resuming from epoch {} (step {}, attempt {})",
                m.epoch, m.step, m.attempt
            ));
        }
        return Ok(Resumed::At(pos, open_episode));
    }
    Ok(match saved.len() {
        0 => Resumed::NoCheckpoint,
        n => Resumed::AllDamaged(n),
    })
}

fn restore(job: &Job, nets: &mut Nets, saved: &Saved) -> Result<()> {
    nets.restore(&job.recorder.load_checkpoint(saved)?)
}

fn save_checkpoint(
    job: &Job,
    nets: &Nets,
    pos: &Position,
    healthy: bool,
    swd: Option<f64>,
    stop: bool,
) -> Result<()> {
    let meta = CheckpointMeta {
        variant: job.variant.id.clone(),
        epoch: pos.epoch,
        step: pos.step,
        attempt: pos.attempt,
        healthy,
        hyper: pos.hyper,
        swd,
        stop,
    };
    let keep = job.variant.config.checkpoint.keep as usize;
    job.recorder.save_checkpoint(&meta, &nets.state(), keep)
}

/// The policy's view of the checkpoints: how often each was already a rollback target in this
/// timeline (events after it was saved).
fn checkpoint_infos(saved: &[Saved], events: &[EventRow]) -> Vec<CheckpointInfo> {
    saved
        .iter()
        .map(|s| CheckpointInfo {
            epoch: s.meta.epoch as u64,
            healthy: s.meta.healthy,
            times_restored: events
                .iter()
                .filter(|e| e.restored_epoch == Some(s.meta.epoch as u64) && e.step > s.meta.step)
                .count() as u32,
            swd: s.meta.swd,
        })
        .collect()
}

fn write_status(job: &Job, pos: &Position, state: State, reason: Option<String>) -> Result<()> {
    let last_checkpoint = job.recorder.checkpoints()?.last().map(|s| s.meta.epoch);
    job.recorder.write_status(&Status {
        state,
        epochs_done: pos.epoch,
        epochs_planned: job.variant.config.experiment.epochs,
        steps_done: pos.step,
        attempt: pos.attempt,
        last_checkpoint,
        reason,
        continued_after: pos.continued_after,
    })
}

fn metrics_row(
    pos: &Position,
    plan: &EpochPlan,
    sums: &EpochSums,
    stats: SampleStats,
    non_finite: bool,
    seconds: f64,
    quality: Option<Quality>,
) -> MetricsRow {
    let q = quality.as_ref();
    let (d, g) = (&sums.d, &sums.g);
    let images = d.batches as f64 * plan.batch_size as f64; // training images: real ones D saw
    MetricsRow {
        step: pos.step,
        epoch: pos.epoch,
        attempt: pos.attempt,
        d_loss: Some(d.mean(d.loss)),
        g_loss: Some(g.mean(g.loss)),
        d_acc_real: d.mean(d.acc),
        d_acc_fake: d.mean(d.acc_fake),
        g_acc: g.mean(g.acc),
        d_acc_real_hard: d.mean(d.hard),
        d_acc_fake_hard: d.mean(d.hard_fake),
        g_acc_hard: g.mean(g.hard),
        d_updates: d.updates,
        g_updates: g.updates,
        lr_g: pos.hyper.lr_g,
        lr_d: pos.hyper.lr_d,
        label_noise: Some(pos.hyper.label_noise),
        batch_size: plan.batch_size as u32,
        sample_std: Some(stats.sample_std),
        sample_image_std: Some(stats.image_std),
        non_finite,
        seconds,
        images_per_sec: images / seconds.max(1e-9),
        swd: q.map(|q| q.swd),
        diversity: q.map(|q| q.diversity),
        tag_acc: q.and_then(|q| q.tag_acc),
        tag_acc_groups: Vec::new(),
        tag_fd: q.and_then(|q| q.tag_fd),
        tag_kl: q.and_then(|q| q.tag_kl),
        eval_seconds: None,
        sample_nn: None,
        augment_p: None,
        r_t: None,
        sample_swd: None,
    }
}

/// Whether epoch `epoch` is evaluated: every `eval.every` epochs and the last; 0 = never.
fn evaluates(cfg: &crate::config::Config, epoch: u32) -> bool {
    let every = cfg.eval.every;
    every > 0 && (epoch.is_multiple_of(every) || epoch == cfg.experiment.epochs)
}

/// The tag sampler when the nets are conditional.
fn conditional<'a>(nets: &Nets, job: &'a Job) -> Option<&'a TagSampler> {
    (nets.n_tags > 0)
        .then_some(job.images.sampler.as_ref())
        .flatten()
}

/// The quality figures of the nets as they are, from the run's own evaluation stream (the
/// next epoch reseeds training's, so evaluating changes no training number).
fn evaluate(job: &Job, e: &Evaluator, nets: &Nets, fixed: &Tensor, eval_seed: i64) -> Quality {
    tch::manual_seed(eval_seed);
    let sampler = conditional(nets, job);
    let mut generate = |b: i64| {
        let z = Tensor::randn([b, nets.z_dim], (Kind::Float, nets.device));
        let tags = sampler.map(|s| s.sample(b));
        (nets.generate_shown(&z, tags.as_ref()), tags)
    };
    e.evaluate(job.variant.config.eval.samples as i64, &mut generate, fixed)
}

/// An epoch's progress line: accuracies, updates and pace, and on an evaluated epoch its swd
/// (the figure a user watches for quality).
fn summary(r: &MetricsRow) -> String {
    let swd = r
        .swd
        .map_or(String::new(), |swd| format!(" | swd {swd:.2}"));
    format!(
        "D real {:.3} fake {:.3} | G {:.3} | upd D {} G {} | {:.0} img/s{swd}",
        r.d_acc_real, r.d_acc_fake, r.g_acc, r.d_updates, r.g_updates, r.images_per_sec
    )
}

fn describe(action: &Action) -> String {
    match action {
        Action::Rollback {
            restore_epoch,
            changes,
            ..
        } => format!(
            "rolling back to epoch {restore_epoch} ({})",
            health::format_changes(changes)
        ),
        Action::Stop { reason, .. } => format!("stopping: {reason}"),
        Action::Continue => "rollback disabled, continuing".to_string(),
    }
}
