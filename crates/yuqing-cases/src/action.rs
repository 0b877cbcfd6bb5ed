//! Actions as the API receives them, and the checks on their fields.

use crate::{ActionKind, Actor, FlowError, InvalidReason, Level, Path};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Longest note of a step, in characters.
pub const MAX_NOTE_CHARS: usize = 10_000;
/// Longest text of a response, in characters.
pub const MAX_TEXT_CHARS: usize = 50_000;
/// Longest channel name of a response, in characters.
pub const MAX_CHANNEL_CHARS: usize = 200;
/// Longest link of a response, in characters.
pub const MAX_URL_CHARS: usize = 2_000;
/// Longest actor name, in characters.
pub const MAX_ACTOR_CHARS: usize = 200;

/// An action on a case, as `POST /api/v1/cases/{id}/actions` receives it:
/// `{"action": "assess", "level": "important", "path": "facts", "note": "…"}`.
///
/// Unknown actions and unknown fields are rejected by serde. Text fields default to empty
/// so that a missing note or channel is reported by [`Action::validate`] as a
/// [`FlowError::Invalid`] naming the field, like an empty one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Action {
    /// Report an item to the office (opens a case, or adds to the item's open case).
    Report {
        #[serde(default)]
        note: String,
    },
    /// The office's assessment: the level and how the case is handled.
    Assess {
        level: Level,
        path: Path,
        #[serde(default)]
        note: String,
    },
    /// The facts and the rules that apply, once established.
    EstablishFacts {
        #[serde(default)]
        note: String,
    },
    /// The leadership's decision.
    Decide {
        #[serde(default)]
        note: String,
    },
    /// Records the official, attributed answer a person gave on an official channel.
    /// yuqing posts nothing itself.
    Respond {
        /// The official channel the answer was given on (e.g. 县政府网站“政民互动”).
        #[serde(default)]
        channel: String,
        /// The text of the answer, as given.
        #[serde(default)]
        text: String,
        /// Where the answer can be read, if it is online (http or https).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
        #[serde(default)]
        note: String,
    },
    /// The outcome, reported back (to whom, what).
    ReportBack {
        #[serde(default)]
        note: String,
    },
    /// Closes an open case that needs no action, saying why.
    Dismiss {
        #[serde(default)]
        note: String,
    },
}

impl Action {
    /// The kind of action, as recorded in the step.
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::Report { .. } => ActionKind::Report,
            Action::Assess { .. } => ActionKind::Assess,
            Action::EstablishFacts { .. } => ActionKind::EstablishFacts,
            Action::Decide { .. } => ActionKind::Decide,
            Action::Respond { .. } => ActionKind::Respond,
            Action::ReportBack { .. } => ActionKind::ReportBack,
            Action::Dismiss { .. } => ActionKind::Dismiss,
        }
    }

    /// The note, which every action has (possibly empty where it is optional).
    pub fn note(&self) -> &str {
        match self {
            Action::Report { note }
            | Action::Assess { note, .. }
            | Action::EstablishFacts { note }
            | Action::Decide { note }
            | Action::Respond { note, .. }
            | Action::ReportBack { note }
            | Action::Dismiss { note } => note,
        }
    }

    /// The link of a `respond`, trimmed; a blank one (as an HTML form sends) counts as none.
    pub fn url(&self) -> Option<&str> {
        match self {
            Action::Respond { url: Some(u), .. } if !u.trim().is_empty() => Some(u.trim()),
            _ => None,
        }
    }

    /// The action's fields besides `note`, as recorded in [`crate::Step::fields`]:
    /// `{}`, `{"level", "path"}` for assess, `{"channel", "text", "url"}` for respond.
    pub fn fields(&self) -> Value {
        match self {
            Action::Assess { level, path, .. } => json!({ "level": level, "path": path }),
            Action::Respond { channel, text, .. } => json!({ "channel": channel, "text": text, "url": self.url() }),
            _ => Value::Object(Map::new()),
        }
    }

    /// Checks the fields: a note where the action needs one, a channel and a text for a
    /// response, an http(s) link, and a bound on every text.
    pub fn validate(&self) -> Result<(), FlowError> {
        let kind = self.kind();
        check_text("note", self.note(), kind.note_required(), MAX_NOTE_CHARS)?;
        if let Action::Respond { channel, text, .. } = self {
            check_text("channel", channel, true, MAX_CHANNEL_CHARS)?;
            check_text("text", text, true, MAX_TEXT_CHARS)?;
            if let Some(u) = self.url() {
                check_text("url", u, true, MAX_URL_CHARS)?;
                if !is_http_url(u) {
                    return Err(FlowError::Invalid { field: "url", reason: InvalidReason::NotHttpUrl });
                }
            }
        }
        Ok(())
    }

    /// Rebuilds the action a step recorded (for [`crate::replay`]). The step's own
    /// `action` and `note` win over any same-named keys in its fields.
    pub(crate) fn from_step(step: &crate::Step) -> Result<Action, String> {
        let mut object = match &step.fields {
            Value::Object(m) => m.clone(),
            Value::Null => Map::new(),
            other => return Err(format!("its fields are not a JSON object but `{other}`")),
        };
        object.insert("action".to_owned(), Value::String(step.action.id().to_owned()));
        object.insert("note".to_owned(), Value::String(step.note.clone()));
        serde_json::from_value(Value::Object(object))
            .map_err(|e| format!("its fields do not make a `{}`: {e}", step.action))
    }
}

/// The actor must be named: there are no anonymous steps.
pub(crate) fn validate_actor(actor: &Actor) -> Result<(), FlowError> {
    check_text("actor", &actor.name, true, MAX_ACTOR_CHARS)
}

fn check_text(field: &'static str, value: &str, required: bool, max: usize) -> Result<(), FlowError> {
    if required && value.trim().is_empty() {
        return Err(FlowError::Invalid { field, reason: InvalidReason::Empty });
    }
    // A char is at least one byte, so short strings skip the count.
    if value.len() > max && value.chars().count() > max {
        return Err(FlowError::Invalid { field, reason: InvalidReason::TooLong { max } });
    }
    Ok(())
}

fn is_http_url(s: &str) -> bool {
    match url::Url::parse(s) {
        Ok(u) => matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()),
        Err(_) => false,
    }
}
