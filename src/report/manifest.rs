//! `experiment.json`: what an experiment plans to run, written by `run` before training so a
//! report can list the variants that never started.

use std::path::Path;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::config::Experiment;
use crate::fsx;

pub const FILE: &str = "experiment.json";

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Manifest {
    pub name: String,
    pub description: String,
    pub source: String,
    pub grid_keys: Vec<String>,
    pub variants: Vec<PlannedVariant>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct PlannedVariant {
    pub index: usize,
    pub id: String,
    /// `[key, value]` pairs in grid order; strings without TOML quotes.
    pub grid: Vec<(String, String)>,
    /// Planned epochs (for `status` of variants not started yet); 0 in older manifests.
    #[serde(default)]
    pub epochs: u32,
}

impl Manifest {
    pub fn of(experiment: &Experiment) -> Manifest {
        Manifest {
            name: experiment.name.clone(),
            description: experiment
                .variants
                .first()
                .map(|v| v.config.experiment.description.clone())
                .unwrap_or_default(),
            source: experiment.file.display().to_string(),
            grid_keys: experiment.grid_keys.clone(),
            variants: experiment
                .variants
                .iter()
                .map(|v| PlannedVariant {
                    index: v.index,
                    id: v.id.clone(),
                    grid: v
                        .grid_values
                        .iter()
                        .map(|(k, val)| (k.clone(), value_text(val)))
                        .collect(),
                    epochs: v.config.experiment.epochs,
                })
                .collect(),
        }
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut json = serde_json::to_vec_pretty(self).expect("manifest serializes");
        json.push(b'\n');
        json
    }

    pub fn read(path: &Path) -> Result<Option<Manifest>> {
        fsx::read_json(path, "experiment manifest")
    }
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
}
