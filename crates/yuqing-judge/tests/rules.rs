//! The watch-rule language: parsing (precedence, implicit AND, NOT, NEAR, phrases),
//! every error with its position, and matching (CJK substrings, Latin word boundaries,
//! case and width folding).

use yuqing_judge::rules::{Doc, Query, RuleError};

fn q(s: &str) -> Query {
    match Query::parse(s) {
        Ok(q) => q,
        Err(e) => panic!("`{s}` should parse: {e}"),
    }
}

fn shape(s: &str) -> String {
    q(s).to_string()
}

fn err(s: &str) -> RuleError {
    match Query::parse(s) {
        Ok(q) => panic!("`{s}` should not parse, got {q}"),
        Err(e) => e,
    }
}

fn hit(query: &str, content: &str) -> bool {
    q(query).matches(&Doc::new("", content))
}

// ---- parsing ---------------------------------------------------------------

#[test]
fn precedence_not_near_and_or() {
    assert_eq!(shape("a OR b c"), "(a OR (b AND c))");
    assert_eq!(shape("a b OR c"), "((a AND b) OR c)");
    assert_eq!(shape("a AND b OR c AND d"), "((a AND b) OR (c AND d))");
    assert_eq!(shape("a NEAR/3 b c"), "((a NEAR/3 b) AND c)");
    assert_eq!(shape("a NEAR/3 b OR c"), "((a NEAR/3 b) OR c)");
    assert_eq!(shape("NOT a b"), "(NOT a AND b)");
    assert_eq!(shape("a NOT b"), "(a AND NOT b)");
    assert_eq!(shape("NOT (a OR b)"), "NOT (a OR b)");
    assert_eq!(shape("NOT NOT a"), "NOT NOT a");
    assert_eq!(shape("(a OR b) NEAR/2 c"), "((a OR b) NEAR/2 c)");
    assert_eq!(shape("a NEAR/2 b NEAR/4 c"), "((a NEAR/2 b) NEAR/4 c)");
}

#[test]
fn implicit_and_equals_explicit_and() {
    assert_eq!(shape("上犹 财政"), shape("上犹 AND 财政"));
    assert_eq!(shape("上犹 财政"), "(上犹 AND 财政)");
    assert_eq!(shape("a && b || c"), "((a AND b) OR c)");
}

#[test]
fn the_configuration_example_parses() {
    assert_eq!(shape("上犹 AND (财政 OR 补贴 OR 预算) AND NOT 招聘"), "(上犹 AND (财政 OR 补贴 OR 预算) AND NOT 招聘)");
}

#[test]
fn phrases_in_ascii_and_chinese_quotes() {
    assert_eq!(shape("\"惠农  补贴\""), "\"惠农 补贴\"");
    assert_eq!(shape("“一卡通”"), "一卡通");
    assert_eq!(shape("「上犹县」 财政"), "(上犹县 AND 财政)");
    assert_eq!(shape("『Mac OS』"), "\"mac os\"");
    // Operators inside quotes are words.
    assert_eq!(shape("\"AND\""), "\"and\"");
    // A quote ends a bare word.
    assert_eq!(shape("上犹\"财政局\""), "(上犹 AND 财政局)");
}

#[test]
fn full_width_parentheses_and_lower_case_words_are_understood() {
    assert_eq!(shape("上犹 AND （财政 OR 补贴）"), "(上犹 AND (财政 OR 补贴))");
    // Lower-case `and` / `near` are words, not operators.
    assert_eq!(shape("rock and roll"), "(rock AND \"and\" AND roll)");
    assert_eq!(shape("NEARBY"), "nearby");
}

#[test]
fn terms_are_the_positive_terms_for_highlighting() {
    let query = q("上犹 AND (财政 OR \"惠农 补贴\") AND NOT 招聘 AND NOT (NOT 预算) 上犹");
    assert_eq!(query.terms(), ["上犹", "财政", "惠农 补贴", "预算"]);
    assert_eq!(q("NOT 招聘").terms(), Vec::<String>::new());
    assert_eq!(q("ＭＡＣ").terms(), ["mac"]);
}

// ---- errors and their positions ---------------------------------------------

#[test]
fn empty_query() {
    for s in ["", "   ", "\u{3000}"] {
        let e = err(s);
        assert_eq!(e.position, 0);
        assert!(e.message.contains("empty"), "{e}");
    }
}

#[test]
fn operator_without_operand() {
    let e = err("上犹 AND");
    assert_eq!(e.position, 3);
    assert_eq!(e.to_string(), "at character 3: `AND` has nothing after it; add a word or phrase after it or remove it");
    let e = err("AND 上犹");
    assert_eq!(e.position, 0);
    assert!(e.message.contains("nothing before it"), "{e}");
    let e = err("上犹 OR OR 财政");
    assert_eq!(e.position, 6);
    assert!(e.message.contains("follows `OR` directly"), "{e}");
    let e = err("上犹 NOT");
    assert_eq!(e.position, 3);
    assert!(e.message.contains("`NOT` has nothing after it"), "{e}");
    let e = err("(上犹 OR) 财政");
    assert_eq!(e.position, 4);
    let e = err("a NEAR/3");
    assert_eq!(e.position, 2);
    assert!(e.message.contains("`NEAR/3`"), "{e}");
}

#[test]
fn unbalanced_parentheses() {
    let e = err("上犹 AND (财政 OR 补贴");
    assert_eq!(e.position, 7);
    assert!(e.message.contains("never closed"), "{e}");
    let e = err("上犹 财政)");
    assert_eq!(e.position, 5);
    assert!(e.message.contains("no matching opening"), "{e}");
    let e = err(")");
    assert_eq!(e.position, 0);
    let e = err("上犹 ()");
    assert_eq!(e.position, 3);
    assert!(e.message.contains("empty"), "{e}");
    let e = err("((a)");
    assert_eq!(e.position, 0);
}

#[test]
fn bad_near_distances() {
    for (s, pos) in [
        ("a NEAR b", 2),
        ("a NEAR/ b", 2),
        ("a NEAR/0 b", 2),
        ("a NEAR/1001 b", 2),
        ("a NEAR/x b", 2),
        ("a NEAR/+5 b", 2),
        ("a NEAR/99999999999999999999 b", 2),
        ("上犹 NEAR/-1 财政", 3),
    ] {
        let e = err(s);
        assert_eq!(e.position, pos, "{s}");
        assert!(e.message.contains("from 1 to 1000"), "{s}: {e}");
    }
    assert_eq!(shape("a NEAR/1000 b"), "(a NEAR/1000 b)");
    assert_eq!(shape("a NEAR/1 b"), "(a NEAR/1 b)");
}

#[test]
fn near_needs_positional_operands() {
    let e = err("NOT a NEAR/3 b");
    assert_eq!(e.position, 6);
    assert!(e.message.contains("NEAR/3"), "{e}");
    let e = err("(a b) NEAR/3 c");
    assert_eq!(e.position, 6);
}

#[test]
fn unterminated_and_stray_quotes() {
    let e = err("上犹 \"惠农 补贴");
    assert_eq!(e.position, 3);
    assert!(e.message.contains("never closed"), "{e}");
    let e = err("上犹 “惠农补贴\"");
    assert_eq!(e.position, 3);
    assert!(e.message.contains('”'), "{e}");
    let e = err("上犹 」");
    assert_eq!(e.position, 3);
    assert!(e.message.contains("no opening quote"), "{e}");
    let e = err("a \"  \" b");
    assert_eq!(e.position, 2);
    assert!(e.message.contains("empty"), "{e}");
}

#[test]
fn depth_is_capped() {
    let ok = format!("{}a{}", "(".repeat(64), ")".repeat(64));
    assert!(Query::parse(&ok).is_ok());
    let deep = format!("{}a{}", "(".repeat(65), ")".repeat(65));
    let e = err(&deep);
    assert_eq!(e.position, 64);
    assert!(e.message.contains("64 levels"), "{e}");
    let nots = format!("{}a", "NOT ".repeat(100));
    assert_eq!(err(&nots).position, 64 * 4);
    // Very deep input fails fast instead of overflowing the stack.
    let huge = "(".repeat(1_000_000);
    assert_eq!(err(&huge).position, 64);
}

#[test]
fn term_count_is_capped() {
    let ok: Vec<String> = (0..256).map(|i| format!("w{i}")).collect();
    assert!(Query::parse(&ok.join(" OR ")).is_ok());
    let too_many: Vec<String> = (0..257).map(|i| format!("w{i}")).collect();
    let s = too_many.join(" OR ");
    let e = err(&s);
    let expected = s.find("w256").map(|b| s[..b].chars().count());
    assert_eq!(Some(e.position), expected);
    assert!(e.message.contains("256"), "{e}");
}

#[test]
fn positions_count_characters_not_bytes() {
    // 上犹财政 is 4 characters but 12 bytes.
    assert_eq!(err("上犹财政 AND").position, 5);
}

// ---- matching --------------------------------------------------------------

#[test]
fn chinese_terms_are_substrings() {
    assert!(hit("财政", "上犹县财政局召开会议"));
    assert!(hit("上犹 财政", "上犹县财政局"));
    assert!(!hit("上犹 财政", "赣州市财政局"));
    assert!(hit("补贴", "农业补贴发放"));
}

#[test]
fn not_alone_and_not_in_and() {
    assert!(hit("NOT 招聘", "财政局通知"));
    assert!(!hit("NOT 招聘", "财政局招聘公告"));
    let rule = "上犹 AND (财政 OR 补贴 OR 预算) AND NOT 招聘";
    assert!(hit(rule, "上犹县惠农补贴发放"));
    assert!(!hit(rule, "上犹县财政局招聘公告"));
    assert!(!hit(rule, "赣州惠农补贴发放"));
}

#[test]
fn title_and_content_both_count_but_do_not_join() {
    let query = q("上犹 AND 补贴");
    assert!(query.matches(&Doc::new("上犹新闻", "补贴发放")));
    // A term does not run across the title/content seam.
    assert!(!q("新闻补贴").matches(&Doc::new("上犹新闻", "补贴发放")));
    assert!(q("新闻 补贴").matches(&Doc::new("上犹新闻", "补贴发放")));
}

#[test]
fn latin_terms_need_word_boundaries() {
    assert!(hit("mac", "I use a Mac at work"));
    assert!(!hit("mac", "a machine"));
    assert!(!hit("mac", "my MacBook"));
    assert!(!hit("mac", "iMac"));
    assert!(hit("mac", "mac-mini"));
    assert!(hit("5G", "推进5G建设"));
    assert!(hit("5g", "5G"));
    assert!(!hit("5g", "15G"));
    assert!(!hit("5g", "5Gbps"));
    assert!(hit("ppp", "PPP项目"));
    // A later occurrence on a boundary still counts.
    assert!(hit("mac", "machine mac"));
}

#[test]
fn case_and_width_fold_on_both_sides() {
    assert!(hit("PPP", "ppp模式"));
    assert!(hit("ppp", "ＰＰＰ模式"));
    assert!(hit("ＰＰＰ", "PPP模式"));
    assert!(hit("５Ｇ", "推进5G建设"));
    assert!(hit("app", "政务ＡＰＰ上线"));
}

#[test]
fn phrases_match_with_any_whitespace_and_boundaries() {
    assert!(hit("\"mac os\"", "runs Mac\n\n  OS well"));
    assert!(!hit("\"mac os\"", "macos"));
    assert!(!hit("\"mac os\"", "mac osx"));
    assert!(hit("“惠农 补贴”", "关于惠农 补贴的说明"));
    assert!(hit("「一卡通」", "惠民惠农财政补贴资金一卡通"));
}

#[test]
fn near_across_cjk_and_latin() {
    // 上 犹 县 财 政: 上犹 ends at token 1, 财政 starts at token 3 → distance 2.
    assert!(hit("上犹 NEAR/2 财政", "上犹县财政局"));
    assert!(!hit("上犹 NEAR/1 财政", "上犹县财政局"));
    // Either order.
    assert!(hit("财政 NEAR/2 上犹", "上犹县财政局"));
    // Adjacent tokens.
    assert!(hit("上犹 NEAR/1 县", "上犹县"));
    // Latin words are one token each; punctuation is no token.
    assert!(hit("budget NEAR/2 cut", "the budget, was cut"));
    assert!(!hit("budget NEAR/1 cut", "the budget, was cut"));
    assert!(hit("5g NEAR/2 建设", "推进5G新建设"));
    assert!(!hit("5g NEAR/1 建设", "推进5G新建设"));
    // Far apart.
    let far = format!("上犹{}财政", "某".repeat(20));
    assert!(!hit("上犹 NEAR/10 财政", &far));
    assert!(hit("上犹 NEAR/21 财政", &far));
    // Overlapping terms are distance 0.
    assert!(hit("上犹县 NEAR/1 犹县财", "上犹县财政"));
    // One absent side.
    assert!(!hit("上犹 NEAR/5 招聘", "上犹县财政局"));
}

#[test]
fn near_with_or_groups_and_chains() {
    assert!(hit("(补贴 OR 补助) NEAR/3 拖欠", "补助被拖欠"));
    assert!(!hit("(补贴 OR 补助) NEAR/3 拖欠", "补助已发放。……………很久以后有人说工资拖欠"));
    assert!(hit("上犹 NEAR/2 财政 NEAR/3 补贴", "上犹县财政局发补贴"));
    assert!(!hit("上犹 NEAR/2 财政 NEAR/3 补贴", "上犹县财政局今天下午发了补贴"));
    // NEAR inside AND / OR / NOT.
    assert!(hit("NOT (上犹 NEAR/1 招聘)", "上犹县财政局招聘"));
    assert!(hit("(上犹 NEAR/1 招聘) OR 财政", "上犹县财政局"));
}

#[test]
fn a_doc_is_reused_for_many_queries() {
    let doc = Doc::new("上犹县财政局", "惠农补贴发放到位");
    let queries = ["上犹", "补贴", "上犹 NEAR/3 财政", "NOT 招聘", "mac"];
    let hits: Vec<bool> = queries.iter().map(|s| q(s).matches(&doc)).collect();
    assert_eq!(hits, [true, true, true, true, false]);
    assert_eq!(doc.normalized(), "上犹县财政局\n惠农补贴发放到位");
}
