//! Political advertising (Regulation (EU) 2024/900): a repository of ads
//! with their transparency notices, filed by publishers and sponsors,
//! versioned (a correction is a new version of the same id; nothing is
//! deleted; every version goes through the log) and open to the public for
//! search and bulk download.
pub mod api;
pub mod domain;
pub mod import;
pub mod notices;
pub mod service;
pub mod store;
