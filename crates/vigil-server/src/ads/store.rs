//! SQL for the political-ad repository, and the mapping of its types onto
//! logged records. The service decides; this reads and writes.
use super::domain::{AdContent, AdStatus, CalendarEntry, Change};
use crate::core::db::{Backend, Db, WriteTx, row_version, select};
use crate::core::ids::{AdId, OrganisationId};
use crate::core::ledger::record::{Record, Value};
use crate::core::ledger::{
    LeafIndex, LedgerError, RecordWrite, insert_records, kinds, save_record,
};
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

const CALENDAR_COLUMNS: &str =
    "id, version, name, kind, date, country, region, voting_age, updated_at";

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
            Value::Integer(i64::from(entry.voting_age)),
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
            voting_age: u32::try_from(row.try_get::<i64, _>("voting_age")?)
                .map_err(|e| corrupt("voting age", e))?,
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
    /// `source:external id` of an imported ad, so that importing the same
    /// file again changes nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import_key: Option<String>,
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
        // Lowercase, as the search lowercases what it looks for.
        let categories = content
            .targeting
            .personal_data_categories
            .iter()
            .chain(&content.targeting.special_categories)
            .map(|c| c.to_lowercase());
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
                optional(self.import_key.as_deref()),
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

const AD_COLUMNS: &str = "id, version, organisation_id, status, status_reason, import_key, content, filed_at, updated_at";

fn ad_from_row(row: &AnyRow) -> Result<StoredAd, sqlx::Error> {
    let status: String = row.try_get("status")?;
    let content: String = row.try_get("content")?;
    Ok(StoredAd {
        id: AdId::from_stored(row.try_get("id")?),
        version: row_version(row)?,
        organisation: OrganisationId::from_stored(row.try_get("organisation_id")?),
        status: AdStatus::parse(&status).ok_or_else(|| corrupt("stored ad status", &status))?,
        status_reason: row.try_get("status_reason")?,
        import_key: row.try_get("import_key")?,
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

fn version_record(ad: &StoredAd, change: Change, reason: Option<&str>, actor: &str) -> Record {
    Record::new(
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
    )
}

pub async fn append_version(
    tx: &mut WriteTx,
    ad: &StoredAd,
    change: Change,
    reason: Option<&str>,
    actor: &str,
) -> Result<LeafIndex, LedgerError> {
    save_record(tx, &version_record(ad, change, reason, actor)).await
}

/// First versions of many ads with their version rows, in a few
/// statements (an import's batch): the ads' rows, then their versions.
pub async fn insert_new_ads(
    tx: &mut WriteTx,
    ads: &[StoredAd],
    change: Change,
    actor: &str,
) -> Result<(), LedgerError> {
    let records: Vec<Record> = ads.iter().map(StoredAd::record).collect();
    insert_records(tx, &RecordWrite::all(&records)).await?;
    let versions: Vec<Record> = ads
        .iter()
        .map(|ad| version_record(ad, change, None, actor))
        .collect();
    insert_records(tx, &RecordWrite::all(&versions)).await?;
    Ok(())
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
    /// A region the ad was disseminated in, exactly as filed.
    pub region: Option<String>,
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
    /// The organisation that filed or imported the ads.
    pub organisation: Option<String>,
    /// Keyset cursor: the `(filed_at, id)` of the last ad of the previous page.
    pub after: Option<(String, String)>,
}

impl AdQuery {
    /// Whether anything besides the words narrows the search.
    fn has_filters(&self) -> bool {
        let texts = [
            &self.election,
            &self.country,
            &self.region,
            &self.sponsor,
            &self.payer,
            &self.publisher,
            &self.language,
            &self.from,
            &self.to,
            &self.currency,
            &self.targeting_category,
            &self.organisation,
        ];
        texts.iter().any(|t| t.is_some())
            || self.status.is_some()
            || self.spend_min.is_some()
            || self.spend_max.is_some()
    }
}

enum Bind {
    Text(String),
    Integer(i64),
}

/// `%` and `_` are literal in a `LIKE` pattern.
fn like_pattern(word: &str) -> String {
    let escaped = word
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// The words of a searched word: runs of letters and digits, lowercase.
/// "Clean-rivers" is the phrase "clean rivers".
fn word_tokens(word: &str) -> Vec<String> {
    word.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The full-text query of `words` in each engine's syntax: every word must
/// occur, as a phrase of its tokens; a word ending in `*` is a prefix of
/// its last token ("river*" finds "rivers"). None when no word has a letter
/// or digit.
fn text_query(backend: Backend, words: &[String]) -> Option<String> {
    let phrases: Vec<(Vec<String>, bool)> = words
        .iter()
        .map(|w| (word_tokens(w), w.ends_with('*')))
        .filter(|(t, _)| !t.is_empty())
        .collect();
    if phrases.is_empty() {
        return None;
    }
    // Tokens are letters and digits only: nothing to escape in either syntax.
    Some(match backend {
        Backend::Sqlite => phrases
            .iter()
            .map(|(tokens, prefix)| {
                format!("\"{}\"{}", tokens.join(" "), if *prefix { "*" } else { "" })
            })
            .collect::<Vec<_>>()
            .join(" AND "),
        Backend::Postgres => phrases
            .iter()
            .map(|(tokens, prefix)| {
                let last = tokens.len() - 1;
                let parts: Vec<String> = tokens
                    .iter()
                    .enumerate()
                    .map(|(i, t)| {
                        if i == last && *prefix {
                            format!("'{t}':*")
                        } else {
                            format!("'{t}'")
                        }
                    })
                    .collect();
                format!("({})", parts.join(" <-> "))
            })
            .collect::<Vec<_>>()
            .join(" & "),
    })
}

/// When a SQLite search walks all ads newest first checking each one's
/// words, rather than starting from the ads with the words and sorting
/// them. Walking reads about `ads / matches × limit` ads; starting reads
/// `matches` keys, about 16 times cheaper each than an ad walked, or, when
/// other filters need each match's row, about as costly. So walking wins
/// when `matches² ≥ ratio × ads × limit`: about 27,000 matches for a page
/// of 50 among a million ads without other filters, 7,000 with them.
/// PostgreSQL's planner makes this choice itself, from its statistics.
fn walk_threshold(ads: i64, limit: usize, other_filters: bool) -> i64 {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let ratio = if other_filters { 1 } else { 16 };
    ads.saturating_mul(limit)
        .saturating_mul(ratio)
        .isqrt()
        .max(1)
}

/// How the words of a search are answered.
enum Words {
    None,
    /// A condition on each ad; `$n` is its text query.
    Condition(String, String),
    /// Start from the ads that have the words (their text query is `$1`).
    Start(String),
}

async fn plan_words(
    db: &Db,
    words: &[String],
    limit: usize,
    other_filters: bool,
) -> Result<Words, sqlx::Error> {
    let Some(text) = text_query(db.backend(), words) else {
        return Ok(Words::None);
    };
    if db.backend() == Backend::Postgres {
        return Ok(Words::Condition(
            "to_tsvector('simple', search_text) @@ to_tsquery('simple', $n)".into(),
            text,
        ));
    }
    // Keys are never reused: the largest is the number of ads.
    let ads: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(key), 0) FROM ads_search_keys")
        .fetch_one(db.pool())
        .await?;
    let threshold = walk_threshold(ads, limit, other_filters);
    let matches: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT rowid FROM ads_words WHERE ads_words MATCH $1 LIMIT $2)",
    )
    .bind(&text)
    .bind(threshold)
    .fetch_one(db.pool())
    .await?;
    if matches < threshold {
        return Ok(Words::Start(text));
    }
    // The newest ads with common words are near the start of the walk. An
    // ad's words are looked up in the index only when its text holds each
    // ASCII token as a substring (a necessary condition, and cheap: the row
    // is at hand); other scripts' case folding may differ between the
    // engine and Rust, so their tokens are left to the index alone.
    let substrings: String = words
        .iter()
        .flat_map(|w| word_tokens(w))
        .filter(|t| t.is_ascii())
        // ASCII letters and digits only: nothing to escape.
        .map(|t| format!("search_text LIKE '%{t}%' AND "))
        .collect();
    Ok(Words::Condition(
        format!(
            "{substrings}EXISTS (SELECT 1 FROM ads_search_keys JOIN ads_words \
             ON ads_words.rowid = ads_search_keys.key \
             WHERE ads_search_keys.ad_id = ads_ads.id AND ads_words MATCH $n)"
        ),
        text,
    ))
}

/// Ads matching `query`, newest filing first, at most `limit`.
pub async fn search(db: &Db, query: &AdQuery, limit: usize) -> Result<Vec<StoredAd>, sqlx::Error> {
    let words = plan_words(db, &query.words, limit, query.has_filters()).await?;
    let mut conditions: Vec<String> = Vec::new();
    let mut binds: Vec<Bind> = Vec::new();
    if let Words::Start(text) = &words {
        binds.push(Bind::Text(text.clone()));
    }
    let mut add = |condition: &dyn Fn(usize) -> String, bind: Bind| {
        binds.push(bind);
        conditions.push(condition(binds.len()));
    };
    if let Words::Condition(template, text) = &words {
        add(
            &|n| template.replace("$n", &format!("${n}")),
            Bind::Text(text.clone()),
        );
    }
    let equal = [
        ("election_id", &query.election),
        ("sponsor_name", &query.sponsor),
        ("payer_name", &query.payer),
        ("publisher_name", &query.publisher),
        ("language", &query.language),
        ("spend_currency", &query.currency),
        ("organisation_id", &query.organisation),
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
    if let Some(region) = &query.region {
        // The region as a JSON string inside the content's array, found
        // exactly (case and all) by each engine's substring position.
        let quoted = serde_json::to_string(region).unwrap_or_default();
        let position = match db.backend() {
            Backend::Sqlite => "instr",
            Backend::Postgres => "strpos",
        };
        add(
            &|n| format!("{position}(regions, ${n}) > 0"),
            Bind::Text(quoted),
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
    let filters = conditions.len();
    if let Some((filed_at, id)) = &query.after {
        binds.push(Bind::Text(filed_at.clone()));
        binds.push(Bind::Text(id.clone()));
        let (a, b) = (binds.len() - 1, binds.len());
        // A row-value comparison, which both engines answer from an index.
        conditions.push(match words {
            Words::Start(_) => format!("(k.filed, k.ad_id) < (${a}, ${b})"),
            _ => format!("(filed_at, id) < (${a}, ${b})"),
        });
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let sql = match words {
        // The ads with the words are sorted by their keys' filing times
        // (CROSS JOIN fixes SQLite's join order); an ad's row is read only
        // for other filters, and for the page.
        Words::Start(_) => {
            let with_ads = if filters > 0 {
                " CROSS JOIN ads_ads ON ads_ads.id = k.ad_id"
            } else {
                ""
            };
            let page = format!(
                "SELECT k.ad_id FROM (SELECT rowid AS word_key FROM ads_words WHERE ads_words MATCH $1) AS matched \
                 CROSS JOIN ads_search_keys AS k ON k.key = matched.word_key{with_ads} \
                 {filter} ORDER BY k.filed DESC, k.ad_id DESC LIMIT {limit}"
            );
            select(
                AD_COLUMNS,
                "ads_ads",
                &format!("WHERE id IN ({page}) ORDER BY filed_at DESC, id DESC"),
            )
        }
        _ => select(
            AD_COLUMNS,
            "ads_ads",
            &format!("{filter} ORDER BY filed_at DESC, id DESC LIMIT {limit}"),
        ),
    };
    let mut statement = sqlx::query(AssertSqlSafe(sql));
    for bind in binds {
        statement = match bind {
            Bind::Text(text) => statement.bind(text),
            Bind::Integer(number) => statement.bind(number),
        };
    }
    statement
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(ad_from_row)
        .collect()
}

// ---------- spending limits and totals ----------

/// A spending limit of a sponsor (or party) in an election.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpendingLimit {
    pub election: String,
    /// The sponsor's name exactly as filed.
    pub sponsor: String,
    #[schema(value_type = String)]
    pub currency: super::domain::Currency,
    /// A decimal amount, e.g. `"50000.00"`.
    pub amount: String,
    /// The national provision that sets it.
    pub legal_basis: String,
}

pub async fn save_limit(
    tx: &mut WriteTx,
    limit: &SpendingLimit,
    amount_minor: i64,
    version: u64,
    updated_at: &str,
) -> Result<LeafIndex, LedgerError> {
    // Leaf ids are printable ASCII without spaces: the sponsor by digest.
    let sponsor = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
        limit.sponsor.as_bytes(),
    ));
    let record = Record::new(
        &kinds::ADS_LIMIT,
        format!("{}/{}", limit.election, &sponsor[..32]),
        version,
        vec![
            Value::from(limit.election.clone()),
            Value::from(limit.sponsor.clone()),
            Value::from(limit.currency.to_string()),
            Value::Integer(amount_minor),
            Value::from(limit.legal_basis.clone()),
            Value::from(updated_at.to_string()),
        ],
    );
    save_record(tx, &record).await
}

/// The limits of an election (or all), with each one's version.
pub async fn limits<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    election: Option<&str>,
) -> Result<Vec<(SpendingLimit, i64, u64)>, sqlx::Error> {
    let columns = "id, version, election_id, sponsor_name, currency, amount_minor, legal_basis";
    let rows = match election {
        Some(election) => {
            sqlx::query(AssertSqlSafe(select(
                columns,
                "ads_limits",
                "WHERE election_id = $1 ORDER BY sponsor_name",
            )))
            .bind(election.to_string())
            .fetch_all(executor)
            .await?
        }
        None => {
            sqlx::query(AssertSqlSafe(select(
                columns,
                "ads_limits",
                "ORDER BY election_id, sponsor_name",
            )))
            .fetch_all(executor)
            .await?
        }
    };
    rows.iter()
        .map(|row| {
            let currency: String = row.try_get("currency")?;
            let currency = super::domain::Currency::parse(&currency)
                .ok_or_else(|| corrupt("limit currency", &currency))?;
            let minor: i64 = row.try_get("amount_minor")?;
            Ok((
                SpendingLimit {
                    election: row.try_get("election_id")?,
                    sponsor: row.try_get("sponsor_name")?,
                    amount: super::domain::money::format_minor(minor, &currency),
                    currency,
                    legal_basis: row.try_get("legal_basis")?,
                },
                minor,
                row_version(row)?,
            ))
        })
        .collect()
}

/// Sums of spend bounds per group and currency over the ads whose
/// `column` equals `value` (withdrawn and removed ads ran too). The group
/// is an SQL expression over `ads_ads`: a sponsor, an election, a month.
/// Each line's `sponsor` holds the group.
async fn spend_groups<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    (column, value): (&str, &str),
    group: &str,
) -> Result<Vec<super::domain::compliance::SponsorSpend>, sqlx::Error> {
    let sql = format!(
        "SELECT {group} AS grouped, spend_currency, CAST(COUNT(*) AS BIGINT) AS ads, \
         CAST(SUM(spend_lower) AS BIGINT) AS lower_sum, \
         CAST(SUM(CASE WHEN spend_upper IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS open_ended, \
         CAST(SUM(spend_upper) AS BIGINT) AS upper_sum \
         FROM ads_ads WHERE {column} = $1 AND spend_currency IS NOT NULL \
         GROUP BY {group}, spend_currency ORDER BY {group}, spend_currency"
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(value.to_string())
        .fetch_all(executor)
        .await?
        .iter()
        .map(|row| {
            let currency: String = row.try_get("spend_currency")?;
            let currency = super::domain::Currency::parse(&currency)
                .ok_or_else(|| corrupt("spend currency", &currency))?;
            let lower: i64 = row.try_get("lower_sum")?;
            let open_ended: i64 = row.try_get("open_ended")?;
            let upper: Option<i64> = if open_ended > 0 {
                None
            } else {
                row.try_get("upper_sum")?
            };
            let ads: i64 = row.try_get("ads")?;
            let grouped: Option<String> = row.try_get("grouped")?;
            Ok(super::domain::compliance::SponsorSpend {
                sponsor: grouped.unwrap_or_default(),
                lower: super::domain::money::format_minor(lower, &currency),
                upper: upper.map(|u| super::domain::money::format_minor(u, &currency)),
                currency,
                ads: u64::try_from(ads).unwrap_or(0),
                lower_minor: lower,
                upper_minor: upper,
            })
        })
        .collect()
}

/// Every sponsor's spending in an election per currency: sums of the lower
/// and upper bounds over all its ads.
pub async fn sponsor_spend<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    election: &str,
) -> Result<Vec<super::domain::compliance::SponsorSpend>, sqlx::Error> {
    spend_groups(executor, ("election_id", election), "sponsor_name").await
}

/// A sponsor's spending per month its ads started (`YYYY-MM` in `sponsor`).
pub async fn sponsor_months<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    sponsor: &str,
) -> Result<Vec<super::domain::compliance::SponsorSpend>, sqlx::Error> {
    spend_groups(
        executor,
        ("sponsor_name", sponsor),
        "substr(period_start, 1, 7)",
    )
    .await
}

/// A sponsor's spending per election (the election id in `sponsor`; empty
/// for ads linked to none).
pub async fn sponsor_elections<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    sponsor: &str,
) -> Result<Vec<super::domain::compliance::SponsorSpend>, sqlx::Error> {
    spend_groups(executor, ("sponsor_name", sponsor), "election_id").await
}

/// The ads whose `column` (`id` or `import_key`) is one of `values`.
async fn ads_where_in<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    column: &str,
    values: &[&str],
) -> Result<Vec<StoredAd>, sqlx::Error> {
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=values.len()).map(|n| format!("${n}")).collect();
    let sql = select(
        AD_COLUMNS,
        "ads_ads",
        &format!("WHERE {column} IN ({})", placeholders.join(", ")),
    );
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for value in values {
        query = query.bind(value.to_string());
    }
    query
        .fetch_all(executor)
        .await?
        .iter()
        .map(ad_from_row)
        .collect()
}

/// The imported ads of these `source:external id` keys, by key.
pub async fn ads_by_import_keys<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    keys: &[&str],
) -> Result<std::collections::HashMap<String, StoredAd>, sqlx::Error> {
    Ok(ads_where_in(executor, "import_key", keys)
        .await?
        .into_iter()
        .map(|ad| (ad.import_key.clone().unwrap_or_default(), ad))
        .collect())
}

/// The ads of these ids (those that exist), in no particular order.
pub async fn ads_by_ids<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    ids: &[&str],
) -> Result<Vec<StoredAd>, sqlx::Error> {
    ads_where_in(executor, "id", ids).await
}
