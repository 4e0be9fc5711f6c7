//! Replay of the four real logs with the default config: the key episodes, and no false alarms.

use super::config::RollbackConfig;
use super::detector::DetectorSetup;
use super::kind::Kind::{self, DFooled, GFailure};
use super::replay::{Episode, Listed, replay};
use super::seed_log::parse_seed_log;

fn load(name: &str) -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/seed-logs/");
    std::fs::read_to_string(format!("{dir}{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// (kind, onset_epoch, detected_epoch, end_epoch)
type Ep = (Kind, u64, u64, Option<u64>);

fn episodes(name: &str) -> Vec<Ep> {
    let segs = parse_seed_log(&load(name)).unwrap();
    let setup = DetectorSetup::unrecorded(RollbackConfig::default());
    replay(&segs, &setup, Listed::Every)
        .into_iter()
        .map(|e: Episode| (e.kind, e.onset_epoch, e.detected_epoch, e.end_epoch))
        .collect()
}

#[test]
fn segments_of_each_log() {
    // (log, first and last epoch of each segment, why)
    type Row<'a> = (&'a str, &'a [(u64, u64)], &'a str);
    let rows: &[Row] = &[
        (
            "dcgan-560-960.log",
            &[(561, 959)],
            "first block cut off; last block has no marker",
        ),
        (
            "dcgan-840-1279.log",
            &[(840, 1279)],
            "restart from 840 prints 840 again",
        ),
        (
            "dcgan-1160-1399.log",
            &[(1160, 1399)],
            "one run after a preamble",
        ),
        (
            "cgan-0-699.log",
            &[
                (0, 69),
                (70, 148),
                (149, 230),
                (230, 249),
                (250, 269),
                (270, 699),
            ],
            "six pasted segments: new totals, a repeated 230, and a restart preamble",
        ),
    ];
    for (name, want, why) in rows {
        let segs = parse_seed_log(&load(name)).unwrap();
        let got: Vec<(u64, u64)> = segs
            .iter()
            .map(|s| (s.stats[0].epoch, s.stats.last().unwrap().epoch))
            .collect();
        assert_eq!(&got, want, "{name}: {why}");
        for s in &segs {
            let n = (s.stats.last().unwrap().epoch - s.stats[0].epoch + 1) as usize;
            assert_eq!(
                s.stats.len(),
                n,
                "{name}: no epoch doubled or missing inside a segment"
            );
        }
    }
}

#[test]
fn episodes_with_default_config() {
    let rows: &[(&str, &[Ep], &str)] = &[
        (
            "dcgan-560-960.log",
            &[
                (GFailure, 705, 719, Some(729)),
                (GFailure, 732, 746, Some(752)),
                (GFailure, 755, 769, Some(822)),
                (DFooled, 824, 838, Some(854)),
                (GFailure, 854, 869, None),
            ],
            "D fooled 824-853 (Acc 1.0/0.0, GAcc 1.0), then the author's 'G failed from 853'",
        ),
        (
            "dcgan-840-1279.log",
            &[
                (GFailure, 847, 861, Some(862)),
                (GFailure, 864, 879, Some(882)),
                (DFooled, 966, 980, Some(998)),
                (GFailure, 1000, 1014, Some(1030)),
                (GFailure, 1037, 1052, Some(1076)),
                (GFailure, 1226, 1240, None),
            ],
            "restoring mid-collapse 840 replayed it; 1226-1279 precedes the 'pure blue image'",
        ),
        (
            "dcgan-1160-1399.log",
            &[
                (GFailure, 1207, 1222, Some(1239)),
                (GFailure, 1322, 1337, Some(1352)),
                (DFooled, 1354, 1368, None),
            ],
            "the author's '1360-1430: D could not tell G's output apart'",
        ),
        (
            "cgan-0-699.log",
            &[(GFailure, 620, 634, None)],
            "G fails from 620 to the end",
        ),
    ];
    for (name, want, why) in rows {
        assert_eq!(&episodes(name), want, "{name}: {why}");
    }
}

#[test]
fn normal_back_and_forth_stays_quiet() {
    let rows: &[(&str, u64, u64, &str)] = &[
        (
            "dcgan-560-960.log",
            561,
            704,
            "G acc bounces 0.0x-0.9x; short D-fooled bursts 604-606, 656-661",
        ),
        (
            "dcgan-840-1279.log",
            1076,
            1225,
            "bursts of 4-9 bad epochs with recoveries between",
        ),
        (
            "dcgan-1160-1399.log",
            1160,
            1206,
            "d_fooled 1178-1191 is 14 epochs: one short of patience",
        ),
        (
            "cgan-0-699.log",
            0,
            617,
            "CGAN early G failures of 4-12 epochs recover by themselves",
        ),
    ];
    for (name, from, to, why) in rows {
        let hits: Vec<_> = episodes(name)
            .into_iter()
            .filter(|e| (*from..=*to).contains(&e.1))
            .collect();
        assert!(hits.is_empty(), "{name} {from}-{to}: {why}; got {hits:?}");
    }
}
