//! Dynamics failing: each error is reported as documented (retryable or not, with the fix),
//! nothing is lost (the session stays open, no half case), and the retry completes exactly once.

use app::handoff::HandoffError;
use dataverse_emulator::{Fault, Kind};
use dynamics::DynamicsError;
use serde_json::json;
use store::session::SessionState;

use crate::world::{ATTEMPTS, HANDOFF_AT, World, billing, text};

impl World {
    /// Nothing of a handoff happened: the session is open without a record, no incident.
    async fn assert_nothing_handed_off(&self, sid: &str) {
        let s = self.session(sid).await;
        assert_eq!(s.state, SessionState::Open);
        assert!(s.handoff.is_none());
        assert!(self.records("incidents").is_empty());
    }
}

fn fault(status: u16, count: u32, path: &str) -> Fault {
    Fault {
        status,
        count,
        path_contains: Some(path.into()),
        retry_after: 0,
    }
}

#[tokio::test]
async fn a_missing_privilege_names_it_and_the_retry_after_the_fix_works() {
    let (w, sid) = World::with_session().await;
    w.emu.revoke("prvCreateIncident");
    let worker = w.worker();
    let f = worker
        .handle(&billing(&sid, None), HANDOFF_AT)
        .await
        .expect_err("refused");
    assert_eq!(f.cause, "missing_privilege", "{f:?}");
    assert!(!f.retryable, "a 403 is never retried: {f:?}");
    assert!(
        f.fix.starts_with(
            "Give the application user's security role the prvCreateIncident privilege on the incident table"
        ),
        "{f:?}"
    );
    w.assert_nothing_handed_off(&sid).await;
    w.emu.grant("prvCreateIncident");
    let v = worker
        .handle(&billing(&sid, None), HANDOFF_AT + 60)
        .await
        .expect("after the fix");
    assert_eq!(v["created"], true);
    assert_eq!(w.records("incidents").len(), 1);
    assert_eq!(w.session(&sid).await.state, SessionState::HandedOff);
}

#[tokio::test]
async fn an_outage_past_the_retry_bound_is_retryable_and_loses_nothing() {
    let (w, sid) = World::with_session().await;
    // Every try of the case's $batch fails.
    w.emu.inject(fault(503, ATTEMPTS, "$batch"));
    let err = w.handoff(&sid, None).await.expect_err("bound reached");
    assert!(err.is_retryable(), "{err:?}");
    assert!(
        matches!(
            err,
            HandoffError::Dynamics(DynamicsError::Unavailable { .. })
        ),
        "{err:?}"
    );
    assert!(err.fix().contains("will be retried"), "{}", err.fix());
    w.assert_nothing_handed_off(&sid).await;
    // The redelivery completes: one case.
    let out = w.handoff(&sid, None).await.expect("retry");
    assert!(out.created);
    assert_eq!(w.records("incidents").len(), 1);
    assert_eq!(w.session(&sid).await.state, SessionState::HandedOff);
}

#[tokio::test]
async fn throttling_within_the_bound_completes_exactly_once() {
    let (w, sid) = World::with_session().await;
    w.emu.inject(fault(429, ATTEMPTS - 1, "contacts"));
    w.emu.inject(fault(500, ATTEMPTS - 1, "$batch"));
    let out = w.handoff(&sid, None).await.expect("within the bound");
    assert!(out.created);
    assert!(
        w.crm.retries() >= u64::from(2 * (ATTEMPTS - 1)),
        "retries {}",
        w.crm.retries()
    );
    assert_eq!(w.records("incidents").len(), 1);
    assert_eq!(w.records("contacts").len(), 1);
}

#[tokio::test]
async fn a_throttled_or_failing_token_endpoint_is_retried() {
    let (w, sid) = World::with_session().await;
    w.emu.inject(fault(429, 1, "oauth2"));
    w.emu.inject(fault(503, ATTEMPTS - 2, "oauth2"));
    let out = w.handoff(&sid, None).await.expect("within the bound");
    assert!(out.created);
    assert_eq!(
        w.emu.request_counts().get("token").copied(),
        Some(u64::from(ATTEMPTS))
    );
    assert_eq!(w.records("incidents").len(), 1);
}

#[tokio::test]
async fn a_token_endpoint_throttling_past_the_bound_is_reported_and_loses_nothing() {
    let (w, sid) = World::with_session().await;
    w.emu.inject(fault(429, ATTEMPTS, "oauth2"));
    let err = w.handoff(&sid, None).await.expect_err("out of attempts");
    assert!(
        matches!(
            err,
            HandoffError::Dynamics(DynamicsError::Unavailable { status: 429, .. })
        ),
        "{err:?}"
    );
    assert!(err.is_retryable(), "{err:?}");
    assert!(!format!("{err}").contains("emulator-secret-value"), "{err}");
    w.assert_nothing_handed_off(&sid).await;
    let out = w.handoff(&sid, None).await.expect("the next try");
    assert!(out.created);
}

#[tokio::test]
async fn an_app_without_an_application_user_is_told_to_create_one() {
    let (w, sid) = World::with_session().await;
    w.emu.set_no_application_user(true);
    let f = w
        .worker()
        .handle(&billing(&sid, None), HANDOFF_AT)
        .await
        .expect_err("refused");
    assert_eq!(f.cause, "no_application_user", "{f:?}");
    assert!(!f.retryable, "{f:?}");
    assert!(f.fix.contains("create an application user"), "{f:?}");
    w.assert_nothing_handed_off(&sid).await;
}

#[tokio::test]
async fn a_refused_ticket_property_is_dropped_and_said_in_the_case() {
    let (mut w, sid) = World::with_session().await;
    // A choice column of the org's own, given its label instead of its value.
    let tiers = vec![(100000000, "Gold".into()), (100000001, "Silver".into())];
    w.emu.add_incident_column("new_tier", Kind::Picklist(tiers));
    let props = json!({"new_tier": "Gold", "casetypecode": 2});
    w.settings.ticket_properties = serde_json::from_value(props).expect("object");
    let out = w.handoff(&sid, None).await.expect("the case is still made");
    let dropped: Vec<&str> = out
        .dropped_properties
        .iter()
        .map(|(c, _)| c.as_str())
        .collect();
    assert_eq!(dropped, ["new_tier"], "{out:?}");
    let inc = w.incident(&out.incident_id);
    assert!(
        !inc.contains_key("new_tier") && inc["casetypecode"] == 2,
        "{inc:?}"
    );
    let d = text(&inc, "description");
    assert!(d.contains("Dropped ticket property new_tier"), "{d}");
}
