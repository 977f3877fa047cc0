//! Political-ad use cases. Each write is one transaction: load, check who
//! may act, the pure transition, store the ad and append its version
//! through the log, commit. Reading is public.
use super::domain::{AdContent, AdStatus, AdTransitionError, CalendarEntry, Change, transition};
use super::store::{self, AdQuery, AdVersion, StoredAd};
use crate::accounts::domain::Role;
use crate::accounts::service::Principal;
use crate::core::audit::{self, Actor, AuditEvent, Outcome};
use crate::core::db::Db;
use crate::core::error::{ApiError, FieldError};
use crate::core::ids::AdId;
use crate::core::time::Timestamp;
use serde_json::json;

fn not_found() -> ApiError {
    ApiError::NotFound("no such ad, or you may not change it".into())
}

fn refused(e: AdTransitionError) -> ApiError {
    match e {
        AdTransitionError::ReasonRequired => {
            ApiError::invalid(vec![FieldError::new("reason", "a reason is required")])
        }
        other => ApiError::Conflict(other.to_string()),
    }
}

fn needs(principal: &Principal, role: &Role) -> Result<(), ApiError> {
    if principal.has_role(role) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "this needs the {} role",
            role.as_str()
        )))
    }
}

/// Checks the content, and that its election is in the calendar.
async fn checked(db: &Db, mut content: AdContent) -> Result<AdContent, ApiError> {
    let mut errors = content.check().err().unwrap_or_default();
    if let Some(election) = &content.election
        && store::calendar_entry(db.pool(), election).await?.is_none()
    {
        errors.push(FieldError::new(
            "election",
            format!("{election:?} is not in the elections calendar (GET /api/ads/elections)"),
        ));
    }
    if errors.is_empty() {
        Ok(content)
    } else {
        Err(ApiError::invalid(errors))
    }
}

/// Files a new ad for the principal's organisation.
pub async fn file(
    db: &Db,
    principal: &Principal,
    content: AdContent,
) -> Result<StoredAd, ApiError> {
    needs(principal, &Role::FILER)?;
    let content = checked(db, content).await?;
    let now = Timestamp::now().to_string();
    let ad = StoredAd {
        id: AdId::generate(),
        version: 1,
        organisation: principal.organisation.id.clone(),
        status: AdStatus::Active,
        status_reason: None,
        content,
        filed_at: now.clone(),
        updated_at: now,
    };
    let mut tx = db.write().await?;
    store::save_ad(&mut tx, &ad).await?;
    store::append_version(
        &mut tx,
        &ad,
        Change::Filed,
        None,
        principal.user.id.as_str(),
    )
    .await?;
    tx.commit().await?;
    Ok(ad)
}

/// A change to an existing ad, in one transaction.
enum Edit {
    Correct(Box<AdContent>),
    Withdraw(String),
    Remove(String),
}

async fn change(
    db: &Db,
    principal: &Principal,
    id: &str,
    edit: Edit,
) -> Result<StoredAd, ApiError> {
    let (role, change) = match &edit {
        Edit::Correct(_) => (Role::FILER, Change::Corrected),
        Edit::Withdraw(_) => (Role::FILER, Change::Withdrawn),
        Edit::Remove(_) => (Role::REGULATOR, Change::Removed),
    };
    needs(principal, &role)?;
    let content = match &edit {
        Edit::Correct(content) => Some(checked(db, (**content).clone()).await?),
        _ => None,
    };
    let reason = match &edit {
        Edit::Withdraw(reason) | Edit::Remove(reason) => Some(reason.trim().to_string()),
        Edit::Correct(_) => None,
    };
    let mut tx = db.write().await?;
    let mut ad = store::ad(tx.conn(), id)
        .await?
        // Filers change only their organisation's ads; a regulator any.
        .filter(|ad| role == Role::REGULATOR || ad.organisation == principal.organisation.id)
        .ok_or_else(not_found)?;
    ad.status = transition(ad.status, change, reason.as_deref()).map_err(refused)?;
    if let Some(content) = content {
        if content == ad.content {
            return Err(ApiError::Conflict("the correction changes nothing".into()));
        }
        ad.content = content;
    }
    if reason.is_some() {
        ad.status_reason = reason.clone();
    }
    ad.version += 1;
    ad.updated_at = Timestamp::now().to_string();
    store::save_ad(&mut tx, &ad).await?;
    store::append_version(
        &mut tx,
        &ad,
        change,
        reason.as_deref(),
        principal.user.id.as_str(),
    )
    .await?;
    if change == Change::Removed {
        audit::record(
            &mut tx,
            AuditEvent {
                actor: &principal.actor(),
                action: "ads.removed",
                subject: ad.id.as_str(),
                outcome: Outcome::Success,
                details: json!({"reason": reason, "version": ad.version}),
                ip: None,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(ad)
}

/// A new version of the ad with corrected content (same id).
pub async fn correct(
    db: &Db,
    principal: &Principal,
    id: &str,
    content: AdContent,
) -> Result<StoredAd, ApiError> {
    change(db, principal, id, Edit::Correct(Box::new(content))).await
}

/// The filer takes its ad down; it stays visible as withdrawn.
pub async fn withdraw(
    db: &Db,
    principal: &Principal,
    id: &str,
    reason: String,
) -> Result<StoredAd, ApiError> {
    change(db, principal, id, Edit::Withdraw(reason)).await
}

/// A regulator takes an ad down; it stays visible as removed.
pub async fn remove(
    db: &Db,
    principal: &Principal,
    id: &str,
    reason: String,
) -> Result<StoredAd, ApiError> {
    change(db, principal, id, Edit::Remove(reason)).await
}

/// An ad with every version (public).
pub async fn ad_with_history(db: &Db, id: &str) -> Result<(StoredAd, Vec<AdVersion>), ApiError> {
    let ad = store::ad(db.pool(), id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such ad".into()))?;
    let versions = store::versions(db.pool(), id).await?;
    Ok((ad, versions))
}

/// One page of a public search, and the cursor of the next page.
pub async fn search(
    db: &Db,
    query: &AdQuery,
    limit: usize,
) -> Result<(Vec<StoredAd>, Option<String>), ApiError> {
    let limit = limit.clamp(1, 1000);
    let mut ads = store::search(db.pool(), query, limit + 1).await?;
    let next = if ads.len() > limit {
        ads.truncate(limit);
        ads.last()
            .map(|last| encode_cursor(&last.filed_at, last.id.as_str()))
    } else {
        None
    };
    Ok((ads, next))
}

/// Cursors are opaque to clients: the last ad's filing time and id.
pub fn encode_cursor(filed_at: &str, id: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{filed_at}|{id}"))
}

pub fn decode_cursor(cursor: &str) -> Option<(String, String)> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (filed_at, id) = text.split_once('|')?;
    AdId::parse(id)?;
    Timestamp::parse(filed_at)?;
    Some((filed_at.to_string(), id.to_string()))
}

/// Adds an election or referendum to the calendar, or updates it (regulators).
pub async fn save_calendar_entry(
    db: &Db,
    principal: &Principal,
    entry: CalendarEntry,
) -> Result<CalendarEntry, ApiError> {
    needs(principal, &Role::REGULATOR)?;
    let errors = entry.check();
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let mut tx = db.write().await?;
    let version = store::calendar_entry(tx.conn(), &entry.id)
        .await?
        .map_or(1, |(_, v)| v + 1);
    store::save_calendar_entry(&mut tx, &entry, version, &Timestamp::now().to_string()).await?;
    audit::record(
        &mut tx,
        AuditEvent {
            actor: &Actor::User(principal.user.id.clone()),
            action: "ads.calendar_saved",
            subject: &entry.id,
            outcome: Outcome::Success,
            details: json!({"version": version, "date": entry.date}),
            ip: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(entry)
}

pub async fn calendar(db: &Db) -> Result<Vec<CalendarEntry>, ApiError> {
    Ok(store::calendar(db.pool()).await?)
}
