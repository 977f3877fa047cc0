//! Account use cases. Each write is one transaction: load, check, store the
//! new record versions (through the log) and the audit event, commit.
use super::domain::{
    ApiToken, NewPassword, Organisation, OrganisationKind, Role, Roles, Status, TokenState, User,
    Username, country_code, email, required_text,
};
use super::store;
use crate::core::audit::{self, Actor, AuditEvent, Outcome};
use crate::core::db::Db;
use crate::core::error::{ApiError, FieldError};
use crate::core::ids::{OrganisationId, TokenId, UserId};
use crate::core::secrets::{self, API_TOKEN_PREFIX};
use crate::core::time::Timestamp;
use serde_json::json;
use std::net::IpAddr;
use std::time::Duration;

/// Failed logins allowed per account, and per address, within [`THROTTLE_WINDOW`].
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
pub const MAX_FAILURES_PER_ADDRESS: i64 = 20;
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);
const SESSION_PREFIX: &str = "vigil_session_";

fn collect(errors: Vec<FieldError>) -> Result<(), ApiError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(errors))
    }
}

// ---------- organisations ----------

pub struct NewOrganisation {
    pub name: String,
    pub kind: String,
    pub country: Option<String>,
}

pub async fn create_organisation(
    db: &Db,
    actor: &Actor,
    input: NewOrganisation,
) -> Result<Organisation, ApiError> {
    let mut errors = Vec::new();
    let name = required_text("name", &input.name, 200)
        .map_err(|e| errors.push(e))
        .ok();
    let kind = OrganisationKind::parse(&input.kind);
    if kind.is_none() {
        let known: Vec<&str> = OrganisationKind::ALL.iter().map(|k| k.as_str()).collect();
        errors.push(FieldError::new(
            "kind",
            format!("use one of: {}", known.join(", ")),
        ));
    }
    let country = input
        .country
        .as_deref()
        .map(country_code)
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    collect(errors)?;
    let (Some(name), Some(kind)) = (name, kind) else {
        return Err(ApiError::invalid(vec![]));
    };
    let mut tx = db.write().await?;
    if store::organisation_by_name(tx.conn(), &name)
        .await?
        .is_some()
    {
        return Err(ApiError::invalid(vec![FieldError::new(
            "name",
            "an organisation with this name exists",
        )]));
    }
    let now = Timestamp::now();
    let org = Organisation {
        id: OrganisationId::generate(),
        version: 1,
        name,
        kind,
        country,
        stix_identity: format!("identity--{}", uuid::Uuid::new_v4()),
        status: Status::Active,
        created_at: now,
        updated_at: now,
    };
    store::insert_organisation(&mut tx, &org).await?;
    audit::record(
        &mut tx,
        event(
            actor,
            "organisation.created",
            org.id.as_str(),
            json!({"name": org.name, "kind": org.kind.as_str()}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(org)
}

#[derive(Default)]
pub struct OrganisationChanges {
    pub name: Option<String>,
    pub country: Option<Option<String>>,
    pub status: Option<String>,
}

pub async fn update_organisation(
    db: &Db,
    actor: &Actor,
    id: &str,
    changes: OrganisationChanges,
) -> Result<Organisation, ApiError> {
    let mut tx = db.write().await?;
    let mut org = store::organisation(tx.conn(), id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no organisation {id}")))?;
    let mut errors = Vec::new();
    if let Some(name) = changes.name {
        match required_text("name", &name, 200) {
            Ok(name) => org.name = name,
            Err(e) => errors.push(e),
        }
    }
    if let Some(country) = changes.country {
        match country.as_deref().map(country_code).transpose() {
            Ok(country) => org.country = country,
            Err(e) => errors.push(e),
        }
    }
    if let Some(status) = changes.status {
        match Status::parse(&status) {
            Some(status) => org.status = status,
            None => errors.push(FieldError::new("status", "use active or disabled")),
        }
    }
    collect(errors)?;
    org.version += 1;
    org.updated_at = Timestamp::now();
    store::update_organisation(&mut tx, &org).await?;
    audit::record(
        &mut tx,
        event(
            actor,
            "organisation.updated",
            org.id.as_str(),
            json!({"version": org.version, "status": org.status.as_str()}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(org)
}

// ---------- users ----------

pub struct NewUser {
    pub organisation: String,
    pub username: String,
    pub password: String,
    pub roles: Vec<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
}

pub async fn create_user(db: &Db, actor: &Actor, input: NewUser) -> Result<User, ApiError> {
    let mut errors = Vec::new();
    let username = Username::parse(input.username.trim())
        .map_err(|e| errors.push(e))
        .ok();
    let password = NewPassword::parse(&input.password)
        .map_err(|e| errors.push(e))
        .ok();
    let roles = Roles::parse_list(&input.roles)
        .map_err(|e| errors.push(e))
        .ok();
    let display_name = input
        .display_name
        .as_deref()
        .map(|n| required_text("display_name", n, 200))
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let email = input
        .email
        .as_deref()
        .map(email)
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    collect(errors)?;
    let (Some(username), Some(password), Some(roles)) = (username, password, roles) else {
        return Err(ApiError::invalid(vec![]));
    };
    // Hash before taking the write lock: Argon2 is deliberately slow.
    let password_hash = hash_in_background(password.as_str().to_string()).await?;
    let mut tx = db.write().await?;
    let org = match store::organisation(tx.conn(), &input.organisation).await? {
        Some(org) => org,
        None => store::organisation_by_name(tx.conn(), &input.organisation)
            .await?
            .ok_or_else(|| {
                ApiError::invalid(vec![FieldError::new(
                    "organisation",
                    format!("no organisation {:?}", input.organisation),
                )])
            })?,
    };
    if store::user_by_username(tx.conn(), username.as_str())
        .await?
        .is_some()
    {
        return Err(ApiError::invalid(vec![FieldError::new(
            "username",
            "this username is taken",
        )]));
    }
    let now = Timestamp::now();
    let user = User {
        id: UserId::generate(),
        version: 1,
        organisation_id: org.id.clone(),
        username,
        roles,
        status: Status::Active,
        display_name,
        email,
        created_at: now,
        updated_at: now,
    };
    store::insert_user(&mut tx, &user, &password_hash).await?;
    audit::record(
        &mut tx,
        event(actor, "user.created", user.id.as_str(), json!({"username": user.username.as_str(), "organisation": org.id.as_str(), "roles": user.roles.to_stored()})),
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

async fn hash_in_background(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || secrets::hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .map_err(ApiError::Internal)
}

#[derive(Default)]
pub struct UserChanges {
    pub roles: Option<Vec<String>>,
    pub status: Option<String>,
    pub display_name: Option<Option<String>>,
    pub email: Option<Option<String>>,
}

pub async fn update_user(
    db: &Db,
    actor: &Actor,
    id: &str,
    changes: UserChanges,
) -> Result<User, ApiError> {
    let mut tx = db.write().await?;
    let stored = store::user(tx.conn(), id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no user {id}")))?;
    let mut user = stored.user.clone();
    let mut errors = Vec::new();
    if let Some(roles) = &changes.roles {
        match Roles::parse_list(roles) {
            Ok(roles) => user.roles = roles,
            Err(e) => errors.push(e),
        }
    }
    if let Some(status) = &changes.status {
        match Status::parse(status) {
            Some(status) => user.status = status,
            None => errors.push(FieldError::new("status", "use active or disabled")),
        }
    }
    if let Some(name) = &changes.display_name {
        match name
            .as_deref()
            .map(|n| required_text("display_name", n, 200))
            .transpose()
        {
            Ok(name) => user.display_name = name,
            Err(e) => errors.push(e),
        }
    }
    if let Some(address) = &changes.email {
        match address.as_deref().map(email).transpose() {
            Ok(address) => user.email = address,
            Err(e) => errors.push(e),
        }
    }
    collect(errors)?;
    if *actor == Actor::User(user.id.clone())
        && stored.user.roles.contains(&Role::ADMINISTRATOR)
        && !user.roles.contains(&Role::ADMINISTRATOR)
    {
        return Err(ApiError::Conflict(
            "administrators cannot remove their own administrator role".into(),
        ));
    }
    user.version += 1;
    user.updated_at = Timestamp::now();
    let personal_changed = changes.display_name.is_some() || changes.email.is_some();
    store::update_user(&mut tx, &user, &stored.password_hash, personal_changed).await?;
    if user.roles != stored.user.roles {
        audit::record(
            &mut tx,
            event(
                actor,
                "user.roles_changed",
                user.id.as_str(),
                json!({"from": stored.user.roles.to_stored(), "to": user.roles.to_stored()}),
            ),
        )
        .await?;
    }
    if user.status != stored.user.status {
        audit::record(
            &mut tx,
            event(
                actor,
                "user.status_changed",
                user.id.as_str(),
                json!({"to": user.status.as_str()}),
            ),
        )
        .await?;
        if user.status == Status::Disabled {
            store::delete_sessions(tx.conn(), Some(&user.id), None).await?;
        }
    }
    if personal_changed {
        audit::record(
            &mut tx,
            event(actor, "user.profile_changed", user.id.as_str(), json!({})),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(user)
}

pub async fn set_password(
    db: &Db,
    actor: &Actor,
    id: &str,
    password: &str,
) -> Result<(), ApiError> {
    let password = NewPassword::parse(password).map_err(|e| ApiError::invalid(vec![e]))?;
    let password_hash = hash_in_background(password.as_str().to_string()).await?;
    let mut tx = db.write().await?;
    let stored = store::user(tx.conn(), id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no user {id}")))?;
    let mut user = stored.user;
    user.version += 1;
    user.updated_at = Timestamp::now();
    store::update_user(&mut tx, &user, &password_hash, false).await?;
    store::delete_sessions(tx.conn(), Some(&user.id), None).await?;
    audit::record(
        &mut tx,
        event(actor, "user.password_changed", user.id.as_str(), json!({})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Erases the user's personal data (name, e-mail) for good.
pub async fn redact_user(db: &Db, actor: &Actor, id: &str) -> Result<User, ApiError> {
    let mut tx = db.write().await?;
    let user_id = UserId::parse(id).ok_or_else(|| ApiError::NotFound(format!("no user {id}")))?;
    if !store::redact_user(&mut tx, &user_id).await? {
        return Err(ApiError::NotFound(format!("no user {id}")));
    }
    audit::record(
        &mut tx,
        event(actor, "user.personal_data_redacted", id, json!({})),
    )
    .await?;
    let user = store::user(tx.conn(), id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no user {id}")))?;
    tx.commit().await?;
    Ok(user.user)
}

// ---------- API tokens ----------

pub async fn create_token(
    db: &Db,
    actor: &Actor,
    user_id: &str,
    name: &str,
    lifetime: Option<Duration>,
) -> Result<(ApiToken, String), ApiError> {
    let name = required_text("name", name, 100).map_err(|e| ApiError::invalid(vec![e]))?;
    let mut tx = db.write().await?;
    let owner = store::user(tx.conn(), user_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no user {user_id}")))?;
    let (secret, hash) = secrets::new_token(API_TOKEN_PREFIX)?;
    let now = Timestamp::now();
    let expires_at = lifetime.map(|l| now.plus(l));
    let token = ApiToken {
        id: TokenId::generate(),
        version: 1,
        user_id: owner.user.id.clone(),
        name,
        created_at: now,
        expires_at,
        revoked_at: None,
        state: TokenState::Active,
    };
    store::insert_token(&mut tx, &token, &hash).await?;
    audit::record(
        &mut tx,
        event(actor, "token.created", token.id.as_str(), json!({"user": owner.user.id.as_str(), "name": token.name, "expires_at": expires_at.map(|t| t.to_string())})),
    )
    .await?;
    tx.commit().await?;
    Ok((token, secret))
}

/// Revokes a token; `owner` restricts it to that user's tokens.
pub async fn revoke_token(
    db: &Db,
    actor: &Actor,
    token_id: &str,
    owner: Option<&UserId>,
) -> Result<ApiToken, ApiError> {
    let mut tx = db.write().await?;
    let stored = store::token(tx.conn(), token_id)
        .await?
        .filter(|t| owner.is_none_or(|o| *o == t.token.user_id))
        .ok_or_else(|| ApiError::NotFound(format!("no token {token_id}")))?;
    let mut token = stored.token;
    if token.revoked_at.is_some() {
        return Ok(token);
    }
    let now = Timestamp::now();
    token.version += 1;
    token.revoked_at = Some(now);
    token.state = TokenState::Revoked;
    store::update_token(&mut tx, &token, &stored.token_hash, now).await?;
    audit::record(
        &mut tx,
        event(
            actor,
            "token.revoked",
            token.id.as_str(),
            json!({"user": token.user_id.as_str()}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

fn event<'a>(
    actor: &'a Actor,
    action: &'static str,
    subject: &'a str,
    details: serde_json::Value,
) -> AuditEvent<'a> {
    AuditEvent {
        actor,
        action,
        subject,
        outcome: Outcome::Success,
        details,
        ip: None,
    }
}

// ---------- authentication ----------

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("wrong username or password")]
    InvalidCredentials,
    #[error("this token is not valid: it is unknown, expired or revoked")]
    InvalidToken,
    #[error("the session has expired; log in again")]
    SessionExpired,
    #[error("too many failed attempts; try again later")]
    Throttled,
    #[error(transparent)]
    Internal(#[from] ApiError),
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> ApiError {
        match e {
            AuthError::Throttled => ApiError::TooManyRequests {
                retry_after_seconds: THROTTLE_WINDOW.as_secs(),
            },
            AuthError::Internal(inner) => inner,
            other => ApiError::Unauthorized(other.to_string()),
        }
    }
}

impl From<sqlx::Error> for AuthError {
    fn from(e: sqlx::Error) -> AuthError {
        AuthError::Internal(e.into())
    }
}

/// How a request proved who it is.
#[derive(Clone, Debug)]
pub enum Credentials {
    Session(String),
    Bearer(String),
    /// HTTP Basic: the password may also be an API token of that user.
    Basic {
        username: String,
        secret: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    Session,
    Token,
    Password,
}

/// An authenticated caller.
#[derive(Clone, Debug)]
pub struct Principal {
    pub user: User,
    pub organisation: Organisation,
    pub method: AuthMethod,
}

impl Principal {
    pub fn actor(&self) -> Actor {
        Actor::User(self.user.id.clone())
    }

    pub fn has_role(&self, role: &Role) -> bool {
        self.user.roles.contains(role)
    }
}

async fn throttled(db: &Db, username: &str, ip: Option<IpAddr>) -> Result<bool, AuthError> {
    let since = Timestamp::now().minus(THROTTLE_WINDOW);
    if store::failures_for_subject(db.pool(), username, since).await? >= MAX_FAILURES_PER_ACCOUNT {
        return Ok(true);
    }
    if let Some(ip) = ip
        && store::failures_from_address(db.pool(), &ip.to_string(), since).await?
            >= MAX_FAILURES_PER_ADDRESS
    {
        return Ok(true);
    }
    Ok(false)
}

async fn record_failure(
    db: &Db,
    subject: &str,
    ip: Option<IpAddr>,
    reason: &str,
) -> Result<(), AuthError> {
    let mut tx = db.write().await.map_err(ApiError::from)?;
    audit::record(
        &mut tx,
        AuditEvent {
            actor: &Actor::Anonymous,
            action: "auth.login_failed",
            subject,
            outcome: Outcome::Failure,
            details: json!({"reason": reason}),
            ip,
        },
    )
    .await
    .map_err(ApiError::from)?;
    tx.commit().await.map_err(ApiError::from)?;
    Ok(())
}

/// Checks a username and password; wrong ones are audited and throttled.
async fn check_password(
    db: &Db,
    username: &str,
    password: &str,
    ip: Option<IpAddr>,
) -> Result<store::UserWithSecret, AuthError> {
    if throttled(db, username, ip).await? {
        return Err(AuthError::Throttled);
    }
    let stored = store::user_by_username(db.pool(), username).await?;
    let hash = stored.as_ref().map_or_else(
        || secrets::decoy_password_hash().to_string(),
        |s| s.password_hash.clone(),
    );
    let password = password.to_string();
    let matches = tokio::task::spawn_blocking(move || secrets::verify_password(&password, &hash))
        .await
        .map_err(|e| AuthError::Internal(ApiError::Internal(e.into())))?;
    match stored {
        Some(stored) if matches && stored.user.status == Status::Active => Ok(stored),
        Some(stored) if matches => {
            record_failure(db, username, ip, "account disabled").await?;
            let _ = stored;
            Err(AuthError::InvalidCredentials)
        }
        _ => {
            record_failure(db, username, ip, "wrong username or password").await?;
            Err(AuthError::InvalidCredentials)
        }
    }
}

async fn principal_for(db: &Db, user: User, method: AuthMethod) -> Result<Principal, AuthError> {
    if user.status != Status::Active {
        return Err(AuthError::InvalidCredentials);
    }
    let organisation = store::organisation(db.pool(), user.organisation_id.as_str())
        .await?
        .filter(|o| o.status == Status::Active)
        .ok_or(AuthError::InvalidCredentials)?;
    Ok(Principal {
        user,
        organisation,
        method,
    })
}

/// Logs in with a password and opens a web session; returns the session secret.
pub async fn login(
    db: &Db,
    username: &str,
    password: &str,
    ip: Option<IpAddr>,
) -> Result<(Principal, String), AuthError> {
    let stored = check_password(db, username.trim(), password, ip).await?;
    let principal = principal_for(db, stored.user, AuthMethod::Session).await?;
    let (secret, hash) = secrets::new_token(SESSION_PREFIX).map_err(ApiError::Internal)?;
    let mut tx = db.write().await.map_err(ApiError::from)?;
    store::insert_session(
        &mut tx,
        &hash,
        &principal.user.id,
        Timestamp::now().plus(SESSION_LIFETIME),
    )
    .await?;
    audit::record(
        &mut tx,
        AuditEvent {
            actor: &principal.actor(),
            action: "auth.login_succeeded",
            subject: principal.user.username.as_str(),
            outcome: Outcome::Success,
            details: json!({}),
            ip,
        },
    )
    .await
    .map_err(ApiError::from)?;
    tx.commit().await.map_err(ApiError::from)?;
    Ok((principal, secret))
}

pub async fn logout(db: &Db, principal: &Principal, session_secret: &str) -> Result<(), ApiError> {
    let mut tx = db.write().await?;
    store::delete_sessions(tx.conn(), None, Some(&secrets::token_hash(session_secret))).await?;
    audit::record(
        &mut tx,
        event(
            &principal.actor(),
            "auth.logout",
            principal.user.username.as_str(),
            json!({}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Resolves the credentials of a request. Successful token and Basic
/// authentications are not audited one by one (machine clients make many
/// requests); every failure is.
/// The principal of an account, for work done on the server's machine
/// (the command line, the demo): no credentials are checked.
pub async fn principal_of(db: &Db, username: &str) -> Result<Principal, ApiError> {
    let user = store::user_by_username(db.pool(), username)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no user {username}")))?
        .user;
    let organisation = store::organisation(db.pool(), user.organisation_id.as_str())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("the organisation of {username}")))?;
    Ok(Principal {
        user,
        organisation,
        method: AuthMethod::Password,
    })
}

pub async fn authenticate(
    db: &Db,
    credentials: Credentials,
    ip: Option<IpAddr>,
) -> Result<Principal, AuthError> {
    match credentials {
        Credentials::Session(secret) => {
            let user_id =
                store::session_user(db.pool(), &secrets::token_hash(&secret), Timestamp::now())
                    .await?
                    .ok_or(AuthError::SessionExpired)?;
            let stored = store::user(db.pool(), user_id.as_str())
                .await?
                .ok_or(AuthError::SessionExpired)?;
            principal_for(db, stored.user, AuthMethod::Session).await
        }
        Credentials::Bearer(secret) => token_principal(db, &secret, None, ip).await,
        Credentials::Basic { username, secret } if secret.starts_with(API_TOKEN_PREFIX) => {
            token_principal(db, &secret, Some(&username), ip).await
        }
        Credentials::Basic { username, secret } => {
            let stored = check_password(db, &username, &secret, ip).await?;
            principal_for(db, stored.user, AuthMethod::Password).await
        }
    }
}

async fn token_principal(
    db: &Db,
    secret: &str,
    username: Option<&str>,
    ip: Option<IpAddr>,
) -> Result<Principal, AuthError> {
    let subject = username.unwrap_or("api-token");
    if throttled(db, subject, ip).await? {
        return Err(AuthError::Throttled);
    }
    let stored = store::token_by_hash(db.pool(), &secrets::token_hash(secret)).await?;
    let owner = match &stored {
        Some(token) if token.token.state == TokenState::Active => {
            store::user(db.pool(), token.token.user_id.as_str()).await?
        }
        _ => None,
    };
    match owner {
        Some(owner) if username.is_none_or(|u| u == owner.user.username.as_str()) => {
            principal_for(db, owner.user, AuthMethod::Token).await
        }
        _ => {
            let reason = match stored.map(|t| t.token.state) {
                Some(TokenState::Expired) => "token expired",
                Some(TokenState::Revoked) => "token revoked",
                _ => "unknown token",
            };
            record_failure(db, subject, ip, reason).await?;
            Err(AuthError::InvalidToken)
        }
    }
}
