//! Entry point: parse the command line, dispatch, map the outcome to an exit code.

use std::process::ExitCode;

use anigan_runner::cli;
use anigan_runner::commands;
use anigan_runner::config::ConfigErrors;
use anigan_runner::exit;

fn main() -> ExitCode {
    // Die quietly when the reader of our output goes away (`anigan-runner ... | head`), as
    // command-line tools do, instead of panicking on the broken pipe.
    // SAFETY: restoring the default disposition of one signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = cli::parse(std::env::args_os().collect());
    match commands::dispatch(cli) {
        Ok(exit) => exit.into(),
        Err(e) => {
            // A settings error lists its problems on lines of their own.
            if e.is::<ConfigErrors>() {
                eprint!("error: {e}");
            } else {
                eprintln!("error: {e:#}");
            }
            exit::code_of(&e).into()
        }
    }
}
