//! The console's parsers of untrusted HTTP input, in one entry point for
//! the fuzz target `console_input` (crates/sanitize/fuzz): request links,
//! the list's query string, the forms and the cookie header. Each must
//! answer anything with a value or an error, never a panic or a hang.

use mukaika_access::Secret;

/// Runs `data` through every parser the console applies to what a client
/// sends, as a link token, a query string, a form body and a cookie.
pub fn untrusted(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    // The recipient's link, and its check against a key.
    if let Some(link) = crate::token::parse(&text) {
        let secret = Secret::from_bytes([7; 32]);
        let recipients = ["a@lgwan.example.jp".to_owned()];
        let _ = link.valid(&secret, &recipients, 0);
        let _ = link.form_valid(&secret, &text, 0);
    }
    // The list's search form, into a quarantine filter.
    if let Ok(query) = serde_urlencoded::from_bytes::<crate::pages::quarantine::ListQuery>(data) {
        let _ = query.filter(crate::pages::quarantine::PAGE_SIZE);
    }
    // The forms.
    let _ = serde_urlencoded::from_bytes::<crate::pages::quarantine::ActForm>(data);
    let _ = serde_urlencoded::from_bytes::<crate::pages::request::RequestForm>(data);
    let _ = serde_json::from_slice::<crate::api::Act>(data);
    // A cookie header.
    if let Ok(value) = axum::http::HeaderValue::from_bytes(data) {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(axum::http::header::COOKIE, value);
        let _ = crate::http::cookie(&headers, crate::http::session::SESSION_COOKIE);
    }
}
