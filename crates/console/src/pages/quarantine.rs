//! The quarantine: the searchable list, one message (envelope, report,
//! requests, what was delivered, headers, history), its source as text,
//! and the forms that release, request, approve, refuse and delete.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use mukaika_access::Role;
use mukaika_quarantine::{Filter, Record, Sort};
use mukaika_spool::QueueId;
use serde::Deserialize;

use super::{Chrome, Row, after_form, or_null, render, size};
use crate::actions::{self, Actor};
use crate::http::error::Failure;
use crate::http::session::User;
use crate::state::Shared;
use crate::text::Lang;
use mukaika_spool::time::{display_local, local_day_start};

/// Records on one page of the list.
pub const PAGE_SIZE: u64 = 50;

/// The longest header section shown, and the longest source.
const MAX_HEADERS: usize = 64 * 1024;
const MAX_SOURCE: usize = 1024 * 1024;

/// The verdicts a record can have, for the filter's choices.
const VERDICTS: [&str; 5] = ["sanitized", "held", "rejected", "infected", "deleted"];

/// The list's search form, as typed (also the API's query).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    pub verdict: String,
    pub subject: String,
    pub sender: String,
    pub recipient: String,
    pub reason: String,
    pub threat: String,
    /// `YYYY-MM-DD`, local time, inclusive.
    pub since: String,
    /// `YYYY-MM-DD`, local time, inclusive.
    pub until: String,
    /// `newest`, `oldest` or `largest`.
    pub sort: String,
    /// From 0.
    pub page: u64,
    /// Only records with requests waiting.
    pub open: bool,
}

impl ListQuery {
    /// The quarantine filter this form asks for, a page of `page_size`.
    pub fn filter(&self, page_size: u64) -> Result<Filter, Failure> {
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let day = |t: &str| match t.trim() {
            "" => Ok(None),
            t => local_day_start(t).map(Some).map_err(Failure::BadRequest),
        };
        let (since, until) = (day(&self.since)?, day(&self.until)?);
        Ok(Filter {
            verdict: text(&self.verdict),
            since,
            until: until.map(|u| u + 86_400),
            sender: text(&self.sender),
            recipient: text(&self.recipient),
            subject: text(&self.subject),
            reason: text(&self.reason),
            threat: text(&self.threat),
            open_requests: self.open,
            sort: match self.sort.as_str() {
                "" | "newest" => Sort::Newest,
                "oldest" => Sort::Oldest,
                "largest" => Sort::Largest,
                other => return Err(Failure::BadRequest(format!("no sort order {other:?}"))),
            },
            offset: self.page.saturating_mul(page_size),
            limit: Some(page_size),
        })
    }

    /// The list's URL for page `page` of the same search.
    fn href(&self, page: u64) -> String {
        let pairs = [
            ("subject", &self.subject),
            ("sender", &self.sender),
            ("recipient", &self.recipient),
            ("verdict", &self.verdict),
            ("reason", &self.reason),
            ("threat", &self.threat),
            ("since", &self.since),
            ("until", &self.until),
            ("sort", &self.sort),
        ];
        let mut query: Vec<String> = pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        query.push(format!("page={page}"));
        format!("/quarantine?{}", query.join("&"))
    }
}

/// Percent-encodes a query value (everything but unreserved characters).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Runs a quarantine query off the async threads.
pub async fn search(
    state: &Shared,
    filter: Filter,
) -> Result<(Vec<mukaika_quarantine::Summary>, u64), Failure> {
    let q = state.deps.quarantine.clone();
    let found = tokio::task::spawn_blocking(move || -> Result<_, mukaika_quarantine::Error> {
        Ok((q.list(&filter)?, q.count(&filter)?))
    })
    .await??;
    Ok(found)
}

#[derive(Template)]
#[template(path = "list.html")]
struct ListPage<'a> {
    chrome: Chrome,
    q: &'a ListQuery,
    verdicts: &'static [&'static str],
    rows: Vec<Row>,
    total: u64,
    prev: Option<String>,
    next: Option<String>,
}

/// `GET /quarantine`.
pub async fn list(State(state): State<Shared>, user: User, Query(q): Query<ListQuery>) -> Response {
    let page = async {
        let (summaries, total) = search(&state, q.filter(PAGE_SIZE)?).await?;
        let rows = summaries
            .into_iter()
            .map(|s| Row::new(s, user.lang))
            .collect();
        let shown = (q.page + 1).saturating_mul(PAGE_SIZE);
        render(&ListPage {
            chrome: Chrome::user(&user, "/quarantine", "quarantine"),
            q: &q,
            verdicts: &VERDICTS,
            rows,
            total,
            prev: (q.page > 0).then(|| q.href(q.page - 1)),
            next: (shown < total).then(|| q.href(q.page + 1)),
        })
    };
    page.await
        .map_or_else(|f| user.fail(f), IntoResponse::into_response)
}

/// Parses a queue ID from a path: anything else (`../`, junk) is not found.
pub fn parse_id(id: &str) -> Result<QueueId, Failure> {
    id.parse().map_err(|_| Failure::NotFound)
}

/// One row of the report table: a part, or an archive entry under it.
pub struct PartRow {
    pub path: String,
    pub name: String,
    pub declared: String,
    pub detected: String,
    pub action: String,
    pub reason: String,
    pub sha256: String,
    pub entry: bool,
}

/// The report's parts and entries as table rows.
pub fn part_rows(record: &Record, lang: Lang) -> Vec<PartRow> {
    let text = |v: &serde_json::Value, key: &str| {
        v.get(key).and_then(|s| s.as_str()).unwrap_or("").to_owned()
    };
    let mut rows = Vec::new();
    let parts = record.report.get("parts").and_then(|p| p.as_array());
    for part in parts.into_iter().flatten() {
        rows.push(PartRow {
            path: text(part, "path"),
            name: text(part, "filename"),
            declared: text(part, "declared_type"),
            detected: text(part, "detected_type"),
            action: text(part, "action"),
            reason: lang.reason(&text(part, "reason")),
            sha256: text(part, "sha256"),
            entry: false,
        });
        let entries = part.get("entries").and_then(|e| e.as_array());
        for entry in entries.into_iter().flatten() {
            rows.push(PartRow {
                path: String::new(),
                name: text(entry, "path"),
                declared: String::new(),
                detected: text(entry, "detected_type"),
                action: text(entry, "action"),
                reason: lang.reason(&text(entry, "reason")),
                sha256: text(entry, "sha256"),
                entry: true,
            });
        }
    }
    rows
}

pub struct RequestRow {
    pub number: u32,
    pub by: String,
    pub at: String,
    pub to: String,
    pub reason: String,
}

pub struct EventRow {
    pub at: String,
    pub kind: &'static str,
    pub by: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    chrome: Chrome,
    id: String,
    subject: String,
    verdict: String,
    status: &'static str,
    message: Option<&'static str>,
    stored: String,
    sender: String,
    from: String,
    recipients: String,
    client: String,
    helo: String,
    size: String,
    sha256: String,
    threats: String,
    reason: Option<String>,
    parts: Vec<PartRow>,
    open: Vec<RequestRow>,
    infected: bool,
    two_person: bool,
    delivered: Option<String>,
    headers: String,
    history: Vec<EventRow>,
}

/// The header section of a message as text, bounded.
fn header_text(message: &[u8]) -> String {
    let end = memchr_blank_line(message)
        .unwrap_or(message.len())
        .min(MAX_HEADERS);
    String::from_utf8_lossy(&message[..end]).into_owned()
}

fn memchr_blank_line(message: &[u8]) -> Option<usize> {
    let crlf = message.windows(4).position(|w| w == b"\r\n\r\n");
    let lf = message.windows(2).position(|w| w == b"\n\n");
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The text of what was delivered: our own, verified output, so reading
/// it here is reading what crossed, not untrusted mail.
fn delivered_text(message: &[u8]) -> Option<String> {
    let parsed = mail_parser::MessageParser::new().parse(message)?;
    Some(parsed.body_text(0)?.into_owned())
}

/// A flash message after a form: `?m=` names what was done.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Done {
    m: String,
}

fn done_text(lang: Lang, m: &str) -> Option<&'static str> {
    let ja = lang == Lang::Ja;
    Some(match m {
        "released" => {
            if ja {
                "原本を送付しました。"
            } else {
                "The original was released."
            }
        }
        "requested" => {
            if ja {
                "送付を依頼しました。承認者の承認を待っています。"
            } else {
                "Requested: waiting for an approver."
            }
        }
        "refused" => {
            if ja {
                "依頼を却下しました。"
            } else {
                "The request was refused."
            }
        }
        _ => return None,
    })
}

/// `GET /quarantine/{id}`.
pub async fn show(
    State(state): State<Shared>,
    user: User,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let page = async {
        let id = parse_id(&id)?;
        let record = actions::record(&state, &id).await?;
        let original = actions::original(&state, &id).await.unwrap_or_default();
        let delivered = {
            let (q, id) = (state.deps.quarantine.clone(), id.clone());
            tokio::task::spawn_blocking(move || q.delivered(&id)).await??
        };
        let lang = user.lang;
        let open = record
            .open_requests()
            .into_iter()
            .filter_map(|e| {
                let r = e.release.as_ref()?;
                Some(RequestRow {
                    number: r.request,
                    by: e.by.clone().unwrap_or_default(),
                    at: display_local(e.at),
                    to: r.to.join(", "),
                    reason: r.reason.clone(),
                })
            })
            .collect();
        let history = record
            .history
            .iter()
            .map(|e| EventRow {
                at: display_local(e.at),
                kind: lang.event(e.kind),
                by: e.by.clone().unwrap_or_default(),
                detail: e.detail.clone(),
            })
            .collect();
        render(&MessagePage {
            chrome: Chrome::user(&user, &format!("/quarantine/{id}"), "quarantine"),
            id: id.to_string(),
            subject: record
                .subject()
                .filter(|s| !s.is_empty())
                .unwrap_or(lang.t().no_subject)
                .to_owned(),
            verdict: record.verdict.clone(),
            status: lang.event(record.status),
            message: done_text(lang, &done.m),
            stored: display_local(record.stored_at),
            sender: or_null(&record.envelope.sender),
            from: record.from().unwrap_or("").to_owned(),
            recipients: record.envelope.recipients.join(", "),
            client: record.envelope.client_ip.clone(),
            helo: record.envelope.helo.clone(),
            size: size(record.size),
            sha256: record.sha256.clone(),
            threats: record.threats().join(", "),
            reason: record
                .report
                .get("reason")
                .and_then(|r| r.as_str())
                .map(|r| lang.reason(r)),
            parts: part_rows(&record, lang),
            open,
            infected: actions::infected(&record),
            two_person: state.config.release_approval == crate::ReleaseApproval::TwoPerson,
            delivered: delivered.as_deref().and_then(delivered_text),
            headers: header_text(&original),
            history,
        })
    };
    page.await
        .map_or_else(|f| user.fail(f), IntoResponse::into_response)
}

#[derive(Template)]
#[template(path = "source.html")]
struct SourcePage {
    chrome: Chrome,
    id: String,
    text: String,
    truncated: bool,
    size: String,
}

/// The actor behind a signed-in user.
pub fn actor(user: &User) -> Actor {
    Actor {
        name: user.name.clone(),
        role: Some(user.role),
        client: user.client,
    }
}

/// `GET /quarantine/{id}/source`: the original as text (approvers), audited.
pub async fn source(State(state): State<Shared>, user: User, Path(id): Path<String>) -> Response {
    let page = async {
        user.require(Role::Approver)?;
        let id = parse_id(&id)?;
        let record = actions::record(&state, &id).await?;
        actions::note_view(&state, &actor(&user), &record, false)?;
        let original = actions::original(&state, &id).await?;
        let shown = &original[..original.len().min(MAX_SOURCE)];
        render(&SourcePage {
            chrome: Chrome::user(&user, &format!("/quarantine/{id}/source"), "quarantine"),
            id: id.to_string(),
            text: String::from_utf8_lossy(shown).into_owned(),
            truncated: shown.len() < original.len(),
            size: size(original.len() as u64),
        })
    };
    page.await
        .map_or_else(|f| user.fail(f), IntoResponse::into_response)
}

/// `GET /quarantine/{id}/original.eml`: the original as a file (admins),
/// audited with its hash; never shown inline.
pub async fn download(State(state): State<Shared>, user: User, Path(id): Path<String>) -> Response {
    let file = async {
        user.require(Role::Admin)?;
        let id = parse_id(&id)?;
        let record = actions::record(&state, &id).await?;
        actions::note_view(&state, &actor(&user), &record, true)?;
        let original = actions::original(&state, &id).await?;
        Ok::<_, Failure>((
            [
                (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{id}.eml\""),
                ),
            ],
            original,
        ))
    };
    file.await
        .map_or_else(|f| user.fail(f), IntoResponse::into_response)
}

/// The fields of the release, request and refuse forms.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ActForm {
    pub csrf: Option<String>,
    pub to: String,
    pub reason: String,
    pub confirm: String,
}

/// Runs a form's act after its CSRF check, then back to the message.
async fn act<F>(user: &User, form: &ActForm, id: &str, run: F) -> Response
where
    F: AsyncFnOnce(QueueId) -> Result<&'static str, Failure>,
{
    after_form(user, form.csrf.as_deref(), async || {
        let id = parse_id(id)?;
        let done = run(id.clone()).await?;
        Ok(format!("/quarantine/{id}?m={done}"))
    })
    .await
}

/// `POST /quarantine/{id}/release`.
pub async fn release(
    State(state): State<Shared>,
    user: User,
    Path(id): Path<String>,
    Form(form): Form<ActForm>,
) -> Response {
    act(&user, &form, &id, async |id| {
        let to = Some(form.to.as_str());
        match actions::release(&state, &actor(&user), &id, to, &form.reason).await? {
            actions::Released::Delivered { .. } => Ok("released"),
            actions::Released::Requested { .. } => Ok("requested"),
        }
    })
    .await
}

/// `POST /quarantine/{id}/request`.
pub async fn request(
    State(state): State<Shared>,
    user: User,
    Path(id): Path<String>,
    Form(form): Form<ActForm>,
) -> Response {
    act(&user, &form, &id, async |id| {
        let to = Some(form.to.as_str());
        actions::request(&state, &actor(&user), &id, to, &form.reason).await?;
        Ok("requested")
    })
    .await
}

/// `POST /quarantine/{id}/requests/{n}/approve`.
pub async fn approve(
    State(state): State<Shared>,
    user: User,
    Path((id, n)): Path<(String, u32)>,
    Form(form): Form<ActForm>,
) -> Response {
    act(&user, &form, &id, async |id| {
        actions::approve(&state, &actor(&user), &id, n).await?;
        Ok("released")
    })
    .await
}

/// `POST /quarantine/{id}/requests/{n}/refuse`.
pub async fn refuse(
    State(state): State<Shared>,
    user: User,
    Path((id, n)): Path<(String, u32)>,
    Form(form): Form<ActForm>,
) -> Response {
    act(&user, &form, &id, async |id| {
        actions::refuse(&state, &actor(&user), &id, n, &form.reason).await?;
        Ok("refused")
    })
    .await
}

/// `POST /quarantine/{id}/delete`: then back to the list.
pub async fn delete(
    State(state): State<Shared>,
    user: User,
    Path(id): Path<String>,
    Form(form): Form<ActForm>,
) -> Response {
    after_form(&user, form.csrf.as_deref(), async || {
        if form.confirm != "yes" {
            return Err(Failure::BadRequest(
                "tick the box to confirm the deletion".into(),
            ));
        }
        actions::delete(&state, &actor(&user), &parse_id(&id)?).await?;
        Ok("/quarantine".to_owned())
    })
    .await
}
