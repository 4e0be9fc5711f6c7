//! `report` end to end: on a hand-made partial sweep (a rollback, an interrupted run, a failed
//! run, a never-started one, swd logged) and on real smoke results with one variant run.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn runner() -> Command {
    Command::cargo_bin("anigan-runner").unwrap()
}

const HEADER: &str = "step,epoch,attempt,d_loss,g_loss,d_acc_real,d_acc_fake,g_acc,d_updates,\
    g_updates,lr_g,lr_d,seconds,images_per_sec,swd,diversity";

fn metrics(rows: &[(u64, u32, u32, f64)], swd_every: u32) -> String {
    let mut out = format!("{HEADER}\n");
    for &(step, epoch, attempt, g) in rows {
        let swd = if epoch % swd_every == 0 {
            format!("{:.3}", 1.0 / epoch as f64 + 0.1 * attempt as f64)
        } else {
            String::new()
        };
        out += &format!(
            "{step},{epoch},{attempt},0.7,1.2,0.7,0.6,{g},10,10,0.0002,0.0002,1.5,200,{swd},\n"
        );
    }
    out
}

fn png(shade: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::RgbImage::from_pixel(48, 48, image::Rgb([shade, 100, 255 - shade]))
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

fn write(path: &Path, text: impl AsRef<[u8]>) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn status(state: &str, epochs: u32, reason: Option<&str>) -> String {
    serde_json::json!({
        "state": state, "epochs_done": epochs, "epochs_planned": 20, "steps_done": epochs,
        "attempt": 0, "last_checkpoint": null, "reason": reason,
    })
    .to_string()
}

/// Four planned variants: 000 finished after a rollback, 001 interrupted (status running, no
/// lock held), 002 failed, 003 never started.
fn partial_sweep(dir: &Path) {
    let ids = [
        "000-aaaaaaaa",
        "001-bbbbbbbb",
        "002-cccccccc",
        "003-dddddddd",
    ];
    let grid = [
        ("0.0002", "0.99"),
        ("0.0002", "0.999"),
        ("0.0001", "0.99"),
        ("0.0001", "0.999"),
    ];
    let variants: Vec<_> = ids
        .iter()
        .zip(grid)
        .enumerate()
        .map(|(i, (id, (a, b)))| {
            serde_json::json!({"index": i, "id": id,
                "grid": [["train.lr_d", a], ["train.p0", b]]})
        })
        .collect();
    let manifest = serde_json::json!({
        "name": "partial", "description": "<script>alert('x')</script> & friends",
        "source": "experiments/partial.toml", "grid_keys": ["train.lr_d", "train.p0"],
        "variants": variants,
    });
    write(&dir.join("experiment.json"), manifest.to_string());
    // 000: epochs 1..=12 (steps 1..=12), g_failure from epoch 6, back to 5, then 6..=20.
    let r = dir.join("runs").join(ids[0]);
    let mut rows: Vec<(u64, u32, u32, f64)> = (1..=12)
        .map(|e| (e as u64, e, 0, if e >= 6 { 0.01 } else { 0.4 }))
        .collect();
    rows.extend((6..=20).map(|e| (e as u64 + 7, e, 1, 0.45)));
    write(&r.join("metrics.csv"), metrics(&rows, 2));
    write(
        &r.join("events.csv"),
        "step,epoch,kind,onset_epoch,action,restored_epoch,changes,evidence\n\
         12,12,g_failure,6,rollback,5,lr_d 2e-4->1.6e-4,g_acc <= 0.02 for 7 of the last 7 epochs\n",
    );
    write(&r.join("status.json"), status("finished", 20, None));
    for e in 1..=20u32 {
        write(
            &r.join(format!("samples/epoch-{e:04}.png")),
            png(e as u8 * 10),
        );
    }
    // 001: interrupted at epoch 8.
    let r = dir.join("runs").join(ids[1]);
    let rows: Vec<_> = (1..=8).map(|e| (e as u64, e, 0, 0.3)).collect();
    write(&r.join("metrics.csv"), metrics(&rows, 4));
    write(&r.join("status.json"), status("running", 8, None));
    write(&r.join(".lock"), "");
    write(&r.join("samples/epoch-0008.png"), png(80));
    // 002: failed at epoch 3, no swd column at all.
    let r = dir.join("runs").join(ids[2]);
    let rows: Vec<_> = (1..=3).map(|e| (e as u64, e, 0, 0.5)).collect();
    let text = metrics(&rows, 100)
        .replace(",swd,diversity", "")
        .replace(",,\n", "\n");
    write(&r.join("metrics.csv"), text);
    write(
        &r.join("status.json"),
        status("failed", 3, Some("CUDA <oom> & gone")),
    );
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn report_on_a_partial_sweep() {
    // Kept after the test (target/tmp) so the charts can be looked at.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-partial/partial");
    let _ = fs::remove_dir_all(&dir);
    partial_sweep(&dir);
    runner().arg("report").arg(&dir).assert().success();

    for f in [
        "summary.csv",
        "report.html",
        "report.md",
        "charts/balance-all.png",
        "charts/ranking.png",
        "charts/ranking.svg",
        "charts/timeline.png",
        "charts/timeline.svg",
        "charts/heatmap-train.lr_d--train.p0.png",
        "charts/heatmap-train.lr_d--train.p0.svg",
        "charts/balance-000-aaaaaaaa.png",
        "charts/losses-000-aaaaaaaa.png",
        "charts/balance-002-cccccccc.png",
        "charts/quality-000-aaaaaaaa.png",
        "charts/quality-001-bbbbbbbb.png",
        "charts/swd-all.png",
        "charts/swd-all.svg",
        "runs/000-aaaaaaaa/progress.gif",
        "runs/000-aaaaaaaa/samples/best.png",
        "runs/001-bbbbbbbb/progress.gif",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    assert!(
        !dir.join("charts/quality-002-cccccccc.png").exists(),
        "a run without quality figures has no quality chart"
    );
    let csv = read(&dir.join("summary.csv"));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines.len(),
        5,
        "a header and one row per planned variant:\n{csv}"
    );
    assert!(lines[0].starts_with("index,id,train.lr_d,train.p0,status,"));
    assert!(
        lines[1].starts_with("0,000-aaaaaaaa,0.0002,0.99,finished,20,20,1,"),
        "{csv}"
    );
    assert!(lines[2].contains(",interrupted,8,"), "{csv}");
    assert!(lines[3].contains(",failed,3,"), "{csv}");
    assert!(
        lines[4].starts_with("3,003-dddddddd,0.0001,0.999,not started,0,,0,"),
        "{csv}"
    );
    // Best swd on the surviving timeline: epoch 20 (1/20 + 0.1), not abandoned epoch 12.
    assert_eq!(
        fs::read(dir.join("runs/000-aaaaaaaa/samples/best.png")).unwrap(),
        png(200),
        "best.png is the grid of epoch 20"
    );

    let html = read(&dir.join("report.html"));
    assert!(
        html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"),
        "a phone shows the page at its own width"
    );
    assert!(!html.contains("<script>"), "user text must be escaped");
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; friends"));
    assert!(html.contains("CUDA &lt;oom&gt; &amp; gone"));
    assert!(html.contains("g_acc &lt;= 0.02 for 7 of the last 7 epochs"));
    assert!(html.contains("Not started yet"));
    assert!(html.contains("epoch 20, lowest swd"));
    for src in html.split("src=\"").skip(1) {
        let src = &src[..src.find('"').unwrap()];
        assert!(
            !src.starts_with('/') && !src.contains("://"),
            "{src} not relative"
        );
        assert!(dir.join(src).is_file(), "{src} referenced but missing");
    }
    let md = read(&dir.join("report.md"));
    assert!(
        md.contains("| 3 | 003-dddddddd | 0.0001 | 0.999 | not started |"),
        "{md}"
    );
}

/// Damage a crash, a kill or a partial copy leaves in one run does not stop `status` and
/// `report` for the others: a metrics.csv row cut off mid-write was never written, an empty
/// run.json is done without, and a run whose rows cannot be read is failed with the reason.
#[test]
fn one_damaged_run_leaves_status_and_report_of_the_others() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("partial");
    partial_sweep(&dir);
    let torn = dir.join("runs/001-bbbbbbbb/metrics.csv");
    let text = read(&torn);
    write(&torn, &text[..text.len() - 20]);
    write(&dir.join("runs/000-aaaaaaaa/run.json"), "");
    let damaged = dir.join("runs/002-cccccccc/metrics.csv");
    let text = read(&damaged).replacen("\n2,2,", "\nnot,a,row\n2,2,", 1);
    write(&damaged, text);

    let out = runner()
        .arg("status")
        .arg(&dir)
        .arg("--json")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let lines: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(lines[0]["state"], "finished");
    assert_eq!(lines[1]["state"], "interrupted");
    assert_eq!(
        lines[1]["final_swd"], 0.25,
        "epoch 8's torn row is left out"
    );
    assert_eq!(lines[2]["state"], "failed");
    let reason = lines[2]["reason"].as_str().unwrap();
    assert!(reason.contains("its files cannot be read"), "{reason}");
    assert!(reason.contains("metrics.csv line 3"), "{reason}");
    assert!(
        stderr.contains("run.json is not a valid run description"),
        "{stderr}"
    );
    assert_eq!(lines[3]["state"], "not started");

    let out = runner().arg("report").arg(&dir).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(read(&dir.join("report.md")).contains("its files cannot be read"));
}

#[test]
fn report_of_a_missing_directory_says_what_to_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let out = runner().arg("report").arg(tmp.path()).assert().failure();
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(err.contains("RESULTS/EXPERIMENT"), "{err}");
}

#[test]
fn smoke_with_one_variant_lists_the_other_as_not_started() {
    let smoke = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/smoke.toml");
    let data: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR")).join("data");
    let tmp = tempfile::tempdir().unwrap();
    runner()
        .arg(&smoke)
        .arg("--results")
        .arg(tmp.path())
        .arg("--data-dir")
        .arg(&data)
        .args(["--device", "cpu", "--variant", "0"])
        .assert()
        .success();
    let dir = tmp.path().join("smoke");
    assert!(dir.join("experiment.json").is_file());
    assert!(
        dir.join("report.html").is_file(),
        "run writes the report itself"
    );
    runner().arg("report").arg(&dir).assert().success();
    let csv = read(&dir.join("summary.csv"));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[1].contains(",finished,4,4,0,"), "{csv}");
    assert!(lines[2].contains(",not started,"), "{csv}");
    let id = lines[1].split(',').nth(1).unwrap();
    for f in [
        format!("runs/{id}/progress.gif"),
        format!("runs/{id}/samples/best.png"),
        format!("charts/balance-{id}.png"),
        format!("charts/losses-{id}.png"),
        "charts/timeline.png".into(),
        "charts/ranking.png".into(),
        "report.md".into(),
    ] {
        assert!(dir.join(&f).is_file(), "{f} missing");
    }
}

/// A run directory of `exp` with its metrics rows (swd every `swd_every` epochs), events.csv
/// (header and rows, or none), status and a grid for each of `grids` (each epoch its own
/// shade).
fn run_with_grids(
    exp: &Path,
    id: &str,
    rows: &[(u64, u32, u32, f64)],
    swd_every: u32,
    events: Option<&str>,
    status_json: &str,
    grids: impl IntoIterator<Item = u32>,
) -> PathBuf {
    let r = exp.join("runs").join(id);
    write(&r.join("metrics.csv"), metrics(rows, swd_every));
    if let Some(rows) = events {
        write(
            &r.join("events.csv"),
            format!("step,epoch,kind,onset_epoch,action,restored_epoch,changes,evidence\n{rows}"),
        );
    }
    write(&r.join("status.json"), status_json);
    for e in grids {
        write(&r.join(format!("samples/epoch-{e:04}.png")), png(shade(e)));
    }
    r
}

fn shade(epoch: u32) -> u8 {
    epoch as u8 * 20
}

/// Sets the modification time of `path` to now plus `secs`.
fn touch(path: &Path, secs: u64) {
    let t = std::time::SystemTime::now() + std::time::Duration::from_secs(secs);
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

/// The frames of a GIF, each as its top-left pixel.
fn gif_frames(path: &Path) -> Vec<[u8; 4]> {
    use image::AnimationDecoder;
    let file = std::io::BufReader::new(fs::File::open(path).unwrap());
    image::codecs::gif::GifDecoder::new(file)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_frames()
        .map(|f| f.unwrap().buffer().get_pixel(0, 0).0)
        .collect()
}

/// The shade `png(shade(epoch))` has in a GIF frame (its palette may move it a little).
fn is_epoch(pixel: [u8; 4], epoch: u32) -> bool {
    let want = [shade(epoch), 100, 255 - shade(epoch)];
    pixel[..3]
        .iter()
        .zip(want)
        .all(|(&a, b)| a.abs_diff(b) <= 8)
}

/// Sample grids on disk past the surviving timeline (an abandoned attempt's after a rollback,
/// an epoch whose metrics row a kill left unwritten) are shown nowhere: not as the latest
/// samples, not as best.png, not in progress.gif, also when an older progress.gif that holds
/// them is newer than every grid; a gif older than the rollback that cut its frames is
/// encoded again.
#[test]
fn report_shows_only_grids_of_the_surviving_timeline() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-stray-grids/stray");
    let _ = fs::remove_dir_all(&dir);
    // 000: epochs 1..=12, rolled back to 6 at step 12, epochs 7..=8 again, then SIGTERM.
    let mut rows: Vec<(u64, u32, u32, f64)> = (1..=12).map(|e| (e as u64, e, 0, 0.4)).collect();
    rows.extend((7..=8).map(|e| (e as u64 + 6, e, 1, 0.4)));
    let terminated = run_with_grids(
        &dir,
        "000-aaaaaaaa",
        &rows,
        100,
        Some("12,12,g_failure,9,rollback,6,,g_acc low\n"),
        &status("interrupted", 8, None),
        1..=12,
    );
    // 001: epochs 1..=10, rolled back to 5 at step 10, epochs 6..=8 again, then stopped:
    // collapsed, no rollbacks left.
    let mut rows: Vec<(u64, u32, u32, f64)> = (1..=10).map(|e| (e as u64, e, 0, 0.4)).collect();
    rows.extend((6..=8).map(|e| (e as u64 + 5, e, 1, 0.4)));
    let collapsed = run_with_grids(
        &dir,
        "001-bbbbbbbb",
        &rows,
        100,
        Some(
            "10,10,g_failure,8,rollback,5,,g_acc low\n\
             13,8,g_failure,7,stop,,,g_acc low\n",
        ),
        &status("collapsed", 8, Some("no rollbacks left")),
        1..=10,
    );
    // 002: SIGKILL in epoch 12 after its grid, before its metrics row.
    let rows: Vec<(u64, u32, u32, f64)> = (1..=11).map(|e| (e as u64, e, 0, 0.4)).collect();
    let killed = run_with_grids(
        &dir,
        "002-cccccccc",
        &rows,
        4,
        None,
        &status("running", 11, None),
        1..=12,
    );
    // An older report's progress.gif, newer than every grid, that holds the stray ones.
    for run in [&terminated, &collapsed, &killed] {
        write(&run.join("progress.gif"), b"GIF89a from an older report");
        touch(&run.join("progress.gif"), 60);
    }
    // 003: epochs 1..=12 and a report, then rolled back to 8 (its grids after 8 deleted) and
    // stopped before the next grid: the gif is newer than every grid it keeps, not than
    // events.csv.
    let rows: Vec<(u64, u32, u32, f64)> = (1..=12).map(|e| (e as u64, e, 0, 0.4)).collect();
    let rolled_back = run_with_grids(
        &dir,
        "003-dddddddd",
        &rows,
        100,
        Some("12,12,g_failure,9,rollback,8,,g_acc low\n"),
        &status("interrupted", 8, None),
        1..=8,
    );
    write(
        &rolled_back.join("progress.gif"),
        b"GIF89a of epochs 1 to 12",
    );
    touch(&rolled_back.join("progress.gif"), 60);
    touch(&rolled_back.join("events.csv"), 120);

    runner().arg("report").arg(&dir).assert().success();

    let html = read(&dir.join("report.html"));
    let all = [
        (&terminated, 8),
        (&collapsed, 8),
        (&killed, 11),
        (&rolled_back, 8),
    ];
    for (run, last) in all {
        let id = run.file_name().unwrap().to_string_lossy();
        assert!(
            html.contains(&format!(
                "src=\"runs/{id}/samples/epoch-{last:04}.png\" alt=\"latest samples (epoch {last})\""
            )),
            "{id}: the latest samples are epoch {last}'s:\n{html}"
        );
        let frames = gif_frames(&run.join("progress.gif"));
        assert_eq!(
            frames.len(),
            last as usize,
            "{id}: one frame per epoch kept"
        );
        assert!(
            frames.iter().zip(1..).all(|(&f, e)| is_epoch(f, e)),
            "{id}: the frames are epochs 1..={last} in order: {frames:?}"
        );
    }
    // No swd logged: best.png is the last grid of the surviving timeline.
    for (run, last) in [(&terminated, 8), (&collapsed, 8)] {
        assert_eq!(
            fs::read(run.join("samples/best.png")).unwrap(),
            png(shade(last)),
            "{}",
            run.display()
        );
    }
    assert!(html.contains("best.png: epoch 8, the last grid"), "{html}");
    // 002 logged swd every 4 epochs (lower later): epoch 8, as epoch 12 has no row.
    assert_eq!(
        fs::read(killed.join("samples/best.png")).unwrap(),
        png(shade(8))
    );
    for (run, last) in all {
        let id = run.file_name().unwrap().to_string_lossy();
        for n in last + 1..=12 {
            let grid = format!("runs/{id}/samples/epoch-{n:04}.png");
            assert!(!html.contains(&grid), "{grid} is shown:\n{html}");
        }
    }
}

/// metrics.csv with the settings each epoch trained with, as the runner writes them: rows of
/// (step, epoch, attempt, lr_g, swd).
fn trained(rows: &[(u64, u32, u32, f64, Option<f64>)]) -> String {
    let mut out = String::from(
        "step,epoch,attempt,d_acc_real,d_acc_fake,g_acc,d_updates,g_updates,lr_g,lr_d,\
         label_noise,batch_size,seconds,images_per_sec,swd\n",
    );
    for &(step, epoch, attempt, lr_g, swd) in rows {
        let swd = swd.map_or(String::new(), |s| s.to_string());
        out += &format!(
            "{step},{epoch},{attempt},0.8,0.8,0.2,10,10,{lr_g},0.0002,0.1,32,1.5,200,{swd}\n"
        );
    }
    out
}

fn status_of(state: &str, epochs: u32, steps: u64, attempt: u32) -> String {
    serde_json::json!({
        "state": state, "epochs_done": epochs, "epochs_planned": 8, "steps_done": steps,
        "attempt": attempt, "last_checkpoint": epochs, "reason": null,
    })
    .to_string()
}

/// A grid of `train.lr_g` x `model.d_width`, 8 epochs: 000 (2e-4, 8) trained well; 001 (5.0, 8)
/// collapsed at epoch 4, was rolled back to epoch 0 with lr_g 2e-4 and then trained best of all;
/// 002 (2e-4, 16) was stopped at its rung at epoch 4; 003 (5.0, 16) has not started.
fn rescued_sweep(dir: &Path) {
    let ids = [
        "000-aaaaaaaa",
        "001-bbbbbbbb",
        "002-cccccccc",
        "003-dddddddd",
    ];
    let grid = [
        ("0.0002", "8"),
        ("5.0", "8"),
        ("0.0002", "16"),
        ("5.0", "16"),
    ];
    let variants: Vec<_> = ids
        .iter()
        .zip(grid)
        .enumerate()
        .map(|(i, (id, (lr, width)))| {
            serde_json::json!({"index": i, "id": id, "epochs": 8,
                "grid": [["train.lr_g", lr], ["model.d_width", width]]})
        })
        .collect();
    let manifest = serde_json::json!({
        "name": "rescued", "description": "", "source": "experiments/rescued.toml",
        "grid_keys": ["train.lr_g", "model.d_width"], "variants": variants,
    });
    write(&dir.join("experiment.json"), manifest.to_string());
    let swd = |epoch: u32, scale: f64| epoch.is_multiple_of(2).then(|| scale / epoch as f64);
    let run = dir.join("runs").join(ids[0]);
    let rows: Vec<_> = (1..=8)
        .map(|e| (e as u64, e, 0, 0.0002, swd(e, 200.0)))
        .collect();
    write(&run.join("metrics.csv"), trained(&rows));
    write(&run.join("status.json"), status_of("finished", 8, 8, 0));
    let run = dir.join("runs").join(ids[1]);
    let mut rows: Vec<_> = (1..=4)
        .map(|e| (e as u64, e, 0, 5.0, swd(e, 4000.0)))
        .collect();
    rows.extend((1..=8).map(|e| (e as u64 + 4, e, 1, 0.0002, swd(e, 100.0))));
    write(&run.join("metrics.csv"), trained(&rows));
    write(
        &run.join("events.csv"),
        "step,epoch,kind,onset_epoch,action,restored_epoch,changes,evidence,escalation\n\
         4,4,degenerate_output,2,rollback,0,lr_g 5e0->2e-4 (G's learning rate was 2500x the cap),\
         samples alike,0\n",
    );
    write(&run.join("status.json"), status_of("finished", 8, 12, 1));
    let run = dir.join("runs").join(ids[2]);
    let rows: Vec<_> = (1..=4)
        .map(|e| (e as u64, e, 0, 0.0002, swd(e, 1200.0)))
        .collect();
    write(&run.join("metrics.csv"), trained(&rows));
    write(&run.join("status.json"), status_of("pruned", 4, 4, 0));
}

/// A variant that trained well only after a rollback changed one of its grid values is told
/// from one that trained well at its grid value wherever its grid values show: the tables,
/// each run's section, summary.csv, the ranking and the heatmap.
#[test]
fn a_rescued_variant_says_what_it_trained_with_at_the_end() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-rescued/rescued");
    let _ = fs::remove_dir_all(&dir);
    rescued_sweep(&dir);
    runner().arg("report").arg(&dir).assert().success();

    let md = read(&dir.join("report.md"));
    assert!(
        md.contains("| 1 | 001-bbbbbbbb | 5.0 → 0.0002 (rollback) | 8 | finished | 1 |"),
        "{md}"
    );
    assert!(
        md.contains("| 0 | 000-aaaaaaaa | 0.0002 | 8 | finished |"),
        "{md}"
    );
    let html = read(&dir.join("report.html"));
    assert!(
        html.contains("<td class=\"rescued\">5.0 → 0.0002 (rollback)</td>"),
        "{html}"
    );
    assert!(
        html.contains("train.lr_g = 5.0 → 0.0002 (rollback), model.d_width = 8"),
        "{html}"
    );
    let mut csv = csv::Reader::from_path(dir.join("summary.csv")).unwrap();
    let headers = csv.headers().unwrap().clone();
    let column = headers
        .iter()
        .position(|h| h == "rollback_changes")
        .unwrap_or_else(|| panic!("no rollback_changes column: {headers:?}"));
    let cells: Vec<String> = csv
        .records()
        .map(|r| r.unwrap()[column].to_string())
        .collect();
    assert_eq!(cells, ["", "train.lr_g=0.0002", "", ""]);
    let ranking = read(&dir.join("charts/ranking.svg"));
    assert!(
        ranking.contains("rolled back: lr_g 5 → 0.0002"),
        "{ranking}"
    );
    let heatmap = read(&dir.join("charts/heatmap-train.lr_g--model.d_width.svg"));
    assert!(
        heatmap.contains("rolled back:") && heatmap.contains("lr_g → 0.0002"),
        "{heatmap}"
    );
}

/// A variant not started shows its epochs as the others do: none of those planned.
#[test]
fn a_variant_not_started_shows_its_planned_epochs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("rescued");
    rescued_sweep(&dir);
    runner().arg("report").arg(&dir).assert().success();
    let md = read(&dir.join("report.md"));
    assert!(
        md.contains("| 3 | 003-dddddddd | 5.0 | 16 | not started |  | 0 / 8 |"),
        "{md}"
    );
    let html = read(&dir.join("report.html"));
    assert!(
        html.contains("not started</td><td class=\"n\"></td><td class=\"n\">0 / 8</td>"),
        "{html}"
    );
}

/// A variant `[prune]` stopped early has an earlier epoch's figure than the others: its
/// heatmap cell says so, as its ranking bar does.
#[test]
fn a_pruned_variant_is_marked_in_the_heatmap() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("rescued");
    rescued_sweep(&dir);
    runner().arg("report").arg(&dir).assert().success();
    let heatmap = read(&dir.join("charts/heatmap-train.lr_g--model.d_width.svg"));
    assert!(heatmap.contains("pruned @4"), "{heatmap}");
    let ranking = read(&dir.join("charts/ranking.svg"));
    assert!(ranking.contains("pruned at epoch 4"), "{ranking}");
}

/// A report read later may be stale: report.md and report.html say when they were written,
/// what was still going on then, and the command that writes them again.
#[test]
fn the_report_says_when_it_was_written_and_what_was_unfinished() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("partial");
    partial_sweep(&dir);
    // 001 trains now: its lock is held (by this test).
    let lock = fs::File::open(dir.join("runs/001-bbbbbbbb/.lock")).unwrap();
    lock.try_lock().unwrap();
    runner().arg("report").arg(&dir).assert().success();
    let command = format!("`anigan-runner report {}`", dir.display());
    for file in ["report.md", "report.html"] {
        let text = read(&dir.join(file));
        let line = text
            .lines()
            .find(|l| l.contains("Written "))
            .unwrap_or_else(|| panic!("{file} does not say when it was written:\n{text}"));
        let at = &line[line.find("Written ").unwrap() + 8..];
        let stamp: Vec<char> = at.chars().take(20).collect();
        let shape: String = stamp
            .iter()
            .map(|c| if c.is_ascii_digit() { '9' } else { *c })
            .collect();
        assert_eq!(shape, "9999-99-99 99:99 UTC", "{file}: {line}");
        assert!(
            line.contains("1 running, 1 not started at that time"),
            "{file}: {line}"
        );
        let shown = if file == "report.md" {
            command.clone()
        } else {
            format!("<code>{}</code>", &command[1..command.len() - 1])
        };
        assert!(line.contains(&shown), "{file}: {line}");
    }
}
