//! Request authentication: the `Principal` extractor reads a session cookie,
//! a bearer token or HTTP Basic credentials and resolves them to a user.
use crate::accounts::domain::Role;
use crate::accounts::service::{self, Credentials, Principal};
use crate::core::error::ApiError;
use crate::core::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::net::{IpAddr, SocketAddr};

pub const SESSION_COOKIE: &str = "vigil_session";

pub fn client_ip(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, `Secure` behind https.
pub fn cookie_header(
    name: &str,
    value: &str,
    max_age: u64,
    secure: bool,
) -> Result<axum::http::HeaderValue, ApiError> {
    let secure = if secure { "; Secure" } else { "" };
    axum::http::HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .map_err(|e| ApiError::Internal(e.into()))
}

/// The `Set-Cookie` value of a web session (empty value, age 0: sign-out).
pub fn session_set_cookie(
    state: &AppState,
    secret: &str,
    max_age: u64,
) -> Result<axum::http::HeaderValue, ApiError> {
    cookie_header(SESSION_COOKIE, secret, max_age, state.secure_cookies)
}

pub fn session_cookie(headers: &axum::http::HeaderMap) -> Option<String> {
    cookie_value(headers, SESSION_COOKIE)
}

/// The value of the cookie `name`.
pub fn cookie_value(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(cookie, _)| *cookie == name)
        .map(|(_, value)| value.to_string())
}

fn credentials(parts: &Parts) -> Result<Option<Credentials>, ApiError> {
    if let Some(value) = parts.headers.get(AUTHORIZATION) {
        let value = value.to_str().map_err(|_| {
            ApiError::Unauthorized("the Authorization header is not readable".into())
        })?;
        let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
        return match scheme.to_ascii_lowercase().as_str() {
            "bearer" => Ok(Some(Credentials::Bearer(rest.trim().to_string()))),
            "basic" => {
                let decoded = STANDARD
                    .decode(rest.trim())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| ApiError::Unauthorized("malformed Basic credentials".into()))?;
                let (username, secret) = decoded
                    .split_once(':')
                    .ok_or_else(|| ApiError::Unauthorized("malformed Basic credentials".into()))?;
                Ok(Some(Credentials::Basic {
                    username: username.to_string(),
                    secret: secret.to_string(),
                }))
            }
            _ => Err(ApiError::Unauthorized(
                "use Basic or Bearer authentication".into(),
            )),
        };
    }
    Ok(session_cookie(&parts.headers).map(Credentials::Session))
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(principal) = parts.extensions.get::<Principal>() {
            return Ok(principal.clone());
        }
        let credentials = credentials(parts)?
            .ok_or_else(|| ApiError::Unauthorized("authentication required".into()))?;
        let principal = service::authenticate(&state.db, credentials, client_ip(parts)).await?;
        parts.extensions.insert(principal.clone());
        Ok(principal)
    }
}

/// Whoever asks a public endpoint: signed in or not. Credentials that are
/// given but wrong are refused, never read as anonymous.
pub struct Visitor(pub Option<Principal>);

impl FromRequestParts<AppState> for Visitor {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if credentials(parts)?.is_none() && parts.extensions.get::<Principal>().is_none() {
            return Ok(Visitor(None));
        }
        Ok(Visitor(Some(
            Principal::from_request_parts(parts, state).await?,
        )))
    }
}

/// A principal holding the administrator role.
pub struct Administrator(pub Principal);

impl FromRequestParts<AppState> for Administrator {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let principal = Principal::from_request_parts(parts, state).await?;
        if !principal.has_role(&Role::ADMINISTRATOR) {
            return Err(ApiError::Forbidden(
                "this needs the administrator role".into(),
            ));
        }
        Ok(Administrator(principal))
    }
}
