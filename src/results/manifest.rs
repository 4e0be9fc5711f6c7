//! `experiment.json`: what an experiment plans to run, written by `run` before training so a
//! report can list the variants that never started.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use super::names::FORMAT_VERSION;
use crate::config::{Config, Experiment, Override, Variant};
use crate::fsx;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Manifest {
    /// The results directory's format version (`names::FORMAT_VERSION`); absent (1) in files
    /// written before it was recorded.
    #[serde(default = "first_version")]
    pub format: u32,
    pub name: String,
    pub description: String,
    pub source: String,
    pub grid_keys: Vec<String>,
    /// The keys of `grid_keys` that `[search]` draws (a range rather than a list of values);
    /// absent when none, and in files written before it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub search_keys: Vec<String>,
    /// The keys of `search_keys` drawn `log_uniform` (the report charts them on a log axis);
    /// absent when none, and in files written before it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log_keys: Vec<String>,
    pub variants: Vec<PlannedVariant>,
    /// The `--set` and `ANIGAN_*` overrides the file was resolved with: with `source`, what
    /// defines the experiment as it stands. Absent in files written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overrides: Option<Vec<Override>>,
    /// The settings its variants share, `key: value` (`value_text`): the first variant's as
    /// its id sees them (`config::as_identified`: threads, `[eval]`, `[prune]`, ... at one
    /// value), its grid and sampled keys left out. What a run of another recipe in the same folder is
    /// told apart by (`reader::Run::differs`); absent in files written before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<BTreeMap<String, String>>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct PlannedVariant {
    pub index: usize,
    pub id: String,
    /// `[key, value]` pairs in grid order, every key of `grid_keys` (`grid_texts`); strings
    /// without TOML quotes. Older builds wrote only the keys the variant's grid point
    /// sets (the reader fills the others in from the run's own files).
    pub grid: Vec<(String, String)>,
    /// Planned epochs (for `status` of variants not started yet); 0 in older manifests.
    #[serde(default)]
    pub epochs: u32,
}

impl Manifest {
    pub fn of(experiment: &Experiment) -> Manifest {
        Manifest {
            format: FORMAT_VERSION,
            name: experiment.name.clone(),
            description: experiment
                .variants
                .first()
                .map(|v| v.config.experiment.description.clone())
                .unwrap_or_default(),
            source: experiment.file.display().to_string(),
            grid_keys: experiment.grid_keys.clone(),
            search_keys: experiment
                .sampled
                .as_ref()
                .map_or_else(Vec::new, |s| s.keys.clone()),
            log_keys: experiment
                .sampled
                .as_ref()
                .map_or_else(Vec::new, |s| s.log_keys.clone()),
            variants: experiment
                .variants
                .iter()
                .map(|v| PlannedVariant {
                    index: v.index,
                    id: v.id.clone(),
                    grid: grid_texts(&experiment.grid_keys, v),
                    epochs: v.config.experiment.epochs,
                })
                .collect(),
            overrides: Some(experiment.overrides.clone()),
            base: experiment.variants.first().map(|v| {
                settings(&crate::config::as_identified(&v.config))
                    .into_iter()
                    .filter(|(k, _)| !experiment.grid_keys.contains(k))
                    .collect()
            }),
        }
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut json = serde_json::to_vec_pretty(self).expect("manifest serializes");
        json.push(b'\n');
        json
    }

    /// The manifest at `path`; None when there is none. Errors: unreadable, not a manifest,
    /// or a format newer than this build reads.
    pub fn read(path: &Path) -> Result<Option<Manifest>> {
        let manifest: Option<Manifest> = fsx::read_json(path, "experiment manifest")?;
        if let Some(m) = &manifest
            && m.format > FORMAT_VERSION
        {
            bail!(
                "{} was written by a newer anigan-runner (results format {}; this build reads up \
                 to {FORMAT_VERSION}): use that release or newer",
                path.display(),
                m.format
            );
        }
        Ok(manifest)
    }
}

fn first_version() -> u32 {
    1
}

/// A variant's value of each of `keys` (the experiment's grid and sampled keys) as
/// `[key, value]` texts (see `value_text`): the value it trains with, whether its grid point
/// sets the key or not (`Variant::values_of`), so every variant of `[[grid.include]]` tables
/// has a value for every key. A key its settings lack is left out.
pub fn grid_texts(keys: &[String], variant: &Variant) -> Vec<(String, String)> {
    variant
        .values_of(keys)
        .into_iter()
        .filter_map(|(k, val)| Some((k, value_text(&val?))))
        .collect()
}

/// Every setting of `config` as `[key, value]` texts (`value_text`), keys dotted
/// (`train.lr_d`), in config.toml's order.
pub fn settings(config: &Config) -> Vec<(String, String)> {
    let table = toml::Table::try_from(config).expect("a config serializes to TOML");
    settings_of(&table)
}

/// `settings` of a config read as a TOML table (a run's config.toml).
fn settings_of(table: &toml::Table) -> Vec<(String, String)> {
    crate::config::leaves(table, "")
        .into_iter()
        .map(|(k, v)| (k, value_text(&v)))
        .collect()
}

/// A grid value as a person writes it: `0.0002`, `dcgan` (no quotes), `[0.5, 0.99]`, and
/// `1e20` or `1e-9` where the plain decimal would run past 10 characters (TOML writes 1e20 as
/// `100000000000000000000.0`, too wide for a table cell or a chart's axis).
pub fn value_text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Float(x) if value.to_string().len() > 10 && x.is_finite() => format!("{x:e}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_values_read_as_written() {
        assert_eq!(value_text(&toml::Value::Float(2e-4)), "0.0002");
        assert_eq!(value_text(&toml::Value::String("dcgan".into())), "dcgan");
        assert_eq!(value_text(&toml::Value::Integer(96)), "96");
        assert_eq!(value_text(&toml::Value::Float(1e20)), "1e20");
        assert_eq!(value_text(&toml::Value::Float(1e-9)), "1e-9");
        assert_eq!(value_text(&toml::Value::Float(2.5e-5)), "0.000025");
    }

    #[test]
    fn format_versions_older_read_newer_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("experiment.json");
        let old = r#"{"name":"x","description":"","source":"x.toml","grid_keys":[],"variants":[]}"#;
        std::fs::write(&path, old).unwrap();
        let m = Manifest::read(&path).unwrap().unwrap();
        assert_eq!(m.format, 1, "written before the version was recorded");
        let newer = old.replacen('{', &format!("{{\"format\":{},", FORMAT_VERSION + 1), 1);
        std::fs::write(&path, newer).unwrap();
        let err = Manifest::read(&path).unwrap_err().to_string();
        assert!(err.contains("newer anigan-runner"), "{err}");
        assert!(
            String::from_utf8(m.to_json())
                .unwrap()
                .contains(&format!("\"format\": {FORMAT_VERSION}")),
            "written with this build's version"
        );
    }
}
