//! `mail::parse` on arbitrary bytes (default options, and with an internal domain so the
//! forward-attribution paths run), then the reply stripper on the decoded text, as plain text
//! and as HTML. Properties checked besides "never panics" (libFuzzer's panic hook aborts, so a
//! panic swallowed by `parse`'s `catch_unwind` backstop is still reported):
//! - the stripper's documented output shape: no `\r`, no trailing whitespace, no leading or
//!   trailing blank lines, empty only for blank input;
//! - reply text is never longer than the text it came from (plus a small bound for the HTML
//!   converter's line breaks);
//! - text and reply text hold no control character but line ends and tab;
//! - attachment file names hold no path separator or control character, and the store key made
//!   from one is a single safe segment under `sessions/<sid>/attachments/<key>/`;
//! - the parsed message serialises (it is stored as JSON).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mail::{ParseOptions, strip};

/// Slack for `reply_html`: `html_to_text` may turn a short tag into line breaks.
const BOUND: usize = 16;

fuzz_target!(|data: &[u8]| {
    let internal = ParseOptions {
        internal_domains: vec!["acme.com".into(), "acme.de".into()],
        received_at: Some(1_710_238_500),
    };
    for opts in [ParseOptions::default(), internal] {
        let msg = mail::parse(data, &opts);
        assert!(!msg.date.is_empty());
        assert!(
            msg.reply_text.len() <= msg.text.len() + BOUND,
            "reply_text {} bytes > text {} bytes",
            msg.reply_text.len(),
            msg.text.len()
        );
        for t in [&msg.text, &msg.reply_text] {
            assert!(
                !t.chars().any(|c| c.is_control() && c != '\n' && c != '\t'),
                "control character in {t:?}"
            );
        }
        for (n, a) in msg.attachments.iter().enumerate() {
            assert!(
                !a.filename.contains(['/', '\\']) && !a.filename.chars().any(char::is_control),
                "unsafe attachment name {:?}",
                a.filename
            );
            check_attachment_key(&store::layout::attachment(
                "mc-0123456789abcdef",
                "0123456789abcdef0123456789abcdef",
                n,
                &a.filename,
            ));
        }
        serde_json::to_string(&msg).expect("a parsed message serialises");
        check_strip(&msg.text);
    }
    // The stripper on the input itself, so it sees bytes the MIME decoder would have changed.
    check_strip(&String::from_utf8_lossy(data));
});

fn check_strip(text: &str) {
    let reply = strip::reply_text(text);
    check_shape(&reply, text);
    assert!(
        reply.len() <= text.len(),
        "reply_text {} bytes > input {} bytes",
        reply.len(),
        text.len()
    );
    assert_eq!(
        reply.is_empty(),
        text.trim().is_empty(),
        "reply_text is empty only for blank input"
    );
    let forward = strip::forward_text(text);
    check_shape(&forward, text);
    assert!(forward.len() <= text.len());
    let html = strip::reply_html(text);
    check_shape(&html, text);
    assert!(
        html.len() <= text.len() + BOUND,
        "reply_html {} bytes > input {} bytes",
        html.len(),
        text.len()
    );
}

fn check_shape(out: &str, input: &str) {
    assert!(!out.contains('\r'), "CR in output of {input:?}");
    for line in out.split('\n') {
        assert_eq!(line, line.trim_end(), "trailing whitespace in {input:?}");
    }
    assert!(
        !out.starts_with('\n') && !out.ends_with('\n'),
        "leading/trailing blank line for {input:?}"
    );
}

fn check_attachment_key(key: &str) {
    let segments: Vec<&str> = key.split('/').collect();
    assert_eq!(segments.len(), 5, "{key:?}");
    assert_eq!(segments[0], "sessions");
    assert_eq!(segments[2], "attachments");
    for s in &segments {
        assert!(
            !s.is_empty() && !s.starts_with('.') && !s.contains(['\\', '\0']) && s.len() <= 200,
            "unsafe key segment {s:?} in {key:?}"
        );
    }
}
