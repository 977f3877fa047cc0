//! `vigil log verify` against a database: recomputes every leaf from the
//! stored records, rebuilds the tree, and checks it against the signed
//! checkpoints. It trusts nothing in the database but the records themselves.
use super::kinds;
use super::record::{RecordKind, Retention};
use crate::core::db::{Db, DbError, Param};
use serde::de::DeserializeOwned;
use serde_json::Value as Json;
use sqlx::{AssertSqlSafe, Row};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use tokio::sync::mpsc;
use vigil_tlog::{
    CompactRange, Hash, LeafEntry, LeafError, LogVerifier, SignedCheckpoint, leaf_hash,
};

/// One thing found wrong, naming the record or log position concerned.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub subject: String,
    pub problem: String,
}

#[derive(Debug, Default, serde::Serialize)]
pub struct Report {
    pub tree_size: u64,
    pub root: String,
    /// Size of the latest signed checkpoint that verified.
    pub checkpoint_size: Option<u64>,
    /// That checkpoint's signed note, to keep for a later `--since`.
    #[serde(skip)]
    pub checkpoint_note: Option<String>,
    pub records_checked: u64,
    /// Records whose personal data was erased (allowed, and counted).
    pub redacted_records: u64,
    pub problems: Vec<Problem>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    fn problem(&mut self, subject: impl Into<String>, problem: impl Into<String>) {
        self.problems.push(Problem {
            subject: subject.into(),
            problem: problem.into(),
        });
    }
}

/// Rows per packed read (see [`Db::fetch_packed`]).
const PACK: i64 = 10_000;

type Pages<Item> = mpsc::Receiver<Result<Vec<Item>, DbError>>;

/// Reads a table in pages of [`PACK`] rows on a task of its own, a page or
/// two ahead of its reader, so that the database, the decoding and the
/// checking overlap on both cores. `sql` takes the page's keyset position as
/// `$1…`: `start` for the first page, then `after(page)`; each page is sorted
/// by `sort`, then each row turned by `prepare` into what the reader wants.
/// Reading stops when the reader drops the receiver.
fn read_ahead<Row, Item>(
    db: &Db,
    sql: String,
    columns: Vec<&'static str>,
    start: Vec<Param>,
    sort: fn(&mut Vec<Row>),
    after: fn(&[Row]) -> Vec<Param>,
    prepare: impl Fn(Row) -> Item + Send + 'static,
) -> Pages<Item>
where
    Row: DeserializeOwned + Send + 'static,
    Item: Send + 'static,
{
    let (sender, receiver) = mpsc::channel(2);
    let db = db.clone();
    tokio::spawn(async move {
        let mut position = start;
        loop {
            match db.fetch_packed::<Row>(&sql, &columns, &position).await {
                Ok(rows) if rows.is_empty() => break,
                Ok(mut rows) => {
                    sort(&mut rows);
                    position = after(&rows);
                    let items = rows.into_iter().map(&prepare).collect();
                    if sender.send(Ok(items)).await.is_err() {
                        break;
                    }
                }
                Err(e) => {
                    let _ = sender.send(Err(e)).await;
                    break;
                }
            }
        }
    });
    receiver
}

/// A leaf as read, decoded and hashed ahead of the tree rebuild.
struct ReadLeaf {
    index: i64,
    entry: Result<LeafEntry, LeafError>,
    /// Whether the index columns (kind, record id, version) agree with the entry.
    columns_agree: bool,
    leaf_hash: Hash,
}

/// What the leaves say, and the tree rebuilt from them.
#[derive(Default)]
struct LeafScan {
    range: CompactRange,
    /// Recomputed nodes per level, for the levels a store keeps (8, 16, …).
    levels: Vec<Vec<Hash>>,
    /// The leaf logging each record hash. A record hash covers the kind, id,
    /// version and content, so a row whose hash is here is logged as it is;
    /// matching on it avoids keying millions of leaves by their ids.
    by_record_hash: HashMap<Hash, u64>,
    /// Whether each leaf's record row was found.
    has_row: Vec<bool>,
    /// The newest logged version of each record of a `LatestVersion` kind.
    latest_version: HashMap<(&'static str, String), u64>,
    /// Leaves of `LatestVersion` kinds (only their newest version keeps a row).
    versioned: Vec<(u64, &'static str, String, u64)>,
    /// Roots of the tree at the sizes checkpoints sign.
    roots: BTreeMap<u64, Hash>,
    problems: Vec<Problem>,
}

/// A stored record row, re-hashed.
struct RecordFacts {
    kind: &'static RecordKind,
    id: String,
    version: u64,
    hash: Hash,
    personal_intact: Option<bool>,
    has_personal: bool,
}

fn problem(subject: impl Into<String>, problem: impl Into<String>) -> Problem {
    Problem {
        subject: subject.into(),
        problem: problem.into(),
    }
}

/// Verifies the store behind `db` with the log's public key. `since` is a
/// signed checkpoint saved earlier, which the current log must extend.
pub async fn verify_store(
    db: &Db,
    verifier: &LogVerifier,
    since: Option<&str>,
) -> anyhow::Result<Report> {
    let pending = db.pending_migrations().await?;
    if !pending.is_empty() {
        anyhow::bail!(
            "the store's layout is older than this version of Vigil (migrations {pending:?} not applied): \
             open it once with this version (for example `vigil log checkpoint`) to migrate it, then verify"
        );
    }
    let mut report = Report::default();
    let checkpoints = load_checkpoints(db, verifier, &mut report).await?;
    let mut sizes: BTreeSet<u64> = checkpoints.iter().map(|s| s.checkpoint.size).collect();
    let since = match since {
        Some(note) => match verifier.verify(note) {
            Ok(signed) => {
                sizes.insert(signed.checkpoint.size);
                Some(signed)
            }
            Err(e) => {
                report.problem(
                    "--since checkpoint",
                    format!("does not verify with the log key: {e}"),
                );
                None
            }
        },
        None => None,
    };

    // 1. Leaves (rebuilding the tree) and records (re-hashing each row) are
    //    read side by side, on two connections.
    // `SELECT *`: the verifier reads stores as they are, and stores older
    // than migration 2 have no cached frontier.
    let head_row = sqlx::query("SELECT * FROM tlog_head WHERE id = 1")
        .fetch_one(db.pool())
        .await?;
    let head: i64 = head_row.try_get("size")?;
    let frontier: Option<Vec<u8>> = head_row.try_get("frontier").unwrap_or(None);
    let records = tokio::spawn(scan_records(db.clone()));
    let nodes = read_nodes(db);
    let mut scan = scan_leaves(db, &sizes, usize::try_from(head).unwrap_or(0)).await?;
    report.problems.append(&mut scan.problems);
    let range = &scan.range;
    report.tree_size = range.size();
    report.root = range.root().to_hex();
    if u64::try_from(head).ok() != Some(range.size()) {
        report.problem(
            "log head",
            format!("records size {head} but {} leaves are stored", range.size()),
        );
    }
    // Writers extend the tree from this cache: a wrong one would corrupt what they add.
    if frontier.is_some_and(|bytes| bytes != range.to_bytes()) {
        report.problem(
            "log head",
            "its cached frontier differs from the tree rebuilt from the stored leaves",
        );
    }

    // 2. Stored tree nodes must be exactly the recomputed ones (proofs are served from them).
    check_nodes(nodes, &scan.levels, &mut report).await?;
    let records = records.await??;

    // 3. Signed checkpoints must match the rebuilt tree.
    for signed in &checkpoints {
        match scan.roots.get(&signed.checkpoint.size) {
            Some(root) if *root == signed.checkpoint.root => {
                // Checkpoints come in ascending size: the last that verifies is the latest.
                report.checkpoint_size = Some(signed.checkpoint.size);
                report.checkpoint_note = Some(signed.note.clone());
            }
            Some(_) => report.problem(
                format!("checkpoint {}", signed.checkpoint.size),
                "its root differs from the tree rebuilt from the stored leaves",
            ),
            None => report.problem(
                format!("checkpoint {}", signed.checkpoint.size),
                format!(
                    "signs {} leaves but only {} are stored",
                    signed.checkpoint.size,
                    range.size()
                ),
            ),
        }
    }
    if let Some(since) = since {
        let size = since.checkpoint.size;
        match scan.roots.get(&size) {
            Some(root) if *root == since.checkpoint.root => {}
            Some(_) => report.problem(
                format!("--since checkpoint {size}"),
                "the log no longer extends it: history was rewritten",
            ),
            None => report.problem(
                format!("--since checkpoint {size}"),
                format!("the log has shrunk to {} leaves", range.size()),
            ),
        }
    }
    if checkpoints.is_empty() && range.size() > 0 {
        report.problem("checkpoints", "no signed checkpoint covers the log");
    }

    // 4. Every stored record must have its leaf, and every leaf its record.
    let mut unlogged = Vec::new();
    for record in records {
        report.records_checked += 1;
        let kind = record.kind;
        let subject = || format!("{} {} version {}", kind.kind, record.id, record.version);
        match scan.by_record_hash.get(&record.hash) {
            Some(&index) => mark_row(&mut scan.has_row, index),
            None => unlogged.push((subject(), kind.kind, record.id.clone(), record.version)),
        }
        match record.personal_intact {
            Some(false) => {
                report.problem(subject(), "its personal data differs from what was logged")
            }
            None if record.has_personal => report.redacted_records += 1,
            _ => {}
        }
        if kind.retention == Retention::LatestVersion {
            let latest = scan
                .latest_version
                .get(&(kind.kind, record.id.clone()))
                .copied()
                .unwrap_or(0);
            if latest > record.version {
                report.problem(
                    subject(),
                    format!(
                        "is stale: the log holds version {latest}; a newer version was rolled back"
                    ),
                );
            }
        }
    }
    // A row whose hash no leaf logs was edited (a leaf logs its version) or inserted.
    for (subject, kind, id, version) in unlogged {
        match leaf_of(db, kind, &id, version).await? {
            Some(index) => {
                mark_row(&mut scan.has_row, index);
                report.problem(
                    subject,
                    format!(
                        "differs from log leaf {index}: the row was edited behind the server's back"
                    ),
                );
            }
            None => report.problem(
                subject,
                "has no log leaf: the row was inserted behind the server's back",
            ),
        }
    }
    // Leaves without their row: every leaf of an event kind, the newest of a versioned one.
    let mut gone: Vec<u64> = (0..scan.has_row.len() as u64)
        .filter(|&index| !scan.has_row.get(index as usize).copied().unwrap_or(true))
        .collect();
    let versioned: HashMap<u64, (&'static str, &String, u64)> = scan
        .versioned
        .iter()
        .map(|(index, kind, id, version)| (*index, (*kind, id, *version)))
        .collect();
    gone.retain(|index| match versioned.get(index) {
        Some((kind, id, version)) => {
            scan.latest_version.get(&(*kind, (*id).clone())) == Some(version)
        }
        None => true,
    });
    for (index, entry) in entries_at(db, &gone).await? {
        report.problem(
            format!("{} {} version {}", entry.kind, entry.id, entry.version),
            format!(
                "is logged at leaf {index} but its row is gone: it was deleted behind the server's back"
            ),
        );
    }
    Ok(report)
}

fn mark_row(has_row: &mut [bool], index: u64) {
    if let Some(flag) = usize::try_from(index).ok().and_then(|i| has_row.get_mut(i)) {
        *flag = true;
    }
}

/// The leaf logging a record version, found through the leaves' index
/// columns (checked against each entry while scanning).
async fn leaf_of(db: &Db, kind: &str, id: &str, version: u64) -> anyhow::Result<Option<u64>> {
    let row = sqlx::query(
        "SELECT idx FROM tlog_leaves WHERE kind = $1 AND record_id = $2 AND version = $3",
    )
    .bind(kind.to_string())
    .bind(id.to_string())
    .bind(i64::try_from(version).unwrap_or(i64::MAX))
    .fetch_optional(db.pool())
    .await?;
    Ok(row
        .map(|row| row.try_get::<i64, _>(0))
        .transpose()?
        .and_then(|index| u64::try_from(index).ok()))
}

/// The decodable entries at some leaf indexes, in index order.
async fn entries_at(db: &Db, indexes: &[u64]) -> anyhow::Result<Vec<(u64, LeafEntry)>> {
    let mut found = Vec::with_capacity(indexes.len());
    for chunk in indexes.chunks(500) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT idx, entry FROM tlog_leaves WHERE idx IN ({}) ORDER BY idx",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for index in chunk {
            query = query.bind(i64::try_from(*index).unwrap_or(i64::MAX));
        }
        for row in query.fetch_all(db.pool()).await? {
            let index = u64::try_from(row.try_get::<i64, _>(0)?).unwrap_or(u64::MAX);
            let entry: String = row.try_get(1)?;
            if let Ok(entry) = LeafEntry::decode(entry.as_bytes()) {
                found.push((index, entry));
            }
        }
    }
    Ok(found)
}

fn json_str(value: Option<&Json>) -> Option<&str> {
    value.and_then(Json::as_str)
}

/// Reads every leaf in order, decoding it and rebuilding the tree.
async fn scan_leaves(
    db: &Db,
    sizes: &BTreeSet<u64>,
    expected_leaves: usize,
) -> anyhow::Result<LeafScan> {
    let mut scan = LeafScan::default();
    // The head is only a hint (it may be tampered with): cap what it reserves.
    let expected_leaves = expected_leaves.min(50_000_000);
    scan.by_record_hash.reserve(expected_leaves);
    scan.has_row.reserve(expected_leaves);
    if sizes.contains(&0) {
        scan.roots.insert(0, Hash::empty());
    }
    type LeafRow = (i64, String, String, i64, String);
    let mut pages: Pages<ReadLeaf> = read_ahead(
        db,
        format!(
            "SELECT idx, kind, record_id, version, entry FROM tlog_leaves WHERE idx >= $1 ORDER BY idx LIMIT {PACK}"
        ),
        vec!["idx", "kind", "record_id", "version", "entry"],
        vec![Param::Integer(0)],
        |rows: &mut Vec<LeafRow>| rows.sort_unstable_by_key(|row| row.0),
        |rows| {
            vec![Param::Integer(
                rows.last().map_or(i64::MAX, |row| row.0.saturating_add(1)),
            )]
        },
        |(index, kind, record_id, version, text)| {
            let entry = LeafEntry::decode(text.as_bytes());
            ReadLeaf {
                index,
                columns_agree: entry.as_ref().is_ok_and(|entry| {
                    (&kind, &record_id, u64::try_from(version).ok())
                        == (&entry.kind, &entry.id, Some(entry.version))
                }),
                entry,
                leaf_hash: leaf_hash(text.as_bytes()),
            }
        },
    );
    'pages: while let Some(leaves) = pages.recv().await {
        for leaf in leaves? {
            let index = u64::try_from(leaf.index).ok();
            let expected = scan.range.size();
            if index != Some(expected) {
                scan.problems.push(problem(
                    format!("log leaf {expected}"),
                    format!(
                        "missing: the next stored leaf is {}; leaves were deleted",
                        index.map_or_else(|| "unreadable".to_string(), |i| i.to_string())
                    ),
                ));
                break 'pages;
            }
            let subject = || format!("log leaf {expected}");
            match leaf.entry {
                Ok(entry) => {
                    if !leaf.columns_agree {
                        scan.problems.push(problem(
                            subject(),
                            "its index columns disagree with its entry",
                        ));
                    }
                    match kinds::by_name(&entry.kind) {
                        Some(kind) => {
                            if kind.retention == Retention::LatestVersion {
                                let latest = scan
                                    .latest_version
                                    .entry((kind.kind, entry.id.clone()))
                                    .or_insert(0);
                                *latest = (*latest).max(entry.version);
                                scan.versioned
                                    .push((expected, kind.kind, entry.id, entry.version));
                            }
                            if let Some(first) =
                                scan.by_record_hash.insert(entry.record_hash, expected)
                            {
                                scan.problems.push(problem(
                                    subject(),
                                    format!("logs the same record version as log leaf {first}"),
                                ));
                            }
                        }
                        None => scan.problems.push(problem(
                            format!("{} {}", entry.kind, entry.id),
                            "is of a record kind this version of Vigil does not know",
                        )),
                    }
                }
                Err(e) => scan
                    .problems
                    .push(problem(subject(), format!("entry is malformed: {e}"))),
            }
            scan.has_row.push(false);
            for (id, hash) in scan.range.push(leaf.leaf_hash) {
                if !id.is_stored() {
                    continue;
                }
                let level = usize::from(id.level);
                if scan.levels.len() <= level {
                    scan.levels.resize_with(level + 1, Vec::new);
                }
                scan.levels[level].push(hash);
            }
            if sizes.contains(&scan.range.size()) {
                scan.roots.insert(scan.range.size(), scan.range.root());
            }
        }
    }
    Ok(scan)
}

/// Reads and re-hashes every stored record of every kind.
async fn scan_records(db: Db) -> anyhow::Result<Vec<RecordFacts>> {
    let mut facts = Vec::new();
    for kind in kinds::ALL {
        // Every kind's table has `id` as its key and first column.
        let mut pages: Pages<Result<RecordFacts, String>> = read_ahead(
            &db,
            format!(
                "SELECT {} FROM {} WHERE id > $1 ORDER BY id LIMIT {PACK}",
                kind.select_list(),
                kind.table
            ),
            kind.selected_columns(),
            vec![Param::Text(String::new())],
            |rows: &mut Vec<Vec<Json>>| {
                rows.sort_by(|a, b| json_str(a.first()).cmp(&json_str(b.first())))
            },
            |rows| {
                let last = rows.last().and_then(|row| json_str(row.first()));
                vec![Param::Text(last.unwrap_or_default().to_string())]
            },
            move |row| {
                let stored = kind.read_row(&row)?;
                Ok(RecordFacts {
                    kind,
                    hash: stored.hash(),
                    personal_intact: stored.personal_intact(),
                    has_personal: stored.personal.is_some(),
                    id: stored.record.id,
                    version: stored.record.version,
                })
            },
        );
        while let Some(records) = pages.recv().await {
            for record in records? {
                facts.push(record.map_err(anyhow::Error::msg)?);
            }
        }
    }
    Ok(facts)
}

async fn load_checkpoints(
    db: &Db,
    verifier: &LogVerifier,
    report: &mut Report,
) -> anyhow::Result<Vec<SignedCheckpoint>> {
    let rows = sqlx::query("SELECT size, note FROM tlog_checkpoints ORDER BY size")
        .fetch_all(db.pool())
        .await?;
    let mut checkpoints = Vec::with_capacity(rows.len());
    for row in rows {
        let size: i64 = row.try_get(0)?;
        let note: String = row.try_get(1)?;
        match verifier.verify(&note) {
            Ok(signed) if i64::try_from(signed.checkpoint.size).ok() == Some(size) => {
                checkpoints.push(signed)
            }
            Ok(_) => report.problem(
                format!("checkpoint {size}"),
                "is stored under the wrong size",
            ),
            Err(e) => report.problem(
                format!("checkpoint {size}"),
                format!("does not verify with the log key: {e}"),
            ),
        }
    }
    Ok(checkpoints)
}

type NodeRow = (i64, i64, String);
type ReadNode = (i64, i64, Option<Hash>);

/// Starts reading the stored tree nodes (they are compared once the tree is rebuilt).
fn read_nodes(db: &Db) -> Pages<ReadNode> {
    read_ahead(
        db,
        format!(
            "SELECT level, idx, {} AS hash FROM tlog_nodes WHERE (level, idx) > ($1, $2) ORDER BY level, idx LIMIT {PACK}",
            db.hex("hash")
        ),
        vec!["level", "idx", "hash"],
        vec![Param::Integer(-1), Param::Integer(-1)],
        |rows: &mut Vec<NodeRow>| rows.sort_unstable_by_key(|row| (row.0, row.1)),
        |rows| {
            let (level, index) = rows
                .last()
                .map_or((i64::MAX, i64::MAX), |row| (row.0, row.1));
            vec![Param::Integer(level), Param::Integer(index)]
        },
        |(level, index, hash)| (level, index, Hash::from_hex(&hash)),
    )
}

async fn check_nodes(
    mut nodes: Pages<ReadNode>,
    levels: &[Vec<Hash>],
    report: &mut Report,
) -> anyhow::Result<()> {
    let mut expected_next: Vec<u64> = vec![0; levels.len()];
    let mut reported = 0;
    let mut note = |report: &mut Report, subject: String, problem: String| {
        // A damaged tree usually breaks many nodes at once; name the first few.
        reported += 1;
        if reported <= 20 {
            report.problem(subject, problem);
        }
    };
    while let Some(rows) = nodes.recv().await {
        for (level, index, hash) in rows? {
            let level = usize::try_from(level).unwrap_or(usize::MAX);
            let index = u64::try_from(index).unwrap_or(u64::MAX);
            let subject = || format!("tree node {level}/{index}");
            let Some(recomputed) = levels
                .get(level)
                .filter(|hashes| !hashes.is_empty())
                .and_then(|l| usize::try_from(index).ok().and_then(|i| l.get(i)))
            else {
                note(
                    report,
                    subject(),
                    "is stored but no such node exists in the tree".into(),
                );
                continue;
            };
            if hash.as_ref() != Some(recomputed) {
                note(
                    report,
                    subject(),
                    "differs from the hash recomputed from the leaves".into(),
                );
            }
            if let Some(next) = expected_next.get_mut(level) {
                if index > *next {
                    note(
                        report,
                        format!("tree node {level}/{next}"),
                        "is missing".into(),
                    );
                }
                *next = index + 1;
            }
        }
    }
    for (level, hashes) in levels.iter().enumerate() {
        let next = expected_next.get(level).copied().unwrap_or(0);
        if next < hashes.len() as u64 {
            note(
                report,
                format!("tree node {level}/{next}"),
                "is missing".into(),
            );
        }
    }
    Ok(())
}
