//! The run's checkpoints: `checkpoints/epoch-NNNN.safetensors` with a JSON sidecar holding
//! `CheckpointMeta`; listing them and deciding which to delete.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::metrics::MetricsRow;
use crate::checkpoint;
use crate::health::Hyper;

/// What a checkpoint records besides tensors: where in the run it was taken and with what
/// settings, and whether the detector saw the run as healthy then (rollback targets must be).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct CheckpointMeta {
    pub variant: String,
    pub epoch: u32,
    pub step: u64,
    pub attempt: u32,
    pub healthy: bool,
    pub hyper: Hyper,
    /// The quality figure `swd` measured at this epoch, when evaluated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swd: Option<f64>,
    /// Taken only because a stop was asked for, off the `checkpoint.every` grid: resume reads
    /// it, pruning neither counts it nor keeps it once a newer checkpoint exists, so the rerun
    /// keeps the same checkpoints as an uninterrupted run.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stop: bool,
}

#[derive(Debug, Clone)]
pub struct Saved {
    pub path: PathBuf,
    pub meta: CheckpointMeta,
}

pub(super) fn path_for(dir: &Path, epoch: u32) -> PathBuf {
    dir.join(super::names::checkpoint(epoch))
}

/// Complete checkpoints in `dir` (those with a readable sidecar), oldest first by step.
pub fn list(dir: &Path) -> Result<Vec<Saved>> {
    let mut saved = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(saved),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", dir.display())),
    };
    for entry in entries {
        let path = entry?.path();
        let is_data = path.extension().is_some_and(|e| e == "safetensors")
            && path
                .file_name()
                .is_some_and(|n| !n.to_string_lossy().starts_with('.'));
        if !is_data {
            continue;
        }
        // An unreadable sidecar means an interrupted save: that checkpoint does not exist.
        if let Ok(meta) = checkpoint::read_meta(&path)
            && let Ok(meta) = serde_json::from_value::<CheckpointMeta>(meta)
        {
            saved.push(Saved { path, meta });
        }
    }
    saved.sort_by_key(|s| s.meta.step);
    Ok(saved)
}

impl CheckpointMeta {
    /// Whether metrics.csv's `rows` reach this checkpoint: each is saved after its epoch's row
    /// (the initial weights, step 0, need none). A resume starts only from one they reach;
    /// from another, the row lost (a partial copy, damage) would leave a hole in the log.
    pub fn reached_by(&self, rows: &[MetricsRow]) -> bool {
        self.step == 0 || rows.iter().any(|r| r.step == self.step)
    }
}

/// Deletes a checkpoint: sidecar first, so no sidecar ever vouches for missing data.
pub(super) fn remove(path: &Path) -> Result<()> {
    for p in [checkpoint::sidecar_path(path), path.to_path_buf()] {
        match std::fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("cannot delete {}", p.display()));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Epochs of checkpoints to delete: all but the newest `keep`, except that
/// - the newest `keep` healthy ones (restore points) also stay, so that a rollback always finds
///   a target and an escalated one (`skip_checkpoints`) an older one;
/// - epoch 0's initial weights stay: the restore point of last resort, which an escalation
///   reaches when every later one was already bad;
/// - the one with the lowest `swd` stays, so that `sample --epoch best` finds it;
/// - a stop checkpoint (`stop`) counts for none of these and goes once a newer one exists.
pub(super) fn to_prune(saved: &[CheckpointMeta], keep: usize) -> Vec<u32> {
    let best = best_swd(saved);
    let mut by_step: Vec<&CheckpointMeta> = saved.iter().collect();
    by_step.sort_by_key(|m| std::cmp::Reverse(m.step));
    let newest_step = by_step.first().map(|m| m.step);
    let regular = || by_step.iter().filter(|m| !m.stop);
    let newest: Vec<u32> = regular().take(keep).map(|m| m.epoch).collect();
    let healthy: Vec<u32> = regular()
        .filter(|m| m.healthy)
        .take(keep)
        .map(|m| m.epoch)
        .collect();
    let stays = |m: &CheckpointMeta| {
        if m.stop {
            return Some(m.step) == newest_step;
        }
        m.epoch == 0
            || newest.contains(&m.epoch)
            || healthy.contains(&m.epoch)
            || Some(m.epoch) == best
    };
    by_step
        .iter()
        .filter(|m| !stays(m))
        .map(|m| m.epoch)
        .collect()
}

/// Epoch of the checkpoint with the lowest `swd` (the earliest on ties), if any was evaluated.
pub fn best_swd(saved: &[CheckpointMeta]) -> Option<u32> {
    saved
        .iter()
        .filter_map(|m| {
            m.swd
                .filter(|s| s.is_finite())
                .map(|s| (s, m.step, m.epoch))
        })
        .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
        .map(|(_, _, epoch)| epoch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(epoch: u32, healthy: bool) -> CheckpointMeta {
        CheckpointMeta {
            variant: "000-abc".into(),
            epoch,
            step: epoch as u64,
            attempt: 0,
            healthy,
            hyper: Hyper {
                lr_g: 2e-4,
                lr_d: 2e-4,
                label_noise: 0.1,
                batch_size: 64,
            },
            swd: None,
            stop: false,
        }
    }

    #[test]
    fn pruning_keeps_newest_and_newest_healthy() {
        type Case = (&'static [(u32, bool)], usize, &'static [u32], &'static str);
        let cases: &[Case] = &[
            (
                &[(5, true), (10, true), (15, true)],
                2,
                &[5],
                "oldest healthy goes",
            ),
            (
                &[(5, true), (10, false), (15, false)],
                2,
                &[],
                "the only healthy one stays",
            ),
            (
                &[(5, true), (10, true), (15, false), (20, false), (25, false)],
                2,
                &[15],
                "two newest plus two newest healthy",
            ),
            (&[(5, true)], 1, &[], "one is kept"),
            (
                &[(5, true), (10, true), (15, true), (20, true)],
                1,
                &[5, 15],
                "the best swd (epoch 10) stays",
            ),
        ];
        for (list, keep, expected, reason) in cases {
            let saved: Vec<_> = list
                .iter()
                .map(|&(e, h)| CheckpointMeta {
                    swd: (list.len() == 4).then_some(if e == 10 { 3.0 } else { 9.0 }),
                    ..meta(e, h)
                })
                .collect();
            let mut pruned = to_prune(&saved, *keep);
            pruned.sort();
            assert_eq!(pruned, *expected, "{reason}");
        }
    }

    #[test]
    fn pruning_keeps_the_initial_weights_and_ignores_stop_checkpoints() {
        let stop = |epoch: u32| CheckpointMeta {
            stop: true,
            ..meta(epoch, false)
        };
        type Case = (Vec<CheckpointMeta>, usize, &'static [u32], &'static str);
        let cases: Vec<Case> = vec![
            (
                vec![meta(0, true), meta(3, true), meta(6, true), meta(9, true)],
                2,
                &[3],
                "epoch 0 stays beyond the newest keep healthy: an escalation's last resort",
            ),
            (
                vec![meta(0, true), meta(2, false), meta(4, false), stop(5)],
                2,
                &[],
                "the stop checkpoint is the newest (resume needs it) but pushes nothing out",
            ),
            (
                vec![
                    meta(0, true),
                    meta(2, false),
                    meta(4, false),
                    stop(5),
                    meta(6, false),
                ],
                2,
                &[2, 5],
                "once a newer checkpoint exists the stop one goes: the same set as without it",
            ),
            (
                vec![meta(0, true), meta(2, true), meta(4, true), stop(5)],
                1,
                &[2],
                "a stop checkpoint is never a restore point, so it does not stand in for one",
            ),
        ];
        for (saved, keep, expected, reason) in cases {
            let mut pruned = to_prune(&saved, keep);
            pruned.sort();
            assert_eq!(pruned, expected, "{reason}");
        }
    }
}
