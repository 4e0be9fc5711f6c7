//! The batch script of a sweep's job array: one array task per variant, each an ordinary
//! `anigan-runner run EXP --variant ID` that Slurm warns before its time limit and requeues.

use std::path::{Path, PathBuf};

/// Everything the script needs; paths are absolute (tasks start in Slurm's working
/// directory, on another node).
#[derive(Debug, Clone)]
pub struct Script {
    /// `anigan-<experiment>`, or the name an `--sbatch-arg=--job-name=NAME` gave.
    pub job_name: String,
    /// Number of array tasks (variants in the list).
    pub tasks: usize,
    /// At most this many tasks run at once (`%K`); `None` leaves it to Slurm.
    pub max_parallel: Option<usize>,
    pub cpus_per_task: u32,
    pub gpus_per_task: Option<u32>,
    /// Slurm's `--time` (e.g. `04:00:00`), validated by sbatch.
    pub time: Option<String>,
    /// Seconds before the time limit at which Slurm sends USR1 to the batch shell.
    pub signal_lead_s: u32,
    /// Extra sbatch options, one argument each (`--partition=gpu`, `--account=x`), quoted onto
    /// `#SBATCH` lines of their own; `sbatch_arg_problem` refuses the script's own.
    pub extra_args: Vec<String>,
    /// Where the `%A_%a.out` logs go: results/<experiment>/slurm.
    pub log_dir: PathBuf,
    /// The variant list the tasks index, one id per line.
    pub variant_list: PathBuf,
    /// The directory relative paths of the experiment (data.path) were meant from.
    pub workdir: PathBuf,
    /// The runner binary and the arguments every task passes to `run`, before `--variant`.
    pub runner: PathBuf,
    pub run_args: Vec<String>,
}

impl Script {
    /// The script's text. The runner is `exec`ed so it is the batch shell that receives
    /// `--signal=B:USR1` (the `B:` sends it to the batch shell only, not to job steps).
    pub fn render(&self) -> String {
        let mut s = String::from("#!/bin/bash\n");
        s += &format!(
            "# Written by `anigan-runner slurm`: one array task per line of {}.\n",
            self.variant_list.display()
        );
        let array = match self.max_parallel {
            Some(k) => format!("0-{}%{k}", self.tasks - 1),
            None => format!("0-{}", self.tasks - 1),
        };
        let mut directives = vec![
            directive_arg(&format!("--job-name={}", self.job_name)),
            format!("--array={array}"),
            format!(
                "--output={}",
                directive_arg(&format!("{}/%A_%a.out", literal_pattern(&self.log_dir)))
            ),
            "--open-mode=append".to_string(),
            "--requeue".to_string(),
            format!("--signal=B:USR1@{}", self.signal_lead_s),
            "--ntasks=1".to_string(),
            format!("--cpus-per-task={}", self.cpus_per_task),
        ];
        if let Some(g) = self.gpus_per_task {
            directives.push(format!("--gpus-per-task={g}"));
        }
        if let Some(t) = &self.time {
            directives.push(format!("--time={t}"));
        }
        directives.extend(self.extra_args.iter().map(|a| directive_arg(a)));
        for d in directives {
            s += &format!("#SBATCH {d}\n");
        }
        s += "set -euo pipefail\n";
        s += &format!("cd {}\n", quote(&self.workdir.to_string_lossy()));
        s += &format!(
            "id=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" {})\n",
            quote(&self.variant_list.to_string_lossy())
        );
        s += "echo \"$(date -Is) task ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID} \
              (restart ${SLURM_RESTART_COUNT:-0}) on $(hostname): variant $id\"\n";
        let mut command = vec![quote(&self.runner.to_string_lossy()), "run".to_string()];
        command.extend(self.run_args.iter().map(|a| quote(a)));
        command.push("--variant".into());
        command.push("\"$id\"".into());
        command.push("--threads".into());
        command.push("\"${SLURM_CPUS_PER_TASK:-1}\"".into());
        s += &format!("exec {}\n", command.join(" "));
        s
    }
}

/// sbatch options the script writes itself, or that would keep `slurm` from submitting, by
/// long name and short letter, with what to do instead.
const RESERVED: &[(&str, Option<char>, &str)] = &[
    (
        "array",
        Some('a'),
        "the runner makes one array task per variant; --max-parallel K runs at most K at once",
    ),
    (
        "output",
        Some('o'),
        "task logs go to results/<experiment>/slurm/<job>_<task>.out, where status reads them",
    ),
    (
        "error",
        Some('e'),
        "a task's errors go into its log, where status reads them",
    ),
    (
        "open-mode",
        None,
        "a requeued task appends to its log, which keeps the whole story",
    ),
    ("requeue", None, "the script asks for it already"),
    (
        "no-requeue",
        None,
        "a task warned of its time limit requeues itself to resume",
    ),
    (
        "signal",
        None,
        "use --signal-lead SECONDS: the runner checkpoints on that warning",
    ),
    ("ntasks", Some('n'), "each array task is one runner process"),
    (
        "cpus-per-task",
        Some('c'),
        "use --cpus-per-task N: the runner's threads follow it",
    ),
    ("gpus-per-task", None, "use --gpus-per-task N"),
    (
        "time",
        Some('t'),
        "use --time, which is checked against --signal-lead",
    ),
    (
        "test-only",
        None,
        "nothing would be submitted; --dry-run prints the script",
    ),
    (
        "wait",
        Some('W'),
        "`slurm` would wait for the whole array to end",
    ),
];

/// The job name an `--sbatch-arg` gives (`--job-name=NAME`, an unambiguous prefix such as
/// `--job=NAME`, or `-JNAME`), if it gives one: it replaces the script's own
/// `anigan-<experiment>`, so the job carries one name.
pub fn job_name_arg(arg: &str) -> Option<&str> {
    if let Some(long) = arg.strip_prefix("--") {
        let (name, value) = long.split_once('=')?;
        return (!name.is_empty() && "job-name".starts_with(name)).then_some(value);
    }
    arg.strip_prefix("-J")
}

/// The job name the `--sbatch-arg`s give (the last one, as sbatch would take it), and the
/// other arguments.
pub fn split_job_name(args: &[String]) -> (Option<String>, Vec<String>) {
    let name = args.iter().rev().find_map(|a| job_name_arg(a));
    let rest = args.iter().filter(|a| job_name_arg(a).is_none());
    (name.map(str::to_string), rest.cloned().collect())
}

/// sbatch options that are a prefix of a reserved one's name without standing for it (sbatch,
/// like getopt, takes an unambiguous prefix of a long option for the option).
const NOT_ABBREVIATIONS: &[&str] = &["gpus"];

/// Why `arg` cannot be an `--sbatch-arg`, if it cannot: each is one sbatch option with its value
/// (`--partition=gpu`, `-pgpu`), quoted onto an `#SBATCH` line of its own, and none of the
/// options the script writes itself (a second `--array` or `--output` would silently win).
pub fn sbatch_arg_problem(arg: &str) -> Option<String> {
    let reject = |why: &str| Some(format!("--sbatch-arg={arg:?}: {why}"));
    if arg.contains(['\n', '\r']) {
        return reject("a line break would end the #SBATCH line");
    }
    if job_name_arg(arg).is_some_and(|name| name.trim().is_empty()) {
        return reject("give the job a name, e.g. --sbatch-arg=--job-name=my-sweep");
    }
    if let Some(long) = arg.strip_prefix("--") {
        let name = long.split('=').next().unwrap_or("");
        if name.is_empty() || name.contains(char::is_whitespace) {
            return reject(
                "give one option with its value after '=', e.g. --sbatch-arg=--partition=gpu",
            );
        }
        let hit = RESERVED.iter().find(|(long, _, _)| {
            *long == name || (long.starts_with(name) && !NOT_ABBREVIATIONS.contains(&name))
        });
        return hit.and_then(|(long, _, why)| reject(&format!("the script sets --{long}: {why}")));
    }
    let mut chars = arg.chars();
    let (Some('-'), Some(letter)) = (chars.next(), chars.next()) else {
        return reject("give an sbatch option, e.g. --sbatch-arg=--partition=gpu");
    };
    if chars.next().is_some_and(char::is_whitespace) {
        return reject(&format!(
            "give the value without a space (-{letter}VALUE), or the long option with '='"
        ));
    }
    let hit = RESERVED.iter().find(|(_, short, _)| *short == Some(letter));
    hit.and_then(|(long, _, why)| reject(&format!("the script sets --{long} (-{letter}): {why}")))
}

/// `text` as one argument of an `#SBATCH` line, which sbatch splits at whitespace, reading `'`
/// and `"` as quotes, `\` as an escape and an unquoted `#` as the start of a comment: in double
/// quotes, with `\` and `"` escaped, when it holds anything but plain characters.
pub fn directive_arg(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text.to_string()
    } else {
        format!("\"{}\"", text.replace('\\', r"\\").replace('"', r#"\""#))
    }
}

/// `dir` as the literal start of a filename pattern (`--output`): sbatch replaces `%j`, `%A`,
/// `%a`, ... there, and `%%` is one `%`. A `\` would turn every replacement off and a line
/// break would end the directive: `log_dir_problem` refuses both before a script is written.
pub fn literal_pattern(dir: &Path) -> String {
    dir.to_string_lossy().replace('%', "%%")
}

/// Why sbatch cannot write the task logs into `dir`, if it cannot.
pub fn log_dir_problem(dir: &Path) -> Option<String> {
    let text = dir.to_string_lossy();
    let bad = ['\\', '\n', '\r'].into_iter().find(|c| text.contains(*c))?;
    Some(format!(
        "the task logs' folder {} holds a {}, which an sbatch log path (--output) cannot: \
         choose a --results folder without one",
        dir.display(),
        if bad == '\\' {
            "backslash"
        } else {
            "line break"
        }
    ))
}

/// Single-quotes `s` for bash when it holds anything but plain path characters.
pub fn quote(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script() -> Script {
        Script {
            job_name: "anigan-smoke".into(),
            tasks: 4,
            max_parallel: Some(2),
            cpus_per_task: 1,
            gpus_per_task: None,
            time: Some("01:00:00".into()),
            signal_lead_s: 120,
            extra_args: vec!["--partition=gpu".into()],
            log_dir: "/r/smoke/slurm".into(),
            variant_list: "/r/smoke/slurm/variants-1a2b3c4d.txt".into(),
            workdir: "/home/me/gan".into(),
            runner: "/home/me/gan/target/release/anigan-runner".into(),
            run_args: vec![
                "/home/me/gan/experiments/smoke.toml".into(),
                "--set".into(),
                "train.lr_d=1e-4".into(),
                "--set".into(),
                "experiment.description=two words".into(),
            ],
        }
    }

    #[test]
    fn directives_ask_for_a_warning_signal_and_requeue() {
        let text = script().render();
        for line in [
            "#SBATCH --array=0-3%2",
            "#SBATCH --signal=B:USR1@120",
            "#SBATCH --requeue",
            "#SBATCH --open-mode=append",
            "#SBATCH --output=/r/smoke/slurm/%A_%a.out",
            "#SBATCH --time=01:00:00",
            "#SBATCH --partition=gpu",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        assert!(!text.contains("--gpus-per-task"));
    }

    #[test]
    fn the_runner_is_execed_with_the_task_variant_and_thread_budget() {
        let text = script().render();
        let last = text.lines().last().unwrap();
        assert!(last.starts_with("exec /home/me/gan/target/release/anigan-runner run "));
        assert!(last.contains("--set 'experiment.description=two words'"));
        assert!(last.ends_with("--variant \"$id\" --threads \"${SLURM_CPUS_PER_TASK:-1}\""));
    }

    #[test]
    fn no_parallel_limit_leaves_the_array_plain() {
        let mut s = script();
        s.max_parallel = None;
        s.tasks = 1;
        assert!(s.render().contains("#SBATCH --array=0-0\n"));
    }

    #[test]
    fn log_paths_reach_sbatch_literally() {
        for (dir, line, why) in [
            (
                "/r/smoke/slurm",
                "#SBATCH --output=/r/smoke/slurm/%A_%a.out",
                "a plain path stays bare",
            ),
            (
                "/r/res space/smoke/slurm",
                r#"#SBATCH --output="/r/res space/smoke/slurm/%A_%a.out""#,
                "sbatch splits an unquoted directive at the space: 'Invalid directive'",
            ),
            (
                "/r/100%j/smoke/slurm",
                "#SBATCH --output=/r/100%%j/smoke/slurm/%A_%a.out",
                "a literal % would become a replacement symbol (%j: the job id)",
            ),
            (
                r#"/r/a"b#c'd/smoke/slurm"#,
                r#"#SBATCH --output="/r/a\"b#c'd/smoke/slurm/%A_%a.out""#,
                "a quote is escaped; # inside quotes starts no comment",
            ),
        ] {
            let mut s = script();
            s.log_dir = dir.into();
            let text = s.render();
            assert!(
                text.lines().any(|l| l == line),
                "{why}: no {line:?} in\n{text}"
            );
        }
    }

    #[test]
    fn log_folders_sbatch_cannot_take_are_named() {
        for (dir, problem) in [
            ("/r/a b%/slurm", None),
            (r"/r/a\b/slurm", Some("backslash")),
            ("/r/a\nb/slurm", Some("line break")),
        ] {
            let found = log_dir_problem(Path::new(dir));
            assert_eq!(
                found.as_deref().map(|p| p.contains(problem.unwrap_or("?"))),
                problem.map(|_| true),
                "{dir:?}: {found:?}"
            );
        }
    }

    #[test]
    fn sbatch_args_the_script_writes_itself_are_refused() {
        for (arg, refused, why) in [
            ("--partition=gpu", None, "an option the script leaves alone"),
            ("-pgpu", None, "a short option with its value"),
            (
                "--gpus=1",
                None,
                "a whole option whose name starts a reserved one's",
            ),
            (
                "--chdir=/a b",
                None,
                "a value with a space: one quoted argument",
            ),
            (
                "--array=0-3",
                Some("--array"),
                "the array is one task per variant",
            ),
            ("-a0-3", Some("--array (-a)"), "the short form"),
            (
                "--arr=0-3",
                Some("--array"),
                "sbatch takes an unambiguous prefix",
            ),
            ("--output=x.out", Some("--output"), "the logs status reads"),
            ("-o", Some("--output (-o)"), "the short form alone"),
            (
                "--no-requeue",
                Some("--no-requeue"),
                "self-requeue needs requeue",
            ),
            (
                "--signal=B:USR1@0",
                Some("--signal-lead"),
                "the runner's warning",
            ),
            ("--time=10", Some("--time"), "checked against --signal-lead"),
            (
                "--partition gpu",
                Some("after '='"),
                "two words in one argument",
            ),
            (
                "-p gpu",
                Some("without a space"),
                "a short option and its value apart",
            ),
            ("gpu", Some("give an sbatch option"), "no option"),
            ("--job-name=my sweep", None, "the user's name for the job"),
            ("-Jmine", None, "the short form"),
            ("--job-name=", Some("give the job a name"), "an empty name"),
            (
                "-J",
                Some("give the job a name"),
                "the short form without a name",
            ),
            ("--comment=a\nb", Some("line break"), "a new #SBATCH line"),
        ] {
            let problem = sbatch_arg_problem(arg);
            match refused {
                None => assert_eq!(problem, None, "{arg}: {why}"),
                Some(says) => assert!(
                    problem.as_deref().is_some_and(|p| p.contains(says)),
                    "{arg}: {why}: {problem:?}"
                ),
            }
        }
    }

    #[test]
    fn a_job_name_given_replaces_the_runner_s() {
        for (args, name, rest, why) in [
            (
                &["--partition=gpu"][..],
                None,
                &["--partition=gpu"][..],
                "none given",
            ),
            (
                &["--job-name=mine", "--partition=gpu"],
                Some("mine"),
                &["--partition=gpu"],
                "the long form",
            ),
            (&["--job=a b"], Some("a b"), &[], "sbatch takes a prefix"),
            (
                &["-Jx", "-Jy"],
                Some("y"),
                &[],
                "the last one, as sbatch takes it",
            ),
            (
                &["--jobs=2"],
                None,
                &["--jobs=2"],
                "no prefix of --job-name",
            ),
        ] {
            let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            let (found, others) = split_job_name(&args);
            assert_eq!(found.as_deref(), name, "{why}");
            assert_eq!(others, rest, "{why}");
        }
        let mut s = script();
        s.job_name = "my sweep".into();
        let text = s.render();
        let names: Vec<&str> = text.lines().filter(|l| l.contains("--job-name")).collect();
        assert_eq!(names, [r#"#SBATCH "--job-name=my sweep""#], "{text}");
    }

    #[test]
    fn extra_args_are_one_argument_each() {
        let mut s = script();
        s.extra_args = vec!["--chdir=/a b".into(), "--partition=gpu".into()];
        let text = s.render();
        assert!(text.contains("#SBATCH \"--chdir=/a b\"\n"), "{text}");
        assert!(text.contains("#SBATCH --partition=gpu\n"), "{text}");
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("/a/b-c.toml"), "/a/b-c.toml");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("$HOME"), "'$HOME'");
    }
}
