//! report.md: the summary table for terminals and code hosts: the columns a reader needs first
//! (`summary::key_columns`); summary.csv has them all.

use super::escape::md_cell;
use super::summary::{Figure, Summary, key_columns};
use crate::results::reader::ExperimentRecord;

pub fn markdown(results: &ExperimentRecord, summaries: &[Summary], figure: Figure) -> String {
    let mut out = format!("# {}\n\n", md_cell(&results.name));
    if !results.description.is_empty() {
        out += &format!("{}\n\n", md_cell(&results.description));
    }
    out += &format!("{}\n\n", super::html::state_counts(summaries));
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
            .chain(s.grid.iter().map(|v| md_cell(v)))
            .chain(keys.iter().map(|c| md_cell(&(c.cell)(s))))
            .collect();
        out += &format!("| {} |\n", row.join(" | "));
    }
    let with_reasons: Vec<&Summary> = summaries.iter().filter(|s| s.reason.is_some()).collect();
    if !with_reasons.is_empty() {
        out += "\n";
    }
    for s in with_reasons {
        let reason = s.reason.as_deref().unwrap_or_default();
        out += &format!("- {} {}: {}\n", s.id, s.state, md_cell(reason));
    }
    out += &format!(
        "\nRows are in grid order; `rank` orders the runs of the experiment by {}. An epoch is \
         in balance when D real, D fake and G accuracy all lie in [0.05, 0.95] (neither side has \
         won). {} Every column: summary.csv. Charts, samples and events: report.html.\n",
        figure.label(),
        super::html::FLOOR_NOTE
    );
    out
}
