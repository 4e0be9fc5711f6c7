//! `anigan-runner replay` on a metrics CSV whose accuracy columns turn NaN/Inf and that has no
//! loss columns (issue 14, item 7): every non-finite figure the detector reads is a
//! `non_finite` epoch.

use std::path::Path;

use assert_cmd::Command;

#[test]
fn nan_and_inf_accuracies_without_loss_columns_are_non_finite_epochs() {
    let csv =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/metrics-nan-accuracies.csv");
    let out = Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg("replay")
        .arg(&csv)
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let found: Vec<serde_json::Value> = serde_json::from_slice(&out).unwrap();
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
