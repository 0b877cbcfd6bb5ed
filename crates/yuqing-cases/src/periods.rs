//! Sensitive periods (敏感时期) and the escalation of unacknowledged alerts.
//!
//! A sensitive period is declared by the office (a holiday, a session of the people's
//! congress, a local incident): while one is active, alerts go out round the clock
//! ([`crate::duty::alert_targets`]) and an alert nobody acknowledges escalates sooner
//! ([`EscalationPolicy::ack_within_sensitive`]).
//!
//! # Escalation of an alert
//!
//! An alert must be acknowledged within `ack_within` of being sent (`ack_within_sensitive`
//! in a sensitive period). If it is not, round 1 of its escalation falls due at that
//! deadline, and one more round every `repeat_every` after it until somebody acknowledges:
//! the outbox sends round 1 to the next person on the roster and later rounds to the
//! leaders on duty, each round once ([`alert_escalation_key`]), the same way overdue cases
//! escalate once per deadline ([`crate::Overdue::escalation_key`]).

use crate::duty::{check_span, check_text, DutyError};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::time::Duration;
use yuqing_core::config::Problem;

/// Longest reason of a sensitive period, in characters.
pub const MAX_REASON_CHARS: usize = 200;
/// Longest sensitive period, in days: round-the-clock watch is for weeks, not for good;
/// a longer period is almost always a typo in a date.
pub const MAX_PERIOD_DAYS: i64 = 92;

/// A declared period of round-the-clock watch, from `from` (inclusive) to `to` (exclusive).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SensitivePeriod {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Why, e.g. "国庆假期" or "县人代会期间".
    pub reason: String,
}

impl SensitivePeriod {
    /// A checked period, the reason trimmed.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>, reason: &str) -> Result<SensitivePeriod, Vec<DutyError>> {
        let period = SensitivePeriod { from, to, reason: reason.trim().to_owned() };
        let problems = period.validate();
        if problems.is_empty() {
            Ok(period)
        } else {
            Err(problems)
        }
    }

    /// Every problem at once: the reason non-empty and at most [`MAX_REASON_CHARS`];
    /// `from < to`, at most [`MAX_PERIOD_DAYS`] apart.
    pub fn validate(&self) -> Vec<DutyError> {
        let mut problems = Vec::new();
        check_text("reason", &self.reason, true, MAX_REASON_CHARS, &mut problems);
        check_span(self.from, self.to, MAX_PERIOD_DAYS, &mut problems);
        problems
    }

    /// Whether the period is active at `at`: `from <= at < to`.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.from <= at && at < self.to
    }
}

/// The declared sensitive periods, sorted by start (then end). They may overlap.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<SensitivePeriod>", into = "Vec<SensitivePeriod>")]
pub struct Periods {
    periods: Vec<SensitivePeriod>,
}

impl From<Vec<SensitivePeriod>> for Periods {
    fn from(periods: Vec<SensitivePeriod>) -> Self {
        Periods::new(periods)
    }
}

impl From<Periods> for Vec<SensitivePeriod> {
    fn from(periods: Periods) -> Self {
        periods.periods
    }
}

impl Periods {
    pub fn new(mut periods: Vec<SensitivePeriod>) -> Periods {
        periods.sort_by(|a, b| a.from.cmp(&b.from).then(a.to.cmp(&b.to)).then_with(|| a.reason.cmp(&b.reason)));
        Periods { periods }
    }

    /// The periods, in order.
    pub fn periods(&self) -> &[SensitivePeriod] {
        &self.periods
    }

    /// The period active at `now`; when several overlap, the one that ends last (the
    /// round-the-clock watch lasts until then), the first of those in order on a tie.
    pub fn active(&self, now: DateTime<Utc>) -> Option<&SensitivePeriod> {
        self.periods.iter().filter(|p| p.contains(now)).fold(None, |best, p| match best {
            Some(b) if b.to >= p.to => Some(b),
            _ => Some(p),
        })
    }

    /// Whether a sensitive period is active at `now`.
    pub fn is_sensitive(&self, now: DateTime<Utc>) -> bool {
        self.active(now).is_some()
    }

    /// The first period that starts after `now`, for the UI ("敏感时期自…起") and for
    /// releasing alerts held during quiet hours when it starts.
    pub fn upcoming(&self, now: DateTime<Utc>) -> Option<&SensitivePeriod> {
        self.periods.iter().find(|p| p.from > now && p.from < p.to)
    }
}

const MINUTE: u64 = 60;
const DAY: u64 = 24 * 60 * MINUTE;
/// The longest delay accepted: an alert unacknowledged for a week has failed as an alert.
const MAX_DELAY: Duration = Duration::from_secs(7 * DAY);
/// The shortest repeat accepted, so that a typo cannot flood a channel.
const MIN_REPEAT: Duration = Duration::from_secs(MINUTE);

/// When an unacknowledged alert escalates. Deserializes from the `[alerts.escalation]`
/// table, each key optional (the default below), durations as humantime strings:
///
/// ```toml
/// [alerts.escalation]
/// ack_within = "30m"            # acknowledge within this, or the alert escalates
/// ack_within_sensitive = "10m"  # the same in a sensitive period
/// repeat_every = "30m"          # then escalate again this often until acknowledged
/// ```
///
/// Unknown keys are errors. Call [`EscalationPolicy::validate`] for the other checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "RawEscalationPolicy")]
pub struct EscalationPolicy {
    #[serde(serialize_with = "ser_duration")]
    pub ack_within: Duration,
    #[serde(serialize_with = "ser_duration")]
    pub ack_within_sensitive: Duration,
    #[serde(serialize_with = "ser_duration")]
    pub repeat_every: Duration,
}

impl Default for EscalationPolicy {
    fn default() -> Self {
        EscalationPolicy {
            ack_within: Duration::from_secs(30 * MINUTE),
            ack_within_sensitive: Duration::from_secs(10 * MINUTE),
            repeat_every: Duration::from_secs(30 * MINUTE),
        }
    }
}

impl EscalationPolicy {
    /// Where the table lives in the configuration file, for problem keys.
    pub const KEY: &'static str = "alerts.escalation";

    /// Every problem at once (like `yuqing check-config`): each delay longer than zero and
    /// at most 7 days; `repeat_every` at least a minute; and a sensitive period never
    /// given more time to acknowledge than ordinary times.
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let key = |field: &str| format!("{}.{field}", Self::KEY);
        for (field, value) in [
            ("ack_within", self.ack_within),
            ("ack_within_sensitive", self.ack_within_sensitive),
            ("repeat_every", self.repeat_every),
        ] {
            if value.is_zero() {
                problems.push(Problem { key: key(field), message: "must be longer than zero".to_owned() });
            } else if value > MAX_DELAY {
                problems.push(Problem {
                    key: key(field),
                    message: format!("`{}` is longer than the limit of 7 days", fmt_duration(value)),
                });
            } else if field == "repeat_every" && value < MIN_REPEAT {
                problems.push(Problem {
                    key: key(field),
                    message: format!(
                        "`{}` is shorter than a minute: escalating that often would flood the channels",
                        fmt_duration(value)
                    ),
                });
            }
        }
        if self.ack_within_sensitive > self.ack_within {
            problems.push(Problem {
                key: key("ack_within_sensitive"),
                message: format!(
                    "`{}` is longer than ack_within `{}`: alerts must escalate faster in a sensitive period, not slower",
                    fmt_duration(self.ack_within_sensitive),
                    fmt_duration(self.ack_within)
                ),
            });
        }
        problems
    }

    /// How long an alert may go unacknowledged.
    pub fn ack_within_for(&self, in_sensitive_period: bool) -> Duration {
        if in_sensitive_period {
            self.ack_within_sensitive
        } else {
            self.ack_within
        }
    }

    /// When an alert sent at `sent_at` escalates if nobody has acknowledged it.
    pub fn ack_due(&self, sent_at: DateTime<Utc>, in_sensitive_period: bool) -> DateTime<Utc> {
        add(sent_at, self.ack_within_for(in_sensitive_period))
    }
}

/// Saturating, so that no configuration can make the arithmetic panic.
fn add(at: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(d).ok().and_then(|d| at.checked_add_signed(d)).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Where an alert stands in its escalation ([`escalate_unacknowledged`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Escalate {
    /// Unacknowledged as of `now` and at or past its acknowledgement deadline: escalate
    /// (round `rounds`, unless the outbox sent that round already).
    pub escalate: bool,
    /// How many rounds of escalation have fallen due: 0 before the deadline, 1 from it,
    /// one more every `repeat_every`. For an acknowledged alert, those that fell due
    /// before the acknowledgement.
    pub rounds: u32,
    /// When the next round falls due; `None` once the alert is acknowledged. When the
    /// outbox should look at the alert again.
    pub next_at: Option<DateTime<Utc>>,
}

/// Whether an alert sent at `sent_at` (acknowledged at `acked_at`, if it was) must
/// escalate as of `now`, how many rounds are due, and when the next one falls.
///
/// `in_sensitive_period` should say whether a period was active when the alert was
/// *sent* (`periods.is_sensitive(sent_at)`): the deadline is fixed when the alert goes
/// out, so it does not move under the person who received it. An acknowledgement counts
/// from its time on (`acked_at <= now`); meeting the deadline exactly is in time.
pub fn escalate_unacknowledged(
    sent_at: DateTime<Utc>,
    acked_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    policy: &EscalationPolicy,
    in_sensitive_period: bool,
) -> Escalate {
    let due = policy.ack_due(sent_at, in_sensitive_period);
    let acked = acked_at.filter(|a| *a <= now);
    // Rounds are counted up to the acknowledgement, or up to now.
    let until = acked.unwrap_or(now);
    let rounds = rounds_due(due, until, policy.repeat_every, acked.is_some());
    match acked {
        Some(_) => Escalate { escalate: false, rounds, next_at: None },
        None => {
            let next_at = round_at(due, policy.repeat_every, rounds);
            Escalate { escalate: rounds > 0, rounds, next_at: Some(next_at) }
        }
    }
}

/// The rounds fallen due by `until`: round `k` (from 1) falls at `due + (k-1) × repeat`.
/// An acknowledgement exactly at a round's time is in time for it (`strict`); an
/// unacknowledged alert is due at that time.
fn rounds_due(due: DateTime<Utc>, until: DateTime<Utc>, repeat: Duration, strict: bool) -> u32 {
    if until < due || (strict && until == due) {
        return 0;
    }
    let past = (until - due).num_milliseconds();
    let every = i64::try_from(repeat.as_millis()).unwrap_or(i64::MAX).max(1);
    let mut extra = past / every;
    if strict && extra > 0 && past % every == 0 {
        extra -= 1;
    }
    u32::try_from(extra.saturating_add(1)).unwrap_or(u32::MAX)
}

/// When round `rounds + 1` falls due: `due + rounds × repeat`.
fn round_at(due: DateTime<Utc>, repeat: Duration, rounds: u32) -> DateTime<Utc> {
    let steps = repeat.checked_mul(rounds).unwrap_or(Duration::MAX);
    add(due, steps)
}

/// A stable key for round `round` of the escalation of alert `alert_id`, for the outbox to
/// de-duplicate on: each round escalates once.
pub fn alert_escalation_key(alert_id: i64, round: u32) -> String {
    format!("alert-{alert_id}-escalation-{round}")
}

/// Whether an alert of an item at `level` escalates when nobody acknowledges it: important
/// and major-sensitive items do (issue "Alerts"); an ordinary one is read in its time.
pub fn escalates(level: yuqing_core::Level) -> bool {
    level >= yuqing_core::Level::Important
}

/// Who a round of escalation goes to ([`escalation_target`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EscalationTarget {
    /// The names the message calls on, in order; may be empty (nobody on the roster and
    /// no leader known: the message still goes out on the channels).
    pub people: Vec<String>,
    /// The round goes to the leaders (领导小组), not to the next person on duty.
    pub leaders: bool,
}

/// How far ahead the roster is searched for "the next person": beyond a week the next
/// shift is no help to an alert waiting now, and the leaders are called instead.
const NEXT_PERSON_HORIZON_DAYS: i64 = 7;

/// Who round `round` (from 1) of the escalation of an unacknowledged alert goes to, at
/// `now`:
/// - round 1: the next person on the roster, i.e. the user of the first shift (on duty
///   now or starting within a week) whose user was not among `alerted` (those the alert
///   named when it went out); when there is none, the leaders;
/// - later rounds: the leaders, those on duty now when any of `leaders` is, else all.
///
/// `leaders` are the names of the users with the leader role, in the caller's order.
pub fn escalation_target(
    round: u32,
    roster: &crate::Roster,
    now: DateTime<Utc>,
    alerted: &[String],
    leaders: &[String],
) -> EscalationTarget {
    if round <= 1 {
        let horizon = now + TimeDelta::days(NEXT_PERSON_HORIZON_DAYS);
        let next = roster
            .shifts()
            .iter()
            .filter(|s| s.to > now && s.from < horizon && s.from < s.to)
            .find(|s| !alerted.contains(&s.user) && !leaders.contains(&s.user));
        if let Some(shift) = next {
            return EscalationTarget { people: vec![shift.user.clone()], leaders: false };
        }
    }
    let on_duty = roster.users_on_duty(now);
    let on_duty_leaders: Vec<String> = leaders.iter().filter(|l| on_duty.contains(l)).cloned().collect();
    let people = if on_duty_leaders.is_empty() { leaders.to_vec() } else { on_duty_leaders };
    EscalationTarget { people, leaders: true }
}

fn fmt_duration(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

fn ser_duration<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&fmt_duration(*d))
}

/// The table as written: each key optional, filled from the default.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEscalationPolicy {
    #[serde(default, deserialize_with = "de_duration")]
    ack_within: Option<Duration>,
    #[serde(default, deserialize_with = "de_duration")]
    ack_within_sensitive: Option<Duration>,
    #[serde(default, deserialize_with = "de_duration")]
    repeat_every: Option<Duration>,
}

impl From<RawEscalationPolicy> for EscalationPolicy {
    fn from(raw: RawEscalationPolicy) -> Self {
        let d = EscalationPolicy::default();
        EscalationPolicy {
            ack_within: raw.ack_within.unwrap_or(d.ack_within),
            ack_within_sensitive: raw.ack_within_sensitive.unwrap_or(d.ack_within_sensitive),
            repeat_every: raw.repeat_every.unwrap_or(d.repeat_every),
        }
    }
}

fn de_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let s = String::deserialize(d)?;
    humantime::parse_duration(&s)
        .map(Some)
        .map_err(|e| serde::de::Error::custom(format!("`{s}` is not a duration like \"30m\" or \"10m\" ({e})")))
}
