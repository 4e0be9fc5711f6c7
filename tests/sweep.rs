//! Sweeps on one machine: `--jobs` worker processes, two runners on one results directory,
//! graceful stop by SIGTERM with exact resume, execution settings outside the variant id, and
//! `status`. Tiny configs, one libtorch thread per worker (the test machine has 2 cores).

mod common;
use common::{events, metrics_without_timing, run_dirs};

use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use assert_cmd::cargo::CommandCargoExt;
use predicates::prelude::*;

/// A 4-variant grid of 16 px nets; rollback off so that rows = epochs.
const GRID4: &str = r#"
[experiment]
seed = 3
epochs = 3
[data]
source = "synthetic"
synthetic_count = 160
image_size = 16
holdout = 32
[model]
z_dim = 16
g_width = 8
d_width = 8
[train]
batch_size = 32
[checkpoint]
every = 1
keep = 2
[rollback]
enabled = false
[eval]
every = 0
[grid]
"train.lr_d" = [2e-4, 1e-4]
"train.lr_g" = [2e-4, 1e-4]
"#;

fn smoke() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/smoke.toml")
}

/// Generated data and caches beside the results: one folder per test, so tests running side
/// by side never share one.
fn data_dir(results: &Path) -> PathBuf {
    results.parent().unwrap().join("data")
}

fn grid4(dir: &Path) -> PathBuf {
    let file = dir.join("grid4.toml");
    std::fs::write(&file, GRID4).unwrap();
    file
}

fn args(experiment: &Path, results: &Path) -> Vec<std::ffi::OsString> {
    common::cpu_args(experiment, results, &data_dir(results))
}

fn runner(experiment: &Path, results: &Path) -> Command {
    let mut cmd = Command::cargo_bin("anigan-runner").unwrap();
    cmd.args(args(experiment, results));
    cmd
}

fn steps(run: &Path) -> Vec<u64> {
    metrics_without_timing(run).iter().map(|r| r.step).collect()
}

fn status_json(run: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("status.json")).unwrap()).unwrap()
}

/// Every variant trained once: its epochs in order, each once, and finished.
fn assert_each_trained_once(exp_dir: &Path, variants: usize, epochs: u64) {
    let runs = run_dirs(exp_dir);
    assert_eq!(runs.len(), variants);
    for run in &runs {
        assert_eq!(
            steps(run),
            (1..=epochs).collect::<Vec<_>>(),
            "{}: one row per epoch, steps strictly increasing",
            run.display()
        );
        assert_eq!(status_json(run)["state"], "finished", "{}", run.display());
    }
}

#[test]
fn jobs_2_trains_every_variant_of_a_4_variant_grid_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let out = runner(&grid4(tmp.path()), &results)
        .args(["--jobs", "2"])
        .assert()
        .success()
        .stderr(predicate::str::contains("by 2 worker processes"))
        .stdout(predicate::str::contains(
            "4 finished, 0 collapsed, 0 failed",
        ))
        .get_output()
        .stderr
        .clone();
    let log = String::from_utf8(out).unwrap();
    let exp_dir = results.join("grid4");
    assert_each_trained_once(&exp_dir, 4, 3);
    for run in run_dirs(&exp_dir) {
        let id = run.file_name().unwrap().to_string_lossy().into_owned();
        let firsts = log
            .lines()
            .filter(|l| l.contains(&id) && l.contains(" epoch 1/3 "))
            .count();
        assert_eq!(firsts, 1, "{id} started once:\n{log}");
    }
    assert!(exp_dir.join("report.html").is_file());
    // Done variants are skipped by the parent, not given to workers.
    runner(&grid4(tmp.path()), &results)
        .args(["--jobs", "2"])
        .assert()
        .success()
        .stderr(predicate::str::contains("already finished (3 epochs); skipping").count(4));
}

#[test]
fn two_runs_started_at_once_never_train_a_variant_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let exp = grid4(tmp.path());
    // Warm the data first, so both runners reach the queue at the same moment.
    runner(&exp, &tmp.path().join("warm"))
        .args(["--variant", "0", "--set", "experiment.epochs=1"])
        .assert()
        .success();
    let start = || {
        Process::cargo_bin("anigan-runner")
            .unwrap()
            .args(args(&exp, &results))
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (start(), start());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success() && b.status.success(), "{a:?}\n{b:?}");
    let logs = [a.stderr, b.stderr].map(|s| String::from_utf8(s).unwrap());
    let exp_dir = results.join("grid4");
    assert_each_trained_once(&exp_dir, 4, 3);
    for run in run_dirs(&exp_dir) {
        let id = run.file_name().unwrap().to_string_lossy().into_owned();
        let trained_by: Vec<usize> = (0..2)
            .filter(|&i| {
                logs[i]
                    .lines()
                    .any(|l| l.contains(&id) && l.contains(" epoch 1/3 "))
            })
            .collect();
        assert_eq!(trained_by.len(), 1, "{id}:\n{}\n----\n{}", logs[0], logs[1]);
    }
}

/// SIGTERM to a `--jobs 2` sweep: every worker finishes its epoch, writes a checkpoint and
/// status `interrupted`, the report is written; the rerun resumes and logs what an
/// uninterrupted run logs, also across rollbacks after the stop (G's learning rate 250 times
/// too high, the collapse demo's mistake, makes variant 0 roll back from epoch 9 on), so the
/// extra checkpoint taken to stop never becomes a rollback target.
#[test]
fn sigterm_stops_gracefully_and_the_rerun_equals_an_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let epochs = [
        "--set",
        "experiment.epochs=12",
        "--set",
        "train.lr_g=5e-2",
        "--set",
        "rollback.warmup_images=512",
    ];
    let whole = tmp.path().join("whole");
    // Exit 3 when a variant ends collapsed: the comparison covers that too.
    runner(&smoke(), &whole)
        .args(epochs)
        .assert()
        .code(predicate::in_iter([0, 3]));
    let rollbacks: usize = run_dirs(&whole.join("smoke"))
        .iter()
        .map(|r| events(r).iter().filter(|e| e.is_rollback()).count())
        .sum();
    assert!(
        rollbacks > 0,
        "this test wants a rollback after the stop: raise its epochs"
    );

    let stopped = tmp.path().join("stopped");
    let child = Process::cargo_bin("anigan-runner")
        .unwrap()
        .args(args(&smoke(), &stopped))
        .args(epochs)
        .args(["--jobs", "2"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let exp_dir = stopped.join("smoke");
    wait_for_both_at_epoch_2(&exp_dir);
    // While it runs, `status` names the training processes.
    status_command(&exp_dir).stdout(predicate::str::contains("running (pid").count(2));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(4), "exit code 4: interrupted");
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        said.matches("stop requested").count(),
        1,
        "the parent acknowledges the stop, its workers do not: {said}"
    );

    let mut interrupted = 0;
    for run in run_dirs(&exp_dir) {
        let status = status_json(&run);
        if status["state"] != "interrupted" {
            // A starved sibling may let one worker reach the end first.
            continue;
        }
        interrupted += 1;
        let done = status["epochs_done"].as_u64().unwrap();
        assert!((2..12).contains(&done), "stopped after an epoch: {status}");
        assert_eq!(status["last_checkpoint"].as_u64(), Some(done), "{status}");
        let ckpt = run.join(format!("checkpoints/epoch-{done:04}.safetensors"));
        anigan_runner::checkpoint::load(&ckpt).expect("a valid checkpoint of the last epoch");
        assert_eq!(
            Some(steps(&run).len() as u64),
            status["steps_done"].as_u64(),
            "no row past the checkpoint"
        );
    }
    assert!(interrupted > 0, "SIGTERM came after both workers ended");
    let report = std::fs::read_to_string(exp_dir.join("report.md")).unwrap();
    assert!(report.contains("interrupted"), "{report}");
    status_command(&exp_dir).stdout(predicate::str::contains(format!(
        "{interrupted} interrupted"
    )));

    runner(&smoke(), &stopped)
        .args(epochs)
        .args(["--jobs", "2"])
        .assert()
        .code(predicate::in_iter([0, 3]))
        .stderr(predicate::str::contains("resuming from epoch"));
    let (a, b) = (run_dirs(&whole.join("smoke")), run_dirs(&exp_dir));
    assert_eq!(a.len(), 2);
    for (a, b) in a.iter().zip(&b) {
        assert_eq!(a.file_name(), b.file_name());
        assert_eq!(metrics_without_timing(a), metrics_without_timing(b));
        assert_eq!(events(a), events(b));
        // The stop checkpoint pushed no restore point out and went once superseded.
        assert_eq!(checkpoint_files(a), checkpoint_files(b), "{}", b.display());
    }
}

/// Waits (at most 3 minutes) until both variants of the smoke sweep in `exp_dir` have a
/// checkpoint of epoch 2.
fn wait_for_both_at_epoch_2(exp_dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(180);
    let both_at_epoch_2 = || {
        exp_dir.join("runs").read_dir().is_ok_and(|d| {
            let runs: Vec<PathBuf> = d.map(|e| e.unwrap().path()).collect();
            runs.len() == 2
                && runs
                    .iter()
                    .all(|r| r.join("checkpoints/epoch-0002.json").exists())
        })
    };
    while !both_at_epoch_2() {
        assert!(
            Instant::now() < deadline,
            "no checkpoint at epoch 2 in time"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A `--jobs 2` parent killed by SIGKILL (or the OOM killer) leaves no worker training on
/// unobserved: each sees its stdin close, finishes its epoch, writes a checkpoint and status
/// `interrupted`, and exits; the rerun resumes them.
#[test]
fn workers_stop_gracefully_when_their_parent_is_killed() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let long = [
        "--set",
        "experiment.epochs=40",
        "--set",
        "rollback.enabled=false",
    ];
    let mut parent = Process::cargo_bin("anigan-runner")
        .unwrap()
        .args(args(&smoke(), &results))
        .args(long)
        .args(["--jobs", "2"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let exp_dir = results.join("smoke");
    wait_for_both_at_epoch_2(&exp_dir);
    parent.kill().unwrap(); // SIGKILL: no chance to forward anything
    parent.wait().unwrap();
    let exp = anigan_runner::results::ExperimentDir::new(&results, "smoke");
    let runs = run_dirs(&exp_dir);
    let ids: Vec<String> = runs
        .iter()
        .map(|r| r.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    while ids.iter().any(|id| exp.run(id).holder().is_some()) {
        assert!(
            Instant::now() < deadline,
            "a worker went on training after its parent died"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    for run in &runs {
        let status = status_json(run);
        assert_eq!(
            status["state"],
            "interrupted",
            "{}: {status}",
            run.display()
        );
        let done = status["epochs_done"].as_u64().unwrap();
        assert_eq!(status["last_checkpoint"].as_u64(), Some(done), "{status}");
        assert_eq!(
            Some(steps(run).len() as u64),
            status["steps_done"].as_u64(),
            "no row past the checkpoint"
        );
    }
    runner(&smoke(), &results)
        .args(long)
        .args(["--jobs", "2"])
        .assert()
        .success()
        .stderr(predicate::str::contains("resuming from epoch").count(2));
    assert_each_trained_once(&exp_dir, 2, 40);
}

/// Names of a run's checkpoint files, sorted.
fn checkpoint_files(run: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(run.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn threads_and_checkpoint_keep_keep_every_id() {
    let ids = |extra: &[&str]| {
        let text = common::dry_run(&smoke(), extra);
        let ids = common::variant_ids(&text);
        assert_eq!(ids.len(), 2, "{text}");
        ids
    };
    let base = ids(&[]);
    for extra in [
        &["--threads", "2"][..],
        &["--set", "train.threads=3"],
        &["--set", "checkpoint.keep=9"],
        &[
            "--jobs",
            "2",
            "--threads",
            "1",
            "--set",
            "checkpoint.keep=1",
        ],
    ] {
        assert_eq!(ids(extra), base, "{extra:?}");
    }
    assert_ne!(
        ids(&["--set", "train.batch_size=16"]),
        base,
        "a training setting changes them"
    );
}

#[test]
fn status_of_a_finished_sweep_as_table_and_json() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let exp = grid4(tmp.path());
    runner(&exp, &results)
        .args(["--variant", "1", "--set", "experiment.epochs=2"])
        .args(["--set", "eval.every=1", "--set", "eval.samples=32"])
        .assert()
        .success();
    // The manifest is written by `run`: the other variants are not started.
    let status = |json: bool| {
        let mut cmd = Command::cargo_bin("anigan-runner").unwrap();
        cmd.arg("status").arg(results.join("grid4"));
        if json {
            cmd.arg("--json");
        }
        String::from_utf8(cmd.assert().success().get_output().stdout.clone()).unwrap()
    };
    let table = status(false);
    assert!(
        table.contains("1 finished") && table.contains("3 not started"),
        "{table}"
    );
    let lines: serde_json::Value = serde_json::from_str(&status(true)).unwrap();
    let lines = lines.as_array().unwrap();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[1]["state"], "finished");
    assert_eq!(lines[1]["epoch"], 2);
    assert!(lines[1]["d_acc_real"].as_f64().is_some());
    // The quality figures a CI gate reads, the same as summary.csv's.
    let summary = std::fs::read_to_string(results.join("grid4/summary.csv")).unwrap();
    let mut rows = csv::Reader::from_reader(summary.as_bytes());
    let headers = rows.headers().unwrap().clone();
    let row = rows.records().nth(1).unwrap().unwrap();
    let cell = |name: &str| row[headers.iter().position(|h| h == name).unwrap()].to_string();
    let figure = |key: &str| format!("{:.4}", lines[1][key].as_f64().unwrap());
    for (key, column) in [
        ("final_swd", "final_swd"),
        ("best_swd", "best_swd"),
        ("swd_floor", "swd_floor"),
    ] {
        assert_eq!(figure(key), cell(column), "{key}: {summary}");
    }
    assert_eq!(
        lines[1]["best_swd_epoch"].to_string(),
        cell("best_swd_epoch")
    );
    assert!(lines[1]["images_trained"].is_u64(), "a count of images");
    assert_eq!(lines[0]["state"], "not started");
    assert_eq!(lines[0]["train_seconds"].to_string(), "0.0", "not -0.0");
    assert_eq!(lines[0]["images_trained"], 0);
    assert_eq!(lines[0]["planned"], 2);
    Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg("status")
        .arg(tmp.path())
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "not an experiment's results directory",
        ));
}

/// A status.json left empty by outside damage (a partial copy) is done without: the run is
/// taken as interrupted, resumes from its checkpoint and writes it again; the sweep goes on.
#[test]
fn a_damaged_status_file_resumes_its_run() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let exp = grid4(tmp.path());
    let run = || {
        runner(&exp, &results)
            .args([
                "--variant",
                "0",
                "--variant",
                "1",
                "--set",
                "experiment.epochs=1",
            ])
            .assert()
            .success()
            .get_output()
            .clone()
    };
    run();
    let dirs = run_dirs(&results.join("grid4"));
    std::fs::write(dirs[0].join("status.json"), "").unwrap();
    let out = run();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(stderr.contains("is not a valid status file"), "{stderr}");
    assert!(
        stdout.contains("2 finished, 0 collapsed, 0 failed"),
        "{stdout}"
    );
    assert_eq!(status_json(&dirs[0])["state"], "finished");
}

/// A run whose last metrics rows were lost (a partial copy of the results, damage to the
/// file) is not done and has no hole: `status` says interrupted and
/// why, and the rerun resumes from a checkpoint the rows reach, logging the lost epochs again
/// exactly as the first time.
#[test]
fn lost_metrics_rows_are_trained_again_without_a_hole() {
    let cases = [
        ("finished", "a finished run whose copy lost its last row"),
        (
            "interrupted",
            "a stopped run whose last checkpoint outlived its row",
        ),
    ];
    for (state, why) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let results = tmp.path().join("results");
        let exp = grid4(tmp.path());
        let run = || {
            runner(&exp, &results)
                .args(["--variant", "0"])
                .assert()
                .success()
                .get_output()
                .clone()
        };
        run();
        let dir = run_dirs(&results.join("grid4")).remove(0);
        let whole = metrics_without_timing(&dir);
        let metrics = dir.join("metrics.csv");
        let text = std::fs::read_to_string(&metrics).unwrap();
        let cut = text.trim_end().rfind('\n').unwrap() + 1;
        std::fs::write(&metrics, &text[..cut]).unwrap();
        let status = std::fs::read_to_string(dir.join("status.json")).unwrap();
        let status = status.replace("\"finished\"", &format!("\"{state}\""));
        std::fs::write(dir.join("status.json"), status).unwrap();

        let shown = Command::cargo_bin("anigan-runner")
            .unwrap()
            .args(["status", "--json"])
            .arg(results.join("grid4"))
            .assert()
            .get_output()
            .clone();
        let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
        let first = &shown[0];
        assert_eq!(first["state"], "interrupted", "{why}: {first}");
        assert_eq!(first["epoch"], 2, "{why}: the last row's epoch: {first}");
        let out = run();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("skipping checkpoint of epoch 3"),
            "{why}: {stderr}"
        );
        // One epoch of 4 batches of 32, from the checkpoint of epoch 2 the resume starts at.
        assert!(
            stderr.contains("; 128 of them left to train"),
            "{why}: the estimate counts what the resume trains: {stderr}"
        );
        assert_eq!(metrics_without_timing(&dir), whole, "{why}");
        assert_eq!(status_json(&dir)["state"], "finished", "{why}");
    }
}

/// A run resumes only on the data it started on: an image of the user's dataset changed since
/// is a settings error (exit 2, nothing written) for a run with epochs left to train, no matter
/// to a run that is done, and putting the image back resumes it. (A synthetic folder the
/// runner generated is generated again instead: `tests/shared_data.rs`.)
#[test]
fn a_run_is_not_resumed_on_changed_data() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let exp = grid4(tmp.path());
    let faces = tmp.path().join("faces");
    Command::cargo_bin("anigan-runner")
        .unwrap()
        .args(["data", "synth", "--count", "160", "--size", "16", "--out"])
        .arg(&faces)
        .assert()
        .success();
    let run = |epochs: u32| {
        runner(&exp, &results)
            .args(["--variant", "0", "--set", "data.source=\"seed\"", "--set"])
            .arg(format!("data.path={}", faces.display()))
            .arg("--set")
            .arg(format!("experiment.epochs={epochs}"))
            .assert()
    };
    run(1).success();
    let images: Vec<PathBuf> = walkdir::WalkDir::new(&faces)
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    let (changed, other) = (&images[0], &images[1]);
    let original = std::fs::read(changed).unwrap();
    std::fs::copy(other, changed).unwrap();
    let dir = run_dirs(&results.join("grid4")).remove(0);
    let before = (
        std::fs::read(dir.join("metrics.csv")).unwrap(),
        std::fs::read(dir.join("run.json")).unwrap(),
    );

    run(1).success(); // done: nothing is trained, so nothing to refuse
    run(2)
        .code(2)
        .stderr(predicate::str::contains("started on other data"))
        .stderr(predicate::str::contains("the same 160 images"))
        .stderr(predicate::str::contains("--set experiment.name=NEW"));
    let after = (
        std::fs::read(dir.join("metrics.csv")).unwrap(),
        std::fs::read(dir.join("run.json")).unwrap(),
    );
    assert!(before == after, "a refused resume wrote to the run");

    std::fs::write(changed, original).unwrap();
    run(2).success();
    assert_eq!(steps(&dir), vec![1, 2], "put back, the run resumes");
}

/// A `--jobs` sweep says a dataset's warnings once: the parent prepares the data first and
/// says them; its workers load the same data again without repeating them.
#[test]
fn jobs_2_says_a_datasets_warnings_once() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let faces = tmp.path().join("faces");
    Command::cargo_bin("anigan-runner")
        .unwrap()
        .args(["data", "synth", "--count", "160", "--size", "16", "--out"])
        .arg(&faces)
        .assert()
        .success();
    std::fs::write(faces.join("left-out.webp"), b"RIFF").unwrap();
    let out = runner(&grid4(tmp.path()), &results)
        .args(["--jobs", "2", "--variant", "0", "--variant", "1"])
        .args([
            "--set",
            "experiment.epochs=1",
            "--set",
            "data.source=folder",
        ])
        .arg("--set")
        .arg(format!("data.path={}", faces.display()))
        .assert()
        .success()
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("left-out.webp").count(),
        1,
        "one warning, not one per worker:\n{stderr}"
    );
}

/// Two writers of one report take turns: while another holds `.report.lock`, `write_report`
/// waits for it.
#[test]
fn report_writers_take_turns() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    runner(&grid4(tmp.path()), &results)
        .args(["--variant", "0", "--set", "experiment.epochs=1"])
        .assert()
        .success();
    let exp_dir = anigan_runner::results::ExperimentDir::new(&results, "grid4");
    let started = Instant::now();
    anigan_runner::report::write_report(&exp_dir).unwrap();
    let unlocked = started.elapsed();

    let lock = exp_dir.lock_report().unwrap().unwrap();
    let dir = exp_dir.clone();
    let writer = std::thread::spawn(move || anigan_runner::report::write_report(&dir));
    std::thread::sleep((unlocked * 5).max(Duration::from_millis(500)));
    assert!(
        !writer.is_finished(),
        "wrote the report while another writer held the lock"
    );
    drop(lock);
    writer.join().unwrap().unwrap();
}

/// `anigan-runner status EXP_DIR`, asserted to succeed.
fn status_command(exp_dir: &Path) -> assert_cmd::assert::Assert {
    Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg("status")
        .arg(exp_dir)
        .assert()
        .success()
}

/// A stop asked for while the last variant left to train runs its last epoch: the variants
/// already finished before are skipped, not "not started (rerun to resume)", and a variant that
/// finished its planned epochs counts as finished.
#[test]
fn a_stop_counts_only_what_is_left_to_train_as_not_started() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let three = ["--set", "experiment.epochs=3"];
    // Variant 1 is finished first; the rerun trains only variant 0.
    runner(&smoke(), &results)
        .args(three)
        .args(["--variant", "1"])
        .assert()
        .success();
    let child = Process::cargo_bin("anigan-runner")
        .unwrap()
        .args(args(&smoke(), &results))
        .args(three)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let exp_dir = results.join("smoke");
    let deadline = Instant::now() + Duration::from_secs(180);
    let at_epoch_2 = || {
        run_dirs(&exp_dir)
            .iter()
            .any(|r| r.join("checkpoints/epoch-0002.json").exists() && steps(r).len() < 3)
    };
    while !at_epoch_2() {
        assert!(Instant::now() < deadline, "variant 0 never reached epoch 2");
        std::thread::sleep(Duration::from_millis(10));
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("stop requested: every variant stops after its current epoch"),
        "the stop is acknowledged at once: {said}"
    );
    if let Some(stopped) = said.find("stopped after epoch") {
        // An epoch shorter than the announcer's poll once reported the stop before it.
        assert!(
            said.find("stop requested").is_some_and(|at| at < stopped),
            "the stop is announced before an epoch reports it: {said}"
        );
    }
    let log = String::from_utf8_lossy(&out.stdout);
    // Variant 0 either finished its last epoch or (a stop taken right at epoch 2) was
    // interrupted; variant 1 is done either way.
    assert!(
        log.contains(", 0 not started") || !log.contains("not started"),
        "{log}"
    );
    let finished = log.contains(
        "experiment smoke: 2 finished, 0 collapsed, 0 failed; 1 of them was done before this command",
    );
    let interrupted = log.contains("1 interrupted, 0 not started");
    assert!(finished || interrupted, "{log}");
    assert_eq!(
        out.status.code(),
        Some(if finished { 0 } else { 4 }),
        "{log}"
    );
}
