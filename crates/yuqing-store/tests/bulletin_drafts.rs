//! Bulletin drafts and issuing, on every backend: a draft is edited at the revision it
//! was read, issued once, frozen after; numbers run n, n+1 without collision, also
//! when drafts, `bulletin create` and two processes number at once; the period
//! queries read what the reports need.

use chrono::{DateTime, Duration, TimeZone, Utc};
use std::sync::Arc;
use yuqing_cases::{Action, Actor, CaseState, Path};
use yuqing_core::{Category, Level, Role, Tier, Tone};
use yuqing_store::testing::each;
use yuqing_store::{DraftError, IngestOutcome, IssueNumbers, NewItem};

fn numbers_json(n: IssueNumbers) -> Result<String, String> {
    Ok(format!(r#"{{"number":{},"in_year":{}}}"#, n.number, n.number_in_year))
}

#[tokio::test]
async fn draft_edits_need_the_current_revision_and_stop_at_issue() {
    for t in each().await {
        let s = &t.store;
        let d = s.create_draft("2026-11-01", "2026-11-07", r#"{"v":1}"#, "zhang", None).await.expect("create");
        assert_eq!((d.revision, d.issued_number, d.created_by.as_str()), (1, None, "zhang"));
        let d2 = s.update_draft(d.id, 1, r#"{"v":2}"#, "li").await.expect("update");
        assert_eq!((d2.revision, d2.content.as_str(), d2.updated_by.as_str()), (2, r#"{"v":2}"#, "li"));

        // A second editor who opened revision 1 is refused, and nothing changes.
        let e = s.update_draft(d.id, 1, r#"{"v":"lost"}"#, "wang").await.unwrap_err();
        assert!(matches!(e, DraftError::Stale { expected: 1, current: 2, .. }), "{e}");
        assert_eq!(s.draft(d.id).await.expect("read").expect("draft").content, r#"{"v":2}"#);
        assert_eq!(s.open_drafts(10).await.expect("open").len(), 1);

        // Issuing at a stale revision is refused too; at the current one it numbers it.
        let e = s.issue_draft(d.id, 1, 2026, "zhang", numbers_json).await.unwrap_err();
        assert!(matches!(e, DraftError::Stale { .. }), "{e}");
        let issued = s.issue_draft(d.id, 2, 2026, "zhang", numbers_json).await.expect("issue");
        assert_eq!((issued.number, issued.number_in_year, issued.year), (1, 1, 2026));
        assert_eq!(issued.content, r#"{"number":1,"in_year":1}"#, "the content is frozen with its numbers");
        assert_eq!((issued.issued_by.as_deref(), issued.draft_id), (Some("zhang"), Some(d.id)));
        assert_eq!((issued.since.as_str(), issued.until.as_str()), ("2026-11-01", "2026-11-07"));

        // Frozen: no edit, no second issue, no delete; the draft points at its number.
        let after = s.draft(d.id).await.expect("read").expect("draft");
        assert_eq!(after.issued_number, Some(1));
        for e in [
            s.update_draft(d.id, after.revision, "{}", "zhang").await.unwrap_err(),
            s.issue_draft(d.id, after.revision, 2026, "zhang", numbers_json).await.unwrap_err(),
            s.delete_draft(d.id, after.revision).await.unwrap_err(),
        ] {
            assert!(matches!(e, DraftError::Issued { number: 1, .. }), "{e}");
        }
        assert!(s.open_drafts(10).await.expect("open").is_empty());
        assert_eq!(s.issued_bulletin(1).await.expect("read").expect("issue").content, issued.content);
        assert!(matches!(s.update_draft(999, 1, "{}", "x").await.unwrap_err(), DraftError::NoDraft(999)));
        t.close().await;
    }
}

#[tokio::test]
async fn numbers_run_on_across_drafts_cli_issues_and_years() {
    for t in each().await {
        let s = &t.store;
        let a = s.create_draft("2026-11-01", "2026-11-07", "{}", "zhang", None).await.expect("a");
        let b = s.create_draft("2026-11-08", "2026-11-14", "{}", "zhang", None).await.expect("b");
        // A failed freeze stores nothing and uses no number.
        let e = s.issue_draft(a.id, 1, 2026, "zhang", |_| Err("broken".into())).await.unwrap_err();
        assert!(e.to_string().contains("broken"), "{e}");
        assert_eq!(s.next_bulletin_numbers(2026).await.expect("next").number, 1);

        let n1 = s.issue_draft(b.id, 1, 2026, "zhang", numbers_json).await.expect("b").number;
        let n2 = s.issue_bulletin(2026, "2026-11-15", "2026-11-21", "cli", numbers_json).await.expect("cli");
        let n3 = s.issue_draft(a.id, 1, 2026, "li", numbers_json).await.expect("a");
        assert_eq!((n1, n2.number, n3.number), (1, 2, 3));
        assert_eq!((n2.draft_id, n2.issued_by.as_deref()), (None, Some("cli")));
        // The old numbering shares the sequence.
        assert_eq!(s.create_bulletin(2026, "2026-11-22", "2026-11-28", "{}").await.expect("old").number, 4);

        // A new year: the running number goes on, the number in the year starts again.
        let next = s.next_bulletin_numbers(2027).await.expect("next");
        assert_eq!((next.number, next.number_in_year), (5, 1));
        let y = s.issue_bulletin(2027, "2027-01-01", "2027-01-07", "cli", numbers_json).await.expect("2027");
        assert_eq!((y.number, y.year, y.number_in_year), (5, 2027, 1));
        assert_eq!(s.next_bulletin_numbers(2026).await.expect("next").number_in_year, 5);

        let (list, total) = s.issued_bulletins(3, 0).await.expect("list");
        assert_eq!(total, 5);
        assert_eq!(list.iter().map(|b| b.number).collect::<Vec<_>>(), [5, 4, 3]);
        let (rest, _) = s.issued_bulletins(3, 3).await.expect("list");
        assert_eq!(rest.iter().map(|b| b.number).collect::<Vec<_>>(), [2, 1]);
        t.close().await;
    }
}

#[tokio::test]
async fn a_correction_is_a_new_issue_that_names_the_one_it_corrects() {
    for t in each().await {
        let s = &t.store;
        let first = s.issue_bulletin(2026, "2026-11-01", "2026-11-07", "cli", numbers_json).await.expect("first");
        assert!(matches!(
            s.create_draft("2026-11-01", "2026-11-07", "{}", "zhang", Some(42)).await.unwrap_err(),
            DraftError::NoBulletin(42)
        ));
        let fix = s.create_draft("2026-11-01", "2026-11-07", "{}", "zhang", Some(first.number)).await.expect("fix");
        assert_eq!(fix.corrects, Some(1));
        let second = s.issue_draft(fix.id, 1, 2026, "zhang", numbers_json).await.expect("issue");
        assert_eq!((second.number, second.corrects), (2, Some(1)));
        assert_eq!(s.corrections_of(1).await.expect("of"), [2]);
        assert!(s.corrections_of(2).await.expect("of").is_empty());
        // The corrected issue itself is untouched.
        assert_eq!(s.issued_bulletin(1).await.expect("read").expect("1").content, first.content);
        t.close().await;
    }
}

#[tokio::test]
async fn drafts_can_be_deleted_until_issued() {
    for t in each().await {
        let s = &t.store;
        let d = s.create_draft("2026-11-01", "2026-11-07", "{}", "zhang", None).await.expect("create");
        assert!(matches!(s.delete_draft(d.id, 7).await.unwrap_err(), DraftError::Stale { .. }));
        s.delete_draft(d.id, 1).await.expect("delete");
        assert!(s.draft(d.id).await.expect("read").is_none());
        assert!(matches!(s.delete_draft(d.id, 1).await.unwrap_err(), DraftError::NoDraft(_)));
        t.close().await;
    }
}

/// Two stores on one database (two processes) issue drafts, the same draft twice
/// and compiled issues at once: every number is given once, without gaps, and each
/// draft is issued exactly once.
#[tokio::test]
async fn concurrent_issuing_never_collides_and_issues_a_draft_once() {
    for t in each().await {
        let a = Arc::new(t.reopen().await);
        let b = Arc::new(t.reopen().await);
        let mut drafts = Vec::new();
        for i in 0..6 {
            drafts.push(
                a.create_draft("2026-11-01", "2026-11-07", &format!("{{\"d\":{i}}}"), "zhang", None)
                    .await
                    .expect("draft")
                    .id,
            );
        }
        let mut tasks = Vec::new();
        for (i, id) in drafts.iter().copied().enumerate() {
            // Each draft is issued from both "processes" at once: one must win.
            for s in [a.clone(), b.clone()] {
                tasks.push(tokio::spawn(async move {
                    match s.issue_draft(id, 1, 2026, "zhang", numbers_json).await {
                        Ok(issued) => Some(issued.number),
                        Err(DraftError::Issued { .. }) | Err(DraftError::Stale { .. }) => None,
                        Err(e) => panic!("draft {i}: {e}"),
                    }
                }));
            }
        }
        for i in 0..6 {
            let s = if i % 2 == 0 { a.clone() } else { b.clone() };
            tasks.push(tokio::spawn(async move {
                Some(s.issue_bulletin(2026, "2026-11-01", "2026-11-07", "cli", numbers_json).await.expect("cli").number)
            }));
        }
        let mut numbers = Vec::new();
        for task in tasks {
            numbers.extend(task.await.expect("join"));
        }
        numbers.sort();
        assert_eq!(numbers, (1..=12).collect::<Vec<i64>>(), "6 drafts once each and 6 compiled issues");
        for id in drafts {
            assert!(a.draft(id).await.expect("read").expect("draft").issued_number.is_some());
        }
        let (all, _) = a.issued_bulletins(100, 0).await.expect("list");
        let mut in_year: Vec<i64> = all.iter().map(|b| b.number_in_year).collect();
        in_year.sort();
        assert_eq!(in_year, (1..=12).collect::<Vec<i64>>());
        a.close().await;
        b.close().await;
        t.close().await;
    }
}

fn item(n: i64, title: &str, content: &str, tone: Tone, level: Level, at: DateTime<Utc>, simhash: u64) -> NewItem {
    NewItem {
        source: if n % 2 == 0 { "县政府网".into() } else { "人民网".into() },
        tier: if n % 2 == 0 { Tier::Local } else { Tier::Central },
        url: format!("https://site.example/{n}"),
        canonical_url: format!("https://site.example/{n}"),
        title: title.into(),
        published_at: Some(at.fixed_offset()),
        fetched_at: at + Duration::minutes(5),
        content: content.into(),
        encoding: "utf-8".into(),
        tone,
        tone_score: 0.0,
        categories: vec![Category::Livelihood],
        matched_rules: vec!["r".into()],
        level,
        level_reason: "测试".into(),
        simhash,
        raw: None,
        alert_channels: vec![],
    }
}

#[tokio::test]
async fn period_queries_read_items_leads_cases_and_answers() {
    for t in each().await {
        let s = &t.store;
        let day = |d: u32, h: u32| Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).single().expect("time");
        let long: String = "群众反映惠农补贴至今未发放到一卡通，多次询问没有答复。".repeat(100);
        let mut ids = Vec::new();
        for (n, (title, content, tone, level, at, hash)) in [
            ("补贴未发放", long.as_str(), Tone::Negative, Level::Important, day(2, 1), 0x1u64),
            ("转载：补贴未发放", long.as_str(), Tone::Negative, Level::Important, day(3, 1), 0x3),
            (
                "预算公开",
                "县财政局公开预算，群众评价积极，认为资金使用更加透明了。",
                Tone::Positive,
                Level::Ordinary,
                day(4, 1),
                0xFFFF_0000_0000_0000,
            ),
            (
                "期外信息",
                "不在本期的信息，用来检查时间范围是否正确地被遵守了。",
                Tone::Neutral,
                Level::Ordinary,
                day(20, 1),
                0x0F0F_0F0F_0000_0000,
            ),
        ]
        .into_iter()
        .enumerate()
        {
            ids.push(match s.ingest(item(n as i64, title, content, tone, level, at, hash)).await.expect("ingest") {
                IngestOutcome::New { id } | IngestOutcome::Duplicate { id, .. } | IngestOutcome::Known { id } => id,
            });
        }
        s.flush().await.expect("flush");
        let items = s.period_items(day(1, 0), day(8, 0), 100, true).await.expect("items");
        assert_eq!(items.iter().map(|p| p.item.id).collect::<Vec<_>>(), ids[..3], "oldest first, period only");
        assert_eq!(items[1].item.duplicate_of, Some(ids[0]), "the repost groups with the first");
        assert_eq!(items[0].sort_at, day(2, 1));
        let lead = items[0].lead.as_deref().expect("lead");
        assert_eq!(lead.chars().count(), yuqing_store::LEAD_CHARS as usize, "the lead is cut in characters");
        assert!(items.iter().all(|p| p.case_state.is_none()));
        // The limit reads one more row, so the caller can tell it was reached.
        assert_eq!(s.period_items(day(1, 0), day(8, 0), 2, false).await.expect("items").len(), 3);
        assert!(s.period_items(day(1, 0), day(8, 0), 100, false).await.expect("items")[0].lead.is_none());
        assert_eq!(s.event_items(ids[0], 10).await.expect("event").len(), 2);
        let leads = s.item_leads(&ids[2..]).await.expect("leads");
        assert!(leads[&ids[2]].starts_with("县财政局公开预算"));

        // A case: reported, assessed, answered on an official channel.
        s.upsert_user("zhang", Role::Office, "correct horse battery").await.expect("user");
        let office = s.user_by_name("zhang").await.expect("user").expect("zhang");
        let actor = Actor::user(office.id, office.name.clone(), office.role);
        let opened = day(2, 2);
        let case = s.report_item(ids[0], &actor, "请关注", opened).await.expect("report").case.id;
        s.case_action(
            case,
            &actor,
            &Action::Assess { level: Level::Important, path: Path::Policy, note: "按政策答复".into() },
            opened + Duration::minutes(30),
        )
        .await
        .expect("assess");
        s.case_action(
            case,
            &actor,
            &Action::Respond {
                channel: "县政府网站".into(),
                text: "补贴已于11月3日发放到位。".into(),
                url: Some("https://gov.example.org/answer".into()),
                note: "局长审定".into(),
            },
            opened + Duration::hours(3),
        )
        .await
        .expect("respond");
        let cases = s.period_cases(day(1, 0), day(8, 0), 10).await.expect("cases");
        assert_eq!(cases.len(), 1);
        let c = &cases[0];
        assert_eq!((c.item_id, c.level, c.state), (Some(ids[0]), Level::Important, CaseState::Answered));
        assert_eq!(c.assessed_at, Some(opened + Duration::minutes(30)));
        assert_eq!(c.answered_at, Some(opened + Duration::hours(3)));
        assert_eq!(c.dismissed_at, None);
        assert_eq!(c.answer_due, opened + Duration::hours(24));
        assert!(s.period_cases(day(10, 0), day(12, 0), 10).await.expect("cases").is_empty());

        let brief = s.case_brief(ids[0], opened + Duration::hours(4)).await.expect("brief").expect("case");
        assert_eq!((brief.case_id, brief.state, brief.overdue), (case, CaseState::Answered, false));
        let answer = brief.answer.expect("answer");
        assert_eq!((answer.channel.as_str(), answer.text.as_str()), ("县政府网站", "补贴已于11月3日发放到位。"));
        assert_eq!(answer.url.as_deref(), Some("https://gov.example.org/answer"));
        assert!(s.case_brief(ids[2], opened).await.expect("brief").is_none());
        let items = s.period_items(day(1, 0), day(8, 0), 100, false).await.expect("items");
        assert_eq!(items[0].case_state, Some(CaseState::Answered));
        t.close().await;
    }
}
