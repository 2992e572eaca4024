//! `verify`, the connection test: every setting mailcase depends on, checked against the real
//! services, each with the operator's fix.
//!
//! Dynamics: the credentials parse, a token, `WhoAmI`, a read of incidents, the queue and owner
//! exist, the priority and every `ticket_properties` column against the org's incident metadata,
//! the description's MaxLength. AWS: the store answers (a probe object under `verify/`), the
//! SES identity of the support address (or its domain) is verified, and Gmail forwarding
//! confirmations ingest recorded under `unfiled/` are listed with their code and link.
//!
//! Checks that need a token are skipped once the token fails. Nothing printed here ever holds
//! the client secret or a token: errors come from [`DynamicsError`], which never carries them.
//!
//! This module holds the report types ([`Check`], [`Report`]), the inputs and the entry point
//! ([`run`]); the checks live by area: `dynamics` (token, WhoAmI, incident read, queue, owner,
//! priority, description), `ticket_properties` (each `TICKET_PROPERTIES` column against the
//! org's metadata), `aws` (the store probe and the SES identity), `channel` (forwarding
//! confirmations and the forwarding connection test) and [`routes`] (the routing document's
//! routes and rules).

use ::dynamics::{DataverseClient, DynamicsError, Owner};
use serde::Serialize;
use store::ObjectStore;
use store::sessions::Sessions;

use crate::check::fix_of;
pub use crate::check::{Check, Status};
use crate::handoff::Settings;

mod aws;
mod channel;
mod dynamics;
pub mod routes;
mod ticket_properties;

pub use self::dynamics::dynamics;
pub use aws::{EmailIdentities, IdentityStatus, NoIdentities, ses_identity, store_probe};
pub use channel::{email_channel, forwarding_confirmations};

/// The whole checklist.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Checks in the order they ran.
    pub checks: Vec<Check>,
}

impl Report {
    /// True when no check failed (warnings and skips do not count).
    pub fn ok(&self) -> bool {
        !self.checks.iter().any(|c| c.status == Status::Fail)
    }

    /// The check named `name`, if it ran.
    pub fn get(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }
}

/// Why the Dynamics client could not be built (secret unreadable or malformed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What went wrong (never the secret's content).
    pub detail: String,
    /// What to do.
    pub fix: String,
}

impl From<&DynamicsError> for Problem {
    fn from(e: &DynamicsError) -> Problem {
        Problem {
            detail: e.to_string(),
            fix: fix_of(e),
        }
    }
}

/// What `verify` checks.
pub struct Inputs<'a, O, E> {
    /// The Dynamics client, or why it could not be built.
    pub dynamics: Result<&'a DataverseClient, Problem>,
    /// Handoff settings, or the configuration error (it names the variable).
    pub settings: Result<&'a Settings, String>,
    /// The session store.
    pub sessions: &'a Sessions<O>,
    /// SES, or why its checks are skipped.
    pub identities: Result<&'a E, String>,
    /// The public support address (`SUPPORT_ADDRESS`).
    pub support_address: Option<&'a str>,
    /// Now, seconds since the epoch (names the probe object, ages confirmations).
    pub now: i64,
}

/// Run every check.
pub async fn run<O: ObjectStore, E: EmailIdentities>(inputs: &Inputs<'_, O, E>) -> Report {
    let mut report = Report::default();
    report.checks.push(match &inputs.settings {
        Ok(s) => Check::ok("settings", describe_settings(s)),
        Err(e) => Check::fail(
            "settings",
            e.clone(),
            "Fix that environment variable (the handoff function's configuration).",
        ),
    });
    match &inputs.dynamics {
        Ok(crm) => {
            report.checks.push(Check::ok(
                "credentials",
                format!(
                    "environment_url {}, tenant_id {}, client_id {}",
                    crm.credentials().environment_url,
                    crm.credentials().tenant_id,
                    crm.credentials().client_id
                ),
            ));
            report
                .checks
                .extend(dynamics(crm, inputs.settings.as_ref().ok().copied()).await);
        }
        Err(p) => {
            report
                .checks
                .push(Check::fail("credentials", p.detail.clone(), p.fix.clone()));
            for name in dynamics::DYNAMICS_CHECKS {
                report
                    .checks
                    .push(Check::skip(*name, "no usable credentials"));
            }
        }
    }
    let store = store_probe(inputs.sessions, inputs.now).await;
    let store_ok = store.status == Status::Ok;
    report.checks.push(store);
    report.checks.push(match &inputs.identities {
        Ok(ses) => ses_identity(*ses, inputs.support_address).await,
        Err(why) => Check::skip("ses_identity", why.clone()),
    });
    if store_ok {
        report
            .checks
            .extend(forwarding_confirmations(inputs.sessions, inputs.now).await);
        report
            .checks
            .push(email_channel(inputs.sessions, inputs.now).await);
    } else {
        report
            .checks
            .push(Check::skip("forwarding", "the store is not reachable"));
        report
            .checks
            .push(Check::skip("email_channel", "the store is not reachable"));
    }
    report
}

fn describe_settings(s: &Settings) -> String {
    let mut parts = Vec::new();
    parts.push(match s.queue_id {
        Some(q) => format!("DEFAULT_QUEUE_ID {q}"),
        None => "DEFAULT_QUEUE_ID unset".into(),
    });
    parts.push(match s.owner {
        Some(Owner::User(u)) => format!("DEFAULT_OWNER_ID systemusers({u})"),
        Some(Owner::Team(t)) => format!("DEFAULT_OWNER_ID teams({t})"),
        None => "DEFAULT_OWNER_ID unset".into(),
    });
    parts.push(format!("DEFAULT_PRIORITY {}", s.priority.unwrap_or(2)));
    parts.push(format!(
        "TICKET_PROPERTIES {} column(s)",
        s.ticket_properties.len()
    ));
    parts.join(", ")
}

fn option_list(options: &[(i64, String)]) -> String {
    options
        .iter()
        .map(|(v, l)| format!("{v} ({l})"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_fails_only_on_fail() {
        let mut r = Report::default();
        r.checks.push(Check::warn("a", "b", "c"));
        r.checks.push(Check::skip("d", "e"));
        assert!(r.ok());
        r.checks.push(Check::fail("f", "g", "h"));
        assert!(!r.ok());
        let json = serde_json::to_value(&r).unwrap_or_default();
        assert_eq!(json["checks"][2]["status"], "fail");
    }
}
