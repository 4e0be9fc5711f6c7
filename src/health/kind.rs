//! Kinds of collapse and the verdict the detector hands to the rollback policy.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What went wrong. Ordered by priority: when several fire in one epoch the first wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    NonFinite,
    DegenerateOutput,
    ModeCollapse,
    DFooled,
    GFailure,
    QualityRegression,
    /// The samples never got near the data and stopped getting closer: not a collapse, a run
    /// that gets nowhere. The policy fixes a setting out of range if it finds one, else the run
    /// ends `stalled`.
    Stalled,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::NonFinite,
        Kind::DegenerateOutput,
        Kind::ModeCollapse,
        Kind::DFooled,
        Kind::GFailure,
        Kind::QualityRegression,
        Kind::Stalled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::NonFinite => "non_finite",
            Kind::DegenerateOutput => "degenerate_output",
            Kind::ModeCollapse => "mode_collapse",
            Kind::QualityRegression => "quality_regression",
            Kind::DFooled => "d_fooled",
            Kind::GFailure => "g_failure",
            Kind::Stalled => "stalled",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown kind name; the message lists the valid ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseKindError(pub String);

impl fmt::Display for ParseKindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        write!(
            f,
            "unknown collapse kind {:?}, expected one of {}",
            self.0,
            names.join(", ")
        )
    }
}

impl std::error::Error for ParseKindError {}

impl FromStr for Kind {
    type Err = ParseKindError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| ParseKindError(s.to_string()))
    }
}

/// A sustained problem: `onset_epoch` is the first bad epoch of the streak.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub kind: Kind,
    pub onset_epoch: u64,
    pub detected_epoch: u64,
    /// One human sentence with the numbers behind the verdict.
    pub evidence: String,
}

/// The side of the game that was winning over a streak, and the figures that say so.
#[derive(Debug, Clone, PartialEq)]
pub struct Ahead {
    pub side: Side,
    /// "g_acc 0.01 over the episode", "D's updates stopped by p0 in 64% of its steps".
    pub why: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    D,
    G,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::D => "D",
            Side::G => "G",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in Kind::ALL {
            assert_eq!(k.to_string().parse::<Kind>(), Ok(k));
        }
        let err = "collapse".parse::<Kind>().unwrap_err().to_string();
        assert!(err.contains("g_failure"), "{err}");
    }

    #[test]
    fn serde_uses_snake_case() {
        assert_eq!(
            serde_json::to_string(&Kind::DFooled).unwrap(),
            "\"d_fooled\""
        );
    }
}
