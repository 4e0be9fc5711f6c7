//! Sweeps on a Slurm cluster: the job array's batch script, the records of what was submitted,
//! Slurm's view of the tasks, its client commands, and the self-requeue of a task warned
//! before its time limit.
//!
//! Each array task is an ordinary `anigan-runner run EXP --variant ID`: the run lock, exact
//! resume and the graceful stop on SIGUSR1 are the same as on a workstation.

pub mod client;
pub mod queue;
mod script;
pub mod settings;
pub mod submissions;

pub use queue::TaskState;
pub use script::{Script, log_dir_problem, quote, sbatch_arg_problem, split_job_name};
pub use settings::TaskSettings;
pub use submissions::Submission;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

/// Variants of earlier submissions whose tasks Slurm still holds (pending or running), each
/// with that task, Slurm asked within `wait`.
pub fn queued_tasks(slurm_dir: &Path, wait: Duration) -> anyhow::Result<Vec<(String, TaskState)>> {
    Ok(tasks_by_variant(slurm_dir, None, wait)?
        .into_iter()
        .filter(|(_, t)| t.is_active())
        .collect())
}

/// A variant's newest array task, from the submission records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewestTask {
    pub job_id: String,
    pub task: usize,
    /// When its job array was submitted, in seconds since the Unix epoch.
    pub submitted_at: u64,
}

impl NewestTask {
    /// `JOB_TASK`, as Slurm's commands take it.
    pub fn name(&self) -> String {
        format!("{}_{}", self.job_id, self.task)
    }
}

/// Each variant's newest array task, from the submission records alone (no Slurm needed).
pub fn newest_tasks(slurm_dir: &Path) -> anyhow::Result<BTreeMap<String, NewestTask>> {
    let mut newest = BTreeMap::new();
    for sub in submissions::read(slurm_dir)? {
        for (task, variant) in sub.variants.iter().enumerate() {
            let t = NewestTask {
                job_id: sub.job_id.clone(),
                task,
                submitted_at: sub.submitted_at,
            };
            newest.insert(variant.clone(), t);
        }
    }
    Ok(newest)
}

/// The error array task `task` of `job_id` ended with, read from its log; None when it has no
/// log (yet) or its log holds no error.
pub fn task_error(slurm_dir: &Path, job_id: &str, task: usize) -> Option<String> {
    let log = std::fs::read(submissions::log_path(slurm_dir, job_id, task)).ok()?;
    submissions::task_error(&String::from_utf8_lossy(&log))
}

/// Slurm's view of every task of the recorded submissions (of the job arrays in `jobs`, or of
/// all), by variant id (newest submission last, so a later entry for a variant wins when
/// collected into a map); each client call ends within `wait` or fails. Slurm is not asked
/// when no job is.
pub fn tasks_by_variant(
    slurm_dir: &Path,
    jobs: Option<&BTreeSet<String>>,
    wait: Duration,
) -> anyhow::Result<Vec<(String, TaskState)>> {
    let subs: Vec<Submission> = submissions::read(slurm_dir)?
        .into_iter()
        .filter(|s| jobs.is_none_or(|jobs| jobs.contains(&s.job_id)))
        .collect();
    if subs.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = subs.iter().map(|s| s.job_id.clone()).collect();
    let tasks = queue::tasks(&ids, wait)?;
    let mut out = Vec::new();
    for sub in &subs {
        for t in tasks.iter().filter(|t| t.array_job_id == sub.job_id) {
            if let Some(variant) = sub.variants.get(t.task) {
                out.push((variant.clone(), t.clone()));
            }
        }
    }
    Ok(out)
}

/// This process's job array task as `JOB_TASK`, when it runs as one (a task of the array
/// `anigan-runner slurm` submitted).
pub fn array_task() -> Option<String> {
    Some(format!(
        "{}_{}",
        env("SLURM_ARRAY_JOB_ID")?,
        env("SLURM_ARRAY_TASK_ID")?
    ))
}

fn env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

/// Under Slurm, asks the controller to requeue this array task (or job): it goes back to
/// pending and later reruns the same batch script, which resumes the run from its checkpoint.
/// Returns the job requeued, or `None` outside Slurm.
///
/// Errors: `scontrol` missing, not answering within `client::DEFAULT_WAIT` or refusing (the
/// job was not submitted with `--requeue`).
pub fn requeue_self() -> anyhow::Result<Option<String>> {
    let Some(job) = array_task().or_else(|| env("SLURM_JOB_ID")) else {
        return Ok(None);
    };
    let mut command = client::command("scontrol")?;
    command.args(["requeue", &job]);
    let wait = client::DEFAULT_WAIT;
    let Some(out) = client::output(command, "scontrol", None, wait)? else {
        anyhow::bail!(
            "scontrol requeue {job}: Slurm did not answer within {} s",
            wait.as_secs()
        );
    };
    if !out.status.success() {
        anyhow::bail!(
            "scontrol requeue {job} failed: {}",
            client::one_line("scontrol", &out.stderr)
        );
    }
    Ok(Some(job))
}

/// A Slurm time limit in seconds: `MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`,
/// `D-HH:MM:SS` (sbatch's `--time` formats, from its manual page).
pub fn time_limit_seconds(text: &str) -> Option<u64> {
    let (days, rest) = match text.split_once('-') {
        Some((d, r)) => (d.parse::<u64>().ok()?, r),
        None => (0, text),
    };
    let parts: Vec<u64> = rest
        .split(':')
        .map(|p| p.parse::<u64>().ok())
        .collect::<Option<_>>()?;
    let hms = match (text.contains('-'), parts.as_slice()) {
        (false, [m]) => m * 60,
        (false, [m, s]) => m * 60 + s,
        (_, [h, m, s]) => h * 3600 + m * 60 + s,
        (true, [h]) => h * 3600,
        (true, [h, m]) => h * 3600 + m * 60,
        _ => return None,
    };
    Some(days * 86_400 + hms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_limits() {
        for (text, secs, why) in [
            ("30", Some(1800), "minutes alone"),
            ("30:15", Some(1815), "minutes and seconds"),
            ("04:00:00", Some(14_400), "hours, minutes, seconds"),
            ("1-12", Some(129_600), "days and hours"),
            ("1-00:30", Some(88_200), "days, hours, minutes"),
            ("2-01:00:05", Some(176_405), "days and a full time"),
            ("4h", None, "units are not Slurm's"),
            ("1:2:3:4", None, "too many fields"),
            ("", None, "empty"),
        ] {
            assert_eq!(time_limit_seconds(text), secs, "{text:?}: {why}");
        }
    }
}
