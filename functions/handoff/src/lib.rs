//! The handoff Lambda's code as a library, so tests drive the real handler.

pub mod handler;
pub mod sqs;
