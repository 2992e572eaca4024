//! Input that can never be processed (not an SES event, an unsafe id, raw mail that never came):
//! recorded under `rejected/` with its reason and input, and as a failure record that
//! `mailcase status` counts, so the event can be acknowledged instead of retried forever.

use std::time::Duration;

use serde_json::{Value, json};
use store::sessions::Sessions;
use store::{ObjectStore, StoreError};

/// Record `input` as rejected under `rejected/<name>.json` (create-once: a redelivery records
/// nothing new) with its cause code and reason, and the failure record (cause + fix).
pub async fn reject<O: ObjectStore>(
    sessions: &Sessions<O>,
    name: &str,
    cause: &str,
    reason: &str,
    input: Value,
    now: i64,
) -> Result<(), StoreError> {
    tracing::error!(rejected = %name, cause = %cause, reason = %reason, "input rejected");
    let key = store::layout::rejected(name);
    let ses_id = input
        .get("messageId")
        .and_then(Value::as_str)
        .map(str::to_string);
    sessions
        .put_once_json(
            &key,
            &json!({"reason": reason, "cause": cause, "input": input}),
        )
        .await?;
    let failure = crate::status::Failure {
        kind: "ingest",
        cause,
        error: reason,
        fix: crate::status::rejected_fix(cause),
        ses_message_id: ses_id.as_deref().filter(|s| !s.is_empty()),
        ..crate::status::Failure::default()
    };
    crate::status::record_failure(sessions, &failure, now)
        .await
        .map(|_| ())
}

/// Read `key`, waiting each of `waits` in turn while it is missing: SES's S3 action runs before
/// its Lambda action, so absence after the waits means the object will never come.
pub async fn fetch_waiting<O: ObjectStore>(
    sessions: &Sessions<O>,
    key: &str,
    waits: &[Duration],
) -> Result<Option<Vec<u8>>, StoreError> {
    for wait in std::iter::once(Duration::ZERO).chain(waits.iter().copied()) {
        tokio::time::sleep(wait).await;
        if let Some(obj) = sessions.objects().get(key).await? {
            return Ok(Some(obj.bytes));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::MemoryObjectStore;

    #[tokio::test]
    async fn a_rejection_is_recorded_once_with_its_failure_record() {
        let sessions = Sessions::new(MemoryObjectStore::default());
        for _ in 0..2 {
            reject(
                &sessions,
                "abc",
                "raw_mail_missing",
                "raw mail raw/abc not found after retries",
                json!({"messageId": "abc"}),
                1_700_000_000,
            )
            .await
            .expect("recorded");
        }
        let rejected = sessions
            .objects()
            .list(store::layout::REJECTED_PREFIX)
            .await
            .expect("list");
        assert_eq!(rejected, vec!["rejected/abc.json".to_string()]);
        let record: Value = sessions
            .get_json(&rejected[0])
            .await
            .expect("read")
            .expect("there");
        assert_eq!(record["cause"], "raw_mail_missing");
        assert_eq!(record["input"]["messageId"], "abc");
        assert!(
            !sessions
                .objects()
                .list("failures/")
                .await
                .expect("list")
                .is_empty()
        );
    }

    #[tokio::test]
    async fn a_missing_object_is_waited_for_then_given_up() {
        let sessions = Sessions::new(MemoryObjectStore::default());
        let waits = [Duration::from_millis(1), Duration::from_millis(1)];
        assert_eq!(
            fetch_waiting(&sessions, "raw/x", &waits)
                .await
                .expect("read"),
            None
        );
        sessions
            .objects()
            .put_new("raw/x", b"mail".to_vec(), "message/rfc822")
            .await
            .expect("put");
        assert_eq!(
            fetch_waiting(&sessions, "raw/x", &waits)
                .await
                .expect("read"),
            Some(b"mail".to_vec())
        );
    }
}
