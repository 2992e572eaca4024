//! Golden corpus: every `tests/fixtures/eml/NAME.eml` parses to `NAME.json`.
//!
//! On a mismatch the actual output is written to `NAME.actual` (git-ignored) for diffing and the
//! test fails. `UPDATE_GOLDEN=1 cargo test -p mail --test corpus` rewrites the expectations;
//! review the diff before committing.

mod common;

use std::path::PathBuf;

fn options() -> mail::ParseOptions {
    mail::ParseOptions {
        internal_domains: vec!["acme.com".into()],
        received_at: Some(1_700_000_000),
    }
}

#[test]
fn eml_corpus_matches_golden_json() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let files = common::fixtures("eml", "eml");
    assert!(files.len() >= 20, "corpus has {} messages", files.len());
    let mut failures = Vec::new();
    for eml in &files {
        let raw = std::fs::read(eml).expect("read eml");
        let msg = mail::parse(&raw, &options());
        let mut actual = serde_json::to_string_pretty(&msg).expect("json");
        actual.push('\n');
        let golden = eml.with_extension("json");
        if update {
            std::fs::write(&golden, &actual).expect("write golden");
            continue;
        }
        match std::fs::read_to_string(&golden) {
            Ok(expected) if expected == actual => {
                let _ = std::fs::remove_file(eml.with_extension("actual"));
            }
            _ => {
                failures.push(common::mismatch(eml, &actual));
            }
        }
    }
    println!(
        "{} of {} corpus messages match",
        files.len() - failures.len(),
        files.len()
    );
    common::assert_none(&failures);
}

#[test]
fn attachment_contents_are_decoded() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eml");
    let raw = std::fs::read(dir.join("09-attachments-rfc2231.eml")).expect("read");
    let msg = mail::parse(&raw, &options());
    let pdf = &msg.attachments[0];
    assert_eq!(pdf.filename, "Rechnung März 2024.pdf");
    assert!(pdf.content.starts_with(b"%PDF-1.4"));
    assert_eq!(pdf.size as usize, pdf.content.len());
}
