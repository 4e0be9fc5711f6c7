//! Slurm's client commands (sbatch, scontrol) as the runner calls them: a `Command` that fails
//! early, a bounded wait for its answer, and a failure's words as one line.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use anyhow::{Context, Result};
use wait_timeout::ChildExt;

use crate::exit::usage;

/// How long the runner waits for one Slurm client command when not told otherwise
/// (`--slurm-timeout`): a controller that is down answers at once, one that hangs never would.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(30);

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
/// returns what it printed and its status, or `None` when it did not end within `wait` (it is
/// killed then). A client that cannot be started is a usage error (exit 2) that says where
/// Slurm's commands come from.
///
/// Input and output go through unnamed temporary files rather than pipes, so neither side
/// can block on a full pipe while the runner waits for the client to end.
pub fn output(
    mut command: Command,
    program: &str,
    stdin: Option<&[u8]>,
    wait: Duration,
) -> Result<Option<Output>> {
    let temp = || tempfile::tempfile().context("cannot create a temporary file for Slurm's client");
    let (mut out, mut err) = (temp()?, temp()?);
    let input = match stdin {
        Some(bytes) => {
            let mut file = temp()?;
            file.write_all(bytes)
                .and_then(|()| file.rewind())
                .with_context(|| format!("cannot write {program}'s input"))?;
            Stdio::from(file)
        }
        None => Stdio::null(),
    };
    command
        .stdin(input)
        .stdout(out.try_clone()?)
        .stderr(err.try_clone()?)
        // Its own process group, so that giving up kills what it started too (a site's
        // wrapper script around scontrol, say), not only the client itself.
        .process_group(0);
    let mut child = command.spawn().map_err(|e| {
        usage(format!(
            "cannot run {program} ({e}): Slurm's client commands must be on PATH (on a \
             cluster: `module load slurm` or ask your admins; to try it on this machine: \
             scripts/slurm-local start, then eval \"$(scripts/slurm-local env)\")"
        ))
    })?;
    let waited = child
        .wait_timeout(wait)
        .with_context(|| format!("cannot wait for {program}"))?;
    let Some(status) = waited else {
        // Already ended between the wait and the kill is fine: either way it is reaped.
        // SAFETY: killpg has no memory preconditions; the group is the child's own.
        unsafe { libc::killpg(child.id() as libc::pid_t, libc::SIGKILL) };
        let _ = child.kill();
        child
            .wait()
            .with_context(|| format!("cannot wait for {program}"))?;
        return Ok(None);
    };
    Ok(Some(Output {
        status,
        stdout: read_back(&mut out)?,
        stderr: read_back(&mut err)?,
    }))
}

/// `output`, with no answer within `wait` a usage error (exit 2) that says so: `what` is the
/// command as the user would type it (`scontrol show job 7`).
pub fn ask(
    command: Command,
    program: &str,
    stdin: Option<&[u8]>,
    wait: Duration,
    what: &str,
) -> Result<Output> {
    output(command, program, stdin, wait)?.ok_or_else(|| usage(no_answer(what, wait)))
}

/// The words for a Slurm client stopped after `wait`: what was asked, that the controller did
/// not answer, and how to wait longer.
pub fn no_answer(what: &str, wait: Duration) -> String {
    format!(
        "Slurm did not answer within {} s (`{what}` was stopped): its controller may be down \
         or overloaded; try again later, ask your admins, or wait longer with --slurm-timeout \
         SECONDS",
        wait.as_secs()
    )
}

/// Why no Slurm controller can be asked here, if none can: Slurm's clients missing or without
/// a configuration, or `scontrol ping` failing or not answering within `wait`; each with what
/// to do about it.
pub fn controller_problem(wait: Duration) -> Option<String> {
    let asked = command("scontrol").and_then(|mut ping| {
        ping.arg("ping");
        output(ping, "scontrol", None, wait)
    });
    match asked {
        Err(e) => Some(format!("{e:#}")),
        Ok(None) => Some(no_answer("scontrol ping", wait)),
        Ok(Some(out)) if !out.status.success() => {
            let said = match String::from_utf8_lossy(&out.stdout).lines().next() {
                Some(line) if out.stderr.is_empty() => line.trim().to_string(),
                _ => one_line("scontrol", &out.stderr),
            };
            Some(unreachable(&said))
        }
        Ok(Some(_)) => None,
    }
}

/// What a failed `scontrol ping` that said `said` means, and the fix: Slurm's clients without
/// a cluster configuration (no SLURM_CONF, none in /etc, no DNS record naming a controller),
/// or a controller that does not answer.
fn unreachable(said: &str) -> String {
    if said.contains("configuration") {
        format!(
            "Slurm's clients find no cluster configuration here (`scontrol ping`: {said}): set \
             SLURM_CONF to the cluster's slurm.conf, or run this on a machine of the cluster (to \
             try it on this one: scripts/slurm-local start, then eval \"$(scripts/slurm-local \
             env)\")"
        )
    } else {
        format!(
            "no Slurm controller answers (`scontrol ping`: {said}): check that slurmctld runs \
             (ask your admins) and that SLURM_CONF, if set, names this cluster's slurm.conf"
        )
    }
}

/// The partitions Slurm has (`sinfo -h -o %P`, the default one marked `*`), asked within
/// `wait`; None when sinfo cannot tell.
pub fn partitions(wait: Duration) -> Option<Vec<String>> {
    let mut sinfo = command("sinfo").ok()?;
    sinfo.args(["-h", "-o", "%P"]);
    let out = output(sinfo, "sinfo", None, wait).ok()??;
    if !out.status.success() {
        return None;
    }
    let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect();
    (!names.is_empty()).then_some(names)
}

fn read_back(file: &mut File) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    file.rewind()
        .and_then(|()| file.read_to_end(&mut bytes))
        .context("cannot read what Slurm's client printed")?;
    Ok(bytes)
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

    #[test]
    fn a_client_that_hangs_is_stopped_after_the_wait() {
        let mut sleep = Command::new("sleep");
        sleep.arg("30");
        let started = std::time::Instant::now();
        let out = output(sleep, "sleep", None, Duration::from_millis(200)).unwrap();
        assert!(out.is_none(), "no answer: {out:?}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "it did not wait for sleep 30"
        );
        let mut sleep = Command::new("sleep");
        sleep.arg("30");
        let error = ask(sleep, "sleep", None, Duration::from_secs(1), "sleep 30").unwrap_err();
        assert_eq!(crate::exit::code_of(&error), crate::exit::Exit::Usage);
        assert!(
            format!("{error}").contains("did not answer within 1 s (`sleep 30` was stopped)"),
            "{error}"
        );
    }

    #[test]
    fn giving_up_on_a_wrapper_script_kills_what_it_started() {
        let tmp = tempfile::tempdir().unwrap();
        let pid_file = tmp.path().join("pid");
        let mut wrapper = Command::new("sh");
        wrapper
            .arg("-c")
            .arg(format!("sleep 30 & echo $! > {}; wait", pid_file.display()));
        let out = output(wrapper, "sh", None, Duration::from_millis(500)).unwrap();
        assert!(out.is_none(), "no answer: {out:?}");
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        let alive = || {
            std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
                .is_ok_and(|stat| !stat.contains(") Z "))
        };
        for _ in 0..50 {
            if !alive() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the wrapper's sleep {} outlived it", pid.trim());
    }

    #[test]
    fn input_and_long_output_pass_through_whole() {
        for (bytes, why) in [
            (3usize, "a few bytes"),
            (
                1 << 20,
                "more than a pipe holds: a client never blocks on its output",
            ),
        ] {
            let input = vec![b'x'; bytes];
            let out = output(Command::new("cat"), "cat", Some(&input), DEFAULT_WAIT)
                .unwrap()
                .expect("cat answers");
            assert!(out.status.success(), "{why}");
            assert_eq!(out.stdout.len(), bytes, "{why}");
        }
    }
}
