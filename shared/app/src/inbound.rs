//! One inbound message, end to end: file it ([`crate::ingest`]), then queue what follows —
//! the follow-up notice for mail on a handed-off session, the automatic handoff its route's
//! policy asks for — and announce it on the event bus. The ingest Lambda and `mailcase ingest`
//! both call [`process`].
//!
//! Automatic handoffs are requests of kind `auto` with the fixed handoff id `auto`, so every
//! notice of one session (redeliveries, concurrent messages, re-queued waits) lands on the same
//! incident. Notices are sent on every filing into an open session, duplicates included: a
//! notice lost to a failed send goes out on the retry, and an extra one costs a session read.

use serde_json::json;
use store::ObjectStore;
use store::session::{Session, SessionState};
use store::sessions::Sessions;

use crate::events;
use crate::handoff::Kind;
use crate::ingest::{Config, IngestError, Outcome, Receipt};
use crate::ports::{EventSink, HandoffQueue, announce};
use crate::routing::Policy;

/// SQS's longest message delay; longer quiet periods re-queue.
pub const MAX_DELAY: u64 = 900;

/// Where notices and events go.
#[derive(Clone, Copy)]
pub struct Outlets<'a> {
    /// The handoff queue (`HANDOFF_QUEUE_URL`); without it, follow-ups wait for the session's
    /// next request and automatic policies cannot act (logged).
    pub queue: Option<&'a dyn HandoffQueue>,
    /// The event bus.
    pub events: &'a dyn EventSink,
}

/// The body of an automatic handoff notice, due at `due_at`.
pub fn auto_notice(session_id: &str, due_at: i64) -> String {
    json!({"session_id": session_id, "kind": Kind::Auto, "due_at": due_at}).to_string()
}

/// The body of a follow-up notice.
pub fn followup_notice(session_id: &str) -> String {
    json!({"session_id": session_id, "kind": Kind::Followup}).to_string()
}

/// When the automatic handoff of `session` is due under `policy`, if it has one.
pub fn due_at(policy: Policy, session: &Session, received_at: i64) -> Option<i64> {
    let last = session
        .last_inbound_at
        .unwrap_or(received_at)
        .max(received_at);
    match policy {
        Policy::Manual => None,
        Policy::Immediate => Some(received_at),
        Policy::Quiet(n) => Some(last.saturating_add(n as i64)),
    }
}

/// File one raw message and queue and announce what follows.
pub async fn process<O: ObjectStore>(
    sessions: &Sessions<O>,
    raw: &[u8],
    receipt: &Receipt,
    cfg: &Config,
    out: Outlets<'_>,
) -> Result<Outcome, IngestError> {
    let filed = Box::pin(crate::ingest::file_message(sessions, raw, receipt, cfg)).await?;
    let outcome = filed.outcome;
    let Some(session) = filed.session else {
        if outcome.disposition != "connection_test" {
            let e = events::mail_not_filed(
                &outcome.message_key,
                filed.from.as_ref(),
                filed.subject.as_deref(),
                &outcome.disposition,
                &outcome.reason,
            );
            announce(out.events, &[e]).await;
        }
        return Ok(outcome);
    };
    if outcome.flood_tripped {
        let e = events::mail_not_filed(
            &outcome.message_key,
            filed.from.as_ref(),
            filed.subject.as_deref(),
            "flood",
            "the sender floods (too many new threads or the same text again and again): later mail is stored but gets no acknowledgement and no automatic handoff",
        );
        announce(out.events, &[e]).await;
    }
    if outcome.followup {
        send(
            out.queue,
            &session.id,
            &followup_notice(&session.id),
            0,
            "follow-up",
        )
        .await?;
    } else if session.state == SessionState::Open && !session.flood {
        let decision = crate::triage::decide(&cfg.routing, &session);
        if let Some(due) = due_at(decision.policy, &session, receipt.received_at) {
            let delay = (due - receipt.received_at).clamp(0, MAX_DELAY as i64) as u32;
            let body = auto_notice(&session.id, due);
            send(out.queue, &session.id, &body, delay, "automatic handoff").await?;
            tracing::info!(session_id = %session.id, policy = %decision.policy, due_at = due, "automatic handoff queued");
        }
    }
    let mut feed = Vec::new();
    if outcome.new_session {
        feed.push(events::session_created(&session, &outcome.message_key));
    }
    feed.push(events::message_filed(
        &session,
        &outcome.message_key,
        outcome.followup,
    ));
    announce(out.events, &feed).await;
    Ok(outcome)
}

async fn send(
    queue: Option<&dyn HandoffQueue>,
    session_id: &str,
    body: &str,
    delay: u32,
    what: &str,
) -> Result<(), IngestError> {
    match queue {
        Some(q) => Ok(q.send(body, delay).await?),
        None => {
            tracing::warn!(session_id = %session_id, notice = %what, "HANDOFF_QUEUE_URL is not set: the notice cannot be queued (a follow-up waits for the session's next handoff request; an automatic handoff does not happen)");
            Ok(())
        }
    }
}
