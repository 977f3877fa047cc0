//! Vigil's coordination-detection engine: posts in, coordination networks
//! out, with the evidence behind every edge. No I/O: readers and writers
//! live in the `vigil detect` command.
//!
//! - [`dataset`]: posts, interned and stored by column, read with the
//!   toolkit's semantics or with its quirks fixed.
//! - [`network`]: the six network kinds of coordination-network-toolkit,
//!   computed exactly and in parallel.
//! - [`coortweet`] and [`coornet`]: the definitions of CooRTweet and CooRnet.
//! - [`groups`]: connected groups of accounts with summary statistics.
//! - [`synth`]: seeded synthetic data with planted coordinated groups.
//! - [`text`]: the toolkit's text normalisation and tokenizer.

pub mod coornet;
pub mod coortweet;
pub mod dataset;
pub mod groups;
mod intern;
pub mod network;
mod similar;
pub mod stats;
pub mod stream;
pub mod synth;
pub mod text;

pub use dataset::{
    AccountIx, Columns, Dataset, Intake, Post, PostBatch, PostError, PostFields, PostIx, Semantics,
};
pub use network::{CoAction, Edge, Network, NetworkKind, Params, Shared};
