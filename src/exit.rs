//! Named exit codes, so scripts and CI can tell a bad config from a failed or collapsed run, and
//! the one place that maps an error to its code.

use std::fmt;
use std::process::ExitCode;

use crate::config::ConfigErrors;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything asked for was done: every variant finished, or stopped at a rung by
    /// `[prune]` as the rule asks.
    Success = 0,
    /// A variant failed (error, crash) or the runner hit an internal error.
    Failed = 1,
    /// Bad command line or experiment settings, or an environment that cannot do what they
    /// ask (a device that is not there, Slurm missing, out of reach or refusing the job);
    /// nothing was written.
    Usage = 2,
    /// Every variant ended, but at least one collapsed or stalled (got nowhere).
    Collapsed = 3,
    /// Stopped on request (SIGINT, SIGTERM, SIGUSR1) after an epoch; rerun to resume.
    Interrupted = 4,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}

/// What the user asked for cannot be done as asked: a path that is not what the command needs,
/// a device that is not there, a file in no known format, a Slurm that cannot be asked or
/// refuses the job. Exit code 2, like `ConfigErrors`.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// A `UsageError` as an `anyhow::Error`, for `?` and `map_err`.
pub fn usage(message: impl fmt::Display) -> anyhow::Error {
    UsageError(message.to_string()).into()
}

/// Settings problems headed as settings of `subject` (a replay's rule is no experiment's); exit
/// code 2, as `ConfigErrors`.
pub fn settings_of(subject: &str) -> impl Fn(ConfigErrors) -> anyhow::Error + '_ {
    move |errors| usage(errors.listed(subject).trim_end())
}

/// Several command-line problems at once (bad flag values), as one `UsageError`: headed as the
/// command line's, not the experiment settings', since no setting is wrong.
pub fn usage_problems(problems: Vec<String>) -> anyhow::Error {
    let n = problems.len();
    let list: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
    usage(format!(
        "{n} problem{} with the command line:\n{}",
        if n == 1 { "" } else { "s" },
        list.join("\n")
    ))
}

/// The exit code for a command that ended with `error`: `Usage` when a settings or usage error
/// is anywhere in its chain (context added on the way up does not hide it), else `Failed`.
pub fn code_of(error: &anyhow::Error) -> Exit {
    let is_usage = error
        .chain()
        .any(|e| e.is::<UsageError>() || e.is::<ConfigErrors>());
    if is_usage { Exit::Usage } else { Exit::Failed }
}

#[cfg(test)]
mod tests {
    use anyhow::Context;

    use super::*;

    #[test]
    fn usage_and_settings_errors_map_to_2_through_context() {
        let rows: [(anyhow::Error, Exit, &str); 4] = [
            (usage("no such run"), Exit::Usage, "usage error"),
            (
                ConfigErrors(vec!["bad".into()]).into(),
                Exit::Usage,
                "settings error",
            ),
            (
                Err::<(), _>(usage("x"))
                    .context("while reading")
                    .unwrap_err(),
                Exit::Usage,
                "wrapped in context",
            ),
            (anyhow::anyhow!("disk full"), Exit::Failed, "anything else"),
        ];
        for (error, want, why) in rows {
            assert_eq!(code_of(&error), want, "{why}");
        }
    }
}
