//! The event feed (EventBridge source `mailcase`): one builder per detail type. Details carry
//! ids, addresses, subject, route, reason, incident id and ticket number — never bodies (an
//! agent reads the session). `event_id` is derived from what the event describes, so a retry
//! that publishes again carries the same id.

use serde_json::{Value, json};
use store::ids::sha256_hex;
use store::session::Session;

use crate::ports::Event;

/// EventBridge `Source` of every event.
pub const SOURCE: &str = "mailcase";

/// Every detail type, for documentation and tests.
pub const DETAIL_TYPES: [&str; 6] = [
    SESSION_CREATED,
    MESSAGE_FILED,
    MAIL_NOT_FILED,
    CASE_CREATED,
    FOLLOWUP_DELIVERED,
    HANDOFF_FAILED,
];
/// A new session (email thread).
pub const SESSION_CREATED: &str = "Session Created";
/// A customer message filed into a session.
pub const MESSAGE_FILED: &str = "Message Filed";
/// Mail recorded but not filed (auto-reply, bounce, spam, loop, ...).
pub const MAIL_NOT_FILED: &str = "Mail Not Filed";
/// A case created (or found, on a retry) for a session.
pub const CASE_CREATED: &str = "Case Created";
/// Mail after the handoff added to the case as a note.
pub const FOLLOWUP_DELIVERED: &str = "Follow-up Delivered";
/// A handoff request failed.
pub const HANDOFF_FAILED: &str = "Handoff Failed";

fn event(detail_type: &str, identity: &str, mut detail: Value) -> Event {
    detail["event_id"] = json!(&sha256_hex(&format!("{detail_type}/{identity}"))[..32]);
    Event {
        detail_type: detail_type.to_string(),
        detail,
    }
}

fn customer(session: &Session) -> Value {
    match &session.customer {
        Some(c) => json!({"name": c.name, "email": c.address}),
        None => Value::Null,
    }
}

/// `Session Created`.
pub fn session_created(session: &Session, message_key: &str) -> Event {
    event(
        SESSION_CREATED,
        &session.id,
        json!({
            "session_id": session.id,
            "customer": customer(session),
            "subject": session.subject,
            "route": session.route,
            "recipients": session.recipients,
            "message_key": message_key,
            "previous_ticket": session.previous_ticket,
        }),
    )
}

/// `Message Filed`.
pub fn message_filed(session: &Session, message_key: &str, followup: bool) -> Event {
    let m = session.messages.iter().find(|m| m.key == message_key);
    event(
        MESSAGE_FILED,
        &format!("{}/{message_key}", session.id),
        json!({
            "session_id": session.id,
            "message_key": message_key,
            "message_id": m.and_then(|m| m.message_id.clone()),
            "from": m.and_then(|m| m.from.as_ref()).map(|f| json!({"name": f.name, "email": f.address})),
            "subject": m.and_then(|m| m.subject.clone()),
            "route": session.route,
            "followup": followup,
            "state": session.state.as_str(),
        }),
    )
}

/// `Mail Not Filed`.
pub fn mail_not_filed(
    message_key: &str,
    from: Option<&mail::Mailbox>,
    subject: Option<&str>,
    disposition: &str,
    reason: &str,
) -> Event {
    event(
        MAIL_NOT_FILED,
        message_key,
        json!({
            "message_key": message_key,
            "from": from.map(|f| json!({"name": f.name, "email": f.address})),
            "subject": subject,
            "disposition": disposition,
            "reason": reason,
        }),
    )
}

/// `Case Created`.
#[allow(clippy::too_many_arguments)]
pub fn case_created(
    session: &Session,
    incident_id: &str,
    ticket_number: &str,
    created: bool,
    classification: &str,
    priority: i64,
    route: &str,
    automatic: bool,
) -> Event {
    event(
        CASE_CREATED,
        incident_id,
        json!({
            "session_id": session.id,
            "incident_id": incident_id,
            "ticket_number": ticket_number,
            "created": created,
            "classification": classification,
            "priority": priority,
            "route": route,
            "customer": customer(session),
            "subject": session.subject,
            "automatic": automatic,
        }),
    )
}

/// `Follow-up Delivered`.
pub fn followup_delivered(
    session_id: &str,
    incident_id: &str,
    ticket_number: &str,
    message_key: &str,
) -> Event {
    event(
        FOLLOWUP_DELIVERED,
        &format!("{incident_id}/{message_key}"),
        json!({
            "session_id": session_id,
            "incident_id": incident_id,
            "ticket_number": ticket_number,
            "message_key": message_key,
        }),
    )
}

/// `Handoff Failed`: one per failed attempt (the attempt's time is part of its identity).
pub fn handoff_failed(
    session_id: &str,
    kind: &str,
    error: &str,
    fix: &str,
    retryable: bool,
    at: i64,
) -> Event {
    event(
        HANDOFF_FAILED,
        &format!("{session_id}/{kind}/{at}/{error}"),
        json!({
            "session_id": session_id,
            "kind": kind,
            "error": error,
            "fix": fix,
            "retryable": retryable,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session {
            customer: Some(mail::Mailbox {
                name: Some("Ana".into()),
                address: "ana@client.example".into(),
            }),
            subject: "Broken".into(),
            thread_subject: "broken".into(),
            route: Some("*".into()),
            ..Session::new("mc-0000000000000001", "")
        }
    }

    fn keys(v: &Value) -> Vec<String> {
        let mut k: Vec<String> = v
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        k.sort();
        k
    }

    /// The samples in events/eventbridge/ show exactly the fields the builders write.
    #[test]
    fn samples_match_the_builders() {
        let s = session();
        let built = [
            (
                session_created(&s, "k"),
                include_str!("../../../events/eventbridge/session-created.json"),
            ),
            (
                message_filed(&s, "k", false),
                include_str!("../../../events/eventbridge/message-filed.json"),
            ),
            (
                mail_not_filed("k", None, None, "auto_reply", "r"),
                include_str!("../../../events/eventbridge/mail-not-filed.json"),
            ),
            (
                case_created(&s, "i", "CAS-1", true, "Support", 2, "*", true),
                include_str!("../../../events/eventbridge/case-created.json"),
            ),
            (
                followup_delivered("s", "i", "CAS-1", "k"),
                include_str!("../../../events/eventbridge/follow-up-delivered.json"),
            ),
            (
                handoff_failed("s", "auto", "e", "f", false, 1),
                include_str!("../../../events/eventbridge/handoff-failed.json"),
            ),
        ];
        let mut types: Vec<&str> = Vec::new();
        for (event, sample) in built {
            let sample: Value = serde_json::from_str(sample).expect("sample JSON");
            assert_eq!(sample["source"], SOURCE);
            assert_eq!(sample["detail-type"], event.detail_type.as_str());
            assert_eq!(
                keys(&sample["detail"]),
                keys(&event.detail),
                "{}",
                event.detail_type
            );
            types.push(
                DETAIL_TYPES
                    .iter()
                    .find(|t| **t == event.detail_type)
                    .copied()
                    .unwrap_or(""),
            );
        }
        assert_eq!(types, DETAIL_TYPES.to_vec());
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        let s = session();
        assert_eq!(
            session_created(&s, "a").detail["event_id"],
            session_created(&s, "b").detail["event_id"]
        );
        assert_ne!(
            message_filed(&s, "a", false).detail["event_id"],
            message_filed(&s, "b", false).detail["event_id"]
        );
        assert_ne!(
            case_created(&s, "i", "t", true, "c", 1, "*", true).detail["event_id"],
            session_created(&s, "i").detail["event_id"]
        );
    }
}
