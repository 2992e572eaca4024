//! The request worker (`app::requests::Worker`): the one path of every queued request kind, and
//! the documented error of each bad one, recorded under `failures/` and announced.

use app::events::{CASE_CREATED, HANDOFF_FAILED};
use app::handoff::{Kind, Request};
use app::requests::AUTO_HANDOFF_ID;
use app::routing::Policy;
use app::status::FailureRecord;
use serde_json::json;
use store::layout::{FAILURES_PREFIX, OUTBOX_PREFIX};
use store::session::{Direction, SessionState};

use crate::world::{HANDOFF_AT, World, mail, text};

#[tokio::test]
async fn a_handoff_request_body_creates_the_case_and_announces_it() {
    let (w, sid) = World::with_session().await;
    // As the SQS body or the direct invocation carries it.
    let body = json!({"session_id": sid, "classification": "Shipping", "sentiment": "negative"});
    let req: Request = serde_json::from_value(body).expect("request");
    assert_eq!(Kind::of(&req).ok(), Some(Kind::Handoff));
    let v = w.worker().handle(&req, HANDOFF_AT).await.expect("handoff");
    assert_eq!(v["classification"], "Shipping");
    assert_eq!(v["route"], "*");
    assert_eq!(v["priority"], 1);
    assert_eq!(v["automatic"], false);
    assert_eq!(v["created"], true);
    let inc = &w.records("incidents")[0];
    assert_eq!(text(inc, "title"), "Shipping - Ana Lima");
    assert_eq!(v["incident_id"], json!(text(inc, "incidentid")));
    let created = w.feed.of(CASE_CREATED);
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["session_id"], json!(sid));
    assert!(w.keys(FAILURES_PREFIX).await.is_empty());
}

#[tokio::test]
async fn bad_requests_and_unknown_sessions_give_the_documented_errors() {
    let (w, open) = World::with_session().await;
    let worker = w.worker();
    let request = |session: &str, kind: Option<&str>| Request {
        session_id: session.into(),
        kind: kind.map(str::to_string),
        ..Request::default()
    };
    let cases = [
        (
            request(&open, Some("later")),
            "bad_request",
            "unknown kind `later` (use handoff, followup, auto or reply)",
        ),
        (
            request(&open, Some("followup")),
            "bad_request",
            "has not been handed off",
        ),
        (request("  ", None), "bad_request", "session_id is empty"),
        (
            request("mc-00000000000000ff", None),
            "session_not_found",
            "no session mc-00000000000000ff",
        ),
    ];
    for (i, (req, cause, says)) in cases.iter().enumerate() {
        let f = worker
            .handle(req, HANDOFF_AT + i as i64)
            .await
            .expect_err("refused");
        assert_eq!(f.cause, *cause, "{f:?}");
        assert!(!f.retryable, "{f:?}");
        assert!(f.error.contains(says), "{f:?}");
        let fix = if *cause == "bad_request" {
            "Send a valid handoff request"
        } else {
            "Check the session id mc-00000000000000ff"
        };
        assert!(f.fix.starts_with(fix), "{f:?}");
    }
    // Each failure is recorded for `mailcase status` and announced; nothing reached Dynamics.
    let keys = w.keys(FAILURES_PREFIX).await;
    assert_eq!(keys.len(), cases.len(), "{keys:?}");
    let record: FailureRecord = w
        .sessions
        .get_json(&keys[0])
        .await
        .expect("read")
        .expect("record");
    assert_eq!(record.kind, "handoff");
    assert_eq!(w.feed.of(HANDOFF_FAILED).len(), cases.len());
    assert!(w.records("incidents").is_empty());
    assert_eq!(w.session(&open).await.state, SessionState::Open);
}

#[tokio::test]
async fn an_immediate_route_hands_off_once_through_the_queue() {
    let w = World::with_policy(Policy::Immediate).await;
    let sid = w.file(&mail("m1@client.example"), "ses-1").await;
    let queued = w.queued().await;
    assert_eq!(queued.len(), 1);
    assert_eq!(Kind::of(&queued[0]).ok(), Some(Kind::Auto));
    let worker = w.worker();
    let results = w.work_queue(&worker, HANDOFF_AT).await;
    let v = results[0].as_ref().expect("handed off");
    assert_eq!(v["automatic"], true);
    let s = w.session(&sid).await;
    assert_eq!(s.state, SessionState::HandedOff);
    assert_eq!(
        s.handoff.map(|h| h.handoff_id).as_deref(),
        Some(AUTO_HANDOFF_ID)
    );
    // A redelivered notice finds the case.
    let again = worker
        .handle(&queued[0], HANDOFF_AT + 5)
        .await
        .expect("again");
    assert_eq!(again["status"], "already_handed_off");
    assert_eq!(w.records("incidents").len(), 1);
}

#[tokio::test]
async fn a_reply_is_sent_once_and_its_echo_is_a_loop() {
    let (w, sid) = World::with_session().await;
    let worker = w.worker();
    let req = Request {
        session_id: sid.clone(),
        kind: Some("reply".into()),
        text: Some("We are sending a new one today.".into()),
        reply_id: Some("r-1".into()),
        ..Request::default()
    };
    let first = worker.handle(&req, HANDOFF_AT).await.expect("sent");
    assert_eq!(first["sent"], true);
    assert_eq!(first["via"], "outbox");
    let again = worker.handle(&req, HANDOFF_AT + 1).await.expect("again");
    assert_eq!(again["sent"], false, "the retry sends nothing new");
    assert_eq!(again["message_id"], first["message_id"]);
    let outbox = w.keys(OUTBOX_PREFIX).await;
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    let s = w.session(&sid).await;
    let outbound: Vec<_> = s
        .messages
        .iter()
        .filter(|m| m.direction == Direction::Outbound)
        .collect();
    assert_eq!(outbound.len(), 1);
    // Our own mail bounced back to the support address is never filed.
    let raw = w.bytes(&outbox[0]).await;
    let echo = w.ingest_raw(&raw, "ses-echo").await;
    assert_eq!(echo.disposition, "loop", "{echo:?}");
    assert_eq!(w.session(&sid).await.messages.len(), 2);
}
