//! `mailcase verify --send-test`: the forwarding connection test through the built binary, moto
//! S3 + SESv2 and the Dataverse emulator. The message SES "sends" is delivered back the way the
//! forwarding rule and SES receipt rule would (`mailcase ingest` of its raw bytes).

use serde_json::Value;
use testkit::MotoServer;

use crate::runner::{Aws, emulator_with_credentials, mailcase};

fn channel(stdout: &str) -> Value {
    let v: Value = serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "email_channel")
        .cloned()
        .unwrap_or_else(|| panic!("no email_channel: {stdout}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_test_round_trip_marks_the_channel_active() {
    let moto = MotoServer::shared();
    let conf = moto.sdk_config().await;
    let _ = aws_sdk_sesv2::Client::new(&conf)
        .create_email_identity()
        .email_identity("roundtrip.example")
        .send()
        .await;
    let bucket = moto.bucket("sendtest").await;
    let (_emu, tmp, creds) = emulator_with_credentials().await;
    let creds = creds.to_str().unwrap();
    let support = "support@roundtrip.example";
    let verify = [
        "verify",
        "--json",
        "--bucket",
        &bucket,
        "--credentials",
        creds,
        "--support-address",
        support,
    ];

    let mut first = verify.to_vec();
    first.push("--send-test");
    let run = mailcase(&first, &[], Aws::Moto).await;
    let (stdout, stderr) = (&run.stdout, run.stderr());
    assert!(stderr.contains("test message sent"), "{stderr}");
    let c = channel(stdout);
    assert_eq!(c["status"], "warn", "{c}");
    assert!(c["detail"].as_str().unwrap().starts_with("Waiting"), "{c}");

    // The forwarding rule brings the message back: SES stores it and ingest files it.
    let url = format!("{}/moto-api/data.json", moto.endpoint());
    let data: Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
    let raw = data["ses"]["RawMessage"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["raw_data"].as_str())
        .rfind(|r| r.contains("mailcase forwarding test") && r.contains(support))
        .expect("the test message went out through SES")
        .to_string();
    let eml = tmp.path().join("test.eml");
    std::fs::write(&eml, raw).unwrap();
    let run = mailcase(
        &[
            "ingest",
            "--bucket",
            &bucket,
            "--support-address",
            support,
            eml.to_str().unwrap(),
        ],
        &[],
        Aws::Moto,
    )
    .await;
    assert!(run.ok(), "{}", run.all_output());
    let stdout = &run.stdout;
    assert!(
        stdout.contains("\"disposition\":\"connection_test\""),
        "{stdout}"
    );

    let run = mailcase(&verify, &[], Aws::Moto).await;
    let c = channel(&run.stdout);
    assert_eq!(c["status"], "ok", "{c}");
    assert!(c["detail"].as_str().unwrap().starts_with("Active"), "{c}");
}
