//! Every (state, action, role) → allowed (and where to) / Forbidden / WrongState, as the
//! table of INTERFACES.md "The handling flow (cases)", written out by hand.

mod common;

use common::{actor, sample, t};
use yuqing_cases::{
    allowed_actions, report_adds_to_open_case, transition, ActionKind, CaseState, FlowError, Level, Path, Role,
};

/// Columns: member, office, leader, admin, system (reporting a major-sensitive item).
/// A state id: allowed, and the case goes there (assess uses the `facts` path).
/// `F`: Forbidden (403). `W`: WrongState (409). State `-`: no open case yet.
const TABLE: &str = "
-                  report           reported           reported           reported           reported           reported
-                  assess           F                  W                  F                  W                  F
-                  establish-facts  F                  W                  F                  W                  F
-                  decide           F                  F                  W                  F                  F
-                  respond          F                  W                  F                  W                  F
-                  report-back      F                  W                  F                  W                  F
-                  dismiss          F                  W                  W                  W                  F
reported           report           reported           reported           reported           reported           reported
reported           assess           F                  fact-finding       F                  fact-finding       F
reported           establish-facts  F                  W                  F                  W                  F
reported           decide           F                  F                  W                  F                  F
reported           respond          F                  W                  F                  W                  F
reported           report-back      F                  W                  F                  W                  F
reported           dismiss          F                  closed             closed             closed             F
fact-finding       report           fact-finding       fact-finding       fact-finding       fact-finding       fact-finding
fact-finding       assess           F                  W                  F                  W                  F
fact-finding       establish-facts  F                  answering          F                  answering          F
fact-finding       decide           F                  F                  W                  F                  F
fact-finding       respond          F                  W                  F                  W                  F
fact-finding       report-back      F                  W                  F                  W                  F
fact-finding       dismiss          F                  closed             closed             closed             F
leadership-review  report           leadership-review  leadership-review  leadership-review  leadership-review  leadership-review
leadership-review  assess           F                  W                  F                  W                  F
leadership-review  establish-facts  F                  W                  F                  W                  F
leadership-review  decide           F                  F                  answering          F                  F
leadership-review  respond          F                  W                  F                  W                  F
leadership-review  report-back      F                  W                  F                  W                  F
leadership-review  dismiss          F                  closed             closed             closed             F
answering          report           answering          answering          answering          answering          answering
answering          assess           F                  W                  F                  W                  F
answering          establish-facts  F                  W                  F                  W                  F
answering          decide           F                  F                  W                  F                  F
answering          respond          F                  answered           F                  answered           F
answering          report-back      F                  W                  F                  W                  F
answering          dismiss          F                  closed             closed             closed             F
answered           report           answered           answered           answered           answered           answered
answered           assess           F                  W                  F                  W                  F
answered           establish-facts  F                  W                  F                  W                  F
answered           decide           F                  F                  W                  F                  F
answered           respond          F                  W                  F                  W                  F
answered           report-back      F                  closed             F                  closed             F
answered           dismiss          F                  closed             closed             closed             F
closed             report           W                  W                  W                  W                  W
closed             assess           F                  W                  F                  W                  F
closed             establish-facts  F                  W                  F                  W                  F
closed             decide           F                  F                  W                  F                  F
closed             respond          F                  W                  F                  W                  F
closed             report-back      F                  W                  F                  W                  F
closed             dismiss          F                  W                  W                  W                  F
";

const COLUMNS: [Option<Role>; 5] =
    [Some(Role::Member), Some(Role::Office), Some(Role::Leader), Some(Role::Admin), None];

fn rows() -> Vec<(Option<CaseState>, ActionKind, Vec<String>)> {
    TABLE
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let cells: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(cells.len(), 7, "row {line:?}");
            let state = if cells[0] == "-" { None } else { Some(CaseState::from_id(cells[0]).expect(cells[0])) };
            let kind = ActionKind::from_id(cells[1]).expect(cells[1]);
            (state, kind, cells[2..].iter().map(|s| s.to_string()).collect())
        })
        .collect()
}

#[test]
fn the_table_covers_every_state_and_action_once() {
    let rows = rows();
    assert_eq!(rows.len(), (CaseState::ALL.len() + 1) * ActionKind::ALL.len());
    for state in std::iter::once(None).chain(CaseState::ALL.iter().copied().map(Some)) {
        for &kind in ActionKind::ALL {
            assert_eq!(rows.iter().filter(|r| r.0 == state && r.1 == kind).count(), 1, "{state:?} {kind}");
        }
    }
}

#[test]
fn every_state_action_and_role_is_as_the_table_says() {
    for (state, kind, expected) in rows() {
        for (role, want) in COLUMNS.iter().zip(&expected) {
            let got = transition(state, Level::MajorSensitive, &actor(*role), &sample(kind, Path::Facts), t(5));
            let context = format!("{state:?} {kind} by {role:?}");
            match want.as_str() {
                "F" => assert_eq!(got, Err(FlowError::Forbidden { action: kind, role: *role }), "{context}"),
                "W" => assert_eq!(got, Err(FlowError::WrongState { action: kind, state }), "{context}"),
                to => {
                    let to = CaseState::from_id(to).expect(to);
                    let (new_state, new_level, step) = got.unwrap_or_else(|e| panic!("{context}: {e}"));
                    assert_eq!(new_state, to, "{context}");
                    assert_eq!(step.to_state, to, "{context}");
                    assert_eq!(step.from_state, state, "{context}");
                    assert_eq!(step.action, kind, "{context}");
                    assert_eq!(step.at, t(5), "{context}");
                    assert_eq!(step.actor, actor(*role).name, "{context}");
                    assert_eq!(new_level, (kind == ActionKind::Assess).then_some(Level::Important), "{context}");
                }
            }
        }
    }
}

/// The table above is written for one level (major-sensitive) and one assess path
/// (`facts`). The level matters only to the system's `report` (major-sensitive only, and
/// its role is checked before the state), the path only to where `assess` leads: with
/// those two rules the same table holds for every level and every path, so the whole
/// input space (state × action × actor × level × path) is checked.
#[test]
fn the_table_holds_for_every_level_and_every_assess_path() {
    let mut checked = 0;
    for &level in Level::ALL {
        for &path in Path::ALL {
            for (state, kind, expected) in rows() {
                for (role, want) in COLUMNS.iter().zip(&expected) {
                    let want = match want.as_str() {
                        _ if role.is_none() && kind == ActionKind::Report && level != Level::MajorSensitive => "F",
                        to if kind == ActionKind::Assess && to != "F" && to != "W" => path.target().id(),
                        w => w,
                    };
                    let got = transition(state, level, &actor(*role), &sample(kind, path), t(5));
                    let context = format!("{state:?} {kind} by {role:?}, level {level}, path {path}");
                    match want {
                        "F" => assert_eq!(got, Err(FlowError::Forbidden { action: kind, role: *role }), "{context}"),
                        "W" => assert_eq!(got, Err(FlowError::WrongState { action: kind, state }), "{context}"),
                        to => {
                            let to = CaseState::from_id(to).expect(to);
                            let (new_state, _, step) = got.unwrap_or_else(|e| panic!("{context}: {e}"));
                            assert_eq!((new_state, step.to_state, step.from_state), (to, to, state), "{context}");
                        }
                    }
                    checked += 1;
                }
            }
        }
    }
    let actors = COLUMNS.len();
    assert_eq!(
        checked,
        Level::ALL.len() * Path::ALL.len() * (CaseState::ALL.len() + 1) * ActionKind::ALL.len() * actors
    );
}

#[test]
fn errors_map_to_the_api_status_codes() {
    let member = actor(Some(Role::Member));
    let office = actor(Some(Role::Office));
    let assess = sample(ActionKind::Assess, Path::Policy);
    let forbidden = transition(Some(CaseState::Reported), Level::Ordinary, &member, &assess, t(0));
    assert_eq!(forbidden.map(|_| ()).map_err(|e| e.http_status()), Err(403));
    let wrong = transition(Some(CaseState::Answering), Level::Ordinary, &office, &assess, t(0));
    assert_eq!(wrong.map(|_| ()).map_err(|e| e.http_status()), Err(409));
    let empty = yuqing_cases::Action::Dismiss { note: " ".into() };
    let invalid = transition(Some(CaseState::Answering), Level::Ordinary, &office, &empty, t(0));
    assert_eq!(invalid.map(|_| ()).map_err(|e| e.http_status()), Err(400));
}

#[test]
fn a_role_that_may_never_act_gets_forbidden_before_any_state_or_field_check() {
    // 403 rather than 409 or 400: the member learns nothing about the case's state.
    let bad = yuqing_cases::Action::Dismiss { note: String::new() };
    let got = transition(Some(CaseState::Closed), Level::Ordinary, &actor(Some(Role::Member)), &bad, t(0));
    assert_eq!(got, Err(FlowError::Forbidden { action: ActionKind::Dismiss, role: Some(Role::Member) }));
    // And a wrong state comes before invalid fields.
    let got = transition(Some(CaseState::Closed), Level::Ordinary, &actor(Some(Role::Office)), &bad, t(0));
    assert_eq!(got, Err(FlowError::WrongState { action: ActionKind::Dismiss, state: Some(CaseState::Closed) }));
}

#[test]
fn admin_has_exactly_the_office_rights() {
    for &state in CaseState::ALL {
        assert_eq!(allowed_actions(state, Role::Admin), allowed_actions(state, Role::Office), "{state}");
    }
    for &kind in ActionKind::ALL {
        for &level in Level::ALL {
            assert_eq!(kind.permits(Some(Role::Admin), level), kind.permits(Some(Role::Office), level), "{kind}");
        }
    }
}

#[test]
fn assess_goes_where_its_path_says_and_sets_the_level() {
    for (path, to) in [
        (Path::Policy, CaseState::Answering),
        (Path::Facts, CaseState::FactFinding),
        (Path::Leadership, CaseState::LeadershipReview),
    ] {
        for &level in Level::ALL {
            let action = yuqing_cases::Action::Assess { level, path, note: String::new() };
            let (state, new_level, step) =
                transition(Some(CaseState::Reported), Level::Ordinary, &actor(Some(Role::Office)), &action, t(1))
                    .unwrap_or_else(|e| panic!("{path} {level}: {e}"));
            assert_eq!((state, new_level), (to, Some(level)));
            assert_eq!(step.fields, serde_json::json!({"level": level.id(), "path": path.id()}));
        }
    }
}

#[test]
fn the_system_reports_only_major_sensitive_items() {
    let system = actor(None);
    let report = sample(ActionKind::Report, Path::Policy);
    for state in [None, Some(CaseState::Reported), Some(CaseState::Answering)] {
        for &level in Level::ALL {
            let got = transition(state, level, &system, &report, t(0));
            if level == Level::MajorSensitive {
                let (to, _, step) = got.unwrap_or_else(|e| panic!("{state:?}: {e}"));
                assert_eq!(to, state.unwrap_or(CaseState::Reported));
                assert_eq!(step.actor, "system");
            } else {
                let err = got.expect_err("the system may not report a lower level");
                assert_eq!(err, FlowError::Forbidden { action: ActionKind::Report, role: None });
                assert_eq!(err.to_string(), "the system may report an item by itself only when it is major-sensitive");
            }
        }
    }
    // Users report any level.
    for &level in Level::ALL {
        assert!(transition(None, level, &actor(Some(Role::Member)), &report, t(0)).is_ok());
    }
}

#[test]
fn a_report_on_an_open_case_adds_a_step_without_changing_the_state() {
    for &state in CaseState::ALL {
        let got = transition(
            Some(state),
            Level::Ordinary,
            &actor(Some(Role::Member)),
            &sample(ActionKind::Report, Path::Policy),
            t(9),
        );
        assert_eq!(report_adds_to_open_case(state), state.is_open());
        if report_adds_to_open_case(state) {
            let (to, level, step) = got.unwrap_or_else(|e| panic!("{state}: {e}"));
            assert_eq!((to, level, step.from_state, step.to_state), (state, None, Some(state), state));
        } else {
            // A closed case is not reopened: the store opens a new case (state None).
            assert_eq!(got, Err(FlowError::WrongState { action: ActionKind::Report, state: Some(state) }));
        }
    }
}

#[test]
fn allowed_actions_are_exactly_what_transition_accepts() {
    for &state in CaseState::ALL {
        for &role in Role::ALL {
            let allowed = allowed_actions(state, role);
            for &kind in ActionKind::ALL {
                let ok =
                    transition(Some(state), Level::Ordinary, &actor(Some(role)), &sample(kind, Path::Policy), t(0))
                        .is_ok();
                assert_eq!(allowed.contains(&kind), ok, "{state} {role} {kind}");
            }
        }
    }
}

#[test]
fn allowed_actions_spot_checks() {
    use ActionKind::*;
    assert_eq!(allowed_actions(CaseState::Reported, Role::Member), vec![Report]);
    assert_eq!(allowed_actions(CaseState::Reported, Role::Office), vec![Report, Assess, Dismiss]);
    assert_eq!(allowed_actions(CaseState::LeadershipReview, Role::Leader), vec![Report, Decide, Dismiss]);
    assert_eq!(allowed_actions(CaseState::LeadershipReview, Role::Office), vec![Report, Dismiss]);
    assert_eq!(allowed_actions(CaseState::Answering, Role::Admin), vec![Report, Respond, Dismiss]);
    assert_eq!(allowed_actions(CaseState::Answered, Role::Office), vec![Report, ReportBack, Dismiss]);
    assert_eq!(allowed_actions(CaseState::Closed, Role::Office), Vec::<ActionKind>::new());
    assert_eq!(allowed_actions(CaseState::Closed, Role::Leader), Vec::<ActionKind>::new());
}
