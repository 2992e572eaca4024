//! Every key and prefix mailcase reads or writes in the bucket, in one place. Writers and
//! readers build keys only with these functions, so this table is the whole layout.
//!
//! `<sid>` is a session id ([`crate::ids::SessionId`], `mc-` + 16 hex), `<key>` a message key
//! ([`crate::ids::MessageKey`], 32 hex), `<n>` a 1-based attachment number; both pass through
//! [`safe_key_segment`] (a no-op for well-formed ids). `sha256(x)` is [`sha256_hex`]; `[..n]`
//! its first n hex digits. All objects are JSON unless noted.
//!
//! Write modes: **create-only** is `If-None-Match: *` (the first writer wins, a second write of
//! the same key is a no-op or a conflict the caller resolves by reading); **CAS** is the
//! `If-Match: <etag>` read-modify-write loop ([`crate::update_json`]), created with
//! `If-None-Match: *`; **overwrite** is an unconditional write; **delete** removes the key.
//!
//! | key pattern | what it holds | written by | write mode |
//! |---|---|---|---|
//! | `raw/<ses id>` ([`raw`]; prefix `RAW_PREFIX`) | the raw mail (`message/rfc822`) | SES receipt rule's S3 action (outside mailcase); ingest reads it | (SES) |
//! | `sessions/<sid>/session.json` ([`session`]) | the [`crate::session::Session`] | ingest, handoff, followup, reply, merge (`Sessions::update`) | CAS |
//! | `sessions/<sid>/messages/<key>.json` ([`message`]) | one parsed inbound message (text, headers) | ingest | create-only |
//! | `sessions/<sid>/attachments/<key>/<n>-<name>` ([`attachment`]) | an attachment's bytes (its own content type) | ingest | create-only |
//! | `sessions/<sid>/uploads/<key>-<n>.json` ([`upload`]) | what happened to that attachment on the case | `app::attachments` (handoff, followup) | CAS |
//! | `sessions/<sid>/handoff.json` ([`handoff_claim`]) | the handoff id every handoff of the session uses (one case per session) | handoff | create-only |
//! | `sessions/<sid>/outbound/<sha256(reply key)[..32]>.json` ([`outbound_claim`]) | a reply's send claim: `sending` / `sent` + Message-ID, so a retried reply sends once | `app::reply` | CAS |
//! | `index/message-id/<sha256(Message-ID)>.json` ([`message_id_index`]) | Message-ID → session (+ message key once stored; ids only referenced so far too) | ingest, reply (own ids), followup and merge (repoint) | create-only, then CAS |
//! | `index/subject/<sha256(customer "\n" subject key)>.json` ([`subject_index`]) | customer + thread subject → newest open session | ingest | create-only, then CAS |
//! | `index/sender/<sha256(lowercase address)>.json` ([`sender_index`]) | a sender's recent mail, for the flood limits | ingest (`app::flood`) | CAS |
//! | `channel/email.json` ([`CHANNEL`]) | the email channel's connection test: token, sent, seen | `mailcase verify --send-test` (send), ingest (observe) | CAS |
//! | `unfiled/<key>.json` ([`unfiled`]) | mail not filed (auto-reply, bounce, connection test, …) with its reason | ingest | create-only |
//! | `rejected/<name>.json` ([`rejected`]) | input that can never be processed, with its reason and the input | ingest function (`app::rejected`) | create-only |
//! | `failures/<yyyymmddThhmmssZ>-<kind>-<hash16>.json` ([`failure`]) | a failed request or rejected input: cause, error, fix, ids | `app::status` (ingest, handoff) | create-only |
//! | `outbox/<sha256(Message-ID)[..32]>.eml` ([`outbox`]) | mail "sent" on local runs (`message/rfc822`) | `app::reply::StoreOutbox` (`mailcase` without SES) | create-only |
//! | `queue/<due epoch, 12 digits>-<sha256(due "/" body)[..16]>.json` ([`queued`]) | a handoff request waiting on local runs | `app::ports::StoreQueue` (`mailcase` without SQS) | create-only; delete when done |
//! | `verify/probe-<epoch>.txt` ([`verify_probe`]) | a probe (`text/plain`) | `app::verify` (store check) | create-only; delete at once |

use crate::ids::sha256_hex;
use crate::safe_key_segment;

/// Where SES's S3 action writes raw mail unless `RAW_PREFIX` says otherwise.
pub const DEFAULT_RAW_PREFIX: &str = "raw/";

/// Key of raw mail `ses_message_id` under the receipt rule's prefix.
pub fn raw(raw_prefix: &str, ses_message_id: &str) -> String {
    format!("{raw_prefix}{ses_message_id}")
}

/// Prefix of every session's objects.
pub const SESSIONS_PREFIX: &str = "sessions/";

/// The last part of a session document's key (a listing under [`SESSIONS_PREFIX`] filters on it).
pub const SESSION_DOC_SUFFIX: &str = "/session.json";

/// Prefix of one session's objects.
pub fn session_prefix(session_id: &str) -> String {
    format!("{SESSIONS_PREFIX}{}/", safe_key_segment(session_id))
}

/// Key of a session document.
pub fn session(session_id: &str) -> String {
    format!(
        "{SESSIONS_PREFIX}{}{SESSION_DOC_SUFFIX}",
        safe_key_segment(session_id)
    )
}

/// Key of a stored message.
pub fn message(session_id: &str, message_key: &str) -> String {
    format!(
        "{}messages/{}.json",
        session_prefix(session_id),
        safe_key_segment(message_key)
    )
}

/// Key of the bytes of attachment `index` (0-based) of a message.
pub fn attachment(session_id: &str, message_key: &str, index: usize, filename: &str) -> String {
    format!(
        "{}attachments/{}/{}-{}",
        session_prefix(session_id),
        safe_key_segment(message_key),
        index + 1,
        safe_key_segment(filename)
    )
}

/// Key of the record of what happened to attachment `index` (0-based) of a message.
pub fn upload(session_id: &str, message_key: &str, index: usize) -> String {
    format!(
        "{}uploads/{}-{}.json",
        session_prefix(session_id),
        safe_key_segment(message_key),
        index + 1
    )
}

/// Key of a session's handoff claim.
pub fn handoff_claim(session_id: &str) -> String {
    format!("{}handoff.json", session_prefix(session_id))
}

/// Key of the send claim of the reply with idempotency key `reply_key`.
pub fn outbound_claim(session_id: &str, reply_key: &str) -> String {
    format!(
        "{}outbound/{}.json",
        session_prefix(session_id),
        &sha256_hex(reply_key)[..32]
    )
}

/// Index key of a Message-ID (ids are compared exactly, as RFC 5322 says).
pub fn message_id_index(message_id: &str) -> String {
    format!("index/message-id/{}.json", sha256_hex(message_id))
}

/// Index key of a customer + thread subject.
pub fn subject_index(customer: &str, subject_key: &str) -> String {
    format!(
        "index/subject/{}.json",
        sha256_hex(&format!("{customer}\n{subject_key}"))
    )
}

/// Key of a sender's flood record (addresses compared case-insensitively).
pub fn sender_index(address: &str) -> String {
    format!("index/sender/{}.json", sha256_hex(&address.to_lowercase()))
}

/// Where the email channel's state lives.
pub const CHANNEL: &str = "channel/email.json";

/// Prefix of unfiled-mail records.
pub const UNFILED_PREFIX: &str = "unfiled/";

/// Key of the record of unfiled message `message_key`.
pub fn unfiled(message_key: &str) -> String {
    format!("{UNFILED_PREFIX}{message_key}.json")
}

/// Prefix of records of input that can never be processed.
pub const REJECTED_PREFIX: &str = "rejected/";

/// Key of rejected input `name` (a safe id or a digest of the input).
pub fn rejected(name: &str) -> String {
    format!("{REJECTED_PREFIX}{name}.json")
}

/// Prefix of failure records.
pub const FAILURES_PREFIX: &str = "failures/";

/// Key of a failure record: `time` is the compact UTC time (`yyyymmddThhmmssZ`) first, so a
/// listing is in time order; `kind` the request kind; `hash` a digest of the failure (16 hex
/// digits are used).
pub fn failure(time: &str, kind: &str, hash: &str) -> String {
    let hash = hash.get(..16).unwrap_or(hash);
    format!("{FAILURES_PREFIX}{time}-{kind}-{hash}.json")
}

/// Prefix of the local outbox.
pub const OUTBOX_PREFIX: &str = "outbox/";

/// Key of a mail in the local outbox.
pub fn outbox(message_id: &str) -> String {
    format!("{OUTBOX_PREFIX}{}.eml", &sha256_hex(message_id)[..32])
}

/// Prefix of the local handoff queue (`mailcase ingest`/`work` on a directory store).
pub const QUEUE_PREFIX: &str = "queue/";

/// Key of a request in the local handoff queue, due at `due_at` (epoch seconds; the key sorts
/// by it).
pub fn queued(due_at: i64, body: &str) -> String {
    format!(
        "{QUEUE_PREFIX}{due_at:012}-{}.json",
        &sha256_hex(&format!("{due_at}/{body}"))[..16]
    )
}

/// Prefix of the connection test's probe objects.
pub const VERIFY_PREFIX: &str = "verify/";

/// Key of the store probe written at `now`.
pub fn verify_probe(now: i64) -> String {
    format!("{VERIFY_PREFIX}probe-{now}.txt")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layout is the stored format: these keys must never change.
    #[test]
    fn keys_are_byte_for_byte_the_layout() {
        let sid = "mc-0123456789abcdef";
        let key = "00112233445566778899aabbccddeeff";
        assert_eq!(raw("raw/", "abc"), "raw/abc");
        assert_eq!(session(sid), "sessions/mc-0123456789abcdef/session.json");
        assert_eq!(
            message(sid, key),
            "sessions/mc-0123456789abcdef/messages/00112233445566778899aabbccddeeff.json"
        );
        assert_eq!(
            attachment(sid, key, 0, "a b.pdf"),
            "sessions/mc-0123456789abcdef/attachments/00112233445566778899aabbccddeeff/1-a_b.pdf"
        );
        assert_eq!(
            upload(sid, key, 1),
            "sessions/mc-0123456789abcdef/uploads/00112233445566778899aabbccddeeff-2.json"
        );
        assert_eq!(
            handoff_claim(sid),
            "sessions/mc-0123456789abcdef/handoff.json"
        );
        assert_eq!(
            outbound_claim(sid, "r"),
            format!(
                "sessions/mc-0123456789abcdef/outbound/{}.json",
                &sha256_hex("r")[..32]
            )
        );
        assert_eq!(
            message_id_index("a@b"),
            format!("index/message-id/{}.json", sha256_hex("a@b"))
        );
        assert_eq!(
            subject_index("c@d", "hello"),
            format!("index/subject/{}.json", sha256_hex("c@d\nhello"))
        );
        assert_eq!(
            sender_index("A@B"),
            format!("index/sender/{}.json", sha256_hex("a@b"))
        );
        assert_eq!(unfiled(key), format!("unfiled/{key}.json"));
        assert_eq!(rejected("x"), "rejected/x.json");
        assert_eq!(
            failure("20240101T000000Z", "ingest", "0123456789abcdef0123"),
            "failures/20240101T000000Z-ingest-0123456789abcdef.json"
        );
        assert_eq!(
            outbox("a@b"),
            format!("outbox/{}.eml", &sha256_hex("a@b")[..32])
        );
        assert_eq!(
            queued(7, "{}"),
            format!("queue/000000000007-{}.json", &sha256_hex("7/{}")[..16])
        );
        assert_eq!(verify_probe(5), "verify/probe-5.txt");
        assert_eq!(CHANNEL, "channel/email.json");
    }
}
