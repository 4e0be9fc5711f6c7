//! A results folder holding runs of two recipes (the same experiment file, once with a `--set`
//! that changes what is trained): `status`, summary.csv and the report tell which runs belong
//! to the experiment as it stands, and each run's own settings and overrides.

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn smoke() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/smoke.toml")
}

fn run(tmp: &Path, extra: &[&str]) {
    Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg(smoke())
        .arg("--results")
        .arg(tmp.join("results"))
        .arg("--data-dir")
        .arg(tmp.join("data"))
        .args(["--device", "cpu", "--variant", "0"])
        .args(["--set", "experiment.epochs=1", "--set", "train.threads=1"])
        .args(extra)
        .assert()
        .success();
}

#[test]
fn runs_of_another_recipe_are_marked_with_their_own_settings() {
    let tmp = tempfile::tempdir().unwrap();
    // A CGAN first, then the file as it is (a DCGAN): the CGAN run is now another recipe's.
    run(tmp.path(), &["--set", "model.arch=cgan"]);
    // `checkpoint.keep` changes no id: no difference (a tester saw threads and keep listed).
    run(tmp.path(), &["--set", "checkpoint.keep=1"]);
    let exp = tmp.path().join("results/smoke");

    let out = Command::cargo_bin("anigan-runner")
        .unwrap()
        .args(["status", "--json"])
        .arg(&exp)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let lines: Vec<serde_json::Value> = serde_json::from_slice(&out).unwrap();
    let current: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["in_experiment"] == true)
        .collect();
    let other: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["in_experiment"] == false)
        .collect();
    assert_eq!((current.len(), other.len()), (2, 1), "{lines:?}");
    assert!(
        other[0]["index"].is_null() && current.iter().all(|l| l["index"].is_u64()),
        "a run of another recipe has no index of the grid: {lines:?}"
    );
    let cgan_override = "model.arch=\"cgan\" (--set)";
    let overrides = |l: &serde_json::Value| l["overrides"].to_string();
    assert!(overrides(other[0]).contains("cgan"), "{}", other[0]);
    assert!(!overrides(current[0]).contains("cgan"), "{}", current[0]);
    Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg("status")
        .arg(&exp)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "not in the experiment as it stands: a run of another recipe",
        ))
        .stdout(predicate::str::contains(cgan_override))
        .stdout(predicate::str::contains(": 2 variants: "))
        .stdout(predicate::str::contains("; and 1 run of another recipe\n"))
        .stdout(predicate::str::contains("\nexperiment as it stands: "))
        .stdout(predicate::str::contains(
            "smoke.toml with experiment.epochs=1 (--set), train.threads=1 (--set), \
             checkpoint.keep=1 (--set) (the last run's",
        ))
        .stdout(predicate::str::contains(
            "a run of another recipe; it differs in model.arch=cgan; it trained with",
        ));
    let table = String::from_utf8(
        Command::cargo_bin("anigan-runner")
            .unwrap()
            .arg("status")
            .arg(&exp)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let indexes: Vec<&str> = table
        .lines()
        .filter(|l| l.contains(" finished ") || l.contains(" not started "))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        indexes,
        ["0", "1", "-"],
        "the other recipe's run takes no index of the grid: {table}"
    );

    let mut csv = csv::Reader::from_path(exp.join("summary.csv")).unwrap();
    let header = csv.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    let other_row = rows
        .iter()
        .find(|r| &r[col("in_experiment")] == "no")
        .expect("the other recipe's row");
    assert!(other_row[col("overrides")].contains(cgan_override));
    assert!(
        other_row[col("differs")].contains("model.arch=cgan"),
        "what it differs in from the experiment as it stands"
    );
    assert_eq!(&other_row[col("index")], "", "no index of the grid");
    assert_eq!(
        &other_row[col("rank")],
        "",
        "another recipe's run is not ranked"
    );
    assert_eq!(
        &other_row[col("train.lr_d")],
        "0.0002",
        "its grid value, read from its own files"
    );
    let md = std::fs::read_to_string(exp.join("report.md")).unwrap();
    assert!(
        md.contains("\n2 variants: 1 finished, 1 not started; and 1 run of another recipe.\n"),
        "counted as status counts it: {md}"
    );
    assert!(md.contains("\n## Runs of another recipe (1)\n"), "{md}");
    let numbered: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| index"))
        .map(|l| l.split('|').nth(1).unwrap().trim())
        .collect();
    assert_eq!(numbered, ["0", "1", ""], "{md}");
    let html = std::fs::read_to_string(exp.join("report.html")).unwrap();
    assert!(
        html.contains("2 variants: 1 finished, 1 not started; and 1 run of another recipe."),
        "{html}"
    );
    assert!(html.contains("Runs of another recipe (1)</h3>"));
    assert!(
        html.contains("a run of another recipe"),
        "the report says so"
    );
    assert!(
        html.contains("overrides when it last trained"),
        "and names them"
    );
}

/// The ids `run --dry-run` lists for `file`, and the listing.
fn planned_ids(file: &Path, results: &Path) -> (Vec<String>, String) {
    let text = common::dry_run(file, [OsStr::new("--results"), results.as_os_str()]);
    (common::variant_ids(&text), text)
}

/// A grid whose order changed trains its variants afresh under new ids: the dry run (and the
/// run) says which settings were trained at another index and how to keep them.
#[test]
fn settings_trained_at_another_index_are_named_before_they_train_again() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let text = std::fs::read_to_string(smoke()).unwrap();
    let file = tmp.path().join("smoke.toml");
    std::fs::write(&file, &text).unwrap();
    let (before, said) = planned_ids(&file, &results);
    assert_eq!(before.len(), 2, "{said}");
    assert!(
        !said.contains("another index"),
        "nothing trained yet: {said}"
    );
    for id in &before {
        std::fs::create_dir_all(results.join("smoke/runs").join(id)).unwrap();
    }
    let reversed = text.replace(
        "\"train.lr_d\" = [2e-4, 1e-4]",
        "\"train.lr_d\" = [1e-4, 2e-4]",
    );
    assert_ne!(
        reversed, text,
        "smoke.toml's grid changed: update this test"
    );
    std::fs::write(&file, reversed).unwrap();
    let (after, said) = planned_ids(&file, &results);
    assert!(
        said.contains("note: 2 variants have the settings of a run at another index"),
        "{said}"
    );
    assert!(
        said.contains(&format!("{} (trained as {})", after[0], before[1])),
        "{said}"
    );
    assert!(
        said.contains("values appended to the grid's first key"),
        "{said}"
    );
}
