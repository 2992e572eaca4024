//! Security roles: privileges and depths enforced on every request, `RetrieveUserPrivileges`,
//! and both answers for an app without an application user.

mod common;

use dataverse_emulator::{Config, Depth, Emulator, Role};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use common::{Client, client};

impl Client {
    async fn new_contact(&self) -> Uuid {
        let id = Uuid::new_v4();
        let (s, v) = self
            .send(
                Method::PATCH,
                &format!("contacts({id})"),
                Some(json!({"lastname": "Lima", "emailaddress1": "ana@client.example"})),
            )
            .await;
        assert!(s < 300, "{s} {v}");
        id
    }

    async fn new_case(&self, contact: Uuid, extra: Value) -> (u16, Value) {
        let mut body =
            json!({"title": "t", "customerid_contact@odata.bind": format!("/contacts({contact})")});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        self.send(
            Method::PATCH,
            &format!("incidents({})", Uuid::new_v4()),
            Some(body),
        )
        .await
    }
}

fn missing(v: &Value) -> String {
    v["error"]["message"].as_str().unwrap_or("").to_string()
}

#[tokio::test]
async fn retrieve_user_privileges_lists_the_role_with_depth_names() {
    let emu = Emulator::start(Config::default()).await.expect("emulator");
    let c = client(&emu).await;
    let user = emu.seeds().user_id;
    let path = format!("systemusers({user})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()");
    let (s, v) = c.send(Method::GET, &path, None).await;
    assert_eq!(s, 200, "{v}");
    let rows = v["RolePrivileges"].as_array().expect("RolePrivileges");
    let create = rows
        .iter()
        .find(|r| r["PrivilegeName"] == "prvCreateIncident")
        .expect("prvCreateIncident in the full role");
    assert_eq!(create["Depth"], "Global");
    assert!(
        !rows
            .iter()
            .any(|r| r["PrivilegeName"] == "prvCreateQueueItem")
    );
    emu.set_role(
        Role::full()
            .without("prvCreateIncident")
            .with("prvAppendToQueue", Depth::Basic),
    );
    let (_, v) = c.send(Method::GET, &path, None).await;
    let rows = v["RolePrivileges"].as_array().expect("RolePrivileges");
    assert!(
        !rows
            .iter()
            .any(|r| r["PrivilegeName"] == "prvCreateIncident")
    );
    let queue = rows
        .iter()
        .find(|r| r["PrivilegeName"] == "prvAppendToQueue")
        .expect("prvAppendToQueue");
    assert_eq!(queue["Depth"], "Basic");
    // Reading the role changed nothing.
    assert!(emu.records("incidents").is_empty());
}

#[tokio::test]
async fn binds_need_append_and_append_to() {
    let emu = Emulator::start(Config::default()).await.expect("emulator");
    let c = client(&emu).await;
    let contact = c.new_contact().await;
    emu.set_role(Role::full().without("prvAppendToContact"));
    let (s, v) = c.new_case(contact, json!({})).await;
    assert_eq!(s, 403, "{v}");
    assert_eq!(v["error"]["code"], "0x80040220");
    assert!(
        missing(&v).contains("is missing prvAppendToContact privilege"),
        "{v}"
    );
    emu.set_role(Role::full().without("prvAppendIncident"));
    let (s, v) = c.new_case(contact, json!({})).await;
    assert_eq!(s, 403, "{v}");
    assert!(missing(&v).contains("prvAppendIncident"), "{v}");
    assert!(emu.records("incidents").is_empty());
    emu.set_role(Role::full());
    let (s, v) = c.new_case(contact, json!({})).await;
    assert!(s < 300, "{s} {v}");
}

#[tokio::test]
async fn an_owner_other_than_the_caller_needs_assign() {
    let emu = Emulator::start(Config::default()).await.expect("emulator");
    let c = client(&emu).await;
    let contact = c.new_contact().await;
    let team = emu.seeds().team_id;
    let owner = json!({"ownerid@odata.bind": format!("/teams({team})")});
    emu.set_role(Role::full().without("prvAssignIncident"));
    let (s, v) = c.new_case(contact, owner.clone()).await;
    assert_eq!(s, 403, "{v}");
    assert!(missing(&v).contains("prvAssignIncident"), "{v}");
    // Owned by the caller itself: no Assign needed.
    let (s, v) = c.new_case(contact, json!({})).await;
    assert!(s < 300, "{s} {v}");
    // Create at User depth cannot create a record owned by the team.
    emu.set_role(Role::full().with("prvCreateIncident", Depth::Basic));
    let (s, v) = c.new_case(contact, owner.clone()).await;
    assert_eq!(s, 403, "{v}");
    assert!(missing(&v).contains("prvCreateIncident"), "{v}");
    emu.set_role(Role::full().with("prvCreateIncident", Depth::Local));
    let (s, v) = c.new_case(contact, owner).await;
    assert!(s < 300, "{s} {v}");
}

#[tokio::test]
async fn add_to_queue_needs_append_to_queue_reaching_the_queue() {
    let emu = Emulator::start(Config::default()).await.expect("emulator");
    let c = client(&emu).await;
    let contact = c.new_contact().await;
    let incident = Uuid::new_v4();
    let (s, v) = c
        .send(
            Method::PATCH,
            &format!("incidents({incident})"),
            Some(json!({"title": "t", "customerid_contact@odata.bind": format!("/contacts({contact})")})),
        )
        .await;
    assert!(s < 300, "{s} {v}");
    let queue = emu.seeds().queue_id;
    let body = json!({"Target": {"incidentid": incident.to_string(), "@odata.type": "Microsoft.Dynamics.CRM.incident"}});
    let path = format!("queues({queue})/Microsoft.Dynamics.CRM.AddToQueue");
    let add = || c.send(Method::POST, &path, Some(body.clone()));
    emu.set_role(Role::full().without("prvAppendToQueue"));
    let (s, v) = add().await;
    assert_eq!(s, 403, "{v}");
    assert!(missing(&v).contains("prvAppendToQueue"), "{v}");
    // The queue is the team's: User depth does not reach it, Business Unit depth does.
    emu.set_role(Role::full().with("prvAppendToQueue", Depth::Basic));
    let (s, v) = add().await;
    assert_eq!(s, 403, "{v}");
    emu.set_role(Role::full().with("prvAppendToQueue", Depth::Local));
    let (s, v) = add().await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(emu.records("queueitems").len(), 1);
}

#[tokio::test]
async fn reads_outside_the_depth_are_hidden_or_refused() {
    let emu = Emulator::start(Config::default()).await.expect("emulator");
    let c = client(&emu).await;
    let theirs = Uuid::new_v4();
    emu.seed(
        "contacts",
        theirs,
        json!({"lastname": "Other", "emailaddress1": "x@client.example", "_ownerid_value": Uuid::new_v4().to_string()}),
    );
    let mine = c.new_contact().await;
    emu.set_role(Role::full().with("prvReadContact", Depth::Basic));
    let (s, v) = c
        .send(Method::GET, "contacts?$select=contactid", None)
        .await;
    assert_eq!(s, 200, "{v}");
    let ids: Vec<&str> = v["value"]
        .as_array()
        .expect("value")
        .iter()
        .filter_map(|r| r["contactid"].as_str())
        .collect();
    assert_eq!(ids, vec![mine.to_string().as_str()], "{v}");
    let (s, v) = c
        .send(Method::GET, &format!("contacts({theirs})"), None)
        .await;
    assert_eq!(s, 403, "{v}");
    assert!(missing(&v).contains("prvReadContact"), "{v}");
}

#[tokio::test]
async fn no_application_user_answers_401_or_403_not_a_member() {
    let emu = Emulator::start(Config::default()).await.expect("emulator");
    let c = client(&emu).await;
    emu.set_no_application_user_answer(Some(403));
    let (s, v) = c.send(Method::GET, "WhoAmI", None).await;
    assert_eq!(s, 403);
    assert_eq!(v["error"]["code"], "0x80072560");
    assert_eq!(
        v["error"]["message"],
        "The user is not a member of the organization."
    );
    emu.set_no_application_user_answer(Some(401));
    let (s, _) = c.send(Method::GET, "WhoAmI", None).await;
    assert_eq!(s, 401);
    emu.set_no_application_user_answer(None);
    let (s, _) = c.send(Method::GET, "WhoAmI", None).await;
    assert_eq!(s, 200);
}
