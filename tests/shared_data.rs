//! Runs that share one data folder, as the tasks of a Slurm job array on a cluster file system
//! do: what one of them prepares, the others use.

mod common;

use std::process::{Command, Stdio};

const TINY: &str = r#"
[experiment]
seed = 5
epochs = 2
[data]
source = "synthetic"
synthetic_count = 160
image_size = 16
holdout = 48
[model]
z_dim = 16
g_width = 8
d_width = 8
[train]
batch_size = 32
[eval]
every = 1
samples = 48
"#;

/// Two runs started at the same moment on one fresh data folder: one trains the tag classifier
/// and measures the floors, the other waits for it and reads its cache, so both train once and
/// their figures agree to the last digit (each training its own classifier, they clobbered each
/// other's cache files and a resumed run could read the other's copy).
#[test]
fn runs_started_together_train_the_tag_classifier_once_and_share_it() {
    let base = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let exp = base.path().join("tiny.toml");
    std::fs::write(&exp, TINY).unwrap();
    let data = base.path().join("data");
    let start = |name: &str| {
        Command::new(env!("CARGO_BIN_EXE_anigan-runner"))
            .args(common::cpu_args(&exp, &base.path().join(name), &data))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (start("a"), start("b"));
    let outputs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    let mut trained = 0;
    for out in &outputs {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "a run failed:\n{stderr}");
        trained += stderr.matches("trained the tag classifier").count();
    }
    assert_eq!(
        trained,
        1,
        "the classifier must be trained once:\n{}\n---\n{}",
        String::from_utf8_lossy(&outputs[0].stderr),
        String::from_utf8_lossy(&outputs[1].stderr)
    );
    let metrics = |name: &str| {
        let runs = common::run_dirs(&base.path().join(name).join("tiny"));
        assert_eq!(runs.len(), 1);
        common::metrics_without_timing(&runs[0])
    };
    let (ma, mb) = (metrics("a"), metrics("b"));
    assert_eq!(ma.len(), 2);
    assert!(ma[1].tag_fd.is_some(), "the runs must read tags");
    assert_eq!(ma, mb, "one classifier and one floor: the same figures");
}

/// A data folder restored in part, as CI caches restore one: the synthetic dataset with an
/// image deleted, cut short or overwritten, or its tag list gone, is generated again (the same
/// images, said with a warning), so the run trains as on the whole dataset, to the last digit;
/// also where a run resumes.
#[test]
fn a_damaged_synthetic_dataset_is_generated_again() {
    let base = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let exp = base.path().join("tiny.toml");
    std::fs::write(&exp, TINY).unwrap();
    let data = base.path().join("data");
    let run = |name: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_anigan-runner"))
            .args(common::cpu_args(&exp, &base.path().join(name), &data))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{name} failed:\n{stderr}");
        let runs = common::run_dirs(&base.path().join(name).join("tiny"));
        (common::metrics_without_timing(&runs[0]), stderr)
    };
    let (whole, _) = run("whole");
    let faces = data.join("synthetic/faces-160x16px-seed0");
    let image = |k: u32| faces.join(format!("selected/{k}.png"));
    let damages: [(&str, &dyn Fn()); 4] = [
        ("selected/5.png is missing", &|| {
            std::fs::remove_file(image(5)).unwrap()
        }),
        ("selected/7.png has 100 bytes", &|| {
            let bytes = std::fs::read(image(7)).unwrap();
            std::fs::write(image(7), &bytes[..100]).unwrap();
        }),
        ("filtered.txt is missing", &|| {
            std::fs::remove_file(faces.join("filtered.txt")).unwrap()
        }),
        ("the contents of its files differ", &|| {
            let mut bytes = std::fs::read(image(9)).unwrap();
            bytes[60] ^= 0xff; // overwritten in place, its size kept
            std::fs::write(image(9), &bytes).unwrap();
        }),
    ];
    for (n, (why, damage)) in damages.into_iter().enumerate() {
        damage();
        let (rows, stderr) = run(&format!("after-{n}"));
        assert!(
            stderr.contains(why) && stderr.contains("generating it again"),
            "{why}:\n{stderr}"
        );
        assert_eq!(rows, whole, "{why}: the same data, the same run");
    }
    // A run resumed or extended on a damaged folder: generated again before the resume's
    // check that the data is the data it started on.
    std::fs::remove_file(image(3)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_anigan-runner"))
        .args(common::cpu_args(&exp, &base.path().join("whole"), &data))
        .args(["--set", "experiment.epochs=3"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the extension failed:\n{stderr}");
    assert!(stderr.contains("generating it again"), "{stderr}");
}

/// A `data.path` holding a synthetic dataset generated with other settings is a settings error
/// before anything is written (it was a failed variant, after the results folder was made).
#[test]
fn a_synthetic_path_generated_with_other_settings_is_a_settings_error() {
    let base = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let other = base.path().join("other");
    let made = Command::new(env!("CARGO_BIN_EXE_anigan-runner"))
        .args(["data", "synth", "--out"])
        .arg(&other)
        .args(["--count", "100", "--size", "16"])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let exp = base.path().join("tiny.toml");
    std::fs::write(&exp, TINY).unwrap();
    let results = base.path().join("results");
    let out = Command::new(env!("CARGO_BIN_EXE_anigan-runner"))
        .args(common::cpu_args(&exp, &results, &base.path().join("data")))
        .arg("--set")
        .arg(format!("data.path={}", other.display()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("holds another synthetic dataset: it was generated with count 100"),
        "{stderr}"
    );
    assert!(!results.exists(), "nothing written");
}
