//! What handoff, follow-up delivery and attachment upload share about a case: the outcome and
//! error of a handoff, the transcript's view of a session and the id of a continuation session.
//! A leaf below [`crate::handoff`], [`crate::followup`] and [`crate::attachments`], so none of
//! them needs another for these.

use dynamics::DynamicsError;
use serde::Serialize;
use store::StoreError;
use store::session::{Direction, Session};
use transcript::{Entry, Thread};

/// What a handoff did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// The session.
    pub session_id: String,
    /// `dynamics365_incident_id`.
    pub incident_id: String,
    /// `dynamics365_ticket_number`.
    pub ticket_number: String,
    /// False when the case already existed (a retry).
    pub created: bool,
    /// Ticket properties left out because Dynamics refused them: (column, why).
    pub dropped_properties: Vec<(String, String)>,
    /// Follow-up messages delivered as notes.
    pub followups_noted: usize,
    /// Follow-up messages that started a new session because the case was closed.
    pub followups_new_sessions: Vec<String>,
    /// Keys of the follow-up messages delivered as notes by this call.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub followup_keys: Vec<String>,
    /// The description was cut and the full transcript attached as a note.
    pub truncated: bool,
}

/// Why a handoff failed.
#[derive(Debug, thiserror::Error)]
pub enum HandoffError {
    /// No such session (permanent).
    #[error("no session {0}")]
    SessionNotFound(String),
    /// The request is malformed (permanent).
    #[error("bad handoff request: {0}")]
    BadRequest(String),
    /// The store failed (retryable).
    #[error("session store")]
    Store(#[from] StoreError),
    /// Dynamics refused or failed.
    #[error("Dynamics")]
    Dynamics(#[from] DynamicsError),
}

impl HandoffError {
    /// Worth retrying later.
    pub fn is_retryable(&self) -> bool {
        match self {
            HandoffError::Store(_) => true,
            HandoffError::Dynamics(e) => e.is_retryable(),
            _ => false,
        }
    }

    /// What the operator should do.
    pub fn fix(&self) -> String {
        match self {
            HandoffError::SessionNotFound(id) => {
                format!("Check the session id {id} (`mailcase sessions` lists them).")
            }
            HandoffError::BadRequest(m) => format!("Send a valid handoff request: {m}."),
            HandoffError::Store(_) => {
                "The session store failed; the handoff will be retried.".into()
            }
            HandoffError::Dynamics(e) => e.fix(),
        }
    }
}

/// The transcript's view of a session.
pub fn thread_of(session: &Session) -> Thread {
    Thread {
        session_id: session.id.clone(),
        customer_name: session.customer.as_ref().and_then(|c| c.name.clone()),
        customer_email: session
            .customer
            .as_ref()
            .map(|c| c.address.clone())
            .filter(|a| !a.is_empty()),
        previous_ticket: session.previous_ticket.clone(),
        related: session.related_to.clone(),
        participants: session
            .participants
            .iter()
            .map(|p| match &p.name {
                Some(n) => format!("{n} <{}> ({})", p.address, p.role),
                None => format!("{} ({})", p.address, p.role),
            })
            .collect(),
        messages: session
            .messages
            .iter()
            .filter(|m| !m.after_handoff)
            .map(entry_of)
            .collect(),
    }
}

/// The transcript's view of one message.
pub fn entry_of(m: &store::session::MessageEntry) -> Entry {
    Entry {
        timestamp: m.date.clone(),
        direction: match m.direction {
            Direction::Inbound => transcript::Direction::Inbound,
            Direction::Outbound => transcript::Direction::Outbound,
        },
        author: m
            .from
            .as_ref()
            .map(|f| match &f.name {
                Some(n) => format!("{n} <{}>", f.address),
                None => f.address.clone(),
            })
            .unwrap_or_else(|| "(unknown sender)".into()),
        text: m.reply_text.clone(),
        attachments: m
            .attachments
            .iter()
            .map(|a| (a.filename.clone(), a.size))
            .collect(),
    }
}

/// Session id of the new session a follow-up starts when the case is closed.
pub fn continuation_id(message_key: &str) -> String {
    store::SessionId::derive(&format!("continue:{message_key}")).into()
}
