//! The built `mailcase` binary end to end: one test binary, one runner ([`runner`]) and one
//! moto server for every command's tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod demo;
mod runner;
mod send_test;
mod status;
mod verify;
mod work;
