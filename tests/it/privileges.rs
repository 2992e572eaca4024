//! `verify` reads the application user's privileges (RetrieveUserPrivileges) and names each
//! missing one, creating nothing; both "no application user" answers give the same fix in
//! verify and in a handoff. Emulator roles, moto S3.

use app::handoff::{LimitsCache, Request};
use app::verify::{Check, Inputs, NoIdentities, Report, Status, run};
use dataverse_emulator::{Depth, Role};

use crate::support::Mail;
use crate::world::{HANDOFF_AT, World, retries};

/// The org's settings; a client that gives up quickly.
async fn world(prefix: &str) -> World {
    World::builder()
        .retry(retries(2, 10, 50))
        .start(prefix)
        .await
}

impl World {
    async fn privileges_report(&self) -> Report {
        let report = run(&Inputs {
            dynamics: Ok(&self.crm),
            settings: Ok(&self.settings),
            sessions: &self.sessions,
            identities: Ok(&NoIdentities),
            support_address: None,
            now: 1_710_242_100,
        })
        .await;
        let text = serde_json::to_string(&report).expect("json");
        assert!(!text.contains("emulator-secret-value") && !text.contains("emu."));
        report
    }

    /// Dataverse requests that could have written something.
    fn writes(&self) -> u64 {
        self.emu
            .request_counts()
            .iter()
            .filter(|(k, _)| !k.starts_with("GET") && !k.starts_with("token"))
            .map(|(_, v)| v)
            .sum()
    }
}

fn check<'a>(r: &'a Report, name: &str) -> &'a Check {
    r.get(name)
        .unwrap_or_else(|| panic!("no check {name}: {r:#?}"))
}

fn nothing_created(w: &World) {
    for set in ["incidents", "contacts", "annotations", "queueitems"] {
        assert!(w.emu.records(set).is_empty(), "{set} written by verify");
    }
    assert_eq!(w.writes(), 0, "{:?}", w.emu.request_counts());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn verify_names_each_missing_privilege_and_creates_nothing() {
    let w = world("prv-verify").await;
    // The full role passes.
    let r = w.privileges_report().await;
    let p = check(&r, "privileges");
    assert_eq!(p.status, Status::Ok, "{p:?}");
    assert!(p.detail.contains("prvAppendToQueue"), "{p:?}");
    assert!(
        w.emu.request_counts().contains_key("GET systemusers"),
        "read with RetrieveUserPrivileges: {:?}",
        w.emu.request_counts()
    );
    nothing_created(&w);

    for missing in ["prvCreateIncident", "prvAppendToContact"] {
        w.emu.set_role(Role::full().without(missing));
        let r = w.privileges_report().await;
        assert!(!r.ok(), "{missing}: {r:#?}");
        assert_eq!(check(&r, "privileges").status, Status::Fail);
        let c = check(&r, &format!("privileges.{missing}"));
        assert_eq!(c.status, Status::Fail, "{c:?}");
        assert!(c.detail.contains(missing), "{c:?}");
        let fix = c.fix.as_deref().unwrap_or("");
        assert!(
            fix.contains("security role") && fix.contains(missing),
            "{fix}"
        );
        // Only the missing one is named.
        let named: Vec<&str> = r
            .checks
            .iter()
            .filter(|c| c.name.starts_with("privileges.") && c.status == Status::Fail)
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(named, vec![format!("privileges.{missing}")], "{r:#?}");
        nothing_created(&w);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn verify_checks_the_depth_that_reaches_the_queue_and_owner() {
    let w = world("prv-depth").await;
    // The queue and the owner team are in the application user's business unit, owned by the
    // team: User depth does not reach them, Business Unit depth does.
    w.emu.set_role(
        Role::full()
            .with("prvAppendToQueue", Depth::Basic)
            .with("prvCreateIncident", Depth::Local),
    );
    let r = w.privileges_report().await;
    let q = check(&r, "privileges.prvAppendToQueue");
    assert_eq!(q.status, Status::Fail, "{q:?}");
    assert!(
        q.detail.contains("does not reach DEFAULT_QUEUE_ID"),
        "{q:?}"
    );
    assert!(
        q.fix
            .as_deref()
            .unwrap_or("")
            .contains("Business Unit depth"),
        "{q:?}"
    );
    assert!(r.get("privileges.prvCreateIncident").is_none(), "{r:#?}");
    // Contacts belong to anyone: less than Organization is a warning, not a failure.
    w.emu
        .set_role(Role::full().with("prvReadContact", Depth::Local));
    let r = w.privileges_report().await;
    assert_eq!(check(&r, "privileges.prvReadContact").status, Status::Warn);
    assert_eq!(check(&r, "privileges").status, Status::Warn);
    // Without an owner, no Assign is needed.
    w.emu.set_role(Role::full().without("prvAssignIncident"));
    assert_eq!(
        check(&w.privileges_report().await, "privileges").status,
        Status::Fail
    );
    let mut s = w.settings.clone();
    s.owner = None;
    let r = run(&Inputs {
        dynamics: Ok(&w.crm),
        settings: Ok(&s),
        sessions: &w.sessions,
        identities: Ok(&NoIdentities),
        support_address: None,
        now: 1_710_242_100,
    })
    .await;
    assert_eq!(check(&r, "privileges").status, Status::Ok, "{r:#?}");
    nothing_created(&w);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_the_privileges_verify_passed_on_the_handoff_succeeds() {
    // What verify says is what the handoff finds: a role missing prvAppendToContact fails both.
    let w = world("prv-handoff").await;
    let sid = w.ingest_file(Mail::default(), "p1").await;
    let req = Request {
        session_id: sid.clone(),
        ..Request::default()
    };
    w.emu.set_role(Role::full().without("prvAppendToContact"));
    let err = w.run_handoff(&req, HANDOFF_AT).await.expect_err("refused");
    assert!(err.fix().contains("prvAppendToContact"), "{}", err.fix());
    assert!(w.emu.records("incidents").is_empty());
    w.emu.set_role(Role::full());
    assert!(w.privileges_report().await.ok());
    let out = w.run_handoff(&req, HANDOFF_AT).await.expect("handoff");
    assert!(out.ticket_number.starts_with("CAS-"), "{out:?}");
    assert_eq!(w.emu.records("queueitems").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn both_no_application_user_answers_give_the_application_user_fix() {
    let w = world("prv-appuser").await;
    let sid = w.ingest_file(Mail::default(), "n1").await;
    for status in [401u16, 403] {
        w.emu.set_no_application_user_answer(Some(status));
        let r = w.privileges_report().await;
        let who = check(&r, "whoami");
        assert_eq!(who.status, Status::Fail, "{status}: {who:?}");
        assert!(who.detail.contains(&status.to_string()), "{who:?}");
        let fix = who.fix.as_deref().unwrap_or("");
        assert!(
            fix.starts_with("create an application user for this app (client_id)"),
            "{status}: {fix}"
        );
        assert!(!fix.contains("privilege"), "{status}: {fix}");
        assert_eq!(check(&r, "privileges").status, Status::Skip);

        let req = Request {
            session_id: sid.clone(),
            ..Request::default()
        };
        let err = app::handoff::run(
            &w.sessions,
            &w.crm,
            &w.settings,
            &LimitsCache::default(),
            &req,
            HANDOFF_AT,
            app::attachments::Mode::List,
        )
        .await
        .expect_err("no application user");
        assert!(
            err.fix().starts_with("create an application user"),
            "{status}: {}",
            err.fix()
        );
        assert!(!err.is_retryable());
        assert_eq!(app::status::handoff_cause(&err), "no_application_user");
    }
}
