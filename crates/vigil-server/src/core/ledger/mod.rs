//! The transparency-log wiring: records and audit events are written here, in
//! the caller's transaction, together with their log leaves and tree nodes.
//! Also checkpoints, proofs and tiles, read from the same tables.
pub mod kinds;
pub mod record;
pub mod remote;
pub mod verify;

use crate::core::db::{Db, DbError, WriteTx};
use crate::core::time::Timestamp;
use record::{ColumnType, Personal, Record, Retention, Value};
use sqlx::{Any, AnyConnection, AssertSqlSafe, Row};
use std::collections::HashMap;
use std::sync::Arc;
use thiserror::Error;
use vigil_tlog::{
    Checkpoint, CompactRange, ConsistencyPlan, Hash, InclusionPlan, LeafEntry, LeafError,
    LogSigner, NodeId, ProofError, SignedCheckpoint, TilePath, leaf_hash, range_decomposition,
    subtree_root, tile_width,
};

/// Bound parameters per multi-row statement (SQLite allows 32,766).
const MAX_PARAMETERS: usize = 30_000;

#[derive(Debug, Error)]
pub enum LedgerError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    DbOpen(#[from] DbError),
    #[error(transparent)]
    Proof(#[from] ProofError),
    #[error(transparent)]
    Leaf(#[from] LeafError),
    #[error("{kind} {id} was changed by someone else (expected version {expected})")]
    VersionConflict {
        kind: &'static str,
        id: String,
        expected: u64,
    },
    #[error("the stored tree is damaged: {0}")]
    Damaged(String),
    #[error("tree size {requested} is beyond the current size {current}")]
    BeyondSize { requested: u64, current: u64 },
}

/// A leaf's position in the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct LeafIndex(pub u64);

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

type AnyQuery<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>;

fn bind_value<'q>(query: AnyQuery<'q>, value: &Value, ty: ColumnType) -> AnyQuery<'q> {
    match (value, ty) {
        (Value::Text(text), _) => query.bind(text.clone()),
        (Value::Integer(number), _) => query.bind(*number),
        (Value::Null, ColumnType::Text) => query.bind(None::<String>),
        (Value::Null, ColumnType::Integer) => query.bind(None::<i64>),
    }
}

/// A record version to write, with its personal values if its kind has any.
pub struct RecordWrite<'a> {
    pub record: &'a Record,
    pub personal: Option<&'a Personal>,
}

impl RecordWrite<'_> {
    /// Writes of records whose kind keeps no personal data.
    pub fn all(records: &[Record]) -> Vec<RecordWrite<'_>> {
        records
            .iter()
            .map(|record| RecordWrite {
                record,
                personal: None,
            })
            .collect()
    }
}

fn random_salt() -> String {
    let mut bytes = [0u8; 16];
    // An error here means the OS has no entropy source; the salt then only
    // loses its resistance to guessing, never the log's integrity.
    let _ = getrandom::fill(&mut bytes);
    hex::encode(bytes)
}

/// Inserts new rows for record versions (first versions, or events) and
/// appends their leaves. All rows must be of one kind.
pub async fn insert_records(
    tx: &mut WriteTx,
    writes: &[RecordWrite<'_>],
) -> Result<Vec<LeafIndex>, LedgerError> {
    let Some(first) = writes.first() else {
        return Ok(Vec::new());
    };
    let kind = first.record.kind;
    let mut columns: Vec<&str> = vec!["id"];
    if kind.retention == Retention::LatestVersion {
        columns.push("version");
    }
    columns.extend(kind.columns.iter().map(|c| c.name));
    if !kind.personal.is_empty() {
        columns.extend(kind.personal.iter().copied());
        columns.extend(["personal_salt", "personal_digest"]);
    }
    let width = columns.len();
    let mut entries = Vec::with_capacity(writes.len());
    let now = Timestamp::now().to_string();
    for chunk in writes.chunks((MAX_PARAMETERS / width).max(1)) {
        let sql = format!(
            "INSERT INTO {} ({}) VALUES {}",
            kind.table,
            columns.join(", "),
            tx.backend().values_clause(chunk.len(), width)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for write in chunk {
            let record = write.record;
            query = query.bind(record.id.clone());
            if kind.retention == Retention::LatestVersion {
                query = query.bind(to_i64(record.version));
            }
            for (column, value) in kind.columns.iter().zip(&record.values) {
                query = bind_value(query, value, column.ty);
            }
            let digest = if kind.personal.is_empty() {
                None
            } else {
                let values = write.personal.map(|p| p.0.clone()).unwrap_or_default();
                let values: Vec<Option<String>> = (0..kind.personal.len())
                    .map(|i| values.get(i).cloned().flatten())
                    .collect();
                let salt = random_salt();
                let digest = Personal::digest(&values, kind.personal, &salt);
                for value in values {
                    query = query.bind(value);
                }
                query = query.bind(salt).bind(digest.clone());
                Some(digest)
            };
            entries.push(LeafEntry::new(
                kind.kind,
                &record.id,
                record.version,
                &now,
                record.hash(digest.as_deref()),
            )?);
        }
        query.execute(tx.conn()).await?;
    }
    append_leaves(tx, &entries).await
}

/// Writes a record version without personal data: inserts version 1 (or an
/// event), replaces the row with any later version.
pub async fn save_record(tx: &mut WriteTx, record: &Record) -> Result<LeafIndex, LedgerError> {
    let write = RecordWrite {
        record,
        personal: None,
    };
    if record.version <= 1 {
        insert_records(tx, &[write])
            .await?
            .first()
            .copied()
            .ok_or_else(|| LedgerError::Damaged("no leaf appended".into()))
    } else {
        update_record(tx, write).await
    }
}

/// Replaces the stored row of a `LatestVersion` record with its next version
/// (`record.version` must be the stored version + 1) and appends its leaf.
pub async fn update_record(
    tx: &mut WriteTx,
    write: RecordWrite<'_>,
) -> Result<LeafIndex, LedgerError> {
    let record = write.record;
    let kind = record.kind;
    let mut assignments: Vec<String> = vec!["version = $1".into()];
    let mut n = 1;
    for column in kind.columns {
        n += 1;
        assignments.push(format!("{} = ${n}", column.name));
    }
    // Personal columns are rewritten only when given, keeping the digest intact otherwise.
    let personal = write.personal.map(|p| {
        let values: Vec<Option<String>> = (0..kind.personal.len())
            .map(|i| p.0.get(i).cloned().flatten())
            .collect();
        let salt = random_salt();
        let digest = Personal::digest(&values, kind.personal, &salt);
        (values, salt, digest)
    });
    if personal.is_some() {
        for name in kind
            .personal
            .iter()
            .copied()
            .chain(["personal_salt", "personal_digest"])
        {
            n += 1;
            assignments.push(format!("{name} = ${n}"));
        }
    }
    let sql = format!(
        "UPDATE {} SET {} WHERE id = ${} AND version = ${}",
        kind.table,
        assignments.join(", "),
        n + 1,
        n + 2
    );
    let mut query = sqlx::query(AssertSqlSafe(sql)).bind(to_i64(record.version));
    for (column, value) in kind.columns.iter().zip(&record.values) {
        query = bind_value(query, value, column.ty);
    }
    if let Some((values, salt, digest)) = &personal {
        for value in values {
            query = query.bind(value.clone());
        }
        query = query.bind(salt.clone()).bind(digest.clone());
    }
    let previous = record.version.saturating_sub(1);
    let updated = query
        .bind(record.id.clone())
        .bind(to_i64(previous))
        .execute(tx.conn())
        .await?
        .rows_affected();
    if updated != 1 {
        return Err(LedgerError::VersionConflict {
            kind: kind.kind,
            id: record.id.clone(),
            expected: previous,
        });
    }
    let digest = match personal {
        Some((_, _, digest)) => Some(digest),
        None if kind.personal.is_empty() => None,
        None => {
            let sql = format!("SELECT personal_digest FROM {} WHERE id = $1", kind.table);
            Some(
                sqlx::query(AssertSqlSafe(sql))
                    .bind(record.id.clone())
                    .fetch_one(tx.conn())
                    .await?
                    .try_get(0)?,
            )
        }
    };
    let entry = LeafEntry::new(
        kind.kind,
        &record.id,
        record.version,
        &Timestamp::now().to_string(),
        record.hash(digest.as_deref()),
    )?;
    let indexes = append_leaves(tx, &[entry]).await?;
    indexes
        .first()
        .copied()
        .ok_or_else(|| LedgerError::Damaged("no leaf appended".into()))
}

/// Appends leaves at the end of the tree, writing them and every tree node
/// they complete. Runs inside the caller's transaction, which holds the head.
pub async fn append_leaves(
    tx: &mut WriteTx,
    entries: &[LeafEntry],
) -> Result<Vec<LeafIndex>, LedgerError> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    // The head row caches the tree's frontier; without it (or if it does not
    // fit the size) the frontier is computed from the stored tree.
    let head = sqlx::query("SELECT size, frontier FROM tlog_head WHERE id = 1")
        .fetch_one(tx.conn())
        .await?;
    let size = to_u64(head.try_get(0)?);
    let frontier: Option<Vec<u8>> = head.try_get(1)?;
    let mut range = match frontier.and_then(|bytes| CompactRange::from_bytes(size, &bytes)) {
        Some(range) => range,
        None => compact_range(tx.conn(), size).await?,
    };
    let mut nodes: Vec<(NodeId, Hash)> = Vec::with_capacity(entries.len() * 2);
    let mut leaves: Vec<(u64, &LeafEntry, String)> = Vec::with_capacity(entries.len());
    for (offset, entry) in entries.iter().enumerate() {
        let bytes = entry.encode();
        // Only tile-level nodes are stored; the others are computed from them.
        nodes.extend(
            range
                .push(leaf_hash(&bytes))
                .into_iter()
                .filter(|(id, _)| id.is_stored()),
        );
        leaves.push((
            size + offset as u64,
            entry,
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
    }
    for chunk in leaves.chunks(MAX_PARAMETERS / 5) {
        let sql = format!(
            "INSERT INTO tlog_leaves (idx, kind, record_id, version, entry) VALUES {}",
            tx.backend().values_clause(chunk.len(), 5)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (index, entry, text) in chunk {
            query = query
                .bind(to_i64(*index))
                .bind(entry.kind.clone())
                .bind(entry.id.clone())
                .bind(to_i64(entry.version))
                .bind(text.clone());
        }
        query.execute(tx.conn()).await?;
    }
    for chunk in nodes.chunks(MAX_PARAMETERS / 3) {
        let sql = format!(
            "INSERT INTO tlog_nodes (level, idx, hash) VALUES {}",
            tx.backend().values_clause(chunk.len(), 3)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (id, hash) in chunk {
            query = query
                .bind(i64::from(id.level))
                .bind(to_i64(id.index))
                .bind(hash.0.to_vec());
        }
        query.execute(tx.conn()).await?;
    }
    sqlx::query("UPDATE tlog_head SET size = $1, frontier = $2 WHERE id = 1")
        .bind(to_i64(range.size()))
        .bind(range.to_bytes())
        .execute(tx.conn())
        .await?;
    Ok((size..range.size()).map(LeafIndex).collect())
}

/// Reads tree nodes by id, each computed from its run of tile-level nodes
/// (see [`NodeId::base`]): leaf hashes of the entries for the levels below
/// 8, stored nodes above.
async fn read_nodes(
    conn: &mut AnyConnection,
    ids: &[NodeId],
) -> Result<HashMap<NodeId, Hash>, LedgerError> {
    let mut found = HashMap::with_capacity(ids.len());
    for level in ids
        .iter()
        .map(|id| id.base().level)
        .collect::<std::collections::BTreeSet<_>>()
    {
        let wanted: Vec<&NodeId> = ids.iter().filter(|id| id.base().level == level).collect();
        // Level 0 binds no level: its ranges start at $1.
        let first = if level == 0 { 1 } else { 2 };
        let ranges: Vec<String> = (0..wanted.len())
            .map(|i| {
                format!(
                    "(idx >= ${} AND idx < ${})",
                    2 * i + first,
                    2 * i + first + 1
                )
            })
            .collect();
        let ranges = ranges.join(" OR ");
        let mut query = if level == 0 {
            sqlx::query(AssertSqlSafe(format!(
                "SELECT idx, entry FROM tlog_leaves WHERE {ranges}"
            )))
        } else {
            sqlx::query(AssertSqlSafe(format!(
                "SELECT idx, hash FROM tlog_nodes WHERE level = $1 AND ({ranges})"
            )))
            .bind(i64::from(level))
        };
        for id in &wanted {
            let base = id.base();
            query = query
                .bind(to_i64(base.first))
                .bind(to_i64(base.first + base.count));
        }
        let mut hashes: HashMap<u64, Hash> = HashMap::new();
        for row in query.fetch_all(&mut *conn).await? {
            let index = to_u64(row.try_get(0)?);
            let hash = if level == 0 {
                leaf_hash(row.try_get::<String, _>(1)?.as_bytes())
            } else {
                let bytes: Vec<u8> = row.try_get(1)?;
                Hash::from_slice(&bytes).ok_or_else(|| {
                    LedgerError::Damaged(format!("node {level}/{index} is not 32 bytes"))
                })?
            };
            hashes.insert(index, hash);
        }
        for id in wanted {
            let base = id.base();
            // A missing input leaves the node out: the caller names it.
            let inputs: Option<Vec<Hash>> = (base.first..base.first + base.count)
                .map(|i| hashes.get(&i).copied())
                .collect();
            if let Some(root) = inputs.as_deref().and_then(subtree_root) {
                found.insert(*id, root);
            }
        }
    }
    Ok(found)
}

async fn compact_range(conn: &mut AnyConnection, size: u64) -> Result<CompactRange, LedgerError> {
    let ids = range_decomposition(0, size);
    let found = read_nodes(conn, &ids).await?;
    let hashes = ids
        .iter()
        .map(|id| found.get(id).copied().ok_or(ProofError::MissingNode(*id)))
        .collect::<Result<Vec<_>, _>>()?;
    CompactRange::from_parts(size, &hashes).ok_or_else(|| LedgerError::Damaged("frontier".into()))
}

/// The log as readers see it: sizes, checkpoints, proofs and tiles.
#[derive(Clone)]
pub struct Ledger {
    db: Db,
    signer: Arc<LogSigner>,
}

/// An inclusion proof with what is needed to check it.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct InclusionProof {
    pub leaf_index: u64,
    pub tree_size: u64,
    /// The leaf entry (see docs/transparency-log.md), whose RFC 6962 leaf hash is proven.
    pub leaf_entry: String,
    pub leaf_hash: String,
    /// Sibling hashes from the leaf upwards, hexadecimal.
    pub proof: Vec<String>,
    pub root_hash: String,
    /// The signed checkpoint of `tree_size`, when the proof is against one.
    pub checkpoint: Option<String>,
}

#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ConsistencyProof {
    pub old_size: u64,
    pub new_size: u64,
    pub old_root: String,
    pub new_root: String,
    pub proof: Vec<String>,
}

impl Ledger {
    pub fn new(db: Db, signer: Arc<LogSigner>) -> Ledger {
        Ledger { db, signer }
    }

    pub fn origin(&self) -> &str {
        self.signer.name()
    }

    /// A secret derived from the log key (see [`LogSigner::derive_secret`]).
    pub fn derive_secret(&self, purpose: &str) -> [u8; 32] {
        self.signer.derive_secret(purpose)
    }

    pub fn verifier_key(&self) -> String {
        self.signer.verifier().encode()
    }

    pub async fn size(&self) -> Result<u64, LedgerError> {
        let row = sqlx::query("SELECT size FROM tlog_head WHERE id = 1")
            .fetch_one(self.db.pool())
            .await?;
        Ok(to_u64(row.try_get(0)?))
    }

    pub async fn root(&self, size: u64) -> Result<Hash, LedgerError> {
        Ok(compact_range(&mut *self.db.pool().acquire().await?, size)
            .await?
            .root())
    }

    pub async fn latest_checkpoint(&self) -> Result<Option<SignedCheckpoint>, LedgerError> {
        let row = sqlx::query("SELECT note FROM tlog_checkpoints ORDER BY size DESC LIMIT 1")
            .fetch_optional(self.db.pool())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let note: String = row.try_get(0)?;
        let signed = self
            .signer
            .verifier()
            .verify(&note)
            .map_err(|e| LedgerError::Damaged(format!("stored checkpoint: {e}")))?;
        Ok(Some(signed))
    }

    pub async fn checkpoint_at(&self, size: u64) -> Result<Option<String>, LedgerError> {
        let row = sqlx::query("SELECT note FROM tlog_checkpoints WHERE size = $1")
            .bind(to_i64(size))
            .fetch_optional(self.db.pool())
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// Signs the current tree unless the latest checkpoint already covers it.
    /// Refuses to sign a tree that does not extend the last signed one.
    pub async fn checkpoint(&self) -> Result<SignedCheckpoint, LedgerError> {
        let size = self.size().await?;
        let latest = self.latest_checkpoint().await?;
        if let Some(latest) = &latest
            && latest.checkpoint.size == size
        {
            return Ok(latest.clone());
        }
        let root = self.root(size).await?;
        if let Some(latest) = &latest {
            let proof = self.consistency_proof(latest.checkpoint.size, size).await?;
            let hashes: Vec<Hash> = proof
                .proof
                .iter()
                .filter_map(|h| Hash::from_hex(h))
                .collect();
            if !vigil_tlog::verify_consistency(
                latest.checkpoint.size,
                size,
                &latest.checkpoint.root,
                &root,
                &hashes,
            ) {
                return Err(LedgerError::Damaged(format!(
                    "the tree of size {size} does not extend the signed checkpoint of size {}",
                    latest.checkpoint.size
                )));
            }
        }
        let signed = self.signer.sign(&Checkpoint {
            origin: self.origin().to_string(),
            size,
            root,
        });
        sqlx::query("INSERT INTO tlog_checkpoints (size, note, created_at) VALUES ($1, $2, $3) ON CONFLICT (size) DO NOTHING")
            .bind(to_i64(size))
            .bind(signed.note.clone())
            .bind(Timestamp::now().to_string())
            .execute(self.db.pool())
            .await?;
        Ok(signed)
    }

    async fn entry(&self, index: u64) -> Result<Option<String>, LedgerError> {
        let row = sqlx::query("SELECT entry FROM tlog_leaves WHERE idx = $1")
            .bind(to_i64(index))
            .fetch_optional(self.db.pool())
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// The leaf index of a record version (the newest version when `None`).
    pub async fn find_leaf(
        &self,
        kind: &str,
        id: &str,
        version: Option<u64>,
    ) -> Result<Option<u64>, LedgerError> {
        let row = match version {
            Some(version) => {
                sqlx::query("SELECT idx FROM tlog_leaves WHERE kind = $1 AND record_id = $2 AND version = $3")
                    .bind(kind.to_string())
                    .bind(id.to_string())
                    .bind(to_i64(version))
                    .fetch_optional(self.db.pool())
                    .await?
            }
            None => {
                sqlx::query("SELECT idx FROM tlog_leaves WHERE kind = $1 AND record_id = $2 ORDER BY version DESC LIMIT 1")
                    .bind(kind.to_string())
                    .bind(id.to_string())
                    .fetch_optional(self.db.pool())
                    .await?
            }
        };
        Ok(row
            .map(|r| r.try_get::<i64, _>(0).map(to_u64))
            .transpose()?)
    }

    /// Proves leaf `index` in the tree of `size` leaves (the latest checkpoint's size when `None`).
    pub async fn inclusion_proof(
        &self,
        index: u64,
        size: Option<u64>,
    ) -> Result<InclusionProof, LedgerError> {
        let current = self.size().await?;
        let (size, checkpoint) = match size {
            Some(size) => (size, self.checkpoint_at(size).await?),
            None => match self.latest_checkpoint().await? {
                Some(latest) if latest.checkpoint.size > index => {
                    (latest.checkpoint.size, Some(latest.note))
                }
                // The leaf is newer than the latest checkpoint: sign one now.
                _ => {
                    let signed = self.checkpoint().await?;
                    (signed.checkpoint.size, Some(signed.note))
                }
            },
        };
        if size > current {
            return Err(LedgerError::BeyondSize {
                requested: size,
                current,
            });
        }
        let plan = InclusionPlan::new(index, size)?;
        let nodes = read_nodes(&mut *self.db.pool().acquire().await?, &plan.node_ids()).await?;
        let proof = plan.assemble(|id| nodes.get(&id).copied())?;
        let entry = self
            .entry(index)
            .await?
            .ok_or_else(|| LedgerError::Damaged(format!("leaf {index} has no entry")))?;
        Ok(InclusionProof {
            leaf_index: index,
            tree_size: size,
            leaf_hash: leaf_hash(entry.as_bytes()).to_hex(),
            leaf_entry: entry,
            proof: proof.iter().map(Hash::to_hex).collect(),
            root_hash: self.root(size).await?.to_hex(),
            checkpoint,
        })
    }

    pub async fn consistency_proof(
        &self,
        old: u64,
        new: u64,
    ) -> Result<ConsistencyProof, LedgerError> {
        let current = self.size().await?;
        if new > current {
            return Err(LedgerError::BeyondSize {
                requested: new,
                current,
            });
        }
        let plan = ConsistencyPlan::new(old, new)?;
        let nodes = read_nodes(&mut *self.db.pool().acquire().await?, &plan.node_ids()).await?;
        let proof = plan.assemble(|id| nodes.get(&id).copied())?;
        Ok(ConsistencyProof {
            old_size: old,
            new_size: new,
            old_root: self.root(old).await?.to_hex(),
            new_root: self.root(new).await?.to_hex(),
            proof: proof.iter().map(Hash::to_hex).collect(),
        })
    }

    /// A tlog-tiles resource, or `None` if the tree does not hold it (yet).
    pub async fn tile(&self, path: TilePath) -> Result<Option<Vec<u8>>, LedgerError> {
        let size = self.size().await?;
        match tile_width(path.level, path.index, size) {
            Some(available) if available >= path.width => {}
            _ => return Ok(None),
        }
        let first = to_i64(path.index * vigil_tlog::TILE_WIDTH);
        let last = first + to_i64(path.width);
        let incomplete = || LedgerError::Damaged(format!("{} is incomplete", path.to_path()));
        match path.level {
            Some(level) if level > 0 => {
                let rows = sqlx::query("SELECT hash FROM tlog_nodes WHERE level = $1 AND idx >= $2 AND idx < $3 ORDER BY idx")
                    .bind(i64::from(level) * i64::from(vigil_tlog::TILE_HEIGHT))
                    .bind(first)
                    .bind(last)
                    .fetch_all(self.db.pool())
                    .await?;
                if rows.len() as u64 != path.width {
                    return Err(incomplete());
                }
                let mut out = Vec::with_capacity(rows.len() * 32);
                for row in rows {
                    out.extend_from_slice(&row.try_get::<Vec<u8>, _>(0)?);
                }
                Ok(Some(out))
            }
            // Level-0 tiles (leaf hashes) and entry bundles both come from the entries.
            level => {
                let rows = sqlx::query(
                    "SELECT entry FROM tlog_leaves WHERE idx >= $1 AND idx < $2 ORDER BY idx",
                )
                .bind(first)
                .bind(last)
                .fetch_all(self.db.pool())
                .await?;
                if rows.len() as u64 != path.width {
                    return Err(incomplete());
                }
                let entries = rows
                    .iter()
                    .map(|r| r.try_get::<String, _>(0))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Some(match level {
                    Some(_) => entries
                        .iter()
                        .flat_map(|e| leaf_hash(e.as_bytes()).0)
                        .collect(),
                    None => vigil_tlog::entry_bundle(entries.iter().map(|e| e.as_bytes())),
                }))
            }
        }
    }
}
