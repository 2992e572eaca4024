//! The Dynamics checks: a token, `WhoAmI`, a read of incidents, the privileges, the queue and
//! owner exist, the priority is an option of `prioritycode`, the `ticket_properties` columns
//! and the description's MaxLength. Queue, owner and priority are also checked per route.

use ::dynamics::{DataverseClient, DynamicsError, Owner};
use uuid::Uuid;

use super::ticket_properties::ticket_properties;
use super::{Check, fix_of, option_list};
use crate::handoff::Settings;

/// Names of the checks [`dynamics()`] runs after the token, in order (for skips).
pub(super) const DYNAMICS_CHECKS: &[&str] = &[
    "token",
    "whoami",
    "read_incidents",
    "privileges",
    "queue",
    "owner",
    "priority",
    "ticket_properties",
    "description",
];

/// The Dynamics checks: token, WhoAmI, incident read, queue, owner, priority, ticket
/// properties, description length. With `settings` `None` (unreadable) the settings checks are
/// skipped.
pub async fn dynamics(crm: &DataverseClient, settings: Option<&Settings>) -> Vec<Check> {
    let mut out = Vec::new();
    let skip_rest = |out: &mut Vec<Check>, from: usize, why: &str| {
        for name in &DYNAMICS_CHECKS[from..] {
            out.push(Check::skip(*name, why));
        }
    };
    match crm.token().await {
        Ok(_) => out.push(Check::ok(
            "token",
            format!(
                "Entra ID issued a token for {}/.default",
                crm.credentials().environment_url
            ),
        )),
        Err(e) => {
            let detail = match &e {
                DynamicsError::Auth { status, code, .. } => format!(
                    "Entra ID refused the credentials at {}/{} ({status} {code})",
                    crm.credentials().authority(),
                    crm.credentials().tenant_id
                ),
                other => other.to_string(),
            };
            out.push(Check::fail("token", detail, fix_of(&e)));
            skip_rest(&mut out, 1, "token failed");
            return out;
        }
    }
    let me = match crm.who_am_i().await {
        Ok(id) => {
            out.push(Check::ok("whoami", format!("application user {id}")));
            id
        }
        Err(e) => {
            let check = match &e {
                DynamicsError::NoApplicationUser { fix, status } => Check::fail(
                    "whoami",
                    format!(
                        "Dataverse answered {status} to a fresh token: the app (client_id {}) has no application user in {}",
                        crm.credentials().client_id,
                        crm.credentials().environment_url
                    ),
                    format!("{fix}."),
                ),
                other => Check::from_error("whoami", other),
            };
            out.push(check);
            skip_rest(&mut out, 2, "WhoAmI failed");
            return out;
        }
    };
    out.push(read_incidents(crm).await);
    // Issue 13: every privilege the configured features need, read without writing.
    out.extend(crate::privileges::check(crm, settings).await);
    let Some(settings) = settings else {
        for name in ["queue", "owner", "priority", "ticket_properties"] {
            out.push(Check::skip(name, "settings are unreadable"));
        }
        out.push(description(crm).await);
        return out;
    };
    out.push(queue(crm, settings.queue_id).await);
    out.push(owner(crm, settings.owner, me).await);
    out.push(priority(crm, settings.priority).await);
    out.extend(ticket_properties(crm, &settings.ticket_properties).await);
    out.push(description(crm).await);
    out
}

async fn read_incidents(crm: &DataverseClient) -> Check {
    // Listing at most one case id needs prvReadIncident and changes nothing.
    match crm.probe_incident_read().await {
        Ok(_) => Check::ok("read_incidents", "the application user can read cases"),
        Err(e @ DynamicsError::Privilege { .. }) => Check::fail(
            "read_incidents",
            format!("reading incidents was refused: {e}"),
            fix_of(&e),
        ),
        Err(e) => Check::from_error("read_incidents", &e),
    }
}

pub(crate) async fn queue(crm: &DataverseClient, queue_id: Option<Uuid>) -> Check {
    let Some(id) = queue_id else {
        return Check::warn(
            "queue",
            "DEFAULT_QUEUE_ID is not set: cases are created in no queue, so they appear only in their owner's views",
            "Set DEFAULT_QUEUE_ID to the GUID of the queue your reps work from (Customer Service admin center > Queues > the queue; the id is in its URL).",
        );
    };
    match crm.exists("queues", id).await {
        Ok(true) => Check::ok("queue", format!("queue {id} exists")),
        Ok(false) => Check::fail(
            "queue",
            format!("queue {id} does not exist (404)"),
            format!(
                "DEFAULT_QUEUE_ID {id} is wrong: set it to the GUID of an existing queue (Customer Service admin center > Queues > the queue; the id is in its URL)."
            ),
        ),
        Err(e) => Check::from_error("queue", &e),
    }
}

pub(crate) async fn owner(crm: &DataverseClient, owner: Option<Owner>, me: Uuid) -> Check {
    let (set, id, other_set) = match owner {
        None => {
            return Check::ok(
                "owner",
                format!(
                    "DEFAULT_OWNER_ID is not set: cases are owned by the application user {me}"
                ),
            );
        }
        Some(Owner::User(id)) => ("systemusers", id, "teams"),
        Some(Owner::Team(id)) => ("teams", id, "systemusers"),
    };
    match crm.exists(set, id).await {
        Ok(true) => Check::ok("owner", format!("{set}({id}) exists")),
        Ok(false) => {
            // A team id given as a bare GUID is read as a user: say which table it is in.
            let elsewhere = matches!(crm.exists(other_set, id).await, Ok(true));
            let fix = if elsewhere {
                format!(
                    "{id} is in {other_set}, not {set}: set DEFAULT_OWNER_ID={other_set}({id})."
                )
            } else {
                format!(
                    "DEFAULT_OWNER_ID {id} is wrong: use an existing user's GUID (systemusers(<guid>)) or a team's (teams(<guid>))."
                )
            };
            Check::fail("owner", format!("{set}({id}) does not exist (404)"), fix)
        }
        Err(e) => Check::from_error("owner", &e),
    }
}

pub(crate) async fn priority(crm: &DataverseClient, priority: Option<i64>) -> Check {
    let value = priority.unwrap_or(2);
    let origin = if priority.is_some() {
        "DEFAULT_PRIORITY"
    } else {
        "the default priority"
    };
    match crm.options("incident", "prioritycode").await {
        Ok(Some(options)) => match options.iter().find(|(v, _)| *v == value) {
            Some((v, label)) => Check::ok("priority", format!("prioritycode {v} ({label})")),
            None => Check::fail(
                "priority",
                format!("{origin} {value} is not a prioritycode option"),
                format!("Set DEFAULT_PRIORITY to one of {}.", option_list(&options)),
            ),
        },
        Ok(None) => Check::warn(
            "priority",
            "incident.prioritycode is not a choice column in this org",
            "Leave DEFAULT_PRIORITY unset or ask the Dynamics admin about prioritycode.",
        ),
        Err(e) => Check::from_error("priority", &e),
    }
}

/// Stock incident description MaxLength; below it a warning.
const STOCK_DESCRIPTION: usize = 2000;

async fn description(crm: &DataverseClient) -> Check {
    match crm.max_length("incident", "description").await {
        Ok(Some(n)) if n < STOCK_DESCRIPTION => Check::warn(
            "description",
            format!(
                "incident.description MaxLength is {n}, below the stock {STOCK_DESCRIPTION}: only the newest part of a thread fits; the full transcript goes into a note"
            ),
            "Raise the Case table's Description column Maximum character count (Power Apps > Tables > Case > Columns > Description), e.g. to 100000.",
        ),
        Ok(Some(n)) => Check::ok(
            "description",
            format!(
                "incident.description MaxLength {n}: longer threads keep the newest messages and attach the full transcript as a note"
            ),
        ),
        Ok(None) => Check::warn(
            "description",
            "incident.description's MaxLength could not be read; handoffs assume 2000",
            "Check that the application user can read table metadata.",
        ),
        Err(e) => Check::from_error("description", &e),
    }
}
