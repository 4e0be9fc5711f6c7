//! `anigan-runner slurm` against a real Slurm: the one already configured on this machine, or
//! a single-node one that scripts/slurm-local starts (and stops) for these tests.

mod common;
use common::{GRID8, assert_rule_held, metrics_without_timing};

use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::{Duration, Instant};

use assert_cmd::Command;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Generated datasets and caches shared by the tests of this file.
fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("slurm-data")
}

/// A 4-variant smoke grid (2 x 2 learning rates), 4 epochs, 16 px: seconds per variant.
fn write_grid(dir: &Path, epochs: u32) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("experiments/smoke.toml"))
        .unwrap()
        .replace("epochs = 4", &format!("epochs = {epochs}"))
        .replace("image_size = 32", "image_size = 16")
        .replace(
            "\"train.lr_d\" = [2e-4, 1e-4]",
            "\"train.lr_d\" = [2e-4, 1e-4]\n\"train.lr_g\" = [2e-4, 1e-4]",
        );
    let path = dir.join("smoke.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A Slurm to submit to, for as long as it lives.
struct Cluster {
    /// Environment for Slurm's clients (SLURM_CONF of a local cluster).
    env: Vec<(String, String)>,
    /// The local cluster's directory when these tests started it.
    local: Option<tempfile::TempDir>,
}

impl Cluster {
    fn get() -> Cluster {
        let usable = Process::new("sinfo")
            .arg("-h")
            .output()
            .is_ok_and(|o| o.status.success());
        if usable {
            eprintln!("using the Slurm this machine is configured for");
            return Cluster {
                env: Vec::new(),
                local: None,
            };
        }
        // Short path: munge's socket path must fit a sockaddr_un.
        let dir = tempfile::Builder::new()
            .prefix("slurm-")
            .tempdir_in("/tmp")
            .unwrap();
        let port = free_port_pair();
        let status = Process::new(repo().join("scripts/slurm-local"))
            .arg("start")
            .env("SLURM_LOCAL_DIR", dir.path())
            .env("SLURM_LOCAL_PORT", port.to_string())
            .status()
            .unwrap();
        assert!(status.success(), "scripts/slurm-local start failed");
        Cluster {
            env: vec![(
                "SLURM_CONF".into(),
                dir.path().join("slurm.conf").display().to_string(),
            )],
            local: Some(dir),
        }
    }

    fn cmd(&self, program: &str) -> Process {
        let mut p = Process::new(program);
        p.envs(self.env.iter().map(|(k, v)| (k, v)));
        p
    }

    fn runner(&self) -> Command {
        let mut c = Command::cargo_bin("anigan-runner").unwrap();
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        c
    }

    fn slurm(&self, exp: &Path, results: &Path, extra: &[&str]) -> Command {
        let mut c = self.runner();
        c.arg("slurm")
            .arg(exp)
            .arg("--results")
            .arg(results)
            .arg("--data-dir")
            .arg(data_dir())
            .args(["--device", "cpu", "--cpus-per-task", "1"])
            .args(extra);
        c
    }

    /// Waits until every task of `job` has ended. It asks scontrol, which keeps a finished task
    /// listed for MinJobAge, rather than squeue: squeue's list was once seen empty (CI, stop 31)
    /// while a requeued task still waited to start again. A job scontrol no longer knows ended
    /// long ago.
    fn wait_done(&self, job: &str, limit: Duration) -> String {
        const ENDED: &[&str] = &[
            "COMPLETED",
            "FAILED",
            "CANCELLED",
            "TIMEOUT",
            "NODE_FAIL",
            "OUT_OF_MEMORY",
            "BOOT_FAIL",
            "DEADLINE",
            "PREEMPTED",
        ];
        let deadline = Instant::now() + limit;
        loop {
            let out = self
                .cmd("scontrol")
                .args(["-o", "show", "job", job])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            let states: Vec<&str> = text
                .split_whitespace()
                .filter_map(|word| word.strip_prefix("JobState="))
                .collect();
            let ended = if out.status.success() {
                !states.is_empty() && states.iter().all(|s| ENDED.contains(s))
            } else {
                String::from_utf8_lossy(&out.stderr).contains("Invalid job id")
            };
            if ended {
                return text.into_owned();
            }
            assert!(
                Instant::now() < deadline,
                "job {job} has not ended:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

impl Cluster {
    /// The local controller's log lines about `job` (empty for a cluster these tests did not
    /// start): what a failure needs to tell a Slurm race from a runner fault.
    fn controller_log(&self, job: &str) -> String {
        let Some(dir) = &self.local else {
            return String::new();
        };
        let text =
            std::fs::read_to_string(dir.path().join("log/slurmctld.log")).unwrap_or_default();
        let key = format!("JobId={job}");
        text.lines()
            .filter(|l| l.contains(&key))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(dir) = &self.local {
            let _ = Process::new(repo().join("scripts/slurm-local"))
                .arg("stop")
                .env("SLURM_LOCAL_DIR", dir.path())
                .status();
        }
    }
}

/// A port p with p and p + 1 free (slurmctld and slurmd).
fn free_port_pair() -> u16 {
    loop {
        let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let p = a.local_addr().unwrap().port();
        if p < 65535 && std::net::TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
            return p;
        }
    }
}

fn job_id(output: &std::process::Output) -> String {
    let id = String::from_utf8_lossy(&output.stdout).trim().to_string();
    assert!(
        !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()),
        "no job id in {output:?}"
    );
    id
}

fn run_dir(results: &Path, index: usize) -> PathBuf {
    common::run_dirs(&results.join("smoke"))
        .into_iter()
        .find(|d| {
            d.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{index:03}-"))
        })
        .unwrap_or_else(|| panic!("no run dir for variant {index}"))
}

fn status_state(run: &Path) -> String {
    let text = std::fs::read_to_string(run.join("status.json")).unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    v["state"].as_str().unwrap_or("").to_string()
}

#[test]
fn a_bad_experiment_submits_nothing_and_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = tmp.path().join("bad.toml");
    std::fs::write(&exp, "[train]\nlr_d = -1\n").unwrap();
    let results = tmp.path().join("results");
    Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg("slurm")
        .arg(&exp)
        .arg("--results")
        .arg(&results)
        .assert()
        .code(2);
    assert!(!results.exists(), "nothing may be written");
}

/// `status` of a submitted sweep where no Slurm answers (a laptop copy of the results): one
/// warning line, not Slurm's several, and at once, not after a minute of retries.
#[test]
fn status_without_a_reachable_slurm_warns_in_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = submitted_experiment(tmp.path());
    let empty = tmp.path().join("empty.conf");
    std::fs::write(&empty, "").unwrap();
    for conf in [empty, tmp.path().join("no-such.conf")] {
        let started = Instant::now();
        let out = Command::cargo_bin("anigan-runner")
            .unwrap()
            .arg("status")
            .arg(&exp)
            .env("SLURM_CONF", &conf)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{}: {stderr}", conf.display());
        assert!(stderr.starts_with("warning: no Slurm states"), "{stderr}");
        assert!(started.elapsed() < Duration::from_secs(20), "{stderr}");
    }
}

/// `status` of a sweep whose every variant ended after its submission asks Slurm nothing: no
/// warning where no controller answers (it used to warn "scontrol show job 7 failed" of a
/// finished sweep) and no wait for one that hangs. A variant that ended before its newest
/// submission (resubmitted to train on) may be queued again: Slurm is asked about it.
#[test]
fn status_of_an_ended_sweep_asks_slurm_nothing() {
    for (submitted_at, asked, why) in [
        (1u64, false, "finished after its submission"),
        (4_102_444_800, true, "finished before its newest submission"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let exp = submitted_experiment(tmp.path());
        let text = std::fs::read_to_string(exp.join("slurm/submissions.jsonl")).unwrap();
        std::fs::write(
            exp.join("slurm/submissions.jsonl"),
            text.replace(
                "\"submitted_at\":1",
                &format!("\"submitted_at\":{submitted_at}"),
            ),
        )
        .unwrap();
        let run = exp.join("runs/000-aa");
        std::fs::create_dir_all(&run).unwrap();
        std::fs::write(
            run.join("metrics.csv"),
            "step,epoch,attempt,d_acc_real,d_acc_fake,g_acc\n1,1,0,0.5,0.5,0.5\n",
        )
        .unwrap();
        std::fs::write(
            run.join("status.json"),
            r#"{"state":"finished","epochs_done":1,"epochs_planned":1,"steps_done":1,
                "attempt":0,"last_checkpoint":1,"reason":null}"#,
        )
        .unwrap();
        let out = Command::cargo_bin("anigan-runner")
            .unwrap()
            .args(["status", "--slurm-timeout", "1"])
            .arg(&exp)
            .env("PATH", hung_slurm(tmp.path()))
            .env_remove("SLURM_CONF")
            .output()
            .unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(out.status.success(), "{why}: {stderr}");
        let row = stdout.lines().find(|l| l.contains("000-aa")).unwrap_or("");
        assert!(row.contains("finished"), "{why}: {stdout}");
        if asked {
            assert!(
                stderr.contains("Slurm did not answer within 1 s") && row.ends_with("unknown"),
                "{why}: {stderr}{stdout}"
            );
        } else {
            assert_eq!(stderr, "", "{why}");
            assert!(!stdout.contains("unknown"), "{why}: {stdout}");
        }
    }
}

/// `slurm` where Slurm's clients have no cluster to talk to (SLURM_CONF naming an empty
/// file, as on a laptop with the clients installed): exit 2 saying Slurm could not be reached
/// and how to fix that, not that Slurm refused the job array, which it never saw.
#[test]
fn a_slurm_out_of_reach_is_not_said_to_refuse() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = write_grid(tmp.path(), 1);
    let results = tmp.path().join("results");
    let empty = tmp.path().join("empty.conf");
    std::fs::write(&empty, "").unwrap();
    let out = Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg("slurm")
        .arg(&exp)
        .arg("--results")
        .arg(&results)
        .arg("--data-dir")
        .arg(data_dir())
        .env("SLURM_CONF", &empty)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("Slurm could not be reached, so it neither took nor refused")
            && stderr.contains("set SLURM_CONF to the cluster's slurm.conf")
            && !stderr.contains("Slurm refused"),
        "{stderr}"
    );
    assert!(!results.exists(), "nothing may be written");
}

/// A folder of Slurm clients that never answer (a controller that hangs, which a real Slurm
/// cannot be made to do on cue): `scontrol` and `sbatch` sleep.
fn hung_slurm(dir: &Path) -> std::ffi::OsString {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("hung-bin");
    std::fs::create_dir_all(&bin).unwrap();
    for program in ["scontrol", "sbatch"] {
        let path = bin.join(program);
        std::fs::write(&path, "#!/bin/sh\nexec sleep 60\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut path = bin.into_os_string();
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap_or_default());
    path
}

/// A submitted smoke experiment's results folder with one variant and no runs.
fn submitted_experiment(dir: &Path) -> PathBuf {
    let exp = dir.join("smoke");
    std::fs::create_dir_all(exp.join("slurm")).unwrap();
    std::fs::write(
        exp.join("experiment.json"),
        r#"{"name":"smoke","description":"","source":"smoke.toml","grid_keys":[],
            "variants":[{"index":0,"id":"000-aa","grid":[],"epochs":1}]}"#,
    )
    .unwrap();
    std::fs::write(
        exp.join("slurm/submissions.jsonl"),
        "{\"job_id\":\"7\",\"variant_list\":\"variants-x.txt\",\"variants\":[\"000-aa\"],\"submitted_at\":1}\n",
    )
    .unwrap();
    exp
}

/// Slurm's clients that never answer: `status` gives up on them after `--slurm-timeout`,
/// prints the results folder's view with the submitted variant's Slurm state `unknown`, and
/// says why in one warning (it used to wait forever); `slurm` exits 2 saying Slurm did not
/// answer, having written nothing; a dry run prints its script and says Slurm did not check it.
#[test]
fn a_slurm_that_does_not_answer_is_given_up_on() {
    let tmp = tempfile::tempdir().unwrap();
    let path = hung_slurm(tmp.path());
    let started = Instant::now();
    let out = Command::cargo_bin("anigan-runner")
        .unwrap()
        .args(["status", "--slurm-timeout", "1"])
        .arg(submitted_experiment(tmp.path()))
        .env("PATH", &path)
        .env_remove("SLURM_CONF")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(20), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("warning: no Slurm states")
            && stderr.contains("Slurm did not answer within 1 s (`scontrol -o show job 7`"),
        "{stderr}"
    );
    let row = stdout.lines().find(|l| l.contains("000-aa")).unwrap_or("");
    assert!(
        row.contains("not started") && row.ends_with("  unknown"),
        "{stdout}"
    );

    let exp = write_grid(tmp.path(), 1);
    let results = tmp.path().join("results");
    let slurm = |extra: &[&str]| {
        let started = Instant::now();
        let out = Command::cargo_bin("anigan-runner")
            .unwrap()
            .arg("slurm")
            .arg(&exp)
            .arg("--results")
            .arg(&results)
            .arg("--data-dir")
            .arg(data_dir())
            .args(["--slurm-timeout", "1"])
            .args(extra)
            .env("PATH", &path)
            .env_remove("SLURM_CONF")
            .output()
            .unwrap();
        assert!(started.elapsed() < Duration::from_secs(30), "{out:?}");
        out
    };
    let out = slurm(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("Slurm did not answer within 1 s (`sbatch --parsable --test-only`"),
        "{stderr}"
    );
    assert!(!results.exists(), "nothing may be written");
    let dry = slurm(&["--dry-run"]);
    let stderr = String::from_utf8_lossy(&dry.stderr);
    assert!(dry.status.success(), "{stderr}");
    assert!(String::from_utf8_lossy(&dry.stdout).starts_with("#!/bin/bash"));
    assert!(
        stderr.contains(
            "Slurm did not check the script (no sbatch --test-only): Slurm did not answer \
             within 1 s (`scontrol ping`"
        ),
        "{stderr}"
    );
    submitted_experiment(&results);
    let out = slurm(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("(`scontrol -o show job 7` was stopped)"),
        "{stderr}"
    );
}

/// Without Slurm's commands on PATH `slurm` exits 2 (the environment, not a variant, is at
/// fault) and says where they come from: sbatch for a first submission, before anything is
/// written; scontrol once there are submissions to ask about.
#[test]
fn missing_slurm_commands_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = write_grid(tmp.path(), 1);
    let results = tmp.path().join("results");
    let no_slurm = tmp.path().join("bin");
    std::fs::create_dir(&no_slurm).unwrap();
    let slurm = |extra: &[&str]| {
        let mut c = Command::cargo_bin("anigan-runner").unwrap();
        c.arg("slurm")
            .arg(&exp)
            .arg("--results")
            .arg(&results)
            .arg("--data-dir")
            .arg(data_dir())
            .args(extra)
            .env("PATH", &no_slurm)
            .env_remove("SLURM_CONF");
        c.output().unwrap()
    };
    let out = slurm(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot run sbatch"), "{stderr}");
    assert!(!results.exists(), "nothing may be written");
    // A dry run still prints the script, and says Slurm did not check it and why.
    let dry = slurm(&["--dry-run"]);
    let stderr = String::from_utf8_lossy(&dry.stderr);
    assert!(dry.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "Slurm did not check the script (no sbatch --test-only): cannot run scontrol"
        ),
        "{stderr}"
    );
    let slurm_dir = results.join("smoke/slurm");
    std::fs::create_dir_all(&slurm_dir).unwrap();
    std::fs::write(
        slurm_dir.join("submissions.jsonl"),
        "{\"job_id\":\"7\",\"variant_list\":\"variants-x.txt\",\"variants\":[\"000-aa\"],\"submitted_at\":1}\n",
    )
    .unwrap();
    let out = slurm(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot run scontrol"), "{stderr}");
}

/// Array tasks that failed before their runs began (an edited experiment file) leave their
/// variants not started, not failed: `slurm --only failed` chooses none of them, and says so,
/// with the states there are and what would submit them, without asking Slurm (it used to say
/// only "0 of 4 selected", and ask Slurm all the same).
#[test]
fn an_only_that_chooses_nothing_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = write_grid(tmp.path(), 1);
    let ids = common::variant_ids(&common::dry_run(&exp, [] as [&str; 0]));
    assert_eq!(ids.len(), 4, "{ids:?}");
    let results = tmp.path().join("results");
    let slurm_dir = results.join("smoke/slurm");
    std::fs::create_dir_all(&slurm_dir).unwrap();
    let record = serde_json::json!({
        "job_id": "7", "variant_list": "variants-x.txt", "variants": ids, "submitted_at": 1,
    });
    std::fs::write(slurm_dir.join("submissions.jsonl"), format!("{record}\n")).unwrap();
    for task in [0, 1] {
        std::fs::write(
            slurm_dir.join(format!("7_{task}.out")),
            "task 7_0 (restart 0) on vm\nerror: 1 problem with the command line:\n  - \
             --variant x is no variant of smoke.toml as it stands\n",
        )
        .unwrap();
    }
    let no_slurm = tmp.path().join("bin");
    std::fs::create_dir(&no_slurm).unwrap();
    let out = Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg("slurm")
        .arg(&exp)
        .arg("--results")
        .arg(&results)
        .args(["--only", "failed"])
        .env("PATH", &no_slurm)
        .env_remove("SLURM_CONF")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for says in [
        "--only failed: 0 of 4 selected variant(s); nothing to do",
        "no selected variant is failed: 4 not started (--only not-started)",
        "the Slurm tasks of 2 not started variant(s) failed before their runs began",
        "nothing to submit",
    ] {
        assert!(stderr.contains(says), "{says}: {stderr}");
    }
}

/// `slurm --dry-run` of the smoke grid under `dir` with `extra` flags, with no Slurm on PATH
/// (the script is printed, Slurm's check skipped): (stdout, stderr).
fn dry_run_without_slurm(dir: &Path, extra: &[&str]) -> (String, String) {
    dry_run_of(&write_grid(dir, 1), dir, extra)
}

/// `slurm --dry-run` of `exp`, results under `dir`, with `extra` flags and no Slurm on PATH:
/// (stdout, stderr).
fn dry_run_of(exp: &Path, dir: &Path, extra: &[&str]) -> (String, String) {
    let no_slurm = dir.join("bin");
    std::fs::create_dir_all(&no_slurm).unwrap();
    let out = Command::cargo_bin("anigan-runner")
        .unwrap()
        .arg("slurm")
        .arg(exp)
        .arg("--results")
        .arg(dir.join("results"))
        .arg("--data-dir")
        .arg(data_dir())
        .arg("--dry-run")
        .args(extra)
        .env("PATH", &no_slurm)
        .env_remove("SLURM_CONF")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "{stderr}");
    (stdout, stderr)
}

/// `slurm --dry-run` lists the variants and what they cost, `[prune]`'s bounds included, as
/// `run --dry-run` does (it showed only the script), on stderr: stdout is the script.
#[test]
fn a_dry_run_lists_the_variants_and_their_cost() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = tmp.path().join("grid8.toml");
    std::fs::write(&exp, GRID8).unwrap();
    let (script, stderr) = dry_run_of(&exp, tmp.path(), &["--variant", "0", "--variant", "5"]);
    assert!(script.starts_with("#!/bin/bash"), "{script}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.trim_start().starts_with("0  000-") || l.trim_start().starts_with("5  005-"))
        .collect();
    assert_eq!(lines.len(), 2, "one line per variant: {stderr}");
    for says in [
        "experiment grid8 (",
        "prune: best swd so far, rungs at epochs 2, 4 of 8",
        "2 of 8 variants selected; nothing written (dry run)",
        "cost: 2 variant(s) x 8 epochs ask for",
        "no time: it trains elsewhere (Slurm's nodes)",
        "  [prune]: at most ",
    ] {
        assert!(stderr.contains(says), "{says}: {stderr}");
    }
}

/// A task trains with `--threads` its cores: `--cpus-per-task` left out follows the file's
/// train.threads (it was 2 whatever the file said, silently); given and unlike the file's,
/// the dry run says in one line which wins.
#[test]
fn tasks_ask_for_the_threads_the_file_sets() {
    for (extra, cpus, says, why) in [
        (
            &["--set", "train.threads=1"][..],
            1,
            None,
            "the file's threads",
        ),
        (&[], 2, None, "no threads set: the default"),
        (
            &["--set", "train.threads=1", "--cpus-per-task", "3"],
            3,
            Some("trains with --threads 3: train.threads = 1 is not used"),
            "the flag wins, and says so",
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let (script, stderr) = dry_run_without_slurm(tmp.path(), extra);
        assert!(
            script.contains(&format!("#SBATCH --cpus-per-task={cpus}\n")),
            "{why}: {script}"
        );
        match says {
            Some(says) => assert!(stderr.contains(says), "{why}: {stderr}"),
            None => assert!(!stderr.contains("is not used"), "{why}: {stderr}"),
        }
    }
}

/// What a user checks or names through Slurm, on a cluster of its own (nothing here trains):
/// a dry run asks Slurm whether it would take the script (`sbatch --test-only`), so a partition
/// Slurm does not have exits 2 as the submission would, where it used to pass, naming the
/// partitions there are; and
/// `--sbatch-arg=--job-name=NAME` names the job array, as squeue lists it (it used to be
/// refused: users name their jobs to find them), and the script carries that one name.
#[test]
fn dry_runs_ask_slurm_and_the_job_takes_the_user_s_name() {
    let cluster = Cluster::get();
    let tmp = tempfile::tempdir().unwrap();
    let exp = write_grid(tmp.path(), 1);
    let results = tmp.path().join("results");
    let dry = |extra: &[&str]| {
        let mut args = vec!["--dry-run"];
        args.extend_from_slice(extra);
        cluster.slurm(&exp, &results, &args).output().unwrap()
    };
    let refused = dry(&["--sbatch-arg=--partition=nosuch"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("Slurm refused the job array (sbatch --test-only on the script above")
            && stderr.contains("nosuch"),
        "{stderr}"
    );
    // The partitions there are, as sinfo names them.
    let sinfo = cluster
        .cmd("sinfo")
        .args(["-h", "-o", "%P"])
        .output()
        .unwrap();
    let partitions: Vec<String> = String::from_utf8_lossy(&sinfo.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect();
    assert!(
        stderr.contains(&format!(
            "(Slurm's partitions here: {})",
            partitions.join(", ")
        )),
        "{stderr}"
    );
    let taken = dry(&[]);
    let stderr = String::from_utf8_lossy(&taken.stderr);
    assert!(taken.status.success(), "{stderr}");
    assert!(stderr.contains("Slurm would take the script"), "{stderr}");
    assert!(!results.exists(), "a dry run writes nothing");

    let (_, results, job) = submit_first_variant(
        &cluster,
        &tmp.path().join("named"),
        "results",
        &["--sbatch-arg=--job-name=my sweep", "--sbatch-arg=--hold"],
    );
    let show = cluster
        .cmd("squeue")
        .args(["-h", "-r", "-o", "%i %j", "--name", "my sweep"])
        .output()
        .unwrap();
    cluster.cmd("scancel").arg(&job).status().unwrap();
    let listed = String::from_utf8_lossy(&show.stdout);
    assert_eq!(listed.trim(), format!("{job}_0 my sweep"), "{show:?}");
    let script =
        std::fs::read_to_string(results.join(format!("smoke/slurm/{job}.sbatch"))).unwrap();
    let names: Vec<&str> = script
        .lines()
        .filter(|l| l.contains("--job-name"))
        .collect();
    assert_eq!(names, [r#"#SBATCH "--job-name=my sweep""#], "{script}");
}

/// A resubmission skips a queued variant by its id, which leaves out what does not change
/// what is trained (experiment.epochs, eval.*, the threads...): it says which queued variants
/// will train with the settings they were submitted with, how, and what to do (it used to
/// say only "1 already queued", and the queued task trained its old budget).
#[test]
fn a_resubmission_says_which_queued_variants_keep_their_settings() {
    let cluster = Cluster::get();
    let tmp = tempfile::tempdir().unwrap();
    let (exp, results, job) = submit_first_variant(
        &cluster,
        tmp.path(),
        "results",
        &["--sbatch-arg=--hold", "--set", "experiment.epochs=1"],
    );
    // As `Cluster::slurm`, whose --cpus-per-task 1 a row changes.
    let again = |extra: &[&str]| {
        let out = cluster
            .runner()
            .arg("slurm")
            .arg(&exp)
            .arg("--results")
            .arg(&results)
            .arg("--data-dir")
            .arg(data_dir())
            .args(["--device", "cpu"])
            .args(extra)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        assert!(
            extra.contains(&"--dry-run") || out.stdout.is_empty(),
            "nothing submitted: {stderr}"
        );
        stderr
    };
    let rows: &[(&[&str], &[&str], &str, &str)] = &[
        (
            &[
                "--variant",
                "0",
                "--cpus-per-task",
                "1",
                "--set",
                "experiment.epochs=1",
            ],
            &["0 done, 1 already queued, 0 to submit"],
            "warning",
            "the same settings",
        ),
        (
            &[
                "--variant",
                "0",
                "--cpus-per-task",
                "1",
                "--set",
                "experiment.epochs=2",
            ],
            &[
                "warning: 1 queued variant(s) will train with the settings they were submitted \
                 with, not this command's:",
                &format!("(job {job}): experiment.epochs = 1 (this command: 2)"),
                &format!("scancel {job}_0, then run it again"),
                "run it again once they finish: they train on",
                "nothing to submit",
            ],
            "",
            "a raised budget, the task still queued",
        ),
        (
            &[
                "--set",
                "experiment.epochs=1",
                "--set",
                "eval.every=1",
                "--cpus-per-task",
                "2",
                "--dry-run",
            ],
            &[
                "1 already queued, 3 to submit",
                "train.threads = 1 (this command: 2); eval.every = 10 (this command: 1)",
            ],
            "once they finish",
            "settings a rerun after the task would not change",
        ),
    ];
    for &(extra, says, not, why) in rows {
        let stderr = again(extra);
        for s in says {
            assert!(stderr.contains(s), "{why}: {s}\n{stderr}");
        }
        assert!(not.is_empty() || !stderr.contains(not), "{why}: {stderr}");
    }
    cluster.cmd("scancel").arg(&job).status().unwrap();
}

/// One cluster for the whole story, so this file starts Slurm once and trains one task at a
/// time on CI's two cores.
#[test]
fn sweeps_finish_once_resume_only_the_rest_and_survive_requeue() {
    let cluster = Cluster::get();
    let tmp = tempfile::tempdir().unwrap();
    let exp = write_grid(tmp.path(), 4);
    let results = tmp.path().join("results");

    // Half a sweep first, then the same command for all: only the rest is submitted.
    let started = Instant::now();
    let first = cluster
        .slurm(&exp, &results, &["--variant", "0", "--variant", "1"])
        .output()
        .unwrap();
    assert!(first.status.success(), "{first:?}");
    let job = job_id(&first);
    cluster.wait_done(&job, Duration::from_secs(300));
    refused_submission_keeps_the_accepted_script(&cluster, &exp, &results, &job);
    let second = cluster
        .slurm(&exp, &results, &["--max-parallel", "1"])
        .output()
        .unwrap();
    assert!(second.status.success(), "{second:?}");
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("2 done, 0 already queued, 2 to submit"),
        "{second:?}"
    );
    let job2 = job_id(&second);
    cluster.wait_done(&job2, Duration::from_secs(300));
    eprintln!(
        "4 variants through Slurm in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    for i in 0..4 {
        let run = run_dir(&results, i);
        assert_eq!(status_state(&run), "finished", "variant {i}");
        let rows = metrics_without_timing(&run);
        assert_eq!(
            rows.len(),
            4,
            "variant {i}: one row per epoch, trained once"
        );
    }
    let logs = std::fs::read_dir(results.join("smoke/slurm"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "out")
        })
        .count();
    assert_eq!(logs, 4, "one log per array task");

    // A finished sweep submits nothing.
    let again = cluster.slurm(&exp, &results, &[]).output().unwrap();
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("nothing to submit"));
    assert!(again.stdout.is_empty());

    let status = cluster
        .runner()
        .args(["status", "--json"])
        .arg(results.join("smoke"))
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    let lines: Vec<serde_json::Value> = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(lines.len(), 4);
    assert!(lines.iter().all(|l| l["state"] == "finished"), "{lines:?}");

    odd_results_path(&cluster, tmp.path());
    submissions_take_turns(&cluster, tmp.path());
    an_edited_grid_fails_queued_tasks_with_its_reason(&cluster, tmp.path());
    requeue_resumes_exactly(&cluster, tmp.path());
    pruned_sweep_on_slurm(&cluster, tmp.path());
}

/// `[prune]` through Slurm: the array tasks rank themselves against each other's decision
/// files (no coordinator); every variant ends stopped by the rule or finished once. Then
/// `slurm --only pruned` submits exactly the pruned variants, its tasks told to rerun them.
fn pruned_sweep_on_slurm(cluster: &Cluster, tmp: &Path) {
    let exp = tmp.join("grid8.toml");
    std::fs::write(&exp, GRID8).unwrap();
    let results = tmp.join("pruned");
    let started = Instant::now();
    let out = cluster
        .slurm(&exp, &results, &["--max-parallel", "2"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    cluster.wait_done(&job_id(&out), Duration::from_secs(600));
    let (pruned, finished) = assert_rule_held(&results.join("grid8"), 8, false);
    eprintln!(
        "[prune] on Slurm: {pruned} pruned, {finished} finished in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        pruned > 0 && finished > 0,
        "{pruned} pruned, {finished} finished"
    );
    let dry = cluster
        .slurm(&exp, &results, &["--only", "pruned", "--dry-run"])
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&dry.stdout),
        String::from_utf8_lossy(&dry.stderr),
    );
    assert!(dry.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("--only pruned: {pruned} of 8 selected variant(s)"))
            && stderr.contains(&format!("would submit {pruned} array task(s)")),
        "{stderr}"
    );
    assert!(stdout.contains("--only pruned,interrupted"), "{stdout}");
}

/// A job array Slurm refuses (a partition it does not have) exits 2, as a bad command line
/// does, not 1 ("a variant failed"), and leaves the script of the job Slurm accepted before
/// as it was; the refused script is written nowhere.
fn refused_submission_keeps_the_accepted_script(
    cluster: &Cluster,
    exp: &Path,
    results: &Path,
    accepted: &str,
) {
    let slurm_dir = results.join("smoke/slurm");
    let scripts = || {
        let mut names: Vec<String> = std::fs::read_dir(&slurm_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sbatch"))
            .collect();
        names.sort();
        names
    };
    let kept = std::fs::read_to_string(slurm_dir.join(format!("{accepted}.sbatch"))).unwrap();
    assert_eq!(scripts(), [format!("{accepted}.sbatch")]);
    let out = cluster
        .slurm(exp, results, &["--sbatch-arg=--partition=nosuch"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("nosuch"), "Slurm's own words: {stderr}");
    assert!(out.stdout.is_empty(), "no job id: {out:?}");
    assert_eq!(scripts(), [format!("{accepted}.sbatch")]);
    assert_eq!(
        std::fs::read_to_string(slurm_dir.join(format!("{accepted}.sbatch"))).unwrap(),
        kept
    );
}

/// Two `slurm` commands of one experiment started together: the queue check and the
/// submission are one step under the experiment's submission lock, so one submits every
/// variant and the other finds them queued (both used to see nothing queued and submit all).
/// The test holds the lock while both start, so both reach it; held, neither submits.
fn submissions_take_turns(cluster: &Cluster, tmp: &Path) {
    use std::process::Stdio;
    let dir = tmp.join("turns");
    std::fs::create_dir_all(&dir).unwrap();
    let exp = write_grid(&dir, 1);
    let results = dir.join("results");
    let slurm_dir = results.join("smoke/slurm");
    std::fs::create_dir_all(&slurm_dir).unwrap();
    let lock = std::fs::File::create(slurm_dir.join(".submit.lock")).unwrap();
    lock.lock().unwrap();
    let start = || {
        let mut c = cluster.cmd(env!("CARGO_BIN_EXE_anigan-runner"));
        c.arg("slurm")
            .arg(&exp)
            .arg("--results")
            .arg(&results)
            .arg("--data-dir")
            .arg(data_dir())
            .args(["--device", "cpu", "--cpus-per-task", "1"])
            // Nothing of it needs to run: the test is about what is submitted.
            .arg("--sbatch-arg=--hold")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c.spawn().unwrap()
    };
    let (a, b) = (start(), start());
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        std::fs::read_to_string(slurm_dir.join("submissions.jsonl")).is_err(),
        "a submission while another command held the lock"
    );
    drop(lock);
    let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    let jobs: Vec<String> = outs
        .iter()
        .filter(|o| !o.stdout.is_empty())
        .map(job_id)
        .collect();
    for job in &jobs {
        cluster.cmd("scancel").arg(job).status().unwrap();
    }
    assert!(outs.iter().all(|o| o.status.success()), "{outs:?}");
    assert_eq!(jobs.len(), 1, "one submission of the 4 variants: {outs:?}");
    let waited = outs
        .iter()
        .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
        .find(|e| e.contains("nothing to submit"))
        .unwrap_or_default();
    assert!(
        waited.contains("0 done, 4 already queued, 0 to submit"),
        "{outs:?}"
    );
}

/// `anigan-runner status` of the smoke experiment under `results`: its table.
fn status_table(cluster: &Cluster, results: &Path) -> String {
    let out = cluster
        .runner()
        .arg("status")
        .arg(results.join("smoke"))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Submits variant 0 of a one-epoch grid written into `dir`, results in `dir/<results>`, with
/// `extra` flags; asserts it was taken. (the experiment file, the results folder, the job id)
fn submit_first_variant(
    cluster: &Cluster,
    dir: &Path,
    results: &str,
    extra: &[&str],
) -> (PathBuf, PathBuf, String) {
    std::fs::create_dir_all(dir).unwrap();
    let exp = write_grid(dir, 1);
    let results = dir.join(results);
    let mut args = vec!["--variant", "0"];
    args.extend_from_slice(extra);
    let out = cluster.slurm(&exp, &results, &args).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let job = job_id(&out);
    (exp, results, job)
}

/// The grid edited after submitting (a value put before the first key's, so every id's index
/// moves): the queued task trains nothing, and its log and `status` say that the experiment
/// file changed since submission and to rerun `anigan-runner slurm`. It used to fail with
/// '--variant ... matches no variant' while the README promised that an edit changed nothing.
fn an_edited_grid_fails_queued_tasks_with_its_reason(cluster: &Cluster, tmp: &Path) {
    let (exp, results, job) = submit_first_variant(
        cluster,
        &tmp.join("edit"),
        "results",
        &["--sbatch-arg=--hold"],
    );
    let text = std::fs::read_to_string(&exp).unwrap();
    std::fs::write(
        &exp,
        text.replace("\"train.lr_d\" = [2e-4", "\"train.lr_d\" = [3e-4, 2e-4"),
    )
    .unwrap();
    assert!(
        cluster
            .cmd("scontrol")
            .args(["release", &job])
            .status()
            .unwrap()
            .success()
    );
    cluster.wait_done(&job, Duration::from_secs(120));
    let log = std::fs::read_to_string(results.join(format!("smoke/slurm/{job}_0.out"))).unwrap();
    for says in [
        format!("changed since Slurm job {job}_0 was submitted"),
        "this task trains nothing; rerun `anigan-runner slurm".to_string(),
    ] {
        assert!(log.contains(&says), "{log}");
    }
    assert!(
        !results.join("smoke/runs").exists(),
        "nothing trained:\n{log}"
    );
    let table = status_table(cluster, &results);
    assert!(
        table.contains(&format!("Slurm task {job}_0 failed: "))
            && table.contains("changed since Slurm job"),
        "{table}"
    );
}

/// A results folder whose path has a space and a `%`: the log directive is quoted and the `%`
/// escaped, so sbatch takes the script and the task's log lands in that very folder (unquoted,
/// sbatch refused the directive; an unescaped `%j` sent the log elsewhere and failed the task).
fn odd_results_path(cluster: &Cluster, tmp: &Path) {
    let (_, results, job) = submit_first_variant(cluster, &tmp.join("odd"), "res space%j", &[]);
    cluster.wait_done(&job, Duration::from_secs(300));
    let log = results.join(format!("smoke/slurm/{job}_0.out"));
    assert!(log.is_file(), "no task log at {}", log.display());
    assert_eq!(status_state(&run_dir(&results, 0)), "finished");
}

/// This test is about requeue, not health: a rollback would only make it longer.
const NO_ROLLBACK: &[&str] = &["--set", "rollback.enabled=false"];

/// USR1 (Slurm's warning before a time limit) mid-run: the task checkpoints, requeues itself,
/// resumes, and its metrics equal an uninterrupted local run's.
fn requeue_resumes_exactly(cluster: &Cluster, tmp: &Path) {
    let exp = write_grid(tmp, 16);
    let local = tmp.join("local");
    let started = Instant::now();
    cluster
        .runner()
        .arg(&exp)
        .arg("--results")
        .arg(&local)
        .arg("--data-dir")
        .arg(data_dir())
        .args(["--device", "cpu", "--threads", "1", "--variant", "3"])
        .args(NO_ROLLBACK)
        .assert()
        .success();
    let local_s = started.elapsed().as_secs_f64();

    let results = tmp.join("requeued");
    let out = cluster
        .slurm(
            &exp,
            &results,
            &[&["--variant", "3"][..], NO_ROLLBACK].concat(),
        )
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let job = job_id(&out);
    let task = format!("{job}_0");
    let metrics = || {
        std::fs::read_dir(results.join("smoke/runs"))
            .ok()
            .and_then(|mut d| d.next())
            .map(|e| e.unwrap().path().join("metrics.csv"))
            .and_then(|p| std::fs::read_to_string(p).ok())
            .map_or(0, |t| t.lines().count().saturating_sub(1))
    };
    let deadline = Instant::now() + Duration::from_secs(180);
    while metrics() < 3 {
        assert!(
            Instant::now() < deadline,
            "the task trained no 3 epochs in time"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let signalled = Instant::now();
    let sent = cluster
        .cmd("scancel")
        .args(["--signal=USR1", "--batch", &task])
        .status()
        .unwrap();
    assert!(sent.success());
    // The runner stops after its epoch and requeues itself; Slurm holds a requeued job for a
    // while (BeginTime), which the test skips.
    let deadline = Instant::now() + Duration::from_secs(120);
    let requeued = loop {
        let show = cluster
            .cmd("scontrol")
            .args(["-o", "show", "job", &task])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&show.stdout).to_string();
        if text.contains("Restarts=1") && text.contains("JobState=PENDING") {
            break text;
        }
        assert!(Instant::now() < deadline, "not requeued: {text}");
        std::thread::sleep(Duration::from_millis(200));
    };
    let stopped_s = signalled.elapsed().as_secs_f64();
    let text = status_table(cluster, &results);
    eprintln!("status while requeued:\n{text}");
    assert!(
        text.contains("interrupted") && text.contains("PENDING (requeued 1x)"),
        "{text}"
    );
    let json = cluster
        .runner()
        .args(["status", "--json"])
        .arg(results.join("smoke"))
        .output()
        .unwrap();
    let lines: Vec<serde_json::Value> = serde_json::from_slice(&json.stdout).unwrap();
    let submitted = lines.iter().find(|l| l["index"] == 3).unwrap();
    assert_eq!(
        (
            &submitted["slurm_task"],
            &submitted["slurm_state"],
            &submitted["slurm_requeues"]
        ),
        (
            &serde_json::json!(task),
            &serde_json::json!("PENDING"),
            &serde_json::json!(1)
        ),
        "{lines:?}"
    );
    let run = std::fs::read_dir(results.join("smoke/runs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert_eq!(status_state(&run), "interrupted");
    let rows_at_stop = metrics();
    assert!(
        rows_at_stop < 16,
        "stopped before the end ({rows_at_stop} rows)"
    );
    // The requeued task starts at the begin time Slurm gave it (the job credential's lifetime,
    // 120 s by default). Pulling it forward with `scontrol update StartTime=now` started it
    // while the old credential was still revoked, and slurmctld killed it ("Killing
    // non-startable batch job: Job credential revoked", exit 1): the race CI hit three times.
    // The run's own files say when the requeued task has trained to the end; Slurm's view of
    // the job was twice seen ended (CI) before the task had run again.
    let deadline = Instant::now() + Duration::from_secs(300);
    while status_state(&run) != "finished" && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    let ended = cluster.wait_done(&job, Duration::from_secs(300));
    eprintln!(
        "requeue: local run {local_s:.1} s; USR1 to requeued {stopped_s:.1} s; \
         stopped after {rows_at_stop} of 16 epochs; whole Slurm run {:.1} s",
        started.elapsed().as_secs_f64() - local_s
    );
    let log = std::fs::read_to_string(results.join(format!("smoke/slurm/{job}_0.out"))).unwrap();
    assert_eq!(
        status_state(&run),
        "finished",
        "the requeued task never finished the run.\ntask log:\n{log}\nscontrol when requeued:\n\
         {requeued}\nscontrol at the end:\n{ended}\nslurmctld on the job:\n{}",
        cluster.controller_log(&job)
    );
    assert!(log.contains("(restart 1)"), "{log}");
    assert!(
        log.contains("this task requeues itself") && !log.contains("Ctrl-C"),
        "a Slurm task's advice, not a terminal's: {log}"
    );
    assert_eq!(
        metrics_without_timing(&run),
        metrics_without_timing(&run_dir(&local, 3))
    );
}
