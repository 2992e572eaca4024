//! The parser never panics and always returns a message, whatever the bytes.

use proptest::prelude::*;

fn corpus() -> &'static [Vec<u8>] {
    static CORPUS: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    CORPUS.get_or_init(load_corpus)
}

fn load_corpus() -> Vec<Vec<u8>> {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eml");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read(p).expect("read"))
        .collect()
}

fn opts() -> mail::ParseOptions {
    mail::ParseOptions {
        internal_domains: vec!["acme.com".into()],
        received_at: Some(0),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let msg = mail::parse(&bytes, &opts());
        prop_assert!(!msg.date.is_empty());
    }

    #[test]
    fn mime_alphabet_never_panics(s in "(From|To|Subject|Content-Type|boundary|=\\?utf-8\\?[BQ]\\?|--b|\r\n|: |multipart/mixed;|text/html|<blockquote>|>|[a-z ]{0,8}|=[0-9A-F]{2}|\\?=){0,80}") {
        let _ = mail::parse(s.as_bytes(), &opts());
    }

    #[test]
    fn truncated_and_corrupted_corpus_never_panics(idx in 0usize..64, cut in 0usize..100_000, flips in proptest::collection::vec((0usize..100_000, any::<u8>()), 0..16)) {
        let all = corpus();
        let mut raw = all[idx % all.len()].clone();
        raw.truncate(cut % (raw.len() + 1));
        for (pos, byte) in flips {
            if !raw.is_empty() {
                let at = pos % raw.len();
                raw[at] = byte;
            }
        }
        let _ = mail::parse(&raw, &opts());
    }
}

/// A 30 MB message with attachments parses and keeps every attachment (the size Lambda sees for
/// mail near SES's 40 MB limit after base64).
#[test]
fn thirty_megabyte_message_with_attachments() {
    let chunk = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n";
    let per_attachment = 10 * 1024 * 1024 / chunk.len();
    let mut raw = String::from(
        "From: Big Sender <big@client.example>\r\nTo: support@acme.com\r\nSubject: Logs\r\n\
         Date: Mon, 18 Mar 2024 10:00:00 +0000\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"big\"\r\n\r\n--big\r\n\
         Content-Type: text/plain\r\n\r\nThe logs you asked for.\r\n",
    );
    for i in 0..3 {
        raw.push_str(&format!(
            "--big\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"log{i}.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        ));
        for _ in 0..per_attachment {
            raw.push_str(chunk);
        }
    }
    raw.push_str("--big--\r\n");
    assert!(raw.len() > 30_000_000);
    let msg = mail::parse(raw.as_bytes(), &opts());
    assert_eq!(msg.reply_text, "The logs you asked for.");
    assert_eq!(msg.attachments.len(), 3);
    assert!(msg.attachments.iter().all(|a| a.size > 7_000_000));
}

/// Bare text with no header block is kept as the body rather than dropped.
#[test]
fn headerless_text_is_kept() {
    let msg = mail::parse(b"just some words\nand more", &opts());
    assert!(msg.text.contains("just some words"));
    assert_eq!(msg.disposition, mail::Disposition::Customer);
}
