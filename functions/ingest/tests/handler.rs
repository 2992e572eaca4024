//! The ingest handler end to end on the memory store: the sample SES event, redelivery,
//! missing raw mail and events that can never be processed.

mod common;

use ingest::event::SesEvent;
use ingest::handler::{Deps, handle};
use serde_json::{Value, json};
use store::{MemoryObjectStore, ObjectStore};

use common::event;

const SAMPLE: &str = include_str!("../../../events/ingest/ses-receipt.json");
const RAW: &[u8] =
    include_bytes!("../../../events/ingest/raw-o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g01.eml");

fn deps() -> Deps<MemoryObjectStore> {
    common::deps(MemoryObjectStore::default())
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
    let rejected = common::rejected(&deps).await;
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
    let rejected = common::rejected(&deps).await;
    assert_eq!(rejected.len(), 3);
    assert!(deps.sessions.list().await.expect("list").is_empty());
}
