//! The `[data]` paths checked before a run writes anything: a missing folder or tag file is a
//! settings error (exit 2) found in milliseconds, not a failed variant after minutes.

use std::path::Path;

use crate::config::{ConfigErrors, DataSection, DataSource};

/// Every problem with the dataset paths of `sections` that can be seen without reading a single
/// image: missing folders, a seed folder without its files, a missing tag file. Checked before a
/// run writes anything, so a typo in a path is a settings error (exit 2), not a failed variant.
pub fn check_paths<'a>(
    sections: impl IntoIterator<Item = &'a DataSection>,
) -> std::result::Result<(), ConfigErrors> {
    let mut problems: Vec<String> = Vec::new();
    for d in sections {
        for problem in path_problems(d) {
            if !problems.contains(&problem) {
                problems.push(problem);
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ConfigErrors(problems))
    }
}

/// Data folders this project fetches with a script of its own, and the script.
const FETCHED_BY: &[(&str, &str)] = &[("data/emoji", "scripts/fetch-emoji")];

/// The problem of a `data.path` folder that is not there, with the script that fetches it when
/// the project has one.
fn missing_folder(path: &str) -> String {
    let fetch = FETCHED_BY
        .iter()
        .find(|(folder, _)| Path::new(path).ends_with(folder))
        .map(|(_, script)| format!("; run {script} first (it downloads and builds {path})"))
        .unwrap_or_else(|| "; check [data] path".to_string());
    format!("data.path = {path:?}: no such folder{fetch}")
}

fn path_problems(d: &DataSection) -> Vec<String> {
    let path = Path::new(&d.path);
    let mut out = Vec::new();
    let mut need = |ok: bool, what: String| {
        if !ok {
            out.push(what);
        }
    };
    match d.source {
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
                need(false, missing_folder(&d.path));
            }
        }
        DataSource::Folder if !d.path.is_empty() => {
            need(path.is_dir(), missing_folder(&d.path));
            need(
                d.tags_file.is_empty() || Path::new(&d.tags_file).is_file(),
                format!("data.tags_file = {:?}: no such file", d.tags_file),
            );
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
            let got = path_problems(&d);
            assert_eq!(got.len(), want.len(), "{why}: {got:?}");
            for (g, w) in got.iter().zip(want) {
                assert!(g.contains(w), "{why}: {g}");
            }
        }
        let twice = [rows_section(&missing), rows_section(&missing)];
        assert_eq!(
            check_paths(&twice).unwrap_err().0.len(),
            1,
            "one problem per path"
        );
    }

    fn rows_section(path: &str) -> DataSection {
        DataSection {
            source: DataSource::Folder,
            path: path.into(),
            ..DataSection::default()
        }
    }
}
