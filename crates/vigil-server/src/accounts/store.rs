//! SQL for accounts, and the mapping of accounts onto logged records.
use super::domain::{
    ApiToken, Organisation, OrganisationKind, Roles, Status, TokenState, User, Username,
};
use crate::core::db::{WriteTx, find_by, select};
use crate::core::ids::{OrganisationId, TokenId, UserId};
use crate::core::ledger::record::{Personal, Record, Value};
use crate::core::ledger::{LedgerError, RecordWrite, insert_records, kinds, update_record};
use crate::core::time::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

use crate::core::db::{row_version as version, stored_timestamp as timestamp};

// ---------- organisations ----------

const ORGANISATION_COLUMNS: &str =
    "id, version, name, kind, country, stix_identity, status, created_at, updated_at";

fn organisation_from_row(row: &AnyRow) -> Result<Organisation, sqlx::Error> {
    let kind: String = row.try_get("kind")?;
    let status: String = row.try_get("status")?;
    Ok(Organisation {
        id: OrganisationId::from_stored(row.try_get("id")?),
        version: version(row)?,
        name: row.try_get("name")?,
        kind: OrganisationKind::parse(&kind).unwrap_or(OrganisationKind::Research),
        country: row.try_get("country")?,
        stix_identity: row.try_get("stix_identity")?,
        status: Status::parse(&status).unwrap_or(Status::Disabled),
        created_at: timestamp(row.try_get("created_at")?),
        updated_at: timestamp(row.try_get("updated_at")?),
    })
}

fn organisation_record(org: &Organisation) -> Record {
    Record::new(
        &kinds::ORGANISATION,
        org.id.as_str(),
        org.version,
        vec![
            Value::from(org.name.clone()),
            Value::from(org.kind.as_str()),
            Value::from(org.country.clone()),
            Value::from(org.stix_identity.clone()),
            Value::from(org.status.as_str()),
            Value::from(org.created_at.to_string()),
            Value::from(org.updated_at.to_string()),
        ],
    )
}

pub async fn insert_organisation(tx: &mut WriteTx, org: &Organisation) -> Result<(), LedgerError> {
    let record = organisation_record(org);
    insert_records(
        tx,
        &[RecordWrite {
            record: &record,
            personal: None,
        }],
    )
    .await?;
    Ok(())
}

pub async fn update_organisation(tx: &mut WriteTx, org: &Organisation) -> Result<(), LedgerError> {
    update_record(
        tx,
        RecordWrite {
            record: &organisation_record(org),
            personal: None,
        },
    )
    .await?;
    Ok(())
}

pub async fn organisation<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    id: &str,
) -> Result<Option<Organisation>, sqlx::Error> {
    find_by(
        executor,
        (ORGANISATION_COLUMNS, "organisations"),
        "id",
        id,
        organisation_from_row,
    )
    .await
}

pub async fn organisation_by_name<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    name: &str,
) -> Result<Option<Organisation>, sqlx::Error> {
    find_by(
        executor,
        (ORGANISATION_COLUMNS, "organisations"),
        "name",
        name,
        organisation_from_row,
    )
    .await
}

pub async fn organisations<'e, E: Executor<'e, Database = Any>>(
    executor: E,
) -> Result<Vec<Organisation>, sqlx::Error> {
    let sql = select(ORGANISATION_COLUMNS, "organisations", "ORDER BY name");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(executor)
        .await?
        .iter()
        .map(organisation_from_row)
        .collect()
}

// ---------- users ----------

const USER_COLUMNS: &str = "id, version, organisation_id, username, roles, password_hash, status, created_at, updated_at, display_name, email";

/// A user with the password hash, for authentication only.
pub struct UserWithSecret {
    pub user: User,
    pub password_hash: String,
}

fn user_from_row(row: &AnyRow) -> Result<UserWithSecret, sqlx::Error> {
    let status: String = row.try_get("status")?;
    let roles: String = row.try_get("roles")?;
    let username: String = row.try_get("username")?;
    Ok(UserWithSecret {
        user: User {
            id: UserId::from_stored(row.try_get("id")?),
            version: version(row)?,
            organisation_id: OrganisationId::from_stored(row.try_get("organisation_id")?),
            username: Username::parse(&username)
                .unwrap_or_else(|_| super::domain::Username::unchecked(username)),
            roles: Roles::from_stored(&roles),
            status: Status::parse(&status).unwrap_or(Status::Disabled),
            display_name: row.try_get("display_name")?,
            email: row.try_get("email")?,
            created_at: timestamp(row.try_get("created_at")?),
            updated_at: timestamp(row.try_get("updated_at")?),
        },
        password_hash: row.try_get("password_hash")?,
    })
}

fn user_record(user: &User, password_hash: &str) -> Record {
    Record::new(
        &kinds::USER,
        user.id.as_str(),
        user.version,
        vec![
            Value::from(user.organisation_id.to_string()),
            Value::from(user.username.as_str()),
            Value::from(user.roles.to_stored()),
            Value::from(password_hash),
            Value::from(user.status.as_str()),
            Value::from(user.created_at.to_string()),
            Value::from(user.updated_at.to_string()),
        ],
    )
}

fn user_personal(user: &User) -> Personal {
    Personal(vec![user.display_name.clone(), user.email.clone()])
}

pub async fn insert_user(
    tx: &mut WriteTx,
    user: &User,
    password_hash: &str,
) -> Result<(), LedgerError> {
    let record = user_record(user, password_hash);
    let personal = user_personal(user);
    insert_records(
        tx,
        &[RecordWrite {
            record: &record,
            personal: Some(&personal),
        }],
    )
    .await?;
    Ok(())
}

/// Writes the next version of a user; `personal_changed` rewrites the personal
/// values (and their digest), otherwise they are left as they are.
pub async fn update_user(
    tx: &mut WriteTx,
    user: &User,
    password_hash: &str,
    personal_changed: bool,
) -> Result<(), LedgerError> {
    let record = user_record(user, password_hash);
    let personal = user_personal(user);
    update_record(
        tx,
        RecordWrite {
            record: &record,
            personal: personal_changed.then_some(&personal),
        },
    )
    .await?;
    Ok(())
}

/// Erases a user's personal values and the salt of their digest: the log
/// still verifies, and the values cannot be recovered or guessed.
pub async fn redact_user(tx: &mut WriteTx, id: &UserId) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE users SET display_name = NULL, email = NULL, personal_salt = NULL WHERE id = $1",
    )
    .bind(id.to_string())
    .execute(tx.conn())
    .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn user<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    id: &str,
) -> Result<Option<UserWithSecret>, sqlx::Error> {
    find_by(executor, (USER_COLUMNS, "users"), "id", id, user_from_row).await
}

pub async fn user_by_username<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    username: &str,
) -> Result<Option<UserWithSecret>, sqlx::Error> {
    find_by(
        executor,
        (USER_COLUMNS, "users"),
        "username",
        username,
        user_from_row,
    )
    .await
}

pub async fn users<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    organisation: Option<&OrganisationId>,
) -> Result<Vec<User>, sqlx::Error> {
    let rows = match organisation {
        Some(org) => {
            let sql = select(
                USER_COLUMNS,
                "users",
                "WHERE organisation_id = $1 ORDER BY username",
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(org.to_string())
                .fetch_all(executor)
                .await?
        }
        None => {
            let sql = select(USER_COLUMNS, "users", "ORDER BY username");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(executor)
                .await?
        }
    };
    rows.iter()
        .map(|row| user_from_row(row).map(|u| u.user))
        .collect()
}

pub async fn count_users<'e, E: Executor<'e, Database = Any>>(
    executor: E,
) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) FROM users")
        .fetch_one(executor)
        .await?
        .try_get(0)
}

// ---------- API tokens ----------

const TOKEN_COLUMNS: &str =
    "id, version, user_id, name, token_hash, created_at, expires_at, revoked_at, updated_at";

pub struct StoredToken {
    pub token: ApiToken,
    pub token_hash: String,
    pub updated_at: Timestamp,
}

fn token_from_row(row: &AnyRow) -> Result<StoredToken, sqlx::Error> {
    let expires_at: Option<String> = row.try_get("expires_at")?;
    let revoked_at: Option<String> = row.try_get("revoked_at")?;
    let expires_at = expires_at.map(timestamp);
    let revoked_at = revoked_at.map(timestamp);
    Ok(StoredToken {
        token: ApiToken {
            id: TokenId::from_stored(row.try_get("id")?),
            version: version(row)?,
            user_id: UserId::from_stored(row.try_get("user_id")?),
            name: row.try_get("name")?,
            created_at: timestamp(row.try_get("created_at")?),
            expires_at,
            revoked_at,
            state: TokenState::at(Timestamp::now(), expires_at, revoked_at),
        },
        token_hash: row.try_get("token_hash")?,
        updated_at: timestamp(row.try_get("updated_at")?),
    })
}

fn token_record(token: &ApiToken, token_hash: &str, updated_at: Timestamp) -> Record {
    Record::new(
        &kinds::API_TOKEN,
        token.id.as_str(),
        token.version,
        vec![
            Value::from(token.user_id.to_string()),
            Value::from(token.name.clone()),
            Value::from(token_hash),
            Value::from(token.created_at.to_string()),
            Value::from(token.expires_at.map(|t| t.to_string())),
            Value::from(token.revoked_at.map(|t| t.to_string())),
            Value::from(updated_at.to_string()),
        ],
    )
}

pub async fn insert_token(
    tx: &mut WriteTx,
    token: &ApiToken,
    token_hash: &str,
) -> Result<(), LedgerError> {
    let record = token_record(token, token_hash, token.created_at);
    insert_records(
        tx,
        &[RecordWrite {
            record: &record,
            personal: None,
        }],
    )
    .await?;
    Ok(())
}

pub async fn update_token(
    tx: &mut WriteTx,
    token: &ApiToken,
    token_hash: &str,
    updated_at: Timestamp,
) -> Result<(), LedgerError> {
    update_record(
        tx,
        RecordWrite {
            record: &token_record(token, token_hash, updated_at),
            personal: None,
        },
    )
    .await?;
    Ok(())
}

pub async fn token<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    id: &str,
) -> Result<Option<StoredToken>, sqlx::Error> {
    find_by(
        executor,
        (TOKEN_COLUMNS, "api_tokens"),
        "id",
        id,
        token_from_row,
    )
    .await
}

pub async fn token_by_hash<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    hash: &str,
) -> Result<Option<StoredToken>, sqlx::Error> {
    find_by(
        executor,
        (TOKEN_COLUMNS, "api_tokens"),
        "token_hash",
        hash,
        token_from_row,
    )
    .await
}

pub async fn tokens_of<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    user: &UserId,
) -> Result<Vec<ApiToken>, sqlx::Error> {
    let sql = select(
        TOKEN_COLUMNS,
        "api_tokens",
        "WHERE user_id = $1 ORDER BY created_at",
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(user.to_string())
        .fetch_all(executor)
        .await?
        .iter()
        .map(|row| token_from_row(row).map(|t| t.token))
        .collect()
}

// ---------- sessions (operational, not logged) ----------

pub async fn insert_session(
    tx: &mut WriteTx,
    token_hash: &str,
    user: &UserId,
    expires_at: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash.to_string())
        .bind(user.to_string())
        .bind(Timestamp::now().to_string())
        .bind(expires_at.to_string())
        .execute(tx.conn())
        .await?;
    Ok(())
}

pub async fn session_user<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<UserId>, sqlx::Error> {
    let row = sqlx::query("SELECT user_id FROM sessions WHERE token_hash = $1 AND expires_at > $2")
        .bind(token_hash.to_string())
        .bind(now.to_string())
        .fetch_optional(executor)
        .await?;
    row.map(|r| r.try_get::<String, _>(0).map(UserId::from_stored))
        .transpose()
}

pub async fn delete_sessions<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    condition_user: Option<&UserId>,
    token_hash: Option<&str>,
) -> Result<(), sqlx::Error> {
    match (condition_user, token_hash) {
        (_, Some(hash)) => {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(hash.to_string())
                .execute(executor)
                .await?;
        }
        (Some(user), None) => {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user.to_string())
                .execute(executor)
                .await?;
        }
        (None, None) => {
            sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
                .bind(Timestamp::now().to_string())
                .execute(executor)
                .await?;
        }
    }
    Ok(())
}

// ---------- failed attempts, for rate limiting ----------

/// Failed authentications for `subject` (a username) since `since`.
pub async fn failures_for_subject<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    subject: &str,
    since: Timestamp,
) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) FROM audit_events WHERE action = 'auth.login_failed' AND subject = $1 AND at > $2")
        .bind(subject.to_string())
        .bind(since.to_string())
        .fetch_one(executor)
        .await?
        .try_get(0)
}

/// Failed authentications from `address` since `since`.
pub async fn failures_from_address<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    address: &str,
    since: Timestamp,
) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) FROM audit_events WHERE action = 'auth.login_failed' AND ip_address = $1 AND at > $2")
        .bind(address.to_string())
        .bind(since.to_string())
        .fetch_one(executor)
        .await?
        .try_get(0)
}
