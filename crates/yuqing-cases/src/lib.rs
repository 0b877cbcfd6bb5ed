//! The handling flow (处置) of cases: the states, actions, roles, fields and deadlines of
//! INTERFACES.md "The handling flow (cases)", as one pure state machine.
//!
//! # The flow
//!
//! ```text
//! (no case) ──report──► reported
//! reported ──assess, path policy─────► answering
//! reported ──assess, path facts──────► fact-finding ──establish-facts──► answering
//! reported ──assess, path leadership─► leadership-review ──decide──────► answering
//! answering ──respond──► answered ──report-back──► closed
//! any open state ──dismiss──► closed
//! ```
//!
//! | action | who |
//! | --- | --- |
//! | `report` | any role; the system only for a major-sensitive item |
//! | `assess` (sets level and path), `establish-facts`, `respond`, `report-back` | the office (and admins) |
//! | `decide` | leaders |
//! | `dismiss` (with the reason no action is needed) | the office (and admins) or leaders |
//!
//! Admins have the office's rights; only leaders decide. A `respond` step *records* an
//! official, attributed answer that a person gave on an official channel: yuqing never
//! posts anything, and there is no way to answer anonymously (every step names its actor).
//!
//! # Steps are the truth
//!
//! A case is stored as its [`Step`]s only: an append-only audit log that nobody edits or
//! deletes, admins included. Everything else about a case — its state, level, path,
//! deadlines, whether it is overdue — is a [`CaseView`] *derived* from the steps by
//! [`replay`]. So the record of who did what and when cannot disagree with what the
//! desk shows, and a change to the deadline configuration shows at once on every case.
//!
//! [`transition`] is the one place that decides whether an action is allowed: who
//! ([`FlowError::Forbidden`], HTTP 403), in which state ([`FlowError::WrongState`], 409),
//! with which fields ([`FlowError::Invalid`], 400). It returns the step for the store to
//! append. [`replay`] walks the same state graph to rebuild the view and refuses a record
//! that the flow could not have produced ([`FlowError::BrokenLog`]).
//!
//! # Reporting an item that is already under a case
//!
//! Reporting is never an error for a person: whoever sees an item reports it. The store
//! finds the item's case first:
//! - an **open** case ([`report_adds_to_open_case`] is true): the store passes that case's
//!   state, and `report` appends a step that does not change the state;
//! - **no** case, or only **closed** ones: the store passes `None` and `report` opens a
//!   new case in `reported`. (`report` on a closed state is [`FlowError::WrongState`], so
//!   a closed record is never reopened by mistake.)
//!
//! # Deadlines and lateness
//!
//! `assess_due` = `opened_at` + `assess_within`, `answer_due` = `opened_at` +
//! `answer_within`, for the case's *current* level ([`DeadlineConfig`], defaults of
//! INTERFACES.md): an assessment that changes the level moves both, still counted from the
//! opening. A deadline is met by its own step (`assess`, `respond`) or by closing the case
//! (a dismissal decides the case too); meeting it exactly at the due time is in time.
//! [`CaseView::overdue`] is the deadline the case is past *now* and still has to meet
//! (what the board sorts first and the escalation loop acts on, once per deadline:
//! [`needs_escalation`], [`escalations`]); [`CaseView::late`] keeps every missed deadline,
//! even after the case is closed, because the notice holds staff to account for lateness.
//!
//! # Purity
//!
//! No I/O, no database, no clock: the time of an action and the `now` of an overdue
//! check are arguments, so that the store, the web API, the escalation loop and the tests
//! all get the same answer for the same input.

mod action;
mod deadlines;
pub mod duty;
mod error;
mod flow;
pub mod periods;
mod view;

pub use action::{Action, MAX_ACTOR_CHARS, MAX_CHANNEL_CHARS, MAX_NOTE_CHARS, MAX_TEXT_CHARS, MAX_URL_CHARS};
pub use deadlines::{DeadlineConfig, Deadlines};
pub use duty::{alert_targets, parse_roster_csv, CsvProblem, DutyError, Hold, Roster, Shift, Targets};
pub use error::{FlowError, InvalidReason};
pub use flow::{allowed_actions, report_adds_to_open_case, transition, Step};
pub use periods::{
    alert_escalation_key, escalate_unacknowledged, escalates, escalation_target, Escalate, EscalationPolicy,
    EscalationTarget, Periods, SensitivePeriod,
};
pub use view::{escalations, is_overdue, needs_escalation, replay, CaseView, Escalation};

pub use yuqing_core::{Level, Role};

use serde::{Deserialize, Serialize};

use yuqing_core::named_enum;

named_enum! {
    /// Where a case stands in the flow.
    pub enum CaseState {
        Reported => ("reported", "已报送"),
        FactFinding => ("fact-finding", "核实中"),
        LeadershipReview => ("leadership-review", "领导研判"),
        Answering => ("answering", "待回应"),
        Answered => ("answered", "已回应"),
        Closed => ("closed", "已办结"),
    }
}

impl CaseState {
    /// Every state but `closed`: the case still needs someone to act.
    pub fn is_open(self) -> bool {
        self != CaseState::Closed
    }
}

named_enum! {
    /// How the office decides to handle a case when it assesses it (PRODUCT.md "Handle").
    pub enum Path {
        /// Existing law, regulation or published policy answers the matter.
        Policy => ("policy", "依政策答复"),
        /// The facts or the applicable rules must be established first.
        Facts => ("facts", "先核实后答复"),
        /// A major or sensitive matter: the leadership assesses and decides first.
        Leadership => ("leadership", "报领导决定"),
    }
}

impl Path {
    /// The state an `assess` with this path leads to.
    pub fn target(self) -> CaseState {
        match self {
            Path::Policy => CaseState::Answering,
            Path::Facts => CaseState::FactFinding,
            Path::Leadership => CaseState::LeadershipReview,
        }
    }
}

named_enum! {
    /// The kinds of [`Action`], as recorded in a [`Step`].
    pub enum ActionKind {
        Report => ("report", "报送"),
        Assess => ("assess", "研判"),
        EstablishFacts => ("establish-facts", "核实情况"),
        Decide => ("decide", "领导决定"),
        Respond => ("respond", "回应"),
        ReportBack => ("report-back", "反馈结果"),
        Dismiss => ("dismiss", "无需处置"),
    }
}

impl ActionKind {
    /// Whether the action fits a case in `state` (`None`: no open case yet). Roles are
    /// checked separately ([`ActionKind::permits`]).
    pub fn applies_in(self, state: Option<CaseState>) -> bool {
        use CaseState as S;
        match (self, state) {
            (ActionKind::Report, None) => true,
            (ActionKind::Report, Some(s)) => s.is_open(),
            (_, None) => false,
            (ActionKind::Assess, Some(s)) => s == S::Reported,
            (ActionKind::EstablishFacts, Some(s)) => s == S::FactFinding,
            (ActionKind::Decide, Some(s)) => s == S::LeadershipReview,
            (ActionKind::Respond, Some(s)) => s == S::Answering,
            (ActionKind::ReportBack, Some(s)) => s == S::Answered,
            (ActionKind::Dismiss, Some(s)) => s.is_open(),
        }
    }

    /// Whether `role` (`None`: the system) may take this action at all. `level` matters
    /// only for the system, which reports major-sensitive items and nothing else.
    pub fn permits(self, role: Option<Role>, level: Level) -> bool {
        match (self, role) {
            (ActionKind::Report, Some(_)) => true,
            (ActionKind::Report, None) => level == Level::MajorSensitive,
            (_, None) => false,
            (ActionKind::Decide, Some(r)) => r == Role::Leader,
            (ActionKind::Dismiss, Some(r)) => r.is_office() || r == Role::Leader,
            (_, Some(r)) => r.is_office(),
        }
    }

    /// Whether the action needs a non-empty note: those whose note *is* the record
    /// (the facts established, the decision, the outcome reported, why no action).
    pub fn note_required(self) -> bool {
        matches!(self, ActionKind::EstablishFacts | ActionKind::Decide | ActionKind::ReportBack | ActionKind::Dismiss)
    }

    /// "assess", "decide on", … — the verb phrase of messages, used before "a case".
    fn verb_en(self) -> &'static str {
        match self {
            ActionKind::Report => "add a report to",
            ActionKind::Assess => "assess",
            ActionKind::EstablishFacts => "establish the facts of",
            ActionKind::Decide => "decide on",
            ActionKind::Respond => "record a response to",
            ActionKind::ReportBack => "report back on",
            ActionKind::Dismiss => "dismiss",
        }
    }

    /// Who may take the action, for messages.
    fn who_en(self) -> &'static str {
        match self {
            ActionKind::Report => "any user",
            ActionKind::Decide => "leaders",
            ActionKind::Dismiss => "the office, admins and leaders",
            _ => "the office and admins",
        }
    }

    fn who_zh(self) -> &'static str {
        match self {
            ActionKind::Report => "所有用户",
            ActionKind::Decide => "领导小组",
            ActionKind::Dismiss => "网宣办、管理员和领导小组",
            _ => "网宣办和管理员",
        }
    }

    /// The states the action applies in, for messages.
    fn applies_in_en(self) -> String {
        match self {
            ActionKind::Report | ActionKind::Dismiss => "an open case".to_owned(),
            _ => {
                let states: Vec<String> =
                    CaseState::ALL.iter().filter(|s| self.applies_in(Some(**s))).map(|s| format!("`{s}`")).collect();
                format!("a case in state {}", states.join(" or "))
            }
        }
    }
}

named_enum! {
    /// A deadline a case can miss.
    pub enum Overdue {
        /// Not assessed (or dismissed) by `assess_due`.
        Assess => ("assess", "逾期未研判"),
        /// Not answered (or dismissed) by `answer_due`.
        Answer => ("answer", "逾期未回应"),
    }
}

impl Overdue {
    /// A stable key for the escalation of this deadline of a case, for the alert outbox
    /// to de-duplicate on: each deadline of a case escalates once.
    pub fn escalation_key(self, case_id: i64) -> String {
        format!("case-{case_id}-overdue-{}", self.id())
    }
}

/// Who takes an action. Every step is attributed: the name is recorded in the step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The user's id; `None` for the system.
    pub user_id: Option<i64>,
    /// The name recorded in the step (a user's name, or [`Actor::SYSTEM_NAME`]).
    pub name: String,
    /// The user's role; `None` for the system, which may only report major-sensitive items.
    pub role: Option<Role>,
}

impl Actor {
    /// The name under which the system's own steps are recorded.
    pub const SYSTEM_NAME: &'static str = "system";

    /// yuqing itself, opening a case for an item it judged major-sensitive.
    pub fn system() -> Actor {
        Actor { user_id: None, name: Actor::SYSTEM_NAME.to_owned(), role: None }
    }

    /// A user.
    pub fn user(user_id: i64, name: impl Into<String>, role: Role) -> Actor {
        Actor { user_id: Some(user_id), name: name.into(), role: Some(role) }
    }
}
