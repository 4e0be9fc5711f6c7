//! Named exit codes, so scripts and CI can tell a bad config from a failed or collapsed run.

use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything asked for was done.
    Success = 0,
    /// A variant failed (error, crash) or the runner hit an internal error.
    Failed = 1,
    /// Bad command line or experiment settings; nothing was written.
    Usage = 2,
    /// Every variant finished, but at least one ended collapsed.
    Collapsed = 3,
    /// Stopped on request (SIGINT, SIGTERM, SIGUSR1) after an epoch; rerun to resume.
    Interrupted = 4,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}
