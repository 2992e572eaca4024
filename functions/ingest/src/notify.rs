//! The follow-up notice: when mail lands on a session that was already handed off, ingest tells
//! the handoff function through its SQS queue, which adds the mail to the case as a note.

use serde_json::json;

/// The handoff function's queue (`HANDOFF_QUEUE_URL`).
pub struct FollowupQueue {
    /// An SQS client from the function's AWS configuration.
    pub sqs: aws_sdk_sqs::Client,
    /// The queue URL.
    pub url: String,
}

/// The notice body: a handoff request of kind `followup`, which delivers the session's pending
/// follow-ups and never creates a first case.
pub fn notice(session_id: &str) -> String {
    json!({"session_id": session_id, "kind": "followup"}).to_string()
}

impl FollowupQueue {
    /// Send the notice. Sending twice is harmless: delivery is idempotent per message.
    pub async fn notify(
        &self,
        session_id: &str,
    ) -> Result<
        (),
        aws_sdk_sqs::error::SdkError<aws_sdk_sqs::operation::send_message::SendMessageError>,
    > {
        self.sqs
            .send_message()
            .queue_url(&self.url)
            .message_body(notice(session_id))
            .send()
            .await?;
        tracing::info!(session_id = %session_id, "follow-up notice queued for the handoff function");
        Ok(())
    }
}
