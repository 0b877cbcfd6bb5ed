//! Tone corrections (倾向更正): the office sets an item's tone by hand when the model got
//! it wrong, and the corrections become training data for the office's own tone model.
//!
//! - UI: the item page shows the current tone, "已更正" when it was set by hand, and the
//!   history of changes (who, when, from → to, note), for every role; office and admin
//!   also get a small form (`POST /items/{id}/tone`, with the session's CSRF token).
//!   `/corrections` lists recent corrections with the download of the training export
//!   (`/corrections/export.tsv`).
//! - API: `POST /api/v1/items/{id}/tone` `{"tone": "negative", "note": "…"}`,
//!   `GET /api/v1/tone-corrections?since=&limit=`, `GET /api/v1/tone-corrections/export?since=`.
//!
//! Correcting, listing and exporting are the office's (admins have the office's rights):
//! leaders decide on cases and members report items, and neither judges tones. The
//! export is exactly what `yuqing train tone --data FILE.tsv` reads (the news layout,
//! `id⇥tone⇥title⇥content`; see `yuqing_store::training_tsv`). The store decides the
//! rest: a correction to the tone the item has is a no-op, so a form sent twice records
//! one change.

use crate::auth::{csrf_ok, csrf_refused, ApiUser, Ui};
use crate::error::{ApiError, PageError};
use crate::items::{parse_id, time_param};
use crate::view::{self, tone_label, Lang};
use crate::{AppState, WebError};
use axum::body::Bytes;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use yuqing_core::Tone;
use yuqing_store::{training_tsv, ItemSummary, ToneCorrection, ToneOutcome, User, MAX_CORRECTION_NOTE_CHARS};

/// Corrections the list page and the API show unless `limit` says otherwise, and the most.
const DEFAULT_LIMIT: usize = 200;
const MAX_LIMIT: usize = 1000;
/// Most items in one export download (an office corrects a few a day; this bounds the
/// memory one request may take). The command line has no such bound.
pub(crate) const MAX_EXPORT_ROWS: usize = 100_000;

pub(crate) const DICTIONARY: &[(&str, &str, &str)] = &[
    ("tc_heading", "倾向更正", "Tone corrections"),
    ("tc_corrected", "已更正", "corrected"),
    ("tc_corrected_hint", "倾向由人工更正，不是模型判断", "Set by hand, not by the model"),
    ("tc_history", "更正记录", "Corrections"),
    ("tc_none", "暂无更正记录", "No corrections yet"),
    ("tc_by", "更正人", "By"),
    ("tc_at", "更正时间", "When"),
    ("tc_from_to", "原倾向 → 新倾向", "From → to"),
    ("tc_model_score", "更正前倾向值", "score before"),
    ("tc_note", "说明", "Note"),
    ("tc_form", "更正倾向", "Correct the tone"),
    ("tc_new_tone", "正确的倾向", "The right tone"),
    ("tc_note_hint", "可选：为什么更正，如“核实为谣言，实为辟谣稿”", "Optional: why, e.g. \"it is a rebuttal of the rumour\""),
    ("tc_button", "保存更正", "Save the correction"),
    ("tc_done", "倾向已更正，并记入训练数据。", "The tone was corrected and added to the training data."),
    ("tc_unchanged", "该信息已是此倾向，未作更改。", "The item has this tone already; nothing changed."),
    ("tc_all", "全部更正记录与导出", "All corrections and the export"),
    (
        "tc_intro",
        "网宣办人工更正的信息倾向。导出文件即训练数据（每条信息取最近一次更正），可用于训练本单位的倾向模型：",
        "Tones the office set by hand. The export is training data (each item with its latest correction) for training the office's own tone model:",
    ),
    ("tc_export", "导出训练数据（TSV）", "Download the training data (TSV)"),
    ("tc_export_since", "只导出此日期以来的更正", "Only corrections since"),
    ("tc_item", "信息", "Item"),
    ("tc_recent", "最近的更正", "Recent corrections"),
];

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/items/{id}/tone", post(correct_form))
        .route("/corrections", get(list_page))
        .route("/corrections/export.tsv", get(export_download))
}

/// Whether the user may correct tones, list corrections and export them.
fn may_correct(user: &User) -> bool {
    user.role.is_office()
}

const MAY_NOT: &str = "Correcting tones and exporting the corrections is for the office and admins.";

fn time(tz: Tz, t: DateTime<Utc>) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

/// A tone as the form and the API give it: its id (`negative`), nothing else.
fn parse_tone(v: &str) -> Result<Tone, WebError> {
    Tone::from_id(v.trim()).ok_or_else(|| {
        WebError::BadRequest(format!("The field `tone` must be one of: {}; `{}` is not.", Tone::ids(), v.trim()))
    })
}

/// The note's length as the store counts it (line ends as one character, trimmed), so a
/// textarea filled to its `maxlength` is never refused.
fn check_note(note: &str) -> Result<(), WebError> {
    if note.replace("\r\n", "\n").trim().chars().count() > MAX_CORRECTION_NOTE_CHARS {
        return Err(WebError::BadRequest(format!(
            "The field `note` may have at most {MAX_CORRECTION_NOTE_CHARS} characters."
        )));
    }
    Ok(())
}

/// One correction as the pages show it.
#[derive(Debug, Serialize)]
struct CorrectionView {
    item_id: i64,
    href: String,
    title: String,
    user: String,
    at: String,
    from: &'static str,
    from_label: &'static str,
    to: &'static str,
    to_label: &'static str,
    score_before: String,
    note: Option<String>,
}

fn correction_view(lang: Lang, tz: Tz, c: &ToneCorrection) -> CorrectionView {
    CorrectionView {
        item_id: c.item_id,
        href: format!("/items/{}", c.item_id),
        title: c.title.clone(),
        user: c.user.clone(),
        at: time(tz, c.corrected_at),
        from: c.tone_before.id(),
        from_label: tone_label(lang, c.tone_before),
        to: c.tone_after.id(),
        to_label: tone_label(lang, c.tone_after),
        score_before: format!("{:+.2}", c.score_before),
        note: c.note.clone(),
    }
}

/// The tone part of the item page: the mark, the history, and (office, admin) the form.
/// Everything is plain strings for the template, which escapes them.
pub(crate) async fn item_panel(ui: &Ui, state: &AppState, item: &ItemSummary) -> Result<serde_json::Value, WebError> {
    let tz = state.config.org.timezone;
    let history = state.store.tone_corrections_of(item.id).await?;
    let choices: Vec<serde_json::Value> = Tone::ALL
        .iter()
        .map(|t| serde_json::json!({ "value": t.id(), "label": tone_label(ui.lang, *t), "selected": *t == item.tone }))
        .collect();
    let result = match view::query_param(&ui.uri, "tone_fix").as_deref() {
        Some("done") => Some("done"),
        Some("unchanged") => Some("unchanged"),
        _ => None,
    };
    Ok(serde_json::json!({
        "corrected": item.tone_corrected,
        "history": history.iter().map(|c| correction_view(ui.lang, tz, c)).collect::<Vec<_>>(),
        "may_correct": may_correct(&ui.user),
        "choices": choices,
        "max_note": MAX_CORRECTION_NOTE_CHARS,
        "result": result,
    }))
}

#[derive(Debug, Deserialize)]
struct CorrectForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    tone: String,
    #[serde(default)]
    note: String,
}

/// The item page's form: corrects and goes back to the item, saying what happened.
async fn correct_form(
    ui: Ui,
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Result<Form<CorrectForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Ok(Form(form)) = form else {
        return Err(csrf_refused());
    };
    if !csrf_ok(&ui.csrf, &form.csrf) {
        return Err(csrf_refused());
    }
    if !may_correct(&ui.user) {
        return Err(PageError(WebError::Forbidden(MAY_NOT.into())));
    }
    let item_id = parse_id(&id)?;
    let tone = parse_tone(&form.tone)?;
    check_note(&form.note)?;
    let outcome = match state.store.correct_tone(item_id, tone, &ui.user, &form.note, Utc::now()).await? {
        ToneOutcome::NoItem => return Err(PageError(WebError::NotFound(format!("There is no item {item_id}.")))),
        ToneOutcome::Unchanged => "unchanged",
        ToneOutcome::Corrected(c) => {
            tracing::info!(user = %ui.user.name, item = item_id, from = %c.tone_before, to = %c.tone_after, "an item's tone was corrected");
            "done"
        }
    };
    Ok(Redirect::to(&format!("/items/{item_id}?tone_fix={outcome}#tone")).into_response())
}

/// `since` (RFC 3339, or a date in the organisation's zone) and `limit`; an empty value
/// is "not set", unknown parameters are ignored.
fn parse_list_query(raw: Option<&str>, tz: Tz) -> Result<(Option<DateTime<Utc>>, usize, String), WebError> {
    let (mut since, mut limit, mut since_text) = (None, DEFAULT_LIMIT, String::new());
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let v = v.trim();
        match k.as_ref() {
            "since" => {
                since = time_param("since", v, tz, false)?;
                since_text = v.to_string();
            }
            "limit" if !v.is_empty() => {
                limit = match v.parse::<usize>() {
                    Ok(0) | Err(_) => {
                        return Err(WebError::BadRequest(
                            "The parameter `limit` must be a whole number, 1 or more.".into(),
                        ))
                    }
                    Ok(n) => n.min(MAX_LIMIT),
                }
            }
            _ => {}
        }
    }
    Ok((since, limit, since_text))
}

async fn list_page(ui: Ui, State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Response, PageError> {
    if !may_correct(&ui.user) {
        return Err(PageError(WebError::Forbidden(MAY_NOT.into())));
    }
    let tz = state.config.org.timezone;
    let (since, limit, since_text) = parse_list_query(raw.as_deref(), tz)?;
    let list = state.store.tone_corrections(since, limit).await?;
    let page = serde_json::json!({
        "corrections": list.iter().map(|c| correction_view(ui.lang, tz, c)).collect::<Vec<_>>(),
        "since": since_text,
    });
    let base = ui.base(&state, "corrections");
    Ok(view::render("corrections.html", &base, page)?.into_response())
}

/// The training export as a TSV download.
async fn export_response(state: &AppState, since: Option<DateTime<Utc>>) -> Result<Response, WebError> {
    let rows = state.store.tone_training_rows(since, MAX_EXPORT_ROWS).await?;
    let day = Utc::now().with_timezone(&state.config.org.timezone).format("%Y%m%d");
    let mut res = training_tsv(&rows).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/tab-separated-values; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"tone-corrections-{day}.tsv\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

async fn export_download(
    ui: Ui,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    if !may_correct(&ui.user) {
        return Err(PageError(WebError::Forbidden(MAY_NOT.into())));
    }
    let (since, _, _) = parse_list_query(raw.as_deref(), state.config.org.timezone)?;
    Ok(export_response(&state, since).await?)
}

// ---- API ----------------------------------------------------------------------------------

/// The body of `POST /api/v1/items/{id}/tone`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CorrectBody {
    tone: String,
    #[serde(default)]
    note: Option<String>,
}

/// The answer: the item's tone now, whether this call changed it, and the correction
/// (this call's, or the latest one when nothing changed; `null` when there is none).
#[derive(Debug, Serialize)]
pub(crate) struct Corrected {
    item_id: i64,
    tone: Tone,
    tone_score: f32,
    tone_corrected: bool,
    changed: bool,
    correction: Option<ToneCorrection>,
}

pub(crate) async fn api_correct(
    ApiUser(user): ApiUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Corrected>, ApiError> {
    if !may_correct(&user) {
        return Err(ApiError(WebError::Forbidden(MAY_NOT.into())));
    }
    let item_id = parse_id(&id)?;
    let body: CorrectBody = serde_json::from_slice(&body).map_err(|e| {
        WebError::BadRequest(format!(
            "The body is not a JSON object like {{\"tone\": \"negative\", \"note\": \"…\"}}: {e}."
        ))
    })?;
    let tone = parse_tone(&body.tone)?;
    let note = body.note.unwrap_or_default();
    check_note(&note)?;
    let no_item = || ApiError(WebError::NotFound(format!("There is no item {item_id}.")));
    let (changed, correction) = match state.store.correct_tone(item_id, tone, &user, &note, Utc::now()).await? {
        ToneOutcome::NoItem => return Err(no_item()),
        ToneOutcome::Corrected(c) => {
            tracing::info!(user = %user.name, item = item_id, from = %c.tone_before, to = %c.tone_after, "an item's tone was corrected");
            (true, Some(c))
        }
        ToneOutcome::Unchanged => (false, state.store.tone_corrections_of(item_id).await?.pop()),
    };
    let item = state.store.item(item_id).await?.ok_or_else(no_item)?.item;
    Ok(Json(Corrected {
        item_id,
        tone: item.tone,
        tone_score: item.tone_score,
        tone_corrected: item.tone_corrected,
        changed,
        correction,
    }))
}

#[derive(Debug, Serialize)]
pub(crate) struct CorrectionList {
    corrections: Vec<ToneCorrection>,
}

pub(crate) async fn api_list(
    ApiUser(user): ApiUser,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<CorrectionList>, ApiError> {
    if !may_correct(&user) {
        return Err(ApiError(WebError::Forbidden(MAY_NOT.into())));
    }
    let (since, limit, _) = parse_list_query(raw.as_deref(), state.config.org.timezone)?;
    Ok(Json(CorrectionList { corrections: state.store.tone_corrections(since, limit).await? }))
}

pub(crate) async fn api_export(
    ApiUser(user): ApiUser,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    if !may_correct(&user) {
        return Err(ApiError(WebError::Forbidden(MAY_NOT.into())));
    }
    let (since, _, _) = parse_list_query(raw.as_deref(), state.config.org.timezone)?;
    Ok(export_response(&state, since).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tone_ids_are_tones() {
        assert_eq!(parse_tone(" negative ").unwrap(), Tone::Negative);
        for bad in ["", "负面", "NEGATIVE", "angry"] {
            assert!(matches!(parse_tone(bad), Err(WebError::BadRequest(_))), "{bad}");
        }
    }

    #[test]
    fn list_parameters() {
        let tz = chrono_tz::Asia::Shanghai;
        let (since, limit, text) = parse_list_query(Some("since=2026-11-21&limit=5000"), tz).unwrap();
        assert_eq!(since.unwrap().to_rfc3339(), "2026-11-20T16:00:00+00:00");
        assert_eq!((limit, text.as_str()), (MAX_LIMIT, "2026-11-21"));
        assert_eq!(parse_list_query(Some("since=&limit="), tz).unwrap().1, DEFAULT_LIMIT);
        assert!(parse_list_query(Some("limit=0"), tz).is_err());
        assert!(parse_list_query(Some("since=yesterday"), tz).is_err());
    }
}
