//! The set of known keys (read off the defaults) and "did you mean" suggestions for unknown ones.

use std::sync::OnceLock;

use super::layers::leaves;
use super::schema::Config;

/// Every settable dotted key with its default value, in schema order.
pub fn known() -> &'static [(String, toml::Value)] {
    static KNOWN: OnceLock<Vec<(String, toml::Value)>> = OnceLock::new();
    KNOWN.get_or_init(|| {
        let toml::Value::Table(table) =
            toml::Value::try_from(Config::default()).expect("defaults serialize")
        else {
            unreachable!("Config serializes to a table")
        };
        leaves(&table, "")
    })
}

pub fn is_known(key: &str) -> bool {
    known().iter().any(|(k, _)| k == key)
}

/// Does `key`'s setting take whole numbers only (its default is an integer)?
pub fn takes_whole_numbers(key: &str) -> bool {
    known().iter().any(|(k, v)| k == key && v.is_integer())
}

/// Does `key`'s setting take text (its default is a string: names, paths, choices)?
pub fn takes_text(key: &str) -> bool {
    known().iter().any(|(k, v)| k == key && v.is_str())
}

/// Names other tools use for our keys.
const ALIASES: &[(&str, &str)] = &[
    ("learning_rate", "lr_d"),
    ("lr", "lr_d"),
    ("batch", "batch_size"),
    ("batchsize", "batch_size"),
    ("noise", "label_noise"),
    ("threshold", "p0"),
    ("early_stop", "p0"),
    ("nz", "z_dim"),
    ("latent_dim", "z_dim"),
    ("ngf", "g_width"),
    ("ndf", "d_width"),
    ("size", "image_size"),
    ("n_epochs", "epochs"),
    ("num_epochs", "epochs"),
];

/// The known key most likely meant by `unknown`, if any is close.
pub fn suggest(unknown: &str) -> Option<String> {
    let (section, leaf) = unknown.rsplit_once('.').unwrap_or(("", unknown));
    let leaf = ALIASES
        .iter()
        .find(|(alias, _)| *alias == leaf)
        .map_or(leaf, |(_, real)| real);
    let keys = || known().iter().map(|(k, _)| k.as_str());
    // Alias or misplaced key: the same leaf in this section, else in any section.
    let same_leaf = |k: &&str| k.rsplit_once('.').map(|(_, l)| l) == Some(leaf);
    if let Some(k) = keys().filter(same_leaf).find(|k| k.starts_with(section)) {
        return Some(k.to_string());
    }
    if let Some(k) = keys().find(same_leaf) {
        return Some(k.to_string());
    }
    // Close by name, not by path: a shared `rollback.` would make `rollback.zzz` look like
    // `rollback.eps`. Among equally close names, the path most alike wins.
    let candidate = format!("{section}.{leaf}");
    let name_of = |k: &str| k.rsplit_once('.').map_or(k, |(_, l)| l).to_string();
    // A close name in the section written wins over a closer one elsewhere (`train.lr_x` is
    // `train.lr_d`, not `rollback.lr_max`).
    let in_section = |k: &&str| k.rsplit_once('.').map(|(s, _)| s) == Some(section);
    let closest = |here: bool| {
        keys()
            .filter(|k| !here || in_section(k))
            .map(|k| {
                let name = strsim::jaro_winkler(leaf, &name_of(k));
                (name, strsim::jaro_winkler(&candidate, k), k)
            })
            .filter(|(name, _, _)| *name > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)))
            .map(|(_, _, k)| k.to_string())
    };
    closest(true).or_else(|| closest(false))
}

/// Is `key` a section (a prefix of known keys) rather than a key?
pub fn is_section(key: &str) -> bool {
    let prefix = format!("{key}.");
    known().iter().any(|(k, _)| k.starts_with(&prefix))
}

/// The sections directly under `parent` (`""`: the top level), in schema order.
fn sections_under(parent: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (key, _) in known() {
        let Some(rest) = (if parent.is_empty() {
            Some(key.as_str())
        } else {
            key.strip_prefix(parent).and_then(|r| r.strip_prefix('.'))
        }) else {
            continue;
        };
        if let Some((name, _)) = rest.split_once('.') {
            let section = if parent.is_empty() {
                name.to_string()
            } else {
                format!("{parent}.{name}")
            };
            if !out.contains(&section) {
                out.push(section);
            }
        }
    }
    out
}

/// The hint for a table at `path` that is neither a section nor a key (`[serach]`, `[trian]`),
/// after "unknown section": the section of its level most likely meant (`extra` are more
/// top-level sections, `grid` and `search` for the file), else the key, else the sections there.
/// `shown` is how sections are written in the message (`"grid."` for a table inside [grid]).
pub fn unknown_section_hint(path: &str, extra: &[&str], shown: &str) -> String {
    let (parent, name) = path.rsplit_once('.').unwrap_or(("", path));
    let mut candidates = sections_under(parent);
    if parent.is_empty() {
        candidates.extend(extra.iter().map(|s| s.to_string()));
    }
    let close = candidates
        .iter()
        // Names, not paths: a shared `rollback.` would make any two look alike.
        .map(|c| {
            let leaf = c.rsplit_once('.').map_or(c.as_str(), |(_, l)| l);
            (strsim::jaro_winkler(name, leaf), c)
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c);
    if let Some(section) = close {
        return format!("; did you mean `[{shown}{section}]`?");
    }
    // A key only for a name like its own (or an alias of it), not for a shared section.
    let like_its_name = |key: &String| {
        let leaf = key.rsplit_once('.').map_or(key.as_str(), |(_, l)| l);
        ALIASES.iter().any(|(a, real)| *a == name && *real == leaf)
            || strsim::jaro_winkler(name, leaf) > 0.8
    };
    if let Some(key) = suggest(path).filter(like_its_name) {
        return format!("; did you mean the key `{key}`?");
    }
    let list: Vec<String> = candidates.iter().map(|c| format!("[{shown}{c}]")).collect();
    match (parent, list.as_slice()) {
        ("", _) => format!("; the sections are {}", list.join(", ")),
        (_, []) => format!("; [{shown}{parent}] has keys, no sections"),
        (_, _) => format!(
            "; the sections of [{shown}{parent}] are {}",
            list.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_keys_come_from_the_schema() {
        for key in [
            "train.lr_d",
            "train.betas",
            "experiment.epochs",
            "data.image_size",
        ] {
            assert!(is_known(key), "{key}");
        }
        assert!(!is_known("train"));
        assert!(is_section("train"));
    }

    #[test]
    fn suggestions() {
        let cases = [
            ("train.learning_rate", Some("train.lr_d"), "alias"),
            ("train.lr_dd", Some("train.lr_d"), "typo"),
            ("train.image_size", Some("data.image_size"), "wrong section"),
            ("train.bach_size", Some("train.batch_size"), "typo"),
            ("model.ndf", Some("model.d_width"), "pytorch example name"),
            ("zzz.qqq", None, "nothing close"),
            (
                "rollback.zzz",
                None,
                "a known section alone is not closeness",
            ),
            ("train.lr", Some("train.lr_d"), "a shortened name"),
            (
                "train.lr_x",
                Some("train.lr_d"),
                "the section written first",
            ),
            (
                "trian.bach_size",
                Some("train.batch_size"),
                "typos in section and name",
            ),
        ];
        for (unknown, expected, reason) in cases {
            assert_eq!(suggest(unknown).as_deref(), expected, "{reason}");
        }
    }

    #[test]
    fn unknown_sections_name_the_section_meant() {
        let extra = ["grid", "search"];
        let rows = [
            (
                "serach",
                "",
                "did you mean `[search]`?",
                "a section read apart",
            ),
            ("gird", "", "did you mean `[grid]`?", "letters swapped"),
            ("trian", "", "did you mean `[train]`?", "a settings section"),
            (
                "tensorbaord",
                "",
                "did you mean `[tensorboard]`?",
                "a long name",
            ),
            (
                "rollback.g_falure",
                "",
                "did you mean `[rollback.g_failure]`?",
                "a nested section, among its level's",
            ),
            (
                "trian",
                "grid.",
                "did you mean `[grid.train]`?",
                "inside [grid]",
            ),
            (
                "train.lr",
                "",
                "did you mean the key `train.lr_d`?",
                "a key's alias as a table",
            ),
            (
                "zzz",
                "",
                "the sections are [experiment], ",
                "nothing close: the sections",
            ),
            (
                "train.zzz",
                "",
                "[train] has keys, no sections",
                "a level without sections",
            ),
            (
                "rollback.zzz",
                "",
                "the sections of [rollback] are [rollback.g_failure], ",
                "a shared `rollback.` is no likeness",
            ),
        ];
        for (path, shown, want, reason) in rows {
            let hint = unknown_section_hint(path, &extra, shown);
            assert!(hint.contains(want), "{reason}: {hint}");
        }
    }
}

#[cfg(test)]
mod documentation {
    use super::known;

    /// experiments/README.md documents every key (per-kind rollback keys as `rollback.<kind>.KEY`).
    #[test]
    fn every_key_is_documented() {
        let doc = include_str!("../../experiments/README.md");
        let missing: Vec<&str> = known()
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| {
                let generic = crate::health::Kind::ALL
                    .iter()
                    .fold(k.to_string(), |k, kind| {
                        k.replace(&format!("rollback.{kind}."), "rollback.<kind>.")
                    });
                !doc.contains(&format!("`{generic}`"))
            })
            .collect();
        assert!(missing.is_empty(), "undocumented keys: {missing:?}");
    }
}
