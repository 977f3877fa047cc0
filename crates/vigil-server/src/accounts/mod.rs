//! Organisations, users, roles, API tokens and sessions.
//!
//! Same shape as every pillar: `api` (HTTP) → `service` (use cases, one
//! transaction each) → `domain` (pure rules) and `store` (SQL) → the log.
pub mod api;
pub mod domain;
pub mod service;
pub mod store;
