//! End-to-end training on the smoke experiment: the files a run writes, skipping and extending
//! finished runs, and exact resume after SIGKILL.

mod common;
use common::{events, metrics_without_timing};

use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::{Duration, Instant};

use anigan_runner::health::Kind;
use anigan_runner::results::{MetricsRow, Taken};
use assert_cmd::Command;
use assert_cmd::cargo::CommandCargoExt;
use predicates::prelude::*;

fn smoke() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/smoke.toml")
}

/// Generated datasets and caches shared by the tests of this file.
fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("data")
}

fn runner(results: &Path) -> Command {
    let mut cmd = Command::cargo_bin("anigan-runner").unwrap();
    cmd.arg(smoke())
        .arg("--results")
        .arg(results)
        .arg("--data-dir")
        .arg(data_dir())
        .args(["--device", "cpu"])
        // Tests run side by side: one libtorch thread each avoids oversubscribing the cores.
        .args(["--set", "train.threads=1"]);
    cmd
}

/// The smoke experiment's run directories under `results`, in index order.
fn run_dirs(results: &Path) -> Vec<PathBuf> {
    common::run_dirs(&results.join("smoke"))
}

#[test]
fn smoke_run_writes_every_file_and_resumes_or_extends() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    runner(&results)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "2 finished, 0 collapsed, 0 failed",
        ));

    let runs = run_dirs(&results);
    assert_eq!(runs.len(), 2);
    for run in &runs {
        for file in ["config.toml", "metrics.csv", "status.json"] {
            assert!(run.join(file).is_file(), "{file} in {}", run.display());
        }
        let status = std::fs::read_to_string(run.join("status.json")).unwrap();
        assert!(status.contains("\"state\": \"finished\""), "{status}");
        assert!(status.contains("\"epochs_done\": 4"), "{status}");
        let header = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
        for column in [
            "step",
            "epoch",
            "attempt",
            "d_loss",
            "g_loss",
            "d_acc_real",
            "d_acc_fake",
            "g_acc",
            "d_acc_real_hard",
            "d_acc_fake_hard",
            "g_acc_hard",
            "d_updates",
            "g_updates",
            "lr_g",
            "lr_d",
            "label_noise",
            "batch_size",
            "sample_std",
            "seconds",
            "images_per_sec",
        ] {
            assert!(
                header
                    .lines()
                    .next()
                    .unwrap()
                    .split(',')
                    .any(|c| c == column),
                "{column}"
            );
        }
        assert_eq!(metrics_without_timing(run).len(), 4, "one row per epoch");
        for epoch in 1..=4 {
            let grid = run.join(format!("samples/epoch-{epoch:04}.png"));
            let img = image::open(&grid).unwrap();
            assert_eq!(img.width(), 8 * 32 + 9 * 2, "8x8 grid of 32 px samples");
        }
        // keep = 2: epochs 2 and 4 remain, and so does the initial epoch 0: it is the only
        // restore point, as 2 and 4 fall inside the warm-up (nothing was judged yet).
        for epoch in [0, 2, 4] {
            let ckpt = run.join(format!("checkpoints/epoch-{epoch:04}.safetensors"));
            assert!(
                ckpt.is_file() && ckpt.with_extension("json").is_file(),
                "{}",
                ckpt.display()
            );
        }
        let config = std::fs::read_to_string(run.join("config.toml")).unwrap();
        assert!(
            config.contains("image_size = 32"),
            "resolved config written"
        );
    }
    // The two variants differ only in lr_d, and it shows in their logs.
    assert_ne!(
        metrics_without_timing(&runs[0]),
        metrics_without_timing(&runs[1])
    );

    runner(&results)
        .assert()
        .success()
        .stderr(predicate::str::contains("already finished (4 epochs); skipping").count(2));

    runner(&results)
        .args(["--set", "experiment.epochs=6", "--variant", "0"])
        .assert()
        .success()
        .stderr(predicate::str::contains("resuming from epoch 4"));
    assert_eq!(run_dirs(&results), runs, "raising epochs keeps the ids");
    let extended = metrics_without_timing(&runs[0]);
    assert_eq!(extended.len(), 6);
    let last = &extended[5];
    assert_eq!((last.step, last.epoch, last.attempt), (6, 6, 0), "{last:?}");
}

#[test]
fn sigkill_then_rerun_equals_an_uninterrupted_run() {
    sigkill_then_rerun(tempfile::tempdir().unwrap().path(), &[]);
}

/// A CGAN with quality figures every other epoch: the settings every CGAN resume test starts from.
const EVALUATED_CGAN: [&str; 3] = ["model.arch=cgan", "eval.every=2", "eval.samples=64"];

/// The CGAN twin: tags on the device, fake tags from the training stream, quality columns.
#[test]
fn cgan_sigkill_then_rerun_equals_an_uninterrupted_run() {
    sigkill_then_rerun(tempfile::tempdir().unwrap().path(), &EVALUATED_CGAN);
}

/// bf16 mixed precision resumes exactly too (fp32 master weights and moments in the checkpoint),
/// and its checkpoints load in fp32 code (`sample`).
#[test]
fn bf16_sigkill_then_rerun_equals_an_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let killed = sigkill_then_rerun(tmp.path(), &["train.precision=bf16"]);
    let run = &run_dirs(&killed)[0];
    let out = killed.join("last.png");
    sample_last_epoch(run, &out);
    assert!(image::open(&out).is_ok(), "a grid from a bf16 checkpoint");
}

/// The quality levers resume exactly too: the weight average (the quality figures are measured
/// on it), D's spectral-norm vectors and the augmentation probability are in the checkpoint, and
/// the augmentation draws from the epoch's stream. `sample` then uses the averaged weights.
#[test]
fn levers_sigkill_then_rerun_equals_an_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let killed = sigkill_then_rerun(
        tmp.path(),
        &[
            &EVALUATED_CGAN[..],
            &[
                "train.ema_images=2000",
                "model.spectral_norm=true",
                "augment.policy=color,translation,cutout",
                "augment.speed_images=2000",
            ],
        ]
        .concat(),
    );
    let run = &run_dirs(&killed)[0];
    let ps: Vec<f64> = metrics_without_timing(run)
        .iter()
        .map(|r| r.augment_p.unwrap())
        .collect();
    assert!(ps.iter().all(|p| (0.0..=1.0).contains(p)), "{ps:?}");
    assert!(
        ps.iter().any(|&p| p > 0.0),
        "the controller moved p: {ps:?}"
    );
    let out = killed.join("averaged.png");
    sample_last_epoch(run, &out).stdout(predicate::str::contains("averaged weights"));
    assert!(image::open(&out).is_ok());
}

/// The AC-GAN head resumes exactly too: its weights and Adam moments are in D's checkpoint and
/// its loss is part of the logged D and G losses. With the weight average, as `cgan.toml` ships.
#[test]
fn acgan_sigkill_then_rerun_equals_an_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let killed = sigkill_then_rerun(
        tmp.path(),
        &[
            &EVALUATED_CGAN[..],
            &["train.ema_images=2000", "train.aux_tag_weight=1.0"],
        ]
        .concat(),
    );
    let run = &run_dirs(&killed)[0];
    assert_head_in_last_checkpoint(run);
    let out = killed.join("acgan.png");
    sample_last_epoch(run, &out);
    assert!(image::open(&out).is_ok());
}

/// The DCGAN's tag head resumes exactly too: its weights and moments are in D's checkpoint, and
/// G's term reads the dataset's tag mix again after the restart.
#[test]
fn dcgan_tag_head_sigkill_then_rerun_equals_an_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let killed = sigkill_then_rerun(tmp.path(), &["train.aux_tag_weight=1.0"]);
    let run = &run_dirs(&killed)[0];
    assert_head_in_last_checkpoint(run);
}

/// The tag head's weights are in D's part of the run's epoch-8 checkpoint.
fn assert_head_in_last_checkpoint(run: &Path) {
    let last = run.join("checkpoints/epoch-0008.safetensors");
    let (tensors, _) = anigan_runner::checkpoint::load(&last).unwrap();
    assert!(
        tensors.contains_key("d.aux.weight"),
        "the head is in D's checkpoint"
    );
}

/// `anigan-runner sample RUN --epoch last --out OUT`, asserted to succeed.
fn sample_last_epoch(run: &Path, out: &Path) -> assert_cmd::assert::Assert {
    Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg("sample")
        .arg(run)
        .args(["--epoch", "last", "--out"])
        .arg(out)
        .assert()
        .success()
}

/// Trains smoke variant 1 with `settings` (each passed as `--set key=value`) whole and
/// killed-then-resumed under `tmp`; returns the killed run's results dir.
fn sigkill_then_rerun(tmp: &Path, settings: &[&str]) -> PathBuf {
    let mut args = vec!["--variant", "1"];
    let base = [
        "experiment.epochs=8",
        "data.synthetic_count=1100",
        "data.holdout=100",
    ];
    for setting in base.iter().chain(settings) {
        args.extend(["--set", setting]);
    }
    let args = args.as_slice();
    let whole = tmp.join("whole");
    runner(&whole).args(args).assert().success();

    let killed = tmp.join("killed");
    let mut child = Process::cargo_bin("anigan-runner")
        .unwrap()
        .arg(smoke())
        .arg("--results")
        .arg(&killed)
        .arg("--data-dir")
        .arg(data_dir())
        .args(["--device", "cpu", "--set", "train.threads=1"])
        .args(args)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let sidecar = |dir: &Path| {
        dir.join("smoke/runs")
            .read_dir()
            .ok()
            .and_then(|mut d| d.next())
            .map(|e| e.unwrap().path().join("checkpoints/epoch-0004.json"))
    };
    while !sidecar(&killed).is_some_and(|p| p.exists()) {
        assert!(
            Instant::now() < deadline,
            "no checkpoint at epoch 4 in time"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let interrupted_rows = metrics_without_timing(&run_dirs(&killed)[0]).len();
    assert!(
        interrupted_rows < 8,
        "killed before the end ({interrupted_rows} rows)"
    );
    // What a kill in the middle of writing a checkpoint leaves (the kill above may not have).
    let half_written = run_dirs(&killed)[0].join("checkpoints/.epoch-0005.safetensors.x1y2.tmp");
    std::fs::write(&half_written, b"half a checkpoint").unwrap();

    runner(&killed)
        .args(args)
        .assert()
        .success()
        .stderr(predicate::str::contains("resuming from epoch"));
    for folder in ["checkpoints", "samples"] {
        let temps: Vec<_> = std::fs::read_dir(run_dirs(&killed)[0].join(folder))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(
            temps.is_empty(),
            "a killed writer's temp files remain: {temps:?}"
        );
    }
    let (a, b) = (run_dirs(&whole), run_dirs(&killed));
    assert_eq!(a[0].file_name(), b[0].file_name());
    assert_eq!(metrics_without_timing(&a[0]), metrics_without_timing(&b[0]));
    assert_eq!(metrics_without_timing(&b[0]).len(), 8);
    killed
}

/// A run killed after a rollback, before the new attempt's first checkpoint, leaves status.json
/// at the killed attempt while the newest checkpoint is of the attempt before: the rerun cuts
/// the rows after that checkpoint and trains them again, and status.json says so (its epoch,
/// step and attempt) by the time the resume line does, not an epoch later.
#[test]
fn a_resumed_run_and_its_status_agree_on_the_attempt() {
    use std::io::BufRead;
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let args = [
        "--variant",
        "0",
        "--set",
        "experiment.epochs=8",
        "--set",
        "checkpoint.every=4",
    ];
    runner(&results).args(args).assert().success();
    let run = &run_dirs(&results)[0];
    // What the kill leaves: status.json of attempt 1 at step 9; the newest complete checkpoint
    // is epoch 4's, of attempt 0 (a sidecar marks a complete one).
    std::fs::remove_file(run.join("checkpoints/epoch-0008.json")).unwrap();
    let killed = serde_json::json!({
        "state": "running", "epochs_done": 6, "epochs_planned": 8, "steps_done": 9,
        "attempt": 1, "last_checkpoint": 4, "reason": null,
    });
    std::fs::write(run.join("status.json"), killed.to_string()).unwrap();

    let mut child = Process::cargo_bin("anigan-runner")
        .unwrap()
        .arg(smoke())
        .arg("--results")
        .arg(&results)
        .arg("--data-dir")
        .arg(data_dir())
        .args(["--device", "cpu", "--set", "train.threads=1"])
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut seen = Vec::new();
    for line in std::io::BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.contains("resuming from epoch") {
            let status: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(run.join("status.json")).unwrap())
                    .unwrap();
            assert!(line.contains("(step 4, attempt 0)"), "{line}");
            assert_eq!(
                (
                    &status["attempt"],
                    &status["steps_done"],
                    &status["epochs_done"]
                ),
                (
                    &serde_json::json!(0),
                    &serde_json::json!(4),
                    &serde_json::json!(4)
                ),
                "{line}: {status}"
            );
            assert_eq!(status["state"], "running", "{status}");
        }
        seen.push(line);
    }
    assert!(child.wait().unwrap().success(), "{seen:#?}");
    assert!(
        seen.iter().any(|l| l.contains("resuming from epoch 4")),
        "{seen:#?}"
    );
}

#[test]
fn forced_collapse_is_rolled_back_then_stopped() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    // eps 0.45 calls every epoch of this run a G failure: a collapse on demand.
    runner(&results)
        .args([
            "--variant",
            "0",
            "--set",
            "experiment.epochs=8",
            "--set",
            "checkpoint.every=1",
        ])
        .args(["--set", "rollback.eps=0.45", "--set", "rollback.patience=2"])
        .args([
            "--set",
            "rollback.warmup_images=0",
            "--set",
            "rollback.max_rollbacks=1",
        ])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("g_failure (onset epoch 1)"))
        .stderr(predicate::str::contains("rolling back to epoch 0"))
        .stdout(predicate::str::contains("0 finished, 1 collapsed"));
    let run = &run_dirs(&results)[0];
    let rows = events(run);
    assert_eq!(rows.len(), 2, "{rows:?}");
    // The checkpoint of epoch 1 was saved inside the streak: not a target; epoch 0 is.
    let first = &rows[0];
    assert_eq!(
        (
            first.step,
            first.epoch,
            first.kind,
            first.onset_epoch,
            first.action,
            first.restored_epoch,
            first.changes.as_str()
        ),
        (
            2,
            2,
            Kind::GFailure.into(),
            1,
            Taken::Rollback,
            Some(0),
            "label_noise 0.10->0.15; lr_d 2e-4->1e-4"
        ),
        "{first:?}"
    );
    assert_eq!(rows[1].action, Taken::Stop, "{:?}", rows[1]);
    // The abandoned timeline's grids go, but its last (the collapse the verdict saw) is kept.
    let kept = run.join("samples/rolled-back/rollback-1-epoch-0002.png");
    assert!(kept.is_file(), "no {}", kept.display());
    let html = std::fs::read_to_string(results.join("smoke/report.html")).unwrap();
    let id = run.file_name().unwrap().to_string_lossy();
    assert!(
        html.contains(&format!(
            "src=\"runs/{id}/samples/rolled-back/rollback-1-epoch-0002.png\""
        )) && html.contains("what rollback 1 abandoned: its samples at epoch 2"),
        "the report shows the kept grid"
    );
    let metrics = metrics_without_timing(run);
    let steps: Vec<(u64, u32, u32)> = metrics
        .iter()
        .map(|r| (r.step, r.epoch, r.attempt))
        .collect();
    assert_eq!(
        steps,
        [(1, 1, 0), (2, 2, 0), (3, 1, 1), (4, 2, 1)],
        "step goes on, epoch restarts, attempt counts"
    );
    let status = std::fs::read_to_string(run.join("status.json")).unwrap();
    assert!(status.contains("\"state\": \"collapsed\""), "{status}");
    // The report prints the state before the reason: the reason does not repeat it.
    let report = std::fs::read_to_string(results.join("smoke/report.md")).unwrap();
    assert!(
        report.lines().any(|l| l.starts_with("- 000-")
            && l.contains(" collapsed: ")
            && l.ends_with(" at epoch 2 after 1 rollbacks (max_rollbacks 1)")),
        "{report}"
    );
    assert!(!report.contains("collapsed: collapsed"), "{report}");
    assert_eq!(
        metrics[2].label_noise,
        Some(0.15),
        "new label noise used after the rollback: {:?}",
        metrics[2]
    );
}

/// A variant a rollback rescued finishes (exit 0), and the run's last line says it finished
/// with other settings than its grid point's: a smoke run in CI that passed only thanks to a
/// rollback must not read like a clean pass.
#[test]
fn the_last_line_says_a_finished_variant_was_rolled_back() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    runner(&results)
        .args(["--variant", "0", "--set", "experiment.epochs=6"])
        .args([
            "--set",
            "train.lr_g=5.0",
            "--set",
            "rollback.warmup_images=0",
        ])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("rolling back to epoch 0"))
        .stdout(predicate::str::contains(
            "1 finished (1 of them after a rollback changed its settings)",
        ));
}

/// With rollback disabled a verdict is only logged: `status`, summary.csv and report.md say
/// how many and which (a run whose episode ends can finish far from the data, and its row
/// alone showed nothing).
#[test]
fn verdicts_logged_with_rollback_disabled_are_shown_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    // eps 0.45 calls every epoch of this run a G failure.
    runner(&results)
        .args(["--variant", "0", "--set", "rollback.enabled=false"])
        .args(["--set", "rollback.eps=0.45", "--set", "rollback.patience=2"])
        .args(["--set", "rollback.warmup_images=0"])
        .assert()
        .code(3);
    let logged = events(&run_dirs(&results)[0]).len();
    assert!(logged > 0);
    let note = format!("{logged} health verdict");
    let status = Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg("status")
        .arg(results.join("smoke"))
        .output()
        .unwrap();
    let status = String::from_utf8(status.stdout).unwrap();
    assert!(
        status.contains(&note) && status.contains("g_failure at epoch"),
        "{status}"
    );
    let report = std::fs::read_to_string(results.join("smoke/report.md")).unwrap();
    assert!(
        report
            .lines()
            .any(|l| l.starts_with("- 000-") && l.contains(&note)),
        "{report}"
    );
    let csv = std::fs::read_to_string(results.join("smoke/summary.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = header.iter().position(|h| *h == "verdicts_logged").unwrap();
    let first: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(first[column], logged.to_string(), "{csv}");
}

/// A healthy run is left alone however long it trains: the smoke experiment at 4 epochs, then
/// extended to 8 and to 30, logs no verdict (an untrained G used to be called degenerate).
#[test]
fn healthy_smoke_runs_have_no_events_at_4_8_and_30_epochs() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    for epochs in [4, 8, 30] {
        runner(&results)
            .args(["--set", &format!("experiment.epochs={epochs}")])
            .assert()
            .success()
            .stdout(predicate::str::contains("2 finished, 0 collapsed"));
        for run in run_dirs(&results) {
            let rows = events(&run).len();
            assert_eq!(rows, 0, "{epochs} epochs: verdicts in {}", run.display());
            let metrics = metrics_without_timing(&run);
            assert_eq!(metrics.len(), epochs, "{}", run.display());
        }
    }
}

/// A tiny CGAN: tags reach G and D, the quality figures fill their columns on evaluated epochs,
/// the classifier is cached, and `sample` follows tags and rejects bad ones.
#[test]
fn tiny_cgan_run_evaluates_and_samples_by_tags() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let args = [
        "--variant",
        "0",
        "--set",
        "model.arch=cgan",
        "--set",
        "eval.every=2",
        "--set",
        "eval.samples=64",
        "--set",
        "experiment.epochs=4",
    ];
    runner(&results).args(args).assert().success();
    let run = &run_dirs(&results)[0];
    let rows = metrics_without_timing(run);
    let hair = |r: &MetricsRow| {
        r.tag_acc_groups
            .iter()
            .find(|(name, _)| name == "tag_acc_hair")
            .unwrap()
            .1
    };
    type Column = (&'static str, fn(&MetricsRow) -> Option<f64>);
    let columns: [Column; 6] = [
        ("swd", |r| r.swd),
        ("diversity", |r| r.diversity),
        ("tag_acc", |r| r.tag_acc),
        ("tag_acc_hair", hair),
        ("tag_fd", |r| r.tag_fd),
        ("tag_kl", |r| r.tag_kl),
    ];
    for (name, value) in columns {
        let values: Vec<Option<f64>> = rows.iter().map(value).collect();
        assert!(
            values[0].is_none() && values[2].is_none(),
            "{name}: {values:?}"
        );
        for v in [values[1], values[3]] {
            assert!(v.is_some_and(f64::is_finite), "{name}: {values:?}");
        }
    }
    let reference = std::fs::read_to_string(run.join("quality-reference.json")).unwrap();
    assert!(
        reference.contains("swd_floor") && reference.contains("blue hair"),
        "{reference}"
    );
    let reference: serde_json::Value = serde_json::from_str(&reference).unwrap();
    assert_eq!(
        reference["tag_group_names"],
        serde_json::json!(["hair", "length", "eyes"]),
        "the synthetic faces keep the original's group names"
    );
    assert!(reference["swd_floor_std"].as_f64().is_some_and(|s| s > 0.0));
    let tag_floor = reference["tag_kl_floor"].as_f64();
    assert!(
        tag_floor.is_some_and(|f| f.is_finite() && f >= 0.0),
        "real images' tag_kl: {tag_floor:?}"
    );
    let cached: Vec<String> = std::fs::read_dir(data_dir().join("cache"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("classifier-v1-"))
        .collect();
    assert!(!cached.is_empty(), "classifier cached");
    assert!(
        std::fs::read_to_string(run.join("tags.txt"))
            .unwrap()
            .contains("long hair")
    );

    let sample = |extra: &[&str]| {
        let mut cmd = Command::cargo_bin("anigan-runner").unwrap();
        cmd.arg("sample").arg(run).args(extra);
        cmd
    };
    let out = tmp.path().join("blue.png");
    sample(&[
        "--tags",
        "blue hair,long hair",
        "--count",
        "16",
        "--epoch",
        "best",
        "--out",
    ])
    .arg(&out)
    .assert()
    .success()
    .stdout(predicate::str::contains("16 images from epoch"));
    assert_eq!(image::open(&out).unwrap().width(), 8 * 32 + 9 * 2);
    let again = tmp.path().join("again.png");
    sample(&[
        "--tags",
        "blue hair,long hair",
        "--count",
        "16",
        "--epoch",
        "best",
        "--out",
    ])
    .arg(&again)
    .assert()
    .success();
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(&again).unwrap(),
        "deterministic"
    );
    sample(&["--interpolate", "--count", "8", "--threads", "1", "--out"])
        .arg(tmp.path().join("walk.png"))
        .assert()
        .success();
    sample(&["--tags", "blue hair,red hair", "--out"])
        .arg(tmp.path().join("x.png"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("are both hair tags"));
    sample(&["--tags", "blue hiar", "--out"])
        .arg(tmp.path().join("x.png"))
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("unknown tag \"blue hiar\"")
                .and(predicate::str::contains("long hair")),
        );
    sample(&["--epoch", "3", "--out"])
        .arg(tmp.path().join("x.png"))
        .assert()
        .failure()
        .stderr(predicate::str::contains("the run has epochs"));
}

#[test]
fn a_run_whose_every_checkpoint_is_damaged_says_so_and_starts_over_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    runner(&whole).args(["--variant", "0"]).assert().success();

    let damaged = tmp.path().join("damaged");
    runner(&damaged)
        .args(["--variant", "0", "--set", "experiment.epochs=2"])
        .assert()
        .success();
    let run = &run_dirs(&damaged)[0];
    let mut count = 0;
    for entry in std::fs::read_dir(run.join("checkpoints")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "safetensors") {
            let mut bytes = std::fs::read(&path).unwrap();
            let n = bytes.len();
            bytes[n - 16..].fill(0xff); // a flipped tail: the checksum no longer matches
            std::fs::write(&path, bytes).unwrap();
            count += 1;
        }
    }
    assert!(count > 0);
    runner(&damaged)
        .args(["--variant", "0"])
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "all {count} checkpoint(s) of this run are damaged: starting over from epoch 0"
        )));
    assert_eq!(
        metrics_without_timing(&run_dirs(&whole)[0]),
        metrics_without_timing(run)
    );
}
