//! A results directory written by the previous release (tests/fixtures/previous-release, made
//! by the runner at 7a59b74) still resumes, reports, samples and answers `status` with this
//! build, and its files read through today's types.

use std::path::{Path, PathBuf};

use anigan_runner::health::Kind;
use anigan_runner::results::reader::read_experiment;
use anigan_runner::results::{ExperimentDir, RunState, Taken};
use assert_cmd::Command;
use predicates::prelude::*;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/previous-release")
}

/// A copy of the fixture's results folder under `tmp` (tests never write into the fixture).
fn copy_results(tmp: &Path) -> PathBuf {
    let to = tmp.join("results");
    for entry in walkdir::WalkDir::new(fixture().join("results")) {
        let entry = entry.unwrap();
        let rel = entry
            .path()
            .strip_prefix(fixture().join("results"))
            .unwrap();
        let target = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
    to
}

fn runner() -> Command {
    Command::cargo_bin("anigan-runner").unwrap()
}

#[test]
fn an_old_results_directory_resumes_reports_and_samples() {
    let tmp = tempfile::tempdir().unwrap();
    let results = copy_results(tmp.path());
    let exp = ExperimentDir::new(&results, "previous");
    let before = read_experiment(&exp).unwrap();
    let states: Vec<RunState> = before.runs.iter().map(|r| r.state).collect();
    assert_eq!(
        states,
        [RunState::Finished, RunState::Finished, RunState::Collapsed]
    );
    let collapsed = &before.runs[2].events;
    assert_eq!(
        collapsed
            .iter()
            .map(|e| (e.kind.health(), e.action))
            .collect::<Vec<_>>(),
        [
            (Some(Kind::DFooled), Taken::Rollback),
            (Some(Kind::DFooled), Taken::Stop)
        ],
        "events.csv reads into typed kinds and actions"
    );
    let old_rows = before.runs[0].rows.clone();
    assert_eq!(old_rows.len(), 2);

    // Variant 0 finished 2 of the 3 epochs the file plans: the rerun resumes it alone. Variant
    // 2 stays collapsed, so the rerun exits 3 as the first run did.
    runner()
        .arg(fixture().join("previous.toml"))
        .arg("--results")
        .arg(&results)
        .arg("--data-dir")
        .arg(tmp.path().join("data"))
        .args(["--device", "cpu", "--set", "train.threads=1"])
        .assert()
        .code(3)
        .stdout(predicate::str::contains(
            "2 finished, 1 collapsed, 0 failed; 2 of them were done before this command",
        ))
        .stderr(predicate::str::contains("resuming from epoch 2"))
        .stderr(predicate::str::contains(
            "already finished (3 epochs); skipping",
        ))
        .stderr(predicate::str::contains(
            "already collapsed (2 epochs); skipping",
        ));
    let after = read_experiment(&exp).unwrap();
    let resumed = &after.runs[0];
    assert_eq!(resumed.rows.len(), 3);
    assert_eq!(
        resumed.rows[..2]
            .iter()
            .map(|r| r.clone().without_timing())
            .collect::<Vec<_>>(),
        old_rows
            .into_iter()
            .map(|r| r.without_timing())
            .collect::<Vec<_>>(),
        "the old rows are kept as they were"
    );
    assert_eq!(after.runs[0].state, RunState::Finished);

    let exp_dir = results.join("previous");
    runner().arg("report").arg(&exp_dir).assert().success();
    let summary = std::fs::read_to_string(exp_dir.join("summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 4, "a row per variant: {summary}");
    assert!(exp_dir.join("report.html").is_file());
    runner()
        .arg("status")
        .arg(&exp_dir)
        .assert()
        .success()
        .stdout(
            predicate::str::contains("2 finished").and(predicate::str::contains("1 collapsed")),
        );

    let cgan = exp_dir.join("runs/001-876ffe8b");
    let out = tmp.path().join("blue.png");
    runner()
        .arg("sample")
        .arg(&cgan)
        .args(["--epoch", "best", "--tags", "blue hair,long hair", "--out"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(image::open(&out).unwrap().width(), 8 * 16 + 9 * 2);
    let out = tmp.path().join("collapsed.png");
    runner()
        .arg("sample")
        .arg(exp_dir.join("runs/002-d75d1d76"))
        .args(["--epoch", "last", "--out"])
        .arg(&out)
        .assert()
        .success();
    assert!(image::open(&out).is_ok());
}
