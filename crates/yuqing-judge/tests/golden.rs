//! Golden test for `classify_text`: fixtures/judge/classify.txt (one text a line) in,
//! fixtures/judge/classify.expected.jsonl (the `yuqing classify` fields, one object a
//! line) beside it. Run with `UPDATE_GOLDEN=1` to rewrite the expected file after a
//! deliberate change to the lexicon, categories or level table, and review the diff.

use std::path::PathBuf;
use yuqing_judge::classify_text;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/judge")
}

#[test]
fn classify_matches_golden() {
    let dir = fixtures();
    let input = match std::fs::read_to_string(dir.join("classify.txt")) {
        Ok(s) => s,
        Err(e) => panic!("reading the fixture: {e}"),
    };
    let actual: String = input
        .lines()
        .map(|line| {
            let j = classify_text(line);
            let v = serde_json::json!({
                "text": line,
                "tone": j.tone,
                // Through f64 an f32 prints as -0.9800000190734863; the score is
                // already rounded to two decimals, so print it that way.
                "tone_score": format!("{:.2}", j.tone_score).parse::<f64>().unwrap_or(0.0),
                "categories": j.categories,
                "level": j.level,
                "level_reason": j.level_reason,
            });
            format!("{v}\n")
        })
        .collect();
    let expected_path = dir.join("classify.expected.jsonl");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        if let Err(e) = std::fs::write(&expected_path, &actual) {
            panic!("writing {}: {e}", expected_path.display());
        }
        return;
    }
    let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
    assert_eq!(
        actual, expected,
        "classify output changed; if intended, rerun with UPDATE_GOLDEN=1 and review the diff"
    );
}
