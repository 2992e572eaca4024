//! `mailcase status --json` end to end: the real ingest and handoff handlers run on moto S3
//! and the in-process Dataverse emulator (filed, unfiled, rejected and failed items), a
//! dead-letter queue on moto SQS holds two messages, then the built binary counts each.

use std::time::Duration;

use dataverse_emulator::{Emulator, Role};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use store::S3ObjectStore;
use store::sessions::Sessions;
use testkit::MotoServer;

use crate::runner::{Aws, mailcase, sqs_queue};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn ses_event(id: &str, at: i64, spam: &str) -> Value {
    let ts = mail::rfc3339_utc(at);
    json!({"Records": [{"eventSource": "aws:ses", "eventVersion": "1.0", "ses": {
        "mail": {"timestamp": ts, "messageId": id, "source": "ana@client.example", "destination": ["support@acme.com"]},
        "receipt": {"timestamp": ts, "recipients": ["support@acme.com"], "spamVerdict": {"status": spam}, "virusVerdict": {"status": "PASS"}}
    }}]})
}

/// A mail without a Date header: its date is the receipt time, so it falls in the window.
fn raw(message_id: &str, in_reply_to: Option<&str>, extra: &str) -> Vec<u8> {
    let mut s = format!(
        "From: Ana Lima <ana@client.example>\r\nTo: support@acme.com\r\nSubject: Order {} arrived damaged\r\nMessage-ID: <{message_id}>\r\n",
        &message_id[..2]
    );
    if let Some(p) = in_reply_to {
        s.push_str(&format!("In-Reply-To: <{p}>\r\nReferences: <{p}>\r\n"));
    }
    s.push_str(extra);
    s.push_str("Content-Type: text/plain; charset=utf-8\r\n\r\nThe box was crushed.\r\n");
    s.into_bytes()
}

struct World {
    ingest: ingest::handler::Deps<S3ObjectStore>,
    handoff: handoff::handler::Deps<S3ObjectStore, app::reply::StoreOutbox<S3ObjectStore>>,
    store: S3ObjectStore,
}

impl World {
    async fn mail(&self, ses_id: &str, bytes: Option<Vec<u8>>, spam: &str) -> Value {
        if let Some(b) = bytes {
            use store::ObjectStore;
            self.store
                .put_new(&format!("raw/{ses_id}"), b, "message/rfc822")
                .await
                .unwrap();
        }
        let event = LambdaEvent::new(ses_event(ses_id, now(), spam), Context::default());
        ingest::handler::handle(&self.ingest, event).await.unwrap()
    }

    /// A plain mail `message_id` (a reply to `in_reply_to`, if any) that passes the spam check.
    async fn plain(&self, ses_id: &str, message_id: &str, in_reply_to: Option<&str>) -> Value {
        self.mail(ses_id, Some(raw(message_id, in_reply_to, "")), "PASS")
            .await
    }

    async fn handoff(&self, session_id: &str) -> Result<Value, String> {
        let event = LambdaEvent::new(
            json!({"session_id": session_id, "classification": "Damage"}),
            Context::default(),
        );
        handoff::handler::handle(&self.handoff, event)
            .await
            .map_err(|d| d.error_message)
    }
}

fn session_of(out: &Value) -> String {
    out["outcomes"][0]["session_id"]
        .as_str()
        .unwrap_or_else(|| panic!("not filed: {out}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn status_json_counts_filed_unfiled_rejected_and_failed_items() {
    let moto = MotoServer::shared();
    let bucket = moto.bucket("status").await;
    let s3 = moto.s3().await;
    let store = S3ObjectStore::new(s3.clone(), bucket.clone(), None);
    let emu = Emulator::start(dataverse_emulator::Config::default())
        .await
        .unwrap();
    let creds = dynamics::Credentials::from_json(&emu.credentials_json()).unwrap();
    let crm = dynamics::DataverseClient::new(
        creds,
        dynamics::RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
        },
    )
    .unwrap();
    let w = World {
        ingest: ingest::handler::Deps {
            sessions: Sessions::new(S3ObjectStore::new(s3.clone(), bucket.clone(), None)),
            raw_prefix: "raw/".into(),
            config: app::ingest::Config::default(),
            raw_retry: vec![],
            queue: None,
            events: Box::new(app::ports::NoEvents),
            refused: None,
        },
        handoff: Ok(app::requests::Worker::new(
            Sessions::new(S3ObjectStore::new(s3.clone(), bucket.clone(), None)),
            crm,
            &app::handoff::Settings {
                queue_id: Some(emu.seeds().queue_id),
                ..Default::default()
            },
            app::reply::StoreOutbox::new(S3ObjectStore::new(s3.clone(), bucket.clone(), None)),
            app::reply::ReplySettings::default(),
        )),
        store,
    };

    // Filed: two new sessions, one reply.
    let a = session_of(&w.plain("a1", "a1@client.example", None).await);
    let a2 = w
        .plain("a2", "a2@client.example", Some("a1@client.example"))
        .await;
    assert_eq!(session_of(&a2), a);
    let b = session_of(&w.plain("b1", "b1@other.example", None).await);
    assert_ne!(a, b);
    // Not filed: an auto-reply and spam.
    let auto = w
        .mail(
            "c1",
            Some(raw(
                "c1@client.example",
                None,
                "Auto-Submitted: auto-replied\r\n",
            )),
            "PASS",
        )
        .await;
    assert_eq!(auto["outcomes"][0]["disposition"], "auto_reply", "{auto}");
    w.mail("d1", Some(raw("d1@client.example", None, "")), "FAIL")
        .await;
    // Rejected: a raw object that never came, and something that is not an SES event.
    w.mail("e1-missing", None, "PASS").await;
    let not_ses = ingest::handler::handle(
        &w.ingest,
        LambdaEvent::new(json!({"hello": "world"}), Context::default()),
    )
    .await
    .unwrap();
    assert!(not_ses.to_string().contains("rejected"), "{not_ses}");

    // Handoffs: A is done; B fails twice on a missing privilege.
    w.handoff(&a).await.unwrap();
    emu.set_role(Role::full().without("prvCreateIncident"));
    for _ in 0..2 {
        let e = w.handoff(&b).await.expect_err("refused");
        assert!(e.contains("prvCreateIncident"), "{e}");
        // Two failures in the same second are one record (create-once): space them.
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    // A follow-up on the handed-off session A (no follow-up queue: it stays pending).
    let f = w
        .plain("a3", "a3@client.example", Some("a2@client.example"))
        .await;
    assert_eq!(f["outcomes"][0]["followup"], true, "{f}");

    // Two requests wait in the dead-letter queue.
    let dlq = sqs_queue(
        &format!("{bucket}-dlq"),
        vec![json!({"session_id": b}).to_string(); 2],
    )
    .await;

    let run = mailcase(
        &[
            "status",
            "--json",
            "--since",
            "1h",
            "--bucket",
            &bucket,
            "--dlq-url",
            &dlq,
        ],
        &[("RUST_LOG", "debug".into())],
        Aws::Moto,
    )
    .await;
    let (out, stdout, stderr) = (&run.out, &run.stdout, run.stderr());
    // Failed handoffs and dead letters: exit 1, so a cron job or CI step notices.
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let r: Value = serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let count = |p: &str| r.pointer(p).and_then(Value::as_u64).unwrap_or(u64::MAX);
    assert_eq!(count("/filed/new_sessions/count"), 2, "{r:#}");
    assert_eq!(count("/filed/replies/count"), 1, "{r:#}");
    assert_eq!(count("/filed/followups/count"), 1, "{r:#}");
    assert_eq!(count("/not_filed/auto_reply/count"), 1, "{r:#}");
    assert_eq!(count("/not_filed/spam/count"), 1, "{r:#}");
    assert_eq!(count("/not_filed/bounce/count"), 0, "{r:#}");
    assert_eq!(count("/rejected/raw_mail_missing/count"), 1, "{r:#}");
    assert_eq!(count("/rejected/not_ses_event/count"), 1, "{r:#}");
    assert_eq!(count("/handoffs/done/count"), 1, "{r:#}");
    assert_eq!(count("/handoffs/failed/count"), 1, "{r:#}");
    assert_eq!(count("/handoffs/failed_attempts"), 2, "{r:#}");
    let failed = &r["handoffs"]["failed"]["latest"][0];
    assert_eq!(failed["session_id"], b.as_str());
    assert_eq!(failed["cause"], "missing_privilege");
    assert_eq!(failed["attempts"], 2);
    assert!(
        failed["fix"]
            .as_str()
            .unwrap_or("")
            .contains("prvCreateIncident"),
        "{failed}"
    );
    assert_eq!(count("/followups_pending/count"), 1, "{r:#}");
    assert_eq!(count("/dead_letter_queue/depth"), 2, "{r:#}");
    assert_eq!(r["email_channel"]["state"], "untested");
    // RUST_LOG=debug: one line per AWS request, with status and duration; never a credential.
    assert!(stderr.contains("AWS request"), "{stderr}");
    assert!(stderr.contains("status=200"), "{stderr}");
    for (k, v) in moto.env() {
        if k.contains("SECRET") || k.contains("TOKEN") {
            assert!(!stderr.contains(&v), "{k} leaked in the log");
        }
    }
    assert!(!stderr.contains("Signature="), "{stderr}");
}
