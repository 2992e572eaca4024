//! Test-only helpers. [`MotoServer`] runs a real moto server (the local AWS endpoint) on a free
//! 127.0.0.1 port so tests exercise S3, Secrets Manager and SESv2 through the real AWS SDK
//! clients. Tests may panic here: a missing prerequisite is a test failure with a clear message,
//! never a silent skip.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod moto;

pub use moto::MotoServer;
