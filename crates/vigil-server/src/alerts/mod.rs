//! The Rapid Alert System: trust communities served as TAXII 2.1 API roots,
//! collections with per-organisation and per-user rights, and STIX 2.1
//! objects whose TLP marking is enforced object by object.
pub mod api;
pub mod domain;
pub mod service;
pub mod store;
pub mod stream;
pub mod taxii;
pub mod webhooks;
