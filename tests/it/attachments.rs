//! ATTACHMENTS=upload end to end: ingest on moto (S3), handoff against the Dataverse emulator.
//! One emulator per test; both share the one moto.

use app::attachments::Mode;
use app::handoff::Request;
use serde_json::{Map, Value};

use crate::world::{HANDOFF_AT, RawMail, World, no_settings, retries};

/// No settings (the org's defaults), a client that gives up sooner.
async fn world(prefix: &str) -> World {
    World::builder()
        .retry(retries(4, 20, 1000))
        .settings(no_settings)
        .start(prefix)
        .await
}

/// A part: (content type, file name, Content-ID when inline, bytes).
type Part<'a> = (&'a str, &'a str, Option<&'a str>, Vec<u8>);

fn b64(b: &[u8]) -> String {
    use base64::Engine;
    let s = base64::engine::general_purpose::STANDARD.encode(b);
    s.as_bytes()
        .chunks(76)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// A mail from Ana on the "Broken pump" thread: an HTML text with the inline parts (a logo),
/// then the attachments.
struct Msg<'a> {
    id: &'a str,
    /// The mail it answers (In-Reply-To and References), if any.
    parent: Option<&'a str>,
    date: &'a str,
    text: &'a str,
    parts: &'a [Part<'a>],
}

impl Default for Msg<'_> {
    fn default() -> Self {
        Msg {
            id: "m1@client.example",
            parent: None,
            date: "Tue, 12 Mar 2024 10:00:00 +0000",
            text: "",
            parts: &[],
        }
    }
}

impl RawMail for Msg<'_> {
    fn raw_mail(&self) -> std::borrow::Cow<'_, [u8]> {
        let Msg {
            id,
            parent,
            date,
            text,
            parts,
        } = *self;
        std::borrow::Cow::Owned(mail(id, parent, date, text, parts))
    }
}

fn mail(id: &str, parent: Option<&str>, date: &str, text: &str, parts: &[Part<'_>]) -> Vec<u8> {
    let refs = parent
        .map(|p| format!("In-Reply-To: <{p}>\r\nReferences: <{p}>\r\n"))
        .unwrap_or_default();
    let subject = if parent.is_some() {
        "Re: Broken pump"
    } else {
        "Broken pump"
    };
    let inline = parts.iter().any(|p| p.2.is_some());
    let html = if inline {
        format!("<p>{text}</p><p>--<br><img src=\"cid:logo@acme\"></p>")
    } else {
        format!("<p>{text}</p>")
    };
    let mut m = format!(
        "From: Ana Lima <ana@client.example>\r\nTo: support@acme.com\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n{refs}Date: {date}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"MIX\"\r\n\r\n--MIX\r\nContent-Type: multipart/related; boundary=\"REL\"\r\n\r\n--REL\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n"
    );
    for (ct, name, cid, bytes) in parts.iter().filter(|p| p.2.is_some()) {
        m += &format!(
            "--REL\r\nContent-Type: {ct}; name=\"{name}\"\r\nContent-Disposition: inline; filename=\"{name}\"\r\nContent-ID: <{}>\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            cid.unwrap_or(""),
            b64(bytes)
        );
    }
    m += "--REL--\r\n";
    for (ct, name, _, bytes) in parts.iter().filter(|p| p.2.is_none()) {
        m += &format!(
            "--MIX\r\nContent-Type: {ct}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            b64(bytes)
        );
    }
    m += "--MIX--\r\n";
    m.into_bytes()
}

impl World {
    async fn repair(&self, sid: &str, mode: Mode) -> app::handoff::Outcome {
        let req = Request {
            session_id: sid.into(),
            classification: Some("Repair".into()),
            ..Request::default()
        };
        self.run_handoff_with(&req, HANDOFF_AT, mode)
            .await
            .expect("handoff")
    }

    fn notes_of(&self, incident: &str) -> Vec<Map<String, Value>> {
        self.emu
            .records("annotations")
            .into_iter()
            .filter(|n| n.get("_objectid_value").and_then(Value::as_str) == Some(incident))
            .collect()
    }

    fn files_of(&self, incident: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .notes_of(incident)
            .iter()
            .filter(|n| n.get("isdocument") == Some(&Value::Bool(true)))
            .filter_map(|n| {
                n.get("filename")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .collect();
        v.sort();
        v
    }

    fn description(&self, incident: &str) -> String {
        self.emu
            .records("incidents")
            .into_iter()
            .find(|i| i.get("incidentid").and_then(Value::as_str) == Some(incident))
            .and_then(|i| {
                i.get("description")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_default()
    }
}

fn logo() -> Part<'static> {
    (
        "image/png",
        "logo.png",
        Some("logo@acme"),
        b"\x89PNG logo bytes".to_vec(),
    )
}

#[tokio::test]
async fn thread_files_reach_the_case_once_with_logos_counted_and_big_files_named() {
    let w = world("att-upload").await;
    // 60,000 Base64 characters: 45,000-byte files fit, the 100,000-byte one does not.
    w.emu.set_file_limits(60_000, "exe;js");
    let pdf = (1..3000u32)
        .flat_map(|i| i.to_le_bytes())
        .collect::<Vec<u8>>();
    let jpeg = vec![0xFFu8, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4, 5];
    let big = vec![7u8; 100_000];
    let first = Msg {
        text: "The pump broke, invoice attached.",
        parts: &[
            logo(),
            ("application/pdf", "invoice.pdf", None, pdf.clone()),
        ],
        ..Msg::default()
    };
    let sid = w.ingest_file(first, "s1").await;
    let second = Msg {
        id: "m2@client.example",
        parent: Some("m1@client.example"),
        date: "Tue, 12 Mar 2024 10:05:00 +0000",
        text: "A photo and the log.",
        parts: &[
            logo(),
            ("image/jpeg", "photo.jpg", None, jpeg),
            ("application/octet-stream", "dump.bin", None, big),
        ],
    };
    assert_eq!(w.ingest_file(second, "s2").await, sid);
    let third = Msg {
        id: "m3@client.example",
        parent: Some("m2@client.example"),
        date: "Tue, 12 Mar 2024 10:10:00 +0000",
        text: "Invoice again.",
        parts: &[logo(), ("application/pdf", "invoice-copy.pdf", None, pdf)],
    };
    assert_eq!(w.ingest_file(third, "s3").await, sid);

    let out = w.repair(&sid, Mode::Upload).await;
    assert_eq!(
        w.files_of(&out.incident_id),
        vec!["invoice.pdf", "photo.jpg"]
    );
    let d = w.description(&out.incident_id);
    assert_eq!(
        d.matches("Inline images (signature logos, tracking pixels) not uploaded: 1")
            .count(),
        1,
        "{d}"
    );
    assert!(
        !d.contains("logo.png"),
        "inline logos are not listed one by one: {d}"
    );
    assert!(
        d.contains("dump.bin [not uploaded: over the org's upload limit"),
        "{d}"
    );
    assert!(
        d.contains(&format!("original kept at sessions/{sid}/attachments/")),
        "{d}"
    );
    assert!(
        d.contains("invoice-copy.pdf [same file as invoice.pdf]"),
        "{d}"
    );

    // Retries add nothing.
    let notes_before = w.notes_of(&out.incident_id).len();
    let again = w.repair(&sid, Mode::Upload).await;
    assert_eq!(again.incident_id, out.incident_id);
    assert_eq!(w.notes_of(&out.incident_id).len(), notes_before);

    // What happened to each is recorded, for `mailcase attachments`.
    let session = w.sessions.load(&sid).await.expect("load").expect("session");
    let records = app::attachments::records(&w.sessions, &session)
        .await
        .expect("records");
    let outcomes: Vec<String> = records
        .iter()
        .map(|r| r.as_ref().map(|r| r.outcome.describe()).unwrap_or_default())
        .collect();
    assert!(outcomes[1].starts_with("uploaded as note "), "{outcomes:?}");
    assert_eq!(
        outcomes.iter().filter(|o| o.starts_with("inline")).count(),
        3
    );
    assert!(
        outcomes
            .iter()
            .any(|o| o.starts_with("over the org's upload limit"))
    );

    // A follow-up on the active case with a new file adds it (the logo still does not).
    let follow = Msg {
        id: "m4@client.example",
        parent: Some("m3@client.example"),
        date: "Wed, 13 Mar 2024 09:00:00 +0000",
        text: "Here is the serial plate.",
        parts: &[
            logo(),
            ("image/jpeg", "serial.jpg", None, vec![0xFF, 0xD8, 9, 9, 9]),
        ],
    };
    assert_eq!(w.ingest_file(follow, "s4").await, sid);
    let f = w.repair(&sid, Mode::Upload).await;
    assert_eq!(f.followups_noted, 1);
    assert_eq!(
        w.files_of(&out.incident_id),
        vec!["invoice.pdf", "photo.jpg", "serial.jpg"]
    );
}

#[tokio::test]
async fn winmail_dat_is_unpacked_list_mode_uploads_nothing_and_refusals_do_not_fail_the_case() {
    let w = world("att-winmail").await;
    let docx = b"PK\x03\x04 pretend word document".to_vec();
    let tnef = mail::tnef::build(&[(
        "Repair offer.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        &docx,
    )]);
    let offer = Msg {
        id: "w1@client.example",
        text: "Offer attached.",
        parts: &[("application/ms-tnef", "winmail.dat", None, tnef)],
        ..Msg::default()
    };
    let sid = w.ingest_file(offer, "w1").await;
    let out = w.repair(&sid, Mode::Upload).await;
    assert_eq!(w.files_of(&out.incident_id), vec!["Repair offer.docx"]);
    let d = w.description(&out.incident_id);
    assert!(
        d.contains("Repair offer.docx [on the case as a note]"),
        "{d}"
    );

    // list mode: today's behaviour, nothing uploaded, no verdicts in the transcript.
    let photo = Msg {
        id: "l1@client.example",
        date: "Tue, 12 Mar 2024 11:00:00 +0000",
        text: "Photo attached.",
        parts: &[("image/jpeg", "photo.jpg", None, vec![0xFF, 0xD8, 1])],
        ..Msg::default()
    };
    let listed = w.ingest_file(photo, "l1").await;
    let l = w.repair(&listed, Mode::List).await;
    assert!(w.files_of(&l.incident_id).is_empty());
    let d = w.description(&l.incident_id);
    assert!(d.contains("Attachments: photo.jpg (3 bytes)"), "{d}");

    // Dataverse refuses a file the org's cached limits allowed: the case still exists and says so.
    w.emu.set_file_limits(5_242_880, "pdf");
    let invoice = Msg {
        id: "r1@client.example",
        date: "Tue, 12 Mar 2024 12:00:00 +0000",
        text: "Invoice attached.",
        parts: &[("application/pdf", "invoice.pdf", None, b"%PDF-1.4".to_vec())],
        ..Msg::default()
    };
    let refused = w.ingest_file(invoice, "r1").await;
    let r = w.repair(&refused, Mode::Upload).await;
    assert!(w.files_of(&r.incident_id).is_empty());
    let notes = w.notes_of(&r.incident_id);
    assert!(
        notes.iter().any(|n| n
            .get("notetext")
            .and_then(Value::as_str)
            .unwrap_or("")
            .contains("could not be added to this case")),
        "{notes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn upload_mode_reads_the_org_file_limits_only_for_a_thread_with_a_file_to_upload() {
    let w = world("att-lazy").await;
    let org_reads = |w: &World| {
        w.emu
            .request_counts()
            .iter()
            .filter(|(k, _)| k.contains("organizations"))
            .map(|(_, v)| *v)
            .sum::<u64>()
    };
    // Only a signature logo (inline, never uploaded): nothing to decide, nothing read.
    let only_logo = Msg {
        text: "The pump broke.",
        parts: &[logo()],
        ..Msg::default()
    };
    let sid = w.ingest_file(only_logo, "s1").await;
    w.repair(&sid, Mode::Upload).await;
    assert_eq!(org_reads(&w), 0, "{:?}", w.emu.request_counts());
    // A follow-up with a file: the limits are read (once) and the file goes up.
    let pdf = vec![1u8; 2_000];
    let with_file = Msg {
        id: "m2@client.example",
        parent: Some("m1@client.example"),
        date: "Tue, 12 Mar 2024 11:00:00 +0000",
        text: "Here is the invoice.",
        parts: &[("application/pdf", "invoice.pdf", None, pdf)],
    };
    w.ingest_file(with_file, "s2").await;
    let out = w.repair(&sid, Mode::Upload).await;
    assert_eq!(out.followups_noted, 1);
    assert_eq!(org_reads(&w), 1);
    assert!(
        w.notes_of(&out.incident_id)
            .iter()
            .any(|n| n.get("filename").and_then(Value::as_str) == Some("invoice.pdf")),
        "the file is on the case"
    );
}
