//! The configured judgement (`Judge`): category sets extended, replaced or turned off,
//! rules' and sets' categories combined, rule priority and a configured level table,
//! each visible in the one-line reason; and the defaults judging exactly as before.

use yuqing_core::config::{
    CategoriesConfig, CategoryMode, CategorySetConfig, CombineCategories, Config, LevelConfig, Priority, RuleConfig,
};
use yuqing_core::{Category, Level, Tier, Tone};
use yuqing_judge::{check_query, classify_text, judge, Judge, RuleSet};

fn rule(name: &str, query: &str, category: Option<Category>, priority: Priority) -> RuleConfig {
    RuleConfig { name: name.into(), query: query.into(), category, enabled: true, priority }
}

fn set(mode: CategoryMode, queries: &[&str]) -> CategorySetConfig {
    CategorySetConfig { enabled: true, mode, query: None, queries: queries.iter().map(|q| q.to_string()).collect() }
}

fn compile(rules: &[RuleConfig], cats: &CategoriesConfig, level: &LevelConfig) -> Judge {
    match Judge::new(rules, cats, level) {
        Ok(j) => j,
        Err(e) => panic!("{e:?}"),
    }
}

fn parse(text: &str) -> Config {
    match Config::parse(text, "t.toml", &check_query) {
        Ok(c) => c,
        Err(e) => panic!("{:?}", e.problems),
    }
}

#[test]
fn the_default_configuration_judges_exactly_as_the_free_functions() {
    let config = Config::builtin();
    let judge_c = match Judge::compile(&config) {
        Ok(j) => j,
        Err(e) => panic!("{e:?}"),
    };
    let rules = match RuleSet::compile(&config.rules) {
        Ok(r) => r,
        Err(e) => panic!("{e:?}"),
    };
    let texts = [
        (
            "上犹县惠农补贴一卡通资金迟迟未发放，群众不满",
            "多位村民反映，补贴至今未发放到位，多次投诉财政所，工作人员推诿。",
        ),
        ("网传上犹县停发养老金", "此为谣言。"),
        ("上犹县财政局举办业务培训班", "全县财政干部参加。"),
        ("某市发生交通事故", "造成多人死亡受伤。"),
        ("上犹县发放耕地地力保护补贴", "县财政局通过一卡通向农户发放补贴，群众满意。"),
    ];
    for (title, content) in texts {
        for tier in [Tier::Local, Tier::Portal, Tier::Central] {
            assert_eq!(
                judge_c.judge(title, content, tier, tier.default_weight()),
                judge(title, content, tier, tier.default_weight(), &rules),
                "{title}"
            );
        }
        assert_eq!(Judge::builtin().classify(content), classify_text(content));
    }
}

#[test]
fn extend_adds_to_the_built_in_set_and_replace_drops_it() {
    let text = "耕地地力保护补贴迟迟不到账";
    // 补贴 is in the built-in livelihood set; 地力保护 is not in any.
    let extend = CategoriesConfig {
        combine: CombineCategories::FillIn,
        sets: [(Category::Rumour, set(CategoryMode::Extend, &["地力保护"]))].into(),
    };
    let j = compile(&[], &extend, &LevelConfig::default());
    assert_eq!(j.classify(text).categories, [Category::Livelihood, Category::Rumour]);
    assert_eq!(j.classify("网传停发").categories, [Category::Rumour], "the built-in rumour queries still apply");

    let replace = CategoriesConfig {
        combine: CombineCategories::FillIn,
        sets: [(Category::Livelihood, set(CategoryMode::Replace, &["一卡通"]))].into(),
    };
    let j = compile(&[], &replace, &LevelConfig::default());
    assert!(j.classify(text).categories.is_empty(), "补贴 was only in the replaced built-in set");
    assert_eq!(j.classify("一卡通资金").categories, [Category::Livelihood]);
    let view = j.category_sets().describe();
    let livelihood = view.iter().find(|v| v.category == Category::Livelihood).unwrap();
    assert_eq!(livelihood.queries, [("一卡通".to_string(), false)]);
    assert_eq!(livelihood.mode, Some(CategoryMode::Replace));
    let policy = view.iter().find(|v| v.category == Category::Policy).unwrap();
    assert!(policy.mode.is_none() && policy.queries.iter().all(|(_, builtin)| *builtin));
}

#[test]
fn a_disabled_category_is_never_given_by_its_set_but_a_rule_may_still_name_it() {
    let mut off = set(CategoryMode::Extend, &[]);
    off.enabled = false;
    let cats = CategoriesConfig { combine: CombineCategories::FillIn, sets: [(Category::Livelihood, off)].into() };
    let rules = [
        rule("named", "一卡通", Some(Category::Livelihood), Priority::Normal),
        rule("any", "上犹", None, Priority::Normal),
    ];
    let j = compile(&rules, &cats, &LevelConfig::default());
    assert!(j.classify("养老金上调，低保标准提高").categories.is_empty());
    let item = j.judge("上犹县养老金上调", "低保标准提高", Tier::Local, 1.0);
    assert!(item.relevant);
    assert!(item.categories.is_empty(), "{:?}", item.categories);
    let item = j.judge("上犹县一卡通", "", Tier::Local, 1.0);
    assert_eq!(item.categories, [Category::Livelihood], "a rule naming the category still gives it");
}

#[test]
fn an_item_may_have_several_categories_from_rules_and_sets() {
    let rules = [rule("上犹", "上犹", Some(Category::Policy), Priority::Normal)];
    let title = "网传上犹县停发养老金";
    // fill-in (the default): the rule names a category, so the sets are not consulted.
    let fill = compile(&rules, &CategoriesConfig::default(), &LevelConfig::default());
    assert_eq!(fill.judge(title, "", Tier::Portal, 0.8).categories, [Category::Policy]);
    // union: the rule's category and every set that matches.
    let union = CategoriesConfig { combine: CombineCategories::Union, sets: Default::default() };
    let j = compile(&rules, &union, &LevelConfig::default());
    let item = j.judge(title, "", Tier::Portal, 0.8);
    assert_eq!(item.categories, [Category::Policy, Category::Livelihood, Category::Rumour]);
    // The highest category counts once, and all that scored are named.
    assert!(item.level_reason.contains("涉及政策反馈、民生问题、谣言不实信息"), "{}", item.level_reason);
    // The trial shows each matching query, whether the combination used it or not.
    let trial = fill.trial(title, "", Tier::Portal, 0.8);
    let hit: Vec<Category> = trial.category_hits.iter().map(|h| h.category).collect();
    assert_eq!(hit, [Category::Livelihood, Category::Rumour]);
    assert_eq!(trial.judgement.categories, [Category::Policy]);
}

#[test]
fn priority_raises_the_level_and_is_named_in_the_reason() {
    // A neutral item from a portal: nothing scores but the rule's priority.
    let (title, content) = ("上犹县召开财政工作会议", "会议部署了明年的工作。");
    let normal =
        compile(&[rule("会议", "上犹", None, Priority::Normal)], &CategoriesConfig::default(), &LevelConfig::default());
    let j = normal.judge(title, content, Tier::Portal, 0.5);
    assert_eq!(j.tone, Tone::Neutral, "the fixture must stay neutral: {}", j.tone_score);
    assert_eq!(j.level, Level::Ordinary);
    assert!(!j.level_reason.contains("优先级"), "{}", j.level_reason);

    let rules = [
        rule("普通规则", "上犹", None, Priority::Normal),
        rule("重点规则", "财政", None, Priority::Critical),
        rule("另一条", "会议", None, Priority::Critical),
    ];
    let critical = compile(&rules, &CategoriesConfig::default(), &LevelConfig::default());
    let j = critical.judge(title, content, Tier::Portal, 0.5);
    // critical 4 + three rules 1 = 5: important.
    assert_eq!(j.level, Level::Important, "{}", j.level_reason);
    assert!(
        j.level_reason.contains("命中紧急优先级规则「重点规则」"),
        "the first rule at the top priority: {}",
        j.level_reason
    );
    assert!(j.level_reason.contains("命中3条监测规则"), "{}", j.level_reason);
    assert_eq!(critical.rule_priorities()["重点规则"], Priority::Critical);

    let high =
        compile(&[rule("高", "上犹", None, Priority::High)], &CategoriesConfig::default(), &LevelConfig::default());
    let j = high.judge(title, content, Tier::Portal, 0.5);
    assert_eq!((j.level, j.level_reason.as_str()), (Level::Ordinary, "命中高优先级规则「高」"));
}

#[test]
fn a_configured_level_table_changes_thresholds_points_and_the_reason() {
    let config = parse(
        r#"
[[rules]]
name = "上犹"
query = "上犹"
priority = "high"
[level]
important_at = 2
major_sensitive_at = 3
[level.tiers]
portal = 1
[level.priorities]
high = 1
"#,
    );
    let j = match Judge::compile(&config) {
        Ok(j) => j,
        Err(e) => panic!("{e:?}"),
    };
    let (title, content) = ("上犹县召开财政工作会议", "会议部署了明年的工作。");
    let item = j.judge(title, content, Tier::Portal, 0.5);
    // portal 1 + high 1 = 2: important by the configured threshold (ordinary by default).
    assert_eq!(item.level, Level::Important, "{}", item.level_reason);
    assert_eq!(item.level_reason, "商业门户网站；命中高优先级规则「上犹」");
    let item = j.judge(title, content, Tier::Portal, 0.95);
    assert_eq!(item.level, Level::MajorSensitive, "{}", item.level_reason);
    assert_eq!(item.level_reason, "商业门户网站；信源影响力大；命中高优先级规则「上犹」");
    // classify uses the table too (no rules: no priority).
    let k = j.classify("上犹县召开会议");
    assert_eq!(k.level, Level::Ordinary);
}

#[test]
fn configured_category_queries_come_from_the_configuration_file() {
    let config = parse(
        r#"
[categories.service-complaint]
mode = "replace"
query = "窗口 NEAR/4 排队"
[categories.rumour]
enabled = false
"#,
    );
    let j = match Judge::compile(&config) {
        Ok(j) => j,
        Err(e) => panic!("{e:?}"),
    };
    assert_eq!(j.classify("办税窗口前排队两小时").categories, [Category::ServiceComplaint]);
    assert!(j.classify("网传停发补贴系谣言").categories.iter().all(|c| *c != Category::Rumour));
    assert!(j.classify("办事推诿").categories.is_empty(), "the built-in complaint set was replaced");
}

#[test]
fn broken_category_queries_are_reported_with_their_position() {
    let mut bad = set(CategoryMode::Extend, &["补贴", "补贴 AND"]);
    bad.query = Some("(一卡通".into());
    let cats = CategoriesConfig { combine: CombineCategories::FillIn, sets: [(Category::Livelihood, bad)].into() };
    let errors = match Judge::new(&[rule("r", "上犹 OR", None, Priority::Normal)], &cats, &LevelConfig::default()) {
        Ok(_) => panic!("must not compile"),
        Err(e) => e,
    };
    let got: Vec<(String, usize)> = errors.iter().map(|(k, e)| (k.clone(), e.position)).collect();
    assert_eq!(
        got,
        [
            ("rules[0] (r)".to_string(), 3),
            ("categories.livelihood (query 1)".to_string(), 0),
            ("categories.livelihood (query 3)".to_string(), 3),
        ]
    );
    // check-config says the same with the real query checker.
    let err = Config::parse("[categories.livelihood]\nqueries = ['补贴', '补贴 AND']\n", "t.toml", &check_query)
        .expect_err("invalid");
    assert_eq!(err.problems.len(), 1);
    assert_eq!(err.problems[0].key, "categories.livelihood");
    assert!(err.problems[0].message.starts_with("`queries[1]` at character 3:"), "{}", err.problems[0].message);
}
