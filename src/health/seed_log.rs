//! Parser for the original training script's stdout (see seed-data/README.md).
//!
//! The block of lines before a marker `epoch:N/M` belongs to epoch N. A new segment starts when
//! N does not increase, M changes, or an unrecognised line (a start-up preamble) appears.

use anyhow::{Context, Result, bail};

use super::stats::{EpochStats, Segment};

#[derive(Default)]
struct Block {
    /// Last `Acc:real, fake` of the block (the CGAN log prints a line twice on early stop).
    acc: Option<(f64, f64)>,
    g_acc: Option<f64>,
    line: usize,
}

/// Splits the log into segments of complete epochs. A block without both an `Acc:` and a
/// `GAcc:` line (the cut-off first block) or without its marker (cut by a restart) is dropped.
pub fn parse_seed_log(text: &str) -> Result<Vec<Segment>> {
    let mut segments: Vec<Segment> = Vec::new();
    let mut cur = Segment::default();
    let mut block = Block::default();
    let mut last_marker: Option<(u64, u64)> = None;
    let mut restarted = false;
    for (i, raw) in text.lines().enumerate() {
        let (n, line) = (i + 1, raw.trim());
        if block.line == 0 {
            block.line = n;
        }
        if let Some((epoch, total)) = marker(raw).with_context(|| format!("line {n}"))? {
            let new_run = last_marker.is_some_and(|(e, t)| epoch <= e || total != t);
            if restarted || new_run {
                push(&mut segments, std::mem::take(&mut cur));
            }
            restarted = false;
            if let (Some((real, fake)), Some(g)) = (block.acc, block.g_acc) {
                if cur.stats.is_empty() {
                    cur.line = block.line;
                }
                let non_finite = ![real, fake, g].iter().all(|v| v.is_finite());
                cur.stats.push(EpochStats {
                    epoch,
                    d_acc_real: real,
                    d_acc_fake: fake,
                    g_acc: g,
                    non_finite,
                    ..EpochStats::default()
                });
            }
            last_marker = Some((epoch, total));
            block = Block::default();
        } else if let Some(rest) = after(line, "GAcc:") {
            block.g_acc = Some(number(rest).with_context(|| format!("line {n}: GAcc"))?);
        } else if let Some(rest) = after(line, "Acc:") {
            let (a, b) = rest
                .split_once(',')
                .with_context(|| format!("line {n}: expected `Acc:real, fake`"))?;
            let real = number(a).with_context(|| format!("line {n}: Acc real"))?;
            let fake = number(b).with_context(|| format!("line {n}: Acc fake"))?;
            block.acc = Some((real, fake));
        } else if !(line.is_empty() || line == "savepoint") {
            // Only a fresh start prints anything else; the unfinished block before it is lost.
            restarted = true;
            block = Block::default();
        }
    }
    push(&mut segments, cur);
    Ok(segments)
}

fn push(segments: &mut Vec<Segment>, seg: Segment) {
    if !seg.stats.is_empty() {
        segments.push(seg);
    }
}

/// `epoch:N/M` at the start of a line (phase lines like `D_epoch:0/1:` are indented/prefixed).
fn marker(raw: &str) -> Result<Option<(u64, u64)>> {
    let Some(rest) = raw.strip_prefix("epoch:") else {
        return Ok(None);
    };
    let Some((n, m)) = rest.trim().split_once('/') else {
        bail!("marker {raw:?} is not `epoch:N/M`");
    };
    let parse = |s: &str| {
        s.trim()
            .parse::<u64>()
            .with_context(|| format!("marker {raw:?}"))
    };
    Ok(Some((parse(n)?, parse(m)?)))
}

fn after<'a>(line: &'a str, tag: &str) -> Option<&'a str> {
    line.find(tag).map(|i| &line[i + tag.len()..])
}

fn number(s: &str) -> Result<f64> {
    let s = s.split_whitespace().next().unwrap_or("");
    s.parse::<f64>()
        .with_context(|| format!("{s:?} is not a number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CUT_START: &str = "epoch:560/1000\n\tD_epoch:0/1: \tAcc:0.9993, 0.0047\n\tearlyG_epoch:0/1: GAcc:0.9999\t\n\tG_epoch:0/1: GAcc:0.9998\t\n\nepoch:561/1000\n";
    const RESTART: &str = "\tD_epoch:0/1: \tAcc:0.9, 0.9\n\tG_epoch:0/1: GAcc:0.5\t\n\nepoch:10/20\n\tD_epoch:0/1: \tAcc:0.9, 0.9\n\tG_epoch:0/1: GAcc:0.5\t\nsavepoint\n\nepoch:11/20\n\tD_epoch:0/1: \tAcc:0.8, 0.8\n\tG_epoch:0/1: GAcc:0.4\t\n\nepoch:10/20\n";
    const CGAN_DUP: &str = "\tD_epoch:0/1: \tAcc:0.9079, 0.9827\n\tD_epoch:0/1: \tAcc:0.9079, 0.9827\n\tG_epoch:0/1: GAcc:0.4631\t\n\tG_epoch:0/1: GAcc:0.4631\t\nsavepoint\n\nepoch:269/700\n\tD_epoch:0/1: \tAcc:0.9, 0.9\n\tD_epoch:0/1: \tAcc:0.9, 0.9\n\tG_epoch:0/1: GAcc:0.4\t\nsavepoint\n\nDrive already mounted at /content/gdrive\n\tD_epoch:0/1: \tAcc:0.93, 0.97\n\tG_epoch:0/1: GAcc:0.49\t\n\nepoch:270/700\n";

    /// (epoch, d_acc_real, d_acc_fake, g_acc) per segment.
    type Shape = Vec<Vec<(u64, f64, f64, f64)>>;

    fn shape(text: &str) -> Shape {
        parse_seed_log(text)
            .unwrap()
            .into_iter()
            .map(|s| {
                s.stats
                    .iter()
                    .map(|e| (e.epoch, e.d_acc_real, e.d_acc_fake, e.g_acc))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn blocks_become_epochs() {
        let rows: &[(&str, Shape, &str)] = &[
            (
                CUT_START,
                vec![vec![(561, 0.9993, 0.0047, 0.9998)]],
                "nothing before the first marker: 560 is dropped; last GAcc line wins",
            ),
            (
                RESTART,
                vec![
                    vec![(10, 0.9, 0.9, 0.5), (11, 0.9, 0.9, 0.5)],
                    vec![(10, 0.8, 0.8, 0.4)],
                ],
                "a repeated epoch number starts a new segment",
            ),
            (
                CGAN_DUP,
                vec![
                    vec![(269, 0.9079, 0.9827, 0.4631)],
                    vec![(270, 0.93, 0.97, 0.49)],
                ],
                "duplicated early-stop lines are one epoch; a preamble drops the cut block and restarts",
            ),
        ];
        for (text, want, why) in rows {
            assert_eq!(&shape(text), want, "{why}");
        }
    }

    #[test]
    fn bad_numbers_name_the_line() {
        let err = parse_seed_log("\tG_epoch:0/1: GAcc:zero\n").unwrap_err();
        assert!(format!("{err:#}").contains("line 1"), "{err:#}");
    }
}
