//! Random sequences of actions (a deterministic LCG): `transition` never panics, the
//! flow only ever moves along the table, and `replay` of the recorded steps always equals
//! the step-by-step result.

mod common;

use common::t;
use yuqing_cases::{
    allowed_actions, replay, transition, Action, ActionKind, Actor, CaseState, DeadlineConfig, FlowError, Level, Path,
    Role,
};

/// Knuth's MMIX LCG; the high bits are the good ones.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

const TEXTS: &[&str] =
    &["", "  ", "说明", "x", "https://example.org/a", "javascript:alert(1)", "\u{0}\u{202e}", "🙂🙂"];

fn random_text(rng: &mut Lcg) -> String {
    match rng.below(10) {
        0 => "长".repeat(10_001),
        1 => "a".repeat(rng.below(300)),
        _ => rng.pick(TEXTS).to_owned(),
    }
}

fn random_action(rng: &mut Lcg) -> Action {
    let note = random_text(rng);
    match rng.pick(ActionKind::ALL) {
        ActionKind::Report => Action::Report { note },
        ActionKind::Assess => Action::Assess { level: rng.pick(Level::ALL), path: rng.pick(Path::ALL), note },
        ActionKind::EstablishFacts => Action::EstablishFacts { note },
        ActionKind::Decide => Action::Decide { note },
        ActionKind::Respond => Action::Respond {
            channel: random_text(rng),
            text: random_text(rng),
            url: if rng.below(2) == 0 { None } else { Some(random_text(rng)) },
            note,
        },
        ActionKind::ReportBack => Action::ReportBack { note },
        ActionKind::Dismiss => Action::Dismiss { note },
    }
}

fn random_actor(rng: &mut Lcg) -> Actor {
    match rng.below(6) {
        0 => Actor::system(),
        1 => Actor { user_id: Some(9), name: random_text(rng), role: Some(rng.pick(Role::ALL)) },
        _ => {
            let role = rng.pick(Role::ALL);
            Actor::user(role as i64, format!("{role}-user"), role)
        }
    }
}

#[test]
fn random_walks_never_panic_and_replay_matches() {
    let deadlines = DeadlineConfig::default();
    let mut rng = Lcg(0x5eed_2024);
    let mut cases = 0;
    let mut closed = 0;
    let mut accepted = 0;
    for _ in 0..400 {
        let opening_level = rng.pick(Level::ALL);
        let mut state: Option<CaseState> = None;
        let mut level = opening_level;
        let mut steps = Vec::new();
        let mut minute = 0;
        for _ in 0..40 {
            minute += rng.below(600) as i64;
            let (who, action) = (random_actor(&mut rng), random_action(&mut rng));
            // For a new case the reported item's level is the opening level.
            let result = transition(state, level, &who, &action, t(minute));
            match result {
                Ok((to, new_level, step)) => {
                    accepted += 1;
                    // The result agrees with the table's primitives.
                    assert!(action.kind().permits(who.role, level));
                    assert!(action.kind().applies_in(state));
                    if let Some(s) = state {
                        if let Some(role) = who.role {
                            assert!(allowed_actions(s, role).contains(&action.kind()));
                        }
                    }
                    assert_eq!((step.from_state, step.to_state, step.at), (state, to, t(minute)));
                    state = Some(to);
                    level = new_level.unwrap_or(level);
                    steps.push(step);
                    let now = t(minute + rng.below(3000) as i64);
                    let view = replay(opening_level, t(0), &steps, &deadlines, now)
                        .unwrap_or_else(|e| panic!("replay of {steps:?}: {e}"));
                    assert_eq!((view.state, view.level), (to, level));
                    assert_eq!(view.overdue, view.overdue_as_of(now));
                    assert!(view.overdue.is_none() || view.state.is_open());
                    let d = deadlines.for_level(level);
                    assert_eq!((view.assess_due, view.answer_due), (d.assess_due(t(0)), d.answer_due(t(0))));
                    // The JSON the store keeps replays the same.
                    let stored = serde_json::to_string(&steps).unwrap_or_default();
                    let loaded: Vec<yuqing_cases::Step> = serde_json::from_str(&stored).unwrap_or_default();
                    assert_eq!(replay(opening_level, t(0), &loaded, &deadlines, now).as_ref(), Ok(&view));
                    if to == CaseState::Closed {
                        closed += 1;
                        break;
                    }
                }
                Err(FlowError::Forbidden { action: a, role }) => {
                    assert_eq!((a, role), (action.kind(), who.role));
                    assert!(!a.permits(role, level));
                }
                Err(FlowError::WrongState { action: a, state: s }) => {
                    assert_eq!((a, s), (action.kind(), state));
                    assert!(!a.applies_in(s));
                }
                Err(FlowError::Invalid { .. }) => {
                    assert!(action.validate().is_err() || who.name.trim().is_empty() || who.name.chars().count() > 200)
                }
                Err(e) => panic!("transition never returns {e}"),
            }
        }
        cases += usize::from(state.is_some());
    }
    // The generator reaches the whole flow, not just the refusals.
    assert!(cases > 300 && closed > 50 && accepted > 1000, "cases {cases}, closed {closed}, accepted {accepted}");
}

#[test]
fn replay_never_panics_on_garbage_steps() {
    let deadlines = DeadlineConfig::default();
    let mut rng = Lcg(7);
    let states: Vec<Option<CaseState>> =
        std::iter::once(None).chain(CaseState::ALL.iter().copied().map(Some)).collect();
    let fields = [
        serde_json::json!({}),
        serde_json::json!(null),
        serde_json::json!({"level": "important", "path": "facts"}),
        serde_json::json!({"channel": "c", "text": "t", "url": null}),
        serde_json::json!({"channel": 1}),
        serde_json::json!([1, 2]),
    ];
    for _ in 0..5000 {
        let n = rng.below(6);
        let steps: Vec<yuqing_cases::Step> = (0..n)
            .map(|i| yuqing_cases::Step {
                action: rng.pick(ActionKind::ALL),
                actor: "x".into(),
                at: t(i as i64),
                note: random_text(&mut rng),
                fields: fields[rng.below(fields.len())].clone(),
                from_state: rng.pick(&states),
                to_state: rng.pick(CaseState::ALL),
            })
            .collect();
        match replay(rng.pick(Level::ALL), t(0), &steps, &deadlines, t(rng.below(10_000) as i64)) {
            Ok(_) => {}
            Err(FlowError::BrokenLog { index, .. }) => assert!(index < n.max(1)),
            Err(e) => panic!("replay returns only BrokenLog: {e}"),
        }
    }
}

/// A valid record with one step changed is refused at that step, or (when the change
/// still makes a step the flow allows, e.g. another level) still replays.
#[test]
fn a_changed_step_is_caught_where_it_was_changed() {
    let deadlines = DeadlineConfig::default();
    let office = Actor::user(1, "李四", Role::Office);
    let leader = Actor::user(2, "王局长", Role::Leader);
    let mut steps = Vec::new();
    let mut state = None;
    for (who, action) in [
        (&office, Action::Report { note: String::new() }),
        (&office, Action::Assess { level: Level::Important, path: Path::Leadership, note: String::new() }),
        (&leader, Action::Decide { note: "同意".into() }),
        (&office, Action::Respond { channel: "官网".into(), text: "答复".into(), url: None, note: String::new() }),
        (&office, Action::ReportBack { note: "已报".into() }),
    ] {
        let (to, _, step) =
            transition(state, Level::Ordinary, who, &action, t(steps.len() as i64)).unwrap_or_else(|e| panic!("{e}"));
        state = Some(to);
        steps.push(step);
    }
    let states: Vec<Option<CaseState>> =
        std::iter::once(None).chain(CaseState::ALL.iter().copied().map(Some)).collect();
    let mut rng = Lcg(99);
    let (mut refused, mut still_valid) = (0, 0);
    for _ in 0..3000 {
        let mut changed = steps.clone();
        let k = rng.below(changed.len());
        match rng.below(4) {
            0 => changed[k].action = rng.pick(ActionKind::ALL),
            1 => changed[k].from_state = rng.pick(&states),
            2 => changed[k].to_state = rng.pick(CaseState::ALL),
            _ => changed[k].fields = serde_json::json!({"level": rng.pick(Level::ALL), "path": rng.pick(Path::ALL)}),
        }
        match replay(Level::Ordinary, t(0), &changed, &deadlines, t(100)) {
            Ok(_) => still_valid += 1,
            Err(FlowError::BrokenLog { index, .. }) => {
                assert_eq!(index, k, "{:?}", changed[k]);
                refused += 1;
            }
            Err(e) => panic!("replay returns only BrokenLog: {e}"),
        }
    }
    assert!(refused > 1000 && still_valid > 100, "refused {refused}, still valid {still_valid}");
}
