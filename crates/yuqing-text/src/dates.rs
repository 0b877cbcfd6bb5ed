//! Dates and times as Chinese pages write them. Every form is matched by a regex
//! compiled once; a candidate is accepted only if it is a real calendar date between
//! 1995 (before which there were no Chinese news sites to speak of) and a day after
//! `now` (a day of slack for clocks and zones).

use std::sync::LazyLock;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use regex::{Captures, Regex};

const MIN_YEAR: i32 = 1995;

/// Year, month, day (年月日 or - / . separators; Xinhua's split "2026 11/21" too),
/// an optional weekday, an optional time (: or 时分秒) and an optional explicit offset.
static FULL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?P<y>(?:19|20)\d{2})\s*(?:年\s*|[-/.]\s*|\s)(?P<m>\d{1,2})\s*(?:月\s*|[-/.]\s*)(?P<d>\d{1,2})(?:\s*日)?",
        r"(?:\s*(?:星期|周|礼拜)[一二三四五六日天])?",
        r"(?:(?:\s*T\s*|\s+|[-_]|\s*[,，]\s*)?(?P<ap>上午|下午|晚上|凌晨|中午)?\s*(?P<hh>\d{1,2})\s*[:：时]\s*(?P<mi>\d{1,2})(?:\s*[:：分]\s*(?P<ss>\d{1,2})(?:[.,]\d+)?(?:\s*秒)?)?(?:\s*分)?",
        r"(?:\s*(?P<z>Z|[+-]\d{2}:?\d{2}|(?:GMT|UTC)\s*[+-]\s*\d{1,2}(?::?\d{2})?)(?:\b|$))?)?",
    ))
    .unwrap_or_else(|e| panic!("FULL date regex is a constant and must compile: {e}"))
});

/// "11月21日 14:05" or "11-21 14:05" (forums): no year.
static MONTH_DAY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日(?:\s*(?P<hh>\d{1,2})\s*[:：时]\s*(?P<mi>\d{2})(?:\s*[:：]\s*(?P<ss>\d{2}))?)?",
        r"|(?P<m2>\d{1,2})-(?P<d2>\d{1,2})\s+(?P<hh2>\d{1,2}):(?P<mi2>\d{2})(?::(?P<ss2>\d{2}))?",
    ))
    .unwrap_or_else(|e| panic!("MONTH_DAY regex is a constant and must compile: {e}"))
});

/// RFC 2822 and its sloppy cousins: "Sat, 21 Nov 2026 14:05:00 GMT",
/// "21 Nov 2026 14:05 +0800".
static RFC2822: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s*)?(?P<d>\d{1,2})\s+(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+(?P<y>\d{4})",
        r"(?:\s+(?P<hh>\d{1,2}):(?P<mi>\d{2})(?::(?P<ss>\d{2}))?(?:\s*(?P<z>GMT|UTC|UT|Z|[+-]\d{4}|EST|EDT|CST|PST|PDT|MST|MDT|[A-Z]{3})(?:\s*(?P<z2>[+-]\d{4}))?)?)?",
    ))
    .unwrap_or_else(|e| panic!("RFC2822 regex is a constant and must compile: {e}"))
});

/// "5分钟前", "3小时前", "2天前", "半小时前", "30秒前".
static AGO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?P<n>\d{1,4}|半|一|两|几)\s*(?:个)?\s*(?P<u>秒钟?|分钟|小时|钟头|天|日|周|星期)\s*(?:以)?前")
        .unwrap_or_else(|e| panic!("AGO regex is a constant and must compile: {e}"))
});

/// "昨天 10:20", "前天", "今天 08:00", "刚刚".
static DAY_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?P<w>今天|昨天|前天|刚刚)(?:\s*(?P<hh>\d{1,2})\s*[:：]\s*(?P<mi>\d{2})(?:\s*[:：]\s*(?P<ss>\d{2}))?)?",
    )
    .unwrap_or_else(|e| panic!("DAY_WORD regex is a constant and must compile: {e}"))
});

/// Parses one date-time written in any supported form: ISO 8601 / RFC 3339,
/// RFC 2822, "2026年11月21日 14:05", "2026-11-21 14:05:09", "2026/11/22", "2026.11.22",
/// "发布时间：2026-11-21", relative forms ("3小时前", "刚刚", "昨天 10:20", "5分钟前")
/// relative to `now`. A time without zone is read in `tz`. Dates without a time are
/// midnight in `tz`. Returns `None` when nothing plausible is found.
pub fn parse_datetime(s: &str, tz: Tz, now: DateTime<Utc>) -> Option<DateTime<FixedOffset>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return plausible(dt, now);
    }
    if let Ok(dt) = DateTime::parse_from_rfc2822(s) {
        return plausible(dt, now);
    }
    // Bare "昨天" / "刚刚" are accepted only here, in a string that is meant to be a
    // date: in running text they are ordinary words ("昨天，县财政局……").
    scan(s, tz, now, true).into_iter().next().map(|(_, dt)| dt)
}

/// Every date-time found in free text, with the byte offset where it starts.
pub fn find_datetimes(text: &str, tz: Tz, now: DateTime<Utc>) -> Vec<(usize, DateTime<FixedOffset>)> {
    scan(text, tz, now, false)
}

struct Found {
    start: usize,
    end: usize,
    at: DateTime<FixedOffset>,
}

fn scan(text: &str, tz: Tz, now: DateTime<Utc>, standalone: bool) -> Vec<(usize, DateTime<FixedOffset>)> {
    let mut found: Vec<Found> = Vec::new();
    for c in FULL.captures_iter(text) {
        if let Some(f) = full_date(text, &c, tz, now) {
            found.push(f);
        }
    }
    for c in RFC2822.captures_iter(text) {
        if let Some(f) = rfc2822(text, &c, tz, now) {
            found.push(f);
        }
    }
    for c in MONTH_DAY.captures_iter(text) {
        if let Some(f) = month_day(text, &c, tz, now) {
            found.push(f);
        }
    }
    for c in AGO.captures_iter(text) {
        if let Some(f) = ago(&c, tz, now) {
            found.push(f);
        }
    }
    for c in DAY_WORD.captures_iter(text) {
        if let Some(f) = day_word(&c, tz, now, standalone) {
            found.push(f);
        }
    }
    // Overlapping matches ("2026年11月21日" also contains "11月21日"): the earliest,
    // then the longest, wins.
    found.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut out = Vec::new();
    let mut covered = 0;
    for f in found {
        if f.start >= covered || out.is_empty() {
            covered = f.end;
            out.push((f.start, f.at));
        }
    }
    out
}

fn num(c: &Captures, name: &str) -> Option<u32> {
    c.name(name).and_then(|m| m.as_str().parse().ok())
}

/// The byte before `start` and the byte at `end` must not be digits, or we are
/// looking at part of a longer number (a phone number, an ID).
fn standalone_digits(text: &str, start: usize, end: usize) -> bool {
    let b = text.as_bytes();
    let before = start.checked_sub(1).and_then(|i| b.get(i)).is_some_and(u8::is_ascii_digit);
    let after = b.get(end).is_some_and(u8::is_ascii_digit);
    !before && !after
}

fn time_of(c: &Captures, hh: &str, mi: &str, ss: &str) -> Option<NaiveTime> {
    match (num(c, hh), num(c, mi)) {
        (Some(mut h), Some(m)) => {
            if let Some(ap) = c.name("ap") {
                if matches!(ap.as_str(), "下午" | "晚上") && h < 12 {
                    h += 12;
                }
            }
            NaiveTime::from_hms_opt(h, m, num(c, ss).unwrap_or(0))
        }
        _ => Some(NaiveTime::MIN),
    }
}

fn full_date(text: &str, c: &Captures, tz: Tz, now: DateTime<Utc>) -> Option<Found> {
    let whole = c.get(0)?;
    if !standalone_digits(text, whole.start(), whole.end()) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(num(c, "y")? as i32, num(c, "m")?, num(c, "d")?)?;
    let time = time_of(c, "hh", "mi", "ss")?;
    let naive = date.and_time(time);
    let at = match c.name("z") {
        Some(z) => with_offset(naive, parse_offset(z.as_str())?)?,
        None => local(naive, tz)?,
    };
    Some(Found { start: whole.start(), end: whole.end(), at: plausible(at, now)? })
}

fn month_day(text: &str, c: &Captures, tz: Tz, now: DateTime<Utc>) -> Option<Found> {
    let whole = c.get(0)?;
    if !standalone_digits(text, whole.start(), whole.end()) {
        return None;
    }
    let (m, d, time) = if c.name("m").is_some() {
        (num(c, "m")?, num(c, "d")?, time_of(c, "hh", "mi", "ss")?)
    } else {
        (num(c, "m2")?, num(c, "d2")?, time_of(c, "hh2", "mi2", "ss2")?)
    };
    // The year is now's year in the page's zone, or the previous one if that would
    // put the date in the future (a page from December read in January).
    let year = now.with_timezone(&tz).year();
    let this_year = local(NaiveDate::from_ymd_opt(year, m, d)?.and_time(time), tz)?;
    let at = if this_year.with_timezone(&Utc) > now + Duration::days(1) {
        local(NaiveDate::from_ymd_opt(year - 1, m, d)?.and_time(time), tz)?
    } else {
        this_year
    };
    Some(Found { start: whole.start(), end: whole.end(), at: plausible(at, now)? })
}

fn rfc2822(text: &str, c: &Captures, tz: Tz, now: DateTime<Utc>) -> Option<Found> {
    let whole = c.get(0)?;
    if !standalone_digits(text, whole.start(), whole.end()) {
        return None;
    }
    let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    let mon = c.name("mon")?.as_str().to_ascii_lowercase();
    let m = months.iter().position(|x| *x == mon)? as u32 + 1;
    let date = NaiveDate::from_ymd_opt(num(c, "y")? as i32, m, num(c, "d")?)?;
    let time = time_of(c, "hh", "mi", "ss")?;
    let naive = date.and_time(time);
    let offset = match (c.name("z").map(|z| z.as_str().to_ascii_uppercase()), c.name("z2")) {
        (_, Some(z2)) => parse_offset(z2.as_str()),
        (Some(z), None) => match z.as_str() {
            "GMT" | "UTC" | "UT" | "Z" => Some(0),
            "EST" => Some(-5 * 3600),
            "EDT" | "CDT" => Some(-4 * 3600),
            "MST" => Some(-7 * 3600),
            "MDT" => Some(-6 * 3600),
            "PST" => Some(-8 * 3600),
            "PDT" => Some(-7 * 3600),
            // "CST" on a Chinese page means China Standard Time far more often than
            // US Central; we read it, and other unknown names, in the page's zone.
            z if z.starts_with('+') || z.starts_with('-') => parse_offset(z),
            _ => None,
        },
        (None, None) => None,
    };
    let at = match offset {
        Some(secs) => with_offset(naive, secs)?,
        None => local(naive, tz)?,
    };
    Some(Found { start: whole.start(), end: whole.end(), at: plausible(at, now)? })
}

fn ago(c: &Captures, tz: Tz, now: DateTime<Utc>) -> Option<Found> {
    let whole = c.get(0)?;
    let n = c.name("n")?.as_str();
    let unit = c.name("u")?.as_str();
    let seconds: i64 = match n {
        "半" => 30 * 60,
        "一" => 1,
        "两" => 2,
        "几" => 3,
        digits => digits.parse().ok()?,
    };
    let seconds = if n == "半" {
        if unit.starts_with('小') || unit.starts_with('钟') {
            seconds
        } else {
            return None;
        }
    } else {
        seconds
            * match unit {
                u if u.starts_with('秒') => 1,
                "分钟" => 60,
                "小时" | "钟头" => 3600,
                "天" | "日" => 86_400,
                _ => 7 * 86_400,
            }
    };
    let at = (now - Duration::seconds(seconds)).with_timezone(&tz).fixed_offset();
    Some(Found { start: whole.start(), end: whole.end(), at: plausible(at, now)? })
}

fn day_word(c: &Captures, tz: Tz, now: DateTime<Utc>, standalone: bool) -> Option<Found> {
    let whole = c.get(0)?;
    let word = c.name("w")?.as_str();
    let has_time = c.name("hh").is_some();
    if !standalone && !has_time {
        return None;
    }
    let local_now = now.with_timezone(&tz);
    let at = if word == "刚刚" {
        local_now.fixed_offset()
    } else {
        let back = match word {
            "今天" => 0,
            "昨天" => 1,
            _ => 2,
        };
        let day = local_now.date_naive() - Duration::days(back);
        local(day.and_time(time_of(c, "hh", "mi", "ss")?), tz)?
    };
    Some(Found { start: whole.start(), end: whole.end(), at: plausible(at, now)? })
}

/// "+08:00", "+0800", "Z", "GMT+8", "UTC+08:00" → seconds east of UTC.
fn parse_offset(z: &str) -> Option<i32> {
    let z = z.trim();
    if z.eq_ignore_ascii_case("z") {
        return Some(0);
    }
    let z = z.trim_start_matches(|c: char| c.is_ascii_alphabetic()).trim();
    let (sign, rest) = match z.chars().next()? {
        '+' => (1, &z[1..]),
        '-' => (-1, &z[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    let (h, m) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().ok()?, 0),
        3 => (digits[..1].parse::<i32>().ok()?, digits[1..].parse::<i32>().ok()?),
        4 => (digits[..2].parse::<i32>().ok()?, digits[2..].parse::<i32>().ok()?),
        _ => return None,
    };
    (h <= 14 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

fn with_offset(naive: NaiveDateTime, secs: i32) -> Option<DateTime<FixedOffset>> {
    FixedOffset::east_opt(secs)?.from_local_datetime(&naive).single()
}

/// A wall-clock time in `tz`, with the zone's offset at that moment. In a DST gap
/// (not in China, but the zone is configurable) the earlier reading is taken.
fn local(naive: NaiveDateTime, tz: Tz) -> Option<DateTime<FixedOffset>> {
    tz.from_local_datetime(&naive).earliest().map(|dt| dt.fixed_offset())
}

fn plausible(at: DateTime<FixedOffset>, now: DateTime<Utc>) -> Option<DateTime<FixedOffset>> {
    (at.year() >= MIN_YEAR && at.with_timezone(&Utc) <= now + Duration::days(1)).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Shanghai;

    fn now() -> DateTime<Utc> {
        // 2026-11-22 10:00 in Shanghai.
        Utc.with_ymd_and_hms(2026, 11, 22, 2, 0, 0).single().unwrap_or_else(|| panic!("valid date"))
    }

    fn p(s: &str) -> Option<String> {
        parse_datetime(s, Shanghai, now()).map(|d| d.to_rfc3339())
    }

    fn ok(s: &str, expect: &str) {
        assert_eq!(p(s).as_deref(), Some(expect), "input: {s}");
    }

    #[test]
    fn chinese_full_forms() {
        ok("2026年11月21日 14:05", "2026-11-21T14:05:00+08:00");
        ok("2026年11月21日14:05", "2026-11-21T14:05:00+08:00");
        ok("2026年11月21日", "2026-11-21T00:00:00+08:00");
        ok("2026年11月21日 星期六 14:05", "2026-11-21T14:05:00+08:00");
        ok("2026年11月21日 14时05分", "2026-11-21T14:05:00+08:00");
        ok("2026年11月21日 下午3:05", "2026-11-21T15:05:00+08:00");
    }

    #[test]
    fn numeric_forms() {
        ok("2026-11-21 14:05:09", "2026-11-21T14:05:09+08:00");
        ok("2026/11/22", "2026-11-22T00:00:00+08:00");
        ok("2026.11.22", "2026-11-22T00:00:00+08:00");
        ok("2026-1-5 9:03", "2026-01-05T09:03:00+08:00");
        ok("2026-11-21-09:30:00", "2026-11-21T09:30:00+08:00");
        ok(" 2026  11/21  09:30:15", "2026-11-21T09:30:15+08:00");
    }

    #[test]
    fn iso_and_rfc_forms() {
        ok("2026-11-21T14:05:00+08:00", "2026-11-21T14:05:00+08:00");
        ok("2026-11-21T06:05:00Z", "2026-11-21T06:05:00+00:00");
        ok("2026-11-21T14:05:00.123+0800", "2026-11-21T14:05:00+08:00");
        ok("Sat, 21 Nov 2026 14:05:00 GMT", "2026-11-21T14:05:00+00:00");
        ok("Sat, 21 Nov 2026 14:05:00 +0800", "2026-11-21T14:05:00+08:00");
        ok("21 Nov 2026 14:05", "2026-11-21T14:05:00+08:00");
    }

    #[test]
    fn labelled_forms() {
        ok("发布时间：2026-11-21", "2026-11-21T00:00:00+08:00");
        ok("发布时间: 2026-11-21 09:30", "2026-11-21T09:30:00+08:00");
        ok("来源：县财政局  时间：2026-11-20 16:45", "2026-11-20T16:45:00+08:00");
    }

    #[test]
    fn month_day_without_year() {
        ok("11月21日 14:05", "2026-11-21T14:05:00+08:00");
        // 12月25日 would be in the future on 2026-11-22: it is last year's.
        ok("12月25日 09:00", "2025-12-25T09:00:00+08:00");
        ok("11-20 08:15", "2026-11-20T08:15:00+08:00");
    }

    #[test]
    fn relative_forms() {
        ok("刚刚", "2026-11-22T10:00:00+08:00");
        ok("5分钟前", "2026-11-22T09:55:00+08:00");
        ok("3小时前", "2026-11-22T07:00:00+08:00");
        ok("半小时前", "2026-11-22T09:30:00+08:00");
        ok("2天前", "2026-11-20T10:00:00+08:00");
        ok("昨天 10:20", "2026-11-21T10:20:00+08:00");
        ok("昨天", "2026-11-21T00:00:00+08:00");
        ok("前天", "2026-11-20T00:00:00+08:00");
        ok("今天 08:00", "2026-11-22T08:00:00+08:00");
    }

    #[test]
    fn implausible_dates_are_rejected() {
        assert_eq!(p("1990-01-01"), None);
        assert_eq!(p("2027-01-01"), None);
        assert_eq!(p("2026-02-30"), None);
        assert_eq!(p("2026-11-21 25:00"), None);
        assert_eq!(p("no date here"), None);
        assert_eq!(p(""), None);
        // One day of slack for clocks and zones.
        ok("2026-11-23", "2026-11-23T00:00:00+08:00");
    }

    #[test]
    fn digits_inside_longer_numbers_are_not_dates() {
        assert!(find_datetimes("电话 0797-2026-11-21888", Shanghai, now()).is_empty());
    }

    #[test]
    fn find_in_free_text_with_offsets() {
        let text = "来源：新华网 2026-11-21 09:30 责任编辑：张三。相关：11月20日 08:00";
        let found = find_datetimes(text, Shanghai, now());
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].0, text.find("2026").unwrap_or(usize::MAX));
        assert_eq!(found[0].1.to_rfc3339(), "2026-11-21T09:30:00+08:00");
        assert_eq!(found[1].1.to_rfc3339(), "2026-11-20T08:00:00+08:00");
    }

    #[test]
    fn bare_day_words_in_prose_are_not_dates() {
        assert!(find_datetimes("昨天，县财政局召开会议。刚刚结束的会议上", Shanghai, now()).is_empty());
        assert_eq!(find_datetimes("发表于 3小时前", Shanghai, now()).len(), 1);
    }

    #[test]
    fn other_zone_offsets() {
        let d = parse_datetime("2026-07-01 12:00", chrono_tz::Europe::Berlin, now());
        assert_eq!(d.map(|d| d.to_rfc3339()).as_deref(), Some("2026-07-01T12:00:00+02:00"));
    }
}
