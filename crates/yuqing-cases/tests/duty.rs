//! The duty roster: shifts, who is on duty, gaps, overlaps, and who an alert goes to.

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use yuqing_cases::duty::{in_quiet_hours, MAX_SHIFT_NOTE_CHARS, MAX_USER_CHARS};
use yuqing_cases::{alert_targets, DutyError, Hold, Periods, Roster, SensitivePeriod, Shift};

/// A Beijing wall-clock time on a day of November 2026, as UTC.
fn bj(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Shanghai.with_ymd_and_hms(2026, 11, day, hour, minute, 0).single().map_or(DateTime::<Utc>::MIN_UTC, |t| t.to_utc())
}

fn shift(user: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Shift {
    Shift { user: user.to_owned(), from, to, note: None }
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

#[test]
fn shift_validation_reports_every_problem() {
    let long_user = "张".repeat(MAX_USER_CHARS + 1);
    let max_user = "张".repeat(MAX_USER_CHARS);
    let long_note = "x".repeat(MAX_SHIFT_NOTE_CHARS + 1);
    let (from, to) = (bj(29, 8, 0), bj(29, 20, 0));
    // (name, user, from, to, note, problems)
    type Case<'a> = (&'a str, &'a str, DateTime<Utc>, DateTime<Utc>, Option<&'a str>, Vec<DutyError>);
    let cases: Vec<Case> = vec![
        ("ordinary", "李四", from, to, None, vec![]),
        ("64 Chinese characters is the limit", &max_user, from, to, None, vec![]),
        ("exactly 7 days", "李四", from, bj(29, 8, 0) + chrono::Duration::days(7), None, vec![]),
        ("empty user", "", from, to, None, vec![DutyError::Empty { field: "user" }]),
        ("whitespace user", "  \t", from, to, None, vec![DutyError::Empty { field: "user" }]),
        ("65 characters", &long_user, from, to, None, vec![DutyError::TooLong { field: "user", max: 64 }]),
        ("long note", "李四", from, to, Some(&long_note), vec![DutyError::TooLong { field: "note", max: 500 }]),
        ("empty span", "李四", from, from, None, vec![DutyError::EndNotAfterStart { from, to: from }]),
        ("reversed", "李四", to, from, None, vec![DutyError::EndNotAfterStart { from: to, to: from }]),
        (
            "7 days and a minute",
            "李四",
            from,
            from + chrono::Duration::days(7) + chrono::Duration::minutes(1),
            None,
            vec![DutyError::SpanTooLong { max_days: 7 }],
        ),
        (
            "everything at once",
            "",
            to,
            from,
            Some(&long_note),
            vec![
                DutyError::Empty { field: "user" },
                DutyError::TooLong { field: "note", max: 500 },
                DutyError::EndNotAfterStart { from: to, to: from },
            ],
        ),
    ];
    for (name, user, from, to, note, expected) in cases {
        let got = Shift::new(user, from, to, note);
        match got {
            Ok(s) => assert!(expected.is_empty(), "{name}: accepted {s:?}, expected {expected:?}"),
            Err(problems) => assert_eq!(problems, expected, "{name}"),
        }
    }
}

#[test]
fn shift_new_trims_user_and_drops_an_empty_note() {
    let s = Shift::new(" 李四 ", bj(29, 8, 0), bj(29, 20, 0), Some("  ")).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!((s.user.as_str(), s.note), ("李四", None));
    let s = Shift::new("李四", bj(29, 8, 0), bj(29, 20, 0), Some(" 带班 ")).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(s.note.as_deref(), Some("带班"));
}

#[test]
fn duty_errors_have_chinese_messages() {
    assert_eq!(DutyError::Empty { field: "user" }.zh(), "值班人员不能为空");
    assert_eq!(DutyError::TooLong { field: "note", max: 500 }.zh(), "备注超过 500 个字符");
    assert_eq!(DutyError::SpanTooLong { max_days: 7 }.zh(), "时长超过 7 天");
    assert_eq!(DutyError::Empty { field: "user" }.to_string(), "`user` must not be empty");
}

/// Day shift 08–20 (A), night shift 20–08 (B), a lunch cover 12–14 (C) on the 29th.
fn day_roster() -> Roster {
    Roster::new(vec![
        shift("夜班乙", bj(29, 20, 0), bj(30, 8, 0)),
        shift("午间丙", bj(29, 12, 0), bj(29, 14, 0)),
        shift("白班甲", bj(29, 8, 0), bj(29, 20, 0)),
    ])
}

fn users(shifts: Vec<&Shift>) -> Vec<&str> {
    shifts.into_iter().map(|s| s.user.as_str()).collect()
}

#[test]
fn on_duty_from_inclusive_to_exclusive() {
    let roster = day_roster();
    let cases: [(DateTime<Utc>, &[&str]); 11] = [
        (bj(29, 7, 59), &[]),
        (bj(29, 8, 0), &["白班甲"]),
        (bj(29, 11, 59), &["白班甲"]),
        (bj(29, 12, 0), &["白班甲", "午间丙"]),
        (bj(29, 13, 59), &["白班甲", "午间丙"]),
        (bj(29, 14, 0), &["白班甲"]),
        (bj(29, 19, 59), &["白班甲"]),
        (bj(29, 20, 0), &["夜班乙"]),
        (bj(30, 0, 0), &["夜班乙"]),
        (bj(30, 7, 59), &["夜班乙"]),
        (bj(30, 8, 0), &[]),
    ];
    for (now, expected) in cases {
        assert_eq!(users(roster.on_duty(now)), expected, "at {now}");
    }
}

#[test]
fn users_on_duty_names_each_person_once() {
    // The same person entered twice over the same hours (e.g. imported twice with notes).
    let roster = Roster::new(vec![
        shift("李四", bj(29, 8, 0), bj(29, 20, 0)),
        shift("李四", bj(29, 10, 0), bj(29, 12, 0)),
        shift("王五", bj(29, 9, 0), bj(29, 11, 0)),
    ]);
    assert_eq!(roster.users_on_duty(bj(29, 10, 30)), vec!["李四".to_owned(), "王五".to_owned()]);
    assert_eq!(roster.on_duty(bj(29, 10, 30)).len(), 3);
}

#[test]
fn next_shift_is_the_first_to_start_after_now() {
    let roster = day_roster();
    let cases: [(DateTime<Utc>, Option<&str>); 6] = [
        (bj(28, 0, 0), Some("白班甲")),
        (bj(29, 7, 59), Some("白班甲")),
        // A shift starting now is on duty, not next.
        (bj(29, 8, 0), Some("午间丙")),
        (bj(29, 12, 0), Some("夜班乙")),
        (bj(29, 20, 0), None),
        (bj(30, 9, 0), None),
    ];
    for (now, expected) in cases {
        assert_eq!(roster.next_shift(now).map(|s| s.user.as_str()), expected, "at {now}");
    }
}

#[test]
fn gaps_are_the_uncovered_intervals_of_the_window() {
    let roster = Roster::new(vec![
        shift("甲", bj(29, 8, 0), bj(29, 12, 0)),
        shift("乙", bj(29, 10, 0), bj(29, 11, 0)), // inside 甲's shift
        shift("丙", bj(29, 12, 0), bj(29, 14, 0)), // meets 甲's end: no gap
        shift("丁", bj(29, 16, 0), bj(29, 18, 0)),
        shift("戊", bj(29, 17, 0), bj(29, 20, 0)), // overlaps 丁
    ]);
    type Gaps = Vec<(DateTime<Utc>, DateTime<Utc>)>;
    let cases: Vec<(&str, DateTime<Utc>, DateTime<Utc>, Gaps)> = vec![
        (
            "the whole day",
            bj(29, 0, 0),
            bj(30, 0, 0),
            vec![(bj(29, 0, 0), bj(29, 8, 0)), (bj(29, 14, 0), bj(29, 16, 0)), (bj(29, 20, 0), bj(30, 0, 0))],
        ),
        ("covered window", bj(29, 8, 0), bj(29, 14, 0), vec![]),
        ("inside a gap", bj(29, 14, 30), bj(29, 15, 0), vec![(bj(29, 14, 30), bj(29, 15, 0))]),
        ("window starts inside a shift", bj(29, 13, 0), bj(29, 17, 0), vec![(bj(29, 14, 0), bj(29, 16, 0))]),
        ("window ends inside a shift", bj(29, 7, 0), bj(29, 9, 0), vec![(bj(29, 7, 0), bj(29, 8, 0))]),
        ("window ends where a shift starts", bj(29, 14, 0), bj(29, 16, 0), vec![(bj(29, 14, 0), bj(29, 16, 0))]),
        ("empty window", bj(29, 9, 0), bj(29, 9, 0), vec![]),
        ("reversed window", bj(29, 20, 0), bj(29, 9, 0), vec![]),
        ("before every shift", bj(28, 0, 0), bj(28, 6, 0), vec![(bj(28, 0, 0), bj(28, 6, 0))]),
    ];
    for (name, from, to, expected) in cases {
        assert_eq!(roster.gaps(from, to), expected, "{name}");
    }
    assert_eq!(Roster::default().gaps(bj(29, 0, 0), bj(29, 1, 0)), vec![(bj(29, 0, 0), bj(29, 1, 0))]);
}

#[test]
fn an_invalid_shift_in_a_roster_covers_nothing() {
    // Fields are public: a reversed shift may reach a roster without `Shift::new`.
    let roster = Roster::new(vec![shift("倒置", bj(29, 12, 0), bj(29, 8, 0))]);
    assert!(roster.on_duty(bj(29, 10, 0)).is_empty());
    assert_eq!(roster.gaps(bj(29, 7, 0), bj(29, 13, 0)), vec![(bj(29, 7, 0), bj(29, 13, 0))]);
    assert_eq!(roster.next_shift(bj(29, 0, 0)), None);
    assert!(roster.overlapping(&shift("x", bj(29, 7, 0), bj(29, 13, 0))).is_empty());
}

#[test]
fn overlapping_shifts() {
    let roster = day_roster();
    let cases: [(&str, Shift, &[&str]); 6] = [
        ("meets the day shift's end and the night's start: none", shift("x", bj(29, 20, 0), bj(29, 20, 0)), &[]),
        ("touches at both ends only", shift("x", bj(29, 6, 0), bj(29, 8, 0)), &[]),
        ("inside the day shift", shift("x", bj(29, 9, 0), bj(29, 10, 0)), &["白班甲"]),
        ("over lunch", shift("x", bj(29, 11, 0), bj(29, 13, 0)), &["白班甲", "午间丙"]),
        ("a minute over the change", shift("x", bj(29, 19, 59), bj(29, 20, 1)), &["白班甲", "夜班乙"]),
        ("covering everything", shift("x", bj(28, 0, 0), bj(30, 12, 0)), &["白班甲", "午间丙", "夜班乙"]),
    ];
    for (name, s, expected) in cases {
        assert_eq!(users(roster.overlapping(&s)), expected, "{name}");
    }
    // A shift of the roster does not overlap itself, but an equal copy of it does.
    let own = &roster.shifts()[1];
    assert_eq!(users(roster.overlapping(own)), ["白班甲"]);
    let copy = own.clone();
    assert_eq!(users(roster.overlapping(&copy)), ["白班甲", "午间丙"]);
}

#[test]
fn roster_stays_sorted_through_insert_and_serde() {
    let mut roster = day_roster();
    roster.insert(shift("早班", bj(29, 6, 0), bj(29, 8, 0)));
    roster.insert(shift("午间丙", bj(29, 12, 0), bj(29, 14, 0)));
    let order: Vec<&str> = roster.shifts().iter().map(|s| s.user.as_str()).collect();
    assert_eq!(order, ["早班", "白班甲", "午间丙", "午间丙", "夜班乙"]);
    assert_eq!(roster.len(), 5);

    let json = serde_json::json!([
        {"user": "乙", "from": "2026-11-29T12:00:00Z", "to": "2026-11-29T13:00:00Z", "note": null},
        {"user": "甲", "from": "2026-11-29T08:00:00Z", "to": "2026-11-29T09:00:00Z", "note": "带班"}
    ]);
    let roster: Roster = serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(roster.shifts()[0].user, "甲");
    let back = serde_json::to_value(&roster).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back[1]["user"], "乙");
}

#[test]
fn quiet_hours_may_run_over_midnight() {
    let night = (hm(22, 0), hm(7, 0));
    let noon = (hm(12, 0), hm(14, 0));
    let none = (hm(0, 0), hm(0, 0));
    let cases = [
        (night, hm(21, 59), false),
        (night, hm(22, 0), true),
        (night, hm(0, 0), true),
        (night, hm(6, 59), true),
        (night, hm(7, 0), false),
        (noon, hm(11, 59), false),
        (noon, hm(12, 0), true),
        (noon, hm(14, 0), false),
        (none, hm(0, 0), false),
        (none, hm(12, 0), false),
    ];
    for (quiet, t, expected) in cases {
        assert_eq!(in_quiet_hours(t, quiet), expected, "{t} in {quiet:?}");
    }
}

#[test]
fn alert_targets_hold_during_quiet_hours_only_when_nobody_watches() {
    let quiet = Some((hm(22, 0), hm(7, 0)));
    let evening = shift("晚班", bj(29, 18, 0), bj(29, 23, 0));
    let early = shift("早班", bj(30, 6, 0), bj(30, 12, 0));
    let late = shift("白班", bj(30, 9, 0), bj(30, 17, 0));
    let both = Roster::new(vec![evening.clone(), early.clone()]);
    let late_only = Roster::new(vec![evening.clone(), late]);
    let national_day =
        Periods::new(vec![SensitivePeriod { from: bj(29, 0, 0), to: bj(30, 0, 0), reason: "敏感节点".to_owned() }]);
    let from_3am =
        Periods::new(vec![SensitivePeriod {
            from: bj(30, 3, 0), to: bj(30, 23, 0), reason: "县人代会".to_owned()
        }]);
    let none = Periods::default();
    let empty = Roster::default();
    let names = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();

    type Quiet = Option<(NaiveTime, NaiveTime)>;
    // (name, roster, periods, now, quiet hours, on duty, round the clock, hold)
    type Case<'a> = (&'a str, &'a Roster, &'a Periods, DateTime<Utc>, Quiet, Vec<String>, bool, Option<Hold>);
    let cases: Vec<Case> = vec![
        ("daytime, nobody on duty: send now", &both, &none, bj(29, 15, 0), quiet, vec![], false, None),
        ("quiet hours, someone on duty: send now", &both, &none, bj(29, 22, 30), quiet, names(&["晚班"]), false, None),
        (
            "quiet hours, nobody: held for the early shift",
            &both,
            &none,
            bj(30, 1, 0),
            quiet,
            vec![],
            false,
            Some(Hold { until: bj(30, 6, 0), shift: Some(early.clone()) }),
        ),
        (
            "the shift that ends the evening leaves the rest of the night quiet",
            &both,
            &none,
            bj(29, 23, 0),
            quiet,
            vec![],
            false,
            Some(Hold { until: bj(30, 6, 0), shift: Some(early.clone()) }),
        ),
        (
            "next shift after the quiet hours: held until they end",
            &late_only,
            &none,
            bj(30, 1, 0),
            quiet,
            vec![],
            false,
            Some(Hold { until: bj(30, 7, 0), shift: None }),
        ),
        (
            "no roster at all: held until the quiet hours end",
            &empty,
            &none,
            bj(29, 22, 0),
            quiet,
            vec![],
            false,
            Some(Hold { until: bj(30, 7, 0), shift: None }),
        ),
        ("the quiet hours end at 07:00", &late_only, &none, bj(30, 7, 0), quiet, vec![], false, None),
        ("sensitive period: always out", &empty, &national_day, bj(29, 23, 30), quiet, vec![], true, None),
        (
            "a sensitive period starting in the night ends the hold",
            &late_only,
            &from_3am,
            bj(30, 1, 0),
            quiet,
            vec![],
            false,
            Some(Hold { until: bj(30, 3, 0), shift: None }),
        ),
        ("no quiet hours configured: never held", &empty, &none, bj(30, 3, 0), None, vec![], false, None),
    ];
    for (name, roster, periods, now, quiet, on_duty, round_the_clock, hold) in cases {
        let t = alert_targets(roster, periods, now, quiet, Shanghai);
        assert_eq!((t.on_duty, t.round_the_clock, t.hold), (on_duty, round_the_clock, hold), "{name}");
    }
}

#[test]
fn quiet_hours_are_read_in_the_zone() {
    // 23:00 in Berlin (winter, UTC+1) is 22:00 UTC and 06:00 the next day in Beijing.
    let now = Utc.with_ymd_and_hms(2026, 11, 29, 22, 0, 0).single().unwrap_or(DateTime::<Utc>::MIN_UTC);
    let quiet = Some((hm(22, 0), hm(7, 0)));
    let berlin = alert_targets(&Roster::default(), &Periods::default(), now, quiet, chrono_tz::Europe::Berlin);
    let end = Utc.with_ymd_and_hms(2026, 11, 30, 6, 0, 0).single();
    assert_eq!(berlin.hold.map(|h| h.until), end);
    let beijing = alert_targets(&Roster::default(), &Periods::default(), now, quiet, Shanghai);
    assert_eq!(beijing.hold.map(|h| h.until), Some(bj(30, 7, 0)));
}
