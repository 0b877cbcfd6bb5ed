//! The learning library (学习培训): closed cases found by text (title, facts, decision,
//! answer), category, level and outcome, on every backend; open cases are not in it.

use chrono::{TimeDelta, Utc};
use yuqing_cases::{Action, Actor, Path};
use yuqing_core::{Category, Level, Role, Tier, Tone};
use yuqing_store::testing::each;
use yuqing_store::{LibraryQuery, NewItem, Outcome, Store};

fn item(url: &str, title: &str, category: Category) -> NewItem {
    let body =
        format!("{title}。近日，有网民在留言板反映相关情况，引发关注，上犹县财政局高度重视，第一时间组织人员核实。");
    NewItem {
        source: "上犹论坛".into(),
        tier: Tier::Local,
        url: url.into(),
        canonical_url: url.into(),
        title: title.into(),
        published_at: None,
        fetched_at: Utc::now(),
        content: body.clone(),
        encoding: "utf-8".into(),
        tone: Tone::Negative,
        tone_score: -0.6,
        categories: vec![category],
        matched_rules: vec![],
        level: Level::Ordinary,
        level_reason: "负面".into(),
        simhash: yuqing_text::simhash::simhash(&body),
        raw: None,
        alert_channels: vec![],
    }
}

async fn id_of(store: &Store, n: usize, title: &str, category: Category) -> i64 {
    match store.ingest(item(&format!("https://bbs.example/{n}"), title, category)).await.expect("ingest") {
        yuqing_store::IngestOutcome::New { id } => id,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn closed_cases_are_found_by_text_category_level_and_outcome() {
    for t in each().await {
        library_on(&t.store).await;
        t.close().await;
    }
}

async fn library_on(store: &Store) {
    let office = store.upsert_user("zhang", Role::Office, "a-long-password").await.expect("user");
    let zhang = Actor::user(office.id, "zhang", Role::Office);
    let now = Utc::now();
    let step = |m: i64| now + TimeDelta::minutes(m);

    // 1: answered by policy, important, livelihood.
    let a = id_of(store, 1, "一卡通补贴迟迟未到账", Category::Livelihood).await;
    let c1 = store.report_item(a, &zhang, "请核实", step(0)).await.expect("report").case.id;
    let assess = Action::Assess { level: Level::Important, path: Path::Policy, note: String::new() };
    store.case_action(c1, &zhang, &assess, step(1)).await.expect("assess");
    let respond = Action::Respond {
        channel: "县政府网站“政民互动”".into(),
        text: "经核实，因银行账户信息变更导致发放失败，已于11月25日补发到位。".into(),
        url: None,
        note: String::new(),
    };
    store.case_action(c1, &zhang, &respond, step(2)).await.expect("respond");
    let back = Action::ReportBack { note: "已向县网宣办报告处置结果".into() };
    store.case_action(c1, &zhang, &back, step(3)).await.expect("report back");

    // 2: dismissed, ordinary, rumour.
    let b = id_of(store, 2, "网传财政局将停发津贴 100%_谣言", Category::Rumour).await;
    let c2 = store.report_item(b, &zhang, "", step(0)).await.expect("report").case.id;
    let dismiss = Action::Dismiss { note: "系旧闻转载，无需处置".into() };
    store.case_action(c2, &zhang, &dismiss, step(4)).await.expect("dismiss");

    // 3: still open: not in the library.
    let c = id_of(store, 3, "某镇补贴公示不全", Category::Livelihood).await;
    store.report_item(c, &zhang, "", step(0)).await.expect("report");

    let find = |q: LibraryQuery| async move {
        let page = store.library(&q, step(10)).await.expect("library");
        let ids: Vec<i64> = page.cases.iter().map(|e| e.case.case.id).collect();
        (ids, page.total)
    };
    let q = |text: &str| LibraryQuery { text: Some(text.into()), ..LibraryQuery::default() };
    assert_eq!(find(LibraryQuery::default()).await, (vec![c2, c1], 2), "closed only, newest closed first");
    assert_eq!(find(q("补贴")).await, (vec![c1], 1), "by title; the open case is left out");
    assert_eq!(find(q("银行账户")).await, (vec![c1], 1), "by the answer's text");
    assert_eq!(find(q("政民互动")).await, (vec![c1], 1), "by the answer's channel");
    assert_eq!(find(q("旧闻")).await, (vec![c2], 1), "by the dismissal's reason");
    assert_eq!(find(q("一卡通 补发")).await, (vec![c1], 1), "every word, anywhere in the case");
    assert_eq!(find(q("一卡通 旧闻")).await, (vec![], 0));
    assert_eq!(find(q("100%_")).await, (vec![c2], 1), "% and _ are literal");
    assert_eq!(find(q("%")).await, (vec![c2], 1));
    let by = |category, level, outcome| LibraryQuery { category, level, outcome, ..LibraryQuery::default() };
    assert_eq!(find(by(Some(Category::Livelihood), None, None)).await, (vec![c1], 1));
    assert_eq!(find(by(None, Some(Level::Important), None)).await, (vec![c1], 1), "the assessed level");
    assert_eq!(find(by(None, Some(Level::Ordinary), None)).await, (vec![c2], 1));
    assert_eq!(find(by(None, None, Some(Outcome::Dismissed))).await, (vec![c2], 1));
    assert_eq!(find(by(None, None, Some(Outcome::Answered))).await, (vec![c1], 1));
    assert_eq!(find(by(Some(Category::Rumour), None, Some(Outcome::Answered))).await, (vec![], 0));
    let page = store.library(&LibraryQuery { limit: 1, offset: 1, ..LibraryQuery::default() }, step(10)).await;
    let page = page.expect("page");
    assert_eq!((page.cases.len(), page.total, page.cases[0].case.case.id), (1, 2, c1));
    assert_eq!(page.cases[0].outcome, Outcome::Answered);
    assert_eq!(page.cases[0].case.steps.len(), 4, "the steps come along: how it was judged and handled");
}
