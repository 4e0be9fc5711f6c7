//! Text inputs as users' editors save them: UTF-8 with or without a byte-order mark, with LF, CRLF
//! or CR line endings. Every text file the runner reads from a user goes through `read` or
//! `decode`, so parsers see plain `\n`-separated UTF-8 and never a BOM.

use std::path::Path;

use anyhow::{Context, Result, bail};

const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

/// Reads `path` as text (see `decode`); errors name the file.
pub fn read(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    decode(&bytes, path)
}

/// UTF-8 text without its BOM and with every line ending turned into `\n`. Text in another
/// encoding is an error naming `file`, the line and the column (counted from 1), because its
/// words would otherwise silently fail to match (a Latin-1 `é` is not the UTF-8 `é`).
pub fn decode(bytes: &[u8], file: &Path) -> Result<String> {
    if bytes.starts_with(b"\xff\xfe") || bytes.starts_with(b"\xfe\xff") {
        bail!(
            "{} is UTF-16 text (as \"Unicode text\" exports write it); save it as UTF-8",
            file.display()
        );
    }
    let body = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    let text = match std::str::from_utf8(body) {
        Ok(text) => text,
        Err(e) => {
            let before = &body[..e.valid_up_to()];
            let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
            let line_start = before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            let column = String::from_utf8_lossy(&before[line_start..])
                .chars()
                .count()
                + 1;
            bail!(
                "{}:{line}:{column}: not UTF-8 text (byte 0x{:02x}); save the file as UTF-8",
                file.display(),
                body[e.valid_up_to()]
            );
        }
    };
    Ok(if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text.to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(bytes: &[u8]) -> Result<String> {
        decode(bytes, Path::new("tags.txt"))
    }

    #[test]
    fn bom_and_line_endings_are_normalised() {
        let rows: &[(&[u8], &str, &str)] = &[
            (b"a,b\nc\n", "a,b\nc\n", "plain UTF-8"),
            (b"\xef\xbb\xbfa,b\nc", "a,b\nc", "BOM dropped"),
            (b"\xef\xbb\xbfa,b\r\nc\r\n", "a,b\nc\n", "BOM and CRLF"),
            (b"a\rb\r", "a\nb\n", "old Mac CR"),
            (b"", "", "empty"),
            ("h\u{e9}\r\n".as_bytes(), "h\u{e9}\n", "UTF-8 beyond ASCII"),
        ];
        for (bytes, want, why) in rows {
            assert_eq!(decoded(bytes).unwrap(), *want, "{why}");
        }
    }

    #[test]
    fn other_encodings_name_file_line_and_column() {
        let rows: &[(&[u8], &str, &str)] = &[
            (
                b"red\nblond h\xe9\n",
                "tags.txt:2:8: not UTF-8 text (byte 0xe9)",
                "Latin-1",
            ),
            (b"\xff\xfea\0", "tags.txt is UTF-16", "UTF-16 LE"),
            (b"\xfe\xff\0a", "tags.txt is UTF-16", "UTF-16 BE"),
        ];
        for (bytes, want, why) in rows {
            let message = decoded(bytes).unwrap_err().to_string();
            assert!(message.contains(want), "{why}: {message}");
        }
    }
}
