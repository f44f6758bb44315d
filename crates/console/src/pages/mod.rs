//! The HTML pages, one module per page, rendered on the server by askama
//! templates (`templates/`), which escape every value. The pages call the
//! same [`actions`](crate::actions) as the JSON API.

pub mod approvals;
pub mod login;
pub mod quarantine;
pub mod queue;
pub mod request;
pub mod stats;

use askama::Template;
use axum::response::Html;
use mukaika_access::Role;
use mukaika_quarantine::Summary;

use crate::http::error::Failure;
use crate::http::session::User;
use crate::text::{Lang, Texts};
use mukaika_spool::time::display_local;

/// What the frame of every page shows: language, user, navigation.
pub struct Chrome {
    pub t: &'static Texts,
    pub lang: &'static str,
    /// The same page in the other language.
    pub switch_href: String,
    pub user: Option<String>,
    pub role: &'static str,
    /// The session's CSRF token, for the forms (logout included).
    pub csrf: String,
    pub approver: bool,
    pub admin: bool,
    /// Which navigation entry is this page.
    pub active: &'static str,
}

impl Chrome {
    /// The frame for a signed-in user on the page at `path`.
    pub fn user(user: &User, path: &str, active: &'static str) -> Self {
        Chrome {
            user: Some(user.name.clone()),
            role: user.role.as_str(),
            csrf: user.csrf.clone(),
            approver: user.role.allows(Role::Approver),
            admin: user.role.allows(Role::Admin),
            active,
            ..Chrome::visitor(user.lang, path)
        }
    }

    /// The frame for someone not signed in.
    pub fn visitor(lang: Lang, path: &str) -> Self {
        Chrome {
            t: lang.t(),
            lang: lang.code(),
            switch_href: format!("{path}?lang={}", lang.other().code()),
            user: None,
            role: "",
            csrf: String::new(),
            approver: false,
            admin: false,
            active: "",
        }
    }
}

/// A form's answer: its CSRF check, then `act`, then a redirect to the
/// page `act` names; a failure is shown as the error page. Every form of
/// the pages goes through here.
pub async fn after_form(
    user: &User,
    csrf: Option<&str>,
    act: impl AsyncFnOnce() -> Result<String, Failure>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let result = async {
        user.check_csrf(csrf)?;
        act().await
    };
    match result.await {
        Ok(to) => axum::response::Redirect::to(&to).into_response(),
        Err(f) => user.fail(f),
    }
}

/// Renders a template into a page.
pub fn render(page: &impl Template) -> Result<Html<String>, Failure> {
    page.render()
        .map(Html)
        .map_err(|e| Failure::Internal(format!("rendering a page: {e}")))
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Chrome,
    status: u16,
    message: &'a str,
}

/// The error page, for [`Failure::page`].
pub fn render_error(lang: Lang, status: u16, message: &str) -> String {
    let page = ErrorPage {
        chrome: Chrome::visitor(lang, "/quarantine"),
        status,
        message,
    };
    page.render()
        .unwrap_or_else(|_| format!("error {status}: {message}"))
}

/// One line of a list of records, as the list and approvals pages show it.
pub struct Row {
    pub id: String,
    pub stored: String,
    pub verdict: String,
    pub status: &'static str,
    pub sender: String,
    pub recipients: String,
    pub subject: String,
    pub size: String,
    pub open_requests: u32,
}

impl Row {
    pub fn new(summary: Summary, lang: Lang) -> Self {
        Row {
            id: summary.id.to_string(),
            stored: display_local(summary.stored_at),
            verdict: summary.verdict,
            status: lang.event(summary.status),
            sender: summary
                .from
                .filter(|f| !f.is_empty())
                .unwrap_or_else(|| or_null(&summary.sender)),
            recipients: summary.recipients.join(", "),
            subject: summary
                .subject
                .unwrap_or_else(|| lang.t().no_subject.to_owned()),
            size: size(summary.size),
            open_requests: summary.open_requests,
        }
    }
}

/// `<>` for the null sender.
pub fn or_null(sender: &str) -> String {
    if sender.is_empty() {
        "<>".into()
    } else {
        sender.into()
    }
}

/// A byte count as people read it.
pub fn size(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MB", bytes as f64 / 1_048_576.0),
    }
}
