//! The typed answer to an SQS batch (Lambda's partial batch response, `ReportBatchItemFailures`).

/// The answer to an SQS batch (Lambda's partial batch response): the messages to retry.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SqsBatchResponse {
    /// One entry per failed message.
    pub batch_item_failures: Vec<BatchItemFailure>,
}

/// A failed SQS message, by its `messageId`.
#[derive(Debug, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BatchItemFailure {
    /// The record's `messageId`.
    pub item_identifier: String,
}

impl SqsBatchResponse {
    /// Report the message `id` as failed: SQS delivers it again.
    pub fn fail(&mut self, id: &str) {
        self.batch_item_failures.push(BatchItemFailure {
            item_identifier: id.to_string(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_has_the_shape_lambda_reads() {
        let mut a = SqsBatchResponse::default();
        assert_eq!(
            serde_json::to_value(&a).ok(),
            Some(serde_json::json!({"batchItemFailures": []}))
        );
        a.fail("m-1");
        assert_eq!(
            serde_json::to_value(&a).ok(),
            Some(serde_json::json!({"batchItemFailures": [{"itemIdentifier": "m-1"}]}))
        );
    }
}
