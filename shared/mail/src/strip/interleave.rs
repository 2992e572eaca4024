//! Answers written between quotes in HTML (issue 16): the sender's text outside the quote
//! elements stays, only the trailing quote and its attribution go. The HTML is turned into text
//! with the quoted parts marked `> `, and the text rules decide, exactly as for plain mail.

use super::html::{FORWARD_WINDOW, Marker, attributes, classify_tag, visible_text};
use super::lang;

/// Quote elements (start, end) and where unmarked history starts.
type Quotes = (Vec<(usize, usize)>, Option<usize>);

/// Text of an HTML reply whose sender answered between the quotes, with every quoted part
/// (and history below an Outlook-style marker) marked `> `, so the text rules keep the answers
/// with the quotes they answer and drop only the trailing quote and its attribution. `None`
/// when nothing but a signature or footer follows the first quote.
/// `lower` is `html` ASCII-lowercased and `pos` the first quote marker in it.
pub(super) fn marked_text(html: &str, lower: &str, pos: usize) -> Option<String> {
    let (quotes, history) = answered_quotes(html, lower, pos)?;
    let end = history.unwrap_or(html.len());
    let mut text = String::new();
    let mut from = 0;
    for (qs, qe) in quotes {
        push_text(&mut text, html.get(from..qs).unwrap_or_default(), false);
        push_text(&mut text, html.get(qs..qe).unwrap_or_default(), true);
        from = qe;
    }
    push_text(&mut text, html.get(from..end).unwrap_or_default(), false);
    push_text(&mut text, html.get(end..).unwrap_or_default(), true);
    Some(text)
}

/// Appends the text of `fragment` (quoted with `> ` when `quoted`), set off by a blank line.
fn push_text(out: &mut String, fragment: &str, quoted: bool) {
    // Control characters are dropped as for any converted HTML (found by fuzz/parse_strip).
    let text: String = mail_parser::decoders::html::html_to_text(&with_block_breaks(fragment))
        .chars()
        .filter(|&c| matches!(c, '\n' | '\t') || !c.is_control())
        .collect();
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let start = lines.iter().position(|l| !l.trim().is_empty());
    let end = lines.iter().rposition(|l| !l.trim().is_empty());
    let (Some(start), Some(end)) = (start, end) else {
        return;
    };
    if !out.is_empty() {
        out.push('\n');
    }
    let mut blank = false;
    for line in lines.get(start..=end).unwrap_or_default() {
        // Block breaks stack up (`</div><div>`): one blank line is enough.
        if line.trim().is_empty() && std::mem::replace(&mut blank, true) {
            continue;
        }
        blank = line.trim().is_empty();
        if quoted {
            out.push_str("> ");
        }
        out.push_str(line);
        out.push('\n');
    }
}

/// The quote elements from the first quote (at `pos`) on, and where history without markup
/// starts (an Outlook-style marker, or a signature or footer below the last quote), when the
/// sender answered below the first quote.
///
/// Walks the markup keeping track of the quote element it is inside (any `<blockquote>`, or
/// Yahoo's `yahoo_quoted` div); containers that only wrap attribution and quotes (Gmail's
/// `gmail_quote` div) are looked into. Visible text outside every quote, other than an
/// attribution line, a signature or a footer behind a `--`/rule line, is an answer.
fn answered_quotes(html: &str, lower: &str, pos: usize) -> Option<Quotes> {
    let mut open: Option<(&str, usize, usize)> = None; // quote name, nesting, start
    let mut quotes = Vec::new();
    let mut outside_from: Option<usize> = None;
    let mut answered = false;
    let mut history = None;
    let mut at = pos;
    while let Some(off) = lower.get(at..).and_then(|s| s.find('<')) {
        let p = at + off;
        let rest = lower.get(p..).unwrap_or_default();
        if rest.starts_with("<!--") {
            let close = rest.find("-->").map_or(rest.len(), |e| e + 3);
            at = p + close;
            let original = rest
                .get(4..close.saturating_sub(3))
                .is_some_and(|c| c.trim() == "originalmessage");
            if open.is_none() && original {
                answered |= outside_from
                    .take()
                    .is_some_and(|from| is_answer(html.get(from..p).unwrap_or_default()));
                history = Some(p);
                break;
            }
            continue;
        }
        let end = rest.find('>').map_or(rest.len(), |e| e + 1);
        let tag = rest.get(1..end.saturating_sub(1)).unwrap_or_default();
        at = p + end.max(1);
        let closing = tag.starts_with('/');
        let name = tag_name(tag.trim_start_matches('/'));
        match open.as_mut() {
            Some((quote, nested, start)) => {
                if name == *quote {
                    if closing && *nested == 0 {
                        quotes.push((*start, at));
                        open = None;
                        outside_from = Some(at);
                    } else if closing {
                        *nested -= 1;
                    } else if !tag.ends_with('/') {
                        *nested += 1;
                    }
                }
            }
            None if closing => {}
            None => {
                if name != "blockquote" && matches!(classify_tag(tag), Marker::None) {
                    continue;
                }
                if is_transparent_container(tag) {
                    continue;
                }
                let region = name == "blockquote" || is_quote_region(tag);
                answered |= outside_from
                    .take()
                    .is_some_and(|from| is_answer(html.get(from..p).unwrap_or_default()));
                if !region {
                    history = Some(p); // Outlook-style: everything below is history
                    break;
                }
                open = Some((name, 0, p));
            }
        }
    }
    if let Some((_, _, start)) = open {
        quotes.push((start, html.len())); // an unclosed quote runs to the end
    } else if history.is_none()
        && let Some(from) = outside_from
    {
        if is_answer(html.get(from..).unwrap_or_default()) {
            answered = true;
        } else {
            history = Some(from); // a signature or list footer below the last quote
        }
    }
    answered.then_some((quotes, history))
}

/// `html_to_text` only breaks lines at `<br>` and `</p>`; a `<br>` before every other block
/// element keeps answers and quotes on lines of their own, as the reader sees them.
fn with_block_breaks(fragment: &str) -> String {
    let mut out = String::with_capacity(fragment.len() + 64);
    let mut rest = fragment;
    while let Some(p) = rest.find('<') {
        let (before, tag) = rest.split_at(p);
        out.push_str(before);
        let name =
            tag_name(tag.get(1..).unwrap_or_default().trim_start_matches('/')).to_ascii_lowercase();
        if matches!(
            name.as_str(),
            "div" | "blockquote" | "li" | "tr" | "hr" | "table" | "pre" | "h1" | "h2" | "h3"
        ) {
            out.push_str("<br>");
        }
        out.push('<');
        rest = tag.get(1..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// The (lower-case) element name at the start of a tag's text.
fn tag_name(tag: &str) -> &str {
    let len = tag
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(tag.len());
    tag.get(..len).unwrap_or_default()
}

fn class_tokens(tag: &str) -> Vec<&str> {
    attributes(tag.get(tag_name(tag).len()..).unwrap_or_default())
        .into_iter()
        .filter(|(k, _)| *k == "class")
        .flat_map(|(_, v)| v.split_whitespace())
        .map(|t| t.strip_prefix("x_").unwrap_or(t))
        .collect()
}

/// Quote markers whose element is the quoted message itself (besides `<blockquote>`): Yahoo
/// puts the quoted text in a `yahoo_quoted` div without a blockquote.
fn is_quote_region(tag: &str) -> bool {
    class_tokens(tag)
        .iter()
        .any(|t| t.starts_with("yahoo_quoted"))
}

/// Quote markers that only wrap the attribution and the quotes (Gmail, Proton, Thunderbird's
/// cite prefix, Zoho): what is inside them but outside a blockquote may be an answer.
fn is_transparent_container(tag: &str) -> bool {
    tag_name(tag) != "blockquote"
        && class_tokens(tag).iter().any(|t| {
            t.starts_with("gmail_quote")
                || *t == "protonmail_quote"
                || *t == "moz-cite-prefix"
                || *t == "zmail_extra"
        })
}

/// Whether markup outside the quotes carries an answer: a line of words that is not an
/// attribution or device line, before any `--` or rule line (a signature or list footer).
fn is_answer(fragment: &str) -> bool {
    let text = visible_text(fragment, FORWARD_WINDOW);
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if lang::is_sig_delimiter(line) || lang::is_separator(line) {
            return false;
        }
        let words = line.chars().filter(|c| c.is_alphanumeric()).take(2).count() >= 2;
        let first_has_date = line.chars().any(|c| c.is_ascii_digit());
        if words
            && !lang::is_mobile_signature(line)
            && (line.len() > lang::MAX_HEADER_LINE
                || lang::attribution(line, first_has_date) == lang::Attribution::No)
        {
            return true;
        }
    }
    false
}
