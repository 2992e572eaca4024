//! Decode a handoff request (direct invocation) or an SQS batch of them, hand each to the one
//! request path (`app::requests::Worker`), and report SQS failures per message.

use app::handoff::Request;
use app::reply::MailSender;
use app::requests::{Failure, Worker};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use store::ObjectStore;

use crate::sqs::SqsBatchResponse;

/// What the handler needs, built once per cold start: the worker, or why the configuration
/// cannot be used (then every invocation fails loudly with that reason).
pub type Deps<O, S> = Result<Worker<O, S>, String>;

/// Seconds since the epoch (the only clock read; app code takes time as input).
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Direct invocation: the outcome, or an error whose message carries the operator's fix.
/// SQS: `{"batchItemFailures": [...]}` listing every message that failed, so only those are
/// retried and, after the queue's receive limit, land in the dead-letter queue.
pub async fn handle<O: ObjectStore, S: MailSender>(
    deps: &Deps<O, S>,
    event: LambdaEvent<Value>,
) -> Result<Value, Diagnostic> {
    let worker = deps.as_ref().map_err(|e| Diagnostic {
        error_type: "Configuration".into(),
        error_message: e.clone(),
    })?;
    let payload = event.payload;
    if let Some(records) = payload.get("Records").and_then(Value::as_array) {
        let mut answer = SqsBatchResponse::default();
        for r in records {
            let id = r.get("messageId").and_then(Value::as_str).unwrap_or("");
            let body = r.get("body").and_then(Value::as_str).unwrap_or("");
            if let Err(f) = one(worker, body).await {
                tracing::error!(sqs_message_id = %id, error = %f.error, fix = %f.fix, "handoff failed");
                answer.fail(id);
            }
        }
        return serde_json::to_value(answer).map_err(|e| Diagnostic {
            error_type: "Internal".into(),
            error_message: format!("cannot encode the batch response: {e}"),
        });
    }
    let req: Request = serde_json::from_value(payload).map_err(|e| Diagnostic {
        error_type: "BadRequest".into(),
        error_message: format!("not a handoff request ({e}); send {{\"session_id\": \"mc-...\", \"classification\": ...}}"),
    })?;
    worker.handle(&req, now()).await.map_err(|f| Diagnostic {
        error_type: if f.retryable {
            "Retryable".into()
        } else {
            "Permanent".into()
        },
        error_message: f.to_string(),
    })
}

/// One SQS body: a JSON request, handled; an unreadable body fails with the expected shape.
pub async fn one<O: ObjectStore, S: MailSender>(
    worker: &Worker<O, S>,
    body: &str,
) -> Result<Value, Failure> {
    match serde_json::from_str::<Request>(body) {
        Ok(req) => worker.handle(&req, now()).await,
        Err(e) => Err(Failure {
            error: format!("unreadable handoff request: {e}"),
            retryable: false,
            fix: "send a JSON handoff request: {\"session_id\": ...}".into(),
            cause: "bad_request".into(),
        }),
    }
}
