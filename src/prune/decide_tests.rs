//! Table-driven tests of the rung decision: each row is a situation, the outcome, and why.

use super::decide::{Decision, Figure, best_so_far, could_stop, decide, holds_whatever};
use super::{PruneConfig, Rung};

use Figure::{Value as V, Worst};

const RUNG: Rung = Rung {
    index: 1,
    epoch: 30,
};

fn rule(eta: u32, min_peers: u32) -> PruneConfig {
    PruneConfig {
        enabled: true,
        eta,
        min_peers,
        ..PruneConfig::default()
    }
}

/// The outcome in a few words: "few", "keep 2/2 of 4", "stop 3/2 of 4 at 20" (place/places of
/// entrants, and the cutoff for a stop).
fn outcome(d: &Decision) -> String {
    match d {
        Decision::KeepFewPeers { peers, .. } => format!("few {peers}"),
        Decision::Keep(s) => format!("keep {}/{} of {}", s.place, s.places, s.entrants),
        Decision::Stop(s) => format!(
            "stop {}/{} of {} at {}",
            s.place, s.places, s.entrants, s.cutoff
        ),
    }
}

#[test]
fn situations_and_decisions() {
    type Row<'a> = (u32, u32, Figure, &'a [Figure], &'a str, &'a str);
    let rows: &[Row] = &[
        (
            3,
            3,
            V(50.0),
            &[],
            "few 0",
            "the first variant at a rung has nobody to lose to",
        ),
        (
            3,
            3,
            V(90.0),
            &[V(10.0), V(20.0)],
            "few 2",
            "two peers are fewer than min_peers: even the worst goes on",
        ),
        (
            3,
            3,
            V(10.0),
            &[V(20.0), V(30.0), V(40.0)],
            "keep 1/2 of 4",
            "best of four",
        ),
        (
            3,
            3,
            V(25.0),
            &[V(20.0), V(30.0), V(40.0)],
            "keep 2/2 of 4",
            "ceil(4/3) = 2 places: second goes on",
        ),
        (
            3,
            3,
            V(35.0),
            &[V(20.0), V(30.0), V(40.0)],
            "stop 3/2 of 4 at 30",
            "third of four is outside the best 1/3",
        ),
        (
            3,
            3,
            V(30.0),
            &[V(20.0), V(30.0), V(30.0)],
            "keep 2/2 of 4",
            "ties go to the variant judged",
        ),
        (
            3,
            3,
            V(45.0),
            &[V(20.0), Worst, Worst],
            "keep 2/2 of 4",
            "collapsed peers count as the worst",
        ),
        (
            3,
            3,
            V(45.0),
            &[Worst, Worst, Worst],
            "keep 1/2 of 4",
            "collapsed peers count towards min_peers, and lose",
        ),
        (
            3,
            3,
            Worst,
            &[V(20.0), V(30.0), V(40.0)],
            "stop 4/2 of 4 at 30",
            "a variant without a finite figure is the worst",
        ),
        (
            3,
            3,
            Worst,
            &[Worst, Worst, Worst],
            "keep 1/2 of 4",
            "nobody is better than a worst among worsts",
        ),
        (
            3,
            1,
            V(20.0),
            &[V(10.0)],
            "stop 2/1 of 2 at 10",
            "min_peers 1: two entrants, one place",
        ),
        (
            2,
            3,
            V(30.0),
            &[V(10.0), V(20.0), V(40.0), V(50.0)],
            "keep 3/3 of 5",
            "eta 2: ceil(5/2) = 3 places",
        ),
        (
            2,
            3,
            V(45.0),
            &[V(10.0), V(20.0), V(40.0), V(50.0)],
            "stop 4/3 of 5 at 40",
            "eta 2: fourth of five stops; the cutoff is the third place's figure",
        ),
        (
            3,
            3,
            V(31.0),
            &[
                V(10.0),
                V(20.0),
                V(30.0),
                V(40.0),
                V(50.0),
                V(60.0),
                V(70.0),
                V(80.0),
            ],
            "stop 4/3 of 9 at 30",
            "nine entrants, three places",
        ),
        (
            3,
            3,
            V(29.0),
            &[
                V(10.0),
                V(20.0),
                V(30.0),
                V(40.0),
                V(50.0),
                V(60.0),
                V(70.0),
                V(80.0),
            ],
            "keep 3/3 of 9",
            "third of nine is the last place",
        ),
    ];
    for &(eta, min_peers, mine, peers, want, reason) in rows {
        let got = decide(&rule(eta, min_peers), RUNG, mine, peers);
        assert_eq!(outcome(&got), want, "{reason}");
    }
}

#[test]
fn a_stop_carries_the_figures_compared() {
    let d = decide(&rule(3, 3), RUNG, V(35.0), &[V(40.0), V(20.0), V(30.0)]);
    let Decision::Stop(s) = d else {
        panic!("expected a stop: {d:?}")
    };
    assert_eq!((s.rung, s.figure, s.cutoff), (RUNG, V(35.0), V(30.0)));
}

#[test]
fn peers_order_does_not_matter() {
    let peers = [V(40.0), Worst, V(20.0), V(30.0), V(25.0)];
    let mut reversed = peers;
    reversed.reverse();
    for mine in [V(10.0), V(26.0), V(35.0), Worst] {
        assert_eq!(
            decide(&rule(3, 3), RUNG, mine, &peers),
            decide(&rule(3, 3), RUNG, mine, &reversed),
            "{mine}"
        );
    }
}

#[test]
fn best_so_far_figures() {
    let evals = [(10, 50.0), (20, 30.0), (30, 35.0), (40, 20.0)];
    type Row<'a> = (&'a [(u32, f64)], u32, Option<Figure>, &'a str);
    let rows: &[Row] = &[
        (
            &evals,
            30,
            Some(V(30.0)),
            "the best so far, not the last value (35)",
        ),
        (
            &evals,
            29,
            Some(V(30.0)),
            "evaluations after the epoch do not count",
        ),
        (&evals, 40, Some(V(20.0)), "a later, better evaluation"),
        (&evals, 9, None, "no evaluation yet: not judged"),
        (
            &[(10, f64::NAN), (20, 40.0)],
            20,
            Some(V(40.0)),
            "a non-finite evaluation is skipped",
        ),
        (
            &[(10, f64::NAN), (20, f64::INFINITY)],
            20,
            Some(Worst),
            "only broken evaluations: the worst",
        ),
        (
            &[(20, 30.0), (10, 50.0)],
            15,
            Some(V(50.0)),
            "order of the rows does not matter",
        ),
        (&[], 100, None, "no evaluations at all"),
    ];
    for &(evals, through, want, reason) in rows {
        assert_eq!(best_so_far(evals, through), want, "{reason}");
    }
}

#[test]
fn figures_order_lower_first_worst_last() {
    let mut figures = [Worst, V(3.0), V(-1.0), Worst, V(2.0)];
    figures.sort_by(Figure::rank_cmp);
    assert_eq!(figures, [V(-1.0), V(2.0), V(3.0), Worst, Worst]);
    assert_eq!(Figure::new(f64::NAN), Worst);
    assert_eq!(Figure::new(1.5), V(1.5));
}

#[test]
fn decisions_that_hold_whatever_unknown_variants_had() {
    type Row<'a> = (u32, u32, Figure, &'a [Figure], usize, bool, &'a str);
    let rows: &[Row] = &[
        (
            2,
            1,
            V(50.0),
            &[V(10.0)],
            0,
            true,
            "nobody unknown: the decision is what it is",
        ),
        (
            2,
            1,
            V(90.0),
            &[V(10.0), V(20.0), V(30.0), V(40.0)],
            1,
            true,
            "last of five: last or fifth of six, and a sixth worse leaves 3 places",
        ),
        (
            2,
            3,
            V(90.0),
            &[V(10.0), V(20.0)],
            2,
            false,
            "too few peers to stop anyone, unless the unknown ones were there",
        ),
        (
            3,
            2,
            V(50.0),
            &[V(10.0), V(60.0)],
            2,
            false,
            "place 2 of 3, one goes on: stopped, unless two worse ones widened the places",
        ),
        (
            2,
            1,
            V(10.0),
            &[V(50.0), V(60.0), V(70.0)],
            2,
            true,
            "first of four: two better ones make it third of six, 3 go on",
        ),
        (
            2,
            1,
            V(30.0),
            &[V(10.0), V(50.0), V(60.0)],
            2,
            false,
            "second of four goes on; fourth of six would not",
        ),
        (
            3,
            1,
            Worst,
            &[V(10.0), V(20.0)],
            3,
            true,
            "collapsed or broken: the worst stays behind whatever else was there",
        ),
    ];
    for &(eta, min_peers, mine, peers, unknown, want, why) in rows {
        let got = holds_whatever(&rule(eta, min_peers), RUNG, mine, peers, unknown);
        assert_eq!(got, want, "{why}");
    }
}

#[test]
fn could_stop_needs_enough_possible_peers() {
    let rows: &[(u32, u32, usize, bool, &str)] = &[
        (
            2,
            20,
            8,
            false,
            "8 peers at most, min_peers 20: too early to rank, always",
        ),
        (
            2,
            8,
            8,
            true,
            "8 peers, min_peers 8: last of nine is stopped",
        ),
        (2, 1, 0, false, "alone at the rung: nobody to rank against"),
        (
            2,
            0,
            0,
            false,
            "alone, min_peers 0: the only entrant has the only place",
        ),
        (2, 1, 1, true, "behind one peer: second of two, one place"),
        (
            3,
            1,
            1,
            true,
            "two entrants, eta 3: ceil(2/3) = 1 place, the second stops",
        ),
        (
            3,
            2,
            2,
            true,
            "three entrants, eta 3: one place, third is stopped",
        ),
    ];
    for &(eta, min_peers, peers, want, why) in rows {
        assert_eq!(
            could_stop(&rule(eta, min_peers), RUNG, peers),
            want,
            "{why}"
        );
    }
}
