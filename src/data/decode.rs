//! Decodes every listed image in parallel into one dataset; unreadable images are skipped, and
//! images much smaller than the training size (enlarged into blur) are counted in one warning.

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use crate::progress;

use super::listing::Listing;
use super::prepare::{Prepared, prepare};
use super::vocab::Vocabulary;

/// The whole decoded source, before holdout and limit: what the cache stores.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Decoded {
    pub size: u32,
    pub len: usize,
    /// `[len, 3, size, size]`
    pub pixels: Vec<u8>,
    /// `[len, vocab.len()]`; empty when unlabelled.
    pub tags: Vec<u8>,
    pub vocab: Option<Vocabulary>,
    /// Images listed, good or bad.
    pub total: usize,
    /// `(path relative to the source folder, reason)` of each skipped image.
    pub skipped: Vec<(String, String)>,
}

impl Decoded {
    pub(super) fn image_bytes(&self) -> usize {
        3 * self.size as usize * self.size as usize
    }

    pub(super) fn tag_count(&self) -> usize {
        self.vocab.as_ref().map_or(0, Vocabulary::len)
    }
}

pub(super) fn decode_all(listing: &Listing, size: u32, warn: &mut dyn FnMut(String)) -> Decoded {
    let bar = progress::counter(
        listing.items.len() as u64,
        &format!(
            "decoding {} images to {size} px (once; cached afterwards)",
            listing.items.len()
        ),
    );
    let done = AtomicU64::new(0);
    let results: Vec<anyhow::Result<Prepared>> = listing
        .items
        .par_iter()
        .map(|item| {
            let pixels = prepare(&item.path, size);
            bar.advance_to(done.fetch_add(1, Ordering::Relaxed) + 1);
            pixels
        })
        .collect();
    bar.finish();
    let mut decoded = Decoded {
        size,
        len: 0,
        pixels: Vec::with_capacity(listing.items.len() * 3 * (size * size) as usize),
        tags: Vec::new(),
        vocab: listing.vocab.clone(),
        total: listing.items.len(),
        skipped: Vec::new(),
    };
    let mut small: Vec<String> = Vec::new();
    for (item, result) in listing.items.iter().zip(results) {
        match result {
            Ok(Prepared { pixels, source }) => {
                if source.0.min(source.1) < size / SMALL_FACTOR {
                    small.push(format!("{} ({}x{})", item.rel, source.0, source.1));
                }
                decoded.pixels.extend_from_slice(&pixels);
                decoded.tags.extend_from_slice(&item.tags);
                decoded.len += 1;
            }
            Err(error) => {
                let reason = format!("{error:#}");
                warn(format!("skipping image {}: {reason}", item.path.display()));
                decoded.skipped.push((item.rel.clone(), reason));
            }
        }
    }
    warn_small(listing, &small, size, warn);
    decoded
}

/// An image whose shorter side is below `size / SMALL_FACTOR` is enlarged more than that: blur.
const SMALL_FACTOR: u32 = 2;

/// Images named in the warning about small ones; the rest are counted.
const SHOWN_SMALL: usize = 5;

/// One warning for the images `small` (`rel (WxH)`) that were enlarged to `size` from less than
/// half of it (a 1x1 icon, a 400x10 banner whose centre square is 10 px).
fn warn_small(listing: &Listing, small: &[String], size: u32, warn: &mut dyn FnMut(String)) {
    if small.is_empty() {
        return;
    }
    let shown: Vec<&str> = small.iter().take(SHOWN_SMALL).map(String::as_str).collect();
    warn(format!(
        "{} image{} under {} {} shorter than {} px (half of data.image_size = {size}) on {} \
         shorter side and {} enlarged into blur: {}{}; leave them out, or lower data.image_size",
        small.len(),
        if small.len() == 1 { "" } else { "s" },
        listing.root.display(),
        if small.len() == 1 { "is" } else { "are" },
        size / SMALL_FACTOR,
        if small.len() == 1 { "its" } else { "their" },
        if small.len() == 1 { "is" } else { "are" },
        shown.join(", "),
        if small.len() > SHOWN_SMALL {
            ", ..."
        } else {
            ""
        }
    ));
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::super::listing::Item;
    use super::*;

    #[test]
    fn bad_images_are_skipped_with_a_warning_naming_them() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.png");
        let bad = dir.path().join("bad.png");
        fixtures::write_png(&good, 4, 4);
        std::fs::write(&bad, b"garbage").unwrap();
        let items = [
            (&bad, "bad.png", vec![1u8, 0]),
            (&good, "good.png", vec![0, 1]),
        ]
        .map(|(path, rel, tags)| Item {
            path: path.clone(),
            rel: rel.into(),
            tags,
        });
        let vocab = Vocabulary::new(vec![vec!["a".into(), "b".into()]]);
        let listing = Listing {
            root: dir.path().into(),
            vocab: Some(vocab),
            items: items.into(),
        };
        let mut warnings = Vec::new();
        let decoded = decode_all(&listing, 2, &mut |w| warnings.push(w));
        assert_eq!(
            (decoded.len, decoded.total, decoded.pixels.len()),
            (1, 2, 12)
        );
        assert_eq!(decoded.tags, [0, 1]);
        assert_eq!(decoded.skipped.len(), 1);
        assert_eq!(decoded.skipped[0].0, "bad.png");
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].contains(&*bad.to_string_lossy()),
            "{warnings:?}"
        );
    }

    #[test]
    fn images_much_smaller_than_the_training_size_are_counted_in_one_warning() {
        let dir = tempfile::tempdir().unwrap();
        let sizes = [
            ("dot.png", 1, 1),
            ("banner.png", 400, 10),
            ("half.png", 16, 16),
        ];
        let items = sizes.map(|(name, w, h)| {
            let path = dir.path().join(name);
            fixtures::write_png(&path, w, h);
            Item {
                path,
                rel: name.into(),
                tags: Vec::new(),
            }
        });
        let listing = Listing {
            root: dir.path().into(),
            vocab: None,
            items: items.into(),
        };
        let mut warnings = Vec::new();
        let decoded = decode_all(&listing, 32, &mut |w| warnings.push(w));
        assert_eq!(decoded.len, 3, "still trained on");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].starts_with("2 images under")
                && warnings[0].contains("shorter than 16 px (half of data.image_size = 32)")
                && warnings[0].contains("dot.png (1x1), banner.png (400x10);"),
            "{warnings:?}"
        );
    }
}
