//! The cost bounds of a replayed rule: over rows cut short, the least and most it trains hold
//! what it trains over the complete rows, and the cost without `[prune]` is the same.

use super::tests::{Cut, complete, cut, rule};
use super::{EpochImages, replay, replay_in_order, totals};
use crate::prune::PruneConfig;
use crate::results::RunState;
use crate::results::reader::Run;

#[test]
fn the_bounds_over_cut_rows_hold_what_the_complete_rows_give() {
    let rules: [(PruneConfig, &str); 6] = [
        (rule(), "rungs 2, 4 of 8, eta 2"),
        (
            PruneConfig {
                max_rungs: 1,
                ..rule()
            },
            "max_rungs 1: rung 2 only",
        ),
        (
            PruneConfig {
                first_rung: 4,
                ..rule()
            },
            "one rung, at 4",
        ),
        (PruneConfig { eta: 3, ..rule() }, "eta 3: rung 2 and 6"),
        (
            PruneConfig {
                min_peers: 3,
                ..rule()
            },
            "min_peers 3",
        ),
        (
            PruneConfig {
                min_peers: 20,
                ..rule()
            },
            "nobody can be stopped",
        ),
    ];
    let cuts: [(&[Cut], &str); 4] = [
        (
            &[(1, 2, RunState::Pruned), (2, 2, RunState::Pruned)],
            "two stopped live at rung 2",
        ),
        (
            &[(3, 0, RunState::NotStarted)],
            "the late winner never started",
        ),
        (
            &[(4, 3, RunState::Interrupted), (0, 5, RunState::Interrupted)],
            "two killed mid-sweep",
        ),
        (
            &[
                (0, 2, RunState::Pruned),
                (3, 2, RunState::Pruned),
                (4, 4, RunState::Pruned),
            ],
            "three stopped live, the winner among them",
        ),
    ];
    let full = complete();
    let given: EpochImages = [("003-x".to_string(), 100.0)].into();
    for (rule, rule_why) in &rules {
        for (cuts, cut_why) in cuts {
            let part = cut(&full, cuts);
            for in_order in [false, true] {
                let go = |runs: &[Run]| {
                    let refs: Vec<&Run> = runs.iter().collect();
                    let out = match in_order {
                        false => replay(&refs, rule, &given),
                        true => replay_in_order(&refs, rule, &given),
                    };
                    totals(&out)
                };
                let (all, some) = (go(&full), go(&part));
                let why = format!("{rule_why}, {cut_why}, on arrival {in_order}");
                assert_eq!(all.images_replayed_min, all.images_replayed_max, "{why}");
                assert_eq!(
                    some.images_budget, all.images_budget,
                    "{why}: the cost without [prune] counts the cut budgets in full"
                );
                let trained = all.images_replayed_min;
                assert!(
                    some.images_replayed_min <= trained && trained <= some.images_replayed_max,
                    "{why}: {trained} outside {} to {}",
                    some.images_replayed_min,
                    some.images_replayed_max
                );
            }
        }
    }
}
