//! What `anigan-runner slurm` submitted: the variant lists the array tasks index, one JSON
//! line per submitted job array in results/<experiment>/slurm/submissions.jsonl, and each
//! submitted job array's batch script, `<job>.sbatch`.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::settings::TaskSettings;
use crate::fsx;

/// One submitted job array: array task k trains `variants[k]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    pub job_id: String,
    /// The list file (in the slurm folder) the tasks read their variant from.
    pub variant_list: String,
    pub variants: Vec<String>,
    /// Seconds since the Unix epoch.
    pub submitted_at: u64,
    /// What its tasks were given besides the experiment file; None in records of runners
    /// before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<TaskSettings>,
}

/// Writes `ids` one per line as `variants-<hash>.txt` (named by its content, so a list is never
/// overwritten with other ids while tasks may still read it) and returns its path.
pub fn write_variant_list(slurm_dir: &Path, ids: &[&str]) -> Result<PathBuf> {
    let text: String = ids.iter().map(|id| format!("{id}\n")).collect();
    let hash = blake3::hash(text.as_bytes()).to_hex();
    let path = slurm_dir.join(format!("variants-{}.txt", &hash[..8]));
    fsx::write_atomic(&path, text.as_bytes())?;
    Ok(path)
}

/// Keeps the batch script of job array `job_id`, which Slurm accepted, as `<job_id>.sbatch`
/// (beside its tasks' logs `<job_id>_<task>.out`): every submission's script stays, and a
/// script Slurm refused is written nowhere. Returns its path.
pub fn write_script(slurm_dir: &Path, job_id: &str, text: &str) -> Result<PathBuf> {
    let path = slurm_dir.join(format!("{job_id}.sbatch"));
    fsx::write_atomic(&path, text.as_bytes())?;
    Ok(path)
}

/// The log of task `task` of job array `job_id`: `<job>_<task>.out`, as the script's
/// `--output` (`%A_%a.out`) names it.
pub fn log_path(slurm_dir: &Path, job_id: &str, task: usize) -> PathBuf {
    slurm_dir.join(format!("{job_id}_{task}.out"))
}

/// The error a task's runner ended with, from the task's log: its last `error: ` line with the
/// indented lines that continue it, as one line. None when the log holds no error.
pub fn task_error(log: &str) -> Option<String> {
    let lines: Vec<&str> = log.lines().collect();
    let start = lines.iter().rposition(|l| l.starts_with("error: "))?;
    let mut parts = vec![lines[start].trim_start_matches("error: ").trim()];
    parts.extend(
        lines[start + 1..]
            .iter()
            .take_while(|l| l.starts_with(char::is_whitespace))
            .map(|l| l.trim().trim_start_matches("- ")),
    );
    Some(parts.join(" "))
}

/// Takes the submission lock, `.submit.lock` in the slurm folder (created when missing), held
/// until the returned file drops: one `anigan-runner slurm` of an experiment at a time reads
/// the queue and submits. `note` says so when another one holds it.
pub fn lock(slurm_dir: &Path, note: &mut dyn FnMut(String)) -> Result<File> {
    fs::create_dir_all(slurm_dir)
        .with_context(|| format!("cannot create {}", slurm_dir.display()))?;
    let path = slurm_dir.join(".submit.lock");
    fsx::lock_or_wait(
        &path,
        "waiting for another `anigan-runner slurm` of this experiment to finish submitting",
        note,
    )
}

/// Appends `submission` to submissions.jsonl.
pub fn record(slurm_dir: &Path, submission: &Submission) -> Result<()> {
    let mut line = serde_json::to_string(submission).expect("a submission serializes");
    line.push('\n');
    fsx::append_synced(&slurm_dir.join("submissions.jsonl"), line.as_bytes())
}

/// Every recorded submission, oldest first; none when nothing was submitted yet.
pub fn read(slurm_dir: &Path) -> Result<Vec<Submission>> {
    let path = slurm_dir.join("submissions.jsonl");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        // None yet; or none can be: the results' path runs through a file (`slurm` says so
        // when it would write there, and `status` finds no experiment).
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(Vec::new());
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .with_context(|| format!("{}:{}: not a submission record", path.display(), i + 1))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_log_gives_its_last_error() {
        for (log, want, why) in [
            (
                "2026-12-07T07:00:00 task 41_0 (restart 0) on vm: variant 000-85ea4b6b\n\
                 error: 1 problem with the command line:\n  - --variant 000-85ea4b6b is no \
                 variant of /e/edit.toml as it stands\n",
                Some(
                    "1 problem with the command line: --variant 000-85ea4b6b is no variant of \
                     /e/edit.toml as it stands",
                ),
                "a usage error's problems continue its line",
            ),
            (
                "error: first\nwarning: then\nerror: cannot read x\n",
                Some("cannot read x"),
                "the last error is how the task ended",
            ),
            (
                "epoch 1/4 ...\nexperiment x: 1 finished\n",
                None,
                "no error",
            ),
        ] {
            assert_eq!(task_error(log).as_deref(), want, "{why}");
        }
    }

    #[test]
    fn lists_are_named_by_content_and_records_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_variant_list(dir.path(), &["000-aa", "002-cc"]).unwrap();
        let b = write_variant_list(dir.path(), &["001-bb"]).unwrap();
        assert_ne!(a, b);
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "000-aa\n002-cc\n");
        assert!(read(dir.path()).unwrap().is_empty());
        let s = Submission {
            job_id: "17".into(),
            variant_list: "variants-x.txt".into(),
            variants: vec!["000-aa".into()],
            submitted_at: 5,
            settings: None,
        };
        record(dir.path(), &s).unwrap();
        record(dir.path(), &s).unwrap();
        assert_eq!(read(dir.path()).unwrap(), vec![s.clone(), s]);
    }
}
