//! The headers every answer carries: no script but our own file, no
//! framing, no referrer, no caching of pages that show mail.

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// No inline script or style, nothing from elsewhere: the zone has no
/// Internet, and a subject that slipped past escaping still cannot run.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the security headers, and refuses a state-changing request that
/// says it comes from another site (defence in depth beside the CSRF
/// token and `SameSite=Strict`).
pub async fn secure(request: Request, next: Next) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let cross_site = request
            .headers()
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|site| site == "cross-site");
        if cross_site {
            return (StatusCode::FORBIDDEN, "cross-site request refused").into_response();
        }
    }
    let is_static = request.uri().path().starts_with("/static/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(headers, header::CONTENT_SECURITY_POLICY, CSP);
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(
        headers,
        "cross-origin-opener-policy".parse().expect("a header name"),
        "same-origin",
    );
    if !is_static {
        set(headers, header::CACHE_CONTROL, "no-store");
    }
    response
}
