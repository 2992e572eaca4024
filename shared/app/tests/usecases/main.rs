//! Use-case tests of `app`, end to end through its public entry points, in seconds: ingest
//! (`app::inbound::process`: new threads, replies, redeliveries, loops, auto-replies), handoff
//! (`app::handoff::run`: one complete incident, contacts, retries), follow-ups, the request
//! worker (`app::requests::Worker` with each `app::handoff::Kind` and the documented errors),
//! Dynamics faults (nothing lost, the retry works) and `app::verify`.
//!
//! No moto, no AWS: sessions live in `store::MemoryObjectStore`, the handoff queue is the
//! store's own `app::ports::StoreQueue`, replies go to `app::reply::StoreOutbox`, and Dynamics
//! is the in-process `dataverse_emulator::Emulator` on 127.0.0.1 (one per test). The
//! end-to-end tests against moto S3 are `tests/it`.

mod faults;
mod followup;
mod handoff;
mod ingest;
mod verify;
mod worker;
mod world;
