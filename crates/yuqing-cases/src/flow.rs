//! The state machine: which action, by whom, in which state, leads where.

use crate::action::validate_actor;
use crate::{Action, ActionKind, Actor, CaseState, FlowError, Level, Role};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One recorded action: the unit of the append-only audit log the store keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub action: ActionKind,
    /// The actor's name ([`Actor::SYSTEM_NAME`] for the system).
    pub actor: String,
    pub at: DateTime<Utc>,
    pub note: String,
    /// The action's fields besides `note` ([`Action::fields`]).
    pub fields: serde_json::Value,
    /// `None` for the step that opened the case.
    pub from_state: Option<CaseState>,
    pub to_state: CaseState,
}

/// Whether reporting an item whose case is in `state` adds a `report` step to that case
/// (true: the case is open) rather than opening a new case (false: it is closed, so the
/// store passes `None` to [`transition`]).
pub fn report_adds_to_open_case(state: CaseState) -> bool {
    state.is_open()
}

/// Takes `action` on a case in `state` (`None`: the item has no open case, so only
/// `report` fits, and it opens one).
///
/// `level` is the level of the reported item for `report` (it becomes the case's level
/// when the case is opened, and the system may report only a major-sensitive item), and
/// the case's current level otherwise.
///
/// Checks, in this order: the role ([`FlowError::Forbidden`]: a role that may never take
/// the action gets 403 whatever the state), the state ([`FlowError::WrongState`]), then
/// the actor's name and the fields ([`FlowError::Invalid`]).
///
/// Returns the new state, the new level when `assess` sets one, and the step to append.
pub fn transition(
    state: Option<CaseState>,
    level: Level,
    actor: &Actor,
    action: &Action,
    at: DateTime<Utc>,
) -> Result<(CaseState, Option<Level>, Step), FlowError> {
    let kind = action.kind();
    if !kind.permits(actor.role, level) {
        return Err(FlowError::Forbidden { action: kind, role: actor.role });
    }
    let to_state = target(state, action).ok_or(FlowError::WrongState { action: kind, state })?;
    validate_actor(actor)?;
    action.validate()?;
    let new_level = match action {
        Action::Assess { level, .. } => Some(*level),
        _ => None,
    };
    let step = Step {
        action: kind,
        actor: actor.name.clone(),
        at,
        note: action.note().to_owned(),
        fields: action.fields(),
        from_state: state,
        to_state,
    };
    Ok((to_state, new_level, step))
}

/// The state `action` leads to from `state`, or `None` when it does not fit. The one
/// graph both [`transition`] and [`crate::replay`] walk.
pub(crate) fn target(state: Option<CaseState>, action: &Action) -> Option<CaseState> {
    if !action.kind().applies_in(state) {
        return None;
    }
    Some(match action {
        Action::Report { .. } => state.unwrap_or(CaseState::Reported),
        Action::Assess { path, .. } => path.target(),
        Action::EstablishFacts { .. } | Action::Decide { .. } => CaseState::Answering,
        Action::Respond { .. } => CaseState::Answered,
        Action::ReportBack { .. } | Action::Dismiss { .. } => CaseState::Closed,
    })
}

/// The actions `role` may take on a case in `state`: the buttons the case page shows.
/// Exactly the kinds for which [`transition`] (with valid fields) succeeds. On an open
/// case this includes `report`, which adds the user's report to the case.
pub fn allowed_actions(state: CaseState, role: Role) -> Vec<ActionKind> {
    ActionKind::ALL
        .iter()
        .copied()
        // A user's rights do not depend on the level; only the system's do.
        .filter(|k| k.permits(Some(role), Level::Ordinary) && k.applies_in(Some(state)))
        .collect()
}
