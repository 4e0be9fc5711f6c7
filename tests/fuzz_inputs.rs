//! Seeded mutation fuzz of every text input: the shipped experiment files (through the same
//! `config::resolve` and data-path check `--dry-run` runs), the seed layout's tags.txt and
//! filtered.txt, a folder's tag file, and both replay log formats. Each mutant must give a
//! result or an error, never a panic or a hang. `FUZZ_CASES=N` (default 200 per input kind)
//! and `FUZZ_SEED=S` (default 1) change the run; a failure prints the seed, case and mutant.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use anigan_runner::config::{self, Overrides};
use anigan_runner::data::{self, LoadOptions, Source};
use anigan_runner::{health, textfile};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A mutant that takes longer than this is a hang.
const LIMIT: Duration = Duration::from_secs(20);
/// The same for the binary's `--dry-run`, which times a few batches of every new shape for its
/// cost estimate: sweep.toml's four 64 px shapes take about 10 s alone on 2 cores, and twice
/// that beside this file's other tests (a mutant that dropped a grid key was killed at 20 s).
const DRY_RUN_LIMIT: Duration = Duration::from_secs(120);

fn cases() -> usize {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

fn seed() -> u64 {
    std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

/// Values that broke or could break parsers: non-finite, huge, negative, wrong types, dates.
const NASTY: &[&str] = &[
    "inf",
    "-inf",
    "nan",
    "-1",
    "0",
    "1e308",
    "-1e308",
    "99999999999999999999",
    "1979-05-27",
    "\"x\"",
    "[]",
    "{}",
    "true",
    "",
    "\"\"",
    "[1, [2]]",
    "0,5",
    "\u{feff}",
    "\r",
    "\"\u{0}\"",
    "18446744073709551616",
    "1e-400",
    "0x10",
    "epoch:1/0",
];

/// One random edit of `text`, as bytes (some edits make it invalid UTF-8).
fn mutate(text: &[u8], rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = text.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    let pick = |rng: &mut ChaCha8Rng, n: usize| rng.random_range(0..n.max(1));
    match rng.random_range(0..10) {
        0 if lines.len() > 1 => {
            let i = pick(rng, lines.len());
            lines.remove(i);
        }
        1 => {
            let i = pick(rng, lines.len());
            let line = lines.get(i).cloned().unwrap_or_default();
            lines.insert(i, line);
        }
        2 if lines.len() > 1 => {
            let (i, j) = (pick(rng, lines.len()), pick(rng, lines.len()));
            lines.swap(i, j);
        }
        3 => {
            // A number (or the text after `=`, `,`, `:`) replaced by a nasty value.
            let i = pick(rng, lines.len());
            let nasty = NASTY[pick(rng, NASTY.len())].as_bytes();
            if let Some(line) = lines.get_mut(i) {
                let cut = line
                    .iter()
                    .rposition(|&b| matches!(b, b'=' | b',' | b':' | b';'))
                    .map_or(0, |p| p + 1);
                line.truncate(cut);
                line.extend_from_slice(nasty);
            }
        }
        4 => {
            let mut bytes = lines.join(&b'\n');
            let at = pick(rng, bytes.len() + 1);
            let byte = [0xff, 0x00, b'\r', b'"', b'[', b'=', b',', 0xe9, b'\t'][pick(rng, 9)];
            bytes.insert(at.min(bytes.len()), byte);
            return bytes;
        }
        5 => {
            let bytes = lines.join(&b'\n');
            let at = pick(rng, bytes.len() + 1).min(bytes.len());
            return bytes[..at].to_vec();
        }
        6 => {
            let mut bytes = b"\xef\xbb\xbf".to_vec();
            bytes.extend(lines.join(&b"\r\n"[..]));
            return bytes;
        }
        7 => {
            let i = pick(rng, lines.len());
            if let Some(line) = lines.get_mut(i).filter(|l| !l.is_empty()) {
                let at = pick(rng, line.len());
                line[at] = rng.random_range(b' '..=b'~');
            }
        }
        8 => {
            let i = pick(rng, lines.len() + 1).min(lines.len());
            let snippets: &[&[u8]] = &[
                b"[grid]\n\"train.lr_d\" = [1e-4, 1e-4]",
                b"[[grid.include]]\n\"train.p0\" = 2",
                b"[train]",
                b"vocab: red hair,red hair",
                b"epoch:5/5",
                b"\tD_epoch:0/1: \tAcc:nan, inf",
                b"epoch,g_acc",
                b",,,,",
            ];
            lines.insert(i, snippets[pick(rng, snippets.len())].to_vec());
        }
        _ => {
            let i = pick(rng, lines.len() + 1).min(lines.len());
            let keys = [
                "train.lr_d",
                "data.path",
                "experiment.name",
                "grid",
                "train.betas",
            ];
            let line = format!(
                "{} = {}",
                keys[pick(rng, keys.len())],
                NASTY[pick(rng, NASTY.len())]
            );
            lines.insert(i, line.into_bytes());
        }
    }
    lines.join(&b'\n')
}

/// Runs `check` on `cases()` mutants of `original`, each on its own thread with a time limit.
/// `check` says whether the input was accepted; the counts are printed, so a run shows the
/// mutants reach past the first error.
fn fuzz(kind: &str, original: &[u8], check: fn(Vec<u8>) -> bool) {
    let mut accepted = 0;
    let mut rng = ChaCha8Rng::seed_from_u64(seed() ^ blake3_like(kind));
    for case in 0..cases() {
        let mut mutant = original.to_vec();
        for _ in 0..rng.random_range(1..=3) {
            mutant = mutate(&mutant, &mut rng);
        }
        let (tx, rx) = mpsc::channel();
        let input = mutant.clone();
        std::thread::spawn(move || {
            let _ = tx.send(check(input));
        });
        match rx.recv_timeout(LIMIT) {
            Ok(ok) => accepted += usize::from(ok),
            Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                "{kind}: case {case} (FUZZ_SEED={}) hangs on:\n{}",
                seed(),
                String::from_utf8_lossy(&mutant)
            ),
            Err(mpsc::RecvTimeoutError::Disconnected) => panic!(
                "{kind}: case {case} (FUZZ_SEED={}) panics on:\n{}",
                seed(),
                String::from_utf8_lossy(&mutant)
            ),
        }
    }
    eprintln!(
        "{kind}: {accepted} of {} mutants accepted, the rest refused with an error",
        cases()
    );
}

/// A stable per-kind seed offset, so each input kind gets its own stream.
fn blake3_like(kind: &str) -> u64 {
    kind.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// What `--dry-run` does before listing: resolve the settings, then check the data paths.
fn dry_run(bytes: Vec<u8>) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mutant.toml");
    std::fs::write(&file, bytes).unwrap();
    match config::resolve(&file, &Overrides::default()) {
        Ok(experiment) => {
            assert!(!experiment.variants.is_empty());
            data::check_data(
                &experiment.file,
                experiment.variants.iter().map(|v| &v.config),
            )
            .is_ok()
        }
        Err(problems) => {
            assert!(
                !problems.0.is_empty(),
                "an error names at least one problem"
            );
            false
        }
    }
}

#[test]
fn shipped_experiment_files_survive_mutation() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("experiments"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "{files:?}");
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        fuzz(&name, &std::fs::read(&file).unwrap(), dry_run);
    }
}

/// The binary itself on a few mutants: `--dry-run` ends with 0 (listed) or 2 (settings error),
/// never with a panic (101) or another code, and writes nothing.
#[test]
fn dry_run_binary_exits_0_or_2_on_mutants() {
    let original = std::fs::read(root().join("experiments/sweep.toml")).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed() ^ 0xd1);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mutant.toml");
    let results = dir.path().join("results");
    for case in 0..(cases() / 10).max(1) {
        let mutant = mutate(&mutate(&original, &mut rng), &mut rng);
        std::fs::write(&file, &mutant).unwrap();
        let out = assert_cmd::Command::cargo_bin("anigan-runner")
            .unwrap()
            .arg(&file)
            .arg("--dry-run")
            .arg("--results")
            .arg(&results)
            .timeout(DRY_RUN_LIMIT)
            .output()
            .unwrap();
        let code = out.status.code();
        assert!(
            matches!(code, Some(0 | 2)),
            "case {case} (FUZZ_SEED={}): exit {code:?}\n{}\n{}",
            seed(),
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&mutant)
        );
        assert!(
            !results.exists(),
            "case {case}: --dry-run wrote {}",
            results.display()
        );
    }
}

/// Loads a seed folder whose tags.txt and filtered.txt are the two halves of `bytes`.
fn load_seed(bytes: Vec<u8>) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let split = bytes.iter().position(|&b| b == 0x1e).unwrap_or(bytes.len());
    std::fs::write(dir.path().join("tags.txt"), &bytes[..split]).unwrap();
    std::fs::write(
        dir.path().join("filtered.txt"),
        bytes.get(split + 1..).unwrap_or_default(),
    )
    .unwrap();
    for k in 0..4 {
        let path = dir.path().join(format!("selected/{k}.png"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        image::RgbImage::from_pixel(4, 4, image::Rgb([k * 40, 9, 9]))
            .save(&path)
            .unwrap();
    }
    load(Source::Seed {
        dir: dir.path().to_path_buf(),
    })
}

fn load(source: Source) -> bool {
    let cache = tempfile::tempdir().unwrap();
    let opts = LoadOptions {
        source,
        image_size: 4,
        limit: 0,
        holdout: 1,
        max_bad_fraction: 0.5,
        seed: 0,
        cache_dir: cache.path().to_path_buf(),
    };
    data::load(&opts, &mut |_| {}).is_ok()
}

#[test]
fn seed_layout_label_files_survive_mutation() {
    let tags = "blonde hair,red hair\nlong hair,short hair\nred eyes,blue eyes\n";
    let filtered = "1000,blonde hair,long hair\n1001\n1002,red eyes,red hair\n1003,short hair\n";
    fuzz(
        "tags.txt + filtered.txt",
        format!("{tags}\u{1e}{filtered}").as_bytes(),
        load_seed,
    );
}

fn load_folder(bytes: Vec<u8>) -> bool {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a.png", "b/c.png", "d.png"] {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        image::RgbImage::from_pixel(4, 4, image::Rgb([9, 9, 9]))
            .save(&path)
            .unwrap();
    }
    let tags_file = dir.path().join("labels.csv");
    std::fs::write(&tags_file, bytes).unwrap();
    load(Source::Folder {
        dir: dir.path().to_path_buf(),
        tags_file: Some(tags_file),
    })
}

#[test]
fn folder_tag_files_survive_mutation() {
    let text =
        "# faces\nvocab: red,blue\nvocab: long,short\n\na.png,red,long\nb/c.png,blue\nd.png\n";
    fuzz("folder tag file", text.as_bytes(), load_folder);
}

/// What `replay` does with a file: decode the text, detect the format, parse.
fn replay(bytes: Vec<u8>) -> bool {
    let Ok(text) = textfile::decode(&bytes, Path::new("log")) else {
        return false;
    };
    let _ = health::detect_format(&text);
    let _ = health::parse_seed_log(&text);
    let _ = anigan_runner::results::metrics::segments(&text);
    match anigan_runner::commands::replay::parse_log(&text) {
        Ok(segments) => {
            let setup = health::DetectorSetup::unrecorded(Default::default());
            health::replay(&segments, &setup, health::Listed::Every);
            true
        }
        Err(_) => false,
    }
}

#[test]
fn replay_logs_survive_mutation() {
    let seed_log =
        std::fs::read(root().join("tests/fixtures/seed-logs/dcgan-1160-1399.log")).unwrap();
    // The first 120 lines: enough blocks, markers and a restart to mutate, quick to parse.
    let head: Vec<&[u8]> = seed_log.split(|&b| b == b'\n').take(120).collect();
    fuzz("original training log", &head.join(&b'\n'), replay);
    let mut csv =
        "step,epoch,attempt,d_acc_real,d_acc_fake,g_acc,d_loss,g_loss,sample_std\n".to_string();
    for e in 1..=30 {
        csv += &format!(
            "{},{e},0,0.9,0.{},0.{},0.7,1.2,0.4\n",
            e * 10,
            e % 10,
            (e + 3) % 10
        );
    }
    fuzz("metrics.csv", csv.as_bytes(), replay);
}
