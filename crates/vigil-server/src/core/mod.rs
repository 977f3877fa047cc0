//! What every pillar stands on: configuration, the database, the transparency
//! log, authentication, audit, errors, metrics and the HTTP server.
pub mod audit;
pub mod auth;
pub mod config;
pub mod csv;
pub mod db;
pub mod error;
pub mod ids;
pub mod ledger;
pub mod log_api;
pub mod metrics;
pub mod secrets;
pub mod server;
pub mod state;
pub mod time;
