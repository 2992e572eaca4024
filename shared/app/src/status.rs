//! What mailcase did lately, read from the store alone (no CloudWatch): mail filed (new
//! sessions, replies, follow-ups), mail not filed by reason, rejected input by cause, handoffs
//! done and failed (with the error and the fix), follow-ups pending; plus the dead-letter
//! queue's depth and the email channel's state.
//!
//! It works because every failure is recorded: [`record_failure`] writes
//! `failures/<UTC time>-<kind>-<hash>.json` (create-once) with a stable cause code, the error
//! chain and the fix. The ingest handler records rejected input there, the handoff handler
//! every failed request ([`record_handoff_failure`]). Errors never carry secrets or tokens
//! (`DynamicsError` is built that way), so neither do the records.

use std::collections::BTreeMap;
use std::future::Future;

use serde::{Deserialize, Serialize};
use store::ids::sha256_hex;
use store::session::Direction;
use store::sessions::Sessions;
use store::{ObjectStore, StoreError};

use crate::handoff::{HandoffError, Request};
use crate::ingest::UnfiledRecord;
use store::layout::UNFILED_PREFIX;

use store::layout::FAILURES_PREFIX;

/// Examples kept per count, newest first.
pub const EXAMPLES: usize = 3;

/// Reasons mail is not filed; always listed, zero or not (others found are added).
pub const NOT_FILED_REASONS: &[&str] = &[
    "auto_reply",
    "bounce",
    "spam",
    "virus",
    "loop",
    "flood",
    "forwarding_confirmation",
];

/// One recorded failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureRecord {
    /// `handoff` or `ingest`.
    pub kind: String,
    /// Stable cause code (`missing_privilege`, `no_application_user`, `raw_mail_missing`...).
    pub cause: String,
    /// The error chain.
    pub error: String,
    /// The operator's fix.
    pub fix: String,
    /// Whether a retry can succeed (the queue retries, then the dead-letter queue holds it).
    pub retryable: bool,
    /// RFC 3339 UTC.
    pub at: String,
    /// Seconds since the epoch.
    pub timestamp: i64,
    /// The session, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The handoff request's idempotency key, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff_id: Option<String>,
    /// The SES receipt id, for ingest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ses_message_id: Option<String>,
}

/// A failure to record (see [`record_failure`]).
#[derive(Debug, Clone, Default)]
pub struct Failure<'a> {
    /// `handoff` or `ingest`.
    pub kind: &'a str,
    /// Stable cause code.
    pub cause: &'a str,
    /// The error chain.
    pub error: &'a str,
    /// The fix.
    pub fix: &'a str,
    /// Whether a retry can succeed.
    pub retryable: bool,
    /// The session, when known.
    pub session_id: Option<&'a str>,
    /// The handoff id, when given.
    pub handoff_id: Option<&'a str>,
    /// The SES receipt id, for ingest.
    pub ses_message_id: Option<&'a str>,
}

/// The key of a failure recorded at `at`: time first, so a listing is in time order and
/// `status --since` skips old records without reading them.
pub fn failure_key(f: &Failure<'_>, at: i64) -> String {
    let time: String = mail::rfc3339_utc(at)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let id = sha256_hex(&format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        f.kind,
        f.cause,
        f.session_id.unwrap_or(""),
        f.handoff_id.unwrap_or(""),
        f.ses_message_id.unwrap_or(""),
        f.error
    ));
    let kind: String = f
        .kind
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    store::layout::failure(&time, &kind, &id)
}

/// Record a failure under `failures/` (create-once: the same failure in the same second is
/// one record). Returns the key.
pub async fn record_failure<O: ObjectStore>(
    sessions: &Sessions<O>,
    f: &Failure<'_>,
    at: i64,
) -> Result<String, StoreError> {
    let key = failure_key(f, at);
    let record = FailureRecord {
        kind: f.kind.into(),
        cause: f.cause.into(),
        error: f.error.into(),
        fix: f.fix.into(),
        retryable: f.retryable,
        at: mail::rfc3339_utc(at),
        timestamp: at,
        session_id: f.session_id.map(str::to_string),
        handoff_id: f.handoff_id.map(str::to_string),
        ses_message_id: f.ses_message_id.map(str::to_string),
    };
    sessions.put_once_json(&key, &record).await?;
    Ok(key)
}

/// The cause code of a failed handoff request.
pub fn handoff_cause(e: &HandoffError) -> &'static str {
    match e {
        HandoffError::SessionNotFound(_) => "session_not_found",
        HandoffError::BadRequest(_) => "bad_request",
        HandoffError::Store(_) => "store_unavailable",
        HandoffError::Dynamics(d) => d.cause_code(),
    }
}

/// Record a failed handoff request; a store failure here is logged, never raised (the request
/// already failed, and its error is what the caller reports).
pub async fn record_handoff_failure<O: ObjectStore>(
    sessions: &Sessions<O>,
    req: &Request,
    e: &HandoffError,
    at: i64,
) {
    let error = crate::DisplayChain(e).to_string();
    let fix = e.fix();
    let f = Failure {
        kind: "handoff",
        cause: handoff_cause(e),
        error: &error,
        fix: &fix,
        retryable: e.is_retryable(),
        session_id: Some(req.session_id.as_str()).filter(|s| !s.is_empty()),
        handoff_id: req.handoff_id.as_deref(),
        ses_message_id: None,
    };
    if let Err(se) = record_failure(sessions, &f, at).await {
        tracing::warn!(error = %crate::DisplayChain(&se), "cannot record the handoff failure");
    }
}

/// The fix for input ingest rejects, by cause.
pub fn rejected_fix(cause: &str) -> &'static str {
    match cause {
        "raw_mail_missing" => {
            "Check that the receipt rule's S3 action (bucket, RAW_PREFIX) runs before its Lambda action and that ingest may s3:GetObject under raw/; then replay the event from the failed-invocations queue."
        }
        "not_ses_event" | "not_ses_record" => {
            "Only the SES receipt rule should invoke the ingest function: check what invoked it (the input is under rejected/)."
        }
        "unsafe_message_id" => {
            "SES sent a messageId that is not a plain object name; nothing to fix unless it repeats (the input is under rejected/)."
        }
        _ => "See the input under rejected/.",
    }
}

/// The dead-letter queue, for its depth. The CLI implements it with SQS; app stays SDK-free.
pub trait QueueDepth: Send + Sync {
    /// Messages waiting (`ApproximateNumberOfMessages`).
    fn depth(&self) -> impl Future<Output = Result<u64, String>> + Send;
}

/// No queue given: the depth is reported as unknown.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoQueue;

impl QueueDepth for NoQueue {
    async fn depth(&self) -> Result<u64, String> {
        Err("no dead-letter queue given (--dlq-url or HANDOFF_DLQ_URL)".into())
    }
}

/// One example behind a count.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Example {
    /// When (RFC 3339 UTC).
    pub at: String,
    /// Session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Message key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_key: Option<String>,
    /// SES receipt id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ses_message_id: Option<String>,
    /// Ticket number of the case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket_number: Option<String>,
    /// Handoff id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handoff_id: Option<String>,
    /// Cause code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// What happened (reason, error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// What to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// Failed attempts of this request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u64>,
    #[serde(skip)]
    ts: i64,
}

/// A count and its newest examples.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Count {
    /// How many.
    pub count: u64,
    /// The newest [`EXAMPLES`], newest first.
    pub latest: Vec<Example>,
}

impl Count {
    fn add(&mut self, e: Example) {
        self.count += 1;
        self.latest.push(e);
        self.latest.sort_by_key(|e| std::cmp::Reverse(e.ts));
        self.latest.truncate(EXAMPLES);
    }
}

/// Mail filed into sessions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Filed {
    /// Sessions started.
    pub new_sessions: Count,
    /// Later messages in open sessions.
    pub replies: Count,
    /// Messages on handed-off sessions (notes on the case, or a continuation).
    pub followups: Count,
}

/// Handoffs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Handoffs {
    /// Cases created.
    pub done: Count,
    /// Requests whose last attempt failed and that have not succeeded since.
    pub failed: Count,
    /// Failed attempts in all (retries included).
    pub failed_attempts: u64,
    /// Requests that failed, then succeeded.
    pub recovered: u64,
}

/// The dead-letter queue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeadLetters {
    /// Messages waiting, when read.
    pub depth: Option<u64>,
    /// Why it could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The email channel (forwarding test).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Channel {
    /// `active`, `waiting`, `failed`, `untested` or `unknown`.
    pub state: String,
    /// What was found.
    pub detail: String,
}

/// Everything `mailcase status` shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Start of the window (RFC 3339 UTC).
    pub since: String,
    /// End of the window.
    pub now: String,
    /// Mail filed.
    pub filed: Filed,
    /// Mail not filed, by reason.
    pub not_filed: BTreeMap<String, Count>,
    /// Rejected input, by cause.
    pub rejected: BTreeMap<String, Count>,
    /// Handoffs.
    pub handoffs: Handoffs,
    /// Follow-up messages still waiting to reach their case (now, whatever the window).
    pub followups_pending: Count,
    /// Dead-letter queue.
    pub dead_letter_queue: DeadLetters,
    /// Email channel.
    pub email_channel: Channel,
}

/// At most this many records are read per prefix.
const MAX_READ: usize = 5000;

/// Collect the report for `since..=now` (seconds since the epoch).
pub async fn collect<O: ObjectStore, Q: QueueDepth>(
    sessions: &Sessions<O>,
    dlq: &Q,
    since: i64,
    now: i64,
) -> Result<Report, StoreError> {
    let in_window = |ts: i64| ts >= since && ts <= now;
    let mut r = Report {
        since: mail::rfc3339_utc(since),
        now: mail::rfc3339_utc(now),
        ..Report::default()
    };
    for reason in NOT_FILED_REASONS {
        r.not_filed.insert((*reason).into(), Count::default());
    }
    // A session merged into another is a redirect: its messages are counted where they moved.
    let live = sessions.list_live().await?;
    let mut handed_off: BTreeMap<String, i64> = BTreeMap::new();
    for s in &live {
        let created = crate::time::parse_rfc3339(&s.created_at).unwrap_or(0);
        let first = s
            .messages
            .iter()
            .find(|m| m.direction == Direction::Inbound);
        let example = |at: &str, ts: i64| Example {
            at: at.to_string(),
            session_id: Some(s.id.clone()),
            ts,
            ..Example::default()
        };
        if in_window(created) {
            r.filed.new_sessions.add(Example {
                detail: s.previous_ticket.as_ref().map(|t| format!("continues {t}")),
                ..example(&s.created_at, created)
            });
        }
        for m in s
            .messages
            .iter()
            .filter(|m| m.direction == Direction::Inbound)
        {
            if !in_window(m.timestamp) || first.is_some_and(|f| f.key == m.key) {
                continue;
            }
            let e = Example {
                message_key: Some(m.key.clone()),
                ..example(&m.date, m.timestamp)
            };
            if m.after_handoff {
                r.filed.followups.add(e);
            } else {
                r.filed.replies.add(e);
            }
        }
        if let Some(h) = &s.handoff {
            let at = crate::time::parse_rfc3339(&h.handed_off_at).unwrap_or(0);
            handed_off.insert(s.id.clone(), at);
            if in_window(at) {
                r.handoffs.done.add(Example {
                    ticket_number: Some(h.dynamics365_ticket_number.clone()),
                    handoff_id: Some(h.handoff_id.clone()),
                    ..example(&h.handed_off_at, at)
                });
            }
        }
        for key in &s.pending_followups {
            let m = s.messages.iter().find(|m| &m.key == key);
            r.followups_pending.add(Example {
                message_key: Some(key.clone()),
                ..example(
                    m.map(|m| m.date.as_str()).unwrap_or(&s.last_activity),
                    m.map(|m| m.timestamp).unwrap_or(0),
                )
            });
        }
    }
    unfiled(sessions, &mut r, since, now).await?;
    failures(sessions, &mut r, &handed_off, since, now).await?;
    r.dead_letter_queue = match dlq.depth().await {
        Ok(n) => DeadLetters {
            depth: Some(n),
            error: None,
        },
        Err(e) => DeadLetters {
            depth: None,
            error: Some(e),
        },
    };
    r.email_channel = channel(sessions, now).await;
    Ok(r)
}

async fn unfiled<O: ObjectStore>(
    sessions: &Sessions<O>,
    r: &mut Report,
    since: i64,
    now: i64,
) -> Result<(), StoreError> {
    let keys = sessions.objects().list(UNFILED_PREFIX).await?;
    let start = keys.len().saturating_sub(MAX_READ);
    for key in keys[start..].iter().filter(|k| k.ends_with(".json")) {
        let Ok(Some(u)) = sessions.get_json::<UnfiledRecord>(key).await else {
            continue;
        };
        let ts = crate::time::parse_rfc3339(&u.received_at).unwrap_or(0);
        if ts < since || ts > now || u.disposition == "connection_test" {
            continue;
        }
        r.not_filed
            .entry(u.disposition.clone())
            .or_default()
            .add(Example {
                at: u.received_at.clone(),
                ses_message_id: Some(u.ses_message_id.clone()),
                detail: Some(u.reason.clone()),
                ts,
                ..Example::default()
            });
    }
    Ok(())
}

async fn failures<O: ObjectStore>(
    sessions: &Sessions<O>,
    r: &mut Report,
    handed_off: &BTreeMap<String, i64>,
    since: i64,
    now: i64,
) -> Result<(), StoreError> {
    let keys = sessions.objects().list(FAILURES_PREFIX).await?;
    // Keys start with the UTC time, digits only: compare as text.
    let from: String = mail::rfc3339_utc(since)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let recent: Vec<&String> = keys
        .iter()
        .filter(|k| {
            k.strip_prefix(FAILURES_PREFIX)
                .is_some_and(|rest| rest.get(..from.len()).is_some_and(|t| t >= from.as_str()))
        })
        .collect();
    let start = recent.len().saturating_sub(MAX_READ);
    // (session, handoff id) -> (attempts, newest record)
    let mut requests: BTreeMap<(String, String), (u64, FailureRecord)> = BTreeMap::new();
    for key in &recent[start..] {
        let Ok(Some(f)) = sessions.get_json::<FailureRecord>(key).await else {
            continue;
        };
        if f.timestamp < since || f.timestamp > now {
            continue;
        }
        match f.kind.as_str() {
            "handoff" => {
                r.handoffs.failed_attempts += 1;
                let id = (
                    f.session_id.clone().unwrap_or_default(),
                    f.handoff_id.clone().unwrap_or_default(),
                );
                let entry = requests.entry(id).or_insert_with(|| (0, f.clone()));
                entry.0 += 1;
                if f.timestamp >= entry.1.timestamp {
                    entry.1 = f;
                }
            }
            _ => {
                r.rejected.entry(f.cause.clone()).or_default().add(Example {
                    at: f.at.clone(),
                    ses_message_id: f.ses_message_id.clone(),
                    cause: Some(f.cause.clone()),
                    detail: Some(f.error.clone()),
                    fix: Some(f.fix.clone()),
                    ts: f.timestamp,
                    ..Example::default()
                });
            }
        }
    }
    for ((session, _), (attempts, f)) in requests {
        // A case created after the last failure means the request got through in the end.
        if handed_off
            .get(&session)
            .is_some_and(|at| *at >= f.timestamp)
        {
            r.handoffs.recovered += 1;
            continue;
        }
        r.handoffs.failed.add(Example {
            at: f.at.clone(),
            session_id: f.session_id.clone(),
            handoff_id: f.handoff_id.clone(),
            cause: Some(f.cause.clone()),
            detail: Some(f.error.clone()),
            fix: Some(f.fix.clone()),
            attempts: Some(attempts),
            ts: f.timestamp,
            ..Example::default()
        });
    }
    Ok(())
}

async fn channel<O: ObjectStore>(sessions: &Sessions<O>, now: i64) -> Channel {
    use crate::channel::ChannelStatus;
    let (state, detail) = match crate::channel::status(sessions, now).await {
        Ok(ChannelStatus::Active { seconds, at }) => (
            "active",
            format!("the forwarding test came back in {seconds} s (at {at})"),
        ),
        Ok(ChannelStatus::Waiting { seconds }) => (
            "waiting",
            format!("the forwarding test was sent {seconds} s ago"),
        ),
        Ok(ChannelStatus::Failed { seconds, fix }) => (
            "failed",
            format!("the forwarding test sent {seconds} s ago never came back: {fix}"),
        ),
        Ok(ChannelStatus::Untested) => {
            ("untested", "run `mailcase verify --send-test`".to_string())
        }
        Err(e) => ("unknown", format!("cannot read the channel state: {e}")),
    };
    Channel {
        state: state.into(),
        detail,
    }
}

/// Parse a `--since` duration: `90s`, `30m`, `24h`, `7d` (a bare number is hours).
pub fn parse_since(s: &str) -> Option<i64> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (s.get(..i)?, s.get(i..)?),
        None => (s, "h"),
    };
    let n: i64 = num.parse().ok()?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(secs).filter(|v| *v > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::MemoryObjectStore;

    #[test]
    fn since_durations() {
        let cases = [
            ("24h", Some(86_400)),
            ("90s", Some(90)),
            ("30m", Some(1800)),
            ("7d", Some(604_800)),
            ("2", Some(7200)),
            ("0h", None),
            ("h", None),
            ("5w", None),
            ("", None),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_since(input), expected, "{input:?}");
        }
    }

    #[tokio::test]
    async fn failures_are_counted_by_request_and_recovered_ones_apart() {
        let sessions = Sessions::new(MemoryObjectStore::default());
        let f = |cause: &'static str, sid: &'static str| Failure {
            kind: "handoff",
            cause,
            error: "Dynamics: missing privilege prvCreateIncident on incident",
            fix: "Give the application user's security role the prvCreateIncident privilege",
            retryable: false,
            session_id: Some(sid),
            ..Failure::default()
        };
        let at = 1_710_238_500;
        for i in 0..3 {
            record_failure(&sessions, &f("missing_privilege", "mc-a"), at + i)
                .await
                .expect("record");
        }
        // The same failure twice in one second is one record.
        record_failure(&sessions, &f("missing_privilege", "mc-a"), at)
            .await
            .expect("record");
        let rej = Failure {
            kind: "ingest",
            cause: "raw_mail_missing",
            error: "raw mail raw/x not found after retries",
            fix: rejected_fix("raw_mail_missing"),
            ses_message_id: Some("x"),
            ..Failure::default()
        };
        record_failure(&sessions, &rej, at).await.expect("record");
        // Older than the window: not counted, not even read.
        record_failure(&sessions, &f("dynamics_unavailable", "mc-old"), at - 90_000)
            .await
            .expect("record");
        let r = collect(&sessions, &NoQueue, at - 3600, at + 60)
            .await
            .expect("collect");
        assert_eq!(r.handoffs.failed.count, 1, "{r:#?}");
        assert_eq!(r.handoffs.failed_attempts, 3);
        let ex = &r.handoffs.failed.latest[0];
        assert_eq!(ex.attempts, Some(3));
        assert_eq!(ex.cause.as_deref(), Some("missing_privilege"));
        assert!(
            ex.fix
                .as_deref()
                .unwrap_or("")
                .contains("prvCreateIncident")
        );
        assert_eq!(r.rejected["raw_mail_missing"].count, 1);
        assert_eq!(r.not_filed["auto_reply"].count, 0);
        assert_eq!(r.dead_letter_queue.depth, None);
        assert_eq!(r.email_channel.state, "untested");
    }
}
