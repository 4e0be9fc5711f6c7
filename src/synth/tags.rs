//! The original tag vocabulary and sampling of per-image tag sets from its real frequencies.

use std::sync::LazyLock;

use rand::Rng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;

/// Hair colours, in the original `tags.txt` order.
pub const HAIR_COLOURS: [&str; 12] = [
    "blonde hair",
    "purple hair",
    "red hair",
    "blue hair",
    "pink hair",
    "green hair",
    "white hair",
    "gray hair",
    "black hair",
    "brown hair",
    "aqua hair",
    "orange hair",
];

/// Hair lengths, in the original `tags.txt` order.
pub const HAIR_LENGTHS: [&str; 2] = ["long hair", "short hair"];

/// Eye tags, in the original `tags.txt` order; "bicolored eyes" is not a colour.
pub const EYE_TAGS: [&str; 12] = [
    "pink eyes",
    "purple eyes",
    "aqua eyes",
    "bicolored eyes",
    "black eyes",
    "blue eyes",
    "yellow eyes",
    "green eyes",
    "orange eyes",
    "red eyes",
    "brown eyes",
    "gray eyes",
];

/// Index of "bicolored eyes" in [`EYE_TAGS`].
pub const BICOLORED: usize = 3;

/// Frequencies of whole tag combinations, derived from the original `filtered.txt`
/// by `scripts/derive-tag-combos` (the raw labels are not shipped).
const COMBOS_CSV: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/tag-combos.csv"));

/// The whole vocabulary in multi-hot order (hair colours, lengths, eye tags).
pub fn vocabulary() -> impl Iterator<Item = &'static str> {
    HAIR_COLOURS
        .iter()
        .chain(HAIR_LENGTHS.iter())
        .chain(EYE_TAGS.iter())
        .copied()
}

/// The bytes of the original `tags.txt`: three comma-separated lines, no final newline.
pub fn tags_txt() -> String {
    [&HAIR_COLOURS[..], &HAIR_LENGTHS[..], &EYE_TAGS[..]]
        .map(|group| group.join(","))
        .join("\n")
}

/// One image's labels, as indices into the vocabulary groups (each sorted, no duplicates).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TagSet {
    pub hair: Vec<usize>,
    pub long: bool,
    pub short: bool,
    /// Eye tags, including [`BICOLORED`] when present.
    pub eyes: Vec<usize>,
}

impl TagSet {
    /// Parses `a|b|c` (empty for none); every name must be in the vocabulary.
    pub fn parse(joined: &str) -> anyhow::Result<Self> {
        let mut set = TagSet::default();
        for name in joined.split('|').filter(|s| !s.is_empty()) {
            if let Some(i) = HAIR_COLOURS.iter().position(|t| *t == name) {
                set.hair.push(i);
            } else if let Some(i) = EYE_TAGS.iter().position(|t| *t == name) {
                set.eyes.push(i);
            } else if name == HAIR_LENGTHS[0] {
                set.long = true;
            } else if name == HAIR_LENGTHS[1] {
                set.short = true;
            } else {
                anyhow::bail!("unknown tag {name:?} (not in the original tags.txt vocabulary)");
            }
        }
        set.hair.sort_unstable();
        set.hair.dedup();
        set.eyes.sort_unstable();
        set.eyes.dedup();
        Ok(set)
    }

    /// Eye colours only (without "bicolored eyes").
    pub fn eye_colours(&self) -> Vec<usize> {
        self.eyes
            .iter()
            .copied()
            .filter(|&i| i != BICOLORED)
            .collect()
    }

    pub fn bicolored(&self) -> bool {
        self.eyes.contains(&BICOLORED)
    }

    /// Tag names in vocabulary order.
    pub fn names(&self) -> Vec<String> {
        let lengths = [self.long, self.short];
        let hair = self.hair.iter().map(|&i| HAIR_COLOURS[i]);
        let length = (0..2).filter(|&i| lengths[i]).map(|i| HAIR_LENGTHS[i]);
        let eyes = self.eyes.iter().map(|&i| EYE_TAGS[i]);
        hair.chain(length).chain(eyes).map(String::from).collect()
    }
}

/// Tag combinations with their counts in the original dataset.
pub struct ComboTable {
    pub combos: Vec<(usize, TagSet)>,
    index: WeightedIndex<usize>,
}

impl ComboTable {
    /// Parses the `count,tags` csv written by `scripts/derive-tag-combos`.
    pub fn parse(csv: &str) -> anyhow::Result<Self> {
        let mut lines = csv.lines().enumerate();
        match lines.next() {
            Some((_, "count,tags")) => {}
            other => anyhow::bail!("tag table: expected header `count,tags`, got {other:?}"),
        }
        let mut combos = Vec::new();
        for (n, line) in lines.filter(|(_, l)| !l.trim().is_empty()) {
            let (count, tags) = line.split_once(',').ok_or_else(|| {
                anyhow::anyhow!("tag table line {}: expected `count,tags`", n + 1)
            })?;
            let count: usize = count.parse().map_err(|e| {
                anyhow::anyhow!("tag table line {}: bad count {count:?}: {e}", n + 1)
            })?;
            let set = TagSet::parse(tags)
                .map_err(|e| anyhow::anyhow!("tag table line {}: {e}", n + 1))?;
            combos.push((count, set));
        }
        let index = WeightedIndex::new(combos.iter().map(|(c, _)| *c))
            .map_err(|e| anyhow::anyhow!("tag table: {e}"))?;
        Ok(Self { combos, index })
    }

    /// The table shipped with the crate.
    pub fn builtin() -> &'static ComboTable {
        static TABLE: LazyLock<ComboTable> =
            LazyLock::new(|| ComboTable::parse(COMBOS_CSV).expect("data/tag-combos.csv is valid"));
        &TABLE
    }

    /// Draws one image's tag set with the original combination frequencies.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> &TagSet {
        &self.combos[self.index.sample(rng)].1
    }

    /// Total images counted in the table.
    #[cfg(test)]
    pub fn total(&self) -> usize {
        self.combos.iter().map(|(c, _)| c).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn builtin_table_matches_the_original_counts() {
        let t = ComboTable::builtin();
        assert_eq!(t.total(), 18_114);
        let count = |f: &dyn Fn(&TagSet) -> bool| -> usize {
            t.combos.iter().filter(|(_, s)| f(s)).map(|(c, _)| c).sum()
        };
        // Numbers from the seed-data README.
        assert_eq!(count(&|s| s.hair.is_empty()), 1_576);
        assert_eq!(count(&|s| s.hair.len() == 2), 1_744);
        assert_eq!(count(&|s| !s.long && !s.short), 6_608);
        assert_eq!(count(&|s| s.eyes.is_empty()), 3_157);
    }

    #[test]
    fn sampler_follows_the_table_frequencies() {
        let t = ComboTable::builtin();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let n = 60_000;
        let mut long = 0;
        let mut no_hair = 0;
        let mut top = 0;
        let top_set = &t.combos[0].1;
        for _ in 0..n {
            let s = t.sample(&mut rng);
            long += usize::from(s.long);
            no_hair += usize::from(s.hair.is_empty());
            top += usize::from(s == top_set);
        }
        let expect = |f: &dyn Fn(&TagSet) -> bool| -> f64 {
            let c: usize = t.combos.iter().filter(|(_, s)| f(s)).map(|(c, _)| c).sum();
            c as f64 / t.total() as f64
        };
        let rows = [
            (long, expect(&|s| s.long), "long hair marginal"),
            (no_hair, expect(&|s| s.hair.is_empty()), "no hair colour"),
            (
                top,
                t.combos[0].0 as f64 / t.total() as f64,
                "most common combination",
            ),
        ];
        for (got, want, why) in rows {
            let got = got as f64 / n as f64;
            assert!(
                (got - want).abs() < 0.01,
                "{why}: got {got:.4}, want {want:.4}"
            );
        }
    }

    #[test]
    fn tags_txt_is_the_original_vocabulary() {
        let text = tags_txt();
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].split(',').count(), 12);
        assert_eq!(lines[1], "long hair,short hair");
        assert_eq!(lines[2].split(',').count(), 12);
        assert!(lines[2].starts_with("pink eyes,purple eyes,aqua eyes,bicolored eyes"));
        assert_eq!(vocabulary().count(), 26);
    }

    #[test]
    fn parse_rejects_unknown_tags_and_orders_names() {
        assert!(TagSet::parse("blue hair|cat ears").is_err());
        let s = TagSet::parse("red eyes|short hair|blue hair|blonde hair").unwrap();
        assert_eq!(
            s.names(),
            ["blonde hair", "blue hair", "short hair", "red eyes"]
        );
        assert_eq!(TagSet::parse("").unwrap(), TagSet::default());
    }
}
