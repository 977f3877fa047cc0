//! What every handler can reach.
use crate::core::db::Db;
use crate::core::ledger::Ledger;
use crate::core::metrics::Metrics;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub ledger: Ledger,
    pub metrics: Arc<Metrics>,
    /// Session cookies get the `Secure` flag (the public URL is https).
    pub secure_cookies: bool,
    /// The largest request body accepted (TAXII's `max_content_length`).
    pub max_body_bytes: usize,
    /// Seals TAXII paging cursors; derived from the log key, so every
    /// process serving this log accepts the others' cursors.
    pub cursor_key: Arc<[u8; 32]>,
    /// This process's hub of the live event stream.
    pub live: crate::alerts::stream::LiveStream,
    /// Published election results, built once for many readers.
    pub published: crate::results::cache::PublishedCache,
}
