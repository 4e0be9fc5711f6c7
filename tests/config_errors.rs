//! Bad experiment files: exit code 2, a message that names the problem, and nothing written.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/invalid")
        .join(name)
}

/// Runs the binary on `file` with a fresh results dir; asserts exit 2 and that nothing was written.
fn fails_with(file: &Path, extra: &[&str], expected: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let mut cmd = Command::cargo_bin("anigan-runner").unwrap();
    cmd.arg(file).arg("--results").arg(&results).args(extra);
    let mut assert = cmd.assert().code(2);
    for text in expected {
        assert = assert.stderr(predicate::str::contains(*text));
    }
    assert!(!results.exists(), "a config error must create nothing");
}

#[test]
fn unknown_key_names_file_key_and_suggestion() {
    let file = fixture("unknown-key.toml");
    fails_with(
        &file,
        &[],
        &[&format!(
            "unknown key `train.learning_rate` in {}; did you mean `train.lr_d`?",
            file.display()
        )],
    );
}

#[test]
fn every_out_of_range_value_is_reported_at_once() {
    fails_with(
        &fixture("out-of-range.toml"),
        &[],
        &[
            "7 problems",
            "experiment.epochs must be >= 1 (got 0)",
            "data.image_size must be a power of two in 16..=256",
            "model.d_width must be >= 4 (got 2)",
            "train.p0 must be in (0, 1] (got 1.5)",
            "train.lr_d must be > 0 (got 0)",
            "train.batch_size must be >= 1 (got 0)",
            "train.label_noise must be in [0, 0.5) (got 0.5)",
        ],
    );
}

#[test]
fn negative_count_shows_the_range() {
    fails_with(
        &fixture("negative-batch.toml"),
        &[],
        &["train.batch_size must be >= 1 (got -8)"],
    );
}

#[test]
fn unsafe_experiment_name() {
    fails_with(
        &fixture("unsafe-name.toml"),
        &[],
        &["experiment.name must be a safe directory name"],
    );
}

/// "letters" would let a reader think `é` is one: the rule says ASCII letters.
#[test]
fn an_accented_experiment_name_is_told_ascii_letters() {
    fails_with(
        &fixture("accented-name.toml"),
        &[],
        &["experiment.name must be a safe directory name: ASCII letters (a-z, A-Z)"],
    );
}

#[test]
fn syntax_error_has_line_and_column() {
    let file = fixture("syntax.toml");
    fails_with(
        &file,
        &[],
        &[&format!("{}:3:6: TOML syntax error", file.display())],
    );
}

#[test]
fn wrong_types_are_all_reported() {
    fails_with(
        &fixture("wrong-type.toml"),
        &[],
        &[
            "2 problems",
            "train.lr_d: invalid type",
            "train.schedule: unknown value \"sometimes\"; expected one of \"phased\", \"alternating\"",
        ],
    );
}

#[test]
fn grid_key_that_names_no_setting() {
    fails_with(
        &fixture("grid-unknown-key.toml"),
        &[],
        &[
            "1 problem",
            "unknown key `train.lr_dd`",
            "[grid] train.lr_dd; did",
            "did you mean `train.lr_d`?",
        ],
    );
}

#[test]
fn grid_empty_list() {
    fails_with(
        &fixture("grid-empty.toml"),
        &[],
        &["[grid] train.lr_d is an empty list"],
    );
}

#[test]
fn grid_duplicate_variant() {
    fails_with(
        &fixture("grid-duplicate.toml"),
        &[],
        &["variants 0 and 2", "resolve to the same settings"],
    );
}

#[test]
fn grid_values_are_range_checked() {
    fails_with(
        &fixture("grid-out-of-range.toml"),
        &[],
        &[
            "train.p0 must be in (0, 1] (got 2.0)",
            "[grid] train.p0[1]",
            "train.label_noise must be in [0, 0.5) (got 0.7)",
        ],
    );
}

#[test]
fn grid_cannot_vary_epochs() {
    fails_with(
        &fixture("grid-fixed-key.toml"),
        &[],
        &["[grid] cannot vary `experiment.epochs`"],
    );
}

#[test]
fn bad_set_and_env_are_attributed() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/smoke.toml");
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg(&file)
        .args(["--results", results.to_str().unwrap()])
        .args(["--set", "train.p00=0.9", "--set", "nonsense"])
        .env("ANIGAN_TRAIN__LR_G", "-1")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "unknown key `train.p00` in --set train.p00=0.9; did you mean `train.p0`?",
        ))
        .stderr(predicate::str::contains(
            "--set \"nonsense\" is not KEY=VALUE",
        ))
        .stderr(predicate::str::contains(
            "train.lr_g must be > 0 (got -1) in environment variable ANIGAN_TRAIN__LR_G",
        ));
    assert!(!results.exists());
    // A rule of keys together names where each key that was not the file's came from.
    Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg(&file)
        .args(["--results", results.to_str().unwrap()])
        .args(["--set", "data.synthetic_count=1", "--dry-run"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("to leave images to train on in"))
        .stderr(predicate::str::contains(
            "; data.synthetic_count in --set data.synthetic_count=1",
        ));
}

#[test]
fn missing_file() {
    fails_with(
        &fixture("does-not-exist.toml"),
        &[],
        &["cannot read experiment file"],
    );
}

#[test]
fn unknown_variant_selector() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/smoke.toml");
    fails_with(
        &file,
        &["--variant", "99"],
        &["--variant 99 matches no variant"],
    );
}

#[test]
fn keys_that_depend_on_each_other() {
    fails_with(
        &fixture("seed-without-path.toml"),
        &["--set", "data.tags_file=tags.csv"],
        &[
            "data.path must name the dataset folder when data.source is \"seed\"",
            "data.tags_file applies only when data.source is \"folder\"",
        ],
    );
}

/// Settings that learn from tags, on a folder without a tag file.
#[test]
fn tags_asked_of_a_folder_without_tags() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inputs");
    let rows = [
        (
            "model.arch=cgan",
            "model.arch = \"cgan\" conditions on tags, but this folder has none: set data.tags_file",
        ),
        (
            "train.aux_tag_weight=1",
            "train.aux_tag_weight trains a tag head on D, but this folder has no tags",
        ),
    ];
    for (set, expected) in rows {
        fails_with(
            &fixture("seed-without-path.toml"),
            &[
                "--set",
                "data.source=folder",
                "--set",
                &format!("data.path={}", folder.display()),
                "--set",
                set,
                "--dry-run",
            ],
            &[expected],
        );
    }
}

/// A folder of six real PNGs (`a.png` to `f.png`) and the tag file `text` beside them, with
/// `c.png` to `f.png` listed untagged after its lines (enough to train on after a holdout of 2).
fn labelled_folder(dir: &Path, text: &str) -> (String, String) {
    let images = dir.join("faces");
    std::fs::create_dir_all(&images).unwrap();
    let text = format!("{text}c.png\nd.png\ne.png\nf.png\n");
    for name in ["a.png", "b.png", "c.png", "d.png", "e.png", "f.png"] {
        image::RgbImage::new(16, 16)
            .save(images.join(name))
            .unwrap();
    }
    let tags = dir.join("tags.txt");
    std::fs::write(&tags, &text).unwrap();
    (images.display().to_string(), tags.display().to_string())
}

#[test]
fn data_problems_a_listing_shows_are_settings_errors_also_for_a_dry_run() {
    let vocab = "vocab: [hair] red hair,blue hair\n";
    let rows = [
        (
            format!("{vocab}a.png,red hair\nb.png,unicorn hair\n"),
            "dcgan",
            "2",
            "tags.txt:3: unknown tag \"unicorn hair\"",
            "a tag outside the vocabulary",
        ),
        (
            "vocab:\na.png,red hair\nb.png,blue hair\n".to_string(),
            "dcgan",
            "2",
            "1 problem in",
            "an empty vocabulary line is one problem, not one per image line after it",
        ),
        (
            format!("{vocab}a.png,red hair\nb.png\n"),
            "dcgan",
            "6",
            "data.holdout (6) must be below the 6 image(s)",
            "a holdout that leaves nothing to train on",
        ),
        (
            format!("{vocab}a.png\nb.png\n"),
            "cgan",
            "2",
            "no image of data.tags_file",
            "a CGAN whose tag file tags no image",
        ),
        (
            format!("{vocab}z.png,red hair\n"),
            "dcgan",
            "2",
            "tags.txt:2: image",
            "a listed image that is not there",
        ),
        (
            format!("{vocab}a.png,red hair\n/nowhere/b.png,blue hair\n"),
            "dcgan",
            "2",
            "tags.txt:3: image path /nowhere/b.png is outside data.path",
            "an absolute image path outside data.path",
        ),
    ];
    for (text, arch, holdout, expected, why) in rows {
        let tmp = tempfile::tempdir().unwrap();
        let (images, tags) = labelled_folder(tmp.path(), &text);
        let sets = [
            format!("data.path={images}"),
            format!("data.tags_file={tags}"),
            format!("model.arch={arch}"),
            format!("data.holdout={holdout}"),
        ];
        for dry_run in [true, false] {
            let mut extra = vec!["--set", "data.source=folder", "--data-dir"];
            let data = tmp.path().join("data").display().to_string();
            extra.push(&data);
            for set in &sets {
                extra.extend(["--set", set]);
            }
            if dry_run {
                extra.push("--dry-run");
            }
            eprintln!("{why} (dry run: {dry_run})");
            fails_with(&fixture("seed-without-path.toml"), &extra, &[expected]);
        }
    }
}

#[test]
fn a_dry_run_shows_the_warnings_a_run_gives_when_it_lists_the_data() {
    // The run says these when it loads the data; a dry run loads none, so it says them itself.
    let tmp = tempfile::tempdir().unwrap();
    // b.png is not listed; "blue hair" is on no image.
    let (images, tags) = labelled_folder(
        tmp.path(),
        "vocab: [hair] red hair,blue hair\na.png,red hair\n",
    );
    let data = tmp.path().join("data").display().to_string();
    let out = Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg(fixture("seed-without-path.toml"))
        .args([
            "--dry-run",
            "--data-dir",
            &data,
            "--set",
            "data.source=folder",
        ])
        .args(["--set", &format!("data.path={images}")])
        .args(["--set", &format!("data.tags_file={tags}")])
        .args(["--set", "data.holdout=1", "--set", "eval.every=0"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    for want in [
        "warning: 1 images under",
        "are left out (first: b.png)",
        "warning: 1 tag of the vocabulary",
        "(\"blue hair\")",
    ] {
        assert!(stderr.contains(want), "{want}: {stderr}");
    }
}

/// Datasets too small to run are settings errors, not a panic or a failed variant: fewer
/// training images than the per-epoch sample check needs, and a holdout too small for quality
/// figures.
#[test]
fn datasets_too_small_to_run() {
    let smoke = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/smoke.toml");
    let rows: [(&[&str], &str); 3] = [
        (
            &[
                "--set",
                "data.synthetic_count=10",
                "--set",
                "data.holdout=7",
            ],
            "3 training image(s) (10 in the dataset, data.holdout = 7) are too few: a run needs \
             at least 4",
        ),
        (
            &[
                "--set",
                "data.synthetic_count=10",
                "--set",
                "data.holdout=2",
                "--set",
                "data.limit=2",
            ],
            "2 training image(s) (10 in the dataset, data.holdout = 2, data.limit = 2)",
        ),
        (
            &["--set", "data.holdout=1", "--set", "eval.every=1"],
            "data.holdout (1) must be >= 2 for quality figures (eval.every = 1)",
        ),
    ];
    for (sets, expected) in rows {
        for dry_run in [true, false] {
            let mut extra = sets.to_vec();
            if dry_run {
                extra.push("--dry-run");
            }
            fails_with(&smoke, &extra, &[expected]);
        }
    }
}

#[test]
fn search_ranges_are_checked_all_at_once() {
    let file = fixture("search-bad-ranges.toml");
    fails_with(
        &file,
        &[],
        &[
            "7 problems",
            "[search] method \"sobol\" is unknown",
            "[search] train.lr_g: log_uniform needs low > 0 (got 0)",
            "[search] train.p0: low (0.99) must be below high (0.9)",
            "[search] train.d_steps: step must be >= 1 (got 0)",
            "[search] train.schedule: unknown distribution \"normal\"",
            "`train.lr_d` is both in [grid] and in [search]",
            &format!(
                "train.label_noise must be in [0, 0.5) (got 0.6) in {} [search] train.label_noise high",
                file.display()
            ),
        ],
    );
}

/// Relative `[data]` paths are read from the current directory, not from the experiment file's
/// folder: a path that is only there relative to the experiment file says so, shows the current
/// directory and the path to write; a tag file that names a folder says it is a folder.
#[test]
fn relative_data_paths_say_where_they_were_looked_for() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path().canonicalize().unwrap();
    let exp = cwd.join("exp");
    std::fs::create_dir_all(exp.join("imgs")).unwrap();
    image::RgbImage::new(16, 16)
        .save(exp.join("imgs/a.png"))
        .unwrap();
    let file = exp.join("x.toml");
    std::fs::write(
        &file,
        "[data]\nsource = \"folder\"\npath = \"imgs\"\ntags_file = \"exp\"\nimage_size = 16\n",
    )
    .unwrap();
    let results = cwd.join("results");
    Command::cargo_bin("anigan-runner")
        .unwrap()
        .current_dir(&cwd)
        .arg(&file)
        .arg("--results")
        .arg(&results)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "data.path = \"imgs\": no such folder (a relative path is read from the current \
             directory, {}, not from the experiment file's folder: looked for {}); it is there \
             relative to the experiment file's folder: write data.path = \"exp/imgs\"",
            cwd.display(),
            cwd.join("imgs").display()
        )))
        .stderr(predicate::str::contains(
            "data.tags_file = \"exp\" is a folder, not a file",
        ));
    assert!(!results.exists());
}
