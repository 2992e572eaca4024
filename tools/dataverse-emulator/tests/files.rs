//! Notes with files are validated as Dataverse does: Base64 body, the org's upload size (on the
//! Base64 text), blocked extensions; block upload assembles the file onto the note.

mod common;

use dataverse_emulator::{Config, Emulator};
use serde_json::{Value, json};
use uuid::Uuid;

/// `METHOD PATH` with a JSON `body` and a fresh token: the status and the JSON answer.
async fn call(
    emu: &Emulator,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    common::client(emu).await.send(method, path, body).await
}

async fn incident(emu: &Emulator) -> Uuid {
    let contact = Uuid::new_v4();
    emu.seed("contacts", contact, json!({"lastname": "Lima"}));
    let id = Uuid::new_v4();
    let (s, _) = call(
        emu,
        reqwest::Method::POST,
        "incidents",
        Some(json!({"incidentid": id.to_string(), "title": "t", "customerid_contact@odata.bind": format!("/contacts({contact})")})),
    )
    .await;
    assert_eq!(s, 204);
    id
}

fn note(incident: Uuid, filename: &str, body: &str) -> Value {
    json!({"subject": "Attachment", "filename": filename, "mimetype": "application/pdf",
           "documentbody": body, "objectid_incident@odata.bind": format!("/incidents({incident})")})
}

#[tokio::test]
async fn org_limits_are_read_and_note_files_are_checked_against_them() {
    let emu = Emulator::start(Config::default()).await.expect("emulator");
    let (s, v) = call(
        &emu,
        reqwest::Method::GET,
        "organizations?$select=maxuploadfilesize,blockedattachments",
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["value"][0]["maxuploadfilesize"], 5_242_880);
    assert!(
        v["value"][0]["blockedattachments"]
            .as_str()
            .expect("list")
            .contains("exe")
    );
    let (s, _) = call(
        &emu,
        reqwest::Method::GET,
        "organizations?$select=nosuchcolumn",
        None,
    )
    .await;
    assert_eq!(s, 400);

    emu.set_file_limits(16, "exe;js");
    let inc = incident(&emu).await;
    let post = |b: Value| call(&emu, reqwest::Method::POST, "annotations", Some(b));
    let (s, v) = post(note(inc, "a.pdf", "not base64!")).await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = post(note(inc, "a.pdf", "QUJDREVGR0hJSktMTU5PUFFS")).await; // 24 chars > 16
    assert_eq!((s, v["error"]["code"].as_str()), (400, Some("0x80044a02")));
    let (s, v) = post(note(inc, "setup.EXE", "QUJD")).await;
    assert_eq!((s, v["error"]["code"].as_str()), (400, Some("0x80043e09")));
    let (s, _) = post(note(inc, "ok.pdf", "QUJD")).await;
    assert_eq!(s, 204);
    let rows = emu.records("annotations");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["filesize"], 3);
    assert_eq!(rows[0]["isdocument"], true);
}

#[tokio::test]
async fn block_upload_assembles_the_file_on_the_note_and_checks_the_limit() {
    let emu = Emulator::start(Config::default()).await.expect("emulator");
    let inc = incident(&emu).await;
    let id = Uuid::new_v4();
    let target =
        json!({"@odata.type": "Microsoft.Dynamics.CRM.annotation", "annotationid": id.to_string()});
    let (s, _) = call(&emu, reqwest::Method::PATCH, &format!("annotations({id})"),
        Some(json!({"subject": "big", "filename": "big.bin", "objectid_incident@odata.bind": format!("/incidents({inc})")}))).await;
    assert_eq!(s, 204);
    let (s, v) = call(
        &emu,
        reqwest::Method::POST,
        "InitializeAnnotationBlocksUpload",
        Some(json!({"Target": target})),
    )
    .await;
    assert_eq!(s, 200);
    let token = v["FileContinuationToken"]
        .as_str()
        .expect("token")
        .to_string();
    for (bid, data) in [("MDA=", "QUJD"), ("MDE=", "REVG")] {
        let (s, v) = call(
            &emu,
            reqwest::Method::POST,
            "UploadBlock",
            Some(json!({"BlockId": bid, "BlockData": data, "FileContinuationToken": token})),
        )
        .await;
        assert_eq!(s, 204, "{v}");
    }
    let (s, _) = call(
        &emu,
        reqwest::Method::POST,
        "UploadBlock",
        Some(json!({"BlockId": "MDAw", "BlockData": "QUJD", "FileContinuationToken": token})),
    )
    .await;
    assert_eq!(s, 400, "block ids of different lengths are refused");
    let (s, _) = call(&emu, reqwest::Method::POST, "CommitAnnotationBlocksUpload",
        Some(json!({"Target": target, "BlockList": ["MDA=", "bm9wZQ=="], "FileContinuationToken": token}))).await;
    assert_eq!(s, 400, "an unknown block is refused");
    let mut t = target.clone();
    t["mimetype"] = json!("application/octet-stream");
    let (s, v) = call(
        &emu,
        reqwest::Method::POST,
        "CommitAnnotationBlocksUpload",
        Some(json!({"Target": t, "BlockList": ["MDA=", "MDE="], "FileContinuationToken": token})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["FileSizeInBytes"], 6);
    let rows = emu.records("annotations");
    assert_eq!(rows[0]["documentbody"], "QUJDREVG");
    assert_eq!(rows[0]["filesize"], 6);

    // Over the limit through blocks too.
    emu.set_file_limits(4, "");
    let (_, v) = call(
        &emu,
        reqwest::Method::POST,
        "InitializeAnnotationBlocksUpload",
        Some(json!({"Target": target})),
    )
    .await;
    let token = v["FileContinuationToken"]
        .as_str()
        .expect("token")
        .to_string();
    call(
        &emu,
        reqwest::Method::POST,
        "UploadBlock",
        Some(json!({"BlockId": "MDA=", "BlockData": "QUJDREVG", "FileContinuationToken": token})),
    )
    .await;
    let (s, v) = call(
        &emu,
        reqwest::Method::POST,
        "CommitAnnotationBlocksUpload",
        Some(json!({"Target": target, "BlockList": ["MDA="], "FileContinuationToken": token})),
    )
    .await;
    assert_eq!((s, v["error"]["code"].as_str()), (400, Some("0x80044a02")));
}
