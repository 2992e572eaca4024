//! Cutting quoted history out of HTML before it becomes text, where the markup still says
//! which part is the quote.

use super::lang;

/// How far back from a cut the attribution line ("On … wrote:") is looked for.
const ATTRIBUTION_WINDOW: usize = 2000;

/// How much visible text after a cut is inspected to recognise a forward banner.
pub(super) const FORWARD_WINDOW: usize = 3000;

/// What quote cutting leaves of an HTML body.
pub(super) enum Cut<'a> {
    /// The HTML before the first quote marker (and before the attribution line right above
    /// it), or the whole HTML when there is none or the marked block is a forwarded message.
    Html(&'a str),
    /// The sender answered between quotes: the whole body as text with the quoted parts
    /// marked `> `, for the text rules to decide (see `interleave.rs`), and the HTML before
    /// the first quote in case that text cannot be used.
    Interleaved(String, &'a str),
}

/// Finds the quoted history of an HTML body (see [`Cut`]).
pub(super) fn cut_quotes(html: &str) -> Cut<'_> {
    // ASCII lowercasing keeps every byte offset, so positions found in `lower` index `html`.
    let lower = html.to_ascii_lowercase();
    let Some((pos, bare_blockquote)) = first_marker(&lower) else {
        return Cut::Html(html);
    };
    let after = visible_text(lower.get(pos..).unwrap_or_default(), FORWARD_WINDOW);
    let first_line = after.lines().map(str::trim).find(|l| !l.is_empty());
    if first_line.is_some_and(lang::is_forward_marker) {
        return Cut::Html(html);
    }
    let attribution = attribution_start(html, pos);
    if bare_blockquote && attribution.is_none() {
        // A `<blockquote>` without quote attributes is often just indentation; only an
        // attribution line above it makes it a quote.
        return Cut::Html(html);
    }
    let cut = html.get(..attribution.unwrap_or(pos)).unwrap_or(html);
    match super::interleave::marked_text(html, &lower, pos) {
        Some(text) => Cut::Interleaved(text, cut),
        None => Cut::Html(cut),
    }
}

/// Byte position of the earliest quote marker and whether it is a bare `<blockquote>`.
pub(super) fn first_marker(lower: &str) -> Option<(usize, bool)> {
    let mut at = 0;
    while let Some(off) = lower.get(at..).and_then(|s| s.find('<')) {
        let pos = at + off;
        let rest = lower.get(pos..).unwrap_or_default();
        if let Some(comment) = rest.strip_prefix("<!--") {
            let end = comment.find("-->");
            if comment
                .get(..end.unwrap_or(comment.len()))
                .is_some_and(|c| c.trim() == "originalmessage")
            {
                return Some((pos, false));
            }
            at = pos + 4 + end.map_or(comment.len(), |e| e + 3);
            continue;
        }
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = rest.get(1..end).unwrap_or_default();
        match classify_tag(tag) {
            Marker::Quote => return Some((pos, false)),
            Marker::BareBlockquote => return Some((pos, true)),
            Marker::None => {}
        }
        at = pos + end.max(1);
    }
    None
}

pub(super) enum Marker {
    None,
    Quote,
    BareBlockquote,
}

/// Decides whether an (already lowercased) start tag, without `<` and `>`, opens a quote.
pub(super) fn classify_tag(tag: &str) -> Marker {
    let name_len = tag
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(tag.len());
    let name = tag.get(..name_len).unwrap_or_default();
    if name.is_empty() {
        return Marker::None;
    }
    let attrs = attributes(tag.get(name_len..).unwrap_or_default());
    let attr = |key: &str| attrs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    let class_has = |pred: &dyn Fn(&str) -> bool| {
        attr("class").is_some_and(|c| {
            c.split_whitespace()
                .map(|t| t.strip_prefix("x_").unwrap_or(t))
                .any(pred)
        })
    };
    let quote_class = class_has(&|t| {
        t == "gmail_quote"
            || t == "gmail_quote_container"
            || t.starts_with("yahoo_quoted")
            || t == "protonmail_quote"
            || t == "moz-cite-prefix"
            || t == "zmail_extra"
    });
    let id = attr("id").unwrap_or_default();
    let quote_id = id.contains("olk_src_body_section")
        || id.contains("divrplyfwdmsg")
        || id.contains("appendonsend")
        || (name == "hr" && id.contains("stopspelling"));
    let style: String = attr("style")
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let outlook_divider = style.split(';').any(|decl| {
        decl.starts_with("border-top:")
            && decl.contains("solid")
            && (decl.contains("#b5c4df") || decl.contains("#e1e1e1"))
    });
    if quote_class
        || quote_id
        || outlook_divider
        || attr("name") == Some("quote")
        || attr("data-marker") == Some("__divider__")
    {
        return Marker::Quote;
    }
    if name == "blockquote" {
        let cite = attr("type") == Some("cite") || attr("cite").is_some();
        let quote_like = class_has(&|t| t.contains("quote")) || style.contains("border-left");
        if cite || quote_like {
            return Marker::Quote;
        }
        if attrs.is_empty() {
            return Marker::BareBlockquote;
        }
    }
    Marker::None
}

/// `name=value` pairs of a start tag; values may be double-, single- or unquoted.
pub(super) fn attributes(mut s: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    loop {
        s = s.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        let name_end = s
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(s.len());
        if name_end == 0 {
            return out;
        }
        let name = s.get(..name_end).unwrap_or_default();
        s = s.get(name_end..).unwrap_or_default().trim_start();
        let Some(value_part) = s.strip_prefix('=') else {
            out.push((name, ""));
            continue;
        };
        let value_part = value_part.trim_start();
        let (value, rest) = match value_part.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let body = value_part.get(1..).unwrap_or_default();
                let end = body.find(q).unwrap_or(body.len());
                (
                    body.get(..end).unwrap_or_default(),
                    body.get(end + 1..).unwrap_or_default(),
                )
            }
            _ => {
                let end = value_part
                    .find(char::is_whitespace)
                    .unwrap_or(value_part.len());
                (
                    value_part.get(..end).unwrap_or_default(),
                    value_part.get(end..).unwrap_or_default(),
                )
            }
        };
        out.push((name, value));
        s = rest;
    }
}

/// Start of the attribution ("On … wrote:", one to five `<br>`/block-separated lines) that
/// directly precedes the quote at `pos`, if any.
pub(super) fn attribution_start(html: &str, pos: usize) -> Option<usize> {
    let mut from = pos.saturating_sub(ATTRIBUTION_WINDOW);
    while !html.is_char_boundary(from) {
        from += 1;
    }
    let window = html.get(from..pos)?;
    // Split the window at line-breaking tags, remembering where each piece starts.
    let lower = window.to_ascii_lowercase();
    let mut starts = vec![0];
    let mut at = 0;
    while let Some(off) = lower.get(at..).and_then(|s| s.find('<')) {
        let p = at + off;
        let rest = lower.get(p + 1..).unwrap_or_default();
        let name = rest.trim_start_matches('/');
        let breaks = [
            "br",
            "div",
            "p",
            "p>",
            "hr",
            "blockquote",
            "tr",
            "li",
            "table",
        ]
        .iter()
        .any(|t| {
            name.strip_prefix(t)
                .is_some_and(|r| r.starts_with(|c: char| !c.is_ascii_alphanumeric()))
        });
        if breaks {
            starts.push(p);
        }
        at = p + 1;
    }
    let mut pieces: Vec<(usize, String)> = Vec::new();
    for (k, &s) in starts.iter().enumerate() {
        let e = starts.get(k + 1).copied().unwrap_or(window.len());
        let text = visible_text(window.get(s..e).unwrap_or_default(), ATTRIBUTION_WINDOW);
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if !text.is_empty() {
            pieces.push((s, text));
        }
    }
    // Try the last one to five non-empty pieces as one wrapped line.
    for n in 1..=5 {
        let tail = pieces.get(pieces.len().checked_sub(n)?..)?;
        let first_has_date = tail
            .first()
            .is_some_and(|(_, t)| t.chars().any(|c| c.is_ascii_digit()));
        let joined = tail
            .iter()
            .map(|(_, t)| t.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        if joined.len() <= lang::MAX_HEADER_LINE
            && lang::attribution(&joined, first_has_date) != lang::Attribution::No
        {
            return tail.first().map(|(s, _)| from + s);
        }
    }
    None
}

/// Text of an HTML fragment with tags removed and common entities decoded, at most `max`
/// bytes of input looked at; tags become line breaks so block boundaries survive.
pub(super) fn visible_text(fragment: &str, max: usize) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    let mut entity = String::new();
    let mut in_entity = false;
    for (i, c) in fragment.char_indices() {
        if i >= max {
            break;
        }
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push('\n');
            }
            _ if in_tag => {}
            '&' => {
                in_entity = true;
                entity.clear();
            }
            ';' if in_entity => {
                in_entity = false;
                out.push_str(decode_entity(&entity));
            }
            _ if in_entity && entity.len() < 10 => entity.push(c),
            _ if in_entity => {
                in_entity = false;
                out.push('&');
                out.push_str(&entity);
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn decode_entity(name: &str) -> &'static str {
    match name {
        "lt" | "#60" => "<",
        "gt" | "#62" => ">",
        "amp" | "#38" => "&",
        "quot" | "#34" => "\"",
        "apos" | "#39" => "'",
        _ => " ",
    }
}
