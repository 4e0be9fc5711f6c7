//! Where settings come from: the file, `ANIGAN_<SECTION>__<KEY>` variables and `--set`, as
//! flat (dotted key, value, origin) settings, layered over the defaults with figment.

use std::fmt;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::Serialized;

use super::keys;
use super::schema::Config;

/// Environment variables with this prefix (and a `__` between section and key) set keys.
pub const ENV_PREFIX: &str = "ANIGAN_";

/// Where one setting was written, for error messages.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    File(PathBuf),
    Grid { file: PathBuf, what: String },
    Env(String),
    Set(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(path) => write!(f, "in {}", path.display()),
            Origin::Grid { file, what } => write!(f, "in {} {what}", file.display()),
            Origin::Env(var) => write!(f, "in environment variable {var}"),
            Origin::Set(arg) => write!(f, "in --set {arg}"),
        }
    }
}

/// One setting: a dotted key path and its value.
#[derive(Debug, Clone)]
pub struct Setting {
    pub key: String,
    pub value: toml::Value,
    pub origin: Origin,
}

/// `prefix.key`, or `key` at the top.
fn dotted(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Flattens nested tables into dotted leaves; arrays are leaves (e.g. `train.betas`).
pub fn leaves(table: &toml::Table, prefix: &str) -> Vec<(String, toml::Value)> {
    let mut out = Vec::new();
    for (key, value) in table {
        let path = dotted(prefix, key);
        match value {
            toml::Value::Table(inner) if !inner.is_empty() => out.extend(leaves(inner, &path)),
            _ => out.push((path, value.clone())),
        }
    }
    out
}

/// Dotted leaves of `table` read as settings, and the tables that name neither a section nor a
/// key (`[serach]`), each once and with nothing under it read: one misspelt section is one
/// problem, not one per key under it. A section is entered even when empty (`[train]` with its
/// keys commented out sets nothing, so its keys keep their defaults); a table at a key
/// (`lr_d = {}`) is that key's value, for its type check.
pub fn setting_leaves(
    table: &toml::Table,
    prefix: &str,
) -> (Vec<(String, toml::Value)>, Vec<String>) {
    let (mut out, mut unknown) = (Vec::new(), Vec::new());
    for (key, value) in table {
        let path = dotted(prefix, key);
        match value {
            toml::Value::Table(inner) if keys::is_section(&path) => {
                let (more, unknown_more) = setting_leaves(inner, &path);
                out.extend(more);
                unknown.extend(unknown_more);
            }
            toml::Value::Table(_) if !keys::is_known(&path) => unknown.push(path),
            _ => out.push((path, value.clone())),
        }
    }
    (out, unknown)
}

/// Settings from the file's table (without `[grid]` and `[search]`), and a problem for each
/// table that names no section.
pub fn from_file(table: &toml::Table, file: &Path) -> (Vec<Setting>, Vec<String>) {
    let (found, unknown) = setting_leaves(table, "");
    let settings = found
        .into_iter()
        .map(|(key, value)| Setting {
            key,
            value,
            origin: Origin::File(file.to_path_buf()),
        })
        .collect();
    let problems = unknown
        .iter()
        .map(|path| {
            format!(
                "unknown section `[{path}]` in {}{}",
                file.display(),
                keys::unknown_section_hint(path, &["grid", "search"], "")
            )
        })
        .collect();
    (settings, problems)
}

/// Settings from `ANIGAN_SECTION__KEY=value` variables (`__` separates path segments), and a
/// problem for each `ANIGAN_` variable without `__`: it names no setting, so it is most likely
/// a misspelt one (`ANIGAN_TRAIN_LR_G`), which would otherwise change nothing without a word.
pub fn from_env(vars: &[(String, String)]) -> (Vec<Setting>, Vec<String>) {
    let (mut settings, mut problems) = (Vec::new(), Vec::new());
    for (name, raw) in vars {
        let Some(path) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        if path.contains("__") {
            let key = path.to_ascii_lowercase().replace("__", ".");
            settings.push(Setting {
                value: parse_value_for(&key, raw),
                key,
                origin: Origin::Env(name.clone()),
            });
        } else {
            problems.push(unnamed_env_setting(name, path));
        }
    }
    (settings, problems)
}

/// The problem of `ANIGAN_<path>` without `__`, with the variable most likely meant.
fn unnamed_env_setting(name: &str, path: &str) -> String {
    let flat = path.to_ascii_lowercase();
    let meant = super::keys::known()
        .iter()
        .map(|(k, _)| k.as_str())
        .find(|k| k.replace('.', "_") == flat)
        .map(str::to_string)
        .or_else(|| super::keys::suggest(&flat.replacen('_', ".", 1)));
    let hint = match meant {
        Some(key) => format!(
            "; did you mean {ENV_PREFIX}{} (`{key}`)?",
            key.to_ascii_uppercase().replace('.', "__")
        ),
        None => "; unset it".to_string(),
    };
    format!(
        "environment variable {name} names no setting: a setting's variable is \
         {ENV_PREFIX}<SECTION>__<KEY>, with two underscores between section and key{hint}"
    )
}

/// The `ANIGAN_*` variables among `vars` (the process environment), and a problem for each one
/// whose name or value is not UTF-8. Other variables are skipped unread.
pub fn env_vars(
    vars: impl Iterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
) -> (Vec<(String, String)>, Vec<String>) {
    let (mut found, mut problems) = (Vec::new(), Vec::new());
    for (name, value) in vars {
        if !name.as_encoded_bytes().starts_with(ENV_PREFIX.as_bytes()) {
            continue;
        }
        match (name.to_str(), value.to_str()) {
            (Some(n), Some(v)) => found.push((n.to_string(), v.to_string())),
            _ => problems.push(format!(
                "environment variable {} has a value that is not UTF-8 text ({}); set it again \
                 as text or unset it",
                name.to_string_lossy(),
                value.to_string_lossy()
            )),
        }
    }
    (found, problems)
}

/// Settings from `--set KEY=VALUE` arguments, and a problem for each argument of another shape,
/// showing `example` (a `KEY=VALUE` the command takes: replay takes only rollback.* keys).
pub fn from_sets(args: &[String], example: &str) -> (Vec<Setting>, Vec<String>) {
    let mut settings = Vec::new();
    let mut problems = Vec::new();
    for arg in args {
        match arg.split_once('=') {
            Some((key, raw)) if !key.trim().is_empty() => settings.push(Setting {
                key: key.trim().to_string(),
                value: parse_value_for(key.trim(), raw.trim()),
                origin: Origin::Set(arg.clone()),
            }),
            // A key alone (`--set train.lr_g`): the same key with a value is what was meant.
            None if is_key(arg) => problems.push(format!(
                "--set {arg:?} is not KEY=VALUE: it has no value; write --set {arg}=VALUE \
                 (e.g. --set {example})"
            )),
            _ => problems.push(format!(
                "--set {arg:?} is not KEY=VALUE; write e.g. --set {example}"
            )),
        }
    }
    (settings, problems)
}

/// Whether `text` reads as a dotted settings key (`train.lr_g`), not some other word.
fn is_key(text: &str) -> bool {
    text.split_once('.').is_some_and(|(section, key)| {
        [section, key].iter().all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        })
    })
}

/// The value of `--set key=raw` or a variable for `key`: for a setting that takes text (a name,
/// a path, a choice) the text itself, unquoted when written as a TOML string, so that
/// `experiment.name=2024-12-07`, `=1234` or `=nan` is a name, not a date or a number; for
/// others `parse_value`.
pub fn parse_value_for(key: &str, raw: &str) -> toml::Value {
    match parse_value(raw) {
        toml::Value::String(text) => toml::Value::String(text),
        _ if super::keys::takes_text(key) => toml::Value::String(raw.to_string()),
        other => other,
    }
}

/// A value as TOML would read it (`1e-4`, `true`, `[0.5, 0.9]`, `"x"`); anything else is a string,
/// so `--set model.arch=dcgan` needs no quotes.
pub fn parse_value(raw: &str) -> toml::Value {
    format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

/// Defaults with `settings` merged in order (later wins).
pub fn figment(settings: &[Setting]) -> Figment {
    settings.iter().fold(
        Figment::from(Serialized::defaults(Config::default())),
        |fig, s| fig.merge((s.key.as_str(), &s.value)),
    )
}

/// The typed config of defaults overlaid with `settings`, or figment's reason it does not fit.
pub fn extract(settings: &[Setting]) -> Result<Config, String> {
    figment(settings)
        .extract::<Config>()
        .map_err(|e| describe(&e.kind))
}

fn describe(kind: &figment::error::Kind) -> String {
    use figment::error::Kind;
    match kind {
        Kind::UnknownVariant(found, expected) => format!(
            "unknown value {found:?}; expected one of {}",
            expected
                .iter()
                .map(|e| format!("{e:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_like_toml_and_fall_back_to_strings() {
        assert_eq!(parse_value("1e-4"), toml::Value::Float(1e-4));
        assert_eq!(parse_value("3"), toml::Value::Integer(3));
        assert_eq!(parse_value("true"), toml::Value::Boolean(true));
        assert_eq!(parse_value("dcgan"), toml::Value::String("dcgan".into()));
        assert_eq!(parse_value("\"a b\""), toml::Value::String("a b".into()));
        assert!(matches!(parse_value("[0.5, 0.9]"), toml::Value::Array(_)));
    }

    #[test]
    fn text_settings_take_the_text_as_written() {
        let rows = [
            (
                "experiment.name",
                "2024-12-07",
                "2024-12-07",
                "a date is a name",
            ),
            ("experiment.name", "1234", "1234", "a number is a name"),
            ("experiment.name", "nan", "nan", "not a float"),
            ("experiment.description", "true", "true", "not a boolean"),
            (
                "experiment.name",
                "\"quoted\"",
                "quoted",
                "a TOML string is unquoted",
            ),
            ("model.arch", "dcgan", "dcgan", "a choice"),
        ];
        for (key, raw, want, why) in rows {
            assert_eq!(
                parse_value_for(key, raw),
                toml::Value::String(want.into()),
                "{why}"
            );
        }
        assert_eq!(
            parse_value_for("train.lr_d", "1e-4"),
            toml::Value::Float(1e-4)
        );
        assert_eq!(
            parse_value_for("experiment.epochs", "3"),
            toml::Value::Integer(3)
        );
    }

    #[test]
    fn env_vars_map_to_dotted_keys() {
        let vars = vec![
            ("ANIGAN_TRAIN__LR_D".to_string(), "1e-4".to_string()),
            ("ANIGAN_UNRELATED".to_string(), "x".to_string()),
            ("PATH".to_string(), "/bin".to_string()),
        ];
        let (settings, _) = from_env(&vars);
        assert_eq!(settings.len(), 1);
        assert_eq!(settings[0].key, "train.lr_d");
        assert_eq!(settings[0].value, toml::Value::Float(1e-4));
    }

    #[test]
    fn an_anigan_variable_without_a_key_names_the_one_meant() {
        let vars = |name: &str| vec![(name.to_string(), "1e-4".to_string())];
        let rows = [
            (
                "ANIGAN_TRAIN_LR_G",
                "ANIGAN_TRAIN__LR_G (`train.lr_g`)",
                "one underscore",
            ),
            (
                "ANIGAN_TRAIN_LRD",
                "ANIGAN_TRAIN__LR_D",
                "a typo in the key too",
            ),
            ("ANIGAN_NOTHING", "unset it", "nothing close"),
        ];
        for (name, want, why) in rows {
            let (settings, problems) = from_env(&vars(name));
            assert!(settings.is_empty(), "{why}");
            assert_eq!(problems.len(), 1, "{why}");
            assert!(
                problems[0].contains(name) && problems[0].contains(want),
                "{why}: {}",
                problems[0]
            );
        }
    }

    #[test]
    fn env_vars_skip_others_and_report_bad_anigan_values() {
        use std::ffi::OsString;
        use std::os::unix::ffi::OsStringExt;
        let bad = || OsString::from_vec(b"caf\xe9".to_vec());
        let vars = vec![
            (OsString::from("LANG_LEGACY"), bad()),
            (OsString::from("ANIGAN_TRAIN__LR_D"), OsString::from("1e-4")),
            (OsString::from("ANIGAN_TRAIN__P0"), bad()),
        ];
        let (found, problems) = env_vars(vars.into_iter());
        assert_eq!(
            found,
            [("ANIGAN_TRAIN__LR_D".to_string(), "1e-4".to_string())]
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("ANIGAN_TRAIN__P0"), "{problems:?}");
    }

    #[test]
    fn later_layers_win() {
        let file = Setting {
            key: "train.lr_d".into(),
            value: toml::Value::Float(1e-3),
            origin: Origin::File("x.toml".into()),
        };
        let set = Setting {
            key: "train.lr_d".into(),
            value: toml::Value::Float(5e-5),
            origin: Origin::Set("train.lr_d=5e-5".into()),
        };
        assert_eq!(extract(&[file.clone(), set]).unwrap().train.lr_d, 5e-5);
        assert_eq!(extract(&[file]).unwrap().train.lr_d, 1e-3);
    }

    #[test]
    fn integers_are_accepted_for_floats() {
        let s = Setting {
            key: "train.p0".into(),
            value: toml::Value::Integer(1),
            origin: Origin::Set("train.p0=1".into()),
        };
        assert_eq!(extract(&[s]).unwrap().train.p0, 1.0);
    }
}
