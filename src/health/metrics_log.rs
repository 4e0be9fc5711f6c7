//! Parser for this runner's own metrics.csv (one row per epoch, header row, extra columns ignored).

use anyhow::{Context, Result, bail};

use super::policy::Hyper;
use super::stats::{EpochStats, Segment};

/// Splits rows into segments: a new one starts when `attempt` changes or `epoch` does not
/// increase (a rollback replays epochs). Empty cells read as missing values. A file saved by a
/// spreadsheet reads too: a BOM, CRLF, and `;` or tab separators (then `0,5` is a number).
pub fn parse_metrics_csv(text: &str) -> Result<Vec<Segment>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let header = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let delimiter = super::replay::csv_delimiter(header).unwrap_or(b',');
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let headers = rdr.headers().context("metrics.csv header")?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let need =
        |name: &str| col(name).with_context(|| format!("metrics.csv has no `{name}` column"));
    let (epoch_i, real_i, fake_i, g_i) = (
        need("epoch")?,
        need("d_acc_real")?,
        need("d_acc_fake")?,
        need("g_acc")?,
    );
    let optional = [
        "attempt",
        "d_loss",
        "g_loss",
        "sample_std",
        "sample_image_std",
        "non_finite",
        "sample_nn",
        "label_noise",
        "swd",
        "sample_swd",
        "d_updates",
        "g_updates",
        "lr_g",
        "lr_d",
        "batch_size",
    ]
    .map(col);
    let [
        attempt_i,
        d_loss_i,
        g_loss_i,
        std_i,
        image_std_i,
        non_finite_i,
        nn_i,
        noise_i,
        swd_i,
        sample_swd_i,
        d_updates_i,
        g_updates_i,
        lr_g_i,
        lr_d_i,
        batch_i,
    ] = optional;

    let mut segments = Vec::new();
    let mut cur = Segment::default();
    let mut prev: Option<(u64, Option<String>)> = None;
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = rec.with_context(|| format!("metrics.csv line {line}"))?;
        let cell = |idx: Option<usize>| idx.and_then(|j| rec.get(j)).filter(|s| !s.is_empty());
        let num = |idx: Option<usize>, name: &str| -> Result<Option<f64>> {
            cell(idx)
                .map(|s| {
                    decimal(s, delimiter)
                        .parse::<f64>()
                        .with_context(|| format!("metrics.csv line {line}: {name} {s:?}"))
                })
                .transpose()
        };
        let req = |idx: usize, name: &str| -> Result<f64> {
            num(Some(idx), name)?.with_context(|| format!("metrics.csv line {line}: empty {name}"))
        };
        let epoch_s =
            cell(Some(epoch_i)).with_context(|| format!("metrics.csv line {line}: empty epoch"))?;
        let epoch: u64 = epoch_s
            .parse()
            .with_context(|| format!("metrics.csv line {line}: epoch {epoch_s:?}"))?;
        let attempt = cell(attempt_i).map(str::to_string);
        if prev
            .as_ref()
            .is_some_and(|(e, a)| epoch <= *e || *a != attempt)
        {
            segments.push(std::mem::take(&mut cur));
        }
        if cur.stats.is_empty() {
            cur.line = line;
        }
        let flag = match cell(non_finite_i) {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(other) => bail!("metrics.csv line {line}: non_finite {other:?} is not true/false"),
        };
        let (d_loss, g_loss) = (num(d_loss_i, "d_loss")?, num(g_loss_i, "g_loss")?);
        let losses_finite = [d_loss, g_loss].iter().flatten().all(|v| v.is_finite());
        cur.stats.push(EpochStats {
            epoch,
            d_acc_real: req(real_i, "d_acc_real")?,
            d_acc_fake: req(fake_i, "d_acc_fake")?,
            g_acc: req(g_i, "g_acc")?,
            d_loss,
            g_loss,
            sample_std: num(std_i, "sample_std")?,
            sample_image_std: num(image_std_i, "sample_image_std")?,
            sample_nn: num(nn_i, "sample_nn")?,
            label_noise: num(noise_i, "label_noise")?,
            swd: num(swd_i, "swd")?,
            sample_swd: num(sample_swd_i, "sample_swd")?,
            d_updates: num(d_updates_i, "d_updates")?,
            g_updates: num(g_updates_i, "g_updates")?,
            hyper: match (
                num(lr_g_i, "lr_g")?,
                num(lr_d_i, "lr_d")?,
                num(noise_i, "label_noise")?,
                num(batch_i, "batch_size")?,
            ) {
                (Some(lr_g), Some(lr_d), Some(label_noise), Some(b)) => Some(Hyper {
                    lr_g,
                    lr_d,
                    label_noise,
                    batch_size: b as u32,
                }),
                _ => None,
            },
            non_finite: flag || !losses_finite,
        });
        prev = Some((epoch, attempt));
    }
    if !cur.stats.is_empty() {
        segments.push(cur);
    }
    Ok(segments)
}

/// `0,5` is a decimal comma where `,` is not the separator (as `;`-separated exports write it).
fn decimal(cell: &str, delimiter: u8) -> std::borrow::Cow<'_, str> {
    if delimiter != b',' && cell.contains(',') {
        cell.replace(',', ".").into()
    } else {
        cell.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "step,epoch,attempt,d_acc_real,d_acc_fake,g_acc,d_loss,g_loss,sample_std,wall_s\n\
        10,5,0,0.9,0.95,0.5,0.7,1.2,0.41,3.2\n\
        20,6,0,0.9,0.95,0.5,NaN,1.2,,3.1\n\
        30,7,0,0.9,0.95,0.5,0.7,1.2,0.40,3.3\n\
        40,6,1,0.9,0.95,0.5,0.7,1.2,0.39,3.0\n\
        50,7,1,0.9,0.95,0.5,0.7,1.2,0.39,3.0\n\
        60,3,1,0.9,0.95,0.5,0.7,1.2,0.39,3.0\n";

    #[test]
    fn rows_segments_and_values() {
        let segs = parse_metrics_csv(CSV).unwrap();
        let epochs: Vec<Vec<u64>> = segs
            .iter()
            .map(|s| s.stats.iter().map(|e| e.epoch).collect())
            .collect();
        assert_eq!(
            epochs,
            vec![vec![5, 6, 7], vec![6, 7], vec![3]],
            "attempt change and epoch going back split"
        );
        assert_eq!(segs[1].line, 5, "segment start line counts the header");
        let e6 = segs[0].stats[1];
        let cases = [
            (e6.non_finite, true, "a NaN loss marks the epoch non-finite"),
            (
                e6.sample_std.is_none(),
                true,
                "an empty cell is a missing value",
            ),
            (
                segs[0].stats[0].sample_image_std.is_none(),
                true,
                "an absent column is a missing value",
            ),
        ];
        for (got, want, why) in cases {
            assert_eq!(got, want, "{why}");
        }
    }

    #[test]
    fn spreadsheet_exports_read_like_the_original() {
        // Debug text, because the NaN loss is not equal to itself.
        let want = format!("{:?}", parse_metrics_csv(CSV).unwrap());
        let semicolons = CSV.replace(',', ";").replace("0.", "0,");
        let tabs = CSV.replace(',', "\t");
        let bom_crlf = format!("\u{feff}{}", CSV.replace('\n', "\r\n"));
        for (text, why) in [
            (semicolons, "; and decimal commas"),
            (tabs, "tabs"),
            (bom_crlf, "BOM and CRLF"),
        ] {
            let got = format!("{:?}", parse_metrics_csv(&text).unwrap());
            assert_eq!(got, want, "{why}");
        }
    }

    #[test]
    fn missing_required_column_is_named() {
        let err = parse_metrics_csv("epoch,d_acc_real,d_acc_fake\n1,0.9,0.9\n").unwrap_err();
        assert!(err.to_string().contains("`g_acc`"), "{err:#}");
    }
}
