//! Resolves an experiment file into validated variants: reads and layers every source, checks
//! every setting (all problems at once), expands the grid, and gives each variant its id.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::grid::Grid;
use super::keys;
use super::layers::{self, Origin, Setting};
use super::schema::Config;
use super::validate::{self, SAFE_NAME_RULE};
use crate::health::RollbackConfig;

/// Grid keys that cannot vary between the variants of one experiment.
const FIXED_KEYS: &[(&str, &str)] = &[
    (
        "experiment.name",
        "all variants share one results directory",
    ),
    (
        "experiment.epochs",
        "it is not part of the variant id; set it for the whole experiment",
    ),
    (
        "experiment.description",
        "it describes the whole experiment",
    ),
];

/// Everything wrong with an experiment's settings; exit code 2.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<String>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(
            f,
            "{n} problem{} in the experiment settings:",
            if n == 1 { "" } else { "s" }
        )?;
        for problem in &self.0 {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Inputs besides the file: environment variables and `--set` arguments.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub env: Vec<(String, String)>,
    pub sets: Vec<String>,
}

/// One point of the grid, fully resolved and validated.
#[derive(Debug, Clone)]
pub struct Variant {
    pub index: usize,
    /// `NNN-hash8`: index plus a hash of the resolved config (epochs and description excluded).
    pub id: String,
    /// The grid's values for this variant, as `key=value` pairs in grid order.
    pub grid_values: Vec<(String, toml::Value)>,
    pub config: Config,
}

#[derive(Debug, Clone)]
pub struct Experiment {
    pub file: PathBuf,
    pub name: String,
    pub grid_keys: Vec<String>,
    pub variants: Vec<Variant>,
}

/// Reads, layers, checks and expands `file`. Every problem found is reported together.
pub fn resolve(file: &Path, overrides: &Overrides) -> Result<Experiment, ConfigErrors> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        ConfigErrors(vec![format!(
            "cannot read experiment file {}: {e}",
            file.display()
        )])
    })?;
    let mut table = text
        .parse::<toml::Table>()
        .map_err(|e| ConfigErrors(vec![syntax_error(file, &text, &e)]))?;

    let mut problems = Vec::new();
    let grid = match table.remove("grid") {
        None => Grid::default(),
        Some(toml::Value::Table(t)) => Grid::parse(&t).unwrap_or_else(|p| {
            problems.extend(p.into_iter().map(|p| format!("{p} in {}", file.display())));
            Grid::default()
        }),
        Some(_) => {
            problems.push(format!(
                "`grid` must be a table ([grid]) in {}",
                file.display()
            ));
            Grid::default()
        }
    };

    let mut settings = layers::from_file(&table, file);
    settings.extend(layers::from_env(&overrides.env));
    let (sets, set_problems) = layers::from_sets(&overrides.sets);
    settings.extend(sets);
    problems.extend(set_problems);
    for setting in &settings {
        problems.extend(check_setting(setting));
    }

    let grid_keys = grid.keys();
    for key in &grid_keys {
        if let Some((_, why)) = FIXED_KEYS.iter().find(|(k, _)| k == key) {
            problems.push(format!(
                "[grid] cannot vary `{key}` ({why}) in {}",
                file.display()
            ));
        }
    }
    for setting in settings
        .iter()
        .filter(|s| !matches!(s.origin, Origin::File(_)))
    {
        if grid_keys.contains(&setting.key.as_str()) {
            problems.push(format!(
                "`{}` is set {} but [grid] varies it in {}; remove one of the two",
                setting.key,
                setting.origin,
                file.display()
            ));
        }
    }
    let points = grid.points();
    let mut checked = Vec::new();
    for (key, value, what) in points.iter().flatten() {
        if checked.contains(&(key, value)) {
            continue;
        }
        checked.push((key, value));
        problems.extend(check_setting(&grid_setting(file, key, value, what)));
    }

    let name = experiment_name(file, &settings, &mut problems);
    if !problems.is_empty() {
        problems.dedup();
        return Err(ConfigErrors(problems));
    }

    let mut variants = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, point) in points.iter().enumerate() {
        let mut layered = settings.clone();
        layered.extend(point.iter().map(|(k, v, w)| grid_setting(file, k, v, w)));
        let mut config = layers::extract(&layered).map_err(|e| ConfigErrors(vec![e]))?;
        config.experiment.name = name.clone();
        for problem in validate::check_combined(&config) {
            let problem = format!("{problem} in {}", file.display());
            if !problems.contains(&problem) {
                problems.push(problem);
            }
        }
        let hash = config_hash(&config);
        if let Some(first) = seen.insert(hash.clone(), index) {
            problems.push(format!(
                "variants {first} and {index} of {} resolve to the same settings; remove the duplicate from [grid]",
                file.display()
            ));
        }
        variants.push(Variant {
            index,
            id: format!("{index:03}-{hash}"),
            grid_values: point
                .iter()
                .map(|(k, v, _)| (k.clone(), v.clone()))
                .collect(),
            config,
        });
    }
    if !problems.is_empty() {
        return Err(ConfigErrors(problems));
    }
    Ok(Experiment {
        file: file.to_path_buf(),
        name,
        grid_keys: grid_keys.into_iter().map(String::from).collect(),
        variants,
    })
}

/// `[rollback]` settings from `--set rollback.KEY=VALUE` alone (for `replay`, which has no file).
pub fn resolve_rollback(sets: &[String]) -> Result<RollbackConfig, ConfigErrors> {
    let (settings, mut problems) = layers::from_sets(sets);
    for s in &settings {
        if s.key.starts_with("rollback.") {
            problems.extend(check_setting(s));
        } else {
            problems.push(format!(
                "`{}` {}: only rollback.* settings apply to a replay",
                s.key, s.origin
            ));
        }
    }
    if !problems.is_empty() {
        return Err(ConfigErrors(problems));
    }
    layers::extract(&settings)
        .map(|c| c.rollback)
        .map_err(|e| ConfigErrors(vec![e]))
}

fn grid_setting(file: &Path, key: &str, value: &toml::Value, what: &str) -> Setting {
    Setting {
        key: key.to_string(),
        value: value.clone(),
        origin: Origin::Grid {
            file: file.to_path_buf(),
            what: what.to_string(),
        },
    }
}

/// Problems of one setting on its own: unknown key, wrong type, or a broken range rule.
fn check_setting(s: &Setting) -> Vec<String> {
    let (key, origin) = (&s.key, &s.origin);
    if !keys::is_known(key) {
        let hint = if keys::is_section(key) {
            format!("; `{key}` is a section: set one of its keys, e.g. `{key}.KEY`")
        } else {
            keys::suggest(key)
                .map(|k| format!("; did you mean `{k}`?"))
                .unwrap_or_default()
        };
        return vec![format!("unknown key `{key}` {origin}{hint}")];
    }
    let got = &s.value;
    match layers::extract(std::slice::from_ref(s)) {
        Ok(config) => validate::check(&config)
            .into_iter()
            .map(|b| format!("{} {} (got {got}) {origin}", b.key, b.expected))
            .collect(),
        Err(_) if is_negative(got) => {
            // Unsigned keys reject negatives at the type level; show their range rule instead.
            let zeroed = Setting {
                value: toml::Value::Integer(0),
                ..s.clone()
            };
            let expected = layers::extract(&[zeroed])
                .ok()
                .and_then(|c| validate::check(&c).into_iter().next())
                .map_or("must be >= 0".to_string(), |b| b.expected);
            vec![format!("{key} {expected} (got {got}) {origin}")]
        }
        Err(reason) => vec![format!("{key}: {reason} {origin}")],
    }
}

fn is_negative(value: &toml::Value) -> bool {
    matches!(value, toml::Value::Integer(i) if *i < 0)
}

/// `experiment.name` as set, else the file's stem; must be a safe directory name.
fn experiment_name(file: &Path, settings: &[Setting], problems: &mut Vec<String>) -> String {
    let set = settings
        .iter()
        .rev()
        .find(|s| s.key == "experiment.name")
        .and_then(|s| s.value.as_str().map(String::from))
        .filter(|n| !n.is_empty());
    let name = set.clone().unwrap_or_else(|| {
        file.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    if set.is_none() && !validate::is_safe_dir_name(&name) {
        problems.push(format!(
            "the experiment's name defaults to the file name {name:?}, which {SAFE_NAME_RULE}; set experiment.name in {}",
            file.display()
        ));
    }
    name
}

/// A short stable hash of everything that shapes training (not epochs or description).
/// `eval.every` and `eval.samples` only change what is measured: they are left out, so that
/// they neither start new variants nor changed the ids of runs made before they existed.
pub fn config_hash(config: &Config) -> String {
    #[derive(serde::Serialize)]
    struct SampleOnly {
        sample_every: u32,
    }
    /// `Config`'s fields in its order, so the JSON equals what `Config` itself serializes to.
    #[derive(serde::Serialize)]
    struct Shaping<'a> {
        experiment: &'a super::schema::ExperimentSection,
        data: &'a super::schema::DataSection,
        model: &'a super::schema::ModelSection,
        train: serde_json::Value,
        checkpoint: &'a super::schema::CheckpointSection,
        rollback: &'a crate::health::RollbackConfig,
        eval: SampleOnly,
    }
    let mut experiment = config.experiment.clone();
    experiment.epochs = 0;
    experiment.description.clear();
    let mut train = serde_json::to_value(&config.train).expect("config serializes");
    if config.train.precision.is_fp32() {
        // The key came later: fp32 runs keep the ids they had before it.
        train.as_object_mut().expect("a table").remove("precision");
    }
    let shaping = Shaping {
        experiment: &experiment,
        data: &config.data,
        model: &config.model,
        train,
        checkpoint: &config.checkpoint,
        rollback: &config.rollback,
        eval: SampleOnly {
            sample_every: config.eval.sample_every,
        },
    };
    let json = serde_json::to_string(&shaping).expect("config serializes");
    blake3::hash(json.as_bytes()).to_hex()[..8].to_string()
}

/// `path:line:column: TOML syntax error: message`.
fn syntax_error(file: &Path, text: &str, e: &toml::de::Error) -> String {
    let (line, column) = e.span().map_or((1, 1), |span| {
        let before = &text[..span.start.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    });
    format!(
        "{}:{line}:{column}: TOML syntax error: {}",
        file.display(),
        e.message()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve_text(text: &str, sets: &[&str]) -> Result<Experiment, ConfigErrors> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("exp.toml");
        std::fs::write(&file, text).unwrap();
        let overrides = Overrides {
            env: Vec::new(),
            sets: sets.iter().map(|s| s.to_string()).collect(),
        };
        resolve(&file, &overrides)
    }

    fn ids(text: &str) -> Vec<String> {
        resolve_text(text, &[])
            .unwrap()
            .variants
            .into_iter()
            .map(|v| v.id)
            .collect()
    }

    #[test]
    fn ids_are_index_and_hash() {
        let ids = ids("[grid]\n\"train.lr_d\" = [1e-4, 2e-4]");
        assert_eq!(ids.len(), 2);
        assert!(ids[0].starts_with("000-") && ids[1].starts_with("001-"));
        assert_eq!(ids[0].len(), 12);
        assert_ne!(ids[0][4..], ids[1][4..]);
    }

    #[test]
    fn appending_a_variant_keeps_earlier_ids() {
        let before = ids("[grid]\n\"train.lr_d\" = [1e-4, 2e-4]\n\"train.p0\" = [0.9]");
        let after = ids("[grid]\n\"train.lr_d\" = [1e-4, 2e-4, 3e-4]\n\"train.p0\" = [0.9]");
        assert_eq!(before[..], after[..2]);
        let included = ids(
            "[grid]\n\"train.lr_d\" = [1e-4, 2e-4]\n\"train.p0\" = [0.9]\n\
             [[grid.include]]\n\"train.lr_d\" = 5e-4",
        );
        assert_eq!(before[..], included[..2]);
    }

    #[test]
    fn epochs_and_description_do_not_change_ids() {
        let a = ids("[experiment]\nepochs = 5");
        let b = ids("[experiment]\nepochs = 50\ndescription = \"longer\"");
        assert_eq!(a, b);
        assert_ne!(a, ids("[experiment]\nseed = 1"));
    }

    #[test]
    fn layers_apply_in_order() {
        let e = resolve_text("[train]\nlr_d = 1e-3\np0 = 0.9", &["train.p0=0.5"]).unwrap();
        let t = &e.variants[0].config.train;
        assert_eq!((t.lr_d, t.p0), (1e-3, 0.5));
        assert_eq!(e.name, "exp", "name defaults to the file stem");
    }

    #[test]
    fn grid_values_override_the_base() {
        let e = resolve_text("[train]\nlr_d = 1e-3\n[grid]\n\"train.lr_d\" = [5e-4]", &[]).unwrap();
        assert_eq!(e.variants[0].config.train.lr_d, 5e-4);
    }

    #[test]
    fn set_on_a_grid_key_is_an_error() {
        let err =
            resolve_text("[grid]\n\"train.lr_d\" = [5e-4]", &["train.lr_d=1e-4"]).unwrap_err();
        assert!(err.0[0].contains("[grid] varies it"), "{err}");
    }

    #[test]
    fn section_given_a_value() {
        let err = resolve_text("train = 3", &[]).unwrap_err();
        assert!(err.0[0].contains("`train` is a section"), "{err}");
    }
}
