//! Vigil's web service and storage, used by the `vigil` binary.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod ads;
pub mod alerts;
pub mod core;
pub mod demo;
pub mod pages;
pub mod results;
pub mod web;
