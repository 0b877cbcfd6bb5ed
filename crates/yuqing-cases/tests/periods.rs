//! Sensitive periods and the escalation of unacknowledged alerts.

use chrono::{DateTime, Duration as TD, TimeZone, Utc};
use std::time::Duration;
use yuqing_cases::periods::{alert_escalation_key, MAX_PERIOD_DAYS};
use yuqing_cases::{escalate_unacknowledged, DutyError, Escalate, EscalationPolicy, Periods, SensitivePeriod};

/// 2026-09-30 16:00 UTC (10-01 00:00 in Beijing), plus `minutes`.
fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 9, 30, 16, 0, 0).single().unwrap_or(DateTime::<Utc>::MIN_UTC) + TD::minutes(minutes)
}

const H: i64 = 60;
const D: i64 = 24 * H;

fn period(from: i64, to: i64, reason: &str) -> SensitivePeriod {
    SensitivePeriod { from: t(from), to: t(to), reason: reason.to_owned() }
}

fn mins(m: u64) -> Duration {
    Duration::from_secs(m * 60)
}

#[test]
fn period_validation_reports_every_problem() {
    let long = "国".repeat(201);
    let cases: Vec<(&str, i64, i64, &str, Vec<DutyError>)> = vec![
        ("national day week", 0, 7 * D, "国庆假期", vec![]),
        ("the longest", 0, MAX_PERIOD_DAYS * D, "两会", vec![]),
        ("no reason", 0, D, " ", vec![DutyError::Empty { field: "reason" }]),
        ("long reason", 0, D, &long, vec![DutyError::TooLong { field: "reason", max: 200 }]),
        ("empty", D, D, "x", vec![DutyError::EndNotAfterStart { from: t(D), to: t(D) }]),
        ("too long", 0, MAX_PERIOD_DAYS * D + 1, "x", vec![DutyError::SpanTooLong { max_days: 92 }]),
        (
            "both",
            D,
            0,
            "",
            vec![DutyError::Empty { field: "reason" }, DutyError::EndNotAfterStart { from: t(D), to: t(0) }],
        ),
    ];
    for (name, from, to, reason, expected) in cases {
        match SensitivePeriod::new(t(from), t(to), reason) {
            Ok(p) => assert!(expected.is_empty(), "{name}: accepted {p:?}"),
            Err(problems) => assert_eq!(problems, expected, "{name}"),
        }
    }
    assert_eq!(DutyError::Empty { field: "reason" }.zh(), "原因不能为空");
    let p = SensitivePeriod::new(t(0), t(H), " 国庆 ").unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(p.reason, "国庆");
}

#[test]
fn active_period_from_inclusive_to_exclusive() {
    let periods = Periods::new(vec![
        period(3 * D, 5 * D, "县人代会"),
        period(0, 7 * D, "国庆假期"),
        period(D, 2 * D, "突发事件"),
        period(10 * D, 11 * D, "后来"),
    ]);
    let cases: [(i64, Option<&str>); 9] = [
        (-1, None),
        (0, Some("国庆假期")),
        // Overlapping: the one that ends last.
        (D, Some("国庆假期")),
        (3 * D, Some("国庆假期")),
        (7 * D - 1, Some("国庆假期")),
        (7 * D, None),
        (10 * D, Some("后来")),
        (11 * D - 1, Some("后来")),
        (11 * D, None),
    ];
    for (at, expected) in cases {
        assert_eq!(periods.active(t(at)).map(|p| p.reason.as_str()), expected, "at +{at}m");
        assert_eq!(periods.is_sensitive(t(at)), expected.is_some(), "at +{at}m");
    }
    // A short period that outlasts a long one that began first.
    let periods = Periods::new(vec![period(0, 2 * D, "长"), period(D, 3 * D, "后延")]);
    assert_eq!(periods.active(t(D + 1)).map(|p| p.reason.as_str()), Some("后延"));
}

#[test]
fn upcoming_period() {
    let periods = Periods::new(vec![period(2 * D, 3 * D, "第二"), period(0, D, "第一")]);
    let cases: [(i64, Option<&str>); 4] =
        [(-1, Some("第一")), (0, Some("第二")), (2 * D - 1, Some("第二")), (2 * D, None)];
    for (at, expected) in cases {
        assert_eq!(periods.upcoming(t(at)).map(|p| p.reason.as_str()), expected, "at +{at}m");
    }
    assert_eq!(periods.periods()[0].reason, "第一");
}

#[test]
fn escalation_timing_in_and_out_of_sensitive_periods() {
    let policy = EscalationPolicy::default();
    let e = |escalate, rounds, next_at: Option<i64>| Escalate { escalate, rounds, next_at: next_at.map(t) };
    // (name, sensitive, acked_at, now, expected); the alert is sent at t(0).
    let cases: Vec<(&str, bool, Option<i64>, i64, Escalate)> = vec![
        ("normal, just sent", false, None, 0, e(false, 0, Some(30))),
        ("normal, a minute before the deadline", false, None, 29, e(false, 0, Some(30))),
        ("normal, at the deadline: round 1", false, None, 30, e(true, 1, Some(60))),
        ("normal, still round 1", false, None, 59, e(true, 1, Some(60))),
        ("normal, round 2 (the leaders)", false, None, 60, e(true, 2, Some(90))),
        ("normal, hours later", false, None, 30 + 10 * 30 + 5, e(true, 11, Some(30 + 11 * 30))),
        ("sensitive, before the deadline", true, None, 9, e(false, 0, Some(10))),
        ("sensitive, at the deadline", true, None, 10, e(true, 1, Some(40))),
        ("sensitive, round 2", true, None, 40, e(true, 2, Some(70))),
        ("acknowledged in time", false, Some(5), 100, e(false, 0, None)),
        ("acknowledged exactly at the deadline is in time", false, Some(30), 100, e(false, 0, None)),
        ("acknowledged after round 1", false, Some(31), 100, e(false, 1, None)),
        ("acknowledged exactly at round 2 is in time for it", false, Some(60), 100, e(false, 1, None)),
        ("acknowledged after round 2", false, Some(61), 100, e(false, 2, None)),
        ("sensitive, acknowledged after round 1", true, Some(11), 100, e(false, 1, None)),
        ("an acknowledgement after now does not count yet", false, Some(50), 40, e(true, 1, Some(60))),
        ("now before the sending (clock skew)", false, None, -5, e(false, 0, Some(30))),
    ];
    for (name, sensitive, acked, now, expected) in cases {
        let got = escalate_unacknowledged(t(0), acked.map(t), t(now), &policy, sensitive);
        assert_eq!(got, expected, "{name}");
    }
}

#[test]
fn escalation_with_a_custom_policy_and_seconds() {
    let policy =
        EscalationPolicy { ack_within: mins(15), ack_within_sensitive: mins(5), repeat_every: Duration::from_secs(90) };
    assert_eq!(policy.ack_due(t(0), false), t(15));
    assert_eq!(policy.ack_due(t(0), true), t(5));
    let got = escalate_unacknowledged(t(0), None, t(5) + TD::seconds(90), &policy, true);
    assert_eq!(got, Escalate { escalate: true, rounds: 2, next_at: Some(t(8)) });
    assert_eq!(alert_escalation_key(42, 2), "alert-42-escalation-2");
}

fn parse(text: &str) -> Result<EscalationPolicy, String> {
    toml::from_str(text).map_err(|e| e.to_string())
}

#[test]
fn policy_from_toml() {
    assert_eq!(parse(""), Ok(EscalationPolicy::default()));
    assert_eq!(
        EscalationPolicy::default(),
        EscalationPolicy { ack_within: mins(30), ack_within_sensitive: mins(10), repeat_every: mins(30) }
    );
    assert_eq!(
        parse("ack_within = \"1h\"\nack_within_sensitive = \"5m\"\nrepeat_every = \"15m\""),
        Ok(EscalationPolicy { ack_within: mins(60), ack_within_sensitive: mins(5), repeat_every: mins(15) })
    );
    assert_eq!(
        parse("ack_within_sensitive = \"5m\""),
        Ok(EscalationPolicy { ack_within_sensitive: mins(5), ..Default::default() })
    );
    let unknown = parse("ack_within = \"1h\"\nrepeat = \"5m\"").err().unwrap_or_default();
    assert!(unknown.contains("unknown field `repeat`"), "{unknown}");
    let bad = parse("ack_within = \"半小时\"").err().unwrap_or_default();
    assert!(bad.contains("`半小时` is not a duration"), "{bad}");
    let not_a_string = parse("ack_within = 30").err().unwrap_or_default();
    assert!(!not_a_string.is_empty());
    // Serialized back as humantime strings.
    let json = serde_json::to_value(EscalationPolicy::default()).unwrap_or_default();
    assert_eq!(json["ack_within_sensitive"], "10m");
}

#[test]
fn policy_validation_reports_every_problem() {
    let p = |a: u64, s: u64, r: u64| EscalationPolicy {
        ack_within: Duration::from_secs(a),
        ack_within_sensitive: Duration::from_secs(s),
        repeat_every: Duration::from_secs(r),
    };
    let week = 7 * 24 * 3600;
    type Problems<'a> = Vec<(&'a str, &'a str)>;
    let cases: Vec<(&str, EscalationPolicy, Problems)> = vec![
        ("defaults", EscalationPolicy::default(), vec![]),
        ("equal is fine", p(600, 600, 60), vec![]),
        ("a week is the limit", p(week, 60, week), vec![]),
        ("zero", p(600, 0, 600), vec![("alerts.escalation.ack_within_sensitive", "must be longer than zero")]),
        (
            "too long",
            p(week + 1, 60, 600),
            vec![("alerts.escalation.ack_within", "`7days 1s` is longer than the limit of 7 days")],
        ),
        (
            "repeating too often",
            p(600, 300, 59),
            vec![(
                "alerts.escalation.repeat_every",
                "`59s` is shorter than a minute: escalating that often would flood the channels",
            )],
        ),
        (
            "slower in a sensitive period",
            p(600, 1200, 600),
            vec![(
                "alerts.escalation.ack_within_sensitive",
                "`20m` is longer than ack_within `10m`: alerts must escalate faster in a sensitive period, not slower",
            )],
        ),
        (
            "everything at once",
            p(0, 60, 0),
            vec![
                ("alerts.escalation.ack_within", "must be longer than zero"),
                ("alerts.escalation.repeat_every", "must be longer than zero"),
                (
                    "alerts.escalation.ack_within_sensitive",
                    "`1m` is longer than ack_within `0s`: alerts must escalate faster in a sensitive period, not slower",
                ),
            ],
        ),
    ];
    for (name, policy, expected) in cases {
        let got: Vec<(String, String)> = policy.validate().into_iter().map(|p| (p.key, p.message)).collect();
        let expected: Vec<(String, String)> = expected.into_iter().map(|(k, m)| (k.to_owned(), m.to_owned())).collect();
        assert_eq!(got, expected, "{name}");
    }
}

#[test]
fn periods_deserialize_sorted() {
    let json = serde_json::json!([
        {"from": "2026-10-08T00:00:00Z", "to": "2026-10-09T00:00:00Z", "reason": "后"},
        {"from": "2026-10-01T00:00:00Z", "to": "2026-10-08T00:00:00Z", "reason": "国庆"}
    ]);
    let periods: Periods = serde_json::from_value(json).unwrap_or_default();
    let reasons: Vec<&str> = periods.periods().iter().map(|p| p.reason.as_str()).collect();
    assert_eq!(reasons, ["国庆", "后"]);
}

#[test]
fn escalation_goes_to_the_next_person_on_the_roster_then_to_the_leaders() {
    use yuqing_cases::{escalates, escalation_target, EscalationTarget, Level, Roster, Shift};
    let shift = |user: &str, from: i64, to: i64| Shift { user: user.to_owned(), from: t(from), to: t(to), note: None };
    // 张三 on duty now with the leader 王局 (带班); 李四 next, then 赵六.
    let roster = Roster::new(vec![
        shift("张三", -H, 7 * H),
        shift("王局", -H, 7 * H),
        shift("李四", 7 * H, 15 * H),
        shift("赵六", 15 * H, 23 * H),
    ]);
    let leaders = vec!["刘书记".to_owned(), "王局".to_owned()];
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let target = |people: &[&str], leaders: bool| EscalationTarget { people: names(people), leaders };
    let alerted = names(&["张三", "王局"]);
    // (name, round, now, alerted, expected)
    let cases: Vec<(&str, u32, i64, Vec<String>, EscalationTarget)> = vec![
        ("round 1: the next shift's person", 1, 30, alerted.clone(), target(&["李四"], false)),
        ("round 1 when the next person was alerted too", 1, 30, names(&["张三", "李四"]), target(&["赵六"], false)),
        ("round 2: the leaders on duty", 2, 60, alerted.clone(), target(&["王局"], true)),
        ("round 5: still the leaders", 5, 200, alerted.clone(), target(&["王局"], true)),
        // At 16:00 王局 is off duty: every leader is called.
        ("round 2 with no leader on duty", 2, 16 * H, alerted.clone(), target(&["刘书记", "王局"], true)),
        // Everybody on the roster was alerted: round 1 goes to the leaders.
        ("round 1, nobody left", 1, 30, names(&["张三", "李四", "赵六"]), target(&["王局"], true)),
        // A shift more than a week ahead is no help now.
        ("round 1, empty roster", 1, 30, vec![], EscalationTarget { people: leaders.clone(), leaders: true }),
    ];
    for (name, round, now, alerted, expected) in cases {
        let r = if name.ends_with("empty roster") { Roster::default() } else { roster.clone() };
        assert_eq!(escalation_target(round, &r, t(now), &alerted, &leaders), expected, "{name}");
    }
    let far = Roster::new(vec![shift("远方", 8 * D, 8 * D + H)]);
    assert_eq!(escalation_target(1, &far, t(0), &[], &leaders).people, leaders, "a shift next week is too far");
    assert!(escalates(Level::Important) && escalates(Level::MajorSensitive) && !escalates(Level::Ordinary));
}
