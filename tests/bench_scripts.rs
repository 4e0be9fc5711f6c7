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
