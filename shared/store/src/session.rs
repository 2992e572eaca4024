//! The session: one email thread with one customer, as stored in `sessions/<id>/session.json`.

use mail::Mailbox;
use serde::{Deserialize, Serialize};

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// Collecting messages; no case yet.
    Open,
    /// A Dynamics incident was created; later mail becomes follow-up notes.
    HandedOff,
}

impl SessionState {
    /// The snake_case name used in JSON and listings.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::Open => "open",
            SessionState::HandedOff => "handed_off",
        }
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the customer (or forwarded on the customer's behalf).
    Inbound,
    /// Sent by us.
    Outbound,
}

/// An attachment stored once under the session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRef {
    /// Decoded, path-free file name.
    pub filename: String,
    /// MIME type.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Inline part (e.g. an image in the HTML body).
    pub inline: bool,
    /// Outlook TNEF container whose contents are not decoded.
    #[serde(default)]
    pub winmail: bool,
    /// Store key of the content.
    pub key: String,
    /// Hex SHA-256 of the content (the same file in several messages is one file); absent in
    /// sessions stored before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// `Content-ID` of the part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_id: Option<String>,
    /// The HTML body shows the part through `cid:` (signature logo, tracking pixel).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub referenced: bool,
}

/// One message of a session: enough to render the transcript without reading anything else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageEntry {
    /// Stable key of the message (hash of its Message-ID, or of the SES id when it has none).
    pub key: String,
    /// RFC 5322 Message-ID (for outbound mail, the id SES assigned).
    pub message_id: Option<String>,
    /// Who wrote it.
    pub direction: Direction,
    /// RFC 3339 UTC.
    pub date: String,
    /// Seconds since the epoch; messages are kept in this order.
    pub timestamp: i64,
    /// Author.
    pub from: Option<Mailbox>,
    /// Decoded subject.
    pub subject: Option<String>,
    /// What the author newly wrote (quoted history removed).
    pub reply_text: String,
    /// Attachments, stored under the session.
    #[serde(default)]
    pub attachments: Vec<AttachmentRef>,
    /// Arrived after the session was handed off (delivered to the case as a note).
    #[serde(default)]
    pub after_handoff: bool,
    /// SES receipt id of the raw mail (`raw/<id>`), when it came through SES.
    #[serde(default)]
    pub ses_message_id: Option<String>,
}

/// The result of the handoff to Dynamics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoffRecord {
    /// Idempotency key of the handoff request.
    pub handoff_id: String,
    /// The incident's id.
    pub dynamics365_incident_id: String,
    /// The incident's ticket number (e.g. `CAS-01001-X1Y2Z3`).
    pub dynamics365_ticket_number: String,
    /// When the incident was created (RFC 3339 UTC).
    pub handed_off_at: String,
    /// Classification given with the request.
    #[serde(default)]
    pub classification: Option<String>,
}

/// One email thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Session id (`mc-` + 16 hex digits); also the token our outbound mail carries.
    pub id: String,
    /// Open or handed off.
    pub state: SessionState,
    /// Who the case is for.
    pub customer: Option<Mailbox>,
    /// Subject of the first message.
    pub subject: String,
    /// Normalised thread subject.
    pub thread_subject: String,
    /// RFC 3339 UTC of the first message.
    pub created_at: String,
    /// RFC 3339 UTC of the newest message.
    pub last_activity: String,
    /// Messages in timestamp order.
    pub messages: Vec<MessageEntry>,
    /// Set once the case exists.
    #[serde(default)]
    pub handoff: Option<HandoffRecord>,
    /// Keys of messages that arrived after the handoff and still have to reach the case.
    #[serde(default)]
    pub pending_followups: Vec<String>,
    /// Ticket number of an earlier, closed case this thread continues.
    #[serde(default)]
    pub previous_ticket: Option<String>,
    /// The route the thread came in on (the routing document's `address`, `*` for the
    /// default); a thread keeps its route.
    #[serde(default)]
    pub route: Option<String>,
    /// The addresses the first message was written or delivered to (To, Cc, forwarding
    /// headers, SES recipients), lower-cased: what triage rules on the recipient match.
    #[serde(default)]
    pub recipients: Vec<String>,
    /// Receive time (seconds since the epoch) of the newest customer message: the quiet
    /// policy hands off once this is old enough.
    #[serde(default)]
    pub last_inbound_at: Option<i64>,
    /// Everyone on the thread besides us: the customer, then every external address on
    /// From/To/Cc of its inbound mail.
    #[serde(default)]
    pub participants: Vec<Participant>,
    /// The session (or its ticket) a stranger's message pointed at by header, token or subject:
    /// this session was started instead of joining it.
    #[serde(default)]
    pub related_to: Option<String>,
    /// This session was merged into another (a message proved both are one thread): a
    /// redirect; everything it held moved there.
    #[serde(default)]
    pub merged_into: Option<String>,
    /// The incident of the earlier, closed case this thread continues (its `parentcaseid`).
    #[serde(default)]
    pub parent_incident: Option<String>,
    /// The sender flooded (too many new threads, or the same text again and again): no
    /// acknowledgement and no automatic handoff; a manual handoff still works.
    #[serde(default)]
    pub flood: bool,
    /// Sessions merged into this one that had their own case already: each of those cases gets
    /// a note naming this session's case (written by the handoff function with the next
    /// follow-up delivery, then taken off this list).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_cases: Vec<MergedCase>,
}

/// A handed-off session merged into another handed-off one: its case, which now needs a note
/// naming the case that holds the thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergedCase {
    /// The merged (younger) session.
    pub session_id: String,
    /// Its case.
    pub handoff: HandoffRecord,
}

/// Someone on a thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    /// Lower-cased address.
    pub address: String,
    /// Display name, when known.
    #[serde(default)]
    pub name: Option<String>,
    /// `customer`, `from`, `to` or `cc` (how they first appeared).
    pub role: String,
}

impl Session {
    /// True when `address` is on the thread.
    pub fn has_participant(&self, address: &str) -> bool {
        self.participants
            .iter()
            .any(|p| p.address.eq_ignore_ascii_case(address))
            || self
                .customer
                .as_ref()
                .is_some_and(|c| c.address.eq_ignore_ascii_case(address))
    }

    /// Add people not on the thread yet (first appearance keeps its role).
    pub fn add_participants(&mut self, people: &[Participant]) {
        for p in people {
            if !self.participants.iter().any(|q| q.address == p.address) {
                self.participants.push(p.clone());
            }
        }
    }
}

impl Session {
    /// An open session with nothing in it yet: the one place every field gets its starting
    /// value (callers set what they know with `..Session::new(id, created_at)`).
    pub fn new(id: &str, created_at: &str) -> Session {
        Session {
            id: id.to_string(),
            state: SessionState::Open,
            customer: None,
            subject: String::new(),
            thread_subject: String::new(),
            created_at: created_at.to_string(),
            last_activity: created_at.to_string(),
            messages: Vec::new(),
            handoff: None,
            pending_followups: Vec::new(),
            previous_ticket: None,
            route: None,
            recipients: Vec::new(),
            last_inbound_at: None,
            participants: Vec::new(),
            related_to: None,
            merged_into: None,
            parent_incident: None,
            flood: false,
            merged_cases: Vec::new(),
        }
    }

    /// A session that was never written, created as a redirect to `into`: a concurrent ingest
    /// that was about to create it follows the redirect instead (merge.rs).
    pub fn redirect(id: &str, into: &str, created_at: &str) -> Session {
        Session {
            merged_into: Some(into.to_string()),
            ..Session::new(id, created_at)
        }
    }

    /// True when the message with this key is already in the session.
    pub fn contains(&self, key: &str) -> bool {
        self.messages.iter().any(|m| m.key == key)
    }

    /// Insert a message in timestamp order (arrival order among equal timestamps) and update
    /// `last_activity`. Returns false, changing nothing, when the key is already present.
    pub fn insert(&mut self, entry: MessageEntry) -> bool {
        if self.contains(&entry.key) {
            return false;
        }
        let at = self
            .messages
            .iter()
            .position(|m| m.timestamp > entry.timestamp)
            .unwrap_or(self.messages.len());
        self.messages.insert(at, entry);
        if let Some(newest) = self.messages.iter().max_by_key(|m| m.timestamp) {
            self.last_activity = newest.date.clone();
        }
        true
    }
}
