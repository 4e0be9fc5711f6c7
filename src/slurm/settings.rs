//! What a queued array task will train with, against what a later `slurm` command asks for.
//!
//! A task reads the experiment file when it starts, under the settings its submission gave it:
//! `--set`, the `ANIGAN_*` variables (sbatch passes the environment on), its cores as
//! `--threads` and `--device`. A resubmission skips a queued variant by its id, which leaves
//! out what does not change what is trained (`experiment.epochs`, `eval.*`, `[prune]`, the
//! threads...), so the queued task may train otherwise than the new command asks: this says how.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Submission, TaskState};
use crate::config::{self, Config, Overrides, Variant};

/// Everything a submission's tasks are given besides the experiment file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskSettings {
    /// `--set KEY=VALUE` arguments, in order.
    pub sets: Vec<String>,
    /// The `ANIGAN_*` variables at submission, `(name, value)`.
    pub env: Vec<(String, String)>,
    /// Each task's `--threads`: its `--cpus-per-task`.
    pub threads: u32,
    /// Each task's `--device`.
    pub device: String,
}

impl TaskSettings {
    fn overrides(&self) -> Overrides {
        Overrides {
            env: self.env.clone(),
            sets: self.sets.clone(),
            env_problems: Vec::new(),
        }
    }

    /// `variant`'s settings as a task given these trains them: its threads are the task's.
    fn trains(&self, variant: &Variant) -> Config {
        let mut config = variant.config.clone();
        config.train.threads = self.threads;
        config
    }
}

/// A queued variant whose task trains otherwise than the command now asks.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub id: String,
    pub job_id: String,
    /// `JOB_TASK`, for scancel.
    pub task: String,
    /// What differs: `key = queued's (this command: now's)`, or why the task will train
    /// nothing.
    pub changes: Vec<String>,
    /// Only `experiment.epochs` differs, and this command raises it: once the task finishes,
    /// running the command again trains the variant on.
    pub epochs_raised: bool,
}

/// The variants of `queued` (each with its active task) whose tasks train otherwise than
/// `now` trains them from `file`, by the settings their submission (in `subs`) recorded;
/// a submission recorded without them (an older runner) is left out.
pub fn queued_otherwise(
    file: &Path,
    queued: &[(&Variant, &TaskState)],
    subs: &[Submission],
    now: &TaskSettings,
) -> Vec<Queued> {
    let mut resolved = BTreeMap::new();
    let mut out = Vec::new();
    for &(variant, task) in queued {
        let Some(then) = subs
            .iter()
            .find(|s| s.job_id == task.array_job_id)
            .and_then(|s| s.settings.as_ref())
        else {
            continue;
        };
        let experiment = resolved
            .entry(task.array_job_id.clone())
            .or_insert_with(|| config::resolve(file, &then.overrides()));
        let (changes, epochs_raised) = match experiment {
            Err(e) => (
                vec![format!(
                    "its settings no longer resolve, so its task will train nothing ({})",
                    e.0.join("; ")
                )],
                false,
            ),
            Ok(experiment) => match experiment.variants.iter().find(|v| v.id == variant.id) {
                None => (
                    vec![
                        "its settings give it another id now, so its task will train nothing"
                            .to_string(),
                    ],
                    false,
                ),
                Some(old) => {
                    let mut changes = changes(&then.trains(old), &now.trains(variant));
                    let raised = changes.len() == 1
                        && changes[0].0 == "experiment.epochs"
                        && old.config.experiment.epochs < variant.config.experiment.epochs;
                    if then.device != now.device {
                        changes.push(("--device".into(), then.device.clone(), now.device.clone()));
                    }
                    let text = changes
                        .iter()
                        .map(|(key, was, is)| format!("{key} = {was} (this command: {is})"))
                        .collect();
                    (text, raised && then.device == now.device)
                }
            },
        };
        if !changes.is_empty() {
            out.push(Queued {
                id: variant.id.clone(),
                job_id: task.array_job_id.clone(),
                task: format!("{}_{}", task.array_job_id, task.task),
                changes,
                epochs_raised,
            });
        }
    }
    out
}

/// The settings whose values differ between `old` and `new`: `(key, old, new)` in the
/// schema's order, `-` for a key one of them does not have.
pub fn changes(old: &Config, new: &Config) -> Vec<(String, String, String)> {
    let flat = |c: &Config| {
        toml::Table::try_from(c)
            .map(|t| config::leaves(&t, ""))
            .unwrap_or_default()
    };
    let (old, new) = (flat(old), flat(new));
    let find = |list: &[(String, toml::Value)], key: &str| {
        list.iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.to_string())
    };
    let mut keys: Vec<&String> = new.iter().map(|(k, _)| k).collect();
    keys.extend(
        old.iter()
            .map(|(k, _)| k)
            .filter(|k| find(&new, k).is_none()),
    );
    keys.into_iter()
        .filter_map(|key| {
            let (was, is) = (find(&old, key), find(&new, key));
            (was != is).then(|| {
                let show = |v: Option<String>| v.unwrap_or_else(|| "-".into());
                (key.clone(), show(was), show(is))
            })
        })
        .collect()
}

/// The warning a command prints for `queued` (from `queued_otherwise`), with what to do; None
/// when every queued variant trains as the command asks.
pub fn warning(queued: &[Queued]) -> Option<String> {
    if queued.is_empty() {
        return None;
    }
    let mut out = format!(
        "warning: {} queued variant(s) will train with the settings they were submitted with, \
         not this command's:\n",
        queued.len()
    );
    // One line per job array and set of changes, in the order met.
    let mut groups: Vec<(&str, &[String], Vec<&str>)> = Vec::new();
    for q in queued {
        match groups
            .iter_mut()
            .find(|(job, changes, _)| *job == q.job_id && *changes == q.changes.as_slice())
        {
            Some((_, _, ids)) => ids.push(&q.id),
            None => groups.push((&q.job_id, &q.changes, vec![&q.id])),
        }
    }
    for (job, changes, ids) in groups {
        out += &format!("  {} (job {job}): {}\n", ids.join(", "), changes.join("; "));
    }
    let tasks: Vec<&str> = queued.iter().map(|q| q.task.as_str()).collect();
    out += &format!(
        "  to train them as this command asks: scancel {}, then run it again (each resumes \
         from its last checkpoint)",
        tasks.join(" ")
    );
    if queued.iter().all(|q| q.epochs_raised) {
        out += "; or, as only experiment.epochs is raised, run it again once they finish: they \
                train on to this command's epochs";
    }
    out.push('\n');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_name_each_setting_that_differs() {
        let old = Config::default();
        let mut new = old.clone();
        assert!(changes(&old, &new).is_empty(), "the same settings");
        new.experiment.epochs = old.experiment.epochs + 10;
        new.eval.every = old.eval.every + 1;
        let found = changes(&old, &new);
        let keys: Vec<&str> = found.iter().map(|(k, _, _)| k.as_str()).collect();
        assert_eq!(keys, ["experiment.epochs", "eval.every"], "{found:?}");
        assert_eq!(found[1].2, (old.eval.every + 1).to_string());
    }

    fn queued(id: &str, job: &str, task: usize, changes: &[&str], raised: bool) -> Queued {
        Queued {
            id: id.into(),
            job_id: job.into(),
            task: format!("{job}_{task}"),
            changes: changes.iter().map(|c| c.to_string()).collect(),
            epochs_raised: raised,
        }
    }

    #[test]
    fn the_warning_groups_by_job_and_says_what_to_do() {
        let epochs = "experiment.epochs = 30 (this command: 40)";
        let every = "eval.every = 3 (this command: 5)";
        for (rows, says, not, why) in [
            (
                vec![
                    queued("001-a", "51", 0, &[epochs], true),
                    queued("002-b", "51", 1, &[epochs], true),
                ],
                vec![
                    "warning: 2 queued variant(s) will train with the settings they were \
                     submitted with",
                    "  001-a, 002-b (job 51): experiment.epochs = 30 (this command: 40)\n",
                    "scancel 51_0 51_1, then run it again",
                    "run it again once they finish: they train on",
                ],
                "",
                "a raised budget: cancel, or wait and rerun",
            ),
            (
                vec![
                    queued("001-a", "51", 0, &[epochs], true),
                    queued("003-c", "53", 0, &[every], false),
                ],
                vec![
                    "  001-a (job 51): experiment.epochs",
                    "  003-c (job 53): eval.every = 3 (this command: 5)\n",
                    "scancel 51_0 53_0,",
                ],
                "once they finish",
                "another setting: a rerun after they finish would change nothing",
            ),
        ] {
            let text = warning(&rows).unwrap();
            for s in says {
                assert!(text.contains(s), "{why}: {s}\n{text}");
            }
            assert!(not.is_empty() || !text.contains(not), "{why}: {text}");
        }
        assert_eq!(warning(&[]), None, "nothing queued otherwise");
    }
}
