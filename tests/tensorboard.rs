//! The event files of `anigan_runner::tensorboard`, read by the real readers: tensorboard's
//! EventAccumulator (what its Python loader and the tools built on it see) and, record by
//! record, its EventFileLoader (what a reader that never purges sees), through `.venv`'s
//! Python. First the writer alone (rollback, torn tail, resume, a watching reader); then runs
//! of the binary (a smoke run, SIGKILL + resume, a forced rollback, the off switch), whose files
//! must hold every metrics.csv figure of the surviving timeline once; and `tensorboard --logdir`
//! serving a four-variant sweep, looked at in headless Chromium. scripts/test installs the
//! tensorboard package and Chromium.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anigan_runner::results::{RunDir, Taken, abandoned, kept, metrics, reader};
use anigan_runner::tensorboard::{
    Domain, Experiment, HParam, HValue, Metric, Session, Status, Writer, scalar_tag,
};
use assert_cmd::Command as Cmd;
use assert_cmd::cargo::CommandCargoExt;
use common::run_dirs;
use serde_json::Value;

/// Reads one run folder and prints JSON: the EventAccumulator's scalars, images, texts and
/// hparams records, and every record of every file as loaded without purging.
const READ: &str = r#"
import glob, json, os, sys
from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.backend.event_processing import event_file_loader as efl
from tensorboard.plugins.hparams import metadata
from google.protobuf import json_format

run = sys.argv[1]
acc = ea.EventAccumulator(run, size_guidance={ea.SCALARS: 0, ea.IMAGES: 0, ea.TENSORS: 0})
acc.Reload()
tags = acc.Tags()
out = {"scalars": {}, "images": {}, "texts": {}, "hparams": {}, "raw": []}
for t in tags["scalars"]:
    out["scalars"][t] = [[e.step, e.value] for e in acc.Scalars(t)]
for t in tags["images"]:
    out["images"][t] = [[e.step, e.width, e.height, e.encoded_image_string.hex()]
                        for e in acc.Images(t)]
parse = {
    metadata.EXPERIMENT_TAG: metadata.parse_experiment_plugin_data,
    metadata.SESSION_START_INFO_TAG: metadata.parse_session_start_info_plugin_data,
    metadata.SESSION_END_INFO_TAG: metadata.parse_session_end_info_plugin_data,
}
for t in tags["tensors"]:
    plugin = acc.SummaryMetadata(t).plugin_data
    if plugin.plugin_name == "text":
        out["texts"][t] = [[e.step, e.tensor_proto.string_val[0].decode()] for e in acc.Tensors(t)]
    elif plugin.plugin_name == "hparams":
        out["hparams"][t] = json_format.MessageToDict(parse[t](plugin.content))
for path in sorted(glob.glob(os.path.join(run, "*tfevents*"))):
    for ev in efl.EventFileLoader(path).Load():
        kind = ev.WhichOneof("what")
        names = [v.tag for v in ev.summary.value] if kind == "summary" else []
        out["raw"].append([os.path.basename(path), ev.step, kind, names])
json.dump(out, sys.stdout)
"#;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn venv_bin(name: &str) -> PathBuf {
    let path = root().join(".venv/bin").join(name);
    let ok = Command::new(root().join(".venv/bin/python"))
        .args(["-c", "import tensorboard"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "the tensorboard package is not in .venv: run scripts/test, which installs it \
         (.venv/bin/python -m pip install tensorboard==2.21.0)"
    );
    path
}

fn read(run: &Path) -> Value {
    let out = Command::new(venv_bin("python"))
        .args(["-c", READ])
        .arg(run)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "reading {} failed:\n{}",
        run.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn session(lr_d: f64) -> Session {
    let number = HValue::Number;
    Session {
        experiment: Experiment {
            hparams: vec![
                HParam {
                    name: "train.lr_d".into(),
                    domain: Domain::Values(vec![number(1e-4), number(2e-4)]),
                },
                HParam {
                    name: "model.arch".into(),
                    domain: Domain::Values(vec![HValue::Text("dcgan".into())]),
                },
            ],
            metrics: vec![
                Metric {
                    tag: "quality/swd".into(),
                    display_name: "final swd".into(),
                },
                Metric {
                    tag: "best/swd".into(),
                    display_name: "best swd".into(),
                },
            ],
        },
        hparams: vec![
            ("train.lr_d".into(), number(lr_d)),
            ("model.arch".into(), HValue::Text("dcgan".into())),
        ],
    }
}

/// A one-colour PNG whose colour encodes (phase, epoch).
fn png(phase: u8, epoch: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(24, 16, image::Rgb([phase * 60, epoch as u8 * 9, 77]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// The value a phase of writing gives epoch `epoch`: which phase wrote a point shows.
fn loss(phase: u8, epoch: u32) -> f64 {
    1000.0 * phase as f64 + epoch as f64
}

/// What one writing phase does per epoch: scalars every epoch, swd and a sample grid on even
/// epochs, then a sync, as the recorder will.
fn write_epochs(w: &mut Writer, phase: u8, epochs: std::ops::RangeInclusive<u32>) {
    for epoch in epochs {
        let mut values = vec![("loss/d", loss(phase, epoch)), ("health/attempt", 0.0)];
        if epoch % 2 == 0 {
            values.push(("quality/swd", loss(phase, epoch) / 10.0));
            values.push(("best/swd", 5.0));
            w.image(epoch, "samples/grid", &png(phase, epoch)).unwrap();
        }
        w.scalars(epoch, &values).unwrap();
        w.sync().unwrap();
    }
}

/// (step, value) pairs of a scalar tag; values as the f32 the format stores (JSON's digits
/// parse back to that f32, not always to the same f64).
fn points(read: &Value, tag: &str) -> Vec<(i64, f32)> {
    read["scalars"][tag]
        .as_array()
        .unwrap_or_else(|| panic!("no scalar {tag}: {}", read["scalars"]))
        .iter()
        .map(|p| (p[0].as_i64().unwrap(), p[1].as_f64().unwrap() as f32))
        .collect()
}

#[test]
fn rollback_kill_resume_and_extension_leave_each_epoch_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("runs/000-aaaa/tensorboard");
    let s = session(2e-4);

    // Phase 0: epochs 1-6, then a rollback restores epoch 3.
    let mut w = Writer::open(&dir, 0, &s).unwrap();
    write_epochs(&mut w, 0, 1..=6);
    w.rollback(3).unwrap();
    w.text(4, "health/events", "g_failure at epoch 6: back to epoch 3")
        .unwrap();
    // Phase 1: epochs 4-9; killed after epoch 9 while writing, the last checkpoint at 8.
    write_epochs(&mut w, 1, 4..=9);
    drop(w);
    let newest = anigan_runner::tensorboard::file::list(&dir)
        .unwrap()
        .pop()
        .unwrap();
    let mut torn = Vec::new();
    anigan_runner::tensorboard::record::frame(&[7u8; 40], &mut torn);
    std::fs::OpenOptions::new()
        .append(true)
        .open(&newest)
        .unwrap()
        .write_all(&torn[..30])
        .unwrap();
    // Phase 2: resumed from epoch 8 to the planned 12; then epochs raised to 14 (phase 3).
    let mut w = Writer::open(&dir, 8, &s).unwrap();
    write_epochs(&mut w, 2, 9..=12);
    w.end(Status::Success).unwrap();
    drop(w);
    let mut w = Writer::open(&dir, 12, &s).unwrap();
    write_epochs(&mut w, 3, 13..=14);
    w.end(Status::Success).unwrap();
    drop(w);

    let phase_of = |epoch: u32| match epoch {
        1..=3 => 0,
        4..=8 => 1,
        9..=12 => 2,
        _ => 3,
    };
    let got = read(&dir);
    let want: Vec<(i64, f32)> = (1..=14)
        .map(|e| (e as i64, loss(phase_of(e), e) as f32))
        .collect();
    assert_eq!(
        points(&got, "loss/d"),
        want,
        "each epoch once, survivors only"
    );
    let want_swd: Vec<(i64, f32)> = (1..=7)
        .map(|k| 2 * k)
        .map(|e| (e as i64, (loss(phase_of(e), e) / 10.0) as f32))
        .collect();
    assert_eq!(points(&got, "quality/swd"), want_swd);

    let images = got["images"]["samples/grid"].as_array().unwrap();
    let steps: Vec<i64> = images.iter().map(|i| i[0].as_i64().unwrap()).collect();
    assert_eq!(steps, [2, 4, 6, 8, 10, 12, 14]);
    for i in images {
        let epoch = i[0].as_u64().unwrap() as u32;
        assert_eq!((i[1].as_i64(), i[2].as_i64()), (Some(24), Some(16)));
        let bytes = hex_decode(i[3].as_str().unwrap());
        assert_eq!(bytes, png(phase_of(epoch), epoch), "epoch {epoch}");
        let decoded = image::load_from_memory(&bytes).unwrap().to_rgb8();
        assert_eq!(decoded.get_pixel(3, 3).0[0], phase_of(epoch) * 60);
    }

    assert_eq!(
        got["texts"]["health/events"],
        serde_json::json!([[4, "g_failure at epoch 6: back to epoch 3"]])
    );

    let hp = &got["hparams"];
    let start = &hp["_hparams_/session_start_info"]["hparams"];
    assert_eq!(start["train.lr_d"], 2e-4);
    assert_eq!(start["model.arch"], "dcgan");
    let experiment = &hp["_hparams_/experiment"];
    let names: Vec<&str> = experiment["hparamInfos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["train.lr_d", "model.arch"]);
    assert_eq!(experiment["hparamInfos"][0]["type"], "DATA_TYPE_FLOAT64");
    assert_eq!(
        experiment["metricInfos"][1]["name"]["tag"], "best/swd",
        "{experiment}"
    );
    assert_eq!(hp["_hparams_/session_end_info"]["status"], "STATUS_SUCCESS");

    // The files themselves, read without purging: each epoch of a tag once, one start, one end.
    let raw = got["raw"].as_array().unwrap();
    let mut per_tag: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for r in raw {
        for tag in r[3].as_array().unwrap() {
            per_tag
                .entry(tag.as_str().unwrap().to_string())
                .or_default()
                .push(r[1].as_i64().unwrap());
        }
    }
    assert_eq!(per_tag["loss/d"], (1..=14).collect::<Vec<i64>>(), "{raw:?}");
    assert_eq!(per_tag["samples/grid"], [2, 4, 6, 8, 10, 12, 14]);
    assert_eq!(per_tag["_hparams_/session_start_info"].len(), 1);
    assert_eq!(per_tag["_hparams_/session_end_info"].len(), 1);
    let files: std::collections::BTreeSet<&str> =
        raw.iter().map(|r| r[0].as_str().unwrap()).collect();
    assert_eq!(files.len(), 4, "a file per open and rollback: {files:?}");
}

fn smoke() -> PathBuf {
    root().join("experiments/smoke.toml")
}

/// Generated datasets and caches shared by the runs of this file.
fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("data")
}

/// The binary on `experiment`, on the CPU with one libtorch thread (tests run side by side).
fn runner(experiment: &Path, results: &Path) -> Cmd {
    let mut cmd = Cmd::cargo_bin("anigan-runner").unwrap();
    cmd.arg(experiment)
        .arg("--results")
        .arg(results)
        .arg("--data-dir")
        .arg(data_dir())
        .args(["--device", "cpu", "--set", "train.threads=1"]);
    cmd
}

/// A smoke run with quality figures every other epoch.
const EVALUATED: [&str; 4] = ["--set", "eval.every=2", "--set", "eval.samples=64"];

/// Checks that the event files of `run` hold its surviving timeline, as read through the
/// results module: every figure of every surviving metrics.csv row as a scalar at its epoch
/// (each figure's column mapped by `scalar_tag`; values as the f32 the format stores), no
/// other epoch, every step of a tag once in the files; each sample grid byte for byte; the
/// hparams session. Returns what the reader saw.
fn assert_holds_the_surviving_run(run: &Path) -> Value {
    let dir = RunDir::at(run);
    let rows = metrics::read(&dir.metrics()).unwrap();
    let events = reader::read_events(&dir).unwrap();
    let gone = abandoned(&rows, &events);
    let mut want: BTreeMap<String, Vec<(i64, f32)>> = BTreeMap::new();
    for row in kept(&rows, &gone) {
        let Value::Object(columns) = serde_json::to_value(row).unwrap() else {
            unreachable!()
        };
        let groups = row
            .tag_acc_groups
            .iter()
            .map(|(c, v)| (c.clone(), serde_json::json!(v)));
        for (column, value) in columns.into_iter().chain(groups) {
            let x = match value {
                Value::Number(n) => n.as_f64().unwrap(),
                Value::Bool(b) => f64::from(u8::from(b)),
                _ => continue,
            };
            if let Some(tag) = scalar_tag(&column) {
                want.entry(tag)
                    .or_default()
                    .push((row.epoch as i64, x as f32));
            }
        }
    }
    assert!(want.len() > 20, "{want:?}");
    let got = read(&dir.tensorboard());
    for (tag, points_wanted) in &want {
        assert_eq!(
            &points(&got, tag),
            points_wanted,
            "{tag} of {}",
            run.display()
        );
    }
    let swd: Vec<f64> = kept(&rows, &gone).filter_map(|r| r.swd).collect();
    if !swd.is_empty() {
        let best = points(&got, "best/swd");
        let min = swd.iter().copied().fold(f64::INFINITY, f64::min);
        assert_eq!(
            best.last().unwrap().1,
            min as f32,
            "best/swd ends at the best"
        );
    }

    // The files themselves, read without purging: each step of a tag once.
    let mut per_tag: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for r in got["raw"].as_array().unwrap() {
        for tag in r[3].as_array().unwrap() {
            per_tag
                .entry(tag.as_str().unwrap().to_string())
                .or_default()
                .push(r[1].as_i64().unwrap());
        }
    }
    for (tag, steps) in &per_tag {
        let mut once = steps.clone();
        once.dedup();
        assert_eq!(&once, steps, "{tag}: a step twice in the files");
    }

    // The sample grids: every samples/epoch-NNNN.png up to the last surviving epoch.
    let last = kept(&rows, &gone).map(|r| r.epoch).max().unwrap();
    let images = got["images"]["samples/grid"].as_array().unwrap();
    let mut files = 0;
    for entry in std::fs::read_dir(dir.samples()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(epoch) = anigan_runner::results::names::sample_grid_epoch(&name) else {
            continue;
        };
        if epoch > last {
            continue;
        }
        files += 1;
        let shown = images
            .iter()
            .find(|i| i[0].as_u64() == Some(epoch as u64))
            .unwrap_or_else(|| panic!("no grid of epoch {epoch}"));
        let bytes = hex_decode(shown[3].as_str().unwrap());
        assert_eq!(
            bytes,
            std::fs::read(&path).unwrap(),
            "grid of epoch {epoch}"
        );
        let decoded = image::load_from_memory(&bytes).unwrap();
        assert_eq!(decoded.width() as i64, shown[1].as_i64().unwrap());
    }
    assert!(files > 0);
    assert_eq!(images.len(), files, "one image per grid");

    let hp = &got["hparams"];
    assert!(hp["_hparams_/experiment"]["metricInfos"].is_array(), "{hp}");
    assert!(hp["_hparams_/session_start_info"].is_object(), "{hp}");
    got
}

#[test]
fn a_smoke_run_holds_every_figure_and_the_off_switch_writes_none_until_turned_on() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    runner(&smoke(), &results)
        .args(["--variant", "0"])
        .args(EVALUATED)
        .assert()
        .success();
    let run = &run_dirs(&results.join("smoke"))[0];
    let got = assert_holds_the_surviving_run(run);
    assert_eq!(points(&got, "quality/swd").len(), 2, "epochs 2 and 4");
    assert_eq!(
        points(&got, "health/verdicts"),
        [(1, 0.0), (2, 0.0), (3, 0.0), (4, 0.0)]
    );

    let hp = &got["hparams"];
    assert_eq!(
        hp["_hparams_/session_start_info"]["hparams"]["train.lr_d"],
        2e-4
    );
    let experiment = &hp["_hparams_/experiment"];
    assert_eq!(experiment["hparamInfos"][0]["name"], "train.lr_d");
    assert_eq!(
        experiment["hparamInfos"][0]["domainDiscrete"],
        serde_json::json!([1e-4, 2e-4]),
        "the grid's values, in numeric order: {experiment}"
    );
    let metrics: Vec<&str> = experiment["metricInfos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"]["tag"].as_str().unwrap())
        .collect();
    for tag in [
        "quality/swd",
        "best/swd",
        "quality/tag_kl",
        "health/attempt",
    ] {
        assert!(metrics.contains(&tag), "{tag} not in {metrics:?}");
    }
    assert_eq!(hp["_hparams_/session_end_info"]["status"], "STATUS_SUCCESS");

    // The off switch: the other variant, same results, no event files.
    runner(&smoke(), &results)
        .args(["--variant", "1", "--set", "tensorboard.enabled=false"])
        .assert()
        .success();
    let off = &run_dirs(&results.join("smoke"))[1];
    assert!(off.join("metrics.csv").is_file());
    assert!(
        !off.join("tensorboard").exists(),
        "tensorboard.enabled = false wrote {}",
        off.join("tensorboard").display()
    );

    // Turned on when the run is extended: the files get the epochs trained without them too
    // (from metrics.csv and samples/), then the new ones.
    runner(&smoke(), &results)
        .args(["--variant", "1", "--set", "experiment.epochs=6"])
        .assert()
        .success()
        .stderr(predicates::str::contains("resuming from epoch 4"));
    let got = assert_holds_the_surviving_run(off);
    let steps: Vec<i64> = points(&got, "loss/d").iter().map(|p| p.0).collect();
    assert_eq!(steps, (1..=6).collect::<Vec<i64>>());
}

#[test]
fn sigkill_then_resume_shows_each_epoch_once() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let args = ["--variant", "0", "--set", "experiment.epochs=8"];
    let mut child = std::process::Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg(smoke())
        .arg("--results")
        .arg(&results)
        .arg("--data-dir")
        .arg(data_dir())
        .args(["--device", "cpu", "--set", "train.threads=1"])
        .args(args)
        .args(EVALUATED)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Killed once epoch 5 is logged: the newest checkpoint is epoch 4 (checkpoint.every = 2),
    // so the resume trains epoch 5 again over what the files already hold of it.
    let rows = |results: &Path| -> usize {
        let Some(run) = std::fs::read_dir(results.join("smoke/runs"))
            .ok()
            .and_then(|mut d| d.next())
        else {
            return 0;
        };
        metrics::read(&RunDir::at(run.unwrap().path()).metrics()).map_or(0, |r| r.len())
    };
    let deadline = Instant::now() + Duration::from_secs(180);
    while rows(&results) < 5 {
        assert!(Instant::now() < deadline, "epoch 5 not logged in time");
        std::thread::sleep(Duration::from_millis(5));
    }
    // The row's scalars follow it at once; epoch 6's checkpoint is a training epoch away.
    std::thread::sleep(Duration::from_millis(50));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let run = run_dirs(&results.join("smoke"))[0].clone();
    let before = read(&RunDir::at(&run).tensorboard());
    assert!(
        points(&before, "loss/d").iter().any(|p| p.0 == 5),
        "the killed run's files hold epoch 5, which the resume trains again"
    );
    let at_kill = rows(&results);
    let newest = std::fs::read_dir(RunDir::at(&run).checkpoints())
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_suffix(".json")?
                .strip_prefix("epoch-")?
                .parse::<usize>()
                .ok()
        })
        .max()
        .unwrap();
    assert!(
        at_kill > newest,
        "killed with epochs past the newest checkpoint ({at_kill} rows, checkpoint {newest})"
    );

    runner(&smoke(), &results)
        .args(args)
        .args(EVALUATED)
        .assert()
        .success()
        .stderr(predicates::str::contains("resuming from epoch"));
    let got = assert_holds_the_surviving_run(&run);
    let steps: Vec<i64> = points(&got, "loss/d").iter().map(|p| p.0).collect();
    assert_eq!(steps, (1..=8).collect::<Vec<i64>>());
    assert_eq!(
        got["hparams"]["_hparams_/session_end_info"]["status"],
        "STATUS_SUCCESS"
    );
}

#[test]
fn a_rollback_leaves_its_abandoned_epochs_out() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    // eps 0.45 calls every epoch a G failure: a rollback to epoch 0 after epoch 2, then a stop
    // after epoch 2 of the second attempt (as tests/train_runs.rs forces it).
    runner(&smoke(), &results)
        .args(["--variant", "0", "--set", "experiment.epochs=8"])
        .args(["--set", "checkpoint.every=1", "--set", "rollback.eps=0.45"])
        .args([
            "--set",
            "rollback.patience=2",
            "--set",
            "rollback.warmup_images=0",
        ])
        .args(["--set", "rollback.max_rollbacks=1"])
        .assert()
        .code(3);
    let run = &run_dirs(&results.join("smoke"))[0];
    let rows = metrics::read(&RunDir::at(run).metrics()).unwrap();
    let attempts: Vec<(u32, u32)> = rows.iter().map(|r| (r.epoch, r.attempt)).collect();
    assert_eq!(attempts, [(1, 0), (2, 0), (1, 1), (2, 1)]);
    let got = assert_holds_the_surviving_run(run);
    assert_eq!(
        points(&got, "loss/d"),
        [
            (1, rows[2].d_loss.unwrap() as f32),
            (2, rows[3].d_loss.unwrap() as f32)
        ],
        "the second attempt's epochs, not the first's"
    );
    assert_eq!(points(&got, "health/attempt"), [(1, 1.0), (2, 1.0)]);
    assert_eq!(points(&got, "health/verdicts"), [(1, 1.0), (2, 1.0)]);
    let events = reader::read_events(&RunDir::at(run)).unwrap();
    assert_eq!(events[0].action, Taken::Rollback);
    let texts = got["texts"]["health/events"].as_array().unwrap();
    let at = |step: i64| -> &str {
        texts
            .iter()
            .find(|t| t[0].as_i64() == Some(step))
            .and_then(|t| t[1].as_str())
            .unwrap_or_else(|| panic!("no health text at {step}: {texts:?}"))
    };
    assert!(
        at(1).contains("rolled back to epoch 0") && at(1).contains("`g_failure`"),
        "the rollback shows at the new attempt's first epoch: {}",
        at(1)
    );
    assert!(at(1).contains(&events[0].changes), "{}", at(1));
    assert!(at(2).contains("stopped"), "{}", at(2));
    assert_eq!(
        got["hparams"]["_hparams_/session_end_info"]["status"], "STATUS_FAILURE",
        "a collapsed run"
    );
}

/// A Python EventAccumulator kept open on one run, as a watching tensorboard keeps it: each
/// line on its stdin reloads it and prints the (step, value) points of `loss/d`.
const WATCH: &str = r#"
import json, sys
from tensorboard.backend.event_processing import event_accumulator as ea
acc = ea.EventAccumulator(sys.argv[1], size_guidance={ea.SCALARS: 0})
for _ in sys.stdin:
    acc.Reload()
    tags = acc.Tags()["scalars"]
    print(json.dumps([[e.step, e.value] for e in acc.Scalars("loss/d")] if "loss/d" in tags else []),
          flush=True)
"#;

#[test]
fn a_reader_watching_through_rollback_and_kill_drops_the_abandoned_epochs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("tensorboard");
    let s = session(1e-4);
    let mut w = Writer::open(&dir, 0, &s).unwrap();
    let mut watcher = Command::new(venv_bin("python"))
        .args(["-c", WATCH])
        .arg(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut input = watcher.stdin.take().unwrap();
    let mut output = std::io::BufReader::new(watcher.stdout.take().unwrap());
    let mut look = || -> Vec<(i64, f32)> {
        writeln!(input).unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(&mut output, &mut line).unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        points(&serde_json::json!({"scalars": {"loss/d": v}}), "loss/d")
    };
    let want = |phases: &[(u8, std::ops::RangeInclusive<u32>)]| -> Vec<(i64, f32)> {
        phases
            .iter()
            .flat_map(|(p, r)| r.clone().map(move |e| (e as i64, loss(*p, e) as f32)))
            .collect()
    };

    write_epochs(&mut w, 0, 1..=6);
    assert_eq!(look(), want(&[(0, 1..=6)]));
    w.rollback(3).unwrap();
    write_epochs(&mut w, 1, 4..=5);
    assert_eq!(
        look(),
        want(&[(0, 1..=3), (1, 4..=5)]),
        "after the rollback"
    );
    // Killed after epoch 5 with a torn record, resumed from the checkpoint of epoch 4.
    drop(w);
    let newest = anigan_runner::tensorboard::file::list(&dir)
        .unwrap()
        .pop()
        .unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&newest)
        .unwrap()
        .write_all(&[1, 0, 0, 0, 0, 0, 0, 0, 9])
        .unwrap();
    assert_eq!(
        look(),
        want(&[(0, 1..=3), (1, 4..=5)]),
        "a torn tail is not read"
    );
    let mut w = Writer::open(&dir, 4, &s).unwrap();
    write_epochs(&mut w, 2, 5..=7);
    assert_eq!(
        look(),
        want(&[(0, 1..=3), (1, 4..=4), (2, 5..=7)]),
        "after the resume"
    );
    drop(input);
    let _ = watcher.wait();
}

fn hex_decode(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// `tensorboard --logdir` on a local port, stopped on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(logdir: &Path) -> Server {
        let mut child = Command::new(venv_bin("tensorboard"))
            .arg("--logdir")
            .arg(logdir)
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--reload_interval",
                "1",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // It prints "TensorBoard 2.x at http://127.0.0.1:PORT/ (Press CTRL+C to quit)".
        let mut stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut seen = String::new();
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                seen.push_str(&String::from_utf8_lossy(&buf[..n]));
                if let Some(port) = seen
                    .split("http://127.0.0.1:")
                    .nth(1)
                    .and_then(|rest| rest.split('/').next())
                    .and_then(|p| p.parse::<u16>().ok())
                {
                    let _ = tx.send(Ok(port));
                }
            }
            let _ = tx.send(Err(seen));
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(Ok(port)) => Server { child, port },
            other => {
                let _ = child.kill();
                panic!("tensorboard did not start: {other:?}")
            }
        }
    }

    fn get(&self, path: &str) -> String {
        self.request(&format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"))
    }

    fn post(&self, path: &str, json: &str) -> String {
        self.request(&format!(
            "POST {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{json}",
            json.len()
        ))
    }

    /// The body of the response to `request`.
    fn request(&self, request: &str) -> String {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut body = String::new();
        s.read_to_string(&mut body).unwrap();
        body.split_once("\r\n\r\n")
            .map_or(body.clone(), |(_, b)| b.to_string())
    }
}

/// A four-variant sweep at 16 px, trained by the binary.
const SWEEP: &str = r#"
[experiment]
name = "sweep"
seed = 7
epochs = 3
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
[checkpoint]
every = 1
[eval]
every = 3
samples = 64
[grid]
"train.lr_d" = [1e-4, 2e-4]
"train.lr_g" = [1e-4, 2e-4]
"#;

#[test]
fn tensorboard_serves_every_run_of_a_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("sweep.toml");
    std::fs::write(&file, SWEEP).unwrap();
    let results = tmp.path().join("results");
    runner(&file, &results).assert().success();
    let exp = results.join("sweep");
    let runs = run_dirs(&exp);
    assert_eq!(runs.len(), 4);
    let ids: Vec<String> = runs
        .iter()
        .map(|r| r.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let server = Server::start(&exp);
    let want: Vec<String> = ids
        .iter()
        .map(|id| format!("runs/{id}/tensorboard"))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    let served: Vec<String> = loop {
        let runs: Vec<String> = serde_json::from_str(&server.get("/data/runs")).unwrap_or_default();
        if runs.len() >= ids.len() || Instant::now() > deadline {
            break runs;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let mut sorted = served.clone();
    sorted.sort();
    assert_eq!(sorted, want, "/data/runs");

    // The HParams dashboard (its table lives in a shadow DOM that --dump-dom leaves out) asks
    // its plugin for the session groups: one per run, with its grid values and final swd.
    let groups: Value = serde_json::from_str(&server.post(
        "/data/plugin/hparams/session_groups",
        r#"{"experimentName": "", "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS",
            "STATUS_FAILURE", "STATUS_RUNNING"], "colParams": [], "startIndex": 0,
            "sliceSize": 100}"#,
    ))
    .unwrap();
    let groups = groups["sessionGroups"].as_array().unwrap();
    assert_eq!(groups.len(), 4, "{groups:?}");
    let mut grid: Vec<(f64, f64)> = groups
        .iter()
        .map(|g| {
            let h = &g["hparams"];
            (
                h["train.lr_d"].as_f64().unwrap(),
                h["train.lr_g"].as_f64().unwrap(),
            )
        })
        .collect();
    grid.sort_by(|a, b| a.partial_cmp(b).unwrap());
    assert_eq!(
        grid,
        [(1e-4, 1e-4), (1e-4, 2e-4), (2e-4, 1e-4), (2e-4, 2e-4)]
    );
    for g in groups {
        let metrics = g["metricValues"].as_array().unwrap();
        let swd = metrics.iter().find(|m| m["name"]["tag"] == "quality/swd");
        assert!(
            swd.is_some_and(|m| m["trainingStep"] == 3),
            "final swd at epoch 3: {g}"
        );
    }

    // The page a person opens: the time series dashboard lists the four runs.
    let url = format!("http://127.0.0.1:{}/#timeseries", server.port);
    let dom = chromium(&["--dump-dom"], &url);
    for id in &ids {
        assert!(
            dom.contains(id.as_str()),
            "{id} not on the page {url}:\n{dom}"
        );
    }
    let artifacts = root().join("tests/artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    for (page, name) in [
        ("timeseries", "tensorboard-sweep.png"),
        ("hparams", "tensorboard-hparams.png"),
        ("images", "tensorboard-images.png"),
    ] {
        let shot = artifacts.join(name);
        let _ = std::fs::remove_file(&shot);
        let url = format!("http://127.0.0.1:{}/#{page}", server.port);
        chromium(
            &[
                &format!("--screenshot={}", shot.display()),
                "--window-size=1400,1000",
            ],
            &url,
        );
        assert!(shot.is_file(), "no screenshot of {url}");
    }

    // While it watches, the first run's files are cut back to epoch 1 and epochs 2-3 written
    // again (as a rollback to epoch 1 does): its loss curve shows the new 2 and 3 (the data
    // server's preemption).
    let first = metrics::read(&RunDir::at(&runs[0]).metrics()).unwrap();
    let mut w = Writer::open(&runs[0].join("tensorboard"), 1, &session(1e-4)).unwrap();
    write_epochs(&mut w, 9, 2..=3);
    let query = format!(
        "/data/plugin/scalars/scalars?run=runs%2F{}%2Ftensorboard&tag=loss%2Fd",
        ids[0]
    );
    let want: Vec<(i64, f32)> = [(1, first[0].d_loss.unwrap() as f32)]
        .into_iter()
        .chain((2..=3).map(|e| (e, loss(9, e as u32) as f32)))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    let got = loop {
        // [[wall_time, step, value], ...]
        let got: Vec<(i64, f32)> =
            serde_json::from_str::<Vec<(f64, i64, f64)>>(&server.get(&query))
                .unwrap_or_default()
                .into_iter()
                .map(|(_, step, v)| (step, v as f32))
                .collect();
        if got == want || Instant::now() > deadline {
            break got;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(got, want, "{query}");
}

/// Runs headless Chromium (a fresh profile, nothing fetched but `url`) and returns its stdout.
fn chromium(args: &[&str], url: &str) -> String {
    let binary = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|name| {
            Command::new("sh")
                .args(["-c", &format!("command -v {name}")])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .unwrap_or_else(|| {
            panic!("chromium is not installed: run scripts/test, which installs it (apt-get install chromium)")
        });
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--virtual-time-budget=20000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium failed on {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
