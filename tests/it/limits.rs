//! Column limits read lazily (shared/app/src/limits.rs) against an emulator org whose limits
//! differ from stock, and the cold path's request count.

use app::handoff::{LimitsCache, Outcome, Request};
use serde_json::json;

use crate::handoff::world;
use crate::support::Mail;
use crate::world::{World, text};

fn metadata_reads(w: &World) -> u64 {
    w.emu
        .request_counts()
        .iter()
        .filter(|(k, _)| k.contains("EntityDefinitions"))
        .map(|(_, v)| v)
        .sum()
}

fn batches(w: &World) -> u64 {
    w.emu
        .request_counts()
        .get("POST $batch")
        .copied()
        .unwrap_or(0)
}

/// An org whose description MaxLength is `max_length`, and the handoff of a first mail with
/// `body`.
async fn description_limit_handoff(
    prefix: &str,
    max_length: usize,
    body: &str,
) -> (World, Outcome) {
    let w = world(prefix).await;
    w.emu.set_max_length("incident", "description", max_length);
    let sid = w
        .ingest_file(
            Mail {
                body,
                ..Mail::default()
            },
            "a",
        )
        .await;
    let out = w.handoff(&sid, None).await.expect("handoff");
    (w, out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cold_handoff_is_the_token_and_two_requests_for_a_known_contact() {
    let w = world("l-cold").await;
    w.emu.seed(
        "contacts",
        uuid::Uuid::new_v4(),
        json!({"lastname": "Lima", "emailaddress1": "ana@client.example"}),
    );
    let sid = w.ingest_file(Mail::default(), "a").await;
    // The world's client has not sent anything yet: this is a cold start.
    assert_eq!(w.crm.requests(), 0);
    let out = w.handoff(&sid, None).await.expect("handoff");
    assert!(out.created && !out.truncated);
    assert_eq!(
        w.crm.requests(),
        3,
        "token, contact lookup, $batch: {:?}",
        w.emu.request_counts()
    );
    assert_eq!(metadata_reads(&w), 0, "no column limits read up front");

    // Another cold process, a new sender: + the contact create.
    let crm = w.client();
    let limits = LimitsCache::default();
    let bo = w
        .ingest_file(
            Mail {
                from: "Bo Berg <bo@client.example>",
                message_id: "bo1@client.example",
                subject: "Another question",
                ..Mail::default()
            },
            "b",
        )
        .await;
    let req = Request {
        session_id: bo,
        classification: Some("Billing".into()),
        ..Request::default()
    };
    app::handoff::run(
        &w.sessions,
        &crm,
        &w.settings,
        &limits,
        &req,
        0,
        app::attachments::Mode::List,
    )
    .await
    .expect("new contact handoff");
    assert_eq!(
        crm.requests(),
        4,
        "token, lookup, create, $batch: {:?}",
        w.emu.request_counts()
    );

    // Warm, known contact: the lookup and the $batch.
    let again = w
        .ingest_file(
            Mail {
                message_id: "m9@client.example",
                subject: "Third question",
                ..Mail::default()
            },
            "c",
        )
        .await;
    let before = w.crm.requests();
    w.handoff(&again, None).await.expect("warm handoff");
    assert_eq!(w.crm.requests() - before, 2);
    assert_eq!(metadata_reads(&w), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_description_limit_below_stock_is_learnt_from_the_refusal_and_retried_once() {
    // About 1,500 characters of description: fits the stock 2000, not this org's 1000.
    let body = "Still broken after the update.\r\n".repeat(48);
    let (w, out) = description_limit_handoff("l-small", 1000, &body).await;
    assert_eq!(batches(&w), 2, "refused once, then created");
    assert_eq!(
        metadata_reads(&w),
        3,
        "the three limits read after the refusal, not before: {:?}",
        w.emu.request_counts()
    );
    assert!(out.truncated);
    assert!(
        out.dropped_properties.is_empty(),
        "{:?}",
        out.dropped_properties
    );
    let incidents = w.emu.records("incidents");
    assert_eq!(incidents.len(), 1);
    let d = text(&incidents[0], "description");
    let len = d.encode_utf16().count();
    assert!(len <= 1000 && len > 500, "cut to the org's limit: {len}");
    assert!(d.contains("not shown") || d.contains('…'), "{d}");
    assert_eq!(incidents[0]["casetypecode"], 2, "ticket property kept");
    let notes = w.emu.records("annotations");
    assert_eq!(notes.len(), 1, "the full transcript as one note");
    assert_eq!(
        text(&notes[0], "notetext")
            .matches("Still broken after the update.")
            .count(),
        48,
        "full transcript in the note"
    );
    // The process now knows the org's limits: the next long thread is cut up front.
    let next = w
        .ingest_file(
            Mail {
                message_id: "m2@client.example",
                subject: "Next question",
                body: &body,
                ..Mail::default()
            },
            "b",
        )
        .await;
    w.handoff(&next, None).await.expect("second handoff");
    assert_eq!(batches(&w), 3, "no second refusal");
    assert_eq!(metadata_reads(&w), 3, "no second read");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_description_limit_above_stock_takes_a_long_transcript_whole() {
    // About 5,000 characters: over the stock 2000, so the real limit is read before cutting.
    let body = "The long story continues here.\r\n".repeat(165);
    let (w, out) = description_limit_handoff("l-large", 100_000, &body).await;
    assert!(!out.truncated);
    assert_eq!(batches(&w), 1, "never refused");
    assert_eq!(
        metadata_reads(&w),
        1,
        "only the description's limit: {:?}",
        w.emu.request_counts()
    );
    let d = text(&w.emu.records("incidents")[0], "description");
    assert!(d.encode_utf16().count() > 5000);
    assert_eq!(
        d.matches("The long story continues here.").count(),
        165,
        "the transcript lands whole"
    );
    assert!(
        w.emu.records("annotations").is_empty(),
        "no transcript note"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_follow_up_over_a_lowered_note_limit_is_split_after_one_refusal() {
    let w = world("l-note").await;
    w.emu.set_max_length("annotation", "notetext", 600);
    let sid = w.ingest_file(Mail::default(), "a").await;
    w.handoff(&sid, None).await.expect("handoff");
    let body = "More detail about the fault.\r\n".repeat(30);
    let late = Mail {
        message_id: "late@client.example",
        in_reply_to: Some("m1@client.example"),
        subject: "Re: Order 1042 arrived damaged",
        body: &body,
        date: "Wed, 13 Mar 2024 09:00:00 +0000",
        ..Mail::default()
    };
    let o = w.ingest(late, "late").await;
    assert!(o.followup);
    let r = w.followup(&sid).await.expect("follow-up");
    assert_eq!(r.followups_noted, 1);
    let notes = w.emu.records("annotations");
    assert_eq!(notes.len(), 2, "split at the org's 600");
    for n in &notes {
        assert!(text(n, "notetext").encode_utf16().count() <= 600);
    }
    let all: String = notes.iter().map(|n| text(n, "notetext")).collect();
    assert_eq!(
        all.matches("More detail about the fault.").count(),
        30,
        "every word delivered once"
    );
    assert_eq!(metadata_reads(&w), 3, "read once, after the refusal");
}
