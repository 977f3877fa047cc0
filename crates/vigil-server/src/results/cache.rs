//! The published results of each election, built once and served to every
//! reader until something changes: election night brings many readers of
//! the same figures. An entry is rebuilt when this process records a result
//! (a write counter), when the embargo ends, and at the latest after
//! `MAX_AGE`, which bounds how stale another process's writes (several
//! `vigil serve` on one PostgreSQL) or a change behind the server's back can
//! be. Only one rebuild runs at a time; an aged entry is served while a
//! background task rebuilds it, and readers wait only when there is nothing
//! current to serve (none built yet, a write, the end of the embargo).
use super::service::{self, PublicResults};
use crate::core::db::Db;
use crate::core::error::ApiError;
use crate::core::ledger::Ledger;
use crate::core::time::Timestamp;
use axum::body::Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a built response is served at most.
pub const MAX_AGE: Duration = Duration::from_secs(1);

/// Writes of results in this process; every write use case bumps it after
/// its commit.
static WRITES: AtomicU64 = AtomicU64::new(0);

/// Marks the cached results of this process as out of date.
pub fn note_write() {
    WRITES.fetch_add(1, Ordering::Release);
}

/// An election's published results with their JSON, as built at one time.
pub struct Published {
    pub results: PublicResults,
    pub json: Bytes,
    /// `PublicResults::summary` as JSON.
    pub summary_json: Bytes,
    built: Instant,
    writes: u64,
    release_at: Timestamp,
}

impl Published {
    /// Built by this process after its last write of results, and not an
    /// embargo that has ended since: these may be served, fresh or not.
    fn current(&self, now: Timestamp) -> bool {
        self.writes == WRITES.load(Ordering::Acquire)
            && !(self.results.embargoed && now >= self.release_at)
    }

    fn fresh(&self, now: Timestamp) -> bool {
        self.current(now) && self.built.elapsed() < MAX_AGE
    }
}

#[derive(Clone, Default)]
pub struct PublishedCache {
    entries: Arc<Mutex<HashMap<String, Arc<Published>>>>,
    /// One rebuild at a time (rebuilding reads every station's result).
    rebuilding: Arc<tokio::sync::Mutex<()>>,
}

impl PublishedCache {
    fn cached(&self, id: &str) -> Option<Arc<Published>> {
        self.entries
            .lock()
            .ok()
            .and_then(|entries| entries.get(id).cloned())
    }

    /// The election's public results now. Figures older than `MAX_AGE` are
    /// served while one background task rebuilds them; after a write of this
    /// process or the end of the embargo, readers wait for the rebuild.
    pub async fn get(
        &self,
        db: &Db,
        ledger: &Ledger,
        id: &str,
    ) -> Result<Arc<Published>, ApiError> {
        let now = Timestamp::now();
        if let Some(published) = self.cached(id)
            && published.current(now)
        {
            if !published.fresh(now)
                && let Ok(guard) = self.rebuilding.clone().try_lock_owned()
            {
                let (cache, db, ledger, id) =
                    (self.clone(), db.clone(), ledger.clone(), id.to_string());
                tokio::spawn(async move {
                    if let Err(e) = cache.build(&db, &ledger, &id).await {
                        tracing::warn!(election = id, error = %e, "refreshing published results failed");
                    }
                    drop(guard);
                });
            }
            return Ok(published);
        }
        let _guard = self.rebuilding.lock().await;
        // Another request may have rebuilt it while this one waited.
        if let Some(published) = self.cached(id)
            && published.fresh(Timestamp::now())
        {
            return Ok(published);
        }
        self.build(db, ledger, id).await
    }

    async fn build(&self, db: &Db, ledger: &Ledger, id: &str) -> Result<Arc<Published>, ApiError> {
        let writes = WRITES.load(Ordering::Acquire);
        let built = Instant::now();
        let results = service::public_results(db, ledger, id, Timestamp::now()).await?;
        service::ensure_checkpoint(ledger, &results).await?;
        let json = to_json(&results)?;
        let summary_json = to_json(&results.summary())?;
        let release_at = results.definition.release_at();
        let published = Arc::new(Published {
            results,
            json,
            summary_json,
            built,
            writes,
            release_at,
        });
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(id.to_string(), published.clone());
        }
        Ok(published)
    }
}

fn to_json(value: &impl serde::Serialize) -> Result<Bytes, ApiError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("serialising results: {e}")))
}
