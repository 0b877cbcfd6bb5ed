//! The view of a case, derived from its steps, and overdue / escalation checks.

use crate::flow::target;
use crate::{Action, CaseState, DeadlineConfig, FlowError, Level, Overdue, Path, Step};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// What the desk shows of a case: derived from its steps by [`replay`], never stored
/// as the truth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseView {
    pub state: CaseState,
    /// The level at opening, or the one the assessment set.
    pub level: Level,
    /// Set by the assessment.
    pub path: Option<Path>,
    pub opened_at: DateTime<Utc>,
    /// `opened_at` + the level's `assess_within`.
    pub assess_due: DateTime<Utc>,
    /// `opened_at` + the level's `answer_within`.
    pub answer_due: DateTime<Utc>,
    pub assessed_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The deadline the case is past *now* and still has to meet (the answer deadline
    /// when it is past both), as of the `now` given to [`replay`].
    pub overdue: Option<Overdue>,
    /// Every deadline missed, as of that `now`: met late, or still open and past due.
    /// Lateness stays visible after the case is closed.
    pub late: Vec<Overdue>,
}

impl CaseView {
    /// When `deadline` falls.
    pub fn due(&self, deadline: Overdue) -> DateTime<Utc> {
        match deadline {
            Overdue::Assess => self.assess_due,
            Overdue::Answer => self.answer_due,
        }
    }

    /// When `deadline` was met: by the assessment (or answer), or by closing the case
    /// without one (a dismissal decides the case too).
    pub fn met_at(&self, deadline: Overdue) -> Option<DateTime<Utc>> {
        let own = match deadline {
            Overdue::Assess => self.assessed_at,
            Overdue::Answer => self.answered_at,
        };
        own.or(self.closed_at)
    }

    /// The deadlines the case is past as of `now` and still has to meet, in order.
    pub fn overdue_deadlines(&self, now: DateTime<Utc>) -> Vec<Overdue> {
        Overdue::ALL.iter().copied().filter(|&d| self.met_at(d).is_none() && now > self.due(d)).collect()
    }

    /// The gravest deadline the case is past as of `now` and still has to meet.
    pub fn overdue_as_of(&self, now: DateTime<Utc>) -> Option<Overdue> {
        self.overdue_deadlines(now).last().copied()
    }

    /// Every deadline missed as of `now`: met after it fell, or unmet and past.
    pub fn late_as_of(&self, now: DateTime<Utc>) -> Vec<Overdue> {
        Overdue::ALL
            .iter()
            .copied()
            .filter(|&d| match self.met_at(d) {
                Some(t) => t > self.due(d),
                None => now > self.due(d),
            })
            .collect()
    }

    /// The next deadline still to meet, and when it falls (passed or not): when an
    /// escalation loop should look at this case again.
    pub fn next_due(&self) -> Option<(Overdue, DateTime<Utc>)> {
        Overdue::ALL.iter().copied().filter(|&d| self.met_at(d).is_none()).map(|d| (d, self.due(d))).min_by_key(|p| p.1)
    }
}

/// Rebuilds the view of a case from its steps, as of `now`.
///
/// The steps must be a record [`crate::transition`] could have produced: the first one a
/// `report` from no state, each next one taken in the state the previous one left, with
/// the state the flow gives. Otherwise [`FlowError::BrokenLog`] names the step. Roles are
/// not rechecked (a step records the actor's name, not the rights they had then).
///
/// Deadlines are computed from `opened_at` with the current level, so an assessment
/// that changes the level moves both deadlines, and a changed configuration applies to
/// every case.
pub fn replay(
    level_at_open: Level,
    opened_at: DateTime<Utc>,
    steps: &[Step],
    deadlines: &DeadlineConfig,
    now: DateTime<Utc>,
) -> Result<CaseView, FlowError> {
    if steps.is_empty() {
        return Err(FlowError::BrokenLog {
            index: 0,
            reason: "a case's record starts with its report, and this one has no steps".to_owned(),
        });
    }
    let mut state: Option<CaseState> = None;
    let mut level = level_at_open;
    let mut path = None;
    let (mut assessed_at, mut answered_at, mut closed_at) = (None, None, None);
    for (index, step) in steps.iter().enumerate() {
        let broken = |reason: String| FlowError::BrokenLog { index, reason };
        let action = Action::from_step(step).map_err(broken)?;
        if step.from_state != state {
            return Err(broken(format!(
                "it was taken in state {} but the case was in state {}",
                state_name(step.from_state),
                state_name(state)
            )));
        }
        let to = target(state, &action)
            .ok_or_else(|| broken(FlowError::WrongState { action: action.kind(), state }.to_string()))?;
        if to != step.to_state {
            return Err(broken(format!(
                "it records the state `{}` but `{}` from state {} leads to `{to}`",
                step.to_state,
                step.action,
                state_name(state)
            )));
        }
        match &action {
            Action::Assess { level: l, path: p, .. } => {
                level = *l;
                path = Some(*p);
                assessed_at = Some(step.at);
            }
            Action::Respond { .. } => answered_at = Some(step.at),
            _ => {}
        }
        if to == CaseState::Closed {
            closed_at = Some(step.at);
        }
        state = Some(to);
    }
    let d = deadlines.for_level(level);
    let mut view = CaseView {
        // The loop ran at least once and every step sets a state.
        state: state.unwrap_or(CaseState::Reported),
        level,
        path,
        opened_at,
        assess_due: d.assess_due(opened_at),
        answer_due: d.answer_due(opened_at),
        assessed_at,
        answered_at,
        closed_at,
        overdue: None,
        late: Vec::new(),
    };
    view.overdue = view.overdue_as_of(now);
    view.late = view.late_as_of(now);
    Ok(view)
}

fn state_name(state: Option<CaseState>) -> String {
    match state {
        Some(s) => format!("`{s}`"),
        None => "(none: opening the case)".to_owned(),
    }
}

/// Whether the case is past a deadline it still has to meet, as of `now`.
pub fn is_overdue(view: &CaseView, now: DateTime<Utc>) -> bool {
    view.overdue_as_of(now).is_some()
}

/// The deadlines of a case to escalate now: past, still unmet, and not in
/// `already_escalated` (which the caller keeps, e.g. as sent alerts keyed by
/// [`Overdue::escalation_key`]). Each deadline of a case escalates once.
pub fn needs_escalation(view: &CaseView, now: DateTime<Utc>, already_escalated: &[Overdue]) -> Vec<Overdue> {
    view.overdue_deadlines(now).into_iter().filter(|d| !already_escalated.contains(d)).collect()
}

/// One overdue deadline of one case, to escalate to the leaders on duty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Escalation<K> {
    /// The caller's key for the case (its id).
    pub case: K,
    pub deadline: Overdue,
    pub level: Level,
    pub due: DateTime<Utc>,
    /// How late the case is as of `now`.
    #[serde(skip)]
    pub late_by: TimeDelta,
}

/// Every escalation due across `cases` (each: its key, its view, the deadlines already
/// escalated), the most serious level first, then the longest overdue.
pub fn escalations<'a, K: Clone>(
    cases: impl IntoIterator<Item = (K, &'a CaseView, &'a [Overdue])>,
    now: DateTime<Utc>,
) -> Vec<Escalation<K>> {
    let mut out: Vec<Escalation<K>> = cases
        .into_iter()
        .flat_map(|(case, view, done)| {
            needs_escalation(view, now, done).into_iter().map(move |deadline| {
                let due = view.due(deadline);
                Escalation { case: case.clone(), deadline, level: view.level, due, late_by: now - due }
            })
        })
        .collect();
    out.sort_by(|a, b| b.level.cmp(&a.level).then(a.due.cmp(&b.due)).then(a.deadline.cmp(&b.deadline)));
    out
}
