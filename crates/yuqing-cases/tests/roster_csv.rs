//! Importing a roster from CSV, and the times people write in one.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use chrono_tz::Europe::Berlin;
use chrono_tz::Tz;
use yuqing_cases::duty::{local_to_utc, parse_time};
use yuqing_cases::{parse_roster_csv, CsvProblem, DutyError, Roster, Shift};

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn shift(user: &str, from: DateTime<Utc>, to: DateTime<Utc>, note: Option<&str>) -> Shift {
    Shift { user: user.to_owned(), from, to, note: note.map(str::to_owned) }
}

fn ok(text: &str, tz: Tz) -> Vec<Shift> {
    parse_roster_csv(text, tz).unwrap_or_else(|problems| panic!("{problems:#?}"))
}

fn problems(text: &str, tz: Tz) -> Vec<(usize, String)> {
    match parse_roster_csv(text, tz) {
        Ok(shifts) => panic!("accepted {shifts:#?}"),
        Err(problems) => problems.into_iter().map(|p| (p.line, p.message)).collect(),
    }
}

#[test]
fn times_in_every_accepted_form() {
    // Beijing is UTC+8 all year.
    let cases = [
        ("2026-11-29 08:00", utc(2026, 11, 29, 0, 0)),
        ("2026/11/29 8:00", utc(2026, 11, 29, 0, 0)),
        ("2026/1/5 8:05", utc(2026, 1, 5, 0, 5)),
        ("2026.11.29 20:30", utc(2026, 11, 29, 12, 30)),
        ("2026-11-29T08:00", utc(2026, 11, 29, 0, 0)),
        ("2026-11-29 08:00:30", utc(2026, 11, 29, 0, 0) + chrono::Duration::seconds(30)),
        ("  2026-11-29   08:00  ", utc(2026, 11, 29, 0, 0)),
        ("2026年11月29日 8:00", utc(2026, 11, 29, 0, 0)),
        ("2026年11月29日8：00", utc(2026, 11, 29, 0, 0)),
        ("2026-11-29 24:00", utc(2026, 11, 29, 16, 0)),
        ("2026-11-29T08:00:00+08:00", utc(2026, 11, 29, 0, 0)),
        ("2026-11-29T00:00:00Z", utc(2026, 11, 29, 0, 0)),
        ("2026-11-29T08:00:00.000+08:00", utc(2026, 11, 29, 0, 0)),
        ("2026-11-29 08:00:00+08:00", utc(2026, 11, 29, 0, 0)),
        // An explicit offset wins over the zone.
        ("2026-11-29 08:00+01:00", utc(2026, 11, 29, 7, 0)),
        ("2026-11-29 08:00 +0100", utc(2026, 11, 29, 7, 0)),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_time(text, Shanghai), Ok(expected), "{text}");
    }
}

#[test]
fn times_that_are_refused() {
    let not = |t: &str| Err(DutyError::NotATime { text: t.trim().to_owned() });
    let no_such = |t: &str| Err(DutyError::NoSuchTime { text: t.to_owned() });
    let cases = [
        ("", not("")),
        ("明天早上", not("明天早上")),
        ("2026-11-29", not("2026-11-29")),
        ("11/29/2026 8:00", not("11/29/2026 8:00")),
        ("2026-11/29 8:00", not("2026-11/29 8:00")),
        ("2026-11-29 8", not("2026-11-29 8")),
        ("2026-11-29 08:00 早", not("2026-11-29 08:00 早")),
        ("2026-11-29 08:00+25:00", not("2026-11-29 08:00+25:00")),
        ("2026-02-30 08:00", no_such("2026-02-30 08:00")),
        ("2026-11-29 25:00", no_such("2026-11-29 25:00")),
        ("2026-11-29 08:60", no_such("2026-11-29 08:60")),
        ("2026-11-29 24:01", no_such("2026-11-29 24:01")),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_time(text, Shanghai), expected, "{text}");
    }
}

#[test]
fn local_times_across_dst_in_berlin() {
    let naive = |d: u32, mo: u32, h: u32, mi: u32| {
        NaiveDate::from_ymd_opt(2026, mo, d).and_then(|d| d.and_hms_opt(h, mi, 0)).unwrap_or_default()
    };
    let cases = [
        ("winter, UTC+1", naive(15, 1, 8, 0), utc(2026, 1, 15, 7, 0)),
        ("summer, UTC+2", naive(15, 7, 8, 0), utc(2026, 7, 15, 6, 0)),
        // 29 March 2026: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
        ("just before the gap", naive(29, 3, 1, 59), utc(2026, 3, 29, 0, 59)),
        ("in the gap: the moment the clocks jump", naive(29, 3, 2, 30), utc(2026, 3, 29, 1, 0)),
        ("the start of the gap", naive(29, 3, 2, 0), utc(2026, 3, 29, 1, 0)),
        ("just after the gap", naive(29, 3, 3, 0), utc(2026, 3, 29, 1, 0)),
        // 25 October 2026: 03:00 CEST goes back to 02:00 CET; 02:30 happens twice.
        ("the repeated hour: the first time", naive(25, 10, 2, 30), utc(2026, 10, 25, 0, 30)),
        ("after the repeated hour", naive(25, 10, 3, 0), utc(2026, 10, 25, 2, 0)),
    ];
    for (name, local, expected) in cases {
        assert_eq!(local_to_utc(local, Berlin), expected, "{name}");
    }
}

#[test]
fn chinese_header_with_bom_and_crlf() {
    let text = "\u{feff}姓名,开始,结束,备注\r\n李四,2026-11-29 08:00,2026-11-29 20:00,带班\r\n王五,2026/11/29 20:00,2026/11/30 8:00,\r\n";
    assert_eq!(
        ok(text, Shanghai),
        vec![
            shift("李四", utc(2026, 11, 29, 0, 0), utc(2026, 11, 29, 12, 0), Some("带班")),
            shift("王五", utc(2026, 11, 29, 12, 0), utc(2026, 11, 30, 0, 0), None),
        ]
    );
}

#[test]
fn english_header_in_another_order_without_a_note_column() {
    let text = "From,To,User\n2026-11-29T08:00:00+08:00,2026-11-29T20:00:00+08:00,li4\n";
    assert_eq!(ok(text, Shanghai), vec![shift("li4", utc(2026, 11, 29, 0, 0), utc(2026, 11, 29, 12, 0), None)]);
}

#[test]
fn header_aliases_and_no_header() {
    let expected = vec![shift("李四", utc(2026, 11, 29, 0, 0), utc(2026, 11, 29, 12, 0), Some("值班电话 8001"))];
    for text in [
        "值班人员,开始时间,结束时间,备注\n李四,2026-11-29 08:00,2026-11-29 20:00,值班电话 8001\n",
        "name,start,end,remark\n李四,2026-11-29 08:00,2026-11-29 20:00,值班电话 8001\n",
        // No header: the columns are user, from, to, note.
        "李四,2026-11-29 08:00,2026-11-29 20:00,值班电话 8001\n",
        // Blank lines and a missing final newline.
        "\n姓名,开始,结束,备注\n\n , , \n李四,2026-11-29 08:00,2026-11-29 20:00,值班电话 8001",
    ] {
        assert_eq!(ok(text, Shanghai), expected, "{text}");
    }
}

#[test]
fn quoted_fields_with_commas_quotes_and_line_breaks() {
    let text = concat!(
        "user,from,to,note\n",
        "\"李四\",\"2026-11-29 08:00\",2026-11-29 20:00,\"带班, 电话 8001\"\n",
        "王五,2026-11-29 20:00,2026-11-30 08:00, \"他说\"\"夜班\"\"\"\n",
        "赵六,2026-11-30 08:00,2026-11-30 20:00,\"两行\r\n备注\"\n",
        "钱七,2026-11-30 20:00,bad,\n",
    );
    // The line breaks inside the quoted note count: 钱七's row is line 6.
    assert_eq!(problems(text, Shanghai)[0].0, 6);
    let text = text.replace("bad", "2026-12-01 08:00");
    let notes: Vec<Option<String>> = ok(&text, Shanghai).into_iter().map(|s| s.note).collect();
    assert_eq!(
        notes,
        [Some("带班, 电话 8001".to_owned()), Some("他说\"夜班\"".to_owned()), Some("两行\n备注".to_owned()), None]
    );
}

#[test]
fn every_problem_at_once_with_its_line() {
    let long_user = "名".repeat(65);
    let text = format!(
        "姓名,开始,结束,备注\n\
         李四,2026-11-29 08:00,2026-11-29 20:00,\n\
         ,2026-11-29 08:00,2026-11-29 20:00,\n\
         王五,明早八点,2026-11-30 25:00,\n\
         赵六,2026-11-30 20:00,2026-11-30 08:00,\n\
         钱七,2026-11-01 08:00,2026-11-30 08:00,\n\
         {long_user},2026-11-29 08:00,,\n\
         孙八,2026-11-29 08:00,2026-11-29 20:00,备注,多余\n\
         李四,2026-11-29 08:00,2026-11-29 20:00,又一次\n\
         周九,\"2026-11-29 08:00\"x,2026-11-29 20:00\n"
    );
    let got = problems(&text, Shanghai);
    let expected: Vec<(usize, String)> = vec![
        (3, "`user` must not be empty".into()),
        (
            4,
            "from: `明早八点` is not a time like 2026-11-29 08:00, 2026/11/29 8:00 or 2026-11-29T08:00:00+08:00"
                .into(),
        ),
        (4, "to: `2026-11-30 25:00`: there is no such date or time of day".into()),
        (5, "the end `2026-11-30T00:00:00+00:00` is not after the start `2026-11-30T12:00:00+00:00`".into()),
        (6, "longer than the limit of 7 days".into()),
        (7, "`user` is longer than 64 characters".into()),
        (7, "`to` must not be empty".into()),
        (8, "5 fields, but there are 4 columns".into()),
        (9, "the same shift as line 2".into()),
        (10, "text after the closing quote of a field (write a quote inside a quoted field as \"\")".into()),
        (10, "from: `2026-11-29 08:00x` is not a time like 2026-11-29 08:00, 2026/11/29 8:00 or 2026-11-29T08:00:00+08:00".into()),
    ];
    assert_eq!(got, expected);
}

#[test]
fn problems_have_chinese_messages() {
    let Err(problems) = parse_roster_csv("姓名,开始,结束\n李四,明早,2026-11-29 20:00\n", Shanghai) else {
        panic!("accepted a bad time");
    };
    assert_eq!(
        problems,
        vec![CsvProblem {
            line: 2,
            message: "from: `明早` is not a time like 2026-11-29 08:00, 2026/11/29 8:00 or 2026-11-29T08:00:00+08:00"
                .into(),
            message_zh:
                "开始：“明早”不是有效时间，应形如 2026-11-29 08:00、2026/11/29 8:00 或 2026-11-29T08:00:00+08:00".into(),
        }]
    );
    assert_eq!(problems[0].to_string(), format!("line 2: {}", problems[0].message));
}

#[test]
fn header_problems() {
    let cases: [(&str, Vec<(usize, &str)>); 3] = [
        (
            // The rows are still read past an unknown column (this one is valid).
            "姓名,开始,电话,结束\n李四,2026-11-29 08:00,8001,2026-11-29 20:00\n",
            vec![(1, "unknown column `电话`: the columns are `姓名,开始,结束,备注` or `user,from,to,note`")],
        ),
        (
            "姓名,开始,开始时间,结束\n",
            vec![(1, "the column `开始时间` is given twice")],
        ),
        (
            "姓名,备注\n李四,x\n",
            vec![
                (1, "the header has no `from` column (开始): the columns are `姓名,开始,结束,备注` or `user,from,to,note`"),
                (1, "the header has no `to` column (结束): the columns are `姓名,开始,结束,备注` or `user,from,to,note`"),
            ],
        ),
    ];
    for (text, expected) in cases {
        let expected: Vec<(usize, String)> = expected.into_iter().map(|(l, m)| (l, m.to_owned())).collect();
        assert_eq!(problems(text, Shanghai), expected, "{text}");
    }
}

#[test]
fn a_first_row_that_is_neither_header_nor_shift_gets_a_hint() {
    let got = problems("值班员,起,止\n李四,2026-11-29 08:00,2026-11-29 20:00\n", Shanghai);
    assert_eq!(got.len(), 2, "{got:#?}");
    assert!(got[0].1.contains("the first line was read as a shift"), "{got:#?}");
    assert_eq!(got[0].0, 1);
}

#[test]
fn unclosed_quote_empty_files_and_header_only() {
    assert_eq!(
        problems("姓名,开始,结束\n李四,\"2026-11-29 08:00,2026-11-29 20:00\n王五,x,y\n", Shanghai),
        vec![(2, "a quoted field is not closed: the rest of the file was read as one field".to_owned())]
    );
    for text in ["", "\u{feff}", "\r\n\r\n", "姓名,开始,结束,备注\r\n"] {
        assert_eq!(problems(text, Shanghai), vec![(1, "the file has no shifts".to_owned())], "{text:?}");
    }
}

#[test]
fn a_night_shift_across_dst_in_berlin_is_as_long_as_the_clock_says() {
    let text = "user,from,to\n\
                spring,2026-03-28 22:00,2026-03-29 06:00\n\
                autumn,2026-10-24 22:00,2026-10-25 06:00\n\
                gap-a,2026-03-29 00:00,2026-03-29 02:30\n\
                gap-b,2026-03-29 02:30,2026-03-29 05:00\n\
                twice-a,2026-10-25 00:00,2026-10-25 02:30\n\
                twice-b,2026-10-25 02:30,2026-10-25 05:00\n";
    let shifts = ok(text, Berlin);
    let hours: Vec<(&str, i64)> = shifts.iter().map(|s| (s.user.as_str(), (s.to - s.from).num_minutes())).collect();
    assert_eq!(
        hours,
        [
            ("spring", 7 * 60), // an hour is skipped
            ("autumn", 9 * 60), // an hour is repeated
            ("gap-a", 2 * 60),  // 00:00 CET to the jump at 03:00 CEST
            ("gap-b", 2 * 60),  // from the jump to 05:00 CEST
            ("twice-a", 150),   // to the first 02:30 (CEST)
            ("twice-b", 210),   // from the first 02:30 to 05:00 CET
        ]
    );
    // Shifts that meet at a local time the clocks skip or repeat still meet.
    for (pair, from, to) in [
        (&shifts[2..4], utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 3, 0)),
        (&shifts[4..6], utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 4, 0)),
    ] {
        let roster = Roster::new(pair.to_vec());
        assert_eq!(roster.gaps(from, to), vec![], "{from}..{to}");
        assert!(roster.overlapping(&roster.shifts()[0]).is_empty(), "{pair:?}");
    }
}

#[test]
fn the_same_night_shift_in_shanghai() {
    let shifts = ok("姓名,开始,结束\n李四,2026-03-28 22:00,2026-03-29 06:00\n", Shanghai);
    assert_eq!(shifts, vec![shift("李四", utc(2026, 3, 28, 14, 0), utc(2026, 3, 28, 22, 0), None)]);
}
