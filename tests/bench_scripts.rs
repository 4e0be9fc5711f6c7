//! scripts/bench-compare end to end on a tiny configuration, with `--prebuilt` (the binary as
//! built and a given python's torch, as on a GPU node). Its figures are not judged: speed is
//! measured by running the script, never asserted in a test.

use std::process::Command;

#[test]
fn bench_compare_prints_each_pair_and_a_ratio_row() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new(format!("{root}/scripts/bench-compare"))
        .args([
            "--prebuilt",
            "--sizes",
            "32",
            "--precisions",
            "fp32",
            "--rounds",
            "1",
        ])
        .args(["--images", "128", "--epochs", "1", "--threads", "1"])
        .env("PYTHON", format!("{root}/.venv/bin/python"))
        .output()
        .expect("scripts/bench-compare runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "bench-compare failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains("round 1: 32 px fp32: runner "),
        "each pair is printed as it is measured:\n{stderr}"
    );
    // size prec runner eager runner/eager runner/eager-fp32
    let row: Vec<&str> = stdout
        .lines()
        .find(|l| l.starts_with("32 "))
        .unwrap_or_else(|| panic!("no 32 px row in:\n{stdout}"))
        .split_whitespace()
        .collect();
    assert_eq!(row[1], "fp32");
    let figure = |i: usize| -> f64 { row[i].parse().expect("a number") };
    let (runner, eager, ratio) = (figure(2), figure(3), figure(4));
    assert!(runner > 0.0 && eager > 0.0, "both trained: {row:?}");
    assert!(
        (ratio - runner / eager).abs() < 0.01,
        "the ratio is runner / eager: {row:?}"
    );
}

/// scripts/sweep-bench end to end, made tiny with --set (its figures are not judged): three
/// sweeps, a row each, the replay's agreement, and the last line scripts read.
#[test]
fn sweep_bench_prints_a_row_per_sweep_and_its_last_line() {
    let root = env!("CARGO_MANIFEST_DIR");
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(format!("{root}/scripts/sweep-bench"));
    cmd.args(["--prebuilt", "--results"]).arg(tmp.path());
    for set in [
        "experiment.epochs=6",
        "data.synthetic_count=400",
        "data.holdout=100",
        "eval.every=2",
        "eval.samples=64",
        "prune.first_rung=2",
    ] {
        cmd.args(["--set", set]);
    }
    let out = cmd
        .env("PYTHON", format!("{root}/.venv/bin/python"))
        .output()
        .expect("scripts/sweep-bench runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "sweep-bench failed:\n{stdout}\n{stderr}"
    );
    for sweep in ["full", "pruned", "sampled"] {
        assert!(
            stdout.lines().any(|l| l.starts_with(&format!("{sweep} "))),
            "no {sweep} row:\n{stdout}"
        );
    }
    assert!(
        stdout.contains("agrees with the live pruned sweep on 16 of 16 variants"),
        "--jobs 1: the replay of the full grid decides as the live sweep did:\n{stdout}"
    );
    let last = stdout.lines().last().unwrap_or_default();
    let words: Vec<&str> = last.split_whitespace().collect();
    assert_eq!(
        (
            words[0], words[1], words[2], words[4], words[5], words[6], words[8], words[10]
        ),
        (
            "sweep-bench:",
            "images",
            "pruned/full",
            "best",
            "swd",
            "pruned",
            "full",
            "winner"
        ),
        "{last}"
    );
    for i in [3, 7, 9] {
        let figure = words[i].trim_end_matches(';');
        assert!(figure.parse::<f64>().is_ok(), "{figure} in {last}");
    }
    assert!(["yes", "no"].contains(&words[12]), "{last}");
}

/// scripts/health-bench end to end on one recipe (G's rate at 1e-6, which should end
/// `stalled`) in its three modes: the row, and the stalling line of the tuning seed's summary.
#[test]
fn health_bench_prints_a_row_per_recipe_and_the_stalled_counts() {
    let root = env!("CARGO_MANIFEST_DIR");
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(format!("{root}/scripts/health-bench"))
        .args(["--bin", env!("CARGO_BIN_EXE_anigan-runner"), "--results"])
        .arg(tmp.path())
        .args([
            "--only",
            "stall",
            "--px",
            "16",
            "--seed",
            "11",
            "--variant",
            "1",
        ])
        .output()
        .expect("scripts/health-bench runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "health-bench failed:\n{stdout}\n{stderr}"
    );
    let row = stdout
        .lines()
        .find(|l| l.starts_with("stall") && l.contains("lr_g=0.000001"))
        .unwrap_or_else(|| panic!("no row for the recipe:\n{stdout}"));
    assert_eq!(
        row.matches("stalled").count(),
        4,
        "stalled with rollback off (its verdicts list it too), on and sparse: {row}"
    );
    for mode in ["off", "on", "sparse"] {
        assert!(
            stdout.contains(&format!(
                "rollback {mode}: stalled 1 of 1 stalling variants"
            )),
            "{mode}:\n{stdout}"
        );
    }
    assert!(
        stdout.contains("tuning seeds (11, 12, 13, 14, 15, 16, 17):"),
        "{stdout}"
    );
    assert!(stdout.contains("(a part of the bench"), "{stdout}");
}
