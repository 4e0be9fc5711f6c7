//! Every `anigan-runner` command line shown in the `--help` texts and README.md runs as written:
//! each one, in the order a reader meets them (the top-level help first, then README, then each
//! subcommand's help), from a folder laid out like the repository, on tiny settings set through
//! `ANIGAN_*` variables (the examples themselves are not edited). Lines that need a GPU run
//! only where there is one, Slurm submissions only where `sbatch` is on PATH.

use std::path::{Path, PathBuf};
use std::process::Command;

const SUBCOMMANDS: &[&[&str]] = &[
    &["run"],
    &["data"],
    &["data", "synth"],
    &["replay"],
    &["report"],
    &["sample"],
    &["slurm"],
    &["status"],
    &["prune-replay"],
];

/// Settings that make every shipped experiment a matter of seconds; none is a key a shipped
/// grid varies (a grid key cannot be overridden).
const TINY: &[(&str, &str)] = &[
    ("ANIGAN_EXPERIMENT__EPOCHS", "1"),
    ("ANIGAN_DATA__SYNTHETIC_COUNT", "300"),
    ("ANIGAN_DATA__HOLDOUT", "40"),
    ("ANIGAN_DATA__IMAGE_SIZE", "16"),
    ("ANIGAN_MODEL__Z_DIM", "16"),
    ("ANIGAN_MODEL__G_WIDTH", "8"),
    ("ANIGAN_EVAL__EVERY", "1"),
    ("ANIGAN_EVAL__SAMPLES", "32"),
    ("ANIGAN_TRAIN__THREADS", "1"),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_anigan-runner"))
}

/// The example lines after "Examples:" in `anigan-runner ARGS --help`.
fn help_examples(args: &[&str]) -> Vec<String> {
    let out = Command::new(binary())
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let block: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("Examples:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .collect();
    commands(&block)
}

/// The `anigan-runner` lines of README.md's shell blocks.
fn readme_examples() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut lines = Vec::new();
    let mut in_shell = false;
    for line in text.lines() {
        if line.starts_with("```") {
            in_shell = line == "```sh";
            continue;
        }
        if in_shell {
            lines.push(line);
        }
    }
    commands(&lines)
}

/// Whole command lines from `lines`: those starting with `anigan-runner`, a trailing `\`
/// joined with the next line, a trailing `# comment` cut off.
fn commands(lines: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut open = false;
    for line in lines {
        let line = line.trim();
        let line = match line.find(" #") {
            Some(at) if !line[..at].contains('"') || line[..at].matches('"').count() % 2 == 0 => {
                line[..at].trim_end()
            }
            _ => line,
        };
        let (text, continues) = match line.strip_suffix('\\') {
            Some(head) => (head.trim_end(), true),
            None => (line, false),
        };
        if open {
            let last = out.last_mut().expect("an open command");
            last.push(' ');
            last.push_str(text);
        } else if text.starts_with("anigan-runner ") {
            out.push(text.to_string());
        } else {
            continue;
        }
        open = continues;
    }
    out
}

/// Why `command` cannot run on this machine, if it cannot.
fn skip_reason(command: &str) -> Option<&'static str> {
    let has_gpu = Path::new("/dev/nvidia0").exists();
    if command.contains("cuda") && !has_gpu {
        return Some("it needs a GPU");
    }
    if command.starts_with("anigan-runner slurm")
        && !command.contains("--dry-run")
        && !slurm_takes(command)
    {
        return Some(
            "it submits to a Slurm cluster with the partition it names, and none answers here \
             (tests/slurm.rs covers submitting)",
        );
    }
    None
}

/// Whether a Slurm controller answers here and has the partition `command` names (Slurm's
/// clients alone, installed by scripts/slurm-local, are not a cluster that takes the job).
fn slurm_takes(command: &str) -> bool {
    let answers = |program: &str, args: &[&str]| {
        std::process::Command::new(program)
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success() && !o.stdout.is_empty())
    };
    let partition = command
        .split_whitespace()
        .find_map(|word| word.strip_prefix("--sbatch-arg=--partition="));
    answers("scontrol", &["ping"])
        && partition.is_none_or(|p| answers("sinfo", &["-h", "-p", p, "-o", "%P"]))
}

/// A folder laid out like the repository for what the examples read: the experiment files and
/// the recorded logs; `bin/anigan-runner` is this build.
fn sandbox() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(root().join("experiments"), dir.path().join("experiments")).unwrap();
    std::fs::create_dir_all(dir.path().join("tests/fixtures")).unwrap();
    std::os::unix::fs::symlink(
        root().join("tests/fixtures/seed-logs"),
        dir.path().join("tests/fixtures/seed-logs"),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("bin")).unwrap();
    std::os::unix::fs::symlink(binary(), dir.path().join("bin/anigan-runner")).unwrap();
    dir
}

#[test]
fn every_documented_command_runs_as_written() {
    let mut examples = help_examples(&[]);
    examples.extend(readme_examples());
    for sub in SUBCOMMANDS {
        examples.extend(help_examples(sub));
    }
    let mut seen = Vec::new();
    examples.retain(|e| {
        let new = !seen.contains(e);
        seen.push(e.clone());
        new
    });
    assert!(
        examples.len() >= 25,
        "the help texts and README hold more examples than {}: {examples:#?}",
        examples.len()
    );
    let dir = sandbox();
    let path = format!(
        "{}:{}",
        dir.path().join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for example in &examples {
        if let Some(why) = skip_reason(example) {
            eprintln!("not run here ({why}): {example}");
            continue;
        }
        let out = Command::new("sh")
            .arg("-c")
            .arg(example)
            .current_dir(dir.path())
            .env("PATH", &path)
            .envs(TINY.iter().copied())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "`{example}` exited with {:?}:\n{}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn command_lines_are_read_whole() {
    let lines = [
        "anigan-runner a --x 1   # why",
        "anigan-runner b \\",
        "    --tags \"blue hair\" --out c.png   # more",
        "scripts/run d",
    ];
    assert_eq!(
        commands(&lines),
        [
            "anigan-runner a --x 1",
            "anigan-runner b --tags \"blue hair\" --out c.png"
        ]
    );
}

#[test]
fn every_command_has_examples_in_its_help() {
    // README promises "every command has `--help` with examples".
    let bare: Vec<&&[&str]> = SUBCOMMANDS
        .iter()
        .filter(|sub| help_examples(sub).is_empty())
        .collect();
    assert!(bare.is_empty(), "no examples in --help of {bare:?}");
    let top = String::from_utf8(
        Command::new(binary())
            .arg("--help")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let listed: Vec<&str> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.strip_prefix("  "))
        .filter(|l| !l.starts_with(' ')) // a wrapped description
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .collect();
    for name in listed {
        assert!(
            SUBCOMMANDS.iter().any(|sub| sub == &[name]),
            "`{name}` is listed by --help but its examples are not checked here"
        );
    }
}
