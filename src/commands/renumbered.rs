//! Variants about to train from the start whose settings a run at another index already
//! trained: the grid's order changed (a value put before others), so their ids did. Said before
//! training, so a user can restore the order instead of paying for the runs again.

use crate::config::Variant;
use crate::results::ExperimentDir;

/// Listed by id before "and N more".
const SHOWN: usize = 4;

/// `(planned id, id of the run with its settings)` for each of `selected` that has no run
/// folder yet while a folder of the same settings hash at another index exists.
pub fn renumbered(exp_dir: &ExperimentDir, selected: &[&Variant]) -> Vec<(String, String)> {
    let on_disk = exp_dir.run_ids().unwrap_or_default();
    selected
        .iter()
        .filter(|v| !on_disk.contains(&v.id))
        .filter_map(|v| {
            let hash = settings_hash(&v.id)?;
            let old = on_disk.iter().find(|d| settings_hash(d) == Some(hash))?;
            Some((v.id.clone(), old.clone()))
        })
        .collect()
}

/// The hash part of an id `NNN-hash8`.
fn settings_hash(id: &str) -> Option<&str> {
    id.split_once('-').map(|(_, hash)| hash)
}

/// The note for `pairs` (from `renumbered`), ending in a newline; empty when there are none.
pub fn note(pairs: &[(String, String)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let mut shown: Vec<String> = pairs
        .iter()
        .take(SHOWN)
        .map(|(new, old)| format!("{new} (trained as {old})"))
        .collect();
    if pairs.len() > SHOWN {
        shown.push(format!("and {} more", pairs.len() - SHOWN));
    }
    let (n, have, train) = match pairs.len() {
        1 => ("1 variant".to_string(), "has", "trains"),
        n => (format!("{n} variants"), "have", "train"),
    };
    format!(
        "note: {n} {have} the settings of a run at another index (the grid's order changed) \
         and {train} from the start under the new id: {}. Those runs stay as runs of another \
         recipe. To continue them instead, keep each list's values in their old order and add \
         new ones at the end of the grid's first key or as [[grid.include]] tables at the end.\n",
        shown.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(n: usize) -> Vec<(String, String)> {
        (0..n)
            .map(|k| (format!("{:03}-h{k}", k + 1), format!("{k:03}-h{k}")))
            .collect()
    }

    #[test]
    fn the_note_names_the_moved_runs_and_what_keeps_them() {
        assert_eq!(note(&[]), "", "nothing moved: no note");
        let one = note(&pairs(1));
        assert!(
            one.starts_with("note: 1 variant has the settings of a run at another index"),
            "{one}"
        );
        assert!(one.contains("001-h0 (trained as 000-h0)"), "{one}");
        let many = note(&pairs(6));
        assert!(many.contains("6 variants have"), "{many}");
        assert!(many.contains("and 2 more"), "{many}");
        assert!(!many.contains("005-h4"), "only the first few by id: {many}");
    }
}
