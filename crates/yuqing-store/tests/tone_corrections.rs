//! Tone corrections in the store (migration 0011), on every backend: a correction sets
//! the item's tone and score and records who, when, from, to and the note in one
//! transaction; the same tone again records nothing (also when two processes send it at
//! once); the record is append-only; search follows the corrected tone (the embedded
//! index too, also after a process that could not write the index); and the training
//! export is what the tone trainer reads, with the latest correction of each item.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use yuqing_core::{Category, Level, Role, Tier, Tone};
use yuqing_store::testing::each;
use yuqing_store::{
    training_tsv, IngestOutcome, ItemFilter, ItemQuery, NewItem, Store, ToneOutcome, User, EXPORT_CONTENT_CHARS,
    MAX_CORRECTION_NOTE_CHARS, TRAINING_TSV_HEADER,
};

fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).single().expect("time") + TimeDelta::minutes(minutes)
}

fn item(n: u32, title: &str, content: &str, tone: Tone, score: f32) -> NewItem {
    NewItem {
        source: "上犹论坛".into(),
        tier: Tier::Local,
        url: format!("https://bbs.example/{n}"),
        canonical_url: format!("https://bbs.example/{n}"),
        title: title.into(),
        published_at: None,
        fetched_at: at(-60),
        content: content.into(),
        encoding: "utf-8".into(),
        tone,
        tone_score: score,
        categories: vec![Category::Livelihood],
        matched_rules: vec!["上犹财政".into()],
        level: Level::Ordinary,
        level_reason: "无风险因素".into(),
        // Far apart, so that no item is taken for a repost of another.
        simhash: u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        raw: None,
        alert_channels: vec![],
    }
}

async fn ingest(store: &Store, it: NewItem) -> i64 {
    match store.ingest(it).await.expect("ingest") {
        IngestOutcome::New { id } => id,
        other => panic!("{other:?}"),
    }
}

async fn office(store: &Store) -> User {
    store.upsert_user("zhang", Role::Office, "correct horse battery").await.expect("user")
}

/// Item ids a full-text search with a tone filter finds.
async fn found(store: &Store, q: &str, tone: Tone) -> Vec<i64> {
    let query = ItemQuery {
        q: Some(q.into()),
        filter: ItemFilter { tone: Some(tone), ..Default::default() },
        limit: 50,
        offset: 0,
    };
    let mut ids: Vec<i64> = store.items(&query).await.expect("search").items.iter().map(|i| i.id).collect();
    ids.sort_unstable();
    ids
}

async fn rows_of(store: &Store) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM tone_corrections").fetch_one(store.pool()).await.expect("count")
}

#[tokio::test]
async fn a_correction_sets_the_tone_records_the_change_once_and_search_follows() {
    for t in each().await {
        corrections_on(&t.store).await;
        t.close().await;
    }
}

async fn corrections_on(store: &Store) {
    let zhang = office(store).await;
    let a = ingest(store, item(1, "一卡通补贴发放情况说明", "县财政局说明补贴发放进度。", Tone::Neutral, 0.12)).await;
    let b = ingest(store, item(2, "群众反映补贴拖欠", "补贴拖欠三个月，无人答复。", Tone::Negative, -0.6)).await;
    store.flush().await.expect("flush");
    assert_eq!(found(store, "补贴", Tone::Neutral).await, [a]);
    assert_eq!(found(store, "补贴", Tone::Negative).await, [b]);

    // Neutral → negative, with a hostile note kept as text.
    let note = "  核实：实为投诉 <script>alert(1)</script>\r\n第二行  ";
    let ToneOutcome::Corrected(c) = store.correct_tone(a, Tone::Negative, &zhang, note, at(0)).await.expect("correct")
    else {
        panic!("corrected")
    };
    assert_eq!((c.item_id, c.tone_before, c.tone_after), (a, Tone::Neutral, Tone::Negative));
    assert!((c.score_before - 0.12).abs() < 1e-6, "{}", c.score_before);
    assert_eq!((c.user.as_str(), c.user_id, c.corrected_at), ("zhang", Some(zhang.id), at(0)));
    assert_eq!(c.note.as_deref(), Some("核实：实为投诉 <script>alert(1)</script>\n第二行"));
    assert_eq!(c.title, "一卡通补贴发放情况说明");
    let it = store.item(a).await.expect("item").expect("exists").item;
    assert_eq!((it.tone, it.tone_score, it.tone_corrected), (Tone::Negative, -1.0, true));
    assert!(!store.item(b).await.expect("item").expect("exists").item.tone_corrected);
    // Search follows at once: the embedded index's document was written again.
    assert_eq!(found(store, "补贴", Tone::Negative).await, [a, b]);
    assert!(found(store, "补贴", Tone::Neutral).await.is_empty());

    // The same tone again (a form sent twice): nothing written. An item the model already
    // gave that tone: nothing either. No item, a note too long: nothing.
    assert_eq!(
        store.correct_tone(a, Tone::Negative, &zhang, "再次", at(1)).await.expect("again"),
        ToneOutcome::Unchanged
    );
    assert_eq!(store.correct_tone(b, Tone::Negative, &zhang, "", at(1)).await.expect("same"), ToneOutcome::Unchanged);
    assert_eq!(store.correct_tone(9999, Tone::Positive, &zhang, "", at(1)).await.expect("none"), ToneOutcome::NoItem);
    let long = "字".repeat(MAX_CORRECTION_NOTE_CHARS + 1);
    assert!(store.correct_tone(b, Tone::Positive, &zhang, &long, at(1)).await.is_err());
    assert_eq!(store.item(b).await.expect("item").expect("exists").item.tone, Tone::Negative);
    assert_eq!(rows_of(store).await, 1);

    // Corrected again: the history is both changes, oldest first; the second's score
    // before is the first correction's certain score.
    let ToneOutcome::Corrected(c2) = store.correct_tone(a, Tone::Positive, &zhang, "", at(5)).await.expect("correct")
    else {
        panic!("corrected")
    };
    assert_eq!(
        (c2.tone_before, c2.tone_after, c2.score_before, c2.note.as_deref()),
        (Tone::Negative, Tone::Positive, -1.0, None)
    );
    let history = store.tone_corrections_of(a).await.expect("history");
    assert_eq!(history, [c.clone(), c2.clone()]);
    assert!(store.tone_corrections_of(b).await.expect("history").is_empty());
    assert_eq!(found(store, "补贴", Tone::Positive).await, [a]);
    assert_eq!(store.item(a).await.expect("item").expect("exists").item.tone_score, 1.0);
    let recent = store.tone_corrections(None, 10).await.expect("list");
    assert_eq!(recent.iter().map(|c| c.id).collect::<Vec<_>>(), [c2.id, c.id]);
    assert_eq!(store.tone_corrections(Some(at(1)), 10).await.expect("list"), std::slice::from_ref(&c2));
    assert_eq!(store.tone_corrections(None, 1).await.expect("list").len(), 1);

    // Append-only, whoever asks.
    assert!(sqlx::query("UPDATE tone_corrections SET note = 'x'").execute(store.pool()).await.is_err());
    assert!(sqlx::query("DELETE FROM tone_corrections").execute(store.pool()).await.is_err());
    assert_eq!(store.tone_corrections_of(a).await.expect("history"), [c, c2]);
}

#[tokio::test]
async fn two_processes_sending_the_same_correction_record_it_once() {
    for t in each().await {
        let other = t.reopen().await;
        let zhang = office(&t.store).await;
        let a = ingest(&t.store, item(1, "补贴发放情况", "县财政局说明补贴发放进度。", Tone::Neutral, 0.0)).await;
        let (x, y) = tokio::join!(
            t.store.correct_tone(a, Tone::Negative, &zhang, "一", at(0)),
            other.correct_tone(a, Tone::Negative, &zhang, "二", at(0)),
        );
        let (x, y) = (x.expect("first"), y.expect("second"));
        let corrected = [&x, &y].iter().filter(|o| matches!(o, ToneOutcome::Corrected(_))).count();
        assert_eq!(corrected, 1, "{x:?} {y:?}");
        assert!(x == ToneOutcome::Unchanged || y == ToneOutcome::Unchanged);
        assert_eq!(rows_of(&t.store).await, 1);
        other.close().await;
        t.close().await;
    }
}

/// The embedded index is written after the database commits. A process that cannot
/// write it (another one holds it; or it died in between) leaves the correction in the
/// database only; the next store to open the folder catches the index up.
#[tokio::test]
async fn the_embedded_index_catches_up_corrections_it_missed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b);
    {
        let writer = Store::open(dir.path()).await.expect("open");
        let zhang = office(&writer).await;
        a = ingest(&writer, item(1, "补贴发放情况", "县财政局说明补贴发放进度。", Tone::Neutral, 0.0)).await;
        b = ingest(&writer, item(2, "补贴到账", "补贴已到账，群众满意。", Tone::Positive, 0.7)).await;
        writer.flush().await.expect("flush");
        // A second process on the same folder: it may write the database, not the index
        // (the first holds tantivy's writer).
        let second = Store::open(dir.path()).await.expect("open");
        let out = second.correct_tone(a, Tone::Negative, &zhang, "", at(0)).await.expect("correct");
        assert!(matches!(out, ToneOutcome::Corrected(_)), "{out:?}");
        assert_eq!(second.item(a).await.expect("item").expect("exists").item.tone, Tone::Negative);
        // The index has not got it yet.
        assert_eq!(found(&writer, "补贴", Tone::Neutral).await, [a]);
        second.close().await;
        writer.close().await;
    }
    let store = Store::open(dir.path()).await.expect("reopen");
    assert_eq!(found(&store, "补贴", Tone::Negative).await, [a]);
    assert!(found(&store, "补贴", Tone::Neutral).await.is_empty());
    assert_eq!(found(&store, "补贴", Tone::Positive).await, [b]);
    let through: i64 = sqlx::query_scalar("SELECT indexed_through FROM tone_index_state WHERE id = 1")
        .fetch_one(store.pool())
        .await
        .expect("marker");
    assert_eq!(through, 1);
    store.close().await;
}

#[tokio::test]
async fn the_export_is_training_data_the_trainer_reads_with_the_latest_tone_of_each_item() {
    for t in each().await {
        export_on(&t.store).await;
        t.close().await;
    }
}

async fn export_on(store: &Store) {
    let zhang = office(store).await;
    let long = format!("第一段\t含制表符\n\n第二段\r\n{}", "长".repeat(3000));
    let a = ingest(store, item(1, "标题\t含\n换行", &long, Tone::Neutral, 0.1)).await;
    let b = ingest(store, item(2, "补贴到账", "补贴已到账，群众满意。", Tone::Neutral, 0.2)).await;
    let c = ingest(store, item(3, "未更正的信息", "没有人更正它。", Tone::Neutral, 0.0)).await;
    // a: negative, then positive (the latest wins); b: negative later.
    store.correct_tone(a, Tone::Negative, &zhang, "", at(0)).await.expect("correct");
    store.correct_tone(b, Tone::Positive, &zhang, "", at(10)).await.expect("correct");
    store.correct_tone(a, Tone::Positive, &zhang, "", at(20)).await.expect("correct");
    store.correct_tone(b, Tone::Negative, &zhang, "", at(30)).await.expect("correct");

    let rows = store.tone_training_rows(None, usize::MAX).await.expect("rows");
    assert_eq!(
        rows.iter().map(|r| (r.item_id, r.tone)).collect::<Vec<_>>(),
        [(a, Tone::Positive), (b, Tone::Negative)]
    );
    let tsv = training_tsv(&rows);
    let lines: Vec<&str> = tsv.lines().collect();
    assert_eq!(lines.len(), 3, "{tsv}");
    assert_eq!(lines[0], TRAINING_TSV_HEADER);
    let first: Vec<&str> = lines[1].split('\t').collect();
    assert_eq!(first.len(), 4);
    assert_eq!(first[..3], [format!("item-{a}").as_str(), "positive", "标题 含 换行"]);
    assert_eq!(first[3].chars().count(), EXPORT_CONTENT_CHARS);
    assert!(first[3].starts_with("第一段 含制表符 第二段 长长"), "{}", &first[3][..40]);
    assert_eq!(lines[2], format!("item-{b}\tnegative\t补贴到账\t补贴已到账，群众满意。"));
    assert!(!tsv.contains(&format!("item-{c}")));

    // Since: items whose latest correction is that late (a's latest is at 20).
    let since = store.tone_training_rows(Some(at(15)), usize::MAX).await.expect("rows");
    assert_eq!(since.iter().map(|r| r.item_id).collect::<Vec<_>>(), [a, b]);
    let since = store.tone_training_rows(Some(at(25)), usize::MAX).await.expect("rows");
    assert_eq!(since.iter().map(|r| r.item_id).collect::<Vec<_>>(), [b]);
    assert_eq!(store.tone_training_rows(None, 1).await.expect("rows").len(), 1);

    // The round trip: the tone trainer's own reader takes the file, with these labels.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mine.tsv");
    std::fs::write(&path, &tsv).expect("write");
    let examples = yuqing_judge::tone_model::read_tsv(&path).expect("the trainer reads the export");
    let got: Vec<(Option<String>, Tone, String)> =
        examples.iter().map(|e| (e.id.clone(), e.tone, e.title.clone())).collect();
    assert_eq!(
        got,
        [
            (Some(format!("item-{a}")), Tone::Positive, "标题 含 换行".to_string()),
            (Some(format!("item-{b}")), Tone::Negative, "补贴到账".to_string()),
        ]
    );
    assert!(examples.iter().all(|e| !e.polar));
    assert_eq!(examples[1].content, "补贴已到账，群众满意。");
    // An empty export is a header alone, which the reader takes as no rows.
    let empty = training_tsv(&[]);
    assert_eq!(empty, format!("{TRAINING_TSV_HEADER}\n"));
    let none = yuqing_judge::tone_model::read_tsv_str(&empty, std::path::Path::new("x.tsv")).expect("reads");
    assert!(none.is_empty());
}
