//! The one request path: every handoff-queue request — a handoff (`kind` absent), `followup`,
//! `auto` (a policy's handoff) and `reply` — is handled here, by the handoff Lambda,
//! `mailcase handoff` and `mailcase work` alike: triage fills what the request does not say,
//! the case is created, the acknowledgement sent when `HANDOFF_ACK` is on, and the event feed
//! told.

use dynamics::DataverseClient;
use serde::Serialize;
use serde_json::{Value, json};
use store::ObjectStore;
use store::session::{Direction, Session, SessionState};
use store::sessions::Sessions;

use crate::events;
use crate::handoff::{HandoffError, LimitsCache, Request, Settings};
use crate::inbound::{MAX_DELAY, auto_notice};
use crate::ports::{EventSink, HandoffQueue, SentimentDetector, announce};
use crate::reply::{MailSender, Reply, ReplySettings};
use crate::routing::{Policy, Routing};
use crate::triage::{Decision, decide};

use crate::handoff::Kind;

/// The handoff id of every automatic handoff of a session, so they all make one case.
pub const AUTO_HANDOFF_ID: &str = "auto";

/// A request that failed: the error chain, whether a retry can help, and the operator's fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The error with its causes.
    pub error: String,
    /// A retry can help (SQS redelivers; a direct caller should retry).
    pub retryable: bool,
    /// What the operator should do.
    pub fix: String,
    /// Stable cause code (recorded under `failures/` for `mailcase status`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cause: String,
}

impl Failure {
    fn handoff(e: &HandoffError) -> Self {
        Failure {
            error: crate::DisplayChain(e).to_string(),
            retryable: e.is_retryable(),
            fix: e.fix(),
            cause: crate::status::handoff_cause(e).to_string(),
        }
    }

    fn reply(e: &crate::reply::ReplyError) -> Self {
        Failure {
            error: crate::DisplayChain(e).to_string(),
            retryable: e.is_retryable(),
            fix: e.fix(),
            cause: "reply_failed".into(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}. Fix: {}", self.error, self.fix)
    }
}

/// Everything a request needs, built once per cold start (or per CLI run).
pub struct Worker<O, S> {
    /// Sessions.
    pub sessions: Sessions<O>,
    /// The Dataverse client (token cached across warm invocations).
    pub crm: DataverseClient,
    /// Routes and rules.
    pub routing: Routing,
    /// `SESSION_URL_TEMPLATE` (the rest of the settings are the routing's `*` route).
    pub session_url_template: Option<String>,
    /// `REOPEN_DAYS`.
    pub reopen_days: u32,
    /// Column limits read so far (stock assumed; `limits.rs`) and the org's file limits.
    pub limits: LimitsCache,
    /// `ATTACHMENTS`: list (default) or upload onto the case.
    pub attachments: crate::attachments::Mode,
    /// Outbound mail.
    pub sender: S,
    /// `SUPPORT_ADDRESS`, `HANDOFF_ACK`, `HANDOFF_ACK_TEMPLATE`.
    pub reply: ReplySettings,
    /// The handoff queue, for quiet-period re-queues and continuation sessions.
    pub queue: Option<Box<dyn HandoffQueue>>,
    /// The event bus.
    pub events: Box<dyn EventSink>,
    /// `SENTIMENT=comprehend`.
    pub sentiment: Option<Box<dyn SentimentDetector>>,
}

/// Comprehend's DetectSentiment takes at most 5,000 bytes; the customer's newest words matter
/// most, so the text is cut from the front.
pub const SENTIMENT_MAX_BYTES: usize = 4_900;

impl<O, S> Worker<O, S> {
    /// A worker with the settings as the only (`*`, manual) route, no queue, no event bus and
    /// no sentiment; set the public fields for more.
    pub fn new(
        sessions: Sessions<O>,
        crm: DataverseClient,
        settings: &Settings,
        sender: S,
        reply: ReplySettings,
    ) -> Self {
        Worker {
            sessions,
            crm,
            routing: Routing::from_settings(settings, Policy::Manual),
            session_url_template: settings.session_url_template.clone(),
            reopen_days: settings.reopen_days,
            limits: LimitsCache::default(),
            attachments: crate::attachments::Mode::default(),
            sender,
            reply,
            queue: None,
            events: Box::new(crate::ports::NoEvents),
            sentiment: None,
        }
    }
}

impl<O: ObjectStore, S: MailSender> Worker<O, S> {
    /// Handle one request; `now` is seconds since the epoch.
    #[tracing::instrument(skip_all, fields(session_id = %req.session_id, kind = ?req.kind))]
    pub async fn handle(&self, req: &Request, now: i64) -> Result<Value, Failure> {
        let result = self.dispatch(req, now).await;
        if let Err(f) = &result {
            tracing::error!(error = %f.error, fix = %f.fix, retryable = f.retryable, "request failed");
            let kind = req.kind.as_deref().unwrap_or("handoff");
            let e =
                events::handoff_failed(&req.session_id, kind, &f.error, &f.fix, f.retryable, now);
            announce(self.events.as_ref(), &[e]).await;
            // Recorded under failures/ with its cause code, for `mailcase status`.
            let record = crate::status::Failure {
                kind: "handoff",
                cause: if f.cause.is_empty() {
                    "unknown"
                } else {
                    f.cause.as_str()
                },
                error: &f.error,
                fix: &f.fix,
                retryable: f.retryable,
                session_id: Some(req.session_id.as_str()).filter(|s| !s.is_empty()),
                handoff_id: req.handoff_id.as_deref(),
                ses_message_id: None,
            };
            if let Err(se) = crate::status::record_failure(&self.sessions, &record, now).await {
                tracing::warn!(error = %crate::DisplayChain(&se), "cannot record the handoff failure");
            }
        }
        result
    }

    async fn dispatch(&self, req: &Request, now: i64) -> Result<Value, Failure> {
        match Kind::of(req).map_err(|e| Failure::handoff(&e))? {
            Kind::Reply => self.send_reply(req, now).await,
            Kind::Followup => self.followup(req, now).await,
            Kind::Auto => self.auto(req, now).await,
            Kind::Handoff => {
                let session = self.load(&req.session_id).await?;
                self.hand_off(req, &session, false, now).await
            }
        }
    }

    async fn load(&self, id: &str) -> Result<Session, Failure> {
        if id.trim().is_empty() {
            return Err(Failure::handoff(&HandoffError::BadRequest(
                "session_id is empty".into(),
            )));
        }
        crate::merge::load_resolved(&self.sessions, id)
            .await
            .map_err(|e| Failure::handoff(&e.into()))?
            .ok_or_else(|| Failure::handoff(&HandoffError::SessionNotFound(id.into())))
    }

    /// What the case gets: triage, then what the request says.
    pub async fn decision(&self, req: &Request, session: &Session) -> Decision {
        let mut d = decide(&self.routing, session);
        if let Some(c) = req.classification.as_ref().filter(|c| !c.trim().is_empty()) {
            d.classification = c.trim().to_string();
        }
        if let Some(s) = req.summary.as_ref().filter(|s| !s.trim().is_empty()) {
            d.summary = Some(s.trim().to_string());
        }
        d.sentiment = match req.sentiment.as_ref().filter(|s| !s.trim().is_empty()) {
            Some(s) => Some(s.trim().to_string()),
            None if session.state == SessionState::Open => self.detect_sentiment(session).await,
            None => None,
        };
        d
    }

    async fn detect_sentiment(&self, session: &Session) -> Option<String> {
        let detector = self.sentiment.as_ref()?;
        let text = customer_text(session, SENTIMENT_MAX_BYTES);
        if text.trim().is_empty() {
            return None;
        }
        match detector.detect(&text).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "sentiment not detected (SENTIMENT=comprehend); the case is created without it");
                None
            }
        }
    }

    async fn hand_off(
        &self,
        req: &Request,
        session: &Session,
        automatic: bool,
        now: i64,
    ) -> Result<Value, Failure> {
        let d = self.decision(req, session).await;
        let settings = Settings {
            queue_id: d.queue_id,
            owner: d.owner,
            priority: Some(d.priority),
            ticket_properties: d.ticket_properties.clone(),
            session_url_template: self.session_url_template.clone(),
            reopen_days: self.reopen_days,
        };
        let request = Request {
            session_id: session.id.clone(),
            classification: Some(d.classification.clone()),
            sentiment: d.sentiment.clone(),
            summary: d.summary.clone(),
            handoff_id: if automatic {
                Some(AUTO_HANDOFF_ID.into())
            } else {
                req.handoff_id.clone()
            },
            ..Request::default()
        };
        let out = Box::pin(crate::handoff::run(
            &self.sessions,
            &self.crm,
            &settings,
            &self.limits,
            &request,
            now,
            self.attachments,
        ))
        .await
        .map_err(|e| Failure::handoff(&e))?;
        let mut feed = vec![events::case_created(
            session,
            &out.incident_id,
            &out.ticket_number,
            out.created,
            &d.classification,
            d.priority,
            &d.route,
            automatic,
        )];
        feed.extend(out.followup_keys.iter().map(|k| {
            events::followup_delivered(&session.id, &out.incident_id, &out.ticket_number, k)
        }));
        announce(self.events.as_ref(), &feed).await;
        let mut value = serde_json::to_value(&out).unwrap_or(Value::Null);
        value["route"] = json!(d.route);
        value["classification"] = json!(d.classification);
        value["priority"] = json!(d.priority);
        value["automatic"] = json!(automatic);
        self.continue_new_sessions(&out.followups_new_sessions, now)
            .await?;
        if self.reply.ack && !session.flood {
            self.acknowledge(
                &mut value,
                &out.session_id,
                &out.incident_id,
                &out.ticket_number,
                now,
            )
            .await?;
        }
        Ok(value)
    }

    /// Once per incident: a retried handoff finds the acknowledgement sent. A transient failure
    /// fails the request so the retry sends it; a permanent one is logged with its fix and does
    /// not undo the case.
    async fn acknowledge(
        &self,
        value: &mut Value,
        session_id: &str,
        incident_id: &str,
        ticket_number: &str,
        now: i64,
    ) -> Result<(), Failure> {
        match crate::reply::acknowledge(
            &self.sessions,
            &self.sender,
            &self.reply,
            session_id,
            incident_id,
            ticket_number,
            now,
        )
        .await
        {
            Ok(ack) => {
                value["acknowledgement"] = json!(ack.message_id);
                value["via"] = json!(self.sender.via());
                Ok(())
            }
            Err(e) if e.is_retryable() => Err(Failure::reply(&e)),
            Err(e) => {
                tracing::error!(session_id = %session_id, error = %crate::DisplayChain(&e), fix = %e.fix(), "acknowledgement not sent");
                value["acknowledgement_error"] = json!(format!("{e}. Fix: {}", e.fix()));
                Ok(())
            }
        }
    }

    async fn followup(&self, req: &Request, now: i64) -> Result<Value, Failure> {
        let out = Box::pin(crate::handoff::run(
            &self.sessions,
            &self.crm,
            &Settings {
                reopen_days: self.reopen_days,
                ..Settings::default()
            },
            &self.limits,
            req,
            now,
            self.attachments,
        ))
        .await
        .map_err(|e| Failure::handoff(&e))?;
        let feed: Vec<_> = out
            .followup_keys
            .iter()
            .map(|k| {
                events::followup_delivered(&out.session_id, &out.incident_id, &out.ticket_number, k)
            })
            .collect();
        announce(self.events.as_ref(), &feed).await;
        self.continue_new_sessions(&out.followups_new_sessions, now)
            .await?;
        Ok(serde_json::to_value(&out).unwrap_or(Value::Null))
    }

    /// A policy's handoff: due now -> hand off; a quiet period not over yet -> wait again.
    async fn auto(&self, req: &Request, now: i64) -> Result<Value, Failure> {
        let session = self.load(&req.session_id).await?;
        if session.state != SessionState::Open {
            return Ok(
                json!({"session_id": session.id, "status": "already_handed_off",
                             "incident_id": session.handoff.as_ref().map(|h| h.dynamics365_incident_id.clone())}),
            );
        }
        let sender = session
            .customer
            .as_ref()
            .map(|c| c.address.as_str())
            .unwrap_or("");
        let flooding = session.flood
            || crate::flood::flooding(&self.sessions, sender)
                .await
                .map_err(|e| Failure::handoff(&e.into()))?;
        if flooding {
            tracing::warn!(
                "the sender floods: no automatic handoff (a manual handoff still works)"
            );
            return Ok(json!({"session_id": session.id, "status": "skipped", "reason": "flood"}));
        }
        let d = decide(&self.routing, &session);
        let target = match d.policy {
            Policy::Manual => {
                return Ok(json!({"session_id": session.id, "status": "skipped",
                                 "reason": format!("route {} is manual now", d.route)}));
            }
            Policy::Immediate => now,
            Policy::Quiet(n) => {
                let last = session.last_inbound_at.unwrap_or(0);
                req.due_at.unwrap_or(0).max(last.saturating_add(n as i64))
            }
        };
        if now < target {
            let Some(queue) = &self.queue else {
                return Err(Failure {
                    error: format!(
                        "the quiet period of {} ends at {target}, and there is no handoff queue to wait in",
                        session.id
                    ),
                    retryable: true,
                    fix: "Set HANDOFF_QUEUE_URL to the handoff queue.".into(),
                    cause: "queue_missing".into(),
                });
            };
            let delay = (target - now).clamp(1, MAX_DELAY as i64) as u32;
            queue
                .send(&auto_notice(&session.id, target), delay)
                .await
                .map_err(|e| Failure {
                    error: format!("cannot re-queue the automatic handoff: {e}"),
                    retryable: true,
                    fix: "Check the handoff queue and the function's sqs:SendMessage permission; the request is retried.".into(),
                    cause: "queue_unavailable".into(),
                })?;
            tracing::info!(due_at = target, delay, "quiet period not over; waiting");
            return Ok(json!({"session_id": session.id, "status": "waiting", "due_at": target}));
        }
        self.hand_off(req, &session, true, now).await
    }

    /// Sessions that continue a closed case are handed off by their route's policy.
    async fn continue_new_sessions(&self, ids: &[String], now: i64) -> Result<(), Failure> {
        for id in ids {
            let Ok(Some(s)) = self.sessions.load(id).await else {
                continue;
            };
            let d = decide(&self.routing, &s);
            let Some(due) = crate::inbound::due_at(d.policy, &s, now) else {
                continue;
            };
            if let Some(queue) = &self.queue {
                let delay = (due - now).clamp(0, MAX_DELAY as i64) as u32;
                queue
                    .send(&auto_notice(id, due), delay)
                    .await
                    .map_err(|e| Failure {
                        error: format!(
                            "cannot queue the handoff of continuation session {id}: {e}"
                        ),
                        retryable: true,
                        fix: "Check the handoff queue; the request is retried.".into(),
                        cause: "queue_unavailable".into(),
                    })?;
            }
        }
        Ok(())
    }

    async fn send_reply(&self, req: &Request, now: i64) -> Result<Value, Failure> {
        let text = req.text.clone().unwrap_or_default();
        let reply = Reply {
            session_id: req.session_id.clone(),
            key: format!(
                "reply:{}",
                req.reply_id
                    .clone()
                    .unwrap_or_else(|| store::ids::sha256_hex(&text))
            ),
            text,
            automatic: false,
        };
        let out = crate::reply::send(&self.sessions, &self.sender, &self.reply, &reply, now)
            .await
            .map_err(|e| Failure::reply(&e))?;
        let mut value = serde_json::to_value(&out).unwrap_or(Value::Null);
        value["via"] = json!(self.sender.via());
        Ok(value)
    }
}

/// The customer's words in the thread, newest kept when longer than `max_bytes`.
pub fn customer_text(session: &Session, max_bytes: usize) -> String {
    let text = session
        .messages
        .iter()
        .filter(|m| m.direction == Direction::Inbound)
        .map(|m| m.reply_text.trim())
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n");
    if text.len() <= max_bytes {
        return text;
    }
    let mut start = text.len() - max_bytes;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_read_and_unknown_ones_refused() {
        let auto: Request = serde_json::from_str(include_str!("../../../events/handoff/auto.json"))
            .expect("sample");
        assert_eq!(Kind::of(&auto).ok(), Some(Kind::Auto));
        assert_eq!(auto.due_at, Some(1_795_433_407));
        for (kind, want) in [
            (None, Kind::Handoff),
            (Some("followup"), Kind::Followup),
            (Some("reply"), Kind::Reply),
            (Some("handoff"), Kind::Handoff),
        ] {
            let r = Request {
                kind: kind.map(str::to_string),
                ..Request::default()
            };
            assert_eq!(Kind::of(&r).ok(), Some(want));
        }
        let bad = Request {
            kind: Some("later".into()),
            ..Request::default()
        };
        let e = Kind::of(&bad).expect_err("unknown");
        assert!(e.to_string().contains("unknown kind `later`"), "{e}");
    }

    #[test]
    fn customer_text_keeps_the_newest_words_within_the_limit() {
        let mut s: Session = serde_json::from_value(serde_json::json!({
            "id": "mc-1", "state": "open", "customer": null, "subject": "", "thread_subject": "",
            "created_at": "", "last_activity": "", "messages": []}))
        .expect("session");
        for (i, t) in ["première", "second ünïcode text"].iter().enumerate() {
            s.messages.push(
                serde_json::from_value(serde_json::json!({
                "key": format!("k{i}"), "message_id": null, "direction": "inbound", "date": "",
                "timestamp": i, "from": null, "subject": null, "reply_text": t}))
                .expect("entry"),
            );
        }
        assert_eq!(customer_text(&s, 1000), "première\n\nsecond ünïcode text");
        let cut = customer_text(&s, 12);
        assert!(
            cut.len() <= 12 && "second ünïcode text".ends_with(&cut),
            "{cut}"
        );
    }
}
