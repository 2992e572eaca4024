//! Reply extraction: only what the sender newly wrote, without quoted history or signatures.
//!
//! Plain text ([`reply_text`]): the history starts at the first of
//! - an attribution line, `On … wrote:` and its forms in German, French, Spanish, Portuguese,
//!   Dutch, Italian, Swedish/Danish/Norwegian, Polish, Czech, Russian, Japanese, Chinese and
//!   Korean, verb-final Slavic and Nordic forms from a word list (`Name <addr> пише:`; with
//!   only a name, when a quote follows), decorated webmail forms (Zoho's
//!   `---- On … wrote ----`), also wrapped over up to five lines;
//! - an `-----Original Message-----` separator in those languages (Proton, QQ included);
//! - an Outlook header block (`From:` plus `Sent:`/`To:`/`Subject:`…, localized, `*From:*` bold),
//!   together with a `____`/`----` divider right above it;
//! - a block of `>` (or `|`, `＞`) lines.
//!
//! Answers written between quote blocks are kept together with the quotes they answer (an
//! answer without its question is useless, losing it is worse). A forward banner
//! (`---------- Forwarded message ---------`, `Begin forwarded message:`…) before any history
//! keeps the whole message: the forwarded mail is what the sender passes on. A body that
//! starts with a header block keeps that block. Then a `-- ` signature, a mailing-list footer
//! and trailing device lines ("Sent from my iPhone", "Get Outlook for iOS", localized) go.
//!
//! HTML ([`reply_html`]): the quote is cut in the markup first (Gmail, Apple, Thunderbird,
//! Outlook desktop/web/Mac, Yahoo, Proton, Zimbra, Zoho markers, see `html.rs`), the
//! attribution line right above the cut with it, then the rest is converted to text and
//! stripped as text. When the sender answered below the first quote, the whole body is
//! converted instead with the quoted parts marked `> ` and the text rules decide
//! (`interleave.rs`).
//!
//! When stripping leaves nothing, for example a body that is only a quote, the whole text is
//! returned instead: a case showing some history is better than a case with an empty message.
//! Only blank input gives an empty string. Output lines have no trailing whitespace, line
//! ends are `\n`, and there are no leading or trailing blank lines.
//!
//! Never panics, and stays linear: markers are only searched in the first 5,000 lines, and
//! only lines shorter than 400 bytes are matched against the (finite-automaton) regexes.

mod html;
mod interleave;
mod lang;
mod text;

/// How much longer than the plain conversion of its HTML a reply may be (line breaks that the
/// converter does not make between `<div>`s).
const HTML_SLACK: usize = 16;

/// Lines searched for quote markers; a marker further down is treated as content.
pub const MAX_LINES: usize = text::MAX_SCAN_LINES;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_extra;
#[cfg(test)]
mod tests_html;
#[cfg(test)]
mod tests_round2;

/// Reply text of a plain-text body: what the sender newly wrote.
///
/// ```
/// let body = "Thanks, that worked!\n\nOn Mon, 1 Jan 2024 at 10:00, Bob <bob@example.com> wrote:\n> Try a restart.\n";
/// assert_eq!(mail::strip::reply_text(body), "Thanks, that worked!");
/// ```
pub fn reply_text(text: &str) -> String {
    let normalised = normalise(text);
    let kept = join(&text::reply_lines(&normalised));
    if kept.is_empty() {
        join(&normalised.split('\n').collect::<Vec<_>>())
    } else {
        kept
    }
    .trim_start()
    .to_string()
}

/// Text of a plain-text body that is itself a forward (subject `Fwd:`, `WG:`, …): the
/// forwarded header block and message are content, so only trailing device lines go.
pub fn forward_text(text: &str) -> String {
    let normalised = normalise(text);
    let lines: Vec<&str> = normalised.split('\n').collect();
    let kept = join(&text::finish_forward(lines.clone()));
    if kept.is_empty() { join(&lines) } else { kept }
}

/// Reply text of an HTML body: quoted blocks are cut in the HTML, the rest is converted with
/// `mail_parser`'s `html_to_text`, then [`reply_text`] applies the text rules.
///
/// ```
/// let html = r#"<div dir="ltr">Thanks!</div><div class="gmail_quote"><div class="gmail_attr">On Mon, Bob wrote:</div><blockquote class="gmail_quote">old</blockquote></div>"#;
/// assert_eq!(mail::strip::reply_html(html), "Thanks!");
/// ```
pub fn reply_html(html: &str) -> String {
    let cut = match html::cut_quotes(html) {
        html::Cut::Interleaved(text, cut) => {
            let reply = reply_text(&text);
            // The `> ` marks and line breaks make the reply a little longer than the body's
            // plain conversion (which runs `<div>`s together); past a small bound (many
            // one-word quoted lines) the plain cut at the first quote is used, as before.
            let whole = normalise(&visible_text(html));
            if !reply.is_empty() && reply.len() <= whole.trim_end().len() + HTML_SLACK {
                return reply;
            }
            cut
        }
        html::Cut::Html(cut) => cut,
    };
    let reply = reply_text(&visible_text(cut));
    if reply.is_empty() && cut.len() < html.len() {
        // Everything visible was inside the quote: better the quote than nothing.
        reply_text(&visible_text(html))
    } else {
        reply
    }
}

/// HTML converted to text without control characters but line ends and tab, as the message
/// text is (a NUL in the HTML used to reach the reply text; found by fuzz/parse_strip).
fn visible_text(html: &str) -> String {
    mail_parser::decoders::html::html_to_text(html)
        .chars()
        .filter(|&c| matches!(c, '\n' | '\r' | '\t') || !c.is_control())
        .collect()
}

/// CRLF and lone CR to LF.
fn normalise(text: &str) -> String {
    if !text.contains('\r') {
        return text.to_string();
    }
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// Lines joined with trailing whitespace removed, without leading/trailing blank lines and
/// with runs of blank lines shortened to two (they only cost room in the case description).
fn join(lines: &[&str]) -> String {
    let start = lines.iter().position(|l| !l.trim().is_empty());
    let end = lines.iter().rposition(|l| !l.trim().is_empty());
    let (Some(start), Some(end)) = (start, end) else {
        return String::new();
    };
    let mut out = String::new();
    let mut blanks = 0;
    for (n, line) in lines.iter().enumerate().take(end + 1).skip(start) {
        let line = line.trim_end();
        blanks = if line.is_empty() { blanks + 1 } else { 0 };
        if blanks > 2 {
            continue;
        }
        if n > start {
            out.push('\n');
        }
        out.push_str(line);
    }
    out
}
