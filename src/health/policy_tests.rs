//! Table-driven rollback policy tests: each row is a situation, the expected action, and why.

use super::config::RollbackConfig;
use super::detector::Findings;
use super::hyper::Hyper;
use super::kind::{Ahead, Kind, Side, Verdict};
use super::policy::{Action, Change, CheckpointInfo, PastRollback, decide, format_changes};

/// No evidence beyond the verdict: the kind's table alone.
const NONE: Findings = Findings {
    ahead: None,
    healthy: None,
};

const BASE: Hyper = Hyper {
    lr_g: 2e-4,
    lr_d: 2e-4,
    label_noise: 0.1,
    batch_size: 128,
};

fn ck(epoch: u64, healthy: bool, times_restored: u32) -> CheckpointInfo {
    CheckpointInfo {
        epoch,
        healthy,
        times_restored,
        swd: None,
    }
}

fn ck_swd(epoch: u64, healthy: bool, swd: f64) -> CheckpointInfo {
    CheckpointInfo {
        swd: Some(swd),
        ..ck(epoch, healthy, 0)
    }
}

fn verdict(kind: Kind, onset_epoch: u64) -> Verdict {
    Verdict {
        kind,
        onset_epoch,
        detected_epoch: onset_epoch + 14,
        evidence: "test".into(),
    }
}

/// Earlier rollbacks of these kinds, the settings they rolled back from unknown.
fn past(kinds: &[Kind]) -> Vec<PastRollback> {
    kinds.iter().map(|&k| k.into()).collect()
}

/// Expected outcome: Some((restore_epoch, rendered changes)) or None for Stop.
type Want = Option<(u64, &'static str)>;

#[test]
fn situations_and_actions() {
    use Kind::*;
    let every_20 = |healthy_until: u64| -> Vec<CheckpointInfo> {
        (1..=6)
            .map(|i| ck(i * 20, i * 20 < healthy_until, 0))
            .collect()
    };
    type Row<'a> = (Vec<CheckpointInfo>, Verdict, Vec<Kind>, Want, &'a str);
    let rows: Vec<Row> = vec![
        (
            every_20(200),
            verdict(GFailure, 105),
            vec![],
            Some((100, "label_noise 0.10->0.15; lr_d 2e-4->1e-4")),
            "newest healthy checkpoint before the onset; G failed: more noise, slower D",
        ),
        (
            every_20(200),
            verdict(DFooled, 100),
            vec![],
            Some((80, "lr_g 2e-4->1e-4; batch_size 128->96")),
            "the checkpoint of the onset epoch is not before it",
        ),
        (
            every_20(90),
            verdict(DFooled, 110),
            vec![],
            Some((80, "lr_g 2e-4->1e-4; batch_size 128->96")),
            "checkpoint 100 was saved mid-streak (like the original's 840): skip it",
        ),
        (
            every_20(200),
            verdict(DegenerateOutput, 105),
            vec![],
            Some((80, "lr_g 2e-4->2e-5")),
            "degenerate output goes two restore points back; G's steps cut tenfold",
        ),
        (
            vec![ck(20, true, 0)],
            verdict(DegenerateOutput, 105),
            vec![],
            Some((20, "lr_g 2e-4->2e-5")),
            "with one healthy checkpoint, degenerate output uses it rather than stopping",
        ),
        (
            every_20(200),
            verdict(NonFinite, 105),
            vec![],
            Some((100, "lr_g 2e-4->2e-5; lr_d 2e-4->2e-5")),
            "NaN: both learning rates cut tenfold",
        ),
        (
            vec![ck(80, true, 0), ck(100, true, 2)],
            verdict(GFailure, 105),
            vec![DFooled],
            Some((80, "label_noise 0.10->0.15; lr_d 2e-4->1e-4")),
            "checkpoint 100 already restored max_retries_per_checkpoint times",
        ),
        (
            vec![ck(0, true, 2), ck(12, false, 0), ck(15, false, 0)],
            verdict(ModeCollapse, 20),
            vec![DegenerateOutput, ModeCollapse],
            Some((0, "lr_g 2e-4->5e-5")),
            "epoch 0's initial weights are exempt from the retry limit: the collapse demo's \
             third rollback found no other restore point (its samples were never varied) and \
             stopped although max_rollbacks allowed more",
        ),
        (
            vec![ck(100, true, 2), ck(120, false, 0)],
            verdict(GFailure, 125),
            vec![DFooled, DFooled],
            None,
            "no eligible checkpoint left: stop (no silent restart from scratch)",
        ),
        (
            vec![],
            verdict(GFailure, 30),
            vec![],
            None,
            "nothing saved yet: stop",
        ),
        (
            every_20(200),
            verdict(GFailure, 105),
            vec![DFooled, GFailure, DFooled, GFailure],
            None,
            "max_rollbacks (4) already used: the variant collapsed",
        ),
        (
            every_20(200),
            verdict(GFailure, 105),
            vec![GFailure],
            Some((80, "label_noise 0.10->0.20; lr_d 2e-4->5e-5")),
            "the same kind again after a rollback: factors squared, noise added twice, one \
             checkpoint older",
        ),
        (
            every_20(200),
            verdict(GFailure, 105),
            vec![GFailure, DFooled],
            Some((100, "label_noise 0.10->0.15; lr_d 2e-4->1e-4")),
            "escalation counts repeats in a row only: a different kind in between resets it",
        ),
        (
            every_20(200),
            verdict(DegenerateOutput, 105),
            vec![DegenerateOutput, DegenerateOutput],
            Some((
                40,
                "lr_g 2e-4->1e-5 (lowered only to the floor 1e-5: the table's x0.001 would go \
                 under it)",
            )),
            "third time: cubed factors (2e-7), skip 1 + 2 checkpoints; the rate stops at LR_MIN, \
             under which it would be a cause of its own",
        ),
        (
            vec![
                ck_swd(20, true, 40.0),
                ck_swd(40, true, 12.0),
                ck_swd(60, true, 15.0),
                ck_swd(80, false, 30.0),
            ],
            verdict(QualityRegression, 70),
            vec![],
            Some((40, "lr_g 2e-4->1e-4; lr_d 2e-4->1e-4")),
            "quality regression restores the best-swd checkpoint before the onset",
        ),
        (
            vec![ck(20, true, 0), ck(40, true, 0)],
            verdict(QualityRegression, 70),
            vec![],
            Some((40, "lr_g 2e-4->1e-4; lr_d 2e-4->1e-4")),
            "no swd recorded: the newest healthy checkpoint",
        ),
    ];
    let cfg = RollbackConfig::default();
    for (checkpoints, v, history, want, why) in rows {
        let got = match decide(&cfg, &checkpoints, &v, &BASE, &past(&history), &NONE) {
            Action::Rollback {
                restore_epoch,
                changes,
                ..
            } => Some((restore_epoch, format_changes(&changes))),
            Action::Stop { .. } => None,
            Action::Continue => panic!("{why}: rollback is enabled"),
        };
        assert_eq!(got, want.map(|(e, c)| (e, c.to_string())), "{why}");
    }
}

#[test]
fn hyper_adjustments_respect_limits() {
    let cfg = RollbackConfig::default();
    let cks = [ck(0, true, 0)];
    let rows: &[(Kind, Hyper, Hyper, &str)] = &[
        (
            Kind::GFailure,
            Hyper {
                label_noise: 0.28,
                ..BASE
            },
            Hyper {
                label_noise: 0.3,
                lr_d: 1e-4,
                ..BASE
            },
            "label noise is capped at label_noise_max",
        ),
        (
            Kind::GFailure,
            Hyper {
                label_noise: 0.4,
                ..BASE
            },
            Hyper {
                label_noise: 0.4,
                lr_d: 1e-4,
                ..BASE
            },
            "noise already above the cap is left alone, never lowered",
        ),
        (
            Kind::DFooled,
            Hyper {
                batch_size: 1,
                ..BASE
            },
            Hyper {
                batch_size: 1,
                lr_g: 1e-4,
                ..BASE
            },
            "batch size stays at least 1",
        ),
        (
            Kind::DFooled,
            Hyper {
                batch_size: 200,
                ..BASE
            },
            Hyper {
                batch_size: 150,
                lr_g: 1e-4,
                ..BASE
            },
            "the original's batch 200 -> 150",
        ),
    ];
    for (kind, from, want, why) in rows {
        match decide(&cfg, &cks, &verdict(*kind, 50), from, &[], &NONE) {
            Action::Rollback { new, .. } => {
                assert!((new.lr_g - want.lr_g).abs() < 1e-12, "{why}");
                assert!((new.lr_d - want.lr_d).abs() < 1e-12, "{why}");
                assert!((new.label_noise - want.label_noise).abs() < 1e-12, "{why}");
                assert_eq!(new.batch_size, want.batch_size, "{why}");
            }
            other => panic!("{why}: {other:?}"),
        }
    }
}

#[test]
fn a_repeated_kind_caps_the_rates_at_lr_max() {
    let cfg = RollbackConfig::default();
    let cks = [ck(0, true, 0)];
    let absurd = Hyper {
        lr_g: 1e20,
        lr_d: 1e20,
        ..BASE
    };
    type Row<'a> = (Kind, Hyper, Vec<Kind>, (f64, f64), &'a str);
    let rows: Vec<Row> = vec![
        (
            Kind::NonFinite,
            absurd,
            vec![],
            (2e-4, 2e-4),
            "a rate above lr_max is the cause whatever the kind: the first rollback brings it \
             to the usual rate (a tenth of 1e20 still overflows)",
        ),
        (
            Kind::DegenerateOutput,
            Hyper {
                lr_g: 0.5,
                lr_d: 5e-3,
                ..BASE
            },
            vec![Kind::DegenerateOutput],
            (2e-4, 2e-4),
            "both rates above the cap: both go to the usual rate",
        ),
        (
            Kind::QualityRegression,
            Hyper {
                lr_g: 1e-3,
                lr_d: 1e-3,
                ..BASE
            },
            vec![Kind::QualityRegression],
            (2.5e-4, 2.5e-4),
            "rates within the cap: the table's factors, escalated, and no raise to the cap",
        ),
        (
            Kind::QualityRegression,
            Hyper { lr_g: 3e-3, ..BASE },
            vec![Kind::QualityRegression],
            (2e-4, 2e-4),
            "G's rate above the cap: only it changes, to the usual rate, not the cap (the \
             table would also have quartered D's sane rate; held-out seed 17: G brought to the \
             cap, ten times D's rate, ended 3x to 4.4x the floor in 4 runs)",
        ),
        (
            Kind::ModeCollapse,
            Hyper { lr_g: 1e-3, ..BASE },
            vec![Kind::DegenerateOutput],
            (5e-4, 2e-4),
            "a different kind before is no repeat: the factor alone",
        ),
    ];
    for (kind, from, history, (lr_g, lr_d), why) in rows {
        match decide(
            &cfg,
            &cks,
            &verdict(kind, 50),
            &from,
            &past(&history),
            &NONE,
        ) {
            Action::Rollback { new, .. } => {
                assert!((new.lr_g - lr_g).abs() <= 1e-12 * lr_g, "{why}: {new:?}");
                assert!((new.lr_d - lr_d).abs() <= 1e-12 * lr_d, "{why}: {new:?}");
            }
            other => panic!("{why}: {other:?}"),
        }
    }
}

#[test]
fn stop_reason_does_not_repeat_the_state() {
    let cfg = RollbackConfig::default();
    let history = [Kind::GFailure; 4];
    let v = verdict(Kind::GFailure, 105);
    match decide(&cfg, &[ck(100, true, 0)], &v, &BASE, &past(&history), &NONE) {
        // status.json says `collapsed` beside it: "collapsed: collapsed: ..." read twice.
        Action::Stop { reason, .. } => {
            assert_eq!(
                reason,
                "g_failure at epoch 119 after 4 rollbacks (max_rollbacks 4)"
            );
        }
        other => panic!("max_rollbacks used: {other:?}"),
    }
}

#[test]
fn disabled_rollback_continues() {
    let cfg = RollbackConfig {
        enabled: false,
        ..RollbackConfig::default()
    };
    let a = decide(
        &cfg,
        &[ck(0, true, 0)],
        &verdict(Kind::GFailure, 50),
        &BASE,
        &[],
        &NONE,
    );
    assert_eq!(a, Action::Continue);
}

#[test]
fn changes_render_compactly() {
    let c = |name: &str, from, to| Change {
        name: name.into(),
        from,
        to,
        why: String::new(),
    };
    let rows = [
        (
            c("lr_d", 2e-4, 2e-4 * 0.8 * 0.8),
            "lr_d 2e-4->1.28e-4",
            "float noise is hidden",
        ),
        (
            c("batch_size", 128.0, 96.0),
            "batch_size 128->96",
            "batch is an integer",
        ),
        (
            c("label_noise", 0.1, 0.15),
            "label_noise 0.10->0.15",
            "noise has two decimals",
        ),
    ];
    for (change, want, why) in rows {
        assert_eq!(change.to_string(), want, "{why}");
    }
}

fn ahead(side: Side) -> Findings {
    Findings {
        ahead: Some(Ahead {
            side,
            why: "figures".into(),
        }),
        healthy: None,
    }
}

fn healthy(h: Hyper) -> Findings {
    Findings {
        ahead: None,
        healthy: Some(h),
    }
}

/// What `decide` did, rendered: Some(changes) for a rollback, Err(reason) for a stop.
fn rendered(
    kind: Kind,
    hyper: &Hyper,
    history: &[Kind],
    findings: &Findings,
) -> Result<String, String> {
    let cfg = RollbackConfig::default();
    match decide(
        &cfg,
        &[ck(0, true, 0), ck(20, true, 0)],
        &verdict(kind, 30),
        hyper,
        &past(history),
        findings,
    ) {
        Action::Rollback { changes, .. } => Ok(format_changes(&changes)),
        Action::Stop { reason, .. } => Err(reason),
        Action::Continue => panic!("rollback is enabled"),
    }
}

#[test]
fn cause_before_cure() {
    use Kind::*;
    let lr_d = |lr_d| Hyper { lr_d, ..BASE };
    let lr_g = |lr_g| Hyper { lr_g, ..BASE };
    type Row<'a> = (Kind, Hyper, Vec<Kind>, Result<&'a str, &'a str>, &'a str);
    let rows: Vec<Row> = vec![
        (
            DegenerateOutput,
            lr_d(0.5),
            vec![],
            Ok(
                "lr_d 5e-1->2e-4 (D's learning rate was 250x the cap (rollback.lr_max 2e-3); \
                lowered to the usual 2e-4)",
            ),
            "D's rate thousands of times the usual: the degenerate verdict's table cut G's rate \
             tenfold, twice, and G could no longer learn when D's was finally capped",
        ),
        (
            GFailure,
            lr_d(1e-2),
            vec![],
            Ok(
                "lr_d 1e-2->2e-4 (D's learning rate was 5.0x the cap (rollback.lr_max 2e-3); \
                lowered to the usual 2e-4)",
            ),
            "the cause alone changes: no label noise from the g_failure table on top, so the \
             next attempt shows whether the rate was it",
        ),
        (
            ModeCollapse,
            lr_g(0.2),
            vec![ModeCollapse],
            Ok(
                "lr_g 2e-1->2e-4 (G's learning rate was 100x the cap (rollback.lr_max 2e-3); \
                lowered to the usual 2e-4)",
            ),
            "a repeat changes nothing about it: the cause comes first",
        ),
        (
            NonFinite,
            Hyper {
                lr_g: 1e20,
                lr_d: 1e20,
                ..BASE
            },
            vec![],
            Ok(
                "lr_g 1e20->2e-4 (G's learning rate was 5e22x the cap (rollback.lr_max 2e-3); \
                lowered to the usual 2e-4); lr_d 1e20->2e-4 (D's learning rate was 5e22x the cap \
                (rollback.lr_max 2e-3); lowered to the usual 2e-4)",
            ),
            "overflow: both rates to the cap at once (factors of 0.1 took two rollbacks)",
        ),
        (
            Stalled,
            lr_d(0.5),
            vec![],
            Ok(
                "lr_d 5e-1->2e-4 (D's learning rate was 250x the cap (rollback.lr_max 2e-3); \
                lowered to the usual 2e-4)",
            ),
            "a stall with a rate out of range has a cause to fix: roll back, do not end",
        ),
        (
            Stalled,
            BASE,
            vec![],
            Err(
                "no setting the rollback policy changes is out of range: try a wider G \
                 (model.g_width) or other learning rates (train.lr_g, train.lr_d)",
            ),
            "a stall with nothing out of range ends the run, saying what to try",
        ),
        (
            Stalled,
            lr_g(1e-6),
            vec![GFailure],
            Err(
                "G's learning rate 1e-6 is far under the usual range (from 1e-5): raise \
                 train.lr_g",
            ),
            "a rate far below the usual range is named (a rollback only ever slows, so it \
             cannot fix it)",
        ),
        (
            DegenerateOutput,
            lr_d(2e-3),
            vec![],
            Ok("lr_g 2e-4->2e-5"),
            "a rate at the cap is within range: the kind's table",
        ),
    ];
    for (kind, hyper, history, want, why) in rows {
        let got = rendered(kind, &hyper, &history, &NONE);
        let want = want.map(String::from).map_err(String::from);
        assert_eq!(got, want, "{why}");
    }
}

#[test]
fn a_cause_fix_lands_on_the_usual_rate_or_a_lower_cap() {
    // G's rate under both caps, so only D's is out of range.
    let hyper = Hyper {
        lr_g: 5e-5,
        lr_d: 0.5,
        ..BASE
    };
    let rows: Vec<(f64, &str, &str)> = vec![
        (
            2e-3,
            "lr_d 5e-1->2e-4 (D's learning rate was 250x the cap (rollback.lr_max 2e-3); \
             lowered to the usual 2e-4)",
            "the default cap is ten times the usual rate: the fix lands on the usual rate",
        ),
        (
            1e-4,
            "lr_d 5e-1->1e-4 (D's learning rate was 5000x the cap (rollback.lr_max 1e-4); \
             lowered to the cap)",
            "a cap under the usual rate is never exceeded by the runner's own change",
        ),
    ];
    for (lr_max, want, why) in rows {
        let cfg = RollbackConfig {
            lr_max,
            ..RollbackConfig::default()
        };
        let action = decide(
            &cfg,
            &[ck(0, true, 0)],
            &verdict(Kind::DegenerateOutput, 30),
            &hyper,
            &[],
            &NONE,
        );
        let Action::Rollback { changes, .. } = action else {
            panic!("{why}: {action:?}")
        };
        assert_eq!(format_changes(&changes), want, "{why}");
    }
}

#[test]
fn the_side_ahead_is_the_one_slowed() {
    use Kind::*;
    type Row<'a> = (Kind, Findings, &'a str, &'a str);
    let rows: Vec<Row> = vec![
        (
            DegenerateOutput,
            ahead(Side::D),
            "lr_d 2e-4->2e-5 (D was ahead (figures), so D's rate was lowered instead of G's)",
            "degenerate output while D rejects every sample: D's steps, not G's, are too large",
        ),
        (
            ModeCollapse,
            ahead(Side::D),
            "lr_d 2e-4->1e-4 (D was ahead (figures), so D's rate was lowered instead of G's)",
            "near-copies that D rejects: slow D",
        ),
        (
            ModeCollapse,
            ahead(Side::G),
            "lr_g 2e-4->1e-4",
            "G ahead and the table slows G already",
        ),
        (
            GFailure,
            ahead(Side::G),
            "label_noise 0.10->0.15; lr_g 2e-4->1e-4 (G was ahead (figures), so G's rate was \
             lowered instead of D's)",
            "the table slows D, the figures blame G: G's rate takes the factor (the noise stays)",
        ),
        (
            QualityRegression,
            ahead(Side::D),
            "lr_g 2e-4->1e-4; lr_d 2e-4->1e-4",
            "a table that slows both sides is left as it is",
        ),
        (
            DegenerateOutput,
            NONE,
            "lr_g 2e-4->2e-5",
            "no side ahead: the table",
        ),
    ];
    for (kind, findings, want, why) in rows {
        assert_eq!(
            rendered(kind, &BASE, &[], &findings),
            Ok(want.to_string()),
            "{why}"
        );
    }
}

#[test]
fn no_setting_moves_further_from_one_that_trained_healthily() {
    use Kind::*;
    type Row<'a> = (Kind, Hyper, Hyper, Vec<Kind>, &'a str, &'a str);
    let rows: Vec<Row> = vec![
        (
            DegenerateOutput,
            Hyper { lr_g: 2e-5, ..BASE },
            BASE,
            vec![DegenerateOutput],
            "lr_g kept at 2e-5 (not moved further from lr_g 2e-4, which trained healthily in \
             this run)",
            "G's rate was cut once and the run has not trained healthily since: no second cut",
        ),
        (
            DegenerateOutput,
            BASE,
            BASE,
            vec![],
            "lr_g 2e-4->2e-5",
            "a first step away from the healthy configuration is allowed",
        ),
        (
            GFailure,
            Hyper {
                label_noise: 0.15,
                ..BASE
            },
            BASE,
            vec![DFooled],
            "label_noise kept at 0.15 (not moved further from label_noise 0.10, which trained \
             healthily in this run); lr_d 2e-4->1e-4",
            "each setting on its own: the noise was raised before, D's rate was not",
        ),
        (
            ModeCollapse,
            Hyper { lr_d: 2e-3, ..BASE },
            Hyper { lr_d: 1e-2, ..BASE },
            vec![GFailure],
            "lr_g 2e-4->1e-4",
            "a rate above the cap that trained healthily is no reference for D (and G's rate is \
             where it was healthy)",
        ),
        (
            DFooled,
            Hyper {
                batch_size: 96,
                ..BASE
            },
            BASE,
            vec![DFooled],
            "lr_g 2e-4->5e-5; batch_size kept at 96 (not moved further from batch_size 128, \
             which trained healthily in this run)",
            "batch sizes too",
        ),
    ];
    for (kind, hyper, h, history, want, why) in rows {
        assert_eq!(
            rendered(kind, &hyper, &history, &healthy(h)),
            Ok(want.to_string()),
            "{why}"
        );
    }
}

#[test]
fn a_stall_slows_a_fast_rate_and_a_rate_far_too_low_ends_the_run() {
    use Kind::*;
    let lr_g = |lr_g| Hyper { lr_g, ..BASE };
    let four = vec![
        DegenerateOutput,
        QualityRegression,
        DegenerateOutput,
        ModeCollapse,
    ];
    type Row<'a> = (Kind, Hyper, Vec<Kind>, Result<&'a str, &'a str>, &'a str);
    let rows: Vec<Row> = vec![
        (
            Stalled,
            lr_g(2e-3),
            vec![DegenerateOutput],
            Ok(
                "lr_g 2e-3->2e-4 (the samples got no closer at G's learning rate 2e-3, above \
                the usual 2e-4)",
            ),
            "health bench, lr_g 2e-1 and 5: capped at lr_max, G's rate was still ten times the \
             usual and the run stalled there; ending it threw away the rescue that lowering \
             it further gave",
        ),
        (
            Stalled,
            Hyper {
                lr_g: 1e-3,
                lr_d: 5e-4,
                ..BASE
            },
            vec![],
            Ok(
                "lr_g 1e-3->2e-4 (the samples got no closer at G's learning rate 1e-3, above \
                the usual 2e-4); lr_d 5e-4->2e-4 (the samples got no closer at D's learning \
                rate 5e-4, above the usual 2e-4)",
            ),
            "every rate above the usual is slowed, never under it",
        ),
        (
            Stalled,
            lr_g(2e-3),
            four,
            Err(
                "no setting the rollback policy changes is out of range: try a wider G \
                 (model.g_width) or other learning rates (train.lr_g, train.lr_d)",
            ),
            "no rollbacks left: the stall ends the run with its advice, not a max_rollbacks \
             line",
        ),
        (
            GFailure,
            lr_g(1e-6),
            vec![],
            Err(
                "g_failure at epoch 44: G's learning rate 1e-6 is far under the usual range \
                 (from 1e-5): raise train.lr_g; a rollback only slows",
            ),
            "health bench, G's rate at 1e-6: g_failure cut D's rate three times, then \
             degenerate_output cut G's to 1e-7, and the run that never learnt ended collapsed",
        ),
        (
            NonFinite,
            Hyper {
                lr_g: 1e-6,
                lr_d: 1e20,
                ..BASE
            },
            vec![],
            Ok(
                "lr_d 1e20->2e-4 (D's learning rate was 5e22x the cap (rollback.lr_max 2e-3); \
                lowered to the usual 2e-4)",
            ),
            "an overflow has its own cause: a tiny rate on the other side does not end it",
        ),
        (
            DegenerateOutput,
            lr_g(2e-5),
            vec![],
            Ok(
                "lr_g 2e-5->1e-5 (lowered only to the floor 1e-5: the table's x0.1 would go under it)",
            ),
            "the table's tenfold cut stops at LR_MIN: under it the rate is a cause of its own",
        ),
    ];
    for (kind, hyper, history, want, why) in rows {
        let got = rendered(kind, &hyper, &history, &NONE);
        let want = want.map(String::from).map_err(String::from);
        assert_eq!(got, want, "{why}");
    }
}

#[test]
fn a_stop_for_getting_nowhere_ends_stalled_and_one_for_a_collapse_does_not() {
    use Kind::*;
    let cfg = RollbackConfig::default();
    let checkpoints = [ck(0, true, 0), ck(20, true, 0)];
    let lr_g = |lr_g| Hyper { lr_g, ..BASE };
    let rows = [
        (Stalled, BASE, vec![], true, "a stall with nothing to slow"),
        (
            GFailure,
            lr_g(1e-6),
            vec![],
            true,
            "a rate far under the usual range",
        ),
        (
            GFailure,
            BASE,
            vec![GFailure; 4],
            false,
            "a collapse with no rollbacks left",
        ),
        (
            Stalled,
            lr_g(2e-3),
            vec![GFailure; 4],
            true,
            "a stall with no rollbacks left",
        ),
    ];
    for (kind, hyper, history, want, why) in rows {
        match decide(
            &cfg,
            &checkpoints,
            &verdict(kind, 30),
            &hyper,
            &past(&history),
            &NONE,
        ) {
            Action::Stop { stalled, .. } => assert_eq!(stalled, want, "{why}"),
            other => panic!("{why}: expected a stop, got {other:?}"),
        }
    }
}

#[test]
fn a_rollback_that_fixed_a_cause_is_no_repeat_of_the_kind_s_table() {
    let cfg = RollbackConfig::default();
    let rates = |lr| Hyper {
        lr_g: lr,
        lr_d: lr,
        ..BASE
    };
    let degenerate = |from| PastRollback {
        kind: Kind::DegenerateOutput,
        from,
        to: None,
    };
    type Row<'a> = (Option<Hyper>, u32, &'a str, &'a str);
    let rows: Vec<Row> = vec![
        (
            Some(rates(5.0)),
            0,
            "lr_g 2e-3->2e-4",
            "health bench, seed 13: the first degenerate_output capped both rates at 5; the \
             second is the first time the table applies (it cut G's rate a hundredfold)",
        ),
        (
            Some(rates(2e-3)),
            1,
            "lr_g 2e-3->2e-5",
            "the table applied before and the kind came back: escalate",
        ),
        (
            None,
            1,
            "lr_g 2e-3->2e-5",
            "settings unknown (no rows of that attempt): a repeat, as before",
        ),
    ];
    for (from, want_escalation, want, why) in rows {
        let action = decide(
            &cfg,
            &[ck(0, true, 0), ck(20, true, 0)],
            &verdict(Kind::DegenerateOutput, 30),
            &rates(2e-3),
            &[degenerate(from)],
            &NONE,
        );
        match action {
            Action::Rollback {
                changes,
                escalation,
                ..
            } => assert_eq!(
                (format_changes(&changes).as_str(), escalation),
                (want, want_escalation),
                "{why}"
            ),
            other => panic!("{why}: expected a rollback, got {other:?}"),
        }
    }
}

/// A rate the floor `LR_MIN` holds says so, and a second retry that changes no setting is not
/// made: a tester's run at G's rate 1.5e-5 went back to epoch 0 three times for the same
/// mode_collapse, the last two with an empty changes column, and ended collapsed with no advice.
#[test]
fn a_retry_that_changes_nothing_says_so_and_is_not_repeated() {
    let cfg = RollbackConfig::default();
    let at = |lr_g| Hyper { lr_g, ..BASE };
    let retry = |from: Hyper, to: Hyper| PastRollback {
        kind: Kind::ModeCollapse,
        from: Some(from),
        to: Some(to),
    };
    // G's rate; the rollbacks before; Some(changes) for a rollback, None for a stop; why.
    type Row<'a> = (f64, Vec<PastRollback>, Option<&'a str>, &'a str);
    let rows: Vec<Row> = vec![
        (
            1.5e-5,
            vec![],
            Some(
                "lr_g 1.5e-5->1e-5 (lowered only to the floor 1e-5: the table's x0.5 would go under it)",
            ),
            "the table halves G's rate; the floor holds it, and the row says so",
        ),
        (
            1e-5,
            vec![retry(at(1.5e-5), at(1e-5))],
            Some(
                "lr_g kept at 1e-5 (already at the floor 1e-5: the table's x0.25 would go under it)",
            ),
            "the last rollback changed a setting: one retry at the same settings, said in words",
        ),
        (
            1e-5,
            vec![retry(at(1.5e-5), at(1e-5)), retry(at(1e-5), at(1e-5))],
            None,
            "the last rollback changed nothing and trouble came back: stop, not spend the rest",
        ),
        (
            1e-5,
            vec![PastRollback::from(Kind::ModeCollapse)],
            Some(
                "lr_g kept at 1e-5 (already at the floor 1e-5: the table's x0.25 would go under it)",
            ),
            "what the last rollback changed is unknown: no stop on a guess",
        ),
    ];
    for (lr_g, history, want, why) in rows {
        let action = decide(
            &cfg,
            &[ck(0, true, 0), ck(20, true, 0)],
            &verdict(Kind::ModeCollapse, 30),
            &at(lr_g),
            &history,
            &NONE,
        );
        match (action, want) {
            (Action::Rollback { changes, .. }, Some(want)) => {
                assert_eq!(format_changes(&changes), want, "{why}")
            }
            (Action::Stop { reason, .. }, None) => assert!(
                reason.contains("the last rollback changed no setting")
                    && reason.contains("lr_g: already at the floor 1e-5"),
                "{why}: {reason}"
            ),
            (other, _) => panic!("{why}: got {other:?}"),
        }
    }
}
