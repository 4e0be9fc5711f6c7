//! Replay: run the detector over a recorded log and list every episode, without rolling back.

use serde::Serialize;

use super::detector::DetectorSetup;
use super::kind::Kind;
use super::stats::Segment;

/// One detected collapse; `end_epoch` is the first healthy epoch after it (None: log ended first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Episode {
    pub kind: Kind,
    pub onset_epoch: u64,
    pub detected_epoch: u64,
    pub end_epoch: Option<u64>,
    /// The log's segment it was found in, from 0: a metrics.csv's attempt (a rollback starts
    /// the next), an original log's restart. Epochs repeat across segments.
    pub segment: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// The original training script's stdout.
    SeedLog,
    /// This runner's metrics.csv.
    MetricsCsv,
}

/// What each format needs, for the message when a file is in neither.
pub const FORMATS_TRIED: &str = "metrics.csv (a header row naming epoch, d_acc_real, d_acc_fake \
    and g_acc, separated by `,`, `;` or tabs, then a row per epoch) and the original training \
    log (`Acc:` and `GAcc:` lines, then an `epoch:N/M` line per epoch)";

/// The format of a log, looking past a byte-order mark: a header naming `epoch` and `g_acc` on
/// the first non-empty line (`,`, `;` or tab separated) means metrics.csv, an `epoch:N/M`
/// marker line the original training log. None: neither (a README, an unrelated CSV).
pub fn detect_format(text: &str) -> Option<LogFormat> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if csv_delimiter(first).is_some() {
        Some(LogFormat::MetricsCsv)
    } else if text.lines().any(|l| l.starts_with("epoch:")) {
        Some(LogFormat::SeedLog)
    } else {
        None
    }
}

/// The separator of a metrics.csv header line: the first of `,`, `;`, tab that splits it into
/// cells naming `epoch` and `g_acc` (spreadsheets in many locales save with `;`).
pub fn csv_delimiter(header: &str) -> Option<u8> {
    [b',', b';', b'\t'].into_iter().find(|&d| {
        let cols: Vec<&str> = header
            .split(d as char)
            .map(|c| c.trim().trim_matches('"'))
            .collect();
        cols.contains(&"epoch") && cols.contains(&"g_acc")
    })
}

/// Which of the verdicts one epoch raises a replay lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listed {
    /// Every kind that fired.
    Every,
    /// Only the most urgent (`Kind`'s order), as the live run acts on and records one verdict
    /// an epoch (`Detector::observe`): the replay of a run's own metrics.csv lists its events.
    MostUrgent,
}

/// Every episode in every segment, each segment with a fresh detector from `setup` (as the live
/// run resets its detector when a rollback starts a new attempt; a log that does not say what
/// its run trained on gets `DetectorSetup::unrecorded`). Ordered by segment, then detection.
pub fn replay(segments: &[Segment], setup: &DetectorSetup, listed: Listed) -> Vec<Episode> {
    replay_segments(segments, setup, listed)
        .into_iter()
        .flatten()
        .collect()
}

/// `replay`'s episodes, segment by segment.
pub fn replay_segments(
    segments: &[Segment],
    setup: &DetectorSetup,
    listed: Listed,
) -> Vec<Vec<Episode>> {
    segments
        .iter()
        .enumerate()
        .map(|(i, seg)| replay_segment(i, seg, setup, listed))
        .collect()
}

fn replay_segment(
    segment: usize,
    seg: &Segment,
    setup: &DetectorSetup,
    listed: Listed,
) -> Vec<Episode> {
    let mut episodes = Vec::new();
    let mut det = setup.detector();
    // Index into `episodes` of each kind's open episode.
    let mut open: Vec<(Kind, usize)> = Vec::new();
    for s in &seg.stats {
        let step = det.step(s);
        for (kind, end) in step.ended {
            if let Some(pos) = open.iter().position(|(k, _)| *k == kind) {
                let (_, idx) = open.swap_remove(pos);
                let ep: &mut Episode = &mut episodes[idx];
                ep.end_epoch = Some(end);
            }
        }
        let shown = match listed {
            Listed::Every => step.fired.len(),
            Listed::MostUrgent => 1,
        };
        for v in step.fired.into_iter().take(shown) {
            open.push((v.kind, episodes.len()));
            episodes.push(Episode {
                kind: v.kind,
                onset_epoch: v.onset_epoch,
                detected_epoch: v.detected_epoch,
                end_epoch: None,
                segment,
            });
        }
    }
    episodes
}

/// A fixed-width table for the terminal.
pub fn episodes_table(episodes: &[Episode], segments: usize) -> String {
    // With several segments the epochs repeat: a first column says whose they are.
    let column = |segment: &str| match segments {
        0 | 1 => String::new(),
        _ => format!("{segment:>7}  "),
    };
    let mut out = format!(
        "{}{:<18} {:>6} {:>9} {:>6}\n",
        column("segment"),
        "kind",
        "onset",
        "detected",
        "end"
    );
    for e in episodes {
        let end = e
            .end_epoch
            .map_or_else(|| "-".to_string(), |v| v.to_string());
        out += &format!(
            "{}{:<18} {:>6} {:>9} {:>6}\n",
            column(&e.segment.to_string()),
            e.kind.as_str(),
            e.onset_epoch,
            e.detected_epoch,
            end
        );
    }
    if episodes.is_empty() {
        out += "(no episodes)\n";
    }
    out
}

/// A JSON array of `{kind, onset_epoch, detected_epoch, end_epoch, segment}` (end_epoch null
/// if open; segment from 0).
pub fn episodes_json(episodes: &[Episode]) -> String {
    serde_json::to_string_pretty(episodes).expect("episodes always serialize")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_detection() {
        let rows = [
            (
                "step,epoch,attempt,d_acc_real,d_acc_fake,g_acc\n",
                Some(LogFormat::MetricsCsv),
                "csv header",
            ),
            (
                "\n epoch , g_acc\n",
                Some(LogFormat::MetricsCsv),
                "leading blank line and spaces",
            ),
            (
                "\u{feff}step,epoch,d_acc_real,d_acc_fake,g_acc\r\n1,1,0.5,0.5,0.5\r\n",
                Some(LogFormat::MetricsCsv),
                "spreadsheet: BOM and CRLF",
            ),
            (
                "epoch;d_acc_real;d_acc_fake;g_acc\n1;0,5;0,5;0,5\n",
                Some(LogFormat::MetricsCsv),
                "semicolon separated",
            ),
            (
                "\"epoch\"\t\"g_acc\"\n",
                Some(LogFormat::MetricsCsv),
                "tab separated, quoted",
            ),
            (
                "epoch:560/1000\n\tD_epoch:0/1: \tAcc:1.0, 0.9\n",
                Some(LogFormat::SeedLog),
                "seed marker",
            ),
            (
                "Drive already mounted\n\tG_epoch:0/1: GAcc:0.5\n\nepoch:3/9\n",
                Some(LogFormat::SeedLog),
                "preamble, then a marker",
            ),
            ("# anigan-runner\n\nA batch runner.\n", None, "a README"),
            ("name,value\nlr,0.1\n", None, "another CSV"),
            ("", None, "empty"),
        ];
        for (text, want, why) in rows {
            assert_eq!(detect_format(text), want, "{why}");
        }
    }

    #[test]
    fn json_and_table_shape() {
        let eps = [Episode {
            kind: Kind::DFooled,
            onset_epoch: 824,
            detected_epoch: 838,
            end_epoch: None,
            segment: 1,
        }];
        let v: serde_json::Value = serde_json::from_str(&episodes_json(&eps)).unwrap();
        assert_eq!(
            v,
            serde_json::json!([{"kind": "d_fooled", "onset_epoch": 824, "detected_epoch": 838, "end_epoch": null, "segment": 1}])
        );
        let row = |segments| {
            episodes_table(&eps, segments)
                .lines()
                .nth(1)
                .unwrap()
                .to_string()
        };
        assert!(row(1).starts_with("d_fooled"), "one segment: no column");
        assert!(
            row(2).trim_start().starts_with("1  d_fooled"),
            "epochs repeat across segments: whose they are comes first: {}",
            row(2)
        );
        assert!(episodes_table(&[], 1).contains("no episodes"));
    }

    #[test]
    fn most_urgent_lists_one_verdict_an_epoch() {
        // Flat, alike near-copies from the start: degenerate_output and mode_collapse fire
        // together once twice the warm-up has passed.
        let csv = "epoch,attempt,d_acc_real,d_acc_fake,g_acc,sample_std,sample_image_std,\
                   sample_nn\n"
            .to_string()
            + &(1..=6)
                .map(|e| format!("{e},0,0.6,0.5,0.5,0.01,0.01,0.1\n"))
                .collect::<String>();
        let segments = crate::results::metrics::segments(&csv).unwrap();
        let setup = DetectorSetup::unrecorded(Default::default());
        let kinds = |listed| -> Vec<Kind> {
            replay(&segments, &setup, listed)
                .iter()
                .map(|e| e.kind)
                .collect()
        };
        assert_eq!(
            kinds(Listed::Every),
            [Kind::DegenerateOutput, Kind::ModeCollapse]
        );
        assert_eq!(kinds(Listed::MostUrgent), [Kind::DegenerateOutput]);
    }

    #[test]
    fn replay_closes_episodes_and_keeps_going() {
        let csv = "epoch,attempt,d_acc_real,d_acc_fake,g_acc\n".to_string()
            + &(100..150)
                .map(|e| {
                    let g = if (110..130).contains(&e) || e >= 140 {
                        0.0
                    } else {
                        0.9
                    };
                    format!("{e},0,0.9,1.0,{g}\n")
                })
                .collect::<String>();
        let segments = crate::results::metrics::segments(&csv).unwrap();
        let setup = DetectorSetup::unrecorded(Default::default());
        let got = replay(&segments, &setup, Listed::Every);
        let want = vec![Episode {
            kind: Kind::GFailure,
            onset_epoch: 110,
            detected_epoch: 124,
            end_epoch: Some(130),
            segment: 0,
        }];
        assert_eq!(
            got, want,
            "ends at the first healthy epoch; 140-149 is too short to fire"
        );
    }
}
