//! Logging in and out. A login costs one argon2id verification whether or
//! not the user exists; failures count per user name and per client
//! address, and past `login_max_failures` both are locked out for
//! `login_lockout_secs`, even with the right password.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use mukaika_access::Role;
use mukaika_audit::Action;
use serde::Deserialize;

use super::{Chrome, render};
use crate::http::error::{Failure, PageFailure};
use crate::http::session::{SESSION_COOKIE, User, Visitor, expired_cookie, session_cookie};
use crate::state::Shared;
use crate::text::Lang;
use mukaika_spool::time::display_local;

/// How long a login form may be left open.
const FORM_SECS: u64 = 3600;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    message: Option<&'static str>,
    form: String,
}

fn page(state: &Shared, lang: Lang, message: Option<&'static str>) -> Result<Response, Failure> {
    let expires = state.now() + FORM_SECS;
    let form = format!(
        "{expires}.{}",
        state.secret.sign("login-form", &[], expires)
    );
    let status = if message.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    let page = LoginPage {
        chrome: Chrome::visitor(lang, "/login"),
        message,
        form,
    };
    Ok((status, render(&page)?).into_response())
}

/// `GET /login`.
pub async fn show(State(state): State<Shared>, visitor: Visitor) -> Response {
    page(&state, visitor.lang, None).unwrap_or_else(|f| f.page(visitor.lang))
}

#[derive(Deserialize)]
pub struct LoginForm {
    user: String,
    password: String,
    #[serde(default)]
    form: String,
}

/// A new session: its cookie, and the CSRF token for the API.
pub struct SignedIn {
    pub cookie: String,
    pub csrf: String,
    pub role: Role,
}

/// Checks a user name and password, with the throttle and the audit log.
pub async fn authenticate(
    state: &Shared,
    visitor: &Visitor,
    name: &str,
    password: String,
) -> Result<SignedIn, Failure> {
    let now = state.now();
    if name.is_empty() || name.len() > 64 || password.len() > 1024 {
        return Err(Failure::Unauthenticated);
    }
    if let Err(locked) = state.throttle.check(name, visitor.client, now) {
        state.audit(
            state
                .entry(name, visitor.client, Action::LoginFailed)
                .detail(format!("locked out until {}", display_local(locked.until))),
        )?;
        return Err(Failure::TooMany(visitor.lang.t().locked_out.into()));
    }
    state.reload_users();
    let role = {
        let (state, name) = (state.clone(), name.to_owned());
        tokio::task::spawn_blocking(move || {
            let users = state.users.read().unwrap_or_else(|e| e.into_inner());
            users.verify(&name, &password)
        })
        .await?
    };
    let Some(role) = role else {
        state.throttle.failed(name, visitor.client, now);
        state.audit(state.entry(name, visitor.client, Action::LoginFailed))?;
        tracing::warn!(stage = "console-login-failed", user = %name, client = %visitor.client, "console login failed");
        return Err(Failure::Unauthenticated);
    };
    state.throttle.succeeded(name, visitor.client);
    state.audit(
        state
            .entry(name, visitor.client, Action::Login)
            .detail(format!("role {}", role.as_str())),
    )?;
    let session = state.sessions.create(name, role, now);
    tracing::info!(stage = "console-login", user = %name, client = %visitor.client, "console login");
    Ok(SignedIn {
        cookie: session_cookie(&session.id, state.secure_cookies),
        csrf: session.csrf,
        role,
    })
}

/// `POST /login`.
pub async fn submit(
    State(state): State<Shared>,
    visitor: Visitor,
    Form(form): Form<LoginForm>,
) -> Response {
    let lang = visitor.lang;
    let fresh = form.form.split_once('.').is_some_and(|(expires, mac)| {
        expires.parse().is_ok_and(|expires| {
            state
                .secret
                .verify("login-form", &[], expires, mac, state.now())
        })
    });
    if !fresh {
        return page(&state, lang, Some(lang.t().login_failed)).unwrap_or_else(|f| f.page(lang));
    }
    match authenticate(&state, &visitor, form.user.trim(), form.password).await {
        Ok(signed_in) => (
            [(header::SET_COOKIE, signed_in.cookie)],
            Redirect::to("/quarantine"),
        )
            .into_response(),
        Err(Failure::Unauthenticated) => {
            page(&state, lang, Some(lang.t().login_failed)).unwrap_or_else(|f| f.page(lang))
        }
        Err(Failure::TooMany(_)) => {
            let page = page(&state, lang, Some(lang.t().locked_out));
            match page {
                Ok(mut response) => {
                    *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
                    response
                }
                Err(f) => f.page(lang),
            }
        }
        Err(failure) => PageFailure(failure, lang).into_response(),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: Option<String>,
}

/// Ends `user`'s session.
pub fn end(state: &Shared, user: &User, session_id: Option<&str>) {
    if let Some(id) = session_id {
        state.sessions.remove(id);
    }
    state.audit_after(state.entry(&user.name, user.client, Action::Logout));
}

/// `POST /logout`.
pub async fn logout(
    State(state): State<Shared>,
    user: User,
    request: axum::http::HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(f) = user.check_csrf(form.csrf.as_deref()) {
        return user.fail(f);
    }
    end(&state, &user, crate::http::cookie(&request, SESSION_COOKIE));
    (
        [(header::SET_COOKIE, expired_cookie(state.secure_cookies))],
        Redirect::to("/login"),
    )
        .into_response()
}
