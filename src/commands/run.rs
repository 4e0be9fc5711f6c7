//! `anigan-runner [run] EXPERIMENT.toml`: resolve the variants, then train them (in this
//! process, or with `--jobs N` in worker processes; see `sweep`) or list them.

use anyhow::Result;

use crate::cli::RunArgs;
use crate::config::{self, Experiment, Overrides, Variant};
use crate::data::{self, DataRoot};
use crate::exit::{self, Exit};
use crate::fsx::Place;
use crate::results::{ExperimentDir, Manifest, RunState, reader};
use crate::sweep::queue::{self, Next, Only};
use crate::sweep::tally::Tally;
use crate::sweep::{budget, cost, pool, same_data, serial};
use crate::{slurm, stop, train};

pub fn run(args: &RunArgs) -> Result<Exit> {
    let exp = &args.exp;
    let overrides = Overrides::from_environment(exp.sets.clone());
    let experiment = config::resolve(&exp.experiment, &overrides)?;
    let selected = select(&experiment, &exp.variants)?;
    let data_warnings = data::check_data(&experiment.file, selected.iter().map(|v| &v.config))?;
    let exp_dir = ExperimentDir::new(&exp.results, &experiment.name);
    let (selected, rerun) = only(&experiment, &exp_dir, selected, &exp.only)?;
    let data_root = DataRoot(exp.data_dir.clone());
    same_data::check(&selected, &exp_dir, &data_root, &exp.only)?;
    // Checked by --dry-run too: it must refuse what the run would refuse.
    let devices = args
        .device
        .iter()
        .map(|&d| train::device::select(d).map_err(|e| exit::usage(format!("{e:#}"))))
        .collect::<Result<Vec<_>>>()?;
    if args.dry_run {
        if !selected.is_empty() {
            // As the run checks them (it writes nothing when no variant is selected); the
            // check leaves nothing behind.
            check_places(&exp_dir, &selected, &exp.only, &data_root)?;
        }
        // A run says these when it loads the data; a dry run loads none.
        for w in &data_warnings {
            eprintln!("warning: {w}");
        }
        let moved = super::renumbered::renumbered(&exp_dir, &selected);
        print!("{rerun}{}", plan(&experiment, &selected));
        print!("{}", super::renumbered::note(&moved));
        if !selected.is_empty() {
            print!("{}", estimate(args, &exp_dir, &selected, &devices));
        }
        return Ok(Exit::Success);
    }
    eprint!("{rerun}");
    if selected.is_empty() {
        return Ok(Exit::Success);
    }
    let moved = super::renumbered::renumbered(&exp_dir, &selected);
    eprint!("{}", super::renumbered::note(&moved));
    check_places(&exp_dir, &selected, &exp.only, &data_root)?;
    // A --jobs sweep's board says it for its workers.
    stop::install(args.jobs <= 1)?;
    eprint!("{}", estimate(args, &exp_dir, &selected, &devices));
    exp_dir.write_manifest(&Manifest::of(&experiment))?;
    let cores = train::device::available_cores();
    if args.jobs > 1 {
        let options = pool::Options {
            experiment_file: exp.experiment.clone(),
            sets: exp.sets.clone(),
            results: exp.results.clone(),
            data_dir: exp.data_dir.clone(),
            devices: args.device.clone(),
            jobs: args.jobs as usize,
            threads: args.threads,
            only: exp.only.clone(),
        };
        let tally = pool::run(&options, &experiment, &selected, &devices, cores)?;
        requeue_if_warned(&tally);
        return Ok(tally.exit());
    }
    if devices.len() > 1 {
        eprintln!("warning: with --jobs 1 only the first device of --device is used");
    }
    let options = serial::Options {
        exp_dir,
        device: devices[0],
        data_root,
        threads: args.threads,
        budget: cores,
        worker: false,
        only: exp.only.clone(),
    };
    let tally = serial::run(&experiment, &selected, &options)?;
    requeue_if_warned(&tally);
    Ok(tally.exit())
}

/// Every place the run of `selected` writes can be written (`commands::writable`), else a
/// usage error naming those that cannot: the results, then the synthetic datasets.
fn check_places(
    exp_dir: &ExperimentDir,
    selected: &[&Variant],
    only: &[Only],
    data_root: &DataRoot,
) -> Result<()> {
    super::writable::check(
        &places(exp_dir, selected, only),
        "pass --results with a folder you can write to (a copy of these results resumes there)",
    )?;
    super::writable::check(
        &data_places(selected, data_root),
        "pass --data-dir with a folder you can write to",
    )
}

/// Where the run writes: the experiment's folder, and the run folder of every selected
/// variant it will train (not those done or trained by another process now).
fn places(exp_dir: &ExperimentDir, selected: &[&Variant], only: &[Only]) -> Vec<Place> {
    let mut places = vec![Place::folder(
        exp_dir.root(),
        "a run writes experiment.json, the run folders and the report",
    )];
    for v in selected {
        let run = exp_dir.run(&v.id);
        // An unreadable status is the run's to report, which it does when it trains.
        if !matches!(
            queue::next(&run, v, only),
            Ok(Next::Done(..) | Next::Busy(..))
        ) {
            places.extend(run.training_places());
        }
    }
    places
}

/// The synthetic datasets the selected variants generate (`data::synthetic_to_generate`, once
/// per distinct `[data]`: it reads every file of the folder).
pub(super) fn data_places(selected: &[&Variant], root: &DataRoot) -> Vec<Place> {
    let mut sections: Vec<&config::DataSection> = Vec::new();
    for v in selected {
        if !sections.contains(&&v.config.data) {
            sections.push(&v.config.data);
        }
    }
    sections
        .into_iter()
        .filter_map(|d| data::synthetic_to_generate(d, root))
        .map(|f| Place::folder(f, "a run generates its synthetic dataset"))
        .collect()
}

/// What the selected variants still ask for (what each has on disk counted off) and about how
/// long it takes here (`sweep::cost`).
fn estimate(
    args: &RunArgs,
    exp_dir: &ExperimentDir,
    selected: &[&Variant],
    devices: &[tch::Device],
) -> String {
    let data_root = DataRoot(args.exp.data_dir.clone());
    let cores = train::device::available_cores();
    let gpus = devices.iter().filter(|d| d.is_cuda()).count();
    let jobs = args.jobs as usize;
    let lanes = if gpus > 0 { gpus } else { jobs };
    let runner = cost::Runner {
        device: devices[0],
        lanes,
        threads: budget::threads(
            args.threads,
            selected[0].config.train.threads,
            budget::share(cores, if gpus > 0 { jobs * gpus } else { jobs }),
        ),
        jobs,
        cores,
        record: !args.dry_run,
    };
    let done = epochs_done(exp_dir, selected, &args.exp.only);
    cost::estimate(selected, &done, &data_root, Some(&runner))
}

/// The epochs each of `selected` has trained, as a cost estimate counts them off.
pub(super) fn epochs_done(
    exp_dir: &ExperimentDir,
    selected: &[&Variant],
    only: &[Only],
) -> Vec<u32> {
    selected
        .iter()
        .map(|v| match queue::next(&exp_dir.run(&v.id), v, only) {
            // Trained again from the checkpoint a resume starts at, not from the last row.
            Ok(Next::Train { .. }) => reader::resume_epoch(&exp_dir.run(&v.id)).unwrap_or(0),
            // Done before, trained by another process, or unreadable (the run says which).
            _ => v.config.experiment.epochs,
        })
        .collect()
}

/// A Slurm task warned of its time limit (USR1) that stopped early goes back to the queue,
/// where it later resumes from its checkpoint. Outside Slurm nothing happens.
fn requeue_if_warned(tally: &Tally) {
    if !stop::warned() || tally.interrupted + tally.not_started == 0 {
        return;
    }
    match slurm::requeue_self() {
        Ok(Some(job)) => eprintln!("requeued Slurm job {job}: it resumes from its checkpoint"),
        Ok(None) => {}
        Err(e) => eprintln!("warning: {e:#}; resubmit with `anigan-runner slurm` to resume"),
    }
}

/// The variants named by `--variant` (index or id), or all of them.
pub(super) fn select<'a>(
    experiment: &'a Experiment,
    selectors: &[String],
) -> Result<Vec<&'a Variant>> {
    if selectors.is_empty() {
        return Ok(experiment.variants.iter().collect());
    }
    let mut chosen: Vec<&Variant> = Vec::new();
    let mut problems = Vec::new();
    for sel in selectors {
        let found = experiment
            .variants
            .iter()
            .find(|v| v.id == *sel || sel.parse::<usize>().is_ok_and(|i| i == v.index));
        match found {
            Some(v) if !chosen.iter().any(|c| c.index == v.index) => chosen.push(v),
            Some(_) => {}
            None => {
                let ids: Vec<&str> = experiment.variants.iter().map(|v| v.id.as_str()).collect();
                let task = slurm::array_task();
                problems.push(no_such_variant(
                    sel,
                    &experiment.file,
                    &ids,
                    task.as_deref(),
                ));
            }
        }
    }
    if problems.is_empty() {
        chosen.sort_by_key(|v| v.index);
        Ok(chosen)
    } else {
        Err(exit::usage_problems(problems))
    }
}

/// Why `--variant sel` names none of the variants `ids` of `file`. An id (`<index>-<hash>`)
/// carries the variant's grid index and a hash of what it trains, so an edited file can train
/// the same recipe under another id, or not at all. A Slurm array task (`task`: `JOB_TASK`)
/// got its id when the job was submitted: the file changed since, and the task must train
/// nothing rather than another id's recipe in this id's directory.
fn no_such_variant(sel: &str, file: &std::path::Path, ids: &[&str], task: Option<&str>) -> String {
    let hash = sel
        .split_once('-')
        .filter(|(index, hash)| {
            !index.is_empty()
                && index.chars().all(|c| c.is_ascii_digit())
                && !hash.is_empty()
                && hash.chars().all(|c| c.is_ascii_hexdigit())
        })
        .map(|(_, hash)| hash);
    let Some(hash) = hash else {
        return format!(
            "--variant {sel} matches no variant of {} (indexes 0..={}; --dry-run lists the ids)",
            file.display(),
            ids.len().saturating_sub(1)
        );
    };
    let now = match ids
        .iter()
        .find(|id| id.split_once('-').map(|(_, h)| h) == Some(hash))
    {
        Some(id) => format!("its recipe is variant {id} now (the grid was edited)"),
        None => "no variant trains its recipe now".to_string(),
    };
    let file = file.display();
    match task {
        Some(task) => format!(
            "--variant {sel} is no variant of {file} as it stands: {now}. The experiment file \
             changed since Slurm job {task} was submitted, so this task trains nothing; rerun \
             `anigan-runner slurm {file} ...` (the command that submitted it) to submit the \
             experiment as it stands"
        ),
        None => format!(
            "--variant {sel} is no variant of {file} as it stands: {now} (an id carries the \
             grid index and a hash of what is trained); --dry-run lists the ids"
        ),
    }
}

/// `--only STATE[,STATE]`: of `selected`, the variants in those states, and what will be done
/// to each, as lines to print first (empty without `--only`). Nothing is renumbered: a variant
/// keeps its id and directory, and continues from its own last valid checkpoint.
pub(super) fn only<'a>(
    experiment: &Experiment,
    exp_dir: &ExperimentDir,
    selected: Vec<&'a Variant>,
    only: &[Only],
) -> Result<(Vec<&'a Variant>, String)> {
    if only.is_empty() {
        return Ok((selected, String::new()));
    }
    let names: Vec<&str> = only.iter().map(|o| o.word()).collect();
    let mut chosen = Vec::new();
    let mut lines = String::new();
    // The states of the variants left alone, in order of first appearance, with their counts.
    let mut others: Vec<(RunState, usize)> = Vec::new();
    for v in &selected {
        let dir = exp_dir.run(&v.id);
        let (state, status) = reader::read_state(&dir)?;
        if !only.iter().any(|o| o.matches(state)) {
            match others.iter_mut().find(|(s, _)| *s == state) {
                Some((_, n)) => *n += 1,
                None => others.push((state, 1)),
            }
            continue;
        }
        let planned = v.config.experiment.epochs;
        // A budget [prune] may cut short: the plan says so rather than promise every epoch.
        let to = match (v.config.prune.enabled, state) {
            (true, RunState::Pruned) | (false, _) => planned.to_string(),
            (true, _) => format!("{planned} unless a rung stops it"),
        };
        let from = reader::resume_epoch(&dir)?;
        let done = status.as_ref().map_or(0, |s| s.epochs_done);
        let action = match (state, from) {
            (RunState::NotStarted, _) | (_, 0) => {
                format!("starts at epoch 0, trains to {to}")
            }
            (RunState::Pruned, c) => format!(
                "trains on from its checkpoint of epoch {c} to {planned}; no rung judges it any more"
            ),
            (_, c) => {
                format!("resumes from its checkpoint of epoch {c}, trains to {to}")
            }
        };
        let at = match state {
            RunState::NotStarted => String::new(),
            _ => format!(" at epoch {done}"),
        };
        lines += &format!(
            "{} {}{at}: {action}\n",
            serial::label(experiment, v),
            state.word()
        );
        chosen.push(*v);
    }
    let head = format!(
        "--only {}: {} of {} selected variant(s){}\n",
        names.join(","),
        chosen.len(),
        selected.len(),
        match chosen.len() {
            0 => "; nothing to do".to_string(),
            n if n < selected.len() => format!("; the other {} are left alone", selected.len() - n),
            _ => String::new(),
        }
    );
    if chosen.is_empty() {
        lines += &format!("  {}\n", none_chosen(&names, &others));
    }
    Ok((chosen, head + &lines))
}

/// Why `--only names` chose nothing: the states the variants are in (`others`, with counts),
/// each with the `--only` word that would choose it.
fn none_chosen(names: &[&str], others: &[(RunState, usize)]) -> String {
    let states: Vec<String> = others
        .iter()
        .map(
            |&(state, n)| match Only::ALL.iter().find(|o| o.matches(state)) {
                Some(o) => format!("{n} {} (--only {o})", state.word()),
                None => format!("{n} {}", state.word()),
            },
        )
        .collect();
    format!(
        "no selected variant is {}: {}",
        names.join(" or ").replace('-', " "),
        states.join(", ")
    )
}

/// `[prune]`'s rule as the dry run shows it (epochs and `[prune]` are the same for every
/// variant); empty when it is off.
fn prune_line(config: &config::Config) -> String {
    let rule = &config.prune;
    if !rule.enabled {
        return String::new();
    }
    let epochs = config.experiment.epochs;
    let rungs = crate::prune::rungs(rule, epochs);
    let every = config.eval.every.max(1);
    // A rung is judged at the first evaluation at or after it; none at the budget.
    let judged = rungs
        .iter()
        .any(|r| r.epoch.div_ceil(every) * every < epochs);
    if rungs.is_empty() || !judged {
        let why = if rungs.is_empty() {
            format!("no rung below the budget of {epochs} epochs")
        } else {
            format!(
                "no evaluation before the budget of {epochs} epochs judges a rung (eval.every = {every})"
            )
        };
        return format!("prune: {why}: nobody is stopped\n");
    }
    let at: Vec<String> = rungs.iter().map(|r| r.epoch.to_string()).collect();
    format!(
        "prune: best {} so far, rungs at epochs {} of {epochs}{}; a variant goes on within the \
         best 1/{} of those at a rung, once {}\n",
        rule.metric,
        at.join(", "),
        crate::prune::max_rungs_note(rule, epochs),
        rule.eta,
        match rule.min_peers {
            1 => "1 other is there".to_string(),
            n => format!("{n} others are there"),
        }
    )
}

/// One line per variant (index, id, grid and drawn values) and the total.
pub(super) fn plan(experiment: &Experiment, selected: &[&Variant]) -> String {
    let mut out = format!(
        "experiment {} ({}): {} variant{}",
        experiment.name,
        experiment.file.display(),
        experiment.variants.len(),
        if experiment.variants.len() == 1 {
            ""
        } else {
            "s"
        },
    );
    if let Some(layout) = &experiment.grid_layout {
        out += &format!(", {layout}");
    }
    if let Some(sampled) = &experiment.sampled {
        let joint = if experiment.grid_layout.is_none() {
            ","
        } else {
            ";"
        };
        out += &format!("{joint} {sampled}");
    }
    out += "\n";
    if let Some(line) = config::overrides_line(&experiment.overrides) {
        out += &format!("{line}\n");
    }
    if let Some(first) = experiment.variants.first() {
        out += &prune_line(&first.config);
    }
    for v in selected {
        let values: Vec<String> = v
            .grid_values
            .iter()
            .map(|(k, val)| format!("{k}={val}"))
            .collect();
        out += &format!("{:>5}  {}  {}\n", v.index, v.id, values.join(" "));
    }
    out += &format!(
        "{} of {} variants selected; nothing written (dry run)\n",
        selected.len(),
        experiment.variants.len()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_that_is_gone_says_why() {
        let file = std::path::Path::new("/e/edit.toml");
        let ids = ["000-11111111", "001-85ea4b6b", "002-22222222"];
        for (sel, task, says, why) in [
            (
                "7",
                None,
                "(indexes 0..=2; --dry-run lists",
                "an index out of range",
            ),
            (
                "000-85ea4b6b",
                Some("41_0"),
                "its recipe is variant 001-85ea4b6b now (the grid was edited). The experiment \
                 file changed since Slurm job 41_0 was submitted, so this task trains nothing; \
                 rerun `anigan-runner slurm /e/edit.toml ...`",
                "a queued task after a value was put before the first grid key's",
            ),
            (
                "000-deadbeef",
                Some("41_0"),
                "no variant trains its recipe now. The experiment file changed since Slurm job",
                "a queued task after a change of what is trained",
            ),
            (
                "000-85ea4b6b",
                None,
                "its recipe is variant 001-85ea4b6b now (the grid was edited) (an id carries",
                "by hand, an id listed before the edit",
            ),
        ] {
            let message = no_such_variant(sel, file, &ids, task);
            assert!(message.contains(says), "{why}: {message}");
        }
    }

    #[test]
    fn an_only_that_chooses_nothing_names_the_states_there_are() {
        use RunState::*;
        for (names, others, says, why) in [
            (
                &["failed"][..],
                &[(NotStarted, 2), (Finished, 1)][..],
                "no selected variant is failed: 2 not started (--only not-started), 1 finished",
                "runs whose Slurm tasks failed are not failed runs",
            ),
            (
                &["pruned", "not-started"],
                &[(Waiting, 1)],
                "no selected variant is pruned or not started: 1 waiting (--only interrupted)",
                "waiting at a rung is resumed with the interrupted",
            ),
        ] {
            assert_eq!(none_chosen(names, others), says, "{why}");
        }
    }

    /// epochs, eval.every, first_rung; what the dry run says of the rule; why.
    type Row = (u32, u32, u32, &'static str, &'static str);

    #[test]
    fn the_dry_run_says_when_the_rule_stops_nobody() {
        let rows: &[Row] = &[
            (
                8,
                2,
                2,
                "rungs at epochs 2, 4 of 8;",
                "evaluations at the rungs",
            ),
            (
                8,
                2,
                10,
                "prune: no rung below the budget of 8 epochs: nobody is stopped",
                "the first rung is past the budget",
            ),
            (
                8,
                20,
                2,
                "no evaluation before the budget of 8 epochs judges a rung (eval.every = 20)",
                "rungs, but the first evaluation is the budget's: a tester saw 100% and no word",
            ),
        ];
        for &(epochs, every, first_rung, says, why) in rows {
            let mut c = config::Config::default();
            c.experiment.epochs = epochs;
            c.eval.every = every;
            c.prune.enabled = true;
            c.prune.first_rung = first_rung;
            c.prune.eta = 2;
            let line = prune_line(&c);
            assert!(line.contains(says), "{why}: {line}");
        }
    }
}
