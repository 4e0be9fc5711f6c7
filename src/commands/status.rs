//! `anigan-runner status RESULTS/EXPERIMENT`: where every variant stands, one line each (or
//! JSON), read off the results directory. Reads only, so it works while a sweep runs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

use crate::cli::StatusArgs;
use crate::exit::Exit;
use crate::results::reader::{self, Run};
use crate::results::{ExperimentDir, MetricsRow, RunState, logged_verdicts, logged_verdicts_note};
use crate::slurm;

/// One variant's line.
#[derive(Serialize, Debug)]
pub struct Line {
    /// Its place in the grid as it stands; None for a run of another recipe, which has none
    /// (its own file's index would repeat one of the grid's).
    pub index: Option<usize>,
    pub id: String,
    /// not started, running, waiting, interrupted, finished, pruned, collapsed, stalled or failed
    /// (as summary.csv says).
    pub state: &'static str,
    /// Listed in experiment.json; false: a run of another recipe in the same folder.
    pub in_experiment: bool,
    /// The overrides in force when it last trained (`key=value (from)`); None when not recorded.
    pub overrides: Option<Vec<String>>,
    /// A run of another recipe: the settings in which it differs from the experiment as it
    /// stands (`key=value`, `reader::Run::differs`); empty for a variant of the experiment.
    pub differs: Vec<String>,
    /// A run of another recipe that differs in no setting: the variant whose settings it has
    /// (at another index: the grid's order changed).
    pub same_settings_as: Option<String>,
    /// The training process of a running variant.
    pub pid: Option<u32>,
    pub host: Option<String>,
    pub epoch: u32,
    /// Planned epochs; None when unknown (an old manifest and no status yet).
    pub planned: Option<u32>,
    pub rollbacks: usize,
    /// Health verdicts only logged, rollback being disabled (events.csv's `continue` rows).
    pub verdicts_logged: usize,
    /// The last epoch's mean accuracies: D on real, D on fake, G.
    pub d_acc_real: Option<f64>,
    pub d_acc_fake: Option<f64>,
    pub g_acc: Option<f64>,
    /// Lowest swd of the kept timeline (lower is better), and its epoch.
    pub best_swd: Option<f64>,
    pub best_swd_epoch: Option<u32>,
    /// The last swd of the kept timeline (summary.csv's `final_swd`), and the epoch it was
    /// measured at (evaluations may be sparse: it can lie well before `epoch`).
    pub final_swd: Option<f64>,
    pub final_swd_epoch: Option<u32>,
    /// The real-vs-real swd floor of the run's data (quality-reference.json): 1x the floor is
    /// as close as two samples of real images.
    pub swd_floor: Option<f64>,
    /// Training images consumed so far (dataset images D was trained on), every trained epoch
    /// counted, rolled-back ones included: the compute the variant took.
    pub images_trained: u64,
    /// Seconds of training so far (evaluations excluded), every trained epoch counted.
    pub train_seconds: f64,
    /// D updates so far, every trained epoch counted.
    pub d_updates: u64,
    /// The kept timeline's fastest epoch, in training images per second.
    pub best_images_per_sec: Option<f64>,
    /// Seconds to the planned epoch at the mean pace of the last epochs (training and
    /// evaluation); running variants only.
    pub eta_seconds: Option<f64>,
    pub reason: Option<String>,
    /// What the logged verdicts were (`results::logged_verdicts_note`).
    pub verdicts_note: Option<String>,
    /// A pruned variant: the epoch of the rung `[prune]` stopped it at (`reason` has the
    /// figures; rungs/eNNNN.json every peer's).
    pub pruned_at_rung: Option<u32>,
    /// Slurm's state of the variant's newest array task, in Slurm's spelling ("PENDING",
    /// "RUNNING on node7 (requeued 1x)", "FAILED"), when the sweep was submitted with `anigan-runner slurm` and Slurm
    /// still knows the task; "unknown" for a submitted variant when Slurm could not be asked
    /// (missing, out of reach, or no answer within `--slurm-timeout`).
    pub slurm: Option<String>,
    /// The variant's newest array task, `JOB_TASK`, when it was submitted with `anigan-runner
    /// slurm` (from the submission records: known without Slurm).
    pub slurm_task: Option<String>,
    /// Slurm's state word of that task (`PENDING`, `RUNNING`, `FAILED`, ...), where `slurm`
    /// has one.
    pub slurm_state: Option<String>,
    /// How often Slurm requeued that task, where `slurm` has a state.
    pub slurm_requeues: Option<u32>,
}

pub fn status(args: &StatusArgs) -> Result<Exit> {
    let dir = super::report::experiment_dir(&args.dir)?;
    let results = reader::read_experiment(&dir)?;
    let mut lines: Vec<Line> = results.runs.iter().map(line).collect();
    add_slurm_states(&dir, &results.runs, &mut lines, args.slurm_wait.wait());
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&lines).expect("status serializes")
        );
    } else {
        print!(
            "{}",
            table(&results.name, results.defined_by().as_deref(), &lines)
        );
    }
    Ok(Exit::Success)
}

/// What `status` shows in the slurm column of a submitted variant when Slurm could not be
/// asked: its queue state is not known, whatever the results folder says.
const UNKNOWN: &str = "unknown";

/// Fills `Line::slurm` from `scontrol`, each call answered within `wait`, when the experiment
/// was submitted to Slurm, and the reason of a variant whose newest array task ended before its
/// run wrote a status (an experiment file edited after submission, a runner that could not
/// start) from that task's log, which needs no Slurm. Slurm is asked only about the variants
/// whose run has not ended since their newest submission (`ended_since`): a finished sweep
/// needs no Slurm. When Slurm cannot be asked (missing, out of reach, no answer within `wait`)
/// that is a warning, not an error: the asked variants' slurm state reads `unknown`, the rest
/// of each line is the results folder's.
fn add_slurm_states(exp_dir: &ExperimentDir, runs: &[Run], lines: &mut [Line], wait: Duration) {
    let slurm_dir = exp_dir.slurm();
    let newest = slurm::newest_tasks(&slurm_dir).unwrap_or_default();
    let asked: BTreeMap<&str, &slurm::NewestTask> = runs
        .iter()
        .filter_map(|run| {
            let task = newest.get(&run.id)?;
            (!ended_since(run, task.submitted_at)).then_some((run.id.as_str(), task))
        })
        .collect();
    let jobs: BTreeSet<String> = asked.values().map(|t| t.job_id.clone()).collect();
    let tasks = match slurm::tasks_by_variant(&slurm_dir, Some(&jobs), wait) {
        Ok(tasks) => tasks,
        Err(e) => {
            eprintln!(
                "warning: no Slurm states, only the runs' own (a submitted variant's slurm \
                 state reads {UNKNOWN}, and it may be queued or running though its run says \
                 otherwise): {e:#}"
            );
            for line in lines
                .iter_mut()
                .filter(|l| asked.contains_key(l.id.as_str()))
            {
                line.slurm = Some(UNKNOWN.to_string());
            }
            Vec::new()
        }
    };
    for line in lines.iter_mut() {
        line.slurm_task = newest.get(&line.id).map(slurm::NewestTask::name);
    }
    for (id, task) in &tasks {
        let newest = asked.get(id.as_str());
        if newest.is_none_or(|n| n.job_id != task.array_job_id || n.task != task.task) {
            continue;
        }
        if let Some(line) = lines.iter_mut().find(|l| l.id == *id) {
            line.set_task(task);
        }
    }
    add_task_errors(&slurm_dir, lines, &newest, &tasks);
}

impl Line {
    /// Slurm's view of the variant's newest task: as a phrase, and as fields for scripts.
    fn set_task(&mut self, task: &slurm::TaskState) {
        self.slurm = Some(task.describe());
        self.slurm_state = Some(task.state.clone());
        self.slurm_requeues = Some(task.restarts);
    }
}

/// Whether `run` ended (finished, pruned, collapsed, stalled or failed) after `submitted_at`
/// (seconds since the Unix epoch), when its newest array task was submitted: then that task
/// wrote the ending, and Slurm has nothing more to say of it.
fn ended_since(run: &Run, submitted_at: u64) -> bool {
    let ended = matches!(
        run.state,
        RunState::Finished
            | RunState::Pruned
            | RunState::Collapsed
            | RunState::Stalled
            | RunState::Failed
    );
    ended && reader::status_written_at(&run.dir).is_some_and(|at| at > submitted_at)
}

/// The reason of each variant not started whose newest array task (`newest`) is no longer
/// active in `tasks` and whose log ends with an error.
fn add_task_errors(
    slurm_dir: &Path,
    lines: &mut [Line],
    newest: &BTreeMap<String, slurm::NewestTask>,
    tasks: &[(String, slurm::TaskState)],
) {
    let not_started = RunState::NotStarted.word();
    for line in lines
        .iter_mut()
        .filter(|l| l.state == not_started && l.reason.is_none())
    {
        let Some(newest) = newest.get(&line.id) else {
            continue;
        };
        let active = tasks.iter().any(|(id, t)| {
            id == &line.id
                && t.array_job_id == newest.job_id
                && t.task == newest.task
                && t.is_active()
        });
        if !active && let Some(error) = slurm::task_error(slurm_dir, &newest.job_id, newest.task) {
            line.reason = Some(format!("Slurm task {} failed: {error}", newest.name()));
        }
    }
}

/// Epochs whose pace the ETA averages.
const PACE_EPOCHS: usize = 5;

pub fn line(run: &Run) -> Line {
    let status = run.status.as_ref();
    let holder = (run.state == RunState::Running)
        .then(|| run.dir.holder())
        .flatten();
    let last = run.kept().last();
    let epoch = status.map_or(0, |s| s.epochs_done);
    let planned = status.map(|s| s.epochs_planned).or(run.planned_epochs);
    let kept: Vec<_> = run.kept().collect();
    let recent = &kept[kept.len().saturating_sub(PACE_EPOCHS)..];
    let pace = (!recent.is_empty()).then(|| {
        recent
            .iter()
            .map(|r| r.seconds + r.eval_seconds.unwrap_or(0.0))
            .sum::<f64>()
            / recent.len() as f64
    });
    let last_swd = run.kept().filter_map(|r| Some((r.swd?, r.epoch))).last();
    // The first epoch of the lowest swd, as summary.csv's best_swd.
    let best = run
        .kept()
        .filter_map(|r| r.swd.map(|swd| (swd, r.epoch)))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    let eta_seconds = match (run.state, pace, planned) {
        (RunState::Running, Some(p), Some(n)) => Some(p * n.saturating_sub(epoch) as f64),
        _ => None,
    };
    Line {
        index: run.current.then_some(run.index),
        id: run.id.clone(),
        state: run.state.word(),
        in_experiment: run.current,
        overrides: run
            .overrides
            .as_ref()
            .map(|o| o.iter().map(|o| o.to_string()).collect()),
        differs: run
            .differs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect(),
        same_settings_as: run.same_settings_as.clone(),
        pid: holder.as_ref().map(|h| h.0),
        host: holder.map(|h| h.1),
        epoch,
        planned,
        rollbacks: run.events.iter().filter(|e| e.is_rollback()).count(),
        verdicts_logged: logged_verdicts(&run.events),
        d_acc_real: last.map(|r| r.d_acc_real),
        d_acc_fake: last.map(|r| r.d_acc_fake),
        g_acc: last.map(|r| r.g_acc),
        best_swd: best.map(|(swd, _)| swd),
        best_swd_epoch: best.map(|(_, epoch)| epoch),
        final_swd: last_swd.map(|(swd, _)| swd),
        final_swd_epoch: last_swd.map(|(_, epoch)| epoch),
        swd_floor: run.reference.as_ref().map(|r| r.swd_floor),
        images_trained: run.rows.iter().map(MetricsRow::images).sum::<f64>().round() as u64,
        // fold from +0.0: an empty f64 sum is -0.0, which JSON would show for a variant not started.
        train_seconds: run.rows.iter().map(|r| r.seconds).fold(0.0, |a, b| a + b),
        d_updates: run.rows.iter().map(|r| r.d_updates as u64).sum(),
        best_images_per_sec: run.kept().map(|r| r.images_per_sec).reduce(f64::max),
        eta_seconds,
        reason: status.and_then(|s| s.reason.clone()),
        verdicts_note: logged_verdicts_note(&run.events),
        pruned_at_rung: run.stopped_at().map(|r| r.rung_epoch),
        slurm: None,
        slurm_task: None,
        slurm_state: None,
        slurm_requeues: None,
    }
}

/// The table `status` prints: a header counting the experiment as it stands, the line that
/// says what defines it (`ExperimentRecord::defined_by`), then a line per variant.
pub fn table(name: &str, defined_by: Option<&str>, lines: &[Line]) -> String {
    // The header counts the experiment as it stands; runs of another recipe (an older grid, a
    // `--set` the file does not have) are listed below it but are no variants of it.
    let (current, others): (Vec<&Line>, Vec<&Line>) = lines.iter().partition(|l| l.in_experiment);
    let count = |state: &str| current.iter().filter(|l| l.state == state).count();
    let stalled = match count("stalled") {
        0 => String::new(),
        n => format!(", {n} stalled"),
    };
    let others = match others.len() {
        0 => String::new(),
        n => format!("; and {}", reader::other_recipes(n)),
    };
    let mut out = format!(
        "{name}: {}: {} finished, {}{} running, {}{} interrupted, {} collapsed{stalled}, {} failed, {} not started{others}\n",
        match current.len() {
            1 => "1 variant".to_string(),
            n => format!("{n} variants"),
        },
        count("finished"),
        match count("pruned") {
            0 => String::new(),
            n => format!("{n} pruned, "),
        },
        count("running"),
        match count("waiting") {
            0 => String::new(),
            n => format!("{n} waiting at a rung, "),
        },
        count("interrupted"),
        count("collapsed"),
        count("failed"),
        count("not started"),
    );
    if let Some(defined_by) = defined_by {
        out += &format!("{defined_by}\n");
    }
    if let Some(note) = budgets_note(&current) {
        out += &format!("{note}\n");
    }
    let on_slurm = lines.iter().any(|l| l.slurm.is_some());
    out += &format!(
        "{:>5}  {:<12}  {:<26}  {:>9}  {:>9}  {:<19}  {:>8}  {:>9}{}\n",
        "index",
        "id",
        "state",
        "epoch",
        "rollbacks",
        "D real/fake, G acc",
        "best swd",
        "ETA",
        if on_slurm { "  slurm" } else { "" }
    );
    let opt = |x: Option<f64>, digits: usize| x.map_or("-".into(), |x| format!("{x:.digits$}"));
    for l in lines {
        let state = match (&l.pid, &l.host) {
            (Some(pid), Some(host)) => format!("{} (pid {pid}@{host})", l.state),
            _ => l.state.to_string(),
        };
        let accs = match (l.d_acc_real, l.d_acc_fake, l.g_acc) {
            (Some(r), Some(f), Some(g)) => format!("{r:.2}/{f:.2}, {g:.2}"),
            _ => "-".into(),
        };
        let planned = l.planned.map_or("?".into(), |p| p.to_string());
        let slurm = match (&l.slurm, on_slurm) {
            (Some(s), _) => format!("  {s}"),
            (None, true) => "  -".into(),
            (None, false) => String::new(),
        };
        // A run of another recipe has no place in the grid as it stands: no index of it.
        let index = l.index.map_or("-".to_string(), |i| i.to_string());
        out += &format!(
            "{:>5}  {:<12}  {:<26}  {:>9}  {:>9}  {:<19}  {:>8}  {:>9}{slurm}\n",
            index,
            l.id,
            state,
            format!("{}/{planned}", l.epoch),
            l.rollbacks,
            accs,
            opt(l.best_swd, 3),
            l.eta_seconds.map_or("-".into(), duration),
        );
        if let Some(reason) = l.reason.as_ref().filter(|_| l.state != "finished") {
            out += &format!("       {reason}\n");
        }
        if let Some(note) = &l.verdicts_note {
            out += &format!("       {note}\n");
        }
        if !l.in_experiment {
            let differs = match (l.differs.is_empty(), &l.same_settings_as) {
                (true, Some(id)) => format!("; it has the settings of {id}, at another index"),
                (true, None) => String::new(),
                (false, _) => format!("; it differs in {}", l.differs.join(", ")),
            };
            let overrides = match &l.overrides {
                Some(o) if !o.is_empty() => format!("; it trained with {}", o.join(", ")),
                _ => String::new(),
            };
            out += &format!(
                "       not in the experiment as it stands: a run of another recipe{differs}{overrides}\n"
            );
        }
    }
    out
}

/// A note when the finished variants were trained to different budgets (a resubmission or
/// rerun with another `experiment.epochs`, whose queued tasks kept their own): how many to
/// each, largest first, and what trains the others on. None when they agree.
fn budgets_note(lines: &[&Line]) -> Option<String> {
    let mut budgets: BTreeMap<u32, usize> = BTreeMap::new();
    for l in lines
        .iter()
        .filter(|l| l.state == RunState::Finished.word())
    {
        if let Some(planned) = l.planned {
            *budgets.entry(planned).or_default() += 1;
        }
    }
    let &largest = budgets.keys().next_back()?;
    if budgets.len() < 2 {
        return None;
    }
    let each: Vec<String> = budgets
        .iter()
        .rev()
        .map(|(epochs, n)| format!("{n} to {epochs}"))
        .collect();
    Some(format!(
        "note: the finished variants were trained to different budgets: {} epochs; running the \
         experiment again with experiment.epochs = {largest} trains the others on",
        each.join(", ")
    ))
}

/// `1h02m`, `3m05s`, `42s`.
fn duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finished_variants_of_other_budgets_are_told() {
        let at = |state: &'static str, planned: u32| {
            let mut l = line(&Run::for_test("000-aa", Vec::new(), Vec::new()));
            l.state = state;
            l.planned = Some(planned);
            l
        };
        for (lines, says, why) in [
            (
                vec![at("finished", 40), at("finished", 30), at("finished", 30)],
                Some(
                    "note: the finished variants were trained to different budgets: 1 to 40, \
                     2 to 30 epochs; running the experiment again with experiment.epochs = 40 \
                     trains the others on",
                ),
                "queued tasks kept the budget they were submitted with",
            ),
            (
                vec![at("finished", 30), at("running", 40), at("pruned", 8)],
                None,
                "one budget among the finished ones",
            ),
        ] {
            let refs: Vec<&Line> = lines.iter().collect();
            assert_eq!(budgets_note(&refs).as_deref(), says, "{why}");
            let table = table("x", None, &lines);
            assert_eq!(table.contains("note: "), says.is_some(), "{why}: {table}");
        }
    }

    #[test]
    fn runs_of_another_recipe_are_no_variants_of_the_experiment() {
        let at = |state: &'static str, planned: u32, in_experiment: bool| {
            let mut l = line(&Run::for_test("000-aa", Vec::new(), Vec::new()));
            l.state = state;
            l.planned = Some(planned);
            l.in_experiment = in_experiment;
            l.index = in_experiment.then_some(0);
            l
        };
        // A 2-variant experiment and two runs of an older `--set`, trained longer.
        let lines = [
            at("finished", 4, true),
            at("finished", 4, true),
            at("finished", 48, false),
            at("finished", 1, false),
        ];
        let mut lines = lines;
        lines[2].differs = vec!["train.lr_d=0.0001".into()];
        let defined = "experiment as it stands: smoke.toml with no overrides (the last run's, \
                       experiment.json)";
        let table = table("smoke", Some(defined), &lines);
        let header = table.lines().next().unwrap();
        assert_eq!(
            table.lines().nth(1),
            Some(defined),
            "what defines it, under the header"
        );
        let rows: Vec<&str> = table.lines().filter(|l| l.contains("000-aa")).collect();
        let indexes: Vec<&str> = rows
            .iter()
            .map(|l| l.split_whitespace().next().unwrap())
            .collect();
        assert_eq!(
            indexes,
            ["0", "0", "-", "-"],
            "a run of another recipe takes no index of the grid: {table}"
        );
        assert!(
            table.contains("a run of another recipe; it differs in train.lr_d=0.0001\n"),
            "{table}"
        );
        assert!(
            header.starts_with("smoke: 2 variants: 2 finished,"),
            "{header}"
        );
        let one = super::table("smoke", None, &lines[..1]);
        assert!(one.starts_with("smoke: 1 variant: 1 finished,"), "{one}");
        assert!(
            header.ends_with("; and 2 runs of another recipe"),
            "{header}"
        );
        assert!(!table.contains("different budgets"), "{table}");
    }

    #[test]
    fn slurm_s_view_reads_as_fields_beside_the_phrase() {
        let mut l = line(&Run::for_test("000-aa", Vec::new(), Vec::new()));
        let task = slurm::TaskState {
            array_job_id: "7".into(),
            task: 2,
            state: "PENDING".into(),
            reason: "BeginTime".into(),
            node: String::new(),
            restarts: 2,
        };
        l.set_task(&task);
        let json = serde_json::to_value(&l).unwrap();
        assert_eq!(json["slurm"], "PENDING (requeued 2x)");
        assert_eq!(json["slurm_state"], "PENDING");
        assert_eq!(json["slurm_requeues"], 2);
    }

    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(duration(42.4), "42s");
        assert_eq!(duration(185.0), "3m05s");
        assert_eq!(duration(3720.0), "1h02m");
    }
}
