//! The built `mailcase` binary: `ingest` under a handoff policy, `work` draining the local queue
//! and a moto SQS queue (a bad message reported, the rest done), `triage`, and `verify`'s
//! routing checks — against the Dataverse emulator in process.

use std::path::Path;

use serde_json::Value;

use crate::runner::{
    Aws, Run, emulator_with_credentials, ingest, lines, mailcase, on_store, sqs_queue,
};

fn eml(
    dir: &Path,
    name: &str,
    from: &str,
    to: &str,
    subject: &str,
    id: &str,
    body: &str,
) -> String {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: Tue, 12 Mar 2024 10:15:00 +0000\r\nMessage-ID: <{id}>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
        ),
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

/// `a.eml` in `dir`: Ana's mail `id` to support, "It is broken."
fn broken(dir: &Path, id: &str) -> String {
    eml(
        dir,
        "a.eml",
        "Ana <ana@client.example>",
        "support@acme.com",
        "Broken",
        id,
        "It is broken.",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn immediate_policy_ingest_then_work_makes_the_case_and_triage_explains_it() {
    let (emu, tmp, creds) = emulator_with_credentials().await;
    let store = tmp.path().join("store");
    let seeds = emu.seeds();
    let routing = format!(
        r#"{{"routes": [{{"address": "billing@acme.com", "priority": 1, "classification": "Billing"}},
                        {{"address": "*", "queue_id": "{}", "policy": "immediate"}}],
            "rules": [{{"name": "refunds", "when": {{"subject": "(?i)refund"}}, "set": {{"classification": "Refund"}}}}]}}"#,
        seeds.queue_id
    );
    let env = vec![("ROUTING", routing)];
    let a = eml(
        tmp.path(),
        "a.eml",
        "Ana Lima <ana@client.example>",
        "billing@acme.com",
        "Invoice wrong",
        "a1@client.example",
        "Hello, the invoice total is wrong. Please check.",
    );
    let b = eml(
        tmp.path(),
        "b.eml",
        "Bo <bo@other.example>",
        "help@acme.com",
        "Refund please",
        "b1@other.example",
        "I want a refund for order 9.",
    );
    let run = ingest(&store, &[&a, &b], &env, Aws::Moto).await;
    assert!(run.ok(), "{}", run.all_output());
    let filed = lines(&run.stdout);
    let sid = filed[0]["session_id"].as_str().unwrap().to_string();
    // Nothing is created before the queue is worked.
    assert!(emu.records("incidents").is_empty());

    let Run { out, stdout } = mailcase(
        &["triage", "--json", "--store", store.to_str().unwrap(), &sid],
        &env,
        Aws::Moto,
    )
    .await;
    assert!(out.status.success(), "{stdout}");
    let t: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(t["route"], "billing@acme.com");
    assert_eq!(t["classification"], "Billing");
    assert_eq!(t["priority"], 1);
    assert_eq!(t["policy"], "immediate");
    assert_eq!(t["summary"], "the invoice total is wrong.");
    assert_eq!(t["queue_id"], seeds.queue_id.to_string());

    let run = on_store("work", &store, &creds, &[], &env, Aws::Moto).await;
    assert!(run.ok(), "{}", run.all_output());
    let stdout = &run.stdout;
    let done = lines(stdout);
    assert_eq!(done.len(), 2, "{stdout}");
    assert!(
        done.iter().all(|l| l["ok"] == true && l["kind"] == "auto"),
        "{stdout}"
    );
    let titles: Vec<String> = emu
        .records("incidents")
        .iter()
        .map(|i| i["title"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(titles.len(), 2);
    assert!(
        titles.contains(&"Billing - Ana Lima".to_string()),
        "{titles:?}"
    );
    assert!(titles.contains(&"Refund - Bo".to_string()), "{titles:?}");
    // The queue is empty now; a second run does nothing.
    let Run { out, stdout } = on_store("work", &store, &creds, &[], &env, Aws::Moto).await;
    assert!(out.status.success() && stdout.trim().is_empty(), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_drains_an_sqs_queue_and_reports_the_bad_messages() {
    let (emu, tmp, creds) = emulator_with_credentials().await;
    let store = tmp.path().join("store");
    let a = broken(tmp.path(), "w1@client.example");
    let b = eml(
        tmp.path(),
        "b.eml",
        "Bo <bo@other.example>",
        "support@acme.com",
        "Slow",
        "w2@other.example",
        "It is slow.",
    );
    let Run { out, stdout } = ingest(&store, &[&a, &b], &[], Aws::Moto).await;
    assert!(out.status.success(), "{stdout}");
    let sids: Vec<String> = lines(&stdout)
        .iter()
        .map(|l| l["session_id"].as_str().unwrap().to_string())
        .collect();

    let url = sqs_queue(
        &format!("work-dlq-{}", std::process::id()),
        [
            format!(
                r#"{{"session_id": "{}", "classification": "Outage"}}"#,
                sids[0]
            ),
            "this is not a handoff request".to_string(),
            format!(r#"{{"session_id": "{}"}}"#, sids[1]),
            r#"{"session_id": "mc-00000000000000ff"}"#.to_string(),
        ],
    )
    .await;
    let Run { out, stdout } =
        on_store("work", &store, &creds, &["--queue", &url], &[], Aws::Moto).await;
    assert!(
        !out.status.success(),
        "a failed request makes the exit code non-zero: {stdout}"
    );
    let results = lines(&stdout);
    assert_eq!(results.len(), 4, "{stdout}");
    let ok: Vec<_> = results.iter().filter(|l| l["ok"] == true).collect();
    let bad: Vec<_> = results.iter().filter(|l| l["ok"] == false).collect();
    assert_eq!((ok.len(), bad.len()), (2, 2), "{stdout}");
    // Some failed request's `field` contains `needle`.
    let a_bad_one_says = |field: &str, needle: &str| {
        bad.iter()
            .any(|l| l[field].as_str().unwrap_or("").contains(needle))
    };
    assert!(
        a_bad_one_says("error", "unreadable handoff request"),
        "{stdout}"
    );
    assert!(a_bad_one_says("fix", "mailcase sessions"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 done, 2 failed"));
    assert_eq!(emu.records("incidents").len(), 2);
    assert!(
        emu.records("incidents")
            .iter()
            .any(|i| i["title"] == "Outage - Ana")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_refuses_a_bad_routing_document_and_checks_every_route() {
    let (emu, tmp, creds) = emulator_with_credentials().await;
    let store = tmp.path().join("store");
    // `verify --json` under `routing`.
    let verify = |routing: String| {
        let (store, creds) = (&store, &creds);
        async move {
            on_store(
                "verify",
                store,
                creds,
                &["--json"],
                &[("ROUTING", routing)],
                Aws::Moto,
            )
            .await
        }
    };
    let run =
        verify(r#"{"routes": [{"address": "billing@acme.com", "policy": "quiet:5x"}]}"#.into())
            .await;
    assert!(!run.ok());
    let c = run.check("routing");
    assert_eq!(c["status"], "fail");
    assert!(
        c["detail"].as_str().unwrap().contains("routes[0].policy"),
        "{c}"
    );

    let run = verify(r#"{"rules": [{"when": {"subject": "([a-"}, "set": {}}]}"#.into()).await;
    assert!(!run.ok());
    assert!(
        run.check("routing")["detail"]
            .as_str()
            .unwrap()
            .contains("rules[0].when.subject")
    );

    // A route naming a queue the org does not have, and a label as a property value.
    let run = verify(format!(
        r#"{{"routes": [{{"address": "billing@acme.com", "queue_id": "{}", "ticket_properties": {{"casetypecode": "Problem"}}}},
                        {{"address": "*", "queue_id": "{}"}}]}}"#,
        uuid::Uuid::nil(),
        emu.seeds().queue_id
    ))
    .await;
    let v = run.json();
    assert!(!run.ok(), "{v}");
    assert_eq!(run.check("routing")["status"], "ok");
    assert_eq!(
        run.check("route[billing@acme.com].queue")["status"],
        "fail",
        "{v}"
    );
    assert_eq!(
        run.check("route[billing@acme.com].ticket_properties.casetypecode")["status"],
        "fail",
        "{v}"
    );
    assert_eq!(run.check("route[*].queue")["status"], "ok", "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handoff_sends_the_acknowledgement_like_the_function_and_says_where_it_went() {
    let (_emu, tmp, creds) = emulator_with_credentials().await;
    let store = tmp.path().join("store");
    let a = broken(tmp.path(), "h1@client.example");
    let Run { stdout, .. } = ingest(&store, &[&a], &[], Aws::Moto).await;
    let sid = lines(&stdout)[0]["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    let env = vec![
        ("HANDOFF_ACK", "true".to_string()),
        ("SUPPORT_ADDRESS", "support@acme.com".to_string()),
    ];
    let run = on_store("handoff", &store, &creds, &[&sid], &env, Aws::Moto).await;
    assert!(run.ok(), "{}", run.all_output());
    let stdout = &run.stdout;
    assert!(
        stdout.contains("(via outbox)") && stdout.contains("not delivered"),
        "{stdout}"
    );
    assert!(!stdout.contains("sent through SES"), "{stdout}");
    let outbox: Vec<_> = std::fs::read_dir(store.join("outbox")).unwrap().collect();
    assert_eq!(outbox.len(), 1);
    // The reply command says the same.
    let Run { out, stdout } = mailcase(
        &[
            "reply",
            "--store",
            store.to_str().unwrap(),
            "--support-address",
            "support@acme.com",
            "--text",
            "On it.",
            &sid,
        ],
        &[],
        Aws::Moto,
    )
    .await;
    assert!(out.status.success(), "{stdout}");
    let v: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["via"], "outbox");
    assert!(v.get("sent").is_none(), "{v}");
}
