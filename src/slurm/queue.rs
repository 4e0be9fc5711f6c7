//! What Slurm says of a job array's tasks, read with `scontrol -o show job` (no accounting
//! database needed). Jobs that left the controller's memory (`MinJobAge`) are simply absent.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Result;

use super::client;
use crate::exit::usage;

/// One array task as the controller sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskState {
    pub array_job_id: String,
    pub task: usize,
    /// Slurm's state word: PENDING, RUNNING, REQUEUED, COMPLETED, FAILED, ...
    pub state: String,
    pub reason: String,
    /// The node it runs on (empty while pending).
    pub node: String,
    /// How often it was requeued.
    pub restarts: u32,
}

impl TaskState {
    /// Still to run or running: Slurm will start (or has started) a runner for it.
    pub fn is_active(&self) -> bool {
        matches!(
            self.state.as_str(),
            "PENDING"
                | "RUNNING"
                | "REQUEUED"
                | "REQUEUE_HOLD"
                | "REQUEUE_FED"
                | "CONFIGURING"
                | "COMPLETING"
                | "SUSPENDED"
                | "RESIZING"
                | "SIGNALING"
                | "STAGE_OUT"
        )
    }

    /// A short phrase for `status`, the state in Slurm's own spelling so that it never reads
    /// as a run's state (a run `not started` whose task is `FAILED`): "PENDING (requeued 1x)",
    /// "RUNNING on node7", ...
    pub fn describe(&self) -> String {
        let mut s = match (self.state.as_str(), self.node.is_empty()) {
            ("RUNNING", false) => format!("RUNNING on {}", self.node),
            (state, _) => state.to_string(),
        };
        if self.restarts > 0 {
            s += &format!(" (requeued {}x)", self.restarts);
        }
        s
    }
}

/// The tasks of the given array jobs that the controller still knows, each asked for within
/// `wait`.
///
/// Errors (usage errors: the environment's, exit 2): `scontrol` missing, not answering within
/// `wait` or failing for another reason than an unknown job id.
pub fn tasks(array_job_ids: &[String], wait: Duration) -> Result<Vec<TaskState>> {
    let mut all = Vec::new();
    for id in array_job_ids {
        let mut command = client::command("scontrol")?;
        command.args(["-o", "show", "job", id]);
        let what = format!("scontrol -o show job {id}");
        let out = client::ask(command, "scontrol", None, wait, &what)?;
        if !out.status.success() {
            if String::from_utf8_lossy(&out.stderr).contains("Invalid job id") {
                continue;
            }
            if let Some(why) = client::controller_problem(wait) {
                return Err(usage(format!("cannot ask Slurm about job {id}: {why}")));
            }
            return Err(usage(format!(
                "scontrol show job {id} failed: {}",
                client::one_line("scontrol", &out.stderr)
            )));
        }
        all.extend(parse(&String::from_utf8_lossy(&out.stdout)));
    }
    Ok(all)
}

/// Parses `scontrol -o show job` output: one line per job record, `Key=Value` pairs. A
/// record of still unsplit pending tasks (`ArrayTaskId=2-5%2`) stands for each of them.
pub fn parse(text: &str) -> Vec<TaskState> {
    let mut tasks = Vec::new();
    for line in text.lines() {
        let fields: BTreeMap<&str, &str> = line
            .split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .collect();
        let (Some(array_job_id), Some(task_ids)) =
            (fields.get("ArrayJobId"), fields.get("ArrayTaskId"))
        else {
            continue;
        };
        let get = |k: &str| fields.get(k).copied().unwrap_or("").to_string();
        let node = match get("NodeList").as_str() {
            "(null)" => String::new(),
            n => n.to_string(),
        };
        for task in task_range(task_ids) {
            tasks.push(TaskState {
                array_job_id: array_job_id.to_string(),
                task,
                state: get("JobState"),
                reason: get("Reason"),
                node: node.clone(),
                restarts: get("Restarts").parse().unwrap_or(0),
            });
        }
    }
    tasks
}

/// `3`, `1-3%2`, `0,2,4-5` to task numbers.
fn task_range(ids: &str) -> Vec<usize> {
    let ids = ids.split('%').next().unwrap_or("");
    let mut out = Vec::new();
    for part in ids.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<usize>(), b.parse::<usize>()) {
                    out.extend(a..=b);
                }
            }
            None => out.extend(part.parse::<usize>().ok()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_ranges_expand_and_running_tasks_name_their_node() {
        let text = "JobId=5 ArrayJobId=5 ArrayTaskId=1-3%1 JobState=PENDING Reason=JobArrayTaskLimit \
                    Restarts=0 ReqNodeList=(null) NodeList=(null)\n\
                    JobId=6 ArrayJobId=5 ArrayTaskId=0 JobState=RUNNING Reason=None Restarts=2 \
                    ReqNodeList=(null) ExcNodeList=(null) NodeList=vm\n\
                    JobId=9 JobState=RUNNING NodeList=vm\n";
        let tasks = parse(text);
        assert_eq!(
            tasks.iter().map(|t| t.task).collect::<Vec<_>>(),
            [1, 2, 3, 0]
        );
        assert_eq!(tasks[3].describe(), "RUNNING on vm (requeued 2x)");
        assert_eq!(tasks[0].describe(), "PENDING");
        assert!(tasks.iter().all(TaskState::is_active));
    }

    #[test]
    fn task_ranges() {
        assert_eq!(task_range("3"), [3]);
        assert_eq!(task_range("0,2,4-5%3"), [0, 2, 4, 5]);
        assert!(task_range("(null)").is_empty());
    }
}
