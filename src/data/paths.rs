//! The `[data]` checked before a run writes anything: a missing folder or tag file, a tag file
//! with errors or a holdout that leaves nothing to train on is a settings error (exit 2) found
//! in a second, not a failed variant after minutes.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::config::{Arch, Config, ConfigErrors, DataSection, DataSource};

/// Every problem with the datasets of `configs` that can be seen without decoding an image.
/// First the paths: missing folders, a seed folder without its files, a missing tag file.
/// Then, for each dataset whose paths are in place, its listing: a tag file's line errors, no
/// image at all, a holdout that leaves nothing to train on, a CGAN whose tag file tags no image.
/// Checked before a run (and `--dry-run`, and `slurm`) writes anything, so a typo is a settings
/// error (exit 2), not a failed variant. Each problem is reported once.
///
/// Relative paths are read from the current directory (where the runner was started), not from
/// `experiment_file`'s folder; a missing one says which directory that was and, when the path
/// is there relative to the experiment file's folder, the path to write instead.
///
/// Ok: the warnings the listings gave (images left out, tags no image carries), each once: a
/// run that loads the data gives them again, so only a command that loads nothing (`--dry-run`,
/// a Slurm submission) needs to show them.
pub fn check_data<'a>(
    experiment_file: &Path,
    configs: impl IntoIterator<Item = &'a Config>,
) -> std::result::Result<Vec<String>, ConfigErrors> {
    let mut problems: Vec<String> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    let mut listed: HashSet<String> = HashSet::new();
    let base = experiment_file.parent().unwrap_or(Path::new(""));
    for cfg in configs {
        let d = &cfg.data;
        let mut found = path_problems(d, base);
        let needs_tags = cfg.model.arch == Arch::Cgan || cfg.train.aux_tag_weight > 0.0;
        let key = format!(
            "{:?} {:?} {:?} {} {needs_tags}",
            d.source, d.path, d.tags_file, d.holdout
        );
        if found.is_empty() && listed.insert(key) {
            let mut said = Vec::new();
            found = listing_problems(d, needs_tags, &mut said);
            warnings.extend(
                said.into_iter()
                    .filter(|w| !warnings.contains(w))
                    .collect::<Vec<_>>(),
            );
        }
        for problem in found {
            if !problems.contains(&problem) {
                problems.push(problem);
            }
        }
    }
    if problems.is_empty() {
        Ok(warnings)
    } else {
        Err(ConfigErrors(problems))
    }
}

/// The problems the listing of a seed or folder source shows (synthetic sets are checked with
/// the settings: `data.holdout` against `data.synthetic_count`).
/// `warnings`: what the listing warned of (images left out, tags no image carries).
fn listing_problems(d: &DataSection, needs_tags: bool, warnings: &mut Vec<String>) -> Vec<String> {
    let path = Path::new(&d.path);
    let mut left_out: Vec<String> = Vec::new();
    let listing = match d.source {
        DataSource::Synthetic => return Vec::new(),
        DataSource::Seed => super::seed_layout::list(path),
        DataSource::Folder => {
            let tags = (!d.tags_file.is_empty()).then(|| Path::new(&d.tags_file));
            // Its warnings (images left out) come again when the run loads it; with no image
            // at all they say why.
            super::folder::list(path, tags, &mut |w| left_out.push(w))
        }
    };
    let listing = match listing {
        Ok(listing) => listing,
        Err(e) => return vec![format!("{e:#}")],
    };
    let images = listing.items.len();
    if images > 0 {
        warnings.append(&mut left_out);
    }
    if images == 0 {
        return vec![format!(
            "data.path = {:?}: no images (PNG or JPEG){}{}",
            d.path,
            if d.tags_file.is_empty() {
                ""
            } else {
                " listed in data.tags_file"
            },
            left_out
                .iter()
                .map(|w| format!(" ({w})"))
                .collect::<String>()
        )];
    }
    let mut out: Vec<String> = crate::config::too_few_images(d, images)
        .into_iter()
        .collect();
    if d.holdout as usize >= images {
        out.push(format!(
            "data.holdout ({}) must be below the {images} image(s) of data.path = {:?} to leave \
             images to train on",
            d.holdout, d.path
        ));
    }
    let tagged = listing.items.iter().filter(|i| i.tags.contains(&1)).count();
    if needs_tags && listing.vocab.is_some() && tagged == 0 {
        out.push(format!(
            "no image of data.tags_file = {:?} has a tag (lines `relative/path.png,tag,...`), \
             but model.arch = \"cgan\" and train.aux_tag_weight learn from tags: add the tags, \
             or train model.arch = \"dcgan\" with train.aux_tag_weight = 0",
            d.tags_file
        ));
    }
    out
}

/// Data folders this project fetches with a script of its own, and the script.
const FETCHED_BY: &[(&str, &str)] = &[("data/emoji", "scripts/fetch-emoji")];

/// The problem of a `data.path` that is no folder: a file, or nothing (then with the script that
/// fetches it when the project has one, and where a relative path was looked for).
fn missing_folder(path: &str, base: &Path) -> String {
    if Path::new(path).exists() {
        return format!(
            "data.path = {path:?} is a file, not a folder: name the folder that holds the images"
        );
    }
    let (looked, fix) = looked_in("data.path", path, base, Path::is_dir);
    let fix = fix.unwrap_or_else(|| {
        FETCHED_BY
            .iter()
            .find(|(folder, _)| Path::new(path).ends_with(folder))
            .map(|(_, script)| format!("run {script} first (it downloads and builds {path})"))
            .unwrap_or_else(|| "check [data] path".to_string())
    });
    format!("data.path = {path:?}: no such folder{looked}; {fix}")
}

/// The problem of a `data.tags_file` that is no file: a folder, or nothing.
fn missing_tag_file(tags_file: &str, base: &Path) -> String {
    let path = Path::new(tags_file);
    if path.is_dir() {
        let inside = path.join("tags.txt");
        let hint = if inside.is_file() {
            format!(" (such as {})", inside.display())
        } else {
            String::new()
        };
        return format!(
            "data.tags_file = {tags_file:?} is a folder, not a file: name the tag file in it{hint}"
        );
    }
    let (looked, fix) = looked_in("data.tags_file", tags_file, base, Path::is_file);
    let fix = fix.unwrap_or_else(|| "check [data] tags_file".to_string());
    format!("data.tags_file = {tags_file:?}: no such file{looked}; {fix}")
}

/// For a relative path `written` (setting `key`) that is not there: where it was looked for (the
/// current directory, shown) and, when `base` (the experiment file's folder) holds what was
/// meant (`fits`), the fix: the path to write instead. Nothing for an absolute path.
fn looked_in(
    key: &str,
    written: &str,
    base: &Path,
    fits: fn(&Path) -> bool,
) -> (String, Option<String>) {
    let path = Path::new(written);
    if path.is_absolute() {
        return (String::new(), None);
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    let looked = format!(
        " (a relative path is read from the current directory, {}, not from the experiment \
         file's folder: looked for {})",
        cwd.display(),
        cwd.join(path).display()
    );
    let beside = base.join(path);
    let fix = (!base.as_os_str().is_empty() && fits(&beside)).then(|| {
        format!(
            "it is there relative to the experiment file's folder: write {key} = {:?}, or run \
             from {}",
            relative_to(&beside, &cwd).display().to_string(),
            base.display()
        )
    });
    (looked, fix)
}

/// `path` (which exists) as the current directory `cwd` would reach it: relative when it lies
/// below `cwd`, else absolute; both without `.` or `..`.
fn relative_to(path: &Path, cwd: &Path) -> PathBuf {
    let (Ok(path), Ok(cwd)) = (path.canonicalize(), cwd.canonicalize()) else {
        return path.to_path_buf();
    };
    path.strip_prefix(&cwd)
        .map_or(path.clone(), Path::to_path_buf)
}

fn path_problems(d: &DataSection, base: &Path) -> Vec<String> {
    let path = Path::new(&d.path);
    let mut out = Vec::new();
    let mut need = |ok: bool, what: String| {
        if !ok {
            out.push(what);
        }
    };
    match d.source {
        DataSource::Synthetic if !d.path.is_empty() => {
            if let Err(crate::synth::Damage::OtherSettings(why)) =
                super::from_config::check_once(path, d)
            {
                out.push(format!(
                    "data.path = {:?} holds another synthetic dataset: {why}; set [data] \
                     synthetic_count, image_size and seed to match it, or give a new path",
                    d.path
                ));
            }
        }
        DataSource::Synthetic => {}
        DataSource::Seed if !d.path.is_empty() => {
            if path.is_dir() {
                for file in ["tags.txt", "filtered.txt"] {
                    need(
                        path.join(file).is_file(),
                        format!(
                            "data.path = {:?} has no {file}: a seed folder holds tags.txt, \
                             filtered.txt and selected/<k>.jpg",
                            d.path
                        ),
                    );
                }
                need(
                    path.join("selected").is_dir(),
                    format!("data.path = {:?} has no selected/ folder of images", d.path),
                );
            } else {
                need(false, missing_folder(&d.path, base));
            }
        }
        DataSource::Folder if !d.path.is_empty() => {
            if !path.is_dir() {
                need(false, missing_folder(&d.path, base));
            }
            if !d.tags_file.is_empty() && !Path::new(&d.tags_file).is_file() {
                need(false, missing_tag_file(&d.tags_file, base));
            }
        }
        // An empty path is reported by the settings check (`check_combined`).
        DataSource::Seed | DataSource::Folder => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_problems_are_found_before_loading() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_string_lossy().into_owned();
        std::fs::write(dir.path().join("tags.txt"), "a").unwrap();
        let section = |source, path: &str, tags_file: &str| DataSection {
            source,
            path: path.into(),
            tags_file: tags_file.into(),
            ..DataSection::default()
        };
        let missing = format!("{root}/nope");
        let rows = [
            (section(DataSource::Folder, &root, ""), vec![], "a folder"),
            (
                section(DataSource::Folder, &missing, ""),
                vec!["no such folder"],
                "missing folder",
            ),
            (
                section(DataSource::Folder, &root, &format!("{root}/labels.csv")),
                vec!["data.tags_file"],
                "missing tag file",
            ),
            (
                section(DataSource::Seed, &root, ""),
                vec!["no filtered.txt", "no selected/"],
                "incomplete seed folder",
            ),
            (
                section(DataSource::Seed, &missing, ""),
                vec!["no such folder"],
                "missing seed folder",
            ),
            (
                section(DataSource::Synthetic, &missing, ""),
                vec![],
                "synthetic: generated",
            ),
            (
                section(DataSource::Folder, &format!("{root}/data/emoji"), ""),
                vec!["no such folder; run scripts/fetch-emoji first"],
                "a folder the project fetches names its script (emoji.toml)",
            ),
        ];
        for (d, want, why) in rows {
            let got = path_problems(&d, Path::new(""));
            assert_eq!(got.len(), want.len(), "{why}: {got:?}");
            for (g, w) in got.iter().zip(want) {
                assert!(g.contains(w), "{why}: {g}");
            }
        }
        let twice = [
            config(rows_section(&missing)),
            config(rows_section(&missing)),
        ];
        assert_eq!(
            check_data(Path::new("x.toml"), &twice).unwrap_err().0.len(),
            1,
            "one problem per path"
        );
    }

    #[test]
    fn a_missing_relative_path_says_where_it_was_looked_for_and_what_to_write() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("experiments");
        std::fs::create_dir_all(base.join("imgs")).unwrap();
        std::fs::write(base.join("imgs/tags.txt"), "vocab: a\n").unwrap();
        let cwd = std::env::current_dir().unwrap();
        let folder = |path: &str, tags_file: &str| DataSection {
            source: DataSource::Folder,
            path: path.into(),
            tags_file: tags_file.into(),
            ..DataSection::default()
        };
        let beside = base.join("imgs").canonicalize().unwrap();
        let rows = [
            (
                folder("imgs", ""),
                vec![
                    format!("from the current directory, {}", cwd.display()),
                    format!("looked for {}", cwd.join("imgs").display()),
                    format!(
                        "there relative to the experiment file's folder: write data.path = {:?}",
                        beside.display().to_string()
                    ),
                ],
                "a path written relative to the experiment file",
            ),
            (
                folder(&beside.to_string_lossy(), "imgs/tags.txt"),
                vec![format!(
                    "write data.tags_file = {:?}",
                    beside.join("tags.txt").display().to_string()
                )],
                "a tag file written relative to the experiment file",
            ),
            (
                folder(&beside.to_string_lossy(), &beside.to_string_lossy()),
                vec![format!(
                    "is a folder, not a file: name the tag file in it (such as {})",
                    beside.join("tags.txt").display()
                )],
                "a tag file that is a folder",
            ),
            (
                folder(&beside.join("tags.txt").to_string_lossy(), ""),
                vec!["is a file, not a folder".to_string()],
                "a folder that is a file",
            ),
        ];
        for (d, want, why) in rows {
            let got = path_problems(&d, &base);
            assert_eq!(got.len(), 1, "{why}: {got:?}");
            for w in want {
                assert!(got[0].contains(&w), "{why}: {w}\n{}", got[0]);
            }
        }
    }

    fn config(data: DataSection) -> Config {
        Config {
            data,
            ..Config::default()
        }
    }

    fn rows_section(path: &str) -> DataSection {
        DataSection {
            source: DataSource::Folder,
            path: path.into(),
            ..DataSection::default()
        }
    }
}
