//! Ingest: raw mail + receipt facts -> parse -> decide -> find the session -> store once.
//!
//! Safe under at-least-once delivery and concurrency because every write is either create-once
//! under a key derived from the message's identity, or a compare-and-swap on the session
//! document. Order of writes: message body and attachments, then the session (the commit
//! point), then the indexes; a crash anywhere is repaired by the retry, which finds the same
//! keys.

use mail::{Disposition, InboundMessage, ParseOptions};
use serde::{Deserialize, Serialize};
use store::session::{AttachmentRef, Direction, MessageEntry, Session, SessionState};
use store::sessions::{IdEntry, Sessions};
use store::{MessageKey, ObjectStore, SessionId, StoreError, Update, layout};

/// Settings of the ingest use-case.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The company's own mail domains (forwards from these are attributed to the original sender).
    pub internal_domains: Vec<String>,
    /// Our own addresses (the support address, the sending address): mail from them is a loop.
    pub own_addresses: Vec<String>,
    /// Routes and triage rules: a new session records the route its first message came in on.
    pub routing: crate::routing::Routing,
    /// The flood breaker's limits.
    pub flood: crate::flood::FloodLimits,
}

/// An SES verdict (`PASS`, `FAIL`, `GRAY`, `PROCESSING_FAILED`, `DISABLED`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict(pub String);

impl Verdict {
    fn failed(v: &Option<Verdict>) -> bool {
        v.as_ref().is_some_and(|v| v.0.eq_ignore_ascii_case("FAIL"))
    }
}

/// Facts about how the mail was received.
#[derive(Debug, Clone, Default)]
pub struct Receipt {
    /// SES's id of the received mail (the `raw/` object name); for local files, a content hash.
    pub ses_message_id: String,
    /// When it was received (seconds since the epoch).
    pub received_at: i64,
    /// SES spam verdict.
    pub spam: Option<Verdict>,
    /// SES virus verdict.
    pub virus: Option<Verdict>,
    /// SES's envelope recipients (`receipt.recipients`): the addresses that received it.
    pub recipients: Vec<String>,
}

/// What ingest did with a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// The session it was filed into (`None` when not filed).
    pub session_id: Option<String>,
    /// `customer` when filed, else why not: `auto_reply`, `bounce`, `forwarding_confirmation`,
    /// `spam`, `virus`, `loop`, `no_sender`.
    pub disposition: String,
    /// Human-readable reason for the disposition.
    pub reason: String,
    /// This call created the session.
    pub new_session: bool,
    /// The message was already stored (a redelivery); nothing changed.
    pub duplicate: bool,
    /// The session was already handed off: the message waits to reach the case as a note.
    pub followup: bool,
    /// The message's stable key.
    pub message_key: String,
    /// The sender floods (see [`crate::flood`]): stored, but no acknowledgement and no
    /// automatic handoff.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub flood: bool,
    /// This message tripped the flood breaker (announced once).
    #[serde(skip)]
    pub flood_tripped: bool,
}

/// Why ingest could not complete; always worth a retry (parsing never fails).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Reading or writing the store failed.
    #[error("session store")]
    Store(#[from] StoreError),
    /// The handoff queue refused a notice (the retry finds the mail filed and sends again).
    #[error("handoff queue")]
    Queue(#[from] crate::ports::PortError),
}

/// What [`file_message`] did, with the session as written (when filed) for the steps after.
#[derive(Debug, Clone)]
pub struct Filed {
    /// The outcome.
    pub outcome: Outcome,
    /// The session the message is in.
    pub session: Option<Session>,
    /// Sender and subject, for the `Mail Not Filed` event.
    pub from: Option<mail::Mailbox>,
    /// Subject.
    pub subject: Option<String>,
}

/// A record of mail that was not filed, kept so an operator can find it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UnfiledRecord {
    /// SES id of the raw mail.
    pub ses_message_id: String,
    /// Message-ID header.
    pub message_id: Option<String>,
    /// Sender.
    pub from: Option<mail::Mailbox>,
    /// Subject.
    pub subject: Option<String>,
    /// Why it was not filed (see [`Outcome::disposition`]).
    pub disposition: String,
    /// The reason in words.
    pub reason: String,
    /// RFC 3339 UTC receive time.
    pub received_at: String,
    /// The code and link of a forwarding confirmation.
    pub forwarding_confirmation: Option<mail::ForwardingConfirmation>,
}

/// File one raw message.
pub async fn run<O: ObjectStore>(
    sessions: &Sessions<O>,
    raw: &[u8],
    receipt: &Receipt,
    cfg: &Config,
) -> Result<Outcome, IngestError> {
    Ok(file_message(sessions, raw, receipt, cfg).await?.outcome)
}

/// File one raw message and return the session it landed in (see [`crate::inbound`] for the
/// notices and events that follow).
#[tracing::instrument(skip_all, fields(ses_message_id = %receipt.ses_message_id))]
pub async fn file_message<O: ObjectStore>(
    sessions: &Sessions<O>,
    raw: &[u8],
    receipt: &Receipt,
    cfg: &Config,
) -> Result<Filed, IngestError> {
    let opts = ParseOptions {
        internal_domains: cfg.internal_domains.clone(),
        received_at: Some(receipt.received_at),
    };
    let mut msg = mail::parse(raw, &opts);
    let key = String::from(MessageKey::of_inbound(
        msg.message_id.as_deref(),
        &receipt.ses_message_id,
    ));
    // Our forwarding connection test coming back: mark the channel Active, file nothing.
    if let Some(token) = msg.subject.as_deref().and_then(crate::channel::test_token)
        && crate::channel::observe(sessions, token, receipt.received_at).await?
    {
        let reason = "forwarding connection test received; the email channel is Active".to_string();
        record_unfiled(sessions, &msg, receipt, &key, "connection_test", &reason).await?;
        tracing::info!(message_key = %key, "connection test received");
        return Ok(not_filed_outcome(
            &msg,
            key,
            "connection_test".into(),
            reason,
        ));
    }
    let own_entry = match &msg.message_id {
        Some(id) => sessions.find_message_id(id).await?,
        None => None,
    };
    let (looped, own_session) = own_mail_back(sessions, &msg, own_entry.as_ref()).await?;
    if let Some((disposition, reason)) = looped.or_else(|| not_filed(&msg, receipt, cfg)) {
        record_unfiled(sessions, &msg, receipt, &key, &disposition, &reason).await?;
        tracing::info!(message_key = %key, disposition = %disposition, "not filed");
        return Ok(not_filed_outcome(&msg, key, disposition, reason));
    }
    // Boxed: the filing future is large (threading, merging), and Lambda's worker threads have
    // 2 MiB stacks.
    // The files are stored on their own: moved out here, they are not copied for the upload.
    let contents = msg
        .attachments
        .iter_mut()
        .map(|a| std::mem::take(&mut a.content))
        .collect();
    let (mut outcome, session) = Box::pin(file(
        sessions,
        &msg,
        contents,
        receipt,
        cfg,
        key,
        Own {
            entry: own_entry,
            session: own_session,
        },
    ))
    .await?;
    if let Some(why) = &msg.customer_unknown {
        outcome.reason = format!("filed; {why}");
    }
    Ok(Filed {
        outcome,
        session: Some(session),
        from: msg.from.clone(),
        subject: msg.subject.clone(),
    })
}

fn not_filed_outcome(
    msg: &InboundMessage,
    key: String,
    disposition: String,
    reason: String,
) -> Filed {
    Filed {
        outcome: Outcome {
            session_id: None,
            disposition,
            reason,
            new_session: false,
            duplicate: false,
            followup: false,
            message_key: key,
            flood: false,
            flood_tripped: false,
        },
        session: None,
        from: msg.from.clone(),
        subject: msg.subject.clone(),
    }
}

/// Every address the message was written or delivered to, lower-cased, without duplicates:
/// To, Cc, the forwarding headers, then SES's recipients. Routes match against these.
pub fn recipients_of(msg: &InboundMessage, receipt: &Receipt) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let header = msg
        .to
        .iter()
        .chain(msg.cc.iter())
        .map(|m| m.address.clone());
    let rest = msg
        .delivered_to
        .iter()
        .chain(receipt.recipients.iter())
        .cloned();
    for a in header.chain(rest) {
        let a = mail::normalise_address(&a);
        if !a.is_empty() && !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

/// Our own mail coming back at us — it carries our `X-Mailcase-Session` header, or its
/// Message-ID is one we sent — is a loop, never a case. Also returns the session the
/// message's own id points at, when it read it (the redelivery check uses it: one read).
async fn own_mail_back<O: ObjectStore>(
    sessions: &Sessions<O>,
    msg: &InboundMessage,
    own_entry: Option<&IdEntry>,
) -> Result<(Option<(String, String)>, Option<Session>), StoreError> {
    if let Some(sid) = &msg.mailcase_session {
        return Ok((
            Some((
                "loop".into(),
                format!("carries our own X-Mailcase-Session header ({sid})"),
            )),
            None,
        ));
    }
    let (Some(id), Some(e)) = (&msg.message_id, own_entry) else {
        return Ok((None, None));
    };
    let session = sessions.load(&e.session_id).await?;
    let ours = session.as_ref().is_some_and(|s| {
        s.messages.iter().any(|m| {
            m.direction == Direction::Outbound
                && (m.message_id.as_deref() == Some(id.as_str())
                    || e.message_key.as_deref() == Some(m.key.as_str()))
        })
    });
    let looped = ours.then(|| {
        (
            "loop".into(),
            "its Message-ID is one of the messages we sent".into(),
        )
    });
    Ok((looped, session))
}

/// Why a message is not filed into a customer session, if it is not.
fn not_filed(msg: &InboundMessage, receipt: &Receipt, cfg: &Config) -> Option<(String, String)> {
    if Verdict::failed(&receipt.virus) {
        return Some(("virus".into(), "SES virus verdict FAIL".into()));
    }
    if Verdict::failed(&receipt.spam) {
        return Some(("spam".into(), "SES spam verdict FAIL".into()));
    }
    // The disposition comes before the loop check: a forwarding confirmation for our own
    // address must still be recorded as one.
    if msg.disposition != Disposition::Customer {
        return Some((
            msg.disposition.as_str().into(),
            msg.disposition_reason.clone(),
        ));
    }
    // A sender whose address is nobody's (empty local part or domain) is filed with the
    // customer unknown and the reason on the message (`customer_unknown`); only mail without
    // any sender address is not filed.
    if msg.customer.as_ref().is_none_or(|c| c.address.is_empty()) && msg.customer_unknown.is_none()
    {
        return Some((
            "no_sender".into(),
            "no sender address to reply to or link a contact with".into(),
        ));
    }
    let from = msg.from.as_ref().map(|m| m.address.as_str()).unwrap_or("");
    if !from.is_empty()
        && cfg
            .own_addresses
            .iter()
            .any(|a| mail::normalise_address(a) == from)
    {
        return Some(("loop".into(), "sent from our own address".into()));
    }
    None
}

async fn record_unfiled<O: ObjectStore>(
    sessions: &Sessions<O>,
    msg: &InboundMessage,
    receipt: &Receipt,
    key: &str,
    disposition: &str,
    reason: &str,
) -> Result<(), StoreError> {
    let record = UnfiledRecord {
        ses_message_id: receipt.ses_message_id.clone(),
        message_id: msg.message_id.clone(),
        from: msg.from.clone(),
        subject: msg.subject.clone(),
        disposition: disposition.to_string(),
        reason: reason.to_string(),
        received_at: mail::rfc3339_utc(receipt.received_at),
        forwarding_confirmation: msg.forwarding_confirmation.clone(),
    };
    sessions.put_once_json(&layout::unfiled(key), &record).await
}

/// What the loop check read about the message's own id: its index entry and that session.
struct Own {
    entry: Option<IdEntry>,
    session: Option<Session>,
}

async fn file<O: ObjectStore>(
    sessions: &Sessions<O>,
    msg: &InboundMessage,
    contents: Vec<Vec<u8>>,
    receipt: &Receipt,
    cfg: &Config,
    key: String,
    own: Own,
) -> Result<(Outcome, Session), IngestError> {
    let Own {
        entry: own_entry,
        session: own_session,
    } = own;
    // Fast path for a redelivery: the message is indexed and in its session already.
    // A follow-up still pending is reported again, so a notice lost to a failed send goes out
    // on the retry.
    if let Some(IdEntry {
        session_id,
        message_key: Some(k),
    }) = &own_entry
        && *k == key
        && let Some(s) = own_session.filter(|s| &s.id == session_id)
        && s.contains(&key)
        && s.merged_into.is_none()
    {
        let pending = s.pending_followups.contains(&key);
        return Ok((outcome(session_id, &key, false, true, pending), s));
    }
    let mut related_to = None;
    // What this call already read of the session it files into: the commit's first read.
    let mut seed = store::Seed::Read;
    let found = match own_entry {
        Some(e) => Some(e.session_id),
        None => match find_session(sessions, msg).await? {
            // Sender-bound: a header or token match from a stranger starts its own session.
            // A redirect is followed first: the thread and its people live where it points.
            Some((sid, by)) if by != Match::Subject => {
                match crate::merge::load_resolved_seeded(sessions, &sid).await? {
                    (Some(s), _) if !crate::threading::may_join(&s, msg, &cfg.internal_domains) => {
                        let sid = s.id.clone();
                        tracing::info!(pointed_at = %sid, "a stranger's message pointed at another thread; it starts its own session");
                        related_to = Some(
                            s.handoff
                                .as_ref()
                                .map(|h| format!("{} (session {sid})", h.dynamics365_ticket_number))
                                .unwrap_or(sid),
                        );
                        None
                    }
                    (Some(s), read) => {
                        seed = read;
                        Some(s.id)
                    }
                    (None, _) => Some(sid),
                }
            }
            other => other.map(|(sid, _)| sid),
        },
    };
    let starts_thread = found.is_none();
    // A new session claims the message's own id while it is created: not claimed again below.
    let mut own_claimed_by = None;
    let session_id = match found {
        Some(s) => s,
        None if related_to.is_some() => claim_related_session(sessions, msg, &key).await?,
        None => {
            let (sid, own_claimed) = claim_new_session(sessions, msg, &key).await?;
            if own_claimed {
                // Its claims all held: nobody has written this session yet.
                seed = store::Seed::Absent;
                own_claimed_by = Some(sid.clone());
            }
            sid
        }
    };
    // A session merged into another is a redirect: the commit below follows it.
    let mut session_id = session_id;

    // Bodies first: a crash after this leaves only objects the retry writes again.
    let mut attachments = Vec::with_capacity(msg.attachments.len());
    for (i, (a, content)) in msg.attachments.iter().zip(contents).enumerate() {
        let akey = layout::attachment(&session_id, &key, i, &a.filename);
        let sha256 = store::ids::sha256_hex_bytes(&content);
        sessions.put_once(&akey, content, &a.content_type).await?;
        attachments.push(AttachmentRef {
            filename: a.filename.clone(),
            content_type: a.content_type.clone(),
            size: a.size,
            inline: a.inline,
            winmail: a.winmail,
            key: akey,
            sha256: Some(sha256),
            content_id: a.content_id.clone(),
            referenced: a.referenced,
        });
    }
    // The message JSON never holds the files (`Attachment::content` is not serialised).
    sessions
        .put_once_json(&layout::message(&session_id, &key), msg)
        .await?;

    let entry = MessageEntry {
        key: key.clone(),
        message_id: msg.message_id.clone(),
        direction: Direction::Inbound,
        date: msg.date.clone(),
        timestamp: msg.timestamp,
        from: msg.from.clone(),
        subject: msg.subject.clone(),
        reply_text: msg.reply_text.clone(),
        attachments,
        after_handoff: false,
        ses_message_id: Some(receipt.ses_message_id.clone()),
    };
    let sender = msg
        .customer
        .as_ref()
        .or(msg.from.as_ref())
        .map(|m| m.address.clone())
        .unwrap_or_default();
    let verdict = crate::flood::record(
        sessions,
        &cfg.flood,
        &sender,
        starts_thread,
        &msg.reply_text,
        receipt.received_at,
    )
    .await?;
    if verdict.tripped {
        tracing::warn!(session_id = %session_id, "flood breaker tripped for this sender: later mail is stored but gets no acknowledgement and no automatic handoff");
    }
    let recipients = recipients_of(msg, receipt);
    let mut ours: Vec<String> = cfg.own_addresses.clone();
    ours.extend(recipients_of_ours(msg, receipt));
    ours.extend(cfg.routing.routes().iter().map(|r| r.address.clone()));
    let arrival = Arrival {
        route: cfg.routing.route_for(&recipients).address.clone(),
        recipients,
        received_at: receipt.received_at,
        participants: crate::threading::participants_of(msg, &ours, &cfg.internal_domains),
        related_to: related_to.clone(),
        flood: verdict.flood,
    };
    let mut hops = 0;
    let (created, mut followup, duplicate, mut session) = loop {
        hops += 1;
        let done = sessions
            .update_seeded(&session_id, std::mem::take(&mut seed), |current| {
                commit(current, &session_id, msg, entry.clone(), &arrival)
            })
            .await?;
        match done {
            Committed::Done(c, f, d, s) => break (c, f, d, *s),
            // Merged away between the lookup and the write: follow the redirect.
            Committed::Redirect(next)
                if next != session_id && hops < crate::merge::MAX_COMMIT_HOPS =>
            {
                session_id = next
            }
            Committed::Redirect(next) => {
                return Err(StoreError::Backend(
                    format!("session {session_id} redirects to {next}: a cycle").into(),
                )
                .into());
            }
        }
    };

    // Indexes last. Ids this message only references are claimed too, so a parent that
    // arrives after its reply finds this session.
    let mut holders: Vec<String> = Vec::new();
    if let Some(id) = &msg.message_id
        && own_claimed_by.as_ref() != Some(&session_id)
    {
        let mine = IdEntry {
            session_id: session_id.clone(),
            message_key: Some(key.clone()),
        };
        holders.push(sessions.claim_message_id(id, &mine).await?.session_id);
    }
    // A message that joins with another subject (the first reply the thread got under a new
    // subject, or the original arriving after its reply) indexes its own subject too, so later
    // mail that only shares that subject finds the thread.
    // A new session indexes its subject the same way (never blindly overwriting: the entry
    // it replaces may be another new session of this thread, created at the same moment).
    if session.state == SessionState::Open
        && session.related_to.is_none()
        && let Some(customer) = &msg.customer
    {
        let mine = mail::subject::subject_key(&msg.thread_subject);
        if !mine.is_empty()
            && !customer.address.is_empty()
            && (created || mine != mail::subject::subject_key(&session.thread_subject))
        {
            // Atomic swap: the entry this write replaced is the prior holder.
            let target = store::sessions::SubjectEntry {
                session_id: session_id.clone(),
            };
            let prior: Option<store::sessions::SubjectEntry> = store::update_json(
                sessions.objects(),
                &layout::subject_index(&customer.address, &mine),
                store::sessions::UPDATE_ATTEMPTS,
                |cur: Option<store::sessions::SubjectEntry>| {
                    if cur.as_ref() == Some(&target) {
                        Update::Keep(None)
                    } else {
                        Update::Write(target.clone(), cur)
                    }
                },
            )
            .await?;
            // Another open session of this customer under that subject started meanwhile (a
            // message that only shares the subject, arriving before this one): one thread.
            // One claimed but not written yet is being created this moment: merged too (it
            // becomes a redirect here).
            if let Some(p) = prior
                && p.session_id != session_id
            {
                let (other, joins) =
                    match crate::merge::load_resolved(sessions, &p.session_id).await? {
                        None => (p.session_id, true),
                        Some(o) => {
                            let joins = o.id != session_id
                                && o.state == SessionState::Open
                                && o.related_to.is_none();
                            (o.id, joins)
                        }
                    };
                if joins {
                    followup |= merge_with(sessions, &mut session_id, &mut session, &other).await?;
                }
            }
        }
    }
    if created && session.related_to.is_none() {
        let phantom = IdEntry {
            session_id: session_id.clone(),
            message_key: None,
        };
        for id in referenced_ids(msg) {
            sessions.claim_message_id(id, &phantom).await?;
        }
    }
    // One thread, one session: the sessions holding this message's own id, its parent and its
    // root are merged when they differ (a thread whose messages arrived out of order).
    if session.related_to.is_none() {
        let mut linked: Vec<&String> = msg.in_reply_to.iter().collect();
        if let Some(root) = msg.references.first()
            && !linked.contains(&root)
        {
            linked.push(root);
        }
        for id in linked {
            match sessions.find_message_id(id).await? {
                Some(e) => holders.push(e.session_id),
                // Not seen yet: claimed for this thread, so the parent (or the root) finds it
                // when it arrives, whichever session this message joined.
                None => {
                    let phantom = IdEntry {
                        session_id: session_id.clone(),
                        message_key: None,
                    };
                    holders.push(sessions.claim_message_id(id, &phantom).await?.session_id);
                }
            }
        }
        holders.dedup();
        for other in holders {
            if other == session_id {
                continue;
            }
            let other = crate::merge::resolve(sessions, &other).await?;
            if other != session_id {
                followup |= merge_with(sessions, &mut session_id, &mut session, &other).await?;
            }
        }
    }
    tracing::info!(session_id = %session_id, message_key = %key, new_session = created, duplicate, followup, route = ?session.route, flood = verdict.flood, "filed");
    let mut out = outcome(&session_id, &key, created, duplicate, followup);
    out.flood = verdict.flood;
    out.flood_tripped = verdict.tripped;
    Ok((out, session))
}

/// Merge session `session_id` (whose latest read is `session`) with `other`: both are moved to
/// the session that is kept, and re-read. True when the merge left mail to deliver to a case.
async fn merge_with<O: ObjectStore>(
    sessions: &Sessions<O>,
    session_id: &mut String,
    session: &mut Session,
    other: &str,
) -> Result<bool, StoreError> {
    let merged = Box::pin(crate::merge::merge(sessions, session_id, other)).await?;
    *session_id = merged.into;
    if let Some(s) = sessions.load(session_id).await? {
        *session = s;
    }
    Ok(merged.new_followups)
}

/// What the session update did: (created, followup, duplicate, the session as written), or the
/// session was merged into another.
enum Committed {
    Done(bool, bool, bool, Box<Session>),
    Redirect(String),
}

/// How a message arrived: what a new session records.
struct Arrival {
    route: String,
    recipients: Vec<String>,
    received_at: i64,
    participants: Vec<store::session::Participant>,
    related_to: Option<String>,
    flood: bool,
}

/// Addresses that are ours by how the mail reached us: the forwarding targets and SES's
/// envelope recipients.
fn recipients_of_ours(msg: &InboundMessage, receipt: &Receipt) -> Vec<String> {
    msg.delivered_to
        .iter()
        .chain(receipt.recipients.iter())
        .map(|a| mail::normalise_address(a))
        .collect()
}

/// The session update: create, append, or recognise a duplicate. Returns (created, followup,
/// duplicate, the session as written).
fn commit(
    current: Option<Session>,
    session_id: &str,
    msg: &InboundMessage,
    mut entry: MessageEntry,
    arrival: &Arrival,
) -> Update<Session, Committed> {
    match current {
        Some(session) if session.merged_into.is_some() => {
            Update::Keep(Committed::Redirect(session.merged_into.unwrap_or_default()))
        }
        None => {
            let session = Session {
                customer: msg.customer.clone(),
                subject: msg.subject.clone().unwrap_or_default(),
                thread_subject: msg.thread_subject.clone(),
                messages: vec![entry],
                route: Some(arrival.route.clone()),
                recipients: arrival.recipients.clone(),
                last_inbound_at: Some(arrival.received_at),
                participants: arrival.participants.clone(),
                related_to: arrival.related_to.clone(),
                flood: arrival.flood,
                ..Session::new(session_id, &msg.date)
            };
            Update::Write(
                session.clone(),
                Committed::Done(true, false, false, Box::new(session)),
            )
        }
        Some(session) if session.contains(&entry.key) => {
            let pending = session.pending_followups.contains(&entry.key);
            Update::Keep(Committed::Done(false, pending, true, Box::new(session)))
        }
        Some(mut session) => {
            let followup = session.state == SessionState::HandedOff;
            if followup {
                entry.after_handoff = true;
                session.pending_followups.push(entry.key.clone());
            }
            session.insert(entry);
            // Only the thread's first message names the customer; later senders are `from`.
            let joined: Vec<_> = arrival
                .participants
                .iter()
                .cloned()
                .map(|mut p| {
                    if p.role == "customer" {
                        p.role = "from".into();
                    }
                    p
                })
                .collect();
            session.add_participants(&joined);
            session.flood |= arrival.flood;
            session.last_inbound_at = Some(
                session
                    .last_inbound_at
                    .map_or(arrival.received_at, |t| t.max(arrival.received_at)),
            );
            Update::Write(
                session.clone(),
                Committed::Done(false, followup, false, Box::new(session)),
            )
        }
    }
}

fn outcome(session_id: &str, key: &str, created: bool, duplicate: bool, followup: bool) -> Outcome {
    Outcome {
        session_id: Some(session_id.to_string()),
        disposition: "customer".into(),
        reason: "filed".into(),
        new_session: created,
        duplicate,
        followup,
        message_key: key.to_string(),
        flood: false,
        flood_tripped: false,
    }
}

/// A message that starts a thread claims, before anything is written, its own Message-ID and the
/// ids it references for the new session (create-once). A concurrent parent or reply that
/// claimed one of them first wins: this message joins that session instead, and the ids it had
/// already claimed are pointed there too. So a reply ingested at the same moment as its parent
/// never splits the thread. A claim left by a crash points at a session the retry creates.
/// Returns the session to file into and whether the message's own id is claimed for it.
async fn claim_new_session<O: ObjectStore>(
    sessions: &Sessions<O>,
    msg: &InboundMessage,
    key: &str,
) -> Result<(String, bool), StoreError> {
    // Named after the thread's root (the oldest id it references, as the first message itself
    // would be named), so messages of one thread that arrive together agree on the session
    // before anything is stored; the claims below cover replies that reference only their
    // immediate parent.
    let root_key = match msg.references.first().or(msg.in_reply_to.as_ref()) {
        Some(root) => MessageKey::of_message_id(root).into(),
        None => key.to_string(),
    };
    let candidate = String::from(SessionId::derive(&root_key));
    // A new session also claims its customer + thread subject, so two messages of one thread
    // (or two first messages with the same customer and subject) ingested at the same instant
    // make one session: the later joins whichever claimed first.
    if let Some(winner) = claim_subject(sessions, msg, &candidate).await? {
        return Ok((winner, false));
    }
    let mut claimed: Vec<(&String, IdEntry)> = Vec::new();
    let own = msg.message_id.iter().map(|id| (id, Some(key.to_string())));
    let refs = referenced_ids(msg).into_iter().map(|id| (id, None));
    for (id, message_key) in own.chain(refs) {
        let mine = IdEntry {
            session_id: candidate.clone(),
            message_key,
        };
        let held = sessions.claim_message_id(id, &mine).await?;
        if held.session_id != candidate {
            let winner = held.session_id;
            for (earlier, entry) in claimed {
                let moved = IdEntry {
                    session_id: winner.clone(),
                    message_key: entry.message_key.clone(),
                };
                store::update_json(
                    sessions.objects(),
                    &layout::message_id_index(earlier),
                    20,
                    |cur: Option<IdEntry>| match cur {
                        Some(c) if c == entry => Update::Write(moved.clone(), ()),
                        _ => Update::Keep(()),
                    },
                )
                .await?;
            }
            return Ok((winner, false));
        }
        claimed.push((id, mine));
    }
    Ok((candidate, msg.message_id.is_some()))
}

/// Claim the customer + thread subject for `candidate` (create-once). Returns the session to
/// join when another new session claimed it first and is still open (or not yet written).
async fn claim_subject<O: ObjectStore>(
    sessions: &Sessions<O>,
    msg: &InboundMessage,
    candidate: &str,
) -> Result<Option<String>, StoreError> {
    let Some(customer) = msg.customer.as_ref().filter(|c| !c.address.is_empty()) else {
        return Ok(None);
    };
    let subject_key = mail::subject::subject_key(&msg.thread_subject);
    if subject_key.is_empty() {
        return Ok(None);
    }
    let key = layout::subject_index(&customer.address, &subject_key);
    let mine = store::sessions::SubjectEntry {
        session_id: candidate.to_string(),
    };
    let bytes = serde_json::to_vec(&mine).map_err(|e| StoreError::Backend(e.to_string().into()))?;
    match sessions
        .objects()
        .put_new(&key, bytes, "application/json")
        .await
    {
        Ok(_) => Ok(None),
        Err(StoreError::Conflict { .. }) => {
            let Some(held) = sessions
                .get_json::<store::sessions::SubjectEntry>(&key)
                .await?
            else {
                return Ok(None);
            };
            if held.session_id == candidate {
                return Ok(None);
            }
            match sessions.load(&held.session_id).await? {
                // Being created by a concurrent first message, or open: one thread.
                None => Ok(Some(held.session_id)),
                Some(s) if s.state == SessionState::Open => Ok(Some(held.session_id)),
                // A closed thread with the same subject: this one starts anew (set_subject
                // points the index here after the commit).
                Some(_) => Ok(None),
            }
        }
        Err(e) => Err(e),
    }
}

/// A stranger's message that pointed at another thread: its own session, named after the
/// message itself, claiming only its own Message-ID (the ids it references belong to the other
/// thread).
async fn claim_related_session<O: ObjectStore>(
    sessions: &Sessions<O>,
    msg: &InboundMessage,
    key: &str,
) -> Result<String, StoreError> {
    let candidate = String::from(SessionId::derive(&format!("related:{key}")));
    if let Some(id) = &msg.message_id {
        let mine = IdEntry {
            session_id: candidate.clone(),
            message_key: Some(key.to_string()),
        };
        return Ok(sessions.claim_message_id(id, &mine).await?.session_id);
    }
    Ok(candidate)
}

/// In-Reply-To first, then References newest first; at most 20 ids.
fn referenced_ids(msg: &InboundMessage) -> Vec<&String> {
    let mut ids: Vec<&String> = Vec::new();
    for id in msg.in_reply_to.iter().chain(msg.references.iter().rev()) {
        if !ids.contains(&id) && Some(id) != msg.message_id.as_ref() {
            ids.push(id);
        }
    }
    ids.truncate(20);
    ids
}

/// Threading order (DESIGN.md): referenced ids, then a session token in the subject or body,
/// then the same customer with the same thread subject while that session is open.
/// How a message matched a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Match {
    Header,
    Token,
    Subject,
}

async fn find_session<O: ObjectStore>(
    sessions: &Sessions<O>,
    msg: &InboundMessage,
) -> Result<Option<(String, Match)>, StoreError> {
    for id in referenced_ids(msg) {
        if let Some(e) = sessions.find_message_id(id).await? {
            return Ok(Some((e.session_id, Match::Header)));
        }
    }
    let subject = msg.subject.as_deref().unwrap_or("");
    for text in [subject, msg.text.as_str()] {
        if let Some(token) = crate::tokens::find_session_token(text)
            && sessions.load(token.as_str()).await?.is_some()
        {
            return Ok(Some((token.into(), Match::Token)));
        }
    }
    let Some(customer) = &msg.customer else {
        return Ok(None);
    };
    let subject_key = mail::subject::subject_key(&msg.thread_subject);
    if subject_key.is_empty() || customer.address.is_empty() {
        return Ok(None);
    }
    if let Some(hint) = sessions
        .find_subject(&customer.address, &subject_key)
        .await?
        && let Some(s) = sessions.load(&hint.session_id).await?
        && s.state == SessionState::Open
    {
        return Ok(Some((s.id, Match::Subject)));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::MemoryObjectStore;

    fn cfg() -> Config {
        Config {
            internal_domains: vec!["acme.com".into()],
            own_addresses: vec!["support@acme.com".into()],
            ..Config::default()
        }
    }

    fn receipt(id: &str) -> Receipt {
        Receipt {
            ses_message_id: id.into(),
            received_at: 1_700_000_000,
            ..Receipt::default()
        }
    }

    #[tokio::test]
    async fn sender_address_with_empty_local_part_is_filed_with_the_customer_unknown() {
        let sessions = Sessions::new(MemoryObjectStore::default());
        let raw = b"From: Agent <@example.com>\r\nTo: support@acme.com\r\nSubject: Help\r\n\
                    Message-ID: <e1@example.com>\r\n\r\nPlease call me back.\r\n";
        let out = run(&sessions, raw, &receipt("ses-e1"), &cfg())
            .await
            .expect("ingest");
        assert_eq!(out.disposition, "customer");
        assert!(out.reason.contains("empty local part"), "{}", out.reason);
        let id = out.session_id.expect("filed");
        let session = sessions.load(&id).await.expect("load").expect("session");
        assert_eq!(session.customer, None);
    }

    #[tokio::test]
    async fn mail_without_any_sender_address_is_still_not_filed() {
        let sessions = Sessions::new(MemoryObjectStore::default());
        let raw = b"From: Agent\r\nTo: support@acme.com\r\nSubject: Help\r\n\r\nHi\r\n";
        let out = run(&sessions, raw, &receipt("ses-e2"), &cfg())
            .await
            .expect("ingest");
        assert_eq!(out.disposition, "no_sender");
    }
}

#[cfg(test)]
mod loop_tests {
    use super::*;
    use store::MemoryObjectStore;

    #[tokio::test]
    async fn our_own_mail_coming_back_is_a_loop() {
        let sessions = Sessions::new(MemoryObjectStore::default());
        let cfg = Config::default();
        let receipt = Receipt {
            ses_message_id: "l1".into(),
            ..Receipt::default()
        };
        let raw = b"From: Someone <someone@client.example>\r\nSubject: Re: x [mc-0123456789abcdef]\r\n\
                    X-Mailcase-Session: mc-0123456789abcdef\r\nMessage-ID: <l1@acme.com>\r\n\r\nhello\r\n";
        let out = run(&sessions, raw, &receipt, &cfg).await.expect("ingest");
        assert_eq!(out.disposition, "loop");
        assert!(out.reason.contains("X-Mailcase-Session"), "{}", out.reason);
        assert!(sessions.list().await.expect("list").is_empty());
    }
}

#[cfg(test)]
mod request_budget {
    //! The S3 requests ingest spends per message (issue 14; the benchmark prints the same on
    //! moto), one by one; BENCHMARKS.md says why each is there.
    use super::*;
    use store::{CountingObjectStore, MemoryObjectStore};

    fn raw(id: &str, parent: Option<&str>) -> Vec<u8> {
        let mut s = format!(
            "From: Ana <ana@client.example>\r\nTo: support@acme.com\r\nSubject: Re: logs\r\n\
             Message-ID: <{id}>\r\nDate: Tue, 12 Mar 2024 10:15:00 +0000\r\n"
        );
        if let Some(p) = parent {
            s.push_str(&format!("In-Reply-To: <{p}>\r\nReferences: <{p}>\r\n"));
        }
        s.push_str("\r\nHere you go.\r\n");
        s.into_bytes()
    }

    async fn requests(
        sessions: &Sessions<CountingObjectStore<MemoryObjectStore>>,
        raw: &[u8],
        ses: &str,
    ) -> (Outcome, Vec<String>) {
        let receipt = Receipt {
            ses_message_id: ses.into(),
            received_at: 1_700_000_000,
            ..Receipt::default()
        };
        sessions.objects().counts.take_log();
        let out = run(sessions, raw, &receipt, &Config::default())
            .await
            .expect("ingest");
        (out, sessions.objects().counts.take_log())
    }

    #[tokio::test]
    async fn a_new_thread_a_reply_and_a_redelivery_spend_their_budget() {
        let sessions = Sessions::new(CountingObjectStore::new(MemoryObjectStore::default()));
        let (first, log) = requests(&sessions, &raw("r1@client.example", None), "s1").await;
        assert!(first.new_session);
        // own id, subject lookup and claim, own-id claim, message, flood GET + PUT, session,
        // subject re-read.
        assert_eq!(log.len(), 9, "new thread: {log:#?}");
        let (reply, log) = requests(
            &sessions,
            &raw("r2@client.example", Some("r1@client.example")),
            "s2",
        )
        .await;
        assert_eq!(reply.session_id, first.session_id);
        // own id, parent, session, message, flood GET + PUT, session, own-id claim, parent.
        assert_eq!(log.len(), 9, "reply: {log:#?}");
        let (again, log) = requests(
            &sessions,
            &raw("r2@client.example", Some("r1@client.example")),
            "s2",
        )
        .await;
        assert!(again.duplicate);
        assert_eq!(log.len(), 2, "redelivery: {log:#?}");
    }
}
