//! Election results: the election definition, double entry of every
//! polling-station form, validation, aggregation, seat apportionment, and
//! publication that anyone can check against the transparency log, with an
//! embargo until the legal release time.
pub mod api;
pub mod cache;
pub mod domain;
pub mod service;
pub mod store;
pub mod verify;
