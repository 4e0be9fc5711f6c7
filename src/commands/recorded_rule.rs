//! The `[prune]` rule `prune-replay` starts from: the runs' own, from the config.toml written
//! last (the newest command that trained a run of the sweep), with a note where other runs
//! were trained under another rule (changing `[prune]` between commands leaves each run's
//! config.toml as its last command wrote it).

use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::Result;

use crate::exit;
use crate::prune::PruneConfig;
use crate::results::reader::{self, Run};

/// The rule a replay starts from and where it was read; `note` names the runs recorded under
/// another rule, if any.
pub struct RecordedRule {
    pub rule: PruneConfig,
    pub from: PathBuf,
    pub note: Option<String>,
}

/// The rule of the newest config.toml among `runs` (none when no run has one).
///
/// Errors: a config.toml that is there but cannot be read (exit 2): replaying the defaults
/// instead would answer another question quietly.
pub fn recorded_rule(runs: &[&Run]) -> Result<Option<RecordedRule>> {
    let mut found: Vec<(SystemTime, PruneConfig, &Run)> = Vec::new();
    for r in runs.iter().filter(|r| r.dir.config().is_file()) {
        let cfg = reader::read_config(&r.dir).map_err(|e| {
            exit::usage(format!(
                "the recorded [prune] rule is read from the runs' config.toml, and this one \
                 cannot be read: fix it (or move that run folder away). {e:#}"
            ))
        })?;
        let written = std::fs::metadata(r.dir.config())
            .and_then(|m| m.modified())
            .unwrap_or(SystemTime::UNIX_EPOCH);
        found.push((written, cfg.prune, r));
    }
    // The last of equals: the highest index among runs written in the same instant.
    let Some((_, newest, run)) = found.iter().max_by_key(|f| f.0) else {
        return Ok(None);
    };
    let others: Vec<&str> = found
        .iter()
        .filter(|f| !same_rule(&f.1, newest))
        .map(|f| f.2.id.as_str())
        .collect();
    let note = (!others.is_empty()).then(|| {
        format!(
            "note: the runs were trained under more than one [prune] rule; replaying the one \
             {} was trained with last ({}). {} run(s) recorded another: {}. \
             --set prune.KEY=VALUE replays any rule",
            run.id,
            describe(newest),
            others.len(),
            listed(&others)
        )
    });
    Ok(Some(RecordedRule {
        rule: newest.clone(),
        from: run.dir.config(),
        note,
    }))
}

/// Whether two recorded rules judge alike (`enabled` aside: the replay turns it on).
fn same_rule(a: &PruneConfig, b: &PruneConfig) -> bool {
    let on = |r: &PruneConfig| PruneConfig {
        enabled: true,
        ..r.clone()
    };
    on(a) == on(b)
}

/// `metric swd, first_rung 8, eta 2, min_peers 3, max_rungs 2`.
fn describe(rule: &PruneConfig) -> String {
    format!(
        "metric {}, first_rung {}, eta {}, min_peers {}, max_rungs {}",
        rule.metric, rule.first_rung, rule.eta, rule.min_peers, rule.max_rungs
    )
}

/// Up to five ids, then how many more.
fn listed(ids: &[&str]) -> String {
    let shown = ids.iter().take(5).copied().collect::<Vec<_>>().join(", ");
    match ids.len() > 5 {
        true => format!("{shown} and {} more", ids.len() - 5),
        false => shown,
    }
}
