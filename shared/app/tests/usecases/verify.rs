//! `app::verify` against the emulator and the memory store: green on a healthy org (with the
//! forwarding test come back through ingest), and each broken setting fails with its fix.

use app::handoff::Settings;
use app::routing::{Policy, Routing};
use app::verify::{Check, EmailIdentities, IdentityStatus, Inputs, Report, Status, routes, run};
use dynamics::DataverseClient;
use serde_json::{Value, json};
use store::layout::{OUTBOX_PREFIX, VERIFY_PREFIX};

use crate::world::{RECEIVED_AT, SUPPORT, World};

/// An hour after the test mail.
const NOW: i64 = RECEIVED_AT + 3600;

/// SES where every identity is verified.
struct Verified;

impl EmailIdentities for Verified {
    async fn status(&self, _identity: &str) -> Result<IdentityStatus, String> {
        Ok(IdentityStatus::Verified)
    }
}

impl World {
    async fn verify_with(&self, crm: &DataverseClient, settings: &Settings) -> Report {
        let report = run(&Inputs {
            dynamics: Ok(crm),
            settings: Ok(settings),
            sessions: &self.sessions,
            identities: Ok(&Verified),
            support_address: Some(SUPPORT),
            now: NOW,
        })
        .await;
        let shown = serde_json::to_string(&report).expect("json");
        let secret = dataverse_emulator::Config::default().client_secret;
        assert!(
            !shown.contains(&secret) && !shown.contains("emu."),
            "{shown}"
        );
        report
    }

    async fn verify(&self) -> Report {
        self.verify_with(&self.crm, &self.settings).await
    }
}

fn check<'a>(r: &'a Report, name: &str) -> &'a Check {
    r.get(name)
        .unwrap_or_else(|| panic!("no check {name}: {r:#?}"))
}

fn fix(c: &Check) -> &str {
    c.fix.as_deref().unwrap_or("")
}

#[tokio::test]
async fn a_healthy_org_and_a_returned_forwarding_test_are_all_green() {
    let w = World::start().await;
    let support = ::mail::Mailbox {
        name: None,
        address: SUPPORT.into(),
    };
    app::channel::send_test(&w.sessions, &w.outbox(), &support, SUPPORT, RECEIVED_AT - 8)
        .await
        .expect("test sent");
    // The test message comes back through forwarding and SES: ingest marks the channel.
    let sent = w.keys(OUTBOX_PREFIX).await;
    let back = w.ingest_raw(&w.bytes(&sent[0]).await, "ses-test").await;
    assert_eq!(back.disposition, "connection_test", "{back:?}");
    assert!(w.sessions().await.is_empty(), "never a case");

    let r = w.verify().await;
    for c in &r.checks {
        assert_eq!(c.status, Status::Ok, "{c:?}");
    }
    let names: Vec<&str> = r.checks.iter().map(|c| c.name.as_str()).collect();
    let expected = "settings credentials token whoami read_incidents privileges queue owner \
                    priority ticket_properties description store ses_identity forwarding email_channel";
    assert_eq!(names.join(" "), expected);
    assert_eq!(check(&r, "priority").detail, "prioritycode 1 (High)");
    assert!(
        check(&r, "email_channel").detail.starts_with("Active"),
        "{r:#?}"
    );
    assert!(
        w.keys(VERIFY_PREFIX).await.is_empty(),
        "the probe is deleted"
    );
    assert!(w.records("incidents").is_empty() && w.records("contacts").is_empty());
}

#[tokio::test]
async fn revoked_privileges_fail_with_the_fix_naming_each_and_nothing_is_written() {
    let w = World::start().await;
    w.emu.revoke("prvReadIncident");
    w.emu.revoke("prvCreateIncident");
    let r = w.verify().await;
    assert!(!r.ok());
    let read = check(&r, "read_incidents");
    let give = "Give the application user's security role the prvReadIncident privilege on the incident table";
    assert!(
        read.status == Status::Fail && fix(read).starts_with(give),
        "{read:?}"
    );
    let summary = check(&r, "privileges");
    assert!(summary.detail.starts_with("2 of "), "{summary:?}");
    for missing in ["prvReadIncident", "prvCreateIncident"] {
        let c = check(&r, &format!("privileges.{missing}"));
        assert_eq!(c.status, Status::Fail, "{c:?}");
        assert!(
            c.detail.contains(&format!("lacks {missing} (Case: ")),
            "{c:?}"
        );
        assert!(fix(c).ends_with(&format!("({missing}).")), "{c:?}");
    }
    // The other checks still ran; verify wrote nothing.
    assert_eq!(
        (check(&r, "queue").status, check(&r, "store").status),
        (Status::Ok, Status::Ok)
    );
    let writes = w
        .emu
        .request_counts()
        .into_iter()
        .filter(|(k, _)| !k.starts_with("GET") && k != "token");
    assert_eq!(writes.count(), 0, "{:?}", w.emu.request_counts());
}

#[tokio::test]
async fn a_wrong_secret_fails_the_token_and_skips_the_dynamics_checks() {
    let w = World::start().await;
    let mut creds: Value = serde_json::from_str(&w.emu.credentials_json()).expect("json");
    creds["client_secret"] = json!("not-the-secret-value-0123");
    let crm = World::client_for(&creds.to_string());
    let r = w.verify_with(&crm, &w.settings).await;
    let token = check(&r, "token");
    assert_eq!(token.status, Status::Fail, "{token:?}");
    assert!(token.detail.contains("AADSTS7000215"), "{token:?}");
    assert!(fix(token).contains("client_secret"), "{token:?}");
    // Everything after the token is skipped, saying why.
    let after = r.checks.iter().skip_while(|c| c.name != "token").skip(1);
    let skipped: Vec<&str> = after
        .take_while(|c| c.status == Status::Skip && c.detail == "token failed")
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(skipped.len(), 8, "whoami to description: {r:#?}");
    assert_eq!(skipped.last(), Some(&"description"));
    assert_eq!(check(&r, "store").status, Status::Ok);
    assert!(
        !serde_json::to_string(&r)
            .expect("json")
            .contains("not-the-secret")
    );
}

#[tokio::test]
async fn routes_are_checked_against_the_org() {
    let w = World::start().await;
    let missing = uuid::Uuid::new_v4();
    let doc = json!({"routes": [
        {"address": "billing@acme.com", "priority": 3, "policy": "quiet:10m"},
        {"address": "sales@acme.com", "queue_id": missing.to_string()},
    ]})
    .to_string();
    let routing = Routing::parse(&doc, &w.settings, Policy::Manual).expect("document");
    let checks = routes::checks(Ok(&routing), true, Some(&w.crm)).await;
    let get = |name: &str| {
        checks
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no {name}: {checks:#?}"))
    };
    assert_eq!(get("routing").status, Status::Ok);
    assert_eq!(get("route[billing@acme.com].queue").status, Status::Ok);
    assert_eq!(get("route[billing@acme.com].priority").status, Status::Ok);
    let bad = get("route[sales@acme.com].queue");
    assert_eq!(bad.status, Status::Fail, "{bad:?}");
    assert!(bad.detail.contains(&missing.to_string()), "{bad:?}");
    assert_eq!(get("route[*].queue").status, Status::Ok);
    // A document with a mistake is refused with its place.
    let refused = Routing::parse(
        r#"{"routes": [{"address": "x@acme.com", "policy": "soon"}]}"#,
        &w.settings,
        Policy::Manual,
    )
    .expect_err("bad policy");
    let text = refused.to_string();
    let checks = routes::checks(Err(text.as_str()), true, Some(&w.crm)).await;
    assert_eq!(checks[0].status, Status::Fail);
    assert!(checks[0].detail.contains("routes[0].policy"), "{checks:#?}");
}
