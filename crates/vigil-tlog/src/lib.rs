//! The pure core of Vigil's transparency log: an RFC 6962 / RFC 9162 Merkle
//! tree over SHA-256, inclusion and consistency proofs, the canonical leaf
//! encoding, C2SP tlog-tiles paths and C2SP signed checkpoints.
//!
//! Nothing here does I/O. Storage code asks which tree nodes it must read
//! (`*_plan` functions return [`NodeId`]s), fetches them however it likes and
//! hands the hashes back; the same code therefore serves the server (SQL), the
//! offline verifier and any mirror.
#![forbid(unsafe_code)]

mod checkpoint;
mod hash;
mod leaf;
mod proof;
mod tile;
mod tree;

pub use checkpoint::{Checkpoint, CheckpointError, LogSigner, LogVerifier, SignedCheckpoint};
pub use hash::{Hash, leaf_hash, node_hash};
pub use leaf::{LeafEntry, LeafError};
pub use proof::{ConsistencyPlan, InclusionPlan, ProofError, verify_consistency, verify_inclusion};
pub use tile::{TILE_HEIGHT, TILE_WIDTH, TilePath, TilePathError, entry_bundle, tile_width};
pub use tree::{BaseRange, CompactRange, NodeId, range_decomposition, subtree_root};
