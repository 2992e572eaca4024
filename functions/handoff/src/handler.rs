//! Decode a handoff request (direct invocation) or an SQS batch of them, run
//! `app::handoff::run` for each, and report SQS failures per message.

use app::handoff::{LimitsCache, Request, Settings};
use dynamics::DataverseClient;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::{Value, json};
use store::ObjectStore;
use store::sessions::Sessions;

/// What the handler needs, built once per cold start.
pub struct Deps<O> {
    /// Sessions in the mail bucket.
    pub sessions: Sessions<O>,
    /// The Dataverse client (token cached across warm invocations).
    pub crm: DataverseClient,
    /// Settings from the environment.
    pub settings: Settings,
    /// Column limits, read once.
    pub limits: LimitsCache,
}

/// Seconds since the epoch (the only clock read; app code takes time as input).
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

async fn one<O: ObjectStore>(
    deps: &Deps<O>,
    req: &Request,
) -> Result<Value, app::handoff::HandoffError> {
    let out = app::handoff::run(
        &deps.sessions,
        &deps.crm,
        &deps.settings,
        &deps.limits,
        req,
        now(),
    )
    .await?;
    Ok(serde_json::to_value(&out).unwrap_or(Value::Null))
}

/// Direct invocation: the outcome, or an error whose message carries the operator's fix.
/// SQS: `{"batchItemFailures": [...]}` listing every message that failed, so only those are
/// retried and, after the queue's receive limit, land in the dead-letter queue.
pub async fn handle<O: ObjectStore>(
    deps: &Deps<O>,
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
                Ok(req) => one(deps, &req)
                    .await
                    .map_err(|e| (e.fix(), app::DisplayChain(&e).to_string())),
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
    one(deps, &req).await.map_err(|e| {
        let chain = app::DisplayChain(&e).to_string();
        tracing::error!(session_id = %req.session_id, error = %chain, fix = %e.fix(), "handoff failed");
        Diagnostic {
            error_type: if e.is_retryable() { "Retryable".into() } else { "Permanent".into() },
            error_message: format!("{chain}. Fix: {}", e.fix()),
        }
    })
}
