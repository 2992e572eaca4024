//! Decode the SES event, fetch each raw mail, call `app::ingest::run`, log once.

use std::time::Duration;

use app::inbound::Outlets;
use app::ingest::{Config, Outcome, Receipt, Verdict};
use app::ports::{EventSink, HandoffQueue};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::{Value, json};
use store::ObjectStore;
use store::sessions::{Sessions, digest};

use crate::event::{SesEvent, SesRecord};

/// What the handler needs, built once per cold start.
pub struct Deps<O> {
    /// Sessions in the mail bucket.
    pub sessions: Sessions<O>,
    /// Where SES's S3 action writes raw mail (`raw/`).
    pub raw_prefix: String,
    /// Ingest settings.
    pub config: Config,
    /// Waits between reads of a raw object that is not there (yet).
    pub raw_retry: Vec<Duration>,
    /// The handoff queue (`HANDOFF_QUEUE_URL`) for follow-up notices and automatic handoffs;
    /// without it, follow-ups wait for the next handoff request of their session and handoff
    /// policies cannot act.
    pub queue: Option<Box<dyn HandoffQueue>>,
    /// The event feed (`EVENT_BUS`).
    pub events: Box<dyn EventSink>,
    /// Why the configuration (e.g. `ROUTING`) cannot be used: every invocation then fails
    /// with it rather than filing mail under a wrong route.
    pub refused: Option<String>,
}

/// Prefix of records of input that can never be processed.
pub const REJECTED_PREFIX: &str = "rejected/";

/// Handle one SES receipt event. Transient store failures return an error so Lambda retries;
/// input that can never succeed is recorded under `rejected/` and acknowledged.
pub async fn handle<O: ObjectStore>(
    deps: &Deps<O>,
    event: LambdaEvent<Value>,
) -> Result<Value, Diagnostic> {
    if let Some(reason) = &deps.refused {
        tracing::error!(error = %reason, "configuration refused; mail is not filed until it is fixed (SES retries, then the failed-invocations queue keeps the event)");
        return Err(Diagnostic {
            error_type: "Configuration".into(),
            error_message: reason.clone(),
        });
    }
    let payload = event.payload;
    let decoded: SesEvent = match serde_json::from_value(payload.clone()) {
        Ok(e) => e,
        Err(e) => {
            let reason = format!("not an SES receipt event: {e}");
            let name = digest(&payload.to_string());
            reject(deps, &name, "not_ses_event", &reason, payload).await?;
            return Ok(json!({"rejected": reason}));
        }
    };
    let mut outcomes = Vec::new();
    for record in &decoded.records {
        outcomes.push(handle_record(deps, record).await?);
    }
    Ok(json!({ "outcomes": outcomes }))
}

async fn handle_record<O: ObjectStore>(
    deps: &Deps<O>,
    record: &SesRecord,
) -> Result<Value, Diagnostic> {
    let mail = &record.ses.mail;
    if record
        .event_source
        .as_deref()
        .is_some_and(|s| s != "aws:ses")
    {
        let reason = format!("not an SES record (eventSource {:?})", record.event_source);
        let name = digest(&mail.message_id);
        let input = json!({"messageId": mail.message_id});
        reject(deps, &name, "not_ses_record", &reason, input).await?;
        return Ok(json!({"rejected": reason}));
    }
    if !mail.id_is_safe() {
        let reason = "SES messageId is empty or not a plain object name".to_string();
        let name = digest(&mail.message_id);
        let input = json!({"messageId": mail.message_id});
        reject(deps, &name, "unsafe_message_id", &reason, input).await?;
        return Ok(json!({"rejected": reason}));
    }
    let Some(raw) = fetch_raw(deps, &mail.message_id).await? else {
        let reason = format!(
            "raw mail {}{} not found after retries",
            deps.raw_prefix, mail.message_id
        );
        reject(
            deps,
            &mail.message_id,
            "raw_mail_missing",
            &reason,
            json!({"messageId": mail.message_id}),
        )
        .await?;
        return Ok(json!({"rejected": reason}));
    };
    let receipt = record.ses.receipt.as_ref();
    let received_at = receipt
        .and_then(|r| r.timestamp.as_deref())
        .or(mail.timestamp.as_deref())
        .and_then(app::time::parse_rfc3339)
        .unwrap_or(0);
    let facts = Receipt {
        ses_message_id: mail.message_id.clone(),
        received_at,
        spam: receipt
            .and_then(|r| r.spam_verdict.as_ref())
            .map(|v| Verdict(v.status.clone())),
        virus: receipt
            .and_then(|r| r.virus_verdict.as_ref())
            .map(|v| Verdict(v.status.clone())),
        recipients: receipt.map(|r| r.recipients.clone()).unwrap_or_default(),
    };
    let outlets = Outlets {
        queue: deps.queue.as_deref(),
        events: deps.events.as_ref(),
    };
    // A failed notice is retryable: the retry finds the message filed and sends again.
    let outcome: Outcome =
        app::inbound::process(&deps.sessions, &raw, &facts, &deps.config, outlets)
            .await
            .map_err(|e| retryable(&e, &mail.message_id))?;
    Ok(serde_json::to_value(&outcome).unwrap_or(Value::Null))
}

/// Read `raw/<id>`, waiting a little when it is missing: the S3 action runs before the Lambda
/// action, so absence after the waits means it will never come.
async fn fetch_raw<O: ObjectStore>(
    deps: &Deps<O>,
    id: &str,
) -> Result<Option<Vec<u8>>, Diagnostic> {
    let key = format!("{}{id}", deps.raw_prefix);
    for wait in std::iter::once(Duration::ZERO).chain(deps.raw_retry.iter().copied()) {
        tokio::time::sleep(wait).await;
        match deps.sessions.objects().get(&key).await {
            Ok(Some(obj)) => return Ok(Some(obj.bytes)),
            Ok(None) => continue,
            Err(e) => return Err(retryable(&e, id)),
        }
    }
    Ok(None)
}

async fn reject<O: ObjectStore>(
    deps: &Deps<O>,
    name: &str,
    cause: &str,
    reason: &str,
    input: Value,
) -> Result<(), Diagnostic> {
    tracing::error!(rejected = %name, cause = %cause, reason = %reason, "input rejected");
    let key = format!("{REJECTED_PREFIX}{name}.json");
    deps.sessions
        .put_once_json(
            &key,
            &json!({"reason": reason, "cause": cause, "input": input}),
        )
        .await
        .map_err(|e| retryable(&e, name))?;
    // Issue 13: the failure record `mailcase status` counts (cause code + fix).
    let ses_id = input.get("messageId").and_then(Value::as_str);
    let failure = app::status::Failure {
        kind: "ingest",
        cause,
        error: reason,
        fix: app::status::rejected_fix(cause),
        ses_message_id: ses_id.filter(|s| !s.is_empty()),
        ..app::status::Failure::default()
    };
    app::status::record_failure(&deps.sessions, &failure, now())
        .await
        .map(|_| ())
        .map_err(|e| retryable(&e, name))
}

/// Seconds since the epoch (app code takes time as input).
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn retryable(e: &(dyn std::error::Error + 'static), id: &str) -> Diagnostic {
    let chain = app::DisplayChain(e).to_string();
    tracing::error!(ses_message_id = %id, error = %chain, "ingest failed; Lambda will retry");
    Diagnostic {
        error_type: "Retryable".into(),
        error_message: chain,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_runtime::Context;
    use store::MemoryObjectStore;

    const SAMPLE: &str = include_str!("../../../events/ingest/ses-receipt.json");
    const RAW: &[u8] =
        include_bytes!("../../../events/ingest/raw-o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g01.eml");

    fn deps() -> Deps<MemoryObjectStore> {
        Deps {
            sessions: Sessions::new(MemoryObjectStore::default()),
            raw_prefix: "raw/".into(),
            config: Config::default(),
            raw_retry: vec![Duration::from_millis(1)],
            queue: None,
            events: Box::new(app::ports::NoEvents),
            refused: None,
        }
    }

    fn event(v: Value) -> LambdaEvent<Value> {
        LambdaEvent::new(v, Context::default())
    }

    #[tokio::test]
    async fn sample_event_is_filed_once_even_when_delivered_twice() {
        let deps = deps();
        let sample: Value = serde_json::from_str(SAMPLE).expect("sample JSON");
        let decoded: SesEvent = serde_json::from_value(sample.clone()).expect("sample decodes");
        let id = decoded.records[0].ses.mail.message_id.clone();
        deps.sessions
            .objects()
            .put_new(&format!("raw/{id}"), RAW.to_vec(), "message/rfc822")
            .await
            .expect("put raw");
        let first = handle(&deps, event(sample.clone())).await.expect("first");
        let second = handle(&deps, event(sample)).await.expect("second");
        assert_eq!(first["outcomes"][0]["new_session"], true);
        assert_eq!(second["outcomes"][0]["duplicate"], true);
        let sessions = deps.sessions.list().await.expect("list");
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions[0].messages.len(), 1);
        assert_eq!(
            sessions[0].messages[0].ses_message_id.as_deref(),
            Some(id.as_str())
        );
    }

    #[tokio::test]
    async fn missing_raw_object_is_rejected_not_retried_forever() {
        let deps = deps();
        let sample: Value = serde_json::from_str(SAMPLE).expect("sample JSON");
        let out = handle(&deps, event(sample)).await.expect("acknowledged");
        assert!(
            out["outcomes"][0]["rejected"]
                .as_str()
                .unwrap_or("")
                .contains("not found")
        );
        let rejected = deps
            .sessions
            .objects()
            .list(REJECTED_PREFIX)
            .await
            .expect("list");
        assert_eq!(rejected.len(), 1);
    }

    #[tokio::test]
    async fn unparseable_event_is_recorded_and_acknowledged() {
        let deps = deps();
        for bad in [
            json!({"hello": "world"}),
            json!([1, 2, 3]),
            json!({"Records": [{"ses": {"mail": {"messageId": "../../etc/passwd"}}}]}),
        ] {
            let out = handle(&deps, event(bad)).await.expect("acknowledged");
            assert!(out.to_string().contains("rejected"), "{out}");
        }
        let rejected = deps
            .sessions
            .objects()
            .list(REJECTED_PREFIX)
            .await
            .expect("list");
        assert_eq!(rejected.len(), 3);
        assert!(deps.sessions.list().await.expect("list").is_empty());
    }
}
