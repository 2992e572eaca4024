//! Outbound mail through the real SESv2 client against moto: replies in the thread, the
//! handoff acknowledgement once under retries, header safety.

use std::sync::Arc;
use std::time::Duration;

use app::ingest::Config;
use app::reply::{Reply, ReplySettings};
use dynamics::RetryPolicy;
use lambda_runtime::{Context, LambdaEvent};
use mail::Mailbox;
use serde_json::{Value, json};
use ses::SesSender;
use testkit::MotoServer;

use crate::support::Mail;
use crate::world::{World, queue_settings};

const SUPPORT: &str = "support@acme.com";

/// An SES sender whose identity (the support domain) exists in moto.
async fn sender() -> SesSender {
    let conf = MotoServer::shared().sdk_config().await;
    let client = aws_sdk_sesv2::Client::new(&conf);
    // Creating it twice (tests share the server) answers AlreadyExists; either is fine.
    let _ = client
        .create_email_identity()
        .email_identity("acme.com")
        .send()
        .await;
    SesSender::new(client, "us-east-1")
}

fn reply_settings(ack: bool) -> ReplySettings {
    ReplySettings {
        support: Some(Mailbox {
            name: Some("Acme Support".into()),
            address: SUPPORT.into(),
        }),
        ack,
        ack_template: None,
        cc: true,
    }
}

/// moto's state dump (`/moto-api/data.json`). The shared moto serves every test at once, and
/// its dump can fail while another test is changing state (an error page, not JSON): asked
/// again, a few times, before the test gives up.
async fn moto_data() -> Value {
    let url = format!("{}/moto-api/data.json", MotoServer::shared().endpoint());
    let mut last = String::new();
    for _ in 0..20 {
        match reqwest::get(&url).await {
            Ok(r) => match r.text().await {
                Ok(body) => match serde_json::from_str::<Value>(&body) {
                    Ok(v) => return v,
                    Err(e) => {
                        last = format!(
                            "not JSON ({e}): {}",
                            body.chars().take(200).collect::<String>()
                        )
                    }
                },
                Err(e) => last = e.to_string(),
            },
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    panic!("moto's data.json stayed unreadable: {last}");
}

/// Raw messages moto accepted whose `X-Mailcase-Session` is `session_id`.
async fn sent_for(session_id: &str) -> Vec<String> {
    let data = moto_data().await;
    let header = format!("X-Mailcase-Session: {session_id}");
    data["ses"]["RawMessage"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["raw_data"].as_str())
        .filter(|raw| raw.contains(&header))
        .map(str::to_string)
        .collect()
}

fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    let head = raw.split("\r\n\r\n").next().unwrap_or("");
    head.lines()
        .find(|l| {
            l.len() > name.len()
                && l[..name.len()].eq_ignore_ascii_case(name)
                && l.as_bytes()[name.len()] == b':'
        })
        .map(|l| l[name.len() + 1..].trim())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reply_threads_in_the_customers_client_and_the_answer_comes_back() {
    let w = World::start("reply").await;
    let sessions = &w.sessions;
    let sender = sender().await;
    // Message ids are unique per test: session ids derive from them, and moto's outbox is
    // shared by all tests.
    let first = Mail {
        message_id: "rt1@client.example",
        ..Mail::default()
    };
    let sid = w.ingest_file(first, "r1").await;
    let second = Mail {
        message_id: "m2@client.example",
        in_reply_to: Some("rt1@client.example"),
        references: &["rt1@client.example"],
        subject: "Re: Order 1042 arrived damaged",
        date: "Tue, 12 Mar 2024 11:00:00 +0000",
        body: "Photos attached.",
        ..Mail::default()
    };
    assert_eq!(w.ingest_file(second, "r2").await, sid);
    let reply = Reply {
        session_id: sid.clone(),
        text: "Hello Ana,\n\nwe are sending a replacement today.".into(),
        key: "reply:agent-1".into(),
        automatic: false,
    };
    let settings = reply_settings(false);
    let out = app::reply::send(sessions, &sender, &settings, &reply, 1_710_245_000)
        .await
        .expect("sent");
    assert!(out.sent);
    assert!(
        out.message_id.ends_with("@us-east-1.amazonses.com"),
        "{}",
        out.message_id
    );
    // The same request again (a retry) sends nothing new.
    let again = app::reply::send(sessions, &sender, &settings, &reply, 1_710_245_010)
        .await
        .expect("retry");
    assert!(!again.sent);
    assert_eq!(again.message_id, out.message_id);

    let sent = sent_for(&sid).await;
    assert_eq!(sent.len(), 1, "one message for one reply");
    let raw = &sent[0];
    assert_eq!(header(raw, "In-Reply-To"), Some("<m2@client.example>"));
    let refs = header(raw, "References").unwrap_or("");
    assert!(
        refs.contains("<rt1@client.example>") && refs.contains("<m2@client.example>"),
        "{refs}"
    );
    let subject = header(raw, "Subject").unwrap_or("");
    assert!(
        subject.starts_with("Re: Order 1042 arrived damaged"),
        "{subject}"
    );
    assert!(subject.contains(&format!("[{sid}]")), "token in {subject}");
    assert_eq!(header(raw, "From"), Some("Acme Support <support@acme.com>"));
    assert_eq!(header(raw, "To"), Some("Ana Lima <ana@client.example>"));
    assert!(raw.contains("text/plain") && raw.contains("text/html"));

    // Recorded as outbound, with the id SES assigned.
    let session = sessions.load(&sid).await.expect("load").expect("session");
    let last = session.messages.last().expect("messages");
    assert_eq!(last.direction, store::session::Direction::Outbound);
    assert_eq!(last.message_id.as_deref(), Some(out.message_id.as_str()));
    assert_eq!(session.messages.len(), 3);

    // The customer answers the reply: In-Reply-To is the id SES assigned.
    let answer = Mail {
        message_id: "m3@client.example",
        in_reply_to: Some(&out.message_id),
        subject: "Re: Order 1042 arrived damaged",
        date: "Tue, 12 Mar 2024 13:00:00 +0000",
        body: "Thank you!",
        ..Mail::default()
    };
    assert_eq!(w.ingest_file(answer, "r3").await, sid);
    // A client that changed the subject and kept only our own id in References still threads.
    let own_id = {
        let head = raw.split("\r\n\r\n").next().unwrap_or("");
        header(head, "Message-ID")
            .unwrap_or("")
            .trim_matches(|c| c == '<' || c == '>')
            .to_string()
    };
    let refs_only = [own_id.as_str()];
    let changed = Mail {
        message_id: "m4@client.example",
        references: &refs_only,
        subject: "Another question",
        date: "Tue, 12 Mar 2024 14:00:00 +0000",
        ..Mail::default()
    };
    assert_eq!(w.ingest_file(changed, "r4").await, sid);
    let session = sessions.load(&sid).await.expect("load").expect("session");
    assert_eq!(session.messages.len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledgement_is_sent_once_per_handoff_under_retries() {
    let w = World::builder()
        .retry(RetryPolicy::default())
        .settings(queue_settings)
        .start("ack")
        .await;
    let emu = &w.emu;
    let first = Mail {
        message_id: "ack1@client.example",
        ..Mail::default()
    };
    let sid = w.ingest_file(first, "a1").await;
    let deps = Arc::new(Ok::<_, String>(
        w.worker_with(sender().await, reply_settings(true)),
    ));
    let request = json!({"session_id": sid, "classification": "Shipping"});
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let deps = deps.clone();
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            handoff::handler::handle(&deps, LambdaEvent::new(request, Context::default())).await
        }));
    }
    for t in tasks {
        // A concurrent attempt may find the acknowledgement in flight (retryable); the retry
        // below completes it.
        let _ = t.await.expect("task");
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let out = handoff::handler::handle(&deps, LambdaEvent::new(request, Context::default()))
        .await
        .expect("handoff completes");
    assert_eq!(emu.records("incidents").len(), 1);
    let ticket = out["ticket_number"].as_str().unwrap_or("").to_string();
    assert!(!ticket.is_empty(), "{out}");
    let sent = sent_for(&sid).await;
    assert_eq!(sent.len(), 1, "exactly one acknowledgement");
    assert_eq!(header(&sent[0], "Auto-Submitted"), Some("auto-replied"));
    let parsed = mail::parse(sent[0].as_bytes(), &mail::ParseOptions::default());
    assert!(parsed.text.contains(&ticket), "{}", parsed.text);
    assert!(parsed.text.contains("Ana Lima"), "{}", parsed.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_ascii_and_crlf_in_names_and_subjects_are_encoded_not_injected() {
    let w = World::start("hdr").await;
    let sessions = &w.sessions;
    let sender = sender().await;
    let sid = w.ingest_file(
        Mail {
            from: "=?UTF-8?B?Wm/DqyBMYXVyZQ0KQmNjOiB2aWN0aW1AZXZpbC5leGFtcGxl?= <zoe@client.example>",
            subject: "=?UTF-8?Q?R=C3=BCckerstattung_f=C3=BCr_Bestellung=0D=0ABcc:_x@evil.example?=",
            message_id: "z1@client.example",
            ..Mail::default()
        },
        "h1",
    )
    .await;
    let session = sessions.load(&sid).await.expect("load").expect("session");
    let name = session
        .customer
        .as_ref()
        .and_then(|c| c.name.clone())
        .unwrap_or_default();
    assert!(name.contains("Zoë"), "decoded name {name:?}");
    let out = app::reply::send(
        sessions,
        &sender,
        &reply_settings(false),
        &Reply {
            session_id: sid.clone(),
            text: "Grüße!".into(),
            key: "reply:x".into(),
            automatic: false,
        },
        1_710_245_000,
    )
    .await
    .expect("sent");
    assert!(out.sent);
    let sent = sent_for(&sid).await;
    assert_eq!(sent.len(), 1);
    let raw = &sent[0];
    assert!(raw.is_ascii());
    let head = raw.split("\r\n\r\n").next().unwrap_or("");
    assert!(
        !head
            .lines()
            .any(|l| l.to_ascii_lowercase().starts_with("bcc:")),
        "{head}"
    );
    assert!(head.lines().all(|l| l.len() <= 78), "{head}");
    let back = mail::parse(raw.as_bytes(), &mail::ParseOptions::default());
    assert_eq!(back.to.len(), 1);
    assert!(back.cc.is_empty());
    assert!(
        back.subject
            .as_deref()
            .unwrap_or("")
            .starts_with("Re: Rückerstattung für Bestellung"),
        "{:?}",
        back.subject
    );
    assert!(back.text.contains("Grüße!"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarding_test_round_trip_marks_the_channel_active() {
    use app::channel::{ChannelStatus, WAIT_LIMIT_SECS};
    let w = World::start("channel").await;
    let sessions = &w.sessions;
    let sender = sender().await;
    let from = Mailbox {
        name: Some("Acme Support".into()),
        address: SUPPORT.into(),
    };
    let sent_at = 1_710_250_000;
    assert_eq!(
        app::channel::status(sessions, sent_at)
            .await
            .expect("status"),
        ChannelStatus::Untested
    );
    let token = app::channel::send_test(sessions, &sender, &from, SUPPORT, sent_at)
        .await
        .expect("sent");
    assert!(matches!(
        app::channel::status(sessions, sent_at + 5)
            .await
            .expect("status"),
        ChannelStatus::Waiting { seconds: 5 }
    ));
    // The message SES sent is what the forwarding rule brings back: find it in moto's outbox
    // and deliver it the way the receipt rule does (raw object, then the ingest Lambda).
    let data = moto_data().await;
    let raw = data["ses"]["RawMessage"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["raw_data"].as_str())
        .find(|r| r.contains(&token))
        .expect("test message sent through SES")
        .to_string();
    w.put_raw("ses-test-1", raw.into_bytes())
        .await
        .expect("raw");
    let mut deps = w.ingest_deps();
    deps.config = Config {
        own_addresses: vec![SUPPORT.into()],
        ..Config::default()
    };
    deps.raw_retry = vec![];
    let event = json!({"Records": [{"eventSource": "aws:ses", "ses": {
        "mail": {"messageId": "ses-test-1"},
        "receipt": {"timestamp": "2024-03-12T13:27:22.000Z"}
    }}]});
    let out = ingest::handler::handle(&deps, LambdaEvent::new(event, Context::default()))
        .await
        .expect("ingested");
    assert_eq!(
        out["outcomes"][0]["disposition"], "connection_test",
        "{out}"
    );
    match app::channel::status(sessions, sent_at + 3600)
        .await
        .expect("status")
    {
        ChannelStatus::Active { seconds, .. } => assert_eq!(seconds, 1_710_250_042 - sent_at),
        other => panic!("expected Active, got {other:?}"),
    }
    assert!(
        sessions.list().await.expect("list").is_empty(),
        "no case, no session"
    );
    // A later test that never comes back fails with the fix.
    app::channel::send_test(sessions, &sender, &from, SUPPORT, sent_at + 7200)
        .await
        .expect("sent");
    match app::channel::status(sessions, sent_at + 7200 + WAIT_LIMIT_SECS + 1)
        .await
        .expect("status")
    {
        ChannelStatus::Failed { fix, .. } => assert!(fix.contains("forwards"), "{fix}"),
        other => panic!("expected Failed, got {other:?}"),
    }
}
