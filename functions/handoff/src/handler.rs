//! Decode a handoff request (direct invocation) or an SQS batch of them, run
//! `app::handoff::run` for each (then the acknowledgement, when configured) or
//! `app::reply::send` for `kind: "reply"`, and report SQS failures per message.

use app::handoff::{LimitsCache, Request, Settings};
use app::reply::{MailSender, Reply, ReplySettings};
use dynamics::DataverseClient;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::{Value, json};
use store::ObjectStore;
use store::sessions::Sessions;

/// What the handler needs, built once per cold start.
pub struct Deps<O, S> {
    /// Sessions in the mail bucket.
    pub sessions: Sessions<O>,
    /// The Dataverse client (token cached across warm invocations).
    pub crm: DataverseClient,
    /// Settings from the environment.
    pub settings: Settings,
    /// Column limits, read once.
    pub limits: LimitsCache,
    /// Outbound mail (SESv2 when deployed).
    pub sender: S,
    /// `SUPPORT_ADDRESS`, `HANDOFF_ACK`, `HANDOFF_ACK_TEMPLATE`.
    pub reply: ReplySettings,
}

/// A request that failed: the error chain, whether a retry can help, and the operator's fix.
pub struct Failure {
    error: String,
    retryable: bool,
    fix: String,
}

impl Failure {
    fn handoff(e: &app::handoff::HandoffError) -> Self {
        Failure {
            error: app::DisplayChain(e).to_string(),
            retryable: e.is_retryable(),
            fix: e.fix(),
        }
    }

    fn reply(e: &app::reply::ReplyError) -> Self {
        Failure {
            error: app::DisplayChain(e).to_string(),
            retryable: e.is_retryable(),
            fix: e.fix(),
        }
    }
}

/// Seconds since the epoch (the only clock read; app code takes time as input).
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

async fn one<O: ObjectStore, S: MailSender>(
    deps: &Deps<O, S>,
    req: &Request,
) -> Result<Value, Failure> {
    if req.kind.as_deref() == Some("reply") {
        let text = req.text.clone().unwrap_or_default();
        let reply = Reply {
            session_id: req.session_id.clone(),
            key: format!(
                "reply:{}",
                req.reply_id
                    .clone()
                    .unwrap_or_else(|| store::sessions::digest(&text))
            ),
            text,
            automatic: false,
        };
        let out = app::reply::send(&deps.sessions, &deps.sender, &deps.reply, &reply, now())
            .await
            .map_err(|e| Failure::reply(&e))?;
        return Ok(serde_json::to_value(&out).unwrap_or(Value::Null));
    }
    let out = match app::handoff::run(
        &deps.sessions,
        &deps.crm,
        &deps.settings,
        &deps.limits,
        req,
        now(),
    )
    .await
    {
        Ok(out) => out,
        Err(e) => {
            // Issue 13: recorded under failures/ with its cause code, for `mailcase status`.
            app::status::record_handoff_failure(&deps.sessions, req, &e, now()).await;
            return Err(Failure::handoff(&e));
        }
    };
    let mut value = serde_json::to_value(&out).unwrap_or(Value::Null);
    if deps.reply.ack && req.kind.as_deref() != Some("followup") {
        // Once per incident: a retried handoff finds the acknowledgement sent. A transient
        // failure fails the request so the retry sends it; a permanent one is logged with its
        // fix and does not undo the case.
        match app::reply::acknowledge(
            &deps.sessions,
            &deps.sender,
            &deps.reply,
            &out.session_id,
            &out.incident_id,
            &out.ticket_number,
            now(),
        )
        .await
        {
            Ok(ack) => value["acknowledgement"] = json!(ack.message_id),
            Err(e) if e.is_retryable() => return Err(Failure::reply(&e)),
            Err(e) => {
                tracing::error!(session_id = %out.session_id, error = %app::DisplayChain(&e), fix = %e.fix(), "acknowledgement not sent");
                value["acknowledgement_error"] = json!(format!("{e}. Fix: {}", e.fix()));
            }
        }
    }
    Ok(value)
}

/// Direct invocation: the outcome, or an error whose message carries the operator's fix.
/// SQS: `{"batchItemFailures": [...]}` listing every message that failed, so only those are
/// retried and, after the queue's receive limit, land in the dead-letter queue.
pub async fn handle<O: ObjectStore, S: MailSender>(
    deps: &Deps<O, S>,
    event: LambdaEvent<Value>,
) -> Result<Value, Diagnostic> {
    let payload = event.payload;
    if let Some(records) = payload.get("Records").and_then(Value::as_array) {
        let mut failures = Vec::new();
        for r in records {
            let id = r
                .get("messageId")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let body = r.get("body").and_then(Value::as_str).unwrap_or("");
            let result = match serde_json::from_str::<Request>(body) {
                Ok(req) => one(deps, &req).await.map_err(|f| (f.fix, f.error)),
                Err(e) => Err((
                    "send a JSON handoff request: {\"session_id\": ...}".into(),
                    format!("unreadable handoff request: {e}"),
                )),
            };
            if let Err((fix, error)) = result {
                tracing::error!(sqs_message_id = %id, error = %error, fix = %fix, "handoff failed");
                failures.push(json!({"itemIdentifier": id}));
            }
        }
        return Ok(json!({"batchItemFailures": failures}));
    }
    let req: Request = serde_json::from_value(payload).map_err(|e| Diagnostic {
        error_type: "BadRequest".into(),
        error_message: format!("not a handoff request ({e}); send {{\"session_id\": \"mc-...\", \"classification\": ...}}"),
    })?;
    one(deps, &req).await.map_err(|f| {
        tracing::error!(session_id = %req.session_id, error = %f.error, fix = %f.fix, "request failed");
        Diagnostic {
            error_type: if f.retryable { "Retryable".into() } else { "Permanent".into() },
            error_message: format!("{}. Fix: {}", f.error, f.fix),
        }
    })
}
