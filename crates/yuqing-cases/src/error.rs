//! Why an action was refused, in English (Display) and Chinese ([`FlowError::zh`]).

use crate::{ActionKind, CaseState, Role};
use std::fmt;

/// Why an action was refused, or why a recorded case does not replay.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FlowError {
    /// The role (`None`: the system) may not take this action. HTTP 403.
    Forbidden { action: ActionKind, role: Option<Role> },
    /// The action does not fit the case's state (`None`: there is no open case). HTTP 409.
    WrongState { action: ActionKind, state: Option<CaseState> },
    /// A field is missing, empty, too long or malformed. HTTP 400.
    Invalid { field: &'static str, reason: InvalidReason },
    /// The stored steps of a case are not a record the flow could have produced (step
    /// `index`, counting from 0). Only [`crate::replay`] returns it; HTTP 500.
    BrokenLog { index: usize, reason: String },
}

/// What is wrong with a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidReason {
    /// Empty or only whitespace, where a value is required.
    Empty,
    /// Longer than `max` characters.
    TooLong { max: usize },
    /// Not an `http://` or `https://` address.
    NotHttpUrl,
}

impl FlowError {
    /// The HTTP status the web API answers with.
    pub fn http_status(&self) -> u16 {
        match self {
            FlowError::Forbidden { .. } => 403,
            FlowError::WrongState { .. } => 409,
            FlowError::Invalid { .. } => 400,
            FlowError::BrokenLog { .. } => 500,
        }
    }

    /// The message for the UI, in Chinese.
    pub fn zh(&self) -> String {
        match self {
            FlowError::Forbidden { action: ActionKind::Report, role: None } => {
                "系统只能为重大敏感信息自动报送".to_owned()
            }
            FlowError::Forbidden { action, role } => {
                let who = role.map_or("系统", Role::zh);
                format!("{who}无权执行“{}”（仅限{}）", action.zh(), action.who_zh())
            }
            FlowError::WrongState { action, state: None } => {
                format!("尚无处置单，不能执行“{}”，请先报送", action.zh())
            }
            FlowError::WrongState { action: ActionKind::Report, state: Some(CaseState::Closed) } => {
                "处置单已办结，不能再追加报送；重新报送将开立新的处置单".to_owned()
            }
            FlowError::WrongState { action, state: Some(s) } => {
                format!("处置单当前状态为“{}”，不能执行“{}”", s.zh(), action.zh())
            }
            FlowError::Invalid { field, reason } => {
                let name = field_zh(field);
                match reason {
                    InvalidReason::Empty => format!("{name}不能为空"),
                    InvalidReason::TooLong { max } => format!("{name}不能超过 {max} 个字"),
                    InvalidReason::NotHttpUrl => format!("{name}必须是以 http:// 或 https:// 开头的网址"),
                }
            }
            FlowError::BrokenLog { index, .. } => {
                format!("处置记录第 {} 步有误，无法还原处置单，请联系管理员", index + 1)
            }
        }
    }
}

fn field_zh(field: &str) -> &'static str {
    match field {
        "note" => "说明",
        "channel" => "回应渠道",
        "text" => "回应内容",
        "url" => "回应链接",
        "actor" => "操作人",
        "level" => "等级",
        "path" => "处置方式",
        _ => "字段",
    }
}

fn role_en(role: Option<Role>) -> String {
    match role {
        None => "the system".to_owned(),
        Some(r) => format!("a user with the {r} role"),
    }
}

impl fmt::Display for FlowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlowError::Forbidden { action: ActionKind::Report, role: None } => {
                f.write_str("the system may report an item by itself only when it is major-sensitive")
            }
            FlowError::Forbidden { action, role } => write!(
                f,
                "{} may not {} a case; only {} may `{action}`",
                role_en(*role),
                action.verb_en(),
                action.who_en()
            ),
            FlowError::WrongState { action, state: None } => {
                write!(f, "`{action}` needs an open case and there is none; report the item first")
            }
            FlowError::WrongState { action: ActionKind::Report, state: Some(CaseState::Closed) } => {
                f.write_str("cannot add a report to a closed case; reporting the item again opens a new case")
            }
            FlowError::WrongState { action, state: Some(s) } => write!(
                f,
                "cannot {} a case in state `{s}`: `{action}` applies only to {}",
                action.verb_en(),
                action.applies_in_en()
            ),
            FlowError::Invalid { field, reason } => write!(f, "the field `{field}` {reason}"),
            FlowError::BrokenLog { index, reason } => {
                write!(f, "step {index} of the case's record cannot be replayed: {reason}")
            }
        }
    }
}

impl fmt::Display for InvalidReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidReason::Empty => f.write_str("must not be empty"),
            InvalidReason::TooLong { max } => write!(f, "must be at most {max} characters long"),
            InvalidReason::NotHttpUrl => f.write_str("must be an http:// or https:// address"),
        }
    }
}
