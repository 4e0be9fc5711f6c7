//! scripts/emoji-tags (the tag derivation behind scripts/fetch-emoji) on a small fake
//! emoji-datasource-google package: its folder loads through the runner's folder loader with
//! the groups `category` and `skin_tone`. The download itself needs the network and is not
//! tested here.

use std::path::Path;
use std::process::Command;

use anigan_runner::config::{DataSection, DataSource};
use anigan_runner::data::{DataRoot, load_dataset};

const EMOJI_JSON: &str = r#"[
  {"image": "1f385.png", "category": "People & Body", "sort_order": 2, "has_img_google": true,
   "skin_variations": {
     "1F3FF": {"image": "1f385-1f3ff.png", "has_img_google": true},
     "1F3FC": {"image": "1f385-1f3fc.png", "has_img_google": false}}},
  {"image": "1f600.png", "category": "Smileys & Emotion", "sort_order": 1, "has_img_google": true},
  {"image": "1f9d1-1f91d-1f9d1.png", "category": "People & Body", "sort_order": 3,
   "has_img_google": true,
   "skin_variations": {
     "1F3FB-1F3FF": {"image": "1f9d1-1f3fb-200d-1f91d-200d-1f9d1-1f3ff.png",
                     "has_img_google": true}}},
  {"image": "1fae8.png", "category": "Smileys & Emotion", "sort_order": 4,
   "has_img_google": false}
]"#;

fn fake_package(dir: &Path) {
    let images = dir.join("img/google/64");
    std::fs::create_dir_all(&images).unwrap();
    std::fs::write(dir.join("emoji.json"), EMOJI_JSON).unwrap();
    for name in [
        "1f385.png",
        "1f385-1f3ff.png",
        "1f600.png",
        "1f9d1-1f91d-1f9d1.png",
        "1f9d1-1f3fb-200d-1f91d-200d-1f9d1-1f3ff.png",
    ] {
        image::RgbaImage::from_pixel(8, 8, image::Rgba([200, 100, 0, 128]))
            .save(images.join(name))
            .unwrap();
    }
}

fn emoji_tags(package: &Path, out: &Path) -> std::process::Output {
    Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/emoji-tags"))
        .args([package, out])
        .output()
        .expect("python3 runs (scripts/bootstrap needs it too)")
}

#[test]
fn derived_tag_file_loads_with_named_groups() {
    let tmp = tempfile::tempdir().unwrap();
    let (package, out) = (tmp.path().join("package"), tmp.path().join("emoji"));
    fake_package(&package);
    let done = emoji_tags(&package, &out);
    assert!(done.status.success(), "{done:?}");
    let text = std::fs::read_to_string(out.join("tags.txt")).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        lines,
        [
            "vocab: [category] Smileys & Emotion,People & Body",
            "vocab: [skin_tone] light skin tone,medium-light skin tone,medium skin tone,\
             medium-dark skin tone,dark skin tone",
            "images/1f600.png,Smileys & Emotion",
            "images/1f385.png,People & Body",
            "images/1f385-1f3ff.png,People & Body,dark skin tone",
            "images/1f9d1-1f91d-1f9d1.png,People & Body",
            "images/1f9d1-1f3fb-200d-1f91d-200d-1f9d1-1f3ff.png,People & Body,light skin tone,\
             dark skin tone",
        ],
        "sort order, variations after their emoji, none without a Google image"
    );

    let data = DataSection {
        source: DataSource::Folder,
        path: out.to_string_lossy().into_owned(),
        tags_file: out.join("tags.txt").to_string_lossy().into_owned(),
        image_size: 16,
        holdout: 0,
        ..DataSection::default()
    };
    let root = DataRoot(tmp.path().join("data"));
    // The script's vocabulary holds every skin tone; this tiny package uses two of them.
    let mut warnings = Vec::new();
    let loaded = load_dataset(&data, &root, &mut |w| warnings.push(w)).unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains(
            "(\"medium-light skin tone\", \"medium skin tone\", \"medium-dark skin tone\")"
        ),
        "{warnings:?}"
    );
    let train = &loaded.train;
    assert_eq!(train.len, 5);
    let vocab = train.vocab.as_ref().unwrap();
    assert_eq!(vocab.group_names(), ["category", "skin_tone"]);
    // Image 4 (the couple): People & Body, light and dark skin tone.
    assert_eq!(train.tags_of(4), [0, 1, 1, 0, 0, 0, 1]);
    // Half-transparent orange composited on white: lighter than the colour itself.
    assert!(train.image(0)[0] > 200 && train.image(0)[2] > 100);

    let again = emoji_tags(&package, &out);
    assert!(
        !again.status.success(),
        "an existing folder is never overwritten"
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));
}

#[test]
fn a_folder_that_is_no_package_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let done = emoji_tags(tmp.path(), &tmp.path().join("out"));
    assert!(!done.status.success());
    let message = String::from_utf8_lossy(&done.stderr);
    assert!(message.contains("img/google/64 not found"), "{message}");
}
