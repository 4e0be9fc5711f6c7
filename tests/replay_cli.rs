//! `anigan-runner replay` on the original's recorded logs and on this runner's metrics.csv.

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
        4,
        "exactly kind, onset_epoch, detected_epoch, end_epoch"
    );
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
        .stderr(predicate::str::contains("only rollback.* settings apply"));
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
