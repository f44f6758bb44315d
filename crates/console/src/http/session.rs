//! Who is asking: the signed-in [`User`] of a request (from its session
//! cookie), or just the [`Visitor`] (address and language) of the login
//! and recipient pages.

use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use mukaika_access::{Role, csrf_matches};

use super::error::Failure;
use super::{client, cookie, is_api};
use crate::state::Shared;
use crate::text::Lang;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "mukaika_session";

/// The language cookie's name.
pub const LANG_COOKIE: &str = "mukaika_lang";

/// The language of a request: `?lang=` first, then its cookie.
pub fn lang(parts: &Parts) -> Lang {
    let query = parts.uri.query().unwrap_or("");
    let asked = query.split('&').find_map(|pair| pair.strip_prefix("lang="));
    Lang::from_code(asked.or_else(|| cookie(&parts.headers, LANG_COOKIE)))
}

/// Anyone: the client's address and language.
pub struct Visitor {
    pub client: IpAddr,
    pub lang: Lang,
}

impl FromRequestParts<Shared> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &Shared) -> Result<Self, Self::Rejection> {
        Ok(Visitor {
            client: client(parts),
            lang: lang(parts),
        })
    }
}

/// A signed-in console user.
pub struct User {
    pub name: String,
    pub role: Role,
    /// The session's CSRF token, for the forms of the page.
    pub csrf: String,
    pub client: IpAddr,
    pub lang: Lang,
    /// Whether the request is for the JSON API.
    pub api: bool,
}

impl User {
    /// Refuses unless the user's role includes `needed`.
    pub fn require(&self, needed: Role) -> Result<(), Failure> {
        if self.role.allows(needed) {
            Ok(())
        } else {
            Err(Failure::Forbidden(format!(
                "this needs the {} role; {} has {}",
                needed.as_str(),
                self.name,
                self.role.as_str()
            )))
        }
    }

    /// Refuses a state-changing request without this session's token.
    pub fn check_csrf(&self, given: Option<&str>) -> Result<(), Failure> {
        match given {
            Some(given) if csrf_matches(&self.csrf, given) => Ok(()),
            _ => Err(Failure::Forbidden(
                "missing or wrong CSRF token: reload the page and try again".into(),
            )),
        }
    }

    /// The failure answered the way this user asked (page or JSON).
    pub fn fail(&self, failure: Failure) -> Response {
        if self.api {
            failure.json()
        } else {
            failure.page(self.lang)
        }
    }
}

impl FromRequestParts<Shared> for User {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Shared,
    ) -> Result<Self, Self::Rejection> {
        let api = is_api(parts);
        let lang = lang(parts);
        // A user changed or removed with `mukaika user` is out at once.
        state.reload_users();
        let session = cookie(&parts.headers, SESSION_COOKIE)
            .filter(|id| id.len() <= 128)
            .and_then(|id| state.sessions.get(id, state.now()));
        let Some(session) = session else {
            return Err(if api {
                Failure::Unauthenticated.json()
            } else {
                Failure::Unauthenticated.page(lang).into_response()
            });
        };
        Ok(User {
            name: session.user,
            role: session.role,
            csrf: session.csrf,
            client: client(parts),
            lang,
            api,
        })
    }
}

/// The `Set-Cookie` value of a new session.
pub fn session_cookie(id: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict{secure}")
}

/// The `Set-Cookie` value that ends a session in the browser.
pub fn expired_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}")
}
