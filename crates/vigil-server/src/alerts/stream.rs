//! The live stream: Server-Sent Events of STIX objects as they are shared,
//! updated, revoked or deleted, each filtered by what the subscriber may see.
//!
//! The transparency log is the event sequence: an event's id is the log
//! index of the object version it reports, the same in every server process
//! on one database. One task per process polls the log head and reads each
//! new object version once; subscribers filter those events in memory with
//! the TLP rule. `Last-Event-ID` resumes from the log. Polling the shared
//! database (every 50 ms by default) reaches every process on PostgreSQL
//! without another moving part, and works for SQLite too.
use super::domain::{Access, CollectionId, StoredObject, Viewer};
use super::service;
use super::store;
use crate::accounts::service::Principal;
use crate::core::db::Db;
use crate::core::error::ApiError;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use vigil_stix::Tlp;

/// How often the log head is read.
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// Events a slow subscriber may fall behind before it is resynchronised from the log.
const BUFFER: usize = 4_096;
/// Events replayed at most after `Last-Event-ID`.
const REPLAY_LIMIT: u64 = 1_000;

/// What happened to an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Created,
    Updated,
    Revoked,
    Deleted,
}

/// One event, as subscribers receive it (the data of an SSE message).
#[derive(Clone, Debug, Serialize)]
pub struct LiveEvent {
    /// The log index of the object version: the SSE event id.
    pub log_index: u64,
    pub change: Change,
    pub community: String,
    pub collection: String,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub version: String,
    pub tlp: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// For alerts: their level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_level: Option<String>,
    #[serde(skip)]
    pub visibility: (Tlp, String, String, String),
}

impl LiveEvent {
    fn from_object(
        log_index: u64,
        community: String,
        object: &StoredObject,
        earlier_versions: bool,
    ) -> LiveEvent {
        let json: serde_json::Value = serde_json::from_str(&object.object).unwrap_or_default();
        let change = if object.deleted {
            Change::Deleted
        } else if json.get("revoked").and_then(serde_json::Value::as_bool) == Some(true) {
            Change::Revoked
        } else if earlier_versions {
            Change::Updated
        } else {
            Change::Created
        };
        LiveEvent {
            log_index,
            change,
            community,
            collection: object.collection_id.as_str().to_string(),
            id: object.stix_id.clone(),
            kind: object.stix_type.clone(),
            version: object.taxii_version().to_string(),
            tlp: object.tlp.key(),
            name: json
                .get("name")
                .and_then(serde_json::Value::as_str)
                .map(str::to_string),
            alert_level: json
                .pointer(&format!(
                    "/extensions/{}/alert_level",
                    service::ALERT_EXTENSION
                ))
                .and_then(serde_json::Value::as_str)
                .map(str::to_string),
            visibility: (
                object.tlp,
                object.originator.as_str().to_string(),
                object.poster.as_str().to_string(),
                object.audience.clone(),
            ),
        }
    }
}

/// The events of the log after `after` (at most `limit`), oldest first.
pub async fn events_after(db: &Db, after: u64, limit: u64) -> Result<Vec<LiveEvent>, ApiError> {
    let mut events = Vec::new();
    let mut communities: HashMap<String, String> = HashMap::new();
    for (index, object) in store::object_versions_after(db.pool(), after, limit).await? {
        let community = match communities.get(object.collection_id.as_str()) {
            Some(community) => community.clone(),
            None => {
                let community = store::collection(db.pool(), object.collection_id.as_str())
                    .await?
                    .map(|c| c.community_id.as_str().to_string())
                    .unwrap_or_default();
                communities.insert(object.collection_id.as_str().to_string(), community.clone());
                community
            }
        };
        let earlier = store::has_earlier_version(db.pool(), &object).await?;
        events.push(LiveEvent::from_object(index, community, &object, earlier));
    }
    Ok(events)
}

/// Record kinds whose change can change what a subscriber may see.
const RIGHTS_KINDS: &[&str] = &[
    "collection_grant",
    "community_member",
    "collection",
    "community",
    "user",
    "organisation",
];

/// The per-process hub: the poller's broadcast, the signal that ends every
/// stream at shutdown, and a counter that moves when rights change.
#[derive(Clone)]
pub struct LiveStream {
    sender: broadcast::Sender<Arc<LiveEvent>>,
    closing: watch::Receiver<bool>,
    rights: watch::Receiver<u64>,
}

impl LiveStream {
    /// Starts the poller; it stops, and every stream ends, when `closing` turns true.
    pub fn start(db: Db, closing: watch::Receiver<bool>) -> LiveStream {
        let (sender, _) = broadcast::channel(BUFFER);
        let (rights_tx, rights) = watch::channel(0);
        let hub = LiveStream {
            sender: sender.clone(),
            closing: closing.clone(),
            rights,
        };
        tokio::spawn(poll(db, sender, rights_tx, closing));
        hub
    }

    /// The events, the shutdown signal, and the rights counter (a
    /// subscriber re-reads its rights when it moves).
    pub fn subscribe(
        &self,
    ) -> (
        broadcast::Receiver<Arc<LiveEvent>>,
        watch::Receiver<bool>,
        watch::Receiver<u64>,
    ) {
        let mut rights = self.rights.clone();
        rights.mark_unchanged();
        (self.sender.subscribe(), self.closing.clone(), rights)
    }
}

async fn poll(
    db: Db,
    sender: broadcast::Sender<Arc<LiveEvent>>,
    rights: watch::Sender<u64>,
    mut closing: watch::Receiver<bool>,
) {
    let mut position = match store::log_size(db.pool()).await {
        Ok(size) => size.saturating_sub(1),
        Err(e) => {
            tracing::error!(error = %e, "the live stream cannot read the log");
            0
        }
    };
    let mut seen_size = position + 1;
    let mut ticker = tokio::time::interval(POLL_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = closing.changed() => return,
        }
        let size = match store::log_size(db.pool()).await {
            Ok(size) => size,
            Err(e) => {
                tracing::warn!(error = %e, "the live stream could not read the log head");
                continue;
            }
        };
        if size == seen_size {
            continue;
        }
        // Rights first: a subscriber whose rights changed re-reads them
        // before it is offered the events that follow.
        match store::kinds_after(db.pool(), seen_size.saturating_sub(1)).await {
            Ok(kinds) if kinds.iter().any(|k| RIGHTS_KINDS.contains(&k.as_str())) => {
                rights.send_modify(|epoch| *epoch += 1);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "the live stream could not read new log leaves"),
        }
        seen_size = size;
        match events_after(&db, position, u64::MAX).await {
            Ok(events) => {
                for event in events {
                    position = position.max(event.log_index);
                    // No subscriber is not an error.
                    let _ = sender.send(Arc::new(event));
                }
                position = position.max(size.saturating_sub(1));
            }
            Err(e) => tracing::warn!(error = %e, "the live stream could not read new objects"),
        }
    }
}

/// What a subscriber may see: its rights per collection, read when it
/// subscribes and again whenever rights change in the log.
pub struct Subscriber {
    viewers: HashMap<CollectionId, Viewer>,
    /// Only this collection, when asked.
    only: Option<String>,
    principal: Principal,
}

impl Subscriber {
    pub async fn new(
        db: &Db,
        principal: &Principal,
        only: Option<String>,
    ) -> Result<Subscriber, ApiError> {
        Ok(Subscriber {
            viewers: Subscriber::viewers(db, principal).await?,
            only,
            principal: principal.clone(),
        })
    }

    /// Re-reads the subscriber's rights; `false` when its account or its
    /// organisation is no longer active (the stream then ends).
    pub async fn refresh(&mut self, db: &Db) -> Result<bool, ApiError> {
        use crate::accounts::domain::Status;
        use crate::accounts::store as accounts;
        let user = accounts::user(db.pool(), self.principal.user.id.as_str()).await?;
        let organisation =
            accounts::organisation(db.pool(), self.principal.organisation.id.as_str()).await?;
        match (user, organisation) {
            (Some(user), Some(organisation))
                if user.user.status == Status::Active && organisation.status == Status::Active =>
            {
                self.principal.user = user.user;
                self.principal.organisation = organisation;
                self.viewers = Subscriber::viewers(db, &self.principal).await?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn viewers(
        db: &Db,
        principal: &Principal,
    ) -> Result<HashMap<CollectionId, Viewer>, ApiError> {
        let mut viewers = HashMap::new();
        for community in service::visible_communities(db, principal).await? {
            for (collection, access) in
                service::visible_collections(db, principal, community.id.as_str()).await?
            {
                if let Some(viewer) = viewer_of(principal, &access) {
                    viewers.insert(collection.id, viewer);
                }
            }
        }
        Ok(viewers)
    }

    pub fn sees(&self, event: &LiveEvent) -> bool {
        if self
            .only
            .as_ref()
            .is_some_and(|only| *only != event.collection)
        {
            return false;
        }
        let (tlp, originator, poster, audience) = &event.visibility;
        self.viewers
            .get(&CollectionId::from_stored(event.collection.clone()))
            .is_some_and(|viewer| viewer.sees(*tlp, originator, poster, audience))
    }
}

fn viewer_of(principal: &Principal, access: &Access) -> Option<Viewer> {
    Some(Viewer {
        user: principal.user.id.as_str().to_string(),
        organisation: principal.organisation.id.as_str().to_string(),
        open: access.open_tlp()?,
    })
}

/// Events after `after` the subscriber may see, for `Last-Event-ID`.
pub async fn replay(
    db: &Db,
    subscriber: &Subscriber,
    after: u64,
) -> Result<Vec<LiveEvent>, ApiError> {
    Ok(events_after(db, after, REPLAY_LIMIT)
        .await?
        .into_iter()
        .filter(|e| subscriber.sees(e))
        .collect())
}
