//! SQL for the political-ad repository, and the mapping of its types onto
//! logged records. The service decides; this reads and writes.
use super::domain::{AdContent, AdStatus, CalendarEntry, Change};
use crate::core::db::{WriteTx, row_version, select};
use crate::core::ids::{AdId, OrganisationId};
use crate::core::ledger::record::{Record, Value};
use crate::core::ledger::{LeafIndex, LedgerError, kinds, save_record};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, AssertSqlSafe, Executor, Row};

fn corrupt(what: &str, e: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(format!("{what}: {e}").into())
}

fn optional(text: Option<&str>) -> Value {
    text.map_or(Value::Null, |t| Value::from(t.to_string()))
}

// ---------- the calendar ----------

const CALENDAR_COLUMNS: &str = "id, version, name, kind, date, country, region, updated_at";

pub async fn save_calendar_entry(
    tx: &mut WriteTx,
    entry: &CalendarEntry,
    version: u64,
    updated_at: &str,
) -> Result<LeafIndex, LedgerError> {
    let record = Record::new(
        &kinds::ADS_ELECTION,
        entry.id.clone(),
        version,
        vec![
            Value::from(entry.name.clone()),
            Value::from(entry.kind.clone()),
            Value::from(entry.date.clone()),
            Value::from(entry.country.clone()),
            optional(entry.region.as_deref()),
            Value::from(updated_at.to_string()),
        ],
    );
    save_record(tx, &record).await
}

fn calendar_from_row(row: &AnyRow) -> Result<(CalendarEntry, u64), sqlx::Error> {
    Ok((
        CalendarEntry {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            kind: row.try_get("kind")?,
            date: row.try_get("date")?,
            country: row.try_get("country")?,
            region: row.try_get("region")?,
        },
        row_version(row)?,
    ))
}

pub async fn calendar_entry<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    id: &str,
) -> Result<Option<(CalendarEntry, u64)>, sqlx::Error> {
    let sql = select(CALENDAR_COLUMNS, "ads_elections", "WHERE id = $1");
    sqlx::query(AssertSqlSafe(sql))
        .bind(id.to_string())
        .fetch_optional(executor)
        .await?
        .as_ref()
        .map(calendar_from_row)
        .transpose()
}

pub async fn calendar<'e, E: Executor<'e, Database = Any>>(
    executor: E,
) -> Result<Vec<CalendarEntry>, sqlx::Error> {
    let sql = select(CALENDAR_COLUMNS, "ads_elections", "ORDER BY date, id");
    sqlx::query(AssertSqlSafe(sql))
        .fetch_all(executor)
        .await?
        .iter()
        .map(|row| calendar_from_row(row).map(|(e, _)| e))
        .collect()
}

// ---------- ads ----------

/// An ad as it stands now.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct StoredAd {
    #[schema(value_type = String)]
    pub id: AdId,
    pub version: u64,
    /// The organisation that filed or imported it.
    #[schema(value_type = String)]
    pub organisation: OrganisationId,
    pub status: AdStatus,
    /// Why it was withdrawn or removed.
    pub status_reason: Option<String>,
    #[schema(value_type = Object)]
    pub content: AdContent,
    pub filed_at: String,
    pub updated_at: String,
}

/// A list of codes kept as ` A B ` so that `LIKE '% A %'` finds one.
fn spaced(codes: impl IntoIterator<Item = String>) -> String {
    let codes: Vec<String> = codes.into_iter().collect();
    format!(" {} ", codes.join(" "))
}

impl StoredAd {
    fn record(&self) -> Record {
        let content = &self.content;
        let bounds = content.spend_bounds();
        let categories = content
            .targeting
            .personal_data_categories
            .iter()
            .chain(&content.targeting.special_categories)
            .cloned();
        Record::new(
            &kinds::AD,
            self.id.to_string(),
            self.version,
            vec![
                Value::from(self.organisation.to_string()),
                Value::from(self.status.as_str().to_string()),
                optional(self.status_reason.as_deref()),
                Value::from(serde_json::to_string(content).unwrap_or_default()),
                Value::from(content.sponsor.name.clone()),
                Value::from(content.publisher.name.clone()),
                optional(content.payer.as_ref().map(|p| p.name.as_str())),
                optional(content.election.as_deref()),
                Value::from(spaced(content.countries.iter().cloned())),
                Value::from(content.creative.language.clone()),
                Value::from(content.period_start.clone()),
                Value::from(content.period_end.clone()),
                optional(bounds.as_ref().map(|b| b.currency.as_str())),
                bounds
                    .as_ref()
                    .map_or(Value::Null, |b| Value::Integer(b.lower_minor)),
                bounds
                    .as_ref()
                    .and_then(|b| b.upper_minor)
                    .map_or(Value::Null, Value::Integer),
                Value::from(spaced(categories)),
                Value::from(content.search_text()),
                Value::from(self.filed_at.clone()),
                Value::from(self.updated_at.clone()),
            ],
        )
    }
}

const AD_COLUMNS: &str =
    "id, version, organisation_id, status, status_reason, content, filed_at, updated_at";

fn ad_from_row(row: &AnyRow) -> Result<StoredAd, sqlx::Error> {
    let status: String = row.try_get("status")?;
    let content: String = row.try_get("content")?;
    Ok(StoredAd {
        id: AdId::from_stored(row.try_get("id")?),
        version: row_version(row)?,
        organisation: OrganisationId::from_stored(row.try_get("organisation_id")?),
        status: AdStatus::parse(&status).ok_or_else(|| corrupt("stored ad status", &status))?,
        status_reason: row.try_get("status_reason")?,
        content: serde_json::from_str(&content).map_err(|e| corrupt("stored ad content", e))?,
        filed_at: row.try_get("filed_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn save_ad(tx: &mut WriteTx, ad: &StoredAd) -> Result<LeafIndex, LedgerError> {
    save_record(tx, &ad.record()).await
}

pub async fn ad<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    id: &str,
) -> Result<Option<StoredAd>, sqlx::Error> {
    let sql = select(AD_COLUMNS, "ads_ads", "WHERE id = $1");
    sqlx::query(AssertSqlSafe(sql))
        .bind(id.to_string())
        .fetch_optional(executor)
        .await?
        .as_ref()
        .map(ad_from_row)
        .transpose()
}

/// One version of an ad, as appended.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AdVersion {
    pub version: u64,
    pub change: Change,
    pub reason: Option<String>,
    pub status: AdStatus,
    #[schema(value_type = Object)]
    pub content: AdContent,
    pub at: String,
}

pub async fn append_version(
    tx: &mut WriteTx,
    ad: &StoredAd,
    change: Change,
    reason: Option<&str>,
    actor: &str,
) -> Result<LeafIndex, LedgerError> {
    let record = Record::new(
        &kinds::AD_VERSION,
        format!("{}@{}", ad.id, ad.version),
        1,
        vec![
            Value::from(ad.id.to_string()),
            Value::Integer(i64::try_from(ad.version).unwrap_or(i64::MAX)),
            Value::from(change.as_str().to_string()),
            optional(reason),
            Value::from(ad.status.as_str().to_string()),
            Value::from(serde_json::to_string(&ad.content).unwrap_or_default()),
            Value::from(actor.to_string()),
            Value::from(ad.updated_at.clone()),
        ],
    );
    save_record(tx, &record).await
}

pub async fn versions<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    id: &str,
) -> Result<Vec<AdVersion>, sqlx::Error> {
    sqlx::query(
        "SELECT ad_version, change, reason, status, content, at FROM ads_ad_versions WHERE ad_id = $1 ORDER BY ad_version",
    )
    .bind(id.to_string())
    .fetch_all(executor)
    .await?
    .iter()
    .map(|row| {
        let change: String = row.try_get("change")?;
        let status: String = row.try_get("status")?;
        let content: String = row.try_get("content")?;
        let version: i64 = row.try_get("ad_version")?;
        Ok(AdVersion {
            version: u64::try_from(version).map_err(|e| corrupt("ad version", e))?,
            change: serde_json::from_value(serde_json::Value::String(change.clone()))
                .map_err(|_| corrupt("ad change", &change))?,
            reason: row.try_get("reason")?,
            status: AdStatus::parse(&status).ok_or_else(|| corrupt("ad status", &status))?,
            content: serde_json::from_str(&content).map_err(|e| corrupt("ad content", e))?,
            at: row.try_get("at")?,
        })
    })
    .collect()
}

/// What a public search filters on; every part is optional.
#[derive(Clone, Debug, Default)]
pub struct AdQuery {
    /// Words that must all occur in the creative or an entity's name.
    pub words: Vec<String>,
    pub election: Option<String>,
    pub country: Option<String>,
    pub sponsor: Option<String>,
    pub payer: Option<String>,
    pub publisher: Option<String>,
    pub language: Option<String>,
    pub status: Option<AdStatus>,
    /// Ads running on or after this date.
    pub from: Option<String>,
    /// Ads running on or before this date.
    pub to: Option<String>,
    /// Spend bounds in minor units of `currency`.
    pub currency: Option<String>,
    pub spend_min: Option<i64>,
    pub spend_max: Option<i64>,
    pub targeting_category: Option<String>,
    /// Keyset cursor: the `(filed_at, id)` of the last ad of the previous page.
    pub after: Option<(String, String)>,
}

enum Bind {
    Text(String),
    Integer(i64),
}

/// `%` and `_` are literal in a search word.
fn like_pattern(word: &str) -> String {
    let escaped = word
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Ads matching `query`, newest filing first, at most `limit`.
pub async fn search<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    query: &AdQuery,
    limit: usize,
) -> Result<Vec<StoredAd>, sqlx::Error> {
    let mut conditions: Vec<String> = Vec::new();
    let mut binds: Vec<Bind> = Vec::new();
    let mut add = |condition: &dyn Fn(usize) -> String, bind: Bind| {
        binds.push(bind);
        conditions.push(condition(binds.len()));
    };
    for word in &query.words {
        add(
            &|n| format!("search_text LIKE ${n} ESCAPE '\\'"),
            Bind::Text(like_pattern(word)),
        );
    }
    let equal = [
        ("election_id", &query.election),
        ("sponsor_name", &query.sponsor),
        ("payer_name", &query.payer),
        ("publisher_name", &query.publisher),
        ("language", &query.language),
        ("spend_currency", &query.currency),
    ];
    for (column, value) in equal {
        if let Some(value) = value {
            add(&|n| format!("{column} = ${n}"), Bind::Text(value.clone()));
        }
    }
    if let Some(status) = query.status {
        add(
            &|n| format!("status = ${n}"),
            Bind::Text(status.as_str().into()),
        );
    }
    if let Some(country) = &query.country {
        add(
            &|n| format!("countries LIKE ${n}"),
            Bind::Text(format!("% {country} %")),
        );
    }
    if let Some(category) = &query.targeting_category {
        add(
            &|n| format!("targeting_categories LIKE ${n} ESCAPE '\\'"),
            Bind::Text(format!("% {} %", like_pattern(category).trim_matches('%'))),
        );
    }
    if let Some(from) = &query.from {
        add(&|n| format!("period_end >= ${n}"), Bind::Text(from.clone()));
    }
    if let Some(to) = &query.to {
        add(&|n| format!("period_start <= ${n}"), Bind::Text(to.clone()));
    }
    // Range arithmetic: an ad may match when its range overlaps the asked one.
    if let Some(min) = query.spend_min {
        add(
            &|n| {
                format!("(spend_upper IS NULL AND spend_lower IS NOT NULL OR spend_upper >= ${n})")
            },
            Bind::Integer(min),
        );
    }
    if let Some(max) = query.spend_max {
        add(&|n| format!("spend_lower <= ${n}"), Bind::Integer(max));
    }
    if let Some((filed_at, id)) = &query.after {
        binds.push(Bind::Text(filed_at.clone()));
        binds.push(Bind::Text(id.clone()));
        let (a, b) = (binds.len() - 1, binds.len());
        conditions.push(format!(
            "(filed_at < ${a} OR (filed_at = ${a} AND id < ${b}))"
        ));
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let sql = select(
        AD_COLUMNS,
        "ads_ads",
        &format!("{filter} ORDER BY filed_at DESC, id DESC LIMIT {limit}"),
    );
    let mut statement = sqlx::query(AssertSqlSafe(sql));
    for bind in binds {
        statement = match bind {
            Bind::Text(text) => statement.bind(text),
            Bind::Integer(number) => statement.bind(number),
        };
    }
    statement
        .fetch_all(executor)
        .await?
        .iter()
        .map(ad_from_row)
        .collect()
}
