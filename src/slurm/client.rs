//! Slurm's client commands (sbatch, scontrol) as the runner calls them: a `Command` that fails
//! early, and a failure's words as one line.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use anyhow::{Context, Result};

use crate::exit::usage;

/// `program` (`sbatch`, `scontrol`) ready to run, or why it cannot be asked: `SLURM_CONF`
/// naming no file, where every Slurm client retries for a minute before it gives up. A Slurm
/// that cannot be asked is the environment's problem, not the sweep's: a usage error (exit 2).
pub fn command(program: &str) -> Result<Command> {
    if let Some(conf) = std::env::var_os("SLURM_CONF").filter(|c| !c.is_empty())
        && !std::path::Path::new(&conf).is_file()
    {
        return Err(usage(format!(
            "SLURM_CONF={} names no file ({program} would retry for a minute): point it at the \
             cluster's slurm.conf or unset it",
            conf.to_string_lossy()
        )));
    }
    Ok(Command::new(program))
}

/// Runs `command` (made by `command(program)`), with `stdin` on its standard input, and
/// returns what it printed and its status. A client that cannot be started is a usage error
/// (exit 2) that says where Slurm's commands come from.
pub fn output(mut command: Command, program: &str, stdin: Option<&[u8]>) -> Result<Output> {
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().map_err(|e| {
        usage(format!(
            "cannot run {program} ({e}): Slurm's client commands must be on PATH (on a \
             cluster: `module load slurm` or ask your admins; to try it on this machine: \
             scripts/slurm-local start, then eval \"$(scripts/slurm-local env)\")"
        ))
    })?;
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(bytes)
            .with_context(|| format!("cannot write to {program}'s input"))?;
    }
    child
        .wait_with_output()
        .with_context(|| format!("{program} did not finish"))
}

/// What a Slurm client printed on stderr, as one line: Slurm reports one failure over several
/// lines (`scontrol: error: ...`, ..., `scontrol: fatal: ...`), which would spread a one-line
/// warning over the screen. The lines are joined with "; ", without the program's prefix and
/// the `error:`/`fatal:` words, repeats dropped.
pub fn one_line(program: &str, stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let prefix = format!("{program}: ");
    let mut parts: Vec<&str> = Vec::new();
    for line in text.lines() {
        let mut line = line.trim();
        line = line.strip_prefix(&prefix).unwrap_or(line);
        for word in ["error: ", "fatal: "] {
            line = line.strip_prefix(word).unwrap_or(line);
        }
        if !line.is_empty() && !parts.contains(&line) {
            parts.push(line);
        }
    }
    if parts.is_empty() {
        "no message".to_string()
    } else {
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_read_as_one_line() {
        for (stderr, want, why) in [
            (
                "scontrol: error: resolve_ctls_from_dns_srv: res_nsearch error: Unknown host\n\
                 scontrol: error: fetch_config: DNS SRV lookup failed\n\
                 scontrol: error: _establish_config_source: failed to fetch config\n\
                 scontrol: fatal: Could not establish a configuration source\n",
                "resolve_ctls_from_dns_srv: res_nsearch error: Unknown host; fetch_config: DNS \
                 SRV lookup failed; _establish_config_source: failed to fetch config; Could not \
                 establish a configuration source",
                "clients but no cluster (a laptop copy of the results)",
            ),
            (
                "sbatch: error: invalid partition specified: nosuch\n\
                 allocation failure: Invalid partition name specified\n",
                "invalid partition specified: nosuch; allocation failure: Invalid partition \
                 name specified",
                "a line without the prefix stays",
            ),
            (
                "scontrol: error: x\nscontrol: error: x\n",
                "x",
                "a repeated line once",
            ),
            ("\n", "no message", "nothing said"),
        ] {
            let program = stderr.split(':').next().unwrap();
            assert_eq!(one_line(program, stderr.as_bytes()), want, "{why}");
        }
    }
}
