//! Actions as the API receives them (serde), their field checks, and the messages.

mod common;

use common::{actor, sample, t};
use serde_json::json;
use yuqing_cases::{
    transition, Action, ActionKind, Actor, CaseState, FlowError, InvalidReason, Level, Path, Role, Step,
    MAX_CHANNEL_CHARS, MAX_NOTE_CHARS, MAX_TEXT_CHARS,
};

fn parse(v: serde_json::Value) -> Result<Action, String> {
    serde_json::from_value(v).map_err(|e| e.to_string())
}

#[test]
fn actions_parse_from_the_json_the_api_receives() {
    let cases = [
        (json!({"action": "report", "note": "请关注"}), Action::Report { note: "请关注".into() }),
        (json!({"action": "report"}), Action::Report { note: String::new() }),
        (
            json!({"action": "assess", "level": "major-sensitive", "path": "leadership", "note": "涉及群体诉求"}),
            Action::Assess { level: Level::MajorSensitive, path: Path::Leadership, note: "涉及群体诉求".into() },
        ),
        (
            json!({"action": "assess", "level": "ordinary", "path": "policy"}),
            Action::Assess { level: Level::Ordinary, path: Path::Policy, note: String::new() },
        ),
        (json!({"action": "establish-facts", "note": "已核实"}), Action::EstablishFacts { note: "已核实".into() }),
        (json!({"action": "decide", "note": "同意"}), Action::Decide { note: "同意".into() }),
        (
            json!({"action": "respond", "channel": "局官网", "text": "答复", "url": "https://a.example/1", "note": ""}),
            Action::Respond {
                channel: "局官网".into(),
                text: "答复".into(),
                url: Some("https://a.example/1".into()),
                note: String::new(),
            },
        ),
        (
            json!({"action": "respond", "channel": "局官网", "text": "答复", "url": null}),
            Action::Respond { channel: "局官网".into(), text: "答复".into(), url: None, note: String::new() },
        ),
        (json!({"action": "report-back", "note": "已报县网宣办"}), Action::ReportBack { note: "已报县网宣办".into() }),
        (json!({"action": "dismiss", "note": "无关"}), Action::Dismiss { note: "无关".into() }),
    ];
    for (value, want) in cases {
        assert_eq!(parse(value.clone()), Ok(want.clone()), "{value}");
        // And back: what we serialize parses to the same action.
        let again = serde_json::to_value(&want).map_err(|e| e.to_string()).and_then(parse);
        assert_eq!(again, Ok(want), "{value}");
    }
}

#[test]
fn unknown_actions_fields_and_values_are_rejected() {
    let bad = [
        (json!({"action": "post-reply", "text": "好评"}), "unknown variant"),
        (json!({"action": "Assess", "level": "ordinary", "path": "policy"}), "unknown variant"),
        (json!({"note": "no action"}), "missing field `action`"),
        (json!({"action": "report", "note": "x", "poster": "someone"}), "unknown field `poster`"),
        (json!({"action": "dismiss", "note": "x", "level": "ordinary"}), "unknown field `level`"),
        (json!({"action": "respond", "channel": "c", "text": "t", "persona": "小王"}), "unknown field `persona`"),
        (json!({"action": "assess", "path": "policy"}), "missing field `level`"),
        (json!({"action": "assess", "level": "ordinary"}), "missing field `path`"),
        (json!({"action": "assess", "level": "urgent", "path": "policy"}), "unknown variant `urgent`"),
        (json!({"action": "assess", "level": "ordinary", "path": "ignore"}), "unknown variant `ignore`"),
        (json!({"action": "decide", "note": 5}), "invalid type"),
        (json!("report"), ""),
        (json!(null), ""),
    ];
    for (value, needle) in bad {
        let err = parse(value.clone()).expect_err(&value.to_string());
        assert!(err.contains(needle), "{value}: {err}");
    }
}

#[test]
fn ids_and_chinese_names() {
    let kinds: Vec<(&str, &str)> = ActionKind::ALL.iter().map(|k| (k.id(), k.zh())).collect();
    assert_eq!(
        kinds,
        [
            ("report", "报送"),
            ("assess", "研判"),
            ("establish-facts", "核实情况"),
            ("decide", "领导决定"),
            ("respond", "回应"),
            ("report-back", "反馈结果"),
            ("dismiss", "无需处置")
        ]
    );
    let states: Vec<(&str, &str)> = CaseState::ALL.iter().map(|s| (s.id(), s.zh())).collect();
    assert_eq!(
        states,
        [
            ("reported", "已报送"),
            ("fact-finding", "核实中"),
            ("leadership-review", "领导研判"),
            ("answering", "待回应"),
            ("answered", "已回应"),
            ("closed", "已办结")
        ]
    );
    let paths: Vec<(&str, &str)> = Path::ALL.iter().map(|p| (p.id(), p.zh())).collect();
    assert_eq!(paths, [("policy", "依政策答复"), ("facts", "先核实后答复"), ("leadership", "报领导决定")]);
    for &s in CaseState::ALL {
        assert_eq!(CaseState::from_id(s.id()), Some(s));
        assert_eq!(serde_json::to_value(s).ok(), Some(json!(s.id())));
        assert_eq!(s.is_open(), s != CaseState::Closed);
    }
    for &k in ActionKind::ALL {
        assert_eq!(k.id().parse::<ActionKind>(), Ok(k));
        assert_eq!(sample(k, Path::Policy).kind(), k);
    }
    assert_eq!(CaseState::from_id("open"), None);
}

fn invalid(action: &Action) -> Option<(&'static str, InvalidReason)> {
    match action.validate() {
        Ok(()) => None,
        Err(FlowError::Invalid { field, reason }) => Some((field, reason)),
        Err(e) => panic!("not an Invalid error: {e}"),
    }
}

#[test]
fn notes_are_required_where_the_note_is_the_record() {
    for &kind in ActionKind::ALL {
        for note in ["", "  \n\t "] {
            let mut action = sample(kind, Path::Policy);
            set_note(&mut action, note);
            let want = kind.note_required().then_some(("note", InvalidReason::Empty));
            assert_eq!(invalid(&action), want, "{kind} {note:?}");
        }
    }
    let required: Vec<ActionKind> = ActionKind::ALL.iter().copied().filter(|k| k.note_required()).collect();
    assert_eq!(required, [ActionKind::EstablishFacts, ActionKind::Decide, ActionKind::ReportBack, ActionKind::Dismiss]);
}

fn set_note(action: &mut Action, value: &str) {
    match action {
        Action::Report { note }
        | Action::Assess { note, .. }
        | Action::EstablishFacts { note }
        | Action::Decide { note }
        | Action::Respond { note, .. }
        | Action::ReportBack { note }
        | Action::Dismiss { note } => *note = value.to_owned(),
    }
}

fn respond(channel: &str, text: &str, url: Option<&str>) -> Action {
    Action::Respond { channel: channel.into(), text: text.into(), url: url.map(Into::into), note: String::new() }
}

#[test]
fn a_response_is_official_and_attributed() {
    assert_eq!(invalid(&respond("局官网", "答复", None)), None);
    assert_eq!(invalid(&respond("", "答复", None)), Some(("channel", InvalidReason::Empty)));
    assert_eq!(invalid(&respond(" ", "答复", None)), Some(("channel", InvalidReason::Empty)));
    assert_eq!(invalid(&respond("局官网", "", None)), Some(("text", InvalidReason::Empty)));
    // A missing channel in the JSON is the same 400 as an empty one, naming the field.
    let parsed = serde_json::from_value::<Action>(json!({"action": "respond", "text": "答复"}));
    assert_eq!(parsed.ok().and_then(|a| invalid(&a)), Some(("channel", InvalidReason::Empty)));
    // Nobody answers anonymously: the actor must be named.
    let nameless = Actor { user_id: Some(3), name: "  ".into(), role: Some(Role::Office) };
    let got =
        transition(Some(CaseState::Answering), Level::Ordinary, &nameless, &respond("局官网", "答复", None), t(0));
    assert_eq!(got, Err(FlowError::Invalid { field: "actor", reason: InvalidReason::Empty }));
}

#[test]
fn response_links_must_be_http_or_https() {
    for ok in ["https://www.example.gov.cn/a?b=1", "http://example.org", "  https://example.org/x  "] {
        assert_eq!(invalid(&respond("c", "t", Some(ok))), None, "{ok}");
    }
    // A blank link (an HTML form's empty input) is no link.
    for blank in ["", "   "] {
        let action = respond("c", "t", Some(blank));
        assert_eq!(invalid(&action), None);
        assert_eq!(action.fields(), json!({"channel": "c", "text": "t", "url": null}));
    }
    for bad in [
        "javascript:alert(1)",
        "ftp://example.org/f",
        "www.example.org",
        "file:///etc/passwd",
        "https://",
        "data:text/html,x",
        "mailto:a@b.c",
    ] {
        assert_eq!(invalid(&respond("c", "t", Some(bad))), Some(("url", InvalidReason::NotHttpUrl)), "{bad}");
    }
    // Stored trimmed.
    assert_eq!(respond("c", "t", Some(" https://e.org/ ")).fields()["url"], json!("https://e.org/"));
}

#[test]
fn every_field_is_bounded_in_characters_not_bytes() {
    let at = |n: usize| "字".repeat(n);
    let mut ok = Action::Dismiss { note: at(MAX_NOTE_CHARS) };
    assert_eq!(invalid(&ok), None, "10,000 CJK characters (30,000 bytes) fit");
    set_note(&mut ok, &at(MAX_NOTE_CHARS + 1));
    assert_eq!(invalid(&ok), Some(("note", InvalidReason::TooLong { max: MAX_NOTE_CHARS })));
    // Optional notes are bounded too.
    let report = Action::Report { note: "x".repeat(MAX_NOTE_CHARS + 1) };
    assert_eq!(invalid(&report), Some(("note", InvalidReason::TooLong { max: MAX_NOTE_CHARS })));

    assert_eq!(invalid(&respond(&at(MAX_CHANNEL_CHARS), &at(MAX_TEXT_CHARS), None)), None);
    assert_eq!(
        invalid(&respond(&at(MAX_CHANNEL_CHARS + 1), "t", None)),
        Some(("channel", InvalidReason::TooLong { max: MAX_CHANNEL_CHARS }))
    );
    assert_eq!(
        invalid(&respond("c", &at(MAX_TEXT_CHARS + 1), None)),
        Some(("text", InvalidReason::TooLong { max: MAX_TEXT_CHARS }))
    );
    let long_url = format!("https://example.org/{}", "a".repeat(2_000));
    assert_eq!(
        invalid(&respond("c", "t", Some(&long_url))),
        Some(("url", InvalidReason::TooLong { max: yuqing_cases::MAX_URL_CHARS }))
    );
    let long_name = Actor::user(1, "名".repeat(yuqing_cases::MAX_ACTOR_CHARS + 1), Role::Member);
    let got = transition(None, Level::Ordinary, &long_name, &sample(ActionKind::Report, Path::Policy), t(0));
    assert_eq!(
        got,
        Err(FlowError::Invalid {
            field: "actor",
            reason: InvalidReason::TooLong { max: yuqing_cases::MAX_ACTOR_CHARS }
        })
    );
}

#[test]
fn steps_record_the_actor_time_note_and_fields() {
    let office = actor(Some(Role::Office));
    let action = sample(ActionKind::Respond, Path::Policy);
    let (_, _, step) = transition(Some(CaseState::Answering), Level::Important, &office, &action, t(42))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        serde_json::to_value(&step).ok(),
        Some(json!({
            "action": "respond",
            "actor": "李四",
            "at": "2024-03-01T08:42:00Z",
            "note": "经局长审定",
            "fields": {
                "channel": "县政府网站“政民互动”",
                "text": "您好，您反映的补贴已于3月1日发放到户。",
                "url": "https://www.example.gov.cn/hd/123.html"
            },
            "from_state": "answering",
            "to_state": "answered"
        }))
    );
    let back: Result<Step, _> = serde_json::from_value(serde_json::to_value(&step).unwrap_or_default());
    assert_eq!(back.ok(), Some(step));

    let (_, _, opened) =
        transition(None, Level::MajorSensitive, &Actor::system(), &Action::Report { note: String::new() }, t(0))
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(opened.fields, json!({}));
    assert_eq!(opened.from_state, None);
    assert_eq!(serde_json::to_value(&opened).ok().map(|v| v["from_state"].clone()), Some(json!(null)));
}

#[test]
fn display_messages_are_one_clear_sentence() {
    let cases: Vec<(FlowError, &str, &str)> = vec![
        (
            FlowError::Forbidden { action: ActionKind::Assess, role: Some(Role::Member) },
            "a user with the member role may not assess a case; only the office and admins may `assess`",
            "干部职工无权执行“研判”（仅限网宣办和管理员）",
        ),
        (
            FlowError::Forbidden { action: ActionKind::Decide, role: Some(Role::Office) },
            "a user with the office role may not decide on a case; only leaders may `decide`",
            "网宣办无权执行“领导决定”（仅限领导小组）",
        ),
        (
            FlowError::Forbidden { action: ActionKind::Dismiss, role: None },
            "the system may not dismiss a case; only the office, admins and leaders may `dismiss`",
            "系统无权执行“无需处置”（仅限网宣办、管理员和领导小组）",
        ),
        (
            FlowError::Forbidden { action: ActionKind::Report, role: None },
            "the system may report an item by itself only when it is major-sensitive",
            "系统只能为重大敏感信息自动报送",
        ),
        (
            FlowError::WrongState { action: ActionKind::Assess, state: Some(CaseState::Answering) },
            "cannot assess a case in state `answering`: `assess` applies only to a case in state `reported`",
            "处置单当前状态为“待回应”，不能执行“研判”",
        ),
        (
            FlowError::WrongState { action: ActionKind::Dismiss, state: Some(CaseState::Closed) },
            "cannot dismiss a case in state `closed`: `dismiss` applies only to an open case",
            "处置单当前状态为“已办结”，不能执行“无需处置”",
        ),
        (
            FlowError::WrongState { action: ActionKind::Respond, state: None },
            "`respond` needs an open case and there is none; report the item first",
            "尚无处置单，不能执行“回应”，请先报送",
        ),
        (
            FlowError::WrongState { action: ActionKind::Report, state: Some(CaseState::Closed) },
            "cannot add a report to a closed case; reporting the item again opens a new case",
            "处置单已办结，不能再追加报送；重新报送将开立新的处置单",
        ),
        (
            FlowError::Invalid { field: "note", reason: InvalidReason::Empty },
            "the field `note` must not be empty",
            "说明不能为空",
        ),
        (
            FlowError::Invalid { field: "text", reason: InvalidReason::TooLong { max: 50_000 } },
            "the field `text` must be at most 50000 characters long",
            "回应内容不能超过 50000 个字",
        ),
        (
            FlowError::Invalid { field: "url", reason: InvalidReason::NotHttpUrl },
            "the field `url` must be an http:// or https:// address",
            "回应链接必须是以 http:// 或 https:// 开头的网址",
        ),
        (
            FlowError::BrokenLog { index: 2, reason: "it was taken in state `closed`".into() },
            "step 2 of the case's record cannot be replayed: it was taken in state `closed`",
            "处置记录第 3 步有误，无法还原处置单，请联系管理员",
        ),
    ];
    for (err, en, zh) in cases {
        assert_eq!(err.to_string(), en);
        assert_eq!(err.zh(), zh);
        assert!(!en.ends_with('.') && !en.contains(". "), "one sentence: {en}");
    }
}

#[test]
fn every_forbidden_and_wrong_state_message_reads_well() {
    // No placeholder leaks and every message names the action, for every combination.
    for &kind in ActionKind::ALL {
        for role in [None, Some(Role::Member), Some(Role::Office), Some(Role::Leader), Some(Role::Admin)] {
            let e = FlowError::Forbidden { action: kind, role };
            assert!(!e.to_string().is_empty() && !e.zh().is_empty());
        }
        for state in std::iter::once(None).chain(CaseState::ALL.iter().copied().map(Some)) {
            let e = FlowError::WrongState { action: kind, state };
            let en = e.to_string();
            assert!(en.contains(kind.id()) || en.contains("report"), "{en}");
            assert!(e.zh().contains(kind.zh()) || kind == ActionKind::Report, "{}", e.zh());
        }
    }
}
