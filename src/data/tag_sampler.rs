//! Tags for fake samples, drawn like the real data's: per group one tag or none, with the
//! frequencies the training set shows (an image with two tags of a group counts for both).

use tch::{Device, Kind, Tensor};

use super::Vocabulary;

/// Per-group categorical distributions over "none" and the group's tags, on the device.
pub struct TagSampler {
    /// (first flat index, tag count, probabilities [1 + count] with "none" first).
    groups: Vec<(i64, i64, Tensor)>,
    /// Per group, the tag frequencies [count] among images with exactly one tag in the group.
    single: Vec<Tensor>,
    pub n_tags: i64,
}

impl TagSampler {
    /// From `[n, vocab.len()]` multi-hot rows.
    pub fn new(vocab: &Vocabulary, tags: &[u8], device: Device) -> Self {
        let t = vocab.len();
        let n = tags.len() / t.max(1);
        let mut groups = Vec::new();
        let mut single = Vec::new();
        let mut start = 0;
        for group in &vocab.groups {
            let k = group.len();
            let mut counts = vec![0f64; k + 1];
            let mut once = vec![0f64; k];
            for row in tags.chunks_exact(t).take(n) {
                let own = &row[start..start + k];
                if own.iter().all(|&x| x == 0) {
                    counts[0] += 1.0;
                }
                if own.iter().filter(|&&x| x > 0).count() == 1 {
                    once[own.iter().position(|&x| x > 0).expect("one tag")] += 1.0;
                }
                for (j, &x) in own.iter().enumerate() {
                    counts[j + 1] += f64::from(x.min(1));
                }
            }
            let total: f64 = counts.iter().sum::<f64>().max(1.0);
            let probs: Vec<f32> = counts.iter().map(|c| (c / total) as f32).collect();
            groups.push((
                start as i64,
                k as i64,
                Tensor::from_slice(&probs).to_device(device),
            ));
            let total_once: f64 = once.iter().sum::<f64>().max(1.0);
            let once: Vec<f32> = once.iter().map(|c| (c / total_once) as f32).collect();
            single.push(Tensor::from_slice(&once).to_device(device));
            start += k;
        }
        Self {
            groups,
            single,
            n_tags: t as i64,
        }
    }

    /// `b` tag vectors [b, n_tags] f32 from the current random stream.
    pub fn sample(&self, b: i64) -> Tensor {
        let parts: Vec<Tensor> = self
            .groups
            .iter()
            .map(|(_, k, probs)| {
                let pick = probs.multinomial(b, true); // [b] in 0..=k, 0 = none
                pick.one_hot(k + 1).narrow(1, 1, *k) // [b, k]
            })
            .collect();
        Tensor::cat(&parts, 1).to_kind(Kind::Float)
    }

    /// The group probabilities, "none" first (for reports and tests).
    pub fn probabilities(&self) -> Vec<Vec<f64>> {
        self.groups
            .iter()
            .map(|(_, _, p)| Vec::<f64>::try_from(p.to_kind(Kind::Double)).expect("host copy"))
            .collect()
    }

    /// Per group, the tags' frequencies [count] among the images with exactly one tag in it
    /// (what an auxiliary head's softmax is trained to read); on the device.
    pub fn single_tag_prior(&self) -> &[Tensor] {
        &self.single
    }

    /// (first flat index, tag count) of each group.
    pub fn spans(&self) -> Vec<(i64, i64)> {
        self.groups.iter().map(|(s, k, _)| (*s, *k)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_real_frequencies_one_tag_per_group() {
        let vocab = Vocabulary::new(vec![vec!["a".into(), "b".into()], vec!["c".into()]]);
        // Group 0: a 2x, b 1x (the row with a and b counts for both), none 2x; c on half the rows.
        let rows = [[1, 0, 1], [1, 1, 0], [0, 0, 1], [0, 0, 0]];
        let flat: Vec<u8> = rows.iter().flatten().copied().collect();
        let s = TagSampler::new(&vocab, &flat, Device::Cpu);
        let p = s.probabilities();
        let close =
            |got: &[f64], want: &[f64]| got.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-6);
        assert!(close(&p[0], &[0.4, 0.4, 0.2]), "{p:?}");
        assert!(close(&p[1], &[0.5, 0.5]), "{p:?}");
        // Among images with exactly one tag in the group: a once (row 0), b never.
        let single: Vec<Vec<f64>> = s
            .single_tag_prior()
            .iter()
            .map(|t| Vec::<f64>::try_from(t.to_kind(Kind::Double)).unwrap())
            .collect();
        assert_eq!(single, vec![vec![1.0, 0.0], vec![1.0]]);
        tch::manual_seed(3);
        let x = s.sample(20_000);
        assert_eq!(x.size(), [20_000, 3]);
        let per_group = x.narrow(1, 0, 2).sum_dim_intlist(1, false, Kind::Float);
        assert!(
            per_group.le(1.0).all().int64_value(&[]) == 1,
            "at most one per group"
        );
        let mean = Vec::<f64>::try_from(x.mean_dim(0, false, Kind::Double)).unwrap();
        for (got, want) in mean.iter().zip([0.4, 0.2, 0.5]) {
            assert!((got - want).abs() < 0.02, "{mean:?}");
        }
    }
}
