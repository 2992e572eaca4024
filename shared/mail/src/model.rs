//! The data a parsed message is made of. Serialised field names are the `mailcase parse --json`
//! contract and the stored form of a message, so renaming one is a breaking change.

use serde::{Deserialize, Serialize};

/// Inputs to [`crate::parse`] that are facts about the receiving side, not about the message.
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// The company's own mail domains (lower-case, e.g. `acme.com`). A message forwarded by an
    /// address in one of these domains is attributed to the original sender.
    pub internal_domains: Vec<String>,
    /// When the mail was received (seconds since the Unix epoch, UTC); used as the date when the
    /// `Date:` header is missing or unparseable. `None` leaves the date at the epoch.
    pub received_at: Option<i64>,
}

/// A display name and a normalised address (lower-case domain, surrounding space and angle
/// brackets removed; the local part keeps its case as RFC 5321 requires).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mailbox {
    /// Decoded display name (RFC 2047), `None` when the header had none.
    pub name: Option<String>,
    /// The address, normalised by [`crate::normalise_address`]. May be empty for a group or a
    /// name-only header.
    pub address: String,
}

/// One attachment or inline part that is not the message body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// File name (RFC 2231 / RFC 2047 decoded), or a generated `part-N` name when absent. Never
    /// contains a path separator or control character.
    pub filename: String,
    /// MIME type, lower-case, e.g. `application/pdf`.
    pub content_type: String,
    /// Decoded size in bytes.
    pub size: u64,
    /// True for inline parts (e.g. images shown in the HTML body).
    pub inline: bool,
    /// True for Outlook's TNEF container (`winmail.dat`, `application/ms-tnef`), whose real
    /// attachments are not decoded.
    #[serde(default)]
    pub winmail: bool,
    /// `Content-ID` without angle brackets, when the part has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_id: Option<String>,
    /// The HTML body shows this part through a `cid:` reference (a signature logo, a
    /// tracking pixel, a pasted picture): see [`crate::cid`].
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub referenced: bool,
    /// Decoded content; not serialised (stored separately by the store).
    #[serde(skip)]
    pub content: Vec<u8>,
}

/// What kind of mail this is, which decides whether it may become (part of) a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Written by a person: file it into a session.
    Customer,
    /// Out-of-office, vacation or other automatic response (RFC 3834 and vendor headers).
    AutoReply,
    /// Delivery status notification or mailer-daemon message.
    Bounce,
    /// A mail provider asking to confirm a forwarding address (e.g. Gmail's).
    ForwardingConfirmation,
}

impl Disposition {
    /// The snake_case name used in JSON and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Customer => "customer",
            Disposition::AutoReply => "auto_reply",
            Disposition::Bounce => "bounce",
            Disposition::ForwardingConfirmation => "forwarding_confirmation",
        }
    }
}

/// The code and link of a forwarding confirmation, kept for the operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardingConfirmation {
    /// The confirmation code (Gmail: digits from the subject or `Confirmation code:` line).
    pub code: Option<String>,
    /// The confirmation link.
    pub url: Option<String>,
}

/// Everything mailcase needs from one e-mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundMessage {
    /// `Message-ID` without angle brackets.
    pub message_id: Option<String>,
    /// First id of `In-Reply-To`, without angle brackets.
    pub in_reply_to: Option<String>,
    /// `References` ids in order, without angle brackets.
    pub references: Vec<String>,
    /// RFC 3339 UTC (`2024-03-12T10:15:00Z`): the `Date:` header, or the received time when the
    /// header is missing or unparseable.
    pub date: String,
    /// Same instant as `date`, seconds since the Unix epoch.
    pub timestamp: i64,
    /// The first `From` mailbox.
    pub from: Option<Mailbox>,
    /// `To` mailboxes.
    pub to: Vec<Mailbox>,
    /// `Cc` mailboxes.
    pub cc: Vec<Mailbox>,
    /// `Reply-To` mailboxes.
    pub reply_to: Vec<Mailbox>,
    /// Who the case is for: the sender, or the original sender of a forward (see [`crate::forward`]).
    pub customer: Option<Mailbox>,
    /// Decoded subject.
    pub subject: Option<String>,
    /// Subject with reply/forward prefixes removed (see [`crate::subject::thread_subject`]).
    pub thread_subject: String,
    /// The whole text body (text/plain preferred, HTML converted otherwise).
    pub text: String,
    /// Only what the sender newly wrote: quoted history and signatures removed.
    pub reply_text: String,
    /// Attachments and inline parts.
    pub attachments: Vec<Attachment>,
    /// What kind of mail this is.
    pub disposition: Disposition,
    /// Why the disposition was chosen (e.g. `header Auto-Submitted: auto-replied`).
    pub disposition_reason: String,
    /// Present for [`Disposition::ForwardingConfirmation`].
    pub forwarding_confirmation: Option<ForwardingConfirmation>,
    /// Addresses the mail was delivered to by a forwarder, lower-cased, in header order: every
    /// `Delivered-To`, `X-Original-To` and `X-Forwarded-To` (used to route forwarded mail).
    /// Not serialized: the session records it as `recipients` (and the golden corpus of
    /// parsed mail stays as it is).
    #[serde(default, skip_serializing)]
    pub delivered_to: Vec<String>,
    /// `X-Mailcase-Session` of the message: only mail we sent carries it, so inbound mail with
    /// it is our own coming back (a loop). Not serialized.
    #[serde(default, skip_serializing)]
    pub mailcase_session: Option<String>,
    /// Why the customer is unknown although the message has a sender, e.g. "the sender address
    /// has an empty local part" (written wrongly by the sender's software). Such an address is
    /// never used as a contact's email; the message is still filed. Absent (and not
    /// serialised) otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_unknown: Option<String>,
}
