//! SQL for the Rapid Alert System, and the mapping of its types onto
//! logged records. The TLP rule of [`Viewer`] is applied here, in the
//! query, before paging: what a reader may not see is never counted,
//! paged over or dated.
use super::domain::{
    ActiveStatus, Alert, AlertLevel, AlertState, Collection, CollectionId, Community, CommunityId,
    Cursor, Grant, Membership, ObjectFilter, StoredObject, TaxiiStatus, VersionFilter, Viewer,
};
use crate::core::db::{WriteTx, find_all_by, find_by, select};
use crate::core::ids::{AlertId, OrganisationId, StixRowId, UserId};
use crate::core::ledger::record::{Record, Value};
use crate::core::ledger::{LedgerError, RecordWrite, insert_records, kinds, update_record};
use crate::core::time::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{Any, AssertSqlSafe, Executor, Row};
use vigil_stix::{Tlp, TlpProfile};

use crate::core::db::{row_version as version, stored_timestamp as timestamp};

fn status(row: &AnyRow) -> Result<ActiveStatus, sqlx::Error> {
    let text: String = row.try_get("status")?;
    Ok(ActiveStatus::parse(&text).unwrap_or(ActiveStatus::Removed))
}

async fn write(tx: &mut WriteTx, record: Record) -> Result<(), LedgerError> {
    let write = RecordWrite {
        record: &record,
        personal: None,
    };
    if record.version == 1 {
        insert_records(tx, &[write]).await?;
    } else {
        update_record(tx, write).await?;
    }
    Ok(())
}

// ---------- communities ----------

const COMMUNITY_COLUMNS: &str = "id, version, title, description, status, created_at, updated_at";

fn community_from_row(row: &AnyRow) -> Result<Community, sqlx::Error> {
    Ok(Community {
        id: CommunityId::from_stored(row.try_get("id")?),
        version: version(row)?,
        title: row.try_get("title")?,
        description: row.try_get("description")?,
        status: status(row)?,
        created_at: timestamp(row.try_get("created_at")?),
        updated_at: timestamp(row.try_get("updated_at")?),
    })
}

/// Inserts the first version or writes the next one.
pub async fn save_community(tx: &mut WriteTx, community: &Community) -> Result<(), LedgerError> {
    let record = Record::new(
        &kinds::COMMUNITY,
        community.id.as_str(),
        community.version,
        vec![
            Value::from(community.title.clone()),
            Value::from(community.description.clone()),
            Value::from(community.status.as_str()),
            Value::from(community.created_at.to_string()),
            Value::from(community.updated_at.to_string()),
        ],
    );
    write(tx, record).await
}

pub async fn community<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    id: &str,
) -> Result<Option<Community>, sqlx::Error> {
    find_by(
        executor,
        (COMMUNITY_COLUMNS, "communities"),
        "id",
        id,
        community_from_row,
    )
    .await
}

pub async fn communities<'e, E: Executor<'e, Database = Any>>(
    executor: E,
) -> Result<Vec<Community>, sqlx::Error> {
    sqlx::query(AssertSqlSafe(select(
        COMMUNITY_COLUMNS,
        "communities",
        "ORDER BY id",
    )))
    .fetch_all(executor)
    .await?
    .iter()
    .map(community_from_row)
    .collect()
}

// ---------- members ----------

const MEMBER_COLUMNS: &str = "id, version, community_id, organisation_id, status, updated_at";

fn member_from_row(row: &AnyRow) -> Result<Membership, sqlx::Error> {
    Ok(Membership {
        community_id: CommunityId::from_stored(row.try_get("community_id")?),
        organisation_id: OrganisationId::from_stored(row.try_get("organisation_id")?),
        version: version(row)?,
        status: status(row)?,
        updated_at: timestamp(row.try_get("updated_at")?),
    })
}

pub async fn save_membership(tx: &mut WriteTx, member: &Membership) -> Result<(), LedgerError> {
    let record = Record::new(
        &kinds::COMMUNITY_MEMBER,
        Membership::record_id(&member.community_id, &member.organisation_id),
        member.version,
        vec![
            Value::from(member.community_id.as_str()),
            Value::from(member.organisation_id.as_str()),
            Value::from(member.status.as_str()),
            Value::from(member.updated_at.to_string()),
        ],
    );
    write(tx, record).await
}

pub async fn membership<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    community: &CommunityId,
    organisation: &OrganisationId,
) -> Result<Option<Membership>, sqlx::Error> {
    let id = Membership::record_id(community, organisation);
    find_by(
        executor,
        (MEMBER_COLUMNS, "community_members"),
        "id",
        &id,
        member_from_row,
    )
    .await
}

pub async fn members<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    community: &CommunityId,
) -> Result<Vec<Membership>, sqlx::Error> {
    find_all_by(
        executor,
        (MEMBER_COLUMNS, "community_members"),
        ("community_id", community.as_str()),
        "organisation_id",
        member_from_row,
    )
    .await
}

// ---------- collections ----------

const COLLECTION_COLUMNS: &str = "id, version, community_id, title, description, alias, default_tlp, status, created_at, updated_at";

fn collection_from_row(row: &AnyRow) -> Result<Collection, sqlx::Error> {
    let tlp: String = row.try_get("default_tlp")?;
    Ok(Collection {
        id: CollectionId::from_stored(row.try_get("id")?),
        version: version(row)?,
        community_id: CommunityId::from_stored(row.try_get("community_id")?),
        title: row.try_get("title")?,
        description: row.try_get("description")?,
        alias: row.try_get("alias")?,
        default_tlp: Tlp::from_name(&tlp).unwrap_or(Tlp::Red),
        status: status(row)?,
        created_at: timestamp(row.try_get("created_at")?),
        updated_at: timestamp(row.try_get("updated_at")?),
    })
}

pub async fn save_collection(tx: &mut WriteTx, collection: &Collection) -> Result<(), LedgerError> {
    let record = Record::new(
        &kinds::COLLECTION,
        collection.id.as_str(),
        collection.version,
        vec![
            Value::from(collection.community_id.as_str()),
            Value::from(collection.title.clone()),
            Value::from(collection.description.clone()),
            Value::from(collection.alias.clone()),
            Value::from(collection.default_tlp.key()),
            Value::from(collection.status.as_str()),
            Value::from(collection.created_at.to_string()),
            Value::from(collection.updated_at.to_string()),
        ],
    );
    write(tx, record).await
}

pub async fn collection<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    id: &str,
) -> Result<Option<Collection>, sqlx::Error> {
    find_by(
        executor,
        (COLLECTION_COLUMNS, "collections"),
        "id",
        id,
        collection_from_row,
    )
    .await
}

pub async fn collections_of<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    community: &CommunityId,
) -> Result<Vec<Collection>, sqlx::Error> {
    find_all_by(
        executor,
        (COLLECTION_COLUMNS, "collections"),
        ("community_id", community.as_str()),
        "created_at, id",
        collection_from_row,
    )
    .await
}

// ---------- grants ----------

const GRANT_COLUMNS: &str = "id, version, collection_id, grantee, can_read, can_write, updated_at";

fn grant_from_row(row: &AnyRow) -> Result<Grant, sqlx::Error> {
    Ok(Grant {
        collection_id: CollectionId::from_stored(row.try_get("collection_id")?),
        grantee: row.try_get("grantee")?,
        version: version(row)?,
        can_read: row.try_get::<i64, _>("can_read")? != 0,
        can_write: row.try_get::<i64, _>("can_write")? != 0,
        updated_at: timestamp(row.try_get("updated_at")?),
    })
}

pub async fn save_grant(tx: &mut WriteTx, grant: &Grant) -> Result<(), LedgerError> {
    let record = Record::new(
        &kinds::COLLECTION_GRANT,
        Grant::record_id(&grant.collection_id, &grant.grantee),
        grant.version,
        vec![
            Value::from(grant.collection_id.as_str()),
            Value::from(grant.grantee.clone()),
            Value::Integer(i64::from(grant.can_read)),
            Value::Integer(i64::from(grant.can_write)),
            Value::from(grant.updated_at.to_string()),
        ],
    );
    write(tx, record).await
}

pub async fn grant<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    collection: &CollectionId,
    grantee: &str,
) -> Result<Option<Grant>, sqlx::Error> {
    let id = Grant::record_id(collection, grantee);
    find_by(
        executor,
        (GRANT_COLUMNS, "collection_grants"),
        "id",
        &id,
        grant_from_row,
    )
    .await
}

pub async fn grants_of<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    collection: &CollectionId,
) -> Result<Vec<Grant>, sqlx::Error> {
    find_all_by(
        executor,
        (GRANT_COLUMNS, "collection_grants"),
        ("collection_id", collection.as_str()),
        "grantee",
        grant_from_row,
    )
    .await
}

/// The grants that concern a user: their own and their organisation's.
pub async fn grants_for<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    user: &UserId,
    organisation: &OrganisationId,
) -> Result<Vec<Grant>, sqlx::Error> {
    sqlx::query(AssertSqlSafe(select(
        GRANT_COLUMNS,
        "collection_grants",
        "WHERE grantee = $1 OR grantee = $2",
    )))
    .bind(user.as_str().to_string())
    .bind(organisation.as_str().to_string())
    .fetch_all(executor)
    .await?
    .iter()
    .map(grant_from_row)
    .collect()
}

/// The active communities an organisation belongs to.
pub async fn communities_of<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    organisation: &OrganisationId,
) -> Result<Vec<CommunityId>, sqlx::Error> {
    sqlx::query("SELECT community_id FROM community_members WHERE organisation_id = $1 AND status = 'active'")
        .bind(organisation.as_str().to_string())
        .fetch_all(executor)
        .await?
        .iter()
        .map(|row| Ok(CommunityId::from_stored(row.try_get(0)?)))
        .collect()
}

// ---------- STIX objects ----------

const OBJECT_COLUMNS: &str = "id, version, collection_id, stix_id, stix_type, stix_version, version_key, spec_version, date_added, tlp, originator, poster, audience, deleted, object";

fn object_from_row(row: &AnyRow) -> Result<StoredObject, sqlx::Error> {
    Ok(StoredObject {
        row: StixRowId::from_stored(row.try_get("id")?),
        version: version(row)?,
        collection_id: CollectionId::from_stored(row.try_get("collection_id")?),
        stix_id: row.try_get("stix_id")?,
        stix_type: row.try_get("stix_type")?,
        stix_version: row.try_get("stix_version")?,
        version_key: row.try_get("version_key")?,
        spec_version: row.try_get("spec_version")?,
        date_added: row.try_get("date_added")?,
        tlp: Tlp::from_rank(row.try_get("tlp")?).unwrap_or(Tlp::Red),
        originator: OrganisationId::from_stored(row.try_get("originator")?),
        poster: UserId::from_stored(row.try_get("poster")?),
        audience: row.try_get("audience")?,
        deleted: row.try_get::<i64, _>("deleted")? != 0,
        object: row.try_get("object")?,
    })
}

fn object_record(object: &StoredObject) -> Record {
    Record::new(
        &kinds::STIX_OBJECT,
        object.row.as_str(),
        object.version,
        vec![
            Value::from(object.collection_id.as_str()),
            Value::from(object.stix_id.clone()),
            Value::from(object.stix_type.clone()),
            Value::from(object.stix_version.clone()),
            Value::from(object.version_key.clone()),
            Value::from(object.spec_version.clone()),
            Value::from(object.date_added.clone()),
            Value::Integer(object.tlp.rank()),
            Value::from(object.originator.as_str()),
            Value::from(object.poster.as_str()),
            Value::from(object.audience.clone()),
            Value::Integer(i64::from(object.deleted)),
            Value::from(object.object.clone()),
        ],
    )
}

/// Stores new object versions in one statement batch (and their leaves).
pub async fn insert_objects(tx: &mut WriteTx, objects: &[StoredObject]) -> Result<(), LedgerError> {
    let records: Vec<Record> = objects.iter().map(object_record).collect();
    insert_records(tx, &RecordWrite::all(&records)).await?;
    Ok(())
}

/// Writes the next version of a stored object (deletion).
pub async fn update_object(tx: &mut WriteTx, object: &StoredObject) -> Result<(), LedgerError> {
    write(tx, object_record(object)).await
}

/// The (stix id, version key) pairs stored (deleted or not) for these ids.
pub async fn stored_versions(
    conn: &mut sqlx::AnyConnection,
    collection: &CollectionId,
    ids: &[String],
) -> Result<std::collections::HashSet<(String, String)>, sqlx::Error> {
    let mut found = std::collections::HashSet::new();
    for chunk in ids.chunks(500) {
        let placeholders: Vec<String> = (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
        let mut query = sqlx::query(AssertSqlSafe(format!(
            "SELECT stix_id, version_key FROM stix_objects WHERE collection_id = $1 AND stix_id IN ({})",
            placeholders.join(", ")
        )))
        .bind(collection.as_str().to_string());
        for id in chunk {
            query = query.bind(id.clone());
        }
        for row in query.fetch_all(&mut *conn).await? {
            found.insert((row.try_get(0)?, row.try_get(1)?));
        }
    }
    Ok(found)
}

/// Whether any version of an object is stored in a collection (a marking
/// definition that objects may reference).
pub async fn object_version_exists_any<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    collection: &CollectionId,
    stix_id: &str,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "SELECT 1 FROM stix_objects WHERE collection_id = $1 AND stix_id = $2 AND deleted = 0",
    )
    .bind(collection.as_str().to_string())
    .bind(stix_id.to_string())
    .fetch_optional(executor)
    .await?
    .is_some())
}

/// The latest `date_added` in a collection: new objects are dated after it,
/// so `added_after` never misses one even if clocks differ between servers.
pub async fn latest_date_added<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    collection: &CollectionId,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query("SELECT MAX(date_added) FROM stix_objects WHERE collection_id = $1")
        .bind(collection.as_str().to_string())
        .fetch_one(executor)
        .await?
        .try_get(0)
}

/// A query under construction: SQL text and its parameters, numbered in order.
struct Query {
    sql: String,
    binds: Vec<Value>,
}

impl Query {
    fn param(&mut self, value: Value) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    fn list(&mut self, values: &[String]) -> String {
        let params: Vec<String> = values
            .iter()
            .map(|v| self.param(Value::from(v.clone())))
            .collect();
        params.join(", ")
    }
}

/// One page of the objects of a collection that `viewer` may see and the
/// filter selects, in `date_added` order after `after`; `limit + 1` rows are
/// read so that the caller knows whether more follow.
///
/// The page is read along the `(collection_id, date_added, id)` index from
/// the cursor on; `first`/`last` versions are checked per row with a probe of
/// the `(collection_id, stix_id, version_key)` index among the versions the
/// viewer may see, so a page costs the same at any depth.
pub async fn visible_objects<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    collection: &CollectionId,
    viewer: &Viewer,
    filter: &ObjectFilter,
    after: Option<&Cursor>,
    limit: u64,
) -> Result<Vec<StoredObject>, sqlx::Error> {
    let mut query = Query {
        sql: String::new(),
        binds: Vec::new(),
    };
    let mut conditions = vec![
        format!(
            "o.collection_id = {}",
            query.param(Value::from(collection.as_str()))
        ),
        "o.deleted = 0".to_string(),
    ];
    // The TLP rule (see `Viewer::sees`), for a row under any alias.
    let open = query.param(Value::Integer(viewer.open.rank()));
    let strict = query.param(Value::Integer(Tlp::AmberStrict.rank()));
    let red = query.param(Value::Integer(Tlp::Red.rank()));
    let organisation = query.param(Value::from(viewer.organisation.clone()));
    let organisation_named = query.param(Value::from(format!("% {} %", viewer.organisation)));
    let user = query.param(Value::from(viewer.user.clone()));
    let user_named = query.param(Value::from(format!("% {} %", viewer.user)));
    let visible = |t: &str| {
        format!(
            "({t}.tlp <= {open} OR ({t}.tlp = {strict} AND ({t}.originator = {organisation} OR {t}.audience LIKE {organisation_named})) \
             OR ({t}.tlp = {red} AND ({t}.poster = {user} OR {t}.audience LIKE {user_named})))"
        )
    };
    conditions.push(visible("o"));
    let spec = (!filter.spec_versions.is_empty()).then(|| query.list(&filter.spec_versions));
    if let Some(spec) = &spec {
        conditions.push(format!("o.spec_version IN ({spec})"));
    }
    if !filter.ids.is_empty() {
        conditions.push(format!("o.stix_id IN ({})", query.list(&filter.ids)));
    }
    if !filter.types.is_empty() {
        conditions.push(format!("o.stix_type IN ({})", query.list(&filter.types)));
    }
    // Another visible version of the same object, newer (`>`) or older (`<`).
    let other_version = |order: &str| {
        let spec = spec
            .as_ref()
            .map(|s| format!(" AND v.spec_version IN ({s})"))
            .unwrap_or_default();
        format!(
            "NOT EXISTS (SELECT 1 FROM stix_objects v WHERE v.collection_id = o.collection_id AND v.stix_id = o.stix_id \
             AND v.version_key {order} o.version_key AND v.deleted = 0 AND {}{spec})",
            visible("v")
        )
    };
    if let Some(condition) = version_sql(&filter.versions, &mut query, &other_version) {
        conditions.push(condition);
    }
    if let Some(added_after) = &filter.added_after {
        // `date_added` has six fractional digits: cut the filter's nine to
        // six, which keeps "strictly after" exact.
        let micros = format!("{}Z", added_after.get(..26).unwrap_or(added_after));
        conditions.push(format!(
            "o.date_added > {}",
            query.param(Value::from(micros))
        ));
    }
    if let Some(cursor) = after {
        let date = query.param(Value::from(cursor.date_added.clone()));
        let row = query.param(Value::from(cursor.row.clone()));
        conditions.push(format!(
            "(o.date_added > {date} OR (o.date_added = {date} AND o.id > {row}))"
        ));
    }
    let limit = query.param(Value::Integer(
        i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX),
    ));
    let columns: Vec<String> = OBJECT_COLUMNS
        .split(", ")
        .map(|c| format!("o.{c}"))
        .collect();
    query.sql = format!(
        "SELECT {} FROM stix_objects o WHERE {} ORDER BY o.date_added, o.id LIMIT {limit}",
        columns.join(", "),
        conditions.join(" AND ")
    );
    let mut sql = sqlx::query(AssertSqlSafe(query.sql));
    for bind in query.binds {
        sql = match bind {
            Value::Text(text) => sql.bind(text),
            Value::Integer(number) => sql.bind(number),
            Value::Null => sql.bind(None::<String>),
        };
    }
    sql.fetch_all(executor)
        .await?
        .iter()
        .map(object_from_row)
        .collect()
}

fn version_sql(
    filter: &VersionFilter,
    query: &mut Query,
    other_version: &dyn Fn(&str) -> String,
) -> Option<String> {
    match filter {
        VersionFilter::Last => Some(other_version(">")),
        VersionFilter::First => Some(other_version("<")),
        VersionFilter::All => None,
        VersionFilter::At(keys) => Some(format!("o.version_key IN ({})", query.list(keys))),
        VersionFilter::Any(parts) => {
            let mut alternatives = Vec::new();
            for part in parts {
                alternatives.push(version_sql(part, query, other_version)?);
            }
            Some(format!("({})", alternatives.join(" OR ")))
        }
    }
}

// ---------- statuses ----------

pub async fn insert_status(
    tx: &mut WriteTx,
    community: &CommunityId,
    collection: &CollectionId,
    user: &UserId,
    status: &TaxiiStatus,
) -> Result<(), LedgerError> {
    let details = serde_json::json!({
        "successes": status.successes,
        "failures": status.failures,
        "pendings": status.pendings,
    });
    let count = |n: u64| Value::Integer(i64::try_from(n).unwrap_or(i64::MAX));
    let record = Record::new(
        &kinds::TAXII_STATUS,
        status.id.clone(),
        1,
        vec![
            Value::from(community.as_str()),
            Value::from(collection.as_str()),
            Value::from(user.as_str()),
            Value::from(status.status.clone()),
            Value::from(status.request_timestamp.clone()),
            count(status.total_count),
            count(status.success_count),
            count(status.failure_count),
            count(status.pending_count),
            Value::from(details.to_string()),
        ],
    );
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

/// A status of a community, with the user who made the request.
pub async fn status_of<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    community: &CommunityId,
    id: &str,
) -> Result<Option<(TaxiiStatus, UserId)>, sqlx::Error> {
    let row = sqlx::query("SELECT id, user_id, status, request_timestamp, total_count, success_count, failure_count, pending_count, details FROM taxii_statuses WHERE id = $1 AND community_id = $2")
        .bind(id.to_string())
        .bind(community.as_str().to_string())
        .fetch_optional(executor)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let details: serde_json::Value =
        serde_json::from_str(&row.try_get::<String, _>("details")?).unwrap_or_default();
    let list = |name: &str| {
        serde_json::from_value(details.get(name).cloned().unwrap_or_default()).unwrap_or_default()
    };
    let count = |name: &str| -> Result<u64, sqlx::Error> {
        Ok(u64::try_from(row.try_get::<i64, _>(name)?).unwrap_or(0))
    };
    Ok(Some((
        TaxiiStatus {
            id: row.try_get("id")?,
            status: row.try_get("status")?,
            request_timestamp: row.try_get("request_timestamp")?,
            total_count: count("total_count")?,
            success_count: count("success_count")?,
            successes: list("successes"),
            failure_count: count("failure_count")?,
            failures: list("failures"),
            pending_count: count("pending_count")?,
            pendings: list("pendings"),
        },
        UserId::from_stored(row.try_get("user_id")?),
    )))
}

// ---------- alerts ----------

const ALERT_COLUMNS: &str = "id, version, collection_id, report_id, originator, author, level, state, report, related, created_at, updated_at, published_at";

fn alert_from_row(row: &AnyRow) -> Result<Alert, sqlx::Error> {
    let level: String = row.try_get("level")?;
    let state: String = row.try_get("state")?;
    let report: String = row.try_get("report")?;
    let related: String = row.try_get("related")?;
    Ok(Alert {
        id: AlertId::from_stored(row.try_get("id")?),
        version: version(row)?,
        collection_id: CollectionId::from_stored(row.try_get("collection_id")?),
        report_id: row.try_get("report_id")?,
        originator: OrganisationId::from_stored(row.try_get("originator")?),
        author: UserId::from_stored(row.try_get("author")?),
        level: AlertLevel::parse(&level).unwrap_or(AlertLevel::Alert),
        state: AlertState::parse(&state).unwrap_or(AlertState::Revoked),
        report: serde_json::from_str(&report).unwrap_or_default(),
        related: serde_json::from_str(&related).unwrap_or_default(),
        created_at: timestamp(row.try_get("created_at")?),
        updated_at: timestamp(row.try_get("updated_at")?),
        published_at: row
            .try_get::<Option<String>, _>("published_at")?
            .map(timestamp),
    })
}

pub async fn save_alert(tx: &mut WriteTx, alert: &Alert) -> Result<(), LedgerError> {
    let record = Record::new(
        &kinds::ALERT,
        alert.id.as_str(),
        alert.version,
        vec![
            Value::from(alert.collection_id.as_str()),
            Value::from(alert.report_id.clone()),
            Value::from(alert.originator.as_str()),
            Value::from(alert.author.as_str()),
            Value::from(alert.level.as_str()),
            Value::from(alert.state.as_str()),
            Value::from(alert.report.to_string()),
            Value::from(serde_json::Value::Array(alert.related.clone()).to_string()),
            Value::from(alert.created_at.to_string()),
            Value::from(alert.updated_at.to_string()),
            Value::from(alert.published_at.map(|t| t.to_string())),
        ],
    );
    write(tx, record).await
}

pub async fn alert<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    id: &str,
) -> Result<Option<Alert>, sqlx::Error> {
    find_by(
        executor,
        (ALERT_COLUMNS, "alerts"),
        "id",
        id,
        alert_from_row,
    )
    .await
}

/// The alert whose STIX report this is, if the report came from an alert.
pub async fn alert_by_report<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    report_id: &str,
) -> Result<Option<Alert>, sqlx::Error> {
    find_by(
        executor,
        (ALERT_COLUMNS, "alerts"),
        "report_id",
        report_id,
        alert_from_row,
    )
    .await
}

/// Alerts of some collections, newest change first.
pub async fn alerts_in<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    collections: &[CollectionId],
) -> Result<Vec<Alert>, sqlx::Error> {
    if collections.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=collections.len()).map(|i| format!("${i}")).collect();
    let mut query = sqlx::query(AssertSqlSafe(select(
        ALERT_COLUMNS,
        "alerts",
        &format!(
            "WHERE collection_id IN ({}) ORDER BY updated_at DESC",
            placeholders.join(", ")
        ),
    )));
    for collection in collections {
        query = query.bind(collection.as_str().to_string());
    }
    query
        .fetch_all(executor)
        .await?
        .iter()
        .map(alert_from_row)
        .collect()
}

/// The stored (undeleted) objects of a type in a collection whose JSON
/// mentions `needle`, for sightings and opinions about one report.
pub async fn objects_mentioning<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    collection: &CollectionId,
    stix_type: &str,
    needle: &str,
) -> Result<Vec<StoredObject>, sqlx::Error> {
    let columns: Vec<String> = OBJECT_COLUMNS
        .split(", ")
        .map(|c| format!("o.{c}"))
        .collect();
    sqlx::query(AssertSqlSafe(format!(
        "SELECT {} FROM stix_objects o WHERE o.collection_id = $1 AND o.stix_type = $2 AND o.deleted = 0 AND o.object LIKE $3 ORDER BY o.date_added, o.id",
        columns.join(", ")
    )))
    .bind(collection.as_str().to_string())
    .bind(stix_type.to_string())
    .bind(format!("%{needle}%"))
    .fetch_all(executor)
    .await?
    .iter()
    .map(object_from_row)
    .collect()
}

// ---------- live stream ----------

pub async fn log_size<'e, E: Executor<'e, Database = Any>>(
    executor: E,
) -> Result<u64, sqlx::Error> {
    let size: i64 = sqlx::query("SELECT size FROM tlog_head WHERE id = 1")
        .fetch_one(executor)
        .await?
        .try_get(0)?;
    Ok(u64::try_from(size).unwrap_or(0))
}

/// The distinct record kinds logged after leaf `after`.
pub async fn kinds_after<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    after: u64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query("SELECT DISTINCT kind FROM tlog_leaves WHERE idx > $1")
        .bind(i64::try_from(after).unwrap_or(i64::MAX))
        .fetch_all(executor)
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect()
}

/// STIX object versions logged after leaf `after`, with their leaf index,
/// oldest first (a deletion is the row's second version).
pub async fn object_versions_after<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    after: u64,
    limit: u64,
) -> Result<Vec<(u64, StoredObject)>, sqlx::Error> {
    let columns: Vec<String> = OBJECT_COLUMNS
        .split(", ")
        .map(|c| format!("o.{c}"))
        .collect();
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT l.idx AS leaf_index, l.version AS leaf_version, {} FROM tlog_leaves l JOIN stix_objects o ON o.id = l.record_id \
         WHERE l.kind = 'stix_object' AND l.idx > $1 ORDER BY l.idx LIMIT $2",
        columns.join(", ")
    )))
    .bind(i64::try_from(after).unwrap_or(i64::MAX))
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(executor)
    .await?;
    rows.iter()
        .map(|row| {
            let index = u64::try_from(row.try_get::<i64, _>("leaf_index")?).unwrap_or(0);
            let leaf_version = row.try_get::<i64, _>("leaf_version")?;
            let mut object = object_from_row(row)?;
            // The row shows its latest state; the leaf says which version this event is.
            object.deleted = leaf_version > 1;
            Ok((index, object))
        })
        .collect()
}

/// Whether an earlier version of the same STIX object is stored in the collection.
pub async fn has_earlier_version<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    object: &StoredObject,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "SELECT 1 FROM stix_objects WHERE collection_id = $1 AND stix_id = $2 AND version_key < $3",
    )
    .bind(object.collection_id.as_str().to_string())
    .bind(object.stix_id.clone())
    .bind(object.version_key.clone())
    .fetch_optional(executor)
    .await?
    .is_some())
}

// ---------- client profiles ----------

/// A user's TLP profile and its record version, if one was set.
pub async fn tlp_profile<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    user: &UserId,
) -> Result<Option<(TlpProfile, u64)>, sqlx::Error> {
    sqlx::query("SELECT tlp_profile, version FROM taxii_clients WHERE id = $1")
        .bind(user.as_str().to_string())
        .fetch_optional(executor)
        .await?
        .map(|row| {
            let profile: String = row.try_get(0)?;
            let profile = if profile == "compat" {
                TlpProfile::Compat
            } else {
                TlpProfile::Oasis
            };
            Ok((
                profile,
                u64::try_from(row.try_get::<i64, _>(1)?).unwrap_or(0),
            ))
        })
        .transpose()
}

pub async fn save_tlp_profile(
    tx: &mut WriteTx,
    user: &UserId,
    profile: TlpProfile,
    version: u64,
) -> Result<(), LedgerError> {
    let name = match profile {
        TlpProfile::Oasis => "oasis",
        TlpProfile::Compat => "compat",
    };
    let record = Record::new(
        &kinds::TAXII_CLIENT,
        user.as_str(),
        version,
        vec![Value::from(name), Value::from(Timestamp::now().to_string())],
    );
    write(tx, record).await
}

/// Organisations by their STIX identity, for `created_by_ref` and audiences.
pub async fn organisation_by_identity<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    identity: &str,
) -> Result<Option<OrganisationId>, sqlx::Error> {
    sqlx::query("SELECT id FROM organisations WHERE stix_identity = $1")
        .bind(identity.to_string())
        .fetch_optional(executor)
        .await?
        .map(|row| Ok(OrganisationId::from_stored(row.try_get(0)?)))
        .transpose()
}
