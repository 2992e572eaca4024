//! Security checks end to end (issue 7): OData filter injection, header injection through the
//! handoff acknowledgement, oversized mail, path traversal in attachment names, and secrets in
//! logs and errors. Stores are in memory or a scratch directory; Dynamics is the in-process
//! Dataverse emulator (no moto needed).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::handoff::Request;
use app::ingest::Config;
use app::reply::{ReplySettings, StoreOutbox};
use dynamics::{Credentials, DataverseClient};
use lambda_runtime::{Context, LambdaEvent};
use mail::Mailbox;
use serde_json::{Value, json};
use store::sessions::Sessions;
use store::{DirObjectStore, MemoryObjectStore};

use crate::support::{Mail, only_outbox_mail, receipt};
use crate::world::{World, retries};

/// In memory, the org's settings, a client that gives up quickly.
async fn world(emulator: dataverse_emulator::Config) -> World<MemoryObjectStore> {
    World::builder()
        .retry(retries(3, 5, 50))
        .emulator(emulator)
        .start_on(MemoryObjectStore::default())
        .await
}

fn request(session_id: &str) -> Request {
    Request {
        session_id: session_id.into(),
        classification: Some("Billing".into()),
        ..Request::default()
    }
}

/// Reply settings that acknowledge a handoff, from support@acme.com under `name`.
fn acknowledging(name: Option<&str>) -> ReplySettings {
    ReplySettings {
        support: Some(Mailbox {
            name: name.map(str::to_string),
            address: "support@acme.com".into(),
        }),
        ack: true,
        ack_template: None,
        cc: true,
    }
}

/// The handoff Lambda's event for a Billing handoff of `session_id`.
fn billing_event(session_id: &str) -> LambdaEvent<Value> {
    LambdaEvent::new(
        json!({"session_id": session_id, "classification": "Billing"}),
        Context::default(),
    )
}

/// The worker a handler's dependencies hold.
fn built<T>(deps: &Result<T, String>) -> &T {
    deps.as_ref().expect("worker")
}

fn scratch(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir =
        std::env::temp_dir().join(format!("mc-security-{}-{name}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

// ---------------------------------------------------------------------------------------------
// (1) OData filter injection
// ---------------------------------------------------------------------------------------------

/// Hostile customer addresses reach the contact lookup exactly as stored in the session (set
/// directly, since a mail parser would not even produce most of them): the lookup never matches
/// the existing contact, and each handoff creates one contact with exactly that (lower-cased)
/// address, linked to its case. `tests/it/handoff.rs` covers a plain `'` through the mail path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odata_filter_injection_finds_no_other_contact() {
    let w = world(dataverse_emulator::Config::default()).await;
    let (emu, crm, sessions) = (&w.emu, &w.crm, &w.sessions);
    let victim = uuid::Uuid::new_v5(&uuid::Uuid::nil(), b"victim");
    emu.seed(
        "contacts",
        victim,
        json!({"lastname": "Victim", "emailaddress1": "victim@x.com", "createdon": "2020-01-01T00:00:00Z"}),
    );
    let hostile = [
        "a'or'1'eq'1@x.com",
        "x@y.com') or (1 eq 1",
        "victim@x.com' or 'a' eq 'a",
        "x@y.com' or emailaddress1 ne '",
        "%27@x.com",
        "%27%20or%201%20eq%201@x.com",
        "a@x.com&$filter=emailaddress1 ne null",
        "a@x.com'&$filter=emailaddress1 eq 'victim@x.com",
        "$filter=@x.com",
        "a@x.com#",
        "a+victim@x.com",
        "victim@x.com''",
        "'victim@x.com'",
        "a@x.com') or contains(emailaddress1,'victim",
        "a@x.com\\' or 1 eq 1",
        "ä'ö@x.com",
    ];
    for (n, email) in hostile.iter().enumerate() {
        assert_eq!(
            crm.find_contact(email).await.expect("lookup answers"),
            None,
            "{email:?} matched a contact"
        );
        let sid = w
            .ingest_file(
                Mail {
                    message_id: &format!("inj{n}@client.example"),
                    subject: &format!("Injection {n}"),
                    ..Mail::default()
                },
                &format!("inj{n}"),
            )
            .await;
        sessions
            .update(&sid, |cur| match cur {
                Some(mut s) => {
                    s.customer = Some(Mailbox {
                        name: None,
                        address: (*email).to_string(),
                    });
                    store::Update::Write(s, ())
                }
                None => store::Update::Keep(()),
            })
            .await
            .expect("set customer");
        let out = w
            .run_handoff(&request(&sid), 0)
            .await
            .unwrap_or_else(|e| panic!("{email:?}: handoff failed: {e}"));
        let contacts = emu.records("contacts");
        assert_eq!(contacts.len(), n + 2, "{email:?}: one new contact");
        let mine: Vec<_> = contacts
            .iter()
            .filter(|c| c["emailaddress1"] == json!(email.to_lowercase()))
            .collect();
        assert_eq!(mine.len(), 1, "{email:?}: exactly that address");
        let mine_id = mine[0]["contactid"].as_str().unwrap_or("").to_string();
        assert_ne!(mine_id, victim.to_string());
        let incident = emu
            .records("incidents")
            .into_iter()
            .find(|i| i["incidentid"] == json!(out.incident_id))
            .expect("incident");
        let incident = Value::Object(incident).to_string();
        assert!(incident.contains(&mine_id), "{email:?}: {incident}");
        assert!(
            !incident.contains(&victim.to_string()),
            "{email:?}: {incident}"
        );
        // Found again by exactly that address, and only that.
        assert_eq!(
            crm.find_contact(&email.to_lowercase())
                .await
                .expect("lookup")
                .map(|u| u.to_string()),
            Some(mine_id)
        );
    }
    assert_eq!(
        crm.find_contact("victim@x.com").await.expect("lookup"),
        Some(victim)
    );
}

// ---------------------------------------------------------------------------------------------
// (2) Header injection through the handoff acknowledgement
// ---------------------------------------------------------------------------------------------

/// The acknowledgement puts the customer's decoded display name into To and into the text
/// (`{customer_name}`), and the customer's subject into Subject. Encoded words that decode to
/// CRLF + headers, and a name that tries to start a MIME part, change nothing: only the headers
/// compose writes, one To, no Cc/Bcc/Reply-To, exactly two MIME parts, no attachment.
/// (`mail::compose` unit tests and `tests/it/reply.rs` cover the rep's reply path.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledgement_cannot_inject_headers_or_mime_parts() {
    let w = world(dataverse_emulator::Config::default()).await;
    let outbox = MemoryObjectStore::default();
    // "Eve\r\nBcc: victim@evil.example\r\n\r\n--=_mc-alt-0\r\nContent-Type: text/html"
    let name = "=?UTF-8?B?RXZlDQpCY2M6IHZpY3RpbUBldmlsLmV4YW1wbGUNCg0KLS09X21jLWFsdC0wDQpDb250ZW50LVR5cGU6IHRleHQvaHRtbA==?=";
    let from = format!("{name} <eve@client.example>");
    let sid = w
        .ingest_file(
            Mail {
                from: &from,
                subject: "=?UTF-8?Q?Refund=0D=0AReply-To:_x@evil.example=0D=0ACc:_y@evil.example?=",
                message_id: "eve1@client.example",
                ..Mail::default()
            },
            "eve",
        )
        .await;
    let deps = Ok::<_, String>(w.worker_with(
        StoreOutbox::new(outbox.clone()),
        acknowledging(Some("Acme Support")),
    ));
    let out = handoff::handler::handle(&deps, billing_event(&sid))
        .await
        .expect("handoff");
    assert!(out["acknowledgement"].is_string(), "{out}");
    let raw = only_outbox_mail(&outbox).await;
    let text = String::from_utf8(raw.clone()).expect("ASCII");
    assert!(text.is_ascii());
    let (head, body) = text.split_once("\r\n\r\n").expect("header block");
    // The acknowledgement's headers; anything else is a line injected through a value.
    let allowed: Vec<&str> = "From To Subject Date Message-ID In-Reply-To References \
        Auto-Submitted X-Mailcase-Session MIME-Version Content-Type"
        .split_whitespace()
        .collect();
    for line in head.split("\r\n") {
        if line.starts_with(' ') {
            continue;
        }
        let name = line.split_once(':').map(|(n, _)| n).unwrap_or(line);
        assert!(
            allowed.contains(&name),
            "injected header {line:?} in\n{head}"
        );
    }
    let marker = "\r\nContent-Type: multipart/alternative; boundary=\"";
    let start = text.find(marker).expect("boundary") + marker.len();
    let boundary = &text[start..start + text[start..].find('"').expect("quote")];
    let delimiters = body
        .split("\r\n")
        .filter(|l| l.starts_with(&format!("--{boundary}")))
        .count();
    assert_eq!(delimiters, 3, "{body}");
    let back = mail::parse(&raw, &mail::ParseOptions::default());
    assert_eq!(back.to.len(), 1, "{:?}", back.to);
    assert_eq!(back.to[0].address, "eve@client.example");
    assert!(back.cc.is_empty() && back.reply_to.is_empty());
    assert!(back.attachments.is_empty(), "{:?}", back.attachments);
    assert!(
        back.text.contains("Bcc: victim@evil.example"),
        "the name is kept as text: {}",
        back.text
    );
}

// ---------------------------------------------------------------------------------------------
// (3) Oversized headers and bodies
// ---------------------------------------------------------------------------------------------

/// Peak resident memory of this process (kB), from /proc (Linux).
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// A 1 MB header line, 100,000 headers and a 35 MB body go through `app::ingest::run` into a
/// directory store: each is filed as one message with a clear outcome, within time, and the
/// process's peak memory grows by less than the ingest Lambda's 1024 MB (template.yaml).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_headers_and_bodies_are_ingested_with_bounded_memory() {
    let root = scratch("big");
    let sessions = Sessions::new(DirObjectStore::new(root.join("store")));
    let head = "From: Big <big@client.example>\r\nTo: support@acme.com\r\nDate: Tue, 12 Mar 2024 10:15:00 +0000\r\n";
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    cases.push(("1 MB header line", {
        let s = format!(
            "{head}Message-ID: <long@client.example>\r\nSubject: Long header\r\nX-Junk: {}\r\n\r\nSee header.\r\n",
            "A".repeat(1024 * 1024)
        );
        s.into_bytes()
    }));
    cases.push(("1 MB subject", {
        format!(
            "{head}Message-ID: <subj@client.example>\r\nSubject: {}\r\n\r\nSee subject.\r\n",
            "word ".repeat(1024 * 1024 / 5)
        )
        .into_bytes()
    }));
    cases.push(("100,000 headers", {
        let mut s = format!("{head}Message-ID: <many@client.example>\r\nSubject: Many\r\n");
        for i in 0..100_000 {
            s.push_str(&format!("X-H{i}: value {i}\r\n"));
        }
        s.push_str("\r\nMany headers.\r\n");
        s.into_bytes()
    }));
    cases.push(("35 MB body", {
        let line = "The quick brown fox jumps over the lazy dog, again and again and again.\r\n";
        let mut s = format!(
            "{head}Message-ID: <body@client.example>\r\nSubject: Big body\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        );
        s.reserve(35 * 1024 * 1024 + line.len());
        while s.len() < 35 * 1024 * 1024 {
            s.push_str(line);
        }
        s.into_bytes()
    }));
    let before = peak_rss_kb();
    for (n, (what, raw)) in cases.into_iter().enumerate() {
        let started = Instant::now();
        let size = raw.len();
        let out = app::ingest::run(
            &sessions,
            &raw,
            &receipt(&format!("big{n}")),
            &Config::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
        drop(raw);
        let took = started.elapsed();
        assert_eq!(out.disposition, "customer", "{what}: {out:?}");
        let sid = out.session_id.clone().expect("filed");
        let session = sessions.load(&sid).await.expect("load").expect("session");
        assert_eq!(session.messages.len(), 1, "{what}");
        assert!(
            took < Duration::from_secs(120),
            "{what}: {size} bytes took {took:?}"
        );
        eprintln!("{what}: {size} bytes ingested in {took:?}");
    }
    if let (Some(b), Some(a)) = (before, peak_rss_kb()) {
        let grew_mb = a.saturating_sub(b) / 1024;
        eprintln!("peak RSS grew by {grew_mb} MB");
        assert!(grew_mb < 1024, "peak memory grew by {grew_mb} MB");
    }
    std::fs::remove_dir_all(&root).ok();
}

// ---------------------------------------------------------------------------------------------
// (4) Path traversal in attachment file names
// ---------------------------------------------------------------------------------------------

/// Attachment names that try to leave the store (or hide, or overflow) are stored as one safe
/// segment under `sessions/<sid>/attachments/<key>/` of a directory store; nothing is written
/// outside its root, every attachment is kept, and recorded names hold no separator.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachment_names_cannot_escape_the_store() {
    let outer = scratch("traversal");
    let root = outer.join("store");
    let sessions = Sessions::new(DirObjectStore::new(&root));
    let long = "x".repeat(1000);
    let long_multibyte = "ü".repeat(300);
    // (Content-Disposition parameter as written in the mail)
    let names: Vec<String> = vec![
        "filename=\"../../etc/passwd\"".into(),
        "filename=\"..\\\\..\\\\x\"".into(),
        "filename=\"..\\..\\windows\\system32\\evil.dll\"".into(),
        "filename=\"/etc/passwd\"".into(),
        "filename=\"C:\\Windows\\evil.bat\"".into(),
        "filename=\"a\u{0}b.txt\"".into(),
        "filename*=UTF-8''..%2F..%2Fetc%2Fpasswd".into(),
        "filename*=UTF-8''a%00b%2F..%2F..%2Fc".into(),
        "filename=\"=?UTF-8?B?Li4vLi4vZXRjL3Bhc3N3ZA==?=\"".into(),
        format!("filename=\"{long}\""),
        format!("filename=\"{long_multibyte}\""),
        "filename=\".\"".into(),
        "filename=\"..\"".into(),
        "filename=\"...\"".into(),
        "filename=\".....\"".into(),
        "filename=\".mc-locks\"".into(),
        "filename=\"\u{ff0e}\u{ff0e}\u{ff0f}\u{ff0e}\u{ff0e}\u{ff0f}etc\u{ff0f}passwd\"".into(),
        "filename=\"\u{2025}\u{2215}\u{2025}\u{2215}x\"".into(),
        "filename=\"..\u{2044}..\u{2044}x\"".into(),
        "filename=\"a/../../b\"".into(),
        "filename=\"x\r\n..\"".into(),
    ];
    let mut raw = String::from(
        "From: Eve <eve@client.example>\r\nTo: support@acme.com\r\nSubject: Files\r\n\
         Message-ID: <files@client.example>\r\nDate: Tue, 12 Mar 2024 10:15:00 +0000\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n",
    );
    for (i, n) in names.iter().enumerate() {
        raw.push_str(&format!(
            "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; {n}\r\n\r\npayload {i}\r\n"
        ));
    }
    raw.push_str("--b--\r\n");
    let out = app::ingest::run(
        &sessions,
        raw.as_bytes(),
        &receipt("traversal"),
        &Config::default(),
    )
    .await
    .expect("ingest");
    let sid = out.session_id.expect("filed");
    let session = sessions.load(&sid).await.expect("load").expect("session");
    let recorded = &session.messages[0].attachments;
    assert_eq!(recorded.len(), names.len(), "every attachment is kept");
    for a in recorded {
        assert!(
            !a.filename.contains(['/', '\\', '\0']) && !a.filename.chars().any(char::is_control),
            "recorded name {:?}",
            a.filename
        );
    }
    // Nothing outside the root.
    let top: Vec<_> = std::fs::read_dir(&outer)
        .expect("outer")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(top, vec![std::ffi::OsString::from("store")]);
    assert!(!Path::new("/etc/passwd.mc").exists());
    // Every attachment is one safe segment under its message's folder.
    let attachments_dir = root.join("sessions").join(&sid).join("attachments");
    let files = files_under(&attachments_dir);
    assert_eq!(files.len(), names.len(), "{files:#?}");
    for f in &files {
        let rel = f.strip_prefix(&root).expect("inside the root");
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        assert_eq!(parts.len(), 5, "{rel:?}");
        assert_eq!(
            (&parts[0][..], &parts[1][..], &parts[2][..]),
            ("sessions", sid.as_str(), "attachments")
        );
        let name = &parts[4];
        assert!(
            !name.starts_with('.') && name.len() <= 130 && !name.contains(['\\', '\0']),
            "{name:?}"
        );
        let canonical = f.canonicalize().expect("canonical");
        assert!(
            canonical.starts_with(root.canonicalize().expect("root")),
            "{canonical:?}"
        );
        let content = std::fs::read_to_string(f).expect("read");
        assert!(content.starts_with("payload "), "{content:?}");
    }
    std::fs::remove_dir_all(&outer).ok();
}

// ---------------------------------------------------------------------------------------------
// (5) Secrets never in logs or errors
// ---------------------------------------------------------------------------------------------

/// A `Write` into a shared buffer, for a tracing fmt layer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.0.lock() {
            Ok(mut v) => v.extend_from_slice(buf),
            Err(p) => p.into_inner().extend_from_slice(buf),
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        let v = match self.0.lock() {
            Ok(v) => v.clone(),
            Err(p) => p.into_inner().clone(),
        };
        String::from_utf8_lossy(&v).into_owned()
    }
}

/// Every `emu.<32 hex>` string (the emulator's bearer token format) in `text`.
fn emulator_tokens(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("emu.") {
        let cand = &rest[i + 4..];
        let hex: String = cand
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .take(32)
            .collect();
        if hex.len() == 32 {
            found.push(format!("emu.{hex}"));
        }
        rest = &rest[i + 4..];
    }
    found
}

/// A full run at TRACE with every event captured (this test's runtime is single-threaded, so
/// the thread's default subscriber sees the handlers, the Dynamics client and the HTTP stack):
/// ingest through the ingest handler, a handoff through the handoff handler, a token request
/// with a wrong secret, a 403 (missing privilege), and an acknowledgement. Neither the client
/// secret (right or wrong) nor the bearer token appears in the logs, in any handler output or
/// error (`Diagnostic`), or in the Debug output of `Credentials` and `DataverseClient`.
#[tokio::test(flavor = "current_thread")]
async fn secrets_never_reach_logs_or_errors() {
    use tracing_subscriber::util::SubscriberInitExt;
    let logs = Captured::default();
    let writer = logs.clone();
    let _guard = tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish()
        .set_default();

    let cfg = dataverse_emulator::Config {
        client_secret: "s3cr3t-Value~With.Specials_0123456789abcdef".into(),
        ..dataverse_emulator::Config::default()
    };
    let secret = cfg.client_secret.clone();
    let wrong_secret = "wr0ng-Secret~Value.ZYXWVUTSRQ_9876543210";
    let w = world(cfg).await;
    let emu = &w.emu;
    let creds_json = emu.credentials_json();
    let crm = w.client();
    let mut outputs: Vec<String> = Vec::new();
    outputs.push(format!(
        "{:?}",
        Credentials::from_json(&creds_json).expect("creds")
    ));
    outputs.push(format!("{:?}", crm.credentials()));

    // Ingest through the ingest handler.
    let raw = Mail {
        from: "Ana Lima <ana@client.example>",
        ..Mail::default()
    };
    w.put_raw("sec1", raw).await.expect("raw");
    let mut ingest_deps = w.ingest_deps();
    ingest_deps.raw_retry = vec![Duration::from_millis(1)];
    let event = json!({"Records": [{"eventSource": "aws:ses", "ses": {"mail": {"messageId": "sec1", "timestamp": "2024-03-12T10:15:02.512Z"}}}]});
    let out = ingest::handler::handle(&ingest_deps, LambdaEvent::new(event, Context::default()))
        .await
        .expect("ingest");
    outputs.push(out.to_string());
    let sid = out["outcomes"][0]["session_id"]
        .as_str()
        .expect("filed")
        .to_string();
    let sid2 = w
        .ingest_file(
            Mail {
                message_id: "sec2@client.example",
                subject: "Second",
                ..Mail::default()
            },
            "sec2",
        )
        .await;

    let deps = |crm: DataverseClient| {
        Ok::<_, String>(w.worker_for(
            crm,
            StoreOutbox::new(MemoryObjectStore::default()),
            acknowledging(None),
        ))
    };

    // A token request with the wrong secret.
    let bad = deps(w.client_with(&w.creds_with("client_secret", wrong_secret)));
    outputs.push(format!("{:?}", built(&bad).crm.credentials()));
    let err = handoff::handler::handle(&bad, billing_event(&sid))
        .await
        .expect_err("wrong secret fails");
    assert!(
        err.error_message.to_lowercase().contains("secret"),
        "the error names the problem: {}",
        err.error_message
    );
    outputs.push(format!("{err:?}"));
    let err = built(&bad).crm.token().await.expect_err("token refused");
    outputs.push(format!("{err:?} / {err} / {}", err.fix()));

    // A 403: the application user lacks a privilege.
    emu.revoke("prvCreateIncident");
    let good = deps(crm);
    let err = handoff::handler::handle(&good, billing_event(&sid))
        .await
        .expect_err("403");
    outputs.push(format!("{err:?}"));
    emu.grant("prvCreateIncident");

    // The successful handoff (with the acknowledgement) and a second one.
    let ok = handoff::handler::handle(&good, billing_event(&sid))
        .await
        .expect("handoff");
    outputs.push(ok.to_string());
    let ok = handoff::handler::handle(&good, billing_event(&sid2))
        .await
        .expect("handoff");
    outputs.push(ok.to_string());
    let token = built(&good).crm.token().await.expect("token");
    outputs.push(format!("{token:?}"));
    outputs.push(format!("{:?}", built(&good).crm.credentials()));
    let token = token.expose().to_string();
    assert!(token.starts_with("emu."), "the emulator's token format");

    drop(_guard);
    let logs = logs.text();
    assert!(
        logs.contains("handoff") || logs.contains("session"),
        "the capture works: {} bytes",
        logs.len()
    );
    let everything = format!("{logs}\n{}", outputs.join("\n"));
    for (what, needle) in [
        ("client secret", secret.as_str()),
        ("wrong client secret", wrong_secret),
        ("bearer token", token.as_str()),
    ] {
        assert!(!everything.contains(needle), "the {what} leaked");
        // Also URL-encoded (a form body or query string in a log line).
        let encoded = dynamics::wire::encode(needle);
        assert!(!everything.contains(&encoded), "the {what} leaked encoded");
    }
    let tokens = emulator_tokens(&everything);
    assert!(tokens.is_empty(), "token-like strings: {tokens:?}");
    assert!(
        !everything.contains("Bearer emu"),
        "an Authorization header was logged"
    );
}
