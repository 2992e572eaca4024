//! mailcase use-cases, generic over ports: [`ingest`] files inbound mail into sessions,
//! [`handoff`] turns a session into one Dynamics case, [`followup`] delivers later mail,
//! [`verify`] is the connection test (with [`privileges`]), [`reply`] sends mail in a session's
//! thread, [`status`] records failures and reports what happened lately.
//!
//! No AWS SDK, HTTP or clock here: functions and tools build the adapters and pass time in.
#![warn(missing_docs)]

pub mod attachments;
pub mod case;
pub mod channel;
pub mod check;
pub mod events;
pub mod flood;
pub mod followup;
pub mod handoff;
pub mod inbound;
pub mod ingest;
pub mod limits;
pub mod merge;
pub mod ports;
pub mod privileges;
pub mod rejected;
pub mod reply;
pub mod requests;
pub mod routing;
pub mod status;
pub mod threading;
pub mod time;
pub mod tokens;
pub mod triage;
pub mod verify;

use std::fmt;

/// Display an error with its whole source chain on one line (`a: b: c`), for logs and the CLI.
pub struct DisplayChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for DisplayChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}
