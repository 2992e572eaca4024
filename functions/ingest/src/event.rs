//! The SES receipt-rule event a Lambda action receives (headers only, never the body).
//! Only the fields ingest uses are read; unknown fields are ignored and optional ones may be
//! missing, so a new SES field never breaks ingest.

use serde::Deserialize;

/// `{"Records": [...]}`.
#[derive(Debug, Deserialize)]
pub struct SesEvent {
    /// One record per received mail (SES sends one).
    #[serde(rename = "Records")]
    pub records: Vec<SesRecord>,
}

/// One record.
#[derive(Debug, Deserialize)]
pub struct SesRecord {
    /// `aws:ses`.
    #[serde(rename = "eventSource", default)]
    pub event_source: Option<String>,
    /// The mail and receipt.
    pub ses: SesMessage,
}

/// `ses`.
#[derive(Debug, Deserialize)]
pub struct SesMessage {
    /// The mail's metadata.
    pub mail: SesMail,
    /// The receipt: verdicts, recipients.
    #[serde(default)]
    pub receipt: Option<SesReceipt>,
}

/// `ses.mail`.
#[derive(Debug, Deserialize)]
pub struct SesMail {
    /// SES's id: the S3 object name under the receipt rule's prefix.
    #[serde(rename = "messageId")]
    pub message_id: String,
    /// RFC 3339 receive time.
    #[serde(default)]
    pub timestamp: Option<String>,
}

/// `ses.receipt`.
#[derive(Debug, Default, Deserialize)]
pub struct SesReceipt {
    /// RFC 3339 receipt time.
    #[serde(default)]
    pub timestamp: Option<String>,
    /// Spam scan result.
    #[serde(rename = "spamVerdict", default)]
    pub spam_verdict: Option<Status>,
    /// Virus scan result.
    #[serde(rename = "virusVerdict", default)]
    pub virus_verdict: Option<Status>,
    /// Envelope recipients the receipt rule matched.
    #[serde(default)]
    pub recipients: Vec<String>,
}

/// `{"status": "PASS"}`.
#[derive(Debug, Deserialize)]
pub struct Status {
    /// `PASS`, `FAIL`, `GRAY`, `PROCESSING_FAILED` or `DISABLED`.
    pub status: String,
}

impl SesMail {
    /// True when the id can be used as an object name (no path tricks).
    pub fn id_is_safe(&self) -> bool {
        let id = &self.message_id;
        !id.is_empty()
            && id.len() <= 200
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && !id.contains("..")
            // `.` or a hidden name (`.mc-locks`) is refused by the directory store, which would
            // make the handler retry forever instead of rejecting the event.
            && !id.starts_with('.')
    }
}

impl SesRecord {
    /// What SES tells about the delivery: the facts ingest files with the message. The receive
    /// time is the receipt's, else the mail's, else 0.
    pub fn receipt(&self) -> app::ingest::Receipt {
        use app::ingest::Verdict;
        let mail = &self.ses.mail;
        let receipt = self.ses.receipt.as_ref();
        app::ingest::Receipt {
            ses_message_id: mail.message_id.clone(),
            received_at: receipt
                .and_then(|r| r.timestamp.as_deref())
                .or(mail.timestamp.as_deref())
                .and_then(app::time::parse_rfc3339)
                .unwrap_or(0),
            spam: receipt
                .and_then(|r| r.spam_verdict.as_ref())
                .map(|v| Verdict(v.status.clone())),
            virus: receipt
                .and_then(|r| r.virus_verdict.as_ref())
                .map(|v| Verdict(v.status.clone())),
            recipients: receipt.map(|r| r.recipients.clone()).unwrap_or_default(),
        }
    }

    /// Why this record can never be processed (cause code, reason), or `None`.
    pub fn refusal(&self) -> Option<(&'static str, String)> {
        if self.event_source.as_deref().is_some_and(|s| s != "aws:ses") {
            let reason = format!("not an SES record (eventSource {:?})", self.event_source);
            return Some(("not_ses_record", reason));
        }
        if !self.ses.mail.id_is_safe() {
            let reason = "SES messageId is empty or not a plain object name".to_string();
            return Some(("unsafe_message_id", reason));
        }
        None
    }
}
