//! `[prune]` live: a `--jobs 1` sweep judges rung by rung (every decision sees every variant
//! that reached the rung); a `--jobs 2` sweep stops variants by the rule and finishes the rest once;
//! SIGKILL at any moment, then the same command, ends as an uninterrupted sweep (`--jobs 1`:
//! the same states and metrics; `--jobs 2`: every variant once, its rows those of an
//! uninterrupted run up to where it stopped, no decision revisited); `prune-replay` over the
//! full sweep agrees with the live `--jobs 1` one; `--only` reruns exactly the named states.
//! Tiny 16 px nets, one libtorch thread per process (the test machine has 2 cores).

mod common;
use common::{GRID8, assert_rule_held, events, metrics_without_timing, run_dirs};

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

use anigan_runner::results::{MetricsRow, RungRecord, reader};
use assert_cmd::Command;
use assert_cmd::cargo::CommandCargoExt;
use predicates::prelude::*;

/// GRID8's rule over 12 variants with the health policy on and eager (one rollback, then a
/// stop): on these settings five variants collapse, some after a rollback at the judged
/// epoch, so collapsed peers count as the worst and judgements wait for the next evaluation.
const STORY12: &str = r#"
[experiment]
seed = 3
epochs = 8
[data]
source = "synthetic"
synthetic_count = 192
image_size = 16
holdout = 64
[model]
z_dim = 16
g_width = 8
d_width = 8
[train]
batch_size = 32
[checkpoint]
every = 2
keep = 2
[rollback]
patience = 2
warmup_images = 128
max_rollbacks = 1
[eval]
every = 2
samples = 64
[prune]
enabled = true
first_rung = 2
eta = 2
min_peers = 2
[grid]
"train.lr_d" = [2e-4, 1e-4, 5e-5, 2e-5]
"train.lr_g" = [2e-4, 5e-5, 1e-4]
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(&file, text).unwrap();
    file
}

/// Datasets, caches and the tag classifier, shared by every test of this file.
fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("prune-data")
}

fn args(experiment: &Path, results: &Path) -> Vec<std::ffi::OsString> {
    common::cpu_args(experiment, results, &data_dir())
}

fn runner(experiment: &Path, results: &Path) -> Command {
    let mut cmd = Command::cargo_bin("anigan-runner").unwrap();
    cmd.args(args(experiment, results));
    cmd
}

fn name(run: &Path) -> String {
    run.file_name().unwrap().to_string_lossy().into_owned()
}

/// The state as `status` and `--only` name it (a killed run reads as interrupted).
fn state(run: &Path) -> String {
    let (state, _) = reader::read_state(&anigan_runner::results::RunDir::at(run)).unwrap();
    state.word().to_string()
}

fn rungs(run: &Path) -> Vec<RungRecord> {
    reader::read_rungs(&anigan_runner::results::RunDir::at(run)).unwrap()
}

#[test]
fn jobs_2_stops_variants_by_the_rule_and_finishes_the_rest_once() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let exp = write(tmp.path(), "grid8", GRID8);
    let out = runner(&exp, &results)
        .args(["--jobs", "2"])
        .assert()
        .success()
        .stderr(predicate::str::contains("by 2 worker processes"))
        .get_output()
        .clone();
    let log = String::from_utf8(out.stderr).unwrap();
    // The final tally is a result: stdout.
    let outcome = String::from_utf8(out.stdout).unwrap();
    let exp_dir = results.join("grid8");
    let (pruned, finished) = assert_rule_held(&exp_dir, 8, false);
    assert!(
        pruned > 0 && finished > 0,
        "{pruned} pruned, {finished} finished:\n{log}"
    );
    assert!(
        outcome.contains(&format!(
            "{finished} finished, {pruned} pruned (stopped at a rung)"
        )),
        "{outcome}"
    );
    for run in run_dirs(&exp_dir) {
        let id = name(&run);
        let firsts = log
            .lines()
            .filter(|l| l.contains(&id) && l.contains(" epoch 1/8 "))
            .count();
        assert_eq!(firsts, 1, "{id} started once:\n{log}");
    }
    let summary = std::fs::read_to_string(exp_dir.join("summary.csv")).unwrap();
    assert!(
        summary.lines().next().unwrap().contains("pruned_at_rung"),
        "{summary}"
    );
    assert_eq!(summary.matches(",pruned,").count(), pruned, "{summary}");
    let report = std::fs::read_to_string(exp_dir.join("report.md")).unwrap();
    assert!(report.contains(&format!("{pruned} pruned")), "{report}");
    let status = Command::cargo_bin("anigan-runner")
        .unwrap()
        .args(["status", "--json"])
        .arg(&exp_dir)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let lines: Vec<serde_json::Value> = serde_json::from_slice(&status).unwrap();
    let at_rung = lines
        .iter()
        .filter(|l| l["pruned_at_rung"].is_u64())
        .count();
    assert_eq!(at_rung, pruned, "{lines:?}");
    // The same command leaves them alone.
    runner(&exp, &results)
        .args(["--jobs", "2"])
        .assert()
        .success()
        .stderr(predicate::str::contains("already pruned").count(pruned))
        .stderr(predicate::str::contains("already finished").count(finished));

    // Pruned runs whose metrics.csv lost rows (a partial copy: all but the header, all but the
    // first row) train the lost epochs again, also from the initial weights, and stop at the
    // same rung with the same rows: the decision written is kept.
    let decisions = |run: &Path| -> Vec<(PathBuf, Vec<u8>)> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(run.join("rungs"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|f| (f.clone(), std::fs::read(f).unwrap()))
            .collect()
    };
    let cut: Vec<(PathBuf, Vec<MetricsRow>, _)> = run_dirs(&exp_dir)
        .into_iter()
        .filter(|run| state(run) == "pruned")
        .map(|run| (run.clone(), metrics_without_timing(&run), decisions(&run)))
        .collect();
    for (i, (run, _, _)) in cut.iter().enumerate() {
        let metrics = run.join("metrics.csv");
        let text = std::fs::read_to_string(&metrics).unwrap();
        let kept: Vec<&str> = text.lines().take(1 + i % 2).collect();
        std::fs::write(&metrics, kept.join("\n") + "\n").unwrap();
    }
    runner(&exp, &results)
        .args(["--jobs", "2"])
        .assert()
        .success();
    for (run, rows, decision) in &cut {
        assert_eq!(state(run), "pruned", "{}", name(run));
        assert_eq!(&metrics_without_timing(run), rows, "{}", name(run));
        assert_eq!(
            &decisions(run),
            decision,
            "{}: the decisions are kept",
            name(run)
        );
    }
}

/// Kills a sweep started by `start` at moments that vary: right after a decision file
/// appears (between the decision and what follows it), after an epoch's row, or after a
/// pseudo-random delay; starts it again each time, until a run ends by itself. Returns every
/// decision file seen between kills, with its bytes.
fn kill_until_done(
    exp_dir: &Path,
    start: &dyn Fn() -> Child,
    kill: &dyn Fn(&mut Child),
) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut seen = BTreeMap::new();
    let mut seed: u64 = 0x9e37_79b9;
    for round in 0.. {
        let mut child = start();
        if round >= 8 {
            // Enough kills: let it finish.
            assert!(
                child
                    .wait()
                    .unwrap()
                    .code()
                    .is_some_and(|c| [0, 3].contains(&c))
            );
            break;
        }
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let files_before = decision_files(exp_dir).len();
        let rows_before = rows_on_disk(exp_dir);
        let delay = Duration::from_millis(300 + (seed >> 33) % 3000);
        let started = Instant::now();
        let trigger = |round: usize| match round % 3 {
            0 => decision_files(exp_dir).len() > files_before,
            1 => rows_on_disk(exp_dir) > rows_before + 1,
            _ => started.elapsed() >= delay,
        };
        let finished_alone = loop {
            if let Some(code) = child.try_wait().unwrap() {
                break Some(code);
            }
            if trigger(round) || started.elapsed() > Duration::from_secs(120) {
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        if let Some(code) = finished_alone {
            assert!(code.code().is_some_and(|c| [0, 3].contains(&c)), "{code:?}");
            break;
        }
        kill(&mut child);
        child.wait().unwrap();
        for f in decision_files(exp_dir) {
            let bytes = std::fs::read(&f).unwrap();
            seen.entry(f).or_insert(bytes);
        }
    }
    seen
}

fn decision_files(exp_dir: &Path) -> Vec<PathBuf> {
    let Ok(runs) = std::fs::read_dir(exp_dir.join("runs")) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for run in runs {
        let Ok(entries) = std::fs::read_dir(run.unwrap().path().join("rungs")) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.file_name().unwrap().to_string_lossy().starts_with('e') {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// Metric rows in every run directory (a rough progress count).
fn rows_on_disk(exp_dir: &Path) -> usize {
    let Ok(runs) = std::fs::read_dir(exp_dir.join("runs")) else {
        return 0;
    };
    runs.map(|r| {
        std::fs::read_to_string(r.unwrap().path().join("metrics.csv"))
            .map_or(0, |t| t.lines().count().saturating_sub(1))
    })
    .sum()
}

/// Every decision seen between kills is still there, byte for byte: none was revisited.
fn assert_never_revisited(seen: &BTreeMap<PathBuf, Vec<u8>>) {
    assert!(!seen.is_empty(), "no decision was written before a kill");
    for (path, bytes) in seen {
        assert_eq!(
            &std::fs::read(path).unwrap(),
            bytes,
            "{} changed after it was written",
            path.display()
        );
    }
}

/// Rows of the whole (full-budget) run `full` up to step `last`.
fn prefix(full: &[MetricsRow], last: u64) -> Vec<MetricsRow> {
    full.iter().filter(|r| r.step <= last).cloned().collect()
}

/// One story, so the expensive sweeps are trained once: the full sweep (prune off), the live
/// `--jobs 1` pruned sweep, the replay over the full one, then the pruned sweep killed again
/// and again with `--jobs 1` and with `--jobs 2`.
#[test]
fn sigkill_at_any_moment_then_the_same_command_and_the_replay_agrees() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = write(tmp.path(), "story", STORY12);
    let full = tmp.path().join("full");
    runner(&exp, &full)
        .args(["--set", "prune.enabled=false"])
        .assert()
        .code(predicate::in_iter([0, 3]));
    let live = tmp.path().join("live");
    runner(&exp, &live)
        .assert()
        .code(predicate::in_iter([0, 3]))
        .stdout(predicate::str::contains("pruned (stopped at a rung)"));
    let (full, live) = (full.join("story"), live.join("story"));
    let (full_runs, live_runs) = (run_dirs(&full), run_dirs(&live));
    assert_eq!(full_runs.len(), 12);
    let states: Vec<String> = live_runs.iter().map(|r| state(r)).collect();
    for want in ["pruned", "collapsed", "finished"] {
        assert!(states.iter().any(|s| s == want), "no {want}: {states:?}");
    }
    let worst_peer = live_runs.iter().flat_map(|r| rungs(r)).any(|d| {
        d.peers
            .iter()
            .any(|p| p.figure == anigan_runner::prune::Figure::Worst)
    });
    assert!(
        worst_peer,
        "a collapsed peer should count as the worst somewhere"
    );
    // Rung by rung: every decision saw every variant that reached the rung (its own decision
    // there), and the collapsed ones without one as the worst; on arrival the first variants
    // would have seen fewer.
    for run in &live_runs {
        for d in rungs(run) {
            let reached = live_runs
                .iter()
                .filter(|o| *o != run)
                .filter(|o| {
                    state(o) == "collapsed" || rungs(o).iter().any(|e| e.rung_epoch == d.rung_epoch)
                })
                .count();
            assert_eq!(d.entrants, reached + 1, "{} at {}", name(run), d.rung_epoch);
        }
    }
    // A pruned variant's rows are the full run's up to its stop.
    for (f, l) in full_runs.iter().zip(&live_runs) {
        let last = rungs(l)
            .last()
            .filter(|d| d.is_stop())
            .map_or(u64::MAX, |d| d.step);
        assert_eq!(
            metrics_without_timing(l),
            prefix(&metrics_without_timing(f), last),
            "{}",
            name(l)
        );
    }

    // The replay over the full sweep decides what the live --jobs 1 sweep decided.
    let replay = Command::cargo_bin("anigan-runner")
        .unwrap()
        .args(["prune-replay", "--json", "--set", "prune.enabled=true"])
        .arg(&full)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let replay: serde_json::Value = serde_json::from_slice(&replay).unwrap();
    for (v, l) in replay["variants"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&live_runs)
    {
        assert_eq!(v["id"], name(l));
        assert_eq!(v["replayed"], state(l), "{}", name(l));
        let decided: Vec<RungRecord> = serde_json::from_value(v["decisions"].clone()).unwrap();
        assert_eq!(decided, rungs(l), "{}: the same decisions", name(l));
    }
    let text = Command::cargo_bin("anigan-runner")
        .unwrap()
        .args(["prune-replay"])
        .arg(&full)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains("training images:") && text.contains("saved"),
        "{text}"
    );
    assert!(text.contains("the variant that finished best"), "{text}");

    // --jobs 1, killed again and again: the same states, metrics, decisions and events.
    let killed = tmp.path().join("killed1");
    let seen = kill_until_done(
        &killed.join("story"),
        &|| {
            Process::cargo_bin("anigan-runner")
                .unwrap()
                .args(args(&exp, &killed))
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        },
        &|c| c.kill().unwrap(),
    );
    assert_never_revisited(&seen);
    let killed_runs = run_dirs(&killed.join("story"));
    assert_eq!(killed_runs.len(), live_runs.len());
    for (k, l) in killed_runs.iter().zip(&live_runs) {
        assert_eq!(name(k), name(l));
        assert_eq!(state(k), state(l), "{}", name(k));
        assert_eq!(
            metrics_without_timing(k),
            metrics_without_timing(l),
            "{}",
            name(k)
        );
        assert_eq!(rungs(k), rungs(l), "{}", name(k));
        assert_eq!(events(k), events(l), "{}", name(k));
    }

    // --jobs 1 killed while variants wait at the first rung, then --jobs 2: the waiting
    // variants are judged on resume against what their peers recorded, and each variant still
    // ends once with the full run's rows up to where it stopped.
    let mixed = tmp.path().join("mixed");
    let mut child = Process::cargo_bin("anigan-runner")
        .unwrap()
        .args(args(&exp, &mixed))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let waiting = |dir: &Path| -> usize {
        let Ok(runs) = std::fs::read_dir(dir.join("runs")) else {
            return 0;
        };
        runs.filter(|r| state(&r.as_ref().unwrap().path()) == "waiting")
            .count()
    };
    let started = Instant::now();
    while waiting(&mixed.join("story")) < 3 && started.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let waited: Vec<PathBuf> = run_dirs(&mixed.join("story"))
        .into_iter()
        .filter(|r| state(r) == "waiting")
        .collect();
    assert!(waited.len() >= 3, "killed before 3 variants waited");
    runner(&exp, &mixed)
        .args(["--jobs", "2"])
        .assert()
        .code(predicate::in_iter([0, 3]));
    let mixed_runs = run_dirs(&mixed.join("story"));
    for (m, f) in mixed_runs.iter().zip(&full_runs) {
        let stop = rungs(m).last().filter(|d| d.is_stop()).cloned();
        assert!(
            ["finished", "pruned", "collapsed"].contains(&state(m).as_str()),
            "{}",
            name(m)
        );
        let last = stop.map_or(u64::MAX, |d| d.step);
        assert_eq!(
            metrics_without_timing(m),
            prefix(&metrics_without_timing(f), last),
            "{}: each epoch once, as the uninterrupted run",
            name(m)
        );
    }
    for w in &waited {
        assert!(!rungs(w).is_empty(), "{}: judged on resume", name(w));
    }

    // --jobs 2, parent and workers killed together: each variant once, its rows the full
    // run's up to where it stopped, ending as the full run did unless pruned.
    let killed = tmp.path().join("killed2");
    let seen = kill_until_done(
        &killed.join("story"),
        &|| {
            Process::cargo_bin("anigan-runner")
                .unwrap()
                .args(args(&exp, &killed))
                .args(["--jobs", "2"])
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .unwrap()
        },
        // SAFETY: SIGKILL to the process group this test started.
        &|c| unsafe {
            libc::kill(-(c.id() as libc::pid_t), libc::SIGKILL);
        },
    );
    assert_never_revisited(&seen);
    let killed_runs = run_dirs(&killed.join("story"));
    for (k, f) in killed_runs.iter().zip(&full_runs) {
        let id = name(k);
        let stop = rungs(k).last().filter(|d| d.is_stop()).cloned();
        match (state(k).as_str(), &stop) {
            ("pruned", Some(_)) => {}
            (s, None) => assert_eq!(s, state(f), "{id}: not pruned, it ends as the full run"),
            (s, Some(_)) => panic!("{id}: ended {s} with a stop on disk"),
        }
        let last = stop.map_or(u64::MAX, |d| d.step);
        assert_eq!(
            metrics_without_timing(k),
            prefix(&metrics_without_timing(f), last),
            "{id}: each epoch once, as the uninterrupted run"
        );
    }
}

/// --only reruns exactly the variants in the named states, each from its own checkpoint, and
/// leaves every other run directory as it was.
#[test]
fn only_reruns_exactly_the_named_states() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    // GRID8 and two more lr_d values (10 variants), and one the health policy stops at once.
    let text = GRID8.replace(
        "\"train.lr_d\" = [2e-4, 1e-4, 5e-5, 1e-5]",
        "\"train.lr_d\" = [2e-4, 1e-4, 5e-5, 1e-5, 2e-5]",
    ) + "[[grid.include]]\n\"rollback.enabled\" = true\n\"rollback.eps\" = 0.45\n\
         \"rollback.patience\" = 2\n\"rollback.warmup_images\" = 0\n\"rollback.max_rollbacks\" = 0\n";
    let exp = write(tmp.path(), "only", &text);
    let exp_dir = results.join("only");
    // Variants 0-5 and the collapsing one (10) trained; 6 killed mid-run; 7 failed before it
    // started; 8 and 9 never started. One command per variant, as Slurm array tasks: judged on
    // arrival (a command over several would wait at the first rung for the rest of the grid).
    for i in 0..=5 {
        runner(&exp, &results)
            .args(["--variant", &i.to_string()])
            .assert()
            .success();
    }
    runner(&exp, &results)
        .args(["--variant", "10"])
        .assert()
        .code(3);
    let id_of = |index: usize| {
        let dry = runner(&exp, &results).arg("--dry-run").output().unwrap();
        String::from_utf8(dry.stdout)
            .unwrap()
            .lines()
            .find_map(|l| {
                let mut w = l.split_whitespace();
                (w.next() == Some(&index.to_string())).then(|| w.next().unwrap().to_string())
            })
            .unwrap()
    };
    let mut child = Process::cargo_bin("anigan-runner")
        .unwrap()
        .args(args(&exp, &results))
        .args(["--variant", "6", "--set", "prune.enabled=false"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let six = exp_dir.join("runs").join(id_of(6));
    let deadline = Instant::now() + Duration::from_secs(120);
    while !six.join("checkpoints/epoch-0004.json").exists() {
        assert!(Instant::now() < deadline, "variant 6 reached no epoch 4");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // The kill as it lands at its worst: after epoch 4's checkpoint, before its status. The
    // rung at epoch 4 must count variant 6 as arrived (its rerun starts after epoch 4), or the
    // not-started variants below wait there for it.
    let file = six.join("status.json");
    let mut status: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let per_epoch =
        status["steps_done"].as_u64().unwrap() / status["epochs_done"].as_u64().unwrap();
    status["epochs_done"] = serde_json::json!(3);
    status["steps_done"] = serde_json::json!(3 * per_epoch);
    status["state"] = serde_json::json!("running");
    std::fs::write(&file, serde_json::to_string_pretty(&status).unwrap()).unwrap();
    let seven = anigan_runner::results::ExperimentDir::at(&exp_dir).run(&id_of(7));
    anigan_runner::results::mark_failed(&seven, 8, "its data could not be read").unwrap();
    let before = |dir: &Path| -> BTreeMap<String, (String, Vec<MetricsRow>)> {
        run_dirs(dir)
            .iter()
            .filter(|r| r.join("status.json").exists())
            .map(|r| (name(r), (state(r), metrics_without_timing(r))))
            .collect()
    };
    let states = before(&exp_dir);
    let count = |s: &str| states.values().filter(|v| v.0 == s).count();
    assert!(count("pruned") > 0 && count("finished") > 0, "{states:?}");
    assert_eq!(
        (count("collapsed"), count("failed"), count("interrupted")),
        (1, 1, 1),
        "{states:?}"
    );
    assert_eq!(states.len(), 9, "8 and 9 never started: {states:?}");

    // Each state named trains exactly its variants; the first lines say what will be done.
    // Not-started first: rung by rung, the others would wait at a rung for them.
    let rows = [
        (
            &["not-started"][..],
            "starts at epoch 0, trains to 8 unless a rung stops it",
        ),
        (
            &["failed", "interrupted"][..],
            "resumes from its checkpoint of epoch 4, trains to 8 unless a rung stops it",
        ),
        (
            &["collapsed"][..],
            // The epoch is the detector's: sample_swd lets d_fooled fire without waiting for
            // an evaluation.
            ": resumes from its checkpoint of epoch",
        ),
        (&["pruned"][..], "trains on from its checkpoint"),
    ];
    for (only, says) in rows {
        let named = only.join(",");
        let now = before(&exp_dir);
        let matching: Vec<String> = now
            .iter()
            .filter(|(_, v)| only.iter().any(|o| o.replace('-', " ") == v.0))
            .map(|(id, _)| id.clone())
            .collect();
        let n = matching.len() + if named == "not-started" { 2 } else { 0 };
        let out = runner(&exp, &results)
            .args(["--only", &named])
            .output()
            .unwrap();
        let log = String::from_utf8(out.stderr).unwrap();
        assert!(
            log.starts_with(&format!("--only {named}: {n} of 11 selected variant(s)")),
            "{log}"
        );
        assert!(log.contains(says), "{named}: {log}");
        if named == "collapsed" {
            assert!(log.contains("collapsed at epoch "), "{log}");
        }
        let after = before(&exp_dir);
        for (id, (was_state, was_rows)) in &now {
            let trained = log.contains(&format!("{id} epoch "));
            if matching.contains(id) {
                assert!(
                    trained,
                    "{named}: {id} ({was_state}) was not trained:\n{log}"
                );
            } else {
                assert!(!trained, "{named}: {id} ({was_state}) was trained:\n{log}");
                assert_eq!(&after[id], &(was_state.clone(), was_rows.clone()), "{id}");
            }
        }
        if named == "not-started" {
            assert!(
                matching.is_empty(),
                "not-started variants have no status yet"
            );
            let new: Vec<&String> = after.keys().filter(|id| !now.contains_key(*id)).collect();
            assert_eq!(new.len(), 2, "{after:?}");
            for id in new {
                assert!(
                    ["finished", "pruned"].contains(&after[id].0.as_str()),
                    "{id}"
                );
            }
        }
        if named == "pruned" {
            for id in &matching {
                let (state, rows) = &after[id];
                assert_eq!(state, "finished", "{id}: trained on to its budget");
                let steps: Vec<u64> = rows.iter().map(|r| r.step).collect();
                assert_eq!(steps, (1..=8).collect::<Vec<_>>(), "{id}: each epoch once");
            }
        }
    }
    // Nothing is left in the states asked for but the collapsed one, which collapses again.
    let dry = runner(&exp, &results)
        .args([
            "--only",
            "failed,interrupted,not-started,pruned",
            "--dry-run",
        ])
        .output()
        .unwrap();
    assert!(
        String::from_utf8(dry.stdout)
            .unwrap()
            .contains("0 of 11 selected variant(s); nothing to do"),
    );
}

/// A crash between the checkpoint a run takes to wait at a rung and the status that says so:
/// the rerun finds the run's checkpoint at the rung and its status an epoch short. It must
/// wait there again, not train past the rung unjudged (a SIGKILL in the test above once left a
/// finished variant with no decision at its second rung).
#[test]
fn a_crash_before_the_waiting_status_still_judges_the_rung() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = write(tmp.path(), "story", STORY12);
    let (whole, crashed) = (tmp.path().join("whole"), tmp.path().join("crashed"));
    // Its own data directory: the tests of this file start together, and a tag classifier
    // trained beside another process's may differ from the cached one in tag_fd's 8th digit.
    let data = tmp.path().join("data");
    let own = |results: &Path| common::cpu_args(&exp, results, &data);
    Command::cargo_bin("anigan-runner")
        .unwrap()
        .args(own(&whole))
        .assert()
        .code(predicate::in_iter([0, 3]));
    let mut child = Process::cargo_bin("anigan-runner")
        .unwrap()
        .args(own(&crashed))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let waiting = loop {
        let story = crashed.join("story");
        let runs = story.join("runs").is_dir().then(|| run_dirs(&story));
        if let Some(w) = runs.into_iter().flatten().find(|r| state(r) == "waiting") {
            break w;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no variant waited"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    // The status the epoch before the pause wrote: the crash came before the new one.
    let file = waiting.join("status.json");
    let mut status: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let one_less = |v: &serde_json::Value| serde_json::json!(v.as_u64().unwrap() - 1);
    status["epochs_done"] = one_less(&status["epochs_done"]);
    status["steps_done"] = one_less(&status["steps_done"]);
    status["state"] = serde_json::json!("running");
    status["reason"] = serde_json::Value::Null;
    std::fs::write(&file, serde_json::to_string_pretty(&status).unwrap()).unwrap();
    Command::cargo_bin("anigan-runner")
        .unwrap()
        .args(own(&crashed))
        .assert()
        .code(predicate::in_iter([0, 3]));
    let reference = whole.join("story/runs").join(name(&waiting));
    assert!(!rungs(&reference).is_empty(), "the rung was judged");
    assert_eq!(rungs(&waiting), rungs(&reference), "{}", name(&waiting));
    assert_eq!(state(&waiting), state(&reference), "{}", name(&waiting));
    assert_eq!(
        metrics_without_timing(&waiting),
        metrics_without_timing(&reference),
        "{}",
        name(&waiting)
    );
}

/// Rung by rung, a rung is judged against every variant of the experiment, also those the
/// command leaves out: `--variant` over part of the grid trains its variants to the first rung
/// and waits there (exit 4, nothing decided: before, it ranked them against each other and its
/// decisions, final, differed from the whole sweep's); `--only not-started` trains the rest,
/// judges the first rung with everyone and waits at the second for the variants it left
/// there; the plain command then ends as one uninterrupted sweep.
#[test]
fn a_rung_waits_for_the_variants_a_command_leaves_out() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = write(tmp.path(), "grid8", GRID8);
    let (whole, split) = (tmp.path().join("whole"), tmp.path().join("split"));
    runner(&exp, &whole).assert().success();
    let held = |extra: &[&str], at: &str| {
        let out = runner(&exp, &split).args(extra).assert().code(4);
        let log = String::from_utf8(out.get_output().stderr.clone()).unwrap();
        assert!(log.contains(at), "{extra:?}: {log}");
        log
    };
    held(
        &["--variant", "0", "--variant", "1", "--variant", "2"],
        "rung 1 is not judged: 5 variant(s) of the experiment have not reached it",
    );
    let exp_split = split.join("grid8");
    let runs = run_dirs(&exp_split);
    assert_eq!(runs.len(), 3);
    for run in &runs {
        assert_eq!(state(run), "waiting", "{}", name(run));
        assert!(rungs(run).is_empty(), "{}: judged among 3", name(run));
    }
    held(&["--only", "not-started"], "rung 2 is not judged");
    runner(&exp, &split).assert().success();
    assert_same_sweep(&whole.join("grid8"), &exp_split);
}

/// Rung by rung, the first pass can take hours on a big grid: a report is written once the
/// first variant waits at the rung (before, none until every variant had reached it, so a
/// sweep killed in that pass had none).
/// `prune.max_rungs = 1` over GRID8 (rungs 2 and 4 without it), with `--jobs 2`: the rung at 2
/// alone judges; every variant that passed it trains to the budget unjudged.
#[test]
fn max_rungs_1_judges_the_first_rung_only() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let exp = write(tmp.path(), "grid8", GRID8);
    runner(&exp, &results)
        .args(["--jobs", "2", "--set", "prune.max_rungs=1"])
        .assert()
        .success();
    let exp_dir = results.join("grid8");
    let (pruned, finished) = assert_rule_held(&exp_dir, 8, false);
    assert!(
        pruned > 0 && finished > 0,
        "{pruned} pruned, {finished} finished"
    );
    for run in run_dirs(&exp_dir) {
        let epochs: Vec<u32> = rungs(&run).iter().map(|r| r.rung_epoch).collect();
        assert!(
            epochs.iter().all(|&e| e == 2),
            "{}: rungs {epochs:?}",
            name(&run)
        );
        let want = if rungs(&run).iter().any(RungRecord::is_stop) {
            "pruned"
        } else {
            "finished"
        };
        assert_eq!(state(&run), want, "{}", name(&run));
    }
    // The same command again with one worker (rung by rung, a pass per rung) trains nothing:
    // one report, the final one, not one more per pass.
    let again = runner(&exp, &results)
        .args(["--set", "prune.max_rungs=1"])
        .assert()
        .success()
        .get_output()
        .clone();
    let said = [again.stdout, again.stderr].concat();
    let reports = String::from_utf8_lossy(&said).matches("report: ").count();
    assert_eq!(reports, 1, "{}", String::from_utf8_lossy(&said));
}

#[test]
fn a_report_is_written_before_the_first_rung_is_judged() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = write(tmp.path(), "grid8", GRID8);
    let results = tmp.path().join("results");
    let mut child = Process::cargo_bin("anigan-runner")
        .unwrap()
        .args(args(&exp, &results))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let exp_dir = results.join("grid8");
    let started = Instant::now();
    // The second variant starts after the first paused and its report was written.
    while !exp_dir.join("runs").is_dir() || run_dirs(&exp_dir).len() < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no second variant"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let report = std::fs::read_to_string(exp_dir.join("report.md")).unwrap();
    assert!(report.contains("waiting"), "{report}");
    assert!(exp_dir.join("report.html").is_file());
}

/// Two commands that split a grid with `--variant`, started together (one per GPU, as in the
/// README): the first at a rung waits there while the other trains its variants to it, so
/// every rung is judged with the whole grid and the sweep ends as one command's would.
#[test]
fn two_commands_splitting_a_grid_judge_each_rung_together() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = write(tmp.path(), "grid8", GRID8);
    let (whole, split) = (tmp.path().join("whole"), tmp.path().join("split"));
    runner(&exp, &whole).assert().success();
    let half = |from: usize| {
        let picks = (from..from + 4).flat_map(|i| ["--variant".to_string(), i.to_string()]);
        Process::cargo_bin("anigan-runner")
            .unwrap()
            .args(args(&exp, &split))
            .args(picks)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    // The second starts once the first waits at the first rung (before, the first judged it
    // among its own four).
    let mut a = half(0);
    let (said, heard) = std::sync::mpsc::channel();
    let a_err = std::io::BufReader::new(a.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        let mut log = String::new();
        for line in std::io::BufRead::lines(a_err).map_while(Result::ok) {
            if line.contains("that this command does not train to reach it") {
                let _ = said.send(());
            }
            log += &line;
            log.push('\n');
        }
        log
    });
    let waited = heard.recv_timeout(Duration::from_secs(120)).is_ok();
    let b = half(4).wait_with_output().unwrap();
    let a_status = a.wait().unwrap();
    let a_log = reader.join().unwrap();
    assert!(
        waited,
        "the first command did not wait at the rung:\n{a_log}"
    );
    assert!(a_status.success(), "{a_log}");
    let b_log = String::from_utf8_lossy(&b.stderr);
    assert!(b.status.success(), "{b_log}");
    let logs = a_log + &b_log;
    assert!(
        logs.contains("that this command does not train to reach it"),
        "the first at a rung waited for the other:\n{logs}"
    );
    assert_same_sweep(&whole.join("grid8"), &split.join("grid8"));
}

/// Every variant of the experiment directory `got` ended as in `want`: state, rung decisions
/// and metrics (timing aside).
fn assert_same_sweep(want: &Path, got: &Path) {
    for run in run_dirs(want) {
        let twin = got.join("runs").join(name(&run));
        assert_eq!(state(&twin), state(&run), "{}", name(&run));
        assert_eq!(rungs(&twin), rungs(&run), "{}", name(&run));
        assert_eq!(
            metrics_without_timing(&twin),
            metrics_without_timing(&run),
            "{}",
            name(&run)
        );
    }
}

/// Pausing at a rung and resuming changes nothing a run records: with rollback off, a variant
/// inside a collapse episode at a pause still ends collapsed (the resume finds the open episode
/// again), with the rows and events of a run that never paused. STORY12 with rollback off and
/// `min_peers` above its size: nobody is stopped, every variant only pauses at the rungs.
#[test]
fn pauses_at_rungs_resume_exactly_also_inside_a_collapse_episode() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = write(tmp.path(), "story", STORY12);
    let (straight, paused) = (tmp.path().join("straight"), tmp.path().join("paused"));
    let sets = [
        "--set",
        "rollback.enabled=false",
        "--set",
        "prune.min_peers=20",
    ];
    runner(&exp, &straight)
        .args(sets)
        .args(["--set", "prune.enabled=false"])
        .assert()
        .code(3);
    runner(&exp, &paused).args(sets).assert().code(3);
    let (straight, paused) = (
        run_dirs(&straight.join("story")),
        run_dirs(&paused.join("story")),
    );
    assert!(
        paused.iter().all(|r| !rungs(r).is_empty()),
        "every run paused"
    );
    let states: Vec<String> = straight.iter().map(|r| state(r)).collect();
    assert!(states.iter().any(|s| s == "collapsed"), "{states:?}");
    for (s, p) in straight.iter().zip(&paused) {
        assert_eq!(state(p), state(s), "{}", name(p));
        assert_eq!(
            metrics_without_timing(p),
            metrics_without_timing(s),
            "{}",
            name(p)
        );
        assert_eq!(events(p), events(s), "{}", name(p));
    }
}
