//! Helpers shared by the tests.
#![allow(dead_code)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use yuqing_cases::{Action, ActionKind, Actor, Level, Path, Role};

/// 2024-03-01 08:00 UTC, plus `minutes`.
pub fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 1, 8, 0, 0).single().unwrap_or(DateTime::<Utc>::MIN_UTC) + Duration::minutes(minutes)
}

pub fn hours(h: i64) -> i64 {
    h * 60
}

pub fn user(role: Role) -> Actor {
    let name = match role {
        Role::Member => "张三",
        Role::Office => "李四",
        Role::Leader => "王局长",
        Role::Admin => "admin",
    };
    Actor::user(role as i64 + 1, name, role)
}

/// The actor of a table column: a role, or the system (`None`).
pub fn actor(role: Option<Role>) -> Actor {
    role.map_or_else(Actor::system, user)
}

/// A valid action of each kind (assess: `path`, level important).
pub fn sample(kind: ActionKind, path: Path) -> Action {
    match kind {
        ActionKind::Report => Action::Report { note: "论坛帖子反映补贴未发放".into() },
        ActionKind::Assess => Action::Assess { level: Level::Important, path, note: "涉及惠农补贴".into() },
        ActionKind::EstablishFacts => Action::EstablishFacts { note: "经核实，补贴已于3月1日发放".into() },
        ActionKind::Decide => Action::Decide { note: "同意按政策答复".into() },
        ActionKind::Respond => Action::Respond {
            channel: "县政府网站“政民互动”".into(),
            text: "您好，您反映的补贴已于3月1日发放到户。".into(),
            url: Some("https://www.example.gov.cn/hd/123.html".into()),
            note: "经局长审定".into(),
        },
        ActionKind::ReportBack => Action::ReportBack { note: "已报县网宣办".into() },
        ActionKind::Dismiss => Action::Dismiss { note: "与本局工作无关".into() },
    }
}
