//! The duty roster and sensitive periods in the store: writes checked by the pure model,
//! windows and "on duty now" read back in roster order, imports all or nothing and not
//! doubled, periods ended or withdrawn.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use yuqing_cases::{DutyError, SensitivePeriod, Shift};
use yuqing_store::{DutyStoreError, Imported, Store};

fn at(h: u32) -> DateTime<Utc> {
    // 2026-11-29 00:00 UTC plus `h` hours.
    Utc.with_ymd_and_hms(2026, 11, 29, 0, 0, 0).single().unwrap() + TimeDelta::hours(i64::from(h))
}

fn shift(user: &str, from: u32, to: u32) -> Shift {
    Shift::new(user, at(from), at(to), None).unwrap()
}

use yuqing_store::testing::each;

#[tokio::test]
async fn shifts_are_stored_with_who_created_them_and_read_by_window() {
    for t in each().await {
        shifts_are_stored_with_who_created_them_and_read_by_window_on(&t.store).await;
        t.close().await;
    }
}

async fn shifts_are_stored_with_who_created_them_and_read_by_window_on(store: &Store) {
    let night = Shift::new("李四", at(12), at(24), Some("带班领导")).unwrap();
    let a = store.add_shift(&shift("张三", 0, 12), "zhang").await.unwrap();
    let b = store.add_shift(&night, "zhang").await.unwrap();
    let c = store.add_shift(&shift("王五", 24, 36), "admin").await.unwrap();

    let all = store.shifts(at(0), at(48)).await.unwrap();
    assert_eq!(all.iter().map(|s| s.id).collect::<Vec<_>>(), [a, b, c]);
    assert_eq!(all[1].shift, night);
    assert_eq!(all[1].created_by, "zhang");
    assert_eq!(all[2].created_by, "admin");

    // Half-open: a window from 12:00 leaves out the shift that ends then.
    let later = store.shifts(at(12), at(30)).await.unwrap();
    assert_eq!(later.iter().map(|s| s.shift.user.as_str()).collect::<Vec<_>>(), ["李四", "王五"]);
    let roster = store.roster(at(0), at(48)).await.unwrap();
    assert_eq!(roster.gaps(at(0), at(48)), vec![(at(36), at(48))]);

    let on = store.on_duty(at(12)).await.unwrap();
    assert_eq!(on.len(), 1);
    assert_eq!(on[0].shift.user, "李四", "the day shift ends at 12:00, the night shift starts then");
    assert!(store.on_duty(at(40)).await.unwrap().is_empty());

    let gone = store.delete_shift(b).await.unwrap().unwrap();
    assert_eq!(gone.shift, night);
    assert!(store.delete_shift(b).await.unwrap().is_none(), "deleted already");
    assert!(store.shift(b).await.unwrap().is_none());
    assert!(store.on_duty(at(12)).await.unwrap().is_empty());
}

#[tokio::test]
async fn invalid_shifts_and_periods_are_refused_with_every_problem() {
    for t in each().await {
        invalid_shifts_and_periods_are_refused_with_every_problem_on(&t.store).await;
        t.close().await;
    }
}

async fn invalid_shifts_and_periods_are_refused_with_every_problem_on(store: &Store) {
    let bad = Shift { user: " ".into(), from: at(10), to: at(2), note: None };
    match store.add_shift(&bad, "zhang").await {
        Err(DutyStoreError::Invalid(problems)) => {
            assert!(problems.contains(&DutyError::Empty { field: "user" }), "{problems:?}");
            assert!(problems.iter().any(|p| matches!(p, DutyError::EndNotAfterStart { .. })), "{problems:?}");
        }
        other => panic!("{other:?}"),
    }
    let long = Shift { user: "张三".into(), from: at(0), to: at(24 * 8), note: None };
    assert!(matches!(store.add_shift(&long, "zhang").await, Err(DutyStoreError::Invalid(_))));
    assert!(store.add_shift(&shift("张三", 0, 8), "  ").await.is_err(), "who made the change is required");
    let period = SensitivePeriod { from: at(0), to: at(1), reason: String::new() };
    assert!(matches!(store.add_period(&period, "zhang").await, Err(DutyStoreError::Invalid(_))));
    assert!(store.shifts(at(0), at(1000)).await.unwrap().is_empty());
    assert!(store.period_records().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_import_is_all_or_nothing_and_not_doubled() {
    for t in each().await {
        an_import_is_all_or_nothing_and_not_doubled_on(&t.store).await;
        t.close().await;
    }
}

async fn an_import_is_all_or_nothing_and_not_doubled_on(store: &Store) {
    let good = [shift("张三", 0, 12), shift("李四", 12, 24)];
    let with_bad = [good[0].clone(), Shift { user: "王五".into(), from: at(5), to: at(5), note: None }];
    match store.import_shifts(&with_bad, "zhang").await {
        Err(DutyStoreError::InvalidImport { index, .. }) => assert_eq!(index, 1),
        other => panic!("{other:?}"),
    }
    assert!(store.shifts(at(0), at(48)).await.unwrap().is_empty(), "nothing of a refused import is kept");

    assert_eq!(store.import_shifts(&good, "zhang").await.unwrap(), Imported { added: 2, unchanged: 0 });
    // The same file again, plus one more: only the new shift is added.
    let more = [good[0].clone(), good[1].clone(), shift("王五", 24, 36)];
    assert_eq!(store.import_shifts(&more, "admin").await.unwrap(), Imported { added: 1, unchanged: 2 });
    assert_eq!(store.shifts(at(0), at(48)).await.unwrap().len(), 3);

    // A note is kept; an empty one is none.
    let day = at(48);
    let with_note = Shift::new("赵六", day, day + TimeDelta::hours(12), Some(" 白班 ")).unwrap();
    let no_note = Shift::new("孙七", day, day + TimeDelta::hours(12), Some("  ")).unwrap();
    assert_eq!(store.import_shifts(&[with_note, no_note], "zhang").await.unwrap().added, 2);
    let stored = store.shifts(day, day + TimeDelta::days(1)).await.unwrap();
    assert_eq!(stored[0].shift.note, None);
    assert_eq!(stored[1].shift.note.as_deref(), Some("白班"));
}

#[tokio::test]
async fn duty_now_reads_who_is_on_duty_and_the_active_period_together() {
    for t in each().await {
        duty_now_reads_who_is_on_duty_and_the_active_period_together_on(&t.store).await;
        t.close().await;
    }
}

async fn duty_now_reads_who_is_on_duty_and_the_active_period_together_on(store: &Store) {
    assert_eq!(store.duty_now(at(5)).await.unwrap().names(), Vec::<String>::new());
    store.add_shift(&shift("张三", 0, 12), "zhang").await.unwrap();
    store.add_shift(&shift("李四", 4, 8), "zhang").await.unwrap();
    store.add_shift(&shift("张三", 4, 6), "zhang").await.unwrap();
    let long = SensitivePeriod::new(at(0), at(72), "国庆假期").unwrap();
    let short = SensitivePeriod::new(at(2), at(10), "县人代会期间").unwrap();
    store.add_period(&short, "zhang").await.unwrap();
    let long_id = store.add_period(&long, "zhang").await.unwrap();

    let now = store.duty_now(at(5)).await.unwrap();
    assert_eq!(now.names(), ["张三", "李四"], "each person once, in roster order");
    assert_eq!(now.shifts.len(), 3);
    let p = now.sensitive_period.unwrap();
    assert_eq!(p.period.reason, "国庆假期", "of overlapping periods, the one that ends last");
    assert_eq!(p.id, long_id);
    assert_eq!(store.active_period(at(5)).await.unwrap().unwrap().id, long_id);
    assert!(store.duty_now(at(80)).await.unwrap().sensitive_period.is_none());
    assert_eq!(store.periods().await.unwrap().periods().len(), 2);
}

#[tokio::test]
async fn a_period_is_ended_early_or_withdrawn() {
    for t in each().await {
        a_period_is_ended_early_or_withdrawn_on(&t.store).await;
        t.close().await;
    }
}

async fn a_period_is_ended_early_or_withdrawn_on(store: &Store) {
    let active = store.add_period(&SensitivePeriod::new(at(0), at(48), "汛期").unwrap(), "zhang").await.unwrap();
    let upcoming = store.add_period(&SensitivePeriod::new(at(100), at(120), "春节").unwrap(), "zhang").await.unwrap();

    assert!(store.end_period(upcoming, at(10)).await.unwrap().is_none(), "not active yet: withdraw it instead");
    let ended = store.end_period(active, at(10)).await.unwrap().unwrap();
    assert_eq!((ended.period.from, ended.period.to), (at(0), at(10)));
    assert!(store.active_period(at(11)).await.unwrap().is_none());
    assert!(store.end_period(active, at(11)).await.unwrap().is_none(), "over already");

    assert_eq!(store.delete_period(upcoming).await.unwrap().unwrap().period.reason, "春节");
    assert!(store.delete_period(upcoming).await.unwrap().is_none());
    let left = store.period_records().await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].created_by, "zhang");
}
