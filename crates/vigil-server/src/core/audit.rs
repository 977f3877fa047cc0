//! Audit events: who did what security-relevant thing, when and with what
//! outcome. Each event is a log leaf written in the transaction of the action
//! it describes; the caller's IP address is personal data (redactable).
use crate::core::db::WriteTx;
use crate::core::ids::{AuditEventId, UserId};
use crate::core::ledger::record::{Personal, Record, Value};
use crate::core::ledger::{LedgerError, RecordWrite, insert_records, kinds};
use crate::core::time::Timestamp;
use std::net::IpAddr;

/// Who acted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    User(UserId),
    /// `vigil admin` on the server's machine.
    CommandLine,
    /// The server itself (demo seeding, scheduled work).
    System,
    /// An unauthenticated caller (failed logins).
    Anonymous,
}

impl Actor {
    pub fn as_stored(&self) -> String {
        match self {
            Actor::User(id) => id.to_string(),
            Actor::CommandLine => "cli".into(),
            Actor::System => "system".into(),
            Actor::Anonymous => "anonymous".into(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
}

/// One audit event; `action` is a stable dotted name such as `auth.login_failed`.
pub struct AuditEvent<'a> {
    pub actor: &'a Actor,
    pub action: &'static str,
    pub subject: &'a str,
    pub outcome: Outcome,
    pub details: serde_json::Value,
    pub ip: Option<IpAddr>,
}

pub async fn record(tx: &mut WriteTx, event: AuditEvent<'_>) -> Result<AuditEventId, LedgerError> {
    let id = AuditEventId::generate();
    let record = Record::new(
        &kinds::AUDIT_EVENT,
        id.as_str(),
        1,
        vec![
            Value::from(Timestamp::now().to_string()),
            Value::from(event.actor.as_stored()),
            Value::from(event.action),
            Value::from(event.subject),
            Value::from(match event.outcome {
                Outcome::Success => "success",
                Outcome::Failure => "failure",
            }),
            Value::from(event.details.to_string()),
        ],
    );
    let personal = Personal(vec![event.ip.map(|ip| ip.to_string())]);
    insert_records(
        tx,
        &[RecordWrite {
            record: &record,
            personal: Some(&personal),
        }],
    )
    .await?;
    Ok(id)
}

/// An audit event as administrators read it (personal data included unless redacted).
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: String,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub outcome: String,
    pub details: serde_json::Value,
    pub ip_address: Option<String>,
}

/// The newest events first; `action` filters by exact action name.
pub async fn recent(
    db: &crate::core::db::Db,
    limit: i64,
    action: Option<&str>,
) -> Result<Vec<AuditEntry>, sqlx::Error> {
    use sqlx::Row;
    let limit = limit.clamp(1, 1000);
    let rows = match action {
        Some(action) => {
            sqlx::query("SELECT id, at, actor, action, subject, outcome, details, ip_address FROM audit_events WHERE action = $1 ORDER BY at DESC LIMIT $2")
                .bind(action.to_string())
                .bind(limit)
                .fetch_all(db.pool())
                .await?
        }
        None => {
            sqlx::query("SELECT id, at, actor, action, subject, outcome, details, ip_address FROM audit_events ORDER BY at DESC LIMIT $1")
                .bind(limit)
                .fetch_all(db.pool())
                .await?
        }
    };
    rows.iter()
        .map(|row| {
            let details: String = row.try_get("details")?;
            Ok(AuditEntry {
                id: row.try_get("id")?,
                at: row.try_get("at")?,
                actor: row.try_get("actor")?,
                action: row.try_get("action")?,
                subject: row.try_get("subject")?,
                outcome: row.try_get("outcome")?,
                details: serde_json::from_str(&details)
                    .unwrap_or(serde_json::Value::String(details)),
                ip_address: row.try_get("ip_address")?,
            })
        })
        .collect()
}
