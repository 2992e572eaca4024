//! The email channel's connection test: `send_test` mails the public support address with a
//! token in the subject; when the company's forwarding rule delivers it back through SES into
//! ingest, `observe` marks the channel Active with the time the round trip took. `status` says
//! Active, Waiting or Failed (with the fix), from `channel/email.json` in the store.

use std::sync::LazyLock;

use mail::Mailbox;
use mail::compose::{Outgoing, compose};
use regex::Regex;
use serde::{Deserialize, Serialize};
use store::ids::sha256_hex;
use store::layout;
use store::sessions::Sessions;
use store::{ObjectStore, StoreError, Update, update_json};

use crate::reply::{MailSender, OutboundMail, ReplyError};

/// A test that has not come back after this long has failed.
pub const WAIT_LIMIT_SECS: i64 = 600;

#[allow(clippy::expect_used)] // literal pattern
static TEST_TOKEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[(mct-[0-9a-f]{16})\]").expect("literal regex"));

/// The stored state of the email channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelRecord {
    /// Token of the latest test message.
    pub token: String,
    /// The address the test was sent to.
    pub address: String,
    /// When it was sent (seconds since the epoch).
    pub sent_at: i64,
    /// When it came back through ingest.
    #[serde(default)]
    pub received_at: Option<i64>,
}

/// What `verify` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ChannelStatus {
    /// No test sent yet.
    Untested,
    /// The test came back: mail reaches ingest.
    Active {
        /// Seconds from send to ingest.
        seconds: i64,
        /// When it arrived (RFC 3339).
        at: String,
    },
    /// Sent, not back yet.
    Waiting {
        /// Seconds since it was sent.
        seconds: i64,
    },
    /// Not back within [`WAIT_LIMIT_SECS`].
    Failed {
        /// Seconds since it was sent.
        seconds: i64,
        /// What to check.
        fix: String,
    },
}

/// Send a test message to `to` (the public support address) from `from`; returns its token.
pub async fn send_test<O: ObjectStore, S: MailSender>(
    sessions: &Sessions<O>,
    sender: &S,
    from: &Mailbox,
    to: &str,
    now: i64,
) -> Result<String, ReplyError> {
    let token = format!("mct-{}", &sha256_hex(&format!("{to}/{now}"))[..16]);
    let domain = from.address.rsplit('@').next().unwrap_or("localhost");
    let out = Outgoing {
        from: from.clone(),
        to: Mailbox {
            name: None,
            address: to.to_string(),
        },
        subject: format!("mailcase forwarding test [{token}]"),
        message_id: format!("{token}@{domain}"),
        in_reply_to: None,
        references: Vec::new(),
        date: now,
        text: "This message tests that mail to the support address reaches mailcase. It is \
               recorded by mailcase and never becomes a case."
            .into(),
        auto_submitted: true,
        extra_headers: vec![("X-Mailcase-Test".into(), token.clone())],
        cc: Vec::new(),
    };
    let raw = compose(&out).map_err(|e| ReplyError::Invalid(e.to_string()))?;
    let record = ChannelRecord {
        token: token.clone(),
        address: to.to_string(),
        sent_at: now,
        received_at: None,
    };
    update_json(
        sessions.objects(),
        layout::CHANNEL,
        20,
        |_: Option<ChannelRecord>| Update::Write(record.clone(), ()),
    )
    .await?;
    sender
        .send(&OutboundMail {
            from: from.address.clone(),
            to: to.to_string(),
            cc: Vec::new(),
            message_id: out.message_id.clone(),
            raw,
        })
        .await?;
    Ok(token)
}

/// The test token in a subject, if any.
pub fn test_token(subject: &str) -> Option<&str> {
    TEST_TOKEN
        .captures(subject)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str())
}

/// Ingest saw a message whose subject carries `token`: mark the channel Active when it is the
/// latest test. Returns true when it was.
pub async fn observe<O: ObjectStore>(
    sessions: &Sessions<O>,
    token: &str,
    received_at: i64,
) -> Result<bool, StoreError> {
    update_json(
        sessions.objects(),
        layout::CHANNEL,
        20,
        |cur: Option<ChannelRecord>| match cur {
            Some(mut r) if r.token == token && r.received_at.is_none() => {
                r.received_at = Some(received_at);
                Update::Write(r, true)
            }
            Some(r) if r.token == token => Update::Keep(true),
            _ => Update::Keep(false),
        },
    )
    .await
}

/// The channel's state at `now`.
pub async fn status<O: ObjectStore>(
    sessions: &Sessions<O>,
    now: i64,
) -> Result<ChannelStatus, StoreError> {
    let Some(r) = sessions.get_json::<ChannelRecord>(layout::CHANNEL).await? else {
        return Ok(ChannelStatus::Untested);
    };
    Ok(match r.received_at {
        Some(at) => ChannelStatus::Active {
            seconds: (at - r.sent_at).max(0),
            at: mail::rfc3339_utc(at),
        },
        None if now - r.sent_at < WAIT_LIMIT_SECS => ChannelStatus::Waiting {
            seconds: now - r.sent_at,
        },
        None => ChannelStatus::Failed {
            seconds: now - r.sent_at,
            fix: format!(
                "the test sent to {} did not reach mailcase: check that the mailbox forwards to the SES receiving address (the stack output), that its domain's MX points to SES, that the receipt rule set is active (aws ses set-active-receipt-rule-set), and the ingest function's logs",
                r.address
            ),
        },
    })
}
