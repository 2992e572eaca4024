//! Handoff benchmark: Dynamics requests per handoff (known / new contact, cold / warm, a thread
//! over the stock description limit, an org whose limit is below stock) and
//! latency with 20 ms added to every Dataverse request (the emulator's latency injection), on a
//! real moto S3. `cargo bench -p it --bench handoff`.

use std::time::{Duration, Instant};

use app::attachments::Mode;
use app::handoff::{LimitsCache, Request, Settings};
use app::ingest::{Config, Receipt};
use dataverse_emulator::Emulator;
use dynamics::{Credentials, DataverseClient, RetryPolicy};
use store::S3ObjectStore;
use store::sessions::Sessions;
use testkit::MotoServer;

/// Mail `n`; an empty `body` is a short question of its own (the same text three times from one
/// sender would trip the flood breaker and skip the automatic handoff).
fn mail(n: usize, from: &str, body: &str) -> Vec<u8> {
    let own = format!("Hello, question {n}.");
    let body = if body.is_empty() { own.as_str() } else { body };
    format!("From: {from}\r\nTo: support@acme.com\r\nSubject: Question {n}\r\nMessage-ID: <bench-{n}@client.example>\r\nDate: Tue, 12 Mar 2024 10:15:00 +0000\r\n\r\n{body}\r\n").into_bytes()
}

/// Ingest mail `n` (see [`mail`]) as SES message `s<n>`: its session id.
async fn ingest(sessions: &Sessions<S3ObjectStore>, n: usize, from: &str, body: &str) -> String {
    let receipt = Receipt {
        ses_message_id: format!("s{n}"),
        received_at: 0,
        spam: None,
        virus: None,
        recipients: Vec::new(),
    };
    app::ingest::run(sessions, &mail(n, from, body), &receipt, &Config::default())
        .await
        .expect("ingest")
        .session_id
        .expect("filed")
}

/// One row: the requests `crm` sent since `before` and the time since `started`.
fn row(label: &str, crm: &DataverseClient, before: u64, started: Instant) {
    println!(
        "{label:<44} {:>9} {:>10.1}",
        crm.requests() - before,
        started.elapsed().as_secs_f64() * 1000.0
    );
}

/// A new process: a client without a token and an empty column-limit cache.
fn cold(emu: &Emulator) -> (DataverseClient, LimitsCache) {
    let crm = DataverseClient::new(
        Credentials::from_json(&emu.credentials_json()).expect("creds"),
        RetryPolicy::default(),
    )
    .expect("client");
    (crm, LimitsCache::default())
}

#[tokio::main]
async fn main() {
    let moto = MotoServer::start();
    let bucket = moto.bucket("handoff-bench").await;
    let sessions = Sessions::new(S3ObjectStore::new(moto.s3().await, &bucket, None));
    let emu = Emulator::start(dataverse_emulator::Config::default())
        .await
        .expect("emulator");
    emu.set_latency(Duration::from_millis(20));
    // A customer Dynamics already knows.
    emu.seed(
        "contacts",
        uuid::Uuid::new_v4(),
        serde_json::json!({"lastname": "Lima", "emailaddress1": "ana@client.example"}),
    );
    let settings = Settings {
        queue_id: Some(emu.seeds().queue_id),
        ..Settings::default()
    };
    println!("handoff benchmark (20 ms added to every Dataverse request; moto S3)");
    println!("{:<44} {:>9} {:>10}", "case", "requests", "ms");
    let long = "The story so far, one more line of it.\r\n".repeat(130);
    let over = "Still broken after the update.\r\n".repeat(48);
    // (label, sender, body, cold process?, org description MaxLength)
    let cases = [
        (
            "cold start, known contact",
            "Ana <ana@client.example>",
            "",
            true,
            None,
        ),
        (
            "cold start, new contact",
            "Bo <bo@client.example>",
            "",
            false,
            None,
        ),
        (
            "warm, known contact",
            "Ana <ana@client.example>",
            "",
            false,
            None,
        ),
        (
            "warm, new contact",
            "Cy <cy@client.example>",
            "",
            false,
            None,
        ),
        (
            "cold, known contact, 5,000-char thread",
            "Ana <ana@client.example>",
            long.as_str(),
            true,
            None,
        ),
        (
            "cold, known, org description 1000 (refused)",
            "Ana <ana@client.example>",
            over.as_str(),
            true,
            Some(1000),
        ),
    ];
    let mut warm_pair = None;
    for (n, (label, from, body, is_cold, description)) in cases.iter().enumerate() {
        if let Some(max) = description {
            emu.set_max_length("incident", "description", *max);
        }
        let sid = ingest(&sessions, n, from, body).await;
        // Row 2 starts the process rows 3 and 4 reuse (warm); rows 1, 5, 6 are their own.
        let fresh;
        let (crm, limits) = if *is_cold {
            fresh = cold(&emu);
            (&fresh.0, &fresh.1)
        } else {
            let pair = warm_pair.get_or_insert_with(|| cold(&emu));
            (&pair.0, &pair.1)
        };
        let before = crm.requests();
        let started = Instant::now();
        let req = Request {
            session_id: sid,
            classification: Some("Billing".into()),
            ..Request::default()
        };
        app::handoff::run(&sessions, crm, &settings, limits, &req, 0, Mode::List)
            .await
            .expect("handoff");
        row(label, crm, before, started);
    }
    emu.set_max_length("incident", "description", 2000);
    println!(
        "(requests include the token when the process is cold; latency includes the session read and write on S3;"
    );
    println!(
        " column limits are read only for text over the stock limits, or after Dataverse refuses a length)"
    );
    let (crm, _) = cold(&emu);

    // The request path (app::requests::Worker, as the Lambda runs it): a requested handoff and
    // a policy's automatic one, warm, known contact, cost the same Dataverse requests.
    let mut worker = app::requests::Worker::new(
        sessions.clone(),
        crm,
        &settings,
        app::reply::StoreOutbox::new(store::MemoryObjectStore::default()),
        app::reply::ReplySettings::default(),
    );
    worker.routing =
        app::routing::Routing::from_settings(&settings, app::routing::Policy::Immediate);
    println!(
        "\n{:<44} {:>9} {:>10}",
        "request path (warm, known contact)", "requests", "ms"
    );
    // The first request warms the worker's own column-limit cache and is not printed.
    for (n, kind) in [(19, None), (20, None), (21, Some("auto"))] {
        let sid = ingest(&sessions, n, "Ana <ana@client.example>", "").await;
        let before = worker.crm.requests();
        let started = Instant::now();
        let req = Request {
            session_id: sid,
            kind: kind.map(str::to_string),
            due_at: Some(0),
            ..Request::default()
        };
        worker.handle(&req, 0).await.expect("handoff");
        if n == 19 {
            continue;
        }
        let label = if kind.is_some() {
            "automatic (policy immediate)"
        } else {
            "requested (kind absent)"
        };
        row(label, &worker.crm, before, started);
    }
}
