//! `anigan-runner replay` on the original's recorded logs and on this runner's metrics.csv,
//! in its run folder (judged as the live run judged it) or copied elsewhere.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn log(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/seed-logs")
        .join(name)
}

fn episodes(args: &[&str]) -> Vec<serde_json::Value> {
    let out = Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg("replay")
        .args(args)
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

#[test]
fn finds_the_long_d_fooled_episode_soon_after_onset() {
    let found = episodes(&[log("dcgan-560-960.log").to_str().unwrap()]);
    let d_fooled = found
        .iter()
        .find(|e| e["kind"] == "d_fooled")
        .expect("the 824-853 episode");
    assert_eq!(d_fooled["onset_epoch"], 824);
    let detected = d_fooled["detected_epoch"].as_u64().unwrap();
    assert!((824..=840).contains(&detected), "detected at {detected}");
    assert_eq!(d_fooled["end_epoch"], 854);
    let keys: Vec<&String> = d_fooled.as_object().unwrap().keys().collect();
    assert_eq!(
        keys.len(),
        5,
        "exactly kind, onset_epoch, detected_epoch, end_epoch, segment"
    );
    assert_eq!(d_fooled["segment"], 0, "the log's first segment");
}

#[test]
fn settings_change_what_is_found() {
    let path = log("dcgan-560-960.log");
    let default = episodes(&[path.to_str().unwrap()]).len();
    let strict = episodes(&[path.to_str().unwrap(), "--set", "rollback.patience=40"]).len();
    assert!(
        strict < default,
        "longer patience finds fewer episodes ({strict} vs {default})"
    );
}

#[test]
fn table_output_and_bad_settings() {
    Command::cargo_bin("anigan-runner")
        .unwrap()
        .args(["replay", log("cgan-0-699.log").to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicate::str::contains("6 segments"))
        .stdout(predicate::str::contains("onset"));
    Command::cargo_bin("anigan-runner")
        .unwrap()
        .args(["replay", log("cgan-0-699.log").to_str().unwrap()])
        .args(["--set", "rollback.patience=0", "--set", "train.lr_d=1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "rollback.patience must be at least 1 (got 0)",
        ))
        .stderr(predicate::str::contains("only rollback.* settings apply"))
        // The replayed rule is no experiment's settings.
        .stderr(predicate::str::contains(
            "2 problems in the replayed [rollback] settings:",
        ));
    Command::cargo_bin("anigan-runner")
        .unwrap()
        .args(["replay", "no-such.log"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read no-such.log"));
}

#[test]
fn reads_this_runners_metrics_csv() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("metrics.csv");
    let mut text = String::from("step,epoch,attempt,d_acc_real,d_acc_fake,g_acc,sample_std\n");
    for e in 1..=40u32 {
        let g_acc = if (10..30).contains(&e) { 0.001 } else { 0.4 };
        text += &format!("{e},{e},0,0.9,0.9,{g_acc},0.3\n");
    }
    std::fs::write(&csv, text).unwrap();
    let found = episodes(&[csv.to_str().unwrap()]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["kind"], "g_failure");
    assert_eq!(found[0]["onset_epoch"], 10);
    assert_eq!(found[0]["end_epoch"], 30);
}

/// A metrics CSV whose accuracy columns turn NaN/Inf and that has no loss columns: every
/// non-finite figure the detector reads is a `non_finite` epoch.
#[test]
fn nan_and_inf_accuracies_without_loss_columns_are_non_finite_epochs() {
    let csv =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/metrics-nan-accuracies.csv");
    let found = episodes(&[csv.to_str().unwrap()]);
    let got: Vec<(String, u64, Option<u64>)> = found
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["onset_epoch"].as_u64().unwrap(),
                e["end_epoch"].as_u64(),
            )
        })
        .collect();
    // (kind, onset, end): epochs 4-5 are `nan`/`NaN` in every accuracy, epoch 6 has g_acc
    // `inf`; the episode is one, ending at the finite epoch 7.
    let want = vec![("non_finite".to_string(), 4, Some(7))];
    assert_eq!(got, want, "{found:#?}");
}

/// 16 px, 256 training images an epoch, rates so low that the samples stay flat and alike:
/// inside the default warm-up (10,000 images: 40 epochs) the live detector judges nothing,
/// while at 13,000 images an epoch they would be judged from the first.
const STILL: &str = r#"
[experiment]
seed = 7
epochs = 8
[data]
source = "synthetic"
synthetic_count = 320
image_size = 16
holdout = 64
[model]
z_dim = 16
g_width = 8
d_width = 8
[train]
batch_size = 32
lr_g = 5e-5
lr_d = 1e-5
[checkpoint]
every = 2
keep = 2
[eval]
every = 0
"#;

/// (kind, onset epoch, detected epoch)
type Found = Vec<(String, u64, u64)>;

/// Trains STILL with `sets` into `results`; its run folder.
fn train_still(tmp: &Path, results: &str, sets: &[&str]) -> PathBuf {
    let experiment = tmp.join("still.toml");
    std::fs::write(&experiment, STILL).unwrap();
    let results = tmp.join(results);
    let out = Command::cargo_bin("anigan-runner")
        .unwrap()
        .args(common::cpu_args(&experiment, &results, &tmp.join("data")))
        .args(sets.iter().flat_map(|s| ["--set", s]))
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "finished or collapsed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    common::run_dirs(&results.join("still")).remove(0)
}

/// The verdicts the live run recorded in events.csv.
fn logged(run: &Path) -> Found {
    common::events(run)
        .iter()
        .filter_map(|e| Some((e.kind.health()?.as_str().into(), e.onset_epoch, e.epoch)))
        .collect()
}

/// `replay --json` of `metrics` with `sets`: its episodes and the line that says what it used.
fn replayed(metrics: &Path, sets: &[&str]) -> (Found, String) {
    let out = Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg("replay")
        .arg(metrics)
        .args(sets.iter().flat_map(|s| ["--set", s]))
        .arg("--json")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let episodes: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let found = episodes
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["onset_epoch"].as_u64().unwrap(),
                e["detected_epoch"].as_u64().unwrap(),
            )
        })
        .collect();
    (found, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The notes of a replay's stderr (`--json`): where its decisions part from the run's.
fn notes(said: &str) -> Vec<&str> {
    said.lines()
        .filter_map(|l| l.strip_prefix("note: "))
        .collect()
}

#[test]
fn a_runs_metrics_csv_is_replayed_as_its_live_detector_saw_it() {
    let tmp = tempfile::tempdir().unwrap();
    let run = train_still(tmp.path(), "results", &[]);
    assert_eq!(logged(&run), Found::new(), "quiet live: inside its warm-up");

    let (found, said) = replayed(&run.join("metrics.csv"), &[]);
    assert_eq!(found, Found::new(), "no episode where the run raised none");
    assert!(
        said.contains("settings and warm-up of the run in")
            && said.contains("256 images an epoch")
            && said.contains("its real-data reference"),
        "{said}"
    );
    let text = Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg("replay")
        .arg(run.join("metrics.csv"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.lines()
            .next()
            .unwrap()
            .starts_with("settings and warm-up of the run in"),
        "the first line says what it used: {text}"
    );

    // Copied out of its run folder: the defaults, 13,000 images an epoch, as before.
    let copy = tmp.path().join("copy");
    std::fs::create_dir(&copy).unwrap();
    std::fs::copy(run.join("metrics.csv"), copy.join("metrics.csv")).unwrap();
    let (found, said) = replayed(&copy.join("metrics.csv"), &[]);
    assert!(
        said.contains("no run folder beside it: defaults, 13,000 images an epoch"),
        "{said}"
    );
    assert!(
        !found.is_empty(),
        "at 13,000 images an epoch the flat samples are judged"
    );
}

#[test]
fn a_set_on_the_replay_finds_what_the_run_would_have_logged_with_it() {
    let tmp = tempfile::tempdir().unwrap();
    let run = train_still(tmp.path(), "results", &[]);
    let warm = "rollback.warmup_images=256";
    let (found, said) = replayed(&run.join("metrics.csv"), &[warm]);
    assert!(
        said.contains("with --set rollback.warmup_images=256 on top"),
        "{said}"
    );
    // The same run trained with it, logging only ([rollback] is no part of the seed: the
    // same rows).
    let live = train_still(tmp.path(), "logged", &[warm, "rollback.enabled=false"]);
    assert_eq!(
        common::metrics_without_timing(&live),
        common::metrics_without_timing(&run)
    );
    assert!(
        !found.is_empty(),
        "a warm-up of one epoch judges the samples"
    );
    assert_eq!(found, logged(&live), "the replay lists what the run logged");

    // Rolling back: every attempt's rows as the run saw them, each attempt's verdict once.
    let rolled = train_still(tmp.path(), "rolled", &[warm]);
    let attempts: Vec<u32> = anigan_runner::results::metrics::read(&rolled.join("metrics.csv"))
        .unwrap()
        .iter()
        .map(|r| r.attempt)
        .collect();
    assert!(attempts.contains(&1), "it rolled back: {attempts:?}");
    let (found, said) = replayed(&rolled.join("metrics.csv"), &[]);
    assert_eq!(found, logged(&rolled));
    assert_eq!(
        notes(&said),
        Vec::<&str>::new(),
        "its own decisions: {said}"
    );
}

/// Rows that end where the run rolled back say nothing of what other settings would do past
/// that epoch, and the next attempt's rows exist only because of that rollback: the replay
/// says so rather than answering as if it knew.
#[test]
fn a_replay_says_where_the_runs_own_rollbacks_cut_what_it_can_know() {
    let tmp = tempfile::tempdir().unwrap();
    // A warm-up of two epochs: each attempt rolls back (the last stops) at epoch 6.
    let rolled = train_still(tmp.path(), "rolled", &["rollback.warmup_images=512"]);
    let ends: Vec<(String, u64)> = common::events(&rolled)
        .iter()
        .map(|e| (e.action.word().into(), e.epoch))
        .collect();
    assert_eq!(ends.first(), Some(&("rollback".into(), 6)), "{ends:?}");
    let metrics = rolled.join("metrics.csv");

    // A longer warm-up raises nothing by epoch 6.
    let (found, said) = replayed(&metrics, &["rollback.warmup_images=4096"]);
    assert_eq!(found, Found::new());
    let first = notes(&said)[0];
    assert!(
        first.starts_with("attempt 0's rows end at epoch 6, where the run rolled back (degenerate_output); these settings raised nothing by then")
            && first.contains("what would follow epoch 6 is unknown")
            && first.contains("the rows of attempt 1 on follow the run's own rollback"),
        "{said}"
    );

    // A shorter one would have rolled back earlier.
    let (_, said) = replayed(&metrics, &["rollback.warmup_images=256"]);
    let first = notes(&said)[0];
    assert!(
        first.contains("would roll back or stop at epoch 4 of attempt 0")
            && first.contains(
                "attempt 0's rows after epoch 4 and those of attempt 1 on are the recorded run's"
            ),
        "{said}"
    );

    // Logging only: the run would have trained on past its rollback.
    let (_, said) = replayed(&metrics, &["rollback.enabled=false"]);
    assert!(
        notes(&said)[0].contains("these settings only log verdicts (rollback.enabled = false)"),
        "{said}"
    );

    // The table says the same after its episodes; stdout of --json stays one array.
    let out = Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg("replay")
        .arg(&rolled)
        .args(["--set", "rollback.warmup_images=4096"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("0 episodes") && text.contains("note: attempt 0's rows end at epoch 6"),
        "{text}"
    );
}

#[test]
fn a_run_folder_is_replayed_through_its_metrics_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let run = train_still(tmp.path(), "results", &[]);
    let (by_folder, said) = replayed(&run, &[]);
    assert_eq!(by_folder, replayed(&run.join("metrics.csv"), &[]).0);
    assert!(
        said.contains("settings and warm-up of the run in"),
        "{said}"
    );
    Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg("replay")
        .arg(tmp.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "is a folder without a metrics.csv",
        ))
        .stderr(predicate::str::contains("or a run folder"));
}
