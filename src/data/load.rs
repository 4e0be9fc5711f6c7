//! `load`: list the source, read or build the decoded cache, split off holdout and training set.

use std::io::ErrorKind;
use std::path::Path;
use std::time::Instant;

use super::cache;
use super::dataset::{Dataset, LoadTimings, Loaded, Skipped};
use super::decode::{Decoded, decode_all};
use super::fingerprint;
use super::folder;
use super::options::{LoadOptions, Source};
use super::seed_layout;
use super::split::split;

/// Loads a dataset, decoding the images only when no valid cache file matches the source's
/// contents and the image size. Warnings (skipped images, a rebuilt cache) go to `warn`.
pub fn load(opts: &LoadOptions, warn: &mut dyn FnMut(String)) -> anyhow::Result<Loaded> {
    anyhow::ensure!(opts.image_size > 0, "[data] image_size must be at least 1");
    anyhow::ensure!(
        (0.0..=1.0).contains(&opts.max_bad_fraction),
        "[data] max_bad_fraction = {} must be between 0.0 and 1.0",
        opts.max_bad_fraction
    );
    let mut timings = LoadTimings::default();
    let started = Instant::now();
    let listing = match &opts.source {
        Source::Seed { dir } => seed_layout::list(dir)?,
        Source::Folder { dir, tags_file } => folder::list(dir, tags_file.as_deref(), warn)?,
    };
    anyhow::ensure!(
        !listing.items.is_empty(),
        "no images in {}: add PNG or JPEG files, or point [data] at another folder",
        listing.root.display()
    );
    timings.list = started.elapsed();

    let started = Instant::now();
    let key = fingerprint::remembered_key(&listing, opts.image_size, &opts.cache_dir);
    let cache_file = opts.cache_dir.join(cache::file_name(&key));
    timings.fingerprint = started.elapsed();

    let started = Instant::now();
    let cached = read_cache(&cache_file, opts.image_size, warn);
    let from_cache = cached.is_some();
    let decoded = match cached {
        Some(decoded) => {
            for (rel, reason) in &decoded.skipped {
                let path = listing.root.join(rel);
                warn(format!(
                    "skipping image {} (as when the cache was built): {reason}",
                    path.display()
                ));
            }
            decoded
        }
        None => {
            let decoded = decode_all(&listing, opts.image_size, warn);
            // Written before the bad-image check so that raising the limit reuses the work.
            if let Err(error) = cache::write(&cache_file, &decoded) {
                warn(format!(
                    "cannot write the dataset cache {}: {error:#}; the next run decodes again",
                    cache_file.display()
                ));
            }
            decoded
        }
    };
    timings.decode_or_read = started.elapsed();

    let skipped: Vec<Skipped> = decoded
        .skipped
        .iter()
        .map(|(rel, reason)| Skipped {
            path: listing.root.join(rel),
            reason: reason.clone(),
        })
        .collect();
    check_bad_fraction(&decoded, &skipped, opts.max_bad_fraction)?;

    let started = Instant::now();
    let available = decoded.len.saturating_sub(opts.holdout);
    if opts.limit > available && opts.holdout < decoded.len {
        warn(format!(
            "[data] limit = {} but only {available} training images remain after the holdout; using all",
            opts.limit
        ));
    }
    let chosen = split(decoded.len, opts.holdout, opts.limit, opts.seed)?;
    let train = Dataset::gather(&decoded, &chosen.train);
    let holdout = Dataset::gather(&decoded, &chosen.holdout);
    timings.split = started.elapsed();
    Ok(Loaded {
        train,
        holdout,
        skipped,
        from_cache,
        cache_file,
        key: key.to_hex().to_string(),
        listed: listing.items.len(),
        timings,
    })
}

/// A valid cache file's contents; None when there is none or it is unusable (then rebuilt).
fn read_cache(path: &Path, size: u32, warn: &mut dyn FnMut(String)) -> Option<Decoded> {
    match cache::read(path) {
        Ok(decoded) if decoded.size == size => Some(decoded),
        Ok(decoded) => {
            warn(format!(
                "dataset cache {} holds {} px images, not {size} px; rebuilding it",
                path.display(),
                decoded.size
            ));
            None
        }
        Err(error) if is_not_found(&error) => None,
        Err(error) => {
            warn(format!(
                "dataset cache {} is damaged ({error:#}); decoding the images again to rebuild it",
                path.display()
            ));
            None
        }
    }
}

fn is_not_found(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<std::io::Error>()
        .is_some_and(|e| e.kind() == ErrorKind::NotFound)
}

fn check_bad_fraction(decoded: &Decoded, skipped: &[Skipped], max: f64) -> anyhow::Result<()> {
    let (bad, total) = (skipped.len(), decoded.total);
    if bad == 0 || (bad as f64) <= max * total as f64 && decoded.len > 0 {
        return Ok(());
    }
    let first = &skipped[0];
    anyhow::bail!(
        "{bad} of {total} images ({:.1}%) could not be read, more than [data] max_bad_fraction = {max} \
         allows (first: {}: {}); fix or remove them, or raise [data] max_bad_fraction",
        100.0 * bad as f64 / total as f64,
        first.path.display(),
        first.reason
    )
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::PathBuf;

    use image::{GrayImage, Luma, Rgba, RgbaImage};

    use super::super::fixtures;
    use super::*;

    fn options(source: Source, cache_dir: &Path) -> LoadOptions {
        LoadOptions {
            source,
            image_size: 4,
            limit: 0,
            holdout: 0,
            max_bad_fraction: 0.5,
            seed: 1,
            cache_dir: cache_dir.to_path_buf(),
        }
    }

    fn folder(dir: &Path) -> Source {
        Source::Folder {
            dir: dir.to_path_buf(),
            tags_file: None,
        }
    }

    fn load_quietly(opts: &LoadOptions) -> Loaded {
        load(opts, &mut |w| panic!("unexpected warning: {w}")).unwrap()
    }

    fn load_collecting(opts: &LoadOptions) -> (anyhow::Result<Loaded>, Vec<String>) {
        let mut warnings = Vec::new();
        let loaded = load(opts, &mut |w| warnings.push(w));
        (loaded, warnings)
    }

    /// `count` PNGs of 6x6 under `dir`.
    fn png_folder(dir: &Path, count: usize) -> Vec<PathBuf> {
        let paths: Vec<PathBuf> = (0..count)
            .map(|i| dir.join(format!("img{i:03}.png")))
            .collect();
        paths.iter().for_each(|p| fixtures::write_png(p, 6, 6));
        paths
    }

    #[test]
    fn seed_layout_loads_with_tags() {
        let (data, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        fixtures::seed_folder(
            data.path(),
            &["5,red hair,long hair", "9", "12,red eyes,blue hair"],
        );
        let mut opts = options(
            Source::Seed {
                dir: data.path().into(),
            },
            cache.path(),
        );
        opts.holdout = 1;
        let loaded = load_quietly(&opts);
        assert_eq!((loaded.train.len, loaded.holdout.len), (2, 1));
        assert_eq!(loaded.train.pixels.len(), 2 * 3 * 4 * 4);
        assert_eq!(loaded.train.vocab.as_ref().unwrap().len(), 4);
        let mut all: Vec<&[u8]> = (0..2).map(|i| loaded.train.tags_of(i)).collect();
        all.push(loaded.holdout.tags_of(0));
        all.sort();
        assert_eq!(all, [&[0, 0, 0, 0][..], &[0, 1, 0, 1], &[1, 0, 1, 0]]);
    }

    #[test]
    fn mixed_images_are_converted_and_cropped() {
        let (data, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        GrayImage::from_pixel(9, 9, Luma([50]))
            .save(data.path().join("a-grey.png"))
            .unwrap();
        RgbaImage::from_pixel(5, 5, Rgba([0, 0, 0, 0]))
            .save(data.path().join("b-rgba.png"))
            .unwrap();
        fixtures::write_jpeg(&data.path().join("c-wide.jpg"), 30, 10);
        let loaded = load_quietly(&options(folder(data.path()), cache.path()));
        assert_eq!(loaded.train.len, 3);
        assert_eq!(loaded.train.pixels.len(), 3 * 3 * 4 * 4);
        assert_eq!(loaded.train.image(0), [50; 48], "greyscale to RGB");
        assert_eq!(loaded.train.image(1), [255; 48], "transparent over white");
        assert!(loaded.train.tags.is_empty() && loaded.train.vocab.is_none());
    }

    #[test]
    fn corrupt_image_is_skipped_and_reported() {
        let (data, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        png_folder(data.path(), 3);
        let bad = data.path().join("broken.png");
        fs::write(&bad, b"\x89PNG truncated").unwrap();
        let opts = options(folder(data.path()), cache.path());
        for round in ["decoded", "cached"] {
            let (loaded, warnings) = load_collecting(&opts);
            let loaded = loaded.unwrap();
            assert_eq!(loaded.train.len, 3, "{round}");
            assert_eq!(loaded.skipped.len(), 1, "{round}");
            assert_eq!(loaded.skipped[0].path, bad, "{round}");
            assert!(
                warnings.len() == 1 && warnings[0].contains("broken.png"),
                "{round}: {warnings:?}"
            );
        }
    }

    #[test]
    fn incomplete_jpeg_is_skipped_and_counted_against_the_limit() {
        let (data, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        png_folder(data.path(), 3);
        let partial = data.path().join("partial.jpg");
        fixtures::write_jpeg(&partial, 32, 32);
        let whole = fs::read(&partial).unwrap();
        fs::write(&partial, &whole[..whole.len() * 2 / 3]).unwrap();
        let mut opts = options(folder(data.path()), cache.path());
        let (loaded, warnings) = load_collecting(&opts);
        let loaded = loaded.unwrap();
        assert_eq!((loaded.train.len, loaded.skipped.len()), (3, 1));
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("partial.jpg") && w.contains("incomplete")),
            "{warnings:?}"
        );
        opts.max_bad_fraction = 0.2;
        let message = format!("{:#}", load_collecting(&opts).0.unwrap_err());
        assert!(message.contains("1 of 4 images"), "{message}");
    }

    #[test]
    fn too_many_bad_images_is_an_error() {
        let (data, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        png_folder(data.path(), 1);
        fs::write(data.path().join("x1.png"), b"junk").unwrap();
        fs::write(data.path().join("x2.jpg"), b"junk").unwrap();
        let mut opts = options(folder(data.path()), cache.path());
        let message = format!("{:#}", load_collecting(&opts).0.unwrap_err());
        assert!(message.contains("2 of 3 images"), "{message}");
        assert!(
            message.contains("raise [data] max_bad_fraction"),
            "{message}"
        );
        opts.max_bad_fraction = 0.7;
        let (loaded, _) = load_collecting(&opts);
        assert!(
            loaded.unwrap().from_cache,
            "the cache was written before the check"
        );
    }

    #[test]
    fn limit_and_holdout_are_deterministic_and_disjoint() {
        let (data, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        png_folder(data.path(), 20);
        let mut opts = options(folder(data.path()), cache.path());
        (opts.holdout, opts.limit) = (5, 8);
        let (first, second) = (load_quietly(&opts), load_quietly(&opts));
        assert_eq!((first.train.len, first.holdout.len), (8, 5));
        assert_eq!(first.train, second.train);
        assert_eq!(first.holdout, second.holdout);
        for i in 0..first.train.len {
            let image = first.train.image(i);
            assert!(
                (0..5).all(|j| first.holdout.image(j) != image),
                "train image {i} held out"
            );
        }
        opts.seed = 2;
        assert_ne!(load_quietly(&opts).holdout, first.holdout);
    }

    #[test]
    fn second_load_reads_the_cache() {
        let (data, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        png_folder(data.path(), 4);
        let opts = options(folder(data.path()), cache.path());
        let first = load_quietly(&opts);
        let second = load_quietly(&opts);
        assert!(!first.from_cache && second.from_cache);
        assert_eq!(first.cache_file, second.cache_file);
        assert!(first.cache_file.starts_with(cache.path()) && first.cache_file.is_file());
        assert_eq!(first.train, second.train);
    }

    /// A named edit of the source.
    type Change<'a> = (&'static str, Box<dyn Fn() + 'a>);

    #[test]
    fn changed_source_invalidates_the_cache() {
        let (data, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        fixtures::seed_folder(data.path(), &["1,red hair", "2,long hair"]);
        let opts = options(
            Source::Seed {
                dir: data.path().into(),
            },
            cache.path(),
        );
        let base = load_quietly(&opts).cache_file;
        let filtered = data.path().join("filtered.txt");
        let image = data.path().join("selected/1.jpg");
        let changes: [Change; 3] = [
            (
                "filtered.txt tag",
                Box::new(|| fs::write(&filtered, "1,red hair\n2,red eyes\n").unwrap()),
            ),
            (
                "image edited",
                Box::new(|| fixtures::write_jpeg(&image, 9, 8)),
            ),
            (
                "image added",
                Box::new(|| {
                    fs::write(&filtered, "1,red hair\n2,red eyes\n3\n").unwrap();
                    fixtures::write_png(&data.path().join("selected/2.png"), 4, 4);
                }),
            ),
        ];
        let mut seen = vec![base];
        for (why, change) in changes {
            change();
            let loaded = load_quietly(&opts);
            assert!(!loaded.from_cache, "{why}");
            assert!(!seen.contains(&loaded.cache_file), "{why}");
            seen.push(loaded.cache_file);
        }
        let mut other_size = opts.clone();
        other_size.image_size = 3;
        assert!(!load_quietly(&other_size).from_cache, "image size");
    }

    #[test]
    fn damaged_cache_is_rebuilt_with_a_warning() {
        let (data, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        png_folder(data.path(), 3);
        let opts = options(folder(data.path()), cache.path());
        let first = load_quietly(&opts);
        let bytes = fs::read(&first.cache_file).unwrap();
        fs::write(&first.cache_file, &bytes[..bytes.len() / 2]).unwrap();
        let (rebuilt, warnings) = load_collecting(&opts);
        let rebuilt = rebuilt.unwrap();
        assert!(!rebuilt.from_cache);
        assert!(
            warnings.len() == 1 && warnings[0].contains("damaged"),
            "{warnings:?}"
        );
        assert_eq!(rebuilt.train, first.train);
        assert!(load_quietly(&opts).from_cache, "the rebuilt cache is used");
    }

    #[test]
    fn empty_folder_is_an_error() {
        let (data, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let message = load_collecting(&options(folder(data.path()), cache.path()))
            .0
            .unwrap_err()
            .to_string();
        assert!(message.contains("no images in"), "{message}");
    }
}
