//! Resolves an experiment file into validated variants: reads and layers every source, checks
//! every setting (all problems at once), expands the grid, and gives each variant its id.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::grid::{Grid, Point};
use super::keys;
use super::layers::{self, Origin, Setting};
use super::schema::Config;
use super::search::{Sampled, Search};
use super::validate::{self, SAFE_NAME_RULE};
use crate::health::RollbackConfig;
use crate::prune::PruneConfig;

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

/// Why `key` cannot vary between the variants of one experiment, if it cannot.
fn fixed_reason(key: &str) -> Option<&'static str> {
    if key.starts_with("prune.") {
        return Some("every variant of an experiment is judged by one rule");
    }
    FIXED_KEYS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, why)| *why)
}

/// Everything wrong with an experiment's settings; exit code 2.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<String>);

impl ConfigErrors {
    /// The problems as a list headed as settings of `subject` ("N problems in SUBJECT:").
    pub fn listed(&self, subject: &str) -> String {
        let n = self.0.len();
        let mut text = format!(
            "{n} problem{} in {subject}:\n",
            if n == 1 { "" } else { "s" }
        );
        for problem in &self.0 {
            text.push_str(&format!("  - {problem}\n"));
        }
        text
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.listed("the experiment settings"))
    }
}

impl std::error::Error for ConfigErrors {}

/// Inputs besides the file: environment variables and `--set` arguments.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub env: Vec<(String, String)>,
    pub sets: Vec<String>,
    /// Problems of `ANIGAN_*` variables that could not be read (not UTF-8).
    pub env_problems: Vec<String>,
}

impl Overrides {
    /// The process's `ANIGAN_*` variables and the given `--set` arguments. Variables of other
    /// programs are never looked at, so one that is not UTF-8 cannot stop the runner.
    pub fn from_environment(sets: Vec<String>) -> Self {
        let (env, env_problems) = layers::env_vars(std::env::vars_os());
        Self {
            env,
            sets,
            env_problems,
        }
    }
}

/// A setting from outside the experiment file: an `ANIGAN_*` variable or `--set`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Override {
    /// `train.lr_g=0.0001`, the value as TOML writes it.
    pub setting: String,
    /// `--set` or the variable's name.
    pub from: String,
}

impl Override {
    fn of(s: &Setting) -> Option<Override> {
        let from = match &s.origin {
            Origin::Env(var) => var.clone(),
            Origin::Set(_) => "--set".to_string(),
            Origin::File(_) | Origin::Grid { .. } => return None,
        };
        Some(Override {
            setting: format!("{}={}", s.key, s.value),
            from,
        })
    }
}

impl fmt::Display for Override {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.setting, self.from)
    }
}

/// `overrides: a (--set), b (ANIGAN_X__Y)`, or nothing when there are none.
pub fn overrides_line(overrides: &[Override]) -> Option<String> {
    (!overrides.is_empty()).then(|| {
        let list: Vec<String> = overrides.iter().map(Override::to_string).collect();
        format!("overrides in force: {}", list.join(", "))
    })
}

/// One point of the grid (crossed with a `[search]` trial), fully resolved and validated.
#[derive(Debug, Clone)]
pub struct Variant {
    pub index: usize,
    /// `NNN-hash8`: index plus a hash of the resolved config (epochs and description excluded).
    pub id: String,
    /// The grid's values for this variant, then its trial's drawn values, as `key=value` pairs
    /// in the order of `Experiment::grid_keys`.
    pub grid_values: Vec<(String, toml::Value)>,
    pub config: Config,
}

impl Variant {
    /// Its value of each of `keys` (the experiment's `grid_keys`), in their order: the grid's
    /// or trial's value where its point sets the key, else the value it trains with (a
    /// `[[grid.include]]` table that leaves a key out trains with the file's value, an
    /// override's or the default). None for a key its settings do not have.
    pub fn values_of(&self, keys: &[String]) -> Vec<(String, Option<toml::Value>)> {
        let settings = toml::Table::try_from(&self.config)
            .map(|t| super::leaves(&t, ""))
            .unwrap_or_default();
        let find = |list: &[(String, toml::Value)], key: &str| {
            list.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
        };
        keys.iter()
            .map(|key| {
                let value = find(&self.grid_values, key).or_else(|| find(&settings, key));
                (key.clone(), value)
            })
            .collect()
    }
}

#[derive(Debug, Clone)]
pub struct Experiment {
    pub file: PathBuf,
    pub name: String,
    /// The settings `ANIGAN_*` variables and `--set` put over the file, in the order applied.
    pub overrides: Vec<Override>,
    /// The keys that vary between variants: `[grid]`'s, then `[search]`'s.
    pub grid_keys: Vec<String>,
    /// How `[grid]` lays its variants out (`Grid::layout`), for a plan's header.
    pub grid_layout: Option<String>,
    /// What `[search]` drew, if the file has one.
    pub sampled: Option<Sampled>,
    pub variants: Vec<Variant>,
}

/// Most variants one experiment may have; a bigger grid is refused before it is expanded
/// (documented in experiments/README.md).
pub const MAX_VARIANTS: usize = 10_000;

/// Reads, layers, checks and expands `file`. Every problem found is reported together: those of
/// single settings, of rules across keys and of duplicate variants.
pub fn resolve(file: &Path, overrides: &Overrides) -> Result<Experiment, ConfigErrors> {
    let bytes = std::fs::read(file).map_err(|e| {
        ConfigErrors(vec![format!(
            "cannot read experiment file {}: {e}",
            file.display()
        )])
    })?;
    let text =
        crate::textfile::decode(&bytes, file).map_err(|e| ConfigErrors(vec![format!("{e:#}")]))?;
    let mut table = text
        .parse::<toml::Table>()
        .map_err(|e| ConfigErrors(vec![syntax_error(file, &text, &e)]))?;

    let mut problems = Vec::new();
    let search = match table.remove("search") {
        None => None,
        Some(toml::Value::Table(t)) => Some(Search::parse(&t)),
        Some(_) => {
            problems.push(format!(
                "`search` must be a table ([search]) in {}",
                file.display()
            ));
            None
        }
    };
    let search_is_broken = search.as_ref().is_some_and(|(_, p)| !p.is_empty());
    let search = search.map(|(search, shape_problems)| {
        problems.extend(
            shape_problems
                .into_iter()
                .map(|p| format!("{p} in {}", file.display())),
        );
        search
    });
    let mut grid_is_broken = false;
    let grid = match table.remove("grid") {
        None => Grid::default(),
        Some(toml::Value::Table(t)) => {
            let (grid, grid_problems) = Grid::parse(&t);
            grid_is_broken = !grid_problems.is_empty();
            problems.extend(
                grid_problems
                    .into_iter()
                    .map(|p| format!("{p} in {}", file.display())),
            );
            grid
        }
        Some(_) => {
            problems.push(format!(
                "`grid` must be a table ([grid]) in {}",
                file.display()
            ));
            Grid::default()
        }
    };

    let (mut settings, file_problems) = layers::from_file(&table, file);
    problems.extend(file_problems);
    let (env, env_problems) = layers::from_env(&overrides.env);
    settings.extend(env);
    problems.extend(env_problems);
    problems.extend(overrides.env_problems.iter().cloned());
    let (sets, set_problems) = layers::from_sets(&overrides.sets, "train.lr_d=1e-4");
    settings.extend(sets);
    problems.extend(set_problems);
    for setting in &settings {
        problems.extend(check_setting(setting));
    }

    let grid_keys = grid.keys();
    let search_keys = search.as_ref().map_or_else(Vec::new, |s| s.keys());
    let (varied_problems, refused) = check_varied_keys(file, &grid, &search_keys, &settings);
    problems.extend(varied_problems);
    let name = experiment_name(file, &settings, &mut problems);
    let trials = search.as_ref().map_or(1, |s| s.trials);
    let count = grid.count().and_then(|n| n.checked_mul(trials));
    if count.is_none_or(|n| n > MAX_VARIANTS) {
        let what = if search.is_some() {
            format!("[grid] x [search] trials = {trials}")
        } else {
            "[grid]".to_string()
        };
        problems.push(format!(
            "{what} expands to {} variants, more than the {MAX_VARIANTS} one experiment may have, in {}; \
             split it into several experiment files or shorten its lists",
            count.map_or_else(|| "more than 2^64".to_string(), |n| n.to_string()),
            file.display()
        ));
        return Err(ConfigErrors(dedup(problems)));
    }
    let grid_points = grid.points();
    let grid_size = grid_points.len();
    problems.extend(check_grid_values(file, &grid_points));
    if grid_is_broken {
        // Its well-formed keys and values were checked above, but its variants are not what
        // the file means: nothing more to check on them.
        return Err(ConfigErrors(dedup(problems)));
    }
    let mut sampled = None;
    let points = match &search {
        None => grid_points,
        Some(search) => {
            // Unknown keys are reported once by check_varied_keys; fixed ones too.
            let skip: Vec<&str> = search_keys
                .iter()
                .copied()
                .filter(|k| !keys::is_known(k) || fixed_reason(k).is_some())
                .collect();
            let check_values = |drawn: &[Vec<toml::Value>]| {
                search.check_values(
                    file,
                    drawn,
                    &skip,
                    &keys::takes_whole_numbers,
                    &check_setting,
                )
            };
            if search_is_broken {
                // Its ranges' own problems still go into this one report; nothing is drawn.
                problems.extend(check_values(&[]));
                problems.extend(
                    search
                        .too_small()
                        .map(|p| format!("{p} in {}", file.display())),
                );
                return Err(ConfigErrors(dedup(problems)));
            }
            let seed = search.seed.unwrap_or_else(|| base_seed(&settings));
            let drawn = match search.draw(seed) {
                Ok(drawn) => drawn,
                Err(problem) => {
                    // Its keys' values are checked without a draw, so report them too.
                    problems.extend(check_values(&[]));
                    problems.push(format!("{problem} in {}", file.display()));
                    return Err(ConfigErrors(dedup(problems)));
                }
            };
            problems.extend(check_values(&drawn));
            sampled = Some(search.sampled(seed));
            cross(&grid_points, &search.points(&drawn))
        }
    };

    let mut variants = Vec::new();
    // A variant is its settings plus the values of refused keys: variants that differ only in
    // a key [grid] or [search] may not vary (`experiment.epochs`) are what that key's problem
    // already says, not duplicates.
    let mut seen: HashMap<(String, Vec<String>), usize> = HashMap::new();
    for (index, point) in points.iter().enumerate() {
        let mut layered = settings.clone();
        layered.extend(point.iter().map(|(k, v, w)| grid_setting(file, k, v, w)));
        // A variant that does not even deserialize has its problem reported above already.
        let Ok(mut config) = layers::extract(&layered) else {
            continue;
        };
        config.experiment.name = name.clone();
        for problem in validate::check_combined(&config) {
            problems.push(attributed(&problem, file, &layered));
        }
        let hash = config_hash(&config);
        let refused_values = point
            .iter()
            .filter(|(k, _, _)| refused.contains(k))
            .map(|(k, v, _)| format!("{k}={v}"))
            .collect();
        // Each duplicate is named against the first variant of its settings.
        let first = *seen.entry((hash.clone(), refused_values)).or_insert(index);
        if first != index {
            problems.push(duplicate(file, &points, grid_size, first, index));
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
        return Err(ConfigErrors(dedup(problems)));
    }
    Ok(Experiment {
        file: file.to_path_buf(),
        overrides: settings.iter().filter_map(Override::of).collect(),
        name,
        grid_layout: grid.layout(),
        grid_keys: grid_keys
            .into_iter()
            .chain(search_keys)
            .map(String::from)
            .collect(),
        sampled,
        variants,
    })
}

/// The grid repeated for every trial, trial slowest: variant `t * grid + g` is grid point `g`
/// with trial `t`'s values after it. Raising `trials` appends whole grids, so earlier indexes
/// (and ids) stay; appending values to the grid's first list renumbers from trial 2 on.
fn cross(grid: &[Point], trials: &[Point]) -> Vec<Point> {
    trials
        .iter()
        .flat_map(|trial| {
            grid.iter().map(move |point| {
                let mut p = point.clone();
                p.extend(trial.iter().cloned());
                p
            })
        })
        .collect()
}

/// `experiment.seed` as the file, variables and `--set` give it (the last wins); 0 when unset
/// or invalid (an invalid one is reported on its own).
fn base_seed(settings: &[Setting]) -> u64 {
    settings
        .iter()
        .rev()
        .find(|s| s.key == "experiment.seed")
        .and_then(|s| s.value.as_integer())
        .and_then(|i| u64::try_from(i).ok())
        .unwrap_or(0)
}

/// Variants `first` and `index` of `points` (the grid, `grid_size` points, once per trial)
/// resolve to the same settings: the problem, naming where the duplicate comes from ([grid]:
/// one trial; [search]: one grid point; or the two together) and the keys they differ in.
fn duplicate(
    file: &Path,
    points: &[Point],
    grid_size: usize,
    first: usize,
    index: usize,
) -> String {
    let (a, b) = (&points[first], &points[index]);
    let value = |p: &Point, key: &str| {
        p.iter()
            .filter(|(k, _, _)| k == key)
            .map(|(_, v, _)| v.to_string())
            .collect::<Vec<_>>()
    };
    let mut differ: Vec<String> = Vec::new();
    for (key, _, _) in a.iter().chain(b) {
        let shown = format!("`{key}`");
        if value(a, key) != value(b, key) && !differ.contains(&shown) {
            differ.push(shown);
        }
    }
    // Values spelt two ways (`./faces`, `faces`) or keys outside the id (`eval.every`).
    let detail = if differ.is_empty() {
        String::new()
    } else {
        format!(
            " (they differ only in {}, in a way that does not change what is trained)",
            differ.join(", ")
        )
    };
    let keys = if differ.is_empty() {
        "the duplicate".to_string()
    } else {
        differ.join(", ")
    };
    let trial = |i: usize| i / grid_size.max(1);
    let point = |i: usize| i % grid_size.max(1);
    // A point's origin: `[[grid.include]] #n` for an include table, else the grid product.
    let include = |p: &Point| {
        p.iter()
            .map(|(_, _, origin)| origin.as_str())
            .find(|o| o.starts_with("[[grid.include]]"))
            .map(str::to_string)
    };
    let fix = if trial(first) == trial(index) {
        match (include(a), include(b)) {
            (_, Some(later)) => format!("remove the table {later}, or change it"),
            _ => "remove the duplicate from [grid]".to_string(),
        }
    } else if point(first) == point(index) {
        format!(
            "they are trials #{} and #{} of [search]: remove {keys} from [search]",
            trial(first) + 1,
            trial(index) + 1
        )
    } else {
        format!("they come from [grid] and [search] together: remove {keys} from them")
    };
    format!(
        "variants {first} and {index} of {} resolve to the same settings{detail}; {fix}",
        file.display()
    )
}

/// Problems of the keys `[grid]` and `[search]` vary: keys that cannot vary, a key in both
/// sections or listed twice in the grid, a search key that names no setting, and a variable or
/// `--set` on a varied key (which one would win is not obvious). Also the keys refused (all
/// but the `--set` ones: there the grid's or the search's value is the one trained with).
fn check_varied_keys(
    file: &Path,
    grid: &Grid,
    search_keys: &[&str],
    settings: &[Setting],
) -> (Vec<String>, Vec<String>) {
    let mut problems = Vec::new();
    let mut refused: Vec<String> = Vec::new();
    let mut refuse = |key: &str| {
        if !refused.iter().any(|k| k == key) {
            refused.push(key.to_string());
        }
    };
    let grid_keys = grid.keys();
    for key in &grid_keys {
        if let Some(why) = fixed_reason(key) {
            refuse(key);
            problems.push(format!(
                "[grid] cannot vary `{key}` ({why}) in {}",
                file.display()
            ));
        }
    }
    for (i, (key, _)) in grid.axes.iter().enumerate() {
        if grid.axes[..i].iter().any(|(k, _)| k == key) {
            refuse(key);
            problems.push(format!(
                "[grid] lists `{key}` twice (once as a dotted key, once in a nested table) in {}; keep one",
                file.display()
            ));
        }
    }
    for key in search_keys {
        if !keys::is_known(key) {
            refuse(key);
            problems.extend(check_setting(&Setting {
                key: key.to_string(),
                value: toml::Value::Integer(0),
                origin: Origin::Grid {
                    file: file.to_path_buf(),
                    what: format!("[search] {key}"),
                },
            }));
        } else if let Some(why) = fixed_reason(key) {
            refuse(key);
            problems.push(format!(
                "[search] cannot draw `{key}` ({why}) in {}",
                file.display()
            ));
        }
        if grid_keys.contains(key) {
            refuse(key);
            problems.push(format!(
                "`{key}` is both in [grid] and in [search] in {}; keep it in one of the two",
                file.display()
            ));
        }
    }
    for setting in settings
        .iter()
        .filter(|s| !matches!(s.origin, Origin::File(_)))
    {
        let key = setting.key.as_str();
        let section = if grid_keys.contains(&key) {
            "[grid] varies"
        } else if search_keys.contains(&key) {
            "[search] draws"
        } else {
            continue;
        };
        problems.push(format!(
            "`{key}` is set {} but {section} it in {}; remove one of the two",
            setting.origin,
            file.display()
        ));
    }
    (problems, refused)
}

/// Each distinct grid value checked once; a key that names no setting is reported once, not
/// once per value.
fn check_grid_values(file: &Path, points: &[Point]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut checked: Vec<(&String, &toml::Value)> = Vec::new();
    let mut unknown: Vec<&String> = Vec::new();
    for (key, value, what) in points.iter().flatten() {
        if checked.contains(&(key, value)) || unknown.contains(&key) {
            continue;
        }
        checked.push((key, value));
        if !keys::is_known(key) {
            unknown.push(key);
            // "[grid] KEY[2]" names one value; name the key's list instead.
            let what = what
                .strip_suffix(']')
                .and_then(|w| w.rsplit_once('['))
                .map_or(what.as_str(), |(head, _)| head);
            problems.extend(check_setting(&grid_setting(file, key, value, what)));
            continue;
        }
        problems.extend(check_setting(&grid_setting(file, key, value, what)));
    }
    problems
}

/// `problems` without repeats, in first-seen order.
fn dedup(problems: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in problems {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// `[rollback]` for `replay`: `recorded` (the settings of the run whose metrics.csv is
/// replayed, read from the file it names; None: the defaults, for a log that does not say) with
/// `--set rollback.KEY=VALUE` on top, each checked as in an experiment file.
pub fn resolve_rollback(
    recorded: Option<(&RollbackConfig, &Path)>,
    sets: &[String],
) -> Result<RollbackConfig, ConfigErrors> {
    let mut settings: Vec<Setting> = match recorded {
        Some((cfg, from)) => {
            let table = toml::Table::try_from(cfg).expect("[rollback] serializes");
            layers::leaves(&table, "rollback")
                .into_iter()
                .map(|(key, value)| Setting {
                    key,
                    value,
                    origin: Origin::File(from.to_path_buf()),
                })
                .collect()
        }
        None => Vec::new(),
    };
    let (sets, mut problems) = layers::from_sets(sets, "rollback.patience=5");
    // A config.toml edited by hand is checked as the file it came from was.
    problems.extend(settings.iter().flat_map(check_setting));
    for s in &sets {
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
    settings.extend(sets);
    layers::extract(&settings)
        .map(|c| c.rollback)
        .map_err(|e| ConfigErrors(vec![e]))
}

/// `[prune]` for a replay over a finished sweep: `recorded` (the rule in the runs' settings,
/// read from `from`) with `--set prune.KEY=VALUE` on top, each checked as in an experiment
/// file. `enabled` is whatever they say: a replay applies the rule either way.
pub fn resolve_prune(
    recorded: &PruneConfig,
    from: &Path,
    sets: &[String],
) -> Result<PruneConfig, ConfigErrors> {
    let recorded = toml::Value::try_from(recorded).expect("[prune] serializes");
    let mut settings: Vec<Setting> = recorded
        .as_table()
        .into_iter()
        .flatten()
        .map(|(key, value)| Setting {
            key: format!("prune.{key}"),
            value: value.clone(),
            origin: Origin::File(from.to_path_buf()),
        })
        .collect();
    let (sets, mut problems) = layers::from_sets(sets, "prune.eta=4");
    problems.extend(settings.iter().flat_map(check_setting));
    for s in &sets {
        if s.key.starts_with("prune.") {
            problems.extend(check_setting(s));
        } else {
            problems.push(format!(
                "`{}` {}: only prune.* settings apply to a prune replay",
                s.key, s.origin
            ));
        }
    }
    if !problems.is_empty() {
        return Err(ConfigErrors(problems));
    }
    settings.extend(sets);
    layers::extract(&settings)
        .map(|c| c.prune)
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
    let read_apart = ["grid", "search"]
        .into_iter()
        .find(|section| key == section || key.starts_with(&format!("{section}.")));
    if let Some(section) = read_apart {
        return vec![format!(
            "`{key}` {origin}: [{section}] is read from the experiment file only, not from \
             --set or ANIGAN_* variables; edit it there"
        )];
    }
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
    if has_non_finite(got) {
        return vec![format!(
            "{key} must be a finite number (got {got}) {origin}; inf and nan are not settings"
        )];
    }
    match layers::extract(std::slice::from_ref(s)) {
        Ok(config) => validate::check(&config)
            .into_iter()
            .map(|b| format!("{} {} (got {got}) {origin}", b.key, b.expected))
            .collect(),
        Err(_) if is_negative(got) => {
            // Unsigned keys reject negatives at the type level; show their range rule instead.
            let expected = rule_of(key).unwrap_or_else(|| "must be >= 0".to_string());
            vec![format!("{key} {expected} (got {got}) {origin}")]
        }
        Err(reason) => vec![format!("{key}: {} {origin}", name_found(key, &reason, got))],
    }
}

/// The range rule `key` has (validate's words: "must be >= 2 (...)"), found by checking values
/// that break the usual rules (0, -1, a huge number); None for a key that takes any value of its
/// type.
fn rule_of(key: &str) -> Option<String> {
    use toml::Value::{Float, Integer};
    [
        Integer(0),
        Float(0.0),
        Float(-1.0),
        Float(1e300),
        Integer(i64::MAX),
    ]
    .into_iter()
    .find_map(|value| {
        let probe = Setting {
            key: key.to_string(),
            value,
            origin: Origin::Set(String::new()),
        };
        let config = layers::extract(&[probe]).ok()?;
        validate::check(&config)
            .into_iter()
            .find(|b| b.key == key)
            .map(|b| b.expected)
    })
}

/// What `key` takes, for a type error: `kind` ("a whole number", "a number") with the key's
/// range rule, e.g. "a whole number >= 2 (...)", "a number in (0, 1]"; unsigned without a rule
/// ">= 0".
fn takes(key: &str, kind: &str) -> String {
    let Some(rule) = rule_of(key) else {
        return if kind == WHOLE {
            format!("{kind} >= 0")
        } else {
            kind.to_string()
        };
    };
    let rest = rule.strip_prefix("must be ").unwrap_or(&rule);
    if [">", "<", "in ", "at least", "at most"]
        .iter()
        .any(|p| rest.starts_with(p))
    {
        format!("{kind} {rest}")
    } else if rest.starts_with("a ") && rest.contains("number") {
        rest.to_string()
    } else {
        format!("{kind} that is {rest}")
    }
}

const WHOLE: &str = "a whole number";

/// A float that is inf or nan, also inside an array (`train.betas`).
fn has_non_finite(value: &toml::Value) -> bool {
    match value {
        toml::Value::Float(f) => !f.is_finite(),
        toml::Value::Array(items) => items.iter().any(has_non_finite),
        _ => false,
    }
}

/// Serde's type error in the user's words: it reads a TOML date-time (and a table) as a map,
/// and names Rust types (`f64`) where a user thinks of a number, and of `key`'s range.
fn name_found(key: &str, reason: &str, got: &toml::Value) -> String {
    let mut text = reason.to_string();
    let found = match got {
        toml::Value::Datetime(d) => Some(format!("found the date-time {d}")),
        toml::Value::Table(_) => Some("found a table".to_string()),
        _ => None,
    };
    if let Some(found) = found {
        text = text.replace("found map", &found);
    }
    for (rust, kind, max) in [
        ("expected f64", "a number", None),
        ("expected f32", "a number", None),
        ("expected u64", WHOLE, None),
        ("expected u32", WHOLE, Some(u32::MAX)),
        ("expected usize", WHOLE, None),
    ] {
        if text.contains(rust) {
            // A whole number can only miss the type by its size (negatives are caught before).
            let most = match (max, got) {
                (Some(max), toml::Value::Integer(_)) => format!(", at most {max}"),
                _ => String::new(),
            };
            text = text.replace(rust, &format!("expected {}{most}", takes(key, kind)));
        }
    }
    text
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

/// A short stable hash (blake3, 8 hex digits) of the settings that change what is trained.
///
/// Every key was audited for "does it change the trained weights or the logged numbers?":
/// - out: `experiment.name` (the folder), `experiment.epochs` (raising it extends a run),
///   `experiment.description`, `data.max_bad_fraction` (a tolerance: it stops a run or not),
///   `train.threads` (an execution setting, like `--threads`), `checkpoint.keep` (disk use),
///   `eval.*` (what is measured and drawn: evaluation reseeds, so training's numbers do not
///   move), `[prune]` (like `experiment.epochs`, it decides how far a variant trains, not what
///   it trains), `[tensorboard]` (another record of the same numbers), and the spelling of `data.path` / `data.tags_file` (`./faces`, `faces/` and
///   `faces` are one folder);
/// - in: everything else, including `checkpoint.every` (which epochs a rollback can return to).
pub fn config_hash(config: &Config) -> String {
    let mut value = serde_json::to_value(shaping(config)).expect("config serializes");
    drop_levers_when_off(&mut value);
    drop_unhashed_sections(&mut value);
    hash_value(&value)
}

/// Sections that never enter an id or a seed, removed rather than fixed so that ids made
/// before they existed stay as they were.
fn drop_unhashed_sections(value: &mut serde_json::Value) {
    if let Some(table) = value.as_object_mut() {
        table.remove("prune");
        table.remove("tensorboard");
    }
}

fn hash_value(value: &serde_json::Value) -> String {
    let json = serde_json::to_string(value).expect("config serializes");
    blake3::hash(json.as_bytes()).to_hex()[..8].to_string()
}

/// The quality levers (`model.spectral_norm`, `train.ema_images`, `train.aux_tag_weight`,
/// `[augment]`) left out of the hashed settings while they are off, and `train.tf32` while at
/// its default, so a run made before these keys existed keeps its id.
fn drop_levers_when_off(value: &mut serde_json::Value) {
    let mut drop_if =
        |section: &str, key: Option<&str>, off: &dyn Fn(&serde_json::Value) -> bool| {
            let Some(table) = value.as_object_mut() else {
                return;
            };
            match key {
                Some(key) => {
                    if let Some(s) = table.get_mut(section).and_then(|s| s.as_object_mut())
                        && s.get(key).is_some_and(off)
                    {
                        s.remove(key);
                    }
                }
                None => {
                    if table.get(section).is_some_and(off) {
                        table.remove(section);
                    }
                }
            }
        };
    drop_if("model", Some("spectral_norm"), &|v| {
        v == &serde_json::json!(false)
    });
    drop_if("train", Some("ema_images"), &|v| v == &serde_json::json!(0));
    drop_if("train", Some("tf32"), &|v| v == &serde_json::json!(true));
    drop_if("train", Some("aux_tag_weight"), &|v| {
        v.as_f64() == Some(0.0)
    });
    drop_if("augment", None, &|v| {
        v.get("policy")
            .and_then(|p| p.as_str())
            .is_some_and(|p| p.trim().is_empty())
    });
}

/// `config` with every key that does not change what is trained set to a fixed value (fixed,
/// not the default, so a changed default never changes an id).
/// `config` as its id sees it: the settings `config_hash` leaves out set to one value
/// (threads, `checkpoint.keep`, `[eval]`, `[prune]`, `[tensorboard]`, the description, ...) and
/// paths spelled one way, so that two configs with one id show no difference setting by setting.
pub fn as_identified(config: &Config) -> Config {
    let mut c = shaping(config);
    c.prune = Default::default();
    c.tensorboard = Default::default();
    c
}

fn shaping(config: &Config) -> Config {
    let mut c = config.clone();
    c.experiment.name.clear();
    c.experiment.epochs = 0;
    c.experiment.description.clear();
    c.data.path = normalize_path(&c.data.path);
    c.data.tags_file = normalize_path(&c.data.tags_file);
    c.data.max_bad_fraction = 0.0;
    c.train.threads = 0;
    c.checkpoint.keep = 0;
    c.eval = super::schema::EvalSection {
        sample_every: 0,
        every: 0,
        samples: 0,
    };
    c
}

/// A path spelled one way: `.` parts and trailing slashes dropped, `dir/..` folded (lexically:
/// the file system is not asked, so ids do not depend on the machine).
fn normalize_path(path: &str) -> String {
    use std::path::Component;
    let mut parts: Vec<Component> = Vec::new();
    for part in Path::new(path).components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir if matches!(parts.last(), Some(Component::Normal(_))) => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    let joined: PathBuf = parts.iter().collect();
    joined.to_string_lossy().into_owned()
}

/// The hash that seeds training: `config_hash`'s settings without the `[rollback]` section,
/// the experiment name, the quality levers and `train.tf32`. Rollback settings decide only how the runner
/// reacts to a collapse, so they stay in the variant id (on/off runs are distinct variants) but
/// not in the seed (the pair trains identically until the first rollback, also when the two runs
/// are kept apart under different experiment names); the section is removed, not set to its
/// defaults, so a rollback key added later leaves every seed as it was. The levers are left out
/// for the same reason (paired ablations; EMA changes nothing in training at all), and TF32 so
/// that a run with it off starts from the same weights and batches.
pub fn seed_hash(config: &Config) -> String {
    let mut neutral = shaping(config);
    neutral.model.spectral_norm = false;
    neutral.train.ema_images = 0;
    neutral.train.aux_tag_weight = 0.0;
    neutral.train.tf32 = true;
    neutral.augment = super::schema::AugmentSection::default();
    let mut value = serde_json::to_value(neutral).expect("config serializes");
    drop_levers_when_off(&mut value);
    drop_unhashed_sections(&mut value);
    if let Some(table) = value.as_object_mut() {
        table.remove("rollback");
    }
    hash_value(&value)
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

/// A problem of keys taken together, with where it comes from: the experiment file, and each
/// key it names whose value came from elsewhere (a `--set`, a variable, a grid value), so that
/// `--set data.synthetic_count=1` is named where the problem lies.
fn attributed(problem: &str, file: &Path, layered: &[Setting]) -> String {
    let names = |key: &str| {
        problem.match_indices(key).any(|(at, _)| {
            let next = problem[at + key.len()..].chars().next();
            !next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        })
    };
    let mut out = format!("{problem} in {}", file.display());
    let mut seen: Vec<&str> = Vec::new();
    // The last setting of a key is the one in force.
    for setting in layered.iter().rev() {
        if seen.contains(&setting.key.as_str()) || !names(&setting.key) {
            continue;
        }
        seen.push(&setting.key);
        if !matches!(setting.origin, Origin::File(_)) {
            out += &format!("; {} {}", setting.key, setting.origin);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve_text(text: &str, sets: &[&str]) -> Result<Experiment, ConfigErrors> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("exp.toml");
        std::fs::write(&file, text).unwrap();
        let overrides = Overrides {
            sets: sets.iter().map(|s| s.to_string()).collect(),
            ..Overrides::default()
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
    fn execution_settings_and_path_spelling_do_not_change_ids() {
        let base = ids(
            "[data]\npath = \"faces\"\nsource = \"folder\"\n[grid]\n\"train.lr_d\" = [1e-4, 2e-4]",
        );
        for changed in [
            "[data]\npath = \"./faces/\"\nsource = \"folder\"",
            "[data]\npath = \"x/../faces\"\nsource = \"folder\"\n[train]\nthreads = 3",
            "[data]\npath = \"faces\"\nsource = \"folder\"\nmax_bad_fraction = 0.5\n[checkpoint]\nkeep = 9",
            "[experiment]\nname = \"other\"\n[data]\npath = \"faces\"\nsource = \"folder\"\n[eval]\nevery = 3\nsample_every = 2",
            "[data]\npath = \"faces\"\nsource = \"folder\"\n[tensorboard]\nenabled = false",
        ] {
            let text = format!("{changed}\n[grid]\n\"train.lr_d\" = [1e-4, 2e-4]");
            assert_eq!(ids(&text), base, "{changed}");
        }
        let other = ids(
            "[data]\npath = \"faces2\"\nsource = \"folder\"\n[grid]\n\"train.lr_d\" = [1e-4, 2e-4]",
        );
        assert_ne!(other, base);
        let every = ids(
            "[data]\npath = \"faces\"\nsource = \"folder\"\n[checkpoint]\nevery = 3\n[grid]\n\"train.lr_d\" = [1e-4, 2e-4]",
        );
        assert_ne!(every, base, "checkpoint.every decides the rollback targets");
    }

    #[test]
    fn tf32_at_its_default_keeps_ids_and_off_is_a_paired_variant() {
        let config = |sets: &[&str]| resolve_text("", sets).unwrap().variants[0].config.clone();
        let (default, on, off) = (
            config(&[]),
            config(&["train.tf32=true"]),
            config(&["train.tf32=false"]),
        );
        assert_eq!(config_hash(&default), config_hash(&on));
        assert_ne!(config_hash(&default), config_hash(&off));
        assert_eq!(
            seed_hash(&default),
            seed_hash(&off),
            "same weights and batches"
        );
    }

    #[test]
    fn paths_are_spelled_one_way() {
        assert_eq!(normalize_path("./faces/"), "faces");
        assert_eq!(normalize_path("a/./b/../faces"), "a/faces");
        assert_eq!(normalize_path("../faces"), "../faces");
        assert_eq!(normalize_path("/data/faces/"), "/data/faces");
        assert_eq!(normalize_path(""), "");
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
    fn a_set_without_a_value_shows_an_example_the_command_takes() {
        let sets = |args: &[&str]| -> Vec<String> { args.iter().map(|a| a.to_string()).collect() };
        let prune = PruneConfig::default();
        let from = Path::new("config.toml");
        let rows: [(Result<(), ConfigErrors>, &str, &str); 4] = [
            (
                resolve_text("", &["train.lr_g"]).map(drop),
                "it has no value; write --set train.lr_g=VALUE (e.g. --set train.lr_d=1e-4)",
                "run: any setting; the key typed comes first (a tester was shown another key)",
            ),
            (
                resolve_text("", &["=3"]).map(drop),
                "is not KEY=VALUE; write e.g. --set train.lr_d=1e-4",
                "no key at all: the example alone",
            ),
            (
                resolve_rollback(None, &sets(&["rollback.patience"])).map(drop),
                "write --set rollback.patience=VALUE (e.g. --set rollback.patience=5)",
                "replay takes only rollback.* settings",
            ),
            (
                resolve_prune(&prune, from, &sets(&["prune.eta"])).map(drop),
                "write --set prune.eta=VALUE (e.g. --set prune.eta=4)",
                "prune-replay takes only prune.* settings",
            ),
        ];
        for (result, want, why) in rows {
            let err = result.unwrap_err();
            assert!(err.to_string().contains(want), "{why}: {err}");
        }
        assert!(
            resolve_rollback(None, &sets(&["rollback.patience=5"])).is_ok()
                && resolve_prune(&prune, from, &sets(&["prune.eta=4"])).is_ok(),
            "the examples are settings their commands take"
        );
    }

    /// A run's config.toml edited by hand is no way past the checks an experiment file meets.
    #[test]
    fn a_replayed_rule_from_a_run_folder_is_checked_as_its_file() {
        let from = Path::new("runs/000-x/config.toml");
        let prune = PruneConfig {
            eta: 1,
            ..PruneConfig::default()
        };
        let err = resolve_prune(&prune, from, &[]).unwrap_err().to_string();
        assert!(err.contains("prune.eta must be >= 2"), "{err}");
        assert!(err.contains("runs/000-x/config.toml"), "{err}");
        let rollback = RollbackConfig {
            patience: 0,
            ..RollbackConfig::default()
        };
        let err = resolve_rollback(Some((&rollback, from)), &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("rollback.patience must be at least 1"),
            "{err}"
        );
    }

    const LR_SPACE: &str = "[search]\ntrials = TRIALS\n\
        \"train.lr_d\" = { distribution = \"log_uniform\", low = 1e-5, high = 1e-3 }\n\
        \"train.lr_g\" = { distribution = \"log_uniform\", low = 1e-5, high = 1e-3 }\n";

    fn lr_space(trials: usize) -> String {
        LR_SPACE.replace("TRIALS", &trials.to_string())
    }

    fn errors(text: &str, sets: &[&str]) -> Vec<String> {
        resolve_text(text, sets).unwrap_err().0
    }

    fn has(errors: &[String], want: &str) -> bool {
        errors.iter().any(|e| e.contains(want))
    }

    #[test]
    fn grid_crossed_with_trials_trial_slowest() {
        let e = resolve_text(
            &format!("[grid]\n\"model.d_width\" = [32, 64]\n{}", lr_space(3)),
            &[],
        )
        .unwrap();
        assert_eq!(e.grid_keys, ["model.d_width", "train.lr_d", "train.lr_g"]);
        let sampled = e.sampled.as_ref().unwrap();
        assert_eq!((sampled.trials, sampled.seed), (3, 0));
        let rows: Vec<(i64, f64, f64)> = e
            .variants
            .iter()
            .map(|v| {
                let keys: Vec<&str> = v.grid_values.iter().map(|(k, _)| k.as_str()).collect();
                assert_eq!(keys, e.grid_keys, "values in grid_keys order");
                (
                    v.grid_values[0].1.as_integer().unwrap(),
                    v.config.train.lr_d,
                    v.config.train.lr_g,
                )
            })
            .collect();
        assert_eq!(rows.len(), 6);
        for t in 0..3 {
            let (a, b) = (rows[2 * t], rows[2 * t + 1]);
            assert_eq!((a.0, b.0), (32, 64), "the grid varies fastest");
            assert_eq!((a.1, a.2), (b.1, b.2), "one trial per grid pass");
        }
        assert_ne!(rows[0].1, rows[2].1, "trials differ");
        assert_eq!(
            e.variants[0].grid_values[1].1,
            toml::Value::Float(e.variants[0].config.train.lr_d),
            "the value shown is the value trained with"
        );
    }

    #[test]
    fn more_trials_keep_earlier_ids_and_rereading_gives_the_same() {
        let grid = "[grid]\n\"model.d_width\" = [32, 64]\n";
        let few = ids(&format!("{grid}{}", lr_space(4)));
        let more = ids(&format!("{grid}{}", lr_space(7)));
        assert_eq!(few.len(), 8);
        assert_eq!(few[..], more[..8]);
        assert_eq!(few, ids(&format!("{grid}{}", lr_space(4))));
        let random = lr_space(4).replace("trials", "method = \"random\"\ntrials");
        assert_ne!(
            ids(&random),
            ids(&lr_space(4)),
            "another method, other trials"
        );
    }

    #[test]
    fn trials_follow_the_experiment_seed_unless_search_has_one() {
        let lr = |text: &str, sets: &[&str]| -> Vec<f64> {
            resolve_text(text, sets)
                .unwrap()
                .variants
                .iter()
                .map(|v| v.config.train.lr_d)
                .collect()
        };
        let base = lr(&lr_space(3), &[]);
        assert_ne!(base, lr(&lr_space(3), &["experiment.seed=1"]));
        assert_ne!(
            base,
            lr(&format!("[experiment]\nseed = 1\n{}", lr_space(3)), &[])
        );
        let pinned = lr_space(3).replace("trials", "seed = 0\ntrials");
        assert_eq!(
            base,
            lr(&pinned, &["experiment.seed=1"]),
            "[search] seed keeps the trials"
        );
        let e = resolve_text(&pinned, &["experiment.seed=1"]).unwrap();
        assert_eq!(
            e.variants[0].config.experiment.seed, 1,
            "training still uses its own seed"
        );
    }

    #[test]
    fn sampled_keys_are_checked_like_grid_keys() {
        type Row<'a> = (&'a str, &'a [&'a str], &'a str, &'a str);
        let rows: &[Row] = &[
            (
                "[grid]\n\"train.lr_d\" = [1e-4]\n",
                &[],
                "`train.lr_d` is both in [grid] and in [search]",
                "one key in both sections",
            ),
            (
                "",
                &["train.lr_g=1e-4"],
                "`train.lr_g` is set in --set train.lr_g=1e-4 but [search] draws it",
                "--set on a drawn key",
            ),
            (
                "[search.train]\nlr_dd = { distribution = \"uniform\", low = 1, high = 2 }\n",
                &[],
                "unknown key `train.lr_dd` in ",
                "a key that names no setting",
            ),
            (
                "[search.experiment]\nepochs = { distribution = \"int\", low = 1, high = 9 }\n",
                &[],
                "[search] cannot draw `experiment.epochs`",
                "a fixed key",
            ),
            (
                "[search.prune]\neta = { distribution = \"int\", low = 2, high = 4 }\n",
                &[],
                "[search] cannot draw `prune.eta` (every variant of an experiment is judged by one rule)",
                "prune keys are fixed",
            ),
            (
                "[search.train]\np0 = { distribution = \"uniform\", low = 0.9, high = 1.5 }\n",
                &[],
                "train.p0 must be in (0, 1] (got 1.5) in ",
                "a range end outside the key's range",
            ),
            (
                "[search.train]\np0 = { distribution = \"uniform\", low = 0.9, high = 1.5 }\n",
                &[],
                "[search] train.p0 high",
                "the message names the end",
            ),
            (
                "[search.data]\nimage_size = { distribution = \"int\", low = 16, high = 128, step = 16 }\n",
                &[],
                "data.image_size must be a power of two in 16..=256 (16, 32, 64, 128 or 256) (got 48)",
                "ends allowed, values between not",
            ),
            (
                "[search.data]\nimage_size = { distribution = \"int\", low = 16, high = 128, step = 16 }\n",
                &[],
                "3 more of its values break the rules too (80, 96, 112)",
                "one message per key",
            ),
            (
                "[search.model]\nd_width = { distribution = \"uniform\", low = 32, high = 128 }\n",
                &[],
                "[search] model.d_width takes whole numbers, but a uniform range draws fractions",
                "floats for an integer key",
            ),
            (
                "[search.train]\nschedule = { distribution = \"choice\", values = [\"phased\", \"sometimes\"] }\n",
                &[],
                "train.schedule: unknown value \"sometimes\"",
                "every choice is checked",
            ),
        ];
        for &(extra, sets, want, reason) in rows {
            let found = errors(&format!("{}{extra}", lr_space(2)), sets);
            assert!(has(&found, want), "{reason}: {found:?}");
        }
        let d_width = errors(
            &format!(
                "{}[search.model]\nd_width = {{ distribution = \"uniform\", low = 32, high = 128 }}\n",
                lr_space(2)
            ),
            &[],
        );
        assert_eq!(
            d_width.len(),
            1,
            "no second message per drawn value: {d_width:?}"
        );
    }

    #[test]
    fn the_variant_cap_counts_grid_times_trials() {
        let found = errors(
            &format!("[grid]\n\"model.d_width\" = [32, 64]\n{}", lr_space(5001)),
            &[],
        );
        assert!(
            has(
                &found,
                "[grid] x [search] trials = 5001 expands to 10002 variants, more than the 10000"
            ),
            "{found:?}"
        );
        assert!(has(
            &errors(&lr_space(10_001), &[]),
            "expands to 10001 variants"
        ));
    }

    #[test]
    fn a_space_too_small_for_its_trials_still_reports_its_values() {
        let found = errors(
            "[search]\ntrials = 4\n\"train.label_noise\" = { distribution = \"choice\", \
             values = [0.1, 0.7] }",
            &[],
        );
        assert!(has(&found, "only 2 distinct combinations"), "{found:?}");
        assert!(
            has(&found, "train.label_noise") && has(&found, "values[1]"),
            "the out-of-range choice is reported in the same run: {found:?}"
        );
    }

    #[test]
    fn a_choice_listed_twice_hides_no_other_problem_of_its_space() {
        let found = errors(
            "[search]\ntrials = 5\n\"train.batch_size\" = { distribution = \"choice\", \
             values = [16, 16, 0] }\n\"model.d_width\" = { distribution = \"int\", low = 8, \
             high = 9 }",
            &[],
        );
        let rows = [
            ("choice lists 16 twice", "the duplicate itself"),
            ("values[2]", "the out-of-range value beside it"),
            (
                "only 4 distinct combinations",
                "the space counted by distinct values: 2 x 2 < 5 trials",
            ),
        ];
        for (text, why) in rows {
            assert!(has(&found, text), "{why}: {found:?}");
        }
    }

    #[test]
    fn prune_is_no_part_of_ids_and_cannot_vary() {
        let base = ids("[grid]\n\"train.lr_d\" = [1e-4, 2e-4]");
        let pruned = ids(
            "[prune]\nenabled = true\neta = 4\nfirst_rung = 5\n[grid]\n\"train.lr_d\" = [1e-4, 2e-4]",
        );
        assert_eq!(base, pruned);
        let config = |sets: &[&str]| resolve_text("", sets).unwrap().variants[0].config.clone();
        assert_eq!(
            seed_hash(&config(&[])),
            seed_hash(&config(&["prune.enabled=true", "prune.min_peers=7"]))
        );
        assert!(has(
            &errors("[grid]\n\"prune.eta\" = [2, 3]", &[]),
            "[grid] cannot vary `prune.eta`"
        ));
    }

    #[test]
    fn prune_needs_evaluations_and_a_metric_the_data_has() {
        let found = errors("[prune]\nenabled = true\n[eval]\nevery = 0", &[]);
        assert!(has(&found, "eval.every = 0 computes none"), "{found:?}");
        assert!(resolve_text("[prune]\nenabled = false\n[eval]\nevery = 0", &[]).is_ok());
        let found = errors(
            "[prune]\nenabled = true\nmetric = \"tag_kl\"\n[data]\nsource = \"folder\"\npath = \"faces\"",
            &[],
        );
        assert!(
            has(&found, "prune.metric = \"tag_kl\" needs a labelled dataset"),
            "{found:?}"
        );
        let found = errors("[prune]\neta = 1\nmetric = \"fid\"", &[]);
        assert!(has(&found, "prune.eta must be >= 2"), "{found:?}");
        assert!(
            has(&found, "prune.metric: unknown value \"fid\""),
            "{found:?}"
        );
    }

    #[test]
    fn grid_key_listed_twice() {
        let found = errors("[grid]\n\"train.lr_d\" = [1e-4]\ntrain.lr_d = [2e-4]", &[]);
        assert!(has(&found, "[grid] lists `train.lr_d` twice"), "{found:?}");
    }

    #[test]
    fn section_given_a_value() {
        let err = resolve_text("train = 3", &[]).unwrap_err();
        assert!(err.0[0].contains("`train` is a section"), "{err}");
    }

    const DRAW_LR: &str =
        "\"train.lr_d\" = { distribution = \"log_uniform\", low = 1e-5, high = 1e-3 }\n";

    #[test]
    fn an_empty_section_means_its_defaults() {
        let search = format!("[search]\ntrials = 3\n{DRAW_LR}[search.model]\n");
        let rows = [
            (
                "[experiment]\nepochs = 2\n[train]\n",
                1,
                "keys commented out",
            ),
            ("[prune]\n[tensorboard]\n", 1, "two of them"),
            ("[rollback.g_failure]\n", 1, "a nested section"),
            ("[grid]\n", 1, "an empty grid is one variant, as no grid"),
            (
                "[grid]\n\"train.lr_d\" = [1e-4, 2e-4]\n[grid.model]\n",
                2,
                "an empty section inside [grid]",
            ),
            (search.as_str(), 3, "an empty section inside [search]"),
        ];
        for (text, variants, reason) in rows {
            match resolve_text(text, &[]) {
                Ok(e) => assert_eq!(e.variants.len(), variants, "{reason}"),
                Err(e) => panic!("{reason}: {e}"),
            }
        }
        let config = resolve_text("[train]\n", &[]).unwrap().variants[0]
            .config
            .clone();
        assert_eq!(config, resolve_text("", &[]).unwrap().variants[0].config);
    }

    /// (file, --set, a problem wanted, how many problems, why).
    type Row<'a> = (&'a str, &'a [&'a str], &'a str, usize, &'a str);

    fn check_rows(rows: &[Row]) {
        for &(text, sets, want, count, reason) in rows {
            let found = errors(text, sets);
            assert!(has(&found, want), "{reason}: {found:?}");
            assert_eq!(found.len(), count, "{reason}: {found:?}");
        }
    }

    #[test]
    fn a_grid_with_a_shape_problem_still_has_its_other_keys_checked() {
        // "Every problem is reported at once": a user fixing one should not meet the next.
        let text =
            "[grid]\n\"train.lr_d\" = []\n\"experiment.epochs\" = [1, 2]\n\"train.p0\" = [5.0]\n";
        let found = errors(text, &[]);
        for (want, reason) in [
            ("train.lr_d is an empty list", "the shape problem"),
            ("cannot vary `experiment.epochs`", "a fixed key beside it"),
            ("train.p0", "an out-of-range value beside it"),
        ] {
            assert!(has(&found, want), "{reason}: {found:?}");
        }
        assert_eq!(found.len(), 3, "{found:?}");
    }

    #[test]
    fn empty_sections_that_still_miss_something() {
        check_rows(&[
            (
                "[search]\n",
                &[],
                "[search] has neither `trials = N` nor a key to draw: give it both",
                1,
                "an empty [search] says what it lacks",
            ),
            (
                "[search]\ntrials = 2\n[search.train]\n",
                &[],
                "[search] draws no key",
                1,
                "its keys commented out, trials left",
            ),
            (
                "[train]\nlr_d = {}\n",
                &[],
                "train.lr_d: invalid type: found a table",
                1,
                "an empty table at a key is its value",
            ),
            (
                "[trian]\n",
                &[],
                "unknown section `[trian]` in ",
                1,
                "an empty misspelt section is still misspelt",
            ),
        ]);
    }

    #[test]
    fn a_misspelt_section_is_one_problem_naming_the_section() {
        let serach = format!("[serach]\ntrials = 2\n{DRAW_LR}");
        let search_trian = format!(
            "[search]\ntrials = 2\n{DRAW_LR}[search.trian]\n\
             p0 = {{ distribution = \"uniform\", low = 0.9, high = 0.99 }}\n\
             lr_g = {{ distribution = \"uniform\", low = 1e-4, high = 1e-3 }}\n"
        );
        check_rows(&[
            (
                &serach,
                &[],
                "unknown section `[serach]` in ",
                1,
                "[search] misspelt: one problem, not one per key",
            ),
            (
                &serach,
                &[],
                "; did you mean `[search]`?",
                1,
                "and it names [search]",
            ),
            (
                "[trian]\nlr_d = 1e-4\np0 = 0.9\n",
                &[],
                "did you mean `[train]`?",
                1,
                "a settings section",
            ),
            (
                "[gird]\n\"train.lr_d\" = [1e-4, 2e-4]\n",
                &[],
                "did you mean `[grid]`?",
                1,
                "[grid] misspelt",
            ),
            (
                "[rollback.g_falure]\nlr_d_factor = 0.5\nlr_g_factor = 0.5\n",
                &[],
                "unknown section `[rollback.g_falure]` in ",
                1,
                "a nested section",
            ),
            (
                "[rollback.g_falure]\nlr_d_factor = 0.5\n",
                &[],
                "did you mean `[rollback.g_failure]`?",
                1,
                "the nested section meant",
            ),
            (
                "[grid.trian]\nlr_d = [1e-4, 2e-4]\np0 = [0.9, 0.99]\n",
                &[],
                "[grid] unknown section `[grid.trian]`; did you mean `[grid.train]`?",
                1,
                "a misspelt section inside [grid]",
            ),
            (
                &search_trian,
                &[],
                "[search] unknown section `[search.trian]`; did you mean `[search.train]`?",
                1,
                "a misspelt section inside [search]",
            ),
        ]);
    }

    #[test]
    fn a_misspelt_field_of_grid_or_search_names_the_field_meant() {
        let trails = format!("[search]\ntrails = 2\n{DRAW_LR}");
        check_rows(&[
            (
                &trails,
                &[],
                "[search] has no field `trails`; did you mean `trials`?",
                1,
                "a misspelt field, and no second problem for the missing trials",
            ),
            (
                "[search]\ntrials = 2\n\"train.lr_d\" = { distribtion = \"uniform\", low = 1e-4, high = 1e-3 }\n",
                &[],
                "[search] train.lr_d: unknown field `distribtion`; did you mean `distribution`?",
                1,
                "a misspelt distribution field",
            ),
            (
                "[search]\ntrials = 2\n\"train.lr_d\" = { low = 1e-4, high = 1e-3 }\n",
                &[],
                "[search] train.lr_d needs `distribution`, one of uniform,",
                1,
                "a range without its distribution",
            ),
            (
                "[grid]\n\"train.lr_d\" = [1e-4]\n[[grid.inclde]]\n\"train.lr_d\" = 5e-4\n",
                &[],
                "[grid] has no `inclde`; did you mean `include` ([[grid.include]])?",
                1,
                "a misspelt include",
            ),
        ]);
    }

    #[test]
    fn no_follow_on_duplicates_and_duplicates_name_their_source() {
        let int = |key: &str| {
            format!(
                "[search]\ntrials = 2\n\"{key}\" = {{ distribution = \"int\", low = 2, high = 8 }}\n"
            )
        };
        let (epochs, eta) = (int("experiment.epochs"), int("prune.eta"));
        let both = format!("[grid]\n\"train.lr_d\" = [1e-4, 2e-4]\n{}", lr_space(2));
        let search_dup = int("eval.every");
        let grid_and_search = format!(
            "[grid]\n\"checkpoint.keep\" = [1, 2]\n{}",
            int("eval.every")
        );
        check_rows(&[
            (
                &epochs,
                &[],
                "[search] cannot draw `experiment.epochs`",
                1,
                "a fixed key drawn",
            ),
            (
                &eta,
                &[],
                "[search] cannot draw `prune.eta`",
                1,
                "a prune key drawn",
            ),
            (
                &both,
                &[],
                "`train.lr_d` is both in [grid] and in [search]",
                1,
                "a key in both sections",
            ),
            (
                "[grid]\n\"experiment.epochs\" = [10, 20]\n",
                &[],
                "[grid] cannot vary `experiment.epochs`",
                1,
                "a fixed key in the grid",
            ),
            (
                "[grid]\n\"train.lr_d\" = [1e-4, 2e-4]\ntrain.lr_d = [3e-4, 4e-4]\n",
                &[],
                "[grid] lists `train.lr_d` twice",
                1,
                "a grid key twice",
            ),
            (
                "[grid]\n\"experiment.epochs\" = [10, 20]\n\"train.lr_d\" = [1e-4, 1e-4]\n",
                &[],
                "variants 0 and 1 of ",
                3,
                "a real duplicate beside a fixed key is still one (per value of the fixed key)",
            ),
            (
                "[grid]\n\"train.lr_d\" = [1e-4, 2e-4, 1e-4]\n",
                &[],
                "resolve to the same settings; remove the duplicate from [grid]",
                1,
                "the same value twice in [grid]",
            ),
            (
                "[grid]\n\"train.lr_d\" = [1e-4, 2e-4]\n[[grid.include]]\n\"train.lr_d\" = 2e-4\n",
                &[],
                "resolve to the same settings; remove the table [[grid.include]] #1, or change it",
                1,
                "an include table that repeats a grid point is the one to remove",
            ),
            (
                "[grid]\n\"eval.every\" = [1, 2]\n",
                &[],
                "(they differ only in `eval.every`, in a way that does not change what is \
                 trained); remove the duplicate from [grid]",
                1,
                "[grid] over a key outside the id",
            ),
            (
                "[data]\nsource = \"folder\"\n[grid]\n\"data.path\" = [\"faces\", \"./faces\"]\n",
                &[],
                "(they differ only in `data.path`, in a way that does not change what is trained)",
                1,
                "one folder spelt two ways",
            ),
            (
                &search_dup,
                &[],
                "they are trials #1 and #2 of [search]: remove `eval.every` from [search]",
                1,
                "[search] over a key outside the id: not [grid]",
            ),
            (
                &grid_and_search,
                &[],
                "variants 0 and 3 of ",
                3,
                "[grid] and [search] together",
            ),
            (
                &grid_and_search,
                &[],
                "they come from [grid] and [search] together: remove `checkpoint.keep`, \
                 `eval.every` from them",
                3,
                "the keys of both",
            ),
        ]);
    }

    #[test]
    fn a_type_error_states_the_keys_range() {
        let choice = format!(
            "{}\"train.batch_size\" = {{ distribution = \"choice\", values = [32, \"x\"] }}\n",
            lr_space(2)
        );
        check_rows(&[
            (
                "",
                &["prune.eta=1.5"],
                "prune.eta: invalid type: found float `1.5`, expected a whole number >= 2 (",
                1,
                "eta's rule, not >= 0",
            ),
            (
                &choice,
                &[],
                "expected a whole number >= 1 in ",
                1,
                "a choice of batch_size",
            ),
            (
                "",
                &["data.image_size=x"],
                "expected a whole number that is a power of two in 16..=256",
                1,
                "a rule that is no bound",
            ),
            (
                "",
                &["rollback.patience=1.5"],
                "expected a whole number at least 1",
                1,
                "the health module's words",
            ),
            (
                "",
                &["model.d_width=99999999999"],
                "expected a whole number >= 4, at most 4294967295",
                1,
                "too big for its type",
            ),
            (
                "",
                &["experiment.seed=x"],
                "expected a whole number >= 0 in ",
                1,
                "a key without a rule",
            ),
            (
                "",
                &["train.p0=x"],
                "expected a number in (0, 1] in ",
                1,
                "a fraction's range",
            ),
            (
                "",
                &["train.lr_d=x"],
                "expected a number > 0 in ",
                1,
                "a rate",
            ),
            (
                "",
                &["rollback.d_fooled.batch_factor=x"],
                "expected a positive number in ",
                1,
                "the health module's float words",
            ),
            (
                "",
                &["train.label_noise=x"],
                "expected a number in [0, 0.5) in ",
                1,
                "found by -1",
            ),
            (
                "",
                &["train.batch_size=-8"],
                "train.batch_size must be >= 1 (got -8)",
                1,
                "negative",
            ),
        ]);
    }

    #[test]
    fn grid_and_search_are_set_in_the_file_only() {
        check_rows(&[
            (
                &lr_space(2),
                &["search.trials=6"],
                "`search.trials` in --set search.trials=6: [search] is read from the experiment \
                 file only, not from --set or ANIGAN_* variables; edit it there",
                1,
                "--set on [search]",
            ),
            (
                "",
                &["search.trials=6"],
                "[search] is read from the experiment file only",
                1,
                "no [search] in the file",
            ),
            (
                "",
                &["grid.train.lr_d=[1e-4, 2e-4]"],
                "[grid] is read from the experiment file only",
                1,
                "--set on [grid]",
            ),
        ]);
    }
}
