//! Handoff: a session becomes exactly one complete incident (title, transcript, queue,
//! priority, owner from the settings), linked to a contact found by email or created once.

use serde_json::json;
use store::session::SessionState;

use crate::world::{World, mail, text};

#[tokio::test]
async fn a_session_becomes_one_complete_incident() {
    let (w, sid) = World::with_session().await;
    let answer = mail("m2@client.example")
        .reply_to("m1@client.example")
        .date("Tue, 12 Mar 2024 12:00:00 +0000")
        .body("Also, I was charged twice.\r\n\r\nOn Tue, Ana wrote:\r\n> My order 1042 arrived damaged.");
    w.file(&answer, "ses-2").await;

    let out = w.handoff(&sid, None).await.expect("handoff");
    assert!(out.created && !out.truncated, "{out:?}");
    let incidents = w.records("incidents");
    assert_eq!(incidents.len(), 1);
    let inc = &incidents[0];
    assert_eq!(text(inc, "title"), "Billing - Ana Lima");
    let d = text(inc, "description");
    let header = "Channel: email\nClassification: Billing\nSentiment: negative\nSummary: Charged twice\nCustomer: Ana Lima\nEmail: ana@client.example\nSession: ";
    assert!(d.starts_with(&format!("{header}{sid}")), "{d}");
    let first = d
        .find("[2024-03-12 10:15:00 UTC] Ana Lima <ana@client.example>")
        .expect("first message with its time and author");
    let second = d.find("[2024-03-12 12:00:00 UTC]").expect("second message");
    assert!(first < second, "in order: {d}");
    assert!(d.contains("Also, I was charged twice."), "{d}");
    assert_eq!(
        d.matches("arrived damaged.").count(),
        1,
        "quote stripped: {d}"
    );
    let seeds = w.emu.seeds();
    assert_eq!(inc["prioritycode"], 1);
    assert_eq!(inc["caseorigincode"], 2);
    assert_eq!(text(inc, "_ownerid_value"), seeds.team_id.to_string());
    let items = w.records("queueitems");
    assert_eq!(items.len(), 1);
    assert_eq!(
        text(&items[0], "_queueid_value"),
        seeds.queue_id.to_string()
    );
    assert_eq!(text(&items[0], "_objectid_value"), out.incident_id);
    // The session records the case and is handed off.
    let s = w.session(&sid).await;
    assert_eq!(s.state, SessionState::HandedOff);
    let h = s.handoff.expect("handoff record");
    assert_eq!(h.dynamics365_incident_id, text(inc, "incidentid"));
    assert_eq!(h.dynamics365_ticket_number, text(inc, "ticketnumber"));
    assert_eq!(out.ticket_number, h.dynamics365_ticket_number);
}

#[tokio::test]
async fn the_contact_is_found_by_email_or_created_once() {
    let w = World::start().await;
    // Ana exists already, under another spelling of her address.
    let existing = uuid::Uuid::new_v4();
    w.emu.seed(
        "contacts",
        existing,
        json!({"lastname": "Lima", "emailaddress1": "ANA@Client.Example"}),
    );
    let ana = w.file(&mail("m1@client.example"), "ses-1").await;
    w.handoff(&ana, None).await.expect("handoff");
    assert_eq!(w.records("contacts").len(), 1, "found, not created");
    let inc = &w.records("incidents")[0];
    assert_eq!(text(inc, "_customerid_value"), existing.to_string());
    // Bob is new: two threads of his make one contact, named from his address.
    for (id, subject) in [("b1@client.example", "One"), ("b2@client.example", "Two")] {
        let m = mail(id).from("bob@client.example").subject(subject);
        let sid = w.file(&m, id).await;
        let out = w.handoff(&sid, None).await.expect("handoff");
        let title = text(&w.incident(&out.incident_id), "title");
        assert_eq!(title, "Billing - bob@client.example");
    }
    let bobs: Vec<_> = w
        .records("contacts")
        .into_iter()
        .filter(|c| text(c, "emailaddress1") == "bob@client.example")
        .collect();
    assert_eq!(bobs.len(), 1, "{bobs:?}");
    assert_eq!(text(&bobs[0], "lastname"), "bob");
    assert_eq!(w.records("incidents").len(), 3);
}

#[tokio::test]
async fn a_second_handoff_of_the_session_is_the_same_incident() {
    let (w, sid) = World::with_session().await;
    let first = w.handoff(&sid, Some("h-1")).await.expect("handoff");
    assert!(first.created);
    for again in [Some("h-1"), Some("another-key"), None] {
        let out = w.handoff(&sid, again).await.expect("again");
        assert!(!out.created, "{again:?}: {out:?}");
        assert_eq!(out.incident_id, first.incident_id);
        assert_eq!(out.ticket_number, first.ticket_number);
    }
    assert_eq!(w.records("incidents").len(), 1);
    assert_eq!(w.records("queueitems").len(), 1);
    assert_eq!(w.records("contacts").len(), 1);
}

#[tokio::test]
async fn a_long_thread_is_cut_to_the_column_and_kept_whole_in_a_note() {
    let w = World::start().await;
    w.emu.set_max_length("incident", "description", 600);
    let long = "The parcel was crushed and the box was wet. ".repeat(30);
    let sid = w
        .file(&mail("m1@client.example").body(&long), "ses-1")
        .await;
    let newest = mail("m2@client.example")
        .reply_to("m1@client.example")
        .body("NEWEST WORDS");
    w.file(&newest, "ses-2").await;
    let out = w.handoff(&sid, None).await.expect("handoff");
    assert!(out.truncated);
    let inc = &w.records("incidents")[0];
    let d = text(inc, "description");
    assert!(d.chars().count() <= 600, "{} characters", d.chars().count());
    assert!(d.contains("NEWEST WORDS"), "newest kept: {d}");
    assert!(!d.contains("crushed"), "the oldest left out: {d}");
    assert!(
        d.contains("1 of 2 earlier messages not shown"),
        "and said: {d}"
    );
    let notes = w.records("annotations");
    assert_eq!(notes.len(), 1, "{notes:?}");
    let note = text(&notes[0], "notetext");
    assert!(
        note.contains(long.trim()) && note.contains("NEWEST WORDS"),
        "{note}"
    );
    assert_eq!(text(&notes[0], "_objectid_value"), out.incident_id);
}
