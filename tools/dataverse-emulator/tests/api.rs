//! The emulator answers like Dataverse: statuses, error codes and bodies.

mod common;

use std::time::Duration;

use dataverse_emulator::{Config, Emulator, Fault, Kind};
use serde_json::{Value, json};

use common::{Client, client, token};

async fn contact(c: &Client, email: &str) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    let (s, _, _) = c
        .request(
            reqwest::Method::PATCH,
            &format!("contacts({id})"),
            &[("If-None-Match", "*")],
            Some(json!({"lastname": "Lima", "emailaddress1": email})),
        )
        .await;
    assert_eq!(s, 204);
    id
}

#[tokio::test]
async fn token_errors_carry_aadsts_codes_and_tokens_expire() {
    let emu = Emulator::start(Config {
        token_lifetime: Duration::from_secs(1),
        ..Config::default()
    })
    .await
    .expect("start");
    let bad = token(&emu, "wrong").await;
    assert_eq!(bad.status().as_u16(), 401);
    let body: Value = bad.json().await.expect("json");
    assert_eq!(body["error"], "invalid_client");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap_or("")
            .starts_with("AADSTS7000215")
    );
    let c = client(&emu).await;
    assert_eq!(c.send(reqwest::Method::GET, "WhoAmI", None).await.0, 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, _, headers) = c.request(reqwest::Method::GET, "WhoAmI", &[], None).await;
    assert_eq!(status, 401);
    assert!(headers.contains_key("www-authenticate"));
}

#[tokio::test]
async fn contact_lookup_is_case_insensitive_and_escapes_quotes() {
    let emu = Emulator::start(Config::default()).await.expect("start");
    let c = client(&emu).await;
    contact(&c, "O'Brien@Example.com").await;
    let (s, v) = c.send(reqwest::Method::GET, "contacts?$select=contactid&$filter=emailaddress1%20eq%20%27o%27%27brien%40example.com%27", None).await;
    assert_eq!(s, 200);
    assert_eq!(v["value"].as_array().map(Vec::len), Some(1));
    let (s, v) = c
        .send(
            reqwest::Method::GET,
            "contacts?$filter=emailaddress1%20eq%20%27o%27brien%40example.com%27",
            None,
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("unterminated literal")
    );
}

#[tokio::test]
async fn incident_validation_matches_dataverse() {
    let emu = Emulator::start(Config::default()).await.expect("start");
    emu.add_incident_column(
        "new_customerpriority",
        Kind::Picklist(vec![(100000000, "High".into()), (100000001, "Low".into())]),
    );
    let c = client(&emu).await;
    let cid = contact(&c, "a@x.com").await;
    let bind = json!(format!("/contacts({cid})"));
    let id = uuid::Uuid::new_v4();
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            json!({"title": "t"}),
            400,
            "You should specify a parent contact or account.",
        ),
        (
            json!({"title": "t", "customerid_contact@odata.bind": bind, "nosuchcolumn": 1}),
            400,
            "The property 'nosuchcolumn' does not exist",
        ),
        (
            json!({"title": "t", "customerid_contact@odata.bind": bind, "new_customerpriority": "High"}),
            400,
            "Cannot convert the literal 'High'",
        ),
        (
            json!({"title": "t", "customerid_contact@odata.bind": bind, "prioritycode": 7}),
            400,
            "is outside the valid range. Accepted Values: 1,2,3",
        ),
        (
            json!({"title": "x".repeat(201), "customerid_contact@odata.bind": bind}),
            400,
            "exceeded the maximum allowed length of '200'",
        ),
        (
            json!({"title": "t", "customerid_contact@odata.bind": format!("/contacts({})", uuid::Uuid::new_v4())}),
            404,
            "contact With Id =",
        ),
        (
            json!({"title": "t", "customerid@odata.bind": bind}),
            400,
            "An undeclared property 'customerid'",
        ),
    ];
    for (body, status, needle) in cases {
        let (s, v, _) = c
            .request(
                reqwest::Method::PATCH,
                &format!("incidents({id})"),
                &[("If-None-Match", "*")],
                Some(body.clone()),
            )
            .await;
        assert_eq!(s, status, "{body}: {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains(needle),
            "{body}: {v}"
        );
    }
    let good = json!({"title": "t", "customerid_contact@odata.bind": bind, "new_customerpriority": 100000000});
    let (s, v, _) = c
        .request(
            reqwest::Method::PATCH,
            &format!("incidents({id})"),
            &[("If-None-Match", "*"), ("Prefer", "return=representation")],
            Some(good.clone()),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert!(v["ticketnumber"].as_str().unwrap_or("").starts_with("CAS-"));
    let (s, v, _) = c
        .request(
            reqwest::Method::PATCH,
            &format!("incidents({id})"),
            &[("If-None-Match", "*")],
            Some(good),
        )
        .await;
    assert_eq!((s, v["error"]["code"].as_str()), (412, Some("0x80040237")));
    emu.revoke("prvCreateIncident");
    let (s, v, _) = c
        .request(
            reqwest::Method::PATCH,
            &format!("incidents({})", uuid::Uuid::new_v4()),
            &[("If-None-Match", "*")],
            Some(json!({"title": "t", "customerid_contact@odata.bind": bind})),
        )
        .await;
    assert_eq!(s, 403);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("is missing prvCreateIncident privilege"),
        "{v}"
    );
}

#[tokio::test]
async fn metadata_queue_and_faults() {
    let emu = Emulator::start(Config::default()).await.expect("start");
    let c = client(&emu).await;
    let (s, v) = c.send(reqwest::Method::GET, "EntityDefinitions(LogicalName='incident')/Attributes(LogicalName='description')/Microsoft.Dynamics.CRM.MemoAttributeMetadata?$select=MaxLength", None).await;
    assert_eq!((s, v["MaxLength"].as_u64()), (200, Some(2000)));
    let (s, v) = c.send(reqwest::Method::GET, "EntityDefinitions(LogicalName='incident')/Attributes(LogicalName='prioritycode')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet($select=Options)", None).await;
    assert_eq!(s, 200);
    assert_eq!(
        v["OptionSet"]["Options"][0]["Label"]["UserLocalizedLabel"]["Label"],
        "High"
    );
    let cid = contact(&c, "q@x.com").await;
    let iid = uuid::Uuid::new_v4();
    c.send(
        reqwest::Method::PATCH,
        &format!("incidents({iid})"),
        Some(json!({"title": "t", "customerid_contact@odata.bind": format!("/contacts({cid})")})),
    )
    .await;
    let q = emu.seeds().queue_id;
    let (s, v) = c.send(reqwest::Method::POST, &format!("queues({q})/Microsoft.Dynamics.CRM.AddToQueue"), Some(json!({"Target": {"incidentid": iid.to_string(), "@odata.type": "Microsoft.Dynamics.CRM.incident"}}))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(emu.records("queueitems").len(), 1);
    emu.inject(Fault {
        status: 429,
        count: 1,
        path_contains: None,
        retry_after: 3,
    });
    let (s, v, h) = c.request(reqwest::Method::GET, "WhoAmI", &[], None).await;
    assert_eq!((s, v["error"]["code"].as_str()), (429, Some("0x80072322")));
    assert_eq!(
        h.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("3")
    );
    assert_eq!(c.send(reqwest::Method::GET, "WhoAmI", None).await.0, 200);
    assert!(emu.request_count() >= 6);
}

#[tokio::test]
async fn a_text_over_a_configured_max_length_is_refused_as_microsoft_documents() {
    let emu = Emulator::start(Config::default()).await.expect("start");
    emu.set_max_length("incident", "description", 1000);
    let c = client(&emu).await;
    // The metadata tells the configured limit.
    let (s, v) = c
        .send(reqwest::Method::GET, "EntityDefinitions(LogicalName='incident')/Attributes(LogicalName='description')/Microsoft.Dynamics.CRM.MemoAttributeMetadata?$select=MaxLength", None)
        .await;
    assert_eq!((s, v["MaxLength"].as_u64()), (200, Some(1000)));
    let contact = contact(&c, "ana@client.example").await;
    let incident = uuid::Uuid::new_v4();
    let body = json!({
        "title": "t",
        "description": "x".repeat(1001),
        "customerid_contact@odata.bind": format!("/contacts({contact})"),
    });
    let batch = format!(
        "--batch_b1\r\nContent-Type: multipart/mixed; boundary=changeset_c1\r\n\r\n--changeset_c1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\nPATCH {}incidents({incident}) HTTP/1.1\r\nContent-Type: application/json\r\nIf-None-Match: *\r\n\r\n{body}\r\n--changeset_c1--\r\n--batch_b1--\r\n",
        c.base
    );
    let resp = c
        .http
        .post(format!("{}$batch", c.base))
        .bearer_auth(&c.token)
        .header("Content-Type", "multipart/mixed; boundary=batch_b1")
        .body(batch)
        .send()
        .await
        .expect("batch");
    // Without continue-on-error the batch answers with the failed request's status and only
    // that request's answer (execute-batch-operations-using-web-api.md, "Handling errors").
    assert_eq!(resp.status().as_u16(), 400);
    let text = resp.text().await.expect("body");
    assert!(text.contains("HTTP/1.1 400 Bad Request"), "{text}");
    let json_line = text
        .lines()
        .find(|l| l.starts_with('{'))
        .expect("error body");
    assert_eq!(
        serde_json::from_str::<Value>(json_line).expect("json"),
        json!({"error": {"code": "0x80044331", "message": "A validation error occurred.  The length of the 'description' attribute of the 'incident' entity exceeded the maximum allowed length of '1000'."}})
    );
    assert!(emu.records("incidents").is_empty(), "rolled back");
    // At the limit it fits (UTF-16 units, as .NET counts).
    let (s, _, _) = c
        .request(
            reqwest::Method::PATCH,
            &format!("incidents({incident})"),
            &[("If-None-Match", "*")],
            Some(json!({
                "title": "t",
                "description": "é".repeat(1000),
                "customerid_contact@odata.bind": format!("/contacts({contact})"),
            })),
        )
        .await;
    assert_eq!(s, 204);
}
