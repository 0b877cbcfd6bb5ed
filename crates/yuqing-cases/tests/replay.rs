//! Replaying the steps into the view: full paths, dismissals, deadlines, overdue,
//! escalation, and records the flow could not have produced.

mod common;

use common::{actor, hours, sample, t};
use serde_json::json;
use yuqing_cases::{
    escalations, is_overdue, needs_escalation, replay, transition, Action, ActionKind, Actor, CaseState, CaseView,
    DeadlineConfig, FlowError, Level, Overdue, Path, Role, Step,
};

/// Walks a case through `actions` (actor, action, minutes after opening) by
/// `transition`, checking after every step that replay agrees.
fn walk(level: Level, actions: &[(Actor, Action, i64)]) -> (Vec<Step>, CaseView) {
    let deadlines = DeadlineConfig::default();
    let mut state = None;
    let mut current = level;
    let mut steps = Vec::new();
    for (who, action, at) in actions {
        let (to, new_level, step) =
            transition(state, current, who, action, t(*at)).unwrap_or_else(|e| panic!("{action:?}: {e}"));
        state = Some(to);
        current = new_level.unwrap_or(current);
        steps.push(step);
        let view = replay(level, t(0), &steps, &deadlines, t(*at)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((view.state, view.level), (to, current));
    }
    let view =
        replay(level, t(0), &steps, &deadlines, t(actions.last().map_or(0, |a| a.2))).unwrap_or_else(|e| panic!("{e}"));
    (steps, view)
}

fn office() -> Actor {
    actor(Some(Role::Office))
}
fn leader() -> Actor {
    actor(Some(Role::Leader))
}
fn member() -> Actor {
    actor(Some(Role::Member))
}
fn assess(level: Level, path: Path) -> Action {
    Action::Assess { level, path, note: "研判意见".into() }
}

#[test]
fn the_policy_path() {
    let (steps, view) = walk(
        Level::Important,
        &[
            (member(), sample(ActionKind::Report, Path::Policy), 0),
            (office(), assess(Level::Important, Path::Policy), 40),
            (office(), sample(ActionKind::Respond, Path::Policy), hours(3)),
            (office(), sample(ActionKind::ReportBack, Path::Policy), hours(4)),
        ],
    );
    let states: Vec<_> = steps.iter().map(|s| (s.from_state, s.to_state)).collect();
    use CaseState::*;
    assert_eq!(
        states,
        [(None, Reported), (Some(Reported), Answering), (Some(Answering), Answered), (Some(Answered), Closed)]
    );
    assert_eq!(
        view,
        CaseView {
            state: Closed,
            level: Level::Important,
            path: Some(Path::Policy),
            opened_at: t(0),
            assess_due: t(hours(2)),
            answer_due: t(hours(24)),
            assessed_at: Some(t(40)),
            answered_at: Some(t(hours(3))),
            closed_at: Some(t(hours(4))),
            overdue: None,
            late: vec![],
        }
    );
}

#[test]
fn the_facts_path() {
    let (_, view) = walk(
        Level::Ordinary,
        &[
            (member(), sample(ActionKind::Report, Path::Policy), 0),
            (member(), sample(ActionKind::Report, Path::Policy), 5), // a second report joins the case
            (office(), assess(Level::Ordinary, Path::Facts), hours(1)),
            (office(), sample(ActionKind::EstablishFacts, Path::Policy), hours(10)),
            (actor(Some(Role::Admin)), sample(ActionKind::Respond, Path::Policy), hours(20)),
            (office(), sample(ActionKind::ReportBack, Path::Policy), hours(30)),
        ],
    );
    assert_eq!((view.state, view.path, view.overdue), (CaseState::Closed, Some(Path::Facts), None));
    assert_eq!((view.assess_due, view.answer_due), (t(hours(24)), t(hours(48))));
}

#[test]
fn the_leadership_path_opened_by_the_system() {
    let (steps, view) = walk(
        Level::MajorSensitive,
        &[
            (Actor::system(), Action::Report { note: "系统研判为重大敏感".into() }, 0),
            (office(), assess(Level::MajorSensitive, Path::Leadership), 20),
            (leader(), sample(ActionKind::Decide, Path::Policy), 60),
            (office(), sample(ActionKind::Respond, Path::Policy), hours(4)),
            (office(), sample(ActionKind::ReportBack, Path::Policy), hours(6)),
        ],
    );
    let who: Vec<(&str, &str)> = steps.iter().map(|s| (s.action.id(), s.actor.as_str())).collect();
    assert_eq!(
        who,
        [("report", "system"), ("assess", "李四"), ("decide", "王局长"), ("respond", "李四"), ("report-back", "李四")]
    );
    assert_eq!(view.state, CaseState::Closed);
    assert_eq!((view.assess_due, view.answer_due), (t(30), t(hours(5))));
    assert_eq!((view.overdue, view.late.clone()), (None, vec![]));
}

#[test]
fn dismissals_from_every_open_state() {
    let reach: [&[(Actor, Action, i64)]; 5] = [
        &[],
        &[(office(), assess(Level::Ordinary, Path::Facts), 10)],
        &[(office(), assess(Level::Ordinary, Path::Leadership), 10)],
        &[(office(), assess(Level::Ordinary, Path::Policy), 10)],
        &[
            (office(), assess(Level::Ordinary, Path::Policy), 10),
            (office(), sample(ActionKind::Respond, Path::Policy), 20),
        ],
    ];
    for (prefix, dismisser) in reach.iter().zip([office(), leader(), actor(Some(Role::Admin)), leader(), office()]) {
        let mut actions = vec![(member(), sample(ActionKind::Report, Path::Policy), 0)];
        actions.extend(prefix.iter().cloned());
        actions.push((dismisser, sample(ActionKind::Dismiss, Path::Policy), 30));
        let (steps, view) = walk(Level::Ordinary, &actions);
        assert_eq!(view.state, CaseState::Closed);
        assert_eq!(view.closed_at, Some(t(30)));
        assert_eq!(steps.last().map(|s| s.note.as_str()), Some("与本局工作无关"));
        // Dismissed in time: nothing is overdue, ever after.
        let later = replay(Level::Ordinary, t(0), &steps, &DeadlineConfig::default(), t(hours(1000)));
        assert_eq!(later.map(|v| (v.overdue, v.late)), Ok((None, vec![])));
    }
}

#[test]
fn deadlines_follow_the_level_of_each_case() {
    for (level, assess_min, answer_min) in [
        (Level::MajorSensitive, 30, hours(5)),
        (Level::Important, hours(2), hours(24)),
        (Level::Ordinary, hours(24), hours(48)),
    ] {
        let (_, view) = walk(level, &[(member(), sample(ActionKind::Report, Path::Policy), 0)]);
        assert_eq!((view.assess_due, view.answer_due), (t(assess_min), t(answer_min)), "{level}");
    }
}

#[test]
fn reassessment_moves_both_deadlines_from_the_opening_time() {
    // Opened ordinary (24 h / 48 h), assessed major-sensitive after 10 minutes: 30 min / 5 h.
    let (_, view) = walk(
        Level::Ordinary,
        &[
            (member(), sample(ActionKind::Report, Path::Policy), 0),
            (office(), assess(Level::MajorSensitive, Path::Leadership), 10),
        ],
    );
    assert_eq!((view.level, view.assess_due, view.answer_due), (Level::MajorSensitive, t(30), t(hours(5))));
    // Opened major-sensitive by the system, assessed ordinary: the longer deadlines.
    let (steps, view) = walk(
        Level::MajorSensitive,
        &[
            (Actor::system(), sample(ActionKind::Report, Path::Policy), 0),
            (office(), assess(Level::Ordinary, Path::Policy), 25),
        ],
    );
    assert_eq!((view.level, view.assess_due, view.answer_due), (Level::Ordinary, t(hours(24)), t(hours(48))));
    // And a reassessment that makes a case late at once shows it.
    let later = replay(Level::MajorSensitive, t(0), &steps, &DeadlineConfig::default(), t(hours(6)));
    assert_eq!(later.map(|v| v.overdue), Ok(None));
    let (steps, _) = walk(
        Level::Ordinary,
        &[
            (member(), sample(ActionKind::Report, Path::Policy), 0),
            (office(), assess(Level::MajorSensitive, Path::Policy), hours(3)),
        ],
    );
    let v = replay(Level::Ordinary, t(0), &steps, &DeadlineConfig::default(), t(hours(6)));
    assert_eq!(v.map(|v| (v.overdue, v.late)), Ok((Some(Overdue::Answer), vec![Overdue::Assess, Overdue::Answer])));
}

#[test]
fn configured_deadlines_apply() {
    let c: DeadlineConfig =
        toml::from_str("[important]\nassess_within = \"10m\"\nanswer_within = \"1h\"").unwrap_or_default();
    let (steps, _) = walk(Level::Important, &[(member(), sample(ActionKind::Report, Path::Policy), 0)]);
    let v = replay(Level::Important, t(0), &steps, &c, t(11));
    assert_eq!(v.map(|v| (v.assess_due, v.answer_due, v.overdue)), Ok((t(10), t(60), Some(Overdue::Assess))));
}

#[test]
fn overdue_as_of_various_times() {
    // Important: assess by 2 h, answer by 24 h. Reported at 0, assessed at 3 h (late),
    // answered at 20 h (in time), closed at 30 h.
    let actions = [
        (member(), sample(ActionKind::Report, Path::Policy), 0),
        (office(), assess(Level::Important, Path::Policy), hours(3)),
        (office(), sample(ActionKind::Respond, Path::Policy), hours(20)),
        (office(), sample(ActionKind::ReportBack, Path::Policy), hours(30)),
    ];
    let (steps, _) = walk(Level::Important, &actions);
    let c = DeadlineConfig::default();
    use Overdue::*;
    // (steps known, now) → (overdue, late)
    let table: &[(usize, i64, Option<Overdue>, &[Overdue])] = &[
        (1, 0, None, &[]),
        (1, hours(2), None, &[]), // exactly at the deadline is in time
        (1, hours(2) + 1, Some(Assess), &[Assess]),
        (1, hours(24) + 1, Some(Answer), &[Assess, Answer]), // past both: the answer deadline is the graver
        (2, hours(3), None, &[Assess]),                      // assessed late: no longer overdue, still late
        (2, hours(24), None, &[Assess]),
        (2, hours(25), Some(Answer), &[Assess, Answer]),
        (3, hours(25), None, &[Assess]), // answered at 20 h
        (4, hours(1000), None, &[Assess]),
    ];
    for &(n, now, overdue, late) in table {
        let v = replay(Level::Important, t(0), &steps[..n], &c, t(now)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((v.overdue, v.late.as_slice()), (overdue, late), "{n} steps, now {now} min");
        assert_eq!(is_overdue(&v, t(now)), overdue.is_some());
        assert_eq!(v.overdue_as_of(t(now)), overdue);
    }
}

#[test]
fn a_dismissal_meets_both_deadlines_and_a_late_one_stays_late() {
    let (steps, _) = walk(
        Level::MajorSensitive,
        &[
            (member(), sample(ActionKind::Report, Path::Policy), 0),
            (leader(), sample(ActionKind::Dismiss, Path::Policy), hours(6)),
        ],
    );
    let v = replay(Level::MajorSensitive, t(0), &steps, &DeadlineConfig::default(), t(hours(100)));
    assert_eq!(v.map(|v| (v.overdue, v.late)), Ok((None, vec![Overdue::Assess, Overdue::Answer])));
}

#[test]
fn escalation_once_per_missed_deadline() {
    let c = DeadlineConfig::default();
    let (ms_steps, _) = walk(Level::MajorSensitive, &[(Actor::system(), sample(ActionKind::Report, Path::Policy), 0)]);
    let (ord_steps, _) = walk(Level::Ordinary, &[(member(), sample(ActionKind::Report, Path::Policy), 0)]);
    let ms = replay(Level::MajorSensitive, t(0), &ms_steps, &c, t(0)).unwrap_or_else(|e| panic!("{e}"));
    let ord = replay(Level::Ordinary, t(0), &ord_steps, &c, t(0)).unwrap_or_else(|e| panic!("{e}"));

    assert_eq!(ms.next_due(), Some((Overdue::Assess, t(30))));
    assert_eq!(needs_escalation(&ms, t(30), &[]), vec![]);
    assert_eq!(needs_escalation(&ms, t(31), &[]), vec![Overdue::Assess]);
    assert_eq!(needs_escalation(&ms, t(31), &[Overdue::Assess]), vec![]);
    assert_eq!(needs_escalation(&ms, t(hours(6)), &[Overdue::Assess]), vec![Overdue::Answer]);
    assert_eq!(needs_escalation(&ms, t(hours(6)), &[]), vec![Overdue::Assess, Overdue::Answer]);

    let now = t(hours(25));
    let none: &[Overdue] = &[];
    let done: &[Overdue] = &[Overdue::Assess];
    let list = escalations([(7_i64, &ord, none), (3_i64, &ms, done)], now);
    let got: Vec<(i64, Overdue, Level, _)> = list.iter().map(|e| (e.case, e.deadline, e.level, e.due)).collect();
    // The most serious level first; the ordinary case is past its 24 h assessment.
    assert_eq!(
        got,
        [(3, Overdue::Answer, Level::MajorSensitive, t(hours(5))), (7, Overdue::Assess, Level::Ordinary, t(hours(24)))]
    );
    assert_eq!(list[0].late_by, chrono::Duration::hours(20));
    assert_eq!(Overdue::Answer.escalation_key(3), "case-3-overdue-answer");

    // Once answered, nothing more to escalate; the next due is gone too.
    let (answered, _) = walk(
        Level::MajorSensitive,
        &[
            (Actor::system(), sample(ActionKind::Report, Path::Policy), 0),
            (office(), assess(Level::MajorSensitive, Path::Policy), 10),
            (office(), sample(ActionKind::Respond, Path::Policy), 60),
        ],
    );
    let v = replay(Level::MajorSensitive, t(0), &answered, &c, t(hours(10))).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((needs_escalation(&v, t(hours(10)), &[]), v.next_due()), (vec![], None));
}

#[test]
fn the_view_serializes_for_the_api() {
    let (steps, _) = walk(Level::MajorSensitive, &[(Actor::system(), sample(ActionKind::Report, Path::Policy), 0)]);
    let v = replay(Level::MajorSensitive, t(0), &steps, &DeadlineConfig::default(), t(45));
    assert_eq!(
        v.ok().and_then(|v| serde_json::to_value(v).ok()),
        Some(json!({
            "state": "reported", "level": "major-sensitive", "path": null,
            "opened_at": "2024-03-01T08:00:00Z",
            "assess_due": "2024-03-01T08:30:00Z", "answer_due": "2024-03-01T13:00:00Z",
            "assessed_at": null, "answered_at": null, "closed_at": null,
            "overdue": "assess", "late": ["assess"]
        }))
    );
}

fn broken(steps: &[Step]) -> Option<(usize, String)> {
    match replay(Level::Ordinary, t(0), steps, &DeadlineConfig::default(), t(0)) {
        Err(FlowError::BrokenLog { index, reason }) => Some((index, reason)),
        Err(e) => panic!("not a BrokenLog: {e}"),
        Ok(_) => None,
    }
}

#[test]
fn records_the_flow_could_not_produce_are_refused() {
    let (steps, _) = walk(
        Level::Ordinary,
        &[
            (member(), sample(ActionKind::Report, Path::Policy), 0),
            (office(), assess(Level::Ordinary, Path::Facts), 10),
            (office(), sample(ActionKind::EstablishFacts, Path::Policy), 20),
        ],
    );
    assert_eq!(broken(&steps), None);
    assert_eq!(broken(&[]).map(|b| b.0), Some(0));

    // Starts without a report.
    assert_eq!(broken(&steps[1..]).map(|b| b.0), Some(0));
    // A step skipped.
    let skipped = [steps[0].clone(), steps[2].clone()];
    let (i, reason) = broken(&skipped).unwrap_or_default();
    assert_eq!(i, 1);
    assert!(reason.contains("taken in state `fact-finding` but the case was in state `reported`"), "{reason}");
    // A to_state the flow does not give (assess facts → answering).
    let mut wrong_to = steps.clone();
    wrong_to[1].to_state = CaseState::Answering;
    let (i, reason) = broken(&wrong_to).unwrap_or_default();
    assert_eq!(i, 1);
    assert!(reason.contains("leads to `fact-finding`"), "{reason}");
    // Fields that do not make the action.
    let mut bad_fields = steps.clone();
    bad_fields[1].fields = json!({"level": "urgent", "path": "facts"});
    assert_eq!(broken(&bad_fields).map(|b| b.0), Some(1));
    bad_fields[1].fields = json!("assess");
    assert_eq!(broken(&bad_fields).map(|b| b.0), Some(1));
    // Nothing after closing.
    let (closed, _) = walk(
        Level::Ordinary,
        &[
            (member(), sample(ActionKind::Report, Path::Policy), 0),
            (office(), sample(ActionKind::Dismiss, Path::Policy), 5),
        ],
    );
    let mut reopened = closed.clone();
    let mut again = closed[0].clone();
    again.from_state = Some(CaseState::Closed);
    again.to_state = CaseState::Closed;
    reopened.push(again);
    let (i, reason) = broken(&reopened).unwrap_or_default();
    assert_eq!(i, 2);
    assert!(reason.contains("closed case"), "{reason}");
}

#[test]
fn replay_does_not_recheck_field_bounds() {
    // Limits may tighten later; a step once accepted must still replay.
    let (mut steps, _) = walk(Level::Ordinary, &[(member(), sample(ActionKind::Report, Path::Policy), 0)]);
    steps[0].note = "x".repeat(yuqing_cases::MAX_NOTE_CHARS * 2);
    assert_eq!(broken(&steps), None);
}
