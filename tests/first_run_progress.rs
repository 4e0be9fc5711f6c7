//! The first run on a fresh data folder says what its long phases are doing: decoding the
//! images and training the tag classifier each announce themselves and report when done (its
//! held-out accuracy by the groups' names), and an evaluated epoch's line shows its swd.

use assert_cmd::Command;

mod common;

#[test]
fn decoding_and_classifier_training_announce_themselves() {
    let tmp = tempfile::tempdir().unwrap();
    let faces = tmp.path().join("faces");
    std::fs::create_dir(&faces).unwrap();
    let mut labels = "vocab: [colour] red,blue\nvocab: long,short\n".to_string();
    for i in 0..24u8 {
        let colour: [u8; 3] = if i % 2 == 0 {
            [200, 40, 40]
        } else {
            [40, 40, 200]
        };
        image::RgbImage::from_fn(16, 16, |x, y| {
            image::Rgb(colour.map(|c| c.wrapping_add((x * 3 + y * 5) as u8).wrapping_add(i)))
        })
        .save(faces.join(format!("{i:02}.png")))
        .unwrap();
        let tags = if i % 2 == 0 { "red,long" } else { "blue,short" };
        labels += &format!("{i:02}.png,{tags}\n");
    }
    let tags_file = tmp.path().join("labels.csv");
    std::fs::write(&tags_file, labels).unwrap();
    let file = tmp.path().join("tiny.toml");
    std::fs::write(
        &file,
        format!(
            "[experiment]\nepochs = 1\n[data]\nsource = \"folder\"\npath = {:?}\ntags_file = {:?}\n\
             image_size = 16\nholdout = 4\n[model]\nz_dim = 8\ng_width = 4\nd_width = 4\n\
             [train]\nbatch_size = 8\nthreads = 1\n[eval]\nevery = 1\nsamples = 4\n",
            faces.to_str().unwrap(),
            tags_file.to_str().unwrap()
        ),
    )
    .unwrap();
    let out = Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg(&file)
        .arg("--results")
        .arg(tmp.path().join("results"))
        .arg("--data-dir")
        .arg(tmp.path().join("data"))
        .args(["--device", "cpu"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    for line in [
        "decoding 24 images to 16 px (once; cached afterwards) ...",
        "decoding 24 images to 16 px (once; cached afterwards): done in",
        "training the tag classifier for quality figures (6 epochs over 20 images; once per dataset, then cached) ...",
        "training the tag classifier for quality figures (6 epochs over 20 images; once per dataset, then cached): done in",
    ] {
        assert!(stderr.contains(line), "{line}\n{stderr}");
    }
    // The classifier's accuracy per group, named as the tag file names them (the second
    // group unnamed: g1), when it is trained and in the quality reference's line.
    let named = lines_with(&stderr, "held-out accuracy per group colour ", ", g1 ");
    assert_eq!(named, 2, "{stderr}");
    // The epoch's line carries the swd its evaluation measured, as metrics.csv has it.
    let run = &common::run_dirs(&tmp.path().join("results/tiny"))[0];
    let mut rows = csv::Reader::from_path(run.join("metrics.csv")).unwrap();
    let column = rows
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "swd")
        .unwrap();
    let swd: f64 = rows.records().next().unwrap().unwrap()[column]
        .parse()
        .unwrap();
    let shown = format!("img/s | swd {swd:.2}");
    assert!(stderr.contains(&shown), "{shown}\n{stderr}");
}

/// Lines of `text` holding `first` followed later by `then`.
fn lines_with(text: &str, first: &str, then: &str) -> usize {
    text.lines()
        .filter(|l| l.find(first).is_some_and(|i| l[i..].contains(then)))
        .count()
}
