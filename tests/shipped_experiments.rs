//! Every experiment under experiments/ parses, validates and expands its grid.

use std::path::Path;

use anigan_runner::config::{Experiment, Overrides, resolve};

/// `experiments/<name>.toml` as the runner reads it.
fn shipped(name: &str) -> Experiment {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("experiments/{name}.toml"));
    resolve(&file, &Overrides::default()).unwrap()
}

#[test]
fn every_shipped_experiment_resolves() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
    let mut counts = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let experiment = resolve(&path, &Overrides::default())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            counts.push((
                path.file_stem().unwrap().to_string_lossy().into_owned(),
                experiment.variants.len(),
            ));
        }
    }
    counts.sort();
    let count = |name: &str| counts.iter().find(|(n, _)| n == name).map(|(_, c)| *c);
    assert_eq!(count("smoke"), Some(2), "{counts:?}");
    assert_eq!(count("quickstart"), Some(1), "{counts:?}");
    assert_eq!(count("sweep"), Some(32), "{counts:?}");
    assert_eq!(count("collapse-demo"), Some(1), "{counts:?}");
    assert_eq!(count("cgan"), Some(1), "{counts:?}");
    assert_eq!(count("emoji"), Some(1), "{counts:?}");
}

#[test]
fn sweep_ids_are_unique_and_stable_in_form() {
    let e = shipped("sweep");
    let mut ids: Vec<&str> = e.variants.iter().map(|v| v.id.as_str()).collect();
    assert!(
        ids.iter()
            .enumerate()
            .all(|(i, id)| id.starts_with(&format!("{i:03}-")))
    );
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 32);
    assert_eq!(e.variants[0].config.data.image_size, 64);
}

#[test]
fn cgan_experiment_is_conditional_and_evaluated() {
    let e = shipped("cgan");
    let c = &e.variants[0].config;
    assert_eq!(c.model.arch, anigan_runner::config::Arch::Cgan);
    assert_eq!((c.eval.every, c.eval.samples), (10, 500));
    assert_eq!(c.data.image_size, 32);
    assert!(
        c.train.aux_tag_weight > 0.0,
        "the AC-GAN head is on: it measured eye colour 0.90 against 0.44 without"
    );
}

#[test]
fn quickstart_trains_the_dcgan_with_the_tag_head() {
    let e = shipped("quickstart");
    let c = &e.variants[0].config;
    assert_eq!(c.model.arch, anigan_runner::config::Arch::Dcgan);
    assert!(
        c.train.aux_tag_weight > 0.0,
        "D's tag head is on: it measured tag_kl 0.07 against 0.43 without at the last evaluation"
    );
    assert_eq!(
        (c.train.lr_g, c.train.lr_d),
        (6e-4, 6e-4),
        "measured swd 25.5 at epoch 10 and 0.87x the floor at 75, against 53.0 and 1.03x at 2e-4"
    );
    assert!(
        c.train.ema_images > 0,
        "the rate was measured with the weight average drawing the samples"
    );
}
