//! Helpers shared by the integration tests that compare runs: files read through the
//! runner's own reader (`anigan_runner::results`), never split by hand.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use anigan_runner::results::{EventRow, MetricsRow, RunDir, metrics};

/// The flags a test sweep trains with: its results and data directories, the CPU, one thread.
#[allow(dead_code)] // not every test file that shares this module trains sweeps
pub fn cpu_args(experiment: &Path, results: &Path, data: &Path) -> Vec<OsString> {
    let mut a: Vec<OsString> = vec![experiment.into()];
    a.extend(dir_args(results, data));
    a.extend(["--device", "cpu", "--threads", "1"].map(OsString::from));
    a
}

/// `--results RESULTS --data-dir DATA`: where a command writes its results and its data.
#[allow(dead_code)] // not every test file that shares this module names both folders
pub fn dir_args(results: &Path, data: &Path) -> Vec<OsString> {
    vec![
        "--results".into(),
        results.into(),
        "--data-dir".into(),
        data.into(),
    ]
}

/// stdout of `anigan-runner EXPERIMENT ARGS --dry-run`, which must succeed: the variants it
/// would train, a line each (index, id, values), then its cost lines.
#[allow(dead_code)] // not every test file that shares this module dry-runs experiments
pub fn dry_run<I, S>(experiment: &Path, args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = assert_cmd::Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg(experiment)
        .args(args)
        .arg("--dry-run")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

/// The variant ids a `--dry-run` listing names, in its order: the second word of each variant
/// line (`000-1a2b3c4d`: 12 characters, a dash after the index).
#[allow(dead_code)] // not every test file that shares this module dry-runs experiments
pub fn variant_ids(listing: &str) -> Vec<String> {
    listing
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter(|w| w.len() == 12 && w.as_bytes()[3] == b'-')
        .map(str::to_string)
        .collect()
}

/// metrics.csv of a run directory with its timing figures cleared, one row per epoch: what
/// two runs of the same variant must agree on.
#[allow(dead_code)] // not every test file that shares this module compares metrics
pub fn metrics_without_timing(run: &Path) -> Vec<MetricsRow> {
    metrics::read(&RunDir::at(run).metrics())
        .unwrap()
        .into_iter()
        .map(MetricsRow::without_timing)
        .collect()
}

/// The run directories of an experiment directory, in index order.
#[allow(dead_code)] // not every test file that shares this module lists runs
pub fn run_dirs(exp_dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(exp_dir.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    dirs
}

/// events.csv of a run directory (none when there is no file).
#[allow(dead_code)] // not every test file that shares this module reads events
pub fn events(run: &Path) -> Vec<EventRow> {
    anigan_runner::results::reader::read_events(&RunDir::at(run)).unwrap()
}

/// 8 variants, 8 epochs, an evaluation every 2; rungs at 2 and 4, eta 2, two peers needed.
/// Rollback off: one row per epoch.
#[allow(dead_code)] // not every test file that shares this module runs pruned sweeps
pub const GRID8: &str = r#"
[experiment]
seed = 3
epochs = 8
[data]
source = "synthetic"
synthetic_count = 192
image_size = 16
holdout = 64
[model]
z_dim = 16
g_width = 8
d_width = 8
[train]
batch_size = 32
[checkpoint]
every = 2
keep = 2
[rollback]
enabled = false
[eval]
every = 2
samples = 64
[prune]
enabled = true
first_rung = 2
eta = 2
min_peers = 2
[grid]
"train.lr_d" = [2e-4, 1e-4, 5e-5, 1e-5]
"train.lr_g" = [2e-4, 5e-5]
"#;

/// A `[prune]` sweep's results checked against the rule, whatever order its variants ran in
/// (one process, `--jobs N`, Slurm): every variant ended finished or pruned (`collapsed` too,
/// where `may_collapse`); each trained its epochs once (rollback off: one row per epoch), a
/// pruned one up to the evaluation that stopped it; every decision is what `prune::decide`
/// says of the figures it records, its own figure is its best so far, and every peer figure is
/// that peer's own decision at the rung (or a collapsed peer's worst). Returns how many
/// variants ended pruned and finished.
#[allow(dead_code)] // not every test file that shares this module runs pruned sweeps
pub fn assert_rule_held(exp_dir: &Path, epochs: u32, may_collapse: bool) -> (usize, usize) {
    use anigan_runner::prune::{self, Figure};
    use anigan_runner::results::rungs::Outcome;
    use anigan_runner::results::{PeerSource, RunState, reader};

    let record =
        reader::read_experiment(&anigan_runner::results::ExperimentDir::at(exp_dir)).unwrap();
    let (mut pruned, mut finished) = (0, 0);
    for run in &record.runs {
        let id = &run.id;
        let steps: Vec<u64> = run.rows.iter().map(|r| r.step).collect();
        let last = match run.state {
            RunState::Finished => {
                finished += 1;
                epochs
            }
            RunState::Pruned => {
                pruned += 1;
                let stop = run
                    .stopped_at()
                    .unwrap_or_else(|| panic!("{id}: no stop on disk"));
                assert_eq!(
                    run.rungs.last(),
                    Some(stop),
                    "{id}: the stop is its last decision"
                );
                let rows: Vec<_> = run
                    .events
                    .iter()
                    .filter(|e| e.action.word() == "prune")
                    .collect();
                assert_eq!(
                    rows.len(),
                    1,
                    "{id}: one events row for the stop: {:?}",
                    run.events
                );
                assert_eq!(rows[0].kind.as_str(), "behind");
                for p in &stop.peers {
                    assert!(
                        rows[0].evidence.contains(&p.id),
                        "{id}: {}",
                        rows[0].evidence
                    );
                }
                stop.judged_epoch
            }
            RunState::Collapsed if may_collapse => continue,
            other => panic!("{id} ended {other:?}"),
        };
        assert_eq!(
            steps,
            (1..=last as u64).collect::<Vec<_>>(),
            "{id}: each epoch once"
        );
        assert_eq!(run.status.as_ref().unwrap().epochs_done, last, "{id}");
        for d in &run.rungs {
            let evaluations: Vec<(u32, f64)> = run
                .rows
                .iter()
                .filter_map(|r| Some((r.epoch, r.swd?)))
                .collect();
            assert_eq!(
                Some(d.figure),
                prune::best_so_far(&evaluations, d.judged_epoch),
                "{id} at {}: the best so far",
                d.rung_epoch
            );
            let figures: Vec<Figure> = d.peers.iter().map(|p| p.figure).collect();
            let again = prune::decide(&d.rule, d.as_rung(), d.figure, &figures);
            let outcome = match again {
                prune::Decision::KeepFewPeers { .. } => Outcome::TooFewPeers,
                prune::Decision::Keep(_) => Outcome::Keep,
                prune::Decision::Stop(_) => Outcome::Stop,
            };
            assert_eq!(
                outcome,
                d.outcome,
                "{id} at {}: {}",
                d.rung_epoch,
                d.describe()
            );
            for p in &d.peers {
                let peer = record.runs.iter().find(|r| r.id == p.id).unwrap();
                match p.source {
                    PeerSource::Rung => {
                        let theirs = peer.rungs.iter().find(|r| r.rung_epoch == d.rung_epoch);
                        assert_eq!(
                            theirs.map(|r| r.figure),
                            Some(p.figure),
                            "{id}: peer {}",
                            p.id
                        );
                    }
                    PeerSource::Collapsed => {
                        assert_eq!(peer.state, RunState::Collapsed, "{id}: peer {}", p.id);
                        assert_eq!(p.figure, Figure::Worst);
                    }
                    PeerSource::Stalled => {
                        assert_eq!(peer.state, RunState::Stalled, "{id}: peer {}", p.id);
                        assert_eq!(p.figure, Figure::Worst);
                    }
                }
            }
        }
    }
    (pruned, finished)
}
