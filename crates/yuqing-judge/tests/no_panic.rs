//! Queries, titles and contents are hostile input: nothing may panic on them. A small
//! deterministic generator (an LCG, so failures reproduce) builds strings from the
//! characters that matter to the tokenizer and parser, plus random Unicode.

use yuqing_judge::rules::{Doc, Query};
use yuqing_judge::{classify_text, judge, tone, RuleSet};

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "AND",
    "OR",
    "NOT",
    "NEAR/",
    "NEAR/3",
    "NEAR/0",
    "NEAR/1000",
    "NEAR",
    "&&",
    "||",
    "(",
    ")",
    "（",
    "）",
    "\"",
    "“",
    "”",
    "「",
    "」",
    "『",
    "』",
    " ",
    "  ",
    "\u{3000}",
    "\n",
    "上犹",
    "财政",
    "补贴",
    "mac",
    "5G",
    "Ｍａｃ",
    "不",
    "没有",
    "严重",
    "投诉",
    "满意",
    "，",
    "。",
    "!",
    "\u{200B}",
    "é",
    "İ",
    "\u{FFFD}",
    "𠀀",
    "a",
    "1",
    "-",
    "/",
    "*",
    "\\",
];

fn garbage(rng: &mut Lcg, max_len: usize) -> String {
    let n = rng.below(max_len + 1);
    let mut s = String::new();
    for _ in 0..n {
        if rng.below(5) == 0 {
            let c = char::from_u32(rng.below(0x3_0000) as u32).unwrap_or('?');
            s.push(c);
        } else {
            s.push_str(PIECES[rng.below(PIECES.len())]);
        }
    }
    s
}

#[test]
fn parser_and_matcher_never_panic() {
    let mut rng = Lcg(0x5eed_1234);
    let docs: Vec<Doc> = (0..20).map(|_| Doc::new(&garbage(&mut rng, 10), &garbage(&mut rng, 200))).collect();
    let mut parsed = 0;
    for _ in 0..5000 {
        let s = garbage(&mut rng, 16);
        match Query::parse(&s) {
            Ok(q) => {
                parsed += 1;
                let _ = q.terms();
                let shown = q.to_string();
                // What Display prints must parse again to the same shape.
                match Query::parse(&shown) {
                    Ok(again) => assert_eq!(again.to_string(), shown, "from {s:?}"),
                    Err(e) => panic!("{s:?} printed as {shown:?} which does not parse: {e}"),
                }
                for d in &docs {
                    let _ = q.matches(d);
                }
            }
            Err(e) => {
                assert!(e.position <= s.chars().count(), "{s:?}: {e}");
                assert!(!e.message.is_empty());
            }
        }
    }
    // The generator must exercise both paths.
    assert!(parsed > 100, "only {parsed} parsed");
}

#[test]
fn judging_garbage_never_panics() {
    let mut rng = Lcg(42);
    let rules = [yuqing_core::config::RuleConfig {
        name: "r".into(),
        query: "上犹 NEAR/3 (财政 OR mac) OR NOT 投诉".into(),
        category: None,
        enabled: true,
        priority: Default::default(),
    }];
    let set = match RuleSet::compile(&rules) {
        Ok(s) => s,
        Err(e) => panic!("{e:?}"),
    };
    for _ in 0..500 {
        let t = garbage(&mut rng, 20);
        let c = garbage(&mut rng, 400);
        let j = judge(&t, &c, yuqing_core::Tier::Local, f64::NAN, &set);
        assert!((-1.0..=1.0).contains(&j.tone_score));
        let k = classify_text(&c);
        assert!((-1.0..=1.0).contains(&k.tone_score));
        let _ = tone::score(&t, &c);
    }
}

#[test]
fn pathological_near_stays_bounded() {
    // The same character thousands of times with the widest distance: the work is
    // bounded by the occurrence cap and the window, not quadratic in the output.
    let doc = Doc::new("", &"的".repeat(5000));
    let q = match Query::parse("的 NEAR/1000 的 NEAR/1000 的") {
        Ok(q) => q,
        Err(e) => panic!("{e}"),
    };
    assert!(q.matches(&doc));
}
