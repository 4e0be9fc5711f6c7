//! When a report was written and from what: the line report.html and report.md carry under
//! their counts, so a reader of a copy that a sweep has since moved past knows how old it is,
//! what was still going on then, and the command that writes it again.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use super::summary::Summary;
use crate::results::RunState;

/// The states a variant can leave without anyone editing the results: what was unfinished
/// when the report was written.
const UNFINISHED: [RunState; 4] = [
    RunState::Running,
    RunState::Waiting,
    RunState::Interrupted,
    RunState::NotStarted,
];

/// The line's parts: the time (`2026-12-07 16:40 UTC`), what was unfinished then (`1 running,
/// 3 waiting`; empty when nothing was) and the command that writes the report again.
#[derive(Debug, Clone, PartialEq)]
pub struct Stamp {
    pub at: String,
    pub unfinished: String,
    pub command: String,
}

impl Stamp {
    /// The stamp of a report written at `at` from `summaries`, by `command`.
    pub fn new(at: SystemTime, summaries: &[Summary], command: String) -> Stamp {
        let all: Vec<&Summary> = summaries.iter().collect();
        let counts = super::summary::count_states(&UNFINISHED, &all);
        Stamp {
            at: utc_minute(at),
            unfinished: counts.join(", "),
            command,
        }
    }

    /// `Written 2026-12-07 16:40 UTC; 1 running, 3 waiting at that time: ` or `Written ...
    /// UTC, when every variant had ended: ` (what goes before the command).
    fn lead(&self) -> String {
        match self.unfinished.is_empty() {
            true => format!("Written {}, when every variant had ended: ", self.at),
            false => format!("Written {}; {} at that time: ", self.at, self.unfinished),
        }
    }

    /// The line in Markdown (the command in backticks).
    pub fn markdown(&self) -> String {
        format!("{}`{}` writes it again.", self.lead(), self.command)
    }

    /// The line in HTML (the command as code), escaped.
    pub fn html(&self) -> String {
        let esc = super::escape::html;
        format!(
            "{}<code>{}</code> writes it again.",
            esc(&self.lead()),
            esc(&self.command)
        )
    }
}

/// The command that writes the report of `exp` again: `anigan-runner report EXP`, with
/// `--out OUT` when it goes elsewhere; paths quoted for a POSIX shell where they need it.
pub fn command(exp: &Path, out: Option<&Path>) -> String {
    let mut c = format!("anigan-runner report {}", shell_word(exp));
    if let Some(out) = out {
        c += &format!(" --out {}", shell_word(out));
    }
    c
}

/// `path` as one word of a POSIX shell: as it is when made of letters, digits and `_./-`
/// only, else in single quotes (a quote in it written `'\''`).
fn shell_word(path: &Path) -> String {
    let text = path.to_string_lossy();
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-'));
    match plain {
        true => text.into_owned(),
        false => format!("'{}'", text.replace('\'', r"'\''")),
    }
}

/// `t` to the minute in UTC: `2026-12-07 16:40 UTC`.
pub fn utc_minute(t: SystemTime) -> String {
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    let (days, minute) = (secs.div_euclid(86_400), secs.rem_euclid(86_400) / 60);
    let (y, m, d) = civil(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        minute / 60,
        minute % 60
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365], from March 1st
    let mp = (5 * doy + 2) / 153; // [0, 11], March = 0
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn times_read_as_utc_dates_to_the_minute() {
        // (seconds since 1970, the text, why); the dates as `date -u -d @SECONDS` prints them
        let cases = [
            (0, "1970-01-01 00:00 UTC", "the epoch"),
            (
                951_782_400,
                "2000-02-29 00:00 UTC",
                "a leap day of a year divisible by 400",
            ),
            (1_709_208_000, "2024-02-29 12:00 UTC", "a leap day"),
            (
                1_796_661_600,
                "2026-12-07 16:40 UTC",
                "the time of the report that went stale",
            ),
            (
                4_107_542_399,
                "2100-02-28 23:59 UTC",
                "2100 is no leap year; seconds cut",
            ),
        ];
        for (secs, want, why) in cases {
            let t = UNIX_EPOCH + Duration::from_secs(secs);
            assert_eq!(utc_minute(t), want, "{why}");
        }
    }

    #[test]
    fn the_line_says_what_was_unfinished_and_how_to_write_it_again() {
        let run = crate::results::reader::Run::for_test("000-a", vec![], vec![]);
        let base = crate::report::summary::summarize(&run, super::super::summary::Figure::Swd);
        let with = |state: &'static str| Summary {
            state,
            ..base.clone()
        };
        let at = UNIX_EPOCH + Duration::from_secs(1_796_661_600);
        let sweep = [
            with("finished"),
            with("waiting"),
            with("running"),
            with("waiting"),
            with("not started"),
            with("pruned"),
        ];
        let stamp = Stamp::new(at, &sweep, command(Path::new("results/sweep"), None));
        assert_eq!(
            stamp.markdown(),
            "Written 2026-12-07 16:40 UTC; 1 running, 2 waiting, 1 not started at that time: \
             `anigan-runner report results/sweep` writes it again."
        );
        let done = Stamp::new(at, &sweep[..1], command(Path::new("r/x"), None));
        assert_eq!(
            done.html(),
            "Written 2026-12-07 16:40 UTC, when every variant had ended: \
             <code>anigan-runner report r/x</code> writes it again."
        );
        // (experiment folder, --out, the command, why)
        let cases = [
            (
                "shared res ü/prune-sweep",
                Some("reports/it's"),
                "anigan-runner report 'shared res ü/prune-sweep' --out 'reports/it'\\''s'",
                "spaces, letters beyond ASCII and a quote are quoted",
            ),
            (
                "results/a_b-1.0",
                None,
                "anigan-runner report results/a_b-1.0",
                "a plain path as it is",
            ),
        ];
        for (exp, out, want, why) in cases {
            assert_eq!(command(Path::new(exp), out.map(Path::new)), want, "{why}");
        }
    }
}
