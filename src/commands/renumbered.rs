//! Variants about to train from the start whose settings a run at another index already
//! trained: the grid's order changed (a value put before others), so their ids did. Said before
//! training, so a user can restore the order instead of paying for the runs again.

use crate::config::Variant;
use crate::results::ExperimentDir;

/// Listed by id before "and N more".
const SHOWN: usize = 4;

/// A planned variant with no run folder yet whose settings a run at another index has.
#[derive(Debug, Clone, PartialEq)]
pub struct Moved {
    pub id: String,
    /// The run folder with its settings.
    pub was: String,
    /// The process training that run now, `(pid, host)`.
    pub training: Option<(u32, String)>,
}

/// Each of `selected` that has no run folder yet while a folder of the same settings hash at
/// another index exists.
pub fn renumbered(exp_dir: &ExperimentDir, selected: &[&Variant]) -> Vec<Moved> {
    let on_disk = exp_dir.run_ids().unwrap_or_default();
    selected
        .iter()
        .filter(|v| !on_disk.contains(&v.id))
        .filter_map(|v| {
            let hash = settings_hash(&v.id)?;
            let was = on_disk.iter().find(|d| settings_hash(d) == Some(hash))?;
            Some(Moved {
                id: v.id.clone(),
                was: was.clone(),
                training: exp_dir.run(was).holder(),
            })
        })
        .collect()
}

/// The hash part of an id `NNN-hash8`.
fn settings_hash(id: &str) -> Option<&str> {
    id.split_once('-').map(|(_, hash)| hash)
}

/// The note for `moved` (from `renumbered`), ending in a newline; empty when there are none.
pub fn note(moved: &[Moved]) -> String {
    if moved.is_empty() {
        return String::new();
    }
    let mut shown: Vec<String> = moved
        .iter()
        .take(SHOWN)
        .map(|m| match &m.training {
            Some((pid, host)) => format!(
                "{} (trained as {}, which pid {pid} on {host} is training now)",
                m.id, m.was
            ),
            None => format!("{} (trained as {})", m.id, m.was),
        })
        .collect();
    if moved.len() > SHOWN {
        shown.push(format!("and {} more", moved.len() - SHOWN));
    }
    let (n, have, train) = match moved.len() {
        1 => ("1 variant".to_string(), "has", "trains"),
        n => (format!("{n} variants"), "have", "train"),
    };
    let mut text = format!(
        "note: {n} {have} the settings of a run at another index (an edit of the grid \
         renumbered them) and {train} from the start under the new id: {}. Those runs stay as \
         runs of another recipe. Edits that keep every id: values appended to the grid's first \
         key, [[grid.include]] tables added at the end, more [search] trials (see \
         experiments/README.md, \"`[grid]`: variants\").",
        shown.join(", ")
    );
    if moved.iter().any(|m| m.training.is_some()) {
        text += " A run still training trains the same settings a second time beside the new \
                 one: stop it first, or leave these variants out (--variant).";
    }
    text + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moved(n: usize) -> Vec<Moved> {
        (0..n)
            .map(|k| Moved {
                id: format!("{:03}-h{k}", k + 1),
                was: format!("{k:03}-h{k}"),
                training: None,
            })
            .collect()
    }

    #[test]
    fn the_note_names_the_moved_runs_and_what_keeps_them() {
        assert_eq!(note(&[]), "", "nothing moved: no note");
        let one = note(&moved(1));
        assert!(
            one.starts_with("note: 1 variant has the settings of a run at another index"),
            "{one}"
        );
        assert!(one.contains("001-h0 (trained as 000-h0)"), "{one}");
        assert!(!one.contains("training now"), "{one}");
        let many = note(&moved(6));
        assert!(many.contains("6 variants have"), "{many}");
        assert!(many.contains("and 2 more"), "{many}");
        assert!(!many.contains("005-h4"), "only the first few by id: {many}");
    }

    #[test]
    fn a_run_still_training_is_said_to_be() {
        let mut busy = moved(1);
        busy[0].training = Some((4242, "node7".into()));
        let text = note(&busy);
        assert!(
            text.contains("001-h0 (trained as 000-h0, which pid 4242 on node7 is training now)"),
            "{text}"
        );
        assert!(text.contains("stop it first"), "{text}");
    }
}
