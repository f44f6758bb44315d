//! The recipient's page, reached from the link in a notice: what was
//! removed from their mail and why, and a form to ask for the original.
//! No login: the signed link is the permission, for this message and its
//! recipients only, until it expires.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use mukaika_quarantine::Record;
use serde::Deserialize;

use super::{Chrome, render};
use crate::actions::{self, Actor};
use crate::http::error::Failure;
use crate::http::session::Visitor;
use crate::state::Shared;
use crate::text::Lang;
use crate::token::{self, Link};
use mukaika_spool::time::display_local;

/// One removed or held part, in words.
pub struct Removed {
    pub name: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "request.html")]
struct RequestPage {
    chrome: Chrome,
    message: Option<&'static str>,
    subject: String,
    from: String,
    stored: String,
    removed: Vec<Removed>,
    show_form: bool,
    action: String,
    form: String,
    recipients: Vec<String>,
}

/// The record a link is for, if the link is genuine and not expired.
pub async fn checked(state: &Shared, token: &str) -> Result<(Link, Record), Failure> {
    let invalid = || Failure::Forbidden("this link is not valid or has expired".into());
    let link = token::parse(token).ok_or_else(invalid)?;
    let record = actions::record(state, &link.id)
        .await
        .map_err(|_| invalid())?;
    if !link.valid(&state.secret, &record.envelope.recipients, state.now()) {
        return Err(invalid());
    }
    Ok((link, record))
}

/// What the recipient did not get: parts and entries not kept as they were.
pub fn removed(record: &Record, lang: Lang) -> Vec<Removed> {
    super::quarantine::part_rows(record, lang)
        .into_iter()
        .filter(|p| matches!(p.action.as_str(), "removed" | "held"))
        .map(|p| Removed {
            name: if p.name.is_empty() {
                p.detected
            } else {
                p.name
            },
            reason: p.reason,
        })
        .collect()
}

fn page(
    state: &Shared,
    lang: Lang,
    token: &str,
    link: &Link,
    record: &Record,
    message: Option<&'static str>,
) -> Result<Response, Failure> {
    let pending = !record.open_requests().is_empty();
    render(&RequestPage {
        chrome: Chrome::visitor(lang, &format!("/request/{token}")),
        message: message.or(pending.then_some(lang.t().request_pending)),
        subject: record.subject().unwrap_or(lang.t().no_subject).to_owned(),
        from: record.from().unwrap_or("").to_owned(),
        stored: display_local(record.stored_at),
        removed: removed(record, lang),
        show_form: !pending && !actions::infected(record),
        action: format!("/request/{token}"),
        form: link.form_token(&state.secret),
        recipients: record.envelope.recipients.clone(),
    })
    .map(IntoResponse::into_response)
}

/// `GET /request/{token}`.
pub async fn show(
    State(state): State<Shared>,
    visitor: Visitor,
    Path(token): Path<String>,
) -> Response {
    let lang = visitor.lang;
    match checked(&state, &token).await {
        Ok((link, record)) => {
            page(&state, lang, &token, &link, &record, None).unwrap_or_else(|f| f.page(lang))
        }
        Err(f) => f.page(lang),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RequestForm {
    pub form: String,
    pub recipient: String,
    pub reason: String,
}

/// Records a recipient's request made through their link.
pub async fn ask(
    state: &Shared,
    visitor: &Visitor,
    token: &str,
    recipient: &str,
    why: &str,
) -> Result<(Link, Record, u32), Failure> {
    let (link, record) = checked(state, token).await?;
    let Some(recipient) = record
        .envelope
        .recipients
        .iter()
        .find(|r| r.eq_ignore_ascii_case(recipient.trim()))
    else {
        return Err(Failure::BadRequest(
            "choose one of the mail's recipients".into(),
        ));
    };
    if why.trim().is_empty() {
        return Err(Failure::BadRequest("say why you need the original".into()));
    }
    let actor = Actor {
        name: format!("recipient:{recipient}"),
        role: None,
        client: visitor.client,
    };
    let n = actions::request(state, &actor, &link.id, None, why).await?;
    let record = actions::record(state, &link.id).await?;
    Ok((link, record, n))
}

/// `POST /request/{token}`.
pub async fn submit(
    State(state): State<Shared>,
    visitor: Visitor,
    Path(token): Path<String>,
    Form(form): Form<RequestForm>,
) -> Response {
    let lang = visitor.lang;
    let result = async {
        let (link, _) = checked(&state, &token).await?;
        if !link.form_valid(&state.secret, &form.form, state.now()) {
            return Err(Failure::Forbidden(
                "missing or wrong form token: reload the page".into(),
            ));
        }
        let (link, record, _) =
            ask(&state, &visitor, &token, &form.recipient, &form.reason).await?;
        page(
            &state,
            lang,
            &token,
            &link,
            &record,
            Some(lang.t().request_sent),
        )
    };
    result.await.unwrap_or_else(|f| f.page(lang))
}
