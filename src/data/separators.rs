//! Tag files written with another separator than the comma: a spreadsheet set to a locale with
//! decimal commas exports `;`, a "text (tab delimited)" export tabs, hand-made files `|`. Such
//! a line reads as one image path that is not found, so its problem says how the line reads
//! with commas instead, quoted as CSV where a field needs it.

use super::disk_names::{DiskNames, Found};
use super::vocab::Vocabulary;

/// Separators written instead of a comma.
pub(super) const OTHERS: [char; 3] = [';', '\t', '|'];

/// How a separator is named in a message.
pub(super) fn name(sep: char) -> &'static str {
    match sep {
        '\t' => "tabs",
        ';' => "`;`",
        _ => "`|`",
    }
}

/// The hint for an image line `raw` whose path was not found, when it holds another
/// separator: where a split names an image (trying every split point, as the name itself may
/// hold the separator: `a;b.png;red`), that image and the line rewritten with commas; else,
/// for a line without commas, the rewrite as a guess.
pub(super) fn image_line_hint(raw: &str, names: &DiskNames) -> Option<String> {
    let sep = OTHERS.into_iter().find(|c| raw.contains(*c))?;
    let fields: Vec<String> = raw.split(sep).map(unquote).collect();
    let found = (1..fields.len()).find_map(|k| {
        let path = fields[..k].join(&sep.to_string());
        matches!(names.find(&path), Found::Image(..)).then_some((k, path))
    });
    match found {
        Some((k, path)) => {
            let mut line = vec![path.clone()];
            line.extend(fields[k..].iter().cloned());
            Some(format!(
                "{path} is an image: a tag file's fields are separated by commas (CSV), not \
                 {}: write {}",
                name(sep),
                csv_line(&line)
            ))
        }
        None if !raw.contains(',') => Some(format!(
            "if {} separates its fields, write {} (fields are separated by commas, CSV)",
            name(sep),
            csv_line(&fields)
        )),
        None => None,
    }
}

/// A `vocab:` group written as one cell holding another separator: the line with commas.
pub(super) fn vocab_hint(cells: &[&str]) -> Option<String> {
    let [only] = cells else { return None };
    let sep = OTHERS.into_iter().find(|c| only.contains(*c))?;
    let tags: Vec<&str> = only.split(sep).map(str::trim).collect();
    Some(format!(
        "vocab: tags are separated by commas, not {}: write `vocab: {}`",
        name(sep),
        tags.join(",")
    ))
}

/// An unknown tag that is known tags joined by another separator (`purple hair;long hair`):
/// the cells to write instead.
pub(super) fn joined_tags_hint(tag: &str, vocab: &Vocabulary) -> Option<String> {
    let sep = OTHERS.into_iter().find(|c| tag.contains(*c))?;
    let tags: Vec<&str> = tag.split(sep).map(str::trim).collect();
    tags.iter().all(|t| vocab.index_of(t).is_some()).then(|| {
        format!(
            "\"{tag}\" is tags joined by {}: separate them with commas, {}",
            name(sep),
            tags.join(",")
        )
    })
}

/// A spreadsheet's separator line (`sep=;`, as Excel writes for CSV in some locales): None for
/// another line; Ok for `sep=,` (harmless: skipped); Err with what to do for another separator.
pub(super) fn spreadsheet_line(line: &str) -> Option<Result<(), String>> {
    let sep = line
        .strip_prefix("sep=")
        .or_else(|| line.strip_prefix("SEP="))?;
    match sep.trim() {
        "," | "\",\"" => Some(Ok(())),
        other => Some(Err(format!(
            "`sep={other}` is a spreadsheet's separator line: delete it, and separate the \
             fields with commas"
        ))),
    }
}

/// A field as written between separators, its CSV quotes removed.
fn unquote(field: &str) -> String {
    let field = field.trim();
    match field.strip_prefix('"').and_then(|f| f.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => field.to_string(),
    }
}

/// Fields as one CSV line, quoted where a field holds a comma, a quote or edge spaces.
fn csv_line(fields: &[String]) -> String {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    writer.write_record(fields).expect("writes to memory");
    let bytes = writer.into_inner().expect("writes to memory");
    String::from_utf8(bytes)
        .expect("fields are UTF-8")
        .trim_end_matches('\n')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rewritten_line_quotes_what_csv_must_quote() {
        let fields = |f: &[&str]| f.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(csv_line(&fields(&["a.png", "red"])), "a.png,red");
        assert_eq!(
            csv_line(&fields(&["photo, copy.png", "red hair"])),
            "\"photo, copy.png\",red hair"
        );
        assert_eq!(unquote(" \"say \"\"hi\"\".png\" "), "say \"hi\".png");
    }

    #[test]
    fn a_separator_line_is_recognised() {
        assert_eq!(spreadsheet_line("sep=,"), Some(Ok(())));
        assert!(spreadsheet_line("sep=;").is_some_and(|r| r.is_err()));
        assert_eq!(spreadsheet_line("a.png,red"), None);
    }
}
