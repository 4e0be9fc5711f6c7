//! report.md: the summary table for terminals and code hosts: the columns a reader needs first
//! (`summary::key_columns`), with the per-group tag accuracies beside `final tag acc` as
//! report.html's full table has them; summary.csv has every column.

use super::escape::md_cell;
use super::stamp::Stamp;
use super::summary::{
    Figure, KeyColumn, Summary, by_recipe, grid_values, group_cell, group_columns, index_cell,
    key_columns, rescued_note, state_counts,
};
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
    out += &format!("{}\n\n", state_counts(summaries));
    if let Some(line) = results.defined_by() {
        out += &format!("The {}.\n\n", md_cell(&line));
    }
    out += &format!("{}\n\n", stamp.markdown());
    let (current, others) = by_recipe(summaries);
    out += &table(results, &current);
    if !others.is_empty() {
        out += &format!(
            "\n## Runs of another recipe ({})\n\nIn this folder but not in the experiment as it \
             stands (an edited grid, or overrides that change what is trained): not counted, \
             ranked or numbered above. Each is named by its id, with the settings it differs in \
             and its own values of the grid keys.\n\n",
            others.len()
        );
        out += &table(results, &others);
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

/// A table of runs of one recipe (the experiment's, or another's): index, id, grid values and
/// the key columns some of them have.
fn table(results: &ExperimentRecord, rows: &[&Summary]) -> String {
    let columns = columns(rows);
    let header: Vec<String> = ["index", "id"]
        .iter()
        .map(|s| s.to_string())
        .chain(results.grid_keys.iter().map(|k| md_cell(k)))
        .chain(columns.iter().map(|c| md_cell(&c.heading())))
        .collect();
    let mut out = format!("| {} |\n", header.join(" | "));
    out += &format!("|{}\n", "---|".repeat(header.len()));
    for s in rows {
        let row: Vec<String> = [index_cell(s), s.id.clone()]
            .into_iter()
            .chain(
                grid_values(s, &results.grid_keys)
                    .iter()
                    .map(|v| md_cell(v)),
            )
            .chain(columns.iter().map(|c| md_cell(&c.cell(s))))
            .collect();
        out += &format!("| {} |\n", row.join(" | "));
    }
    out
}

/// A column of the table after the grid values.
enum Column {
    Key(KeyColumn),
    /// A per-group accuracy, `tag_acc_<group>`.
    Group(String),
}

impl Column {
    /// As report.html heads it: `tag acc hair` for `tag_acc_hair`.
    fn heading(&self) -> String {
        match self {
            Column::Key(c) => c.heading.to_string(),
            Column::Group(name) => name.replace('_', " "),
        }
    }

    fn cell(&self, s: &Summary) -> String {
        match self {
            Column::Key(c) => (c.cell)(s),
            Column::Group(name) => group_cell(s, name),
        }
    }
}

/// The key columns, with the per-group accuracies right after `final tag acc`.
fn columns(summaries: &[&Summary]) -> Vec<Column> {
    let mut out = Vec::new();
    for c in key_columns(summaries) {
        let overall = c.heading == "final tag acc";
        out.push(Column::Key(c));
        if overall {
            out.extend(group_columns(summaries).into_iter().map(Column::Group));
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::MetricsRow;
    use crate::results::reader::Run;

    #[test]
    fn the_table_has_the_per_group_accuracies_beside_the_overall_one() {
        let row = MetricsRow {
            epoch: 1,
            step: 1,
            swd: Some(30.0),
            tag_acc: Some(0.4),
            tag_acc_groups: vec![
                ("tag_acc_hair".into(), Some(0.806)),
                ("tag_acc_eyes".into(), None),
            ],
            ..MetricsRow::default()
        };
        let results = ExperimentRecord::for_test(vec![Run::for_test("000-a", vec![row], vec![])]);
        let summaries = crate::report::summary::summaries(&results);
        let stamp = Stamp {
            at: "2026-12-07 16:40 UTC".into(),
            unfinished: String::new(),
            command: "anigan-runner report x".into(),
        };
        let text = markdown(&results, &summaries, Figure::Swd, &stamp);
        let lines: Vec<&str> = text.lines().collect();
        let at = lines.iter().position(|l| l.starts_with("| index")).unwrap();
        assert!(
            lines[at].contains("| final tag acc | tag acc hair | tag acc eyes | balance share |"),
            "{text}"
        );
        assert!(
            lines[at + 2].contains("| 0.4000 | 0.8060 |  | "),
            "the figures under them, an unevaluated group empty: {text}"
        );
    }
}
