//! `anigan-runner data synth`: writes a procedural face dataset and/or a contact sheet of it.

use anyhow::Result;

use crate::cli::{DataCommand, SynthArgs};

use crate::exit::{Exit, usage, usage_problems};
use crate::fsx::{Place, parent_dir};
use crate::progress;
use crate::synth::{self, SynthOptions};

pub fn data(cmd: &DataCommand) -> Result<Exit> {
    match cmd {
        DataCommand::Synth(args) => synth_command(args),
    }
}

fn synth_command(args: &SynthArgs) -> Result<Exit> {
    let mut problems = Vec::new();
    if let Err(e) = synth::check_size(args.size) {
        problems.push(format!("--size {}: {e:#}", args.size));
    }
    if args.count == 0 {
        problems.push("--count must be at least 1".to_string());
    }
    if let Some(out) = &args.out {
        let empty_dir = std::fs::read_dir(out).is_ok_and(|mut e| e.next().is_none());
        if out.exists() && !empty_dir {
            problems.push(format!(
                "--out {} already exists and is not an empty folder: choose another output path \
                 or remove it first",
                out.display()
            ));
        }
    }
    if !problems.is_empty() {
        return Err(usage_problems(problems));
    }
    check_places(args)?;
    if let Some(out) = &args.out {
        let bar = progress::counter(
            args.count as u64,
            &format!(
                "generating {} faces of {} px into {}",
                args.count,
                args.size,
                out.display()
            ),
        );
        let opts = SynthOptions {
            count: args.count,
            size: args.size,
            seed: args.seed,
        };
        let summary = synth::generate(out, &opts, &|done| bar.advance_to(done as u64))?;
        bar.finish();
        let mut counts = summary.tag_counts.clone();
        counts.sort_by_key(|c| std::cmp::Reverse(c.1));
        let common: Vec<String> = counts
            .iter()
            .take(6)
            .map(|(tag, n)| format!("{tag} {n}"))
            .collect();
        println!(
            "wrote {} images to {} (tags.txt, filtered.txt, selected/); most common tags: {} ...",
            summary.count,
            out.display(),
            common.join(", ")
        );
    }
    if let Some(sheet) = &args.contact_sheet {
        let faces: Vec<synth::Rendered> = (0..64.min(args.count as u64))
            .map(|k| synth::render(k, args.seed, args.size))
            .collect();
        let images: Vec<_> = faces.iter().map(|f| f.image.clone()).collect();
        synth::write_contact_sheet(sheet, &images, 8)?;
        println!(
            "wrote contact sheet {} ({} faces); their tags:",
            sheet.display(),
            faces.len()
        );
        for (k, face) in faces.iter().enumerate() {
            println!(
                "  {:>2} (row {}, col {}): {}",
                k,
                k / 8 + 1,
                k % 8 + 1,
                face.tags.join(", ")
            );
        }
    }
    Ok(Exit::Success)
}

/// `--out` and `--contact-sheet` can be written (`commands::writable`), before any face is
/// drawn: the dataset is made beside `--out` and renamed into place, the sheet is a file
/// (not a folder) written the same way.
fn check_places(args: &SynthArgs) -> Result<()> {
    if let Some(out) = &args.out {
        super::writable::check(
            &[Place::folder(
                parent_dir(out),
                "data synth writes the dataset (made beside --out, then renamed to it)",
            )],
            "pass --out with a folder you can write to",
        )?;
    }
    if let Some(sheet) = &args.contact_sheet {
        if sheet.is_dir() {
            return Err(usage(format!(
                "--contact-sheet {} is a folder: name the PNG file to write, e.g. \
                 --contact-sheet {}",
                sheet.display(),
                sheet.join("sheet.png").display()
            )));
        }
        super::writable::check(
            &[Place::folder(
                parent_dir(sheet),
                "data synth writes the contact sheet",
            )],
            "pass --contact-sheet with a file in a folder you can write to",
        )?;
    }
    Ok(())
}
