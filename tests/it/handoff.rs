//! Ingest -> handoff against moto (S3) and the Dataverse emulator.

use std::sync::Arc;

use app::handoff::Request;
use dataverse_emulator::{Fault, Kind};
use dynamics::DynamicsError;
use serde_json::{Value, json};
use testkit::MotoServer;

use crate::support::Mail;
use crate::world::{World, text};

/// The world of the handoff and limits tests: the org's queue, team and priority, a ticket
/// property and a session link.
pub(crate) async fn world(prefix: &str) -> World {
    World::builder()
        .ticket_properties(json!({"casetypecode": 2}))
        .session_url_template("https://console.example/sessions/{session_id}")
        .start(prefix)
        .await
}

impl World {
    async fn three_message_thread(&self, from: &str) -> String {
        let sid = self
            .ingest_file(
                Mail {
                    from,
                    body: "My invoice 42 was charged twice.",
                    ..Mail::default()
                },
                "a",
            )
            .await;
        let second = Mail {
            from: "Acme Support <support@acme.com>",
            message_id: "m2@acme.com",
            in_reply_to: Some("m1@client.example"),
            references: &["m1@client.example"],
            subject: "Re: Order 1042 arrived damaged",
            date: "Tue, 12 Mar 2024 11:00:00 +0000",
            body: "Which card did you use?\r\n\r\nOn Tue, Ana wrote:\r\n> My invoice 42 was charged twice.",
            ..Mail::default()
        };
        let third = Mail {
            from,
            message_id: "m3@client.example",
            in_reply_to: Some("m2@acme.com"),
            references: &["m1@client.example", "m2@acme.com"],
            subject: "Re: Order 1042 arrived damaged",
            date: "Tue, 12 Mar 2024 12:00:00 +0000",
            body: "The Visa ending 4242.\r\n\r\nOn Tue, Acme Support wrote:\r\n> Which card did you use?",
            ..Mail::default()
        };
        assert_eq!(self.ingest_file(second, "b").await, sid);
        assert_eq!(self.ingest_file(third, "c").await, sid);
        sid
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_message_thread_becomes_one_complete_case() {
    let w = world("h-three").await;
    let sid = w
        .three_message_thread("Ana Lima <ana@client.example>")
        .await;
    let out = w.handoff(&sid, None).await.expect("handoff");
    assert!(out.created);
    let incidents = w.emu.records("incidents");
    assert_eq!(incidents.len(), 1);
    let inc = &incidents[0];
    assert_eq!(text(inc, "title"), "Billing - Ana Lima");
    let d = text(inc, "description");
    for line in [
        "Channel: email",
        "Classification: Billing",
        "Sentiment: negative",
        "Summary: Charged twice",
        "Customer: Ana Lima",
        "Email: ana@client.example",
        "Session: https://console.example/sessions/",
    ] {
        assert!(d.contains(line), "missing {line:?} in {d}");
    }
    let a = d.find("[2024-03-12 10:15:00 UTC] Ana Lima <ana@client.example> (customer):\nMy invoice 42 was charged twice.").expect("first");
    let b = d
        .find("[2024-03-12 11:00:00 UTC] Acme Support <support@acme.com>")
        .expect("second");
    let c = d.find("The Visa ending 4242.").expect("third");
    assert!(a < b && b < c, "messages in order");
    assert_eq!(
        d.matches("charged twice").count(),
        1,
        "quoted history stripped, nothing repeats: {d}"
    );
    assert_eq!(inc["prioritycode"], 1);
    assert_eq!(inc["caseorigincode"], 2);
    assert_eq!(inc["casetypecode"], 2, "ticket_properties applied");
    assert_eq!(
        text(inc, "_ownerid_value"),
        w.emu.seeds().team_id.to_string()
    );
    let contacts = w.emu.records("contacts");
    assert_eq!(contacts.len(), 1);
    assert_eq!(
        text(inc, "_customerid_value"),
        text(&contacts[0], "contactid")
    );
    assert_eq!(text(&contacts[0], "firstname"), "Ana");
    assert_eq!(text(&contacts[0], "lastname"), "Lima");
    let items = w.emu.records("queueitems");
    assert_eq!(items.len(), 1);
    assert_eq!(
        text(&items[0], "_queueid_value"),
        w.emu.seeds().queue_id.to_string()
    );
    let s = w.sessions.load(&sid).await.expect("load").expect("session");
    let h = s.handoff.expect("handoff record");
    assert_eq!(h.dynamics365_incident_id, text(inc, "incidentid"));
    assert_eq!(h.dynamics365_ticket_number, text(inc, "ticketnumber"));
    // Known contact, warm client: the lookup and one $batch.
    let sid2 = w
        .ingest_file(
            Mail {
                message_id: "other@client.example",
                subject: "Second question",
                ..Mail::default()
            },
            "d",
        )
        .await;
    w.emu.reset_counts();
    let before = w.crm.requests();
    w.handoff(&sid2, None).await.expect("second handoff");
    assert_eq!(w.crm.requests() - before, 2, "{:?}", w.emu.request_counts());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn contacts_are_reused_and_never_duplicated() {
    let w = world("h-contacts").await;
    let existing = uuid::Uuid::new_v4();
    w.emu.seed(
        "contacts",
        existing,
        json!({"lastname": "Lima", "emailaddress1": "ANA@Client.Example"}),
    );
    let sid = w.ingest_file(Mail::default(), "a").await;
    w.handoff(&sid, None).await.expect("handoff");
    assert_eq!(
        w.emu.records("contacts").len(),
        1,
        "existing contact reused regardless of case"
    );
    assert_eq!(
        text(&w.emu.records("incidents")[0], "_customerid_value"),
        existing.to_string()
    );
    // Two concurrent handoffs for one new sender.
    let a = w
        .ingest_file(
            Mail {
                from: "New Person <new@client.example>",
                message_id: "n1@client.example",
                subject: "One",
                ..Mail::default()
            },
            "n1",
        )
        .await;
    let b = w
        .ingest_file(
            Mail {
                from: "New Person <new@client.example>",
                message_id: "n2@client.example",
                subject: "Two",
                ..Mail::default()
            },
            "n2",
        )
        .await;
    let w = Arc::new(w);
    let (ra, rb) = tokio::join!(
        {
            let w = w.clone();
            async move { w.handoff(&a, None).await }
        },
        {
            let w = w.clone();
            async move { w.handoff(&b, None).await }
        }
    );
    ra.expect("a");
    rb.expect("b");
    let news: Vec<_> = w
        .emu
        .records("contacts")
        .into_iter()
        .filter(|c| text(c, "emailaddress1") == "new@client.example")
        .collect();
    assert_eq!(news.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_handoff_three_times_is_one_incident() {
    let w = Arc::new(world("h-idem").await);
    let sid = w.ingest_file(Mail::default(), "a").await;
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let (w, sid) = (w.clone(), sid.clone());
        tasks.push(tokio::spawn(
            async move { w.handoff(&sid, Some("h-1")).await },
        ));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.expect("join").expect("handoff").incident_id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1);
    let again = w.handoff(&sid, Some("another-key")).await.expect("retry");
    assert!(!again.created);
    assert_eq!(again.incident_id, ids[0]);
    assert_eq!(w.emu.records("incidents").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mail_after_the_handoff_reaches_the_rep() {
    let w = world("h-follow").await;
    let sid = w.ingest_file(Mail::default(), "a").await;
    let out = w.handoff(&sid, None).await.expect("handoff");
    let late = Mail {
        message_id: "late@client.example",
        in_reply_to: Some("m1@client.example"),
        subject: "Re: Order 1042 arrived damaged",
        body: "Any news?",
        date: "Wed, 13 Mar 2024 09:00:00 +0000",
        ..Mail::default()
    };
    let o = w.ingest(late, "late").await;
    assert!(o.followup);
    for _ in 0..2 {
        let r = w.followup(&sid).await.expect("follow-up");
        assert_eq!(r.incident_id, out.incident_id);
    }
    let notes: Vec<_> = w
        .emu
        .records("annotations")
        .into_iter()
        .filter(|n| text(n, "notetext").contains("Any news?"))
        .collect();
    assert_eq!(notes.len(), 1, "once per message");
    assert!(text(&notes[0], "notetext").contains("2024-03-13 09:00:00 UTC"));
    // Resolve the case: the next message starts a new session naming the ticket.
    let incident = uuid::Uuid::parse_str(&out.incident_id).expect("uuid");
    w.emu.update(
        "incidents",
        incident,
        json!({"statecode": 1, "statuscode": 5}),
    );
    let later = Mail {
        message_id: "later@client.example",
        in_reply_to: Some("late@client.example"),
        subject: "Re: Order 1042 arrived damaged",
        body: "It broke again.",
        date: "Thu, 14 Mar 2024 09:00:00 +0000",
        ..Mail::default()
    };
    w.ingest(later, "later").await;
    let r = w.followup(&sid).await.expect("follow-up");
    assert_eq!(r.followups_new_sessions.len(), 1);
    let new_sid = &r.followups_new_sessions[0];
    let new_session = w
        .sessions
        .load(new_sid)
        .await
        .expect("load")
        .expect("new session");
    assert_eq!(
        new_session.previous_ticket.as_deref(),
        Some(out.ticket_number.as_str())
    );
    let second = w.handoff(new_sid, None).await.expect("second case");
    assert_ne!(second.incident_id, out.incident_id);
    assert_eq!(w.emu.records("incidents").len(), 2);
    let d = w
        .emu
        .records("incidents")
        .into_iter()
        .find(|i| text(i, "incidentid") == second.incident_id)
        .map(|i| text(&i, "description"))
        .unwrap_or_default();
    assert!(
        d.contains(&format!("Continues case: {}", out.ticket_number)),
        "{d}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_sender_address_is_escaped() {
    let w = world("h-escape").await;
    let sid = w
        .ingest_file(
            Mail {
                from: "\"O'Brien\" <o'brien+x@client.example>",
                ..Mail::default()
            },
            "a",
        )
        .await;
    w.handoff(&sid, None).await.expect("handoff");
    let sid2 = w
        .ingest_file(
            Mail {
                from: "<o'brien+x@client.example>",
                message_id: "q2@client.example",
                subject: "Another",
                ..Mail::default()
            },
            "b",
        )
        .await;
    w.handoff(&sid2, None).await.expect("handoff");
    assert_eq!(
        w.emu.records("contacts").len(),
        1,
        "the quote was escaped: the second lookup found the first contact"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn long_thread_is_cut_to_the_column_and_kept_whole_in_a_note() {
    let w = world("h-long").await;
    w.emu.set_max_length("incident", "description", 1200);
    let body = "Still broken. ".repeat(40);
    let sid = w
        .ingest_file(
            Mail {
                body: &body,
                ..Mail::default()
            },
            "m0",
        )
        .await;
    for i in 1..12 {
        let id = format!("long{i}@client.example");
        let date = format!("Tue, 12 Mar 2024 {:02}:00:00 +0000", 10 + i);
        let text = format!("Message number {i}. {body}");
        w.ingest_file(
            Mail {
                message_id: &id,
                in_reply_to: Some("m1@client.example"),
                subject: "Re: Order 1042 arrived damaged",
                date: &date,
                body: &text,
                ..Mail::default()
            },
            &format!("m{i}"),
        )
        .await;
    }
    let out = w.handoff(&sid, None).await.expect("handoff");
    assert!(out.truncated);
    let inc = &w.emu.records("incidents")[0];
    let d = text(inc, "description");
    assert!(d.encode_utf16().count() <= 1200);
    assert!(
        d.contains("not shown") && d.contains("Message number 11."),
        "{d}"
    );
    let notes = w.emu.records("annotations");
    let all: String = notes.iter().map(|n| text(n, "notetext")).collect();
    for i in 1..12 {
        assert!(
            all.contains(&format!("Message number {i}.")),
            "note holds message {i}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn missing_privilege_names_it_and_keeps_the_session_open() {
    let w = world("h-priv").await;
    let sid = w.ingest_file(Mail::default(), "a").await;
    w.emu.revoke("prvCreateIncident");
    let err = w.handoff(&sid, None).await.expect_err("must fail");
    let fix = err.fix();
    assert!(
        fix.contains("prvCreateIncident") && fix.contains("incident"),
        "{fix}"
    );
    assert!(!err.is_retryable());
    assert!(w.emu.records("incidents").is_empty());
    assert_eq!(
        w.sessions.load(&sid).await.expect("load").expect("s").state,
        store::session::SessionState::Open
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_label_in_ticket_properties_is_dropped_and_said() {
    let mut w = world("h-label").await;
    w.emu.add_incident_column(
        "new_customerpriority",
        Kind::Picklist(vec![(100000000, "High".into()), (100000001, "Low".into())]),
    );
    w.settings.ticket_properties = json!({"new_customerpriority": "High", "casetypecode": 2})
        .as_object()
        .cloned()
        .unwrap_or_default();
    let sid = w.ingest_file(Mail::default(), "a").await;
    let out = w.handoff(&sid, None).await.expect("case still created");
    assert_eq!(out.dropped_properties.len(), 1);
    let inc = &w.emu.records("incidents")[0];
    assert!(inc.get("new_customerpriority").is_none());
    assert_eq!(inc["casetypecode"], 2, "the valid property stays");
    assert!(
        text(inc, "description").contains("Dropped ticket property new_customerpriority"),
        "{}",
        text(inc, "description")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn throttling_and_outages_complete_exactly_once() {
    let w = world("h-throttle").await;
    let sid = w.ingest_file(Mail::default(), "a").await;
    w.emu.inject(Fault {
        status: 429,
        count: 3,
        path_contains: None,
        retry_after: 1,
    });
    w.emu.inject(Fault {
        status: 503,
        count: 2,
        path_contains: Some("$batch".into()),
        retry_after: 0,
    });
    let out = w
        .handoff(&sid, None)
        .await
        .expect("completes within the retry bound");
    assert!(out.created);
    assert_eq!(w.emu.records("incidents").len(), 1);
    assert!(w.crm.retries() >= 5, "retries {}", w.crm.retries());
    // Past the bound, the error says so and is retryable (the queue redelivers).
    let sid2 = w
        .ingest_file(
            Mail {
                message_id: "x2@client.example",
                subject: "Other",
                ..Mail::default()
            },
            "b",
        )
        .await;
    w.emu.inject(Fault {
        status: 503,
        count: 100,
        path_contains: None,
        retry_after: 0,
    });
    let err = w.handoff(&sid2, None).await.expect_err("bound reached");
    assert!(err.is_retryable());
    assert!(matches!(
        err,
        app::handoff::HandoffError::Dynamics(DynamicsError::Unavailable { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lambda_handler_takes_direct_requests_and_sqs_batches() {
    use lambda_runtime::{Context, LambdaEvent};
    let w = world("h-lambda").await;
    let sid = w.ingest_file(Mail::default(), "a").await;
    let deps = Ok::<_, String>(w.worker());
    // The shipped samples decode through the real handler types.
    let direct: Value =
        serde_json::from_str(include_str!("../../events/handoff/direct.json")).expect("sample");
    let _: Request = serde_json::from_value(direct).expect("direct sample is a handoff request");
    let mut batch: Value =
        serde_json::from_str(include_str!("../../events/handoff/sqs-batch.json")).expect("sample");
    batch["Records"][0]["body"] =
        json!(json!({"session_id": sid, "classification": "Billing"}).to_string());
    batch["Records"][1]["body"] = json!(json!({"session_id": "mc-0000000000000000"}).to_string());
    let out = handoff::handler::handle(&deps, LambdaEvent::new(batch, Context::default()))
        .await
        .expect("batch handled");
    assert_eq!(
        out["batchItemFailures"].as_array().map(Vec::len),
        Some(1),
        "{out}"
    );
    assert_eq!(
        out["batchItemFailures"][0]["itemIdentifier"],
        "2e1424d4-f796-459a-8184-9c92662be6da"
    );
    assert_eq!(w.emu.records("incidents").len(), 1);
    let direct = json!({"session_id": sid, "classification": "Billing"});
    let again = handoff::handler::handle(&deps, LambdaEvent::new(direct, Context::default()))
        .await
        .expect("direct");
    assert_eq!(again["created"], false);
    let err = handoff::handler::handle(
        &deps,
        LambdaEvent::new(json!({"nope": 1}), Context::default()),
    )
    .await
    .expect_err("bad request");
    assert!(err.error_message.contains("session_id"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn follow_up_travels_from_the_ingest_lambda_through_sqs_to_a_note() {
    use lambda_runtime::{Context, LambdaEvent};
    let w = world("h-sqs").await;
    let sid = w.ingest_file(Mail::default(), "a").await;
    let first = w.handoff(&sid, None).await.expect("handoff");
    let moto = MotoServer::shared();
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    let url = sqs
        .create_queue()
        .queue_name(format!("handoff-{}", std::process::id()))
        .send()
        .await
        .expect("queue")
        .queue_url
        .expect("queue url");
    let mut ingest_deps = w.ingest_deps();
    ingest_deps.queue = Some(Box::new(adapters::SqsQueue {
        sqs: sqs.clone(),
        url: url.clone(),
    }));
    // The customer answers the old thread instead of the rep's email; SES delivers it twice.
    let answer = Mail {
        message_id: "m2@client.example",
        in_reply_to: Some("m1@client.example"),
        subject: "Re: Order 1042 arrived damaged",
        body: "Any news? The box is still here.",
        date: "Wed, 13 Mar 2024 09:00:00 +0000",
        ..Mail::default()
    };
    w.put_raw("ses-answer", answer).await.expect("raw");
    let event = json!({"Records": [{"eventSource": "aws:ses", "ses": {
        "mail": {"messageId": "ses-answer", "timestamp": "2024-03-13T09:00:02.000Z"},
        "receipt": {"timestamp": "2024-03-13T09:00:02.000Z"}
    }}]});
    for _ in 0..2 {
        let out = ingest::handler::handle(
            &ingest_deps,
            LambdaEvent::new(event.clone(), Context::default()),
        )
        .await
        .expect("ingested");
        assert_eq!(out["outcomes"][0]["session_id"], sid.as_str(), "{out}");
    }
    // What the queue holds is what the handoff function receives.
    let mut records = Vec::new();
    for _ in 0..5 {
        let got = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("receive");
        for m in got.messages() {
            records.push(
                json!({"messageId": m.message_id(), "body": m.body(), "eventSource": "aws:sqs"}),
            );
        }
        if records.len() >= 2 {
            break;
        }
    }
    assert_eq!(
        records.len(),
        2,
        "one notice per delivery while the message is pending"
    );
    let body: Value =
        serde_json::from_str(records[0]["body"].as_str().unwrap_or("")).expect("json");
    assert_eq!(body, json!({"session_id": sid, "kind": "followup"}));
    let handoff_deps = Ok::<_, String>(w.worker());
    let out = handoff::handler::handle(
        &handoff_deps,
        LambdaEvent::new(json!({ "Records": records }), Context::default()),
    )
    .await
    .expect("batch");
    assert_eq!(out["batchItemFailures"], json!([]), "{out}");
    let notes = w.emu.records("annotations");
    let followups: Vec<_> = notes
        .iter()
        .filter(|n| n["subject"] == "Follow-up email")
        .collect();
    assert_eq!(followups.len(), 1, "once per message: {notes:?}");
    assert!(
        followups[0]["notetext"]
            .as_str()
            .unwrap_or("")
            .contains("Any news?")
    );
    assert_eq!(
        followups[0]["_objectid_value"].as_str().unwrap_or(""),
        first.incident_id
    );
    assert_eq!(w.emu.records("incidents").len(), 1);
    let session = w.sessions.load(&sid).await.expect("load").expect("session");
    assert!(session.pending_followups.is_empty());
}
