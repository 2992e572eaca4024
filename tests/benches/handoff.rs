//! Handoff benchmark: Dynamics requests per handoff (known / new contact, cold / warm) and
//! latency with 20 ms added to every Dataverse request (the emulator's latency injection), on a
//! real moto S3. `cargo bench -p it --bench handoff`.

use std::time::{Duration, Instant};

use app::handoff::{LimitsCache, Request, Settings};
use app::ingest::{Config, Receipt};
use dataverse_emulator::Emulator;
use dynamics::{Credentials, DataverseClient, RetryPolicy};
use store::S3ObjectStore;
use store::sessions::Sessions;
use testkit::MotoServer;

fn mail(n: usize, from: &str) -> Vec<u8> {
    format!("From: {from}\r\nTo: support@acme.com\r\nSubject: Question {n}\r\nMessage-ID: <bench-{n}@client.example>\r\nDate: Tue, 12 Mar 2024 10:15:00 +0000\r\n\r\nHello, question {n}.\r\n").into_bytes()
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
    let crm = DataverseClient::new(
        Credentials::from_json(&emu.credentials_json()).expect("creds"),
        RetryPolicy::default(),
    )
    .expect("client");
    let settings = Settings {
        queue_id: Some(emu.seeds().queue_id),
        ..Settings::default()
    };
    let limits = LimitsCache::default();
    println!("handoff benchmark (20 ms added to every Dataverse request; moto S3)");
    println!("{:<36} {:>9} {:>10}", "case", "requests", "ms");
    let cases = [
        ("cold start, new contact", "Ana <ana@client.example>"),
        ("warm, known contact", "Ana <ana@client.example>"),
        ("warm, new contact", "Bo <bo@client.example>"),
        ("warm, known contact (again)", "Bo <bo@client.example>"),
    ];
    for (n, (label, from)) in cases.iter().enumerate() {
        let receipt = Receipt {
            ses_message_id: format!("s{n}"),
            received_at: 0,
            spam: None,
            virus: None,
            recipients: Vec::new(),
        };
        let sid = app::ingest::run(&sessions, &mail(n, from), &receipt, &Config::default())
            .await
            .expect("ingest")
            .session_id
            .expect("filed");
        let before = crm.requests();
        let started = Instant::now();
        let req = Request {
            session_id: sid,
            classification: Some("Billing".into()),
            ..Request::default()
        };
        app::handoff::run(&sessions, &crm, &settings, &limits, &req, 0)
            .await
            .expect("handoff");
        println!(
            "{label:<36} {:>9} {:>10.1}",
            crm.requests() - before,
            started.elapsed().as_secs_f64() * 1000.0
        );
    }
    println!("(requests include the token; latency includes the session read and write on S3)");

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
        "\n{:<36} {:>9} {:>10}",
        "request path (warm, known contact)", "requests", "ms"
    );
    // The first request warms the worker's own column-limit cache and is not printed.
    for (n, kind) in [(9, None), (10, None), (11, Some("auto"))] {
        let receipt = Receipt {
            ses_message_id: format!("s{n}"),
            received_at: 0,
            spam: None,
            virus: None,
            recipients: Vec::new(),
        };
        let sid = app::ingest::run(
            &sessions,
            &mail(n, "Ana <ana@client.example>"),
            &receipt,
            &Config::default(),
        )
        .await
        .expect("ingest")
        .session_id
        .expect("filed");
        let before = worker.crm.requests();
        let started = Instant::now();
        let req = Request {
            session_id: sid,
            kind: kind.map(str::to_string),
            due_at: Some(0),
            ..Request::default()
        };
        worker.handle(&req, 0).await.expect("handoff");
        if n == 9 {
            continue;
        }
        let label = if kind.is_some() {
            "automatic (policy immediate)"
        } else {
            "requested (kind absent)"
        };
        println!(
            "{label:<36} {:>9} {:>10.1}",
            worker.crm.requests() - before,
            started.elapsed().as_secs_f64() * 1000.0
        );
    }
}
