//! SQL for election results, and the mapping of its types onto logged
//! records. Nothing else here: the service decides, this reads and writes.
use super::domain::{ElectionDefinition, ElectionId, EntryState, StationId};
use crate::core::db::{WriteTx, row_version, select};
use crate::core::ids::OrganisationId;
use crate::core::ledger::record::{Record, Value};
use crate::core::ledger::{LeafIndex, LedgerError, kinds, save_record};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, AssertSqlSafe, Executor, Row};
use std::collections::BTreeMap;

/// A random salt for a logged record (hex, 128 bits).
pub fn new_salt() -> anyhow::Result<String> {
    Ok(hex::encode(crate::core::secrets::random_bytes::<16>()?))
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(format!("{what}: {e}").into())
}

// ---------- elections ----------

#[derive(Clone, Debug)]
pub struct StoredElection {
    pub id: ElectionId,
    pub version: u64,
    pub organisation: OrganisationId,
    pub definition: ElectionDefinition,
    /// Lots drawn per apportionment unit (see `tally::unit_key`).
    pub lots: BTreeMap<String, Vec<usize>>,
    pub created_at: String,
    pub updated_at: String,
}

const ELECTION_COLUMNS: &str =
    "id, version, organisation_id, definition, lots, created_at, updated_at";

/// An election's row exactly as logged (served to verifiers).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ElectionRecord {
    pub id: String,
    pub version: u64,
    pub organisation_id: String,
    pub definition: String,
    pub lots: String,
    pub created_at: String,
    pub updated_at: String,
}

impl ElectionRecord {
    /// The record as the log hashes it.
    pub fn record(&self) -> Record {
        Record::new(
            &kinds::RESULTS_ELECTION,
            self.id.clone(),
            self.version,
            vec![
                Value::from(self.organisation_id.clone()),
                Value::from(self.definition.clone()),
                Value::from(self.lots.clone()),
                Value::from(self.created_at.clone()),
                Value::from(self.updated_at.clone()),
            ],
        )
    }
}

pub async fn save_election(
    tx: &mut WriteTx,
    election: &StoredElection,
) -> Result<LeafIndex, LedgerError> {
    let record = ElectionRecord {
        id: election.id.to_string(),
        version: election.version,
        organisation_id: election.organisation.to_string(),
        definition: serde_json::to_string(&election.definition).unwrap_or_default(),
        lots: serde_json::to_string(&election.lots).unwrap_or_default(),
        created_at: election.created_at.clone(),
        updated_at: election.updated_at.clone(),
    };
    save_record(tx, &record.record()).await
}

fn election_record_from_row(row: &AnyRow) -> Result<ElectionRecord, sqlx::Error> {
    Ok(ElectionRecord {
        id: row.try_get("id")?,
        version: row_version(row)?,
        organisation_id: row.try_get("organisation_id")?,
        definition: row.try_get("definition")?,
        lots: row.try_get("lots")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl ElectionRecord {
    /// The election the record holds, its definition and lots parsed.
    pub fn parse(&self) -> Result<StoredElection, sqlx::Error> {
        Ok(StoredElection {
            id: ElectionId::from_stored(self.id.clone()),
            version: self.version,
            organisation: OrganisationId::from_stored(self.organisation_id.clone()),
            definition: serde_json::from_str(&self.definition)
                .map_err(|e| corrupt("stored election definition", e))?,
            lots: serde_json::from_str(&self.lots).map_err(|e| corrupt("stored lots", e))?,
            created_at: self.created_at.clone(),
            updated_at: self.updated_at.clone(),
        })
    }
}

/// An election's row as logged.
pub async fn election_record<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    id: &str,
) -> Result<Option<ElectionRecord>, sqlx::Error> {
    crate::core::db::find_by(
        executor,
        (ELECTION_COLUMNS, "results_elections"),
        "id",
        id,
        election_record_from_row,
    )
    .await
}

pub async fn election<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    id: &str,
) -> Result<Option<StoredElection>, sqlx::Error> {
    election_record(executor, id)
        .await?
        .as_ref()
        .map(ElectionRecord::parse)
        .transpose()
}

pub async fn elections<'e, E: Executor<'e, Database = Any>>(
    executor: E,
) -> Result<Vec<StoredElection>, sqlx::Error> {
    let sql = select(ELECTION_COLUMNS, "results_elections", "ORDER BY id");
    sqlx::query(AssertSqlSafe(sql))
        .fetch_all(executor)
        .await?
        .iter()
        .map(|row| election_record_from_row(row)?.parse())
        .collect()
}

/// How many stations have a definitive result, per election id.
pub async fn counted_per_election<'e, E: Executor<'e, Database = Any>>(
    executor: E,
) -> Result<BTreeMap<String, usize>, sqlx::Error> {
    sqlx::query("SELECT election_id, COUNT(*) FROM results_station_results GROUP BY election_id")
        .fetch_all(executor)
        .await?
        .iter()
        .map(|row| {
            let count: i64 = row.try_get(1)?;
            Ok((row.try_get(0)?, usize::try_from(count).unwrap_or(0)))
        })
        .collect()
}

// ---------- events ----------

/// One appended event of a station's double entry.
#[derive(Clone, Debug, Serialize)]
pub struct StationEvent {
    pub id: String,
    pub action: String,
    pub actor: String,
    pub details: serde_json::Value,
    pub at: String,
}

pub async fn append_event(
    tx: &mut WriteTx,
    election: &ElectionId,
    station: &StationId,
    event: &StationEvent,
) -> Result<LeafIndex, LedgerError> {
    let salt = new_salt().map_err(|e| LedgerError::Damaged(e.to_string()))?;
    let record = Record::new(
        &kinds::RESULTS_EVENT,
        event.id.as_str(),
        1,
        vec![
            Value::from(election.to_string()),
            Value::from(station.to_string()),
            Value::from(event.action.clone()),
            Value::from(event.actor.clone()),
            Value::from(event.details.to_string()),
            Value::from(salt),
            Value::from(event.at.clone()),
        ],
    );
    save_record(tx, &record).await
}

pub async fn events<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    election: &ElectionId,
    station: &StationId,
) -> Result<Vec<StationEvent>, sqlx::Error> {
    sqlx::query("SELECT id, action, actor, details, at FROM results_events WHERE election_id = $1 AND station_id = $2 ORDER BY at, id")
        .bind(election.to_string())
        .bind(station.to_string())
        .fetch_all(executor)
        .await?
        .iter()
        .map(|row| {
            let details: String = row.try_get("details")?;
            Ok(StationEvent {
                id: row.try_get("id")?,
                action: row.try_get("action")?,
                actor: row.try_get("actor")?,
                details: serde_json::from_str(&details)
                    .map_err(|e| corrupt("stored event details", e))?,
                at: row.try_get("at")?,
            })
        })
        .collect()
}

// ---------- station states ----------

pub fn station_key(election: &ElectionId, station: &StationId) -> String {
    format!("{election}/{station}")
}

/// A station's double-entry state and its record version (0: never written).
pub async fn station_state<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    election: &ElectionId,
    station: &StationId,
) -> Result<(EntryState, u64), sqlx::Error> {
    let row = sqlx::query("SELECT version, state FROM results_station_states WHERE id = $1")
        .bind(station_key(election, station))
        .fetch_optional(executor)
        .await?;
    let Some(row) = row else {
        return Ok((EntryState::Empty, 0));
    };
    let state: String = row.try_get("state")?;
    Ok((
        serde_json::from_str(&state).map_err(|e| corrupt("stored entry state", e))?,
        row_version(&row)?,
    ))
}

/// Every station's state name (stations never touched are absent).
pub async fn station_states<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    election: &ElectionId,
) -> Result<BTreeMap<StationId, EntryState>, sqlx::Error> {
    sqlx::query("SELECT station_id, state FROM results_station_states WHERE election_id = $1")
        .bind(election.to_string())
        .fetch_all(executor)
        .await?
        .iter()
        .map(|row| {
            let state: String = row.try_get("state")?;
            Ok((
                StationId::from_stored(row.try_get("station_id")?),
                serde_json::from_str(&state).map_err(|e| corrupt("stored entry state", e))?,
            ))
        })
        .collect()
}

pub async fn save_station_state(
    tx: &mut WriteTx,
    election: &ElectionId,
    station: &StationId,
    version: u64,
    state: &EntryState,
    at: &str,
) -> Result<LeafIndex, LedgerError> {
    let salt = new_salt().map_err(|e| LedgerError::Damaged(e.to_string()))?;
    let record = Record::new(
        &kinds::RESULTS_STATION_STATE,
        station_key(election, station),
        version,
        vec![
            Value::from(election.to_string()),
            Value::from(station.to_string()),
            Value::from(serde_json::to_string(state).unwrap_or_default()),
            Value::from(salt),
            Value::from(at.to_string()),
        ],
    );
    save_record(tx, &record).await
}

// ---------- station results ----------

/// A definitive station result, its columns exactly as logged (the public
/// API serves them so that anyone can recompute the record's hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct StationResultRecord {
    pub id: String,
    pub version: u64,
    pub election_id: String,
    pub station_id: String,
    pub district_id: String,
    /// The counts as JSON text (see `StationCounts`).
    pub counts: String,
    /// The warnings as JSON text.
    pub warnings: String,
    pub explanation: Option<String>,
    pub salt: String,
    pub accepted_at: String,
}

impl StationResultRecord {
    /// The record as the log hashes it.
    pub fn record(&self) -> Record {
        Record::new(
            &kinds::RESULTS_STATION_RESULT,
            self.id.clone(),
            self.version,
            vec![
                Value::from(self.election_id.clone()),
                Value::from(self.station_id.clone()),
                Value::from(self.district_id.clone()),
                Value::from(self.counts.clone()),
                Value::from(self.warnings.clone()),
                Value::from(self.explanation.clone()),
                Value::from(self.salt.clone()),
                Value::from(self.accepted_at.clone()),
            ],
        )
    }
}

const RESULT_COLUMNS: &str = "id, version, election_id, station_id, district_id, counts, warnings, explanation, salt, accepted_at";

fn result_from_row(row: &AnyRow) -> Result<StationResultRecord, sqlx::Error> {
    Ok(StationResultRecord {
        id: row.try_get("id")?,
        version: row_version(row)?,
        election_id: row.try_get("election_id")?,
        station_id: row.try_get("station_id")?,
        district_id: row.try_get("district_id")?,
        counts: row.try_get("counts")?,
        warnings: row.try_get("warnings")?,
        explanation: row.try_get("explanation")?,
        salt: row.try_get("salt")?,
        accepted_at: row.try_get("accepted_at")?,
    })
}

pub async fn save_station_result(
    tx: &mut WriteTx,
    result: &StationResultRecord,
) -> Result<LeafIndex, LedgerError> {
    save_record(tx, &result.record()).await
}

pub async fn station_result<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    id: &str,
) -> Result<Option<StationResultRecord>, sqlx::Error> {
    crate::core::db::find_by(
        executor,
        (RESULT_COLUMNS, "results_station_results"),
        "id",
        id,
        result_from_row,
    )
    .await
}

pub async fn station_results<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    election: &ElectionId,
) -> Result<Vec<StationResultRecord>, sqlx::Error> {
    crate::core::db::find_all_by(
        executor,
        (RESULT_COLUMNS, "results_station_results"),
        ("election_id", election.as_str()),
        "id",
        result_from_row,
    )
    .await
}

/// A station result with the leaf of its current version.
pub struct LoggedResult {
    pub record: StationResultRecord,
    pub leaf_index: u64,
    pub leaf_entry: String,
}

/// Every station result of an election with its current version's leaf
/// (older versions' leaves stay in the log).
pub async fn logged_station_results<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    election: &ElectionId,
) -> Result<Vec<LoggedResult>, sqlx::Error> {
    let columns: Vec<String> = RESULT_COLUMNS
        .split(", ")
        .map(|c| format!("r.{c}"))
        .collect();
    let sql = format!(
        "SELECT {}, l.idx, l.entry FROM results_station_results r JOIN tlog_leaves l ON l.kind = 'results_station_result' AND l.record_id = r.id AND l.version = r.version WHERE r.election_id = $1 ORDER BY r.id",
        columns.join(", ")
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(election.to_string())
        .fetch_all(executor)
        .await?
        .iter()
        .map(|row| {
            let index: i64 = row.try_get("idx")?;
            Ok(LoggedResult {
                record: result_from_row(row)?,
                leaf_index: u64::try_from(index).unwrap_or(0),
                leaf_entry: row.try_get("entry")?,
            })
        })
        .collect()
}
