//! `anigan-runner slurm EXPERIMENT.toml`: submit the unfinished variants of a sweep as one
//! Slurm job array whose tasks are plain `run --variant ID` runners.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::run;
use crate::cli::{DeviceChoice, SlurmArgs};
use crate::config::{self, Experiment, Overrides, Variant};
use crate::data::DataRoot;
use crate::exit::{Exit, usage, usage_problems};
use crate::fsx::Place;
use crate::results::{ExperimentDir, Manifest, RunState, reader};
use crate::slurm::{self, Script, Submission, TaskSettings, TaskState, submissions};
use crate::sweep::queue::Only;
use crate::sweep::{prepare, queue as sweep_queue};

pub fn slurm(args: &SlurmArgs) -> Result<Exit> {
    check_args(args)?;
    let exp = &args.exp;
    let overrides = Overrides::from_environment(exp.sets.clone());
    let experiment = config::resolve(&exp.experiment, &overrides)?;
    let selected = run::select(&experiment, &exp.variants)?;
    // The array tasks say these in their logs; the one who submits should read them now.
    for w in crate::data::check_data(&experiment.file, selected.iter().map(|v| &v.config))? {
        eprintln!("warning: {w}");
    }
    let exp_dir = ExperimentDir::new(&exp.results, &experiment.name);
    let slurm_dir = exp_dir.slurm();
    let before_only = selected.clone();
    let (selected, rerun) = run::only(&experiment, &exp_dir, selected, &exp.only)?;
    let data_root = DataRoot(exp.data_dir.clone());
    crate::sweep::same_data::check(&selected, &exp_dir, &data_root, &exp.only)?;
    eprint!("{rerun}");
    if selected.is_empty() {
        if let Some(line) = failed_tasks_line(&exp_dir, &before_only, &exp.only) {
            eprintln!("  {line}");
        }
        eprintln!("nothing to submit");
        return Ok(Exit::Success);
    }
    let moved = super::renumbered::renumbered(&exp_dir, &selected);
    eprint!("{}", super::renumbered::note(&moved));
    let (cpus, threads_line) = cpus_per_task(args.cpus_per_task, &selected);
    if let Some(line) = threads_line {
        eprintln!("{line}");
    }
    let wait = args.slurm_wait.wait();
    // What is left to submit: Slurm's clients missing or its controller out of reach are the
    // environment's problem, exit 2, as is a controller that does not answer within `wait`.
    let plan = || -> Result<Plan> {
        let queued = slurm::queued_tasks(&slurm_dir, wait)?;
        split(&selected, &exp_dir, queued, &exp.only)
    };
    let settings = TaskSettings {
        sets: exp.sets.clone(),
        env: overrides.env.clone(),
        threads: cpus,
        device: args.device.to_string(),
    };
    // The plan's line, and which queued variants will train otherwise than this command asks.
    let tell = |plan: &Plan| -> Result<()> {
        eprintln!("{}", plan.line(&experiment.name, selected.len()));
        let queued: Vec<_> = plan.in_queue.iter().map(|(v, t)| (*v, t)).collect();
        let subs = submissions::read(&slurm_dir)?;
        let otherwise =
            slurm::settings::queued_otherwise(&experiment.file, &queued, &subs, &settings);
        eprint!(
            "{}",
            slurm::settings::warning(&otherwise).unwrap_or_default()
        );
        Ok(())
    };
    let first = plan()?;
    let ids = first.ids();
    let script = script(args, &experiment, &slurm_dir, &ids, cpus)?;
    if let Some(problem) = slurm::log_dir_problem(&script.log_dir) {
        return Err(usage(problem));
    }
    if !ids.is_empty() {
        // Before Slurm is asked to check the script; by the dry run too, which must refuse
        // what the submission would refuse (the check leaves nothing behind).
        check_places(&exp_dir, &first.variants, &data_root)?;
    }
    if args.dry_run {
        // As `run --dry-run` lists them; no time: the tasks train on Slurm's nodes.
        eprint!("{}", run::plan(&experiment, &selected));
        if !first.variants.is_empty() {
            let done = run::epochs_done(&exp_dir, &first.variants, &exp.only);
            eprint!(
                "{}",
                crate::sweep::cost::estimate(&first.variants, &done, &data_root, None)
            );
        }
    }
    if args.dry_run || ids.is_empty() {
        tell(&first)?;
    }
    if ids.is_empty() {
        eprintln!("nothing to submit");
        return Ok(Exit::Success);
    }
    if args.dry_run {
        print!("{}", script.render());
        let checked = dry_run_check(&script, wait)?;
        eprintln!(
            "dry run: would submit {} array task(s), tasks index {}; nothing written\n{checked}",
            ids.len(),
            script.variant_list.display()
        );
        return Ok(Exit::Success);
    }
    // Slurm checks the script (partition, account, limits, directives) before anything is
    // prepared or written, so a refusal costs no data preparation and leaves nothing behind.
    sbatch(&script, Ask::TestOnly, wait)?;
    // From the queue check to the record of the submission, one `slurm` command of this
    // experiment at a time: two started together would both find nothing queued and both
    // submit every variant. So the queue is read again under the lock.
    let _lock = submissions::lock(&slurm_dir, &mut |note| eprintln!("{note}"))?;
    let plan = plan()?;
    tell(&plan)?;
    let ids = plan.ids();
    if ids.is_empty() {
        eprintln!("nothing to submit");
        return Ok(Exit::Success);
    }
    let script = self::script(args, &experiment, &slurm_dir, &ids, cpus)?;
    let text = script.render();
    let left = &plan.variants;
    // Data, caches, tag classifier and quality reference are made here, once, so that array
    // tasks only read them (they never race to build them).
    prepare::warm(left, left, &data_root, tch::Device::Cpu)?;
    exp_dir.write_manifest(&Manifest::of(&experiment))?;
    submissions::write_variant_list(&slurm_dir, &ids)?;
    let job_id = sbatch(&script, Ask::Submit, wait)?;
    submissions::record(
        &slurm_dir,
        &Submission {
            job_id: job_id.clone(),
            variant_list: file_name(&script.variant_list),
            variants: ids.iter().map(|s| s.to_string()).collect(),
            submitted_at: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            settings: Some(settings.clone()),
        },
    )?;
    submissions::write_script(&slurm_dir, &job_id, &text)?;
    println!("{job_id}");
    eprintln!(
        "submitted job array {job_id}: {} task(s){}; logs in {}/{job_id}_<task>.out\n\
         follow it with: anigan-runner status {}   (or squeue -r -j {job_id})\n\
         resume after a cancel or node failure: run this same command again",
        ids.len(),
        args.max_parallel
            .map(|k| format!(", at most {k} at once"))
            .unwrap_or_default(),
        slurm_dir.display(),
        slurm::quote(&exp_dir.root().to_string_lossy()),
    );
    Ok(Exit::Success)
}

/// Every place a submission of `variants` writes can be written (`commands::writable`), else
/// a usage error naming those that cannot: the experiment's folder and slurm/, then the
/// synthetic datasets prepared for the tasks.
fn check_places(
    exp_dir: &ExperimentDir,
    variants: &[&Variant],
    data_root: &DataRoot,
) -> Result<()> {
    super::writable::check(
        &[
            Place::folder(exp_dir.root(), "slurm writes experiment.json and slurm/"),
            Place::folder(
                exp_dir.slurm(),
                "slurm writes the job's script, its task list and the tasks' logs",
            ),
        ],
        "pass --results with a folder you can write to",
    )?;
    super::writable::check(
        &run::data_places(variants, data_root),
        "pass --data-dir with a folder you can write to",
    )
}

/// When `--only` chose nothing: the variants not started whose newest array task failed (an
/// experiment file edited after submission, a runner that could not start), which `--only
/// failed` does not choose (their runs never began, so they are not failed runs), and what
/// submits them. Read from the tasks' logs, without Slurm.
fn failed_tasks_line(
    exp_dir: &ExperimentDir,
    variants: &[&Variant],
    only: &[Only],
) -> Option<String> {
    if only.contains(&Only::NotStarted) {
        return None;
    }
    let newest = slurm::newest_tasks(&exp_dir.slurm()).ok()?;
    let failed = variants
        .iter()
        .filter(|v| {
            newest.get(&v.id).is_some_and(|t| {
                matches!(
                    reader::read_state(&exp_dir.run(&v.id)),
                    Ok((RunState::NotStarted, _))
                ) && slurm::task_error(&exp_dir.slurm(), &t.job_id, t.task).is_some()
            })
        })
        .count();
    (failed > 0).then(|| {
        format!(
            "the Slurm tasks of {failed} not started variant(s) failed before their runs began \
             (`anigan-runner status` says why): --only not-started, or no --only, submits them"
        )
    })
}

/// Cores per task when `--cpus-per-task` is not given: train.threads' default (0, the cores
/// available) means nothing on a node Slurm shares out.
const DEFAULT_CPUS_PER_TASK: u32 = 2;

/// The cores each task asks for (`flag`, `--cpus-per-task`, else the largest train.threads
/// of `variants`, else `DEFAULT_CPUS_PER_TASK`), and a line saying when the tasks then train
/// some variant with other threads than its train.threads (a task runs `--threads` its cores).
fn cpus_per_task(flag: Option<u32>, variants: &[&Variant]) -> (u32, Option<String>) {
    let mut set: Vec<u32> = variants
        .iter()
        .map(|v| v.config.train.threads)
        .filter(|&t| t > 0)
        .collect();
    set.sort_unstable();
    set.dedup();
    let cpus = flag
        .or_else(|| set.last().copied())
        .unwrap_or(DEFAULT_CPUS_PER_TASK);
    let unlike: Vec<String> = set
        .iter()
        .filter(|&&t| t != cpus)
        .map(u32::to_string)
        .collect();
    if unlike.is_empty() {
        return (cpus, None);
    }
    let from = match flag {
        Some(_) => "--cpus-per-task",
        None => "the largest train.threads, as --cpus-per-task",
    };
    let line = format!(
        "each task asks for {cpus} core(s) ({from}) and trains with --threads {cpus}: \
         train.threads = {} is not used (--cpus-per-task N sets the cores and threads)",
        unlike.join(", ")
    );
    (cpus, Some(line))
}

/// The longest `--signal` lead Slurm takes, in seconds (a 16-bit field).
const MAX_SIGNAL_LEAD: u32 = 65_535;

/// Rules on the command line that sbatch would find only after files were written, or never:
/// options that would silently undo the script's own, settings that give tasks no time to
/// checkpoint or GPUs they cannot use.
fn check_args(args: &SlurmArgs) -> Result<()> {
    let mut problems = Vec::new();
    if let Some(t) = &args.time {
        match slurm::time_limit_seconds(t) {
            None => problems.push(format!(
                "--time {t:?} is not a Slurm time limit: use MM, MM:SS, HH:MM:SS or D-HH[:MM[:SS]]"
            )),
            Some(limit) if limit <= u64::from(args.signal_lead) => problems.push(format!(
                "--time {t} ({limit} s) must be longer than --signal-lead ({} s): the runner \
                 needs that long to finish its epoch and checkpoint before the limit",
                args.signal_lead
            )),
            Some(_) => {}
        }
    }
    if args.max_parallel == Some(0) {
        problems.push("--max-parallel must be at least 1".into());
    }
    if args.cpus_per_task == Some(0) {
        problems.push("--cpus-per-task must be at least 1".into());
    }
    if args.signal_lead == 0 {
        problems.push(
            "--signal-lead must be at least 1: at 0 Slurm's warning comes with the time limit \
             itself, leaving no time to finish the epoch and write a checkpoint"
                .into(),
        );
    } else if args.signal_lead > MAX_SIGNAL_LEAD {
        problems.push(format!(
            "--signal-lead {} is more than Slurm's --signal takes ({MAX_SIGNAL_LEAD} s)",
            args.signal_lead
        ));
    }
    match (args.gpus_per_task, args.device) {
        (Some(0), _) => problems.push(
            "--gpus-per-task must be at least 1 (leave it out for tasks without GPUs)".into(),
        ),
        (Some(n), DeviceChoice::Cpu) => problems.push(format!(
            "--gpus-per-task {n} with --device cpu: every task would hold {n} GPU(s) it never \
             uses; leave --gpus-per-task out, or train on them with --device cuda or auto"
        )),
        (Some(n), DeviceChoice::Cuda(k)) if k as u32 >= n => problems.push(format!(
            "--device cuda:{k} with --gpus-per-task {n}: a task sees its GPU(s) as cuda:0 to \
             cuda:{} (Slurm sets CUDA_VISIBLE_DEVICES), so cuda:{k} is none of them",
            n - 1
        )),
        _ => {}
    }
    problems.extend(
        args.sbatch_args
            .iter()
            .filter_map(|a| slurm::sbatch_arg_problem(a)),
    );
    if problems.is_empty() {
        Ok(())
    } else {
        Err(usage_problems(problems))
    }
}

/// The selected variants still to submit, how many are done, and those already queued with
/// their tasks.
struct Plan<'a> {
    variants: Vec<&'a Variant>,
    finished: usize,
    in_queue: Vec<(&'a Variant, TaskState)>,
}

impl Plan<'_> {
    fn ids(&self) -> Vec<&str> {
        self.variants.iter().map(|v| v.id.as_str()).collect()
    }

    fn line(&self, experiment: &str, selected: usize) -> String {
        format!(
            "experiment {experiment}: {selected} variant(s) selected: {} done, {} already \
             queued, {} to submit",
            self.finished,
            self.in_queue.len(),
            self.variants.len()
        )
    }
}

fn split<'a>(
    selected: &[&'a Variant],
    exp_dir: &ExperimentDir,
    queued: Vec<(String, TaskState)>,
    only: &[Only],
) -> Result<Plan<'a>> {
    let mut plan = Plan {
        variants: Vec::new(),
        finished: 0,
        in_queue: Vec::new(),
    };
    for v in selected {
        let status = reader::read_status(&exp_dir.run(&v.id))?;
        if sweep_queue::done(status.as_ref(), v, only).is_some() {
            plan.finished += 1;
        } else if let Some((_, task)) = queued.iter().rev().find(|(id, _)| *id == v.id) {
            plan.in_queue.push((*v, task.clone()));
        } else {
            plan.variants.push(*v);
        }
    }
    Ok(plan)
}

fn script(
    args: &SlurmArgs,
    experiment: &Experiment,
    slurm_dir: &Path,
    ids: &[&str],
    cpus_per_task: u32,
) -> Result<Script> {
    let abs = |p: &Path| std::path::absolute(p).with_context(|| format!("{}", p.display()));
    let slurm_dir = abs(slurm_dir)?;
    let list_text: String = ids.iter().map(|id| format!("{id}\n")).collect();
    let list_hash = blake3::hash(list_text.as_bytes()).to_hex();
    let exp = &args.exp;
    let mut run_args = vec![
        abs(&exp.experiment)?.display().to_string(),
        "--results".into(),
        abs(&exp.results)?.display().to_string(),
        "--data-dir".into(),
        abs(&exp.data_dir)?.display().to_string(),
        "--device".into(),
        args.device.to_string(),
    ];
    for set in &exp.sets {
        run_args.push("--set".into());
        run_args.push(set.clone());
    }
    if !exp.only.is_empty() {
        // A task requeued by its time limit finds its variant interrupted: it resumes it too.
        let mut states: Vec<&str> = exp.only.iter().map(|o| o.word()).collect();
        if !exp.only.contains(&Only::Interrupted) {
            states.push(Only::Interrupted.word());
        }
        run_args.push("--only".into());
        run_args.push(states.join(","));
    }
    let (job_name, extra_args) = slurm::split_job_name(&args.sbatch_args);
    Ok(Script {
        job_name: job_name.unwrap_or_else(|| format!("anigan-{}", experiment.name)),
        tasks: ids.len(),
        max_parallel: args.max_parallel,
        cpus_per_task,
        gpus_per_task: args.gpus_per_task,
        time: args.time.clone(),
        signal_lead_s: args.signal_lead,
        extra_args,
        log_dir: slurm_dir.clone(),
        variant_list: slurm_dir.join(format!("variants-{}.txt", &list_hash[..8])),
        workdir: std::env::current_dir().context("cannot read the working directory")?,
        runner: std::env::current_exe().context("cannot locate the anigan-runner binary")?,
        run_args,
    })
}

/// What `sbatch` is asked to do with a script, and what its failure leaves behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ask {
    /// `--dry-run`: whether Slurm would take the script printed.
    DryRun,
    /// Before anything is prepared or written: whether Slurm would take the script.
    TestOnly,
    /// The submission itself.
    Submit,
}

impl Ask {
    /// What a refusal of this ask leaves behind, and where to look.
    fn refused(self) -> &'static str {
        match self {
            Ask::DryRun => "sbatch --test-only on the script above; nothing submitted",
            Ask::TestOnly => {
                "sbatch --test-only; nothing was prepared, written or submitted; `--dry-run` \
                 prints the script"
            }
            Ask::Submit => "nothing submitted; the data prepared for it stays",
        }
    }

    /// What no answer to this ask leaves behind: a submission may have gone through before
    /// sbatch was stopped, and `job_name` finds it.
    fn unanswered(self, job_name: &str) -> String {
        match self {
            Ask::Submit => format!(
                "the data prepared for it stays; sbatch may have submitted the job array before \
                 it was stopped: `squeue --me --name {}` lists it; scancel it before running \
                 this command again",
                slurm::quote(job_name)
            ),
            Ask::TestOnly => {
                "sbatch --test-only; nothing was prepared, written or submitted".into()
            }
            Ask::DryRun => self.refused().into(),
        }
    }
}

/// A dry run's check of `script` by Slurm when a controller answers: `sbatch --test-only`
/// submits nothing, and a refusal is a usage error (exit 2), as for a submission. Returns what
/// the dry run says of the check: done, or skipped and why.
fn dry_run_check(script: &Script, wait: Duration) -> Result<String> {
    if let Some(why) = slurm::client::controller_problem(wait) {
        return Ok(format!(
            "Slurm did not check the script (no sbatch --test-only): {why}"
        ));
    }
    sbatch(script, Ask::DryRun, wait)?;
    Ok("Slurm would take the script (sbatch --test-only)".into())
}

/// Gives the script to sbatch on its standard input and returns the job id it prints
/// (`--parsable`: `ID[;CLUSTER]`); for a test (`--test-only`), asks Slurm whether it would
/// take the job, submits nothing and returns "". A missing sbatch, a refusal or no answer
/// within `wait` is a usage error (exit 2): the command line (`--sbatch-arg`, `--time`) or the
/// environment is wrong, not a variant.
fn sbatch(script: &Script, ask: Ask, wait: Duration) -> Result<String> {
    let mut command = slurm::client::command("sbatch")?;
    command.arg("--parsable");
    if ask != Ask::Submit {
        command.arg("--test-only");
    }
    let what = if ask == Ask::Submit {
        "sbatch --parsable"
    } else {
        "sbatch --parsable --test-only"
    };
    let text = script.render();
    let Some(out) = slurm::client::output(command, "sbatch", Some(text.as_bytes()), wait)? else {
        let no_answer = slurm::client::no_answer(what, wait);
        let left = ask.unanswered(&script.job_name);
        return Err(usage(format!("{no_answer} ({left})")));
    };
    if !out.status.success() {
        // sbatch fails the same way when no controller can be reached: then nothing was
        // refused, and the fix is the environment's.
        if let Some(why) = slurm::client::controller_problem(wait) {
            return Err(usage(format!(
                "Slurm could not be reached, so it neither took nor refused the job array ({}): \
                 {why}",
                ask.refused()
            )));
        }
        let said = slurm::client::one_line("sbatch", &out.stderr);
        // A partition it does not have: the ones it has, which the user may not know.
        let partitions = said
            .contains("partition")
            .then(|| slurm::client::partitions(wait))
            .flatten()
            .map(|p| format!(" (Slurm's partitions here: {})", p.join(", ")))
            .unwrap_or_default();
        return Err(usage(format!(
            "Slurm refused the job array ({}): {said}{partitions}",
            ask.refused(),
        )));
    }
    if ask != Ask::Submit {
        return Ok(String::new());
    }
    let printed = String::from_utf8_lossy(&out.stdout);
    let id = printed.trim().split(';').next().unwrap_or("").to_string();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        bail!("sbatch printed no job id (got {:?})", printed.trim());
    }
    Ok(id)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn problems(flags: &[&str]) -> String {
        let args = ["anigan-runner", "slurm", "e.toml"].iter().chain(flags);
        let Command::Slurm(args) = Cli::try_parse_from(args).unwrap().command else {
            panic!("not slurm")
        };
        check_args(&args).map_or_else(|e| format!("{e:#}"), |()| String::new())
    }

    #[test]
    fn cores_per_task_follow_the_file_unless_given() {
        let variant = |threads: u32| {
            let mut config = crate::config::Config::default();
            config.train.threads = threads;
            Variant {
                index: 0,
                id: "000-aa".into(),
                grid_values: Vec::new(),
                config,
            }
        };
        let (one, four, unset) = (variant(1), variant(4), variant(0));
        for (flag, variants, cpus, says, why) in [
            (None, &[&unset][..], 2, None, "nothing set: the default"),
            (None, &[&one, &unset], 1, None, "the file's threads"),
            (
                None,
                &[&one, &four],
                4,
                Some(
                    "(the largest train.threads, as --cpus-per-task) and trains with --threads 4: train.threads = 1 is not used",
                ),
                "a grid over threads: the largest, and the others said",
            ),
            (
                Some(3),
                &[&one],
                3,
                Some("(--cpus-per-task) and trains with --threads 3: train.threads = 1"),
                "the flag wins over the file, and says so",
            ),
            (Some(1), &[&one, &unset], 1, None, "the flag as the file"),
        ] {
            let (got, line) = cpus_per_task(flag, variants);
            assert_eq!(got, cpus, "{why}");
            match says {
                Some(says) => assert!(
                    line.as_deref().is_some_and(|l| l.contains(says)),
                    "{why}: {line:?}"
                ),
                None => assert_eq!(line, None, "{why}"),
            }
        }
    }

    #[test]
    fn flags_that_cannot_work_on_slurm_are_refused() {
        for (flags, says, why) in [
            (&["--time", "04:00:00"][..], "", "a plain submission"),
            (
                &["--gpus-per-task", "1", "--device", "cuda"],
                "",
                "a GPU per task, trained on",
            ),
            (
                &["--signal-lead", "0"],
                "--signal-lead must be at least 1",
                "no time to checkpoint",
            ),
            (
                &["--signal-lead", "70000"],
                "more than Slurm's --signal takes",
                "sbatch would refuse it",
            ),
            (
                &["--gpus-per-task", "1", "--device", "cpu"],
                "every task would hold 1 GPU(s) it never uses",
                "GPUs held for nothing",
            ),
            (
                &["--gpus-per-task", "1", "--device", "cuda:1"],
                "so cuda:1 is none of them",
                "Slurm renumbers a task's GPUs from 0",
            ),
            (
                &["--gpus-per-task", "0"],
                "--gpus-per-task must be at least 1",
                "zero GPUs",
            ),
            (
                &["--sbatch-arg=--array=0-9"],
                "the script sets --array",
                "an option the script writes",
            ),
            (
                &[
                    "--sbatch-arg=--output=x.out",
                    "--sbatch-arg=--partition=gpu",
                ],
                "1 problem with the command line:\n  - --sbatch-arg=\"--output=x.out\"",
                "only the option the script writes",
            ),
        ] {
            let found = problems(flags);
            if says.is_empty() {
                assert_eq!(found, "", "{why}");
            } else {
                assert!(found.contains(says), "{why}: {found}");
            }
        }
    }
}
