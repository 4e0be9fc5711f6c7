//! HTML and Markdown escaping for every user-supplied string on a page.

/// Escapes text for HTML element content and quoted attribute values.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A Markdown table cell: pipes escaped, line breaks flattened.
pub fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        let cases = [
            (
                "<script>alert('x')</script>",
                "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;",
                "tags and single quotes",
            ),
            ("a & b", "a &amp; b", "ampersand"),
            ("\"onerror=x", "&quot;onerror=x", "attribute breakout"),
            ("g_acc <= 0.02", "g_acc &lt;= 0.02", "evidence text"),
            ("plain", "plain", "nothing to do"),
        ];
        for (input, want, why) in cases {
            assert_eq!(html(input), want, "{why}");
        }
    }

    #[test]
    fn markdown_cells_keep_the_table_intact() {
        assert_eq!(md_cell("a|b\nc"), "a\\|b c");
    }
}
