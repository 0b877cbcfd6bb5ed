//! The store's promises: idempotent ingest, near-duplicates linked to the first-seen
//! item, search that agrees with the filters, an index that catches up after a crash,
//! and logins that keep no secret in the clear.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use yuqing_core::{Category, Level, Role, Tier, Tone};
use yuqing_store::{IngestOutcome, ItemFilter, ItemQuery, NewItem, RawPage, Store};

const BODY_A: &str = "11月21日，上犹县财政局通过惠民惠农财政补贴资金一卡通系统，向全县农户发放2026年耕地地力保护补贴，\
共涉及农户三万余户，发放资金四千余万元。据了解，今年的补贴资金在10月底前已全部下达到各乡镇财政所，经过村级公示、\
乡镇审核、县级复核等环节后统一发放，确保资金安全、精准到户。";
const BODY_B: &str = "近日，有网民在留言板反映，上犹县某乡镇部分群众的一卡通补贴迟迟未到账。上犹县财政局高度重视，\
第一时间组织人员核实情况。经核查，该乡镇部分农户因银行账户信息变更未及时更新，导致补贴发放失败。";

fn t(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).expect("time")
}

fn item(url: &str, title: &str, body: &str, published: &str, tone: Tone, tier: Tier) -> NewItem {
    NewItem {
        source: "测试源".into(),
        tier,
        url: url.into(),
        canonical_url: url.into(),
        title: title.into(),
        published_at: Some(t(published)),
        fetched_at: Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).single().expect("time"),
        content: body.into(),
        encoding: "utf-8".into(),
        tone,
        tone_score: if tone == Tone::Negative { -0.5 } else { 0.0 },
        categories: vec![Category::Livelihood],
        matched_rules: vec!["上犹财政".into()],
        level: Level::Ordinary,
        level_reason: "无风险因素".into(),
        simhash: yuqing_text::simhash::simhash(body),
        raw: Some(RawPage { content_type: Some("text/html".into()), body: format!("<p>{body}</p>").into_bytes() }),
        alert_channels: vec![],
    }
}

async fn open(dir: &std::path::Path) -> Store {
    Store::open(dir).await.expect("open store")
}

use yuqing_store::testing::each;

#[tokio::test]
async fn ingest_is_idempotent_and_links_reposts() {
    for t in each().await {
        ingest_is_idempotent_and_links_reposts_on(&t.store).await;
        t.close().await;
    }
}

async fn ingest_is_idempotent_and_links_reposts_on(store: &Store) {
    let a =
        item("https://a.example/1", "上犹发放补贴", BODY_A, "2026-11-21T14:05:00+08:00", Tone::Neutral, Tier::Local);
    let IngestOutcome::New { id: a_id } = store.ingest(a.clone()).await.expect("ingest") else { panic!("new") };
    assert_eq!(store.ingest(a).await.expect("again"), IngestOutcome::Known { id: a_id });

    // A repost: another URL, a new lead, the same story.
    let repost_body = format!("（本网讯）{BODY_A}");
    let r = item(
        "https://b.example/9",
        "转载：上犹补贴发放",
        &repost_body,
        "2026-11-21T16:00:00+08:00",
        Tone::Neutral,
        Tier::Portal,
    );
    let IngestOutcome::Duplicate { id: r_id, of } = store.ingest(r).await.expect("ingest") else { panic!("duplicate") };
    assert_eq!(of, a_id);
    // A repost of the repost still points at the first-seen item.
    let r2 = item(
        "https://c.example/3",
        "再转载",
        &format!("{repost_body}。"),
        "2026-11-22T08:00:00+08:00",
        Tone::Neutral,
        Tier::Other,
    );
    assert!(matches!(store.ingest(r2).await.expect("ingest"), IngestOutcome::Duplicate { of, .. } if of == a_id));

    let b = item(
        "https://a.example/2",
        "上犹回应一卡通留言",
        BODY_B,
        "2026-11-22T09:30:00+08:00",
        Tone::Negative,
        Tier::Local,
    );
    assert!(matches!(store.ingest(b).await.expect("ingest"), IngestOutcome::New { .. }));

    let detail = store.item(a_id).await.expect("item").expect("exists");
    assert_eq!(detail.duplicates.len(), 2);
    assert!(detail.duplicates.iter().any(|d| d.id == r_id));
    let dup = store.item(r_id).await.expect("item").expect("exists");
    assert_eq!(dup.item.duplicate_of, Some(a_id));
    assert!(dup.duplicates.iter().any(|d| d.id == a_id), "a duplicate lists its first-seen item");

    let raw = store.raw_page(a_id).await.expect("raw").expect("kept");
    assert!(String::from_utf8_lossy(&raw.body).contains("上犹县财政局"));
    assert_eq!(store.counts().await.expect("counts").items, 4);
}

#[tokio::test]
async fn stream_and_search_filter_and_order() {
    for t in each().await {
        stream_and_search_filter_and_order_on(&t.store).await;
        t.close().await;
    }
}

async fn stream_and_search_filter_and_order_on(store: &Store) {
    store
        .ingest(item(
            "https://a.example/1",
            "上犹发放补贴",
            BODY_A,
            "2026-11-21T14:05:00+08:00",
            Tone::Neutral,
            Tier::Local,
        ))
        .await
        .expect("ingest");
    store
        .ingest(item(
            "https://a.example/2",
            "上犹回应一卡通留言",
            BODY_B,
            "2026-11-22T09:30:00+08:00",
            Tone::Negative,
            Tier::HomeCity,
        ))
        .await
        .expect("ingest");
    store.flush().await.expect("flush");

    let all = store.items(&ItemQuery { limit: 10, ..Default::default() }).await.expect("items");
    assert_eq!(all.total, 2);
    assert_eq!(all.items[0].title, "上犹回应一卡通留言", "newest first");

    let q = |text: &str, filter: ItemFilter| ItemQuery { q: Some(text.into()), filter, limit: 10, offset: 0 };
    let hits = store.items(&q("一卡通", ItemFilter::default())).await.expect("search");
    assert_eq!(hits.total, 2, "both texts mention 一卡通");
    let hits = store.items(&q("留言板", ItemFilter::default())).await.expect("search");
    assert_eq!(hits.items.iter().map(|i| i.title.as_str()).collect::<Vec<_>>(), ["上犹回应一卡通留言"]);
    let neg = ItemFilter { tone: Some(Tone::Negative), ..Default::default() };
    assert_eq!(store.items(&q("上犹", neg.clone())).await.expect("search").total, 1);
    assert_eq!(store.items(&ItemQuery { filter: neg, limit: 10, ..Default::default() }).await.expect("list").total, 1);
    let local = ItemFilter { tier: Some(Tier::Local), ..Default::default() };
    assert_eq!(store.items(&q("补贴", local)).await.expect("search").items[0].title, "上犹发放补贴");
    let since = ItemFilter {
        since: Some(Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0).single().expect("t")),
        ..Default::default()
    };
    assert_eq!(store.items(&q("上犹", since.clone())).await.expect("search").total, 1);
    assert_eq!(
        store.items(&ItemQuery { filter: since, limit: 10, ..Default::default() }).await.expect("list").total,
        1
    );
    let cat = ItemFilter { category: Some(Category::Livelihood), ..Default::default() };
    assert_eq!(store.items(&q("上犹", cat)).await.expect("search").total, 2);
    let other = ItemFilter { category: Some(Category::Rumour), ..Default::default() };
    assert_eq!(store.items(&q("上犹", other)).await.expect("search").total, 0);
    // Paging.
    let page2 = store
        .items(&ItemQuery { q: Some("上犹".into()), limit: 1, offset: 1, ..Default::default() })
        .await
        .expect("page");
    assert_eq!((page2.total, page2.items.len()), (2, 1));
    assert_eq!(page2.items[0].title, "上犹发放补贴");
}

#[tokio::test]
async fn index_catches_up_after_a_crash_and_rebuilds() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = open(dir.path()).await;
        store
            .ingest(item(
                "https://a.example/1",
                "上犹发放补贴",
                BODY_A,
                "2026-11-21T14:05:00+08:00",
                Tone::Neutral,
                Tier::Local,
            ))
            .await
            .expect("ingest");
        // No flush: as if the process died before the index commit.
        store.pool().close().await;
    }
    let store = open(dir.path()).await;
    assert_eq!(
        store.items(&ItemQuery { q: Some("补贴".into()), limit: 10, ..Default::default() }).await.expect("s").total,
        1
    );
    store.close().await;

    // The index folder lost entirely: rebuilt from the store on open.
    std::fs::remove_dir_all(dir.path().join("index")).expect("rm index");
    let store = open(dir.path()).await;
    assert_eq!(
        store.items(&ItemQuery { q: Some("补贴".into()), limit: 10, ..Default::default() }).await.expect("s").total,
        1
    );
    let n = store.reindex(|_, _| {}).await.expect("reindex");
    assert_eq!(n, 1);
}

#[tokio::test]
async fn sources_health_and_validators() {
    for t in each().await {
        sources_health_and_validators_on(&t.store).await;
        t.close().await;
    }
}

async fn sources_health_and_validators_on(store: &Store) {
    let cfg = yuqing_core::config::Config::parse(
        "[[sources]]\nname='s1'\nkind='feed'\nurl='https://a.example/rss'\ntier='local'\n",
        "t",
        &|_| Ok(()),
    )
    .expect("config");
    store.sync_sources(&cfg.sources).await.expect("sync");
    let at = Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, 0).single().expect("t");
    store.record_health("s1", at, Err("timed out".into())).await.expect("health");
    store.record_health("s1", at, Err("timed out again".into())).await.expect("health");
    let s = &store.sources().await.expect("sources")[0];
    assert_eq!((s.failures_in_row, s.last_error.as_deref()), (2, Some("timed out again")));
    store.record_health("s1", at, Ok(())).await.expect("health");
    let s = &store.sources().await.expect("sources")[0];
    assert_eq!(s.failures_in_row, 0);
    assert!(s.last_success_at.is_some());
    assert_eq!(store.last_polled("s1").await.expect("polled"), Some(at));

    store.save_validators("https://a.example/rss", Some("\"v1\""), None).await.expect("save");
    assert_eq!(store.validators("https://a.example/rss").await.expect("get"), Some((Some("\"v1\"".into()), None)));

    assert!(!store.is_known("https://x.example/p", "fp1").await.expect("known"));
    store.mark_seen("fp1", at).await.expect("seen");
    assert!(store.is_known("https://x.example/p", "fp1").await.expect("known"));
}

#[tokio::test]
async fn users_sessions_and_tokens() {
    for t in each().await {
        users_sessions_and_tokens_on(&t.store).await;
        t.close().await;
    }
}

async fn users_sessions_and_tokens_on(store: &Store) {
    let pw = store.ensure_admin().await.expect("admin").expect("first run creates admin");
    assert!(store.ensure_admin().await.expect("admin").is_none(), "only once");
    assert!(store.verify_password("admin", &pw).await.expect("verify").is_some_and(|u| u.role == Role::Admin));
    assert!(store.verify_password("admin", "wrong-password").await.expect("verify").is_none());
    assert!(store.verify_password("nobody", &pw).await.expect("verify").is_none());
    assert!(store.upsert_user("x", Role::Member, "short").await.is_err(), "passwords have at least 8 characters");

    let u = store.upsert_user("王科员", Role::Office, "a-long-password").await.expect("user");
    let token = store.create_token("王科员").await.expect("token");
    assert_eq!(store.user_by_token(&token).await.expect("lookup"), Some(u.clone()));
    assert_eq!(store.user_by_token("yq_forged").await.expect("lookup"), None);
    assert!(store.create_token("nobody").await.is_err());

    let (cookie, csrf) = store.create_session(u.id, std::time::Duration::from_secs(60)).await.expect("session");
    let (who, csrf2) = store.session(&cookie).await.expect("session").expect("live");
    assert_eq!((who, csrf2), (u, csrf));
    store.delete_session(&cookie).await.expect("logout");
    assert!(store.session(&cookie).await.expect("session").is_none());

    // Nothing secret is stored in the clear.
    let dump: Vec<String> =
        sqlx::query_scalar("SELECT token_hash FROM api_tokens").fetch_all(store.pool()).await.expect("q");
    assert!(!dump.contains(&token));
    let hashes: Vec<String> =
        sqlx::query_scalar("SELECT password_hash FROM users").fetch_all(store.pool()).await.expect("q");
    assert!(hashes.iter().all(|h| h.starts_with("$argon2")));
}

/// Broke once: a second process (`yuqing token create` beside a running `serve`) could
/// not even open the store, because opening took tantivy's writer lock.
#[tokio::test]
async fn a_second_opener_can_read_while_the_first_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let writer = open(dir.path()).await;
    writer
        .ingest(item(
            "https://a.example/1",
            "上犹发放补贴",
            BODY_A,
            "2026-11-21T14:05:00+08:00",
            Tone::Neutral,
            Tier::Local,
        ))
        .await
        .expect("ingest");
    writer.flush().await.expect("flush");
    let reader = open(dir.path()).await;
    assert_eq!(
        reader.items(&ItemQuery { q: Some("补贴".into()), limit: 10, ..Default::default() }).await.expect("s").total,
        1
    );
    assert!(reader.upsert_user("office1", Role::Office, "a-long-password").await.is_ok());
    let busy = reader.claim_writer().await.expect_err("one writer at a time");
    assert!(busy.to_string().contains("another yuqing process"), "{busy}");
}

mod cases {
    use super::*;
    use yuqing_cases::{Action, Actor, CaseState, FlowError, Path};
    use yuqing_store::CaseError;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).single().expect("t")
    }

    #[tokio::test]
    async fn report_assess_respond_close_with_an_append_only_log() {
        for t in each().await {
            report_assess_respond_close_with_an_append_only_log_on(&t.store).await;
            t.close().await;
        }
    }

    async fn report_assess_respond_close_with_an_append_only_log_on(store: &Store) {
        let IngestOutcome::New { id } = store
            .ingest(item(
                "https://a.example/1",
                "上犹回应一卡通留言",
                BODY_B,
                "2026-11-22T09:30:00+08:00",
                Tone::Negative,
                Tier::Local,
            ))
            .await
            .expect("ingest")
        else {
            panic!("new")
        };
        let m = store.upsert_user("李干部", Role::Member, "a-long-password").await.expect("user");
        let o = store.upsert_user("王科员", Role::Office, "a-long-password").await.expect("user");
        let member = Actor::user(m.id, m.name, Role::Member);
        let office = Actor::user(o.id, o.name, Role::Office);
        let c = store.report_item(id, &member, "群众反映补贴未到账", now()).await.expect("report");
        assert_eq!(c.case.view.state, CaseState::Reported);
        // Reporting the same item again adds to the open case.
        let again = store.report_item(id, &office, "同一事项", now()).await.expect("report again");
        assert_eq!((again.case.id, again.steps.len()), (c.case.id, 2));

        let err = store
            .case_action(c.case.id, &member, &Action::Dismiss { note: "无需处理".into() }, now())
            .await
            .expect_err("a member may not dismiss");
        assert!(matches!(err, CaseError::Flow(FlowError::Forbidden { .. })));
        let err = store
            .case_action(c.case.id, &office, &Action::ReportBack { note: "x".into() }, now())
            .await
            .expect_err("wrong state");
        assert!(matches!(err, CaseError::Flow(FlowError::WrongState { .. })));

        let assess =
            Action::Assess { level: Level::Important, path: Path::Policy, note: "依现行政策答复".into() };
        let c2 = store.case_action(c.case.id, &office, &assess, now()).await.expect("assess");
        assert_eq!((c2.case.view.state, c2.case.view.level), (CaseState::Answering, Level::Important));
        let respond = Action::Respond {
            channel: "县政府网站留言板".into(),
            text: "经核实，补贴已补发到位。".into(),
            url: Some("https://www.example.gov.cn/reply/1".into()),
            note: String::new(),
        };
        store.case_action(c.case.id, &office, &respond, now()).await.expect("respond");
        let done = store
            .case_action(c.case.id, &office, &Action::ReportBack { note: "已报县网宣办".into() }, now())
            .await
            .expect("report back");
        assert_eq!(done.case.view.state, CaseState::Closed);
        assert_eq!(done.steps.len(), 5);
        assert_eq!(done.steps[3].step.fields["channel"], "县政府网站留言板");

        // Nobody can edit or delete a step, not even with SQL.
        assert!(sqlx::query("UPDATE case_steps SET note = 'edited'").execute(store.pool()).await.is_err());
        assert!(sqlx::query("DELETE FROM case_steps").execute(store.pool()).await.is_err());

        // After closing, a new report opens a new case.
        let fresh = store.report_item(id, &member, "又有新的留言", now()).await.expect("report");
        assert_ne!(fresh.case.id, c.case.id);
        let open =
            store.cases(&yuqing_store::CaseFilter { open: true, ..Default::default() }, now(), 50).await.expect("list");
        assert_eq!(open.len(), 1);
    }

    #[tokio::test]
    async fn major_sensitive_items_open_a_case_by_themselves_and_lateness_shows() {
        for t in each().await {
            major_sensitive_items_open_a_case_by_themselves_and_lateness_shows_on(&t.store).await;
            t.close().await;
        }
    }

    async fn major_sensitive_items_open_a_case_by_themselves_and_lateness_shows_on(store: &Store) {
        let mut it = item(
            "https://a.example/9",
            "上犹补贴被冒领",
            BODY_B,
            "2026-11-22T09:30:00+08:00",
            Tone::Negative,
            Tier::Local,
        );
        it.level = Level::MajorSensitive;
        store.ingest(it).await.expect("ingest");
        let later = Utc::now() + chrono::Duration::hours(1);
        let cases = store.cases(&yuqing_store::CaseFilter::default(), later, 50).await.expect("list");
        assert_eq!(cases.len(), 1);
        assert_eq!(cases[0].view.level, Level::MajorSensitive);
        assert!(cases[0].view.overdue.is_some(), "not assessed within 30 minutes");
        let detail = store.case(cases[0].id, later).await.expect("case").expect("exists");
        assert_eq!(detail.steps[0].step.actor, "system");
    }
}

/// The outbox row is written with its item, once, and moves through sent / retry / parked.
#[tokio::test]
async fn alerts_are_written_with_their_item_and_tracked() {
    for t in each().await {
        alerts_are_written_with_their_item_and_tracked_on(&t.store).await;
        t.close().await;
    }
}

async fn alerts_are_written_with_their_item_and_tracked_on(store: &Store) {
    let mut a =
        item("https://a.example/1", "上犹发放补贴", BODY_A, "2026-11-21T14:05:00+08:00", Tone::Negative, Tier::Local);
    a.alert_channels = vec!["hook".into(), "mail".into()];
    store.ingest(a.clone()).await.expect("ingest");
    store.ingest(a).await.expect("again: known, no second alert");
    // A repost alerts nobody.
    let mut r = item(
        "https://b.example/2",
        "转载",
        &format!("（本网讯）{BODY_A}"),
        "2026-11-21T16:00:00+08:00",
        Tone::Negative,
        Tier::Other,
    );
    r.alert_channels = vec!["hook".into()];
    store.ingest(r).await.expect("ingest");
    let now = Utc::now();
    let due = store.due_alerts(now, 10).await.expect("due");
    assert_eq!(due.iter().map(|d| d.channel.as_str()).collect::<Vec<_>>(), ["hook", "mail"]);
    assert!(due.iter().all(|d| d.key == "item-1"));
    store.mark_alert_sent(due[0].id, now).await.expect("sent");
    store.retry_alert(due[1].id, now + chrono::Duration::minutes(5), "503").await.expect("retry");
    assert!(store.due_alerts(now, 10).await.expect("due").is_empty());
    let later = store.due_alerts(now + chrono::Duration::minutes(6), 10).await.expect("due");
    assert_eq!((later.len(), later[0].attempts), (1, 1));
    store.park_alert(later[0].id, "401 bad token").await.expect("park");
    let c = store.outbox_counts().await.expect("counts");
    assert_eq!((c.pending, c.sent, c.parked), (0, 1, 1));
}

/// Two stores on one database (two processes) creating bulletins at once never give
/// the same number, and the numbers run without gaps.
#[tokio::test]
async fn bulletin_numbers_never_collide() {
    for t in each().await {
        let a = std::sync::Arc::new(t.reopen().await);
        let b = std::sync::Arc::new(t.reopen().await);
        let mut tasks = Vec::new();
        for i in 0..20 {
            let s = if i % 2 == 0 { a.clone() } else { b.clone() };
            tasks.push(tokio::spawn(async move {
                s.create_bulletin(2026, "2026-11-01", "2026-11-07", "{}").await.expect("create").number
            }));
        }
        let mut numbers = Vec::new();
        for task in tasks {
            numbers.push(task.await.expect("join"));
        }
        numbers.sort();
        assert_eq!(numbers, (1..=20).collect::<Vec<i64>>());
        let last = a.last_bulletin().await.expect("last").expect("exists");
        assert_eq!((last.number, last.number_in_year), (20, 20));
        a.close().await;
        b.close().await;
        t.close().await;
    }
}

/// A text of `words` words drawn from `seed`: stories whose fingerprints are far apart,
/// unlike numbered copies of one template (SimHash weighs words, not single characters).
fn random_text(seed: u64, words: usize) -> String {
    const VOCABULARY: &str = "财政 补贴 农户 发放 资金 乡镇 群众 反映 核实 情况 银行 账户 审核 公示 村级 县级 复核 \
        精准 到户 安全 工资 拖欠 养老 医疗 保险 教育 住房 道路 桥梁 水利 灌溉 粮食 种植 养殖 合作社 企业 税收 \
        减免 政策 文件 通知 会议 部署 检查 督导 整改 问题 线索 举报 信访 回复 办理 时限 满意 评价 网络 留言 \
        媒体 报道 记者 采访 视频 图片 转发 评论 热议 关注 回应 说明 通报 处理 干部 责任 追究 纪律 监督 审计 \
        预算 决算 公开 透明 债务 风险 防范 化解 项目 建设 招标 采购 合同 验收 质量 进度 投资 收益 民生 保障";
    let vocabulary: Vec<&str> = VOCABULARY.split_whitespace().collect();
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = String::new();
    for k in 0..words {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push_str(vocabulary[(x % vocabulary.len() as u64) as usize]);
        out.push(if k % 9 == 8 { '。' } else { '，' });
    }
    out
}

/// Ingests that keep arriving while earlier ones are written share transactions: a
/// caller whose item another caller's batch wrote returns at once instead of waiting
/// for a turn it no longer needs. (When every caller waited for its turn, those already
/// answered passed the turn on one by one, each writing the one item that had arrived
/// meanwhile: about one transaction per item with 16 in flight.)
#[tokio::test]
async fn streamed_ingests_share_transactions() {
    use futures_util::StreamExt;
    const N: usize = 120;
    for t in each().await {
        let store = &t.store;
        let before = store.ingest_transactions();
        let items: Vec<NewItem> = (0..N)
            .map(|n| {
                item(
                    &format!("https://s.example/{n}"),
                    &format!("第{n}条消息"),
                    &random_text(n as u64 + 1_000, 60),
                    "2026-11-21T14:05:00+08:00",
                    Tone::Neutral,
                    Tier::Local,
                )
            })
            .collect();
        let outcomes: Vec<_> =
            futures_util::stream::iter(items.into_iter().map(|i| store.ingest(i))).buffer_unordered(16).collect().await;
        assert_eq!(outcomes.len(), N);
        for o in &outcomes {
            assert!(matches!(o, Ok(IngestOutcome::New { .. })), "{o:?}");
        }
        let txs = store.ingest_transactions() - before;
        assert!(txs >= 1 && txs <= (N / 4) as u64, "{txs} ingest transactions for {N} items, 16 in flight");
        assert_eq!(store.counts().await.expect("counts").items, N as i64);
        t.close().await;
    }
}

/// Many ingests waiting at once share transactions (group commit): each canonical URL
/// is stored once, a repost links to the first-seen copy whichever came first, the same
/// URL sent twice gives the one id, and the search index holds exactly the items.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_ingests_share_transactions_and_stay_exact() {
    for t in each().await {
        concurrent_ingests_on(&t.store).await;
        t.close().await;
    }
}

async fn concurrent_ingests_on(store: &Store) {
    const STORIES: usize = 70;
    let mut items = Vec::new();
    for n in 0..STORIES {
        let body = format!("上犹县财政局{}", random_text(n as u64 + 1, 90));
        let title = format!("上犹补贴第{n}报");
        let original = item(
            &format!("https://a.example/{n}"),
            &title,
            &body,
            "2026-11-21T14:05:00+08:00",
            Tone::Neutral,
            Tier::Local,
        );
        let repost = item(
            &format!("https://b.example/{n}"),
            &format!("转载：{title}"),
            &format!("（本网讯）{body}"),
            "2026-11-21T16:00:00+08:00",
            Tone::Neutral,
            Tier::Portal,
        );
        items.extend([original.clone(), repost, original]);
    }
    for it in &mut items {
        it.alert_channels = vec!["duty".into()];
    }
    let urls: Vec<String> = items.iter().map(|i| i.canonical_url.clone()).collect();
    let outcomes = futures_util::future::join_all(items.into_iter().map(|i| store.ingest(i))).await;
    let outcomes: Vec<IngestOutcome> = outcomes.into_iter().map(|o| o.expect("every ingest succeeds")).collect();
    let id = |o: &IngestOutcome| match *o {
        IngestOutcome::New { id } | IngestOutcome::Duplicate { id, .. } | IngestOutcome::Known { id } => id,
    };
    for n in 0..STORIES {
        let (a, b, again) = (&outcomes[3 * n], &outcomes[3 * n + 1], &outcomes[3 * n + 2]);
        assert_eq!(urls[3 * n], urls[3 * n + 2]);
        // The URL sent twice: stored once, the other send is `Known` with the same id.
        let (first, known) = if matches!(again, IngestOutcome::Known { .. }) { (a, again) } else { (again, a) };
        assert!(matches!(known, IngestOutcome::Known { .. }), "story {n}: {a:?} / {again:?}");
        assert!(!matches!(first, IngestOutcome::Known { .. }), "story {n}: {a:?} / {again:?}");
        assert_eq!(id(first), id(known), "story {n}");
        // The original and its repost: one first-seen, the other its duplicate.
        match (first, b) {
            (IngestOutcome::New { id }, IngestOutcome::Duplicate { of, .. })
            | (IngestOutcome::Duplicate { of, .. }, IngestOutcome::New { id }) => assert_eq!(of, id, "story {n}"),
            other => panic!("story {n}: {other:?}"),
        }
    }
    let counts = store.counts().await.expect("counts");
    assert_eq!(counts.items, 2 * STORIES as i64);
    assert_eq!(counts.duplicates, STORIES as i64);
    store.flush().await.expect("flush");
    let page = store
        .items(&ItemQuery { q: Some("上犹县财政局".into()), filter: ItemFilter::default(), limit: 10, offset: 0 })
        .await
        .expect("search");
    assert_eq!(page.total, 2 * STORIES, "the index holds each stored item once");
    // Each story is one event of two items.
    let first = outcomes.iter().find_map(|o| match o {
        IngestOutcome::New { id } => Some(*id),
        _ => None,
    });
    let first = first.expect("a new item");
    let event = store.event_of(first).await.expect("event").expect("has an event");
    assert_eq!(store.event_summary(event).await.expect("summary").expect("exists").items, 2);

    // The rows a shared transaction writes once for all its items at the end (raw pages,
    // alert outbox, hourly counts, an event's sources and hours): the same as item by item.
    let count = |sql: &'static str| async move {
        let n: i64 = sqlx::query_scalar(sql).fetch_one(store.pool()).await.expect(sql);
        n
    };
    assert_eq!(count("SELECT COUNT(*) FROM raw_pages").await, 2 * STORIES as i64);
    let raw = store.raw_page(first).await.expect("raw").expect("kept");
    assert!(String::from_utf8_lossy(&raw.body).starts_with("<p>上犹县财政局"));
    assert_eq!(count("SELECT COUNT(*) FROM alert_outbox").await, STORIES as i64, "first-seen items alert, once");
    assert_eq!(count("SELECT COUNT(*) FROM alert_outbox WHERE channel = 'duty'").await, STORIES as i64);
    // Every event (stories on one theme may follow each other up into one) has its one
    // source counted with all its items, from its earliest item, and its items counted
    // in their hours.
    let events = count("SELECT COUNT(*) FROM events").await;
    assert!(events > 0);
    assert_eq!(count("SELECT COUNT(*) FROM event_items").await, 2 * STORIES as i64);
    assert_eq!(count("SELECT COUNT(*) FROM event_sources").await, events, "one source");
    assert_eq!(
        count("SELECT COUNT(*) FROM event_sources es JOIN events e ON e.id = es.event_id WHERE es.items = e.items")
            .await,
        events
    );
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM event_sources es
             WHERE es.first_at = (SELECT MIN(ei.at) FROM event_items ei WHERE ei.event_id = es.event_id)"
        )
        .await,
        events
    );
    let first_at: Vec<String> = sqlx::query_scalar("SELECT DISTINCT first_at FROM event_sources")
        .fetch_all(store.pool())
        .await
        .expect("first_at");
    assert_eq!(first_at, vec![yuqing_store::ts(t("2026-11-21T14:05:00+08:00").with_timezone(&Utc))]);
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM events e
             WHERE e.items = (SELECT SUM(h.items) FROM event_hours h WHERE h.event_id = e.id)"
        )
        .await,
        events
    );
    // Originals at 06:00 UTC, reposts at 08:00: two hours per event.
    assert_eq!(count("SELECT COUNT(*) FROM event_hours").await, 2 * events);
    // Every stored item counts once for its rule and its category in the hour it was found.
    assert_eq!(count("SELECT COUNT(*) FROM hourly_counts").await, 2);
    let hour = Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).single().expect("hour");
    for (scope, key) in [("rule", "上犹财政"), ("category", Category::Livelihood.id())] {
        let counts = store.hourly_counts(scope, key, hour, hour + chrono::Duration::hours(1)).await.expect("counts");
        assert_eq!(counts.iter().map(|c| c.count).collect::<Vec<_>>(), vec![2 * STORIES as i64], "{scope} {key}");
    }
}

/// A term in a third of the items: on PostgreSQL a page of such a search is found by
/// walking the newest items (see `Store::items`), and when that walk cannot fill the page
/// (the last page here) by the GIN index. Both must give the pages the filters give:
/// newest first, the same total, no item twice or missing.
#[tokio::test]
async fn a_common_term_pages_alike_whichever_way_it_is_found() {
    for t in each().await {
        a_common_term_pages_alike_on(&t.store, t.backend).await;
        t.close().await;
    }
}

async fn a_common_term_pages_alike_on(store: &Store, backend: yuqing_store::Backend) {
    const SENTENCES: [&str; 12] = [
        "县人社局召开就业工作推进会",
        "乡镇开展防汛应急演练",
        "城区新建三处停车场",
        "教育局部署秋季开学安全检查",
        "卫健委发布流感防治提示",
        "交通局通报道路养护进展",
        "农业农村局推广水稻新品种",
        "市场监管局抽检食品两百批次",
        "文旅局举办非遗展演活动",
        "住建局推进老旧小区改造",
        "水利局完成水库除险加固",
        "民政局走访慰问困难群众",
    ];
    let mut hits = Vec::new();
    for i in 0..240u32 {
        // Distinct texts (so none is a repost of another): sentences in an order of
        // their own and the item's number.
        let body: String =
            (0..6u32).map(|k| SENTENCES[((i * 7 + k * (i % 5 + 1)) % 12) as usize]).collect::<Vec<_>>().join("，");
        let body = format!("{body}，第{i}号通报，编号{}。", i * 7919 % 10007);
        let title = if i % 3 == 0 { format!("第{i}批补贴发放") } else { format!("第{i}期工作简报") };
        let minute = i % 60;
        let hour = i / 60;
        let published = format!("2026-11-{:02}T{:02}:{minute:02}:00+08:00", 10 + hour, 8 + hour);
        let tone = if i % 9 == 0 { Tone::Negative } else { Tone::Neutral };
        let mut it = item(&format!("https://p.example/{i}"), &title, &body, &published, tone, Tier::Local);
        it.simhash = yuqing_text::simhash::simhash(&format!("{title}{body}"));
        let id = match store.ingest(it).await.expect("ingest") {
            IngestOutcome::New { id } | IngestOutcome::Duplicate { id, .. } => id,
            other => panic!("stored once: {other:?}"),
        };
        if i % 3 == 0 {
            hits.push((id, tone));
        }
    }
    store.flush().await.expect("flush the index");
    if backend == yuqing_store::Backend::Postgres {
        // The walk is chosen from the planner's row estimate, which ANALYZE sets.
        sqlx::query("ANALYZE items").execute(store.pool()).await.expect("analyze");
    }
    // The expected order: the unfiltered stream (newest first), keeping the hits.
    let all = store.items(&ItemQuery { limit: 500, ..Default::default() }).await.expect("stream");
    assert_eq!(all.total, 240);
    let expected: Vec<i64> = all.items.iter().map(|s| s.id).filter(|id| hits.iter().any(|h| h.0 == *id)).collect();
    assert_eq!(expected.len(), 80);
    let mut seen = Vec::new();
    for offset in [0, 25, 50, 75] {
        let page = store
            .items(&ItemQuery { q: Some("补贴".into()), limit: 25, offset, ..Default::default() })
            .await
            .expect("search");
        assert_eq!(page.total, 80, "{backend:?} offset {offset}");
        let ids: Vec<i64> = page.items.iter().map(|s| s.id).collect();
        assert_eq!(ids, expected[offset..(offset + 25).min(80)], "{backend:?} offset {offset}");
        seen.extend(ids);
    }
    assert_eq!(seen, expected);
    // A filter beside the term: the walk keeps it.
    let neutral = ItemFilter { tone: Some(Tone::Neutral), ..Default::default() };
    let page = store
        .items(&ItemQuery { q: Some("补贴".into()), filter: neutral, limit: 10, offset: 0 })
        .await
        .expect("search");
    assert_eq!(page.total, 53, "{backend:?}");
    let negative: Vec<i64> = hits.iter().filter(|h| h.1 == Tone::Negative).map(|h| h.0).collect();
    let want: Vec<i64> = expected.iter().copied().filter(|id| !negative.contains(id)).take(10).collect();
    assert_eq!(page.items.iter().map(|s| s.id).collect::<Vec<_>>(), want, "{backend:?}");

    // The same search again after a new hit is stored and committed: the new hit comes
    // first and is counted (searches of an unchanged index may be answered from memory).
    let again = ItemQuery { q: Some("补贴".into()), limit: 5, ..Default::default() };
    assert_eq!(store.items(&again).await.expect("search").total, 80);
    let newest = item(
        "https://p.example/new",
        "最新一批补贴发放",
        "县财政局今天发放最新一批耕地地力保护补贴，涉及农户一千余户。",
        "2026-12-01T09:00:00+08:00",
        Tone::Neutral,
        Tier::Local,
    );
    let IngestOutcome::New { id } = store.ingest(newest).await.expect("ingest") else { panic!("new") };
    store.flush().await.expect("flush the index");
    let page = store.items(&again).await.expect("search");
    assert_eq!((page.total, page.items[0].id), (81, id), "{backend:?}");
}
