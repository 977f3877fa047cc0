//! HTTP for accounts: login and logout, the caller's own tokens, and the
//! administrators' JSON API.
use super::domain::{ApiToken, Organisation, ROLE_CATALOGUE, User};
use super::service::{self, NewOrganisation, NewUser, OrganisationChanges, Principal, UserChanges};
use super::store;
use crate::core::audit::{self, AuditEntry};
use crate::core::auth::{Administrator, client_ip, session_cookie};
use crate::core::error::{ApiError, ApiJson, ErrorBody, FieldError};
use crate::core::state::AppState;
use crate::core::time::parse_duration;
use axum::Json;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(my_tokens, create_my_token))
        .routes(routes!(revoke_my_token))
        .routes(routes!(list_organisations, create_organisation))
        .routes(routes!(get_organisation, update_organisation))
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
        .routes(routes!(set_password))
        .routes(routes!(redact_user))
        .routes(routes!(user_tokens, create_user_token))
        .routes(routes!(revoke_token))
        .routes(routes!(roles))
        .routes(routes!(audit_events))
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub user: User,
    pub organisation: Organisation,
    pub method: service::AuthMethod,
}

/// The caller's address, for audit events and throttling.
pub struct ClientIp(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts)))
    }
}

/// Logs in with a username and password and sets the session cookie.
#[utoipa::path(post, path = "/api/auth/login", tag = "accounts", request_body = LoginRequest,
    responses((status = 200, body = Me), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let (principal, secret) =
        service::login(&state.db, &request.username, &request.password, ip).await?;
    let mut response = Json(Me {
        user: principal.user,
        organisation: principal.organisation,
        method: principal.method,
    })
    .into_response();
    response.headers_mut().insert(
        SET_COOKIE,
        crate::core::auth::session_set_cookie(
            &state,
            &secret,
            service::SESSION_LIFETIME.as_secs(),
        )?,
    );
    Ok(response)
}

/// Ends the web session.
#[utoipa::path(post, path = "/api/auth/logout", tag = "accounts", responses((status = 204), (status = 401, body = ErrorBody)))]
async fn logout(
    State(state): State<AppState>,
    principal: Principal,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(secret) = session_cookie(&headers) {
        service::logout(&state.db, &principal, &secret).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        SET_COOKIE,
        crate::core::auth::session_set_cookie(&state, "", 0)?,
    );
    Ok(response)
}

/// Who the caller is.
#[utoipa::path(get, path = "/api/me", tag = "accounts", responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
async fn me(principal: Principal) -> Json<Me> {
    Json(Me {
        user: principal.user,
        organisation: principal.organisation,
        method: principal.method,
    })
}

#[derive(Deserialize, ToSchema)]
pub struct NewTokenRequest {
    pub name: String,
    /// Lifetime such as `90d`, `12h`; no expiry when absent.
    pub expires_in: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    pub token: ApiToken,
    /// The secret, shown this once: only its hash is stored.
    pub secret: String,
}

fn lifetime(request: &NewTokenRequest) -> Result<Option<std::time::Duration>, ApiError> {
    request
        .expires_in
        .as_deref()
        .map(|text| {
            parse_duration(text).ok_or_else(|| {
                ApiError::invalid(vec![FieldError::new(
                    "expires_in",
                    "use a duration such as 90d, 12h or 30m",
                )])
            })
        })
        .transpose()
}

/// The caller's API tokens (never their secrets).
#[utoipa::path(get, path = "/api/me/tokens", tag = "accounts", responses((status = 200, body = Vec<ApiToken>), (status = 401, body = ErrorBody)))]
async fn my_tokens(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<ApiToken>>, ApiError> {
    Ok(Json(
        store::tokens_of(state.db.pool(), &principal.user.id).await?,
    ))
}

/// Creates an API token for the caller; the secret is in this answer only.
#[utoipa::path(post, path = "/api/me/tokens", tag = "accounts", request_body = NewTokenRequest,
    responses((status = 201, body = CreatedToken), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_my_token(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<NewTokenRequest>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let (token, secret) = service::create_token(
        &state.db,
        &principal.actor(),
        principal.user.id.as_str(),
        &request.name,
        lifetime(&request)?,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, secret })))
}

/// Revokes one of the caller's tokens.
#[utoipa::path(delete, path = "/api/me/tokens/{id}", tag = "accounts", params(("id" = String, Path)),
    responses((status = 200, body = ApiToken), (status = 404, body = ErrorBody)))]
async fn revoke_my_token(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<ApiToken>, ApiError> {
    Ok(Json(
        service::revoke_token(&state.db, &principal.actor(), &id, Some(&principal.user.id)).await?,
    ))
}

// ---------- administration ----------

#[derive(Deserialize, ToSchema)]
pub struct NewOrganisationRequest {
    pub name: String,
    /// national_contact_point, eu_institution, election_management_body, regulator,
    /// fact_checker, civil_society, observer, publisher_or_sponsor, research
    pub kind: String,
    pub country: Option<String>,
}

/// All organisations.
#[utoipa::path(get, path = "/api/admin/organisations", tag = "admin", responses((status = 200, body = Vec<Organisation>), (status = 403, body = ErrorBody)))]
async fn list_organisations(
    State(state): State<AppState>,
    _: Administrator,
) -> Result<Json<Vec<Organisation>>, ApiError> {
    Ok(Json(store::organisations(state.db.pool()).await?))
}

/// Creates an organisation.
#[utoipa::path(post, path = "/api/admin/organisations", tag = "admin", request_body = NewOrganisationRequest,
    responses((status = 201, body = Organisation), (status = 422, body = ErrorBody)))]
async fn create_organisation(
    State(state): State<AppState>,
    Administrator(admin): Administrator,
    ApiJson(request): ApiJson<NewOrganisationRequest>,
) -> Result<(StatusCode, Json<Organisation>), ApiError> {
    let org = service::create_organisation(
        &state.db,
        &admin.actor(),
        NewOrganisation {
            name: request.name,
            kind: request.kind,
            country: request.country,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(org)))
}

/// One organisation.
#[utoipa::path(get, path = "/api/admin/organisations/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = Organisation), (status = 404, body = ErrorBody)))]
async fn get_organisation(
    State(state): State<AppState>,
    _: Administrator,
    Path(id): Path<String>,
) -> Result<Json<Organisation>, ApiError> {
    store::organisation(state.db.pool(), &id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no organisation {id}")))
}

#[derive(Deserialize, ToSchema)]
pub struct OrganisationPatch {
    pub name: Option<String>,
    /// Two-letter code; an empty string clears it.
    pub country: Option<String>,
    /// active or disabled
    pub status: Option<String>,
}

fn clearable(value: Option<String>) -> Option<Option<String>> {
    value.map(|v| if v.trim().is_empty() { None } else { Some(v) })
}

/// Changes an organisation (a new version of the same id).
#[utoipa::path(patch, path = "/api/admin/organisations/{id}", tag = "admin", params(("id" = String, Path)), request_body = OrganisationPatch,
    responses((status = 200, body = Organisation), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_organisation(
    State(state): State<AppState>,
    Administrator(admin): Administrator,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<OrganisationPatch>,
) -> Result<Json<Organisation>, ApiError> {
    let changes = OrganisationChanges {
        name: patch.name,
        country: clearable(patch.country),
        status: patch.status,
    };
    Ok(Json(
        service::update_organisation(&state.db, &admin.actor(), &id, changes).await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct UserFilter {
    /// Only users of this organisation id.
    pub organisation: Option<String>,
}

/// All users, or those of one organisation.
#[utoipa::path(get, path = "/api/admin/users", tag = "admin", params(UserFilter), responses((status = 200, body = Vec<User>), (status = 403, body = ErrorBody)))]
async fn list_users(
    State(state): State<AppState>,
    _: Administrator,
    Query(filter): Query<UserFilter>,
) -> Result<Json<Vec<User>>, ApiError> {
    let org = filter
        .organisation
        .as_deref()
        .and_then(crate::core::ids::OrganisationId::parse);
    if filter.organisation.is_some() && org.is_none() {
        return Ok(Json(Vec::new()));
    }
    Ok(Json(store::users(state.db.pool(), org.as_ref()).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct NewUserRequest {
    /// Organisation id or exact name.
    pub organisation: String,
    pub username: String,
    pub password: String,
    pub roles: Vec<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
}

/// Creates a user.
#[utoipa::path(post, path = "/api/admin/users", tag = "admin", request_body = NewUserRequest,
    responses((status = 201, body = User), (status = 422, body = ErrorBody)))]
async fn create_user(
    State(state): State<AppState>,
    Administrator(admin): Administrator,
    ApiJson(request): ApiJson<NewUserRequest>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let user = service::create_user(
        &state.db,
        &admin.actor(),
        NewUser {
            organisation: request.organisation,
            username: request.username,
            password: request.password,
            roles: request.roles,
            display_name: request.display_name,
            email: request.email,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// One user.
#[utoipa::path(get, path = "/api/admin/users/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = User), (status = 404, body = ErrorBody)))]
async fn get_user(
    State(state): State<AppState>,
    _: Administrator,
    Path(id): Path<String>,
) -> Result<Json<User>, ApiError> {
    store::user(state.db.pool(), &id)
        .await?
        .map(|u| Json(u.user))
        .ok_or_else(|| ApiError::NotFound(format!("no user {id}")))
}

#[derive(Deserialize, ToSchema)]
pub struct UserPatch {
    pub roles: Option<Vec<String>>,
    /// active or disabled
    pub status: Option<String>,
    /// An empty string clears it.
    pub display_name: Option<String>,
    /// An empty string clears it.
    pub email: Option<String>,
}

/// Changes a user's roles, status or profile (a new version of the same id).
#[utoipa::path(patch, path = "/api/admin/users/{id}", tag = "admin", params(("id" = String, Path)), request_body = UserPatch,
    responses((status = 200, body = User), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_user(
    State(state): State<AppState>,
    Administrator(admin): Administrator,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<UserPatch>,
) -> Result<Json<User>, ApiError> {
    let changes = UserChanges {
        roles: patch.roles,
        status: patch.status,
        display_name: clearable(patch.display_name),
        email: clearable(patch.email),
    };
    Ok(Json(
        service::update_user(&state.db, &admin.actor(), &id, changes).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordRequest {
    pub password: String,
}

/// Sets a user's password and ends their sessions.
#[utoipa::path(put, path = "/api/admin/users/{id}/password", tag = "admin", params(("id" = String, Path)), request_body = PasswordRequest,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_password(
    State(state): State<AppState>,
    Administrator(admin): Administrator,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<PasswordRequest>,
) -> Result<StatusCode, ApiError> {
    service::set_password(&state.db, &admin.actor(), &id, &request.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Erases a user's personal data (display name, e-mail) for good.
#[utoipa::path(post, path = "/api/admin/users/{id}/redact", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = User), (status = 404, body = ErrorBody)))]
async fn redact_user(
    State(state): State<AppState>,
    Administrator(admin): Administrator,
    Path(id): Path<String>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(
        service::redact_user(&state.db, &admin.actor(), &id).await?,
    ))
}

/// A user's API tokens.
#[utoipa::path(get, path = "/api/admin/users/{id}/tokens", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = Vec<ApiToken>)))]
async fn user_tokens(
    State(state): State<AppState>,
    _: Administrator,
    Path(id): Path<String>,
) -> Result<Json<Vec<ApiToken>>, ApiError> {
    let user = crate::core::ids::UserId::parse(&id)
        .ok_or_else(|| ApiError::NotFound(format!("no user {id}")))?;
    Ok(Json(store::tokens_of(state.db.pool(), &user).await?))
}

/// Creates an API token for a user (for machine clients such as TAXII feeds).
#[utoipa::path(post, path = "/api/admin/users/{id}/tokens", tag = "admin", params(("id" = String, Path)), request_body = NewTokenRequest,
    responses((status = 201, body = CreatedToken), (status = 404, body = ErrorBody)))]
async fn create_user_token(
    State(state): State<AppState>,
    Administrator(admin): Administrator,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<NewTokenRequest>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let (token, secret) = service::create_token(
        &state.db,
        &admin.actor(),
        &id,
        &request.name,
        lifetime(&request)?,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, secret })))
}

/// Revokes any token.
#[utoipa::path(delete, path = "/api/admin/tokens/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = ApiToken), (status = 404, body = ErrorBody)))]
async fn revoke_token(
    State(state): State<AppState>,
    Administrator(admin): Administrator,
    Path(id): Path<String>,
) -> Result<Json<ApiToken>, ApiError> {
    Ok(Json(
        service::revoke_token(&state.db, &admin.actor(), &id, None).await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct RoleDescription {
    pub name: &'static str,
    pub description: &'static str,
}

/// The roles users can be given.
#[utoipa::path(get, path = "/api/admin/roles", tag = "admin", responses((status = 200, body = Vec<RoleDescription>)))]
async fn roles(_: Administrator) -> Json<Vec<RoleDescription>> {
    Json(
        ROLE_CATALOGUE
            .iter()
            .map(|r| RoleDescription {
                name: r.name,
                description: r.description,
            })
            .collect(),
    )
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct AuditFilter {
    /// At most this many events (1–1000, default 100), newest first.
    pub limit: Option<i64>,
    /// Only this action, e.g. `auth.login_failed`.
    pub action: Option<String>,
}

/// The audit trail.
#[utoipa::path(get, path = "/api/admin/audit", tag = "admin", params(AuditFilter), responses((status = 200, body = Vec<AuditEntry>), (status = 403, body = ErrorBody)))]
async fn audit_events(
    State(state): State<AppState>,
    _: Administrator,
    Query(filter): Query<AuditFilter>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    Ok(Json(
        audit::recent(
            &state.db,
            filter.limit.unwrap_or(100),
            filter.action.as_deref(),
        )
        .await?,
    ))
}
