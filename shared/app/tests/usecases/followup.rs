//! Mail on a handed-off session: ingest queues a follow-up notice, the worker delivers it as a
//! note on the existing incident (never a new case); on a closed case it starts a new session
//! naming the ticket.

use app::events::FOLLOWUP_DELIVERED;
use app::handoff::Kind;
use serde_json::json;

use crate::world::{HANDOFF_AT, World, mail, text};

#[tokio::test]
async fn mail_after_the_handoff_is_a_note_on_the_existing_incident() {
    let (w, sid) = World::with_session().await;
    let case = w.handoff(&sid, None).await.expect("handoff");
    let late = mail("late@client.example")
        .reply_to("m1@client.example")
        .date("Wed, 13 Mar 2024 09:00:00 +0000")
        .body("Any news?");
    let o = w.ingest(&late, "ses-late").await;
    assert!(o.followup, "{o:?}");
    assert_eq!(o.session_id.as_deref(), Some(sid.as_str()));
    assert_eq!(
        w.session(&sid).await.pending_followups,
        std::slice::from_ref(&o.message_key)
    );
    // The notice on the queue is the documented body.
    let queued = w.queued().await;
    assert_eq!(queued.len(), 1);
    assert_eq!(Kind::of(&queued[0]).ok(), Some(Kind::Followup));
    assert_eq!(queued[0].session_id, sid);

    let worker = w.worker();
    let results = w.work_queue(&worker, HANDOFF_AT + 60).await;
    let value = results[0].as_ref().expect("delivered");
    assert_eq!(value["incident_id"], json!(case.incident_id));
    assert_eq!(value["followups_noted"], 1);
    let notes: Vec<_> = w
        .records("annotations")
        .into_iter()
        .filter(|n| text(n, "notetext").contains("Any news?"))
        .collect();
    assert_eq!(notes.len(), 1);
    assert_eq!(text(&notes[0], "_objectid_value"), case.incident_id);
    assert!(text(&notes[0], "notetext").contains("2024-03-13 09:00:00 UTC"));
    assert_eq!(w.records("incidents").len(), 1, "no new case");
    assert!(w.session(&sid).await.pending_followups.is_empty());
    assert_eq!(w.feed.of(FOLLOWUP_DELIVERED).len(), 1);
    // The same notice again (SQS delivers at least once) adds nothing.
    let again = worker.handle(&queued[0], HANDOFF_AT + 120).await;
    assert_eq!(again.expect("again")["followups_noted"], 0);
    assert_eq!(w.records("annotations").len(), 1);
}

#[tokio::test]
async fn mail_after_the_case_is_resolved_starts_a_session_naming_the_ticket() {
    let (w, sid) = World::with_session().await;
    let case = w.handoff(&sid, None).await.expect("handoff");
    let incident = uuid::Uuid::parse_str(&case.incident_id).expect("uuid");
    w.emu.update(
        "incidents",
        incident,
        json!({"statecode": 1, "statuscode": 5}),
    );
    let again = mail("again@client.example")
        .reply_to("m1@client.example")
        .body("It broke again.");
    assert!(w.ingest(&again, "ses-again").await.followup);
    let worker = w.worker();
    let results = w.work_queue(&worker, HANDOFF_AT + 60).await;
    let value = results[0].as_ref().expect("delivered");
    let new_sid = value["followups_new_sessions"][0]
        .as_str()
        .expect("a new session")
        .to_string();
    assert_ne!(new_sid, sid);
    let fresh = w.session(&new_sid).await;
    assert_eq!(
        fresh.previous_ticket.as_deref(),
        Some(case.ticket_number.as_str())
    );
    assert_eq!(fresh.messages[0].reply_text, "It broke again.");
    let second = w.handoff(&new_sid, None).await.expect("second case");
    assert_ne!(second.incident_id, case.incident_id);
    assert_eq!(w.records("incidents").len(), 2);
    let d = text(&w.incident(&second.incident_id), "description");
    let continues = format!("Continues case: {}", case.ticket_number);
    assert!(d.contains(&continues), "{d}");
}
