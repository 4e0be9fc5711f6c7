//! report.md: the summary table for terminals and code hosts: the columns a reader needs first
//! (`summary::key_columns`); summary.csv has them all.

use super::escape::md_cell;
use super::stamp::Stamp;
use super::summary::{Figure, Summary, grid_values, key_columns, rescued_note};
use crate::results::logged_verdicts_note;
use crate::results::reader::ExperimentRecord;

pub fn markdown(
    results: &ExperimentRecord,
    summaries: &[Summary],
    figure: Figure,
    stamp: &Stamp,
) -> String {
    let mut out = format!("# {}\n\n", md_cell(&results.name));
    if !results.description.is_empty() {
        out += &format!("{}\n\n", md_cell(&results.description));
    }
    out += &format!("{}\n\n", super::html::state_counts(summaries));
    out += &format!("{}\n\n", stamp.markdown());
    let keys = key_columns(summaries);
    let header: Vec<String> = ["index", "id"]
        .iter()
        .map(|s| s.to_string())
        .chain(results.grid_keys.iter().map(|k| md_cell(k)))
        .chain(keys.iter().map(|c| md_cell(c.heading)))
        .collect();
    out += &format!("| {} |\n", header.join(" | "));
    out += &format!("|{}\n", "---|".repeat(header.len()));
    for s in summaries {
        let row: Vec<String> = [s.index.to_string(), s.id.clone()]
            .into_iter()
            .chain(
                grid_values(s, &results.grid_keys)
                    .iter()
                    .map(|v| md_cell(v)),
            )
            .chain(keys.iter().map(|c| md_cell(&(c.cell)(s))))
            .collect();
        out += &format!("| {} |\n", row.join(" | "));
    }
    out += &notes(results, summaries);
    out += &format!(
        "\nRows are in grid order; `rank` orders the runs of the experiment by {}. An epoch is \
         in balance when D real, D fake and G accuracy all lie in [0.05, 0.95] (neither side has \
         won). {} Every column: summary.csv. Charts, samples and events: report.html.\n",
        figure.label(),
        super::html::FLOOR_NOTE
    );
    out
}

/// Under the table, one line per run with something to say: why it ended as it did (status
/// reason), the settings rollbacks changed (its figures are theirs, not its grid values'), and
/// the verdicts it only logged with rollback disabled (a run can end `finished` far from the
/// data once its episode is over: the table alone would not show it).
fn notes(results: &ExperimentRecord, summaries: &[Summary]) -> String {
    let mut lines = Vec::new();
    for s in summaries {
        if let Some(reason) = &s.reason {
            lines.push(format!("- {} {}: {}\n", s.id, s.state, md_cell(reason)));
        }
        if let Some(note) = rescued_note(s) {
            lines.push(format!("- {} {}: {}\n", s.id, s.state, md_cell(&note)));
        }
        let run = results.runs.iter().find(|r| r.id == s.id);
        if let Some(note) = run.and_then(|r| logged_verdicts_note(&r.events)) {
            lines.push(format!("- {} {}: {}\n", s.id, s.state, md_cell(&note)));
        }
    }
    match lines.is_empty() {
        true => String::new(),
        false => format!("\n{}", lines.concat()),
    }
}
