//! Security headers on every response, in one place (SPEC section 11): a
//! CSP with no inline script or style and no framing, `nosniff`, no
//! referrer, `no-store` (pages show participant data; the stylesheet and
//! script may be cached), HSTS when users reach us over https. Also the
//! cross-origin guard for every state-changing request: a POST whose
//! `Origin` is not ours, or that the browser marks cross-site, is refused
//! before any handler runs.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::app::Shared;
use super::pages;

pub const CSP: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub async fn security(State(app): State<Shared>, req: Request, next: Next) -> Response {
    let cacheable = req.uri().path().starts_with("/static/");
    let mut res = if req.method() == Method::POST && cross_origin(&app, &req) {
        pages::forbidden_cross_origin().into_response()
    } else {
        next.run(req).await
    };
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if cacheable {
            "public, max-age=3600"
        } else {
            "no-store"
        }),
    );
    if app.secure {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    res
}

/// A POST from another site: the browser says so (`Sec-Fetch-Site`), or
/// its `Origin` is not the public URL's (or, without one, this `Host`).
fn cross_origin(app: &Shared, req: &Request) -> bool {
    let h = req.headers();
    if h.get("sec-fetch-site")
        .is_some_and(|v| matches!(v.as_bytes(), b"cross-site" | b"same-site"))
    {
        return true;
    }
    // With `Referrer-Policy: no-referrer` browsers send `Origin: null` on
    // their own forms' POSTs, so "null" says nothing; without an Origin
    // (not a browser, or an old one) the CSRF token decides alone.
    let origin = match h.get(header::ORIGIN) {
        Some(o) if o.as_bytes() != b"null" => o,
        _ => return false,
    };
    let origin = origin.to_str().unwrap_or("");
    match &app.origin {
        Some(ours) => !origin.eq_ignore_ascii_case(ours),
        None => {
            let host = h
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let bare = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"));
            bare != Some(host) || host.is_empty()
        }
    }
}
