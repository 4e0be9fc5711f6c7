//! A run that gets nowhere ends `stalled`, and says so everywhere a user looks: exit code,
//! status.json, events.csv, summary.csv, `status` (text and JSON) and the report.

mod common;

use std::path::Path;

use assert_cmd::Command;

fn runner() -> Command {
    Command::cargo_bin("anigan-runner").unwrap()
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn a_rate_far_under_the_usual_range_ends_the_run_stalled_with_what_to_raise() {
    let tmp = tempfile::tempdir().unwrap();
    let (results, data) = (tmp.path().join("results"), tmp.path().join("data"));
    // G's rate 1e-6: D rejects its samples within a few epochs (g_failure, patience 3 past a
    // one-epoch warm-up); a rollback only ever slows, so the policy ends the run.
    let run_it = || {
        runner()
            .args(common::cpu_args(
                &root().join("experiments/smoke.toml"),
                &results,
                &data,
            ))
            .args(["--variant", "0", "--set", "train.lr_g=1e-6"])
            .args([
                "--set",
                "rollback.warmup_images=256",
                "--set",
                "rollback.patience=3",
            ])
            .args(["--set", "experiment.epochs=12"])
            .output()
            .unwrap()
    };
    let out = run_it();
    let said = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(3),
        "a stalled variant exits 3: {said}"
    );
    assert!(
        said.contains(", 1 stalled"),
        "the sweep's last line: {said}"
    );
    // The same command again trains nothing and says the same: a CI loop that reruns until
    // exit 0 must not pass.
    let again = run_it();
    let said = String::from_utf8_lossy(&again.stdout) + String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(3), "the rerun: {said}");
    assert!(
        said.contains(", 1 stalled; 1 of them was done before this command"),
        "{said}"
    );

    let exp = results.join("smoke");
    let run = common::run_dirs(&exp).remove(0);
    let status: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("status.json")).unwrap()).unwrap();
    assert_eq!(status["state"], "stalled");
    let reason = status["reason"].as_str().unwrap();
    assert!(
        reason.contains("G's learning rate 1e-6 is far under the usual range")
            && reason.contains("raise train.lr_g"),
        "the reason names the rate and what to do: {reason}"
    );
    assert!(
        status["epochs_done"].as_u64().unwrap() < 12,
        "it stopped early: {status}"
    );

    let events = common::events(&run);
    let last = events.last().expect("the verdict's row");
    assert_eq!(last.action.word(), "stop");
    assert!(
        last.evidence.contains("raise train.lr_g"),
        "{}",
        last.evidence
    );

    let summary = std::fs::read_to_string(exp.join("summary.csv")).unwrap();
    let mut rows = csv::Reader::from_reader(summary.as_bytes());
    let headers = rows.headers().unwrap().clone();
    let row = rows.records().next().unwrap().unwrap();
    let col = |name: &str| &row[headers.iter().position(|h| h == name).unwrap()];
    assert_eq!(col("status"), "stalled");
    assert!(
        col("reason").contains("raise train.lr_g"),
        "{}",
        col("reason")
    );

    let text = runner().args(["status"]).arg(&exp).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("1 stalled"), "status counts it: {text}");
    let json = runner()
        .args(["status", "--json"])
        .arg(&exp)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(
        json.to_string().contains("\"stalled\""),
        "status --json says stalled: {json}"
    );

    let html = std::fs::read_to_string(exp.join("report.html")).unwrap();
    assert!(
        html.contains("class=\"st stalled\">stalled<"),
        "the report shows the state in its own colour"
    );
    assert!(html.contains("raise train.lr_g"), "and the reason");
}
