//! `anigan-runner data synth`: the dataset layout and the contact sheet.

use assert_cmd::Command;
use predicates::prelude::*;

#[test]
fn synth_writes_the_original_layout_and_a_contact_sheet() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("faces");
    let sheet = dir.path().join("sheet.png");
    Command::cargo_bin("anigan-runner")
        .unwrap()
        .args([
            "data", "synth", "--count", "40", "--size", "32", "--seed", "5",
        ])
        .arg("--out")
        .arg(&out)
        .arg("--contact-sheet")
        .arg(&sheet)
        .assert()
        .success()
        .stdout(predicate::str::contains("wrote 40 images"));
    let tags = std::fs::read_to_string(out.join("tags.txt")).unwrap();
    assert_eq!(tags.lines().count(), 3, "three vocabulary lines");
    let labels = std::fs::read_to_string(out.join("filtered.txt")).unwrap();
    assert_eq!(labels.lines().count(), 40);
    for k in [0, 39] {
        let img = image::open(out.join(format!("selected/{k}.png"))).unwrap();
        assert_eq!((img.width(), img.height()), (32, 32));
    }
    let sheet = image::open(&sheet).unwrap();
    assert!(sheet.width() >= 8 * 32, "8 faces per row");

    Command::cargo_bin("anigan-runner")
        .unwrap()
        .args(["data", "synth", "--count", "5"])
        .arg("--out")
        .arg(&out)
        .assert()
        .failure()
        .stderr(predicate::str::contains("not empty").or(predicate::str::contains("exists")));
}

#[test]
fn bad_size_is_refused() {
    Command::cargo_bin("anigan-runner")
        .unwrap()
        .args(["data", "synth", "--out", "x", "--size", "48"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--size 48"));
}
