//! End-to-end tests: one binary, one moto server for all of them.

mod attachments;
mod handoff;
mod ingest;
mod limits;
mod privileges;
mod reply;
mod routes;
mod security;
mod support;
mod template;
mod threads;
mod verify;
mod world;
