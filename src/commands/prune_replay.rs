//! `anigan-runner prune-replay RESULTS/EXPERIMENT`: what a `[prune]` rule would have done to a
//! finished sweep (`sweep::replay`), as a table or JSON.

use anyhow::Result;
use serde::Serialize;

use crate::cli::PruneReplayArgs;
use crate::config;
use crate::exit::Exit;
use crate::prune::{self, PruneConfig};
use crate::results::reader::{self, Run};
use crate::sweep::replay::{self, Replayed, Totals};

#[derive(Serialize)]
struct Report<'a> {
    experiment: &'a str,
    rule: &'a PruneConfig,
    variants: &'a [Replayed],
    totals: &'a Totals,
}

pub fn prune_replay(args: &PruneReplayArgs) -> Result<Exit> {
    let dir = super::report::experiment_dir(&args.dir)?;
    let record = reader::read_experiment(&dir)?;
    let runs: Vec<&Run> = record.runs.iter().filter(|r| !r.rows.is_empty()).collect();
    // The rule the runs were trained with (enabled or not), the first that says.
    let recorded = runs
        .iter()
        .find_map(|r| Some((reader::read_config(&r.dir).ok()?.prune, r.dir.config())));
    let (base, from) = recorded.unwrap_or_else(|| (PruneConfig::default(), dir.root().into()));
    let mut rule = config::resolve_prune(&base, &from, &args.sets)?;
    rule.enabled = true;
    let replayed = replay::replay(&runs, &rule);
    let totals = replay::totals(&replayed);
    if args.json {
        let report = Report {
            experiment: &record.name,
            rule: &rule,
            variants: &replayed,
            totals: &totals,
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("the replay serializes")
        );
    } else {
        print!("{}", text(&record.name, &rule, &runs, &replayed, &totals));
    }
    Ok(Exit::Success)
}

fn text(
    name: &str,
    rule: &PruneConfig,
    runs: &[&Run],
    replayed: &[Replayed],
    totals: &Totals,
) -> String {
    let budget = runs
        .iter()
        .filter_map(|r| r.planned_epochs)
        .max()
        .unwrap_or(0);
    let rungs: Vec<String> = prune::rungs(rule, budget)
        .iter()
        .map(|r| r.epoch.to_string())
        .collect();
    let mut out = format!(
        "{name}: [prune] replayed over {} trained variant(s) in index order (as `run --jobs 1` \
         meets them): best {} so far, rungs at epochs {} of {budget}, eta {}, min_peers {}\n",
        replayed.len(),
        rule.metric,
        if rungs.is_empty() {
            "(none)".to_string()
        } else {
            rungs.join(", ")
        },
        rule.eta,
        rule.min_peers
    );
    out += &format!(
        "{:>5}  {:<12}  {:<11}  {:<11}  {:>13}  {}\n",
        "index", "id", "recorded", "replayed", "epochs", "decision"
    );
    for r in replayed {
        let decision = match r.stop() {
            Some(s) => s.summary(),
            None => format!("survives {} rung(s)", r.decisions.len()),
        };
        out += &format!(
            "{:>5}  {:<12}  {:<11}  {:<11}  {:>13}  {decision}\n",
            r.index,
            r.id,
            r.recorded,
            r.replayed,
            format!("{} of {}", r.epochs_replayed, r.epochs_recorded),
        );
    }
    let share = |x: f64| {
        if totals.images_recorded > 0.0 {
            100.0 * x / totals.images_recorded
        } else {
            0.0
        }
    };
    out += &format!(
        "training images: {:.0} of the {:.0} trained ({:.1}%); {:.0} saved ({:.1}%)\n",
        totals.images_replayed,
        totals.images_recorded,
        share(totals.images_replayed),
        totals.images_recorded - totals.images_replayed,
        share(totals.images_recorded - totals.images_replayed)
    );
    out += &match &totals.best {
        None => "no variant finished with a figure: no winner to check\n".to_string(),
        Some(b) => match &b.stopped_at {
            None => format!(
                "the variant that finished best, {} (final {} {}), survives every rung\n",
                b.id,
                rule.metric,
                prune::Figure::new(b.final_figure)
            ),
            Some(s) => format!(
                "the variant that finished best, {} (final {} {}), would have been stopped at \
                 {}: {}\n",
                b.id,
                rule.metric,
                prune::Figure::new(b.final_figure),
                s.rung_name(),
                s.summary()
            ),
        },
    };
    out
}
