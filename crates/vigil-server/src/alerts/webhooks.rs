//! Webhooks: an organisation registers a URL and receives, as signed JSON
//! POSTs, the live-stream events its organisation may see (organisation
//! rights: RED objects, which are for named individuals, are never sent).
//!
//! The log is the queue: each webhook keeps the log index it has delivered
//! up to. Every server process runs the delivery loop; a webhook is leased
//! by one process at a time (an atomic UPDATE), so nothing is sent twice by
//! two processes, and after a failure the batch is retried with backoff.
//! The signing secret is derived from the log key and shown once: nothing
//! secret is stored in the database.
use super::domain::{Access, ActiveStatus, Viewer, hmac};
use super::store;
use super::stream::{LiveEvent, events_after};
use crate::accounts::store as accounts_store;
use crate::core::audit::{self, Actor, AuditEvent, Outcome};
use crate::core::db::{Db, row_version, stored_timestamp};
use crate::core::error::{ApiError, FieldError};
use crate::core::ids::{OrganisationId, WebhookId};
use crate::core::ledger::record::{Record, Value};
use crate::core::ledger::{Ledger, RecordWrite, insert_records, kinds, update_record};
use crate::core::time::Timestamp;
use sqlx::Row;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::watch;

/// Events per POST at most.
const BATCH: u64 = 100;
/// How long a process holds a webhook while it delivers.
const LEASE: Duration = Duration::from_secs(30);
const TICK: Duration = Duration::from_millis(500);

#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Webhook {
    pub id: WebhookId,
    pub version: u64,
    pub organisation_id: OrganisationId,
    pub url: String,
    pub status: ActiveStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The secret a receiver checks `X-Vigil-Signature: sha256=<hex>` with.
pub fn signing_secret(ledger: &Ledger, id: &WebhookId) -> [u8; 32] {
    ledger.derive_secret(&format!("webhook {}", id.as_str()))
}

/// `sha256=` and the hexadecimal HMAC-SHA-256 of the body.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    format!("sha256={}", hex::encode(hmac(secret, body)))
}

fn record(webhook: &Webhook) -> Record {
    Record::new(
        &kinds::WEBHOOK,
        webhook.id.as_str(),
        webhook.version,
        vec![
            Value::from(webhook.organisation_id.as_str()),
            Value::from(webhook.url.clone()),
            Value::from(webhook.status.as_str()),
            Value::from(webhook.created_at.to_string()),
            Value::from(webhook.updated_at.to_string()),
        ],
    )
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Webhook, sqlx::Error> {
    let status: String = row.try_get("status")?;
    Ok(Webhook {
        id: WebhookId::from_stored(row.try_get("id")?),
        version: row_version(row)?,
        organisation_id: OrganisationId::from_stored(row.try_get("organisation_id")?),
        url: row.try_get("url")?,
        status: ActiveStatus::parse(&status).unwrap_or(ActiveStatus::Removed),
        created_at: stored_timestamp(row.try_get("created_at")?),
        updated_at: stored_timestamp(row.try_get("updated_at")?),
    })
}

const COLUMNS: &str = "id, version, organisation_id, url, status, created_at, updated_at";

pub async fn webhooks(
    db: &Db,
    organisation: Option<&OrganisationId>,
) -> Result<Vec<Webhook>, ApiError> {
    let rows = match organisation {
        Some(org) => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM webhooks WHERE organisation_id = $1 ORDER BY created_at"
            )))
            .bind(org.as_str().to_string())
            .fetch_all(db.pool())
            .await?
        }
        None => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM webhooks WHERE status = 'active' ORDER BY created_at"
            )))
            .fetch_all(db.pool())
            .await?
        }
    };
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Registers a webhook for an organisation; returns it with its signing
/// secret (hexadecimal), shown once. Deliveries start with the next event.
pub async fn add_webhook(
    db: &Db,
    ledger: &Ledger,
    actor: &Actor,
    organisation: &str,
    url: &str,
) -> Result<(Webhook, String), ApiError> {
    let url = url.trim();
    if !(url.starts_with("https://") || url.starts_with("http://"))
        || url.len() > 2_000
        || url.contains(char::is_whitespace)
    {
        return Err(ApiError::invalid(vec![FieldError::new(
            "url",
            "an http:// or https:// URL",
        )]));
    }
    let mut tx = db.write().await?;
    let organisation = accounts_store::organisation(tx.conn(), organisation)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such organisation".into()))?;
    let now = Timestamp::now();
    let webhook = Webhook {
        id: WebhookId::generate(),
        version: 1,
        organisation_id: organisation.id,
        url: url.to_string(),
        status: ActiveStatus::Active,
        created_at: now,
        updated_at: now,
    };
    let written = record(&webhook);
    insert_records(&mut tx, &RecordWrite::all(std::slice::from_ref(&written))).await?;
    let position = store::log_size(tx.conn()).await?;
    sqlx::query("INSERT INTO webhook_deliveries (id, delivered_up_to, failures, last_error, next_attempt_at, lease_until) VALUES ($1, $2, 0, NULL, $3, $3)")
        .bind(webhook.id.as_str().to_string())
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .bind(now.to_string())
        .execute(tx.conn())
        .await?;
    audit::record(&mut tx, AuditEvent { actor, action: "webhook.added", subject: webhook.id.as_str(), outcome: Outcome::Success, details: serde_json::json!({"organisation": webhook.organisation_id, "url": webhook.url}), ip: None }).await?;
    tx.commit().await?;
    let secret = hex::encode(signing_secret(ledger, &webhook.id));
    Ok((webhook, secret))
}

pub async fn remove_webhook(db: &Db, actor: &Actor, id: &str) -> Result<Webhook, ApiError> {
    let mut tx = db.write().await?;
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhooks WHERE id = $1"
    )))
    .bind(id.to_string())
    .fetch_optional(tx.conn())
    .await?
    .ok_or_else(|| ApiError::NotFound("no such webhook".into()))?;
    let current = from_row(&row)?;
    if current.status == ActiveStatus::Removed {
        return Ok(current);
    }
    let removed = Webhook {
        version: current.version + 1,
        status: ActiveStatus::Removed,
        updated_at: Timestamp::now(),
        ..current
    };
    let written = record(&removed);
    update_record(
        &mut tx,
        RecordWrite {
            record: &written,
            personal: None,
        },
    )
    .await?;
    audit::record(
        &mut tx,
        AuditEvent {
            actor,
            action: "webhook.removed",
            subject: removed.id.as_str(),
            outcome: Outcome::Success,
            details: serde_json::json!({}),
            ip: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(removed)
}

/// What an organisation may see, per collection, for its webhooks.
async fn organisation_viewers(
    db: &Db,
    organisation: &OrganisationId,
) -> Result<HashMap<String, Viewer>, ApiError> {
    let memberships = store::communities_of(db.pool(), organisation).await?;
    let mut viewers = HashMap::new();
    for community in store::communities(db.pool()).await? {
        for collection in store::collections_of(db.pool(), &community.id).await? {
            let grant = store::grant(db.pool(), &collection.id, organisation.as_str()).await?;
            let can_read = grant.as_ref().is_some_and(|g| g.can_read)
                && collection.status == ActiveStatus::Active;
            let access = Access {
                can_read,
                can_write: false,
                member: memberships.contains(&community.id),
                organisation_reads: can_read,
            };
            if let Some(open) = access.open_tlp() {
                // No user: RED objects, meant for named individuals, are never sent.
                viewers.insert(
                    collection.id.as_str().to_string(),
                    Viewer {
                        user: String::new(),
                        organisation: organisation.as_str().to_string(),
                        open,
                    },
                );
            }
        }
    }
    Ok(viewers)
}

fn visible(viewers: &HashMap<String, Viewer>, event: &LiveEvent) -> bool {
    let (tlp, originator, poster, audience) = &event.visibility;
    viewers
        .get(&event.collection)
        .is_some_and(|viewer| viewer.sees(*tlp, originator, poster, audience))
}

/// Runs deliveries in this process until `closing` turns true.
pub fn start(db: Db, ledger: Ledger, mut closing: watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(TICK);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = closing.changed() => return,
            }
            match webhooks(&db, None).await {
                Ok(active) => {
                    for webhook in active {
                        if let Err(e) = deliver(&db, &ledger, &webhook).await {
                            tracing::warn!(webhook = %webhook.id, error = %e, "webhook delivery failed");
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "reading webhooks failed"),
            }
        }
    });
}

/// Delivers the next batch for one webhook if this process wins its lease.
async fn deliver(db: &Db, ledger: &Ledger, webhook: &Webhook) -> Result<(), ApiError> {
    let now = Timestamp::now();
    let claimed = sqlx::query("UPDATE webhook_deliveries SET lease_until = $1 WHERE id = $2 AND lease_until <= $3 AND next_attempt_at <= $3")
        .bind(now.plus(LEASE).to_string())
        .bind(webhook.id.as_str().to_string())
        .bind(now.to_string())
        .execute(db.pool())
        .await?
        .rows_affected();
    if claimed == 0 {
        return Ok(());
    }
    let state =
        sqlx::query("SELECT delivered_up_to, failures FROM webhook_deliveries WHERE id = $1")
            .bind(webhook.id.as_str().to_string())
            .fetch_one(db.pool())
            .await?;
    let delivered: i64 = state.try_get(0)?;
    let failures: i64 = state.try_get(1)?;
    let after = u64::try_from(delivered).unwrap_or(0);
    let events = events_after(db, after, BATCH).await?;
    let last = events.last().map_or(after, |e| e.log_index);
    // Rights are read only when there is something to judge (most ticks have nothing).
    let viewers = if events.is_empty() {
        HashMap::new()
    } else {
        organisation_viewers(db, &webhook.organisation_id).await?
    };
    let visible: Vec<&LiveEvent> = events.iter().filter(|e| visible(&viewers, e)).collect();
    let outcome = if visible.is_empty() {
        Ok(())
    } else {
        let body =
            serde_json::to_vec(&serde_json::json!({"webhook": webhook.id, "events": visible}))
                .map_err(|e| ApiError::Internal(e.into()))?;
        let url = webhook.url.clone();
        let signed = signature(&signing_secret(ledger, &webhook.id), &body);
        let id = webhook.id.as_str().to_string();
        tokio::task::spawn_blocking(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .timeout_global(Some(Duration::from_secs(10)))
                .http_status_as_error(true)
                .build()
                .into();
            agent
                .post(&url)
                .header("content-type", "application/json")
                .header("x-vigil-webhook", &id)
                .header("x-vigil-signature", &signed)
                .send(&body[..])
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
    };
    let now = Timestamp::now();
    match outcome {
        Ok(()) => {
            sqlx::query("UPDATE webhook_deliveries SET delivered_up_to = $1, failures = 0, last_error = NULL, lease_until = $2, next_attempt_at = $2 WHERE id = $3")
                .bind(i64::try_from(last).unwrap_or(i64::MAX))
                .bind(now.to_string())
                .bind(webhook.id.as_str().to_string())
                .execute(db.pool())
                .await?;
        }
        Err(error) => {
            // 1 s, 2 s, 4 s … up to 10 minutes between attempts.
            let backoff = Duration::from_secs(1u64 << failures.clamp(0, 9) as u32)
                .min(Duration::from_secs(600));
            sqlx::query("UPDATE webhook_deliveries SET failures = failures + 1, last_error = $1, lease_until = $2, next_attempt_at = $3 WHERE id = $4")
                .bind(error)
                .bind(now.to_string())
                .bind(now.plus(backoff).to_string())
                .bind(webhook.id.as_str().to_string())
                .execute(db.pool())
                .await?;
        }
    }
    Ok(())
}
