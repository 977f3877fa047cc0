//! The analysts' web interface: server-rendered pages (askama templates in
//! `templates/`, escaped by default) with a stylesheet and one small script
//! (`static/`), over the same services as the JSON API. Pages read the
//! session cookie only; every form carries a CSRF token bound to a cookie
//! (on top of the Fetch-metadata check every route has).
mod ads;
mod ads_filing;
mod alerts;
mod chart;
pub mod compose;
mod insight;
mod results;
mod session;
mod typing;

use crate::accounts::service::{self as accounts, Principal};
use crate::alerts::domain::hmac;
use crate::core::auth::{cookie_value, session_cookie, session_set_cookie};
use crate::core::error::{ApiError, FieldError};
use crate::core::state::AppState;
use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

pub const CSRF_COOKIE: &str = "vigil_csrf";

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route("/tokens", get(session::tokens).post(session::create_token))
        .route("/tokens/{id}/revoke", post(session::revoke_token))
        .route("/feed", get(alerts::feed))
        .route("/feed/items", get(alerts::feed_items))
        .route("/reports/{id}", get(alerts::report))
        .route("/reports/{id}/receipts", get(alerts::receipts))
        .route("/alerts/new", get(alerts::compose).post(alerts::create))
        .route("/alerts/{id}/edit", get(alerts::edit).post(alerts::save))
        .route("/alerts/{id}/revoke", post(alerts::revoke))
        .route("/alerts/{id}/acknowledge", post(alerts::acknowledge))
        .route("/alerts/{id}/opinion", post(alerts::opinion))
        .route(
            "/alerts/{id}/release",
            get(alerts::release_page).post(alerts::release),
        )
        .route("/ads", get(ads::search))
        .route("/ads/filing", get(ads_filing::filing))
        .route(
            "/ads/new",
            get(ads_filing::new_form).post(ads_filing::create),
        )
        .route("/ads/notices", get(ads_filing::notices))
        .route("/ads/notices/{tracking}/decide", post(ads_filing::decide))
        .route("/ads/sponsors", get(ads::sponsor))
        .route("/ads/{id}/manage", get(ads_filing::manage))
        .route("/ads/{id}/correct", post(ads_filing::correct))
        .route("/ads/{id}/withdraw", post(ads_filing::withdraw))
        .route("/ads/{id}/remove", post(ads_filing::remove))
        .route("/ads/{id}", get(ads::detail))
        .route("/ads/{id}/notices", post(ads::submit_notice))
        .route("/notices/{tracking}", get(ads::notice_status))
        .route("/ads/elections/{id}", get(ads::election))
        .route("/results", get(results::index))
        .route("/results/{id}", get(results::election))
        .route("/results/{id}/districts/{district}", get(results::district))
        .route("/typing", get(typing::index))
        .route("/typing/{election}", get(typing::election))
        .route(
            "/typing/{election}/{station}",
            get(typing::station).post(typing::act),
        )
        .route("/search", get(insight::search))
        .route("/dashboard", get(insight::dashboard))
        .route("/static/vigil.css", get(stylesheet))
        .route("/static/vigil.js", get(script))
        .layer(axum::middleware::from_fn_with_state(
            state,
            ensure_csrf_cookie,
        ))
}

// ---------- the frame every page shares ----------

/// What the layout shows around every page.
pub struct Chrome {
    pub title: String,
    /// `Name (Organisation)` when signed in.
    pub user: Option<(String, String)>,
    pub csrf: String,
    /// The navigation entry of this page.
    pub nav: &'static str,
    /// A fixed confirmation message chosen by `?done=`.
    pub flash: Option<&'static str>,
    /// The main navigation: (key, path, label), by the user's roles.
    pub links: Vec<(&'static str, &'static str, &'static str)>,
}

/// The sections a user's roles open: the ad repository's pages for filers
/// and regulators, the Rapid Alert System for the other roles, the typing
/// screens for typists and coordinators.
fn nav_links(principal: &Principal) -> Vec<(&'static str, &'static str, &'static str)> {
    use crate::accounts::domain::Role;
    let results_staff = principal.has_role(&Role::TYPIST) || principal.has_role(&Role::COORDINATOR);
    let alerts_user = principal.user.roles.iter().any(|r| {
        ![
            Role::TYPIST,
            Role::COORDINATOR,
            Role::FILER,
            Role::REGULATOR,
        ]
        .contains(r)
    });
    let mut links = Vec::new();
    if principal.has_role(&Role::FILER) {
        links.push(("filing", "/ads/filing", "Your ads"));
    }
    if principal.has_role(&Role::FILER) || principal.has_role(&Role::REGULATOR) {
        links.push(("notices", "/ads/notices", "Notices"));
        links.push(("ads", "/ads", "Political ads"));
    }
    if alerts_user {
        links.extend([
            ("feed", "/feed", "Live feed"),
            ("compose", "/alerts/new", "Compose"),
            ("search", "/search", "Search"),
            ("dashboard", "/dashboard", "Dashboard"),
        ]);
    }
    if results_staff {
        links.push(("typing", "/typing", "Typing results"));
        links.push(("results", "/results", "Published results"));
    }
    links.push(("tokens", "/tokens", "API tokens"));
    links
}

/// Where a user lands after signing in.
pub fn home_path(principal: &Principal) -> &'static str {
    nav_links(principal).first().map_or("/tokens", |l| l.1)
}

impl Chrome {
    pub fn new(title: impl Into<String>, csrf: &FormToken, nav: &'static str) -> Chrome {
        Chrome {
            title: title.into(),
            user: None,
            csrf: csrf.0.clone(),
            nav,
            flash: None,
            links: Vec::new(),
        }
    }

    pub fn for_user(
        title: impl Into<String>,
        analyst: &Analyst,
        nav: &'static str,
        done: Option<&str>,
    ) -> Chrome {
        let user = &analyst.principal.user;
        let name = user
            .display_name
            .clone()
            .unwrap_or_else(|| user.username.as_str().to_string());
        Chrome {
            title: title.into(),
            user: Some((name, analyst.principal.organisation.name.clone())),
            csrf: analyst.csrf.0.clone(),
            nav,
            flash: done.and_then(flash_message),
            links: nav_links(&analyst.principal),
        }
    }
}

/// Confirmations after a redirect; only these fixed texts are ever shown.
fn flash_message(done: &str) -> Option<&'static str> {
    Some(match done {
        "draft" => "Draft saved.",
        "published" => "Published: everyone it is shared with can see it now.",
        "updated" => "Update published.",
        "revoked" => "Revoked: readers see it marked as revoked.",
        "acknowledged" => "Acknowledged.",
        "opinion" => "Your organisation's opinion is recorded.",
        "released" => "Released: the sanitised version is shared with the target community.",
        "token-revoked" => "Token revoked.",
        "form-released" => "The form is given back; anyone may take it.",
        "entry-first" => "First entry saved: another typist now types the form again.",
        "entry-definitive" => "Both entries agree: the result is definitive.",
        "entry-different" => "The two entries differ: a coordinator compares them.",
        "entry-errors" => "The form does not add up: a coordinator checks it.",
        "decided" => "Decision recorded.",
        "ad-filed" => "Filed: the ad and its transparency notice are public now.",
        "ad-corrected" => "Correction saved as a new version of the ad.",
        "ad-withdrawn" => "Withdrawn: the ad stays public, marked as withdrawn.",
        "ad-removed" => "Removed: the ad stays public, marked as removed, with the reason.",
        "notice-decided" => "Recorded: the notifier sees it by tracking number.",
        _ => return None,
    })
}

/// The CSS class of a TLP badge (templates call it by path).
pub fn tlp_class(tlp: &vigil_stix::Tlp) -> &'static str {
    use vigil_stix::Tlp;
    match tlp {
        Tlp::Clear => "tlp-clear",
        Tlp::Green => "tlp-green",
        Tlp::Amber => "tlp-amber",
        Tlp::AmberStrict => "tlp-amber-strict",
        Tlp::Red => "tlp-red",
    }
}

/// Renders a template, or a plain error if rendering fails.
pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering a page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// A form shown again with its faults (422 Unprocessable Content).
pub fn render_again(template: &impl Template) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, render(template)).into_response()
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    status: u16,
    message: String,
}

/// A failure shown as a page: sign-in for the unauthenticated, otherwise
/// the status with the service's message (never an internal cause).
pub struct WebError(pub ApiError);

impl From<ApiError> for WebError {
    fn from(e: ApiError) -> WebError {
        WebError(e)
    }
}

impl From<sqlx::Error> for WebError {
    fn from(e: sqlx::Error) -> WebError {
        WebError(e.into())
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, _) = self.0.status_and_code();
        if status == StatusCode::UNAUTHORIZED {
            return Redirect::to("/login").into_response();
        }
        if let ApiError::Internal(cause) = &self.0 {
            tracing::error!(error = format!("{cause:#}"), "a page failed");
        }
        let page = ErrorPage {
            chrome: Chrome {
                title: status.canonical_reason().unwrap_or("Error").into(),
                user: None,
                csrf: String::new(),
                nav: "",
                flash: None,
                links: Vec::new(),
            },
            status: status.as_u16(),
            message: self.0.to_string(),
        };
        (status, render(&page)).into_response()
    }
}

pub type PageResult = Result<Response, WebError>;

/// The first message of each field, for forms shown again.
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn of(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

// ---------- CSRF ----------

/// The CSRF token forms carry: an HMAC of the browser's CSRF cookie, so a
/// page of another site can neither read nor forge it.
#[derive(Clone)]
pub struct FormToken(pub String);

/// The CSRF cookie value this request carries or was just given.
#[derive(Clone)]
struct CsrfCookie(String);

fn token_for(state: &AppState, cookie: &str) -> String {
    hex::encode(hmac(
        &state.ledger.derive_secret("web form token"),
        cookie.as_bytes(),
    ))
}

/// Gives a browser without a CSRF cookie a new one (HttpOnly, SameSite=Strict).
async fn ensure_csrf_cookie(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let existing = cookie_value(request.headers(), CSRF_COOKIE)
        .filter(|v| v.len() == 64 && v.chars().all(|c| c.is_ascii_hexdigit()));
    let (value, fresh) = match existing {
        Some(value) => (value, false),
        None => match crate::core::secrets::random_bytes::<32>() {
            Ok(bytes) => (hex::encode(bytes), true),
            Err(e) => return WebError(ApiError::Internal(e)).into_response(),
        },
    };
    request.extensions_mut().insert(CsrfCookie(value.clone()));
    let mut response = next.run(request).await;
    if fresh {
        let secure = if state.secure_cookies { "; Secure" } else { "" };
        if let Ok(header) = HeaderValue::from_str(&format!(
            "{CSRF_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict{secure}"
        )) {
            response.headers_mut().append(header::SET_COOKIE, header);
        }
    }
    response
}

impl FromRequestParts<AppState> for FormToken {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let cookie = parts
            .extensions
            .get::<CsrfCookie>()
            .map(|c| c.0.clone())
            .ok_or_else(|| WebError(ApiError::Internal(anyhow::anyhow!("no CSRF cookie"))))?;
        Ok(FormToken(token_for(state, &cookie)))
    }
}

/// Refuses a form whose token does not match the browser's CSRF cookie.
pub fn check_csrf(expected: &FormToken, sent: &str) -> Result<(), WebError> {
    let (a, b) = (expected.0.as_bytes(), sent.as_bytes());
    let same = a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0;
    if same {
        Ok(())
    } else {
        Err(WebError(ApiError::Forbidden(
            "this form has expired or did not come from Vigil; reload the page and try again"
                .into(),
        )))
    }
}

// ---------- who is asking ----------

/// A signed-in user of the web interface (session cookie only), with the
/// CSRF token for the forms of the page.
pub struct Analyst {
    pub principal: Principal,
    pub csrf: FormToken,
}

impl FromRequestParts<AppState> for Analyst {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let to_login = || {
            let next = parts
                .uri
                .path_and_query()
                .map_or("/feed", |p| p.as_str())
                .to_string();
            Redirect::to(&format!("/login?next={}", url_encode(&next))).into_response()
        };
        let Some(secret) = session_cookie(&parts.headers) else {
            return Err(to_login());
        };
        let principal = match accounts::authenticate(
            &state.db,
            accounts::Credentials::Session(secret),
            crate::core::auth::client_ip(parts),
        )
        .await
        {
            Ok(principal) => principal,
            Err(accounts::AuthError::Internal(e)) => return Err(WebError(e).into_response()),
            Err(_) => return Err(to_login()),
        };
        let csrf = FormToken::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Analyst { principal, csrf })
    }
}

/// Percent-encodes a query value.
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// A local path to return to after signing in (never another site).
pub fn local_path(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        // The home page sends each user to their own section.
        "/"
    }
}

pub fn set_cookie(response: &mut Response, value: HeaderValue) {
    response.headers_mut().append(header::SET_COOKIE, value);
}

// ---------- static files ----------

async fn stylesheet() -> Response {
    static_file(
        include_str!("../../static/vigil.css"),
        "text/css; charset=utf-8",
    )
}

async fn script() -> Response {
    static_file(
        include_str!("../../static/vigil.js"),
        "text/javascript; charset=utf-8",
    )
}

fn static_file(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// The landing page for visitors; signed-in users go to their feed.
pub async fn home(State(state): State<AppState>, headers: axum::http::HeaderMap) -> PageResult {
    if let Some(secret) = session_cookie(&headers)
        && let Ok(principal) =
            accounts::authenticate(&state.db, accounts::Credentials::Session(secret), None).await
    {
        return Ok(Redirect::to(home_path(&principal)).into_response());
    }
    let size = state.ledger.size().await.map_err(ApiError::from)?;
    Ok(Html(crate::pages::home(
        state.ledger.origin(),
        &state.ledger.verifier_key(),
        size,
    ))
    .into_response())
}
