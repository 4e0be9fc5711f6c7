//! Where the rungs are, and which of them a variant is judged at after an evaluation.

use super::PruneConfig;

/// A point of the budget where variants are compared: rung `index` at `epoch` epochs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rung {
    pub index: usize,
    pub epoch: u32,
}

/// The rungs of a budget of `epochs`: `first_rung * eta^k` epochs for k = 0, 1, ... while below
/// `epochs` (ASHA's geometric rungs with minimum resource `first_rung`, Li et al. 2020), the
/// first `max_rungs` of them where that is not 0. The budget itself is no rung: a variant that
/// reaches it has finished. Raising `epochs` adds rungs at the end (up to `max_rungs`) and moves
/// none.
pub fn rungs(rule: &PruneConfig, epochs: u32) -> Vec<Rung> {
    let mut out = Vec::new();
    if rule.first_rung == 0 || rule.eta < 2 {
        return out;
    }
    let mut epoch = u64::from(rule.first_rung);
    let room = |n: usize| rule.max_rungs == 0 || n < rule.max_rungs as usize;
    while epoch < u64::from(epochs) && room(out.len()) {
        out.push(Rung {
            index: out.len(),
            epoch: epoch as u32,
        });
        epoch *= u64::from(rule.eta);
    }
    out
}

/// ` (max_rungs = N: none later)` where `max_rungs` leaves out rungs below `epochs`, else empty:
/// said after a list of rungs, so that a rung missing from it has its reason.
pub fn max_rungs_note(rule: &PruneConfig, epochs: u32) -> String {
    let every = PruneConfig {
        max_rungs: 0,
        ..rule.clone()
    };
    match rungs(&every, epochs).len() > rungs(rule, epochs).len() {
        true => format!(" (max_rungs = {}: none later)", rule.max_rungs),
        false => String::new(),
    }
}

/// The rungs to judge now, in order: those after the first `decided` whose epoch the variant's
/// latest evaluation (`last_evaluation`, an epoch) has reached. A variant whose evaluations have
/// not run by a rung is judged at its next evaluation, with the figure it has then; one whose
/// evaluations are further apart than two rungs is judged at both, in order, from one figure.
/// Decisions are made in rung order, so the decided rungs are always a prefix.
pub fn due(rungs: &[Rung], decided: usize, last_evaluation: Option<u32>) -> &[Rung] {
    let Some(last) = last_evaluation else {
        return &[];
    };
    let start = decided.min(rungs.len());
    let end = start
        + rungs[start..]
            .iter()
            .take_while(|r| r.epoch <= last)
            .count();
    &rungs[start..end]
}

/// The rungs the newest of a timeline's evaluations judges: those after the timeline's
/// previous evaluation, up to this one (`evaluated`: the epochs of the timeline's evaluations,
/// ascending, the newest last). The same rule decides for a live sweep and for a replay:
/// - a rung without an evaluation of its own is judged at the next one;
/// - a rung the timeline passed before (an earlier evaluation reached it) is not judged again
///   here: it was judged then, or `[prune]` was off or had other rungs then;
/// - after a rollback the timeline's previous evaluation is the last one kept, so a rung whose
///   evaluation was rolled back is judged at the next evaluation;
/// - an evaluation at the budget (`epochs`) judges nothing: the variant has finished, stopping
///   it would save nothing.
pub fn judged_at<'r>(rungs: &'r [Rung], evaluated: &[u32], epochs: u32) -> &'r [Rung] {
    let Some((&newest, earlier)) = evaluated.split_last() else {
        return &[];
    };
    if newest >= epochs {
        return &[];
    }
    let passed = earlier.last().map_or(0, |&prev| {
        rungs.iter().take_while(|r| r.epoch <= prev).count()
    });
    due(rungs, passed, Some(newest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(first_rung: u32, eta: u32) -> PruneConfig {
        PruneConfig {
            enabled: true,
            first_rung,
            eta,
            ..PruneConfig::default()
        }
    }

    fn epochs(rungs: &[Rung]) -> Vec<u32> {
        rungs.iter().map(|r| r.epoch).collect()
    }

    #[test]
    fn rung_epochs() {
        let cases: &[(u32, u32, u32, &[u32], &str)] = &[
            (10, 3, 300, &[10, 30, 90, 270], "geometric below the budget"),
            (10, 3, 270, &[10, 30, 90], "the budget itself is no rung"),
            (
                10,
                3,
                271,
                &[10, 30, 90, 270],
                "a rung one epoch before the end",
            ),
            (5, 2, 40, &[5, 10, 20], "eta 2 halves"),
            (10, 3, 10, &[], "first rung at the budget: nothing to judge"),
            (50, 3, 20, &[], "first rung past the budget"),
            (
                u32::MAX / 2,
                u32::MAX,
                u32::MAX,
                &[u32::MAX / 2],
                "no overflow",
            ),
        ];
        for &(first, eta, budget, want, reason) in cases {
            let got = rungs(&rule(first, eta), budget);
            assert_eq!(epochs(&got), want, "{reason}");
            assert!(
                got.iter().enumerate().all(|(i, r)| r.index == i),
                "{reason}"
            );
        }
    }

    #[test]
    fn max_rungs_keeps_the_first_rungs() {
        // max_rungs, budget; the rung epochs; why.
        let cases: &[(u32, u32, &[u32], &str)] = &[
            (0, 300, &[10, 30, 90, 270], "0: every rung below the budget"),
            (2, 300, &[10, 30], "the first two"),
            (1, 300, &[10], "one rung"),
            (
                9,
                300,
                &[10, 30, 90, 270],
                "more than fit: the budget decides",
            ),
            (2, 20, &[10], "the budget before max_rungs"),
            (
                2,
                3000,
                &[10, 30],
                "raising the budget adds none past max_rungs",
            ),
        ];
        for &(max_rungs, budget, want, reason) in cases {
            let r = PruneConfig {
                max_rungs,
                ..rule(10, 3)
            };
            assert_eq!(epochs(&rungs(&r, budget)), want, "{reason}");
        }
    }

    #[test]
    fn a_rung_max_rungs_leaves_out_is_said() {
        let r = |max_rungs| PruneConfig {
            max_rungs,
            ..rule(10, 3)
        };
        assert_eq!(max_rungs_note(&r(2), 300), " (max_rungs = 2: none later)");
        assert_eq!(max_rungs_note(&r(2), 40), "", "only 10 and 30 fit anyway");
        assert_eq!(max_rungs_note(&r(0), 300), "");
    }

    #[test]
    fn raising_the_budget_only_adds_rungs() {
        let short = rungs(&rule(10, 3), 100);
        let long = rungs(&rule(10, 3), 1000);
        assert_eq!(short[..], long[..short.len()]);
    }

    #[test]
    fn rungs_an_evaluation_judges() {
        let all = rungs(&rule(10, 3), 300); // 10, 30, 90, 270
        let cases: &[(&[u32], &[u32], &str)] = &[
            (&[], &[], "no evaluation yet"),
            (&[5], &[], "before the first rung"),
            (&[10], &[10], "at the rung"),
            (&[5, 10], &[10], "at the rung, after an earlier evaluation"),
            (&[10, 20], &[], "rung 10 was the previous evaluation's"),
            (
                &[5, 25],
                &[10],
                "no evaluation at 10: judged at the next one",
            ),
            (
                &[5, 40],
                &[10, 30],
                "two rungs passed since the previous evaluation",
            ),
            (
                &[50, 60],
                &[],
                "rungs passed before (prune turned on later) are not judged afresh",
            ),
            (&[80, 280], &[90, 270], "one evaluation judges the rest"),
            (
                &[80, 300],
                &[],
                "the evaluation at the budget judges nothing",
            ),
            (
                &[10, 20],
                &[],
                "after a rollback to 20 the kept evaluations decide: 10 was judged",
            ),
        ];
        for &(evaluated, want, reason) in cases {
            assert_eq!(epochs(judged_at(&all, evaluated, 300)), want, "{reason}");
        }
    }

    #[test]
    fn rungs_due_after_an_evaluation() {
        let all = rungs(&rule(10, 3), 300); // 10, 30, 90, 270
        let cases: &[(usize, Option<u32>, &[u32], &str)] = &[
            (0, None, &[], "no evaluation yet: nothing to judge"),
            (0, Some(5), &[], "evaluated before the first rung"),
            (0, Some(10), &[10], "evaluated at the rung"),
            (1, Some(20), &[], "rung 10 decided, 30 not reached"),
            (
                0,
                Some(25),
                &[10],
                "no evaluation at 10: judged at the next one, 25",
            ),
            (
                0,
                Some(40),
                &[10, 30],
                "evaluations 40 apart pass two rungs: both, in order",
            ),
            (2, Some(300), &[90, 270], "the rest at the last evaluation"),
            (4, Some(300), &[], "every rung decided"),
            (
                9,
                Some(300),
                &[],
                "more decisions than rungs (a shorter budget): none due",
            ),
        ];
        for &(decided, last, want, reason) in cases {
            assert_eq!(epochs(due(&all, decided, last)), want, "{reason}");
        }
    }
}
