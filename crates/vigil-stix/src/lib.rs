//! STIX 2.1 for Vigil's Rapid Alert System, with no I/O: objects kept exactly
//! as received (unknown and extension properties included) and checked
//! against the specification's MUST rules; TLP markings in their three id
//! families normalised to one [`Tlp`]; and the DISARM catalogue of
//! disinformation techniques.
#![forbid(unsafe_code)]

pub mod disarm;
pub mod object;
pub mod timestamp;
pub mod tlp;

pub use disarm::{DisarmCatalogue, Technique};
pub use object::{Category, StixError, StixObject, observable_id};
pub use timestamp::StixTimestamp;
pub use tlp::{Tlp, TlpProfile};
