//! The rules page (监测规则与重点内容类别), read-only, for the office and admins: the watch
//! rules and the key-content category sets in effect (built-in or configured), how many
//! items each got in the last 7 days, the level table, and "try a text": a pasted text
//! judged by the configured judge (matched rules, category queries, tone, level and the
//! reason line), so that an admin checks an edit before reloading. Nothing here changes
//! state, so the form is a GET.
//!
//! Queries, rule names and the tried text are the admin's or a stranger's text: the
//! template auto-escapes all of it.

use crate::auth::Ui;
use crate::error::{PageError, WebError};
use crate::view::{self, category_label, level_label, tier_label, tone_label, Lang};
use crate::AppState;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use yuqing_core::config::{CategoryMode, CombineCategories, Priority};
use yuqing_core::{Category, Tier};
use yuqing_judge::Judge;

/// Longest text tried, in characters (a GET request; a page's text is longer than
/// anyone needs to check a rule against).
pub const MAX_TRY_CHARS: usize = 5_000;
/// Longest title tried, in characters.
pub const MAX_TRY_TITLE_CHARS: usize = 300;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/rules", get(rules_page))
}

pub(crate) const DICTIONARY: &[(&str, &str, &str)] = &[
    ("nav_rules", "监测规则", "Watch rules"),
    ("rules_title", "监测规则与重点内容类别", "Watch rules and categories"),
    (
        "rules_read_only",
        "本页只读，显示当前生效的配置。修改请编辑配置文件（yuqing.toml）并重新启动；修改前可先在下方“试一试”。",
        "Read-only: the configuration in effect. Edit the configuration file (yuqing.toml) and restart to change it; try a text below first.",
    ),
    ("rules_heading", "监测规则", "Watch rules"),
    ("query_label", "检索式", "Query"),
    ("priority", "优先级", "Priority"),
    ("items_7d", "近7天信息数", "Items, last 7 days"),
    ("no_rules", "尚未配置监测规则。", "No watch rules are configured."),
    ("categories_heading", "重点内容类别规则", "Category rule sets"),
    ("set_state", "状态", "State"),
    ("set_builtin", "内置", "built-in"),
    ("set_extend", "内置＋补充", "built-in, extended"),
    ("set_replace", "已替换内置", "replaced"),
    ("set_disabled", "已停用", "disabled"),
    ("query_builtin", "内置", "built-in"),
    ("query_configured", "配置", "configured"),
    ("combine_fill_in", "命中的监测规则指定了类别时，以规则指定的类别为准；都未指定时，由以上类别规则补充。", "When a matched rule names a category, the item gets the rules' categories; the sets above fill in only when none does."),
    ("combine_union", "信息同时获得命中规则指定的类别和以上类别规则命中的全部类别。", "An item gets both the categories its rules name and every category whose set matches."),
    ("counts_truncated", "信息过多，仅统计了最新的部分。", "Too many items: only the newest were counted."),
    ("level_heading", "定级积分表", "Level points"),
    ("level_thresholds", "定级门槛", "Thresholds"),
    ("tone_model", "倾向模型", "Tone model"),
    ("spread_label", "传播", "Spread"),
    ("try_heading", "试一试", "Try a text"),
    ("try_hint", "粘贴一段文字，查看它命中哪些规则和类别、倾向、等级及定级依据（不保存任何内容）。", "Paste a text to see which rules and categories it matches, its tone, level and the reason (nothing is saved)."),
    ("try_title", "标题（选填）", "Title (optional)"),
    ("try_text", "正文", "Text"),
    ("try_tier", "假定信源级别", "As if from a source of tier"),
    ("try_button", "研判", "Judge"),
    ("try_result", "研判结果", "Judgement"),
    ("try_truncated", "文字过长，只研判了前面部分。", "The text was long: only its beginning was judged."),
    ("relevant", "相关（命中监测规则）", "Relevant (a watch rule matched)"),
    ("not_relevant", "不相关：未命中任何监测规则（按类别规则仍列出命中的查询）", "Not relevant: no watch rule matched (category queries that match are still listed)"),
    ("category_hits", "命中的类别查询", "Category queries that match"),
    ("item_categories", "信息的类别", "The item's categories"),
    ("try_query", "试用检索式（选填，修改配置前先检查）", "A query to try (optional: check an edit before you make it)"),
    ("query_understood", "理解为", "Understood as"),
    ("query_matches", "命中本文", "matches the text"),
    ("query_no_match", "未命中本文", "does not match the text"),
    ("query_error", "检索式有误", "The query is broken"),
];

#[derive(Debug, Default, Deserialize)]
pub(crate) struct TryParams {
    #[serde(default)]
    title: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    tier: String,
    /// A query being written, tried against the same text.
    #[serde(default)]
    query: String,
}

/// A query being written, tried against the text: how it was understood and whether it
/// matches, or where it is broken.
#[derive(Debug, Serialize)]
struct QueryTrial {
    understood: Option<String>,
    matches: bool,
    error: Option<String>,
}

/// Longest query tried, in characters.
const MAX_QUERY_CHARS: usize = 2_000;

#[derive(Debug, Serialize)]
struct RuleRow {
    name: String,
    query: String,
    category: Option<&'static str>,
    priority: &'static str,
    raised: bool,
    enabled: bool,
    items: i64,
}

#[derive(Debug, Serialize)]
struct QueryRow {
    query: String,
    builtin: bool,
}

#[derive(Debug, Serialize)]
struct SetRow {
    id: &'static str,
    label: &'static str,
    state: &'static str,
    enabled: bool,
    queries: Vec<QueryRow>,
    items: i64,
}

#[derive(Debug, Serialize)]
struct Points {
    label: String,
    points: u32,
}

#[derive(Debug, Serialize)]
struct TrialView {
    title: String,
    text: String,
    truncated: bool,
    relevant: bool,
    rules: Vec<(String, &'static str)>,
    categories: Vec<&'static str>,
    hits: Vec<(&'static str, String, bool)>,
    tone: &'static str,
    tone_id: &'static str,
    tone_score: String,
    level: &'static str,
    level_id: &'static str,
    reason: String,
    query: Option<QueryTrial>,
}

fn priority_label(lang: Lang, p: Priority) -> &'static str {
    if lang == Lang::Zh {
        p.zh()
    } else {
        p.id()
    }
}

/// The first `max` characters, and whether anything was cut.
fn bounded(s: &str, max: usize) -> (String, bool) {
    match s.char_indices().nth(max) {
        Some((i, _)) => (s[..i].to_string(), true),
        None => (s.to_string(), false),
    }
}

async fn rules_page(
    ui: Ui,
    State(state): State<AppState>,
    Query(params): Query<TryParams>,
) -> Result<Response, PageError> {
    if !ui.user.role.is_office() {
        return Err(PageError(WebError::Forbidden(
            "只有网宣办和管理员可以查看监测规则。 Only the office and admins may see the watch rules.".into(),
        )));
    }
    let lang = ui.lang;
    let config = &state.config;
    // Compiled per request: a few dozen queries, microseconds (the tone model of `[judge]
    // tone_model` is read once per process); the configuration was validated at start,
    // so an error here is ours.
    let judge = Judge::load(config).map_err(|problems| {
        PageError(WebError::Internal(format!("the configured judgement does not load: {}", problems.join("; "))))
    })?;
    let counts = state.store.rule_counts(Utc::now() - chrono::Duration::days(7)).await?;

    let rules: Vec<RuleRow> = config
        .rules
        .iter()
        .map(|r| RuleRow {
            name: r.name.clone(),
            query: r.query.clone(),
            category: r.category.map(|c| category_label(lang, c)),
            priority: priority_label(lang, r.priority),
            raised: r.priority != Priority::Normal,
            enabled: r.enabled,
            items: counts.rules.get(&r.name).copied().unwrap_or(0),
        })
        .collect();

    let sets: Vec<SetRow> = judge
        .category_sets()
        .describe()
        .into_iter()
        .map(|v| SetRow {
            id: v.category.id(),
            label: category_label(lang, v.category),
            state: match (v.enabled, v.mode) {
                (false, _) => "set_disabled",
                (true, None) => "set_builtin",
                (true, Some(CategoryMode::Extend)) => "set_extend",
                (true, Some(CategoryMode::Replace)) => "set_replace",
            },
            enabled: v.enabled,
            queries: v.queries.into_iter().map(|(query, builtin)| QueryRow { query, builtin }).collect(),
            items: counts.categories.get(&v.category).copied().unwrap_or(0),
        })
        .collect();

    let table = judge.level_table();
    let tiers: Vec<Points> = Tier::ALL
        .iter()
        .map(|&t| Points { label: tier_label(lang, t).to_string(), points: table.tier_points(t) })
        .collect();
    let categories: Vec<Points> = Category::ALL
        .iter()
        .map(|&c| Points { label: category_label(lang, c).to_string(), points: table.category_points(c) })
        .collect();
    let priorities: Vec<Points> = Priority::ALL
        .iter()
        .map(|&p| Points { label: priority_label(lang, p).to_string(), points: table.priority_points(p) })
        .collect();

    let form_title = bounded(&params.title, MAX_TRY_TITLE_CHARS).0;
    let form_text = bounded(&params.text, MAX_TRY_CHARS).0;
    let form_query = bounded(&params.query, MAX_QUERY_CHARS).0;
    let tier = Tier::from_id(&params.tier).unwrap_or(Tier::Other);
    let trial = if params.text.trim().is_empty() && params.title.trim().is_empty() {
        None
    } else {
        let (title, cut_title) = bounded(&params.title, MAX_TRY_TITLE_CHARS);
        let (text, cut_text) = bounded(&params.text, MAX_TRY_CHARS);
        let t = judge.trial(&title, &text, tier, tier.default_weight());
        let j = &t.judgement;
        Some(TrialView {
            truncated: cut_title || cut_text,
            relevant: j.relevant,
            rules: t.matched.iter().map(|m| (m.name.clone(), priority_label(lang, m.priority))).collect(),
            categories: j.categories.iter().map(|&c| category_label(lang, c)).collect(),
            hits: t
                .category_hits
                .iter()
                .map(|h| (category_label(lang, h.category), h.query.clone(), h.builtin))
                .collect(),
            tone: tone_label(lang, j.tone),
            tone_id: j.tone.id(),
            tone_score: format!("{:.2}", j.tone_score),
            level: level_label(lang, j.level),
            level_id: j.level.id(),
            reason: j.level_reason.clone(),
            query: (!params.query.trim().is_empty()).then(|| {
                let (q, _) = bounded(&params.query, MAX_QUERY_CHARS);
                match yuqing_judge::rules::Query::parse(&q) {
                    Ok(query) => QueryTrial {
                        understood: Some(query.to_string()),
                        matches: query.matches(&yuqing_judge::rules::Doc::new(&title, &text)),
                        error: None,
                    },
                    Err(e) => QueryTrial { understood: None, matches: false, error: Some(e.to_string()) },
                }
            }),
            title,
            text,
        })
    };
    let tier_options: Vec<(&'static str, &'static str, bool)> =
        Tier::ALL.iter().map(|&t| (t.id(), tier_label(lang, t), t == tier)).collect();

    let page = serde_json::json!({
        "rules": rules,
        "sets": sets,
        "union": judge.category_sets().combine() == CombineCategories::Union,
        "counts_truncated": counts.truncated,
        "level": {
            "important_at": table.important_at,
            "major_sensitive_at": table.major_sensitive_at,
            "negative": table.points.negative,
            "strongly_negative": table.points.strongly_negative,
            "strongly_negative_at": format!("{:.2}", table.strongly_negative_at),
            "influential_source": table.points.influential_source,
            "influential_weight": format!("{:.2}", table.influential_weight),
            "several_rules": table.points.several_rules,
            "several_rules_at": table.several_rules_at,
            "spread": table.points.spread,
            "spread_at": table.spread_at,
            "wide_spread": table.points.wide_spread,
            "wide_spread_at": table.wide_spread_at,
            "positive_at_most": level_label(lang, table.positive_at_most),
            "tiers": tiers,
            "categories": categories,
            "priorities": priorities,
        },
        // Which model judges tone: the file's name only (not the server's folders).
        "tone_model": config.judge.tone_model.as_ref().map(|p| {
            p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
        }),
        "trial": trial,
        "form": { "title": form_title, "text": form_text, "query": form_query },
        "tiers": tier_options,
        "max_chars": MAX_TRY_CHARS,
    });
    let base = ui.base(&state, "rules");
    Ok(view::render("rules.html", &base, page)?.into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn bounded_cuts_at_characters() {
        assert_eq!(super::bounded("上犹财政", 2), ("上犹".to_string(), true));
        assert_eq!(super::bounded("上犹", 2), ("上犹".to_string(), false));
    }
}
