//! The queue, like `mailq`: what waits in the spool (incoming, active,
//! deferred with next attempt and last error, held), and for admins the
//! buttons that retry now or delete (the original kept in quarantine).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use mukaika_access::Role;
use mukaika_audit::Action;
use mukaika_quarantine::{Event, EventKind};
use mukaika_spool::{QueueId, Queued, Stage};
use serde::Deserialize;

use super::quarantine::{ActForm, actor, parse_id};
use super::{Chrome, after_form, or_null, render, size};
use crate::actions::Actor;
use crate::http::error::Failure;
use crate::http::session::User;
use crate::state::Shared;
use mukaika_spool::time::display_local;

/// The most queue entries one page shows.
const MAX_ROWS: usize = 1000;

/// The queue, off the async threads.
pub async fn entries(state: &Shared) -> Result<Vec<Queued>, Failure> {
    let spool = state.deps.spool.clone();
    tokio::task::spawn_blocking(move || spool.list())
        .await?
        .map_err(|e| Failure::Internal(format!("listing the queue: {e}")))
}

/// Retries deferred mail now (one, or all) and wakes the daemon's queue run.
pub async fn flush(state: &Shared, actor: &Actor, id: Option<QueueId>) -> Result<usize, Failure> {
    actor.require_role(Role::Admin)?;
    state.audit(
        state
            .entry(&actor.name, actor.client, Action::Flush)
            .detail(
                id.as_ref()
                    .map_or("all deferred mail".into(), |id| id.to_string()),
            ),
    )?;
    let (spool, now) = (state.deps.spool.clone(), state.now());
    let made_due = tokio::task::spawn_blocking(move || spool.flush(id.as_ref(), now))
        .await?
        .map_err(|e| Failure::Internal(format!("flushing the queue: {e}")))?;
    state.deps.queue_run.notify_one();
    tracing::info!(stage = "queue-flush", by = %actor.name, count = made_due.len(), "deferred mail retried now");
    Ok(made_due.len())
}

/// Takes a message out of the queue; its original stays in quarantine.
pub async fn remove(state: &Shared, actor: &Actor, id: QueueId) -> Result<(), Failure> {
    actor.require_role(Role::Admin)?;
    state.audit(
        state
            .entry(&actor.name, actor.client, Action::QueueDelete)
            .queue_id(id.as_str()),
    )?;
    let (spool, q, by, now) = (
        state.deps.spool.clone(),
        state.deps.quarantine.clone(),
        actor.name.clone(),
        state.now(),
    );
    let removed = tokio::task::spawn_blocking(move || -> Result<bool, String> {
        let Some(entry) = spool.remove(&id).map_err(|e| e.to_string())? else {
            return Ok(false);
        };
        // An original never sanitized is not in quarantine yet: keep it.
        if entry.envelope.stage == Stage::Original {
            q.store(&id, &entry.envelope, &entry.message, "deleted", "{}")
                .map_err(|e| e.to_string())?;
        }
        let event = Event::new(
            now,
            EventKind::Dequeued,
            "removed from the queue in the console",
        )
        .by(by);
        q.record(&id, event).map_err(|e| e.to_string())?;
        Ok(true)
    })
    .await?
    .map_err(|e| Failure::Internal(format!("removing from the queue: {e}")))?;
    if removed {
        Ok(())
    } else {
        Err(Failure::NotFound)
    }
}

pub struct QueueRow {
    pub id: String,
    pub state: &'static str,
    pub arrived: String,
    pub size: String,
    pub sender: String,
    pub recipients: String,
    pub attempts: u32,
    pub next_attempt: String,
    pub last_error: String,
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    chrome: Chrome,
    message: Option<String>,
    counts: Vec<(&'static str, usize)>,
    rows: Vec<QueueRow>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Done {
    flushed: Option<usize>,
}

/// `GET /queue`.
pub async fn show(State(state): State<Shared>, user: User, Query(done): Query<Done>) -> Response {
    let page = async {
        let queued = entries(&state).await?;
        let mut counts: Vec<(&'static str, usize)> = Vec::new();
        for q in &queued {
            match counts.iter_mut().find(|(s, _)| *s == q.state.as_str()) {
                Some((_, n)) => *n += 1,
                None => counts.push((q.state.as_str(), 1)),
            }
        }
        let rows = queued
            .into_iter()
            .take(MAX_ROWS)
            .map(|q| QueueRow {
                id: q.id.to_string(),
                state: q.state.as_str(),
                arrived: display_local(q.envelope.received_at),
                size: size(q.size),
                sender: or_null(&q.envelope.sender),
                recipients: q.envelope.recipients.join(", "),
                attempts: q.envelope.attempts,
                next_attempt: if q.envelope.next_attempt > 0 {
                    display_local(q.envelope.next_attempt)
                } else {
                    String::new()
                },
                last_error: q.envelope.last_error.unwrap_or_default(),
            })
            .collect();
        let ja = user.lang == crate::text::Lang::Ja;
        render(&QueuePage {
            chrome: Chrome::user(&user, "/queue", "queue"),
            message: done.flushed.map(|n| {
                if ja {
                    format!("{n} 件を今すぐ再送します。")
                } else {
                    format!("{n} retried now.")
                }
            }),
            counts,
            rows,
        })
    };
    page.await
        .map_or_else(|f| user.fail(f), IntoResponse::into_response)
}

/// `POST /queue/flush`.
pub async fn flush_all(
    State(state): State<Shared>,
    user: User,
    Form(form): Form<ActForm>,
) -> Response {
    after_form(&user, form.csrf.as_deref(), async || {
        let n = flush(&state, &actor(&user), None).await?;
        Ok(format!("/queue?flushed={n}"))
    })
    .await
}

/// `POST /queue/{id}/flush`.
pub async fn flush_one(
    State(state): State<Shared>,
    user: User,
    Path(id): Path<String>,
    Form(form): Form<ActForm>,
) -> Response {
    after_form(&user, form.csrf.as_deref(), async || {
        let n = flush(&state, &actor(&user), Some(parse_id(&id)?)).await?;
        Ok(format!("/queue?flushed={n}"))
    })
    .await
}

/// `POST /queue/{id}/delete`.
pub async fn delete(
    State(state): State<Shared>,
    user: User,
    Path(id): Path<String>,
    Form(form): Form<ActForm>,
) -> Response {
    after_form(&user, form.csrf.as_deref(), async || {
        remove(&state, &actor(&user), parse_id(&id)?).await?;
        Ok("/queue".to_owned())
    })
    .await
}
