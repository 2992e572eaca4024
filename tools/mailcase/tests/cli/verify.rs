//! The built `mailcase verify` binary against the Dataverse emulator (in process) and moto
//! (S3 + SESv2): exit codes, the JSON and text checklists, SES through `GetEmailIdentity`,
//! and no secret in any output.

use dataverse_emulator::Emulator;
use serde_json::{Value, json};
use testkit::MotoServer;

use crate::runner::{Aws, Run, emulator_with_credentials, ingest, on_store};

fn settings(emu: &Emulator, props: Value) -> Vec<(&'static str, String)> {
    let seeds = emu.seeds();
    vec![
        ("DEFAULT_QUEUE_ID", seeds.queue_id.to_string()),
        ("DEFAULT_OWNER_ID", format!("teams({})", seeds.team_id)),
        ("DEFAULT_PRIORITY", "1".into()),
        ("TICKET_PROPERTIES", props.to_string()),
    ]
}

async fn create_ses_identity(domain: &str) {
    let conf = MotoServer::shared().sdk_config().await;
    aws_sdk_sesv2::Client::new(&conf)
        .create_email_identity()
        .email_identity(domain)
        .send()
        .await
        .expect("create identity");
}

fn assert_no_secrets(run: &Run, secrets: &[&str]) {
    let all = run.all_output();
    for s in secrets {
        assert!(!all.contains(s), "secret {s} in output: {all}");
    }
    assert!(!all.contains("emu."), "a token in output: {all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_green_exits_zero() {
    let (emu, tmp, creds) = emulator_with_credentials().await;
    create_ses_identity("green.example").await;
    let store = tmp.path().join("store");
    let run = on_store(
        "verify",
        &store,
        &creds,
        &["--json", "--support-address", "support@green.example"],
        &settings(&emu, json!({"casetypecode": 2})),
        Aws::Moto,
    )
    .await;
    assert!(run.out.status.success(), "{}", run.all_output());
    let v = run.json();
    assert_eq!(v["ok"], true);
    for c in v["checks"].as_array().unwrap() {
        if c["name"] == "email_channel" {
            // Not tested yet: a warning that names `--send-test` (see send_test_cli.rs).
            assert_eq!(c["status"], "warn", "{c}");
            assert!(c["fix"].as_str().unwrap().contains("--send-test"), "{c}");
            continue;
        }
        if c["name"] == "event_bus" || c["name"] == "sentiment" {
            // Not configured here: skipped with the reason.
            assert_eq!(c["status"], "skip", "{c}");
            continue;
        }
        assert_eq!(c["status"], "ok", "{c}");
    }
    assert_eq!(
        run.check("ses_identity")["detail"],
        "SES identity green.example is verified"
    );
    assert_no_secrets(
        &run,
        &[&dataverse_emulator::Config::default().client_secret],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_and_unknown_ses_identity_fail_with_fixes_and_no_secret() {
    let (emu, tmp, creds) = emulator_with_credentials().await;
    let wrong = "wrong-secret-value-7f3a";
    let mut c: Value = serde_json::from_str(&emu.credentials_json()).unwrap();
    c["client_secret"] = json!(wrong);
    std::fs::write(&creds, c.to_string()).unwrap();
    let store = tmp.path().join("store");
    let args = ["--support-address", "support@nowhere.example"];
    let env = settings(&emu, json!({}));
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let run = on_store("verify", &store, &creds, &json_args, &env, Aws::Moto).await;
    assert_eq!(run.out.status.code(), Some(1), "{}", run.all_output());
    let token = run.check("token");
    assert_eq!(token["status"], "fail");
    assert!(
        token["fix"]
            .as_str()
            .unwrap()
            .starts_with("client_secret is wrong or expired"),
        "{token}"
    );
    assert_eq!(run.check("queue")["status"], "skip");
    assert_eq!(run.check("queue")["detail"], "token failed");
    let ses = run.check("ses_identity");
    assert_eq!(ses["status"], "fail", "{ses}");
    assert_eq!(
        ses["detail"],
        "no SES identity for support@nowhere.example or nowhere.example in this account and region"
    );
    assert_no_secrets(
        &run,
        &[wrong, &dataverse_emulator::Config::default().client_secret],
    );

    // The same as a checklist.
    let run = on_store("verify", &store, &creds, &args, &env, Aws::Moto).await;
    assert_eq!(run.out.status.code(), Some(1));
    let lines: Vec<&str> = run.stdout.lines().collect();
    let token = lines
        .iter()
        .find(|l| l.starts_with("FAIL token"))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(
        token.contains("AADSTS7000215")
            && token.contains(" -> fix: client_secret is wrong or expired"),
        "{token}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("OK   store")),
        "{}",
        run.stdout
    );
    assert!(
        lines.iter().any(|l| l.starts_with("SKIP queue")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("checks: 6 ok, 2 failed, 1 warned, 10 skipped"),
        "{}",
        run.stdout
    );
    assert_no_secrets(&run, &[wrong]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_in_ticket_properties_is_caught_in_the_checklist() {
    let (emu, tmp, creds) = emulator_with_credentials().await;
    let store = tmp.path().join("store");
    let run = on_store(
        "verify",
        &store,
        &creds,
        &[],
        &settings(&emu, json!({"casetypecode": "Problem"})),
        Aws::None,
    )
    .await;
    assert_eq!(run.out.status.code(), Some(1), "{}", run.all_output());
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("FAIL ticket_properties.casetypecode"))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(
        line.ends_with(r#"-> fix: casetypecode: use 2 (Problem), not "Problem""#),
        "{line}"
    );
    // A local store without AWS: SES is skipped, not failed.
    let ses = run
        .stdout
        .lines()
        .find(|l| l.starts_with("SKIP ses_identity"))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(ses.contains("SES not checked"), "{ses}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_store_without_aws_skips_ses_and_lists_a_forwarding_confirmation() {
    let (emu, tmp, creds) = emulator_with_credentials().await;
    let store = tmp.path().join("store");
    // A fresh copy: ingest dates a local file by its modification time.
    let eml = tmp.path().join("confirmation.eml");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/mail/tests/fixtures/eml/08-gmail-forwarding-confirmation.eml"
        ),
        &eml,
    )
    .unwrap();
    let ingested = ingest(&store, &[eml.to_str().unwrap()], &[], Aws::None).await;
    assert!(ingested.out.status.success(), "{}", ingested.all_output());
    assert!(ingested.stdout.contains("forwarding_confirmation"));
    let run = on_store(
        "verify",
        &store,
        &creds,
        &["--json", "--support-address", "support@acme.com"],
        &settings(&emu, json!({})),
        Aws::None,
    )
    .await;
    assert!(run.out.status.success(), "{}", run.all_output());
    let ses = run.check("ses_identity");
    assert_eq!(ses["status"], "skip", "{ses}");
    let fwd = run.check("forwarding");
    assert_eq!(fwd["status"], "warn", "{fwd}");
    let detail = fwd["detail"].as_str().unwrap();
    assert!(detail.contains("code 598213740"), "{detail}");
    assert!(
        detail.contains("link https://mail-settings.google.com/mail/vf-%5BANGjdJ8xyz%5D-abcDEF123"),
        "{detail}"
    );
    assert!(
        fwd["fix"]
            .as_str()
            .unwrap()
            .contains("enter code 598213740 in Gmail > Settings > Forwarding and POP/IMAP"),
        "{fwd}"
    );
}
