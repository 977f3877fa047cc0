//! `vigil log verify` against a database: recomputes every leaf from the
//! stored records, rebuilds the tree, and checks it against the signed
//! checkpoints. It trusts nothing in the database but the records themselves.
use super::kinds;
use super::record::Retention;
use crate::core::db::Db;
use futures_util::TryStreamExt;
use sqlx::{AssertSqlSafe, Row};
use std::collections::{BTreeMap, HashMap};
use vigil_tlog::{CompactRange, Hash, LeafEntry, LogVerifier, NodeId, SignedCheckpoint, leaf_hash};

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

struct LeafFacts {
    record_hash: Hash,
    index: u64,
}

/// Verifies the store behind `db` with the log's public key. `since` is a
/// signed checkpoint saved earlier, which the current log must extend.
pub async fn verify_store(
    db: &Db,
    verifier: &LogVerifier,
    since: Option<&str>,
) -> anyhow::Result<Report> {
    let mut report = Report::default();

    // 1. Leaves, in order: each must decode, and the tree is rebuilt from them.
    let mut range = CompactRange::new();
    let mut levels: Vec<Vec<Hash>> = Vec::new();
    let mut roots_wanted: BTreeMap<u64, Option<Hash>> = BTreeMap::new();
    let checkpoints = load_checkpoints(db, verifier, &mut report).await?;
    for signed in &checkpoints {
        roots_wanted.insert(signed.checkpoint.size, None);
    }
    let since = match since {
        Some(note) => match verifier.verify(note) {
            Ok(signed) => {
                roots_wanted.insert(signed.checkpoint.size, None);
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
    if let Some(slot) = roots_wanted.get_mut(&0) {
        *slot = Some(Hash::empty());
    }
    let mut leaves: HashMap<(String, String, u64), LeafFacts> = HashMap::new();
    let mut latest_version: HashMap<(String, String), u64> = HashMap::new();
    {
        let mut rows = sqlx::query(
            "SELECT idx, kind, record_id, version, entry FROM tlog_leaves ORDER BY idx",
        )
        .fetch(db.pool());
        while let Some(row) = rows.try_next().await? {
            let index = u64::try_from(row.try_get::<i64, _>(0)?).unwrap_or(u64::MAX);
            let expected = range.size();
            if index != expected {
                report.problem(
                    format!("log leaf {expected}"),
                    format!("missing: the next stored leaf is {index}; leaves were deleted"),
                );
                break;
            }
            let entry_text: String = row.try_get(4)?;
            let subject = format!("log leaf {index}");
            match LeafEntry::decode(entry_text.as_bytes()) {
                Ok(entry) => {
                    let kind: String = row.try_get(1)?;
                    let id: String = row.try_get(2)?;
                    let version = u64::try_from(row.try_get::<i64, _>(3)?).unwrap_or(0);
                    if (kind.as_str(), id.as_str(), version)
                        != (entry.kind.as_str(), entry.id.as_str(), entry.version)
                    {
                        report.problem(&subject, "its index columns disagree with its entry");
                    }
                    let latest = latest_version
                        .entry((entry.kind.clone(), entry.id.clone()))
                        .or_insert(0);
                    *latest = (*latest).max(entry.version);
                    leaves.insert(
                        (entry.kind, entry.id, entry.version),
                        LeafFacts {
                            record_hash: entry.record_hash,
                            index,
                        },
                    );
                }
                Err(e) => report.problem(&subject, format!("entry is malformed: {e}")),
            }
            for (id, hash) in range.push(leaf_hash(entry_text.as_bytes())) {
                let level = usize::from(id.level);
                if levels.len() <= level {
                    levels.resize_with(level + 1, Vec::new);
                }
                levels[level].push(hash);
            }
            if let Some(slot) = roots_wanted.get_mut(&range.size()) {
                *slot = Some(range.root());
            }
        }
    }
    report.tree_size = range.size();
    report.root = range.root().to_hex();

    let head: i64 = sqlx::query("SELECT size FROM tlog_head WHERE id = 1")
        .fetch_one(db.pool())
        .await?
        .try_get(0)?;
    if u64::try_from(head).ok() != Some(range.size()) {
        report.problem(
            "log head",
            format!("records size {head} but {} leaves are stored", range.size()),
        );
    }

    // 2. Stored tree nodes must be exactly the recomputed ones (proofs are served from them).
    check_nodes(db, &levels, &mut report).await?;

    // 3. Signed checkpoints must match the rebuilt tree.
    for signed in &checkpoints {
        match roots_wanted.get(&signed.checkpoint.size).copied().flatten() {
            Some(root) if root == signed.checkpoint.root => {
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
        match roots_wanted.get(&size).copied().flatten() {
            Some(root) if root == since.checkpoint.root => {}
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
    let mut seen: HashMap<(String, String, u64), ()> = HashMap::new();
    for kind in kinds::ALL {
        let sql = format!("SELECT {} FROM {}", kind.select_list(), kind.table);
        let mut rows = sqlx::query(AssertSqlSafe(sql)).fetch(db.pool());
        while let Some(row) = rows.try_next().await? {
            let stored = kind.read_row(&row)?;
            let record = &stored.record;
            let subject = format!("{} {} version {}", kind.kind, record.id, record.version);
            report.records_checked += 1;
            let key = (kind.kind.to_string(), record.id.clone(), record.version);
            match leaves.get(&key) {
                None => report.problem(
                    &subject,
                    "has no log leaf: the row was inserted behind the server's back",
                ),
                Some(facts) if facts.record_hash != stored.hash() => report.problem(
                    &subject,
                    format!(
                        "differs from log leaf {}: the row was edited behind the server's back",
                        facts.index
                    ),
                ),
                Some(_) => {}
            }
            match stored.personal_intact() {
                Some(false) => {
                    report.problem(&subject, "its personal data differs from what was logged")
                }
                None if stored.personal.is_some() => report.redacted_records += 1,
                _ => {}
            }
            if kind.retention == Retention::LatestVersion {
                let latest = latest_version
                    .get(&(kind.kind.to_string(), record.id.clone()))
                    .copied()
                    .unwrap_or(0);
                if latest > record.version {
                    report.problem(&subject, format!("is stale: the log holds version {latest}; a newer version was rolled back"));
                }
            }
            seen.insert(key, ());
        }
    }
    let mut missing: Vec<(&(String, String, u64), &LeafFacts)> = leaves
        .iter()
        .filter(|(key, _)| {
            let Some(kind) = kinds::by_name(&key.0) else {
                return false;
            };
            let wanted = match kind.retention {
                Retention::EveryVersion => true,
                Retention::LatestVersion => {
                    latest_version.get(&(key.0.clone(), key.1.clone())) == Some(&key.2)
                }
            };
            wanted && !seen.contains_key(*key)
        })
        .collect();
    missing.sort_by_key(|(_, facts)| facts.index);
    for ((kind, id, version), facts) in missing {
        report.problem(
            format!("{kind} {id} version {version}"),
            format!(
                "is logged at leaf {} but its row is gone: it was deleted behind the server's back",
                facts.index
            ),
        );
    }
    for (kind, id, _) in leaves.keys() {
        if kinds::by_name(kind).is_none() {
            report.problem(
                format!("{kind} {id}"),
                "is of a record kind this version of Vigil does not know",
            );
        }
    }
    Ok(report)
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

async fn check_nodes(db: &Db, levels: &[Vec<Hash>], report: &mut Report) -> anyhow::Result<()> {
    let mut expected_next: Vec<u64> = vec![0; levels.len()];
    let mut rows =
        sqlx::query("SELECT level, idx, hash FROM tlog_nodes ORDER BY level, idx").fetch(db.pool());
    let mut reported = 0;
    let mut note = |report: &mut Report, subject: String, problem: String| {
        // A damaged tree usually breaks many nodes at once; name the first few.
        reported += 1;
        if reported <= 20 {
            report.problem(subject, problem);
        }
    };
    while let Some(row) = rows.try_next().await? {
        let level = usize::try_from(row.try_get::<i64, _>(0)?).unwrap_or(usize::MAX);
        let index = u64::try_from(row.try_get::<i64, _>(1)?).unwrap_or(u64::MAX);
        let bytes: Vec<u8> = row.try_get(2)?;
        let id = NodeId::new(u8::try_from(level).unwrap_or(u8::MAX), index);
        let subject = format!("tree node {}/{}", id.level, id.index);
        let Some(recomputed) = levels
            .get(level)
            .and_then(|l| usize::try_from(index).ok().and_then(|i| l.get(i)))
        else {
            note(
                report,
                subject,
                "is stored but no such node exists in the tree".into(),
            );
            continue;
        };
        if Hash::from_slice(&bytes).as_ref() != Some(recomputed) {
            note(
                report,
                subject,
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
