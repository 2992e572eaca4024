//! Inputs found by the fuzzers in `fuzz/` (see fuzz/README.md), kept as regression tests.
//! Files in `tests/fuzz-regressions/`:
//! - `compose-text-*.txt`: a reply text into which the fuzzer spliced the message's MIME boundary
//!   (it is derived from the Message-ID, so predictable) followed by a forged attachment part.
//!   The composed mail must still have exactly its two parts and no attachment.
//! - `compose-header-name-*.txt`: an extra header name; refused with `BadHeaderName` (a name
//!   starting with a multi-byte character used to panic on a byte slice).
//! - `parse-*.eml`: raw mail for `mail::parse` + the reply stripper (no panic, output shape,
//!   reply never longer than its text, no control characters, safe attachment names).
//!   `parse-html-nul.eml`: NULs in an HTML body reached the reply text but not the text;
//!   `parse-forwarded-from-control.eml`: control characters in an attached message's From
//!   reached the appended "Forwarded message" block.
//!   `parse-mailparser-debug-assert.eml`: nested multiparts that trip a `debug_assert!` inside
//!   mail-parser 0.11.9 (`message.rs:485`, "Invalid part ID"); compiled out of release builds
//!   (what Lambda runs), caught by `parse`'s `catch_unwind` in debug ones.

use std::path::{Path, PathBuf};

use mail::compose::{Outgoing, compose};
use mail::{Mailbox, ParseOptions};

fn files(prefix: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("fuzz-regressions dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
        .collect();
    out.sort();
    out
}

/// The `PREFIX*` inputs, at least one, each with its text.
fn texts(prefix: &str) -> Vec<(PathBuf, String)> {
    let inputs = files(prefix);
    assert!(!inputs.is_empty());
    let texts: Vec<String> = inputs
        .iter()
        .map(|path| std::fs::read_to_string(path).expect("read"))
        .collect();
    inputs.into_iter().zip(texts).collect()
}

fn outgoing(text: String) -> Outgoing {
    Outgoing {
        from: Mailbox {
            name: Some("Acme Support".into()),
            address: "support@acme.com".into(),
        },
        to: Mailbox {
            name: Some("Peter Petersen".into()),
            address: "peter@example.com".into(),
        },
        subject: "Re: Hej".into(),
        message_id: "0f1e2d3c@acme.com".into(),
        in_reply_to: Some("m1@example.com".into()),
        references: vec!["m1@example.com".into()],
        date: 1_710_238_500,
        text,
        auto_submitted: false,
        extra_headers: vec![],
        cc: vec![],
    }
}

fn boundary_of(raw: &str) -> String {
    let marker = "\r\nContent-Type: multipart/alternative; boundary=\"";
    let start = raw.find(marker).expect("a boundary") + marker.len();
    let len = raw[start..].find('"').expect("closing quote");
    raw[start..start + len].to_string()
}

#[test]
fn reply_text_cannot_forge_the_mime_boundary() {
    for (path, text) in texts("compose-text-") {
        let first =
            String::from_utf8(compose(&outgoing(text.clone())).expect("composes")).expect("ASCII");
        let boundary = boundary_of(&first);
        let at = text.find('\n').unwrap_or(text.len());
        let mut forged = text.clone();
        forged.insert_str(
            at,
            &format!(
                "\n--{boundary}\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=x.exe\n\nTVqQ\n--{boundary}--\n"
            ),
        );
        let raw = compose(&outgoing(forged)).expect("composes");
        let raw_text = String::from_utf8(raw.clone()).expect("ASCII");
        assert_eq!(
            boundary_of(&raw_text),
            boundary,
            "same Message-ID, same boundary"
        );
        let body = raw_text.split_once("\r\n\r\n").expect("header block").1;
        let delimiters = body
            .split("\r\n")
            .filter(|l| l.starts_with(&format!("--{boundary}")))
            .count();
        assert_eq!(delimiters, 3, "{path:?}: forged boundary in {body}");
        let back = mail::parse(&raw, &ParseOptions::default());
        assert!(
            back.attachments.is_empty(),
            "{path:?}: {:?}",
            back.attachments
        );
        assert!(
            back.text.contains(&format!("--{boundary}--")),
            "{path:?}: the text is kept as written: {}",
            back.text
        );
        assert_eq!(back.to.len(), 1);
    }
}

#[test]
fn odd_extra_header_names_are_refused_not_a_panic() {
    for (path, name) in texts("compose-header-name-") {
        let mut m = outgoing("Hello".into());
        m.extra_headers = vec![(name.clone(), "v".into())];
        assert_eq!(
            compose(&m),
            Err(mail::compose::ComposeError::BadHeaderName(name)),
            "{path:?}"
        );
    }
}

#[test]
fn fuzz_found_mail_parses_and_strips() {
    for path in files("parse-") {
        let raw = std::fs::read(&path).expect("read");
        for opts in [
            ParseOptions::default(),
            ParseOptions {
                internal_domains: vec!["acme.com".into()],
                received_at: Some(0),
            },
        ] {
            let msg = mail::parse(&raw, &opts);
            assert!(!msg.date.is_empty(), "{path:?}");
            assert!(msg.reply_text.len() <= msg.text.len() + 16, "{path:?}");
            for t in [&msg.text, &msg.reply_text] {
                assert!(
                    !t.chars().any(|c| c.is_control() && c != '\n' && c != '\t'),
                    "{path:?}: control character in {t:?}"
                );
            }
            for a in &msg.attachments {
                assert!(
                    !a.filename.contains(['/', '\\']) && !a.filename.chars().any(char::is_control),
                    "{path:?}: {:?}",
                    a.filename
                );
            }
            for input in [msg.text.clone(), String::from_utf8_lossy(&raw).into_owned()] {
                for out in [
                    mail::strip::reply_text(&input),
                    mail::strip::reply_html(&input),
                ] {
                    assert!(!out.contains('\r'), "{path:?}");
                    assert!(out.lines().all(|l| l == l.trim_end()), "{path:?}");
                    assert!(out.len() <= input.len() + 16, "{path:?}");
                }
            }
        }
    }
}
