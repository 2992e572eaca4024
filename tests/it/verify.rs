//! `verify` (the connection test) against the Dataverse emulator and moto S3: all green, and
//! every failure mode with the fix it prints.

use app::handoff::Settings;
use app::verify::{Check, EmailIdentities, IdentityStatus, Inputs, Problem, Report, Status, run};
use dataverse_emulator::{Emulator, Kind};
use dynamics::{Credentials, DataverseClient, Owner};
use serde_json::json;
use store::sessions::Sessions;
use store::{ObjectStore, S3ObjectStore};
use testkit::MotoServer;
use uuid::Uuid;

use crate::world::{World, props, retries};

/// Received-at of the support fixtures plus an hour.
const NOW: i64 = 1_710_238_500 + 3600;

/// SES where every identity has one state.
struct Ses(IdentityStatus);

impl EmailIdentities for Ses {
    async fn status(&self, _identity: &str) -> Result<IdentityStatus, String> {
        Ok(self.0)
    }
}

/// The org's settings with a ticket property; clients that give up quickly.
async fn world(prefix: &str) -> World {
    World::builder()
        .retry(retries(2, 10, 50))
        .ticket_properties(json!({"casetypecode": 2}))
        .start(prefix)
        .await
}

/// SES with every identity verified.
const VERIFIED: Ses = Ses(IdentityStatus::Verified);

/// What a run checks: `crm` with `settings`, `sessions`, SES as `identities`, support@acme.com
/// as the support address, at `now`.
fn inputs<'a, O, E>(
    crm: &'a DataverseClient,
    settings: &'a Settings,
    sessions: &'a Sessions<O>,
    identities: Result<&'a E, String>,
    now: i64,
) -> Inputs<'a, O, E> {
    Inputs {
        dynamics: Ok(crm),
        settings: Ok(settings),
        sessions,
        identities,
        support_address: Some("support@acme.com"),
        now,
    }
}

impl World {
    async fn verify(&self) -> Report {
        self.verify_with(&self.emu.credentials_json(), &self.settings)
            .await
    }

    async fn verify_with(&self, creds: &str, settings: &Settings) -> Report {
        let crm = self.client_with(creds);
        let report = run(&inputs(&crm, settings, &self.sessions, Ok(&VERIFIED), NOW)).await;
        assert_no_secrets(&self.emu, &report);
        report
    }

    async fn verify_settings(&self, f: impl FnOnce(&mut Settings)) -> Report {
        let mut s = self.settings.clone();
        f(&mut s);
        self.verify_with(&self.emu.credentials_json(), &s).await
    }

    /// The token check of a run whose credentials have `field` set to `value`: its detail
    /// names `code` and its fix starts with `fix_start`.
    async fn token_refused(&self, field: &str, value: &str, code: &str, fix_start: &str) -> Check {
        let r = self
            .verify_with(&self.creds_with(field, value), &self.settings)
            .await;
        let token = check(&r, "token");
        assert!(token.detail.contains(code), "{token:?}");
        assert!(fix(token).starts_with(fix_start), "{token:?}");
        token.clone()
    }
}

/// Neither the client secret nor a token (the emulator's are `emu.<hex>`) is ever shown.
fn assert_no_secrets(emu: &Emulator, report: &Report) {
    let text = serde_json::to_string(report).expect("json");
    let secret = dataverse_emulator::Config::default().client_secret;
    assert!(!text.contains(&secret), "secret leaked: {text}");
    assert!(!text.contains("emu."), "token leaked: {text}");
    let _ = emu;
}

/// Every check of an all-green run, in order (the world's one ticket property checked as
/// `ticket_properties.casetypecode`).
const ALL_CHECKS: &str = "settings credentials token whoami read_incidents privileges queue \
    owner priority ticket_properties.casetypecode description store ses_identity forwarding \
    email_channel";

fn all_checks() -> Vec<&'static str> {
    ALL_CHECKS.split_whitespace().collect()
}

fn check<'a>(report: &'a Report, name: &str) -> &'a Check {
    report
        .get(name)
        .unwrap_or_else(|| panic!("no check {name} in {report:#?}"))
}

fn fix(c: &Check) -> &str {
    c.fix.as_deref().unwrap_or("")
}

/// `c` failed with `detail`, and its fix starts with `fix_start`.
fn assert_fails_with(c: &Check, detail: &str, fix_start: &str) {
    assert_eq!(c.status, Status::Fail, "{c:?}");
    assert_eq!(c.detail, detail);
    assert!(fix(c).starts_with(fix_start), "{c:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn all_green() {
    let w = world("verify-green").await;
    // The forwarding test has come back: the channel is Active.
    let outbox = app::reply::StoreOutbox::new(store::MemoryObjectStore::default());
    let support = mail::Mailbox {
        name: None,
        address: "support@acme.com".into(),
    };
    let token =
        app::channel::send_test(&w.sessions, &outbox, &support, "support@acme.com", NOW - 60)
            .await
            .expect("test sent");
    assert!(
        app::channel::observe(&w.sessions, &token, NOW - 52)
            .await
            .expect("observed")
    );
    let r = w.verify().await;
    assert!(r.ok(), "{r:#?}");
    for c in &r.checks {
        assert_eq!(c.status, Status::Ok, "{c:?}");
    }
    let names: Vec<&str> = r.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, all_checks());
    assert_eq!(names.len(), 15);
    assert!(
        check(&r, "email_channel")
            .detail
            .starts_with("Active: the test message came back through forwarding and SES in 8 s"),
        "{r:#?}"
    );
    assert_eq!(check(&r, "priority").detail, "prioritycode 1 (High)");
    assert_eq!(
        check(&r, "ticket_properties.casetypecode").detail,
        "2 (Problem)"
    );
    assert!(
        check(&r, "description").detail.contains("MaxLength 2000"),
        "{r:#?}"
    );
    // The store probe leaves nothing behind.
    let left = w.sessions.objects().list("verify/").await.expect("list");
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_client_secret_names_the_secret_value_and_skips_the_rest() {
    let w = world("verify-secret").await;
    let wrong = "not-the-secret-value-0123";
    let r = w
        .verify_with(&w.creds_with("client_secret", wrong), &w.settings)
        .await;
    assert!(!r.ok());
    let token = check(&r, "token");
    assert_eq!(token.status, Status::Fail, "{token:?}");
    assert!(token.detail.contains("AADSTS7000215"), "{token:?}");
    assert!(fix(token).contains("client_secret"), "{token:?}");
    assert!(fix(token).contains("*Value* (not its ID)"), "{token:?}");
    // The Dynamics checks after the token (ticket_properties skipped as one check).
    let after_token = all_checks()
        .into_iter()
        .skip_while(|n| *n != "token")
        .skip(1)
        .take_while(|n| *n != "store")
        .map(|n| n.split('.').next().unwrap_or(n));
    for name in after_token {
        let c = check(&r, name);
        assert_eq!(c.status, Status::Skip, "{c:?}");
        assert_eq!(c.detail, "token failed");
    }
    // The AWS side is still checked.
    assert_eq!(check(&r, "store").status, Status::Ok);
    let text = serde_json::to_string(&r).expect("json");
    assert!(!text.contains(wrong), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_tenant_names_tenant_id() {
    let w = world("verify-tenant").await;
    let token = w
        .token_refused(
            "tenant_id",
            "99999999-0000-0000-0000-000000000000",
            "AADSTS90002",
            "tenant_id is wrong",
        )
        .await;
    assert_eq!(token.status, Status::Fail, "{token:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_client_id_and_environment_url_name_their_fields() {
    let w = world("verify-client").await;
    w.token_refused(
        "client_id",
        "12345678-0000-0000-0000-000000000000",
        "AADSTS700016",
        "client_id is not an app",
    )
    .await;
    w.token_refused(
        "environment_url",
        "http://127.0.0.1:9",
        "AADSTS70011",
        "environment_url is wrong",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_application_user() {
    let w = world("verify-appuser").await;
    w.emu.set_no_application_user(true);
    let r = w.verify().await;
    assert_eq!(check(&r, "token").status, Status::Ok);
    let who = check(&r, "whoami");
    assert_eq!(who.status, Status::Fail, "{who:?}");
    assert!(who.detail.contains("401"), "{who:?}");
    assert!(
        fix(who).starts_with("create an application user for this app (client_id)"),
        "{who:?}"
    );
    assert_eq!(check(&r, "queue").status, Status::Skip);
    assert_eq!(check(&r, "queue").detail, "WhoAmI failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn missing_read_privilege_names_it() {
    let w = world("verify-prv").await;
    w.emu.revoke("prvReadIncident");
    let r = w.verify().await;
    let read = check(&r, "read_incidents");
    assert_eq!(read.status, Status::Fail, "{read:?}");
    assert!(
        fix(read).starts_with(
            "Give the application user's security role the prvReadIncident privilege on the incident table"
        ),
        "{read:?}"
    );
    // The other checks still run.
    assert_eq!(check(&r, "queue").status, Status::Ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn queue_unknown_or_unset() {
    let w = world("verify-queue").await;
    let bad = Uuid::new_v4();
    let r = w.verify_settings(|s| s.queue_id = Some(bad)).await;
    assert_fails_with(
        check(&r, "queue"),
        &format!("queue {bad} does not exist (404)"),
        &format!("DEFAULT_QUEUE_ID {bad} is wrong"),
    );
    assert!(!r.ok());
    let r = w.verify_settings(|s| s.queue_id = None).await;
    let q = check(&r, "queue");
    assert_eq!(q.status, Status::Warn, "{q:?}");
    assert!(q.detail.contains("DEFAULT_QUEUE_ID is not set"), "{q:?}");
    assert!(r.ok(), "a warning is not a failure: {r:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn owner_unknown_or_in_the_other_table() {
    let w = world("verify-owner").await;
    let bad = Uuid::new_v4();
    let r = w
        .verify_settings(|s| s.owner = Some(Owner::User(bad)))
        .await;
    assert_fails_with(
        check(&r, "owner"),
        &format!("systemusers({bad}) does not exist (404)"),
        &format!("DEFAULT_OWNER_ID {bad} is wrong"),
    );
    // A team's id given as a bare GUID (read as a user).
    let team = w.emu.seeds().team_id;
    let r = w
        .verify_settings(|s| s.owner = Some(Owner::User(team)))
        .await;
    let o = check(&r, "owner");
    assert_eq!(o.status, Status::Fail, "{o:?}");
    assert_eq!(
        fix(o),
        format!("{team} is in teams, not systemusers: set DEFAULT_OWNER_ID=teams({team}).")
    );
    let user = w.emu.seeds().user_id;
    let r = w
        .verify_settings(|s| s.owner = Some(Owner::User(user)))
        .await;
    assert_eq!(check(&r, "owner").status, Status::Ok);
    let r = w.verify_settings(|s| s.owner = None).await;
    assert_eq!(check(&r, "owner").status, Status::Ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn priority_outside_the_option_set() {
    let w = world("verify-priority").await;
    let r = w.verify_settings(|s| s.priority = Some(7)).await;
    let p = check(&r, "priority");
    assert_eq!(p.status, Status::Fail, "{p:?}");
    assert_eq!(p.detail, "DEFAULT_PRIORITY 7 is not a prioritycode option");
    assert_eq!(
        fix(p),
        "Set DEFAULT_PRIORITY to one of 1 (High), 2 (Normal), 3 (Low)."
    );
    let r = w.verify_settings(|s| s.priority = None).await;
    assert_eq!(check(&r, "priority").detail, "prioritycode 2 (Normal)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ticket_properties_label_unknown_column_out_of_range_and_too_long() {
    let w = world("verify-props").await;
    w.emu.add_incident_column("new_reference", Kind::String(10));
    w.emu.add_incident_column(
        "new_customerpriority",
        Kind::Picklist(vec![
            (100000000, "Gold".into()),
            (100000001, "Silver".into()),
        ]),
    );
    let r = w
        .verify_settings(|s| {
            s.ticket_properties = props(json!({
                "casetypecode": "Problem",
                "severitycode": 9,
                "customerpriority": 1,
                "CaseTypeCode": 1,
                "new_reference": "far longer than ten",
                "new_customerpriority": "100000001",
                "productserialnumber": "SN-1",
                "title": "x",
            }))
        })
        .await;
    assert!(!r.ok());
    let get = |col: &str| check(&r, &format!("ticket_properties.{col}")).clone();

    let label = get("casetypecode");
    assert_eq!(label.status, Status::Fail, "{label:?}");
    assert_eq!(
        fix(&label),
        r#"casetypecode: use 2 (Problem), not "Problem""#
    );

    let range = get("severitycode");
    assert_eq!(range.status, Status::Fail, "{range:?}");
    assert_eq!(range.detail, "severitycode: 9 is not one of its options");
    assert_eq!(fix(&range), "severitycode: use one of 1 (Default Value).");

    let unknown = get("customerpriority");
    assert_eq!(unknown.status, Status::Fail, "{unknown:?}");
    assert_eq!(unknown.detail, "incident has no column 'customerpriority'");
    assert!(
        fix(&unknown).starts_with("customerpriority: remove it from TICKET_PROPERTIES"),
        "{unknown:?}"
    );

    let case = get("CaseTypeCode");
    assert_eq!(
        fix(&case),
        "CaseTypeCode: use the logical name 'casetypecode' (lower case)."
    );

    let long = get("new_reference");
    assert_eq!(long.status, Status::Fail, "{long:?}");
    assert_eq!(long.detail, "new_reference: 19 characters, MaxLength is 10");

    let numeric_string = get("new_customerpriority");
    assert_eq!(
        fix(&numeric_string),
        r#"new_customerpriority: use 100000001 (Silver), not "100000001""#
    );

    assert_eq!(get("productserialnumber").status, Status::Ok);
    let own = get("title");
    assert_eq!(own.status, Status::Warn, "{own:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn short_description_is_a_warning() {
    let w = world("verify-desc").await;
    w.emu.set_max_length("incident", "description", 500);
    let r = w.verify().await;
    let d = check(&r, "description");
    assert_eq!(d.status, Status::Warn, "{d:?}");
    assert!(d.detail.contains("MaxLength is 500"), "{d:?}");
    assert!(r.ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unreadable_credentials_and_settings() {
    let w = world("verify-creds").await;
    let err = Credentials::from_json(
        r#"{"tenant_id":"t","client_id":"c","client_secret":"hunter2","environment_url":"https://org.crm.dynamics.com/api/data"}"#,
    )
    .expect_err("bad url");
    let r = run(&Inputs {
        dynamics: Err(Problem::from(&err)),
        settings: Settings::from_lookup(|k| (k == "DEFAULT_PRIORITY").then(|| "High".into()))
            .as_ref()
            .map_err(Clone::clone),
        sessions: &w.sessions,
        identities: Ok(&VERIFIED),
        support_address: Some("support@acme.com"),
        now: NOW,
    })
    .await;
    let c = check(&r, "credentials");
    assert_eq!(c.status, Status::Fail, "{c:?}");
    assert!(fix(c).contains("environment_url"), "{c:?}");
    let s = check(&r, "settings");
    assert_eq!(s.status, Status::Fail, "{s:?}");
    assert!(
        s.detail
            .starts_with("DEFAULT_PRIORITY must be an option value"),
        "{s:?}"
    );
    assert_eq!(check(&r, "token").status, Status::Skip);
    let text = serde_json::to_string(&r).expect("json");
    assert!(!text.contains("hunter2"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ses_identity_states() {
    let w = world("verify-ses").await;
    let crm = w.client();
    for (state, status, needle) in [
        (
            IdentityStatus::NotFound,
            Status::Fail,
            "aws sesv2 create-email-identity --email-identity acme.com",
        ),
        (IdentityStatus::Pending, Status::Warn, "DKIM CNAME records"),
        (IdentityStatus::Failed, Status::Fail, "restart verification"),
    ] {
        let r = run(&inputs(
            &crm,
            &w.settings,
            &w.sessions,
            Ok(&Ses(state)),
            NOW,
        ))
        .await;
        let c = check(&r, "ses_identity");
        assert_eq!(c.status, status, "{c:?}");
        assert!(fix(c).contains(needle), "{c:?}");
    }
    let unconfigured = Err::<&Ses, _>("AWS is not configured".into());
    let r = run(&inputs(&crm, &w.settings, &w.sessions, unconfigured, NOW)).await;
    let c = check(&r, "ses_identity");
    assert_eq!(c.status, Status::Skip, "{c:?}");
    assert!(r.ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pending_gmail_forwarding_confirmation_is_listed_with_code_and_link() {
    let w = world("verify-fwd").await;
    let raw = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/mail/tests/fixtures/eml/08-gmail-forwarding-confirmation.eml"
    ))
    .expect("fixture");
    let o = w.ingest(&raw, "ses-fwd-1").await;
    assert_eq!(o.disposition, "forwarding_confirmation");
    let r = w.verify().await;
    let f = check(&r, "forwarding");
    assert_eq!(f.status, Status::Warn, "{f:?}");
    assert!(f.detail.contains("code 598213740"), "{f:?}");
    assert!(
        f.detail
            .contains("link https://mail-settings.google.com/mail/vf-%5BANGjdJ8xyz%5D-abcDEF123"),
        "{f:?}"
    );
    assert!(f.detail.contains("for support@acme.com"), "{f:?}");
    assert!(
        fix(f).starts_with("Forwarding to SES starts only once confirmed: open https://mail-settings.google.com/mail/vf-%5BANGjdJ8xyz%5D-abcDEF123 while signed in as support@acme.com, or enter code 598213740"),
        "{f:?}"
    );
    assert!(r.ok(), "a pending confirmation is a warning: {r:#?}");
    // A month later it is no longer shown.
    let crm = w.client();
    let month_later = NOW + 31 * 24 * 3600;
    let r = run(&inputs(
        &crm,
        &w.settings,
        &w.sessions,
        Ok(&VERIFIED),
        month_later,
    ))
    .await;
    let f = check(&r, "forwarding");
    assert_eq!(f.status, Status::Ok, "{f:?}");
    assert!(f.detail.contains("1 older than 30 days ignored"), "{f:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unreachable_bucket_fails_the_store_and_skips_forwarding() {
    let w = world("verify-bucket").await;
    let moto = MotoServer::shared();
    let missing = Sessions::new(S3ObjectStore::new(
        moto.s3().await,
        "verify-no-such-bucket",
        None,
    ));
    let crm = w.client();
    let r = run(&inputs(&crm, &w.settings, &missing, Ok(&VERIFIED), NOW)).await;
    let s = check(&r, "store");
    assert_eq!(s.status, Status::Fail, "{s:?}");
    assert!(fix(s).starts_with("Check the bucket name"), "{s:?}");
    assert_eq!(check(&r, "forwarding").status, Status::Skip);
    assert!(!r.ok());
}
