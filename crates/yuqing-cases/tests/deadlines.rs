//! Deadlines per level and their configuration.

mod common;

use common::t;
use std::time::Duration;
use yuqing_cases::{DeadlineConfig, Deadlines, Level};

const MIN: u64 = 60;
const HOUR: u64 = 3600;

fn d(assess: u64, answer: u64) -> Deadlines {
    Deadlines { assess_within: Duration::from_secs(assess), answer_within: Duration::from_secs(answer) }
}

fn parse(toml_text: &str) -> Result<DeadlineConfig, String> {
    toml::from_str(toml_text).map_err(|e| e.to_string())
}

#[test]
fn defaults_are_those_of_interfaces() {
    let c = DeadlineConfig::default();
    assert_eq!(c.for_level(Level::MajorSensitive), d(30 * MIN, 5 * HOUR));
    assert_eq!(c.for_level(Level::Important), d(2 * HOUR, 24 * HOUR));
    assert_eq!(c.for_level(Level::Ordinary), d(24 * HOUR, 48 * HOUR));
    assert_eq!(c.validate(), vec![]);
    // The dues from an opening time.
    let ms = c.for_level(Level::MajorSensitive);
    assert_eq!((ms.assess_due(t(0)), ms.answer_due(t(0))), (t(30), t(300)));
}

#[test]
fn an_empty_table_is_the_defaults_and_a_partial_one_keeps_the_rest() {
    assert_eq!(parse(""), Ok(DeadlineConfig::default()));
    let c = parse(
        r#"
        [major-sensitive]
        assess_within = "15m"
        [important]
        answer_within = "12h"
        [ordinary]
        assess_within = "1day"
        answer_within = "3days"
        "#,
    );
    let want = DeadlineConfig {
        major_sensitive: d(15 * MIN, 5 * HOUR),
        important: d(2 * HOUR, 12 * HOUR),
        ordinary: d(24 * HOUR, 72 * HOUR),
    };
    assert_eq!(c, Ok(want));
    assert_eq!(want.validate(), vec![]);
}

#[test]
fn it_reads_from_the_cases_table_of_the_configuration_file() {
    #[derive(serde::Deserialize)]
    struct Cases {
        deadlines: DeadlineConfig,
    }
    #[derive(serde::Deserialize)]
    struct File {
        cases: Cases,
    }
    let file: Result<File, _> = toml::from_str("[cases.deadlines.important]\nassess_within = \"1h\"\n");
    let c = file.map(|f| f.cases.deadlines).map_err(|e| e.to_string());
    assert_eq!(c.map(|c| c.important), Ok(d(HOUR, 24 * HOUR)));
}

#[test]
fn unknown_keys_and_bad_durations_are_errors() {
    for (text, needle) in [
        ("[urgent]\nassess_within = \"1h\"", "unknown field `urgent`"),
        ("[important]\nassess = \"1h\"", "unknown field `assess`"),
        ("[important]\nassess_within = \"soon\"", "is not a duration like"),
        ("[important]\nassess_within = 30", "invalid type"),
    ] {
        let err = parse(text).expect_err(text);
        assert!(err.contains(needle), "{text}: {err}");
    }
}

#[test]
fn validate_reports_every_problem_at_once() {
    let c = DeadlineConfig {
        major_sensitive: d(0, 5 * HOUR),    // zero
        important: d(30 * HOUR, 24 * HOUR), // assess after answer; more time than ordinary to assess
        ordinary: d(24 * HOUR, 63_115_200), // two (humantime) years
    };
    let problems: Vec<String> = c.validate().iter().map(ToString::to_string).collect();
    assert_eq!(
        problems,
        [
            "cases.deadlines.ordinary.answer_within: `2years` is longer than the limit of 366 days",
            "cases.deadlines.important.assess_within: `1day 6h` is longer than answer_within `1day`: a case must be assessed before it is answered",
            "cases.deadlines.major-sensitive.assess_within: must be longer than zero",
            "cases.deadlines.important.assess_within: `1day 6h` is longer than the ordinary level's `1day`: a more serious level must not get more time",
        ]
    );
}

#[test]
fn serializes_back_to_humantime_strings() {
    let v = serde_json::to_value(DeadlineConfig::default()).map_err(|e| e.to_string());
    assert_eq!(
        v,
        Ok(serde_json::json!({
            "major-sensitive": {"assess_within": "30m", "answer_within": "5h"},
            "important": {"assess_within": "2h", "answer_within": "1day"},
            "ordinary": {"assess_within": "1day", "answer_within": "2days"}
        }))
    );
    // And round-trips.
    let back: Result<DeadlineConfig, _> = serde_json::from_value(v.unwrap_or_default());
    assert_eq!(back.ok(), Some(DeadlineConfig::default()));
}

#[test]
fn huge_deadlines_saturate_instead_of_panicking() {
    let huge = d(u64::MAX, u64::MAX);
    assert_eq!(huge.assess_due(t(0)), chrono::DateTime::<chrono::Utc>::MAX_UTC);
    let c = DeadlineConfig { ordinary: huge, ..DeadlineConfig::default() };
    assert!(!c.validate().is_empty());
}
