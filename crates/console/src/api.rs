//! The JSON API under `/api/v1`: everything the pages do, for scripts
//! (docs/API.md has curl examples). It shares the pages' sessions and
//! actions; a state-changing call carries the session's CSRF token in the
//! `X-CSRF-Token` header (returned by login), and JSON bodies only
//! (browsers cannot send those across sites without asking first).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use mukaika_quarantine::Record;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::actions::{self, Released};
use crate::http::error::{ApiFailure, Failure};
use crate::http::session::{SESSION_COOKIE, User, Visitor, expired_cookie};
use crate::pages::quarantine::{ListQuery, actor, parse_id, search};
use crate::pages::{login, queue, request, stats};
use crate::state::Shared;

/// The largest page the API hands out.
const MAX_PAGE: u64 = 500;

type ApiResult = Result<Response, ApiFailure>;

fn ok(value: impl Serialize) -> ApiResult {
    Ok(Json(value).into_response())
}

/// The CSRF header of a state-changing call.
fn csrf(user: &User, headers: &HeaderMap) -> Result<(), Failure> {
    let given = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    user.check_csrf(given)
}

#[derive(Deserialize)]
pub struct Login {
    user: String,
    password: String,
}

/// `POST /api/v1/login` → `{"user", "role", "csrf"}` and the session cookie.
pub async fn login(
    State(state): State<Shared>,
    visitor: Visitor,
    Json(body): Json<Login>,
) -> ApiResult {
    let signed_in = login::authenticate(&state, &visitor, body.user.trim(), body.password).await?;
    let body =
        json!({"user": body.user.trim(), "role": signed_in.role.as_str(), "csrf": signed_in.csrf});
    Ok(([(header::SET_COOKIE, signed_in.cookie)], Json(body)).into_response())
}

/// `POST /api/v1/logout`.
pub async fn logout(State(state): State<Shared>, user: User, headers: HeaderMap) -> ApiResult {
    csrf(&user, &headers)?;
    login::end(&state, &user, crate::http::cookie(&headers, SESSION_COOKIE));
    Ok((
        [(header::SET_COOKIE, expired_cookie(state.secure_cookies))],
        Json(json!({})),
    )
        .into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Paging {
    limit: Option<u64>,
}

/// `GET /api/v1/quarantine?subject=…&page=…&limit=…` → `{"total", "items"}`.
pub async fn list(
    State(state): State<Shared>,
    _user: User,
    Query(q): Query<ListQuery>,
    Query(paging): Query<Paging>,
) -> ApiResult {
    let size = paging
        .limit
        .unwrap_or(crate::pages::quarantine::PAGE_SIZE)
        .clamp(1, MAX_PAGE);
    let (items, total) = search(&state, q.filter(size)?).await?;
    ok(json!({"total": total, "items": items}))
}

/// A record as the API shows it: the record, its open requests, and
/// whether it may be released from the console.
fn record_json(record: &Record) -> Value {
    let open: Vec<_> = record
        .open_requests()
        .into_iter()
        .filter_map(|e| e.release.clone())
        .collect();
    json!({"record": record, "open_requests": open, "releasable": !actions::infected(record)})
}

/// `GET /api/v1/quarantine/{id}`.
pub async fn show(State(state): State<Shared>, _user: User, Path(id): Path<String>) -> ApiResult {
    let record = actions::record(&state, &parse_id(&id)?).await?;
    ok(record_json(&record))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Act {
    to: Option<String>,
    reason: String,
}

/// `POST /api/v1/quarantine/{id}/release` `{"to"?, "reason"}`.
pub async fn release(
    State(state): State<Shared>,
    user: User,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Act>,
) -> ApiResult {
    csrf(&user, &headers)?;
    let released: Released = actions::release(
        &state,
        &actor(&user),
        &parse_id(&id)?,
        body.to.as_deref(),
        &body.reason,
    )
    .await?;
    ok(released)
}

/// `POST /api/v1/quarantine/{id}/request` `{"to"?, "reason"}`.
pub async fn request_release(
    State(state): State<Shared>,
    user: User,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Act>,
) -> ApiResult {
    csrf(&user, &headers)?;
    let n = actions::request(
        &state,
        &actor(&user),
        &parse_id(&id)?,
        body.to.as_deref(),
        &body.reason,
    )
    .await?;
    ok(json!({"request": n}))
}

/// `POST /api/v1/quarantine/{id}/requests/{n}/approve`.
pub async fn approve(
    State(state): State<Shared>,
    user: User,
    headers: HeaderMap,
    Path((id, n)): Path<(String, u32)>,
) -> ApiResult {
    csrf(&user, &headers)?;
    let sha256 = actions::approve(&state, &actor(&user), &parse_id(&id)?, n).await?;
    ok(json!({"request": n, "sha256": sha256}))
}

/// `POST /api/v1/quarantine/{id}/requests/{n}/refuse` `{"reason"}`.
pub async fn refuse(
    State(state): State<Shared>,
    user: User,
    headers: HeaderMap,
    Path((id, n)): Path<(String, u32)>,
    Json(body): Json<Act>,
) -> ApiResult {
    csrf(&user, &headers)?;
    actions::refuse(&state, &actor(&user), &parse_id(&id)?, n, &body.reason).await?;
    ok(json!({"request": n}))
}

/// `DELETE /api/v1/quarantine/{id}`.
pub async fn delete(
    State(state): State<Shared>,
    user: User,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    csrf(&user, &headers)?;
    actions::delete(&state, &actor(&user), &parse_id(&id)?).await?;
    ok(json!({}))
}

/// `GET /api/v1/queue`.
pub async fn queue_list(State(state): State<Shared>, _user: User) -> ApiResult {
    ok(queue::entries(&state).await?)
}

/// `POST /api/v1/queue/flush`.
pub async fn queue_flush_all(
    State(state): State<Shared>,
    user: User,
    headers: HeaderMap,
) -> ApiResult {
    csrf(&user, &headers)?;
    let n = queue::flush(&state, &actor(&user), None).await?;
    ok(json!({"flushed": n}))
}

/// `POST /api/v1/queue/{id}/flush`.
pub async fn queue_flush(
    State(state): State<Shared>,
    user: User,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    csrf(&user, &headers)?;
    let n = queue::flush(&state, &actor(&user), Some(parse_id(&id)?)).await?;
    ok(json!({"flushed": n}))
}

/// `DELETE /api/v1/queue/{id}`.
pub async fn queue_delete(
    State(state): State<Shared>,
    user: User,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    csrf(&user, &headers)?;
    queue::remove(&state, &actor(&user), parse_id(&id)?).await?;
    ok(json!({}))
}

/// `GET /api/v1/stats` → `{"hourly", "daily"}` (48 hours, 30 days).
pub async fn stats(State(state): State<Shared>, _user: User) -> ApiResult {
    let (hourly, daily) = stats::gather(&state).await?;
    ok(json!({"hourly": hourly, "daily": daily}))
}

#[derive(Deserialize)]
pub struct RecipientRequest {
    recipient: String,
    reason: String,
}

/// `POST /api/v1/request/{token}` `{"recipient", "reason"}`: a recipient's
/// request through their link (the link is the permission).
pub async fn recipient_request(
    State(state): State<Shared>,
    visitor: Visitor,
    Path(token): Path<String>,
    Json(body): Json<RecipientRequest>,
) -> ApiResult {
    let (_, _, n) = request::ask(&state, &visitor, &token, &body.recipient, &body.reason).await?;
    ok(json!({"request": n}))
}
