/*!
Mukaika's operator console: the web pages and the JSON API through which
administrators and approvers see what was held and why, release originals
(with a second person's approval when configured), watch the queue and the
stats, and through which a recipient asks for an original from the link in
a notice.

It serves on `[admin] listen` inside `mukaika serve`, over HTTP on
loopback or HTTPS (rustls). Pages are rendered on the server by askama
templates, which escape every value; the one style sheet is embedded; no
script runs (the CSP allows none but our own, and there is none).

# Layout
- [`seams`]: what the daemon gives the console ([`Deps`]): the quarantine,
  the spool, delivery ([`Releaser`]), readiness ([`Health`]), metrics.
- `actions`: every act (request, release, approve, refuse, delete), its
  rules, its history event and audit line; the pages and the API both call it.
- `pages/`: one module per page; `api`: the same under `/api/v1` as JSON.
- `http/`: sessions, CSRF, security headers, failures as pages or JSON.
- `token`: the signed link in notices; `chart`: SVG bars; `text`: the
  Japanese and English words.

# Security
Security-sensitive: it is the one way in to the originals besides a shell
on the host. Roles `viewer` < `approver` < `admin` (crate
`mukaika-access`: argon2id hashes, sessions, login throttling); a CSRF
token on every state-changing request; `SameSite=Strict`, `HttpOnly`
cookies (`Secure` with TLS); every act in the hash-chained audit log
(crate `mukaika-audit`) before it happens, or, for deliveries, right
after; an original is never rendered as HTML; an infected one is never
released from here. docs/SECURITY.md has the threat model.
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod actions;
mod api;
mod chart;
mod config;
#[doc(hidden)]
pub mod fuzzing;
mod http;
mod notice;
mod pages;
pub mod seams;
mod state;
mod text;
mod tls;
mod token;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{delete, get, post};
use mukaika_spool::QueueId;

pub use config::{Config, ReleaseApproval};
pub use seams::{BoxFuture, Check, Deps, Health, Releaser};

use crate::http::Peer;
use crate::http::session::LANG_COOKIE;
use crate::state::{Shared, State as ConsoleState};

/// The largest request body: forms and JSON of a few fields.
const MAX_BODY: usize = 64 * 1024;

const STYLE: &str = include_str!("../assets/style.css");

/// The console, ready to serve (cheap to clone: its state is shared).
#[derive(Clone)]
pub struct Console {
    state: Shared,
    metrics_token: Option<String>,
}

impl Console {
    /// Opens the users file, secret and audit log of `config` (making the
    /// secret and the log at first start). The error names the key.
    pub fn open(config: &Config, deps: Deps) -> Result<Self, String> {
        let metrics_token = match &config.metrics_token_file {
            Some(path) => {
                let token = std::fs::read_to_string(path)
                    .map_err(|e| format!("admin.metrics_token_file: {}: {e}", path.display()))?;
                let token = token.trim().to_owned();
                if token.len() < 16 {
                    return Err(format!(
                        "admin.metrics_token_file: {}: a token of at least 16 characters",
                        path.display()
                    ));
                }
                Some(token)
            }
            None => None,
        };
        Ok(Self {
            state: Arc::new(ConsoleState::open(config, deps)?),
            metrics_token,
        })
    }

    /// The link a notice carries for the recipients of a message: where
    /// they ask for its original, valid `request_link_days` from `now`.
    pub fn request_url(&self, id: &QueueId, recipients: &[String], now: u64) -> String {
        let expires = now + u64::from(self.state.config.request_link_days) * 86_400;
        let path = token::path(&self.state.secret, id, recipients, expires);
        format!("{}{path}", self.state.config.base_url())
    }

    /// Every route, with the security headers.
    pub fn router(&self) -> Router {
        let pages = Router::new()
            .route("/", get(|| async { Redirect::to("/quarantine") }))
            .route("/login", get(pages::login::show).post(pages::login::submit))
            .route("/logout", post(pages::login::logout))
            .route("/quarantine", get(pages::quarantine::list))
            .route("/quarantine/{id}", get(pages::quarantine::show))
            .route("/quarantine/{id}/source", get(pages::quarantine::source))
            .route(
                "/quarantine/{id}/original.eml",
                get(pages::quarantine::download),
            )
            .route("/quarantine/{id}/release", post(pages::quarantine::release))
            .route("/quarantine/{id}/request", post(pages::quarantine::request))
            .route(
                "/quarantine/{id}/requests/{n}/approve",
                post(pages::quarantine::approve),
            )
            .route(
                "/quarantine/{id}/requests/{n}/refuse",
                post(pages::quarantine::refuse),
            )
            .route("/quarantine/{id}/delete", post(pages::quarantine::delete))
            .route("/approvals", get(pages::approvals::show))
            .route("/queue", get(pages::queue::show))
            .route("/queue/flush", post(pages::queue::flush_all))
            .route("/queue/{id}/flush", post(pages::queue::flush_one))
            .route("/queue/{id}/delete", post(pages::queue::delete))
            .route("/stats", get(pages::stats::show))
            .route(
                "/request/{token}",
                get(pages::request::show).post(pages::request::submit),
            );
        let api = Router::new()
            .route("/login", post(api::login))
            .route("/logout", post(api::logout))
            .route("/quarantine", get(api::list))
            .route("/quarantine/{id}", get(api::show).delete(api::delete))
            .route("/quarantine/{id}/release", post(api::release))
            .route("/quarantine/{id}/request", post(api::request_release))
            .route("/quarantine/{id}/requests/{n}/approve", post(api::approve))
            .route("/quarantine/{id}/requests/{n}/refuse", post(api::refuse))
            .route("/queue", get(api::queue_list))
            .route("/queue/flush", post(api::queue_flush_all))
            .route("/queue/{id}/flush", post(api::queue_flush))
            .route("/queue/{id}", delete(api::queue_delete))
            .route("/stats", get(api::stats))
            .route("/request/{token}", post(api::recipient_request))
            .fallback(|| async { http::error::Failure::NotFound.json() });
        let metrics_token = self.metrics_token.clone();
        Router::new()
            .merge(pages)
            .nest("/api/v1", api)
            .route("/static/style.css", get(style))
            .route("/healthz", get(|| async { "ok\n" }))
            .route("/readyz", get(readyz))
            .route(
                "/metrics",
                get(
                    move |state: State<Shared>, headers: axum::http::HeaderMap| {
                        metrics(state, headers, metrics_token.clone())
                    },
                ),
            )
            .fallback(|visitor: http::session::Visitor| async move {
                http::error::Failure::NotFound.page(visitor.lang)
            })
            .layer(middleware::from_fn(remember_lang))
            .layer(middleware::from_fn(http::headers::secure))
            .layer(DefaultBodyLimit::max(MAX_BODY))
            .with_state(self.state.clone())
    }

    /// Serves until `shutdown` completes: HTTPS when `tls` is given.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        tls: Option<Arc<rustls::ServerConfig>>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let app = self.router().into_make_service_with_connect_info::<Peer>();
        match tls {
            Some(tls) => {
                let listener = tls::TlsListener::new(listener, tls)?;
                axum::serve(listener, app)
                    .with_graceful_shutdown(shutdown)
                    .await
            }
            None => {
                axum::serve(listener, app)
                    .with_graceful_shutdown(shutdown)
                    .await
            }
        }
    }
}

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}

/// `/readyz`: 200 when every check passes, 503 otherwise, with the checks.
async fn readyz(State(state): State<Shared>) -> Response {
    let checks = state.deps.health.checks().await;
    let status = if checks.iter().all(|c| c.ok) {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(serde_json::json!({ "checks": checks }))).into_response()
}

/// `/metrics`: Prometheus text, behind the bearer token when one is set.
async fn metrics(
    State(state): State<Shared>,
    headers: axum::http::HeaderMap,
    token: Option<String>,
) -> Response {
    if let Some(token) = token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !mukaika_access::csrf_matches(&token, given) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "",
            )
                .into_response();
        }
    }
    match &state.deps.metrics {
        Some(render) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            render(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no metrics recorded\n").into_response(),
    }
}

/// Remembers `?lang=` in a cookie, so the choice follows the user.
async fn remember_lang(request: Request, next: Next) -> Response {
    let chosen = request
        .uri()
        .query()
        .and_then(|q| q.split('&').find_map(|p| p.strip_prefix("lang=")))
        .filter(|code| matches!(*code, "ja" | "en"))
        .map(str::to_owned);
    let mut response = next.run(request).await;
    if let Some(code) = chosen {
        let cookie = format!("{LANG_COOKIE}={code}; Path=/; SameSite=Strict; Max-Age=31536000");
        if let Ok(value) = cookie.parse() {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}
