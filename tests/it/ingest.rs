//! Ingest through the S3 adapter against moto: retries, concurrency, threading, dispositions.

use std::sync::Arc;

use app::ingest::Verdict;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::json;
use store::ObjectStore;

use crate::support::{Mail, receipt};
use crate::world::{World, acme_config};

/// acme.com is ours; no Dynamics calls.
async fn world(prefix: &str) -> World {
    World::builder().config(acme_config()).start(prefix).await
}

fn ses_event(ses_id: &str) -> serde_json::Value {
    json!({"Records": [{"eventSource": "aws:ses", "eventVersion": "1.0", "ses": {
        "mail": {"messageId": ses_id, "timestamp": "2024-03-12T10:15:02.512Z", "source": "ana@client.example"},
        "receipt": {"timestamp": "2024-03-12T10:15:02.512Z", "spamVerdict": {"status": "PASS"}, "virusVerdict": {"status": "PASS"}}
    }}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn same_ses_event_twice_through_the_handler_is_one_message() {
    let w = world("twice").await;
    let sessions = &w.sessions;
    w.put_raw("ses-0001", Mail::default()).await.expect("raw");
    let deps = w.ingest_deps();
    for _ in 0..2 {
        ingest::handler::handle(
            &deps,
            LambdaEvent::new(ses_event("ses-0001"), Context::default()),
        )
        .await
        .expect("handled");
    }
    let all = sessions.list().await.expect("list");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].messages.len(), 1);
    // A second copy of the same email with a different SES id (e.g. sent to two addresses).
    w.put_raw("ses-0002", Mail::default()).await.expect("raw");
    ingest::handler::handle(
        &deps,
        LambdaEvent::new(ses_event("ses-0002"), Context::default()),
    )
    .await
    .expect("handled");
    assert_eq!(sessions.list().await.expect("list")[0].messages.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn twenty_concurrent_replies_lose_nothing_and_duplicate_nothing() {
    let w = Arc::new(world("concurrent").await);
    let root = w.ingest_file(Mail::default(), "ses-root").await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let w = w.clone();
        tasks.push(tokio::spawn(async move {
            let id = format!("reply-{i}@client.example");
            let body = format!("reply number {i}");
            let raw = Mail {
                message_id: &id,
                in_reply_to: Some("m1@client.example"),
                references: &["m1@client.example"],
                subject: "Re: Order 1042 arrived damaged",
                body: &body,
                ..Mail::default()
            }
            .raw();
            // Each reply delivered twice, concurrently with everything else.
            let a =
                app::ingest::run(&w.sessions, &raw, &receipt(&format!("ses-{i}")), &w.config).await;
            let b =
                app::ingest::run(&w.sessions, &raw, &receipt(&format!("ses-{i}")), &w.config).await;
            (a.expect("first delivery"), b.expect("second delivery"))
        }));
    }
    for t in tasks {
        let (a, b) = t.await.expect("join");
        assert_eq!(a.session_id.as_deref(), Some(root.as_str()));
        assert_eq!(b.session_id.as_deref(), Some(root.as_str()));
    }
    let s = w
        .sessions
        .load(&root)
        .await
        .expect("load")
        .expect("session");
    assert_eq!(s.messages.len(), 21, "root + 20 replies, each once");
    let mut keys: Vec<&str> = s.messages.iter().map(|m| m.key.as_str()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 21);
    for i in 0..20 {
        assert!(
            s.messages
                .iter()
                .any(|m| m.reply_text == format!("reply number {i}")),
            "reply {i} missing"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn subject_match_from_another_sender_does_not_join() {
    let w = world("subject").await;
    let a = w.ingest(Mail::default(), "s1").await;
    let same_sender = Mail {
        message_id: "m2@client.example",
        subject: "RE: Order 1042 arrived damaged",
        ..Mail::default()
    }
    .raw();
    let b = w.ingest(same_sender, "s2").await;
    assert_eq!(
        a.session_id, b.session_id,
        "same customer, same thread subject, session open"
    );
    let other = Mail {
        from: "Eve <eve@other.example>",
        message_id: "m3@other.example",
        subject: "Re: Order 1042 arrived damaged",
        ..Mail::default()
    }
    .raw();
    let c = w.ingest(other, "s3").await;
    assert_ne!(
        a.session_id, c.session_id,
        "another customer never joins by subject"
    );
    assert!(c.new_session);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reply_before_parent_is_threaded_when_the_parent_arrives() {
    let w = world("order").await;
    let sessions = &w.sessions;
    let reply = Mail {
        message_id: "child@client.example",
        in_reply_to: Some("parent@client.example"),
        references: &["parent@client.example"],
        subject: "Re: Invoice",
        body: "and the second part",
        date: "Tue, 12 Mar 2024 10:20:00 +0000",
        ..Mail::default()
    }
    .raw();
    let parent = Mail {
        message_id: "parent@client.example",
        subject: "Invoice",
        body: "first part",
        ..Mail::default()
    }
    .raw();
    let r = w.ingest(reply, "s-child").await;
    let p = w.ingest(parent, "s-parent").await;
    assert_eq!(r.session_id, p.session_id);
    let s = sessions
        .load(r.session_id.as_deref().expect("id"))
        .await
        .expect("load")
        .expect("session");
    let texts: Vec<&str> = s.messages.iter().map(|m| m.reply_text.as_str()).collect();
    assert_eq!(
        texts,
        vec!["first part", "and the second part"],
        "ordered by date, not arrival"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn automatic_and_unsafe_mail_is_recorded_not_filed() {
    let w = world("unfiled").await;
    let sessions = &w.sessions;
    let auto = Mail {
        message_id: "oof@client.example",
        subject: "Automatic reply: Order",
        extra_headers: "Auto-Submitted: auto-replied\r\n",
        ..Mail::default()
    }
    .raw();
    let bounce = Mail {
        from: "MAILER-DAEMON@mx.example",
        message_id: "dsn@mx.example",
        subject: "Undelivered Mail Returned to Sender",
        ..Mail::default()
    }
    .raw();
    let confirm = Mail {
        from: "forwarding-noreply@google.com",
        message_id: "c@google.com",
        subject: "(#123456789) Gmail Forwarding Confirmation - Receive Mail from support@acme.com",
        body: "Confirmation code: 123456789\r\nhttps://mail-settings.google.com/mail/vf-abc",
        ..Mail::default()
    }
    .raw();
    let loop_mail = Mail {
        from: "support@acme.com",
        message_id: "loop@acme.com",
        ..Mail::default()
    }
    .raw();
    let cases = [
        (auto, "auto_reply"),
        (bounce, "bounce"),
        (confirm, "forwarding_confirmation"),
        (loop_mail, "loop"),
    ];
    for (i, (raw, expected)) in cases.into_iter().enumerate() {
        let r = receipt(&format!("u{i}"));
        let o = app::ingest::run(sessions, &raw, &r, &w.config)
            .await
            .expect("ingest");
        assert_eq!(o.disposition, expected);
        assert!(o.session_id.is_none());
    }
    for (verdict, expected) in [("spam", "spam"), ("virus", "virus")] {
        let mut r = receipt(&format!("v-{verdict}"));
        let raw = Mail {
            message_id: &format!("{verdict}@client.example"),
            ..Mail::default()
        }
        .raw();
        if verdict == "spam" {
            r.spam = Some(Verdict("FAIL".into()))
        } else {
            r.virus = Some(Verdict("FAIL".into()))
        }
        let o = app::ingest::run(sessions, &raw, &r, &w.config)
            .await
            .expect("ingest");
        assert_eq!(o.disposition, expected);
    }
    assert!(
        sessions.list().await.expect("list").is_empty(),
        "nothing filed into a customer session"
    );
    let unfiled = sessions
        .objects()
        .list(store::layout::UNFILED_PREFIX)
        .await
        .expect("list");
    assert_eq!(unfiled.len(), 6, "each recorded with its reason");
    let mut found_code = false;
    for key in &unfiled {
        let record: app::ingest::UnfiledRecord =
            sessions.get_json(key).await.expect("read").expect("record");
        assert!(!record.reason.is_empty());
        if record.disposition == "forwarding_confirmation" {
            let fc = record
                .forwarding_confirmation
                .expect("code kept for the operator");
            found_code = fc.code.as_deref() == Some("123456789");
        }
    }
    assert!(found_code);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_megabyte_message_with_attachments_is_ingested() {
    let w = world("big").await;
    let sessions = &w.sessions;
    let line = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n";
    let mut raw = String::from(
        "From: Big <big@client.example>\r\nTo: support@acme.com\r\nSubject: Logs\r\nMessage-ID: <big@client.example>\r\nDate: Tue, 12 Mar 2024 10:15:00 +0000\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nLogs attached.\r\n",
    );
    for i in 0..3 {
        raw.push_str(&format!("--b\r\nContent-Type: application/zip\r\nContent-Disposition: attachment; filename=\"../logs{i}.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"));
        while raw.len() < 10_500_000 * (i + 1) {
            raw.push_str(line);
        }
    }
    raw.push_str("--b--\r\n");
    assert!(raw.len() > 30_000_000);
    let o = w.ingest(raw.as_bytes(), "big").await;
    let s = sessions
        .load(o.session_id.as_deref().expect("filed"))
        .await
        .expect("load")
        .expect("session");
    let atts = &s.messages[0].attachments;
    assert_eq!(atts.len(), 3);
    for a in atts {
        assert!(!a.key.contains(".."), "safe key {}", a.key);
        let stored = sessions
            .objects()
            .get(&a.key)
            .await
            .expect("get")
            .expect("stored");
        assert_eq!(stored.bytes.len() as u64, a.size);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn a_thread_ingested_all_at_once_stays_one_session() {
    // The first message, a reply to it and a reply to the reply, all ingested at the same
    // moment (and twice each), ten times over: each thread ends up in exactly one session.
    let w = Arc::new(world("at-once").await);
    let sessions = &w.sessions;
    for round in 0..10 {
        let ids: Vec<String> = (0..3)
            .map(|i| format!("t{round}-{i}@client.example"))
            .collect();
        let mut tasks = Vec::new();
        for i in 0..3 {
            for copy in 0..2 {
                let w = w.clone();
                let ids = ids.clone();
                tasks.push(tokio::spawn(async move {
                    let parents: Vec<&str> = ids[..i].iter().map(String::as_str).collect();
                    let subject = format!("Thread {round}");
                    let raw = Mail {
                        message_id: &ids[i],
                        in_reply_to: parents.last().copied(),
                        references: &parents,
                        subject: &subject,
                        body: "hello",
                        ..Mail::default()
                    }
                    .raw();
                    let ses = format!("ses-{round}-{i}-{copy}");
                    w.ingest_file(raw, &ses).await
                }));
            }
        }
        let mut sids = Vec::new();
        for t in tasks {
            sids.push(t.await.expect("join"));
        }
        sids.sort();
        sids.dedup();
        assert_eq!(sids.len(), 1, "round {round}: one session, got {sids:?}");
        let s = sessions
            .load(&sids[0])
            .await
            .expect("load")
            .expect("session");
        assert_eq!(s.messages.len(), 3, "round {round}: each message once");
        for id in &ids {
            let e = sessions
                .find_message_id(id)
                .await
                .expect("index")
                .expect("indexed");
            assert_eq!(
                e.session_id, sids[0],
                "round {round}: {id} indexed to its session"
            );
        }
    }
}
