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

use std::future::Future;

use dynamics::{DataverseClient, DynamicsError, Owner};
use serde::Serialize;
use serde_json::Value;
use store::sessions::Sessions;
use store::{ObjectStore, StoreError};
use uuid::Uuid;

use crate::handoff::Settings;
use crate::ingest::{UNFILED_PREFIX, UnfiledRecord};

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Works.
    Ok,
    /// Broken: handoffs or mail will fail until fixed.
    Fail,
    /// Works, but probably not as intended.
    Warn,
    /// Not checked (the reason is in the detail).
    Skip,
}

impl Status {
    /// `OK`, `FAIL`, `WARN`, `SKIP`.
    pub fn label(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Fail => "FAIL",
            Status::Warn => "WARN",
            Status::Skip => "SKIP",
        }
    }
}

/// One line of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Short name (`token`, `queue`, `ticket_properties.casetypecode`...).
    pub name: String,
    /// Outcome.
    pub status: Status,
    /// What was found.
    pub detail: String,
    /// What to do about it (failures and warnings).
    pub fix: Option<String>,
}

impl Check {
    fn new(name: impl Into<String>, status: Status, detail: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            status,
            detail: detail.into(),
            fix: None,
        }
    }
    /// A passing check.
    pub fn ok(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Check::new(name, Status::Ok, detail)
    }
    /// A skipped check.
    pub fn skip(name: impl Into<String>, why: impl Into<String>) -> Check {
        Check::new(name, Status::Skip, why)
    }
    /// A failed check with its fix.
    pub fn fail(
        name: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check::new(name, Status::Fail, detail).with_fix(fix)
    }
    /// A warning with its fix.
    pub fn warn(
        name: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check::new(name, Status::Warn, detail).with_fix(fix)
    }
    fn with_fix(mut self, fix: impl Into<String>) -> Check {
        self.fix = Some(fix.into());
        self
    }
    fn from_error(name: &str, e: &DynamicsError) -> Check {
        Check::fail(name, e.to_string(), fix_of(e))
    }
}

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

/// Verification state of an SES identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityStatus {
    /// `SUCCESS`.
    Verified,
    /// `PENDING` or `NOT_STARTED`.
    Pending,
    /// `FAILED` or `TEMPORARY_FAILURE`.
    Failed,
    /// No such identity in this account and region.
    NotFound,
}

/// SES email identities (an address or a domain). The CLI implements it with SESv2
/// `GetEmailIdentity`; app stays free of the AWS SDK.
pub trait EmailIdentities: Send + Sync {
    /// The identity's verification state; `Err` for anything else (permissions, network).
    fn status(&self, identity: &str)
    -> impl Future<Output = Result<IdentityStatus, String>> + Send;
}

/// No SES at all (tests, local runs): every lookup fails.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoIdentities;

impl EmailIdentities for NoIdentities {
    async fn status(&self, _identity: &str) -> Result<IdentityStatus, String> {
        Err("SES is not configured".into())
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
            for name in DYNAMICS_CHECKS {
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

/// The forwarding connection test's state (`mailcase verify --send-test` starts one).
pub async fn email_channel<O: ObjectStore>(sessions: &Sessions<O>, now: i64) -> Check {
    use crate::channel::ChannelStatus;
    match crate::channel::status(sessions, now).await {
        Ok(ChannelStatus::Active { seconds, at }) => Check::ok(
            "email_channel",
            format!(
                "Active: the test message came back through forwarding and SES in {seconds} s (at {at})"
            ),
        ),
        Ok(ChannelStatus::Waiting { seconds }) => Check::warn(
            "email_channel",
            format!("Waiting: the test message was sent {seconds} s ago and has not come back yet"),
            "Run `mailcase verify` again in a minute; forwarding usually takes seconds.",
        ),
        Ok(ChannelStatus::Failed { seconds, fix }) => Check::fail(
            "email_channel",
            format!("Failed: the test message sent {seconds} s ago never reached mailcase"),
            fix,
        ),
        Ok(ChannelStatus::Untested) => Check::warn(
            "email_channel",
            "not tested yet",
            "Run `mailcase verify --send-test` to send a test message through the forwarding path.",
        ),
        Err(e) => Check::fail(
            "email_channel",
            format!("cannot read the channel state: {e}"),
            "Check access to the mail bucket.",
        ),
    }
}

/// Names of the checks [`dynamics`] runs after the token, in order (for skips).
const DYNAMICS_CHECKS: &[&str] = &[
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

/// The operator's fix for a Dynamics error, with transport failures named as such.
fn fix_of(e: &DynamicsError) -> String {
    match e {
        DynamicsError::Unavailable { status: 0, .. } => {
            "Dataverse or the token endpoint cannot be reached: check environment_url (and authority_host, if set) and the network path to them.".into()
        }
        other => other.fix(),
    }
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

fn option_list(options: &[(i64, String)]) -> String {
    options
        .iter()
        .map(|(v, l)| format!("{v} ({l})"))
        .collect::<Vec<_>>()
        .join(", ")
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

/// Columns mailcase writes itself: `ticket_properties` never override them.
const OWN_COLUMNS: &[&str] = &[
    "title",
    "description",
    "caseorigincode",
    "prioritycode",
    "customerid_contact@odata.bind",
    "incidentid",
];

pub(crate) async fn ticket_properties(
    crm: &DataverseClient,
    props: &serde_json::Map<String, Value>,
) -> Vec<Check> {
    if props.is_empty() {
        return vec![Check::ok("ticket_properties", "none set")];
    }
    let mut out = Vec::new();
    for (column, value) in props {
        out.push(ticket_property(crm, column, value).await);
    }
    out
}

async fn ticket_property(crm: &DataverseClient, column: &str, value: &Value) -> Check {
    let name = format!("ticket_properties.{column}");
    if OWN_COLUMNS.contains(&column) {
        return Check::warn(
            name,
            format!("mailcase sets {column} itself; this value is ignored"),
            format!(
                "Remove {column} from TICKET_PROPERTIES (use DEFAULT_PRIORITY for the priority)."
            ),
        );
    }
    if column.contains('@') {
        return Check::warn(
            name,
            "bindings are sent as given and not checked",
            "Check the bound record exists, or remove it from TICKET_PROPERTIES.",
        );
    }
    let kind = match crm.attribute_type("incident", column).await {
        Ok(Some(k)) => k,
        Ok(None) => {
            let lower = column.to_lowercase();
            let fix = if lower != column
                && matches!(crm.attribute_type("incident", &lower).await, Ok(Some(_)))
            {
                format!("{column}: use the logical name '{lower}' (lower case).")
            } else {
                format!(
                    "{column}: remove it from TICKET_PROPERTIES or use the column's logical name (Power Apps > Tables > Case > Columns; custom columns look like new_{lower})."
                )
            };
            return Check::fail(name, format!("incident has no column '{column}'"), fix);
        }
        Err(e) => return Check::from_error(&name, &e),
    };
    match kind.as_str() {
        "Picklist" | "State" | "Status" => picklist_property(crm, name, column, value).await,
        "String" | "Memo" => {
            let Some(s) = value.as_str() else {
                return Check::fail(
                    name,
                    format!("{column} is a text column but the value is {value}"),
                    format!("{column}: give a JSON string."),
                );
            };
            match crm.max_length("incident", column).await {
                Ok(Some(max)) if s.encode_utf16().count() > max => Check::fail(
                    name,
                    format!(
                        "{column}: {} characters, MaxLength is {max}",
                        s.encode_utf16().count()
                    ),
                    format!("{column}: shorten the value to at most {max} characters."),
                ),
                Ok(max) => Check::ok(
                    name,
                    match max {
                        Some(m) => format!("text within MaxLength {m}"),
                        None => "text".into(),
                    },
                ),
                Err(e) => Check::from_error(&name, &e),
            }
        }
        "Integer" | "BigInt" => match value.as_i64() {
            Some(n) => Check::ok(name, format!("whole number {n}")),
            None => Check::fail(
                name,
                format!("{column} is a whole number but the value is {value}"),
                format!("{column}: give an integer, e.g. 1."),
            ),
        },
        "Decimal" | "Double" | "Money" => match value.as_f64() {
            Some(n) => Check::ok(name, format!("number {n}")),
            None => Check::fail(
                name,
                format!("{column} is a number but the value is {value}"),
                format!("{column}: give a JSON number."),
            ),
        },
        "Boolean" => match value.as_bool() {
            Some(b) => Check::ok(name, format!("yes/no {b}")),
            None => Check::fail(
                name,
                format!("{column} is yes/no but the value is {value}"),
                format!("{column}: give true or false."),
            ),
        },
        "Lookup" | "Customer" | "Owner" => Check::fail(
            name,
            format!("{column} is a lookup and cannot be set by value"),
            format!(
                "{column}: bind it instead, e.g. \"<navigation property>@odata.bind\": \"/<entity set>(<guid>)\"."
            ),
        ),
        other => Check::warn(
            name,
            format!("{column} is a {other} column; its value is not checked"),
            format!("Check the {column} value by hand."),
        ),
    }
}

async fn picklist_property(
    crm: &DataverseClient,
    name: String,
    column: &str,
    value: &Value,
) -> Check {
    let options = match crm.options("incident", column).await {
        Ok(Some(o)) => o,
        Ok(None) => {
            return Check::warn(
                name,
                format!("{column} is a choice column whose options could not be read"),
                format!("Check the {column} value by hand."),
            );
        }
        Err(e) => return Check::from_error(&name, &e),
    };
    let valid = || format!("{column}: use one of {}.", option_list(&options));
    match value {
        Value::Null => Check::ok(name, "null (left empty)"),
        Value::Number(n) => match n.as_i64() {
            Some(v) => match options.iter().find(|(o, _)| *o == v) {
                Some((_, label)) => Check::ok(name, format!("{v} ({label})")),
                None => Check::fail(
                    name,
                    format!("{column}: {v} is not one of its options"),
                    valid(),
                ),
            },
            None => Check::fail(name, format!("{column}: {n} is not an integer"), valid()),
        },
        Value::String(s) => {
            let t = s.trim();
            let by_label = options
                .iter()
                .find(|(_, l)| l.trim().eq_ignore_ascii_case(t));
            let by_number = t
                .parse::<i64>()
                .ok()
                .and_then(|n| options.iter().find(|(o, _)| *o == n));
            match by_label.or(by_number) {
                Some((v, label)) => Check::fail(
                    name,
                    format!(
                        "{column}: a choice takes the option's integer value, not the string {value}"
                    ),
                    format!("{column}: use {v} ({label}), not {value}"),
                ),
                None => Check::fail(
                    name,
                    format!("{column}: {value} is not an option (a choice takes an integer)"),
                    valid(),
                ),
            }
        }
        other => Check::fail(
            name,
            format!("{column}: {other} is not an option value"),
            valid(),
        ),
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

/// The store answers: write, read back and delete a probe object under `verify/`.
pub async fn store_probe<O: ObjectStore>(sessions: &Sessions<O>, now: i64) -> Check {
    let store = sessions.objects();
    let key = format!("verify/probe-{now}.txt");
    let fix = "Check the bucket name (MAIL_BUCKET / --bucket), the region and that your AWS identity may s3:PutObject, s3:GetObject, s3:DeleteObject and s3:ListBucket on it.";
    let failed = |step: &str, e: &StoreError| {
        Check::fail(
            "store",
            format!("{step} {key}: {}", crate::DisplayChain(e)),
            fix,
        )
    };
    match store
        .put_new(&key, b"mailcase verify".to_vec(), "text/plain")
        .await
    {
        Ok(_) | Err(StoreError::Conflict { .. }) => {}
        Err(e) => return failed("cannot write", &e),
    }
    match store.get(&key).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            return Check::fail(
                "store",
                format!("wrote {key} but could not read it back"),
                fix,
            );
        }
        Err(e) => return failed("cannot read", &e),
    }
    if let Err(e) = store.delete(&key).await {
        return failed("cannot delete", &e);
    }
    Check::ok(
        "store",
        "wrote, read and deleted a probe object under verify/",
    )
}

/// The SES identity of the support address, or of its domain.
pub async fn ses_identity<E: EmailIdentities>(ses: &E, support_address: Option<&str>) -> Check {
    let Some(address) = support_address.map(|a| a.trim().to_lowercase()) else {
        return Check::skip(
            "ses_identity",
            "no support address (--support-address or SUPPORT_ADDRESS)",
        );
    };
    let Some((_, domain)) = address
        .rsplit_once('@')
        .filter(|(l, d)| !l.is_empty() && d.contains('.'))
    else {
        return Check::fail(
            "ses_identity",
            format!("SUPPORT_ADDRESS `{address}` is not an email address"),
            "Set SUPPORT_ADDRESS to the public support address, e.g. support@yourco.com.",
        );
    };
    let domain = domain.to_string();
    let by_domain = ses.status(&domain).await;
    let by_address = ses.status(&address).await;
    use IdentityStatus::*;
    let states = [(&domain, &by_domain), (&address, &by_address)];
    if let Some((id, _)) = states.iter().find(|(_, s)| matches!(s, Ok(Verified))) {
        return Check::ok("ses_identity", format!("SES identity {id} is verified"));
    }
    if let (Err(e), Err(_)) = (&by_domain, &by_address) {
        return Check::fail(
            "ses_identity",
            format!("cannot read SES identity {domain}: {e}"),
            "Check AWS credentials, the region (SES identities are regional: use the region of your receipt rule) and the ses:GetEmailIdentity permission.",
        );
    }
    if let Some((id, _)) = states.iter().find(|(_, s)| matches!(s, Ok(Pending))) {
        return Check::warn(
            "ses_identity",
            format!("SES identity {id} is pending verification"),
            format!(
                "Publish the DKIM CNAME records SES shows for {domain} in your DNS (SES console > Identities > {domain}); verification can take up to 72 hours. For an address identity, click the link in SES's verification mail."
            ),
        );
    }
    if let Some((id, _)) = states.iter().find(|(_, s)| matches!(s, Ok(Failed))) {
        return Check::fail(
            "ses_identity",
            format!("SES identity {id} failed verification"),
            format!(
                "SES could not find the DNS records for {domain}: check its DKIM CNAME records in your DNS, then restart verification (SES console > Identities > {domain})."
            ),
        );
    }
    Check::fail(
        "ses_identity",
        format!("no SES identity for {address} or {domain} in this account and region"),
        format!(
            "Create and verify the domain identity: `aws sesv2 create-email-identity --email-identity {domain}`, then publish its DKIM records; make sure AWS_REGION is the region of your SES receipt rule."
        ),
    )
}

/// How long a forwarding confirmation is shown.
const CONFIRMATION_WINDOW_SECS: i64 = 30 * 24 * 3600;
/// At most this many unfiled records are read.
const MAX_UNFILED_READ: usize = 2000;
/// At most this many confirmations are listed.
const MAX_LISTED: usize = 5;

/// Forwarding confirmations (e.g. Gmail's) that ingest recorded in the last 30 days, newest
/// first, each with its code and link.
pub async fn forwarding_confirmations<O: ObjectStore>(
    sessions: &Sessions<O>,
    now: i64,
) -> Vec<Check> {
    let keys = match sessions.objects().list(UNFILED_PREFIX).await {
        Ok(k) => k,
        Err(e) => {
            return vec![Check::fail(
                "forwarding",
                format!("cannot list {UNFILED_PREFIX}: {}", crate::DisplayChain(&e)),
                "Check that your AWS identity may s3:ListBucket and s3:GetObject on the bucket.",
            )];
        }
    };
    let mut found: Vec<(i64, UnfiledRecord)> = Vec::new();
    let mut older = 0;
    // Keys are content hashes, not times: read the last ones listed when there are too many.
    let start = keys.len().saturating_sub(MAX_UNFILED_READ);
    for key in keys[start..].iter().filter(|k| k.ends_with(".json")) {
        let record = match sessions.get_json::<UnfiledRecord>(key).await {
            Ok(Some(r)) => r,
            Ok(None) | Err(_) => continue,
        };
        if record.disposition != "forwarding_confirmation" {
            continue;
        }
        let at = crate::time::parse_rfc3339(&record.received_at).unwrap_or(now);
        if now - at > CONFIRMATION_WINDOW_SECS {
            older += 1;
            continue;
        }
        found.push((at, record));
    }
    let read = keys.len() - start;
    let capped = if start > 0 {
        format!(" (read {read} of {} unfiled records)", keys.len())
    } else {
        String::new()
    };
    if found.is_empty() {
        let older = if older > 0 {
            format!("; {older} older than 30 days ignored")
        } else {
            String::new()
        };
        return vec![Check::ok(
            "forwarding",
            format!("no forwarding confirmation received in the last 30 days{older}{capped}"),
        )];
    }
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    let total = found.len();
    found
        .into_iter()
        .take(MAX_LISTED)
        .map(|(_, r)| {
            let fc = r.forwarding_confirmation.clone().unwrap_or(mail::ForwardingConfirmation {
                code: None,
                url: None,
            });
            let from = r
                .subject
                .as_deref()
                .and_then(|s| s.split("Receive Mail from ").nth(1))
                .map(str::trim)
                .map(str::to_string);
            let mut detail = format!(
                "forwarding confirmation received {} from {}",
                r.received_at,
                r.from.as_ref().map(|m| m.address.as_str()).unwrap_or("(unknown sender)")
            );
            if let Some(f) = &from {
                detail.push_str(&format!(" for {f}"));
            }
            if let Some(c) = &fc.code {
                detail.push_str(&format!(": code {c}"));
            }
            if let Some(u) = &fc.url {
                detail.push_str(&format!(", link {u}"));
            }
            if total > MAX_LISTED {
                detail.push_str(&format!(" ({total} in all; newest {MAX_LISTED} shown)"));
            }
            detail.push_str(&capped);
            let mailbox = from.unwrap_or_else(|| "the support mailbox".into());
            let how = match (&fc.url, &fc.code) {
                (Some(u), Some(c)) => format!("open {u} while signed in as {mailbox}, or enter code {c} in Gmail > Settings > Forwarding and POP/IMAP"),
                (Some(u), None) => format!("open {u} while signed in as {mailbox}"),
                (None, Some(c)) => format!("enter code {c} in {mailbox}'s Gmail > Settings > Forwarding and POP/IMAP"),
                (None, None) => format!("confirm the forwarding request in {mailbox}'s mail settings"),
            };
            Check::warn(
                "forwarding",
                detail,
                format!("Forwarding to SES starts only once confirmed: {how}. Ignore this if it is already confirmed."),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake(Vec<(&'static str, IdentityStatus)>);

    impl EmailIdentities for Fake {
        async fn status(&self, identity: &str) -> Result<IdentityStatus, String> {
            Ok(self
                .0
                .iter()
                .find(|(i, _)| *i == identity)
                .map(|(_, s)| *s)
                .unwrap_or(IdentityStatus::NotFound))
        }
    }

    async fn ses(states: Vec<(&'static str, IdentityStatus)>) -> Check {
        ses_identity(&Fake(states), Some("Support@Acme.com")).await
    }

    #[tokio::test]
    async fn ses_identity_states_map_to_fixes() {
        let c = ses(vec![("acme.com", IdentityStatus::Verified)]).await;
        assert_eq!(c.status, Status::Ok, "{c:?}");
        let c = ses(vec![("support@acme.com", IdentityStatus::Verified)]).await;
        assert_eq!(c.status, Status::Ok, "{c:?}");
        let c = ses(vec![("acme.com", IdentityStatus::Pending)]).await;
        assert_eq!(c.status, Status::Warn, "{c:?}");
        assert!(c.fix.as_deref().unwrap_or("").contains("DKIM"), "{c:?}");
        let c = ses(vec![("acme.com", IdentityStatus::Failed)]).await;
        assert_eq!(c.status, Status::Fail, "{c:?}");
        assert!(c.detail.contains("failed verification"), "{c:?}");
        let c = ses(vec![]).await;
        assert_eq!(c.status, Status::Fail, "{c:?}");
        assert!(
            c.fix
                .as_deref()
                .unwrap_or("")
                .contains("create-email-identity --email-identity acme.com"),
            "{c:?}"
        );
        let c = ses_identity(&NoIdentities, Some("support@acme.com")).await;
        assert_eq!(c.status, Status::Fail, "{c:?}");
        assert!(c.fix.as_deref().unwrap_or("").contains("region"), "{c:?}");
        let c = ses_identity(&NoIdentities, Some("not-an-address")).await;
        assert_eq!(c.status, Status::Fail, "{c:?}");
        let c = ses_identity(&NoIdentities, None).await;
        assert_eq!(c.status, Status::Skip, "{c:?}");
    }

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
