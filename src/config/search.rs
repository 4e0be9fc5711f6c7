//! `[search]`: settings drawn from ranges instead of listed. `trials` points of a seeded
//! sequence (scrambled Halton, or independent random draws), each giving a value to every
//! sampled key; the grid is repeated for every trial, trial slowest, so raising `trials`
//! appends variants and keeps every earlier id.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use super::grid::Point;
use super::keys;
use super::layers::{Origin, Setting};

/// Distribution names, as written in `distribution = "..."`.
pub const DISTRIBUTIONS: [&str; 4] = ["uniform", "log_uniform", "int", "choice"];

/// The section's own fields; every other entry is a key to draw.
const FIELDS: [&str; 3] = ["method", "trials", "seed"];

/// A key to draw, as the messages show one.
const EXAMPLE: &str =
    "\"train.lr_d\" = { distribution = \"log_uniform\", low = 1e-4, high = 1e-3 }";

/// Significant digits a drawn float is rounded to unless its key sets `digits`: a learning
/// rate reads 0.000347, not 0.00034721893340. The rounded value is the one trained with.
pub const DEFAULT_DIGITS: u32 = 3;

/// Values of an `int` range checked one by one against the key's rules; a longer range has
/// its ends and its drawn values checked.
const CHECK_EVERY_INT_UP_TO: i128 = 1000;

/// How the points are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Owen's scrambled Halton sequence (`sequence::Halton`): few trials cover the ranges
    /// evenly.
    Halton,
    /// Independent uniform draws (ChaCha20), one stream per draw.
    Random,
}

impl Method {
    fn parse(name: &str) -> Result<Method, String> {
        match name {
            "halton" => Ok(Method::Halton),
            "random" => Ok(Method::Random),
            other => Err(format!(
                "[search] method {other:?} is unknown; expected \"halton\" (scrambled Halton, \
                 the default{}) or \"random\"",
                if other.eq_ignore_ascii_case("sobol") {
                    "; experiments/README.md says why not Sobol"
                } else {
                    ""
                }
            )),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Method::Halton => "halton",
            Method::Random => "random",
        })
    }
}

/// Where one key's values come from. A unit draw u in [0, 1) becomes a value by `value`.
#[derive(Debug, Clone, PartialEq)]
pub enum Dist {
    /// `low (1 - u) + high u`, rounded to `digits` significant digits, within [low, high].
    Uniform { low: f64, high: f64, digits: u32 },
    /// `exp(ln low + u (ln high - ln low))`: every decade equally likely; rounded likewise.
    LogUniform { low: f64, high: f64, digits: u32 },
    /// One of low, low + step, ..., high, equally likely.
    Int { low: i64, high: i64, step: i64 },
    /// One of the listed values, equally likely.
    Choice(Vec<toml::Value>),
}

impl Dist {
    /// The value for the unit draw `u`.
    pub fn value(&self, u: f64) -> toml::Value {
        match self {
            Dist::Uniform { low, high, digits } => {
                // Weighted so that no intermediate overflows, even for ends near f64::MAX.
                let x = low * (1.0 - u) + high * u;
                toml::Value::Float(round_within(x, *digits, *low, *high))
            }
            Dist::LogUniform { low, high, digits } => {
                // libm (a Rust port of musl's) rather than the platform's: the same bits on
                // every machine.
                let (a, b) = (libm::log(*low), libm::log(*high));
                toml::Value::Float(round_within(
                    libm::exp(a + u * (b - a)),
                    *digits,
                    *low,
                    *high,
                ))
            }
            Dist::Int { low, step, .. } => {
                let i = pick(u, self.count().expect("an int range is finite"));
                toml::Value::Integer((i128::from(*low) + i as i128 * i128::from(*step)) as i64)
            }
            Dist::Choice(values) => values[pick(u, values.len() as u128) as usize].clone(),
        }
    }

    /// How many distinct values it has; None for a continuous range.
    fn count(&self) -> Option<u128> {
        match self {
            Dist::Int { low, high, step } => {
                Some(((i128::from(*high) - i128::from(*low)) / i128::from(*step) + 1) as u128)
            }
            // Distinct values: a value listed twice is its own problem, reported beside this.
            Dist::Choice(values) => Some(
                values
                    .iter()
                    .enumerate()
                    .filter(|(i, v)| !values[..*i].contains(v))
                    .count() as u128,
            ),
            _ => None,
        }
    }

    /// The values checked against the key's rules before drawing, with a name for each:
    /// a range's ends (all of a range's values lie between them; the rules of number keys are
    /// intervals), every value of a short int range (an interval rule holds for both ends of
    /// 16..64 but `data.image_size`'s power-of-two rule does not hold for 48), every choice.
    fn candidates(&self) -> Vec<(toml::Value, String)> {
        let ends = |low: toml::Value, high: toml::Value| {
            vec![(low, "low".to_string()), (high, "high".to_string())]
        };
        match self {
            Dist::Uniform { low, high, .. } | Dist::LogUniform { low, high, .. } => {
                ends(toml::Value::Float(*low), toml::Value::Float(*high))
            }
            Dist::Int { low, high, step } => {
                let n = self.count().unwrap_or(0) as i128;
                if n <= CHECK_EVERY_INT_UP_TO {
                    (0..n)
                        .map(|i| {
                            let v = (i128::from(*low) + i * i128::from(*step)) as i64;
                            (toml::Value::Integer(v), format!("value {v}"))
                        })
                        .collect()
                } else {
                    ends(toml::Value::Integer(*low), toml::Value::Integer(*high))
                }
            }
            Dist::Choice(values) => values
                .iter()
                .enumerate()
                .map(|(i, v)| (v.clone(), format!("values[{i}]")))
                .collect(),
        }
    }

    fn draws_floats(&self) -> bool {
        matches!(self, Dist::Uniform { .. } | Dist::LogUniform { .. })
    }
}

/// `floor(u n)`, kept below n (u < 1, but u n may round up to n).
fn pick(u: f64, n: u128) -> u128 {
    ((u * n as f64) as u128).min(n - 1)
}

/// `x` rounded to `digits` significant digits, then kept within [low, high] (rounding may step
/// past an end). Rust's own decimal formatting and parsing do the rounding: exact and the same
/// everywhere, unlike `log10` and `powi`.
fn round_within(x: f64, digits: u32, low: f64, high: f64) -> f64 {
    let text = format!("{:.*e}", digits.saturating_sub(1) as usize, x);
    text.parse::<f64>().unwrap_or(x).clamp(low, high)
}

/// A `[search]` section: how to draw, how many, and the keys with their distributions in file
/// order (the order of the sequence's dimensions).
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    pub method: Method,
    pub trials: usize,
    /// Overrides `experiment.seed` for the draws (so the training seed can change alone).
    pub seed: Option<u64>,
    pub keys: Vec<(String, Dist)>,
}

/// What a resolved experiment drew: for `--dry-run` and the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampled {
    pub method: Method,
    pub trials: usize,
    pub seed: u64,
    pub keys: Vec<String>,
    /// The keys of `keys` drawn `log_uniform`: a chart of them wants a log axis.
    pub log_keys: Vec<String>,
}

impl fmt::Display for Sampled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} trial{} ({}, seed {}) of {}",
            self.trials,
            if self.trials == 1 { "" } else { "s" },
            self.method,
            self.seed,
            self.keys.join(" x ")
        )
    }
}

impl Search {
    /// Reads the `[search]` table, with every shape problem (not just the first). With
    /// problems, the search holds the keys that did parse (1 trial if `trials` did not), so
    /// their values can still be checked and all problems reported at once; it must not be
    /// drawn from.
    pub fn parse(table: &toml::Table) -> (Search, Vec<String>) {
        let mut problems = Vec::new();
        let mut method = Method::Halton;
        let mut trials = None;
        let mut seed = None;
        let mut keys = Vec::new();
        let mut misspelt_trials = false;
        for (name, value) in table {
            // `method`, `trials` and `seed` are the section's own fields; every other entry is a
            // sampled key (settings always have a section, so the names cannot clash).
            match name.as_str() {
                "method" => match value.as_str().map(Method::parse) {
                    Some(Ok(m)) => method = m,
                    Some(Err(e)) => problems.push(e),
                    None => problems.push(format!(
                        "[search] method must be \"halton\" or \"random\" (got {value})"
                    )),
                },
                "trials" => match value.as_integer() {
                    Some(n) if n >= 1 => trials = Some(usize::try_from(n).unwrap_or(usize::MAX)),
                    _ => problems.push(format!(
                        "[search] trials must be a whole number >= 1, the points to draw (got {value})"
                    )),
                },
                "seed" => match value.as_integer() {
                    Some(n) if n >= 0 => seed = Some(n as u64),
                    _ => problems.push(format!(
                        "[search] seed must be a whole number >= 0 (got {value})"
                    )),
                },
                // Settings always have a section, so a plain value under a name without a dot
                // can only be one of the section's own fields, misspelt.
                _ if !name.contains('.') && !value.is_table() => {
                    let meant = FIELDS
                        .iter()
                        .map(|f| (strsim::jaro_winkler(name, f), *f))
                        .filter(|(score, _)| *score > 0.8)
                        .max_by(|a, b| a.0.total_cmp(&b.0))
                        .map(|(_, f)| f);
                    misspelt_trials |= meant == Some("trials");
                    problems.push(match meant {
                        Some(field) => {
                            format!("[search] has no field `{name}`; did you mean `{field}`?")
                        }
                        None => format!(
                            "[search] has no field `{name}`: its fields are {}, and a key to \
                             draw is a dotted setting ({EXAMPLE})",
                            FIELDS.join(", ")
                        ),
                    });
                }
                _ => collect(name, value, &mut keys, &mut problems),
            }
        }
        // A misspelt `trials` is reported as such, not again as missing.
        let no_trials = trials.is_none() && !table.contains_key("trials") && !misspelt_trials;
        if no_trials && keys.is_empty() && problems.is_empty() {
            problems.push(format!(
                "[search] has neither `trials = N` nor a key to draw: give it both (trials = 8 \
                 and {EXAMPLE}), or remove [search]"
            ));
        } else {
            if no_trials {
                problems
                    .push("[search] needs `trials = N`, the number of points to draw".to_string());
            }
            if keys.is_empty() && problems.is_empty() {
                problems.push(format!("[search] draws no key: add one, e.g. {EXAMPLE}"));
            }
        }
        let mut seen = HashSet::new();
        for (key, _) in &keys {
            if !seen.insert(key.as_str()) {
                problems.push(format!(
                    "[search] draws `{key}` twice (once as a dotted key, once in a nested table); keep one"
                ));
            }
        }
        let search = Search {
            method,
            trials: trials.unwrap_or(1),
            seed,
            keys,
        };
        (search, problems)
    }

    pub fn keys(&self) -> Vec<&str> {
        self.keys.iter().map(|(k, _)| k.as_str()).collect()
    }

    pub fn sampled(&self, seed: u64) -> Sampled {
        Sampled {
            method: self.method,
            trials: self.trials,
            seed,
            keys: self.keys().into_iter().map(String::from).collect(),
            log_keys: self
                .keys
                .iter()
                .filter(|(_, d)| matches!(d, Dist::LogUniform { .. }))
                .map(|(k, _)| k.clone())
                .collect(),
        }
    }

    /// The problem of a space whose keys have fewer distinct combinations than `trials`
    /// (only choice and int keys are countable); None when it is large enough, or draws no
    /// key (its own problem).
    pub fn too_small(&self) -> Option<String> {
        if self.keys.is_empty() {
            return None;
        }
        let size = self
            .keys
            .iter()
            .try_fold(1u128, |n, (_, d)| d.count().map(|c| n.saturating_mul(c)))?;
        (size < self.trials as u128).then(|| {
            format!(
                "[search] its keys have only {size} distinct combinations, fewer than trials = \
                 {}: lower trials or widen a range",
                self.trials
            )
        })
    }

    /// The first `trials` distinct points of the sequence for `seed`, each the sampled keys'
    /// values in key order. A draw equal to an earlier one (a small choice or int space, or
    /// floats that round alike) is skipped, so trial n is always the n-th distinct draw and a
    /// larger `trials` only appends.
    pub fn draw(&self, seed: u64) -> Result<Vec<Vec<toml::Value>>, String> {
        if let Some(problem) = self.too_small() {
            return Err(problem);
        }
        let halton = (self.method == Method::Halton)
            .then(|| super::sequence::Halton::scrambled(self.keys.len(), seed));
        let limit = (self.trials as u64)
            .saturating_mul(100)
            .saturating_add(10_000);
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(self.trials);
        for index in 0..limit {
            if out.len() == self.trials {
                break;
            }
            let units = match &halton {
                Some(h) => h.point(index),
                None => {
                    let mut rng = super::sequence::stream(seed, "random", index);
                    (0..self.keys.len())
                        .map(|_| super::sequence::unit(&mut rng))
                        .collect()
                }
            };
            let values: Vec<toml::Value> = self
                .keys
                .iter()
                .zip(units)
                .map(|((_, dist), u)| dist.value(u))
                .collect();
            let fingerprint: Vec<String> = values.iter().map(|v| v.to_string()).collect();
            if seen.insert(fingerprint) {
                out.push(values);
            }
        }
        if out.len() < self.trials {
            return Err(format!(
                "[search] found only {} distinct trials in {limit} draws, fewer than trials = {}: \
                 raise a key's `digits` or widen its range",
                out.len(),
                self.trials
            ));
        }
        Ok(out)
    }

    /// The drawn trials as grid points: (key, value, where it came from).
    pub fn points(&self, drawn: &[Vec<toml::Value>]) -> Vec<Point> {
        drawn
            .iter()
            .enumerate()
            .map(|(t, values)| {
                self.keys
                    .iter()
                    .zip(values)
                    .map(|((key, _), v)| {
                        (
                            key.clone(),
                            v.clone(),
                            format!("[search] {key}, trial #{}", t + 1),
                        )
                    })
                    .collect()
            })
            .collect()
    }

    /// Problems of the keys' values, one message per key: the candidates (`Dist::candidates`)
    /// and every drawn value, each checked as a setting by `check` (which knows the keys' range
    /// rules). Keys in `skip` (unknown, or already reported) are left out; `integer_key` says
    /// which keys take whole numbers only.
    pub fn check_values(
        &self,
        file: &Path,
        drawn: &[Vec<toml::Value>],
        skip: &[&str],
        integer_key: &dyn Fn(&str) -> bool,
        check: &dyn Fn(&Setting) -> Vec<String>,
    ) -> Vec<String> {
        let mut problems = Vec::new();
        for (k, (key, dist)) in self.keys.iter().enumerate() {
            if skip.contains(&key.as_str()) {
                continue;
            }
            if dist.draws_floats() && integer_key(key) {
                problems.push(format!(
                    "[search] {key} takes whole numbers, but a {} range draws fractions: use \
                     distribution = \"int\" (with a step) or \"choice\" in {}",
                    if matches!(dist, Dist::Uniform { .. }) {
                        "uniform"
                    } else {
                        "log_uniform"
                    },
                    file.display()
                ));
                continue;
            }
            let setting = |value: &toml::Value, what: String| Setting {
                key: key.clone(),
                value: value.clone(),
                origin: Origin::Grid {
                    file: file.to_path_buf(),
                    what: format!("[search] {key} {what}"),
                },
            };
            let mut bad: Vec<(String, Vec<String>)> = Vec::new();
            for (value, what) in dist.candidates() {
                let found = check(&setting(&value, what));
                if !found.is_empty() {
                    bad.push((value.to_string(), found));
                }
            }
            if bad.is_empty() {
                let mut checked = HashSet::new();
                for (t, values) in drawn.iter().enumerate() {
                    let value = &values[k];
                    if checked.insert(value.to_string()) {
                        let found = check(&setting(value, format!("(trial #{})", t + 1)));
                        if !found.is_empty() {
                            bad.push((value.to_string(), found));
                        }
                    }
                }
            }
            if let Some(((_, first), rest)) = bad.split_first() {
                let mut message = first.join("; ");
                if !rest.is_empty() {
                    let others: Vec<&str> = rest.iter().take(5).map(|(v, _)| v.as_str()).collect();
                    message += &format!(
                        "; {} more of its values break the rules too ({}{})",
                        rest.len(),
                        others.join(", "),
                        if rest.len() > others.len() {
                            ", ..."
                        } else {
                            ""
                        }
                    );
                }
                problems.push(message);
            }
        }
        problems
    }
}

/// Gathers `path = { distribution = ... }` entries, also from nested tables
/// (`[search.train]` with `lr_d = { ... }` is `train.lr_d`).
fn collect(
    path: &str,
    value: &toml::Value,
    found: &mut Vec<(String, Dist)>,
    problems: &mut Vec<String>,
) {
    match value {
        toml::Value::Table(t) if t.contains_key("distribution") => {
            let (dist, found_problems) = parse_dist(path, t);
            found.extend(dist.map(|d| (path.to_string(), d)));
            problems.extend(found_problems);
        }
        // A section (`[search.train]`), entered even when empty: its keys commented out.
        toml::Value::Table(t) if keys::is_section(path) => {
            for (k, v) in t {
                collect(&format!("{path}.{k}"), v, found, problems);
            }
        }
        toml::Value::Table(t) if looks_like_a_range(t) => {
            let misspelt = t.keys().find(|k| is_misspelt_distribution(k));
            problems.push(match misspelt {
                Some(field) => format!(
                    "[search] {path}: unknown field `{field}`; did you mean `distribution`?"
                ),
                None => format!(
                    "[search] {path} needs `distribution`, one of {}",
                    DISTRIBUTIONS.join(", ")
                ),
            });
        }
        toml::Value::Table(_) if !keys::is_known(path) => problems.push(format!(
            "[search] unknown section `[search.{path}]`{}",
            keys::unknown_section_hint(path, &[], "search.")
        )),
        other => problems.push(format!(
            "[search] {path} must be a distribution, e.g. {{ distribution = \"uniform\", low = 0.1, \
             high = 0.3 }} (got {other}); to give every variant one value, set it outside [search]"
        )),
    }
}

/// A table without `distribution` that has a range's fields (or a misspelt `distribution`).
fn looks_like_a_range(t: &toml::Table) -> bool {
    t.keys()
        .any(|k| RANGE_FIELDS.contains(&k.as_str()) || is_misspelt_distribution(k))
}

const RANGE_FIELDS: [&str; 5] = ["low", "high", "step", "digits", "values"];

fn is_misspelt_distribution(field: &str) -> bool {
    !RANGE_FIELDS.contains(&field) && strsim::jaro_winkler(field, "distribution") > 0.8
}

/// One key's `{ distribution = ..., ... }` table.
fn parse_dist(path: &str, t: &toml::Table) -> (Option<Dist>, Vec<String>) {
    let name = match t.get("distribution") {
        Some(toml::Value::String(s)) => s.as_str(),
        Some(other) => {
            return (
                None,
                vec![format!(
                    "[search] {path}: distribution must be one of {} (got {other})",
                    DISTRIBUTIONS.join(", ")
                )],
            );
        }
        None => unreachable!("collect only passes tables with a distribution"),
    };
    let fields: &[&str] = match name {
        "uniform" | "log_uniform" => &["low", "high", "digits"],
        "int" => &["low", "high", "step"],
        "choice" => &["values"],
        other => {
            let hint = DISTRIBUTIONS
                .iter()
                .map(|d| (strsim::jaro_winkler(other, d), d))
                .filter(|(score, _)| *score > 0.8)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, d)| format!("; did you mean \"{d}\"?"))
                .unwrap_or_default();
            return (
                None,
                vec![format!(
                    "[search] {path}: unknown distribution {other:?}; expected one of {}{hint}",
                    DISTRIBUTIONS.join(", ")
                )],
            );
        }
    };
    let mut problems = Vec::new();
    // A value listed twice leaves the key's values fit to check: reported, not blocking.
    let mut duplicates = Vec::new();
    for field in t.keys().filter(|k| *k != "distribution") {
        if !fields.contains(&field.as_str()) {
            problems.push(format!(
                "[search] {path}: unknown field `{field}` for distribution \"{name}\"; it takes {}",
                fields.join(", ")
            ));
        }
    }
    let mut missing = |field: &str| {
        problems.push(format!(
            "[search] {path}: distribution \"{name}\" needs `{field}`"
        ))
    };
    let dist = match name {
        "uniform" | "log_uniform" => {
            let (low, high) = (t.get("low"), t.get("high"));
            if low.is_none() {
                missing("low");
            }
            if high.is_none() {
                missing("high");
            }
            let number = |field: &str, v: &toml::Value, problems: &mut Vec<String>| {
                let x = match v {
                    toml::Value::Float(x) => Some(*x),
                    toml::Value::Integer(i) => Some(*i as f64),
                    _ => None,
                };
                match x {
                    Some(x) if x.is_finite() => Some(x),
                    _ => {
                        problems.push(format!(
                            "[search] {path}: {field} must be a finite number (got {v})"
                        ));
                        None
                    }
                }
            };
            let low = low.and_then(|v| number("low", v, &mut problems));
            let high = high.and_then(|v| number("high", v, &mut problems));
            let digits = match t.get("digits") {
                None => Some(DEFAULT_DIGITS),
                Some(v) => match v.as_integer() {
                    Some(d @ 1..=17) => Some(d as u32),
                    _ => {
                        problems.push(format!(
                            "[search] {path}: digits must be a whole number in 1..=17, the \
                             significant digits kept (got {v})"
                        ));
                        None
                    }
                },
            };
            if let (Some(low), Some(high)) = (low, high) {
                if low >= high {
                    problems.push(format!(
                        "[search] {path}: low ({low}) must be below high ({high})"
                    ));
                }
                if name == "log_uniform" && low <= 0.0 {
                    problems.push(format!(
                        "[search] {path}: log_uniform needs low > 0 (got {low}); use uniform for \
                         a range that starts at or below 0"
                    ));
                }
            }
            match (low, high, digits, name) {
                (Some(low), Some(high), Some(digits), "uniform") => {
                    Some(Dist::Uniform { low, high, digits })
                }
                (Some(low), Some(high), Some(digits), _) => {
                    Some(Dist::LogUniform { low, high, digits })
                }
                _ => None,
            }
        }
        "int" => {
            let integer = |field: &str, default: Option<i64>, problems: &mut Vec<String>| match t
                .get(field)
            {
                None if default.is_some() => default,
                None => {
                    problems.push(format!(
                        "[search] {path}: distribution \"int\" needs `{field}`"
                    ));
                    None
                }
                Some(v) => v.as_integer().or_else(|| {
                    problems.push(format!(
                        "[search] {path}: {field} must be a whole number (got {v})"
                    ));
                    None
                }),
            };
            let low = integer("low", None, &mut problems);
            let high = integer("high", None, &mut problems);
            let step = integer("step", Some(1), &mut problems);
            if let Some(step) = step
                && step < 1
            {
                problems.push(format!("[search] {path}: step must be >= 1 (got {step})"));
            }
            match (low, high, step) {
                (Some(low), Some(high), _) if low >= high => {
                    problems.push(format!(
                        "[search] {path}: low ({low}) must be below high ({high})"
                    ));
                    None
                }
                (Some(low), Some(high), Some(step)) if step >= 1 => {
                    let span = i128::from(high) - i128::from(low);
                    if span % i128::from(step) != 0 {
                        let last = i128::from(low) + span / i128::from(step) * i128::from(step);
                        problems.push(format!(
                            "[search] {path}: high ({high}) is not low ({low}) plus a multiple \
                             of step ({step}); the last value would be {last}: set high = {last}"
                        ));
                    }
                    Some(Dist::Int { low, high, step })
                }
                _ => None,
            }
        }
        _ => match t.get("values") {
            None => {
                missing("values");
                None
            }
            Some(toml::Value::Array(values)) if !values.is_empty() => {
                for (i, v) in values.iter().enumerate() {
                    if values[..i].contains(v) {
                        duplicates.push(format!(
                            "[search] {path}: choice lists {v} twice; list each value once"
                        ));
                    }
                }
                Some(Dist::Choice(values.clone()))
            }
            Some(other) => {
                problems.push(format!(
                    "[search] {path}: values must be a non-empty list, e.g. [\"phased\", \
                     \"alternating\"] (got {other})"
                ));
                None
            }
        },
    };
    let dist = dist.filter(|_| problems.is_empty());
    problems.extend(duplicates);
    (dist, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(text: &str) -> Search {
        let (search, problems) = Search::parse(&text.parse::<toml::Table>().unwrap());
        assert!(problems.is_empty(), "{problems:?}");
        search
    }

    fn problems(text: &str) -> Vec<String> {
        Search::parse(&text.parse::<toml::Table>().unwrap()).1
    }

    /// One key's drawn values, `trials` of them, by both methods.
    fn drawn(dist: &str, trials: usize) -> [Vec<toml::Value>; 2] {
        ["halton", "random"].map(|method| {
            search(&format!(
                "method = \"{method}\"\ntrials = {trials}\n\"train.x\" = {dist}"
            ))
            .draw(0)
            .unwrap()
            .into_iter()
            .map(|mut v| v.remove(0))
            .collect()
        })
    }

    fn floats(values: &[toml::Value]) -> Vec<f64> {
        values.iter().map(|v| v.as_float().unwrap()).collect()
    }

    /// How many of `xs` fall in each of `bins` equal parts of [low, high].
    fn histogram(xs: &[f64], low: f64, high: f64, bins: usize) -> Vec<usize> {
        let mut h = vec![0; bins];
        for x in xs {
            h[(((x - low) / (high - low) * bins as f64) as usize).min(bins - 1)] += 1;
        }
        h
    }

    #[test]
    fn uniform_covers_its_range_rounded() {
        let dist = "{ distribution = \"uniform\", low = 0.2, high = 0.7 }";
        let [halton, random] = drawn(dist, 400);
        for (values, spread) in [(&halton, 35..=45), (&random, 25..=55)] {
            let xs = floats(values);
            assert!(xs.iter().all(|x| (0.2..=0.7).contains(x)), "{xs:?}");
            assert!(
                xs.iter()
                    .all(|x| format!("{x}").trim_start_matches("0.").len() <= 3),
                "three significant digits: {xs:?}"
            );
            let h = histogram(&xs, 0.2, 0.7, 10);
            assert!(h.iter().all(|n| spread.contains(n)), "{h:?}");
        }
    }

    #[test]
    fn log_uniform_gives_each_decade_its_share() {
        let dist = "{ distribution = \"log_uniform\", low = 1e-6, high = 1e-2 }";
        let [halton, random] = drawn(dist, 400);
        for (values, spread) in [(&halton, 95..=105), (&random, 75..=125)] {
            let logs: Vec<f64> = floats(values).iter().map(|x| x.log10()).collect();
            assert!(logs.iter().all(|l| (-6.0..=-2.0).contains(l)));
            let h = histogram(&logs, -6.0, -2.0, 4);
            assert!(h.iter().all(|n| spread.contains(n)), "per decade: {h:?}");
        }
    }

    #[test]
    fn int_draws_every_step_and_only_steps() {
        let dist = "{ distribution = \"int\", low = 32, high = 128, step = 16 }";
        for values in drawn(dist, 7) {
            let mut got: Vec<i64> = values.iter().map(|v| v.as_integer().unwrap()).collect();
            got.sort();
            assert_eq!(
                got,
                [32, 48, 64, 80, 96, 112, 128],
                "7 trials of 7 values: each once"
            );
        }
        let [halton, _] = drawn("{ distribution = \"int\", low = 0, high = 3 }", 4);
        assert_eq!(halton.len(), 4, "step defaults to 1");
    }

    #[test]
    fn choice_draws_the_listed_values() {
        let dist = "{ distribution = \"choice\", values = [\"phased\", \"alternating\", 3] }";
        for values in drawn(dist, 3) {
            let mut got: Vec<String> = values.iter().map(|v| v.to_string()).collect();
            got.sort();
            assert_eq!(got, ["\"alternating\"", "\"phased\"", "3"]);
        }
    }

    #[test]
    fn values_map_the_unit_interval() {
        let int = Dist::Int {
            low: 1,
            high: 3,
            step: 1,
        };
        let pairs = [(0.0, 1), (0.33, 1), (0.34, 2), (0.99999, 3)];
        for (u, want) in pairs {
            assert_eq!(int.value(u), toml::Value::Integer(want), "u = {u}");
        }
        let uniform = Dist::Uniform {
            low: 0.0,
            high: 0.5,
            digits: 2,
        };
        assert_eq!(
            uniform.value(0.99999),
            toml::Value::Float(0.5),
            "rounds up to high, not past"
        );
        assert_eq!(uniform.value(0.5), toml::Value::Float(0.25));
        let narrow = Dist::Uniform {
            low: 0.991,
            high: 0.9999,
            digits: 2,
        };
        assert_eq!(
            narrow.value(0.0),
            toml::Value::Float(0.991),
            "0.99 would be below low"
        );
        assert_eq!(round_within(0.000347219, 3, 0.0, 1.0), 0.000347);
        assert_eq!(round_within(123456.0, 2, 0.0, 1e9), 120000.0);
    }

    #[test]
    fn same_seed_same_trials_other_seed_others() {
        let s = search(
            "trials = 6\n\"train.lr_d\" = { distribution = \"log_uniform\", low = 1e-5, high = 1e-3 }\n\
             \"train.p0\" = { distribution = \"uniform\", low = 0.9, high = 1.0 }",
        );
        assert_eq!(s.draw(3).unwrap(), s.draw(3).unwrap());
        assert_ne!(s.draw(3).unwrap(), s.draw(4).unwrap());
    }

    #[test]
    fn more_trials_only_append() {
        for method in ["halton", "random"] {
            let text = |n: usize| {
                format!(
                    "method = \"{method}\"\ntrials = {n}\n\
                     \"train.lr_d\" = {{ distribution = \"log_uniform\", low = 1e-5, high = 1e-3 }}\n\
                     \"train.batch_size\" = {{ distribution = \"choice\", values = [32, 64] }}"
                )
            };
            let few = search(&text(5)).draw(0).unwrap();
            let more = search(&text(12)).draw(0).unwrap();
            assert_eq!(few[..], more[..5], "{method}");
        }
    }

    #[test]
    fn pinned_trials() {
        // The same file gives these trials on every machine, now and after dependency updates:
        // a change here moves every sampled variant's id.
        let s = |method: &str| {
            search(&format!(
                "method = \"{method}\"\ntrials = 3\n\
                 \"train.lr_d\" = {{ distribution = \"log_uniform\", low = 1e-5, high = 1e-3 }}\n\
                 \"train.p0\" = {{ distribution = \"uniform\", low = 0.9, high = 1.0, digits = 4 }}\n\
                 \"model.d_width\" = {{ distribution = \"int\", low = 32, high = 128, step = 32 }}"
            ))
            .draw(0)
            .unwrap()
            .iter()
            .map(|t| t.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
        };
        assert_eq!(s("halton"), PINNED_HALTON);
        assert_eq!(s("random"), PINNED_RANDOM);
    }

    const PINNED_HALTON: [&str; 3] = [
        "0.000342 0.9198 128",
        "0.0000117 0.9743 32",
        "0.000179 0.9561 96",
    ];
    const PINNED_RANDOM: [&str; 3] = [
        "0.0000159 0.9667 96",
        "0.0000552 0.9846 32",
        "0.0000715 0.9214 64",
    ];

    #[test]
    fn repeated_draws_are_skipped() {
        let s = search(
            "trials = 4\n\"train.d_steps\" = { distribution = \"choice\", values = [1, 2, 3, 4] }",
        );
        let mut got: Vec<String> = s
            .draw(0)
            .unwrap()
            .iter()
            .map(|t| t[0].to_string())
            .collect();
        got.sort();
        assert_eq!(got, ["1", "2", "3", "4"]);
        let err = search(
            "trials = 5\n\"train.d_steps\" = { distribution = \"choice\", values = [1, 2, 3, 4] }",
        )
        .draw(0)
        .unwrap_err();
        assert!(err.contains("only 4 distinct combinations"), "{err}");
        let err = search(
            "trials = 30\n\"train.p0\" = { distribution = \"uniform\", low = 0.5, high = 0.6, digits = 1 }",
        )
        .draw(0)
        .unwrap_err();
        assert!(err.contains("found only 2 distinct trials"), "{err}");
    }

    #[test]
    fn nested_tables_name_the_same_keys() {
        let dotted = search(
            "trials = 2\n\"train.lr_d\" = { distribution = \"uniform\", low = 1, high = 2 }",
        );
        let nested =
            search("trials = 2\n[train]\nlr_d = { distribution = \"uniform\", low = 1, high = 2 }");
        assert_eq!(dotted, nested);
    }

    #[test]
    fn shape_problems_are_all_reported() {
        type Row<'a> = (&'a str, &'a str, &'a str);
        let rows: &[Row] = &[
            (
                "\"train.p0\" = { distribution = \"uniform\", low = 0.9, high = 1 }",
                "needs `trials = N`",
                "no trials",
            ),
            (
                "trials = 0\n\"train.p0\" = { distribution = \"uniform\", low = 0.9, high = 1 }",
                "trials must be a whole number >= 1, the points to draw (got 0)",
                "zero trials",
            ),
            ("trials = 2", "draws no key", "nothing to draw"),
            (
                "trials = 2\nmethod = \"sobol\"\n\"train.p0\" = { distribution = \"uniform\", low = 0.9, high = 1 }",
                "method \"sobol\" is unknown",
                "Sobol is not offered",
            ),
            (
                "trials = 2\n\"train.p0\" = { distribution = \"uniform\", low = 1, high = 0.9 }",
                "train.p0: low (1) must be below high (0.9)",
                "reversed range",
            ),
            (
                "trials = 2\n\"train.p0\" = { distribution = \"uniform\", low = 1, high = 1 }",
                "low (1) must be below high (1)",
                "empty range",
            ),
            (
                "trials = 2\n\"train.lr_d\" = { distribution = \"log_uniform\", low = 0, high = 1 }",
                "log_uniform needs low > 0 (got 0)",
                "log of 0",
            ),
            (
                "trials = 2\n\"train.d_steps\" = { distribution = \"int\", low = 1, high = 9, step = 0 }",
                "step must be >= 1 (got 0)",
                "zero step",
            ),
            (
                "trials = 2\n\"train.d_steps\" = { distribution = \"int\", low = 1, high = 9, step = -2 }",
                "step must be >= 1 (got -2)",
                "negative step",
            ),
            (
                "trials = 2\n\"train.d_steps\" = { distribution = \"int\", low = 1, high = 10, step = 2 }",
                "high (10) is not low (1) plus a multiple of step (2); the last value would be 9",
                "uneven step",
            ),
            (
                "trials = 2\n\"train.d_steps\" = { distribution = \"int\", low = 1.5, high = 4 }",
                "low must be a whole number (got 1.5)",
                "fractional int end",
            ),
            (
                "trials = 2\n\"train.p0\" = { distribution = \"loguniform\", low = 0.1, high = 1 }",
                "unknown distribution \"loguniform\"; expected one of uniform, log_uniform, int, choice; did you mean \"log_uniform\"?",
                "misspelt distribution",
            ),
            (
                "trials = 2\n\"train.p0\" = { distribution = \"uniform\", low = 0.1, hi = 1 }",
                "unknown field `hi` for distribution \"uniform\"; it takes low, high, digits",
                "misspelt field",
            ),
            (
                "trials = 2\n\"train.p0\" = { distribution = \"uniform\", low = 0.1, hi = 1 }",
                "needs `high`",
                "missing field",
            ),
            (
                "trials = 2\n\"train.p0\" = { distribution = \"uniform\", low = nan, high = 1 }",
                "low must be a finite number (got nan)",
                "nan end",
            ),
            (
                "trials = 2\n\"train.schedule\" = { distribution = \"choice\", values = [] }",
                "values must be a non-empty list",
                "empty choice",
            ),
            (
                "trials = 2\n\"train.d_steps\" = { distribution = \"choice\", values = [1, 2, 1] }",
                "choice lists 1 twice",
                "repeated choice",
            ),
            (
                "trials = 2\n\"train.p0\" = 0.9",
                "[search] train.p0 must be a distribution",
                "a plain value",
            ),
            (
                "trials = 2\n\"train.p0\" = { distribution = \"uniform\", low = 0.5, high = 0.9 }\n[train]\np0 = { distribution = \"uniform\", low = 0.5, high = 0.9 }",
                "draws `train.p0` twice",
                "the same key twice",
            ),
        ];
        for &(text, want, reason) in rows {
            let found = problems(text);
            assert!(
                found.iter().any(|p| p.contains(want)),
                "{reason}: {found:?}"
            );
        }
        let many = problems(
            "trials = 0\nmethod = \"grid\"\n\"train.p0\" = { distribution = \"uniform\", low = 2, high = 1 }",
        );
        assert_eq!(many.len(), 3, "all at once: {many:?}");
    }
}
