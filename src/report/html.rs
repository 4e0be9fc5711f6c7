//! report.html: one self-contained page (inline CSS, images by relative path, no scripts, no
//! network). Every user-supplied string goes through `escape::html`.

use super::escape::html as esc;
use super::summary::{
    DIFFERS, Figure, Summary, by_recipe, cells, columns, extra_columns, grid_values, index_cell,
    key_columns, rescued_note, state_counts,
};
use crate::results::reader::{ExperimentRecord, Run};
use crate::results::rungs::Outcome;
use crate::results::{EventRow, RunState, Taken};

/// What the floor columns mean, under every summary table.
pub const FLOOR_NOTE: &str = "swd floor: the SWD between a seeded random sample of training \
    images and the held-out images (what two samples of real images score), mean and standard \
    deviation (sd) over 5 draws; a change in swd within about two sd is measurement noise. \
    tag_kl floor: the tag_kl of the same real samples (the tag classifier's reading of them \
    against its reading of the held-out images), the best a generator can score.";
use super::stamp::Stamp;
use super::{CrossChart, RunFiles};

const CSS: &str = "body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1400px}\
table{border-collapse:collapse;font-size:13px;margin:8px 0}\
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}\
th{background:#f0f0f0}\
td.n{text-align:right}\
.st{font-weight:bold}.finished{color:#2a7d2a}.running{color:#1f77b4}.interrupted{color:#b8860b}.waiting{color:#1f77b4}\
.collapsed{color:#d62728}.rescued{color:#b8860b}.stalled{color:#ff7f0e}.failed{color:#d62728}.not-started{color:#888}.pruned{color:#17becf}\
section.run{border-top:2px solid #ddd;margin-top:28px}\
img{max-width:100%;border:1px solid #eee}\
.samples{display:flex;gap:16px;flex-wrap:wrap;align-items:flex-start}\
.samples figure{margin:0}.note{color:#555;font-size:13px}\
details{margin:8px 0}summary{cursor:pointer;color:#1f4e79}.wide{overflow-x:auto}\
table.runs td{white-space:nowrap}";

fn class(state: &str) -> String {
    state.replace(' ', "-")
}

pub fn html(
    results: &ExperimentRecord,
    summaries: &[Summary],
    figure: Figure,
    cross: &[CrossChart],
    files: &[RunFiles],
    stamp: &Stamp,
) -> String {
    let mut p = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} - anigan-runner report</title><style>{CSS}</style></head><body>\n",
        esc(&results.name)
    );
    p += &format!("<h1>{}</h1>\n", esc(&results.name));
    if !results.description.is_empty() {
        p += &format!("<p>{}</p>\n", esc(&results.description));
    }
    match results.defined_by() {
        Some(line) => p += &format!("<p class=\"note\">The {}.</p>\n", esc(&line)),
        None => {
            p += "<p class=\"note\">No experiment.json: variants read off the run directories \
                  (never-started variants cannot be listed).</p>\n"
        }
    }
    p += &format!("<p>{}</p>\n", esc(&state_counts(summaries)));
    p += &format!("<p class=\"note\">{}</p>\n", stamp.html());
    p += &kind_counts_table(results);
    let (current, others) = by_recipe(summaries);
    p += &format!(
        "<div class=\"wide\">\n{}</div>\n",
        key_table(results, &current)
    );
    if !others.is_empty() {
        p += &format!(
            "<h3>Runs of another recipe ({})</h3>\n<p class=\"note\">In this folder but not in \
             the experiment as it stands (an edited grid, or overrides that change what is \
             trained): not counted, ranked or numbered above. Each is named by its id, with \
             the settings it differs in and its own values of the grid keys.</p>\n\
             <div class=\"wide\">\n{}</div>\n",
            others.len(),
            key_table(results, &others)
        );
    }
    p += &format!(
        "<details><summary>All {} columns of summary.csv but its reason (each run's section \
         below says it)</summary><div class=\"wide\">\n{}</div></details>\n",
        2 + results.grid_keys.len() + columns(&extra_columns(summaries)).len(),
        summary_table(results, summaries)
    );
    p += &format!(
        "<p class=\"note\">Final values come from the last epoch of the surviving timeline \
         (rolled-back epochs left out). An epoch is <b>in balance</b> when D real, D fake and G \
         accuracy all lie in [0.05, 0.95] (neither side has won). Rows are in grid order; <b>rank</b> orders the runs of the experiment by {}. Mean updates, wall time (evaluations included) and \
         img/s (training time only) count every trained epoch. {}</p>\n",
        esc(figure.label()),
        esc(FLOOR_NOTE)
    );
    p += "<h2>All runs</h2>\n";
    for c in cross {
        p += &format!(
            "<h3>{}</h3>\n<img src=\"{}\" alt=\"{}\">\n",
            esc(&c.title),
            esc(&c.path),
            esc(&c.title)
        );
    }
    for ((run, s), f) in results.runs.iter().zip(summaries).zip(files) {
        p += &run_section(run, s, &results.grid_keys, f);
    }
    p += "</body></html>\n";
    p
}

/// Per collapse kind across the sweep: (kind, rollbacks, stops, verdicts logged with rollback
/// off, runs with any of them), in `Kind`'s order; kinds that never fired are left out.
pub fn kind_counts(results: &ExperimentRecord) -> Vec<(String, usize, usize, usize, usize)> {
    crate::health::Kind::ALL
        .iter()
        .map(|&kind| {
            let count = |action: Taken| {
                results
                    .runs
                    .iter()
                    .flat_map(|r| &r.events)
                    .filter(|e| e.kind == kind && e.action == action)
                    .count()
            };
            let runs = results
                .runs
                .iter()
                .filter(|r| r.events.iter().any(|e| e.kind == kind))
                .count();
            (
                kind.to_string(),
                count(Taken::Rollback),
                count(Taken::Stop),
                count(Taken::Continue),
                runs,
            )
        })
        .filter(|c| c.4 > 0)
        .collect()
}

fn kind_counts_table(results: &ExperimentRecord) -> String {
    let counts = kind_counts(results);
    if counts.is_empty() {
        return "<p class=\"note\">No collapse verdicts in any run.</p>\n".into();
    }
    let mut t = String::from(
        "<h2>Collapse verdicts per kind</h2><div class=\"wide\"><table><tr><th>kind</th><th>rollbacks</th>\
         <th>stops</th><th>logged (rollback off)</th><th>runs</th></tr>\n",
    );
    for (kind, rollbacks, stops, logged, runs) in counts {
        t += &format!(
            "<tr><td>{}</td><td class=\"n\">{rollbacks}</td><td class=\"n\">{stops}</td>\
             <td class=\"n\">{logged}</td><td class=\"n\">{runs}</td></tr>\n",
            esc(&kind)
        );
    }
    t + "</table></div>\n"
}

/// A grid key as a column heading that may break after its dots (`train.<wbr>label_noise`):
/// the cells below it hold short values, so the heading should not set the column's width.
fn grid_heading(key: &str) -> String {
    esc(key).replace('.', ".<wbr>")
}

/// A summary table's opening and first headings: index, id, one per grid key.
fn table_start(results: &ExperimentRecord) -> String {
    let mut t = String::from("<table class=\"runs\"><tr><th>#</th><th>id</th>");
    for k in &results.grid_keys {
        t += &format!("<th>{}</th>", grid_heading(k));
    }
    t
}

/// A summary table row's first cells: index, id (a link to the run's section), grid values
/// (`summary::grid_value`: a value a rollback changed says what it trained with at the end).
fn row_start(s: &Summary, keys: &[String]) -> String {
    let mut t = format!(
        "<tr><td class=\"n\">{}</td><td><a href=\"#run-{}\">{}</a></td>",
        index_cell(s),
        esc(&s.id),
        esc(&s.id)
    );
    for (v, own) in grid_values(s, keys).iter().zip(&s.grid) {
        match v == own {
            true => t += &format!("<td>{}</td>", esc(v)),
            false => t += &format!("<td class=\"rescued\">{}</td>", esc(v)),
        }
    }
    t
}

/// The summary's first table: index, id, grid values and `key_columns`, one row per variant
/// (the runs of one recipe: the experiment's, or another's).
fn key_table(results: &ExperimentRecord, summaries: &[&Summary]) -> String {
    let keys = key_columns(summaries);
    let mut t = table_start(results);
    for c in &keys {
        t += &format!("<th>{}</th>", esc(c.heading));
    }
    t += "</tr>\n";
    for s in summaries {
        t += &row_start(s, &results.grid_keys);
        for c in &keys {
            let cell = (c.cell)(s);
            if c.heading == "status" {
                t += &format!("<td class=\"st {}\">{}</td>", class(&cell), esc(&cell));
            } else if c.heading == DIFFERS {
                t += &format!("<td>{}</td>", esc(&cell));
            } else {
                t += &format!("<td class=\"n\">{}</td>", esc(&cell));
            }
        }
        t += "</tr>\n";
    }
    t + "</table>\n"
}

/// Every column of summary.csv (less the failure reason, which each run's section gives).
fn summary_table(results: &ExperimentRecord, summaries: &[Summary]) -> String {
    let mut t = table_start(results);
    let groups = extra_columns(summaries);
    for c in columns(&groups) {
        t += &format!("<th>{}</th>", esc(&c.replace('_', " ")));
    }
    t += "</tr>\n";
    for s in summaries {
        t += &row_start(s, &results.grid_keys);
        for (i, c) in cells(s, &groups).iter().enumerate() {
            if i == 0 {
                t += &format!("<td class=\"st {}\">{}</td>", class(c), esc(c));
            } else {
                t += &format!("<td class=\"n\">{}</td>", esc(c));
            }
        }
        t += "</tr>\n";
    }
    t + "</table>\n"
}

/// A run's grid values with their keys (`train.lr_d = 0.0002, model.arch = dcgan`), as the
/// summary tables show them (`train.lr_g = 5.0 → 0.0002 (rollback)` where a rollback changed
/// it): the value the run trains with, a value nothing records left out. None when no key has
/// a value.
fn grid_line(keys: &[String], values: &[String]) -> Option<String> {
    let pairs: Vec<String> = keys
        .iter()
        .zip(values)
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{} = {}", esc(k), esc(v)))
        .collect();
    (!pairs.is_empty()).then(|| pairs.join(", "))
}

fn run_section(run: &Run, summary: &Summary, keys: &[String], f: &RunFiles) -> String {
    let state = run.state.word();
    let mut s = format!(
        "<section class=\"run\" id=\"run-{}\"><h2>{} <span class=\"st {}\">{}</span></h2>\n",
        esc(&run.id),
        esc(&run.id),
        class(state),
        state
    );
    if !run.current {
        s += "<p class=\"note\">Not in the experiment file as it stands (experiment.json): a \
              run of another recipe in the same folder (an edited grid, or overrides that change \
              what is trained). It is not ranked; its values below are its own.</p>\n";
        if !summary.differs.is_empty() {
            s += &format!(
                "<p>differs from the experiment in: {}</p>\n",
                esc(&summary.differs)
            );
        }
    }
    match &run.overrides {
        Some(o) if !o.is_empty() => {
            let list: Vec<String> = o.iter().map(|o| esc(&o.to_string())).collect();
            s += &format!(
                "<p>overrides when it last trained: {}</p>\n",
                list.join(", ")
            );
        }
        _ => {}
    }
    if let Some(line) = grid_line(keys, &grid_values(summary, keys)) {
        s += &format!("<p>grid values: {line}</p>\n");
    }
    if let Some(note) = rescued_note(summary) {
        s += &format!("<p class=\"rescued\">Rescued: {}.</p>\n", esc(&note));
    }
    if let Some(st) = &run.status {
        s += &format!(
            "<p>epoch {} of {}, {} steps trained, attempt {}</p>\n",
            st.epochs_done, st.epochs_planned, st.steps_done, st.attempt
        );
        if let Some(reason) = &st.reason {
            s += &format!("<p class=\"{}\">{}</p>\n", class(state), esc(reason));
        }
    }
    if run.state == RunState::NotStarted {
        return s
            + "<p class=\"note\">Not started yet: no metrics, samples or events.</p></section>\n";
    }
    for (title, path) in [
        ("balance", &f.balance),
        ("quality over training", &f.quality),
        ("losses and updates", &f.losses),
    ] {
        if let Some(path) = path {
            s += &format!(
                "<img src=\"{}\" alt=\"{} of {}\">\n",
                esc(path),
                title,
                esc(&run.id)
            );
        }
    }
    s += "<div class=\"samples\">\n";
    if let Some((path, epoch)) = &f.latest {
        s += &figure(path, &format!("latest samples (epoch {epoch})"));
    }
    if let Some((path, why)) = &f.best {
        s += &figure(path, &format!("best.png: {why}"));
    }
    if let Some(path) = &f.gif {
        s += &figure(path, "progress over the epochs (progress.gif)");
    }
    for (path, k, epoch) in &f.rolled_back {
        let caption = format!("what rollback {k} abandoned: its samples at epoch {epoch}");
        s += &figure(path, &caption);
    }
    s += "</div>\n";
    s += &rungs_table(run);
    s += &events_table(run);
    s + "</section>\n"
}

/// `[prune]`'s decisions of a run, one row per rung: its figure, place and the peers'.
fn rungs_table(run: &Run) -> String {
    if run.rungs.is_empty() {
        return String::new();
    }
    let mut t = String::from(
        "<h3>Rungs</h3><div class=\"wide\"><table><tr><th>rung</th><th>judged at</th><th>figure</th>\
         <th>place</th><th>go on</th><th>cutoff</th><th>decision</th><th>peers</th></tr>\n",
    );
    for r in &run.rungs {
        let opt = |x: Option<String>| x.unwrap_or_default();
        let peers = r.peer_figures();
        let decision = match r.outcome {
            Outcome::Keep => "goes on",
            Outcome::TooFewPeers => "goes on (too few peers)",
            Outcome::Stop => "stopped",
        };
        t += &format!(
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{} {}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td>\
             <td>{}</td></tr>\n",
            esc(&r.rung_name()),
            r.judged_epoch,
            r.rule.metric,
            r.figure,
            opt(r.place.map(|p| format!("{p} of {}", r.entrants))),
            opt(r.places.map(|p| p.to_string())),
            opt(r.cutoff.map(|c| c.to_string())),
            decision,
            esc(&peers.join(", "))
        );
    }
    t + "</table></div>\n"
}

fn figure(path: &str, caption: &str) -> String {
    format!(
        "<figure><img src=\"{}\" alt=\"{}\"><figcaption class=\"note\">{}</figcaption></figure>\n",
        esc(path),
        esc(caption),
        esc(caption)
    )
}

fn events_table(run: &Run) -> String {
    if run.events.is_empty() {
        return "<p class=\"note\">No collapse verdicts (events.csv is empty).</p>\n".into();
    }
    let mut t = String::from(
        "<h3>Episodes</h3><div class=\"wide\"><table><tr><th>#</th><th>step</th><th>epoch</th><th>kind</th>\
         <th>onset epoch</th><th>action</th><th>restored epoch</th><th>escalation</th>\
         <th>changes</th><th>evidence</th></tr>\n",
    );
    for (i, e) in run.events.iter().enumerate() {
        t += &format!(
            "<tr><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td>\
             <td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td>{}</td><td>{}</td></tr>\n",
            i + 1,
            e.step,
            e.epoch,
            esc(e.kind.as_str()),
            e.onset_epoch,
            esc(&chosen(e)),
            e.restored_epoch.map_or(String::new(), |r| r.to_string()),
            e.escalation,
            esc(&e.changes),
            esc(&e.evidence)
        );
    }
    t + "</table></div>\n"
}

/// The action as the reader needs it: "rollback to epoch 40", "stop", "logged (rollback off)".
fn chosen(e: &EventRow) -> String {
    match (e.action, e.restored_epoch) {
        (Taken::Rollback, Some(r)) => format!("rollback to epoch {r}"),
        (Taken::Continue, _) => "logged (rollback off)".into(),
        (other, _) => other.word().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::Kind;

    fn event(kind: Kind, action: Taken, restored: Option<u64>) -> EventRow {
        EventRow {
            onset_epoch: 3,
            restored_epoch: restored,
            ..crate::results::test_rows::event(5, kind, action)
        }
    }

    fn run(id: &str, events: Vec<EventRow>) -> Run {
        Run::for_test(id, vec![], events)
    }

    #[test]
    fn verdicts_are_counted_per_kind_across_the_sweep() {
        let results = ExperimentRecord::for_test(vec![
            run(
                "000-a",
                vec![
                    event(Kind::ModeCollapse, Taken::Rollback, Some(0)),
                    event(Kind::ModeCollapse, Taken::Rollback, Some(0)),
                    event(Kind::GFailure, Taken::Stop, None),
                ],
            ),
            run(
                "001-b",
                vec![event(Kind::ModeCollapse, Taken::Continue, None)],
            ),
            run("002-c", vec![]),
        ]);
        // (kind, rollbacks, stops, logged with rollback off, runs), in the kinds' order
        let want = vec![
            ("mode_collapse".to_string(), 2, 0, 1, 2),
            ("g_failure".to_string(), 0, 1, 0, 1),
        ];
        assert_eq!(kind_counts(&results), want);
        let table = kind_counts_table(&results);
        assert!(table.contains("<td>mode_collapse</td>"), "{table}");
        let episodes = events_table(&results.runs[0]);
        assert!(
            episodes.contains("rollback to epoch 0"),
            "each episode names the rollback chosen: {episodes}"
        );
    }

    /// On a phone the page never scrolls sideways: it is laid out at the screen's width, and
    /// every table, the episodes' and rungs' too, scrolls inside a box of its own.
    #[test]
    fn the_page_fits_a_phone_and_every_table_scrolls_in_its_own_box() {
        let results = ExperimentRecord::for_test(vec![run(
            "000-a",
            vec![event(Kind::ModeCollapse, Taken::Rollback, Some(0))],
        )]);
        let summaries = crate::report::summary::summaries(&results);
        let page = html(
            &results,
            &summaries,
            Figure::Swd,
            &[],
            &[RunFiles::default()],
            &Stamp {
                at: "2026-12-07 16:40 UTC".into(),
                unfinished: String::new(),
                command: "anigan-runner report x".into(),
            },
        );
        assert!(
            page.contains(
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            )
        );
        let tables = page.matches("<table").count();
        assert!(
            tables >= 4,
            "kinds, key columns, all columns, episodes: {tables}"
        );
        let boxed = page.matches("<div class=\"wide\">\n<table").count()
            + page.matches("<div class=\"wide\"><table").count();
        assert_eq!(boxed, tables, "{page}");
    }

    #[test]
    fn grid_values_are_named_and_unknown_ones_left_out() {
        let keys: Vec<String> = ["train.lr_d", "train.lr_g", "model.arch"]
            .map(String::from)
            .to_vec();
        let values = |v: [&str; 3]| v.map(String::from).to_vec();
        // (a run's values, the line, why)
        let cases = [
            (
                values(["0.5", "0.0002", "dcgan"]),
                Some("train.lr_d = 0.5, train.lr_g = 0.0002, model.arch = dcgan"),
                "every value known",
            ),
            (
                values(["", "0.2", ""]),
                Some("train.lr_g = 0.2"),
                "values nothing records (a plan of an older build, not started)",
            ),
            (values(["", "", ""]), None, "none known: no line"),
            (
                values(["a<b", "", ""]),
                Some("train.lr_d = a&lt;b"),
                "escaped",
            ),
        ];
        for (run, want, why) in cases {
            assert_eq!(grid_line(&keys, &run).as_deref(), want, "{why}");
        }
    }

    #[test]
    fn grid_headings_may_break_after_their_dots_and_stay_escaped() {
        let cases = [
            ("train.label_noise", "train.<wbr>label_noise", "a long key"),
            ("seed", "seed", "no dot"),
            ("a.b<c", "a.<wbr>b&lt;c", "escaped first"),
        ];
        for (key, want, why) in cases {
            assert_eq!(grid_heading(key), want, "{why}");
        }
    }
}
