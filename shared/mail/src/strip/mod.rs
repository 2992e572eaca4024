//! Reply extraction: only what the sender newly wrote.
//!
//! Text: the earliest of these starts the quoted history, and everything from it on is cut:
//! an attribution line ("On … wrote:" in English, German, French, Spanish, Portuguese, Dutch,
//! Italian, Swedish/Danish/Norwegian, Polish, Czech, Russian, Japanese, Chinese, Korean, also
//! wrapped over two or three lines), an "original message" separator in those languages, an
//! Outlook header block (`From:` plus `Sent:`/`To:`/`Subject:`… in those languages, with or
//! without a `____` divider, `*From:*` bold included), or a trailing block of `>` lines.
//! Interleaved answers (new text after a quote) are kept whole rather than lose an answer. A
//! forwarded message (marker such as `---------- Forwarded message ---------`) is content and
//! is kept. Then a trailing mobile signature ("Sent from my iPhone", localised) or `-- `
//! signature is removed.
//!
//! HTML: the quote is cut in the markup (Gmail `gmail_quote`, `blockquote type=cite`, Outlook's
//! `divRplyFwdMsg` / `appendonsend` / border divider, `OLK_SRC_BODY_SECTION`, Yahoo, Proton,
//! Thunderbird, Zimbra), then the rest is converted to text and stripped as text.
//!
//! Never panics; linear in the input (only the first [`MAX_LINES`] lines are searched for
//! markers). When stripping would leave nothing, the whole text is returned: losing a message
//! that is all forwarded content is worse than showing some history.

mod html;
mod lang;
mod text;

/// Lines searched for quote markers; a marker further down is treated as content.
pub const MAX_LINES: usize = 5000;

/// Reply text of a plain-text body.
pub fn reply_text(text: &str) -> String {
    text::reply(text, false)
}

/// Reply text of a plain-text body that is itself a forward (subject `Fwd:`, `WG:`, …): the
/// forwarded header block is content, so only signatures are removed.
pub fn forward_text(text: &str) -> String {
    text::reply(text, true)
}

/// Reply text of an HTML body: quoted blocks are cut in the HTML, the rest converted to text,
/// then [`reply_text`] applied.
pub fn reply_html(html: &str) -> String {
    let cut = html::cut_quote(html);
    reply_text(&mail_parser::decoders::html::html_to_text(cut))
}

#[cfg(test)]
mod tests;
