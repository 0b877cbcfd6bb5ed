//! Deadlines per level, and their configuration (`[cases.deadlines.<level>]`).

use crate::Level;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::time::Duration;
use yuqing_core::config::Problem;

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

/// The longest deadline accepted; far beyond any sensible one, and it keeps date
/// arithmetic far from chrono's limits.
const MAX_DEADLINE: Duration = Duration::from_secs(366 * DAY);

/// How long after a case is opened it must be assessed, and answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Deadlines {
    #[serde(serialize_with = "ser_duration")]
    pub assess_within: Duration,
    #[serde(serialize_with = "ser_duration")]
    pub answer_within: Duration,
}

impl Deadlines {
    /// The defaults of INTERFACES.md, from the national rules for public-opinion response.
    pub const fn default_for(level: Level) -> Deadlines {
        let (assess, answer) = match level {
            Level::MajorSensitive => (30 * MINUTE, 5 * HOUR),
            Level::Important => (2 * HOUR, 24 * HOUR),
            Level::Ordinary => (24 * HOUR, 48 * HOUR),
        };
        Deadlines { assess_within: Duration::from_secs(assess), answer_within: Duration::from_secs(answer) }
    }

    /// When a case opened at `opened_at` must be assessed.
    pub fn assess_due(&self, opened_at: DateTime<Utc>) -> DateTime<Utc> {
        add(opened_at, self.assess_within)
    }

    /// When a case opened at `opened_at` must be answered.
    pub fn answer_due(&self, opened_at: DateTime<Utc>) -> DateTime<Utc> {
        add(opened_at, self.answer_within)
    }
}

/// Saturating, so that no configuration can make the arithmetic panic (validation
/// bounds the durations well before this matters).
fn add(at: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(d).ok().and_then(|d| at.checked_add_signed(d)).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The deadlines of each level. Deserializes from the `[cases.deadlines]` table:
///
/// ```toml
/// [cases.deadlines.major-sensitive]
/// assess_within = "30m"
/// answer_within = "5h"
/// [cases.deadlines.important]
/// assess_within = "2h"     # a key left out keeps its default
/// ```
///
/// Unknown keys are errors; durations are humantime strings. Call
/// [`DeadlineConfig::validate`] for the checks that need the whole table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "RawDeadlineConfig")]
pub struct DeadlineConfig {
    #[serde(rename = "major-sensitive")]
    pub major_sensitive: Deadlines,
    pub important: Deadlines,
    pub ordinary: Deadlines,
}

impl Default for DeadlineConfig {
    fn default() -> Self {
        DeadlineConfig {
            major_sensitive: Deadlines::default_for(Level::MajorSensitive),
            important: Deadlines::default_for(Level::Important),
            ordinary: Deadlines::default_for(Level::Ordinary),
        }
    }
}

impl DeadlineConfig {
    /// Where the table lives in the configuration file, for problem keys.
    pub const KEY: &'static str = "cases.deadlines";

    /// The deadlines of a level.
    pub fn for_level(&self, level: Level) -> Deadlines {
        match level {
            Level::MajorSensitive => self.major_sensitive,
            Level::Important => self.important,
            Level::Ordinary => self.ordinary,
        }
    }

    /// Every problem at once (like `yuqing check-config`): each deadline longer than zero
    /// and at most a year; a case assessed no later than it is answered; and a more
    /// serious level never given more time than a less serious one.
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let key = |level: Level, field: &str| format!("{}.{}.{field}", Self::KEY, level.id());
        for &level in Level::ALL {
            let d = self.for_level(level);
            for (field, value) in [("assess_within", d.assess_within), ("answer_within", d.answer_within)] {
                if value.is_zero() {
                    problems.push(Problem { key: key(level, field), message: "must be longer than zero".to_owned() });
                } else if value > MAX_DEADLINE {
                    problems.push(Problem {
                        key: key(level, field),
                        message: format!("`{}` is longer than the limit of 366 days", fmt_duration(value)),
                    });
                }
            }
            if d.assess_within > d.answer_within {
                problems.push(Problem {
                    key: key(level, "assess_within"),
                    message: format!(
                        "`{}` is longer than answer_within `{}`: a case must be assessed before it is answered",
                        fmt_duration(d.assess_within),
                        fmt_duration(d.answer_within)
                    ),
                });
            }
        }
        // Level::ALL runs from the least to the most serious.
        for pair in Level::ALL.windows(2) {
            let (lower, higher) = (pair[0], pair[1]);
            let (l, h) = (self.for_level(lower), self.for_level(higher));
            for (field, lv, hv) in [
                ("assess_within", l.assess_within, h.assess_within),
                ("answer_within", l.answer_within, h.answer_within),
            ] {
                if hv > lv {
                    problems.push(Problem {
                        key: key(higher, field),
                        message: format!(
                            "`{}` is longer than the {} level's `{}`: a more serious level must not get more time",
                            fmt_duration(hv),
                            lower.id(),
                            fmt_duration(lv)
                        ),
                    });
                }
            }
        }
        problems
    }
}

fn fmt_duration(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

fn ser_duration<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&fmt_duration(*d))
}

/// The table as written: each key optional, filled from the level's default.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeadlineConfig {
    #[serde(default, rename = "major-sensitive")]
    major_sensitive: RawDeadlines,
    #[serde(default)]
    important: RawDeadlines,
    #[serde(default)]
    ordinary: RawDeadlines,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeadlines {
    #[serde(default, deserialize_with = "de_duration")]
    assess_within: Option<Duration>,
    #[serde(default, deserialize_with = "de_duration")]
    answer_within: Option<Duration>,
}

impl RawDeadlines {
    fn fill(self, level: Level) -> Deadlines {
        let d = Deadlines::default_for(level);
        Deadlines {
            assess_within: self.assess_within.unwrap_or(d.assess_within),
            answer_within: self.answer_within.unwrap_or(d.answer_within),
        }
    }
}

impl From<RawDeadlineConfig> for DeadlineConfig {
    fn from(raw: RawDeadlineConfig) -> Self {
        DeadlineConfig {
            major_sensitive: raw.major_sensitive.fill(Level::MajorSensitive),
            important: raw.important.fill(Level::Important),
            ordinary: raw.ordinary.fill(Level::Ordinary),
        }
    }
}

fn de_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let s = String::deserialize(d)?;
    humantime::parse_duration(&s)
        .map(Some)
        .map_err(|e| serde::de::Error::custom(format!("`{s}` is not a duration like \"30m\" or \"5h\" ({e})")))
}
