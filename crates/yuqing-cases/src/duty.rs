//! The duty roster (值班表): who watches the stream when, and who an alert goes to.
//!
//! A [`Shift`] is one person on watch over a half-open interval `[from, to)`: on duty at
//! `from`, off duty at `to`, so that a shift ending at 08:00 and the next one starting at
//! 08:00 meet without a gap and without an overlap. Several people may be on duty at once
//! (a night shift and its 带班领导), so a [`Roster`] is a sorted list of shifts, not a
//! partition of time; [`Roster::gaps`] finds the time nobody covers, for the UI's
//! "无人值班" warning.
//!
//! Times are UTC instants. The roster is written in the office's local time (a CSV from a
//! spreadsheet: [`parse_roster_csv`]); [`local_to_utc`] is the one place that turns a wall
//! clock time into an instant, the same way for every caller, across DST changes too.
//!
//! [`alert_targets`] decides who an alert goes to *now*: the people on duty, round the
//! clock in a sensitive period ([`crate::periods`]), and outside one, during quiet hours
//! with nobody on duty, not now but when the next shift starts.
//!
//! Pure like the rest of the crate: the time is always an argument.

mod csv;

pub use csv::{parse_roster_csv, CsvProblem};

use crate::periods::Periods;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest user name of a shift, in characters.
pub const MAX_USER_CHARS: usize = 64;
/// Longest note of a shift, in characters.
pub const MAX_SHIFT_NOTE_CHARS: usize = 500;
/// Longest shift, in days: a week on call is the most a roster plans for one person, and
/// a longer one is almost always a typo in a date.
pub const MAX_SHIFT_DAYS: i64 = 7;

/// Why a shift or a sensitive period, or one of its fields, is refused. In English
/// (Display) and Chinese ([`DutyError::zh`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DutyError {
    /// A required text field is empty or only whitespace.
    Empty { field: &'static str },
    /// A text field is longer than `max` characters.
    TooLong { field: &'static str, max: usize },
    /// The end is not after the start.
    EndNotAfterStart { from: DateTime<Utc>, to: DateTime<Utc> },
    /// Longer than `max_days`.
    SpanTooLong { max_days: i64 },
    /// Not a time in any accepted form.
    NotATime { text: String },
    /// In an accepted form, but no such date or time of day (`2026-02-30`, `25:00`).
    NoSuchTime { text: String },
}

/// The Chinese name of a field, for messages.
fn field_zh(field: &str) -> &str {
    match field {
        "user" => "值班人员",
        "note" => "备注",
        "reason" => "原因",
        "from" => "开始时间",
        "to" => "结束时间",
        other => other,
    }
}

const TIME_FORMS: &str = "2026-11-29 08:00, 2026/11/29 8:00 or 2026-11-29T08:00:00+08:00";
const TIME_FORMS_ZH: &str = "2026-11-29 08:00、2026/11/29 8:00 或 2026-11-29T08:00:00+08:00";

impl fmt::Display for DutyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DutyError::Empty { field } => write!(f, "`{field}` must not be empty"),
            DutyError::TooLong { field, max } => write!(f, "`{field}` is longer than {max} characters"),
            DutyError::EndNotAfterStart { from, to } => {
                write!(f, "the end `{}` is not after the start `{}`", to.to_rfc3339(), from.to_rfc3339())
            }
            DutyError::SpanTooLong { max_days } => write!(f, "longer than the limit of {max_days} days"),
            DutyError::NotATime { text } => write!(f, "`{text}` is not a time like {TIME_FORMS}"),
            DutyError::NoSuchTime { text } => write!(f, "`{text}`: there is no such date or time of day"),
        }
    }
}

impl DutyError {
    /// The message for the UI, in Chinese.
    pub fn zh(&self) -> String {
        match self {
            DutyError::Empty { field } => format!("{}不能为空", field_zh(field)),
            DutyError::TooLong { field, max } => format!("{}超过 {max} 个字符", field_zh(field)),
            DutyError::EndNotAfterStart { .. } => "结束时间必须晚于开始时间".to_owned(),
            DutyError::SpanTooLong { max_days } => format!("时长超过 {max_days} 天"),
            DutyError::NotATime { text } => format!("“{text}”不是有效时间，应形如 {TIME_FORMS_ZH}"),
            DutyError::NoSuchTime { text } => format!("“{text}”：没有这个日期或时刻"),
        }
    }
}

/// Checks a text field: trimmed non-empty (when `required`) and at most `max` characters.
pub(crate) fn check_text(field: &'static str, value: &str, required: bool, max: usize, out: &mut Vec<DutyError>) {
    if required && value.trim().is_empty() {
        out.push(DutyError::Empty { field });
    } else if value.chars().count() > max {
        out.push(DutyError::TooLong { field, max });
    }
}

/// Checks an interval: `from < to` and at most `max_days` long.
pub(crate) fn check_span(from: DateTime<Utc>, to: DateTime<Utc>, max_days: i64, out: &mut Vec<DutyError>) {
    if from >= to {
        out.push(DutyError::EndNotAfterStart { from, to });
    } else if to - from > TimeDelta::days(max_days) {
        out.push(DutyError::SpanTooLong { max_days });
    }
}

/// One person on watch from `from` (inclusive) to `to` (exclusive).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Shift {
    /// The user's name. This crate knows no users: the caller (the web layer) checks the
    /// name against its users.
    pub user: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// e.g. "带班领导" or a phone extension.
    pub note: Option<String>,
}

impl Shift {
    /// A checked shift: the user and note trimmed (an empty note is none), then
    /// [`Shift::validate`]d.
    pub fn new(
        user: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        note: Option<&str>,
    ) -> Result<Shift, Vec<DutyError>> {
        let note = note.map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
        let shift = Shift { user: user.trim().to_owned(), from, to, note };
        let problems = shift.validate();
        if problems.is_empty() {
            Ok(shift)
        } else {
            Err(problems)
        }
    }

    /// Every problem at once: the user non-empty and at most [`MAX_USER_CHARS`]; the note
    /// at most [`MAX_SHIFT_NOTE_CHARS`]; `from < to`, at most [`MAX_SHIFT_DAYS`] apart.
    pub fn validate(&self) -> Vec<DutyError> {
        let mut problems = Vec::new();
        check_text("user", &self.user, true, MAX_USER_CHARS, &mut problems);
        if let Some(note) = &self.note {
            check_text("note", note, false, MAX_SHIFT_NOTE_CHARS, &mut problems);
        }
        check_span(self.from, self.to, MAX_SHIFT_DAYS, &mut problems);
        problems
    }

    /// Whether the shift is on duty at `at`: `from <= at < to`.
    pub fn covers(&self, at: DateTime<Utc>) -> bool {
        self.from <= at && at < self.to
    }

    /// Whether the two shifts share some time. Shifts that only meet (one ends when the
    /// other starts) do not overlap.
    pub fn overlaps(&self, other: &Shift) -> bool {
        self.from < other.to && other.from < self.to && self.from < self.to && other.from < other.to
    }
}

/// The shifts, sorted by start (then end, then user). Shifts may overlap.
///
/// The fields of a [`Shift`] are public, so a roster may hold one that was never
/// validated; every method stays correct for it (a shift that ends before it starts is on
/// duty at no time and covers nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<Shift>", into = "Vec<Shift>")]
pub struct Roster {
    shifts: Vec<Shift>,
}

impl From<Vec<Shift>> for Roster {
    fn from(shifts: Vec<Shift>) -> Self {
        Roster::new(shifts)
    }
}

impl From<Roster> for Vec<Shift> {
    fn from(roster: Roster) -> Self {
        roster.shifts
    }
}

fn shift_order(a: &Shift, b: &Shift) -> std::cmp::Ordering {
    a.from.cmp(&b.from).then(a.to.cmp(&b.to)).then_with(|| a.user.cmp(&b.user))
}

impl Roster {
    pub fn new(mut shifts: Vec<Shift>) -> Roster {
        shifts.sort_by(shift_order);
        Roster { shifts }
    }

    /// Adds a shift in its place.
    pub fn insert(&mut self, shift: Shift) {
        let at = self.shifts.partition_point(|s| shift_order(s, &shift).is_le());
        self.shifts.insert(at, shift);
    }

    /// The shifts, in order.
    pub fn shifts(&self) -> &[Shift] {
        &self.shifts
    }

    pub fn len(&self) -> usize {
        self.shifts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.shifts.is_empty()
    }

    /// The shifts that start at or before `now`: the only ones that can cover it.
    fn started_by(&self, now: DateTime<Utc>) -> &[Shift] {
        &self.shifts[..self.shifts.partition_point(|s| s.from <= now)]
    }

    /// The shifts on duty at `now` (`from <= now < to`), in roster order.
    pub fn on_duty(&self, now: DateTime<Utc>) -> Vec<&Shift> {
        self.started_by(now).iter().filter(|s| s.covers(now)).collect()
    }

    /// The names of the people on duty at `now`, each once, in roster order ("who is on
    /// duty now", shown on every page).
    pub fn users_on_duty(&self, now: DateTime<Utc>) -> Vec<String> {
        let mut users: Vec<String> = Vec::new();
        for shift in self.on_duty(now) {
            if !users.contains(&shift.user) {
                users.push(shift.user.clone());
            }
        }
        users
    }

    /// The first shift that starts after `now` (a shift starting exactly at `now` is
    /// already on duty). Ties go to the roster order.
    pub fn next_shift(&self, now: DateTime<Utc>) -> Option<&Shift> {
        self.shifts[self.started_by(now).len()..].iter().find(|s| s.from < s.to)
    }

    /// The intervals of `[from, to)` that no shift covers, in order, each half-open like
    /// a shift. Empty when `from >= to`.
    pub fn gaps(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let mut gaps = Vec::new();
        // Everything before `covered_to` is covered (or before the window).
        let mut covered_to = from;
        for shift in &self.shifts {
            if shift.from >= to || covered_to >= to {
                break;
            }
            if shift.to <= covered_to || shift.from >= shift.to {
                continue;
            }
            if shift.from > covered_to {
                gaps.push((covered_to, shift.from));
            }
            covered_to = shift.to;
        }
        if covered_to < to {
            gaps.push((covered_to, to));
        }
        gaps
    }

    /// The shifts of the roster that share time with `shift`, in order: for the editor's
    /// warning when a new shift overlaps others. `shift` itself, when it is a reference
    /// into this roster, is left out; an equal shift stored twice is reported.
    pub fn overlapping(&self, shift: &Shift) -> Vec<&Shift> {
        self.shifts.iter().filter(|s| !std::ptr::eq(*s, shift) && s.overlaps(shift)).collect()
    }
}

/// A wall-clock time in `tz` as an instant, the same way for every caller so that a shift
/// ending at a local time and the next one starting at it always meet:
/// - a time that happens twice (the hour repeated when DST ends) is the first one;
/// - a time that does not happen (the hour skipped when DST starts) is the moment the
///   clocks jump, i.e. the first minute after the gap (02:30 on the night Berlin goes from
///   02:00 to 03:00 is 03:00 CEST).
///
/// Zones without DST (Asia/Shanghai) have exactly one instant for every local time.
pub fn local_to_utc(naive: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    if let Some(at) = tz.from_local_datetime(&naive).earliest() {
        return at.with_timezone(&Utc);
    }
    // In a gap. Gaps are whole minutes and at most a day long (Samoa skipped 30 December
    // 2011), so the first local minute after `naive` that exists is found within two days.
    let start = naive.with_second(0).and_then(|n| n.with_nanosecond(0)).unwrap_or(naive);
    for minutes in 1..=2 * 24 * 60 {
        if let Some(at) = start.checked_add_signed(TimeDelta::minutes(minutes)) {
            if let Some(at) = tz.from_local_datetime(&at).earliest() {
                return at.with_timezone(&Utc);
            }
        }
    }
    // No zone has a gap of two days; read the time as UTC rather than fail.
    naive.and_utc()
}

/// Parses a time as people write it in a roster: `2026-11-29 08:00`, `2026/11/29 8:00`,
/// `2026.11.29 8:00`, `2026年11月29日 8:00`, with or without seconds, `T` or spaces
/// between date and time, `24:00` for the end of a day; read in `tz` (see
/// [`local_to_utc`]). With an offset (`Z`, `+08:00`, `+0800`) or in RFC 3339
/// (`2026-11-29T08:00:00+08:00`), the offset given wins over `tz`.
pub fn parse_time(text: &str, tz: Tz) -> Result<DateTime<Utc>, DutyError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DutyError::NotATime { text: String::new() });
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    let not_a_time = || DutyError::NotATime { text: text.to_owned() };
    let no_such = || DutyError::NoSuchTime { text: text.to_owned() };
    let (date, rest) = parse_date(text).ok_or_else(not_a_time)?;
    let rest = rest.trim_start_matches(['T', 't', ' ', '\u{3000}']);
    let (h, m, s, rest) = parse_clock(rest).ok_or_else(not_a_time)?;
    let offset = parse_offset(rest.trim()).ok_or_else(not_a_time)?;
    let date = NaiveDate::from_ymd_opt(date.0, date.1, date.2).ok_or_else(no_such)?;
    let naive = if (h, m, s) == (24, 0, 0) {
        date.succ_opt().ok_or_else(no_such)?.and_time(NaiveTime::MIN)
    } else {
        date.and_time(NaiveTime::from_hms_opt(h, m, s).ok_or_else(no_such)?)
    };
    match offset {
        None => Ok(local_to_utc(naive, tz)),
        Some(secs) => {
            let fixed = chrono::FixedOffset::east_opt(secs).ok_or_else(no_such)?;
            fixed.from_local_datetime(&naive).single().map(|at| at.with_timezone(&Utc)).ok_or_else(no_such)
        }
    }
}

/// Leading ASCII digits: their value (at most `max_len` of them) and the rest.
fn digits(s: &str, max_len: usize) -> Option<(u32, &str)> {
    let len = s.bytes().take_while(u8::is_ascii_digit).count();
    if len == 0 || len > max_len {
        return None;
    }
    Some((s[..len].parse().ok()?, &s[len..]))
}

/// `Y-M-D`, `Y/M/D`, `Y.M.D` or `Y年M月D日`, and the rest of the text.
fn parse_date(s: &str) -> Option<((i32, u32, u32), &str)> {
    let (year, rest) = digits(s, 4)?;
    if let Some(rest) = rest.strip_prefix('年') {
        let (month, rest) = digits(rest, 2)?;
        let (day, rest) = digits(rest.strip_prefix('月')?, 2)?;
        let rest = rest.strip_prefix('日').or_else(|| rest.strip_prefix('号'))?;
        return Some(((i32::try_from(year).ok()?, month, day), rest));
    }
    let sep = rest.chars().next().filter(|c| matches!(c, '-' | '/' | '.'))?;
    let (month, rest) = digits(&rest[sep.len_utf8()..], 2)?;
    let (day, rest) = digits(rest.strip_prefix(sep)?, 2)?;
    Some(((i32::try_from(year).ok()?, month, day), rest))
}

/// `H:MM` or `H:MM:SS` (a colon in full width too), and the rest of the text.
fn parse_clock(s: &str) -> Option<(u32, u32, u32, &str)> {
    fn colon(s: &str) -> Option<&str> {
        s.strip_prefix(':').or_else(|| s.strip_prefix('：'))
    }
    let (h, rest) = digits(s, 2)?;
    let (m, rest) = digits(colon(rest)?, 2)?;
    match colon(rest) {
        Some(after) => {
            let (sec, rest) = digits(after, 2)?;
            Some((h, m, sec, rest))
        }
        None => Some((h, m, 0, rest)),
    }
}

/// Nothing (a local time: `Some(None)`), `Z`, `±HH:MM` or `±HHMM` (seconds east of UTC).
fn parse_offset(s: &str) -> Option<Option<i32>> {
    if s.is_empty() {
        return Some(None);
    }
    if s.eq_ignore_ascii_case("z") {
        return Some(Some(0));
    }
    let sign = match s.chars().next()? {
        '+' => 1,
        '-' => -1,
        _ => return None,
    };
    let body: String = s[1..].chars().filter(|c| *c != ':').collect();
    if body.len() != 4 || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i32 = body[..2].parse().ok()?;
    let m: i32 = body[2..].parse().ok()?;
    (h <= 14 && m < 60).then_some(Some(sign * (h * 3600 + m * 60)))
}

/// Who an alert goes to at a moment ([`alert_targets`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Targets {
    /// The people on duty now, each once. May be empty: the alert still goes to the
    /// channels of its routes (and the UI shows "无人值班").
    pub on_duty: Vec<String>,
    /// A sensitive period is active: alerts go out day and night and escalate sooner.
    pub round_the_clock: bool,
    /// `None`: send now. `Some`: keep the alert in the outbox and decide again then.
    pub hold: Option<Hold>,
}

/// An alert held back during quiet hours, with nobody on duty and no sensitive period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hold {
    /// When to decide again: the first of the next shift's start, the end of the quiet
    /// hours and the start of the next sensitive period.
    pub until: DateTime<Utc>,
    /// The shift the alert is held for, when it is that shift's start that ends the hold.
    pub shift: Option<Shift>,
}

/// Whether the local time `t` lies in the quiet hours `[start, end)`; they may run over
/// midnight (22:00–07:00). `start == end` means no quiet hours.
pub fn in_quiet_hours(t: NaiveTime, (start, end): (NaiveTime, NaiveTime)) -> bool {
    if start <= end {
        start <= t && t < end
    } else {
        t >= start || t < end
    }
}

/// Who an alert raised at `now` goes to.
///
/// - In a sensitive period (`round_the_clock`) it always goes out now.
/// - Outside one, during `quiet_hours` (local times in `tz`, see [`in_quiet_hours`]) with
///   nobody on duty, it is held: until the next shift starts, or the quiet hours end, or
///   a sensitive period starts, whichever comes first ([`Hold`]).
/// - Otherwise it goes out now, to the people on duty (if any).
///
/// The level of the item is not looked at: a caller that wants a major-sensitive item to
/// wake people at night passes `quiet_hours: None` for it.
pub fn alert_targets(
    roster: &Roster,
    periods: &Periods,
    now: DateTime<Utc>,
    quiet_hours: Option<(NaiveTime, NaiveTime)>,
    tz: Tz,
) -> Targets {
    let on_duty = roster.users_on_duty(now);
    let round_the_clock = periods.active(now).is_some();
    let hold = match quiet_hours {
        Some(quiet) if !round_the_clock && on_duty.is_empty() => {
            let local = now.with_timezone(&tz).naive_local();
            in_quiet_hours(local.time(), quiet).then(|| {
                let quiet_end = end_of_quiet_hours(local, quiet.1, tz).max(now);
                let mut hold = Hold { until: quiet_end, shift: None };
                if let Some(shift) = roster.next_shift(now) {
                    if shift.from < hold.until {
                        hold = Hold { until: shift.from, shift: Some(shift.clone()) };
                    }
                }
                if let Some(period) = periods.upcoming(now) {
                    if period.from < hold.until {
                        hold = Hold { until: period.from, shift: None };
                    }
                }
                hold
            })
        }
        _ => None,
    };
    Targets { on_duty, round_the_clock, hold }
}

/// The next time the local clock reads `end` after `local` (which is in quiet hours).
fn end_of_quiet_hours(local: NaiveDateTime, end: NaiveTime, tz: Tz) -> DateTime<Utc> {
    let date = if local.time() < end { local.date() } else { local.date().succ_opt().unwrap_or(local.date()) };
    local_to_utc(date.and_time(end), tz)
}
