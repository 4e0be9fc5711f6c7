//! `[search]` through the binary: `--dry-run` lists the drawn values, the same file lists the
//! same trials every time, more trials keep the earlier ids, the grid runs once per trial, and
//! the report charts drawn numbers against the figure.

mod common;

use std::ffi::OsString;
use std::path::Path;

use assert_cmd::Command;

const SPACE: &str = r#"
[experiment]
seed = 4
[grid]
"model.d_width" = [32, 64]
[search]
trials = TRIALS
method = "METHOD"
"train.lr_d" = { distribution = "log_uniform", low = 1e-5, high = 1e-3 }
"train.p0" = { distribution = "uniform", low = 0.9, high = 0.999, digits = 4 }
"train.batch_size" = { distribution = "int", low = 32, high = 128, step = 32 }
"train.schedule" = { distribution = "choice", values = ["phased", "alternating"] }
"#;

/// `--dry-run`'s stdout for the space with `trials` and `method`; asserts nothing was written.
fn dry_run(dir: &Path, trials: usize, method: &str) -> String {
    let file = dir.join("space.toml");
    let text = SPACE
        .replace("TRIALS", &trials.to_string())
        .replace("METHOD", method);
    std::fs::write(&file, text).unwrap();
    let (results, data) = (dir.join("results"), dir.join("data"));
    let listing = common::dry_run(&file, common::dir_args(&results, &data));
    assert!(!results.exists(), "a dry run writes nothing");
    // Its cost line times a few steps: it keeps that pace to itself.
    assert!(!data.exists(), "a dry run writes no data cache either");
    listing
}

/// The variant lines: index, id, values.
fn variant_lines(listing: &str) -> Vec<String> {
    listing
        .lines()
        // `0  000-d2ee3868  ...`: an index, then an id (the pace lines start with a number too).
        .filter(|l| {
            let mut words = l.split_whitespace();
            words.next().is_some_and(|w| w.parse::<usize>().is_ok())
                && words.next().is_some_and(|w| {
                    w.split_once('-').is_some_and(|(i, h)| {
                        i.len() == 3 && h.len() == 8 && h.chars().all(|c| c.is_ascii_hexdigit())
                    })
                })
        })
        .map(|l| l.trim().to_string())
        .collect()
}

#[test]
fn dry_run_lists_the_drawn_values_in_grid_order() {
    let dir = tempfile::tempdir().unwrap();
    let listing = dry_run(dir.path(), 3, "halton");
    assert!(
        listing.contains(
            "6 variants, grid over model.d_width; 3 trials (halton, seed 4) of \
             train.lr_d x train.p0 x train.batch_size x train.schedule"
        ),
        "{listing}"
    );
    let lines = variant_lines(&listing);
    assert_eq!(lines.len(), 6, "{listing}");
    let drawn = |line: &str| {
        line.split_whitespace()
            .skip(3)
            .collect::<Vec<_>>()
            .join(" ")
    };
    for t in 0..3 {
        let (a, b) = (&lines[2 * t], &lines[2 * t + 1]);
        assert!(
            a.contains("model.d_width=32") && b.contains("model.d_width=64"),
            "{listing}"
        );
        assert_eq!(
            drawn(a),
            drawn(b),
            "one trial per pass of the grid: {listing}"
        );
        for key in [
            "train.lr_d=0.0",
            "train.p0=0.9",
            "train.batch_size=",
            "train.schedule=\"",
        ] {
            assert!(a.contains(key), "{key} in {a}");
        }
    }
    assert_ne!(drawn(&lines[0]), drawn(&lines[2]), "{listing}");
}

#[test]
fn the_same_file_draws_the_same_trials_and_more_trials_keep_the_ids() {
    let dir = tempfile::tempdir().unwrap();
    for method in ["halton", "random"] {
        let first = variant_lines(&dry_run(dir.path(), 4, method));
        assert_eq!(
            first,
            variant_lines(&dry_run(dir.path(), 4, method)),
            "{method}"
        );
        let more = variant_lines(&dry_run(dir.path(), 6, method));
        assert_eq!(more.len(), 12);
        assert_eq!(
            first[..],
            more[..8],
            "{method}: the first 4 trials keep their ids"
        );
    }
}

/// Every trial is a variant, but its drawn learning rates do not change what a step costs:
/// `--dry-run`'s estimate times each shape once (12 variants, 2 D widths: 2 probes), where it
/// used to time every variant again (sweep.toml's dry run took 127 s on a shared CPU).
#[test]
fn the_cost_estimate_times_each_shape_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shapes.toml");
    let text = "[experiment]\nseed = 4\n[data]\nsource = \"synthetic\"\nimage_size = 16\n\
                synthetic_count = 192\nholdout = 64\n[model]\nz_dim = 16\ng_width = 8\n\
                [train]\nbatch_size = 32\n[grid]\n\"model.d_width\" = [8, 16]\n[search]\n\
                trials = 6\n\"train.lr_d\" = { distribution = \"log_uniform\", low = 1e-5, \
                high = 1e-3 }\n";
    std::fs::write(&file, text).unwrap();
    let (results, data) = (dir.path().join("results"), dir.path().join("data"));
    let mut args = common::dir_args(&results, &data);
    args.extend(["--threads", "1"].map(OsString::from));
    let listing = common::dry_run(&file, args);
    assert_eq!(variant_lines(&listing).len(), 12, "{listing}");
    // Two shapes: a pace line each, under one heading.
    let pace = listing
        .split_once("  pace, per shape:\n")
        .map(|(_, rest)| rest.lines().take(2).collect::<Vec<_>>().join("\n"))
        .unwrap_or_else(|| panic!("no pace block: {listing}"));
    assert_eq!(pace.matches("timed just now").count(), 2, "{pace}");
    assert!(
        pace.contains("G/D widths 8/8") && pace.contains("G/D widths 8/16"),
        "{pace}"
    );
}

/// The report of a small drawn sweep: each drawn number charted against the figure (a point
/// per run), no heatmap of a pair with a drawn key (it was a diagonal of single runs in a
/// grid of empty cells), a heatmap still for the listed key and the drawn choice of words.
#[test]
fn the_report_charts_drawn_numbers_as_scatters_not_heatmaps() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("drawn.toml");
    let text = "[experiment]\nname = \"drawn\"\nseed = 4\nepochs = 1\n[data]\n\
                source = \"synthetic\"\nimage_size = 16\nsynthetic_count = 192\nholdout = 64\n\
                [model]\nz_dim = 16\ng_width = 8\nd_width = 8\n[train]\nbatch_size = 32\n\
                [grid]\n\"model.g_width\" = [8, 16]\n[search]\ntrials = 2\n\
                \"train.lr_d\" = { distribution = \"log_uniform\", low = 1e-5, high = 1e-3 }\n\
                \"train.schedule\" = { distribution = \"choice\", values = [\"phased\", \
                \"alternating\"] }\n";
    std::fs::write(&file, text).unwrap();
    let results = dir.path().join("results");
    Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg(&file)
        .args(["--threads", "1", "--results"])
        .arg(&results)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .assert()
        .success();
    let exp = results.join("drawn");
    let manifest = std::fs::read_to_string(exp.join("experiment.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(manifest["log_keys"], serde_json::json!(["train.lr_d"]));
    let mut charts: Vec<String> = std::fs::read_dir(exp.join("charts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".png") && (n.starts_with("scatter") || n.starts_with("heatmap")))
        .collect();
    charts.sort();
    assert_eq!(
        charts,
        [
            "heatmap-model.g_width--train.schedule.png",
            "scatter-train.lr_d.png"
        ]
    );
}
