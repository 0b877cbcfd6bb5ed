//! RuleSet, judge() end to end, classify_text and check_query.

use yuqing_core::config::RuleConfig;
use yuqing_core::{Category, Level, Tier, Tone};
use yuqing_judge::rules::Doc;
use yuqing_judge::{check_query, classify_text, judge, RuleSet};

fn rule(name: &str, query: &str, category: Option<Category>) -> RuleConfig {
    RuleConfig { name: name.into(), query: query.into(), category, enabled: true, priority: Default::default() }
}

/// The model user's rules (yuqing-core's default.toml).
fn county_rules() -> RuleSet {
    let rules = [
        rule("上犹财政", "上犹 AND (财政 OR 财政局 OR 财政所 OR 预算 OR 专项资金)", Some(Category::Policy)),
        rule(
            "上犹惠民补贴",
            "(上犹 OR 赣州) AND (补贴 OR 补助 OR 惠农 OR 一卡通 OR 养老金 OR 社保 OR 工资) AND NOT 招聘",
            Some(Category::Livelihood),
        ),
        rule("上犹网传不实", "上犹 AND (谣言 OR 辟谣 OR 网传 OR 不实 OR 造谣)", Some(Category::Rumour)),
        rule(
            "上犹办事不满",
            "上犹 AND (财政 OR 补贴 OR 一卡通) AND (投诉 OR 不满 OR 推诿 OR 办事难 OR 拖欠 OR 未发放)",
            Some(Category::ServiceComplaint),
        ),
        rule("上犹经济社会", "上犹 AND (欠薪 OR 债务 OR 停产 OR 灾情 OR 洪涝 OR 物价)", Some(Category::EconomySociety)),
        rule(
            "外地财政事件",
            "(财政局 OR 财政所 OR 惠农补贴) AND (挪用 OR 截留 OR 冒领 OR 贪污 OR 通报)",
            Some(Category::IncidentElsewhere),
        ),
    ];
    match RuleSet::compile(&rules) {
        Ok(s) => s,
        Err(e) => panic!("{e:?}"),
    }
}

#[test]
fn ruleset_matches_with_categories_in_order() {
    let set = county_rules();
    assert_eq!(set.len(), 6);
    assert!(!set.is_empty());
    let doc = Doc::new("上犹县惠农补贴一卡通资金迟迟未发放", "村民投诉：财政所推诿");
    let m = set.matching(&doc);
    let names: Vec<&str> = m.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["上犹财政", "上犹惠民补贴", "上犹办事不满"]);
    assert_eq!(m[1].category, Some(Category::Livelihood));
    assert!(set.matching(&Doc::new("天气预报", "明天晴")).is_empty());
}

#[test]
fn ruleset_skips_disabled_and_reports_every_broken_rule() {
    let mut off = rule("off", "(((", None);
    off.enabled = false;
    let set = RuleSet::compile(&[off, rule("ok", "上犹", None)]);
    assert!(matches!(&set, Ok(s) if s.len() == 1));

    let errs = match RuleSet::compile(&[rule("a", "上犹 AND", None), rule("b", "上犹", None), rule("c", "(财政", None)])
    {
        Ok(_) => panic!("should fail"),
        Err(e) => e,
    };
    let names: Vec<&str> = errs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["a", "c"]);
    assert_eq!(errs[0].1.position, 3);
    assert_eq!(errs[1].1.position, 0);

    let empty = RuleSet::compile(&[]);
    assert!(matches!(empty, Ok(s) if s.is_empty()));
}

#[test]
fn ruleset_shares_terms_without_mixing_them_up() {
    // Same term text in different rules, with NEAR and NOT, must give each rule its
    // own answer.
    let set = match RuleSet::compile(&[
        rule("a", "上犹 NEAR/2 财政", None),
        rule("b", "上犹 NOT 财政", None),
        rule("c", "mac", None),
        rule("d", "\"mac\" OR 财政", None),
    ]) {
        Ok(s) => s,
        Err(e) => panic!("{e:?}"),
    };
    let names =
        |t: &str, c: &str| -> Vec<String> { set.matching(&Doc::new(t, c)).into_iter().map(|m| m.name).collect() };
    assert_eq!(names("上犹县财政局", ""), ["a", "d"]);
    assert_eq!(names("上犹县", "machine"), ["b"]);
    assert_eq!(names("", "Mac"), ["c", "d"]);
}

#[test]
fn judge_a_local_complaint() {
    let set = county_rules();
    let j = judge(
        "上犹县惠农补贴一卡通资金迟迟未发放，群众不满",
        "多位村民反映，补贴至今未发放到位，多次投诉财政所，工作人员推诿。",
        Tier::Local,
        1.0,
        &set,
    );
    assert!(j.relevant);
    assert_eq!(j.matched_rules, ["上犹财政", "上犹惠民补贴", "上犹办事不满"]);
    assert_eq!(j.categories, [Category::Policy, Category::Livelihood, Category::ServiceComplaint]);
    assert_eq!(j.tone, Tone::Negative);
    assert!(j.tone_score <= -0.6, "{}", j.tone_score);
    assert_eq!(j.level, Level::MajorSensitive);
    assert_eq!(j.level_reason, "强烈负面；本地信源；信源影响力大；涉及政策反馈、民生问题、服务不满；命中3条监测规则");
}

#[test]
fn judge_positive_news_is_capped_at_important() {
    let set = county_rules();
    let j = judge(
        "上犹县惠农补贴资金全部发放到位",
        "县财政局创新发放方式，惠民资金精准直达，群众满意，纷纷点赞。",
        Tier::Local,
        1.0,
        &set,
    );
    assert!(j.relevant);
    assert_eq!(j.tone, Tone::Positive);
    assert_eq!(j.level, Level::Important);
}

#[test]
fn judge_irrelevant_items_stay_ordinary() {
    let set = county_rules();
    let j = judge("某市发生交通事故", "造成多人死亡受伤。", Tier::Local, 1.0, &set);
    assert!(!j.relevant);
    assert!(j.matched_rules.is_empty());
    assert!(j.categories.is_empty());
    assert_eq!(j.tone, Tone::Negative);
    assert_eq!(j.level, Level::Ordinary);
    assert_eq!(j.level_reason, "未命中监测规则");
}

#[test]
fn judge_falls_back_to_builtin_categories_when_rules_name_none() {
    let set = match RuleSet::compile(&[rule("any", "上犹", None)]) {
        Ok(s) => s,
        Err(e) => panic!("{e:?}"),
    };
    let j = judge("网传上犹县停发养老金", "此为谣言。", Tier::Portal, 0.8, &set);
    assert!(j.relevant);
    assert_eq!(j.categories, [Category::Livelihood, Category::Rumour]);
}

#[test]
fn judgement_serialises() {
    let j = classify_text("投诉：财政所工作人员态度恶劣");
    let v = match serde_json::to_value(&j) {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(v["tone"], "negative");
    assert_eq!(v["categories"][0], "service-complaint");
}

#[test]
fn classify_text_categories() {
    let cases: &[(&str, &[Category])] = &[
        ("关于印发《上犹县财政专项资金管理办法》的通知", &[Category::Policy]),
        ("今年养老金上调，低保标准提高", &[Category::Livelihood]),
        ("网传某县暂停发放补贴，经核实系谣言", &[Category::Livelihood, Category::Rumour]),
        ("某企业停产，工人欠薪三个月", &[Category::EconomySociety]),
        ("某省财政厅原厅长落马", &[Category::IncidentElsewhere]),
        ("窗口工作人员态度很差，办事推诿", &[Category::ServiceComplaint]),
        ("今天天气晴朗", &[]),
        // 态度 alone is not a complaint.
        ("工作态度认真负责", &[]),
    ];
    for (text, want) in cases {
        let j = classify_text(text);
        assert_eq!(j.categories, *want, "{text}");
        assert_eq!(j.relevant, !want.is_empty());
        assert!(j.matched_rules.is_empty());
    }
}

#[test]
fn classify_text_levels() {
    // Routine: nothing scores.
    let j = classify_text("县财政局举办业务培训班");
    assert_eq!((j.tone, j.level), (Tone::Neutral, Level::Ordinary));
    // Negative (2) + service complaint (2) = 4: important.
    let j = classify_text("窗口工作人员态度恶劣，办事推诿，群众投诉");
    assert_eq!(j.tone, Tone::Negative);
    assert_eq!(j.level, Level::Important);
    // Strongly negative (3) + rumour/economy (2) + livelihood: 5, still important
    // with tier Other (no tier or weight points).
    let j = classify_text("网传欠薪工人讨薪被打，拖欠工资半年，群众愤怒");
    assert_eq!(j.level, Level::Important, "{}", j.level_reason);
    assert!(!j.level_reason.contains("信源"), "{}", j.level_reason);
}

#[test]
fn check_query_reports_the_rule_error() {
    assert_eq!(check_query("上犹 AND 财政"), Ok(()));
    assert_eq!(
        check_query("上犹 AND"),
        Err("at character 3: `AND` has nothing after it; add a word or phrase after it or remove it".into())
    );
}

#[test]
fn core_config_validation_accepts_the_builtin_rules() {
    // The default configuration's rules must compile with this parser.
    let c = match yuqing_core::config::Config::parse(yuqing_core::config::BUILTIN_TOML, "builtin", &check_query) {
        Ok(c) => c,
        Err(e) => panic!("{:?}", e.problems),
    };
    assert!(matches!(RuleSet::compile(&c.rules), Ok(s) if s.len() == c.rules.iter().filter(|r| r.enabled).count()));
}
