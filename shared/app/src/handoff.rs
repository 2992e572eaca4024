//! Handoff: one complete Dynamics case per handoff request, exactly once, and delivery of mail
//! that arrives after the handoff.
//!
//! Exactly once comes from the incident's id: `uuid5(session, handoff_id)`, written create-only
//! inside one atomic `$batch` change set, so retries and concurrent duplicates all land on the
//! same incident. The session is marked handed off only after the case exists; a crash in
//! between is repaired by the retry, which finds the existing case.

use dynamics::{CaseRequest, DataverseClient, DynamicsError, Owner, derived_id};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use store::session::{HandoffRecord, Session, SessionState};
use store::sessions::Sessions;
use store::{ObjectStore, Update};
use transcript::{Details, Thread};
use uuid::Uuid;

use crate::attachments::{self, Mode};
pub use crate::case::{HandoffError, Outcome, continuation_id, entry_of, thread_of};
pub use crate::limits::{Column, Limits, LimitsCache};

/// The handoff request (DESIGN.md), by direct invocation or as an SQS message body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// The session to hand off.
    pub session_id: String,
    /// e.g. `Billing`; the title's first part.
    #[serde(default)]
    pub classification: Option<String>,
    /// e.g. `negative`.
    #[serde(default)]
    pub sentiment: Option<String>,
    /// Optional one-liner.
    #[serde(default)]
    pub summary: Option<String>,
    /// Idempotency key; requests with the same key are the same handoff.
    #[serde(default)]
    pub handoff_id: Option<String>,
    /// `followup` for the notice ingest sends when mail arrives on a handed-off session: it
    /// delivers pending follow-ups and never creates a first case. `reply` sends `text` to the
    /// customer in the thread (see `app::reply`). Absent: a handoff.
    #[serde(default)]
    pub kind: Option<String>,
    /// For `kind: "reply"`: the text to send to the customer in the thread.
    #[serde(default)]
    pub text: Option<String>,
    /// For `kind: "reply"`: idempotency key (default: a digest of the text), so a retried
    /// request sends once.
    #[serde(default)]
    pub reply_id: Option<String>,
    /// For `kind: "auto"`: when the policy's handoff is due (seconds since the epoch); a quiet
    /// period that is not over re-queues the request.
    #[serde(default)]
    pub due_at: Option<i64>,
}

/// The kinds of request on the handoff queue: [`Request::kind`] on the wire (serde names are
/// those strings), parsed once by [`Kind::of`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Create the session's case (an agent's or a person's request).
    Handoff,
    /// Deliver mail that arrived after the handoff.
    Followup,
    /// A handoff policy's own request (`immediate`, `quiet:N`).
    Auto,
    /// Send a reply in the thread.
    Reply,
}

impl Kind {
    /// The request's kind; an unknown one is refused with the known ones.
    pub fn of(req: &Request) -> Result<Kind, HandoffError> {
        match req.kind.as_deref().map(str::trim) {
            None | Some("") | Some("handoff") => Ok(Kind::Handoff),
            Some("followup") => Ok(Kind::Followup),
            Some("auto") => Ok(Kind::Auto),
            Some("reply") => Ok(Kind::Reply),
            Some(other) => Err(HandoffError::BadRequest(format!(
                "unknown kind `{other}` (use handoff, followup, auto or reply)"
            ))),
        }
    }

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Handoff => "handoff",
            Kind::Followup => "followup",
            Kind::Auto => "auto",
            Kind::Reply => "reply",
        }
    }
}

/// `REOPEN_DAYS` when unset.
pub const DEFAULT_REOPEN_DAYS: u32 = 7;

/// Settings from the function's configuration. The default is what an empty configuration
/// gives ([`Settings::from_lookup`] of nothing): no queue or owner, reopen within 7 days.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `DEFAULT_QUEUE_ID`.
    pub queue_id: Option<Uuid>,
    /// `DEFAULT_OWNER_ID`.
    pub owner: Option<Owner>,
    /// `DEFAULT_PRIORITY` (default 2, Normal).
    pub priority: Option<i64>,
    /// `TICKET_PROPERTIES`: extra incident columns.
    pub ticket_properties: Map<String, Value>,
    /// `SESSION_URL_TEMPLATE` with `{session_id}`.
    pub session_url_template: Option<String>,
    /// `REOPEN_DAYS` (default 7): mail within this many days of a case's closing reactivates
    /// it; later mail starts a new case linked as its child (`parentcaseid`).
    pub reopen_days: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            queue_id: None,
            owner: None,
            priority: None,
            ticket_properties: Map::new(),
            session_url_template: None,
            reopen_days: DEFAULT_REOPEN_DAYS,
        }
    }
}

impl Settings {
    /// Read `DEFAULT_QUEUE_ID`, `DEFAULT_OWNER_ID` (a user GUID, `systemusers(<id>)` or
    /// `teams(<id>)`), `DEFAULT_PRIORITY` (default 2), `TICKET_PROPERTIES` (a JSON object) and
    /// `SESSION_URL_TEMPLATE` through `get`. The error names the setting and what it needs.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, String> {
        let get = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let queue_id =
            match get("DEFAULT_QUEUE_ID") {
                Some(v) => Some(Uuid::parse_str(&v).map_err(|_| {
                    format!("DEFAULT_QUEUE_ID must be the queue's GUID (got `{v}`)")
                })?),
                None => None,
            };
        let owner = match get("DEFAULT_OWNER_ID") {
            Some(v) => Some(Owner::parse(&v).ok_or_else(|| format!("DEFAULT_OWNER_ID must be a user GUID, systemusers(<guid>) or teams(<guid>) (got `{v}`)"))?),
            None => None,
        };
        let priority = match get("DEFAULT_PRIORITY") {
            Some(v) => Some(v.parse::<i64>().map_err(|_| format!("DEFAULT_PRIORITY must be an option value such as 1 (High), 2 (Normal) or 3 (Low), not a label (got `{v}`)"))?),
            None => None,
        };
        let ticket_properties = match get("TICKET_PROPERTIES") {
            Some(v) => match serde_json::from_str::<Value>(&v) {
                Ok(Value::Object(m)) => m,
                _ => return Err("TICKET_PROPERTIES must be a JSON object of incident columns, e.g. {\"casetypecode\": 2}".into()),
            },
            None => Map::new(),
        };
        let reopen_days = match get("REOPEN_DAYS") {
            Some(v) => v.parse::<u32>().map_err(|_| {
                format!("REOPEN_DAYS must be a whole number of days, 0 to never reopen (got `{v}`)")
            })?,
            None => DEFAULT_REOPEN_DAYS,
        };
        Ok(Settings {
            queue_id,
            owner,
            priority,
            ticket_properties,
            session_url_template: get("SESSION_URL_TEMPLATE"),
            reopen_days,
        })
    }
}

/// Hand a session off (or deliver its follow-ups when it already was); `mode` is the
/// `ATTACHMENTS` setting (`Mode::List`: attachments are listed, not uploaded).
#[tracing::instrument(skip_all, fields(session_id = %req.session_id))]
pub async fn run<O: ObjectStore>(
    sessions: &Sessions<O>,
    crm: &DataverseClient,
    settings: &Settings,
    limits: &LimitsCache,
    req: &Request,
    now: i64,
    mode: Mode,
) -> Result<Outcome, HandoffError> {
    if req.session_id.trim().is_empty() {
        return Err(HandoffError::BadRequest("session_id is empty".into()));
    }
    // A session merged into another hands off the one that holds the thread now.
    let session = crate::merge::load_resolved(sessions, &req.session_id)
        .await?
        .ok_or_else(|| HandoffError::SessionNotFound(req.session_id.clone()))?;
    // The session's mail not yet on its case goes there as notes (or a new case: followup.rs).
    let deliver = async |session: &Session, record: &HandoffRecord| {
        let reopen_days = settings.reopen_days;
        crate::followup::deliver(
            sessions,
            crm,
            limits,
            session,
            record,
            reopen_days,
            now,
            mode,
        )
        .await
    };
    if let (SessionState::HandedOff, Some(record)) = (session.state, &session.handoff) {
        return deliver(&session, record).await;
    }
    if matches!(Kind::of(req), Ok(Kind::Followup)) {
        return Err(HandoffError::BadRequest(format!(
            "session {} has not been handed off; a follow-up notice needs a handed-off session",
            session.id
        )));
    }
    // Attachments (attachments.rs): decided before the case, so the transcript says what
    // happened to each.
    let files = match mode {
        Mode::Upload => Some(attachments::plan(
            &session,
            &limits.files_for(crm, &session).await?,
        )),
        Mode::List => None,
    };
    let contact_id = contact_for(crm, &session).await?;
    let handoff_id = req
        .handoff_id
        .clone()
        .filter(|h| !h.trim().is_empty())
        .unwrap_or_else(|| "default".into());
    // One case per session: concurrent handoffs with different ids agree on the first claim.
    let handoff_id = sessions.claim_handoff(&session.id, &handoff_id).await?;
    let incident_id = derived_id("incident", &format!("{}/{handoff_id}", session.id));
    let thread = match &files {
        Some(plan) => attachments::thread_with(&session, plan),
        None => thread_of(&session),
    };
    let mut details = Details {
        classification: req.classification.clone(),
        sentiment: req.sentiment.clone(),
        summary: req.summary.clone(),
        session_url: settings
            .session_url_template
            .as_ref()
            .map(|t| t.replace("{session_id}", &session.id)),
        dropped_properties: Vec::new(),
        attachment_lines: files
            .as_deref()
            .map(attachments::summary_lines)
            .unwrap_or_default(),
    };
    let mut properties = settings.ticket_properties.clone();
    // A thread continuing a closed case is its child.
    if let Some(parent) = session
        .parent_incident
        .as_deref()
        .and_then(|p| Uuid::parse_str(p).ok())
    {
        properties.insert(
            "parentcaseid@odata.bind".into(),
            Value::String(format!("/incidents({parent})")),
        );
    }
    // Column limits (limits.rs): stock assumed; read only for a text that does not fit them,
    // and read again once when Dataverse refuses a length.
    let mut cols = limits.current().await;
    let mut refreshed = false;
    let (result, truncated) = loop {
        let texts = loop {
            let t = case_texts(req, &thread, &details, incident_id, cols);
            let confirmed = limits.confirm(crm, &t.cut).await?;
            if confirmed == cols {
                break t;
            }
            cols = confirmed;
        };
        let case = CaseRequest {
            incident_id,
            title: texts.title,
            description: texts.description,
            contact_id,
            queue_id: settings.queue_id,
            owner: settings.owner,
            priority: settings.priority.or(Some(2)),
            ticket_properties: properties.clone(),
            notes: texts.notes,
        };
        match crm.create_case(&case).await {
            Ok(r) => break (r, texts.truncated),
            Err(DynamicsError::TooLong { table, column, .. })
                if !refreshed
                    && (column.is_none()
                        || Column::named(table.as_deref(), column.as_deref()).is_some()) =>
            {
                // The org's limits are not what this process assumed: read them, cut again.
                tracing::warn!(table = ?table, column = ?column, "Dataverse refused a length; reading the column limits and retrying once");
                refreshed = true;
                cols = limits.refresh(crm).await?;
            }
            // A ticket property too long for its column: dropped like any refused property.
            Err(DynamicsError::TooLong {
                table,
                column,
                message,
                ..
            }) if !properties.is_empty()
                && Column::named(table.as_deref(), column.as_deref()).is_none() =>
            {
                drop_refused(&mut properties, &mut details, column, &message);
            }
            Err(DynamicsError::BadRequest {
                column, message, ..
            }) if !properties.is_empty() => {
                drop_refused(&mut properties, &mut details, column, &message);
            }
            Err(e) => return Err(e.into()),
        }
    };
    // Before the session is marked handed off, so a retry after a crash finishes the uploads.
    if let Some(plan) = &files {
        attachments::upload(sessions, crm, &session, result.incident_id, plan, None).await?;
    }
    let record = HandoffRecord {
        handoff_id,
        dynamics365_incident_id: result.incident_id.to_string(),
        dynamics365_ticket_number: result.ticket_number.clone(),
        handed_off_at: mail::rfc3339_utc(now),
        classification: req.classification.clone(),
    };
    let marked = record.clone();
    let session = sessions
        .update(&session.id, move |cur| match cur {
            Some(mut s) if s.state == SessionState::Open => {
                s.state = SessionState::HandedOff;
                s.handoff = Some(marked.clone());
                Update::Write(s.clone(), Some(s))
            }
            other => Update::Keep(other),
        })
        .await?
        .ok_or_else(|| HandoffError::SessionNotFound(req.session_id.clone()))?;
    tracing::info!(incident_id = %result.incident_id, created = result.created, truncated, dropped = details.dropped_properties.len(), "handed off");
    let mut outcome = Outcome {
        session_id: session.id.clone(),
        incident_id: result.incident_id.to_string(),
        ticket_number: result.ticket_number,
        created: result.created,
        dropped_properties: details.dropped_properties,
        followups_noted: 0,
        followups_new_sessions: Vec::new(),
        followup_keys: Vec::new(),
        truncated,
    };
    // Mail that raced in between reading the session and marking it handed off.
    if !session.pending_followups.is_empty() {
        let delivered = deliver(&session, &record).await?;
        outcome.followups_noted = delivered.followups_noted;
        outcome.followups_new_sessions = delivered.followups_new_sessions;
        outcome.followup_keys = delivered.followup_keys;
    }
    Ok(outcome)
}

/// The customer's request must reach a human: drop the ticket property Dynamics refuses (all
/// of them when the refusal names none) and say so in the description.
fn drop_refused(
    properties: &mut Map<String, Value>,
    details: &mut Details,
    column: Option<String>,
    message: &str,
) {
    let named = column
        .filter(|c| properties.contains_key(c))
        .or_else(|| property_by_literal(properties, message));
    let dropped: Vec<String> = match named {
        Some(c) => vec![c],
        None => properties.keys().cloned().collect(),
    };
    for c in dropped {
        properties.remove(&c);
        tracing::warn!(column = %c, "ticket property refused by Dynamics; creating the case without it");
        details.dropped_properties.push((c, message.to_string()));
    }
}

/// The case's texts under `limits`, and which limited columns cut them.
struct CaseTexts {
    title: String,
    description: String,
    truncated: bool,
    notes: Vec<(Uuid, String, String)>,
    /// Columns whose limit cut the text (their real limit decides).
    cut: Vec<Column>,
}

fn case_texts(
    req: &Request,
    thread: &Thread,
    details: &Details,
    incident_id: Uuid,
    limits: Limits,
) -> CaseTexts {
    let mut cut = Vec::new();
    let classification = req.classification.as_deref();
    if transcript::dv_len(&transcript::title(classification, thread, usize::MAX)) > limits.title {
        cut.push(Column::Title);
    }
    let description = transcript::description(thread, details, limits.description);
    let notes: Vec<(Uuid, String, String)> = if description.truncated {
        cut.push(Column::Description);
        let parts = transcript::notes(thread, details, limits.note);
        if parts.len() > 1 {
            cut.push(Column::Note);
        }
        parts
            .into_iter()
            .enumerate()
            .map(|(i, text)| {
                let subject = if i == 0 {
                    "Email transcript".to_string()
                } else {
                    format!("Email transcript (part {})", i + 1)
                };
                (
                    derived_id("note", &format!("{incident_id}/transcript/{i}")),
                    subject,
                    text,
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    CaseTexts {
        title: transcript::title(classification, thread, limits.title),
        description: description.text,
        truncated: description.truncated,
        notes,
        cut,
    }
}

/// The ticket property whose value Dataverse quotes in its message ("Cannot convert the literal
/// 'High' to the expected type 'Edm.Int32'" names the value, not the column).
fn property_by_literal(properties: &Map<String, Value>, message: &str) -> Option<String> {
    let literals: Vec<&str> = message.split('\'').skip(1).step_by(2).collect();
    let mut hits = properties.iter().filter(|(_, v)| {
        let text = v
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string());
        literals.contains(&text.as_str())
    });
    match (hits.next(), hits.next()) {
        (Some((k, _)), None) => Some(k.clone()),
        _ => None,
    }
}

/// The contact for the session's customer: found by email, else created under an id derived
/// from the lower-cased address so concurrent handoffs for one new sender create one contact.
async fn contact_for(crm: &DataverseClient, session: &Session) -> Result<Uuid, DynamicsError> {
    let customer = session.customer.as_ref().filter(|c| !c.address.is_empty());
    let Some(c) = customer else {
        let id = derived_id("contact-anonymous", &session.id);
        crm.create_contact(
            id,
            None,
            "Anonymous",
            "",
            &format!(
                "Created by mailcase for email session {} (no sender address)",
                session.id
            ),
        )
        .await?;
        return Ok(id);
    };
    let email = c.address.to_lowercase();
    if let Some(id) = crm.find_contact(&email).await? {
        return Ok(id);
    }
    let (first, last) = split_name(c.name.as_deref(), &email);
    let id = derived_id("contact", &email);
    crm.create_contact(
        id,
        first.as_deref(),
        &last,
        &email,
        &format!("Created by mailcase from email session {}", session.id),
    )
    .await?;
    Ok(id)
}

/// First and last name from a display name (`Lima, Ana` and `Ana Lima` both work); the email's
/// local part when there is no name (lastname is required in Dynamics forms).
pub fn split_name(name: Option<&str>, email: &str) -> (Option<String>, String) {
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    let Some(name) = name else {
        return (
            None,
            email
                .split('@')
                .next()
                .unwrap_or(email)
                .chars()
                .take(50)
                .collect(),
        );
    };
    let cut = |s: &str| s.trim().chars().take(50).collect::<String>();
    if let Some((last, first)) = name.split_once(',') {
        return (Some(cut(first)).filter(|f| !f.is_empty()), cut(last));
    }
    match name.rsplit_once(' ') {
        Some((first, last)) => (Some(cut(first)), cut(last)),
        None => (None, cut(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_settings_are_an_empty_configuration() {
        let empty = Settings::from_lookup(|_| None).expect("empty configuration");
        let default = Settings::default();
        assert_eq!(default.reopen_days, DEFAULT_REOPEN_DAYS);
        assert_eq!(format!("{default:?}"), format!("{empty:?}"));
    }
}
