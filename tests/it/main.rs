//! End-to-end tests: one binary, one moto server for all of them.

mod ingest;
mod support;
