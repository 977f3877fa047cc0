//! Citizens' notices of possibly non-compliant ads (Art. 15): submission
//! with an acknowledgement at once, a status page for the notifier, a queue
//! for the ad's publisher and for regulators where decisions are recorded
//! with their reasons, and public counts. The notifier's name, email and
//! the digest of their address are personal data (kept out of the log's
//! canonical form, redactable) and never leave the queue. Submissions are
//! limited per source address.
use super::domain::notice::{
    NoticeError, NoticeInput, NoticeStatus, NoticeStep, normalise_tracking, step, tracking_number,
};
use super::store as ads_store;
use crate::accounts::domain::Role;
use crate::accounts::service::Principal;
use crate::core::audit::{self, Actor, AuditEvent, Outcome};
use crate::core::db::{Db, WriteTx, row_version};
use crate::core::error::ApiError;
use crate::core::ledger::record::{Personal, Record, Value};
use crate::core::ledger::{LedgerError, RecordWrite, insert_records, kinds, update_record};
use crate::core::time::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};
use std::net::IpAddr;
use std::time::Duration;

/// Notices one source address may send per hour.
pub const NOTICES_PER_HOUR: i64 = 5;

/// A notice as the queue sees it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Notice {
    pub tracking: String,
    pub version: u64,
    pub ad: String,
    pub status: NoticeStatus,
    pub explanation: String,
    pub evidence_url: Option<String>,
    /// The decision's reasons, once decided.
    pub reasons: Option<String>,
    pub received_at: String,
    pub updated_at: String,
    /// Personal data: `None` once redacted.
    pub notifier_name: Option<String>,
    pub notifier_email: Option<String>,
}

/// What the notifier and the public see of a notice: no identity.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct NoticeStatusView {
    pub tracking: String,
    pub ad: String,
    pub status: NoticeStatus,
    pub reasons: Option<String>,
    pub received_at: String,
    pub updated_at: String,
}

impl Notice {
    pub fn public(&self) -> NoticeStatusView {
        NoticeStatusView {
            tracking: self.tracking.clone(),
            ad: self.ad.clone(),
            status: self.status,
            reasons: self.reasons.clone(),
            received_at: self.received_at.clone(),
            updated_at: self.updated_at.clone(),
        }
    }

    fn record(&self) -> Record {
        let optional = |t: &Option<String>| t.clone().map_or(Value::Null, Value::from);
        Record::new(
            &kinds::AD_NOTICE,
            self.tracking.clone(),
            self.version,
            vec![
                Value::from(self.ad.clone()),
                Value::from(self.status.as_str().to_string()),
                Value::from(self.explanation.clone()),
                optional(&self.evidence_url),
                optional(&self.reasons),
                Value::from(self.received_at.clone()),
                Value::from(self.updated_at.clone()),
            ],
        )
    }
}

const COLUMNS: &str = "id, version, ad_id, status, explanation, evidence_url, reasons, received_at, updated_at, notifier_name, notifier_email";

fn from_row(row: &AnyRow) -> Result<Notice, sqlx::Error> {
    let status: String = row.try_get("status")?;
    Ok(Notice {
        tracking: row.try_get("id")?,
        version: row_version(row)?,
        ad: row.try_get("ad_id")?,
        status: NoticeStatus::parse(&status)
            .ok_or_else(|| sqlx::Error::Decode(format!("notice status {status:?}").into()))?,
        explanation: row.try_get("explanation")?,
        evidence_url: row.try_get("evidence_url")?,
        reasons: row.try_get("reasons")?,
        received_at: row.try_get("received_at")?,
        updated_at: row.try_get("updated_at")?,
        notifier_name: row.try_get("notifier_name")?,
        notifier_email: row.try_get("notifier_email")?,
    })
}

async fn notice<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    tracking: &str,
) -> Result<Option<Notice>, sqlx::Error> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM ads_notices WHERE id = $1"
    )))
    .bind(tracking.to_string())
    .fetch_optional(executor)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

async fn save(
    tx: &mut WriteTx,
    notice: &Notice,
    source: Option<&str>,
    first: bool,
) -> Result<(), LedgerError> {
    let record = notice.record();
    let personal = Personal(vec![
        notice.notifier_name.clone(),
        notice.notifier_email.clone(),
        source.map(str::to_string),
    ]);
    if first {
        insert_records(
            tx,
            &[RecordWrite {
                record: &record,
                personal: Some(&personal),
            }],
        )
        .await?;
    } else {
        update_record(
            tx,
            RecordWrite {
                record: &record,
                personal: None,
            },
        )
        .await?;
    }
    Ok(())
}

/// The source address, keyed so that it is not stored in the clear.
fn source_digest(key: &[u8; 32], ip: Option<IpAddr>) -> Option<String> {
    ip.map(|ip| hex::encode(crate::alerts::domain::hmac(key, ip.to_string().as_bytes())))
}

/// Receives a notice about a published ad and acknowledges it at once.
pub async fn submit(
    db: &Db,
    source_key: &[u8; 32],
    ad: &str,
    mut input: NoticeInput,
    ip: Option<IpAddr>,
) -> Result<Notice, ApiError> {
    if ads_store::ad(db.pool(), ad).await?.is_none() {
        return Err(ApiError::NotFound("no such ad".into()));
    }
    input.check().map_err(ApiError::invalid)?;
    let source = source_digest(source_key, ip);
    let mut tx = db.write().await?;
    if let Some(source) = &source {
        let since = Timestamp::now()
            .minus(Duration::from_secs(3600))
            .to_string();
        let recent: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM ads_notices WHERE source_digest = $1 AND received_at > $2")
            .bind(source.clone())
            .bind(since)
            .fetch_one(tx.conn())
            .await?;
        if recent >= NOTICES_PER_HOUR {
            return Err(ApiError::TooManyRequests {
                retry_after_seconds: 3600,
            });
        }
    }
    let random = crate::core::secrets::random_bytes::<10>()?;
    let now = Timestamp::now().to_string();
    let notice = Notice {
        tracking: tracking_number(&random),
        version: 1,
        ad: ad.to_string(),
        status: NoticeStatus::Acknowledged,
        explanation: input.explanation,
        evidence_url: input.evidence_url,
        reasons: None,
        received_at: now.clone(),
        updated_at: now,
        notifier_name: Some(input.name),
        notifier_email: Some(input.email),
    };
    save(&mut tx, &notice, source.as_deref(), true).await?;
    tx.commit().await?;
    Ok(notice)
}

/// A notice's status for its notifier (by tracking number).
pub async fn status(db: &Db, tracking: &str) -> Result<NoticeStatusView, ApiError> {
    let missing = || ApiError::NotFound("no notice has this tracking number".into());
    let tracking = normalise_tracking(tracking).ok_or_else(missing)?;
    Ok(notice(db.pool(), &tracking)
        .await?
        .ok_or_else(missing)?
        .public())
}

/// The queue: every notice a regulator may see, or those about the
/// principal's organisation's ads, newest first, with the notifier.
pub async fn queue(db: &Db, principal: &Principal) -> Result<Vec<Notice>, ApiError> {
    if !principal.has_role(&Role::REGULATOR) && !principal.has_role(&Role::FILER) {
        return Err(ApiError::Forbidden(
            "the notices queue needs the filer or regulator role".into(),
        ));
    }
    let sql = if principal.has_role(&Role::REGULATOR) {
        format!("SELECT {COLUMNS} FROM ads_notices ORDER BY received_at DESC, id")
    } else {
        format!(
            "SELECT n.{} FROM ads_notices n JOIN ads_ads a ON a.id = n.ad_id WHERE a.organisation_id = $1 ORDER BY n.received_at DESC, n.id",
            COLUMNS.replace(", ", ", n.")
        )
    };
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    if !principal.has_role(&Role::REGULATOR) {
        query = query.bind(principal.organisation.id.to_string());
    }
    Ok(query
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(from_row)
        .collect::<Result<_, _>>()?)
}

/// Records a step of the queue: review started, or a decision with reasons.
pub async fn decide(
    db: &Db,
    principal: &Principal,
    tracking: &str,
    next: NoticeStep,
    reasons: &str,
) -> Result<Notice, ApiError> {
    let missing = || ApiError::NotFound("no such notice, or you may not handle it".into());
    let tracking = normalise_tracking(tracking).ok_or_else(missing)?;
    let mut tx = db.write().await?;
    let mut current = notice(tx.conn(), &tracking).await?.ok_or_else(missing)?;
    // A regulator handles every notice; a filer those about its organisation's ads.
    let handles = principal.has_role(&Role::REGULATOR)
        || (principal.has_role(&Role::FILER)
            && ads_store::ad(tx.conn(), &current.ad)
                .await?
                .is_some_and(|a| a.organisation == principal.organisation.id));
    if !handles {
        return Err(missing());
    }
    current.status = step(current.status, next, reasons).map_err(|e| match e {
        NoticeError::ReasonRequired => {
            ApiError::invalid(vec![crate::core::error::FieldError::new(
                "reasons",
                e.to_string(),
            )])
        }
        NoticeError::Decided(_) => ApiError::Conflict(e.to_string()),
    })?;
    if next != NoticeStep::StartReview {
        current.reasons = Some(reasons.trim().to_string());
    }
    current.version += 1;
    current.updated_at = Timestamp::now().to_string();
    save(&mut tx, &current, None, false).await?;
    tx.commit().await?;
    Ok(current)
}

/// How long a decided notice keeps its notifier's identity by default: the
/// publisher and the regulator have answered by then, and the notifier can
/// follow the outcome by tracking number without it.
pub const IDENTITY_RETENTION: Duration = Duration::from_secs(90 * 24 * 3600);

/// Erases the personal data of notices (name, email, keyed address digest
/// and the salt that made them checkable against the log). The log keeps
/// the notices' other data and still verifies; nothing can bring the
/// identity back.
async fn erase_identity(tx: &mut WriteTx, filter: &str, bind: String) -> Result<u64, sqlx::Error> {
    let sql = format!(
        "UPDATE ads_notices SET notifier_name = NULL, notifier_email = NULL, source_digest = NULL, personal_salt = NULL \
         WHERE personal_salt IS NOT NULL AND {filter}"
    );
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(bind)
        .execute(tx.conn())
        .await?
        .rows_affected())
}

/// Erases one notifier's identity (their request, or a regulator's
/// decision); the notice stays in the queue as "redacted".
pub async fn redact(db: &Db, actor: &Actor, tracking: &str) -> Result<(), ApiError> {
    let missing = || ApiError::NotFound("no notice has this tracking number".into());
    let tracking = normalise_tracking(tracking).ok_or_else(missing)?;
    let mut tx = db.write().await?;
    notice(tx.conn(), &tracking).await?.ok_or_else(missing)?;
    erase_identity(&mut tx, "id = $1", tracking.clone()).await?;
    audit::record(
        &mut tx,
        AuditEvent {
            actor,
            action: "ads.notice_identity_redacted",
            subject: &tracking,
            outcome: Outcome::Success,
            details: serde_json::json!({}),
            ip: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Erases the identity of every notice decided more than `retention` ago
/// (notices still open keep it: their notifier may be asked more). Returns
/// how many were erased; the server runs this every hour.
pub async fn expire_identities(db: &Db, retention: Duration) -> Result<u64, ApiError> {
    let cutoff = Timestamp::now().minus(retention).to_string();
    let mut tx = db.write().await?;
    let erased = erase_identity(
        &mut tx,
        "status IN ('upheld', 'rejected') AND updated_at < $1",
        cutoff.clone(),
    )
    .await?;
    if erased > 0 {
        audit::record(
            &mut tx,
            AuditEvent {
                actor: &Actor::System,
                action: "ads.notice_identities_expired",
                subject: "ads_notices",
                outcome: Outcome::Success,
                details: serde_json::json!({"notices": erased, "decided_before": cutoff}),
                ip: None,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(erased)
}

/// Notices per status, over all ads or one election's (public; no identity).
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct NoticeCounts {
    pub acknowledged: u64,
    pub under_review: u64,
    pub upheld: u64,
    pub rejected: u64,
}

pub async fn counts(db: &Db, election: Option<&str>) -> Result<NoticeCounts, ApiError> {
    let rows = match election {
        Some(election) => sqlx::query("SELECT n.status, CAST(COUNT(*) AS BIGINT) AS n FROM ads_notices n JOIN ads_ads a ON a.id = n.ad_id WHERE a.election_id = $1 GROUP BY n.status")
            .bind(election.to_string())
            .fetch_all(db.pool())
            .await?,
        None => sqlx::query("SELECT status, CAST(COUNT(*) AS BIGINT) AS n FROM ads_notices GROUP BY status")
            .fetch_all(db.pool())
            .await?,
    };
    let mut counts = NoticeCounts::default();
    for row in &rows {
        let status: String = row.try_get(0)?;
        let n = u64::try_from(row.try_get::<i64, _>(1)?).unwrap_or(0);
        match NoticeStatus::parse(&status) {
            Some(NoticeStatus::Acknowledged) => counts.acknowledged = n,
            Some(NoticeStatus::UnderReview) => counts.under_review = n,
            Some(NoticeStatus::Upheld) => counts.upheld = n,
            Some(NoticeStatus::Rejected) => counts.rejected = n,
            None => {}
        }
    }
    Ok(counts)
}
