//! `anigan-runner sample RUN_DIR`: a grid of images from a trained run's checkpoint, optionally
//! for given tags or along a walk between two noise vectors.

use anyhow::{Context, Result, bail};
use tch::{Device, Kind, Tensor, nn};

use crate::cli::SampleArgs;
use crate::config::Arch;
use crate::data::Vocabulary;
use crate::exit::{Exit, usage};
use crate::fsx::Place;
use crate::results::{self, RunDir, Saved, reader};
use crate::train::{self, samples};
use crate::{checkpoint, model};

/// Most images one grid holds: 64 rows of 8, at most 16,514 px tall (256 px images), which
/// image viewers and browsers open; `--help` says it.
pub const MAX_COUNT: u32 = 512;

pub fn sample(args: &SampleArgs) -> Result<Exit> {
    if results::images::format_for(&args.out).is_none() {
        return Err(usage(format!(
            "--out {}: write a .png or .jpg file (the extension picks the format)",
            args.out.display()
        )));
    }
    check_count(args.count).map_err(usage)?;
    check_out(&args.out)?;
    let dir = RunDir::at(&args.run_dir);
    if !dir.config().is_file() {
        return Err(usage(format!(
            "{} is not a run directory (results/<experiment>/runs/<id>): no config.toml",
            args.run_dir.display()
        )));
    }
    let config = reader::read_config(&dir)?;
    let vocab = match config.model.arch {
        Arch::Cgan => Some(reader::read_vocabulary(&dir)?),
        Arch::Dcgan => None,
    };
    let tags = match (&args.tags, &vocab) {
        (Some(t), Some(v)) => Some(parse_tags(t, v).map_err(usage)?),
        (Some(_), None) => {
            return Err(usage(
                "--tags needs a CGAN run ([model] arch = \"cgan\"); this run is a DCGAN",
            ));
        }
        _ => None,
    };
    if let (Some(t), Some(v)) = (&tags, &vocab) {
        let counts = reader::read_run_info(&dir)
            .ok()
            .flatten()
            .and_then(|info| info.tag_counts);
        if let Some(warning) = counts.and_then(|c| untrained(t, v, &c)) {
            eprintln!("warning: {warning}");
        }
    }
    let saved = reader::checkpoints(&dir)?;
    // Asking for a checkpoint the run does not have is a command-line problem (exit 2).
    let chosen = choose(&saved, &args.epoch).map_err(|e| usage(format!("{e:#}")))?;
    train::device::set_cpu_threads(
        args.threads
            .map_or_else(train::device::available_cores, |n| n as usize),
    );
    let n_tags = vocab.as_ref().map_or(0, |v| v.len() as i64);
    let cfg = train::net_config(&config, n_tags)?;
    let mut vs = nn::VarStore::new(Device::Cpu);
    let g = model::generator(vs.root(), &cfg);
    let named = reader::load_checkpoint(chosen)?;
    let averaged = has_average(&named);
    // The moving average of G's weights when the run kept one (it is what the run's grids and
    // quality figures show); checkpoints saved without it hold G's own weights only.
    let prefix = if averaged {
        checkpoint::G_EMA
    } else {
        checkpoint::G
    };
    checkpoint::restore_into(&mut vs, &named, prefix)?;

    tch::manual_seed(args.seed as i64);
    let n = args.count as i64;
    let z = if args.interpolate {
        let ends = Tensor::randn([2, cfg.z_dim], (Kind::Float, Device::Cpu));
        let t = Tensor::linspace(0.0, 1.0, n, (Kind::Float, Device::Cpu)).unsqueeze(1);
        ends.get(0).unsqueeze(0) * (1.0 - &t) + ends.get(1).unsqueeze(0) * &t // [n, z]
    } else {
        Tensor::randn([n, cfg.z_dim], (Kind::Float, Device::Cpu))
    };
    let tag_vectors = vocab
        .as_ref()
        .map(|v| tag_rows(v, tags.as_deref(), n, args.interpolate));
    let images = tch::no_grad(|| train::generate(&g, n_tags, &z, tag_vectors.as_ref(), true));
    results::images::write_image(&args.out, &samples::grid_image(&images))?;
    println!(
        "wrote {} ({} image{} from epoch {} of {}, {}{})",
        args.out.display(),
        n,
        if n == 1 { "" } else { "s" },
        chosen.meta.epoch,
        args.run_dir.display(),
        if averaged {
            "averaged weights"
        } else {
            "G's weights"
        },
        match (&tags, &vocab) {
            (Some(t), Some(v)) => format!(", {}", describe_tags(t, v)),
            (None, Some(_)) if args.interpolate => {
                ", one random tag per group for the whole walk".to_string()
            }
            (None, Some(_)) => ", one random tag per group per image".to_string(),
            _ => String::new(),
        }
    );
    Ok(Exit::Success)
}

/// `--out` names a file that can be written (before the checkpoint is loaded): not a folder,
/// and in a folder where it can be made (`commands::writable`).
fn check_out(out: &std::path::Path) -> Result<()> {
    if out.is_dir() {
        return Err(usage(format!(
            "--out {} is a folder: name the image file to write, e.g. --out {}",
            out.display(),
            out.join("grid.png").display()
        )));
    }
    super::writable::check(
        &[Place::folder(
            crate::fsx::parent_dir(out),
            "sample writes its image grid",
        )],
        "pass --out with a file in a folder you can write to",
    )
}

/// `--count` within 1..=`MAX_COUNT`.
fn check_count(count: u32) -> Result<(), String> {
    match count {
        0 => Err("--count must be at least 1".to_string()),
        n if n > MAX_COUNT => Err(format!(
            "--count {n}: a grid holds at most {MAX_COUNT} images ({} rows of 8; a bigger \
             image is more than viewers open); for more, run sample again with another --seed",
            MAX_COUNT / 8
        )),
        _ => Ok(()),
    }
}

/// The tags of `n` images [n, len] f32: `tags` for every one, else one random tag per group,
/// drawn once for an `interpolate` walk (so that only the noise changes along it) and per
/// image otherwise.
fn tag_rows(vocab: &Vocabulary, tags: Option<&[f32]>, n: i64, interpolate: bool) -> Tensor {
    match tags {
        Some(t) => Tensor::from_slice(t).view([1, -1]).repeat([n, 1]),
        None if interpolate => random_tags(vocab, 1).repeat([n, 1]),
        None => random_tags(vocab, n),
    }
}

/// The tags of a multi-hot vector as the report line names them: `tags: a, b`, or `no tags`.
fn describe_tags(tags: &[f32], vocab: &Vocabulary) -> String {
    let named: Vec<&str> = vocab
        .tags()
        .zip(tags)
        .filter(|&(_, &on)| on > 0.0)
        .map(|(tag, _)| tag)
        .collect();
    if named.is_empty() {
        "no tags".to_string()
    } else {
        format!("tags: {}", named.join(", "))
    }
}

/// Whether a checkpoint holds the moving average of G's weights (`g_ema.*`).
fn has_average(named: &std::collections::HashMap<String, Tensor>) -> bool {
    let prefix = format!("{}.", checkpoint::G_EMA);
    named.keys().any(|k| k.starts_with(&prefix))
}

/// The checkpoint `--epoch` names: a number, `last` or `best` (lowest swd).
fn choose<'a>(saved: &'a [Saved], which: &str) -> Result<&'a Saved> {
    let epochs = || {
        let e: Vec<String> = saved.iter().map(|s| s.meta.epoch.to_string()).collect();
        e.join(", ")
    };
    if saved.is_empty() {
        bail!("the run has no checkpoint yet");
    }
    let found = match which {
        "last" => saved.last(),
        "best" => {
            let metas: Vec<_> = saved.iter().map(|s| s.meta.clone()).collect();
            let Some(best) = results::best_swd(&metas) else {
                bail!(
                    "--epoch best: no checkpoint of this run has a quality figure (swd); \
                     evaluate with [eval] every > 0, or pick one of epochs {}",
                    epochs()
                );
            };
            saved.iter().find(|s| s.meta.epoch == best)
        }
        n => {
            let epoch: u32 = n
                .parse()
                .map_err(|_| usage(format!("--epoch {n}: use an epoch number, best or last")))?;
            saved.iter().find(|s| s.meta.epoch == epoch)
        }
    };
    found.with_context(|| {
        format!(
            "--epoch {which}: no such checkpoint; the run has epochs {}",
            epochs()
        )
    })
}

/// A multi-hot vector from comma-separated tag names: every name in the vocabulary, at most one
/// per group, as G was trained: fakes' tags are drawn with one tag or none per group
/// (`data::TagSampler`), so two of a group (real images may carry them, such as two-person
/// emoji with two skin tones) ask G for what it never drew. `""` (or only spaces) is no tags;
/// an empty tag between, before or after commas, a tag given twice and a tag spelt with
/// another case or spacing than the vocabulary's are refused, each saying so. The messages
/// name the vocabulary and its groups by the run's own names (hair, length, eyes on the anime
/// faces).
pub fn parse_tags(text: &str, vocab: &Vocabulary) -> Result<Vec<f32>, String> {
    let mut v = vec![0f32; vocab.len()];
    if text.trim().is_empty() {
        return Ok(v);
    }
    let names = vocab.group_names();
    let listing = || {
        let groups: Vec<String> = vocab
            .groups
            .iter()
            .zip(&names)
            .map(|(g, name)| format!("{name}: {}", g.join(", ")))
            .collect();
        groups.join("; ")
    };
    let pieces: Vec<&str> = text.split(',').map(str::trim).collect();
    if let Some(problem) = empty_tag(text, &pieces) {
        return Err(problem);
    }
    let mut taken: Vec<Option<usize>> = vec![None; vocab.groups.len()];
    for &tag in &pieces {
        let Some(i) = vocab.index_of(tag) else {
            let joined = tag.split([';', '|']).map(str::trim).collect::<Vec<_>>();
            let hint = match spelt_otherwise(tag, vocab) {
                Some(meant) => format!(
                    "; did you mean \"{meant}\"? (tags match as written, case and inner \
                     spaces included)"
                ),
                None if joined.len() > 1 => format!(
                    "; tags are separated by commas: --tags \"{}\"",
                    joined.join(",")
                ),
                None => String::new(),
            };
            return Err(format!(
                "--tags: unknown tag \"{tag}\"{hint}; the vocabulary is {}",
                listing()
            ));
        };
        let name = |i: usize| vocab.tags().nth(i).expect("index from the vocabulary");
        let g = vocab.group_of(i);
        match taken[g] {
            Some(j) if j == i => {
                return Err(format!(
                    "--tags: \"{}\" is given twice; give each tag once",
                    name(i)
                ));
            }
            Some(j) => {
                let group = &names[g];
                return Err(format!(
                    "--tags: \"{}\" and \"{}\" are both {group} tags ({}); give at most one \
                     tag per group: the generator was trained with one tag or none per group \
                     (real images with two {group} tags taught only the discriminator), so it \
                     never learnt to draw two",
                    name(j),
                    name(i),
                    vocab.groups[g].join(", ")
                ));
            }
            None => taken[g] = Some(i),
        }
        v[i] = 1.0;
    }
    Ok(v)
}

/// The warning for asked `tags` that no training image of the run carried (`counts`: training
/// images per tag of `vocab`, as run.json records them): the generator never learnt them, as
/// training warned. None when every asked tag was trained on, or the counts are not this
/// vocabulary's.
fn untrained(tags: &[f32], vocab: &Vocabulary, counts: &[u64]) -> Option<String> {
    if counts.len() != vocab.len() {
        return None;
    }
    let unseen: Vec<String> = vocab
        .tags()
        .zip(tags)
        .zip(counts)
        .filter(|&((_, &on), &count)| on > 0.0 && count == 0)
        .map(|((tag, _), _)| format!("\"{tag}\""))
        .collect();
    let (is, them) = match unseen.len() {
        0 => return None,
        1 => ("is", "it"),
        _ => ("are", "them"),
    };
    Some(format!(
        "--tags: {} {is} on no training image of this run: a CGAN cannot learn {them}, so the \
         grid shows nothing learnt for {them}",
        unseen.join(", ")
    ))
}

/// The problem with an empty (or blank) tag among `pieces`, the trimmed parts of `text`
/// between its commas, if there is one: where it is and what to write instead.
fn empty_tag(text: &str, pieces: &[&str]) -> Option<String> {
    let at = pieces.iter().position(|p| p.is_empty())?;
    let named = |p: &str| format!("\"{p}\"");
    let before = pieces[..at].iter().rev().find(|p| !p.is_empty());
    let after = pieces[at + 1..].iter().find(|p| !p.is_empty());
    let place = match (before, after) {
        (None, None) => {
            return Some(format!(
                "--tags {text:?}: no tag between the commas; for images with no tag write \
                 --tags \"\", for random tags leave --tags out"
            ));
        }
        (Some(b), Some(a)) => format!(
            "an empty tag between {} and {}; remove the extra comma",
            named(b),
            named(a)
        ),
        (Some(b), None) => format!(
            "a comma after the last tag {} leaves an empty tag; remove it",
            named(b)
        ),
        (None, Some(a)) => format!(
            "a comma before the first tag {} leaves an empty tag; remove it",
            named(a)
        ),
    };
    Some(format!("--tags {text:?}: {place}"))
}

/// The vocabulary's tag that `tag` names with other letter case or spacing (`Blue Hair`,
/// `blue  hair`), else the one it is a likely misspelling of (`blue hiar`).
fn spelt_otherwise<'a>(tag: &str, vocab: &'a Vocabulary) -> Option<&'a str> {
    let fold = |s: &str| {
        let words: Vec<String> = s.split_whitespace().map(str::to_lowercase).collect();
        words.join(" ")
    };
    let folded = fold(tag);
    if let Some(same) = vocab.tags().find(|t| fold(t) == folded) {
        return Some(same);
    }
    vocab
        .tags()
        .map(|t| (strsim::jaro_winkler(&folded, &fold(t)), t))
        .filter(|&(score, _)| score > 0.9)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, t)| t)
}

/// One uniformly drawn tag per group for each of `n` images: [n, len] f32.
fn random_tags(vocab: &Vocabulary, n: i64) -> Tensor {
    let parts: Vec<Tensor> = vocab
        .groups
        .iter()
        .map(|g| {
            let k = g.len() as i64;
            Tensor::randint(k, [n], (Kind::Int64, Device::Cpu)).one_hot(k)
        })
        .collect();
    Tensor::cat(&parts, 1).to_kind(Kind::Float)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Vocabulary {
        let text = "[hair] blue hair,red hair\n[length] long hair,short hair\n[eyes] red eyes\n";
        Vocabulary::parse(text, std::path::Path::new("tags.txt")).unwrap()
    }

    fn skin() -> Vocabulary {
        let text = "[skin_tone] light skin,dark skin\n";
        Vocabulary::parse(text, std::path::Path::new("tags.txt")).unwrap()
    }

    #[test]
    fn no_tags_are_named_so() {
        let v = vocab();
        for (text, want) in [
            ("", "no tags"),
            ("  ", "no tags"),
            (" red eyes , blue hair", "tags: blue hair, red eyes"),
        ] {
            let tags = parse_tags(text, &v).unwrap();
            assert_eq!(describe_tags(&tags, &v), want, "--tags {text:?}");
        }
    }

    #[test]
    fn tags_no_training_image_carried_are_warned_about() {
        let v = vocab();
        let counts = [3, 0, 2, 0, 1];
        let rows: [(&str, &[u64], Option<&str>, &str); 5] = [
            (
                "blue hair, long hair",
                &counts,
                None,
                "every asked tag was trained on",
            ),
            (
                "red hair",
                &counts,
                Some(
                    "--tags: \"red hair\" is on no training image of this run: a CGAN cannot \
                      learn it, so the grid shows nothing learnt for it",
                ),
                "one",
            ),
            (
                "short hair, red hair, red eyes",
                &counts,
                Some("--tags: \"red hair\", \"short hair\" are on no training image"),
                "two, named in the vocabulary's order",
            ),
            ("", &counts, None, "no tags"),
            ("red hair", &[3, 0], None, "counts of another vocabulary"),
        ];
        for (text, counts, want, why) in rows {
            let warning = untrained(&parse_tags(text, &v).unwrap(), &v, counts);
            match (want, &warning) {
                (None, None) => {}
                (Some(want), Some(w)) => assert!(w.starts_with(want), "{why}: {w}"),
                _ => panic!("{why}: {warning:?}"),
            }
        }
    }

    #[test]
    fn a_walk_without_tags_keeps_one_draw_of_tags() {
        let v = vocab();
        tch::manual_seed(0);
        let walk = tag_rows(&v, None, 64, true);
        assert_eq!(walk.size(), [64, 5]);
        let first = walk.get(0).unsqueeze(0).repeat([64, 1]);
        assert!(
            walk.equal(&first),
            "every image of the walk has the first's tags"
        );
        let apart = tag_rows(&v, None, 64, false);
        assert!(
            !apart.equal(&apart.get(0).unsqueeze(0).repeat([64, 1])),
            "independent images: drawn per image"
        );
    }

    #[test]
    fn count_is_bounded() {
        assert!(check_count(1).is_ok() && check_count(MAX_COUNT).is_ok());
        assert!(check_count(0).unwrap_err().contains("at least 1"));
        let e = check_count(100_000).unwrap_err();
        assert!(
            e.contains("--count 100000: a grid holds at most 512 images"),
            "{e}"
        );
    }

    #[test]
    fn tags_are_validated_against_the_vocabulary() {
        let v = vocab();
        assert_eq!(
            parse_tags("red hair, short hair,red eyes", &v).unwrap(),
            [0., 1., 0., 1., 1.]
        );
        assert_eq!(
            parse_tags("", &v).unwrap(),
            [0.; 5],
            "no tags: none per group"
        );
        let cases = [
            ("green hair", "unknown tag \"green hair\"", "unknown"),
            (
                "blue hair;long hair",
                "tags are separated by commas: --tags \"blue hair,long hair\"",
                "joined by a semicolon",
            ),
            (
                "blue hair,red hair",
                "are both hair tags (blue hair, red hair)",
                "two of one group, named as the run names it",
            ),
            (
                "long hair, short hair",
                "at most one tag per group",
                "two lengths",
            ),
        ];
        for (text, expected, why) in cases {
            let e = parse_tags(text, &v).unwrap_err();
            assert!(e.contains(expected), "{why}: {e}");
        }
        let e = parse_tags("blue hair,red hair", &v).unwrap_err();
        assert!(
            !e.contains("emoji"),
            "any dataset's wording, not the emoji's: {e}"
        );
        let e = parse_tags("light skin,dark skin", &skin()).unwrap_err();
        assert!(
            e.contains("the generator was trained with one tag or none per group")
                && e.contains("real images with two skin_tone tags taught only the discriminator"),
            "two of a group: says why: {e}"
        );
        let e = parse_tags("blond hair", &v).unwrap_err();
        assert!(
            e.contains("hair: blue hair, red hair; length: long hair, short hair; eyes: red eyes"),
            "names the vocabulary by its groups' names: {e}"
        );
    }

    #[test]
    fn tags_written_otherwise_than_the_vocabulary_are_refused_with_what_to_write() {
        let v = vocab();
        let cases = [
            (
                ",",
                "no tag between the commas; for images with no tag write --tags \"\"",
                "only a comma",
            ),
            (" , ,", "no tag between the commas", "blank tags only"),
            (
                "blue hair,",
                "a comma after the last tag \"blue hair\" leaves an empty tag",
                "trailing comma",
            ),
            (
                "blue hair, ",
                "a comma after the last tag \"blue hair\"",
                "trailing comma and a space",
            ),
            (
                ",blue hair",
                "a comma before the first tag \"blue hair\"",
                "leading comma",
            ),
            (
                "blue hair,,red eyes",
                "an empty tag between \"blue hair\" and \"red eyes\"",
                "two commas",
            ),
            (
                "blue hair,  ,red eyes",
                "an empty tag between \"blue hair\" and \"red eyes\"",
                "a blank tag",
            ),
            (
                "blue hair,blue hair",
                "\"blue hair\" is given twice; give each tag once",
                "a repeat",
            ),
            (
                " blue hair ,blue hair",
                "\"blue hair\" is given twice",
                "a repeat with spaces",
            ),
            (
                "Blue Hair",
                "unknown tag \"Blue Hair\"; did you mean \"blue hair\"? (tags match as written, case and inner spaces included)",
                "case",
            ),
            (
                "blue  hair",
                "did you mean \"blue hair\"?",
                "two spaces inside",
            ),
            ("blue hiar", "did you mean \"blue hair\"?", "a typo"),
        ];
        for (text, expected, why) in cases {
            let e = parse_tags(text, &v).unwrap_err();
            assert!(e.contains(expected), "{why}: --tags {text:?}: {e}");
            assert!(
                !e.contains("are both"),
                "{why}: no two-of-a-group message: {e}"
            );
        }
        let e = parse_tags("purple", &v).unwrap_err();
        assert!(!e.contains("did you mean"), "nothing close: {e}");
    }
}
