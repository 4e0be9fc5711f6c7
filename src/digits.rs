//! Numbers as a person reads them: about four significant digits, what one compares by eye in a
//! message or a chart label; the files keep every digit.

/// `x` with about four significant digits, without trailing zeros (12.35, 0.04211, 1235,
/// 80.57); 0, infinities and NaN as Rust prints them.
pub fn four(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return x.to_string();
    }
    let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let text = format!("{x:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn about_four_significant_digits() {
        let rows: &[(f64, &str, &str)] = &[
            (
                80.5716,
                "80.57",
                "an swd as a chart label printed it to 4 decimals",
            ),
            (12.3456, "12.35", "rounded, not cut"),
            (0.042113, "0.04211", "leading zeros are no digits"),
            (1234.56, "1235", "no decimals from the fourth digit on"),
            (
                123456.0,
                "123456",
                "a large figure keeps its integer digits",
            ),
            (2.5, "2.5", "no trailing zeros"),
            (-2.71449, "-2.714", "the sign stays"),
            (0.0, "0", "zero"),
            (f64::INFINITY, "inf", "as Rust prints it"),
        ];
        for (x, want, why) in rows {
            assert_eq!(four(*x), *want, "{why}");
        }
    }
}
