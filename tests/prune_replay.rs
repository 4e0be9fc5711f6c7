//! `prune-replay` over a sweep trained with `[prune]` (tests/fixtures/pruned-live: 9 variants,
//! rule first_rung 2, eta 3, min_peers 3, 20 epochs; six stopped live at epoch 2, their rows end
//! there). The recorded rule replays to what the sweep did; a looser one keeps two of the
//! stopped variants past epoch 2, where they have no rows: the replay must say it cannot know
//! what follows (for them, for the decisions they could turn, for the totals and the winner),
//! in the text and in the JSON alike. No training: the fixture holds only what the replay reads.

use assert_cmd::Command;
use serde_json::Value;

const SWEEP: &str = "tests/fixtures/pruned-live/plive";
const KEPT_LOOSER: [&str; 2] = ["004-23a6953d", "007-7fb081f6"];

fn replay(extra: &[&str]) -> String {
    let out = Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg("prune-replay")
        .arg(SWEEP)
        .args(extra)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

fn json(extra: &[&str]) -> Value {
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    serde_json::from_str(&replay(&args)).unwrap()
}

/// A copy of the fixture sweep under `dir`, to edit.
fn copy_of_sweep(dir: &std::path::Path) -> std::path::PathBuf {
    let copy = dir.join("plive");
    let status = std::process::Command::new("cp")
        .args(["-r", SWEEP])
        .arg(&copy)
        .status()
        .unwrap();
    assert!(status.success());
    copy
}

/// The table row of variant `id` (its id in the second column).
fn row<'a>(text: &'a str, id: &str) -> &'a str {
    text.lines()
        .find(|l| l.split_whitespace().nth(1) == Some(id))
        .unwrap()
}

#[test]
fn the_recorded_rule_replays_to_what_the_sweep_did() {
    let report = json(&[]);
    for v in report["variants"].as_array().unwrap() {
        assert_eq!(v["replayed"], v["recorded"], "{v:#}");
        assert!(v["unknown"].is_null(), "{v:#}");
    }
    assert_eq!(report["totals"]["unknown"], serde_json::json!([]));
    let text = replay(&[]);
    assert!(!text.contains("unknown"), "{text}");
    assert!(text.contains("survives every rung"), "{text}");
}

#[test]
fn a_looser_rule_past_the_recorded_rows_says_what_it_cannot_know() {
    let text = replay(&["--set", "prune.eta=2"]);
    for id in KEPT_LOOSER {
        let line = row(&text, id);
        assert!(
            line.contains("unknown")
                && line.contains("its rows end at epoch 2 (pruned live by the recorded rule)")
                && line.contains("would train it further"),
            "{id} outlives its rows: {text}"
        );
        assert_eq!(
            line.split_whitespace().nth(3),
            Some("unknown"),
            "{id} is not known to be pruned: {text}"
        );
    }
    assert!(
        text.contains("training images: ")
            && text.contains("saved (")
            && text.contains("incomplete"),
        "the totals are bounds: {text}"
    );
    assert!(
        !text.contains("survives every rung"),
        "the winner's fate turns on the unknown variants: {text}"
    );

    let report = json(&["--set", "prune.eta=2"]);
    let variants = report["variants"].as_array().unwrap();
    let unknown: Vec<&str> = variants
        .iter()
        .filter(|v| v["replayed"] == "unknown")
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    for id in KEPT_LOOSER {
        assert!(unknown.contains(&id), "{report:#}");
    }
    let listed: Vec<&str> = report["totals"]["unknown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(listed, unknown, "totals list the variants marked unknown");
    for v in variants {
        let id = v["id"].as_str().unwrap();
        assert_eq!(v["unknown"].is_null(), v["replayed"] != "unknown", "{v:#}");
        assert_eq!(
            row(&text, id).split_whitespace().nth(3),
            v["replayed"].as_str(),
            "the text and the JSON agree on {id}: {text}"
        );
        // A decision the replay states was judged without a variant it cannot follow only
        // if it holds whatever that variant had; the rungs past a lost variant's rows are
        // never judged as if it was not there without saying so.
        for d in v["decisions"].as_array().unwrap() {
            let rung = d["rung_epoch"].as_u64().unwrap();
            let without: Vec<&str> = d["unknown_peers"]
                .as_array()
                .map(|a| a.iter().map(|p| p.as_str().unwrap()).collect())
                .unwrap_or_default();
            if rung > 2 {
                for lost in KEPT_LOOSER.iter().filter(|&&l| l != id) {
                    assert!(without.contains(lost), "{id} at {rung}: {d:#}");
                }
            }
        }
    }
    let best = &report["totals"]["best"];
    assert_eq!(best["id"], "002-05d40ef7");
    assert!(
        best["fate"] == "unknown" && best.get("at").is_none() && !best["unknown"].is_null(),
        "{best:#}"
    );
    // final_figure: how the sweep ended it, only where its own training did.
    for v in variants.iter().filter(|v| v["replayed"] == "unknown") {
        assert_eq!(
            v["final_figure"].is_null(),
            v["recorded"] == "pruned",
            "the last figure of rows cut short is no final one: {v:#}"
        );
        assert!(v["last_figure"]["epoch"].is_u64(), "{v:#}");
    }
    let t = &report["totals"];
    let f = |k: &str| t[k].as_f64().unwrap();
    assert!(f("images_replayed_min") < f("images_replayed_max"), "{t:#}");
    assert!(f("images_replayed_max") <= f("images_budget"), "{t:#}");
}

/// What the sweep costs without [prune]: six variants stopped live at epoch 2 of 20 count
/// their whole budget, not the rows they have.
#[test]
fn shares_and_savings_are_measured_against_the_budget() {
    let t = json(&[])["totals"].clone();
    let f = |k: &str| t[k].as_f64().unwrap();
    let per_variant = f("images_budget") / 9.0;
    assert!(
        f("images_budget") > f("images_recorded"),
        "the pruned variants' budgets count in full: {t:#}"
    );
    assert_eq!(t["budget_past_rows"].as_array().unwrap().len(), 6, "{t:#}");
    assert!(
        f("images_budget") - f("images_replayed_min") > 6.0 * 0.8 * per_variant,
        "the recorded rule saves most of six budgets: {t:#}"
    );
    let text = replay(&[]);
    assert!(
        text.contains("the sweep costs without [prune]") && !text.contains("0 saved (0.0%)"),
        "{text}"
    );
}

/// With min_peers above the number of variants no rung can stop anyone: the variants whose
/// rows end early train their budget (known), and nothing is unknown.
#[test]
fn a_rule_that_can_stop_nobody_leaves_nothing_unknown() {
    let report = json(&["--set", "prune.min_peers=20"]);
    let t = &report["totals"];
    assert_eq!(t["unknown"], serde_json::json!([]), "{t:#}");
    assert_eq!(t["images_replayed_min"], t["images_budget"], "{t:#}");
    for v in report["variants"].as_array().unwrap() {
        assert_eq!(v["replayed"], "finished", "{v:#}");
        if v["recorded"] == "pruned" {
            assert!(
                v["past_rows"].as_str().unwrap().contains("unknown"),
                "{v:#}"
            );
        }
    }
    let text = replay(&["--set", "prune.min_peers=20"]);
    assert!(
        !text.contains("at least") && !text.contains("incomplete"),
        "{text}"
    );
}

/// Rows that end at epoch 2 under a rule whose first rung is 4: trained to 4 at least.
#[test]
fn a_cut_variant_trains_at_least_to_the_next_rung_that_could_stop_it() {
    let report = json(&["--set", "prune.first_rung=4"]);
    for v in report["variants"].as_array().unwrap() {
        if v["replayed"] == "unknown" {
            assert!(v["epochs_replayed_min"].as_u64().unwrap() >= 4, "{v:#}");
            assert_eq!(v["epochs_replayed_max"], 20, "{v:#}");
        }
    }
}

#[test]
fn a_bad_rule_is_exit_2_headed_as_the_replayed_rule() {
    Command::cargo_bin("anigan-runner")
        .unwrap()
        .args([
            "prune-replay",
            SWEEP,
            "--set",
            "prune.eta=0",
            "--set",
            "train.lr_d=1",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "2 problems in the replayed [prune] rule:",
        ))
        .stderr(predicates::str::contains("prune.eta must be >= 2"))
        .stderr(predicates::str::contains("only prune.* settings apply"));
}

/// A run's config.toml that cannot be read is said, not replaced by the default rule.
#[test]
fn an_unreadable_recorded_rule_is_exit_2_not_the_defaults() {
    let tmp = tempfile::tempdir().unwrap();
    let copy = copy_of_sweep(tmp.path());
    let config = copy.join("runs/000-caa5acd6/config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let edited: Vec<String> = text
        .lines()
        .map(|l| match l.starts_with("eta = ") {
            true => "eta = \"x\"".to_string(),
            false => l.to_string(),
        })
        .collect();
    std::fs::write(&config, edited.join("\n")).unwrap();
    Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg("prune-replay")
        .arg(&copy)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "the recorded [prune] rule is read from the runs' config.toml, and this one cannot be read",
        ))
        .stderr(predicates::str::contains("000-caa5acd6/config.toml"));
}

/// Runs trained under two rules (`[prune]` changed between commands): the replay starts from
/// the rule of the config.toml written last, and says so on stderr, naming the other runs.
#[test]
fn runs_trained_under_two_rules_replay_the_newest_and_say_so() {
    let tmp = tempfile::tempdir().unwrap();
    let copy = copy_of_sweep(tmp.path());
    let config = copy.join("runs/005-eb9b1875/config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let edited = text.replace("min_peers = 3\n", "min_peers = 3\nmax_rungs = 1\n");
    assert_ne!(edited, text, "the fixture's [prune] has min_peers = 3");
    std::fs::write(&config, edited).unwrap();
    // Newest by an hour, whatever order cp wrote the copies in.
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&config)
        .unwrap()
        .set_modified(later)
        .unwrap();
    let out = Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg("prune-replay")
        .arg(&copy)
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .clone();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["rule"]["max_rungs"], 1, "{:#}", report["rule"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for says in [
        "more than one [prune] rule",
        "005-eb9b1875 was trained with last",
        "max_rungs 1",
        "8 run(s) recorded another: 000-caa5acd6,",
    ] {
        assert!(stderr.contains(says), "{says}: {stderr}");
    }
}
