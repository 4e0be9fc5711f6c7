//! Where a report is written, and how its page reaches the run folders' own files (sample
//! grids, an up-to-date progress.gif).
//!
//! `report --out DIR` links to those files by relative paths from DIR rather than copying
//! them. On a shared file system, where this option is for (a colleague's read-only sweep),
//! DIR and the results are both reachable from every machine, so relative links load there as
//! in place, cost no space (a sweep's grids add up) and show the grids as they are on disk; a
//! path relative from DIR also keeps working when the two are reached through another mount
//! point, where an absolute path would not. What it costs: DIR moved or copied away from the
//! results shows its charts but not the sample grids (run `report --out` again from the new
//! place, or copy the experiment folder along). The path is computed from both folders' real
//! paths (links resolved), so a link to DIR or to the results does not lengthen or shorten it.

use std::ffi::OsStr;
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_encode};

use crate::fsx::Place;
use crate::results::{ExperimentDir, names};

/// Where a report's own files go (report.html, report.md, summary.csv, charts/, encoded
/// progress.gif files, the lock), and the way from there to the experiment's folder.
#[derive(Debug, Clone)]
pub struct Target {
    /// The folder the report's files go into, laid out as in an experiment's folder.
    dir: ExperimentDir,
    /// A URL path from `dir` to the experiment's folder, ending in `/`; empty when the report
    /// is written into the experiment's folder itself.
    to_results: String,
}

impl Target {
    /// Into the experiment's own folder (`run`, `report RESULTS/EXPERIMENT`): the report also
    /// writes each run's best.png and progress.gif into its run folder.
    pub fn in_place(exp: &ExperimentDir) -> Self {
        Self {
            dir: exp.clone(),
            to_results: String::new(),
        }
    }

    /// Into `out` (`report --out DIR`), an existing folder outside `exp`: nothing is written
    /// into `exp`; the page links to the run folders' files by a relative path (see above).
    pub fn out(out: &Path, exp: &ExperimentDir) -> Result<Self> {
        let real = |p: &Path| {
            p.canonicalize()
                .with_context(|| format!("cannot resolve {}", p.display()))
        };
        Ok(Self {
            dir: ExperimentDir::at(out),
            to_results: relative_url(&real(out)?, &real(exp.root())?),
        })
    }

    /// The folder the report's files go into.
    pub fn root(&self) -> &Path {
        self.dir.root()
    }

    /// Whether the report goes into the experiment's own folder (and may write its run
    /// folders).
    pub fn in_results(&self) -> bool {
        self.to_results.is_empty()
    }

    /// `rel`, a path relative to the experiment's folder, as a link from the report's page.
    pub fn link(&self, rel: &str) -> String {
        format!("{}{rel}", self.to_results)
    }

    /// Where a report written into `out` writes (see `commands::writable`).
    pub fn out_places(out: &Path) -> Vec<Place> {
        vec![
            Place::folder(
                out,
                "the report writes report.html, report.md and summary.csv",
            ),
            Place::folder(out.join(names::CHARTS), "the report writes its charts"),
            Place::folder(
                out.join(names::RUNS),
                "the report writes the progress.gif of runs whose own is not up to date",
            ),
            Place::file(
                out.join(names::REPORT_LOCK),
                "the report takes its lock there (one writer at a time)",
            ),
        ]
    }

    /// Takes the report's lock in the target folder (see `ExperimentDir::lock_report`).
    pub fn lock(&self) -> Result<Option<File>> {
        self.dir.lock_report()
    }

    /// Writes one report file, `rel` relative to the target folder, atomically.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        self.dir.write_report_file(rel, bytes)
    }
}

/// The relative URL path from the folder `from` to the folder `to` (both absolute and
/// resolved), ending in `/`: `../` per component of `from` past their common part, then the
/// rest of `to`, each component percent-encoded.
fn relative_url(from: &Path, to: &Path) -> String {
    let from: Vec<Component> = from.components().collect();
    let to: Vec<Component> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut url = "../".repeat(from.len() - common);
    for part in &to[common..] {
        url += &encode(part.as_os_str());
        url.push('/');
    }
    url
}

/// Bytes a URL path segment keeps as they are: RFC 3986's unreserved characters.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A path component as a URL path segment: bytes other than letters, digits and `-._~`
/// percent-encoded (a folder named `a #1` or `50%` must not end or escape the link).
fn encode(part: &OsStr) -> String {
    percent_encode(part.as_bytes(), UNRESERVED).to_string()
}

/// `path` as it will resolve once created: its nearest existing folder resolved (links and
/// all), the components below it appended (`..` taking one off).
pub fn resolved(path: &Path) -> Result<PathBuf> {
    let absolute =
        std::path::absolute(path).with_context(|| format!("cannot resolve {}", path.display()))?;
    let parts: Vec<Component> = absolute.components().collect();
    let prefix = |n: usize| parts[..n].iter().collect::<PathBuf>();
    let mut n = parts.len();
    while n > 1 && !prefix(n).exists() {
        n -= 1;
    }
    let mut real = prefix(n)
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", prefix(n).display()))?;
    for part in &parts[n..] {
        match part {
            Component::ParentDir => {
                real.pop();
            }
            Component::Normal(name) => real.push(name),
            _ => {}
        }
    }
    Ok(real)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_urls_climb_to_the_common_folder_and_encode() {
        let rows = [
            (
                "/a/reports/x",
                "/a/results/x",
                "../../results/x/",
                "siblings",
            ),
            (
                "/home/me/r",
                "/shared/res/sweep",
                "../../../shared/res/sweep/",
                "no common part",
            ),
            (
                "/a",
                "/a/results/x",
                "results/x/",
                "the results below the report",
            ),
            (
                "/a/r",
                "/a/my results/#1 50%",
                "../my%20results/%231%2050%25/",
                "odd names",
            ),
        ];
        for (from, to, want, why) in rows {
            assert_eq!(relative_url(Path::new(from), Path::new(to)), want, "{why}");
        }
    }

    #[test]
    fn a_path_yet_to_be_created_resolves_below_its_real_parent() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().canonicalize().unwrap();
        std::fs::create_dir(real.join("exp")).unwrap();
        std::os::unix::fs::symlink(real.join("exp"), real.join("link")).unwrap();
        assert_eq!(
            resolved(&real.join("link/new/deeper")).unwrap(),
            real.join("exp/new/deeper")
        );
        assert_eq!(
            resolved(&real.join("new/../other")).unwrap(),
            real.join("other")
        );
    }
}
