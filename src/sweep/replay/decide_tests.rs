//! The decisions of a replayed rule, table by table: on arrival and rung by rung, rolled-back
//! evaluations, and runs whose rows end before the rule would stop them.

use super::tests::{Cut, complete, cut, none, rule, run};
use super::{EpochImages, Fate, Replayed, UNKNOWN, replay, replay_in_order, totals};
use crate::prune::{Figure, PruneConfig};
use crate::results::reader::Run;
use crate::results::{RunState, RungRecord, abandoned};

fn outcome(r: &Replayed) -> String {
    match r.stop() {
        Some(s) => format!("pruned at {} (judged {})", s.rung_epoch, s.judged_epoch),
        None => r.replayed.to_string(),
    }
}

#[test]
fn arrival_order_peers_and_what_is_saved() {
    let e = |x: f64| Some(x);
    let runs = [
        run(
            0,
            &[None, e(50.0), None, e(40.0), None, e(30.0), None, e(20.0)],
            RunState::Finished,
        ),
        run(
            1,
            &[None, e(60.0), None, e(35.0), None, e(25.0), None, e(15.0)],
            RunState::Finished,
        ),
        run(
            2,
            &[None, e(70.0), None, e(80.0), None, e(90.0), None, e(99.0)],
            RunState::Finished,
        ),
        run(3, &[None, e(45.0), e(44.0)], RunState::Collapsed),
        run(
            4,
            &[None, None, e(65.0), e(64.0), None, e(63.0), None, e(62.0)],
            RunState::Finished,
        ),
        run(
            5,
            &[None, e(30.0), None, e(28.0), None, e(26.0), None, e(25.0)],
            RunState::Finished,
        ),
    ];
    let refs: Vec<&Run> = runs.iter().collect();
    let out = replay_in_order(&refs, &rule(), &none());
    let got: Vec<String> = out.iter().map(outcome).collect();
    let want = [
        "finished",               // first at every rung: no peer yet (min_peers 1)
        "pruned at 2 (judged 2)", // 60 behind 50: 2 entrants, 1 place
        "pruned at 2 (judged 2)", // 70: third of three, ceil(3/2) = 2 places
        "collapsed",              // 45: first of four; collapsed at 3 as the sweep did
        "pruned at 2 (judged 3)", // no evaluation at 2: judged at 3 with 65, fourth of five
        "finished",               // best at rung 2; at rung 4 ahead of 40 and the worst
    ];
    assert_eq!(got, want, "{out:#?}");
    let at4 = &out[5].decisions[1].record;
    let peers: Vec<(&str, Figure)> = at4
        .peers
        .iter()
        .map(|p| (p.id.as_str(), p.figure))
        .collect();
    assert_eq!(
        peers,
        [("000-x", Figure::Value(40.0)), ("003-x", Figure::Worst)],
        "pruned variants are no peers past their rung; a collapsed one without a decision \
         there is the worst"
    );
    assert_eq!(
        (out[1].epochs_replayed_min, out[4].epochs_replayed_max),
        (2, 3)
    );
    let t = totals(&out);
    assert_eq!(t.images_recorded, (8.0 * 5.0 + 3.0) * 100.0);
    assert_eq!(
        t.images_budget, t.images_recorded,
        "every variant ended by its own training: what it trained is its cost"
    );
    assert_eq!(t.images_replayed_min, t.images_replayed_max);
    assert_eq!(
        t.images_replayed_min,
        (8.0 + 2.0 + 2.0 + 3.0 + 3.0 + 8.0) * 100.0
    );
    let best = t.best.unwrap();
    assert_eq!((best.id.as_str(), best.final_figure), ("001-x", 15.0));
    assert!(
        matches!(&best.fate, Fate::Stopped { at } if at.rung_epoch == 2),
        "the winner would have been stopped: {best:?}"
    );
}

#[test]
fn a_rolled_back_evaluation_judges_nothing_and_a_collapsed_peer_keeps_its_figure() {
    let e = |x: f64| Some(x);
    let first = run(0, &[None, e(10.0), None, e(10.0)], RunState::Collapsed);
    let mut second = run(1, &[None, e(50.0), None, e(99.0)], RunState::Finished);
    // Rolled back at step 2 (epoch 2) to epoch 0: epoch 2 is trained again as step 4.
    for (row, (epoch, attempt)) in second.rows.iter_mut().zip([(1, 0), (2, 0), (1, 1), (2, 1)]) {
        (row.epoch, row.attempt) = (epoch, attempt);
    }
    second.events = vec![crate::results::test_rows::rollback(2, 2, 1, 0)];
    second.abandoned = abandoned(&second.rows, &second.events);
    let out = replay(&[&first, &second], &rule(), &none());
    let d: Vec<&RungRecord> = out[1].decisions.iter().map(|d| &d.record).collect();
    assert_eq!(d.len(), 1, "one judgement, after the rollback: {d:#?}");
    assert_eq!((d[0].judged_epoch, d[0].step), (2, 4));
    assert_eq!(
        d[0].figure,
        Figure::Value(99.0),
        "the first attempt's 50 was abandoned"
    );
    assert_eq!(
        d[0].peers[0].figure,
        Figure::Value(10.0),
        "run 0 collapsed later but was judged at rung 2: its figure there, not the worst"
    );
    assert!(d[0].is_stop());
}

#[test]
fn rung_by_rung_every_variant_is_judged_against_all_that_reached_the_rung() {
    let e = |x: f64| Some(x);
    let rule = PruneConfig {
        min_peers: 2,
        ..rule()
    };
    // Listed worst first: on arrival each newcomer beats those before it.
    let runs = [
        run(
            0,
            &[None, e(90.0), None, e(88.0), None, e(86.0)],
            RunState::Finished,
        ),
        run(
            1,
            &[None, e(70.0), None, e(50.0), None, e(48.0)],
            RunState::Finished,
        ),
        run(2, &[None, e(60.0), e(59.0)], RunState::Collapsed),
        run(
            3,
            &[None, e(40.0), None, e(45.0), None, e(20.0)],
            RunState::Finished,
        ),
        run(
            4,
            &[None, None, e(30.0), None, e(35.0), None],
            RunState::Finished,
        ),
    ];
    let refs: Vec<&Run> = runs.iter().collect();
    let rows: [(&str, &str, &str); 5] = [
        (
            "pruned at 2 (judged 2)",
            "finished",
            "90: last of five; on arrival no peers yet",
        ),
        (
            "pruned at 2 (judged 2)",
            "finished",
            "70: fourth of five; on arrival one peer",
        ),
        (
            "collapsed",
            "collapsed",
            "60: third of five goes on, collapses as recorded",
        ),
        (
            "finished",
            "finished",
            "40 at rung 2; best so far 40 second of three at 4",
        ),
        (
            "finished",
            "finished",
            "judged at 3 for rung 2 and at 5 for 4: best at both",
        ),
    ];
    let rungwise: Vec<String> = replay(&refs, &rule, &none()).iter().map(outcome).collect();
    let arrival: Vec<String> = replay_in_order(&refs, &rule, &none())
        .iter()
        .map(outcome)
        .collect();
    for (i, (want_rungwise, want_arrival, why)) in rows.iter().enumerate() {
        assert_eq!(rungwise[i], *want_rungwise, "rung by rung, {i}: {why}");
        assert_eq!(arrival[i], *want_arrival, "on arrival, {i}: {why}");
    }
}

#[test]
fn rows_that_end_before_the_rule_stops_them_are_followed_no_further() {
    let e = |x: f64| Some(x);
    // 1 and 2 were stopped live at epoch 2 by a stricter rule: their rows end there. This
    // rule (rungs 2 and 4 of 8) keeps 1, so nobody knows its figure at rung 4.
    let runs = [
        run(
            0,
            &[None, e(50.0), None, e(40.0), None, e(30.0), None, e(20.0)],
            RunState::Finished,
        ),
        run(1, &[None, e(55.0)], RunState::Pruned),
        run(2, &[None, e(90.0)], RunState::Pruned),
        run(
            3,
            &[None, e(60.0), None, e(45.0), None, e(44.0), None, e(43.0)],
            RunState::Finished,
        ),
        run(
            4,
            &[None, e(70.0), None, e(65.0), None, e(64.0), None, e(63.0)],
            RunState::Finished,
        ),
    ];
    let refs: Vec<&Run> = runs.iter().collect();
    let out = replay(&refs, &rule(), &none());
    let got: Vec<(&str, Option<u32>)> = out
        .iter()
        .map(|r| (r.replayed, r.unknown.as_ref().map(|u| u.epoch)))
        .collect();
    let rows: [((&str, Option<u32>), &str); 5] = [
        (
            ("finished", None),
            "first at rung 4, and first of three had 1 been there",
        ),
        (
            (UNKNOWN, Some(4)),
            "second of five at rung 2 goes on; no rows after it: trains to rung 4 at least",
        ),
        (
            ("pruned", None),
            "last of five at rung 2: known, every variant had rows there",
        ),
        (
            (UNKNOWN, Some(4)),
            "behind 0 at rung 4: stopped, unless 1 was there and worse",
        ),
        (("pruned", None), "fourth of five at rung 2"),
    ];
    for (i, (want, why)) in rows.iter().enumerate() {
        assert_eq!(got[i], *want, "{i}: {why}: {out:#?}");
    }
    assert_eq!(
        out[0].decisions[1].unknown_peers,
        ["001-x"],
        "rung 4 judged without 1, and says so"
    );
    assert!(out[1].unknown.as_ref().unwrap().why.contains("pruned live"));
    let t = totals(&out);
    assert_eq!(t.unknown, ["001-x", "003-x"]);
    assert_eq!(
        t.images_replayed_min,
        (8.0 + 4.0 + 2.0 + 4.0 + 2.0) * 100.0,
        "what the rule trains at least: 1 to rung 4, the next that could stop it, and 3 \
         through its rung-4 evaluation"
    );
    assert_eq!(
        (t.images_replayed_max, t.images_budget),
        ((8.0 + 8.0 + 2.0 + 8.0 + 2.0) * 100.0, 8.0 * 5.0 * 100.0),
        "at most: 1 and 3 to their budget; the cost: every budget, 1 and 2 (pruned live) \
         counted at 8 epochs past their rows"
    );
    let best = t.best.unwrap();
    assert_eq!(best.id, "000-x");
    assert!(
        matches!(best.fate, Fate::Survives),
        "000 survives whatever 1 had"
    );
    // On arrival, 1 first: no variant before it can be its peer, so no rung stops it (it
    // trains its budget, figures unknown); 0 is judged at rung 4 against nobody it can
    // see, but 1 was there, maybe ahead of it.
    let arrival = replay_in_order(&[&runs[1], &runs[0]], &rule(), &none());
    let got: Vec<(&str, Option<u32>)> = arrival
        .iter()
        .map(|r| (r.replayed, r.unknown.as_ref().map(|u| u.epoch)))
        .collect();
    assert_eq!(
        got,
        [("finished", None), (UNKNOWN, Some(4))],
        "{arrival:#?}"
    );
    assert!(arrival[0].past_rows.is_some(), "{arrival:#?}");
}

#[test]
fn a_variant_cut_short_trains_to_the_next_rung_that_could_stop_it() {
    let full = complete();
    let given: EpochImages = [("003-x".to_string(), 100.0)].into();
    // The rule, the cut, how it ends and the epochs it trains at least and at most, why.
    type Row = (PruneConfig, Cut, (&'static str, usize, usize), &'static str);
    let rows: [Row; 5] = [
        (
            PruneConfig {
                min_peers: 20,
                ..rule()
            },
            (1, 2, RunState::Pruned),
            ("finished", 8, 8),
            "at most 4 peers, min_peers 20: no rung can stop it, it trains its budget",
        ),
        (
            PruneConfig {
                first_rung: 4,
                ..rule()
            },
            (1, 2, RunState::Pruned),
            (UNKNOWN, 4, 8),
            "rows end at 2, the first rung is 4: it trains to 4 at least",
        ),
        (
            rule(),
            (3, 0, RunState::NotStarted),
            (UNKNOWN, 2, 8),
            "not started: it trains to the first rung at least",
        ),
        (
            rule(),
            (0, 5, RunState::Interrupted),
            ("finished", 8, 8),
            "judged at rungs 2 and 4 and kept: no rung left, it trains its budget",
        ),
        (
            PruneConfig { eta: 1, ..rule() },
            (3, 0, RunState::NotStarted),
            ("finished", 8, 8),
            "eta 1: no rungs at all; a variant never started trains its budget",
        ),
    ];
    for (rule, c, (state, least, most), why) in &rows {
        let part = cut(&full, &[*c]);
        let refs: Vec<&Run> = part.iter().collect();
        let r = &replay(&refs, rule, &given)[c.0];
        assert_eq!(
            (r.replayed, r.epochs_replayed_min, r.epochs_replayed_max),
            (*state, *least, *most),
            "{why}: {r:#?}"
        );
        assert_eq!(r.past_rows.is_some(), *state == "finished", "{why}");
        assert_eq!(r.final_figure, None, "{why}: its rows end before it does");
    }
}

/// `max_rungs` ends the rungs early: the survivors of the last one train to the budget.
#[test]
fn no_rung_past_max_rungs_stops_anyone() {
    let runs = complete();
    let refs: Vec<&Run> = runs.iter().collect();
    // max_rungs; each variant's outcome rung by rung (rungs 2 and 4 of 8); why.
    let rows: [(u32, [&str; 5], &str); 2] = [
        (
            0,
            [
                "finished",
                "finished",
                "pruned at 2 (judged 2)",
                "pruned at 2 (judged 2)",
                "pruned at 4 (judged 4)",
            ],
            "both rungs: 4 (65, then 64) is third of three at 4",
        ),
        (
            1,
            [
                "finished",
                "finished",
                "pruned at 2 (judged 2)",
                "pruned at 2 (judged 2)",
                "finished",
            ],
            "rung 2 only: the three within the best half there finish",
        ),
    ];
    for (max_rungs, want, why) in rows {
        let rule = PruneConfig {
            max_rungs,
            ..rule()
        };
        let got: Vec<String> = replay(&refs, &rule, &none()).iter().map(outcome).collect();
        assert_eq!(got, want, "{why}");
    }
}

/// Beside the winner a rule stops, the best variant it lets finish; none where the rule
/// trains a variant past its rows (that one's final figure is not known).
#[test]
fn the_best_kept_is_the_best_variant_the_rule_lets_finish() {
    let runs = complete();
    let refs: Vec<&Run> = runs.iter().collect();
    let t = totals(&replay(&refs, &rule(), &none()));
    assert_eq!(t.best.map(|b| b.id).as_deref(), Some("003-x"), "final 10");
    let kept = t.best_kept.expect("0 and 1 finish");
    assert_eq!((kept.id.as_str(), kept.final_figure), ("001-x", 15.0));
    // 1 stopped live at epoch 2, where this rule lets it go on.
    let part = cut(&runs, &[(1, 2, RunState::Pruned)]);
    let refs: Vec<&Run> = part.iter().collect();
    let t = totals(&replay(&refs, &rule(), &none()));
    assert!(t.best_kept.is_none(), "{:?}", t.best_kept);
}
