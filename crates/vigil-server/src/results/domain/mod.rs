//! The results pillar's pure part: the election definition, the counts of a
//! polling-station form with their validation codes, the double-entry state
//! machine, and aggregation with seat apportionment. No I/O.
pub mod counts;
pub mod definition;
pub mod eml;
pub mod entry;
pub mod tally;

pub use counts::{Code, Finding, ListCount, StationCounts, Validation};
pub use definition::{ElectionDefinition, ElectionId, StationId};
pub use entry::{DifferencesDecision, Entry, EntryState, ErrorsDecision, TransitionError, Which};
pub use tally::{ElectionTally, Progress, SeatsOutcome, UnitSeats};
