//! Outbound mail in a session's thread: a reply (from an AI agent or a person) and the handoff
//! acknowledgement. Each send is claimed once in the store before it goes out, so a retried
//! request sends nothing new; the sent message is recorded in the session as outbound with the
//! Message-ID the provider assigned, and both that id and ours are indexed so the customer's
//! answer threads back into the same session.

use std::future::Future;

use mail::Mailbox;
use mail::compose::{Outgoing, compose, reply_subject};
use serde::{Deserialize, Serialize};
use store::ids::sha256_hex;
use store::session::{Direction, MessageEntry, Session};
use store::sessions::{IdEntry, Sessions};
use store::{ObjectStore, StoreError, Update, update_json};

use crate::tokens::session_token;

/// A message ready for the provider.
#[derive(Debug, Clone)]
pub struct OutboundMail {
    /// Envelope and header From.
    pub from: String,
    /// The recipient.
    pub to: String,
    /// Copies (the thread's other participants, `REPLY_CC`).
    pub cc: Vec<String>,
    /// The Message-ID we wrote (without brackets); the provider may replace it.
    pub message_id: String,
    /// Raw RFC 5322 bytes.
    pub raw: Vec<u8>,
}

/// Port: something that sends raw mail (SESv2 in production, a local outbox for the demo).
pub trait MailSender: Send + Sync {
    /// Send and return the Message-ID the recipient sees (without brackets).
    fn send(&self, mail: &OutboundMail) -> impl Future<Output = Result<String, SendError>> + Send;

    /// Where mail goes, for output: `ses` (delivered to the recipient) or `outbox` (kept
    /// locally, never delivered).
    fn via(&self) -> &'static str;
}

/// A failed send: retryable (throttling, outage) or not (rejected, unverified sender), with the
/// operator's fix.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    /// What the provider said.
    pub message: String,
    /// Worth retrying later.
    pub retryable: bool,
    /// What the operator should do.
    pub fix: String,
}

/// Settings for mail we send.
#[derive(Debug, Clone, Default)]
pub struct ReplySettings {
    /// `SUPPORT_ADDRESS`: From of everything we send.
    pub support: Option<Mailbox>,
    /// `HANDOFF_ACK`: send the acknowledgement after a handoff.
    pub ack: bool,
    /// `HANDOFF_ACK_TEMPLATE` with `{ticket_number}` and `{customer_name}`.
    pub ack_template: Option<String>,
    /// `REPLY_CC` (default true): replies and acknowledgements Cc the thread's other external
    /// participants.
    pub cc: bool,
}

impl ReplySettings {
    /// Read `SUPPORT_ADDRESS`, `HANDOFF_ACK` (`true`/`false`, default `default_ack`) and
    /// `HANDOFF_ACK_TEMPLATE` through `get`.
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
        default_ack: bool,
    ) -> Result<ReplySettings, String> {
        let get = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let support = match get("SUPPORT_ADDRESS") {
            Some(a) => {
                let a = mail::normalise_address(&a);
                if !mail::compose::is_plain_address(&a) {
                    return Err(format!(
                        "SUPPORT_ADDRESS must be a plain address such as support@acme.com (got `{a}`)"
                    ));
                }
                Some(Mailbox {
                    name: get("SUPPORT_NAME"),
                    address: a,
                })
            }
            None => None,
        };
        let ack = match get("HANDOFF_ACK")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None => default_ack,
            Some("true" | "1" | "yes") => true,
            Some("false" | "0" | "no") => false,
            Some(v) => return Err(format!("HANDOFF_ACK must be true or false (got `{v}`)")),
        };
        if ack && support.is_none() {
            return Err("HANDOFF_ACK is true but SUPPORT_ADDRESS is not set: the acknowledgement needs a From address".into());
        }
        let cc = match get("REPLY_CC")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("true" | "1" | "yes") => true,
            Some("false" | "0" | "no") => false,
            Some(v) => return Err(format!("REPLY_CC must be true or false (got `{v}`)")),
        };
        Ok(ReplySettings {
            support,
            ack,
            ack_template: get("HANDOFF_ACK_TEMPLATE"),
            cc,
        })
    }
}

/// The acknowledgement text when no template is configured.
pub const DEFAULT_ACK_TEMPLATE: &str = "Hello {customer_name},\n\nthank you for your message. A member of our support team now has your request and will answer you in this thread.\n\nYour ticket number is {ticket_number}.";

/// What to send.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The session.
    pub session_id: String,
    /// Plain text.
    pub text: String,
    /// Idempotency key: the same key never sends twice.
    pub key: String,
    /// Automatic mail (the acknowledgement): `Auto-Submitted: auto-replied`.
    pub automatic: bool,
}

/// The result of a send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyOutcome {
    /// The session.
    pub session_id: String,
    /// The Message-ID the customer sees.
    pub message_id: String,
    /// False when an earlier attempt had already sent it.
    pub sent: bool,
}

/// Why a reply was not sent.
#[derive(Debug, thiserror::Error)]
pub enum ReplyError {
    /// No such session.
    #[error("session {0} not found")]
    SessionNotFound(String),
    /// Nothing to send to or from.
    #[error("{0}")]
    Invalid(String),
    /// Another attempt is sending the same message right now.
    #[error("another attempt is sending this message; retry in a few minutes")]
    InProgress,
    /// The provider refused or failed.
    #[error("sending failed: {0}")]
    Send(#[from] SendError),
    /// The store failed.
    #[error("session store")]
    Store(#[from] StoreError),
}

impl ReplyError {
    /// Worth retrying the whole request.
    pub fn is_retryable(&self) -> bool {
        match self {
            ReplyError::InProgress | ReplyError::Store(_) => true,
            ReplyError::Send(e) => e.retryable,
            _ => false,
        }
    }

    /// What the operator should do.
    pub fn fix(&self) -> String {
        match self {
            ReplyError::SessionNotFound(_) => "check the session id (`mailcase sessions`)".into(),
            ReplyError::Invalid(m) => m.clone(),
            ReplyError::InProgress => "nothing: the retry finds it sent".into(),
            ReplyError::Send(e) => e.fix.clone(),
            ReplyError::Store(_) => {
                "check access to the mail bucket; the request can be retried".into()
            }
        }
    }
}

/// The claim on one outbound message.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Claim {
    state: String,
    at: i64,
    #[serde(default)]
    message_id: Option<String>,
}

/// A claim older than this is from an attempt that died; the next attempt sends again.
const STALE_CLAIM_SECS: i64 = 300;

enum Claimed {
    Go,
    Sent(String),
    Busy,
}

/// An id `compose` accepts: `left@right`, printable ASCII, no brackets.
fn usable_id(id: &str) -> bool {
    id.contains('@')
        && id
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>')
}

/// Send `reply` in its session's thread, once per key.
pub async fn send<O: ObjectStore, S: MailSender>(
    sessions: &Sessions<O>,
    sender: &S,
    settings: &ReplySettings,
    reply: &Reply,
    now: i64,
) -> Result<ReplyOutcome, ReplyError> {
    let support = settings.support.clone().ok_or_else(|| {
        ReplyError::Invalid("set SUPPORT_ADDRESS: the From of mail we send".into())
    })?;
    let session = sessions
        .load(&reply.session_id)
        .await?
        .ok_or_else(|| ReplyError::SessionNotFound(reply.session_id.clone()))?;
    let customer = session
        .customer
        .clone()
        .filter(|c| mail::compose::is_plain_address(&c.address))
        .ok_or_else(|| {
            ReplyError::Invalid(format!(
                "session {} has no customer address to reply to",
                session.id
            ))
        })?;
    if reply.text.trim().is_empty() {
        return Err(ReplyError::Invalid("the reply text is empty".into()));
    }
    let ckey = store::layout::outbound_claim(&session.id, &reply.key);
    let claimed = update_json(
        sessions.objects(),
        &ckey,
        20,
        |cur: Option<Claim>| match cur {
            Some(c) if c.state == "sent" => {
                Update::Keep(Claimed::Sent(c.message_id.unwrap_or_default()))
            }
            Some(c) if c.state == "sending" && now - c.at < STALE_CLAIM_SECS => {
                Update::Keep(Claimed::Busy)
            }
            _ => Update::Write(
                Claim {
                    state: "sending".into(),
                    at: now,
                    message_id: None,
                },
                Claimed::Go,
            ),
        },
    )
    .await?;
    match claimed {
        Claimed::Sent(id) => {
            return Ok(ReplyOutcome {
                session_id: session.id,
                message_id: id,
                sent: false,
            });
        }
        Claimed::Busy => return Err(ReplyError::InProgress),
        Claimed::Go => {}
    }
    let domain = support
        .address
        .rsplit('@')
        .next()
        .unwrap_or("localhost")
        .to_string();
    let own_id = format!(
        "{}@{domain}",
        &sha256_hex(&format!("{}/{}", session.id, reply.key))[..32]
    );
    let outgoing = outgoing(
        &session,
        &support,
        &customer,
        &own_id,
        reply,
        now,
        settings.cc,
    );
    let raw = compose(&outgoing).map_err(|e| ReplyError::Invalid(e.to_string()))?;
    let mail = OutboundMail {
        from: support.address.clone(),
        to: customer.address.clone(),
        cc: outgoing.cc.iter().map(|c| c.address.clone()).collect(),
        message_id: own_id.clone(),
        raw,
    };
    let sent_id = match sender.send(&mail).await {
        Ok(id) => id,
        Err(e) => {
            // Release the claim so a retry sends at once.
            update_json(sessions.objects(), &ckey, 20, |_: Option<Claim>| {
                Update::Write(
                    Claim {
                        state: "failed".into(),
                        at: now,
                        message_id: None,
                    },
                    (),
                )
            })
            .await?;
            return Err(e.into());
        }
    };
    record(
        sessions,
        &session.id,
        &support,
        &outgoing,
        &reply.text,
        (&sent_id, &own_id),
        now,
    )
    .await?;
    update_json(sessions.objects(), &ckey, 20, |_: Option<Claim>| {
        Update::Write(
            Claim {
                state: "sent".into(),
                at: now,
                message_id: Some(sent_id.clone()),
            },
            (),
        )
    })
    .await?;
    tracing::info!(session_id = %session.id, message_id = %sent_id, automatic = reply.automatic, "reply sent");
    Ok(ReplyOutcome {
        session_id: session.id,
        message_id: sent_id,
        sent: true,
    })
}

/// The acknowledgement after a handoff: once per incident, never for a session without a
/// customer message.
pub async fn acknowledge<O: ObjectStore, S: MailSender>(
    sessions: &Sessions<O>,
    sender: &S,
    settings: &ReplySettings,
    session_id: &str,
    incident_id: &str,
    ticket_number: &str,
    now: i64,
) -> Result<ReplyOutcome, ReplyError> {
    let session = sessions
        .load(session_id)
        .await?
        .ok_or_else(|| ReplyError::SessionNotFound(session_id.to_string()))?;
    if !session
        .messages
        .iter()
        .any(|m| m.direction == Direction::Inbound)
    {
        return Err(ReplyError::Invalid(
            "no customer message to acknowledge".into(),
        ));
    }
    let name = session
        .customer
        .as_ref()
        .and_then(|c| c.name.clone())
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "there".into());
    let text = settings
        .ack_template
        .as_deref()
        .unwrap_or(DEFAULT_ACK_TEMPLATE)
        .replace("\\n", "\n")
        .replace("{ticket_number}", ticket_number)
        .replace("{customer_name}", &name);
    let reply = Reply {
        session_id: session_id.to_string(),
        text,
        key: format!("ack:{incident_id}"),
        automatic: true,
    };
    send(sessions, sender, settings, &reply, now).await
}

fn outgoing(
    session: &Session,
    support: &Mailbox,
    customer: &Mailbox,
    own_id: &str,
    reply: &Reply,
    now: i64,
    cc: bool,
) -> Outgoing {
    let last_inbound = session
        .messages
        .iter()
        .rev()
        .find(|m| m.direction == Direction::Inbound);
    let token = session_token(&session.id);
    let base = last_inbound
        .and_then(|m| m.subject.clone())
        .unwrap_or_else(|| session.subject.clone());
    let mut subject = reply_subject(&base);
    if !subject.contains(&token) {
        subject = format!("{subject} {token}");
    }
    let references = session
        .messages
        .iter()
        .filter_map(|m| m.message_id.clone())
        .filter(|id| usable_id(id))
        .collect();
    Outgoing {
        from: support.clone(),
        to: customer.clone(),
        subject,
        message_id: own_id.to_string(),
        in_reply_to: last_inbound
            .and_then(|m| m.message_id.clone())
            .filter(|id| usable_id(id)),
        references,
        date: now,
        text: format!("{}\n\n{token}", reply.text.trim_end()),
        auto_submitted: reply.automatic,
        extra_headers: vec![("X-Mailcase-Session".into(), session.id.clone())],
        cc: if cc {
            session
                .participants
                .iter()
                .filter(|p| {
                    p.role != "customer"
                        && !p.address.eq_ignore_ascii_case(&customer.address)
                        && !p.address.eq_ignore_ascii_case(&support.address)
                })
                .filter(|p| mail::compose::is_plain_address(&p.address))
                .take(20)
                .map(|p| Mailbox {
                    name: p.name.clone(),
                    address: p.address.clone(),
                })
                .collect()
        } else {
            Vec::new()
        },
    }
}

async fn record<O: ObjectStore>(
    sessions: &Sessions<O>,
    session_id: &str,
    support: &Mailbox,
    out: &Outgoing,
    text: &str,
    (sent_id, own_id): (&str, &str),
    now: i64,
) -> Result<(), StoreError> {
    let key = String::from(store::MessageKey::of_message_id(sent_id));
    let entry = MessageEntry {
        key: key.clone(),
        message_id: Some(sent_id.to_string()),
        direction: Direction::Outbound,
        date: mail::rfc3339_utc(now),
        timestamp: now,
        from: Some(support.clone()),
        subject: Some(out.subject.clone()),
        // What we wrote, without the session token line.
        reply_text: text.trim_end().to_string(),
        attachments: Vec::new(),
        after_handoff: false,
        ses_message_id: None,
    };
    sessions
        .update(session_id, |cur| match cur {
            Some(mut s) => {
                s.insert(entry.clone());
                Update::Write(s, ())
            }
            None => Update::Keep(()),
        })
        .await?;
    let mine = IdEntry {
        session_id: session_id.to_string(),
        message_key: Some(key),
    };
    for id in [sent_id, own_id] {
        sessions.claim_message_id(id, &mine).await?;
    }
    Ok(())
}

/// A local outbox: writes each message to `outbox/<id>.eml` in the store and keeps our
/// Message-ID. The demo and local runs use it instead of SES.
pub struct StoreOutbox<O> {
    store: O,
}

impl<O> StoreOutbox<O> {
    /// Write into `store`.
    pub fn new(store: O) -> Self {
        StoreOutbox { store }
    }
}

impl<O: ObjectStore> MailSender for StoreOutbox<O> {
    fn via(&self) -> &'static str {
        "outbox"
    }

    async fn send(&self, mail: &OutboundMail) -> Result<String, SendError> {
        let key = store::layout::outbox(&mail.message_id);
        match self
            .store
            .put_new(&key, mail.raw.clone(), "message/rfc822")
            .await
        {
            Ok(_) | Err(StoreError::Conflict { .. }) => Ok(mail.message_id.clone()),
            Err(e) => Err(SendError {
                message: format!("cannot write {key}: {e}"),
                retryable: true,
                fix: "check the local store directory".into(),
            }),
        }
    }
}
