//! A worker's stderr, line by line: its epoch lines (`LABEL epoch E/N summary`, what
//! `progress::EpochBar` prints in a log) move its bar; every other line is shown with its
//! variant's label in front.

/// One line of a worker's output.
#[derive(Debug, PartialEq)]
pub enum Line<'a> {
    Epoch {
        epoch: u64,
        total: u64,
        summary: &'a str,
    },
    /// Anything else, without the label when it had one.
    Other(&'a str),
}

pub fn parse<'a>(label: &str, line: &'a str) -> Line<'a> {
    let rest = line.strip_prefix(label).and_then(|r| r.strip_prefix(' '));
    let Some(rest) = rest else {
        return Line::Other(line);
    };
    let epoch = rest.strip_prefix("epoch ").and_then(|r| {
        let (count, summary) = r.split_once(' ').unwrap_or((r, ""));
        let (e, n) = count.split_once('/')?;
        Some(Line::Epoch {
            epoch: e.parse().ok()?,
            total: n.parse().ok()?,
            summary,
        })
    });
    epoch.unwrap_or(Line::Other(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_lines_and_others() {
        let label = "[2/4] 001-1a2b3c4d";
        assert_eq!(
            parse(label, "[2/4] 001-1a2b3c4d epoch 3/8 D real 0.5 | G 0.4"),
            Line::Epoch {
                epoch: 3,
                total: 8,
                summary: "D real 0.5 | G 0.4"
            }
        );
        assert_eq!(
            parse(label, "[2/4] 001-1a2b3c4d resuming from epoch 4"),
            Line::Other("resuming from epoch 4")
        );
        assert_eq!(
            parse(label, "data: 256 images"),
            Line::Other("data: 256 images")
        );
        assert_eq!(
            parse(label, "[2/4] 001-1a2b3c4d epoch x/8"),
            Line::Other("epoch x/8")
        );
    }
}
