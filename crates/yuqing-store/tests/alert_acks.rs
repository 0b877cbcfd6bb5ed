//! Acknowledgement and escalation of alerts in the store (migration 0009), on every
//! backend: an alert is opened when its first message is sent, acknowledged once,
//! escalates round by round with each round written to the outbox once (however many
//! processes try), and overdue cases escalate once per deadline.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use yuqing_core::{Category, Level, Role, Tier, Tone};
use yuqing_store::testing::each;
use yuqing_store::{ack_token, ack_token_valid, AckBy, AckOutcome, EscalationRow, NewItem, OpenAlert, Store};

/// A minute from the test's start (whole seconds), plus `minutes`: after the outbox rows'
/// first attempt time, which is the real time of the ingest.
fn at(minutes: i64) -> DateTime<Utc> {
    static BASE: std::sync::OnceLock<DateTime<Utc>> = std::sync::OnceLock::new();
    let base = *BASE.get_or_init(|| {
        let now = Utc::now() + TimeDelta::minutes(1);
        Utc.timestamp_opt(now.timestamp(), 0).single().unwrap_or(now)
    });
    base + TimeDelta::minutes(minutes)
}

fn item(url: &str, level: Level) -> NewItem {
    let body = "近日，有网民在留言板反映，上犹县某乡镇部分群众的一卡通补贴迟迟未到账。上犹县财政局高度重视，第一时间组织人员核实情况。";
    NewItem {
        source: "上犹论坛".into(),
        tier: Tier::Local,
        url: url.into(),
        canonical_url: url.into(),
        title: "一卡通补贴迟迟未到账".into(),
        published_at: None,
        fetched_at: at(0),
        content: body.into(),
        encoding: "utf-8".into(),
        tone: Tone::Negative,
        tone_score: -0.8,
        categories: vec![Category::Livelihood],
        matched_rules: vec!["上犹财政".into()],
        level,
        level_reason: "负面".into(),
        simhash: yuqing_text::simhash::simhash(body),
        raw: None,
        alert_channels: vec!["hook".into(), "mail".into()],
    }
}

fn rows(notice: &str) -> Vec<EscalationRow> {
    ["hook", "leaders"].iter().map(|c| EscalationRow { channel: c.to_string(), notice: notice.into() }).collect()
}

#[tokio::test]
async fn an_alert_is_opened_on_its_first_send_acknowledged_once_and_escalates_once_per_round() {
    for t in each().await {
        let second = t.reopen().await;
        acks_on(&t.store, &second).await;
        second.close().await;
        t.close().await;
    }
}

async fn acks_on(store: &Store, other_process: &Store) {
    store.ingest(item("https://bbs.example/1", Level::Important)).await.expect("ingest");
    let due = store.due_alerts(at(0), 10).await.expect("due");
    assert_eq!(due.len(), 2);
    assert!(due.iter().all(|r| r.is_first_alert() && r.key == "item-1"));
    assert!(store.alert_by_key("item-1").await.expect("read").is_none(), "no alert before a message is out");
    let open = OpenAlert {
        level: Level::Important,
        sensitive: true,
        alerted: vec!["张三".into()],
        next_check_at: Some(at(10)),
    };
    store.mark_alert_sent_opening(&due[0], at(1), &open).await.expect("sent");
    // The second channel's message does not move the record.
    let later = OpenAlert { sensitive: false, next_check_at: Some(at(99)), ..open.clone() };
    store.mark_alert_sent_opening(&due[1], at(2), &later).await.expect("sent");
    let a = store.alert_by_key("item-1").await.expect("read").expect("opened");
    assert_eq!((a.sent_at, a.sensitive, a.next_check_at, a.rounds), (at(1), true, Some(at(10)), 0));
    assert_eq!(a.alerted, ["张三"]);
    assert_eq!(a.title.as_deref(), Some("一卡通补贴迟迟未到账"));
    assert_eq!(store.alert_channels("item-1").await.expect("channels"), ["hook", "mail"]);

    // Not due before its check; due from it.
    assert!(store.alerts_due_for_escalation(at(9), 10).await.expect("due").is_empty());
    let due = store.alerts_due_for_escalation(at(10), 10).await.expect("due");
    assert_eq!(due.iter().map(|a| a.id).collect::<Vec<_>>(), [a.id]);

    // Round 1, written by two processes at once: once.
    let round1 = rows("升级至：李四");
    let (x, y) = tokio::join!(
        store.write_escalation(a.id, a.item_id, 1, Some(at(40)), &round1, at(10)),
        other_process.write_escalation(a.id, a.item_id, 1, Some(at(40)), &round1, at(10)),
    );
    assert!(x.expect("write") ^ y.expect("write"), "exactly one of the two wrote round 1");
    assert!(!store.write_escalation(a.id, a.item_id, 1, Some(at(40)), &rows("x"), at(11)).await.expect("again"));
    let out = store.due_alerts(at(11), 10).await.expect("due");
    assert_eq!(out.len(), 2, "{out:?}");
    let key = format!("alert-{}-escalation-1", a.id);
    assert!(out.iter().all(|r| r.key == key && r.alert_id == Some(a.id) && r.escalation_round == Some(1)));
    assert!(out.iter().all(|r| r.notice.as_deref() == Some("升级至：李四") && !r.is_first_alert()));
    assert_eq!(out.iter().map(|r| r.channel.as_str()).collect::<Vec<_>>(), ["hook", "leaders"]);
    let a1 = store.alert(a.id).await.expect("read").expect("alert");
    assert_eq!((a1.rounds, a1.next_check_at), (1, Some(at(40))));
    assert!(store.alerts_due_for_escalation(at(39), 10).await.expect("due").is_empty());

    // Acknowledged: once; the second is told who was first; escalation stops.
    let zhang = AckBy { user_id: None, name: "张三", via: "link" };
    let AckOutcome::Acknowledged(acked) = store.acknowledge_alert("item-1", &zhang, at(20)).await.expect("ack") else {
        panic!("acknowledged")
    };
    assert_eq!(
        (acked.acked_at, acked.acked_by.as_deref(), acked.acked_via.as_deref()),
        (Some(at(20)), Some("张三"), Some("link"))
    );
    assert_eq!(acked.next_check_at, None);
    let li = AckBy { user_id: None, name: "李四", via: "ui" };
    let AckOutcome::Already(first) = store.acknowledge_alert("item-1", &li, at(21)).await.expect("ack") else {
        panic!("already")
    };
    assert_eq!(first.acked_by.as_deref(), Some("张三"));
    assert!(matches!(store.acknowledge_alert("item-99", &li, at(21)).await.expect("ack"), AckOutcome::NoAlert));
    assert!(store.alerts_due_for_escalation(at(1000), 10).await.expect("due").is_empty());
    assert!(!store.write_escalation(a.id, a.item_id, 2, Some(at(70)), &rows("x"), at(41)).await.expect("acked"));
    assert_eq!(store.alerts(true, 10).await.expect("list").len(), 0);
    assert_eq!(store.alerts(false, 10).await.expect("list").len(), 1);
    assert_eq!(store.alerts_of_item(1).await.expect("list").len(), 1);

    // Overdue cases: once per key.
    let zhao = store.upsert_user("zhao", Role::Member, "a-long-password").await.expect("user");
    let member = yuqing_cases::Actor::user(zhao.id, "zhao", Role::Member);
    let case = store.report_item(1, &member, "请网宣办关注", at(30)).await.expect("report");
    assert_eq!(case.case.id, 1);
    let case_rows = rows("逾期未研判");
    assert!(store.write_case_escalation(1, Some(1), "case-1-overdue-assess", &case_rows, at(50)).await.expect("w"));
    assert!(!store.write_case_escalation(1, Some(1), "case-1-overdue-assess", &case_rows, at(51)).await.expect("w"));
    let keys = store.case_escalation_keys().await.expect("keys");
    assert_eq!(keys.into_iter().collect::<Vec<_>>(), ["case-1-overdue-assess"]);

    // The signing secret is made once and shared by the processes on the database.
    let s1 = store.ack_secret().await.expect("secret");
    let s2 = other_process.ack_secret().await.expect("secret");
    assert_eq!(s1.len(), 32);
    assert_eq!(s1, s2);
    assert!(ack_token_valid(&s2, "item-1", &ack_token(&s1, "item-1")));

    store.upsert_user("刘书记", Role::Leader, "a-long-password").await.expect("user");
    store.upsert_user("张三", Role::Office, "a-long-password").await.expect("user");
    assert_eq!(store.user_names_with_role(Role::Leader).await.expect("leaders"), ["刘书记"]);
}

#[tokio::test]
async fn a_deferred_alert_waits_without_counting_an_attempt() {
    for t in each().await {
        let store = &t.store;
        store.ingest(item("https://bbs.example/2", Level::Ordinary)).await.expect("ingest");
        let due = store.due_alerts(Utc::now(), 10).await.expect("due");
        let until = Utc::now() + TimeDelta::hours(3);
        for r in &due {
            store.defer_alert(r.id, until).await.expect("defer");
        }
        assert!(store.due_alerts(Utc::now(), 10).await.expect("due").is_empty());
        let later = store.due_alerts(until, 10).await.expect("due");
        assert_eq!(later.len(), 2);
        assert!(later.iter().all(|r| r.attempts == 0));
        t.close().await;
    }
}
