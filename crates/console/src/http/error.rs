//! Why a request failed, answered as a page or as JSON depending on who
//! asked: the same [`Failure`] from the actions serves both.

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::pages::render_error;
use crate::text::Lang;

/// A failed request, with words for the user (never internals).
#[derive(Debug)]
pub enum Failure {
    /// The request itself is wrong: a field, an address, a search.
    BadRequest(String),
    /// No session (or an expired one).
    Unauthenticated,
    /// A session without the role, or a refused act (own request, infected).
    Forbidden(String),
    /// No such record, request or page.
    NotFound,
    /// The record changed meanwhile (another approver was faster).
    Conflict(String),
    /// Too many attempts.
    TooMany(String),
    /// Our fault: logged in full, said in short.
    Internal(String),
}

impl Failure {
    fn status(&self) -> StatusCode {
        match self {
            Failure::BadRequest(_) => StatusCode::BAD_REQUEST,
            Failure::Unauthenticated => StatusCode::UNAUTHORIZED,
            Failure::Forbidden(_) => StatusCode::FORBIDDEN,
            Failure::NotFound => StatusCode::NOT_FOUND,
            Failure::Conflict(_) => StatusCode::CONFLICT,
            Failure::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            Failure::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn message(&self) -> String {
        match self {
            Failure::BadRequest(m)
            | Failure::Forbidden(m)
            | Failure::Conflict(m)
            | Failure::TooMany(m) => m.clone(),
            Failure::Unauthenticated => "login required".into(),
            Failure::NotFound => "not found".into(),
            Failure::Internal(_) => "internal error: see the daemon's log".into(),
        }
    }

    /// Logs what the user is not told.
    fn log(&self) {
        if let Failure::Internal(detail) = self {
            tracing::error!(error = %detail, "console request failed");
        }
    }

    /// The answer for a page: the error page, or the way to the login.
    pub fn page(self, lang: Lang) -> Response {
        self.log();
        if let Failure::Unauthenticated = self {
            return Redirect::to("/login").into_response();
        }
        let status = self.status();
        (
            status,
            Html(render_error(lang, status.as_u16(), &self.message())),
        )
            .into_response()
    }

    /// The answer for the JSON API: `{"error": "…"}`.
    pub fn json(self) -> Response {
        self.log();
        let body = serde_json::json!({ "error": self.message() }).to_string();
        (
            self.status(),
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}

impl From<mukaika_quarantine::Error> for Failure {
    fn from(e: mukaika_quarantine::Error) -> Self {
        match e {
            mukaika_quarantine::Error::NotFound { .. } => Failure::NotFound,
            mukaika_quarantine::Error::Search(why) => Failure::BadRequest(why),
            e => Failure::Internal(e.to_string()),
        }
    }
}

impl From<tokio::task::JoinError> for Failure {
    fn from(e: tokio::task::JoinError) -> Self {
        Failure::Internal(e.to_string())
    }
}

/// A page handler's failure: rendered in the page's language.
pub struct PageFailure(pub Failure, pub Lang);

impl IntoResponse for PageFailure {
    fn into_response(self) -> Response {
        self.0.page(self.1)
    }
}

/// An API handler's failure: JSON.
pub struct ApiFailure(pub Failure);

impl IntoResponse for ApiFailure {
    fn into_response(self) -> Response {
        self.0.json()
    }
}

impl From<Failure> for ApiFailure {
    fn from(f: Failure) -> Self {
        ApiFailure(f)
    }
}
