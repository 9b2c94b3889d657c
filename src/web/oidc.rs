//! Sign-in with e-legitimation through the förbund's OpenID Connect broker
//! (BankID, Freja eID+, SITHS through Signicat, Idura, the region's IdP):
//! `GET /login/oidc` and `GET /enrol/TOKEN/oidc` start it, the provider
//! sends the browser back to `GET /login/oidc/callback`.
//!
//! The protocol is the `openidconnect` crate's: discovery and the provider's
//! keys from the issuer, the authorization code flow with PKCE (S256), a
//! `state` and a `nonce` per attempt, and the ID token checked for its
//! signature (RS256, PS256 or ES256; never `none` or a MAC), `iss`, `aud`
//! (no audience but ours), `exp` and `nonce`, and its `at_hash` when
//! present. (`iat` and `azp` are not checked by the crate; the token comes
//! straight from the provider's token endpoint, which we called with our
//! client secret.) What an attempt needs to finish (nonce, PKCE
//! verifier, the enrolment link it came from) stays in server memory under
//! its `state`, bound to the browser by a cookie of its own and usable
//! once, for ten minutes. The rules (binding, confirmation, disabled
//! accounts, required `acr`) are in `accounts::eid`.
//!
//! Every call to the provider has a time limit, so a provider that is down
//! or hangs gives a page that says so, not a browser that waits.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AccessTokenHash, AuthenticationContextClass, AuthorizationCode, ClientId, ClientSecret,
    CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, TokenResponse,
};
use serde::Deserialize;

use crate::accounts::eid::{self, Asserted, Refusal};

/// What a validated ID token asserts, before its subject is hashed. Not
/// `Debug`: `sub` may be a personnummer.
struct Claims {
    issuer: String,
    subject: String,
    name: Option<String>,
    acr: Option<String>,
}
use crate::accounts::{self};
use crate::codes::Lang;
use crate::error::{Error, Result};
use crate::store;

use super::app::Shared;
use super::pages::{self, render, Frame};
use super::session::{self, Visitor};

/// The cookie that ties an attempt to the browser that started it.
pub const COOKIE: &str = "sustrack_oidc";
/// The attempt is over whatever happened: its cookie goes.
const CLEAR_COOKIE: &str = "sustrack_oidc=; Path=/login/oidc; HttpOnly; SameSite=Lax; Max-Age=0";
/// How far the provider's clock may be behind ours when it says when the
/// user authenticated.
const CLOCK_SKEW_SECONDS: i64 = 120;
/// How long an attempt may take at the provider.
const ATTEMPT_MINUTES: u64 = 10;
/// Attempts in flight at most (each a few hundred bytes, so about 15 MB
/// when full). Beyond it the oldest is forgotten, at a constant cost per
/// start: a flood of starts can neither grow memory nor hold the lock.
const MAX_ATTEMPTS: usize = 50_000;
/// After the provider failed to answer, how long later sign-ins are told
/// so at once instead of each waiting for its own time-out.
const DOWN_SECONDS: u64 = 15;
/// How long the provider's metadata and keys are used before fetching
/// them again (a provider rotates its keys with overlap).
const METADATA_MINUTES: u64 = 10;

/// `serve --oidc-*`: the förbund's broker.
#[derive(Clone)]
pub struct OidcOptions {
    /// The issuer URL (discovery at `ISSUER/.well-known/openid-configuration`).
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Extra authorization parameters, e.g. `acr_values=...` or `ui_locales=sv`.
    pub extra_params: Vec<(String, String)>,
    /// Accepted authentication contexts; empty accepts any.
    pub acr: Vec<String>,
    /// Time limit for each call to the provider.
    pub timeout: Duration,
}

/// Never the client secret, wherever options are printed.
impl std::fmt::Debug for OidcOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcOptions")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"(hidden)")
            .field("extra_params", &self.extra_params)
            .field("acr", &self.acr)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl OidcOptions {
    /// Parse `--oidc-extra-params "a=1&b=2"` (form encoding).
    pub fn parse_extra(s: &str) -> Result<Vec<(String, String)>> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(s).map_err(|e| {
            Error::usage(format!(
                "--oidc-extra-params: {e}: expected name=value pairs joined by &, e.g. acr_values=http://id.elegnamnden.se/loa/1.0/loa3"
            ))
        })?;
        const OURS: [&str; 8] = [
            "client_id",
            "redirect_uri",
            "response_type",
            "scope",
            "state",
            "nonce",
            "code_challenge",
            "code_challenge_method",
        ];
        if let Some((k, _)) = pairs.iter().find(|(k, _)| OURS.contains(&k.as_str())) {
            return Err(Error::usage(format!(
                "--oidc-extra-params: '{k}' is set by sustrack itself; extra parameters are for the broker's own, e.g. acr_values or ui_locales"
            )));
        }
        Ok(pairs)
    }

    /// The authentication contexts a sign-in must have: `--oidc-acr`, or
    /// else the `acr_values` given in the extra parameters (asked for is
    /// enforced: a user could edit the request). Empty accepts any.
    pub fn accepted_acr(&self) -> Vec<String> {
        if !self.acr.is_empty() {
            return self.acr.clone();
        }
        self.extra_params
            .iter()
            .filter(|(k, _)| k == "acr_values")
            .flat_map(|(_, v)| v.split_whitespace().map(str::to_string))
            .collect()
    }

    pub fn validate(&self) -> Result<()> {
        let url = IssuerUrl::new(self.issuer.clone()).map_err(|e| {
            Error::usage(format!(
                "--oidc-issuer '{}' is not a URL ({e}): expected https://broker.example.se/...",
                crate::model::shown_text(&self.issuer)
            ))
        })?;
        let u = url.url();
        let loopback = matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        if u.scheme() != "https" && !(u.scheme() == "http" && loopback) {
            return Err(Error::usage(format!(
                "--oidc-issuer '{}' must be https (plain http only to a provider on this machine)",
                crate::model::shown_text(&self.issuer)
            )));
        }
        if self.client_id.trim().is_empty() {
            return Err(Error::usage("--oidc-client-id is empty".into()));
        }
        if self.client_secret.trim().is_empty() {
            return Err(Error::usage(
                "--oidc-client-secret-file holds no secret: the first line is the client secret the broker gave"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// An attempt between the start and the callback.
struct Attempt {
    /// BLAKE2b of the browser's `sustrack_oidc` cookie.
    browser: [u8; 32],
    nonce: Nonce,
    pkce: PkceCodeVerifier,
    /// The enrolment link the attempt binds an e-ID to.
    enrol: Option<String>,
    /// A form parked when its session ended, to go back to afterwards.
    resume: Option<String>,
    /// When it started, by the server's clock.
    started: DateTime<Utc>,
    /// We asked for a fresh authentication: the ID token's `auth_time`
    /// must be after `started` (a user can strip `prompt=login` from the
    /// request, and a shared computer may hold the last user's session at
    /// the broker).
    fresh: bool,
}

/// The broker as the server uses it.
pub struct Oidc {
    opts: OidcOptions,
    redirect: RedirectUrl,
    http: openidconnect::reqwest::Client,
    metadata: tokio::sync::Mutex<Metadata>,
    attempts: Mutex<Attempts>,
    /// The server's clock (tests move it).
    clock: super::app::Clock,
}

/// Attempts by `state`, and their states in the order they started, so
/// that forgetting the expired or the oldest costs the same however many
/// there are.
#[derive(Default)]
struct Attempts {
    by_state: HashMap<String, Attempt>,
    order: std::collections::VecDeque<(DateTime<Utc>, String)>,
}

/// The provider's metadata and keys as last fetched, and the last failure.
#[derive(Default)]
struct Metadata {
    found: Option<(CoreProviderMetadata, DateTime<Utc>)>,
    failed: Option<(DateTime<Utc>, String)>,
}

/// Why a call to the provider failed, as the page tells it.
enum Failure {
    /// Unreachable, timed out, or answered something that is not OpenID.
    Down(String),
    /// The provider's answer did not pass the checks.
    Invalid(String),
}

impl Oidc {
    /// `base` is the public URL (or `http://ADDR` the server listens on):
    /// the redirect URI the förbund registers with its broker is
    /// `BASE/login/oidc/callback`.
    pub fn new(opts: OidcOptions, base: &str, clock: super::app::Clock) -> Result<Oidc> {
        opts.validate()?;
        let redirect = RedirectUrl::new(format!(
            "{}/login/oidc/callback",
            base.trim_end_matches('/')
        ))
        .map_err(|e| Error::usage(format!("cannot make the e-ID redirect URI: {e}")))?;
        let http = openidconnect::reqwest::ClientBuilder::new()
            // Following redirects would let a provider's answer send us
            // anywhere (SSRF); the protocol needs none.
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .connect_timeout(opts.timeout)
            .timeout(opts.timeout)
            .build()
            .map_err(|e| Error::usage(format!("cannot make the e-ID HTTP client: {e}")))?;
        Ok(Oidc {
            opts,
            redirect,
            http,
            metadata: tokio::sync::Mutex::new(Metadata::default()),
            clock,
            attempts: Mutex::new(Attempts::default()),
        })
    }

    pub fn redirect_uri(&self) -> &str {
        self.redirect.as_str()
    }

    /// The provider's metadata and keys, fetched again after ten minutes
    /// (or at once when `fresh`, after a token signed by a key we lack:
    /// the provider has rotated its keys). A provider that just failed (at
    /// discovery or at the token request) is not asked again for fifteen
    /// seconds: starts and callbacks are told at once.
    async fn metadata(&self, fresh: bool) -> std::result::Result<CoreProviderMetadata, Failure> {
        let mut cached = self.metadata.lock().await;
        if let Some((at, why)) = cached.failed.as_ref() {
            if self.clock.now() - *at < chrono::Duration::seconds(DOWN_SECONDS as i64) {
                return Err(Failure::Down(format!("{why} (a moment ago)")));
            }
        }
        // (Only the provider's own token answer asks for fresh keys, so a
        // browser cannot make us fetch them at will.)
        if let Some((m, at)) = cached.found.as_ref() {
            if !fresh && self.clock.now() - *at < chrono::Duration::minutes(METADATA_MINUTES as i64)
            {
                return Ok(m.clone());
            }
        }
        let issuer = IssuerUrl::new(self.opts.issuer.clone())
            .map_err(|e| Failure::Down(format!("issuer URL: {e}")))?;
        // The client's own limit covers each request; this one the whole
        // discovery (metadata, then keys).
        let found = tokio::time::timeout(
            self.opts.timeout * 2,
            CoreProviderMetadata::discover_async(issuer, &self.http),
        )
        .await
        .map_err(|_| "no answer in time".to_string())
        .and_then(|r| r.map_err(|e| error_chain(&e)));
        match found {
            Ok(m) => {
                cached.found = Some((m.clone(), self.clock.now()));
                cached.failed = None;
                Ok(m)
            }
            Err(why) => {
                cached.failed = Some((self.clock.now(), why.clone()));
                Err(Failure::Down(why))
            }
        }
    }

    /// The provider failed to answer outside discovery (the token
    /// request): later sign-ins are told at once for a while, too.
    async fn note_down(&self, why: &str) {
        self.metadata.lock().await.failed = Some((self.clock.now(), why.to_string()));
    }

    /// Remember an attempt (forgetting expired ones, and the oldest when
    /// full).
    fn remember(&self, state: String, attempt: Attempt, now: DateTime<Utc>) {
        let Ok(mut a) = self.attempts.lock() else {
            return;
        };
        while let Some((started, _)) = a.order.front() {
            if !expired(*started, now) && a.order.len() < MAX_ATTEMPTS {
                break;
            }
            if let Some((_, old)) = a.order.pop_front() {
                a.by_state.remove(&old);
            }
        }
        a.order.push_back((attempt.started, state.clone()));
        a.by_state.insert(state, attempt);
    }

    /// Take an attempt back, once, if it is this browser's and not too old
    /// (another browser's try leaves it in place).
    fn take(
        &self,
        state: &str,
        browser_cookie: Option<&str>,
        now: DateTime<Utc>,
    ) -> Option<Attempt> {
        let mut a = self.attempts.lock().ok()?;
        let attempt = a.by_state.get(state)?;
        let same_browser =
            browser_cookie.is_some_and(|c| accounts::same_digest(&attempt.browser, c));
        if !same_browser {
            return None;
        }
        let attempt = a.by_state.remove(state)?;
        (!expired(attempt.started, now)).then_some(attempt)
    }
}

/// Is an attempt that started then too old to finish now?
fn expired(started: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - started >= chrono::Duration::minutes(ATTEMPT_MINUTES as i64)
}

/// An error and its causes on one line (reqwest puts the reason in them).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    crate::model::shown_text(&s)
}

// ---- Pages ----

#[derive(Template)]
#[template(path = "eid.html")]
struct EidPage {
    frame: Frame,
    heading: &'static str,
    lines: Vec<String>,
    /// Offer to try again (`/login/oidc`) or go to the sign-in page.
    again: bool,
}

#[derive(Template)]
#[template(path = "eid_continue.html")]
struct ContinuePage {
    frame: Frame,
    heading: &'static str,
    next: String,
}

fn page(
    lang: Lang,
    status: StatusCode,
    heading: (&'static str, &'static str),
    lines: Vec<String>,
    again: bool,
) -> Response {
    let heading = lang.pick(heading.0, heading.1);
    let frame = Frame::visitor(lang, heading, String::new(), false, "/login");
    let mut res = render(
        status,
        &EidPage {
            frame,
            heading,
            lines,
            again,
        },
    );
    // The attempt is over whatever happened.
    res.headers_mut().append(
        header::SET_COOKIE,
        axum::http::HeaderValue::from_static(CLEAR_COOKIE),
    );
    res
}

fn provider_down(lang: Lang, why: &str) -> Response {
    eprintln!("sustrack serve: e-ID provider: {why}");
    page(
        lang,
        StatusCode::BAD_GATEWAY,
        ("E-legitimationen går inte att nå just nu", "The e-ID service cannot be reached just now"),
        vec![lang
            .pick(
                "Tjänsten som sköter inloggning med e-legitimation svarar inte. Försök igen om en stund. Om det inte går, kontakta förbundets administratör.",
                "The service that handles e-ID sign-in does not answer. Try again in a while. If it still fails, contact the förbund's administrator.",
            )
            .to_string()],
        true,
    )
}

fn not_verified(lang: Lang) -> Response {
    page(
        lang,
        StatusCode::FORBIDDEN,
        ("Inloggningen kunde inte godkännas", "The sign-in could not be accepted"),
        vec![lang
            .pick(
                "Svaret från e-legitimationen gick inte att kontrollera, så ingen inloggning gjordes. Börja om från inloggningssidan.",
                "The answer from the e-ID service could not be verified, so nobody was signed in. Start again from the sign-in page.",
            )
            .to_string()],
        true,
    )
}

fn attempt_unknown(lang: Lang) -> Response {
    page(
        lang,
        StatusCode::BAD_REQUEST,
        ("Inloggningen kunde inte slutföras", "The sign-in could not be completed"),
        vec![lang
            .pick(
                "Inloggningen har redan använts, tog mer än tio minuter eller påbörjades i en annan webbläsare. Börja om från inloggningssidan.",
                "This sign-in was used already, took more than ten minutes, or was started in another browser. Start again from the sign-in page.",
            )
            .to_string()],
        true,
    )
}

fn refused(lang: Lang, r: Refusal) -> Response {
    let line = match r {
        Refusal::Unknown => lang.pick(
            "Din e-legitimation är inte kopplad till något konto här. Be förbundets administratör om en inloggningslänk och öppna den innan du loggar in första gången.",
            "Your e-ID is not linked to an account here. Ask the förbund's administrator for an enrolment link and open it before your first sign-in.",
        ),
        Refusal::Pending => lang.pick(
            "Din e-legitimation väntar på att en administratör bekräftar kopplingen till ditt konto. Försök igen när du har fått besked.",
            "Your e-ID is waiting for an administrator to confirm the link to your account. Try again when you have been told it is done.",
        ),
        Refusal::Disabled => lang.pick(
            "Kontot är avstängt. Kontakta förbundets administratör.",
            "The account is disabled. Contact the förbund's administrator.",
        ),
        Refusal::Acr => lang.pick(
            "E-legitimationen du använde har inte den tillitsnivå som förbundet kräver. Logga in med en annan e-legitimation (till exempel BankID eller Freja eID+).",
            "The e-ID you used does not have the level of assurance the förbund requires. Sign in with another e-ID (for example BankID or Freja eID+).",
        ),
    };
    page(
        lang,
        StatusCode::FORBIDDEN,
        (
            "Du kan inte logga in med den här e-legitimationen",
            "You cannot sign in with this e-ID",
        ),
        vec![line.to_string()],
        false,
    )
}

// ---- Handlers ----

/// `GET /login/oidc`: start a sign-in.
pub async fn start(State(app): State<Shared>, v: Visitor, headers: HeaderMap) -> Response {
    // The parked form's cookie is SameSite=Strict, so it is read here,
    // before the provider; it would not come back with the callback.
    let resume = super::resume::waiting_path(&app, &headers);
    begin(&app, v.lang, None, resume).await
}

/// `GET /enrol/TOKEN/oidc`: start the sign-in that binds an e-ID to the
/// account behind an enrolment link.
pub async fn enrol_start(
    State(app): State<Shared>,
    v: Visitor,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    if !super::auth::token_shape(&token) {
        return pages::not_found_page(v.lang);
    }
    // Only from the enrolment page itself (or a link the user opened
    // directly): a link on another site must not send a colleague, already
    // signed in at the broker, to bind their e-ID to a link someone else
    // holds. They get the page, which says which account it is for.
    let site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none");
    if !matches!(site, "same-origin" | "none") {
        return Redirect::to(&format!("/enrol/{token}")).into_response();
    }
    let now = app.clock.now();
    let tk = token.clone();
    match app.db(move |conn| accounts::pending(conn, now, &tk)).await {
        Ok(_) => begin(&app, v.lang, Some(token), None).await,
        Err(Error::NotFound(_)) => pages::not_found_page(v.lang),
        Err(e) => pages::error(v.lang, &e),
    }
}

async fn begin(
    app: &Shared,
    lang: Lang,
    enrol: Option<String>,
    resume: Option<String>,
) -> Response {
    let Some(oidc) = app.oidc.as_ref() else {
        return pages::not_found_page(lang);
    };
    let metadata = match oidc.metadata(false).await {
        Ok(m) => m,
        Err(Failure::Down(why) | Failure::Invalid(why)) => return provider_down(lang, &why),
    };
    let client = client_of(oidc, metadata);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge);
    let given = |key: &str| oidc.opts.extra_params.iter().any(|(k, _)| k == key);
    if !given("ui_locales") {
        request = request.add_extra_param("ui_locales", lang.pick("sv", "en"));
    }
    if !given("acr_values") {
        for acr in &oidc.opts.acr {
            request = request.add_auth_context_value(AuthenticationContextClass::new(acr.clone()));
        }
    }
    // A fresh authentication every time (a shared computer at an agency:
    // the broker's own session must not sign the next person in), unless
    // the förbund's parameters say otherwise. `max_age` makes the provider
    // say when the user authenticated (`auth_time`), which is checked.
    let fresh = !given("prompt") && !given("max_age");
    if fresh {
        request = request
            .add_extra_param("prompt", "login")
            .add_extra_param("max_age", "0");
    }
    for (k, v) in &oidc.opts.extra_params {
        request = request.add_extra_param(k.clone(), v.clone());
    }
    let (url, state, nonce) = request.url();
    let cookie = accounts::new_random_secret();
    let attempt = Attempt {
        browser: accounts::digest_of(&cookie),
        nonce,
        pkce: verifier,
        enrol,
        resume,
        started: app.clock.now(),
        fresh,
    };
    oidc.remember(state.secret().clone(), attempt, app.clock.now());
    let mut res = Redirect::to(url.as_str()).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        axum::http::HeaderValue::from_str(&format!(
            "{COOKIE}={cookie}; Path=/login/oidc; HttpOnly; SameSite=Lax; Max-Age={}{}",
            ATTEMPT_MINUTES * 60,
            if app.secure { "; Secure" } else { "" }
        ))
        .expect("base64url"),
    );
    res
}

#[derive(Deserialize, Default)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    /// The issuer that answered (RFC 9207), when the provider says.
    iss: Option<String>,
}

/// `GET /login/oidc/callback`: the provider's answer.
pub async fn callback(
    State(app): State<Shared>,
    v: Visitor,
    headers: HeaderMap,
    Query(q): Query<Callback>,
) -> Response {
    let lang = v.lang;
    let Some(oidc) = app.oidc.as_ref() else {
        return pages::not_found_page(lang);
    };
    let attempt = q
        .state
        .as_deref()
        .and_then(|s| oidc.take(s, session::cookie(&headers, COOKIE), app.clock.now()));
    let Some(attempt) = attempt else {
        return attempt_unknown(lang);
    };
    // An answer that says it comes from another issuer is not ours to
    // take (a mix-up: the code would go to the wrong token endpoint).
    if q.iss.as_deref().is_some_and(|iss| iss != oidc.opts.issuer) {
        return not_verified(lang);
    }
    if let Some(err) = q.error.as_deref() {
        if err == "access_denied" {
            return page(
                lang,
                StatusCode::OK,
                ("Inloggningen avbröts", "The sign-in was cancelled"),
                vec![lang
                    .pick(
                        "Du avbröt inloggningen med e-legitimation. Ingen inloggning gjordes.",
                        "You cancelled the e-ID sign-in. Nobody was signed in.",
                    )
                    .to_string()],
                true,
            );
        }
        // Another refusal by the provider (login_required,
        // invalid_request, ...): its code, and nothing else it sent.
        let code: String = err
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        return page(
            lang,
            StatusCode::FORBIDDEN,
            (
                "Inloggningen kunde inte slutföras",
                "The sign-in could not be completed",
            ),
            vec![format!(
                "{} ({code})",
                lang.pick(
                    "E-legitimationstjänsten avbröt inloggningen. Försök igen; om det inte går, kontakta förbundets administratör och nämn koden",
                    "The e-ID service stopped the sign-in. Try again; if it still fails, contact the förbund's administrator and give the code"
                )
            )],
            true,
        );
    }
    let Some(code) = q.code else {
        return attempt_unknown(lang);
    };
    let since = attempt.fresh.then_some(attempt.started);
    let claims = match verify(&app, oidc, code, attempt.pkce, &attempt.nonce, since).await {
        Ok(c) => c,
        Err(Failure::Down(why)) => {
            oidc.note_down(&why).await;
            return provider_down(lang, &why);
        }
        Err(Failure::Invalid(why)) => {
            // Recorded: a token that fails its checks is worth an auditor's look.
            let detail = format!("e-ID; answer not accepted: {why}");
            let _ = app
                .db(move |conn| {
                    store::write(conn, |tx| {
                        crate::store::audit::record(
                            tx,
                            &accounts::visitor_actor("e-id"),
                            "sign-in refused",
                            None,
                            Some(&detail),
                        )
                    })
                })
                .await;
            return not_verified(lang);
        }
    };
    // The subject is hashed (argon2id, bounded like every hash) before it
    // goes anywhere else.
    let kdf = app.store.kdf().clone();
    let hashed = app
        .hash(move |_| {
            Ok(Asserted::new(
                &kdf,
                &claims.issuer,
                &claims.subject,
                claims.name,
                claims.acr,
            ))
        })
        .await;
    let asserted = match hashed {
        Ok(a) => a,
        Err(e) => return pages::error(lang, &e),
    };
    let accepted = oidc.opts.accepted_acr();
    let now = app.clock.now();
    if let Some(token) = attempt.enrol {
        let a = asserted.clone();
        let bound = app
            .db(move |conn| {
                store::write(conn, |tx| {
                    eid::request_binding(tx, now, &token, &a, &accepted)
                })
            })
            .await;
        let still = lang.pick("Länken fungerar fortfarande.", "The link still works.");
        return match bound {
            Ok(eid::Binding::Requested { login }) => page(
                lang,
                StatusCode::OK,
                ("Nästan klart", "Almost done"),
                vec![
                    match asserted.name.as_deref().map(crate::model::shown_text) {
                        Some(name) => format!(
                            "{} ({name}) {} {login}.",
                            lang.pick("Din e-legitimation", "Your e-ID"),
                            lang.pick("är nu kopplad till kontot", "is now linked to the account"),
                        ),
                        None => format!(
                            "{} {login}.",
                            lang.pick(
                                "Din e-legitimation är nu kopplad till kontot",
                                "Your e-ID is now linked to the account"
                            ),
                        ),
                    },
                    lang.pick(
                        "En administratör behöver bekräfta kopplingen innan du kan logga in. Därefter loggar du alltid in med e-legitimation.",
                        "An administrator needs to confirm the link before you can sign in. From then on you always sign in with your e-ID.",
                    )
                    .to_string(),
                ],
                false,
            ),
            Ok(eid::Binding::Refused(eid::BindRefusal::Acr)) => page(
                lang,
                StatusCode::FORBIDDEN,
                (
                    "Du kan inte koppla den här e-legitimationen",
                    "You cannot link this e-ID",
                ),
                vec![
                    lang.pick(
                        "E-legitimationen du använde har inte den tillitsnivå som förbundet kräver. Använd en annan e-legitimation (till exempel BankID eller Freja eID+).",
                        "The e-ID you used does not have the level of assurance the förbund requires. Use another e-ID (for example BankID or Freja eID+).",
                    )
                    .to_string(),
                    still.to_string(),
                ],
                false,
            ),
            Ok(eid::Binding::Refused(eid::BindRefusal::NoName)) => page(
                lang,
                StatusCode::FORBIDDEN,
                (
                    "E-legitimationen uppgav inget namn",
                    "The e-ID asserted no name",
                ),
                vec![
                    lang.pick(
                        "En administratör bekräftar kopplingen genom att se namnet från e-legitimationen, men inget namn kom med. Kontakta förbundets administratör.",
                        "An administrator confirms the link by the name from the e-ID, but no name came with it. Contact the förbund's administrator.",
                    )
                    .to_string(),
                    still.to_string(),
                ],
                false,
            ),
            Ok(eid::Binding::Refused(eid::BindRefusal::Taken)) => page(
                lang,
                StatusCode::CONFLICT,
                ("E-legitimationen är redan kopplad", "This e-ID is linked already"),
                vec![lang
                    .pick(
                        "Den här e-legitimationen är redan kopplad till ett annat konto. Kontakta förbundets administratör.",
                        "This e-ID is linked to another account already. Contact the förbund's administrator.",
                    )
                    .to_string()],
                false,
            ),
            // Used up or expired while the user was at the provider.
            Err(Error::NotFound(_)) => pages::not_found_page(lang),
            Err(e) => pages::error(lang, &e),
        };
    }
    let signed = app
        .db(move |conn| {
            store::write(conn, |tx| match eid::sign_in(tx, &asserted, &accepted)? {
                eid::SignIn::Accepted { user_id } => {
                    accounts::session_start(tx, now, user_id).map(Ok)
                }
                eid::SignIn::Refused(r) => Ok(Err(r)),
            })
        })
        .await;
    match signed {
        Ok(Ok(new)) => {
            let mut res = match &attempt.resume {
                // Back to the form through a page of ours: the parked form's
                // SameSite=Strict cookie is not sent on a redirect that
                // began at the provider, but is on a link followed from here.
                Some(path) => {
                    let heading = lang.pick("Du är inloggad", "You are signed in");
                    render(
                        StatusCode::OK,
                        &ContinuePage {
                            frame: Frame::visitor(lang, heading, String::new(), false, "/"),
                            heading,
                            next: path.clone(),
                        },
                    )
                }
                None => Redirect::to("/").into_response(),
            };
            session::start_session(&app, &mut res, &new.cookie);
            res.headers_mut().append(
                header::SET_COOKIE,
                axum::http::HeaderValue::from_static(CLEAR_COOKIE),
            );
            res
        }
        Ok(Err(r)) => refused(lang, r),
        Err(e) => pages::error(lang, &e),
    }
}

/// The client as discovered: authorization and token endpoints, keys.
type Client = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

fn client_of(oidc: &Oidc, metadata: CoreProviderMetadata) -> Client {
    CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(oidc.opts.client_id.clone()),
        Some(ClientSecret::new(oidc.opts.client_secret.clone())),
    )
    .set_redirect_uri(oidc.redirect.clone())
}

/// Exchange the code (with the PKCE verifier) and check the ID token.
async fn verify(
    app: &Shared,
    oidc: &Oidc,
    code: String,
    pkce: PkceCodeVerifier,
    nonce: &Nonce,
    since: Option<DateTime<Utc>>,
) -> std::result::Result<Claims, Failure> {
    let client = client_of(oidc, oidc.metadata(false).await?);
    let request = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| Failure::Down(format!("the provider has no token endpoint: {e}")))?
        .set_pkce_verifier(pkce);
    let tokens = tokio::time::timeout(oidc.opts.timeout * 2, request.request_async(&oidc.http))
        .await
        .map_err(|_| Failure::Down("no answer in time from the token endpoint".into()))?
        .map_err(|e| match &e {
            openidconnect::RequestTokenError::ServerResponse(r) => Failure::Invalid(format!(
                "token endpoint refused: {}",
                crate::model::shown_text(r.error().as_ref())
            )),
            openidconnect::RequestTokenError::Parse(..) => {
                Failure::Invalid(format!("token answer: {}", error_chain(&e)))
            }
            _ => Failure::Down(error_chain(&e)),
        })?;
    let first = check(&verifier_of(&client, &app.clock, since), &tokens, nonce);
    match first {
        Checked::Valid(a) => Ok(a),
        Checked::Invalid(why) => Err(Failure::Invalid(why)),
        // Signed by a key we do not have: the provider may have rotated
        // its keys since we fetched them. Fetch them again, once.
        Checked::UnknownKey => {
            let client = client_of(oidc, oidc.metadata(true).await?);
            let again = check(&verifier_of(&client, &app.clock, since), &tokens, nonce);
            match again {
                Checked::Valid(a) => Ok(a),
                Checked::Invalid(why) => Err(Failure::Invalid(why)),
                Checked::UnknownKey => Err(Failure::Invalid(
                    "signed by a key the provider does not publish".into(),
                )),
            }
        }
    }
}

/// The ID token's checks as the förbund's server runs them: its clock,
/// the algorithms brokers sign with (never `none`).
fn verifier_of<'a>(
    client: &'a Client,
    clock: &super::app::Clock,
    since: Option<DateTime<Utc>>,
) -> openidconnect::core::CoreIdTokenVerifier<'a> {
    let clock = clock.clone();
    // A fresh authentication was asked for: the user authenticated after
    // the attempt started (give or take the provider's clock).
    let fresh = move |auth_time: Option<DateTime<Utc>>| match (since, auth_time) {
        (None, _) => Ok(()),
        (Some(_), None) => Err("no auth_time, though a fresh authentication was asked for".into()),
        (Some(since), Some(at)) if at + chrono::Duration::seconds(CLOCK_SKEW_SECONDS) < since => {
            Err(format!(
                "authenticated at {at}, before this sign-in started: not a fresh authentication"
            ))
        }
        _ => Ok(()),
    };
    client
        .id_token_verifier()
        .set_allowed_algs([
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            CoreJwsSigningAlgorithm::RsaSsaPssSha256,
            CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        ])
        .set_time_fn(move || clock.now())
        .set_auth_time_verifier_fn(fresh)
}

enum Checked {
    Valid(Claims),
    UnknownKey,
    Invalid(String),
}

/// Check the ID token (signature, iss, aud, exp, nonce, at_hash) and read
/// what it asserts.
fn check(
    verifier: &openidconnect::core::CoreIdTokenVerifier<'_>,
    tokens: &openidconnect::core::CoreTokenResponse,
    nonce: &Nonce,
) -> Checked {
    use openidconnect::{ClaimsVerificationError, SignatureVerificationError};
    let Some(id_token) = tokens.id_token() else {
        return Checked::Invalid("no ID token in the answer".into());
    };
    let claims = match id_token.claims(verifier, nonce) {
        Ok(c) => c,
        Err(ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        )) => return Checked::UnknownKey,
        Err(e) => return Checked::Invalid(error_chain(&e)),
    };
    if let Some(expected) = claims.access_token_hash() {
        let actual = id_token
            .signing_alg()
            .map_err(|e| error_chain(&e))
            .and_then(|alg| {
                let key = id_token
                    .signing_key(verifier)
                    .map_err(|e| error_chain(&e))?;
                AccessTokenHash::from_token(tokens.access_token(), alg, key)
                    .map_err(|e| error_chain(&e))
            });
        match actual {
            Ok(actual) if actual == *expected => {}
            Ok(_) => return Checked::Invalid("at_hash does not match the access token".into()),
            Err(why) => return Checked::Invalid(why),
        }
    }
    let name = claims
        .name()
        .and_then(|n| n.get(None))
        .map(|n| n.to_string())
        .or_else(|| {
            let given = claims.given_name().and_then(|n| n.get(None));
            let family = claims.family_name().and_then(|n| n.get(None));
            match (given, family) {
                (Some(g), Some(f)) => Some(format!("{} {}", g.as_str(), f.as_str())),
                (Some(g), None) => Some(g.to_string()),
                (None, Some(f)) => Some(f.to_string()),
                (None, None) => None,
            }
        });
    Checked::Valid(Claims {
        issuer: claims.issuer().to_string(),
        subject: claims.subject().to_string(),
        name,
        acr: claims.auth_context_ref().map(|a| a.to_string()),
    })
}
