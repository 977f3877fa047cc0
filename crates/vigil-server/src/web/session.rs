//! Signing in and out, and the user's own API tokens.
use super::*;
use crate::accounts::api::ClientIp;
use crate::accounts::domain::{ApiToken, TokenState};
use crate::accounts::service::AuthError;
use crate::accounts::store as accounts_store;
use axum::Form;
use axum::extract::{Path, Query};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    username: String,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NextQuery {
    next: String,
}

pub async fn login_page(csrf: FormToken, Query(query): Query<NextQuery>) -> Response {
    render(&LoginPage {
        chrome: Chrome::new("Sign in", &csrf, "login"),
        username: String::new(),
        next: local_path(&query.next).to_string(),
        error: None,
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    csrf: String,
}

pub async fn login(
    State(state): State<AppState>,
    csrf: FormToken,
    ClientIp(ip): ClientIp,
    Form(form): Form<LoginForm>,
) -> PageResult {
    check_csrf(&csrf, &form.csrf)?;
    let next = local_path(&form.next).to_string();
    match accounts::login(&state.db, &form.username, &form.password, ip).await {
        Ok((_, secret)) => {
            let mut response = Redirect::to(&next).into_response();
            set_cookie(
                &mut response,
                session_set_cookie(&state, &secret, accounts::SESSION_LIFETIME.as_secs())?,
            );
            Ok(response)
        }
        Err(AuthError::Internal(e)) => Err(WebError(e)),
        Err(e) => {
            let status = match e {
                AuthError::Throttled => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::UNAUTHORIZED,
            };
            let page = LoginPage {
                chrome: Chrome::new("Sign in", &csrf, "login"),
                username: form.username,
                next,
                error: Some(e.to_string()),
            };
            Ok((status, render(&page)).into_response())
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub(super) csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    analyst: Analyst,
    headers: axum::http::HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> PageResult {
    check_csrf(&analyst.csrf, &form.csrf)?;
    if let Some(secret) = session_cookie(&headers) {
        accounts::logout(&state.db, &analyst.principal, &secret).await?;
    }
    let mut response = Redirect::to("/login").into_response();
    set_cookie(&mut response, session_set_cookie(&state, "", 0)?);
    Ok(response)
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    chrome: Chrome,
    tokens: Vec<ApiToken>,
    /// A token just created: shown once, never again.
    created: Option<(String, String)>,
    errors: FieldErrors,
    name: String,
}

impl TokensPage {
    fn state(token: &ApiToken) -> &'static str {
        match token.state {
            TokenState::Active => "active",
            _ if token.revoked_at.is_some() => "revoked",
            _ => "expired",
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DoneQuery {
    pub done: String,
}

pub async fn tokens(
    State(state): State<AppState>,
    analyst: Analyst,
    Query(query): Query<DoneQuery>,
) -> PageResult {
    let tokens = accounts_store::tokens_of(state.db.pool(), &analyst.principal.user.id).await?;
    Ok(render(&TokensPage {
        chrome: Chrome::for_user("API tokens", &analyst, "tokens", Some(&query.done)),
        tokens,
        created: None,
        errors: FieldErrors(Vec::new()),
        name: String::new(),
    }))
}

#[derive(Deserialize)]
pub struct NewTokenForm {
    #[serde(default)]
    name: String,
    /// Days until it expires; empty or 0: never.
    #[serde(default)]
    days: String,
    #[serde(default)]
    csrf: String,
}

pub async fn create_token(
    State(state): State<AppState>,
    analyst: Analyst,
    Form(form): Form<NewTokenForm>,
) -> PageResult {
    check_csrf(&analyst.csrf, &form.csrf)?;
    let lifetime = match form.days.trim() {
        "" | "0" => Ok(None),
        days => match days.parse::<u64>() {
            Ok(days) if days <= 3_650 => Ok(Some(std::time::Duration::from_secs(days * 86_400))),
            _ => Err(FieldError::new("days", "a number of days up to 3650")),
        },
    };
    let outcome = match lifetime {
        Ok(lifetime) => accounts::create_token(
            &state.db,
            &analyst.principal.actor(),
            analyst.principal.user.id.as_str(),
            &form.name,
            lifetime,
        )
        .await
        .map_err(|e| match e {
            ApiError::Invalid { fields, .. } => Ok(fields),
            other => Err(other),
        }),
        Err(field) => Err(Ok(vec![field])),
    };
    let (created, errors) = match outcome {
        Ok((token, secret)) => (Some((token.name, secret)), Vec::new()),
        Err(Ok(fields)) => (None, fields),
        Err(Err(e)) => return Err(WebError(e)),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let tokens = accounts_store::tokens_of(state.db.pool(), &analyst.principal.user.id).await?;
    let page = TokensPage {
        chrome: Chrome::for_user("API tokens", &analyst, "tokens", None),
        tokens,
        name: if errors.is_empty() {
            String::new()
        } else {
            form.name
        },
        created,
        errors: FieldErrors(errors),
    };
    let mut response = (status, render(&page)).into_response();
    // The secret is on this page only: no cache may keep it.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

pub async fn revoke_token(
    State(state): State<AppState>,
    analyst: Analyst,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> PageResult {
    check_csrf(&analyst.csrf, &form.csrf)?;
    accounts::revoke_token(
        &state.db,
        &analyst.principal.actor(),
        &id,
        Some(&analyst.principal.user.id),
    )
    .await?;
    Ok(Redirect::to("/tokens?done=token-revoked").into_response())
}
