//! The ingest Lambda's code as a library, so tests drive the real handler: `main.rs` only wires
//! configuration and AWS clients.

pub mod config;
pub mod event;
pub mod handler;
