//! Bulletins (舆情信息) in the UI and the JSON API: compile a draft from a period, pick
//! and order its entries, edit their summaries and the office's comment (编者按),
//! preview it, issue it (签发), and read and download issued bulletins.
//!
//! - UI: `/bulletins` (issued bulletins, open drafts, the compile form),
//!   `POST /bulletins/drafts` (compile), `/bulletins/drafts/{id}` (the editor, one form
//!   whose buttons say what to do: save, move, remove, add, issue, delete),
//!   `/bulletins/drafts/{id}/preview`, `/bulletins/{n}`, `POST /bulletins/{n}/correct`
//!   (a correction is a new draft naming the issue), `/bulletins/{n}/download/{pdf|docx|html}`.
//! - API: `GET /api/v1/bulletins`, `POST /api/v1/bulletins` (compile and issue at once,
//!   as `yuqing bulletin create`), `GET /api/v1/bulletins/{number}` and
//!   `GET /api/v1/bulletins/{number}/document?format=`.
//!
//! Every logged-in role reads issued bulletins; only the office and admins compile,
//! edit and issue. Each editor form carries the draft's revision: a change made on an
//! older revision is refused with a message saying who changed it, never merged
//! silently. Issuing and numbering are the store's (one transaction, under the
//! numbering lock); an issued bulletin is frozen.

use crate::auth::{csrf_ok, csrf_refused, ApiUser, Ui};
use crate::compile::{self, CompileError, DraftDoc, Period, MAX_DRAFT_ENTRIES};
use crate::documents::{self, Format};
use crate::error::{ApiError, PageError};
use crate::view::{self, category_label, level_label, tier_label, tone_label, Lang};
use crate::{AppState, WebError};
use axum::body::Bytes;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::{Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use yuqing_core::Role;
use yuqing_report::{Bulletin, Entry};
use yuqing_store::{DraftError, DraftRow, IssuedBulletin};

/// Issued bulletins per page of the list.
const PAGE_SIZE: usize = 50;
/// Open drafts the list shows.
const MAX_OPEN_DRAFTS: usize = 50;
/// Items offered for adding to a draft.
const MAX_CANDIDATES: usize = 100;
/// Characters of one entry's summary, and of the office's comment.
pub(crate) const MAX_SUMMARY_CHARS: usize = 2000;
pub(crate) const MAX_COMMENT_CHARS: usize = 4000;

const STYLESHEET: &str = include_str!("../static/reports.css");

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/static/reports.css", get(stylesheet))
        .route("/bulletins", get(list_page))
        .route("/bulletins/drafts", post(compile_form))
        .route("/bulletins/drafts/{id}", get(draft_page).post(draft_form))
        .route("/bulletins/drafts/{id}/preview", get(preview_page))
        .route("/bulletins/{number}", get(issue_page))
        .route("/bulletins/{number}/correct", post(correct_form))
        .route("/bulletins/{number}/download/{format}", get(issue_download))
}

async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=300")], STYLESHEET)
        .into_response()
}

/// UI strings of the bulletin and report pages: key, Chinese, English.
pub(crate) const DICTIONARY: &[(&str, &str, &str)] = &[
    ("nav_bulletins", "舆情信息", "Bulletins"),
    ("nav_reports", "统计报告", "Reports"),
    ("bulletins_title", "舆情信息（期刊）", "Bulletins"),
    ("issued_bulletins", "已签发", "Issued"),
    ("no_bulletins", "尚未签发任何一期。", "No bulletin has been issued yet."),
    ("open_drafts", "编辑中的草稿", "Drafts being edited"),
    ("no_drafts", "没有编辑中的草稿。", "No draft is being edited."),
    ("compile_title", "汇编新一期", "Compile a new issue"),
    (
        "compile_hint",
        "按时段汇编：默认从上一期的截止日期到今天。汇编后可挑选、排序条目，修改摘要和编者按，预览后签发。",
        "From a period, by default from the last issue's end to today. Then pick and order the entries, edit the summaries and the comment, preview and issue.",
    ),
    ("compile_button", "汇编草稿", "Compile a draft"),
    ("period", "时段", "Period"),
    ("number", "期号", "Number"),
    ("bulletin_heading", "标题", "Title"),
    ("issued_by", "签发人", "Issued by"),
    ("issued_at", "签发时间", "Issued"),
    ("corrects", "更正", "Corrects"),
    ("corrected_by", "已被更正", "Corrected by"),
    ("entries", "条目", "Entries"),
    ("revision", "版本", "Revision"),
    ("edited_by", "最近修改", "Last edited"),
    ("open", "打开", "Open"),
    ("view", "查看", "View"),
    ("download", "下载", "Download"),
    ("draft_title", "舆情信息草稿", "Bulletin draft"),
    ("draft_correction", "本草稿为更正", "This draft corrects"),
    ("preview", "预览", "Preview"),
    ("preview_note", "预览：期号为预计值，签发时才确定；签发前的内容还可以修改。", "Preview: the number is what it would be now; it is given when the issue is issued, and the draft can still change."),
    ("back_to_draft", "返回编辑", "Back to the editor"),
    ("back_to_list", "返回列表", "Back to the list"),
    ("summary", "摘要", "Summary"),
    ("comment", "编者按（网宣办意见）", "Comment (the office's)"),
    ("comment_hint", "可选：网宣办对本期的意见和建议", "Optional: the office's comment on this issue"),
    ("move_up", "上移", "Up"),
    ("move_down", "下移", "Down"),
    ("remove", "移出", "Remove"),
    ("save", "保存", "Save"),
    ("no_entries", "本期还没有条目；可从下方添加。", "No entries yet; add some below."),
    ("add_items", "添加本时段的信息", "Add items of the period"),
    ("add_hint", "每个事件列出一条代表信息；已在本期中的事件不再列出。", "One item per event; events already in the issue are not listed."),
    ("add_button", "添加所选", "Add the chosen"),
    ("no_candidates", "本时段没有其他可添加的信息。", "No other item of the period to add."),
    ("issue_title", "签发", "Issue"),
    (
        "issue_hint",
        "签发后本期编号、冻结，不能再修改；如有错误，只能另出一期更正。",
        "Once issued, the issue gets its number and is frozen; a mistake can only be corrected by a new issue.",
    ),
    ("issue_button", "签发本期", "Issue it"),
    ("delete_draft", "删除草稿", "Delete the draft"),
    ("frozen", "本期已签发，内容已冻结。", "This issue is issued and frozen."),
    ("correct_title", "出更正", "Correct this issue"),
    (
        "correct_hint",
        "更正是新的一期：以本期内容为底稿新建草稿，并注明所更正的期号。",
        "A correction is a new issue: a new draft starts from this one and names it.",
    ),
    ("correct_button", "以本期为底稿出更正", "Start a correction"),
    ("spread", "传播", "Spread"),
    ("case_label", "处置", "Handling"),
    ("overdue_suffix", "（已超时）", " (overdue)"),
    ("prefilled", "默认", "default"),
    ("reports_title", "统计报告", "Statistics reports"),
    ("report_kind", "报告类型", "Kind"),
    ("report_day", "所在日期", "Day"),
    ("report_show", "查看", "Show"),
    ("custom_period", "自选时段", "A chosen period"),
    ("export_items", "导出本时段信息", "Export the period's items"),
    ("prev_period", "上一期间", "Previous"),
    ("next_period", "下一期间", "Next"),
    ("markup_failed", "文档内容未通过安全检查，未显示；请下载 PDF 查看，并联系管理员。", "The document's markup failed the safety check and is not shown; download the PDF and tell an admin."),
    ("read_only_bulletins", "舆情信息由网宣办和管理员汇编、签发。", "The office and admins compile and issue bulletins."),
];

fn may_edit(role: Role) -> bool {
    matches!(role, Role::Office | Role::Admin)
}

fn forbidden() -> WebError {
    WebError::Forbidden(
        "只有网宣办和管理员可以汇编、修改和签发舆情信息。 Only the office and admins may compile, edit and issue bulletins."
            .into(),
    )
}

fn parse_id(what: &str, s: &str) -> Result<i64, WebError> {
    s.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| WebError::NotFound(format!("There is no {what} `{s}`; they are whole numbers.")))
}

fn compile_error(e: CompileError) -> WebError {
    match e {
        CompileError::Store(s) => s.into(),
        other => WebError::BadRequest(format!("{other}.")),
    }
}

fn draft_error(e: DraftError) -> WebError {
    match e {
        DraftError::NoDraft(_) | DraftError::NoBulletin(_) => WebError::NotFound(format!("{e}.")),
        DraftError::Issued { .. } | DraftError::Stale { .. } => WebError::Conflict(format!("{e}.")),
        DraftError::Store(s) => s.into(),
        other => WebError::Internal(other.to_string()),
    }
}

fn parse_date(s: &str, what: &str) -> Result<NaiveDate, WebError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| WebError::BadRequest(format!("The {what} date `{s}` is not a date like 2026-11-29.")))
}

/// The period a form or request names; an empty end takes the default's.
pub(crate) async fn period_from(
    state: &AppState,
    since: Option<&str>,
    until: Option<&str>,
) -> Result<Period, WebError> {
    let default = compile::default_period(&state.store, &state.config, Utc::now()).await.map_err(compile_error)?;
    let since = match since.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => parse_date(s, "start")?,
        None => default.since,
    };
    let until = match until.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => parse_date(s, "end")?,
        None => default.until,
    };
    Period::new(since, until).map_err(compile_error)
}

/// "第N期" / "2026年第3期", or "No. N".
fn label(lang: Lang, b: &Bulletin) -> String {
    if lang == Lang::Zh {
        compile::number_label_zh(b)
    } else {
        compile::number_label_en(b)
    }
}

fn period_text(since: &str, until: &str) -> String {
    if since == until {
        since.to_string()
    } else {
        format!("{since} – {until}")
    }
}

/// A problem shown at the top of a page: Chinese, with the English beside it.
#[derive(Debug, Serialize)]
struct Problem {
    zh: String,
    en: String,
}

// ---- the list -----------------------------------------------------------------------------

#[derive(Debug, Serialize)]
struct IssuedView {
    number: i64,
    label: String,
    title: String,
    period: String,
    issued_by: String,
    issued_at: String,
    corrects: Option<i64>,
}

fn issued_view(lang: Lang, tz: chrono_tz::Tz, row: &IssuedBulletin) -> IssuedView {
    let b = compile::stored_issue(&row.content, row.number, row.year).ok();
    IssuedView {
        number: row.number,
        label: b.as_ref().map_or_else(|| format!("#{}", row.number), |b| label(lang, b)),
        title: b.map(|b| b.title).unwrap_or_default(),
        period: period_text(&row.since, &row.until),
        issued_by: row.issued_by.clone().unwrap_or_else(|| "cli".into()),
        issued_at: view::local_time(tz, &row.issued_at),
        corrects: row.corrects,
    }
}

#[derive(Debug, Serialize)]
struct DraftListView {
    id: i64,
    period: String,
    entries: usize,
    revision: i64,
    updated_by: String,
    updated_at: String,
    corrects: Option<i64>,
}

async fn list_page(ui: Ui, State(state): State<AppState>) -> Result<Response, PageError> {
    render_list(&ui, &state, None, None).await
}

async fn render_list(
    ui: &Ui,
    state: &AppState,
    problem: Option<Problem>,
    typed: Option<(&str, &str)>,
) -> Result<Response, PageError> {
    let tz = state.config.org.timezone;
    let offset = view::query_param(&ui.uri, "offset").and_then(|o| o.parse::<usize>().ok()).unwrap_or(0);
    let (rows, total) = state.store.issued_bulletins(PAGE_SIZE, offset).await?;
    let issued: Vec<IssuedView> = rows.iter().map(|r| issued_view(ui.lang, tz, r)).collect();
    let editor = may_edit(ui.user.role);
    let mut drafts = Vec::new();
    let mut default = None;
    if editor {
        for d in state.store.open_drafts(MAX_OPEN_DRAFTS).await? {
            let entries = DraftDoc::from_json(&d.content).map(|doc| doc.bulletin.entries.len()).unwrap_or(0);
            drafts.push(DraftListView {
                id: d.id,
                period: period_text(&d.since, &d.until),
                entries,
                revision: d.revision,
                updated_by: d.updated_by.clone(),
                updated_at: view::local_time(tz, &d.updated_at),
                corrects: d.corrects,
            });
        }
        let p = compile::default_period(&state.store, &state.config, Utc::now()).await.map_err(compile_error)?;
        default = Some((p.since.to_string(), p.until.to_string()));
    }
    let (since, until) = match (typed, &default) {
        (Some((s, u)), _) => (s.to_string(), u.to_string()),
        (None, Some((s, u))) => (s.clone(), u.clone()),
        (None, None) => (String::new(), String::new()),
    };
    let offset_i = offset as i64;
    let status = if problem.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let html = view::render(
        "bulletins.html",
        &ui.base(state, "bulletins"),
        serde_json::json!({
            "issued": issued,
            "total": total,
            "prev": (offset > 0).then(|| offset.saturating_sub(PAGE_SIZE)),
            "next": (offset_i + (PAGE_SIZE as i64) < total).then_some(offset + PAGE_SIZE),
            "editor": editor,
            "drafts": drafts,
            "since": since,
            "until": until,
            "problem": problem,
        }),
    )?;
    Ok((status, html).into_response())
}

#[derive(Debug, Deserialize)]
struct CompileForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
}

/// Compiles a draft of the chosen period and opens it in the editor.
async fn compile_form(
    ui: Ui,
    State(state): State<AppState>,
    form: Result<Form<CompileForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Ok(Form(form)) = form else {
        return Err(csrf_refused());
    };
    if !csrf_ok(&ui.csrf, &form.csrf) {
        return Err(csrf_refused());
    }
    if !may_edit(ui.user.role) {
        return Err(PageError(forbidden()));
    }
    let period = match period_from(&state, Some(&form.since), Some(&form.until)).await {
        Ok(p) => p,
        Err(WebError::BadRequest(m)) => {
            let problem = Problem { zh: format!("时段有误，未汇编：{m}"), en: m };
            return render_list(&ui, &state, Some(problem), Some((&form.since, &form.until))).await;
        }
        Err(e) => return Err(PageError(e)),
    };
    let now = Utc::now();
    let doc = compile::compile_bulletin(&state.store, &state.config, period, now).await.map_err(compile_error)?;
    let json = doc.to_json().map_err(|e| WebError::Internal(format!("encoding a draft: {e}")))?;
    let row = state
        .store
        .create_draft(&period.since.to_string(), &period.until.to_string(), &json, &ui.user.name, None)
        .await
        .map_err(draft_error)?;
    tracing::info!(user = %ui.user.name, draft = row.id, since = %period.since, until = %period.until, entries = doc.bulletin.entries.len(), "a bulletin draft was compiled");
    Ok(Redirect::to(&format!("/bulletins/drafts/{}", row.id)).into_response())
}

// ---- the editor ---------------------------------------------------------------------------

#[derive(Debug, Serialize)]
struct EntryView {
    index: usize,
    seq: usize,
    first: bool,
    last: bool,
    headline: String,
    url: String,
    url_is_link: bool,
    item_href: Option<String>,
    source: String,
    tier: &'static str,
    published: Option<String>,
    tone: &'static str,
    tone_label: &'static str,
    level: &'static str,
    level_label: &'static str,
    categories: Vec<&'static str>,
    spread: Option<String>,
    case: Option<String>,
    summary: String,
}

fn spread_text(lang: Lang, s: &yuqing_report::Spread) -> String {
    if lang == Lang::Zh {
        format!("{}条信息，{}个来源", s.items, s.sources)
    } else {
        format!("{} items, {} sources", s.items, s.sources)
    }
}

fn case_text(lang: Lang, c: &yuqing_report::CaseInfo) -> String {
    let state = if lang == Lang::Zh { c.state.zh() } else { c.state.id() };
    let overdue = match (c.overdue, lang) {
        (false, _) => "",
        (true, Lang::Zh) => "（已超时）",
        (true, Lang::En) => " (overdue)",
    };
    format!("{state}{overdue}")
}

fn entry_views(lang: Lang, tz: chrono_tz::Tz, doc: &DraftDoc) -> Vec<EntryView> {
    let n = doc.bulletin.entries.len();
    doc.bulletin
        .entries
        .iter()
        .zip(&doc.items)
        .enumerate()
        .map(|(i, (e, item))| EntryView {
            index: i,
            seq: i + 1,
            first: i == 0,
            last: i + 1 == n,
            headline: e.headline.clone(),
            url: e.url.clone(),
            url_is_link: view::is_web_link(&e.url),
            item_href: item.map(|id| format!("/items/{id}")),
            source: e.source.clone(),
            tier: tier_label(lang, e.tier),
            published: e.published.map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()),
            tone: e.tone.id(),
            tone_label: tone_label(lang, e.tone),
            level: e.level.id(),
            level_label: level_label(lang, e.level),
            categories: e.categories.iter().map(|c| category_label(lang, *c)).collect(),
            spread: e.spread.as_ref().map(|s| spread_text(lang, s)),
            case: e.case.as_ref().map(|c| case_text(lang, c)),
            summary: e.summary.clone(),
        })
        .collect()
}

#[derive(Debug, Serialize)]
struct CandidateView {
    id: i64,
    title: String,
    source: String,
    published: String,
    tone: &'static str,
    tone_label: &'static str,
    level: &'static str,
    level_label: &'static str,
}

fn load_doc(row: &DraftRow) -> Result<DraftDoc, WebError> {
    DraftDoc::from_json(&row.content)
        .map_err(|e| WebError::Internal(format!("bulletin draft {} cannot be read: {e}", row.id)))
}

async fn load_draft(state: &AppState, id: &str) -> Result<DraftRow, WebError> {
    let n = parse_id("draft", id)?;
    state.store.draft(n).await?.ok_or_else(|| WebError::NotFound(format!("There is no bulletin draft {n}.")))
}

async fn draft_page(
    ui: Ui,
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, PageError> {
    if !may_edit(ui.user.role) {
        return Err(PageError(forbidden()));
    }
    let row = load_draft(&state, &id).await?;
    render_draft(&ui, &state, &row, None, StatusCode::OK).await
}

async fn render_draft(
    ui: &Ui,
    state: &AppState,
    row: &DraftRow,
    problem: Option<Problem>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let tz = state.config.org.timezone;
    let doc = load_doc(row)?;
    let frozen = row.issued_number;
    let candidates = if frozen.is_none() {
        compile::candidates(&state.store, &state.config, &doc, MAX_CANDIDATES)
            .await
            .map_err(compile_error)?
            .into_iter()
            .map(|p| CandidateView {
                id: p.item.id,
                title: p.item.title,
                source: p.item.source,
                published: p.sort_at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
                tone: p.item.tone.id(),
                tone_label: tone_label(ui.lang, p.item.tone),
                level: p.item.level.id(),
                level_label: level_label(ui.lang, p.item.level),
            })
            .collect()
    } else {
        Vec::new()
    };
    let html = view::render(
        "bulletin_draft.html",
        &ui.base(state, "bulletins"),
        serde_json::json!({
            "id": row.id,
            "revision": row.revision,
            "period": period_text(&row.since, &row.until),
            "title": doc.bulletin.title,
            "updated_by": row.updated_by,
            "updated_at": view::local_time(tz, &row.updated_at),
            "corrects": row.corrects,
            "frozen": frozen,
            "entries": entry_views(ui.lang, tz, &doc),
            "comment": doc.bulletin.comment.clone().unwrap_or_default(),
            "candidates": candidates,
            "can_add": doc.bulletin.entries.len() < MAX_DRAFT_ENTRIES,
            "max": { "summary": MAX_SUMMARY_CHARS, "comment": MAX_COMMENT_CHARS, "entries": MAX_DRAFT_ENTRIES },
            "problem": problem,
        }),
    )?;
    Ok((status, html).into_response())
}

/// What an editor button asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Save,
    Up(usize),
    Down(usize),
    Remove(usize),
    Add,
    Issue,
    Delete,
}

impl Op {
    fn parse(s: &str) -> Option<Op> {
        let at = |rest: &str| rest.parse::<usize>().ok();
        Some(match s {
            "save" | "" => Op::Save,
            "add" => Op::Add,
            "issue" => Op::Issue,
            "delete" => Op::Delete,
            _ => match s.split_once(':') {
                Some(("up", i)) => Op::Up(at(i)?),
                Some(("down", i)) => Op::Down(at(i)?),
                Some(("remove", i)) => Op::Remove(at(i)?),
                _ => return None,
            },
        })
    }
}

/// Typed text as stored: line ends made `\n`, outer blank space trimmed.
fn clean_text(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n").trim().to_string()
}

/// The summaries (`summary_{i}`) and the comment of the form, applied to the draft.
/// A field that is not in the form leaves its text as it is.
fn apply_texts(doc: &mut DraftDoc, fields: &[(String, String)]) -> Result<(), (String, String)> {
    for (k, v) in fields {
        if let Some(i) = k.strip_prefix("summary_").and_then(|i| i.parse::<usize>().ok()) {
            let Some(entry) = doc.bulletin.entries.get_mut(i) else { continue };
            let text = clean_text(v);
            if text.chars().count() > MAX_SUMMARY_CHARS {
                return Err((
                    format!("第{}条的摘要超过 {MAX_SUMMARY_CHARS} 字，未保存。", i + 1),
                    format!("The summary of entry {} is longer than {MAX_SUMMARY_CHARS} characters; not saved.", i + 1),
                ));
            }
            entry.summary = text;
        } else if k == "comment" {
            let text = clean_text(v);
            if text.chars().count() > MAX_COMMENT_CHARS {
                return Err((
                    format!("编者按超过 {MAX_COMMENT_CHARS} 字，未保存。"),
                    format!("The comment is longer than {MAX_COMMENT_CHARS} characters; not saved."),
                ));
            }
            doc.bulletin.comment = (!text.is_empty()).then_some(text);
        }
    }
    Ok(())
}

fn stale_problem(lang_tz: chrono_tz::Tz, row: &DraftRow, expected: i64) -> Problem {
    let at = view::local_time(lang_tz, &row.updated_at);
    Problem {
        zh: format!(
            "未保存：此草稿已由 {} 于 {} 修改（现为第 {} 版，您的修改基于第 {} 版）。下面是最新版本，请在此基础上重新修改。",
            row.updated_by, at, row.revision, expected
        ),
        en: format!(
            "Not saved: {} changed this draft at {} (now revision {}; your change was made on revision {}). The latest version is shown below; make your change again on it.",
            row.updated_by, at, row.revision, expected
        ),
    }
}

fn issued_problem(number: i64) -> Problem {
    Problem {
        zh: format!("此草稿已签发为第 {number} 号，内容已冻结，不能再修改；如需更正，请在该期页面“出更正”。"),
        en: format!("This draft was issued as number {number} and is frozen; to correct it, start a correction from that issue's page."),
    }
}

/// The editor's one form: the texts are saved with whatever the button asks for.
async fn draft_form(
    ui: Ui,
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, PageError> {
    let Ok(Form(fields)) = form else {
        return Err(csrf_refused());
    };
    let field = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if !csrf_ok(&ui.csrf, field("csrf").unwrap_or("")) {
        return Err(csrf_refused());
    }
    if !may_edit(ui.user.role) {
        return Err(PageError(forbidden()));
    }
    let tz = state.config.org.timezone;
    let row = load_draft(&state, &id).await?;
    let draft_id = row.id;
    let op = Op::parse(field("op").unwrap_or("save"))
        .ok_or_else(|| WebError::BadRequest("The editor button is not one this page knows.".into()))?;
    let expected = field("revision")
        .and_then(|r| r.trim().parse::<i64>().ok())
        .ok_or_else(|| WebError::BadRequest("The form has no draft revision; reload the page.".into()))?;
    if let Some(number) = row.issued_number {
        return render_draft(&ui, &state, &row, Some(issued_problem(number)), StatusCode::CONFLICT).await;
    }
    if row.revision != expected {
        return render_draft(&ui, &state, &row, Some(stale_problem(tz, &row, expected)), StatusCode::CONFLICT).await;
    }
    if op == Op::Delete {
        return match state.store.delete_draft(draft_id, expected).await {
            Ok(()) => {
                tracing::info!(user = %ui.user.name, draft = draft_id, "a bulletin draft was deleted");
                Ok(Redirect::to("/bulletins").into_response())
            }
            Err(e) => refused(&ui, &state, draft_id, expected, e).await,
        };
    }
    let mut doc = load_doc(&row)?;
    if let Err((zh, en)) = apply_texts(&mut doc, &fields) {
        return render_draft(&ui, &state, &row, Some(Problem { zh, en }), StatusCode::BAD_REQUEST).await;
    }
    let now = Utc::now();
    let mut anchor = String::new();
    match op {
        Op::Up(i) => {
            doc.move_entry(i, true);
            anchor = format!("#entry-{}", i.saturating_sub(1));
        }
        Op::Down(i) => {
            doc.move_entry(i, false);
            anchor = format!("#entry-{}", (i + 1).min(doc.bulletin.entries.len().saturating_sub(1)));
        }
        Op::Remove(i) => doc.remove_entry(i),
        Op::Add => {
            let mut taken = doc.item_set();
            for (k, v) in &fields {
                if k != "add" {
                    continue;
                }
                let Some(item) = v.trim().parse::<i64>().ok() else { continue };
                if taken.contains(&item) {
                    continue;
                }
                if doc.bulletin.entries.len() >= MAX_DRAFT_ENTRIES {
                    let problem = Problem {
                        zh: format!("一期最多 {MAX_DRAFT_ENTRIES} 条，未添加。"),
                        en: format!("An issue holds at most {MAX_DRAFT_ENTRIES} entries; nothing was added."),
                    };
                    return render_draft(&ui, &state, &row, Some(problem), StatusCode::BAD_REQUEST).await;
                }
                let entry: Option<Entry> = compile::entry_for_id(&state.store, &state.config, item, now).await?;
                if let Some(entry) = entry {
                    doc.push_entry(Some(item), entry);
                    taken.insert(item);
                }
            }
            anchor = "#entries".into();
        }
        Op::Save | Op::Issue | Op::Delete => {}
    }
    let json = doc.to_json().map_err(|e| WebError::Internal(format!("encoding a draft: {e}")))?;
    let saved = if json == row.content {
        row.clone()
    } else {
        match state.store.update_draft(draft_id, expected, &json, &ui.user.name).await {
            Ok(r) => r,
            Err(e) => return refused(&ui, &state, draft_id, expected, e).await,
        }
    };
    if op != Op::Issue {
        return Ok(Redirect::to(&format!("/bulletins/drafts/{draft_id}{anchor}")).into_response());
    }
    // Issue: the counts, spreads and cases as they are now, frozen under the next number.
    compile::refresh(&state.store, &state.config, &mut doc, now).await.map_err(compile_error)?;
    let year = compile::today(&state.config, now).year();
    let reset = state.config.bulletin.number_reset;
    let bulletin = doc.bulletin;
    let issued = state
        .store
        .issue_draft(draft_id, saved.revision, year, &ui.user.name, |n| {
            serde_json::to_string(&compile::freeze(bulletin, n, reset)).map_err(|e| e.to_string())
        })
        .await;
    match issued {
        Ok(b) => {
            tracing::info!(user = %ui.user.name, draft = draft_id, number = b.number, "a bulletin was issued");
            Ok(Redirect::to(&format!("/bulletins/{}", b.number)).into_response())
        }
        Err(e) => refused(&ui, &state, draft_id, saved.revision, e).await,
    }
}

/// A draft change the store refused: a stale revision or an issued draft is shown on
/// the editor (as it is now) with the reason; anything else is an error page.
async fn refused(
    ui: &Ui,
    state: &AppState,
    draft_id: i64,
    expected: i64,
    e: DraftError,
) -> Result<Response, PageError> {
    match e {
        DraftError::Stale { .. } | DraftError::Issued { .. } => {
            let Some(row) = state.store.draft(draft_id).await? else {
                return Err(PageError(WebError::NotFound(format!("There is no bulletin draft {draft_id}."))));
            };
            let problem = match row.issued_number {
                Some(n) => issued_problem(n),
                None => stale_problem(state.config.org.timezone, &row, expected),
            };
            render_draft(ui, state, &row, Some(problem), StatusCode::CONFLICT).await
        }
        other => Err(PageError(draft_error(other))),
    }
}

/// The draft as it would be issued now, rendered by the report crate.
async fn preview_page(
    ui: Ui,
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, PageError> {
    if !may_edit(ui.user.role) {
        return Err(PageError(forbidden()));
    }
    let row = load_draft(&state, &id).await?;
    let mut doc = load_doc(&row)?;
    let now = Utc::now();
    compile::refresh(&state.store, &state.config, &mut doc, now).await.map_err(compile_error)?;
    let year = compile::today(&state.config, now).year();
    let numbers = state.store.next_bulletin_numbers(year).await?;
    let b = compile::freeze(doc.bulletin, numbers, state.config.bulletin.number_reset);
    let markup = documents::bulletin_markup(&b);
    let html = view::render(
        "bulletin_view.html",
        &ui.base(&state, "bulletins"),
        minijinja::context! {
            preview => true,
            draft => row.id,
            label => label(ui.lang, &b),
            title => b.title,
            markup => markup,
            frozen => row.issued_number,
        },
    )?;
    Ok(html.into_response())
}

// ---- issued bulletins ---------------------------------------------------------------------

async fn load_issue(state: &AppState, number: &str) -> Result<(IssuedBulletin, Bulletin), WebError> {
    let n = parse_id("bulletin", number)?;
    let row = state
        .store
        .issued_bulletin(n)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("There is no bulletin number {n}.")))?;
    let b = compile::stored_issue(&row.content, row.number, row.year)
        .map_err(|e| WebError::Internal(format!("bulletin {n} cannot be read: {e}")))?;
    Ok((row, b))
}

async fn issue_page(
    ui: Ui,
    State(state): State<AppState>,
    UrlPath(number): UrlPath<String>,
) -> Result<Response, PageError> {
    let (row, b) = load_issue(&state, &number).await?;
    let tz = state.config.org.timezone;
    let corrected_by = state.store.corrections_of(row.number).await?;
    let html = view::render(
        "bulletin_view.html",
        &ui.base(&state, "bulletins"),
        minijinja::context! {
            preview => false,
            number => row.number,
            label => label(ui.lang, &b),
            title => b.title,
            period => period_text(&row.since, &row.until),
            issued_by => row.issued_by.clone().unwrap_or_else(|| "cli".into()),
            issued_at => view::local_time(tz, &row.issued_at),
            corrects => row.corrects,
            corrected_by => corrected_by,
            markup => documents::bulletin_markup(&b),
            editor => may_edit(ui.user.role),
        },
    )?;
    Ok(html.into_response())
}

/// The file names of an issue: `bulletin-N` and "{title}{number line}".
fn file_names(b: &Bulletin) -> (String, String) {
    (format!("bulletin-{}", b.number), format!("{}{}", b.title, compile::number_label_zh(b)))
}

async fn issue_download(
    _ui: Ui,
    State(state): State<AppState>,
    UrlPath((number, format)): UrlPath<(String, String)>,
) -> Result<Response, PageError> {
    let format = Format::parse(&format)
        .filter(|f| matches!(f, Format::Pdf | Format::Docx | Format::Html))
        .ok_or_else(|| WebError::NotFound("A bulletin downloads as pdf, docx or html.".into()))?;
    let (_, b) = load_issue(&state, &number).await?;
    let (ascii, name) = file_names(&b);
    let bytes = documents::bulletin_bytes(b, format).await?;
    Ok(documents::download(bytes, format, &ascii, &name))
}

/// The draft a correction starts from: the issue as it was frozen (its entries' items
/// taken from the draft it was issued from, when there was one), without its number,
/// and a line at the head of the comment naming the issue it corrects.
fn correction_doc(issued: &IssuedBulletin, b: Bulletin, source: Option<DraftDoc>) -> DraftDoc {
    let mut b = b;
    let corrected = compile::number_label_zh(&b);
    let items = match source {
        Some(d) if d.bulletin.entries.len() == b.entries.len() => d.items,
        _ => vec![None; b.entries.len()],
    };
    let note = format!("本期为对{}（{}签发）的更正。", corrected, issued.issued_at.get(..10).unwrap_or(""));
    b.comment = Some(match b.comment.take() {
        Some(c) if !c.trim().is_empty() => format!("{note}\n{c}"),
        _ => note,
    });
    b.number = 0;
    b.series_number_in_year = None;
    DraftDoc { bulletin: b, items }
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn correct_form(
    ui: Ui,
    State(state): State<AppState>,
    UrlPath(number): UrlPath<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Ok(Form(form)) = form else {
        return Err(csrf_refused());
    };
    if !csrf_ok(&ui.csrf, &form.csrf) {
        return Err(csrf_refused());
    }
    if !may_edit(ui.user.role) {
        return Err(PageError(forbidden()));
    }
    let (row, b) = load_issue(&state, &number).await?;
    let source = match row.draft_id {
        Some(d) => state.store.draft(d).await?.and_then(|r| DraftDoc::from_json(&r.content).ok()),
        None => None,
    };
    let doc = correction_doc(&row, b, source);
    let json = doc.to_json().map_err(|e| WebError::Internal(format!("encoding a draft: {e}")))?;
    let draft = state
        .store
        .create_draft(&row.since, &row.until, &json, &ui.user.name, Some(row.number))
        .await
        .map_err(draft_error)?;
    tracing::info!(user = %ui.user.name, draft = draft.id, corrects = row.number, "a correction draft was started");
    Ok(Redirect::to(&format!("/bulletins/drafts/{}", draft.id)).into_response())
}

// ---- API ----------------------------------------------------------------------------------

/// An issued bulletin as the API lists it.
#[derive(Debug, Serialize)]
pub(crate) struct IssuedOut {
    number: i64,
    year: i64,
    number_in_year: i64,
    /// The number line as printed: "第N期" or "2026年第3期".
    label: String,
    title: String,
    since: String,
    until: String,
    issued_at: String,
    issued_by: Option<String>,
    corrects: Option<i64>,
}

fn issued_out(row: &IssuedBulletin) -> IssuedOut {
    let b = compile::stored_issue(&row.content, row.number, row.year).ok();
    IssuedOut {
        number: row.number,
        year: row.year,
        number_in_year: row.number_in_year,
        label: b.as_ref().map(compile::number_label_zh).unwrap_or_default(),
        title: b.map(|b| b.title).unwrap_or_default(),
        since: row.since.clone(),
        until: row.until.clone(),
        issued_at: row.issued_at.clone(),
        issued_by: row.issued_by.clone(),
        corrects: row.corrects,
    }
}

fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

pub(crate) async fn api_list(
    _user: ApiUser,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<serde_json::Value>, ApiError> {
    let q = query_pairs(raw.as_deref());
    let num = |k: &str, default: usize| -> Result<usize, WebError> {
        match q.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim()).filter(|v| !v.is_empty()) {
            None => Ok(default),
            Some(v) => v
                .parse::<usize>()
                .map_err(|_| WebError::BadRequest(format!("The parameter `{k}` must be a whole number."))),
        }
    };
    let limit = num("limit", PAGE_SIZE)?.clamp(1, 500);
    let offset = num("offset", 0)?;
    let (rows, total) = state.store.issued_bulletins(limit, offset).await?;
    let list: Vec<IssuedOut> = rows.iter().map(issued_out).collect();
    Ok(Json(serde_json::json!({ "bulletins": list, "total": total })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    #[serde(default)]
    since: Option<String>,
    #[serde(default)]
    until: Option<String>,
}

/// Compiles the period's default issue and issues it at once, as `yuqing bulletin create`.
pub(crate) async fn api_create(
    ApiUser(user): ApiUser,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    if !may_edit(user.role) {
        return Err(ApiError(forbidden()));
    }
    let body: CreateBody = if body.iter().all(u8::is_ascii_whitespace) {
        CreateBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            WebError::BadRequest(format!("The body is not a JSON object like {{\"since\": \"2026-11-01\"}}: {e}."))
        })?
    };
    let period = period_from(&state, body.since.as_deref(), body.until.as_deref()).await?;
    let issued =
        compile::create_and_issue(&state.store, &state.config, period, &user.name, Utc::now()).await.map_err(|e| {
            match e {
                compile::CreateError::Compile(c) => compile_error(c),
                compile::CreateError::Issue(d) => draft_error(d),
            }
        })?;
    tracing::info!(user = %user.name, number = issued.number, "a bulletin was compiled and issued through the API");
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "bulletin": issued_out(&issued) }))).into_response())
}

pub(crate) async fn api_get(
    _user: ApiUser,
    State(state): State<AppState>,
    UrlPath(number): UrlPath<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (row, b) = load_issue(&state, &number).await?;
    let mut out = serde_json::to_value(issued_out(&row)).map_err(|e| WebError::Internal(e.to_string()))?;
    out["content"] = serde_json::to_value(&b).map_err(|e| WebError::Internal(e.to_string()))?;
    out["corrected_by"] = serde_json::json!(state.store.corrections_of(row.number).await?);
    Ok(Json(out))
}

pub(crate) async fn api_document(
    _user: ApiUser,
    State(state): State<AppState>,
    UrlPath(number): UrlPath<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q = query_pairs(raw.as_deref());
    let f = q.iter().find(|(k, _)| k == "format").map_or("pdf", |(_, v)| v.as_str());
    let format = Format::parse(f)
        .filter(|f| matches!(f, Format::Pdf | Format::Docx | Format::Html))
        .ok_or_else(|| WebError::BadRequest(format!("The parameter `format` must be pdf, docx or html, not `{f}`.")))?;
    let (_, b) = load_issue(&state, &number).await?;
    let (ascii, name) = file_names(&b);
    let bytes = documents::bulletin_bytes(b, format).await?;
    Ok(documents::download(bytes, format, &ascii, &name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editor_buttons_parse() {
        assert_eq!(Op::parse("save"), Some(Op::Save));
        assert_eq!(Op::parse("up:3"), Some(Op::Up(3)));
        assert_eq!(Op::parse("down:0"), Some(Op::Down(0)));
        assert_eq!(Op::parse("remove:12"), Some(Op::Remove(12)));
        assert_eq!(Op::parse("issue"), Some(Op::Issue));
        assert_eq!(Op::parse("up:-1"), None);
        assert_eq!(Op::parse("sideways:1"), None);
    }

    #[test]
    fn texts_are_applied_and_bounded() {
        let mut b = Bulletin::sample();
        b.entries.truncate(2);
        let mut doc = DraftDoc { items: vec![Some(1), Some(2)], bulletin: b };
        let f = |k: &str, v: &str| (k.to_string(), v.to_string());
        apply_texts(&mut doc, &[f("summary_1", "  新摘要\r\n第二段 "), f("comment", " "), f("summary_9", "x")])
            .unwrap();
        assert_eq!(doc.bulletin.entries[1].summary, "新摘要\n第二段");
        assert_eq!(doc.bulletin.comment, None);
        let long = "长".repeat(MAX_SUMMARY_CHARS + 1);
        assert!(apply_texts(&mut doc, &[f("summary_0", &long)]).is_err());
    }
}
