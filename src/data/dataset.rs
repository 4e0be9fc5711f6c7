//! What `load` returns: the training and holdout datasets and a report of the load.

use std::path::PathBuf;
use std::time::Duration;

use rayon::prelude::*;

use super::decode::Decoded;
use super::vocab::Vocabulary;

/// Images as one u8 buffer, ready for a `[len, 3, size, size]` tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub size: u32,
    pub len: usize,
    /// `[len, 3, size, size]` planar RGB, row-major.
    pub pixels: Vec<u8>,
    /// `[len, vocab.len()]` multi-hot 0/1; empty when unlabelled.
    pub tags: Vec<u8>,
    pub vocab: Option<Vocabulary>,
}

impl Dataset {
    /// Image `i` as `[3, size, size]`.
    pub fn image(&self, i: usize) -> &[u8] {
        let n = 3 * self.size as usize * self.size as usize;
        &self.pixels[i * n..(i + 1) * n]
    }

    /// Tags of image `i`; empty when unlabelled.
    pub fn tags_of(&self, i: usize) -> &[u8] {
        let n = self.vocab.as_ref().map_or(0, Vocabulary::len);
        &self.tags[i * n..(i + 1) * n]
    }

    /// How many images carry each tag of the vocabulary, in its order; None when unlabelled.
    pub fn tag_counts(&self) -> Option<Vec<u64>> {
        let n = self.vocab.as_ref().filter(|v| !v.is_empty())?.len();
        let mut counts = vec![0u64; n];
        for row in self.tags.chunks_exact(n) {
            for (count, &on) in counts.iter_mut().zip(row) {
                *count += u64::from(on != 0);
            }
        }
        Some(counts)
    }

    /// The images at `indices` of the decoded dataset, in that order.
    pub(super) fn gather(decoded: &Decoded, indices: &[usize]) -> Self {
        let (image, tag) = (decoded.image_bytes(), decoded.tag_count());
        // Parallel: copying 200 MB is a noticeable part of a cached load.
        let mut pixels = vec![0u8; indices.len() * image];
        pixels
            .par_chunks_mut(image)
            .zip(indices)
            .for_each(|(out, &i)| out.copy_from_slice(&decoded.pixels[i * image..(i + 1) * image]));
        let mut tags = Vec::with_capacity(indices.len() * tag);
        for &i in indices {
            tags.extend_from_slice(&decoded.tags[i * tag..(i + 1) * tag]);
        }
        Self {
            size: decoded.size,
            len: indices.len(),
            pixels,
            tags,
            vocab: decoded.vocab.clone(),
        }
    }
}

/// An image left out because it could not be read or decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadTimings {
    /// Listing the source and parsing its tag files.
    pub list: Duration,
    /// Hashing the source for the cache key.
    pub fingerprint: Duration,
    /// Reading the cache, or decoding the images and writing the cache.
    pub decode_or_read: Duration,
    /// Choosing and copying out the holdout and training sets.
    pub split: Duration,
}

#[derive(Debug)]
pub struct Loaded {
    pub train: Dataset,
    /// Real images never trained on, for evaluation.
    pub holdout: Dataset,
    /// Unreadable images, also when they were found while building the cache.
    pub skipped: Vec<Skipped>,
    pub from_cache: bool,
    pub cache_file: PathBuf,
    /// Hex blake3 of the source and decoding settings: identifies the data in run records.
    pub key: String,
    /// Images the source listed (unreadable ones included).
    pub listed: usize,
    pub timings: LoadTimings,
}

impl Loaded {
    /// What a run's record says it trained on (`DataIdentity`).
    pub fn identity(&self) -> super::DataIdentity {
        super::DataIdentity {
            key: self.key.clone(),
            images: self.listed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset(tags: &[u8], vocab: Option<&str>) -> Dataset {
        let vocab = vocab.map(|v| Vocabulary::parse(v, std::path::Path::new("tags.txt")).unwrap());
        let n = vocab.as_ref().map_or(1, Vocabulary::len);
        Dataset {
            size: 1,
            len: tags.len() / n,
            pixels: vec![0; 3 * tags.len() / n],
            tags: tags.to_vec(),
            vocab,
        }
    }

    #[test]
    fn tag_counts_count_the_images_carrying_each_tag() {
        let rows: [(Dataset, Option<Vec<u64>>, &str); 3] = [
            (
                dataset(&[1, 0, 1, 1, 0, 0, 0, 0, 1], Some("red,blue\nlong\n")),
                Some(vec![2, 0, 2]),
                "blue is on no image",
            ),
            (
                dataset(&[], Some("red,blue\n")),
                Some(vec![0, 0]),
                "no images",
            ),
            (dataset(&[], None), None, "unlabelled"),
        ];
        for (data, want, why) in rows {
            assert_eq!(data.tag_counts(), want, "{why}");
        }
    }
}
