//! The lenient reading of metrics.csv's text into `MetricsRow`s: the file as the runner wrote
//! it, or as a spreadsheet saved it (a BOM, CRLF, `;` or tab separators, decimal commas).

use anyhow::{Context, Result, bail};

use super::metrics::{self, MetricsRow};
use crate::health;

/// Columns without which a row means nothing to any reader.
const REQUIRED: [&str; 4] = ["epoch", "d_acc_real", "d_acc_fake", "g_acc"];

/// Every row with its 1-based line number (the header is line 1). An empty text has none: a
/// resume from the initial weights cuts metrics.csv back to nothing, header included.
pub(super) fn rows(text: &str) -> Result<Vec<(usize, MetricsRow)>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let header = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let delimiter = health::csv_delimiter(header).unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let headers = reader.headers().context("metrics.csv header")?.clone();
    for name in REQUIRED {
        if !headers.iter().any(|h| h == name) {
            bail!("metrics.csv has no `{name}` column");
        }
    }
    let groups: Vec<usize> = (0..headers.len())
        .filter(|&i| metrics::is_group_column(&headers[i]))
        .collect();
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let at = || format!("metrics.csv line {line}");
        let record = normalised(&record.with_context(at)?, &headers, delimiter).with_context(at)?;
        let mut row: MetricsRow = record.deserialize(Some(&headers)).with_context(at)?;
        for &g in &groups {
            let value = match record.get(g).unwrap_or_default() {
                "" => None,
                v => Some(
                    v.parse::<f64>()
                        .with_context(|| format!("{}: column {}", at(), &headers[g]))?,
                ),
            };
            row.tag_acc_groups.push((headers[g].to_string(), value));
        }
        rows.push((line, row));
    }
    Ok(rows)
}

/// A record as the runner writes its cells: `0,5` is a decimal comma where `,` is not the
/// separator; `non_finite` may be written `0`/`1`; an empty required cell is named.
fn normalised(
    record: &csv::StringRecord,
    headers: &csv::StringRecord,
    delimiter: u8,
) -> Result<csv::StringRecord> {
    let mut out = csv::StringRecord::new();
    for (name, cell) in headers.iter().zip(record.iter()) {
        if cell.is_empty() && REQUIRED.contains(&name) {
            bail!("empty {name}");
        }
        let cell = match (name, cell) {
            ("non_finite", "0") => "false".to_string(),
            ("non_finite", "1") => "true".to_string(),
            ("non_finite", "" | "true" | "false") => cell.to_string(),
            ("non_finite", other) => bail!("non_finite {other:?} is not true/false"),
            _ if delimiter != b',' && cell.contains(',') => cell.replace(',', "."),
            _ => cell.to_string(),
        };
        out.push_field(&cell);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::metrics::{parse, segments};

    const CSV: &str = "step,epoch,attempt,d_acc_real,d_acc_fake,g_acc,d_loss,g_loss,sample_std,wall_s\n\
        10,5,0,0.9,0.95,0.5,0.7,1.2,0.41,3.2\n\
        20,6,0,0.9,0.95,0.5,NaN,1.2,,3.1\n\
        30,7,0,0.9,0.95,0.5,0.7,1.2,0.40,3.3\n\
        40,6,1,0.9,0.95,0.5,0.7,1.2,0.39,3.0\n\
        50,7,1,0.9,0.95,0.5,0.7,1.2,0.39,3.0\n\
        60,3,1,0.9,0.95,0.5,0.7,1.2,0.39,3.0\n";

    #[test]
    fn rows_segments_and_values() {
        let segs = segments(CSV).unwrap();
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
        let want = format!("{:?}", segments(CSV).unwrap());
        let semicolons = CSV.replace(',', ";").replace("0.", "0,");
        let tabs = CSV.replace(',', "\t");
        let bom_crlf = format!("\u{feff}{}", CSV.replace('\n', "\r\n"));
        for (text, why) in [
            (semicolons, "; and decimal commas"),
            (tabs, "tabs"),
            (bom_crlf, "BOM and CRLF"),
        ] {
            let got = format!("{:?}", segments(&text).unwrap());
            assert_eq!(got, want, "{why}");
        }
    }

    #[test]
    fn missing_required_column_is_named() {
        let err = parse("epoch,d_acc_real,d_acc_fake\n1,0.9,0.9\n").unwrap_err();
        assert!(err.to_string().contains("`g_acc`"), "{err:#}");
    }

    #[test]
    fn an_empty_file_has_no_rows() {
        for (text, why) in [
            (
                "",
                "cut back to nothing by a resume from the initial weights",
            ),
            ("\u{feff}\n", "a BOM and a blank line"),
        ] {
            assert!(parse(text).unwrap().is_empty(), "{why}");
        }
    }
}
