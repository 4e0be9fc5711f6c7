//! Settings users really write (non-finite numbers, over-long names, dates, huge grids, files
//! saved by Windows editors, odd environments): exit 2 with every problem named, nothing written.

mod common;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/inputs")
        .join(name)
}

fn smoke() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/smoke.toml")
}

/// Runs the binary on `file` with a fresh results dir; asserts exit 2, every `expected` text on
/// stderr, and that nothing was written. Returns stderr.
fn fails_with(file: &Path, extra: &[&str], expected: &[&str]) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let out = Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg(file)
        .arg("--results")
        .arg(&results)
        .args(extra)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    for text in expected {
        assert!(stderr.contains(text), "{text}: {stderr}");
    }
    assert!(!results.exists(), "a settings error must create nothing");
    stderr
}

#[test]
fn non_finite_numbers_are_refused_in_file_grid_set_and_env() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg(fixture("non-finite.toml"))
        .arg("--results")
        .arg(tmp.path().join("results"))
        .args(["--set", "train.p0=nan", "--dry-run"])
        .env("ANIGAN_RB_UNUSED", "inf")
        .env("ANIGAN_ROLLBACK__EPS", "inf")
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    for text in [
        "train.lr_d must be a finite number (got inf) in",
        "train.betas must be a finite number (got [0.5, nan])",
        "train.lr_g must be a finite number (got -inf) in",
        "[grid] train.lr_g[1]",
        "train.p0 must be a finite number (got nan) in --set train.p0=nan",
        "rollback.eps must be a finite number (got inf) in environment variable ANIGAN_ROLLBACK__EPS",
    ] {
        assert!(stderr.contains(text), "{text}: {stderr}");
    }
}

#[test]
fn experiment_name_longer_than_a_file_name_is_refused_up_front() {
    fails_with(
        &fixture("long-name.toml"),
        &[],
        &[
            "experiment.name must be a safe directory name",
            "at most 255",
        ],
    );
}

#[test]
fn every_problem_is_reported_in_one_run() {
    fails_with(
        &fixture("all-at-once.toml"),
        &[],
        &[
            "3 problems",
            "train.p0 must be in (0, 1] (got 1.5)",
            "data.path must name the dataset folder when data.source is \"seed\"",
            "variants 0 and 1",
        ],
    );
}

#[test]
fn a_date_for_a_number_says_date() {
    fails_with(
        &fixture("date-for-number.toml"),
        &[],
        &["train.lr_d: invalid type: found the date-time 1979-05-27, expected a number > 0 in"],
    );
}

#[test]
fn unknown_grid_key_is_reported_once() {
    let stderr = fails_with(
        &fixture("grid-unknown-key-many.toml"),
        &[],
        &[
            "1 problem",
            "unknown key `train.lr_dd`",
            "[grid] train.lr_dd;",
        ],
    );
    assert_eq!(stderr.matches("unknown key").count(), 1, "{stderr}");
}

#[test]
fn a_grid_of_a_million_variants_is_refused_with_its_count() {
    let started = std::time::Instant::now();
    fails_with(
        &fixture("huge-grid.toml"),
        &["--dry-run"],
        &[
            "[grid] expands to 1000000 variants, more than the 10000",
            "split it",
        ],
    );
    // Not a timing assertion on speed: a refusal that expanded the grid would take minutes.
    assert!(started.elapsed().as_secs() < 60);
}

#[test]
fn experiment_file_with_bom_and_crlf_reads_like_plain_text() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(smoke()).unwrap();
    let file = tmp.path().join("smoke.toml");
    std::fs::write(&file, format!("\u{feff}{}", text.replace('\n', "\r\n"))).unwrap();
    let dry = |file: &Path| {
        // The listing names the file; compare the variant lines (the cost line after them
        // times a few steps anew on every dry run).
        common::dry_run(file, [] as [&str; 0])
            .lines()
            .skip(1)
            .take_while(|l| !l.starts_with("cost:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(dry(&file), dry(&smoke()));
    std::fs::write(&file, b"[experiment]\ndescription = \"caf\xe9\"\n").unwrap();
    fails_with(&file, &[], &["smoke.toml:2:19: not UTF-8 text (byte 0xe9)"]);
}

#[test]
fn unrelated_non_utf8_environment_is_ignored() {
    Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg(smoke())
        .arg("--dry-run")
        .env("LEGACY_LATIN1", OsStr::from_bytes(b"caf\xe9"))
        .assert()
        .success()
        .stdout(predicate::str::contains("2 of 2 variants selected"));
}

#[test]
fn a_non_utf8_anigan_variable_is_a_settings_error() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg(smoke())
        .arg("--results")
        .arg(&results)
        .env("ANIGAN_TRAIN__LR_D", OsStr::from_bytes(b"1e-4\xe9"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "environment variable ANIGAN_TRAIN__LR_D has a value that is not UTF-8",
        ));
    assert!(!results.exists());
}

/// A variable with one underscore between section and key changed nothing and said nothing;
/// now it is a settings error that names the variable meant, and nothing is written.
#[test]
fn a_misspelt_anigan_variable_names_the_one_meant() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg(smoke())
        .arg("--results")
        .arg(&results)
        .env("ANIGAN_TRAIN_LR_G", "1e-4")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "environment variable ANIGAN_TRAIN_LR_G names no setting",
        ))
        .stderr(predicate::str::contains(
            "did you mean ANIGAN_TRAIN__LR_G (`train.lr_g`)?",
        ));
    assert!(!results.exists());
}

/// `--dry-run` and a run's first lines say which overrides are in force, and where from: the
/// only other sign of one was a changed variant id.
#[test]
fn overrides_in_force_are_printed_by_dry_run_and_run() {
    let line = "overrides in force: train.lr_g=0.0001 (ANIGAN_TRAIN__LR_G), \
                experiment.epochs=1 (--set), train.threads=1 (--set)";
    let tmp = tempfile::tempdir().unwrap();
    let runner = || {
        let mut cmd = Command::cargo_bin("anigan-runner").unwrap();
        cmd.arg(smoke())
            .arg("--results")
            .arg(tmp.path().join("results"))
            .arg("--data-dir")
            .arg(tmp.path().join("data"))
            .args(["--device", "cpu", "--variant", "0"])
            .args(["--set", "experiment.epochs=1", "--set", "train.threads=1"])
            .env("ANIGAN_TRAIN__LR_G", "1e-4");
        cmd
    };
    runner()
        .arg("--dry-run")
        .assert()
        .success()
        .stdout(predicate::str::contains(line));
    runner()
        .assert()
        .success()
        .stderr(predicate::str::contains(line));
}

/// A setting that takes text takes what `--set` or a variable writes, also when it reads as a
/// date, a number or `nan` in TOML (`--set experiment.name=$(date +%F)` in a CI script).
#[test]
fn text_settings_from_set_and_variables_are_the_text_written() {
    let tmp = tempfile::tempdir().unwrap();
    let rows = [
        (
            vec!["--set", "experiment.name=2024-12-07"],
            None,
            "experiment 2024-12-07 ",
        ),
        (
            vec!["--set", "experiment.name=nan"],
            None,
            "experiment nan ",
        ),
        (vec![], Some("1234"), "experiment 1234 "),
    ];
    for (sets, env, expected) in rows {
        let mut cmd = Command::cargo_bin("anigan-runner").unwrap();
        cmd.arg(smoke())
            .arg("--results")
            .arg(tmp.path().join("results"))
            .args(&sets)
            .arg("--dry-run");
        if let Some(name) = env {
            cmd.env("ANIGAN_EXPERIMENT__NAME", name);
        }
        cmd.assert()
            .success()
            .stdout(predicate::str::contains(expected));
    }
}

/// A section left empty (its keys commented out) is valid TOML and means its defaults: the
/// same variants as without it.
#[test]
fn empty_sections_mean_their_defaults() {
    let tmp = tempfile::tempdir().unwrap();
    let dry = |text: &str| {
        let file = tmp.path().join("e.toml");
        std::fs::write(&file, text).unwrap();
        let (results, data) = (tmp.path().join("results"), tmp.path().join("data"));
        // The variant listing; the cost lines after it hold a timing.
        let listing = common::dry_run(&file, common::dir_args(&results, &data));
        let end = listing.find("variants selected").expect("a listing");
        listing[..end].to_string()
    };
    let plain = dry("[experiment]\nepochs = 2\n");
    let rows = [
        ("[train]\n", "[train] left empty"),
        (
            "[prune]\n[tensorboard]\n",
            "[prune] and [tensorboard] left empty",
        ),
        ("[rollback.g_failure]\n", "a nested section left empty"),
        ("[grid]\n", "an empty [grid]: one variant, as without it"),
    ];
    for (extra, reason) in rows {
        let listing = dry(&format!("[experiment]\nepochs = 2\n{extra}"));
        assert_eq!(listing, plain, "{reason}");
    }
    assert!(
        !tmp.path().join("results").exists(),
        "a dry run writes nothing"
    );
}

const DRAW_LR: &str =
    "\"train.lr_d\" = { distribution = \"log_uniform\", low = 1e-5, high = 1e-3 }\n";

/// Input faults found in testing, one row each: the file, `--set` arguments, texts stderr must
/// hold, how many problems it reports, and why. Exit 2 and nothing written for every row.
#[test]
fn settings_faults_are_one_clear_problem_each() {
    type Row<'a> = (String, &'a [&'a str], &'a [&'a str], usize, &'a str);
    let int = |key: &str| format!("\"{key}\" = {{ distribution = \"int\", low = 2, high = 8 }}\n");
    let rows: Vec<Row> = vec![
        (
            format!("[serach]\ntrials = 2\n{DRAW_LR}"),
            &[],
            &[
                "unknown section `[serach]` in ",
                "; did you mean `[search]`?",
            ],
            1,
            "a misspelt section is one problem, naming the section meant",
        ),
        (
            "[experiment]\nepochs = 2\n[trian]\nlr_d = 1e-4\np0 = 0.9\n".to_string(),
            &[],
            &["did you mean `[train]`?"],
            1,
            "a misspelt settings section",
        ),
        (
            format!("[search]\ntrails = 2\n{DRAW_LR}"),
            &[],
            &["[search] has no field `trails`; did you mean `trials`?"],
            1,
            "a misspelt field of [search], not also `trials` missing",
        ),
        (
            "[search]\n".to_string(),
            &[],
            &["[search] has neither `trials = N` nor a key to draw"],
            1,
            "an empty [search] says what it lacks",
        ),
        (
            format!("[search]\ntrials = 2\n{}", int("experiment.epochs")),
            &[],
            &["[search] cannot draw `experiment.epochs`"],
            1,
            "no follow-on duplicate of a fixed key drawn",
        ),
        (
            format!("[search]\ntrials = 2\n{}", int("prune.eta")),
            &[],
            &["[search] cannot draw `prune.eta`"],
            1,
            "no follow-on duplicate of a prune key drawn",
        ),
        (
            format!("[grid]\n\"train.lr_d\" = [1e-4, 2e-4]\n[search]\ntrials = 2\n{DRAW_LR}"),
            &[],
            &["`train.lr_d` is both in [grid] and in [search]"],
            1,
            "no follow-on duplicates of a key in both sections",
        ),
        (
            format!("[search]\ntrials = 2\n{}", int("eval.every")),
            &[],
            &["they are trials #1 and #2 of [search]: remove `eval.every` from [search]"],
            1,
            "a duplicate from [search] is not blamed on [grid]",
        ),
        (
            String::new(),
            &["prune.eta=1.5"],
            &["prune.eta: invalid type", "expected a whole number >= 2"],
            1,
            "a type error states eta's range",
        ),
        (
            format!(
                "[search]\ntrials = 2\n{DRAW_LR}\"train.batch_size\" = {{ distribution = \"choice\", values = [32, \"x\"] }}\n"
            ),
            &[],
            &["expected a whole number >= 1"],
            1,
            "a choice of the wrong type states batch_size's range",
        ),
        (
            String::new(),
            &["search.trials=6"],
            &[
                "`search.trials` in --set search.trials=6: [search] is read from the experiment file only",
            ],
            1,
            "--set cannot change [search]",
        ),
    ];
    let tmp = tempfile::tempdir().unwrap();
    for (i, (text, sets, expected, count, reason)) in rows.iter().enumerate() {
        let file = tmp.path().join(format!("e{i}.toml"));
        std::fs::write(&file, text).unwrap();
        let extra: Vec<&str> = sets
            .iter()
            .flat_map(|s| ["--set", s])
            .chain(["--dry-run"])
            .collect();
        let stderr = fails_with(&file, &extra, expected);
        let heading = if *count == 1 {
            "1 problem in".to_string()
        } else {
            format!("{count} problems in")
        };
        assert!(stderr.contains(&heading), "{reason}: {stderr}");
    }
}
