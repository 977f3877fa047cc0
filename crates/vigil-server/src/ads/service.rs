//! Political-ad use cases. Each write is one transaction: load, check who
//! may act, the pure transition, store the ad and append its version
//! through the log, commit. Reading is public.
use super::domain::compliance::{self, Finding, SponsorSpend};
use super::domain::{AdContent, AdStatus, AdTransitionError, CalendarEntry, Change, transition};
use super::store::{self, AdQuery, AdVersion, SpendingLimit, StoredAd};
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

/// Whether the principal may file ads (the filing form asks before showing).
pub fn may_file(principal: &Principal) -> Result<(), ApiError> {
    needs(principal, &Role::FILER)
}

/// Files a new ad for the principal's organisation.
pub async fn file(
    db: &Db,
    principal: &Principal,
    content: AdContent,
) -> Result<StoredAd, ApiError> {
    may_file(principal)?;
    let content = checked(db, content).await?;
    let now = Timestamp::now().to_string();
    let ad = StoredAd {
        id: AdId::generate(),
        version: 1,
        organisation: principal.organisation.id.clone(),
        status: AdStatus::Active,
        status_reason: None,
        import_key: None,
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
    let mut ads = store::search(db, query, limit + 1).await?;
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

// ---------- compliance ----------

/// Findings as the asker may see them: regulators in full, everyone else
/// without the evidence.
pub fn visible(mut findings: Vec<Finding>, asker: Option<&Principal>) -> Vec<Finding> {
    if !asker.is_some_and(|p| p.has_role(&Role::REGULATOR)) {
        for finding in &mut findings {
            finding.evidence.clear();
        }
    }
    findings
}

/// An ad's findings, evaluated now against the calendar, with the calendar
/// entry of its election (if any).
pub async fn findings_of(
    db: &Db,
    ad: &StoredAd,
) -> Result<(Option<CalendarEntry>, Vec<Finding>), ApiError> {
    let election = match &ad.content.election {
        Some(id) => store::calendar_entry(db.pool(), id).await?.map(|(e, _)| e),
        None => None,
    };
    let findings = compliance::check_ad(&ad.content, election.as_ref(), &ad.filed_at);
    Ok((election, findings))
}

/// What a signed-in user may do to an ad.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Powers {
    /// Correct and withdraw it: a filer of the organisation that filed it.
    pub amend: bool,
    /// Remove it: a regulator.
    pub remove: bool,
}

/// An ad for the people who may change it, with its findings in full
/// (evidence for regulators). Anyone else is told there is no such ad.
pub async fn ad_for_manager(
    db: &Db,
    principal: &Principal,
    id: &str,
) -> Result<(StoredAd, Vec<Finding>, Powers), ApiError> {
    let ad = store::ad(db.pool(), id).await?.ok_or_else(not_found)?;
    let powers = Powers {
        amend: principal.has_role(&Role::FILER) && ad.organisation == principal.organisation.id,
        remove: principal.has_role(&Role::REGULATOR),
    };
    if !powers.amend && !powers.remove {
        return Err(not_found());
    }
    let (_, findings) = findings_of(db, &ad).await?;
    Ok((ad, visible(findings, Some(principal)), powers))
}

/// One page of the ads the principal's organisation filed or imported.
pub async fn own_ads(
    db: &Db,
    principal: &Principal,
    after: Option<(String, String)>,
    limit: usize,
) -> Result<(Vec<StoredAd>, Option<String>), ApiError> {
    may_file(principal)?;
    let query = AdQuery {
        organisation: Some(principal.organisation.id.to_string()),
        after,
        ..AdQuery::default()
    };
    search(db, &query, limit).await
}

/// A sponsor's public page: its spending per month and per election, and
/// its newest ads.
pub struct SponsorReport {
    pub months: Vec<SponsorSpend>,
    pub elections: Vec<SponsorSpend>,
    pub ads: Vec<StoredAd>,
    pub next: Option<String>,
}

pub async fn sponsor_report(
    db: &Db,
    sponsor: &str,
    after: Option<(String, String)>,
) -> Result<SponsorReport, ApiError> {
    let query = AdQuery {
        sponsor: Some(sponsor.to_string()),
        after,
        ..AdQuery::default()
    };
    let (ads, next) = search(db, &query, 50).await?;
    if ads.is_empty() && query.after.is_none() {
        return Err(ApiError::NotFound("no ad has this sponsor".into()));
    }
    Ok(SponsorReport {
        months: store::sponsor_months(db.pool(), sponsor).await?,
        elections: store::sponsor_elections(db.pool(), sponsor).await?,
        ads,
        next,
    })
}

/// An ad and its findings.
pub async fn ad_findings(db: &Db, id: &str) -> Result<(StoredAd, Vec<Finding>), ApiError> {
    let ad = store::ad(db.pool(), id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such ad".into()))?;
    let (_, findings) = findings_of(db, &ad).await?;
    Ok((ad, findings))
}

/// Sets the spending limit of a sponsor in an election (regulators).
pub async fn save_limit(
    db: &Db,
    principal: &Principal,
    limit: SpendingLimit,
) -> Result<SpendingLimit, ApiError> {
    needs(principal, &Role::REGULATOR)?;
    let mut errors = Vec::new();
    let minor = super::domain::money::parse_minor(&limit.amount, &limit.currency)
        .map_err(|e| errors.push(FieldError::new("amount", e.to_string())))
        .ok();
    if limit.sponsor.trim().is_empty() {
        errors.push(FieldError::new("sponsor", "the sponsor's name is required"));
    }
    if limit.legal_basis.trim().is_empty() {
        errors.push(FieldError::new(
            "legal_basis",
            "name the provision that sets the limit",
        ));
    }
    if store::calendar_entry(db.pool(), &limit.election)
        .await?
        .is_none()
    {
        errors.push(FieldError::new("election", "not in the elections calendar"));
    }
    let Some(minor) = minor.filter(|_| errors.is_empty()) else {
        return Err(ApiError::invalid(errors));
    };
    let mut limit = limit;
    limit.amount = super::domain::money::format_minor(minor, &limit.currency);
    let mut tx = db.write().await?;
    let version = store::limits(tx.conn(), Some(&limit.election))
        .await?
        .into_iter()
        .find(|(l, _, _)| l.sponsor == limit.sponsor)
        .map_or(1, |(_, _, v)| v + 1);
    store::save_limit(
        &mut tx,
        &limit,
        minor,
        version,
        &Timestamp::now().to_string(),
    )
    .await?;
    audit::record(
        &mut tx,
        AuditEvent {
            actor: &principal.actor(),
            action: "ads.limit_saved",
            subject: &format!("{}/{}", limit.election, limit.sponsor),
            outcome: Outcome::Success,
            details: json!({"amount": limit.amount, "currency": limit.currency, "version": version}),
            ip: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(limit)
}

pub async fn limits(db: &Db, election: Option<&str>) -> Result<Vec<SpendingLimit>, ApiError> {
    Ok(store::limits(db.pool(), election)
        .await?
        .into_iter()
        .map(|(l, _, _)| l)
        .collect())
}

/// One sponsor's spending in an election against its limit.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SpendingLine {
    pub spend: SponsorSpend,
    pub limit: Option<SpendingLimit>,
    pub finding: Option<Finding>,
}

async fn calendar_entry(db: &Db, election: &str) -> Result<CalendarEntry, ApiError> {
    store::calendar_entry(db.pool(), election)
        .await?
        .map(|(entry, _)| entry)
        .ok_or_else(|| ApiError::NotFound("no such election in the calendar".into()))
}

/// Every sponsor's spending in an election, with its limit and the M.601
/// finding where the sums reach past it.
pub async fn election_spending(db: &Db, election: &str) -> Result<Vec<SpendingLine>, ApiError> {
    calendar_entry(db, election).await?;
    spending_lines(db, election).await
}

async fn spending_lines(db: &Db, election: &str) -> Result<Vec<SpendingLine>, ApiError> {
    let limits = store::limits(db.pool(), Some(election)).await?;
    Ok(store::sponsor_spend(db.pool(), election)
        .await?
        .into_iter()
        .map(|spend| {
            let limit = limits.iter().find(|(l, _, _)| l.sponsor == spend.sponsor);
            let finding = limit
                .and_then(|(l, minor, _)| compliance::check_spend(&spend, *minor, &l.currency));
            SpendingLine {
                limit: limit.map(|(l, _, _)| l.clone()),
                finding,
                spend,
            }
        })
        .collect())
}

/// The findings of one ad, for an election's list.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct AdFindings {
    #[schema(value_type = String)]
    pub ad: crate::core::ids::AdId,
    pub title: String,
    pub sponsor: String,
    pub findings: Vec<Finding>,
}

/// An election's compliance picture, read once: its calendar entry, every
/// sponsor's spending against its limit, and every ad with findings.
pub struct ElectionReport {
    pub election: CalendarEntry,
    pub spending: Vec<SpendingLine>,
    pub ads: Vec<AdFindings>,
}

impl ElectionReport {
    /// The M.601 findings of the sponsors.
    pub fn spending_findings(&self) -> impl Iterator<Item = &Finding> {
        self.spending
            .iter()
            .filter_map(|line| line.finding.as_ref())
    }
}

pub async fn election_report(db: &Db, election: &str) -> Result<ElectionReport, ApiError> {
    let entry = calendar_entry(db, election).await?;
    let mut query = AdQuery {
        election: Some(election.to_string()),
        ..AdQuery::default()
    };
    let mut ads = Vec::new();
    loop {
        let page = store::search(db, &query, 1_000).await?;
        for ad in &page {
            let findings = compliance::check_ad(&ad.content, Some(&entry), &ad.filed_at);
            if !findings.is_empty() {
                ads.push(AdFindings {
                    ad: ad.id.clone(),
                    title: ad.content.title.clone(),
                    sponsor: ad.content.sponsor.name.clone(),
                    findings,
                });
            }
        }
        match page.last() {
            Some(last) if page.len() == 1_000 => {
                query.after = Some((last.filed_at.clone(), last.id.to_string()))
            }
            _ => break,
        }
    }
    Ok(ElectionReport {
        spending: spending_lines(db, election).await?,
        election: entry,
        ads,
    })
}

// ---------- imports ----------

/// What an import did.
#[derive(Clone, Debug, Default, serde::Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub added: u64,
    /// Rows whose ad changed since the last import: a new version each.
    pub updated: u64,
    /// Rows identical to what is stored (importing a file again changes
    /// nothing), or of ads no longer active.
    pub unchanged: u64,
    /// Rows refused, with their line and why; the others are kept.
    pub rejected: Vec<super::import::RowError>,
}

/// Rows stored per transaction.
const IMPORT_BATCH: usize = 500;

/// Ads added or changed by one import past which PostgreSQL's statistics
/// are refreshed at its end.
const ANALYZE_AFTER: u64 = 10_000;

/// Stores imported rows for the principal's organisation (filers and
/// regulators), a batch per transaction; `progress` hears of each batch.
pub async fn import(
    db: &Db,
    principal: &Principal,
    rows: Vec<super::import::ImportRow>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ImportReport, ApiError> {
    if !principal.has_role(&Role::FILER) && !principal.has_role(&Role::REGULATOR) {
        return Err(ApiError::Forbidden(
            "importing needs the filer or regulator role".into(),
        ));
    }
    let calendar: Vec<String> = store::calendar(db.pool())
        .await?
        .into_iter()
        .map(|e| e.id)
        .collect();
    let mut report = ImportReport::default();
    let mut accepted = Vec::new();
    for row in rows {
        match row {
            Err(e) => report.rejected.push(e),
            Ok(mut ad) => {
                let mut errors = ad.content.check().err().unwrap_or_default();
                if let Some(election) = &ad.content.election
                    && !calendar.contains(election)
                {
                    errors.push(FieldError::new(
                        "election",
                        format!("{election:?} is not in the calendar"),
                    ));
                }
                if errors.is_empty() {
                    accepted.push(ad);
                } else {
                    report.rejected.push(super::import::RowError {
                        line: ad.line,
                        message: errors
                            .iter()
                            .map(|e| format!("{}: {}", e.field, e.message))
                            .collect::<Vec<_>>()
                            .join("; "),
                    });
                }
            }
        }
    }
    let actor = principal.user.id.to_string();
    for batch in accepted.chunks(IMPORT_BATCH) {
        let now = Timestamp::now().to_string();
        let mut tx = db.write().await?;
        // One lookup and a few multi-row inserts per batch: statements, not
        // rows, are what an import pays for.
        let keys: Vec<&str> = batch.iter().map(|row| row.key.as_str()).collect();
        let mut stored = store::ads_by_import_keys(tx.conn(), &keys).await?;
        let mut new_ads: Vec<StoredAd> = Vec::new();
        for row in batch {
            // A key seen earlier in this batch: its ad is stored first, so
            // that the row is a change to it like any other.
            if new_ads
                .iter()
                .any(|ad| ad.import_key.as_deref() == Some(row.key.as_str()))
            {
                store::insert_new_ads(&mut tx, &new_ads, Change::Imported, &actor).await?;
                for ad in new_ads.drain(..) {
                    stored.insert(ad.import_key.clone().unwrap_or_default(), ad);
                }
            }
            match stored.get_mut(&row.key) {
                None => {
                    new_ads.push(StoredAd {
                        id: AdId::generate(),
                        version: 1,
                        organisation: principal.organisation.id.clone(),
                        status: AdStatus::Active,
                        status_reason: None,
                        import_key: Some(row.key.clone()),
                        content: row.content.clone(),
                        filed_at: now.clone(),
                        updated_at: now.clone(),
                    });
                    report.added += 1;
                }
                Some(existing)
                    if existing.content == row.content || existing.status != AdStatus::Active =>
                {
                    report.unchanged += 1;
                }
                Some(existing) => {
                    existing.content = row.content.clone();
                    existing.version += 1;
                    existing.updated_at = now.clone();
                    store::save_ad(&mut tx, existing).await?;
                    store::append_version(&mut tx, existing, Change::Imported, None, &actor)
                        .await?;
                    report.updated += 1;
                }
            }
        }
        store::insert_new_ads(&mut tx, &new_ads, Change::Imported, &actor).await?;
        tx.commit().await?;
        progress(batch.len() as u64);
    }
    // PostgreSQL plans word searches from statistics, which a large import
    // leaves stale until autovacuum runs: without them a common word was
    // answered by sorting every ad that has it (seconds for a million).
    if db.backend() == crate::core::db::Backend::Postgres
        && report.added + report.updated >= ANALYZE_AFTER
    {
        sqlx::query("ANALYZE ads_ads").execute(db.pool()).await?;
    }
    report.rejected.sort_by_key(|e| e.line);
    Ok(report)
}
