//! Decode the SES event, fetch each raw mail, call `app::inbound::process`, encode the outcome;
//! input that can never be processed is recorded (`app::rejected`) and acknowledged.

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::{Value, json};
use store::ObjectStore;
use store::ids::sha256_hex;

use crate::event::{SesEvent, SesRecord};

pub use crate::config::Deps;

/// Handle one SES receipt event. Transient store failures return an error so Lambda retries;
/// input that can never succeed is recorded under `rejected/` and acknowledged.
pub async fn handle<O: ObjectStore>(
    deps: &Deps<O>,
    event: LambdaEvent<Value>,
) -> Result<Value, Diagnostic> {
    deps.usable()?;
    let decoded: SesEvent = match serde_json::from_value(event.payload.clone()) {
        Ok(e) => e,
        Err(e) => {
            let name = sha256_hex(&event.payload.to_string());
            let reason = format!("not an SES receipt event: {e}");
            return reject(deps, &name, "not_ses_event", reason, event.payload).await;
        }
    };
    let mut outcomes = Vec::new();
    for record in &decoded.records {
        outcomes.push(handle_record(deps, record).await?);
    }
    Ok(json!({ "outcomes": outcomes }))
}

async fn handle_record<O: ObjectStore>(deps: &Deps<O>, r: &SesRecord) -> Result<Value, Diagnostic> {
    let id = &r.ses.mail.message_id;
    let input = json!({"messageId": id});
    if let Some((cause, reason)) = r.refusal() {
        return reject(deps, &sha256_hex(id), cause, reason, input).await;
    }
    let key = store::layout::raw(&deps.raw_prefix, id);
    let raw = app::rejected::fetch_waiting(&deps.sessions, &key, &deps.raw_retry).await;
    let Some(raw) = raw.map_err(|e| retryable(&e, id))? else {
        let reason = format!("raw mail {key} not found after retries");
        return reject(deps, id, "raw_mail_missing", reason, input).await;
    };
    // A failed notice is retryable: the retry finds the message filed and sends again.
    let (config, outlets) = (&deps.config, deps.outlets());
    let outcome = app::inbound::process(&deps.sessions, &raw, &r.receipt(), config, outlets)
        .await
        .map_err(|e| retryable(&e, id))?;
    Ok(serde_json::to_value(&outcome).unwrap_or(Value::Null))
}

/// Record the input as rejected and acknowledge it: `{"rejected": reason}`.
async fn reject<O: ObjectStore>(
    deps: &Deps<O>,
    name: &str,
    cause: &str,
    reason: String,
    input: Value,
) -> Result<Value, Diagnostic> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    app::rejected::reject(&deps.sessions, name, cause, &reason, input, now)
        .await
        .map_err(|e| retryable(&e, name))?;
    Ok(json!({ "rejected": reason }))
}

fn retryable(e: &(dyn std::error::Error + 'static), id: &str) -> Diagnostic {
    let chain = app::DisplayChain(e).to_string();
    tracing::error!(ses_message_id = %id, error = %chain, "ingest failed; Lambda will retry");
    Diagnostic {
        error_type: "Retryable".into(),
        error_message: chain,
    }
}
